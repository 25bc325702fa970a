//! The site update of CHAIN_LANES chains of one site (`run_lanes`): the twin's points,
//! proposals and targets with a lane per chain, its Metropolis decisions selected per lane.

use bytemuck::Zeroable;

use crate::kernels::cpu::lanes::philox_lanes;
use crate::kernels::cpu::site_lanes::lane_math::{
    all_lanes, beta_binomial, beta_shapes, exp, ln, ln_beta, log_beta, log_mu_pair, one_if, sp,
    standard_normal, uniform, Shape, CHAIN_LANES, F, U,
};
use crate::kernels::site_layout::{
    SiteHyper, SiteParams, SiteSample, LOG_PHI_DOF, MAX_GROUPS, MIN_SHAPE, MODEL_BLOCK,
    PROPOSE_DIFFER, RW_LOGIT_MU, SLAB_DOF, STATE_ACCEPTED, STATE_DIFFER, STATE_LIKELIHOOD,
    STATE_LOG_PHI, STATE_RECYCLED, STATE_STRIDE, WALK_BLOCK,
};
use crate::rng::{Stream, STREAM_SHIFT};

/// site_update::Point in lanes; `differ` is a lane mask.
#[derive(Clone, Copy)]
struct Point {
    log_mu: [F; MAX_GROUPS],
    log_1m: [F; MAX_GROUPS],
    z: F,
    differ: F,
}

#[derive(Clone, Copy)]
struct Proposal {
    shapes: [[F; 2]; MAX_GROUPS],
    /// ln B of the shapes the lane's model draws from: group 0's or the pooled ones at 0 (as
    /// site_update.wgsl's), the other groups' where the lane's groups differ.
    ln_beta: [F; MAX_GROUPS],
    same: [F; 2],
}

impl Proposal {
    /// The shapes group 0's mu is drawn from: group 0's where the lane's groups differ, the
    /// pooled ones where they share the mu.
    fn first_shapes(&self, differ: F) -> [F; 2] {
        [0, 1].map(|i| differ.select(self.shapes[0][i], self.same[i]))
    }
}

#[derive(Clone, Copy)]
struct Target {
    total: F,
    likelihood: [F; MAX_GROUPS],
    /// The mus' prior in it (`mu_prior`), kept so that each random-walk step computes only
    /// its new point's (the twin recomputes the current point's: the same operations).
    prior: F,
}

/// site_layout::SiteHyper in lanes, a lane per chain.
pub(super) struct Hyper {
    pub(super) a: F,
    pub(super) b: F,
    pub(super) m0: F,
    pub(super) s0: F,
    pub(super) log_same: F,
    pub(super) log_differ: F,
    pub(super) ln_beta: F,
    pub(super) slab_inv_scale2: F,
    pub(super) ln_slab: F,
}

impl Hyper {
    /// The CHAIN_LANES chains' priors from `first`.
    pub(super) fn of_chains(hyper: &[SiteHyper], first: usize) -> Hyper {
        let of =
            |f: &dyn Fn(&SiteHyper) -> f32| F::new(std::array::from_fn(|l| f(&hyper[first + l])));
        Hyper {
            a: of(&|h| h.a),
            b: of(&|h| h.b),
            m0: of(&|h| h.m0),
            s0: of(&|h| h.s0),
            log_same: of(&|h| h.log_same),
            log_differ: of(&|h| h.log_differ),
            ln_beta: of(&|h| h.ln_beta),
            slab_inv_scale2: of(&|h| h.slab_inv_scale2),
            ln_slab: of(&|h| h.ln_slab),
        }
    }
}

struct Site<'a> {
    samples: &'a [SiteSample],
    n_groups: usize,
    h: Hyper,
    compare: (usize, usize),
    threshold: f32,
}

impl Site<'_> {
    /// site_update::Site::proposal at log phi z for lanes whose groups differ where `differ`:
    /// ln B of the pooled shapes or of group 0's, selected, and of the other groups' only if
    /// some lane differs (a lane keeps its proposal only with its model, so the rest go unread).
    fn proposal(&self, z: F, differ: F) -> Proposal {
        let mut shapes = [[sp(0.0); 2]; MAX_GROUPS];
        for s in shapes.iter_mut().take(self.n_groups) {
            *s = [self.h.a, self.h.b];
        }
        let mut same = [self.h.a, self.h.b];
        let phi = exp(z);
        for s in self.samples {
            let c = (phi + 1.0) / (phi + s.total as f32);
            let counts = [c * s.methylated as f32, c * (s.total - s.methylated) as f32];
            let g = &mut shapes[s.group as usize];
            g[0] += counts[0];
            g[1] += counts[1];
            same[0] += counts[0];
            same[1] += counts[1];
        }
        let mut q = Proposal {
            shapes,
            ln_beta: [sp(0.0); MAX_GROUPS],
            same,
        };
        let [a0, b0] = q.first_shapes(differ);
        q.ln_beta[0] = ln_beta(a0, b0);
        if differ.any() {
            for g in 1..self.n_groups {
                let [a, b] = q.shapes[g];
                q.ln_beta[g] = ln_beta(a, b);
            }
        }
        q
    }

    /// The Beta shapes of group g's samples at p, whose phi = e^z is given.
    fn group_shapes(&self, p: &Point, phi: F, g: usize) -> [Shape; 3] {
        let a = (exp(p.log_mu[g]) * phi).fast_max(sp(MIN_SHAPE));
        let b = (exp(p.log_1m[g]) * phi).fast_max(sp(MIN_SHAPE));
        beta_shapes(a, b)
    }

    /// Group g's log likelihood at its shapes.
    fn group_sum(&self, shapes: &[Shape; 3], g: usize) -> F {
        let mut sum = sp(0.0);
        for s in self.samples.iter().filter(|s| s.group as usize == g) {
            sum += beta_binomial(s.methylated as f32, s.total as f32, shapes);
        }
        sum
    }

    /// site_update::Site::group_likelihood at p, whose phi = e^z is given.
    fn group_likelihood(&self, p: &Point, phi: F, g: usize) -> F {
        self.group_sum(&self.group_shapes(p, phi, g), g)
    }

    /// site_update::Site::likelihoods: group by group (a group's samples in the twin's order).
    /// Where no lane's groups differ, every group has group 0's shapes: computed once.
    fn likelihoods(&self, p: &Point, phi: F) -> [F; MAX_GROUPS] {
        let mut likelihood = [sp(0.0); MAX_GROUPS];
        let shared = (!p.differ.any()).then(|| self.group_shapes(p, phi, 0));
        for (g, l) in likelihood.iter_mut().enumerate().take(self.n_groups) {
            *l = match &shared {
                Some(shapes) => self.group_sum(shapes, g),
                None => self.group_likelihood(p, phi, g),
            };
        }
        likelihood
    }

    /// site_update::Site::mu_prior.
    fn mu_prior(&self, p: &Point) -> F {
        let h = &self.h;
        let lp = (h.a - 1.0) * p.log_mu[0] + (h.b - 1.0) * p.log_1m[0] - h.ln_beta;
        if !p.differ.any() {
            return lp + h.log_same;
        }
        let mut differ = lp + h.log_differ;
        let level = p.log_mu[0] - p.log_1m[0];
        for g in 1..self.n_groups {
            let beta = p.log_mu[g] - p.log_1m[g] - level;
            let slab =
                h.ln_slab - ln(beta * beta * h.slab_inv_scale2 + 1.0) * (0.5 * (SLAB_DOF + 1.0));
            differ += slab - p.log_mu[g] - p.log_1m[g];
        }
        p.differ.select(differ, lp + h.log_same)
    }

    /// site_update::Site::log_target.
    fn log_target(&self, p: &Point) -> Target {
        self.with_priors(p, self.likelihoods(p, exp(p.z)))
    }

    /// site_update::Site::with_priors.
    fn with_priors(&self, p: &Point, likelihood: [F; MAX_GROUPS]) -> Target {
        let prior = self.mu_prior(p);
        let mut total = prior;
        for l in likelihood.iter().take(self.n_groups) {
            total += *l;
        }
        Target {
            total,
            likelihood,
            prior,
        }
    }

    /// site_update::Site::log_proposal.
    fn log_proposal(&self, p: &Point, q: &Proposal) -> F {
        let mut differ = sp(0.0);
        for g in 0..self.n_groups {
            let [a, b] = q.shapes[g];
            differ += (a - 1.0) * p.log_mu[g] + (b - 1.0) * p.log_1m[g] - q.ln_beta[g];
        }
        let [a, b] = q.same;
        let same = (a - 1.0) * p.log_mu[0] + (b - 1.0) * p.log_1m[0] - q.ln_beta[0];
        p.differ.select(differ, same)
    }

    /// site_update::Site::indicators: (delta > d, delta < -d, differ) as 0 or 1.
    fn indicators(&self, p: &Point) -> [F; 3] {
        let (g1, g2) = self.compare;
        let delta = exp(p.log_mu[g2]) - exp(p.log_mu[g1]);
        [
            one_if(p.differ & delta.simd_gt(sp(self.threshold))),
            one_if(p.differ & delta.simd_lt(sp(-self.threshold))),
            one_if(p.differ),
        ]
    }
}

/// site_update::site_state_likelihoods for CHAIN_LANES consecutive chains of one site: `states`
/// are their states (STATE_STRIDE floats each), `z` their log phi; each chain's groups' log
/// likelihoods (stage 1's joint moves of log phi's prior).
pub fn state_likelihood_lanes(
    samples: &[SiteSample],
    n_groups: usize,
    states: &[f32],
    z: [f32; CHAIN_LANES],
) -> [[f32; MAX_GROUPS]; CHAIN_LANES] {
    let lane = |f: &dyn Fn(usize) -> f32| F::new(std::array::from_fn(f));
    let mut p = Point {
        log_mu: [sp(0.0); MAX_GROUPS],
        log_1m: [sp(0.0); MAX_GROUPS],
        z: F::new(z),
        // Each group at its own state's mu (`likelihoods` shares group 0's where none differ).
        differ: all_lanes(),
    };
    for g in 0..n_groups {
        [p.log_mu[g], p.log_1m[g]] = log_mu_pair(lane(&|l| states[l * STATE_STRIDE + g]));
    }
    // The likelihood alone reads no prior.
    let none = [SiteHyper::zeroed(); CHAIN_LANES];
    let site = Site {
        samples,
        n_groups,
        h: Hyper::of_chains(&none, 0),
        compare: (0, 0),
        threshold: 0.0,
    };
    let likelihood = site.likelihoods(&p, exp(p.z));
    let mut out = [[0.0; MAX_GROUPS]; CHAIN_LANES];
    for (g, l) in likelihood.iter().enumerate().take(n_groups) {
        for (chain, v) in l.to_array().into_iter().enumerate() {
            out[chain][g] = v;
        }
    }
    out
}

/// site_update::run_one for chains `first_chain ..+ CHAIN_LANES` of the site `id`
/// (`rng::site_id`), whose samples are `samples`: `state`, `draws` and `stats` are those chains' consecutive slices.
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)] // indexed as the twin indexes
pub fn run_lanes(
    params: &SiteParams,
    samples: &[SiteSample],
    hyper: &[SiteHyper],
    id: [u32; 2],
    first_chain: usize,
    state: &mut [f32],
    draws: &mut [f32],
    stats: &mut [[f32; 4]],
) {
    let n_groups = params.n_groups as usize;
    // The site's identity keys its random numbers (`rng::site_id`), never its index here.
    let site_pos = id[1];
    let key: [U; 2] = [
        [params.seed ^ id[0]; CHAIN_LANES],
        std::array::from_fn(|l| (first_chain + l) as u32),
    ];
    let lane = |f: &dyn Fn(usize) -> f32| F::new(std::array::from_fn(f));
    let h = Hyper::of_chains(hyper, first_chain);
    let (m0, s0) = (h.m0, h.s0);
    let ctx = Site {
        samples,
        n_groups,
        h,
        compare: (
            params.compare_first as usize,
            params.compare_second as usize,
        ),
        threshold: params.threshold,
    };
    let mut here = Point {
        log_mu: [sp(0.0); MAX_GROUPS],
        log_1m: [sp(0.0); MAX_GROUPS],
        z: sp(0.0),
        differ: sp(0.0),
    };
    let fresh = params.init != 0;
    let mut lp_here = Target {
        total: sp(f32::NEG_INFINITY),
        likelihood: [sp(0.0); MAX_GROUPS],
        prior: sp(0.0),
    };
    let mut recycled = [sp(0.0); 3];
    let mut accepted = sp(0.0);
    if !fresh {
        let mut likelihood = [sp(0.0); MAX_GROUPS];
        for g in 0..n_groups {
            [here.log_mu[g], here.log_1m[g]] = log_mu_pair(lane(&|l| state[l * STATE_STRIDE + g]));
            likelihood[g] = lane(&|l| state[l * STATE_STRIDE + STATE_LIKELIHOOD + g]);
        }
        here.z = lane(&|l| state[l * STATE_STRIDE + STATE_LOG_PHI]);
        here.differ = lane(&|l| state[l * STATE_STRIDE + STATE_DIFFER]).simd_ne(sp(0.0));
        for (i, r) in recycled.iter_mut().enumerate() {
            *r = lane(&|l| state[l * STATE_STRIDE + STATE_RECYCLED + i]);
        }
        accepted = lane(&|l| state[l * STATE_STRIDE + STATE_ACCEPTED]);
        lp_here = ctx.with_priors(&here, likelihood);
    }
    let mut q_here = ctx.proposal(here.z, here.differ);
    let site_tag = (Stream::Site as u32) << STREAM_SHIFT;
    let per_chain = draws.len() / CHAIN_LANES;
    for k in 0..params.warmup + params.n_draws {
        let sweep = params.first_sweep + k;
        // 1. Independence proposal (log phi from its Student-t(4) prior).
        let words = philox_lanes([0; CHAIN_LANES], site_pos, sweep, site_tag, key);
        let extra = philox_lanes([MODEL_BLOCK; CHAIN_LANES], site_pos, sweep, site_tag, key);
        let mut there = here;
        let chi_square = ln(uniform(extra[0]) * uniform(extra[1])) * -2.0;
        there.z =
            m0 + s0 * standard_normal(words[0], words[1]) * (sp(LOG_PHI_DOF) / chi_square).sqrt();
        there.differ = uniform(extra[2]).simd_lt(sp(PROPOSE_DIFFER));
        let q_there = ctx.proposal(there.z, there.differ);
        // Group 0's variate from the pooled shapes where the proposal shares one mu.
        let [a0, b0] = q_there.first_shapes(there.differ);
        [there.log_mu[0], there.log_1m[0]] = log_beta(a0, b0, 0, site_pos, sweep, key);
        let any_differ = there.differ.any();
        for g in 1..n_groups {
            let [mut lm, mut l1m] = [there.log_mu[0], there.log_1m[0]];
            if any_differ {
                let [a, b] = q_there.shapes[g];
                let [dm, d1m] = log_beta(a, b, g as u32, site_pos, sweep, key);
                lm = there.differ.select(dm, lm);
                l1m = there.differ.select(d1m, l1m);
            }
            there.log_mu[g] = lm;
            there.log_1m[g] = l1m;
        }
        let lp_there = ctx.log_target(&there);
        let log_ratio = if fresh && k == 0 {
            sp(3.0e38)
        } else {
            (lp_there.total - ctx.log_proposal(&there, &q_there))
                - (lp_here.total - ctx.log_proposal(&here, &q_here))
        };
        if k >= params.warmup {
            let alpha = exp(log_ratio.fast_min(sp(0.0)));
            let (i_there, i_here) = (ctx.indicators(&there), ctx.indicators(&here));
            for i in 0..3 {
                recycled[i] += alpha * i_there[i] + (sp(1.0) - alpha) * i_here[i];
            }
        }
        let take = ln(uniform(words[2])).simd_lt(log_ratio);
        if take.any() {
            here.z = take.select(there.z, here.z);
            here.differ = take.select(there.differ, here.differ);
            lp_here.total = take.select(lp_there.total, lp_here.total);
            lp_here.prior = take.select(lp_there.prior, lp_here.prior);
            for g in 0..n_groups {
                here.log_mu[g] = take.select(there.log_mu[g], here.log_mu[g]);
                here.log_1m[g] = take.select(there.log_1m[g], here.log_1m[g]);
                lp_here.likelihood[g] = take.select(lp_there.likelihood[g], lp_here.likelihood[g]);
                for i in 0..2 {
                    q_here.shapes[g][i] = take.select(q_there.shapes[g][i], q_here.shapes[g][i]);
                }
                q_here.ln_beta[g] = take.select(q_there.ln_beta[g], q_here.ln_beta[g]);
            }
            for i in 0..2 {
                q_here.same[i] = take.select(q_there.same[i], q_here.same[i]);
            }
            accepted += one_if(take);
        }
        // 2. One random-walk step: of group (sweep mod G)'s logit mu in lanes whose groups
        // differ, of the shared mu in the others; its target gains the Jacobian mu (1 - mu).
        if params.random_walk != 0 {
            let phi = exp(here.z);
            let g = (sweep % n_groups as u32) as usize;
            let wg = philox_lanes([WALK_BLOCK; CHAIN_LANES], site_pos, sweep, site_tag, key);
            let u1 = here.log_mu[g] - here.log_1m[g] + standard_normal(wg[0], wg[1]) * RW_LOGIT_MU;
            let [new_mu, new_1m] = log_mu_pair(u1);
            let mut step = here;
            step.log_mu[g] = new_mu;
            step.log_1m[g] = new_1m;
            let own_shapes = ctx.group_shapes(&step, phi, g);
            let own = ctx.group_sum(&own_shapes, g);
            let mut likelihood = lp_here.likelihood;
            likelihood[g] = own;
            let mut before = lp_here.likelihood[g];
            let mut after = own;
            if n_groups > 1 && !here.differ.all() {
                // Where the mu is shared, every group's likelihood moves with it; the sums go
                // in group order, as the twin's.
                let same = !here.differ;
                // No lane differs: every group's point is the moved shared mu's.
                let all_same = !here.differ.any();
                let (mut before_same, mut after_same) = (sp(0.0), sp(0.0));
                for j in 0..n_groups {
                    let l = if j == g {
                        own
                    } else {
                        step.log_mu[j] = same.select(new_mu, here.log_mu[j]);
                        step.log_1m[j] = same.select(new_1m, here.log_1m[j]);
                        if all_same {
                            ctx.group_sum(&own_shapes, j)
                        } else {
                            ctx.group_likelihood(&step, phi, j)
                        }
                    };
                    before_same += lp_here.likelihood[j];
                    after_same += l;
                    likelihood[j] = same.select(l, likelihood[j]);
                }
                before = same.select(before_same, before);
                after = same.select(after_same, after);
            }
            let prior = ctx.mu_prior(&step);
            before += lp_here.prior;
            after += prior;
            let jacobian = new_mu + new_1m - here.log_mu[g] - here.log_1m[g];
            let take = ln(uniform(wg[2])).simd_lt(after - before + jacobian);
            lp_here.total = take.select(lp_here.total + (after - before), lp_here.total);
            lp_here.prior = take.select(prior, lp_here.prior);
            for j in 0..n_groups {
                lp_here.likelihood[j] = take.select(likelihood[j], lp_here.likelihood[j]);
                here.log_mu[j] = take.select(step.log_mu[j], here.log_mu[j]);
                here.log_1m[j] = take.select(step.log_1m[j], here.log_1m[j]);
            }
        }
        if k >= params.warmup {
            let d = (params.draw_offset + k - params.warmup) as usize;
            for g in 0..n_groups {
                let mu = exp(here.log_mu[g]).to_array();
                for l in 0..CHAIN_LANES {
                    draws[l * per_chain + d * n_groups + g] = mu[l];
                }
            }
        }
    }
    for g in 0..n_groups {
        let logit = (here.log_mu[g] - here.log_1m[g]).to_array();
        let likelihood = lp_here.likelihood[g].to_array();
        for l in 0..CHAIN_LANES {
            state[l * STATE_STRIDE + g] = logit[l];
            state[l * STATE_STRIDE + STATE_LIKELIHOOD + g] = likelihood[l];
        }
    }
    let differ = one_if(here.differ).to_array();
    let (z, sum_log, sum_log1m, accepted) = (
        here.z.to_array(),
        here.log_mu[0].to_array(),
        here.log_1m[0].to_array(),
        accepted.to_array(),
    );
    let recycled = recycled.map(|r| r.to_array());
    for l in 0..CHAIN_LANES {
        let chain = &mut state[l * STATE_STRIDE..(l + 1) * STATE_STRIDE];
        chain[STATE_LOG_PHI] = z[l];
        chain[STATE_DIFFER] = differ[l];
        chain[STATE_ACCEPTED] = accepted[l];
        for i in 0..3 {
            chain[STATE_RECYCLED + i] = recycled[i][l];
        }
        stats[l] = [sum_log[l], sum_log1m[l], z[l], differ[l]];
    }
}

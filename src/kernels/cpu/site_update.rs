//! CPU twin of `shaders/site_update.wgsl`: the same operations in the same order on the same
//! random stream, one invocation (site, chain) at a time; `site_lanes` runs four chains at once.

use rayon::prelude::*;

use crate::kernels::cpu::betabinom::{beta_binomial_log_ratio, ln_beta_f32};
use crate::kernels::cpu::site_lanes::{run_lanes, state_likelihood_lanes, CHAIN_LANES};
use crate::kernels::cpu::variates::{log_beta_variate, standard_normal, DrawSite};
use crate::kernels::site_layout::*;
use crate::rng::{counter, philox4x32_10, uniform_f32, Stream};

/// A log target and each group's beta-binomial log likelihood in it (the twin of Target
/// in site_update.wgsl).
#[derive(Clone, Copy)]
struct Target {
    total: f32,
    likelihood: [f32; MAX_GROUPS],
}

/// The independence proposal at one log phi: each group's Beta shapes and the pooled ones
/// of a shared mu, with their ln B, kept with the chain's point so that only a new log phi
/// costs them again.
#[derive(Clone, Copy)]
struct Proposal {
    shapes: [[f32; 2]; MAX_GROUPS],
    ln_beta: [f32; MAX_GROUPS],
    same: [f32; 2],
    ln_beta_same: f32,
}

/// A chain's point: every group's mu (all equal where the groups share one), log phi `z`,
/// and whether the groups differ.
#[derive(Clone, Copy)]
struct Point {
    log_mu: [f32; MAX_GROUPS],
    log_1m: [f32; MAX_GROUPS],
    z: f32,
    differ: bool,
}

/// (log mu, log(1 - mu)) of logit u: -softplus(-u) and -softplus(u), which share their log term.
#[inline]
fn log_mu_pair(u: f32) -> [f32; 2] {
    let shared = (1.0 + (-u.abs()).exp()).ln();
    [-((-u).max(0.0) + shared), -(u.max(0.0) + shared)]
}

/// Group g's beta-binomial shapes (mu phi, (1 - mu) phi) at p, at least MIN_SHAPE.
#[inline]
fn beta_binomial_shapes(p: &Point, phi: f32, g: usize) -> [f32; 2] {
    [
        (p.log_mu[g].exp() * phi).max(MIN_SHAPE),
        (p.log_1m[g].exp() * phi).max(MIN_SHAPE),
    ]
}

struct Site<'a> {
    samples: &'a [SiteSample],
    n_groups: usize,
    h: SiteHyper,
    compare: (usize, usize),
    threshold: f32,
}

impl Site<'_> {
    /// The independence proposal's Beta shapes at log phi = z, per group and pooled, and the
    /// ln B of those a point that `differ`s or not needs (a chain keeps the proposal of its
    /// own point, whose model only an accepted independence step changes).
    fn proposal(&self, z: f32, differ: bool) -> Proposal {
        let mut q = Proposal {
            shapes: [[0.0f32; 2]; MAX_GROUPS],
            ln_beta: [0.0f32; MAX_GROUPS],
            same: [self.h.a, self.h.b],
            ln_beta_same: 0.0,
        };
        for s in q.shapes.iter_mut().take(self.n_groups) {
            *s = [self.h.a, self.h.b];
        }
        let phi = z.exp();
        for s in self.samples {
            let c = (phi + 1.0) / (phi + s.total as f32);
            let counts = [c * s.methylated as f32, c * (s.total - s.methylated) as f32];
            let g = &mut q.shapes[s.group as usize];
            g[0] += counts[0];
            g[1] += counts[1];
            q.same[0] += counts[0];
            q.same[1] += counts[1];
        }
        if differ {
            for g in 0..self.n_groups {
                q.ln_beta[g] = ln_beta_f32(q.shapes[g][0], q.shapes[g][1]);
            }
        } else {
            q.ln_beta_same = ln_beta_f32(q.same[0], q.same[1]);
        }
        q
    }

    /// log posterior density at p up to a constant, with each group's log likelihood, as
    /// log_target in the shader (without log phi's prior, which is also its proposal and
    /// cancels).
    fn log_target(&self, p: &Point) -> Target {
        self.with_priors(p, self.likelihoods(p))
    }

    /// Every group's beta-binomial log likelihood at p.
    fn likelihoods(&self, p: &Point) -> [f32; MAX_GROUPS] {
        point_likelihoods(self.samples, self.n_groups, p)
    }

    /// The target at p from its groups' log likelihoods: the priors added.
    fn with_priors(&self, p: &Point, likelihood: [f32; MAX_GROUPS]) -> Target {
        let mut total = self.mu_prior(p);
        for l in likelihood.iter().take(self.n_groups) {
            total += l;
        }
        Target { total, likelihood }
    }

    /// log of the mus' prior density at p in mu coordinates, normalised (the jump between one
    /// mu and several compares densities on different spaces): the level's Beta and, where
    /// the groups differ, each other group's slab in logit with its Jacobian.
    fn mu_prior(&self, p: &Point) -> f32 {
        let h = &self.h;
        let lp = (h.a - 1.0) * p.log_mu[0] + (h.b - 1.0) * p.log_1m[0] - h.ln_beta;
        if !p.differ {
            return lp + h.log_same;
        }
        let mut lp = lp + h.log_differ;
        let level = p.log_mu[0] - p.log_1m[0];
        for g in 1..self.n_groups {
            let beta = p.log_mu[g] - p.log_1m[g] - level;
            let slab =
                h.ln_slab - 0.5 * (SLAB_DOF + 1.0) * (1.0 + beta * beta * h.slab_inv_scale2).ln();
            lp += slab - p.log_mu[g] - p.log_1m[g];
        }
        lp
    }

    /// What the recycled sums estimate at p: (delta > d, delta < -d, differ) as 0 or 1.
    fn indicators(&self, p: &Point) -> [f32; 3] {
        if !p.differ {
            return [0.0; 3];
        }
        let (g1, g2) = self.compare;
        let delta = p.log_mu[g2].exp() - p.log_mu[g1].exp();
        [
            f32::from(u8::from(delta > self.threshold)),
            f32::from(u8::from(delta < -self.threshold)),
            1.0,
        ]
    }

    /// Group g's beta-binomial log likelihood at p.
    fn group_likelihood(&self, p: &Point, g: usize) -> f32 {
        let phi = p.z.exp();
        let [a, b] = beta_binomial_shapes(p, phi, g);
        let mut sum = 0.0;
        for s in self.samples.iter().filter(|s| s.group as usize == g) {
            sum += beta_binomial_log_ratio(s.methylated as f32, s.total as f32, a, b);
        }
        sum
    }

    /// log density of the independence proposal at p, whose log phi `q` was built at (the
    /// model choice's constant probability and log phi's prior, which cancel, left out).
    fn log_proposal(&self, p: &Point, q: &Proposal) -> f32 {
        let mut lq = 0.0;
        if p.differ {
            for g in 0..self.n_groups {
                let [a, b] = q.shapes[g];
                lq += (a - 1.0) * p.log_mu[g] + (b - 1.0) * p.log_1m[g] - q.ln_beta[g];
            }
        } else {
            let [a, b] = q.same;
            lq += (a - 1.0) * p.log_mu[0] + (b - 1.0) * p.log_1m[0] - q.ln_beta_same;
        }
        lq
    }
}

/// Every group's beta-binomial log likelihood of `samples` at p, as the shader's likelihoods.
#[allow(clippy::needless_range_loop)] // indexed as the shader indexes
fn point_likelihoods(samples: &[SiteSample], n_groups: usize, p: &Point) -> [f32; MAX_GROUPS] {
    let phi = p.z.exp();
    let mut likelihood = [0.0f32; MAX_GROUPS];
    let mut shapes = [[0.0f32; 2]; MAX_GROUPS];
    for g in 0..n_groups {
        shapes[g] = beta_binomial_shapes(p, phi, g);
    }
    for s in samples {
        let g = s.group as usize;
        likelihood[g] += beta_binomial_log_ratio(
            s.methylated as f32,
            s.total as f32,
            shapes[g][0],
            shapes[g][1],
        );
    }
    likelihood
}

/// Every group's log likelihood of one site's `samples` at each of its chains' states
/// (`states`, STATE_STRIDE floats a chain) moved to log phi `z(chain)`: what a sweep leaves at
/// `STATE_LIKELIHOOD`, for stage 1's joint moves of log phi's prior. Four chains at a time
/// in lanes, the rest one by one.
pub fn site_state_likelihoods(
    samples: &[SiteSample],
    n_groups: usize,
    states: &[f32],
    z: impl Fn(usize) -> f32,
) -> Vec<[f32; MAX_GROUPS]> {
    let n_chains = states.len() / STATE_STRIDE;
    let mut out = Vec::with_capacity(n_chains);
    let mut chain = 0;
    while chain + CHAIN_LANES <= n_chains {
        let z = std::array::from_fn(|l| z(chain + l));
        out.extend(state_likelihood_lanes(
            samples,
            n_groups,
            &states[chain * STATE_STRIDE..],
            z,
        ));
        chain += CHAIN_LANES;
    }
    for c in chain..n_chains {
        let mut p = Point {
            log_mu: [0.0; MAX_GROUPS],
            log_1m: [0.0; MAX_GROUPS],
            z: z(c),
            differ: false,
        };
        for g in 0..n_groups {
            [p.log_mu[g], p.log_1m[g]] = log_mu_pair(states[c * STATE_STRIDE + g]);
        }
        out.push(point_likelihoods(samples, n_groups, &p));
    }
    out
}

/// How far the log likelihoods a dispatch cached in `state` lie from `site_state_likelihoods`
/// at each chain's own log phi: the largest relative difference of one site's group, and the
/// largest of a chain's differences summed over the sites, which is what a joint move's ratio
/// sees (a check for tests, of either device's state; a NaN counts as infinite).
pub fn cached_likelihood_error(batch: &SiteBatch, n_groups: usize, state: &[f32]) -> (f32, f64) {
    let per_site = state.len() / batch.n_sites();
    let n_chains = per_site / STATE_STRIDE;
    let (mut worst, mut sums) = (0.0f32, vec![0.0f64; n_chains]);
    for (site, states) in state.chunks(per_site).enumerate() {
        let range = batch.offsets[site] as usize..batch.offsets[site + 1] as usize;
        let z = |c: usize| states[c * STATE_STRIDE + STATE_LOG_PHI];
        let host = site_state_likelihoods(&batch.samples[range], n_groups, states, z);
        for (c, groups) in host.iter().enumerate() {
            for (g, l) in groups.iter().take(n_groups).enumerate() {
                let cached = states[c * STATE_STRIDE + STATE_LIKELIHOOD + g];
                let error = (l - cached).abs() / cached.abs().max(1.0);
                worst = if error.is_nan() {
                    f32::INFINITY
                } else {
                    worst.max(error)
                };
                sums[c] += f64::from(l - cached);
            }
        }
    }
    let worst_sum = sums.iter().fold(0.0f64, |m, s| {
        if s.is_nan() {
            f64::INFINITY
        } else {
            m.max(s.abs())
        }
    });
    (worst, worst_sum)
}

fn site_words(index: u32, site: u32, sweep: u32, key: [u32; 2]) -> [u32; 4] {
    philox4x32_10(counter(index, site, sweep, Stream::Site, 0), key)
}

/// One invocation of site_update.wgsl's `main`.
#[allow(clippy::needless_range_loop)] // indexed as the shader indexes
fn run_one(
    params: &SiteParams,
    batch: &SiteBatch,
    hyper: &[SiteHyper],
    invocation: usize,
    state: &mut [f32],
    draws: &mut [f32],
) -> [f32; 4] {
    let n_chains = params.n_chains as usize;
    let (site, chain) = (invocation / n_chains, invocation % n_chains);
    // The site's identity keys its random numbers (`rng::site_id`), never its index here.
    let [chr_key, site_pos] = batch.ids[site];
    let key = [params.seed ^ chr_key, chain as u32];
    let range = batch.offsets[site] as usize..batch.offsets[site + 1] as usize;
    let n_groups = params.n_groups as usize;
    let h = hyper[chain];
    let ctx = Site {
        samples: &batch.samples[range],
        n_groups,
        h,
        compare: (
            params.compare_first as usize,
            params.compare_second as usize,
        ),
        threshold: params.threshold,
    };
    let mut here = Point {
        log_mu: [0.0; MAX_GROUPS],
        log_1m: [0.0; MAX_GROUPS],
        z: 0.0,
        differ: false,
    };
    let fresh = params.init != 0;
    let mut lp_here = Target {
        total: f32::NEG_INFINITY,
        likelihood: [0.0; MAX_GROUPS],
    };
    let mut recycled = [0.0f32; 3];
    let mut accepted = 0.0f32;
    if !fresh {
        let mut likelihood = [0.0f32; MAX_GROUPS];
        for g in 0..n_groups {
            [here.log_mu[g], here.log_1m[g]] = log_mu_pair(state[g]);
            likelihood[g] = state[STATE_LIKELIHOOD + g];
        }
        here.z = state[STATE_LOG_PHI];
        here.differ = state[STATE_DIFFER] != 0.0;
        recycled.copy_from_slice(&state[STATE_RECYCLED..STATE_RECYCLED + 3]);
        accepted = state[STATE_ACCEPTED];
        // The likelihoods were computed at the point before its logit round trip: an f32
        // rounding apart, well inside the beta-binomial's own error.
        lp_here = ctx.with_priors(&here, likelihood);
    }
    // The proposal at here's log phi (only an accepted independence step moves log phi).
    let mut q_here = ctx.proposal(here.z, here.differ);
    for k in 0..params.warmup + params.n_draws {
        let sweep = params.first_sweep + k;
        // 1. Independence proposal: log phi = m0 + s0 t, t a normal over the root of a
        // chi-square(4) / 4, that chi-square being -2 log(u1 u2).
        let words = site_words(0, site_pos, sweep, key);
        let extra = site_words(MODEL_BLOCK, site_pos, sweep, key);
        let mut there = here;
        let chi_square = -2.0 * (uniform_f32(extra[0]) * uniform_f32(extra[1])).ln();
        there.z =
            h.m0 + h.s0 * standard_normal(words[0], words[1]) * (LOG_PHI_DOF / chi_square).sqrt();
        there.differ = uniform_f32(extra[2]) < PROPOSE_DIFFER;
        let q_there = ctx.proposal(there.z, there.differ);
        // The shared mu is drawn as group 0's (the same random numbers, pooled shapes).
        let draw = |g: usize, [a, b]: [f32; 2]| {
            let site = DrawSite {
                key,
                index: g as u32,
                unit: site_pos,
                sweep,
            };
            log_beta_variate(a, b, site)
        };
        let mut logs = [0.0f32; 2];
        if !there.differ {
            logs = draw(0, q_there.same);
        }
        for g in 0..n_groups {
            if there.differ {
                logs = draw(g, q_there.shapes[g]);
            }
            [there.log_mu[g], there.log_1m[g]] = logs;
        }
        let lp_there = ctx.log_target(&there);
        let log_ratio = if fresh && k == 0 {
            3.0e38
        } else {
            (lp_there.total - ctx.log_proposal(&there, &q_there))
                - (lp_here.total - ctx.log_proposal(&here, &q_here))
        };
        if k >= params.warmup {
            let alpha = log_ratio.min(0.0).exp();
            let (i_there, i_here) = (ctx.indicators(&there), ctx.indicators(&here));
            for i in 0..3 {
                recycled[i] += alpha * i_there[i] + (1.0 - alpha) * i_here[i];
            }
        }
        if uniform_f32(words[2]).ln() < log_ratio {
            here = there;
            lp_here = lp_there;
            q_here = q_there;
            accepted += 1.0;
        }
        // 2. One random-walk step: of group (sweep mod G)'s logit mu where the groups differ,
        // of the shared mu where they do not; its target gains the Jacobian mu (1 - mu).
        if params.random_walk != 0 {
            let g = (sweep % n_groups as u32) as usize;
            let wg = site_words(WALK_BLOCK, site_pos, sweep, key);
            let u1 = here.log_mu[g] - here.log_1m[g] + RW_LOGIT_MU * standard_normal(wg[0], wg[1]);
            let mut step = here;
            let pair = log_mu_pair(u1);
            let mut likelihood = lp_here.likelihood;
            let (mut before, mut after) = (0.0f32, 0.0f32);
            if here.differ {
                [step.log_mu[g], step.log_1m[g]] = pair;
                likelihood[g] = ctx.group_likelihood(&step, g);
                before = lp_here.likelihood[g];
                after = likelihood[g];
            } else {
                for j in 0..n_groups {
                    [step.log_mu[j], step.log_1m[j]] = pair;
                }
                likelihood = ctx.likelihoods(&step);
                for j in 0..n_groups {
                    before += lp_here.likelihood[j];
                    after += likelihood[j];
                }
            }
            before += ctx.mu_prior(&here);
            after += ctx.mu_prior(&step);
            let jacobian = step.log_mu[g] + step.log_1m[g] - here.log_mu[g] - here.log_1m[g];
            if uniform_f32(wg[2]).ln() < after - before + jacobian {
                lp_here.total += after - before;
                lp_here.likelihood = likelihood;
                here = step;
            }
        }
        if k >= params.warmup {
            let d = (params.draw_offset + k - params.warmup) as usize;
            for g in 0..n_groups {
                draws[d * n_groups + g] = here.log_mu[g].exp();
            }
        }
    }
    for g in 0..n_groups {
        state[g] = here.log_mu[g] - here.log_1m[g];
        state[STATE_LIKELIHOOD + g] = lp_here.likelihood[g];
    }
    let differ = f32::from(u8::from(here.differ));
    state[STATE_LOG_PHI] = here.z;
    state[STATE_DIFFER] = differ;
    state[STATE_ACCEPTED] = accepted;
    state[STATE_RECYCLED..STATE_RECYCLED + 3].copy_from_slice(&recycled);
    [here.log_mu[0], here.log_1m[0], here.z, differ]
}

/// Run site_update for every (site, chain) of `params` on all cores: the shader's contract,
/// CHAIN_LANES chains of a site at a time (`site_lanes`), the scalar twin for the rest.
pub fn site_update(
    params: &SiteParams,
    batch: &SiteBatch,
    hyper: &[SiteHyper],
    out: &mut SiteOutputs,
) {
    run_sites(params, batch, hyper, out, true);
}

/// `site_update` by the scalar twin alone: the shader's operations one invocation at a time.
pub fn site_update_twin(
    params: &SiteParams,
    batch: &SiteBatch,
    hyper: &[SiteHyper],
    out: &mut SiteOutputs,
) {
    run_sites(params, batch, hyper, out, false);
}

fn run_sites(
    params: &SiteParams,
    batch: &SiteBatch,
    hyper: &[SiteHyper],
    out: &mut SiteOutputs,
    lanes: bool,
) {
    assert!(params.n_groups as usize <= MAX_GROUPS);
    assert_eq!(batch.n_sites(), params.n_sites as usize);
    // A fresh state of no sweeps would cache a likelihood of 0 for the next dispatch.
    assert!(
        params.warmup + params.n_draws > 0,
        "a dispatch runs at least one sweep"
    );
    let n_chains = params.n_chains as usize;
    let per_draws = params.draws_total as usize * params.n_groups as usize;
    if n_chains == 0 {
        return;
    }
    // One site's chains per task; without recorded draws each site gets an empty slice.
    let draws: Vec<&mut [f32]> = if per_draws == 0 {
        (0..params.n_sites).map(|_| Default::default()).collect()
    } else {
        out.draws.chunks_mut(n_chains * per_draws).collect()
    };
    out.state
        .par_chunks_mut(n_chains * STATE_STRIDE)
        .zip(out.stats.par_chunks_mut(n_chains))
        .zip(draws)
        .enumerate()
        .with_min_len(4)
        .for_each(|(site, ((state, stats), draws))| {
            let range = batch.offsets[site] as usize..batch.offsets[site + 1] as usize;
            let mut chain = 0;
            while lanes && chain + CHAIN_LANES <= n_chains {
                let d = &mut draws[chain * per_draws..(chain + CHAIN_LANES) * per_draws];
                run_lanes(
                    params,
                    &batch.samples[range.clone()],
                    hyper,
                    batch.ids[site],
                    chain,
                    &mut state[chain * STATE_STRIDE..(chain + CHAIN_LANES) * STATE_STRIDE],
                    d,
                    &mut stats[chain..chain + CHAIN_LANES],
                );
                chain += CHAIN_LANES;
            }
            for c in chain..n_chains {
                stats[c] = run_one(
                    params,
                    batch,
                    hyper,
                    site * n_chains + c,
                    &mut state[c * STATE_STRIDE..(c + 1) * STATE_STRIDE],
                    &mut draws[c * per_draws..(c + 1) * per_draws],
                );
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sites with 1 to 6 samples in 2 groups, coverage 1 to 300, some with zero counts.
    fn sites(n: usize) -> SiteBatch {
        sites_of_groups(n, 2)
    }

    fn sites_of_groups(n: usize, groups: u32) -> SiteBatch {
        let mut batch = SiteBatch::new();
        let mut x = 12345u32;
        let mut next = |m: u32| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 8) % m
        };
        for site in 0..n {
            for j in 0..1 + next(6) {
                let total = 1 + next(300);
                batch.samples.push(SiteSample {
                    group: j % groups,
                    methylated: next(total + 1),
                    total,
                    _pad: 0,
                });
            }
            batch.end_site(crate::rng::site_id(0, site as u64));
        }
        batch
    }

    /// Lanes and the scalar twin on one random stream: the same chains, except where the last
    /// bits of Cephes' and libm's logs flip a Metropolis decision; 6 chains also run the
    /// twin's remainder path; 3 groups walk each group every third sweep. Then a second
    /// dispatch from the state, as stage 1 runs.
    #[test]
    fn lanes_follow_the_scalar_twin() {
        for (n_chains, n_groups) in [(4u32, 2u32), (6, 2), (4, 3)] {
            let batch = sites_of_groups(300, n_groups);
            let hyper: Vec<SiteHyper> = (0..n_chains)
                .map(|c| {
                    let h = [0.6 + 0.1 * c as f32, 0.7, 2.0 + 0.2 * c as f32, 0.9];
                    SiteHyper::new(h, 0.2 + 0.1 * f64::from(c), 0.8)
                })
                .collect();
            let mut params = SiteParams {
                seed: 4,
                n_sites: 300,
                n_chains,
                n_groups,
                first_sweep: 0,
                warmup: 5,
                n_draws: 30,
                init: 1,
                draws_total: 30,
                draw_offset: 0,
                random_walk: 1,
                compare_first: 0,
                compare_second: 1,
                threshold: 0.1,
                _pad: [0; 2],
            };
            let (mut lanes, mut twin) = (SiteOutputs::new(&params), SiteOutputs::new(&params));
            site_update(&params, &batch, &hyper, &mut lanes);
            site_update_twin(&params, &batch, &hyper, &mut twin);
            let recycled = |out: &SiteOutputs| -> Vec<f32> {
                out.state
                    .chunks(STATE_STRIDE)
                    .flat_map(|c| c[STATE_RECYCLED..STATE_RECYCLED + 3].to_vec())
                    .collect()
            };
            let (recycled_lanes, recycled_twin) = (recycled(&lanes), recycled(&twin));
            // A second dispatch of 10 unrecorded sweeps from the carried state, without the
            // random walk, as stage 1 runs.
            params.first_sweep = 35;
            params.init = 0;
            params.warmup = 10;
            params.n_draws = 0;
            params.random_walk = 0;
            site_update(&params, &batch, &hyper, &mut lanes);
            site_update_twin(&params, &batch, &hyper, &mut twin);
            let chains = 300 * n_chains as usize;
            let per_chain = 30 * n_groups as usize;
            let close = |a: f32, b: f32| (a - b).abs() <= 1e-4 * a.abs().max(1e-3);
            let same = (0..chains)
                .filter(|&c| {
                    let r = c * per_chain..(c + 1) * per_chain;
                    lanes.draws[r.clone()]
                        .iter()
                        .zip(&twin.draws[r])
                        .all(|(a, b)| close(*a, *b))
                        && close(lanes.stats[c][2], twin.stats[c][2])
                        && lanes.stats[c][3] == twin.stats[c][3]
                })
                .count();
            // The recycled sums of the recorded sweeps, before the second dispatch.
            let same_recycled = (0..chains)
                .filter(|&c| {
                    (0..3).all(|i| {
                        let (a, b) = (recycled_lanes[3 * c + i], recycled_twin[3 * c + i]);
                        (a - b).abs() <= 1e-3 * a.abs().max(1.0)
                    })
                })
                .count();
            eprintln!(
                "lanes vs twin, {n_chains} chains a site, {n_groups} groups: {same} of {chains} \
                 chains agree, {same_recycled} in their recycled sums"
            );
            assert!(
                same as f64 >= 0.97 * chains as f64,
                "{n_chains} chains: {same} of {chains}"
            );
            assert!(same_recycled as f64 >= 0.97 * chains as f64);
        }
    }

    /// Unrecorded sweeps of 2 groups, the random walk on (stage 1 runs them without it).
    fn unrecorded(seed: u32, n_sites: u32, n_chains: u32, sweeps: u32) -> SiteParams {
        SiteParams {
            seed,
            n_sites,
            n_chains,
            n_groups: 2,
            first_sweep: 0,
            warmup: sweeps,
            n_draws: 0,
            init: 1,
            draws_total: 0,
            draw_offset: 0,
            random_walk: 1,
            compare_first: 0,
            compare_second: 1,
            threshold: 0.1,
            _pad: [0; 2],
        }
    }

    /// Stage 1's joint moves compare the likelihood a sweep cached in the state with
    /// `site_state_likelihoods` at the moved log phi: at the state's own log phi the two
    /// must agree (lanes and twin, 4 chains and 6, with and without the random walk), site by
    /// site and summed over a chain's sites, or the moves' ratio would be biased.
    #[test]
    fn state_likelihoods_reproduce_the_cached_ones() {
        let batch = sites(300);
        for (n_chains, random_walk) in [(4u32, 0), (4, 1), (6, 1)] {
            let hyper = vec![SiteHyper::new([0.7, 0.9, 2.5, 0.8], 0.3, 1.0); n_chains as usize];
            let params = SiteParams {
                random_walk,
                ..unrecorded(5, 300, n_chains, 7)
            };
            let mut out = SiteOutputs::new(&params);
            site_update(&params, &batch, &hyper, &mut out);
            let (worst, sum) = cached_likelihood_error(&batch, 2, &out.state);
            eprintln!("{n_chains} chains, random walk {random_walk}: {worst:.1e} relative, {sum:.1e} summed");
            // The cache was computed before the logits' f32 round trip (3e-7 measured).
            assert!(worst < 1e-5, "{n_chains} chains: relative error {worst}");
            assert!(sum < 1e-3, "{n_chains} chains: a chain's sum is {sum} off");
        }
    }

    /// Thirty sweeps in one dispatch, and in three of ten whose chains go on from the state
    /// (its cached likelihoods, as stage 1 runs): the same chains, by the twin and the lanes.
    #[test]
    fn dispatches_that_go_on_from_the_state_follow_one_dispatch() {
        let batch = sites(200);
        let hyper = vec![SiteHyper::new([0.7, 0.9, 1.5, 1.2], 0.3, 1.0); 4];
        let whole = |sweeps: u32, first: u32, init: u32| SiteParams {
            first_sweep: first,
            init,
            ..unrecorded(8, 200, 4, sweeps)
        };
        for update in [site_update, site_update_twin] {
            let mut one = SiteOutputs::new(&whole(30, 0, 1));
            update(&whole(30, 0, 1), &batch, &hyper, &mut one);
            let mut split = SiteOutputs::new(&whole(10, 0, 1));
            for (k, first) in [0u32, 10, 20].into_iter().enumerate() {
                update(
                    &whole(10, first, u32::from(k == 0)),
                    &batch,
                    &hyper,
                    &mut split,
                );
            }
            let same = one
                .state
                .chunks(STATE_STRIDE)
                .zip(split.state.chunks(STATE_STRIDE))
                .filter(|(a, b)| {
                    // All but the count of the last dispatch's acceptances.
                    let kept = |c: &[f32]| {
                        let mut c = c.to_vec();
                        c.remove(STATE_ACCEPTED);
                        c
                    };
                    kept(a)
                        .iter()
                        .zip(&kept(b))
                        .all(|(x, y)| (x - y).abs() <= 1e-4 * x.abs().max(1.0))
                })
                .count();
            eprintln!("one dispatch and three: {same} of 800 chains agree");
            assert!(same >= 790, "{same} of 800");
        }
    }
}

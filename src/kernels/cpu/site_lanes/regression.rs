//! The site regression of CHAIN_LANES chains of one site (`run_regression_lanes`): the twin's
//! (`site_regression::run_one`) points, Newton proposals and targets with a lane per chain,
//! its Metropolis decisions selected per lane. The chains share the site's samples, so every
//! pass over them is the same in all lanes; where the twin branches on a chain's state (the
//! jump's direction, the free coordinates), the lanes compute what any lane needs and select.

use bytemuck::Zeroable;

use crate::kernels::cpu::lanes::philox_lanes;
use crate::kernels::cpu::site_lanes::lane_math::{
    beta_binomial, beta_shapes, exp, ln, ln_1p, one_if, sp, standard_normal, uniform, Shape,
    CHAIN_LANES, F, U,
};
use crate::kernels::cpu::site_lanes::update::Hyper as SiteLanes;
use crate::kernels::cpu::site_regression::{MIN_PRECISION, RW_LOG_PHI, START_CLAMP};
use crate::kernels::regression_layout::{
    RegressionDesign, RegressionHyper, MAX_COEFS, NUISANCE_DOF, REG_STATE_ACCEPTED,
    REG_STATE_DIFFER, REG_STATE_LOG_LIKELIHOOD, REG_STATE_LOG_PHI, REG_STATE_RECYCLED,
    REG_STATE_STRIDE,
};
use crate::kernels::site_layout::{
    SiteHyper, SiteParams, SiteSample, LOG_PHI_DOF, MAX_GROUPS, MIN_SHAPE, SLAB_DOF,
};
use crate::rng::{Stream, STREAM_SHIFT};

const HALF_LN_TWO_PI: f32 = crate::kernels::cpu::betabinom::HALF_LN_TWO_PI;
/// Most distinct design rows whose mu and shapes a pass keeps: a factor design's cells (the
/// RRBS example's group x cell has 4); designs with more compute them per sample.
const MAX_SHARED_ROWS: usize = 8;

/// site_regression::Point in lanes; `differ` is a lane mask.
#[derive(Clone, Copy)]
struct Point {
    gamma: [F; MAX_COEFS],
    z: F,
    differ: F,
}

/// A chain's priors per lane (RegressionHyper): the site's, and the nuisance scales with
/// their logs.
struct Hyper {
    site: SiteLanes,
    nuisance_scale: [F; MAX_COEFS],
    ln_nuisance_scale: [F; MAX_COEFS],
}

struct Site<'a> {
    d: &'a RegressionDesign,
    samples: &'a [SiteSample],
    h: Hyper,
}

#[inline(always)]
fn sigmoid(u: F) -> F {
    sp(1.0) / (exp(-u) + 1.0)
}

#[inline(always)]
fn softplus(u: F) -> F {
    u.fast_max(sp(0.0)) + ln_1p(exp(-u.abs()))
}

/// site_regression's log_normal_density in every lane.
#[inline(always)]
fn log_normal_density(x: F, mean: F, precision: F) -> F {
    ln(precision) * 0.5 - HALF_LN_TWO_PI - precision * 0.5 * (x - mean) * (x - mean)
}

#[allow(clippy::needless_range_loop)] // indexed as the twin indexes
impl Site<'_> {
    fn beta(&self, gamma: &[F; MAX_COEFS]) -> [F; MAX_COEFS] {
        let n = self.d.n_coefs;
        let mut beta = [sp(0.0); MAX_COEFS];
        for i in 0..n {
            let mut b = sp(0.0);
            for k in i..n {
                b += gamma[k] * self.d.to_beta[i * n + k];
            }
            beta[i] = b;
        }
        beta
    }

    /// mu of basis row `row` at p.
    #[inline(always)]
    fn row_mu(&self, row: usize, p: &Point) -> F {
        let n = self.d.n_coefs;
        let row = &self.d.basis[row * n..][..n];
        let mut e = sp(0.0);
        for i in 0..n {
            e += p.gamma[i] * row[i];
        }
        sigmoid(e)
    }

    /// site_regression::Site::pass. Where samples share design rows (a factor design's
    /// cells), each row's mu and Beta shapes are computed once, the same operations as per
    /// sample, so the results are the same bits.
    fn pass(&self, k: Option<usize>, p: &Point, likelihood: bool) -> [F; 3] {
        let phi = exp(p.z);
        let shapes_at = |mu: F| {
            beta_shapes(
                (mu * phi).fast_max(sp(MIN_SHAPE)),
                ((sp(1.0) - mu) * phi).fast_max(sp(MIN_SHAPE)),
            )
        };
        let shared = &self.d.shared_rows;
        if shared.len() >= self.samples.len() || shared.len() > MAX_SHARED_ROWS {
            return self.sum_samples(
                k,
                phi,
                likelihood,
                |row| self.row_mu(row, p),
                |_, mu, m, total| beta_binomial(m, total, &shapes_at(mu)),
            );
        }
        let mut mus = [sp(0.0); MAX_SHARED_ROWS];
        let mut row_shapes = [[Shape::default(); 3]; MAX_SHARED_ROWS];
        for (class, &row) in shared.iter().enumerate() {
            mus[class] = self.row_mu(row, p);
            if likelihood {
                row_shapes[class] = shapes_at(mus[class]);
            }
        }
        let class = |row: usize| self.d.row_class[row] as usize;
        self.sum_samples(
            k,
            phi,
            likelihood,
            |row| mus[class(row)],
            |row, _, m, total| beta_binomial(m, total, &row_shapes[class(row)]),
        )
    }

    /// The pass's sums over the samples, given each sample's mu by design row and (where
    /// `likelihood`) its beta-binomial term. (`likelihood` a parameter of its own, constant
    /// where the pass inlines: folded into an Option of the shapes, the RRBS example's design
    /// ran 28% slower.)
    #[inline(always)]
    fn sum_samples(
        &self,
        k: Option<usize>,
        phi: F,
        likelihood: bool,
        mu_at: impl Fn(usize) -> F,
        term: impl Fn(usize, F, f32, f32) -> F,
    ) -> [F; 3] {
        let (mut g, mut c, mut l) = (sp(0.0), sp(0.0), sp(0.0));
        for s in self.samples {
            let row = s.group as usize;
            let mu = mu_at(row);
            let (m, total) = (s.methylated as f32, s.total as f32);
            if let Some(k) = k {
                let q = self.d.basis[row * self.d.n_coefs + k];
                let discount = (phi + 1.0) / (phi + total);
                g += discount * q * (sp(m) - mu * total);
                c += discount * (q * q) * total * mu * (sp(1.0) - mu);
            }
            if likelihood {
                l += term(row, mu, m, total);
            }
        }
        [g, c, l]
    }

    /// site_regression::Site::log_prior, both sides of `differ` selected per lane.
    fn log_prior(&self, p: &Point) -> F {
        let (h, d) = (&self.h, self.d);
        let beta = self.beta(&p.gamma);
        let mut lp = -h.site.a * softplus(-beta[0]) - h.site.b * softplus(beta[0]) - h.site.ln_beta;
        for k in 1..d.tested {
            let (b, s) = (beta[k], h.nuisance_scale[k]);
            lp -= ln_1p(b * b / (s * s * NUISANCE_DOF)) * (0.5 * (NUISANCE_DOF + 1.0))
                + h.ln_nuisance_scale[k];
        }
        let mut differ = lp + h.site.log_differ - d.ln_det_tested;
        if p.differ.any() {
            for k in d.tested..d.n_coefs {
                let b = beta[k];
                differ += h.site.ln_slab
                    - ln_1p(b * b * h.site.slab_inv_scale2) * (0.5 * (SLAB_DOF + 1.0));
            }
        }
        let lp = p.differ.select(differ, lp + h.site.log_same);
        let t = (p.z - h.site.m0) / h.site.s0;
        lp - ln_1p(t * t / LOG_PHI_DOF) * (0.5 * (LOG_PHI_DOF + 1.0))
    }

    /// (log target, log likelihood) at p.
    fn log_target(&self, p: &Point) -> [F; 2] {
        let likelihood = self.pass(None, p, true)[2];
        [likelihood + self.log_prior(p), likelihood]
    }

    /// site_regression::Site::newton.
    fn newton(&self, k: usize, p: &Point, slab: bool, likelihood: bool) -> [F; 3] {
        let (h, d, n) = (&self.h, self.d, self.d.n_coefs);
        let beta = self.beta(&p.gamma);
        let (mut g, mut c) = (sp(0.0), sp(0.0));
        for i in 0..=k.min(n - 1) {
            let r = d.to_beta[i * n + k];
            if r == 0.0 {
                continue;
            }
            let b = beta[i];
            let (gi, ci) = if i == 0 {
                let m = sigmoid(b);
                (
                    h.site.a - (h.site.a + h.site.b) * m,
                    (h.site.a + h.site.b) * m * (sp(1.0) - m),
                )
            } else if i < d.tested {
                let v = h.nuisance_scale[i] * h.nuisance_scale[i] * NUISANCE_DOF;
                (
                    -b * (NUISANCE_DOF + 1.0) / (v + b * b),
                    sp(NUISANCE_DOF + 1.0) / (v + b * b),
                )
            } else if slab {
                let v = sp(1.0) / h.site.slab_inv_scale2;
                (
                    -b * (SLAB_DOF + 1.0) / (v + b * b),
                    sp(SLAB_DOF + 1.0) / (v + b * b),
                )
            } else {
                (sp(0.0), sp(0.0))
            };
            g += gi * r;
            c += ci * (r * r);
        }
        let [dg, dc, l] = self.pass(Some(k), p, likelihood);
        let precision = (c + dc).fast_max(sp(MIN_PRECISION));
        [p.gamma[k] + (g + dg) / precision, precision, l]
    }

    /// mu at each recorded level.
    fn level_mus(&self, p: &Point) -> [F; MAX_GROUPS] {
        let (d, beta) = (self.d, self.beta(&p.gamma));
        let mut mu = [sp(0.0); MAX_GROUPS];
        for g in 0..d.n_levels {
            let row = &d.levels[g * d.n_coefs..][..d.n_coefs];
            let mut u = sp(0.0);
            for k in 0..d.n_coefs {
                u += beta[k] * row[k];
            }
            mu[g] = sigmoid(u);
        }
        mu
    }

    /// site_regression::Site::indicators: (delta > d, delta < -d, differ) as 0 or 1.
    fn indicators(&self, p: &Point) -> [F; 3] {
        if !p.differ.any() {
            return [sp(0.0); 3];
        }
        let mu = self.level_mus(p);
        let d = self.d;
        if d.joint {
            let (mut lo, mut hi) = (mu[0], mu[0]);
            for &m in &mu[1..d.n_levels] {
                lo = lo.fast_min(m);
                hi = hi.fast_max(m);
            }
            return [
                one_if(p.differ & (hi - lo).simd_gt(sp(d.threshold))),
                sp(0.0),
                one_if(p.differ),
            ];
        }
        let delta = mu[d.compare.1] - mu[d.compare.0];
        [
            one_if(p.differ & delta.simd_gt(sp(d.threshold))),
            one_if(p.differ & delta.simd_lt(sp(-d.threshold))),
            one_if(p.differ),
        ]
    }
}

/// Lanes of `a` where `mask`, else of `b`, for every coordinate.
fn select_point(mask: F, a: &Point, b: &Point) -> Point {
    Point {
        gamma: std::array::from_fn(|k| mask.select(a.gamma[k], b.gamma[k])),
        z: mask.select(a.z, b.z),
        differ: mask.select(a.differ, b.differ),
    }
}

/// site_regression::site_log_likelihoods for CHAIN_LANES consecutive chains of one site:
/// `states` are their states (REG_STATE_STRIDE floats each), `z` their log phi.
pub fn site_log_likelihood_lanes(
    design: &RegressionDesign,
    samples: &[SiteSample],
    states: &[f32],
    z: [f32; CHAIN_LANES],
) -> [f32; CHAIN_LANES] {
    let mut p = Point {
        gamma: [sp(0.0); MAX_COEFS],
        z: F::new(z),
        differ: sp(0.0).simd_ne(sp(0.0)),
    };
    for (k, g) in p.gamma.iter_mut().enumerate().take(design.n_coefs) {
        *g = F::new(std::array::from_fn(|l| states[l * REG_STATE_STRIDE + k]));
    }
    // The likelihood alone reads no prior.
    let none = [SiteHyper::zeroed(); CHAIN_LANES];
    let site = Site {
        d: design,
        samples,
        h: Hyper {
            site: SiteLanes::of_chains(&none, 0),
            nuisance_scale: [sp(1.0); MAX_COEFS],
            ln_nuisance_scale: [sp(0.0); MAX_COEFS],
        },
    };
    site.pass(None, &p, true)[2].to_array()
}

/// site_regression::run_one for chains `first_chain ..+ CHAIN_LANES` of the site `id`
/// (`rng::site_id`), whose samples are `samples`: `state` and `draws` are those chains' consecutive slices.
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)] // indexed as the twin indexes
pub fn run_regression_lanes(
    params: &SiteParams,
    design: &RegressionDesign,
    samples: &[SiteSample],
    hyper: &[RegressionHyper],
    id: [u32; 2],
    first_chain: usize,
    state: &mut [f32],
    draws: &mut [f32],
) {
    let d = design;
    let (n, tested) = (d.n_coefs, d.tested);
    // The site's identity keys its random numbers (`rng::site_id`), never its index here.
    let site_pos = id[1];
    let key: [U; 2] = [
        [params.seed ^ id[0]; CHAIN_LANES],
        std::array::from_fn(|l| (first_chain + l) as u32),
    ];
    let tag = (Stream::SiteRegression as u32) << STREAM_SHIFT;
    let words = |step: usize, sweep: u32| {
        philox_lanes([step as u32; CHAIN_LANES], site_pos, sweep, tag, key)
    };
    let lane = |f: &dyn Fn(usize) -> f32| F::new(std::array::from_fn(f));
    let of = |f: &dyn Fn(&RegressionHyper) -> f32| lane(&|l| f(&hyper[first_chain + l]));
    let sites: Vec<SiteHyper> = hyper.iter().map(|h| h.site).collect();
    let h = Hyper {
        site: SiteLanes::of_chains(&sites, first_chain),
        nuisance_scale: std::array::from_fn(|k| of(&|h| h.nuisance_scale[k])),
        ln_nuisance_scale: std::array::from_fn(|k| of(&|h| h.nuisance_scale[k].ln())),
    };
    let ctx = Site { d, samples, h };
    let mut here = Point {
        gamma: [sp(0.0); MAX_COEFS],
        z: ctx.h.site.m0,
        differ: sp(0.0).simd_ne(sp(0.0)),
    };
    let mut recycled = [sp(0.0); 3];
    let mut accepted = sp(0.0);
    let mut ll_here;
    if params.init != 0 {
        let (mut m, mut t) = (0.5f32, 1.0f32);
        for s in samples {
            m += s.methylated as f32;
            t += s.total as f32;
        }
        let p = (m / t).clamp(START_CLAMP, 1.0 - START_CLAMP);
        here.gamma[0] = sp((p / (1.0 - p)).ln() / d.basis[0]);
        for k in 1..tested {
            here.gamma[k] = ctx.newton(k, &here, false, false)[0];
        }
        ll_here = ctx.pass(None, &here, true)[2];
    } else {
        let at = |l: usize, i: usize| state[l * REG_STATE_STRIDE + i];
        ll_here = lane(&|l| at(l, REG_STATE_LOG_LIKELIHOOD));
        for k in 0..n {
            here.gamma[k] = lane(&|l| at(l, k));
        }
        here.z = lane(&|l| at(l, REG_STATE_LOG_PHI));
        here.differ = lane(&|l| at(l, REG_STATE_DIFFER)).simd_ne(sp(0.0));
        for (i, r) in recycled.iter_mut().enumerate() {
            *r = lane(&|l| at(l, REG_STATE_RECYCLED + i));
        }
        accepted = lane(&|l| at(l, REG_STATE_ACCEPTED));
    }
    let mut lp_here = ll_here + ctx.log_prior(&here);
    let slots = d.draw_slots();
    let per_chain = draws.len() / CHAIN_LANES;
    for k in 0..params.warmup + params.n_draws {
        let sweep = params.first_sweep + k;
        // 1. The jump of the tested block: lanes that differ propose 0 (their reverse
        // proposal built from the null point), the others a free block; both walk the block
        // from the null point, at which the first Newton pass also gives the likelihood.
        let jump = words(n + 1, sweep);
        let was = here.differ;
        let mut walk = here;
        for t in tested..n {
            walk.gamma[t] = sp(0.0);
        }
        let mut log_q = sp(0.0);
        let mut likelihood_null = sp(0.0);
        for t in tested..n {
            let w = words(n + 2 + t - tested, sweep);
            let [mean, precision, l] = ctx.newton(t, &walk, true, t == tested);
            if t == tested {
                likelihood_null = l;
            }
            let value = mean + standard_normal(w[0], w[1]) / precision.sqrt();
            log_q += was.select(
                log_normal_density(here.gamma[t], mean, precision),
                -log_normal_density(value, mean, precision),
            );
            walk.gamma[t] = was.select(here.gamma[t], value);
        }
        let mut there = walk;
        there.differ = !was;
        for t in tested..n {
            there.gamma[t] = was.select(sp(0.0), walk.gamma[t]);
        }
        let likelihood = if (!was).any() {
            was.select(likelihood_null, ctx.pass(None, &there, true)[2])
        } else {
            likelihood_null
        };
        let lp_there = likelihood + ctx.log_prior(&there);
        let log_ratio = lp_there - lp_here + log_q;
        if k >= params.warmup {
            let alpha = exp(log_ratio.fast_min(sp(0.0)));
            let (i_there, i_here) = (ctx.indicators(&there), ctx.indicators(&here));
            for i in 0..3 {
                recycled[i] += alpha * i_there[i] + (sp(1.0) - alpha) * i_here[i];
            }
        }
        let take = ln(uniform(jump[2])).simd_lt(log_ratio);
        here = select_point(take, &there, &here);
        lp_here = take.select(lp_there, lp_here);
        ll_here = take.select(likelihood, ll_here);
        accepted += one_if(take);
        // 2. Each free coordinate by its Newton proposal (the block only where it differs).
        for c in 0..n {
            let active = if c < tested {
                sp(0.0).simd_eq(sp(0.0))
            } else {
                here.differ
            };
            if !active.any() {
                continue;
            }
            let w = words(c, sweep);
            let [mean, precision, _] = ctx.newton(c, &here, true, false);
            let value = mean + standard_normal(w[0], w[1]) / precision.sqrt();
            let mut step = here;
            step.gamma[c] = value;
            let [back, back_precision, likelihood] = ctx.newton(c, &step, true, true);
            let lp_step = likelihood + ctx.log_prior(&step);
            let ratio = lp_step - lp_here + log_normal_density(here.gamma[c], back, back_precision)
                - log_normal_density(value, mean, precision);
            let take = ln(uniform(w[2])).simd_lt(ratio) & active;
            here.gamma[c] = take.select(value, here.gamma[c]);
            lp_here = take.select(lp_step, lp_here);
            ll_here = take.select(likelihood, ll_here);
        }
        // 3. log phi by a random walk.
        let w = words(n, sweep);
        let mut step = here;
        step.z = here.z + standard_normal(w[0], w[1]) * RW_LOG_PHI;
        let [lp_step, ll_step] = ctx.log_target(&step);
        let take = ln(uniform(w[2])).simd_lt(lp_step - lp_here);
        here.z = take.select(step.z, here.z);
        lp_here = take.select(lp_step, lp_here);
        ll_here = take.select(ll_step, ll_here);
        if k >= params.warmup {
            let draw = (params.draw_offset + k - params.warmup) as usize;
            let mu = ctx.level_mus(&here);
            let coef = ctx.beta(&here.gamma)[tested].to_array();
            for l in 0..CHAIN_LANES {
                let row = &mut draws[l * per_chain + draw * slots..][..slots];
                for g in 0..d.n_levels {
                    row[g] = mu[g].to_array()[l];
                }
                row[d.n_levels] = coef[l];
            }
        }
    }
    let gamma = here.gamma.map(|g| g.to_array());
    let (z, differ, ll, accepted) = (
        here.z.to_array(),
        one_if(here.differ).to_array(),
        ll_here.to_array(),
        accepted.to_array(),
    );
    let recycled = recycled.map(|r| r.to_array());
    for l in 0..CHAIN_LANES {
        let chain = &mut state[l * REG_STATE_STRIDE..(l + 1) * REG_STATE_STRIDE];
        for k in 0..n {
            chain[k] = gamma[k][l];
        }
        chain[REG_STATE_LOG_PHI] = z[l];
        chain[REG_STATE_DIFFER] = differ[l];
        chain[REG_STATE_LOG_LIKELIHOOD] = ll[l];
        chain[REG_STATE_ACCEPTED] = accepted[l];
        for i in 0..3 {
            chain[REG_STATE_RECYCLED + i] = recycled[i][l];
        }
    }
}

//! The site regression: per site and chain, logit mu_j = x_j · beta for every sample j,
//! m_j ~ BetaBinomial(n_j, mu_j phi, (1 - mu_j) phi), with the tested block of beta under a
//! spike and slab (docs/methyl-model.md, "General designs"): the CPU twin of
//! `shaders/site_regression.wgsl`, in f32, the same operations in the same order, one
//! invocation (site, chain) at a time.
//!
//! Each sweep: (1) a reversible jump of the tested block between 0 and free, the free values
//! proposed from Newton steps of the binomial likelihood with each read discounted by the
//! beta-binomial design effect; (2) every free coordinate of gamma (the orthogonal
//! coordinates of `RegressionDesign`) by Metropolis–Hastings with the same kind of Newton
//! proposal, its reverse density taken at the proposal; (3) a random walk on log phi. The
//! jump adds `alpha f(proposal) + (1 - alpha) f(current)` to the recycled sums, as
//! site_update does.

use bytemuck::Zeroable;
use rayon::prelude::*;

use crate::kernels::cpu::betabinom::{beta_binomial_log_ratio, ln_1p, HALF_LN_TWO_PI};
use crate::kernels::cpu::site_lanes::{
    run_regression_lanes, site_log_likelihood_lanes, CHAIN_LANES,
};
use crate::kernels::cpu::variates::standard_normal;
use crate::kernels::regression_layout::*;
use crate::kernels::site_layout::{
    SiteBatch, SiteParams, SiteSample, LOG_PHI_DOF, MAX_GROUPS, MIN_SHAPE, SLAB_DOF,
};
use crate::rng::{counter, philox4x32_10, uniform_f32, Stream};

/// Smallest precision of a Newton proposal: a coordinate that neither the data nor its prior
/// inform moves in steps of at most 10 in gamma.
pub(crate) const MIN_PRECISION: f32 = 1e-2;
/// Random-walk step sd of log phi, about its posterior sd at a few samples of tens of reads.
pub(crate) const RW_LOG_PHI: f32 = 0.5;
/// The pooled proportion that starts a chain is kept this far from 0 and 1.
pub(crate) const START_CLAMP: f32 = 0.02;

#[inline]
fn sigmoid(u: f32) -> f32 {
    1.0 / (1.0 + (-u).exp())
}

/// ln(1 + e^u) without overflow, through betabinom's ln_1p as the shader computes it.
#[inline]
fn softplus(u: f32) -> f32 {
    u.max(0.0) + ln_1p((-u.abs()).exp())
}

/// A chain's point: gamma, log phi and the tested block's state. The samples' logit means
/// are recomputed from gamma in each pass over them (n_coefs products a sample), not cached:
/// the shader keeps no per-sample array per chain.
#[derive(Clone, Copy)]
struct Point {
    gamma: [f32; MAX_COEFS],
    z: f32,
    differ: bool,
}

/// No coordinate: a pass over the samples for the likelihood alone.
const NO_COORD: usize = usize::MAX;

struct Site<'a> {
    d: &'a RegressionDesign,
    samples: &'a [SiteSample],
    h: &'a RegressionHyper,
}

#[allow(clippy::needless_range_loop)] // indexed as the shader indexes
impl Site<'_> {
    /// Sample j's logit mean at gamma: its design row (in the basis) times gamma.
    fn eta(&self, j: usize, gamma: &[f32; MAX_COEFS]) -> f32 {
        let n = self.d.n_coefs;
        let row = &self.d.basis[self.samples[j].group as usize * n..][..n];
        let mut e = 0.0f32;
        for k in 0..n {
            e += row[k] * gamma[k];
        }
        e
    }

    fn beta(&self, gamma: &[f32; MAX_COEFS]) -> [f32; MAX_COEFS] {
        state_coefficients(self.d, gamma)
    }

    /// One pass over the samples at p: the data's score and information of coordinate k
    /// (each read discounted by (phi + 1) / (phi + n); none for NO_COORD) and, when
    /// `likelihood`, p's beta-binomial log likelihood.
    fn pass(&self, k: usize, p: &Point, likelihood: bool) -> [f32; 3] {
        let phi = p.z.exp();
        let (mut g, mut c, mut l) = (0.0f32, 0.0f32, 0.0f32);
        let n = self.d.n_coefs;
        for (j, s) in self.samples.iter().enumerate() {
            let mu = sigmoid(self.eta(j, &p.gamma));
            let (m, total) = (s.methylated as f32, s.total as f32);
            if k != NO_COORD {
                let q = self.d.basis[s.group as usize * n + k];
                let discount = (phi + 1.0) / (phi + total);
                g += q * discount * (m - total * mu);
                c += q * q * discount * total * mu * (1.0 - mu);
            }
            if likelihood {
                l += beta_binomial_log_ratio(
                    m,
                    total,
                    (mu * phi).max(MIN_SHAPE),
                    ((1.0 - mu) * phi).max(MIN_SHAPE),
                );
            }
        }
        [g, c, l]
    }

    /// log prior density of p in gamma coordinates, normalised where the jump compares
    /// spaces: the intercept's level, the other coefficients' t, the block's spike or slab
    /// (with its Jacobian), log phi's t (its constant cancels).
    fn log_prior(&self, p: &Point) -> f32 {
        let (h, d) = (&self.h.site, self.d);
        let beta = self.beta(&p.gamma);
        let mut lp = -h.a * softplus(-beta[0]) - h.b * softplus(beta[0]) - h.ln_beta;
        for k in 1..d.tested {
            let (b, s) = (beta[k], self.h.nuisance_scale[k]);
            lp -= 0.5 * (NUISANCE_DOF + 1.0) * ln_1p(b * b / (NUISANCE_DOF * s * s)) + s.ln();
        }
        if p.differ {
            lp += h.log_differ - d.ln_det_tested;
            for &b in &beta[d.tested..d.n_coefs] {
                lp += h.ln_slab - 0.5 * (SLAB_DOF + 1.0) * ln_1p(b * b * h.slab_inv_scale2);
            }
        } else {
            lp += h.log_same;
        }
        let t = (p.z - h.m0) / h.s0;
        lp - 0.5 * (LOG_PHI_DOF + 1.0) * ln_1p(t * t / LOG_PHI_DOF)
    }

    /// (log target, log likelihood) at p.
    fn log_target(&self, p: &Point) -> [f32; 2] {
        let likelihood = self.pass(NO_COORD, p, true)[2];
        [likelihood + self.log_prior(p), likelihood]
    }

    /// The Newton proposal of coordinate k at p: (mean, precision) from the binomial score
    /// and information with each read discounted by (phi + 1) / (phi + n), plus the priors'
    /// (the block's slab counted when `slab`); and p's log likelihood when `likelihood`.
    fn newton(&self, k: usize, p: &Point, slab: bool, likelihood: bool) -> [f32; 3] {
        let (h, d, n) = (&self.h.site, self.d, self.d.n_coefs);
        let beta = self.beta(&p.gamma);
        let (mut g, mut c) = (0.0f32, 0.0f32);
        for (i, &b) in beta.iter().enumerate().take(k.min(n - 1) + 1) {
            let r = d.to_beta[i * n + k];
            if r == 0.0 {
                continue;
            }
            let (gi, ci) = if i == 0 {
                let m = sigmoid(b);
                (h.a - (h.a + h.b) * m, (h.a + h.b) * m * (1.0 - m))
            } else if i < d.tested {
                let v = NUISANCE_DOF * self.h.nuisance_scale[i] * self.h.nuisance_scale[i];
                (
                    -(NUISANCE_DOF + 1.0) * b / (v + b * b),
                    (NUISANCE_DOF + 1.0) / (v + b * b),
                )
            } else if slab {
                let v = 1.0 / h.slab_inv_scale2;
                (
                    -(SLAB_DOF + 1.0) * b / (v + b * b),
                    (SLAB_DOF + 1.0) / (v + b * b),
                )
            } else {
                (0.0, 0.0)
            };
            g += gi * r;
            c += ci * r * r;
        }
        let [dg, dc, l] = self.pass(k, p, likelihood);
        let precision = (c + dc).max(MIN_PRECISION);
        [p.gamma[k] + (g + dg) / precision, precision, l]
    }

    /// What the recycled sums estimate at p: (delta > d, delta < -d, differ) as 0 or 1.
    fn indicators(&self, p: &Point) -> [f32; 3] {
        if !p.differ {
            return [0.0; 3];
        }
        let mu = self.level_mus(p);
        let (d, n_levels) = (self.d.threshold, self.d.n_levels);
        if self.d.joint {
            let (mut lo, mut hi) = (mu[0], mu[0]);
            for &m in &mu[1..n_levels] {
                lo = lo.min(m);
                hi = hi.max(m);
            }
            return [f32::from(u8::from(hi - lo > d)), 0.0, 1.0];
        }
        let delta = mu[self.d.compare.1] - mu[self.d.compare.0];
        [
            f32::from(u8::from(delta > d)),
            f32::from(u8::from(delta < -d)),
            1.0,
        ]
    }

    /// mu at each recorded level (the first n_levels entries).
    fn level_mus(&self, p: &Point) -> [f32; MAX_GROUPS] {
        let (d, beta) = (self.d, self.beta(&p.gamma));
        let mut mu = [0.0f32; MAX_GROUPS];
        for (g, m) in mu.iter_mut().enumerate().take(d.n_levels) {
            let row = &d.levels[g * d.n_coefs..][..d.n_coefs];
            let mut u = 0.0f32;
            for k in 0..d.n_coefs {
                u += row[k] * beta[k];
            }
            *m = sigmoid(u);
        }
        mu
    }
}

/// Normalised: the jump compares it with densities on another space.
fn log_normal_density(x: f32, mean: f32, precision: f32) -> f32 {
    0.5 * precision.ln() - HALF_LN_TWO_PI - 0.5 * precision * (x - mean) * (x - mean)
}

/// Every (site, chain) of a dispatch: `out.state` carries the chains between dispatches.
/// Chains go four at a time through `site_lanes::run_regression_lanes` (the same operations
/// in f32x4, with Cephes' ln, exp and cos: results agree with this twin's to the last bits),
/// the rest one at a time here.
pub fn site_regression(
    params: &SiteParams,
    design: &RegressionDesign,
    batch: &SiteBatch,
    hyper: &[RegressionHyper],
    out: &mut RegressionOutputs,
) {
    dispatch(params, design, batch, hyper, out, true);
}

/// `site_regression` one chain at a time: the shader's twin, and the reference the lanes and
/// the GPU are held to.
pub fn site_regression_twin(
    params: &SiteParams,
    design: &RegressionDesign,
    batch: &SiteBatch,
    hyper: &[RegressionHyper],
    out: &mut RegressionOutputs,
) {
    dispatch(params, design, batch, hyper, out, false);
}

fn dispatch(
    params: &SiteParams,
    design: &RegressionDesign,
    batch: &SiteBatch,
    hyper: &[RegressionHyper],
    out: &mut RegressionOutputs,
    lanes: bool,
) {
    let n_chains = params.n_chains as usize;
    if n_chains == 0 {
        return;
    }
    let per_draws = params.draws_total as usize * design.draw_slots();
    // One site's chains per task; without recorded draws (stage 1) each site gets an empty slice.
    let draws: Vec<&mut [f32]> = if per_draws == 0 {
        (0..params.n_sites).map(|_| Default::default()).collect()
    } else {
        out.draws.chunks_mut(n_chains * per_draws).collect()
    };
    out.state
        .par_chunks_mut(n_chains * REG_STATE_STRIDE)
        .zip(draws)
        .enumerate()
        .with_min_len(4)
        .for_each(|(site, (state, draws))| {
            let range = batch.offsets[site] as usize..batch.offsets[site + 1] as usize;
            let samples = &batch.samples[range];
            let mut chain = 0;
            while lanes && chain + CHAIN_LANES <= n_chains {
                run_regression_lanes(
                    params,
                    design,
                    samples,
                    hyper,
                    batch.ids[site],
                    chain,
                    &mut state[chain * REG_STATE_STRIDE..(chain + CHAIN_LANES) * REG_STATE_STRIDE],
                    &mut draws[chain * per_draws..(chain + CHAIN_LANES) * per_draws],
                );
                chain += CHAIN_LANES;
            }
            for c in chain..n_chains {
                let ctx = Site {
                    d: design,
                    samples,
                    h: &hyper[c],
                };
                run_one(
                    params,
                    &ctx,
                    batch.ids[site],
                    c,
                    &mut state[c * REG_STATE_STRIDE..(c + 1) * REG_STATE_STRIDE],
                    &mut draws[c * per_draws..(c + 1) * per_draws],
                );
            }
        });
}

fn run_one(
    params: &SiteParams,
    ctx: &Site,
    id: [u32; 2],
    chain: usize,
    state: &mut [f32],
    draws: &mut [f32],
) {
    let d = ctx.d;
    let (n, tested) = (d.n_coefs, d.tested);
    // The site's identity keys its random numbers (`rng::site_id`), never its index here.
    let site_pos = id[1];
    let key = [params.seed ^ id[0], chain as u32];
    let words = |step: usize, sweep: u32| {
        philox4x32_10(
            counter(step as u32, site_pos, sweep, Stream::SiteRegression, 0),
            key,
        )
    };
    let mut here = Point {
        gamma: [0.0; MAX_COEFS],
        z: ctx.h.site.m0,
        differ: false,
    };
    let mut recycled = [0.0f32; 3];
    let mut accepted = 0.0f32;
    // The log likelihood at `here`: kept in the state, so that a dispatch that goes on (each
    // of stage 1's sweeps) makes no pass for it, and stage 1's joint moves read it.
    let mut ll_here;
    if params.init != 0 {
        // The pooled proportion through the intercept (Q's first column is constant), then
        // each other free coordinate at its Newton mean.
        let (mut m, mut t) = (0.5f32, 1.0f32);
        for s in ctx.samples {
            m += s.methylated as f32;
            t += s.total as f32;
        }
        let p = (m / t).clamp(START_CLAMP, 1.0 - START_CLAMP);
        here.gamma[0] = (p / (1.0 - p)).ln() / d.basis[0];
        for k in 1..tested {
            here.gamma[k] = ctx.newton(k, &here, false, false)[0];
        }
        ll_here = ctx.pass(NO_COORD, &here, true)[2];
    } else {
        ll_here = state[REG_STATE_LOG_LIKELIHOOD];
        here.gamma[..n].copy_from_slice(&state[..n]);
        here.z = state[REG_STATE_LOG_PHI];
        here.differ = state[REG_STATE_DIFFER] != 0.0;
        recycled.copy_from_slice(&state[REG_STATE_RECYCLED..REG_STATE_RECYCLED + 3]);
        accepted = state[REG_STATE_ACCEPTED];
    }
    let mut lp_here = ll_here + ctx.log_prior(&here);
    let slots = d.draw_slots();
    for k in 0..params.warmup + params.n_draws {
        let sweep = params.first_sweep + k;
        // 1. The jump of the tested block between 0 and free.
        let jump = words(n + 1, sweep);
        let mut there = here;
        let mut log_q = 0.0f32;
        let (lp_there, ll_there);
        if here.differ {
            for t in tested..n {
                there.gamma[t] = 0.0;
            }
            there.differ = false;
            // The reverse proposal, built from the null point as the forward one would be;
            // its first pass is at the null point itself and gives that point's likelihood.
            let mut partial = there;
            let mut likelihood = 0.0f32;
            for t in tested..n {
                let [mean, precision, l] = ctx.newton(t, &partial, true, t == tested);
                if t == tested {
                    likelihood = l;
                }
                log_q += log_normal_density(here.gamma[t], mean, precision);
                partial.gamma[t] = here.gamma[t];
            }
            (lp_there, ll_there) = (likelihood + ctx.log_prior(&there), likelihood);
        } else {
            there.differ = true;
            for t in tested..n {
                let w = words(n + 2 + t - tested, sweep);
                let [mean, precision, _] = ctx.newton(t, &there, true, false);
                let value = mean + standard_normal(w[0], w[1]) / precision.sqrt();
                log_q -= log_normal_density(value, mean, precision);
                there.gamma[t] = value;
            }
            [lp_there, ll_there] = ctx.log_target(&there);
        }
        let log_ratio = lp_there - lp_here + log_q;
        if k >= params.warmup {
            let alpha = log_ratio.min(0.0).exp();
            let (i_there, i_here) = (ctx.indicators(&there), ctx.indicators(&here));
            for i in 0..3 {
                recycled[i] += alpha * i_there[i] + (1.0 - alpha) * i_here[i];
            }
        }
        if uniform_f32(jump[2]).ln() < log_ratio {
            here = there;
            (lp_here, ll_here) = (lp_there, ll_there);
            accepted += 1.0;
        }
        // 2. Each free coordinate by its Newton proposal; the reverse step's pass gives the
        // proposal's likelihood too.
        let free = if here.differ { n } else { tested };
        for c in 0..free {
            let w = words(c, sweep);
            let [mean, precision, _] = ctx.newton(c, &here, true, false);
            let value = mean + standard_normal(w[0], w[1]) / precision.sqrt();
            let mut there = here;
            there.gamma[c] = value;
            let [back, back_precision, likelihood] = ctx.newton(c, &there, true, true);
            let lp_there = likelihood + ctx.log_prior(&there);
            let log_ratio = lp_there - lp_here
                + log_normal_density(here.gamma[c], back, back_precision)
                - log_normal_density(value, mean, precision);
            if uniform_f32(w[2]).ln() < log_ratio {
                here = there;
                (lp_here, ll_here) = (lp_there, likelihood);
            }
        }
        // 3. log phi by a random walk.
        let w = words(n, sweep);
        let mut there = here;
        there.z += RW_LOG_PHI * standard_normal(w[0], w[1]);
        let [lp_there, ll_there] = ctx.log_target(&there);
        if uniform_f32(w[2]).ln() < lp_there - lp_here {
            here = there;
            (lp_here, ll_here) = (lp_there, ll_there);
        }
        if k >= params.warmup {
            let draw = (params.draw_offset + k - params.warmup) as usize;
            let row = &mut draws[draw * slots..(draw + 1) * slots];
            row[..d.n_levels].copy_from_slice(&ctx.level_mus(&here)[..d.n_levels]);
            row[d.n_levels] = ctx.beta(&here.gamma)[tested];
        }
    }
    state[..n].copy_from_slice(&here.gamma[..n]);
    state[REG_STATE_LOG_PHI] = here.z;
    state[REG_STATE_DIFFER] = f32::from(u8::from(here.differ));
    state[REG_STATE_LOG_LIKELIHOOD] = ll_here;
    state[REG_STATE_ACCEPTED] = accepted;
    state[REG_STATE_RECYCLED..REG_STATE_RECYCLED + 3].copy_from_slice(&recycled);
}

/// Each chain's beta-binomial log likelihood of one site's samples at its state's
/// coefficients (`states`: the site's chains, REG_STATE_STRIDE floats each) and log phi
/// `z(chain)`, as the passes sum it: chains four at a time in lanes, the rest by the twin, as
/// `site_regression` splits them. Stage 1's joint moves of every site's log phi
/// (methyl::hyper) weigh their proposals with it.
pub fn site_log_likelihoods(
    design: &RegressionDesign,
    samples: &[SiteSample],
    states: &[f32],
    z: impl Fn(usize) -> f32,
) -> Vec<f32> {
    let n_chains = states.len() / REG_STATE_STRIDE;
    let mut out = Vec::with_capacity(n_chains);
    let mut chain = 0;
    while chain + CHAIN_LANES <= n_chains {
        let lanes = site_log_likelihood_lanes(
            design,
            samples,
            &states[chain * REG_STATE_STRIDE..],
            std::array::from_fn(|l| z(chain + l)),
        );
        out.extend(lanes);
        chain += CHAIN_LANES;
    }
    let hyper = RegressionHyper::zeroed(); // the likelihood alone reads no prior
    let site = Site {
        d: design,
        samples,
        h: &hyper,
    };
    for c in chain..n_chains {
        let mut p = Point {
            gamma: [0.0; MAX_COEFS],
            z: z(c),
            differ: false,
        };
        p.gamma[..design.n_coefs]
            .copy_from_slice(&states[c * REG_STATE_STRIDE..][..design.n_coefs]);
        out.push(site.pass(NO_COORD, &p, true)[2]);
    }
    out
}

/// beta of a chain's state, or of its gamma (the coefficients in the design's order,
/// intercept first): R^-1 gamma.
pub fn state_coefficients(design: &RegressionDesign, state: &[f32]) -> [f32; MAX_COEFS] {
    let n = design.n_coefs;
    let mut beta = [0.0f32; MAX_COEFS];
    for (i, b) in beta.iter_mut().enumerate().take(n) {
        *b = (i..n).map(|k| design.to_beta[i * n + k] * state[k]).sum();
    }
    beta
}

//! The per-site update of the methylation model: CPU twin of `shaders/site_update.wgsl`
//! (same operations, same order, same random stream), the structs it shares with the
//! shader, and the GPU stage that runs it.

use bytemuck::{Pod, Zeroable};
use rayon::prelude::*;

use crate::betabinom::{beta_binomial_log_ratio, ln_beta_f32};
use crate::gpu::{dispatch_grid, Gpu, GpuError};
use crate::methyl::site_lanes::{run_lanes, CHAIN_LANES};
use crate::prior::ln_gamma;
use crate::rng::{counter, philox4x32_10, uniform_f32, Stream};
use crate::variates::{log_beta_variate, standard_normal, DrawSite};

/// Most groups a design may have (keep in sync with MAX_GROUPS in site_update.wgsl).
pub const MAX_GROUPS: usize = 8;
/// Floats of state per (site, chain), keep in sync with site_update.wgsl: logit mu per group,
/// log phi, each group's beta-binomial log likelihood at that point (so that a dispatch that
/// goes on from the state, as stage 1's do every sweep, need not evaluate it again), differ
/// (0 or 1), the dispatch's accepted independence steps, and the recycled sums of
/// P(delta > d), P(delta < -d) and P(differ) over the recorded sweeps so far.
pub const STATE_STRIDE: usize = 2 * MAX_GROUPS + 6;
pub(crate) const STATE_LOG_PHI: usize = MAX_GROUPS;
pub(crate) const STATE_LIKELIHOOD: usize = MAX_GROUPS + 1;
pub(crate) const STATE_DIFFER: usize = 2 * MAX_GROUPS + 1;
pub(crate) const STATE_ACCEPTED: usize = 2 * MAX_GROUPS + 2;
/// The three recycled sums.
pub const STATE_RECYCLED: usize = 2 * MAX_GROUPS + 3;
/// Random-walk step sd of each logit mu (keep in sync with site_update.wgsl).
pub(crate) const RW_LOGIT_MU: f32 = 0.5;
/// Degrees of freedom of log phi's Student-t prior: heavier-tailed than the Normal, so a site
/// far more variable than most is explained by its phi, not by a difference; at 4 its
/// chi-square is two exponentials (keep in sync).
pub const LOG_PHI_DOF: f32 = 4.0;
/// Degrees of freedom of the slab's Student-t: heavy-tailed, so that a large difference near
/// 0 or 1 (huge in logit) is not ruled out by the many small ones that set tau (keep in sync).
pub const SLAB_DOF: f32 = 2.0;
/// Probability that the independence step proposes "differ" (keep in sync).
pub(crate) const PROPOSE_DIFFER: f32 = 0.5;
/// Counter index of the independence step's second Philox block (chi-square and model
/// choice): past the random walks' 1 + g (keep in sync).
pub(crate) const MODEL_BLOCK: u32 = MAX_GROUPS as u32 + 1;
/// A log target and each group's beta-binomial log likelihood in it (keep in sync with Target
/// in site_update.wgsl).
#[derive(Clone, Copy)]
struct Target {
    total: f32,
    likelihood: [f32; MAX_GROUPS],
}

/// Uniform parameters of one site_update dispatch (keep in sync with SiteParams in
/// shaders/shared/site_layout.wgsl).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct SiteParams {
    pub seed: u32,
    pub n_sites: u32,
    pub n_chains: u32,
    pub n_groups: u32,
    /// Global number of the dispatch's first site: counter word 1 of its random numbers.
    pub site_offset: u32,
    pub first_sweep: u32,
    /// Sweeps run: `warmup` unrecorded, then `n_draws` recorded.
    pub warmup: u32,
    pub n_draws: u32,
    /// Nonzero: start from the proposal, not from the state.
    pub init: u32,
    /// Draws recorded per (site, chain) over the whole run, and how many came before this dispatch.
    pub draws_total: u32,
    pub draw_offset: u32,
    /// Nonzero: step 2, the random walk on each logit mu, follows the independence step
    /// (stage 2); stage 1 skips it (see `fit.rs`).
    pub random_walk: u32,
    /// The groups of delta = mu[compare_second] - mu[compare_first], and the d of the
    /// recycled P(delta > d) and P(delta < -d).
    pub compare_first: u32,
    pub compare_second: u32,
    pub threshold: f32,
    pub _pad: u32,
}

/// One chain's genome-wide prior of a site (keep in sync with SiteHyper in site_layout.wgsl):
/// group 0's mu (the level) ~ Beta(a, b), with its normalising ln B(a, b); log phi = m0 + s0 t,
/// t ~ Student-t(LOG_PHI_DOF); with prior probability e^log_same the groups share the level,
/// with e^log_differ each other group has logit mu_g = logit mu_0 + beta_g, beta_g tau times a
/// Student-t(SLAB_DOF): slab_inv_scale2 = 1 / (SLAB_DOF tau^2), ln_slab its log normaliser.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct SiteHyper {
    pub a: f32,
    pub b: f32,
    pub m0: f32,
    pub s0: f32,
    pub log_same: f32,
    pub log_differ: f32,
    pub ln_beta: f32,
    pub slab_inv_scale2: f32,
    pub ln_slab: f32,
    pub _pad: [f32; 3],
}

impl SiteHyper {
    /// From (a, b, m0, s0), w (the prior probability that a site's groups differ) and tau
    /// (the slab's sd of a difference in logit).
    pub fn new([a, b, m0, s0]: [f32; 4], w: f64, tau: f64) -> SiteHyper {
        let nu = f64::from(SLAB_DOF);
        SiteHyper {
            a,
            b,
            m0,
            s0,
            log_same: (-w).ln_1p() as f32,
            log_differ: w.ln() as f32,
            ln_beta: (ln_gamma(f64::from(a)) + ln_gamma(f64::from(b)) - ln_gamma(f64::from(a + b)))
                as f32,
            slab_inv_scale2: (1.0 / (nu * tau * tau)) as f32,
            ln_slab: (ln_gamma(0.5 * (nu + 1.0))
                - ln_gamma(0.5 * nu)
                - 0.5 * (nu * std::f64::consts::PI).ln()
                - tau.ln()) as f32,
            _pad: [0.0; 3],
        }
    }
}

/// One sample's counts at a site (keep in sync with SiteSample in site_layout.wgsl).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq, Eq)]
pub struct SiteSample {
    pub group: u32,
    pub methylated: u32,
    pub total: u32,
    pub _pad: u32,
}

/// The sites of one dispatch: samples in CSR form.
#[derive(Debug, Clone, Default)]
pub struct SiteBatch {
    pub samples: Vec<SiteSample>,
    /// len n_sites + 1.
    pub offsets: Vec<u32>,
}

impl SiteBatch {
    pub fn n_sites(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }
}

/// Outputs of one dispatch, sized by `SiteOutputs::new`.
pub struct SiteOutputs {
    /// Per (site, chain): STATE_STRIDE floats.
    pub state: Vec<f32>,
    /// mu per (site, chain, draw of the whole run, group).
    pub draws: Vec<f32>,
    /// (log mu_0, log(1 - mu_0), log phi, differ) per (site, chain): stage 1's statistics,
    /// with the logits in the state.
    pub stats: Vec<[f32; 4]>,
}

impl SiteOutputs {
    pub fn new(params: &SiteParams) -> SiteOutputs {
        let n = params.n_sites as usize * params.n_chains as usize;
        SiteOutputs {
            state: vec![0.0; n * STATE_STRIDE],
            draws: vec![0.0; n * params.draws_total as usize * params.n_groups as usize],
            stats: vec![[0.0; 4]; n],
        }
    }
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

/// Smallest shape of a beta-binomial term: mu phi underflows to 0 in f32 (the GPU flushes
/// below 2^-126), where the Stirling shifts would divide 0 by 0 (keep in sync with the shader).
pub(crate) const MIN_SHAPE: f32 = f32::MIN_POSITIVE;

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
    #[allow(clippy::needless_range_loop)] // indexed as the shader indexes
    fn likelihoods(&self, p: &Point) -> [f32; MAX_GROUPS] {
        let phi = p.z.exp();
        let mut likelihood = [0.0f32; MAX_GROUPS];
        let mut shapes = [[0.0f32; 2]; MAX_GROUPS];
        for g in 0..self.n_groups {
            shapes[g] = beta_binomial_shapes(p, phi, g);
        }
        for s in self.samples {
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
    let global_site = params.site_offset + site as u32;
    let key = [params.seed, chain as u32];
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
    if !fresh {
        let mut likelihood = [0.0f32; MAX_GROUPS];
        for g in 0..n_groups {
            [here.log_mu[g], here.log_1m[g]] = log_mu_pair(state[g]);
            likelihood[g] = state[STATE_LIKELIHOOD + g];
        }
        here.z = state[STATE_LOG_PHI];
        here.differ = state[STATE_DIFFER] != 0.0;
        recycled.copy_from_slice(&state[STATE_RECYCLED..STATE_RECYCLED + 3]);
        // The likelihoods were computed at the point before its logit round trip: an f32
        // rounding apart, well inside the beta-binomial's own error.
        lp_here = ctx.with_priors(&here, likelihood);
    }
    // The proposal at here's log phi (only an accepted independence step moves log phi).
    let mut q_here = ctx.proposal(here.z, here.differ);
    let mut accepted = 0.0f32;
    for k in 0..params.warmup + params.n_draws {
        let sweep = params.first_sweep + k;
        // 1. Independence proposal: log phi = m0 + s0 t, t a normal over the root of a
        // chi-square(4) / 4, that chi-square being -2 log(u1 u2).
        let words = site_words(0, global_site, sweep, key);
        let extra = site_words(MODEL_BLOCK, global_site, sweep, key);
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
                unit: global_site,
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
        // 2. Random walk on each logit mu_g, or on the shared mu (as group 0's step); its
        // target gains the Jacobian mu (1 - mu).
        let rw_groups = if params.random_walk != 0 { n_groups } else { 0 };
        for g in 0..rw_groups {
            if !here.differ && g > 0 {
                break;
            }
            let wg = site_words(1 + g as u32, global_site, sweep, key);
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
                    site,
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

/// The site_update shader on a GPU, with buffers for up to `max_sites` sites per dispatch.
pub struct SiteStageGpu<'g> {
    gpu: &'g Gpu,
    pipeline: wgpu::ComputePipeline,
    workgroup_size: u32,
    max_sites: usize,
    max_samples: usize,
    n_chains: usize,
    max_draw_floats: usize,
    params: wgpu::Buffer,
    samples: wgpu::Buffer,
    offsets: wgpu::Buffer,
    hyper: wgpu::Buffer,
    state: wgpu::Buffer,
    draws: wgpu::Buffer,
    stats: wgpu::Buffer,
    state_back: wgpu::Buffer,
    draws_back: wgpu::Buffer,
    stats_back: wgpu::Buffer,
    bind: wgpu::BindGroup,
}

/// The expanded, naga-validated shader (see build.rs).
pub const SITE_UPDATE_WGSL: &str = include_str!(concat!(env!("OUT_DIR"), "/site_update.wgsl"));

impl<'g> SiteStageGpu<'g> {
    /// Buffers for dispatches of up to `max_sites` sites holding up to `max_samples`
    /// samples, `n_chains` chains and `max_draws × n_groups` recorded values per (site, chain).
    pub fn new(
        gpu: &'g Gpu,
        max_sites: usize,
        max_samples: usize,
        n_chains: usize,
        max_draws: usize,
        n_groups: usize,
        workgroup_size: u32,
    ) -> Self {
        let pipeline = gpu.pipeline(
            "site_update",
            SITE_UPDATE_WGSL,
            &[("WORKGROUP_SIZE", f64::from(workgroup_size))],
        );
        let inv = max_sites * n_chains;
        let max_draw_floats = inv * max_draws * n_groups;
        let storage = |label, size: usize, extra: wgpu::BufferUsages| {
            gpu.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: (size as u64).max(16),
                usage: wgpu::BufferUsages::STORAGE | extra,
                mapped_at_creation: false,
            })
        };
        let input = wgpu::BufferUsages::COPY_DST;
        let output = wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
        let params = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("site params"),
            size: std::mem::size_of::<SiteParams>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let samples = storage("site samples", max_samples * 16, input);
        let offsets = storage("site offsets", (max_sites + 1) * 4, input);
        let hyper = storage(
            "site hyper",
            n_chains * std::mem::size_of::<SiteHyper>(),
            input,
        );
        let state = storage("site state", inv * STATE_STRIDE * 4, output);
        let draws = storage("site draws", max_draw_floats * 4, output);
        let stats = storage("site stats", inv * 16, output);
        let back = |label, size: usize| gpu.readback_buffer(label, size as u64);
        let state_back = back("site state readback", inv * STATE_STRIDE * 4);
        let draws_back = back("site draws readback", max_draw_floats * 4);
        let stats_back = back("site stats readback", inv * 16);
        let bind = gpu.bind_group(
            &pipeline,
            &[&params, &samples, &offsets, &hyper, &state, &draws, &stats],
        );
        SiteStageGpu {
            gpu,
            pipeline,
            workgroup_size,
            max_sites,
            max_samples,
            n_chains,
            max_draw_floats,
            params,
            samples,
            offsets,
            hyper,
            state,
            draws,
            stats,
            state_back,
            draws_back,
            stats_back,
            bind,
        }
    }

    /// Bytes of device memory per site at this configuration.
    pub fn bytes_per_site(&self) -> f64 {
        let inv = (self.max_sites * self.n_chains) as f64;
        let total = self.max_samples as f64 * 16.0
            + (self.max_sites as f64 + 1.0) * 4.0
            + inv * (STATE_STRIDE as f64 * 4.0 + 16.0) * 2.0
            + self.max_draw_floats as f64 * 4.0 * 2.0;
        total / self.max_sites as f64
    }

    /// One dispatch: the contract of `site_update` (the state is uploaded unless `params.init`).
    pub fn run(
        &self,
        params: &SiteParams,
        batch: &SiteBatch,
        hyper: &[SiteHyper],
        out: &mut SiteOutputs,
    ) -> Result<(), GpuError> {
        assert!(batch.n_sites() <= self.max_sites && batch.samples.len() <= self.max_samples);
        assert!(
            params.warmup + params.n_draws > 0,
            "a dispatch runs at least one sweep"
        );
        assert!(
            out.draws.len() <= self.max_draw_floats && params.n_chains as usize == self.n_chains
        );
        let q = &self.gpu.queue;
        q.write_buffer(&self.params, 0, bytemuck::bytes_of(params));
        if !batch.samples.is_empty() {
            q.write_buffer(&self.samples, 0, bytemuck::cast_slice(&batch.samples));
        }
        q.write_buffer(&self.offsets, 0, bytemuck::cast_slice(&batch.offsets));
        q.write_buffer(&self.hyper, 0, bytemuck::cast_slice(hyper));
        if params.init == 0 && !out.state.is_empty() {
            q.write_buffer(&self.state, 0, bytemuck::cast_slice(&out.state));
        }
        let mut encoder = self.gpu.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &self.bind, &[]);
            let n = u64::from(params.n_sites) * u64::from(params.n_chains);
            let (x, y) = dispatch_grid(n, self.workgroup_size);
            pass.dispatch_workgroups(x, y, 1);
        }
        let state_bytes = (out.state.len() * 4) as u64;
        let draws_bytes = (out.draws.len() * 4) as u64;
        let stats_bytes = (out.stats.len() * 16) as u64;
        for (src, dst, n) in [
            (&self.state, &self.state_back, state_bytes),
            (&self.draws, &self.draws_back, draws_bytes),
            (&self.stats, &self.stats_back, stats_bytes),
        ] {
            if n > 0 {
                encoder.copy_buffer_to_buffer(src, 0, dst, 0, n);
            }
        }
        q.submit([encoder.finish()]);
        self.gpu.read_into(&mut [
            (&self.state_back, bytemuck::cast_slice_mut(&mut out.state)),
            (&self.draws_back, bytemuck::cast_slice_mut(&mut out.draws)),
            (&self.stats_back, bytemuck::cast_slice_mut(&mut out.stats)),
        ])
    }
}

//! Stage 1: the genome-wide hyperparameters from a uniform sample of `hyper_sites` sites, by
//! the joint Gibbs sampler. Each sweep the device updates every site given the
//! hyperparameters and returns each site's level, log phi and state, and the host draws the
//! hyperparameters: (a, b) of the levels' Beta, (m0, s0) of log phi's t, w (the share of
//! sites whose groups differ) and tau (the slab's scale). Then a joint move of (m0, s0) with
//! every site's log phi, for either model (`joint_moves_of_chains`); docs/methyl-model.md.

use rayon::prelude::*;

use crate::kernels::cpu::site_lanes::log_gammas_keyed;
use crate::kernels::cpu::site_update::site_state_likelihoods;
use crate::kernels::gpu::GpuError;
use crate::kernels::regression_layout::NUISANCE_DOF;
use crate::kernels::site_layout::{
    SiteBatch, SiteHyper, SiteOutputs, SiteParams, LOG_PHI_DOF, MAX_GROUPS, SLAB_DOF,
    STATE_LIKELIHOOD, STATE_LOG_PHI, STATE_STRIDE,
};
use crate::kernels::stages::SiteStage;
use crate::math::max_or_nan;
use crate::mcmc::diagnostics::rhat;
use crate::mcmc::prior::HyperPrior;
use crate::mcmc::slice::slice_update;
use crate::methyl::merge::{Site, SiteMerger};
use crate::methyl::scan_sample::HyperSites;
use crate::methyl::site_stage::FitConfig;
use crate::rng::host_variates::{beta, gamma, normal};
use crate::rng::{Stream, UniformStream};

/// Prior of the Beta(a, b) of every mu, in mean/concentration form: mean ~ Beta(1, 1),
/// a + b ~ Gamma(1, 0.01) (mean 100): vague against thousands of sites.
pub(crate) const MU_HYPERPRIOR: HyperPrior = HyperPrior::MeanConcentration {
    a: 1.0,
    b: 1.0,
    shape: 1.0,
    rate: 0.01,
};
/// Inverse-Gamma(shape, scale) prior of s0^2, the squared scale of log phi's Student-t across
/// sites.
const LOG_PHI_VARIANCE_PRIOR: (f64, f64) = (1.0, 0.1);
/// Prior of m0 given s0: Normal(mean, s0^2 / weight), conjugate with s0^2's. A flat m0 made
/// the posterior improper (where every phi grows the likelihood tends to the binomial's, a
/// constant), which a few sites whose reads look binomial show: m0 drifted to 835 on 2
/// sites. The weight of a tenth of a site is nothing against stage 1's 2,000; the mean is a
/// phi of 20.
const LOG_PHI_CENTRE_PRIOR: (f64, f64) = (3.0, 0.1);
/// Beta prior of w, the share of sites whose groups differ: uniform, as thousands of sites
/// outweigh it.
const DIFFER_PRIOR: (f64, f64) = (1.0, 1.0);
/// Inverse-Gamma(shape, scale) prior of tau^2, the squared scale of the slab's Student-t of a
/// difference in logit: mean 1.1, sd 0.4, so "differ" means a difference worth calling (1 in
/// logit is 0.2 around a level of 0.5). A vague prior (2, 1) let the slab shrink onto "same",
/// where w and tau trade off along a ridge and w crawled (24% -> 30% from 200 to 1,000
/// warm-up sweeps on the benchmark's simulator; 13.4% -> 13.1% with this prior).
const SLAB_VARIANCE_PRIOR: (f64, f64) = (10.0, 10.0);
/// Overdispersed starting hyperparameters, chain c of C at t = (c + 1/2) / C: mu's Beta with
/// mean 1/2 and concentration 0.5 to 10, m0 from 0 to 5 (phi 1 to 150), s0 from 0.5 to 4,
/// w from 0.5 down to 0.02 and tau from 2 down to 0.25: chains that start apart and still
/// agree have forgotten where they started (Gelman–Rubin).
fn initial_hyper(chain: usize, n_chains: usize) -> [f64; 6] {
    let t = (chain as f64 + 0.5) / n_chains as f64;
    let concentration = 0.5 * 20f64.powf(t);
    [
        0.5 * concentration,
        0.5 * concentration,
        5.0 * t,
        0.5 * 8f64.powf(1.0 - t),
        0.5 * 25f64.powf(-t),
        2.0 * 8f64.powf(-t),
    ]
}

/// Names of the hyperparameters in `Hyper::mean` and `Hyper::sd`, for reports.
pub const HYPER_NAMES: [&str; 6] = ["a", "b", "m0", "s0", "w", "tau"];

/// w is kept this far from 0 and 1, so that ln w and ln(1 - w) stay finite in f32.
const W_BOUND: f64 = 1e-9;

/// Hyperparameters (a, b, m0, s0, w, tau) as the shader takes them.
pub(crate) fn site_hyper(h: &[f64; 6]) -> SiteHyper {
    let w = h[4].clamp(W_BOUND, 1.0 - W_BOUND);
    SiteHyper::new([h[0], h[1], h[2], h[3]].map(|x| x as f32), w, h[5])
}

/// Slice width of the (a, b) update in its unconstrained coordinates.
const HYPER_SLICE_WIDTH: f64 = 0.5;

/// Stage 1's result: one hyperparameter draw (a, b, m0, s0, w) per chain, and their posterior
/// means and sds over the kept sweeps, for the record.
#[derive(Debug, Clone)]
pub struct Hyper {
    pub per_chain: Vec<SiteHyper>,
    pub mean: [f64; 6],
    pub sd: [f64; 6],
    pub sites: usize,
    /// The largest R-hat of the six across the chains' kept sweeps.
    pub max_r_hat: f64,
    /// How far apart the chains' priors are: the largest difference between two chains'
    /// kept-sweep means of the prior's centre or spread (mean and sd of mu's Beta; m0 and s0
    /// of log phi's t), in units of that prior's sd. What the sites' posteriors feel. (w and
    /// tau are left out: few sites inform them, their posteriors are wide and their chains
    /// crawl across them, so the chains differ by their posterior's width, not by where they
    /// started; `w_range` reports w's.)
    pub prior_spread: f64,
    /// The smallest and largest of the chains' kept-sweep means of w.
    pub w_range: (f64, f64),
    /// A design's nuisance coefficients' prior scales per chain (index 0, the intercept's,
    /// unused), and their means over the kept sweeps; empty for the groups model.
    pub nuisance: Vec<Vec<f64>>,
    pub nuisance_mean: Vec<f64>,
}

/// The prior-scale difference between two chains' mean hyperparameters (see `Hyper::prior_spread`).
fn prior_difference(x: [f64; 6], y: [f64; 6]) -> f64 {
    let beta_moments = |h: [f64; 6]| {
        let (a, b) = (h[0], h[1]);
        let mean = a / (a + b);
        (mean, (mean * (1.0 - mean) / (a + b + 1.0)).sqrt())
    };
    let ((mx, sx), (my, sy)) = (beta_moments(x), beta_moments(y));
    let sd_mu = 0.5 * (sx + sy);
    let sd_z = 0.5 * (x[3] + y[3]);
    [
        (mx - my).abs() / sd_mu,
        (sx - sy).abs() / sd_mu,
        (x[2] - y[2]).abs() / sd_z,
        (x[3] - y[3]).abs() / sd_z,
    ]
    .into_iter()
    .fold(0.0, f64::max)
}

/// One chain's stage-1 sites: `Σ log mu_0` and `Σ log(1 - mu_0)` of their levels, each
/// site's log phi, how many sites' groups differ, and those sites' differences in logit.
#[derive(Default)]
pub(crate) struct SiteStats {
    pub sum_log: f64,
    pub sum_log1m: f64,
    pub log_phi: Vec<f64>,
    pub n_differ: f64,
    pub differences: Vec<f64>,
    /// Per nuisance coefficient (1, 2, ...), its value at every site.
    pub nuisance: Vec<Vec<f64>>,
}

/// Where a chain's t weights are drawn in a sweep: the Hyper stream under (seed, chain), at a
/// unit of its own per scale mixture (`*_WEIGHT_UNIT`), so that the weights never depend on
/// how many values there are or on the threads.
#[derive(Clone, Copy)]
struct WeightKey {
    seed: u32,
    chain: u32,
    sweep: u32,
}

/// Units of the t weights' counters, below the sequential hyperparameter streams' u32::MAX:
/// log phi's, the slab's, and each nuisance coefficient's from NUISANCE_WEIGHT_UNIT down.
const LOG_PHI_WEIGHT_UNIT: u32 = u32::MAX - 1;
const SLAB_WEIGHT_UNIT: u32 = u32::MAX - 2;
const NUISANCE_WEIGHT_UNIT: u32 = u32::MAX - 3;

/// The weights of values x_i of a scale-mixture Student-t(nu) with scale s: for x / s |
/// lambda ~ Normal(0, 1 / lambda), lambda ~ Gamma(nu / 2, rate nu / 2), a draw of lambda_i |
/// x_i ~ Gamma((nu + 1) / 2, rate (nu + (x_i / s)^2) / 2). Each value's Gamma variate is keyed
/// by its index, four drawn at a time (`site_lanes::log_gammas_keyed`): stage 1 draws thousands
/// per chain every sweep (one by one in f64, 0.04 s more of stage 1's 0.5 s on DSS's example).
fn t_weights(values: &[f64], scale: f64, nu: f64, unit: u32, key: WeightKey) -> Vec<f64> {
    let shape = (0.5 * (nu + 1.0)) as f32;
    let log_g = log_gammas_keyed(
        shape,
        values.len(),
        (unit, key.sweep),
        [key.seed, key.chain],
        Stream::Hyper,
    );
    values
        .iter()
        .zip(log_g)
        .map(|(&x, lg)| {
            let u = x / scale;
            f64::from(lg).exp() / (0.5 * (nu + u * u))
        })
        .collect()
}

/// Draw one chain's hyperparameters (a, b, m0, s0, w, tau) given its sites.
fn update_hyper(
    h: &mut [f64; 6],
    ab_z: &mut [f64; 2],
    stats: &SiteStats,
    key: WeightKey,
    rng: &mut UniformStream,
) {
    let n_sites = stats.log_phi.len() as f64;
    let log_f =
        |z: [f64; 2]| MU_HYPERPRIOR.log_conditional(z, n_sites, stats.sum_log, stats.sum_log1m);
    let mut here = log_f(*ab_z);
    for k in 0..2 {
        let z = *ab_z;
        let f = |x: f64| {
            let mut moved = z;
            moved[k] = x;
            log_f(moved)
        };
        let (x1, f1) = slice_update(z[k], here, HYPER_SLICE_WIDTH, f, rng);
        ab_z[k] = x1;
        here = f1;
    }
    let (a, b) = MU_HYPERPRIOR.alpha_beta(*ab_z);
    // log phi_i = m0 + s0 t_i with t_i Student-t: draw each site's weight lambda_i given it,
    // then the weighted Normal-Inverse-Gamma: s0^2 | lambda, z ~ InvGamma, m0 | s0^2 ~ Normal,
    // with m0's prior as LOG_PHI_CENTRE_PRIOR sites' worth of data at its mean.
    let nu = f64::from(LOG_PHI_DOF);
    let (m0, s0) = (h[2], h[3]);
    let centred: Vec<f64> = stats.log_phi.iter().map(|&z| z - m0).collect();
    let lambda = t_weights(&centred, s0, nu, LOG_PHI_WEIGHT_UNIT, key);
    let weight: f64 = lambda.iter().sum();
    let mean = lambda
        .iter()
        .zip(&stats.log_phi)
        .map(|(l, z)| l * z)
        .sum::<f64>()
        / weight;
    let ss: f64 = lambda
        .iter()
        .zip(&stats.log_phi)
        .map(|(l, z)| l * (z - mean).powi(2))
        .sum();
    let (shape, scale) = LOG_PHI_VARIANCE_PRIOR;
    let (centre, kappa) = LOG_PHI_CENTRE_PRIOR;
    let posterior_weight = weight + kappa;
    let ss = ss + kappa * weight / posterior_weight * (mean - centre).powi(2);
    let mean = (weight * mean + kappa * centre) / posterior_weight;
    let variance = (scale + 0.5 * ss) / gamma(shape + 0.5 * n_sites, rng);
    let m0 = mean + (variance / posterior_weight).sqrt() * normal(rng);
    // w | the sites' indicators ~ Beta.
    let (wa, wb) = DIFFER_PRIOR;
    let w = beta(wa + stats.n_differ, wb + n_sites - stats.n_differ, rng);
    // tau^2 | the differences: the slab's t as a scale mixture too, a weight given each
    // difference, then tau^2 | the weights ~ InvGamma.
    let slab = (SLAB_DOF, SLAB_VARIANCE_PRIOR, SLAB_WEIGHT_UNIT);
    let tau = update_scale(h[5], &stats.differences, slab, key, rng);
    *h = [a, b, m0, variance.sqrt(), w, tau];
}

/// A site model as stage 1 runs it: every site swept once given each chain's priors, then
/// each chain's statistics of its sites.
pub(crate) trait Stage1Sites: Sync {
    fn sweep(
        &mut self,
        sweep: u32,
        hyper: &[[f64; 6]],
        nuisance: &[Vec<f64>],
    ) -> Result<(), GpuError>;
    fn stats(&self, chain: usize) -> SiteStats;
    fn n_sites(&self) -> usize;
    /// Coefficients under the nuisance prior: `1..this` (none for the groups model).
    fn nuisance_end(&self) -> usize {
        1
    }
    /// Sweeps per joint move of (m0, s0) with the sites' log phi (`joint_moves_of_chains`):
    /// every sweep unless the model says otherwise (the design model does not).
    fn joint_move_period(&self) -> u32 {
        1
    }
    /// Each site's log phi in `chain`, which stage 1's joint moves of (m0, s0) move with them.
    fn log_phi(&self, chain: usize) -> Vec<f32>;
    /// Each site's log likelihood at `chain`'s state, as the last sweep left it.
    fn log_likelihoods(&self, chain: usize) -> Vec<f32>;
    /// Per chain, each site's log likelihood at log phi `z[chain][site]` (which the model may
    /// keep for `set_log_phi`).
    fn log_likelihoods_at(&mut self, z: &[Vec<f32>]) -> Vec<Vec<f32>>;
    /// Moves `chain`'s sites to log phi `z`, where the last `log_likelihoods_at` found their
    /// log likelihoods `log_likelihoods`.
    fn set_log_phi(&mut self, chain: usize, z: &[f32], log_likelihoods: &[f32]);
}

/// Starting sd of the joint move's shift of m0 and of its log scale of s0; warm-up adapts it.
const JOINT_MOVE_START_SD: f64 = 0.05;
/// Acceptance rate the joint move's sd is adapted towards in warm-up (Robbins–Monro).
const JOINT_MOVE_ACCEPTANCE: f64 = 0.3;

/// log density of (m0, s0) under their prior, up to a constant: s0^2 ~
/// InvGamma(LOG_PHI_VARIANCE_PRIOR) (in s0), m0 | s0 ~ Normal(LOG_PHI_CENTRE_PRIOR).
fn log_m0_s0_prior(m0: f64, s0: f64) -> f64 {
    let (shape, scale) = LOG_PHI_VARIANCE_PRIOR;
    let (centre, kappa) = LOG_PHI_CENTRE_PRIOR;
    let v = s0 * s0;
    // The Jacobian of v = s0^2 (2 s0) and m0's Normal's 1 / s0 cancel.
    -(shape + 1.0) * v.ln() - scale / v - 0.5 * kappa * (m0 - centre).powi(2) / v
}

/// The groups model's stage 1 moves (m0, s0) every other sweep: a pass of the moves'
/// likelihoods costs about a third of its sweep of a few samples, and on 50,000 simulated
/// 2 x 2 sites every sweep and every other one reached the same priors (docs/methyl-model.md).
const GROUP_JOINT_MOVE_PERIOD: u32 = 2;

/// The groups model's stage 1: the site update on `batch`.
pub(crate) struct GroupSites<'a, 'g> {
    pub stage: &'a SiteStage<'g>,
    pub batch: &'a SiteBatch,
    pub params: SiteParams,
    pub out: SiteOutputs,
    pub n_groups: usize,
    /// Each invocation's groups' log likelihoods at the last joint move's proposal, for the
    /// accepted chains' states (the trait's sums cannot refill the groups' terms).
    proposal_likelihoods: Vec<[f32; MAX_GROUPS]>,
}

impl<'a, 'g> GroupSites<'a, 'g> {
    pub(crate) fn new(
        stage: &'a SiteStage<'g>,
        batch: &'a SiteBatch,
        n_groups: usize,
        config: &FitConfig,
    ) -> Self {
        let params = stage1_params(config, batch.n_sites(), n_groups);
        let out = SiteOutputs::new(&params);
        GroupSites {
            stage,
            batch,
            params,
            out,
            n_groups,
            proposal_likelihoods: Vec::new(),
        }
    }
}

/// Stage 1's dispatch: one unrecorded sweep of every site, the first from the proposal.
pub(crate) fn stage1_params(config: &FitConfig, n_sites: usize, n_groups: usize) -> SiteParams {
    SiteParams {
        seed: config.seed,
        n_sites: n_sites as u32,
        n_chains: config.chains,
        n_groups: n_groups as u32,
        first_sweep: 0,
        warmup: 1,
        n_draws: 0,
        init: 1,
        draws_total: 0,
        draw_offset: 0,
        // The random walk moves a site's mus, not the hyperparameters, whose crawl is stage 1's
        // bottleneck: without it stage 1 costs 30% less, its chains agree as closely (docs/perf-notes.md).
        random_walk: 0,
        // Stage 1 records no draws, so no recycled sums either.
        compare_first: 0,
        compare_second: 0,
        threshold: 0.0,
        _pad: [0; 2],
    }
}

impl Stage1Sites for GroupSites<'_, '_> {
    fn sweep(&mut self, sweep: u32, hyper: &[[f64; 6]], _: &[Vec<f64>]) -> Result<(), GpuError> {
        self.params.first_sweep = sweep;
        let hyper32: Vec<SiteHyper> = hyper.iter().map(site_hyper).collect();
        self.stage
            .run(&self.params, self.batch, &hyper32, &mut self.out)?;
        self.params.init = 0;
        Ok(())
    }

    fn stats(&self, chain: usize) -> SiteStats {
        let n_chains = self.params.n_chains as usize;
        let mut stats = SiteStats::default();
        for site in 0..self.batch.n_sites() {
            let invocation = site * n_chains + chain;
            let [l, l1m, z, differ] = self.out.stats[invocation].map(f64::from);
            stats.sum_log += l;
            stats.sum_log1m += l1m;
            stats.log_phi.push(z);
            if differ != 0.0 {
                stats.n_differ += 1.0;
                let logits = &self.out.state[invocation * STATE_STRIDE..][..self.n_groups];
                for logit in &logits[1..] {
                    stats.differences.push(f64::from(logit - logits[0]));
                }
            }
        }
        stats
    }

    fn n_sites(&self) -> usize {
        self.batch.n_sites()
    }

    fn joint_move_period(&self) -> u32 {
        GROUP_JOINT_MOVE_PERIOD
    }

    fn log_phi(&self, chain: usize) -> Vec<f32> {
        self.chain_states(chain).map(|s| s[STATE_LOG_PHI]).collect()
    }

    fn log_likelihoods(&self, chain: usize) -> Vec<f32> {
        let n_groups = self.n_groups;
        self.chain_states(chain)
            .map(|s| s[STATE_LIKELIHOOD..][..n_groups].iter().sum())
            .collect()
    }

    fn log_likelihoods_at(&mut self, z: &[Vec<f32>]) -> Vec<Vec<f32>> {
        let (n_chains, n_groups) = (self.params.n_chains as usize, self.n_groups);
        let (batch, state) = (self.batch, &self.out.state);
        let per_site = |site: usize| {
            let states = &state[site * n_chains * STATE_STRIDE..][..n_chains * STATE_STRIDE];
            let samples =
                &batch.samples[batch.offsets[site] as usize..batch.offsets[site + 1] as usize];
            site_state_likelihoods(samples, n_groups, states, |c| z[c][site])
        };
        self.proposal_likelihoods = (0..batch.n_sites())
            .into_par_iter()
            .with_min_len(64)
            .flat_map_iter(per_site)
            .collect();
        (0..n_chains)
            .map(|chain| {
                self.proposal_likelihoods[chain..]
                    .iter()
                    .step_by(n_chains)
                    .map(|groups| groups[..n_groups].iter().sum())
                    .collect()
            })
            .collect()
    }

    // The sums passed in were made from `proposal_likelihoods`, which hold the groups' terms.
    fn set_log_phi(&mut self, chain: usize, z: &[f32], _: &[f32]) {
        let (n_chains, n_groups) = (self.params.n_chains as usize, self.n_groups);
        for (site, &z) in z.iter().enumerate() {
            let invocation = site * n_chains + chain;
            let state = &mut self.out.state[invocation * STATE_STRIDE..][..STATE_STRIDE];
            state[STATE_LOG_PHI] = z;
            state[STATE_LIKELIHOOD..][..n_groups]
                .copy_from_slice(&self.proposal_likelihoods[invocation][..n_groups]);
        }
    }
}

impl GroupSites<'_, '_> {
    /// Each site's state in `chain` (the last chunk is shorter, but still holds chain's state).
    fn chain_states(&self, chain: usize) -> impl Iterator<Item = &[f32]> {
        let n_chains = self.params.n_chains as usize;
        self.out.state[chain * STATE_STRIDE..]
            .chunks(n_chains * STATE_STRIDE)
            .map(|s| &s[..STATE_STRIDE])
    }
}

/// Inverse-Gamma(shape, scale) prior of a nuisance coefficient's squared scale: weakly
/// informative (median about 0.15 in logit), as thousands of sites outweigh it.
const NUISANCE_VARIANCE_PRIOR: (f64, f64) = (1.0, 0.1);
/// Starting scale of every nuisance coefficient's t, in logit.
const NUISANCE_START: f64 = 1.0;

/// Stage 1: the joint sampler on a uniform sample of sites, hyperparameters updated every
/// sweep. (A pilot on a quarter of the sites for the first warm-up sweeps was tried: on
/// simulated studies the chains' priors then disagreed by up to 0.8 prior sds.)
pub(crate) fn learn_hyper(
    sites: &mut dyn Stage1Sites,
    config: &FitConfig,
) -> Result<Hyper, GpuError> {
    let n_chains = config.chains as usize;
    let mut h: Vec<[f64; 6]> = (0..n_chains).map(|c| initial_hyper(c, n_chains)).collect();
    let mut ab_z: Vec<[f64; 2]> = h
        .iter()
        .map(|h| [(h[0] / h[1]).ln(), (h[0] + h[1]).ln()])
        .collect();
    let nuisance_end = sites.nuisance_end();
    let mut nuisance: Vec<Vec<f64>> = vec![vec![NUISANCE_START; nuisance_end]; n_chains];
    let mut kept: Vec<[f64; 6]> = Vec::new();
    let mut nuisance_sum = vec![0.0f64; nuisance_end];
    let mut move_sd = vec![[JOINT_MOVE_START_SD; JOINT_MOVES]; n_chains];
    for sweep in 0..config.hyper_warmup + config.hyper_draws {
        sites.sweep(sweep, &h, &nuisance)?;
        let view = &*sites;
        // Each chain's hyperparameters given its sites, the chains on all cores (each draws a
        // latent per site for the t priors).
        h.par_iter_mut()
            .zip(ab_z.par_iter_mut())
            .zip(nuisance.par_iter_mut())
            .enumerate()
            .for_each(|(chain, ((h, ab_z), nuisance))| {
                let stats = view.stats(chain);
                // Hyperparameter streams: unit u32::MAX is no site's.
                let mut rng = UniformStream::new(
                    config.seed,
                    chain as u32,
                    1,
                    u32::MAX,
                    sweep,
                    Stream::Hyper,
                );
                let key = WeightKey {
                    seed: config.seed,
                    chain: chain as u32,
                    sweep,
                };
                update_hyper(h, ab_z, &stats, key, &mut rng);
                for (k, values) in stats.nuisance.iter().enumerate() {
                    let unit = NUISANCE_WEIGHT_UNIT - k as u32;
                    let prior = (NUISANCE_DOF, NUISANCE_VARIANCE_PRIOR, unit);
                    nuisance[k + 1] = update_scale(nuisance[k + 1], values, prior, key, &mut rng);
                }
            });
        if sweep % sites.joint_move_period() == 0 {
            joint_moves_of_chains(sites, &mut h, &mut move_sd, sweep, config);
        }
        if sweep >= config.hyper_warmup {
            kept.extend_from_slice(&h);
            for n in &nuisance {
                for (sum, v) in nuisance_sum.iter_mut().zip(n) {
                    *sum += v / (n_chains as f64 * f64::from(config.hyper_draws));
                }
            }
        }
    }
    let mut hyper = summarize_hyper(&h, &kept, n_chains, sites.n_sites());
    hyper.nuisance = nuisance;
    hyper.nuisance_mean = nuisance_sum;
    Ok(hyper)
}

/// Stage 1's joint moves of log phi's prior with every site's log phi: m0 shifted by delta,
/// or s0 scaled by c, each site's log phi moved with them so that its standardised value
/// (z - m0) / s0 stays. The Gibbs draws of (m0, s0) given the sites crawl where the data say
/// little of each site's phi (s0 near 0.2 against a site's posterior sd near 0.5, as with 16
/// samples); these moves go along that funnel. delta and log c are drawn symmetric; the t
/// densities give c^-n and the map's Jacobian c^(n+1), so the Metropolis–Hastings log ratio
/// is the likelihoods' change plus `prior_change`. The two are separate moves, each with its
/// own step, because the sites pin m0 far more tightly than s0.
struct JointMove {
    m0: f64,
    s0: f64,
    z: Vec<f32>,
    /// The change of (m0, s0)'s prior, and log c.
    prior_change: f64,
}

/// The joint moves: a shift of m0 (even moves), a scale of s0 (odd moves).
const JOINT_MOVES: usize = 2;

fn propose_joint_move(
    kind: usize,
    z: &[f32],
    (m0, s0): (f64, f64),
    sd: f64,
    rng: &mut UniformStream,
) -> JointMove {
    let step = sd * normal(rng);
    let (delta, log_c) = if kind == 0 { (step, 0.0) } else { (0.0, step) };
    let c = log_c.exp();
    let (m1, s1) = (m0 + delta, s0 * c);
    JointMove {
        m0: m1,
        s0: s1,
        z: z.iter()
            .map(|&z| (m1 + c * (f64::from(z) - m0)) as f32)
            .collect(),
        prior_change: log_m0_s0_prior(m1, s1) - log_m0_s0_prior(m0, s0) + log_c,
    }
}

/// Every chain's joint move of this sweep (the likelihoods on all cores, four chains at a
/// time); in warm-up each move's step is adapted per chain towards JOINT_MOVE_ACCEPTANCE.
fn joint_moves_of_chains(
    sites: &mut dyn Stage1Sites,
    h: &mut [[f64; 6]],
    move_sd: &mut [[f64; JOINT_MOVES]],
    sweep: u32,
    config: &FitConfig,
) {
    let n_chains = h.len();
    let here: Vec<Vec<f32>> = (0..n_chains).map(|chain| sites.log_phi(chain)).collect();
    // Summed in site order, so that the decisions never depend on the threads.
    let total = |l: &[f32]| l.iter().map(|&v| f64::from(v)).sum::<f64>();
    let l_here: Vec<f64> = (0..n_chains)
        .map(|chain| total(&sites.log_likelihoods(chain)))
        .collect();
    let mut rngs: Vec<UniformStream> = (0..n_chains)
        .map(|chain| {
            UniformStream::new(config.seed, chain as u32, 2, u32::MAX, sweep, Stream::Hyper)
        })
        .collect();
    // One of the two a move, in turn: each costs one pass over the sites' samples, at the
    // proposal (the current point's likelihoods are kept in the sites' states).
    let index = sweep / sites.joint_move_period();
    let kind = index as usize % JOINT_MOVES;
    let mut moves: Vec<JointMove> = (0..n_chains)
        .map(|c| {
            let at = (h[c][2], h[c][3]);
            propose_joint_move(kind, &here[c], at, move_sd[c][kind], &mut rngs[c])
        })
        .collect();
    let there: Vec<Vec<f32>> = moves.iter_mut().map(|m| std::mem::take(&mut m.z)).collect();
    let l_there = sites.log_likelihoods_at(&there);
    for (chain, ((m, z), l)) in moves.into_iter().zip(there).zip(l_there).enumerate() {
        let log_ratio = total(&l) - l_here[chain] + m.prior_change;
        let accepted = rngs[chain].next_f64().ln() < log_ratio;
        if accepted {
            (h[chain][2], h[chain][3]) = (m.m0, m.s0);
            sites.set_log_phi(chain, &z, &l);
        }
        if sweep < config.hyper_warmup {
            // Robbins–Monro on the log step, its gain shrinking as warm-up goes on.
            let gain = 1.0 / (1.0 + f64::from(index / JOINT_MOVES as u32)).sqrt();
            let hit = if accepted { 1.0 } else { 0.0 };
            move_sd[chain][kind] *= (gain * (hit - JOINT_MOVE_ACCEPTANCE)).exp();
        }
    }
}

/// A scale's draw given values of its scale-mixture Student-t(nu): each value's weight, then
/// the squared scale | the weights ~ InvGamma with prior (shape, scale).
fn update_scale(
    scale: f64,
    values: &[f64],
    (nu, (shape, prior_scale), unit): (f32, (f64, f64), u32),
    key: WeightKey,
    rng: &mut UniformStream,
) -> f64 {
    let weights = t_weights(values, scale, f64::from(nu), unit, key);
    let ss: f64 = values.iter().zip(weights).map(|(&x, l)| l * x * x).sum();
    ((prior_scale + 0.5 * ss) / gamma(shape + 0.5 * values.len() as f64, rng)).sqrt()
}

/// Stage 1's result from the chains' last hyperparameters and their kept sweeps (sweep-major).
fn summarize_hyper(h: &[[f64; 6]], kept: &[[f64; 6]], n_chains: usize, n_sites: usize) -> Hyper {
    let mut mean = [0.0; 6];
    let mut sd = [0.0; 6];
    let mut max_r_hat = f64::NEG_INFINITY;
    for k in 0..6 {
        let values: Vec<f64> = kept.iter().map(|v| v[k]).collect();
        let m = values.iter().sum::<f64>() / values.len().max(1) as f64;
        let var =
            values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (values.len().max(2) - 1) as f64;
        (mean[k], sd[k]) = (m, var.sqrt());
        // `kept` is sweep-major: chain c's draws are every n_chains-th value.
        let chains: Vec<Vec<f64>> = (0..n_chains)
            .map(|c| values.iter().skip(c).step_by(n_chains).copied().collect())
            .collect();
        let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
        // Too few kept sweeps to split leave R-hat unknown, not the others' largest (with
        // none, -inf in the run's warning).
        max_r_hat = max_or_nan(max_r_hat, rhat(&refs));
    }
    // Each chain's mean hyperparameters over its kept sweeps (`kept` is sweep-major).
    let chain_means: Vec<[f64; 6]> = (0..n_chains)
        .map(|c| {
            let mine: Vec<&[f64; 6]> = kept.iter().skip(c).step_by(n_chains).collect();
            let mut m = [0.0; 6];
            for v in &mine {
                for k in 0..6 {
                    m[k] += v[k] / mine.len() as f64;
                }
            }
            m
        })
        .collect();
    let mut prior_spread: f64 = 0.0;
    for (i, x) in chain_means.iter().enumerate() {
        for y in &chain_means[i + 1..] {
            prior_spread = prior_spread.max(prior_difference(*x, *y));
        }
    }
    let w_means = chain_means.iter().map(|m| m[4]);
    let w_range = (
        w_means.clone().fold(f64::INFINITY, f64::min),
        w_means.fold(f64::NEG_INFINITY, f64::max),
    );
    Hyper {
        prior_spread,
        w_range,
        per_chain: h.iter().map(site_hyper).collect(),
        mean,
        sd,
        sites: n_sites,
        max_r_hat,
        nuisance: Vec::new(),
        nuisance_mean: Vec::new(),
    }
}

/// Stage 1's sites (`hyper.of` the merge's sites), uniformly at random, in one pass with
/// memory for `hyper.most` sites (reservoir sampling, Vitter's algorithm R), then a random
/// subset of that once the count is known: stage 1's sites must represent the genome, and
/// the first sites of a chromosome do not (neighbouring CpGs are alike).
pub(crate) fn reservoir_sample(
    merger: &mut SiteMerger,
    hyper: HyperSites,
    seed: u32,
    head: usize,
) -> Result<(Vec<Site>, Option<Vec<Site>>), crate::error::UserError> {
    let k = hyper.most;
    let mut sample = Vec::with_capacity(k);
    // Every site while there are at most `head` of them: a study that fits in one chunk is
    // then fitted without a second pass over its files.
    let mut all: Option<Vec<Site>> = Some(Vec::new());
    let mut rng = UniformStream::new(seed, u32::MAX, 0, 0, 0, Stream::Init);
    let mut seen = 0u64;
    while let Some(site) = merger.next_site()? {
        if let Some(sites) = all.as_mut() {
            if sites.len() < head {
                sites.push(site.clone());
            } else {
                all = None;
            }
        }
        if sample.len() < k {
            sample.push(site);
        } else {
            let j = (rng.next_f64() * (seen + 1) as f64) as u64;
            if (j as usize) < k {
                sample[j as usize] = site;
            }
        }
        seen += 1;
    }
    // A uniform subset of a uniform sample (Fisher-Yates' first steps), in the sample's order.
    let wanted = hyper.of(seen);
    if wanted < sample.len() {
        let n = sample.len();
        let mut index: Vec<usize> = (0..n).collect();
        for i in 0..wanted {
            let j = i + (rng.next_f64() * (n - i) as f64) as usize;
            index.swap(i, j.min(n - 1));
        }
        let mut keep = vec![false; sample.len()];
        for &i in &index[..wanted] {
            keep[i] = true;
        }
        let mut flags = keep.into_iter();
        sample.retain(|_| flags.next().unwrap_or(false));
    }
    Ok((sample, all))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joint_moves_keep_each_site_standardised() {
        let z = [3.1f32, 4.0, 4.6, 2.2];
        let (m0, s0) = (3.9, 0.25);
        let mut rng = UniformStream::new(7, 0, 2, u32::MAX, 0, Stream::Hyper);
        for kind in 0..JOINT_MOVES {
            let m = propose_joint_move(kind, &z, (m0, s0), 0.3, &mut rng);
            // A shift moves m0 alone, a scale s0 alone.
            assert_eq!(kind == 0, m.m0 != m0);
            assert_eq!(kind == 1, m.s0 != s0);
            for (before, after) in z.iter().zip(&m.z) {
                let (u, v) = (
                    (f64::from(*before) - m0) / s0,
                    (f64::from(*after) - m.m0) / m.s0,
                );
                assert!((u - v).abs() < 1e-5, "kind {kind}: {u} -> {v}");
            }
            // The reverse move's prior change is this one's, negated: log c and the prior of
            // (m0, s0).
            let c = m.s0 / s0;
            let back = log_m0_s0_prior(m0, s0) - log_m0_s0_prior(m.m0, m.s0) + (1.0 / c).ln();
            assert!((m.prior_change + back).abs() < 1e-12);
        }
    }

    /// Two kept sweeps a chain are too few to split for R-hat: it is unknown (NaN), not -inf.
    #[test]
    fn too_few_kept_sweeps_leave_r_hat_unknown() {
        let h: Vec<[f64; 6]> = (0..4).map(|c| initial_hyper(c, 4)).collect();
        let kept: Vec<[f64; 6]> = h.iter().chain(&h).copied().collect();
        assert!(summarize_hyper(&h, &kept, 4, 100).max_r_hat.is_nan());
        let many: Vec<[f64; 6]> = (0..40)
            .flat_map(|sweep| {
                h.iter()
                    .map(move |v| v.map(|x| x * (1.0 + 0.01 * (sweep % 7) as f64)))
            })
            .collect();
        assert!(summarize_hyper(&h, &many, 4, 100).max_r_hat.is_finite());
    }

    #[test]
    fn prior_difference_is_in_prior_sds() {
        let h = [2.0, 6.0, 1.0, 0.5, 0.1, 1.0];
        assert_eq!(prior_difference(h, h), 0.0);
        // m0 moved by half of s0: half a prior sd of log phi.
        assert!((prior_difference(h, [2.0, 6.0, 1.25, 0.5, 0.1, 1.0]) - 0.5).abs() < 1e-12);
        // The Beta's mean moved from 0.25 to 0.3 at the same concentration: sd ~0.145 -> 0.33.
        let d = prior_difference(h, [2.4, 5.6, 1.0, 0.5, 0.1, 1.0]);
        let (s1, s2) = ((0.25f64 * 0.75 / 9.0).sqrt(), (0.3f64 * 0.7 / 9.0).sqrt());
        assert!((d - 0.05 / (0.5 * (s1 + s2))).abs() < 1e-12, "{d}");
    }
}

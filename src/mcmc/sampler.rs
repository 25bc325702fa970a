//! One sweep over a tree of levels: observations, their units (level 0, the groups
//! directly above the thetas), optionally groups of those, up to the roots.
//!
//! Level 0 moves by one of two algorithms (`Update`):
//! - gibbs: theta | (alpha, beta) on the device, then (alpha, beta) | theta on the host
//!   by slice sampling from the reduced sufficient statistics;
//! - collapsed: (alpha, beta) | y with the thetas integrated out, by random-walk
//!   Metropolis whose beta-binomial likelihoods the device sums for every (chain, unit)
//!   at once; thetas are then drawn conjugately on the sweeps whose draws are kept.
//!
//! Every level above moves by slice sampling given its children's modes: in the
//! mode/concentration form a child's omega ~ Beta(omega (kappa - 2) + 1, (1 - omega)(kappa - 2) + 1)
//! of its parent, so the sufficient statistics are Σ log omega and Σ log(1 - omega).

use std::time::Instant;

use rayon::prelude::*;

use crate::kernels::cpu;
use crate::kernels::gpu::piece_stage::{PieceKernel, PieceStageGpu};
use crate::kernels::gpu::{GpuError, DEFAULT_WORKGROUP_SIZE};
use crate::kernels::layout::ThetaParams;
use crate::kernels::Device;
use crate::math::{sigmoid, softplus};
pub use crate::mcmc::batch::{Batch, HYPER_NAMES, NODE_NAMES};
use crate::mcmc::metropolis::RandomWalk;
use crate::mcmc::prior::{shapes_in_range, HyperPrior};
use crate::mcmc::slice::{slice_update, RunningVariance, WIDTH_PER_SD};
use crate::rng::{Stream, UniformStream};

/// Slice-sampling rounds per sweep of the gibbs update (see SamplerConfig::hyper_rounds).
pub const DEFAULT_HYPER_ROUNDS: u32 = 1;
/// Metropolis steps per sweep of the collapsed update: each is one device pass.
pub const DEFAULT_COLLAPSED_STEPS: u32 = 2;

/// How the units' (alpha, beta) move: see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Update {
    /// Given the thetas (plain Gibbs, as JAGS): cheap per sweep, slow for the concentrations.
    Gibbs,
    /// Given the data with the thetas integrated out (beta-binomial marginal on the device).
    Collapsed,
}

impl Update {
    pub fn default_rounds(self) -> u32 {
        match self {
            Update::Gibbs => DEFAULT_HYPER_ROUNDS,
            Update::Collapsed => DEFAULT_COLLAPSED_STEPS,
        }
    }
}

impl std::fmt::Display for Update {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Update::Gibbs => "gibbs",
            Update::Collapsed => "collapsed",
        })
    }
}
/// Slice width in z before warm-up has measured the posterior sd.
const INITIAL_WIDTH: f64 = 1.0;
/// Warm-up sweeps before the width follows the measured sd: the first moves from an
/// overdispersed start say little about the posterior's scale.
const ADAPT_AFTER: u32 = 20;
/// Half-width of the uniform jitter of starting values around the pooled rate on the
/// logit scale, and the range of the starting log concentration: overdispersed starts make R-hat meaningful.
const INIT_LOGIT_JITTER: f64 = 1.0;
const INIT_LOG_CONCENTRATION: (f64, f64) = (0.0, 5.0);

/// What to run: the model's prior and the chain lengths.
#[derive(Debug, Clone)]
pub struct SamplerConfig {
    pub prior: HyperPrior,
    pub chains: u32,
    pub warmup: u32,
    /// Kept draws per chain (after thinning).
    pub draws: u32,
    pub thin: u32,
    pub seed: u32,
    pub workgroup_size: u32,
    /// Store every theta's draws (off in benchmarks, which need only the hyperparameters).
    pub keep_thetas: bool,
    /// Per sweep, gibbs: slice-sampling rounds over both coordinates of every node (more
    /// rounds bring the move closer to an exact draw, at O(1) cost each); collapsed: Metropolis
    /// steps of the units (one device pass each) and slice rounds of the levels above.
    pub hyper_rounds: u32,
    pub update: Update,
}

impl SamplerConfig {
    pub fn new(
        prior: HyperPrior,
        chains: u32,
        warmup: u32,
        draws: u32,
        thin: u32,
        seed: u32,
    ) -> Self {
        SamplerConfig {
            prior,
            chains,
            warmup,
            draws,
            thin,
            seed,
            workgroup_size: DEFAULT_WORKGROUP_SIZE,
            keep_thetas: true,
            hyper_rounds: DEFAULT_HYPER_ROUNDS,
            update: Update::Gibbs,
        }
    }

    pub fn sweeps(&self) -> u32 {
        self.warmup + self.draws * self.thin
    }
}

/// The per-observation stages on the chosen device, with the batch uploaded for the GPU.
pub enum ThetaStage<'g> {
    Cpu,
    Gpu {
        theta: Box<PieceStageGpu<'g>>,
        /// Present when the run uses the collapsed update.
        loglik: Option<Box<PieceStageGpu<'g>>>,
    },
}

impl<'g> ThetaStage<'g> {
    /// Prepare the stages for `batch` and up to `max_chains` chains.
    pub fn new(
        backend: Device<'g>,
        batch: &Batch,
        max_chains: usize,
        workgroup_size: u32,
        update: Update,
    ) -> Self {
        match backend {
            Device::Cpu => ThetaStage::Cpu,
            Device::Gpu(gpu) => {
                let stage = |kernel| {
                    Box::new(PieceStageGpu::new(
                        gpu,
                        kernel,
                        &batch.observations,
                        &batch.pieces,
                        batch.n_units(),
                        max_chains,
                        workgroup_size,
                    ))
                };
                ThetaStage::Gpu {
                    theta: stage(PieceKernel::ThetaUpdate),
                    loglik: (update == Update::Collapsed)
                        .then(|| stage(PieceKernel::CollapsedLoglik)),
                }
            }
        }
    }

    /// One theta_update pass: the contract of `cpu::theta_update`.
    pub fn run(
        &self,
        batch: &Batch,
        params: &ThetaParams,
        hyper: &[[f32; 2]],
        theta: &mut [f32],
        log_sums: &mut [[f32; 2]],
    ) -> Result<(), GpuError> {
        match self {
            ThetaStage::Gpu { theta: stage, .. } => {
                stage.run(params, hyper, theta, bytemuck::cast_slice_mut(log_sums))
            }
            ThetaStage::Cpu => {
                cpu::theta_update::theta_update(
                    params,
                    &batch.observations,
                    &batch.pieces,
                    hyper,
                    theta,
                    log_sums,
                );
                Ok(())
            }
        }
    }

    /// One collapsed_loglik pass: the contract of `cpu::collapsed_loglik`.
    pub fn loglik(
        &self,
        batch: &Batch,
        params: &ThetaParams,
        hyper: &[[f32; 2]],
        loglik: &mut [f32],
    ) -> Result<(), GpuError> {
        match self {
            ThetaStage::Gpu {
                loglik: Some(stage),
                ..
            } => stage.run(params, hyper, &mut [], bytemuck::cast_slice_mut(loglik)),
            ThetaStage::Gpu { loglik: None, .. } => {
                unreachable!("the collapsed stage is built for collapsed runs")
            }
            ThetaStage::Cpu => {
                cpu::collapsed_loglik::collapsed_loglik(
                    params,
                    &batch.observations,
                    &batch.pieces,
                    hyper,
                    loglik,
                );
                Ok(())
            }
        }
    }
}

/// The slice sampler's state for one (chain, node).
#[derive(Debug, Clone, Copy)]
struct HyperState {
    z: [f64; 2],
    width: [f64; 2],
    warmup_stats: [RunningVariance; 2],
}

impl HyperState {
    /// Slice-sample both coordinates `rounds` times from p(z | children), given the children's
    /// sufficient statistics `[n, Σ log x, Σ log(1 - x)]`; in warm-up, adapt the widths.
    fn update(
        &mut self,
        prior: &HyperPrior,
        stats: [f64; 3],
        rounds: u32,
        in_warmup: bool,
        rng: &mut UniformStream,
    ) {
        let [n, sum_log, sum_log1m] = stats;
        // Density at the current point; each update returns it at its new point.
        let mut log_f_here = prior.log_conditional(self.z, n, sum_log, sum_log1m);
        for k in (0..2).cycle().take(2 * rounds as usize) {
            let z = self.z;
            let log_f = |x: f64| {
                let mut moved = z;
                moved[k] = x;
                prior.log_conditional(moved, n, sum_log, sum_log1m)
            };
            let (x1, log_f1) = slice_update(z[k], log_f_here, self.width[k], log_f, rng);
            self.z[k] = x1;
            log_f_here = log_f1;
            if in_warmup {
                let moments = &mut self.warmup_stats[k];
                moments.push(x1);
                if moments.count() >= f64::from(ADAPT_AFTER) && moments.sd() > 0.0 {
                    self.width[k] = WIDTH_PER_SD * moments.sd();
                }
            }
        }
    }
}

/// Post-warm-up draws and what the run cost.
pub struct Fit {
    pub n_chains: usize,
    pub n_draws: usize,
    pub n_params: usize,
    /// values[(param * n_chains + chain) * n_draws + draw], params ordered as `Batch::n_params` says.
    pub values: Vec<f64>,
    pub wall_seconds: f64,
    /// Seconds in the per-observation stages (kernels, transfers and waits).
    pub stage_seconds: f64,
    /// Per-observation kernel work: thetas drawn plus beta-binomial terms evaluated.
    pub observation_updates: u64,
}

impl Fit {
    pub fn chain(&self, param: usize, chain: usize) -> &[f64] {
        let start = (param * self.n_chains + chain) * self.n_draws;
        &self.values[start..start + self.n_draws]
    }

    /// All chains of one parameter.
    pub fn chains(&self, param: usize) -> Vec<&[f64]> {
        (0..self.n_chains).map(|c| self.chain(param, c)).collect()
    }
}

/// Overdispersed starting z for (chain, node of `level`): around the pooled rate of the
/// node's observations (the whole data's above level 0).
fn initial_state(batch: &Batch, seed: u32, chain: u32, level: usize, node: usize) -> HyperState {
    let rate = if level == 0 {
        batch.pooled_rate(node..node + 1)
    } else {
        batch.pooled_rate(0..batch.n_units())
    }
    .clamp(1e-3, 1.0 - 1e-3);
    let mut rng = UniformStream::new(seed, chain, level as u32, node as u32, 0, Stream::Init);
    let z0 = (rate / (1.0 - rate)).ln() + INIT_LOGIT_JITTER * (2.0 * rng.next_f64() - 1.0);
    let (lo, hi) = INIT_LOG_CONCENTRATION;
    let z1 = lo + (hi - lo) * rng.next_f64();
    HyperState {
        z: [z0, z1],
        width: [INITIAL_WIDTH; 2],
        warmup_stats: Default::default(),
    }
}

/// The four reported hyperparameters of a one-level unit at z.
fn hyper_values(prior: &HyperPrior, z: [f64; 2]) -> [f64; 4] {
    let (alpha, beta) = prior.alpha_beta(z);
    [alpha, beta, alpha / (alpha + beta), alpha + beta]
}

/// The node states of every level, chain-major within a level, and the priors they imply.
struct Levels<'a> {
    batch: &'a Batch,
    /// The roots' prior; in a multi-level model also the source of every group's kappa prior.
    top: HyperPrior,
    n_chains: usize,
    states: Vec<Vec<HyperState>>,
    /// Per level above the units, per (chain, node): the independence proposal learnt in
    /// warm-up. After warm-up every sweep adds one independence Metropolis step to the slice
    /// rounds: the vague Gamma(0.01, 0.01) on kappa - 2 gives the conditional of log(kappa - 2)
    /// a long, nearly flat left tail (kappa -> 2, a uniform Beta), which the slice sampler's
    /// fixed width crosses in hundreds of sweeps when a chain strays into it, and from which
    /// an independence proposal returns in a few.
    escapes: Vec<Vec<RandomWalk>>,
}

impl Levels<'_> {
    fn state(&self, level: usize, chain: usize, node: usize) -> &HyperState {
        &self.states[level][chain * self.batch.level_sizes[level] + node]
    }

    /// The prior of node v of `level` in `chain`: the top prior at the root level; below it,
    /// omega ~ Beta(alpha, beta) of the parent and kappa - 2 ~ Gamma(shape, rate) of the top prior.
    fn prior(&self, level: usize, chain: usize, node: usize) -> HyperPrior {
        if level + 1 == self.batch.n_levels() {
            return self.top;
        }
        let parent = self.batch.parents[level][node] as usize;
        let (a, b) = self.top.alpha_beta(self.state(level + 1, chain, parent).z);
        match self.top {
            HyperPrior::Kruschke { shape, rate, .. } => HyperPrior::Kruschke { a, b, shape, rate },
            other => unreachable!(
                "multi-level models are checked to use the kruschke prior, not {other}"
            ),
        }
    }

    /// (alpha, beta) of every (chain, unit) in f32, as the kernels take them.
    fn unit_shapes(&self, out: &mut [[f32; 2]]) {
        for (h, s) in out.iter_mut().zip(&self.states[0]) {
            let (a, b) = self.top.alpha_beta(s.z);
            *h = [a as f32, b as f32];
        }
    }

    /// Slice-update every node of `level` >= 1 from its children's modes.
    fn update_level(&mut self, level: usize, sweep: u32, config: &SamplerConfig) {
        let size = self.batch.level_sizes[level];
        let child_size = self.batch.level_sizes[level - 1];
        let children = &self.batch.parents[level - 1];
        let mut stats = vec![[0.0f64; 3]; self.n_chains * size];
        for chain in 0..self.n_chains {
            for (child, &parent) in children.iter().enumerate() {
                let z0 = self.states[level - 1][chain * child_size + child].z[0];
                let s = &mut stats[chain * size + parent as usize];
                // log omega and log(1 - omega) of the child, without rounding omega first.
                *s = [s[0] + 1.0, s[1] - softplus(-z0), s[2] - softplus(z0)];
            }
        }
        let priors: Vec<HyperPrior> = (0..self.n_chains * size)
            .map(|i| self.prior(level, i / size, i % size))
            .collect();
        let in_warmup = sweep < config.warmup;
        let learning = in_warmup && sweep >= config.warmup / 2;
        if sweep == config.warmup {
            let tail_rate = self.top.left_tail_rate();
            self.escapes[level]
                .iter_mut()
                .for_each(|e| e.finish_warmup(tail_rate));
        }
        self.states[level]
            .par_iter_mut()
            .zip(self.escapes[level].par_iter_mut())
            .enumerate()
            .for_each(|(i, (state, escape))| {
                let (chain, node) = (i / size, i % size);
                let mut rng = UniformStream::new(
                    config.seed,
                    chain as u32,
                    level as u32,
                    node as u32,
                    sweep,
                    Stream::Hyper,
                );
                let prior = &priors[i];
                state.update(prior, stats[i], config.hyper_rounds, in_warmup, &mut rng);
                if learning {
                    escape.observe(state.z);
                }
                if let Some((z1, hastings)) = escape.propose_independent(state.z, &mut rng) {
                    let [n, sum_log, sum_log1m] = stats[i];
                    let log_ratio = prior.log_conditional(z1, n, sum_log, sum_log1m)
                        - prior.log_conditional(state.z, n, sum_log, sum_log1m)
                        + hastings;
                    if RandomWalk::accept(log_ratio, &mut rng) {
                        state.z = z1;
                    }
                }
            });
    }
}

/// Per (chain, unit) state of the collapsed update.
#[derive(Debug, Clone, Copy, Default)]
struct CollapsedState {
    walk: RandomWalk,
    /// Beta-binomial log marginal of the unit's data at the current z (f64 sum of f32 pieces).
    loglik: f64,
}

/// Sum each (chain, unit)'s pieces in f64.
fn unit_sums(batch: &Batch, n_chains: usize, pieces: &[f32], out: &mut [f64]) {
    let n_pieces = batch.pieces.len();
    let n_units = batch.n_units();
    out.par_iter_mut()
        .with_min_len(64)
        .enumerate()
        .for_each(|(i, sum)| {
            let (chain, unit) = (i / n_units, i % n_units);
            let range = batch.unit_pieces[unit] as usize..batch.unit_pieces[unit + 1] as usize;
            *sum = pieces[chain * n_pieces..][range]
                .iter()
                .map(|&v| f64::from(v))
                .sum();
        });
    debug_assert_eq!(out.len(), n_chains * n_units);
}

/// Run every chain of `config` on `batch`. `on_sweep`, if any, is called once per sweep
/// (a progress bar, say).
pub fn run(
    batch: &Batch,
    config: &SamplerConfig,
    backend: Device,
    on_sweep: Option<&dyn Fn()>,
) -> Result<Fit, GpuError> {
    let start = Instant::now();
    let (n_chains, n_units, n_obs, n_pieces) = (
        config.chains as usize,
        batch.n_units(),
        batch.n_obs(),
        batch.pieces.len(),
    );
    let mut levels = Levels {
        batch,
        top: config.prior,
        n_chains,
        states: (0..batch.n_levels())
            .map(|level| {
                let size = batch.level_sizes[level];
                (0..n_chains * size)
                    .map(|i| initial_state(batch, config.seed, (i / size) as u32, level, i % size))
                    .collect()
            })
            .collect(),
        escapes: batch
            .level_sizes
            .iter()
            .enumerate()
            .map(|(level, &size)| {
                vec![RandomWalk::default(); if level == 0 { 0 } else { n_chains * size }]
            })
            .collect(),
    };
    let stage = ThetaStage::new(
        backend,
        batch,
        n_chains,
        config.workgroup_size,
        config.update,
    );
    let n_draws = config.draws as usize;
    let n_params = batch.n_params(config.keep_thetas);
    let mut values = vec![0.0f64; n_params * n_chains * n_draws];
    let mut hyper = vec![[0.0f32; 2]; n_chains * n_units];
    let mut theta = vec![0.0f32; n_chains * n_obs];
    let mut log_sums = vec![[0.0f32; 2]; n_chains * n_pieces];
    let mut stage_seconds = 0.0;
    let mut observation_updates = 0u64;
    let all = batch.theta_params(config.seed, 0, n_chains as u32, false);
    let per_pass = (n_obs * n_chains) as u64;

    // Collapsed update: the current log marginal of every (chain, unit).
    let mut collapsed = Vec::new();
    let mut piece_loglik = Vec::new();
    let mut unit_loglik = Vec::new();
    if config.update == Update::Collapsed {
        piece_loglik = vec![0.0f32; n_chains * n_pieces];
        unit_loglik = vec![0.0f64; n_chains * n_units];
        levels.unit_shapes(&mut hyper);
        stage.loglik(batch, &all, &hyper, &mut piece_loglik)?;
        unit_sums(batch, n_chains, &piece_loglik, &mut unit_loglik);
        collapsed = unit_loglik
            .iter()
            .map(|&loglik| CollapsedState {
                walk: RandomWalk::default(),
                loglik,
            })
            .collect();
    }

    for sweep in 0..config.sweeps() {
        let kept =
            sweep >= config.warmup && (sweep - config.warmup + 1).is_multiple_of(config.thin);
        let write_theta = kept && config.keep_thetas;
        let in_warmup = sweep < config.warmup;
        let params = batch.theta_params(config.seed, sweep, n_chains as u32, write_theta);
        // The units' priors given their parents' current values, for either update.
        let priors: Vec<HyperPrior> = (0..n_chains * n_units)
            .map(|i| levels.prior(0, i / n_units, i % n_units))
            .collect();
        match config.update {
            Update::Gibbs => {
                levels.unit_shapes(&mut hyper);
                let t0 = Instant::now();
                stage.run(batch, &params, &hyper, &mut theta, &mut log_sums)?;
                stage_seconds += t0.elapsed().as_secs_f64();
                observation_updates += per_pass;
                levels.states[0]
                    .par_iter_mut()
                    .enumerate()
                    .with_min_len(64)
                    .for_each(|(i, state)| {
                        let (chain, unit) = (i / n_units, i % n_units);
                        let pieces =
                            batch.unit_pieces[unit] as usize..batch.unit_pieces[unit + 1] as usize;
                        let sums = &log_sums[chain * n_pieces..(chain + 1) * n_pieces][pieces];
                        let sum_log: f64 = sums.iter().map(|s| f64::from(s[0])).sum();
                        let sum_log1m: f64 = sums.iter().map(|s| f64::from(s[1])).sum();
                        let n = f64::from(batch.unit_offsets[unit + 1] - batch.unit_offsets[unit]);
                        let mut rng = UniformStream::new(
                            config.seed,
                            chain as u32,
                            0,
                            unit as u32,
                            sweep,
                            Stream::Hyper,
                        );
                        state.update(
                            &priors[i],
                            [n, sum_log, sum_log1m],
                            config.hyper_rounds,
                            in_warmup,
                            &mut rng,
                        );
                    });
            }
            Update::Collapsed => {
                if in_warmup && sweep == config.warmup / 2 {
                    collapsed
                        .iter_mut()
                        .for_each(|c| c.walk.restart_covariance());
                }
                if sweep == config.warmup {
                    let tail_rate = config.prior.left_tail_rate();
                    collapsed
                        .iter_mut()
                        .for_each(|c| c.walk.finish_warmup(tail_rate));
                }
                let mut rngs: Vec<UniformStream> = (0..n_chains * n_units)
                    .map(|i| {
                        let (chain, unit) = (i / n_units, i % n_units);
                        UniformStream::new(
                            config.seed,
                            chain as u32,
                            0,
                            unit as u32,
                            sweep,
                            Stream::Collapsed,
                        )
                    })
                    .collect();
                let mut proposals = vec![([0.0f64; 2], 0.0f64); n_chains * n_units];
                for _ in 0..config.hyper_rounds {
                    for (i, proposal) in proposals.iter_mut().enumerate() {
                        *proposal = collapsed[i]
                            .walk
                            .propose(levels.states[0][i].z, &mut rngs[i]);
                        let (a, b) = levels.top.alpha_beta(proposal.0);
                        // Outside SHAPE_RANGE the proposal is rejected below; evaluate anywhere harmless.
                        hyper[i] = if shapes_in_range(a, b) {
                            [a as f32, b as f32]
                        } else {
                            [1.0, 1.0]
                        };
                    }
                    let t0 = Instant::now();
                    stage.loglik(batch, &all, &hyper, &mut piece_loglik)?;
                    stage_seconds += t0.elapsed().as_secs_f64();
                    observation_updates += per_pass;
                    unit_sums(batch, n_chains, &piece_loglik, &mut unit_loglik);
                    levels.states[0]
                        .par_iter_mut()
                        .zip(collapsed.par_iter_mut())
                        .zip(rngs.par_iter_mut())
                        .enumerate()
                        .with_min_len(64)
                        .for_each(|(i, ((state, c), rng))| {
                            let (z1, hastings) = proposals[i];
                            let prior = &priors[i];
                            let (a, b) = prior.alpha_beta(z1);
                            let log_ratio = if shapes_in_range(a, b) {
                                unit_loglik[i] + prior.log_density(z1)
                                    - c.loglik
                                    - prior.log_density(state.z)
                                    + hastings
                            } else {
                                f64::NEG_INFINITY
                            };
                            let accepted = RandomWalk::accept(log_ratio, rng);
                            if accepted {
                                state.z = z1;
                                c.loglik = unit_loglik[i];
                            }
                            if in_warmup {
                                c.walk.adapt(accepted, state.z);
                            }
                        });
                }
                if write_theta {
                    levels.unit_shapes(&mut hyper);
                    let t0 = Instant::now();
                    stage.run(batch, &params, &hyper, &mut theta, &mut log_sums)?;
                    stage_seconds += t0.elapsed().as_secs_f64();
                    observation_updates += per_pass;
                }
            }
        }
        for level in 1..batch.n_levels() {
            levels.update_level(level, sweep, config);
        }

        if kept {
            let draw = ((sweep - config.warmup) / config.thin) as usize;
            store_draw(&levels, config, &theta, draw, &mut values);
        }
        if let Some(on_sweep) = on_sweep {
            on_sweep();
        }
    }
    Ok(Fit {
        n_chains,
        n_draws,
        n_params,
        values,
        wall_seconds: start.elapsed().as_secs_f64(),
        stage_seconds,
        observation_updates,
    })
}

/// Copy one sweep's state into the draws array.
fn store_draw(
    levels: &Levels,
    config: &SamplerConfig,
    theta: &[f32],
    draw: usize,
    values: &mut [f64],
) {
    let batch = levels.batch;
    let (n_units, n_obs) = (batch.n_units(), batch.n_obs());
    let (n_chains, n_draws) = (config.chains as usize, config.draws as usize);
    let index = |param: usize, chain: usize| (param * n_chains + chain) * n_draws + draw;
    for chain in 0..n_chains {
        if batch.is_tree() {
            if config.keep_thetas {
                for o in 0..n_obs {
                    values[index(o, chain)] = f64::from(theta[chain * n_obs + o]);
                }
            }
            for (level, &size) in batch.level_sizes.iter().enumerate() {
                for node in 0..size {
                    let p = batch.node_param_start(level, node, config.keep_thetas);
                    let z = levels.state(level, chain, node).z;
                    values[index(p, chain)] = sigmoid(z[0]);
                    values[index(p + 1, chain)] = z[1].exp() + 2.0;
                }
            }
            continue;
        }
        for unit in 0..n_units {
            let mut p = batch.unit_param_start(unit, config.keep_thetas);
            if config.keep_thetas {
                for o in batch.unit_offsets[unit] as usize..batch.unit_offsets[unit + 1] as usize {
                    values[index(p, chain)] = f64::from(theta[chain * n_obs + o]);
                    p += 1;
                }
            }
            for v in hyper_values(&config.prior, levels.state(0, chain, unit).z) {
                values[index(p, chain)] = v;
                p += 1;
            }
        }
    }
}

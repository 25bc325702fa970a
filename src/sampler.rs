//! The Gibbs sweep: theta | (alpha, beta) on the GPU or its CPU twin, then
//! (alpha, beta) | theta on the host from the reduced sufficient statistics.

use std::time::Instant;

use indicatif::ProgressBar;
use rayon::prelude::*;

use crate::cpu;
use crate::gpu::{Gpu, GpuError, ThetaUpdateGpu, DEFAULT_WORKGROUP_SIZE};
use crate::layout::{build_pieces, Observation, Piece, ThetaParams, PIECE_LEN};
use crate::prior::HyperPrior;
use crate::rng::{Stream, UniformStream};
use crate::slice::{slice_update, RunningVariance, WIDTH_PER_SD};

/// Hyperparameters reported per unit, after the unit's thetas (in this order).
pub const HYPER_NAMES: [&str; 4] = ["alpha", "beta", "mu", "kappa"];
/// Rounds of hyperparameter updates per sweep (see SamplerConfig::hyper_rounds).
pub const DEFAULT_HYPER_ROUNDS: u32 = 1;
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
    /// Slice-sampling rounds over both hyperparameter coordinates per sweep: more rounds bring
    /// the host's move closer to an exact draw from p(alpha, beta | theta) at O(1) cost each.
    pub hyper_rounds: u32,
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
        }
    }

    pub fn sweeps(&self) -> u32 {
        self.warmup + self.draws * self.thin
    }
}

/// Where the theta stage runs.
#[derive(Clone, Copy)]
pub enum Backend<'g> {
    Cpu,
    Gpu(&'g Gpu),
}

/// The theta stage on the chosen device, with the batch already uploaded for the GPU.
pub enum ThetaStage<'g> {
    Cpu,
    Gpu(Box<ThetaUpdateGpu<'g>>),
}

impl<'g> ThetaStage<'g> {
    /// Prepare the stage for `batch` and up to `max_chains` chains.
    pub fn new(
        backend: Backend<'g>,
        batch: &Batch,
        max_chains: usize,
        workgroup_size: u32,
    ) -> Self {
        match backend {
            Backend::Cpu => ThetaStage::Cpu,
            Backend::Gpu(gpu) => ThetaStage::Gpu(Box::new(ThetaUpdateGpu::new(
                gpu,
                &batch.observations,
                &batch.pieces,
                batch.n_units(),
                max_chains,
                workgroup_size,
            ))),
        }
    }

    /// One dispatch: the contract of `cpu::theta_update`.
    pub fn run(
        &self,
        batch: &Batch,
        params: &ThetaParams,
        hyper: &[[f32; 2]],
        theta: &mut [f32],
        log_sums: &mut [[f32; 2]],
    ) -> Result<(), GpuError> {
        match self {
            ThetaStage::Gpu(stage) => stage.run(params, hyper, theta, log_sums),
            ThetaStage::Cpu => {
                cpu::theta_update(
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
}

/// The observations of a batch of independent units, laid out for the kernels.
#[derive(Debug, Clone)]
pub struct Batch {
    pub observations: Vec<Observation>,
    /// len n_units + 1.
    pub unit_offsets: Vec<u32>,
    pub pieces: Vec<Piece>,
    /// Pieces of unit u: `unit_pieces[u]..unit_pieces[u + 1]`.
    pub unit_pieces: Vec<u32>,
}

impl Batch {
    pub fn new(successes: &[u32], trials: &[u32], unit_offsets: Vec<u32>) -> Batch {
        let observations = successes
            .iter()
            .zip(trials)
            .map(|(&y, &n)| Observation {
                successes: y,
                trials: n,
            })
            .collect();
        let pieces = build_pieces(&unit_offsets, PIECE_LEN);
        let mut unit_pieces = vec![0u32; unit_offsets.len()];
        for p in &pieces {
            unit_pieces[p.unit as usize + 1] += 1;
        }
        for u in 1..unit_pieces.len() {
            unit_pieces[u] += unit_pieces[u - 1];
        }
        Batch {
            observations,
            unit_offsets,
            pieces,
            unit_pieces,
        }
    }

    pub fn n_units(&self) -> usize {
        self.unit_offsets.len() - 1
    }

    /// Parameters of a theta_update dispatch over all units of this batch.
    pub fn theta_params(
        &self,
        seed: u32,
        sweep: u32,
        n_chains: u32,
        write_theta: bool,
    ) -> ThetaParams {
        ThetaParams {
            seed,
            sweep,
            chain_offset: 0,
            n_chains,
            unit_offset: 0,
            n_units: self.n_units() as u32,
            n_obs: self.n_obs() as u32,
            n_pieces: self.pieces.len() as u32,
            write_theta: u32::from(write_theta),
            _pad: [0; 3],
        }
    }

    pub fn n_obs(&self) -> usize {
        self.observations.len()
    }

    /// Parameters per chain: HYPER_NAMES per unit, and every theta when they are kept.
    pub fn n_params(&self, keep_thetas: bool) -> usize {
        HYPER_NAMES.len() * self.n_units() + if keep_thetas { self.n_obs() } else { 0 }
    }

    /// Index of unit u's first parameter: its thetas (when kept), then HYPER_NAMES.
    pub fn unit_param_start(&self, u: usize, keep_thetas: bool) -> usize {
        HYPER_NAMES.len() * u
            + if keep_thetas {
                self.unit_offsets[u] as usize
            } else {
                0
            }
    }
}

/// The slice sampler's state for one (chain, unit).
#[derive(Debug, Clone, Copy)]
struct HyperState {
    z: [f64; 2],
    width: [f64; 2],
    warmup_stats: [RunningVariance; 2],
}

impl HyperState {
    /// Slice-sample both coordinates `rounds` times from p(z | thetas), given the unit's
    /// sufficient statistics `[n, Σ log theta, Σ log(1 - theta)]`; in warm-up, adapt the widths.
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
    /// values[(param * n_chains + chain) * n_draws + draw], params ordered per unit: thetas, then HYPER_NAMES.
    pub values: Vec<f64>,
    pub wall_seconds: f64,
    /// Seconds in the theta stage (kernel, transfers and waits).
    pub theta_seconds: f64,
    /// Thetas drawn: observations × chains × sweeps.
    pub theta_updates: u64,
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

/// Overdispersed starting z for (chain, unit): around the unit's pooled rate.
fn initial_state(batch: &Batch, seed: u32, chain: u32, unit: usize) -> HyperState {
    let range = batch.unit_offsets[unit] as usize..batch.unit_offsets[unit + 1] as usize;
    let (y, n) = batch.observations[range]
        .iter()
        .fold((0.0, 0.0), |(y, n), o| {
            (y + f64::from(o.successes), n + f64::from(o.trials))
        });
    let rate = ((y + 0.5) / (n + 1.0)).clamp(1e-3, 1.0 - 1e-3);
    let mut rng = UniformStream::new(seed, chain, 0, unit as u32, 0, Stream::Init);
    let z0 = (rate / (1.0 - rate)).ln() + INIT_LOGIT_JITTER * (2.0 * rng.next_f64() - 1.0);
    let (lo, hi) = INIT_LOG_CONCENTRATION;
    let z1 = lo + (hi - lo) * rng.next_f64();
    HyperState {
        z: [z0, z1],
        width: [INITIAL_WIDTH; 2],
        warmup_stats: Default::default(),
    }
}

/// The four reported hyperparameters at z.
fn hyper_values(prior: &HyperPrior, z: [f64; 2]) -> [f64; 4] {
    let (alpha, beta) = prior.alpha_beta(z);
    [alpha, beta, alpha / (alpha + beta), alpha + beta]
}

/// Run every chain of `config` on `batch`. The progress bar, if any, advances once per sweep.
pub fn run(
    batch: &Batch,
    config: &SamplerConfig,
    backend: Backend,
    progress: Option<&ProgressBar>,
) -> Result<Fit, GpuError> {
    let start = Instant::now();
    let (n_chains, n_units, n_obs, n_pieces) = (
        config.chains as usize,
        batch.n_units(),
        batch.n_obs(),
        batch.pieces.len(),
    );
    let prior = config.prior;
    let mut states: Vec<HyperState> = (0..n_chains * n_units)
        .map(|i| initial_state(batch, config.seed, (i / n_units) as u32, i % n_units))
        .collect();
    let stage = ThetaStage::new(backend, batch, n_chains, config.workgroup_size);
    let n_draws = config.draws as usize;
    let n_params = batch.n_params(config.keep_thetas);
    let mut values = vec![0.0f64; n_params * n_chains * n_draws];
    let mut hyper = vec![[0.0f32; 2]; n_chains * n_units];
    let mut theta = vec![0.0f32; n_chains * n_obs];
    let mut log_sums = vec![[0.0f32; 2]; n_chains * n_pieces];
    let mut theta_seconds = 0.0;

    for sweep in 0..config.sweeps() {
        let kept =
            sweep >= config.warmup && (sweep - config.warmup + 1).is_multiple_of(config.thin);
        for (h, s) in hyper.iter_mut().zip(&states) {
            let (a, b) = prior.alpha_beta(s.z);
            *h = [a as f32, b as f32];
        }
        let params = batch.theta_params(
            config.seed,
            sweep,
            n_chains as u32,
            kept && config.keep_thetas,
        );
        let t0 = Instant::now();
        stage.run(batch, &params, &hyper, &mut theta, &mut log_sums)?;
        theta_seconds += t0.elapsed().as_secs_f64();

        let in_warmup = sweep < config.warmup;
        states
            .par_iter_mut()
            .enumerate()
            .with_min_len(64)
            .for_each(|(i, state)| {
                let (chain, unit) = (i / n_units, i % n_units);
                let pieces = batch.unit_pieces[unit] as usize..batch.unit_pieces[unit + 1] as usize;
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
                    &prior,
                    [n, sum_log, sum_log1m],
                    config.hyper_rounds,
                    in_warmup,
                    &mut rng,
                );
            });

        if kept {
            let draw = ((sweep - config.warmup) / config.thin) as usize;
            store_draw(batch, config, &states, &theta, draw, &mut values);
        }
        if let Some(bar) = progress {
            bar.inc(1);
        }
    }
    Ok(Fit {
        n_chains,
        n_draws,
        n_params,
        values,
        wall_seconds: start.elapsed().as_secs_f64(),
        theta_seconds,
        theta_updates: n_obs as u64 * n_chains as u64 * u64::from(config.sweeps()),
    })
}

/// Copy one sweep's state into the draws array.
fn store_draw(
    batch: &Batch,
    config: &SamplerConfig,
    states: &[HyperState],
    theta: &[f32],
    draw: usize,
    values: &mut [f64],
) {
    let (n_units, n_obs) = (batch.n_units(), batch.n_obs());
    let (n_chains, n_draws) = (config.chains as usize, config.draws as usize);
    let index = |param: usize, chain: usize| (param * n_chains + chain) * n_draws + draw;
    for chain in 0..n_chains {
        for unit in 0..n_units {
            let mut p = batch.unit_param_start(unit, config.keep_thetas);
            if config.keep_thetas {
                for o in batch.unit_offsets[unit] as usize..batch.unit_offsets[unit + 1] as usize {
                    values[index(p, chain)] = f64::from(theta[chain * n_obs + o]);
                    p += 1;
                }
            }
            for v in hyper_values(&config.prior, states[chain * n_units + unit].z) {
                values[index(p, chain)] = v;
                p += 1;
            }
        }
    }
}

//! The sweep loop: every chain of a run, sweep by sweep, units then levels, keeping the
//! post-warm-up draws.

use std::time::Instant;

use rayon::prelude::*;

use crate::kernels::gpu::GpuError;
use crate::kernels::stages::ThetaStage;
use crate::kernels::Device;
use crate::mcmc::batch::Batch;
use crate::mcmc::metropolis::RandomWalk;
use crate::mcmc::prior::HyperPrior;
use crate::rng::{Stream, UniformStream};

use super::collapsed::{Collapsed, ThetaOut};
use super::config::{SamplerConfig, Update};
use super::draws::{sources, store_draw, Fit};
use super::hyper::initial_state;
use super::levels::Levels;

/// Run every chain of `config` on `batch`, keeping every draw in the returned `Fit`.
/// `on_sweep`, if any, is called once per sweep (a progress bar, say).
pub fn run(
    batch: &Batch,
    config: &SamplerConfig,
    backend: Device,
    on_sweep: Option<&dyn Fn()>,
) -> Result<Fit, GpuError> {
    run_inner(batch, config, backend, on_sweep, None)
}

/// Where `run_streamed` hands its draws: every `block` kept draws (fewer in the last call),
/// `sink(values, k)` with values[(param * n_chains + chain) * block + d] for d < k.
pub struct DrawSink<'a> {
    pub block: usize,
    pub sink: &'a mut dyn FnMut(&[f64], usize),
}

/// `run`, its draws handed to `sink` a block at a time instead of kept: memory holds one
/// block, whatever `--draws`. The returned `Fit` has no values.
pub fn run_streamed(
    batch: &Batch,
    config: &SamplerConfig,
    backend: Device,
    on_sweep: Option<&dyn Fn()>,
    sink: DrawSink,
) -> Result<Fit, GpuError> {
    run_inner(batch, config, backend, on_sweep, Some(sink))
}

fn run_inner(
    batch: &Batch,
    config: &SamplerConfig,
    backend: Device,
    on_sweep: Option<&dyn Fn()>,
    mut sink: Option<DrawSink>,
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
        &batch.observations,
        &batch.pieces,
        &batch.unit_offsets,
        n_chains,
        config.workgroup_size,
        config.update == Update::Collapsed,
    );
    let n_draws = config.draws as usize;
    let n_params = batch.n_params(config.keep_thetas);
    // Kept draws per stretch of `values`: all of them, or a sink's block.
    let stride = sink
        .as_ref()
        .map_or(n_draws, |s| s.block.clamp(1, n_draws.max(1)));
    let mut values = vec![0.0f64; n_params * n_chains * stride];
    let sources = sources(batch, config.keep_thetas);
    let mut hyper = vec![[0.0f32; 2]; n_chains * n_units];
    let mut theta = vec![0.0f32; n_chains * n_obs];
    let mut log_sums = vec![[0.0f32; 2]; n_chains * n_pieces];
    let mut stage_seconds = 0.0;
    let mut observation_updates = 0u64;
    let all = batch.theta_params(config.seed, 0, n_chains as u32, false);
    let per_pass = (n_obs * n_chains) as u64;

    let mut collapsed = match config.update {
        Update::Collapsed => Some(Collapsed::new(&stage, &levels, &all)?),
        Update::Gibbs => None,
    };

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
                stage.run(&params, &hyper, &mut theta, &mut log_sums)?;
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
                let t0 = Instant::now();
                let thetas = ThetaOut {
                    params: write_theta.then_some(&params),
                    theta: &mut theta,
                    log_sums: &mut log_sums,
                };
                collapsed
                    .as_mut()
                    .expect("built for collapsed runs")
                    .sweep(&stage, &mut levels, config, sweep, &priors, thetas)?;
                stage_seconds += t0.elapsed().as_secs_f64();
                observation_updates +=
                    per_pass * (u64::from(config.hyper_rounds) + u64::from(write_theta));
            }
        }
        for level in 1..batch.n_levels() {
            levels.update_level(level, sweep, config);
        }

        if kept {
            let draw = ((sweep - config.warmup) / config.thin) as usize;
            store_draw(
                &levels,
                config,
                &sources,
                &theta,
                draw % stride,
                stride,
                &mut values,
            );
            if let Some(s) = sink.as_mut() {
                let filled = draw % stride + 1;
                if filled == stride || draw + 1 == n_draws {
                    (s.sink)(&values, filled);
                }
            }
        }
        if let Some(on_sweep) = on_sweep {
            on_sweep();
        }
    }
    if sink.is_some() {
        values = Vec::new();
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

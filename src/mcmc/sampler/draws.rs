//! The kept draws: the `Fit` that holds them, and the copy of one sweep's state into it.

use rayon::prelude::*;

use crate::math::sigmoid;
use crate::mcmc::batch::Batch;
use crate::mcmc::prior::HyperPrior;

use super::config::SamplerConfig;
use super::levels::Levels;

/// Post-warm-up draws and what the run cost.
pub struct Fit {
    pub n_chains: usize,
    pub n_draws: usize,
    pub n_params: usize,
    /// values[(param * n_chains + chain) * n_draws + draw], params ordered as `Batch::n_params` says
    /// (empty after `run_streamed`, which handed them to its sink).
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

/// The four reported hyperparameters of a one-level unit at z.
fn hyper_values(prior: &HyperPrior, z: [f64; 2]) -> [f64; 4] {
    let (alpha, beta) = prior.alpha_beta(z);
    [alpha, beta, alpha / (alpha + beta), alpha + beta]
}

/// Where a parameter's draw comes from in a sweep's state.
#[derive(Debug, Clone, Copy)]
pub(super) enum Source {
    Theta(usize),
    /// HYPER_NAMES[k] of a one-level unit.
    Unit {
        unit: usize,
        k: usize,
    },
    /// NODE_NAMES[k] (omega, kappa) of a node of a multi-level model.
    Node {
        level: usize,
        node: usize,
        k: usize,
    },
}

/// Every parameter's source, in `Batch::n_params` order.
pub(super) fn sources(batch: &Batch, keep_thetas: bool) -> Vec<Source> {
    let mut out = vec![Source::Theta(0); batch.n_params(keep_thetas)];
    if batch.is_tree() {
        if keep_thetas {
            for (o, s) in out.iter_mut().take(batch.n_obs()).enumerate() {
                *s = Source::Theta(o);
            }
        }
        for (level, &size) in batch.level_sizes.iter().enumerate() {
            for node in 0..size {
                let p = batch.node_param_start(level, node, keep_thetas);
                out[p] = Source::Node { level, node, k: 0 };
                out[p + 1] = Source::Node { level, node, k: 1 };
            }
        }
        return out;
    }
    for unit in 0..batch.n_units() {
        let mut p = batch.unit_param_start(unit, keep_thetas);
        if keep_thetas {
            for o in batch.unit_offsets[unit] as usize..batch.unit_offsets[unit + 1] as usize {
                out[p] = Source::Theta(o);
                p += 1;
            }
        }
        for k in 0..4 {
            out[p + k] = Source::Unit { unit, k };
        }
    }
    out
}

/// Draws per rayon task when a sweep's state is copied in: enough to outweigh the task.
const VALUES_PER_TASK: usize = 512;

/// Copy one sweep's state into the draws array, whose stretches hold `n_draws` draws: each
/// parameter's chains in turn, parameters in parallel (the copy, serial, cost a fifth of
/// the rats' sampling).
pub(super) fn store_draw(
    levels: &Levels,
    config: &SamplerConfig,
    sources: &[Source],
    theta: &[f32],
    draw: usize,
    n_draws: usize,
    values: &mut [f64],
) {
    let n_obs = levels.batch.n_obs();
    let n_chains = config.chains as usize;
    values
        .par_chunks_mut(n_chains * n_draws)
        .zip(sources.par_iter())
        .with_min_len(VALUES_PER_TASK.div_ceil(n_chains).max(1))
        .for_each(|(stretches, source)| {
            for chain in 0..n_chains {
                stretches[chain * n_draws + draw] = match *source {
                    Source::Theta(o) => f64::from(theta[chain * n_obs + o]),
                    Source::Unit { unit, k } => {
                        hyper_values(&config.prior, levels.state(0, chain, unit).z)[k]
                    }
                    Source::Node { level, node, k } => {
                        let z = levels.state(level, chain, node).z;
                        if k == 0 {
                            sigmoid(z[0])
                        } else {
                            z[1].exp() + 2.0
                        }
                    }
                };
            }
        });
}

//! The kept draws: the `Fit` that holds them, and the copy of one sweep's state into it.

use crate::math::sigmoid;
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

/// Copy one sweep's state into the draws array, whose stretches hold `n_draws` draws.
pub(super) fn store_draw(
    levels: &Levels,
    config: &SamplerConfig,
    theta: &[f32],
    draw: usize,
    n_draws: usize,
    values: &mut [f64],
) {
    let batch = levels.batch;
    let (n_units, n_obs) = (batch.n_units(), batch.n_obs());
    let n_chains = config.chains as usize;
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

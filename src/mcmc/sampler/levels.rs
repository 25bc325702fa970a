//! The node states of every level and the priors they imply; the slice (and escape)
//! updates of the levels above the units.

use rayon::prelude::*;

use crate::math::softplus;
use crate::mcmc::batch::Batch;
use crate::mcmc::metropolis::RandomWalk;
use crate::mcmc::prior::HyperPrior;
use crate::rng::{Stream, UniformStream};

use super::config::SamplerConfig;
use super::hyper::HyperState;

/// The node states of every level, chain-major within a level, and the priors they imply.
pub(super) struct Levels<'a> {
    pub(super) batch: &'a Batch,
    /// The roots' prior; in a multi-level model also the source of every group's kappa prior.
    pub(super) top: HyperPrior,
    pub(super) n_chains: usize,
    pub(super) states: Vec<Vec<HyperState>>,
    /// Per level above the units, per (chain, node): the independence proposal learnt in
    /// warm-up. After warm-up every sweep adds one independence Metropolis step to the slice
    /// rounds: the vague Gamma(0.01, 0.01) on kappa - 2 gives the conditional of log(kappa - 2)
    /// a long, nearly flat left tail (kappa -> 2, a uniform Beta), which the slice sampler's
    /// fixed width crosses in hundreds of sweeps when a chain strays into it, and from which
    /// an independence proposal returns in a few.
    pub(super) escapes: Vec<Vec<RandomWalk>>,
}

impl Levels<'_> {
    pub(super) fn state(&self, level: usize, chain: usize, node: usize) -> &HyperState {
        &self.states[level][chain * self.batch.level_sizes[level] + node]
    }

    /// The prior of node v of `level` in `chain`: the top prior at the root level; below it,
    /// omega ~ Beta(alpha, beta) of the parent and kappa - 2 ~ Gamma(shape, rate) of the top prior.
    pub(super) fn prior(&self, level: usize, chain: usize, node: usize) -> HyperPrior {
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
    pub(super) fn unit_shapes(&self, out: &mut [[f32; 2]]) {
        for (h, s) in out.iter_mut().zip(&self.states[0]) {
            let (a, b) = self.top.alpha_beta(s.z);
            *h = [a as f32, b as f32];
        }
    }

    /// (alpha, beta) of every (chain, unit) in f64, as the collapsed marginal takes them.
    pub(super) fn unit_alpha_beta(&self) -> Vec<[f64; 2]> {
        self.states[0]
            .iter()
            .map(|s| {
                let (a, b) = self.top.alpha_beta(s.z);
                [a, b]
            })
            .collect()
    }

    /// Slice-update every node of `level` >= 1 from its children's modes.
    pub(super) fn update_level(&mut self, level: usize, sweep: u32, config: &SamplerConfig) {
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

//! What to run: the update of the units' hyperparameters, the prior and the chain lengths.

use crate::kernels::gpu::DEFAULT_WORKGROUP_SIZE;
use crate::mcmc::batch::Batch;
use crate::mcmc::prior::HyperPrior;

/// Slice-sampling rounds per sweep of the gibbs update (see SamplerConfig::hyper_rounds).
pub const DEFAULT_HYPER_ROUNDS: u32 = 1;
/// Metropolis steps per sweep of the collapsed update, each one pass of the marginal. With
/// the thetas drawn, as `sample` draws them, 4 rather than 2 gave 1.3-1.6x the slowest ESS
/// per second of the whole command on the rats and on baseball (docs/benchmarks.md).
pub const DEFAULT_COLLAPSED_STEPS: u32 = 4;

/// How the units' (alpha, beta) move: see the `sampler` module documentation.
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

/// Bytes per (chain, unit) of host state beyond the draws: the hyperparameters, their
/// slice or Metropolis state and the collapsed update's likelihoods (an upper bound).
const HOST_BYTES_PER_CHAIN_UNIT: u64 = 128;

impl SamplerConfig {
    /// The memory a run of this config on `batch` holds at its peak: every kept draw in f64
    /// (they are summarised after the run), and per chain the thetas, the pieces' sums and
    /// the units' state. Checked before a run, so that an impossible size is a message.
    pub fn memory_bytes(&self, batch: &Batch) -> u64 {
        let chains = u64::from(self.chains);
        let draws = batch.n_params(self.keep_thetas) as u64 * chains * u64::from(self.draws) * 8;
        let per_chain = batch.n_obs() as u64 * 4
            + batch.pieces.len() as u64 * 12
            + batch.n_units() as u64 * HOST_BYTES_PER_CHAIN_UNIT;
        draws.saturating_add(chains.saturating_mul(per_chain))
    }
}

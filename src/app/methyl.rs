//! `methyl`: a bisulphite-sequencing study fitted site by site, differential methylation
//! called (the work is `crate::methyl::run`).

use crate::methyl::config::MethylConfig;

/// `methyl`: the run writes and prints its own outputs; its report is for the benchmark.
pub fn run(config: &MethylConfig) -> anyhow::Result<()> {
    crate::methyl::run::run_methyl(config).map(|_| ())
}

/// `methyl prior`: stage 1 of a sharded run.
pub fn prior(config: &MethylConfig) -> anyhow::Result<()> {
    crate::methyl::run::run_prior(config)
}

/// `methyl fit --prior P`: stage 2 on one shard.
pub fn fit(config: &MethylConfig, prior: &std::path::Path) -> anyhow::Result<()> {
    crate::methyl::run::run_fit(config, prior)
}

/// `methyl call`: the shards joined.
pub fn call(config: &crate::methyl::run::CallConfig) -> anyhow::Result<()> {
    crate::methyl::run::run_call(config)
}

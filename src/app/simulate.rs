//! `simulate`: a synthetic two-group methylation study with its truth (the work is
//! `crate::methyl::simulate`).

use crate::methyl::simulate::SimulateConfig;

/// `simulate`: the study's files into the config's output directory.
pub fn run(config: &SimulateConfig) -> anyhow::Result<()> {
    crate::methyl::simulate::simulate(config)
}

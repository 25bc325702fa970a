//! `methyl`: a bisulphite-sequencing study fitted site by site, differential methylation
//! called (the work is `crate::methyl::run`).

use crate::methyl::config::MethylConfig;

/// `methyl`: the run writes and prints its own outputs; its report is for the benchmark.
pub fn run(config: &MethylConfig) -> anyhow::Result<()> {
    crate::methyl::run::run_methyl(config).map(|_| ())
}

//! The command line (clap): one file per command holds its flags and their conversion
//! (`into_config`; `bench`'s `into_job`), which checks them and returns the validated config
//! that the command's `app` module runs. Nothing below `app` sees a flag.

use clap::{Parser, Subcommand};

mod bench;
mod compare;
mod covariates;
mod export;
mod methyl;
mod plot;
mod sample;
mod simulate;

pub use bench::BenchArgs;
pub use compare::CompareArgs;
pub use export::ExportArgs;
pub use methyl::{MethylArgs, MethylJob};
pub use plot::{PlotArgs, DEFAULT_TOP_REGIONS};
pub use sample::{ChainArgs, Demo, DemoArgs, DemoData, SampleArgs};
pub use simulate::{NoiseChoice, SimulateArgs};

/// The whole command line: one subcommand and its flags.
#[derive(Debug, Parser)]
#[command(name = "betagibbs", version, about = "Hierarchical beta-binomial models by Gibbs sampling on the GPU (WGSL via wgpu) or the CPU", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands (their doc lines are the help text).
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fit y ~ Binomial(n, theta), theta ~ Beta(alpha, beta) to a CSV, TSV or Parquet file.
    Sample(SampleArgs),
    /// Fit a model to data built into the binary: rats (BDA3 ch. 5) or baseball (DBDA2 ch. 9).
    Demo(DemoArgs),
    /// Time the GPU and CPU paths, and the gibbs and collapsed updates, side by side on an embedded model.
    Bench(BenchArgs),
    /// Fit every CpG site of a bisulphite-sequencing study and call differential methylation.
    Methyl(Box<MethylArgs>),
    /// Write a synthetic two-group methylation study with its truth: bimodal levels
    /// correlated along the genome, DMRs as regions, replicates not from the fitted model.
    Simulate(SimulateArgs),
    /// Estimate the same thetas by complete and no pooling, empirical Bayes (moments and
    /// marginal likelihood), Laplace + SIR and the Gibbs sampler; one table and one figure.
    Compare(CompareArgs),
    /// Draw figures from a run's Parquet outputs (sample, demo or compare).
    Plot(PlotArgs),
    /// Write a methyl run's genome-browser tracks: BED of its calls, bedGraph of every site.
    Export(ExportArgs),
}

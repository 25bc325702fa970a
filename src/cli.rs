//! Command-line flags (clap) and their conversion into validated configs before anything runs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::app::{BenchConfig, Contrast, DataSource, RunConfig, UserError};
use crate::data::ColumnSpec;
use crate::prior::HyperPrior;
use crate::sampler::SamplerConfig;

#[derive(Debug, Parser)]
#[command(name = "betagibbs", version, about = "Hierarchical beta-binomial models by Gibbs sampling on the GPU (WGSL via wgpu) or the CPU", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fit y ~ Binomial(n, theta), theta ~ Beta(alpha, beta) to a CSV, TSV or Parquet file.
    Sample(SampleArgs),
    /// Fit the rat-tumour model (BDA3 ch. 5) to the data built into the binary.
    Demo(DemoArgs),
    /// Time the GPU and CPU paths side by side on the rat model.
    Bench(BenchArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeviceChoice {
    /// A hardware GPU when there is one, else the CPU (said on stderr).
    Auto,
    /// A GPU adapter, software drivers (lavapipe) included; an error when there is none.
    Gpu,
    /// The CPU path on all cores.
    Cpu,
}

#[derive(Debug, Args)]
pub struct ChainArgs {
    /// Hyperprior: bda3, kruschke or mean-concentration, optionally with parameters, e.g. 'kruschke(a=1,b=1,shape=0.01,rate=0.01)'.
    #[arg(long, default_value = "bda3")]
    pub prior: String,
    /// Independent chains (1 to at least 16,384).
    #[arg(long, default_value_t = 4)]
    pub chains: u32,
    /// Warm-up sweeps per chain (adapt the slice widths; discarded).
    #[arg(long, default_value_t = 1000)]
    pub warmup: u32,
    /// Kept draws per chain, after thinning.
    #[arg(long, default_value_t = 1000)]
    pub draws: u32,
    /// Keep every N-th post-warm-up sweep.
    #[arg(long, default_value_t = 1)]
    pub thin: u32,
    /// Random seed (32-bit): the Philox key is (seed, chain).
    #[arg(long, default_value_t = 20_131_105)]
    pub seed: u32,
    /// Slice-sampling rounds over the hyperparameters per sweep (each is O(1): no pass over the data).
    #[arg(long, default_value_t = crate::sampler::DEFAULT_HYPER_ROUNDS)]
    pub hyper_rounds: u32,
    /// Where the theta updates run.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    pub device: DeviceChoice,
    /// Difference of two parameters to summarise, as 'NAME - NAME', e.g. 'theta[71] - theta[1]'
    /// (repeatable): its mean, 95% HDI and P(> 0) go into the summary.
    #[arg(long = "contrast", value_name = "EXPR")]
    pub contrasts: Vec<String>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct SampleArgs {
    /// Input table: .csv, .tsv or .parquet (others are sniffed).
    pub data: PathBuf,
    /// Column of successes y.
    #[arg(long)]
    pub successes: String,
    /// Column of trials n.
    #[arg(long)]
    pub trials: String,
    /// Column naming the unit: each unit is an independent model with its own (alpha, beta).
    #[arg(long)]
    pub unit: Option<String>,
    /// Column whose values name the thetas (default: the 1-based row number).
    #[arg(long, conflicts_with = "aggregate_by")]
    pub id: Option<String>,
    /// Merge rows with the same value of COL (within a unit) into one observation, summing
    /// successes and trials; COL's values name the thetas (e.g. players merged by position).
    #[arg(long, value_name = "COL")]
    pub aggregate_by: Option<String>,
    /// Output directory for draws.parquet and summary.parquet.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub chains: ChainArgs,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Output directory.
    #[arg(long, default_value = "betagibbs-demo")]
    pub out: PathBuf,
    #[command(flatten)]
    pub chains: ChainArgs,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Chain counts to time, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "4,64,1024,4096")]
    pub chains: Vec<u32>,
    #[arg(long, default_value_t = 1000)]
    pub warmup: u32,
    #[arg(long, default_value_t = 1000)]
    pub draws: u32,
    #[arg(long, default_value_t = 1)]
    pub seed: u32,
    #[arg(long, default_value_t = crate::sampler::DEFAULT_HYPER_ROUNDS)]
    pub hyper_rounds: u32,
    /// Skip the GPU path (e.g. where only a slow software driver exists).
    #[arg(long)]
    pub cpu_only: bool,
}

fn sampler_config(args: &ChainArgs) -> Result<SamplerConfig, UserError> {
    let prior = HyperPrior::parse(&args.prior).map_err(UserError)?;
    for (name, v) in [
        ("--chains", args.chains),
        ("--draws", args.draws),
        ("--thin", args.thin),
        ("--hyper-rounds", args.hyper_rounds),
    ] {
        if v == 0 {
            return Err(UserError(format!("{name} must be at least 1")));
        }
    }
    let sweeps = u64::from(args.draws) * u64::from(args.thin) + u64::from(args.warmup);
    if sweeps > u64::from(u32::MAX) {
        return Err(UserError(format!(
            "--warmup + --draws x --thin = {sweeps} sweeps: at most {} (the sweep is a 32-bit counter word)",
            u32::MAX
        )));
    }
    let mut config = SamplerConfig::new(
        prior,
        args.chains,
        args.warmup,
        args.draws,
        args.thin,
        args.seed,
    );
    config.hyper_rounds = args.hyper_rounds;
    Ok(config)
}

fn contrasts(args: &ChainArgs) -> Result<Vec<Contrast>, UserError> {
    args.contrasts.iter().map(|c| Contrast::parse(c)).collect()
}

impl SampleArgs {
    pub fn into_config(self) -> Result<RunConfig, UserError> {
        Ok(RunConfig {
            sampler: sampler_config(&self.chains)?,
            source: DataSource::File(self.data),
            columns: ColumnSpec {
                successes: self.successes,
                trials: self.trials,
                unit: self.unit,
                aggregate_ids: self.aggregate_by.is_some(),
                id: self.id.or(self.aggregate_by),
            },
            device: self.chains.device,
            contrasts: contrasts(&self.chains)?,
            out: self.out,
            quiet: self.chains.quiet,
        })
    }
}

impl DemoArgs {
    pub fn into_config(self) -> Result<RunConfig, UserError> {
        Ok(RunConfig {
            sampler: sampler_config(&self.chains)?,
            source: DataSource::EmbeddedRats,
            columns: crate::app::rats_columns(),
            device: self.chains.device,
            contrasts: contrasts(&self.chains)?,
            out: self.out,
            quiet: self.chains.quiet,
        })
    }
}

impl BenchArgs {
    pub fn into_config(self) -> Result<BenchConfig, UserError> {
        if self.chains.is_empty()
            || self.chains.contains(&0)
            || self.draws == 0
            || self.hyper_rounds == 0
        {
            return Err(UserError(
                "--chains must list positive counts and --draws must be at least 1".into(),
            ));
        }
        Ok(BenchConfig {
            chains: self.chains,
            warmup: self.warmup,
            draws: self.draws,
            seed: self.seed,
            hyper_rounds: self.hyper_rounds,
            gpu: !self.cpu_only,
        })
    }
}

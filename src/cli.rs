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
    /// Fit a model to data built into the binary: rats (BDA3 ch. 5) or baseball (DBDA2 ch. 9).
    Demo(DemoArgs),
    /// Time the GPU and CPU paths, and the gibbs and collapsed updates, side by side on an embedded model.
    Bench(BenchArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DemoData {
    Rats,
    Baseball,
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
    /// Hyperprior: bda3, kruschke or mean-concentration, optionally with parameters, e.g.
    /// 'kruschke(a=1,b=1,shape=0.01,rate=0.01)'. Default: bda3, or kruschke with --group
    /// (multi-level models need it: its shape and rate are every group's kappa - 2 prior).
    #[arg(long)]
    pub prior: Option<String>,
    /// How the groups directly above the thetas move: collapsed (their (omega, kappa) given
    /// the data with the thetas integrated out, by Metropolis on the beta-binomial marginal
    /// computed on the device; then conjugate thetas) or gibbs (given the thetas, as JAGS).
    #[arg(long, value_enum, default_value_t = crate::sampler::Update::Collapsed)]
    pub update: crate::sampler::Update,
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
    /// Hyperparameter rounds per sweep: gibbs, slice-sampling rounds (each O(1), no pass over
    /// the data; default 1); collapsed, Metropolis steps (each one pass over the data; default 2).
    #[arg(long)]
    pub hyper_rounds: Option<u32>,
    /// Where the per-observation stages run.
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
    /// Group column of a multi-level model (repeatable, innermost first: --group team
    /// --group league): theta ~ Beta by group, each group's mode ~ Beta by its parent, up to
    /// one root. Names: omega[<label>], kappa[<label>]; the root's omega, kappa.
    #[arg(long = "group", value_name = "COL", conflicts_with_all = ["unit", "aggregate_by"])]
    pub groups: Vec<String>,
    /// Output directory for draws.parquet and summary.parquet.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub chains: ChainArgs,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Which data: rats (BDA3 ch. 5, one level) or baseball (Kruschke DBDA2 ch. 9:
    /// 948 players in 9 positions, two levels).
    #[arg(value_enum, default_value_t = DemoData::Rats)]
    pub data: DemoData,
    /// Output directory.
    #[arg(long, default_value = "betagibbs-demo")]
    pub out: PathBuf,
    #[command(flatten)]
    pub chains: ChainArgs,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Which embedded model to time: rats (one level) or baseball (two levels).
    #[arg(long, value_enum, default_value_t = DemoData::Rats)]
    pub model: DemoData,
    /// Chain counts to time, comma-separated (default: 4,64,1024,4096 for rats, 4,16,64 for baseball).
    #[arg(long, value_delimiter = ',')]
    pub chains: Vec<u32>,
    /// Updates to time, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "gibbs,collapsed"
    )]
    pub update: Vec<crate::sampler::Update>,
    #[arg(long, default_value_t = 1000)]
    pub warmup: u32,
    #[arg(long, default_value_t = 1000)]
    pub draws: u32,
    #[arg(long, default_value_t = 1)]
    pub seed: u32,
    /// Hyperparameter rounds per sweep (default: each update's own, as in `sample`).
    #[arg(long)]
    pub hyper_rounds: Option<u32>,
    /// Skip the GPU path (e.g. where only a slow software driver exists).
    #[arg(long)]
    pub cpu_only: bool,
}

impl DemoData {
    fn embedded(self) -> crate::app::Embedded {
        match self {
            DemoData::Rats => crate::app::Embedded::Rats,
            DemoData::Baseball => crate::app::Embedded::Baseball,
        }
    }
}

/// `grouped`: a multi-level model, which needs the kruschke prior's kappa - 2 ~ Gamma(shape, rate).
fn sampler_config(args: &ChainArgs, grouped: bool) -> Result<SamplerConfig, UserError> {
    let spec = args
        .prior
        .as_deref()
        .unwrap_or(if grouped { "kruschke" } else { "bda3" });
    let prior = HyperPrior::parse(spec).map_err(|e| UserError(format!("--prior: {e}")))?;
    if grouped && !matches!(prior, HyperPrior::Kruschke { .. }) {
        return Err(UserError(format!(
            "--prior {spec}: models with --group need the kruschke prior (its shape and rate are \
             every group's kappa - 2 ~ Gamma(shape, rate)), e.g. 'kruschke(a=1,b=1,shape=0.01,rate=0.01)'"
        )));
    }
    let hyper_rounds = args.hyper_rounds.unwrap_or(args.update.default_rounds());
    for (name, v) in [
        ("--chains", args.chains),
        ("--draws", args.draws),
        ("--thin", args.thin),
        ("--hyper-rounds", hyper_rounds),
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
    config.hyper_rounds = hyper_rounds;
    config.update = args.update;
    Ok(config)
}

fn contrasts(args: &ChainArgs) -> Result<Vec<Contrast>, UserError> {
    args.contrasts.iter().map(|c| Contrast::parse(c)).collect()
}

impl SampleArgs {
    pub fn into_config(self) -> Result<RunConfig, UserError> {
        Ok(RunConfig {
            sampler: sampler_config(&self.chains, !self.groups.is_empty())?,
            source: DataSource::File(self.data),
            columns: ColumnSpec {
                successes: self.successes,
                trials: self.trials,
                unit: self.unit,
                aggregate_ids: self.aggregate_by.is_some(),
                id: self.id.or(self.aggregate_by),
                groups: self.groups,
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
            sampler: sampler_config(&self.chains, self.data == DemoData::Baseball)?,
            source: DataSource::Embedded(self.data.embedded()),
            columns: self.data.embedded().columns(),
            device: self.chains.device,
            contrasts: contrasts(&self.chains)?,
            out: self.out,
            quiet: self.chains.quiet,
        })
    }
}

impl BenchArgs {
    pub fn into_config(self) -> Result<BenchConfig, UserError> {
        let chains = if self.chains.is_empty() {
            match self.model {
                DemoData::Rats => vec![4, 64, 1024, 4096],
                DemoData::Baseball => vec![4, 16, 64],
            }
        } else {
            self.chains
        };
        if chains.contains(&0) || self.draws == 0 || self.hyper_rounds == Some(0) {
            return Err(UserError(
                "--chains must list positive counts, and --draws and --hyper-rounds must be at least 1"
                    .into(),
            ));
        }
        Ok(BenchConfig {
            model: self.model.embedded(),
            chains,
            updates: self.update,
            warmup: self.warmup,
            draws: self.draws,
            seed: self.seed,
            hyper_rounds: self.hyper_rounds,
            gpu: !self.cpu_only,
        })
    }
}

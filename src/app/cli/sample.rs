//! `sample`'s and `demo`'s flags: the data, and the chains' flags they share (`ChainArgs`).

use std::path::PathBuf;

use clap::Args;

use crate::app::demo::MethylDemo;
use crate::app::embedded::Embedded;
use crate::app::sample::{DesignSpec, RunConfig};
use crate::app::source::DataSource;
use crate::error::UserError;
use crate::io::read::ColumnSpec;
use crate::kernels::DeviceChoice;
use crate::mcmc::contrast::Contrast;
use crate::mcmc::prior::HyperPrior;
use crate::mcmc::sampler::{SamplerConfig, Update};
use crate::methyl::config::DEFAULT_SEED;
use crate::plot::figures::ImageFormat;

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
    #[arg(long, value_enum, default_value_t = Update::Collapsed)]
    pub update: Update,
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
    #[arg(long, default_value_t = DEFAULT_SEED)]
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
    /// Posterior predictive checks: replicated data for every observation and a new member
    /// of every unit or group, to predictive.parquet, and p-values of a few test statistics.
    #[arg(long)]
    pub ppc: bool,
    /// Draw the default figures into OUT/figures: svg, or --plot=png.
    #[arg(long, value_enum, num_args = 0..=1, require_equals = true, default_missing_value = "svg", value_name = "FORMAT")]
    pub plot: Option<ImageFormat>,
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
    /// Beta-binomial regression instead: logit mu = x · beta with the design of this R
    /// formula, e.g. '~ group + sex'; theta ~ Beta(mu kappa, (1 - mu) kappa). Parameters
    /// coef[<name>] (R's names), kappa and theta[<row>]. Runs on the CPU.
    #[arg(long, value_name = "FORMULA", conflicts_with_all = DESIGN_CONFLICTS)]
    pub design: Option<String>,
    /// With --design: drop the rows with zero trials (and say how many) instead of refusing them.
    #[arg(long, requires = "design")]
    pub drop_empty: bool,
    /// Output directory for draws.parquet and summary.parquet.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub chains: ChainArgs,
}

/// The flags of the hierarchical model that a regression (`--design`) has no use for.
const DESIGN_CONFLICTS: [&str; 8] = [
    "unit",
    "aggregate_by",
    "groups",
    "prior",
    "update",
    "hyper_rounds",
    "ppc",
    "plot",
];

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Which data: rats (BDA3 ch. 5, one level), baseball (Kruschke DBDA2 ch. 9: 948 players
    /// in 9 positions, two levels), or methyl (a simulated 2 x 2 methylation study, fitted,
    /// called and scored against its truth; takes --out, --device, --seed and --quiet).
    #[arg(value_enum, default_value_t = DemoData::Rats)]
    pub data: DemoData,
    /// Output directory.
    #[arg(long, default_value = "betagibbs-demo")]
    pub out: PathBuf,
    #[command(flatten)]
    pub chains: ChainArgs,
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

/// `--contrast` (repeatable): each 'NAME - NAME' parsed.
pub(super) fn parse_contrasts(texts: &[String]) -> Result<Vec<Contrast>, UserError> {
    texts.iter().map(|c| Contrast::parse(c)).collect()
}

impl ChainArgs {
    /// The run's config: these flags with the data and output directory the command chose;
    /// `grouped` as in `sampler_config`.
    fn into_run_config(
        self,
        grouped: bool,
        source: DataSource,
        columns: ColumnSpec,
        out: PathBuf,
    ) -> Result<RunConfig, UserError> {
        Ok(RunConfig {
            sampler: sampler_config(&self, grouped)?,
            source,
            columns,
            device: self.device,
            contrasts: parse_contrasts(&self.contrasts)?,
            out,
            quiet: self.quiet,
            ppc: self.ppc,
            plot: self.plot,
            design: None,
        })
    }
}

impl SampleArgs {
    pub fn into_config(self) -> Result<RunConfig, UserError> {
        let grouped = !self.groups.is_empty();
        let columns = ColumnSpec {
            successes: self.successes,
            trials: self.trials,
            unit: self.unit,
            aggregate_ids: self.aggregate_by.is_some(),
            id: self.id.or(self.aggregate_by),
            groups: self.groups,
        };
        if self.design.is_some() && self.chains.device == DeviceChoice::Gpu {
            return Err(UserError(
                "--device gpu: the regression (--design) runs on the CPU only; leave out --device \
                 or give --device cpu"
                    .into(),
            ));
        }
        let mut config =
            self.chains
                .into_run_config(grouped, DataSource::File(self.data), columns, self.out)?;
        config.design = self.design.map(|formula| DesignSpec {
            formula,
            drop_empty: self.drop_empty,
        });
        Ok(config)
    }
}

/// What `demo` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DemoData {
    Rats,
    Baseball,
    Methyl,
}

/// A demo's validated config: an embedded table's fit, or the methylation job.
pub enum Demo {
    Sample(Box<RunConfig>),
    Methyl(MethylDemo),
}

impl DemoArgs {
    pub fn into_demo(self) -> Result<Demo, UserError> {
        let data = match self.data {
            DemoData::Methyl => {
                return Ok(Demo::Methyl(MethylDemo {
                    out: self.out,
                    device: self.chains.device,
                    seed: self.chains.seed,
                    quiet: self.chains.quiet,
                }))
            }
            DemoData::Rats => Embedded::Rats,
            DemoData::Baseball => Embedded::Baseball,
        };
        self.chains
            .into_run_config(
                data == Embedded::Baseball,
                DataSource::Embedded(data),
                data.columns(),
                self.out,
            )
            .map(|c| Demo::Sample(Box::new(c)))
    }
}

//! Command-line flags (clap) and their conversion into validated configs before anything runs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::app::{BenchConfig, DataSource, Embedded, RunConfig};
use crate::error::UserError;
use crate::io::read::ColumnSpec;
use crate::kernels::DeviceChoice;
use crate::mcmc::contrast::Contrast;
use crate::mcmc::prior::HyperPrior;
use crate::mcmc::sampler::SamplerConfig;
use crate::methyl::config::*;

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
    /// Fit every CpG site of a bisulphite-sequencing study and call differential methylation.
    Methyl(MethylArgs),
    /// Write a synthetic two-group methylation study with its truth: bimodal levels
    /// correlated along the genome, DMRs as regions, replicates not from the fitted model.
    Simulate(SimulateArgs),
    /// Estimate the same thetas by complete and no pooling, empirical Bayes (moments and
    /// marginal likelihood), Laplace + SIR and the Gibbs sampler; one table and one figure.
    Compare(CompareArgs),
    /// Draw figures from a run's Parquet outputs (sample, demo or compare).
    Plot(PlotArgs),
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Input table (.csv, .tsv or .parquet); or use --demo.
    #[arg(required_unless_present = "demo", conflicts_with = "demo")]
    pub data: Option<PathBuf>,
    /// Embedded data instead of a file (baseball's players as one population).
    #[arg(long, value_enum)]
    pub demo: Option<Embedded>,
    /// Column of successes y.
    #[arg(long, required_unless_present = "demo")]
    pub successes: Option<String>,
    /// Column of trials n.
    #[arg(long, required_unless_present = "demo")]
    pub trials: Option<String>,
    /// Column whose values name the thetas (default: the 1-based row number).
    #[arg(long)]
    pub id: Option<String>,
    /// Draws per estimator (the Gibbs sampler's are split over its chains).
    #[arg(long, default_value_t = 4000)]
    pub draws: u32,
    /// Proposals of the sampling importance resampling step.
    #[arg(long, default_value_t = 20_000)]
    pub sir_proposals: usize,
    /// Hyperprior of the Laplace and Gibbs fits (as `sample --prior`).
    #[arg(long, default_value = "bda3")]
    pub prior: String,
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u32,
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    pub device: DeviceChoice,
    /// Figure format.
    #[arg(long, value_enum, default_value_t = crate::plot::figures::ImageFormat::Svg)]
    pub format: crate::plot::figures::ImageFormat,
    /// Output directory: comparison.parquet, observations.parquet, comparison.svg.
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct PlotArgs {
    /// A run's output directory (with draws.parquet, and predictive.parquet or comparison.parquet).
    pub dir: PathBuf,
    /// Figures to draw (repeatable; default: every one the directory's files allow).
    #[arg(long = "figure", value_enum)]
    pub figures: Vec<crate::plot::figures::Figure>,
    /// Parameters of the density and trace figures (repeatable), e.g. 'omega[Pitcher]'.
    #[arg(long = "param", value_name = "NAME")]
    pub params: Vec<String>,
    /// Differences for the density and trace figures, 'NAME - NAME' (repeatable).
    #[arg(long = "contrast", value_name = "EXPR")]
    pub contrasts: Vec<String>,
    #[arg(long, value_enum, default_value_t = crate::plot::figures::ImageFormat::Svg)]
    pub format: crate::plot::figures::ImageFormat,
    /// Where the figures go (default: DIR/figures).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

impl PlotArgs {
    pub fn into_config(self) -> Result<crate::plot::figures::PlotConfig, UserError> {
        Ok(crate::plot::figures::PlotConfig {
            out: self.out.unwrap_or_else(|| self.dir.join("figures")),
            dir: self.dir,
            figures: self.figures,
            params: self.params,
            contrasts: self
                .contrasts
                .iter()
                .map(|c| Contrast::parse(c))
                .collect::<Result<_, _>>()?,
            format: self.format,
        })
    }
}

impl CompareArgs {
    pub fn into_config(self) -> Result<crate::app::compare::CompareConfig, UserError> {
        let prior =
            HyperPrior::parse(&self.prior).map_err(|e| UserError(format!("--prior: {e}")))?;
        if self.draws < 4 || self.sir_proposals < 2 {
            return Err(UserError(
                "--draws must be at least 4 and --sir-proposals at least 2".into(),
            ));
        }
        let (source, columns) = match (self.data, self.demo) {
            (_, Some(demo)) => {
                let mut columns = demo.columns();
                // One population: the ladder's estimators have no levels.
                columns.groups.clear();
                (DataSource::Embedded(demo), columns)
            }
            (Some(path), None) => (
                DataSource::File(path),
                ColumnSpec {
                    successes: self.successes.unwrap_or_default(),
                    trials: self.trials.unwrap_or_default(),
                    unit: None,
                    aggregate_ids: false,
                    id: self.id,
                    groups: Vec::new(),
                },
            ),
            (None, None) => return Err(UserError("give DATA or --demo".into())),
        };
        Ok(crate::app::compare::CompareConfig {
            source,
            columns,
            draws: self.draws,
            sir_proposals: self.sir_proposals,
            prior,
            seed: self.seed,
            device: self.device,
            format: self.format,
            out: self.out,
            quiet: self.quiet,
        })
    }
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
    #[arg(long, value_enum, default_value_t = crate::mcmc::sampler::Update::Collapsed)]
    pub update: crate::mcmc::sampler::Update,
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
    pub plot: Option<crate::plot::figures::ImageFormat>,
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
    #[arg(value_enum, default_value_t = Embedded::Rats)]
    pub data: Embedded,
    /// Output directory.
    #[arg(long, default_value = "betagibbs-demo")]
    pub out: PathBuf,
    #[command(flatten)]
    pub chains: ChainArgs,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Which embedded model to time: rats (one level) or baseball (two levels).
    #[arg(long, value_enum, default_value_t = Embedded::Rats)]
    pub model: Embedded,
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
    pub update: Vec<crate::mcmc::sampler::Update>,
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
    /// Time `methyl` on this sample sheet instead of an embedded model (with --compare).
    #[arg(long, requires = "compare")]
    pub sheet: Option<PathBuf>,
    /// The groups of --sheet to compare, 'A,B'.
    #[arg(long)]
    pub compare: Option<String>,
    /// With --sheet: also time DSS's DMLtest (no smoothing, all cores) on the same files in this
    /// run, and print our CPU path's sites per second over DSS's (needs Rscript and
    /// Bioconductor's DSS, e.g. Debian's r-bioc-dss; the files in DSS's format).
    #[arg(long, requires = "sheet")]
    pub dss: bool,
    /// Instead of timing: the accuracy benchmark (benches/accuracy.py, embedded): null splits
    /// and spike-ins of the real data in --data and a simulator that is not the model,
    /// betagibbs beside DSS in one run; needs python3 with numpy and pyarrow, and Rscript with
    /// Bioconductor's DSS.
    #[arg(long, conflicts_with_all = ["sheet", "dss"])]
    pub accuracy: bool,
    /// With --accuracy: the folder of the shared real data (DSS's example and RRBS example).
    #[arg(long, requires = "accuracy", default_value = "../shared/data")]
    pub data: PathBuf,
    /// With --accuracy: the first 5,000 sites of each data set, for a quick check.
    #[arg(long, requires = "accuracy")]
    pub quick: bool,
    /// With --accuracy: where the report (report.txt, accuracy.json) and every fit go.
    #[arg(long, requires = "accuracy")]
    pub accuracy_out: Option<PathBuf>,
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
            ppc: self.chains.ppc,
            plot: self.chains.plot,
        })
    }
}

impl DemoArgs {
    pub fn into_config(self) -> Result<RunConfig, UserError> {
        Ok(RunConfig {
            sampler: sampler_config(&self.chains, self.data == Embedded::Baseball)?,
            source: DataSource::Embedded(self.data),
            columns: self.data.columns(),
            device: self.chains.device,
            contrasts: contrasts(&self.chains)?,
            out: self.out,
            quiet: self.chains.quiet,
            ppc: self.chains.ppc,
            plot: self.chains.plot,
        })
    }
}

impl BenchArgs {
    /// `bench --sheet`: the methylation benchmark's config, with `methyl`'s defaults.
    pub fn methyl_config(&self) -> Result<Option<MethylConfig>, UserError> {
        let (Some(sheet), Some(compare)) = (&self.sheet, &self.compare) else {
            return Ok(None);
        };
        let mut config = MethylConfig::new(sheet.clone(), parse_compare(compare)?, "unused".into());
        config.quiet = true;
        Ok(Some(config))
    }
    pub fn into_config(self) -> Result<BenchConfig, UserError> {
        let chains = if self.chains.is_empty() {
            match self.model {
                Embedded::Rats => vec![4, 64, 1024, 4096],
                Embedded::Baseball => vec![4, 16, 64],
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
            model: self.model,
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

/// `--compare A,B`: two different, non-empty group names.
fn parse_compare(text: &str) -> Result<(String, String), UserError> {
    text.split_once(',')
        .map(|(a, b)| (a.trim().to_string(), b.trim().to_string()))
        .filter(|(a, b)| !a.is_empty() && !b.is_empty() && a != b)
        .ok_or_else(|| {
            UserError(format!(
                "--compare {text:?}: expected two different groups 'A,B' (delta = mu_B - mu_A)"
            ))
        })
}

#[derive(Debug, Args)]
pub struct MethylArgs {
    /// Sample sheet (CSV or TSV): columns sample, file, group, and optionally format.
    pub sheet: PathBuf,
    /// The two groups to compare, 'A,B': delta = mu_B - mu_A.
    #[arg(long, value_name = "A,B")]
    pub compare: String,
    /// d of the posterior probabilities P(delta > d) and P(delta < -d).
    #[arg(long, default_value_t = DEFAULT_THRESHOLD)]
    pub threshold: f64,
    /// Target Bayesian false discovery rate of the DML calls.
    #[arg(long, default_value_t = DEFAULT_FDR)]
    pub fdr: f64,
    /// A sample's counts at a site are used only when its coverage reaches this.
    #[arg(long, default_value_t = DEFAULT_MIN_COVERAGE)]
    pub min_coverage: u32,
    /// A site is kept only when every group has this many samples with enough coverage.
    #[arg(long, default_value_t = DEFAULT_MIN_SAMPLES_PER_GROUP)]
    pub min_samples_per_group: u32,
    /// Add each CpG's minus-strand counts (one base on) to its plus-strand counts.
    #[arg(long)]
    pub merge_strands: bool,
    /// Chains per site.
    #[arg(long, default_value_t = DEFAULT_CHAINS)]
    pub chains: u32,
    /// Warm-up sweeps per chain and site. Each chain starts from an independence proposal near
    /// the site's posterior: 2 sweeps already gave the same results as 10 (docs/methyl-model.md).
    #[arg(long, default_value_t = DEFAULT_WARMUP)]
    pub warmup: u32,
    /// Kept draws per chain and site.
    #[arg(long, default_value_t = DEFAULT_DRAWS)]
    pub draws: u32,
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u32,
    /// Sites that learn the genome-wide priors: a uniform sample of those that pass the filters.
    #[arg(long, default_value_t = DEFAULT_HYPER_SITES)]
    pub hyper_sites: usize,
    /// Warm-up and kept sweeps of that joint fit.
    #[arg(long, default_value_t = DEFAULT_HYPER_WARMUP)]
    pub hyper_warmup: u32,
    #[arg(long, default_value_t = DEFAULT_HYPER_DRAWS)]
    pub hyper_draws: u32,
    /// Sites per chunk: bounds host and device memory whatever the genome size.
    #[arg(long, default_value_t = DEFAULT_CHUNK_SITES)]
    pub chunk_sites: usize,
    /// Fewest loci in a DMR.
    #[arg(long, default_value_t = DEFAULT_DMR_MIN_CPGS)]
    pub dmr_min_cpgs: u32,
    /// Largest gap in bases between neighbouring loci of a DMR.
    #[arg(long, default_value_t = DEFAULT_DMR_MAX_GAP)]
    pub dmr_max_gap: u64,
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    pub device: DeviceChoice,
    /// Also write every draw of the sites in this region, chr:start-end (1-based, inclusive;
    /// repeatable), to draws.parquet as `<chr>:<pos>/mu[<group>]` and `<chr>:<pos>/delta`.
    #[arg(long = "draws-region", value_name = "CHR:START-END")]
    pub draws_regions: Vec<String>,
    /// Output directory for sites.parquet, dml.parquet and dmr.parquet.
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long)]
    pub quiet: bool,
}

impl MethylArgs {
    pub fn into_config(self) -> Result<MethylConfig, UserError> {
        let (a, b) = parse_compare(&self.compare)?;
        if !(self.threshold >= 0.0 && self.threshold < 1.0) {
            return Err(UserError(format!(
                "--threshold {}: must be in [0, 1)",
                self.threshold
            )));
        }
        if !(self.fdr > 0.0 && self.fdr < 1.0) {
            return Err(UserError(format!("--fdr {}: must be in (0, 1)", self.fdr)));
        }
        for (name, v) in [
            ("--chains", self.chains),
            ("--draws", self.draws),
            ("--hyper-draws", self.hyper_draws),
            ("--min-samples-per-group", self.min_samples_per_group),
            ("--dmr-min-cpgs", self.dmr_min_cpgs),
        ] {
            if v == 0 {
                return Err(UserError(format!("{name} must be at least 1")));
            }
        }
        if self.hyper_sites == 0 || self.chunk_sites == 0 {
            return Err(UserError(
                "--hyper-sites and --chunk-sites must be at least 1".into(),
            ));
        }
        Ok(MethylConfig {
            sheet: self.sheet,
            compare: (a, b),
            filter: crate::methyl::merge::SiteFilter {
                min_coverage: self.min_coverage,
                min_samples_per_group: self.min_samples_per_group,
                merge_strands: self.merge_strands,
            },
            threshold: self.threshold,
            fdr: self.fdr,
            dmr: crate::methyl::regions::DmrRule {
                min_cpgs: self.dmr_min_cpgs,
                max_gap: self.dmr_max_gap,
            },
            fit: crate::methyl::fit::FitConfig {
                chains: self.chains,
                warmup: self.warmup,
                draws: self.draws,
                seed: self.seed,
                hyper_sites: self.hyper_sites,
                hyper_warmup: self.hyper_warmup,
                hyper_draws: self.hyper_draws,
                chunk_sites: self.chunk_sites,
                workgroup_size: crate::kernels::gpu::DEFAULT_WORKGROUP_SIZE,
                scalar_twin: false,
            },
            device: self.device,
            out: self.out,
            quiet: self.quiet,
            draws_regions: self
                .draws_regions
                .iter()
                .map(|r| Region::parse(r))
                .collect::<Result<_, _>>()?,
        })
    }
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// CpG sites, split evenly among the chromosomes.
    #[arg(long, default_value_t = crate::methyl::simulate::DEFAULT_SITES)]
    pub sites: u32,
    /// Samples per group (groups A and B).
    #[arg(long, default_value_t = crate::methyl::simulate::DEFAULT_REPLICATES)]
    pub replicates: u32,
    /// Chromosomes, named chr1 ... chrK.
    #[arg(long, default_value_t = crate::methyl::simulate::DEFAULT_CHROMOSOMES)]
    pub chromosomes: u32,
    /// Smallest and largest coverage per sample and site (uniform), 'LO,HI'.
    #[arg(long, default_value = "10,40")]
    pub coverage: String,
    /// Share of the sites outside every DMR, in (0, 1]; below about 0.3 the DMRs cannot be
    /// kept apart and the realised share is higher.
    #[arg(long, default_value_t = crate::methyl::simulate::DEFAULT_NULL_FRACTION)]
    pub null_fraction: f64,
    /// Fewest and most neighbouring CpGs of a DMR, 'LO,HI'.
    #[arg(long, default_value = "5,20")]
    pub dmr_cpgs: String,
    /// Smallest and largest peak |delta| of a DMR (uniform; its sign at random, turned toward
    /// the side with room), 'LO,HI'.
    #[arg(long, default_value = "0.1,0.5")]
    pub dmr_delta: String,
    /// How replicates scatter around their group's level: logit-normal (not the fitted
    /// model) or beta-binomial (the fitted model's own, log phi ~ Normal(2.7, 0.7^2)).
    #[arg(long, value_enum, default_value_t = NoiseChoice::LogitNormal)]
    pub noise: NoiseChoice,
    /// Logit-scale sd of a sample's proportion around its group's level (logit-normal noise).
    #[arg(long, default_value_t = crate::methyl::simulate::DEFAULT_SAMPLE_SD)]
    pub sample_sd: f64,
    /// Seed of every draw: the same seed and flags give the same bytes.
    #[arg(long, default_value_t = crate::methyl::simulate::DEFAULT_SEED)]
    pub seed: u32,
    /// Output directory: A1.txt ... (DSS format), sheet.tsv, truth.tsv (per site),
    /// truth_regions.tsv (per DMR).
    #[arg(long)]
    pub out: PathBuf,
}

/// `simulate --noise`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NoiseChoice {
    LogitNormal,
    BetaBinomial,
}

/// 'LO,HI' with `ok(LO, HI)`, or None.
fn parse_pair<T: std::str::FromStr + Copy>(
    text: &str,
    ok: impl Fn(T, T) -> bool,
) -> Option<(T, T)> {
    let (lo, hi) = text.split_once(',')?;
    let pair = (lo.trim().parse().ok()?, hi.trim().parse().ok()?);
    ok(pair.0, pair.1).then_some(pair)
}

impl SimulateArgs {
    pub fn into_config(self) -> Result<crate::methyl::simulate::SimulateConfig, UserError> {
        use crate::methyl::simulate::{Noise, SimulateConfig, DEFAULT_PHI};
        let pair_error = |flag: &str, text: &str, rule: &str| {
            UserError(format!("{flag} {text:?}: expected 'LO,HI' with {rule}"))
        };
        let coverage = parse_pair(&self.coverage, |lo: u32, hi| lo >= 1 && lo <= hi)
            .ok_or_else(|| pair_error("--coverage", &self.coverage, "1 <= LO <= HI"))?;
        let dmr_cpgs = parse_pair(&self.dmr_cpgs, |lo: u32, hi| lo >= 1 && lo <= hi)
            .ok_or_else(|| pair_error("--dmr-cpgs", &self.dmr_cpgs, "1 <= LO <= HI"))?;
        let dmr_delta = parse_pair(&self.dmr_delta, |lo: f64, hi| {
            lo > 0.0 && lo <= hi && hi < 1.0
        })
        .ok_or_else(|| pair_error("--dmr-delta", &self.dmr_delta, "0 < LO <= HI < 1"))?;
        if self.sites == 0 || self.replicates == 0 {
            return Err(UserError(
                "--sites and --replicates must be at least 1".into(),
            ));
        }
        if self.chromosomes == 0 || self.chromosomes > self.sites {
            return Err(UserError(format!(
                "--chromosomes {}: must be from 1 to --sites ({})",
                self.chromosomes, self.sites
            )));
        }
        if !(self.null_fraction > 0.0 && self.null_fraction <= 1.0) {
            return Err(UserError(format!(
                "--null-fraction {}: must be in (0, 1]",
                self.null_fraction
            )));
        }
        if !(self.sample_sd >= 0.0 && self.sample_sd.is_finite()) {
            return Err(UserError(format!(
                "--sample-sd {}: must be finite and at least 0",
                self.sample_sd
            )));
        }
        Ok(SimulateConfig {
            sites: self.sites,
            replicates: self.replicates,
            chromosomes: self.chromosomes,
            coverage,
            null_fraction: self.null_fraction,
            dmr_cpgs,
            dmr_delta,
            noise: match self.noise {
                NoiseChoice::LogitNormal => Noise::LogitNormal { sd: self.sample_sd },
                NoiseChoice::BetaBinomial => Noise::BetaBinomial {
                    m0: DEFAULT_PHI.0,
                    s0: DEFAULT_PHI.1,
                },
            },
            seed: self.seed,
            out: self.out,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `betagibbs simulate`'s defaults are crate::methyl::simulate::SimulateConfig's.
    #[test]
    fn cli_defaults_are_the_library_defaults() {
        use clap::Parser;
        let cli = Cli::try_parse_from(["betagibbs", "simulate", "--out", "x"]).unwrap();
        let Command::Simulate(args) = cli.command else {
            panic!("not simulate")
        };
        assert_eq!(
            args.into_config().unwrap(),
            crate::methyl::simulate::SimulateConfig {
                out: "x".into(),
                ..crate::methyl::simulate::SimulateConfig::default()
            }
        );
    }

    /// `betagibbs methyl`'s defaults are `MethylConfig::new`'s.
    #[test]
    fn methyl_cli_defaults_are_the_library_defaults() {
        use clap::Parser;
        let cli = Cli::try_parse_from([
            "betagibbs",
            "methyl",
            "s.csv",
            "--compare",
            "A,B",
            "--out",
            "x",
        ])
        .unwrap();
        let Command::Methyl(args) = cli.command else {
            panic!("not methyl")
        };
        let library = MethylConfig::new("s.csv".into(), ("A".into(), "B".into()), "x".into());
        assert_eq!(
            format!("{:?}", args.into_config().unwrap()),
            format!("{library:?}")
        );
    }
}

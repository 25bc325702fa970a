//! `methyl`'s flags, whose defaults are `crate::methyl::config`'s constants.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::error::UserError;
use crate::kernels::gpu::DEFAULT_WORKGROUP_SIZE;
use crate::kernels::DeviceChoice;
use crate::methyl::config::*;
use crate::methyl::design::{DesignRequest, Tested};
use crate::methyl::fit::{FitConfig, HyperSites};
use crate::methyl::formats::ModCode;
use crate::methyl::merge::SiteFilter;
use crate::methyl::regions::DmrRule;
use crate::methyl::run::CallConfig;
use crate::methyl::scan_sample::SCAN_SAMPLE_FROM;
use crate::methyl::site_stage::DEVICE_SWEEPERS;
use crate::plot::figures::ImageFormat;

/// `--compare A,B`: two different, non-empty group names.
pub(super) fn parse_compare(text: &str) -> Result<(String, String), UserError> {
    text.split_once(',')
        .map(|(a, b)| (a.trim().to_string(), b.trim().to_string()))
        .filter(|(a, b)| !a.is_empty() && !b.is_empty() && a != b)
        .ok_or_else(|| {
            UserError(format!(
                "--compare {text:?}: expected two different groups 'A,B' (delta = mu_B - mu_A)"
            ))
        })
}

/// `methyl`: a whole run, or one stage of a sharded run (`prior`, `fit`, `call`).
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct MethylArgs {
    #[command(subcommand)]
    pub stage: Option<MethylStage>,
    #[command(flatten)]
    pub run: Option<MethylRunArgs>,
}

/// The stages of a sharded run, each usable by hand (docs/sharding.md; workflow/Snakefile
/// runs them).
#[derive(Debug, Subcommand)]
pub enum MethylStage {
    /// Stage 1 alone: the genome-wide priors from a uniform sample of the whole study's
    /// sites, into OUT/prior.parquet, and the study's chromosomes into OUT/shards.tsv.
    Prior(MethylRunArgs),
    /// Stage 2 on one shard (--region) with the priors of `methyl prior`: OUT/sites.parquet
    /// and what `methyl call` needs of the shard.
    Fit(FitArgs),
    /// The shards joined: DMLs at one FDR over all sites, DMRs across shard boundaries, and
    /// the sites as a Hive-partitioned dataset, OUT/sites/chr=<chr>/part-<k>.parquet.
    Call(CallArgs),
}

#[derive(Debug, Args)]
pub struct FitArgs {
    /// The directory `methyl prior --out` wrote; this run's flags must be the prior's.
    #[arg(long, value_name = "DIR")]
    pub prior: PathBuf,
    #[command(flatten)]
    pub run: MethylRunArgs,
}

#[derive(Debug, Args)]
pub struct CallArgs {
    /// The shards' directories (`methyl fit --out`), in any order.
    #[arg(required = true, value_name = "PART")]
    pub parts: Vec<PathBuf>,
    /// The directory `methyl prior --out` wrote.
    #[arg(long, value_name = "DIR")]
    pub prior: PathBuf,
    /// Target Bayesian false discovery rate of the DML calls, over every shard's sites.
    #[arg(long, default_value_t = DEFAULT_FDR)]
    pub fdr: f64,
    /// Output directory for dml.parquet, dmr.parquet and sites/.
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long)]
    pub quiet: bool,
    /// Write the sites as one OUT/sites.parquet, as a single run does (which `plot` and
    /// `export` read), instead of the Hive-partitioned OUT/sites/.
    #[arg(long)]
    pub sites_file: bool,
}

/// What `methyl` runs.
#[derive(Debug)]
pub enum MethylJob {
    /// A whole run, then its tracks and its figures if asked.
    Run {
        config: Box<MethylConfig>,
        export: bool,
        plot: Option<ImageFormat>,
    },
    Prior(Box<MethylConfig>),
    Fit {
        config: Box<MethylConfig>,
        prior: PathBuf,
    },
    Call(CallConfig),
}

impl MethylArgs {
    pub fn into_job(self) -> Result<MethylJob, UserError> {
        let staged = |args: &MethylRunArgs, stage: &str| {
            let extra = [
                ("--export", args.export),
                ("--plot", args.plot.is_some()),
                ("--draws-region", !args.draws_regions.is_empty()),
                ("--resume", args.resume),
            ];
            match extra.iter().find(|(_, given)| *given) {
                Some((flag, _)) => Err(UserError(format!(
                    "methyl {stage}: {flag} belongs to a whole run or to `methyl call`'s outputs"
                ))),
                None => Ok(()),
            }
        };
        match (self.stage, self.run) {
            (Some(MethylStage::Prior(args)), _) => {
                staged(&args, "prior")?;
                Ok(MethylJob::Prior(Box::new(args.into_config()?)))
            }
            (Some(MethylStage::Fit(fit)), _) => {
                staged(&fit.run, "fit")?;
                Ok(MethylJob::Fit {
                    config: Box::new(fit.run.into_config()?),
                    prior: fit.prior,
                })
            }
            (Some(MethylStage::Call(call)), _) => {
                if !(call.fdr > 0.0 && call.fdr < 1.0) {
                    return Err(UserError(format!("--fdr {}: must be in (0, 1)", call.fdr)));
                }
                Ok(MethylJob::Call(CallConfig {
                    parts: call.parts,
                    prior: call.prior,
                    fdr: call.fdr,
                    out: call.out,
                    quiet: call.quiet,
                    sites_file: call.sites_file,
                }))
            }
            (None, Some(args)) => Ok(MethylJob::Run {
                export: args.export,
                plot: args.plot,
                config: Box::new(args.into_config()?),
            }),
            (None, None) => Err(UserError(
                "methyl needs a sample sheet (or a stage: prior, fit, call)".into(),
            )),
        }
    }
}

/// A whole run's flags, and those of `methyl prior` and `methyl fit`.
#[derive(Debug, Args)]
pub struct MethylRunArgs {
    /// Sample sheet (CSV or TSV): columns sample, file, group, and optionally format.
    pub sheet: PathBuf,
    /// The two groups to compare, 'A,B': delta = mu_B - mu_A. Shorthand for
    /// --design '~ group' --coef groupB with A the reference.
    #[arg(
        long,
        value_name = "A,B",
        required_unless_present = "design",
        conflicts_with = "design"
    )]
    pub compare: Option<String>,
    /// A study design as an R formula over the sheet's columns, e.g. '~ group + cell': factors
    /// in treatment coding (R's coefficient names), numeric columns as covariates, a:b and
    /// a*b interactions, a subject column for pairs. Needs --coef or --contrast.
    #[arg(long, value_name = "FORMULA")]
    pub design: Option<String>,
    /// The design's coefficient to test, by R's name, e.g. groupSLE.
    #[arg(
        long,
        value_name = "NAME",
        requires = "design",
        conflicts_with = "contrast"
    )]
    pub coef: Option<String>,
    /// A difference (or other combination) of the design's coefficients to test, e.g.
    /// 'groupB - groupC'.
    #[arg(
        long,
        value_name = "EXPR",
        requires = "design",
        conflicts_with = "test"
    )]
    pub contrast: Option<String>,
    /// A joint test that any level of a factor with more than two levels differs, e.g. cell:
    /// p_dm is then P(the levels' means span more than d).
    #[arg(
        long,
        value_name = "TERM",
        requires = "design",
        conflicts_with = "coef"
    )]
    pub test: Option<String>,
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
    /// Also write the genome-browser tracks to OUT/browser (as `betagibbs export OUT`).
    #[arg(long)]
    pub export: bool,
    /// Also draw the run's figures into OUT/figures (as `betagibbs plot OUT`): svg, or
    /// --plot=png.
    #[arg(long, value_enum, num_args = 0..=1, require_equals = true, default_missing_value = "svg", value_name = "FORMAT")]
    pub plot: Option<ImageFormat>,
    /// Of a modkit bedMethyl, the rows of this modification code: m (5mC) or h (5hmC), or any
    /// code modkit writes.
    #[arg(long, default_value = "m", value_parser = ModCode::parse)]
    pub mod_code: ModCode,
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
    /// Sites that learn the genome-wide priors: a uniform sample of those that pass the
    /// filters. By default a tenth of them, from 2,000 to 20,000 (2,000 for a --design). More
    /// sites make the calls move less between seeds
    #[arg(long)]
    pub hyper_sites: Option<usize>,
    /// Warm-up and kept sweeps of that joint fit.
    #[arg(long, default_value_t = DEFAULT_HYPER_WARMUP)]
    pub hyper_warmup: u32,
    #[arg(long, default_value_t = DEFAULT_HYPER_DRAWS)]
    pub hyper_draws: u32,
    /// Sites per chunk: bounds host and device memory whatever the genome size.
    #[arg(long, default_value_t = DEFAULT_CHUNK_SITES)]
    pub chunk_sites: usize,
    /// GiB of memory stage 2's chunks of sites may hold: chunks shrink below --chunk-sites when
    /// the draws (--chains x --draws per group and site) would take more.
    #[arg(long, value_name = "GIB", default_value_t = DEFAULT_MEMORY_GIB)]
    pub memory: f64,
    /// Fewest loci in a DMR.
    #[arg(long, default_value_t = DEFAULT_DMR_MIN_CPGS)]
    pub dmr_min_cpgs: u32,
    /// Largest gap in bases between neighbouring loci of a DMR.
    #[arg(long, default_value_t = DEFAULT_DMR_MAX_GAP)]
    pub dmr_max_gap: u64,
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    pub device: DeviceChoice,
    /// Where a GPU run summarises each site's draws: on the device in f32 (sparing the
    /// host 20-40 core-µs a site) or on the host in f64 as the CPU path does; they agree to
    /// f32 rounding. auto: the device on a hardware GPU, the host on a software adapter.
    #[arg(long, value_enum, default_value_t = SummariesChoice::Auto)]
    pub summaries: SummariesChoice,
    /// Also write every draw of the sites in this region, chr:start-end (1-based, inclusive;
    /// repeatable), to draws.parquet as `<chr>:<pos>/mu[<group>]` and `<chr>:<pos>/delta`.
    #[arg(long = "draws-region", value_name = "CHR:START-END")]
    pub draws_regions: Vec<String>,
    /// Analyse only this region, chr:start-end (1-based, inclusive) or a whole chromosome:
    /// a bgzip file with a tabix index beside it (<file>.tbi) is read from the index's offset
    /// for it, others up to it. The genome-wide priors are then learned from its sites.
    #[arg(long, value_name = "CHR[:START-END]")]
    pub region: Option<String>,
    /// Output directory for sites.parquet, dml.parquet and dmr.parquet.
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long)]
    pub quiet: bool,
    /// Keep the run's progress in OUT/.resume, a chunk at a time, and go on from
    /// it where a killed run with the same settings and inputs left it. The result is the
    /// uninterrupted run's, bit for bit.
    #[arg(long, conflicts_with = "draws_regions")]
    pub resume: bool,
    /// For developers timing shader variants: a folder whose NAME.wgsl (an expanded shader,
    /// as build.rs writes it) replaces the built-in shader NAME. Hidden from --help.
    #[arg(long, value_name = "DIR", hide = true)]
    pub dev_shader_dir: Option<PathBuf>,
    /// For developers counting the site kernel's operations (benches/site_ops.sh): the CPU
    /// path runs the shaders' scalar twins alone, not the four-chain lanes: the same results,
    /// slower. Hidden from --help.
    #[arg(long, hide = true)]
    pub dev_scalar_twin: bool,
    /// For developers timing stage 2's pipeline on a GPU that summarises: sweep threads, each
    /// with its own device buffers (default DEVICE_SWEEPERS). Hidden from --help.
    #[arg(long, value_name = "N", hide = true, value_parser = clap::value_parser!(u8).range(1..=8))]
    pub dev_sweepers: Option<u8>,
}

impl MethylRunArgs {
    pub fn into_config(self) -> Result<MethylConfig, UserError> {
        let (compare, design) = match (&self.compare, self.design) {
            (Some(text), _) => (parse_compare(text)?, None),
            (None, Some(formula)) => {
                let tested = match (self.coef, self.contrast, self.test) {
                    (Some(name), None, None) => Tested::Coef(name),
                    (None, Some(expr), None) => Tested::Contrast(expr),
                    (None, None, Some(term)) => Tested::Term(term),
                    _ => return Err(UserError(
                        "--design needs what to test: --coef NAME, --contrast EXPR or --test TERM"
                            .into(),
                    )),
                };
                (
                    (String::new(), String::new()),
                    Some(DesignRequest { formula, tested }),
                )
            }
            (None, None) => {
                return Err(UserError(
                    "methyl needs --compare A,B or --design FORMULA".into(),
                ))
            }
        };
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
        if self.warmup == 0 {
            // The first sweep accepts its proposal whatever it is, to start the chain: a kept
            // draw there is the proposal's, not the posterior's (1 chain, 1 draw: 215 calls
            // at P = 1 on 1,000 simulated sites, 185 of them false).
            return Err(UserError(
                "--warmup 0: each chain's first sweep starts it from a proposal taken whatever \
                 its probability, which must not count as a draw; use at least 1"
                    .into(),
            ));
        }
        if !(self.memory > 0.0 && self.memory.is_finite()) {
            return Err(UserError(format!(
                "--memory {}: must be a positive number of GiB",
                self.memory
            )));
        }
        if self.hyper_sites == Some(0) || self.chunk_sites == 0 {
            return Err(UserError(
                "--hyper-sites and --chunk-sites must be at least 1".into(),
            ));
        }
        Ok(MethylConfig {
            sheet: self.sheet,
            compare,
            design,
            filter: SiteFilter {
                min_coverage: self.min_coverage,
                min_samples_per_group: self.min_samples_per_group,
                merge_strands: self.merge_strands,
                mod_code: self.mod_code,
            },
            threshold: self.threshold,
            fdr: self.fdr,
            dmr: DmrRule {
                min_cpgs: self.dmr_min_cpgs,
                max_gap: self.dmr_max_gap,
            },
            fit: FitConfig {
                chains: self.chains,
                warmup: self.warmup,
                draws: self.draws,
                seed: self.seed,
                hyper_sites: self
                    .hyper_sites
                    .map_or(DEFAULT_HYPER_SITES, HyperSites::exactly),
                hyper_warmup: self.hyper_warmup,
                hyper_draws: self.hyper_draws,
                chunk_sites: self.chunk_sites,
                workgroup_size: DEFAULT_WORKGROUP_SIZE,
                scalar_twin: self.dev_scalar_twin,
                sweep_threads: self.dev_sweepers.map_or(DEVICE_SWEEPERS, usize::from),
                host_summaries: true,
                scan_sample_from: SCAN_SAMPLE_FROM,
            },
            device: self.device,
            summaries: self.summaries,
            out: self.out,
            quiet: self.quiet,
            dev_shader_dir: self.dev_shader_dir,
            draws_regions: self
                .draws_regions
                .iter()
                .map(|r| Region::parse("--draws-region", r))
                .collect::<Result<_, _>>()?,
            region: self
                .region
                .as_deref()
                .map(|r| Region::parse("--region", r))
                .transpose()?,
            memory_gib: self.memory,
            resume: self.resume,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::cli::{Cli, Command};

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
        let MethylJob::Run { config, .. } = args.into_job().unwrap() else {
            panic!("not a whole run")
        };
        assert_eq!(format!("{config:?}"), format!("{library:?}"));
    }
}

//! `bench`'s flags: an embedded model's timing, or the methylation (`--sheet`), accuracy
//! (`--accuracy`) or study-design (`--design`) benchmark.

use std::path::PathBuf;

use clap::Args;

use crate::app::bench::{BenchConfig, BenchJob};
use crate::app::cli::methyl::parse_compare;
use crate::app::embedded::Embedded;
use crate::error::UserError;
use crate::mcmc::sampler::Update;
use crate::methyl::config::MethylConfig;
use crate::methyl::reference::Suite;

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
    pub update: Vec<Update>,
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
    #[arg(long, group = "suite", conflicts_with_all = ["sheet", "dss"])]
    pub accuracy: bool,
    /// Instead of timing: the study-design benchmark (benches/design.py, embedded): methyl
    /// --design beside DSS's DMLfit/DMLtest.multiFactor on DSS's RRBS example (agreement of the
    /// tested coefficient), null splits of its healthy controls (calls) and a simulated study
    /// with covariates (sites per second); needs python3 with pyarrow, and Rscript with
    /// Bioconductor's DSS.
    #[arg(long, group = "suite", conflicts_with_all = ["sheet", "dss"])]
    pub design: bool,
    /// With --accuracy or --design: the folder of the shared real data (DSS's example and RRBS
    /// example).
    #[arg(long, requires = "suite", default_value = "../shared/data")]
    pub data: PathBuf,
    /// With --accuracy: the first 5,000 sites of each data set; with --design: one null split
    /// and 5,000 simulated sites. For a quick check.
    #[arg(long, requires = "suite")]
    pub quick: bool,
    /// With --accuracy: where the report (report.txt, accuracy.json) and every fit go.
    #[arg(long, requires = "accuracy")]
    pub accuracy_out: Option<PathBuf>,
    /// With --design: where the report (report.md, design.json) and every fit go.
    #[arg(long, requires = "design")]
    pub design_out: Option<PathBuf>,
    /// With --model rats: Stan's NUTS (PyStan 3, 4 chains) on the same model in the same run,
    /// its ESS computed by our estimator; skipped with a note without python3 and PyStan.
    #[arg(long, conflicts_with_all = ["sheet", "suite"])]
    pub stan: bool,
}

impl BenchArgs {
    /// The job the flags ask for: `--accuracy` or `--design`, then `--sheet`, else an
    /// embedded model.
    pub fn into_job(self) -> Result<BenchJob, UserError> {
        let suite = if self.accuracy {
            Some((Suite::Accuracy, self.accuracy_out.clone()))
        } else if self.design {
            Some((Suite::Design, self.design_out.clone()))
        } else {
            None
        };
        if let Some((suite, out)) = suite {
            return Ok(BenchJob::Suite {
                suite,
                data: self.data,
                quick: self.quick,
                out,
            });
        }
        if let Some(config) = self.methyl_config()? {
            return Ok(BenchJob::Methyl {
                config: Box::new(config),
                gpu: !self.cpu_only,
                dss: self.dss,
            });
        }
        self.embedded_config().map(BenchJob::Embedded)
    }

    /// `bench --sheet`: the methylation benchmark's config, with `methyl`'s defaults.
    fn methyl_config(&self) -> Result<Option<MethylConfig>, UserError> {
        let (Some(sheet), Some(compare)) = (&self.sheet, &self.compare) else {
            return Ok(None);
        };
        let mut config = MethylConfig::new(sheet.clone(), parse_compare(compare)?, "unused".into());
        config.quiet = true;
        Ok(Some(config))
    }

    /// An embedded model's timing: chain counts defaulted by model, counts checked.
    fn embedded_config(self) -> Result<BenchConfig, UserError> {
        let chains = if self.chains.is_empty() {
            match self.model {
                Embedded::Rats => vec![4, 64, 1024, 4096],
                Embedded::Baseball => vec![4, 16, 64],
            }
        } else {
            self.chains
        };
        if self.stan && self.model != Embedded::Rats {
            return Err(UserError(
                "--stan runs Stan on the rat model only (--model rats)".into(),
            ));
        }
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
            stan: self.stan,
        })
    }
}

//! `compare`'s flags: the data (a file's columns or an embedded table) and the ladder's settings.

use std::path::PathBuf;

use clap::Args;

use crate::app::compare::CompareConfig;
use crate::app::embedded::Embedded;
use crate::app::source::DataSource;
use crate::error::UserError;
use crate::io::read::ColumnSpec;
use crate::kernels::DeviceChoice;
use crate::mcmc::prior::HyperPrior;
use crate::methyl::config::DEFAULT_SEED;
use crate::plot::figures::ImageFormat;

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
    #[arg(long, value_enum, default_value_t = ImageFormat::Svg)]
    pub format: ImageFormat,
    /// Output directory: comparison.parquet, observations.parquet, comparison.svg.
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long)]
    pub quiet: bool,
}

impl CompareArgs {
    pub fn into_config(self) -> Result<CompareConfig, UserError> {
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
        Ok(CompareConfig {
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

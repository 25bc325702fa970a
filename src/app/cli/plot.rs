//! `plot`'s flags: a run's directory and which figures of it.

use std::path::PathBuf;

use clap::Args;

use crate::app::cli::sample::parse_contrasts;
use crate::error::UserError;
use crate::methyl::config::Region;
use crate::plot::figures::{FigureKind, ImageFormat, PlotConfig};
use crate::plot::methyl_run::{MethylFigureConfig, Window};

#[derive(Debug, Args)]
pub struct PlotArgs {
    /// A run's output directory (with draws.parquet, and predictive.parquet or comparison.parquet).
    pub dir: PathBuf,
    /// Figures to draw (repeatable; default: every one the directory's files allow).
    #[arg(long = "figure", value_enum)]
    pub figures: Vec<FigureKind>,
    /// Parameters of the density and trace figures (repeatable), e.g. 'omega[Pitcher]'.
    #[arg(long = "param", value_name = "NAME")]
    pub params: Vec<String>,
    /// Differences for the density and trace figures, 'NAME - NAME' (repeatable).
    #[arg(long = "contrast", value_name = "EXPR")]
    pub contrasts: Vec<String>,
    #[arg(long, value_enum, default_value_t = ImageFormat::Svg)]
    pub format: ImageFormat,
    /// Where the figures go (default: DIR/figures).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Of a methyl run: a window to draw a region plot of, chr:start-end (1-based, inclusive;
    /// repeatable). Default: the top --top-regions DMRs.
    #[arg(long = "region", value_name = "CHR:START-END")]
    pub regions: Vec<String>,
    /// Of a methyl run: how many of the top DMRs (by P, then |delta|) get a region plot.
    #[arg(long, default_value_t = DEFAULT_TOP_REGIONS)]
    pub top_regions: usize,
    /// Of a methyl run: the sample sheet whose count files the region plots read (default:
    /// the one the run names in its footer).
    #[arg(long)]
    pub sheet: Option<PathBuf>,
    /// Of a methyl run on a `simulate` study: its truth.tsv, for the calibration (default:
    /// truth.tsv beside the sheet, when there is one).
    #[arg(long)]
    pub truth: Option<PathBuf>,
}

/// Region plots drawn by default: the top DMRs.
pub const DEFAULT_TOP_REGIONS: usize = 4;

impl PlotArgs {
    /// The config, and the sheet asked for with --sheet.
    pub fn into_config(self) -> Result<(PlotConfig, Option<PathBuf>), UserError> {
        let windows = self
            .regions
            .iter()
            .map(|r| {
                let r = Region::parse("--region", r)?;
                Ok(Window {
                    chr: r.chr,
                    start: r.start,
                    end: r.end,
                })
            })
            .collect::<Result<Vec<_>, UserError>>()?;
        let config = PlotConfig {
            out: self.out.unwrap_or_else(|| self.dir.join("figures")),
            dir: self.dir,
            figures: self.figures,
            params: self.params,
            contrasts: parse_contrasts(&self.contrasts)?,
            format: self.format,
            methyl: MethylFigureConfig {
                windows,
                top_regions: self.top_regions,
                truth: self.truth,
            },
        };
        Ok((config, self.sheet))
    }
}

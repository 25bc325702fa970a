//! `plot`'s flags: a run's directory and which figures of it.

use std::path::PathBuf;

use clap::Args;

use crate::app::cli::sample::parse_contrasts;
use crate::error::UserError;
use crate::plot::figures::{FigureKind, ImageFormat, PlotConfig};

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
}

impl PlotArgs {
    pub fn into_config(self) -> Result<PlotConfig, UserError> {
        Ok(PlotConfig {
            out: self.out.unwrap_or_else(|| self.dir.join("figures")),
            dir: self.dir,
            figures: self.figures,
            params: self.params,
            contrasts: parse_contrasts(&self.contrasts)?,
            format: self.format,
        })
    }
}

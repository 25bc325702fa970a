//! `export`'s flags.

use std::path::PathBuf;

use clap::Args;

use crate::methyl::tracks::TrackConfig;

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A `methyl` output directory (sites.parquet, dml.parquet, dmr.parquet).
    pub dir: PathBuf,
    /// Where the tracks go (default: DIR/browser).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

impl ExportArgs {
    pub fn into_config(self) -> TrackConfig {
        TrackConfig {
            out: self.out.unwrap_or_else(|| self.dir.join("browser")),
            dir: self.dir,
        }
    }
}

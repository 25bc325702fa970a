//! `plot`: figures drawn from a run's Parquet outputs (the work is `crate::plot::figures`).

use crate::plot::figures::PlotConfig;

/// `plot`: each figure drawn, its path printed on stdout.
pub fn run(config: &PlotConfig) -> anyhow::Result<()> {
    for path in crate::plot::figures::draw(config)? {
        println!("{}", path.display());
    }
    Ok(())
}

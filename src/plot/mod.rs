//! Figures (plotters, SVG or PNG) drawn from plain data: the caller reads the Parquet
//! outputs and fills these structs. The format follows the path's extension (`.svg` or
//! `.png`); files are written atomically (temp file in the same directory, then rename).
//! Text uses the embedded DejaVu Sans registered as "sans-serif", so no system fonts are
//! needed and PNG and SVG lay out alike.
//!
//! One file per figure (shrinkage, densities, traces, predictive, comparison; of a methylation
//! run volcano, region, overview, distributions); what they
//! share: render (backends, files), axes, text, font, layout, legend, histogram, scatter,
//! colours. `figures` reads a run's outputs and picks what to draw.

pub mod figures;
pub mod methyl_run;

mod axes;
mod colours;
mod comparison;
mod densities;
mod distributions;
mod font;
mod histogram;
mod layout;
mod legend;
mod overview;
mod predictive;
mod region;
mod render;
mod scatter;
mod shrinkage;
mod text;
mod traces;
mod volcano;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

pub use colours::PALETTE;
pub use comparison::{
    estimator_comparison, estimator_comparison_by_index, EstimatorIntervals, UnitAxis,
};
pub use densities::{densities, Density};
pub use distributions::{Binned, CalibrationBin, MethylDistributions};
pub use layout::{MAX_COLUMNS, MAX_PANELS, PANEL_SIZE};
pub use overview::{ChromosomeStrip, Overview, MAX_OVERVIEW_CHROMOSOMES};
pub use predictive::{predictive_checks, PredictiveStat};
pub use region::{GroupBand, RegionPlot, RegionSample};
pub use render::{render, render_rgb, ImageFormat, RgbImage};
pub use scatter::SCATTER_SIZE;
pub use shrinkage::{shrinkage, Shrinkage};
pub use traces::{traces, Trace, MAX_TRACE_POINTS, TRACE_ROW_HEIGHT, TRACE_WIDTH};
pub use volcano::{volcano, Volcano};

use render::Backend;

/// Any of the figures, so one `render`/`render_rgb` serves all of them.
#[derive(Debug, Clone, Copy)]
pub enum Figure<'a> {
    Shrinkage(&'a Shrinkage),
    Densities {
        title: &'a str,
        panels: &'a [Density],
    },
    Traces {
        title: &'a str,
        params: &'a [Trace],
    },
    EstimatorComparison {
        title: &'a str,
        x: UnitAxis<'a>,
        estimators: &'a [EstimatorIntervals],
    },
    PredictiveChecks {
        title: &'a str,
        stats: &'a [PredictiveStat],
    },
    Volcano(&'a Volcano),
    Region(&'a RegionPlot),
    Overview(&'a Overview),
    MethylDistributions(&'a MethylDistributions),
}

impl Figure<'_> {
    /// Rejects inputs that cannot make a figure (mismatched lengths, nothing to draw);
    /// panels whose draws are empty or all NaN are drawn as "no draws" instead.
    fn validate(&self) -> Result<()> {
        match *self {
            Figure::Shrinkage(s) => shrinkage::validate(s),
            Figure::Densities { panels, .. } => {
                layout::check_panel_count("densities", "panels", panels.len())
            }
            Figure::Traces { params, .. } => {
                layout::check_panel_count("traces", "parameters", params.len())
            }
            Figure::EstimatorComparison { x, estimators, .. } => {
                comparison::validate(x, estimators)
            }
            Figure::PredictiveChecks { stats, .. } => {
                layout::check_panel_count("predictive checks", "statistics", stats.len())
            }
            Figure::Volcano(v) => volcano::validate(v),
            Figure::Region(r) => region::validate(r),
            Figure::Overview(o) => overview::validate(o),
            Figure::MethylDistributions(d) => distributions::validate(d),
        }
    }

    fn size(&self) -> (u32, u32) {
        match *self {
            Figure::Shrinkage(_)
            | Figure::EstimatorComparison { .. }
            | Figure::Volcano(_)
            | Figure::Region(_) => SCATTER_SIZE,
            Figure::Overview(o) => overview::size(o),
            Figure::MethylDistributions(d) => distributions::size(d),
            Figure::Densities { panels, .. } => layout::grid_size(panels.len()),
            Figure::PredictiveChecks { stats, .. } => layout::grid_size(stats.len()),
            Figure::Traces { params, .. } => traces::size(params),
        }
    }

    fn draw<DB>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB: Backend,
    {
        match *self {
            Figure::Shrinkage(s) => shrinkage::draw(root, s),
            Figure::Densities { title, panels } => {
                layout::draw_grid(root, title, panels, densities::panel)
            }
            Figure::Traces { title, params } => traces::draw(root, title, params),
            Figure::EstimatorComparison {
                title,
                x,
                estimators,
            } => comparison::draw(root, title, x, estimators),
            Figure::PredictiveChecks { title, stats } => {
                layout::draw_grid(root, title, stats, predictive::panel)
            }
            Figure::Volcano(v) => volcano::draw(root, v),
            Figure::Region(r) => region::draw(root, r),
            Figure::Overview(o) => overview::draw(root, o),
            Figure::MethylDistributions(d) => distributions::draw(root, d),
        }
    }
}

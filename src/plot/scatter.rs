//! What the single-panel scatter figures (shrinkage, estimator comparison) share: size,
//! chart and axes, marker style and the y = x line.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::axes::{draw_axes, Axes, Chart2d};
use super::render::Backend;

/// Single-panel scatter figures: 3:2, wide enough for hundreds of units side by side.
pub const SCATTER_SIZE: (u32, u32) = (900, 600);
/// Axis label areas (px): tick labels plus an axis description below / left of the plot.
const SCATTER_X_AREA: i32 = 48;
const SCATTER_Y_AREA: i32 = 72;

/// A scatter chart over `xr` x `yr` on `plot`, its axes described by `x_desc` and `y_desc`.
pub(super) fn scatter_chart<'a, DB: Backend>(
    plot: &'a DrawingArea<DB, Shift>,
    xr: (f64, f64),
    yr: (f64, f64),
    x_desc: &str,
    y_desc: &str,
) -> Result<Chart2d<'a, DB>> {
    let mut chart = ChartBuilder::on(plot)
        .margin(12)
        .x_label_area_size(SCATTER_X_AREA)
        .y_label_area_size(SCATTER_Y_AREA)
        .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)?;
    let axes = Axes {
        x_desc,
        y_desc,
        x_ticks: 8,
        y_ticks: 8,
        x_area: SCATTER_X_AREA,
        y_area: SCATTER_Y_AREA,
        grid: true,
        font: 13.0,
        ..Axes::default()
    };
    draw_axes(&mut chart, plot, &axes)?;
    Ok(chart)
}

/// Marker radius and interval-bar opacity: smaller and fainter as units crowd in.
pub(super) fn marker_style(n_units: usize) -> (i32, f64) {
    match n_units {
        0..=40 => (4, 0.9),
        41..=200 => (3, 0.5),
        _ => (2, 0.25),
    }
}

/// The y = x segment inside the chart's ranges (plotters does not clip lines).
pub(super) fn diagonal(x: (f64, f64), y: (f64, f64)) -> Option<[(f64, f64); 2]> {
    let (a, b) = (x.0.max(y.0), x.1.min(y.1));
    (a < b).then_some([(a, a), (b, b)])
}

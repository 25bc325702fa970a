//! Posterior predictive checks: a grid of replicated test statistics against the observed.

use std::path::Path;

use anyhow::{Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::axes::{draw_axes, padded_range, Axes};
use super::colours::PALETTE;
use super::histogram::Hist;
use super::layout::{finite_panel, PANEL_X_AREA};
use super::render::{render, Backend};
use super::text::{corner_text, fmt_num, fmt_p};
use super::Figure;

/// Width (px) of a panel's count labels on the y axis.
const PPC_Y_AREA: i32 = 44;

/// One panel of `predictive_checks`: replicated values of a test statistic, its observed
/// value and the posterior predictive p-value.
#[derive(Debug, Clone, Default)]
pub struct PredictiveStat {
    pub label: String,
    pub replicated: Vec<f64>,
    pub observed: f64,
    pub p_value: f64,
}

/// Posterior predictive checks: per statistic, a histogram of its replicated values, the
/// observed value as a vertical line, and its p-value printed.
pub fn predictive_checks(path: &Path, title: &str, stats: &[PredictiveStat]) -> Result<()> {
    render(path, &Figure::PredictiveChecks { title, stats })
}

/// One panel of the grid (see `layout::draw_grid`).
pub(super) fn panel<DB>(area: &DrawingArea<DB, Shift>, s: &PredictiveStat) -> Result<()>
where
    DB: Backend,
{
    let Some((plot, reps)) = finite_panel(area, &s.label, &s.replicated, "no replicated draws")?
    else {
        return Ok(());
    };
    let hist = Hist::new(&reps);
    let top = hist.counts.iter().copied().max().unwrap_or(1) as f64 * 1.3;
    let observed = Some(s.observed).filter(|o| o.is_finite());
    let xr = padded_range(hist.extent().into_iter().chain(observed), 0.05)
        .context("predictive range")?;
    let mut chart = ChartBuilder::on(&plot)
        .margin_left(8)
        .margin_right(14)
        .margin_top(4)
        .margin_bottom(6)
        .x_label_area_size(PANEL_X_AREA)
        .y_label_area_size(PPC_Y_AREA)
        .build_cartesian_2d(xr.0..xr.1, 0.0..top)?;
    let axes = Axes {
        x_ticks: 5,
        y_ticks: 4,
        x_area: PANEL_X_AREA,
        y_area: PPC_Y_AREA,
        ..Axes::default()
    };
    draw_axes(&mut chart, &plot, &axes)?;
    hist.draw(&mut chart, 1.0)?;
    let mut lines = vec![fmt_p(s.p_value)];
    match observed {
        Some(o) => {
            chart.draw_series(LineSeries::new(
                [(o, 0.0), (o, top)],
                PALETTE[1].stroke_width(3),
            ))?;
            lines.push(format!("observed = {}", fmt_num(o)));
        }
        None => lines.push("observed: n/a".to_string()),
    }
    let left = observed.is_some_and(|o| o > 0.5 * (xr.0 + xr.1));
    corner_text(chart.plotting_area(), &lines, left)
}

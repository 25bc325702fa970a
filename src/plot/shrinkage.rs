//! BDA3 Figure 5.4: each unit's posterior median and 95% interval against its raw rate.

use std::path::Path;

use anyhow::{ensure, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::axes::padded_range;
use super::colours::{PALETTE, REF_GREY};
use super::layout::{titled, LEGEND_H};
use super::legend::{legend_band, Mark};
use super::render::{render, Backend};
use super::scatter::{diagonal, marker_style, scatter_chart};
use super::text::fmt_num;
use super::Figure;

/// BDA3 Figure 5.4: posterior median and 95% interval of each theta against its raw rate
/// y/n, with y = x and the population mean as a horizontal line.
#[derive(Debug, Clone, Default)]
pub struct Shrinkage {
    pub title: String,
    pub raw: Vec<f64>,
    pub median: Vec<f64>,
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
    pub population_mean: f64,
}

/// BDA3 Figure 5.4 (see `Shrinkage`).
pub fn shrinkage(path: &Path, fig: &Shrinkage) -> Result<()> {
    render(path, &Figure::Shrinkage(fig))
}

/// Rejects mismatched lengths and a figure without one unit to place.
pub(super) fn validate(s: &Shrinkage) -> Result<()> {
    let n = s.raw.len();
    ensure!(
        s.median.len() == n && s.lo.len() == n && s.hi.len() == n,
        "shrinkage: raw, median, lo and hi must have one value per unit \
         (lengths {}, {}, {}, {})",
        n,
        s.median.len(),
        s.lo.len(),
        s.hi.len()
    );
    ensure!(
        (0..n).any(|i| s.raw[i].is_finite() && s.median[i].is_finite()),
        "shrinkage: no unit has a finite raw rate and posterior median"
    );
    Ok(())
}

pub(super) fn draw<DB>(root: &DrawingArea<DB, Shift>, s: &Shrinkage) -> Result<()>
where
    DB: Backend,
{
    let body = titled(root, &s.title)?;
    let (legend, plot) = body.split_vertically(LEGEND_H);
    let colour = PALETTE[0];
    let mean_colour = PALETTE[1];
    let mut items = vec![
        (
            Mark::Interval(colour),
            "posterior median and 95% interval".to_string(),
        ),
        (Mark::Dashed(REF_GREY), "y = x (no pooling)".to_string()),
    ];
    if s.population_mean.is_finite() {
        items.push((
            Mark::Line(mean_colour),
            format!("population mean {}", fmt_num(s.population_mean)),
        ));
    }
    legend_band(&legend, &items)?;

    let n = s.raw.len();
    let units: Vec<usize> = (0..n)
        .filter(|&i| s.raw[i].is_finite() && s.median[i].is_finite())
        .collect();
    let xr = padded_range(units.iter().map(|&i| s.raw[i]), 0.04).context("no raw rates")?;
    let yr = padded_range(
        units
            .iter()
            .flat_map(|&i| [s.median[i], s.lo[i], s.hi[i]])
            .chain([s.population_mean]),
        0.04,
    )
    .context("no posterior summaries")?;
    let mut chart = scatter_chart(
        &plot,
        xr,
        yr,
        "raw rate y/n",
        "posterior median of θ (95% interval)",
    )?;
    let (radius, alpha) = marker_style(units.len());
    chart.draw_series(
        units
            .iter()
            .filter(|&&i| s.lo[i].is_finite() && s.hi[i].is_finite())
            .map(|&i| {
                PathElement::new(
                    vec![(s.raw[i], s.lo[i]), (s.raw[i], s.hi[i])],
                    colour.mix(alpha).stroke_width(1),
                )
            }),
    )?;
    if let Some(seg) = diagonal(xr, yr) {
        chart.draw_series(DashedLineSeries::new(seg, 6, 5, REF_GREY.stroke_width(1)))?;
    }
    if s.population_mean.is_finite() {
        chart.draw_series(LineSeries::new(
            [(xr.0, s.population_mean), (xr.1, s.population_mean)],
            mean_colour.stroke_width(2),
        ))?;
    }
    chart.draw_series(
        units
            .iter()
            .map(|&i| Circle::new((s.raw[i], s.median[i]), radius, colour.filled())),
    )?;
    Ok(())
}

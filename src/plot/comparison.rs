//! Estimators side by side: each one's mean and 95% interval per unit, against the
//! unit's raw rate or its index.

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
use super::Figure;

/// One estimator in `estimator_comparison`: per unit, its mean and 95% interval.
#[derive(Debug, Clone, Default)]
pub struct EstimatorIntervals {
    pub estimator: String,
    pub mean: Vec<f64>,
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
}

/// What goes on the horizontal axis of an estimator comparison.
#[derive(Debug, Clone, Copy)]
pub enum UnitAxis<'a> {
    /// Each unit's raw rate y/n (with a y = x line).
    RawRate(&'a [f64]),
    /// Each unit's index, 1-based (for units whose raw rates tie or crowd).
    Index,
}

/// Each estimator's mean and 95% interval per unit against the unit's raw rate (`raw`),
/// estimators in distinct colours and slightly offset, with y = x.
pub fn estimator_comparison(
    path: &Path,
    title: &str,
    raw: &[f64],
    estimators: &[EstimatorIntervals],
) -> Result<()> {
    let x = UnitAxis::RawRate(raw);
    render(
        path,
        &Figure::EstimatorComparison {
            title,
            x,
            estimators,
        },
    )
}

/// As `estimator_comparison`, with the unit's (1-based) index on the horizontal axis.
pub fn estimator_comparison_by_index(
    path: &Path,
    title: &str,
    estimators: &[EstimatorIntervals],
) -> Result<()> {
    let x = UnitAxis::Index;
    render(
        path,
        &Figure::EstimatorComparison {
            title,
            x,
            estimators,
        },
    )
}

/// Rejects a comparison without estimators or units, or whose lengths disagree.
pub(super) fn validate(x: UnitAxis, estimators: &[EstimatorIntervals]) -> Result<()> {
    ensure!(
        !estimators.is_empty(),
        "estimator comparison: no estimators"
    );
    let n = estimators[0].mean.len();
    ensure!(n > 0, "estimator comparison: no units");
    for e in estimators {
        ensure!(
            e.mean.len() == n && e.lo.len() == n && e.hi.len() == n,
            "estimator comparison: {} has mean/lo/hi lengths {}/{}/{}, expected {n}",
            e.estimator,
            e.mean.len(),
            e.lo.len(),
            e.hi.len()
        );
    }
    if let UnitAxis::RawRate(raw) = x {
        ensure!(
            raw.len() == n,
            "estimator comparison: {} raw rates for {n} units",
            raw.len()
        );
    }
    Ok(())
}

pub(super) fn draw<DB>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    axis: UnitAxis,
    estimators: &[EstimatorIntervals],
) -> Result<()>
where
    DB: Backend,
{
    let body = titled(root, title)?;
    let (legend, plot) = body.split_vertically(LEGEND_H);
    let colour = |k: usize| PALETTE[k % PALETTE.len()];
    let mut items: Vec<(Mark, String)> = estimators
        .iter()
        .enumerate()
        .map(|(k, e)| (Mark::Interval(colour(k)), e.estimator.clone()))
        .collect();
    if matches!(axis, UnitAxis::RawRate(_)) {
        items.push((Mark::Dashed(REF_GREY), "y = x".to_string()));
    }
    legend_band(&legend, &items)?;

    let n = estimators[0].mean.len();
    let xs: Vec<f64> = match axis {
        UnitAxis::RawRate(raw) => raw.to_vec(),
        UnitAxis::Index => (1..=n).map(|i| i as f64).collect(),
    };
    let xr = match axis {
        UnitAxis::RawRate(_) => padded_range(xs.iter().copied(), 0.04),
        UnitAxis::Index => Some((0.5, n as f64 + 0.5)),
    }
    .context("no finite raw rates")?;
    let yr = padded_range(
        estimators
            .iter()
            .flat_map(|e| e.mean.iter().chain(&e.lo).chain(&e.hi).copied()),
        0.04,
    )
    .context("no finite estimates")?;
    let x_desc = match axis {
        UnitAxis::RawRate(_) => "raw rate y/n",
        UnitAxis::Index => "unit (index)",
    };
    let mut chart = scatter_chart(&plot, xr, yr, x_desc, "estimate of θ (mean, 95% interval)")?;
    if let (UnitAxis::RawRate(_), Some(seg)) = (axis, diagonal(xr, yr)) {
        chart.draw_series(DashedLineSeries::new(seg, 6, 5, REF_GREY.stroke_width(1)))?;
    }
    // Estimators sit ~6 px apart around each unit's x so their bars do not hide each other.
    let plot_w = chart.plotting_area().dim_in_pixel().0.max(1) as f64;
    let step = 6.0 * (xr.1 - xr.0) / plot_w;
    let (radius, alpha) = marker_style(n);
    let k_mid = (estimators.len() as f64 - 1.0) / 2.0;
    for (k, e) in estimators.iter().enumerate() {
        let c = colour(k);
        let dx = (k as f64 - k_mid) * step;
        let ok = |i: &usize| xs[*i].is_finite() && e.mean[*i].is_finite();
        chart.draw_series(
            (0..n)
                .filter(ok)
                .filter(|&i| e.lo[i].is_finite() && e.hi[i].is_finite())
                .map(|i| {
                    PathElement::new(
                        vec![(xs[i] + dx, e.lo[i]), (xs[i] + dx, e.hi[i])],
                        c.mix(alpha).stroke_width(1),
                    )
                }),
        )?;
        chart.draw_series(
            (0..n)
                .filter(ok)
                .map(|i| Circle::new((xs[i] + dx, e.mean[i]), radius, c.filled())),
        )?;
    }
    Ok(())
}

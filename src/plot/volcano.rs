//! The volcano plot of a methylation run: each site's posterior mean difference against its
//! P(|delta| > d), the called loci coloured by direction, the call's threshold as a line.

use std::path::Path;

use anyhow::{ensure, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::colours::REF_GREY;
use super::layout::{titled, LEGEND_H};
use super::legend::{legend_band, Mark};
use super::render::{render, Backend};
use super::scatter::{marker_style, scatter_chart};
use super::text::fmt_num;
use super::Figure;

/// Called loci whose difference is up, and down (the browser tracks' colours).
pub(super) const UP: RGBColor = RGBColor(178, 24, 43);
pub(super) const DOWN: RGBColor = RGBColor(33, 102, 172);
/// The uncalled sites: light, so that tens of thousands of them leave the calls visible.
const UNCALLED: RGBColor = RGBColor(0xAA, 0xAA, 0xAA);

/// Each site's posterior mean difference and P(|delta| > d), whether it was called, and the
/// calls' threshold on P.
#[derive(Debug, Clone, Default)]
pub struct Volcano {
    pub title: String,
    pub delta: Vec<f64>,
    pub p: Vec<f64>,
    pub called: Vec<bool>,
    pub threshold: f64,
    /// d of P(|delta| > d), for the axis.
    pub d: f64,
}

/// The volcano plot (see `Volcano`).
pub fn volcano(path: &Path, fig: &Volcano) -> Result<()> {
    render(path, &Figure::Volcano(fig))
}

pub(super) fn validate(v: &Volcano) -> Result<()> {
    let n = v.delta.len();
    ensure!(
        v.p.len() == n && v.called.len() == n,
        "volcano: delta, p and called must have one value per site (lengths {}, {}, {})",
        n,
        v.p.len(),
        v.called.len()
    );
    ensure!(n > 0, "volcano: no sites");
    Ok(())
}

pub(super) fn draw<DB>(root: &DrawingArea<DB, Shift>, v: &Volcano) -> Result<()>
where
    DB: Backend,
{
    let body = titled(root, &v.title)?;
    let (legend, plot) = body.split_vertically(LEGEND_H);
    let n_called = v.called.iter().filter(|&&c| c).count();
    let up = (0..v.delta.len())
        .filter(|&i| v.called[i] && v.delta[i] > 0.0)
        .count();
    let mut items = vec![
        (Mark::Line(UP), format!("called, up ({up})")),
        (
            Mark::Line(DOWN),
            format!("called, down ({})", n_called - up),
        ),
        (Mark::Line(UNCALLED), "not called".to_string()),
    ];
    if v.threshold.is_finite() && v.threshold <= 1.0 {
        items.push((
            Mark::Dashed(REF_GREY),
            format!("call threshold P = {}", fmt_num(v.threshold)),
        ));
    }
    legend_band(&legend, &items)?;
    let reach = v
        .delta
        .iter()
        .filter(|x| x.is_finite())
        .fold(0.1f64, |m, x| m.max(x.abs()))
        * 1.05;
    let mut chart = scatter_chart(
        &plot,
        (-reach, reach),
        (-0.02, 1.02),
        "posterior mean of delta (methylation difference)",
        &format!("P(|delta| > {})", fmt_num(v.d)),
    )?;
    let (radius, alpha) = marker_style(v.delta.len());
    let finite = |i: &usize| v.delta[*i].is_finite() && v.p[*i].is_finite();
    chart.draw_series(
        (0..v.delta.len())
            .filter(|i| !v.called[*i] && finite(i))
            .map(|i| Circle::new((v.delta[i], v.p[i]), radius, UNCALLED.mix(alpha).filled())),
    )?;
    if v.threshold.is_finite() && v.threshold <= 1.0 {
        chart.draw_series(DashedLineSeries::new(
            [(-reach, v.threshold), (reach, v.threshold)],
            6,
            5,
            REF_GREY.stroke_width(1),
        ))?;
    }
    chart.draw_series(
        (0..v.delta.len())
            .filter(|i| v.called[*i] && finite(i))
            .map(|i| {
                let colour = if v.delta[i] > 0.0 { UP } else { DOWN };
                Circle::new((v.delta[i], v.p[i]), radius + 1, colour.filled())
            }),
    )?;
    Ok(())
}

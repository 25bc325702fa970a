//! The distributions of a methylation run: the sites' coverage, their P(|delta| > d) with the
//! call threshold, and, where the truth is known (a `simulate` study), the calibration of
//! P(|delta| > d): in bins of it, the share of sites whose true |delta| exceeds d.

use anyhow::{ensure, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::axes::{draw_axes, Axes};
use super::colours::{HIST_FILL, PALETTE, REF_GREY};
use super::layout::{panel_titled, titled, TITLE_H};
use super::render::Backend;
use super::scatter::diagonal;
use super::text::{anchored, fmt_num, put_text, text};

/// One panel (px).
const PANEL: (u32, u32) = (480, 360);
const X_AREA: i32 = 46;
const Y_AREA: i32 = 62;

/// A histogram already binned (a genome's sites are counted while streamed, never held).
#[derive(Debug, Clone, Default)]
pub struct Binned {
    pub label: String,
    pub x_desc: String,
    /// k + 1 edges of k bins, increasing.
    pub edges: Vec<f64>,
    pub counts: Vec<u64>,
    /// Heights as log10(1 + count): for P(DM), where nearly every site is near 0.
    pub log_counts: bool,
    /// A vertical line and its label (the call threshold).
    pub marker: Option<(f64, String)>,
}

/// One bin of the calibration: its sites, the mean P(|delta| > d) the model states, and the
/// share whose true |delta| exceeds d.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CalibrationBin {
    pub low: f64,
    pub high: f64,
    pub sites: u64,
    pub stated: f64,
    pub observed: f64,
}

#[derive(Debug, Clone, Default)]
pub struct MethylDistributions {
    pub title: String,
    pub coverage: Binned,
    pub p_dm: Binned,
    /// Only where the truth is known.
    pub calibration: Option<Vec<CalibrationBin>>,
}

pub(super) fn validate(d: &MethylDistributions) -> Result<()> {
    for b in [&d.coverage, &d.p_dm] {
        ensure!(
            b.edges.len() == b.counts.len() + 1 && !b.counts.is_empty(),
            "distributions: {} has {} edges for {} bins",
            b.label,
            b.edges.len(),
            b.counts.len()
        );
        ensure!(
            b.edges.windows(2).all(|w| w[0] < w[1]),
            "distributions: {}'s edges must increase",
            b.label
        );
    }
    Ok(())
}

pub(super) fn size(d: &MethylDistributions) -> (u32, u32) {
    let panels = 2 + u32::from(d.calibration.is_some());
    (PANEL.0 * panels, TITLE_H + PANEL.1)
}

pub(super) fn draw<DB>(root: &DrawingArea<DB, Shift>, d: &MethylDistributions) -> Result<()>
where
    DB: Backend,
{
    let body = titled(root, &d.title)?;
    let panels = 2 + usize::from(d.calibration.is_some());
    let areas = body.split_evenly((1, panels));
    histogram(&areas[0], &d.coverage)?;
    histogram(&areas[1], &d.p_dm)?;
    if let Some(bins) = &d.calibration {
        calibration(&areas[2], bins)?;
    }
    Ok(())
}

fn histogram<DB: Backend>(area: &DrawingArea<DB, Shift>, b: &Binned) -> Result<()> {
    let plot = panel_titled(area, &b.label)?;
    let height = |c: u64| {
        if b.log_counts {
            (1.0 + c as f64).log10()
        } else {
            c as f64
        }
    };
    let top = b.counts.iter().map(|&c| height(c)).fold(1.0, f64::max) * 1.1;
    let (x0, x1) = (b.edges[0], b.edges[b.edges.len() - 1]);
    let mut chart = ChartBuilder::on(&plot)
        .margin(10)
        .x_label_area_size(X_AREA)
        .y_label_area_size(Y_AREA)
        .build_cartesian_2d(x0..x1, 0.0..top)?;
    let y_desc = if b.log_counts {
        "log10(1 + sites)"
    } else {
        "sites"
    };
    let axes = Axes {
        x_desc: &b.x_desc,
        y_desc,
        x_area: X_AREA,
        y_area: Y_AREA,
        ..Axes::default()
    };
    draw_axes(&mut chart, &plot, &axes)?;
    let bars = || {
        b.counts
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .map(|(k, &c)| [(b.edges[k], 0.0), (b.edges[k + 1], height(c))])
    };
    chart.draw_series(bars().map(|r| Rectangle::new(r, HIST_FILL.filled())))?;
    chart.draw_series(bars().map(|r| Rectangle::new(r, WHITE.stroke_width(1))))?;
    if let Some((x, label)) = &b.marker {
        if (x0..=x1).contains(x) {
            chart.draw_series(DashedLineSeries::new(
                [(*x, 0.0), (*x, top)],
                6,
                5,
                PALETTE[1].stroke_width(2),
            ))?;
            let (px, py) = chart.backend_coord(&(*x, top * 0.95));
            let screen = plot.use_screen_coord();
            let style = anchored(
                text(12.0).color(&PALETTE[1]),
                plotters::style::text_anchor::HPos::Right,
                plotters::style::text_anchor::VPos::Top,
            );
            put_text(&screen, label, (px - 4, py), &style)?;
        }
    }
    Ok(())
}

fn calibration<DB: Backend>(area: &DrawingArea<DB, Shift>, bins: &[CalibrationBin]) -> Result<()> {
    let plot = panel_titled(area, "calibration against the truth")?;
    let mut chart = ChartBuilder::on(&plot)
        .margin(10)
        .x_label_area_size(X_AREA)
        .y_label_area_size(Y_AREA)
        .build_cartesian_2d(-0.02..1.02, -0.02..1.02)?;
    let axes = Axes {
        x_desc: "stated P(|delta| > d), bin mean",
        y_desc: "share with true |delta| > d",
        x_area: X_AREA,
        y_area: Y_AREA,
        grid: true,
        ..Axes::default()
    };
    draw_axes(&mut chart, &plot, &axes)?;
    if let Some(line) = diagonal((-0.02, 1.02), (-0.02, 1.02)) {
        chart.draw_series(DashedLineSeries::new(line, 6, 5, REF_GREY.stroke_width(1)))?;
    }
    let shown: Vec<&CalibrationBin> = bins
        .iter()
        .filter(|b| b.sites > 0 && b.stated.is_finite() && b.observed.is_finite())
        .collect();
    chart.draw_series(shown.iter().map(|b| {
        // A binomial standard error of the observed share: how far from the line is noise.
        let se = (b.observed * (1.0 - b.observed) / b.sites as f64).sqrt();
        PathElement::new(
            vec![
                (b.stated, (b.observed - 2.0 * se).max(0.0)),
                (b.stated, (b.observed + 2.0 * se).min(1.0)),
            ],
            PALETTE[0].stroke_width(2),
        )
    }))?;
    chart.draw_series(
        shown
            .iter()
            .map(|b| Circle::new((b.stated, b.observed), 5, PALETTE[0].filled())),
    )?;
    let screen = plot.use_screen_coord();
    for b in &shown {
        let (px, py) = chart.backend_coord(&(b.stated, b.observed));
        // Right of the point, or left of it near the right edge.
        let (h, dx) = if b.stated > 0.6 {
            (plotters::style::text_anchor::HPos::Right, -8)
        } else {
            (plotters::style::text_anchor::HPos::Left, 8)
        };
        let style = anchored(text(11.0), h, plotters::style::text_anchor::VPos::Center);
        let label = format!("{} sites", fmt_num(b.sites as f64));
        put_text(&screen, &label, (px + dx, py), &style)?;
    }
    Ok(())
}

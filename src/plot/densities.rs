//! Kruschke DBDA2 Figure 9.14: a grid of posterior densities with their 95% HDIs.

use std::path::Path;

use anyhow::{Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axes::{draw_axes, padded_range, Axes};
use super::colours::REF_GREY;
use super::histogram::Hist;
use super::layout::{finite_panel, PANEL_X_AREA};
use super::render::{render, Backend};
use super::text::{anchored, corner_text, fmt_num, put_text, text};
use super::Figure;

/// Pixels below the density baseline kept for the HDI bar and its end values.
const HDI_BAND_PX: f64 = 34.0;
/// Probability mass of the highest-density interval shown.
const HDI_PROB: f64 = 0.95;

/// One panel of `densities`: a quantity's draws and an optional reference value
/// (e.g. 0 for differences) drawn as a dashed vertical line.
#[derive(Debug, Clone, Default)]
pub struct Density {
    pub label: String,
    pub draws: Vec<f64>,
    pub reference: Option<f64>,
}

/// Kruschke DBDA2 Figure 9.14 style: one panel per quantity (up to `MAX_COLUMNS` per row)
/// with a histogram of its draws, the 95% HDI as a thick bar with its end values, the
/// mean, and the optional reference value as a dashed line with the mass on each side.
/// A quantity without finite draws gets a "no draws" panel.
pub fn densities(path: &Path, title: &str, panels: &[Density]) -> Result<()> {
    render(path, &Figure::Densities { title, panels })
}

/// One panel of the grid (see `layout::draw_grid`).
pub(super) fn panel<DB>(area: &DrawingArea<DB, Shift>, d: &Density) -> Result<()>
where
    DB: Backend,
{
    let Some((plot, draws)) = finite_panel(area, &d.label, &d.draws, "no draws")? else {
        return Ok(());
    };
    let n = draws.len() as f64;
    let mean = draws.iter().sum::<f64>() / n;
    let (hdi_lo, hdi_hi) = crate::mcmc::diagnostics::hdi(&draws, HDI_PROB);
    let hist = Hist::new(&draws);
    let scale = 1.0 / (n * hist.width); // counts to density
    let top = hist.bars(scale).map(|b| b.2).fold(0.0, f64::max) * 1.35;
    let reference = d.reference.filter(|r| r.is_finite());
    let xr =
        padded_range(hist.extent().into_iter().chain(reference), 0.05).context("density range")?;

    let build = |bottom: f64| {
        ChartBuilder::on(&plot)
            .margin_left(14)
            .margin_right(14)
            .margin_top(4)
            .margin_bottom(6)
            .x_label_area_size(PANEL_X_AREA)
            .build_cartesian_2d(xr.0..xr.1, bottom..top)
    };
    // Keep a fixed-height band below the baseline for the HDI bar and its labels.
    let plot_h = build(0.0)?.plotting_area().dim_in_pixel().1.max(1) as f64;
    let b = (HDI_BAND_PX / plot_h).min(0.4);
    let bottom = -top * b / (1.0 - b);
    let mut chart = build(bottom)?;
    let axes = Axes {
        x_ticks: 5,
        x_area: PANEL_X_AREA,
        y_axis: false,
        ..Axes::default()
    };
    draw_axes(&mut chart, &plot, &axes)?;

    hist.draw(&mut chart, scale)?;
    chart.draw_series(LineSeries::new(
        [(xr.0, 0.0), (xr.1, 0.0)],
        REF_GREY.stroke_width(1),
    ))?;
    if let Some(r) = reference {
        chart.draw_series(DashedLineSeries::new(
            [(r, 0.0), (r, top)],
            6,
            4,
            BLACK.stroke_width(2),
        ))?;
    }

    // HDI bar 9 px below the baseline, end values under its ends.
    let bar_y = bottom * 9.0 / HDI_BAND_PX;
    let screen = plot.use_screen_coord();
    let (px_lo, py) = chart.backend_coord(&(hdi_lo, bar_y));
    let (px_hi, _) = chart.backend_coord(&(hdi_hi, bar_y));
    screen.draw(&PathElement::new(
        vec![(px_lo, py), (px_hi.max(px_lo + 2), py)],
        BLACK.stroke_width(5),
    ))?;
    let style = text(12.0);
    let lo_txt = fmt_num(hdi_lo);
    let hi_txt = fmt_num(hdi_hi);
    let w_lo = screen.estimate_text_size(&lo_txt, &style)?.0 as i32;
    let w_hi = screen.estimate_text_size(&hi_txt, &style)?.0 as i32;
    let (xrange, _) = chart.plotting_area().get_pixel_range();
    // Centre each label on its end, push them apart if they would touch, keep them inside.
    let (mut c_lo, mut c_hi) = (px_lo, px_hi);
    let need = (w_lo + w_hi) / 2 + 8;
    if c_hi - c_lo < need {
        let mid = (c_lo + c_hi) / 2;
        c_lo = mid - need / 2;
        c_hi = c_lo + need;
    }
    let shift_right = (xrange.start - (c_lo - w_lo / 2)).max(0);
    let shift_left = ((c_hi + w_hi / 2) - xrange.end).max(0);
    c_lo += shift_right - shift_left;
    c_hi += shift_right - shift_left;
    let label_y = py + 6;
    // Equal ends (constant draws) are printed once.
    let ends = if lo_txt == hi_txt {
        vec![(lo_txt, (c_lo + c_hi) / 2)]
    } else {
        vec![(lo_txt, c_lo), (hi_txt, c_hi)]
    };
    for (t, c) in ends {
        let st = anchored(style.clone(), HPos::Center, VPos::Top);
        put_text(&screen, &t, (c, label_y), &st)?;
    }
    // "95% HDI" between the end values when there is room for it.
    let hdi_txt = format!("{:.0}% HDI", HDI_PROB * 100.0);
    let w_txt = screen.estimate_text_size(&hdi_txt, &style)?.0 as i32;
    if (c_hi - w_hi / 2) - (c_lo + w_lo / 2) > w_txt + 12 {
        let st = anchored(style.clone(), HPos::Center, VPos::Top);
        put_text(&screen, &hdi_txt, ((c_lo + c_hi) / 2, label_y), &st)?;
    }

    let mut lines = vec![format!("mean = {}", fmt_num(mean))];
    if let Some(r) = reference {
        let below = draws.iter().filter(|&&x| x < r).count() as f64 / n * 100.0;
        let above = draws.iter().filter(|&&x| x > r).count() as f64 / n * 100.0;
        lines.push(format!("{below:.1}% < {} < {above:.1}%", fmt_num(r)));
    }
    // Text goes in the top corner away from the reference line, else the emptier one.
    let mid = 0.5 * (xr.0 + xr.1);
    let left = match reference {
        Some(r) => r > mid,
        None => {
            let w = 0.3 * (xr.1 - xr.0);
            let in_left = draws.iter().filter(|&&x| x < xr.0 + w).count();
            let in_right = draws.iter().filter(|&&x| x > xr.1 - w).count();
            in_left <= in_right
        }
    };
    corner_text(chart.plotting_area(), &lines, left)
}

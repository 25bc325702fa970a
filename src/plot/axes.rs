//! Axes of a chart: the data ranges they span, plotters' axis lines and ticks, and the
//! tick labels and axis descriptions placed as text.

use anyhow::Result;
use plotters::coord::ranged1d::{BoldPoints, Ranged};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use plotters::style::FontTransform;

use super::render::Backend;
use super::text::{anchored, fmt_num, put_text, text};

/// A chart over f64 x f64, as every figure builds it.
pub(super) type Chart2d<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// Axis text of a chart: plotters draws the axis lines and ticks, `put_text` the labels.
pub(super) struct Axes<'a> {
    pub(super) x_desc: &'a str,
    pub(super) y_desc: &'a str,
    pub(super) x_ticks: usize,
    pub(super) y_ticks: usize,
    /// Pixel sizes given to `x_label_area_size` / `y_label_area_size`.
    pub(super) x_area: i32,
    pub(super) y_area: i32,
    /// Draw the y axis at all (densities hide it: the height of a density is not read).
    pub(super) y_axis: bool,
    pub(super) grid: bool,
    pub(super) font: f64,
}

impl Default for Axes<'_> {
    fn default() -> Self {
        Axes {
            x_desc: "",
            y_desc: "",
            x_ticks: 6,
            y_ticks: 5,
            x_area: 40,
            y_area: 60,
            y_axis: true,
            grid: false,
            font: 12.0,
        }
    }
}

/// Tick labels with just enough decimals for the tick spacing.
pub(super) fn tick_labels(values: &[f64]) -> Vec<String> {
    let step = values
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(f64::INFINITY, f64::min);
    let big = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    values
        .iter()
        .map(|&v| {
            if !step.is_finite() || step <= 0.0 {
                fmt_num(v)
            } else if (1e5..1e12).contains(&big)
                && step >= 1.0
                && values.iter().all(|x| x.fract() == 0.0)
            {
                // Genomic positions and other large whole numbers: every digit, grouped.
                grouped(v as i64)
            } else if big >= 1e5 || step < 1e-4 {
                format!("{v:.1e}")
            } else {
                let decimals = (-step.log10() - 1e-9).ceil().clamp(0.0, 6.0) as usize;
                let v = if v.abs() < step * 1e-6 { 0.0 } else { v };
                format!("{v:.decimals$}")
            }
        })
        .collect()
}

/// A whole number with its thousands grouped by commas: 3014200 -> "3,014,200".
fn grouped(v: i64) -> String {
    let digits = v.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0 {
        out.insert(0, '-');
    }
    out
}

/// `outer` is the area the chart was built on: text is drawn through it because plotters
/// clamps an element's anchor into the area it is drawn on.
pub(super) fn draw_axes<DB: Backend>(
    chart: &mut Chart2d<DB>,
    outer: &DrawingArea<DB, Shift>,
    a: &Axes,
) -> Result<()> {
    let invisible = text(a.font).color(&TRANSPARENT);
    let mut mesh = chart.configure_mesh();
    mesh.x_labels(a.x_ticks)
        .y_labels(a.y_ticks)
        .label_style(invisible)
        .bold_line_style(BLACK.mix(0.08))
        .light_line_style(TRANSPARENT);
    if !a.grid {
        mesh.disable_mesh();
    }
    if !a.y_axis {
        mesh.disable_y_axis();
    }
    mesh.draw()?;

    let screen = outer.use_screen_coord();
    let (xs_px, ys_px) = chart.plotting_area().get_pixel_range();
    let spec = chart.as_coord_spec();
    let xs = spec.x_spec().key_points(BoldPoints(a.x_ticks));
    let ys = spec.y_spec().key_points(BoldPoints(a.y_ticks));
    let (x_any, y_any) = (spec.x_spec().range().start, spec.y_spec().range().start);
    let style = text(a.font);
    // Same places as plotters' own labels: 10 px (two tick lengths) off the axis.
    for (v, label) in xs.iter().zip(tick_labels(&xs)) {
        let (px, _) = chart.backend_coord(&(*v, y_any));
        let st = anchored(style.clone(), HPos::Center, VPos::Top);
        put_text(&screen, &label, (px, ys_px.end + 10), &st)?;
    }
    if a.y_axis {
        for (v, label) in ys.iter().zip(tick_labels(&ys)) {
            let (_, py) = chart.backend_coord(&(x_any, *v));
            let st = anchored(style.clone(), HPos::Right, VPos::Center);
            put_text(&screen, &label, (xs_px.start - 10, py), &st)?;
        }
    }
    let desc = text(a.font + 2.0);
    if !a.x_desc.is_empty() {
        let st = anchored(desc.clone(), HPos::Center, VPos::Bottom);
        let at = ((xs_px.start + xs_px.end) / 2, ys_px.end + a.x_area);
        put_text(&screen, a.x_desc, at, &st)?;
    }
    if !a.y_desc.is_empty() {
        let st = anchored(
            desc.transform(FontTransform::Rotate270),
            HPos::Center,
            VPos::Top,
        );
        let at = (xs_px.start - a.y_area, (ys_px.start + ys_px.end) / 2);
        put_text(&screen, a.y_desc, at, &st)?;
    }
    Ok(())
}

/// The finite values, in order.
pub(super) fn finite(values: &[f64]) -> Vec<f64> {
    values.iter().copied().filter(|v| v.is_finite()).collect()
}

/// [min, max] of the finite values, padded by `pad` of the span on each side; equal
/// values get a small width so the axis can still be drawn. None when none is finite.
pub(super) fn padded_range(values: impl IntoIterator<Item = f64>, pad: f64) -> Option<(f64, f64)> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.into_iter().filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        return None;
    }
    let span = hi - lo;
    if span <= 1e-12 * lo.abs().max(hi.abs()) || span == 0.0 {
        let half = (0.05 * lo.abs()).max(1e-3);
        return Some((lo - half, hi + half));
    }
    Some((lo - pad * span, hi + pad * span))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_labels_have_sensible_digits() {
        assert_eq!(tick_labels(&[0.1, 0.2, 0.3]), ["0.1", "0.2", "0.3"]);
        assert_eq!(tick_labels(&[0.0, 500.0, 1000.0]), ["0", "500", "1000"]);
        assert_eq!(tick_labels(&[-0.05, 0.0, 0.05]), ["-0.05", "0.00", "0.05"]);
        assert_eq!(
            tick_labels(&[3_014_000.0, 3_014_500.0, 3_015_000.0]),
            ["3,014,000", "3,014,500", "3,015,000"]
        );
        assert_eq!(tick_labels(&[0.0, 2e5, 4e5]), ["0", "200,000", "400,000"]);
    }
}

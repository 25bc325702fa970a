//! The chromosome overview of a methylation run: one strip per chromosome, on one position
//! scale, with the difference averaged in bins along it, the called loci as points and the
//! called regions as bars from 0 to their mean difference, coloured by direction.

use anyhow::{ensure, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::axes::{draw_axes, Axes};
use super::colours::REF_GREY;
use super::layout::{titled, LEGEND_H};
use super::legend::{legend_band, Mark};
use super::render::Backend;
use super::text::{anchored, put_text, text};
use super::volcano::{DOWN, UP};

/// Width of the figure, and height of one chromosome's strip (px).
pub(super) const OVERVIEW_WIDTH: u32 = 1100;
const STRIP_H: u32 = 78;
/// Space between strips, and below the last for the position axis (px).
const STRIP_GAP: u32 = 20;
const AXIS_H: u32 = 50;
/// Left margin that holds a strip's chromosome name and y ticks (px).
const NAME_AREA: u32 = 80;
/// At most this many strips: the chromosomes with the most sites (a genome's main ones).
pub const MAX_OVERVIEW_CHROMOSOMES: usize = 30;

/// One chromosome's strip.
#[derive(Debug, Clone, Default)]
pub struct ChromosomeStrip {
    pub name: String,
    /// (bin centre, mean delta of its sites), in position order; bins without sites absent.
    pub bins: Vec<(f64, f64)>,
    /// Called loci: (position, delta).
    pub calls: Vec<(f64, f64)>,
    /// Called regions: (start, end, mean delta).
    pub regions: Vec<(f64, f64, f64)>,
}

/// The whole figure: the strips, the x axis's end (the largest position, bases) and the
/// y axis's reach (|delta| shown).
#[derive(Debug, Clone, Default)]
pub struct Overview {
    pub title: String,
    pub strips: Vec<ChromosomeStrip>,
    pub end: f64,
    pub reach: f64,
}

pub(super) fn validate(o: &Overview) -> Result<()> {
    ensure!(!o.strips.is_empty(), "overview: no chromosomes");
    ensure!(
        o.strips.len() <= MAX_OVERVIEW_CHROMOSOMES,
        "overview: {} chromosomes, at most {MAX_OVERVIEW_CHROMOSOMES}",
        o.strips.len()
    );
    ensure!(
        o.end.is_finite() && o.end > 0.0 && o.reach.is_finite() && o.reach > 0.0,
        "overview: axis end {} and reach {} must be positive",
        o.end,
        o.reach
    );
    Ok(())
}

pub(super) fn size(o: &Overview) -> (u32, u32) {
    let n = o.strips.len() as u32;
    (
        OVERVIEW_WIDTH,
        super::layout::TITLE_H + LEGEND_H + STRIP_H * n + STRIP_GAP * (n - 1) + AXIS_H,
    )
}

pub(super) fn draw<DB>(root: &DrawingArea<DB, Shift>, o: &Overview) -> Result<()>
where
    DB: Backend,
{
    let body = titled(root, &o.title)?;
    let (legend, rest) = body.split_vertically(LEGEND_H);
    legend_band(
        &legend,
        &[
            (Mark::Line(REF_GREY), "mean delta in bins".to_string()),
            (
                Mark::Interval(UP),
                "called, up (points: loci, bars: regions)".to_string(),
            ),
            (Mark::Interval(DOWN), "called, down".to_string()),
        ],
    )?;
    let mb = o.end / 1e6;
    let last = o.strips.len() - 1;
    let mut area = rest;
    for (k, strip) in o.strips.iter().enumerate() {
        let x_area = if k == last { AXIS_H } else { STRIP_GAP };
        let (row, below) = area.split_vertically(STRIP_H + x_area);
        area = below;
        let (name, plot) = row.split_horizontally(NAME_AREA - 44);
        let style = anchored(
            text(13.0),
            plotters::style::text_anchor::HPos::Left,
            plotters::style::text_anchor::VPos::Center,
        );
        put_text(&name, &strip.name, (4, STRIP_H as i32 / 2), &style)?;
        let mut chart = ChartBuilder::on(&plot)
            .margin_right(16)
            .margin_top(3)
            .x_label_area_size(x_area)
            .y_label_area_size(44)
            .build_cartesian_2d(0.0..mb * 1.01, -o.reach..o.reach)?;
        let axes = Axes {
            x_desc: if k == last { "position (Mb)" } else { "" },
            x_ticks: 10,
            y_ticks: 3,
            x_area: x_area as i32 - 4,
            y_area: 44,
            grid: true,
            font: 11.0,
            ..Axes::default()
        };
        draw_axes(&mut chart, &plot, &axes)?;
        chart.draw_series(LineSeries::new(
            [(0.0, 0.0), (mb * 1.01, 0.0)],
            BLACK.mix(0.3).stroke_width(1),
        ))?;
        chart.draw_series(LineSeries::new(
            strip
                .bins
                .iter()
                .map(|&(x, d)| (x / 1e6, d.clamp(-o.reach, o.reach))),
            REF_GREY.stroke_width(1),
        ))?;
        let tone = |d: f64| if d > 0.0 { UP } else { DOWN };
        chart.draw_series(strip.regions.iter().map(|&(s, e, d)| {
            let x = 0.5 * (s + e) / 1e6;
            PathElement::new(
                vec![(x, 0.0), (x, d.clamp(-o.reach, o.reach))],
                tone(d).mix(0.7).stroke_width(3),
            )
        }))?;
        chart.draw_series(strip.calls.iter().map(|&(x, d)| {
            Circle::new((x / 1e6, d.clamp(-o.reach, o.reach)), 2, tone(d).filled())
        }))?;
    }
    Ok(())
}

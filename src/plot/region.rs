//! The region plot of a methylation run (DSS's `showOneDMR`, dmrseq's `plotDMRs`): each
//! sample's proportion at each CpG, sized by its coverage and coloured by its group, under
//! each group's posterior mean and 95% band, with the region shaded.

use anyhow::{ensure, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::colours::PALETTE;
use super::layout::{titled, LEGEND_H};
use super::legend::{legend_band, Mark};
use super::render::Backend;
use super::scatter::scatter_chart;

/// The shaded region's fill: light enough that the points on it keep their colours.
const REGION_FILL: RGBColor = RGBColor(0xEE, 0xEE, 0xEE);
/// A sample's point at the smallest and at the largest coverage in view (px radius).
const MIN_RADIUS: f64 = 2.0;
const MAX_RADIUS: f64 = 9.0;

/// One sample's counts at the CpGs in view.
#[derive(Debug, Clone, Default)]
pub struct RegionSample {
    pub name: String,
    /// Its group: an index into `RegionPlot::groups`, or None (drawn grey).
    pub group: Option<usize>,
    pub pos: Vec<f64>,
    pub methylated: Vec<u32>,
    pub total: Vec<u32>,
}

/// One group's posterior mean and 95% interval of its level at the CpGs in view.
#[derive(Debug, Clone, Default)]
pub struct GroupBand {
    pub name: String,
    pub pos: Vec<f64>,
    pub mean: Vec<f64>,
    pub low: Vec<f64>,
    pub high: Vec<f64>,
}

/// A window of the genome: the samples' counts and the groups' bands in it, and the called
/// regions in it shaded.
#[derive(Debug, Clone, Default)]
pub struct RegionPlot {
    pub title: String,
    pub chr: String,
    /// The window (1-based, inclusive) and the shaded intervals inside it.
    pub view: (f64, f64),
    pub shaded: Vec<(f64, f64)>,
    pub samples: Vec<RegionSample>,
    pub groups: Vec<GroupBand>,
}

pub(super) fn validate(r: &RegionPlot) -> Result<()> {
    ensure!(
        r.view.0.is_finite() && r.view.1.is_finite() && r.view.0 <= r.view.1,
        "region plot: window {:?} is not an interval",
        r.view
    );
    for s in &r.samples {
        ensure!(
            s.pos.len() == s.methylated.len() && s.pos.len() == s.total.len(),
            "region plot: sample {} has {} positions, {} methylated and {} total counts",
            s.name,
            s.pos.len(),
            s.methylated.len(),
            s.total.len()
        );
    }
    for g in &r.groups {
        let n = g.pos.len();
        ensure!(
            g.mean.len() == n && g.low.len() == n && g.high.len() == n,
            "region plot: group {} has bands of unequal lengths",
            g.name
        );
    }
    ensure!(
        r.samples.iter().any(|s| !s.pos.is_empty()) || r.groups.iter().any(|g| !g.pos.is_empty()),
        "region plot: no CpG in {}:{}-{}",
        r.chr,
        r.view.0,
        r.view.1
    );
    Ok(())
}

fn colour(group: Option<usize>) -> RGBColor {
    group.map_or(RGBColor(0x88, 0x88, 0x88), |g| PALETTE[g % PALETTE.len()])
}

pub(super) fn draw<DB>(root: &DrawingArea<DB, Shift>, r: &RegionPlot) -> Result<()>
where
    DB: Backend,
{
    let body = titled(root, &r.title)?;
    let (legend, plot) = body.split_vertically(LEGEND_H);
    let mut items: Vec<(Mark, String)> = r
        .groups
        .iter()
        .enumerate()
        .map(|(g, band)| {
            let n = r.samples.iter().filter(|s| s.group == Some(g)).count();
            (
                Mark::Interval(colour(Some(g))),
                format!("{} ({n} samples; mean, 95% band)", band.name),
            )
        })
        .collect();
    if !r.shaded.is_empty() {
        items.push((Mark::Fill(REGION_FILL), "called region".to_string()));
    }
    legend_band(&legend, &items)?;
    let pad = ((r.view.1 - r.view.0) * 0.02).max(1.0);
    let mut chart = scatter_chart(
        &plot,
        (r.view.0 - pad, r.view.1 + pad),
        (-0.03, 1.03),
        &format!("position on {} (1-based; point area ~ coverage)", r.chr),
        "methylated fraction",
    )?;
    chart.draw_series(
        r.shaded
            .iter()
            .map(|&(a, b)| Rectangle::new([(a, -0.03), (b, 1.03)], REGION_FILL.filled())),
    )?;
    for (g, band) in r.groups.iter().enumerate() {
        let c = colour(Some(g));
        let keep: Vec<usize> = (0..band.pos.len())
            .filter(|&i| band.low[i].is_finite() && band.high[i].is_finite())
            .collect();
        if keep.len() >= 2 {
            let outline: Vec<(f64, f64)> = keep
                .iter()
                .map(|&i| (band.pos[i], band.low[i]))
                .chain(keep.iter().rev().map(|&i| (band.pos[i], band.high[i])))
                .collect();
            chart.draw_series(std::iter::once(Polygon::new(outline, c.mix(0.18).filled())))?;
        }
        chart.draw_series(LineSeries::new(
            keep.iter().map(|&i| (band.pos[i], band.mean[i])),
            c.stroke_width(2),
        ))?;
    }
    let top = r
        .samples
        .iter()
        .flat_map(|s| s.total.iter().copied())
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    for s in &r.samples {
        let c = colour(s.group);
        chart.draw_series((0..s.pos.len()).filter(|&i| s.total[i] > 0).map(|i| {
            let radius = MIN_RADIUS + (MAX_RADIUS - MIN_RADIUS) * (s.total[i] as f64 / top).sqrt();
            let fraction = s.methylated[i] as f64 / s.total[i] as f64;
            Circle::new(
                (s.pos[i], fraction),
                radius.round() as i32,
                c.mix(0.55).filled(),
            )
        }))?;
    }
    Ok(())
}

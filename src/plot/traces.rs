//! Trace plots and rank histograms per chain, one row per parameter.

use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::axes::{draw_axes, padded_range, Axes};
use super::colours::{PALETTE, REF_GREY};
use super::layout::{empty_panel, panel_titled, titled, LEGEND_H, TITLE_H};
use super::legend::{legend_band, Mark};
use super::render::{render, Backend};
use super::Figure;

/// Trace figure width: trace gets 2/3 (time needs room), rank histogram 1/3.
pub const TRACE_WIDTH: u32 = 1200;
/// Height of one parameter's row in the trace figure.
pub const TRACE_ROW_HEIGHT: u32 = 220;
/// At most this many points per chain in a trace (min and max per bucket, so spikes
/// survive) to keep SVGs small when there are many draws.
pub const MAX_TRACE_POINTS: usize = 2000;
/// Axis label areas (px): tick labels plus an axis description below / left of the plot.
const TRACE_X_AREA: i32 = 40;
const TRACE_Y_AREA: i32 = 64;
const RANK_Y_AREA: i32 = 56;

/// One row of `traces`: a parameter's draws, one Vec per chain.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    pub label: String,
    pub chains: Vec<Vec<f64>>,
}

/// Trace plot (one coloured line per chain) and rank histogram per chain (ranks among
/// all chains' pooled draws, Vehtari et al. 2021: flat when the chains agree), side by
/// side, one row per parameter.
pub fn traces(path: &Path, title: &str, params: &[Trace]) -> Result<()> {
    render(path, &Figure::Traces { title, params })
}

/// Full width, one row per parameter below the title and legend bands.
pub(super) fn size(params: &[Trace]) -> (u32, u32) {
    (
        TRACE_WIDTH,
        TITLE_H + LEGEND_H + TRACE_ROW_HEIGHT * params.len() as u32,
    )
}

/// At most `MAX_TRACE_POINTS` (draw index, value) pairs: each bucket's min and max in
/// draw order, so the envelope and spikes survive the thinning.
fn decimate(chain: &[f64]) -> Vec<(f64, f64)> {
    let indexed = |i: usize| (i as f64, chain[i]);
    if chain.len() <= MAX_TRACE_POINTS {
        return (0..chain.len())
            .filter(|&i| chain[i].is_finite())
            .map(indexed)
            .collect();
    }
    let size = chain.len().div_ceil(MAX_TRACE_POINTS / 2);
    let mut out = Vec::with_capacity(MAX_TRACE_POINTS);
    for (b, bucket) in chain.chunks(size).enumerate() {
        let mut lo: Option<usize> = None;
        let mut hi: Option<usize> = None;
        for (j, v) in bucket.iter().enumerate().filter(|(_, v)| v.is_finite()) {
            if lo.is_none_or(|l| *v < bucket[l]) {
                lo = Some(j);
            }
            if hi.is_none_or(|h| *v > bucket[h]) {
                hi = Some(j);
            }
        }
        if let (Some(l), Some(h)) = (lo, hi) {
            let (first, second) = if l <= h { (l, h) } else { (h, l) };
            out.push(indexed(b * size + first));
            if second != first {
                out.push(indexed(b * size + second));
            }
        }
    }
    out
}

/// Per chain, counts of its draws' ranks among all chains' pooled finite draws (ties get
/// their average rank), in `bins` equal bins; also returns the pooled count.
fn rank_counts(chains: &[Vec<f64>]) -> (Vec<Vec<usize>>, usize, usize) {
    let mut pooled: Vec<(f64, usize)> = chains
        .iter()
        .enumerate()
        .flat_map(|(c, ch)| ch.iter().filter(|v| v.is_finite()).map(move |&v| (v, c)))
        .collect();
    pooled.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = pooled.len();
    // About 20 bins when there are enough draws, at least ~20 pooled draws per bin.
    let bins = (total / 20).clamp(1, 20);
    let mut counts = vec![vec![0usize; bins]; chains.len()];
    let mut i = 0;
    while i < total {
        let mut j = i + 1;
        while j < total && pooled[j].0 == pooled[i].0 {
            j += 1;
        }
        let rank = (i + j - 1) as f64 / 2.0;
        let bin = ((rank * bins as f64 / total as f64) as usize).min(bins - 1);
        for &(_, c) in &pooled[i..j] {
            counts[c][bin] += 1;
        }
        i = j;
    }
    (counts, total, bins)
}

pub(super) fn draw<DB>(root: &DrawingArea<DB, Shift>, title: &str, params: &[Trace]) -> Result<()>
where
    DB: Backend,
{
    let body = titled(root, title)?;
    let (legend, rows) = body.split_vertically(LEGEND_H);
    let n_chains = params.iter().map(|p| p.chains.len()).max().unwrap_or(0);
    let mut items: Vec<(Mark, String)> = (0..n_chains)
        .map(|c| {
            (
                Mark::Line(PALETTE[c % PALETTE.len()]),
                format!("chain {}", c + 1),
            )
        })
        .collect();
    items.push((
        Mark::Dashed(REF_GREY),
        "rank count expected if chains agree".to_string(),
    ));
    legend_band(&legend, &items)?;
    for (row, p) in rows.split_evenly((params.len(), 1)).iter().zip(params) {
        trace_row(row, p)?;
    }
    Ok(())
}

fn trace_row<DB>(area: &DrawingArea<DB, Shift>, p: &Trace) -> Result<()>
where
    DB: Backend,
{
    let (left, right) = area.split_horizontally(TRACE_WIDTH * 2 / 3);
    let colour = |c: usize| PALETTE[c % PALETTE.len()];
    let yr = padded_range(p.chains.iter().flatten().copied(), 0.05);
    let Some(yr) = yr else {
        let left = panel_titled(&left, &format!("{}: trace", p.label))?;
        return empty_panel(&left, "no draws");
    };
    let n_max = p.chains.iter().map(Vec::len).max().unwrap_or(1);
    let left = panel_titled(&left, &format!("{}: trace", p.label))?;
    let mut chart = ChartBuilder::on(&left)
        .margin_left(8)
        .margin_right(16)
        .margin_bottom(4)
        .x_label_area_size(TRACE_X_AREA)
        .y_label_area_size(TRACE_Y_AREA)
        .build_cartesian_2d(0.0..(n_max.max(2) - 1) as f64, yr.0..yr.1)?;
    let axes = Axes {
        x_desc: "draw",
        y_desc: "value",
        x_ticks: 8,
        x_area: TRACE_X_AREA,
        y_area: TRACE_Y_AREA,
        grid: true,
        ..Axes::default()
    };
    draw_axes(&mut chart, &left, &axes)?;
    for (c, chain) in p.chains.iter().enumerate() {
        chart.draw_series(LineSeries::new(
            decimate(chain),
            colour(c).mix(0.75).stroke_width(1),
        ))?;
    }

    let (counts, total, bins) = rank_counts(&p.chains);
    let top = counts.iter().flatten().copied().max().unwrap_or(1).max(1) as f64 * 1.25;
    let right = panel_titled(&right, &format!("{}: rank histogram", p.label))?;
    let mut rank_chart = ChartBuilder::on(&right)
        .margin_left(4)
        .margin_right(16)
        .margin_bottom(4)
        .x_label_area_size(TRACE_X_AREA)
        .y_label_area_size(RANK_Y_AREA)
        .build_cartesian_2d(0.0..total as f64, 0.0..top)?;
    let axes = Axes {
        x_desc: "rank among pooled draws",
        y_desc: "draws per bin",
        x_ticks: 4,
        y_ticks: 4,
        x_area: TRACE_X_AREA,
        y_area: RANK_Y_AREA,
        ..Axes::default()
    };
    draw_axes(&mut rank_chart, &right, &axes)?;
    let width = total as f64 / bins as f64;
    let live = p
        .chains
        .iter()
        .filter(|ch| ch.iter().any(|v| v.is_finite()))
        .count();
    if live > 0 {
        let expected = total as f64 / live as f64 / bins as f64;
        rank_chart.draw_series(DashedLineSeries::new(
            [(0.0, expected), (total as f64, expected)],
            6,
            4,
            REF_GREY.stroke_width(2),
        ))?;
    }
    for (c, chain_counts) in counts.iter().enumerate() {
        if chain_counts.iter().all(|&k| k == 0) {
            continue;
        }
        // Step outline of this chain's histogram.
        let steps = chain_counts.iter().enumerate().flat_map(|(k, &n)| {
            [
                (k as f64 * width, n as f64),
                ((k + 1) as f64 * width, n as f64),
            ]
        });
        rank_chart.draw_series(LineSeries::new(steps, colour(c).stroke_width(2)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinning_keeps_extremes_and_bounds_points() {
        let mut chain: Vec<f64> = (0..100_000).map(|i| (i as f64 * 0.01).sin()).collect();
        chain[31_337] = 50.0;
        chain[77_777] = f64::NAN;
        let thin = decimate(&chain);
        assert!(thin.len() <= MAX_TRACE_POINTS);
        assert!(thin.contains(&(31_337.0, 50.0)));
        assert!(thin.iter().all(|p| p.1.is_finite()));
        assert!(thin.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn ranks_are_flat_for_interleaved_chains_and_tilted_for_a_shifted_one() {
        // Two chains taking turns through the same values: identical rank counts.
        let a: Vec<f64> = (0..400).map(|i| (2 * i) as f64).collect();
        let b: Vec<f64> = (0..400).map(|i| (2 * i + 1) as f64).collect();
        let (counts, total, bins) = rank_counts(&[a.clone(), b]);
        assert_eq!((total, bins), (800, 20));
        assert!(counts.iter().flatten().all(|&c| c == 20));
        let shifted: Vec<f64> = a.iter().map(|x| x + 400.0).collect();
        let (counts, _, _) = rank_counts(&[a, shifted]);
        assert_eq!(counts[0][0], 40);
        assert_eq!(counts[0][19], 0);
    }
}

//! Histograms of draws (densities, predictive checks): binning and the bars.

use anyhow::Result;
use plotters::prelude::*;

use super::axes::{padded_range, Chart2d};
use super::colours::HIST_FILL;
use super::render::Backend;

/// Histogram of finite values: integer-valued data with a small range get one bin per
/// integer (test statistics such as counts), others about sqrt(n) bins (10 to 60).
pub(super) struct Hist {
    start: f64,
    pub(super) width: f64,
    pub(super) counts: Vec<usize>,
}

impl Hist {
    pub(super) fn new(values: &[f64]) -> Hist {
        let (lo, hi) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        let integers = values.iter().all(|v| v.fract() == 0.0);
        let (start, width, bins) = if integers && hi - lo <= 60.0 {
            (lo - 0.5, 1.0, (hi - lo) as usize + 1)
        } else if hi > lo {
            let bins = ((values.len() as f64).sqrt().round() as usize).clamp(10, 60);
            (lo, (hi - lo) / bins as f64, bins)
        } else {
            // All equal: one narrow bin, as wide as a fiftieth of the padded axis.
            let (a, b) = padded_range([lo], 0.0).unwrap_or((lo - 1e-3, lo + 1e-3));
            let width = (b - a) / 50.0;
            (lo - width / 2.0, width, 1)
        };
        let mut counts = vec![0usize; bins];
        for &v in values {
            let k = ((v - start) / width).floor().max(0.0) as usize;
            counts[k.min(bins - 1)] += 1;
        }
        Hist {
            start,
            width,
            counts,
        }
    }

    fn end(&self) -> f64 {
        self.start + self.width * self.counts.len() as f64
    }

    /// Values the x axis must show: the bin edges, or for a single (all-equal) bin its
    /// centre only, so `padded_range` gives it a small width around the value.
    pub(super) fn extent(&self) -> [f64; 2] {
        if self.counts.len() > 1 {
            [self.start, self.end()]
        } else {
            let centre = self.start + 0.5 * self.width;
            [centre, centre]
        }
    }

    /// (left edge, right edge, height) per bin, heights scaled by `scale`.
    pub(super) fn bars(&self, scale: f64) -> impl Iterator<Item = (f64, f64, f64)> + '_ {
        self.counts.iter().enumerate().map(move |(k, &c)| {
            let x0 = self.start + self.width * k as f64;
            (x0, x0 + self.width, c as f64 * scale)
        })
    }

    /// The non-empty bins as filled bars with white outlines, heights scaled by `scale`.
    pub(super) fn draw<DB: Backend>(&self, chart: &mut Chart2d<DB>, scale: f64) -> Result<()> {
        chart.draw_series(
            self.bars(scale)
                .filter(|b| b.2 > 0.0)
                .map(|(x0, x1, y)| Rectangle::new([(x0, 0.0), (x1, y)], HIST_FILL.filled())),
        )?;
        chart.draw_series(
            self.bars(scale)
                .filter(|b| b.2 > 0.0)
                .map(|(x0, x1, y)| Rectangle::new([(x0, 0.0), (x1, y)], WHITE.stroke_width(1))),
        )?;
        Ok(())
    }
}

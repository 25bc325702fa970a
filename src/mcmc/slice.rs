//! Univariate slice sampling with stepping out and shrinkage (Neal 2003, §4),
//! and the warm-up rule that adapts its initial width.

use crate::rng::UniformStream;

/// Most steps of width w that stepping out may take (Neal's m): enough to grow
/// the interval 16-fold when the width was set far too small.
pub(crate) const MAX_STEP_OUT: u32 = 16;
/// Most shrinkage proposals; the interval halves on average each time, so this is
/// never reached unless the density is degenerate, in which case the chain stays put.
const MAX_SHRINK: u32 = 100;
/// Width to slice-sample with, in multiples of the coordinate's posterior sd: the mean
/// width of a Gaussian's slice at a random height is about 2.5 sd.
pub(crate) const WIDTH_PER_SD: f64 = 2.5;

/// One slice-sampling update of x0 under the log density `log_f`, with `log_f0 = log_f(x0)`.
/// Returns the new point and its log density.
pub(crate) fn slice_update(
    x0: f64,
    log_f0: f64,
    width: f64,
    log_f: impl Fn(f64) -> f64,
    rng: &mut UniformStream,
) -> (f64, f64) {
    // The slice: {x : log f(x) > log f(x0) - Exp(1)}.
    let log_y = log_f0 + rng.next_f64().ln();
    let mut left = x0 - width * rng.next_f64();
    let mut right = left + width;
    let mut steps_left = (f64::from(MAX_STEP_OUT) * rng.next_f64()) as u32;
    let mut steps_right = MAX_STEP_OUT - 1 - steps_left;
    while steps_left > 0 && log_f(left) > log_y {
        left -= width;
        steps_left -= 1;
    }
    while steps_right > 0 && log_f(right) > log_y {
        right += width;
        steps_right -= 1;
    }
    for _ in 0..MAX_SHRINK {
        let x1 = left + (right - left) * rng.next_f64();
        let log_f1 = log_f(x1);
        if log_f1 > log_y {
            return (x1, log_f1);
        }
        if x1 < x0 {
            left = x1;
        } else {
            right = x1;
        }
    }
    (x0, log_f0)
}

/// Running mean and variance (Welford) of one coordinate during warm-up.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RunningVariance {
    n: f64,
    mean: f64,
    m2: f64,
}

impl RunningVariance {
    pub fn push(&mut self, x: f64) {
        self.n += 1.0;
        let d = x - self.mean;
        self.mean += d / self.n;
        self.m2 += d * (x - self.mean);
    }

    pub fn count(&self) -> f64 {
        self.n
    }

    pub fn sd(&self) -> f64 {
        if self.n < 2.0 {
            f64::NAN
        } else {
            (self.m2 / (self.n - 1.0)).sqrt()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Stream;

    /// Slice sampling N(1, 2^2) from a bad width must still give its mean and sd.
    #[test]
    fn samples_a_normal_whatever_the_width() {
        for width in [0.05, 2.0, 50.0] {
            let log_f = |x: f64| -0.5 * ((x - 1.0) / 2.0).powi(2);
            let (mut x, mut lf) = (0.0, log_f(0.0));
            let mut stats = RunningVariance::default();
            let n = 40_000;
            for sweep in 0..n {
                let mut rng = UniformStream::new(11, 0, 0, 0, sweep, Stream::Hyper);
                (x, lf) = slice_update(x, lf, width, log_f, &mut rng);
                stats.push(x);
            }
            // Autocorrelated draws: allow 0.15 (about 5 MCSE at an ESS of 4,000 and more).
            assert!(
                (stats.mean - 1.0).abs() < 0.15,
                "width {width}: mean {}",
                stats.mean
            );
            assert!(
                (stats.sd() - 2.0).abs() < 0.15,
                "width {width}: sd {}",
                stats.sd()
            );
        }
    }
}

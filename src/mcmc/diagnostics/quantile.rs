//! Quantiles of sorted draws (numpy's "linear" and scipy's `mquantiles`) and
//! highest-density intervals.

/// Quantile of ascending-sorted data by linear interpolation between order statistics
/// (Hyndman & Fan type 7, numpy's default `method="linear"`, bit for bit).
/// NaN for empty input or `p` outside [0, 1].
pub fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 0 || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    // numpy computes the virtual index as (n - 1) * p to avoid rounding issues.
    let virtual_index = (n - 1) as f64 * p;
    if virtual_index >= (n - 1) as f64 {
        return sorted[n - 1];
    }
    let prev = virtual_index.floor();
    let gamma = virtual_index - prev;
    let i = prev as usize;
    lerp(sorted[i], sorted[i + 1], gamma)
}

/// Highest-density interval of unimodal draws, as `az.hdi`: sort, and among the
/// windows `sorted[i]..=sorted[i + k]` with `k = floor(prob * n)` (so each spans
/// k + 1 >= ceil(prob * n) draws) return the narrowest, the first on ties.
/// `prob = 1` gives (min, max). Returns (NaN, NaN) for no draws, any non-finite draw,
/// or `prob` outside (0, 1].
pub fn hdi(draws: &[f64], prob: f64) -> (f64, f64) {
    let n = draws.len();
    if n == 0 || !(prob > 0.0 && prob <= 1.0) || draws.iter().any(|x| !x.is_finite()) {
        return (f64::NAN, f64::NAN);
    }
    let mut sorted = draws.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    hdi_sorted(&sorted, prob)
}

/// `hdi` of draws already sorted and all finite.
pub(super) fn hdi_sorted(sorted: &[f64], prob: f64) -> (f64, f64) {
    let n = sorted.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let k = (prob * n as f64).floor() as usize;
    if k >= n {
        return (sorted[0], sorted[n - 1]);
    }
    let mut best = 0;
    let mut best_width = sorted[k] - sorted[0];
    for i in 1..n - k {
        let width = sorted[i + k] - sorted[i];
        if width < best_width {
            best = i;
            best_width = width;
        }
    }
    (sorted[best], sorted[best + k])
}

/// numpy's `_lerp`: interpolate from whichever end is nearer, so that t = 0 and t = 1
/// reproduce the end points exactly.
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

/// Type-7 quantile as `scipy.stats.mstats.mquantiles(alphap=1, betap=1)`, the formula
/// ArviZ uses for the tail-ESS thresholds (equal to [`quantile_sorted`] up to rounding;
/// reproduced exactly so the indicators agree with ArviZ on ties).
pub(super) fn mquantile_sorted(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 1 {
        return sorted[0];
    }
    let aleph = n as f64 * p + (1.0 - p);
    let k = aleph.clamp(1.0, (n - 1) as f64).floor();
    let gamma = (aleph - k).clamp(0.0, 1.0);
    let k = k as usize;
    (1.0 - gamma) * sorted[k - 1] + gamma * sorted[k]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_matches_numpy_linear() {
        // np.quantile(a, p) on the scipy mquantiles doc example, numpy 2.4.6.
        let mut a = [6., 47., 49., 15., 42., 41., 7., 39., 43., 40., 36.];
        a.sort_unstable_by(f64::total_cmp);
        let cases = [
            (0.0, 6.0),
            (0.1, 7.0),
            (0.25, 25.5),
            (0.333, 36.99),
            (0.5, 40.0),
            (0.9, 47.0),
            (1.0, 49.0),
        ];
        for (p, want) in cases {
            assert_eq!(quantile_sorted(&a, p), want, "p = {p}");
        }
        assert!(quantile_sorted(&[], 0.5).is_nan());
        assert!(quantile_sorted(&a, 1.5).is_nan());
        assert_eq!(quantile_sorted(&[3.0], 0.7), 3.0);
    }

    #[test]
    fn hdi_edge_cases() {
        assert_eq!(hdi(&[3.0, 1.0, 2.0], 1.0), (1.0, 3.0));
        let (lo, hi) = hdi(&[], 0.9);
        assert!(lo.is_nan() && hi.is_nan());
        let (lo, hi) = hdi(&[1.0, f64::NAN], 0.5);
        assert!(lo.is_nan() && hi.is_nan());
        let (lo, hi) = hdi(&[1.0, 2.0], 0.0);
        assert!(lo.is_nan() && hi.is_nan());
        // Narrowest window of 3 (floor(0.5 * 5) + 1) draws, first on ties.
        assert_eq!(hdi(&[0.0, 1.0, 2.0, 10.0, 11.0], 0.5), (0.0, 2.0));
    }
}

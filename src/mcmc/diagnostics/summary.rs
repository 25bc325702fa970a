//! The posterior summary of one quantity: moments, quantiles, HDI, P(> 0) and the
//! convergence diagnostics, from one ranking of its draws.

use super::ess::{ess_of, tail_quantiles};
use super::quantile::{hdi_sorted, quantile_sorted};
use super::rank::Ranked;

/// Central 95% interval and median reported in [`Summary`].
const SUMMARY_QUANTILES: (f64, f64, f64) = (0.025, 0.5, 0.975);
/// Probability mass of the summary's highest-density interval (Kruschke's 95% HDI).
pub const HDI_PROB: f64 = 0.95;

/// Posterior summary of one scalar quantity over all chains.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Mean over all draws pooled.
    pub mean: f64,
    /// Standard deviation over all draws pooled (ddof = 1); NaN for fewer than two draws.
    pub sd: f64,
    /// 2.5% quantile of the pooled draws (numpy "linear").
    pub q2_5: f64,
    /// Median of the pooled draws.
    pub median: f64,
    /// 97.5% quantile of the pooled draws (numpy "linear").
    pub q97_5: f64,
    /// Monte Carlo standard error of the mean: `sd / sqrt(ess_mean)`.
    pub mcse_mean: f64,
    /// The HDI_PROB highest-density interval of the pooled draws (as `az.hdi`).
    pub hdi_low: f64,
    pub hdi_high: f64,
    /// Fraction of the pooled draws above 0: P(quantity > 0), what a contrast is read for.
    pub p_positive: f64,
    /// Bulk effective sample size (rank-normalised split chains).
    pub ess_bulk: f64,
    /// Tail effective sample size (5% and 95% quantile indicators).
    pub ess_tail: f64,
    /// Rank-normalised split R-hat, max of bulk and folded.
    pub r_hat: f64,
}

/// Full summary of one quantity. Mean, sd and quantiles use every draw pooled
/// (they are NaN when any draw is NaN or there are no draws); the diagnostics follow the
/// rules in the `diagnostics` docs.
/// Mean and sample sd (ddof = 1) of the draws `draws` gives, in `mean_sd`'s order of
/// summation, so the figures are the same to the bit.
fn mean_sd_of<I: Iterator<Item = f64>>(draws: impl Fn() -> I) -> (f64, f64) {
    let n = draws().count();
    let mean = draws().sum::<f64>() / n as f64;
    if n < 2 {
        return (mean, f64::NAN);
    }
    let ss: f64 = draws().map(|v| (v - mean) * (v - mean)).sum();
    (mean, (ss / (n as f64 - 1.0)).sqrt())
}

pub fn summarize(chains: &[&[f64]]) -> Summary {
    // The pooled draws are never copied for the mean and sd: a large run's parameter holds
    // millions of draws, and each copy of them counts against its memory.
    let pooled = || chains.iter().flat_map(|c| c.iter().copied());
    let (mean, sd) = mean_sd_of(pooled);
    let ranked = Ranked::new(chains);
    let sorted = match &ranked {
        Some(ranked) => ranked.pooled_sorted(chains),
        // Empty, so the quantiles come out NaN.
        None if pooled().any(|x| x.is_nan()) => Vec::new(),
        None => {
            let mut sorted: Vec<f64> = pooled().collect();
            sorted.sort_unstable_by(f64::total_cmp);
            sorted
        }
    };
    let hdi = if sorted.iter().all(|x| x.is_finite()) {
        hdi_sorted(&sorted, HDI_PROB)
    } else {
        (f64::NAN, f64::NAN)
    };
    // Empty when there are no draws or a NaN among them.
    let p_positive = if sorted.is_empty() {
        f64::NAN
    } else {
        sorted.iter().filter(|&&x| x > 0.0).count() as f64 / sorted.len() as f64
    };
    let quantiles = [
        SUMMARY_QUANTILES.0,
        SUMMARY_QUANTILES.1,
        SUMMARY_QUANTILES.2,
    ]
    .map(|p| quantile_sorted(&sorted, p));
    let tails = (!sorted.is_empty()).then(|| tail_quantiles(&sorted));
    // Every use of the sorted draws is above: the rank diagnostics below hold several copies
    // of the draws at once, and the sorted ones need not be among them.
    drop(sorted);
    let (ess_bulk, ess_tail, ess_mean, r_hat) = match &ranked {
        None => (f64::NAN, f64::NAN, f64::NAN, f64::NAN),
        Some(ranked) => {
            let (r_hat, ess_bulk) = ranked.rhat_and_ess_bulk(chains.len());
            let ess_tail = tails.map_or(f64::NAN, |t| ranked.ess_tail_at(t));
            (ess_bulk, ess_tail, ess_of(&ranked.split), r_hat)
        }
    };
    Summary {
        mean,
        sd,
        q2_5: quantiles[0],
        median: quantiles[1],
        q97_5: quantiles[2],
        mcse_mean: sd / ess_mean.sqrt(),
        hdi_low: hdi.0,
        hdi_high: hdi.1,
        p_positive,
        ess_bulk,
        ess_tail,
        r_hat,
    }
}

#[cfg(test)]
mod tests {
    use super::super::hdi;
    use super::*;

    #[test]
    fn summary_carries_the_hdi_and_the_probability_above_zero() {
        let a: Vec<f64> = (0..400)
            .map(|i| ((i * 37) % 400) as f64 / 100.0 - 1.0)
            .collect();
        let b: Vec<f64> = (0..400)
            .map(|i| ((i * 53) % 400) as f64 / 100.0 - 1.5)
            .collect();
        let s = summarize(&[&a, &b]);
        let pooled: Vec<f64> = a.iter().chain(&b).copied().collect();
        assert_eq!((s.hdi_low, s.hdi_high), hdi(&pooled, HDI_PROB));
        let above = pooled.iter().filter(|&&x| x > 0.0).count() as f64 / pooled.len() as f64;
        assert_eq!(s.p_positive, above);
        let with_nan = [f64::NAN, 1.0, 2.0, 3.0];
        let s = summarize(&[&with_nan, &with_nan]);
        assert!(s.p_positive.is_nan() && s.hdi_low.is_nan());
    }
}

//! Effective sample sizes (bulk, tail, and of the mean) and the Monte Carlo standard
//! error of the mean.

use super::autocov::MeanAutocov;
use super::quantile::mquantile_sorted;
use super::rank::Ranked;
use super::scratch;
use super::split::{mean_sd, mean_variance, Split};

/// Tail-ESS is the smaller ESS of the indicators I(x <= q) at these quantiles
/// (Vehtari et al. 2021, section 4.3).
const TAIL_QUANTILES: (f64, f64) = (0.05, 0.95);

/// ArviZ's `_ess` treats a chain set whose range is below numpy's
/// `finfo(float).resolution` as constant and returns its draw count. Exactly constant
/// quantities are NaN before this point, so it is reached by tail-quantile indicators
/// that are all 0 or all 1, and by draws spread over less than 1e-15.
const CONSTANT_RANGE: f64 = 1e-15;

/// Bulk ESS: ESS of the rank-normalised split chains.
pub fn ess_bulk(chains: &[&[f64]]) -> f64 {
    Ranked::new(chains).map_or(f64::NAN, |r| ess_of(&r.z_bulk()))
}

/// Tail ESS: the smaller ESS of the split-chain indicators I(x <= q05) and
/// I(x <= q95), with the quantiles taken over all draws pooled.
pub fn ess_tail(chains: &[&[f64]]) -> f64 {
    Ranked::new(chains).map_or(f64::NAN, |r| r.ess_tail(&r.pooled_sorted(chains)))
}

/// ESS of the mean: ESS of the raw split chains (the "old" split-ESS).
pub fn ess_mean(chains: &[&[f64]]) -> f64 {
    Split::new(chains).map_or(f64::NAN, |split| ess_of(&split))
}

/// Monte Carlo standard error of the mean, `sd / sqrt(ess_mean)` (as `az.mcse(method="mean")`).
pub fn mcse_mean(chains: &[&[f64]]) -> f64 {
    let pooled: Vec<f64> = chains.iter().flat_map(|c| c.iter().copied()).collect();
    mean_sd(&pooled).1 / ess_mean(chains).sqrt()
}

/// The pooled sorted draws' TAIL_QUANTILES, as the tail ESS takes them.
pub(super) fn tail_quantiles(pooled_sorted: &[f64]) -> (f64, f64) {
    (
        mquantile_sorted(pooled_sorted, TAIL_QUANTILES.0),
        mquantile_sorted(pooled_sorted, TAIL_QUANTILES.1),
    )
}

impl Ranked {
    /// Tail ESS given the pooled sorted (unsplit) draws.
    pub(super) fn ess_tail(&self, pooled_sorted: &[f64]) -> f64 {
        self.ess_tail_at(tail_quantiles(pooled_sorted))
    }

    /// Tail ESS given the pooled draws' TAIL_QUANTILES (`tail_quantiles`), so that the
    /// sorted draws need not be held meanwhile.
    pub(super) fn ess_tail_at(&self, (q_low, q_high): (f64, f64)) -> f64 {
        let split = &self.split;
        let indicator_ess = |q: f64| {
            let indicator = split.data.iter().map(|&x| if x <= q { 1.0 } else { 0.0 });
            ess_of(&split.map_all(indicator.collect()))
        };
        let low = indicator_ess(q_low);
        let high = indicator_ess(q_high);
        if low.is_nan() || high.is_nan() {
            f64::NAN
        } else {
            low.min(high)
        }
    }
}

/// Multi-chain ESS of (split) chains, Stan's / ArviZ's `_ess`: autocorrelations combine
/// the within-chain autocovariances with the between-chain variance; Geyer's initial
/// positive sequence truncates the sum of pairs at the first negative pair sum, the
/// initial monotone sequence smooths it, and tau is floored at 1/log10(S) so that
/// ESS <= S log10(S) for antithetic chains.
pub(super) fn ess_of(split: &Split) -> f64 {
    let m = split.n_chains;
    let n = split.n_draws;
    let total = (m * n) as f64;
    let (lo, hi) = split
        .data
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        });
    if hi - lo < CONSTANT_RANGE {
        // ArviZ: a (numerically) constant set of chains has ESS equal to its size.
        return total;
    }
    let nf = n as f64;
    let mut chain_means = Vec::with_capacity(m);
    let mut centered = scratch::take(m * n);
    for c in 0..m {
        let chain = split.chain(c);
        let mean = chain.iter().sum::<f64>() / nf;
        chain_means.push(mean);
        centered.extend(chain.iter().map(|x| x - mean));
    }
    let mut acov = MeanAutocov::new(centered, m, n);

    let mean_var = acov.get(0) * nf / (nf - 1.0);
    let mut var_plus = mean_var * (nf - 1.0) / nf;
    if m > 1 {
        var_plus += mean_variance(&chain_means).1;
    }
    let mut rho = scratch::take(n);
    rho.resize(n, 0.0);
    let mut rho_even = 1.0;
    rho[0] = rho_even;
    let mut rho_odd = 1.0 - (mean_var - acov.get(1)) / var_plus;
    rho[1] = rho_odd;

    // Geyer's initial positive sequence: pairs (t+1, t+2) until a pair sum is negative.
    let mut t = 1;
    while t + 3 < n && rho_even + rho_odd > 0.0 {
        rho_even = 1.0 - (mean_var - acov.get(t + 1)) / var_plus;
        rho_odd = 1.0 - (mean_var - acov.get(t + 2)) / var_plus;
        if rho_even + rho_odd >= 0.0 {
            rho[t + 1] = rho_even;
            rho[t + 2] = rho_odd;
        }
        t += 2;
    }
    // max_t = t - 2 may be -1 (no pair accepted); index max_t + 1 = t - 1 >= 0.
    let max_t_plus_1 = t - 1;
    if rho_even > 0.0 {
        // Stan's refinement: keep the last positive even autocorrelation.
        rho[max_t_plus_1] = rho_even;
    }
    // Geyer's initial monotone sequence: no pair sum may exceed the previous one.
    let mut t = 1;
    while t + 3 <= max_t_plus_1 {
        let prev = rho[t - 1] + rho[t];
        if rho[t + 1] + rho[t + 2] > prev {
            rho[t + 1] = prev / 2.0;
            rho[t + 2] = rho[t + 1];
        }
        t += 2;
    }
    if rho.iter().any(|r| r.is_nan()) {
        return f64::NAN;
    }
    let tau = -1.0 + 2.0 * rho[..max_t_plus_1].iter().sum::<f64>() + rho[max_t_plus_1];
    scratch::give(rho);
    let tau = tau.max(1.0 / total.log10());
    total / tau
}

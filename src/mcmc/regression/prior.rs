//! The regression's priors, each a named constant with its reason; `PRIOR_TEXT` is the line
//! the footers and docs carry.

use crate::math::softplus;

/// Degrees of freedom of the Student-t priors on the coefficients: Gelman et al. (2008)
/// propose t1 (Cauchy); t7 keeps heavy tails, so strong effects are barely shrunk, with
/// tails that slice sampling explores easily where the data say little.
pub const COEF_DF: f64 = 7.0;
/// Scale of a non-intercept coefficient's t prior on the logit: Gelman et al.'s 2.5, a
/// change of 5 on the logit (0.5 to 0.993) being unlikely for a one-unit change of a column.
pub const COEF_SCALE: f64 = 2.5;
/// Scale of the intercept's t prior: Gelman et al.'s 10, so it says nothing about the level.
pub const INTERCEPT_SCALE: f64 = 10.0;
/// The name R gives the intercept column, which gets `INTERCEPT_SCALE`.
pub const INTERCEPT_NAME: &str = "(Intercept)";

/// The priors in one line, for footers and the printed report.
pub const PRIOR_TEXT: &str = "coef[(Intercept)] ~ Student-t(7, 0, 10); every other coef ~ \
    Student-t(7, 0, 2.5); p(kappa) = (1/2)(1 + kappa)^(-3/2), i.e. 1/sqrt(1 + kappa) ~ Uniform(0, 1)";

/// Each coefficient's prior scale, by its name.
pub(super) fn coef_scales(names: &[String]) -> Vec<f64> {
    names
        .iter()
        .map(|n| {
            if n == INTERCEPT_NAME {
                INTERCEPT_SCALE
            } else {
                COEF_SCALE
            }
        })
        .collect()
}

/// Log density, up to a constant, of one coefficient under its t prior.
#[inline]
pub(super) fn log_prior_coef(value: f64, scale: f64) -> f64 {
    -0.5 * (COEF_DF + 1.0) * (1.0 + (value / scale).powi(2) / COEF_DF).ln()
}

/// Log density of eta = log kappa when p(kappa) = (1/2)(1 + kappa)^(-3/2): BDA3's
/// kappa^(-3/2) tail (the one-level `bda3` prior in (mu, kappa)) where the data approach the
/// binomial limit, but proper and finite at kappa -> 0, where kappa^(-3/2) is not integrable
/// and the posterior would be improper with few rows strictly between 0 and n. It is uniform
/// on 1/sqrt(1 + kappa), the sd of theta relative to sqrt(mu (1 - mu)).
#[inline]
pub(super) fn log_prior_log_kappa(eta: f64) -> f64 {
    (0.5f64).ln() + eta - 1.5 * softplus(eta)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kappa prior integrates to 1 over eta (trapezoid rule on a wide grid).
    #[test]
    fn kappa_prior_is_proper_and_normalised() {
        let (lo, hi, steps) = (-40.0, 200.0, 240_000);
        let h = (hi - lo) / f64::from(steps);
        let total: f64 = (0..=steps)
            .map(|k| {
                let w = if k == 0 || k == steps { 0.5 } else { 1.0 };
                w * log_prior_log_kappa(lo + h * f64::from(k)).exp()
            })
            .sum::<f64>()
            * h;
        assert!((total - 1.0).abs() < 1e-6, "{total}");
    }
}

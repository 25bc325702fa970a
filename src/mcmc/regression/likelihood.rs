//! The collapsed likelihood: each row's beta-binomial with the theta integrated out, at its
//! linear predictor (logit mu) and the shared log concentration.

use crate::kernels::cpu::betabinom::beta_binomial_log_ratio_f64;
use crate::math::sigmoid;
use crate::mcmc::prior::shapes_in_range;

/// The Beta shapes (mu kappa, (1 - mu) kappa) at linear predictor `lin` and kappa;
/// 1 - mu taken as sigmoid(-lin) so that it keeps its digits when mu is near 1.
#[inline]
pub(super) fn shapes(lin: f64, kappa: f64) -> (f64, f64) {
    (sigmoid(lin) * kappa, sigmoid(-lin) * kappa)
}

/// ln p(y | n, mu, kappa) without the binomial coefficient; minus infinity where a shape
/// leaves the range the rest of the program trusts (`SHAPE_RANGE`).
#[inline]
pub(super) fn row_log_lik(y: u32, n: u32, lin: f64, kappa: f64) -> f64 {
    let (a, b) = shapes(lin, kappa);
    if !shapes_in_range(a, b) {
        return f64::NEG_INFINITY;
    }
    beta_binomial_log_ratio_f64(f64::from(y), f64::from(n), a, b)
}

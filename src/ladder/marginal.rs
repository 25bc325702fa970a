//! The beta-binomial marginal likelihood of (alpha, beta) and the posterior of
//! z = (logit mean, ln concentration) with the thetas integrated out, with analytic
//! gradients and Hessians; the z the searches start from.

use crate::math::sigmoid;
use crate::mcmc::prior::{shapes_in_range, HyperPrior};

use super::special::{ln_rising, psi_rising};

/// Start of the ML search in concentration when the moments give none (a moderate prior sample size).
pub const ML_START_CONCENTRATION: f64 = 10.0;

/// The data as distinct (y, n) pairs with their counts: units sharing a pair share every
/// term of the likelihood (the 71 rat experiments hold 40 pairs; large k with small n, far fewer).
#[derive(Debug, Clone)]
pub(super) struct Counts {
    pairs: Vec<(u32, u32, f64)>,
}

impl Counts {
    pub(super) fn new(y: &[u32], n: &[u32]) -> Counts {
        let mut sorted: Vec<(u32, u32)> = y.iter().copied().zip(n.iter().copied()).collect();
        sorted.sort_unstable();
        let mut pairs: Vec<(u32, u32, f64)> = Vec::new();
        for (a, b) in sorted {
            match pairs.last_mut() {
                Some(last) if (last.0, last.1) == (a, b) => last.2 += 1.0,
                _ => pairs.push((a, b, 1.0)),
            }
        }
        Counts { pairs }
    }

    pub(super) fn log_likelihood(&self, alpha: f64, beta: f64) -> f64 {
        self.pairs
            .iter()
            .map(|&(yi, ni, c)| {
                c * (ln_rising(alpha, yi) + ln_rising(beta, ni - yi) - ln_rising(alpha + beta, ni))
            })
            .sum()
    }

    pub(super) fn log_likelihood_derivatives(
        &self,
        alpha: f64,
        beta: f64,
    ) -> (f64, [f64; 2], [[f64; 2]; 2]) {
        let (mut value, mut g, mut h) = (0.0, [0.0; 2], [[0.0; 2]; 2]);
        for &(yi, ni, c) in &self.pairs {
            value +=
                c * (ln_rising(alpha, yi) + ln_rising(beta, ni - yi) - ln_rising(alpha + beta, ni));
            let (da, d2a) = psi_rising(alpha, yi);
            let (db, d2b) = psi_rising(beta, ni - yi);
            let (ds, d2s) = psi_rising(alpha + beta, ni);
            g[0] += c * (da - ds);
            g[1] += c * (db - ds);
            h[0][0] += c * (d2s - d2a);
            h[1][1] += c * (d2s - d2b);
            h[0][1] += c * d2s;
        }
        h[1][0] = h[0][1];
        (value, g, h)
    }

    pub(super) fn log_posterior(&self, prior: &HyperPrior, z: [f64; 2]) -> f64 {
        let (alpha, beta) = prior.alpha_beta(z);
        if !shapes_in_range(alpha, beta) {
            return f64::NEG_INFINITY;
        }
        prior.log_density(z) + self.log_likelihood(alpha, beta)
    }

    pub(super) fn log_posterior_derivatives(
        &self,
        prior: &HyperPrior,
        z: [f64; 2],
    ) -> (f64, [f64; 2], [[f64; 2]; 2]) {
        let (alpha, beta) = prior.alpha_beta(z);
        if !shapes_in_range(alpha, beta) {
            return (f64::NEG_INFINITY, [f64::NAN; 2], [[f64::NAN; 2]; 2]);
        }
        let (lv, lg, lh) = self.log_likelihood_derivatives(alpha, beta);
        let (g, h) = chain_to_z(z, lg, lh);
        let (pv, pg, ph) = prior_derivatives(prior, z);
        (
            lv + pv,
            [g[0] + pg[0], g[1] + pg[1]],
            [
                [h[0][0] + ph[0][0], h[0][1] + ph[0][1]],
                [h[1][0] + ph[1][0], h[1][1] + ph[1][1]],
            ],
        )
    }
}

/// Σ_i [ln B(alpha + y_i, beta + n_i - y_i) - ln B(alpha, beta)]: the beta-binomial log likelihood without the binomial coefficients.
pub fn log_marginal_likelihood(y: &[u32], n: &[u32], alpha: f64, beta: f64) -> f64 {
    Counts::new(y, n).log_likelihood(alpha, beta)
}

/// The marginal log likelihood with its gradient and Hessian in (alpha, beta).
pub fn log_marginal_likelihood_derivatives(
    y: &[u32],
    n: &[u32],
    alpha: f64,
    beta: f64,
) -> (f64, [f64; 2], [[f64; 2]; 2]) {
    Counts::new(y, n).log_likelihood_derivatives(alpha, beta)
}

/// Carries (value, gradient, Hessian) in (alpha, beta) to z = (logit p, ln s) for the maps
/// alpha = p s + c, beta = (1 - p) s + c (every prior's map has this form; c is a constant).
pub(super) fn chain_to_z(
    z: [f64; 2],
    g_ab: [f64; 2],
    h_ab: [[f64; 2]; 2],
) -> ([f64; 2], [[f64; 2]; 2]) {
    let p = sigmoid(z[0]);
    let q = 1.0 - p;
    let s = z[1].exp();
    let spq = s * p * q;
    // j[c][l] = d(alpha, beta)[c] / dz_l.
    let j = [[spq, p * s], [-spq, q * s]];
    // Second derivatives of alpha; those of beta are their negatives in the z0 terms.
    let d2_alpha = [[spq * (1.0 - 2.0 * p), spq], [spq, p * s]];
    let d2_beta = [[-spq * (1.0 - 2.0 * p), -spq], [-spq, q * s]];
    let mut g = [0.0; 2];
    let mut h = [[0.0; 2]; 2];
    for l in 0..2 {
        g[l] = g_ab[0] * j[0][l] + g_ab[1] * j[1][l];
        for m in 0..2 {
            let mut v = g_ab[0] * d2_alpha[l][m] + g_ab[1] * d2_beta[l][m];
            for c in 0..2 {
                for d in 0..2 {
                    v += j[c][l] * h_ab[c][d] * j[d][m];
                }
            }
            h[l][m] = v;
        }
    }
    (g, h)
}

/// The hyperprior's log density in z (Jacobian included) with its gradient and Hessian.
pub fn prior_derivatives(prior: &HyperPrior, z: [f64; 2]) -> (f64, [f64; 2], [[f64; 2]; 2]) {
    let p = sigmoid(z[0]);
    let q = 1.0 - p;
    let value = prior.log_density(z);
    match *prior {
        // ln p + ln q - z1/2.
        HyperPrior::Bda3 => (value, [q - p, -0.5], [[-2.0 * p * q, 0.0], [0.0, 0.0]]),
        // a ln p + b ln q + shape z1 - rate e^z1.
        HyperPrior::Kruschke { a, b, shape, rate }
        | HyperPrior::MeanConcentration { a, b, shape, rate } => {
            let e = rate * z[1].exp();
            (
                value,
                [a * q - b * p, shape - e],
                [[-(a + b) * p * q, 0.0], [0.0, -e]],
            )
        }
    }
}

/// log p(z | y) up to a constant (thetas integrated out), -inf outside the shape range.
pub fn log_posterior_z(y: &[u32], n: &[u32], prior: &HyperPrior, z: [f64; 2]) -> f64 {
    Counts::new(y, n).log_posterior(prior, z)
}

/// log p(z | y) with its analytic gradient and Hessian in z.
pub fn log_posterior_z_derivatives(
    y: &[u32],
    n: &[u32],
    prior: &HyperPrior,
    z: [f64; 2],
) -> (f64, [f64; 2], [[f64; 2]; 2]) {
    Counts::new(y, n).log_posterior_derivatives(prior, z)
}

pub(super) fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

//! Full Bayes on the hyperparameters: a Laplace fit of p(z | y), then
//! sampling-importance-resampling of z from a multivariate t around it.

use rayon::prelude::*;

use crate::mcmc::prior::HyperPrior;
use crate::rng::host_variates::{gamma as gamma_variate, normal};
use crate::rng::{Stream, UniformStream};

use super::data::{totals, validate};
use super::estimator::{Estimator, SWEEP_PROPOSAL, SWEEP_RESAMPLE};
use super::marginal::{logit, Counts, ML_START_CONCENTRATION};
use super::newton::newton_maximise;

/// Degrees of freedom of the SIR's multivariate-t proposal (Albert's `df = 4`): heavy tails keep the weights bounded.
pub const T_DF: f64 = 4.0;
/// The t proposal's scale matrix is this times the Laplace covariance (Albert's `var = 2 * fit$var`): a wider proposal than the normal approximation, so the posterior's tails are covered.
pub const T_SCALE: f64 = 2.0;
/// Warn when the importance ESS falls below this fraction of the proposals: the t fits poorly.
pub const ESS_WARN_FRACTION: f64 = 0.10;

/// The Laplace approximation of p(z | y): mode, covariance = inverse negative Hessian.
#[derive(Debug, Clone, Copy)]
pub struct LaplaceFit {
    pub mode: [f64; 2],
    pub covariance: [[f64; 2]; 2],
    pub log_posterior: f64,
    pub gradient_norm: f64,
    pub iterations: usize,
    /// Newton met NEWTON_GRAD_TOL.
    pub converged: bool,
}

/// Finds the mode of p(z | y) (thetas integrated out) by Newton with analytic derivatives;
/// Err if no mode is found with a negative definite Hessian.
pub fn laplace_mode(y: &[u32], n: &[u32], prior: &HyperPrior) -> Result<LaplaceFit, String> {
    validate(y, n, 2)?;
    prior.validate()?;
    let (sy, sn) = totals(y, n);
    // Half a success and half a failure keep the start finite when every y is 0 or n.
    let start = [logit((sy + 0.5) / (sn + 1.0)), ML_START_CONCENTRATION.ln()];
    let counts = Counts::new(y, n);
    let fit = newton_maximise(|z| counts.log_posterior_derivatives(prior, z), start)
        .map_err(|e| format!("Laplace: {e}"))?;
    let a = -fit.hessian[0][0];
    let b = -fit.hessian[0][1];
    let d = -fit.hessian[1][1];
    let det = a * d - b * b;
    if !(a > 0.0 && det > 0.0) {
        return Err(format!(
            "Laplace: the Hessian at z = ({:.4}, {:.4}) is not negative definite (after {} Newton steps, |grad| = {:.2e}): no normal approximation",
            fit.z[0],
            fit.z[1],
            fit.iterations,
            fit.gradient_norm()
        ));
    }
    Ok(LaplaceFit {
        mode: fit.z,
        covariance: [[d / det, -b / det], [-b / det, a / det]],
        log_posterior: fit.value,
        gradient_norm: fit.gradient_norm(),
        iterations: fit.iterations,
        converged: fit.converged,
    })
}

/// SIR draws of z.
#[derive(Debug, Clone)]
pub struct SirResult {
    /// Resampled z draws.
    pub z: Vec<[f64; 2]>,
    /// Importance ESS (Σw)² / Σw² of the proposals.
    pub ess: f64,
    pub proposals: usize,
}

/// Sampling-importance-resampling of p(z | y) from a multivariate t (T_DF degrees of
/// freedom, location the Laplace mode, scale T_SCALE x the Laplace covariance).
pub fn sir(
    y: &[u32],
    n: &[u32],
    prior: &HyperPrior,
    fit: &LaplaceFit,
    proposals: usize,
    draws: usize,
    seed: u32,
) -> Result<SirResult, String> {
    if proposals < 2 || draws == 0 {
        return Err(format!(
            "SIR: needs at least 2 proposals and 1 draw (got {proposals} and {draws})"
        ));
    }
    let index = Estimator::LaplaceSir.stream_index();
    // Cholesky factor of the scale matrix V = T_SCALE * covariance.
    let v = fit.covariance;
    let l00 = (T_SCALE * v[0][0]).sqrt();
    let l10 = T_SCALE * v[1][0] / l00;
    let l11 = (T_SCALE * v[1][1] - l10 * l10).sqrt();
    if !(l00 > 0.0 && l11 > 0.0) {
        return Err("SIR: the Laplace covariance is not positive definite".into());
    }
    let mut rng = UniformStream::new(seed, 0, index, 0, SWEEP_PROPOSAL, Stream::Ladder);
    let mut points = Vec::with_capacity(proposals);
    let mut log_t = Vec::with_capacity(proposals);
    for _ in 0..proposals {
        let (w0, w1) = (normal(&mut rng), normal(&mut rng));
        // chi-square(T_DF) / T_DF, a Gamma(T_DF / 2) times 2 / T_DF.
        let s = (2.0 * gamma_variate(0.5 * T_DF, &mut rng) / T_DF).sqrt();
        let u = [w0 / s, w1 / s];
        let z = [
            fit.mode[0] + l00 * u[0],
            fit.mode[1] + l10 * u[0] + l11 * u[1],
        ];
        // log t density up to its constant: the quadratic form in V^-1 is |u|^2.
        log_t.push(-0.5 * (T_DF + 2.0) * (1.0 + (u[0] * u[0] + u[1] * u[1]) / T_DF).ln());
        points.push(z);
    }
    // The posterior at every proposal, in parallel: a pure function, so the order and the
    // result do not depend on the threads.
    let counts = Counts::new(y, n);
    let log_w: Vec<f64> = points
        .par_iter()
        .zip(log_t.par_iter())
        .map(|(&z, &lt)| counts.log_posterior(prior, z) - lt)
        .collect();
    let max = log_w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return Err("SIR: no proposal has a finite posterior density".into());
    }
    let weights: Vec<f64> = log_w.iter().map(|&lw| (lw - max).exp()).collect();
    let total: f64 = weights.iter().sum();
    let sum_sq: f64 = weights.iter().map(|w| w * w).sum();
    let ess = total * total / sum_sq;
    let mut cumulative = Vec::with_capacity(proposals);
    let mut acc = 0.0;
    for w in &weights {
        acc += w;
        cumulative.push(acc);
    }
    let mut rng = UniformStream::new(seed, 0, index, 0, SWEEP_RESAMPLE, Stream::Ladder);
    let z = (0..draws)
        .map(|_| {
            let u = rng.next_f64() * acc;
            let j = cumulative.partition_point(|&c| c < u).min(proposals - 1);
            points[j]
        })
        .collect();
    Ok(SirResult { z, ess, proposals })
}

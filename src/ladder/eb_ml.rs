//! Empirical Bayes by marginal maximum likelihood: Newton on the beta-binomial likelihood,
//! and the test for an unbounded maximum (no overdispersion: complete pooling).

use crate::mcmc::prior::{shapes_in_range, HyperPrior, SHAPE_RANGE};

use super::data::{totals, validate};
use super::eb_moments::eb_moments;
use super::marginal::{chain_to_z, logit, Counts, ML_START_CONCENTRATION};
use super::newton::newton_maximise;

/// Largest alpha + beta the searches visit: the samplers' own shape limit; past it a
/// maximum-likelihood concentration is treated as infinite.
pub const CONCENTRATION_LIMIT: f64 = SHAPE_RANGE.1;
/// A finite ML fit must beat the alpha + beta = inf (complete pooling) limit by more than this (relative to |loglik|) to count as finite.
pub const UNBOUNDED_REL_TOL: f64 = 1e-9;

/// Result of the marginal maximum-likelihood fit of (alpha, beta).
#[derive(Debug, Clone, Copy)]
pub struct MarginalMlFit {
    /// The maximiser; when `unbounded`, the last point of the search (meaningless as an estimate).
    pub alpha: f64,
    pub beta: f64,
    /// Newton met NEWTON_GRAD_TOL.
    pub converged: bool,
    /// The likelihood rises without bound in alpha + beta (no overdispersion beyond binomial
    /// noise): the MLE is the point mass at the pooled rate, i.e. complete pooling.
    pub unbounded: bool,
    pub iterations: usize,
    /// Max-norm of the final gradient in z = (ln(alpha/beta), ln(alpha + beta)).
    pub gradient_norm: f64,
    pub log_likelihood: f64,
}

/// EB by marginal maximum likelihood: Newton in z = (ln(alpha/beta), ln(alpha + beta)),
/// started at the moments estimate when there is one.
pub fn eb_marginal_ml(y: &[u32], n: &[u32]) -> Result<MarginalMlFit, String> {
    validate(y, n, 2)?;
    let (sy, sn) = totals(y, n);
    if sy == 0.0 || sy == sn {
        return Err(format!(
            "EB-ML: every trial was a {}: the likelihood keeps rising as the population mean goes to {}, no maximum",
            if sy == 0.0 { "failure" } else { "success" },
            if sy == 0.0 { 0 } else { 1 }
        ));
    }
    let pooled = sy / sn;
    let start = match eb_moments(y, n) {
        Ok([a, b]) => [(a / b).ln(), (a + b).ln()],
        Err(_) => [logit(pooled), ML_START_CONCENTRATION.ln()],
    };
    // The map of MeanConcentration: alpha = p s, beta = (1 - p) s.
    let map = HyperPrior::MeanConcentration {
        a: 1.0,
        b: 1.0,
        shape: 1.0,
        rate: 1.0,
    };
    let counts = Counts::new(y, n);
    let objective = |z: [f64; 2]| {
        let (alpha, beta) = map.alpha_beta(z);
        if !shapes_in_range(alpha, beta) || alpha + beta > CONCENTRATION_LIMIT {
            return (f64::NEG_INFINITY, [f64::NAN; 2], [[f64::NAN; 2]; 2]);
        }
        let (v, g, h) = counts.log_likelihood_derivatives(alpha, beta);
        let (g, h) = chain_to_z(z, g, h);
        (v, g, h)
    };
    let fit = newton_maximise(objective, start).map_err(|e| format!("EB-ML: {e}"))?;
    let (alpha, beta) = map.alpha_beta(fit.z);
    // At alpha + beta = inf the likelihood is the binomial one at the pooled rate: a finite
    // maximum must beat it.
    let pooled_limit: f64 = y
        .iter()
        .zip(n)
        .map(|(&a, &b)| f64::from(a) * pooled.ln() + f64::from(b - a) * (-pooled).ln_1p())
        .sum();
    let near_limit = fit.z[1] > CONCENTRATION_LIMIT.ln() - 1.0;
    let unbounded =
        near_limit || fit.value <= pooled_limit + UNBOUNDED_REL_TOL * (1.0 + pooled_limit.abs());
    Ok(MarginalMlFit {
        alpha,
        beta,
        converged: fit.converged && !unbounded,
        unbounded,
        iterations: fit.iterations,
        gradient_norm: fit.gradient_norm(),
        log_likelihood: fit.value,
    })
}

//! Runs one rung: its checks, its fit, its theta draws, and the notes the user must hear.

use crate::mcmc::prior::SHAPE_RANGE;

use super::data::validate;
use super::eb_ml::eb_marginal_ml;
use super::eb_moments::eb_moments;
use super::estimator::{Estimate, Estimator, LadderConfig};
use super::laplace_sir::{laplace_mode, sir, ESS_WARN_FRACTION, T_DF};
use super::thetas::{conjugate_thetas, pooled_thetas};

/// Unconverged searches that end within this factor of a shape limit (SHAPE_RANGE) are
/// reported as boundary pile-ups: the objective keeps rising toward the limit.
pub const BOUNDARY_FACTOR: f64 = 10.0;

/// A note when an unconverged search ended within BOUNDARY_FACTOR of a shape limit, else None.
fn boundary_note(who: &str, alpha: f64, beta: f64, converged: bool) -> Option<String> {
    if converged {
        return None;
    }
    let low = alpha.min(beta) < BOUNDARY_FACTOR * SHAPE_RANGE.0;
    let high = alpha.max(beta) > SHAPE_RANGE.1 / BOUNDARY_FACTOR;
    (low || high).then(|| {
        format!(
            "{who}: the search ended at alpha = {alpha:.3e}, beta = {beta:.3e}, at the shape limits [{:e}, {:e}]: the objective keeps rising toward {}, so the answer is set by the limit, not the data{}",
            SHAPE_RANGE.0,
            SHAPE_RANGE.1,
            if low { "alpha, beta -> 0 (rates only at 0 and 1?)" } else { "alpha + beta -> inf" },
            if who == "Laplace" { " (the posterior may be improper under this prior)" } else { "" }
        )
    })
}

/// Runs one estimator: theta draws for every unit, plus its hyperparameters and notes.
pub fn estimate(
    estimator: Estimator,
    y: &[u32],
    n: &[u32],
    config: &LadderConfig,
) -> Result<Estimate, String> {
    let name = estimator.name();
    if config.draws == 0 {
        return Err(format!("{name}: draws must be at least 1"));
    }
    validate(y, n, estimator.min_units()).map_err(|e| format!("{name}: {e}"))?;
    let (draws, seed) = (config.draws, config.seed);
    let mut notes = Vec::new();
    let mut importance_ess = None;
    let (theta, alpha_beta) = match estimator {
        Estimator::CompletePooling => (pooled_thetas(y, n, draws, seed, estimator), vec![]),
        Estimator::NoPooling => {
            // Beta(1, 1) priors: the conjugate draws with alpha = beta = 1.
            let flat = vec![[1.0, 1.0]; draws];
            (conjugate_thetas(y, n, &flat, seed, estimator), vec![])
        }
        Estimator::EbMoments => {
            let ab = eb_moments(y, n)?;
            let point = vec![ab; draws];
            (conjugate_thetas(y, n, &point, seed, estimator), vec![ab])
        }
        Estimator::EbMarginalMl => {
            let fit = eb_marginal_ml(y, n)?;
            if fit.unbounded {
                notes.push(
                    "EB-ML: the marginal likelihood rises without bound in alpha + beta (the rates vary no more than binomial noise): the ML population is a point mass at the pooled rate, so these are complete-pooling draws"
                        .to_string(),
                );
                (pooled_thetas(y, n, draws, seed, estimator), vec![])
            } else {
                if !fit.converged {
                    notes.push(format!(
                        "EB-ML: the Newton search did not converge after {} steps (|grad| = {:.2e}); alpha = {:.4e}, beta = {:.4e} are its last point",
                        fit.iterations, fit.gradient_norm, fit.alpha, fit.beta
                    ));
                }
                notes.extend(boundary_note("EB-ML", fit.alpha, fit.beta, fit.converged));
                let ab = [fit.alpha, fit.beta];
                let point = vec![ab; draws];
                (conjugate_thetas(y, n, &point, seed, estimator), vec![ab])
            }
        }
        Estimator::LaplaceSir => {
            if config.sir_proposals < 2 {
                return Err(format!("{name}: sir_proposals must be at least 2"));
            }
            let fit = laplace_mode(y, n, &config.prior)?;
            if !fit.converged {
                notes.push(format!(
                    "Laplace: the mode search did not converge after {} Newton steps (|grad| = {:.2e}); SIR corrects the proposal, but check the ESS",
                    fit.iterations, fit.gradient_norm
                ));
            }
            let (alpha, beta) = config.prior.alpha_beta(fit.mode);
            notes.extend(boundary_note("Laplace", alpha, beta, fit.converged));
            let sir = sir(y, n, &config.prior, &fit, config.sir_proposals, draws, seed)?;
            let fraction = sir.ess / sir.proposals as f64;
            if fraction < ESS_WARN_FRACTION {
                notes.push(format!(
                    "SIR: importance ESS {:.0} of {} proposals ({:.1}%): the t{} proposal fits poorly",
                    sir.ess,
                    sir.proposals,
                    100.0 * fraction,
                    T_DF
                ));
            }
            if sir.ess < draws as f64 {
                notes.push(format!(
                    "SIR: importance ESS {:.0} is below the {draws} draws resampled: draws repeat proposals, so their effective number is nearer {:.0}",
                    sir.ess, sir.ess
                ));
            }
            importance_ess = Some((sir.ess, sir.proposals));
            let alpha_beta: Vec<[f64; 2]> = sir
                .z
                .iter()
                .map(|&z| {
                    let (a, b) = config.prior.alpha_beta(z);
                    [a, b]
                })
                .collect();
            (
                conjugate_thetas(y, n, &alpha_beta, seed, estimator),
                alpha_beta,
            )
        }
    };
    Ok(Estimate {
        estimator,
        theta,
        alpha_beta,
        notes,
        importance_ess,
    })
}

//! The estimation ladder for one-level data y_i ~ Binomial(n_i, theta_i), i = 1..k:
//! complete pooling, no pooling, empirical Bayes (method of moments and marginal
//! maximum likelihood), and Laplace + SIR on the hyperparameters. Every rung returns
//! theta draws of the same shape, so they compare alike.
//!
//! Why Laplace + SIR works on the 2-D marginal p(z | y), not on the joint
//! (logit theta_1..k, z): the joint density in those coordinates has no mode. Along
//! theta_i -> mu, alpha + beta -> inf, each unit's Beta density in logit theta peaks at
//! height ~ sqrt(alpha + beta), so the joint grows like (alpha + beta)^((k-1)/2): on the
//! rat-tumour data its profile over theta rises by ~35 nats per unit of ln(alpha + beta)
//! with no turning point, and Newton walks off to infinity. The thetas integrate out in
//! closed form (the beta-binomial), which is what Albert (Bayesian Computation with R,
//! ch. 5, `betabinexch` + `laplace` + `sir`) does: a Laplace fit and t-proposal SIR
//! for z, then theta_i | z, y ~ Beta(alpha + y_i, beta + n_i - y_i) exactly.
//!
//! One file per rung: complete and no pooling are draws of `thetas` (one pooled theta;
//! conjugate draws under Beta(1, 1)), then `eb_moments`, `eb_ml` and `laplace_sir`. They
//! share the `estimator` types, the `data` checks, the `special` functions, the `marginal`
//! likelihood and posterior of z, and the `newton` search; `estimate` runs one rung.

mod data;
mod eb_ml;
mod eb_moments;
mod estimate;
mod estimator;
mod laplace_sir;
mod marginal;
mod newton;
mod special;
mod thetas;

pub use data::validate;
pub use eb_ml::{eb_marginal_ml, MarginalMlFit, CONCENTRATION_LIMIT, UNBOUNDED_REL_TOL};
pub use eb_moments::eb_moments;
pub use estimate::{estimate, BOUNDARY_FACTOR};
pub use estimator::{Estimate, Estimator, LadderConfig, DEFAULT_DRAWS, DEFAULT_SIR_PROPOSALS};
pub use laplace_sir::{laplace_mode, sir, LaplaceFit, SirResult, ESS_WARN_FRACTION, T_DF, T_SCALE};
pub use marginal::{
    log_marginal_likelihood, log_marginal_likelihood_derivatives, log_posterior_z,
    log_posterior_z_derivatives, prior_derivatives, ML_START_CONCENTRATION,
};
pub use newton::{
    newton_maximise, NewtonFit, ARMIJO_C, EIGEN_FLOOR, MAX_HALVINGS, MAX_NEWTON_STEP,
    NEWTON_GRAD_TOL, NEWTON_MAX_ITER, ROUNDING_GAIN_ULPS,
};
pub use special::{digamma, ln_rising, trigamma};

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

use crate::math::{ln_gamma, sigmoid};
use crate::mcmc::prior::{shapes_in_range, HyperPrior, SHAPE_RANGE};
use crate::rng::host_variates::{beta as beta_variate, gamma as gamma_variate, normal};
use crate::rng::{Stream, UniformStream};
use rayon::prelude::*;

/// Proposals the SIR draws when the caller has no preference (Albert's examples use 10,000; twice that steadies the ESS).
pub const DEFAULT_SIR_PROPOSALS: usize = 20_000;
/// Draws per theta when the caller has no preference: MCSE ~ 1.6% of a posterior sd.
pub const DEFAULT_DRAWS: usize = 4_000;

/// Newton stops when every gradient component (log density per unit of z) is below this:
/// with curvatures of order 1 or more, the optimum is then within ~1e-6 in z, far inside
/// any statistical or Monte Carlo error.
pub const NEWTON_GRAD_TOL: f64 = 1e-6;
/// Newton steps before giving up (and saying so); a good start needs fewer than 10,
/// a concentration running off to its limit about 20.
pub const NEWTON_MAX_ITER: usize = 100;
/// Largest move in z per Newton step (a 20-fold change in the concentration): keeps exp() finite and the line search short.
pub const MAX_NEWTON_STEP: f64 = 3.0;
/// Armijo constant of the backtracking line search: accept any step that gains a small fraction of the predicted rise.
pub const ARMIJO_C: f64 = 1e-4;
/// Step halvings before the line search gives up (2^-60 of a step is below rounding).
pub const MAX_HALVINGS: usize = 60;
/// Newton also stops at a maximum when its step's predicted rise, ½ g·d, is below this many
/// units of rounding (eps |f|) in the objective: the optimum is then located as well as f64
/// allows (with millions of trials the log likelihood is ~1e7, its sums jitter by ~1e-8, and
/// the gradient cannot be driven below ~1e-3 however long Newton runs).
pub const ROUNDING_GAIN_ULPS: f64 = 4.0;
/// Smallest eigenvalue, relative to the largest, accepted in the Newton system: flatter or
/// wrong-signed directions are flipped/floored so every direction ascends (modified Newton).
pub const EIGEN_FLOOR: f64 = 1e-8;
/// Largest alpha + beta the searches visit: the samplers' own shape limit; past it a
/// maximum-likelihood concentration is treated as infinite.
pub const CONCENTRATION_LIMIT: f64 = SHAPE_RANGE.1;
/// Start of the ML search in concentration when the moments give none (a moderate prior sample size).
pub const ML_START_CONCENTRATION: f64 = 10.0;
/// A finite ML fit must beat the alpha + beta = inf (complete pooling) limit by more than this (relative to |loglik|) to count as finite.
pub const UNBOUNDED_REL_TOL: f64 = 1e-9;
/// Degrees of freedom of the SIR's multivariate-t proposal (Albert's `df = 4`): heavy tails keep the weights bounded.
pub const T_DF: f64 = 4.0;
/// The t proposal's scale matrix is this times the Laplace covariance (Albert's `var = 2 * fit$var`): a wider proposal than the normal approximation, so the posterior's tails are covered.
pub const T_SCALE: f64 = 2.0;
/// Unconverged searches that end within this factor of a shape limit (SHAPE_RANGE) are
/// reported as boundary pile-ups: the objective keeps rising toward the limit.
pub const BOUNDARY_FACTOR: f64 = 10.0;
/// Warn when the importance ESS falls below this fraction of the proposals: the t fits poorly.
pub const ESS_WARN_FRACTION: f64 = 0.10;

/// Products of up to this many factors replace ln Γ differences: exact to rounding and faster.
const RISING_PRODUCT_MAX: u32 = 16;
/// From this argument on, ln Γ(a + m) - ln Γ(a) uses a Stirling difference, which avoids
/// the cancellation of two ln Γ values of size a ln a.
const STIRLING_DIFF_FROM: f64 = 20.0;
/// Digamma and trigamma recur up to this argument, then use their asymptotic series
/// (truncation error below 1e-12 there).
const PSI_ASYMPTOTIC_FROM: f64 = 10.0;

/// The Philox `sweep` word of each kind of draw, so one estimator's streams never overlap.
const SWEEP_THETA: u32 = 0;
const SWEEP_PROPOSAL: u32 = 1;
const SWEEP_RESAMPLE: u32 = 2;
/// The Philox `unit` word of the one complete-pooling theta (per-unit draws use the unit's index).
const POOLED_UNIT: u32 = 0;

/// The rungs of the ladder, from no borrowing of strength to full Bayes on the hyperparameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Estimator {
    CompletePooling,
    NoPooling,
    EbMoments,
    EbMarginalMl,
    LaplaceSir,
}

impl Estimator {
    pub const ALL: [Estimator; 5] = [
        Estimator::CompletePooling,
        Estimator::NoPooling,
        Estimator::EbMoments,
        Estimator::EbMarginalMl,
        Estimator::LaplaceSir,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Estimator::CompletePooling => "complete-pooling",
            Estimator::NoPooling => "no-pooling",
            Estimator::EbMoments => "eb-moments",
            Estimator::EbMarginalMl => "eb-ml",
            Estimator::LaplaceSir => "laplace-sir",
        }
    }

    /// The estimator with this command-line name.
    pub fn from_name(name: &str) -> Option<Estimator> {
        Estimator::ALL.into_iter().find(|e| e.name() == name.trim())
    }

    /// One line on what the estimator does.
    pub fn describe(self) -> &'static str {
        match self {
            Estimator::CompletePooling => {
                "one theta for all units: Beta(1 + sum y, 1 + sum (n - y)) posterior"
            }
            Estimator::NoPooling => {
                "each unit alone: theta_i ~ Beta(1 + y_i, 1 + n_i - y_i), no borrowing of strength"
            }
            Estimator::EbMoments => {
                "empirical Bayes, Beta prior matched to the mean and variance of the raw rates (BDA3 ch. 5); ignores binomial noise and hyperparameter uncertainty"
            }
            Estimator::EbMarginalMl => {
                "empirical Bayes, Beta prior maximising the beta-binomial marginal likelihood (Newton); ignores hyperparameter uncertainty"
            }
            Estimator::LaplaceSir => {
                "full Bayes: Laplace fit of p(alpha, beta | y), t4 sampling-importance-resampling, then conjugate thetas (Albert ch. 5)"
            }
        }
    }

    /// Fewest units the estimator needs (a population needs at least two members).
    pub fn min_units(self) -> usize {
        match self {
            Estimator::CompletePooling | Estimator::NoPooling => 1,
            _ => 2,
        }
    }

    /// The Philox `index` word of the estimator's streams.
    fn stream_index(self) -> u32 {
        self as u32
    }
}

/// One estimator's answer.
#[derive(Debug, Clone)]
pub struct Estimate {
    pub estimator: Estimator,
    /// theta draws: theta[i][d], k units x n_draws each (for every estimator, so all compare alike).
    pub theta: Vec<Vec<f64>>,
    /// (alpha, beta) of the population Beta: one point for the EB estimators, draws for
    /// laplace-sir, empty for the pooling ones (and for eb-ml when its concentration is infinite).
    pub alpha_beta: Vec<[f64; 2]>,
    /// Things the user must hear (non-convergence, poor importance sampling, fallbacks).
    pub notes: Vec<String>,
    /// Only for laplace-sir: importance-sampling effective sample size and proposals drawn.
    pub importance_ess: Option<(f64, usize)>,
}

/// Settings shared by the estimators.
#[derive(Debug, Clone, Copy)]
pub struct LadderConfig {
    /// Draws per theta.
    pub draws: usize,
    pub seed: u32,
    /// Hyperprior of laplace-sir (the other rungs have none).
    pub prior: HyperPrior,
    /// Proposals of the SIR step.
    pub sir_proposals: usize,
}

impl Default for LadderConfig {
    fn default() -> Self {
        LadderConfig {
            draws: DEFAULT_DRAWS,
            seed: 1,
            prior: HyperPrior::Bda3,
            sir_proposals: DEFAULT_SIR_PROPOSALS,
        }
    }
}

/// Checks the data: equal lengths, at least `min_units` units, n_i >= 1 and y_i <= n_i.
pub fn validate(y: &[u32], n: &[u32], min_units: usize) -> Result<(), String> {
    if y.len() != n.len() {
        return Err(format!(
            "{} success counts but {} trial counts: the lengths must match",
            y.len(),
            n.len()
        ));
    }
    if y.len() < min_units.max(1) {
        return Err(format!(
            "{} units: this estimator needs at least {}",
            y.len(),
            min_units.max(1)
        ));
    }
    for (i, (&yi, &ni)) in y.iter().zip(n).enumerate() {
        if ni == 0 {
            return Err(format!("unit {}: n = 0 trials (need n >= 1)", i + 1));
        }
        if yi > ni {
            return Err(format!(
                "unit {}: y = {yi} successes > n = {ni} trials",
                i + 1
            ));
        }
    }
    Ok(())
}

/// Digamma ψ(x) for x > 0: upward recurrence, then the asymptotic series (abs. error < 1e-13).
pub fn digamma(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    let (mut x, mut acc) = (x, 0.0);
    while x < PSI_ASYMPTOTIC_FROM {
        acc -= 1.0 / x;
        x += 1.0;
    }
    let r = 1.0 / (x * x);
    // ln x - 1/(2x) - Σ B_2j / (2j x^2j), through B_10.
    acc + x.ln()
        - 0.5 / x
        - r * (1.0 / 12.0 - r * (1.0 / 120.0 - r * (1.0 / 252.0 - r * (1.0 / 240.0 - r / 132.0))))
}

/// Trigamma ψ1(x) for x > 0: upward recurrence, then the asymptotic series (rel. error < 1e-13).
pub fn trigamma(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    let (mut x, mut acc) = (x, 0.0);
    while x < PSI_ASYMPTOTIC_FROM {
        acc += 1.0 / (x * x);
        x += 1.0;
    }
    let r = 1.0 / (x * x);
    // 1/x + 1/(2x^2) + Σ B_2j / x^(2j+1), through B_10.
    acc + (1.0
        + 0.5 / x
        + r * (1.0 / 6.0 - r * (1.0 / 30.0 - r * (1.0 / 42.0 - r * (1.0 / 30.0 - r * 5.0 / 66.0)))))
        / x
}

/// ln Γ(a + m) - ln Γ(a) for integer m, accurate also when a is huge.
pub fn ln_rising(a: f64, m: u32) -> f64 {
    if m == 0 {
        return 0.0;
    }
    if m <= RISING_PRODUCT_MAX {
        // At most 16 factors below 1e7 each: no overflow, one logarithm.
        return (0..m).map(|j| a + f64::from(j)).product::<f64>().ln();
    }
    let mf = f64::from(m);
    if a < STIRLING_DIFF_FROM {
        return ln_gamma(a + mf) - ln_gamma(a);
    }
    // Stirling: ln Γ(x) = (x - 1/2) ln x - x + ln√(2π) + 1/(12x) - 1/(360x^3) + 1/(1260x^5) - ...,
    // differenced term by term so nothing of size a ln a cancels.
    let b = a + mf;
    let series = |x: f64| {
        let r = 1.0 / (x * x);
        (1.0 / 12.0 - r * (1.0 / 360.0 - r / 1260.0)) / x
    };
    (a - 0.5) * (mf / a).ln_1p() + mf * b.ln() - mf + series(b) - series(a)
}

/// ψ(a + m) - ψ(a) and ψ1(a) - ψ1(a + m) for integer m.
fn psi_rising(a: f64, m: u32) -> (f64, f64) {
    if m <= RISING_PRODUCT_MAX {
        let mut d1 = 0.0;
        let mut d2 = 0.0;
        for j in 0..m {
            let inv = 1.0 / (a + f64::from(j));
            d1 += inv;
            d2 += inv * inv;
        }
        return (d1, d2);
    }
    let b = a + f64::from(m);
    (digamma(b) - digamma(a), trigamma(a) - trigamma(b))
}

/// The data as distinct (y, n) pairs with their counts: units sharing a pair share every
/// term of the likelihood (the 71 rat experiments hold 40 pairs; large k with small n, far fewer).
#[derive(Debug, Clone)]
struct Counts {
    pairs: Vec<(u32, u32, f64)>,
}

impl Counts {
    fn new(y: &[u32], n: &[u32]) -> Counts {
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

    fn log_likelihood(&self, alpha: f64, beta: f64) -> f64 {
        self.pairs
            .iter()
            .map(|&(yi, ni, c)| {
                c * (ln_rising(alpha, yi) + ln_rising(beta, ni - yi) - ln_rising(alpha + beta, ni))
            })
            .sum()
    }

    fn log_likelihood_derivatives(&self, alpha: f64, beta: f64) -> (f64, [f64; 2], [[f64; 2]; 2]) {
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

    fn log_posterior(&self, prior: &HyperPrior, z: [f64; 2]) -> f64 {
        let (alpha, beta) = prior.alpha_beta(z);
        if !shapes_in_range(alpha, beta) {
            return f64::NEG_INFINITY;
        }
        prior.log_density(z) + self.log_likelihood(alpha, beta)
    }

    fn log_posterior_derivatives(
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
fn chain_to_z(z: [f64; 2], g_ab: [f64; 2], h_ab: [[f64; 2]; 2]) -> ([f64; 2], [[f64; 2]; 2]) {
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

/// Where a 2-D Newton maximisation ended.
#[derive(Debug, Clone, Copy)]
pub struct NewtonFit {
    pub z: [f64; 2],
    pub value: f64,
    pub gradient: [f64; 2],
    pub hessian: [[f64; 2]; 2],
    pub iterations: usize,
    /// Max-norm of the gradient below NEWTON_GRAD_TOL, or a maximum whose remaining rise
    /// is below the objective's rounding (ROUNDING_GAIN_ULPS).
    pub converged: bool,
}

impl NewtonFit {
    /// Max-norm of the final gradient.
    pub fn gradient_norm(&self) -> f64 {
        self.gradient[0].abs().max(self.gradient[1].abs())
    }
}

/// Eigen-decomposition of a symmetric 2x2 matrix: (eigenvalues, unit eigenvectors as columns).
fn sym_eigen(a: [[f64; 2]; 2]) -> ([f64; 2], [[f64; 2]; 2]) {
    let (p, b, d) = (a[0][0], a[0][1], a[1][1]);
    let mid = 0.5 * (p + d);
    let rad = (0.25 * (p - d) * (p - d) + b * b).sqrt();
    let l = [mid + rad, mid - rad];
    if b == 0.0 {
        return if p >= d {
            ([p, d], [[1.0, 0.0], [0.0, 1.0]])
        } else {
            ([d, p], [[0.0, 1.0], [1.0, 0.0]])
        };
    }
    // (b, l - p) is an eigenvector for eigenvalue l; the other is its perpendicular.
    let (vx, vy) = (b, l[0] - p);
    let norm = (vx * vx + vy * vy).sqrt();
    let (vx, vy) = (vx / norm, vy / norm);
    (l, [[vx, -vy], [vy, vx]])
}

/// An ascent direction: the Newton step for -H with its eigenvalues made positive
/// (absolute values, floored), so saddles and convex regions still move uphill.
/// Also says whether -H was positive definite as it stood (a true Newton step).
fn ascent_direction(g: [f64; 2], h: [[f64; 2]; 2]) -> ([f64; 2], bool) {
    let neg = [[-h[0][0], -h[0][1]], [-h[1][0], -h[1][1]]];
    let (l, v) = sym_eigen(neg);
    let floor = EIGEN_FLOOR * l[0].abs().max(l[1].abs()).max(1.0);
    let definite = l[0] >= floor && l[1] >= floor;
    let mut d = [0.0; 2];
    for e in 0..2 {
        let col = [v[0][e], v[1][e]];
        let coef = (col[0] * g[0] + col[1] * g[1]) / l[e].abs().max(floor);
        d[0] += coef * col[0];
        d[1] += coef * col[1];
    }
    (d, definite)
}

/// Maximises f over z in R^2 by modified Newton with backtracking (Armijo) line search;
/// f returns -inf where it is undefined.
pub fn newton_maximise(
    f: impl Fn([f64; 2]) -> (f64, [f64; 2], [[f64; 2]; 2]),
    start: [f64; 2],
) -> Result<NewtonFit, String> {
    let (mut value, mut g, mut h) = f(start);
    if !value.is_finite() {
        return Err(format!(
            "the objective is not finite at the start z = {start:?}"
        ));
    }
    let mut z = start;
    for iterations in 0..NEWTON_MAX_ITER {
        let (mut d, definite) = ascent_direction(g, h);
        // Converged: a flat gradient, or a maximum whose remaining rise is below rounding
        // (where no step can be verified).
        let rounding = ROUNDING_GAIN_ULPS * f64::EPSILON * value.abs().max(1.0);
        if g[0].abs().max(g[1].abs()) < NEWTON_GRAD_TOL
            || (definite && 0.5 * (g[0] * d[0] + g[1] * d[1]) < rounding)
        {
            return Ok(NewtonFit {
                z,
                value,
                gradient: g,
                hessian: h,
                iterations,
                converged: true,
            });
        }
        let longest = d[0].abs().max(d[1].abs());
        if longest > MAX_NEWTON_STEP {
            d = [
                d[0] * MAX_NEWTON_STEP / longest,
                d[1] * MAX_NEWTON_STEP / longest,
            ];
        }
        let slope = g[0] * d[0] + g[1] * d[1];
        // Rounding slack: near the optimum the gain is at the level of rounding in f.
        let slack = rounding;
        let mut t = 1.0;
        let mut accepted = None;
        for _ in 0..MAX_HALVINGS {
            let trial = [z[0] + t * d[0], z[1] + t * d[1]];
            let next = f(trial);
            if next.0 >= value + ARMIJO_C * t * slope - slack {
                accepted = Some((trial, next));
                break;
            }
            t *= 0.5;
        }
        match accepted {
            Some((trial, next)) => {
                z = trial;
                (value, g, h) = next;
            }
            None => {
                return Ok(NewtonFit {
                    z,
                    value,
                    gradient: g,
                    hessian: h,
                    iterations,
                    converged: false,
                })
            }
        }
    }
    Ok(NewtonFit {
        z,
        value,
        gradient: g,
        hessian: h,
        iterations: NEWTON_MAX_ITER,
        converged: g[0].abs().max(g[1].abs()) < NEWTON_GRAD_TOL,
    })
}

/// (Σy, Σn) as f64.
fn totals(y: &[u32], n: &[u32]) -> (f64, f64) {
    (
        y.iter().map(|&v| f64::from(v)).sum(),
        n.iter().map(|&v| f64::from(v)).sum(),
    )
}

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

/// EB by the method of moments on the raw rates (BDA3 ch. 5): (alpha, beta) with the
/// rates' mean and sample variance (k - 1 denominator); Err when no proper Beta matches.
pub fn eb_moments(y: &[u32], n: &[u32]) -> Result<[f64; 2], String> {
    validate(y, n, 2)?;
    let rates: Vec<f64> = y
        .iter()
        .zip(n)
        .map(|(&a, &b)| f64::from(a) / f64::from(b))
        .collect();
    let k = rates.len() as f64;
    let m = rates.iter().sum::<f64>() / k;
    let v = rates.iter().map(|r| (r - m) * (r - m)).sum::<f64>() / (k - 1.0);
    // Equal rates compared exactly (y_i n_0 = y_0 n_i): rounding would leave a tiny v > 0.
    let all_equal = y
        .iter()
        .zip(n)
        .all(|(&a, &b)| u64::from(a) * u64::from(n[0]) == u64::from(y[0]) * u64::from(b));
    if all_equal || v == 0.0 {
        return Err(format!(
            "EB moments: every raw rate y_i/n_i equals {m}: zero variance, so the moments give no proper Beta (no overdispersion to estimate)"
        ));
    }
    let concentration = m * (1.0 - m) / v - 1.0;
    if concentration.is_nan() || concentration <= 0.0 {
        return Err(format!(
            "EB moments: the raw rates' variance {v:.4} reaches m(1 - m) = {:.4} (mean {m:.4}), so alpha + beta = m(1 - m)/v - 1 = {concentration:.4} <= 0: no proper Beta",
            m * (1.0 - m)
        ));
    }
    Ok([m * concentration, (1.0 - m) * concentration])
}

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

/// Draws of theta_i ~ Beta(alpha_d + y_i, beta_d + n_i - y_i), one per (alpha_d, beta_d).
fn conjugate_thetas(
    y: &[u32],
    n: &[u32],
    alpha_beta: &[[f64; 2]],
    seed: u32,
    estimator: Estimator,
) -> Vec<Vec<f64>> {
    y.iter()
        .zip(n)
        .enumerate()
        .map(|(i, (&yi, &ni))| {
            let mut rng = UniformStream::new(
                seed,
                0,
                estimator.stream_index(),
                i as u32,
                SWEEP_THETA,
                Stream::Ladder,
            );
            let (a, b) = (f64::from(yi), f64::from(ni - yi));
            alpha_beta
                .iter()
                .map(|&[al, be]| beta_variate(al + a, be + b, &mut rng))
                .collect()
        })
        .collect()
}

/// Complete-pooling draws: one theta, the same draws for every unit.
fn pooled_thetas(
    y: &[u32],
    n: &[u32],
    draws: usize,
    seed: u32,
    estimator: Estimator,
) -> Vec<Vec<f64>> {
    let (sy, sn) = totals(y, n);
    let mut rng = UniformStream::new(
        seed,
        0,
        estimator.stream_index(),
        POOLED_UNIT,
        SWEEP_THETA,
        Stream::Ladder,
    );
    let theta: Vec<f64> = (0..draws)
        .map(|_| beta_variate(1.0 + sy, 1.0 + sn - sy, &mut rng))
        .collect();
    vec![theta; y.len()]
}

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

//! The rungs of the ladder, their shared settings and answer, and the Philox words that
//! keep each rung's draws on streams of its own.

use crate::mcmc::prior::HyperPrior;

/// Proposals the SIR draws when the caller has no preference (Albert's examples use 10,000; twice that steadies the ESS).
pub const DEFAULT_SIR_PROPOSALS: usize = 20_000;
/// Draws per theta when the caller has no preference: MCSE ~ 1.6% of a posterior sd.
pub const DEFAULT_DRAWS: usize = 4_000;

/// The Philox `sweep` word of each kind of draw, so one estimator's streams never overlap.
pub(super) const SWEEP_THETA: u32 = 0;
pub(super) const SWEEP_PROPOSAL: u32 = 1;
pub(super) const SWEEP_RESAMPLE: u32 = 2;
/// The Philox `unit` word of the one complete-pooling theta (per-unit draws use the unit's index).
pub(super) const POOLED_UNIT: u32 = 0;

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
    pub(crate) fn min_units(self) -> usize {
        match self {
            Estimator::CompletePooling | Estimator::NoPooling => 1,
            _ => 2,
        }
    }

    /// The Philox `index` word of the estimator's streams.
    pub(super) fn stream_index(self) -> u32 {
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

//! Posterior predictive checks. (Being written.)

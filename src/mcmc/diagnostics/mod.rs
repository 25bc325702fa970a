//! Posterior summaries and convergence diagnostics (Vehtari et al. 2021).
//!
//! Implements the definitions of Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021),
//! "Rank-normalization, folding, and localization: an improved R-hat for assessing
//! convergence of MCMC", *Bayesian Analysis* 16(2), as coded in ArviZ 0.23
//! (`az.rhat(method="rank")`, `az.ess(method="bulk" | "tail" | "mean")`,
//! `az.mcse(method="mean")`, `az.hdi`) and in Stan / the R `posterior` package.
//! The unit tests compare against ArviZ 0.23.4 to 1e-9 relative.
//!
//! Everything works on `chains: &[&[f64]]`, one slice per chain of post-warm-up draws,
//! all of the same length.
//!
//! # Edge cases
//! The diagnostics (`rhat`, `ess_*`, `mcse_mean`, and those fields of [`Summary`]) are
//! `f64::NAN`, never a panic, when
//! * there are no chains, the chains differ in length, or a chain has fewer than
//!   [`MIN_DRAWS_PER_CHAIN`] draws;
//! * any draw is NaN or ±infinity;
//! * the quantity is constant (every draw exactly equal). ArviZ gives NaN for R-hat here
//!   but the total draw count for the ESS values; we follow the R `posterior` package and
//!   return NaN for every diagnostic, since no effective sample size is meaningful then.
//!
//! A tail-quantile indicator can be constant while the quantity is not (more than 5% of
//! the draws equal to the maximum makes I(x <= q95) all ones); its ESS is then the
//! split draw count, as in ArviZ.
//!
//! [`rhat`] is also NaN with a single chain, as in ArviZ (`az.rhat` needs two chains
//! before splitting). The ESS values are defined for one chain.
//!
//! With an odd number of draws per chain the middle draw is dropped when splitting, as
//! ArviZ does. The folded R-hat uses the median of the split draws (as `az.rhat`; note
//! `az.summary` folds around the median of all draws, which differs only for odd draws).
//!
//! One file per job: split chains and their moments, rank normalisation, R-hat, the ESS
//! and its autocovariances (by FFT once many lags are needed), quantiles and HDIs, the
//! inverse normal CDF, and the [`Summary`] that gathers them.

mod autocov;
mod ess;
mod fft;
mod normal;
mod quantile;
mod rank;
mod rhat;
mod scratch;
mod split;
mod summary;
#[cfg(test)]
mod test_chains;
#[cfg(test)]
mod tests;

pub use ess::{ess_bulk, ess_mean, ess_tail, mcse_mean};
pub use normal::inv_normal_cdf;
pub use quantile::{hdi, quantile_sorted};
pub use rank::normal_scores_by_twice_rank;
pub use rhat::{rhat, rhat_and_ess_bulk, rhat_ess_bulk_and_sorted};
pub use split::MIN_DRAWS_PER_CHAIN;
pub use summary::{summarize, Summary, HDI_PROB};

//! The site update for CHAIN_LANES chains of one site at once, in `wide`'s f32x4 (SSE2 on
//! x86-64, NEON on arm64, plain arrays elsewhere): the chains of a site share its samples, so
//! every loop and every branch on the counts is the same in all lanes, and what differs
//! (shapes, accept decisions, the Stirling shifts) is computed branch-free and selected.
//!
//! Same random stream and same operations as the scalar twin `site_update::run_one` (itself
//! the twin of site_update.wgsl), with Cephes' `ln`, `exp` and `cos` (as in `lanes`) in place
//! of libm's, and one log where the twin takes three of the Stirling shifts' quotients
//! (`beta_binomial`, `ln_beta`): results differ from the twin's in the last bits, as the GPU's
//! do, and the tests hold the three together. The scalar twin stays the reference and runs
//! where chains don't fill lanes.
//!
//! `lane_math` holds the arithmetic in lanes, `update` the site update built on it, and
//! `regression` a design's site regression (twin: `site_regression::run_one`).

mod lane_math;
mod regression;
mod update;

pub use lane_math::{log_gammas_keyed, CHAIN_LANES};
pub use regression::{run_regression_lanes, site_log_likelihood_lanes};
pub use update::{run_lanes, state_likelihood_lanes};

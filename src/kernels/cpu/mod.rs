//! The CPU twins, one file per shader (same operations, same order, same random stream) and
//! the shared pieces of WGSL they mirror (`variates`, `betabinom`); `lanes` and `site_lanes`
//! run several of them at once in SIMD lanes.

pub mod betabinom;
pub mod collapsed_loglik;
pub mod draws_gather;
pub mod lanes;
pub mod marginal_table;
pub mod site_lanes;
pub mod site_regression;
pub mod site_summaries;
pub mod site_update;
pub mod theta_update;
pub mod variates;

/// Pieces handed to one rayon task: large enough to amortise scheduling, small enough to balance.
pub(crate) const PIECES_PER_TASK: usize = 256;

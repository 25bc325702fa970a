//! Shared by the integration tests: what the `#[ignore]`d tests need (a GPU adapter, the
//! shared data, DSS), the embedded rats table and its exact posterior, Parquet read-back, the
//! built binary, what figures state, and methyl's configs.
// Each test file uses some of these.
#![allow(dead_code, unused_imports)]

pub mod cli;
pub mod figures;
pub mod methyl;
pub mod rats;
pub mod requires;
pub mod table;

pub use cli::{betagibbs, betagibbs_with_env, print_rounding, CliRun};
pub use methyl::{benchmark_design_rows, methyl_config, site_params};
pub use rats::rats;
pub use requires::{gpu, require_dss, require_htslib, shared_data};
pub use table::Table;

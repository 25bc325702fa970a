//! The commands behind the binary, one module per command: each takes the validated config
//! its flags became (`cli`) and does its work with the library below. `embedded`, `source`,
//! `output`, `progress`, `report` and `memory` serve several commands; `stan` is bench's Stan.

pub mod bench;
pub mod cli;
pub mod compare;
pub mod demo;
pub mod embedded;
pub mod export;
pub mod methyl;
pub mod plot;
pub mod sample;
pub mod simulate;

mod memory;
mod output;
mod progress;
pub mod regression;
mod report;
mod source;
mod stan;

pub use bench::{bench_once, run_bench, BenchConfig, BenchJob, BenchRow};
pub use embedded::{Embedded, BATTING_CSV, RATS_CSV};
pub use output::write_observations;
pub use progress::progress_bar;
pub use report::format_summary_table;
pub use sample::{run as run_sample, run_metadata, summary_rows, RunConfig};
pub use source::DataSource;

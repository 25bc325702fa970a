//! Methylation batches: bisulphite counts per sample and CpG site, merged across samples,
//! fitted site by site with genome-wide priors, and called for differential methylation.

pub mod config;
pub mod design;
pub mod fit;
pub mod formats;
pub mod hyper;
pub mod interval;
pub(crate) mod lines;
pub mod merge;
pub mod output;
pub mod reference;
pub mod regions;
pub mod regression;
pub mod run;
pub mod scan_sample;
pub mod shard;
pub mod sheet;
pub mod simulate;
pub mod site_stage;
pub mod summaries;
pub mod tracks;

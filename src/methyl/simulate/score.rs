//! A run's calls against the truth of the study `simulate` wrote: how many loci and regions
//! were called, and how many of them are false (the realised FDR), and how many of the true
//! ones were found. Used by `demo methyl`; the benchmarks (benches/accuracy.py) score the same.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{Context, Result};

use crate::io::readback::read_table;
use crate::methyl::output::{DML_SCHEMA, DMR_SCHEMA};

/// The calls of a run and how they fare.
#[derive(Debug, Clone, PartialEq)]
pub struct CallScore {
    pub dml: usize,
    /// Loci called whose true |delta| is at most d: P(|delta| > d) is what a call claims.
    pub false_dml: usize,
    /// Sites whose true |delta| exceeds d, and of them those called.
    pub true_sites: usize,
    pub found_sites: usize,
    pub dmr: usize,
    /// Regions called that overlap no true DMR.
    pub false_dmr: usize,
    /// True DMRs, and of them those a called region overlaps.
    pub true_regions: usize,
    pub found_regions: usize,
}

/// The rows of a simulate truth file, split on tabs, without the header.
fn rows(path: &Path) -> Result<Vec<Vec<String>>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    Ok(text
        .lines()
        .skip(1)
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect())
}

/// Scores the calls in `fit` against the truth in `study` at the calls' d, `threshold`.
pub fn score_calls(study: &Path, fit: &Path, threshold: f64) -> Result<CallScore> {
    let mut true_sites = HashSet::new();
    let mut null_sites = HashSet::new();
    for r in rows(&study.join("truth.tsv"))? {
        let delta: f64 = r[4]
            .parse()
            .with_context(|| format!("truth.tsv: delta {:?}", r[4]))?;
        let key = (r[0].clone(), r[1].parse::<u64>()?);
        if delta.abs() > threshold {
            true_sites.insert(key);
        } else {
            null_sites.insert(key);
        }
    }
    let regions: Vec<(String, u64, u64)> = rows(&study.join("truth_regions.tsv"))?
        .into_iter()
        .map(|r| Ok((r[1].clone(), r[2].parse()?, r[3].parse()?)))
        .collect::<Result<_>>()?;
    let (dml_path, dmr_path) = (fit.join("dml.parquet"), fit.join("dmr.parquet"));
    let dml = read_table(&dml_path, DML_SCHEMA)?;
    let (chr, pos) = (dml.text(&dml_path, "chr")?, dml.numbers(&dml_path, "pos")?);
    let called: Vec<(String, u64)> = chr
        .iter()
        .cloned()
        .zip(pos.iter().map(|&p| p as u64))
        .collect();
    let dmr = read_table(&dmr_path, DMR_SCHEMA)?;
    let rchr = dmr.text(&dmr_path, "chr")?;
    let (start, end) = (
        dmr.numbers(&dmr_path, "start")?,
        dmr.numbers(&dmr_path, "end")?,
    );
    let overlaps = |c: &str, s: u64, e: u64, (tc, ts, te): &(String, u64, u64)| {
        c == tc && s <= *te && *ts <= e
    };
    let called_regions: Vec<(String, u64, u64)> = (0..rchr.len())
        .map(|i| (rchr[i].clone(), start[i] as u64, end[i] as u64))
        .collect();
    Ok(CallScore {
        dml: called.len(),
        false_dml: called.iter().filter(|k| null_sites.contains(*k)).count(),
        true_sites: true_sites.len(),
        found_sites: called.iter().filter(|k| true_sites.contains(*k)).count(),
        dmr: called_regions.len(),
        false_dmr: called_regions
            .iter()
            .filter(|(c, s, e)| !regions.iter().any(|t| overlaps(c, *s, *e, t)))
            .count(),
        true_regions: regions.len(),
        found_regions: regions
            .iter()
            .filter(|t| {
                called_regions
                    .iter()
                    .any(|(c, s, e)| overlaps(c, *s, *e, t))
            })
            .count(),
    })
}

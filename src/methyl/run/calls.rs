//! The second pass, after every site is written: DMLs at the FDR's threshold (dml.parquet,
//! read back from sites.parquet), DMRs (dmr.parquet) and the --draws-region sites' draws
//! (draws.parquet).

use std::path::Path;

use anyhow::Context;

use crate::methyl::config::MethylConfig;
use crate::methyl::output::FdrHistogram;
use crate::methyl::output::{write_calls, write_regions, DML_CANDIDATES_FILE, DML_CANDIDATE_P};
use crate::methyl::regions::{call_regions, CandidateRegion, Finder};
use crate::methyl::run::stage2::Gathered;
use crate::methyl::run::{DrawSlots, Study};

/// The calls' thresholds and counts, for the report.
pub(super) struct Calls {
    /// The DMLs' P(|delta| > d) threshold and its expected FDR.
    pub threshold: f64,
    pub expected_fdr: f64,
    pub n_dml: u64,
    /// The DMRs' P(|mean delta| > d) threshold and its expected FDR.
    pub p_region_threshold: f64,
    pub dmr_fdr: f64,
    pub n_dmr: u64,
}

/// The calls at Bayesian FDR `fdr`, of a whole run or of joined shards: the DMLs' P(DM)
/// threshold from the sites' histogram and the DMRs among `candidates`, whose writing is the
/// caller's; the thresholds join `metadata`, the calls' footer.
pub(super) fn decide(
    histogram: &FdrHistogram,
    candidates: Vec<CandidateRegion>,
    fdr: f64,
    metadata: &mut Vec<(String, String)>,
) -> (Calls, Vec<CandidateRegion>) {
    let (threshold, n_dml, expected_fdr) = histogram.threshold(fdr);
    let (regions, p_region_threshold, dmr_fdr) = call_regions(candidates, fdr);
    metadata.extend([
        ("betagibbs.fdr".to_string(), fdr.to_string()),
        (
            "betagibbs.p_dm_threshold".to_string(),
            threshold.to_string(),
        ),
        (
            "betagibbs.p_region_threshold".to_string(),
            p_region_threshold.to_string(),
        ),
        (
            "betagibbs.dmr_expected_fdr".to_string(),
            dmr_fdr.to_string(),
        ),
    ]);
    let calls = Calls {
        threshold,
        expected_fdr,
        n_dml,
        p_region_threshold,
        dmr_fdr,
        n_dmr: regions.len() as u64,
    };
    (calls, regions)
}

/// Calls DMLs and DMRs from what stage 2 gathered and writes them, and the region draws;
/// the calls' thresholds join `metadata`, the footer of these files.
pub(super) fn call_and_write(
    config: &MethylConfig,
    study: &Study,
    gathered: Gathered,
    sites_path: &Path,
    metadata: &mut Vec<(String, String)>,
) -> anyhow::Result<Calls> {
    let Gathered {
        histogram,
        region_sites,
        finder,
    } = gathered;
    let Finder::Whole(finder) = finder else {
        unreachable!("a whole run's finder")
    };
    let (calls, regions) = decide(&histogram, finder.finish(), config.fdr, metadata);
    let threshold = calls.threshold;
    // The DMLs from the candidates kept aside, unless the threshold lies below them.
    let candidates = sites_path.with_file_name(DML_CANDIDATES_FILE);
    let source = match threshold >= DML_CANDIDATE_P && candidates.exists() {
        true => candidates.as_path(),
        false => sites_path,
    };
    let n_dml = write_calls(source, &config.out.join("dml.parquet"), threshold, metadata)?;
    if candidates.exists() {
        std::fs::remove_file(&candidates)
            .with_context(|| format!("removing {}", candidates.display()))?;
    }
    write_regions(&config.out.join("dmr.parquet"), &regions, metadata)?;
    debug_assert_eq!(n_dml, calls.n_dml);
    let draws_path = config.out.join("draws.parquet");
    if !config.draws_regions.is_empty() {
        if region_sites.is_empty() {
            eprintln!(
                "betagibbs: warning: no site lies in --draws-region {}: draws.parquet holds no draws",
                config
                    .draws_regions
                    .iter()
                    .map(|r| format!("{}:{}-{}", r.chr, r.start, r.end))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        write_region_draws(
            config,
            &study.groups,
            study.slots(),
            study.coef_name(),
            &region_sites,
            metadata,
        )?;
    } else if draws_path.exists() {
        // An earlier run's region draws would sit beside this run's sites as if they were its.
        std::fs::remove_file(&draws_path)
            .with_context(|| format!("removing the earlier run's {}", draws_path.display()))?;
    }
    Ok(calls)
}

/// draws.parquet in the core draws schema: per site `<chr>:<pos>/mu[<group>]` for every group
/// and `<chr>:<pos>/delta` (and a design's tested coefficient, `<chr>:<pos>/<coef>`).
fn write_region_draws(
    config: &MethylConfig,
    groups: &[String],
    slots: DrawSlots,
    coef: Option<&str>,
    sites: &[(String, Vec<f32>)],
    metadata: &[(String, String)],
) -> anyhow::Result<()> {
    let (n_chains, n_draws, stride, compare) = (
        config.fit.chains as usize,
        config.fit.draws as usize,
        slots.stride,
        slots.compare,
    );
    let mut names = Vec::new();
    let mut values = Vec::new();
    for (site, draws) in sites {
        let mu = |chain: usize, draw: usize, g: usize| {
            f64::from(draws[(chain * n_draws + draw) * stride + g])
        };
        for (g, group) in groups.iter().enumerate() {
            names.push(format!("{site}/mu[{group}]"));
            for chain in 0..n_chains {
                values.extend((0..n_draws).map(|d| mu(chain, d, g)));
            }
        }
        names.push(format!("{site}/delta"));
        for chain in 0..n_chains {
            values.extend((0..n_draws).map(|d| mu(chain, d, compare.1) - mu(chain, d, compare.0)));
        }
        if let (Some(name), Some(slot)) = (coef, slots.coef) {
            names.push(format!("{site}/{name}"));
            for chain in 0..n_chains {
                values.extend((0..n_draws).map(|d| mu(chain, d, slot)));
            }
        }
    }
    let table = crate::io::write::DrawsTable {
        parameter_names: &names,
        n_chains,
        n_draws,
        values: &values,
    };
    crate::io::write::write_draws(&config.out.join("draws.parquet"), &table, metadata)?;
    eprintln!(
        "betagibbs: draws of {} sites in --draws-region written to {}",
        sites.len(),
        config.out.join("draws.parquet").display()
    );
    Ok(())
}

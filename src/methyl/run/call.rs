//! `methyl call`: the shards of a sharded run joined. The DMLs at one Bayesian FDR over
//! every site (the shards' P(DM) histograms merge exactly), the DMRs from every shard's
//! candidates (runs across a shard boundary replayed whole), and the sites as a
//! Hive-partitioned dataset, `DIR/sites/chr=<chr>/part-<k>.parquet`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;

use crate::error::UserError;
use crate::io::manifest::{check_run, Run, RUN_ID_KEY};
use crate::io::readback::read_footer;
use crate::methyl::interval::Region;
use crate::methyl::output::{
    join_sites_and_calls, write_regions, FdrHistogram, JoinedSites, SITES_SCHEMA,
};
use crate::methyl::regions::{replay_shards, DmrRule};
use crate::methyl::run::calls::{decide, Calls};
use crate::methyl::run::shards::setting;
use crate::methyl::shard::{
    read_prior, read_shard, read_shards, PRIOR_ID_KEY, REGIONS_FILE, SETTINGS_KEY, SITES_KEPT_KEY,
};

/// What `methyl call` needs, validated.
#[derive(Debug, Clone)]
pub struct CallConfig {
    /// The shards' directories (`methyl fit --out`), in any order.
    pub parts: Vec<PathBuf>,
    /// The prior they were fitted with (`methyl prior --out`).
    pub prior: PathBuf,
    pub fdr: f64,
    pub out: PathBuf,
    pub quiet: bool,
    /// The sites as one sites.parquet, as a single run writes them (which `plot` and
    /// `export` read), not a Hive-partitioned dataset.
    pub sites_file: bool,
}

/// A shard's directory, its region and its sites, as the call orders them.
struct Part {
    dir: PathBuf,
    region: Region,
    kept: u64,
    footer: HashMap<String, String>,
}

/// Files of a shard that the call reads.
const PART_FILES: [&str; 4] = [
    "sites.parquet",
    "regions.parquet",
    "edges.parquet",
    "histogram.parquet",
];

/// Runs `methyl call`.
pub fn run_call(config: &CallConfig) -> anyhow::Result<()> {
    super::leave_nothing_on_failure(&config.out, || call(config))
}

fn call(config: &CallConfig) -> anyhow::Result<()> {
    let start = Instant::now();
    check_run(&config.prior, &["prior.parquet"])?;
    let prior = read_prior(&config.prior)?;
    let prior_id = prior.metadata.get(RUN_ID_KEY).cloned().unwrap_or_default();
    let settings = prior
        .metadata
        .get(SETTINGS_KEY)
        .cloned()
        .unwrap_or_default();
    let chromosomes = read_shards(&config.prior)?;
    let parts = ordered_parts(config, &prior_id, &chromosomes)?;
    let number = |key: &str| -> anyhow::Result<f64> {
        setting(&settings, key)
            .and_then(|v| v.parse().ok())
            .with_context(|| {
                format!(
                    "{}: no {key} in the prior's settings",
                    config.prior.display()
                )
            })
    };
    let rule = DmrRule {
        min_cpgs: number("dmr_min_cpgs")? as u32,
        max_gap: number("dmr_max_gap")? as u64,
    };
    let threshold = number("threshold")?;

    let run = Run::begin(&config.out, "methyl call")?;
    let sites_dir = config.out.join("sites");
    if sites_dir.exists() {
        // An earlier call's partitions would join this run's dataset.
        std::fs::remove_dir_all(&sites_dir)
            .with_context(|| format!("removing the earlier run's {}", sites_dir.display()))?;
    }
    let mut metadata: Vec<(String, String)> = parts[0]
        .footer
        .iter()
        .filter(|(k, _)| {
            ![
                RUN_ID_KEY,
                "betagibbs.schema",
                "betagibbs.region",
                "betagibbs.device",
                "betagibbs.summaries",
            ]
            .contains(&k.as_str())
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    metadata.sort();
    // Shards may run on different devices, and so summarise in different places.
    for key in ["betagibbs.device", "betagibbs.summaries"] {
        let values: std::collections::BTreeSet<&str> = parts
            .iter()
            .filter_map(|p| p.footer.get(key).map(String::as_str))
            .collect();
        metadata.push((
            key.into(),
            values.into_iter().collect::<Vec<_>>().join("; "),
        ));
    }
    metadata.push(("betagibbs.region".into(), "all".into()));
    metadata.push(("betagibbs.shards".into(), parts.len().to_string()));
    metadata.push(run.footer());

    // The sites: one file, or partition k of a chromosome for its k-th shard in genome order.
    let sites_names: Vec<String> = match config.sites_file {
        true => vec!["sites.parquet".into()],
        false => {
            let mut per_chr: HashMap<&str, usize> = HashMap::new();
            parts
                .iter()
                .map(|part| {
                    let chr = part.region.chr.as_str();
                    let k = per_chr.entry(chr).or_default();
                    *k += 1;
                    format!("sites/chr={}/part-{}.parquet", hive_escape(chr), *k - 1)
                })
                .collect()
        }
    };
    let one_file = config.out.join("sites.parquet");
    if !config.sites_file && one_file.exists() {
        // An earlier call's one file would stand beside this call's dataset.
        std::fs::remove_file(&one_file)
            .with_context(|| format!("removing {}", one_file.display()))?;
    }
    let partitions: Vec<PathBuf> = sites_names.iter().map(|n| config.out.join(n)).collect();
    let into = match config.sites_file {
        true => JoinedSites::One(&one_file),
        false => JoinedSites::Partitions(&partitions),
    };
    let dirs: Vec<PathBuf> = parts.iter().map(|p| p.dir.clone()).collect();
    let calls = join_shards(
        &dirs,
        (rule, threshold, config.fdr),
        &config.out,
        into,
        &mut metadata,
    )?;
    let mut written = vec!["dml.parquet", "dmr.parquet"];
    written.extend(sites_names.iter().map(String::as_str));
    run.finish(&written)?;
    if !config.quiet {
        let kept: u64 = parts.iter().map(|p| p.kept).sum();
        eprintln!(
            "betagibbs: {} shards, {kept} sites: {} DMLs at P(DM) >= {:.4} (expected FDR {:.4}), {} DMRs (expected FDR {:.4}), in {:.1} s; written to {}",
            parts.len(),
            calls.n_dml,
            calls.threshold,
            calls.expected_fdr,
            calls.n_dmr,
            calls.dmr_fdr,
            start.elapsed().as_secs_f64(),
            config.out.display()
        );
    }
    Ok(())
}

/// Shards (their directories, in genome order) joined into `out`: the DMLs at one Bayesian
/// FDR over all their sites (their histograms merged, exactly) into dml.parquet, the DMRs of
/// their candidates (edge runs replayed across boundaries) into dmr.parquet, and their sites
/// `into` a dataset or one file. `question` is the DMR rule, d and the FDR; the thresholds
/// join `metadata`, the footer.
pub(super) fn join_shards(
    dirs: &[PathBuf],
    (rule, threshold, fdr): (DmrRule, f64, f64),
    out: &Path,
    into: JoinedSites,
    metadata: &mut Vec<(String, String)>,
) -> anyhow::Result<Calls> {
    let mut histogram = FdrHistogram::default();
    let mut shards = Vec::new();
    for dir in dirs {
        let (regions, h) = read_shard(dir)?;
        histogram.merge(&h);
        shards.push(regions);
    }
    let candidates = replay_shards(rule, threshold, shards);
    let (calls, regions) = decide(&histogram, candidates, fdr, metadata);
    let sites: Vec<PathBuf> = dirs.iter().map(|d| d.join("sites.parquet")).collect();
    let n_dml = join_sites_and_calls(
        &sites,
        into,
        &out.join("dml.parquet"),
        calls.threshold,
        metadata,
    )?;
    debug_assert_eq!(n_dml, calls.n_dml);
    write_regions(&out.join("dmr.parquet"), &regions, metadata)?;
    Ok(calls)
}

/// The shards checked (each a complete run, of this prior, none overlapping another, and
/// together every site of the study) and put in genome order.
fn ordered_parts(
    config: &CallConfig,
    prior_id: &str,
    chromosomes: &[(String, u64)],
) -> anyhow::Result<Vec<Part>> {
    if config.parts.is_empty() {
        return Err(UserError("methyl call: no shard directories given".into()).into());
    }
    let rank: HashMap<&str, usize> = chromosomes
        .iter()
        .enumerate()
        .map(|(i, (c, _))| (c.as_str(), i))
        .collect();
    let mut parts = Vec::new();
    for dir in &config.parts {
        check_run(dir, &PART_FILES)?;
        let footer = read_footer(&dir.join("sites.parquet"), SITES_SCHEMA)?;
        let shard = read_footer(
            &dir.join(REGIONS_FILE),
            crate::methyl::shard::SHARD_REGIONS_SCHEMA,
        )?;
        if shard.get(PRIOR_ID_KEY).map(String::as_str) != Some(prior_id) {
            return Err(UserError(format!(
                "{}: fitted with another prior than {} (run `methyl fit --prior {}` again)",
                dir.display(),
                config.prior.display(),
                config.prior.display()
            ))
            .into());
        }
        let region = match footer.get("betagibbs.region").map(String::as_str) {
            None | Some("all") => {
                return Err(UserError(format!(
                    "{}: fitted without --region; a shard is a chromosome or a region of one (methyl fit --region)",
                    dir.display()
                ))
                .into())
            }
            Some(text) => Region::parse("betagibbs.region", text)?,
        };
        let kept = shard
            .get(SITES_KEPT_KEY)
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("{}: no {SITES_KEPT_KEY} in its footer", dir.display()))?;
        parts.push(Part {
            dir: dir.clone(),
            region,
            kept,
            footer,
        });
    }
    let key = |p: &Part| {
        let r = &p.region;
        let rank = rank.get(r.chr.as_str()).copied().unwrap_or(usize::MAX);
        (rank, r.chr.clone(), r.start)
    };
    parts.sort_by_key(key);
    for w in parts.windows(2) {
        let (a, b) = (&w[0].region, &w[1].region);
        if a.chr == b.chr && b.start <= a.end {
            return Err(UserError(format!(
                "{} ({a}) and {} ({b}) overlap: each site must be in one shard",
                w[0].dir.display(),
                w[1].dir.display()
            ))
            .into());
        }
    }
    // Shards without sites hold nothing to join (their chromosome may not be the study's).
    parts.retain(|p| p.kept > 0);
    if let Some(p) = parts
        .iter()
        .find(|p| !rank.contains_key(p.region.chr.as_str()))
    {
        return Err(UserError(format!(
            "{}: its sites are on a chromosome that the prior's study ({}) does not have",
            p.dir.display(),
            config.prior.display()
        ))
        .into());
    }
    let kept: u64 = parts.iter().map(|p| p.kept).sum();
    let study: u64 = chromosomes.iter().map(|(_, n)| n).sum();
    if kept != study {
        let covered: std::collections::BTreeSet<&str> =
            parts.iter().map(|p| p.region.chr.as_str()).collect();
        let missing: Vec<&str> = chromosomes
            .iter()
            .map(|(c, _)| c.as_str())
            .filter(|c| !covered.contains(c))
            .take(10)
            .collect();
        return Err(UserError(format!(
            "the shards hold {kept} sites, the study {study}: a shard is missing or was filtered differently (chromosomes without a shard: {})",
            if missing.is_empty() { "none".to_string() } else { missing.join(", ") }
        ))
        .into());
    }
    Ok(parts)
}

/// A chromosome's name as a Hive partition value: characters outside [A-Za-z0-9._-]
/// percent-encoded, as Hive and pyarrow escape them.
fn hive_escape(chr: &str) -> String {
    chr.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

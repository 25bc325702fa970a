//! The files of a sharded run (`methyl prior`, `methyl fit`, `methyl call`): stage 1's
//! priors, and what each shard hands the call beside its sites.parquet.
//!
//! - `P/prior.parquet`: one row per chain, the genome-wide prior every site of that chain is
//!   fitted with (stage 1's last draw), with stage 1's summary and the run's settings in the
//!   footer; `P/shards.tsv`: the study's chromosomes in the merge's order, with their sites.
//! - `PART/regions.parquet`: the shard's candidate regions between its edges, scored;
//!   `PART/edges.parquet`: the leaning sites of its edge runs, one row per joint draw;
//!   `PART/histogram.parquet`: its sites' P(DM) histogram (`FdrHistogram`, merged exactly).
//!
//! Every float is written as f64, which holds the f32 and f64 values exactly, so a shard's
//! files read back bit for bit.

use std::path::Path;

use anyhow::Context;

use crate::error::UserError;
use crate::io::readback::read_table;
use crate::io::write::{write_small_table, SmallTable};
use crate::kernels::site_layout::SiteHyper;
use crate::methyl::hyper::Hyper;
use crate::methyl::output::{write_regions_as, FdrHistogram};
use crate::methyl::regions::{CandidateRegion, EdgeSite, ShardRegions};

/// Schema tags of the sharded run's files.
pub const PRIOR_SCHEMA: &str = "methylation-prior/1";
pub const SHARD_REGIONS_SCHEMA: &str = "methylation-shard-regions/1";
pub const SHARD_EDGES_SCHEMA: &str = "methylation-shard-edges/1";
pub const SHARD_HISTOGRAM_SCHEMA: &str = "methylation-shard-histogram/1";

/// File names inside a prior's and a shard's directory.
pub const PRIOR_FILE: &str = "prior.parquet";
pub const SHARDS_FILE: &str = "shards.tsv";
pub const REGIONS_FILE: &str = "regions.parquet";
pub const EDGES_FILE: &str = "edges.parquet";
pub const HISTOGRAM_FILE: &str = "histogram.parquet";

/// Footer keys: the settings a prior was learned under (`Settings`), stage 1's summary, the
/// prior's run id in each shard, and whether a shard's leading run was ended inside it.
pub const SETTINGS_KEY: &str = "betagibbs.settings";
pub const HYPER_SUMMARY_KEY: &str = "betagibbs.hyper_summary";
pub const PRIOR_ID_KEY: &str = "betagibbs.prior_run_id";
pub const BROKEN_KEY: &str = "betagibbs.leading_run_broken";
pub const SITES_KEPT_KEY: &str = "betagibbs.sites_kept";
pub const SITES_SEEN_KEY: &str = "betagibbs.sites_seen";

/// SiteHyper's fields as prior.parquet's columns (its padding left out).
const HYPER_COLUMNS: [&str; 9] = [
    "a",
    "b",
    "m0",
    "s0",
    "log_same",
    "log_differ",
    "ln_beta",
    "slab_inv_scale2",
    "ln_slab",
];

/// Writes prior.parquet: `hyper`'s chains, its summary and `metadata` (with the settings).
pub(crate) fn write_prior(
    dir: &Path,
    hyper: &Hyper,
    metadata: &[(String, String)],
) -> anyhow::Result<()> {
    let fields = |h: &SiteHyper| {
        [
            h.a,
            h.b,
            h.m0,
            h.s0,
            h.log_same,
            h.log_differ,
            h.ln_beta,
            h.slab_inv_scale2,
            h.ln_slab,
        ]
    };
    let mut floats: Vec<(&str, Vec<f64>)> = HYPER_COLUMNS
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let column = hyper.per_chain.iter().map(|h| f64::from(fields(h)[k]));
            (*name, column.collect())
        })
        .collect();
    let n_nuisance = hyper.nuisance.first().map_or(0, Vec::len);
    let names: Vec<String> = (0..n_nuisance).map(|k| format!("nuisance_{k}")).collect();
    for (k, name) in names.iter().enumerate() {
        floats.push((name, hyper.nuisance.iter().map(|n| n[k]).collect()));
    }
    let mut footer = metadata.to_vec();
    footer.push((HYPER_SUMMARY_KEY.to_string(), hyper_summary(hyper)));
    let table = SmallTable {
        schema_version: PRIOR_SCHEMA,
        text: Vec::new(),
        integers: vec![("chain", (0..hyper.per_chain.len() as i64).collect())],
        floats,
    };
    write_small_table(&dir.join(PRIOR_FILE), &table, &footer)
}

/// Stage 1's summary as `read_prior` parses it: `key=v1,v2,...` fields, every number in
/// Rust's shortest round-trip form.
fn hyper_summary(h: &Hyper) -> String {
    let list = |v: &[f64]| v.iter().map(f64::to_string).collect::<Vec<_>>().join(",");
    format!(
        "sites={};mean={};sd={};max_r_hat={};prior_spread={};w_range={};nuisance_mean={}",
        h.sites,
        list(&h.mean),
        list(&h.sd),
        h.max_r_hat,
        h.prior_spread,
        list(&[h.w_range.0, h.w_range.1]),
        list(&h.nuisance_mean)
    )
}

/// A prior read back: stage 1's result as the whole run had it, and prior.parquet's footer.
pub struct Prior {
    pub hyper: Hyper,
    pub metadata: std::collections::HashMap<String, String>,
}

/// Reads `dir`/prior.parquet back, bit for bit.
pub fn read_prior(dir: &Path) -> anyhow::Result<Prior> {
    let path = dir.join(PRIOR_FILE);
    let table = read_table(&path, PRIOR_SCHEMA)?;
    let column = |name: &str| table.numbers(&path, name);
    let n_chains = column("chain")?.len();
    let mut per_chain = vec![SiteHyper::new([1.0; 4], 0.5, 1.0); n_chains];
    let cols: Vec<&[f64]> = HYPER_COLUMNS
        .iter()
        .map(|c| column(c))
        .collect::<Result<_, _>>()?;
    for (c, h) in per_chain.iter_mut().enumerate() {
        let v = |k: usize| cols[k][c] as f32;
        *h = SiteHyper {
            a: v(0),
            b: v(1),
            m0: v(2),
            s0: v(3),
            log_same: v(4),
            log_differ: v(5),
            ln_beta: v(6),
            slab_inv_scale2: v(7),
            ln_slab: v(8),
            _pad: [0.0; 3],
        };
    }
    let mut nuisance = vec![Vec::new(); n_chains];
    for k in 0.. {
        let Ok(values) = column(&format!("nuisance_{k}")) else {
            break;
        };
        for (c, n) in nuisance.iter_mut().enumerate() {
            n.push(values[c]);
        }
    }
    if nuisance.iter().all(Vec::is_empty) {
        nuisance.clear();
    }
    let bad = |what: &str| UserError(format!("{}: {what}", path.display()));
    let summary = table
        .metadata
        .get(HYPER_SUMMARY_KEY)
        .ok_or_else(|| bad("no stage-1 summary in the footer"))?;
    let mut fields = std::collections::HashMap::new();
    for field in summary.split(';') {
        let (key, values) = field
            .split_once('=')
            .ok_or_else(|| bad("unreadable stage-1 summary"))?;
        let values: Vec<f64> = values
            .split(',')
            .filter(|v| !v.is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map_err(|_| bad("unreadable stage-1 summary"))?;
        fields.insert(key, values);
    }
    let get = |key: &str, n: Option<usize>| -> Result<Vec<f64>, UserError> {
        let v = fields
            .get(key)
            .ok_or_else(|| bad(&format!("no {key} in the stage-1 summary")))?;
        match n {
            Some(n) if v.len() != n => Err(bad(&format!("{key}: expected {n} values"))),
            _ => Ok(v.clone()),
        }
    };
    let six =
        |key| -> Result<[f64; 6], UserError> { Ok(get(key, Some(6))?.try_into().expect("six")) };
    let w_range = get("w_range", Some(2))?;
    let hyper = Hyper {
        per_chain,
        mean: six("mean")?,
        sd: six("sd")?,
        sites: get("sites", Some(1))?[0] as usize,
        max_r_hat: get("max_r_hat", Some(1))?[0],
        prior_spread: get("prior_spread", Some(1))?[0],
        w_range: (w_range[0], w_range[1]),
        nuisance,
        nuisance_mean: get("nuisance_mean", None)?,
    };
    Ok(Prior {
        hyper,
        metadata: table.metadata,
    })
}

/// Writes shards.tsv: the study's chromosomes in the merge's order, with their sites.
pub(crate) fn write_shards(dir: &Path, chromosomes: &[(String, u64)]) -> anyhow::Result<()> {
    let mut text = String::from("chromosome\tsites\n");
    for (chr, n) in chromosomes {
        text.push_str(&format!("{chr}\t{n}\n"));
    }
    crate::io::atomic::write_text(&dir.join(SHARDS_FILE), &text)
}

/// Reads shards.tsv back.
pub fn read_shards(dir: &Path) -> anyhow::Result<Vec<(String, u64)>> {
    let path = dir.join(SHARDS_FILE);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| UserError(format!("{}: cannot read: {e}", path.display())))?;
    text.lines()
        .enumerate()
        .skip(1)
        .map(|(i, line)| {
            let bad = || {
                UserError(format!(
                    "{}:{}: expected 'chromosome<TAB>sites'",
                    path.display(),
                    i + 1
                ))
            };
            let (chr, n) = line.split_once('\t').ok_or_else(bad)?;
            Ok((chr.to_string(), n.parse().map_err(|_| bad())?))
        })
        .collect()
}

/// Writes a shard's regions, edges and histogram into `dir`, with `metadata` in each footer.
pub(crate) fn write_shard(
    dir: &Path,
    regions: &ShardRegions,
    histogram: &FdrHistogram,
    metadata: &[(String, String)],
) -> anyhow::Result<()> {
    let mut footer = metadata.to_vec();
    footer.push((BROKEN_KEY.to_string(), regions.broken.to_string()));
    write_regions_as(
        &dir.join(REGIONS_FILE),
        SHARD_REGIONS_SCHEMA,
        &regions.inner,
        &footer,
    )?;
    // One row per (edge site, joint draw).
    let rows: Vec<(&str, &EdgeSite, usize)> = [
        ("leading", &regions.leading),
        ("trailing", &regions.trailing),
    ]
    .into_iter()
    .flat_map(|(edge, sites)| {
        sites
            .iter()
            .flat_map(move |s| (0..s.deltas.len()).map(move |d| (edge, s, d)))
    })
    .collect();
    write_small_table(
        &dir.join(EDGES_FILE),
        &SmallTable {
            schema_version: SHARD_EDGES_SCHEMA,
            text: vec![
                ("edge", rows.iter().map(|r| r.0.to_string()).collect()),
                ("chr", rows.iter().map(|r| r.1.chr.clone()).collect()),
            ],
            integers: vec![
                ("pos", rows.iter().map(|r| r.1.pos as i64).collect()),
                ("draw", rows.iter().map(|r| r.2 as i64).collect()),
            ],
            floats: vec![
                ("p_above", rows.iter().map(|r| r.1.p_above).collect()),
                ("p_below", rows.iter().map(|r| r.1.p_below).collect()),
                (
                    "delta",
                    rows.iter().map(|r| f64::from(r.1.deltas[r.2])).collect(),
                ),
            ],
        },
        &footer,
    )?;
    // The non-empty bins; the mass's two 32-bit words, each exact as a float when read back.
    let bins: Vec<usize> = (0..histogram.count.len())
        .filter(|&b| histogram.count[b] > 0)
        .collect();
    let word = |b: &usize, shift: u32| ((histogram.false_mass[*b] >> shift) & 0xFFFF_FFFF) as i64;
    write_small_table(
        &dir.join(HISTOGRAM_FILE),
        &SmallTable {
            schema_version: SHARD_HISTOGRAM_SCHEMA,
            text: Vec::new(),
            integers: vec![
                ("bin", bins.iter().map(|&b| b as i64).collect()),
                (
                    "count",
                    bins.iter().map(|&b| histogram.count[b] as i64).collect(),
                ),
                ("false_mass_hi", bins.iter().map(|b| word(b, 32)).collect()),
                ("false_mass_lo", bins.iter().map(|b| word(b, 0)).collect()),
            ],
            floats: vec![("min_p", bins.iter().map(|&b| histogram.min_p[b]).collect())],
        },
        &footer,
    )
}

/// Reads a shard's regions, edges and histogram as `methyl call` does, to check them.
pub fn check_shard(dir: &Path) -> anyhow::Result<()> {
    read_shard(dir).map(|_| ())
}

/// A shard's regions and histogram read back.
pub(crate) fn read_shard(dir: &Path) -> anyhow::Result<(ShardRegions, FdrHistogram)> {
    let path = dir.join(REGIONS_FILE);
    let t = read_table(&path, SHARD_REGIONS_SCHEMA)?;
    let broken = t.metadata.get(BROKEN_KEY).map(String::as_str) == Some("true");
    let (chr, start, end, n, mean, p) = (
        t.text(&path, "chr")?,
        t.numbers(&path, "start")?,
        t.numbers(&path, "end")?,
        t.numbers(&path, "n_cpgs")?,
        t.numbers(&path, "delta_mean")?,
        t.numbers(&path, "p_region")?,
    );
    let inner = (0..chr.len())
        .map(|i| CandidateRegion {
            chr: chr[i].clone(),
            start: start[i] as u64,
            end: end[i] as u64,
            n_cpgs: n[i] as u32,
            delta_mean: mean[i],
            p_region: p[i],
        })
        .collect();
    let path = dir.join(EDGES_FILE);
    let t = read_table(&path, SHARD_EDGES_SCHEMA)?;
    let (edge, chr, pos, draw, above, below, delta) = (
        t.text(&path, "edge")?,
        t.text(&path, "chr")?,
        t.numbers(&path, "pos")?,
        t.numbers(&path, "draw")?,
        t.numbers(&path, "p_above")?,
        t.numbers(&path, "p_below")?,
        t.numbers(&path, "delta")?,
    );
    let (mut leading, mut trailing) = (Vec::new(), Vec::<EdgeSite>::new());
    for i in 0..edge.len() {
        let sites = if edge[i] == "leading" {
            &mut leading
        } else {
            &mut trailing
        };
        if draw[i] == 0.0 {
            sites.push(EdgeSite {
                chr: chr[i].clone(),
                pos: pos[i] as u64,
                p_above: above[i],
                p_below: below[i],
                deltas: Vec::new(),
            });
        }
        let site = sites
            .last_mut()
            .with_context(|| format!("{}: draws out of order", path.display()))?;
        site.deltas.push(delta[i] as f32);
    }
    let path = dir.join(HISTOGRAM_FILE);
    let t = read_table(&path, SHARD_HISTOGRAM_SCHEMA)?;
    let mut histogram = FdrHistogram::default();
    let (bin, count, hi, lo, min_p) = (
        t.numbers(&path, "bin")?,
        t.numbers(&path, "count")?,
        t.numbers(&path, "false_mass_hi")?,
        t.numbers(&path, "false_mass_lo")?,
        t.numbers(&path, "min_p")?,
    );
    for i in 0..bin.len() {
        let b = bin[i] as usize;
        if b >= histogram.count.len() {
            return Err(UserError(format!("{}: bin {b} out of range", path.display())).into());
        }
        histogram.count[b] = count[i] as u64;
        histogram.false_mass[b] = ((hi[i] as u64) << 32) | lo[i] as u64;
        histogram.min_p[b] = min_p[i];
    }
    let regions = ShardRegions {
        leading,
        broken,
        inner,
        trailing,
    };
    Ok((regions, histogram))
}

//! The figures of a `methyl` run, read from its Parquet files: the volcano plot, the
//! chromosome overview, the distributions (with the calibration where a truth is known) and
//! the region plots of the top DMRs or of windows asked for. sites.parquet is streamed, never
//! held. The samples' counts of a region plot come from the caller (`CountSource`): plot
//! reads our outputs only, never the count files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use arrow::array::{Array, Float64Array, StringArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;

use crate::error::UserError;
use crate::io::atomic::atomic_write;
use crate::io::parquet_file::stream_columns;
use crate::io::readback::{read_footer, read_table};
use crate::io::write::{DML_SCHEMA, DMR_SCHEMA, SITES_SCHEMA};
use crate::plot::render::ImageFormat;
use crate::plot::{
    Binned, CalibrationBin, ChromosomeStrip, GroupBand, MethylDistributions, Overview, RegionPlot,
    RegionSample, Volcano, MAX_OVERVIEW_CHROMOSOMES,
};

/// Most sites of either kind (called, not called) drawn in a volcano plot: beyond, every k-th
/// in genome order keeps the SVG small and the picture the same.
const MAX_VOLCANO_POINTS: usize = 20_000;
/// Bins along the longest chromosome of the overview (the others' bins are as wide).
const OVERVIEW_BINS: usize = 500;
/// Most called loci drawn in the overview: beyond, every k-th.
const MAX_OVERVIEW_CALLS: usize = 50_000;
/// Bins of the P(|delta| > d) histogram on [0, 1].
const P_DM_BINS: usize = 50;
/// The coverage histogram's axis ends at this quantile of the sites' mean coverage per
/// sample (the long tail of repeats would squash the rest), in at most COVERAGE_BINS bins.
const COVERAGE_AXIS_QUANTILE: f64 = 0.995;
const COVERAGE_BINS: usize = 50;
/// Mean coverages counted exactly up to here; above, in the last cell.
const COVERAGE_CELLS: usize = 100_000;
/// The calibration's bins of P(|delta| > d), as the accuracy benchmark's
/// (benches/accuracy.py, CALIBRATION_EDGES).
pub const CALIBRATION_EDGES: [f64; 6] = [0.0, 0.5, 0.8, 0.95, 0.99, 1.0];
/// A window around a DMR shows this share of its width on either side, and at least
/// MIN_FLANK bases, so that its neighbours are seen.
const FLANK_SHARE: f64 = 0.5;
const MIN_FLANK: u64 = 100;

/// A genomic window, 1-based and inclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub chr: String,
    pub start: u64,
    pub end: u64,
}

/// One sample's counts at one CpG, as a `CountSource` gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleCount {
    pub sample: usize,
    pub pos: u64,
    pub methylated: u32,
    pub total: u32,
}

/// The samples' counts of a run, read by the caller (from the run's sample sheet).
pub trait CountSource {
    /// Every sample's (name, group), in the sheet's order; `SampleCount::sample` indexes it.
    fn samples(&self) -> Vec<(String, String)>;
    /// Every sample's counts at the CpGs of each window, one list per window.
    fn counts(&self, windows: &[Window]) -> Result<Vec<Vec<SampleCount>>>;
}

/// What the methyl figures need beyond the run's directory.
#[derive(Debug, Clone, Default)]
pub struct MethylFigureConfig {
    /// Windows to draw region plots of; empty: the top `top_regions` DMRs.
    pub windows: Vec<Window>,
    pub top_regions: usize,
    /// A `simulate` study's truth.tsv, for the calibration; None: none is drawn.
    pub truth: Option<PathBuf>,
}

/// A column of a batch as f64 (any numeric type, nulls as NaN).
fn numbers(batch: &RecordBatch, name: &str) -> Result<Vec<f64>> {
    let column = batch
        .column_by_name(name)
        .ok_or_else(|| anyhow!("no column {name}"))?;
    let cast = cast(column, &DataType::Float64).with_context(|| format!("column {name}"))?;
    let array = cast
        .as_any()
        .downcast_ref::<Float64Array>()
        .expect("cast to Float64");
    Ok(array.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
}

/// A column of a batch as text (plain or dictionary-encoded).
fn texts(batch: &RecordBatch, name: &str) -> Result<Vec<String>> {
    let column = batch
        .column_by_name(name)
        .ok_or_else(|| anyhow!("no column {name}"))?;
    let cast = cast(column, &DataType::Utf8).with_context(|| format!("column {name}"))?;
    let array = cast
        .as_any()
        .downcast_ref::<StringArray>()
        .expect("cast to Utf8");
    Ok(array
        .iter()
        .map(|v| v.unwrap_or_default().to_string())
        .collect())
}

/// Streams `columns` of sites.parquet, batch by batch.
fn each_batch(
    dir: &Path,
    columns: &[&str],
    mut f: impl FnMut(&RecordBatch) -> Result<()>,
) -> Result<()> {
    let path = dir.join("sites.parquet");
    for batch in stream_columns(&path, columns)? {
        let batch = batch?;
        f(&batch).with_context(|| format!("{}", path.display()))?;
    }
    Ok(())
}

fn footer_number(footer: &HashMap<String, String>, key: &str) -> f64 {
    footer
        .get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

/// The calls' threshold on P(|delta| > d) and d, from dml.parquet's footer.
fn call_threshold(dir: &Path) -> Result<(f64, f64)> {
    let footer = read_footer(&dir.join("dml.parquet"), DML_SCHEMA)?;
    Ok((
        footer_number(&footer, "betagibbs.p_dm_threshold"),
        footer_number(&footer, "betagibbs.threshold"),
    ))
}

fn figure_path(out: &Path, stem: &str, format: ImageFormat) -> PathBuf {
    out.join(format!("{stem}.{}", format.extension()))
}

/// The volcano plot: the calls those at or above dml.parquet's threshold on P(|delta| > d),
/// each kind thinned to MAX_VOLCANO_POINTS.
pub fn volcano(dir: &Path, out: &Path, format: ImageFormat) -> Result<PathBuf> {
    let (threshold, d) = call_threshold(dir)?;
    // Two streamed passes, so that a genome's sites are never held: how many of each kind
    // (not called, called), then every stride-th of each.
    let mut counts = [0usize; 2];
    each_batch(dir, &["p_dm"], |batch| {
        for x in numbers(batch, "p_dm")? {
            counts[usize::from(x >= threshold)] += 1;
        }
        Ok(())
    })?;
    let stride = counts.map(|n| n.div_ceil(MAX_VOLCANO_POINTS).max(1));
    let mut fig = Volcano {
        title: format!(
            "Volcano plot of {}: {} sites, {} called",
            dir.display(),
            counts[0] + counts[1],
            counts[1]
        ),
        threshold,
        d,
        ..Default::default()
    };
    let mut seen = [0usize; 2];
    each_batch(dir, &["delta_mean", "p_dm"], |batch| {
        let (delta, p) = (numbers(batch, "delta_mean")?, numbers(batch, "p_dm")?);
        for (x, y) in delta.into_iter().zip(p) {
            let kind = usize::from(y >= threshold);
            if seen[kind] % stride[kind] == 0 {
                fig.delta.push(x);
                fig.p.push(y);
                fig.called.push(kind == 1);
            }
            seen[kind] += 1;
        }
        Ok(())
    })?;
    let path = figure_path(out, "volcano", format);
    crate::plot::volcano::volcano(&path, &fig)?;
    Ok(path)
}

/// The chromosome overview: the chromosomes with the most sites (at most
/// MAX_OVERVIEW_CHROMOSOMES, in the run's order), the mean delta in bins, the calls.
pub fn overview(dir: &Path, out: &Path, format: ImageFormat) -> Result<PathBuf> {
    // Pass 1: each chromosome's sites and last position, in order of appearance.
    let mut order: Vec<(String, u64, f64)> = Vec::new();
    each_batch(dir, &["chr", "pos"], |batch| {
        let (chr, pos) = (texts(batch, "chr")?, numbers(batch, "pos")?);
        for (c, p) in chr.into_iter().zip(pos) {
            match order.last_mut() {
                Some(last) if last.0 == c => {
                    last.1 += 1;
                    last.2 = last.2.max(p);
                }
                _ => order.push((c, 1, p)),
            }
        }
        Ok(())
    })?;
    let total_chromosomes = order.len();
    if order.len() > MAX_OVERVIEW_CHROMOSOMES {
        let mut by_sites: Vec<usize> = (0..order.len()).collect();
        by_sites.sort_by_key(|&i| std::cmp::Reverse(order[i].1));
        let mut keep = by_sites[..MAX_OVERVIEW_CHROMOSOMES].to_vec();
        keep.sort_unstable();
        order = keep.into_iter().map(|i| order[i].clone()).collect();
    }
    let end = order.iter().map(|o| o.2).fold(1.0, f64::max);
    let width = (end / OVERVIEW_BINS as f64).max(1.0);
    let index: HashMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, o)| (o.0.as_str(), i))
        .collect();
    // Pass 2: per chromosome and bin, the sum and count of delta.
    let mut sums: Vec<HashMap<u64, (f64, u64)>> = vec![HashMap::new(); order.len()];
    each_batch(dir, &["chr", "pos", "delta_mean"], |batch| {
        let (chr, pos, delta) = (
            texts(batch, "chr")?,
            numbers(batch, "pos")?,
            numbers(batch, "delta_mean")?,
        );
        for i in 0..chr.len() {
            if let (Some(&k), true) = (index.get(chr[i].as_str()), delta[i].is_finite()) {
                let cell = sums[k].entry((pos[i] / width) as u64).or_default();
                cell.0 += delta[i];
                cell.1 += 1;
            }
        }
        Ok(())
    })?;
    let mut strips: Vec<ChromosomeStrip> = order
        .iter()
        .zip(sums)
        .map(|(o, cells)| {
            let mut bins: Vec<(f64, f64)> = cells
                .into_iter()
                .map(|(b, (s, n))| ((b as f64 + 0.5) * width, s / n as f64))
                .collect();
            bins.sort_by(|a, b| a.0.total_cmp(&b.0));
            ChromosomeStrip {
                name: o.0.clone(),
                bins,
                ..Default::default()
            }
        })
        .collect();
    let dml_path = dir.join("dml.parquet");
    let dml = read_table(&dml_path, DML_SCHEMA)?;
    let (chr, pos, delta) = (
        dml.text(&dml_path, "chr")?,
        dml.numbers(&dml_path, "pos")?,
        dml.numbers(&dml_path, "delta_mean")?,
    );
    let stride = chr.len().div_ceil(MAX_OVERVIEW_CALLS).max(1);
    for i in (0..chr.len()).step_by(stride) {
        if let Some(&k) = index.get(chr[i].as_str()) {
            strips[k].calls.push((pos[i], delta[i]));
        }
    }
    let dmr_path = dir.join("dmr.parquet");
    let dmr = read_table(&dmr_path, DMR_SCHEMA)?;
    let (rchr, start, rend, rdelta) = (
        dmr.text(&dmr_path, "chr")?,
        dmr.numbers(&dmr_path, "start")?,
        dmr.numbers(&dmr_path, "end")?,
        dmr.numbers(&dmr_path, "delta_mean")?,
    );
    for i in 0..rchr.len() {
        if let Some(&k) = index.get(rchr[i].as_str()) {
            strips[k].regions.push((start[i], rend[i], rdelta[i]));
        }
    }
    let reach = strips
        .iter()
        .flat_map(|s| {
            s.bins
                .iter()
                .map(|b| b.1)
                .chain(s.calls.iter().map(|c| c.1))
                .chain(s.regions.iter().map(|r| r.2))
        })
        .filter(|x| x.is_finite())
        .fold(0.1f64, |m, x| m.max(x.abs()))
        .min(1.0)
        * 1.05;
    let shown = if strips.len() < total_chromosomes {
        format!(
            ", the {} of {} chromosomes with most sites",
            strips.len(),
            total_chromosomes
        )
    } else {
        String::new()
    };
    let fig = Overview {
        title: format!(
            "Chromosome overview of {}: {} DMLs, {} DMRs{shown}",
            dir.display(),
            chr.len(),
            rchr.len()
        ),
        strips,
        end,
        reach,
    };
    let path = figure_path(out, "overview", format);
    crate::plot::render(&path, &crate::plot::Figure::Overview(&fig))?;
    Ok(path)
}

/// A simulate study's truth: true delta by (chr, pos).
fn read_truth(path: &Path) -> Result<HashMap<(String, u64), f64>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| UserError(format!("--truth {}: {e}", path.display())))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split('\t').collect();
    let column = |name: &str| {
        header.iter().position(|h| *h == name).ok_or_else(|| {
            UserError(format!(
                "{}: not a truth.tsv of simulate (no column {name:?})",
                path.display()
            ))
        })
    };
    let (c, p, d) = (column("chr")?, column("pos")?, column("delta")?);
    let mut truth = HashMap::new();
    for (i, line) in lines.enumerate() {
        let fields: Vec<&str> = line.split('\t').collect();
        let bad = || UserError(format!("{}:{}: not a truth row", path.display(), i + 2));
        let pos = fields.get(p).and_then(|v| v.parse().ok()).ok_or_else(bad)?;
        let delta = fields.get(d).and_then(|v| v.parse().ok()).ok_or_else(bad)?;
        truth.insert((fields.get(c).ok_or_else(bad)?.to_string(), pos), delta);
    }
    Ok(truth)
}

/// The distributions figure, and with a truth its calibration, also as calibration.tsv.
pub fn distributions(
    dir: &Path,
    out: &Path,
    format: ImageFormat,
    truth: Option<&Path>,
) -> Result<Vec<PathBuf>> {
    let (threshold, d) = call_threshold(dir)?;
    let truth = truth.map(read_truth).transpose()?;
    let mut coverage = vec![0u64; COVERAGE_CELLS + 1];
    let mut p_counts = vec![0u64; P_DM_BINS];
    let k = CALIBRATION_EDGES.len() - 1;
    let (mut cal_n, mut cal_p, mut cal_dm) = (vec![0u64; k], vec![0.0; k], vec![0u64; k]);
    let mut columns = vec!["n_samples", "coverage_total", "p_dm"];
    if truth.is_some() {
        columns.extend(["chr", "pos"]);
    }
    each_batch(dir, &columns, |batch| {
        let (n, total, p) = (
            numbers(batch, "n_samples")?,
            numbers(batch, "coverage_total")?,
            numbers(batch, "p_dm")?,
        );
        for i in 0..n.len() {
            if n[i] > 0.0 {
                let mean = (total[i] / n[i]).round() as usize;
                coverage[mean.min(COVERAGE_CELLS)] += 1;
            }
            if p[i].is_finite() {
                p_counts[((p[i] * P_DM_BINS as f64) as usize).min(P_DM_BINS - 1)] += 1;
            }
        }
        if let Some(truth) = &truth {
            let (chr, pos) = (texts(batch, "chr")?, numbers(batch, "pos")?);
            for i in 0..chr.len() {
                let Some(true_delta) = truth.get(&(chr[i].clone(), pos[i] as u64)) else {
                    continue;
                };
                let Some(b) = CALIBRATION_EDGES
                    .windows(2)
                    .position(|w| p[i] >= w[0] && (p[i] < w[1] || w[1] == 1.0))
                else {
                    continue;
                };
                cal_n[b] += 1;
                cal_p[b] += p[i];
                cal_dm[b] += u64::from(true_delta.abs() > d);
            }
        }
        Ok(())
    })?;
    let sites: u64 = coverage.iter().sum();
    // The axis ends at the quantile; the bins are whole numbers of reads wide.
    let mut running = 0;
    let cut = coverage
        .iter()
        .position(|&c| {
            running += c;
            running as f64 >= COVERAGE_AXIS_QUANTILE * sites as f64
        })
        .unwrap_or(COVERAGE_CELLS)
        .max(1);
    let width = cut.div_ceil(COVERAGE_BINS).max(1);
    let bins = cut.div_ceil(width) + 1;
    let mut cov_counts = vec![0u64; bins];
    for (c, &n) in coverage.iter().enumerate() {
        if c < bins * width {
            cov_counts[c / width] += n;
        }
    }
    let beyond = sites - cov_counts.iter().sum::<u64>();
    let shown = |x: f64| format!("{}", (x * 1000.0).round() / 1000.0);
    let mut files = Vec::new();
    let calibration = truth.map(|_| {
        (0..k)
            .map(|b| CalibrationBin {
                low: CALIBRATION_EDGES[b],
                high: CALIBRATION_EDGES[b + 1],
                sites: cal_n[b],
                stated: cal_p[b] / cal_n[b].max(1) as f64,
                observed: cal_dm[b] as f64 / cal_n[b].max(1) as f64,
            })
            .collect::<Vec<_>>()
    });
    if let Some(bins) = &calibration {
        let path = out.join("calibration.tsv");
        atomic_write(&path, |file| {
            use std::io::Write;
            let mut w = std::io::BufWriter::new(file);
            writeln!(w, "p_dm_low\tp_dm_high\tsites\tstated_p_dm\tobserved_dm")?;
            for b in bins {
                writeln!(
                    w,
                    "{}\t{}\t{}\t{:.4}\t{:.4}",
                    b.low, b.high, b.sites, b.stated, b.observed
                )?;
            }
            w.flush()?;
            Ok(())
        })?;
        files.push(path);
    }
    let fig = MethylDistributions {
        title: format!("Distributions of {}: {sites} sites", dir.display()),
        coverage: Binned {
            label: if beyond > 0 {
                format!("mean coverage per sample ({beyond} sites beyond the axis)")
            } else {
                "mean coverage per sample".to_string()
            },
            x_desc: "reads".to_string(),
            edges: (0..=bins).map(|b| (b * width) as f64 - 0.5).collect(),
            counts: cov_counts,
            log_counts: false,
            marker: None,
        },
        p_dm: Binned {
            label: format!("P(|delta| > {})", shown(d)),
            x_desc: "posterior probability".to_string(),
            edges: (0..=P_DM_BINS)
                .map(|b| b as f64 / P_DM_BINS as f64)
                .collect(),
            counts: p_counts,
            log_counts: true,
            marker: (threshold <= 1.0)
                .then(|| (threshold, format!("calls: >= {}", shown(threshold)))),
        },
        calibration,
    };
    let path = figure_path(out, "distributions", format);
    crate::plot::render(&path, &crate::plot::Figure::MethylDistributions(&fig))?;
    files.insert(0, path);
    Ok(files)
}

/// The top `n` DMRs (by P, then |delta|) as windows with their flanks, and every DMR.
fn top_regions(dir: &Path, n: usize) -> Result<(Vec<Window>, Vec<Window>)> {
    let path = dir.join("dmr.parquet");
    let dmr = read_table(&path, DMR_SCHEMA)?;
    let (chr, start, end, delta, p) = (
        dmr.text(&path, "chr")?,
        dmr.numbers(&path, "start")?,
        dmr.numbers(&path, "end")?,
        dmr.numbers(&path, "delta_mean")?,
        dmr.numbers(&path, "p_region")?,
    );
    let all: Vec<Window> = (0..chr.len())
        .map(|i| Window {
            chr: chr[i].clone(),
            start: start[i] as u64,
            end: end[i] as u64,
        })
        .collect();
    let mut order: Vec<usize> = (0..chr.len()).collect();
    order.sort_by(|&a, &b| {
        p[b].total_cmp(&p[a])
            .then(delta[b].abs().total_cmp(&delta[a].abs()))
    });
    let top = order
        .into_iter()
        .take(n)
        .map(|i| {
            let w = &all[i];
            let flank = (((w.end - w.start) as f64 * FLANK_SHARE) as u64).max(MIN_FLANK);
            Window {
                chr: w.chr.clone(),
                start: w.start.saturating_sub(flank).max(1),
                end: w.end + flank,
            }
        })
        .collect();
    Ok((top, all))
}

/// The run's groups (footer `betagibbs.groups`) and, per window, each group's band.
fn group_bands(dir: &Path, windows: &[Window]) -> Result<Vec<Vec<GroupBand>>> {
    let footer = read_footer(&dir.join("sites.parquet"), SITES_SCHEMA)?;
    let groups: Vec<String> = footer
        .get("betagibbs.groups")
        .map(|g| g.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    let mut columns: Vec<String> = vec!["chr".into(), "pos".into()];
    for g in &groups {
        for s in ["mean", "q2_5", "q97_5"] {
            columns.push(format!("mu_{g}_{s}"));
        }
    }
    let names: Vec<&str> = columns.iter().map(String::as_str).collect();
    let mut bands: Vec<Vec<GroupBand>> = windows
        .iter()
        .map(|_| {
            groups
                .iter()
                .map(|g| GroupBand {
                    name: g.clone(),
                    ..Default::default()
                })
                .collect()
        })
        .collect();
    each_batch(dir, &names, |batch| {
        let (chr, pos) = (texts(batch, "chr")?, numbers(batch, "pos")?);
        let values: Vec<[Vec<f64>; 3]> = groups
            .iter()
            .map(|g| {
                Ok([
                    numbers(batch, &format!("mu_{g}_mean"))?,
                    numbers(batch, &format!("mu_{g}_q2_5"))?,
                    numbers(batch, &format!("mu_{g}_q97_5"))?,
                ])
            })
            .collect::<Result<_>>()?;
        for i in 0..chr.len() {
            for (w, window) in windows.iter().enumerate() {
                let at = pos[i] as u64;
                if window.chr == chr[i] && (window.start..=window.end).contains(&at) {
                    for (g, v) in values.iter().enumerate() {
                        let band = &mut bands[w][g];
                        band.pos.push(pos[i]);
                        band.mean.push(v[0][i]);
                        band.low.push(v[1][i]);
                        band.high.push(v[2][i]);
                    }
                }
            }
        }
        Ok(())
    })?;
    Ok(bands)
}

/// Region plots: of `config.windows`, or of the top `config.top_regions` DMRs with flanks;
/// every called DMR in a window is shaded. One file per window,
/// `region-<k>-<chr>_<start>-<end>.<ext>`.
pub fn regions(
    dir: &Path,
    out: &Path,
    format: ImageFormat,
    config: &MethylFigureConfig,
    source: &dyn CountSource,
) -> Result<Vec<PathBuf>> {
    let (top, dmrs) = top_regions(dir, config.top_regions)?;
    let windows = if config.windows.is_empty() {
        top
    } else {
        config.windows.clone()
    };
    if windows.is_empty() {
        return Ok(Vec::new());
    }
    let bands = group_bands(dir, &windows)?;
    let counts = source.counts(&windows)?;
    let samples = source.samples();
    // Every window is checked before the first file is written.
    let mut figures = Vec::new();
    for (k, ((window, bands), counts)) in windows.iter().zip(bands).zip(counts).enumerate() {
        let group_of = |g: &str| bands.iter().position(|b| b.name == g);
        let mut per_sample: Vec<RegionSample> = samples
            .iter()
            .map(|(name, group)| RegionSample {
                name: name.clone(),
                group: group_of(group),
                ..Default::default()
            })
            .collect();
        for c in counts {
            let s = &mut per_sample[c.sample];
            s.pos.push(c.pos as f64);
            s.methylated.push(c.methylated);
            s.total.push(c.total);
        }
        let shaded: Vec<(f64, f64)> = dmrs
            .iter()
            .filter(|r| r.chr == window.chr && r.start <= window.end && window.start <= r.end)
            .map(|r| {
                (
                    r.start.max(window.start) as f64,
                    r.end.min(window.end) as f64,
                )
            })
            .collect();
        let cpgs = bands.first().map_or(0, |b| b.pos.len());
        if cpgs == 0 && per_sample.iter().all(|s| s.pos.is_empty()) {
            return Err(UserError(format!(
                "--region {}:{}-{}: no CpG of the run lies there",
                window.chr, window.start, window.end
            ))
            .into());
        }
        let fig = RegionPlot {
            title: format!(
                "{}:{}-{}: {cpgs} CpGs, {} called region(s) shaded",
                window.chr,
                window.start,
                window.end,
                shaded.len()
            ),
            chr: window.chr.clone(),
            view: (window.start as f64, window.end as f64),
            shaded,
            samples: per_sample,
            groups: bands,
        };
        let stem = format!(
            "region-{}-{}_{}-{}",
            k + 1,
            file_safe(&window.chr),
            window.start,
            window.end
        );
        figures.push((figure_path(out, &stem, format), fig));
    }
    let mut files = Vec::new();
    for (path, fig) in figures {
        crate::plot::render(&path, &crate::plot::Figure::Region(&fig))?;
        files.push(path);
    }
    Ok(files)
}

/// A chromosome name as part of a file name: letters, digits, '.', '-' and '_' kept.
fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

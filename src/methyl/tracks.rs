//! Genome-browser tracks of a `methyl` run (`export`, `methyl --export`): BED of the called
//! loci and regions and bedGraph of every site's difference, each level's mean and a design's
//! tested coefficient, in UCSC's conventions (0-based half-open intervals, one track line per
//! file) so that IGV and the UCSC browser open them; each bedGraph also as bigWig, the indexed
//! binary form genome browsers load remotely. Formats: docs/outputs.md.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use arrow::array::{Array, Float64Array, Int64Array, StringArray};
use arrow::record_batch::RecordBatch;
use bigtools::bed::bedparser::BedValueError;
use bigtools::beddata::BedParserStreamingIterator;
use bigtools::{BigWigWrite, Value};

use crate::error::UserError;
use crate::io::atomic::atomic_write;
use crate::io::parquet_file::open_parquet;
use crate::io::parquet_file::stream_columns;

/// Threads that compress a bigWig's sections: a track is written in seconds either way.
const BIGWIG_THREADS: usize = 2;
/// The colour of a call whose difference is up (more methylated in the second group): red.
const UP_RGB: &str = "178,24,43";
/// ... and down: blue (ColorBrewer's RdBu ends, told apart by most colour-blind readers).
const DOWN_RGB: &str = "33,102,172";

/// Where `export` reads a run and writes its tracks.
#[derive(Debug, Clone)]
pub struct TrackConfig {
    /// The run's output directory (sites.parquet, dml.parquet, dmr.parquet).
    pub dir: PathBuf,
    /// Where the tracks go (`DIR/browser` by default).
    pub out: PathBuf,
}

fn typed<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> Result<&'a T> {
    match batch
        .column_by_name(name)
        .map(|c| c.as_any().downcast_ref::<T>())
    {
        Some(Some(array)) => Ok(array),
        _ => bail!("column {name} is missing or of another type"),
    }
}

/// Writes `path` whole or not at all, with a track line first.
fn write_track(
    path: &Path,
    track: &str,
    rows: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    atomic_write(path, |file| {
        let mut w = BufWriter::new(file);
        writeln!(w, "{track}")?;
        rows(&mut w)?;
        w.flush()?;
        Ok(())
    })
}

/// A BED9 line: the interval, the difference as its name, the probability (0 to 1000) as
/// its score, no strand, and the direction as its colour.
fn bed_line(w: &mut dyn Write, chr: &str, start: i64, end: i64, delta: f64, p: f64) -> Result<()> {
    let rgb = if delta > 0.0 { UP_RGB } else { DOWN_RGB };
    let score = (1000.0 * p).round().clamp(0.0, 1000.0) as i64;
    writeln!(
        w,
        "{chr}\t{start}\t{end}\t{delta:+.3}\t{score}\t.\t{start}\t{end}\t{rgb}"
    )?;
    Ok(())
}

/// The tracks of the run in `config.dir`, written to `config.out`; their paths.
pub fn write_tracks(config: &TrackConfig) -> Result<Vec<PathBuf>> {
    let (dir, out) = (&config.dir, &config.out);
    let sites_path = dir.join("sites.parquet");
    if !sites_path.exists() {
        return Err(UserError(format!(
            "{}: no sites.parquet: not a methyl output directory{}",
            dir.display(),
            crate::io::manifest::sharded_hint(dir)
        ))
        .into());
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let name = dir.file_name().map_or_else(
        || "betagibbs".to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut written = Vec::new();

    // The calls: loci, then regions (1-based first and last CpG, as BED's start - 1 and end).
    for (file, parquet, [first, last, p], what) in [
        ("dml.bed", "dml.parquet", ["pos", "pos", "p_dm"], "DMLs"),
        (
            "dmr.bed",
            "dmr.parquet",
            ["start", "end", "p_region"],
            "DMRs",
        ),
    ] {
        let path = out.join(file);
        let track = format!(
            "track name=\"{name} {what}\" description=\"{name}: {what}; score 1000 P(|delta| > d), red up, blue down\" itemRgb=\"On\""
        );
        let columns = ["chr", first, last, "delta_mean", p];
        let rows = stream_columns(&dir.join(parquet), &columns)?;
        write_track(&path, &track, |w| {
            for b in rows {
                let b = &b?;
                let chr = typed::<StringArray>(b, "chr")?;
                let (start, end) = (
                    typed::<Int64Array>(b, first)?,
                    typed::<Int64Array>(b, last)?,
                );
                let delta = typed::<Float64Array>(b, "delta_mean")?;
                let p = typed::<Float64Array>(b, p)?;
                for i in 0..b.num_rows() {
                    let (s, e) = (start.value(i) - 1, end.value(i));
                    bed_line(w, chr.value(i), s, e, delta.value(i), p.value(i))?;
                }
            }
            Ok(())
        })?;
        written.push(path);
    }

    // Every site: the difference, each level's mean and a design's coefficient.
    let file = File::open(&sites_path)?;
    let columns: Vec<String> = open_parquet(file, &sites_path.display().to_string())?
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let mut signals: Vec<(String, String)> = vec![("delta_mean".into(), "delta".into())];
    for c in &columns {
        if let Some(level) = c.strip_prefix("mu_").and_then(|c| c.strip_suffix("_mean")) {
            signals.push((c.clone(), format!("mu_{level}")));
        } else if c.ends_with("_mean") && c != "delta_mean" {
            // A design's tested coefficient, logit scale.
            signals.push((c.clone(), c.trim_end_matches("_mean").to_string()));
        }
    }
    let sizes = chromosome_sizes(&sites_path)?;
    for (column, file_stem) in signals {
        let path = out.join(format!("{file_stem}.bw"));
        write_bigwig(&path, &sites_path, &column, &sizes)?;
        written.push(path);
        let path = out.join(format!("{file_stem}.bedGraph"));
        let track = format!(
            "track type=bedGraph name=\"{name} {file_stem}\" description=\"{name}: posterior mean of {column} per CpG\" visibility=full autoScale=on"
        );
        let rows = stream_columns(&sites_path, &["chr", "pos", &column])?;
        write_track(&path, &track, |w| {
            for b in rows {
                let b = &b?;
                let (chr, pos) = (
                    typed::<StringArray>(b, "chr")?,
                    typed::<Int64Array>(b, "pos")?,
                );
                let value = typed::<Float64Array>(b, &column)?;
                for i in 0..b.num_rows() {
                    if value.is_valid(i) && value.value(i).is_finite() {
                        let p = pos.value(i);
                        writeln!(w, "{}\t{}\t{p}\t{:.4}", chr.value(i), p - 1, value.value(i))?;
                    }
                }
            }
            Ok(())
        })?;
        written.push(path);
    }
    Ok(written)
}

/// Each chromosome's size for a bigWig's header: its last site's position (the sites'
/// 0-based half-open ends; the genome's true lengths are not known to a run).
fn chromosome_sizes(sites: &Path) -> Result<HashMap<String, u32>> {
    let mut sizes: HashMap<String, u32> = HashMap::new();
    for b in stream_columns(sites, &["chr", "pos"])? {
        let b = &b?;
        let (chr, pos) = (
            typed::<StringArray>(b, "chr")?,
            typed::<Int64Array>(b, "pos")?,
        );
        for i in 0..b.num_rows() {
            let end = u32::try_from(pos.value(i))
                .with_context(|| format!("position {} beyond bigWig's 32 bits", pos.value(i)))?;
            let size = sizes.entry(chr.value(i).to_string()).or_default();
            *size = (*size).max(end);
        }
    }
    Ok(sizes)
}

/// `column` of every site as a bigWig (UCSC's binary, indexed form of a bedGraph, with
/// zoom levels), written by the bigtools crate, whole or not at all.
fn write_bigwig(
    path: &Path,
    sites: &Path,
    column: &str,
    sizes: &HashMap<String, u32>,
) -> Result<()> {
    let batches = stream_columns(sites, &["chr", "pos", column])?;
    let column = column.to_string();
    // Each batch's values in order, a failed read ending the stream with its error.
    let values = batches.flat_map(move |b| -> Vec<Result<(String, Value), BedValueError>> {
        let rows = || -> Result<Vec<(String, Value)>> {
            let b = &b?;
            let (chr, pos) = (
                typed::<StringArray>(b, "chr")?,
                typed::<Int64Array>(b, "pos")?,
            );
            let value = typed::<Float64Array>(b, &column)?;
            Ok((0..b.num_rows())
                .filter(|&i| value.is_valid(i) && value.value(i).is_finite())
                .map(|i| {
                    let p = pos.value(i) as u32;
                    let v = Value {
                        start: p - 1,
                        end: p,
                        value: value.value(i) as f32,
                    };
                    (chr.value(i).to_string(), v)
                })
                .collect())
        };
        match rows() {
            Ok(rows) => rows.into_iter().map(Ok).collect(),
            Err(e) => vec![Err(BedValueError::InvalidInput(e.to_string()))],
        }
    });
    // The run's chromosome order need not be sorted: bigtools sorts the index itself.
    let data = BedParserStreamingIterator::wrap_iter(values, true);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(BIGWIG_THREADS)
        .build()
        .context("starting the bigWig writer")?;
    atomic_write(path, |file| {
        let writer = BigWigWrite::new(file.try_clone()?, sizes.clone());
        writer
            .write(data, runtime)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    })
}

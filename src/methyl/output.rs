//! The methylation outputs: `sites.parquet` (one row per site, written chunk by chunk),
//! then the calls: `dml.parquet` (differentially methylated loci at a Bayesian FDR) and
//! `dmr.parquet` (regions called at a region-level Bayesian FDR, `regions`).

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use arrow::array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use rayon::prelude::*;

use crate::io::atomic::atomic_write;
use crate::io::cpu_time::CoreClock;
use crate::io::parallel_parquet::ParallelParquetWriter;
use crate::io::parquet_file::open_parquet;
use crate::io::write::writer_properties;
use crate::methyl::fit::SiteSummary;
use crate::methyl::regions::CandidateRegion;

/// Schema versions in the footer's `betagibbs.schema`.
pub use crate::io::write::{DML_SCHEMA, DMR_SCHEMA, SITES_SCHEMA};

/// Columns per group: `mu_<group>_mean`, `_sd`, `_q2_5`, `_q97_5`.
const MU_COLUMNS: [&str; 4] = ["mean", "sd", "q2_5", "q97_5"];

pub(crate) fn sites_schema(groups: &[String], coef: Option<&str>) -> SchemaRef {
    let mut fields = vec![
        Field::new("chr", DataType::Utf8, false),
        Field::new("pos", DataType::Int64, false),
        Field::new("n_samples", DataType::Int32, false),
        Field::new("coverage_total", DataType::Int64, false),
        Field::new("coverage_min", DataType::Int32, false),
    ];
    for g in groups {
        for c in MU_COLUMNS {
            fields.push(Field::new(format!("mu_{g}_{c}"), DataType::Float64, false));
        }
    }
    // A design's tested coefficient, on the logit scale.
    for c in coef
        .iter()
        .flat_map(|name| MU_COLUMNS.map(|c| format!("{name}_{c}")))
    {
        fields.push(Field::new(c, DataType::Float64, false));
    }
    for c in [
        "delta_mean",
        "delta_sd",
        "delta_q2_5",
        "delta_q97_5",
        "p_delta_above",
        "p_delta_below",
        "p_dm",
        "p_differ",
    ] {
        fields.push(Field::new(c, DataType::Float64, false));
    }
    fields.push(Field::new("r_hat", DataType::Float64, true));
    fields.push(Field::new("ess_bulk", DataType::Float64, true));
    Arc::new(Schema::new(fields))
}

/// A column of sites.parquet, in `sites_schema`'s order: what each holds of a site's summary.
#[derive(Debug, Clone, Copy)]
enum SitesColumn {
    Chr,
    Pos,
    NSamples,
    CoverageTotal,
    CoverageMin,
    /// Group g's mu: mean, sd, 2.5% and 97.5% (k = 0..4).
    Mu(usize, usize),
    Coef(usize),
    Delta(usize),
    PAbove,
    PBelow,
    PDm,
    PDiffer,
    RHat,
    EssBulk,
}

impl SitesColumn {
    /// Every column of a chunk whose rows have `n_groups` mus and a coefficient or not.
    fn all(n_groups: usize, coef: bool) -> Vec<SitesColumn> {
        use SitesColumn::*;
        let mut columns = vec![Chr, Pos, NSamples, CoverageTotal, CoverageMin];
        columns.extend((0..n_groups).flat_map(|g| (0..4).map(move |k| Mu(g, k))));
        if coef {
            columns.extend((0..4).map(Coef));
        }
        columns.extend((0..4).map(Delta));
        columns.extend([PAbove, PBelow, PDm, PDiffer, RHat, EssBulk]);
        columns
    }

    fn array(self, chromosomes: &[String], rows: &[SiteSummary]) -> ArrayRef {
        use SitesColumn::*;
        let f64s = |f: &dyn Fn(&SiteSummary) -> f64| -> ArrayRef {
            Arc::new(Float64Array::from_iter_values(rows.iter().map(f)))
        };
        match self {
            Chr => Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| chromosomes[r.chr as usize].as_str()),
            )),
            Pos => Arc::new(Int64Array::from_iter_values(
                rows.iter().map(|r| r.pos as i64),
            )),
            NSamples => Arc::new(Int32Array::from_iter_values(
                rows.iter().map(|r| r.n_samples as i32),
            )),
            CoverageTotal => Arc::new(Int64Array::from_iter_values(
                rows.iter().map(|r| r.coverage_total as i64),
            )),
            CoverageMin => Arc::new(Int32Array::from_iter_values(
                rows.iter().map(|r| r.coverage_min as i32),
            )),
            Mu(g, k) => f64s(&|r| r.mu[g][k]),
            Coef(k) => f64s(&|r| r.coef.map_or(f64::NAN, |c| c[k])),
            Delta(k) => f64s(&|r| r.delta[k]),
            PAbove => f64s(&|r| r.p_above),
            PBelow => f64s(&|r| r.p_below),
            PDm => f64s(&|r| r.p_above + r.p_below),
            PDiffer => f64s(&|r| r.p_differ),
            RHat => f64s(&|r| r.r_hat),
            EssBulk => f64s(&|r| r.ess_bulk),
        }
    }
}

/// One chunk's rows as a record batch, its columns built on rayon's threads (at genome scale
/// one thread building two dozen columns bounded stage 2's writer), each timed on `clock`.
pub(crate) fn sites_batch(
    schema: &SchemaRef,
    chromosomes: &[String],
    rows: &[SiteSummary],
    clock: &CoreClock,
) -> Result<RecordBatch> {
    if rows.is_empty() {
        return Ok(RecordBatch::new_empty(schema.clone()));
    }
    let first = &rows[0];
    let columns: Vec<ArrayRef> = SitesColumn::all(first.mu.len(), first.coef.is_some())
        .into_par_iter()
        .map(|column| clock.time(|| column.array(chromosomes, rows)))
        .collect();
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

/// Streams chunks of rows into a Parquet file, one row group per chunk: their record
/// batches made by `SitesBatches` (on one thread), appended by `append` (on another).
pub(crate) struct SitesWriter<'f> {
    /// Its columns encoded in parallel: one thread writes sites.parquet at genome scale.
    writer: ParallelParquetWriter<&'f mut File>,
    /// The rows with P(DM) >= DML_CANDIDATE_P, kept aside for the calls.
    candidates: Option<ParallelParquetWriter<&'f mut File>>,
    schema: SchemaRef,
    /// The CPU time of building and filtering the columns on rayon's threads.
    parallel: Arc<CoreClock>,
}

/// Chunks of rows as sites.parquet's record batches, for `SitesWriter::append`.
pub(crate) struct SitesBatches {
    schema: SchemaRef,
    parallel: Arc<CoreClock>,
}

impl SitesBatches {
    /// `rows` as a record batch, its columns built on rayon's threads.
    pub fn batch(&self, chromosomes: &[String], rows: &[SiteSummary]) -> Result<RecordBatch> {
        sites_batch(&self.schema, chromosomes, rows, &self.parallel)
    }
}

/// Sites whose P(DM) reaches this are also written to the DML candidates as the chunks
/// stream, so that the calls read them, not all of sites.parquet again; a threshold below it
/// (more than one false call in ten already expected there) falls back to sites.parquet.
pub(crate) const DML_CANDIDATE_P: f64 = 0.5;
/// The DML candidates' file in a run's directory, removed once the calls are written.
pub(crate) const DML_CANDIDATES_FILE: &str = ".dml_candidates.parquet";

impl<'f> SitesWriter<'f> {
    /// A writer of sites.parquet into `file`, and of the DML candidates into `candidates`.
    pub fn new(
        file: &'f mut File,
        candidates: Option<&'f mut File>,
        groups: &[String],
        coef: Option<&str>,
        metadata: &[(String, String)],
    ) -> Result<Self> {
        let schema = sites_schema(groups, coef);
        let props = writer_properties(SITES_SCHEMA, &["chr"], None, metadata)?;
        let candidates = match candidates {
            Some(file) => {
                let props =
                    writer_properties(DML_SCHEMA, &["chr"], Some(CALLS_ROW_GROUP_ROWS), metadata)?;
                Some(ParallelParquetWriter::try_new(file, schema.clone(), props)?)
            }
            None => None,
        };
        Ok(SitesWriter {
            writer: ParallelParquetWriter::try_new(file, schema.clone(), props)?,
            candidates,
            schema,
            parallel: Arc::default(),
        })
    }

    /// The maker of this file's record batches, to hand another thread.
    pub fn batches(&self) -> SitesBatches {
        SitesBatches {
            schema: self.schema.clone(),
            parallel: self.parallel.clone(),
        }
    }

    /// A chunk's rows (from `SitesBatches::batch`) as a row group, and its DML candidates.
    pub fn append(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        // A row group per chunk.
        self.writer.write(batch)?;
        self.writer.flush()?;
        if let Some(candidates) = &mut self.candidates {
            let keep = called_mask(batch, DML_CANDIDATE_P)?;
            if keep.true_count() > 0 {
                // Each column filtered on its own thread (`called_rows` filters them in turn).
                let columns = batch
                    .columns()
                    .par_iter()
                    .map(|column| self.parallel.time(|| arrow::compute::filter(column, &keep)))
                    .collect::<Result<Vec<_>, _>>()?;
                candidates.write(&RecordBatch::try_new(self.schema.clone(), columns)?)?;
            }
        }
        Ok(())
    }

    /// CPU seconds its columns' encoding took on rayon's threads so far (the calling thread's
    /// own work is on its own clock).
    pub(crate) fn parallel_core_seconds(&self) -> f64 {
        self.parallel.seconds()
            + self.writer.encoding_core_seconds()
            + self
                .candidates
                .as_ref()
                .map_or(0.0, |c| c.encoding_core_seconds())
    }

    pub(crate) fn finish(self) -> Result<()> {
        self.writer.close()?;
        if let Some(candidates) = self.candidates {
            candidates.close()?;
        }
        Ok(())
    }
}

/// Bins of the histogram of P(DM) that sets the Bayesian FDR threshold in bounded memory.
const FDR_BINS: usize = 10_000;
/// Rows per row group of dml.parquet and dmr.parquet: one chunk's worth, so memory stays
/// bounded on a genome with millions of calls.
const CALLS_ROW_GROUP_ROWS: usize = 1 << 16;

/// Posterior probabilities of differential methylation, binned: enough to choose the
/// Bayesian FDR threshold (Müller, Parmigiani & Rice 2006) for any number of sites. Every
/// field merges exactly (integer sums and minima), so shards' histograms merged in any
/// order give the whole run's threshold bit for bit.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FdrHistogram {
    pub(crate) count: Vec<u64>,
    /// Σ (1 - p) per bin in units of MASS_UNIT: the expected false discoveries if the bin is
    /// called.
    pub(crate) false_mass: Vec<u64>,
    /// The smallest p per bin: the threshold that calls exactly the bins above it, as the
    /// binning is monotone in p (a bin edge could fall between a p and its rounded bin).
    pub(crate) min_p: Vec<f64>,
}

/// The fixed point of `FdrHistogram::false_mass`: 2^-32, so a bin holds 4e9 sites at mass 1
/// and each site's 1 - p is off by at most 1.2e-10.
const MASS_UNIT: f64 = 1.0 / 4_294_967_296.0;

impl Default for FdrHistogram {
    fn default() -> Self {
        FdrHistogram {
            count: vec![0; FDR_BINS],
            false_mass: vec![0; FDR_BINS],
            min_p: vec![f64::INFINITY; FDR_BINS],
        }
    }
}

impl FdrHistogram {
    pub fn add(&mut self, p: f64) {
        let bin = ((p * FDR_BINS as f64) as usize).min(FDR_BINS - 1);
        self.count[bin] += 1;
        self.false_mass[bin] += ((1.0 - p) / MASS_UNIT).round() as u64;
        self.min_p[bin] = self.min_p[bin].min(p);
    }

    /// Adds another histogram's sites (a shard's).
    pub fn merge(&mut self, other: &FdrHistogram) {
        for bin in 0..FDR_BINS {
            self.count[bin] += other.count[bin];
            self.false_mass[bin] += other.false_mass[bin];
            self.min_p[bin] = self.min_p[bin].min(other.min_p[bin]);
        }
    }

    /// The smallest threshold t (a P(DM) that occurs) such that calling every site with
    /// P(DM) >= t has expected FDR = mean(1 - p) <= `fdr`; with it the number called and that FDR.
    pub fn threshold(&self, fdr: f64) -> (f64, u64, f64) {
        let (mut n, mut mass) = (0u64, 0u128);
        let mut best = (1.0 + f64::EPSILON, 0, 0.0);
        for bin in (0..FDR_BINS).rev() {
            if self.count[bin] == 0 {
                continue; // the threshold sits at the lowest called bin, not in a gap
            }
            n += self.count[bin];
            mass += u128::from(self.false_mass[bin]);
            let expected = mass as f64 * MASS_UNIT / n as f64;
            if expected <= fdr {
                best = (self.min_p[bin], n, expected);
            } else {
                break;
            }
        }
        best
    }
}

/// Second pass: read sites.parquet and write the loci at or above `threshold` to `dml`,
/// row group by row group (memory stays bounded however many calls). Returns how many.
pub(crate) fn write_calls(
    sites: &Path,
    dml: &Path,
    threshold: f64,
    metadata: &[(String, String)],
) -> Result<u64> {
    let file = File::open(sites).with_context(|| format!("reading {}", sites.display()))?;
    let builder = open_parquet(file, &sites.display().to_string())?;
    let schema = builder.schema().clone();
    let reader = builder.build()?;
    let mut n_dml = 0u64;
    atomic_write(dml, |file| {
        let props = writer_properties(DML_SCHEMA, &["chr"], Some(CALLS_ROW_GROUP_ROWS), metadata)?;
        let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(props))?;
        for batch in reader {
            let batch = batch?;
            let kept = called_rows(&batch, threshold)?;
            n_dml += kept.num_rows() as u64;
            if kept.num_rows() > 0 {
                writer.write(&kept)?;
            }
        }
        writer.close()?;
        Ok(())
    })?;
    Ok(n_dml)
}

/// Which rows of a batch of sites have a P(DM) that reaches `threshold`.
fn called_mask(batch: &RecordBatch, threshold: f64) -> Result<BooleanArray> {
    let p = column::<Float64Array>(batch, "p_dm")?;
    Ok(BooleanArray::from_iter(
        (0..p.len()).map(|i| Some(p.value(i) >= threshold)),
    ))
}

/// The rows of a batch of sites whose P(DM) reaches `threshold`: its DMLs.
fn called_rows(batch: &RecordBatch, threshold: f64) -> Result<RecordBatch> {
    let keep = called_mask(batch, threshold)?;
    Ok(arrow::compute::filter_record_batch(batch, &keep)?)
}

/// Schema tag of a Hive partition's file of a sharded run's sites (`DIR/sites/chr=<chr>/`):
/// sites.parquet's columns without `chr`, which is the partition's.
pub const SITES_PARTITION_SCHEMA: &str = "methylation-sites-partition/2";

/// Where joined shards' sites go: a Hive partition file per shard (`methyl call`), or one
/// sites.parquet (a resumed run).
pub(crate) enum JoinedSites<'a> {
    Partitions(&'a [std::path::PathBuf]),
    One(&'a Path),
}

/// One pass over the shards' sites.parquet files, in the order given: their rows to `into`
/// (a partition's file without its `chr` column), and the loci at or above `threshold` to
/// `dml`. Returns how many loci were called.
pub(crate) fn join_sites_and_calls(
    parts: &[std::path::PathBuf],
    into: JoinedSites,
    dml: &Path,
    threshold: f64,
    metadata: &[(String, String)],
) -> Result<u64> {
    let mut n_dml = 0u64;
    let first = parts.first().context("no shard to join")?;
    let file = File::open(first).with_context(|| format!("reading {}", first.display()))?;
    let schema = open_parquet(file, &first.display().to_string())?
        .schema()
        .clone();
    let chr = schema.index_of("chr")?;
    let without: Vec<usize> = (0..schema.fields().len()).filter(|&i| i != chr).collect();
    // Each shard's batches, checked to be of the first one's schema, to `sink`.
    let each_batch = |sites: &Path, sink: &mut dyn FnMut(&RecordBatch) -> Result<()>| {
        let file = File::open(sites).with_context(|| format!("reading {}", sites.display()))?;
        let builder = open_parquet(file, &sites.display().to_string())?;
        if builder.schema().fields() != schema.fields() {
            anyhow::bail!(
                "{}: its columns differ from {}'s: shards of one study only",
                sites.display(),
                first.display()
            );
        }
        for batch in builder.build()? {
            sink(&batch?)?;
        }
        Ok(())
    };
    atomic_write(dml, |dml_file| {
        let props = writer_properties(DML_SCHEMA, &["chr"], Some(CALLS_ROW_GROUP_ROWS), metadata)?;
        let mut dml_writer = ArrowWriter::try_new(dml_file, schema.clone(), Some(props))?;
        let mut call = |batch: &RecordBatch| -> Result<()> {
            let kept = called_rows(batch, threshold)?;
            n_dml += kept.num_rows() as u64;
            if kept.num_rows() > 0 {
                dml_writer.write(&kept)?;
            }
            Ok(())
        };
        match into {
            JoinedSites::Partitions(files) => {
                let part_schema = Arc::new(schema.project(&without)?);
                for (sites, partition) in parts.iter().zip(files) {
                    if let Some(dir) = partition.parent() {
                        std::fs::create_dir_all(dir)
                            .with_context(|| format!("creating {}", dir.display()))?;
                    }
                    atomic_write(partition, |part_file| {
                        let props = writer_properties(SITES_PARTITION_SCHEMA, &[], None, metadata)?;
                        let mut writer =
                            ArrowWriter::try_new(part_file, part_schema.clone(), Some(props))?;
                        each_batch(sites, &mut |batch| {
                            writer.write(&batch.project(&without)?)?;
                            writer.flush()?;
                            call(batch)
                        })?;
                        writer.close()?;
                        Ok(())
                    })?;
                }
            }
            JoinedSites::One(path) => atomic_write(path, |file| {
                let props = writer_properties(SITES_SCHEMA, &["chr"], None, metadata)?;
                let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(props))?;
                for sites in parts {
                    each_batch(sites, &mut |batch| {
                        writer.write(batch)?;
                        writer.flush()?;
                        call(batch)
                    })?;
                }
                writer.close()?;
                Ok(())
            })?,
        }
        dml_writer.close()?;
        Ok(())
    })?;
    Ok(n_dml)
}

/// dmr.parquet: the called regions, in genome order, in row groups of CALLS_ROW_GROUP_ROWS.
pub(crate) fn write_regions(
    path: &Path,
    regions: &[CandidateRegion],
    metadata: &[(String, String)],
) -> Result<()> {
    write_regions_as(path, DMR_SCHEMA, regions, metadata)
}

/// Regions in dmr.parquet's layout under the schema tag `schema` (a shard's candidates too).
pub(crate) fn write_regions_as(
    path: &Path,
    schema: &str,
    regions: &[CandidateRegion],
    metadata: &[(String, String)],
) -> Result<()> {
    atomic_write(path, |file| {
        let props = writer_properties(schema, &["chr"], Some(CALLS_ROW_GROUP_ROWS), metadata)?;
        let mut writer = ArrowWriter::try_new(file, dmr_schema(), Some(props))?;
        for rows in regions.chunks(CALLS_ROW_GROUP_ROWS) {
            writer.write(&dmr_batch(rows)?)?;
        }
        writer.close()?;
        Ok(())
    })
}

fn dmr_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("chr", DataType::Utf8, false),
        Field::new("start", DataType::Int64, false),
        Field::new("end", DataType::Int64, false),
        Field::new("n_cpgs", DataType::Int32, false),
        Field::new("delta_mean", DataType::Float64, false),
        Field::new("p_region", DataType::Float64, false),
    ]))
}

fn dmr_batch(rows: &[CandidateRegion]) -> Result<RecordBatch> {
    Ok(RecordBatch::try_new(
        dmr_schema(),
        vec![
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r.chr.as_str()),
            )),
            Arc::new(Int64Array::from_iter_values(
                rows.iter().map(|r| r.start as i64),
            )),
            Arc::new(Int64Array::from_iter_values(
                rows.iter().map(|r| r.end as i64),
            )),
            Arc::new(Int32Array::from_iter_values(
                rows.iter().map(|r| r.n_cpgs as i32),
            )),
            Arc::new(Float64Array::from_iter_values(
                rows.iter().map(|r| r.delta_mean),
            )),
            Arc::new(Float64Array::from_iter_values(
                rows.iter().map(|r| r.p_region),
            )),
        ],
    )?)
}

fn column<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> Result<&'a T> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .with_context(|| format!("column {name} missing or of the wrong type"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fdr_threshold_calls_the_largest_set_within_the_target() {
        let mut h = FdrHistogram::default();
        for p in [0.999, 0.99, 0.98, 0.9, 0.5, 0.1] {
            h.add(p);
        }
        // Called in decreasing p: mean(1 - p) = 0.001, 0.0055, 0.0103, 0.0328, 0.1262, ...
        let (t, n, fdr) = h.threshold(0.05);
        assert_eq!(n, 4);
        assert!(
            (t - 0.9).abs() < 1e-3 && (fdr - 0.0328).abs() < 1e-3,
            "{t} {fdr}"
        );
        assert_eq!(h.threshold(0.0001).1, 0);
    }

    /// P(DM) from 200 draws sits on multiples of 1/200, some a rounding below a bin edge
    /// (0.69 * 10,000 = 6899.999...): calling p >= threshold calls exactly the counted sites.
    #[test]
    fn fdr_threshold_calls_what_the_histogram_counted() {
        let mut ps: Vec<f64> = (0..4000)
            .map(|i| ((i * 37) % 201) as f64 / 400.0 + ((i * 11) % 201) as f64 / 400.0)
            .collect();
        // The edge case itself: bin 6900 called, and 0.69 (in bin 6899) must not be.
        ps.extend(
            [1.0; 3000]
                .iter()
                .chain(&[0.690_05; 40])
                .chain(&[0.69; 400]),
        );
        for target in [0.01, 0.05, 0.1, 0.2] {
            let mut h = FdrHistogram::default();
            ps.iter().for_each(|&p| h.add(p));
            let (t, n, fdr) = h.threshold(target);
            let called: Vec<f64> = ps.iter().copied().filter(|&p| p >= t).collect();
            assert_eq!(called.len() as u64, n, "target {target}");
            if n == 0 {
                continue;
            }
            let mean = called.iter().map(|p| 1.0 - p).sum::<f64>() / called.len() as f64;
            assert!(
                (mean - fdr).abs() < 1e-9 && mean <= target + 1e-12,
                "{mean} {fdr}"
            );
        }
    }
}

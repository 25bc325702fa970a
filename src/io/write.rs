//! Parquet outputs (posterior draws, their summary and small tables), written atomically,
//! with the writer properties and schema tags they share.

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Result};
use arrow::array::{ArrayRef, DictionaryArray, Float64Array, Int32Array, StringArray};
use arrow::datatypes::{DataType, Field, Int32Type, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use crate::io::atomic::atomic_write;
use crate::mcmc::diagnostics::Summary;

/// Rows per draws row group: ~20 MB uncompressed, large enough for fast scans yet small
/// enough that a reader filtering one parameter skips most groups by their statistics.
pub(crate) const DRAWS_ROW_GROUP_ROWS: usize = 1 << 20;
/// Rows per RecordBatch while streaming draws: bounds memory and divides the row-group size.
const DRAWS_BATCH_ROWS: usize = 1 << 16;
/// zstd's fastest level. sites.parquet is written on stage 2's one writer thread, serial at
/// genome scale: against zstd's default 3, writing took 0.7 rather than 1.0 core-µs per site
/// for a 13% larger sites.parquet (200,000-site 2 x 2), and draws.parquet grew 4% (rats, 64
/// chains): posterior draws are high-entropy floats that no level shrinks much.
const ZSTD_LEVEL: i32 = 1;
/// Footer key naming the layout of the file, so readers can detect format changes.
pub const SCHEMA_KEY: &str = "betagibbs.schema";
pub const DRAWS_SCHEMA: &str = "draws/1";
pub const SUMMARY_SCHEMA: &str = "summary/1";
/// A methyl run's dml.parquet: here, below both methyl (which writes it) and plot (which
/// reads it for the volcano plot).
pub const DML_SCHEMA: &str = "methylation-dml/1";
/// Schema tags of methyl's sites.parquet and dmr.parquet, read by methyl and plot alike.
pub const SITES_SCHEMA: &str = "methylation-sites/2";
pub const DMR_SCHEMA: &str = "methylation-dmr/2";

/// Post-warm-up draws in memory: values[(param * n_chains + chain) * n_draws + draw].
pub struct DrawsTable<'a> {
    pub parameter_names: &'a [String],
    pub n_chains: usize,
    pub n_draws: usize,
    pub values: &'a [f64],
}

/// One line of the posterior summary.
#[derive(Debug, Clone)]
pub struct SummaryRow {
    pub parameter: String,
    pub summary: Summary,
}

/// ZSTD, page statistics, dictionary encoding only where it pays, and the footer metadata.
pub(crate) fn writer_properties(
    schema_version: &str,
    dictionary_columns: &[&str],
    max_row_group_rows: Option<usize>,
    metadata: &[(String, String)],
) -> Result<WriterProperties> {
    let mut kv: Vec<KeyValue> = metadata
        .iter()
        .filter(|(k, _)| k != SCHEMA_KEY)
        .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
        .collect();
    kv.push(KeyValue::new(
        SCHEMA_KEY.to_string(),
        schema_version.to_string(),
    ));
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(ZSTD_LEVEL)?))
        .set_statistics_enabled(EnabledStatistics::Page)
        // Float draws are all distinct: a dictionary would only be built and abandoned.
        .set_dictionary_enabled(false)
        .set_max_row_group_row_count(max_row_group_rows)
        .set_key_value_metadata(Some(kv));
    for column in dictionary_columns {
        builder = builder.set_column_dictionary_enabled(ColumnPath::from(*column), true);
    }
    Ok(builder.build())
}

fn draws_schema() -> SchemaRef {
    let parameter = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    Arc::new(Schema::new(vec![
        Field::new("chain", DataType::Int32, false),
        Field::new("draw", DataType::Int32, false),
        Field::new("parameter", parameter, false),
        Field::new("value", DataType::Float64, false),
    ]))
}

/// Writes draws.parquet in long format, parameter-major, streaming fixed-size batches.
pub fn write_draws(path: &Path, table: &DrawsTable, metadata: &[(String, String)]) -> Result<()> {
    let DrawsTable {
        parameter_names,
        n_chains,
        n_draws,
        values,
    } = *table;
    let rows_per_param = n_chains * n_draws;
    if values.len() != parameter_names.len() * rows_per_param {
        bail!(
            "draws table holds {} values but {} parameters x {n_chains} chains x {n_draws} draws need {}",
            values.len(),
            parameter_names.len(),
            parameter_names.len() * rows_per_param
        );
    }
    write_draws_by_param(path, parameter_names, n_chains, n_draws, metadata, |p| {
        Ok(std::borrow::Cow::Borrowed(
            &values[p * rows_per_param..(p + 1) * rows_per_param],
        ))
    })
}

/// draws.parquet from each parameter's draws in turn, chain-major (value of chain c, draw d
/// at `c * n_draws + d`): the rows come out parameter-major, as `write_draws` writes them,
/// while only one parameter's draws need be in memory (a large run's spill gives them one at
/// a time).
pub fn write_draws_by_param<'a>(
    path: &Path,
    parameter_names: &[String],
    n_chains: usize,
    n_draws: usize,
    metadata: &[(String, String)],
    mut draws: impl FnMut(usize) -> Result<std::borrow::Cow<'a, [f64]>>,
) -> Result<()> {
    for (what, count) in [
        ("chains", n_chains),
        ("draws", n_draws),
        ("parameters", parameter_names.len()),
    ] {
        if i32::try_from(count).is_err() {
            bail!("{count} {what} do not fit the Int32 columns of draws.parquet");
        }
    }
    let rows_per_param = n_chains * n_draws;
    let schema = draws_schema();
    // chain and draw count up in runs: delta encoding stores them in a few bits without the
    // dictionary's hash per row. The draws' bytes split by significance compress by a fifth
    // more, in a third less time, than interleaved (measured on 64 rat chains x 1,000 draws).
    let props = writer_properties(
        DRAWS_SCHEMA,
        &["parameter"],
        Some(DRAWS_ROW_GROUP_ROWS),
        metadata,
    )?
    .into_builder()
    .set_column_encoding(ColumnPath::from("chain"), Encoding::DELTA_BINARY_PACKED)
    .set_column_encoding(ColumnPath::from("draw"), Encoding::DELTA_BINARY_PACKED)
    .set_column_encoding(ColumnPath::from("value"), Encoding::BYTE_STREAM_SPLIT)
    .build();
    // One shared dictionary of all names; each batch's keys index into it.
    let names: ArrayRef = Arc::new(StringArray::from_iter_values(parameter_names));

    atomic_write(path, |file| {
        let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(props))?;
        for p in 0..parameter_names.len() {
            let values = draws(p)?;
            if values.len() != rows_per_param {
                bail!(
                    "{}: {} draws of parameter {p}, not {n_chains} chains x {n_draws}",
                    path.display(),
                    values.len()
                );
            }
            for start in (0..rows_per_param).step_by(DRAWS_BATCH_ROWS) {
                let end = (start + DRAWS_BATCH_ROWS).min(rows_per_param);
                let chain: Vec<i32> = (start..end).map(|r| (r / n_draws + 1) as i32).collect();
                let draw: Vec<i32> = (start..end).map(|r| (r % n_draws + 1) as i32).collect();
                let keys = Int32Array::from(vec![p as i32; end - start]);
                let parameter = DictionaryArray::<Int32Type>::try_new(keys, names.clone())?;
                let batch = RecordBatch::try_new(
                    schema.clone(),
                    vec![
                        Arc::new(Int32Array::from(chain)),
                        Arc::new(Int32Array::from(draw)),
                        Arc::new(parameter),
                        Arc::new(Float64Array::from(values[start..end].to_vec())),
                    ],
                )?;
                writer.write(&batch)?;
            }
        }
        writer.close()?;
        Ok(())
    })
}

const SUMMARY_COLUMNS: [&str; 12] = [
    "mean",
    "sd",
    "q2_5",
    "median",
    "q97_5",
    "hdi_low",
    "hdi_high",
    "p_positive",
    "mcse_mean",
    "ess_bulk",
    "ess_tail",
    "r_hat",
];

/// The statistics in SUMMARY_COLUMNS order.
fn summary_values(s: &Summary) -> [f64; 12] {
    [
        s.mean,
        s.sd,
        s.q2_5,
        s.median,
        s.q97_5,
        s.hdi_low,
        s.hdi_high,
        s.p_positive,
        s.mcse_mean,
        s.ess_bulk,
        s.ess_tail,
        s.r_hat,
    ]
}

/// Writes summary.parquet: `parameter` then the statistics of SUMMARY_COLUMNS (NaN where undefined).
pub fn write_summary(
    path: &Path,
    rows: &[SummaryRow],
    metadata: &[(String, String)],
) -> Result<()> {
    let mut fields = vec![Field::new("parameter", DataType::Utf8, false)];
    fields.extend(
        SUMMARY_COLUMNS
            .iter()
            .map(|name| Field::new(*name, DataType::Float64, false)),
    );
    let schema = Arc::new(Schema::new(fields));
    let mut columns: Vec<ArrayRef> = vec![Arc::new(StringArray::from_iter_values(
        rows.iter().map(|r| r.parameter.as_str()),
    ))];
    for k in 0..SUMMARY_COLUMNS.len() {
        columns.push(Arc::new(Float64Array::from_iter_values(
            rows.iter().map(|r| summary_values(&r.summary)[k]),
        )));
    }
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    let props = writer_properties(SUMMARY_SCHEMA, &["parameter"], None, metadata)?;
    atomic_write(path, |file| {
        let mut writer = ArrowWriter::try_new(file, schema, Some(props))?;
        writer.write(&batch)?;
        writer.close()?;
        Ok(())
    })
}

/// A small table (one RecordBatch): text columns, then integer columns, then float
/// columns, under the footer key SCHEMA_KEY = `schema_version` (observations/1, comparison/1, ...).
pub(crate) struct SmallTable<'a> {
    pub schema_version: &'a str,
    pub text: Vec<(&'a str, Vec<String>)>,
    pub integers: Vec<(&'a str, Vec<i64>)>,
    pub floats: Vec<(&'a str, Vec<f64>)>,
}

/// Writes a `SmallTable`, text columns dictionary-encoded, atomically.
pub(crate) fn write_small_table(
    path: &Path,
    table: &SmallTable,
    metadata: &[(String, String)],
) -> Result<()> {
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (name, values) in &table.text {
        fields.push(Field::new(*name, DataType::Utf8, false));
        columns.push(Arc::new(StringArray::from_iter_values(values)));
    }
    for (name, values) in &table.integers {
        fields.push(Field::new(*name, DataType::Int64, false));
        columns.push(Arc::new(arrow::array::Int64Array::from(values.clone())));
    }
    for (name, values) in &table.floats {
        fields.push(Field::new(*name, DataType::Float64, true));
        columns.push(Arc::new(Float64Array::from_iter(
            values.iter().map(|v| (!v.is_nan()).then_some(*v)),
        )));
    }
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    let text_names: Vec<&str> = table.text.iter().map(|(n, _)| *n).collect();
    let props = writer_properties(table.schema_version, &text_names, None, metadata)?;
    atomic_write(path, |file| {
        let mut writer = ArrowWriter::try_new(file, schema, Some(props))?;
        writer.write(&batch)?;
        writer.close()?;
        Ok(())
    })
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Summary rows for the tests of the writers and of the printed table.

    use super::SummaryRow;
    use crate::mcmc::diagnostics::Summary;

    /// A row named `parameter` whose summary is `summary(mean)`.
    pub(crate) fn row(parameter: &str, mean: f64) -> SummaryRow {
        SummaryRow {
            parameter: parameter.into(),
            summary: summary(mean),
        }
    }

    pub(crate) fn summary(mean: f64) -> Summary {
        Summary {
            mean,
            sd: 0.25,
            q2_5: -1.0,
            median: mean,
            q97_5: 2.0,
            mcse_mean: 0.001,
            hdi_low: -0.9,
            hdi_high: 2.1,
            p_positive: 0.75,
            ess_bulk: 1234.4,
            ess_tail: f64::NAN,
            r_hat: 1.0012,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::row;
    use super::*;
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{Float64Type, Int32Type as I32};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use parquet::file::metadata::ParquetMetaData;
    use std::fs::File;

    fn meta() -> Vec<(String, String)> {
        vec![
            ("betagibbs.version".into(), "0.1.0".into()),
            ("betagibbs.seed".into(), "42".into()),
        ]
    }

    fn assert_footer(md: &ParquetMetaData, schema: &str) {
        let kv = md
            .file_metadata()
            .key_value_metadata()
            .expect("footer metadata");
        let get = |k: &str| kv.iter().find(|e| e.key == k).and_then(|e| e.value.clone());
        assert_eq!(get(SCHEMA_KEY).as_deref(), Some(schema));
        assert_eq!(get("betagibbs.seed").as_deref(), Some("42"));
        assert_eq!(get("betagibbs.version").as_deref(), Some("0.1.0"));
        for rg in md.row_groups() {
            for col in rg.columns() {
                assert!(
                    matches!(col.compression(), Compression::ZSTD(_)),
                    "{:?}",
                    col.compression()
                );
            }
        }
    }

    #[test]
    fn draws_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("draws.parquet");
        let names = vec!["mu".to_string(), "theta[a,1]".to_string()];
        let (n_chains, n_draws) = (3, 4);
        let values: Vec<f64> = (0..names.len() * n_chains * n_draws)
            .map(|r| r as f64 * 0.5)
            .collect();
        let table = DrawsTable {
            parameter_names: &names,
            n_chains,
            n_draws,
            values: &values,
        };
        write_draws(&path, &table, &meta()).unwrap();

        let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap()).unwrap();
        assert_footer(builder.metadata(), DRAWS_SCHEMA);
        let schema = builder.schema().clone();
        let types: Vec<(&str, &DataType, bool)> = schema
            .fields()
            .iter()
            .map(|f| (f.name().as_str(), f.data_type(), f.is_nullable()))
            .collect();
        let dict = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        assert_eq!(
            types,
            [
                ("chain", &DataType::Int32, false),
                ("draw", &DataType::Int32, false),
                ("parameter", &dict, false),
                ("value", &DataType::Float64, false),
            ]
        );
        let mut r = 0;
        for batch in builder.build().unwrap() {
            let batch = batch.unwrap();
            let chain = batch.column(0).as_primitive::<I32>();
            let draw = batch.column(1).as_primitive::<I32>();
            let param = batch.column(2).as_dictionary::<I32>();
            let param_names = param.values().as_string::<i32>();
            let value = batch.column(3).as_primitive::<Float64Type>();
            for i in 0..batch.num_rows() {
                let p = r / (n_chains * n_draws);
                assert_eq!(chain.value(i) as usize, (r / n_draws) % n_chains + 1);
                assert_eq!(draw.value(i) as usize, r % n_draws + 1);
                let key = param.keys().value(i) as usize;
                assert_eq!(param_names.value(key), names[p]);
                assert_eq!(value.value(i), r as f64 * 0.5);
                r += 1;
            }
        }
        assert_eq!(r, values.len());
    }

    #[test]
    fn draws_split_into_row_groups_by_parameter_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.parquet");
        let names = vec!["a".to_string(), "b".to_string()];
        let (n_chains, n_draws) = (2, 300_000);
        let values = vec![1.0; names.len() * n_chains * n_draws];
        let table = DrawsTable {
            parameter_names: &names,
            n_chains,
            n_draws,
            values: &values,
        };
        write_draws(&path, &table, &[]).unwrap();
        let file = File::open(&path).unwrap();
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        let sizes: Vec<i64> = builder
            .metadata()
            .row_groups()
            .iter()
            .map(|g| g.num_rows())
            .collect();
        assert_eq!(
            sizes,
            [
                DRAWS_ROW_GROUP_ROWS as i64,
                (values.len() - DRAWS_ROW_GROUP_ROWS) as i64
            ]
        );
        let first_stats = builder
            .metadata()
            .row_group(0)
            .column(2)
            .statistics()
            .unwrap();
        assert!(first_stats.min_bytes_opt().is_some());
    }

    #[test]
    fn draws_shape_mismatch_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("draws.parquet");
        let names = vec!["mu".to_string()];
        let table = DrawsTable {
            parameter_names: &names,
            n_chains: 2,
            n_draws: 2,
            values: &[1.0; 3],
        };
        assert!(write_draws(&path, &table, &[]).is_err());
        assert!(!path.exists());
    }

    #[test]
    fn summary_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.parquet");
        let rows = vec![row("mu", 0.5), row("kappa", 12.0)];
        write_summary(&path, &rows, &meta()).unwrap();
        let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap()).unwrap();
        assert_footer(builder.metadata(), SUMMARY_SCHEMA);
        let schema = builder.schema().clone();
        assert_eq!(schema.field(0).name(), "parameter");
        assert_eq!(schema.field(0).data_type(), &DataType::Utf8);
        for (i, name) in SUMMARY_COLUMNS.iter().enumerate() {
            let f = schema.field(i + 1);
            assert_eq!(
                (f.name().as_str(), f.data_type(), f.is_nullable()),
                (*name, &DataType::Float64, false)
            );
        }
        let batches: Vec<RecordBatch> = builder.build().unwrap().map(|b| b.unwrap()).collect();
        assert_eq!(batches.len(), 1);
        let b = &batches[0];
        assert_eq!(b.column(0).as_string::<i32>().value(1), "kappa");
        assert_eq!(b.column(1).as_primitive::<Float64Type>().value(1), 12.0);
        assert!(b.column(11).as_primitive::<Float64Type>().value(0).is_nan());
        assert_eq!(b.column(12).as_primitive::<Float64Type>().value(0), 1.0012);
        assert_eq!(b.column(12).null_count(), 0);
    }
}

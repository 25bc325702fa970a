//! A Parquet writer that encodes each row group's columns in parallel: sites.parquet is
//! written by one thread of stage 2's pipeline, and at genome scale encoding and compressing
//! its two dozen columns one after another bounded that thread. The file is the one
//! `ArrowWriter` writes (the same encoders, row groups and footer); only the work is spread.

use std::io::Write;

use anyhow::Result;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use parquet::arrow::arrow_writer::{compute_leaves, ArrowColumnChunk, ArrowRowGroupWriterFactory};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use rayon::prelude::*;

use crate::io::cpu_time::CoreClock;

/// Writes record batches as row groups, their columns encoded on rayon's threads. As
/// `ArrowWriter`: rows wait until they fill a row group of the properties' row count, or until
/// `flush` or `close`.
pub(crate) struct ParallelParquetWriter<W: Write + Send> {
    writer: SerializedFileWriter<W>,
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    row_groups: usize,
    max_rows: usize,
    /// The rows of the next row group so far, in order (slices of the batches written).
    pending: Vec<RecordBatch>,
    pending_rows: usize,
    /// The CPU time of the column encoding on rayon's threads (the caller's own is its own;
    /// called from a thread outside rayon's pool, the two do not overlap).
    encoding: CoreClock,
}

impl<W: Write + Send> ParallelParquetWriter<W> {
    /// A writer of `schema`, which must be flat (no nested columns): each column is then one
    /// leaf, and a column's levels are computed with its encoding, on its thread.
    pub(crate) fn try_new(out: W, schema: SchemaRef, props: WriterProperties) -> Result<Self> {
        if let Some(nested) = schema.fields().iter().find(|f| f.data_type().is_nested()) {
            anyhow::bail!(
                "the parallel Parquet writer takes flat schemas; column {} is nested",
                nested.name()
            );
        }
        let max_rows = props.max_row_group_row_count().unwrap_or(usize::MAX);
        // ArrowWriter sets up the file (the Arrow schema in the footer, the Parquet schema).
        let (writer, factory) =
            ArrowWriter::try_new(out, schema.clone(), Some(props))?.into_serialized_writer()?;
        Ok(ParallelParquetWriter {
            writer,
            factory,
            schema,
            row_groups: 0,
            max_rows: max_rows.max(1),
            pending: Vec::new(),
            pending_rows: 0,
            encoding: CoreClock::default(),
        })
    }

    /// `batch`'s rows: each row group they fill is written, the rest wait.
    pub(crate) fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let mut offset = 0;
        while offset < batch.num_rows() {
            let rows = (self.max_rows - self.pending_rows).min(batch.num_rows() - offset);
            self.pending.push(batch.slice(offset, rows));
            self.pending_rows += rows;
            offset += rows;
            if self.pending_rows == self.max_rows {
                self.flush()?;
            }
        }
        Ok(())
    }

    /// The waiting rows as a row group, if there are any.
    pub(crate) fn flush(&mut self) -> Result<()> {
        if self.pending_rows == 0 {
            return Ok(());
        }
        let batches = std::mem::take(&mut self.pending);
        self.pending_rows = 0;
        let writers = self.factory.create_column_writers(self.row_groups)?;
        // A flat schema: one writer per field, each field's column its one leaf per batch.
        let chunks: Vec<ArrowColumnChunk> = writers
            .into_par_iter()
            .zip(self.schema.fields().par_iter())
            .enumerate()
            .map(|(c, (mut writer, field))| {
                self.encoding.time(|| {
                    for batch in &batches {
                        for leaf in compute_leaves(field, batch.column(c))? {
                            writer.write(&leaf)?;
                        }
                    }
                    writer.close()
                })
            })
            .collect::<parquet::errors::Result<_>>()?;
        let mut row_group = self.writer.next_row_group()?;
        for chunk in chunks {
            chunk.append_to_row_group(&mut row_group)?;
        }
        row_group.close()?;
        self.row_groups += 1;
        Ok(())
    }

    /// CPU seconds the columns' encoding took on rayon's threads so far.
    pub(crate) fn encoding_core_seconds(&self) -> f64 {
        self.encoding.seconds()
    }

    /// The waiting rows, the footer, and the file's end.
    pub(crate) fn close(mut self) -> Result<()> {
        self.flush()?;
        self.writer.close()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Float64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;
    use crate::io::write::writer_properties;

    /// The same bytes as ArrowWriter's: a row group per batch (each flushed), or past the
    /// properties' row count, as many as ArrowWriter makes; and rows left to wait for full
    /// row groups, as ArrowWriter leaves them.
    #[test]
    fn the_file_is_arrow_writers() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("chr", DataType::Utf8, false),
            Field::new("x", DataType::Float64, false),
            Field::new("y", DataType::Float64, true),
        ]));
        let batch = |n: usize, k: usize| {
            let chr: ArrayRef = Arc::new(StringArray::from_iter_values(
                (0..n).map(|i| format!("chr{}", (i + k) / 300)),
            ));
            let x: ArrayRef = Arc::new(Float64Array::from_iter_values(
                (0..n).map(|i| ((i * 7919 + k) % 1000) as f64 / 7.0),
            ));
            let y: ArrayRef = Arc::new(Float64Array::from_iter(
                (0..n).map(|i| (i % 5 != 0).then_some(i as f64)),
            ));
            RecordBatch::try_new(schema.clone(), vec![chr, x, y]).unwrap()
        };
        let metadata = [("betagibbs.test".to_string(), "1".to_string())];
        for (max_rows, flush) in [(None, true), (Some(700), true), (Some(700), false)] {
            let props = || writer_properties("test/1", &["chr"], max_rows, &metadata).unwrap();
            let batches = [batch(1000, 0), batch(1500, 3), batch(10, 9), batch(400, 1)];
            let mut plain = Vec::new();
            let mut writer =
                ArrowWriter::try_new(&mut plain, schema.clone(), Some(props())).unwrap();
            for b in &batches {
                writer.write(b).unwrap();
                if flush {
                    writer.flush().unwrap();
                }
            }
            writer.close().unwrap();
            let mut parallel = Vec::new();
            let mut writer =
                ParallelParquetWriter::try_new(&mut parallel, schema.clone(), props()).unwrap();
            for b in &batches {
                writer.write(b).unwrap();
                if flush {
                    writer.flush().unwrap();
                }
            }
            writer.close().unwrap();
            assert!(
                plain == parallel,
                "max rows {max_rows:?}, flushed {flush}: the files differ"
            );
        }
    }

    /// A nested column would be several leaves per field: refused, not written wrongly.
    #[test]
    fn a_nested_schema_is_refused() {
        let list = DataType::List(Arc::new(Field::new("item", DataType::Float64, true)));
        let schema = Arc::new(Schema::new(vec![Field::new("x", list, false)]));
        let props = writer_properties("test/1", &[], None, &[]).unwrap();
        let err = ParallelParquetWriter::try_new(Vec::new(), schema, props)
            .err()
            .expect("refused");
        assert!(err.to_string().contains("column x is nested"), "{err}");
    }
}

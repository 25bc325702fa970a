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

/// Writes record batches as row groups, their columns encoded on rayon's threads.
pub(crate) struct ParallelParquetWriter<W: Write + Send> {
    writer: SerializedFileWriter<W>,
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    row_groups: usize,
    max_rows: usize,
}

impl<W: Write + Send> ParallelParquetWriter<W> {
    pub(crate) fn try_new(out: W, schema: SchemaRef, props: WriterProperties) -> Result<Self> {
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
        })
    }

    /// `batch` as one row group, or as several of at most the properties' row count.
    pub(crate) fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let mut offset = 0;
        while offset < batch.num_rows() {
            let rows = self.max_rows.min(batch.num_rows() - offset);
            self.write_row_group(&batch.slice(offset, rows))?;
            offset += rows;
        }
        Ok(())
    }

    fn write_row_group(&mut self, batch: &RecordBatch) -> Result<()> {
        let writers = self.factory.create_column_writers(self.row_groups)?;
        let mut leaves = Vec::with_capacity(writers.len());
        for (field, column) in self.schema.fields().iter().zip(batch.columns()) {
            leaves.extend(compute_leaves(field, column)?);
        }
        let chunks: Vec<ArrowColumnChunk> = writers
            .into_par_iter()
            .zip(leaves)
            .map(|(mut writer, leaf)| {
                writer.write(&leaf)?;
                writer.close()
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

    /// The footer, and the file's end.
    pub(crate) fn close(self) -> Result<()> {
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

    /// The same bytes as ArrowWriter's, one row group per batch or, past the properties'
    /// row count, as many as ArrowWriter makes.
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
        for max_rows in [None, Some(700)] {
            let props = || writer_properties("test/1", &["chr"], max_rows, &metadata).unwrap();
            let batches = [batch(1000, 0), batch(1500, 3), batch(10, 9)];
            let mut plain = Vec::new();
            let mut writer =
                ArrowWriter::try_new(&mut plain, schema.clone(), Some(props())).unwrap();
            for b in &batches {
                writer.write(b).unwrap();
                writer.flush().unwrap();
            }
            writer.close().unwrap();
            let mut parallel = Vec::new();
            let mut writer =
                ParallelParquetWriter::try_new(&mut parallel, schema.clone(), props()).unwrap();
            for b in &batches {
                writer.write(b).unwrap();
            }
            writer.close().unwrap();
            assert!(plain == parallel, "max rows {max_rows:?}: the files differ");
        }
    }
}

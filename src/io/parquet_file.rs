//! Opening a Parquet file to read, for the count reader and the read-back of our outputs:
//! the reader builder, the one message for a file that is not readable Parquet, and the
//! schema's column names.

use std::fs::File;
use std::path::Path;

use anyhow::{Context, Result};
use arrow::record_batch::RecordBatch;

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::metadata::ParquetMetaData;

use crate::error::UserError;

/// Rows per streamed batch: a few MB of the columns a reader asks for.
const BATCH_ROWS: usize = 65_536;

/// The first (and last) four bytes of every Parquet file.
pub(crate) const PARQUET_MAGIC: [u8; 4] = *b"PAR1";

/// `source` (the file as the user named it) is not a Parquet file we can read: why, in `e`.
pub(crate) fn unreadable(source: &str, e: impl std::fmt::Display) -> UserError {
    UserError(format!("{source}: not a readable Parquet file: {e}"))
}

/// The reader builder of an open Parquet file; a damaged or foreign file is a user error.
pub(crate) fn open_parquet(
    file: File,
    source: &str,
) -> Result<ParquetRecordBatchReaderBuilder<File>, UserError> {
    let length = file.metadata().map_err(|e| unreadable(source, e))?.len();
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| unreadable(source, e))?;
    check_chunks(builder.metadata(), length).map_err(|e| unreadable(source, e))?;
    Ok(builder)
}

/// Every column chunk's bytes within the file. The footer says where they are; the parquet
/// crate asserts (panics) on a negative offset or size when it reads them, so a damaged
/// footer is refused here first (a fuzzed mutant found it).
fn check_chunks(metadata: &ParquetMetaData, file_length: u64) -> Result<(), String> {
    for (r, group) in metadata.row_groups().iter().enumerate() {
        for (c, chunk) in group.columns().iter().enumerate() {
            let start = chunk
                .dictionary_page_offset()
                .unwrap_or(chunk.data_page_offset());
            let length = chunk.compressed_size();
            let end = u64::try_from(start)
                .ok()
                .zip(u64::try_from(length).ok())
                .and_then(|(s, l)| s.checked_add(l));
            if end.is_none_or(|end| end > file_length) {
                return Err(format!(
                    "row group {r}, column {c}: its {length} bytes at {start} lie outside the file's {file_length}"
                ));
            }
        }
    }
    Ok(())
}

/// The schema's top-level column names, in order.
pub(crate) fn column_names(builder: &ParquetRecordBatchReaderBuilder<File>) -> Vec<String> {
    builder
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

/// The record batches of one Parquet file, `columns` alone, streamed in batches of
/// BATCH_ROWS: a genome's sites.parquet is read without holding it.
pub(crate) fn stream_columns(
    path: &Path,
    columns: &[&str],
) -> Result<impl Iterator<Item = Result<RecordBatch>>> {
    let file = File::open(path).map_err(|e| UserError(format!("{}: {e}", path.display())))?;
    let builder = open_parquet(file, &path.display().to_string())?;
    let schema = builder.parquet_schema();
    let indices: Vec<usize> = columns
        .iter()
        .map(|c| {
            (0..schema.num_columns())
                .find(|&i| schema.column(i).name() == *c)
                .ok_or_else(|| {
                    UserError(format!(
                        "{}: no column {c}: not a methyl output (run `betagibbs methyl` first)",
                        path.display()
                    ))
                })
        })
        .collect::<Result<_, _>>()?;
    let mask = parquet::arrow::ProjectionMask::leaves(schema, indices);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(BATCH_ROWS)
        .build()?;
    let shown = path.display().to_string();
    Ok(reader.map(move |b| b.with_context(|| format!("reading {shown}"))))
}

//! Opening a Parquet file to read, for the count reader and the read-back of our outputs:
//! the reader builder, the one message for a file that is not readable Parquet, and the
//! schema's column names.

use std::fs::File;

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::UserError;

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
    ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| unreadable(source, e))
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

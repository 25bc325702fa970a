//! Where a command's counts come from: a file the user named, or a table built into the binary.

use std::path::PathBuf;

use crate::app::embedded::Embedded;
use crate::error::UserError;
use crate::io::read::{read_dataset, ColumnSpec, Dataset};

/// Where `sample`, `demo` and `compare` read their counts.
#[derive(Debug, Clone)]
pub enum DataSource {
    /// A CSV, TSV or Parquet file.
    File(PathBuf),
    /// A table built into the binary.
    Embedded(Embedded),
}

impl DataSource {
    /// The file, when the counts come from one.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            DataSource::File(path) => Some(path),
            DataSource::Embedded(_) => None,
        }
    }

    /// The data set, read with `columns` and validated (an embedded table has its own columns).
    pub fn dataset(&self, columns: &ColumnSpec) -> Result<Dataset, UserError> {
        match self {
            DataSource::File(path) => read_dataset(path, columns),
            DataSource::Embedded(data) => Ok(data.dataset()),
        }
    }
}

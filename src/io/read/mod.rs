//! Reading the user's binomial counts from CSV, TSV or Parquet into a validated [`Dataset`].
//!
//! Every problem with the input becomes an [`UserError`] whose one-line message names the
//! file, where in it (line for delimited text, row for Parquet) and the column.
//!
//! By job: format sniffing and dispatch here; [`ColumnSpec`] and the column lookup
//! (`columns`); one observation as read (`rows`); a cell's checks and messages (`cells`);
//! rows into a [`Dataset`] (`assemble`), with `--aggregate-by` (`aggregate`) and `--group`
//! nesting (`groups`); the input's fingerprint (`sha256`); the two formats' parsers
//! (`delimited`, `parquet`).

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::error::UserError;
use crate::io::parquet_file::PARQUET_MAGIC;
pub use crate::mcmc::dataset::Dataset;

mod aggregate;
mod assemble;
mod cells;
mod columns;
mod delimited;
mod design_rows;
mod groups;
mod parquet;
mod rows;
mod sha256;
#[cfg(test)]
mod test_support;
mod text_table;

// `self::` because the `parquet` crate has the same name.
use self::parquet::parse_parquet;
pub use columns::ColumnSpec;
pub use delimited::parse_delimited;
pub use design_rows::{design_rows, DesignRows};
pub use sha256::sha256_hex;
pub use text_table::{read_text_table, TextTable};

/// How a file's bytes are read.
pub(super) enum Format {
    Delimited(u8),
    Parquet,
}

/// A file's handle, bytes and format, chosen by extension or, failing that, by content.
pub(super) fn load(path: &Path) -> Result<(File, Vec<u8>, Format), UserError> {
    let source = path.display().to_string();
    let cannot_read = |e: std::io::Error| UserError(format!("{source}: cannot read file: {e}"));
    let mut file = File::open(path).map_err(cannot_read)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(cannot_read)?;
    if bytes.is_empty() {
        return Err(UserError(format!("{source}: file is empty")));
    }
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let format = match ext.as_str() {
        "csv" => Format::Delimited(b','),
        "tsv" | "tab" | "txt" => Format::Delimited(b'\t'),
        "parquet" | "pq" => Format::Parquet,
        _ if bytes.starts_with(&PARQUET_MAGIC) => Format::Parquet,
        _ => {
            let header = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
            Format::Delimited(if header.contains(&b'\t') { b'\t' } else { b',' })
        }
    };
    Ok((file, bytes, format))
}

/// Reads a CSV, TSV or Parquet file, chosen by extension or, failing that, by content.
pub fn read_dataset(path: &Path, cols: &ColumnSpec) -> Result<Dataset, UserError> {
    let source = path.display().to_string();
    match load(path)? {
        (_, bytes, Format::Delimited(d)) => parse_delimited(&bytes, &source, d, cols),
        // Re-use the open handle so the bytes hashed are the bytes parsed.
        (file, bytes, Format::Parquet) => parse_parquet(file, &source, sha256_hex(&bytes), cols),
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{fails, spec};
    use super::*;

    #[test]
    fn tsv_and_sniffing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("counts.dat");
        std::fs::write(&path, "y\tn\n1\t2\n").unwrap();
        let d = read_dataset(&path, &spec(None, None)).unwrap();
        assert_eq!((d.successes[0], d.trials[0]), (1, 2));
        assert_eq!(d.source, path.display().to_string());
        let path = dir.path().join("counts.tsv");
        std::fs::write(&path, "y\tn\n4\t5\n").unwrap();
        assert_eq!(read_dataset(&path, &spec(None, None)).unwrap().trials, [5]);
    }

    #[test]
    fn file_level_problems() {
        let c = spec(None, None);
        fails("", &c, &["data.csv: file is empty"]);
        fails("\u{feff}\n\n", &c, &["data.csv: file is empty"]);
        fails("y,n\n", &c, &["data.csv: no data rows"]);
        fails(
            "y,k\n1,2\n",
            &c,
            &["data.csv:1: trials column 'n' not found", "'y', 'k'"],
        );
        fails(
            "y,n,y\n1,2,3\n",
            &c,
            &["data.csv:1: column name 'y' appears twice (columns 1 and 3)"],
        );
        fails(
            "y,n\n1,2\n1,2,3\n",
            &c,
            &["data.csv:3: row has 3 fields but the header has 2"],
        );
        let missing = Path::new("/nonexistent/dir/rats.csv");
        let err = read_dataset(missing, &c).unwrap_err().0;
        assert!(
            err.starts_with("/nonexistent/dir/rats.csv: cannot read file: "),
            "{err}"
        );
        assert!(err.contains("os error"), "{err}");
    }
}

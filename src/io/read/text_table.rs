//! The whole table as text cells, each row with its physical line (delimited) or 1-based
//! row (Parquet): what `sample --design` hands the design builder.

use std::fs::File;
use std::path::Path;

use arrow::array::Array;
use arrow::util::display::array_value_to_string;

use super::delimited::{check_width, io_error, open, Opened};
use super::{load, sha256_hex, Format};
use crate::error::UserError;
use crate::io::parquet_file::{column_names, open_parquet, unreadable};

/// Every cell of a table as text.
#[derive(Debug, Clone)]
pub struct TextTable {
    pub source: String,
    pub sha256: String,
    pub names: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Each row's physical line (delimited text) or 1-based data row (Parquet).
    pub lines: Vec<usize>,
    /// Whether `lines` are Parquet rows, which messages call rows, not lines.
    pub parquet: bool,
}

/// Reads a CSV, TSV or Parquet file as text, chosen as `read_dataset` chooses.
pub fn read_text_table(path: &Path) -> Result<TextTable, UserError> {
    let source = path.display().to_string();
    let (file, bytes, format) = load(path)?;
    let sha256 = sha256_hex(&bytes);
    let (names, rows, lines) = match format {
        Format::Delimited(d) => delimited_cells(&bytes, &source, d)?,
        Format::Parquet => parquet_cells(file, &source)?,
    };
    if rows.is_empty() {
        return Err(UserError(format!("{source}: no data rows")));
    }
    Ok(TextTable {
        source,
        sha256,
        names,
        rows,
        lines,
        parquet: matches!(format, Format::Parquet),
    })
}

type Cells = (Vec<String>, Vec<Vec<String>>, Vec<usize>);

fn delimited_cells(bytes: &[u8], source: &str, delimiter: u8) -> Result<Cells, UserError> {
    let Opened {
        mut reader,
        mut lines,
        mut record,
        names,
        ..
    } = open(bytes, source, delimiter)?;
    let (mut rows, mut at) = (Vec::new(), Vec::new());
    while reader
        .read_byte_record(&mut record)
        .map_err(|e| io_error(source, e))?
    {
        let line = lines.line_of(&record);
        check_width(source, line, &record, &names)?;
        let cells = record
            .iter()
            .enumerate()
            .map(|(j, raw)| {
                std::str::from_utf8(raw).map(str::to_string).map_err(|_| {
                    UserError(format!(
                        "{source}:{line}:{}: column '{}': value is not valid UTF-8",
                        j + 1,
                        names[j].escape_debug()
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        rows.push(cells);
        at.push(line as usize);
    }
    Ok((names, rows, at))
}

/// Parquet cells as Arrow displays them; a null is an empty cell.
fn parquet_cells(file: File, source: &str) -> Result<Cells, UserError> {
    let builder = open_parquet(file, source)?;
    let names = column_names(&builder);
    let reader = builder.build().map_err(|e| unreadable(source, e))?;
    let (mut rows, mut at) = (Vec::new(), Vec::new());
    for batch in reader {
        let batch = batch.map_err(|e| unreadable(source, e))?;
        for i in 0..batch.num_rows() {
            let cells = batch
                .columns()
                .iter()
                .map(|a| {
                    if a.is_null(i) {
                        Ok(String::new())
                    } else {
                        array_value_to_string(a, i).map_err(|e| unreadable(source, e))
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            rows.push(cells);
            at.push(rows.len());
        }
    }
    Ok((names, rows, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_and_lines_of_a_csv() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, ",id,g\n1,a,\"x\ny\"\n\n2,b,z\n").unwrap();
        let t = read_text_table(&path).unwrap();
        assert_eq!(t.names, ["", "id", "g"]);
        assert_eq!(t.rows[1], ["2", "b", "z"]);
        assert_eq!(t.lines, [2, 5]);
        assert!(!t.parquet);
    }
}

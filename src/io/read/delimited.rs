//! Delimited text (CSV or TSV): [`parse_delimited`] and the physical line numbers in its errors.

use super::assemble::assemble;
use super::cells::{cell_error, check_pair, count_cell, non_empty};
use super::columns::{resolve_columns, Col, ColumnSpec};
use super::rows::{Loc, RawObs};
use super::{sha256_hex, Dataset};
use crate::error::UserError;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
/// Bytes looked at for signs of a binary file: text tables never hold a NUL byte.
const BINARY_SNIFF_BYTES: usize = 8192;
const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];

/// A binary file named as a table is refused before a byte of it reaches a message.
fn refuse_binary(text: &[u8], source: &str) -> Result<(), UserError> {
    if text.starts_with(GZIP_MAGIC) {
        return Err(UserError(format!(
            "{source}: is gzip-compressed; decompress it first (gunzip), or give a Parquet file"
        )));
    }
    match text.iter().take(BINARY_SNIFF_BYTES).position(|&b| b == 0) {
        Some(offset) => Err(UserError(format!(
            "{source}: not a CSV, TSV or Parquet file: it holds binary data (a NUL byte at offset {offset})"
        ))),
        None => Ok(()),
    }
}

/// Parses delimited text (CSV or TSV); also used for data embedded in the binary.
pub fn parse_delimited(
    bytes: &[u8],
    source: &str,
    delimiter: u8,
    cols: &ColumnSpec,
) -> Result<Dataset, UserError> {
    let sha256 = sha256_hex(bytes);
    let Opened {
        mut reader,
        mut lines,
        mut record,
        header_line,
        names,
    } = open(bytes, source, delimiter)?;
    let io_error = |e: csv::Error| io_error(source, e);
    let lay = resolve_columns(&format!("{source}:{header_line}"), &names, cols)?;

    let field = |record: &csv::ByteRecord, line: u64, col: &Col| -> Result<String, UserError> {
        let raw = record.get(col.number - 1).unwrap_or_default();
        std::str::from_utf8(raw)
            .map(str::to_string)
            .map_err(|_| cell_error(source, Loc::Line(line), col, "value is not valid UTF-8"))
    };
    let count = |record: &csv::ByteRecord, line: u64, col: &Col| -> Result<u32, UserError> {
        count_cell(source, Loc::Line(line), col, &field(record, line, col)?)
    };

    let mut rows = Vec::new();
    while reader.read_byte_record(&mut record).map_err(io_error)? {
        let line = lines.line_of(&record);
        check_width(source, line, &record, &names)?;
        let loc = Loc::Line(line);
        let y = count(&record, line, &lay.y)?;
        let n = count(&record, line, &lay.n)?;
        check_pair(source, loc, &lay, y, n)?;
        let unit = match &lay.unit {
            Some(c) => non_empty(source, loc, c, field(&record, line, c)?, "unit label")?,
            None => String::new(),
        };
        let id = match &lay.id {
            Some(c) => Some(non_empty(source, loc, c, field(&record, line, c)?, "id")?),
            None => None,
        };
        let groups = lay
            .groups
            .iter()
            .map(|c| non_empty(source, loc, c, field(&record, line, c)?, "group label"))
            .collect::<Result<_, _>>()?;
        rows.push(RawObs {
            unit,
            groups,
            id,
            y,
            n,
            loc,
        });
    }
    if rows.is_empty() {
        return Err(UserError(format!(
            "{source}: no data rows (the file holds only a header)"
        )));
    }
    assemble(source.to_string(), sha256, rows, &lay)
}

/// A delimited file opened and its header read: the reader, the line counter, the header's
/// line and its names.
pub(super) struct Opened<'a> {
    pub(super) reader: csv::Reader<&'a [u8]>,
    pub(super) lines: LineCounter<'a>,
    pub(super) record: csv::ByteRecord,
    pub(super) header_line: u64,
    pub(super) names: Vec<String>,
}

pub(super) fn io_error(source: &str, e: csv::Error) -> UserError {
    UserError(format!("{source}: cannot parse: {e}"))
}

/// Refuses binary and empty files, then reads the header.
pub(super) fn open<'a>(
    bytes: &'a [u8],
    source: &str,
    delimiter: u8,
) -> Result<Opened<'a>, UserError> {
    let text = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    refuse_binary(text, source)?;
    if text.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(UserError(format!("{source}: file is empty")));
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false) // read the header ourselves to know its line
        .flexible(true) // field-count mismatches get our own message
        .trim(csv::Trim::All)
        .from_reader(text);
    let mut record = csv::ByteRecord::new();
    if !reader
        .read_byte_record(&mut record)
        .map_err(|e| io_error(source, e))?
    {
        return Err(UserError(format!("{source}: file is empty")));
    }
    let mut lines = LineCounter {
        text,
        pos: 0,
        line: 1,
    };
    let header_line = lines.line_of(&record);
    let names: Vec<String> = record
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    Ok(Opened {
        reader,
        lines,
        record,
        header_line,
        names,
    })
}

/// Physical line numbers from byte offsets: the csv crate's own line count drifts on
/// blank lines and CRLF endings. Records come in order, so counting is incremental.
pub(super) struct LineCounter<'a> {
    text: &'a [u8],
    pos: usize,
    line: u64,
}

impl LineCounter<'_> {
    pub(super) fn line_of(&mut self, record: &csv::ByteRecord) -> u64 {
        let mut start = record.position().map_or(self.pos, |p| p.byte() as usize);
        // The reported offset precedes any skipped blank lines; a record never starts with one.
        while matches!(self.text.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        let end = start.min(self.text.len());
        for i in self.pos..end {
            // Same terminators as the csv crate: \n, \r\n, or a lone \r.
            match self.text[i] {
                b'\n' => self.line += 1,
                b'\r' if self.text.get(i + 1) != Some(&b'\n') => self.line += 1,
                _ => {}
            }
        }
        self.pos = self.pos.max(end);
        self.line
    }
}

/// A record with as many fields as the header, or the line that has not.
pub(super) fn check_width(
    source: &str,
    line: u64,
    record: &csv::ByteRecord,
    names: &[String],
) -> Result<(), UserError> {
    if record.len() == names.len() {
        return Ok(());
    }
    Err(UserError(format!(
        "{source}:{line}: row has {} fields but the header has {}",
        record.len(),
        names.len()
    )))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{csv, fails, spec};

    /// An executable or a gzip file named as a table: refused by name, no byte of it echoed.
    #[test]
    fn binary_and_compressed_files_are_refused_without_echoing_them() {
        let elf = "\u{7f}ELF\u{2}\u{1}\u{1}\0\0\0\u{1b}[31mred,n\n";
        let message = fails(
            elf,
            &spec(None, None),
            &["binary data (a NUL byte at offset 7)"],
        );
        assert!(!message.contains('\u{1b}'), "{message}");
        let gz = super::parse_delimited(&[0x1f, 0x8b, 8, 0], "d.csv.gz", b',', &spec(None, None));
        assert!(gz.unwrap_err().0.contains("d.csv.gz: is gzip-compressed"));
    }

    /// A quoted cell spanning lines is shown escaped: the message stays one line.
    #[test]
    fn a_quoted_newline_in_a_bad_count_stays_on_one_line() {
        fails(
            "y,n\n\"2\n6\",7\n",
            &spec(None, None),
            &["data.csv:2:1", "value \"2\\n6\""],
        );
    }

    /// A control byte in a header is escaped in the message that lists the columns.
    #[test]
    fn header_names_are_escaped_in_messages() {
        let message = fails("y\u{1b}[2J,n\n1,2\n", &spec(None, None), &["'y\\u{1b}[2J'"]);
        assert!(!message.contains('\u{1b}'), "{message}");
    }

    #[test]
    fn quotes_whitespace_bom_trailing_newline_and_exact_floats() {
        let text = "\u{feff} y , n ,id\n\"3.0\", 3e2 ,\"a, b\"\n 0 ,1,c\n\n";
        let d = csv(text, &spec(None, Some("id"))).unwrap();
        assert_eq!(d.successes, [3, 0]);
        assert_eq!(d.trials, [300, 1]);
        assert_eq!(d.ids, ["a, b", "c"]);
    }

    #[test]
    fn physical_line_numbers_count_quoted_newlines_and_blank_lines() {
        let c = spec(None, Some("id"));
        fails(
            "y,n,id\n1,2,\"a\nb\"\n\n1,0,c\n",
            &c,
            &["data.csv:5:2: column 'n'", "trials is 0"],
        );
    }

    #[test]
    fn line_numbers_with_crlf_and_lone_cr() {
        let c = spec(None, None);
        fails(
            "y,n\r\n1,2\r\n\r\n3,0\r\n",
            &c,
            &["data.csv:4:2: column 'n'"],
        );
        fails("y,n\r1,2\r\r3,0\r", &c, &["data.csv:4:2: column 'n'"]);
        fails("\n\ny,n\n1,0\n", &c, &["data.csv:4:2: column 'n'"]);
        fails(
            "\ny,y\n1,0\n",
            &c,
            &["data.csv:2: column name 'y' appears twice"],
        );
    }
}

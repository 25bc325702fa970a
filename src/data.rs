//! Reading the user's binomial counts from CSV, TSV or Parquet into a validated [`Dataset`].
//!
//! Every problem with the input becomes an [`InputError`] whose one-line message names the
//! file, where in it (line for delimited text, row for Parquet) and the column.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::ops::Range;
use std::path::Path;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Int64Type, UInt64Type};
use arrow::util::display::array_value_to_string;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;
use sha2::{Digest, Sha256};

/// Which columns hold what (names as in the file's header / Parquet schema).
#[derive(Debug, Clone)]
pub struct ColumnSpec {
    pub successes: String,
    pub trials: String,
    pub unit: Option<String>,
    pub id: Option<String>,
}

/// A validated batch of binomial observations, grouped by unit.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// What messages call the input: the path as given, or e.g. "rats.csv (embedded)".
    pub source: String,
    /// Lowercase hex sha256 of the input file's bytes.
    pub sha256: String,
    /// y, one per observation (grouped by unit).
    pub successes: Vec<u32>,
    /// n, one per observation.
    pub trials: Vec<u32>,
    /// The id column's value, else the 1-based data-row number ("1", "2", ...).
    pub ids: Vec<String>,
    /// One per unit, in order of first appearance; without a unit column exactly one unit "".
    pub unit_labels: Vec<String>,
    /// len n_units + 1: unit u's observations are unit_offsets[u]..unit_offsets[u+1].
    pub unit_offsets: Vec<u32>,
    pub has_unit_column: bool,
}

impl Dataset {
    pub fn n_obs(&self) -> usize {
        self.successes.len()
    }

    pub fn n_units(&self) -> usize {
        self.unit_labels.len()
    }

    pub fn unit_range(&self, u: usize) -> Range<usize> {
        self.unit_offsets[u] as usize..self.unit_offsets[u + 1] as usize
    }
}

/// Any problem with the user's input; the binary maps it to exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for byte in digest.iter() {
        // Writing into a String cannot fail.
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
const PARQUET_MAGIC: &[u8] = b"PAR1";
const COUNT_RULE: &str = "counts must be whole numbers >= 0";

/// Reads a CSV, TSV or Parquet file, chosen by extension or, failing that, by content.
pub fn read_dataset(path: &Path, cols: &ColumnSpec) -> Result<Dataset, InputError> {
    let source = path.display().to_string();
    let cannot_read = |e: std::io::Error| InputError(format!("{source}: cannot read file: {e}"));
    let mut file = File::open(path).map_err(cannot_read)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(cannot_read)?;
    if bytes.is_empty() {
        return Err(InputError(format!("{source}: file is empty")));
    }
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "csv" => parse_delimited(&bytes, &source, b',', cols),
        "tsv" | "tab" | "txt" => parse_delimited(&bytes, &source, b'\t', cols),
        // Re-use the open handle so the bytes hashed are the bytes parsed.
        "parquet" | "pq" => parse_parquet(file, &source, sha256_hex(&bytes), cols),
        _ if bytes.starts_with(PARQUET_MAGIC) => {
            parse_parquet(file, &source, sha256_hex(&bytes), cols)
        }
        _ => {
            let header = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
            let delimiter = if header.contains(&b'\t') { b'\t' } else { b',' };
            parse_delimited(&bytes, &source, delimiter, cols)
        }
    }
}

/// Where an observation came from, for messages.
#[derive(Debug, Clone, Copy)]
enum Loc {
    /// Physical 1-based line of a delimited file (header = line 1).
    Line(u64),
    /// 1-based data row of a Parquet file.
    Row(u64),
}

impl Loc {
    fn describe(self) -> String {
        match self {
            Loc::Line(l) => format!("line {l}"),
            Loc::Row(r) => format!("row {r}"),
        }
    }
}

/// A column in use: its header name and 1-based position.
#[derive(Debug, Clone)]
struct Col {
    name: String,
    number: usize,
}

/// `file:line:col: column 'name': msg` (delimited) or `file: row r, column c 'name': msg` (Parquet).
fn cell_error(source: &str, loc: Loc, col: &Col, msg: impl std::fmt::Display) -> InputError {
    InputError(match loc {
        Loc::Line(l) => format!("{source}:{l}:{}: column '{}': {msg}", col.number, col.name),
        Loc::Row(r) => format!(
            "{source}: row {r}, column {} '{}': {msg}",
            col.number, col.name
        ),
    })
}

/// One observation before grouping.
struct RawObs {
    unit: String,
    id: Option<String>,
    y: u32,
    n: u32,
    loc: Loc,
}

/// The columns of the header that the spec asks for, checked for presence and uniqueness.
struct Layout {
    y: Col,
    n: Col,
    unit: Option<Col>,
    id: Option<Col>,
}

/// `prefix` is "file:1" for a header line or "file" for a Parquet schema.
fn resolve_columns(
    prefix: &str,
    names: &[String],
    cols: &ColumnSpec,
) -> Result<Layout, InputError> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, name) in names.iter().enumerate() {
        if let Some(first) = seen.insert(name.as_str(), i + 1) {
            return Err(InputError(format!(
                "{prefix}: column name '{name}' appears twice (columns {first} and {}); column names must be unique",
                i + 1
            )));
        }
    }
    let find = |role: &str, want: &str| -> Result<Col, InputError> {
        match seen.get(want) {
            Some(&number) => Ok(Col {
                name: want.to_string(),
                number,
            }),
            None => {
                let have: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
                Err(InputError(format!(
                    "{prefix}: {role} column '{want}' not found; the columns are: {}",
                    have.join(", ")
                )))
            }
        }
    };
    Ok(Layout {
        y: find("successes", &cols.successes)?,
        n: find("trials", &cols.trials)?,
        unit: cols.unit.as_deref().map(|u| find("unit", u)).transpose()?,
        id: cols.id.as_deref().map(|i| find("id", i)).transpose()?,
    })
}

/// Parses a count exactly: digits with an optional fraction and exponent, whole and in u32 range.
/// Decimal arithmetic on the text (not f64) so "3.0000000000000001" is rejected, not rounded.
fn parse_count(text: &str) -> Result<u32, &'static str> {
    if text.is_empty() {
        return Err("is empty");
    }
    let (negative, body) = match text.as_bytes()[0] {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    match body.to_ascii_lowercase().as_str() {
        "nan" => return Err("is NaN"),
        "inf" | "infinity" => return Err("is infinite"),
        _ => {}
    }
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int_part, frac_part) = match mantissa.find('.') {
        Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
        None => (mantissa, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty())
        || !all_digits(int_part)
        || !all_digits(frac_part)
    {
        return Err("is not a number");
    }
    let exponent: i64 = match exponent {
        None => 0,
        Some(e) => {
            let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            if digits.is_empty() || !all_digits(digits) {
                return Err("is not a number");
            }
            // Absurd exponents saturate; they are "too large" or "not whole" either way.
            e.parse().unwrap_or(if e.starts_with('-') {
                -(1 << 40)
            } else {
                1 << 40
            })
        }
    };
    let all = format!("{int_part}{frac_part}");
    let digits = all.trim_start_matches('0');
    if digits.is_empty() {
        return Ok(0); // "0", "-0", "0.00e5": zero whatever the sign
    }
    if negative {
        return Err("is negative");
    }
    // value = digits * 10^shift
    let shift = exponent - frac_part.len() as i64;
    let whole: String = if shift < 0 {
        let drop = usize::try_from(-shift).unwrap_or(usize::MAX);
        if drop >= digits.len() {
            return Err("is not a whole number"); // nonzero and below 1
        }
        let (head, tail) = digits.split_at(digits.len() - drop);
        if tail.bytes().any(|b| b != b'0') {
            return Err("is not a whole number");
        }
        head.to_string()
    } else {
        if digits.len() as i64 + shift > 10 {
            return Err(TOO_LARGE);
        }
        format!("{digits}{}", "0".repeat(shift as usize))
    };
    match whole.parse::<u64>() {
        Ok(v) if v <= u64::from(u32::MAX) => Ok(v as u32),
        _ => Err(TOO_LARGE),
    }
}

/// Checks one (y, n) pair; `y_col` carries the message since successes is what's wrong.
fn check_pair(source: &str, loc: Loc, lay: &Layout, y: u32, n: u32) -> Result<(), InputError> {
    if n == 0 {
        return Err(cell_error(
            source,
            loc,
            &lay.n,
            "trials is 0; each observation needs at least one trial",
        ));
    }
    if y > n {
        return Err(cell_error(
            source,
            loc,
            &lay.y,
            format!(
                "successes {y} exceed trials {n} (column '{}'); successes must be <= trials",
                lay.n.name
            ),
        ));
    }
    Ok(())
}

/// Parses delimited text (CSV or TSV); also used for data embedded in the binary.
pub fn parse_delimited(
    bytes: &[u8],
    source: &str,
    delimiter: u8,
    cols: &ColumnSpec,
) -> Result<Dataset, InputError> {
    let sha256 = sha256_hex(bytes);
    let text = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    if text.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(InputError(format!("{source}: file is empty")));
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false) // read the header ourselves to know its line
        .flexible(true) // field-count mismatches get our own message
        .trim(csv::Trim::All)
        .from_reader(text);
    let io_error = |e: csv::Error| InputError(format!("{source}: cannot parse: {e}"));

    let mut record = csv::ByteRecord::new();
    if !reader.read_byte_record(&mut record).map_err(io_error)? {
        return Err(InputError(format!("{source}: file is empty")));
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
    let lay = resolve_columns(&format!("{source}:{header_line}"), &names, cols)?;

    let field = |record: &csv::ByteRecord, line: u64, col: &Col| -> Result<String, InputError> {
        let raw = record.get(col.number - 1).unwrap_or_default();
        std::str::from_utf8(raw)
            .map(str::to_string)
            .map_err(|_| cell_error(source, Loc::Line(line), col, "value is not valid UTF-8"))
    };
    let count = |record: &csv::ByteRecord, line: u64, col: &Col| -> Result<u32, InputError> {
        let value = field(record, line, col)?;
        parse_count(&value).map_err(|why| {
            let shown = if value.is_empty() {
                "value".to_string()
            } else {
                format!("value \"{value}\"")
            };
            cell_error(
                source,
                Loc::Line(line),
                col,
                format!("{shown} {why}; {COUNT_RULE}"),
            )
        })
    };

    let mut rows = Vec::new();
    while reader.read_byte_record(&mut record).map_err(io_error)? {
        let line = lines.line_of(&record);
        if record.len() != names.len() {
            return Err(InputError(format!(
                "{source}:{line}: row has {} fields but the header has {}",
                record.len(),
                names.len()
            )));
        }
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
        rows.push(RawObs {
            unit,
            id,
            y,
            n,
            loc,
        });
    }
    if rows.is_empty() {
        return Err(InputError(format!(
            "{source}: no data rows (the file holds only a header)"
        )));
    }
    assemble(source.to_string(), sha256, rows, &lay)
}

/// Physical line numbers from byte offsets: the csv crate's own line count drifts on
/// blank lines and CRLF endings. Records come in order, so counting is incremental.
struct LineCounter<'a> {
    text: &'a [u8],
    pos: usize,
    line: u64,
}

impl LineCounter<'_> {
    fn line_of(&mut self, record: &csv::ByteRecord) -> u64 {
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

fn non_empty(
    source: &str,
    loc: Loc,
    col: &Col,
    value: String,
    what: &str,
) -> Result<String, InputError> {
    if value.is_empty() {
        return Err(cell_error(source, loc, col, format!("{what} is empty")));
    }
    Ok(value)
}

/// Groups observations by unit (first-appearance order, stable within a unit) and checks ids.
fn assemble(
    source: String,
    sha256: String,
    rows: Vec<RawObs>,
    lay: &Layout,
) -> Result<Dataset, InputError> {
    if u32::try_from(rows.len()).is_err() {
        return Err(InputError(format!(
            "{source}: {} rows is more than the {} supported",
            rows.len(),
            u32::MAX
        )));
    }
    let mut unit_index: HashMap<String, usize> = HashMap::new();
    let mut unit_labels: Vec<String> = Vec::new();
    let mut unit_of = Vec::with_capacity(rows.len());
    let mut first_seen: HashMap<(usize, &str), Loc> = HashMap::new();
    for row in &rows {
        let u = match unit_index.get(&row.unit) {
            Some(&u) => u,
            None => {
                unit_labels.push(row.unit.clone());
                unit_index.insert(row.unit.clone(), unit_labels.len() - 1);
                unit_labels.len() - 1
            }
        };
        unit_of.push(u);
        if let (Some(id), Some(id_col)) = (&row.id, &lay.id) {
            if let Some(first) = first_seen.insert((u, id.as_str()), row.loc) {
                let (within, scope) = match &lay.unit {
                    Some(_) => (format!(" within unit \"{}\"", row.unit), " within a unit"),
                    None => (String::new(), ""),
                };
                return Err(cell_error(
                    &source,
                    row.loc,
                    id_col,
                    format!(
                        "id \"{id}\" appears twice{within} (first on {}); ids must be unique{scope}",
                        first.describe()
                    ),
                ));
            }
        }
    }

    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&i| unit_of[i]); // stable: file order is kept within a unit
    let mut unit_offsets = vec![0u32; unit_labels.len() + 1];
    for &u in &unit_of {
        unit_offsets[u + 1] += 1;
    }
    for u in 0..unit_labels.len() {
        unit_offsets[u + 1] += unit_offsets[u];
    }
    let successes = order.iter().map(|&i| rows[i].y).collect();
    let trials = order.iter().map(|&i| rows[i].n).collect();
    let ids = order
        .iter()
        .map(|&i| rows[i].id.clone().unwrap_or_else(|| (i + 1).to_string()))
        .collect();
    Ok(Dataset {
        source,
        sha256,
        successes,
        trials,
        ids,
        unit_labels,
        unit_offsets,
        has_unit_column: lay.unit.is_some(),
    })
}

/// Whether a Parquet column can hold counts: integers, or floats holding whole numbers.
fn is_count_type(dt: &DataType) -> bool {
    match dt {
        DataType::Dictionary(_, v) => is_count_type(v),
        dt => dt.is_integer() || dt.is_floating(),
    }
}

/// Whether a Parquet column can hold unit labels or ids: strings of any layout, or integers.
fn is_label_type(dt: &DataType) -> bool {
    match dt {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => is_label_type(v),
        dt => dt.is_integer(),
    }
}

fn parse_parquet(
    file: File,
    source: &str,
    sha256: String,
    cols: &ColumnSpec,
) -> Result<Dataset, InputError> {
    let unreadable = |e: &dyn std::fmt::Display| {
        InputError(format!("{source}: not a readable Parquet file: {e}"))
    };
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| unreadable(&e))?;
    let names: Vec<String> = builder
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let lay = resolve_columns(source, &names, cols)?;

    let schema = builder.schema().clone();
    let type_error = |col: &Col, wanted: &str| {
        let dt = schema.field(col.number - 1).data_type();
        InputError(format!(
            "{source}: column {} '{}' has type {dt}; {wanted}",
            col.number, col.name
        ))
    };
    for col in [&lay.y, &lay.n] {
        if !is_count_type(schema.field(col.number - 1).data_type()) {
            return Err(type_error(
                col,
                "counts need an integer column (or floats holding whole numbers)",
            ));
        }
    }
    for col in lay.unit.iter().chain(&lay.id) {
        if !is_label_type(schema.field(col.number - 1).data_type()) {
            return Err(type_error(
                col,
                "unit and id columns need strings or integers",
            ));
        }
    }

    // Only decode the columns we use.
    let mut roots: Vec<usize> = [
        Some(&lay.y),
        Some(&lay.n),
        lay.unit.as_ref(),
        lay.id.as_ref(),
    ]
    .into_iter()
    .flatten()
    .map(|c| c.number - 1)
    .collect();
    roots.sort_unstable();
    roots.dedup();
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
    let reader = builder
        .with_projection(mask)
        .build()
        .map_err(|e| unreadable(&e))?;

    let mut rows = Vec::new();
    let mut row0 = 0u64; // data rows before this batch
    for batch in reader {
        let batch = batch.map_err(|e| unreadable(&e))?;
        let column = |col: &Col| -> Result<ArrayRef, InputError> {
            batch
                .column_by_name(&col.name)
                .cloned()
                .ok_or_else(|| unreadable(&format!("column '{}' missing from a batch", col.name)))
        };
        let ys = count_values(source, row0, &lay.y, &column(&lay.y)?)?;
        let ns = count_values(source, row0, &lay.n, &column(&lay.n)?)?;
        let units = lay
            .unit
            .as_ref()
            .map(|c| label_values(source, row0, c, &column(c)?, "unit label"))
            .transpose()?;
        let ids = lay
            .id
            .as_ref()
            .map(|c| label_values(source, row0, c, &column(c)?, "id"))
            .transpose()?;
        for (i, (&y, &n)) in ys.iter().zip(&ns).enumerate() {
            let loc = Loc::Row(row0 + i as u64 + 1);
            check_pair(source, loc, &lay, y, n)?;
            rows.push(RawObs {
                unit: units.as_ref().map(|u| u[i].clone()).unwrap_or_default(),
                id: ids.as_ref().map(|d| d[i].clone()),
                y,
                n,
                loc,
            });
        }
        row0 += batch.num_rows() as u64;
    }
    if rows.is_empty() {
        return Err(InputError(format!("{source}: no data rows")));
    }
    assemble(source.to_string(), sha256, rows, &lay)
}

/// One batch of a count column as u32s; any integer width or float type is accepted.
fn count_values(
    source: &str,
    row0: u64,
    col: &Col,
    array: &ArrayRef,
) -> Result<Vec<u32>, InputError> {
    let cast_error = |e: arrow::error::ArrowError| cell_error(source, Loc::Row(row0 + 1), col, e);
    // Widen to one type per family (dictionaries decode too) so one loop checks them all.
    let plain = |dt: &DataType| match dt {
        DataType::Dictionary(_, v) => v.as_ref().clone(),
        dt => dt.clone(),
    };
    let target = match plain(array.data_type()) {
        dt if dt.is_signed_integer() => DataType::Int64,
        dt if dt.is_unsigned_integer() => DataType::UInt64,
        _ => DataType::Float64,
    };
    let wide = cast(array, &target).map_err(cast_error)?;
    let mut out = Vec::with_capacity(wide.len());
    for i in 0..wide.len() {
        let loc = Loc::Row(row0 + i as u64 + 1);
        if wide.is_null(i) {
            return Err(cell_error(source, loc, col, "value is missing (null)"));
        }
        let checked = match target {
            DataType::Int64 => int_count(wide.as_primitive::<Int64Type>().value(i).into()),
            DataType::UInt64 => int_count(wide.as_primitive::<UInt64Type>().value(i).into()),
            _ => float_count(wide.as_primitive::<Float64Type>().value(i)),
        };
        match checked {
            Ok(v) => out.push(v),
            Err(why) => {
                let shown = array_value_to_string(&wide, i).unwrap_or_default();
                let msg = format!("value {shown} {why}; {COUNT_RULE}");
                return Err(cell_error(source, loc, col, msg));
            }
        }
    }
    Ok(out)
}

const TOO_LARGE: &str = "is too large (the maximum is 4294967295)";

fn int_count(v: i128) -> Result<u32, &'static str> {
    match u32::try_from(v) {
        Ok(v) => Ok(v),
        Err(_) if v < 0 => Err("is negative"),
        Err(_) => Err(TOO_LARGE),
    }
}

fn float_count(v: f64) -> Result<u32, &'static str> {
    if v.is_nan() {
        Err("is NaN")
    } else if v.is_infinite() {
        Err("is infinite")
    } else if v < 0.0 {
        Err("is negative")
    } else if v.fract() != 0.0 {
        Err("is not a whole number")
    } else if v > f64::from(u32::MAX) {
        Err(TOO_LARGE)
    } else {
        Ok(v as u32)
    }
}

/// One batch of a unit or id column as strings (integers become their decimal text).
fn label_values(
    source: &str,
    row0: u64,
    col: &Col,
    array: &ArrayRef,
    what: &str,
) -> Result<Vec<String>, InputError> {
    let at = |i: usize| Loc::Row(row0 + i as u64 + 1);
    let text = cast(array, &DataType::Utf8).map_err(|e| cell_error(source, at(0), col, e))?;
    let text = text.as_string::<i32>();
    let mut out = Vec::with_capacity(text.len());
    for i in 0..text.len() {
        if text.is_null(i) {
            return Err(cell_error(
                source,
                at(i),
                col,
                format!("{what} is missing (null)"),
            ));
        }
        out.push(non_empty(
            source,
            at(i),
            col,
            text.value(i).to_string(),
            what,
        )?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow::array::{DictionaryArray, Float64Array, Int64Array, StringArray};
    use arrow::datatypes::Int32Type;
    use arrow::record_batch::RecordBatch;
    use parquet::arrow::ArrowWriter;

    fn spec(unit: Option<&str>, id: Option<&str>) -> ColumnSpec {
        ColumnSpec {
            successes: "y".into(),
            trials: "n".into(),
            unit: unit.map(str::to_string),
            id: id.map(str::to_string),
        }
    }

    fn csv(text: &str, cols: &ColumnSpec) -> Result<Dataset, InputError> {
        parse_delimited(text.as_bytes(), "data.csv", b',', cols)
    }

    /// Asserts the parse fails and the message contains every fragment.
    fn fails(text: &str, cols: &ColumnSpec, fragments: &[&str]) -> String {
        let msg = match csv(text, cols) {
            Ok(_) => panic!("expected an error for {text:?}"),
            Err(e) => e.0,
        };
        for f in fragments {
            assert!(msg.contains(f), "message {msg:?} lacks {f:?}");
        }
        assert!(!msg.contains('\n'), "message should be one line: {msg:?}");
        msg
    }

    #[test]
    fn sha256_of_abc() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn groups_by_unit_in_first_appearance_order() {
        let text = "unit,y,n\nb,1,10\na,2,10\nb,3,10\nc,4,10\na,5,10\n";
        let d = csv(text, &spec(Some("unit"), None)).unwrap();
        assert_eq!(d.unit_labels, ["b", "a", "c"]);
        assert_eq!(d.unit_offsets, [0, 2, 4, 5]);
        assert_eq!(d.successes, [1, 3, 2, 5, 4]);
        assert_eq!(d.ids, ["1", "3", "2", "5", "4"]); // data-row numbers travel with the rows
        assert_eq!(d.n_obs(), 5);
        assert_eq!(d.n_units(), 3);
        assert_eq!(d.unit_range(1), 2..4);
        assert!(d.has_unit_column);
        assert_eq!(d.sha256, sha256_hex(text.as_bytes()));
    }

    #[test]
    fn no_unit_column_gives_one_unit_and_row_number_ids() {
        let d = csv("y,n\n0,5\n2,7\n", &spec(None, None)).unwrap();
        assert_eq!(d.unit_labels, [""]);
        assert_eq!(d.unit_offsets, [0, 2]);
        assert_eq!(d.ids, ["1", "2"]);
        assert_eq!(d.trials, [5, 7]);
        assert!(!d.has_unit_column);
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
    fn parse_count_cases() {
        assert_eq!(parse_count("0"), Ok(0));
        assert_eq!(parse_count("-0"), Ok(0));
        assert_eq!(parse_count("4294967295"), Ok(u32::MAX));
        assert_eq!(parse_count("1.5e1"), Ok(15));
        assert_eq!(parse_count("2500e-2"), Ok(25));
        assert_eq!(parse_count("+7"), Ok(7));
        assert_eq!(
            parse_count("3.0000000000000001"),
            Err("is not a whole number")
        );
        assert_eq!(parse_count("0.5"), Err("is not a whole number"));
        assert_eq!(
            parse_count("1e400"),
            Err("is too large (the maximum is 4294967295)")
        );
        assert_eq!(
            parse_count("4294967296"),
            Err("is too large (the maximum is 4294967295)")
        );
        assert_eq!(parse_count("-inf"), Err("is infinite"));
        assert_eq!(parse_count("nan"), Err("is NaN"));
        assert_eq!(parse_count("1e"), Err("is not a number"));
        assert_eq!(parse_count("."), Err("is not a number"));
        assert_eq!(parse_count("0x10"), Err("is not a number"));
    }

    #[test]
    fn bad_counts_name_file_line_and_column() {
        let c = spec(None, None);
        let rule = "counts must be whole numbers >= 0";
        fails(
            "y,n\n1,2\n-1,5\n",
            &c,
            &["data.csv:3:1: column 'y'", "\"-1\" is negative", rule],
        );
        fails(
            "y,n\n1,\n",
            &c,
            &["data.csv:2:2: column 'n'", "value is empty"],
        );
        fails(
            "y,n\n1,abc\n",
            &c,
            &["data.csv:2:2: column 'n'", "\"abc\" is not a number"],
        );
        fails("y,n\nNaN,2\n", &c, &["data.csv:2:1: column 'y'", "is NaN"]);
        fails(
            "y,n\n1,inf\n",
            &c,
            &["data.csv:2:2: column 'n'", "is infinite"],
        );
        fails(
            "y,n\n3.5,4\n",
            &c,
            &["data.csv:2:1: column 'y'", "\"3.5\" is not a whole number"],
        );
        fails(
            "y,n\n1,5000000000\n",
            &c,
            &["data.csv:2:2: column 'n'", "too large"],
        );
    }

    #[test]
    fn trials_zero_and_successes_above_trials() {
        let c = spec(None, None);
        fails(
            "y,n\n0,0\n",
            &c,
            &["data.csv:2:2: column 'n'", "trials is 0"],
        );
        fails(
            "n,y\n5,7\n",
            &c,
            &["data.csv:2:2: column 'y'", "successes 7 exceed trials 5"],
        );
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

    #[test]
    fn empty_labels_and_duplicate_ids() {
        let c = spec(Some("g"), Some("id"));
        fails(
            "g,y,n,id\n,1,2,a\n",
            &c,
            &["data.csv:2:1: column 'g'", "unit label is empty"],
        );
        fails(
            "g,y,n,id\nx,1,2,\n",
            &c,
            &["data.csv:2:4: column 'id'", "id is empty"],
        );
        fails(
            "g,y,n,id\nx,1,2,a\nz,1,2,a\nx,1,2,a\n",
            &c,
            &[
                "data.csv:4:4: column 'id'",
                "\"a\" appears twice within unit \"x\"",
                "first on line 2",
            ],
        );
        // The same id in different units is fine.
        assert!(csv("g,y,n,id\nx,1,2,a\nz,1,2,a\n", &c).is_ok());
    }

    fn write_parquet(path: &Path, columns: Vec<(&str, ArrayRef)>) {
        let batch = RecordBatch::try_from_iter(columns).unwrap();
        let mut w =
            ArrowWriter::try_new(File::create(path).unwrap(), batch.schema(), None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }

    #[test]
    fn parquet_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rats.parquet");
        let unit = DictionaryArray::<Int32Type>::from_iter(["b", "a", "b"]);
        write_parquet(
            &path,
            vec![
                ("unit", Arc::new(unit) as ArrayRef),
                ("y", Arc::new(Int64Array::from(vec![1, 2, 3]))),
                ("n", Arc::new(Float64Array::from(vec![10.0, 20.0, 30.0]))),
                ("id", Arc::new(Int64Array::from(vec![7, 8, 9]))),
            ],
        );
        let d = read_dataset(&path, &spec(Some("unit"), Some("id"))).unwrap();
        assert_eq!(d.unit_labels, ["b", "a"]);
        assert_eq!(d.successes, [1, 3, 2]);
        assert_eq!(d.trials, [10, 30, 20]);
        assert_eq!(d.ids, ["7", "9", "8"]);
        assert_eq!(d.sha256, sha256_hex(&std::fs::read(&path).unwrap()));
        // Sniffed by magic without a known extension.
        let other = dir.path().join("rats.bin");
        std::fs::copy(&path, &other).unwrap();
        assert_eq!(read_dataset(&other, &spec(None, None)).unwrap().n_obs(), 3);
    }

    #[test]
    fn parquet_narrow_unsigned_and_large_string_columns() {
        use arrow::array::{Int8Array, LargeStringArray, StringViewArray, UInt16Array};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("narrow.pq");
        write_parquet(
            &path,
            vec![
                ("y", Arc::new(Int8Array::from(vec![0, 4])) as ArrayRef),
                ("n", Arc::new(UInt16Array::from(vec![60000, 4]))),
                ("g", Arc::new(LargeStringArray::from(vec!["u", "v"]))),
                ("id", Arc::new(StringViewArray::from(vec!["a", "a"]))),
            ],
        );
        let d = read_dataset(&path, &spec(Some("g"), Some("id"))).unwrap();
        assert_eq!((d.successes, d.trials), (vec![0, 4], vec![60000, 4]));
        assert_eq!(
            (d.unit_labels, d.ids),
            (vec!["u".into(), "v".into()], vec!["a".into(), "a".into()])
        );
    }

    fn parquet_fails(columns: Vec<(&str, ArrayRef)>, cols: &ColumnSpec, fragments: &[&str]) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.parquet");
        write_parquet(&path, columns);
        let msg = read_dataset(&path, cols).unwrap_err().0;
        for f in fragments {
            assert!(msg.contains(f), "message {msg:?} lacks {f:?}");
        }
        assert!(msg.starts_with(&path.display().to_string()), "{msg}");
    }

    #[test]
    fn parquet_value_problems_name_row_and_column() {
        let c = spec(Some("g"), Some("id"));
        let y = |v: Vec<Option<f64>>| Arc::new(Float64Array::from(v)) as ArrayRef;
        let n = || Arc::new(Int64Array::from(vec![5, 5])) as ArrayRef;
        let g = || Arc::new(StringArray::from(vec!["a", "a"])) as ArrayRef;
        let id = || Arc::new(StringArray::from(vec!["p", "q"])) as ArrayRef;
        let cols = |yv| vec![("g", g()), ("y", yv), ("n", n()), ("id", id())];
        parquet_fails(
            cols(y(vec![Some(1.0), None])),
            &c,
            &["row 2, column 2 'y'", "missing (null)"],
        );
        parquet_fails(
            cols(y(vec![Some(1.5), Some(1.0)])),
            &c,
            &["row 1, column 2 'y'", "1.5 is not a whole number"],
        );
        parquet_fails(
            cols(y(vec![Some(1.0), Some(f64::NAN)])),
            &c,
            &["row 2, column 2 'y'", "is NaN"],
        );
        parquet_fails(
            cols(y(vec![Some(-1.0), Some(1.0)])),
            &c,
            &["row 1, column 2 'y'", "is negative"],
        );
        parquet_fails(
            cols(y(vec![Some(1.0), Some(9.0)])),
            &c,
            &["row 2, column 2 'y'", "successes 9 exceed trials 5"],
        );
        let big = vec![
            ("y", Arc::new(Int64Array::from(vec![1, 1])) as ArrayRef),
            ("n", Arc::new(Int64Array::from(vec![5, 1 << 40]))),
        ];
        parquet_fails(
            big,
            &spec(None, None),
            &["row 2, column 2 'n'", "too large"],
        );
        let dup = vec![
            ("g", g()),
            ("y", y(vec![Some(1.0), Some(1.0)])),
            ("n", n()),
            (
                "id",
                Arc::new(StringArray::from(vec!["p", "p"])) as ArrayRef,
            ),
        ];
        parquet_fails(
            dup,
            &c,
            &["row 2, column 4 'id'", "appears twice", "first on row 1"],
        );
        let empty = vec![
            (
                "g",
                Arc::new(StringArray::from(vec![Some("a"), Some("")])) as ArrayRef,
            ),
            ("y", y(vec![Some(1.0), Some(1.0)])),
            ("n", n()),
        ];
        parquet_fails(
            empty,
            &spec(Some("g"), None),
            &["row 2, column 1 'g'", "unit label is empty"],
        );
        let null_unit = vec![
            (
                "g",
                Arc::new(StringArray::from(vec![Some("a"), None])) as ArrayRef,
            ),
            ("y", y(vec![Some(1.0), Some(1.0)])),
            ("n", n()),
        ];
        parquet_fails(
            null_unit,
            &spec(Some("g"), None),
            &["row 2, column 1 'g'", "missing (null)"],
        );
        let text_counts = vec![("y", g()), ("n", n())];
        parquet_fails(
            text_counts,
            &spec(None, None),
            &["column 1 'y' has type Utf8"],
        );
        parquet_fails(
            vec![("y", g())],
            &spec(None, None),
            &["trials column 'n' not found", "'y'"],
        );
        let none = vec![
            (
                "y",
                Arc::new(Int64Array::from(Vec::<i64>::new())) as ArrayRef,
            ),
            ("n", Arc::new(Int64Array::from(Vec::<i64>::new()))),
        ];
        parquet_fails(none, &spec(None, None), &["no data rows"]);
    }

    #[test]
    fn corrupt_parquet_errors_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.parquet");
        std::fs::write(&path, b"PAR1 this is not really parquet").unwrap();
        let msg = read_dataset(&path, &spec(None, None)).unwrap_err().0;
        assert!(
            msg.starts_with(&format!(
                "{}: not a readable Parquet file: ",
                path.display()
            )),
            "{msg}"
        );
        std::fs::write(&path, b"").unwrap();
        let msg = read_dataset(&path, &spec(None, None)).unwrap_err().0;
        assert!(msg.ends_with("x.parquet: file is empty"), "{msg}");
    }

    #[test]
    fn schema_helpers() {
        let dict = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::LargeUtf8));
        assert!(is_label_type(&dict));
        assert!(is_label_type(&DataType::Utf8View));
        assert!(!is_label_type(&DataType::Float64));
        assert!(is_count_type(&DataType::UInt8));
        assert!(!is_count_type(&DataType::Utf8));
    }
}

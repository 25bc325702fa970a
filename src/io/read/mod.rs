//! Reading the user's binomial counts from CSV, TSV or Parquet into a validated [`Dataset`].
//!
//! Every problem with the input becomes an [`UserError`] whose one-line message names the
//! file, where in it (line for delimited text, row for Parquet) and the column.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::error::UserError;
pub use crate::mcmc::dataset::Dataset;
use sha2::{Digest, Sha256};

mod delimited;
mod parquet;

// `self::` because the `parquet` crate has the same name.
use self::parquet::parse_parquet;
pub use delimited::parse_delimited;

/// Which columns hold what (names as in the file's header / Parquet schema).
#[derive(Debug, Clone)]
pub struct ColumnSpec {
    pub successes: String,
    pub trials: String,
    pub unit: Option<String>,
    pub id: Option<String>,
    /// Rows sharing an id (within a unit) are merged into one observation, their counts
    /// summed, instead of being an error (`--aggregate-by`: e.g. players pooled by position).
    pub aggregate_ids: bool,
    /// Group columns of a multi-level model, innermost first (`--group`, repeated): each
    /// observation's group, that group's group, and so on; the root above them is implicit.
    pub groups: Vec<String>,
}

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

const PARQUET_MAGIC: &[u8] = b"PAR1";
const COUNT_RULE: &str = "counts must be whole numbers >= 0";
const TOO_LARGE: &str = "is too large (the maximum is 4294967295)";

/// Reads a CSV, TSV or Parquet file, chosen by extension or, failing that, by content.
pub fn read_dataset(path: &Path, cols: &ColumnSpec) -> Result<Dataset, UserError> {
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
fn cell_error(source: &str, loc: Loc, col: &Col, msg: impl std::fmt::Display) -> UserError {
    UserError(match loc {
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
    /// One label per group column, innermost first.
    groups: Vec<String>,
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
    groups: Vec<Col>,
    aggregate_ids: bool,
}

/// `prefix` is "file:1" for a header line or "file" for a Parquet schema.
fn resolve_columns(prefix: &str, names: &[String], cols: &ColumnSpec) -> Result<Layout, UserError> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, name) in names.iter().enumerate() {
        if let Some(first) = seen.insert(name.as_str(), i + 1) {
            return Err(UserError(format!(
                "{prefix}: column name '{name}' appears twice (columns {first} and {}); column names must be unique",
                i + 1
            )));
        }
    }
    let find = |role: &str, want: &str| -> Result<Col, UserError> {
        match seen.get(want) {
            Some(&number) => Ok(Col {
                name: want.to_string(),
                number,
            }),
            None => {
                let have: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
                Err(UserError(format!(
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
        groups: cols
            .groups
            .iter()
            .map(|g| find("group", g))
            .collect::<Result<_, _>>()?,
        aggregate_ids: cols.aggregate_ids,
    })
}

/// Merge rows with the same (unit, id) into the first of them, summing the counts.
fn merge_by_id(source: &str, rows: Vec<RawObs>, lay: &Layout) -> Result<Vec<RawObs>, UserError> {
    let mut position: HashMap<(String, String), usize> = HashMap::new();
    let mut merged: Vec<RawObs> = Vec::new();
    for row in rows {
        let Some(id) = row.id.clone() else {
            merged.push(row);
            continue;
        };
        match position.get(&(row.unit.clone(), id.clone())) {
            Some(&k) => {
                let target = &mut merged[k];
                match (target.y.checked_add(row.y), target.n.checked_add(row.n)) {
                    (Some(y), Some(n)) => (target.y, target.n) = (y, n),
                    _ => {
                        let col = lay.id.as_ref().expect("ids come from the id column");
                        return Err(cell_error(
                            source,
                            row.loc,
                            col,
                            format!("the summed counts of \"{id}\" exceed {}", u32::MAX),
                        ));
                    }
                }
            }
            None => {
                position.insert((row.unit.clone(), id), merged.len());
                merged.push(row);
            }
        }
    }
    Ok(merged)
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
fn check_pair(source: &str, loc: Loc, lay: &Layout, y: u32, n: u32) -> Result<(), UserError> {
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

fn non_empty(
    source: &str,
    loc: Loc,
    col: &Col,
    value: String,
    what: &str,
) -> Result<String, UserError> {
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
) -> Result<Dataset, UserError> {
    if u32::try_from(rows.len()).is_err() {
        return Err(UserError(format!(
            "{source}: {} rows is more than the {} supported",
            rows.len(),
            u32::MAX
        )));
    }
    let rows = if lay.aggregate_ids {
        merge_by_id(&source, rows, lay)?
    } else {
        rows
    };
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

    check_nesting(&source, &rows, lay)?;
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
        group_labels: (0..lay.groups.len())
            .map(|g| order.iter().map(|&i| rows[i].groups[g].clone()).collect())
            .collect(),
        group_columns: lay.groups.iter().map(|c| c.name.clone()).collect(),
    })
}

/// Every group (within its unit) lies inside one group of the next column out, and labels
/// of different levels differ, so that `omega[<label>]` names one parameter.
fn check_nesting(source: &str, rows: &[RawObs], lay: &Layout) -> Result<(), UserError> {
    let mut level_of_label: HashMap<(&str, &str), usize> = HashMap::new();
    for (level, col) in lay.groups.iter().enumerate() {
        let mut parent_of: HashMap<(&str, &str), (&str, Loc)> = HashMap::new();
        for row in rows {
            let label = row.groups[level].as_str();
            if let Some(&other) = level_of_label.get(&(row.unit.as_str(), label)) {
                if other != level {
                    return Err(cell_error(
                        source,
                        row.loc,
                        col,
                        format!(
                            "group \"{label}\" is also a group of column '{}'; labels must differ between levels",
                            lay.groups[other].name
                        ),
                    ));
                }
            }
            level_of_label.insert((row.unit.as_str(), label), level);
            let Some(outer) = row.groups.get(level + 1) else {
                continue;
            };
            match parent_of.get(&(row.unit.as_str(), label)) {
                Some((first_parent, first_loc)) if first_parent != outer => {
                    return Err(cell_error(
                        source,
                        row.loc,
                        &lay.groups[level + 1],
                        format!(
                            "group \"{label}\" lies in \"{outer}\" here but in \"{first_parent}\" on {}; groups must nest",
                            first_loc.describe()
                        ),
                    ))
                }
                Some(_) => {}
                None => {
                    parent_of.insert((row.unit.as_str(), label), (outer.as_str(), row.loc));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
pub(super) mod test_support {
    //! Helpers shared by the tests of `data` and its submodules.

    use super::*;

    pub(super) fn spec(unit: Option<&str>, id: Option<&str>) -> ColumnSpec {
        ColumnSpec {
            aggregate_ids: false,
            successes: "y".into(),
            trials: "n".into(),
            unit: unit.map(str::to_string),
            id: id.map(str::to_string),
            groups: Vec::new(),
        }
    }

    pub(super) fn csv(text: &str, cols: &ColumnSpec) -> Result<Dataset, UserError> {
        parse_delimited(text.as_bytes(), "data.csv", b',', cols)
    }

    /// Asserts the parse fails and the message contains every fragment.
    pub(super) fn fails(text: &str, cols: &ColumnSpec, fragments: &[&str]) -> String {
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
}

#[cfg(test)]
mod tests {
    use super::test_support::{csv, fails, spec};
    use super::*;

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
}

#[cfg(test)]
mod aggregate_tests {
    use super::test_support::{csv, spec};

    #[test]
    fn aggregating_sums_counts_per_id_within_units() {
        let mut cols = spec(Some("g"), Some("pos"));
        cols.aggregate_ids = true;
        let text = "g,pos,y,n\nA,P,1,10\nA,C,2,5\nA,P,3,4\nB,P,0,7\n";
        let ds = csv(text, &cols).unwrap();
        assert_eq!(ds.unit_labels, ["A", "B"]);
        assert_eq!(ds.ids, ["P", "C", "P"]);
        assert_eq!(ds.successes, [4, 2, 0]);
        assert_eq!(ds.trials, [14, 5, 7]);
        assert_eq!(ds.unit_offsets, [0, 2, 3]);
    }

    #[test]
    fn without_aggregation_a_repeated_id_is_an_error() {
        let err = csv("pos,y,n\nP,1,10\nP,3,4\n", &spec(None, Some("pos"))).unwrap_err();
        assert!(err.0.contains("appears twice"), "{}", err.0);
    }
}

#[cfg(test)]
mod group_tests {
    use super::test_support::{csv, fails, spec};

    fn grouped(groups: &[&str]) -> super::ColumnSpec {
        let mut cols = spec(None, Some("id"));
        cols.groups = groups.iter().map(|g| g.to_string()).collect();
        cols
    }

    #[test]
    fn group_labels_travel_with_their_rows() {
        let ds = csv(
            "id,y,n,team,league\na,1,2,T1,L1\nb,0,3,T2,L2\nc,2,2,T1,L1\n",
            &grouped(&["team", "league"]),
        )
        .unwrap();
        assert_eq!(ds.group_columns, ["team", "league"]);
        assert_eq!(ds.group_labels, [["T1", "T2", "T1"], ["L1", "L2", "L1"]]);
    }

    #[test]
    fn bad_groups_name_the_line_and_column() {
        fails(
            "id,y,n,g\na,1,2,\n",
            &grouped(&["g"]),
            &["data.csv:2:4: column 'g'", "group label is empty"],
        );
        fails(
            "id,y,n,g\na,1,2,P\n",
            &grouped(&["position"]),
            &["data.csv:1: group column 'position' not found"],
        );
        fails(
            "id,y,n,t,l\na,1,2,T1,L1\nb,1,2,T2,L1\nc,1,2,T1,L2\n",
            &grouped(&["t", "l"]),
            &[
                "data.csv:4:5: column 'l'",
                "\"T1\" lies in \"L2\" here but in \"L1\" on line 2; groups must nest",
            ],
        );
        fails(
            "id,y,n,t,l\na,1,2,X,L1\nb,1,2,L1,L1\n",
            &grouped(&["t", "l"]),
            &[
                "data.csv:2:5: column 'l'",
                "\"L1\" is also a group of column 't'",
            ],
        );
    }
}

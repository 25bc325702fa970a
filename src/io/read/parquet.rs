//! The Parquet reader: schema and type checks, then each batch's counts and labels as rows.

use std::fs::File;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Int64Type, UInt64Type};
use arrow::util::display::array_value_to_string;
use parquet::arrow::ProjectionMask;

use super::assemble::assemble;
use super::cells::{cell_error, check_pair, non_empty, COUNT_RULE, TOO_LARGE};
use super::columns::{resolve_columns, Col, ColumnSpec};
use super::rows::{Loc, RawObs};
use super::Dataset;
use crate::error::UserError;
use crate::io::parquet_file::{column_names, open_parquet, unreadable};

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

pub(super) fn parse_parquet(
    file: File,
    source: &str,
    sha256: String,
    cols: &ColumnSpec,
) -> Result<Dataset, UserError> {
    let builder = open_parquet(file, source)?;
    let names = column_names(&builder);
    let lay = resolve_columns(source, &names, cols)?;

    let schema = builder.schema().clone();
    let type_error = |col: &Col, wanted: &str| {
        let dt = schema.field(col.number - 1).data_type();
        UserError(format!(
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
    for col in lay.unit.iter().chain(&lay.id).chain(&lay.groups) {
        if !is_label_type(schema.field(col.number - 1).data_type()) {
            return Err(type_error(
                col,
                "unit, id and group columns need strings or integers",
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
    .chain(&lay.groups)
    .map(|c| c.number - 1)
    .collect();
    roots.sort_unstable();
    roots.dedup();
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
    let reader = builder
        .with_projection(mask)
        .build()
        .map_err(|e| unreadable(source, e))?;

    let mut rows = Vec::new();
    let mut row0 = 0u64; // data rows before this batch
    for batch in reader {
        let batch = batch.map_err(|e| unreadable(source, e))?;
        let column = |col: &Col| -> Result<ArrayRef, UserError> {
            batch.column_by_name(&col.name).cloned().ok_or_else(|| {
                unreadable(
                    source,
                    format!("column '{}' missing from a batch", col.name),
                )
            })
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
        let groups = lay
            .groups
            .iter()
            .map(|c| label_values(source, row0, c, &column(c)?, "group label"))
            .collect::<Result<Vec<_>, _>>()?;
        for (i, (&y, &n)) in ys.iter().zip(&ns).enumerate() {
            let loc = Loc::Row(row0 + i as u64 + 1);
            check_pair(source, loc, &lay, y, n)?;
            rows.push(RawObs {
                unit: units.as_ref().map(|u| u[i].clone()).unwrap_or_default(),
                groups: groups.iter().map(|g| g[i].clone()).collect(),
                id: ids.as_ref().map(|d| d[i].clone()),
                y,
                n,
                loc,
            });
        }
        row0 += batch.num_rows() as u64;
    }
    if rows.is_empty() {
        return Err(UserError(format!("{source}: no data rows")));
    }
    assemble(source.to_string(), sha256, rows, &lay)
}

/// One batch of a count column as u32s; any integer width or float type is accepted.
fn count_values(
    source: &str,
    row0: u64,
    col: &Col,
    array: &ArrayRef,
) -> Result<Vec<u32>, UserError> {
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
) -> Result<Vec<String>, UserError> {
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
    use super::super::test_support::spec;
    use super::super::{read_dataset, sha256_hex};
    use super::*;
    use std::path::Path;
    use std::sync::Arc;

    use arrow::array::{DictionaryArray, Float64Array, Int64Array, StringArray};
    use arrow::datatypes::Int32Type;
    use arrow::record_batch::RecordBatch;
    use parquet::arrow::ArrowWriter;

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

//! `sample --design`'s counts and theta labels from a text table: each count checked as
//! `sample` checks it, and rows with zero trials refused with their place, or dropped.

use std::collections::HashMap;

use super::cells::{cell_error, check_pair, count_cell, non_empty};
use super::columns::{resolve_columns, ColumnSpec};
use super::rows::Loc;
use super::TextTable;
use crate::error::UserError;

/// The rows kept, with their counts and labels, and the lines of those dropped.
#[derive(Debug)]
pub struct DesignRows {
    /// The table without the dropped rows: what the design is built from.
    pub table: TextTable,
    pub successes: Vec<u32>,
    pub trials: Vec<u32>,
    /// The `--id` value, else the 1-based data row of the file.
    pub labels: Vec<String>,
    /// Lines (Parquet: rows) of the rows with zero trials that were dropped.
    pub dropped: Vec<usize>,
}

/// Counts from columns `successes` and `trials`, labels from `id`; a row with zero trials
/// is an error naming its place unless `drop_empty`.
pub fn design_rows(
    table: TextTable,
    successes: &str,
    trials: &str,
    id: Option<&str>,
    drop_empty: bool,
) -> Result<DesignRows, UserError> {
    let spec = ColumnSpec {
        successes: successes.to_string(),
        trials: trials.to_string(),
        unit: None,
        id: id.map(str::to_string),
        aggregate_ids: false,
        groups: Vec::new(),
    };
    let source = table.source.clone();
    let prefix = if table.parquet {
        source.clone()
    } else {
        format!("{source}:1")
    };
    let lay = resolve_columns(&prefix, &table.names, &spec)?;
    let mut out = DesignRows {
        table: TextTable {
            rows: Vec::new(),
            lines: Vec::new(),
            ..table.clone()
        },
        successes: Vec::new(),
        trials: Vec::new(),
        labels: Vec::new(),
        dropped: Vec::new(),
    };
    let mut first_seen: HashMap<String, Loc> = HashMap::new();
    for (r, (cells, &line)) in table.rows.into_iter().zip(&table.lines).enumerate() {
        let loc = if table.parquet {
            Loc::Row(line as u64)
        } else {
            Loc::Line(line as u64)
        };
        let y = count_cell(&source, loc, &lay.y, &cells[lay.y.number - 1])?;
        let n = count_cell(&source, loc, &lay.n, &cells[lay.n.number - 1])?;
        if n == 0 && drop_empty {
            out.dropped.push(line);
            continue;
        }
        if n == 0 {
            return Err(cell_error(
                &source,
                loc,
                &lay.n,
                "trials is 0: a row without trials says nothing about its rate; remove it, or \
                 give --drop-empty to drop such rows",
            ));
        }
        check_pair(&source, loc, &lay, y, n)?;
        let label = match &lay.id {
            Some(c) => {
                let label = non_empty(&source, loc, c, cells[c.number - 1].clone(), "id")?;
                if let Some(first) = first_seen.insert(label.clone(), loc) {
                    let first = first.describe();
                    let msg =
                        format!("id '{label}' already appears at {first}; ids must be unique");
                    return Err(cell_error(&source, loc, c, msg));
                }
                label
            }
            None => (r + 1).to_string(),
        };
        out.successes.push(y);
        out.trials.push(n);
        out.labels.push(label);
        out.table.rows.push(cells);
        out.table.lines.push(line);
    }
    if out.table.rows.is_empty() {
        return Err(UserError(format!(
            "{source}: no rows with trials left ({} dropped by --drop-empty)",
            out.dropped.len()
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> TextTable {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        std::fs::write(&path, text).unwrap();
        let mut t = super::super::read_text_table(&path).unwrap();
        t.source = "d.csv".into();
        t
    }

    #[test]
    fn zero_trials_are_refused_with_their_place_or_dropped() {
        let text = "y,n,g\n1,2,a\n0,0,b\n3,4,a\n";
        let err = design_rows(table(text), "y", "n", None, false)
            .unwrap_err()
            .0;
        assert!(
            err.starts_with("d.csv:3:2: column 'n': trials is 0"),
            "{err}"
        );
        assert!(err.contains("--drop-empty"), "{err}");
        let kept = design_rows(table(text), "y", "n", None, true).unwrap();
        assert_eq!(kept.dropped, [3]);
        assert_eq!(kept.labels, ["1", "3"]);
        assert_eq!(kept.table.lines, [2, 4]);
        assert_eq!(kept.table.rows[1], ["3", "4", "a"]);
        assert_eq!((kept.successes, kept.trials), (vec![1, 3], vec![2, 4]));
    }

    #[test]
    fn bad_counts_and_repeated_ids() {
        let err = design_rows(table("y,n\n5,4\n"), "y", "n", None, false)
            .unwrap_err()
            .0;
        assert!(
            err.starts_with("d.csv:2:1: column 'y': successes 5 exceed"),
            "{err}"
        );
        let err = design_rows(table("y,n,id\n1,4,a\n1,4,a\n"), "y", "n", Some("id"), false)
            .unwrap_err()
            .0;
        assert!(
            err.contains("d.csv:3:3: column 'id': id 'a' already appears at line 2"),
            "{err}"
        );
    }
}

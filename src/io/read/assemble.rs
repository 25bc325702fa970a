//! Rows into a [`Dataset`]: grouped by unit in first-appearance order, ids checked unique,
//! aggregated and nesting-checked where asked.

use std::collections::HashMap;

use super::aggregate::merge_by_id;
use super::cells::cell_error;
use super::columns::Layout;
use super::groups::check_nesting;
use super::rows::{Loc, RawObs};
use super::Dataset;
use crate::error::UserError;

/// Groups observations by unit (first-appearance order, stable within a unit) and checks ids.
pub(super) fn assemble(
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

#[cfg(test)]
mod tests {
    use super::super::sha256_hex;
    use super::super::test_support::{csv, fails, spec};

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

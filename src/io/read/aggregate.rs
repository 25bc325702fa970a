//! `--aggregate-by`: rows sharing an id within a unit merged into one observation.

use std::collections::HashMap;

use super::cells::cell_error;
use super::columns::Layout;
use super::rows::RawObs;
use crate::error::UserError;

/// Merge rows with the same (unit, id) into the first of them, summing the counts.
pub(super) fn merge_by_id(
    source: &str,
    rows: Vec<RawObs>,
    lay: &Layout,
) -> Result<Vec<RawObs>, UserError> {
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

#[cfg(test)]
mod tests {
    use super::super::test_support::{csv, spec};

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

//! `--group`: the group columns of a multi-level model checked to nest, level by level.

use std::collections::HashMap;

use super::cells::cell_error;
use super::columns::Layout;
use super::rows::{Loc, RawObs};
use crate::error::UserError;

/// Every group (within its unit) lies inside one group of the next column out, and labels
/// of different levels differ, so that `omega[<label>]` names one parameter.
pub(super) fn check_nesting(source: &str, rows: &[RawObs], lay: &Layout) -> Result<(), UserError> {
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
mod tests {
    use super::super::test_support::{csv, fails, spec};

    fn grouped(groups: &[&str]) -> super::super::ColumnSpec {
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

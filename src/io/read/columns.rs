//! Which columns hold what: the user's [`ColumnSpec`] looked up in a header or Parquet
//! schema, each column found once and by name.

use std::collections::HashMap;

use crate::error::UserError;

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

/// A column in use: its header name and 1-based position.
#[derive(Debug, Clone)]
pub(super) struct Col {
    pub(super) name: String,
    pub(super) number: usize,
}

/// The columns of the header that the spec asks for, checked for presence and uniqueness.
pub(super) struct Layout {
    pub(super) y: Col,
    pub(super) n: Col,
    pub(super) unit: Option<Col>,
    pub(super) id: Option<Col>,
    pub(super) groups: Vec<Col>,
    pub(super) aggregate_ids: bool,
}

/// `prefix` is "file:1" for a header line or "file" for a Parquet schema.
pub(super) fn resolve_columns(
    prefix: &str,
    names: &[String],
    cols: &ColumnSpec,
) -> Result<Layout, UserError> {
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
                // Escaped, so that a stray control byte in a header cannot reach the terminal.
                let have: Vec<String> = names
                    .iter()
                    .map(|n| format!("'{}'", n.escape_debug()))
                    .collect();
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

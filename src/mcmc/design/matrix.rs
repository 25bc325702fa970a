//! The design's columns by treatment coding: a factor's non-reference levels as 0/1 columns,
//! a number as itself, an interaction as the products of its variables' columns.

use super::coding::Coding;
use super::formula::Formula;
use crate::error::UserError;

/// One column of the design, column-major.
pub(super) struct Column {
    pub name: String,
    pub values: Vec<f64>,
}

/// An interaction with a factor is coded by contrasts only when the term without that factor
/// is in the model (R's rule); requiring it keeps every factor in treatment coding.
pub(super) fn check_margins(formula: &Formula, codings: &[Coding]) -> Result<(), UserError> {
    for term in formula.terms.iter().filter(|t| t.len() > 1) {
        for &v in term {
            if matches!(codings[v], Coding::Numeric(_)) {
                continue;
            }
            let margin: Vec<usize> = term.iter().copied().filter(|&u| u != v).collect();
            if !formula.terms.contains(&margin) {
                let label = formula.label(term);
                return Err(UserError(format!(
                    "the formula '{}' has the interaction {label} without the term {}: add it, \
                     or write the interaction with '*' ({}), which includes the lower-order terms",
                    formula.normalised(),
                    formula.label(&margin),
                    label.replace(':', "*")
                )));
            }
        }
    }
    Ok(())
}

/// A term's columns: the first variable's levels vary fastest, as in R's model.matrix.
pub(super) fn term_columns(
    formula: &Formula,
    term: &[usize],
    codings: &[Coding],
    n_rows: usize,
) -> Vec<Column> {
    let mut columns = vec![Column {
        name: String::new(),
        values: vec![1.0; n_rows],
    }];
    for &v in term {
        let name = &formula.variables[v].name;
        let join = |prefix: &str, part: String| {
            if prefix.is_empty() {
                part
            } else {
                format!("{prefix}:{part}")
            }
        };
        columns = match &codings[v] {
            Coding::Numeric(x) => columns
                .into_iter()
                .map(|c| Column {
                    name: join(&c.name, name.clone()),
                    values: c.values.iter().zip(x).map(|(a, b)| a * b).collect(),
                })
                .collect(),
            Coding::Factor { levels, codes } => (1..levels.len())
                .flat_map(|level| {
                    columns.iter().map(move |c| Column {
                        name: join(&c.name, format!("{name}{}", levels[level])),
                        values: c
                            .values
                            .iter()
                            .zip(codes)
                            .map(|(a, &code)| if code == level { *a } else { 0.0 })
                            .collect(),
                    })
                })
                .collect(),
        };
    }
    columns
}

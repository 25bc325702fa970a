//! A formula's variable read from the table: a numeric column, or a factor with its levels
//! in R's order (reference first) and each row's level.

use std::cmp::Ordering;

use super::formula::Variable;
use super::Table;
use crate::error::UserError;

/// How a variable enters the design.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Coding {
    Numeric(Vec<f64>),
    /// Levels with the reference first, and each row's index into them.
    Factor {
        levels: Vec<String>,
        codes: Vec<usize>,
    },
}

fn number(cell: &str) -> Option<f64> {
    cell.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// `source:line:col: column 'name': msg`, the readers' form.
fn cell_error(table: &Table, row: usize, col: usize, msg: &str) -> UserError {
    UserError(format!(
        "{}:{}:{}: column '{}': {msg}",
        table.source,
        // A table without line or column numbers is taken as a header line and its rows.
        table.lines.get(row).copied().unwrap_or(row + 2),
        table.columns.get(col).copied().unwrap_or(col + 1),
        table.names[col]
    ))
}

/// Reads `variable`'s column; `reference` moves that level first.
pub(super) fn code(
    variable: &Variable,
    table: &Table,
    reference: Option<&str>,
) -> Result<Coding, UserError> {
    let col = table
        .names
        .iter()
        .position(|n| *n == variable.column)
        .ok_or_else(|| {
            UserError(format!(
                "the formula names '{}', which is not a column of {}; its columns are: {}",
                variable.column,
                table.source,
                table.names.join(", ")
            ))
        })?;
    // A short row's missing cells are empty, reported as such.
    let cells: Vec<&str> = (table.rows.iter())
        .map(|r| r.get(col).map_or("", String::as_str))
        .collect();
    if let Some(row) = cells.iter().position(|c| c.is_empty() || *c == "NA") {
        return Err(cell_error(
            table,
            row,
            col,
            "a missing value (empty or NA); the design needs a value in every row",
        ));
    }
    let numbers: Vec<Option<f64>> = cells.iter().map(|c| number(c)).collect();
    let n_numeric = numbers.iter().filter(|x| x.is_some()).count();
    if !variable.forced_factor {
        if n_numeric == cells.len() {
            if reference.is_some() {
                return Err(UserError(format!(
                    "a reference level is given for '{}', which is numeric; write factor({}) in the formula to treat it as a factor",
                    variable.name, variable.column
                )));
            }
            return Ok(Coding::Numeric(numbers.into_iter().flatten().collect()));
        }
        if 2 * n_numeric > cells.len() {
            let row = numbers.iter().position(Option::is_none).unwrap_or(0);
            return Err(cell_error(
                table,
                row,
                col,
                &format!(
                    "numeric column with text: '{}' is not a number, though {n_numeric} of the {} cells are; fix the cell, or write factor({}) in the formula if the column is meant as a factor",
                    cells[row],
                    cells.len(),
                    variable.column
                ),
            ));
        }
    }
    // factor() of numbers: R orders the levels by value and names them as numbers ("2", not "2.0").
    let labels: Vec<String> = if n_numeric == cells.len() {
        numbers.iter().flatten().map(|x| format!("{x}")).collect()
    } else {
        cells.iter().map(|c| c.to_string()).collect()
    };
    let mut levels: Vec<(String, Option<f64>)> = Vec::new();
    for (label, x) in labels.iter().zip(&numbers) {
        if !levels.iter().any(|(l, _)| l == label) {
            levels.push((label.clone(), *x));
        }
    }
    if n_numeric == cells.len() {
        levels.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap_or(Ordering::Equal));
    } else {
        levels.sort_by(|a, b| collate(&a.0, &b.0));
    }
    let mut levels: Vec<String> = levels.into_iter().map(|(l, _)| l).collect();
    if levels.len() < 2 {
        return Err(UserError(format!(
            "the factor '{}' has one level, '{}', in all {} rows of {}: a factor needs two or more; drop it from the formula",
            variable.name,
            levels.first().map_or("", String::as_str),
            cells.len(),
            table.source
        )));
    }
    if let Some(r) = reference {
        let at = levels
            .iter()
            .position(|l| l == r || number(l).is_some_and(|x| Some(x) == number(r)))
            .ok_or_else(|| {
                UserError(format!(
                    "the reference level '{r}' is not a level of '{}'; its levels are: {}",
                    variable.name,
                    levels.join(", ")
                ))
            })?;
        let level = levels.remove(at);
        levels.insert(0, level);
    }
    let codes = labels
        .iter()
        .map(|l| levels.iter().position(|x| x == l).unwrap_or(0))
        .collect();
    Ok(Coding::Factor { levels, codes })
}

/// Punctuation in the order of ICU's root collation, which R's sort() uses.
const PUNCTUATION: &str = "_-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$";

/// A character's primary weight: space and punctuation, then digits, then letters ignoring case.
fn primary(c: char) -> (u8, u32) {
    if c.is_whitespace() {
        (0, 0)
    } else if let Some(i) = PUNCTUATION.find(c) {
        (1, i as u32)
    } else if c.is_alphabetic() {
        (4, c.to_lowercase().next().unwrap_or(c) as u32)
    } else if c.is_numeric() {
        (3, c as u32)
    } else {
        (2, c as u32)
    }
}

/// R's default order of factor levels (its ICU collation): case-insensitive, then lowercase
/// before uppercase at the first difference; "10" before "9", as text.
pub(super) fn collate(a: &str, b: &str) -> Ordering {
    let primaries = |s: &str| s.chars().map(primary).collect::<Vec<_>>();
    primaries(a).cmp(&primaries(b)).then_with(|| {
        let case = |s: &str| s.chars().map(char::is_uppercase).collect::<Vec<_>>();
        case(a).cmp(&case(b)).then_with(|| a.cmp(b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcmc::design::tests::table;

    fn var(column: &str, forced_factor: bool) -> Variable {
        Variable {
            name: column.to_string(),
            column: column.to_string(),
            forced_factor,
        }
    }

    #[test]
    fn levels_sort_as_r_sorts_them() {
        // R 4 (ICU): levels(factor(c("ab","a_b","a b","a-b","a.b","aB","Ab","a","AB","a1","a10","a9"))).
        let mut v = [
            "ab", "a_b", "a b", "a-b", "a.b", "aB", "Ab", "a", "AB", "a1", "a10", "a9", "Z", "z",
            "_x", "10", "9",
        ];
        v.sort_by(|a, b| collate(a, b));
        assert_eq!(
            v,
            [
                "_x", "10", "9", "a", "a b", "a_b", "a-b", "a.b", "a1", "a10", "a9", "ab", "aB",
                "Ab", "AB", "z", "Z"
            ]
        );
    }

    #[test]
    fn columns_are_numeric_or_factors() {
        let t = table(
            &["g", "n", "m"],
            &[&["b", "2", "x"], &["B", "10", "3"], &["a", "2.0", "4"]],
        );
        let g = code(&var("g", false), &t, None).unwrap();
        assert_eq!(
            g,
            Coding::Factor {
                levels: vec!["a".into(), "b".into(), "B".into()],
                codes: vec![1, 2, 0]
            }
        );
        assert_eq!(
            code(&var("n", false), &t, None).unwrap(),
            Coding::Numeric(vec![2.0, 10.0, 2.0])
        );
        assert_eq!(
            code(&var("n", true), &t, Some("10")).unwrap(),
            Coding::Factor {
                levels: vec!["10".into(), "2".into()],
                codes: vec![1, 0, 1]
            }
        );
        let e = code(&var("m", false), &t, None).unwrap_err().0;
        assert!(
            e.starts_with("t.tsv:2:3: column 'm': numeric column with text: 'x'"),
            "{e}"
        );
        assert!(e.contains("factor(m)"), "{e}");
        assert!(code(&var("m", true), &t, None).is_ok());
    }

    #[test]
    fn bad_columns_are_named() {
        let t = table(&["g", "one", "e"], &[&["b", "A", "1"], &["a", "A", "NA"]]);
        let e = code(&var("h", false), &t, None).unwrap_err().0;
        assert_eq!(
            e,
            "the formula names 'h', which is not a column of t.tsv; its columns are: g, one, e"
        );
        let e = code(&var("one", false), &t, None).unwrap_err().0;
        assert!(
            e.contains("'one' has one level, 'A', in all 2 rows of t.tsv"),
            "{e}"
        );
        let e = code(&var("e", false), &t, None).unwrap_err().0;
        assert!(
            e.starts_with("t.tsv:3:3: column 'e': a missing value"),
            "{e}"
        );
        let e = code(&var("g", false), &t, Some("c")).unwrap_err().0;
        assert!(
            e.contains("'c' is not a level of 'g'; its levels are: a, b"),
            "{e}"
        );
    }
}

//! R-style model formulas (`~ group + cell`) turned into design matrices as R's model.matrix
//! builds them with treatment coding, checked for full rank, and contrasts of their
//! coefficients (`--design`, `--coef`, issue 15).

mod coding;
mod contrast;
mod formula;
mod matrix;
mod rank;

use std::ops::Range;

pub use contrast::parse_contrast;

use crate::error::UserError;

/// A table of text cells as read from a file, for building a design and for messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// File name for messages, e.g. "sheet.tsv".
    pub source: String,
    /// Column names (header).
    pub names: Vec<String>,
    /// Row-major cells, trimmed.
    pub rows: Vec<Vec<String>>,
    /// 1-based line of each row in the file.
    pub lines: Vec<usize>,
    /// 1-based column number in the file of each name (for line:col messages).
    pub columns: Vec<usize>,
}

/// One term of the formula and the design columns it owns.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// "group", "group:cell", "age", "factor(x)".
    pub label: String,
    pub columns: Range<usize>,
    /// The variables as R names them ("group", "factor(x)"), in the label's order.
    pub variables: Vec<String>,
    /// True when every variable in it is a factor.
    pub is_factor: bool,
    /// For a single-factor term: all its levels, reference first; else empty.
    pub levels: Vec<String>,
}

/// A design matrix with R's coefficient names; column 0 is the intercept.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    /// Normalised, every term written out: "~ group + cell + group:cell".
    pub formula: String,
    /// Coefficient names as R's model.matrix gives them: "(Intercept)", "groupSLE", "age".
    pub names: Vec<String>,
    /// In column order, excluding the intercept.
    pub terms: Vec<Term>,
    /// Row-major n_rows x n_cols.
    pub x: Vec<f64>,
    pub n_rows: usize,
}

impl Design {
    pub fn build(formula: &str, table: &Table) -> Result<Design, UserError> {
        Design::build_with_references(formula, table, &[])
    }

    /// As build, with a chosen reference level for some factors (e.g. ("group","A")); a
    /// factor() variable may be named either way ("x" or "factor(x)").
    pub fn build_with_references(
        formula: &str,
        table: &Table,
        references: &[(String, String)],
    ) -> Result<Design, UserError> {
        let parsed = formula::parse(formula)?;
        if table.rows.is_empty() {
            return Err(UserError(format!(
                "{} has no rows to build the design '{formula}' from",
                table.source
            )));
        }
        let normalised = parsed.normalised();
        for (variable, level) in references {
            let named = |v: &formula::Variable| v.name == *variable || v.column == *variable;
            if !parsed.variables.iter().any(named) {
                return Err(UserError(format!(
                    "a reference level '{level}' is given for '{variable}', which is not in the formula '{normalised}'"
                )));
            }
        }
        let codings = parsed
            .variables
            .iter()
            .map(|v| {
                let reference = references
                    .iter()
                    .find(|(name, _)| *name == v.name || *name == v.column)
                    .map(|(_, level)| level.as_str());
                coding::code(v, table, reference)
            })
            .collect::<Result<Vec<_>, _>>()?;
        matrix::check_margins(&parsed, &codings)?;
        let n_rows = table.rows.len();
        let mut names = vec!["(Intercept)".to_string()];
        let mut columns = vec![vec![1.0; n_rows]];
        let mut terms = Vec::new();
        let mut owner = vec![None];
        for term in &parsed.terms {
            let start = columns.len();
            for c in matrix::term_columns(&parsed, term, &codings, n_rows) {
                names.push(c.name);
                columns.push(c.values);
                owner.push(Some(terms.len()));
            }
            let levels = match (term.as_slice(), &codings[term[0]]) {
                ([_], coding::Coding::Factor { levels, .. }) => levels.clone(),
                _ => Vec::new(),
            };
            terms.push(Term {
                label: parsed.label(term),
                columns: start..columns.len(),
                variables: term
                    .iter()
                    .map(|&v| parsed.variables[v].name.clone())
                    .collect(),
                is_factor: term
                    .iter()
                    .all(|&v| matches!(codings[v], coding::Coding::Factor { .. })),
                levels,
            });
        }
        if columns.len() > n_rows {
            return Err(UserError(format!(
                "the design '{normalised}' has {} coefficients ({}) but {} has only {n_rows} rows; \
                 a design needs at least as many rows as coefficients",
                columns.len(),
                names.join(", "),
                table.source
            )));
        }
        if let Some(d) = rank::first_dependence(&columns) {
            return Err(rank_error(&normalised, &names, &terms, &owner, &d));
        }
        let x = (0..n_rows)
            .flat_map(|i| columns.iter().map(move |c| c[i]))
            .collect();
        Ok(Design {
            formula: normalised,
            names,
            terms,
            x,
            n_rows,
        })
    }

    pub fn n_cols(&self) -> usize {
        self.names.len()
    }

    pub fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.n_cols()..(i + 1) * self.n_cols()]
    }

    /// Index of a coefficient by name; the error lists the available names.
    pub fn coefficient(&self, name: &str) -> Result<usize, UserError> {
        if let Some(i) = self.names.iter().position(|n| n == name) {
            return Ok(i);
        }
        // "SLE" for "groupSLE": the level without its variable's name is a common slip.
        let guess = (self.names.iter())
            .find(|n| !name.is_empty() && n.ends_with(name))
            .map_or(String::new(), |n| format!(" (did you mean {n}?)"));
        Err(UserError(format!(
            "no coefficient '{name}' in the design '{}'{guess}; the coefficients are: {}",
            self.formula,
            self.names.join(", ")
        )))
    }

    /// A term by label ("group", "group:cell"); the error lists the terms.
    pub fn term(&self, label: &str) -> Result<&Term, UserError> {
        self.terms.iter().find(|t| t.label == label).ok_or_else(|| {
            let labels: Vec<&str> = self.terms.iter().map(|t| t.label.as_str()).collect();
            UserError(format!(
                "no term '{label}' in the design '{}'; the terms are: {}",
                self.formula,
                labels.join(", ")
            ))
        })
    }

    /// JSON for a Parquet footer: {"formula":..., "coefficients":[...], "rows":[row_names...],
    /// "matrix":[[...],...]}.
    pub fn to_json(&self, row_names: &[String]) -> String {
        let strings = |v: &[String]| {
            let quoted: Vec<String> = v.iter().map(|s| json_string(s)).collect();
            format!("[{}]", quoted.join(","))
        };
        let rows: Vec<String> = (0..self.n_rows)
            .map(|i| {
                let cells: Vec<String> = self.row(i).iter().map(|x| format!("{x}")).collect();
                format!("[{}]", cells.join(","))
            })
            .collect();
        format!(
            "{{\"formula\":{},\"coefficients\":{},\"rows\":{},\"matrix\":[{}]}}",
            json_string(&self.formula),
            strings(&self.names),
            strings(row_names),
            rows.join(",")
        )
    }
}

/// A JSON string literal: quotes, backslashes and control characters escaped.
fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// "not of full rank: in every row, cellrN = (Intercept) - groupSLE, ..." with the terms.
fn rank_error(
    formula: &str,
    names: &[String],
    terms: &[Term],
    owner: &[Option<usize>],
    d: &rank::Dependence,
) -> UserError {
    let column = &names[d.column];
    let mut involved: Vec<usize> = Vec::new();
    for k in std::iter::once(d.column).chain(d.combination.iter().map(|&(k, _)| k)) {
        if let Some(t) = owner[k] {
            if !involved.contains(&t) {
                involved.push(t);
            }
        }
    }
    involved.sort_unstable();
    let labels: Vec<&str> = involved.iter().map(|&t| terms[t].label.as_str()).collect();
    let what = if d.combination.is_empty() {
        format!("{column} is zero in every row")
    } else {
        format!(
            "in every row, {column} = {}",
            rank::write_combination(names, &d.combination)
        )
    };
    let advice = match labels.as_slice() {
        [one] => format!("the term {one} adds nothing the earlier columns do not say; drop it"),
        _ => format!(
            "the data cannot tell the terms {} apart; drop one of them",
            labels.join(" and ")
        ),
    };
    let gloss = same_rows(terms, owner, d).unwrap_or_default();
    UserError(format!(
        "the design '{formula}' is not of full rank: {what}{gloss}, so {advice}"
    ))
}

/// " (the rows with group SLE are exactly those with cell rN)" where the dependence is two
/// factors' levels marking the same rows (or complementary ones): the usual confounding.
fn same_rows(terms: &[Term], owner: &[Option<usize>], d: &rank::Dependence) -> Option<String> {
    // A dummy column of a single-factor term as "variable level".
    let level = |k: usize| {
        let t = &terms[owner[k]?];
        let name = t.levels.get(1 + k - t.columns.start)?;
        Some(format!("{} {name}", t.label))
    };
    let first = level(d.column)?;
    let near = |w: f64, x: f64| (w - x).abs() < 1e-9;
    match *d.combination.as_slice() {
        [(k, w)] if near(w, 1.0) => Some(format!(
            " (the rows with {first} are exactly those with {})",
            level(k)?
        )),
        [(0, w0), (k, w)] if near(w0, 1.0) && near(w, -1.0) => Some(format!(
            " (the rows with {first} are exactly those without {})",
            level(k)?
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests;

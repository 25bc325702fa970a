//! An R model formula parsed into variables and terms: `~ a + factor(b) + a:c + d*e`, with
//! `*` expanded, duplicates dropped and terms ordered by degree, as R's `terms()` does.

use crate::error::UserError;

/// A variable as the formula names it: `group`, `factor(x)` or `` `cell type` ``.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Variable {
    /// The name R gives it in coefficient names.
    pub name: String,
    /// The table's column it reads.
    pub column: String,
    /// Written `factor(column)`: a factor even when every cell is a number.
    pub forced_factor: bool,
}

/// A parsed formula: each term is a set of indices into `variables`, ascending.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Formula {
    pub variables: Vec<Variable>,
    pub terms: Vec<Vec<usize>>,
}

impl Formula {
    /// A term's label, R's: its variables joined by ':' in the order they first appear.
    pub fn label(&self, term: &[usize]) -> String {
        let names: Vec<&str> = term
            .iter()
            .map(|&v| self.variables[v].name.as_str())
            .collect();
        names.join(":")
    }

    /// `~ a + b + a:b`: the formula with every term written out.
    pub fn normalised(&self) -> String {
        let mut labels = vec!["1".to_string()];
        if !self.terms.is_empty() {
            labels = self.terms.iter().map(|t| self.label(t)).collect();
        }
        format!("~ {}", labels.join(" + "))
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Tilde,
    Plus,
    Minus,
    Star,
    Colon,
    Open,
    Close,
    Name(String, bool), // the text, and whether it was written in backticks
    Number(String),
    Other(char),
}

/// Splits the formula into tokens, each with its 1-based character position.
fn tokens(formula: &str) -> Result<Vec<(usize, Tok)>, UserError> {
    let chars: Vec<char> = formula.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i + 1;
        i += 1;
        let tok = match c {
            c if c.is_whitespace() => continue,
            '~' => Tok::Tilde,
            '+' => Tok::Plus,
            '-' => Tok::Minus,
            '*' => Tok::Star,
            ':' => Tok::Colon,
            '(' => Tok::Open,
            ')' => Tok::Close,
            '`' => {
                let end = chars[i..].iter().position(|&c| c == '`').ok_or_else(|| {
                    error(
                        formula,
                        start,
                        "a backtick-quoted name without its closing '`'",
                    )
                })?;
                let name: String = chars[i..i + end].iter().collect();
                i += end + 1;
                Tok::Name(name, true)
            }
            c if c.is_ascii_digit() => {
                let len = chars[i..]
                    .iter()
                    .take_while(|c| c.is_ascii_digit() || **c == '.')
                    .count();
                i += len;
                Tok::Number(chars[start - 1..i].iter().collect())
            }
            c if c.is_alphabetic() || c == '.' => {
                let len = chars[i..]
                    .iter()
                    .take_while(|c| c.is_alphanumeric() || **c == '.' || **c == '_')
                    .count();
                i += len;
                Tok::Name(chars[start - 1..i].iter().collect(), false)
            }
            c => Tok::Other(c),
        };
        out.push((start, tok));
    }
    Ok(out)
}

fn error(formula: &str, position: usize, what: &str) -> UserError {
    UserError(format!(
        "formula '{formula}', at character {position}: {what}"
    ))
}

struct Parser<'a> {
    formula: &'a str,
    toks: Vec<(usize, Tok)>,
    at: usize,
    variables: Vec<Variable>,
}

const NO_INTERCEPT: &str = "betagibbs always fits an intercept (the reference levels' value), \
     so '- 1', '+ 0' and '0 +' are not allowed; write the formula without them";

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|(_, t)| t)
    }

    fn position(&self) -> usize {
        self.toks
            .get(self.at)
            .map_or(self.formula.chars().count() + 1, |(p, _)| *p)
    }

    fn fail(&self, what: &str) -> UserError {
        let found = match self.toks.get(self.at) {
            None => "the end".to_string(),
            Some((_, Tok::Name(n, _))) => format!("'{n}'"),
            Some((_, Tok::Number(n))) => format!("'{n}'"),
            Some((p, _)) => format!("'{}'", self.formula.chars().nth(p - 1).unwrap_or(' ')),
        };
        error(
            self.formula,
            self.position(),
            &format!("expected {what}, found {found}"),
        )
    }

    /// `sum := product ('+' product)*`, where `1` (the intercept) adds no term.
    fn sum(&mut self) -> Result<Vec<Vec<usize>>, UserError> {
        let mut terms = Vec::new();
        loop {
            match self.peek() {
                Some(Tok::Minus) => return Err(self.minus()),
                Some(Tok::Number(n)) if n == "1" => self.at += 1,
                Some(Tok::Number(n)) if n.parse::<f64>() == Ok(0.0) => {
                    return Err(error(self.formula, self.position(), NO_INTERCEPT))
                }
                _ => terms.extend(self.product()?),
            }
            match self.peek() {
                None => return Ok(terms),
                Some(Tok::Plus) => self.at += 1,
                Some(Tok::Minus) => return Err(self.minus()),
                Some(_) => return Err(self.fail("'+', ':', '*' or the end")),
            }
        }
    }

    fn minus(&self) -> UserError {
        let next = self.toks.get(self.at + 1).map(|(_, t)| t);
        if matches!(next, Some(Tok::Number(n)) if n == "1") {
            return error(self.formula, self.position(), NO_INTERCEPT);
        }
        error(
            self.formula,
            self.position(),
            "removing terms with '-' is not supported (write the terms you want; \
             a column name holding '-' is written in backticks, `like-this`)",
        )
    }

    /// `product := interaction ('*' interaction)*`, expanded to every non-empty subset.
    fn product(&mut self) -> Result<Vec<Vec<usize>>, UserError> {
        let mut factors = vec![self.interaction()?];
        while self.peek() == Some(&Tok::Star) {
            self.at += 1;
            factors.push(self.interaction()?);
        }
        let mut terms: Vec<Vec<usize>> = Vec::new();
        for f in factors {
            let crossed: Vec<Vec<usize>> = terms.iter().map(|t| union(t, &f)).collect();
            terms.push(f);
            terms.extend(crossed);
        }
        Ok(terms)
    }

    /// `interaction := variable (':' variable)*`.
    fn interaction(&mut self) -> Result<Vec<usize>, UserError> {
        let mut term = vec![self.variable()?];
        while self.peek() == Some(&Tok::Colon) {
            self.at += 1;
            term = union(&term, &[self.variable()?]);
        }
        Ok(term)
    }

    /// `variable := name | factor(name)`: its index, added at first sight.
    fn variable(&mut self) -> Result<usize, UserError> {
        let Some(Tok::Name(name, quoted)) = self.peek().cloned() else {
            return Err(self.fail("a column name"));
        };
        let start = self.position();
        self.at += 1;
        let variable = if !quoted && self.peek() == Some(&Tok::Open) {
            if name != "factor" {
                return Err(error(
                    self.formula,
                    start,
                    &format!("{name}(): the only function allowed in a formula is factor()"),
                ));
            }
            self.at += 1;
            let Some(Tok::Name(column, quoted)) = self.peek().cloned() else {
                return Err(self.fail("a column name inside factor()"));
            };
            self.at += 1;
            if self.peek() != Some(&Tok::Close) {
                return Err(self.fail("')'"));
            }
            self.at += 1;
            let shown = if quoted {
                format!("`{column}`")
            } else {
                column.clone()
            };
            Variable {
                name: format!("factor({shown})"),
                column,
                forced_factor: true,
            }
        } else {
            Variable {
                name: if quoted {
                    format!("`{name}`")
                } else {
                    name.clone()
                },
                column: name,
                forced_factor: false,
            }
        };
        if let Some(i) = self.variables.iter().position(|v| *v == variable) {
            return Ok(i);
        }
        self.variables.push(variable);
        Ok(self.variables.len() - 1)
    }
}

fn union(a: &[usize], b: &[usize]) -> Vec<usize> {
    let mut u: Vec<usize> = a.iter().chain(b).copied().collect();
    u.sort_unstable();
    u.dedup();
    u
}

/// Parses `formula`: `[~] term (+ term)*`; errors quote the formula and the position.
pub(super) fn parse(formula: &str) -> Result<Formula, UserError> {
    let mut toks = tokens(formula)?;
    if toks.first().map(|(_, t)| t) == Some(&Tok::Tilde) {
        toks.remove(0);
    }
    if toks.is_empty() {
        return Err(error(
            formula,
            1,
            "an empty formula; write e.g. '~ group' or '~ 1' for the intercept alone",
        ));
    }
    let mut parser = Parser {
        formula,
        toks,
        at: 0,
        variables: Vec::new(),
    };
    let mut terms: Vec<Vec<usize>> = Vec::new();
    for term in parser.sum()? {
        // Duplicates dropped, as R's terms() does (a:b and b:a are one term).
        if !terms.contains(&term) {
            terms.push(term);
        }
    }
    // R orders terms by degree: main effects, then two-way interactions, and so on.
    terms.sort_by_key(|t| t.len());
    Ok(Formula {
        variables: parser.variables,
        terms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(formula: &str) -> Vec<String> {
        let f = parse(formula).unwrap();
        f.terms.iter().map(|t| f.label(t)).collect()
    }

    #[test]
    fn terms_are_expanded_deduplicated_and_ordered_as_r_does() {
        assert_eq!(labels("~ group + cell"), ["group", "cell"]);
        assert_eq!(labels("group*cell"), ["group", "cell", "group:cell"]);
        assert_eq!(labels("~ b + a:b"), ["b", "b:a"]);
        assert_eq!(labels("~ a:b + c"), ["c", "a:b"]);
        assert_eq!(
            labels("~a*b*c"),
            ["a", "b", "c", "a:b", "a:c", "b:c", "a:b:c"]
        );
        assert_eq!(labels("~ a:b*c"), ["c", "a:b", "a:b:c"]);
        assert_eq!(labels("~ a + b + b:a + a:b + a"), ["a", "b", "a:b"]);
        assert_eq!(labels("~ 1 + factor(x) + x"), ["factor(x)", "x"]);
        assert_eq!(labels("~ `cell type`"), ["`cell type`"]);
        assert!(labels("~ 1").is_empty());
        assert_eq!(parse("~a*b").unwrap().normalised(), "~ a + b + a:b");
    }

    #[test]
    fn no_intercept_is_refused() {
        for f in ["~ group - 1", "~ 0 + group", "~ group + 0", "~ -1 + group"] {
            let e = parse(f).unwrap_err().0;
            assert!(e.contains("always fits an intercept"), "{f}: {e}");
            assert!(e.contains(f), "{e}");
        }
    }

    #[test]
    fn malformed_formulas_name_the_position() {
        let e = parse("~ group + + cell").unwrap_err().0;
        assert_eq!(
            e,
            "formula '~ group + + cell', at character 11: expected a column name, found '+'"
        );
        let e = parse("~ log(age)").unwrap_err().0;
        assert!(e.contains("only function allowed"), "{e}");
        assert!(parse("~ group cell").unwrap_err().0.contains("character 9"));
        assert!(parse("~ group - cell").unwrap_err().0.contains("'-'"));
        assert!(parse("~").unwrap_err().0.contains("empty formula"));
        assert!(parse("~ factor(x").unwrap_err().0.contains("expected ')'"));
        assert!(parse("~ (a + b)^2").is_err());
        assert!(parse("~ `a").unwrap_err().0.contains("backtick"));
    }
}

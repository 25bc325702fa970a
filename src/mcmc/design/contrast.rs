//! A linear combination of a design's coefficients, `groupB - groupC` or `0.5*a + 0.5*b`,
//! as one weight per column.

use super::Design;
use crate::error::UserError;

struct Reader<'a> {
    expr: &'a str,
    chars: Vec<char>,
    at: usize,
    design: &'a Design,
}

impl Reader<'_> {
    fn skip_space(&mut self) {
        while self.chars.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_space();
        let found = self.chars.get(self.at) == Some(&c);
        self.at += usize::from(found);
        found
    }

    fn fail(&self, what: &str) -> UserError {
        UserError(format!(
            "contrast '{}', at character {}: {what}; the coefficients are: {}",
            self.expr,
            self.at + 1,
            self.design.names.join(", ")
        ))
    }

    /// The longest coefficient name here (so names may hold '-', '+' or ':'), or a
    /// backtick-quoted one.
    fn coefficient(&mut self) -> Result<Option<usize>, UserError> {
        self.skip_space();
        let rest: String = self.chars[self.at..].iter().collect();
        if let Some(quoted) = rest.strip_prefix('`') {
            let Some(end) = quoted.find('`') else {
                return Err(self.fail("a backtick-quoted name without its closing '`'"));
            };
            let name = &quoted[..end];
            let Some(i) = self.design.names.iter().position(|n| n == name) else {
                return Err(self.fail(&format!("no coefficient '{name}'")));
            };
            self.at += name.chars().count() + 2;
            return Ok(Some(i));
        }
        // A name ends where the text does, or at a space or an operator: `groupBx` is not `groupB`.
        let ends = |n: &str| {
            rest[n.len()..]
                .chars()
                .next()
                .is_none_or(|c| c.is_whitespace() || matches!(c, '+' | '-' | '*' | '/'))
        };
        let best = (self.design.names.iter().enumerate())
            .filter(|(_, n)| rest.starts_with(n.as_str()) && ends(n))
            .max_by_key(|(_, n)| n.len());
        Ok(best.map(|(i, n)| {
            self.at += n.chars().count();
            i
        }))
    }

    fn number(&mut self) -> Option<f64> {
        self.skip_space();
        let len = self.chars[self.at..]
            .iter()
            .take_while(|c| c.is_ascii_digit() || **c == '.' || **c == 'e' || **c == 'E')
            .count();
        let text: String = self.chars[self.at..self.at + len].iter().collect();
        let x = text.parse::<f64>().ok().filter(|x| x.is_finite())?;
        self.at += len;
        Some(x)
    }

    /// `item := number '*' name | name ['*' number | '/' number]`.
    fn item(&mut self) -> Result<(usize, f64), UserError> {
        if let Some(i) = self.coefficient()? {
            let w = if self.eat('*') {
                self.number()
                    .ok_or_else(|| self.fail("expected a number after '*'"))?
            } else if self.eat('/') {
                1.0 / self
                    .number()
                    .filter(|&x| x != 0.0)
                    .ok_or_else(|| self.fail("expected a non-zero number after '/'"))?
            } else {
                1.0
            };
            return Ok((i, w));
        }
        let Some(w) = self.number() else {
            let word: String = (self.chars[self.at..].iter())
                .take_while(|c| !c.is_whitespace() && !matches!(c, '+' | '*' | '/'))
                .collect();
            return Err(self.fail(&if word.is_empty() {
                "expected a coefficient name".to_string()
            } else {
                format!("no coefficient '{word}'")
            }));
        };
        if !self.eat('*') {
            return Err(self.fail("expected '*' and a coefficient name after the number"));
        }
        match self.coefficient()? {
            Some(i) => Ok((i, w)),
            None => Err(self.fail("expected a coefficient name")),
        }
    }
}

/// `expr := ['-'] item (('+' | '-') item)*`: one weight per column of `design`.
pub fn parse_contrast(expr: &str, design: &Design) -> Result<Vec<f64>, UserError> {
    let mut r = Reader {
        expr,
        chars: expr.chars().collect(),
        at: 0,
        design,
    };
    let mut weights = vec![0.0; design.n_cols()];
    let mut sign = if r.eat('-') {
        -1.0
    } else {
        r.eat('+');
        1.0
    };
    loop {
        let (i, w) = r.item()?;
        weights[i] += sign * w;
        sign = if r.eat('+') {
            1.0
        } else if r.eat('-') {
            -1.0
        } else {
            r.skip_space();
            if r.at < r.chars.len() {
                return Err(r.fail("expected '+', '-' or the end"));
            }
            break;
        };
    }
    if weights.iter().all(|&w| w == 0.0) {
        return Err(UserError(format!(
            "contrast '{expr}': every weight is zero (the terms cancel)"
        )));
    }
    Ok(weights)
}

//! `--contrast 'A - B'`: a difference of two parameters, taken draw by draw.

use crate::error::UserError;

/// `--contrast 'A - B'`: the posterior of parameter A minus parameter B.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contrast {
    pub left: String,
    pub right: String,
}

impl Contrast {
    /// Split at the first " - " (spaces around the minus, so that names may hold '-').
    pub fn parse(expr: &str) -> Result<Contrast, UserError> {
        match expr.split_once(" - ") {
            Some((l, r)) if !l.trim().is_empty() && !r.trim().is_empty() => Ok(Contrast {
                left: l.trim().to_string(),
                right: r.trim().to_string(),
            }),
            _ => Err(UserError(format!(
                "--contrast {expr:?}: expected 'NAME - NAME', e.g. 'theta[71] - theta[1]'"
            ))),
        }
    }

    /// The name of the contrast's summary row.
    pub fn label(&self) -> String {
        format!("{} - {}", self.left, self.right)
    }

    /// Parameter indices of the two sides, or a message naming what is missing.
    pub(crate) fn resolve(&self, names: &[String]) -> Result<(usize, usize), UserError> {
        let find = |name: &str| {
            names.iter().position(|n| n == name).ok_or_else(|| {
                UserError(format!(
                    "--contrast {:?}: no parameter named {name:?} (names look like {:?}, {:?})",
                    self.label(),
                    names[0],
                    names[names.len() - 1]
                ))
            })
        };
        Ok((find(&self.left)?, find(&self.right)?))
    }
}

//! The observations a model is fitted to: counts grouped by unit, with ids and group labels.
//! The readers in `io::read` build it; `mcmc::model` turns it into a batch.

use std::ops::Range;

/// A validated batch of binomial observations, grouped by unit.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// What messages call the input: the path as given, or e.g. "rats.csv (embedded)".
    pub source: String,
    /// Lowercase hex sha256 of the input file's bytes.
    pub sha256: String,
    /// y, one per observation (grouped by unit).
    pub successes: Vec<u32>,
    /// n, one per observation.
    pub trials: Vec<u32>,
    /// The id column's value, else the 1-based data-row number ("1", "2", ...).
    pub ids: Vec<String>,
    /// One per unit, in order of first appearance; without a unit column exactly one unit "".
    pub unit_labels: Vec<String>,
    /// len n_units + 1: unit u's observations are `unit_offsets[u]..unit_offsets[u + 1]`.
    pub unit_offsets: Vec<u32>,
    pub has_unit_column: bool,
    /// Per group level (innermost first), each observation's group label, in observation
    /// order; empty without group columns. Nesting is checked: a label has one parent.
    pub group_labels: Vec<Vec<String>>,
    /// The group columns' names, innermost first.
    pub group_columns: Vec<String>,
}

impl Dataset {
    pub fn n_obs(&self) -> usize {
        self.successes.len()
    }

    pub fn n_units(&self) -> usize {
        self.unit_labels.len()
    }

    pub(crate) fn unit_range(&self, u: usize) -> Range<usize> {
        self.unit_offsets[u] as usize..self.unit_offsets[u + 1] as usize
    }
}

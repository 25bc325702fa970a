//! Helpers shared by the tests of `io::read` and its submodules.

use super::{parse_delimited, ColumnSpec, Dataset};
use crate::error::UserError;

pub(super) fn spec(unit: Option<&str>, id: Option<&str>) -> ColumnSpec {
    ColumnSpec {
        aggregate_ids: false,
        successes: "y".into(),
        trials: "n".into(),
        unit: unit.map(str::to_string),
        id: id.map(str::to_string),
        groups: Vec::new(),
    }
}

pub(super) fn csv(text: &str, cols: &ColumnSpec) -> Result<Dataset, UserError> {
    parse_delimited(text.as_bytes(), "data.csv", b',', cols)
}

/// Asserts the parse fails and the message contains every fragment.
pub(super) fn fails(text: &str, cols: &ColumnSpec, fragments: &[&str]) -> String {
    let msg = match csv(text, cols) {
        Ok(_) => panic!("expected an error for {text:?}"),
        Err(e) => e.0,
    };
    for f in fragments {
        assert!(msg.contains(f), "message {msg:?} lacks {f:?}");
    }
    assert!(!msg.contains('\n'), "message should be one line: {msg:?}");
    msg
}

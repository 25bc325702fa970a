//! One observation as read, before grouping, and where in the file it came from.

/// Where an observation came from, for messages.
#[derive(Debug, Clone, Copy)]
pub(super) enum Loc {
    /// Physical 1-based line of a delimited file (header = line 1).
    Line(u64),
    /// 1-based data row of a Parquet file.
    Row(u64),
}

impl Loc {
    pub(super) fn describe(self) -> String {
        match self {
            Loc::Line(l) => format!("line {l}"),
            Loc::Row(r) => format!("row {r}"),
        }
    }
}

/// One observation before grouping.
pub(super) struct RawObs {
    pub(super) unit: String,
    /// One label per group column, innermost first.
    pub(super) groups: Vec<String>,
    pub(super) id: Option<String>,
    pub(super) y: u32,
    pub(super) n: u32,
    pub(super) loc: Loc,
}

//! The data sets built into the binary, for `demo`, `bench` and `compare --demo`: the rat
//! tumours of BDA3 ch. 5 and Kruschke's batting averages (provenance: data/SOURCES.md).

use crate::io::read::{parse_delimited, ColumnSpec, Dataset};

/// The rat-tumour table of BDA3 ch. 5 (provenance: data/SOURCES.md).
pub const RATS_CSV: &[u8] = include_bytes!("../../data/rats.csv");
/// Kruschke's 2012 batting table, DBDA2 ch. 9 (provenance: data/SOURCES.md).
pub const BATTING_CSV: &[u8] = include_bytes!("../../data/batting_average.csv");

/// The data sets built into the binary, for `demo` and `bench`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Embedded {
    /// 71 rat experiments, one level (BDA3 ch. 5).
    Rats,
    /// 948 players in 9 primary positions, two levels (Kruschke DBDA2 ch. 9).
    Baseball,
}

impl Embedded {
    pub fn source(self) -> &'static str {
        match self {
            Embedded::Rats => "rats.csv (embedded)",
            Embedded::Baseball => "batting_average.csv (embedded)",
        }
    }

    pub fn columns(self) -> ColumnSpec {
        let (successes, trials, id, groups) = match self {
            Embedded::Rats => ("tumors", "rats", "experiment", vec![]),
            Embedded::Baseball => ("Hits", "AtBats", "Player", vec!["PriPos".to_string()]),
        };
        ColumnSpec {
            successes: successes.into(),
            trials: trials.into(),
            unit: None,
            id: Some(id.into()),
            aggregate_ids: false,
            groups,
        }
    }

    /// The table, parsed and validated like any input.
    pub fn dataset(self) -> Dataset {
        let bytes = match self {
            Embedded::Rats => RATS_CSV,
            Embedded::Baseball => BATTING_CSV,
        };
        parse_delimited(bytes, self.source(), b',', &self.columns())
            .expect("the embedded tables are valid")
    }
}

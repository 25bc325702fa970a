//! Design matrices against R's model.matrix: tests/fixtures/design/model_matrix.txt holds R's
//! coefficient names and matrices (written by model_matrix.R beside it) for formulas on
//! table.tsv and on the 22 mice of ../shared/data/sampleData.csv.

mod common;

use std::path::Path;

use betagibbs::mcmc::design::{Design, Table};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/design");

/// A delimited file as a design Table: header on line 1, no quoting (the fixtures need none).
fn read_table(path: &Path, delimiter: char) -> Table {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let split = |l: &str| {
        l.split(delimiter)
            .map(|c| c.trim().to_string())
            .collect::<Vec<_>>()
    };
    let names = split(lines.next().unwrap());
    let rows: Vec<Vec<String>> = lines.map(split).collect();
    Table {
        source: path.file_name().unwrap().to_string_lossy().into_owned(),
        columns: (1..=names.len()).collect(),
        lines: (2..rows.len() + 2).collect(),
        names,
        rows,
    }
}

/// R's answer for one formula.
struct Expected {
    data: String,
    formula: String,
    names: Vec<String>,
    rows: Vec<Vec<f64>>,
}

fn expected() -> Vec<Expected> {
    let text = std::fs::read_to_string(Path::new(FIXTURES).join("model_matrix.txt")).unwrap();
    let mut out: Vec<Expected> = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields[0] {
            "formula" => out.push(Expected {
                data: fields[1].to_string(),
                formula: fields[2].to_string(),
                names: Vec::new(),
                rows: Vec::new(),
            }),
            "names" => {
                out.last_mut().unwrap().names = fields[1..].iter().map(|s| s.to_string()).collect()
            }
            "row" => out
                .last_mut()
                .unwrap()
                .rows
                .push(fields[1..].iter().map(|s| s.parse().unwrap()).collect()),
            other => panic!("model_matrix.txt: unknown line kind {other:?}"),
        }
    }
    out
}

fn check(e: &Expected, table: &Table) {
    let d = Design::build(&e.formula, table).unwrap_or_else(|err| panic!("{}: {err}", e.formula));
    assert_eq!(d.names, e.names, "{}", e.formula);
    assert_eq!(d.n_rows, e.rows.len(), "{}", e.formula);
    for (i, row) in e.rows.iter().enumerate() {
        assert_eq!(d.row(i), row.as_slice(), "{}, row {}", e.formula, i + 1);
    }
}

#[test]
fn designs_match_r_model_matrix() {
    let table = read_table(&Path::new(FIXTURES).join("table.tsv"), '\t');
    let cases: Vec<Expected> = expected()
        .into_iter()
        .filter(|e| e.data == "table.tsv")
        .collect();
    assert_eq!(cases.len(), 11);
    for e in &cases {
        check(e, &table);
    }
}

#[test]
#[ignore = "needs ../shared/data"]
fn the_22_mice_get_r_names() {
    let table = read_table(&common::shared_data("sampleData.csv"), ',');
    let e = expected()
        .into_iter()
        .find(|e| e.data == "sampleData.csv")
        .unwrap();
    assert_eq!(
        e.names,
        [
            "(Intercept)",
            "group1Treatment2",
            "group1Treatment3",
            "group2wt/wt",
            "group3male"
        ]
    );
    check(&e, &table);
}

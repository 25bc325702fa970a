//! `export` and `methyl --export`: genome-browser tracks of a methyl run, checked against the
//! Parquet outputs they come from (BED intervals 0-based half-open, one track line each).

mod common;

use std::path::Path;

use common::cli::{arg, small_methyl};
use common::{betagibbs, Table};

/// A track file's data lines, split on tabs, after its one track line.
fn track(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let head = lines.next().unwrap();
    assert!(head.starts_with("track "), "{}: {head}", path.display());
    lines
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

#[test]
fn tracks_match_the_run_they_come_from() {
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study");
    betagibbs(&["simulate", "--sites", "3000", "--out", arg(&study)]).assert_success();
    let out = dir.path().join("fit");
    small_methyl(
        &study.join("sheet.tsv"),
        &out,
        &["--compare", "A,B", "--export"],
    )
    .assert_success();
    let browser = out.join("browser");
    // The calls: every DML one BED9 line, coloured by its direction.
    let dml = Table::read(&out.join("dml.parquet"));
    let bed = track(&browser.join("dml.bed"));
    assert!(dml.rows > 0);
    assert_eq!(bed.len(), dml.rows);
    let (pos, delta) = (dml.numbers("pos"), dml.numbers("delta_mean"));
    for (i, row) in bed.iter().enumerate() {
        assert_eq!(row.len(), 9, "{row:?}");
        assert_eq!(row[0], dml.text("chr")[i]);
        assert_eq!(row[1].parse::<f64>().unwrap(), pos[i] - 1.0);
        assert_eq!(row[2].parse::<f64>().unwrap(), pos[i]);
        let score: i64 = row[4].parse().unwrap();
        assert!((0..=1000).contains(&score));
        let up = delta[i] > 0.0;
        assert_eq!(row[8], if up { "178,24,43" } else { "33,102,172" });
    }
    // The regions: the same intervals as dmr.parquet's first and last CpG.
    let dmr = Table::read(&out.join("dmr.parquet"));
    let bed = track(&browser.join("dmr.bed"));
    assert_eq!(bed.len(), dmr.rows);
    for (i, row) in bed.iter().enumerate() {
        assert_eq!(
            row[1].parse::<f64>().unwrap(),
            dmr.numbers("start")[i] - 1.0
        );
        assert_eq!(row[2].parse::<f64>().unwrap(), dmr.numbers("end")[i]);
    }
    // Every site's difference and group means, in sites.parquet's order.
    let sites = Table::read(&out.join("sites.parquet"));
    for (file, column) in [
        ("delta.bedGraph", "delta_mean"),
        ("mu_A.bedGraph", "mu_A_mean"),
        ("mu_B.bedGraph", "mu_B_mean"),
    ] {
        let graph = track(&browser.join(file));
        assert_eq!(graph.len(), sites.rows, "{file}");
        for (row, want) in graph.iter().zip(sites.numbers(column)) {
            assert_eq!(row.len(), 4);
            let got: f64 = row[3].parse().unwrap();
            assert!((got - want).abs() <= 5e-5, "{file}: {got} vs {want}");
        }
    }
    // `export` on its own gives the same files; on a directory of no methyl run, exit 2.
    let again = dir.path().join("again");
    betagibbs(&["export", arg(&out), "--out", arg(&again)]).assert_success();
    for file in ["dml.bed", "dmr.bed", "delta.bedGraph"] {
        assert_eq!(
            std::fs::read(browser.join(file)).unwrap(),
            std::fs::read(again.join(file)).unwrap()
        );
    }
    betagibbs(&["export", arg(&study)]).assert_user_error(&["no sites.parquet"]);
}

/// `plot` on a methyl run draws its volcano plot by default; asked of a run without
/// sites.parquet, the figure exits 2 naming the file it needs.
#[test]
fn plot_draws_a_methyl_runs_volcano() {
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study");
    betagibbs(&["simulate", "--sites", "2000", "--out", arg(&study)]).assert_success();
    let out = dir.path().join("fit");
    small_methyl(&study.join("sheet.tsv"), &out, &["--compare", "A,B"]).assert_success();
    let run = betagibbs(&["plot", arg(&out)]);
    run.assert_success();
    let svg = out.join("figures/volcano.svg");
    assert!(run.stdout.contains("volcano.svg"), "{}", run.stdout);
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains("Volcano plot") && text.contains("call threshold"));
    let demo = dir.path().join("demo");
    betagibbs(&[
        "demo",
        "--out",
        arg(&demo),
        "--draws",
        "20",
        "--warmup",
        "20",
        "--quiet",
    ])
    .assert_success();
    betagibbs(&["plot", arg(&demo), "--figure", "volcano"])
        .assert_user_error(&["volcano", "sites.parquet"]);
}

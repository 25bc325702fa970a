//! `export` and `methyl --export`: genome-browser tracks of a methyl run, checked against the
//! Parquet outputs they come from (BED intervals 0-based half-open, one track line each).

mod common;

use std::path::{Path, PathBuf};

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

/// A simulated study of 3,000 CpGs in `dir/study`, fitted into `dir/fit` with `flag` added
/// (`--export` or `--plot`); the two paths.
fn fitted_study(dir: &Path, flag: &str) -> (PathBuf, PathBuf) {
    let (study, out) = (dir.join("study"), dir.join("fit"));
    betagibbs(&["simulate", "--sites", "3000", "--out", arg(&study)]).assert_success();
    small_methyl(&study.join("sheet.tsv"), &out, &["--compare", "A,B", flag]).assert_success();
    (study, out)
}

#[test]
fn tracks_match_the_run_they_come_from() {
    let dir = tempfile::tempdir().unwrap();
    let (study, out) = fitted_study(dir.path(), "--export");
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
    // Each bedGraph also as a bigWig (its magic number first; pyBigWig reads the values in
    // tests/test_browser_tracks.py).
    for stem in ["delta", "mu_A", "mu_B"] {
        let bw = std::fs::read(browser.join(format!("{stem}.bw"))).unwrap();
        assert_eq!(bw[..4], 0x888F_FC26u32.to_le_bytes(), "{stem}.bw");
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

/// `methyl --plot` draws every figure of the run: the volcano plot, the chromosome overview,
/// the distributions with the calibration against the simulated truth beside the sheet, and a
/// region plot of each of the top DMRs, with every sample's counts. A region without CpGs,
/// or a sheet that is not there, exits 2 and writes nothing; a figure asked of a run without
/// sites.parquet exits 2 naming the file it needs.
#[test]
fn plot_draws_a_methyl_runs_figures() {
    let dir = tempfile::tempdir().unwrap();
    let (_, out) = fitted_study(dir.path(), "--plot");
    let figures = out.join("figures");
    let text = |name: &str| std::fs::read_to_string(figures.join(name)).unwrap();
    assert!(
        text("volcano.svg").contains("Volcano plot")
            && text("volcano.svg").contains("call threshold")
    );
    assert!(text("overview.svg").contains("chr3"));
    assert!(text("distributions.svg").contains("calibration against the truth"));
    // The calibration covers every site (all are in truth.tsv), in the benchmark's bins.
    let sites = Table::read(&out.join("sites.parquet"));
    let calibration = text("calibration.tsv");
    let rows: Vec<Vec<f64>> = calibration
        .lines()
        .skip(1)
        .map(|l| l.split('\t').map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 5, "{calibration}");
    assert_eq!(rows.iter().map(|r| r[2]).sum::<f64>() as usize, sites.rows);
    assert!(
        rows[0][4] < 0.2 && rows[4][2] > 0.0 && rows[4][4] > 0.8,
        "{calibration}"
    );
    // One region plot per top DMR, each sample's counts drawn as points.
    let dmr = Table::read(&out.join("dmr.parquet"));
    let regions: Vec<String> = std::fs::read_dir(&figures)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("region-"))
        .collect();
    assert_eq!(regions.len(), dmr.rows.min(4), "{regions:?}");
    for name in &regions {
        let svg = text(name);
        assert!(svg.contains("A (2 samples; mean, 95% band)"), "{name}");
        assert!(svg.matches("<circle").count() > 8, "{name}");
    }
    // A window with no CpG, and a sheet that is not there: exit 2, nothing written.
    let elsewhere = dir.path().join("elsewhere");
    betagibbs(&[
        "plot",
        arg(&out),
        "--region",
        "chr1:1-5",
        "--out",
        arg(&elsewhere),
    ])
    .assert_user_error(&["--region chr1:1-5", "no CpG"]);
    assert!(!elsewhere.join("region-1-chr1_1-5.svg").exists());
    betagibbs(&[
        "plot",
        arg(&out),
        "--figure",
        "region",
        "--sheet",
        "nosuch.tsv",
        "--out",
        arg(&elsewhere),
    ])
    .assert_user_error(&["nosuch.tsv", "--sheet"]);
    // A window asked for draws that window alone.
    let run = betagibbs(&[
        "plot",
        arg(&out),
        "--region",
        "chr2:10000-12000",
        "--out",
        arg(&elsewhere),
    ]);
    run.assert_success();
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    assert!(elsewhere.join("region-1-chr2_10000-12000.svg").is_file());
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

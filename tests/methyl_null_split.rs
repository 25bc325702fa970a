//! Null splits of real data: groups that cannot differ by design, so every call is false.
//! The model did not generate these data; a caller whose stated FDR is honest makes at most a
//! handful of calls here (DSS makes none with its default rule).

mod common;

use std::path::Path;

use betagibbs::methyl::run::run_methyl;

/// At most this many false DMLs or DMRs on a null split: "a handful".
const MAX_FALSE_CALLS: u64 = 5;

/// Fit the two-group comparison A (files `a`) against B (files `b`) of `data` and return the
/// report.
fn fit(data: &Path, a: &[&str], b: &[&str], out: &Path) -> betagibbs::methyl::run::MethylReport {
    let mut sheet = String::from("sample\tfile\tgroup\n");
    for (group, files) in [("A", a), ("B", b)] {
        for f in files {
            sheet.push_str(&format!("{f}\t{}\t{group}\n", data.join(f).display()));
        }
    }
    std::fs::create_dir_all(out).unwrap();
    let sheet_path = out.join("sheet.tsv");
    std::fs::write(&sheet_path, sheet).unwrap();
    run_methyl(&common::methyl_config(sheet_path, out.join("fit"))).unwrap()
}

/// DSS's 2 x 2 example split so that each group holds one sample of each condition.
#[test]
fn dss_example_null_split_makes_no_more_than_a_handful_of_calls() {
    let Some(data) = common::shared_data("dss_null_split", "cond1_1.txt.gz") else {
        return;
    };
    let data = data.parent().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let report = fit(
        data,
        &["cond1_1.txt.gz", "cond2_1.txt.gz"],
        &["cond1_2.txt.gz", "cond2_2.txt.gz"],
        dir.path(),
    );
    eprintln!(
        "DSS example, null split: {} sites, {} DMLs, {} DMRs",
        report.sites, report.dml, report.dmr
    );
    assert!(report.sites > 18_000);
    assert!(report.dml <= MAX_FALSE_CALLS && report.dmr <= MAX_FALSE_CALLS);
}

/// The eight healthy controls of DSS's RRBS example, 4 against 4, two cells of each type a side.
#[test]
fn rrbs_controls_null_split_makes_no_more_than_a_handful_of_calls() {
    let Some(data) = common::shared_data("rrbs_null_split", "dss_rrbs/Sample1.txt.gz") else {
        return;
    };
    let data = data.parent().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Healthy controls (sheet.tsv): rN = 1, 2, 3, 16; aN = 12, 13, 14, 15.
    let file = |k: u32| format!("Sample{k}.txt.gz");
    let (a, b) = ([1, 2, 12, 13].map(file), [3, 16, 14, 15].map(file));
    let (a, b) = (
        a.each_ref().map(String::as_str),
        b.each_ref().map(String::as_str),
    );
    let report = fit(data, &a, &b, dir.path());
    eprintln!(
        "RRBS controls, null split: {} sites, {} DMLs, {} DMRs",
        report.sites, report.dml, report.dmr
    );
    assert!(report.sites > 4_000);
    assert!(report.dml <= MAX_FALSE_CALLS && report.dmr <= MAX_FALSE_CALLS);
}

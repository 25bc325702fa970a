//! Null splits of real data: groups that cannot differ by design, so every call is false.
//! The model did not generate these data; a caller whose stated FDR is honest makes at most a
//! handful of calls here (DSS makes none with its default rule).

mod common;

use betagibbs::methyl::merge::SiteMerger;
use betagibbs::methyl::run::run_methyl;
use betagibbs::methyl::sheet::SampleSheet;

/// At most this many false DMLs or DMRs on a null split: "a handful".
const MAX_FALSE_CALLS: u64 = 5;

/// Fit the two-group comparison A (files `a`) against B (files `b`), paths under
/// ../shared/data, and check that it tests every site the merge keeps and makes at most a
/// handful of calls.
fn check_null_split(what: &str, a: &[&str], b: &[&str]) {
    let mut sheet = String::from("sample\tfile\tgroup\n");
    for (group, files) in [("A", a), ("B", b)] {
        for f in files {
            let path = common::shared_data(f);
            let sample = path.file_name().unwrap().to_string_lossy();
            sheet.push_str(&format!("{sample}\t{}\t{group}\n", path.display()));
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let sheet_path = dir.path().join("sheet.tsv");
    std::fs::write(&sheet_path, sheet).unwrap();
    let config = common::methyl_config(sheet_path, dir.path().join("fit"));
    let report = run_methyl(&config).unwrap();
    let samples = SampleSheet::read(&config.sheet).unwrap();
    let mut merger = SiteMerger::open(&samples, config.filter).unwrap();
    while merger.next_site().unwrap().is_some() {}
    eprintln!(
        "{what}, null split: {} sites, {} DMLs, {} DMRs",
        report.sites, report.dml, report.dmr
    );
    assert_eq!(report.sites, merger.sites_kept, "{what}: sites tested");
    assert!(
        report.dml <= MAX_FALSE_CALLS && report.dmr <= MAX_FALSE_CALLS,
        "{what}: {} DMLs, {} DMRs",
        report.dml,
        report.dmr
    );
}

/// DSS's 2 x 2 example split so that each group holds one sample of each condition.
#[test]
#[ignore = "needs ../shared/data"]
fn dss_example_null_split_makes_no_more_than_a_handful_of_calls() {
    check_null_split(
        "DSS example",
        &["cond1_1.txt.gz", "cond2_1.txt.gz"],
        &["cond1_2.txt.gz", "cond2_2.txt.gz"],
    );
}

/// The eight healthy controls of DSS's RRBS example, 4 against 4, two cells of each type a side.
#[test]
#[ignore = "needs ../shared/data"]
fn rrbs_controls_null_split_makes_no_more_than_a_handful_of_calls() {
    // Healthy controls (sheet.tsv): rN = 1, 2, 3, 16; aN = 12, 13, 14, 15.
    let file = |k: u32| format!("dss_rrbs/Sample{k}.txt.gz");
    let (a, b) = ([1, 2, 12, 13].map(file), [3, 16, 14, 15].map(file));
    check_null_split(
        "RRBS controls",
        &a.each_ref().map(String::as_str),
        &b.each_ref().map(String::as_str),
    );
}

//! `sample --design` end to end: R's coefficient names and kappa in the summary, a row with
//! zero trials refused at its line unless --drop-empty (which says how many it dropped), the
//! GPU refused, and the 22 mice of the method's author.

mod common;

use common::cli::{arg, sample, sample_head, write};
use common::{betagibbs, Table};

const TABLE: &str = "y,n,treatment,sex\n12,30,a,f\n15,28,a,m\n9,31,a,f\n20,35,b,m\n0,0,b,f\n22,30,b,m\n18,27,c,f\n25,33,c,m\n";

#[test]
fn a_design_fits_names_its_coefficients_and_refuses_zero_trials() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "counts.csv", TABLE);
    let out = dir.path().join("fit");
    let design = ["--design", "~ treatment + sex"];
    sample(&data, &out, &design).assert_user_error(&["counts.csv:6:", "--drop-empty"]);
    assert!(!out.exists(), "output left behind");
    let run = sample(&data, &out, &[&design[..], &["--drop-empty"]].concat());
    run.assert_success();
    assert!(run.stderr.contains("dropped 1 row"), "{}", run.stderr);
    let summary = Table::read(&out.join("summary.parquet"));
    let names = summary.text("parameter");
    for want in [
        "coef[(Intercept)]",
        "coef[treatmentb]",
        "coef[treatmentc]",
        "coef[sexm]",
        "kappa",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
    }
    let gpu_out = dir.path().join("gpu");
    let head = sample_head(&data, &gpu_out);
    let gpu = betagibbs(&[&head[..], &design, &["--drop-empty", "--device", "gpu"]].concat());
    gpu.assert_user_error(&["CPU"]);
}

#[test]
#[ignore = "needs ../shared/data"]
fn the_22_mice_fit() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mice");
    let data = common::shared_data("sampleData.csv");
    betagibbs(&[
        "sample",
        arg(&data),
        "--successes",
        "methylated",
        "--trials",
        "total",
        "--design",
        "~ group1 + group2 + group3",
        "--drop-empty",
        "--device",
        "cpu",
        "--quiet",
        "--out",
        arg(&out),
    ])
    .assert_success();
    let summary = Table::read(&out.join("summary.parquet"));
    assert!(summary
        .text("parameter")
        .iter()
        .any(|n| n == "coef[group1Treatment2]"));
}

//! A sharded run (`methyl prior`, `methyl fit` per shard, `methyl call`) against the whole
//! run with the same seed: the same sites, DMLs and DMRs, bit for bit, with a shard boundary
//! inside a chromosome and inside a simulated DMR.

mod common;

use std::path::{Path, PathBuf};

use common::cli::{arg, simulated_study, small_methyl_settings, CliRun};
use common::{betagibbs, Table};

/// `methyl prior SHEET FLAGS --out PRIOR`.
fn learn_prior(sheet: &Path, flags: &[&str], prior: &Path) {
    let head = ["methyl", "prior", arg(sheet)];
    betagibbs(&[&head[..], flags, &["--out", arg(prior)]].concat()).assert_success();
}

/// `methyl fit SHEET --prior PRIOR --region REGION FLAGS --out PART`.
fn fit(sheet: &Path, prior: &Path, region: &str, flags: &[&str], part: &Path) -> CliRun {
    let head = [
        "methyl",
        "fit",
        arg(sheet),
        "--prior",
        arg(prior),
        "--region",
        region,
    ];
    betagibbs(&[&head[..], flags, &["--out", arg(part)]].concat())
}

/// A position inside the whole run's first DMR on chr2, between two of its CpGs.
fn cut_inside_a_dmr(whole: &Path) -> u64 {
    let dmr = Table::read(&whole.join("dmr.parquet"));
    let i = (0..dmr.rows)
        .find(|&i| dmr.text("chr")[i] == "chr2")
        .expect("a DMR on chr2");
    ((dmr.numbers("start")[i] + dmr.numbers("end")[i]) / 2.0) as u64
}

/// Every column of a table as bit patterns (text as is), for exact comparison.
fn bits(table: &Table, column: &str) -> Vec<String> {
    if let Some(text) = table.text.get(column) {
        return text.clone();
    }
    table
        .numbers(column)
        .iter()
        .map(|v| format!("{:x}", v.to_bits()))
        .collect()
}

/// The Hive dataset `dir/sites` as one table's columns, the partition's chr added back,
/// chromosomes in `order`.
fn hive_sites(dir: &Path, order: &[&str], columns: &[String]) -> Vec<Vec<String>> {
    let mut out = vec![Vec::new(); columns.len()];
    for chr in order {
        let partition = dir.join("sites").join(format!("chr={chr}"));
        let mut files: Vec<PathBuf> = std::fs::read_dir(&partition)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for file in files {
            let t = Table::read(&file);
            assert!(
                !t.text.contains_key("chr"),
                "a partition's file holds no chr"
            );
            for (k, c) in columns.iter().enumerate() {
                if c == "chr" {
                    out[k].extend(std::iter::repeat_n(chr.to_string(), t.rows));
                } else {
                    out[k].extend(bits(&t, c));
                }
            }
        }
    }
    out
}

/// The whole run and the sharded run of one study and question agree exactly.
fn sharded_run_is_the_whole_run(
    device: &'static str,
    sites: &str,
    simulate: &[&str],
    question: &[&str],
) {
    let dir = tempfile::tempdir().unwrap();
    let sheet = simulated_study(dir.path(), sites, simulate);
    let flags = [&small_methyl_settings(device)[..], question].concat();
    let whole = dir.path().join("whole");
    betagibbs(
        &[
            &["methyl", arg(&sheet)],
            &flags[..],
            &["--out", arg(&whole)],
        ]
        .concat(),
    )
    .assert_success();

    let prior = dir.path().join("prior");
    learn_prior(&sheet, &flags, &prior);
    let cut = cut_inside_a_dmr(&whole);
    let regions = [
        "chr3".to_string(),
        format!("chr2:{}-4000000000", cut + 1),
        "chr1".to_string(),
        format!("chr2:1-{cut}"),
    ];
    let mut parts = Vec::new();
    for (k, region) in regions.iter().enumerate() {
        let part = dir.path().join(format!("part{k}"));
        fit(&sheet, &prior, region, &flags, &part).assert_success();
        parts.push(part);
    }
    let call = dir.path().join("call");
    let part_args: Vec<&str> = parts.iter().map(|p| arg(p)).collect();
    betagibbs(
        &[
            &["methyl", "call"],
            &part_args[..],
            &["--prior", arg(&prior), "--quiet", "--out", arg(&call)],
        ]
        .concat(),
    )
    .assert_success();

    // plot and export read one sites.parquet, and say how to make it from the dataset.
    betagibbs(&["export", arg(&call)]).assert_user_error(&["--sites-file"]);
    let single = Table::read(&whole.join("sites.parquet"));
    let mut columns: Vec<String> = single
        .text
        .keys()
        .chain(single.numbers.keys())
        .cloned()
        .collect();
    columns.sort();
    let sharded = hive_sites(&call, &["chr1", "chr2", "chr3"], &columns);
    for (k, c) in columns.iter().enumerate() {
        assert_eq!(bits(&single, c), sharded[k], "sites.parquet column {c}");
    }
    for file in ["dml.parquet", "dmr.parquet"] {
        let (a, b) = (
            Table::read(&whole.join(file)),
            Table::read(&call.join(file)),
        );
        assert_eq!(a.rows, b.rows, "{file}");
        for c in a.text.keys().chain(a.numbers.keys()) {
            assert_eq!(bits(&a, c), bits(&b, c), "{file} column {c}");
        }
    }
    // The cut lies inside a called DMR: the sharded run called it whole, as above.
    assert!(single.rows > 1000);

    // With --sites-file, one sites.parquet as the single run's, which `export` reads.
    let one = dir.path().join("one");
    let args = [
        &["methyl", "call", "--sites-file"],
        &part_args[..],
        &["--prior", arg(&prior), "--quiet", "--out", arg(&one)],
    ]
    .concat();
    betagibbs(&args).assert_success();
    let joined = Table::read(&one.join("sites.parquet"));
    for c in &columns {
        assert_eq!(
            bits(&single, c),
            bits(&joined, c),
            "--sites-file: column {c}"
        );
    }
    assert!(!one.join("sites").exists());
    betagibbs(&["export", arg(&one)]).assert_success();
}

#[test]
fn a_sharded_run_is_the_whole_run_on_the_cpu() {
    sharded_run_is_the_whole_run("cpu", "6000", &[], &["--compare", "A,B"]);
}

#[test]
fn a_sharded_run_is_the_whole_run_on_the_gpu() {
    sharded_run_is_the_whole_run("gpu", "1500", &[], &["--compare", "A,B"]);
}

#[test]
fn a_sharded_design_is_the_whole_design() {
    sharded_run_is_the_whole_run(
        "cpu",
        "3000",
        &["--replicates", "3", "--covariate", "batch=factor:2"],
        &["--design", "~ group + batch", "--coef", "groupB"],
    );
}

#[test]
fn shards_that_do_not_tile_the_study_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sheet = simulated_study(dir.path(), "1500", &[]);
    let flags = [&small_methyl_settings("cpu")[..], &["--compare", "A,B"]].concat();
    let prior = dir.path().join("prior");
    learn_prior(&sheet, &flags, &prior);
    let fit = |name: &str, region: &str, extra: &[&str]| {
        let part = dir.path().join(name);
        let run = fit(&sheet, &prior, region, &[&flags[..], extra].concat(), &part);
        (part, run)
    };
    // Other settings than the prior's.
    let (other, run) = fit("other", "chr1", &["--chains", "8"]);
    run.assert_user_error(&["chains", "the prior's 4", "this run's 8"]);
    assert!(!other.exists());
    let (a, run) = fit("a", "chr1:1-3000", &[]);
    run.assert_success();
    let (b, run) = fit("b", "chr1:2000-4000000000", &[]);
    run.assert_success();
    let (c, run) = fit("c", "chr2", &[]);
    run.assert_success();
    let call = |parts: &[&PathBuf]| {
        let out = dir.path().join("call");
        let parts: Vec<&str> = parts.iter().map(|p| arg(p)).collect();
        let run = betagibbs(
            &[
                &["methyl", "call"],
                &parts[..],
                &["--prior", arg(&prior), "--out", arg(&out)],
            ]
            .concat(),
        );
        (out, run)
    };
    let (out, run) = call(&[&a, &b, &c]);
    run.assert_user_error(&["overlap"]);
    assert!(!out.exists());
    let (out, run) = call(&[&a, &c]);
    run.assert_user_error(&["a shard is missing", "chr3"]);
    assert!(!out.exists());
}

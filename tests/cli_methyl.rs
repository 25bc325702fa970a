//! The binary's `simulate`, `methyl` and `bench --dss` end to end: methyl's outputs agree with
//! the merge and the default FDR, its bad inputs exit 2 and leave nothing behind, and `bench`
//! times DSS's DMLtest beside the CPU path.

mod common;

use std::collections::HashSet;
use std::path::Path;

use betagibbs::methyl::config::DEFAULT_FDR;
use betagibbs::methyl::merge::SiteMerger;
use betagibbs::methyl::sheet::SampleSheet;
use common::cli::{arg, simulated_study, small_methyl, write};
use common::{betagibbs, print_rounding, CliRun, Table};

/// `methyl SHEET --compare COMPARE` with a small stage 1 and several chunks
/// (`common::cli::small_methyl`), so the stages run as a pipeline.
fn methyl(sheet: &Path, out: &Path, compare: &str) -> CliRun {
    small_methyl(sheet, out, &["--compare", compare])
}

/// The outputs of a methyl run with the default filter and FDR: sites.parquet holds every site
/// the merge keeps; dml.parquet exactly the sites of P(DM) at or above its lowest, at an
/// expected FDR within the default; every region's CpGs lie inside it.
fn assert_methyl_outputs(sheet: &Path, out: &Path) {
    let filter = common::methyl_config(sheet.to_path_buf(), out.to_path_buf()).filter;
    let mut merger = SiteMerger::open(&SampleSheet::read(sheet).unwrap(), filter).unwrap();
    while merger.next_site().unwrap().is_some() {}
    let sites = Table::read(&out.join("sites.parquet"));
    assert_eq!(sites.rows as u64, merger.sites_kept);
    let dml = Table::read(&out.join("dml.parquet"));
    assert!(dml.rows > 0, "no DML to check");
    let key = |t: &Table, i: usize| (t.text("chr")[i].clone(), t.numbers("pos")[i] as u64);
    let lowest = dml
        .numbers("p_dm")
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min);
    let called: HashSet<_> = (0..dml.rows).map(|i| key(&dml, i)).collect();
    let above: HashSet<_> = (0..sites.rows)
        .filter(|&i| sites.numbers("p_dm")[i] >= lowest)
        .map(|i| key(&sites, i))
        .collect();
    assert_eq!(called, above, "DMLs against the sites at P(DM) >= {lowest}");
    let fdr = dml.numbers("p_dm").iter().map(|p| 1.0 - p).sum::<f64>() / dml.rows as f64;
    assert!(fdr <= DEFAULT_FDR, "expected FDR of the DMLs {fdr}");
    let dmr = Table::read(&out.join("dmr.parquet"));
    for i in 0..dmr.rows {
        let (chr, start, end) = (
            &dmr.text("chr")[i],
            dmr.numbers("start")[i],
            dmr.numbers("end")[i],
        );
        let inside = (0..sites.rows)
            .filter(|&k| &sites.text("chr")[k] == chr)
            .filter(|&k| (start..=end).contains(&sites.numbers("pos")[k]))
            .count();
        assert_eq!(
            inside as f64,
            dmr.numbers("n_cpgs")[i],
            "DMR {chr}:{start}-{end}"
        );
    }
}

/// The report's core-µs per site: every stage's figure a number >= 0, the host's work their
/// sum, and no stage above the run's whole CPU time (Linux, where the clocks exist).
fn assert_core_seconds_add_up(stderr: &str) {
    if cfg!(not(target_os = "linux")) {
        eprintln!("skipped: per-stage core seconds are measured on Linux");
        return;
    }
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix("betagibbs: core-µs per site: "))
        .unwrap_or_else(|| panic!("no core-µs line in:\n{stderr}"));
    let value = |name: &str| -> f64 {
        let rest = &line[line
            .find(name)
            .unwrap_or_else(|| panic!("{name} in {line}"))
            + name.len()..];
        let number = rest.trim_start().split([',', ';']).next().unwrap();
        number
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}: {number}"))
    };
    let stages = [
        "reading",
        "stage 1",
        "site update and the rest",
        "summaries",
        "writing",
    ];
    let all = value("all");
    for stage in stages {
        let v = value(stage);
        assert!(v >= 0.0 && v <= all, "{stage} {v} of {all}: {line}");
    }
    // The summaries' threads' clocks count in ns; the run's total (and so the site update's
    // remainder) in /proc's 10 ms ticks, which may leave a small run's remainder at 0.
    assert!(value("summaries") > 0.0, "{line}");
    // Each figure is printed to 0.1.
    let host = value("reading") + value("summaries") + value("writing");
    assert!(
        (value("host work (reading + summaries + writing)") - host).abs() <= 0.25,
        "{line}"
    );
}

/// A study of 20 sites: log phi's prior keeps a proper centre (a flat m0 drifted to 173 on
/// such a study: where every site's reads look binomial the likelihood flattens as phi grows),
/// and the warning blames the few sites, not the sweeps.
#[test]
fn a_study_of_few_sites_keeps_its_priors_in_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study");
    betagibbs(&[
        "simulate",
        "--sites",
        "20",
        "--seed",
        "2",
        "--out",
        arg(&study),
    ])
    .assert_success();
    let out = dir.path().join("fit");
    let run = betagibbs(&[
        "methyl",
        arg(&study.join("sheet.tsv")),
        "--compare",
        "A,B",
        "--device",
        "cpu",
        "--out",
        arg(&out),
    ]);
    run.assert_success();
    let m0: f64 = run
        .stderr
        .split("log phi = ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|m0| m0.parse().ok())
        .unwrap_or_else(|| panic!("no log phi in:\n{}", run.stderr));
    assert!((0.0..10.0).contains(&m0), "m0 {m0}:\n{}", run.stderr);
    if run.stderr.contains("prior sds") {
        assert!(
            run.stderr.contains("stage 1 had only 20 sites"),
            "{}",
            run.stderr
        );
    }
}

/// A study without replicates (one sample a group) runs, and says why its calls will be few;
/// with replicates there is no such warning.
#[test]
fn a_study_without_replicates_is_warned() {
    let dir = tempfile::tempdir().unwrap();
    for (replicates, warned) in [("1", true), ("2", false)] {
        let study = dir.path().join(format!("study{replicates}"));
        betagibbs(&[
            "simulate",
            "--sites",
            "300",
            "--replicates",
            replicates,
            "--out",
            arg(&study),
        ])
        .assert_success();
        let run = methyl(&study.join("sheet.tsv"), &dir.path().join("fit"), "A,B");
        run.assert_success();
        assert_eq!(
            run.stderr.contains("no sample replicates another"),
            warned,
            "{replicates} a group:\n{}",
            run.stderr
        );
    }
}

/// `simulate` then `methyl` end to end; then methyl's bad inputs exit 2 and leave nothing.
#[test]
fn methyl_runs_and_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study");
    betagibbs(&["simulate", "--sites", "300", "--out", arg(&study)]).assert_success();
    let sheet = study.join("sheet.tsv");
    let out = dir.path().join("fit");
    let run = methyl(&sheet, &out, "A,B");
    run.assert_success();
    assert_methyl_outputs(&sheet, &out);
    assert_core_seconds_add_up(&run.stderr);

    // A --draws-region that holds no site says so and writes no draws; a later run without
    // it leaves no stale draws.parquet beside its own sites.
    // With a small stage 1 and the default chunks, into `out`.
    let small = |out: &Path, extra: &[&str]| {
        let head = [
            "methyl",
            arg(&sheet),
            "--compare",
            "A,B",
            "--device",
            "cpu",
            "--hyper-sites",
            "100",
            "--hyper-warmup",
            "10",
            "--hyper-draws",
            "5",
            "--out",
            arg(out),
        ];
        betagibbs(&[&head[..], extra].concat())
    };
    let with_region = |region: Option<&str>| match region {
        Some(region) => small(&out, &["--draws-region", region]),
        None => small(&out, &[]),
    };
    let result = with_region(Some("chrNone:1-100"));
    result.assert_success();
    assert!(
        result
            .stderr
            .contains("no site lies in --draws-region chrNone:1-100"),
        "{}",
        result.stderr
    );
    assert_eq!(Table::read(&out.join("draws.parquet")).rows, 0);
    with_region(None).assert_success();
    assert!(!out.join("draws.parquet").exists());

    // --memory bounds the chunks of stage 2: smaller chunks, the same sites.parquet.
    let bounded = dir.path().join("bounded");
    let run = small(&bounded, &["--memory", "0.0005"]);
    run.assert_success();
    assert!(
        run.stderr
            .contains("keep stage 2's draws within --memory 0.0005 GiB"),
        "{}",
        run.stderr
    );
    let (a, b) = (
        Table::read(&out.join("sites.parquet")),
        Table::read(&bounded.join("sites.parquet")),
    );
    assert_eq!(
        (a.numbers("delta_mean"), a.numbers("p_dm")),
        (b.numbers("delta_mean"), b.numbers("p_dm"))
    );

    // A --dev-shader-dir that cannot be read, on the CPU path too.
    let out = dir.path().join("bad-shader-dir");
    let missing = dir.path().join("no-such-folder");
    small_methyl(
        &sheet,
        &out,
        &["--compare", "A,B", "--dev-shader-dir", arg(&missing)],
    )
    .assert_user_error(&["--dev-shader-dir", "no-such-folder"]);
    assert!(!out.exists());

    // No warm-up: the first sweep's forced start would be kept as a draw.
    let out = dir.path().join("no-warmup");
    small_methyl(&sheet, &out, &["--compare", "A,B", "--warmup", "0"])
        .assert_user_error(&["--warmup 0", "use at least 1"]);
    assert!(!out.exists());

    // A group no sample is in.
    let out = dir.path().join("bad-group");
    methyl(&sheet, &out, "A,C").assert_user_error(&["no sample is in group \"C\""]);
    assert!(!out.exists());

    // An unsorted file, its bad line far into the file.
    let a1 = study.join("A1.txt");
    let mut lines: Vec<String> = std::fs::read_to_string(&a1)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    lines.swap(250, 251);
    std::fs::write(&a1, lines.join("\n") + "\n").unwrap();
    let out = dir.path().join("unsorted");
    methyl(&sheet, &out, "A,B").assert_user_error(&["A1.txt:252: unsorted"]);
    assert!(!out.exists(), "partial output left behind");

    // methylated > total.
    lines.swap(250, 251);
    lines[10] = "chrSim\t1360\t5\t9".to_string();
    std::fs::write(&a1, lines.join("\n") + "\n").unwrap();
    methyl(&sheet, &dir.path().join("bad-count"), "A,B")
        .assert_user_error(&["A1.txt:11:4: methylated count 9 exceeds the total 5"]);
}

/// The (sites, wall seconds) columns of a `bench` table row: the 7 columns after the path.
fn bench_row(stdout: &str, path: &str) -> (f64, f64) {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(path))
        .unwrap_or_else(|| panic!("no row {path:?} in:\n{stdout}"));
    let columns: Vec<&str> = line.split_whitespace().collect();
    let tail = &columns[columns.len() - 7..];
    (tail[0].parse().unwrap(), tail[1].parse().unwrap())
}

/// `bench --sheet --dss` times DSS's DMLtest on the same files beside the CPU path and prints
/// the ratio; files that DSS cannot read (methylKit's format) exit 2 with its reason, before
/// the long part.
#[test]
#[ignore = "needs Rscript with Bioconductor DSS"]
fn bench_times_dss_dmltest_beside_the_cpu_path() {
    common::require_dss();
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study");
    betagibbs(&["simulate", "--sites", "1500", "--out", arg(&study)]).assert_success();
    let bench = |sheet: &Path, compare: &str| {
        betagibbs(&[
            "bench",
            "--sheet",
            arg(sheet),
            "--compare",
            compare,
            "--cpu-only",
            "--dss",
        ])
    };
    let result = bench(&study.join("sheet.tsv"), "A,B");
    result.assert_success();
    let stdout = &result.stdout;
    // Every simulated site is covered in every sample: both test all 1500.
    let (dss_sites, dss_seconds) = bench_row(stdout, "reference: DSS DMLtest");
    let (cpu_sites, cpu_seconds) = bench_row(stdout, "cpu: ");
    assert_eq!((dss_sites, cpu_sites), (1500.0, 1500.0), "{stdout}");
    // The printed ratio is the two rows' sites per second, within the rounding of their
    // printed seconds (2 decimals) and of the ratio itself (2 decimals).
    let printed = stdout
        .lines()
        .find_map(|l| l.strip_prefix("cpu path / DSS: "))
        .and_then(|l| l.split('x').next())
        .unwrap_or_else(|| panic!("no ratio in {stdout}"));
    let ratio: f64 = printed.parse().unwrap();
    let expected = (cpu_sites / cpu_seconds) / (dss_sites / dss_seconds);
    let tolerance =
        print_rounding(printed) + expected * 0.005 * (1.0 / cpu_seconds + 1.0 / dss_seconds);
    assert!(
        (ratio - expected).abs() <= tolerance,
        "printed {ratio}, rows give {expected}: {stdout}"
    );

    let kit = concat!(
        "chrBase\tchr\tbase\tstrand\tcoverage\tfreqC\tfreqT\n",
        "chr1.10\tchr1\t10\tF\t12\t25.00\t75.00\n"
    );
    let mut sheet = String::from("sample\tfile\tgroup\n");
    for (name, group) in [("a1", "A"), ("a2", "A"), ("b1", "B"), ("b2", "B")] {
        write(dir.path(), &format!("{name}.txt"), kit);
        sheet += &format!("{name}\t{name}.txt\t{group}\n");
    }
    bench(&write(dir.path(), "kit.tsv", &sheet), "A,B").assert_user_error(&["not DSS's format"]);
}

/// `simulate` with covariates and pairs: the sheet names subject and covariates and still
/// reads as a sample sheet, the truth has a column per coefficient; bad specs exit 2.
#[test]
fn simulate_writes_covariates_and_refuses_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study");
    let head = [
        "simulate",
        "--sites",
        "200",
        "--replicates",
        "4",
        "--out",
        arg(&study),
    ];
    let design = [
        "--covariate",
        "cell=factor:2",
        "--covariate",
        "age=numeric:30,70",
        "--covariate-effect",
        "cell=0.8",
        "--pairs",
        "--subject-sd",
        "0.6",
    ];
    betagibbs(&[&head[..], &design[..]].concat()).assert_success();
    let sheet = std::fs::read_to_string(study.join("sheet.tsv")).unwrap();
    assert!(
        sheet.starts_with("sample\tfile\tgroup\tsubject\tcell\tage\nA1\tA1.txt\tA\ts1\tcell1\t")
    );
    assert_eq!(
        SampleSheet::read(&study.join("sheet.tsv"))
            .unwrap()
            .samples
            .len(),
        8
    );
    let truth = std::fs::read_to_string(study.join("truth.tsv")).unwrap();
    let header = truth.lines().next().unwrap();
    assert!(
        header.ends_with("\tphi\tgroupB_logit\tcellcell2_logit\tage_logit"),
        "{header}"
    );
    for (flags, needle) in [
        (&["--subject-sd", "0.5"][..], "--pairs"),
        (&["--covariate", "cell=factor:1"][..], "factor"),
        (&["--covariate", "group=factor:2"][..], "group"),
        (
            &["--covariate", "a=factor:2", "--covariate-effect", "b=1"][..],
            "no --covariate",
        ),
    ] {
        betagibbs(&[&head[..], flags].concat()).assert_user_error(&[needle]);
    }
}

/// The DMLs come from the candidates kept aside as the sites stream (P(DM) >= 0.5), or, when
/// the threshold lies below them (a lax --fdr), from sites.parquet: both ways they are every
/// site at or above the threshold, and the candidates' file is gone afterwards.
#[test]
fn dmls_are_every_site_above_the_threshold_with_or_without_the_candidates() {
    let dir = tempfile::tempdir().unwrap();
    let sheet = simulated_study(dir.path(), "2000", &[]);
    for (fdr, below_floor) in [("0.05", false), ("0.6", true)] {
        let out = dir.path().join(format!("fdr{fdr}"));
        small_methyl(&sheet, &out, &["--compare", "A,B", "--fdr", fdr]).assert_success();
        let sites = Table::read(&out.join("sites.parquet"));
        let dml = Table::read(&out.join("dml.parquet"));
        let threshold: f64 = dml.metadata["betagibbs.p_dm_threshold"].parse().unwrap();
        assert_eq!(
            threshold < 0.5,
            below_floor,
            "--fdr {fdr}: threshold {threshold}"
        );
        let above = sites
            .numbers("p_dm")
            .iter()
            .filter(|&&p| p >= threshold)
            .count();
        assert!(
            dml.rows > 0 && dml.rows == above,
            "--fdr {fdr}: {} DMLs, {above} sites",
            dml.rows
        );
        assert!(!out.join(".dml_candidates.parquet").exists());
    }
}

//! The binary end to end: good runs write both Parquet files; bad input exits 2 with a
//! message naming file, line and column, and leaves no output behind.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn betagibbs(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_betagibbs"))
        .args(args)
        .output()
        .expect("run betagibbs")
}

fn sample(data: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "sample",
        data.to_str().unwrap(),
        "--successes",
        "y",
        "--trials",
        "n",
        "--out",
        out.to_str().unwrap(),
        "--chains",
        "2",
        "--warmup",
        "20",
        "--draws",
        "20",
        "--device",
        "cpu",
        "--quiet",
    ];
    args.extend_from_slice(extra);
    betagibbs(&args)
}

/// Each case: file name, contents, and what the message must contain.
const BAD_INPUTS: &[(&str, &str, &[&str])] = &[
    ("y_gt_n.csv", "y,n\n1,5\n6,5\n", &["y_gt_n.csv:3", "6", "5"]),
    ("negative.csv", "y,n\n-1,5\n", &["negative.csv:2:1", "'y'"]),
    ("fraction.csv", "y,n\n1.5,5\n", &["fraction.csv:2:1", "'y'"]),
    (
        "zero_trials.csv",
        "y,n\n0,0\n",
        &["zero_trials.csv:2:2", "'n'"],
    ),
    ("nan.csv", "y,n\nNaN,5\n", &["nan.csv:2:1", "'y'"]),
    (
        "missing_column.csv",
        "y,trials\n1,5\n",
        &["missing_column.csv", "'n'"],
    ),
    ("empty.csv", "", &["empty.csv"]),
    ("text.tsv", "y\tn\n1\tfive\n", &["text.tsv:2:2", "'n'"]),
    (
        "broken.parquet",
        "PAR1 this is not parquet",
        &["broken.parquet", "Parquet"],
    ),
];

#[test]
fn bad_input_exits_2_names_the_place_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for (name, contents, needles) in BAD_INPUTS {
        let data = dir.path().join(name);
        std::fs::write(&data, contents).unwrap();
        let out = dir.path().join(format!("out-{name}"));
        let result = sample(&data, &out, &[]);
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(
            result.status.code(),
            Some(2),
            "{name}: exit code; stderr: {stderr}"
        );
        for needle in *needles {
            assert!(
                stderr.contains(needle),
                "{name}: message lacks {needle:?}: {stderr}"
            );
        }
        assert!(!out.exists(), "{name}: an output directory was created");
    }
}

#[test]
fn bad_flags_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("ok.csv");
    std::fs::write(&data, "y,n\n1,5\n2,6\n").unwrap();
    for extra in [
        &["--prior", "flat"][..],
        &["--chains", "0"],
        &["--prior", "kruschke(a=NaN)"],
    ] {
        let result = sample(&data, &dir.path().join("out"), extra);
        assert_eq!(
            result.status.code(),
            Some(2),
            "{extra:?}: {}",
            String::from_utf8_lossy(&result.stderr)
        );
    }
    assert!(!dir.path().join("out").exists());
}

#[test]
fn a_good_run_writes_draws_and_summary() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("groups.csv");
    std::fs::write(&data, "site,y,n\nA,1,5\nB,2,9\nA,3,7\nB,0,4\n").unwrap();
    let out = dir.path().join("out");
    let result = sample(&data, &out, &["--unit", "site"]);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let stdout = String::from_utf8_lossy(&result.stdout);
    for name in [
        "A/theta[1]",
        "A/theta[3]",
        "B/theta[2]",
        "B/kappa",
        "A/alpha",
    ] {
        assert!(stdout.contains(name), "summary lacks {name}: {stdout}");
    }
    assert!(out.join("draws.parquet").is_file() && out.join("summary.parquet").is_file());
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| {
            !["draws.parquet", "summary.parquet", "observations.parquet"].contains(&n.as_str())
        })
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn device_gpu_runs_on_the_software_driver_or_explains() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let result = betagibbs(&[
        "demo",
        "--out",
        out.to_str().unwrap(),
        "--device",
        "gpu",
        "--chains",
        "4",
        "--warmup",
        "20",
        "--draws",
        "20",
        "--quiet",
    ]);
    let stderr = String::from_utf8_lossy(&result.stderr);
    if common::gpu_or_skip("cli_device_gpu").is_some() {
        assert!(result.status.success(), "{stderr}");
        assert!(out.join("draws.parquet").is_file());
    } else {
        assert_eq!(result.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("mesa-vulkan-drivers"), "{stderr}");
    }
}

#[test]
fn contrasts_are_summarised_and_unknown_names_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let out_dir = out.to_str().unwrap();
    let run = |contrast: &str| {
        betagibbs(&[
            "demo",
            "--out",
            out_dir,
            "--device",
            "cpu",
            "--chains",
            "4",
            "--warmup",
            "100",
            "--draws",
            "200",
            "--quiet",
            "--contrast",
            contrast,
        ])
    };
    let result = run("theta[72] - theta[1]");
    assert_eq!(result.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&result.stderr).contains("theta[72]"));
    assert!(!out.exists());
    let result = run("theta[71] - theta[1]");
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let stdout = String::from_utf8_lossy(&result.stdout);
    // Experiment 71 (4/14) against experiment 1 (0/20): clearly higher, P(> 0) near 0.96.
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with("theta[71] - theta[1]"))
        .expect("contrast line");
    let p: f64 = line.split_whitespace().last().unwrap().parse().unwrap();
    assert!(p > 0.85 && p < 1.0, "P(> 0) = {p}: {line}");
}

/// `--aggregate-by`: Kruschke's batting data merged by primary position, the original
/// analysis's one-level comparison fit (9 positions; 42,000 hits in 164,926 at-bats).
#[test]
fn aggregate_by_merges_players_into_positions() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/batting_average.csv");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("positions");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "sample",
            data.to_str().unwrap(),
            "--successes",
            "Hits",
            "--trials",
            "AtBats",
            "--aggregate-by",
            "PriPos",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ];
        args.extend_from_slice(extra);
        betagibbs(&args)
    };
    let result = run(&[
        "--device", "cpu", "--chains", "2", "--warmup", "50", "--draws", "50",
    ]);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let stdout = String::from_utf8_lossy(&result.stdout);
    let thetas: Vec<&str> = stdout.lines().filter(|l| l.starts_with("theta[")).collect();
    assert_eq!(thetas.len(), 9, "{stdout}");
    assert!(
        stdout.contains("theta[Pitcher]") && stdout.contains("theta[1st Base]"),
        "{stdout}"
    );
    let both = run(&["--id", "Player"]);
    assert_eq!(
        both.status.code(),
        Some(2),
        "--id and --aggregate-by together"
    );
}

/// The `parameter` column of a summary.parquet.
fn summary_parameters(path: &Path) -> Vec<String> {
    use arrow::array::{Array, StringArray};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let file = std::fs::File::open(path).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut names = Vec::new();
    for batch in reader {
        let batch = batch.unwrap();
        let column = batch.column_by_name("parameter").unwrap();
        let strings = column.as_any().downcast_ref::<StringArray>().unwrap();
        names.extend((0..strings.len()).map(|i| strings.value(i).to_string()));
    }
    names
}

/// `demo baseball`: the two-level model with the original analysis's contrasts.
#[test]
fn demo_baseball_fits_positions_and_contrasts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("baseball");
    let result = betagibbs(&[
        "demo",
        "baseball",
        "--out",
        out.to_str().unwrap(),
        "--device",
        "cpu",
        "--chains",
        "4",
        "--warmup",
        "200",
        "--draws",
        "200",
        "--quiet",
        "--contrast",
        "omega[Pitcher] - omega[Catcher]",
        "--contrast",
        "theta[Mike Leake] - theta[Wandy Rodriguez]",
    ]);
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let p_above = |label: &str| -> f64 {
        let line = stdout
            .lines()
            .rev()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no line {label}: {stdout}"));
        line.split_whitespace().last().unwrap().parse().unwrap()
    };
    // Pitchers hit far worse than catchers: no posterior mass above 0.
    assert!(p_above("omega[Pitcher] - omega[Catcher]") < 0.01);
    // Leake 18/61 and Rodriguez 4/61: the difference is shrunk but stays positive.
    assert!(p_above("theta[Mike Leake] - theta[Wandy Rodriguez]") > 0.8);
    let names = summary_parameters(&out.join("summary.parquet"));
    for name in [
        "theta[Mike Leake]",
        "omega[Pitcher]",
        "kappa[Right Field]",
        "omega",
        "kappa",
    ] {
        assert!(names.iter().any(|n| n == name), "summary lacks {name}");
    }
    assert_eq!(names.len(), 948 + 2 * 9 + 2 + 2);
}

/// Group labels: empty ones are an error with the line; nesting must hold; a group of one
/// observation is fine; spaces, commas and brackets survive into the parameter names.
#[test]
fn group_columns_validate_and_round_trip_awkward_labels() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, text: &str, extra: &[&str]| {
        let data = dir.path().join(name);
        std::fs::write(&data, text).unwrap();
        let out = dir.path().join(format!("out-{name}"));
        (sample(&data, &out, extra), out)
    };
    let (result, out) = run(
        "empty_group.csv",
        "id,y,n,g\na,1,5,G1\nb,2,6,\n",
        &["--id", "id", "--group", "g"],
    );
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("empty_group.csv:3:4: column 'g': group label is empty"),
        "{stderr}"
    );
    assert!(!out.exists());

    let (result, _) = run(
        "not_nested.csv",
        "id,y,n,team,league\na,1,5,T1,L1\nb,2,6,T1,L2\n",
        &["--id", "id", "--group", "team", "--group", "league"],
    );
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not_nested.csv:3:5"), "{stderr}");
    assert!(stderr.contains("groups must nest"), "{stderr}");

    let text = "id,y,n,g\n\"Smith, J. [2nd]\",3,10,\"Pos [A], left\"\nb,2,6,\"Pos [A], left\"\nc,0,4,solo group\n";
    let (result, _) = run(
        "bda3.csv",
        text,
        &["--id", "id", "--group", "g", "--prior", "bda3"],
    );
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("kruschke"), "{stderr}");

    let contrast = "omega[Pos [A], left] - omega[solo group]";
    let (result, out) = run(
        "awkward.csv",
        text,
        &["--id", "id", "--group", "g", "--contrast", contrast],
    );
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let names = summary_parameters(&out.join("summary.parquet"));
    for name in [
        "theta[Smith, J. [2nd]]",
        "omega[Pos [A], left]",
        "kappa[solo group]",
        "omega",
        contrast,
    ] {
        assert!(
            names.iter().any(|n| n == name),
            "summary lacks {name}: {names:?}"
        );
    }

    let (result, _) = run("unit_and_group.csv", text, &["--unit", "g", "--group", "g"]);
    assert_eq!(result.status.code(), Some(2), "--unit with --group");
}

/// `simulate` then `methyl` end to end; then methyl's bad inputs exit 2 and leave nothing.
#[test]
fn methyl_runs_and_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study");
    let result = betagibbs(&[
        "simulate",
        "--sites",
        "300",
        "--out",
        study.to_str().unwrap(),
    ]);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let sheet = study.join("sheet.tsv");
    let methyl = |sheet: &Path, out: &Path, compare: &str| {
        betagibbs(&[
            "methyl",
            sheet.to_str().unwrap(),
            "--compare",
            compare,
            "--device",
            "cpu",
            "--hyper-sites",
            "200",
            "--hyper-warmup",
            "50",
            "--hyper-draws",
            "10",
            // Several chunks, so the stages run as a pipeline.
            "--chunk-sites",
            "64",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let out = dir.path().join("fit");
    let result = methyl(&sheet, &out, "A,B");
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    for file in ["sites.parquet", "dml.parquet", "dmr.parquet"] {
        assert!(out.join(file).is_file(), "{file}");
    }

    // A --draws-region that holds no site says so; a later run without it leaves no stale
    // draws.parquet beside its own sites.
    let with_region = |region: Option<&str>| {
        let mut args = vec![
            "methyl",
            sheet.to_str().unwrap(),
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
            out.to_str().unwrap(),
        ];
        if let Some(region) = region {
            args.extend(["--draws-region", region]);
        }
        betagibbs(&args)
    };
    let result = with_region(Some("chrNone:1-100"));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "{stderr}");
    assert!(
        stderr.contains("no site lies in --draws-region chrNone:1-100"),
        "{stderr}"
    );
    assert!(out.join("draws.parquet").is_file());
    let result = with_region(None);
    assert!(result.status.success());
    assert!(!out.join("draws.parquet").exists());

    // A group no sample is in.
    let out = dir.path().join("bad-group");
    let result = methyl(&sheet, &out, "A,C");
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no sample is in group \"C\""), "{stderr}");
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
    let result = methyl(&sheet, &out, "A,B");
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("A1.txt:252: unsorted"), "{stderr}");
    assert!(!out.exists(), "partial output left behind");

    // methylated > total.
    lines.swap(250, 251);
    lines[10] = "chrSim\t1360\t5\t9".to_string();
    std::fs::write(&a1, lines.join("\n") + "\n").unwrap();
    let result = methyl(&sheet, &dir.path().join("bad-count"), "A,B");
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("A1.txt:11:4: methylated count 9 exceeds the total 5"),
        "{stderr}"
    );
}

/// `demo --ppc --plot` writes the predictive draws and the default figures; `plot` redraws
/// them from the Parquet files alone, as PNG too.
#[test]
fn ppc_and_figures_from_a_run_and_from_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rats");
    let o = betagibbs(&[
        "demo",
        "rats",
        "--out",
        out.to_str().unwrap(),
        "--chains",
        "2",
        "--warmup",
        "100",
        "--draws",
        "200",
        "--device",
        "cpu",
        "--quiet",
        "--ppc",
        "--plot",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("zero counts") && stdout.contains("sd of rates"),
        "{stdout}"
    );
    for f in ["observations.parquet", "predictive.parquet"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    for f in ["shrinkage", "densities", "traces", "predictive"] {
        let svg = std::fs::read_to_string(out.join("figures").join(format!("{f}.svg"))).unwrap();
        assert!(svg.len() > 2000 && svg.contains("<text"), "{f}.svg");
    }
    let png = dir.path().join("png");
    let o = betagibbs(&[
        "plot",
        out.to_str().unwrap(),
        "--format",
        "png",
        "--out",
        png.to_str().unwrap(),
        "--figure",
        "densities",
        "--param",
        "alpha",
        "--contrast",
        "theta[71] - theta[1]",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(png.join("densities.png")).unwrap();
    assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 5000);
    // A later run without --ppc into the same directory removes the stale replicates, and
    // --plot=png draws only this run's figures.
    let o = betagibbs(&[
        "demo",
        "rats",
        "--out",
        out.to_str().unwrap(),
        "--chains",
        "2",
        "--warmup",
        "50",
        "--draws",
        "50",
        "--device",
        "cpu",
        "--quiet",
        "--plot=png",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!out.join("predictive.parquet").exists());
    assert!(
        out.join("figures/traces.png").is_file() && !out.join("figures/predictive.png").exists()
    );
}

#[test]
fn plot_refuses_what_the_directory_cannot_give() {
    let dir = tempfile::tempdir().unwrap();
    let o = betagibbs(&["plot", dir.path().join("none").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let out = dir.path().join("run");
    let o = sample(
        &write(dir.path(), "d.csv", "y,n\n1,5\n2,6\n0,4\n"),
        &out,
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // A file that is not ours under an expected name: a user error, not a crash.
    let foreign = dir.path().join("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("draws.parquet"), "hello").unwrap();
    std::fs::copy(out.join("summary.parquet"), foreign.join("summary.parquet")).unwrap();
    let o = betagibbs(&["plot", foreign.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::copy(out.join("summary.parquet"), foreign.join("draws.parquet")).unwrap();
    let o = betagibbs(&["plot", foreign.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("expected a betagibbs draws/1 file"),
        "{stderr}"
    );
    for (args, says) in [
        (&["--figure", "predictive"][..], "predictive.parquet"),
        (&["--figure", "comparison"][..], "comparison.parquet"),
        (&["--param", "nope"][..], "\"nope\""),
    ] {
        let mut all = vec!["plot", out.to_str().unwrap()];
        all.extend_from_slice(args);
        let o = betagibbs(&all);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}

/// `compare` runs every estimator and the sampler: one row per (estimator, theta), and the figure.
#[test]
fn compare_writes_every_estimator_and_the_figure() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cmp");
    let o = betagibbs(&[
        "compare",
        "--demo",
        "rats",
        "--out",
        out.to_str().unwrap(),
        "--draws",
        "400",
        "--sir-proposals",
        "4000",
        "--device",
        "cpu",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    for name in [
        "complete-pooling",
        "no-pooling",
        "eb-moments",
        "eb-ml",
        "laplace-sir",
        "gibbs",
    ] {
        assert!(stdout.contains(name), "{name}: {stdout}");
    }
    let svg = std::fs::read_to_string(out.join("comparison.svg")).unwrap();
    assert!(svg.len() > 2000 && svg.contains("laplace-sir"));
    let table = betagibbs::io::readback::read_table(
        &out.join("comparison.parquet"),
        betagibbs::plot::figures::COMPARISON_SCHEMA,
    )
    .unwrap();
    let estimators = &table.text["estimator"];
    // 71 thetas for all six, plus alpha, beta, mu for the four with a population.
    assert_eq!(estimators.len(), 6 * 71 + 4 * 3);
    // Bad input is a user error naming file and line, as for `sample`.
    let o = betagibbs(&[
        "compare",
        write(dir.path(), "bad.csv", "y,n\n1,5\n7,6\n")
            .to_str()
            .unwrap(),
        "--successes",
        "y",
        "--trials",
        "n",
        "--out",
        dir.path().join("x").to_str().unwrap(),
        "--quiet",
        "--device",
        "cpu",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("bad.csv:3"));
    assert!(!dir.path().join("x").exists());
}

fn write(dir: &Path, name: &str, contents: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// `bench --sheet --dss` times DSS's DMLtest on the same files beside the CPU path and prints
/// the ratio; files that DSS cannot read (methylKit's format) exit 2 with its reason, before
/// the long part.
#[test]
fn bench_times_dss_dmltest_beside_the_cpu_path() {
    if !common::dss_or_skip("bench_times_dss_dmltest_beside_the_cpu_path") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study");
    let result = betagibbs(&[
        "simulate",
        "--sites",
        "1500",
        "--out",
        study.to_str().unwrap(),
    ]);
    assert!(result.status.success());
    let bench = |sheet: &Path, compare: &str| {
        betagibbs(&[
            "bench",
            "--sheet",
            sheet.to_str().unwrap(),
            "--compare",
            compare,
            "--cpu-only",
            "--dss",
        ])
    };
    let result = bench(&study.join("sheet.tsv"), "A,B");
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        result.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let reference = stdout
        .lines()
        .find(|l| l.starts_with("reference: DSS DMLtest"))
        .unwrap_or_else(|| panic!("no DSS row in {stdout}"));
    // The columns after the path "reference: DSS DMLtest, no smoothing (N cores)": sites first.
    let columns = reference.split_once(" cores)").unwrap().1;
    let sites: u64 = columns.split_whitespace().next().unwrap().parse().unwrap();
    assert!((1000..=1500).contains(&sites), "{reference}");
    let ratio = stdout
        .lines()
        .find_map(|l| l.strip_prefix("cpu path / DSS: "))
        .and_then(|l| l.split('x').next()?.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no ratio in {stdout}"));
    assert!(ratio > 0.0, "{stdout}");

    let kit = concat!(
        "chrBase\tchr\tbase\tstrand\tcoverage\tfreqC\tfreqT\n",
        "chr1.10\tchr1\t10\tF\t12\t25.00\t75.00\n"
    );
    let mut sheet = String::from("sample\tfile\tgroup\n");
    for (name, group) in [("a1", "A"), ("a2", "A"), ("b1", "B"), ("b2", "B")] {
        write(dir.path(), &format!("{name}.txt"), kit);
        sheet += &format!("{name}\t{name}.txt\t{group}\n");
    }
    let result = bench(&write(dir.path(), "kit.tsv", &sheet), "A,B");
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not DSS's format"), "{stderr}");
}

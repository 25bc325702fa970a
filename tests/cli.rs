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
        .filter(|n| n != "draws.parquet" && n != "summary.parquet")
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

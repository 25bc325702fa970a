//! The binary's `sample` and `demo` end to end: good runs write both Parquet files; bad input
//! exits 2 with a message naming file, line and column, and leaves no output behind; bad
//! flags, contrasts, `--aggregate-by`, group labels through Parquet, `demo baseball`, and
//! `--device gpu` with and without an adapter.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use common::cli::{arg, sample, sample_head, short_cpu_run, write};
use common::rats::RatsPosterior;
use common::{betagibbs, betagibbs_with_env, CliRun, Table};
use statrs::distribution::{Beta, Continuous, ContinuousCDF};

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
        let data = write(dir.path(), name, contents);
        let out = dir.path().join(format!("out-{name}"));
        sample(&data, &out, &[]).assert_user_error(needles);
        assert!(!out.exists(), "{name}: an output directory was created");
    }
}

#[test]
fn bad_flags_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "ok.csv", "y,n\n1,5\n2,6\n");
    let out = dir.path().join("out");
    // Each case: (chains, draws, extra flags), and what the message must say.
    let cases: [(&str, &str, &[&str], &[&str]); 5] = [
        ("2", "20", &["--prior", "flat"], &["flat"]),
        ("0", "20", &[], &["--chains"]),
        ("2", "20", &["--prior", "kruschke(a=NaN)"], &["NaN"]),
        // Sizes no machine holds: refused up front with the figures, not an aborted allocation.
        (
            "4000000000",
            "20",
            &[],
            &[
                "--chains 4000000000 and --draws 20 need about",
                "GiB of memory",
            ],
        ),
        (
            "2",
            "4000000000",
            &[],
            &[
                "--chains 2 and --draws 4000000000 need about",
                "more than this machine's",
            ],
        ),
    ];
    for (chains, draws, extra, says) in cases {
        betagibbs(
            &[
                &sample_head(&data, &out)[..],
                &short_cpu_run(chains, "20", draws),
                extra,
            ]
            .concat(),
        )
        .assert_user_error(says);
    }
    assert!(!out.exists());
}

/// draws.parquet holds every parameter of summary.parquet (less its contrasts), each with
/// chains x draws rows.
fn assert_draws_match_summary(out: &Path, chains: usize, draws: usize, contrasts: usize) {
    let summary = Table::read(&out.join("summary.parquet"));
    let draws_table = Table::read(&out.join("draws.parquet"));
    let summarised = summary.text("parameter");
    let params = &summarised[..summarised.len() - contrasts];
    let drawn: HashSet<&String> = draws_table.text("parameter").iter().collect();
    assert_eq!(drawn, params.iter().collect::<HashSet<_>>());
    assert_eq!(draws_table.rows, params.len() * chains * draws);
}

#[test]
fn a_good_run_writes_draws_and_summary() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(
        dir.path(),
        "groups.csv",
        "site,y,n\nA,1,5\nB,2,9\nA,3,7\nB,0,4\n",
    );
    let out = dir.path().join("out");
    let run = sample(&data, &out, &["--unit", "site"]);
    run.assert_success();
    for name in [
        "A/theta[1]",
        "A/theta[3]",
        "B/theta[2]",
        "B/kappa",
        "A/alpha",
    ] {
        assert!(run.stdout.contains(name), "summary lacks {name}");
    }
    // Per unit: 2 thetas, alpha, beta, mu, kappa.
    let summary = Table::read(&out.join("summary.parquet"));
    assert_eq!(summary.rows, 2 * (2 + 4));
    assert_draws_match_summary(&out, 2, 20, 0);
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| {
            ![
                "draws.parquet",
                "summary.parquet",
                "observations.parquet",
                "run.json",
            ]
            .contains(&n.as_str())
        })
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    // The manifest names this run, whose id every file's footer carries.
    let manifest = std::fs::read_to_string(out.join("run.json")).unwrap();
    assert!(manifest
        .contains("\"files\": [\"draws.parquet\", \"summary.parquet\", \"observations.parquet\"]"));
    let id = Table::read(&out.join("draws.parquet")).metadata["betagibbs.run_id"].clone();
    assert!(
        manifest.contains(&format!("\"run_id\": \"{id}\"")),
        "{manifest}"
    );
    for name in ["summary.parquet", "observations.parquet"] {
        assert_eq!(
            Table::read(&out.join(name)).metadata["betagibbs.run_id"],
            id
        );
    }
}

/// A killed run's temp files are cleaned by the next run into the same directory, and a run
/// whose input is one of its own outputs is refused before it writes anything.
#[test]
fn stale_temps_are_cleaned_and_an_output_is_never_its_own_input() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "d.csv", "y,n\n1,5\n2,6\n0,4\n");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    // Process ids above the kernel's pid_max (at most 2^22) belong to no live process.
    let stale = out.join(".summary.parquet.4194305.0.tmp");
    std::fs::write(&stale, b"half a file").unwrap();
    sample(&data, &out, &[]).assert_success();
    if cfg!(target_os = "linux") {
        assert!(!stale.exists(), "{} left", stale.display());
    }
    let observations = out.join("observations.parquet");
    let before = std::fs::read(&observations).unwrap();
    let head = [
        "sample",
        arg(&observations),
        "--successes",
        "successes",
        "--trials",
        "trials",
        "--out",
        arg(&out),
    ];
    betagibbs(&[&head[..], &short_cpu_run("2", "20", "20")].concat())
        .assert_user_error(&["is the observations.parquet this run would write"]);
    assert_eq!(std::fs::read(&observations).unwrap(), before);
}

/// `demo --device gpu --chains 4 --warmup 20 --draws 20 --quiet --out OUT`.
fn demo_on_the_gpu(out: &Path, env: &[(&str, &str)]) -> CliRun {
    let args = [
        "demo",
        "--out",
        arg(out),
        "--device",
        "gpu",
        "--chains",
        "4",
        "--warmup",
        "20",
        "--draws",
        "20",
        "--quiet",
    ];
    betagibbs_with_env(&args, env)
}

#[test]
#[ignore = "needs a Vulkan adapter (lavapipe: apt-get install mesa-vulkan-drivers)"]
fn device_gpu_runs_on_the_software_driver() {
    common::gpu();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    demo_on_the_gpu(&out, &[]).assert_success();
    // 71 thetas, alpha, beta, mu, kappa.
    assert_eq!(Table::read(&out.join("summary.parquet")).rows, 71 + 4);
    assert_draws_match_summary(&out, 4, 20, 0);
}

/// Vulkan only, with no driver to load: no adapter, whatever the machine has.
#[test]
fn device_gpu_without_an_adapter_exits_2_and_explains() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let no_driver = [
        ("WGPU_BACKEND", "vulkan"),
        ("VK_ICD_FILENAMES", "/nonexistent/icd.json"),
        ("VK_DRIVER_FILES", "/nonexistent/icd.json"),
    ];
    demo_on_the_gpu(&out, &no_driver).assert_user_error(&[
        "no GPU adapter",
        "mesa-vulkan-drivers",
        "--device cpu",
    ]);
    assert!(!out.exists());
}

/// P(X > Y) for independent X ~ Beta(x), Y ~ Beta(y): E[F_Y(X)] by the midpoint rule on
/// 400 points (X's shapes are above 4 here, so its density is smooth on [0, 1]).
fn p_beta_above(x: (f64, f64), y: (f64, f64)) -> f64 {
    let (x, y) = (Beta::new(x.0, x.1).unwrap(), Beta::new(y.0, y.1).unwrap());
    let n = 400;
    (0..n)
        .map(|k| {
            let t = (k as f64 + 0.5) / n as f64;
            x.pdf(t) * y.cdf(t) / n as f64
        })
        .sum()
}

#[test]
fn contrasts_are_summarised_and_unknown_names_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let run = |contrast: &str| {
        let head = ["demo", "--out", arg(&out), "--contrast", contrast];
        betagibbs(&[&head[..], &short_cpu_run("4", "100", "200")].concat())
    };
    run("theta[72] - theta[1]").assert_user_error(&["theta[72]"]);
    assert!(!out.exists());
    let contrast = "theta[71] - theta[1]";
    let result = run(contrast);
    result.assert_success();
    let (p, rounding) = result.last_column(contrast);
    // The printed P(> 0) is the share of draws where theta[71] exceeds theta[1].
    let draws = Table::read(&out.join("draws.parquet"));
    let mut by_draw: HashMap<(u64, u64), [f64; 2]> = HashMap::new();
    let (chain, draw, value) = (
        draws.numbers("chain"),
        draws.numbers("draw"),
        draws.numbers("value"),
    );
    for (i, name) in draws.text("parameter").iter().enumerate() {
        let slot = match name.as_str() {
            "theta[71]" => 0,
            "theta[1]" => 1,
            _ => continue,
        };
        by_draw
            .entry((chain[i] as u64, draw[i] as u64))
            .or_default()[slot] = value[i];
    }
    assert_eq!(by_draw.len(), 4 * 200);
    let share = by_draw.values().filter(|t| t[0] > t[1]).count() as f64 / by_draw.len() as f64;
    assert!((p - share).abs() <= rounding, "printed {p}, draws {share}");
    // And it is the exact posterior probability within 4 Monte Carlo standard errors (the
    // contrast's bulk ESS from summary.parquet). Experiment 71 is 4/14, experiment 1 is 0/20.
    let ds = common::rats();
    let (y71, n71) = (f64::from(ds.successes[70]), f64::from(ds.trials[70]));
    let (y1, n1) = (f64::from(ds.successes[0]), f64::from(ds.trials[0]));
    // 150 grid points a side: 300 give the same to 1e-7.
    let exact = RatsPosterior::new(150).expectation(|alpha, beta| {
        p_beta_above(
            (alpha + y71, beta + n71 - y71),
            (alpha + y1, beta + n1 - y1),
        )
    });
    let summary = Table::read(&out.join("summary.parquet"));
    let row = summary.text("parameter").iter().position(|n| n == contrast);
    let ess = summary.numbers("ess_bulk")[row.expect("the contrast's summary row")];
    let mcse = (exact * (1.0 - exact) / ess).sqrt();
    eprintln!("P({contrast} > 0): {p} printed, {exact:.4} exact, MCSE {mcse:.4} (ESS {ess:.0})");
    assert!(
        (p - exact).abs() <= 4.0 * mcse + rounding,
        "P(> 0) = {p} vs exact {exact}: {:.1} MCSE",
        (p - exact).abs() / mcse
    );
}

/// `--aggregate-by`: Kruschke's batting data merged by primary position, the original
/// analysis's one-level comparison fit (9 positions; 42,000 hits in 164,926 at-bats).
#[test]
fn aggregate_by_merges_players_into_positions() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/batting_average.csv");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("positions");
    let head = [
        "sample",
        arg(&data),
        "--successes",
        "Hits",
        "--trials",
        "AtBats",
        "--aggregate-by",
        "PriPos",
        "--out",
        arg(&out),
    ];
    let result = betagibbs(&[&head[..], &short_cpu_run("2", "50", "50")].concat());
    result.assert_success();
    let thetas: Vec<&str> = result
        .stdout
        .lines()
        .filter(|l| l.starts_with("theta["))
        .collect();
    assert_eq!(thetas.len(), 9, "{}", result.stdout);
    assert!(
        result.stdout.contains("theta[Pitcher]") && result.stdout.contains("theta[1st Base]"),
        "{}",
        result.stdout
    );
    // --id and --aggregate-by together.
    betagibbs(&[&head[..], &["--id", "Player"]].concat()).assert_user_error(&[]);
}

/// `demo baseball`: the two-level model with the original analysis's contrasts.
#[test]
fn demo_baseball_fits_positions_and_contrasts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("baseball");
    let head = [
        "demo",
        "baseball",
        "--out",
        arg(&out),
        "--contrast",
        "omega[Pitcher] - omega[Catcher]",
        "--contrast",
        "theta[Mike Leake] - theta[Wandy Rodriguez]",
    ];
    let result = betagibbs(&[&head[..], &short_cpu_run("4", "200", "200")].concat());
    result.assert_success();
    // Pitchers hit far worse than catchers: no posterior mass above 0.
    assert!(result.last_column("omega[Pitcher] - omega[Catcher]").0 < 0.01);
    // Leake 18/61 and Rodriguez 4/61: the difference is shrunk but stays positive.
    assert!(
        result
            .last_column("theta[Mike Leake] - theta[Wandy Rodriguez]")
            .0
            > 0.8
    );
    let names = Table::read(&out.join("summary.parquet"))
        .text("parameter")
        .to_vec();
    for name in [
        "theta[Mike Leake]",
        "omega[Pitcher]",
        "kappa[Right Field]",
        "omega",
        "kappa",
    ] {
        assert!(names.iter().any(|n| n == name), "summary lacks {name}");
    }
    // 948 players; omega and kappa of 9 positions and of the root; 2 contrasts.
    assert_eq!(names.len(), 948 + 2 * 9 + 2 + 2);
}

/// Group labels: empty ones are an error with the line; nesting must hold; a group of one
/// observation is fine; spaces, commas and brackets survive into the parameter names.
#[test]
fn group_columns_validate_and_round_trip_awkward_labels() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, text: &str, extra: &[&str]| {
        let data = write(dir.path(), name, text);
        let out = dir.path().join(format!("out-{name}"));
        (sample(&data, &out, extra), out)
    };
    let (result, out) = run(
        "empty_group.csv",
        "id,y,n,g\na,1,5,G1\nb,2,6,\n",
        &["--id", "id", "--group", "g"],
    );
    result.assert_user_error(&["empty_group.csv:3:4: column 'g': group label is empty"]);
    assert!(!out.exists());

    let (result, _) = run(
        "not_nested.csv",
        "id,y,n,team,league\na,1,5,T1,L1\nb,2,6,T1,L2\n",
        &["--id", "id", "--group", "team", "--group", "league"],
    );
    result.assert_user_error(&["not_nested.csv:3:5", "groups must nest"]);

    let text = "id,y,n,g\n\"Smith, J. [2nd]\",3,10,\"Pos [A], left\"\nb,2,6,\"Pos [A], left\"\nc,0,4,solo group\n";
    let (result, _) = run(
        "bda3.csv",
        text,
        &["--id", "id", "--group", "g", "--prior", "bda3"],
    );
    result.assert_user_error(&["kruschke"]);

    let contrast = "omega[Pos [A], left] - omega[solo group]";
    let (result, out) = run(
        "awkward.csv",
        text,
        &["--id", "id", "--group", "g", "--contrast", contrast],
    );
    result.assert_success();
    let summary = Table::read(&out.join("summary.parquet"));
    let names = summary.text("parameter");
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
    result.assert_user_error(&[]);
}

/// The default device without XDG_RUNTIME_DIR: none of the Vulkan drivers' noise (lavapipe's
/// Wayland probe printed two error lines), and where no hardware GPU runs it, one line says
/// the run goes to the CPU and why.
#[test]
fn device_auto_says_in_one_line_where_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_betagibbs"))
        .args([
            "demo",
            "--out",
            arg(&out),
            "--chains",
            "4",
            "--warmup",
            "20",
        ])
        .args(["--draws", "20", "--quiet"])
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("XDG_RUNTIME_DIR"), "{stderr}");
    if stderr.contains("running on the CPU") {
        let device_lines: Vec<&str> = stderr.lines().filter(|l| l.contains("GPU")).collect();
        assert_eq!(device_lines.len(), 1, "{stderr}");
        assert!(!stderr.contains("Install a Vulkan"), "{stderr}");
    }
}

/// `demo methyl`: simulate, fit, call and score in one command; the realised FDR it reports
/// is within the bound of twice the nominal 5%, and a second run into the same
/// directory replaces the first.
#[test]
fn demo_methyl_runs_the_main_job_and_scores_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    for _ in 0..2 {
        let run = betagibbs(&[
            "demo",
            "methyl",
            "--out",
            arg(&out),
            "--device",
            "cpu",
            "--quiet",
        ]);
        run.assert_success();
        let line = run
            .stdout
            .lines()
            .find(|l| l.contains("DMLs"))
            .unwrap_or_else(|| panic!("{}", run.stdout));
        let fdr: f64 = line
            .split("realised FDR of ")
            .nth(1)
            .and_then(|r| r.split('%').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{line}"));
        assert!(fdr <= 10.0, "{line}");
        assert!(out.join("fit/dml.parquet").exists() && out.join("study/truth.tsv").exists());
    }
}

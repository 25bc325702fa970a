//! The binary end to end: good runs write both Parquet files; bad input exits 2 with a
//! message naming file, line and column, and leaves no output behind.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use betagibbs::methyl::config::DEFAULT_FDR;
use betagibbs::methyl::merge::SiteMerger;
use betagibbs::methyl::sheet::SampleSheet;
use betagibbs::plot::{PANEL_SIZE, SCATTER_SIZE, TRACE_ROW_HEIGHT, TRACE_WIDTH};
use common::figures::{figure_value, png_size, svg_size, svg_texts};
use common::rats::RatsPosterior;
use common::{betagibbs, betagibbs_with_env, print_rounding, CliRun, Table};
use statrs::distribution::{Beta, Continuous, ContinuousCDF};

/// A path as an argument.
fn arg(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temporary path")
}

fn write(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// `--device cpu --quiet` with `chains` chains of `warmup` + `draws` sweeps.
fn short_cpu_run<'a>(chains: &'a str, warmup: &'a str, draws: &'a str) -> [&'a str; 9] {
    [
        "--device", "cpu", "--quiet", "--chains", chains, "--warmup", warmup, "--draws", draws,
    ]
}

/// `sample DATA --successes y --trials n --out OUT`, 2 chains of 20 + 20 on the CPU.
fn sample(data: &Path, out: &Path, extra: &[&str]) -> CliRun {
    let head = [
        "sample",
        arg(data),
        "--successes",
        "y",
        "--trials",
        "n",
        "--out",
        arg(out),
    ];
    betagibbs(&[&head[..], &short_cpu_run("2", "20", "20"), extra].concat())
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
    for extra in [
        &["--prior", "flat"][..],
        &["--chains", "0"],
        &["--prior", "kruschke(a=NaN)"],
    ] {
        sample(&data, &dir.path().join("out"), extra).assert_user_error(&[]);
    }
    assert!(!dir.path().join("out").exists());
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
            !["draws.parquet", "summary.parquet", "observations.parquet"].contains(&n.as_str())
        })
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
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

/// `methyl SHEET --compare COMPARE --device cpu --quiet --out OUT` with a small stage 1 and
/// several chunks, so the stages run as a pipeline.
fn methyl(sheet: &Path, out: &Path, compare: &str) -> CliRun {
    betagibbs(&[
        "methyl",
        arg(sheet),
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
        "--chunk-sites",
        "64",
        "--quiet",
        "--out",
        arg(out),
    ])
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

/// `simulate` then `methyl` end to end; then methyl's bad inputs exit 2 and leave nothing.
#[test]
fn methyl_runs_and_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study");
    betagibbs(&["simulate", "--sites", "300", "--out", arg(&study)]).assert_success();
    let sheet = study.join("sheet.tsv");
    let out = dir.path().join("fit");
    methyl(&sheet, &out, "A,B").assert_success();
    assert_methyl_outputs(&sheet, &out);

    // A --draws-region that holds no site says so and writes no draws; a later run without
    // it leaves no stale draws.parquet beside its own sites.
    let with_region = |region: Option<&str>| {
        let mut args = vec![
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
            arg(&out),
        ];
        if let Some(region) = region {
            args.extend(["--draws-region", region]);
        }
        betagibbs(&args)
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

/// The posterior predictive checks of a rats run agree everywhere they are stated: each
/// statistic's observed value (from observations.parquet) and p (from the replicates in
/// predictive.parquet) on stdout, and in predictive.svg's panels.
fn assert_predictive_checks(out: &Path, run: &CliRun) {
    let observations = Table::read(&out.join("observations.parquet"));
    let y = observations.numbers("successes");
    let rates: Vec<f64> = y
        .iter()
        .zip(observations.numbers("trials"))
        .map(|(y, n)| y / n)
        .collect();
    let n = rates.len() as f64;
    let mean_rate = rates.iter().sum::<f64>() / n;
    let sd_rates = (rates.iter().map(|r| (r - mean_rate).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let zero_counts = y.iter().filter(|&&v| v == 0.0).count() as f64;
    let predictive = Table::read(&out.join("predictive.parquet"));
    let figure = out.join("figures/predictive.svg");
    let panels = svg_texts(&figure);
    for (stat, observed) in [
        ("mean rate", mean_rate),
        ("sd of rates", sd_rates),
        ("zero counts", zero_counts),
    ] {
        let line = run
            .stdout
            .lines()
            .find(|l| l.starts_with(stat))
            .unwrap_or_else(|| panic!("no {stat:?} check in:\n{}", run.stdout));
        let [printed_t, printed_p] = line[stat.len()..].split_whitespace().collect::<Vec<_>>()[..]
        else {
            panic!("{line}")
        };
        let t: f64 = printed_t.parse().unwrap();
        assert!((t - observed).abs() <= print_rounding(printed_t), "{line}");
        let replicates: Vec<f64> = (0..predictive.rows)
            .filter(|&i| predictive.text("parameter")[i] == format!("T[{stat}]"))
            .map(|i| predictive.numbers("value")[i])
            .collect();
        let share =
            replicates.iter().filter(|&&r| r >= observed).count() as f64 / replicates.len() as f64;
        let p: f64 = printed_p.parse().unwrap();
        assert!(
            (p - share).abs() <= print_rounding(printed_p),
            "{line}: {share}"
        );
        assert!(panels.iter().any(|t| t == stat), "no {stat} panel");
    }
    // The first panel, mean rate, states its observed value and p.
    let (observed, rounding) = figure_value(&panels, "observed = ");
    assert!(
        (observed - mean_rate).abs() <= rounding,
        "{observed} vs {mean_rate}"
    );
    let (p, rounding) = figure_value(&panels, "p = ");
    let (printed, printed_rounding) = run.last_column("mean rate");
    assert!((p - printed).abs() <= rounding + printed_rounding);
    assert_eq!(svg_size(&figure).0, 3 * PANEL_SIZE.0, "three panels a row");
}

/// The default figures of a rats run of two chains state its summary: mu's posterior mean in
/// the densities panel and as the shrinkage figure's population line, 71 thetas, a trace row
/// for mu and for kappa.
fn assert_figures_state_the_summary(out: &Path) {
    let figures = out.join("figures");
    let summary = Table::read(&out.join("summary.parquet"));
    let mu = summary.text("parameter").iter().position(|n| n == "mu");
    let mu_mean = summary.numbers("mean")[mu.unwrap()];
    let densities = svg_texts(&figures.join("densities.svg"));
    let (mean, rounding) = figure_value(&densities, "mean = ");
    assert!((mean - mu_mean).abs() <= rounding, "{mean} vs {mu_mean}");
    let shrinkage = svg_texts(&figures.join("shrinkage.svg"));
    assert!(
        shrinkage[0].starts_with("Shrinkage: 71 thetas"),
        "{}",
        shrinkage[0]
    );
    let (mean, rounding) = figure_value(&shrinkage, "population mean ");
    assert!((mean - mu_mean).abs() <= rounding, "{mean} vs {mu_mean}");
    assert_eq!(svg_size(&figures.join("shrinkage.svg")), SCATTER_SIZE);
    let traces = svg_texts(&figures.join("traces.svg"));
    for text in ["chain 1", "chain 2", "mu: trace", "kappa: trace"] {
        assert!(traces.iter().any(|t| t == text), "traces lack {text:?}");
    }
    let (width, height) = svg_size(&figures.join("traces.svg"));
    assert_eq!(width, TRACE_WIDTH);
    assert_eq!(height / TRACE_ROW_HEIGHT, 2, "two rows: mu, kappa");
}

/// `demo --ppc --plot` writes the predictive draws and the default figures; `plot` redraws
/// them from the Parquet files alone, as PNG too.
#[test]
fn ppc_and_figures_from_a_run_and_from_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rats");
    let head = ["demo", "rats", "--out", arg(&out)];
    let run = betagibbs(
        &[
            &head[..],
            &short_cpu_run("2", "100", "200"),
            &["--ppc", "--plot"],
        ]
        .concat(),
    );
    run.assert_success();
    assert_eq!(Table::read(&out.join("observations.parquet")).rows, 71);
    // y_rep of the 71 experiments, y_new of a new one, and the three statistics.
    assert_eq!(
        Table::read(&out.join("predictive.parquet")).rows,
        (71 + 1 + 3) * 2 * 200
    );
    assert_predictive_checks(&out, &run);
    assert_figures_state_the_summary(&out);
    let figures = out.join("figures");

    // The same grid of two density panels as PNG, from the files alone.
    let png = dir.path().join("png");
    betagibbs(&[
        "plot",
        arg(&out),
        "--format",
        "png",
        "--out",
        arg(&png),
        "--figure",
        "densities",
        "--param",
        "alpha",
        "--contrast",
        "theta[71] - theta[1]",
    ])
    .assert_success();
    assert_eq!(
        png_size(&png.join("densities.png")),
        svg_size(&figures.join("densities.svg"))
    );
    // A later run without --ppc into the same directory removes the stale replicates, and
    // --plot=png draws only this run's figures.
    betagibbs(&[&head[..], &short_cpu_run("2", "50", "50"), &["--plot=png"]].concat())
        .assert_success();
    assert!(!out.join("predictive.parquet").exists());
    assert_eq!(
        png_size(&figures.join("traces.png")),
        svg_size(&figures.join("traces.svg"))
    );
    assert!(!figures.join("predictive.png").exists());
}

#[test]
fn plot_refuses_what_the_directory_cannot_give() {
    let dir = tempfile::tempdir().unwrap();
    betagibbs(&["plot", arg(&dir.path().join("none"))]).assert_user_error(&[]);
    let out = dir.path().join("run");
    let data = write(dir.path(), "d.csv", "y,n\n1,5\n2,6\n0,4\n");
    sample(&data, &out, &[]).assert_success();
    // A file that is not ours under an expected name: a user error, not a crash.
    let foreign = dir.path().join("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("draws.parquet"), "hello").unwrap();
    std::fs::copy(out.join("summary.parquet"), foreign.join("summary.parquet")).unwrap();
    betagibbs(&["plot", arg(&foreign)]).assert_user_error(&[]);
    std::fs::copy(out.join("summary.parquet"), foreign.join("draws.parquet")).unwrap();
    betagibbs(&["plot", arg(&foreign)]).assert_user_error(&["expected a betagibbs draws/1 file"]);
    for (args, says) in [
        (&["--figure", "predictive"][..], "predictive.parquet"),
        (&["--figure", "comparison"][..], "comparison.parquet"),
        (&["--param", "nope"][..], "\"nope\""),
    ] {
        betagibbs(&[&["plot", arg(&out)][..], args].concat()).assert_user_error(&[says]);
    }
}

/// `compare` runs every estimator and the sampler: one row per (estimator, theta), and the figure.
#[test]
fn compare_writes_every_estimator_and_the_figure() {
    let estimators = [
        "complete-pooling",
        "no-pooling",
        "eb-moments",
        "eb-ml",
        "laplace-sir",
        "gibbs",
    ];
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cmp");
    let run = betagibbs(&[
        "compare",
        "--demo",
        "rats",
        "--out",
        arg(&out),
        "--draws",
        "400",
        "--sir-proposals",
        "4000",
        "--device",
        "cpu",
        "--quiet",
    ]);
    run.assert_success();
    for name in estimators {
        assert!(run.stdout.contains(name), "{name}: {}", run.stdout);
    }
    let table = Table::read(&out.join("comparison.parquet"));
    let rows = table.text("estimator");
    // 71 thetas for all six, plus alpha, beta, mu for the four with a population.
    assert_eq!(rows.len(), 6 * 71 + 4 * 3);
    let figure = svg_texts(&out.join("comparison.svg"));
    assert_eq!(svg_size(&out.join("comparison.svg")), SCATTER_SIZE);
    for name in estimators {
        let count = rows.iter().filter(|e| *e == name).count();
        assert!(count == 71 || count == 74, "{name}: {count} rows");
        assert!(
            figure.iter().any(|t| t.contains(name)),
            "figure lacks {name}"
        );
    }
    // Bad input is a user error naming file and line, as for `sample`.
    let bad = write(dir.path(), "bad.csv", "y,n\n1,5\n7,6\n");
    let x = dir.path().join("x");
    betagibbs(&[
        "compare",
        arg(&bad),
        "--successes",
        "y",
        "--trials",
        "n",
        "--out",
        arg(&x),
        "--quiet",
        "--device",
        "cpu",
    ])
    .assert_user_error(&["bad.csv:3"]);
    assert!(!x.exists());
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

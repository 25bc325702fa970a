//! The binary's figures end to end: `--ppc` and `--plot` write predictive checks and figures
//! that state what stdout and the Parquet files say, `plot` redraws them from the files alone
//! and refuses what a directory cannot give (foreign files included), and `compare` writes
//! every estimator and its figure.

mod common;

use std::path::Path;

use betagibbs::plot::{PANEL_SIZE, SCATTER_SIZE, TRACE_ROW_HEIGHT, TRACE_WIDTH};
use common::cli::{arg, sample, short_cpu_run, write};
use common::figures::{figure_value, png_size, svg_size, svg_texts};
use common::{betagibbs, print_rounding, CliRun, Table};

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
    std::fs::copy(out.join("run.json"), foreign.join("run.json")).unwrap();
    betagibbs(&["plot", arg(&foreign)]).assert_user_error(&["expected a betagibbs draws/1 file"]);
    // Files of two runs (as a run killed between its writes leaves them): refused, and a
    // run's files without its manifest likewise.
    let other = dir.path().join("other");
    sample(&data, &other, &["--seed", "9"]).assert_success();
    let mixed = dir.path().join("mixed");
    std::fs::create_dir_all(&mixed).unwrap();
    for name in ["run.json", "draws.parquet", "observations.parquet"] {
        std::fs::copy(out.join(name), mixed.join(name)).unwrap();
    }
    betagibbs(&["plot", arg(&mixed)]).assert_success();
    std::fs::copy(other.join("draws.parquet"), mixed.join("draws.parquet")).unwrap();
    betagibbs(&["plot", arg(&mixed)])
        .assert_user_error(&["draws.parquet is not from the run run.json names"]);
    std::fs::remove_file(mixed.join("run.json")).unwrap();
    betagibbs(&["plot", arg(&mixed)]).assert_user_error(&["from a run that wrote no run.json"]);
    for (args, says) in [
        (&["--figure", "predictive"][..], "predictive.parquet"),
        (&["--figure", "comparison"][..], "comparison.parquet"),
        (&["--param", "nope"][..], "\"nope\""),
        (&["--contrast", "theta[1] - nope"][..], "\"nope\""),
    ] {
        // Refused before the first figure: the shrinkage figure the run allows is not drawn.
        let figures = dir.path().join("figures");
        betagibbs(&[&["plot", arg(&out), "--out", arg(&figures)][..], args].concat())
            .assert_user_error(&[says]);
        assert!(!figures.exists(), "{args:?} left {}", figures.display());
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

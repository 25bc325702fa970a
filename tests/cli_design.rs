//! `methyl --design` end to end: `~ group` is `--compare` (the same calls), a design with
//! covariates, a contrast and a joint test run and write their columns and footer, and a bad design exits 2
//! naming what is wrong.

mod common;

use std::path::{Path, PathBuf};

use common::cli::{arg, small_methyl as methyl, small_methyl_settings};
use common::{betagibbs, Table};

/// A simulated study of 4 samples per group with a `batch` factor (crossed with the groups),
/// an `age`, and a 3-level `cell`, added to its sheet.
fn study(dir: &Path) -> PathBuf {
    let study = dir.join("study");
    betagibbs(&[
        "simulate",
        "--sites",
        "600",
        "--replicates",
        "4",
        "--out",
        arg(&study),
    ])
    .assert_success();
    let sheet = study.join("sheet.tsv");
    let text = std::fs::read_to_string(&sheet).unwrap();
    let mut lines = text.lines();
    let mut out = format!("{}\tbatch\tage\tcell\n", lines.next().unwrap());
    for (i, line) in lines.enumerate() {
        let batch = ["b1", "b2"][(i / 2) % 2];
        // Balanced between the groups, so that age and group can be told apart.
        let age = 30 + 7 * (i % 4) + i / 4;
        let cell = ["c1", "c2", "c3"][i % 3];
        out.push_str(&format!("{line}\t{batch}\t{age}\t{cell}\n"));
    }
    std::fs::write(&sheet, out).unwrap();
    sheet
}

#[test]
fn a_group_design_is_compare() {
    let dir = tempfile::tempdir().unwrap();
    let sheet = study(dir.path());
    let (a, b) = (dir.path().join("compare"), dir.path().join("design"));
    methyl(&sheet, &a, &["--compare", "A,B"]).assert_success();
    methyl(&sheet, &b, &["--design", "~ group", "--coef", "groupB"]).assert_success();
    for file in ["sites.parquet", "dml.parquet"] {
        let (x, y) = (Table::read(&a.join(file)), Table::read(&b.join(file)));
        assert_eq!(x.rows, y.rows, "{file}");
        assert_eq!(x.numbers("p_dm"), y.numbers("p_dm"), "{file}");
    }
}

#[test]
fn a_design_with_covariates_writes_its_coefficient_and_footer() {
    let dir = tempfile::tempdir().unwrap();
    let sheet = study(dir.path());
    let out = dir.path().join("fit");
    let design = ["--design", "~ group + batch + age", "--coef", "groupB"];
    methyl(&sheet, &out, &design).assert_success();
    let sites = Table::read(&out.join("sites.parquet"));
    assert!(sites.rows > 500, "{} sites", sites.rows);
    for column in ["groupB_mean", "groupB_sd", "groupB_q2_5", "groupB_q97_5"] {
        assert!(
            sites.numbers(column).iter().all(|x| x.is_finite()),
            "{column}"
        );
    }
    // The levels are the groups at the reference batch and the mean age.
    let (mu_a, mu_b, delta) = (
        sites.numbers("mu_A_mean"),
        sites.numbers("mu_B_mean"),
        sites.numbers("delta_mean"),
    );
    for i in 0..sites.rows {
        assert!((mu_b[i] - mu_a[i] - delta[i]).abs() < 1e-6, "row {i}");
    }
    let footer = &sites.metadata;
    assert!(
        footer["betagibbs.design"].contains("\"formula\""),
        "{footer:?}"
    );
    assert!(footer["betagibbs.design"].contains("groupB"), "{footer:?}");
    assert!(
        footer.contains_key("betagibbs.nuisance_scales"),
        "{footer:?}"
    );
    // The simulator's DMRs are found, and the calls keep their stated FDR on its truth.
    let dml = Table::read(&out.join("dml.parquet"));
    assert!(dml.rows > 10, "{} DMLs", dml.rows);

    // A contrast of two cell types.
    let out = dir.path().join("contrast");
    methyl(
        &sheet,
        &out,
        &[
            "--design",
            "~ group + cell",
            "--contrast",
            "cellc2 - cellc3",
        ],
    )
    .assert_success();
    let sites = Table::read(&out.join("sites.parquet"));
    assert!(sites.numbers("contrast_mean").iter().all(|x| x.is_finite()));

    // A joint test of the three cell types: each level's mu, and P(they span more than d).
    let out = dir.path().join("joint");
    methyl(
        &sheet,
        &out,
        &["--design", "~ group + cell", "--test", "cell"],
    )
    .assert_success();
    let sites = Table::read(&out.join("sites.parquet"));
    for level in ["c1", "c2", "c3"] {
        assert!(sites
            .numbers(&format!("mu_{level}_mean"))
            .iter()
            .all(|x| x.is_finite()));
    }
    assert!(sites.numbers("p_delta_below").iter().all(|&p| p == 0.0));
}

#[test]
fn a_bad_design_exits_2_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let sheet = study(dir.path());
    let out = dir.path().join("bad");
    let bad = |question: &[&str], needles: &[&str]| {
        methyl(&sheet, &out, question).assert_user_error(needles);
        assert!(!out.exists(), "output left behind");
    };
    bad(&["--design", "~ group + sex", "--coef", "groupB"], &["sex"]);
    bad(
        &["--design", "~ group", "--coef", "groupC"],
        &["groupC", "groupB"],
    );
    bad(&["--design", "~ group"], &["--coef"]);
    bad(
        &["--design", "~ group", "--test", "group"],
        &["--coef groupB"],
    );
    // An interaction's block is tested one coefficient at a time.
    bad(
        &["--design", "~ group * cell", "--test", "group:cell"],
        &["not a factor", "groupB:cellc2, groupB:cellc3"],
    );
    // A copy of group under another name: confounded.
    let text = std::fs::read_to_string(&sheet).unwrap();
    let copied: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let group = l.split('\t').nth(2).unwrap();
            format!("{l}\t{}\n", if i == 0 { "twin" } else { group })
        })
        .collect();
    let twin = sheet.with_file_name("twin.tsv");
    std::fs::write(&twin, copied).unwrap();
    methyl(
        &twin,
        &out,
        &["--design", "~ group + twin", "--coef", "groupB"],
    )
    .assert_user_error(&["full rank", "twinB"]);
    // Text in a numeric column, at its line and column.
    let texty = text.replacen("\t37\t", "\tthirty-seven\t", 1);
    assert_ne!(texty, text);
    let texty_sheet = sheet.with_file_name("texty.tsv");
    std::fs::write(&texty_sheet, texty).unwrap();
    methyl(
        &texty_sheet,
        &out,
        &["--design", "~ group + age", "--coef", "groupB"],
    )
    .assert_user_error(&["texty.tsv:3:", "thirty-seven"]);
}

/// The same design on the GPU (site_regression.wgsl) and on the CPU (its twin): the chains
/// agree but for rare f32 flips of a Metropolis decision, so every site's P(|delta| > d)
/// and coefficient agree closely and the calls nearly all.
#[test]
#[ignore = "needs a Vulkan adapter (lavapipe: apt-get install mesa-vulkan-drivers)"]
fn a_design_on_the_gpu_matches_the_cpu() {
    let dir = tempfile::tempdir().unwrap();
    let sheet = study(dir.path());
    let design = ["--design", "~ group + batch + age", "--coef", "groupB"];
    let run = |device: &str| {
        let out = dir.path().join(device);
        let settings = small_methyl_settings(device);
        let head = [
            &["methyl", arg(&sheet)],
            &settings[..],
            &["--out", arg(&out)],
        ]
        .concat();
        let done = betagibbs(&[&head[..], &design[..]].concat());
        done.assert_success();
        (Table::read(&out.join("sites.parquet")), done.stderr)
    };
    let ((cpu, _), (gpu, gpu_stderr)) = (run("cpu"), run("gpu"));
    assert_kernel_time_fits(&gpu_stderr, gpu.rows);
    assert_eq!(cpu.rows, gpu.rows);
    assert!(gpu.metadata["betagibbs.device"].starts_with("gpu"));
    for (column, tolerance) in [("p_dm", 0.05), ("groupB_mean", 0.05)] {
        let (x, y) = (cpu.numbers(column), gpu.numbers(column));
        let close = x
            .iter()
            .zip(y.iter())
            .filter(|(a, b)| (*a - *b).abs() <= tolerance)
            .count();
        eprintln!("{column}: {close} of {} sites within {tolerance}", x.len());
        assert!(
            close as f64 >= 0.95 * x.len() as f64,
            "{column}: {close} of {}",
            x.len()
        );
    }
}

/// `--summaries device` and `--summaries host` on the same GPU: the same chains, so the same
/// calls and the same summaries to f32 rounding, for two groups and for a design (whose
/// draws also hold the coefficient). lavapipe's `auto` is the host: the device is asked for.
/// The device's run deals its chunks of 64 sites to DEVICE_SWEEPERS sweep threads, the
/// host's to one: the same rows in the same order.
#[test]
#[ignore = "needs a Vulkan adapter (lavapipe: apt-get install mesa-vulkan-drivers)"]
fn device_summaries_are_the_hosts() {
    let dir = tempfile::tempdir().unwrap();
    let sheet = study(dir.path());
    let design = ["--design", "~ group + batch + age", "--coef", "groupB"];
    let compare = ["--compare", "A,B"];
    for (name, question, columns) in [
        (
            "groups",
            &compare[..],
            &["mu_A_q2_5", "delta_mean", "delta_sd"][..],
        ),
        (
            "design",
            &design[..],
            &["groupB_mean", "groupB_q97_5", "delta_q2_5"][..],
        ),
    ] {
        let run = |summaries: &str| {
            let out = dir.path().join(format!("{name}-{summaries}"));
            let settings = small_methyl_settings("gpu");
            let head = [
                &["methyl", arg(&sheet)],
                &settings[..],
                &["--summaries", summaries, "--out", arg(&out)],
                &["--draws-region", "chr1:1-20000"],
            ]
            .concat();
            betagibbs(&[&head[..], question].concat()).assert_success();
            let read = |file: &str| Table::read(&out.join(file));
            let files = ["dml.parquet", "dmr.parquet", "draws.parquet"].map(read);
            (read("sites.parquet"), files)
        };
        let ((device, device_files), (host, host_files)) = (run("device"), run("host"));
        // The same calls and regions (the regions from the draws the device sent back), their
        // summary columns to f32 rounding; --draws-region's draws the same bits.
        for (k, (d, h)) in device_files.iter().zip(&host_files).enumerate() {
            assert_eq!(d.rows, h.rows, "{name}");
            for (column, values) in &h.numbers {
                let close = |(a, b): (&f64, &f64)| (a - b).abs() <= 2e-6 * b.abs().max(1.0);
                let same = match k {
                    2 => &d.numbers[column] == values,
                    _ => d.numbers[column].iter().zip(values).all(close),
                };
                assert!(same, "{name}: {column}");
            }
        }
        assert!(host_files[2].rows > 0, "{name}: draws.parquet has draws");
        assert!(device.metadata["betagibbs.summaries"].starts_with("device"));
        assert!(host.metadata["betagibbs.summaries"].starts_with("host"));
        assert_eq!(device.numbers("p_dm"), host.numbers("p_dm"), "{name}: p_dm");
        let mut worst = 0.0f64;
        for column in columns.iter().chain(&["r_hat"]) {
            for (a, b) in device.numbers(column).iter().zip(host.numbers(column)) {
                worst = worst.max((a - b).abs());
            }
        }
        let ess_worst = device
            .numbers("ess_bulk")
            .iter()
            .zip(host.numbers("ess_bulk"))
            .map(|(a, b)| (a - b).abs() / b)
            .fold(0.0, f64::max);
        eprintln!("{name}: largest difference {worst:.1e}, ESS {ess_worst:.1e} relative");
        // f32 rounding of draws of order 1 (a logit coefficient of a few), summed a few hundred times.
        assert!(
            worst <= 2e-6 && ess_worst <= 2e-5,
            "{name}: {worst:e}, {ess_worst:e}"
        );
    }
}

/// The report's device line, where the adapter has timestamps (lavapipe has): the kernels'
/// seconds, and the waits and copies, within the site update's busy seconds, and the
/// chain-sweeps those of the run (`sites` x 4 chains x (5 warm-up + 50 draws),
/// small_methyl_settings's and the defaults).
fn assert_kernel_time_fits(stderr: &str, sites: usize) {
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix("betagibbs: the site update's "))
        .unwrap_or_else(|| panic!("no device line in:\n{stderr}"));
    if line.contains("not timed") {
        eprintln!("skipped: this adapter has no timestamp queries");
        return;
    }
    let number = |before: &str| -> f64 {
        let at = line
            .find(before)
            .unwrap_or_else(|| panic!("{before} in {line}"));
        let word = line[at + before.len()..].split_whitespace().next().unwrap();
        word.trim_end_matches([':', ',', ';'])
            .parse()
            .unwrap_or_else(|_| panic!("{word} in {line}"))
    };
    let busy = number("");
    let (kernels, waiting, copying) = (number("kernels "), number("results "), number("back "));
    // Not kernels <= waiting: a driver may run a submission while the host submits the next.
    assert!(kernels > 0.0 && kernels <= busy + 0.01, "{line}");
    assert!(waiting + copying <= busy + 0.01, "{line}");
    assert_eq!(number("s; "), (sites * 4 * 55) as f64, "{line}");
}

//! The built binary, run with arguments: its exit code, its output as text, the numbers it prints;
//! the arguments of a short `sample` run on the CPU, and the files it reads.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One run of the binary.
pub struct CliRun {
    /// None when a signal ended it.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl CliRun {
    /// Panics with stderr unless the run exited 0.
    pub fn assert_success(&self) -> &CliRun {
        assert_eq!(self.code, Some(0), "exit code; stderr:\n{}", self.stderr);
        self
    }

    /// Panics unless the run exited 2, a user error, with a message containing every needle.
    pub fn assert_user_error(&self, needles: &[&str]) -> &CliRun {
        assert_eq!(self.code, Some(2), "exit code; stderr:\n{}", self.stderr);
        for needle in needles {
            assert!(
                self.stderr.contains(needle),
                "the message lacks {needle:?}:\n{}",
                self.stderr
            );
        }
        self
    }
}

/// `betagibbs ARGS...`.
pub fn betagibbs(args: &[&str]) -> CliRun {
    betagibbs_with_env(args, &[])
}

/// `betagibbs ARGS...` with extra environment variables.
pub fn betagibbs_with_env(args: &[&str], env: &[(&str, &str)]) -> CliRun {
    let output = Command::new(env!("CARGO_BIN_EXE_betagibbs"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run the betagibbs binary");
    CliRun {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

impl CliRun {
    /// The number in the last column of the last stdout line that starts with `label`, and
    /// the rounding of its print.
    pub fn last_column(&self, label: &str) -> (f64, f64) {
        let line = self
            .stdout
            .lines()
            .rev()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no line {label:?} in:\n{}", self.stdout));
        let printed = line.split_whitespace().last().unwrap();
        (printed.parse().unwrap(), print_rounding(printed))
    }
}

/// Half a unit in the last printed decimal of `printed`: how far the value behind it may be
/// (and 1e-12 more, for the binary fractions behind both).
pub fn print_rounding(printed: &str) -> f64 {
    let decimals = printed.split_once('.').map_or(0, |(_, d)| d.len());
    0.5 * 10f64.powi(-(decimals as i32)) + 1e-12
}

/// A path as an argument.
pub fn arg(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temporary path")
}

/// Writes `contents` to `dir/name`; its path.
pub fn write(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// `--device cpu --quiet` with `chains` chains of `warmup` + `draws` sweeps.
pub fn short_cpu_run<'a>(chains: &'a str, warmup: &'a str, draws: &'a str) -> [&'a str; 9] {
    [
        "--device", "cpu", "--quiet", "--chains", chains, "--warmup", warmup, "--draws", draws,
    ]
}

/// `sample DATA --successes y --trials n --out OUT`, before any chain flags.
pub fn sample_head<'a>(data: &'a Path, out: &'a Path) -> [&'a str; 8] {
    [
        "sample",
        arg(data),
        "--successes",
        "y",
        "--trials",
        "n",
        "--out",
        arg(out),
    ]
}

/// `sample DATA --successes y --trials n --out OUT`, 2 chains of 20 + 20 on the CPU.
pub fn sample(data: &Path, out: &Path, extra: &[&str]) -> CliRun {
    betagibbs(
        &[
            &sample_head(data, out)[..],
            &short_cpu_run("2", "20", "20"),
            extra,
        ]
        .concat(),
    )
}

/// `simulate --sites SITES EXTRA... --out DIR/study`; the study's sample sheet.
pub fn simulated_study(dir: &Path, sites: &str, extra: &[&str]) -> PathBuf {
    let study = dir.join("study");
    betagibbs(&[&["simulate", "--sites", sites, "--out", arg(&study)], extra].concat())
        .assert_success();
    study.join("sheet.tsv")
}

/// `methyl`'s small settings on `device`: a short stage 1 and chunks of 64 sites, so the
/// stages run as a pipeline.
pub fn small_methyl_settings(device: &str) -> [&str; 11] {
    [
        "--device",
        device,
        "--hyper-sites",
        "200",
        "--hyper-warmup",
        "50",
        "--hyper-draws",
        "10",
        "--chunk-sites",
        "64",
        "--quiet",
    ]
}

/// `methyl SHEET QUESTION... --device cpu --quiet --out OUT` with `small_methyl_settings`;
/// QUESTION is `--compare A,B` or a design.
pub fn small_methyl(sheet: &Path, out: &Path, question: &[&str]) -> CliRun {
    let settings = small_methyl_settings("cpu");
    betagibbs(
        &[
            &["methyl", arg(sheet)],
            &settings[..],
            &["--out", arg(out)],
            question,
        ]
        .concat(),
    )
}

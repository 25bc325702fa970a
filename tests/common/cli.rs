//! The built binary, run with arguments: its exit code, its output as text, the numbers it prints.

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

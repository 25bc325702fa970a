//! The references run beside us: DSS's `DMLtest` (no smoothing) through `Rscript` on the same
//! files in the same run, so that `bench --sheet ... --dss` takes the ratio of sites per second
//! side by side (`benches/dss_dmltest.R`); `bench --accuracy`, the accuracy benchmark
//! against DSS (`benches/accuracy.py` with `benches/accuracy_dss.R`); and `bench --design`,
//! study designs against DSS's multiFactor (`benches/design.py` with `benches/design_dss.R`).

use std::path::Path;
use std::process::Command;

use crate::error::UserError;
use crate::methyl::sheet::SampleSheet;

/// The R script, embedded so that an installed binary can run it.
const DSS_SCRIPT: &str = include_str!("../../benches/dss_dmltest.R");
/// The accuracy benchmark and its DSS side, embedded likewise (the Python script finds the R
/// script at benches/ beside itself).
const ACCURACY_SCRIPT: &str = include_str!("../../benches/accuracy.py");
const ACCURACY_DSS_SCRIPT: &str = include_str!("../../benches/accuracy_dss.R");
/// The design benchmark and its DSS side (`bench --design`), likewise.
const DESIGN_SCRIPT: &str = include_str!("../../benches/design.py");
const DESIGN_DSS_SCRIPT: &str = include_str!("../../benches/design_dss.R");
/// The script's exit status for a missing tool or input, as ours.
const SCRIPT_USER_ERROR: i32 = 2;
/// The script's result line starts with this.
const RESULT_TAG: &str = "dss_dmltest sites ";

/// DSS's DMLtest on the sheet's two compared groups (`first` then `second`, DSS-format files)
/// with `cores` cores: (sites tested, seconds of DMLtest alone). `dir` holds the script.
pub(crate) fn time_dss_dmltest(
    sheet: &Path,
    (first, second): (&str, &str),
    cores: usize,
    dir: &Path,
) -> anyhow::Result<(u64, f64)> {
    let sheet = SampleSheet::read(sheet)?;
    let files = |group: &str| {
        let paths: Vec<String> = sheet
            .samples
            .iter()
            .filter(|s| s.group == group)
            .map(|s| s.file.display().to_string())
            .collect();
        paths.join(",")
    };
    std::fs::create_dir_all(dir)?;
    let script = dir.join("dss_dmltest.R");
    std::fs::write(&script, DSS_SCRIPT)?;
    let output = Command::new("Rscript")
        .arg(&script)
        .arg(files(first))
        .arg(files(second))
        .arg(cores.to_string())
        .output()
        .map_err(|e| {
            UserError(format!(
                "--dss runs Rscript, which did not start ({e}): install R and Bioconductor's DSS \
                 (Debian: apt-get install r-bioc-dss)"
            ))
        })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(4).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(UserError(format!(
            "--dss: DSS's DMLtest failed (it needs Bioconductor's DSS and DSS-format files, \
             'chr pos N X'): {}",
            tail.join(" | ")
        ))
        .into());
    }
    parse_result(&stdout).ok_or_else(|| {
        anyhow::anyhow!("--dss: no '{RESULT_TAG}<n> seconds <s>' line in Rscript's output")
    })
}

/// (sites, seconds) from the script's line `dss_dmltest sites <n> seconds <s>`.
fn parse_result(stdout: &str) -> Option<(u64, f64)> {
    let line = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix(RESULT_TAG))?;
    let mut words = line.split_whitespace();
    let sites = words.next()?.parse().ok()?;
    let seconds: f64 = (words.next()? == "seconds")
        .then(|| words.next()?.parse().ok())
        .flatten()?;
    (seconds > 0.0).then_some((sites, seconds))
}

/// A benchmark script run by python3 on this binary beside DSS: `bench --accuracy` or
/// `bench --design`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suite {
    /// The accuracy benchmark (`benches/accuracy.py` with `benches/accuracy_dss.R`).
    Accuracy,
    /// Study designs against DSS's multiFactor (`benches/design.py` with
    /// `benches/design_dss.R`).
    Design,
}

impl Suite {
    /// Its flag, its Python modules, and its two scripts: (file name, text) each.
    fn parts(
        self,
    ) -> (
        &'static str,
        &'static str,
        [(&'static str, &'static str); 2],
    ) {
        match self {
            Suite::Accuracy => (
                "--accuracy",
                "numpy and pyarrow",
                [
                    ("accuracy.py", ACCURACY_SCRIPT),
                    ("accuracy_dss.R", ACCURACY_DSS_SCRIPT),
                ],
            ),
            Suite::Design => (
                "--design",
                "pyarrow",
                [
                    ("design.py", DESIGN_SCRIPT),
                    ("design_dss.R", DESIGN_DSS_SCRIPT),
                ],
            ),
        }
    }
}

/// `bench --accuracy` or `bench --design`: the embedded benchmark script, run by python3 on
/// this binary, on the real data in `data`; its report goes to standard output, its files to
/// `out` (or a temporary folder it names).
pub(crate) fn run_suite(
    suite: Suite,
    data: &Path,
    quick: bool,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    let (flag, modules, scripts) = suite.parts();
    let dir = std::env::temp_dir().join(format!(
        "betagibbs-{}-{}",
        flag.trim_start_matches('-'),
        std::process::id()
    ));
    let benches = dir.join("benches");
    std::fs::create_dir_all(&benches)?;
    for (name, text) in scripts {
        std::fs::write(benches.join(name), text)?;
    }
    let mut command = Command::new("python3");
    command
        .arg(benches.join(scripts[0].0))
        .arg("--bin")
        .arg(std::env::current_exe()?)
        .arg("--data")
        .arg(data);
    if quick {
        command.arg("--quick");
    }
    if let Some(out) = out {
        command.arg("--out").arg(out);
    }
    let status = command.status().map_err(|e| {
        UserError(format!(
            "{flag} runs python3 (with {modules}), which did not start ({e})"
        ))
    });
    let _ = std::fs::remove_dir_all(&dir);
    match status?.code() {
        Some(0) => Ok(()),
        Some(SCRIPT_USER_ERROR) => Err(UserError(format!(
            "{flag}: the benchmark could not run (its message is above)"
        ))
        .into()),
        code => anyhow::bail!("{flag}: the benchmark failed (exit status {code:?})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_result_line() {
        let out = "noise\ndss_dmltest sites 18075 seconds 5.183\n";
        assert_eq!(parse_result(out), Some((18075, 5.183)));
        assert_eq!(parse_result("dss_dmltest sites 10 seconds 0.000"), None);
        assert_eq!(parse_result("dss_dmltest sites x seconds 1"), None);
        assert_eq!(parse_result("nothing"), None);
    }
}

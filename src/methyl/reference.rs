//! The reference of `bench --sheet ... --dss`: DSS's `DMLtest` (no smoothing), the tool the
//! issue measures us against, run through `Rscript` on the same files in the same run, so that
//! the ratio of sites per second is taken side by side (`benches/dss_dmltest.R`).

use std::path::Path;
use std::process::Command;

use crate::app::UserError;
use crate::methyl::sheet::SampleSheet;

/// The R script, embedded so that an installed binary can run it.
const DSS_SCRIPT: &str = include_str!("../../benches/dss_dmltest.R");
/// The script's result line starts with this.
const RESULT_TAG: &str = "dss_dmltest sites ";

/// DSS's DMLtest on the sheet's two compared groups (`first` then `second`, DSS-format files)
/// with `cores` cores: (sites tested, seconds of DMLtest alone). `dir` holds the script.
pub fn time_dss_dmltest(
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

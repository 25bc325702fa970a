//! `bench --model rats --stan`: Stan's NUTS (PyStan 3, benches/stan_rats.py) on the same
//! model and data in the same run, its ESS computed by our own estimator from its draws, so
//! that the ratio compares samplers, not ESS formulas. Skipped with a note when python3 or
//! PyStan is missing.

use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::app::embedded::RATS_CSV;
use crate::app::report::mixing;

/// benches/stan_rats.py, run by python3.
const SCRIPT: &str = include_str!("../../benches/stan_rats.py");
/// The script's exit status when PyStan is not installed.
const NO_PYSTAN: i32 = 3;
/// The parameters whose smallest ESS is reported, as `bench` reports ours.
const WATCHED: [&str; 4] = ["alpha", "beta", "mu", "kappa"];

/// Stan's run: its version, wall seconds of the sampling (warm-up included, compilation not)
/// and of PyStan's fixed cost per call, and the smallest bulk ESS and largest R-hat over
/// WATCHED.
#[derive(Debug, Clone)]
pub struct StanRow {
    pub version: String,
    pub chains: u32,
    pub seconds: f64,
    /// A one-iteration call's wall seconds: PyStan's process and transfer cost, not Stan's.
    pub overhead: f64,
    pub min_ess: f64,
    pub slowest: String,
    /// Bulk ESS of kappa = alpha + beta (rank-based: that of log(alpha + beta) too).
    pub kappa_ess: f64,
    pub max_r_hat: f64,
}

/// Stan on the rat model, or None (with a note on stderr) where it cannot run here.
pub fn run_stan(chains: u32, warmup: u32, draws: u32, seed: u32) -> Result<Option<StanRow>> {
    let dir = tempfile_dir()?;
    let (script, data, out) = (
        dir.join("stan_rats.py"),
        dir.join("rats.csv"),
        dir.join("stan.txt"),
    );
    std::fs::write(&script, SCRIPT)?;
    std::fs::write(&data, RATS_CSV)?;
    let result = Command::new("python3")
        .arg(&script)
        .arg("--data")
        .arg(&data)
        .args(["--chains", &chains.to_string()])
        .args(["--warmup", &warmup.to_string()])
        .args(["--draws", &draws.to_string()])
        .args(["--seed", &seed.to_string()])
        .arg("--out")
        .arg(&out)
        .output();
    let parsed = match result {
        Err(e) => {
            eprintln!("betagibbs: bench --stan: python3 did not start ({e}); Stan's row skipped");
            Ok(None)
        }
        Ok(o) if o.status.code() == Some(NO_PYSTAN) => {
            eprintln!(
                "betagibbs: bench --stan: PyStan is not installed for python3 (pip install pystan); Stan's row skipped"
            );
            Ok(None)
        }
        Ok(o) if !o.status.success() => {
            let text = String::from_utf8_lossy(&o.stderr);
            let tail: String = text
                .chars()
                .rev()
                .take(2000)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            bail!("bench --stan: Stan's run failed:\n{tail}")
        }
        Ok(_) => parse(&std::fs::read_to_string(&out)?, chains).map(Some),
    };
    let _ = std::fs::remove_dir_all(&dir);
    parsed
}

fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("betagibbs-stan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// The script's output: `stan <version>`, `seconds <s>`, then `draws <name> <chain> <v...>`.
fn parse(text: &str, chains: u32) -> Result<StanRow> {
    let mut version = String::new();
    let (mut seconds, mut overhead) = (f64::NAN, f64::NAN);
    let mut draws: Vec<(String, Vec<Vec<f64>>)> = WATCHED
        .iter()
        .map(|n| (n.to_string(), vec![Vec::new(); chains as usize]))
        .collect();
    for line in text.lines() {
        let mut fields = line.split(' ');
        match fields.next() {
            Some("stan") => version = fields.collect::<Vec<_>>().join(" "),
            Some("seconds") => {
                seconds = fields.next().context("seconds")?.parse()?;
            }
            Some("overhead") => {
                overhead = fields.next().context("overhead")?.parse()?;
            }
            Some("draws") => {
                let name = fields.next().context("draws: name")?;
                let chain: usize = fields.next().context("draws: chain")?.parse()?;
                let values = fields.map(str::parse).collect::<Result<Vec<f64>, _>>()?;
                let slot = draws
                    .iter_mut()
                    .find(|(n, _)| n == name)
                    .with_context(|| format!("draws of an unexpected {name}"))?;
                *slot
                    .1
                    .get_mut(chain)
                    .with_context(|| format!("draws of chain {chain}"))? = values;
            }
            _ => bail!("bench --stan: unexpected line {line:?}"),
        }
    }
    if let Some((name, _)) = draws.iter().find(|(_, c)| c.iter().any(Vec::is_empty)) {
        bail!("bench --stan: no draws of {name}");
    }
    let m = mixing(
        draws
            .iter()
            .map(|(n, c)| (n.as_str(), c.iter().map(Vec::as_slice).collect())),
    );
    Ok(StanRow {
        version,
        chains,
        seconds,
        overhead,
        min_ess: m.min_ess,
        slowest: m.slowest,
        kappa_ess: m.kappa_ess,
        max_r_hat: m.max_r_hat,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_scripts_output() {
        let mut text = String::from("stan PyStan 3.10.0\nseconds 0.5\noverhead 0.1\n");
        for name in WATCHED {
            for c in 0..2 {
                let values: Vec<String> = (0..50)
                    .map(|d| format!("{}", ((d * 7 + c * 3) % 11) as f64))
                    .collect();
                text.push_str(&format!("draws {name} {c} {}\n", values.join(" ")));
            }
        }
        let row = parse(&text, 2).unwrap();
        assert_eq!(row.version, "PyStan 3.10.0");
        assert_eq!(row.seconds, 0.5);
        assert!(row.min_ess > 0.0 && row.max_r_hat.is_finite());
        assert!(parse("stan x\nseconds 1\n", 2).is_err());
        assert!(parse("nonsense\n", 2).is_err());
    }
}

//! What `sample` and `compare` share in their output directory: the `--out` check and
//! observations.parquet.

use std::path::Path;

use crate::error::UserError;
use crate::io::write::{write_small_table, SmallTable};
use crate::mcmc::batch::Batch;
use crate::plot::figures::OBSERVATIONS_SCHEMA;

/// `--out` may be missing (it is created) or a directory, not a file.
pub(crate) fn check_out_dir(out: &Path) -> Result<(), UserError> {
    if out.exists() && !out.is_dir() {
        return Err(UserError(format!(
            "--out {}: exists and is not a directory",
            out.display()
        )));
    }
    Ok(())
}

/// Refuses an input that is one of the files the run will write into `out`: the run would
/// replace the user's data with its own output.
pub(crate) fn check_not_an_output(
    input: &Path,
    out: &Path,
    outputs: &[&str],
) -> Result<(), UserError> {
    let Ok(input) = input.canonicalize() else {
        return Ok(());
    };
    for name in outputs {
        if out.join(name).canonicalize().is_ok_and(|o| o == input) {
            return Err(UserError(format!(
                "{}: is the {name} this run would write into --out {}; choose another --out",
                input.display(),
                out.display()
            )));
        }
    }
    Ok(())
}

/// observations.parquet (observations/1): each theta's name with its y and n, what the
/// shrinkage figure needs beyond the draws.
pub fn write_observations(
    dir: &Path,
    batch: &Batch,
    names: &[String],
    metadata: &[(String, String)],
) -> anyhow::Result<()> {
    let theta_names: Vec<String> = batch
        .theta_param_indices()
        .into_iter()
        .map(|p| names[p].clone())
        .collect();
    let table = SmallTable {
        schema_version: OBSERVATIONS_SCHEMA,
        text: vec![("parameter", theta_names)],
        integers: vec![
            (
                "successes",
                batch
                    .observations
                    .iter()
                    .map(|o| i64::from(o.successes))
                    .collect(),
            ),
            (
                "trials",
                batch
                    .observations
                    .iter()
                    .map(|o| i64::from(o.trials))
                    .collect(),
            ),
        ],
        floats: Vec::new(),
    };
    write_small_table(&dir.join("observations.parquet"), &table, metadata)
}

//! Beta-binomial regression: y_i ~ Binomial(n_i, theta_i), theta_i ~ Beta(mu_i kappa,
//! (1 - mu_i) kappa), logit mu_i = x_i · beta, on a plain design matrix.
//!
//! Collapsed: the thetas are integrated out and (beta, log kappa) move by slice sampling
//! along directions from the design's QR, re-based on the warm-up covariance (`basis`); on
//! each kept sweep every theta is drawn from its conjugate Beta. Chains run in parallel,
//! each with the Philox key (seed, chain). By job: the priors (`prior`), one row's
//! likelihood (`likelihood`), the posterior along a line (`target`), the directions
//! (`basis`), one chain (`chain`), the algebra (`linalg`).

mod basis;
mod chain;
mod likelihood;
mod linalg;
pub mod prior;
mod target;

use std::time::Instant;

use rayon::prelude::*;

use crate::error::UserError;
use crate::mcmc::sampler::Fit;
use chain::run_chain;
use target::Target;

/// One table's regression: the design (row-major, `successes.len()` rows × `coef_names.len()`
/// columns), the counts, and each row's label for its theta's name.
pub struct Regression<'a> {
    pub x: &'a [f64],
    pub coef_names: &'a [String],
    pub successes: &'a [u32],
    pub trials: &'a [u32],
    pub row_labels: &'a [String],
}

/// The chains' lengths and seed, as `sample`'s flags give them.
#[derive(Debug, Clone, Copy)]
pub struct RegressionConfig {
    pub chains: u32,
    pub warmup: u32,
    pub draws: u32,
    pub thin: u32,
    pub seed: u32,
}

impl RegressionConfig {
    /// Sweeps per chain: warm-up plus the thinned kept sweeps.
    pub fn sweeps(&self) -> u32 {
        self.warmup + self.draws * self.thin
    }
}

/// Parameter names in the order of the draws: `theta[<label>]` per row, `coef[<name>]` per
/// column, then `kappa`.
pub fn param_names(reg: &Regression) -> Vec<String> {
    reg.row_labels
        .iter()
        .map(|l| format!("theta[{l}]"))
        .chain(reg.coef_names.iter().map(|c| format!("coef[{c}]")))
        .chain(std::iter::once("kappa".to_string()))
        .collect()
}

/// Checks what the sampler needs of the data: counts with 1 <= n and y <= n, at least one
/// column, and columns that are not linear combinations of each other.
fn validate(reg: &Regression) -> Result<(), UserError> {
    let (rows, cols) = (reg.successes.len(), reg.coef_names.len());
    assert_eq!(reg.x.len(), rows * cols, "design size");
    assert_eq!(reg.trials.len(), rows, "trials length");
    assert_eq!(reg.row_labels.len(), rows, "row labels length");
    if cols == 0 {
        return Err(UserError(
            "the design has no columns: the formula gives no coefficient".into(),
        ));
    }
    if let Some(i) = (0..rows).find(|&i| reg.trials[i] == 0 || reg.successes[i] > reg.trials[i]) {
        return Err(UserError(format!(
            "row {}: {} successes of {} trials; each row needs 1 <= trials and successes <= trials",
            reg.row_labels[i], reg.successes[i], reg.trials[i]
        )));
    }
    if rows < cols {
        return Err(UserError(format!(
            "{rows} rows for {cols} coefficients: the coefficients are not identified"
        )));
    }
    Ok(())
}

/// Fits the regression: every chain in parallel; `on_sweep` is called after each of chain
/// 1's sweeps (a progress bar).
pub fn run(
    reg: &Regression,
    config: &RegressionConfig,
    on_sweep: Option<&(dyn Fn() + Sync)>,
) -> Result<Fit, UserError> {
    validate(reg)?;
    let start = Instant::now();
    let (rows, cols) = (reg.successes.len(), reg.coef_names.len());
    let (q, r) = linalg::thin_qr(reg.x, rows, cols).map_err(|j| {
        UserError(format!(
            "design column '{}' is a linear combination of the columns before it, so its \
             coefficient is not identified; drop a term of the formula",
            reg.coef_names[j]
        ))
    })?;
    // Q* = Q sqrt(rows) has unit mean square, so a unit step in gamma = R* beta moves the
    // linear predictor by about one on the logit scale.
    let root = (rows as f64).sqrt();
    let r_star: Vec<f64> = r.iter().map(|v| v / root).collect();
    let empirical_logits: Vec<f64> = (0..rows)
        .map(|i| {
            let p = (f64::from(reg.successes[i]) + 0.5) / (f64::from(reg.trials[i]) + 1.0);
            (p / (1.0 - p)).ln()
        })
        .collect();
    let start_gamma: Vec<f64> = (0..cols)
        .map(|j| {
            (0..rows)
                .map(|i| q[i * cols + j] * root * empirical_logits[i])
                .sum::<f64>()
                / rows as f64
        })
        .collect();
    let target = Target {
        x: reg.x,
        rows,
        cols,
        y: reg.successes,
        n: reg.trials,
        scales: prior::coef_scales(reg.coef_names),
    };
    let per_chain: Vec<Vec<f64>> = (0..config.chains)
        .into_par_iter()
        .map(|c| run_chain(&target, &r_star, &start_gamma, config, c, on_sweep))
        .collect();
    let (n_chains, n_draws, n_params) = (
        config.chains as usize,
        config.draws as usize,
        rows + cols + 1,
    );
    let mut values = vec![0.0; n_params * n_chains * n_draws];
    for (c, chain) in per_chain.iter().enumerate() {
        for p in 0..n_params {
            let to = (p * n_chains + c) * n_draws;
            values[to..to + n_draws].copy_from_slice(&chain[p * n_draws..(p + 1) * n_draws]);
        }
    }
    Ok(Fit {
        n_chains,
        n_draws,
        n_params,
        values,
        wall_seconds: start.elapsed().as_secs_f64(),
        stage_seconds: 0.0,
        observation_updates: (rows as u64) * u64::from(config.draws) * u64::from(config.chains),
    })
}

//! `compare`: the estimation ladder (`ladder`) and the full Gibbs sampler on the same
//! one-level data, one table (comparison.parquet, comparison/1) and one figure.
//!
//! comparison/1 columns: estimator, parameter (theta[<id>], alpha, beta, mu), mean, q2_5,
//! q97_5 (null for a point estimate: the EB hyperparameters). Each estimator's notes (e.g.
//! a Laplace mode search that did not converge, a low importance ESS) are printed and kept
//! in the footer as betagibbs.notes.<estimator>.

use std::path::PathBuf;

use anyhow::Context;

use crate::app::memory::check_fits;
use crate::app::output::{check_not_an_output, check_out_dir, write_observations};
use crate::app::progress::progress_bar;
use crate::app::source::DataSource;
use crate::error::UserError;
use crate::io::manifest::Run;
use crate::io::read::ColumnSpec;
use crate::io::write::{write_small_table, SmallTable};
use crate::kernels::device::{describe_device, open_device};
use crate::kernels::Device;
use crate::kernels::DeviceChoice;
use crate::ladder::{estimate, Estimator, LadderConfig};
use crate::mcmc::diagnostics::quantile_sorted;
use crate::mcmc::model::Model;
use crate::mcmc::prior::HyperPrior;
use crate::mcmc::sampler::{self, SamplerConfig, Update};
use crate::plot::figures::{FigureKind, ImageFormat, PlotConfig, COMPARISON_SCHEMA};

/// The Gibbs sampler's chains and warm-up in `compare`: `sample`'s defaults.
const GIBBS_CHAINS: u32 = 4;
const GIBBS_WARMUP: u32 = 1000;
/// Above this R-hat of alpha or beta the sampler's rung is flagged (Vehtari et al. 2021).
const GIBBS_R_HAT_WARNING: f64 = 1.01;
/// The estimator name of the full sampler in the table.
const GIBBS_NAME: &str = "gibbs";

/// Everything `compare` needs, validated.
#[derive(Debug, Clone)]
pub struct CompareConfig {
    pub source: DataSource,
    pub columns: ColumnSpec,
    pub draws: u32,
    pub sir_proposals: usize,
    pub prior: HyperPrior,
    pub seed: u32,
    pub device: DeviceChoice,
    pub format: ImageFormat,
    pub out: PathBuf,
    pub quiet: bool,
}

/// Rows of comparison/1 under construction.
#[derive(Default)]
struct Rows {
    estimator: Vec<String>,
    parameter: Vec<String>,
    mean: Vec<f64>,
    lo: Vec<f64>,
    hi: Vec<f64>,
}

impl Rows {
    /// A parameter's draws (an interval), or a single value (a point estimate: no interval).
    fn push(&mut self, estimator: &str, parameter: &str, draws: &[f64]) {
        let mut sorted = draws.to_vec();
        sorted.sort_unstable_by(f64::total_cmp);
        let point = draws.len() == 1;
        self.estimator.push(estimator.to_string());
        self.parameter.push(parameter.to_string());
        self.mean
            .push(draws.iter().sum::<f64>() / draws.len() as f64);
        self.lo.push(if point {
            f64::NAN
        } else {
            quantile_sorted(&sorted, 0.025)
        });
        self.hi.push(if point {
            f64::NAN
        } else {
            quantile_sorted(&sorted, 0.975)
        });
    }
}

/// One line of the printed table.
struct Line {
    estimator: String,
    alpha: f64,
    beta: f64,
    /// Spread (sd) of the theta means: the less, the more the estimator pools.
    spread: f64,
    /// Mean width of the 95% intervals of the thetas.
    width: f64,
}

/// The printed line of an estimator whose theta rows are `rows`'s rows `thetas`.
fn line(
    estimator: &str,
    rows: &Rows,
    thetas: std::ops::Range<usize>,
    alpha_beta: &[[f64; 2]],
) -> Line {
    let means = &rows.mean[thetas.clone()];
    let m = means.iter().sum::<f64>() / means.len() as f64;
    let spread = (means.iter().map(|x| (x - m).powi(2)).sum::<f64>()
        / (means.len().max(2) - 1) as f64)
        .sqrt();
    let width = thetas.clone().map(|r| rows.hi[r] - rows.lo[r]).sum::<f64>() / thetas.len() as f64;
    let avg = |k: usize| {
        if alpha_beta.is_empty() {
            f64::NAN
        } else {
            alpha_beta.iter().map(|ab| ab[k]).sum::<f64>() / alpha_beta.len() as f64
        }
    };
    Line {
        estimator: estimator.to_string(),
        alpha: avg(0),
        beta: avg(1),
        spread,
        width,
    }
}

/// `compare`: every estimator of the ladder, then the Gibbs sampler; the table, the figure.
pub fn run(config: &CompareConfig) -> anyhow::Result<()> {
    let mut dataset = config.source.dataset(&config.columns)?;
    // One population: the ladder has no levels (baseball's positions are ignored here).
    dataset.group_labels.clear();
    dataset.group_columns.clear();
    if dataset.n_units() != 1 {
        return Err(UserError("compare takes one population: no --unit column".into()).into());
    }
    check_out_dir(&config.out)?;
    if let Some(input) = config.source.path() {
        check_not_an_output(
            input,
            &config.out,
            &["comparison.parquet", "observations.parquet"],
        )?;
    }
    let (y, n) = (&dataset.successes, &dataset.trials);
    let model = Model::new(&dataset, true)?;
    let theta_names: Vec<String> = model.names[..dataset.n_obs()].to_vec();

    let mut rows = Rows::default();
    let mut lines = Vec::new();
    let mut notes: Vec<(String, String)> = Vec::new();
    let ladder = LadderConfig {
        draws: config.draws as usize,
        seed: config.seed,
        prior: config.prior,
        sir_proposals: config.sir_proposals,
    };
    for estimator in Estimator::ALL {
        let name = estimator.name();
        match estimate(estimator, y, n, &ladder) {
            Ok(e) => {
                let first = rows.mean.len();
                for (theta, label) in e.theta.iter().zip(&theta_names) {
                    rows.push(name, label, theta);
                }
                let thetas = first..rows.mean.len();
                if !e.alpha_beta.is_empty() {
                    let alpha: Vec<f64> = e.alpha_beta.iter().map(|ab| ab[0]).collect();
                    let beta: Vec<f64> = e.alpha_beta.iter().map(|ab| ab[1]).collect();
                    let mu: Vec<f64> = e
                        .alpha_beta
                        .iter()
                        .map(|ab| ab[0] / (ab[0] + ab[1]))
                        .collect();
                    rows.push(name, "alpha", &alpha);
                    rows.push(name, "beta", &beta);
                    rows.push(name, "mu", &mu);
                }
                lines.push(line(name, &rows, thetas, &e.alpha_beta));
                let warned = e.notes.iter().any(|n| n.contains("ESS"));
                if let (Some((ess, proposals)), false) = (e.importance_ess, warned) {
                    notes.push((
                        name.to_string(),
                        format!(
                            "importance ESS {ess:.0} of {proposals} proposals ({:.1}%)",
                            100.0 * ess / proposals as f64
                        ),
                    ));
                }
                for note in e.notes {
                    notes.push((name.to_string(), note));
                }
            }
            // An estimator that does not apply (e.g. moments with no overdispersion) is reported, not fatal.
            Err(message) => notes.push((name.to_string(), format!("not estimated: {message}"))),
        }
    }

    // The full sampler, as `sample` runs it.
    let gpu = open_device(config.device)?;
    let device = describe_device(gpu.as_ref());
    let backend = Device::from_gpu(gpu.as_ref());
    let per_chain = config.draws.div_ceil(GIBBS_CHAINS);
    // `sample`'s default update: the collapsed one, with its default rounds.
    let mut sampler_config = SamplerConfig::new(
        config.prior,
        GIBBS_CHAINS,
        GIBBS_WARMUP,
        per_chain,
        1,
        config.seed,
    );
    sampler_config.update = Update::Collapsed;
    sampler_config.hyper_rounds = Update::Collapsed.default_rounds();
    check_fits(
        sampler_config.memory_bytes(&model.batch),
        &format!("--draws {}", config.draws),
    )?;
    let bar = progress_bar(
        u64::from(sampler_config.sweeps()),
        &format!("sampling on {device}"),
        config.quiet,
    );
    let fit = sampler::run(&model.batch, &sampler_config, backend, Some(&|| bar.inc(1)))
        .context("sampling failed")?;
    bar.finish_and_clear();
    let pooled = |p: usize| fit.chains(p).concat();
    let theta: Vec<Vec<f64>> = (0..dataset.n_obs()).map(pooled).collect();
    let first = rows.mean.len();
    for (t, label) in theta.iter().zip(&theta_names) {
        rows.push(GIBBS_NAME, label, t);
    }
    let thetas = first..rows.mean.len();
    let hyper_at = model.batch.unit_param_start(0, true) + dataset.n_obs();
    let (alpha, beta, mu) = (pooled(hyper_at), pooled(hyper_at + 1), pooled(hyper_at + 2));
    rows.push(GIBBS_NAME, "alpha", &alpha);
    rows.push(GIBBS_NAME, "beta", &beta);
    rows.push(GIBBS_NAME, "mu", &mu);
    let alpha_beta: Vec<[f64; 2]> = alpha.iter().zip(&beta).map(|(a, b)| [*a, *b]).collect();
    // The sampler's own check: its hyperparameters' R-hat and bulk ESS.
    let (mut worst_r_hat, mut least_ess) = (f64::NEG_INFINITY, f64::INFINITY);
    for p in [hyper_at, hyper_at + 1] {
        let (r, e) = crate::mcmc::diagnostics::rhat_and_ess_bulk(&fit.chains(p));
        worst_r_hat = worst_r_hat.max(r);
        least_ess = least_ess.min(e);
    }
    notes.push((
        GIBBS_NAME.to_string(),
        format!("alpha, beta: largest R-hat {worst_r_hat:.3}, smallest bulk ESS {least_ess:.0}"),
    ));
    if worst_r_hat.is_nan() || worst_r_hat > GIBBS_R_HAT_WARNING {
        notes.push((
            GIBBS_NAME.to_string(),
            format!(
                "warning: R-hat above {GIBBS_R_HAT_WARNING}: the chains disagree; raise --draws"
            ),
        ));
    }
    lines.push(line(GIBBS_NAME, &rows, thetas, &alpha_beta));

    let mut metadata = vec![
        (
            "betagibbs.version".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
        ("betagibbs.source".to_string(), dataset.source.clone()),
        (
            "betagibbs.source_sha256".to_string(),
            dataset.sha256.clone(),
        ),
        ("betagibbs.prior".to_string(), config.prior.to_string()),
        ("betagibbs.draws".to_string(), config.draws.to_string()),
        ("betagibbs.seed".to_string(), config.seed.to_string()),
    ];
    for estimator in Estimator::ALL.iter().map(|e| e.name()).chain([GIBBS_NAME]) {
        let text: Vec<&str> = notes
            .iter()
            .filter(|(e, _)| e == estimator)
            .map(|(_, n)| n.as_str())
            .collect();
        if !text.is_empty() {
            metadata.push((format!("betagibbs.notes.{estimator}"), text.join(" | ")));
        }
    }
    let run = Run::begin(&config.out, "compare")?;
    metadata.push(run.footer());
    let table = SmallTable {
        schema_version: COMPARISON_SCHEMA,
        text: vec![("estimator", rows.estimator), ("parameter", rows.parameter)],
        integers: Vec::new(),
        floats: vec![("mean", rows.mean), ("q2_5", rows.lo), ("q97_5", rows.hi)],
    };
    write_small_table(&config.out.join("comparison.parquet"), &table, &metadata)?;
    write_observations(&config.out, &model.batch, &model.names, &metadata)?;
    run.finish(&["comparison.parquet", "observations.parquet"])?;

    println!(
        "{:<17} {:>9} {:>9} {:>14} {:>16}",
        "estimator", "alpha", "beta", "sd of means", "mean 95% width"
    );
    for l in &lines {
        println!(
            "{:<17} {:>9.3} {:>9.3} {:>14.4} {:>16.4}",
            l.estimator, l.alpha, l.beta, l.spread, l.width
        );
    }
    for (estimator, note) in &notes {
        eprintln!("betagibbs: {estimator}: {note}");
    }
    let figures = crate::plot::figures::draw(
        &PlotConfig {
            dir: config.out.clone(),
            out: config.out.clone(),
            figures: vec![FigureKind::Comparison],
            params: Vec::new(),
            contrasts: Vec::new(),
            format: config.format,
            methyl: Default::default(),
        },
        None,
    )?;
    eprintln!(
        "betagibbs: {} estimators on {} thetas ({}); wrote {} and {}",
        lines.len(),
        dataset.n_obs(),
        dataset.source,
        config.out.join("comparison.parquet").display(),
        figures
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

//! The commands behind the binary: each takes a validated config and does its work.

pub mod cli;
pub mod compare;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use crate::error::UserError;
use crate::io::read::{parse_delimited, read_dataset, ColumnSpec, Dataset};
use crate::io::write::{format_summary_table, write_draws, write_summary, DrawsTable, SummaryRow};
use crate::kernels::device::{describe_device, open_device};
use crate::kernels::gpu::Gpu;
use crate::kernels::{Device, DeviceChoice};
use crate::mcmc::contrast::Contrast;
use crate::mcmc::diagnostics::{ess_bulk, rhat, summarize};
use crate::mcmc::model::Model;
use crate::mcmc::prior::HyperPrior;
use crate::mcmc::sampler::{self, Batch, Fit, SamplerConfig, Update};

/// The rat-tumour table of BDA3 ch. 5 (provenance: data/SOURCES.md).
pub const RATS_CSV: &[u8] = include_bytes!("../../data/rats.csv");
/// Kruschke's 2012 batting table, DBDA2 ch. 9 (provenance: data/SOURCES.md).
pub const BATTING_CSV: &[u8] = include_bytes!("../../data/batting_average.csv");

/// The data sets built into the binary, for `demo` and `bench`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Embedded {
    /// 71 rat experiments, one level (BDA3 ch. 5).
    Rats,
    /// 948 players in 9 primary positions, two levels (Kruschke DBDA2 ch. 9).
    Baseball,
}

impl Embedded {
    pub fn source(self) -> &'static str {
        match self {
            Embedded::Rats => "rats.csv (embedded)",
            Embedded::Baseball => "batting_average.csv (embedded)",
        }
    }

    pub fn columns(self) -> ColumnSpec {
        let (successes, trials, id, groups) = match self {
            Embedded::Rats => ("tumors", "rats", "experiment", vec![]),
            Embedded::Baseball => ("Hits", "AtBats", "Player", vec!["PriPos".to_string()]),
        };
        ColumnSpec {
            successes: successes.into(),
            trials: trials.into(),
            unit: None,
            id: Some(id.into()),
            aggregate_ids: false,
            groups,
        }
    }

    /// The table, parsed and validated like any input.
    pub fn dataset(self) -> Dataset {
        let bytes = match self {
            Embedded::Rats => RATS_CSV,
            Embedded::Baseball => BATTING_CSV,
        };
        parse_delimited(bytes, self.source(), b',', &self.columns())
            .expect("the embedded tables are valid")
    }
}

pub fn rats_columns() -> ColumnSpec {
    Embedded::Rats.columns()
}

/// The embedded rat data, parsed and validated like any input.
pub fn rats_dataset() -> Dataset {
    Embedded::Rats.dataset()
}

#[derive(Debug, Clone)]
pub enum DataSource {
    File(PathBuf),
    Embedded(Embedded),
}

/// Everything `sample` and `demo` need, validated.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub sampler: SamplerConfig,
    pub source: DataSource,
    pub columns: ColumnSpec,
    pub device: DeviceChoice,
    pub contrasts: Vec<Contrast>,
    pub out: PathBuf,
    pub quiet: bool,
    /// Posterior predictive checks to predictive.parquet.
    pub ppc: bool,
    /// Default figures into out/figures.
    pub plot: Option<crate::plot::figures::ImageFormat>,
}

/// Summary rows of the contrasts: the difference taken draw by draw within each chain.
fn contrast_rows(fit: &Fit, resolved: &[(String, (usize, usize))]) -> Vec<SummaryRow> {
    resolved
        .iter()
        .map(|(label, (a, b))| {
            let diffs: Vec<Vec<f64>> = (0..fit.n_chains)
                .map(|c| {
                    fit.chain(*a, c)
                        .iter()
                        .zip(fit.chain(*b, c))
                        .map(|(x, y)| x - y)
                        .collect()
                })
                .collect();
            SummaryRow {
                parameter: label.clone(),
                summary: summarize(&diffs.iter().map(|d| d.as_slice()).collect::<Vec<_>>()),
            }
        })
        .collect()
}

pub struct BenchConfig {
    pub model: Embedded,
    pub chains: Vec<u32>,
    pub updates: Vec<Update>,
    pub warmup: u32,
    pub draws: u32,
    pub seed: u32,
    /// None: each update's default.
    pub hyper_rounds: Option<u32>,
    pub gpu: bool,
}

/// A progress bar on stderr for `len` steps; hidden when quiet or stderr is not a terminal.
pub fn progress_bar(len: u64, what: &str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{elapsed_precise}] {wide_bar} {pos}/{len} sweeps ({per_sec}, eta {eta})",
        )
        .expect("valid template"),
    );
    bar.set_message(what.to_string());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Summaries of every parameter, in parallel.
pub fn summary_rows(fit: &Fit, names: &[String]) -> Vec<SummaryRow> {
    (0..fit.n_params)
        .into_par_iter()
        .map(|p| SummaryRow {
            parameter: names[p].clone(),
            summary: summarize(&fit.chains(p)),
        })
        .collect()
}

/// `sample` and `demo`: read, fit, summarise, write, print.
pub fn run_sample(config: &RunConfig) -> anyhow::Result<()> {
    let dataset = match &config.source {
        DataSource::File(path) => {
            read_dataset(path, &config.columns).map_err(|e| UserError(e.to_string()))?
        }
        DataSource::Embedded(data) => data.dataset(),
    };
    let Model { batch, names } = Model::new(&dataset, config.sampler.keep_thetas)?;
    let contrasts = config
        .contrasts
        .iter()
        .map(|c| Ok((c.label(), c.resolve(&names)?)))
        .collect::<Result<Vec<_>, UserError>>()?;
    if config.out.exists() && !config.out.is_dir() {
        return Err(UserError(format!(
            "--out {}: exists and is not a directory",
            config.out.display()
        ))
        .into());
    }
    let gpu = open_device(config.device)?;
    let device = describe_device(gpu.as_ref());
    let backend = Device::from_gpu(gpu.as_ref());
    let s = &config.sampler;
    let bar = progress_bar(
        u64::from(s.sweeps()),
        &format!("sampling on {device}"),
        config.quiet,
    );
    let fit = sampler::run(&batch, s, backend, Some(&|| bar.inc(1))).context("sampling failed")?;
    bar.finish_and_clear();

    let mut rows = summary_rows(&fit, &names);
    rows.extend(contrast_rows(&fit, &contrasts));
    let metadata = run_metadata(&dataset, &batch, s, &device);
    std::fs::create_dir_all(&config.out)
        .with_context(|| format!("creating the output directory {}", config.out.display()))?;
    let draws_path = config.out.join("draws.parquet");
    let table = DrawsTable {
        parameter_names: &names,
        n_chains: fit.n_chains,
        n_draws: fit.n_draws,
        values: &fit.values,
    };
    write_draws(&draws_path, &table, &metadata)?;
    let summary_path = config.out.join("summary.parquet");
    write_summary(&summary_path, &rows, &metadata)?;
    if s.keep_thetas {
        write_observations(&config.out, &batch, &names, &metadata)?;
    }
    println!("{}", format_summary_table(&rows));
    let predictive_path = config.out.join("predictive.parquet");
    if !config.ppc && predictive_path.is_file() {
        // An earlier run's replicates would not match these draws.
        std::fs::remove_file(&predictive_path)
            .with_context(|| format!("removing the stale {}", predictive_path.display()))?;
    }
    if config.ppc {
        let predictive = crate::mcmc::ppc::predictive(&batch, &names, &fit, s.seed);
        let (ppc_names, values) = predictive.draws();
        let mut ppc_metadata = metadata.clone();
        ppc_metadata.extend(predictive.metadata());
        let table = DrawsTable {
            parameter_names: &ppc_names,
            n_chains: fit.n_chains,
            n_draws: fit.n_draws,
            values: &values,
        };
        write_draws(
            &config.out.join("predictive.parquet"),
            &table,
            &ppc_metadata,
        )?;
        println!("\nposterior predictive check   T(y)        p = P(T(y_rep) >= T(y))");
        for c in &predictive.checks {
            println!(
                "{:<28} {:<11.4} {:.3}",
                c.statistic.name(),
                c.observed,
                c.p_value
            );
        }
    }
    let width = contrasts
        .iter()
        .map(|(l, _)| l.len())
        .max()
        .unwrap_or(0)
        .max("contrast".len());
    if !contrasts.is_empty() {
        println!(
            "\n{:<width$}  {:>10}  {:>23}  {:>7}",
            "contrast", "mean", "95% HDI", "P(> 0)"
        );
    }
    for row in &rows[rows.len() - contrasts.len()..] {
        let s = &row.summary;
        let hdi = format!("[{:.4}, {:.4}]", s.hdi_low, s.hdi_high);
        println!(
            "{:<width$}  {:>10.4}  {:>23}  {:>7.3}",
            row.parameter, s.mean, hdi, s.p_positive
        );
    }
    eprintln!(
        "betagibbs: {} chains x {} draws in {:.2} s on {device}; wrote {} and {}",
        fit.n_chains,
        fit.n_draws,
        fit.wall_seconds,
        draws_path.display(),
        summary_path.display()
    );
    if let Some(format) = config.plot {
        use crate::plot::figures::Figure;
        let plot = crate::plot::figures::PlotConfig {
            dir: config.out.clone(),
            out: config.out.join("figures"),
            // This run's figures only, whatever else lies in the directory.
            figures: [
                (s.keep_thetas, Figure::Shrinkage),
                (true, Figure::Densities),
                (true, Figure::Traces),
                (config.ppc, Figure::Predictive),
            ]
            .into_iter()
            .filter_map(|(wanted, f)| wanted.then_some(f))
            .collect(),
            params: Vec::new(),
            contrasts: config.contrasts.clone(),
            format,
        };
        for path in crate::plot::figures::draw(&plot)? {
            eprintln!("betagibbs: drew {}", path.display());
        }
    }
    Ok(())
}

/// observations.parquet (observations/1): each theta's name with its y and n, what the
/// shrinkage figure needs beyond the draws.
pub fn write_observations(
    dir: &std::path::Path,
    batch: &crate::mcmc::batch::Batch,
    names: &[String],
    metadata: &[(String, String)],
) -> anyhow::Result<()> {
    let theta_names: Vec<String> = batch
        .theta_param_indices()
        .into_iter()
        .map(|p| names[p].clone())
        .collect();
    let table = crate::io::write::SmallTable {
        schema_version: crate::plot::figures::OBSERVATIONS_SCHEMA,
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
    crate::io::write::write_small_table(&dir.join("observations.parquet"), &table, metadata)
}

/// Key-value metadata for the Parquet footers.
pub fn run_metadata(
    ds: &Dataset,
    batch: &Batch,
    s: &SamplerConfig,
    device: &str,
) -> Vec<(String, String)> {
    let model = if batch.is_tree() {
        format!(
            "y[i] ~ Binomial(n[i], theta[i]); theta[i] ~ Beta(omega[g] (kappa[g] - 2) + 1, (1 - omega[g]) (kappa[g] - 2) + 1) \
             for i's group g in column '{}'; each group's omega ~ the same Beta of its parent's (omega, kappa), \
             groups nested as {} -> root; kappa - 2 ~ Gamma(shape, rate) of the prior",
            ds.group_columns[0],
            ds.group_columns.join(" -> ")
        )
    } else {
        "y[i] ~ Binomial(n[i], theta[i]); theta[i] ~ Beta(alpha[u], beta[u]) per unit u".to_string()
    };
    [
        ("betagibbs.version", env!("CARGO_PKG_VERSION").to_string()),
        ("betagibbs.model", model),
        ("betagibbs.prior", s.prior.to_string()),
        ("betagibbs.seed", s.seed.to_string()),
        ("betagibbs.chains", s.chains.to_string()),
        ("betagibbs.warmup", s.warmup.to_string()),
        ("betagibbs.draws", s.draws.to_string()),
        ("betagibbs.thin", s.thin.to_string()),
        ("betagibbs.update", s.update.to_string()),
        ("betagibbs.hyper_rounds", s.hyper_rounds.to_string()),
        ("betagibbs.device", device.to_string()),
        ("betagibbs.input", ds.source.clone()),
        ("betagibbs.input_sha256", ds.sha256.clone()),
        ("betagibbs.units", ds.n_units().to_string()),
        ("betagibbs.observations", ds.n_obs().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// One benchmark measurement: an embedded model with one update and chain count on one path.
#[derive(Debug, Clone)]
pub struct BenchRow {
    pub path: String,
    pub update: Update,
    pub chains: u32,
    pub wall_seconds: f64,
    /// Per-observation kernel work per second: thetas drawn plus beta-binomial terms.
    pub observation_updates_per_second: f64,
    /// The smallest bulk ESS over the hyperparameters (every alpha, beta, mu, kappa, or
    /// every omega and kappa), per wall second, warm-up included.
    pub min_ess_per_second: f64,
    /// Which hyperparameter had that smallest ESS.
    pub slowest: String,
    /// The largest rank-normalised split R-hat over the hyperparameters: converged if near 1.
    pub max_r_hat: f64,
    /// Share of the wall time in the per-observation stages (the rest: host updates and bookkeeping).
    pub stage_share: f64,
}

/// Run an embedded model once and measure it.
pub fn bench_once(
    gpu: Option<&Gpu>,
    chains: u32,
    update: Update,
    bench: &BenchConfig,
) -> anyhow::Result<BenchRow> {
    let dataset = bench.model.dataset();
    let Model { batch, names } = Model::new(&dataset, false)?;
    let prior = if batch.is_tree() {
        HyperPrior::parse("kruschke").expect("valid prior")
    } else {
        HyperPrior::Bda3
    };
    let mut config = SamplerConfig::new(prior, chains, bench.warmup, bench.draws, 1, bench.seed);
    config.keep_thetas = false;
    config.update = update;
    config.hyper_rounds = bench.hyper_rounds.unwrap_or(update.default_rounds());
    let backend = Device::from_gpu(gpu);
    let fit = sampler::run(&batch, &config, backend, None)?;
    let (mut min_ess, mut slowest, mut max_r_hat) = (f64::INFINITY, String::new(), 0.0f64);
    for (p, name) in names.iter().enumerate() {
        let chains = fit.chains(p);
        let ess = ess_bulk(&chains);
        if ess < min_ess {
            (min_ess, slowest) = (ess, name.clone());
        }
        max_r_hat = max_r_hat.max(rhat(&chains));
    }
    Ok(BenchRow {
        path: describe_device(gpu),
        update,
        chains,
        wall_seconds: fit.wall_seconds,
        observation_updates_per_second: fit.observation_updates as f64 / fit.wall_seconds,
        min_ess_per_second: min_ess / fit.wall_seconds,
        slowest,
        max_r_hat,
        stage_share: fit.stage_seconds / fit.wall_seconds,
    })
}

/// `bench`: both paths and every update side by side for each chain count.
pub fn run_bench(config: &BenchConfig) -> anyhow::Result<Vec<BenchRow>> {
    let gpu = if config.gpu {
        match Gpu::open(true) {
            Ok(g) => Some(g),
            Err(e) => {
                eprintln!("betagibbs: {e}; timing the CPU path only");
                None
            }
        }
    } else {
        None
    };
    let (model, prior) = match config.model {
        Embedded::Rats => ("rat model (71 observations, one level)", "bda3"),
        Embedded::Baseball => (
            "baseball model (948 players in 9 positions, two levels)",
            "kruschke",
        ),
    };
    let rounds = match config.hyper_rounds {
        Some(r) => r.to_string(),
        None => format!(
            "gibbs {}, collapsed {}",
            Update::Gibbs.default_rounds(),
            Update::Collapsed.default_rounds()
        ),
    };
    println!(
        "{model}, {prior} prior, {} warm-up + {} draws per chain, hyperparameter rounds per sweep: {rounds}",
        config.warmup, config.draws
    );
    println!(
        "{:<44} {:>9} {:>6} {:>8} {:>14} {:>12} {:>16} {:>7} {:>7}",
        "path",
        "update",
        "chains",
        "wall s",
        "obs-updates/s",
        "min ESS/s",
        "slowest",
        "R-hat",
        "stage %"
    );
    let mut rows = Vec::new();
    // The CPU path, then the GPU path when there is one, at each chain count.
    let paths: Vec<Option<&Gpu>> = std::iter::once(None)
        .chain(gpu.as_ref().map(Some))
        .collect();
    for &chains in &config.chains {
        for &update in &config.updates {
            for &g in &paths {
                let row = bench_once(g, chains, update, config)?;
                println!(
                    "{:<44} {:>9} {:>6} {:>8.2} {:>14.3e} {:>12.0} {:>16} {:>7.3} {:>7.0}",
                    row.path,
                    row.update.to_string(),
                    row.chains,
                    row.wall_seconds,
                    row.observation_updates_per_second,
                    row.min_ess_per_second,
                    row.slowest,
                    row.max_r_hat,
                    100.0 * row.stage_share
                );
                rows.push(row);
            }
        }
    }
    Ok(rows)
}

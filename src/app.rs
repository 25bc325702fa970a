//! The commands behind the binary: each takes a validated config and does its work.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use crate::cli::DeviceChoice;
use crate::data::{parse_delimited, read_dataset, ColumnSpec, Dataset};
use crate::diagnostics::{ess_bulk, rhat, summarize};
use crate::gpu::Gpu;
use crate::layout::MAX_TRIALS;
use crate::output::{format_summary_table, write_draws, write_summary, DrawsTable, SummaryRow};
use crate::prior::HyperPrior;
use crate::sampler::{self, Backend, Batch, Fit, SamplerConfig, HYPER_NAMES};

/// The rat-tumour table of BDA3 ch. 5 (provenance: data/SOURCES.md).
pub const RATS_CSV: &[u8] = include_bytes!("../data/rats.csv");
pub const RATS_SOURCE: &str = "rats.csv (embedded)";

/// A problem with what the user asked for or gave: exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UserError(pub String);

pub fn rats_columns() -> ColumnSpec {
    ColumnSpec {
        successes: "tumors".into(),
        trials: "rats".into(),
        unit: None,
        id: Some("experiment".into()),
        aggregate_ids: false,
    }
}

/// The embedded rat data, parsed and validated like any input.
pub fn rats_dataset() -> Dataset {
    parse_delimited(RATS_CSV, RATS_SOURCE, b',', &rats_columns())
        .expect("the embedded rat table is valid")
}

#[derive(Debug, Clone)]
pub enum DataSource {
    File(PathBuf),
    EmbeddedRats,
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
}

/// `--contrast 'A - B'`: the posterior of parameter A minus parameter B.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contrast {
    pub left: String,
    pub right: String,
}

impl Contrast {
    /// Split at the first " - " (spaces around the minus, so that names may hold '-').
    pub fn parse(expr: &str) -> Result<Contrast, UserError> {
        match expr.split_once(" - ") {
            Some((l, r)) if !l.trim().is_empty() && !r.trim().is_empty() => Ok(Contrast {
                left: l.trim().to_string(),
                right: r.trim().to_string(),
            }),
            _ => Err(UserError(format!(
                "--contrast {expr:?}: expected 'NAME - NAME', e.g. 'theta[71] - theta[1]'"
            ))),
        }
    }

    /// The name of the contrast's summary row.
    pub fn label(&self) -> String {
        format!("{} - {}", self.left, self.right)
    }

    /// Parameter indices of the two sides, or a message naming what is missing.
    fn resolve(&self, names: &[String]) -> Result<(usize, usize), UserError> {
        let find = |name: &str| {
            names.iter().position(|n| n == name).ok_or_else(|| {
                UserError(format!(
                    "--contrast {:?}: no parameter named {name:?} (names look like {:?}, {:?})",
                    self.label(),
                    names[0],
                    names[names.len() - 1]
                ))
            })
        };
        Ok((find(&self.left)?, find(&self.right)?))
    }
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
    pub chains: Vec<u32>,
    pub warmup: u32,
    pub draws: u32,
    pub seed: u32,
    pub hyper_rounds: u32,
    pub gpu: bool,
}

/// The device a run uses: a GPU, or None for the CPU path.
pub fn open_device(choice: DeviceChoice) -> Result<Option<Gpu>, UserError> {
    match choice {
        DeviceChoice::Cpu => Ok(None),
        DeviceChoice::Gpu => Gpu::open(true)
            .map(Some)
            .map_err(|e| UserError(e.to_string())),
        DeviceChoice::Auto => match Gpu::open(false) {
            Ok(gpu) => Ok(Some(gpu)),
            Err(e) => {
                eprintln!(
                    "betagibbs: {e}\nbetagibbs: running on the CPU ({} threads)",
                    rayon::current_num_threads()
                );
                Ok(None)
            }
        },
    }
}

pub fn describe_device(gpu: Option<&Gpu>) -> String {
    match gpu {
        Some(g) => format!("gpu: {}", g.describe()),
        None => format!("cpu: {} threads", rayon::current_num_threads()),
    }
}

/// Stan-style names in the order of `Fit`'s parameters: per unit its thetas, then
/// HYPER_NAMES; with a unit column every name is prefixed by `<unit>/`.
pub fn parameter_names(ds: &Dataset, keep_thetas: bool) -> Vec<String> {
    let mut names = Vec::new();
    for u in 0..ds.n_units() {
        let prefix = if ds.has_unit_column {
            format!("{}/", ds.unit_labels[u])
        } else {
            String::new()
        };
        if keep_thetas {
            for o in ds.unit_range(u) {
                names.push(format!("{prefix}theta[{}]", ds.ids[o]));
            }
        }
        for h in HYPER_NAMES {
            names.push(format!("{prefix}{h}"));
        }
    }
    names
}

pub fn batch_of(ds: &Dataset) -> Result<Batch, UserError> {
    if let Some(o) = ds.trials.iter().position(|&n| n > MAX_TRIALS) {
        return Err(UserError(format!(
            "{}: observation {} ({}) has {} trials; at most {MAX_TRIALS} are supported (the kernels work in f32)",
            ds.source,
            o + 1,
            ds.ids[o],
            ds.trials[o]
        )));
    }
    Ok(Batch::new(
        &ds.successes,
        &ds.trials,
        ds.unit_offsets.clone(),
    ))
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
        DataSource::EmbeddedRats => rats_dataset(),
    };
    let batch = batch_of(&dataset)?;
    let names = parameter_names(&dataset, config.sampler.keep_thetas);
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
    let backend = gpu.as_ref().map_or(Backend::Cpu, Backend::Gpu);
    let s = &config.sampler;
    let bar = progress_bar(
        u64::from(s.sweeps()),
        &format!("sampling on {device}"),
        config.quiet,
    );
    let fit = sampler::run(&batch, s, backend, Some(&bar)).context("sampling failed")?;
    bar.finish_and_clear();

    let mut rows = summary_rows(&fit, &names);
    rows.extend(contrast_rows(&fit, &contrasts));
    let metadata = run_metadata(&dataset, s, &device);
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
    println!("{}", format_summary_table(&rows));
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
    Ok(())
}

/// Key-value metadata for the Parquet footers.
pub fn run_metadata(ds: &Dataset, s: &SamplerConfig, device: &str) -> Vec<(String, String)> {
    [
        ("betagibbs.version", env!("CARGO_PKG_VERSION").to_string()),
        (
            "betagibbs.model",
            "y[i] ~ Binomial(n[i], theta[i]); theta[i] ~ Beta(alpha[u], beta[u]) per unit u"
                .to_string(),
        ),
        ("betagibbs.prior", s.prior.to_string()),
        ("betagibbs.seed", s.seed.to_string()),
        ("betagibbs.chains", s.chains.to_string()),
        ("betagibbs.warmup", s.warmup.to_string()),
        ("betagibbs.draws", s.draws.to_string()),
        ("betagibbs.thin", s.thin.to_string()),
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

/// One benchmark measurement: the rat model with `chains` chains on one path.
#[derive(Debug, Clone)]
pub struct BenchRow {
    pub path: String,
    pub chains: u32,
    pub wall_seconds: f64,
    pub theta_updates_per_second: f64,
    /// Bulk ESS of log(alpha + beta) per wall second, warm-up included.
    pub ess_per_second: f64,
    /// Rank-normalised split R-hat of log(alpha + beta): the run converged if near 1.
    pub r_hat: f64,
    /// Share of the wall time spent in the theta stage (the rest: host updates and bookkeeping).
    pub theta_share: f64,
}

/// Run the rat model once and measure it.
pub fn bench_once(gpu: Option<&Gpu>, chains: u32, bench: &BenchConfig) -> anyhow::Result<BenchRow> {
    let batch = batch_of(&rats_dataset())?;
    let mut config = SamplerConfig::new(
        HyperPrior::Bda3,
        chains,
        bench.warmup,
        bench.draws,
        1,
        bench.seed,
    );
    config.keep_thetas = false;
    config.hyper_rounds = bench.hyper_rounds;
    let backend = gpu.map_or(Backend::Cpu, Backend::Gpu);
    let fit = sampler::run(&batch, &config, backend, None)?;
    let kappa = batch.unit_param_start(0, false) + 3;
    let log_kappa: Vec<Vec<f64>> = (0..fit.n_chains)
        .map(|c| fit.chain(kappa, c).iter().map(|k| k.ln()).collect())
        .collect();
    let refs: Vec<&[f64]> = log_kappa.iter().map(|v| v.as_slice()).collect();
    let ess = ess_bulk(&refs);
    let r_hat = rhat(&refs);
    Ok(BenchRow {
        path: describe_device(gpu),
        chains,
        wall_seconds: fit.wall_seconds,
        theta_updates_per_second: fit.theta_updates as f64 / fit.wall_seconds,
        ess_per_second: ess / fit.wall_seconds,
        r_hat,
        theta_share: fit.theta_seconds / fit.wall_seconds,
    })
}

/// `bench`: both paths side by side for each chain count.
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
    println!(
        "rat model (71 observations), bda3 prior, {} warm-up + {} draws per chain, {} hyperparameter round(s) per sweep",
        config.warmup, config.draws, config.hyper_rounds
    );
    println!(
        "{:<52} {:>7} {:>9} {:>16} {:>14} {:>7} {:>7}",
        "path", "chains", "wall s", "theta-updates/s", "ESS/s log(a+b)", "R-hat", "theta %"
    );
    let mut rows = Vec::new();
    // The CPU path, then the GPU path when there is one, at each chain count.
    let paths: Vec<Option<&Gpu>> = std::iter::once(None)
        .chain(gpu.as_ref().map(Some))
        .collect();
    for &chains in &config.chains {
        for &g in &paths {
            let row = bench_once(g, chains, config)?;
            println!(
                "{:<52} {:>7} {:>9.2} {:>16.3e} {:>14.0} {:>7.3} {:>7.0}",
                row.path,
                row.chains,
                row.wall_seconds,
                row.theta_updates_per_second,
                row.ess_per_second,
                row.r_hat,
                100.0 * row.theta_share
            );
            rows.push(row);
        }
    }
    if gpu.is_some() {
        // Rows come in (CPU, GPU) pairs per chain count.
        match rows
            .chunks(2)
            .find(|pair| pair[1].theta_updates_per_second > pair[0].theta_updates_per_second)
        {
            Some(pair) => println!(
                "the GPU path overtakes the CPU path at {} chains",
                pair[0].chains
            ),
            None => println!("the GPU path did not overtake the CPU path at any chain count tried"),
        }
    }
    Ok(rows)
}

//! `sample` and `demo`: read the counts, fit the model, write draws.parquet and
//! summary.parquet (and observations.parquet, predictive.parquet, figures when asked),
//! print the summary.

use std::path::{Path, PathBuf};

use anyhow::Context;
use rayon::prelude::*;

use crate::app::memory::check_fits;
use crate::app::output::{check_not_an_output, check_out_dir, write_observations};
use crate::app::progress::progress_bar;
use crate::app::report::{format_summary_table, print_checks, print_contrasts};
use crate::app::source::DataSource;
use crate::error::UserError;
use crate::io::manifest::Run;
use crate::io::read::{ColumnSpec, Dataset};
use crate::io::write::{write_draws, write_summary, DrawsTable, SummaryRow};
use crate::kernels::device::{describe_device, open_device};
use crate::kernels::{Device, DeviceChoice};
use crate::mcmc::contrast::Contrast;
use crate::mcmc::diagnostics::summarize;
use crate::mcmc::model::Model;
use crate::mcmc::sampler::{self, Batch, Fit, SamplerConfig};
use crate::plot::figures::{FigureKind, ImageFormat, PlotConfig};

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
    pub plot: Option<ImageFormat>,
    /// `--design`: a beta-binomial regression instead of the hierarchical model.
    pub design: Option<DesignSpec>,
}

/// `--design FORMULA` and what to do with rows of zero trials.
#[derive(Debug, Clone)]
pub struct DesignSpec {
    pub formula: String,
    /// `--drop-empty`: drop them (and say how many) instead of refusing them.
    pub drop_empty: bool,
}

/// Summary rows of the contrasts: the difference taken draw by draw within each chain.
pub(crate) fn contrast_rows(fit: &Fit, resolved: &[(String, (usize, usize))]) -> Vec<SummaryRow> {
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

/// The files `sample` and `demo` write into `--out`.
pub(crate) const SAMPLE_OUTPUTS: [&str; 4] = [
    "draws.parquet",
    "summary.parquet",
    "observations.parquet",
    "predictive.parquet",
];

/// `sample` and `demo`: read, fit, summarise, write, print (`--design`: `app::regression`).
pub fn run(config: &RunConfig) -> anyhow::Result<()> {
    let dataset = config.source.dataset(&config.columns)?;
    let Model { batch, names } = Model::new(&dataset, config.sampler.keep_thetas)?;
    let contrasts = config
        .contrasts
        .iter()
        .map(|c| Ok((c.label(), c.resolve(&names)?)))
        .collect::<Result<Vec<_>, UserError>>()?;
    check_out_dir(&config.out)?;
    if let Some(input) = config.source.path() {
        check_not_an_output(input, &config.out, &SAMPLE_OUTPUTS)?;
    }
    check_fits(
        config.sampler.memory_bytes(&batch),
        &format!(
            "--chains {} and --draws {}",
            config.sampler.chains, config.sampler.draws
        ),
    )?;
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
    let run = Run::begin(&config.out, "sample")?;
    let mut metadata = run_metadata(&dataset, &batch, s, &device);
    metadata.push(run.footer());
    let (draws_path, summary_path) = write_fit(&config.out, &names, &fit, &rows, &metadata)?;
    if s.keep_thetas {
        write_observations(&config.out, &batch, &names, &metadata)?;
    }
    println!("{}", format_summary_table(&rows));
    write_predictive(config, &batch, &names, &fit, &metadata)?;
    let written = [
        (true, "draws.parquet"),
        (true, "summary.parquet"),
        (s.keep_thetas, "observations.parquet"),
        (config.ppc, "predictive.parquet"),
    ];
    run.finish(
        &written
            .iter()
            .filter_map(|(w, f)| w.then_some(*f))
            .collect::<Vec<_>>(),
    )?;
    print_contrasts(&rows[rows.len() - contrasts.len()..]);
    report_written(&fit, &device, &draws_path, &summary_path);
    if let Some(format) = config.plot {
        for path in crate::plot::figures::draw(&figures(config, format), None)? {
            eprintln!("betagibbs: drew {}", path.display());
        }
    }
    Ok(())
}

/// draws.parquet and summary.parquet of a fit in `out`, with the run's footer; their paths.
pub(crate) fn write_fit(
    out: &Path,
    names: &[String],
    fit: &Fit,
    summary: &[SummaryRow],
    metadata: &[(String, String)],
) -> anyhow::Result<(PathBuf, PathBuf)> {
    let draws_path = out.join("draws.parquet");
    let table = DrawsTable {
        parameter_names: names,
        n_chains: fit.n_chains,
        n_draws: fit.n_draws,
        values: &fit.values,
    };
    write_draws(&draws_path, &table, metadata)?;
    let summary_path = out.join("summary.parquet");
    write_summary(&summary_path, summary, metadata)?;
    Ok((draws_path, summary_path))
}

/// The closing line of a fit: its size, time and device, and the files written.
pub(crate) fn report_written(fit: &Fit, device: &str, draws: &Path, summary: &Path) {
    eprintln!(
        "betagibbs: {} chains x {} draws in {:.2} s on {device}; wrote {} and {}",
        fit.n_chains,
        fit.n_draws,
        fit.wall_seconds,
        draws.display(),
        summary.display()
    );
}

/// With `--ppc`: predictive.parquet and the checks' table; without, an earlier run's
/// predictive.parquet removed.
fn write_predictive(
    config: &RunConfig,
    batch: &Batch,
    names: &[String],
    fit: &Fit,
    metadata: &[(String, String)],
) -> anyhow::Result<()> {
    let predictive_path = config.out.join("predictive.parquet");
    if !config.ppc {
        if predictive_path.is_file() {
            // An earlier run's replicates would not match these draws.
            std::fs::remove_file(&predictive_path)
                .with_context(|| format!("removing the stale {}", predictive_path.display()))?;
        }
        return Ok(());
    }
    let predictive = crate::mcmc::ppc::predictive(batch, names, fit, config.sampler.seed);
    let (ppc_names, values) = predictive.draws();
    let mut ppc_metadata = metadata.to_vec();
    ppc_metadata.extend(predictive.metadata());
    let table = DrawsTable {
        parameter_names: &ppc_names,
        n_chains: fit.n_chains,
        n_draws: fit.n_draws,
        values: &values,
    };
    write_draws(&predictive_path, &table, &ppc_metadata)?;
    print_checks(&predictive.checks);
    Ok(())
}

/// `--plot`: this run's figures into OUT/figures.
fn figures(config: &RunConfig, format: ImageFormat) -> PlotConfig {
    PlotConfig {
        dir: config.out.clone(),
        out: config.out.join("figures"),
        // This run's figures only, whatever else lies in the directory.
        figures: [
            (config.sampler.keep_thetas, FigureKind::Shrinkage),
            (true, FigureKind::Densities),
            (true, FigureKind::Traces),
            (config.ppc, FigureKind::Predictive),
        ]
        .into_iter()
        .filter_map(|(wanted, f)| wanted.then_some(f))
        .collect(),
        methyl: Default::default(),
        params: Vec::new(),
        contrasts: config.contrasts.clone(),
        format,
    }
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

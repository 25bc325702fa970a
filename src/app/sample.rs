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
use crate::io::draw_spill::DrawSpill;
use crate::io::manifest::Run;
use crate::io::read::{ColumnSpec, Dataset};
use crate::io::write::{write_draws, write_draws_by_param, write_summary, DrawsTable, SummaryRow};
use crate::kernels::device::{describe_device, open_device};
use crate::kernels::{Device, DeviceChoice};
use crate::mcmc::contrast::Contrast;
use crate::mcmc::diagnostics::summarize;
use crate::mcmc::model::Model;
use crate::mcmc::sampler::{self, Batch, DrawSink, Fit, SamplerConfig};
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
    let s = &config.sampler;
    // Draws beyond IN_MEMORY_DRAWS_BYTES are spilled to disk while sampling (predictive checks
    // replicate from the draws in memory, so they keep them there).
    let streamed = !config.ppc && draws_bytes(&batch, s) > IN_MEMORY_DRAWS_BYTES;
    let needed = if streamed {
        s.memory_bytes(&batch) - draws_bytes(&batch, s)
            + STREAMED_BYTES_PER_DRAW_SET * (u64::from(s.chains) * u64::from(s.draws) * 8)
            + SUMMARY_GROUP_BYTES
            + SPILL_BLOCK_BYTES
    } else {
        s.memory_bytes(&batch)
    };
    check_fits(
        needed,
        &format!("--chains {} and --draws {}", s.chains, s.draws),
    )?;
    let gpu = open_device(config.device)?;
    let device = describe_device(gpu.as_ref());
    let backend = Device::from_gpu(gpu.as_ref());
    let bar = progress_bar(
        u64::from(s.sweeps()),
        &format!("sampling on {device}"),
        config.quiet,
    );
    let on_sweep = || bar.inc(1);
    let mut spill = None;
    let fit = if streamed {
        std::fs::create_dir_all(&config.out)
            .with_context(|| format!("creating the output directory {}", config.out.display()))?;
        let n_params = batch.n_params(s.keep_thetas);
        let mut writer = DrawSpill::create(&config.out, n_params, s.chains as usize)?;
        let block = (SPILL_BLOCK_BYTES / (n_params as u64 * u64::from(s.chains) * 8)).max(1);
        let fit = sampler::run_streamed(
            &batch,
            s,
            backend,
            Some(&on_sweep),
            DrawSink {
                block: block as usize,
                sink: &mut |values, k| writer.append(values, k),
            },
        );
        spill = Some(writer);
        fit
    } else {
        sampler::run(&batch, s, backend, Some(&on_sweep))
    }
    .context("sampling failed")?;
    bar.finish_and_clear();

    let run = Run::begin(&config.out, "sample")?;
    let mut metadata = run_metadata(&dataset, &batch, s, &device);
    metadata.push(run.footer());
    let (rows, draws_path, summary_path) = match spill {
        Some(spill) => write_streamed_fit(&config.out, &names, &fit, spill, &contrasts, &metadata)?,
        None => write_fit(&config.out, &names, &fit, &contrasts, &metadata)?,
    };
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

/// Kept draws held in memory up to this size; beyond, they are spilled to disk while the
/// sampler runs, and memory holds a block of them, then one parameter's.
const IN_MEMORY_DRAWS_BYTES: u64 = 256 << 20;
/// The block of draws a streamed run holds before handing it to the spill.
const SPILL_BLOCK_BYTES: u64 = 64 << 20;
/// Memory for the parameters a streamed run summarises at once, in parallel.
const SUMMARY_GROUP_BYTES: u64 = 512 << 20;
/// Copies of one parameter's draws a streamed run holds at once: its values, the summary's
/// sorted and rank-normalised copies, and the Parquet batches (measured peak, with margin).
const STREAMED_BYTES_PER_DRAW_SET: u64 = 4;

/// All kept draws of `s` as f64.
fn draws_bytes(batch: &Batch, s: &SamplerConfig) -> u64 {
    batch.n_params(s.keep_thetas) as u64 * u64::from(s.chains) * u64::from(s.draws) * 8
}

/// A streamed run's draws.parquet and summary.parquet: each parameter read back from the
/// spill, summarised and written in turn, then the contrasts from their two parameters.
fn write_streamed_fit(
    out: &Path,
    names: &[String],
    fit: &Fit,
    spill: DrawSpill,
    contrasts: &[(String, (usize, usize))],
    metadata: &[(String, String)],
) -> anyhow::Result<(Vec<SummaryRow>, PathBuf, PathBuf)> {
    let mut reader = spill.finish()?;
    let n_draws = fit.n_draws;
    let per_param = (fit.n_chains * n_draws * 8) as u64;
    // Parameters read and summarised together, one per thread, as memory allows.
    let group = (SUMMARY_GROUP_BYTES / (per_param * STREAMED_BYTES_PER_DRAW_SET).max(1))
        .clamp(1, rayon::current_num_threads() as u64) as usize;
    let mut rows = Vec::with_capacity(names.len() + contrasts.len());
    let mut ready: std::collections::VecDeque<Vec<f64>> = Default::default();
    let draws_path = out.join("draws.parquet");
    write_draws_by_param(&draws_path, names, fit.n_chains, n_draws, metadata, |p| {
        if ready.is_empty() {
            let last = (p + group).min(names.len());
            let values = (p..last)
                .map(|q| reader.param(q))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let summaries: Vec<SummaryRow> = values
                .par_iter()
                .zip(p..last)
                .map(|(v, q)| SummaryRow {
                    parameter: names[q].clone(),
                    summary: summarize(&v.chunks(n_draws).collect::<Vec<_>>()),
                })
                .collect();
            rows.extend(summaries);
            ready.extend(values);
        }
        Ok(std::borrow::Cow::Owned(
            ready.pop_front().expect("read above"),
        ))
    })?;
    for (label, (a, b)) in contrasts {
        let (a, b) = (reader.param(*a)?, reader.param(*b)?);
        let diffs: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x - y).collect();
        let chains: Vec<&[f64]> = diffs.chunks(n_draws).collect();
        rows.push(SummaryRow {
            parameter: label.clone(),
            summary: summarize(&chains),
        });
    }
    let summary_path = out.join("summary.parquet");
    write_summary(&summary_path, &rows, metadata)?;
    Ok((rows, draws_path, summary_path))
}

/// draws.parquet and summary.parquet of a fit in `out`, with the run's footer: the draws
/// are written while the summary's rows (every parameter, then `contrasts`) are made beside
/// them. The rows and both paths.
pub(crate) fn write_fit(
    out: &Path,
    names: &[String],
    fit: &Fit,
    contrasts: &[(String, (usize, usize))],
    metadata: &[(String, String)],
) -> anyhow::Result<(Vec<SummaryRow>, PathBuf, PathBuf)> {
    let summarise = || {
        let mut rows = summary_rows(fit, names);
        rows.extend(contrast_rows(fit, contrasts));
        rows
    };
    let draws_path = out.join("draws.parquet");
    let table = DrawsTable {
        parameter_names: names,
        n_chains: fit.n_chains,
        n_draws: fit.n_draws,
        values: &fit.values,
    };
    let (rows, written) = rayon::join(summarise, || write_draws(&draws_path, &table, metadata));
    written?;
    let summary_path = out.join("summary.parquet");
    write_summary(&summary_path, &rows, metadata)?;
    Ok((rows, draws_path, summary_path))
}

/// The closing line of a fit: its size, time and device, and the files written.
pub(crate) fn report_written(fit: &Fit, device: &str, draws: &Path, summary: &Path) {
    let peak = crate::io::peak_resident_bytes().map_or(String::new(), |b| {
        format!("; peak resident memory {:.0} MB", b as f64 / 1e6)
    });
    eprintln!(
        "betagibbs: {} chains x {} draws in {:.2} s on {device}; wrote {} and {}{peak}",
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

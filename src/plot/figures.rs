//! Which figures a run's outputs give, drawn from the Parquet files alone (so `plot` works
//! on a run made earlier): the data for `plot`'s drawing functions, chosen here.
//!
//! Files read from the run's directory: draws.parquet (draws/1), observations.parquet
//! (observations/1: each theta's y and n), and when present predictive.parquet (draws/1,
//! from `--ppc`) and comparison.parquet (comparison/1, from `compare`).

use std::path::{Path, PathBuf};

use clap::ValueEnum;

use crate::error::UserError;
use crate::io::manifest::check_run;
use crate::io::readback::{read_draws, read_table, Draws};
use crate::mcmc::contrast::Contrast;
use crate::plot::methyl_run::{self, CountSource, MethylFigureConfig};
pub use crate::plot::render::ImageFormat;

/// Schema tags of the small tables (footer key betagibbs.schema).
pub const OBSERVATIONS_SCHEMA: &str = "observations/1";
pub const COMPARISON_SCHEMA: &str = "comparison/1";

/// Most level-0 groups whose omega the default density figure shows: more panels get unreadable.
const DEFAULT_DENSITY_GROUPS: usize = 4;
/// Most units (one-level models with --unit) given their own shrinkage figure.
const MAX_SHRINKAGE_UNITS: usize = 12;
/// Most thetas drawn in one shrinkage figure: beyond, every k-th (by raw rate) keeps the
/// picture readable and the SVG small.
const MAX_SHRINKAGE_POINTS: usize = 5000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FigureKind {
    /// BDA3 Fig. 5.4: each theta's posterior median and 95% interval against its raw rate.
    Shrinkage,
    /// Kruschke Fig. 9.14: posterior densities with 95% HDIs, of parameters and differences.
    Densities,
    /// Trace and rank plots per chain.
    Traces,
    /// Posterior predictive checks (needs a run with --ppc).
    Predictive,
    /// Estimators side by side (needs the output of `compare`).
    Comparison,
    /// A methyl run's volcano plot: each site's difference against P(|delta| > d), the calls
    /// coloured (needs sites.parquet and dml.parquet).
    Volcano,
    /// A methyl run's chromosome overview: the difference along each chromosome, the calls.
    Overview,
    /// A methyl run's distributions of coverage and of P(|delta| > d), and with --truth (or a
    /// simulate study's truth.tsv beside the sheet) the calibration of P(|delta| > d).
    Distributions,
    /// A methyl run's region plots: each sample's proportions and each group's band over the
    /// top DMRs, or over each --region (needs the run's sample sheet and count files).
    Region,
}

impl FigureKind {
    fn stem(self) -> &'static str {
        match self {
            FigureKind::Shrinkage => "shrinkage",
            FigureKind::Densities => "densities",
            FigureKind::Traces => "traces",
            FigureKind::Predictive => "predictive",
            FigureKind::Comparison => "comparison",
            FigureKind::Volcano => "volcano",
            FigureKind::Overview => "overview",
            FigureKind::Distributions => "distributions",
            FigureKind::Region => "region",
        }
    }
}

/// `plot`'s validated config.
#[derive(Debug, Clone)]
pub struct PlotConfig {
    /// The run's output directory.
    pub dir: PathBuf,
    /// Where the figures go (default `<dir>/figures`).
    pub out: PathBuf,
    /// Figures asked for; empty: every one the directory's files allow.
    pub figures: Vec<FigureKind>,
    /// Parameters for the densities and traces (default: the model's population parameters).
    pub params: Vec<String>,
    pub contrasts: Vec<Contrast>,
    pub format: ImageFormat,
    /// The region plots' windows and the calibration's truth, for a methyl run.
    pub methyl: MethylFigureConfig,
}

/// Each observation's raw rate, by theta name, from observations.parquet.
fn raw_rates(dir: &Path) -> anyhow::Result<Vec<(String, f64)>> {
    let path = dir.join("observations.parquet");
    let table = read_table(&path, OBSERVATIONS_SCHEMA)?;
    let names = table.text(&path, "parameter")?;
    let y = table.numbers(&path, "successes")?;
    let n = table.numbers(&path, "trials")?;
    Ok(names
        .iter()
        .zip(y.iter().zip(n))
        .map(|(name, (y, n))| (name.clone(), y / n))
        .collect())
}

fn pooled_sorted(draws: &Draws, p: usize) -> Vec<f64> {
    let mut v = draws.pooled(p);
    v.sort_unstable_by(f64::total_cmp);
    v
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// A multi-level model's draws have a root "omega"; a one-level model's have "alpha".
fn is_tree(draws: &Draws) -> bool {
    draws.index("omega").is_some()
}

/// The one-level units' name prefixes ("" without a unit column, else "<unit>/").
fn unit_prefixes(draws: &Draws) -> Vec<String> {
    draws
        .names
        .iter()
        .filter_map(|n| n.strip_suffix("alpha"))
        .filter(|p| p.is_empty() || p.ends_with('/'))
        .map(str::to_string)
        .collect()
}

fn shrinkage(
    dir: &Path,
    draws: &Draws,
    out: &Path,
    format: ImageFormat,
) -> anyhow::Result<Vec<PathBuf>> {
    let rates = raw_rates(dir)?;
    // Population lines: the root omega (a tree's grand mode) or each unit's mu.
    let prefixes = unit_prefixes(draws);
    let populations: Vec<(String, f64)> = if is_tree(draws) {
        let root = draws.index("omega").expect("tree");
        vec![(String::new(), mean(&draws.pooled(root)))]
    } else {
        prefixes
            .iter()
            .take(MAX_SHRINKAGE_UNITS)
            .filter_map(|prefix| {
                let p = draws.index(&format!("{prefix}mu"))?;
                Some((prefix.clone(), mean(&draws.pooled(p))))
            })
            .collect()
    };
    let mut written = Vec::new();
    let n_units = prefixes.len();
    if n_units > MAX_SHRINKAGE_UNITS {
        eprintln!(
            "betagibbs: shrinkage figures for the first {MAX_SHRINKAGE_UNITS} of {n_units} units"
        );
    }
    for (u, (prefix, population_mean)) in populations.into_iter().enumerate() {
        // This unit's thetas: "<prefix>theta[...]" exactly (a unit "A/B" is not unit "A").
        let mine: Vec<(usize, f64)> = rates
            .iter()
            .filter(|(name, _)| {
                name.strip_prefix(prefix.as_str())
                    .is_some_and(|rest| rest.starts_with("theta["))
            })
            .filter_map(|(name, rate)| Some((draws.index(name)?, *rate)))
            .collect();
        let step = mine.len().div_ceil(MAX_SHRINKAGE_POINTS).max(1);
        let mut fig = crate::plot::Shrinkage {
            population_mean,
            ..Default::default()
        };
        for &(p, rate) in mine.iter().step_by(step) {
            let sorted = pooled_sorted(draws, p);
            fig.raw.push(rate);
            fig.median
                .push(crate::mcmc::diagnostics::quantile_sorted(&sorted, 0.5));
            fig.lo
                .push(crate::mcmc::diagnostics::quantile_sorted(&sorted, 0.025));
            fig.hi
                .push(crate::mcmc::diagnostics::quantile_sorted(&sorted, 0.975));
        }
        if fig.raw.is_empty() {
            continue;
        }
        let unit = prefix.trim_end_matches('/');
        let shown = if step > 1 {
            format!("every {step}th of {} thetas", mine.len())
        } else {
            format!("{} thetas", mine.len())
        };
        fig.title = if unit.is_empty() {
            format!("Shrinkage: {shown}, posterior median and 95% interval")
        } else {
            format!("Shrinkage in {unit}: {shown}")
        };
        // The unit's number keeps two labels that sanitise alike apart.
        let file = if unit.is_empty() {
            format!("shrinkage.{}", format.extension())
        } else {
            format!(
                "shrinkage-{}-{}.{}",
                u + 1,
                sanitize(unit),
                format.extension()
            )
        };
        let path = out.join(file);
        crate::plot::shrinkage(&path, &fig)?;
        written.push(path);
    }
    if written.is_empty() {
        return Err(UserError(format!(
            "{}: no theta of observations.parquet is in draws.parquet: nothing to draw",
            dir.display()
        ))
        .into());
    }
    Ok(written)
}

/// A file-name-safe version of a label.
fn sanitize(label: &str) -> String {
    label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The default parameters: a tree's first level-0 omegas (and their differences from the
/// first), else the first unit's mu and kappa.
fn default_choice(draws: &Draws) -> (Vec<String>, Vec<Contrast>) {
    if is_tree(draws) {
        // Level-0 groups are the first omega[...] names after the thetas.
        let omegas: Vec<String> = draws
            .names
            .iter()
            .filter(|n| n.starts_with("omega["))
            .take(DEFAULT_DENSITY_GROUPS)
            .cloned()
            .collect();
        let contrasts = omegas
            .iter()
            .skip(1)
            .map(|o| Contrast {
                left: o.clone(),
                right: omegas[0].clone(),
            })
            .collect();
        (omegas, contrasts)
    } else {
        let prefix = unit_prefixes(draws).into_iter().next().unwrap_or_default();
        (
            vec![format!("{prefix}mu"), format!("{prefix}kappa")],
            Vec::new(),
        )
    }
}

fn resolve(draws: &Draws, name: &str) -> Result<usize, UserError> {
    draws.index(name).ok_or_else(|| {
        UserError(format!(
            "no parameter named {name:?} in the draws (names look like {:?}, {:?})",
            draws.names.first().map_or("", String::as_str),
            draws.names.last().map_or("", String::as_str)
        ))
    })
}

/// The parameters and contrasts of the density and trace figures: the defaults unless
/// parameters are named, the contrasts asked for on top; every name resolved and the panel
/// count checked.
fn panel_choice(
    draws: &Draws,
    config: &PlotConfig,
) -> Result<(Vec<String>, Vec<Contrast>), UserError> {
    let (params, mut contrasts) = if config.params.is_empty() {
        default_choice(draws)
    } else {
        (config.params.clone(), Vec::new())
    };
    contrasts.extend(config.contrasts.iter().cloned());
    if params.len() + contrasts.len() > crate::plot::MAX_PANELS {
        return Err(UserError(format!(
            "{} parameters and contrasts: at most {} per figure",
            params.len() + contrasts.len(),
            crate::plot::MAX_PANELS
        )));
    }
    for name in params
        .iter()
        .chain(contrasts.iter().flat_map(|c| [&c.left, &c.right]))
    {
        resolve(draws, name)?;
    }
    Ok((params, contrasts))
}

fn densities_and_traces(
    draws: &Draws,
    config: &PlotConfig,
    figure: FigureKind,
) -> anyhow::Result<PathBuf> {
    let (params, contrasts) = panel_choice(draws, config)?;
    let path = config
        .out
        .join(format!("{}.{}", figure.stem(), config.format.extension()));
    let mut labelled: Vec<(String, Vec<Vec<f64>>, Option<f64>)> = Vec::new();
    for name in &params {
        labelled.push((name.clone(), draws.chains(resolve(draws, name)?), None));
    }
    for c in &contrasts {
        let (a, b) = (resolve(draws, &c.left)?, resolve(draws, &c.right)?);
        let chains = (0..draws.n_chains)
            .map(|k| {
                draws
                    .chain(a, k)
                    .iter()
                    .zip(draws.chain(b, k))
                    .map(|(x, y)| x - y)
                    .collect()
            })
            .collect();
        labelled.push((c.label(), chains, Some(0.0)));
    }
    match figure {
        FigureKind::Densities => {
            let panels: Vec<crate::plot::Density> = labelled
                .into_iter()
                .map(|(label, chains, reference)| crate::plot::Density {
                    label,
                    draws: chains.concat(),
                    reference,
                })
                .collect();
            crate::plot::densities(&path, "Posterior densities with 95% HDI", &panels)?;
        }
        _ => {
            let params: Vec<crate::plot::Trace> = labelled
                .into_iter()
                .map(|(label, chains, _)| crate::plot::Trace { label, chains })
                .collect();
            crate::plot::traces(&path, "Traces and rank plots by chain", &params)?;
        }
    }
    Ok(path)
}

fn predictive(dir: &Path, out: &Path, format: ImageFormat) -> anyhow::Result<PathBuf> {
    let file = dir.join("predictive.parquet");
    let draws = read_draws(&file)?;
    let mut stats = Vec::new();
    for statistic in crate::mcmc::ppc::Statistic::ALL {
        let (Some(p), Some(value)) = (
            draws.index(&statistic.draws_name()),
            draws.metadata.get(&statistic.metadata_key()),
        ) else {
            continue;
        };
        // "observed=<x>;p=<p>"
        let field = |name: &str| {
            value
                .split(';')
                .find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(f64::NAN)
        };
        stats.push(crate::plot::PredictiveStat {
            label: statistic.name().to_string(),
            replicated: draws.pooled(p),
            observed: field("observed"),
            p_value: field("p"),
        });
    }
    if stats.is_empty() {
        return Err(UserError(format!(
            "{}: no posterior predictive checks in it",
            file.display()
        ))
        .into());
    }
    let path = out.join(format!("predictive.{}", format.extension()));
    crate::plot::predictive_checks(&path, "Posterior predictive checks", &stats)?;
    Ok(path)
}

fn comparison(dir: &Path, out: &Path, format: ImageFormat) -> anyhow::Result<PathBuf> {
    let file = dir.join("comparison.parquet");
    let table = read_table(&file, COMPARISON_SCHEMA)?;
    let estimator = table.text(&file, "estimator")?;
    let parameter = table.text(&file, "parameter")?;
    let (m, lo, hi) = (
        table.numbers(&file, "mean")?,
        table.numbers(&file, "q2_5")?,
        table.numbers(&file, "q97_5")?,
    );
    let rates = raw_rates(dir)?;
    let raw: Vec<f64> = rates.iter().map(|r| r.1).collect();
    let unit_of: std::collections::HashMap<&str, usize> = rates
        .iter()
        .enumerate()
        .map(|(u, r)| (r.0.as_str(), u))
        .collect();
    let mut estimators: Vec<crate::plot::EstimatorIntervals> = Vec::new();
    for (i, name) in estimator.iter().enumerate() {
        let Some(&unit) = unit_of.get(parameter[i].as_str()) else {
            continue;
        };
        let at = match estimators.iter().position(|e| &e.estimator == name) {
            Some(at) => at,
            None => {
                estimators.push(crate::plot::EstimatorIntervals {
                    estimator: name.clone(),
                    mean: vec![f64::NAN; raw.len()],
                    lo: vec![f64::NAN; raw.len()],
                    hi: vec![f64::NAN; raw.len()],
                });
                estimators.len() - 1
            }
        };
        let e = &mut estimators[at];
        (e.mean[unit], e.lo[unit], e.hi[unit]) = (m[i], lo[i], hi[i]);
    }
    let path = out.join(format!("comparison.{}", format.extension()));
    crate::plot::estimator_comparison(
        &path,
        "Estimates of each theta: mean and 95% interval by estimator",
        &raw,
        &estimators,
    )?;
    Ok(path)
}

/// The figures of a methyl run that need only its Parquet files.
const METHYL_FIGURES: [FigureKind; 3] = [
    FigureKind::Volcano,
    FigureKind::Overview,
    FigureKind::Distributions,
];

/// Draws the figures of `config`, returning the files written. A methyl run's region plots
/// need `counts`, the samples' counts; without it they are left out of the default set, and
/// asking for them is an error.
pub fn draw(config: &PlotConfig, counts: Option<&dyn CountSource>) -> anyhow::Result<Vec<PathBuf>> {
    let dir = &config.dir;
    if !dir.is_dir() {
        return Err(UserError(format!(
            "{}: not a directory of betagibbs outputs",
            dir.display()
        ))
        .into());
    }
    let has = |f: &str| dir.join(f).is_file();
    let wanted: Vec<FigureKind> = if config.figures.is_empty() {
        let mut all = Vec::new();
        if has("draws.parquet") {
            if has("observations.parquet") {
                all.push(FigureKind::Shrinkage);
            }
            all.extend([FigureKind::Densities, FigureKind::Traces]);
        }
        if has("predictive.parquet") {
            all.push(FigureKind::Predictive);
        }
        if has("comparison.parquet") && has("observations.parquet") {
            all.push(FigureKind::Comparison);
        }
        if has("sites.parquet") {
            all.extend(METHYL_FIGURES);
            if counts.is_some() {
                all.push(FigureKind::Region);
            }
        }
        all
    } else {
        config.figures.clone()
    };
    if wanted.is_empty() {
        return Err(UserError(format!(
            "{}: no draws.parquet, comparison.parquet or sites.parquet to draw from{}",
            dir.display(),
            crate::io::manifest::sharded_hint(dir)
        ))
        .into());
    }
    let needs = |figure: FigureKind, file: &str| -> Result<(), UserError> {
        if has(file) {
            Ok(())
        } else {
            Err(UserError(format!(
                "the {} figure needs {} in {}",
                figure.stem(),
                file,
                dir.display()
            )))
        }
    };
    for &figure in &wanted {
        match figure {
            FigureKind::Shrinkage => {
                needs(figure, "draws.parquet")?;
                needs(figure, "observations.parquet")?
            }
            FigureKind::Densities | FigureKind::Traces => needs(figure, "draws.parquet")?,
            FigureKind::Predictive => needs(figure, "predictive.parquet")?,
            FigureKind::Comparison => {
                needs(figure, "comparison.parquet")?;
                needs(figure, "observations.parquet")?
            }
            FigureKind::Volcano | FigureKind::Distributions => {
                needs(figure, "sites.parquet")?;
                needs(figure, "dml.parquet")?
            }
            FigureKind::Overview | FigureKind::Region => {
                needs(figure, "sites.parquet")?;
                needs(figure, "dml.parquet")?;
                needs(figure, "dmr.parquet")?
            }
        }
        if figure == FigureKind::Region && counts.is_none() {
            return Err(UserError(format!(
                "the region figure needs the run's sample sheet and count files (give --sheet) for {}",
                dir.display()
            ))
            .into());
        }
    }
    // The files these figures read must all come from one complete run.
    let mut reads: Vec<&str> = Vec::new();
    for figure in &wanted {
        reads.extend(match figure {
            FigureKind::Shrinkage => &["draws.parquet", "observations.parquet"][..],
            FigureKind::Densities | FigureKind::Traces => &["draws.parquet"],
            FigureKind::Predictive => &["predictive.parquet"],
            FigureKind::Comparison => &["comparison.parquet", "observations.parquet"],
            FigureKind::Volcano | FigureKind::Distributions => &["sites.parquet", "dml.parquet"],
            FigureKind::Overview | FigureKind::Region => {
                &["sites.parquet", "dml.parquet", "dmr.parquet"]
            }
        });
    }
    reads.sort_unstable();
    reads.dedup();
    check_run(dir, &reads)?;
    if config.out.exists() && !config.out.is_dir() {
        return Err(UserError(format!(
            "--out {}: exists and is not a directory",
            config.out.display()
        ))
        .into());
    }
    let draws = if wanted.iter().any(|f| {
        matches!(
            f,
            FigureKind::Shrinkage | FigureKind::Densities | FigureKind::Traces
        )
    }) {
        Some(read_draws(&dir.join("draws.parquet"))?)
    } else {
        None
    };
    // Every name asked for is checked before the first figure is drawn, so a typo leaves
    // nothing behind.
    if let Some(draws) = &draws {
        if wanted
            .iter()
            .any(|f| matches!(f, FigureKind::Densities | FigureKind::Traces))
        {
            panel_choice(draws, config)?;
        }
    }
    std::fs::create_dir_all(&config.out)
        .map_err(|e| anyhow::anyhow!("creating {}: {e}", config.out.display()))?;
    crate::io::atomic::remove_stale_temps(&config.out);
    let mut written = Vec::new();
    for figure in wanted {
        match figure {
            FigureKind::Shrinkage => written.extend(shrinkage(
                dir,
                draws.as_ref().expect("read"),
                &config.out,
                config.format,
            )?),
            FigureKind::Densities | FigureKind::Traces => written.push(densities_and_traces(
                draws.as_ref().expect("read"),
                config,
                figure,
            )?),
            FigureKind::Predictive => written.push(predictive(dir, &config.out, config.format)?),
            FigureKind::Comparison => written.push(comparison(dir, &config.out, config.format)?),
            FigureKind::Volcano => {
                written.push(methyl_run::volcano(dir, &config.out, config.format)?)
            }
            FigureKind::Overview => {
                written.push(methyl_run::overview(dir, &config.out, config.format)?)
            }
            FigureKind::Distributions => written.extend(methyl_run::distributions(
                dir,
                &config.out,
                config.format,
                config.methyl.truth.as_deref(),
            )?),
            FigureKind::Region => written.extend(methyl_run::regions(
                dir,
                &config.out,
                config.format,
                &config.methyl,
                counts.expect("checked above"),
            )?),
        }
    }
    Ok(written)
}

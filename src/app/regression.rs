//! `sample --design`: read the table as text, build the design from the formula, fit the
//! beta-binomial regression on the CPU, and write and print what `sample` does.

use crate::app::memory::check_fits;
use crate::app::output::{check_not_an_output, check_out_dir};
use crate::app::progress::progress_bar;
use crate::app::report::{format_summary_table, print_contrasts};
use crate::app::sample::{report_written, write_fit, DesignSpec, RunConfig, SAMPLE_OUTPUTS};
use crate::error::UserError;
use crate::io::manifest::Run;
use crate::io::read::{design_rows, read_text_table, DesignRows, TextTable};
use crate::kernels::device::describe_device;
use crate::mcmc::design::{Design, Table};
use crate::mcmc::regression::prior::PRIOR_TEXT;
use crate::mcmc::regression::{self, param_names, Regression, RegressionConfig};

/// The model line of the footers.
const MODEL: &str =
    "y[i] ~ Binomial(n[i], theta[i]); theta[i] ~ Beta(mu[i] kappa, (1 - mu[i]) kappa); \
    logit mu[i] = x[i] . coef, x[i] the design row of the formula";

/// The design builder's view of the kept rows.
fn design_table(t: &TextTable) -> Table {
    Table {
        source: t.source.clone(),
        names: t.names.clone(),
        rows: t.rows.clone(),
        lines: t.lines.clone(),
        columns: (1..=t.names.len()).collect(),
    }
}

/// What --drop-empty did, for stderr and the footer.
fn dropped_note(rows: &DesignRows) -> String {
    let at: Vec<String> = rows.dropped.iter().map(usize::to_string).collect();
    let place = if rows.table.parquet { "row" } else { "line" };
    format!(
        "dropped {} row(s) with zero trials ({place} {})",
        rows.dropped.len(),
        at.join(", ")
    )
}

pub fn run(config: &RunConfig, spec: &DesignSpec) -> anyhow::Result<()> {
    let path = config
        .source
        .path()
        .ok_or_else(|| UserError("--design needs a data file".into()))?;
    let cols = &config.columns;
    let rows = design_rows(
        read_text_table(path)?,
        &cols.successes,
        &cols.trials,
        cols.id.as_deref(),
        spec.drop_empty,
    )?;
    let design = Design::build(&spec.formula, &design_table(&rows.table))?;
    let reg = Regression {
        x: &design.x,
        coef_names: &design.names,
        successes: &rows.successes,
        trials: &rows.trials,
        row_labels: &rows.labels,
    };
    let names = param_names(&reg);
    let contrasts = config
        .contrasts
        .iter()
        .map(|c| Ok((c.label(), c.resolve(&names)?)))
        .collect::<Result<Vec<_>, UserError>>()?;
    check_out_dir(&config.out)?;
    check_not_an_output(path, &config.out, &SAMPLE_OUTPUTS)?;
    let s = &config.sampler;
    let rc = RegressionConfig {
        chains: s.chains,
        warmup: s.warmup,
        draws: s.draws,
        thin: s.thin,
        seed: s.seed,
    };
    let bytes = names.len() as u64 * u64::from(s.chains) * u64::from(s.draws) * 8;
    check_fits(
        bytes,
        &format!("--chains {} and --draws {}", s.chains, s.draws),
    )?;
    if !rows.dropped.is_empty() {
        eprintln!("betagibbs: --drop-empty: {}", dropped_note(&rows));
    }
    let device = describe_device(None);
    let bar = progress_bar(
        u64::from(rc.sweeps()),
        &format!("regression on {device}"),
        config.quiet,
    );
    let fit = regression::run(&reg, &rc, Some(&|| bar.inc(1)))?;
    bar.finish_and_clear();

    let run = Run::begin(&config.out, "sample")?;
    let mut metadata: Vec<(String, String)> = [
        ("betagibbs.version", env!("CARGO_PKG_VERSION").to_string()),
        ("betagibbs.model", MODEL.to_string()),
        ("betagibbs.prior", PRIOR_TEXT.to_string()),
        ("betagibbs.seed", s.seed.to_string()),
        ("betagibbs.chains", s.chains.to_string()),
        ("betagibbs.warmup", s.warmup.to_string()),
        ("betagibbs.draws", s.draws.to_string()),
        ("betagibbs.thin", s.thin.to_string()),
        (
            "betagibbs.update",
            "regression: collapsed slice sampling".to_string(),
        ),
        ("betagibbs.device", device.clone()),
        ("betagibbs.input", rows.table.source.clone()),
        ("betagibbs.input_sha256", rows.table.sha256.clone()),
        ("betagibbs.observations", rows.successes.len().to_string()),
        ("betagibbs.formula", design.formula.clone()),
        ("betagibbs.design", design.to_json(&rows.labels)),
        ("betagibbs.dropped_empty", dropped_note(&rows)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    metadata.push(run.footer());
    let (summary, draws_path, summary_path) =
        write_fit(&config.out, &names, &fit, &contrasts, &metadata)?;
    // An earlier hierarchical run's files would not match these draws.
    for stale in ["observations.parquet", "predictive.parquet"] {
        let p = config.out.join(stale);
        if p.is_file() {
            std::fs::remove_file(&p)?;
        }
    }
    println!("{}", format_summary_table(&summary));
    run.finish(&["draws.parquet", "summary.parquet"])?;
    print_contrasts(&summary[summary.len() - contrasts.len()..]);
    report_written(&fit, &device, &draws_path, &summary_path);
    Ok(())
}

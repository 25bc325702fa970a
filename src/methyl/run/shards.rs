//! `methyl prior` and `methyl fit`: stage 1 once for the whole study, and stage 2 on one
//! shard with that prior (`methyl call` joins the shards). Every site's random numbers are
//! keyed by its identity, so a shard fits its sites exactly as the whole run does.

use std::path::Path;
use std::time::Instant;

use crate::error::UserError;
use crate::io::manifest::{Run, RUN_ID_KEY};
use crate::methyl::config::MethylConfig;
use crate::methyl::regions::Finder;
use crate::methyl::run::{footer, learn_priors, with_opened, Study};
use crate::methyl::shard::{
    read_prior, write_prior, write_shard, write_shards, PRIOR_ID_KEY, SETTINGS_KEY, SITES_KEPT_KEY,
    SITES_SEEN_KEY,
};

/// Everything that decides a site's numbers or its calls but the prior: a shard must be fitted
/// with the settings its prior was learned under. One `key=value` per field, `; ` between.
pub(crate) fn settings(config: &MethylConfig, study: &Study) -> String {
    let samples: Vec<String> = study
        .sheet
        .samples
        .iter()
        .zip(&study.sample_group)
        .map(|(s, g)| format!("{}:{}", s.name, g))
        .collect();
    let tested = match &study.design {
        Some(d) => format!("design {:?} tests {}", d.design.formula, d.tested_name),
        None => format!(
            "mu_{} - mu_{}",
            study.groups[study.compare.1], study.groups[study.compare.0]
        ),
    };
    let f = &config.fit;
    [
        format!("samples={}", samples.join(",")),
        format!("tested={tested}"),
        format!("threshold={}", config.threshold),
        format!("filter={}", config.filter.footer()),
        format!("chains={}", f.chains),
        format!("warmup={}", f.warmup),
        format!("draws={}", f.draws),
        format!("seed={}", f.seed),
        format!("hyper_sites={}", f.hyper_sites),
        format!("hyper_warmup={}", f.hyper_warmup),
        format!("hyper_draws={}", f.hyper_draws),
        format!("dmr_min_cpgs={}", config.dmr.min_cpgs),
        format!("dmr_max_gap={}", config.dmr.max_gap),
    ]
    .join("; ")
}

/// The value of `key` in a `settings` string.
pub(crate) fn setting<'s>(settings: &'s str, key: &str) -> Option<&'s str> {
    settings
        .split("; ")
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

/// `methyl prior`: stage 1 on a uniform sample of the whole study's sites; writes
/// prior.parquet and shards.tsv into `config.out`.
pub fn run_prior(config: &MethylConfig) -> anyhow::Result<()> {
    super::leave_nothing_on_failure(&config.out, || {
        with_opened(config, |o, mut merger| {
            let start = Instant::now();
            let mut phases = o.phases();
            let (hyper, _) = learn_priors(o.config, o.study, &mut merger, o.model(), &mut phases)?;
            // The shards are planned from every chromosome's sites: a pass of the merge
            // counts them where stage 1's sample came from the scan, without one.
            while merger.next_site()?.is_some() {}
            let run = Run::begin(&config.out, "methyl prior")?;
            let mut metadata = footer(o.config, o.study, o.device_name, &hyper);
            metadata.push(run.footer());
            metadata.push((SETTINGS_KEY.into(), settings(o.config, o.study)));
            metadata.push((SITES_KEPT_KEY.into(), merger.sites_kept.to_string()));
            metadata.push((SITES_SEEN_KEY.into(), merger.sites_seen.to_string()));
            write_prior(&config.out, &hyper, &metadata)?;
            let shards: Vec<(String, u64)> = merger
                .chromosomes
                .iter()
                .cloned()
                .zip(merger.kept_per_chromosome.iter().copied())
                .filter(|(_, n)| *n > 0)
                .collect();
            write_shards(&config.out, &shards)?;
            run.finish(&["prior.parquet", "shards.tsv"])?;
            if !config.quiet {
                eprintln!(
                    "betagibbs: genome-wide priors from {} of {} sites on {} chromosomes ({:.1} s on {}) written to {}",
                    hyper.sites,
                    merger.sites_kept,
                    shards.len(),
                    start.elapsed().as_secs_f64(),
                    o.device_name,
                    config.out.display()
                );
            }
            Ok(())
        })
    })
}

/// `methyl fit --prior P`: stage 2 on the sites of `config.region` (or all) with P's
/// priors; writes sites.parquet and the shard's regions, edges and histogram.
pub fn run_fit(config: &MethylConfig, prior_dir: &Path) -> anyhow::Result<()> {
    super::leave_nothing_on_failure(&config.out, || {
        with_opened(config, |o, mut merger| {
            let start = Instant::now();
            crate::io::manifest::check_run(prior_dir, &["prior.parquet"])?;
            let prior = read_prior(prior_dir)?;
            check_settings(prior_dir, &prior.metadata, &settings(o.config, o.study))?;
            let hyper = prior.hyper;
            let run = Run::begin(&config.out, "methyl fit")?;
            let mut metadata = footer(o.config, o.study, o.device_name, &hyper);
            metadata.push(run.footer());
            let prior_id = prior.metadata.get(RUN_ID_KEY).cloned().unwrap_or_default();
            metadata.push((PRIOR_ID_KEY.into(), prior_id));
            let bar = super::progress_bar(config.quiet);
            bar.set_message(format!("fitting sites on {}", o.device_name));
            let pipeline = o.stage2(&hyper, &metadata, &bar, true);
            let mut phases = o.phases();
            let sites_path = config.out.join("sites.parquet");
            let fitted =
                pipeline.fit_sites(&mut merger, Vec::new(), None, &sites_path, &mut phases)?;
            let counts = fitted.kept_and_seen;
            let Finder::Shard(finder) = fitted.gathered.finder else {
                unreachable!("a shard's finder")
            };
            metadata.push((SITES_KEPT_KEY.into(), counts.0.to_string()));
            metadata.push((SITES_SEEN_KEY.into(), counts.1.to_string()));
            write_shard(
                &config.out,
                &finder.finish(),
                &fitted.gathered.histogram,
                &metadata,
            )?;
            run.finish(&[
                "sites.parquet",
                "regions.parquet",
                "edges.parquet",
                "histogram.parquet",
            ])?;
            bar.finish_and_clear();
            if !config.quiet {
                eprintln!(
                    "betagibbs: {} sites{} fitted in {:.1} s on {} into {}",
                    fitted.sites,
                    config
                        .region
                        .as_ref()
                        .map_or(String::new(), |r| format!(" of {r}")),
                    start.elapsed().as_secs_f64(),
                    o.device_name,
                    config.out.display()
                );
            }
            Ok(())
        })
    })
}

/// Refuses a shard whose settings differ from its prior's, naming each difference.
fn check_settings(
    prior_dir: &Path,
    metadata: &std::collections::HashMap<String, String>,
    ours: &str,
) -> Result<(), UserError> {
    let theirs = metadata.get(SETTINGS_KEY).map(String::as_str).unwrap_or("");
    let differences: Vec<String> = ours
        .split("; ")
        .filter_map(|kv| {
            let key = kv.split('=').next().unwrap_or(kv);
            let mine = setting(ours, key);
            let prior = setting(theirs, key);
            (mine != prior).then(|| {
                format!(
                    "{key}: the prior's {}, this run's {}",
                    prior.unwrap_or("(none)"),
                    mine.unwrap_or("(none)")
                )
            })
        })
        .collect();
    if differences.is_empty() {
        return Ok(());
    }
    Err(UserError(format!(
        "--prior {}: learned under other settings than this run's; give fit the prior's flags ({})",
        prior_dir.display(),
        differences.join("; ")
    )))
}

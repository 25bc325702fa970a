//! `betagibbs methyl`: read a sample sheet, fit every site, call DMLs and DMRs.

use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use crate::error::UserError;
use crate::io::atomic::atomic_write;
use crate::kernels::device::{describe_device, open_device};
use crate::kernels::site_layout::MAX_GROUPS;
use crate::kernels::Device;
use crate::kernels::DeviceChoice;
use crate::methyl::config::MethylConfig;
use crate::methyl::fit::{
    gpu_site_capacity, learn_hyper, next_sites, reservoir_sample, summarize_chunk, sweep_chunk,
    ChunkResult, Contrast, SiteRunner, SweptChunk, HYPER_NAMES,
};
use crate::methyl::merge::{Site, SiteMerger};
use crate::methyl::output::{write_calls, write_regions, FdrHistogram, SitesWriter};
use crate::methyl::regions::{call_regions, RegionFinder};
use crate::methyl::sheet::SampleSheet;

/// Above this, stage 1's chains hand the sites priors whose centres or spreads differ by more
/// than half a prior sd: say so. (Their R-hat over-warns: the hyperparameters crawl within a
/// region far narrower than the priors they define. At 0.37, the simulated study of the
/// calibration test, the 95% intervals still cover 94-95%; see README.)
const HYPER_SPREAD_WARNING: f64 = 0.5;

/// What a run did, for the caller and the benchmark.
#[derive(Debug, Clone)]
pub struct MethylReport {
    pub sites: u64,
    pub seconds: f64,
    pub acceptance: f64,
    pub dml: u64,
    pub dmr: u64,
    pub bytes_per_site: Option<f64>,
    pub device: String,
    pub phases: Phases,
}

/// Busy seconds per phase of a run. Stage 2 runs reading, the site update, the summaries and
/// writing as a pipeline on four threads, so these overlap and may sum to more than the total.
#[derive(Debug, Clone, Copy, Default)]
pub struct Phases {
    /// Parsing and merging the samples' files (both passes).
    pub reading: f64,
    /// Stage 1: the genome-wide priors.
    pub stage1: f64,
    /// Stage 2's site update: kernel or CPU sweeps, with transfers.
    pub site_update: f64,
    /// Per-site posterior summaries, R-hat and ESS.
    pub summaries: f64,
    /// sites.parquet, the calls and the region draws.
    pub writing: f64,
}

/// Runs `methyl`; on failure removes the output directory if this run created it (it is
/// then empty: every file is written atomically), so bad input leaves nothing behind.
pub fn run_methyl(config: &MethylConfig) -> anyhow::Result<MethylReport> {
    let created = !config.out.exists();
    let result = fit_and_call(config);
    if result.is_err() && created {
        let _ = std::fs::remove_dir(&config.out);
    }
    result
}

fn fit_and_call(config: &MethylConfig) -> anyhow::Result<MethylReport> {
    let start = Instant::now();
    let user = |e: crate::error::UserError| UserError(e.0);
    let sheet = SampleSheet::read(&config.sheet).map_err(user)?;
    let (groups, sample_group) = sheet.groups();
    if groups.len() > MAX_GROUPS {
        return Err(UserError(format!(
            "{}: {} groups; at most {MAX_GROUPS} are supported",
            config.sheet.display(),
            groups.len()
        ))
        .into());
    }
    let compare = (
        sheet.group_index(&config.compare.0).map_err(user)?,
        sheet.group_index(&config.compare.1).map_err(user)?,
    );
    if config.out.exists() && !config.out.is_dir() {
        return Err(UserError(format!(
            "--out {}: exists and is not a directory",
            config.out.display()
        ))
        .into());
    }
    let mut merger = SiteMerger::open(&sheet, config.filter).map_err(user)?;
    let gpu = open_device(config.device)?;
    let device_name = describe_device(gpu.as_ref());
    let device = Device::from_gpu(gpu.as_ref());
    let n_samples = sheet.samples.len();
    // On a GPU, chunks (and stage 1's sample) must fit the device's largest binding.
    let mut fit = config.fit.clone();
    if let Some(gpu) = gpu.as_ref() {
        let capacity = gpu_site_capacity(gpu, &fit, groups.len(), n_samples);
        if capacity < fit.chunk_sites.max(fit.hyper_sites) {
            eprintln!("betagibbs: {capacity} sites per dispatch fit the GPU's binding limit; using chunks of that size");
            fit.chunk_sites = fit.chunk_sites.min(capacity);
            fit.hyper_sites = fit.hyper_sites.min(capacity);
        }
    }
    let config = &MethylConfig {
        fit,
        ..config.clone()
    };
    let max_samples = config.fit.chunk_sites.max(config.fit.hyper_sites) * n_samples;
    let runner = SiteRunner::new(&device, &config.fit, max_samples, groups.len());

    let bar = if config.quiet {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {msg} [{elapsed_precise}] {human_pos} sites ({per_sec})",
            )
            .expect("valid template"),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    };
    bar.set_message(format!("learning the genome-wide priors on {device_name}"));
    // Stage 1 on a uniform sample of all sites (one pass of the merge), then stage 2 from the
    // start: a second pass, unless all the sites fit in one chunk and were kept.
    let mut phases = Phases::default();
    let reading_start = Instant::now();
    let (stage1_sites, all_sites) = reservoir_sample(
        &mut merger,
        config.fit.hyper_sites,
        config.fit.seed,
        config.fit.chunk_sites,
    )
    .map_err(user)?;
    phases.reading += reading_start.elapsed().as_secs_f64();
    if stage1_sites.is_empty() {
        return Err(UserError(format!(
            "{}: no site passes the filters (min coverage {}, min samples per group {})",
            config.sheet.display(),
            config.filter.min_coverage,
            config.filter.min_samples_per_group
        ))
        .into());
    }
    let hyper_batch = crate::methyl::fit::site_batch(&stage1_sites, &sample_group);
    drop(stage1_sites);
    let stage1_start = Instant::now();
    let hyper = learn_hyper(&runner, &hyper_batch, groups.len(), &config.fit).context("stage 1")?;
    phases.stage1 = stage1_start.elapsed().as_secs_f64();
    drop(hyper_batch);
    if hyper.prior_spread.is_nan() || hyper.prior_spread > HYPER_SPREAD_WARNING {
        eprintln!(
            "betagibbs: warning: the chains' genome-wide priors differ by {:.2} prior sds (hyperparameter R-hat {:.2}); raise --hyper-warmup",
            hyper.prior_spread, hyper.max_r_hat
        );
    }
    let (sites_seen, sites_kept) = (merger.sites_seen, merger.sites_kept);
    let pending = match all_sites {
        Some(sites) => sites, // `merger` is at its end, with the chromosomes' names
        None => {
            merger = merger.restart(&sheet).map_err(user)?;
            Vec::new()
        }
    };

    let mut metadata = vec![
        ("betagibbs.version".to_string(), env!("CARGO_PKG_VERSION").to_string()),
        (
            "betagibbs.model".to_string(),
            "m[j] ~ BetaBinomial(n[j], mu[g] phi, (1 - mu[g]) phi) per site; mu[0] ~ Beta(a, b); with probability w the groups differ, logit mu[g] = logit mu[0] + beta[g], beta[g] ~ Normal(0, tau^2), else they share mu[0]; log phi = m0 + s0 t, t ~ Student-t(4)"
                .to_string(),
        ),
        ("betagibbs.sample_sheet".to_string(), config.sheet.display().to_string()),
        ("betagibbs.groups".to_string(), groups.join(",")),
        ("betagibbs.delta".to_string(), format!("mu_{} - mu_{}", config.compare.1, config.compare.0)),
        ("betagibbs.threshold".to_string(), config.threshold.to_string()),
        ("betagibbs.chains".to_string(), config.fit.chains.to_string()),
        ("betagibbs.warmup".to_string(), config.fit.warmup.to_string()),
        ("betagibbs.draws".to_string(), config.fit.draws.to_string()),
        ("betagibbs.seed".to_string(), config.fit.seed.to_string()),
        ("betagibbs.device".to_string(), device_name.clone()),
        (
            "betagibbs.hyper".to_string(),
            format!(
                "from a uniform sample of {} sites: {}",
                hyper.sites,
                HYPER_NAMES
                    .iter()
                    .enumerate()
                    .map(|(k, name)| format!("{name} = {:.4} ± {:.4}", hyper.mean[k], hyper.sd[k]))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        (
            "betagibbs.hyper_agreement".to_string(),
            format!(
                "chains' priors differ by at most {:.3} prior sds; hyperparameter R-hat {:.3}; the chains' w from {:.4} to {:.4}",
                hyper.prior_spread, hyper.max_r_hat, hyper.w_range.0, hyper.w_range.1
            ),
        ),
    ];
    std::fs::create_dir_all(&config.out)
        .with_context(|| format!("creating {}", config.out.display()))?;
    let sites_path = config.out.join("sites.parquet");
    let mut histogram = FdrHistogram::default();
    // Draws of the --draws-region sites: name and mu per (chain, draw, group).
    let mut region_sites: Vec<(String, Vec<f32>)> = Vec::new();
    let mut finder = RegionFinder::new(config.dmr, config.threshold);
    let (mut n_sites, mut accepted_weighted) = (0u64, 0.0);
    bar.set_message(format!("fitting sites on {device_name}"));
    atomic_write(&sites_path, |file| {
        let mut writer = SitesWriter::new(file, &groups, &metadata)?;
        let chromosomes = merger.chromosomes.clone();
        let in_region = |site: &Site| {
            let chr = &chromosomes[site.chr as usize];
            config
                .draws_regions
                .iter()
                .any(|r| r.contains(chr, site.pos))
        };
        // Four stages, each on its own thread, a chunk at a time: reading and merging, the
        // sweeps (GPU or CPU), the summaries, and writing. Channels of one chunk bound memory.
        std::thread::scope(|scope| -> anyhow::Result<()> {
            let (to_sweep, sweep_in) = sync_channel::<Vec<Site>>(1);
            let (to_summarize, summarize_in) = sync_channel::<(Vec<Site>, SweptChunk)>(1);
            let (to_write, write_in) = sync_channel::<(Vec<Site>, ChunkResult)>(1);
            let reader = scope.spawn(move || -> anyhow::Result<f64> {
                let mut seconds = 0.0;
                let mut chunk = pending;
                loop {
                    let t = Instant::now();
                    let want = config.fit.chunk_sites.saturating_sub(chunk.len());
                    chunk.extend(next_sites(&mut merger, want).map_err(user)?);
                    seconds += t.elapsed().as_secs_f64();
                    // A failed send: a later stage stopped, and says why.
                    if chunk.is_empty() || to_sweep.send(chunk).is_err() {
                        return Ok(seconds);
                    }
                    chunk = Vec::new();
                }
            });
            let (groups, in_region) = (&groups, &in_region);
            let summarizer = scope.spawn(move || -> f64 {
                let mut seconds = 0.0;
                for (sites, swept) in summarize_in {
                    let t = Instant::now();
                    let result = summarize_chunk(
                        &sites,
                        &swept.draws,
                        &swept.recycled,
                        groups.len(),
                        &config.fit,
                        compare,
                        &in_region,
                    );
                    seconds += t.elapsed().as_secs_f64();
                    if to_write.send((sites, result)).is_err() {
                        break;
                    }
                }
                seconds
            });
            let (region_sites, histogram, finder, chromosomes, bar) = (
                &mut region_sites,
                &mut histogram,
                &mut finder,
                &chromosomes,
                &bar,
            );
            let writer_stage = scope.spawn(move || -> anyhow::Result<f64> {
                let mut seconds = 0.0;
                for (sites, chunk) in write_in {
                    let t = Instant::now();
                    for (s, draws) in chunk.kept_draws {
                        let site = &sites[s];
                        region_sites.push((
                            format!("{}:{}", chromosomes[site.chr as usize], site.pos),
                            draws,
                        ));
                    }
                    let mut leaning = chunk.leaning_deltas.iter().peekable();
                    for (i, s) in chunk.summaries.iter().enumerate() {
                        histogram.add(s.p_above + s.p_below);
                        let deltas = match leaning.next_if(|(j, _)| *j == i) {
                            Some((_, deltas)) => deltas.as_slice(),
                            None => &[],
                        };
                        let chr = &chromosomes[s.chr as usize];
                        finder.push(chr, s.pos, s.p_above, s.p_below, deltas);
                    }
                    writer.write(chromosomes, &chunk.summaries)?;
                    bar.inc(sites.len() as u64);
                    seconds += t.elapsed().as_secs_f64();
                }
                let t = Instant::now();
                writer.finish()?;
                Ok(seconds + t.elapsed().as_secs_f64())
            });
            // The sweeps here, on the thread that opened the device.
            let mut swept = Ok(());
            for sites in sweep_in {
                let chunk = match sweep_chunk(
                    &runner,
                    &sites,
                    &sample_group,
                    groups.len(),
                    n_sites as u32,
                    &hyper,
                    &config.fit,
                    Contrast {
                        groups: compare,
                        threshold: config.threshold,
                    },
                ) {
                    Ok(chunk) => chunk,
                    Err(e) => {
                        swept = Err(e);
                        break;
                    }
                };
                phases.site_update += chunk.device_seconds;
                n_sites += sites.len() as u64;
                accepted_weighted += chunk.acceptance * sites.len() as f64;
                if to_summarize.send((sites, chunk)).is_err() {
                    break;
                }
            }
            drop(to_summarize);
            // The first failure in stage order is the cause; later stages only saw its end.
            let reading = reader.join().expect("reader panicked");
            let summaries = summarizer.join().expect("summaries panicked");
            let writing = writer_stage.join().expect("writer panicked");
            phases.reading += reading?;
            swept.context("stage 2")?;
            phases.summaries = summaries;
            phases.writing += writing?;
            Ok(())
        })
    })?;
    let writing_start = Instant::now();
    let (threshold, called, expected_fdr) = histogram.threshold(config.fdr);
    metadata.push(("betagibbs.fdr".to_string(), config.fdr.to_string()));
    metadata.push((
        "betagibbs.p_dm_threshold".to_string(),
        threshold.to_string(),
    ));
    let (regions, p_region_threshold, dmr_fdr) = call_regions(finder.finish(), config.fdr);
    metadata.push((
        "betagibbs.p_region_threshold".to_string(),
        p_region_threshold.to_string(),
    ));
    metadata.push((
        "betagibbs.dmr_expected_fdr".to_string(),
        dmr_fdr.to_string(),
    ));
    let n_dml = write_calls(
        &sites_path,
        &config.out.join("dml.parquet"),
        threshold,
        &metadata,
    )?;
    write_regions(&config.out.join("dmr.parquet"), &regions, &metadata)?;
    let n_dmr = regions.len() as u64;
    debug_assert_eq!(n_dml, called);
    let draws_path = config.out.join("draws.parquet");
    if !config.draws_regions.is_empty() {
        if region_sites.is_empty() {
            eprintln!(
                "betagibbs: warning: no site lies in --draws-region {}: draws.parquet holds no draws",
                config
                    .draws_regions
                    .iter()
                    .map(|r| format!("{}:{}-{}", r.chr, r.start, r.end))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        write_region_draws(config, &groups, compare, &region_sites, &metadata)?;
    } else if draws_path.exists() {
        // An earlier run's region draws would sit beside this run's sites as if they were its.
        std::fs::remove_file(&draws_path)
            .with_context(|| format!("removing the earlier run's {}", draws_path.display()))?;
    }
    phases.writing += writing_start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    let report = MethylReport {
        sites: n_sites,
        seconds,
        acceptance: accepted_weighted / n_sites.max(1) as f64,
        dml: n_dml,
        dmr: n_dmr,
        bytes_per_site: runner.bytes_per_site(),
        device: device_name,
        phases,
    };
    eprintln!(
        "betagibbs: {} of {} sites passed the filters; priors from a sample of {} in {:.2} s: mu ~ Beta({:.3}, {:.3}), log phi = {:.3} + {:.3} t4; the groups differ at {:.1}% of sites (chains {:.1}% to {:.1}%), by logit differences of scale {:.3} (t2)",
        sites_kept, sites_seen, hyper.sites, phases.stage1, hyper.mean[0], hyper.mean[1], hyper.mean[2], hyper.mean[3], 100.0 * hyper.mean[4], 100.0 * hyper.w_range.0, 100.0 * hyper.w_range.1, hyper.mean[5]
    );
    eprintln!(
        "betagibbs: {} sites in {:.2} s ({:.0} sites/s, {:.0}% in the site update, acceptance {:.2}) on {}",
        n_sites,
        seconds,
        n_sites as f64 / seconds,
        100.0 * phases.site_update / seconds,
        report.acceptance,
        report.device
    );
    eprintln!(
        "betagibbs: busy seconds (stage 2's overlap): reading {:.2}, stage 1 {:.2}, site update {:.2}, summaries {:.2}, writing {:.2}",
        phases.reading, phases.stage1, phases.site_update, phases.summaries, phases.writing
    );
    if let Some(bytes) = peak_resident_bytes() {
        eprintln!(
            "betagibbs: peak resident memory {:.0} MB",
            bytes as f64 / 1e6
        );
    }
    eprintln!(
        "betagibbs: {n_dml} DMLs at P(|delta| > {d}) >= {threshold:.4} (expected FDR {expected_fdr:.4} <= {fdr}); {n_dmr} DMRs at P(|mean delta| > {d}) >= {p_region_threshold:.4} (expected FDR {dmr_fdr:.4}); wrote {}",
        config.out.display(),
        d = config.threshold,
        fdr = config.fdr,
    );
    Ok(report)
}

/// The process's peak resident set (VmHWM), where the OS reports it (Linux).
fn peak_resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// `bench --sheet`: `methyl` on the CPU path, then the GPU path when there is one, side by
/// side in one run, into a temporary directory. Prints sites per second, acceptance, the
/// sites' median R-hat and bulk ESS, and the GPU's bytes per site; with `dss`, DSS's DMLtest
/// on the same files and the CPU path's ratio to it.
pub fn run_methyl_bench(config: &MethylConfig, gpu: bool, dss: bool) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("betagibbs-bench-{}", std::process::id()));
    // The CPU path four chains at a time, then by its scalar twin (the shader's operations
    // one chain at a time), then the GPU.
    let mut devices = vec![(DeviceChoice::Cpu, false), (DeviceChoice::Cpu, true)];
    if gpu {
        match crate::kernels::gpu::Gpu::open(true) {
            Ok(_) => devices.push((DeviceChoice::Gpu, false)),
            Err(e) => eprintln!("betagibbs: {e}; timing the CPU path only"),
        }
    }
    println!(
        "methyl on {}: {} chains x ({} warm-up + {} draws) per site; priors from a sample of {} sites ({} + {} sweeps)",
        config.sheet.display(),
        config.fit.chains,
        config.fit.warmup,
        config.fit.draws,
        config.fit.hyper_sites,
        config.fit.hyper_warmup,
        config.fit.hyper_draws
    );
    println!(
        "{:<52} {:>8} {:>8} {:>10} {:>10} {:>9} {:>9} {:>12}",
        "path", "sites", "wall s", "sites/s", "acceptance", "R-hat p50", "ESS p50", "GPU B/site"
    );
    // The reference first: a sheet it cannot read fails before the long part.
    let reference = if dss {
        let cores = rayon::current_num_threads();
        let compare = (config.compare.0.as_str(), config.compare.1.as_str());
        let (sites, seconds) =
            crate::methyl::reference::time_dss_dmltest(&config.sheet, compare, cores, &dir)?;
        Some((sites, seconds, cores))
    } else {
        None
    };
    let mut cpu_rate = None;
    for (device, scalar_twin) in devices {
        let out = dir.join(format!("{device:?}-{scalar_twin}"));
        let mut run = MethylConfig {
            device,
            out: out.clone(),
            quiet: true,
            ..config.clone()
        };
        run.fit.scalar_twin = scalar_twin;
        let report = run_methyl(&run)?;
        let path = if scalar_twin {
            report.device.replace("cpu", "cpu, scalar twin")
        } else {
            report.device.clone()
        };
        let (r_hat, ess) = median_diagnostics(&out.join("sites.parquet"))?;
        let rate = report.sites as f64 / report.seconds;
        if device == DeviceChoice::Cpu && !scalar_twin {
            cpu_rate = Some(rate);
        }
        println!(
            "{:<52} {:>8} {:>8.2} {:>10.0} {:>10.3} {:>9.3} {:>9.0} {:>12}",
            path,
            report.sites,
            report.seconds,
            rate,
            report.acceptance,
            r_hat,
            ess,
            report
                .bytes_per_site
                .map_or("-".to_string(), |b| format!("{b:.0}"))
        );
    }
    if let Some((sites, seconds, cores)) = reference {
        let rate = sites as f64 / seconds;
        println!(
            "{:<52} {:>8} {:>8.2} {:>10.0} {:>10} {:>9} {:>9} {:>12}",
            format!("reference: DSS DMLtest, no smoothing ({cores} cores)"),
            sites,
            seconds,
            rate,
            "-",
            "-",
            "-",
            "-"
        );
        if let Some(ours) = cpu_rate {
            println!(
                "cpu path / DSS: {:.2}x the sites per second (DSS's time is DMLtest's alone, without reading its files)",
                ours / rate
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Median R-hat and bulk ESS over the sites of a sites.parquet.
fn median_diagnostics(path: &std::path::Path) -> anyhow::Result<(f64, f64)> {
    use arrow::array::{Array, Float64Array};
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(path)?,
    )?
    .build()?;
    let (mut r, mut e) = (Vec::new(), Vec::new());
    for batch in reader {
        let batch = batch?;
        for (name, out) in [("r_hat", &mut r), ("ess_bulk", &mut e)] {
            let col = batch
                .column_by_name(name)
                .and_then(|c| c.as_any().downcast_ref::<Float64Array>().cloned())
                .context("sites.parquet lacks r_hat or ess_bulk")?;
            out.extend(col.values().iter().copied());
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    Ok((median(&mut r), median(&mut e)))
}

/// draws.parquet in the core draws schema: per site `<chr>:<pos>/mu[<group>]` for every group
/// and `<chr>:<pos>/delta`.
fn write_region_draws(
    config: &MethylConfig,
    groups: &[String],
    compare: (usize, usize),
    sites: &[(String, Vec<f32>)],
    metadata: &[(String, String)],
) -> anyhow::Result<()> {
    let (n_chains, n_draws, n_groups) = (
        config.fit.chains as usize,
        config.fit.draws as usize,
        groups.len(),
    );
    let mut names = Vec::new();
    let mut values = Vec::new();
    for (site, draws) in sites {
        let mu = |chain: usize, draw: usize, g: usize| {
            f64::from(draws[(chain * n_draws + draw) * n_groups + g])
        };
        for (g, group) in groups.iter().enumerate() {
            names.push(format!("{site}/mu[{group}]"));
            for chain in 0..n_chains {
                values.extend((0..n_draws).map(|d| mu(chain, d, g)));
            }
        }
        names.push(format!("{site}/delta"));
        for chain in 0..n_chains {
            values.extend((0..n_draws).map(|d| mu(chain, d, compare.1) - mu(chain, d, compare.0)));
        }
    }
    let table = crate::io::write::DrawsTable {
        parameter_names: &names,
        n_chains,
        n_draws,
        values: &values,
    };
    crate::io::write::write_draws(&config.out.join("draws.parquet"), &table, metadata)?;
    eprintln!(
        "betagibbs: draws of {} sites in --draws-region written to {}",
        sites.len(),
        config.out.join("draws.parquet").display()
    );
    Ok(())
}

//! `betagibbs methyl`: read a sample sheet, fit every site, call DMLs and DMRs.
//!
//! `fit_and_call` runs the phases in order: open the sheet, the samples' files and the
//! device; stage 1, the genome-wide priors from a uniform sample of the sites; stage 2, every
//! site in a pipeline of threads (`stage2`); the second pass, calls and regions (`calls`);
//! the report (`report`). `bench` runs it on each device for `bench --sheet`.

mod bench;
mod call;
mod calls;
mod report;
mod resume;
mod shards;
mod stage2;

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use crate::error::UserError;
use crate::io::cpu_time::thread_cpu_seconds;
use crate::io::manifest::Run;
use crate::io::process_cpu_seconds;
use crate::kernels::device::{describe_device, open_device};
use crate::kernels::gpu::{DeviceSeconds, Gpu};
use crate::kernels::regression_layout::NUISANCE_DOF;
use crate::kernels::site_layout::{LOG_PHI_DOF, MAX_GROUPS, SLAB_DOF};
use crate::kernels::summary_layout::device_summarises;
use crate::kernels::Device;
use crate::methyl::config::{MethylConfig, SummariesChoice, DEFAULT_DESIGN_HYPER_SITES};
use crate::methyl::design::StudyDesign;
use crate::methyl::hyper::{learn_hyper, reservoir_sample, GroupSites, Hyper, HYPER_NAMES};
use crate::methyl::merge::{Site, SiteMerger};
use crate::methyl::regression::RegressionSites;
use crate::methyl::scan_sample::{scan_records_per_file, HyperSites, ScanSampling};
use crate::methyl::sheet::SampleSheet;
use crate::methyl::site_stage::FitConfig;
use crate::methyl::site_stage::{
    chunk_sites_within, gpu_site_capacity, regression_stage, site_batch, site_stage, SiteModel,
};
pub(crate) use crate::methyl::summaries::DrawSlots;

pub use bench::run_methyl_bench;
pub use call::{run_call, CallConfig};
pub use shards::{run_fit, run_prior};

/// Above this, stage 1's chains hand the sites priors whose centres or spreads differ by more
/// than half a prior sd: say so. (Their R-hat over-warns: the hyperparameters crawl within a
/// region far narrower than the priors they define. At 0.37, the simulated study of the
/// calibration test, the 95% intervals still cover 94-95%; see docs/perf-notes.md.)
const HYPER_SPREAD_WARNING: f64 = 0.5;
/// Below this many sites in stage 1's sample the chains' spread comes from the few sites, not
/// from too few sweeps (simulated 2 x 2 studies: 1.2 to 3.2 prior sds at 20 to 200 sites, 0.8
/// at 1,000), so the warning says that rather than asking for more draws.
const FEW_STAGE1_SITES: usize = 500;

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
    /// The chromosome scan: every file read once for its chromosomes' order (and, at genome
    /// scale, stage 1's sample) before anything else can start.
    pub scan: f64,
    /// Parsing and merging the samples' files (both passes).
    pub reading: f64,
    /// Stage 1: the genome-wide priors.
    pub stage1: f64,
    /// Stage 2's site update: kernel or CPU sweeps, with transfers.
    pub site_update: f64,
    /// Where the site update's time went on a GPU: its kernels, waits and copies; None on the CPU.
    pub on_device: Option<DeviceSeconds>,
    /// Per-site posterior summaries, R-hat and ESS.
    pub summaries: f64,
    /// sites.parquet, the calls and the region draws.
    pub writing: f64,
    /// CPU seconds per phase, summed over the threads that work for it.
    pub core: CoreSeconds,
    /// Seconds stage 2's stages waited for the next to take a chunk.
    pub blocked: Blocked,
}

/// Seconds each of stage 2's stages waited for the next stage to take its chunk, summed over
/// its threads: a stage that waits long has a slower one after it; the one that never waits
/// while the others do sets the pace.
#[derive(Debug, Clone, Copy, Default)]
pub struct Blocked {
    pub reading: f64,
    pub site_update: f64,
    pub summaries: f64,
    /// The writer, for its appender (which encodes and appends the row groups).
    pub writing: f64,
}

/// Core (CPU) seconds per phase of a run: each phase's CPU time summed over the threads that
/// work for it (the files' parsing threads and the merge; the summaries' tasks; the writer).
/// The site update's is what the run used beyond the others.
#[derive(Debug, Clone, Copy, Default)]
pub struct CoreSeconds {
    pub reading: f64,
    pub stage1: f64,
    pub summaries: f64,
    pub writing: f64,
    /// The run's CPU time, every thread, where the OS reports it (else 0).
    pub total: f64,
    /// Stage 2's stages of one thread, their own CPU seconds: the merge of the files' records
    /// into sites, the writer of sites.parquet's rows, and its appender (the columns build
    /// and encode on rayon's threads). Each bounds the pipeline's rate at one site per its
    /// core-µs a site.
    pub merge_thread: f64,
    pub writer_thread: f64,
    pub append_thread: f64,
}

impl CoreSeconds {
    /// The site update's core seconds (the CPU path's sweeps, or the GPU path's host side),
    /// with whatever no phase claims (allocation, the thread pool): the total less the others.
    pub fn site_update_and_rest(&self) -> f64 {
        (self.total - self.reading - self.stage1 - self.summaries - self.writing).max(0.0)
    }

    /// Each phase's core-µs per site of `n_sites`, and the host's own work (reading,
    /// summaries and writing: what stays on the CPU when the site update runs on a GPU).
    pub fn per_site(&self, n_sites: u64) -> String {
        let us = |s: f64| s / n_sites.max(1) as f64 * 1e6;
        format!(
            "reading {:.1}, stage 1 {:.1}, site update and the rest {:.1}, summaries {:.1}, writing {:.1}; host work (reading + summaries + writing) {:.1}, all {:.1}",
            us(self.reading),
            us(self.stage1),
            us(self.site_update_and_rest()),
            us(self.summaries),
            us(self.writing),
            us(self.reading + self.summaries + self.writing),
            us(self.total)
        )
    }

    /// Stage 2's one-thread stages' own core-µs per site of `n_sites`.
    pub fn one_thread_per_site(&self, n_sites: u64) -> String {
        let us = |s: f64| s / n_sites.max(1) as f64 * 1e6;
        format!(
            "merging {:.2}, writing {:.2}, appending {:.2}",
            us(self.merge_thread),
            us(self.writer_thread),
            us(self.append_thread)
        )
    }
}

/// The process's CPU seconds since `start` (a `process_cpu_seconds` reading); 0 where the OS
/// reports none.
pub(super) fn process_seconds_since(start: Option<f64>) -> f64 {
    match (start, process_cpu_seconds()) {
        (Some(start), Some(now)) => (now - start).max(0.0),
        _ => 0.0,
    }
}

/// Runs `methyl`; on failure removes the output directory if this run created it (it is
/// then empty: every file is written atomically), so bad input leaves nothing behind.
pub fn run_methyl(config: &MethylConfig) -> anyhow::Result<MethylReport> {
    leave_nothing_on_failure(&config.out, || match config.resume {
        true => resume::fit_and_call_resumable(config),
        false => fit_and_call(config),
    })
}

/// Runs `body`; on failure removes `out` if this run created it (it is then empty: every
/// file is written atomically), so bad input leaves nothing behind.
fn leave_nothing_on_failure<R>(
    out: &std::path::Path,
    body: impl FnOnce() -> anyhow::Result<R>,
) -> anyhow::Result<R> {
    let created = !out.exists();
    let result = body();
    if result.is_err() && created {
        let _ = std::fs::remove_dir(out);
    }
    result
}

/// A run's inputs opened: the study, the device and its site model, and the run's settings
/// fitted to the device. Every `methyl` command starts here.
struct Opened<'a, 'g> {
    config: &'a MethylConfig,
    study: &'a Study,
    /// The site models, one per sweep thread of stage 2 (`FitConfig::sweep_threads`); stage 1
    /// runs on the first.
    models: &'a [SiteModel<'g>],
    device_name: &'a str,
    /// The GPU the model's stages run on, for its kernel time; None on the CPU.
    gpu: Option<&'a Gpu>,
    /// Seconds the chromosome scan took.
    scan_seconds: f64,
}

impl<'g> Opened<'_, 'g> {
    /// The model stage 1 runs on.
    fn model(&self) -> &SiteModel<'g> {
        &self.models[0]
    }

    /// Device memory per site of the models' GPU stages; None on the CPU.
    fn bytes_per_site(&self) -> Option<f64> {
        self.models.iter().map(SiteModel::bytes_per_site).sum()
    }

    /// The run's phases, the chromosome scan's seconds in.
    fn phases(&self) -> Phases {
        Phases {
            scan: self.scan_seconds,
            ..Phases::default()
        }
    }

    /// Stage 2 of this run with `hyper`: of a shard (edge runs kept whole) or of the whole run.
    fn stage2<'a>(
        &'a self,
        hyper: &'a Hyper,
        metadata: &'a [(String, String)],
        bar: &'a ProgressBar,
        shard: bool,
    ) -> stage2::Stage2<'a, 'g> {
        stage2::Stage2 {
            config: self.config,
            study: self.study,
            models: self.models,
            gpu: self.gpu,
            hyper,
            metadata,
            bar,
            shard,
        }
    }
}

/// Every NAME.wgsl in `dir` by NAME (`--dev-shader-dir`).
fn shader_variants(dir: &Path) -> Result<HashMap<String, String>, UserError> {
    let unreadable =
        |e: std::io::Error| UserError(format!("--dev-shader-dir {}: {e}", dir.display()));
    let mut variants = HashMap::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let path = entry.map_err(unreadable)?.path();
        if let (Some(name), Some("wgsl")) = (
            path.file_stem().and_then(|s| s.to_str()),
            path.extension().and_then(|s| s.to_str()),
        ) {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| UserError(format!("{}: {e}", path.display())))?;
            variants.insert(name.to_string(), text);
        }
    }
    Ok(variants)
}

/// Opens the sheet, its samples' files and the device, and runs `body` on them.
fn with_opened<R>(
    config: &MethylConfig,
    body: impl FnOnce(&Opened, SiteMerger) -> anyhow::Result<R>,
) -> anyhow::Result<R> {
    let scan_start = Instant::now();
    // A genome's scan takes seconds to minutes before anything else can start: say so.
    let scanning = spinner(config.quiet, "{spinner} {msg} [{elapsed_precise}]");
    scanning.set_message("the chromosome scan: reading every file once for its chromosomes");
    let opened = open_study(config);
    scanning.finish_and_clear();
    let (study, merger) = opened?;
    let scan_seconds = scan_start.elapsed().as_secs_f64();
    // Read whatever the device: a bad folder is an error on the CPU path too.
    let variants = config
        .dev_shader_dir
        .as_deref()
        .map(shader_variants)
        .transpose()?;
    let mut gpu = open_device(config.device)?;
    if let (Some(gpu), Some(variants)) = (gpu.as_mut(), variants) {
        gpu.shader_variants = variants;
    }
    let device_name = describe_device(gpu.as_ref());
    let device = Device::from_gpu(gpu.as_ref());
    let n_samples = study.sheet.samples.len();
    let config = &fit_to_device(config, gpu.as_ref(), &study);
    let max_samples = config.fit.chunk_sites.max(config.fit.hyper_sites.most) * n_samples;
    let model = || match &study.design {
        Some(design) => SiteModel::Regression(regression_stage(
            device,
            &design.model,
            &config.fit,
            max_samples,
        )),
        None => SiteModel::Groups(site_stage(
            device,
            &config.fit,
            max_samples,
            study.groups.len(),
        )),
    };
    let models: Vec<SiteModel> = (0..config.fit.sweep_threads).map(|_| model()).collect();
    let opened = Opened {
        config,
        study: &study,
        models: &models,
        device_name: &device_name,
        gpu: gpu.as_ref(),
        scan_seconds,
    };
    body(&opened, merger)
}

/// Opens, fits and calls: the phases of a run in order.
fn fit_and_call(config: &MethylConfig) -> anyhow::Result<MethylReport> {
    let start = Instant::now();
    let cpu_start = process_cpu_seconds();
    with_opened(config, |o, mut merger| {
        let (config, study) = (o.config, o.study);
        let bar = progress_bar(config.quiet);
        bar.set_message(format!(
            "learning the genome-wide priors on {}",
            o.device_name
        ));
        let mut phases = o.phases();
        let (hyper, all_sites) = learn_priors(config, study, &mut merger, o.model(), &mut phases)?;
        // Stage 2 from the start: a second pass, unless all the sites fit in one chunk and were kept.
        let pending = match all_sites {
            Some(sites) => sites, // `merger` is at its end, with the chromosomes' names
            None => {
                merger = merger.restart(&study.sheet)?;
                Vec::new()
            }
        };

        let run = Run::begin(&config.out, "methyl")?;
        resume::forget_progress(&config.out)?;
        let mut metadata = footer(config, study, o.device_name, &hyper);
        metadata.push(run.footer());
        let sites_path = config.out.join("sites.parquet");
        bar.set_message(format!("fitting sites on {}", o.device_name));
        let pipeline = o.stage2(&hyper, &metadata, &bar, false);
        let fitted = pipeline.fit_sites(&mut merger, pending, None, &sites_path, &mut phases)?;

        let writing_start = Instant::now();
        let writing_cpu = thread_cpu_seconds();
        let calls =
            calls::call_and_write(config, study, fitted.gathered, &sites_path, &mut metadata)?;
        let mut written = vec!["sites.parquet", "dml.parquet", "dmr.parquet"];
        if !config.draws_regions.is_empty() {
            written.push("draws.parquet");
        }
        run.finish(&written)?;
        phases.writing += writing_start.elapsed().as_secs_f64();
        phases.core.writing += thread_cpu_seconds() - writing_cpu;
        phases.core.reading += merger.parsing_core_seconds();
        phases.core.total = process_seconds_since(cpu_start);
        bar.finish_and_clear();
        let seconds = start.elapsed().as_secs_f64();
        let report = MethylReport {
            sites: fitted.sites,
            seconds,
            acceptance: fitted.accepted_weighted / fitted.sites.max(1) as f64,
            dml: calls.n_dml,
            dmr: calls.n_dmr,
            bytes_per_site: o.bytes_per_site(),
            device: o.device_name.to_string(),
            phases,
        };
        report::print_report(config, &report, &hyper, fitted.kept_and_seen, &calls);
        Ok(report)
    })
}

/// The sample sheet as the phases use it.
struct Study {
    sheet: SampleSheet,
    /// The groups' names, in index order.
    groups: Vec<String>,
    /// Each sample's group index.
    sample_group: Vec<u32>,
    /// The compared groups' indices: delta = mu[compare.1] - mu[compare.0].
    compare: (usize, usize),
    /// A design's regression, where `groups` are its two recorded levels.
    design: Option<StudyDesign>,
}

impl Study {
    pub(crate) fn slots(&self) -> DrawSlots {
        match &self.design {
            Some(d) => DrawSlots {
                stride: d.model.draw_slots(),
                compare: d.model.compare,
                coef: Some(d.model.n_levels),
            },
            None => DrawSlots {
                stride: self.groups.len(),
                compare: self.compare,
                coef: None,
            },
        }
    }

    pub(crate) fn coef_name(&self) -> Option<&str> {
        self.design.as_ref().map(|d| d.tested_name.as_str())
    }

    /// Stage 1's sites: a design's default where `fit` asks for a share (its sites cost more,
    /// and the share was not measured on it), else `fit`'s.
    fn hyper_sites(&self, fit: &FitConfig) -> HyperSites {
        match self.design.is_some() && fit.hyper_sites.share > 0.0 {
            true => DEFAULT_DESIGN_HYPER_SITES.at_most(fit.hyper_sites.most),
            false => fit.hyper_sites,
        }
    }
}

/// Opening: the sheet read and checked (its groups, the compared ones, --out), and the merge
/// of its samples' files opened.
fn open_study(config: &MethylConfig) -> anyhow::Result<(Study, SiteMerger)> {
    let sheet = SampleSheet::read(&config.sheet)?;
    let (groups, sample_group) = sheet.groups();
    if groups.len() > MAX_GROUPS {
        return Err(UserError(format!(
            "{}: {} groups; at most {MAX_GROUPS} are supported",
            config.sheet.display(),
            groups.len()
        ))
        .into());
    }
    let (groups, compare, design) = match &config.design {
        None => {
            let compare = (
                sheet.group_index(&config.compare.0)?,
                sheet.group_index(&config.compare.1)?,
            );
            (groups, compare, None)
        }
        Some(request) => {
            let d = StudyDesign::new(&sheet, request, config.threshold)?;
            match as_two_groups(&d, &sheet)? {
                // `~ group` tested by a group's coefficient is the groups model, run as --compare.
                Some(pair) => (groups, pair, None),
                None => (d.levels.clone(), d.model.compare, Some(d)),
            }
        }
    };
    // A site's phi is told from its groups' difference by replicates alone: without them
    // every difference is as well explained by dispersion.
    let (coefficients, noun) = design.as_ref().map_or((groups.len(), "groups"), |d| {
        (d.design.names.len(), "coefficients")
    });
    if sheet.samples.len() <= coefficients {
        let samples = sheet.samples.len();
        eprintln!(
            "betagibbs: warning: {}",
            no_replicates(samples, coefficients, noun)
        );
    }
    if config.out.exists() && !config.out.is_dir() {
        return Err(UserError(format!(
            "--out {}: exists and is not a directory",
            config.out.display()
        ))
        .into());
    }
    let study = Study {
        sheet,
        groups,
        sample_group,
        compare,
        design,
    };
    // Stage 1's sample, at genome scale, from the chromosome scan (methyl::scan_sample).
    let n_samples = study.sheet.samples.len();
    let sampling = ScanSampling {
        seed: config.fit.seed,
        per_file: scan_records_per_file(study.hyper_sites(&config.fit).most, n_samples),
        merge_strands: config.filter.merge_strands,
    };
    let merger = SiteMerger::open_scoped(
        &study.sheet,
        config.filter,
        config.region.clone(),
        Some(sampling),
    )?;
    Ok((study, merger))
}

/// The warning of a study without replicates: as many groups (a design's coefficients) as
/// samples.
fn no_replicates(samples: usize, coefficients: usize, noun: &str) -> String {
    format!(
        "{samples} samples for {coefficients} {noun}: no sample replicates another, so a \
         site's dispersion cannot be told from a difference between its groups. The calls rest \
         on the genome-wide priors and will be few; only replicates make a difference credible"
    )
}

/// The groups compared when a design is `~ group` with a group's coefficient tested: the
/// same model as --compare (logit mu_g = logit mu_0 + beta_g), so the same run.
fn as_two_groups(
    d: &StudyDesign,
    sheet: &SampleSheet,
) -> Result<Option<(usize, usize)>, UserError> {
    let terms = &d.design.terms;
    let single = terms.len() == 1 && terms[0].variables == ["group"] && terms[0].is_factor;
    let tested = d.weights.iter().filter(|w| **w != 0.0).count() == 1 && d.weights.contains(&1.0);
    if !single || !tested {
        return Ok(None);
    }
    Ok(Some((
        sheet.group_index(&d.levels[0])?,
        sheet.group_index(&d.levels[1])?,
    )))
}

/// Bytes in a GiB.
const GIB: f64 = (1u64 << 30) as f64;

/// The run's settings for this study on this machine: stage 1's sites (`Study::hyper_sites`),
/// chunks small enough that stage 2's draws stay within --memory, and on a GPU, chunks (and
/// stage 1's sample) that fit the device's largest binding.
fn fit_to_device(config: &MethylConfig, gpu: Option<&Gpu>, study: &Study) -> MethylConfig {
    let (n_groups, n_samples) = (study.slots().stride, study.sheet.samples.len());
    let mut fit = config.fit.clone();
    fit.hyper_sites = study.hyper_sites(&config.fit);
    fit.host_summaries = match (gpu, config.summaries) {
        (None, _) | (_, SummariesChoice::Host) => true,
        (Some(_), SummariesChoice::Device) => false,
        (Some(gpu), SummariesChoice::Auto) => gpu.is_software(),
    } || !device_summarises(fit.chains as usize, fit.draws as usize);
    // More than one sweep thread only where a GPU summarises (DEVICE_SWEEPERS).
    if fit.host_summaries {
        fit.sweep_threads = 1;
    }
    let within = chunk_sites_within(config.memory_gib * GIB, &fit, n_groups, n_samples);
    if within < fit.chunk_sites {
        if !config.quiet {
            eprintln!(
                "betagibbs: chunks of {within} sites keep stage 2's draws within --memory {} GiB",
                config.memory_gib
            );
        }
        fit.chunk_sites = within;
    }
    if let Some(gpu) = gpu {
        let capacity = gpu_site_capacity(gpu, &fit, n_groups, n_samples);
        if capacity < fit.chunk_sites.max(fit.hyper_sites.most) {
            eprintln!("betagibbs: {capacity} sites per dispatch fit the GPU's binding limit; using chunks of that size");
            fit.chunk_sites = fit.chunk_sites.min(capacity);
            fit.hyper_sites = fit.hyper_sites.at_most(capacity);
        }
    }
    MethylConfig {
        fit,
        ..config.clone()
    }
}

/// Where the run's summaries came from, for the footer.
fn summaries_footer(host: bool) -> &'static str {
    match host {
        true => "host, f64 (mcmc::diagnostics)",
        false => "device, f32 (site_summaries.wgsl)",
    }
}

/// The spinner on stderr with the sites done, hidden under --quiet.
fn progress_bar(quiet: bool) -> ProgressBar {
    spinner(
        quiet,
        "{spinner} {msg} [{elapsed_precise}] {human_pos} sites ({per_sec})",
    )
}

/// A spinner on stderr drawn by `template`, hidden under --quiet.
fn spinner(quiet: bool, template: &str) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template(template).expect("valid template"));
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Stage 1: a uniform sample of all sites (the chromosome scan's, or a pass of the merge) and
/// the genome-wide priors learned on it. Some(sites): stage 2 takes these sites, then reads
/// on from `merger` (every site where they all fit in one chunk, with the merge at its end;
/// none after the scan's sample, with the merge not begun); None: the merge must restart.
fn learn_priors(
    config: &MethylConfig,
    study: &Study,
    merger: &mut SiteMerger,
    model: &SiteModel,
    phases: &mut Phases,
) -> anyhow::Result<(Hyper, Option<Vec<Site>>)> {
    let reading_start = Instant::now();
    let reading_cpu = thread_cpu_seconds();
    // At genome scale the chromosome scan's sample; else a reservoir over a pass of the merge,
    // which keeps every site of a study that fits in one chunk for stage 2.
    let from = config.fit.scan_sample_from;
    let (stage1_sites, all_sites) = match merger.scan_sample(config.fit.hyper_sites, from) {
        // The merge has not begun: stage 2 reads on from it, with nothing pending.
        Some(sites) => (sites, Some(Vec::new())),
        None => reservoir_sample(
            merger,
            config.fit.hyper_sites,
            config.fit.seed,
            config.fit.chunk_sites,
        )?,
    };
    phases.reading += reading_start.elapsed().as_secs_f64();
    phases.core.reading += thread_cpu_seconds() - reading_cpu;
    if stage1_sites.is_empty() {
        let scope = config
            .region
            .as_ref()
            .map_or(String::new(), |r| format!(" in --region {r}"));
        return Err(UserError(format!(
            "{}: no site{scope} passes the filters (min coverage {}, min samples per group {})",
            config.sheet.display(),
            config.filter.min_coverage,
            config.filter.min_samples_per_group
        ))
        .into());
    }
    let n_stage1 = stage1_sites.len();
    let stage1_start = Instant::now();
    // Stage 1 runs alone (the files' parsing threads are idle or done): the process's CPU.
    let stage1_cpu = process_cpu_seconds();
    let hyper = match model {
        SiteModel::Groups(stage) => {
            let batch = site_batch(&stage1_sites, &study.sample_group);
            drop(stage1_sites);
            let mut sites = GroupSites::new(stage, &batch, study.groups.len(), &config.fit);
            learn_hyper(&mut sites, &config.fit)
        }
        SiteModel::Regression(stage) => {
            let mut sites = RegressionSites::new(stage, &stage1_sites, &config.fit);
            drop(stage1_sites);
            learn_hyper(&mut sites, &config.fit)
        }
    }
    .context("stage 1")?;
    phases.stage1 = stage1_start.elapsed().as_secs_f64();
    phases.core.stage1 = process_seconds_since(stage1_cpu);
    if hyper.prior_spread.is_nan() || hyper.prior_spread > HYPER_SPREAD_WARNING {
        let advice = if n_stage1 < FEW_STAGE1_SITES {
            format!("stage 1 had only {n_stage1} sites, too few to pin the genome-wide priors down, and the calls lean on them")
        } else {
            "raise --hyper-draws to average over more of stage 1's sweeps".to_string()
        };
        eprintln!(
            "betagibbs: warning: the chains' genome-wide priors differ by {:.2} prior sds (hyperparameter R-hat {:.2}); {advice}",
            hyper.prior_spread, hyper.max_r_hat
        );
    }
    Ok((hyper, all_sites))
}

/// The footer of every file the run writes: the model, the run's settings and stage 1's
/// priors (the second pass adds the calls' thresholds).
fn footer(
    config: &MethylConfig,
    study: &Study,
    device_name: &str,
    hyper: &Hyper,
) -> Vec<(String, String)> {
    let mut footer = vec![
        ("betagibbs.version".to_string(), env!("CARGO_PKG_VERSION").to_string()),
        (
            "betagibbs.model".to_string(),
            match &study.design {
                None => format!("m[j] ~ BetaBinomial(n[j], mu[g] phi, (1 - mu[g]) phi) per site; mu[0] ~ Beta(a, b); with probability w the groups differ, logit mu[g] = logit mu[0] + beta[g], beta[g] = tau u, u ~ Student-t({SLAB_DOF}), else they share mu[0]; log phi = m0 + s0 t, t ~ Student-t({LOG_PHI_DOF})"),
                Some(_) => format!("m[j] ~ BetaBinomial(n[j], mu[j] phi, (1 - mu[j]) phi) per site; logit mu[j] = x[j] . beta; inverse logit of the intercept ~ Beta(a, b); with probability w the tested coefficient is tau u, u ~ Student-t({SLAB_DOF}), else 0; every other coefficient k is s[k] v, v ~ Student-t({NUISANCE_DOF}); log phi = m0 + s0 t, t ~ Student-t({LOG_PHI_DOF})"),
            },
        ),
        ("betagibbs.sample_sheet".to_string(), config.sheet.display().to_string()),
        ("betagibbs.groups".to_string(), study.groups.join(",")),
        ("betagibbs.delta".to_string(), format!("mu_{} - mu_{}", study.groups[study.compare.1], study.groups[study.compare.0])),
        ("betagibbs.threshold".to_string(), config.threshold.to_string()),
        ("betagibbs.filter".to_string(), config.filter.footer()),
        (
            "betagibbs.region".to_string(),
            config.region.as_ref().map_or("all".to_string(), ToString::to_string),
        ),
        ("betagibbs.chains".to_string(), config.fit.chains.to_string()),
        ("betagibbs.warmup".to_string(), config.fit.warmup.to_string()),
        ("betagibbs.draws".to_string(), config.fit.draws.to_string()),
        ("betagibbs.seed".to_string(), config.fit.seed.to_string()),
        ("betagibbs.device".to_string(), device_name.to_string()),
        ("betagibbs.summaries".to_string(), summaries_footer(config.fit.host_summaries).to_string()),
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
    if let Some(design) = &study.design {
        let samples: Vec<String> = study.sheet.samples.iter().map(|s| s.name.clone()).collect();
        footer.push(("betagibbs.design".to_string(), design.footer_json(&samples)));
        let scales: Vec<String> = (1..design.model.tested)
            .map(|k| {
                format!(
                    "{} = {:.4}",
                    design.design.names[design.order[k]], hyper.nuisance_mean[k]
                )
            })
            .collect();
        footer.push(("betagibbs.nuisance_scales".to_string(), scales.join(", ")));
    }
    footer
}

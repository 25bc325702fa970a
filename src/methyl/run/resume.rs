//! `methyl --resume`: a whole run that keeps its progress in OUT/.resume, so that a run killed
//! part-way (kill -9, a lost machine) goes on from its last complete segment.
//!
//! The run is a sharded run inside one process: stage 1's prior is saved first
//! (`.resume/prior.parquet`), then each segment of SEGMENT_CHUNKS chunk is fitted as a shard
//! (`.resume/segment-<k>/`, as `methyl fit` writes one) and recorded in
//! `.resume/progress.tsv`, and at the end the segments are joined as `methyl call` joins
//! shards, into one sites.parquet. Sites' random numbers are keyed by their identity and the
//! joins are exact, so the result is the uninterrupted run's, bit for bit. A run that finds
//! progress of other settings or inputs, or none, starts clean; a run without --resume
//! removes any progress.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;

use crate::error::UserError;
use crate::io::atomic::write_text;
use crate::io::cpu_time::thread_cpu_seconds;
use crate::io::manifest::Run;
use crate::io::process_cpu_seconds;
use crate::methyl::config::MethylConfig;
use crate::methyl::output::JoinedSites;
use crate::methyl::regions::Finder;
use crate::methyl::run::call::join_shards;
use crate::methyl::run::shards::settings;
use crate::methyl::run::{
    footer, learn_priors, process_seconds_since, report, with_opened, MethylReport, Opened,
};
use crate::methyl::shard::{read_prior, write_prior, write_shard};

/// The progress directory inside OUT.
const RESUME_DIR: &str = ".resume";
const PROGRESS_FILE: &str = "progress.tsv";
/// Chunks per saved segment: one, so that a killed run redoes at most its last chunk. The
/// pipeline's overlap of reading, sweeps and summaries ends at each segment; on the CPU path
/// a 1,000,000-site run cost the same with one chunk a segment as with four (49.8 s, 49.9 s).
const SEGMENT_CHUNKS: usize = 1;

/// Removes a killed run's progress from `out`: a run without --resume starts clean.
pub(super) fn forget_progress(out: &Path) -> anyhow::Result<()> {
    let dir = out.join(RESUME_DIR);
    if dir.exists() {
        fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    Ok(())
}

/// What progress.tsv records: the settings and inputs it holds for, and per complete
/// segment its sites and their acceptance (weighted by sites).
struct Progress {
    key: String,
    segments: Vec<(u64, f64)>,
}

impl Progress {
    fn write(&self, dir: &Path) -> anyhow::Result<()> {
        let mut text = format!("# {}\nsegment\tsites\taccepted_weighted\n", self.key);
        for (k, (sites, accepted)) in self.segments.iter().enumerate() {
            text.push_str(&format!("{k}\t{sites}\t{accepted}\n"));
        }
        write_text(&dir.join(PROGRESS_FILE), &text)
    }

    /// The progress in `dir`, if it holds for `key`.
    fn read(dir: &Path, key: &str) -> Option<Progress> {
        let text = fs::read_to_string(dir.join(PROGRESS_FILE)).ok()?;
        let mut lines = text.lines();
        if lines.next()?.strip_prefix("# ")? != key {
            return None;
        }
        let segments = lines
            .skip(1)
            .map(|line| {
                let fields: Vec<&str> = line.split('\t').collect();
                Some((fields.get(1)?.parse().ok()?, fields.get(2)?.parse().ok()?))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Progress {
            key: key.to_string(),
            segments,
        })
    }
}

/// The settings and inputs a run's progress holds for: the shard settings, the chunking,
/// and each count file's size and modification time.
fn progress_key(o: &Opened) -> String {
    let files: Vec<String> = o
        .study
        .sheet
        .samples
        .iter()
        .map(|s| {
            let meta = fs::metadata(&s.file).ok();
            let size = meta.as_ref().map_or(0, fs::Metadata::len);
            let modified = meta
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{}:{size}:{modified}", s.file.display())
        })
        .collect();
    format!(
        "{}; chunk_sites={}; segment_chunks={SEGMENT_CHUNKS}; files={}",
        settings(o.config, o.study),
        o.config.fit.chunk_sites,
        files.join(",")
    )
}

fn segment_dir(dir: &Path, k: usize) -> PathBuf {
    dir.join(format!("segment-{k:06}"))
}

/// `methyl --resume`: see the module documentation.
pub(super) fn fit_and_call_resumable(config: &MethylConfig) -> anyhow::Result<MethylReport> {
    let start = Instant::now();
    let cpu_start = process_cpu_seconds();
    with_opened(config, |o, mut merger| {
        let (config, study) = (o.config, o.study);
        let dir = config.out.join(RESUME_DIR);
        let key = progress_key(o);
        let mut phases = o.phases();
        let bar = super::progress_bar(config.quiet);
        let found = Progress::read(&dir, &key).filter(|_| dir.join("prior.parquet").exists());
        let (hyper, mut progress, mut pending) = match found {
            Some(progress) => {
                let hyper = read_prior(&dir)?.hyper;
                let done: u64 = progress.segments.iter().map(|s| s.0).sum();
                if !config.quiet {
                    eprintln!(
                        "betagibbs: resuming after {} segments ({done} sites) of the run in {}",
                        progress.segments.len(),
                        config.out.display()
                    );
                }
                // The merge passes over the done sites again, without fitting them.
                let reading = Instant::now();
                for _ in 0..done {
                    if merger.next_site()?.is_none() {
                        return Err(UserError(format!(
                            "{}: the inputs hold fewer sites than the progress in {} records; run again without --resume",
                            config.sheet.display(),
                            dir.display()
                        ))
                        .into());
                    }
                }
                phases.reading += reading.elapsed().as_secs_f64();
                (hyper, progress, Vec::new())
            }
            None => {
                forget_progress(&config.out)?;
                bar.set_message(format!(
                    "learning the genome-wide priors on {}",
                    o.device_name
                ));
                let (hyper, all_sites) =
                    learn_priors(config, study, &mut merger, o.model(), &mut phases)?;
                let pending = match all_sites {
                    Some(sites) => sites,
                    None => {
                        merger = merger.restart(&study.sheet)?;
                        Vec::new()
                    }
                };
                fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
                write_prior(&dir, &hyper, &[])?;
                let progress = Progress {
                    key,
                    segments: Vec::new(),
                };
                progress.write(&dir)?;
                (hyper, progress, pending)
            }
        };
        let run = Run::begin(&config.out, "methyl")?;
        let mut metadata = footer(config, study, o.device_name, &hyper);
        metadata.push(run.footer());
        bar.set_message(format!("fitting sites on {}", o.device_name));
        let segment_sites = (config.fit.chunk_sites * SEGMENT_CHUNKS) as u64;
        loop {
            let seg = segment_dir(&dir, progress.segments.len());
            if seg.exists() {
                // A segment the killed run had begun.
                fs::remove_dir_all(&seg).with_context(|| format!("removing {}", seg.display()))?;
            }
            fs::create_dir_all(&seg).with_context(|| format!("creating {}", seg.display()))?;
            let pipeline = o.stage2(&hyper, &metadata, &bar, true);
            let sites_path = seg.join("sites.parquet");
            let pending = std::mem::take(&mut pending);
            let fitted = pipeline.fit_sites(
                &mut merger,
                pending,
                Some(segment_sites),
                &sites_path,
                &mut phases,
            )?;
            if fitted.sites == 0 {
                fs::remove_dir_all(&seg).with_context(|| format!("removing {}", seg.display()))?;
                break;
            }
            let Finder::Shard(finder) = fitted.gathered.finder else {
                unreachable!("a segment's finder is a shard's")
            };
            write_shard(
                &seg,
                &finder.finish(),
                &fitted.gathered.histogram,
                &metadata,
            )?;
            progress
                .segments
                .push((fitted.sites, fitted.accepted_weighted));
            progress.write(&dir)?;
            if fitted.sites < segment_sites {
                break;
            }
        }

        let writing_start = Instant::now();
        let writing_cpu = thread_cpu_seconds();
        let dirs: Vec<PathBuf> = (0..progress.segments.len())
            .map(|k| segment_dir(&dir, k))
            .collect();
        let sites_path = config.out.join("sites.parquet");
        let calls = join_shards(
            &dirs,
            (config.dmr, config.threshold, config.fdr),
            &config.out,
            JoinedSites::One(&sites_path),
            &mut metadata,
        )?;
        let draws = config.out.join("draws.parquet");
        if draws.exists() {
            // An earlier run's region draws would sit beside this run's sites as if they were its.
            fs::remove_file(&draws).with_context(|| format!("removing {}", draws.display()))?;
        }
        run.finish(&["sites.parquet", "dml.parquet", "dmr.parquet"])?;
        forget_progress(&config.out)?;
        phases.writing += writing_start.elapsed().as_secs_f64();
        phases.core.writing += thread_cpu_seconds() - writing_cpu;
        phases.core.reading += merger.parsing_core_seconds();
        phases.core.total = process_seconds_since(cpu_start);
        bar.finish_and_clear();
        let sites: u64 = progress.segments.iter().map(|s| s.0).sum();
        let accepted: f64 = progress.segments.iter().map(|s| s.1).sum();
        let report = MethylReport {
            sites,
            seconds: start.elapsed().as_secs_f64(),
            acceptance: accepted / sites.max(1) as f64,
            dml: calls.n_dml,
            dmr: calls.n_dmr,
            bytes_per_site: o.bytes_per_site(),
            device: o.device_name.to_string(),
            phases,
        };
        report::print_report(
            config,
            &report,
            &hyper,
            (merger.sites_kept, merger.sites_seen),
            &calls,
        );
        Ok(report)
    })
}

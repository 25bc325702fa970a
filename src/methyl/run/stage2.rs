//! Stage 2: every site, a chunk at a time, through four stages, each on its own thread:
//! reading and merging, the sweeps (GPU or CPU), the summaries, and writing sites.parquet.
//! Channels of one chunk join them and bound memory.

use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::time::Instant;

use anyhow::Context;
use indicatif::ProgressBar;

use crate::io::atomic::atomic_write;
use crate::io::cpu_time::{thread_cpu_seconds, CoreClock};
use crate::kernels::gpu::{DeviceSeconds, Gpu, GpuError};
use crate::methyl::config::MethylConfig;
use crate::methyl::fit::{next_sites, sweep_chunk, Contrast, SweptChunk};
use crate::methyl::hyper::Hyper;
use crate::methyl::merge::{Site, SiteMerger};
use crate::methyl::output::{FdrHistogram, SitesWriter, DML_CANDIDATES_FILE};
use crate::methyl::regions::{Finder, RegionFinder, ShardFinder};
use crate::methyl::regression::sweep_regression_chunk;
use crate::methyl::run::{DrawSlots, Phases, Study};
use crate::methyl::site_stage::{SiteModel, IN_FLIGHT_CHUNKS};
use crate::methyl::summaries::{sites_needing_draws, summarize_chunk, ChunkResult};
use rayon::prelude::*;

/// Stage 2's draw buffers: one being summarised while the next is swept. Either stage, the
/// slower, then always has a chunk to work on; a third would only let the faster run a chunk
/// further ahead. Within --memory's IN_FLIGHT_CHUNKS.
const DRAW_BUFFERS: usize = 2;
const _: () = assert!(DRAW_BUFFERS <= IN_FLIGHT_CHUNKS);

/// What stage 2 reads: the run, its study, stage 1's priors and the device.
pub(super) struct Stage2<'a, 'g> {
    pub config: &'a MethylConfig,
    pub study: &'a Study,
    pub model: &'a SiteModel<'g>,
    /// The GPU of `model`'s stages, for its kernel time; None on the CPU.
    pub gpu: Option<&'a Gpu>,
    pub hyper: &'a Hyper,
    /// The footer of sites.parquet.
    pub metadata: &'a [(String, String)],
    pub bar: &'a ProgressBar,
    /// A shard of a sharded run (`methyl fit`): its candidate regions keep their edges whole.
    pub shard: bool,
}

/// What the writer gathers for the second pass.
pub(super) struct Gathered {
    /// Every site's P(|delta| > d), for the DMLs' threshold.
    pub histogram: FdrHistogram,
    /// Draws of the --draws-region sites: name and mu per (chain, draw, group).
    pub region_sites: Vec<(String, Vec<f32>)>,
    /// The candidate regions of the leaning sites.
    pub finder: Finder,
}

/// What stage 2 did.
pub(super) struct Fitted {
    pub gathered: Gathered,
    pub sites: u64,
    /// The chunks' acceptance, each weighted by its sites.
    pub accepted_weighted: f64,
    /// The merge's sites kept and seen, as its counters stood at its end.
    pub kept_and_seen: (u64, u64),
}

/// The site update's totals over the chunks.
#[derive(Default)]
struct SweepTotals {
    sites: u64,
    accepted_weighted: f64,
    device_seconds: f64,
    /// Where the GPU's part of `device_seconds` went; None on the CPU.
    on_device: Option<DeviceSeconds>,
}

impl Stage2<'_, '_> {
    /// Fits the sites of `merger` (after `pending`, sites stage 1 already read), all or the
    /// next `limit` of them, into `sites_path`; the stages' busy seconds join `phases`.
    pub(super) fn fit_sites(
        &self,
        merger: &mut SiteMerger,
        pending: Vec<Site>,
        limit: Option<u64>,
        sites_path: &Path,
        phases: &mut Phases,
    ) -> anyhow::Result<Fitted> {
        let config = self.config;
        let mut gathered = Gathered {
            histogram: FdrHistogram::default(),
            region_sites: Vec::new(),
            finder: if self.shard {
                Finder::Shard(ShardFinder::new(config.dmr, config.threshold))
            } else {
                Finder::Whole(RegionFinder::new(config.dmr, config.threshold))
            },
        };
        let mut totals = SweepTotals::default();
        let mut kept_and_seen = (0, 0);
        // A whole run keeps its DML candidates aside as it writes; a shard's call reads all.
        let candidates_path = sites_path.with_file_name(DML_CANDIDATES_FILE);
        let with_candidates = !self.shard;
        let written = atomic_write(sites_path, |file| {
            let mut candidates_file = match with_candidates {
                true => Some(
                    std::fs::File::create(&candidates_path)
                        .with_context(|| format!("creating {}", candidates_path.display()))?,
                ),
                false => None,
            };
            let writer = SitesWriter::new(
                file,
                candidates_file.as_mut(),
                &self.study.groups,
                self.study.coef_name(),
                self.metadata,
            )?;
            let chromosomes = merger.chromosomes.clone();
            let in_region = |site: &Site| {
                let chr = &chromosomes[site.chr as usize];
                config
                    .draws_regions
                    .iter()
                    .any(|r| r.contains(chr, site.pos))
            };
            let summaries_clock = CoreClock::default();
            std::thread::scope(|scope| -> anyhow::Result<()> {
                let (to_sweep, sweep_in) = sync_channel::<Vec<Site>>(1);
                let (to_summarize, summarize_in) = sync_channel::<(Vec<Site>, SweptChunk)>(1);
                let (to_write, write_in) = sync_channel::<(Vec<Site>, ChunkResult)>(1);
                // Summarised chunks' draw buffers go back to the sweeps, to be filled again:
                // a chunk's draws are 100 MB, whose fresh pages would each fault on first
                // touch.
                let (to_recycle, recycled) = sync_channel::<Vec<f32>>(DRAW_BUFFERS);
                // Written chunks' sites go back to the reader, whose merge reuses their
                // allocations (`SiteMerger::recycle`).
                let (to_reuse, reused) = sync_channel::<Vec<Site>>(DRAW_BUFFERS);
                let chunk_sites = config.fit.chunk_sites;
                let reader = scope.spawn(move || {
                    read_chunks(merger, pending, chunk_sites, limit, to_sweep, reused)
                });
                let (slots, in_region) = (self.study.slots(), &in_region);
                let clock = &summaries_clock;
                let summarizer = scope.spawn(move || {
                    summarize_chunks(
                        summarize_in,
                        to_write,
                        to_recycle,
                        slots,
                        config,
                        in_region,
                        clock,
                    )
                });
                let (gathered, chromosomes, bar) = (&mut gathered, &chromosomes, self.bar);
                let writer_stage = scope.spawn(move || {
                    write_chunks(write_in, to_reuse, writer, chromosomes, gathered, bar)
                });
                // The sweeps here, on the thread that opened the device.
                let swept = self.sweep_chunks(sweep_in, to_summarize, recycled, in_region);
                // The first failure in stage order is the cause; later stages only saw its end.
                let reading = reader.join().expect("reader panicked");
                let summaries = summarizer.join().expect("summaries panicked");
                let writing = writer_stage.join().expect("writer panicked");
                let reading = reading?;
                phases.reading += reading.time.busy;
                phases.core.reading += reading.time.core;
                phases.core.merge_thread += reading.time.own;
                kept_and_seen = reading.kept_and_seen;
                totals = swept.context("stage 2")?;
                phases.site_update += totals.device_seconds;
                if let Some(on_device) = totals.on_device {
                    *phases.on_device.get_or_insert_with(Default::default) += on_device;
                }
                phases.summaries += summaries;
                phases.core.summaries += summaries_clock.seconds();
                let writing = writing?;
                phases.writing += writing.busy;
                phases.core.writing += writing.core;
                phases.core.writer_thread += writing.own;
                Ok(())
            })
        });
        if written.is_err() && with_candidates {
            let _ = std::fs::remove_file(&candidates_path);
        }
        written?;
        Ok(Fitted {
            gathered,
            sites: totals.sites,
            accepted_weighted: totals.accepted_weighted,
            kept_and_seen,
        })
    }

    /// The sweeps: each chunk from the reader swept with stage 1's priors and handed to the
    /// summaries, until the reader ends or a later stage stops.
    fn sweep_chunks(
        &self,
        sweep_in: Receiver<Vec<Site>>,
        to_summarize: SyncSender<(Vec<Site>, SweptChunk)>,
        recycled: Receiver<Vec<f32>>,
        in_region: &dyn Fn(&Site) -> bool,
    ) -> Result<SweepTotals, GpuError> {
        let per_site =
            (self.config.fit.chains * self.config.fit.draws) as usize * self.study.slots().stride;
        let (config, study) = (self.config, self.study);
        let mut totals = SweepTotals::default();
        let before = self.gpu.map(Gpu::seconds);
        // The draws are DRAW_BUFFERS buffers, made by the first chunks and then passed
        // round. (Should the summaries stop, a buffer is made, and the hand-over fails.)
        let mut made = 0;
        for sites in sweep_in {
            let spare = match made {
                DRAW_BUFFERS => recycled.recv().unwrap_or_default(),
                _ => {
                    made += 1;
                    Vec::new()
                }
            };
            let mut chunk = match self.model {
                SiteModel::Groups(stage) => sweep_chunk(
                    stage,
                    &sites,
                    &study.sample_group,
                    study.groups.len(),
                    self.hyper,
                    &config.fit,
                    Contrast {
                        groups: study.compare,
                        threshold: config.threshold,
                    },
                    spare,
                )?,
                SiteModel::Regression(stage) => {
                    sweep_regression_chunk(stage, &sites, self.hyper, &config.fit, spare)?
                }
            };
            if let Some(listed) = &mut chunk.draw_sites {
                // Summarised on the device: only the draws the regions and draws.parquet need.
                let t = Instant::now();
                *listed = sites_needing_draws(&sites, &chunk.recycled, &config.fit, in_region);
                self.model.fetch_draws(listed, per_site, &mut chunk.draws)?;
                chunk.device_seconds += t.elapsed().as_secs_f64();
            }
            totals.device_seconds += chunk.device_seconds;
            totals.sites += sites.len() as u64;
            totals.accepted_weighted += chunk.acceptance * sites.len() as f64;
            if to_summarize.send((sites, chunk)).is_err() {
                break;
            }
        }
        totals.on_device = before
            .zip(self.gpu)
            .map(|(before, gpu)| gpu.seconds() - before);
        Ok(totals)
    }
}

/// A stage thread's busy (wall) seconds, the CPU seconds of its work on every thread, and
/// its own: a stage of one thread keeps pace with the device only while its own CPU time per
/// site is below the device's time per site.
struct StageTime {
    busy: f64,
    core: f64,
    own: f64,
}

/// What the reading thread did: its time (the merge's; the files' parsing threads count
/// theirs in the merger) and the merge's sites kept and seen.
struct Read {
    time: StageTime,
    kept_and_seen: (u64, u64),
}

/// Reading: the merge's sites in chunks of `chunk_sites`, the first completing `pending`,
/// handed to the sweeps until the merge ends, `limit` sites were read or a later stage
/// stops.
fn read_chunks(
    merger: &mut SiteMerger,
    pending: Vec<Site>,
    chunk_sites: usize,
    limit: Option<u64>,
    to_sweep: SyncSender<Vec<Site>>,
    reused: Receiver<Vec<Site>>,
) -> anyhow::Result<Read> {
    let core_start = thread_cpu_seconds();
    let mut seconds = 0.0;
    let mut left = limit.unwrap_or(u64::MAX);
    let mut chunk = pending;
    loop {
        let t = Instant::now();
        let room = (chunk_sites as u64).min(left) as usize;
        let want = room.saturating_sub(chunk.len());
        chunk.extend(next_sites(merger, want)?);
        left = left.saturating_sub(chunk.len() as u64);
        seconds += t.elapsed().as_secs_f64();
        // A failed send: a later stage stopped, and says why.
        if chunk.is_empty() || to_sweep.send(chunk).is_err() {
            let own = thread_cpu_seconds() - core_start;
            return Ok(Read {
                time: StageTime {
                    busy: seconds,
                    core: own,
                    own,
                },
                kept_and_seen: (merger.sites_kept, merger.sites_seen),
            });
        }
        // The next chunk in a written chunk's vector, its sites' allocations taken back.
        chunk = match reused.try_recv() {
            Ok(mut written) => {
                merger.recycle(&mut written);
                written
            }
            Err(_) => Vec::new(),
        };
    }
}

/// The summaries of each swept chunk, with the draws of the sites `in_region` keeps, handed
/// to the writer, and the chunk's draw buffer back to the sweeps; busy seconds (their core
/// seconds, from every thread, go to `clock`).
fn summarize_chunks(
    summarize_in: Receiver<(Vec<Site>, SweptChunk)>,
    to_write: SyncSender<(Vec<Site>, ChunkResult)>,
    to_recycle: SyncSender<Vec<f32>>,
    slots: DrawSlots,
    config: &MethylConfig,
    in_region: &dyn Fn(&Site) -> bool,
    clock: &CoreClock,
) -> f64 {
    let mut seconds = 0.0;
    for (sites, swept) in summarize_in {
        let t = Instant::now();
        let result = summarize_chunk(&sites, &swept, slots, &config.fit, in_region, clock);
        seconds += t.elapsed().as_secs_f64();
        // The channel holds every buffer; once the sweeps have ended, this one is freed.
        let _ = to_recycle.try_send(swept.draws);
        if to_write.send((sites, result)).is_err() {
            break;
        }
    }
    seconds
}

/// Items freed per task of `release`: enough to amortise the task's two reads of its thread's
/// CPU clock.
const RELEASE_BLOCK: usize = 4096;

/// Drops `items` on rayon's threads, in place (`chunks` would move them into new vectors,
/// whose fresh pages cost more than the drops), timing the work on `clock`.
fn release<T: Send>(items: Vec<T>, clock: &CoreClock) {
    items
        .into_par_iter()
        .fold_chunks(RELEASE_BLOCK, thread_cpu_seconds, |start, item| {
            drop(item);
            start
        })
        .for_each(|start| clock.add(thread_cpu_seconds() - start));
}

/// Writing: each chunk's rows to sites.parquet, and what the second pass needs of it
/// (`Gathered`); busy and core seconds, the file's end included.
fn write_chunks(
    write_in: Receiver<(Vec<Site>, ChunkResult)>,
    to_reuse: SyncSender<Vec<Site>>,
    mut writer: SitesWriter,
    chromosomes: &[String],
    gathered: &mut Gathered,
    bar: &ProgressBar,
) -> anyhow::Result<StageTime> {
    let core_start = thread_cpu_seconds();
    let releasing = CoreClock::default();
    let mut seconds = 0.0;
    for (sites, chunk) in write_in {
        let t = Instant::now();
        for (s, draws) in chunk.kept_draws {
            let site = &sites[s];
            gathered.region_sites.push((
                format!("{}:{}", chromosomes[site.chr as usize], site.pos),
                draws,
            ));
        }
        let mut leaning = chunk.leaning_deltas.iter().peekable();
        for (i, s) in chunk.summaries.iter().enumerate() {
            gathered.histogram.add(s.p_above + s.p_below);
            let deltas = match leaning.next_if(|(j, _)| *j == i) {
                Some((_, deltas)) => deltas.as_slice(),
                None => &[],
            };
            let chr = &chromosomes[s.chr as usize];
            gathered
                .finder
                .push(chr, s.pos, s.p_above, s.p_below, deltas);
        }
        writer.write(chromosomes, &chunk.summaries)?;
        bar.inc(sites.len() as u64);
        // The sites back to the reader to be reused, and the summaries and leaning sites'
        // deltas freed on rayon's threads, where they were made: freeing each one's
        // allocation here, on another thread than its own, took a quarter of this thread's
        // time.
        if let Err(TrySendError::Full(sites) | TrySendError::Disconnected(sites)) =
            to_reuse.try_send(sites)
        {
            release(sites, &releasing);
        }
        let (summaries, deltas) = (chunk.summaries, chunk.leaning_deltas);
        rayon::join(
            || release(summaries, &releasing),
            || release(deltas, &releasing),
        );
        seconds += t.elapsed().as_secs_f64();
    }
    let t = Instant::now();
    let parallel = writer.parallel_core_seconds() + releasing.seconds();
    writer.finish()?;
    let own = thread_cpu_seconds() - core_start;
    Ok(StageTime {
        busy: seconds + t.elapsed().as_secs_f64(),
        core: own + parallel,
        own,
    })
}

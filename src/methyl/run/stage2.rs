//! Stage 2: every site, a chunk at a time, through four stages, each on its own thread:
//! reading and merging, the sweeps (GPU or CPU), the summaries, and writing sites.parquet.
//! Channels of one chunk join them and bound memory. The sweeps may take more than one
//! thread (one per site model, `Stage2::models`): the reader deals them the chunks in turn,
//! and the summaries take them back in the same turn, so the chunks stay in genome order.

use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::Context;
use arrow::record_batch::RecordBatch;
use indicatif::ProgressBar;

use crate::io::atomic::atomic_write;
use crate::io::cpu_time::{thread_cpu_seconds, CoreClock};
use crate::kernels::gpu::{Gpu, GpuError};
use crate::methyl::config::MethylConfig;
use crate::methyl::fit::{next_sites, sweep_chunk, Contrast, SweptChunk};
use crate::methyl::hyper::Hyper;
use crate::methyl::merge::{Site, SiteMerger};
use crate::methyl::output::{FdrHistogram, SitesBatches, SitesWriter, DML_CANDIDATES_FILE};
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
    /// One sweep thread per model, each with its own buffers (`sweepers`).
    pub models: &'a [SiteModel<'g>],
    /// The GPU of the models' stages, for its kernel time; None on the CPU.
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

/// A sweep thread's channels: its chunks in (dealt in turn by the reader), its swept chunks
/// out (taken in the same turn by the summaries), and its draw buffers back from them.
struct SweepLane {
    chunks: Receiver<Vec<Site>>,
    out: SyncSender<(Vec<Site>, SweptChunk)>,
    recycled: Receiver<Vec<f32>>,
}

/// The site update's totals over the chunks (of one sweep thread, or of all).
#[derive(Default)]
struct SweepTotals {
    sites: u64,
    accepted_weighted: f64,
    /// Seconds the thread waited for the summaries to take its chunk.
    blocked: f64,
}

impl std::ops::AddAssign for SweepTotals {
    fn add_assign(&mut self, more: SweepTotals) {
        self.sites += more.sites;
        self.accepted_weighted += more.accepted_weighted;
        self.blocked += more.blocked;
    }
}

/// The wall seconds during which at least one sweep thread was busy with a chunk (from its
/// batch to its draws fetched): the site update's busy seconds, however many threads share
/// it.
#[derive(Default)]
struct BusyUnion(Mutex<Busy>);

#[derive(Default)]
struct Busy {
    /// Threads busy now, since when one has been, and the seconds before that.
    threads: usize,
    since: Option<Instant>,
    seconds: f64,
}

impl BusyUnion {
    fn time<R>(&self, work: impl FnOnce() -> R) -> R {
        {
            let mut busy = self.0.lock().expect("busy clock");
            if busy.threads == 0 {
                busy.since = Some(Instant::now());
            }
            busy.threads += 1;
        }
        let result = work();
        let mut busy = self.0.lock().expect("busy clock");
        busy.threads -= 1;
        if busy.threads == 0 {
            busy.seconds += busy.since.take().map_or(0.0, |t| t.elapsed().as_secs_f64());
        }
        result
    }

    fn seconds(&self) -> f64 {
        self.0.lock().expect("busy clock").seconds
    }
}

/// Sends `item`, adding the seconds it waited for room to `blocked`; false where the
/// receiver has stopped.
fn send_timed<T>(to: &SyncSender<T>, item: T, blocked: &mut f64) -> bool {
    let t = Instant::now();
    let sent = to.send(item).is_ok();
    *blocked += t.elapsed().as_secs_f64();
    sent
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
        let sweeping = BusyUnion::default();
        let before = self.gpu.map(Gpu::seconds);
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
                // Per sweep thread: its chunks in, its swept chunks out, and its draw buffers
                // back (a summarised chunk's draws are 100 MB on the host's path, whose fresh
                // pages would each fault on first touch).
                let (mut to_sweep, mut lanes) = (vec![], vec![]);
                let (mut summarize_in, mut to_recycle) = (vec![], vec![]);
                for _ in self.models {
                    let (to, chunks) = sync_channel::<Vec<Site>>(1);
                    let (out, swept) = sync_channel::<(Vec<Site>, SweptChunk)>(1);
                    let (back, recycled) = sync_channel::<Vec<f32>>(DRAW_BUFFERS);
                    to_sweep.push(to);
                    summarize_in.push(swept);
                    to_recycle.push(back);
                    lanes.push(SweepLane {
                        chunks,
                        out,
                        recycled,
                    });
                }
                let (to_write, write_in) = sync_channel::<(Vec<Site>, ChunkResult)>(1);
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
                // The first model's sweeps here, on the thread that opened the device; any
                // others' on threads of their own.
                let mut lanes = self.models.iter().zip(lanes);
                let (first, first_lane) = lanes.next().expect("at least one model");
                let sweeping = &sweeping;
                let others: Vec<_> = lanes
                    .map(|(model, lane)| {
                        scope.spawn(move || self.sweep_chunks(model, lane, in_region, sweeping))
                    })
                    .collect();
                let swept = self.sweep_chunks(first, first_lane, in_region, sweeping);
                let swept = others
                    .into_iter()
                    .map(|t| t.join().expect("sweeps panicked"))
                    .fold(swept, |all, one| {
                        let (mut all, one) = (all?, one?);
                        all += one;
                        Ok(all)
                    });
                // The first failure in stage order is the cause; later stages only saw its end.
                let reading = reader.join().expect("reader panicked");
                let summaries = summarizer.join().expect("summaries panicked");
                let writing = writer_stage.join().expect("writer panicked");
                let reading = reading?;
                phases.reading += reading.time.busy;
                phases.core.reading += reading.time.core;
                phases.core.merge_thread += reading.time.own;
                phases.blocked.reading += reading.blocked;
                kept_and_seen = reading.kept_and_seen;
                totals = swept.context("stage 2")?;
                phases.site_update += sweeping.seconds();
                phases.blocked.site_update += totals.blocked;
                if let Some((before, gpu)) = before.zip(self.gpu) {
                    *phases.on_device.get_or_insert_with(Default::default) +=
                        gpu.seconds() - before;
                }
                let (summaries, blocked) = summaries;
                phases.summaries += summaries;
                phases.blocked.summaries += blocked;
                phases.core.summaries += summaries_clock.seconds();
                let writing = writing?;
                phases.writing += writing.time.busy;
                phases.core.writing += writing.time.core;
                phases.core.writer_thread += writing.time.own;
                phases.core.append_thread += writing.appending_own;
                phases.blocked.writing += writing.blocked;
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

    /// One sweep thread: each chunk from the reader swept on `model` with stage 1's priors
    /// and handed to the summaries, until the reader ends or a later stage stops; its busy
    /// time on `sweeping`.
    fn sweep_chunks(
        &self,
        model: &SiteModel,
        lane: SweepLane,
        in_region: &dyn Fn(&Site) -> bool,
        sweeping: &BusyUnion,
    ) -> Result<SweepTotals, GpuError> {
        let SweepLane {
            chunks,
            out,
            recycled,
        } = lane;
        let per_site =
            (self.config.fit.chains * self.config.fit.draws) as usize * self.study.slots().stride;
        let mut totals = SweepTotals::default();
        // The draws are DRAW_BUFFERS buffers, made by the first chunks and then passed
        // round. (Should the summaries stop, a buffer is made, and the hand-over fails.)
        let mut made = 0;
        for sites in chunks {
            let spare = match made {
                DRAW_BUFFERS => recycled.recv().unwrap_or_default(),
                _ => {
                    made += 1;
                    Vec::new()
                }
            };
            let chunk = sweeping.time(|| self.sweep(model, &sites, spare, per_site, in_region))?;
            totals.sites += sites.len() as u64;
            totals.accepted_weighted += chunk.acceptance * sites.len() as f64;
            if !send_timed(&out, (sites, chunk), &mut totals.blocked) {
                break;
            }
        }
        Ok(totals)
    }

    /// A chunk swept on `model`, with the draws the host needs where the device summarised.
    fn sweep(
        &self,
        model: &SiteModel,
        sites: &[Site],
        spare: Vec<f32>,
        per_site: usize,
        in_region: &dyn Fn(&Site) -> bool,
    ) -> Result<SweptChunk, GpuError> {
        let (config, study) = (self.config, self.study);
        let mut chunk = match model {
            SiteModel::Groups(stage) => sweep_chunk(
                stage,
                sites,
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
                sweep_regression_chunk(stage, sites, self.hyper, &config.fit, spare)?
            }
        };
        if let Some(listed) = &mut chunk.draw_sites {
            // Summarised on the device: only the draws the regions and draws.parquet need.
            *listed = sites_needing_draws(sites, &chunk.recycled, &config.fit, in_region);
            model.fetch_draws(listed, per_site, &mut chunk.draws)?;
        }
        Ok(chunk)
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
    /// Seconds it waited for the sweeps to take a chunk.
    blocked: f64,
}

/// Reading: the merge's sites in chunks of `chunk_sites`, the first completing `pending`,
/// dealt to the sweep threads in turn until the merge ends, `limit` sites were read or a
/// later stage stops.
fn read_chunks(
    merger: &mut SiteMerger,
    pending: Vec<Site>,
    chunk_sites: usize,
    limit: Option<u64>,
    to_sweep: Vec<SyncSender<Vec<Site>>>,
    reused: Receiver<Vec<Site>>,
) -> anyhow::Result<Read> {
    let core_start = thread_cpu_seconds();
    let (mut seconds, mut blocked) = (0.0, 0.0);
    let mut left = limit.unwrap_or(u64::MAX);
    let mut chunk = pending;
    for turn in (0..to_sweep.len()).cycle() {
        let t = Instant::now();
        let room = (chunk_sites as u64).min(left) as usize;
        let want = room.saturating_sub(chunk.len());
        chunk.extend(next_sites(merger, want)?);
        left = left.saturating_sub(chunk.len() as u64);
        seconds += t.elapsed().as_secs_f64();
        // A failed send: a later stage stopped, and says why.
        if chunk.is_empty() || !send_timed(&to_sweep[turn], chunk, &mut blocked) {
            break;
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
    let own = thread_cpu_seconds() - core_start;
    Ok(Read {
        time: StageTime {
            busy: seconds,
            core: own,
            own,
        },
        kept_and_seen: (merger.sites_kept, merger.sites_seen),
        blocked,
    })
}

/// The summaries of each swept chunk, taken from the sweep threads in the turn the reader
/// dealt them, with the draws of the sites `in_region` keeps, handed to the writer, and the
/// chunk's draw buffer back to its sweep thread; busy seconds and the seconds it waited for
/// the writer (their core seconds, from every thread, go to `clock`).
fn summarize_chunks(
    summarize_in: Vec<Receiver<(Vec<Site>, SweptChunk)>>,
    to_write: SyncSender<(Vec<Site>, ChunkResult)>,
    to_recycle: Vec<SyncSender<Vec<f32>>>,
    slots: DrawSlots,
    config: &MethylConfig,
    in_region: &dyn Fn(&Site) -> bool,
    clock: &CoreClock,
) -> (f64, f64) {
    let (mut seconds, mut blocked) = (0.0, 0.0);
    // The reader dealt chunk i to thread i mod n: the first thread with none left ends them.
    for turn in (0..summarize_in.len()).cycle() {
        let Ok((sites, swept)) = summarize_in[turn].recv() else {
            break;
        };
        let t = Instant::now();
        let result = summarize_chunk(&sites, &swept, slots, &config.fit, in_region, clock);
        seconds += t.elapsed().as_secs_f64();
        // The channel holds every buffer; once the sweeps have ended, this one is freed.
        let _ = to_recycle[turn].try_send(swept.draws);
        if !send_timed(&to_write, (sites, result), &mut blocked) {
            break;
        }
    }
    (seconds, blocked)
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

/// What the writing threads did: the writer's time (busy: the busier of the two threads;
/// core: both threads' and their parallel work), the appender's own CPU seconds, and the
/// seconds the writer waited for the appender to take a batch.
struct Written {
    time: StageTime,
    appending_own: f64,
    blocked: f64,
}

/// Writing: each chunk's rows as a record batch, handed to a thread of its own that appends
/// it to sites.parquet (`append_batches`), so that one chunk's columns encode while the next
/// one's are made; and what the second pass needs of it (`Gathered`). The file's end is
/// included.
fn write_chunks(
    write_in: Receiver<(Vec<Site>, ChunkResult)>,
    to_reuse: SyncSender<Vec<Site>>,
    writer: SitesWriter,
    chromosomes: &[String],
    gathered: &mut Gathered,
    bar: &ProgressBar,
) -> anyhow::Result<Written> {
    let batches = writer.batches();
    std::thread::scope(|scope| {
        let (to_append, append_in) = sync_channel::<RecordBatch>(1);
        let appender = scope.spawn(move || append_batches(append_in, writer));
        let made = make_batches(
            write_in,
            to_reuse,
            &batches,
            to_append,
            chromosomes,
            gathered,
            bar,
        );
        // The appender's failure is the cause: the writer only saw its channel close.
        let appended = appender.join().expect("appender panicked")?;
        let (made, blocked) = made?;
        Ok(Written {
            time: StageTime {
                busy: made.busy.max(appended.busy),
                core: made.core + appended.core,
                own: made.own,
            },
            appending_own: appended.own,
            blocked,
        })
    })
}

/// The appender: each batch as sites.parquet's next row group, then the file's end.
fn append_batches(
    append_in: Receiver<RecordBatch>,
    mut writer: SitesWriter,
) -> anyhow::Result<StageTime> {
    let core_start = thread_cpu_seconds();
    let mut seconds = 0.0;
    for batch in append_in {
        let t = Instant::now();
        writer.append(&batch)?;
        seconds += t.elapsed().as_secs_f64();
    }
    let t = Instant::now();
    let parallel = writer.parallel_core_seconds();
    writer.finish()?;
    let own = thread_cpu_seconds() - core_start;
    Ok(StageTime {
        busy: seconds + t.elapsed().as_secs_f64(),
        core: own + parallel,
        own,
    })
}

/// The writer's own thread: the rows in order into `gathered`, each chunk's record batch to
/// the appender, and the chunk's memory back or freed; its time, and the seconds it waited
/// for the appender.
fn make_batches(
    write_in: Receiver<(Vec<Site>, ChunkResult)>,
    to_reuse: SyncSender<Vec<Site>>,
    batches: &SitesBatches,
    to_append: SyncSender<RecordBatch>,
    chromosomes: &[String],
    gathered: &mut Gathered,
    bar: &ProgressBar,
) -> anyhow::Result<(StageTime, f64)> {
    let core_start = thread_cpu_seconds();
    let releasing = CoreClock::default();
    let (mut seconds, mut blocked) = (0.0, 0.0);
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
        let batch = batches.batch(chromosomes, &chunk.summaries)?;
        let blocked_before = blocked;
        if !send_timed(&to_append, batch, &mut blocked) {
            break; // the appender failed, and says why
        }
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
        // Busy: the chunk's work, not the wait for the appender.
        seconds += t.elapsed().as_secs_f64() - (blocked - blocked_before);
    }
    let own = thread_cpu_seconds() - core_start;
    let time = StageTime {
        busy: seconds,
        core: own + releasing.seconds(),
        own,
    };
    Ok((time, blocked))
}

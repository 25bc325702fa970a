//! Stage 1's uniform sample of a genome's sites without a pass of its own. The scan that
//! finds each file's chromosome order already parses every record, one thread per file;
//! there each file also keeps the records of lowest hash of (chromosome, position), a hash
//! every file computes alike. The positions whose hash is at most the smallest of the
//! files' largest kept hashes are then in every file's sample that holds them, so they
//! merge into whole sites: a uniform random sample of the positions, from which those that
//! pass the filter are taken in hash order. At genome scale the reservoir's pass over the
//! merged files took a quarter of the H100's run (about 28 of 112 s for 28M sites), with
//! the GPU idle.

use std::collections::{BTreeMap, BinaryHeap};

use crate::methyl::formats::{CountRecord, Strand};
use crate::rng::{chromosome_key, sample_hash};

/// Records in a study's largest file from which stage 1 samples during the scan: below, the
/// reservoir's pass is cheap, and a study within one chunk needs that pass anyway (its sites
/// are kept for stage 2, which then reads nothing again).
pub const SCAN_SAMPLE_FROM: u64 = 1_000_000;
/// Records each file keeps per stage-1 site: enough that the filter (every group covered)
/// still leaves the sites stage 1 asks for, unless it drops more than 15 of 16 positions;
/// then the run falls back to the reservoir's pass.
pub const SCAN_SAMPLE_PER_SITE: usize = 16;

/// Bytes all files' kept records may take: 64 MiB, 2.1M records of 32 bytes.
pub const SCAN_SAMPLE_BYTES: usize = 64 << 20;

/// Records each of `n_files` files keeps for `hyper_sites` stage-1 sites: SCAN_SAMPLE_PER_SITE
/// per site, fewer where that would pass SCAN_SAMPLE_BYTES (from 66 samples at the default
/// 2,000 sites; with fewer kept, a strict filter falls back to the reservoir sooner).
pub fn scan_records_per_file(hyper_sites: usize, n_files: usize) -> usize {
    const _: () = assert!(std::mem::size_of::<Kept>() == 32);
    let budget = SCAN_SAMPLE_BYTES / (n_files.max(1) * std::mem::size_of::<Kept>());
    hyper_sites
        .saturating_mul(SCAN_SAMPLE_PER_SITE)
        .min(budget)
        .max(hyper_sites)
}

/// The hash's seed and the records each file keeps.
#[derive(Debug, Clone, Copy)]
pub struct ScanSampling {
    pub seed: u32,
    pub per_file: usize,
    pub merge_strands: bool,
}

/// A kept record, compactly (32 bytes; a study of 200 samples keeps 200 files' worth):
/// its position strand-merged as the merge does it.
#[derive(Debug, Clone, Copy)]
pub struct Kept {
    pub(crate) hash: u64,
    pub(crate) pos: u64,
    /// `rng::chromosome_key` of its chromosome's name.
    pub(crate) chr_key: u32,
    pub(crate) methylated: u32,
    pub(crate) total: u32,
}

/// One file's records of lowest hash, as its scan found them.
#[derive(Debug, Default)]
pub(crate) struct FileSample {
    pub(crate) records: Vec<Kept>,
    /// The file had more records than it kept.
    pub(crate) truncated: bool,
    /// Records the file had.
    pub(crate) seen: u64,
}

/// The records of lowest hash of one file, kept as its records stream past.
pub(crate) struct BottomK {
    sampling: ScanSampling,
    /// (hash, index into `records`), the largest hash on top.
    heap: BinaryHeap<(u64, usize)>,
    records: Vec<Kept>,
    seen: u64,
    /// The current chromosome and its key.
    chromosome: Option<(String, u32)>,
}

impl BottomK {
    pub(crate) fn new(sampling: ScanSampling) -> BottomK {
        BottomK {
            sampling,
            heap: BinaryHeap::new(),
            records: Vec::new(),
            seen: 0,
            chromosome: None,
        }
    }

    pub(crate) fn observe(&mut self, record: &CountRecord) {
        self.seen += 1;
        let key = match &self.chromosome {
            Some((chr, key)) if *chr == record.chr => *key,
            _ => {
                let key = chromosome_key(&record.chr);
                self.chromosome = Some((record.chr.clone(), key));
                key
            }
        };
        // The C of a CpG's minus strand is one base after the plus strand's C.
        let pos = match self.sampling.merge_strands && record.strand == Strand::Minus {
            true => record.pos - 1,
            false => record.pos,
        };
        let hash = sample_hash(self.sampling.seed, key, pos);
        let full = self.heap.len() >= self.sampling.per_file;
        if full && self.heap.peek().is_some_and(|&(top, _)| hash >= top) {
            return;
        }
        let kept = Kept {
            hash,
            pos,
            chr_key: key,
            methylated: record.methylated,
            total: record.total,
        };
        let slot = match full {
            true => self.heap.pop().expect("full").1,
            false => {
                self.records.push(kept);
                self.records.len() - 1
            }
        };
        self.records[slot] = kept;
        self.heap.push((hash, slot));
    }

    pub(crate) fn finish(self) -> FileSample {
        FileSample {
            truncated: self.seen > self.records.len() as u64,
            seen: self.seen,
            records: self.records,
        }
    }
}

/// A sample's (methylated, total) at a position, where its file has the position.
type SampleCounts = Option<(u32, u32)>;

/// A sampled site: its chromosome's index, its position, and (sample, methylated, total) of
/// the samples that pass the coverage filter.
pub(crate) type SampledSite = (usize, u64, Vec<(u32, u32, u32)>);

/// Up to `k` sites passing the filter (a sample counts from `min_coverage` reads; every group
/// needs `min_samples` such samples), uniformly at random, from the files' samples (in sheet
/// order), or None when the samples hold fewer than `k` passing sites but not every record.
pub(crate) fn sample_sites(
    files: &[FileSample],
    chromosomes: &[String],
    sample_group: &[u32],
    (min_coverage, min_samples): (u32, u32),
    k: usize,
) -> Option<Vec<SampledSite>> {
    // Every position at or below this hash is in every file's sample that holds it.
    let limit = files
        .iter()
        .filter(|f| f.truncated)
        .filter_map(|f| f.records.iter().map(|r| r.hash).max())
        .min()
        .unwrap_or(u64::MAX);
    // Chromosomes by key (keys shared by two names share random streams already: rng).
    let index: BTreeMap<u32, usize> = chromosomes
        .iter()
        .enumerate()
        .map(|(i, c)| (chromosome_key(c), i))
        .collect();
    // (hash, chromosome, position) -> each sample's (methylated, total), strands summed.
    let mut positions: BTreeMap<(u64, usize, u64), Vec<SampleCounts>> = BTreeMap::new();
    for (sample, file) in files.iter().enumerate() {
        for record in file.records.iter().filter(|r| r.hash <= limit) {
            let chr = *index.get(&record.chr_key)?;
            let counts = positions
                .entry((record.hash, chr, record.pos))
                .or_insert_with(|| vec![None; files.len()]);
            let (m, n) = counts[sample].unwrap_or((0, 0));
            counts[sample] = Some((m + record.methylated, n + record.total));
        }
    }
    let n_groups = sample_group.iter().max().map_or(0, |&g| g as usize + 1);
    let mut sites = Vec::with_capacity(k);
    for ((_, chr, pos), counts) in positions {
        if sites.len() == k {
            break;
        }
        let mut per_group = vec![0u32; n_groups];
        let kept: Vec<(u32, u32, u32)> = (0..files.len())
            .filter_map(|s| {
                let (m, n) = counts[s]?;
                (n >= min_coverage && n > 0).then(|| {
                    per_group[sample_group[s] as usize] += 1;
                    (s as u32, m, n)
                })
            })
            .collect();
        if per_group.iter().all(|&g| g >= min_samples) {
            sites.push((chr, pos, kept));
        }
    }
    let complete = files.iter().all(|f| !f.truncated);
    (sites.len() == k || complete).then_some(sites)
}

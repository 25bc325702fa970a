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

use rayon::slice::ParallelSliceMut;

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
/// per site, fewer where that would pass SCAN_SAMPLE_BYTES (from 7 samples at the default
/// most of 20,000 sites; with fewer kept, stage 1 gets fewer sites, and a strict filter falls
/// back to the reservoir sooner).
pub fn scan_records_per_file(hyper_sites: usize, n_files: usize) -> usize {
    const _: () = assert!(std::mem::size_of::<Kept>() == 32);
    let budget = SCAN_SAMPLE_BYTES / (n_files.max(1) * std::mem::size_of::<Kept>());
    hyper_sites
        .saturating_mul(SCAN_SAMPLE_PER_SITE)
        .min(budget)
        .max(hyper_sites)
}

/// How many sites stage 1 learns the genome-wide priors from: a share of the sites that pass
/// the filters, from `least` to `most` (all of them where fewer pass).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HyperSites {
    pub share: f64,
    pub least: usize,
    pub most: usize,
}

impl HyperSites {
    /// Exactly `n` sites (all of them where fewer pass), as `--hyper-sites n` asks.
    pub fn exactly(n: usize) -> HyperSites {
        HyperSites {
            share: 0.0,
            least: n,
            most: n,
        }
    }

    /// Stage 1's sites in a study of which `passing` sites pass the filters.
    pub fn of(&self, passing: u64) -> usize {
        let share = (self.share * passing as f64).round() as usize;
        share
            .clamp(self.least, self.most)
            .min(usize::try_from(passing).unwrap_or(usize::MAX))
    }

    /// At most `n` sites, whatever the study (a GPU's binding holds no more).
    pub fn at_most(&self, n: usize) -> HyperSites {
        HyperSites {
            least: self.least.min(n),
            most: self.most.min(n),
            ..*self
        }
    }
}

impl std::fmt::Display for HyperSites {
    /// `2000 sites` for a fixed count; `10% of the sites (2000 to 20000)` for a share.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.least == self.most {
            write!(f, "{} sites", self.most)
        } else {
            let percent = 100.0 * self.share;
            write!(
                f,
                "{percent}% of the sites ({} to {})",
                self.least, self.most
            )
        }
    }
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
    /// Its line in the file (wrapping at 2^32): ties of hash, a CpG's two strands with
    /// `--merge-strands`, go to the earlier line, however the file's scan was split.
    pub(crate) line: u32,
}

impl Kept {
    fn key(&self) -> (u64, u32) {
        (self.hash, self.line)
    }
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

/// Each of a file's byte ranges keeps this many times its share of the file's records (and
/// at least RANGE_KEPT_LEAST, or all of them): the scan's kept records then stay within a
/// quarter of SCAN_SAMPLE_BYTES however many ranges there are. A range holds more of the
/// file's lowest records than it keeps only some 80 sds out (80,000 expected, sd 245, at the
/// genome's 320,000 a file in 4 ranges); then the file keeps fewer (`FileSample::merge`).
const RANGE_KEPT_SLACK: f64 = 1.25;
/// Fewest records a range keeps, below which a share is too small to be sure of.
const RANGE_KEPT_LEAST: usize = 4096;

/// Records each of `ranges` byte ranges of a file keeps, for `per_file` of the whole file.
pub(crate) fn range_records(per_file: usize, ranges: usize) -> usize {
    let share = (RANGE_KEPT_SLACK * per_file as f64 / ranges.max(1) as f64).ceil() as usize;
    share.max(RANGE_KEPT_LEAST).min(per_file)
}

impl FileSample {
    /// One file's sample from the samples of its byte ranges (`per_file` records at most):
    /// the records of lowest (hash, line) of them all, as far as every range kept them. A
    /// range that kept fewer than it had holds all of its records up to its largest kept;
    /// the lowest of those bounds where the file's sample is whole, and beyond it the file
    /// keeps nothing (stage 1 then takes its sites below, as for a truncated file).
    pub(crate) fn merge(parts: Vec<FileSample>, per_file: usize) -> FileSample {
        let seen = parts.iter().map(|p| p.seen).sum();
        let whole_to = (parts.iter())
            .filter(|p| p.truncated)
            .filter_map(|p| p.records.iter().map(Kept::key).max())
            .min();
        let mut records: Vec<Kept> = (parts.into_iter())
            .flat_map(|p| p.records)
            .filter(|k| whole_to.is_none_or(|to| k.key() <= to))
            .collect();
        if records.len() > per_file {
            records.select_nth_unstable_by_key(per_file, Kept::key);
            records.truncate(per_file);
        }
        FileSample {
            truncated: seen > records.len() as u64,
            seen,
            records,
        }
    }
}

/// The records of lowest hash of one file, kept as its records stream past.
pub(crate) struct BottomK {
    sampling: ScanSampling,
    /// ((hash, line), index into `records`), the largest on top.
    heap: BinaryHeap<((u64, u32), usize)>,
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

    pub(crate) fn observe(&mut self, record: &CountRecord<&str>, line: usize) {
        self.seen += 1;
        let key = match &self.chromosome {
            Some((chr, key)) if chr == record.chr => *key,
            _ => {
                let key = chromosome_key(record.chr);
                self.chromosome = Some((record.chr.to_string(), key));
                key
            }
        };
        // The C of a CpG's minus strand is one base after the plus strand's C.
        let pos = match self.sampling.merge_strands && record.strand == Strand::Minus {
            true => record.pos - 1,
            false => record.pos,
        };
        let kept = Kept {
            hash: sample_hash(self.sampling.seed, key, pos),
            pos,
            chr_key: key,
            methylated: record.methylated,
            total: record.total,
            line: line as u32,
        };
        let full = self.heap.len() >= self.sampling.per_file;
        if full && self.heap.peek().is_some_and(|&(top, _)| kept.key() >= top) {
            return;
        }
        let slot = match full {
            true => self.heap.pop().expect("full").1,
            false => {
                self.records.push(kept);
                self.records.len() - 1
            }
        };
        self.records[slot] = kept;
        self.heap.push((kept.key(), slot));
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

/// Stage 1's sites (`hyper.of` the study's passing sites, which the sample's hashes estimate)
/// among those passing the filter (a sample counts from `min_coverage` reads; every group
/// needs `min_samples` such samples), uniformly at random, from the files' samples (in sheet
/// order), or None when the samples hold too few passing sites but not every record.
pub(crate) fn sample_sites(
    files: &[FileSample],
    chromosomes: &[String],
    sample_group: &[u32],
    (min_coverage, min_samples): (u32, u32),
    hyper: HyperSites,
) -> Option<Vec<SampledSite>> {
    // Every position below the smallest of the truncated files' largest kept hashes is in
    // every file's sample that holds it. One at that hash may have lost a record there (a
    // CpG's other strand, of equal hash), so it is left out.
    let limit = files
        .iter()
        .filter(|f| f.truncated)
        .filter_map(|f| f.records.iter().map(|r| r.hash).max())
        .min()
        .map_or(u64::MAX, |h| h.saturating_sub(1));
    // Chromosomes by key (keys shared by two names share random streams already: rng).
    let index: BTreeMap<u32, usize> = chromosomes
        .iter()
        .enumerate()
        .map(|(i, c)| (chromosome_key(c), i))
        .collect();
    // Every kept record at or below the limit, sorted by (hash, chromosome, position, sample):
    // a position's records are then neighbours, positions in hash order. (A map of positions
    // made reading 1.21 busy s on 1M sites of 4 files at 20,000 stage-1 sites; this, 0.7.)
    let mut records: Vec<(u64, u32, u64, u32, u32, u32)> = Vec::new();
    for (sample, file) in files.iter().enumerate() {
        for r in file.records.iter().filter(|r| r.hash <= limit) {
            let chr = *index.get(&r.chr_key)? as u32;
            records.push((r.hash, chr, r.pos, sample as u32, r.methylated, r.total));
        }
    }
    records.par_sort_unstable();
    let n_groups = sample_group.iter().max().map_or(0, |&g| g as usize + 1);
    let mut sites = Vec::with_capacity(hyper.most);
    // The hash up to which every passing position is in `sites`.
    let mut covered = limit;
    let mut counts: Vec<SampleCounts> = vec![None; files.len()];
    for position in records.chunk_by(|x, y| (x.0, x.1, x.2) == (y.0, y.1, y.2)) {
        let (hash, chr, pos, ..) = position[0];
        if sites.len() == hyper.most {
            covered = hash.saturating_sub(1);
            break;
        }
        // Each sample's (methylated, total), strands summed.
        counts.fill(None);
        for &(.., sample, m, n) in position {
            let (m0, n0) = counts[sample as usize].unwrap_or((0, 0));
            counts[sample as usize] = Some((m0 + m, n0 + n));
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
            sites.push((chr as usize, pos, kept));
        }
    }
    // The hashes are uniform, so the passing positions up to `covered` are that share of the
    // genome's (the bottom-k estimate of a count).
    let passing = if covered == u64::MAX {
        sites.len() as u64
    } else {
        (sites.len() as f64 / ((covered as f64 + 1.0) / 2f64.powi(64))) as u64
    };
    // Fewer than the share where the files' kept records (SCAN_SAMPLE_BYTES) ran out first,
    // as long as they reach the least: a pass of the reservoir costs a genome's reading.
    let k = hyper.of(passing);
    (sites.len() >= k.min(hyper.least)).then(|| {
        sites.truncate(k);
        sites
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(hash: u64, pos: u64, line: u32, methylated: u32) -> Kept {
        Kept {
            hash,
            pos,
            chr_key: chromosome_key("chr1"),
            methylated,
            total: 10,
            line,
        }
    }

    /// A CpG's two strands (pos 100, lines 5 and 6) share a hash, merged onto one position.
    fn records() -> Vec<Kept> {
        vec![
            kept(5, 200, 1, 3),
            kept(7, 300, 3, 4),
            kept(10, 100, 5, 5),
            kept(10, 100, 6, 6),
        ]
    }

    /// The merge of a file's ranges keeps its records of lowest (hash, line), as one scan of
    /// the whole file keeps them: of a tie, the earlier line.
    #[test]
    fn a_files_ranges_merge_into_its_sample() {
        let whole = records();
        let parts = vec![
            FileSample {
                records: vec![whole[3], whole[0]],
                truncated: false,
                seen: 2,
            },
            FileSample {
                records: vec![whole[2], whole[1]],
                truncated: false,
                seen: 5,
            },
        ];
        let merged = FileSample::merge(parts, 3);
        let mut lines: Vec<u32> = merged.records.iter().map(|k| k.line).collect();
        lines.sort_unstable();
        assert_eq!(
            (lines, merged.seen, merged.truncated),
            (vec![1, 3, 5], 7, true)
        );
    }

    /// A position at the limit (the smallest of the truncated files' largest kept hashes) is
    /// left out: the file that set the limit may have kept one of its strands' records, of
    /// equal hash, and dropped the other.
    #[test]
    fn a_position_at_the_limit_is_left_out() {
        let whole = records();
        // The first file kept pos 100's plus strand and dropped its minus strand (line 6).
        let truncated = FileSample {
            records: whole[..3].to_vec(),
            truncated: true,
            seen: 9,
        };
        let complete = FileSample {
            records: whole.clone(),
            truncated: false,
            seen: 4,
        };
        let hyper = HyperSites {
            share: 1.0,
            least: 1,
            most: 10,
        };
        let sites = sample_sites(
            &[truncated, complete],
            &["chr1".to_string()],
            &[0, 1],
            (1, 1),
            hyper,
        )
        .expect("two whole positions");
        let positions: Vec<u64> = sites.iter().map(|s| s.1).collect();
        assert_eq!(positions, [200, 300]);
    }

    /// A range that kept fewer records than it had bounds where the file's sample is whole:
    /// the merge keeps only the records up to that range's largest kept.
    #[test]
    fn a_range_that_ran_short_bounds_the_files_sample() {
        let part = |hashes: &[u64], seen: u64| FileSample {
            records: hashes
                .iter()
                .map(|&h| kept(h, 100 * h, h as u32, 1))
                .collect(),
            truncated: seen > hashes.len() as u64,
            seen,
        };
        let merged = |per_file: usize| {
            let parts = vec![part(&[1, 3, 9], 10), part(&[2, 4], 10), part(&[5], 1)];
            let mut hashes: Vec<u64> = (FileSample::merge(parts, per_file).records.iter())
                .map(|k| k.hash)
                .collect();
            hashes.sort_unstable();
            hashes
        };
        // The second range kept up to hash 4 of its 10 records: 5 and 9 may have company
        // there that it dropped.
        assert_eq!(merged(10), [1, 2, 3, 4]);
        assert_eq!(merged(3), [1, 2, 3]);
        assert_eq!(range_records(320_000, 4), 100_000);
        assert_eq!(range_records(300, 250), 300);
        assert_eq!(range_records(10_000, 1), 10_000);
    }
}

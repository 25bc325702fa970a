//! Streaming merge of per-sample count files into sites: every file is read once, line by
//! line, never whole; inputs must be sorted (chromosomes contiguous, positions increasing),
//! and chromosomes must come in one order across samples. A first, cheap pass over each
//! file's chromosome column learns that order (and finds a chromosome that reappears).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::UserError;
use crate::io::cpu_time::CoreClock;
use crate::methyl::formats::{CountRecord, Format, ModCode, Strand};
use crate::methyl::interval::Region;
use crate::methyl::lines::{plain_text_size, ChromosomeTable, Lines, RecordFeed};
use crate::methyl::scan_sample::{
    range_records, sample_sites, BottomK, FileSample, HyperSites, ScanSampling,
};
use crate::methyl::sheet::{Sample, SampleSheet};
use crate::rng::chromosome_key;

/// One byte range's chromosomes as its scan met them: each run of a chromosome with its first
/// line, up to and including the first that comes back within the range (an unsorted file),
/// and the error that ended the range, if one did.
pub(crate) struct ScanRuns {
    runs: Vec<(String, usize)>,
    other_codes: BTreeSet<String>,
    long: bool,
    error: Option<UserError>,
}

/// Scans `lines` to their end, showing `observe` each record with its line.
fn scan_runs(mut lines: Lines, observe: &mut dyn FnMut(&CountRecord<&str>, usize)) -> ScanRuns {
    let mut runs: Vec<(String, usize)> = Vec::new();
    let mut met: HashSet<u32> = HashSet::new();
    let mut last: Option<u32> = None;
    let error = loop {
        match lines.next_record() {
            Ok(Some((line, record))) => {
                let name = lines.chromosomes.name(record.chr);
                observe(&record.with_chr(name), line);
                if last == Some(record.chr) {
                    continue;
                }
                last = Some(record.chr);
                runs.push((name.to_string(), line));
                if !met.insert(record.chr) {
                    break None;
                }
            }
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    ScanRuns {
        runs,
        other_codes: std::mem::take(&mut lines.other_codes),
        long: lines.long.is_some(),
        error,
    }
}

/// The chromosomes of one file in order of appearance, from its ranges' runs in file order;
/// a chromosome that comes back after another is an unsorted file. The first problem in the
/// file's order is the one reported, as a scan of the whole file by one thread finds it.
pub(crate) fn chromosome_order(
    path: &Path,
    sample: &str,
    mod_code: ModCode,
    ranges: Vec<ScanRuns>,
) -> Result<Vec<String>, UserError> {
    let path = path.display().to_string();
    let long = ranges.first().is_some_and(|r| r.long);
    let mut order: Vec<String> = Vec::new();
    let mut first_line: HashMap<String, usize> = HashMap::new();
    let mut other_codes: BTreeSet<String> = BTreeSet::new();
    for range in ranges {
        for (chr, line) in range.runs {
            if order.last().is_some_and(|c| *c == chr) {
                continue; // the previous range's last chromosome goes on
            }
            if let Some(first) = first_line.get(&chr) {
                return Err(UserError(format!(
                    "{path}:{line}: unsorted: chromosome {chr} appears again after {} (first on line {first}); sort by chromosome, then position",
                    order.last().map_or("", String::as_str)
                )));
            }
            first_line.insert(chr.clone(), line);
            order.push(chr);
        }
        if let Some(e) = range.error {
            return Err(e);
        }
        other_codes.extend(range.other_codes);
    }
    let others: Vec<&str> = other_codes.iter().map(String::as_str).collect();
    // A sample without a count would silently drop out of every site: most likely the
    // wrong file, or a long table without this sample's rows.
    if order.is_empty() && !others.is_empty() {
        return Err(UserError(format!(
            "{path}: no rows of modification code {mod_code}, only of {}; choose one with --mod-code",
            others.join(", ")
        )));
    }
    if !others.is_empty() {
        eprintln!(
            "betagibbs: {path}: using its rows of modification code {mod_code}, not those of {} (--mod-code)",
            others.join(", ")
        );
    }
    if order.is_empty() {
        return Err(UserError(match long {
            true => format!("{path}: no rows of sample {sample:?} in this long table"),
            false => {
                format!("{path}: no counts for sample {sample:?} (the file holds no data lines)")
            }
        }));
    }
    Ok(order)
}

/// Fewest bytes of a plain-text file per scanning thread: parsing 8 MiB takes ~0.05 s here,
/// far more than a thread's start; each range also counts the lines before it, for messages.
const MIN_SCAN_RANGE_BYTES: u64 = 8 << 20;

/// Byte ranges per file for the chromosome scan, whose threads bound a genome's reading
/// before stage 1 (the GPU idle): each plain-text file its share of `threads` by size, at
/// least one and no range under MIN_SCAN_RANGE_BYTES; gzip and Parquet files (size None) one.
pub(crate) fn scan_ranges(sizes: &[Option<u64>], threads: usize) -> Vec<usize> {
    let total: u64 = sizes.iter().flatten().sum();
    // A gzip or Parquet file's thread is its own.
    let threads = threads.saturating_sub(sizes.iter().filter(|s| s.is_none()).count());
    sizes
        .iter()
        .map(|size| match size {
            Some(bytes) if total > 0 => {
                let share = (threads as f64 * *bytes as f64 / total as f64).round() as u64;
                share.clamp(1, (bytes / MIN_SCAN_RANGE_BYTES).max(1)) as usize
            }
            _ => 1,
        })
        .collect()
}

/// Range `r` of the `n` byte ranges of `s`'s file (of `size` bytes where it splits) scanned
/// on this thread: its runs of chromosomes, and its records of lowest hash where `sampling`.
fn scan_range(
    s: &Sample,
    filter: SiteFilter,
    sampling: Option<ScanSampling>,
    (r, n, size): (usize, usize, u64),
    parsing: &CoreClock,
) -> Result<(ScanRuns, FileSample), UserError> {
    // The last range reads to the end, whatever the file holds by then.
    let end = match r + 1 == n {
        true => u64::MAX,
        false => size * (r as u64 + 1) / n as u64,
    };
    let bytes = (size * r as u64 / n as u64, end);
    // Each range keeps its share of the file's records, with slack.
    let mut kept = sampling.map(|sampling| {
        BottomK::new(ScanSampling {
            per_file: range_records(sampling.per_file, n),
            ..sampling
        })
    });
    let mut observe = |record: &CountRecord<&str>, line: usize| {
        if let Some(kept) = kept.as_mut() {
            kept.observe(record, line);
        }
    };
    let runs = parsing.time(|| {
        let lines = Lines::open_range(&s.file, s.format, &s.name, filter.mod_code, bytes)?;
        Ok::<_, UserError>(scan_runs(lines, &mut observe))
    })?;
    Ok((runs, kept.map(BottomK::finish).unwrap_or_default()))
}

/// One order of all chromosomes that respects every file's order, or an error naming the
/// two files that disagree.
pub(crate) fn global_chromosome_order(
    files: &[(String, Vec<String>)],
) -> Result<Vec<String>, UserError> {
    let mut global: Vec<String> = Vec::new();
    let mut owner: HashMap<String, usize> = HashMap::new();
    for (f, (name, order)) in files.iter().enumerate() {
        let mut last_known: Option<(usize, &str)> = None;
        for chr in order {
            if let Some(i) = global.iter().position(|c| c == chr) {
                if let Some((j, prev)) = last_known {
                    if i < j {
                        return Err(UserError(format!(
                            "{name}: chromosome {prev} comes before {chr}, but {} has them the other way round; sort every file in one chromosome order",
                            files[owner[chr]].0
                        )));
                    }
                }
                last_known = Some((i, chr));
            }
        }
        // New chromosomes go right after the file's previous chromosome in the global order.
        let mut insert_at = 0;
        for chr in order {
            match global.iter().position(|c| c == chr) {
                Some(i) => insert_at = i + 1,
                None => {
                    global.insert(insert_at, chr.clone());
                    owner.insert(chr.clone(), f);
                    insert_at += 1;
                }
            }
        }
    }
    Ok(global)
}

/// One sample's records as the merge takes them, made on the file's thread: strand-merged,
/// each naming its chromosome by its index in the merge's order, and checked to be sorted.
struct SortedRecords {
    path: PathBuf,
    lines: Lines,
    merge_strands: bool,
    /// The merge's chromosomes, in its order.
    chromosomes: Arc<ChromosomeTable>,
    /// The merge's index of each of the file's chromosomes, by the reader's index.
    to_merge: Vec<u32>,
    /// A record read ahead while looking for its other strand.
    ahead: Option<(usize, CountRecord<u32>)>,
    last: Option<(u32, u64, usize)>,
}

impl SortedRecords {
    fn raw(&mut self) -> Result<Option<(usize, CountRecord<u32>)>, UserError> {
        if let Some(r) = self.ahead.take() {
            return Ok(Some(r));
        }
        let Some((line, mut record)) = self.lines.next_record()? else {
            return Ok(None);
        };
        record.chr = self.merge_index(record.chr, line)?;
        if self.merge_strands && record.strand == Strand::Minus {
            // The C of a CpG's minus strand is one base after the plus strand's C.
            record.pos -= 1;
        }
        Ok(Some((line, record)))
    }

    /// The merge's index of the reader's chromosome `id`.
    fn merge_index(&mut self, id: u32, line: usize) -> Result<u32, UserError> {
        while self.to_merge.len() <= id as usize {
            let name = self.lines.chromosomes.name(self.to_merge.len() as u32);
            match self.chromosomes.get(name) {
                Some(index) => self.to_merge.push(index),
                // The chromosome scan read every file before the merge: the file changed since.
                None => {
                    return Err(UserError(format!(
                        "{}:{line}: chromosome {name} was not in this file when the run first read it; did the file change during the run?",
                        self.path.display()
                    )))
                }
            }
        }
        Ok(self.to_merge[id as usize])
    }

    /// The next record, with its line (a merged CpG's, its minus strand's).
    fn next(&mut self) -> Result<Option<(usize, CountRecord<u32>)>, UserError> {
        let mut next = self.raw()?;
        if self.merge_strands {
            if let Some((line, rec)) = next.as_mut() {
                if rec.strand == Strand::Plus {
                    if let Some((l2, other)) = self.raw()? {
                        if other.chr == rec.chr
                            && other.pos == rec.pos
                            && other.strand == Strand::Minus
                        {
                            rec.methylated += other.methylated;
                            rec.total += other.total;
                            rec.strand = Strand::Unknown;
                            *line = l2;
                        } else {
                            self.ahead = Some((l2, other));
                        }
                    }
                }
            }
        }
        if let Some((line, rec)) = &next {
            if let Some((chr, pos, prev_line)) = self.last {
                if chr == rec.chr && rec.pos <= pos {
                    let path = self.path.display();
                    let name = self.chromosomes.name(chr);
                    return Err(UserError(if rec.pos == pos {
                        format!(
                            "{path}:{line}: duplicate position {name}:{} (also on line {prev_line})",
                            rec.pos
                        )
                    } else {
                        format!("{path}:{line}: unsorted: position {name}:{} after {pos} on line {prev_line}; sort by chromosome, then position", rec.pos)
                    }));
                }
            }
            self.last = Some((rec.chr, rec.pos, *line));
        }
        Ok(next)
    }
}

/// The merge's side of one sample's records: the current block, read in place (moving each
/// record out through the layers of results and options was a third of the merge's time).
struct SampleStream {
    feed: RecordFeed,
    block: Vec<CountRecord<u32>>,
    /// The record in hand: block[at], or none once the block is past (the file's end).
    at: usize,
}

impl SampleStream {
    /// The record in hand, if the file has one left.
    #[inline]
    fn peeked(&self) -> Option<&CountRecord<u32>> {
        self.block.get(self.at)
    }

    /// Moves to the next record, or past the end; the file's error, once its records before
    /// it are taken.
    fn advance(&mut self) -> Result<(), UserError> {
        self.at += 1;
        if self.at >= self.block.len() {
            self.at = 0;
            self.block = self.feed.next_block()?.unwrap_or_default();
        }
        Ok(())
    }
}

/// Which sites to keep.
#[derive(Debug, Clone, Copy)]
pub struct SiteFilter {
    /// A sample's counts at a site are used only when its total reaches this.
    pub min_coverage: u32,
    /// A site is kept only when every group has this many samples with enough coverage.
    pub min_samples_per_group: u32,
    /// Add the minus-strand C of a CpG (one base on) to the plus-strand C.
    pub merge_strands: bool,
    /// The rows of a modkit bedMethyl that count: those of this modification code.
    pub mod_code: ModCode,
}

/// One site's counts: `(sample, methylated, total)` for every sample that passed the filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub chr: u32,
    pub pos: u64,
    /// `rng::chromosome_key` of the chromosome's name: with `pos`, the key of the site's
    /// random numbers (the same in any run that holds the site).
    pub chr_key: u32,
    pub counts: Vec<(u32, u32, u32)>,
}

/// Most count lists the merge keeps for reuse: two of stage 2's chunks.
const MAX_SPARE_COUNTS: usize = 1 << 17;

/// The merge of all samples of a sheet, one site at a time.
pub struct SiteMerger {
    streams: Vec<SampleStream>,
    pub chromosomes: Vec<String>,
    /// `rng::chromosome_key` of each chromosome.
    chr_keys: Vec<u32>,
    chr: usize,
    sample_group: Vec<u32>,
    /// Samples that passed the filter per group at the site in hand (reused: one per merge).
    per_group: Vec<u32>,
    /// Finished sites' count lists, emptied, for new sites (`recycle`): a list allocated here
    /// and freed on another thread took glibc's slow path, on both threads.
    spare_counts: Vec<Vec<(u32, u32, u32)>>,
    filter: SiteFilter,
    /// Each file's records of lowest hash from the chromosome scan (`scan_sample`).
    scan_samples: Vec<FileSample>,
    /// `--region`: the only interval read.
    scope: Option<Region>,
    /// Sites seen (before filtering) and kept.
    pub sites_seen: u64,
    pub sites_kept: u64,
    /// Sites kept per chromosome (of `chromosomes`).
    pub kept_per_chromosome: Vec<u64>,
    /// CPU time of the files' threads (the chromosome scan, the parsing), this merge's and
    /// every restart's: the run reports it as reading's.
    parsing: Arc<CoreClock>,
}

impl SiteMerger {
    /// Learns the chromosome order (one pass over every file, the files in parallel), then
    /// opens the merge.
    pub fn open(sheet: &SampleSheet, filter: SiteFilter) -> Result<SiteMerger, UserError> {
        SiteMerger::open_scoped(sheet, filter, None, None)
    }

    /// The merge of the sites in `scope` alone (all with None). A scope has one chromosome,
    /// so its order needs no pass over the files, and a tabix-indexed bgzip file is read
    /// from the index's offset for it.
    /// The merge of `sheet`'s files within `scope`; with `sampling` (and no scope), each
    /// file's chromosome scan also keeps its records of lowest hash (`scan_sample`).
    pub fn open_scoped(
        sheet: &SampleSheet,
        filter: SiteFilter,
        scope: Option<Region>,
        sampling: Option<ScanSampling>,
    ) -> Result<SiteMerger, UserError> {
        SiteMerger::open_split(sheet, filter, scope, sampling, None)
    }

    /// `open_scoped` with the chromosome scan of each plain-text file split into
    /// `ranges_per_file` byte ranges (None: by `scan_ranges`), each on a thread of its own.
    pub fn open_split(
        sheet: &SampleSheet,
        filter: SiteFilter,
        scope: Option<Region>,
        sampling: Option<ScanSampling>,
        ranges_per_file: Option<usize>,
    ) -> Result<SiteMerger, UserError> {
        let parsing = Arc::new(CoreClock::default());
        if let Some(scope) = scope {
            let chromosomes = vec![scope.chr.clone()];
            return SiteMerger::open_in_order(sheet, filter, chromosomes, Some(scope), parsing);
        }
        let ranges = SiteMerger::scan_plan(sheet, filter.mod_code, ranges_per_file);
        let scans = std::thread::scope(|scope| {
            let handles: Vec<Vec<_>> = (sheet.samples.iter().zip(&ranges))
                .map(|(s, &(n, size))| {
                    let parsing = &parsing;
                    (0..n)
                        .map(|r| {
                            scope.spawn(move || {
                                scan_range(s, filter, sampling, (r, n, size), parsing)
                            })
                        })
                        .collect()
                })
                .collect();
            (handles.into_iter().zip(&sheet.samples))
                .map(|(file, s)| {
                    let parts = file
                        .into_iter()
                        .map(|h| h.join().expect("chromosome scan panicked"))
                        .collect::<Result<Vec<_>, UserError>>()?;
                    let (runs, samples): (Vec<_>, Vec<_>) = parts.into_iter().unzip();
                    let order = chromosome_order(&s.file, &s.name, filter.mod_code, runs)?;
                    let per_file = sampling.map_or(0, |s| s.per_file);
                    let sample = FileSample::merge(samples, per_file);
                    Ok(((s.file.display().to_string(), order), sample))
                })
                .collect::<Result<Vec<_>, UserError>>()
        })?;
        let (orders, samples): (Vec<_>, Vec<_>) = scans.into_iter().unzip();
        let chromosomes = global_chromosome_order(&orders)?;
        let mut merger = SiteMerger::open_in_order(sheet, filter, chromosomes, None, parsing)?;
        if sampling.is_some() {
            merger.scan_samples = samples;
        }
        Ok(merger)
    }

    /// Each sample's file: its scan's byte ranges, and its size where it can be split (plain
    /// text, not a long table, which every sample of the table reads whole).
    fn scan_plan(
        sheet: &SampleSheet,
        mod_code: ModCode,
        ranges_per_file: Option<usize>,
    ) -> Vec<(usize, u64)> {
        let sizes: Vec<Option<u64>> = (sheet.samples.iter())
            .map(|s| plain_text_size(&s.file))
            .collect();
        let ranges = match ranges_per_file {
            Some(n) => sizes
                .iter()
                .map(|s| if s.is_some() { n.max(1) } else { 1 })
                .collect(),
            None => scan_ranges(&sizes, rayon::current_num_threads()),
        };
        // Only a file to be split is opened here, to see that it is no long table (a file that
        // does not open scans whole, and says why there).
        let splits = |s: &Sample| {
            Lines::open(&s.file, s.format, &s.name, mod_code, None)
                .is_ok_and(|lines| lines.long.is_none())
        };
        (ranges.into_iter().zip(sizes).zip(&sheet.samples))
            .map(|((n, size), s)| match n > 1 && splits(s) {
                true => (n, size.unwrap_or(0)),
                false => (1, 0),
            })
            .collect()
    }

    /// Stage 1's sites (`hyper`), uniformly at random among those passing the filter, from the
    /// chromosome scan's samples (opened with `sampling`), when the largest file had at least
    /// `from` records (SCAN_SAMPLE_FROM in a run) and the samples hold enough passing sites;
    /// else None (the reservoir's pass over the merge draws the sample then).
    pub fn scan_sample(&self, hyper: HyperSites, from: u64) -> Option<Vec<Site>> {
        let largest = self.scan_samples.iter().map(|f| f.seen).max()?;
        if largest < from {
            return None;
        }
        let filter = (self.filter.min_coverage, self.filter.min_samples_per_group);
        let sampled = sample_sites(
            &self.scan_samples,
            &self.chromosomes,
            &self.sample_group,
            filter,
            hyper,
        )?;
        let site = |(chr, pos, counts): (usize, u64, Vec<(u32, u32, u32)>)| Site {
            chr: chr as u32,
            pos,
            chr_key: self.chr_keys[chr],
            counts,
        };
        Some(sampled.into_iter().map(site).collect())
    }

    /// Core seconds the files' threads have used so far, this merge's and its restarts'.
    pub fn parsing_core_seconds(&self) -> f64 {
        self.parsing.seconds()
    }

    /// The merge again from the start of every file, with the chromosome order already known.
    pub(crate) fn restart(&self, sheet: &SampleSheet) -> Result<SiteMerger, UserError> {
        SiteMerger::open_in_order(
            sheet,
            self.filter,
            self.chromosomes.clone(),
            self.scope.clone(),
            self.parsing.clone(),
        )
    }

    fn open_in_order(
        sheet: &SampleSheet,
        filter: SiteFilter,
        chromosomes: Vec<String>,
        scope: Option<Region>,
        parsing: Arc<CoreClock>,
    ) -> Result<SiteMerger, UserError> {
        let mut streams = Vec::new();
        // A count file of one sample listed for two would count its reads twice, as two
        // replicates that agree perfectly (a long table is the exception: one file, many
        // samples).
        let mut files: HashMap<PathBuf, &Sample> = HashMap::new();
        let shared = Arc::new(ChromosomeTable::from_names(&chromosomes));
        for s in &sheet.samples {
            let lines = Lines::open(&s.file, s.format, &s.name, filter.mod_code, scope.as_ref())?;
            if lines.format != Format::Long {
                let key = s.file.canonicalize().unwrap_or_else(|_| s.file.clone());
                if let Some(first) = files.insert(key, s) {
                    return Err(UserError(format!(
                        "{}:{}: sample {:?} names {}, which sample {:?} (line {}) names already; a count file holds one sample, so listing it twice would count its reads twice",
                        sheet.path.display(),
                        s.line,
                        s.name,
                        s.file.display(),
                        first.name,
                        first.line
                    )));
                }
            }
            // The merge needs no lines: the file's thread checks the records and names them.
            let mut sorted = SortedRecords {
                path: s.file.clone(),
                lines,
                merge_strands: filter.merge_strands,
                chromosomes: shared.clone(),
                to_merge: Vec::new(),
                ahead: None,
                last: None,
            };
            let feed = RecordFeed::spawn(
                move || Ok(sorted.next()?.map(|(_, record)| record)),
                parsing.clone(),
            );
            let mut stream = SampleStream {
                feed,
                block: Vec::new(),
                at: 0,
            };
            stream.advance()?;
            streams.push(stream);
        }
        let (groups, sample_group) = sheet.groups();
        Ok(SiteMerger {
            streams,
            chr_keys: chromosomes.iter().map(|c| chromosome_key(c)).collect(),
            kept_per_chromosome: vec![0; chromosomes.len()],
            chromosomes,
            chr: 0,
            sample_group,
            per_group: vec![0; groups.len()],
            spare_counts: Vec::new(),
            scan_samples: Vec::new(),
            filter,
            scope,
            sites_seen: 0,
            sites_kept: 0,
            parsing,
        })
    }

    /// Takes back finished sites' count lists (emptying `sites`) for the sites to come, up to
    /// MAX_SPARE_COUNTS of them.
    pub fn recycle(&mut self, sites: &mut Vec<Site>) {
        let room = MAX_SPARE_COUNTS.saturating_sub(self.spare_counts.len());
        self.spare_counts
            .extend(sites.drain(..).take(room).map(|site| {
                let mut counts = site.counts;
                counts.clear();
                counts
            }));
    }

    /// The next site that passes the filter, or None at the end of every file.
    pub fn next_site(&mut self) -> Result<Option<Site>, UserError> {
        loop {
            // The smallest position on the current chromosome; past its end, the next one.
            let pos = loop {
                if self.chr >= self.chromosomes.len() {
                    return Ok(None);
                }
                let here = self.chr as u32;
                let next = self
                    .streams
                    .iter()
                    .filter_map(SampleStream::peeked)
                    .filter(|r| r.chr == here)
                    .map(|r| r.pos)
                    .min();
                match next {
                    Some(pos) => break pos,
                    None => self.chr += 1,
                }
            };
            let chr = &self.chromosomes[self.chr];
            let here = self.chr as u32;
            let mut counts = self.spare_counts.pop().unwrap_or_default();
            let per_group = &mut self.per_group;
            per_group.fill(0);
            for (sample, stream) in self.streams.iter_mut().enumerate() {
                let Some(r) = stream.peeked().filter(|r| r.chr == here && r.pos == pos) else {
                    continue;
                };
                if r.total >= self.filter.min_coverage && r.total > 0 {
                    counts.push((sample as u32, r.methylated, r.total));
                    per_group[self.sample_group[sample] as usize] += 1;
                }
                stream.advance()?;
            }
            self.sites_seen += 1;
            // The readers keep a base's margin past the scope (see Lines::scope).
            let in_scope = self.scope.as_ref().is_none_or(|r| r.contains(chr, pos));
            if in_scope
                && per_group
                    .iter()
                    .all(|&k| k >= self.filter.min_samples_per_group)
            {
                self.sites_kept += 1;
                self.kept_per_chromosome[self.chr] += 1;
                return Ok(Some(Site {
                    chr: self.chr as u32,
                    pos,
                    chr_key: self.chr_keys[self.chr],
                    counts,
                }));
            }
            counts.clear();
            self.spare_counts.push(counts);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sites made from recycled count lists are the sites a fresh merge makes, whatever the
    /// lists held before.
    #[test]
    fn recycled_count_lists_give_the_same_sites() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        let mut a = String::from("chr\tpos\tN\tX\n");
        let mut b = a.clone();
        for pos in 1..200u32 {
            a.push_str(&format!("chr1\t{pos}\t{}\t{}\n", pos % 7 + 3, pos % 3));
            if pos % 4 != 0 {
                b.push_str(&format!("chr1\t{pos}\t{}\t{}\n", pos % 5 + 2, pos % 2));
            }
        }
        write("a.txt", &a);
        write("b.txt", &b);
        write(
            "sheet.tsv",
            "sample\tfile\tgroup\na\ta.txt\tA\nb\tb.txt\tB\n",
        );
        let sheet = SampleSheet::read(&dir.path().join("sheet.tsv")).unwrap();
        let filter = SiteFilter {
            min_samples_per_group: 0,
            ..SiteFilter::default()
        };
        let mut fresh = SiteMerger::open(&sheet, filter).unwrap();
        let mut plain = Vec::new();
        while let Some(site) = fresh.next_site().unwrap() {
            plain.push(site);
        }
        let mut merger = fresh.restart(&sheet).unwrap();
        let mut recycled = Vec::new();
        loop {
            let mut chunk = Vec::new();
            while chunk.len() < 7 {
                match merger.next_site().unwrap() {
                    Some(site) => chunk.push(site),
                    None => break,
                }
            }
            if chunk.is_empty() {
                break;
            }
            recycled.extend(chunk.iter().cloned());
            merger.recycle(&mut chunk);
            assert!(chunk.is_empty());
        }
        assert_eq!(recycled.len(), 199);
        assert_eq!(recycled, plain);
    }

    /// A file that gains a chromosome between the chromosome scan and a later pass (stage 2's
    /// restart) is refused at the line, not merged out of order or dropped.
    #[test]
    fn a_chromosome_added_after_the_scan_is_refused_at_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write("a.txt", "chr\tpos\tN\tX\nchr1\t10\t5\t2\nchr1\t20\t5\t3\n");
        write("b.txt", "chr\tpos\tN\tX\nchr1\t10\t4\t1\nchr1\t20\t6\t6\n");
        write(
            "sheet.tsv",
            "sample\tfile\tgroup\na\ta.txt\tA\nb\tb.txt\tB\n",
        );
        let sheet = SampleSheet::read(&dir.path().join("sheet.tsv")).unwrap();
        let mut merger = SiteMerger::open(&sheet, SiteFilter::default()).unwrap();
        let mut sites = 0;
        while merger.next_site().unwrap().is_some() {
            sites += 1;
        }
        assert_eq!(sites, 2);
        write(
            "b.txt",
            "chr\tpos\tN\tX\nchr1\t10\t4\t1\nchr1\t20\t6\t6\nchrX\t5\t3\t1\n",
        );
        let mut again = merger.restart(&sheet).unwrap();
        let err = loop {
            match again.next_site() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("the new chromosome was merged"),
                Err(e) => break e.0,
            }
        };
        assert!(
            err.ends_with("b.txt:4: chromosome chrX was not in this file when the run first read it; did the file change during the run?"),
            "{err}"
        );
    }
}

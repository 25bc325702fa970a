//! Streaming merge of per-sample count files into sites: every file is read once, line by
//! line, never whole; inputs must be sorted (chromosomes contiguous, positions increasing),
//! and chromosomes must come in one order across samples. A first, cheap pass over each
//! file's chromosome column learns that order (and finds a chromosome that reappears).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::UserError;
use crate::io::cpu_time::CoreClock;
use crate::methyl::formats::{CountRecord, Format, ModCode, Strand};
use crate::methyl::interval::Region;
use crate::methyl::lines::{Lines, RecordFeed};
use crate::methyl::scan_sample::{sample_sites, BottomK, FileSample, HyperSites, ScanSampling};
use crate::methyl::sheet::{Sample, SampleSheet};
use crate::rng::chromosome_key;

/// The chromosomes of one file in order of appearance; a chromosome that comes back after
/// another is an unsorted file.
pub(crate) fn chromosome_order(
    path: &Path,
    format: Option<Format>,
    sample: &str,
    mod_code: ModCode,
    observe: &mut dyn FnMut(&CountRecord),
) -> Result<Vec<String>, UserError> {
    let mut lines = Lines::open(path, format, sample, mod_code, None)?;
    let mut order: Vec<String> = Vec::new();
    let mut first_line: HashMap<String, usize> = HashMap::new();
    let path = path.display().to_string();
    while let Some((line, record)) = lines.next_record()? {
        observe(&record);
        let chr = record.chr;
        if order.last().is_some_and(|c| *c == chr) {
            continue;
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
    let others: Vec<&str> = lines.other_codes.iter().map(String::as_str).collect();
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
        return Err(UserError(match lines.long {
            Some(_) => format!("{path}: no rows of sample {sample:?} in this long table"),
            None => {
                format!("{path}: no counts for sample {sample:?} (the file holds no data lines)")
            }
        }));
    }
    Ok(order)
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

/// Sorted, strand-merged records of one sample.
struct SampleStream {
    path: PathBuf,
    records: RecordFeed,
    merge_strands: bool,
    /// Next record (after strand merging), with its line.
    peeked: Option<(usize, CountRecord)>,
    /// A record read ahead while looking for its other strand.
    ahead: Option<(usize, CountRecord)>,
    last: Option<(String, u64, usize)>,
}

impl SampleStream {
    fn raw(&mut self) -> Result<Option<(usize, CountRecord)>, UserError> {
        if let Some(r) = self.ahead.take() {
            return Ok(Some(r));
        }
        let Some((line, mut record)) = self.records.next_record()? else {
            return Ok(None);
        };
        if self.merge_strands && record.strand == Strand::Minus {
            // The C of a CpG's minus strand is one base after the plus strand's C.
            record.pos -= 1;
        }
        Ok(Some((line, record)))
    }

    fn advance(&mut self) -> Result<(), UserError> {
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
                            self.records.finished(other);
                        } else {
                            self.ahead = Some((l2, other));
                        }
                    }
                }
            }
        }
        if let Some((line, rec)) = &next {
            if let Some((chr, pos, prev_line)) = &self.last {
                if *chr == rec.chr && rec.pos <= *pos {
                    let path = self.path.display();
                    return Err(UserError(if rec.pos == *pos {
                        format!(
                            "{path}:{line}: duplicate position {}:{} (also on line {prev_line})",
                            rec.chr, rec.pos
                        )
                    } else {
                        format!("{path}:{line}: unsorted: position {}:{} after {pos} on line {prev_line}; sort by chromosome, then position", rec.chr, rec.pos)
                    }));
                }
            }
            // The last record's name is kept while the chromosome stays the same: no copy
            // per record.
            match &mut self.last {
                Some((chr, pos, prev_line)) if *chr == rec.chr => {
                    *pos = rec.pos;
                    *prev_line = *line;
                }
                last => *last = Some((rec.chr.clone(), rec.pos, *line)),
            }
        }
        if let Some((_, done)) = std::mem::replace(&mut self.peeked, next) {
            self.records.finished(done);
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
        let parsing = Arc::new(CoreClock::default());
        if let Some(scope) = scope {
            let chromosomes = vec![scope.chr.clone()];
            return SiteMerger::open_in_order(sheet, filter, chromosomes, Some(scope), parsing);
        }
        let scans = std::thread::scope(|scope| {
            let handles: Vec<_> = sheet
                .samples
                .iter()
                .map(|s| {
                    let parsing = &parsing;
                    scope.spawn(move || {
                        let mut kept = sampling.map(BottomK::new);
                        let mut observe = |r: &CountRecord| {
                            if let Some(kept) = kept.as_mut() {
                                kept.observe(r);
                            }
                        };
                        let order = parsing.time(|| {
                            chromosome_order(
                                &s.file,
                                s.format,
                                &s.name,
                                filter.mod_code,
                                &mut observe,
                            )
                        })?;
                        let sample = kept.map(BottomK::finish).unwrap_or_default();
                        Ok(((s.file.display().to_string(), order), sample))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("chromosome scan panicked"))
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
            let mut stream = SampleStream {
                path: s.file.clone(),
                records: RecordFeed::spawn(lines, parsing.clone()),
                merge_strands: filter.merge_strands,
                peeked: None,
                ahead: None,
                last: None,
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
            scan_samples: Vec::new(),
            filter,
            scope,
            sites_seen: 0,
            sites_kept: 0,
            parsing,
        })
    }

    /// The next site that passes the filter, or None at the end of every file.
    pub fn next_site(&mut self) -> Result<Option<Site>, UserError> {
        loop {
            // The smallest position on the current chromosome; past its end, the next one.
            let pos = loop {
                let Some(chr) = self.chromosomes.get(self.chr) else {
                    return Ok(None);
                };
                let next = self
                    .streams
                    .iter()
                    .filter_map(|s| s.peeked.as_ref())
                    .filter(|(_, r)| &r.chr == chr)
                    .map(|(_, r)| r.pos)
                    .min();
                match next {
                    Some(pos) => break pos,
                    None => self.chr += 1,
                }
            };
            let chr = &self.chromosomes[self.chr];
            let mut counts = Vec::new();
            let per_group = &mut self.per_group;
            per_group.fill(0);
            for (sample, stream) in self.streams.iter_mut().enumerate() {
                let here = matches!(&stream.peeked, Some((_, r)) if r.chr == *chr && r.pos == pos);
                if !here {
                    continue;
                }
                let (_, r) = stream.peeked.as_ref().expect("checked");
                if r.total >= self.filter.min_coverage && r.total > 0 {
                    counts.push((sample as u32, r.methylated, r.total));
                    per_group[self.sample_group[sample] as usize] += 1;
                }
                stream.advance()?;
            }
            self.sites_seen += 1;
            // The readers keep a base's margin past the scope (see Lines::scope).
            if self.scope.as_ref().is_some_and(|r| !r.contains(chr, pos)) {
                continue;
            }
            if per_group
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
        }
    }
}

//! A count file read a line at a time (plain text, gzip or bgzip, a tabix index's region,
//! or a Parquet table), its format decided from the first line, and its records parsed on a
//! thread of their own for the merge (`merge.rs`). Messages name the file and the line.

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use flate2::read::MultiGzDecoder;

use crate::error::UserError;
use crate::io::cpu_time::{thread_cpu_seconds, CoreClock};
use crate::io::parquet_file::{column_names, open_parquet, unreadable, PARQUET_MAGIC};
use crate::kernels::layout::MAX_TRIALS;
use crate::methyl::formats::{CountRecord, Format, LongColumns, ModCode};
use crate::methyl::interval::Region;

/// gzip's magic bytes (bgzip files are multi-member gzip and read the same way).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// Read buffer per open file: one per sample stays open during the merge.
const READ_BUFFER: usize = 1 << 16;
/// A region ending here or later is open-ended for a tabix query (whose bins reach 2^29).
const TABIX_MAX_POSITION: u64 = 1 << 29;

/// A Parquet table read as tab-separated text, a record batch at a time: a header line of
/// the column names, then one line per row (so row r is line r + 1 in messages).
struct ParquetText {
    reader: parquet::arrow::arrow_reader::ParquetRecordBatchReader,
    pending: Vec<u8>,
    pos: usize,
}

impl ParquetText {
    fn open(file: File, source: &str) -> Result<ParquetText, UserError> {
        let builder = open_parquet(file, source)?;
        let names = column_names(&builder);
        let reader = builder.build().map_err(|e| unreadable(source, e))?;
        Ok(ParquetText {
            reader,
            pending: format!("{}\n", names.join("\t")).into_bytes(),
            pos: 0,
        })
    }
}

impl Read for ParquetText {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for ParquetText {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        use arrow::util::display::{ArrayFormatter, FormatOptions};
        use std::fmt::Write as _;
        while self.pos == self.pending.len() {
            let Some(batch) = self.reader.next() else {
                break;
            };
            let batch = batch.map_err(std::io::Error::other)?;
            let options = FormatOptions::default();
            let formatters = batch
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
                .collect::<Result<Vec<_>, _>>()
                .map_err(std::io::Error::other)?;
            let mut text = String::new();
            for row in 0..batch.num_rows() {
                for (k, f) in formatters.iter().enumerate() {
                    if k > 0 {
                        text.push('\t');
                    }
                    let _ = write!(text, "{}", f.value(row));
                }
                text.push('\n');
            }
            self.pending = text.into_bytes();
            self.pos = 0;
        }
        Ok(&self.pending[self.pos..])
    }

    fn consume(&mut self, n: usize) {
        self.pos += n;
    }
}

fn open_text(path: &Path) -> Result<Box<dyn BufRead + Send>, UserError> {
    let cannot = |e: std::io::Error| UserError(format!("{}: cannot read: {e}", path.display()));
    let mut file = File::open(path).map_err(cannot)?;
    let mut magic = [0u8; 4];
    let n = file.read(&mut magic).map_err(cannot)?;
    let file = File::open(path).map_err(cannot)?;
    if n == 4 && magic == PARQUET_MAGIC {
        let text = ParquetText::open(file, &path.display().to_string())?;
        return Ok(Box::new(text));
    }
    Ok(if n >= 2 && magic[..2] == GZIP_MAGIC {
        Box::new(BufReader::with_capacity(
            READ_BUFFER,
            MultiGzDecoder::new(file),
        ))
    } else {
        Box::new(BufReader::with_capacity(READ_BUFFER, file))
    })
}

/// The file's size where it is plain text (not gzip or Parquet), which byte ranges can split.
pub(crate) fn plain_text_size(path: &Path) -> Option<u64> {
    let mut file = File::open(path).ok()?;
    let mut magic = [0u8; 4];
    let n = file.read(&mut magic).ok()?;
    let packed = (n == 4 && magic == PARQUET_MAGIC) || (n >= 2 && magic[..2] == GZIP_MAGIC);
    (!packed).then(|| file.metadata().ok().map(|m| m.len()))?
}

/// Lines of a count file with their numbers, the format decided from the first line.
pub(crate) struct Lines {
    path: PathBuf,
    reader: Box<dyn BufRead + Send>,
    buffer: String,
    line: usize,
    pub(crate) format: Format,
    /// The first line, when it is data, waiting to be returned.
    pending_first: Option<String>,
    /// A long table's columns, and the sample whose rows this reader keeps.
    pub(crate) long: Option<(LongColumns, String)>,
    /// The modification code whose rows a modkit file gives, and the others it has skipped.
    mod_code: ModCode,
    pub(crate) other_codes: BTreeSet<String>,
    /// `--region`: only records of this interval are given (with a base's margin at its end,
    /// for a minus-strand C that `--merge-strands` moves onto its CpG); the reader ends once
    /// the sorted file is past it.
    scope: Option<Region>,
    /// A record of `scope` has been given: a record of another chromosome ends the reader.
    in_scope: bool,
    /// Bytes read so far (plain text), and where a byte range's reader stops: it gives the
    /// lines that start before `end` (`open_range`).
    offset: u64,
    end: u64,
    /// Where the first line that is not blank starts.
    first_start: u64,
    /// The chromosomes of the records given so far: a record's `chr` indexes it.
    pub(crate) chromosomes: ChromosomeTable,
}

/// Chromosome names in the order a reader first met them, each record naming its own by
/// index: most lines repeat the last line's name, which is then one comparison.
#[derive(Debug, Default)]
pub(crate) struct ChromosomeTable {
    names: Vec<String>,
    index: HashMap<String, u32>,
    last: Option<u32>,
}

impl ChromosomeTable {
    /// The index of `name`, added if it is new.
    fn id(&mut self, name: &str) -> u32 {
        if let Some(last) = self.last.filter(|&i| self.names[i as usize] == name) {
            return last;
        }
        let id = match self.index.get(name) {
            Some(&id) => id,
            None => {
                let id = self.names.len() as u32;
                self.names.push(name.to_string());
                self.index.insert(name.to_string(), id);
                id
            }
        };
        self.last = Some(id);
        id
    }

    /// A table of `names`, in their order (the merge's chromosomes).
    pub(crate) fn from_names(names: &[String]) -> ChromosomeTable {
        let mut table = ChromosomeTable::default();
        for name in names {
            table.id(name);
        }
        table
    }

    /// The index of `name`, if the table has it.
    pub(crate) fn get(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }

    /// The name of index `id`.
    pub(crate) fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }
}

impl Lines {
    pub(crate) fn open(
        path: &Path,
        format: Option<Format>,
        sample: &str,
        mod_code: ModCode,
        scope: Option<&Region>,
    ) -> Result<Lines, UserError> {
        let mut reader = open_text(path)?;
        // The first line that is not blank decides the format; blank lines before it are skipped
        // and counted, so messages keep the file's line numbers.
        let mut first = String::new();
        let mut line = 0;
        let mut offset = 0u64;
        let mut first_start;
        loop {
            first.clear();
            line += 1;
            first_start = offset;
            let n = reader
                .read_line(&mut first)
                .map_err(|e| UserError(format!("{}:{line}: cannot read: {e}", path.display())))?;
            if n == 0 {
                return Err(UserError(format!("{}: file is empty", path.display())));
            }
            offset += n as u64;
            if !first.trim().trim_start_matches('\u{feff}').is_empty() {
                break;
            }
        }
        // A byte-order mark (Excel's "CSV UTF-8") is not part of the first field.
        let first = first.trim_end_matches(['\n', '\r']);
        let first = first.strip_prefix('\u{feff}').unwrap_or(first).to_string();
        let format = match format.or_else(|| Format::detect(&first)) {
            Some(f) => f,
            None => {
                return Err(UserError(format!(
                    "{}:{line}: cannot tell the format from the first line {first:?}; name it in the sample sheet's format column",
                    path.display()
                )))
            }
        };
        let long = match format {
            Format::Long => Some((
                LongColumns::from_header(&first).ok_or_else(|| {
                    UserError(format!(
                        "{}:{line}: a long table needs columns sample, methylated, total and site (chr:pos) or chr and pos",
                        path.display()
                    ))
                })?,
                sample.to_string(),
            )),
            _ => None,
        };
        let header =
            format == Format::Long || (format.has_header() && format.parse_line(&first).is_err());
        let mut lines = Lines {
            long,
            mod_code,
            other_codes: BTreeSet::new(),
            path: path.to_path_buf(),
            reader,
            buffer: String::new(),
            line,
            format,
            pending_first: (!header).then_some(first),
            scope: scope.cloned(),
            in_scope: false,
            offset,
            end: u64::MAX,
            first_start,
            chromosomes: ChromosomeTable::default(),
        };
        if let Some(scope) = scope {
            lines.seek_with_tabix(scope)?;
        }
        Ok(lines)
    }

    /// The lines of a plain-text file (`plain_text_size`) that start in bytes `start..end`,
    /// with the file's format and line numbers: the chromosome scan's share of one thread.
    /// `(0, u64::MAX)` is the whole file, of any kind.
    pub(crate) fn open_range(
        path: &Path,
        format: Option<Format>,
        sample: &str,
        mod_code: ModCode,
        (start, end): (u64, u64),
    ) -> Result<Lines, UserError> {
        let mut lines = Lines::open(path, format, sample, mod_code, None)?;
        lines.end = end;
        // The first line that is not blank is the range's where it starts; the reader stands at
        // the next line's start, the first place a range past the file's head may begin.
        if !(start..end).contains(&lines.first_start) {
            lines.pending_first = None;
        }
        if start <= lines.offset {
            return Ok(lines);
        }
        let cannot = |e: std::io::Error| UserError(format!("{}: cannot read: {e}", path.display()));
        // The lines before the range, for messages: a count at memory speed.
        let mut file = File::open(path).map_err(cannot)?;
        let mut before = (&mut file).take(start - 1);
        let mut chunk = vec![0u8; READ_BUFFER];
        let mut newlines = 0usize;
        loop {
            let n = before.read(&mut chunk).map_err(cannot)?;
            if n == 0 {
                break;
            }
            newlines += chunk[..n].iter().filter(|&&b| b == b'\n').count();
        }
        // From byte start - 1 to its line's end: a line that starts before `start` is the
        // previous range's.
        let mut reader = BufReader::with_capacity(READ_BUFFER, file);
        let mut partial = Vec::new();
        let skipped = reader.read_until(b'\n', &mut partial).map_err(cannot)?;
        newlines += usize::from(partial.last() == Some(&b'\n'));
        lines.reader = Box::new(reader);
        lines.pending_first = None;
        lines.line = newlines;
        lines.offset = start - 1 + skipped as u64;
        Ok(lines)
    }

    /// With a tabix index beside a bgzip file (`<file>.tbi`), jumps to the first block that
    /// may hold `scope`, so that only that part of the file is read. Line numbers then count
    /// from there, and messages say so.
    fn seek_with_tabix(&mut self, scope: &Region) -> Result<(), UserError> {
        let mut index_path = self.path.clone().into_os_string();
        index_path.push(".tbi");
        let index_path = PathBuf::from(index_path);
        if !index_path.is_file() {
            return Ok(());
        }
        let bad = |e: &dyn std::fmt::Display| {
            UserError(format!(
                "{}: cannot use its tabix index: {e}",
                index_path.display()
            ))
        };
        let index = noodles_tabix::fs::read(&index_path).map_err(|e| bad(&e))?;
        let header = noodles_csi::BinningIndex::header(&index)
            .ok_or_else(|| bad(&"the index has no header"))?;
        let Some(id) = header
            .reference_sequence_names()
            .get_index_of(scope.chr.as_bytes())
        else {
            // The file has no rows on this chromosome.
            self.reader = Box::new(std::io::empty());
            self.pending_first = None;
            return Ok(());
        };
        // One base of margin either side: the index is in the file's own convention, which
        // may be 0-based.
        let start = noodles_core::Position::try_from(scope.start.saturating_sub(1).max(1) as usize)
            .map_err(|e| bad(&e))?;
        let interval: noodles_core::region::Interval = if scope.end >= TABIX_MAX_POSITION {
            (start..).into()
        } else {
            let end =
                noodles_core::Position::try_from(scope.end as usize + 1).map_err(|e| bad(&e))?;
            (start..=end).into()
        };
        let chunks = noodles_csi::BinningIndex::query(&index, id, interval).map_err(|e| bad(&e))?;
        let Some(first) = chunks.iter().map(|c| c.start()).min() else {
            self.reader = Box::new(std::io::empty());
            self.pending_first = None;
            return Ok(());
        };
        let file = File::open(&self.path)
            .map_err(|e| UserError(format!("{}: cannot read: {e}", self.path.display())))?;
        let mut reader = noodles_bgzf::io::Reader::new(file);
        reader.seek(first).map_err(|e| {
            UserError(format!(
                "{}: not a bgzip file its tabix index fits: {e}",
                self.path.display()
            ))
        })?;
        self.reader = Box::new(BufReader::with_capacity(READ_BUFFER, reader));
        self.pending_first = None;
        self.line = 0;
        self.path = PathBuf::from(format!(
            "{} (lines counted from its tabix offset for {scope})",
            self.path.display()
        ));
        Ok(())
    }

    /// Reads the next data line into `buffer`: its number and length, or None at the end.
    fn next_line(&mut self) -> Result<Option<(usize, usize)>, UserError> {
        if let Some(first) = self.pending_first.take() {
            self.buffer = first;
            return Ok(Some((self.line, self.buffer.len())));
        }
        loop {
            if self.offset >= self.end {
                return Ok(None);
            }
            self.buffer.clear();
            self.line += 1;
            let n = self.reader.read_line(&mut self.buffer).map_err(|e| {
                UserError(format!(
                    "{}:{}: cannot read: {e}",
                    self.path.display(),
                    self.line
                ))
            })?;
            if n == 0 {
                return Ok(None);
            }
            self.offset += n as u64;
            let text = self.buffer.trim_end_matches(['\n', '\r']);
            if !text.trim().is_empty() {
                return Ok(Some((self.line, text.len())));
            }
        }
    }

    /// The next record of this reader's sample, with its line; its chromosome indexes
    /// `self.chromosomes`.
    pub(crate) fn next_record(&mut self) -> Result<Option<(usize, CountRecord<u32>)>, UserError> {
        loop {
            let Some((line, len)) = self.next_line()? else {
                return Ok(None);
            };
            let text = &self.buffer[..len];
            let parsed = match &self.long {
                Some((cols, sample)) => cols.parse(text, sample),
                None => match self.format.parse_coded(text) {
                    Ok((_, Some(code))) if code != self.mod_code.as_str() => {
                        if !self.other_codes.contains(code) {
                            self.other_codes.insert(code.to_string());
                        }
                        Ok(None)
                    }
                    parsed => parsed.map(|(record, _)| Some(record)),
                },
            };
            if let (Some(scope), Ok(Some(record))) = (&self.scope, &parsed) {
                if record.chr != scope.chr || record.pos < scope.start {
                    // Before the region (or on another chromosome): past it once seen.
                    if record.chr != scope.chr && self.in_scope {
                        return Ok(None);
                    }
                    continue;
                }
                if record.pos > scope.end.saturating_add(1) {
                    return Ok(None);
                }
                self.in_scope = true;
            }
            match parsed {
                Ok(Some(record)) if record.total > MAX_TRIALS => {
                    return Err(UserError(format!(
                        "{}:{line}: coverage {} at {}:{} is above 2^24 = {MAX_TRIALS}, the most reads the f32 kernels hold exactly",
                        self.path.display(),
                        record.total,
                        record.chr,
                        record.pos
                    )))
                }
                Ok(Some(record)) => {
                    let chr = self.chromosomes.id(record.chr);
                    return Ok(Some((line, record.with_chr(chr))));
                }
                Ok(None) => continue,
                Err(e) => {
                    return Err(UserError(format!(
                        "{}:{line}:{}: {}",
                        self.path.display(),
                        e.column,
                        e.message
                    )))
                }
            }
        }
    }
}

/// Records parsed per block on the feeding thread: large enough to amortise the channel.
const RECORDS_PER_BLOCK: usize = 4096;
/// Blocks parsed ahead of the merge per sample: bounds memory, keeps the parser busy.
const BLOCKS_AHEAD: usize = 4;

/// A block of records, or the error that ended the file.
type RecordBlock = Result<Vec<CountRecord<u32>>, UserError>;

/// One sample's records, made on a thread of their own (each file's gzip, parsing and checks
/// cost as much as the whole merge) by a source that gives them one by one: blocks in order,
/// then the error if there is one. Records name their chromosome by index, so none carries a
/// name across threads (a name per record, allocated on the file's thread and freed on the
/// merge's, bounded the merge).
pub(crate) struct RecordFeed {
    blocks: std::sync::mpsc::Receiver<RecordBlock>,
}

impl RecordFeed {
    /// The file's thread adds its CPU time to `clock` before it hands on each block, so
    /// that the merge's end finds it counted.
    pub(crate) fn spawn<F>(mut source: F, clock: Arc<CoreClock>) -> RecordFeed
    where
        F: FnMut() -> Result<Option<CountRecord<u32>>, UserError> + Send + 'static,
    {
        let (send, blocks) = std::sync::mpsc::sync_channel(BLOCKS_AHEAD);
        std::thread::spawn(move || loop {
            let start = thread_cpu_seconds();
            let mut block = Vec::with_capacity(RECORDS_PER_BLOCK);
            let end = loop {
                match source() {
                    Ok(Some(record)) => {
                        block.push(record);
                        if block.len() == RECORDS_PER_BLOCK {
                            break None;
                        }
                    }
                    Ok(None) => break Some(Ok(())),
                    Err(e) => break Some(Err(e)),
                }
            };
            clock.add(thread_cpu_seconds() - start);
            // A failed send means the merge was dropped: stop reading.
            if !block.is_empty() && send.send(Ok(block)).is_err() {
                return;
            }
            match end {
                None => continue,
                Some(Ok(())) => return,
                Some(Err(e)) => {
                    let _ = send.send(Err(e));
                    return;
                }
            }
        });
        RecordFeed { blocks }
    }

    /// The next block of records (never empty), or None at the end of the file.
    pub(crate) fn next_block(&mut self) -> Result<Option<Vec<CountRecord<u32>>>, UserError> {
        match self.blocks.recv() {
            Ok(block) => block.map(Some),
            Err(_) => Ok(None), // the feeder ended: end of file
        }
    }
}

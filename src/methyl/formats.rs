//! Per-sample bisulphite count files: one line, one C, in the formats people have.
//! Every format is normalised to a 1-based position of the C (for a CpG: of its C on the +
//! strand), methylated and total read counts, and the strand when the format has one.
//!
//! | format | columns | coordinates |
//! |---|---|---|
//! | `dss` | header `chr pos N X`: total N, methylated X | 1-based |
//! | `bismark-cov` | `chr start end percent methylated unmethylated`, no header | 1-based (start = end) |
//! | `bismark-report` | `chr pos strand methylated unmethylated context trinucleotide`, no header (CpG/CX report) | 1-based |
//! | `bedgraph` | `track ...` line, then `chr start end percent methylated unmethylated` (MethylDackel) | 0-based half-open: pos = start + 1 |
//! | `methylkit` | header `chrBase chr base strand coverage freqC freqT`, percentages | 1-based; methylated = round(coverage × freqC / 100) |
//! | `long` | header naming `sample`, `methylated`, `total` and `site` (`chr:pos`) or `chr` and `pos`; all samples in one file, CSV or TSV | 1-based |
//! | `bedmethyl` | ENCODE bedMethyl (BED9 + 2): `chrom start end name score strand thickStart thickEnd itemRgb coverage percent`; methylated = round(coverage × percent / 100), refused unless that count gives back the percent | 0-based half-open: pos = start + 1 |
//! | `cgmap` | BS-Seeker2 / CGmapTools CGmap: `chr base pos context dinucleotide level methylated total`; base C is the + strand, G the - | 1-based |
//! | `allc` | methylpy / ALLCools allc: `chr pos strand context methylated total flag`, no header (or methylpy's old one) | 1-based |
//! | `biscuit` | Biscuit's `vcf2bed` BED: `chr start end beta coverage`; methylated = round(beta × coverage), refused unless it gives back beta | 0-based half-open: pos = start + 1 |
//! | `dnmtools` | dnmtools `counts`: `chr pos strand context level reads`; methylated = round(level × reads), refused unless it gives back the level | 0-based: pos = pos + 1 |
//! | `modkit` | modkit `pileup` bedMethyl, 18 columns, no header: `chrom start end code score strand start end colour N_valid_cov percent N_mod N_canonical N_other_mod N_delete N_fail N_diff N_nocall`; methylated = N_mod, total = N_valid_cov, rows of one modification code (`--mod-code`, default `m`) | 0-based half-open: pos = start + 1 |
//!
//! Fields are separated by tabs (or, for `dss` and `modkit`, any whitespace: modkit writes
//! its last nine columns space-separated unless run with `--only-tabs`). Files may be plain, gzip or
//! bgzip (multi-member gzip); gzip is recognised by its magic bytes, not the name.

use std::fmt;

/// How far coverage × freqC / 100 of a methylKit line may be from a whole number: the
/// percentages carry two decimals, so at coverage up to 10^4 the true count is within 0.5.
const METHYLKIT_ROUNDING_TOLERANCE: f64 = 0.1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Dss,
    BismarkCov,
    BismarkReport,
    BedGraph,
    MethylKit,
    /// All samples in one table; its columns come from the header (`LongColumns`).
    Long,
    /// Oxford Nanopore's modkit `pileup` bedMethyl: one row per position, strand and
    /// modification code.
    Modkit,
    /// ENCODE's bedMethyl (BED9 + coverage and percent).
    BedMethyl,
    /// BS-Seeker2's and CGmapTools' CGmap.
    CgMap,
    /// methylpy's and ALLCools' allc.
    Allc,
    /// Biscuit's `vcf2bed` output (beta and coverage).
    Biscuit,
    /// dnmtools `counts` (level and reads).
    Dnmtools,
}

/// methylpy's old allc header, where a file has one.
const ALLC_HEADER: [&str; 7] = [
    "chr",
    "pos",
    "strand",
    "mc_class",
    "mc_count",
    "total",
    "methylated",
];

/// A count given as a fraction of `total` (`scale` 1) or a percentage (`scale` 100): the whole
/// count whose fraction, printed as precisely as `text` is, gives back `text`; else an error.
/// (A percentage printed as an integer cannot tell apart counts of more than 100 reads that
/// round alike: the nearest is taken where it reproduces the value.)
fn count_from_fraction(
    fields: &[&str],
    column: usize,
    total: u32,
    scale: f64,
    what: &str,
) -> Result<u32, FieldError> {
    let text = fields[column - 1];
    let value: f64 = text
        .parse()
        .map_err(|_| field_error(column, format!("{what} {text:?} is not a number")))?;
    if !(0.0..=scale).contains(&value) {
        return Err(field_error(
            column,
            format!("{what} {value} is not within 0 and {scale}"),
        ));
    }
    if total == 0 {
        return Ok(0);
    }
    let count = (value / scale * f64::from(total)).round();
    // Half the last printed digit: "0.667" is 0.667 +- 0.0005; exponent forms get 1e-6.
    let half_digit = match (text.find(['e', 'E']), text.find('.')) {
        (Some(_), _) => 1e-6 * scale,
        (None, Some(dot)) => 0.5 * 10f64.powi(-((text.len() - dot - 1) as i32)),
        (None, None) => 0.5,
    };
    if (count / f64::from(total) * scale - value).abs() > half_digit * (1.0 + 1e-9) {
        return Err(field_error(
            column,
            format!("{what} {text} of {total} reads is not a whole count of them"),
        ));
    }
    Ok(count as u32)
}

/// Methylated and total counts in their columns, methylated at most total.
fn counts_at(fields: &[&str], meth_col: usize, total_col: usize) -> Result<(u32, u32), FieldError> {
    let methylated = count(fields, meth_col, "methylated count")?;
    let total = count(fields, total_col, "total count")?;
    if methylated > total {
        return Err(field_error(
            meth_col,
            format!("methylated count {methylated} exceeds the total {total}"),
        ));
    }
    Ok((methylated, total))
}

/// A strand column: + or -, and . (none) where `dot` allows it.
fn strand(fields: &[&str], column: usize, dot: bool) -> Result<Strand, FieldError> {
    match fields[column - 1] {
        "+" => Ok(Strand::Plus),
        "-" => Ok(Strand::Minus),
        "." if dot => Ok(Strand::Unknown),
        other => Err(field_error(
            column,
            format!("strand {other:?} is not + or -"),
        )),
    }
}

/// A modkit modification code: a letter (`m` 5mC, `h` 5hmC, `a` 6mA, ...) or a ChEBI number,
/// as column 4 of its bedMethyl starts (before any `,motif,offset`). Fixed size, so that the
/// filter that carries it stays `Copy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModCode {
    bytes: [u8; MOD_CODE_MAX],
    len: u8,
}

/// Longest modification code: ChEBI numbers have at most 6 digits today.
const MOD_CODE_MAX: usize = 16;

impl ModCode {
    /// 5-methylcytosine, modkit's `m`: what bisulphite counts measure, and the default.
    pub const FIVE_MC: ModCode = ModCode {
        bytes: *b"m\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
        len: 1,
    };

    pub fn parse(text: &str) -> Result<ModCode, String> {
        let text = text.trim();
        if text.is_empty()
            || text.len() > MOD_CODE_MAX
            || !text.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(format!(
                "modification code {text:?}: expected a letter such as m (5mC) or h (5hmC), or a ChEBI number"
            ));
        }
        let mut bytes = [0u8; MOD_CODE_MAX];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        Ok(ModCode {
            bytes,
            len: text.len() as u8,
        })
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len as usize]).expect("parsed from a str")
    }
}

impl fmt::Display for ModCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Format {
    pub const ALL: [Format; 12] = [
        Format::Dss,
        Format::BismarkCov,
        Format::BismarkReport,
        Format::BedGraph,
        Format::MethylKit,
        Format::Long,
        Format::Modkit,
        Format::BedMethyl,
        Format::CgMap,
        Format::Allc,
        Format::Biscuit,
        Format::Dnmtools,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Dss => "dss",
            Format::BismarkCov => "bismark-cov",
            Format::BismarkReport => "bismark-report",
            Format::BedGraph => "bedgraph",
            Format::MethylKit => "methylkit",
            Format::Long => "long",
            Format::Modkit => "modkit",
            Format::BedMethyl => "bedmethyl",
            Format::CgMap => "cgmap",
            Format::Allc => "allc",
            Format::Biscuit => "biscuit",
            Format::Dnmtools => "dnmtools",
        }
    }

    pub fn parse(name: &str) -> Result<Format, String> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == name.trim())
            .ok_or_else(|| {
                let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
                format!(
                    "unknown format {name:?}; expected one of {}",
                    names.join(", ")
                )
            })
    }

    /// Recognise a format from the file's first line.
    pub(crate) fn detect(first_line: &str) -> Option<Format> {
        let fields: Vec<&str> = first_line.split_whitespace().collect();
        match fields.as_slice() {
            ["chr", "pos", "N", "X"] => Some(Format::Dss),
            ["chrBase", "chr", "base", "strand", "coverage", "freqC", "freqT"] => {
                Some(Format::MethylKit)
            }
            [track, ..] if *track == "track" => Some(Format::BedGraph),
            _ if LongColumns::from_header(first_line).is_some() => Some(Format::Long),
            _ if fields == ALLC_HEADER => Some(Format::Allc),
            [_, _, strand, _, _, _] if matches!(*strand, "+" | "-") => Some(Format::Dnmtools),
            [_, _, _, _, _, _] => Some(Format::BismarkCov),
            [_, _, strand, context, _, _, _] if matches!(*strand, "+" | "-") => {
                // allc has the context before the counts, Bismark's report the counts first.
                if context.parse::<u32>().is_ok() {
                    Some(Format::BismarkReport)
                } else {
                    Some(Format::Allc)
                }
            }
            [_, base, _, context, _, _, _, _]
                if matches!(*base, "C" | "G") && matches!(*context, "CG" | "CHG" | "CHH") =>
            {
                Some(Format::CgMap)
            }
            [_, start, end, beta, _]
                if start.parse::<u64>().is_ok()
                    && end.parse::<u64>().is_ok()
                    && beta.contains('.') =>
            {
                Some(Format::Biscuit)
            }
            [_, _, _, _, _, strand, _, _, colour, _, _]
                if matches!(*strand, "+" | "-" | ".") && colour.contains(',') =>
            {
                Some(Format::BedMethyl)
            }
            [_, _, _, _, _, strand, _, _, colour, ..]
                if fields.len() == 18
                    && matches!(*strand, "+" | "-" | ".")
                    && colour.contains(',') =>
            {
                Some(Format::Modkit)
            }
            _ => None,
        }
    }

    /// Does the first line hold column names (or a track line) rather than data?
    pub(crate) fn has_header(self) -> bool {
        matches!(
            self,
            Format::Dss | Format::MethylKit | Format::BedGraph | Format::Long | Format::Allc
        )
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strand {
    Plus,
    Minus,
    Unknown,
}

/// One line of a count file, normalised. Its chromosome `C` is the line's own text as parsed
/// (`&str`), a name (`String`), or the index of a name in a table (`u32`, as `Lines` gives
/// records: most lines repeat the last one's name, and a name per record was an allocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CountRecord<C = String> {
    pub chr: C,
    /// 1-based position of the C.
    pub pos: u64,
    pub strand: Strand,
    pub methylated: u32,
    pub total: u32,
}

impl<C> CountRecord<C> {
    /// The same record with its chromosome given as `chr`.
    pub(crate) fn with_chr<D>(&self, chr: D) -> CountRecord<D> {
        CountRecord {
            chr,
            pos: self.pos,
            strand: self.strand,
            methylated: self.methylated,
            total: self.total,
        }
    }
}

/// A problem with one line: the column (1-based) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldError {
    pub column: usize,
    pub message: String,
}

fn field_error(column: usize, message: impl Into<String>) -> FieldError {
    FieldError {
        column,
        message: message.into(),
    }
}

fn count(fields: &[&str], column: usize, what: &str) -> Result<u32, FieldError> {
    let text = fields[column - 1];
    text.parse::<u32>().map_err(|_| {
        field_error(
            column,
            format!("{what} {text:?} is not a whole number >= 0 (at most 4294967295)"),
        )
    })
}

fn position(fields: &[&str], column: usize) -> Result<u64, FieldError> {
    let text = fields[column - 1];
    text.parse::<u64>().map_err(|_| {
        field_error(
            column,
            format!("position {text:?} is not a whole number >= 0"),
        )
    })
}

fn chromosome<'a>(fields: &[&'a str], column: usize) -> Result<&'a str, FieldError> {
    match fields[column - 1] {
        "" => Err(field_error(column, "chromosome is empty")),
        chr => Ok(chr),
    }
}

/// Most columns of any format's data line (modkit's bedMethyl).
const MAX_COLUMNS: usize = 18;

/// Stores the first MAX_COLUMNS fields in `slots`; returns how many the line has.
fn split_fields<'a>(
    fields: impl Iterator<Item = &'a str>,
    slots: &mut [&'a str; MAX_COLUMNS],
) -> usize {
    let mut n = 0;
    for field in fields {
        if let Some(slot) = slots.get_mut(n) {
            *slot = field;
        }
        n += 1;
    }
    n
}

/// Methylated and total from methylated and unmethylated counts.
fn from_split(fields: &[&str], meth_col: usize) -> Result<(u32, u32), FieldError> {
    let m = count(fields, meth_col, "methylated count")?;
    let u = count(fields, meth_col + 1, "unmethylated count")?;
    let total = m
        .checked_add(u)
        .ok_or_else(|| field_error(meth_col, "methylated + unmethylated exceeds 4294967295"))?;
    Ok((m, total))
}

impl Format {
    /// Columns per data line.
    pub fn columns(self) -> usize {
        match self {
            Format::Dss => 4,
            Format::BismarkCov | Format::BedGraph => 6,
            Format::BismarkReport | Format::MethylKit => 7,
            Format::Long => 0,
            Format::Modkit => 18,
            Format::BedMethyl => 11,
            Format::CgMap => 8,
            Format::Allc => 7,
            Format::Biscuit => 5,
            Format::Dnmtools => 6,
        }
    }

    /// Parse one data line (without its newline).
    pub(crate) fn parse_line(self, line: &str) -> Result<CountRecord, FieldError> {
        self.parse_coded(line)
            .map(|(record, _)| record.with_chr(record.chr.to_string()))
    }

    /// Parse one data line, with its modification code where the format has one (modkit's).
    pub(crate) fn parse_coded(
        self,
        line: &str,
    ) -> Result<(CountRecord<&str>, Option<&str>), FieldError> {
        // The fields on the stack: a line's Vec was an allocation per record. Count files are
        // ASCII: std's Unicode whitespace and trim cost a fifth of the parse, char by char.
        let mut slots = [""; MAX_COLUMNS];
        let n = match self {
            Format::Dss
            | Format::Modkit
            | Format::CgMap
            | Format::Allc
            | Format::Biscuit
            | Format::Dnmtools => split_fields(line.split_ascii_whitespace(), &mut slots),
            _ => split_fields(line.split('\t').map(str::trim_ascii), &mut slots),
        };
        if n != self.columns() {
            return Err(field_error(
                n.min(self.columns()).max(1),
                format!("{n} fields, but the {self} format has {}", self.columns()),
            ));
        }
        let fields = &slots[..n];
        let mut code = None;
        let (chr, pos, strand, methylated, total) = match self {
            Format::Long => unreachable!("long tables are parsed by LongColumns"),
            Format::Modkit => {
                code = Some(fields[3].split(',').next().unwrap_or_default());
                let strand = match fields[5] {
                    "+" => Strand::Plus,
                    "-" => Strand::Minus,
                    "." => Strand::Unknown,
                    other => {
                        return Err(field_error(6, format!("strand {other:?} is not +, - or .")))
                    }
                };
                let total = count(fields, 10, "N_valid_cov")?;
                let methylated = count(fields, 12, "N_mod")?;
                if methylated > total {
                    return Err(field_error(
                        12,
                        format!("N_mod {methylated} exceeds N_valid_cov {total}"),
                    ));
                }
                let start = position(fields, 2)?;
                let chr = chromosome(fields, 1)?;
                (chr, start + 1, strand, methylated, total)
            }
            Format::BedMethyl => {
                let total = count(fields, 10, "coverage")?;
                let methylated = count_from_fraction(fields, 11, total, 100.0, "percent")?;
                let start = position(fields, 2)?;
                let strand = strand(fields, 6, true)?;
                let chr = chromosome(fields, 1)?;
                (chr, start + 1, strand, methylated, total)
            }
            Format::CgMap => {
                let strand = match fields[1] {
                    "C" => Strand::Plus,
                    "G" => Strand::Minus,
                    other => return Err(field_error(2, format!("base {other:?} is not C or G"))),
                };
                let (methylated, total) = counts_at(fields, 7, 8)?;
                let chr = chromosome(fields, 1)?;
                (chr, position(fields, 3)?, strand, methylated, total)
            }
            Format::Allc => {
                let strand = strand(fields, 3, false)?;
                let (methylated, total) = counts_at(fields, 5, 6)?;
                let chr = chromosome(fields, 1)?;
                (chr, position(fields, 2)?, strand, methylated, total)
            }
            Format::Biscuit => {
                let total = count(fields, 5, "coverage")?;
                let methylated = if fields[3] == "." && total == 0 {
                    0
                } else {
                    count_from_fraction(fields, 4, total, 1.0, "beta")?
                };
                let start = position(fields, 2)?;
                let chr = chromosome(fields, 1)?;
                (chr, start + 1, Strand::Unknown, methylated, total)
            }
            Format::Dnmtools => {
                let strand = strand(fields, 3, false)?;
                let total = count(fields, 6, "reads")?;
                let methylated = count_from_fraction(fields, 5, total, 1.0, "level")?;
                let start = position(fields, 2)?;
                let chr = chromosome(fields, 1)?;
                (chr, start + 1, strand, methylated, total)
            }
            Format::Dss => {
                let total = count(fields, 3, "total count N")?;
                let methylated = count(fields, 4, "methylated count X")?;
                if methylated > total {
                    return Err(field_error(
                        4,
                        format!("methylated count {methylated} exceeds the total {total}"),
                    ));
                }
                let chr = chromosome(fields, 1)?;
                (
                    chr,
                    position(fields, 2)?,
                    Strand::Unknown,
                    methylated,
                    total,
                )
            }
            Format::BismarkCov | Format::BedGraph => {
                let (m, total) = from_split(fields, 5)?;
                let start = position(fields, 2)?;
                let pos = if self == Format::BedGraph {
                    start + 1
                } else {
                    start
                };
                (chromosome(fields, 1)?, pos, Strand::Unknown, m, total)
            }
            Format::BismarkReport => {
                let strand = match fields[2] {
                    "+" => Strand::Plus,
                    "-" => Strand::Minus,
                    other => return Err(field_error(3, format!("strand {other:?} is not + or -"))),
                };
                let (m, total) = from_split(fields, 4)?;
                let chr = chromosome(fields, 1)?;
                (chr, position(fields, 2)?, strand, m, total)
            }
            Format::MethylKit => {
                let strand = match fields[3] {
                    "F" | "+" => Strand::Plus,
                    "R" | "-" => Strand::Minus,
                    other => return Err(field_error(4, format!("strand {other:?} is not F or R"))),
                };
                let total = count(fields, 5, "coverage")?;
                let freq_c: f64 = fields[5].parse().map_err(|_| {
                    field_error(6, format!("freqC {:?} is not a number", fields[5]))
                })?;
                if !(0.0..=100.0).contains(&freq_c) {
                    return Err(field_error(
                        6,
                        format!("freqC {freq_c} is not a percentage"),
                    ));
                }
                let exact = f64::from(total) * freq_c / 100.0;
                let methylated = exact.round();
                if (exact - methylated).abs() > METHYLKIT_ROUNDING_TOLERANCE {
                    return Err(field_error(
                        6,
                        format!(
                            "coverage {total} x freqC {freq_c}% = {exact:.3} is not close to a whole count"
                        ),
                    ));
                }
                let chr = chromosome(fields, 2)?;
                (chr, position(fields, 3)?, strand, methylated as u32, total)
            }
        };
        if pos == 0 && self != Format::BedGraph {
            return Err(field_error(2, "position 0: these coordinates are 1-based"));
        }
        let record = CountRecord {
            chr,
            pos,
            strand,
            methylated,
            total,
        };
        Ok((record, code))
    }
}

/// Where a long table keeps its fields, from its header.
#[derive(Debug, Clone)]
pub(crate) struct LongColumns {
    delimiter: char,
    /// `site` as `chr:pos`, else separate `chr` and `pos` columns (0-based indices).
    site: Option<usize>,
    chr: usize,
    pos: usize,
    sample: usize,
    methylated: usize,
    total: usize,
    n_columns: usize,
}

impl LongColumns {
    pub(crate) fn from_header(header: &str) -> Option<LongColumns> {
        let delimiter = if header.contains('\t') { '\t' } else { ',' };
        let names: Vec<&str> = header.split(delimiter).map(str::trim).collect();
        let find = |n: &str| names.iter().position(|c| *c == n);
        let site = find("site");
        let (chr, pos) = match (find("chr"), find("pos")) {
            (Some(c), Some(p)) => (c, p),
            _ => (site?, site?),
        };
        Some(LongColumns {
            delimiter,
            site: if find("chr").is_some() && find("pos").is_some() {
                None
            } else {
                site
            },
            chr,
            pos,
            sample: find("sample")?,
            methylated: find("methylated")?,
            total: find("total")?,
            n_columns: names.len(),
        })
    }

    /// The record of one line when it belongs to `sample`, else None.
    pub fn parse<'a>(
        &self,
        line: &'a str,
        sample: &str,
    ) -> Result<Option<CountRecord<&'a str>>, FieldError> {
        let fields: Vec<&str> = line.split(self.delimiter).map(str::trim).collect();
        if fields.len() != self.n_columns {
            return Err(field_error(
                fields.len().min(self.n_columns).max(1),
                format!(
                    "{} fields, but the header has {}",
                    fields.len(),
                    self.n_columns
                ),
            ));
        }
        if fields[self.sample] != sample {
            return Ok(None);
        }
        let (chr, pos) = match self.site {
            Some(c) => {
                let (chr, pos) = fields[c].rsplit_once(':').ok_or_else(|| {
                    field_error(c + 1, format!("site {:?} is not chr:pos", fields[c]))
                })?;
                let pos = pos.parse::<u64>().map_err(|_| {
                    field_error(
                        c + 1,
                        format!("site {:?}: position is not a whole number", fields[c]),
                    )
                })?;
                (chr, pos)
            }
            None => (
                chromosome(&fields, self.chr + 1)?,
                position(&fields, self.pos + 1)?,
            ),
        };
        let total = count(&fields, self.total + 1, "total count")?;
        let methylated = count(&fields, self.methylated + 1, "methylated count")?;
        if methylated > total {
            return Err(field_error(
                self.methylated + 1,
                format!("methylated count {methylated} exceeds the total {total}"),
            ));
        }
        if chr.is_empty() || pos == 0 {
            return Err(field_error(
                self.pos + 1,
                "site needs a chromosome and a 1-based position",
            ));
        }
        Ok(Some(CountRecord {
            chr,
            pos,
            strand: Strand::Unknown,
            methylated,
            total,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(chr: &str, pos: u64, strand: Strand, methylated: u32, total: u32) -> CountRecord {
        CountRecord {
            chr: chr.into(),
            pos,
            strand,
            methylated,
            total,
        }
    }

    /// Counts given as fractions: the count that gives back the printed value, or an error.
    #[test]
    fn fractions_become_the_counts_that_print_them() {
        let f = |text: &str, total: u32, scale: f64| {
            count_from_fraction(&[text], 1, total, scale, "level").map_err(|e| e.message)
        };
        assert_eq!(f("0.333333", 6, 1.0), Ok(2));
        assert_eq!(f("0.0142857", 70, 1.0), Ok(1));
        assert_eq!(f("33", 3, 100.0), Ok(1));
        assert_eq!(f("0", 0, 1.0), Ok(0));
        // 33% of 50 reads is no whole count (16 is 32%, 17 is 34%).
        assert!(f("33", 50, 100.0)
            .unwrap_err()
            .contains("not a whole count"));
        assert!(f("1.5", 4, 1.0).unwrap_err().contains("not within"));
        assert!(f("NaN", 4, 1.0).is_err());
    }

    /// modkit's documented layout (tabs, then spaces), and as `--only-tabs` writes it.
    #[test]
    fn modkit_rows_parse_with_their_code() {
        let spaced = "chr1\t99\t100\tm,CG,0\t10\t-\t99\t100\t255,0,0\t10 30.00 3 6 1 0 0 0 0";
        assert_eq!(Format::detect(spaced), Some(Format::Modkit));
        let (r, code) = Format::Modkit.parse_coded(spaced).unwrap();
        assert_eq!(
            (r.with_chr(r.chr.to_string()), code),
            (rec("chr1", 100, Strand::Minus, 3, 10), Some("m"))
        );
        let tabbed = spaced.replace(' ', "\t").replace("\t-\t", "\t.\t");
        assert_eq!(Format::detect(&tabbed), Some(Format::Modkit));
        let (r, _) = Format::Modkit.parse_coded(&tabbed).unwrap();
        assert_eq!(r.strand, Strand::Unknown);
        let bad = spaced.replace("10 30.00 3", "2 30.00 3");
        let e = Format::Modkit.parse_coded(&bad).unwrap_err();
        assert_eq!(e.column, 12, "{e:?}");
    }

    #[test]
    fn every_format_normalises_to_one_based_counts() {
        use Format as F;
        // Each line in its format, and what it reads as: chr, 1-based pos, strand, methylated,
        // total. The last five are the other tools' formats, in their documentation's layouts.
        let cases = [
            (F::Dss, "c\t3014904\t26\t2", "c 3014904 . 2 26"),
            (
                F::BismarkCov,
                "c\t910856\t910856\t100\t1\t0",
                "c 910856 . 1 1",
            ),
            (
                F::BismarkReport,
                "c\t10469\t-\t3\t5\tCG\tCGA",
                "c 10469 - 3 8",
            ),
            (F::BedGraph, "c\t10468\t10469\t60\t3\t2", "c 10469 . 3 5"),
            (
                F::MethylKit,
                "c.98\tc\t98\tF\t96\t18.75\t81.25",
                "c 98 + 18 96",
            ),
            (
                F::BedMethyl,
                "c\t9\t10\t.\t6\t+\t9\t10\t255,0,0\t6\t67",
                "c 10 + 4 6",
            ),
            (
                F::CgMap,
                "c\tG\t3000851\tCG\tCG\t0.4\t2\t5",
                "c 3000851 - 2 5",
            ),
            (F::Allc, "c\t18283342\t+\tCGT\t1\t2\t1", "c 18283342 + 1 2"),
            (F::Biscuit, "c\t10468\t10469\t0.857\t7", "c 10469 . 6 7"),
            (F::Dnmtools, "c  1871  -  CpG  0.666667  6", "c 1872 - 4 6"),
        ];
        for (format, line, want) in cases {
            let w: Vec<&str> = want.split(' ').collect();
            let strand = match w[2] {
                "+" => Strand::Plus,
                "-" => Strand::Minus,
                _ => Strand::Unknown,
            };
            let (pos, m, n) = (
                w[1].parse().unwrap(),
                w[3].parse().unwrap(),
                w[4].parse().unwrap(),
            );
            assert_eq!(
                format.parse_line(line),
                Ok(rec(w[0], pos, strand, m, n)),
                "{format}"
            );
        }
    }

    #[test]
    fn every_format_fits_the_fields_on_the_stack() {
        for format in Format::ALL {
            assert!(format.columns() <= MAX_COLUMNS, "{format}");
        }
        let line = ["x"; MAX_COLUMNS + 2].join("\t");
        let e = Format::Dss.parse_line(&line).unwrap_err();
        assert_eq!(e.message, "20 fields, but the dss format has 4", "{e:?}");
    }

    #[test]
    fn formats_are_recognised_from_the_first_line() {
        assert_eq!(Format::detect("chr\tpos\tN\tX"), Some(Format::Dss));
        assert_eq!(
            Format::detect("chrBase\tchr\tbase\tstrand\tcoverage\tfreqC\tfreqT"),
            Some(Format::MethylKit)
        );
        assert_eq!(
            Format::detect("track type=\"bedGraph\" description=\"x\""),
            Some(Format::BedGraph)
        );
        assert_eq!(
            Format::detect("chr1\t910856\t910856\t100\t1\t0"),
            Some(Format::BismarkCov)
        );
        assert_eq!(
            Format::detect("chr1\t10469\t+\t3\t5\tCG\tCGA"),
            Some(Format::BismarkReport)
        );
        for (line, format) in [
            (
                "chr1\t10468\t10469\t.\t6\t+\t10468\t10469\t255,0,0\t6\t67",
                Format::BedMethyl,
            ),
            ("chr1\tC\t3000827\tCG\tCG\t0.4\t2\t5", Format::CgMap),
            ("chr12\t18283342\t+\tCGT\t1\t2\t1", Format::Allc),
            (
                "chr\tpos\tstrand\tmc_class\tmc_count\ttotal\tmethylated",
                Format::Allc,
            ),
            ("chr1\t10468\t10469\t0.857\t7", Format::Biscuit),
            ("chr1\t1870\t+\tCpG\t0\t1", Format::Dnmtools),
        ] {
            assert_eq!(Format::detect(line), Some(format), "{line}");
        }
        assert_eq!(Format::detect("hello world"), None);
    }

    #[test]
    fn long_tables_keep_one_sample_and_find_columns_by_name() {
        let cols = LongColumns::from_header("site,sample,methylated,total").unwrap();
        assert_eq!(cols.parse("chr1:5,s2,1,3", "s1"), Ok(None));
        let owned = |r: Option<CountRecord<&str>>| r.map(|r| r.with_chr(r.chr.to_string()));
        assert_eq!(
            cols.parse("chr1:5,s1,1,3", "s1").map(owned),
            Ok(Some(rec("chr1", 5, Strand::Unknown, 1, 3)))
        );
        let cols = LongColumns::from_header("total\tmethylated\tpos\tchr\tsample").unwrap();
        assert_eq!(
            cols.parse("3\t1\t5\tchr2\ts1", "s1").map(owned),
            Ok(Some(rec("chr2", 5, Strand::Unknown, 1, 3)))
        );
        assert_eq!(cols.parse("3\t4\t5\tchr2\ts1", "s1").unwrap_err().column, 2);
        assert_eq!(
            Format::detect("site,sample,methylated,total"),
            Some(Format::Long)
        );
        assert!(LongColumns::from_header("site,sample,total").is_none());
    }

    #[test]
    fn bad_lines_name_the_column() {
        let bad = [
            (Format::Dss, "chr1\t5\t3\t4", 4, "exceeds the total"),
            (Format::Dss, "chr1\t5\t-3\t1", 3, "not a whole number"),
            (Format::Dss, "chr1\tx\t3\t1", 2, "position"),
            (Format::Dss, "chr1\t0\t3\t1", 2, "1-based"),
            (
                Format::BismarkCov,
                "chr1\t5\t5\t100\tNaN\t0",
                5,
                "methylated count",
            ),
            (
                Format::BismarkReport,
                "chr1\t5\t*\t1\t0\tCG\tCGA",
                3,
                "strand",
            ),
            (
                Format::MethylKit,
                "c.1\tc\t1\tF\t10\t33.33\t66.67",
                6,
                "not close to a whole count",
            ),
            (Format::Dss, "chr1\t5\t3", 3, "3 fields"),
            // Fields part at ASCII whitespace only: a no-break space stays in its field.
            (Format::Dss, "chr1\t5\u{a0}3\t1", 3, "3 fields"),
            (
                Format::BismarkCov,
                "chr1\t5\t5\t50\t1\u{a0}\t1",
                5,
                "not a whole number",
            ),
        ];
        for (format, line, column, fragment) in bad {
            let e = format.parse_line(line).unwrap_err();
            assert_eq!(e.column, column, "{line}: {e:?}");
            assert!(e.message.contains(fragment), "{line}: {e:?}");
        }
    }
}

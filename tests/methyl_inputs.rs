//! Methylation inputs end to end: real example files through the sample sheet and the
//! streaming merge, and every kind of bad input named by file and line.

mod common;

use std::path::Path;

use betagibbs::methyl::formats::ModCode;
use betagibbs::methyl::merge::{SiteFilter, SiteMerger};
use betagibbs::methyl::sheet::SampleSheet;

const ALL_SITES: SiteFilter = SiteFilter {
    min_coverage: 1,
    min_samples_per_group: 1,
    merge_strands: false,
    mod_code: ModCode::FIVE_MC,
};
/// The sites that all four samples of a 2 x 2 design cover.
const IN_ALL_FOUR: SiteFilter = SiteFilter {
    min_samples_per_group: 2,
    ..ALL_SITES
};

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// A gzipped file of ../shared/data, as text.
fn gunzip_shared(name: &str) -> String {
    use std::io::Read;
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(common::shared_data(name)).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    text
}

fn merge_all(sheet: &Path, filter: SiteFilter) -> Result<(u64, u64), String> {
    let sheet = SampleSheet::read(sheet).map_err(|e| e.0)?;
    let mut merger = SiteMerger::open(&sheet, filter).map_err(|e| e.0)?;
    while merger.next_site().map_err(|e| e.0)?.is_some() {}
    Ok((merger.sites_seen, merger.sites_kept))
}

/// DSS's 2 × 2 example: 7,700 CpGs are in all four files (SOURCES.md).
#[test]
#[ignore = "needs ../shared/data"]
fn dss_example_merges_to_the_documented_shared_sites() {
    let dir = tempfile::tempdir().unwrap();
    let mut sheet = String::from("sample\tfile\tgroup\n");
    for (sample, name, group) in [
        ("C1", "cond1_1", "cond1"),
        ("C2", "cond1_2", "cond1"),
        ("N1", "cond2_1", "cond2"),
        ("N2", "cond2_2", "cond2"),
    ] {
        let path = common::shared_data(&format!("{name}.txt.gz"));
        sheet.push_str(&format!("{sample}\t{}\t{group}\n", path.display()));
    }
    write(dir.path(), "sheet.tsv", &sheet);
    let (seen, kept) = merge_all(&dir.path().join("sheet.tsv"), IN_ALL_FOUR).unwrap();
    assert_eq!(kept, 7_700, "sites in all four files (of {seen})");
}

/// methylKit's example files are not sorted by position: the merge must say so, naming the
/// line; sorted (as `sort -k2,2 -k3,3n` would), 963 CpGs are in all four (SOURCES.md), with
/// the percentages turned back into counts.
#[test]
#[ignore = "needs ../shared/data"]
fn methylkit_example_is_refused_unsorted_and_merges_sorted() {
    let dir = tempfile::tempdir().unwrap();
    let names = ["test1", "test2", "control1", "control2"];
    let mut sheet = String::from("sample,file,group\n");
    for name in names {
        let text = gunzip_shared(&format!("{name}.myCpG.txt.gz"));
        let mut lines: Vec<&str> = text.lines().collect();
        let header = lines.remove(0);
        lines.sort_by_key(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[1].to_string(), f[2].parse::<u64>().unwrap())
        });
        write(
            dir.path(),
            &format!("{name}.txt"),
            &format!("{header}\n{}\n", lines.join("\n")),
        );
        let group = if name.starts_with("test") {
            "test"
        } else {
            "control"
        };
        sheet.push_str(&format!("{name},{name}.txt,{group}\n"));
    }
    write(dir.path(), "sheet.csv", &sheet);
    let (_, kept) = merge_all(&dir.path().join("sheet.csv"), IN_ALL_FOUR).unwrap();
    assert_eq!(kept, 963);

    write(
        dir.path(),
        "unsorted.csv",
        &format!(
            "sample,file,group\nt1,{},test\n",
            common::shared_data("test1.myCpG.txt.gz").display()
        ),
    );
    let err = merge_all(&dir.path().join("unsorted.csv"), ALL_SITES).unwrap_err();
    assert!(err.contains("test1.myCpG.txt.gz:3: unsorted"), "{err}");
}

/// Bismark's coverage format, gzipped, read as one sample.
#[test]
#[ignore = "needs ../shared/data"]
fn bismark_coverage_file_reads() {
    let data = common::shared_data("test_data.fastq_bismark.bismark.cov.gz");
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "sheet.csv",
        &format!("sample,file,group\ns,{},g\n", data.display()),
    );
    let (seen, kept) = merge_all(&dir.path().join("sheet.csv"), ALL_SITES).unwrap();
    assert_eq!((seen, kept), (2013, 2013));
}

#[test]
fn strands_merge_into_one_cpg() {
    let dir = tempfile::tempdir().unwrap();
    let report =
        "chr1\t100\t+\t3\t1\tCG\tCGA\nchr1\t101\t-\t2\t2\tCG\tCGT\nchr1\t200\t-\t1\t0\tCG\tCGT\n";
    write(dir.path(), "a.txt", report);
    write(dir.path(), "sheet.csv", "sample,file,group\na,a.txt,g\n");
    let sheet = SampleSheet::read(&dir.path().join("sheet.csv")).unwrap();
    let merged = SiteFilter {
        merge_strands: true,
        ..ALL_SITES
    };
    let mut m = SiteMerger::open(&sheet, merged).unwrap();
    let a = m.next_site().unwrap().unwrap();
    assert_eq!((a.pos, a.counts.clone()), (100, vec![(0, 5, 8)]));
    let b = m.next_site().unwrap().unwrap();
    assert_eq!((b.pos, b.counts), (199, vec![(0, 1, 1)]));
    assert!(m.next_site().unwrap().is_none());
}

/// What is wrong, the files (name, contents), and what the error must say.
type BadCase = (
    &'static str,
    Vec<(&'static str, String)>,
    &'static [&'static str],
);

/// Each case: files, and what the error must say.
#[test]
fn bad_inputs_are_named_by_file_and_line() {
    let dss = |rows: &str| format!("chr\tpos\tN\tX\n{rows}");
    let cases: Vec<BadCase> = vec![
        (
            "methylated above total",
            vec![("a.txt", dss("chr1\t5\t10\t3\nchr1\t9\t3\t4\n"))],
            &["a.txt:3:4", "exceeds the total"],
        ),
        (
            "negative count",
            vec![("a.txt", dss("chr1\t5\t-1\t0\n"))],
            &["a.txt:2:3", "not a whole number"],
        ),
        (
            "coverage the f32 kernels cannot hold exactly",
            vec![(
                "a.txt",
                dss("chr1\t5\t10\t3\nchr1\t9\t4000000000\t2000000000\n"),
            )],
            &["a.txt:3", "coverage 4000000000 at chr1:9 is above 2^24"],
        ),
        (
            "non-numeric",
            vec![("a.txt", dss("chr1\tfive\t1\t0\n"))],
            &["a.txt:2:2", "position"],
        ),
        (
            "unsorted positions",
            vec![("a.txt", dss("chr1\t9\t1\t0\nchr1\t5\t1\t0\n"))],
            &["a.txt:3", "unsorted", "chr1:5"],
        ),
        (
            "duplicate position",
            vec![("a.txt", dss("chr1\t9\t1\t0\nchr1\t9\t2\t0\n"))],
            &["a.txt:3", "duplicate position chr1:9", "line 2"],
        ),
        (
            "chromosome comes back",
            vec![(
                "a.txt",
                dss("chr1\t9\t1\t0\nchr2\t5\t1\t0\nchr1\t20\t1\t0\n"),
            )],
            &["a.txt:4", "chromosome chr1 appears again"],
        ),
        (
            "chromosome orders differ",
            vec![
                ("a.txt", dss("chr1\t9\t1\t0\nchr2\t5\t1\t0\n")),
                ("b.txt", dss("chr2\t5\t1\t0\nchr1\t9\t1\t0\n")),
            ],
            &["b.txt", "chr2 comes before chr1", "a.txt"],
        ),
        (
            "a header and no counts",
            vec![("a.txt", dss("chr1\t9\t1\t0\n")), ("b.txt", dss(""))],
            &["b.txt", "no counts for sample \"s1\""],
        ),
        (
            "a long table without the sample's rows",
            vec![(
                "a.txt",
                "site,sample,methylated,total\nchr1:9,other,1,2\n".into(),
            )],
            &["a.txt", "no rows of sample \"s0\""],
        ),
        (
            "blank lines, then a bad line: its own line number",
            vec![("a.txt", format!("\n\n{}", dss("chr1\tfive\t1\t0\n")))],
            &["a.txt:4:2", "position"],
        ),
    ];
    for (what, files, fragments) in cases {
        let dir = tempfile::tempdir().unwrap();
        let mut sheet = String::from("sample,file,group\n");
        for (k, (name, text)) in files.iter().enumerate() {
            write(dir.path(), name, text);
            sheet.push_str(&format!("s{k},{name},g{k}\n"));
        }
        write(dir.path(), "sheet.csv", &sheet);
        let err = merge_all(&dir.path().join("sheet.csv"), ALL_SITES).unwrap_err();
        for f in fragments {
            assert!(err.contains(f), "{what}: {err:?} lacks {f:?}");
        }
    }
}

/// Blank lines before the header (an editor's, or a concatenation's) are skipped, not taken
/// for an empty file.
#[test]
fn leading_blank_lines_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.txt",
        "\n\r\n\nchr\tpos\tN\tX\nchr1\t9\t4\t1\nchr1\t12\t2\t2\n",
    );
    write(dir.path(), "sheet.csv", "sample,file,group\ns0,a.txt,g0\n");
    assert_eq!(
        merge_all(&dir.path().join("sheet.csv"), ALL_SITES),
        Ok((2, 2))
    );
}

#[test]
fn bad_sample_sheets_are_named_by_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.txt", "chr\tpos\tN\tX\nchr1\t5\t1\t0\n");
    let cases: [(&str, &[&str]); 4] = [
        (
            "sample,file,group\na,missing.txt,g\n",
            &["sheet.csv:2:2", "missing.txt not found"],
        ),
        (
            "sample,file,group\na,a.txt,g\na,a.txt,h\n",
            &["sheet.csv:3:1", "appears twice"],
        ),
        (
            "sample,file\na,a.txt\n",
            &["sheet.csv:1", "column 'group' not found"],
        ),
        (
            "sample,file,group,format\na,a.txt,g,bam\n",
            &["sheet.csv:2:4", "unknown format"],
        ),
    ];
    for (text, fragments) in cases {
        write(dir.path(), "sheet.csv", text);
        let err = SampleSheet::read(&dir.path().join("sheet.csv"))
            .unwrap_err()
            .0;
        for f in fragments {
            assert!(err.contains(f), "{text:?}: {err:?} lacks {f:?}");
        }
    }
    // A byte-order mark before the sheet's header and a count file's header (Excel's "CSV
    // UTF-8") is not part of the first column's name.
    write(
        dir.path(),
        "bom.txt",
        "\u{feff}chr\tpos\tN\tX\nchr1\t5\t1\t0\n",
    );
    write(
        dir.path(),
        "sheet.csv",
        "\u{feff}sample,file,group\na,bom.txt,g\nb,a.txt,h\n",
    );
    assert_eq!(
        merge_all(&dir.path().join("sheet.csv"), ALL_SITES),
        Ok((1, 1))
    );
    // One count file listed for two samples: its reads would count twice.
    write(
        dir.path(),
        "sheet.csv",
        "sample,file,group\na,a.txt,g\nb,./a.txt,h\n",
    );
    let err = merge_all(&dir.path().join("sheet.csv"), ALL_SITES).unwrap_err();
    for f in [
        "sheet.csv:3",
        "sample \"b\"",
        "sample \"a\" (line 2) names already",
    ] {
        assert!(err.contains(f), "{err:?} lacks {f:?}");
    }
    write(dir.path(), "sheet.csv", "sample,file,group\na,a.txt,g\n");
    let sheet = SampleSheet::read(&dir.path().join("sheet.csv")).unwrap();
    let err = sheet.group_index("treated").unwrap_err().0;
    assert!(err.contains("no sample is in group \"treated\""), "{err}");
}

/// The long table (all samples in one file), as CSV and as Parquet, gives the same sites as
/// the four DSS files.
#[test]
#[ignore = "needs ../shared/data"]
fn long_table_merges_like_the_per_sample_files() {
    let names = ["cond1_1", "cond1_2", "cond2_1", "cond2_2"];
    let mut rows: Vec<(u64, String)> = Vec::new();
    for name in names {
        let text = gunzip_shared(&format!("{name}.txt.gz"));
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            rows.push((
                f[1].parse().unwrap(),
                format!("{}:{},{name},{},{}", f[0], f[1], f[3], f[2]),
            ));
        }
    }
    rows.sort_by_key(|r| r.0);
    let dir = tempfile::tempdir().unwrap();
    let body: Vec<String> = rows.into_iter().map(|r| r.1).collect();
    write(
        dir.path(),
        "long.csv",
        &format!("site,sample,methylated,total\n{}\n", body.join("\n")),
    );
    let mut sheet = String::from("sample,file,group\n");
    for name in names {
        sheet.push_str(&format!("{name},long.csv,{}\n", &name[..5]));
    }
    write(dir.path(), "sheet.csv", &sheet);
    let (_, kept) = merge_all(&dir.path().join("sheet.csv"), IN_ALL_FOUR).unwrap();
    assert_eq!(kept, 7_700);

    // The same table as Parquet.
    use arrow::array::{ArrayRef, Int32Array, RecordBatch, StringArray};
    use std::sync::Arc;
    let fields: Vec<Vec<&str>> = body.iter().map(|r| r.split(',').collect()).collect();
    let batch = RecordBatch::try_from_iter([
        (
            "site",
            Arc::new(StringArray::from_iter_values(fields.iter().map(|f| f[0]))) as ArrayRef,
        ),
        (
            "sample",
            Arc::new(StringArray::from_iter_values(fields.iter().map(|f| f[1]))) as ArrayRef,
        ),
        (
            "methylated",
            Arc::new(Int32Array::from_iter_values(
                fields.iter().map(|f| f[2].parse().unwrap()),
            )) as ArrayRef,
        ),
        (
            "total",
            Arc::new(Int32Array::from_iter_values(
                fields.iter().map(|f| f[3].parse().unwrap()),
            )) as ArrayRef,
        ),
    ])
    .unwrap();
    let file = std::fs::File::create(dir.path().join("long.parquet")).unwrap();
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    write(
        dir.path(),
        "sheet.csv",
        &sheet.replace("long.csv", "long.parquet"),
    );
    let (_, kept) = merge_all(&dir.path().join("sheet.csv"), IN_ALL_FOUR).unwrap();
    assert_eq!(kept, 7_700);
}

/// modkit `pileup` bedMethyl in the layout of its documentation (columns 1-9 tab-separated,
/// 10-18 space-separated; the last row as `--only-tabs` writes it): detected from its first
/// line, its `m` rows read as DSS counts of the same sites (0-based starts, N_mod of
/// N_valid_cov), its `h` rows skipped, its strands kept or merged, and a file without the
/// chosen code refused.
#[test]
fn modkit_bedmethyl_reads_like_its_dss_twin() {
    let dir = tempfile::tempdir().unwrap();
    let row = |chr: &str, start: u32, code: &str, strand: &str, valid: u32, n_mod: u32| {
        let percent = 100.0 * f64::from(n_mod) / f64::from(valid);
        format!(
            "{chr}\t{start}\t{}\t{code}\t{valid}\t{strand}\t{start}\t{}\t255,0,0\t{valid} {percent:.2} {n_mod} {} 0 0 1 0 0\n",
            start + 1,
            start + 1,
            valid - n_mod
        )
    };
    let modkit = [
        row("chr1", 99, "m", "+", 10, 3),
        row("chr1", 99, "h", "+", 10, 1),
        row("chr1", 100, "m", "-", 8, 4),
        row("chr1", 199, "m,CG,0", ".", 5, 5),
        row("chr2", 9, "m", "+", 12, 6).replace(' ', "\t"),
    ]
    .concat();
    write(dir.path(), "a.bed", &modkit);
    write(
        dir.path(),
        "b.txt",
        "chr pos N X\nchr1 100 10 3\nchr1 101 8 4\nchr1 200 5 5\nchr2 10 12 6\n",
    );
    write(
        dir.path(),
        "sheet.csv",
        "sample,file,group\na,a.bed,g\nb,b.txt,h\n",
    );
    let sheet = SampleSheet::read(&dir.path().join("sheet.csv")).unwrap();
    let mut m = SiteMerger::open(&sheet, ALL_SITES).unwrap();
    let mut sites = Vec::new();
    while let Some(site) = m.next_site().unwrap() {
        sites.push((site.pos, site.counts));
    }
    // Each site: the modkit sample (0) and its DSS twin (1) with the same counts.
    let want = [(100, 3, 10), (101, 4, 8), (200, 5, 5), (10, 6, 12)];
    assert_eq!(sites.len(), want.len(), "{sites:?}");
    for ((pos, counts), (p, x, n)) in sites.iter().zip(want) {
        assert_eq!((*pos, counts.clone()), (p, vec![(0, x, n), (1, x, n)]));
    }
    // Strands merged: the minus strand's C (101) joins the CpG's plus-strand C (100).
    write(dir.path(), "one.csv", "sample,file,group\na,a.bed,g\n");
    let one = SampleSheet::read(&dir.path().join("one.csv")).unwrap();
    let merged = SiteFilter {
        merge_strands: true,
        ..ALL_SITES
    };
    let mut m = SiteMerger::open(&one, merged).unwrap();
    let first = m.next_site().unwrap().unwrap();
    assert_eq!((first.pos, first.counts), (100, vec![(0, 7, 18)]));
    // 5hmC instead: its one row.
    let hmc = SiteFilter {
        mod_code: ModCode::parse("h").unwrap(),
        ..ALL_SITES
    };
    let mut m = SiteMerger::open(&one, hmc).unwrap();
    let first = m.next_site().unwrap().unwrap();
    assert_eq!((first.pos, first.counts), (100, vec![(0, 1, 10)]));
    assert!(m.next_site().unwrap().is_none());
    // A file without the chosen code: refused, naming the codes it has.
    write(dir.path(), "c.bed", &row("chr1", 99, "h", "+", 10, 1));
    write(dir.path(), "c.csv", "sample,file,group\nc,c.bed,g\n");
    let only_h = SampleSheet::read(&dir.path().join("c.csv")).unwrap();
    let err = SiteMerger::open(&only_h, ALL_SITES).err().unwrap().0;
    assert!(
        err.contains("c.bed") && err.contains("only of h") && err.contains("--mod-code"),
        "{err}"
    );
    assert!(ModCode::parse("m,CG").is_err() && ModCode::parse("").is_err());
}

/// A format's line of one record: (chr, 1-based pos, strand, methylated, total).
type RowWriter<'a> = &'a dyn Fn(&str, u64, &str, u32, u32) -> String;

/// The other tools' count formats, each written in its documentation's layout from the same
/// counts as a DSS file: detected from their first lines, they merge to the DSS file's sites
/// and counts (coordinates normalised, counts rebuilt from levels and percentages).
#[test]
fn every_other_tools_format_reads_like_its_dss_twin() {
    // (chr, 1-based pos, strand, methylated, total); totals up to 100, so that an integer
    // percentage still names one count.
    let records = [
        ("chr1", 100, "+", 3, 10),
        ("chr1", 101, "-", 4, 8),
        ("chr1", 200, "+", 0, 13),
        ("chr1", 350, "-", 67, 67),
        ("chr2", 10, "+", 29, 97),
    ];
    let dss: String = std::iter::once("chr pos N X\n".to_string())
        .chain(
            records
                .iter()
                .map(|(c, p, _, m, n)| format!("{c} {p} {n} {m}\n")),
        )
        .collect();
    let level = |m: u32, n: u32| f64::from(m) / f64::from(n);
    let writers: [(&str, RowWriter); 5] = [
        ("bedmethyl", &|c, p, s, m, n| {
            let percent = (100.0 * level(m, n)).round();
            format!(
                "{c}\t{}\t{p}\t.\t{n}\t{s}\t{}\t{p}\t255,0,0\t{n}\t{percent}\n",
                p - 1,
                p - 1
            )
        }),
        ("cgmap", &|c, p, s, m, n| {
            let base = if s == "+" { "C" } else { "G" };
            format!("{c}\t{base}\t{p}\tCG\tCG\t{:.2}\t{m}\t{n}\n", level(m, n))
        }),
        ("allc", &|c, p, s, m, n| {
            format!("{c}\t{p}\t{s}\tCGN\t{m}\t{n}\t1\n")
        }),
        ("biscuit", &|c, p, _, m, n| {
            format!("{c}\t{}\t{p}\t{:.3}\t{n}\n", p - 1, level(m, n))
        }),
        ("dnmtools", &|c, p, s, m, n| {
            format!("{c}\t{}\t{s}\tCpG\t{:.6}\t{n}\n", p - 1, level(m, n))
        }),
    ];
    for (name, write_row) in writers {
        let dir = tempfile::tempdir().unwrap();
        let text: String = records
            .iter()
            .map(|&(c, p, s, m, n)| write_row(c, p, s, m, n))
            .collect();
        write(dir.path(), "a.txt", &text);
        write(dir.path(), "b.txt", &dss);
        write(
            dir.path(),
            "sheet.csv",
            "sample,file,group\na,a.txt,g\nb,b.txt,h\n",
        );
        let sheet = SampleSheet::read(&dir.path().join("sheet.csv")).unwrap();
        let mut m = SiteMerger::open(&sheet, ALL_SITES)
            .unwrap_or_else(|e| panic!("{name}: {}\n{text}", e.0));
        for &(_, p, _, x, n) in &records {
            let site = m.next_site().unwrap().unwrap();
            assert_eq!(
                (site.pos, site.counts),
                (p, vec![(0, x, n), (1, x, n)]),
                "{name}:\n{text}"
            );
        }
        assert!(m.next_site().unwrap().is_none(), "{name}");
    }
}

/// A DSS file (header, then `chr pos N X`) of 3 chromosomes, a blank line now and then, and
/// a dnmtools file of CpGs on both strands, CRLF-ended, after 1,000 blank lines: their
/// scan's ranges may end anywhere.
fn scanned_study(dir: &Path) -> SampleSheet {
    let mut dss = String::from("chr\tpos\tN\tX\n\n");
    // Blank lines before the first: some ranges hold nothing else.
    let mut dnmtools = "\r\n".repeat(1000);
    for (c, chr) in ["chr1", "chr2", "chrX"].iter().enumerate() {
        for i in 0..700u64 {
            let pos = 100 + 37 * i + c as u64;
            let n = 5 + (i * 7 + c as u64) % 20;
            dss.push_str(&format!("{chr}\t{pos}\t{n}\t{}\n", (i * 3) % (n + 1)));
            if i % 97 == 0 {
                dss.push('\n');
            }
            for (strand, at) in [("+", pos - 1), ("-", pos)] {
                let m = (i + at) % 11;
                let level = format!("{}", m as f64 / 10.0);
                let reads = if m > 10 { 11 } else { 10 };
                dnmtools.push_str(&format!("{chr}\t{at}\t{strand}\tCpG\t{level}\t{reads}\r\n"));
            }
        }
    }
    write(dir, "a.txt", &dss);
    write(dir, "b.txt", &dnmtools);
    write(
        dir,
        "sheet.tsv",
        "sample\tfile\tgroup\nA1\ta.txt\tA\nB1\tb.txt\tB\n",
    );
    SampleSheet::read(&dir.join("sheet.tsv")).unwrap()
}

/// The chromosome scan of each file split into byte ranges, a thread each (genome-scale
/// files on many cores), finds what one thread reading the whole file finds: the same
/// chromosomes and the same stage-1 sample, strands merged or not, however the ranges cut
/// the lines (mid-line, at a line's start, in the header, on a blank line).
#[test]
fn a_scan_split_into_byte_ranges_finds_what_one_thread_finds() {
    use betagibbs::methyl::scan_sample::{HyperSites, ScanSampling};
    let dir = tempfile::tempdir().unwrap();
    let sheet = scanned_study(dir.path());
    // 300 records a file (truncated: the 100 sites of lowest hash), or every record (all
    // 2,100 sites, each sample's counts of each: a record lost or read twice shows).
    let every = HyperSites {
        share: 1.0,
        least: 1,
        most: 100_000,
    };
    for (per_file, hyper, sites) in [(300, HyperSites::exactly(100), 100), (10_000, every, 2_100)] {
        for merge_strands in [false, true] {
            let filter = SiteFilter {
                merge_strands,
                ..ALL_SITES
            };
            let sampling = ScanSampling {
                seed: 5,
                per_file,
                merge_strands,
            };
            let scan = |ranges: usize| {
                let merger =
                    SiteMerger::open_split(&sheet, filter, None, Some(sampling), Some(ranges))
                        .unwrap();
                (merger.chromosomes.clone(), merger.scan_sample(hyper, 0))
            };
            let whole = scan(1);
            assert_eq!(whole.0, ["chr1", "chr2", "chrX"]);
            assert_eq!(whole.1.as_ref().map(Vec::len), Some(sites));
            for ranges in [2, 3, 4, 7, 16, 61, 250] {
                assert_eq!(
                    scan(ranges),
                    whole,
                    "{ranges} ranges, {per_file} records, merge_strands {merge_strands}"
                );
            }
        }
    }
}

/// A file's first problem, split or not: the same message at the same line, whether it is
/// a bad line or a chromosome that comes back, and whichever comes first.
#[test]
fn a_split_scan_reports_the_first_problem_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let lines = |bad_at: Option<usize>, back_at: Option<usize>| {
        let mut text = String::from("chr\tpos\tN\tX\n");
        let mut line = 1;
        let blocks: &[&str] = match back_at {
            Some(_) => &["chr1", "chr2", "chr1", "chr3"],
            None => &["chr1", "chr2", "chr3"],
        };
        for chr in blocks {
            for i in 0..300 {
                line += 1;
                let pos = if bad_at == Some(line) {
                    "x".to_string()
                } else {
                    (10 + i).to_string()
                };
                text.push_str(&format!("{chr}\t{pos}\t9\t4\n"));
            }
        }
        text
    };
    // (bad line, chromosome back): the bad line first, the chromosome back first, each alone.
    let cases = [
        (
            Some(650),
            Some(602),
            ":602: unsorted: chromosome chr1 appears again after chr2 (first on line 2)",
        ),
        (Some(450), Some(602), ":450:"),
        (None, Some(602), ":602: unsorted"),
        (Some(850), None, ":850:"),
    ];
    for (bad_at, back_at, want) in cases {
        write(dir.path(), "a.txt", &lines(bad_at, back_at));
        write(dir.path(), "b.txt", &lines(None, None));
        write(
            dir.path(),
            "sheet.tsv",
            "sample\tfile\tgroup\nA1\ta.txt\tA\nB1\tb.txt\tB\n",
        );
        let sheet = SampleSheet::read(&dir.path().join("sheet.tsv")).unwrap();
        let error = |ranges: usize| match SiteMerger::open_split(
            &sheet,
            ALL_SITES,
            None,
            None,
            Some(ranges),
        ) {
            Ok(_) => panic!("{bad_at:?} {back_at:?}: no error with {ranges} ranges"),
            Err(e) => e.0,
        };
        let whole = error(1);
        assert!(whole.contains(want), "{bad_at:?} {back_at:?}: {whole}");
        for ranges in [2, 3, 5, 8, 13, 40] {
            assert_eq!(error(ranges), whole, "{ranges} ranges");
        }
    }
}

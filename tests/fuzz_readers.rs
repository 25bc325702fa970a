//! Every reader against mutated input: valid files of each kind (CSV, TSV, Parquet, gzip, the
//! methylation count formats, the long table, the sample sheet) with bytes flipped, inserted,
//! deleted, lines duplicated or cut short, by a seeded Philox stream so that a failure
//! reproduces. The property: no panic; a file either reads or gives a user error (exit code 2)
//! of one line that names the file; and through the binary, a refused run writes nothing.

mod common;

use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use betagibbs::io::read::{read_dataset, ColumnSpec};
use betagibbs::methyl::formats::ModCode;
use betagibbs::methyl::merge::{SiteFilter, SiteMerger};
use betagibbs::methyl::sheet::SampleSheet;
use betagibbs::rng::{Stream, UniformStream};
use common::cli::sample;

/// Mutants per seed file: enough to reach every branch of a small reader many times.
const MUTANTS: u32 = 1000;

/// Bytes worth inserting: delimiters, quotes, line ends, signs, digits, a NUL, a BOM's first
/// byte, high bytes (invalid UTF-8).
const INTERESTING: &[u8] = b",\t\n\r\"'-+.e0123456789\0\xef\xff:";

/// One mutant of `seed`: one to four edits.
fn mutate(seed: &[u8], rng: &mut UniformStream) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    let pick = |rng: &mut UniformStream, n: usize| (rng.next_f64() * n as f64) as usize % n.max(1);
    for _ in 0..1 + pick(rng, 4) {
        let at = pick(rng, bytes.len() + 1);
        match pick(rng, 7) {
            0 if at < bytes.len() => bytes[at] ^= 1 << pick(rng, 8),
            1 => bytes.insert(at, INTERESTING[pick(rng, INTERESTING.len())]),
            2 if at < bytes.len() => {
                let end = (at + 1 + pick(rng, 8)).min(bytes.len());
                bytes.drain(at..end);
            }
            3 => bytes.truncate(at),
            4 => {
                // A line repeated: duplicates and out-of-order positions.
                let start = bytes[..at]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |i| i + 1);
                let end = bytes[at..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |i| at + i + 1);
                let line = bytes[start..end].to_vec();
                bytes.splice(end..end, line);
            }
            5 => {
                // A number made huge or negative.
                let digits: &[u8] = if pick(rng, 2) == 0 {
                    b"99999999999"
                } else {
                    b"-1"
                };
                bytes.splice(at..at, digits.iter().copied());
            }
            _ => bytes.insert(at, pick(rng, 256) as u8),
        }
    }
    bytes
}

/// Runs `read` on a file holding each mutant of `seed`; fails on a panic, or an error
/// message that is not one line naming the file.
fn fuzz(name: &str, seed: &[u8], stream: u32, read: impl Fn(&Path) -> Result<(), String>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, seed).unwrap();
    read(&path).unwrap_or_else(|e| panic!("{name}: the seed itself fails: {e}"));
    let (mut ok, mut refused) = (0, 0);
    for k in 0..MUTANTS {
        let mut rng = UniformStream::new(31, stream, k, 0, 0, Stream::Predictive);
        let mutant = mutate(seed, &mut rng);
        std::fs::write(&path, &mutant).unwrap();
        match catch_unwind(AssertUnwindSafe(|| read(&path))) {
            Err(_) => panic!(
                "{name}, mutant {k}: panicked on {:?}",
                String::from_utf8_lossy(&mutant)
            ),
            Ok(Ok(())) => ok += 1,
            Ok(Err(message)) => {
                refused += 1;
                assert!(
                    message.contains(name) && !message.contains('\n'),
                    "{name}, mutant {k}: the message must be one line naming the file: {message:?}"
                );
            }
        }
    }
    eprintln!("{name}: {ok} mutants read, {refused} refused by name");
}

fn columns() -> ColumnSpec {
    ColumnSpec {
        successes: "y".into(),
        trials: "n".into(),
        unit: Some("unit".into()),
        id: Some("id".into()),
        aggregate_ids: false,
        groups: Vec::new(),
    }
}

const TABLE: &str = "id,unit,y,n\na,u1,1,5\nb,u1,2,6\n\"c, d\",u2,0,4\ne,u2,3,3\n";

#[test]
fn delimited_tables_never_panic() {
    let read = |p: &Path| read_dataset(p, &columns()).map(|_| ()).map_err(|e| e.0);
    fuzz("table.csv", TABLE.as_bytes(), 0, read);
    fuzz("table.tsv", TABLE.replace(',', "\t").as_bytes(), 1, read);
}

#[test]
fn parquet_tables_never_panic() {
    use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
    use std::sync::Arc;
    let batch = RecordBatch::try_from_iter([
        (
            "id",
            Arc::new(StringArray::from(vec!["a", "b", "c"])) as ArrayRef,
        ),
        (
            "unit",
            Arc::new(StringArray::from(vec!["u1", "u1", "u2"])) as ArrayRef,
        ),
        ("y", Arc::new(Int64Array::from(vec![1, 2, 0])) as ArrayRef),
        ("n", Arc::new(Int64Array::from(vec![5, 6, 4])) as ArrayRef),
    ])
    .unwrap();
    let mut bytes = Vec::new();
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(&mut bytes, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    let read = |p: &Path| read_dataset(p, &columns()).map(|_| ()).map_err(|e| e.0);
    fuzz("table.parquet", &bytes, 2, read);
}

/// A sheet of two samples whose second sample's file is the one fuzzed (the first stays valid),
/// merged; its scan also split into byte ranges, which must agree.
fn merge_with(fuzzed: &Path, format: &str) -> Result<(), String> {
    let dir = fuzzed.parent().unwrap();
    let good = "chr\tpos\tN\tX\nchr1\t10\t5\t2\nchr1\t20\t7\t7\n";
    std::fs::write(dir.join("good.txt"), good).unwrap();
    let name = fuzzed.file_name().unwrap().to_str().unwrap();
    let sheet = format!("sample,file,group,format\nA,good.txt,A,dss\nB,{name},B,{format}\n");
    std::fs::write(dir.join("sheet.csv"), sheet).unwrap();
    let sheet = SampleSheet::read(&dir.join("sheet.csv")).map_err(|e| e.0)?;
    let filter = SiteFilter {
        min_coverage: 1,
        min_samples_per_group: 1,
        merge_strands: false,
        mod_code: ModCode::FIVE_MC,
    };
    // The chromosome scan split into byte ranges (three a file, however short) finds what one
    // thread reading each file finds: the same chromosomes, or the same first error.
    let split = SiteMerger::open_split(&sheet, filter, None, None, Some(3));
    let mut merger = match (SiteMerger::open(&sheet, filter), split) {
        (Ok(whole), Ok(split)) => {
            assert_eq!(whole.chromosomes, split.chromosomes, "{name}: split scan");
            whole
        }
        (Err(whole), Err(split)) => {
            assert_eq!(whole.0, split.0, "{name}: split scan");
            return Err(whole.0);
        }
        (whole, split) => panic!(
            "{name}: the split scan disagrees: {:?} against {:?}",
            whole.err().map(|e| e.0),
            split.err().map(|e| e.0)
        ),
    };
    while merger.next_site().map_err(|e| e.0)?.is_some() {}
    Ok(())
}

#[test]
fn methylation_count_files_never_panic() {
    let seeds: [(&str, &str, &str); 12] = [
        ("dss.txt", "dss", "chr\tpos\tN\tX\nchr1\t10\t9\t4\nchr1\t20\t3\t0\nchr2\t5\t8\t8\n"),
        ("bismark.cov", "bismark-cov", "chr1\t10\t10\t40.0\t2\t3\nchr1\t20\t20\t100\t4\t0\nchr2\t5\t5\t0\t0\t6\n"),
        (
            "report.txt",
            "bismark-report",
            "chr1\t10\t+\t2\t3\tCG\tCGA\nchr1\t11\t-\t1\t1\tCG\tCGT\nchr2\t5\t+\t0\t6\tCG\tCGG\n",
        ),
        (
            "dackel.bedGraph",
            "bedgraph",
            "track type=\"bedGraph\" description=\"x\"\nchr1\t9\t10\t40\t2\t3\nchr1\t19\t20\t100\t4\t0\n",
        ),
        (
            "methylkit.txt",
            "methylkit",
            "chrBase\tchr\tbase\tstrand\tcoverage\tfreqC\tfreqT\nchr1.10\tchr1\t10\tF\t5\t40.00\t60.00\nchr1.20\tchr1\t20\tR\t4\t100.00\t0.00\n",
        ),
        ("long.csv", "long", "site,sample,methylated,total\nchr1:10,B,2,5\nchr1:20,B,4,4\nchr2:5,B,0,6\n"),
        (
            "pileup.bed",
            "modkit",
            "chr1\t9\t10\tm\t5\t+\t9\t10\t255,0,0\t5 40.00 2 3 0 0 0 0 0\nchr1\t9\t10\th\t5\t+\t9\t10\t255,0,0\t5 20.00 1 3 1 0 0 0 0\nchr1\t19\t20\tm,CG,0\t4\t.\t19\t20\t255,0,0\t4 100.00 4 0 0 0 0 0 0\n",
        ),
        ("encode.bed", "bedmethyl", "chr1\t9\t10\t.\t5\t+\t9\t10\t255,0,0\t5\t40\nchr1\t19\t20\t.\t4\t-\t19\t20\t255,0,0\t4\t100\n"),
        ("x.CGmap", "cgmap", "chr1\tC\t10\tCG\tCG\t0.4\t2\t5\nchr1\tG\t11\tCG\tCG\t1.0\t4\t4\n"),
        ("x.allc", "allc", "chr1\t10\t+\tCGN\t2\t5\t1\nchr1\t11\t-\tCGN\t4\t4\t1\n"),
        ("x.bed", "biscuit", "chr1\t9\t10\t0.400\t5\nchr1\t19\t20\t1.000\t4\n"),
        ("x.meth", "dnmtools", "chr1\t9\t+\tCpG\t0.4\t5\nchr1\t10\t-\tCpG\t1\t4\n"),
    ];
    for (k, (name, format, text)) in seeds.into_iter().enumerate() {
        fuzz(name, text.as_bytes(), 10 + k as u32, |p| {
            merge_with(p, format)
        });
    }
}

#[test]
fn gzipped_count_files_never_panic() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"chr\tpos\tN\tX\nchr1\t10\t9\t4\nchr1\t20\t3\t0\n")
        .unwrap();
    fuzz("dss.txt.gz", &gz.finish().unwrap(), 20, |p| {
        merge_with(p, "dss")
    });
}

#[test]
fn sample_sheets_never_panic() {
    let read = |p: &Path| {
        let dir = p.parent().unwrap();
        for (file, text) in [
            ("a.txt", "chr\tpos\tN\tX\nchr1\t10\t9\t4\n"),
            ("b.txt", "chr\tpos\tN\tX\nchr1\t10\t3\t1\n"),
        ] {
            std::fs::write(dir.join(file), text).unwrap();
        }
        let sheet = SampleSheet::read(p).map_err(|e| e.0)?;
        let filter = SiteFilter {
            min_coverage: 1,
            min_samples_per_group: 1,
            merge_strands: false,
            mod_code: ModCode::FIVE_MC,
        };
        SiteMerger::open(&sheet, filter)
            .map(|_| ())
            .map_err(|e| e.0)
    };
    fuzz(
        "sheet.csv",
        b"sample,file,group\nA,a.txt,ctl\nB,b.txt,trt\n",
        30,
        read,
    );
}

/// Through the binary: a refused mutant exits 2 and leaves no output directory.
#[test]
fn refused_mutants_exit_2_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("table.csv");
    let (mut refused, mut k) = (0, 0);
    while refused < 12 {
        let mut rng = UniformStream::new(31, 40, k, 0, 0, Stream::Predictive);
        k += 1;
        std::fs::write(&data, mutate(TABLE.as_bytes(), &mut rng)).unwrap();
        if read_dataset(&data, &columns()).is_ok() {
            continue;
        }
        refused += 1;
        let out = dir.path().join("out");
        let run = sample(&data, &out, &["--unit", "unit", "--id", "id"]);
        run.assert_user_error(&["table.csv"]);
        assert!(
            !out.exists(),
            "mutant {k}: a refused run left {}",
            out.display()
        );
    }
}

/// The files a sharded run hands from stage to stage (`methyl prior`'s prior.parquet and
/// shards.tsv, a shard's regions, edges and histogram), each mutated in a copy of a real
/// run's directory and read back as the next stage reads it.
#[test]
fn sharded_run_files_never_panic() {
    use betagibbs::methyl::shard::{check_shard, read_prior, read_shards};
    use common::betagibbs;
    use common::cli::{arg, simulated_study, small_methyl_settings};
    let dir = tempfile::tempdir().unwrap();
    let sheet = simulated_study(dir.path(), "1500", &[]);
    let flags = [&small_methyl_settings("cpu")[..], &["--compare", "A,B"]].concat();
    let (prior, part) = (dir.path().join("prior"), dir.path().join("part"));
    betagibbs(
        &[
            &["methyl", "prior", arg(&sheet)],
            &flags[..],
            &["--out", arg(&prior)],
        ]
        .concat(),
    )
    .assert_success();
    let head = [
        "methyl",
        "fit",
        arg(&sheet),
        "--prior",
        arg(&prior),
        "--region",
        "chr2",
    ];
    betagibbs(&[&head[..], &flags[..], &["--out", arg(&part)]].concat()).assert_success();
    let one_line = |e: anyhow::Error| format!("{e:#}");
    let in_copy = |from: &Path, name: &str, read: &dyn Fn(&Path) -> Result<(), String>| {
        // The fuzzed file beside intact copies of its directory's other files.
        let seed = std::fs::read(from.join(name)).unwrap();
        let copy = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), copy.path().join(entry.file_name())).unwrap();
        }
        let copy_dir = copy.path().to_path_buf();
        fuzz(name, &seed, 50 + name.len() as u32, |p: &Path| {
            std::fs::copy(p, copy_dir.join(name)).unwrap();
            read(&copy_dir)
        });
    };
    in_copy(&prior, "prior.parquet", &|d| {
        read_prior(d).map(|_| ()).map_err(one_line)
    });
    in_copy(&prior, "shards.tsv", &|d| {
        read_shards(d).map(|_| ()).map_err(one_line)
    });
    for name in ["regions.parquet", "edges.parquet", "histogram.parquet"] {
        in_copy(&part, name, &|d| check_shard(d).map_err(one_line));
    }
}

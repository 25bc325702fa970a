//! `methyl --region`: only the sites of one interval are read and fitted, and a bgzip file
//! with a tabix index beside it is read from the index's offset, so the rest of the file is
//! never parsed (a malformed line elsewhere goes unnoticed, as it does for tabix itself).

mod common;

use std::path::Path;
use std::process::Command;

use betagibbs::methyl::formats::ModCode;
use betagibbs::methyl::interval::Region;
use betagibbs::methyl::merge::{Site, SiteFilter, SiteMerger};
use betagibbs::methyl::sheet::SampleSheet;
use common::cli::{arg, small_methyl};
use common::{betagibbs, Table};

const ALL_SITES: SiteFilter = SiteFilter {
    min_coverage: 1,
    min_samples_per_group: 1,
    merge_strands: false,
    mod_code: ModCode::FIVE_MC,
};

/// Each site's chromosome name, position and counts (`Site::chr` indexes the merger's own
/// chromosome list, which a scoped merge keeps to one).
type Named = (String, u64, Vec<(u32, u32, u32)>);

fn sites(merger: &mut SiteMerger) -> Vec<Named> {
    let mut out = Vec::new();
    while let Some(Site {
        chr, pos, counts, ..
    }) = merger.next_site().unwrap()
    {
        out.push((merger.chromosomes[chr as usize].clone(), pos, counts));
    }
    out
}

/// A scoped merge gives exactly the full merge's sites inside the region, counts and all,
/// with the region's ends on sites; a whole chromosome is a region too.
#[test]
fn a_region_gives_the_full_merges_sites_inside_it() {
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study");
    betagibbs(&["simulate", "--sites", "3000", "--out", arg(&study)]).assert_success();
    let sheet = SampleSheet::read(&study.join("sheet.tsv")).unwrap();
    let all = sites(&mut SiteMerger::open(&sheet, ALL_SITES).unwrap());
    let chr2: Vec<&Named> = all.iter().filter(|s| s.0 == "chr2").collect();
    let (first, last) = (chr2[100].1, chr2[400].1);
    for region in [
        Region {
            chr: "chr2".into(),
            start: first,
            end: last,
        },
        Region::parse("--region", "chr3").unwrap(),
    ] {
        let want: Vec<Named> = all
            .iter()
            .filter(|s| region.contains(&s.0, s.1))
            .cloned()
            .collect();
        let mut scoped =
            SiteMerger::open_scoped(&sheet, ALL_SITES, Some(region.clone()), None).unwrap();
        let got = sites(&mut scoped);
        assert!(!want.is_empty());
        assert_eq!(got.len(), want.len(), "{region}");
        assert!(got == want, "{region}: the sites differ");
    }
}

/// `bgzip -c FILE > FILE.gz; tabix -S 1 -s 1 -b 2 -e 2 FILE.gz` for a DSS count file.
fn bgzip_and_index(path: &Path) -> std::path::PathBuf {
    let gz = path.with_extension("txt.gz");
    let out = Command::new("bgzip")
        .arg("-c")
        .arg(path)
        .output()
        .expect("bgzip");
    assert!(out.status.success());
    std::fs::write(&gz, out.stdout).unwrap();
    let status = Command::new("tabix")
        .args(["-f", "-S", "1", "-s", "1", "-b", "2", "-e", "2"])
        .arg(&gz)
        .status()
        .expect("tabix");
    assert!(status.success());
    gz
}

/// The same region from plain files and from bgzip + tabix files gives the same sites; with
/// the index, a malformed line on another chromosome is never read, and without it, it is
/// (exit 2 naming the file, line and column).
#[test]
#[ignore = "needs htslib's bgzip and tabix"]
fn a_tabix_index_reads_only_the_region() {
    common::require_htslib();
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study");
    betagibbs(&["simulate", "--sites", "6000", "--out", arg(&study)]).assert_success();
    // A1 with its fifth site's coverage (chr1) spoiled, then every file bgzipped and indexed.
    let a1 = std::fs::read_to_string(study.join("A1.txt")).unwrap();
    let spoiled: Vec<String> = a1
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 5 {
                let f: Vec<&str> = l.split('\t').collect();
                assert_eq!(f[0], "chr1");
                format!("{}\t{}\tabc\t{}", f[0], f[1], f[3])
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(study.join("A1bad.txt"), spoiled.join("\n") + "\n").unwrap();
    let mut sheet = String::from("sample\tfile\tgroup\n");
    for (sample, file) in [("A1", "A1bad"), ("A2", "A2"), ("B1", "B1"), ("B2", "B2")] {
        let gz = bgzip_and_index(&study.join(format!("{file}.txt")));
        let name = gz.file_name().unwrap().to_str().unwrap();
        sheet.push_str(&format!("{sample}\t{name}\t{}\n", &sample[..1]));
    }
    std::fs::write(study.join("sheet_gz.tsv"), sheet).unwrap();
    let region = ["--compare", "A,B", "--region", "chr2:15000-400000"];
    let plain = dir.path().join("plain");
    small_methyl(&study.join("sheet.tsv"), &plain, &region).assert_success();
    let indexed = dir.path().join("indexed");
    small_methyl(&study.join("sheet_gz.tsv"), &indexed, &region).assert_success();
    let (a, b) = (
        Table::read(&plain.join("sites.parquet")),
        Table::read(&indexed.join("sites.parquet")),
    );
    assert!(a.rows > 500, "{} sites", a.rows);
    assert!(a.text("chr").iter().all(|c| c == "chr2"));
    assert!(a
        .numbers("pos")
        .iter()
        .all(|&p| (15_000.0..=400_000.0).contains(&p)));
    assert_eq!(a.numbers("pos"), b.numbers("pos"));
    assert_eq!(a.numbers("delta_mean"), b.numbers("delta_mean"));
    assert_eq!(a.metadata["betagibbs.region"], "chr2:15000-400000");
    // Without its index the spoiled file is read from the start, and its bad line found.
    std::fs::remove_file(study.join("A1bad.txt.gz.tbi")).unwrap();
    small_methyl(
        &study.join("sheet_gz.tsv"),
        &dir.path().join("unindexed"),
        &region,
    )
    .assert_user_error(&["A1bad.txt.gz:6:3", "abc"]);
    // A region without sites says so.
    small_methyl(
        &study.join("sheet.tsv"),
        &dir.path().join("none"),
        &["--compare", "A,B", "--region", "chr9"],
    )
    .assert_user_error(&["no site in --region chr9"]);
}

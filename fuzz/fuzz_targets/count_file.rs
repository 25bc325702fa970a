//! A methylation count file of any format (detected from its first line), merged with a
//! valid sample: every site is read, or the file is refused with its name; never a panic.
#![no_main]

use betagibbs::methyl::formats::ModCode;
use betagibbs::methyl::merge::{SiteFilter, SiteMerger};
use betagibbs::methyl::sheet::SampleSheet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let dir = std::env::temp_dir().join(format!("betagibbs-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("good.txt"), "chr\tpos\tN\tX\nchr1\t10\t5\t2\nchr1\t20\t7\t7\n").unwrap();
    std::fs::write(dir.join("fuzzed.txt"), bytes).unwrap();
    std::fs::write(
        dir.join("sheet.csv"),
        "sample,file,group\nA,good.txt,A\nB,fuzzed.txt,B\n",
    )
    .unwrap();
    let sheet = SampleSheet::read(&dir.join("sheet.csv")).expect("a valid sheet");
    let filter = SiteFilter {
        min_coverage: 1,
        min_samples_per_group: 1,
        merge_strands: bytes.first().is_some_and(|b| b & 1 == 1),
        mod_code: ModCode::FIVE_MC,
    };
    let result = SiteMerger::open(&sheet, filter).and_then(|mut merger| {
        while merger.next_site()?.is_some() {}
        Ok(())
    });
    if let Err(e) = result {
        assert!(
            e.0.contains("fuzzed.txt") || e.0.contains("sheet.csv"),
            "a refusal that names no file: {}",
            e.0
        );
    }
});

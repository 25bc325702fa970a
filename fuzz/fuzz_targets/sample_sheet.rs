//! A sample sheet: it reads, or it is refused with a message naming it; never a panic.
#![no_main]

use betagibbs::methyl::sheet::SampleSheet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let dir = std::env::temp_dir().join(format!("betagibbs-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sheet.csv");
    std::fs::write(&path, bytes).unwrap();
    if let Ok(sheet) = SampleSheet::read(&path) {
        let _ = sheet.groups();
        let _ = sheet.table();
    } else if let Err(e) = SampleSheet::read(&path) {
        assert!(e.0.contains("sheet.csv"), "a refusal that names no file: {}", e.0);
    }
});

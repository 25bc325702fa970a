//! A data table (CSV, TSV, Parquet, gzip; the format told by the bytes): it reads, or it is
//! refused with a message naming the file; never a panic.
#![no_main]

use betagibbs::io::read::{read_dataset, ColumnSpec};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let dir = tempfile_dir();
    let path = dir.join("table.csv");
    std::fs::write(&path, bytes).unwrap();
    let columns = ColumnSpec {
        successes: "y".into(),
        trials: "n".into(),
        unit: Some("unit".into()),
        id: Some("id".into()),
        aggregate_ids: false,
        groups: Vec::new(),
    };
    if let Err(e) = read_dataset(&path, &columns) {
        assert!(e.0.contains("table.csv"), "a refusal that names no file: {}", e.0);
    }
});

/// One directory per fuzzing process, reused by every input.
fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("betagibbs-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

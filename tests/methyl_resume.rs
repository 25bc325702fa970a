//! `methyl --resume`: a run killed with SIGKILL part-way goes on from its last complete
//! segment, and the result is the uninterrupted run's, bit for bit.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::cli::{arg, simulated_study};
use common::{betagibbs, Table};

/// Every column of a file as text and bit patterns.
fn columns(path: &Path) -> Vec<(String, Vec<String>)> {
    let t = Table::read(path);
    let mut out: Vec<(String, Vec<String>)> = t.text.clone().into_iter().collect();
    out.extend(t.numbers.iter().map(|(name, values)| {
        let bits = values
            .iter()
            .map(|v| format!("{:x}", v.to_bits()))
            .collect();
        (name.clone(), bits)
    }));
    out.sort();
    out
}

/// Complete segments in a run's progress file.
fn segments_done(out: &Path) -> usize {
    std::fs::read_to_string(out.join(".resume/progress.tsv"))
        .map_or(0, |t| t.lines().count().saturating_sub(2))
}

#[test]
fn a_killed_run_resumes_to_the_uninterrupted_result() {
    let dir = tempfile::tempdir().unwrap();
    let sheet = simulated_study(dir.path(), "40000", &[]);
    let run = |out: &Path| -> Vec<String> {
        [
            "methyl",
            arg(&sheet),
            "--compare",
            "A,B",
            "--device",
            "cpu",
            "--draws",
            "300",
            "--chunk-sites",
            "500",
            "--quiet",
            "--out",
            arg(out),
        ]
        .map(str::to_string)
        .to_vec()
    };
    let whole = dir.path().join("whole");
    betagibbs(&run(&whole).iter().map(String::as_str).collect::<Vec<_>>()).assert_success();

    // Killed (SIGKILL) once three segments are done.
    let out = dir.path().join("resumed");
    let mut args = run(&out);
    args.push("--resume".into());
    let mut child = Command::new(env!("CARGO_BIN_EXE_betagibbs"))
        .args(&args)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while segments_done(&out) < 3 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be killed"
        );
        assert!(t0.elapsed() < Duration::from_secs(300), "no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let done = segments_done(&out);
    assert!(done >= 3 && !out.join("run.json").exists() && !out.join("sites.parquet").exists());

    // Not quiet, to say that it resumed.
    let loud: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| *a != "--quiet")
        .collect();
    let resumed = betagibbs(&loud);
    resumed.assert_success();
    assert!(
        resumed
            .stderr
            .contains(&format!("resuming after {done} segments")),
        "{}",
        resumed.stderr
    );
    assert!(!out.join(".resume").exists(), "progress removed at the end");
    for file in ["sites.parquet", "dml.parquet", "dmr.parquet"] {
        assert_eq!(
            columns(&whole.join(file)),
            columns(&out.join(file)),
            "{file}"
        );
    }

    // A run without --resume into a directory with progress starts clean and removes it.
    std::fs::create_dir_all(whole.join(".resume")).unwrap();
    std::fs::write(whole.join(".resume/progress.tsv"), "# other\n").unwrap();
    betagibbs(&run(&whole).iter().map(String::as_str).collect::<Vec<_>>()).assert_success();
    assert!(!whole.join(".resume").exists());
}

//! Atomic outputs: a file is written beside its destination and renamed over it, so a
//! reader sees the old file or the new one, never a torn one.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result};

/// Writes a small text file atomically.
pub(crate) fn write_text(path: &Path, text: &str) -> Result<()> {
    atomic_write(path, |file| {
        use std::io::Write;
        file.write_all(text.as_bytes())?;
        Ok(())
    })
}

/// Removes the temp file when dropped, unless it was renamed into place.
struct TempFile(Option<PathBuf>);

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = fs::remove_file(path);
        }
    }
}

/// Writes through `write` into a hidden temp file beside `path`, fsyncs, then renames it
/// over `path`; on any error (or panic) the temp file is removed and `path` is untouched.
pub(crate) fn atomic_write(path: &Path, write: impl FnOnce(&mut File) -> Result<()>) -> Result<()> {
    // Unique within the process too, in case two writes to one path overlap.
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let file_name = path
        .file_name()
        .with_context(|| format!("{}: not a file path", path.display()))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut temp_name = OsString::from(".");
    temp_name.push(file_name);
    temp_name.push(format!(
        ".{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let temp_path = dir.join(temp_name);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp_path)
        .with_context(|| format!("cannot create {}", temp_path.display()))?;
    let mut guard = TempFile(Some(temp_path.clone()));
    write(&mut file).with_context(|| format!("cannot write {}", path.display()))?;
    file.sync_all()
        .with_context(|| format!("cannot flush {} to disk", temp_path.display()))?;
    drop(file);
    fs::rename(&temp_path, path).with_context(|| {
        format!(
            "cannot rename {} to {}",
            temp_path.display(),
            path.display()
        )
    })?;
    guard.0 = None;
    sync_dir(&dir);
    Ok(())
}

/// The process id in a temp file's name: `.<name>.<pid>.<n>.tmp` (`atomic_write`) or
/// `.<name>.<pid>.tmp.<ext>` (a figure's), or None for any other name.
fn temp_owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?;
    let parts: Vec<&str> = rest.rsplit('.').collect();
    match parts.as_slice() {
        ["tmp", n, pid, ..] if n.parse::<u64>().is_ok() => pid.parse().ok(),
        [_ext, "tmp", pid, ..] => pid.parse().ok(),
        _ => None,
    }
}

/// Removes the temp files a killed run left in `dir` (their process is gone), so that they
/// do not pile up; a live process's are left alone. Linux only: elsewhere there is no cheap
/// way to tell a live process, and nothing is removed.
pub(crate) fn remove_stale_temps(dir: &Path) {
    #[cfg(target_os = "linux")]
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name.to_str().and_then(temp_owner) else {
                continue;
            };
            if pid != std::process::id() && !Path::new("/proc").join(pid.to_string()).exists() {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = dir;
}

/// Best effort: persist the rename itself; directories cannot be opened for this on Windows.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_give_their_owner() {
        assert_eq!(temp_owner(".draws.parquet.4242.0.tmp"), Some(4242));
        assert_eq!(temp_owner(".shrinkage.svg.77.tmp.svg"), Some(77));
        assert_eq!(temp_owner("draws.parquet"), None);
        assert_eq!(temp_owner(".hidden"), None);
        assert_eq!(temp_owner(".x.notapid.3.tmp"), None);
    }

    /// A dead process's temp files go; a live one's (this test's) and other files stay.
    #[cfg(target_os = "linux")]
    #[test]
    fn stale_temps_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        // Process ids above the kernel's pid_max (at most 2^22) are never alive.
        let dead = [
            ".draws.parquet.4194305.0.tmp",
            ".traces.png.4194305.tmp.png",
        ];
        let mine = format!(".summary.parquet.{}.0.tmp", std::process::id());
        for name in dead.iter().copied().chain([mine.as_str(), "draws.parquet"]) {
            fs::write(dir.path().join(name), b"x").unwrap();
        }
        remove_stale_temps(dir.path());
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, [mine, "draws.parquet".to_string()]);
    }
    use std::io::Write;

    #[test]
    fn atomic_write_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.bin");
        atomic_write(&path, |f| Ok(f.write_all(b"hello")?)).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"hello");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [OsString::from("out.bin")]);
    }

    #[test]
    fn atomic_write_failure_keeps_existing_target() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.bin");
        fs::write(&path, b"old").unwrap();
        let err = atomic_write(&path, |f| {
            f.write_all(b"partial")?;
            anyhow::bail!("sampler failed")
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("sampler failed"));
        assert_eq!(fs::read(&path).unwrap(), b"old");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [OsString::from("out.bin")]);
        // A panic inside the closure also cleans up.
        let result = std::panic::catch_unwind(|| {
            let _ = atomic_write(&path, |_| panic!("boom"));
        });
        assert!(result.is_err());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        assert_eq!(fs::read(&path).unwrap(), b"old");
    }

    #[test]
    fn atomic_write_into_missing_directory_fails_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("out.bin");
        let err = atomic_write(&path, |_| Ok(())).unwrap_err();
        assert!(format!("{err:#}").contains("cannot create"), "{err:#}");
    }
}

//! The run manifest. Every run gets an id, written into each of its Parquet footers
//! (`betagibbs.run_id`), and, after its last output, `run.json` in the output directory: the
//! id, the command and the files. A run removes the old manifest before its first write, so
//! a directory whose files disagree with its manifest, or whose files carry an id but no
//! manifest, holds (part of) an interrupted run; `check_run` refuses to read it.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};

use crate::error::UserError;
use crate::io::atomic::{atomic_write, remove_stale_temps};
use crate::io::parquet_file::open_parquet;

/// The manifest's file name in an output directory.
pub const MANIFEST: &str = "run.json";
/// The footer key of the id of the run that wrote a Parquet file.
pub const RUN_ID_KEY: &str = "betagibbs.run_id";

/// A run in progress into one directory.
pub struct Run {
    pub id: String,
    dir: PathBuf,
    command: &'static str,
}

impl Run {
    /// Starts a run into `dir` (created if need be): a fresh id, the old manifest removed (so
    /// that until `finish` the directory says that no run into it completed), and the temp
    /// files of a killed run cleaned away.
    pub fn begin(dir: &Path, command: &'static str) -> Result<Run> {
        fs::create_dir_all(dir)
            .with_context(|| format!("creating the output directory {}", dir.display()))?;
        remove_stale_temps(dir);
        let manifest = dir.join(MANIFEST);
        if manifest.exists() {
            fs::remove_file(&manifest)
                .with_context(|| format!("removing the earlier run's {}", manifest.display()))?;
        }
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        Ok(Run {
            id: format!("{nanos:x}-{:x}", std::process::id()),
            dir: dir.to_path_buf(),
            command,
        })
    }

    /// The footer entry every file of this run carries.
    pub fn footer(&self) -> (String, String) {
        (RUN_ID_KEY.to_string(), self.id.clone())
    }

    /// Writes the manifest, last: the run is complete, and these are its files.
    pub fn finish(self, files: &[&str]) -> Result<()> {
        let quoted: Vec<String> = files.iter().map(|f| format!("{f:?}")).collect();
        let text = format!(
            "{{\n  \"run_id\": {:?},\n  \"command\": {:?},\n  \"version\": {:?},\n  \"files\": [{}]\n}}\n",
            self.id,
            self.command,
            env!("CARGO_PKG_VERSION"),
            quoted.join(", ")
        );
        atomic_write(&self.dir.join(MANIFEST), |file| {
            use std::io::Write;
            file.write_all(text.as_bytes())?;
            Ok(())
        })
    }
}

/// For a message about `dir`: how to read it, where it is a sharded run's joined output
/// (`methyl call`'s Hive dataset of sites, which plot and export do not read); else nothing.
pub fn sharded_hint(dir: &Path) -> String {
    match dir.join("sites").is_dir() {
        true => " (a sharded run's sites are a Hive dataset, sites/chr=*/: join the shards with `methyl call --sites-file` for one sites.parquet)".to_string(),
        false => String::new(),
    }
}

/// The run id in a Parquet file's footer, if any.
pub fn run_id_of(path: &Path) -> Result<Option<String>, UserError> {
    let source = path.display().to_string();
    let file =
        fs::File::open(path).map_err(|e| UserError(format!("{source}: cannot read: {e}")))?;
    let builder = open_parquet(file, &source)?;
    Ok(builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .and_then(|kv| kv.iter().find(|e| e.key == RUN_ID_KEY))
        .and_then(|e| e.value.clone()))
}

/// The run id a manifest names: the value of its "run_id" (our own JSON, one key per line).
fn manifest_id(text: &str) -> Option<String> {
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("\"run_id\""))?;
    let value = line.split_once(':')?.1.trim().trim_end_matches(',');
    Some(value.trim_matches('"').to_string())
}

/// Checks that the Parquet `files` of `dir` about to be read come from the run its manifest
/// names. Files without an id and no manifest are an older betagibbs's, and pass.
pub fn check_run(dir: &Path, files: &[&str]) -> Result<(), UserError> {
    let manifest = dir.join(MANIFEST);
    let expected = match fs::read_to_string(&manifest) {
        Ok(text) => Some(
            manifest_id(&text)
                .ok_or_else(|| UserError(format!("{}: no run_id in it", manifest.display())))?,
        ),
        Err(_) => None,
    };
    let mut ids = BTreeMap::new();
    for name in files {
        ids.insert(*name, run_id_of(&dir.join(name))?);
    }
    let interrupted = |what: String| {
        UserError(format!(
            "{}: {what}: a run into it was interrupted and left files of two runs; run it again",
            dir.display()
        ))
    };
    match expected {
        Some(expected) => match ids.iter().find(|(_, id)| id.as_deref() != Some(&expected)) {
            Some((name, _)) => Err(interrupted(format!(
                "{name} is not from the run {MANIFEST} names"
            ))),
            None => Ok(()),
        },
        None => match ids.iter().find(|(_, id)| id.is_some()) {
            Some((name, _)) => Err(interrupted(format!(
                "{name} comes from a run that wrote no {MANIFEST}"
            ))),
            None => Ok(()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_names_its_run() {
        let dir = tempfile::tempdir().unwrap();
        let run = Run::begin(dir.path(), "sample").unwrap();
        let id = run.id.clone();
        run.finish(&["draws.parquet", "summary.parquet"]).unwrap();
        let text = fs::read_to_string(dir.path().join(MANIFEST)).unwrap();
        assert_eq!(manifest_id(&text).as_deref(), Some(id.as_str()));
        assert!(text.contains("\"files\": [\"draws.parquet\", \"summary.parquet\"]"));
        // A new run removes it before writing anything.
        let _next = Run::begin(dir.path(), "sample").unwrap();
        assert!(!dir.path().join(MANIFEST).exists());
    }
}

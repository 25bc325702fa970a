//! Draws spilled to disk while a large run samples, so that memory holds one block of draws
//! and then one parameter's draws, never all of them: blocks are appended as the sampler
//! hands them over (`run_streamed`), then each parameter is read back whole, in
//! draws.parquet's parameter-major order, for its summary and its rows.
//!
//! The file is raw little-endian f64 in the blocks' layout, hidden in the output directory
//! under a temporary name (`.draws.spill.<pid>.0.tmp`) that a later run removes if this one
//! is killed, and deleted when the reader is dropped.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Bytes of one spilled value.
const VALUE_BYTES: u64 = 8;

/// The writing side: blocks of draws appended in order.
pub struct DrawSpill {
    path: PathBuf,
    /// None once `finish` handed the file to the reader.
    file: Option<BufWriter<File>>,
    n_params: usize,
    n_chains: usize,
    /// Draws in each block written so far.
    blocks: Vec<usize>,
    /// The first write error: the sampler's sink cannot fail, so it is kept for `finish`.
    error: Option<std::io::Error>,
}

impl DrawSpill {
    pub fn create(dir: &Path, n_params: usize, n_chains: usize) -> Result<DrawSpill> {
        let path = dir.join(format!(".draws.spill.{}.0.tmp", std::process::id()));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(DrawSpill {
            path,
            file: Some(BufWriter::with_capacity(1 << 20, file)),
            n_params,
            n_chains,
            blocks: Vec::new(),
            error: None,
        })
    }

    /// Appends a block: `values[(param * n_chains + chain) * stride + d]` for d < `k`.
    pub fn append(&mut self, values: &[f64], k: usize) {
        if self.error.is_some() {
            return;
        }
        let stride = values.len() / (self.n_params * self.n_chains).max(1);
        let mut bytes = Vec::with_capacity(self.n_params * self.n_chains * k * 8);
        for run in values.chunks(stride) {
            for v in &run[..k] {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
        }
        let file = self.file.as_mut().expect("not finished");
        match file.write_all(&bytes) {
            Ok(()) => self.blocks.push(k),
            Err(e) => self.error = Some(e),
        }
    }

    /// The reading side, once every block is written; a write that failed (a full disk,
    /// say) is reported here.
    pub fn finish(mut self) -> Result<SpillReader> {
        if let Some(e) = self.error.take() {
            return Err(e).with_context(|| format!("cannot write {}", self.path.display()));
        }
        let file = self
            .file
            .take()
            .expect("not finished")
            .into_inner()
            .map_err(|e| {
                let _ = std::fs::remove_file(&self.path);
                e.into_error()
            })
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        Ok(SpillReader {
            path: self.path.clone(),
            file,
            n_params: self.n_params,
            n_chains: self.n_chains,
            blocks: std::mem::take(&mut self.blocks),
        })
    }
}

impl Drop for DrawSpill {
    fn drop(&mut self) {
        // Removed unless `finish` handed the file on (then the reader removes it).
        if self.file.is_some() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The reading side: one parameter's draws at a time.
pub struct SpillReader {
    path: PathBuf,
    file: File,
    n_params: usize,
    n_chains: usize,
    blocks: Vec<usize>,
}

impl SpillReader {
    /// Kept draws per chain.
    pub fn n_draws(&self) -> usize {
        self.blocks.iter().sum()
    }

    /// Every draw of parameter `p`, chain-major: out[chain * n_draws + draw].
    pub fn param(&mut self, p: usize) -> Result<Vec<f64>> {
        let (n_chains, n_draws) = (self.n_chains, self.n_draws());
        let mut out = vec![0.0f64; n_chains * n_draws];
        let (mut block_start, mut first_draw) = (0u64, 0usize);
        let mut bytes = Vec::new();
        for &k in &self.blocks {
            let run = (n_chains * k) as u64 * VALUE_BYTES;
            self.file
                .seek(SeekFrom::Start(block_start + p as u64 * run))
                .and_then(|_| {
                    bytes.resize(run as usize, 0);
                    self.file.read_exact(&mut bytes)
                })
                .with_context(|| format!("cannot read {}", self.path.display()))?;
            for (i, v) in bytes.chunks_exact(8).enumerate() {
                let (chain, d) = (i / k, i % k);
                out[chain * n_draws + first_draw + d] =
                    f64::from_le_bytes(v.try_into().expect("8 bytes"));
            }
            block_start += run * self.n_params as u64;
            first_draw += k;
        }
        Ok(out)
    }
}

impl Drop for SpillReader {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_read_back_by_parameter() {
        let dir = tempfile::tempdir().unwrap();
        let (n_params, n_chains, stride) = (3, 2, 4);
        let mut spill = DrawSpill::create(dir.path(), n_params, n_chains).unwrap();
        // 10 draws in blocks of 4, 4 and 2; value = 100 param + 10 chain + draw.
        let mut draw = 0;
        for k in [4, 4, 2] {
            let mut values = vec![f64::NAN; n_params * n_chains * stride];
            for p in 0..n_params {
                for c in 0..n_chains {
                    for d in 0..k {
                        values[(p * n_chains + c) * stride + d] =
                            (100 * p + 10 * c + draw + d) as f64;
                    }
                }
            }
            spill.append(&values, k);
            draw += k;
        }
        let mut reader = spill.finish().unwrap();
        assert_eq!(reader.n_draws(), 10);
        for p in 0..n_params {
            let got = reader.param(p).unwrap();
            let want: Vec<f64> = (0..n_chains)
                .flat_map(|c| (0..10).map(move |d| (100 * p + 10 * c + d) as f64))
                .collect();
            assert_eq!(got, want);
        }
        let path = reader.path.clone();
        assert!(path.exists());
        drop(reader);
        assert!(!path.exists(), "the spill is removed with its reader");
    }
}

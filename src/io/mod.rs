//! Files: the count readers (`read`), the Parquet writers and their schemas (`write`),
//! atomic replacement of outputs (`atomic`), reading a run's outputs back (`readback`), and
//! opening a Parquet file to read, shared by `read` and `readback` (`parquet_file`), and the
//! draws of a large run spilled to disk while it samples (`draw_spill`).

pub mod atomic;
pub mod draw_spill;
pub mod manifest;
pub(crate) mod parquet_file;
pub mod read;
pub mod readback;
pub mod write;

/// The process's peak resident set (VmHWM of /proc/self/status), where the OS reports it
/// (Linux); the runs print it.
pub fn peak_resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

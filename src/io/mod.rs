//! Files: the count readers (`read`), the Parquet writers and their schemas (`write`),
//! atomic replacement of outputs (`atomic`), a Parquet writer that encodes a row group's
//! columns in parallel (`parallel_parquet`), reading a run's outputs back (`readback`), and
//! opening a Parquet file to read, shared by `read` and `readback` (`parquet_file`), the
//! draws of a large run spilled to disk while it samples (`draw_spill`), and the CPU time
//! of the process and of its threads (`cpu_time`).

pub mod atomic;
pub mod cpu_time;
pub mod draw_spill;
pub mod manifest;
pub(crate) mod parallel_parquet;
pub(crate) mod parquet_file;
pub mod read;
pub mod readback;
pub mod write;

/// Clock ticks per second of /proc's CPU times: USER_HZ, fixed at 100 in Linux's ABI.
const PROC_TICKS_PER_SECOND: f64 = 100.0;

/// The CPU seconds (user + system, every thread) the process has used so far, where the OS
/// reports them (Linux, /proc/self/stat, to 10 ms); the methyl report prints them per site.
pub fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are the 14th and 15th fields of the line, the 12th and 13th after it.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / PROC_TICKS_PER_SECOND)
}

/// The process's peak resident set (VmHWM of /proc/self/status), where the OS reports it
/// (Linux); the runs print it.
pub fn peak_resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    /// On Linux both are read from /proc, and CPU time only grows.
    #[test]
    #[cfg(target_os = "linux")]
    fn cpu_time_and_peak_memory_are_read() {
        let before = super::process_cpu_seconds().expect("/proc/self/stat");
        let mut x = 0u64;
        for i in 0..50_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(super::process_cpu_seconds().unwrap() >= before);
        assert!(super::peak_resident_bytes().unwrap() > 0);
    }
}

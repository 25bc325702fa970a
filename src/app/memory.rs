//! Refusing a run that cannot fit: its memory, estimated up front, against the machine's.
//! An impossible `--chains` or `--draws` is a message with both figures, not an abort.

use crate::error::UserError;

/// This machine's physical memory in bytes (Linux: MemTotal of /proc/meminfo); None where it
/// cannot be read, and then nothing is refused.
fn physical_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Gibibytes, for messages.
fn gib(bytes: u64) -> f64 {
    bytes as f64 / (1u64 << 30) as f64
}

/// Refuses `needed` bytes beyond the machine's memory; `what` says which flags set them.
pub(crate) fn check_fits(needed: u64, what: &str) -> Result<(), UserError> {
    match physical_memory() {
        Some(total) if needed > total => Err(UserError(format!(
            "{what} need about {:.1} GiB of memory, more than this machine's {:.1} GiB; \
             lower them",
            gib(needed),
            gib(total)
        ))),
        _ => Ok(()),
    }
}

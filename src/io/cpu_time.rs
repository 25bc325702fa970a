//! CPU time per thread, and per stage of a run summed over the threads that work for it: the
//! methyl report's core-µs per site, stage by stage.

use std::sync::atomic::{AtomicU64, Ordering};

/// CPU seconds (user + system) the calling thread has used, where the OS reports them (Unix:
/// CLOCK_THREAD_CPUTIME_ID, to the ns); 0 elsewhere. A system call (about 0.4 µs here): time
/// blocks of work, not single sites.
pub fn thread_cpu_seconds() -> f64 {
    #[cfg(unix)]
    {
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `t` is a timespec that clock_gettime fills; it reads nothing else.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) } == 0 {
            return t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9;
        }
    }
    0.0
}

/// Core seconds of one stage of a run, added to from every thread that works for it.
#[derive(Debug, Default)]
pub struct CoreClock {
    nanos: AtomicU64,
}

impl CoreClock {
    pub fn add(&self, seconds: f64) {
        let nanos = (seconds.max(0.0) * 1e9).round() as u64;
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    pub fn seconds(&self) -> f64 {
        self.nanos.load(Ordering::Relaxed) as f64 * 1e-9
    }

    /// `f()`, adding the calling thread's CPU time during it (not that of threads it waits
    /// for: time their work where it runs).
    pub fn time<T>(&self, f: impl FnOnce() -> T) -> T {
        let start = thread_cpu_seconds();
        let out = f();
        self.add(thread_cpu_seconds() - start);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A busy loop on this thread shows in its clock; another thread's work does not. The loop
    /// spins until its own CPU clock has moved 50 ms (a loaded machine stretches the wall time,
    /// not the count).
    #[test]
    fn a_thread_clock_counts_its_own_work() {
        if cfg!(not(unix)) {
            eprintln!("skipped: no thread CPU clock on this OS");
            return;
        }
        let busy = || {
            let (start, wall) = (thread_cpu_seconds(), std::time::Instant::now());
            let mut x = 0u64;
            while thread_cpu_seconds() - start < 0.05 && wall.elapsed().as_secs() < 10 {
                for _ in 0..1000 {
                    x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                }
            }
        };
        let clock = CoreClock::default();
        clock.time(busy);
        let own = clock.seconds();
        assert!((0.05..0.5).contains(&own), "{own}");
        let other = CoreClock::default();
        other.time(|| std::thread::spawn(busy).join().unwrap());
        assert!(other.seconds() < 0.02, "{}", other.seconds());
    }
}

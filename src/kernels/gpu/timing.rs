//! Where a GPU's time goes, from the host's side: device timestamps around the site stages'
//! passes (the kernels' own time), and the read-backs' waits and copies.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Where the device's time went so far, from the host's side: the site stages' kernels (None
/// without timestamp queries), the read-backs' waits for the device (kernels, transfers and
/// queueing), and their copies out of mapped memory.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DeviceSeconds {
    pub kernels: Option<f64>,
    /// The summaries' kernel (site_summaries), apart from the site stages'.
    pub summaries: Option<f64>,
    pub waiting: f64,
    pub copying: f64,
}

impl std::ops::Sub for DeviceSeconds {
    type Output = DeviceSeconds;
    fn sub(self, earlier: DeviceSeconds) -> DeviceSeconds {
        DeviceSeconds {
            kernels: self.kernels.zip(earlier.kernels).map(|(a, b)| a - b),
            summaries: self.summaries.zip(earlier.summaries).map(|(a, b)| a - b),
            waiting: self.waiting - earlier.waiting,
            copying: self.copying - earlier.copying,
        }
    }
}

impl std::ops::AddAssign for DeviceSeconds {
    fn add_assign(&mut self, more: DeviceSeconds) {
        let add = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
        };
        self.kernels = add(self.kernels, more.kernels);
        self.summaries = add(self.summaries, more.summaries);
        self.waiting += more.waiting;
        self.copying += more.copying;
    }
}

pub(super) fn add_ns(total: &AtomicU64, elapsed: std::time::Duration) {
    total.fetch_add(elapsed.as_nanos() as u64, Ordering::Relaxed);
}

/// Device timestamps around a site stage's calls' passes (from the first piece's start to the
/// last one's end), and around its summaries' pass where it has one: the kernels' own time,
/// apart from the uploads, copies and waits. One per stage, so that stages on two threads
/// never write each other's queries; their sums go to the `Gpu`'s `KernelTotals`.
pub(crate) struct KernelTimer {
    queries: wgpu::QuerySet,
    resolved: wgpu::Buffer,
    pub(super) back: wgpu::Buffer,
    /// Nanoseconds per timestamp tick.
    period_ns: f64,
    /// A call's timestamps were copied to `back` and are not yet read.
    pending: AtomicBool,
    /// The call ran the summaries' pass: its timestamps follow the site stage's.
    summarized: AtomicBool,
}

/// Every stage's kernel nanoseconds so far: the site stages' passes and the summaries' pass.
#[derive(Default)]
pub(super) struct KernelTotals {
    pub(super) kernels_ns: AtomicU64,
    pub(super) summaries_ns: AtomicU64,
}

/// Timestamps per call: the site stage's start and end, then the summaries' pass's.
pub(super) const TIMESTAMPS: usize = 4;

impl KernelTimer {
    pub(super) fn new(device: &wgpu::Device, queue: &wgpu::Queue) -> KernelTimer {
        let bytes = TIMESTAMPS as u64 * wgpu::QUERY_SIZE as u64;
        KernelTimer {
            queries: device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("site kernel timestamps"),
                ty: wgpu::QueryType::Timestamp,
                count: TIMESTAMPS as u32,
            }),
            resolved: device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("site kernel timestamps resolved"),
                size: bytes,
                usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            }),
            back: device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("site kernel timestamps readback"),
                size: bytes,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }),
            period_ns: f64::from(queue.get_timestamp_period()),
            pending: AtomicBool::new(false),
            summarized: AtomicBool::new(false),
        }
    }

    /// The summaries' pass's timestamp writes, at its start and end.
    pub(super) fn summary_writes(&self) -> wgpu::ComputePassTimestampWrites<'_> {
        self.summarized.store(true, Ordering::Release);
        wgpu::ComputePassTimestampWrites {
            query_set: &self.queries,
            beginning_of_pass_write_index: Some(2),
            end_of_pass_write_index: Some(3),
        }
    }

    /// The pass's timestamp writes for piece `i` of `n`: the first piece's start, the last's
    /// end, and none for a piece between (wgpu refuses writes that name neither).
    pub(super) fn writes(
        &self,
        i: usize,
        n: usize,
    ) -> Option<wgpu::ComputePassTimestampWrites<'_>> {
        let (first, last) = (i == 0, i + 1 == n);
        (first || last).then_some(wgpu::ComputePassTimestampWrites {
            query_set: &self.queries,
            beginning_of_pass_write_index: first.then_some(0),
            end_of_pass_write_index: last.then_some(1),
        })
    }

    /// Copies the call's timestamps out, after its last pass: two, or four with a summaries'
    /// pass (only written queries are resolved).
    pub(super) fn copy_out(&self, encoder: &mut wgpu::CommandEncoder) {
        let n = match self.summarized.load(Ordering::Acquire) {
            true => TIMESTAMPS as u32,
            false => 2,
        };
        encoder.resolve_query_set(&self.queries, 0..n, &self.resolved, 0);
        let bytes = u64::from(n) * wgpu::QUERY_SIZE as u64;
        encoder.copy_buffer_to_buffer(&self.resolved, 0, &self.back, 0, bytes);
        self.pending.store(true, Ordering::Release);
    }

    /// Whether a call's timestamps wait in `back` to be read (and from now on, not), and how
    /// many.
    pub(super) fn take_pending(&self) -> Option<usize> {
        let summarized = self.summarized.swap(false, Ordering::AcqRel);
        self.pending
            .swap(false, Ordering::AcqRel)
            .then_some(if summarized { TIMESTAMPS } else { 2 })
    }

    /// Adds a call's kernel times to `totals`, from its timestamps as read back from `back`
    /// (the summaries' pair is zero when the call had none).
    pub(super) fn add(&self, ticks: [u64; TIMESTAMPS], totals: &KernelTotals) {
        // A driver may reset or wrap its counter between the writes: such a call adds nothing.
        let ns = |start: u64, end: u64| (end.saturating_sub(start) as f64 * self.period_ns) as u64;
        totals
            .kernels_ns
            .fetch_add(ns(ticks[0], ticks[1]), Ordering::Relaxed);
        totals
            .summaries_ns
            .fetch_add(ns(ticks[2], ticks[3]), Ordering::Relaxed);
    }
}

/// An atomic count of nanoseconds, in seconds.
pub(super) fn seconds(ns: &AtomicU64) -> f64 {
    ns.load(Ordering::Relaxed) as f64 * 1e-9
}

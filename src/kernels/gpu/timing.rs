//! Where a GPU's time goes, from the host's side: device timestamps around the site stages'
//! passes (the kernels' own time), and the read-backs' waits and copies.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Where the device's time went so far, from the host's side: the site stages' kernels (None
/// without timestamp queries), the read-backs' waits for the device (kernels, transfers and
/// queueing), and their copies out of mapped memory.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DeviceSeconds {
    pub kernels: Option<f64>,
    pub waiting: f64,
    pub copying: f64,
}

impl std::ops::Sub for DeviceSeconds {
    type Output = DeviceSeconds;
    fn sub(self, earlier: DeviceSeconds) -> DeviceSeconds {
        DeviceSeconds {
            kernels: self.kernels.zip(earlier.kernels).map(|(a, b)| a - b),
            waiting: self.waiting - earlier.waiting,
            copying: self.copying - earlier.copying,
        }
    }
}

impl std::ops::AddAssign for DeviceSeconds {
    fn add_assign(&mut self, more: DeviceSeconds) {
        self.kernels = match (self.kernels, more.kernels) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
        };
        self.waiting += more.waiting;
        self.copying += more.copying;
    }
}

pub(super) fn add_ns(total: &AtomicU64, elapsed: std::time::Duration) {
    total.fetch_add(elapsed.as_nanos() as u64, Ordering::Relaxed);
}

/// Device timestamps around each site-stage call's passes (from the first piece's start to the
/// last one's end), summed: the kernels' own time, apart from the uploads, copies and waits.
pub(super) struct KernelTimer {
    queries: wgpu::QuerySet,
    resolved: wgpu::Buffer,
    pub(super) back: wgpu::Buffer,
    /// Nanoseconds per timestamp tick.
    period_ns: f64,
    /// A call's timestamps were copied to `back` and are not yet read.
    pending: AtomicBool,
    pub(super) total_ns: AtomicU64,
}

impl KernelTimer {
    pub(super) fn new(device: &wgpu::Device, queue: &wgpu::Queue) -> KernelTimer {
        let bytes = 2 * wgpu::QUERY_SIZE as u64;
        KernelTimer {
            queries: device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("site kernel timestamps"),
                ty: wgpu::QueryType::Timestamp,
                count: 2,
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
            total_ns: AtomicU64::new(0),
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

    /// Copies the call's two timestamps out, after its last pass.
    pub(super) fn copy_out(&self, encoder: &mut wgpu::CommandEncoder) {
        encoder.resolve_query_set(&self.queries, 0..2, &self.resolved, 0);
        encoder.copy_buffer_to_buffer(&self.resolved, 0, &self.back, 0, self.back.size());
        self.pending.store(true, Ordering::Release);
    }

    /// Whether a call's timestamps wait in `back` to be read (and from now on, not).
    pub(super) fn take_pending(&self) -> bool {
        self.pending.swap(false, Ordering::AcqRel)
    }

    /// Adds a call's kernel time, from its two timestamps as read back from `back`.
    pub(super) fn add(&self, ticks: [u64; 2]) {
        // A driver may reset or wrap its counter between the writes: such a call adds nothing.
        let ns = ticks[1].saturating_sub(ticks[0]) as f64 * self.period_ns;
        self.total_ns.fetch_add(ns as u64, Ordering::Relaxed);
    }
}

/// An atomic count of nanoseconds, in seconds.
pub(super) fn seconds(ns: &AtomicU64) -> f64 {
    ns.load(Ordering::Relaxed) as f64 * 1e-9
}

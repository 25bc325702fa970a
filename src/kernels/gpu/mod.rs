//! The GPU path: opening a wgpu device, buffers, pipelines and read-back. The stages that
//! dispatch the shaders are `piece_stage` (theta_update, collapsed_loglik), `site_stage`
//! (site_update) and `regression_stage` (site_regression); their CPU twins are under
//! `kernels::cpu`. `timing` measures where a device's time goes.

pub mod piece_stage;
pub mod regression_stage;
pub mod site_stage;
pub mod summary_stage;
mod timing;

use std::sync::atomic::AtomicU64;
use std::sync::mpsc;

use wgpu::util::DeviceExt;

use crate::kernels::site_layout::{SiteBatch, SiteParams, SiteSample};
pub use timing::DeviceSeconds;
pub(crate) use timing::KernelTimer;
use timing::{add_ns, seconds, KernelTotals, TIMESTAMPS};

/// The expanded, naga-validated shaders (see build.rs).
pub(crate) const THETA_UPDATE_WGSL: &str =
    include_str!(concat!(env!("OUT_DIR"), "/theta_update.wgsl"));
pub(crate) const COLLAPSED_LOGLIK_WGSL: &str =
    include_str!(concat!(env!("OUT_DIR"), "/collapsed_loglik.wgsl"));

/// Invocations per workgroup of theta_update unless a caller asks otherwise: a
/// multiple of every vendor's subgroup size (8 on lavapipe, 32 NVIDIA, 64 AMD).
pub const DEFAULT_WORKGROUP_SIZE: u32 = 64;
/// The WebGPU limit on workgroups per dispatch dimension; larger batches use a 2-D grid.
const MAX_WORKGROUPS_PER_DIMENSION: u32 = 65_535;

/// Why no GPU could be used: a user-facing condition, reported with exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error(
        "no GPU adapter found{found}. Install a Vulkan, Metal or DX12 driver; on a machine \
         without a GPU, Mesa's software Vulkan driver works (Debian/Ubuntu: apt-get install \
         mesa-vulkan-drivers), or run with --device cpu"
    )]
    NoAdapter { found: String },
    #[error("the GPU adapter {adapter} refused a device: {source}")]
    Device {
        adapter: String,
        source: wgpu::RequestDeviceError,
    },
    #[error("GPU buffer mapping failed: {0}")]
    Map(String),
    #[error(
        "{adapter} ends a shader's loops after {limit} iterations in all, and one sweep of \
         {what} needs about {needed}: run it with --device cpu, or on a hardware GPU"
    )]
    SoftwareLoopLimit {
        adapter: String,
        limit: u64,
        what: String,
        needed: u64,
    },
}

/// An open GPU device with the limits this program requested.
pub struct Gpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    /// The adapter has timestamp queries: each site stage then times its kernels
    /// (`kernel_timer`), into `kernel_totals`.
    timestamps: bool,
    kernel_totals: KernelTotals,
    /// Nanoseconds read-backs spent waiting for the device, and copying out of mapped memory.
    waiting_ns: AtomicU64,
    copying_ns: AtomicU64,
    /// For developers timing variants of a shader: WGSL by shader name, each replacing the
    /// built-in shader of that name (`methyl --dev-shader-dir`); empty in every normal run.
    pub shader_variants: std::collections::HashMap<String, String>,
}

/// Is this a real GPU rather than a software rasteriser such as lavapipe?
fn is_hardware(info: &wgpu::AdapterInfo) -> bool {
    !matches!(
        info.device_type,
        wgpu::DeviceType::Cpu | wgpu::DeviceType::Other
    )
}

impl Gpu {
    /// Open the best adapter: a discrete GPU before an integrated one; a software
    /// adapter (lavapipe, WARP) only when `allow_software`.
    pub fn open(allow_software: bool) -> Result<Gpu, GpuError> {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
        let rank = |a: &wgpu::Adapter| match a.get_info().device_type {
            wgpu::DeviceType::DiscreteGpu => 0,
            wgpu::DeviceType::IntegratedGpu => 1,
            wgpu::DeviceType::VirtualGpu => 2,
            _ => 3,
        };
        let names: Vec<String> = adapters
            .iter()
            .map(|a| format!("{} ({:?})", a.get_info().name, a.get_info().device_type))
            .collect();
        let adapter = adapters
            .into_iter()
            .filter(|a| allow_software || is_hardware(&a.get_info()))
            .filter(|a| {
                a.get_downlevel_capabilities()
                    .flags
                    .contains(wgpu::DownlevelFlags::COMPUTE_SHADERS)
            })
            .min_by_key(rank)
            .ok_or_else(|| GpuError::NoAdapter {
                found: if names.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (only software adapters: {}; --device gpu uses them)",
                        names.join(", ")
                    )
                },
            })?;
        let info = adapter.get_info();
        let available = adapter.limits();
        // Ask for the adapter's largest buffers: batches are chunked to fit whatever it grants.
        let limits = wgpu::Limits {
            max_storage_buffer_binding_size: available.max_storage_buffer_binding_size,
            max_buffer_size: available.max_buffer_size,
            max_compute_workgroup_size_x: available.max_compute_workgroup_size_x,
            max_compute_invocations_per_workgroup: available.max_compute_invocations_per_workgroup,
            max_storage_buffers_per_shader_stage: available.max_storage_buffers_per_shader_stage,
            ..wgpu::Limits::downlevel_defaults()
        };
        // Timestamps where the adapter has them: the report then gives the kernels' own time.
        let features = adapter.features() & wgpu::Features::TIMESTAMP_QUERY;
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("betagibbs"),
            required_features: features,
            required_limits: limits.clone(),
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        }))
        .map_err(|source| GpuError::Device {
            adapter: info.name.clone(),
            source,
        })?;
        Ok(Gpu {
            device,
            queue,
            info,
            limits,
            timestamps: features.contains(wgpu::Features::TIMESTAMP_QUERY),
            kernel_totals: KernelTotals::default(),
            waiting_ns: AtomicU64::new(0),
            copying_ns: AtomicU64::new(0),
            shader_variants: Default::default(),
        })
    }

    /// One line for messages and metadata: adapter name, type and backend.
    pub fn describe(&self) -> String {
        format!(
            "{} ({:?}, {:?})",
            self.info.name, self.info.device_type, self.info.backend
        )
    }

    /// Where the device's time has gone so far (`DeviceSeconds`).
    pub fn seconds(&self) -> DeviceSeconds {
        DeviceSeconds {
            kernels: self
                .timestamps
                .then(|| seconds(&self.kernel_totals.kernels_ns)),
            summaries: self
                .timestamps
                .then(|| seconds(&self.kernel_totals.summaries_ns)),
            waiting: seconds(&self.waiting_ns),
            copying: seconds(&self.copying_ns),
        }
    }

    /// A timer of a site stage's kernels, where the adapter has timestamp queries.
    pub(crate) fn kernel_timer(&self) -> Option<KernelTimer> {
        self.timestamps
            .then(|| KernelTimer::new(&self.device, &self.queue))
    }

    /// A software adapter (lavapipe), with its limits.
    pub(crate) fn is_software(&self) -> bool {
        !is_hardware(&self.info)
    }

    /// Largest storage binding in bytes.
    pub(crate) fn max_binding(&self) -> u64 {
        self.limits.max_storage_buffer_binding_size
    }

    fn storage_buffer(&self, label: &str, bytes: &[u8]) -> wgpu::Buffer {
        // Zero-sized bindings are invalid; pad empty inputs to one element.
        let padded;
        let contents = if bytes.is_empty() {
            padded = [0u8; 16];
            &padded[..]
        } else {
            bytes
        };
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            })
    }

    fn output_buffer(&self, label: &str, size: u64) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: size.max(16),
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        })
    }

    pub(crate) fn readback_buffer(&self, label: &str, size: u64) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: size.max(16),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    /// Map every buffer, wait for the device to finish submission `after` (not the later
    /// ones another thread's stage may have made), and copy each buffer's first `out.len()`
    /// bytes into its `out`; with them, `timer`'s timestamps where its last call left some.
    pub(crate) fn read_into(
        &self,
        after: wgpu::SubmissionIndex,
        timer: Option<&KernelTimer>,
        reads: &mut [(&wgpu::Buffer, &mut [u8])],
    ) -> Result<(), GpuError> {
        let timed = timer.and_then(|t| Some((t, t.take_pending()?)));
        let mut ticks = [0u64; TIMESTAMPS];
        let mut reads: Vec<(&wgpu::Buffer, &mut [u8])> =
            reads.iter_mut().map(|(b, out)| (*b, &mut **out)).collect();
        if let Some((timer, n)) = timed {
            reads.push((&timer.back, bytemuck::cast_slice_mut(&mut ticks[..n])));
        }
        let map_error = |e: &dyn std::fmt::Display| GpuError::Map(e.to_string());
        let (tx, rx) = mpsc::channel();
        let mut pending = 0;
        for (buffer, out) in reads.iter() {
            if !out.is_empty() {
                let tx = tx.clone();
                buffer
                    .slice(..out.len() as u64)
                    .map_async(wgpu::MapMode::Read, move |r| {
                        let _ = tx.send(r);
                    });
                pending += 1;
            }
        }
        let waiting = std::time::Instant::now();
        let own = wgpu::PollType::Wait {
            submission_index: Some(after),
            timeout: None,
        };
        self.device.poll(own).map_err(|e| map_error(&e))?;
        for _ in 0..pending {
            rx.recv()
                .map_err(|e| map_error(&e))?
                .map_err(|e| map_error(&e))?;
        }
        let copying = std::time::Instant::now();
        add_ns(&self.waiting_ns, copying - waiting);
        for (buffer, out) in reads.iter_mut().filter(|(_, out)| !out.is_empty()) {
            {
                let view = buffer
                    .slice(..out.len() as u64)
                    .get_mapped_range()
                    .map_err(|e| map_error(&e))?;
                out.copy_from_slice(&view);
            }
            buffer.unmap();
        }
        add_ns(&self.copying_ns, copying.elapsed());
        if let Some((timer, _)) = timed {
            timer.add(ticks, &self.kernel_totals);
        }
        Ok(())
    }

    pub(crate) fn pipeline(
        &self,
        label: &str,
        source: &str,
        constants: &[(&str, f64)],
    ) -> wgpu::ComputePipeline {
        let source = match self.shader_variants.get(label) {
            Some(variant) => {
                eprintln!("betagibbs: shader {label} replaced (--dev-shader-dir)");
                variant.as_str()
            }
            None => source,
        };
        let module = self
            .device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(label),
                source: wgpu::ShaderSource::Wgsl(source.into()),
            });
        self.device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(label),
                layout: None,
                module: &module,
                entry_point: Some("main"),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants,
                    zero_initialize_workgroup_memory: false,
                },
                cache: None,
            })
    }

    pub(crate) fn bind_group(
        &self,
        pipeline: &wgpu::ComputePipeline,
        buffers: &[&wgpu::Buffer],
    ) -> wgpu::BindGroup {
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: b.as_entire_binding(),
            })
            .collect();
        self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        })
    }
}

/// lavapipe (Mesa's llvmpipe) silently ends every loop of an invocation once their iterations
/// together pass this many (gallivm's LP_MAX_TGSI_LOOP_ITERATIONS): the chains then go wrong.
const SOFTWARE_LOOP_LIMIT: u64 = 65_535;
/// The stages count their shaders' loops, and the count runs low (the compiler's own loops):
/// chains broke at 1.6 times our count of site_regression's and 4 to 10 times site_update's
/// (tests/site_regression_twins.rs, tests/methyl_calibration.rs). A software dispatch keeps to this
/// fraction of the limit.
const SOFTWARE_LOOP_SHARE: u64 = 16;

impl Gpu {
    /// Sweeps per dispatch of a site shader whose sweep runs about `per_sweep` loop
    /// iterations: all of them on hardware, on a software adapter as many as keep within its
    /// loop limit (the start counted as one sweep more), or an error naming `what` when not
    /// even one does.
    pub(crate) fn sweeps_per_dispatch(
        &self,
        per_sweep: u64,
        what: impl FnOnce() -> String,
    ) -> Result<u32, GpuError> {
        if !self.is_software() {
            return Ok(u32::MAX);
        }
        let budget = SOFTWARE_LOOP_LIMIT / SOFTWARE_LOOP_SHARE;
        if 2 * per_sweep > budget {
            return Err(GpuError::SoftwareLoopLimit {
                adapter: self.describe(),
                limit: SOFTWARE_LOOP_LIMIT,
                what: what(),
                needed: per_sweep * SOFTWARE_LOOP_SHARE,
            });
        }
        Ok((budget / per_sweep - 1).min(u64::from(u32::MAX)) as u32)
    }
}

/// A call's sweeps as dispatches of at most `per_dispatch` sweeps, each going on from the
/// state the one before left (the first as the call asks).
pub(crate) fn sweep_pieces(params: &SiteParams, per_dispatch: u32) -> Vec<SiteParams> {
    let total = params.warmup + params.n_draws;
    let mut pieces = Vec::new();
    let mut done = 0;
    while done < total {
        let take = per_dispatch.min(total - done);
        let warmup = params.warmup.saturating_sub(done).min(take);
        pieces.push(SiteParams {
            first_sweep: params.first_sweep + done,
            warmup,
            n_draws: take - warmup,
            init: if done == 0 { params.init } else { 0 },
            draw_offset: params.draw_offset + done.saturating_sub(params.warmup),
            ..*params
        });
        done += take;
    }
    pieces
}

impl Gpu {
    /// Runs a site shader's call as `pieces` (`sweep_pieces`), each its own submission so that
    /// its parameters are written to `params` before it runs; `finish` adds to the last
    /// piece's commands (the copies out) before it is submitted. `timer` times the passes.
    /// Returns the last submission, for `read_into`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn dispatch_pieces(
        &self,
        timer: Option<&KernelTimer>,
        pipeline: &wgpu::ComputePipeline,
        bind: &wgpu::BindGroup,
        params: &wgpu::Buffer,
        pieces: &[SiteParams],
        invocations: u64,
        workgroup_size: u32,
        finish: impl FnOnce(&mut wgpu::CommandEncoder),
    ) -> wgpu::SubmissionIndex {
        let mut finish = Some(finish);
        let mut last = None;
        for (i, piece) in pieces.iter().enumerate() {
            self.queue
                .write_buffer(params, 0, bytemuck::bytes_of(piece));
            let mut encoder = self.device.create_command_encoder(&Default::default());
            {
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: None,
                    timestamp_writes: timer.and_then(|t| t.writes(i, pieces.len())),
                });
                pass.set_pipeline(pipeline);
                pass.set_bind_group(0, bind, &[]);
                let (x, y) = dispatch_grid(invocations, workgroup_size);
                pass.dispatch_workgroups(x, y, 1);
            }
            if i + 1 == pieces.len() {
                if let Some(finish) = finish.take() {
                    finish(&mut encoder);
                }
                if let Some(timer) = timer {
                    timer.copy_out(&mut encoder);
                }
            }
            last = Some(self.queue.submit([encoder.finish()]));
        }
        last.expect("a call has at least one piece")
    }
}

/// The device buffers a site stage's call reads (site_update and site_regression alike),
/// sized once: the batch's samples, offsets and site ids, the chains' priors, and the
/// chains' state, which the call also writes.
pub(crate) struct SiteInputs {
    pub samples: wgpu::Buffer,
    pub offsets: wgpu::Buffer,
    pub ids: wgpu::Buffer,
    pub hyper: wgpu::Buffer,
    pub state: wgpu::Buffer,
}

impl SiteInputs {
    /// For up to `max_sites` sites holding `max_samples` samples, `hyper_bytes` of the
    /// chains' priors and `state_bytes` of their state; `stage` labels the buffers.
    pub(crate) fn new(
        gpu: &Gpu,
        stage: &str,
        (max_sites, max_samples): (usize, usize),
        hyper_bytes: usize,
        state_bytes: usize,
    ) -> SiteInputs {
        let input = wgpu::BufferUsages::COPY_DST;
        let output = wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
        let sample_bytes = std::mem::size_of::<SiteSample>();
        SiteInputs {
            samples: gpu.site_buffer(
                &format!("{stage} samples"),
                max_samples * sample_bytes,
                input,
            ),
            offsets: gpu.site_buffer(&format!("{stage} offsets"), (max_sites + 1) * 4, input),
            ids: gpu.site_buffer(&format!("{stage} site ids"), max_sites * 8, input),
            hyper: gpu.site_buffer(&format!("{stage} hyper"), hyper_bytes, input),
            state: gpu.site_buffer(&format!("{stage} state"), state_bytes, output),
        }
    }

    /// Device bytes of the buffers that grow with the sites (samples, offsets and ids).
    pub(crate) fn site_bytes(max_sites: usize, max_samples: usize) -> f64 {
        let sample_bytes = std::mem::size_of::<SiteSample>();
        (max_samples * sample_bytes + (max_sites + 1) * 4 + max_sites * 8) as f64
    }
}

impl Gpu {
    /// A storage buffer of `size` bytes (at least 16: zero-sized bindings are invalid) with
    /// the `extra` usages.
    pub(crate) fn site_buffer(
        &self,
        label: &str,
        size: usize,
        extra: wgpu::BufferUsages,
    ) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: (size as u64).max(16),
            usage: wgpu::BufferUsages::STORAGE | extra,
            mapped_at_creation: false,
        })
    }

    /// Uploads one call's inputs: the batch's samples, offsets and ids, the chains'
    /// hyperparameters, and the host's copy of the state when the call goes on from it
    /// (`params.init == 0`).
    pub(crate) fn upload_site_inputs<H: bytemuck::Pod>(
        &self,
        to: &SiteInputs,
        params: &SiteParams,
        batch: &SiteBatch,
        hyper: &[H],
        state: &[f32],
    ) {
        let q = &self.queue;
        if !batch.samples.is_empty() {
            q.write_buffer(&to.samples, 0, bytemuck::cast_slice(&batch.samples));
        }
        q.write_buffer(&to.offsets, 0, bytemuck::cast_slice(&batch.offsets));
        if !batch.ids.is_empty() {
            q.write_buffer(&to.ids, 0, bytemuck::cast_slice(&batch.ids));
        }
        q.write_buffer(&to.hyper, 0, bytemuck::cast_slice(hyper));
        if params.init == 0 && !state.is_empty() {
            q.write_buffer(&to.state, 0, bytemuck::cast_slice(state));
        }
    }
}

/// Copies each (source, destination, bytes) of a stage's outputs to its read-back buffer,
/// skipping the empty ones.
pub(crate) fn copy_out(
    encoder: &mut wgpu::CommandEncoder,
    copies: &[(&wgpu::Buffer, &wgpu::Buffer, u64)],
) {
    for &(src, dst, n) in copies {
        if n > 0 {
            encoder.copy_buffer_to_buffer(src, 0, dst, 0, n);
        }
    }
}

/// The most samples of any site of a batch.
pub(crate) fn max_site_samples(batch: &SiteBatch) -> usize {
    batch
        .offsets
        .windows(2)
        .map(|w| (w[1] - w[0]) as usize)
        .max()
        .unwrap_or(0)
}

/// Workgroup grid covering `invocations`: (x, y) with x <= 65,535.
pub(crate) fn dispatch_grid(invocations: u64, workgroup_size: u32) -> (u32, u32) {
    let groups = invocations.div_ceil(u64::from(workgroup_size));
    if groups <= u64::from(MAX_WORKGROUPS_PER_DIMENSION) {
        (groups.max(1) as u32, 1)
    } else {
        let y = groups.div_ceil(u64::from(MAX_WORKGROUPS_PER_DIMENSION));
        (MAX_WORKGROUPS_PER_DIMENSION, y as u32)
    }
}

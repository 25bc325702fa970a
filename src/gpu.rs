//! The GPU path: a wgpu device and the per-piece stages (shaders/theta_update.wgsl,
//! shaders/collapsed_loglik.wgsl). Their CPU twins are in src/cpu.rs; both read and write the structs of src/layout.rs.

use std::sync::mpsc;

use wgpu::util::DeviceExt;

use crate::layout::{Observation, Piece, ThetaParams};

/// The expanded, naga-validated shaders (see build.rs).
pub const THETA_UPDATE_WGSL: &str = include_str!(concat!(env!("OUT_DIR"), "/theta_update.wgsl"));
pub const COLLAPSED_LOGLIK_WGSL: &str =
    include_str!(concat!(env!("OUT_DIR"), "/collapsed_loglik.wgsl"));
pub const PHILOX_KAT_WGSL: &str = include_str!(concat!(env!("OUT_DIR"), "/philox_kat.wgsl"));

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
}

/// An open GPU device with the limits this program requested.
pub struct Gpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
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
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("betagibbs"),
            required_features: wgpu::Features::empty(),
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
        })
    }

    /// One line for messages and metadata: adapter name, type and backend.
    pub fn describe(&self) -> String {
        format!(
            "{} ({:?}, {:?})",
            self.info.name, self.info.device_type, self.info.backend
        )
    }

    /// Largest storage binding in bytes.
    pub fn max_binding(&self) -> u64 {
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

    /// Map every buffer, wait for the device once, and copy each buffer's first
    /// `out.len()` bytes into its `out`.
    pub(crate) fn read_into(
        &self,
        reads: &mut [(&wgpu::Buffer, &mut [u8])],
    ) -> Result<(), GpuError> {
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
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| map_error(&e))?;
        for _ in 0..pending {
            rx.recv()
                .map_err(|e| map_error(&e))?
                .map_err(|e| map_error(&e))?;
        }
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
        Ok(())
    }

    pub(crate) fn pipeline(
        &self,
        label: &str,
        source: &str,
        constants: &[(&str, f64)],
    ) -> wgpu::ComputePipeline {
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

    /// Philox4x32-10 evaluated by the WGSL generator, for the known-answer test.
    pub fn philox_on_gpu(&self, cases: &[([u32; 4], [u32; 2])]) -> Result<Vec<[u32; 4]>, GpuError> {
        let inputs: Vec<[u32; 8]> = cases
            .iter()
            .map(|(c, k)| [c[0], c[1], c[2], c[3], k[0], k[1], 0, 0])
            .collect();
        let pipeline = self.pipeline("philox_kat", PHILOX_KAT_WGSL, &[]);
        let input = self.storage_buffer("kat inputs", bytemuck::cast_slice(&inputs));
        let size = (cases.len() * 16) as u64;
        let output = self.output_buffer("kat outputs", size);
        let readback = self.readback_buffer("kat readback", size);
        let bind = self.bind_group(&pipeline, &[&input, &output]);
        let mut encoder = self.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            pass.set_pipeline(&pipeline);
            pass.set_bind_group(0, &bind, &[]);
            pass.dispatch_workgroups((cases.len() as u32).div_ceil(64), 1, 1);
        }
        encoder.copy_buffer_to_buffer(&output, 0, &readback, 0, size);
        self.queue.submit([encoder.finish()]);
        let mut out = vec![[0u32; 4]; cases.len()];
        self.read_into(&mut [(&readback, bytemuck::cast_slice_mut(&mut out))])?;
        Ok(out)
    }
}

/// Workgroup grid covering `invocations`: (x, y) with x <= 65,535.
pub fn dispatch_grid(invocations: u64, workgroup_size: u32) -> (u32, u32) {
    let groups = invocations.div_ceil(u64::from(workgroup_size));
    if groups <= u64::from(MAX_WORKGROUPS_PER_DIMENSION) {
        (groups.max(1) as u32, 1)
    } else {
        let y = groups.div_ceil(u64::from(MAX_WORKGROUPS_PER_DIMENSION));
        (MAX_WORKGROUPS_PER_DIMENSION, y as u32)
    }
}

/// A per-(chain, piece) kernel over a batch: its shader, what it writes per piece, and
/// whether it also writes a value per observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PieceKernel {
    /// shaders/theta_update.wgsl: (Σ log theta, Σ log(1 - theta)) per piece, thetas optionally.
    ThetaUpdate,
    /// shaders/collapsed_loglik.wgsl: the beta-binomial log marginal per piece.
    CollapsedLoglik,
}

impl PieceKernel {
    fn source(self) -> (&'static str, &'static str) {
        match self {
            PieceKernel::ThetaUpdate => ("theta_update", THETA_UPDATE_WGSL),
            PieceKernel::CollapsedLoglik => ("collapsed_loglik", COLLAPSED_LOGLIK_WGSL),
        }
    }

    /// Bytes written per (chain, piece).
    fn piece_bytes(self) -> usize {
        match self {
            PieceKernel::ThetaUpdate => 8,
            PieceKernel::CollapsedLoglik => 4,
        }
    }

    fn writes_theta(self) -> bool {
        self == PieceKernel::ThetaUpdate
    }
}

/// One piece kernel for one batch, with its buffers resident on the device.
/// Chains are dispatched in chunks small enough for the device's binding limit.
pub struct PieceStageGpu<'g> {
    gpu: &'g Gpu,
    kernel: PieceKernel,
    pipeline: wgpu::ComputePipeline,
    workgroup_size: u32,
    params_buffer: wgpu::Buffer,
    hyper_buffer: wgpu::Buffer,
    theta_buffer: Option<wgpu::Buffer>,
    sums_buffer: wgpu::Buffer,
    theta_readback: Option<wgpu::Buffer>,
    sums_readback: wgpu::Buffer,
    bind: wgpu::BindGroup,
    n_units: usize,
    n_obs: usize,
    n_pieces: usize,
    /// Chains per dispatch.
    pub chunk_chains: usize,
}

impl<'g> PieceStageGpu<'g> {
    /// Upload a batch. `max_chains`: the most chains any later `run` will pass.
    pub fn new(
        gpu: &'g Gpu,
        kernel: PieceKernel,
        observations: &[Observation],
        pieces: &[Piece],
        n_units: usize,
        max_chains: usize,
        workgroup_size: u32,
    ) -> Self {
        let n_obs = observations.len();
        let n_pieces = pieces.len();
        let piece_bytes = kernel.piece_bytes();
        // Bytes per chain of the largest per-chain binding decides how many chains fit in one dispatch.
        let theta_per_chain = if kernel.writes_theta() { n_obs * 4 } else { 0 };
        let per_chain = theta_per_chain
            .max(n_pieces * piece_bytes)
            .max(n_units * 8)
            .max(1) as u64;
        let by_binding = (gpu.max_binding() / per_chain).max(1) as usize;
        let by_index = (u32::MAX as usize / n_pieces.max(1)).max(1);
        let chunk_chains = max_chains.min(by_binding).min(by_index).max(1);
        let (label, source) = kernel.source();
        let pipeline = gpu.pipeline(
            label,
            source,
            &[("WORKGROUP_SIZE", f64::from(workgroup_size))],
        );
        let params_buffer = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("piece params"),
            size: std::mem::size_of::<ThetaParams>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let obs_buffer = gpu.storage_buffer("observations", bytemuck::cast_slice(observations));
        let pieces_buffer = gpu.storage_buffer("pieces", bytemuck::cast_slice(pieces));
        let hyper_buffer = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("hyper"),
            size: (chunk_chains * n_units * 8).max(16) as u64,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let sums_bytes = (chunk_chains * n_pieces * piece_bytes) as u64;
        let sums_buffer = gpu.output_buffer("piece sums", sums_bytes);
        let sums_readback = gpu.readback_buffer("piece sums readback", sums_bytes);
        let (theta_buffer, theta_readback) = if kernel.writes_theta() {
            let theta_bytes = (chunk_chains * n_obs * 4) as u64;
            (
                Some(gpu.output_buffer("theta", theta_bytes)),
                Some(gpu.readback_buffer("theta readback", theta_bytes)),
            )
        } else {
            (None, None)
        };
        let mut bindings = vec![&params_buffer, &obs_buffer, &pieces_buffer, &hyper_buffer];
        bindings.extend(theta_buffer.as_ref());
        bindings.push(&sums_buffer);
        let bind = gpu.bind_group(&pipeline, &bindings);
        PieceStageGpu {
            gpu,
            kernel,
            pipeline,
            workgroup_size,
            params_buffer,
            hyper_buffer,
            theta_buffer,
            sums_buffer,
            theta_readback,
            sums_readback,
            bind,
            n_units,
            n_obs,
            n_pieces,
            chunk_chains,
        }
    }

    /// Run the kernel for chains `params.chain_offset ..+ params.n_chains`, writing `sums`
    /// (n_chains * n_pieces values of the kernel's per-piece type) and, for theta_update when
    /// `params.write_theta != 0`, `theta` (n_chains * n_obs): the contracts of the CPU twins.
    pub fn run(
        &self,
        params: &ThetaParams,
        hyper: &[[f32; 2]],
        theta: &mut [f32],
        sums: &mut [u8],
    ) -> Result<(), GpuError> {
        let n_chains = params.n_chains as usize;
        let write = params.write_theta != 0 && self.kernel.writes_theta();
        let piece_bytes = self.kernel.piece_bytes();
        let mut first = 0;
        while first < n_chains {
            let count = self.chunk_chains.min(n_chains - first);
            let chunk = ThetaParams {
                chain_offset: params.chain_offset + first as u32,
                n_chains: count as u32,
                ..*params
            };
            let q = &self.gpu.queue;
            q.write_buffer(&self.params_buffer, 0, bytemuck::bytes_of(&chunk));
            q.write_buffer(
                &self.hyper_buffer,
                0,
                bytemuck::cast_slice(&hyper[first * self.n_units..(first + count) * self.n_units]),
            );
            let sums_bytes = count * self.n_pieces * piece_bytes;
            let theta_bytes = (count * self.n_obs * 4) as u64;
            let mut encoder = self.gpu.device.create_command_encoder(&Default::default());
            {
                let mut pass = encoder.begin_compute_pass(&Default::default());
                pass.set_pipeline(&self.pipeline);
                pass.set_bind_group(0, &self.bind, &[]);
                let (x, y) = dispatch_grid((count * self.n_pieces) as u64, self.workgroup_size);
                pass.dispatch_workgroups(x, y, 1);
            }
            if sums_bytes > 0 {
                encoder.copy_buffer_to_buffer(
                    &self.sums_buffer,
                    0,
                    &self.sums_readback,
                    0,
                    sums_bytes as u64,
                );
            }
            let theta_pair = self.theta_buffer.as_ref().zip(self.theta_readback.as_ref());
            if let (true, Some((buffer, readback))) = (write && theta_bytes > 0, theta_pair) {
                encoder.copy_buffer_to_buffer(buffer, 0, readback, 0, theta_bytes);
            }
            q.submit([encoder.finish()]);
            let sums_out = &mut sums[first * self.n_pieces * piece_bytes..][..sums_bytes];
            let mut reads: Vec<(&wgpu::Buffer, &mut [u8])> = vec![(&self.sums_readback, sums_out)];
            if let (true, Some(readback)) = (write, self.theta_readback.as_ref()) {
                let out = &mut theta[first * self.n_obs..(first + count) * self.n_obs];
                reads.push((readback, bytemuck::cast_slice_mut(out)));
            }
            self.gpu.read_into(&mut reads)?;
            first += count;
        }
        Ok(())
    }
}

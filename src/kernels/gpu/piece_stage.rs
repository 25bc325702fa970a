//! The per-piece shaders on a GPU (shaders/theta_update.wgsl, shaders/collapsed_loglik.wgsl):
//! one batch's observations and pieces resident on the device, chains dispatched in chunks.

use crate::kernels::gpu::{dispatch_grid, Gpu, GpuError, COLLAPSED_LOGLIK_WGSL, THETA_UPDATE_WGSL};
use crate::kernels::layout::{Observation, Piece, ThetaParams};

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
            let submitted = q.submit([encoder.finish()]);
            let sums_out = &mut sums[first * self.n_pieces * piece_bytes..][..sums_bytes];
            let mut reads: Vec<(&wgpu::Buffer, &mut [u8])> = vec![(&self.sums_readback, sums_out)];
            if let (true, Some(readback)) = (write, self.theta_readback.as_ref()) {
                let out = &mut theta[first * self.n_obs..(first + count) * self.n_obs];
                reads.push((readback, bytemuck::cast_slice_mut(out)));
            }
            self.gpu.read_into(submitted, None, &mut reads)?;
            first += count;
        }
        Ok(())
    }
}

//! The site_summaries shader on a GPU, over a site stage's draws buffer where they lie: one
//! workgroup per (site, quantity), encoded after the sweeps' last dispatch, so that only the
//! summary rows need come back.

use crate::kernels::gpu::{dispatch_grid, Gpu};
use crate::kernels::summary_layout::{
    device_summarises, SummaryParams, MAX_SUMMARY_DRAWS, SUMMARY_STRIDE,
};

/// The expanded, naga-validated shader (see build.rs).
pub(crate) const SITE_SUMMARIES_WGSL: &str =
    include_str!(concat!(env!("OUT_DIR"), "/site_summaries.wgsl"));

/// Normal scores of twice the ranks among at most MAX_SUMMARY_DRAWS split draws.
const MAX_SCORES: usize = 2 * MAX_SUMMARY_DRAWS as usize + 1;

/// What a call asks of site_summaries after its sweeps: its parameters and normal scores.
pub struct SummaryCall<'a> {
    pub params: &'a SummaryParams,
    pub scores: &'a [f32],
}

/// The summaries of up to `max_jobs` (site, quantity) pairs of one draws buffer.
pub struct SummaryStageGpu {
    pipeline: wgpu::ComputePipeline,
    params: wgpu::Buffer,
    scores: wgpu::Buffer,
    out: wgpu::Buffer,
    back: wgpu::Buffer,
    bind: wgpu::BindGroup,
    max_jobs: usize,
}

impl SummaryStageGpu {
    /// A stage reading `draws` (a site stage's recorded draws, where the sweeps left them).
    pub fn new(gpu: &Gpu, draws: &wgpu::Buffer, max_jobs: usize) -> SummaryStageGpu {
        let pipeline = gpu.pipeline("site_summaries", SITE_SUMMARIES_WGSL, &[]);
        let params = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("summary params"),
            size: std::mem::size_of::<SummaryParams>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let scores = gpu.site_buffer(
            "summary scores",
            MAX_SCORES * 4,
            wgpu::BufferUsages::COPY_DST,
        );
        let bytes = max_jobs * SUMMARY_STRIDE * 4;
        let out = gpu.site_buffer("summaries", bytes, wgpu::BufferUsages::COPY_SRC);
        let back = gpu.readback_buffer("summaries readback", bytes as u64);
        let bind = gpu.bind_group(&pipeline, &[&params, draws, &scores, &out]);
        SummaryStageGpu {
            pipeline,
            params,
            scores,
            out,
            back,
            bind,
            max_jobs,
        }
    }

    /// The summary stage of a site stage whose `draws` hold `slots` values per (site,
    /// chain, draw) of up to `max_sites` sites, `n_chains` chains and `max_draws` draws: at
    /// most every slot and one difference per site. None where the chains' shape is not one
    /// the shader takes (`device_summarises`): the host summarises those.
    pub fn for_draws(
        gpu: &Gpu,
        draws: &wgpu::Buffer,
        (max_sites, n_chains, max_draws): (usize, usize, usize),
        slots: usize,
    ) -> Option<SummaryStageGpu> {
        device_summarises(n_chains, max_draws)
            .then(|| SummaryStageGpu::new(gpu, draws, max_sites * (slots + 1)))
    }

    /// Writes the call's parameters and scores (they reach the device before the encoder's
    /// commands), and encodes the dispatch and the copy of its rows to the read-back buffer.
    /// Returns the bytes to read back from `readback()`.
    pub fn encode(
        &self,
        gpu: &Gpu,
        encoder: &mut wgpu::CommandEncoder,
        params: &SummaryParams,
        scores: &[f32],
    ) -> usize {
        let jobs = params.n_sites as usize * params.quantities();
        assert!(jobs <= self.max_jobs && scores.len() <= MAX_SCORES);
        gpu.queue
            .write_buffer(&self.params, 0, bytemuck::bytes_of(params));
        gpu.queue
            .write_buffer(&self.scores, 0, bytemuck::cast_slice(scores));
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &self.bind, &[]);
            // One workgroup per job: a grid of `jobs` workgroups.
            let (x, y) = dispatch_grid(jobs as u64, 1);
            pass.dispatch_workgroups(x, y, 1);
        }
        let bytes = jobs * SUMMARY_STRIDE * 4;
        if bytes > 0 {
            encoder.copy_buffer_to_buffer(&self.out, 0, &self.back, 0, bytes as u64);
        }
        bytes
    }

    /// The buffer `encode` copies the rows to.
    pub fn readback(&self) -> &wgpu::Buffer {
        &self.back
    }

    /// Device bytes per (site, quantity).
    pub fn bytes_per_job() -> f64 {
        2.0 * (SUMMARY_STRIDE as f64) * 4.0
    }

    /// The summaries of `draws` alone, uploaded for the call: the shader's contract, for
    /// tests against its CPU twin.
    pub fn summarize(
        gpu: &Gpu,
        params: &SummaryParams,
        draws: &[f32],
        scores: &[f32],
    ) -> Result<Vec<f32>, super::GpuError> {
        let buffer = gpu.storage_buffer("summary draws", bytemuck::cast_slice(draws));
        let jobs = params.n_sites as usize * params.quantities();
        let stage = SummaryStageGpu::new(gpu, &buffer, jobs);
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        let bytes = stage.encode(gpu, &mut encoder, params, scores);
        gpu.queue.submit([encoder.finish()]);
        let mut out = vec![0.0f32; bytes / 4];
        gpu.read_into(&mut [(stage.readback(), bytemuck::cast_slice_mut(&mut out))])?;
        Ok(out)
    }
}

//! The shaders over a site stage's draws where they lie: site_summaries, one workgroup per
//! (site, quantity), encoded after the sweeps' last dispatch, so that only the summary rows
//! come back; and draws_gather, which then brings back the draws of the sites the host
//! still needs, and no others.

use crate::kernels::gpu::{dispatch_grid, Gpu, KernelTimer};
use crate::kernels::summary_layout::{
    device_summarises, GatherParams, SummaryParams, GATHER_WORKGROUP, MAX_SUMMARY_DRAWS,
    SUMMARY_STRIDE,
};

/// The expanded, naga-validated shaders (see build.rs).
pub(crate) const SITE_SUMMARIES_WGSL: &str =
    include_str!(concat!(env!("OUT_DIR"), "/site_summaries.wgsl"));
pub(crate) const DRAWS_GATHER_WGSL: &str =
    include_str!(concat!(env!("OUT_DIR"), "/draws_gather.wgsl"));

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
    max_sites: usize,
    max_jobs: usize,
    /// The most pooled draws (chains x draws) a call may have: the size of the shader's
    /// workgroup arrays (its override SUMMARY_DRAWS).
    max_pooled: usize,
    gather: Gather,
}

/// draws_gather's pipeline and buffers: the chosen sites' indices, and their draws gathered.
struct Gather {
    pipeline: wgpu::ComputePipeline,
    params: wgpu::Buffer,
    sites: wgpu::Buffer,
    gathered: wgpu::Buffer,
    bind: wgpu::BindGroup,
}

impl SummaryStageGpu {
    /// A stage reading `draws` (a site stage's recorded draws, where the sweeps left them) of
    /// up to `max_sites` sites and `max_jobs` (site, quantity) summaries of up to
    /// `max_pooled` draws each (at most MAX_SUMMARY_DRAWS).
    pub fn new(
        gpu: &Gpu,
        draws: &wgpu::Buffer,
        (max_sites, max_jobs): (usize, usize),
        max_pooled: usize,
    ) -> SummaryStageGpu {
        assert!((1..=MAX_SUMMARY_DRAWS as usize).contains(&max_pooled));
        // The workgroup arrays sized to the run's draws, not to the most any run may have:
        // on an H100, arrays of 1,024 draws (12 KiB a workgroup) ran the kernel 3.5 times
        // slower than arrays of 256, at 200 draws (docs/perf-notes.md).
        let pipeline = gpu.pipeline(
            "site_summaries",
            SITE_SUMMARIES_WGSL,
            &[("SUMMARY_DRAWS", max_pooled as f64)],
        );
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
        let gather = {
            let pipeline = gpu.pipeline("draws_gather", DRAWS_GATHER_WGSL, &[]);
            let params = gpu.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("gather params"),
                size: std::mem::size_of::<GatherParams>() as u64,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            let sites =
                gpu.site_buffer("gather sites", max_sites * 4, wgpu::BufferUsages::COPY_DST);
            let gathered = gpu.site_buffer(
                "gathered draws",
                draws.size() as usize,
                wgpu::BufferUsages::COPY_SRC,
            );
            let bind = gpu.bind_group(&pipeline, &[&params, draws, &sites, &gathered]);
            Gather {
                pipeline,
                params,
                sites,
                gathered,
                bind,
            }
        };
        SummaryStageGpu {
            pipeline,
            params,
            scores,
            out,
            back,
            bind,
            max_sites,
            max_jobs,
            max_pooled,
            gather,
        }
    }

    /// The summary stage of a site stage whose `draws` (`draw_floats` of them) hold `slots`
    /// values per (site, chain, draw) of up to `max_sites` sites and `n_chains` chains: at
    /// most every slot and one difference per site. None where the chains' shape is not one
    /// the shader takes (`device_summarises`): the host summarises those.
    pub fn for_draws(
        gpu: &Gpu,
        draws: &wgpu::Buffer,
        draw_floats: usize,
        (max_sites, n_chains): (usize, usize),
        slots: usize,
    ) -> Option<SummaryStageGpu> {
        let max_draws = draw_floats / (max_sites * n_chains * slots).max(1);
        device_summarises(n_chains, max_draws).then(|| {
            let jobs = max_sites * (slots + 1);
            SummaryStageGpu::new(gpu, draws, (max_sites, jobs), n_chains * max_draws)
        })
    }

    /// Writes the call's parameters and scores (they reach the device before the encoder's
    /// commands), encodes the dispatch and the copy of its rows to the read-back buffer, and
    /// sizes `rows` to receive them from `readback()`.
    pub(crate) fn encode(
        &self,
        gpu: &Gpu,
        timer: Option<&KernelTimer>,
        encoder: &mut wgpu::CommandEncoder,
        call: &SummaryCall,
        rows: &mut Vec<f32>,
    ) {
        let SummaryCall { params, scores } = *call;
        let jobs = params.n_sites as usize * params.quantities();
        let pooled = (params.n_chains * params.n_draws) as usize;
        assert!(jobs <= self.max_jobs && pooled <= self.max_pooled && scores.len() <= MAX_SCORES);
        gpu.queue
            .write_buffer(&self.params, 0, bytemuck::bytes_of(params));
        gpu.queue
            .write_buffer(&self.scores, 0, bytemuck::cast_slice(scores));
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("site_summaries"),
                timestamp_writes: timer.map(|t| t.summary_writes()),
            });
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &self.bind, &[]);
            // One workgroup per job: a grid of `jobs` workgroups.
            let (x, y) = dispatch_grid(jobs as u64, 1);
            pass.dispatch_workgroups(x, y, 1);
        }
        rows.clear();
        rows.resize(jobs * SUMMARY_STRIDE, 0.0);
        if !rows.is_empty() {
            encoder.copy_buffer_to_buffer(&self.out, 0, &self.back, 0, (rows.len() * 4) as u64);
        }
    }

    /// The buffer `encode` copies the rows to.
    pub fn readback(&self) -> &wgpu::Buffer {
        &self.back
    }

    /// Device bytes per site of its buffers: the gathered draws, the chosen sites' indices,
    /// and the summary rows with their read-back.
    pub fn bytes_per_site(&self) -> f64 {
        let rows = 2 * self.max_jobs * SUMMARY_STRIDE * 4;
        let bytes = self.gather.gathered.size() + self.gather.sites.size() + rows as u64;
        bytes as f64 / self.max_sites as f64
    }

    /// The draws of `sites` (ascending, `per_site` floats each) gathered on the device and
    /// read back through `back` (a read-back buffer of the draws' size) into `out`.
    pub fn gather(
        &self,
        gpu: &Gpu,
        sites: &[u32],
        per_site: usize,
        back: &wgpu::Buffer,
        out: &mut Vec<f32>,
    ) -> Result<(), super::GpuError> {
        out.clear();
        out.resize(sites.len() * per_site, 0.0);
        if sites.is_empty() {
            return Ok(());
        }
        let params = GatherParams {
            n_sites: sites.len() as u32,
            per_site: per_site as u32,
            _pad0: 0,
            _pad1: 0,
        };
        let g = &self.gather;
        gpu.queue
            .write_buffer(&g.params, 0, bytemuck::bytes_of(&params));
        gpu.queue
            .write_buffer(&g.sites, 0, bytemuck::cast_slice(sites));
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            pass.set_pipeline(&g.pipeline);
            pass.set_bind_group(0, &g.bind, &[]);
            let (x, y) = dispatch_grid(out.len() as u64, GATHER_WORKGROUP);
            pass.dispatch_workgroups(x, y, 1);
        }
        let bytes = (out.len() * 4) as u64;
        encoder.copy_buffer_to_buffer(&g.gathered, 0, back, 0, bytes);
        let submitted = gpu.queue.submit([encoder.finish()]);
        gpu.read_into(
            submitted,
            None,
            &mut [(back, bytemuck::cast_slice_mut(out))],
        )
    }

    /// The draws of `sites` gathered from `draws` uploaded for the call: the shader's
    /// contract, for tests against its CPU twin.
    pub fn gather_from(
        gpu: &Gpu,
        draws: &[f32],
        sites: &[u32],
        per_site: usize,
    ) -> Result<Vec<f32>, super::GpuError> {
        let buffer = gpu.storage_buffer("gather draws", bytemuck::cast_slice(draws));
        let n_sites = draws.len() / per_site.max(1);
        let stage = SummaryStageGpu::new(gpu, &buffer, (n_sites, 1), MAX_SUMMARY_DRAWS as usize);
        let back = gpu.readback_buffer("gathered readback", buffer.size());
        let mut out = Vec::new();
        stage.gather(gpu, sites, per_site, &back, &mut out)?;
        Ok(out)
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
        let pooled = (params.n_chains * params.n_draws) as usize;
        let stage = SummaryStageGpu::new(gpu, &buffer, (params.n_sites as usize, jobs), pooled);
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        let mut out = Vec::new();
        stage.encode(
            gpu,
            None,
            &mut encoder,
            &SummaryCall { params, scores },
            &mut out,
        );
        let submitted = gpu.queue.submit([encoder.finish()]);
        let rows = bytemuck::cast_slice_mut(&mut out);
        gpu.read_into(submitted, None, &mut [(stage.readback(), rows)])?;
        Ok(out)
    }
}

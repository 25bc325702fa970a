//! The site_regression shader on a GPU: the design uploaded once, buffers sized once, one
//! dispatch per call, results read back into the same `RegressionOutputs` the CPU twin fills.

use wgpu::util::DeviceExt;

use crate::kernels::gpu::summary_stage::{SummaryCall, SummaryStageGpu};
use crate::kernels::gpu::{
    copy_out, max_site_samples, sweep_pieces, Gpu, GpuError, KernelTimer, SiteInputs,
};
use crate::kernels::regression_layout::{
    RegressionDesign, RegressionHyper, RegressionOutputs, REG_STATE_STRIDE,
};
use crate::kernels::site_layout::{SiteBatch, SiteParams};

/// The expanded, naga-validated shader (see build.rs).
pub(crate) const SITE_REGRESSION_WGSL: &str =
    include_str!(concat!(env!("OUT_DIR"), "/site_regression.wgsl"));

/// Loop iterations of one (site, chain) sweep of site_regression.wgsl, at most: every `for`
/// of the shader counted, function by function.
fn loop_iterations_per_sweep(design: &RegressionDesign, samples: usize) -> u64 {
    let (n, levels) = (design.n_coefs as u64, design.n_levels as u64);
    let block = n - design.tested as u64;
    let coefficients = n + n * (n + 1) / 2;
    let data_pass = samples as u64 * (1 + n);
    let newton = n + coefficients + data_pass;
    let log_prior = coefficients + n;
    let log_target = data_pass + log_prior;
    let level_mus = coefficients + levels * (1 + n);
    let indicators = level_mus + levels;
    let jump = block * newton + log_target + n + 2 * indicators;
    let coordinates = n * (2 * newton + log_prior);
    let record = level_mus + levels + coefficients;
    jump + coordinates + log_target + record + 1
}

/// The site_regression shader on a GPU, for one design, with buffers for up to `max_sites`
/// sites per dispatch.
pub struct RegressionStageGpu<'g> {
    gpu: &'g Gpu,
    pipeline: wgpu::ComputePipeline,
    workgroup_size: u32,
    max_sites: usize,
    /// Sites of the largest dispatch that records draws.
    max_draw_sites: usize,
    max_samples: usize,
    n_chains: usize,
    max_draw_floats: usize,
    params: wgpu::Buffer,
    inputs: SiteInputs,
    draws: wgpu::Buffer,
    state_back: wgpu::Buffer,
    draws_back: wgpu::Buffer,
    /// The design's buffers, held for the bind group: a dropped buffer is freed while a
    /// dispatch may still read it (seen on lavapipe: the chains broke after ~40 sweeps).
    _design: [wgpu::Buffer; 2],
    bind: wgpu::BindGroup,
    /// The summaries of the draws where they lie, where the chains' shape allows.
    summaries: Option<SummaryStageGpu>,
    /// This stage's kernel time, where the adapter has timestamp queries.
    timer: Option<KernelTimer>,
    draw_slots: usize,
}

impl<'g> RegressionStageGpu<'g> {
    /// Buffers for dispatches of up to `max_sites` sites holding up to `max_samples` samples,
    /// `n_chains` chains and, of up to `max_draw_sites` sites, `max_draws` recorded draws per
    /// (site, chain) (stage 1's larger dispatches record none).
    #[allow(clippy::too_many_arguments)] // the shapes of every buffer
    pub fn new(
        gpu: &'g Gpu,
        design: &RegressionDesign,
        max_sites: usize,
        max_draw_sites: usize,
        max_samples: usize,
        n_chains: usize,
        max_draws: usize,
        workgroup_size: u32,
    ) -> Self {
        let pipeline = gpu.pipeline(
            "site_regression",
            SITE_REGRESSION_WGSL,
            &[("WORKGROUP_SIZE", f64::from(workgroup_size))],
        );
        let inv = max_sites * n_chains;
        let max_draw_floats = max_draw_sites * n_chains * max_draws * design.draw_slots();
        let output = wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
        let params = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("regression params"),
            size: std::mem::size_of::<SiteParams>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let design_shape = gpu
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("regression shape"),
                contents: bytemuck::bytes_of(&design.shape()),
                usage: wgpu::BufferUsages::UNIFORM,
            });
        let matrices = gpu
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("regression design"),
                contents: bytemuck::cast_slice(&design.matrices()),
                usage: wgpu::BufferUsages::STORAGE,
            });
        let inputs = SiteInputs::new(
            gpu,
            "regression",
            (max_sites, max_samples),
            n_chains * std::mem::size_of::<RegressionHyper>(),
            inv * REG_STATE_STRIDE * 4,
        );
        let draws = gpu.site_buffer("regression draws", max_draw_floats * 4, output);
        let state_back = gpu.readback_buffer(
            "regression state readback",
            (inv * REG_STATE_STRIDE * 4) as u64,
        );
        let draws_back =
            gpu.readback_buffer("regression draws readback", (max_draw_floats * 4) as u64);
        let bind = gpu.bind_group(
            &pipeline,
            &[
                &params,
                &design_shape,
                &matrices,
                &inputs.samples,
                &inputs.offsets,
                &inputs.hyper,
                &inputs.state,
                &draws,
                &inputs.ids,
            ],
        );

        RegressionStageGpu {
            gpu,
            pipeline,
            workgroup_size,
            max_sites,
            max_draw_sites,
            max_samples,
            n_chains,
            max_draw_floats,
            params,
            inputs,
            draws,
            state_back,
            draws_back,
            _design: [design_shape, matrices],
            bind,
            summaries: None,
            timer: gpu.kernel_timer(),
            draw_slots: design.draw_slots(),
        }
    }

    /// Bytes of device memory per site at this configuration (the design's own buffers,
    /// a few kilobytes, left out).
    pub fn bytes_per_site(&self) -> f64 {
        let inv = (self.max_sites * self.n_chains) as f64;
        let total = SiteInputs::site_bytes(self.max_sites, self.max_samples)
            + inv * REG_STATE_STRIDE as f64 * 4.0 * 2.0
            + self.max_draw_floats as f64 * 4.0 * 2.0;
        let summaries = self
            .summaries
            .as_ref()
            .map_or(0.0, SummaryStageGpu::bytes_per_site);
        total / self.max_sites as f64 + summaries
    }

    /// The stage with site_summaries and draws_gather over its draws, where the chains'
    /// shape allows (`device_summarises`): buffers a run that summarises on the host need not hold.
    pub fn with_device_summaries(mut self) -> Self {
        let shape = (self.max_draw_sites, self.n_chains);
        self.summaries = SummaryStageGpu::for_draws(
            self.gpu,
            &self.draws,
            self.max_draw_floats,
            shape,
            self.draw_slots,
        );
        self
    }

    /// Whether `run_summarized` summarises on the device.
    pub fn summarizes(&self) -> bool {
        self.summaries.is_some()
    }

    /// After a summarised run, whose draws stay on the device: the draws of `sites`
    /// (ascending; `per_site` floats each) into `out`, one after another.
    pub fn fetch_draws(
        &self,
        sites: &[u32],
        per_site: usize,
        out: &mut Vec<f32>,
    ) -> Result<(), GpuError> {
        let stage = self.summaries.as_ref().expect("a summarised run");
        stage.gather(self.gpu, sites, per_site, &self.draws_back, out)
    }

    /// The contract of `cpu::site_regression` (the state is uploaded unless `params.init`),
    /// in one dispatch, or on a software adapter in as many as its loop limit needs: each
    /// goes on from the state the last left on the device.
    pub fn run(
        &self,
        design: &RegressionDesign,
        params: &SiteParams,
        batch: &SiteBatch,
        hyper: &[RegressionHyper],
        out: &mut RegressionOutputs,
    ) -> Result<(), GpuError> {
        let inputs = (params, batch, hyper);
        self.run_summarized(design, inputs, out, None, &mut Vec::new())
    }

    /// `run`, then with `summary` site_summaries over the draws (which must then be the
    /// run's last), its rows into `summaries`; without a summary stage, `summaries` is empty.
    pub fn run_summarized(
        &self,
        design: &RegressionDesign,
        (params, batch, hyper): (&SiteParams, &SiteBatch, &[RegressionHyper]),
        out: &mut RegressionOutputs,
        summary: Option<SummaryCall>,
        summaries: &mut Vec<f32>,
    ) -> Result<(), GpuError> {
        summaries.clear();
        let summary = summary.and_then(|call| Some((call, self.summaries.as_ref()?)));
        assert!(batch.n_sites() <= self.max_sites && batch.samples.len() <= self.max_samples);
        assert!(out.draws.len() <= self.max_draw_floats);
        assert!(
            params.warmup + params.n_draws > 0,
            "a dispatch runs at least one sweep"
        );
        let samples = max_site_samples(batch);
        let per_dispatch =
            self.gpu
                .sweeps_per_dispatch(loop_iterations_per_sweep(design, samples), || {
                    format!(
                        "this design ({} coefficients, up to {samples} samples a site)",
                        design.n_coefs
                    )
                })?;
        self.gpu
            .upload_site_inputs(&self.inputs, params, batch, hyper, &out.state);
        let invocations = u64::from(params.n_sites) * u64::from(params.n_chains);
        let state_bytes = (out.state.len() * 4) as u64;
        let draws_bytes = (out.draws.len() * 4) as u64;
        let submitted = self.gpu.dispatch_pieces(
            self.timer.as_ref(),
            &self.pipeline,
            &self.bind,
            &self.params,
            &sweep_pieces(params, per_dispatch),
            invocations,
            self.workgroup_size,
            |encoder| {
                if let Some((call, stage)) = &summary {
                    stage.encode(self.gpu, self.timer.as_ref(), encoder, call, summaries);
                }
                copy_out(
                    encoder,
                    &[
                        (&self.inputs.state, &self.state_back, state_bytes),
                        (&self.draws, &self.draws_back, draws_bytes),
                    ],
                )
            },
        );
        let mut reads = vec![
            (&self.state_back, bytemuck::cast_slice_mut(&mut out.state)),
            (&self.draws_back, bytemuck::cast_slice_mut(&mut out.draws)),
        ];
        if let Some((_, stage)) = &summary {
            reads.push((stage.readback(), bytemuck::cast_slice_mut(summaries)));
        }
        self.gpu
            .read_into(submitted, self.timer.as_ref(), &mut reads)
    }
}

//! The site_update shader on a GPU: buffers sized once, one dispatch per call, results read
//! back into the same `SiteOutputs` the CPU twin fills.

use crate::kernels::gpu::summary_stage::{SummaryCall, SummaryStageGpu};
use crate::kernels::gpu::{
    copy_out, max_site_samples, sweep_pieces, Gpu, GpuError, KernelTimer, SiteInputs,
};
use crate::kernels::site_layout::{
    SiteBatch, SiteHyper, SiteOutputs, SiteParams, MAX_GROUPS, STATE_STRIDE,
};

/// Loop iterations of one (site, chain) sweep of site_update.wgsl, about: the passes over
/// the samples (the proposal's, the likelihoods', each group's random walk), and per group
/// its loops and its Beta variate's Gamma attempts (rarely more than two each).
fn loop_iterations_per_sweep(n_groups: usize, samples: usize) -> u64 {
    let (g, s) = (n_groups as u64, samples as u64);
    s * (2 + g) + 16 * g + 8
}

/// The site_update shader on a GPU, with buffers for up to `max_sites` sites per dispatch.
pub struct SiteStageGpu<'g> {
    gpu: &'g Gpu,
    pipeline: wgpu::ComputePipeline,
    workgroup_size: u32,
    max_sites: usize,
    /// Sites of the largest dispatch that records draws.
    max_draw_sites: usize,
    max_samples: usize,
    n_chains: usize,
    /// The groups the pipeline was built for (its N_GROUPS).
    n_groups: usize,
    max_draw_floats: usize,
    params: wgpu::Buffer,
    inputs: SiteInputs,
    draws: wgpu::Buffer,
    stats: wgpu::Buffer,
    state_back: wgpu::Buffer,
    draws_back: wgpu::Buffer,
    stats_back: wgpu::Buffer,
    bind: wgpu::BindGroup,
    /// The summaries of the draws where they lie, where the chains' shape allows
    /// (`device_summarises`).
    summaries: Option<SummaryStageGpu>,
    /// This stage's kernel time, where the adapter has timestamp queries.
    timer: Option<KernelTimer>,
}

/// The expanded, naga-validated shader (see build.rs).
pub(crate) const SITE_UPDATE_WGSL: &str =
    include_str!(concat!(env!("OUT_DIR"), "/site_update.wgsl"));

impl<'g> SiteStageGpu<'g> {
    /// Buffers for dispatches of up to `max_sites` sites holding up to `max_samples`
    /// samples, `n_chains` chains and, of up to `max_draw_sites` sites, `max_draws × n_groups`
    /// recorded values per (site, chain) (stage 1's larger dispatches record none).
    #[allow(clippy::too_many_arguments)] // the shapes of every buffer
    pub fn new(
        gpu: &'g Gpu,
        max_sites: usize,
        max_draw_sites: usize,
        max_samples: usize,
        n_chains: usize,
        max_draws: usize,
        n_groups: usize,
        workgroup_size: u32,
    ) -> Self {
        assert!(
            (1..=MAX_GROUPS).contains(&n_groups),
            "site_update's arrays hold MAX_GROUPS groups"
        );
        let pipeline = gpu.pipeline(
            "site_update",
            SITE_UPDATE_WGSL,
            &[
                ("WORKGROUP_SIZE", f64::from(workgroup_size)),
                ("N_GROUPS", n_groups as f64),
            ],
        );
        let inv = max_sites * n_chains;
        let max_draw_floats = max_draw_sites * n_chains * max_draws * n_groups;
        let output = wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
        let params = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("site params"),
            size: std::mem::size_of::<SiteParams>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let inputs = SiteInputs::new(
            gpu,
            "site",
            (max_sites, max_samples),
            n_chains * std::mem::size_of::<SiteHyper>(),
            inv * STATE_STRIDE * 4,
        );
        let draws = gpu.site_buffer("site draws", max_draw_floats * 4, output);
        let stats = gpu.site_buffer("site stats", inv * 16, output);
        let back = |label, size: usize| gpu.readback_buffer(label, size as u64);
        let state_back = back("site state readback", inv * STATE_STRIDE * 4);
        let draws_back = back("site draws readback", max_draw_floats * 4);
        let stats_back = back("site stats readback", inv * 16);
        let bind = gpu.bind_group(
            &pipeline,
            &[
                &params,
                &inputs.samples,
                &inputs.offsets,
                &inputs.hyper,
                &inputs.state,
                &draws,
                &stats,
                &inputs.ids,
            ],
        );
        // Each site's groups' mus and their difference.

        SiteStageGpu {
            gpu,
            pipeline,
            workgroup_size,
            max_sites,
            max_draw_sites,
            max_samples,
            n_chains,
            n_groups,
            max_draw_floats,
            params,
            inputs,
            draws,
            stats,
            state_back,
            draws_back,
            stats_back,
            bind,
            summaries: None,
            timer: gpu.kernel_timer(),
        }
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
            self.n_groups,
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

    /// Bytes of device memory per site at this configuration.
    pub fn bytes_per_site(&self) -> f64 {
        let inv = (self.max_sites * self.n_chains) as f64;
        let total = SiteInputs::site_bytes(self.max_sites, self.max_samples)
            + inv * (STATE_STRIDE as f64 * 4.0 + 16.0) * 2.0
            + self.max_draw_floats as f64 * 4.0 * 2.0;
        let summaries = self
            .summaries
            .as_ref()
            .map_or(0.0, SummaryStageGpu::bytes_per_site);
        total / self.max_sites as f64 + summaries
    }

    /// The contract of `site_update` (the state is uploaded unless `params.init`), in one
    /// dispatch, or on a software adapter in as many as its loop limit needs, each going on
    /// from the state the one before left on the device.
    pub fn run(
        &self,
        params: &SiteParams,
        batch: &SiteBatch,
        hyper: &[SiteHyper],
        out: &mut SiteOutputs,
    ) -> Result<(), GpuError> {
        self.run_summarized(params, batch, hyper, out, None, &mut Vec::new())
    }

    /// `run`, then with `summary` site_summaries over the draws (which must then be the
    /// run's last), its rows into `summaries` and read back with the outputs. Without a
    /// summary stage (`summarizes`), `summaries` is left empty. Draws come back only as far
    /// as `out.draws` reaches: a summarised run leaves it empty, and `fetch_draws` brings
    /// back those of the sites the host needs.
    pub fn run_summarized(
        &self,
        params: &SiteParams,
        batch: &SiteBatch,
        hyper: &[SiteHyper],
        out: &mut SiteOutputs,
        summary: Option<SummaryCall>,
        summaries: &mut Vec<f32>,
    ) -> Result<(), GpuError> {
        summaries.clear();
        let summary = summary.and_then(|call| Some((call, self.summaries.as_ref()?)));
        assert!(batch.n_sites() <= self.max_sites && batch.samples.len() <= self.max_samples);
        assert!(
            params.warmup + params.n_draws > 0,
            "a dispatch runs at least one sweep"
        );
        assert!(
            out.draws.len() <= self.max_draw_floats && params.n_chains as usize == self.n_chains
        );
        assert_eq!(
            params.n_groups as usize, self.n_groups,
            "the pipeline's N_GROUPS is the call's"
        );
        let samples = max_site_samples(batch);
        let per_dispatch = self.gpu.sweeps_per_dispatch(
            loop_iterations_per_sweep(params.n_groups as usize, samples),
            || {
                format!(
                    "the site update ({} groups, up to {samples} samples a site)",
                    params.n_groups
                )
            },
        )?;
        self.gpu
            .upload_site_inputs(&self.inputs, params, batch, hyper, &out.state);
        let invocations = u64::from(params.n_sites) * u64::from(params.n_chains);
        let state_bytes = (out.state.len() * 4) as u64;
        let draws_bytes = (out.draws.len() * 4) as u64;
        let stats_bytes = (out.stats.len() * 16) as u64;
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
                        (&self.stats, &self.stats_back, stats_bytes),
                    ],
                )
            },
        );
        let mut reads = vec![
            (&self.state_back, bytemuck::cast_slice_mut(&mut out.state)),
            (&self.draws_back, bytemuck::cast_slice_mut(&mut out.draws)),
            (&self.stats_back, bytemuck::cast_slice_mut(&mut out.stats)),
        ];
        if let Some((_, stage)) = &summary {
            reads.push((stage.readback(), bytemuck::cast_slice_mut(summaries)));
        }
        self.gpu
            .read_into(submitted, self.timer.as_ref(), &mut reads)
    }
}

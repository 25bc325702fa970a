//! The per-site update of the methylation model: CPU twin of `shaders/site_update.wgsl`
//! (same operations, same order, same random stream), the structs it shares with the
//! shader, and the GPU stage that runs it.

use bytemuck::{Pod, Zeroable};
use rayon::prelude::*;

use crate::betabinom::{beta_binomial_log_ratio, ln_beta_f32};
use crate::gpu::{dispatch_grid, Gpu, GpuError};
use crate::methyl::site_lanes::{run_lanes, CHAIN_LANES};
use crate::rng::{counter, philox4x32_10, uniform_f32, Stream};
use crate::variates::{log_beta_variate, standard_normal, DrawSite};

/// Most groups a design may have (keep in sync with MAX_GROUPS in site_update.wgsl).
pub const MAX_GROUPS: usize = 8;
/// Floats of state per (site, chain): logit mu per group, log phi, then each group's
/// beta-binomial log likelihood at that point, so that a dispatch that goes on from the state
/// (stage 1 runs one sweep per dispatch) need not evaluate it again (keep in sync).
pub const STATE_STRIDE: usize = 2 * MAX_GROUPS + 1;
/// Where the state's log likelihoods start.
pub(crate) const STATE_LIKELIHOOD: usize = MAX_GROUPS + 1;
/// Random-walk step sd of each logit mu (keep in sync with site_update.wgsl).
pub(crate) const RW_LOGIT_MU: f32 = 0.5;
/// A log target and each group's beta-binomial log likelihood in it (keep in sync with Target
/// in site_update.wgsl).
#[derive(Clone, Copy)]
struct Target {
    total: f32,
    likelihood: [f32; MAX_GROUPS],
}

/// Uniform parameters of one site_update dispatch (keep in sync with SiteParams in
/// shaders/shared/site_layout.wgsl).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct SiteParams {
    pub seed: u32,
    pub n_sites: u32,
    pub n_chains: u32,
    pub n_groups: u32,
    /// Global number of the dispatch's first site: counter word 1 of its random numbers.
    pub site_offset: u32,
    pub first_sweep: u32,
    /// Sweeps run: `warmup` unrecorded, then `n_draws` recorded.
    pub warmup: u32,
    pub n_draws: u32,
    /// Nonzero: start from the proposal, not from the state.
    pub init: u32,
    /// Draws recorded per (site, chain) over the whole run, and how many came before this dispatch.
    pub draws_total: u32,
    pub draw_offset: u32,
    /// Nonzero: step 2, the random walk on each logit mu, follows the independence step
    /// (stage 2); stage 1 skips it (see `fit.rs`).
    pub random_walk: u32,
}

/// One sample's counts at a site (keep in sync with SiteSample in site_layout.wgsl).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq, Eq)]
pub struct SiteSample {
    pub group: u32,
    pub methylated: u32,
    pub total: u32,
    pub _pad: u32,
}

/// The sites of one dispatch: samples in CSR form.
#[derive(Debug, Clone, Default)]
pub struct SiteBatch {
    pub samples: Vec<SiteSample>,
    /// len n_sites + 1.
    pub offsets: Vec<u32>,
}

impl SiteBatch {
    pub fn n_sites(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }
}

/// Outputs of one dispatch, sized by `SiteOutputs::new`.
pub struct SiteOutputs {
    /// Per (site, chain): STATE_STRIDE floats.
    pub state: Vec<f32>,
    /// mu per (site, chain, draw of the whole run, group).
    pub draws: Vec<f32>,
    /// (Σ log mu, Σ log(1 - mu), log phi, accepted steps) per (site, chain).
    pub stats: Vec<[f32; 4]>,
}

impl SiteOutputs {
    pub fn new(params: &SiteParams) -> SiteOutputs {
        let n = params.n_sites as usize * params.n_chains as usize;
        SiteOutputs {
            state: vec![0.0; n * STATE_STRIDE],
            draws: vec![0.0; n * params.draws_total as usize * params.n_groups as usize],
            stats: vec![[0.0; 4]; n],
        }
    }
}

/// The independence proposal at one log phi: each group's Beta shapes and their ln B, kept
/// with the chain's point so that only a new log phi costs them again.
#[derive(Clone, Copy)]
struct Proposal {
    shapes: [[f32; 2]; MAX_GROUPS],
    ln_beta: [f32; MAX_GROUPS],
}

#[derive(Clone, Copy)]
struct Point {
    log_mu: [f32; MAX_GROUPS],
    log_1m: [f32; MAX_GROUPS],
    z: f32,
}

/// (log mu, log(1 - mu)) of logit u: -softplus(-u) and -softplus(u), which share their log term.
#[inline]
fn log_mu_pair(u: f32) -> [f32; 2] {
    let shared = (1.0 + (-u.abs()).exp()).ln();
    [-((-u).max(0.0) + shared), -(u.max(0.0) + shared)]
}

/// Smallest shape of a beta-binomial term: mu phi underflows to 0 in f32 (the GPU flushes
/// below 2^-126), where the Stirling shifts would divide 0 by 0 (keep in sync with the shader).
pub(crate) const MIN_SHAPE: f32 = f32::MIN_POSITIVE;

/// Group g's beta-binomial shapes (mu phi, (1 - mu) phi) at p, at least MIN_SHAPE.
#[inline]
fn beta_binomial_shapes(p: &Point, phi: f32, g: usize) -> [f32; 2] {
    [
        (p.log_mu[g].exp() * phi).max(MIN_SHAPE),
        (p.log_1m[g].exp() * phi).max(MIN_SHAPE),
    ]
}

struct Site<'a> {
    samples: &'a [SiteSample],
    n_groups: usize,
    h: [f32; 4],
}

impl Site<'_> {
    /// The independence proposal's Beta shapes at log phi = z, and their ln B.
    fn proposal(&self, z: f32) -> Proposal {
        let shapes = self.proposal_shapes(z);
        let mut ln_beta = [0.0f32; MAX_GROUPS];
        for (g, q) in shapes.iter().enumerate().take(self.n_groups) {
            ln_beta[g] = ln_beta_f32(q[0], q[1]);
        }
        Proposal { shapes, ln_beta }
    }

    fn proposal_shapes(&self, z: f32) -> [[f32; 2]; MAX_GROUPS] {
        let mut shapes = [[0.0f32; 2]; MAX_GROUPS];
        for s in shapes.iter_mut().take(self.n_groups) {
            *s = [self.h[0], self.h[1]];
        }
        let phi = z.exp();
        for s in self.samples {
            let c = (phi + 1.0) / (phi + s.total as f32);
            let g = &mut shapes[s.group as usize];
            g[0] += c * s.methylated as f32;
            g[1] += c * (s.total - s.methylated) as f32;
        }
        shapes
    }

    /// log posterior density at p up to a constant, with each group's log likelihood, as
    /// log_target in the shader.
    #[allow(clippy::needless_range_loop)] // indexed as the shader indexes
    fn log_target(&self, p: &Point) -> Target {
        let phi = p.z.exp();
        let mut likelihood = [0.0f32; MAX_GROUPS];
        let mut shapes = [[0.0f32; 2]; MAX_GROUPS];
        for g in 0..self.n_groups {
            shapes[g] = beta_binomial_shapes(p, phi, g);
        }
        for s in self.samples {
            let g = s.group as usize;
            likelihood[g] += beta_binomial_log_ratio(
                s.methylated as f32,
                s.total as f32,
                shapes[g][0],
                shapes[g][1],
            );
        }
        self.with_priors(p, likelihood)
    }

    /// The target at p from its groups' log likelihoods: the priors added.
    fn with_priors(&self, p: &Point, likelihood: [f32; MAX_GROUPS]) -> Target {
        let u = (p.z - self.h[2]) / self.h[3];
        let mut total = -0.5 * u * u;
        for (g, l) in likelihood.iter().enumerate().take(self.n_groups) {
            total += self.group_prior(p, g) + l;
        }
        Target { total, likelihood }
    }

    /// log of mu_g's Beta(a, b) prior density at p, up to a constant.
    fn group_prior(&self, p: &Point, g: usize) -> f32 {
        (self.h[0] - 1.0) * p.log_mu[g] + (self.h[1] - 1.0) * p.log_1m[g]
    }

    /// Group g's beta-binomial log likelihood at p.
    fn group_likelihood(&self, p: &Point, g: usize) -> f32 {
        let phi = p.z.exp();
        let [a, b] = beta_binomial_shapes(p, phi, g);
        let mut sum = 0.0;
        for s in self.samples.iter().filter(|s| s.group as usize == g) {
            sum += beta_binomial_log_ratio(s.methylated as f32, s.total as f32, a, b);
        }
        sum
    }

    /// log density of the independence proposal at p, whose log phi `q` was built at.
    fn log_proposal(&self, p: &Point, q: &Proposal) -> f32 {
        let u = (p.z - self.h[2]) / self.h[3];
        let mut lq = -0.5 * u * u;
        for g in 0..self.n_groups {
            let [a, b] = q.shapes[g];
            lq += (a - 1.0) * p.log_mu[g] + (b - 1.0) * p.log_1m[g] - q.ln_beta[g];
        }
        lq
    }
}

fn site_words(index: u32, site: u32, sweep: u32, key: [u32; 2]) -> [u32; 4] {
    philox4x32_10(counter(index, site, sweep, Stream::Site, 0), key)
}

/// One invocation of site_update.wgsl's `main`.
#[allow(clippy::needless_range_loop)] // indexed as the shader indexes
fn run_one(
    params: &SiteParams,
    batch: &SiteBatch,
    hyper: &[[f32; 4]],
    invocation: usize,
    state: &mut [f32],
    draws: &mut [f32],
) -> [f32; 4] {
    let n_chains = params.n_chains as usize;
    let (site, chain) = (invocation / n_chains, invocation % n_chains);
    let global_site = params.site_offset + site as u32;
    let key = [params.seed, chain as u32];
    let range = batch.offsets[site] as usize..batch.offsets[site + 1] as usize;
    let n_groups = params.n_groups as usize;
    let h = hyper[chain];
    let ctx = Site {
        samples: &batch.samples[range],
        n_groups,
        h,
    };
    let mut here = Point {
        log_mu: [0.0; MAX_GROUPS],
        log_1m: [0.0; MAX_GROUPS],
        z: 0.0,
    };
    let fresh = params.init != 0;
    let mut lp_here = Target {
        total: f32::NEG_INFINITY,
        likelihood: [0.0; MAX_GROUPS],
    };
    if !fresh {
        let mut likelihood = [0.0f32; MAX_GROUPS];
        for g in 0..n_groups {
            [here.log_mu[g], here.log_1m[g]] = log_mu_pair(state[g]);
            likelihood[g] = state[STATE_LIKELIHOOD + g];
        }
        here.z = state[MAX_GROUPS];
        // The likelihoods were computed at the point before its logit round trip: an f32
        // rounding apart, well inside the beta-binomial's own error.
        lp_here = ctx.with_priors(&here, likelihood);
    }
    // The proposal at here's log phi (only an accepted independence step moves log phi).
    let mut q_here = ctx.proposal(here.z);
    let mut accepted = 0.0f32;
    for k in 0..params.warmup + params.n_draws {
        let sweep = params.first_sweep + k;
        // 1. Independence proposal.
        let words = site_words(0, global_site, sweep, key);
        let mut there = here;
        there.z = h[2] + h[3] * standard_normal(words[0], words[1]);
        let q_there = ctx.proposal(there.z);
        for (g, q) in q_there.shapes.iter().enumerate().take(n_groups) {
            let draw = DrawSite {
                key,
                index: g as u32,
                unit: global_site,
                sweep,
            };
            [there.log_mu[g], there.log_1m[g]] = log_beta_variate(q[0], q[1], draw);
        }
        let lp_there = ctx.log_target(&there);
        let log_ratio = if fresh && k == 0 {
            3.0e38
        } else {
            (lp_there.total - ctx.log_proposal(&there, &q_there))
                - (lp_here.total - ctx.log_proposal(&here, &q_here))
        };
        if uniform_f32(words[2]).ln() < log_ratio {
            here = there;
            lp_here = lp_there;
            q_here = q_there;
            accepted += 1.0;
        }
        // 2. Random walk on each logit mu; its target gains the Jacobian mu (1 - mu).
        let rw_groups = if params.random_walk != 0 { n_groups } else { 0 };
        for g in 0..rw_groups {
            let wg = site_words(1 + g as u32, global_site, sweep, key);
            let u1 = here.log_mu[g] - here.log_1m[g] + RW_LOGIT_MU * standard_normal(wg[0], wg[1]);
            let mut step = here;
            [step.log_mu[g], step.log_1m[g]] = log_mu_pair(u1);
            let likelihood = ctx.group_likelihood(&step, g);
            let before = ctx.group_prior(&here, g) + lp_here.likelihood[g];
            let after = ctx.group_prior(&step, g) + likelihood;
            let jacobian = step.log_mu[g] + step.log_1m[g] - here.log_mu[g] - here.log_1m[g];
            if uniform_f32(wg[2]).ln() < after - before + jacobian {
                lp_here.total += after - before;
                lp_here.likelihood[g] = likelihood;
                here = step;
            }
        }
        if k >= params.warmup {
            let d = (params.draw_offset + k - params.warmup) as usize;
            for g in 0..n_groups {
                draws[d * n_groups + g] = here.log_mu[g].exp();
            }
        }
    }
    let (mut sum_log, mut sum_log1m) = (0.0f32, 0.0f32);
    for g in 0..n_groups {
        state[g] = here.log_mu[g] - here.log_1m[g];
        state[STATE_LIKELIHOOD + g] = lp_here.likelihood[g];
        sum_log += here.log_mu[g];
        sum_log1m += here.log_1m[g];
    }
    state[MAX_GROUPS] = here.z;
    [sum_log, sum_log1m, here.z, accepted]
}

/// Run site_update for every (site, chain) of `params` on all cores: the shader's contract,
/// CHAIN_LANES chains of a site at a time (`site_lanes`), the scalar twin for the rest.
pub fn site_update(
    params: &SiteParams,
    batch: &SiteBatch,
    hyper: &[[f32; 4]],
    out: &mut SiteOutputs,
) {
    run_sites(params, batch, hyper, out, true);
}

/// `site_update` by the scalar twin alone: the shader's operations one invocation at a time.
pub fn site_update_twin(
    params: &SiteParams,
    batch: &SiteBatch,
    hyper: &[[f32; 4]],
    out: &mut SiteOutputs,
) {
    run_sites(params, batch, hyper, out, false);
}

fn run_sites(
    params: &SiteParams,
    batch: &SiteBatch,
    hyper: &[[f32; 4]],
    out: &mut SiteOutputs,
    lanes: bool,
) {
    assert!(params.n_groups as usize <= MAX_GROUPS);
    assert_eq!(batch.n_sites(), params.n_sites as usize);
    // A fresh state of no sweeps would cache a likelihood of 0 for the next dispatch.
    assert!(
        params.warmup + params.n_draws > 0,
        "a dispatch runs at least one sweep"
    );
    let n_chains = params.n_chains as usize;
    let per_draws = params.draws_total as usize * params.n_groups as usize;
    if n_chains == 0 {
        return;
    }
    // One site's chains per task; without recorded draws each site gets an empty slice.
    let draws: Vec<&mut [f32]> = if per_draws == 0 {
        (0..params.n_sites).map(|_| Default::default()).collect()
    } else {
        out.draws.chunks_mut(n_chains * per_draws).collect()
    };
    out.state
        .par_chunks_mut(n_chains * STATE_STRIDE)
        .zip(out.stats.par_chunks_mut(n_chains))
        .zip(draws)
        .enumerate()
        .with_min_len(4)
        .for_each(|(site, ((state, stats), draws))| {
            let range = batch.offsets[site] as usize..batch.offsets[site + 1] as usize;
            let mut chain = 0;
            while lanes && chain + CHAIN_LANES <= n_chains {
                let d = &mut draws[chain * per_draws..(chain + CHAIN_LANES) * per_draws];
                run_lanes(
                    params,
                    &batch.samples[range.clone()],
                    hyper,
                    site,
                    chain,
                    &mut state[chain * STATE_STRIDE..(chain + CHAIN_LANES) * STATE_STRIDE],
                    d,
                    &mut stats[chain..chain + CHAIN_LANES],
                );
                chain += CHAIN_LANES;
            }
            for c in chain..n_chains {
                stats[c] = run_one(
                    params,
                    batch,
                    hyper,
                    site * n_chains + c,
                    &mut state[c * STATE_STRIDE..(c + 1) * STATE_STRIDE],
                    &mut draws[c * per_draws..(c + 1) * per_draws],
                );
            }
        });
}

/// The site_update shader on a GPU, with buffers for up to `max_sites` sites per dispatch.
pub struct SiteStageGpu<'g> {
    gpu: &'g Gpu,
    pipeline: wgpu::ComputePipeline,
    workgroup_size: u32,
    max_sites: usize,
    max_samples: usize,
    n_chains: usize,
    max_draw_floats: usize,
    params: wgpu::Buffer,
    samples: wgpu::Buffer,
    offsets: wgpu::Buffer,
    hyper: wgpu::Buffer,
    state: wgpu::Buffer,
    draws: wgpu::Buffer,
    stats: wgpu::Buffer,
    state_back: wgpu::Buffer,
    draws_back: wgpu::Buffer,
    stats_back: wgpu::Buffer,
    bind: wgpu::BindGroup,
}

/// The expanded, naga-validated shader (see build.rs).
pub const SITE_UPDATE_WGSL: &str = include_str!(concat!(env!("OUT_DIR"), "/site_update.wgsl"));

impl<'g> SiteStageGpu<'g> {
    /// Buffers for dispatches of up to `max_sites` sites holding up to `max_samples`
    /// samples, `n_chains` chains and `max_draws × n_groups` recorded values per (site, chain).
    pub fn new(
        gpu: &'g Gpu,
        max_sites: usize,
        max_samples: usize,
        n_chains: usize,
        max_draws: usize,
        n_groups: usize,
        workgroup_size: u32,
    ) -> Self {
        let pipeline = gpu.pipeline(
            "site_update",
            SITE_UPDATE_WGSL,
            &[("WORKGROUP_SIZE", f64::from(workgroup_size))],
        );
        let inv = max_sites * n_chains;
        let max_draw_floats = inv * max_draws * n_groups;
        let storage = |label, size: usize, extra: wgpu::BufferUsages| {
            gpu.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: (size as u64).max(16),
                usage: wgpu::BufferUsages::STORAGE | extra,
                mapped_at_creation: false,
            })
        };
        let input = wgpu::BufferUsages::COPY_DST;
        let output = wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
        let params = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("site params"),
            size: std::mem::size_of::<SiteParams>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let samples = storage("site samples", max_samples * 16, input);
        let offsets = storage("site offsets", (max_sites + 1) * 4, input);
        let hyper = storage("site hyper", n_chains * 16, input);
        let state = storage("site state", inv * STATE_STRIDE * 4, output);
        let draws = storage("site draws", max_draw_floats * 4, output);
        let stats = storage("site stats", inv * 16, output);
        let back = |label, size: usize| gpu.readback_buffer(label, size as u64);
        let state_back = back("site state readback", inv * STATE_STRIDE * 4);
        let draws_back = back("site draws readback", max_draw_floats * 4);
        let stats_back = back("site stats readback", inv * 16);
        let bind = gpu.bind_group(
            &pipeline,
            &[&params, &samples, &offsets, &hyper, &state, &draws, &stats],
        );
        SiteStageGpu {
            gpu,
            pipeline,
            workgroup_size,
            max_sites,
            max_samples,
            n_chains,
            max_draw_floats,
            params,
            samples,
            offsets,
            hyper,
            state,
            draws,
            stats,
            state_back,
            draws_back,
            stats_back,
            bind,
        }
    }

    /// Bytes of device memory per site at this configuration.
    pub fn bytes_per_site(&self) -> f64 {
        let inv = (self.max_sites * self.n_chains) as f64;
        let total = self.max_samples as f64 * 16.0
            + (self.max_sites as f64 + 1.0) * 4.0
            + inv * (STATE_STRIDE as f64 * 4.0 + 16.0) * 2.0
            + self.max_draw_floats as f64 * 4.0 * 2.0;
        total / self.max_sites as f64
    }

    /// One dispatch: the contract of `site_update` (the state is uploaded unless `params.init`).
    pub fn run(
        &self,
        params: &SiteParams,
        batch: &SiteBatch,
        hyper: &[[f32; 4]],
        out: &mut SiteOutputs,
    ) -> Result<(), GpuError> {
        assert!(batch.n_sites() <= self.max_sites && batch.samples.len() <= self.max_samples);
        assert!(
            params.warmup + params.n_draws > 0,
            "a dispatch runs at least one sweep"
        );
        assert!(
            out.draws.len() <= self.max_draw_floats && params.n_chains as usize == self.n_chains
        );
        let q = &self.gpu.queue;
        q.write_buffer(&self.params, 0, bytemuck::bytes_of(params));
        if !batch.samples.is_empty() {
            q.write_buffer(&self.samples, 0, bytemuck::cast_slice(&batch.samples));
        }
        q.write_buffer(&self.offsets, 0, bytemuck::cast_slice(&batch.offsets));
        q.write_buffer(&self.hyper, 0, bytemuck::cast_slice(hyper));
        if params.init == 0 && !out.state.is_empty() {
            q.write_buffer(&self.state, 0, bytemuck::cast_slice(&out.state));
        }
        let mut encoder = self.gpu.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &self.bind, &[]);
            let n = u64::from(params.n_sites) * u64::from(params.n_chains);
            let (x, y) = dispatch_grid(n, self.workgroup_size);
            pass.dispatch_workgroups(x, y, 1);
        }
        let state_bytes = (out.state.len() * 4) as u64;
        let draws_bytes = (out.draws.len() * 4) as u64;
        let stats_bytes = (out.stats.len() * 16) as u64;
        for (src, dst, n) in [
            (&self.state, &self.state_back, state_bytes),
            (&self.draws, &self.draws_back, draws_bytes),
            (&self.stats, &self.stats_back, stats_bytes),
        ] {
            if n > 0 {
                encoder.copy_buffer_to_buffer(src, 0, dst, 0, n);
            }
        }
        q.submit([encoder.finish()]);
        self.gpu.read_into(&mut [
            (&self.state_back, bytemuck::cast_slice_mut(&mut out.state)),
            (&self.draws_back, bytemuck::cast_slice_mut(&mut out.draws)),
            (&self.stats_back, bytemuck::cast_slice_mut(&mut out.stats)),
        ])
    }
}

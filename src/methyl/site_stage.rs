//! The site update as a fit runs it, in both stages: how a run samples (`FitConfig`), a
//! chunk's sites as the device takes them (`site_batch`), and the `SiteStage` it needs.

use crate::kernels::gpu::{Gpu, GpuError};
use crate::kernels::regression_layout::{RegressionDesign, REG_STATE_STRIDE};
use crate::kernels::site_layout::{SiteBatch, SiteSample, STATE_STRIDE};
use crate::kernels::stages::{RegressionStage, SiteCapacity, SiteStage};
use crate::kernels::Device;
use crate::methyl::merge::Site;
use crate::methyl::scan_sample::HyperSites;
use crate::rng::site_id;

/// How a run samples.
#[derive(Debug, Clone)]
pub struct FitConfig {
    pub chains: u32,
    pub warmup: u32,
    pub draws: u32,
    pub seed: u32,
    /// Sites of stage 1 (a design's take DEFAULT_DESIGN_HYPER_SITES where this is a share)
    /// and its sweeps.
    pub hyper_sites: HyperSites,
    pub hyper_warmup: u32,
    pub hyper_draws: u32,
    /// Sites per chunk of stage 2.
    pub chunk_sites: usize,
    pub workgroup_size: u32,
    /// The CPU path by the scalar twin alone, not four chains at a time (`bench` compares them).
    pub scalar_twin: bool,
    /// Stage 2's sweep threads, each with a site model of its own: DEVICE_SWEEPERS (or
    /// --dev-sweepers) where a GPU summarises the draws, else one (the run sets it once its
    /// device is open).
    pub sweep_threads: usize,
    /// The summaries on the host in f64 rather than on a GPU's device in f32 (site_summaries);
    /// a run sets it from --summaries once its device is open.
    pub host_summaries: bool,
    /// Records in the largest file from which stage 1's sample comes from the chromosome
    /// scan (scan_sample::SCAN_SAMPLE_FROM; tests set it lower).
    pub scan_sample_from: u64,
}

/// The device's batch of `sites`: every sample's counts with its group, and where each
/// site's samples start.
pub fn site_batch(sites: &[Site], sample_group: &[u32]) -> SiteBatch {
    let mut batch = SiteBatch::new();
    for site in sites {
        for &(sample, m, n) in &site.counts {
            batch.samples.push(SiteSample {
                group: sample_group[sample as usize],
                methylated: m,
                total: n,
                _pad: 0,
            });
        }
        batch.end_site(site_id(site.chr_key, site.pos));
    }
    batch
}

/// The most sites one GPU dispatch can hold within the device's largest storage binding:
/// the recorded draws, the state and the samples (`samples_per_site` at most) per site.
pub(crate) fn gpu_site_capacity(
    gpu: &Gpu,
    config: &FitConfig,
    n_groups: usize,
    samples_per_site: usize,
) -> usize {
    let chains = config.chains as usize;
    let per_site = [
        chains * config.draws as usize * n_groups * 4,
        chains * STATE_STRIDE.max(REG_STATE_STRIDE) * 4,
        samples_per_site * std::mem::size_of::<SiteSample>(),
    ];
    let largest = per_site.into_iter().max().unwrap_or(1).max(1) as u64;
    (gpu.max_binding() / largest).max(1) as usize
}

/// The largest dispatch of a fit: a chunk of stage 2 or stage 1's sites, `max_samples`
/// samples at most, its chains and `slots` values per recorded draw.
fn capacity(config: &FitConfig, max_samples: usize, slots: usize) -> SiteCapacity {
    SiteCapacity {
        max_sites: config.chunk_sites.max(config.hyper_sites.most),
        max_draw_sites: config.chunk_sites,
        max_samples,
        n_chains: config.chains as usize,
        max_draws: config.draws as usize,
        n_groups: slots,
        device_summaries: !config.host_summaries,
    }
}

/// The site stage a fit asks for, with buffers for its largest dispatch.
pub fn site_stage<'g>(
    device: Device<'g>,
    config: &FitConfig,
    max_samples: usize,
    n_groups: usize,
) -> SiteStage<'g> {
    let capacity = capacity(config, max_samples, n_groups);
    SiteStage::new(device, capacity, config.workgroup_size, config.scalar_twin)
}

/// The regression stage of a design, with buffers as `site_stage`'s.
pub fn regression_stage<'g>(
    device: Device<'g>,
    design: &'g RegressionDesign,
    config: &FitConfig,
    max_samples: usize,
) -> RegressionStage<'g> {
    let capacity = capacity(config, max_samples, design.draw_slots());
    let (workgroup, twin) = (config.workgroup_size, config.scalar_twin);
    RegressionStage::new(device, design, capacity, workgroup, twin)
}

/// Chunks of stage 2 whose draws exist at once with one sweep thread: one being summarised,
/// one waiting in the channel to the summariser, one being swept (the pipeline's channels
/// hold one each). Each further sweep thread holds one more.
pub(crate) const IN_FLIGHT_CHUNKS: usize = 3;
/// Stage 2's sweep threads where a GPU summarises the draws: while one thread's chunk comes
/// back and its draws are gathered, the device runs the others' kernels, where one thread
/// left it idle through each chunk's round trip. On an H100 (28M sites) 1, 2 and 3 threads
/// kept it in use 54%, 71% and 84% of stage 2, for 26.4-27.6, 21.6-22.0 and 19.4-20.9 s; with
/// 3 the writer began to set the pace. (On the CPU the sweeps use every core already: one.)
pub(crate) const DEVICE_SWEEPERS: usize = 3;
/// Bytes per site of a chunk beyond its draws and state: its summary row and bookkeeping.
const SUMMARY_BYTES_PER_SITE: usize = 512;

/// The most sites per chunk of stage 2 whose chunks in flight fit in `memory_bytes`: each
/// site's recorded draws (f32 per chain, draw and group), its chains' state, its samples'
/// counts and its summary.
pub(crate) fn chunk_sites_within(
    memory_bytes: f64,
    config: &FitConfig,
    n_groups: usize,
    samples_per_site: usize,
) -> usize {
    let chains = config.chains as usize;
    let per_site = chains * config.draws as usize * n_groups * 4
        + chains * STATE_STRIDE.max(REG_STATE_STRIDE) * 4
        + samples_per_site * std::mem::size_of::<SiteSample>()
        + SUMMARY_BYTES_PER_SITE;
    let in_flight = IN_FLIGHT_CHUNKS - 1 + config.sweep_threads.max(1);
    ((memory_bytes / (in_flight * per_site) as f64) as usize).max(1)
}

/// The site model a run fits on its device: the groups' update, or a design's regression.
#[allow(clippy::large_enum_variant)] // one per run
pub enum SiteModel<'g> {
    Groups(SiteStage<'g>),
    Regression(RegressionStage<'g>),
}

impl SiteModel<'_> {
    /// After a chunk summarised on the device: the draws of `sites` (ascending), `per_site`
    /// floats each, into `out`.
    pub fn fetch_draws(
        &self,
        sites: &[u32],
        per_site: usize,
        out: &mut Vec<f32>,
    ) -> Result<(), GpuError> {
        match self {
            SiteModel::Groups(stage) => stage.fetch_draws(sites, per_site, out),
            SiteModel::Regression(stage) => stage.fetch_draws(sites, per_site, out),
        }
    }

    /// Device memory per site of the GPU stage; None on the CPU.
    pub fn bytes_per_site(&self) -> Option<f64> {
        match self {
            SiteModel::Groups(stage) => stage.bytes_per_site(),
            SiteModel::Regression(stage) => stage.bytes_per_site(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// --memory counts a chunk for each sweep thread: three share what five chunks may hold.
    #[test]
    fn each_sweep_thread_holds_a_chunk_within_memory() {
        let one = FitConfig {
            sweep_threads: 1,
            ..FitConfig::default()
        };
        let three = FitConfig {
            sweep_threads: 3,
            ..one.clone()
        };
        let within = |config: &FitConfig| chunk_sites_within(1e9, config, 2, 4) as f64;
        let ratio = within(&one) / within(&three);
        assert!((ratio - 5.0 / 3.0).abs() < 1e-4, "{ratio}");
    }
}

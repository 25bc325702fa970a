//! The site update on the chosen device, for both stages: how a run samples (`FitConfig`),
//! a chunk's sites as the device takes them (`site_batch`), and the GPU stage, the
//! four-chain lanes or the scalar twin behind one `SiteRunner`.

use crate::kernels::cpu::site_update::{site_update, site_update_twin};
use crate::kernels::gpu::site_stage::SiteStageGpu;
use crate::kernels::gpu::{Gpu, GpuError};
use crate::kernels::site_layout::{
    SiteBatch, SiteHyper, SiteOutputs, SiteParams, SiteSample, STATE_STRIDE,
};
use crate::kernels::Device;
use crate::methyl::merge::Site;

/// How a run samples.
#[derive(Debug, Clone)]
pub struct FitConfig {
    pub chains: u32,
    pub warmup: u32,
    pub draws: u32,
    pub seed: u32,
    /// Sites of stage 1 and its sweeps.
    pub hyper_sites: usize,
    pub hyper_warmup: u32,
    pub hyper_draws: u32,
    /// Sites per chunk of stage 2.
    pub chunk_sites: usize,
    pub workgroup_size: u32,
    /// The CPU path by the scalar twin alone, not four chains at a time (`bench` compares them).
    pub scalar_twin: bool,
}

/// The device's batch of `sites`: every sample's counts with its group, and where each
/// site's samples start.
pub fn site_batch(sites: &[Site], sample_group: &[u32]) -> SiteBatch {
    let mut batch = SiteBatch {
        samples: Vec::new(),
        offsets: vec![0],
    };
    for site in sites {
        for &(sample, m, n) in &site.counts {
            batch.samples.push(SiteSample {
                group: sample_group[sample as usize],
                methylated: m,
                total: n,
                _pad: 0,
            });
        }
        batch.offsets.push(batch.samples.len() as u32);
    }
    batch
}

/// The stage on the chosen device.
pub struct SiteRunner<'g> {
    gpu: Option<SiteStageGpu<'g>>,
    scalar_twin: bool,
}

/// The most sites one GPU dispatch can hold within the device's largest storage binding:
/// the recorded draws, the state and the samples (`samples_per_site` at most) per site.
pub fn gpu_site_capacity(
    gpu: &Gpu,
    config: &FitConfig,
    n_groups: usize,
    samples_per_site: usize,
) -> usize {
    let chains = config.chains as usize;
    let per_site = [
        chains * config.draws as usize * n_groups * 4,
        chains * STATE_STRIDE * 4,
        samples_per_site * std::mem::size_of::<SiteSample>(),
    ];
    let largest = per_site.into_iter().max().unwrap_or(1).max(1) as u64;
    (gpu.max_binding() / largest).max(1) as usize
}

impl<'g> SiteRunner<'g> {
    pub fn new(
        device: &Device<'g>,
        config: &FitConfig,
        max_samples: usize,
        n_groups: usize,
    ) -> Self {
        SiteRunner {
            gpu: match device {
                Device::Cpu => None,
                Device::Gpu(gpu) => Some(SiteStageGpu::new(
                    gpu,
                    config.chunk_sites.max(config.hyper_sites),
                    max_samples,
                    config.chains as usize,
                    config.draws as usize,
                    n_groups,
                    config.workgroup_size,
                )),
            },
            scalar_twin: config.scalar_twin,
        }
    }

    pub fn run(
        &self,
        params: &SiteParams,
        batch: &SiteBatch,
        hyper: &[SiteHyper],
        out: &mut SiteOutputs,
    ) -> Result<(), GpuError> {
        match &self.gpu {
            Some(stage) => stage.run(params, batch, hyper, out),
            None if self.scalar_twin => {
                site_update_twin(params, batch, hyper, out);
                Ok(())
            }
            None => {
                site_update(params, batch, hyper, out);
                Ok(())
            }
        }
    }

    pub fn bytes_per_site(&self) -> Option<f64> {
        self.gpu.as_ref().map(SiteStageGpu::bytes_per_site)
    }
}

//! Each kernel on the chosen device, behind one type per kernel of the same shape: the GPU
//! stage when the device is a GPU, else the CPU twin, with the same contract either way.
//! `ThetaStage` runs theta_update and collapsed_loglik over a batch's pieces; `SiteStage`
//! runs site_update over a dispatch's sites, `RegressionStage` site_regression.

use crate::kernels::cpu::collapsed_loglik::collapsed_loglik;
use crate::kernels::cpu::site_regression::{site_regression, site_regression_twin};
use crate::kernels::cpu::site_update::{site_update, site_update_twin};
use crate::kernels::cpu::theta_update::theta_update;
use crate::kernels::gpu::piece_stage::{PieceKernel, PieceStageGpu};
use crate::kernels::gpu::regression_stage::RegressionStageGpu;
use crate::kernels::gpu::site_stage::SiteStageGpu;
use crate::kernels::gpu::GpuError;
use crate::kernels::layout::{Observation, Piece, ThetaParams};
use crate::kernels::regression_layout::{RegressionDesign, RegressionHyper, RegressionOutputs};
use crate::kernels::site_layout::{SiteBatch, SiteHyper, SiteOutputs, SiteParams};
use crate::kernels::Device;

/// theta_update and collapsed_loglik for one batch: its observations and pieces, uploaded
/// once when the device is a GPU.
pub struct ThetaStage<'a> {
    observations: &'a [Observation],
    pieces: &'a [Piece],
    gpu: Option<PieceStages<'a>>,
}

/// The GPU's piece stages; collapsed_loglik only for runs that use it.
struct PieceStages<'g> {
    theta: PieceStageGpu<'g>,
    loglik: Option<PieceStageGpu<'g>>,
}

impl<'a> ThetaStage<'a> {
    /// Prepare the stages for up to `max_chains` chains; `collapsed`: the run also needs
    /// collapsed_loglik.
    pub fn new(
        device: Device<'a>,
        observations: &'a [Observation],
        pieces: &'a [Piece],
        n_units: usize,
        max_chains: usize,
        workgroup_size: u32,
        collapsed: bool,
    ) -> Self {
        let gpu = match device {
            Device::Cpu => None,
            Device::Gpu(gpu) => {
                let stage = |kernel| {
                    PieceStageGpu::new(
                        gpu,
                        kernel,
                        observations,
                        pieces,
                        n_units,
                        max_chains,
                        workgroup_size,
                    )
                };
                Some(PieceStages {
                    theta: stage(PieceKernel::ThetaUpdate),
                    loglik: collapsed.then(|| stage(PieceKernel::CollapsedLoglik)),
                })
            }
        };
        ThetaStage {
            observations,
            pieces,
            gpu,
        }
    }

    /// One theta_update pass: the contract of `cpu::theta_update`.
    pub fn run(
        &self,
        params: &ThetaParams,
        hyper: &[[f32; 2]],
        theta: &mut [f32],
        log_sums: &mut [[f32; 2]],
    ) -> Result<(), GpuError> {
        match &self.gpu {
            Some(stages) => {
                stages
                    .theta
                    .run(params, hyper, theta, bytemuck::cast_slice_mut(log_sums))
            }
            None => {
                theta_update(
                    params,
                    self.observations,
                    self.pieces,
                    hyper,
                    theta,
                    log_sums,
                );
                Ok(())
            }
        }
    }

    /// One collapsed_loglik pass: the contract of `cpu::collapsed_loglik`.
    pub fn loglik(
        &self,
        params: &ThetaParams,
        hyper: &[[f32; 2]],
        loglik: &mut [f32],
    ) -> Result<(), GpuError> {
        match &self.gpu {
            Some(stages) => stages
                .loglik
                .as_ref()
                .expect("the collapsed stage is built for collapsed runs")
                .run(params, hyper, &mut [], bytemuck::cast_slice_mut(loglik)),
            None => {
                collapsed_loglik(params, self.observations, self.pieces, hyper, loglik);
                Ok(())
            }
        }
    }
}

/// The largest dispatch a `SiteStage` takes.
#[derive(Debug, Clone, Copy)]
pub struct SiteCapacity {
    pub max_sites: usize,
    pub max_samples: usize,
    pub n_chains: usize,
    /// Recorded draws per (site, chain).
    pub max_draws: usize,
    pub n_groups: usize,
}

/// site_update: the GPU stage with buffers for the largest dispatch, or on the CPU the
/// four-chain lanes (or, with `scalar_twin`, the scalar twin alone).
pub struct SiteStage<'g> {
    gpu: Option<SiteStageGpu<'g>>,
    scalar_twin: bool,
}

impl<'g> SiteStage<'g> {
    pub fn new(
        device: Device<'g>,
        capacity: SiteCapacity,
        workgroup_size: u32,
        scalar_twin: bool,
    ) -> Self {
        let gpu = match device {
            Device::Cpu => None,
            Device::Gpu(gpu) => Some(SiteStageGpu::new(
                gpu,
                capacity.max_sites,
                capacity.max_samples,
                capacity.n_chains,
                capacity.max_draws,
                capacity.n_groups,
                workgroup_size,
            )),
        };
        SiteStage { gpu, scalar_twin }
    }

    /// One dispatch: the contract of `cpu::site_update`.
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

    /// Device memory per site of the GPU stage; None on the CPU.
    pub fn bytes_per_site(&self) -> Option<f64> {
        self.gpu.as_ref().map(SiteStageGpu::bytes_per_site)
    }
}

/// site_regression for one design: the GPU stage with buffers for the largest dispatch, or
/// on the CPU the four-chain lanes (or, with `scalar_twin`, the scalar twin alone).
pub struct RegressionStage<'g> {
    design: &'g RegressionDesign,
    gpu: Option<RegressionStageGpu<'g>>,
    scalar_twin: bool,
}

impl<'g> RegressionStage<'g> {
    pub fn new(
        device: Device<'g>,
        design: &'g RegressionDesign,
        capacity: SiteCapacity,
        workgroup_size: u32,
        scalar_twin: bool,
    ) -> Self {
        let gpu = match device {
            Device::Cpu => None,
            Device::Gpu(gpu) => Some(RegressionStageGpu::new(
                gpu,
                design,
                capacity.max_sites,
                capacity.max_samples,
                capacity.n_chains,
                capacity.max_draws,
                workgroup_size,
            )),
        };
        RegressionStage {
            design,
            gpu,
            scalar_twin,
        }
    }

    pub fn design(&self) -> &RegressionDesign {
        self.design
    }

    /// One dispatch: the contract of `cpu::site_regression`.
    pub fn run(
        &self,
        params: &SiteParams,
        batch: &SiteBatch,
        hyper: &[RegressionHyper],
        out: &mut RegressionOutputs,
    ) -> Result<(), GpuError> {
        match &self.gpu {
            Some(stage) => stage.run(self.design, params, batch, hyper, out),
            None if self.scalar_twin => {
                site_regression_twin(params, self.design, batch, hyper, out);
                Ok(())
            }
            None => {
                site_regression(params, self.design, batch, hyper, out);
                Ok(())
            }
        }
    }

    /// Device memory per site of the GPU stage; None on the CPU.
    pub fn bytes_per_site(&self) -> Option<f64> {
        self.gpu.as_ref().map(RegressionStageGpu::bytes_per_site)
    }
}

//! The per-observation stages (theta_update, collapsed_loglik) on the chosen device: the
//! GPU's pipelines with the batch uploaded, or the CPU twins.

use crate::kernels::cpu;
use crate::kernels::gpu::piece_stage::{PieceKernel, PieceStageGpu};
use crate::kernels::gpu::GpuError;
use crate::kernels::layout::ThetaParams;
use crate::kernels::Device;
use crate::mcmc::batch::Batch;

use super::config::Update;

/// The per-observation stages on the chosen device, with the batch uploaded for the GPU.
pub enum ThetaStage<'g> {
    Cpu,
    Gpu {
        theta: Box<PieceStageGpu<'g>>,
        /// Present when the run uses the collapsed update.
        loglik: Option<Box<PieceStageGpu<'g>>>,
    },
}

impl<'g> ThetaStage<'g> {
    /// Prepare the stages for `batch` and up to `max_chains` chains.
    pub fn new(
        backend: Device<'g>,
        batch: &Batch,
        max_chains: usize,
        workgroup_size: u32,
        update: Update,
    ) -> Self {
        match backend {
            Device::Cpu => ThetaStage::Cpu,
            Device::Gpu(gpu) => {
                let stage = |kernel| {
                    Box::new(PieceStageGpu::new(
                        gpu,
                        kernel,
                        &batch.observations,
                        &batch.pieces,
                        batch.n_units(),
                        max_chains,
                        workgroup_size,
                    ))
                };
                ThetaStage::Gpu {
                    theta: stage(PieceKernel::ThetaUpdate),
                    loglik: (update == Update::Collapsed)
                        .then(|| stage(PieceKernel::CollapsedLoglik)),
                }
            }
        }
    }

    /// One theta_update pass: the contract of `cpu::theta_update`.
    pub fn run(
        &self,
        batch: &Batch,
        params: &ThetaParams,
        hyper: &[[f32; 2]],
        theta: &mut [f32],
        log_sums: &mut [[f32; 2]],
    ) -> Result<(), GpuError> {
        match self {
            ThetaStage::Gpu { theta: stage, .. } => {
                stage.run(params, hyper, theta, bytemuck::cast_slice_mut(log_sums))
            }
            ThetaStage::Cpu => {
                cpu::theta_update::theta_update(
                    params,
                    &batch.observations,
                    &batch.pieces,
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
        batch: &Batch,
        params: &ThetaParams,
        hyper: &[[f32; 2]],
        loglik: &mut [f32],
    ) -> Result<(), GpuError> {
        match self {
            ThetaStage::Gpu {
                loglik: Some(stage),
                ..
            } => stage.run(params, hyper, &mut [], bytemuck::cast_slice_mut(loglik)),
            ThetaStage::Gpu { loglik: None, .. } => {
                unreachable!("the collapsed stage is built for collapsed runs")
            }
            ThetaStage::Cpu => {
                cpu::collapsed_loglik::collapsed_loglik(
                    params,
                    &batch.observations,
                    &batch.pieces,
                    hyper,
                    loglik,
                );
                Ok(())
            }
        }
    }
}

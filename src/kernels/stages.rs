//! Each kernel on the chosen device, behind one type per kernel of the same shape: the GPU
//! stage when the device is a GPU, else the CPU twin, with the same contract either way.
//! `ThetaStage` runs theta_update and collapsed_loglik over a batch's pieces; `SiteStage`
//! runs site_update over a dispatch's sites, `RegressionStage` site_regression.

use rayon::prelude::*;

use crate::kernels::cpu::marginal_table::MarginalTables;
use crate::kernels::cpu::site_regression::{site_regression, site_regression_twin};
use crate::kernels::cpu::site_update::{site_update, site_update_twin};
use crate::kernels::cpu::theta_update::{theta_update, theta_update_chain};
use crate::kernels::gpu::piece_stage::{PieceKernel, PieceStageGpu};
use crate::kernels::gpu::regression_stage::RegressionStageGpu;
use crate::kernels::gpu::site_stage::SiteStageGpu;
use crate::kernels::gpu::summary_stage::SummaryCall;
use crate::kernels::gpu::GpuError;
use crate::kernels::layout::{unit_piece_offsets, Observation, Piece, ThetaParams};
use crate::kernels::regression_layout::{RegressionDesign, RegressionHyper, RegressionOutputs};
use crate::kernels::site_layout::{SiteBatch, SiteHyper, SiteOutputs, SiteParams};
use crate::kernels::Device;

/// theta_update and collapsed_loglik for one batch: its observations and pieces, uploaded
/// once when the device is a GPU.
pub struct ThetaStage<'a> {
    observations: &'a [Observation],
    pieces: &'a [Piece],
    /// Pieces of unit u: `unit_pieces[u]..unit_pieces[u + 1]`.
    unit_pieces: Vec<u32>,
    gpu: Option<PieceStages<'a>>,
    /// The CPU path's collapsed marginal: each unit's count tables, in f64.
    tables: Option<MarginalTables>,
}

/// (chain, unit) log marginals per rayon task on the CPU path: each is about a microsecond.
const MARGINALS_PER_TASK: usize = 16;

/// The GPU's piece stages; collapsed_loglik only for runs that use it.
struct PieceStages<'g> {
    theta: PieceStageGpu<'g>,
    loglik: Option<PieceStageGpu<'g>>,
}

impl<'a> ThetaStage<'a> {
    /// Prepare the stages for up to `max_chains` chains, unit u's observations being
    /// `unit_offsets[u]..unit_offsets[u + 1]`; `collapsed`: the run also needs the marginal.
    pub fn new(
        device: Device<'a>,
        observations: &'a [Observation],
        pieces: &'a [Piece],
        unit_offsets: &[u32],
        max_chains: usize,
        workgroup_size: u32,
        collapsed: bool,
    ) -> Self {
        let n_units = unit_offsets.len() - 1;
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
        let unit_pieces = unit_piece_offsets(pieces, n_units);
        let tables =
            (collapsed && gpu.is_none()).then(|| MarginalTables::new(observations, unit_offsets));
        ThetaStage {
            observations,
            pieces,
            unit_pieces,
            gpu,
            tables,
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

    /// theta_update for one chain, on this thread (the CPU path only: its host loop draws a
    /// chain's thetas where it has just updated the chain's units): the contract of
    /// `cpu::theta_update_chain`.
    pub fn run_chain_cpu(
        &self,
        params: &ThetaParams,
        hyper_chain: &[[f32; 2]],
        chain: u32,
        theta_chain: &mut [f32],
        sums_chain: &mut [[f32; 2]],
    ) {
        assert!(self.gpu.is_none(), "run_chain_cpu is the CPU path's");
        theta_update_chain(
            params,
            self.observations,
            self.pieces,
            hyper_chain,
            chain,
            theta_chain,
            sums_chain,
        );
    }

    /// The CPU path's count tables of the collapsed marginal (None on the GPU), for a host
    /// loop that evaluates each (chain, unit) where it is updated.
    pub fn cpu_marginal(&self) -> Option<&MarginalTables> {
        self.tables.as_ref()
    }

    /// The collapsed update's log marginal of every (chain, unit) at its (alpha, beta),
    /// `shapes` and `out` chain-major: on the GPU, collapsed_loglik's f32 pieces (at the
    /// shapes rounded to f32) summed per unit in f64; on the CPU, the units' count tables in f64.
    pub fn unit_loglik(
        &self,
        params: &ThetaParams,
        shapes: &[[f64; 2]],
        out: &mut [f64],
    ) -> Result<(), GpuError> {
        let n_units = self.unit_pieces.len() - 1;
        assert_eq!(shapes.len(), out.len());
        assert_eq!(out.len(), params.n_chains as usize * n_units);
        let Some(stages) = &self.gpu else {
            let tables = self
                .tables
                .as_ref()
                .expect("the count tables are built for collapsed runs");
            out.par_iter_mut()
                .zip(shapes)
                .with_min_len(MARGINALS_PER_TASK)
                .enumerate()
                .for_each(|(i, (sum, &[a, b]))| *sum = tables.log_marginal(i % n_units, a, b));
            return Ok(());
        };
        let hyper: Vec<[f32; 2]> = shapes.iter().map(|&[a, b]| [a as f32, b as f32]).collect();
        let n_pieces = self.pieces.len();
        let mut pieces = vec![0.0f32; params.n_chains as usize * n_pieces];
        stages
            .loglik
            .as_ref()
            .expect("the collapsed stage is built for collapsed runs")
            .run(
                params,
                &hyper,
                &mut [],
                bytemuck::cast_slice_mut(&mut pieces),
            )?;
        out.par_iter_mut()
            .with_min_len(MARGINALS_PER_TASK)
            .enumerate()
            .for_each(|(i, sum)| {
                let (chain, unit) = (i / n_units, i % n_units);
                let range = self.unit_pieces[unit] as usize..self.unit_pieces[unit + 1] as usize;
                *sum = pieces[chain * n_pieces..][range]
                    .iter()
                    .map(|&v| f64::from(v))
                    .sum();
            });
        Ok(())
    }
}

/// The largest dispatch a `SiteStage` takes.
#[derive(Debug, Clone, Copy)]
pub struct SiteCapacity {
    pub max_sites: usize,
    /// Sites of the largest dispatch that records draws (stage 2's chunk; stage 1, on more
    /// sites, records none).
    pub max_draw_sites: usize,
    pub max_samples: usize,
    pub n_chains: usize,
    /// Recorded draws per (site, chain).
    pub max_draws: usize,
    pub n_groups: usize,
    /// The GPU stage also summarises the draws where they lie (site_summaries).
    pub device_summaries: bool,
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
            Device::Gpu(gpu) => {
                let stage = SiteStageGpu::new(
                    gpu,
                    capacity.max_sites,
                    capacity.max_draw_sites,
                    capacity.max_samples,
                    capacity.n_chains,
                    capacity.max_draws,
                    capacity.n_groups,
                    workgroup_size,
                );
                Some(match capacity.device_summaries {
                    true => stage.with_device_summaries(),
                    false => stage,
                })
            }
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
        self.run_summarized(params, batch, hyper, out, None, &mut Vec::new())
    }

    /// Whether `run_summarized` summarises the draws on the device (a GPU, and chains of a
    /// shape site_summaries takes).
    pub fn summarizes(&self) -> bool {
        self.gpu.as_ref().is_some_and(SiteStageGpu::summarizes)
    }

    /// After a summarised run (`run_summarized` on a stage that `summarizes`), whose draws stay
    /// on the device: the draws of `sites` (ascending; `per_site` floats each) into `out`.
    pub fn fetch_draws(
        &self,
        sites: &[u32],
        per_site: usize,
        out: &mut Vec<f32>,
    ) -> Result<(), GpuError> {
        let gpu = self
            .gpu
            .as_ref()
            .expect("only a GPU summarises, and keeps the draws");
        gpu.fetch_draws(sites, per_site, out)
    }

    /// `run`, and where the stage `summarizes`, site_summaries over the draws (the run's
    /// last dispatch) into `summaries`; elsewhere `summaries` is left empty.
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
        match &self.gpu {
            Some(stage) => stage.run_summarized(params, batch, hyper, out, summary, summaries),
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
            Device::Gpu(gpu) => {
                let stage = RegressionStageGpu::new(
                    gpu,
                    design,
                    capacity.max_sites,
                    capacity.max_draw_sites,
                    capacity.max_samples,
                    capacity.n_chains,
                    capacity.max_draws,
                    workgroup_size,
                );
                Some(match capacity.device_summaries {
                    true => stage.with_device_summaries(),
                    false => stage,
                })
            }
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
        self.run_summarized(params, batch, hyper, out, None, &mut Vec::new())
    }

    /// Whether `run_summarized` summarises the draws on the device.
    pub fn summarizes(&self) -> bool {
        self.gpu
            .as_ref()
            .is_some_and(RegressionStageGpu::summarizes)
    }

    /// After a summarised run (`run_summarized` on a stage that `summarizes`), whose draws stay
    /// on the device: the draws of `sites` (ascending; `per_site` floats each) into `out`.
    pub fn fetch_draws(
        &self,
        sites: &[u32],
        per_site: usize,
        out: &mut Vec<f32>,
    ) -> Result<(), GpuError> {
        let gpu = self
            .gpu
            .as_ref()
            .expect("only a GPU summarises, and keeps the draws");
        gpu.fetch_draws(sites, per_site, out)
    }

    /// `run`, and where the stage `summarizes`, site_summaries over the draws (the run's
    /// last dispatch) into `summaries`; elsewhere `summaries` is left empty.
    pub fn run_summarized(
        &self,
        params: &SiteParams,
        batch: &SiteBatch,
        hyper: &[RegressionHyper],
        out: &mut RegressionOutputs,
        summary: Option<SummaryCall>,
        summaries: &mut Vec<f32>,
    ) -> Result<(), GpuError> {
        summaries.clear();
        match &self.gpu {
            Some(stage) => {
                let inputs = (params, batch, hyper);
                stage.run_summarized(self.design, inputs, out, summary, summaries)
            }
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

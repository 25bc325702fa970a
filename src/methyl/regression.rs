//! A design's site model in both stages: stage 1's sites (`RegressionSites`) and stage 2's
//! sweeps of a chunk (`sweep_regression_chunk`), through a `RegressionStage` (the
//! site_regression shader or its CPU twin).

use rayon::prelude::*;

use crate::kernels::cpu::site_regression::{site_log_likelihoods, state_coefficients};
use crate::kernels::gpu::summary_stage::SummaryCall;
use crate::kernels::gpu::GpuError;
use crate::kernels::regression_layout::{
    RegressionDesign, RegressionHyper, RegressionOutputs, MAX_COEFS, REG_STATE_ACCEPTED,
    REG_STATE_DIFFER, REG_STATE_LOG_LIKELIHOOD, REG_STATE_LOG_PHI, REG_STATE_RECYCLED,
    REG_STATE_STRIDE,
};
use crate::kernels::site_layout::{zeroed, SiteBatch, SiteHyper, SiteParams};
use crate::kernels::stages::RegressionStage;
use crate::math::softplus;
use crate::methyl::fit::{device_summary, SweptChunk};
use crate::methyl::hyper::{site_hyper, stage1_params, Hyper, SiteStats, Stage1Sites};
use crate::methyl::merge::Site;
use crate::methyl::site_stage::{site_batch, FitConfig};
use crate::methyl::summaries::swept_draws;

/// Each chain's priors as the regression takes them.
fn regression_hyper(hyper: &[SiteHyper], nuisance: &[Vec<f64>]) -> Vec<RegressionHyper> {
    hyper
        .iter()
        .zip(nuisance)
        .map(|(&site, n)| {
            let mut nuisance_scale = [1.0f32; MAX_COEFS];
            for (s, v) in nuisance_scale.iter_mut().zip(n) {
                *s = *v as f32;
            }
            RegressionHyper {
                site,
                nuisance_scale,
            }
        })
        .collect()
}

/// A batch whose samples carry their index in the sheet (the design's row), not a group.
pub(crate) fn design_batch(sites: &[Site], n_samples: usize) -> SiteBatch {
    let rows: Vec<u32> = (0..n_samples as u32).collect();
    site_batch(sites, &rows)
}

/// The regression's stage-1 dispatch: as the groups', with every move (its sweeps have no
/// separate random walk to skip).
fn params(config: &FitConfig, n_sites: usize) -> SiteParams {
    SiteParams {
        random_walk: 1,
        ..stage1_params(config, n_sites, 0)
    }
}

/// Stage 1's sites of a design.
pub(crate) struct RegressionSites<'a, 'g> {
    stage: &'a RegressionStage<'g>,
    design: &'a RegressionDesign,
    batch: SiteBatch,
    params: SiteParams,
    out: RegressionOutputs,
}

impl<'a, 'g> RegressionSites<'a, 'g> {
    pub(crate) fn new(
        stage: &'a RegressionStage<'g>,
        sites: &[Site],
        config: &FitConfig,
    ) -> RegressionSites<'a, 'g> {
        let design = stage.design();
        let batch = design_batch(sites, design.n_samples);
        let params = params(config, sites.len());
        let out = RegressionOutputs {
            state: vec![0.0; sites.len() * config.chains as usize * REG_STATE_STRIDE],
            draws: Vec::new(),
        };
        RegressionSites {
            stage,
            design,
            batch,
            params,
            out,
        }
    }
}

impl RegressionSites<'_, '_> {
    /// Slot `slot` of `chain`'s state at every site.
    fn chain_slot(&self, chain: usize, slot: usize) -> Vec<f32> {
        let n_chains = self.params.n_chains as usize;
        (0..self.batch.n_sites())
            .map(|site| self.out.state[(site * n_chains + chain) * REG_STATE_STRIDE + slot])
            .collect()
    }
}

impl Stage1Sites for RegressionSites<'_, '_> {
    fn sweep(
        &mut self,
        sweep: u32,
        hyper: &[[f64; 6]],
        nuisance: &[Vec<f64>],
    ) -> Result<(), GpuError> {
        self.params.first_sweep = sweep;
        let hyper: Vec<SiteHyper> = hyper.iter().map(site_hyper).collect();
        let hyper = regression_hyper(&hyper, nuisance);
        self.stage
            .run(&self.params, &self.batch, &hyper, &mut self.out)?;
        self.params.init = 0;
        Ok(())
    }

    fn stats(&self, chain: usize) -> SiteStats {
        let (d, n_chains) = (self.design, self.params.n_chains as usize);
        let mut stats = SiteStats {
            nuisance: vec![Vec::new(); d.tested - 1],
            ..SiteStats::default()
        };
        for site in 0..self.batch.n_sites() {
            let state =
                &self.out.state[(site * n_chains + chain) * REG_STATE_STRIDE..][..REG_STATE_STRIDE];
            let beta = state_coefficients(d, state).map(f64::from);
            stats.sum_log -= softplus(-beta[0]);
            stats.sum_log1m -= softplus(beta[0]);
            stats.log_phi.push(f64::from(state[REG_STATE_LOG_PHI]));
            if state[REG_STATE_DIFFER] != 0.0 {
                stats.n_differ += 1.0;
                stats.differences.extend(&beta[d.tested..d.n_coefs]);
            }
            for (k, values) in stats.nuisance.iter_mut().enumerate() {
                values.push(beta[k + 1]);
            }
        }
        stats
    }

    fn n_sites(&self) -> usize {
        self.batch.n_sites()
    }

    fn nuisance_end(&self) -> usize {
        self.design.tested
    }

    fn log_phi(&self, chain: usize) -> Vec<f32> {
        self.chain_slot(chain, REG_STATE_LOG_PHI)
    }

    fn log_likelihoods(&self, chain: usize) -> Vec<f32> {
        self.chain_slot(chain, REG_STATE_LOG_LIKELIHOOD)
    }

    fn log_likelihoods_at(&mut self, z: &[Vec<f32>]) -> Vec<Vec<f32>> {
        let n_chains = self.params.n_chains as usize;
        let per_site = |site: usize| {
            let states = &self.out.state[site * n_chains * REG_STATE_STRIDE..]
                [..n_chains * REG_STATE_STRIDE];
            let range = self.batch.offsets[site] as usize..self.batch.offsets[site + 1] as usize;
            site_log_likelihoods(self.design, &self.batch.samples[range], states, |c| {
                z[c][site]
            })
        };
        let per_site: Vec<Vec<f32>> = (0..self.batch.n_sites())
            .into_par_iter()
            .with_min_len(64)
            .map(per_site)
            .collect();
        (0..n_chains)
            .map(|chain| per_site.iter().map(|site| site[chain]).collect())
            .collect()
    }

    fn set_log_phi(&mut self, chain: usize, z: &[f32], log_likelihoods: &[f32]) {
        let n_chains = self.params.n_chains as usize;
        for (site, (&z, &l)) in z.iter().zip(log_likelihoods).enumerate() {
            let state = &mut self.out.state[(site * n_chains + chain) * REG_STATE_STRIDE..];
            state[REG_STATE_LOG_PHI] = z;
            state[REG_STATE_LOG_LIKELIHOOD] = l;
        }
    }
}

/// Stage 2's sweeps of one chunk's sites of a design with the stage-1 priors: mu at each
/// recorded level and the tested coefficient per (site, chain, draw), and the recycled sums.
pub(crate) fn sweep_regression_chunk(
    stage: &RegressionStage,
    sites: &[Site],
    hyper: &Hyper,
    config: &FitConfig,
    spare: Vec<f32>,
) -> Result<SweptChunk, GpuError> {
    let design = stage.design();
    let batch = design_batch(sites, design.n_samples);
    let n = sites.len() * config.chains as usize;
    let params = SiteParams {
        // Stage 2's sweeps are numbered after stage 1's, so the two never share random numbers.
        first_sweep: config.hyper_warmup + config.hyper_draws,
        warmup: config.warmup,
        n_draws: config.draws,
        draws_total: config.draws,
        ..params(config, sites.len())
    };
    let hyper = regression_hyper(&hyper.per_chain, &hyper.nuisance);
    // The levels' mus, the coefficient and delta, on the device where it summarises.
    let slots = design.draw_slots();
    let summary = device_summary(
        stage.summarizes(),
        sites.len(),
        config,
        slots,
        design.compare,
    );
    let call = summary
        .as_ref()
        .map(|(params, scores)| SummaryCall { params, scores });
    // Summarised on the device, the draws stay there until stage 2 fetches those it needs.
    let (draws, draws_later) = match summary {
        Some(_) => (Vec::new(), Some(spare)),
        None => (zeroed(spare, n * config.draws as usize * slots), None),
    };
    let mut out = RegressionOutputs {
        state: vec![0.0; n * REG_STATE_STRIDE],
        draws,
    };
    let mut summaries = Vec::new();
    stage.run_summarized(&params, &batch, &hyper, &mut out, call, &mut summaries)?;
    let chains = out.state.chunks_exact(REG_STATE_STRIDE);
    let accepted: f64 = chains
        .clone()
        .map(|c| f64::from(c[REG_STATE_ACCEPTED]))
        .sum();
    let recycled = chains
        .map(|c| [0, 1, 2].map(|i| c[REG_STATE_RECYCLED + i]))
        .collect();
    let sweeps = f64::from(config.warmup + config.draws);
    let (draws, draw_sites) = swept_draws(out.draws, draws_later);
    Ok(SweptChunk {
        draws,
        draw_sites,
        summaries,
        recycled,
        acceptance: accepted / (n as f64 * sweeps).max(1.0),
    })
}

//! The collapsed update: every (chain, unit) moves given the data, its thetas integrated out,
//! by Metropolis steps on the beta-binomial marginal; on kept sweeps the thetas are then
//! drawn from the new shapes.
//!
//! On the GPU the steps go in lockstep, one device pass of the marginal per step for all
//! chains. On the CPU each chain runs its steps and its thetas in one task, evaluating the
//! marginal from the count tables where it is needed: the same draws, on the same streams,
//! without a pass over all chains per step.

use rayon::prelude::*;

use crate::kernels::cpu::marginal_table::MarginalTables;
use crate::kernels::gpu::GpuError;
use crate::kernels::layout::ThetaParams;
use crate::kernels::stages::ThetaStage;
use crate::mcmc::metropolis::RandomWalk;
use crate::mcmc::prior::{shapes_in_range, HyperPrior};
use crate::rng::{Stream, UniformStream};

use super::config::SamplerConfig;
use super::hyper::HyperState;
use super::levels::Levels;

/// (chain, unit) updates per rayon task: each is a microsecond or two.
const NODES_PER_TASK: usize = 16;

/// Per (chain, unit) state of the collapsed update.
#[derive(Debug, Clone, Copy, Default)]
struct CollapsedState {
    walk: RandomWalk,
    /// Beta-binomial log marginal of the unit's data at the current z (`ThetaStage::unit_loglik`).
    loglik: f64,
}

/// The collapsed update of a run: each (chain, unit)'s walk and current log marginal.
pub(super) struct Collapsed {
    states: Vec<CollapsedState>,
    /// The stage's parameters for every chain, as collapsed_loglik takes them.
    all: ThetaParams,
}

/// A sweep's thetas: each chain's observations and its pieces' log sums, drawn (with
/// `params`) on the sweeps whose draws are kept.
pub(super) struct ThetaOut<'a> {
    pub(super) params: Option<&'a ThetaParams>,
    pub(super) theta: &'a mut [f32],
    pub(super) log_sums: &'a mut [[f32; 2]],
}

/// The shapes at which a proposal's log marginal is evaluated: outside SHAPE_RANGE the
/// proposal is rejected whatever its marginal, so anywhere harmless.
fn evaluated_shapes(top: &HyperPrior, z: [f64; 2]) -> [f64; 2] {
    let (a, b) = top.alpha_beta(z);
    if shapes_in_range(a, b) {
        [a, b]
    } else {
        [1.0, 1.0]
    }
}

/// One sweep's Metropolis steps for one (chain, unit), with what they need.
struct Step<'a> {
    config: &'a SamplerConfig,
    priors: &'a [HyperPrior],
    in_warmup: bool,
}

impl Step<'_> {
    /// The step of (chain, unit) i to `proposal`, whose log marginal is `loglik`.
    fn take(
        &self,
        i: usize,
        state: &mut HyperState,
        c: &mut CollapsedState,
        (z1, hastings): ([f64; 2], f64),
        loglik: f64,
        rng: &mut UniformStream,
    ) {
        let prior = &self.priors[i];
        let (a, b) = prior.alpha_beta(z1);
        let log_ratio = if shapes_in_range(a, b) {
            loglik + prior.log_density(z1) - c.loglik - prior.log_density(state.z) + hastings
        } else {
            f64::NEG_INFINITY
        };
        let accepted = RandomWalk::accept(log_ratio, rng);
        if accepted {
            state.z = z1;
            c.loglik = loglik;
        }
        if self.in_warmup {
            c.walk.adapt(accepted, state.z);
        }
    }

    fn rng(&self, i: usize, n_units: usize, sweep: u32) -> UniformStream {
        let (chain, unit) = (i / n_units, i % n_units);
        UniformStream::new(
            self.config.seed,
            chain as u32,
            0,
            unit as u32,
            sweep,
            Stream::Collapsed,
        )
    }
}

impl Collapsed {
    /// Every (chain, unit)'s log marginal at its starting z.
    pub(super) fn new(
        stage: &ThetaStage,
        levels: &Levels,
        params: &ThetaParams,
    ) -> Result<Collapsed, GpuError> {
        let shapes = levels.unit_alpha_beta();
        let mut loglik = vec![0.0f64; shapes.len()];
        stage.unit_loglik(params, &shapes, &mut loglik)?;
        let states = loglik
            .into_iter()
            .map(|loglik| CollapsedState {
                walk: RandomWalk::default(),
                loglik,
            })
            .collect();
        Ok(Collapsed {
            states,
            all: *params,
        })
    }

    /// Sweep `sweep`: `config.hyper_rounds` steps of every (chain, unit) given `priors`,
    /// then, when `thetas.params` is given, the thetas drawn from the units' new shapes.
    pub(super) fn sweep(
        &mut self,
        stage: &ThetaStage,
        levels: &mut Levels,
        config: &SamplerConfig,
        sweep: u32,
        priors: &[HyperPrior],
        thetas: ThetaOut,
    ) -> Result<(), GpuError> {
        let in_warmup = sweep < config.warmup;
        if in_warmup && sweep == config.warmup / 2 {
            self.states
                .iter_mut()
                .for_each(|c| c.walk.restart_covariance());
        }
        if sweep == config.warmup {
            let tail_rate = config.prior.left_tail_rate();
            self.states
                .iter_mut()
                .for_each(|c| c.walk.finish_warmup(tail_rate));
        }
        let step = Step {
            config,
            priors,
            in_warmup,
        };
        match stage.cpu_marginal() {
            Some(tables) => {
                self.sweep_cpu(stage, tables, levels, &step, sweep, thetas);
                Ok(())
            }
            None => self.sweep_lockstep(stage, levels, &step, sweep, thetas),
        }
    }

    /// The CPU path: each chain's units take their steps, then its thetas are drawn, in one task.
    fn sweep_cpu(
        &mut self,
        stage: &ThetaStage,
        tables: &MarginalTables,
        levels: &mut Levels,
        step: &Step,
        sweep: u32,
        thetas: ThetaOut,
    ) {
        let n_units = tables.n_units();
        let (top, rounds) = (levels.top, step.config.hyper_rounds);
        let n_chains = self.states.len() / n_units;
        // Every chain has observations and pieces, so the zipped chunks cover every chain.
        let (n_obs, n_pieces) = (
            thetas.theta.len() / n_chains,
            thetas.log_sums.len() / n_chains,
        );
        assert!(n_obs > 0 && n_pieces > 0);
        let params = thetas.params;
        levels.states[0]
            .par_chunks_mut(n_units)
            .zip(self.states.par_chunks_mut(n_units))
            .zip(thetas.theta.par_chunks_mut(n_obs))
            .zip(thetas.log_sums.par_chunks_mut(n_pieces))
            .enumerate()
            .with_min_len((NODES_PER_TASK / n_units).max(1))
            .for_each(|(chain, (((states, cs), theta), sums))| {
                let mut shapes = Vec::with_capacity(n_units);
                for (unit, (state, c)) in states.iter_mut().zip(cs.iter_mut()).enumerate() {
                    let i = chain * n_units + unit;
                    let mut rng = step.rng(i, n_units, sweep);
                    for _ in 0..rounds {
                        let proposal = c.walk.propose(state.z, &mut rng);
                        let [a, b] = evaluated_shapes(&top, proposal.0);
                        let loglik = tables.log_marginal(unit, a, b);
                        step.take(i, state, c, proposal, loglik, &mut rng);
                    }
                    let (a, b) = top.alpha_beta(state.z);
                    shapes.push([a as f32, b as f32]);
                }
                if let Some(params) = params {
                    stage.run_chain_cpu(params, &shapes, chain as u32, theta, sums);
                }
            });
    }

    /// The GPU path: all (chain, unit)s step together, one device pass of the marginal per
    /// step, then one pass of theta_update.
    fn sweep_lockstep(
        &mut self,
        stage: &ThetaStage,
        levels: &mut Levels,
        step: &Step,
        sweep: u32,
        thetas: ThetaOut,
    ) -> Result<(), GpuError> {
        let n = self.states.len();
        let n_units = levels.batch.n_units();
        let top = levels.top;
        let mut rngs: Vec<UniformStream> = (0..n).map(|i| step.rng(i, n_units, sweep)).collect();
        let mut proposals = vec![([0.0f64; 2], 0.0f64); n];
        let mut shapes = vec![[0.0f64; 2]; n];
        let mut loglik = vec![0.0f64; n];
        for _ in 0..step.config.hyper_rounds {
            for (i, proposal) in proposals.iter_mut().enumerate() {
                *proposal = self.states[i]
                    .walk
                    .propose(levels.states[0][i].z, &mut rngs[i]);
                shapes[i] = evaluated_shapes(&top, proposal.0);
            }
            stage.unit_loglik(&self.all, &shapes, &mut loglik)?;
            levels.states[0]
                .par_iter_mut()
                .zip(self.states.par_iter_mut())
                .zip(rngs.par_iter_mut())
                .enumerate()
                .with_min_len(NODES_PER_TASK)
                .for_each(|(i, ((state, c), rng))| {
                    step.take(i, state, c, proposals[i], loglik[i], rng);
                });
        }
        if let Some(params) = thetas.params {
            let mut hyper = vec![[0.0f32; 2]; n];
            levels.unit_shapes(&mut hyper);
            stage.run(params, &hyper, thetas.theta, thetas.log_sums)?;
        }
        Ok(())
    }
}

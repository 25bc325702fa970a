//! The site regression's three implementations held together: the shader and the CPU's
//! four-chain lanes against the scalar twin. One dispatch of the same sites, design,
//! hyperparameters and seed gives the same chains, except where an f32 difference between
//! their log and exp flips a Metropolis decision (that chain then goes its own, equally
//! valid, way).

mod common;

use betagibbs::kernels::cpu::site_regression::{site_regression, site_regression_twin};
use betagibbs::kernels::gpu::regression_stage::RegressionStageGpu;
use betagibbs::kernels::gpu::DEFAULT_WORKGROUP_SIZE;
use betagibbs::kernels::regression_layout::{
    RegressionDesign, RegressionHyper, RegressionOutputs, MAX_COEFS, REG_STATE_RECYCLED,
    REG_STATE_STRIDE,
};
use betagibbs::kernels::site_layout::{SiteBatch, SiteHyper, SiteParams, SiteSample};
use betagibbs::rng::host_variates::binomial;
use betagibbs::rng::{Stream, UniformStream};

const SAMPLES: usize = 12;
const SITES: usize = 500;
const CHAINS: u32 = 4;

/// Intercept, a two-level group, a two-level batch and a numeric covariate (a design of the
/// benchmark's shape), levels at the group's two values.
fn design() -> RegressionDesign {
    let x: Vec<f64> = (0..SAMPLES)
        .flat_map(|j| {
            let group = f64::from(u8::from(j >= SAMPLES / 2));
            let batch = f64::from(u8::from(j % 2 == 1));
            let age = (j as f64 * 7.3) % 11.0 - 5.0;
            [1.0, batch, age, group]
        })
        .collect();
    let levels = [vec![1.0, 0.0, 0.0, 0.0], vec![1.0, 0.0, 0.0, 1.0]];
    RegressionDesign::new(&x, SAMPLES, 4, 3, &levels, (0, 1), 0.1).expect("full rank")
}

/// Sites with a level from 0.05 to 0.95, a group effect at every third, coverage 5 to 40.
fn batch() -> SiteBatch {
    let mut rng = UniformStream::new(3, 0, 0, 0, 0, Stream::Hyper);
    let mut batch = SiteBatch {
        samples: Vec::new(),
        offsets: vec![0],
    };
    for site in 0..SITES {
        let level = 0.05 + 0.9 * rng.next_f64();
        let effect = if site % 3 == 0 { 0.3 } else { 0.0 };
        for j in 0..SAMPLES {
            let p = (level + effect * f64::from(u8::from(j >= SAMPLES / 2))).min(0.98);
            let total = 5 + (rng.next_f64() * 36.0) as u32;
            batch.samples.push(SiteSample {
                group: j as u32,
                methylated: binomial(total, p, &mut rng),
                total,
                _pad: 0,
            });
        }
        batch.offsets.push(batch.samples.len() as u32);
    }
    batch
}

/// Each chain's priors: a little apart, as stage 1's chains are.
fn hyper() -> Vec<RegressionHyper> {
    (0..CHAINS)
        .map(|c| {
            let mut nuisance_scale = [1.0f32; MAX_COEFS];
            nuisance_scale[1] = 0.3 + 0.02 * c as f32;
            nuisance_scale[2] = 0.1;
            RegressionHyper {
                site: SiteHyper::new([0.8, 0.7, 3.0 + 0.1 * c as f32, 0.5], 0.2, 0.8),
                nuisance_scale,
            }
        })
        .collect()
}

fn run_both(params: &SiteParams, state: Option<&[f32]>) -> [RegressionOutputs; 2] {
    let gpu = common::gpu();
    let (design, batch, hyper) = (design(), batch(), hyper());
    let n = SITES * CHAINS as usize;
    let fresh = || RegressionOutputs {
        state: state.map_or_else(|| vec![0.0; n * REG_STATE_STRIDE], <[f32]>::to_vec),
        draws: vec![0.0; n * params.draws_total as usize * design.draw_slots()],
    };
    let mut on_cpu = fresh();
    site_regression_twin(params, &design, &batch, &hyper, &mut on_cpu);
    let stage = RegressionStageGpu::new(
        &gpu,
        &design,
        SITES,
        batch.samples.len(),
        CHAINS as usize,
        params.draws_total as usize,
        DEFAULT_WORKGROUP_SIZE,
    );
    let mut on_gpu = fresh();
    stage
        .run(&design, params, &batch, &hyper, &mut on_gpu)
        .unwrap();
    [on_cpu, on_gpu]
}

fn agreeing(a: &[f32], b: &[f32], per_chain: usize, tolerance: f32) -> usize {
    a.chunks_exact(per_chain)
        .zip(b.chunks_exact(per_chain))
        .filter(|(a, b)| {
            a.iter()
                .zip(b.iter())
                .all(|(x, y)| (x - y).abs() <= tolerance * x.abs().max(1.0))
        })
        .count()
}

#[test]
#[ignore = "needs a Vulkan adapter (lavapipe: apt-get install mesa-vulkan-drivers)"]
fn gpu_and_cpu_site_regressions_agree() {
    let params = common::site_params(11, SITES as u32, CHAINS, (5, 40), 0.1);
    let [cpu, gpu] = run_both(&params, None);
    let chains = SITES * CHAINS as usize;
    let slots = design().draw_slots();
    let draws = agreeing(&cpu.draws, &gpu.draws, 40 * slots, 1e-3);
    let states = agreeing(&cpu.state, &gpu.state, REG_STATE_STRIDE, 1e-3);
    let recycled: Vec<f32> = [&cpu.state, &gpu.state]
        .iter()
        .flat_map(|s| {
            s.chunks_exact(REG_STATE_STRIDE)
                .map(|c| c[REG_STATE_RECYCLED + 2])
                .collect::<Vec<_>>()
        })
        .collect();
    let (p_cpu, p_gpu) = recycled.split_at(chains);
    let mean = |v: &[f32]| v.iter().sum::<f32>() / (v.len() as f32 * 40.0);
    eprintln!(
        "site regression on both devices: {draws} of {chains} chains' draws and {states} of {chains} final states agree to 1e-3; mean P(differ) cpu {:.4} gpu {:.4}",
        mean(p_cpu),
        mean(p_gpu)
    );
    assert!(draws as f64 >= 0.95 * chains as f64, "{draws} of {chains}");
    assert!(
        states as f64 >= 0.95 * chains as f64,
        "{states} of {chains}"
    );
    // Ten more sweeps from the state, as stage 1 runs them one at a time.
    let more = SiteParams {
        first_sweep: 45,
        warmup: 10,
        n_draws: 0,
        init: 0,
        draws_total: 0,
        ..params
    };
    let [cpu2, gpu2] = run_both(&more, Some(&cpu.state));
    let states = agreeing(&cpu2.state, &gpu2.state, REG_STATE_STRIDE, 1e-3);
    eprintln!("ten sweeps more from the same state: {states} of {chains} agree");
    assert!(
        states as f64 >= 0.95 * chains as f64,
        "{states} of {chains}"
    );
}

/// The lanes against the twin, on the CPU: stage 2's dispatch, then stage 1's single sweeps
/// from the state.
#[test]
fn lanes_and_twin_site_regressions_agree() {
    let (design, batch, hyper) = (design(), batch(), hyper());
    let n = SITES * CHAINS as usize;
    let run = |params: &SiteParams, state: Option<&[f32]>, lanes: bool| {
        let mut out = RegressionOutputs {
            state: state.map_or_else(|| vec![0.0; n * REG_STATE_STRIDE], <[f32]>::to_vec),
            draws: vec![0.0; n * params.draws_total as usize * design.draw_slots()],
        };
        if lanes {
            site_regression(params, &design, &batch, &hyper, &mut out);
        } else {
            site_regression_twin(params, &design, &batch, &hyper, &mut out);
        }
        out
    };
    let params = common::site_params(11, SITES as u32, CHAINS, (5, 40), 0.1);
    let (twin, lanes) = (run(&params, None, false), run(&params, None, true));
    let slots = design.draw_slots();
    let draws = agreeing(&twin.draws, &lanes.draws, 40 * slots, 1e-3);
    let states = agreeing(&twin.state, &lanes.state, REG_STATE_STRIDE, 1e-3);
    let chains = n;
    eprintln!("lanes against the twin: {draws} of {chains} chains' draws and {states} final states agree to 1e-3");
    assert!(draws as f64 >= 0.95 * chains as f64, "{draws} of {chains}");
    assert!(
        states as f64 >= 0.95 * chains as f64,
        "{states} of {chains}"
    );
    let more = SiteParams {
        first_sweep: 45,
        warmup: 1,
        n_draws: 0,
        init: 0,
        draws_total: 0,
        ..params
    };
    let (twin2, lanes2) = (
        run(&more, Some(&twin.state), false),
        run(&more, Some(&twin.state), true),
    );
    let states = agreeing(&twin2.state, &lanes2.state, REG_STATE_STRIDE, 1e-3);
    eprintln!("a sweep more from the same state: {states} of {chains} agree");
    assert!(
        states as f64 >= 0.97 * chains as f64,
        "{states} of {chains}"
    );
}

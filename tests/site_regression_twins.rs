//! The site regression's three implementations held together: the shader and the CPU's
//! four-chain lanes against the scalar twin. One dispatch of the same sites, design,
//! hyperparameters and seed gives the same chains, except where an f32 difference between
//! their log and exp flips a Metropolis decision (that chain then goes its own, equally
//! valid, way).

mod common;

use betagibbs::kernels::cpu::site_regression::{
    site_log_likelihoods, site_regression, site_regression_twin,
};
use betagibbs::kernels::gpu::regression_stage::RegressionStageGpu;
use betagibbs::kernels::gpu::DEFAULT_WORKGROUP_SIZE;
use betagibbs::kernels::regression_layout::{
    RegressionDesign, RegressionHyper, RegressionOutputs, MAX_COEFS, REG_STATE_LOG_LIKELIHOOD,
    REG_STATE_LOG_PHI, REG_STATE_RECYCLED, REG_STATE_STRIDE,
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
    let x: Vec<f64> = common::benchmark_design_rows(SAMPLES)
        .into_iter()
        .flatten()
        .collect();
    let levels = [vec![1.0, 0.0, 0.0, 0.0], vec![1.0, 0.0, 0.0, 1.0]];
    RegressionDesign::new(&x, SAMPLES, 4, 3, &levels, (0, 1), 0.1).expect("full rank")
}

/// Sites with a level from 0.05 to 0.95, a group effect at every third, coverage 5 to 40.
fn batch() -> SiteBatch {
    let mut rng = UniformStream::new(3, 0, 0, 0, 0, Stream::Hyper);
    let mut batch = SiteBatch::new();
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
        batch.end_site(betagibbs::rng::site_id(0, site as u64));
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

/// A dispatch's outputs: fresh, or going on from `state`.
fn outputs(params: &SiteParams, state: Option<&[f32]>) -> RegressionOutputs {
    let n = SITES * CHAINS as usize;
    RegressionOutputs {
        state: state.map_or_else(|| vec![0.0; n * REG_STATE_STRIDE], <[f32]>::to_vec),
        draws: vec![0.0; n * params.draws_total as usize * design().draw_slots()],
    }
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

/// `other` against the scalar twin: stage 2's dispatch (5 warm-up sweeps, 40 recorded), then
/// `more` sweeps from the twin's state, as stage 1 goes on. At least 95% of the chains must
/// agree to 1e-3 in every draw and in their final state, their recycled P(differ) too.
fn held_to_the_twin(name: &str, more: u32, other: &dyn Fn(&SiteParams, &mut RegressionOutputs)) {
    let (design, batch, hyper) = (design(), batch(), hyper());
    let twin = |params: &SiteParams, out: &mut RegressionOutputs| {
        site_regression_twin(params, &design, &batch, &hyper, out);
    };
    let chains = SITES * CHAINS as usize;
    let enough = |agree: usize| agree as f64 >= 0.95 * chains as f64;
    let params = common::site_params(11, SITES as u32, CHAINS, (5, 40), 0.1);
    let (mut a, mut b) = (outputs(&params, None), outputs(&params, None));
    twin(&params, &mut a);
    other(&params, &mut b);
    let draws = agreeing(&a.draws, &b.draws, 40 * design.draw_slots(), 1e-3);
    let states = agreeing(&a.state, &b.state, REG_STATE_STRIDE, 1e-3);
    let p_differ = |o: &RegressionOutputs| -> f32 {
        o.state
            .chunks_exact(REG_STATE_STRIDE)
            .map(|c| c[REG_STATE_RECYCLED + 2])
            .sum::<f32>()
            / (chains as f32 * 40.0)
    };
    eprintln!(
        "{name} against the twin: {draws} of {chains} chains' draws and {states} final states agree to 1e-3; mean P(differ) {:.4} and {:.4}",
        p_differ(&a),
        p_differ(&b)
    );
    assert!(enough(draws), "{draws} of {chains}");
    assert!(enough(states), "{states} of {chains}");
    let go_on = SiteParams {
        first_sweep: 45,
        warmup: more,
        n_draws: 0,
        init: 0,
        draws_total: 0,
        ..params
    };
    let (mut a2, mut b2) = (
        outputs(&go_on, Some(&a.state)),
        outputs(&go_on, Some(&a.state)),
    );
    twin(&go_on, &mut a2);
    other(&go_on, &mut b2);
    let states = agreeing(&a2.state, &b2.state, REG_STATE_STRIDE, 1e-3);
    eprintln!("{name}: {more} sweeps more from the same state: {states} of {chains} agree");
    assert!(enough(states), "{states} of {chains}");
}

#[test]
#[ignore = "needs a Vulkan adapter (lavapipe: apt-get install mesa-vulkan-drivers)"]
fn gpu_and_cpu_site_regressions_agree() {
    let gpu = common::gpu();
    let (design, batch, hyper) = (design(), batch(), hyper());
    let stage = RegressionStageGpu::new(
        &gpu,
        &design,
        SITES,
        SITES,
        batch.samples.len(),
        CHAINS as usize,
        40,
        DEFAULT_WORKGROUP_SIZE,
    );
    held_to_the_twin("the shader", 10, &|params, out| {
        stage.run(&design, params, &batch, &hyper, out).unwrap();
    });
}

#[test]
fn lanes_and_twin_site_regressions_agree() {
    let (design, batch, hyper) = (design(), batch(), hyper());
    held_to_the_twin("the lanes", 1, &|params, out| {
        site_regression(params, &design, &batch, &hyper, out);
    });
}

/// A factor design's samples share design rows, whose mu and Beta shapes the lanes compute
/// once per row: the chains must be the same bits as when every row is computed per sample.
#[test]
fn lanes_sharing_design_rows_change_no_bit() {
    // Intercept, batch and group: four cells of three samples each.
    let x: Vec<f64> = common::benchmark_design_rows(SAMPLES)
        .into_iter()
        .flat_map(|[one, batch, _, group]| [one, batch, group])
        .collect();
    let levels = [vec![1.0, 0.0, 0.0], vec![1.0, 0.0, 1.0]];
    let shared = RegressionDesign::new(&x, SAMPLES, 3, 2, &levels, (0, 1), 0.1).expect("full rank");
    assert_eq!(shared.shared_rows.len(), 4);
    let per_sample = RegressionDesign {
        row_class: (0..SAMPLES as u32).collect(),
        shared_rows: (0..SAMPLES).collect(),
        ..shared.clone()
    };
    let (batch, hyper) = (batch(), hyper());
    let params = common::site_params(11, SITES as u32, CHAINS, (5, 40), 0.1);
    let run = |design: &RegressionDesign| {
        let n = SITES * CHAINS as usize;
        let mut out = RegressionOutputs {
            state: vec![0.0; n * REG_STATE_STRIDE],
            draws: vec![0.0; n * params.draws_total as usize * design.draw_slots()],
        };
        site_regression(&params, design, &batch, &hyper, &mut out);
        out
    };
    let (a, b) = (run(&shared), run(&per_sample));
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
    assert_eq!(bits(&a.state), bits(&b.state));
    assert_eq!(bits(&a.draws), bits(&b.draws));
}

/// The state keeps the log likelihood at the chain's point, which the next dispatch and
/// stage 1's joint moves read instead of a pass: it must be that point's likelihood, the same
/// bits as a fresh pass, from both CPU paths.
#[test]
fn the_state_keeps_the_likelihood_at_its_point() {
    let (design, batch, hyper) = (design(), batch(), hyper());
    let params = common::site_params(11, SITES as u32, CHAINS, (5, 40), 0.1);
    let per_site = CHAINS as usize * REG_STATE_STRIDE;
    for lanes in [false, true] {
        let mut out = outputs(&params, None);
        if lanes {
            site_regression(&params, &design, &batch, &hyper, &mut out);
        } else {
            site_regression_twin(&params, &design, &batch, &hyper, &mut out);
        }
        for (site, states) in out.state.chunks_exact(per_site).enumerate() {
            let range = batch.offsets[site] as usize..batch.offsets[site + 1] as usize;
            let fresh = site_log_likelihoods(&design, &batch.samples[range], states, |c| {
                states[c * REG_STATE_STRIDE + REG_STATE_LOG_PHI]
            });
            for (c, l) in fresh.iter().enumerate() {
                let kept = states[c * REG_STATE_STRIDE + REG_STATE_LOG_LIKELIHOOD];
                assert!(l.is_finite() && *l < 0.0, "site {site} chain {c}: {l}");
                if lanes {
                    assert_eq!(kept.to_bits(), l.to_bits(), "lanes, site {site} chain {c}");
                } else {
                    // The twin's passes against site_log_likelihoods' lanes: a few ulps.
                    assert!(
                        (kept - l).abs() <= 1e-5 * l.abs(),
                        "site {site} chain {c}: {kept} vs {l}"
                    );
                }
            }
        }
    }
}

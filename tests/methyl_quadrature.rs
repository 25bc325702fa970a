//! The site sampler against an exact answer: for one site and fixed hyperparameters, the
//! posterior probability that its groups differ, and that delta exceeds d, by quadrature over
//! log phi and the logits, against the scalar twin's recycled estimates over many independent
//! chains. The jump between "same" and "differ" compares densities on spaces of different
//! dimension, so a missing normalising constant (ln B(a, b), the slab's) shows here at once.

mod common;

use betagibbs::kernels::cpu::site_regression::site_regression;
use betagibbs::kernels::cpu::site_update::site_update_twin;
use betagibbs::kernels::regression_layout::{
    RegressionDesign, RegressionHyper, RegressionOutputs, MAX_COEFS, REG_STATE_RECYCLED,
    REG_STATE_STRIDE,
};
use betagibbs::kernels::site_layout::{
    SiteBatch, SiteHyper, SiteOutputs, SiteSample, LOG_PHI_DOF, SLAB_DOF, STATE_RECYCLED,
    STATE_STRIDE,
};
use betagibbs::math::ln_gamma;

/// A site's counts, (methylated, total) per sample, of group 0 and group 1.
type Counts<'a> = [&'a [(u32, u32)]; 2];

/// Hyperparameters of the check: (a, b, m0, s0), w and tau.
const LEVELS: [f32; 4] = [0.6, 0.9, 2.0, 1.0];
const W: f64 = 0.3;
const TAU: f64 = 0.8;
/// d of P(delta > d).
const THRESHOLD: f64 = 0.1;
/// Quadrature grids: log phi (m0 ± 14 s0, the t_4's tails), and the logits.
const Z_POINTS: usize = 281;
const LOGIT_POINTS: usize = 361;
const LOGIT_RANGE: f64 = 14.0;
/// Independent copies of the site, and chains and draws of each.
const COPIES: usize = 400;
const CHAINS: u32 = 4;
const WARMUP: u32 = 20;
const DRAWS: u32 = 100;

/// ln of the beta-binomial term without the binomial coefficient (which cancels).
fn ln_bb(m: f64, n: f64, a: f64, b: f64) -> f64 {
    ln_gamma(m + a) + ln_gamma(n - m + b) - ln_gamma(n + a + b) - ln_gamma(a) - ln_gamma(b)
        + ln_gamma(a + b)
}

fn log_sum_exp(v: impl Iterator<Item = f64> + Clone) -> f64 {
    let max = v.clone().fold(f64::NEG_INFINITY, f64::max);
    max + v.map(|x| (x - max).exp()).sum::<f64>().ln()
}

/// (P(differ), P(delta > d), P(delta < -d)) of a two-group site, by quadrature.
fn exact(groups: Counts) -> [f64; 3] {
    let [a, b, m0, s0] = LEVELS.map(f64::from);
    let (nu_phi, nu_slab) = (f64::from(LOG_PHI_DOF), f64::from(SLAB_DOF));
    let dz = 28.0 * s0 / (Z_POINTS - 1) as f64;
    let dl = 2.0 * LOGIT_RANGE / (LOGIT_POINTS - 1) as f64;
    let logits: Vec<f64> = (0..LOGIT_POINTS)
        .map(|i| -LOGIT_RANGE + i as f64 * dl)
        .collect();
    let mus: Vec<f64> = logits.iter().map(|l| 1.0 / (1.0 + (-l).exp())).collect();
    let ln_beta = ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b);
    // The level's density in logit coordinates: Beta(mu) mu (1 - mu).
    let level: Vec<f64> = mus
        .iter()
        .map(|m| a * m.ln() + b * (1.0 - m).ln() - ln_beta)
        .collect();
    let slab = |beta: f64| {
        ln_gamma(0.5 * (nu_slab + 1.0))
            - ln_gamma(0.5 * nu_slab)
            - 0.5 * (nu_slab * std::f64::consts::PI).ln()
            - TAU.ln()
            - 0.5 * (nu_slab + 1.0) * (1.0 + beta * beta / (nu_slab * TAU * TAU)).ln()
    };
    let slab: Vec<f64> = (0..2 * LOGIT_POINTS - 1)
        .map(|k| slab((k as f64 - (LOGIT_POINTS - 1) as f64) * dl))
        .collect();
    let (mut same, mut differ, mut above, mut below) = (vec![], vec![], vec![], vec![]);
    for k in 0..Z_POINTS {
        let z = m0 - 14.0 * s0 + k as f64 * dz;
        let u = (z - m0) / s0;
        let prior_z = -0.5 * (nu_phi + 1.0) * (1.0 + u * u / nu_phi).ln();
        let phi = z.exp();
        let lik = |g: usize| -> Vec<f64> {
            mus.iter()
                .map(|m| {
                    groups[g]
                        .iter()
                        .map(|&(y, n)| ln_bb(f64::from(y), f64::from(n), m * phi, (1.0 - m) * phi))
                        .sum()
                })
                .collect()
        };
        let (l0, l1) = (lik(0), lik(1));
        same.push(prior_z + log_sum_exp((0..LOGIT_POINTS).map(|i| level[i] + l0[i] + l1[i])));
        let joint = |keep: &dyn Fn(usize, usize) -> bool| {
            let terms = (0..LOGIT_POINTS).flat_map(|i| (0..LOGIT_POINTS).map(move |j| (i, j)));
            let v: Vec<f64> = terms
                .filter(|&(i, j)| keep(i, j))
                .map(|(i, j)| level[i] + slab[j + LOGIT_POINTS - 1 - i] + l0[i] + l1[j])
                .collect();
            prior_z + log_sum_exp(v.into_iter()) + dl.ln()
        };
        differ.push(joint(&|_, _| true));
        above.push(joint(&|i, j| mus[j] - mus[i] > THRESHOLD));
        below.push(joint(&|i, j| mus[j] - mus[i] < -THRESHOLD));
    }
    let total = |v: Vec<f64>| log_sum_exp(v.into_iter());
    let (same, differ) = ((1.0 - W).ln() + total(same), W.ln() + total(differ));
    let evidence = log_sum_exp([same, differ].into_iter());
    [
        (differ - evidence).exp(),
        (W.ln() + total(above) - evidence).exp(),
        (W.ln() + total(below) - evidence).exp(),
    ]
}

/// The twin's recycled estimates over COPIES copies of the site: their means and standard
/// errors (from the spread between copies, each an independent set of chains).
fn sampled(groups: Counts) -> [(f64, f64); 3] {
    let mut batch = SiteBatch::new();
    for copy in 0..COPIES {
        for (g, counts) in groups.iter().enumerate() {
            for &(methylated, total) in *counts {
                batch.samples.push(SiteSample {
                    group: g as u32,
                    methylated,
                    total,
                    _pad: 0,
                });
            }
        }
        // Each copy its own identity: its own random numbers, independent chains.
        batch.end_site(betagibbs::rng::site_id(0, copy as u64));
    }
    let params = common::site_params(77, COPIES as u32, CHAINS, (WARMUP, DRAWS), THRESHOLD as f32);
    let hyper = vec![SiteHyper::new(LEVELS, W, TAU); CHAINS as usize];
    let mut out = SiteOutputs::new(&params);
    site_update_twin(&params, &batch, &hyper, &mut out);
    recycled_estimates(&out.state, STATE_STRIDE, STATE_RECYCLED)
}

/// (P(differ), P(delta > d), P(delta < -d)) from the recycled sums of every copy's chains
/// (`stride` floats of state a chain, the sums (above, below, differ) from `recycled`): their
/// means and standard errors, from the spread between copies.
fn recycled_estimates(state: &[f32], stride: usize, recycled: usize) -> [(f64, f64); 3] {
    let per_copy = CHAINS as usize * stride;
    let mut result = [(0.0, 0.0); 3];
    for (k, r) in result.iter_mut().enumerate() {
        let slot = recycled + [2, 0, 1][k];
        let copies: Vec<f64> = state
            .chunks(per_copy)
            .map(|site| {
                site.chunks(stride).map(|c| f64::from(c[slot])).sum::<f64>()
                    / f64::from(CHAINS * DRAWS)
            })
            .collect();
        let n = copies.len() as f64;
        let mean = copies.iter().sum::<f64>() / n;
        let var = copies.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        *r = (mean, (var / n).sqrt());
    }
    result
}

#[test]
fn the_sampler_finds_the_quadrature_posterior_of_a_difference() {
    let sites: [(&str, Counts); 4] = [
        (
            "clear difference",
            [&[(2, 30), (4, 25)], &[(20, 28), (17, 30)]],
        ),
        (
            "modest difference",
            [&[(20, 30), (18, 25)], &[(12, 28), (13, 30)]],
        ),
        (
            "no difference",
            [&[(15, 30), (14, 25)], &[(14, 28), (16, 30)]],
        ),
        (
            "scattered replicates",
            [&[(0, 40), (30, 40)], &[(2, 40), (28, 40)]],
        ),
    ];
    check(&sites, "", sampled);
}

/// The site regression's recycled estimates for the design `~ group` (intercept and group
/// 1's dummy, tested): the same model as the two-group update, so the same exact answers.
fn sampled_by_regression(groups: Counts) -> [(f64, f64); 3] {
    let samples: Vec<(u32, u32, f64)> = groups
        .iter()
        .enumerate()
        .flat_map(|(g, counts)| counts.iter().map(move |&(m, n)| (m, n, g as f64)))
        .collect();
    let x: Vec<f64> = samples.iter().flat_map(|s| [1.0, s.2]).collect();
    let design = RegressionDesign::new(
        &x,
        samples.len(),
        2,
        1,
        &[vec![1.0, 0.0], vec![1.0, 1.0]],
        (0, 1),
        THRESHOLD,
    )
    .expect("full rank");
    let mut batch = SiteBatch::new();
    for copy in 0..COPIES {
        for (j, &(methylated, total, _)) in samples.iter().enumerate() {
            batch.samples.push(SiteSample {
                group: j as u32,
                methylated,
                total,
                _pad: 0,
            });
        }
        // Each copy its own identity: its own random numbers, independent chains.
        batch.end_site(betagibbs::rng::site_id(0, copy as u64));
    }
    let params = common::site_params(77, COPIES as u32, CHAINS, (WARMUP, DRAWS), THRESHOLD as f32);
    let hyper = vec![
        RegressionHyper {
            site: SiteHyper::new(LEVELS, W, TAU),
            nuisance_scale: [1.0; MAX_COEFS],
        };
        CHAINS as usize
    ];
    let n = COPIES * CHAINS as usize;
    let mut out = RegressionOutputs {
        state: vec![0.0; n * REG_STATE_STRIDE],
        draws: vec![0.0; n * DRAWS as usize * design.draw_slots()],
    };
    site_regression(&params, &design, &batch, &hyper, &mut out);
    recycled_estimates(&out.state, REG_STATE_STRIDE, REG_STATE_RECYCLED)
}

#[test]
fn the_site_regression_finds_the_same_quadrature_posterior() {
    let sites: [(&str, Counts); 3] = [
        (
            "clear difference",
            [&[(2, 30), (4, 25)], &[(20, 28), (17, 30)]],
        ),
        (
            "modest difference",
            [&[(20, 30), (18, 25)], &[(12, 28), (13, 30)]],
        ),
        (
            "scattered replicates",
            [&[(0, 40), (30, 40)], &[(2, 40), (28, 40)]],
        ),
    ];
    check(&sites, "regression, ", sampled_by_regression);
}

/// Each site's exact probabilities against `sampled`'s, within 4 standard errors plus 0.002
/// for the grids and the f32 arithmetic.
fn check(sites: &[(&str, Counts)], label: &str, sampled: fn(Counts) -> [(f64, f64); 3]) {
    for &(name, groups) in sites {
        let exact = exact(groups);
        let sampled = sampled(groups);
        for (k, what) in ["P(differ)", "P(delta > d)", "P(delta < -d)"]
            .iter()
            .enumerate()
        {
            let (mean, se) = sampled[k];
            eprintln!(
                "{label}{name}: {what} exact {:.4}, sampled {mean:.4} ± {se:.4}",
                exact[k]
            );
            assert!(
                (mean - exact[k]).abs() <= 4.0 * se + 0.002,
                "{label}{name}: {what} exact {} sampled {mean} ± {se}",
                exact[k]
            );
        }
    }
}

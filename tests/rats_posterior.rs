//! Posterior correctness on the rat-tumour data (BDA3 §5.3): the sampler against the
//! exact marginal posterior of (alpha, beta), by quadrature with the thetas integrated
//! out analytically, under the bda3 prior p(alpha, beta) ∝ (alpha + beta)^(-5/2).
//! The posterior means of log(alpha + beta) and theta[71] must agree within 4 Monte
//! Carlo standard errors (mcse_mean = sd / sqrt(ESS)).

mod common;

use betagibbs::app::rats_dataset;
use betagibbs::kernels::gpu::Gpu;
use betagibbs::kernels::Device;
use betagibbs::mcmc::diagnostics::summarize;
use betagibbs::mcmc::model::Model;
use betagibbs::mcmc::prior::HyperPrior;
use betagibbs::mcmc::sampler::{run, SamplerConfig, Update};
use libm::lgamma;

/// Grid over u = log(alpha / beta) and v = log(alpha + beta): wide enough that the
/// posterior mass beyond its edges is negligible (checked below), fine enough for 1e-4.
const U_RANGE: (f64, f64) = (-4.0, 0.5);
const V_RANGE: (f64, f64) = (-2.0, 14.0);
const GRID: usize = 600;

fn ln_beta(a: f64, b: f64) -> f64 {
    lgamma(a) + lgamma(b) - lgamma(a + b)
}

/// Exact E[log(alpha + beta)] and E[theta_71] by the midpoint rule on the (u, v) grid.
fn exact_means(y: &[u32], n: &[u32]) -> (f64, f64, f64) {
    let (du, dv) = (
        (U_RANGE.1 - U_RANGE.0) / GRID as f64,
        (V_RANGE.1 - V_RANGE.0) / GRID as f64,
    );
    let mut log_post = Vec::with_capacity(GRID * GRID);
    for i in 0..GRID {
        let u = U_RANGE.0 + (i as f64 + 0.5) * du;
        for j in 0..GRID {
            let v = V_RANGE.0 + (j as f64 + 0.5) * dv;
            let mu = 1.0 / (1.0 + (-u).exp());
            let (alpha, beta) = (mu * v.exp(), (1.0 - mu) * v.exp());
            // Prior (alpha + beta)^(-5/2) times the Jacobian alpha * beta of (u, v).
            let mut lp = alpha.ln() + beta.ln() - 2.5 * v;
            for (&yi, &ni) in y.iter().zip(n) {
                lp += ln_beta(alpha + f64::from(yi), beta + f64::from(ni - yi))
                    - ln_beta(alpha, beta);
            }
            log_post.push((u, v, alpha, beta, lp));
        }
    }
    let max = log_post
        .iter()
        .map(|p| p.4)
        .fold(f64::NEG_INFINITY, f64::max);
    let (y71, n71) = (f64::from(y[70]), f64::from(n[70]));
    let (mut z, mut ev, mut et, mut edge) = (0.0, 0.0, 0.0, 0.0);
    for (k, &(_, v, alpha, beta, lp)) in log_post.iter().enumerate() {
        let w = (lp - max).exp();
        z += w;
        ev += w * v;
        et += w * (alpha + y71) / (alpha + beta + n71);
        let (i, j) = (k / GRID, k % GRID);
        if i == 0 || j == 0 || i == GRID - 1 || j == GRID - 1 {
            edge += w;
        }
    }
    (ev / z, et / z, edge / z)
}

fn check(path: &str, gpu: Option<&Gpu>, update: Update, chains: u32, warmup: u32, draws: u32) {
    let ds = rats_dataset();
    let Model { batch, names } = Model::new(&ds, true).unwrap();
    let (exact_v, exact_theta, edge) = exact_means(&ds.successes, &ds.trials);
    assert!(edge < 1e-9, "grid edge mass {edge}");
    let mut config = SamplerConfig::new(HyperPrior::Bda3, chains, warmup, draws, 1, 42);
    config.update = update;
    config.hyper_rounds = update.default_rounds();
    let path = format!("{path}, {update}");
    let backend = Device::from_gpu(gpu);
    let fit = run(&batch, &config, backend, None).unwrap();
    let find = |name: &str| names.iter().position(|n| n == name).unwrap();
    let kappa = find("kappa");
    let log_kappa: Vec<Vec<f64>> = (0..fit.n_chains)
        .map(|c| fit.chain(kappa, c).iter().map(|k| k.ln()).collect())
        .collect();
    let sv = summarize(&log_kappa.iter().map(|v| v.as_slice()).collect::<Vec<_>>());
    let st = summarize(&fit.chains(find("theta[71]")));
    eprintln!(
        "{path}: E log(alpha+beta) = {:.4} ± {:.4} (exact {exact_v:.4}), E theta[71] = {:.5} ± {:.5} (exact {exact_theta:.5}), ESS {:.0} / {:.0}, R-hat {:.4}",
        sv.mean, sv.mcse_mean, st.mean, st.mcse_mean, sv.ess_bulk, st.ess_bulk, sv.r_hat
    );
    assert!(sv.r_hat < 1.01, "{path}: R-hat {}", sv.r_hat);
    assert!(
        (sv.mean - exact_v).abs() < 4.0 * sv.mcse_mean,
        "{path}: E log(alpha + beta) {} vs exact {exact_v}: {:.1} MCSE",
        sv.mean,
        (sv.mean - exact_v).abs() / sv.mcse_mean
    );
    assert!(
        (st.mean - exact_theta).abs() < 4.0 * st.mcse_mean,
        "{path}: E theta[71] {} vs exact {exact_theta}: {:.1} MCSE",
        st.mean,
        (st.mean - exact_theta).abs() / st.mcse_mean
    );
}

#[test]
fn cpu_sampler_matches_the_quadrature_posterior() {
    check("cpu", None, Update::Gibbs, 8, 500, 4000);
    check("cpu", None, Update::Collapsed, 8, 500, 4000);
}

#[test]
fn gpu_sampler_matches_the_quadrature_posterior() {
    let Some(gpu) = common::gpu_or_skip("gpu_rats_posterior") else {
        return;
    };
    check("gpu", Some(&gpu), Update::Gibbs, 32, 500, 1500);
    check("gpu", Some(&gpu), Update::Collapsed, 32, 500, 1500);
}

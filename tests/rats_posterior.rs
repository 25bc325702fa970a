//! Posterior correctness on the rat-tumour data (BDA3 §5.3): the sampler against the
//! exact marginal posterior of (alpha, beta), by quadrature with the thetas integrated
//! out analytically, under the bda3 prior p(alpha, beta) ∝ (alpha + beta)^(-5/2).
//! The posterior means of log(alpha + beta) and theta[71] must agree within 4 Monte
//! Carlo standard errors (mcse_mean = sd / sqrt(ESS)).

mod common;

use betagibbs::kernels::gpu::Gpu;
use betagibbs::kernels::Device;
use betagibbs::mcmc::diagnostics::summarize;
use betagibbs::mcmc::model::Model;
use betagibbs::mcmc::prior::HyperPrior;
use betagibbs::mcmc::sampler::{run, SamplerConfig, Update};
use common::rats::RatsPosterior;

/// Points per axis of the quadrature grid: fine enough for 1e-4.
const GRID: usize = 600;

fn check(path: &str, gpu: Option<&Gpu>, update: Update, chains: u32, warmup: u32, draws: u32) {
    let ds = common::rats();
    let Model { batch, names } = Model::new(&ds, true).unwrap();
    let exact = RatsPosterior::new(GRID);
    assert!(exact.edge_mass < 1e-9, "grid edge mass {}", exact.edge_mass);
    // E log(alpha + beta) and E theta[71] = E (alpha + y_71) / (alpha + beta + n_71).
    let exact_v = exact.expectation(|alpha, beta| (alpha + beta).ln());
    let (y71, n71) = (f64::from(ds.successes[70]), f64::from(ds.trials[70]));
    let exact_theta = exact.expectation(|alpha, beta| (alpha + y71) / (alpha + beta + n71));
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
#[ignore = "needs a Vulkan adapter (lavapipe: apt-get install mesa-vulkan-drivers)"]
fn gpu_sampler_matches_the_quadrature_posterior() {
    let gpu = common::gpu();
    check("gpu", Some(&gpu), Update::Gibbs, 32, 500, 1500);
    check("gpu", Some(&gpu), Update::Collapsed, 32, 500, 1500);
}

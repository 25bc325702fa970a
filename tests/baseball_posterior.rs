//! The two-level baseball model (Kruschke DBDA2 ch. 9) by two different algorithms: plain
//! Gibbs (hyperparameters given the thetas) and the collapsed update (given the data, the
//! thetas integrated out). Both target the same posterior, so every group mode's posterior
//! mean must agree within Monte Carlo error; and both must give the values Stan and JAGS
//! give on this data.

mod common;

use betagibbs::app::Embedded;
use betagibbs::kernels::Device;
use betagibbs::mcmc::diagnostics::{summarize, Summary};
use betagibbs::mcmc::model::Model;
use betagibbs::mcmc::prior::HyperPrior;
use betagibbs::mcmc::sampler::{run, Fit, SamplerConfig, Update};

/// Stan's and JAGS's posterior means on this data, which agree with each other within 0.002.
const REFERENCE: [(&str, f64); 3] = [
    ("omega[Pitcher]", 0.122),
    ("omega[Catcher]", 0.237),
    ("omega", 0.226),
];
/// How far the references may be from the exact means: their own agreement.
const REFERENCE_TOLERANCE: f64 = 0.002;

fn fit(update: Update, backend: Device) -> (Fit, Vec<String>) {
    let Model { batch, names } = Model::new(&Embedded::Baseball.dataset(), false).unwrap();
    let prior = HyperPrior::parse("kruschke").unwrap();
    let mut config = SamplerConfig::new(prior, 16, 1000, 2000, 1, 7);
    config.keep_thetas = false;
    config.update = update;
    config.hyper_rounds = update.default_rounds();
    (run(&batch, &config, backend, None).unwrap(), names)
}

fn summaries(fit: &Fit, names: &[String]) -> Vec<(String, Summary)> {
    (0..fit.n_params)
        .map(|p| (names[p].clone(), summarize(&fit.chains(p))))
        .collect()
}

fn compare(backend: Device, label: &str) {
    let (gibbs, names) = fit(Update::Gibbs, backend);
    let (collapsed, _) = fit(Update::Collapsed, backend);
    let (g, c) = (summaries(&gibbs, &names), summaries(&collapsed, &names));
    eprintln!(
        "{label}: wall {:.2} s gibbs, {:.2} s collapsed",
        gibbs.wall_seconds, collapsed.wall_seconds
    );
    for ((name, sg), (_, sc)) in g.iter().zip(&c) {
        let z = (sg.mean - sc.mean) / sg.mcse_mean.hypot(sc.mcse_mean);
        eprintln!(
            "{label} {name:>20}: gibbs {:.5} ± {:.5} (ESS {:>5.0}, R-hat {:.3}), collapsed {:.5} ± {:.5} (ESS {:>5.0}, R-hat {:.3}), z = {z:+.2}",
            sg.mean, sg.mcse_mean, sg.ess_bulk, sg.r_hat, sc.mean, sc.mcse_mean, sc.ess_bulk, sc.r_hat
        );
        if !name.starts_with("omega") {
            continue; // plain Gibbs mixes too slowly for the concentrations to compare at this length
        }
        assert!(sg.r_hat < 1.05 && sc.r_hat < 1.01, "{label} {name}: R-hat");
        assert!(
            z.abs() < 4.0,
            "{label} {name}: the two algorithms differ by {z:.1} MCSE"
        );
    }
    for (name, reference) in REFERENCE {
        let (_, s) = c.iter().find(|(n, _)| n == name).unwrap();
        assert!(
            (s.mean - reference).abs() < REFERENCE_TOLERANCE + 4.0 * s.mcse_mean,
            "{label} {name}: {} vs Stan/JAGS {reference}",
            s.mean
        );
    }
}

#[test]
fn gibbs_and_collapsed_agree_on_the_cpu() {
    compare(Device::Cpu, "cpu");
}

#[test]
#[ignore = "needs a Vulkan adapter (lavapipe: apt-get install mesa-vulkan-drivers)"]
fn gibbs_and_collapsed_agree_on_the_gpu() {
    let gpu = common::gpu();
    compare(Device::Gpu(&gpu), "gpu");
}

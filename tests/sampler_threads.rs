//! The CPU path's draws do not depend on how many threads run them: every (chain, unit) owns
//! its random stream, and the collapsed update's fused per-chain tasks only split the work.

use betagibbs::app::Embedded;
use betagibbs::kernels::Device;
use betagibbs::mcmc::model::Model;
use betagibbs::mcmc::prior::HyperPrior;
use betagibbs::mcmc::sampler::{run, SamplerConfig, Update};

fn draws_with_threads(data: Embedded, prior: &str, update: Update, threads: usize) -> Vec<f64> {
    let batch = Model::new(&data.dataset(), true).unwrap().batch;
    let mut config = SamplerConfig::new(HyperPrior::parse(prior).unwrap(), 5, 20, 30, 1, 7);
    config.update = update;
    config.hyper_rounds = update.default_rounds();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| run(&batch, &config, Device::Cpu, None).unwrap().values)
}

#[test]
fn cpu_draws_are_the_same_on_one_thread_or_three() {
    for (data, prior) in [(Embedded::Rats, "bda3"), (Embedded::Baseball, "kruschke")] {
        for update in [Update::Collapsed, Update::Gibbs] {
            let one = draws_with_threads(data, prior, update, 1);
            let three = draws_with_threads(data, prior, update, 3);
            assert_eq!(one.len(), three.len());
            let differ = one
                .iter()
                .zip(&three)
                .filter(|(a, b)| a.to_bits() != b.to_bits())
                .count();
            assert_eq!(differ, 0, "{data:?} {update}: {differ} draws differ");
        }
    }
}

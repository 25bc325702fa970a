//! `cargo bench`: the GPU and CPU paths, and the gibbs and collapsed updates, side by side
//! on the embedded models in one run, as `betagibbs bench` does (see docs/benchmarks.md). Chain counts
//! and lengths can be set with BETAGIBBS_BENCH_CHAINS (comma-separated, both models),
//! BETAGIBBS_BENCH_WARMUP and BETAGIBBS_BENCH_DRAWS.

use betagibbs::app::{run_bench, BenchConfig, Embedded};
use betagibbs::mcmc::sampler::Update;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let chains_from_env: Option<Vec<u32>> = std::env::var("BETAGIBBS_BENCH_CHAINS")
        .ok()
        .map(|v| v.split(',').filter_map(|c| c.trim().parse().ok()).collect());
    for (model, default_chains) in [
        (Embedded::Rats, vec![4, 64, 1024]),
        (Embedded::Baseball, vec![4, 16]),
    ] {
        let config = BenchConfig {
            model,
            chains: chains_from_env.clone().unwrap_or(default_chains),
            updates: vec![Update::Gibbs, Update::Collapsed],
            warmup: env_or("BETAGIBBS_BENCH_WARMUP", 1000),
            draws: env_or("BETAGIBBS_BENCH_DRAWS", 1000),
            seed: 1,
            hyper_rounds: None,
            gpu: true,
            stan: false,
        };
        run_bench(&config).expect("benchmark run");
    }
}

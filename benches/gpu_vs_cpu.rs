//! `cargo bench`: the GPU path and the CPU path side by side on the rat model, in one
//! run, as `betagibbs bench` does (see README). Chain counts and lengths can be set with
//! BETAGIBBS_BENCH_CHAINS (comma-separated), BETAGIBBS_BENCH_WARMUP and BETAGIBBS_BENCH_DRAWS.

use betagibbs::app::{run_bench, BenchConfig};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let chains = std::env::var("BETAGIBBS_BENCH_CHAINS")
        .ok()
        .map(|v| v.split(',').filter_map(|c| c.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![4, 64, 1024]);
    let config = BenchConfig {
        chains,
        warmup: env_or("BETAGIBBS_BENCH_WARMUP", 1000),
        draws: env_or("BETAGIBBS_BENCH_DRAWS", 1000),
        seed: 1,
        hyper_rounds: env_or(
            "BETAGIBBS_BENCH_HYPER_ROUNDS",
            betagibbs::sampler::DEFAULT_HYPER_ROUNDS,
        ),
        gpu: true,
    };
    run_bench(&config).expect("benchmark run");
}

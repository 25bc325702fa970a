//! methyl's inputs for tests: the CLI's defaults as a config, and one site_update dispatch.

use std::path::PathBuf;

use betagibbs::kernels::site_layout::SiteParams;
use betagibbs::kernels::DeviceChoice;
use betagibbs::methyl::config::MethylConfig;

/// `methyl SHEET --compare A,B --out OUT` with methyl's defaults on the CPU, quiet.
pub fn methyl_config(sheet: PathBuf, out: PathBuf) -> MethylConfig {
    let mut config = MethylConfig::new(sheet, ("A".into(), "B".into()), out);
    config.device = DeviceChoice::Cpu;
    config.quiet = true;
    config
}

/// One stage-2 dispatch over all of a run's sweeps: two groups, delta = group 1 - group 0,
/// chains started from the proposal, the random walk on.
pub fn site_params(
    seed: u32,
    n_sites: u32,
    n_chains: u32,
    (warmup, draws): (u32, u32),
    threshold: f32,
) -> SiteParams {
    SiteParams {
        seed,
        n_sites,
        n_chains,
        n_groups: 2,
        first_sweep: 0,
        warmup,
        n_draws: draws,
        init: 1,
        draws_total: draws,
        draw_offset: 0,
        random_walk: 1,
        compare_first: 0,
        compare_second: 1,
        threshold,
        _pad: [0; 2],
    }
}

/// A design of the benchmark's shape for `samples` samples: each row is (intercept, a
/// two-level batch alternating, a numeric age near 0, a two-level group in halves); the
/// regression tests' design, group tested.
pub fn benchmark_design_rows(samples: usize) -> Vec<[f64; 4]> {
    (0..samples)
        .map(|j| {
            let group = f64::from(u8::from(j >= samples / 2));
            let batch = f64::from(u8::from(j % 2 == 1));
            let age = (j as f64 * 7.3) % 11.0 - 5.0;
            [1.0, batch, age, group]
        })
        .collect()
}

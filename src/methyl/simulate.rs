//! `betagibbs simulate`: a synthetic methylation study drawn from the model itself, with the
//! truth written beside it, for benchmarks and calibration checks.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context;

use rayon::prelude::*;

use crate::host_variates::{beta, binomial, normal};
use crate::output::atomic_write;
use crate::rng::{Stream, UniformStream};

/// What to simulate.
#[derive(Debug, Clone)]
pub struct SimulateConfig {
    pub sites: u32,
    pub replicates: u32,
    /// Coverage per sample and site, uniform on this inclusive range.
    pub coverage: (u32, u32),
    /// The model's hyperparameters: mu ~ Beta(a, b), log phi ~ Normal(m0, s0^2).
    pub hyper: [f64; 4],
    pub seed: u32,
    pub out: PathBuf,
}

/// Hyperparameters of the default study: methylation levels piled near 0 and 1, as in
/// mammalian CpGs, and replicate dispersion phi around 15.
pub const DEFAULT_HYPER: [f64; 4] = [0.6, 0.6, 2.7, 0.7];
/// Bases between simulated sites: below the default DMR gap, so neighbouring calls merge.
const SITE_SPACING: u64 = 40;
/// Sites drawn by one task: large enough to amortise the task, small enough to balance.
const SITES_PER_BLOCK: u32 = 1 << 16;
pub const GROUPS: [&str; 2] = ["A", "B"];

/// Writes `A1.txt`, ..., `B<R>.txt` (DSS format), `sheet.tsv` and `truth.tsv`.
pub fn simulate(config: &SimulateConfig) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.out)
        .with_context(|| format!("creating {}", config.out.display()))?;
    let n_samples = 2 * config.replicates as usize;
    // Each site has its own stream, so blocks of sites are drawn in parallel and joined in order.
    let blocks: Vec<(Vec<String>, String)> = (0..config.sites.div_ceil(SITES_PER_BLOCK))
        .into_par_iter()
        .map(|block| {
            let first = block * SITES_PER_BLOCK;
            simulate_block(config, first..config.sites.min(first + SITES_PER_BLOCK))
        })
        .collect();
    let mut files = vec![String::from("chr\tpos\tN\tX\n"); n_samples];
    let mut truth = String::from("chr\tpos\tmu_A\tmu_B\tdelta\tphi\n");
    for (block_files, block_truth) in blocks {
        for (file, text) in files.iter_mut().zip(block_files) {
            file.push_str(&text);
        }
        truth.push_str(&block_truth);
    }
    let mut sheet = String::from("sample\tfile\tgroup\n");
    for (j, text) in files.iter().enumerate() {
        let g = j / config.replicates as usize;
        let name = format!("{}{}", GROUPS[g], j % config.replicates as usize + 1);
        let _ = writeln!(sheet, "{name}\t{name}.txt\t{}", GROUPS[g]);
        atomic_write(&config.out.join(format!("{name}.txt")), |f| {
            Ok(f.write_all(text.as_bytes())?)
        })?;
    }
    atomic_write(&config.out.join("sheet.tsv"), |f| {
        Ok(f.write_all(sheet.as_bytes())?)
    })?;
    atomic_write(&config.out.join("truth.tsv"), |f| {
        Ok(f.write_all(truth.as_bytes())?)
    })?;
    Ok(())
}

/// The samples' lines and the truth's lines of the sites in `sites`.
fn simulate_block(config: &SimulateConfig, sites: std::ops::Range<u32>) -> (Vec<String>, String) {
    let [a, b, m0, s0] = config.hyper;
    let n_samples = 2 * config.replicates as usize;
    let mut files = vec![String::new(); n_samples];
    let mut truth = String::new();
    let (lo, hi) = config.coverage;
    for site in sites {
        let mut rng = UniformStream::new(config.seed, 0, 0, site, 0, Stream::Init);
        let mu = [beta(a, b, &mut rng), beta(a, b, &mut rng)];
        let phi = (m0 + s0 * normal(&mut rng)).exp();
        let pos = 1000 + SITE_SPACING * u64::from(site);
        let _ = writeln!(
            truth,
            "chrSim\t{pos}\t{}\t{}\t{}\t{phi}",
            mu[0],
            mu[1],
            mu[1] - mu[0]
        );
        for (j, file) in files.iter_mut().enumerate() {
            let g = j / config.replicates as usize;
            let n = lo + ((hi - lo + 1) as f64 * rng.next_f64()) as u32;
            let theta = beta(mu[g] * phi, (1.0 - mu[g]) * phi, &mut rng);
            let m = binomial(n, theta, &mut rng);
            let _ = writeln!(file, "chrSim\t{pos}\t{n}\t{m}");
        }
    }
    (files, truth)
}

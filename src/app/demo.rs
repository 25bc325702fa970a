//! `demo methyl`: the main methylation job end to end on a study made on the spot by
//! `simulate` (correlated bimodal levels, DMRs as regions, logit-normal replicates: not the
//! fitted model), then the calls scored against the study's truth. The first thing a
//! methylation user can run: `betagibbs demo methyl`.

use std::path::PathBuf;

use anyhow::Result;

use crate::kernels::DeviceChoice;
use crate::methyl::config::MethylConfig;
use crate::methyl::run::run_methyl;
use crate::methyl::simulate::score::score_calls;
use crate::methyl::simulate::{simulate, SimulateConfig};

/// CpGs of the demo study: 2 x 2 samples, about 1,500 sites in DMRs, so that the realised FDR
/// means something; a few seconds on 2 cores.
const DEMO_SITES: u32 = 20_000;

/// Where the demo writes (`OUT/study`, `OUT/fit`), and on which device it fits.
#[derive(Debug, Clone)]
pub struct MethylDemo {
    pub out: PathBuf,
    pub device: DeviceChoice,
    pub seed: u32,
    pub quiet: bool,
}

/// `demo methyl`: simulate, fit and call, then say what was found and how it fares.
pub fn run_methyl_demo(demo: &MethylDemo) -> Result<()> {
    let (study, fit) = (demo.out.join("study"), demo.out.join("fit"));
    simulate(&SimulateConfig {
        sites: DEMO_SITES,
        seed: demo.seed,
        out: study.clone(),
        ..SimulateConfig::default()
    })?;
    eprintln!(
        "betagibbs: demo methyl: a simulated study of {DEMO_SITES} CpGs, groups A and B of 2 samples each, in {}",
        study.display()
    );
    let mut config = MethylConfig::new(
        study.join("sheet.tsv"),
        ("A".into(), "B".into()),
        fit.clone(),
    );
    config.device = demo.device;
    config.quiet = demo.quiet;
    config.fit.seed = demo.seed;
    run_methyl(&config)?;
    let s = score_calls(&study, &fit, config.threshold)?;
    let share = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
    println!("demo methyl: {DEMO_SITES} simulated CpGs, delta = mu_B - mu_A, calls at a Bayesian FDR of 5%");
    println!(
        "  {} DMLs (P(|delta| > {}) high enough): {} false, a realised FDR of {:.1}%; {} of the {} sites with a true |delta| > {} found ({:.1}%)",
        s.dml,
        config.threshold,
        s.false_dml,
        share(s.false_dml, s.dml),
        s.found_sites,
        s.true_sites,
        config.threshold,
        share(s.found_sites, s.true_sites)
    );
    println!(
        "  {} DMRs: {} overlap no true DMR ({:.1}%); {} of the {} true DMRs found ({:.1}%)",
        s.dmr,
        s.false_dmr,
        share(s.false_dmr, s.dmr),
        s.found_regions,
        s.true_regions,
        share(s.found_regions, s.true_regions)
    );
    println!(
        "  the fit: {}/sites.parquet, dml.parquet, dmr.parquet; the truth: {}/truth.tsv",
        fit.display(),
        study.display()
    );
    Ok(())
}

//! `simulate`'s flags, whose defaults are `crate::methyl::simulate`'s.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::app::cli::covariates::parse_design;
use crate::error::UserError;
use crate::methyl::simulate::{
    Noise, SimulateConfig, DEFAULT_CHROMOSOMES, DEFAULT_NULL_FRACTION, DEFAULT_PHI,
    DEFAULT_REPLICATES, DEFAULT_SAMPLE_SD, DEFAULT_SEED, DEFAULT_SITES,
};

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// CpG sites, split evenly among the chromosomes.
    #[arg(long, default_value_t = DEFAULT_SITES)]
    pub sites: u32,
    /// Samples per group (groups A and B).
    #[arg(long, default_value_t = DEFAULT_REPLICATES)]
    pub replicates: u32,
    /// Chromosomes, named chr1 ... chrK.
    #[arg(long, default_value_t = DEFAULT_CHROMOSOMES)]
    pub chromosomes: u32,
    /// Smallest and largest coverage per sample and site (uniform), 'LO,HI'.
    #[arg(long, default_value = "10,40")]
    pub coverage: String,
    /// Share of the sites outside every DMR, in (0, 1]; below about 0.3 the DMRs cannot be
    /// kept apart and the realised share is higher.
    #[arg(long, default_value_t = DEFAULT_NULL_FRACTION)]
    pub null_fraction: f64,
    /// Fewest and most neighbouring CpGs of a DMR, 'LO,HI'.
    #[arg(long, default_value = "5,20")]
    pub dmr_cpgs: String,
    /// Smallest and largest peak |delta| of a DMR (uniform; its sign at random, turned toward
    /// the side with room), 'LO,HI'.
    #[arg(long, default_value = "0.1,0.5")]
    pub dmr_delta: String,
    /// How replicates scatter around their group's level: logit-normal (not the fitted
    /// model) or beta-binomial (the fitted model's own, log phi ~ Normal(2.7, 0.7^2)).
    #[arg(long, value_enum, default_value_t = NoiseChoice::LogitNormal)]
    pub noise: NoiseChoice,
    /// Logit-scale sd of a sample's proportion around its group's level (logit-normal noise).
    #[arg(long, default_value_t = DEFAULT_SAMPLE_SD)]
    pub sample_sd: f64,
    /// A covariate of the samples (of the subjects with --pairs), repeatable:
    /// 'NAME=factor:K' (levels NAME1 ... NAMEK), 'NAME=factor:L1,L2,...' (L1 the reference)
    /// or 'NAME=numeric:LO,HI' (uniform, two decimals). Factors are balanced across groups.
    #[arg(long = "covariate", value_name = "SPEC")]
    pub covariates: Vec<String>,
    /// Logit-scale sd of a covariate's per-site effects, 'NAME=SD' (repeatable; default 0.5):
    /// of each non-reference level's shift, or of a numeric covariate's shift over its range.
    #[arg(long = "covariate-effect", value_name = "NAME=SD")]
    pub covariate_effects: Vec<String>,
    /// Pairs: sample k of A and sample k of B come from subject s<k>, which shares its
    /// covariates and a per-site logit offset between them.
    #[arg(long)]
    pub pairs: bool,
    /// Logit-scale sd of a subject's per-site offset (default 0.5).
    #[arg(long, requires = "pairs")]
    pub subject_sd: Option<f64>,
    /// Seed of every draw: the same seed and flags give the same bytes.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u32,
    /// Output directory: A1.txt ... (DSS format), sheet.tsv, truth.tsv (per site; with
    /// covariates or pairs also each coefficient's logit-scale truth), truth_regions.tsv (per DMR).
    #[arg(long)]
    pub out: PathBuf,
}

/// `simulate --noise`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NoiseChoice {
    LogitNormal,
    BetaBinomial,
}

/// 'LO,HI' with `ok(LO, HI)`, or None.
fn parse_pair<T: std::str::FromStr + Copy>(
    text: &str,
    ok: impl Fn(T, T) -> bool,
) -> Option<(T, T)> {
    let (lo, hi) = text.split_once(',')?;
    let pair = (lo.trim().parse().ok()?, hi.trim().parse().ok()?);
    ok(pair.0, pair.1).then_some(pair)
}

impl SimulateArgs {
    pub fn into_config(self) -> Result<SimulateConfig, UserError> {
        let pair_error = |flag: &str, text: &str, rule: &str| {
            UserError(format!("{flag} {text:?}: expected 'LO,HI' with {rule}"))
        };
        let coverage = parse_pair(&self.coverage, |lo: u32, hi| lo >= 1 && lo <= hi)
            .ok_or_else(|| pair_error("--coverage", &self.coverage, "1 <= LO <= HI"))?;
        let dmr_cpgs = parse_pair(&self.dmr_cpgs, |lo: u32, hi| lo >= 1 && lo <= hi)
            .ok_or_else(|| pair_error("--dmr-cpgs", &self.dmr_cpgs, "1 <= LO <= HI"))?;
        let dmr_delta = parse_pair(&self.dmr_delta, |lo: f64, hi| {
            lo > 0.0 && lo <= hi && hi < 1.0
        })
        .ok_or_else(|| pair_error("--dmr-delta", &self.dmr_delta, "0 < LO <= HI < 1"))?;
        if self.sites == 0 || self.replicates == 0 {
            return Err(UserError(
                "--sites and --replicates must be at least 1".into(),
            ));
        }
        if self.chromosomes == 0 || self.chromosomes > self.sites {
            return Err(UserError(format!(
                "--chromosomes {}: must be from 1 to --sites ({})",
                self.chromosomes, self.sites
            )));
        }
        if !(self.null_fraction > 0.0 && self.null_fraction <= 1.0) {
            return Err(UserError(format!(
                "--null-fraction {}: must be in (0, 1]",
                self.null_fraction
            )));
        }
        if !(self.sample_sd >= 0.0 && self.sample_sd.is_finite()) {
            return Err(UserError(format!(
                "--sample-sd {}: must be finite and at least 0",
                self.sample_sd
            )));
        }
        Ok(SimulateConfig {
            sites: self.sites,
            replicates: self.replicates,
            chromosomes: self.chromosomes,
            coverage,
            null_fraction: self.null_fraction,
            dmr_cpgs,
            dmr_delta,
            noise: match self.noise {
                NoiseChoice::LogitNormal => Noise::LogitNormal { sd: self.sample_sd },
                NoiseChoice::BetaBinomial => Noise::BetaBinomial {
                    m0: DEFAULT_PHI.0,
                    s0: DEFAULT_PHI.1,
                },
            },
            design: parse_design(
                &self.covariates,
                &self.covariate_effects,
                self.pairs,
                self.subject_sd,
            )?,
            seed: self.seed,
            out: self.out,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::SimulateConfig;
    use crate::app::cli::{Cli, Command};

    #[test]
    fn cli_defaults_are_the_library_defaults() {
        use clap::Parser;
        let cli = Cli::try_parse_from(["betagibbs", "simulate", "--out", "x"]).unwrap();
        let Command::Simulate(args) = cli.command else {
            panic!("not simulate")
        };
        assert_eq!(
            args.into_config().unwrap(),
            SimulateConfig {
                out: "x".into(),
                ..SimulateConfig::default()
            }
        );
    }
}

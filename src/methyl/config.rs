//! `methyl`'s configuration and its defaults, named once: the command line's defaults are
//! these constants, and `MethylConfig::new` gives a library user the same run.

use std::path::PathBuf;

use crate::error::UserError;
use crate::kernels::gpu::DEFAULT_WORKGROUP_SIZE;
use crate::kernels::DeviceChoice;
use crate::methyl::design::DesignRequest;
use crate::methyl::fit::FitConfig;
use crate::methyl::formats::ModCode;
pub use crate::methyl::interval::Region;
use crate::methyl::merge::SiteFilter;
use crate::methyl::regions::DmrRule;
use crate::methyl::scan_sample::HyperSites;
use crate::methyl::scan_sample::SCAN_SAMPLE_FROM;
use crate::methyl::site_stage::DEVICE_SWEEPERS;

/// d of P(delta > d) and P(delta < -d): a tenth of the methylation scale, as DSS's examples.
pub const DEFAULT_THRESHOLD: f64 = 0.1;
/// Target Bayesian false discovery rate of the DML calls.
pub const DEFAULT_FDR: f64 = 0.05;
/// A sample's counts at a site count from this coverage on.
pub const DEFAULT_MIN_COVERAGE: u32 = 1;
/// Samples per group with enough coverage for a site to be kept.
pub const DEFAULT_MIN_SAMPLES_PER_GROUP: u32 = 1;
/// Chains per site: one SIMD register of the CPU path's lanes.
pub const DEFAULT_CHAINS: u32 = 4;
/// Warm-up sweeps per site: chains start from an independence proposal near the posterior,
/// and 2 sweeps already gave the results of 10 (docs/methyl-model.md).
pub const DEFAULT_WARMUP: u32 = 5;
/// Kept draws per chain and site.
pub const DEFAULT_DRAWS: u32 = 50;
/// The seed of every draw.
pub const DEFAULT_SEED: u32 = 20_131_105;
/// Stage 1's sites by default: a tenth of the sites that pass the filters, from 2,000 to
/// 20,000. Its w (the share of sites that differ) trades with tau along a ridge that few
/// sites pin down, and the calls follow w: on a 200,000-site 2 x 2 study, 2,000 sites gave
/// 1,735 to 3,196 calls over seeds 1-4 (realised FDR 2.8-6.1%), 20,000 gave 1,878 to 2,104
/// (2.8-3.5%). A share keeps small studies' stage 1 a small part of the run on the CPU path.
pub const DEFAULT_HYPER_SITES: HyperSites = HyperSites {
    share: 0.1,
    least: 2_000,
    most: 20_000,
};
/// A design's stage 1 by default (`--design`, but for `~ group`): 2,000 sites. Its sites cost
/// more (every sample its own row), and the share was not measured on it: at 10,000 sites a
/// 100,000-site 16-sample study ran 49 s against 34 s.
pub const DEFAULT_DESIGN_HYPER_SITES: HyperSites = HyperSites {
    share: 0.0,
    least: 2_000,
    most: 2_000,
};
/// Warm-up and kept sweeps of stage 1.
pub const DEFAULT_HYPER_WARMUP: u32 = 200;
pub const DEFAULT_HYPER_DRAWS: u32 = 50;
/// Sites per chunk of stage 2: bounds host and device memory whatever the genome size.
pub const DEFAULT_CHUNK_SITES: usize = 65_536;
/// Memory stage 2's chunks may hold, in GiB (`--memory`): chunks shrink below
/// DEFAULT_CHUNK_SITES when the draws would take more; at the default draws they do not.
pub const DEFAULT_MEMORY_GIB: f64 = 1.0;
/// Fewest CpGs of a DMR and largest gap in bases between neighbours (DSS's callDMR).
pub const DEFAULT_DMR_MIN_CPGS: u32 = 3;
pub const DEFAULT_DMR_MAX_GAP: u64 = 50;

/// Where a GPU run summarises each site's draws (`--summaries`): on the device in f32
/// (site_summaries.wgsl), or on the host in f64 as the CPU path does; they agree to f32
/// rounding. The CPU path always summarises on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SummariesChoice {
    /// The device on a hardware GPU; the host on a software adapter (lavapipe), which runs
    /// the shader on the same CPU 25 times slower than the host's own code.
    Auto,
    Device,
    Host,
}

impl Default for FitConfig {
    fn default() -> Self {
        FitConfig {
            chains: DEFAULT_CHAINS,
            warmup: DEFAULT_WARMUP,
            draws: DEFAULT_DRAWS,
            seed: DEFAULT_SEED,
            hyper_sites: DEFAULT_HYPER_SITES,
            hyper_warmup: DEFAULT_HYPER_WARMUP,
            hyper_draws: DEFAULT_HYPER_DRAWS,
            chunk_sites: DEFAULT_CHUNK_SITES,
            workgroup_size: DEFAULT_WORKGROUP_SIZE,
            scalar_twin: false,
            sweep_threads: DEVICE_SWEEPERS,
            host_summaries: true,
            scan_sample_from: SCAN_SAMPLE_FROM,
        }
    }
}

impl Default for SiteFilter {
    fn default() -> Self {
        SiteFilter {
            min_coverage: DEFAULT_MIN_COVERAGE,
            min_samples_per_group: DEFAULT_MIN_SAMPLES_PER_GROUP,
            merge_strands: false,
            mod_code: ModCode::FIVE_MC,
        }
    }
}

impl SiteFilter {
    /// The footer's `betagibbs.filter`: `key=value` pairs that `from_footer` reads back.
    pub fn footer(&self) -> String {
        format!(
            "min_coverage={} min_samples_per_group={} merge_strands={} mod_code={}",
            self.min_coverage, self.min_samples_per_group, self.merge_strands, self.mod_code
        )
    }

    /// The filter a run recorded in its footer (`betagibbs.filter`, as `footer` writes it);
    /// keys it lacks (a run of an older version) keep their defaults.
    pub fn from_footer(text: &str) -> Result<SiteFilter, UserError> {
        let mut filter = SiteFilter::default();
        for pair in text.split_whitespace() {
            let bad = || UserError(format!("betagibbs.filter {text:?}: cannot read {pair:?}"));
            let (key, value) = pair.split_once('=').ok_or_else(bad)?;
            match key {
                "min_coverage" => filter.min_coverage = value.parse().map_err(|_| bad())?,
                "min_samples_per_group" => {
                    filter.min_samples_per_group = value.parse().map_err(|_| bad())?
                }
                "merge_strands" => filter.merge_strands = value.parse().map_err(|_| bad())?,
                "mod_code" => filter.mod_code = ModCode::parse(value).map_err(|_| bad())?,
                _ => {}
            }
        }
        Ok(filter)
    }
}

impl Default for DmrRule {
    fn default() -> Self {
        DmrRule {
            min_cpgs: DEFAULT_DMR_MIN_CPGS,
            max_gap: DEFAULT_DMR_MAX_GAP,
        }
    }
}

/// Everything `methyl` needs, validated.
#[derive(Debug, Clone)]
pub struct MethylConfig {
    pub sheet: PathBuf,
    /// delta = mu[second] - mu[first] (unused where `design` is set).
    pub compare: (String, String),
    /// `--design` with `--coef` or `--contrast`: a regression on the sheet's columns.
    pub design: Option<DesignRequest>,
    pub filter: SiteFilter,
    /// d of P(delta > d) and P(delta < -d).
    pub threshold: f64,
    /// Target Bayesian FDR of the DML calls.
    pub fdr: f64,
    pub dmr: DmrRule,
    pub fit: FitConfig,
    pub device: DeviceChoice,
    /// Where a GPU run summarises each site's draws (`--summaries`).
    pub summaries: SummariesChoice,
    pub out: PathBuf,
    pub quiet: bool,
    /// `--draws-region`: sites whose draws go to draws.parquet.
    pub draws_regions: Vec<Region>,
    /// `--region`: the only part of the genome read and fitted.
    pub region: Option<Region>,
    /// `--memory`: GiB that stage 2's chunks may hold.
    pub memory_gib: f64,
    /// `--resume`: keep the run's progress under OUT/.resume, and go on from it if a killed
    /// run with the same settings left it (`run::resume`).
    pub resume: bool,
    /// `--dev-shader-dir`: a folder of shaders (NAME.wgsl) that replace the built-in ones
    /// (`Gpu::shader_variants`).
    pub dev_shader_dir: Option<PathBuf>,
}

impl MethylConfig {
    /// The defaults of `betagibbs methyl SHEET --compare A,B --out OUT`.
    pub fn new(sheet: PathBuf, compare: (String, String), out: PathBuf) -> MethylConfig {
        MethylConfig {
            sheet,
            compare,
            design: None,
            filter: SiteFilter::default(),
            threshold: DEFAULT_THRESHOLD,
            fdr: DEFAULT_FDR,
            dmr: DmrRule::default(),
            fit: FitConfig::default(),
            device: DeviceChoice::Auto,
            summaries: SummariesChoice::Auto,
            out,
            quiet: false,
            draws_regions: Vec::new(),
            region: None,
            memory_gib: DEFAULT_MEMORY_GIB,
            resume: false,
            dev_shader_dir: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_reads_back_from_its_footer() {
        let filter = SiteFilter {
            min_coverage: 5,
            min_samples_per_group: 2,
            merge_strands: true,
            mod_code: ModCode::parse("h").unwrap(),
        };
        let back = SiteFilter::from_footer(&filter.footer()).unwrap();
        assert_eq!(
            (
                back.min_coverage,
                back.min_samples_per_group,
                back.merge_strands
            ),
            (5, 2, true)
        );
        assert_eq!(back.mod_code.as_str(), "h");
        assert!(SiteFilter::from_footer("min_coverage=x").is_err());
    }

    /// The default: a tenth of the passing sites, from 2,000 to 20,000, all of a smaller study.
    #[test]
    fn stage_one_takes_a_share_within_its_bounds() {
        let d = DEFAULT_HYPER_SITES;
        let cases = [
            (0, 0),
            (1_500, 1_500),
            (18_731, 2_000),
            (50_000, 5_000),
            (28_000_000, 20_000),
        ];
        for (passing, sites) in cases {
            assert_eq!(d.of(passing), sites, "{passing} passing");
        }
        assert_eq!(HyperSites::exactly(7).of(1_000_000), 7);
        assert_eq!(HyperSites::exactly(7).of(3), 3);
        assert_eq!(d.at_most(5_000).of(1_000_000), 5_000);
        assert_eq!(d.at_most(1_000).of(1_000_000), 1_000);
        assert_eq!(d.to_string(), "10% of the sites (2000 to 20000)");
        assert_eq!(HyperSites::exactly(7).to_string(), "7 sites");
    }
}

//! `betagibbs simulate`: a synthetic two-group bisulphite study with its truth written beside
//! it, for benchmarks and calibration checks. The generator is deliberately not the fitted
//! model, so a test that passes on it says something.
//!
//! What is drawn, chromosome by chromosome (`chr1` ... `chrK`, the sites split evenly):
//! - positions: gaps of about 40 bases between CpGs and, now and then, a gap of thousands, so
//!   CpGs come in clusters as in RRBS and WGBS;
//! - group A's level `mu_A`: a two-state hidden Markov chain along the bases (methylated blocks
//!   near 0.85 and rarer unmethylated ones near 0.1, thousands of bases long), plus a smooth
//!   logit-scale AR(1) wiggle whose correlation decays with distance, plus a little jitter per
//!   site: levels are bimodal and neighbours alike;
//! - DMRs: runs of neighbouring CpGs (5-20 by default), kept apart from each other, covering
//!   `1 - null_fraction` of the sites; inside one, `mu_B = mu_A` plus a smooth bump of peak
//!   |delta| uniform in [0.1, 0.5] by default, its sign at random but turned toward the side
//!   with room; elsewhere `mu_B = mu_A` exactly;
//! - reads: per sample and site a coverage N uniform on `coverage`, a proportion p around its
//!   group's level, and X ~ Binomial(N, p); p is logit-normal unless the beta-binomial family
//!   is asked for.
//!
//! Why it is not the model: the model draws every site's two levels independently from one
//! Beta, lets most sites differ, and scatters samples by a Beta around their level. Here
//! levels are correlated along the genome and bimodal, most sites do not differ, differences
//! come in regions, and replicates scatter logit-normally by default (the beta-binomial family
//! stays as an option, for checks that want the model's own noise).
//!
//! Every draw comes from a Philox stream named by its purpose, chromosome and site (or DMR),
//! so the output does not depend on the number of threads: one seed, the same bytes.
//!
//! With covariates (`Design`) the samples also carry factors and numeric covariates, and
//! with pairs a subject each, shared by one sample in A and one in B; every site gets its own
//! logit-scale effect of each covariate and offset of each subject (see `design`). The truth
//! then states every coefficient on the logit scale, in R's treatment coding.
//!
//! `genome` draws the truth, `design` the samples' covariates and the sites' effects, `files`
//! the reads and the files' text; `simulate` writes them.

mod design;
#[cfg(test)]
mod design_tests;
mod files;
mod genome;
pub mod score;

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context;

use crate::io::atomic::atomic_write;
use crate::methyl::simulate::files::render;
use crate::rng::{Stream, UniformStream};

pub use design::{Covariate, CovariateKind, Design, DEFAULT_COVARIATE_EFFECT, DEFAULT_SUBJECT_SD};

/// How a sample's methylated proportion p scatters around its group's level mu.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Noise {
    /// p = expit(logit(mu) + sd Z), Z ~ Normal(0, 1): not the fitted model's family.
    LogitNormal { sd: f64 },
    /// p ~ Beta(mu phi, (1 - mu) phi), with log phi ~ Normal(m0, s0^2) drawn per site: the
    /// fitted model's own family.
    BetaBinomial { m0: f64, s0: f64 },
}

/// What to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulateConfig {
    pub sites: u32,
    /// Samples per group.
    pub replicates: u32,
    /// Chromosomes `chr1` ... `chrK`; the sites are split evenly among them.
    pub chromosomes: u32,
    /// Coverage per sample and site, uniform on this inclusive range.
    pub coverage: (u32, u32),
    /// Share of the sites outside every DMR, in (0, 1]. Below about 0.3 the DMRs cannot be
    /// packed apart from each other and the realised share is higher.
    pub null_fraction: f64,
    /// Fewest and most CpGs of a DMR (inclusive).
    pub dmr_cpgs: (u32, u32),
    /// Smallest and largest peak |delta| of a DMR, before clipping to the unit interval.
    pub dmr_delta: (f64, f64),
    pub noise: Noise,
    /// Covariates and pairing; empty: the two-group study.
    pub design: Design,
    pub seed: u32,
    pub out: PathBuf,
}

pub const DEFAULT_SITES: u32 = 10_000;
pub const DEFAULT_REPLICATES: u32 = 2;
pub const DEFAULT_CHROMOSOMES: u32 = 3;
pub const DEFAULT_COVERAGE: (u32, u32) = (10, 40);
/// Most CpGs of a real comparison do not differ.
pub const DEFAULT_NULL_FRACTION: f64 = 0.9;
/// DMRs as DSS and metilene report them: a handful to a few dozen CpGs.
pub const DEFAULT_DMR_CPGS: (u32, u32) = (5, 20);
/// From differences a caller should just find (0.1, its usual threshold) to large ones.
pub const DEFAULT_DMR_DELTA: (f64, f64) = (0.1, 0.5);
/// Logit-scale sd between replicates: about 0.08 in p at mu = 0.8, as between biological
/// replicates of a tissue.
pub const DEFAULT_SAMPLE_SD: f64 = 0.4;
/// (m0, s0) of log phi in the beta-binomial family: phi around 15, the earlier simulator's.
pub const DEFAULT_PHI: (f64, f64) = (2.7, 0.7);
pub const DEFAULT_SEED: u32 = 1;
pub const GROUPS: [&str; 2] = ["A", "B"];

impl Default for SimulateConfig {
    /// The defaults of `betagibbs simulate`, writing to `out` (empty: set it).
    fn default() -> Self {
        SimulateConfig {
            sites: DEFAULT_SITES,
            replicates: DEFAULT_REPLICATES,
            chromosomes: DEFAULT_CHROMOSOMES,
            coverage: DEFAULT_COVERAGE,
            null_fraction: DEFAULT_NULL_FRACTION,
            dmr_cpgs: DEFAULT_DMR_CPGS,
            dmr_delta: DEFAULT_DMR_DELTA,
            noise: Noise::LogitNormal {
                sd: DEFAULT_SAMPLE_SD,
            },
            design: Design::default(),
            seed: DEFAULT_SEED,
            out: PathBuf::new(),
        }
    }
}

/// Which use a stream serves: the second word of its key, so no two uses share a stream.
#[derive(Debug, Clone, Copy)]
#[repr(u32)]
enum Purpose {
    /// A DMR's length, peak, sign and place.
    Dmrs = 1,
    /// A site's gap, block state, wiggle and jitter.
    Landscape = 2,
    /// A site's phi (beta-binomial), and every sample's coverage, proportion and count.
    Reads = 3,
    /// A sample's (a subject's, when paired) numeric covariate, keyed by covariate and unit.
    Design = 4,
    /// A site's covariate effects and subject offsets.
    Effects = 5,
}

/// The stream of one purpose's draws for the `index`-th site (or DMR) of a chromosome; for
/// `Design`, the `index`-th unit (sample or subject) of the `chromosome`-th covariate.
fn stream(seed: u32, purpose: Purpose, chromosome: u32, index: usize) -> UniformStream {
    UniformStream::new(
        seed,
        purpose as u32,
        index as u32,
        chromosome,
        0,
        Stream::Init,
    )
}

/// A whole number uniform on the inclusive range `lo..=hi`, from the uniform `u` in (0, 1).
fn uniform_int(lo: u32, hi: u32, u: f64) -> u32 {
    (lo + (f64::from(hi - lo + 1) * u) as u32).min(hi)
}

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

fn expit(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Writes `A1.txt`, ..., `B<R>.txt` (DSS format), `sheet.tsv`, `truth.tsv` (per site) and
/// `truth_regions.tsv` (per DMR) into `config.out`.
pub fn simulate(config: &SimulateConfig) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.out)
        .with_context(|| format!("creating {}", config.out.display()))?;
    let rendered = render(config);
    let write = |file: &str, text: &str| {
        atomic_write(
            &config.out.join(file),
            |f| Ok(f.write_all(text.as_bytes())?),
        )
    };
    for (name, text) in &rendered.samples {
        write(&format!("{name}.txt"), text)?;
    }
    write("sheet.tsv", &rendered.sheet)?;
    write("truth.tsv", &rendered.truth)?;
    write("truth_regions.tsv", &rendered.regions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::methyl::simulate::files::{
        logit_normal_mean, SAMPLE_HEADER, SITES_PER_BLOCK, TRUTH_HEADER,
    };
    use crate::methyl::simulate::genome::{DMR_SEPARATION, MU_FLOOR};

    /// One row of `truth.tsv`.
    struct Row {
        chr: String,
        pos: u64,
        mu: [f64; 2],
        delta: f64,
        dm: bool,
        region: i64,
    }

    fn rows(truth: &str) -> Vec<Row> {
        let mut lines = truth.lines();
        assert_eq!(lines.next(), Some(TRUTH_HEADER.trim_end()));
        lines
            .map(|line| {
                let f: Vec<&str> = line.split('\t').collect();
                Row {
                    chr: f[0].to_string(),
                    pos: f[1].parse().unwrap(),
                    mu: [f[2].parse().unwrap(), f[3].parse().unwrap()],
                    delta: f[4].parse().unwrap(),
                    dm: f[5] == "1",
                    region: f[6].parse().unwrap(),
                }
            })
            .collect()
    }

    fn config(sites: u32, null_fraction: f64) -> SimulateConfig {
        SimulateConfig {
            sites,
            null_fraction,
            seed: 7,
            ..SimulateConfig::default()
        }
    }

    /// Two runs write the same bytes, and one thread renders what many do (blocks of one
    /// chromosome and several chromosomes); another seed gives another study.
    #[test]
    fn same_seed_same_bytes() {
        let config = SimulateConfig {
            chromosomes: 2,
            ..config(3 * SITES_PER_BLOCK as u32, 0.9)
        };
        let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
        let mut written = Vec::new();
        for dir in &dirs {
            simulate(&SimulateConfig {
                out: dir.path().to_path_buf(),
                ..config.clone()
            })
            .unwrap();
            let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| {
                    let path = e.unwrap().path();
                    let name = path.file_name().unwrap().to_string_lossy().into_owned();
                    (name, std::fs::read(&path).unwrap())
                })
                .collect();
            files.sort();
            written.push(files);
        }
        let names: Vec<&str> = written[0].iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "A1.txt",
                "A2.txt",
                "B1.txt",
                "B2.txt",
                "sheet.tsv",
                "truth.tsv",
                "truth_regions.tsv"
            ]
        );
        assert!(written[0] == written[1], "two runs wrote different bytes");
        let one_thread = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| render(&config));
        let on_disk = |name: &str| &written[0].iter().find(|(n, _)| n == name).unwrap().1;
        assert!(one_thread.truth.as_bytes() == on_disk("truth.tsv").as_slice());
        assert!(one_thread.regions.as_bytes() == on_disk("truth_regions.tsv").as_slice());
        for (name, text) in &one_thread.samples {
            assert!(text.as_bytes() == on_disk(&format!("{name}.txt")).as_slice());
        }
        let other = render(&SimulateConfig { seed: 8, ..config });
        assert_ne!(other.truth, one_thread.truth);
    }

    /// The share of sites outside DMRs is the requested one, to rounding per chromosome and
    /// a last DMR too short to keep.
    #[test]
    fn realised_null_fraction_is_the_requested_one() {
        for null_fraction in [1.0, 0.95, 0.9, 0.7, 0.5] {
            let truth = rows(&render(&config(40_000, null_fraction)).truth);
            let null = truth.iter().filter(|r| !r.dm).count() as f64 / truth.len() as f64;
            assert!(
                (null - null_fraction).abs() < 0.002,
                "asked {null_fraction}, realised {null}"
            );
        }
    }

    /// chr1 ... chrK come in order, each contiguous with an even share of the sites and
    /// strictly increasing positions; the samples' files list the same sites, with counts
    /// within the coverage.
    #[test]
    fn positions_strictly_increase_per_chromosome() {
        let config = SimulateConfig {
            chromosomes: 4,
            coverage: (5, 9),
            ..config(20_003, 0.9)
        };
        let rendered = render(&config);
        let truth = rows(&rendered.truth);
        let mut sizes = vec![0; 4];
        for (i, row) in truth.iter().enumerate() {
            let c: usize = row.chr.strip_prefix("chr").unwrap().parse().unwrap();
            sizes[c - 1] += 1;
            if i > 0 && truth[i - 1].chr == row.chr {
                assert!(truth[i - 1].pos < row.pos, "{}:{}", row.chr, row.pos);
            } else if i > 0 {
                assert_eq!(truth[i - 1].chr, format!("chr{}", c - 1), "order");
            }
        }
        assert_eq!(sizes, [5001, 5001, 5001, 5000]);
        for (_, text) in &rendered.samples {
            let mut lines = text.lines();
            assert_eq!(lines.next(), Some(SAMPLE_HEADER.trim_end()));
            for (line, row) in lines.zip(&truth) {
                let f: Vec<&str> = line.split('\t').collect();
                assert_eq!(
                    (f[0], f[1]),
                    (row.chr.as_str(), row.pos.to_string().as_str())
                );
                let (n, x): (u32, u32) = (f[2].parse().unwrap(), f[3].parse().unwrap());
                assert!((5..=9).contains(&n) && x <= n, "{line}");
            }
        }
    }

    /// DMR sites differ and no other site does; DMRs are runs of neighbouring CpGs of the
    /// asked lengths, kept apart, and truth_regions.tsv describes them.
    #[test]
    fn only_dmr_sites_differ() {
        let config = config(30_000, 0.8);
        let rendered = render(&config);
        let truth = rows(&rendered.truth);
        let mut runs: Vec<(i64, usize, usize)> = Vec::new(); // (region, first row, CpGs)
        for (i, row) in truth.iter().enumerate() {
            assert!(row
                .mu
                .iter()
                .all(|&mu| (MU_FLOOR..=1.0 - MU_FLOOR).contains(&mu)));
            assert_eq!(row.delta, row.mu[1] - row.mu[0]);
            if !row.dm {
                assert_eq!(
                    (row.delta, row.region),
                    (0.0, -1),
                    "{}:{}",
                    row.chr,
                    row.pos
                );
                continue;
            }
            assert!(row.delta != 0.0 && row.delta.abs() <= config.dmr_delta.1);
            match runs.last_mut() {
                Some((region, first, n)) if *region == row.region => {
                    assert_eq!(*first + *n, i, "region {region} not contiguous");
                    *n += 1;
                }
                _ => runs.push((row.region, i, 1)),
            }
        }
        let regions: Vec<Vec<String>> = rendered
            .regions
            .lines()
            .skip(1)
            .map(|l| l.split('\t').map(String::from).collect())
            .collect();
        assert_eq!(regions.len(), runs.len());
        assert!(runs.len() > 100, "{} DMRs", runs.len());
        for (k, ((region, first, n), row)) in runs.iter().zip(&regions).enumerate() {
            assert_eq!(*region, k as i64 + 1, "numbered in genome order");
            let last = &truth[first + n - 1];
            assert_eq!(last.chr, truth[*first].chr, "a DMR on two chromosomes");
            assert_eq!(
                row[1..5],
                [
                    last.chr.clone(),
                    truth[*first].pos.to_string(),
                    last.pos.to_string(),
                    n.to_string()
                ]
            );
            assert!((config.dmr_cpgs.0..=config.dmr_cpgs.1).contains(&(*n as u32)));
            let peak: f64 = row[5].parse().unwrap();
            let deltas = truth[*first..first + n].iter().map(|r| r.delta);
            assert_eq!(peak.abs(), deltas.fold(0.0, |m: f64, d| m.max(d.abs())));
            if k > 0 && truth[runs[k - 1].1].chr == last.chr {
                let previous_end = runs[k - 1].1 + runs[k - 1].2;
                assert!(
                    first - previous_end >= DMR_SEPARATION,
                    "DMRs {k} and {}",
                    k + 1
                );
            }
        }
    }

    /// Group A's levels pile near 0 and 1, in proportion to the blocks, and neighbours are
    /// alike (logit-scale correlation of consecutive CpGs).
    #[test]
    fn levels_are_bimodal_and_correlated() {
        let truth = rows(&render(&config(50_000, 0.9)).truth);
        let n = truth.len() as f64;
        let low = truth.iter().filter(|r| r.mu[0] < 0.3).count() as f64 / n;
        let high = truth.iter().filter(|r| r.mu[0] > 0.7).count() as f64 / n;
        assert!(low + high > 0.9, "low {low}, high {high}");
        assert!(low > 0.1 && high > 0.6, "low {low}, high {high}");
        let pairs: Vec<(f64, f64)> = truth
            .windows(2)
            .filter(|w| w[0].chr == w[1].chr)
            .map(|w| (logit(w[0].mu[0]), logit(w[1].mu[0])))
            .collect();
        let m = pairs.len() as f64;
        let (mx, my) = pairs
            .iter()
            .fold((0.0, 0.0), |(a, b), &(x, y)| (a + x / m, b + y / m));
        let (sxy, sxx, syy) = pairs.iter().fold((0.0, 0.0, 0.0), |(c, u, v), &(x, y)| {
            (
                c + (x - mx) * (y - my),
                u + (x - mx).powi(2),
                v + (y - my).powi(2),
            )
        });
        let correlation = sxy / (sxx * syy).sqrt();
        assert!(correlation > 0.8, "neighbours' correlation {correlation}");
    }

    /// The beta-binomial family: phi per site in the truth, and the samples' mean is mu; the
    /// logit-normal mean lies between mu and 0.5.
    #[test]
    fn noise_families() {
        let config = SimulateConfig {
            noise: Noise::BetaBinomial {
                m0: DEFAULT_PHI.0,
                s0: DEFAULT_PHI.1,
            },
            ..config(2_000, 0.9)
        };
        for line in render(&config).truth.lines().skip(1) {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!((f[2], f[3]), (f[8], f[9]));
            assert!(f[10].parse::<f64>().unwrap() > 0.0);
        }
        for mu in [0.02, 0.1, 0.5, 0.85, 0.98] {
            let mean = logit_normal_mean(mu, DEFAULT_SAMPLE_SD);
            assert!((mean - mu) * (0.5 - mean) >= 0.0, "mu {mu}: mean {mean}");
            assert!((mean - mu).abs() < 0.02, "mu {mu}: mean {mean}");
        }
        assert_eq!(logit_normal_mean(0.3, 0.0), 0.3);
    }
}

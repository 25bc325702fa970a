//! The study's files as text: every sample's reads drawn at every site (coverage,
//! proportion, count), the truth per site and per DMR, and the sample sheet.

use std::fmt::Write as _;
use std::ops::Range;

use rayon::prelude::*;

use crate::methyl::simulate::design::{
    sample_rows, sheet_cells, sheet_header, SampleRow, SiteEffects,
};
use crate::methyl::simulate::genome::{draw_chromosome, Chromosome};
use crate::methyl::simulate::{
    expit, logit, stream, uniform_int, Noise, Purpose, SimulateConfig, GROUPS,
};
use crate::rng::host_variates::{beta, binomial, normal};

/// Sites rendered by one task: large enough to amortise the task, small enough to balance.
pub(super) const SITES_PER_BLOCK: usize = 1 << 16;
/// Step and half-width (in steps) of the grid on which the logit-normal mean is integrated:
/// the trapezoid rule on [-10, 10] is exact to double precision for this smooth integrand.
const MEAN_GRID_STEP: f64 = 0.25;
const MEAN_GRID_STEPS: i32 = 40;

/// E[p] for p = expit(logit(mu) + sd Z): the mean of the samples' proportions, which the
/// logit-normal family pulls toward 0.5. By the trapezoid rule on a grid of Z.
pub(super) fn logit_normal_mean(mu: f64, sd: f64) -> f64 {
    if sd == 0.0 {
        return mu;
    }
    let centre = logit(mu);
    let (mut sum, mut weights) = (0.0, 0.0);
    for k in -MEAN_GRID_STEPS..=MEAN_GRID_STEPS {
        let z = f64::from(k) * MEAN_GRID_STEP;
        let weight = (-0.5 * z * z).exp();
        sum += weight * expit(centre + sd * z);
        weights += weight;
    }
    sum / weights
}

/// The samples' lines and the truth's lines of `sites` of a chromosome; its regions are
/// numbered from `first_region`.
fn render_block(
    config: &SimulateConfig,
    samples: &[SampleRow],
    chromosome: &Chromosome,
    sites: Range<usize>,
    first_region: usize,
) -> (Vec<String>, String) {
    let name = format!("chr{}", chromosome.index + 1);
    let mut files = vec![String::new(); samples.len()];
    let mut truth = String::new();
    let (lo, hi) = config.coverage;
    let designed = !config.design.is_empty();
    // The sd of a sample's logit around its level at the reference, subjects included.
    let subject_sd = config.design.subject_sd.unwrap_or(0.0);
    for i in sites {
        let site = &chromosome.sites[i];
        let effects = designed.then(|| SiteEffects::draw(config, chromosome.index, i));
        let mut rng = stream(config.seed, Purpose::Reads, chromosome.index, i);
        // The site's dispersion in the beta-binomial family; none (NaN) in the logit-normal.
        let phi = match config.noise {
            Noise::BetaBinomial { m0, s0 } => (m0 + s0 * normal(&mut rng)).exp(),
            Noise::LogitNormal { .. } => f64::NAN,
        };
        for (sample, file) in samples.iter().zip(files.iter_mut()) {
            let mu = site.mu[sample.group];
            let shift = effects.as_ref().map_or(0.0, |e| e.shift(sample));
            let n = uniform_int(lo, hi, rng.next_f64());
            let p = match config.noise {
                Noise::LogitNormal { sd } => expit(logit(mu) + shift + sd * normal(&mut rng)),
                Noise::BetaBinomial { .. } => {
                    // No shift keeps mu's own bits: the two-group study's bytes stay as they were.
                    let m = if shift == 0.0 {
                        mu
                    } else {
                        expit(logit(mu) + shift)
                    };
                    beta(m * phi, (1.0 - m) * phi, &mut rng)
                }
            };
            let x = binomial(n, p, &mut rng);
            let _ = writeln!(file, "{name}\t{}\t{n}\t{x}", site.pos);
        }
        let [mu_a, mu_b] = site.mu;
        let mean = |mu: f64| match config.noise {
            Noise::LogitNormal { sd } => logit_normal_mean(mu, sd.hypot(subject_sd)),
            Noise::BetaBinomial { .. } => logit_normal_mean(mu, subject_sd),
        };
        let mean_a = mean(mu_a);
        let mean_b = if mu_b == mu_a { mean_a } else { mean(mu_b) };
        let _ = write!(
            truth,
            "{name}\t{}\t{mu_a}\t{mu_b}\t{}\t{}\t{}\t{}\t{mean_a}\t{mean_b}\t{}",
            site.pos,
            mu_b - mu_a,
            u8::from(site.region.is_some()),
            site.region.map_or(-1, |r| (first_region + r + 1) as i64),
            if site.methylated_block { 'M' } else { 'U' },
            if phi.is_nan() {
                "NA".to_string()
            } else {
                phi.to_string()
            },
        );
        if let Some(effects) = &effects {
            // groupB on the logit scale: exactly 0 where the levels do not differ.
            let group_b = if mu_b == mu_a {
                0.0
            } else {
                logit(mu_b) - logit(mu_a)
            };
            let _ = write!(truth, "\t{group_b}");
            for gamma in &effects.gamma {
                let _ = write!(truth, "\t{gamma}");
            }
        }
        truth.push('\n');
    }
    (files, truth)
}

/// Columns of `truth.tsv`: the first five as the earlier simulator wrote them; `dm` is 1
/// inside a DMR, `region` its id (-1 outside), `state` the block (M methylated, U
/// unmethylated), `mean_A`/`mean_B` the mean of the samples' proportions (the logit-normal
/// family pulls it from mu toward 0.5), `phi` the beta-binomial dispersion (NA otherwise).
/// A study with covariates or pairs adds `<coefficient>_logit` per coefficient.
pub(super) const TRUTH_HEADER: &str =
    "chr\tpos\tmu_A\tmu_B\tdelta\tdm\tregion\tstate\tmean_A\tmean_B\tphi\n";

/// `TRUTH_HEADER`, with the coefficients' columns of a study with covariates or pairs.
fn truth_header(config: &SimulateConfig) -> String {
    if config.design.is_empty() {
        return TRUTH_HEADER.to_string();
    }
    let mut header = TRUTH_HEADER.trim_end().to_string();
    for coefficient in config.design.coefficients() {
        let _ = write!(header, "\t{coefficient}_logit");
    }
    header.push('\n');
    header
}
/// Columns of `truth_regions.tsv`: one DMR a row, in genome order; `start` and `end` are the
/// positions of its first and last CpG, `peak_delta` its signed delta of largest magnitude.
const REGIONS_HEADER: &str = "region\tchr\tstart\tend\tn_cpgs\tpeak_delta\n";
pub(super) const SAMPLE_HEADER: &str = "chr\tpos\tN\tX\n";

/// The text of every file `simulate` writes.
pub(super) struct Rendered {
    /// (sample name, its DSS file's text), A1 ... B<R>.
    pub(super) samples: Vec<(String, String)>,
    pub(super) sheet: String,
    pub(super) truth: String,
    pub(super) regions: String,
}

/// Draws the study and renders its files: chromosomes in parallel, then blocks of sites in
/// parallel, joined in order.
pub(super) fn render(config: &SimulateConfig) -> Rendered {
    let k = config.chromosomes.max(1);
    let chromosomes: Vec<Chromosome> = (0..k)
        .into_par_iter()
        .map(|c| {
            let n = config.sites / k + u32::from(c < config.sites % k);
            draw_chromosome(config, c, n as usize)
        })
        .collect();
    // Regions are numbered 1, 2, ... in genome order.
    let first_region: Vec<usize> = chromosomes
        .iter()
        .scan(0, |next, chromosome| {
            let first = *next;
            *next += chromosome.regions.len();
            Some(first)
        })
        .collect();
    let tasks: Vec<(usize, Range<usize>)> = chromosomes
        .iter()
        .enumerate()
        .flat_map(|(c, chromosome)| {
            let n = chromosome.sites.len();
            (0..n.div_ceil(SITES_PER_BLOCK))
                .map(move |b| (c, b * SITES_PER_BLOCK..n.min((b + 1) * SITES_PER_BLOCK)))
        })
        .collect();
    let rows = sample_rows(config);
    let blocks: Vec<(Vec<String>, String)> = tasks
        .into_par_iter()
        .map(|(c, sites)| render_block(config, &rows, &chromosomes[c], sites, first_region[c]))
        .collect();
    let mut files = vec![String::from(SAMPLE_HEADER); rows.len()];
    let mut truth = truth_header(config);
    for (block_files, block_truth) in blocks {
        for (file, text) in files.iter_mut().zip(block_files) {
            file.push_str(&text);
        }
        truth.push_str(&block_truth);
    }
    let mut regions = String::from(REGIONS_HEADER);
    for (chromosome, first) in chromosomes.iter().zip(first_region) {
        for (r, region) in chromosome.regions.iter().enumerate() {
            let _ = writeln!(
                regions,
                "{}\tchr{}\t{}\t{}\t{}\t{}",
                first + r + 1,
                chromosome.index + 1,
                chromosome.sites[region.cpgs.start].pos,
                chromosome.sites[region.cpgs.end - 1].pos,
                region.cpgs.len(),
                region.peak_delta
            );
        }
    }
    let mut sheet = sheet_header(&config.design);
    let samples = files
        .into_iter()
        .zip(rows)
        .map(|(text, row)| {
            let (name, group) = (&row.name, GROUPS[row.group]);
            let _ = writeln!(sheet, "{name}\t{name}.txt\t{group}{}", sheet_cells(&row));
            (row.name, text)
        })
        .collect();
    Rendered {
        samples,
        sheet,
        truth,
        regions,
    }
}

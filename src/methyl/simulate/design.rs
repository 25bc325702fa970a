//! Covariates and pairing of a simulated study: who is in which group, level and subject
//! (the sheet's rows), and every site's covariate effects and subject offsets (its truth per
//! coefficient). A study without covariates and pairs draws nothing here.
//!
//! Sample j at site s: logit p = logit mu_g(s) + x_j . gamma_s + u_s(subject of j) + noise,
//! where x_j is j's row of the covariates' treatment-coded columns (numeric covariates centred
//! at the middle of their range), gamma_s ~ Normal(0, sd^2) per column, and
//! u_s ~ Normal(0, subject_sd^2) per subject. So mu_A and mu_B are the levels at the
//! reference level of every factor and the centre of every numeric covariate.

use crate::methyl::simulate::{stream, Purpose, SimulateConfig, GROUPS};
use crate::rng::host_variates::normal;

/// What a study adds to the two groups: covariates, and pairing by subject.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Design {
    pub covariates: Vec<Covariate>,
    /// With `--pairs`, the logit-scale sd of a subject's offset at a site, shared by its two
    /// samples (one in A, one in B).
    pub subject_sd: Option<f64>,
}

/// One covariate of the samples (of the subjects, when paired: both samples share it).
#[derive(Debug, Clone, PartialEq)]
pub struct Covariate {
    pub name: String,
    pub kind: CovariateKind,
    /// Logit-scale sd of the per-site effects: of each non-reference level's shift (a factor),
    /// or of the shift across the whole range (a numeric covariate).
    pub effect_sd: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CovariateKind {
    /// Level names, the first the reference; assigned in balance with the groups.
    Factor(Vec<String>),
    /// Uniform on [lo, hi], rounded to two decimals.
    Numeric { lo: f64, hi: f64 },
}

/// Logit-scale sd of a covariate's per-site effects unless given: as large as the
/// replicates' own scatter, so ignoring it costs power, and some sites' effects pass 1.
pub const DEFAULT_COVARIATE_EFFECT: f64 = 0.5;
/// Logit-scale sd of a subject's offsets: larger than the scatter of one subject's samples
/// (0.4), so pairing gains power, as between people against within a person.
pub const DEFAULT_SUBJECT_SD: f64 = 0.5;
/// Numeric values are whole hundredths (k / 100, the double nearest the two-decimal text the
/// sheet holds), so the sheet's value is exactly the one the truth was drawn with.
const NUMERIC_SCALE: f64 = 100.0;

impl Design {
    pub fn is_empty(&self) -> bool {
        self.covariates.is_empty() && self.subject_sd.is_none()
    }

    /// The coefficients' names in R's treatment coding, covariates' columns after `groupB`:
    /// `cellcell2` for a factor `cell`'s level `cell2`, `age` for a numeric `age`.
    pub fn coefficients(&self) -> Vec<String> {
        let mut names = vec![format!("group{}", GROUPS[1])];
        for covariate in &self.covariates {
            match &covariate.kind {
                CovariateKind::Factor(levels) => names.extend(
                    levels[1..]
                        .iter()
                        .map(|level| format!("{}{level}", covariate.name)),
                ),
                CovariateKind::Numeric { .. } => names.push(covariate.name.clone()),
            }
        }
        names
    }
}

/// One row of the sheet: a sample's group, subject and covariates.
#[derive(Debug, Clone)]
pub(super) struct SampleRow {
    pub(super) name: String,
    /// 0 for A, 1 for B.
    pub(super) group: usize,
    /// 0-based subject (`s1` ...) when paired.
    pub(super) subject: Option<usize>,
    /// The sample's covariate columns (treatment-coded factors, centred numerics), in the
    /// order of `Design::coefficients` after `groupB`.
    pub(super) x: Vec<f64>,
    /// The covariates as the sheet writes them.
    pub(super) cells: Vec<String>,
}

/// Levels of every factor for one sample (unit) after `rows`, greedily: the level least used
/// in its group, then least crossed with the levels this sample already has, then least used
/// in the study, then the first. Within a group a factor's counts differ by at most one, and
/// factors cross each other and the groups as evenly as the counts allow.
fn balanced_levels(factors: &[usize], rows: &[(usize, Vec<usize>)], group: usize) -> Vec<usize> {
    let mut chosen: Vec<usize> = Vec::with_capacity(factors.len());
    for (f, &count) in factors.iter().enumerate() {
        let key = |level: usize| {
            let mut within = 0;
            let mut crossed = 0;
            let mut study = 0;
            for (g, levels) in rows {
                if levels[f] == level {
                    within += usize::from(*g == group);
                    study += 1;
                    crossed += (0..f).filter(|&e| levels[e] == chosen[e]).count();
                }
            }
            (within, crossed, study, level)
        };
        chosen.push((0..count).min_by_key(|&l| key(l)).unwrap_or(0));
    }
    chosen
}

/// The study's samples, A1 ... A<R> then B1 ... B<R>. Paired, subject k is A<k+1> and
/// B<k+1>, and its covariates are drawn once and shared.
pub(super) fn sample_rows(config: &SimulateConfig) -> Vec<SampleRow> {
    let design = &config.design;
    let replicates = config.replicates as usize;
    let paired = design.subject_sd.is_some();
    let factors: Vec<usize> = design
        .covariates
        .iter()
        .filter_map(|c| match &c.kind {
            CovariateKind::Factor(levels) => Some(levels.len()),
            CovariateKind::Numeric { .. } => None,
        })
        .collect();
    // (group, factor levels) of every unit drawn so far: a sample, or a subject when paired.
    let mut units: Vec<(usize, Vec<usize>)> = Vec::new();
    let mut rows = Vec::with_capacity(2 * replicates);
    for j in 0..2 * replicates {
        let (group, k) = (j / replicates, j % replicates);
        let unit = if paired { k } else { j };
        if unit == units.len() {
            units.push((group, balanced_levels(&factors, &units, group)));
        }
        let levels = &units[unit].1;
        let (mut x, mut cells) = (Vec::new(), Vec::new());
        let mut next_factor = 0;
        for (c, covariate) in design.covariates.iter().enumerate() {
            match &covariate.kind {
                CovariateKind::Factor(names) => {
                    let level = levels[next_factor];
                    next_factor += 1;
                    x.extend((1..names.len()).map(|l| f64::from(u8::from(l == level))));
                    cells.push(names[level].clone());
                }
                CovariateKind::Numeric { lo, hi } => {
                    let u = stream(config.seed, Purpose::Design, c as u32, unit).next_f64();
                    let value = ((lo + (hi - lo) * u) * NUMERIC_SCALE).round() / NUMERIC_SCALE;
                    x.push(value - 0.5 * (lo + hi));
                    cells.push(format!("{value:.2}"));
                }
            }
        }
        rows.push(SampleRow {
            name: format!("{}{}", GROUPS[group], k + 1),
            group,
            subject: paired.then_some(k),
            x,
            cells,
        });
    }
    rows
}

/// The header of `sheet.tsv`: sample, file, group, then subject when paired and the
/// covariates by name.
pub(super) fn sheet_header(design: &Design) -> String {
    let mut header = String::from("sample\tfile\tgroup");
    if design.subject_sd.is_some() {
        header.push_str("\tsubject");
    }
    for covariate in &design.covariates {
        header.push('\t');
        header.push_str(&covariate.name);
    }
    header.push('\n');
    header
}

/// One sheet line after sample, file and group.
pub(super) fn sheet_cells(row: &SampleRow) -> String {
    let mut line = String::new();
    if let Some(k) = row.subject {
        line.push_str(&format!("\ts{}", k + 1));
    }
    for cell in &row.cells {
        line.push('\t');
        line.push_str(cell);
    }
    line
}

/// A site's covariate effects (per unit of each column, on the logit scale) and each
/// subject's offset.
pub(super) struct SiteEffects {
    pub(super) gamma: Vec<f64>,
    subject: Vec<f64>,
}

impl SiteEffects {
    /// From the site's own stream: the columns' effects in order, then the subjects' offsets.
    pub(super) fn draw(config: &SimulateConfig, chromosome: u32, site: usize) -> SiteEffects {
        let mut rng = stream(config.seed, Purpose::Effects, chromosome, site);
        let mut gamma = Vec::new();
        for covariate in &config.design.covariates {
            match &covariate.kind {
                CovariateKind::Factor(levels) => {
                    gamma.extend((1..levels.len()).map(|_| covariate.effect_sd * normal(&mut rng)))
                }
                // The sd is of the shift across the range; the coefficient is per unit.
                CovariateKind::Numeric { lo, hi } => {
                    gamma.push(covariate.effect_sd * normal(&mut rng) / (hi - lo));
                }
            }
        }
        let subject = match config.design.subject_sd {
            Some(sd) => (0..config.replicates)
                .map(|_| sd * normal(&mut rng))
                .collect(),
            None => Vec::new(),
        };
        SiteEffects { gamma, subject }
    }

    /// The sample's logit-scale shift from its group's level.
    pub(super) fn shift(&self, row: &SampleRow) -> f64 {
        let covariates: f64 = self.gamma.iter().zip(&row.x).map(|(g, x)| g * x).sum();
        covariates + row.subject.map_or(0.0, |k| self.subject[k])
    }
}

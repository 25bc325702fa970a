//! A study's design (`methyl --design`): the sheet's columns through a formula
//! (`mcmc::design`), the tested coefficient or contrast, and the two levels at which the
//! chains record mu, whose difference is delta.
//!
//! The sampler wants the tested quantity as the last coefficient. A coefficient is moved
//! there; a contrast L·beta becomes a coefficient by the change of basis b = A beta, where A
//! is the identity with row k (the contrast's largest weight) replaced by L, so the design's
//! columns become X A^-1 and every other coefficient keeps its meaning and its prior.

use crate::error::UserError;
use crate::kernels::regression_layout::{RegressionDesign, MAX_COEFS};
use crate::kernels::site_layout::MAX_GROUPS;
use crate::mcmc::design::{parse_contrast, Design};
use crate::methyl::sheet::SampleSheet;

/// What `--design` asks.
#[derive(Debug, Clone, PartialEq)]
pub struct DesignRequest {
    pub formula: String,
    pub tested: Tested,
}

/// The tested quantity: one coefficient by R's name, or a linear combination of them.
#[derive(Debug, Clone, PartialEq)]
pub enum Tested {
    Coef(String),
    Contrast(String),
    /// A joint test that any level of a factor with more than two levels differs.
    Term(String),
}

/// The design a run fits.
pub struct StudyDesign {
    pub design: Design,
    pub model: RegressionDesign,
    /// The two recorded levels (reference, then tested): sites.parquet's mu columns.
    pub levels: Vec<String>,
    /// The tested coefficient's name, or "contrast": sites.parquet's `<name>_mean` ...
    pub tested_name: String,
    /// The tested quantity as weights on the design's coefficients.
    pub weights: Vec<f64>,
    /// The sampler's coefficients as the design's: the tested one last.
    pub order: Vec<usize>,
}

impl StudyDesign {
    pub fn new(
        sheet: &SampleSheet,
        request: &DesignRequest,
        threshold: f64,
    ) -> Result<StudyDesign, UserError> {
        let design = Design::build(&request.formula, &sheet.table())?;
        let k = design.n_cols();
        if k > MAX_COEFS {
            return Err(UserError(format!(
                "--design {:?}: {k} coefficients; at most {MAX_COEFS} are supported",
                request.formula
            )));
        }
        let (weights, tested_name) = match &request.tested {
            Tested::Term(label) => return joint_test(design, label, threshold),
            Tested::Coef(name) => {
                let c = design.coefficient(name)?;
                let mut w = vec![0.0; k];
                w[c] = 1.0;
                (w, name.clone())
            }
            Tested::Contrast(expr) => (parse_contrast(expr, &design)?, "contrast".to_string()),
        };
        if weights[0] != 0.0 {
            return Err(UserError(
                "--coef/--contrast: the intercept is the reference level, not an effect; test a difference of the other coefficients".to_string(),
            ));
        }
        if weights.iter().all(|w| *w == 0.0) {
            return Err(UserError("--contrast: every weight is 0".to_string()));
        }
        let (reference, tested_row, levels) = level_rows(&design, &weights, &tested_name);
        // The pivot: the contrast's largest weight becomes the tested coefficient.
        let pivot = (1..k)
            .max_by(|&a, &b| weights[a].abs().total_cmp(&weights[b].abs()))
            .expect("a weight is nonzero");
        let order: Vec<usize> = (0..k).filter(|&c| c != pivot).chain([pivot]).collect();
        // A row of X (or a level) in the new basis, in the new order.
        let transform = |row: &[f64]| -> Vec<f64> {
            let scaled = row[pivot] / weights[pivot];
            order
                .iter()
                .map(|&c| {
                    if c == pivot {
                        scaled
                    } else {
                        row[c] - scaled * weights[c]
                    }
                })
                .collect()
        };
        let n = design.n_rows;
        let x: Vec<f64> = (0..n).flat_map(|j| transform(design.row(j))).collect();
        let model = RegressionDesign::new(
            &x,
            n,
            k,
            k - 1,
            &[transform(&reference), transform(&tested_row)],
            (0, 1),
            threshold,
        )
        .ok_or_else(|| {
            UserError(format!(
                "--design {:?}: the design is not of full rank",
                request.formula
            ))
        })?;
        Ok(StudyDesign {
            design,
            model,
            levels,
            tested_name,
            weights,
            order,
        })
    }

    /// The design for a Parquet footer: formula, coefficients, each sample's row, and what is tested.
    pub fn footer_json(&self, samples: &[String]) -> String {
        let weights: Vec<String> = self.weights.iter().map(|w| w.to_string()).collect();
        format!(
            "{{\"design\":{},\"tested\":\"{}\",\"weights\":[{}],\"levels\":[\"{}\"]}}",
            self.design.to_json(samples),
            self.tested_name.replace('"', "\\\""),
            weights.join(","),
            self.levels.join("\",\"").replace('\\', "\\\\")
        )
    }
}

/// The two rows at which delta compares mu, and their names: the other coefficients at their
/// reference (a factor's first level; a numeric covariate at its mean over the samples),
/// then the tested quantity off and on. A numeric coefficient tested alone goes from the
/// smallest to the largest value in the sheet, so delta is its effect across the study.
fn level_rows(design: &Design, weights: &[f64], name: &str) -> (Vec<f64>, Vec<f64>, Vec<String>) {
    let k = design.n_cols();
    let n = design.n_rows;
    let column = |c: usize| (0..n).map(move |j| design.row(j)[c]);
    let base = base_row(design);
    let single = weights.iter().filter(|w| **w != 0.0).count() == 1;
    let c = (0..k).find(|&c| weights[c] != 0.0).unwrap_or(0);
    let term = design.terms.iter().find(|t| t.columns.contains(&c));
    let (mut reference, mut tested) = (base.clone(), base);
    if single && term.is_some_and(|t| !t.is_factor && t.variables.len() == 1) {
        let lo = column(c).fold(f64::INFINITY, f64::min);
        let hi = column(c).fold(f64::NEG_INFINITY, f64::max);
        reference[c] = lo;
        tested[c] = hi;
        let names = vec![format!("{name}={lo}"), format!("{name}={hi}")];
        return (reference, tested, names);
    }
    for (c, &w) in weights.iter().enumerate() {
        if w < 0.0 {
            reference[c] -= w;
        } else {
            tested[c] += w;
        }
    }
    // A factor's level against its reference: the levels' names, as DSS users read them.
    if let Some(t) =
        term.filter(|t| single && weights[c] == 1.0 && t.is_factor && t.levels.len() > 1)
    {
        let level = &t.levels[1 + c - t.columns.start];
        return (reference, tested, vec![t.levels[0].clone(), level.clone()]);
    }
    (
        reference,
        tested,
        vec!["reference".to_string(), name.to_string()],
    )
}

/// The design's row at the reference: the intercept, every factor (and every term with one)
/// at its reference level, every numeric covariate at its mean over the samples.
fn base_row(design: &Design) -> Vec<f64> {
    let n = design.n_rows;
    let factors: Vec<&str> = design
        .terms
        .iter()
        .filter(|t| t.is_factor && t.variables.len() == 1)
        .map(|t| t.variables[0].as_str())
        .collect();
    let mut base = vec![0.0; design.n_cols()];
    base[0] = 1.0;
    for term in &design.terms {
        if term.variables.iter().any(|v| factors.contains(&v.as_str())) {
            continue; // zero at a factor's reference level
        }
        for c in term.columns.clone() {
            base[c] = (0..n).map(|j| design.row(j)[c]).sum::<f64>() / n as f64;
        }
    }
    base
}

/// `--test TERM`: the factor's every non-reference coefficient tested at once (the block last),
/// its levels recorded, and P(delta > d) counting the levels' means spanning more than d.
fn joint_test(design: Design, label: &str, threshold: f64) -> Result<StudyDesign, UserError> {
    let term = design.term(label)?;
    if !term.is_factor || term.variables.len() != 1 {
        let names = design.names[term.columns.clone()].join(", ");
        return Err(UserError(format!(
            "--test {label}: a joint test is of one factor's levels, and {label} is not a \
             factor; test its coefficients one at a time with --coef ({names})"
        )));
    }
    let block = term.columns.clone();
    if block.len() < 2 {
        return Err(UserError(format!(
            "--test {label}: {label} has two levels; test its coefficient with --coef {}",
            design.names[block.start]
        )));
    }
    if term.levels.len() > MAX_GROUPS {
        return Err(UserError(format!(
            "--test {label}: {} levels; at most {MAX_GROUPS} are supported",
            term.levels.len()
        )));
    }
    let level_names = term.levels.clone();
    let (k, n) = (design.n_cols(), design.n_rows);
    let order: Vec<usize> = (0..k)
        .filter(|c| !block.contains(c))
        .chain(block.clone())
        .collect();
    let permute = |row: &[f64]| -> Vec<f64> { order.iter().map(|&c| row[c]).collect() };
    let base = base_row(&design);
    let levels: Vec<Vec<f64>> = (0..=block.len())
        .map(|l| {
            let mut row = base.clone();
            if l > 0 {
                row[block.start + l - 1] = 1.0;
            }
            permute(&row)
        })
        .collect();
    let x: Vec<f64> = (0..n).flat_map(|j| permute(design.row(j))).collect();
    let mut model = RegressionDesign::new(&x, n, k, k - block.len(), &levels, (0, 1), threshold)
        .ok_or_else(|| UserError(format!("--test {label}: the design is not of full rank")))?;
    model.joint = true;
    let mut weights = vec![0.0; k];
    for c in block.clone() {
        weights[c] = 1.0;
    }
    Ok(StudyDesign {
        levels: level_names,
        tested_name: design.names[block.start].clone(),
        model,
        weights,
        order,
        design,
    })
}

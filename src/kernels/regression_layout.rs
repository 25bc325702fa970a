//! The site regression's inputs and outputs (`shaders/site_regression.wgsl` and its twin
//! `cpu::site_regression`): the design in the orthogonal basis the sampler moves in, each
//! chain's priors, and the per-(site, chain) state. `RegressionShape` and `RegressionHyper`
//! are shared byte for byte with the shader (build.rs checks them), as are the constants.

use bytemuck::{Pod, Zeroable};

use crate::kernels::site_layout::{SiteHyper, MAX_GROUPS};

/// Most coefficients of a design, the intercept included (issue 15 asks for 16).
pub const MAX_COEFS: usize = 16;
/// Floats of state per (site, chain): the coordinates gamma, log phi, the tested block's
/// state (1: it differs from 0), the log likelihood there, the accepted model jumps since the
/// chain's start (a dispatch that goes on from the state adds to them), and the three
/// recycled sums of P(delta > d), P(delta < -d) and P(the block differs).
pub const REG_STATE_STRIDE: usize = MAX_COEFS + 7;
pub const REG_STATE_LOG_PHI: usize = MAX_COEFS;
pub(crate) const REG_STATE_DIFFER: usize = MAX_COEFS + 1;
/// The log likelihood at the state: a dispatch that goes on from it, and stage 1's joint moves,
/// read it instead of making a pass.
pub const REG_STATE_LOG_LIKELIHOOD: usize = MAX_COEFS + 2;
pub(crate) const REG_STATE_ACCEPTED: usize = MAX_COEFS + 3;
/// The three recycled sums.
pub const REG_STATE_RECYCLED: usize = MAX_COEFS + 4;
/// Below this pivot, relative to its column's norm, a column is a combination of the ones
/// before it: the design is not of full rank (the design module names the terms first).
const RANK_TOLERANCE: f64 = 1e-9;

/// The design as the sampler takes it. The coefficients are ordered intercept first, the
/// tested block last; `x = Q R` (thin QR), and the chains move gamma = R beta, whose
/// coordinates are orthogonal in the design's unweighted metric, so one coordinate at a time
/// mixes where correlated columns (an intercept and a group's dummy) would not. R is upper
/// triangular, so beta's tested block is 0 exactly when gamma's is.
#[derive(Debug, Clone)]
pub struct RegressionDesign {
    pub n_coefs: usize,
    pub n_samples: usize,
    /// Q, n_samples x n_coefs row-major: a sample's logit mean is its row times gamma.
    pub basis: Vec<f32>,
    /// R^-1, n_coefs x n_coefs row-major: beta = R^-1 gamma.
    pub to_beta: Vec<f32>,
    /// The tested block is `tested..n_coefs`.
    pub tested: usize,
    /// ln |det R| of the tested block: the Jacobian between its beta and gamma.
    pub ln_det_tested: f32,
    /// Rows of logit mu at which the chains record mu (G x n_coefs, in beta's order): the
    /// levels delta compares, where they differ only in the tested block.
    pub levels: Vec<f32>,
    pub n_levels: usize,
    /// delta = mu[compare.1] - mu[compare.0].
    pub compare: (usize, usize),
    pub threshold: f32,
    /// A joint test of a factor's levels (the tested block): the first recycled sum counts
    /// the levels' means spanning more than d, the second none.
    pub joint: bool,
    /// Per row, the index of the first row equal to it (in `shared_rows`): samples in the
    /// same cell of a factor design share their mu, which the CPU's lanes compute once.
    pub row_class: Vec<u32>,
    /// The first row of each class, in order.
    pub shared_rows: Vec<usize>,
}

impl RegressionDesign {
    /// From x (n_samples x n_coefs, row-major, intercept first and the tested block last),
    /// the recorded levels (rows in beta's order) and the compared pair; None when x's
    /// columns are not independent.
    pub fn new(
        x: &[f64],
        n_samples: usize,
        n_coefs: usize,
        tested: usize,
        levels: &[Vec<f64>],
        compare: (usize, usize),
        threshold: f64,
    ) -> Option<RegressionDesign> {
        assert!(n_coefs <= MAX_COEFS && levels.len() <= MAX_GROUPS && tested < n_coefs);
        let (mut row_class, mut shared_rows) = (Vec::with_capacity(n_samples), Vec::new());
        for j in 0..n_samples {
            let row = &x[j * n_coefs..][..n_coefs];
            let same = shared_rows
                .iter()
                .position(|&i: &usize| x[i * n_coefs..][..n_coefs] == *row);
            row_class.push(same.unwrap_or_else(|| {
                shared_rows.push(j);
                shared_rows.len() - 1
            }) as u32);
        }
        // Modified Gram–Schmidt on the columns, in order.
        let mut q = x.to_vec();
        let mut r = vec![0.0f64; n_coefs * n_coefs];
        for k in 0..n_coefs {
            let norm0 = (0..n_samples)
                .map(|j| x[j * n_coefs + k].powi(2))
                .sum::<f64>()
                .sqrt();
            for i in 0..k {
                let dot: f64 = (0..n_samples)
                    .map(|j| q[j * n_coefs + i] * q[j * n_coefs + k])
                    .sum();
                r[i * n_coefs + k] = dot;
                for j in 0..n_samples {
                    q[j * n_coefs + k] -= dot * q[j * n_coefs + i];
                }
            }
            let norm = (0..n_samples)
                .map(|j| q[j * n_coefs + k].powi(2))
                .sum::<f64>()
                .sqrt();
            if norm.is_nan() || norm <= RANK_TOLERANCE * norm0.max(1.0) {
                return None;
            }
            r[k * n_coefs + k] = norm;
            for j in 0..n_samples {
                q[j * n_coefs + k] /= norm;
            }
        }
        // R^-1 by back substitution, column by column.
        let mut inv = vec![0.0f64; n_coefs * n_coefs];
        for c in 0..n_coefs {
            for i in (0..=c).rev() {
                let mut v = if i == c { 1.0 } else { 0.0 };
                for k in i + 1..=c {
                    v -= r[i * n_coefs + k] * inv[k * n_coefs + c];
                }
                inv[i * n_coefs + c] = v / r[i * n_coefs + i];
            }
        }
        let ln_det_tested = (tested..n_coefs)
            .map(|k| r[k * n_coefs + k].ln())
            .sum::<f64>();
        Some(RegressionDesign {
            n_coefs,
            n_samples,
            basis: q.iter().map(|&v| v as f32).collect(),
            to_beta: inv.iter().map(|&v| v as f32).collect(),
            tested,
            ln_det_tested: ln_det_tested as f32,
            levels: levels.iter().flatten().map(|&v| v as f32).collect(),
            n_levels: levels.len(),
            compare,
            threshold: threshold as f32,
            joint: false,
            row_class,
            shared_rows,
        })
    }

    /// Values recorded per draw: each level's mu, then the tested coefficient (the first of
    /// the block) on the logit scale.
    pub fn draw_slots(&self) -> usize {
        self.n_levels + 1
    }
}

/// One chain's priors of a site: the level, dispersion, spike and slab of `SiteHyper` (the
/// intercept's inverse logit ~ Beta(a, b); the tested block is 0 with probability
/// e^log_same, else each of its coefficients is tau times a Student-t(SLAB_DOF)); and each
/// other coefficient k a Student-t(NUISANCE_DOF) with scale `nuisance_scale[k]` in logit.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Pod, Zeroable)]
pub struct RegressionHyper {
    pub site: SiteHyper,
    pub nuisance_scale: [f32; MAX_COEFS],
}

/// Degrees of freedom of the other coefficients' Student-t priors: weakly informative, with
/// tails that let one site's large cell-type or subject effect through.
pub const NUISANCE_DOF: f32 = 4.0;

/// The design's sizes and what the recycled sums compare, as the shader takes them
/// (RegressionShape in site_regression.wgsl: build.rs checks it).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Pod, Zeroable)]
pub struct RegressionShape {
    pub n_coefs: u32,
    pub n_rows: u32,
    pub tested: u32,
    pub n_levels: u32,
    pub compare_first: u32,
    pub compare_second: u32,
    /// Nonzero: a joint test of the tested block (`RegressionDesign::joint`).
    pub joint: u32,
    pub threshold: f32,
    pub ln_det_tested: f32,
    pub _pad: [u32; 3],
}

impl RegressionDesign {
    /// The shader's uniform of this design.
    pub fn shape(&self) -> RegressionShape {
        RegressionShape {
            n_coefs: self.n_coefs as u32,
            n_rows: self.n_samples as u32,
            tested: self.tested as u32,
            n_levels: self.n_levels as u32,
            compare_first: self.compare.0 as u32,
            compare_second: self.compare.1 as u32,
            joint: u32::from(self.joint),
            threshold: self.threshold,
            ln_det_tested: self.ln_det_tested,
            _pad: [0; 3],
        }
    }

    /// The shader's design buffer: Q, then R^-1, then the recorded levels, row-major.
    pub fn matrices(&self) -> Vec<f32> {
        [&self.basis[..], &self.to_beta, &self.levels].concat()
    }
}

/// Outputs of one dispatch of the site regression.
pub struct RegressionOutputs {
    /// Per (site, chain): REG_STATE_STRIDE floats.
    pub state: Vec<f32>,
    /// Per (site, chain, draw of the run, slot): `draw_slots` values.
    pub draws: Vec<f32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_reproduces_the_design_and_inverts_r() {
        // Intercept, a dummy and a number, 5 samples.
        let x = [
            1.0, 0.0, 2.0, 1.0, 1.0, 3.0, 1.0, 0.0, 5.0, 1.0, 1.0, 1.0, 1.0, 1.0, 4.0,
        ];
        let d = RegressionDesign::new(&x, 5, 3, 1, &[], (0, 0), 0.1).unwrap();
        let beta = [0.3f64, -1.2, 0.7];
        // gamma = R beta, recovered as R^-1 gamma = beta; x beta = Q gamma.
        let eta: Vec<f64> = (0..5)
            .map(|j| (0..3).map(|k| x[j * 3 + k] * beta[k]).sum())
            .collect();
        // gamma = Q' eta (Q orthonormal).
        let gamma: Vec<f64> = (0..3)
            .map(|k| (0..5).map(|j| f64::from(d.basis[j * 3 + k]) * eta[j]).sum())
            .collect();
        for (i, want) in beta.iter().enumerate() {
            let b: f64 = (0..3)
                .map(|k| f64::from(d.to_beta[i * 3 + k]) * gamma[k])
                .sum();
            assert!((b - want).abs() < 1e-5, "{i}: {b} vs {want}");
        }
        // Dependent columns: refused.
        let y = [1.0, 2.0, 1.0, 2.0, 1.0, 2.0];
        assert!(RegressionDesign::new(&y, 3, 2, 1, &[], (0, 0), 0.1).is_none());
    }
}

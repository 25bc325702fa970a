//! The directions the slice sampler moves along and their widths, adapted in warm-up.
//!
//! First the columns of R⁻¹ from the design's QR (scaled so Q has unit mean square): the
//! coefficients' combinations that the design itself makes uncorrelated. Halfway through
//! warm-up the directions become the Cholesky factor of the covariance of the draws since a
//! quarter of warm-up, which also undoes the correlations the weights of the likelihood and
//! log kappa bring. After warm-up directions and widths are fixed, so each update along a
//! direction leaves the posterior invariant.

use super::linalg::{cholesky, invert_lower, invert_upper};
use super::target::Target;
use crate::mcmc::slice::{RunningVariance, WIDTH_PER_SD};

/// Slice width along a direction before warm-up has measured the sd there: the directions
/// are scaled so that the posterior sd along them is of order one.
const INITIAL_WIDTH: f64 = 1.0;
/// Warm-up sweeps on a basis before its widths follow the measured sd.
const ADAPT_AFTER: u32 = 20;
/// Fewest draws per dimension to estimate the covariance from; with fewer (a short warm-up)
/// the QR directions are kept.
const COVARIANCE_DRAWS_PER_DIM: usize = 10;

/// Directions (columns of `dirs`), their inverse (coordinates of a state), images under the
/// design, widths and the warm-up statistics of the coordinates.
pub(super) struct Basis {
    d: usize,
    /// d × d row-major; column k is direction k.
    dirs: Vec<f64>,
    inverse: Vec<f64>,
    images: Vec<Vec<f64>>,
    widths: Vec<f64>,
    stats: Vec<RunningVariance>,
}

impl Basis {
    fn new(target: &Target, dirs: Vec<f64>, inverse: Vec<f64>) -> Basis {
        let d = target.cols + 1;
        let images = (0..d)
            .map(|k| {
                let beta_part: Vec<f64> = (0..target.cols).map(|j| dirs[j * d + k]).collect();
                target.image(&beta_part)
            })
            .collect();
        Basis {
            d,
            dirs,
            inverse,
            images,
            widths: vec![INITIAL_WIDTH; d],
            stats: vec![RunningVariance::default(); d],
        }
    }

    /// The QR basis: direction j < cols is column j of R*⁻¹ (X = Q* R*, Q* with unit mean
    /// square), so X moves along column j of Q*; the last direction is log kappa.
    pub(super) fn from_qr(target: &Target, r_star: &[f64]) -> Basis {
        let (p, d) = (target.cols, target.cols + 1);
        let r_inv = invert_upper(r_star, p);
        let mut dirs = vec![0.0; d * d];
        let mut inverse = vec![0.0; d * d];
        for i in 0..p {
            for j in 0..p {
                dirs[i * d + j] = r_inv[i * p + j];
                inverse[i * d + j] = r_star[i * p + j];
            }
        }
        dirs[d * d - 1] = 1.0;
        inverse[d * d - 1] = 1.0;
        Basis::new(target, dirs, inverse)
    }

    /// The basis of the draws' covariance, or None when there are too few draws or the
    /// covariance is singular (a chain that has not moved).
    pub(super) fn from_draws(target: &Target, draws: &[Vec<f64>]) -> Option<Basis> {
        let d = target.cols + 1;
        if draws.len() < COVARIANCE_DRAWS_PER_DIM * d {
            return None;
        }
        let m = draws.len() as f64;
        let mean: Vec<f64> = (0..d)
            .map(|i| draws.iter().map(|t| t[i]).sum::<f64>() / m)
            .collect();
        let mut cov = vec![0.0; d * d];
        for t in draws {
            for i in 0..d {
                for j in 0..d {
                    cov[i * d + j] += (t[i] - mean[i]) * (t[j] - mean[j]) / (m - 1.0);
                }
            }
        }
        let l = cholesky(&cov, d)?;
        let inverse = invert_lower(&l, d);
        Some(Basis::new(target, l, inverse))
    }

    pub(super) fn dims(&self) -> usize {
        self.d
    }

    /// Direction k as a vector of (beta, eta).
    pub(super) fn direction(&self, k: usize) -> Vec<f64> {
        (0..self.d).map(|i| self.dirs[i * self.d + k]).collect()
    }

    pub(super) fn image(&self, k: usize) -> &[f64] {
        &self.images[k]
    }

    pub(super) fn width(&self, k: usize) -> f64 {
        self.widths[k]
    }

    /// Warm-up: record the state's coordinates in this basis and let the widths follow
    /// their sd.
    pub(super) fn observe(&mut self, th: &[f64]) {
        for k in 0..self.d {
            let z: f64 = (0..self.d)
                .map(|j| self.inverse[k * self.d + j] * th[j])
                .sum();
            let stats = &mut self.stats[k];
            stats.push(z);
            if stats.count() >= f64::from(ADAPT_AFTER) && stats.sd() > 0.0 {
                self.widths[k] = WIDTH_PER_SD * stats.sd();
            }
        }
    }
}

//! The log posterior of (beta, log kappa), thetas integrated out, and its restriction to a
//! line: the slice sampler moves along one direction at a time, and the linear predictor
//! moves along the direction's image under the design, so a point costs O(rows + cols).

use super::likelihood::row_log_lik;
use super::prior::{log_prior_coef, log_prior_log_kappa};

/// The data and priors of one regression; the state is th = (beta, eta = log kappa).
pub(super) struct Target<'a> {
    pub(super) x: &'a [f64],
    pub(super) rows: usize,
    pub(super) cols: usize,
    pub(super) y: &'a [u32],
    pub(super) n: &'a [u32],
    /// Each coefficient's prior scale.
    pub(super) scales: Vec<f64>,
}

impl Target<'_> {
    /// The linear predictor X beta of the state `th`.
    pub(super) fn linear_predictor(&self, th: &[f64]) -> Vec<f64> {
        self.image(&th[..self.cols])
    }

    /// X v for a vector `v` of coefficients.
    pub(super) fn image(&self, v: &[f64]) -> Vec<f64> {
        super::linalg::mat_vec(self.x, self.rows, self.cols, v)
    }

    /// Log posterior at th + t dir, given lin = X beta of th and image = X dir[..cols].
    pub(super) fn along(&self, th: &[f64], lin: &[f64], dir: &[f64], image: &[f64], t: f64) -> f64 {
        let eta = th[self.cols] + t * dir[self.cols];
        let kappa = eta.exp();
        if !kappa.is_finite() || kappa <= 0.0 {
            return f64::NEG_INFINITY;
        }
        let mut total = log_prior_log_kappa(eta);
        for j in 0..self.cols {
            total += log_prior_coef(th[j] + t * dir[j], self.scales[j]);
        }
        for i in 0..self.rows {
            total += row_log_lik(self.y[i], self.n[i], lin[i] + t * image[i], kappa);
            if total == f64::NEG_INFINITY {
                break;
            }
        }
        total
    }

    /// Log posterior at th itself.
    pub(super) fn at(&self, th: &[f64], lin: &[f64]) -> f64 {
        self.along(th, lin, &vec![0.0; th.len()], &vec![0.0; self.rows], 0.0)
    }
}

//! Theta draws given what a rung estimated: conjugate Beta draws per unit for one
//! (alpha, beta) per draw, or complete pooling's one theta for every unit.

use crate::rng::host_variates::beta as beta_variate;
use crate::rng::{Stream, UniformStream};

use super::data::totals;
use super::estimator::{Estimator, POOLED_UNIT, SWEEP_THETA};

/// Draws of theta_i ~ Beta(alpha_d + y_i, beta_d + n_i - y_i), one per (alpha_d, beta_d).
pub(super) fn conjugate_thetas(
    y: &[u32],
    n: &[u32],
    alpha_beta: &[[f64; 2]],
    seed: u32,
    estimator: Estimator,
) -> Vec<Vec<f64>> {
    y.iter()
        .zip(n)
        .enumerate()
        .map(|(i, (&yi, &ni))| {
            let mut rng = UniformStream::new(
                seed,
                0,
                estimator.stream_index(),
                i as u32,
                SWEEP_THETA,
                Stream::Ladder,
            );
            let (a, b) = (f64::from(yi), f64::from(ni - yi));
            alpha_beta
                .iter()
                .map(|&[al, be]| beta_variate(al + a, be + b, &mut rng))
                .collect()
        })
        .collect()
}

/// Complete-pooling draws: one theta, the same draws for every unit.
pub(super) fn pooled_thetas(
    y: &[u32],
    n: &[u32],
    draws: usize,
    seed: u32,
    estimator: Estimator,
) -> Vec<Vec<f64>> {
    let (sy, sn) = totals(y, n);
    let mut rng = UniformStream::new(
        seed,
        0,
        estimator.stream_index(),
        POOLED_UNIT,
        SWEEP_THETA,
        Stream::Ladder,
    );
    let theta: Vec<f64> = (0..draws)
        .map(|_| beta_variate(1.0 + sy, 1.0 + sn - sy, &mut rng))
        .collect();
    vec![theta; y.len()]
}

//! The collapsed update's state per (chain, unit): its random walk and the log marginal
//! at its current z, summed from the device's per-piece values.

use rayon::prelude::*;

use crate::mcmc::batch::Batch;
use crate::mcmc::metropolis::RandomWalk;

/// Per (chain, unit) state of the collapsed update.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct CollapsedState {
    pub(super) walk: RandomWalk,
    /// Beta-binomial log marginal of the unit's data at the current z (f64 sum of f32 pieces).
    pub(super) loglik: f64,
}

/// Sum each (chain, unit)'s pieces in f64.
pub(super) fn unit_sums(batch: &Batch, n_chains: usize, pieces: &[f32], out: &mut [f64]) {
    let n_pieces = batch.pieces.len();
    let n_units = batch.n_units();
    out.par_iter_mut()
        .with_min_len(64)
        .enumerate()
        .for_each(|(i, sum)| {
            let (chain, unit) = (i / n_units, i % n_units);
            let range = batch.unit_pieces[unit] as usize..batch.unit_pieces[unit + 1] as usize;
            *sum = pieces[chain * n_pieces..][range]
                .iter()
                .map(|&v| f64::from(v))
                .sum();
        });
    debug_assert_eq!(out.len(), n_chains * n_units);
}

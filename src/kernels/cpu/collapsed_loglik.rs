//! CPU twin of `shaders/collapsed_loglik.wgsl`: each piece's beta-binomial log likelihood
//! at every chain's (alpha, beta), on all cores.

use rayon::prelude::*;

use crate::kernels::cpu::betabinom::beta_binomial_log_ratio;
use crate::kernels::cpu::PIECES_PER_TASK;
use crate::kernels::layout::{Observation, Piece, ThetaParams};

/// Run collapsed_loglik for every (chain, piece) of `params`: `loglik[chain * n_pieces + p]`
/// is piece p's sum of ln B(y + alpha, n - y + beta) - ln B(alpha, beta) at the chain's
/// (alpha, beta) for the piece's unit, added in observation order as the shader adds it.
pub fn collapsed_loglik(
    params: &ThetaParams,
    observations: &[Observation],
    pieces: &[Piece],
    hyper: &[[f32; 2]],
    loglik: &mut [f32],
) {
    let n_pieces = params.n_pieces as usize;
    let n_units = params.n_units as usize;
    assert_eq!(pieces.len(), n_pieces);
    assert_eq!(loglik.len(), params.n_chains as usize * n_pieces);
    assert_eq!(hyper.len(), params.n_chains as usize * n_units);
    loglik
        .par_chunks_mut(PIECES_PER_TASK)
        .enumerate()
        .for_each(|(task, out)| {
            for (k, sum) in out.iter_mut().enumerate() {
                let invocation = task * PIECES_PER_TASK + k;
                let (chain, piece) = (invocation / n_pieces, &pieces[invocation % n_pieces]);
                let [a, b] = hyper[chain * n_units + piece.unit as usize];
                let first = piece.first_obs as usize;
                *sum = observations[first..first + piece.n_obs as usize]
                    .iter()
                    .fold(0.0f32, |acc, o| {
                        acc + beta_binomial_log_ratio(o.successes as f32, o.trials as f32, a, b)
                    });
            }
        });
}

//! CPU twin of `shaders/theta_update.wgsl`: the same per-invocation arithmetic on
//! the same bytes (src/layout.rs), run on all cores with rayon.

use rayon::prelude::*;

use crate::layout::{Observation, Piece, ThetaParams};
use crate::variates::{log_beta_variate, DrawSite};

/// Pieces handed to one rayon task: large enough to amortise scheduling, small enough to balance.
const PIECES_PER_TASK: usize = 256;

/// One invocation of theta_update.wgsl's `main`: draw the piece's thetas, return the log sums.
#[inline]
fn update_piece(
    params: &ThetaParams,
    observations: &[Observation],
    piece: &Piece,
    chain: u32,
    shapes: [f32; 2],
    mut theta_out: Option<&mut [f32]>,
) -> [f32; 2] {
    let mut sums = [0.0f32; 2];
    for k in 0..piece.n_obs {
        let o = piece.first_obs + k;
        let obs = observations[o as usize];
        let site = DrawSite {
            key: [params.seed, params.chain_offset + chain],
            index: o - piece.unit_first_obs,
            unit: params.unit_offset + piece.unit,
            sweep: params.sweep,
        };
        let logs = log_beta_variate(
            shapes[0] + obs.successes as f32,
            shapes[1] + (obs.trials - obs.successes) as f32,
            site,
        );
        sums[0] += logs[0];
        sums[1] += logs[1];
        if let Some(out) = theta_out.as_deref_mut() {
            out[k as usize] = logs[0].exp();
        }
    }
    sums
}

/// Run theta_update for every (chain, piece) of `params`.
/// `hyper`: (alpha, beta) per (chain, unit); `theta`: n_chains * n_obs (written when
/// `params.write_theta != 0`); `log_sums`: n_chains * n_pieces.
pub fn theta_update(
    params: &ThetaParams,
    observations: &[Observation],
    pieces: &[Piece],
    hyper: &[[f32; 2]],
    theta: &mut [f32],
    log_sums: &mut [[f32; 2]],
) {
    let n_pieces = params.n_pieces as usize;
    let n_obs = params.n_obs as usize;
    let n_units = params.n_units as usize;
    assert_eq!(pieces.len(), n_pieces);
    assert_eq!(log_sums.len(), params.n_chains as usize * n_pieces);
    assert_eq!(hyper.len(), params.n_chains as usize * n_units);
    let write = params.write_theta != 0;
    if write {
        assert_eq!(theta.len(), params.n_chains as usize * n_obs);
    }
    // Tasks: (chain, run of pieces); each owns its slice of log_sums and of theta.
    let mut tasks = Vec::new();
    let mut theta_rest: &mut [f32] = if write { theta } else { &mut [] };
    for (chain, sums_chain) in log_sums.chunks_mut(n_pieces).enumerate() {
        let mut sums_rest = sums_chain;
        for block in pieces.chunks(PIECES_PER_TASK) {
            let (sums_block, rest) = sums_rest.split_at_mut(block.len());
            sums_rest = rest;
            let block_obs: usize = block.iter().map(|p| p.n_obs as usize).sum();
            let theta_block = if write {
                let (head, rest) = std::mem::take(&mut theta_rest).split_at_mut(block_obs);
                theta_rest = rest;
                Some(head)
            } else {
                None
            };
            tasks.push((chain as u32, block, sums_block, theta_block));
        }
    }
    tasks
        .into_par_iter()
        .for_each(|(chain, block, sums_block, mut theta_block)| {
            let hyper_chain = &hyper[chain as usize * n_units..(chain as usize + 1) * n_units];
            let mut offset = 0;
            for (piece, sums) in block.iter().zip(sums_block.iter_mut()) {
                let len = piece.n_obs as usize;
                let out = theta_block
                    .as_deref_mut()
                    .map(|t| &mut t[offset..offset + len]);
                offset += len;
                *sums = update_piece(
                    params,
                    observations,
                    piece,
                    chain,
                    hyper_chain[piece.unit as usize],
                    out,
                );
            }
        });
}

//! CPU twin of `shaders/theta_update.wgsl`: the same per-invocation arithmetic on the same
//! bytes (`kernels::layout`), on all cores with rayon.

use rayon::prelude::*;

use crate::kernels::cpu::lanes::{log_beta_lanes, LANES};
use crate::kernels::cpu::PIECES_PER_TASK;
use crate::kernels::layout::{Observation, Piece, ThetaParams};

/// One invocation of theta_update.wgsl's `main`: draw the piece's thetas, return the log
/// sums, added in observation order as the shader adds them. Draws go LANES at a time
/// (the last group padded with a shape-1 dummy lane whose draw is dropped).
#[inline(always)]
fn update_piece(
    params: &ThetaParams,
    observations: &[Observation],
    piece: &Piece,
    chain: u32,
    shapes: [f32; 2],
    mut theta_out: Option<&mut [f32]>,
) -> [f32; 2] {
    let key = [params.seed, params.chain_offset + chain];
    let unit = params.unit_offset + piece.unit;
    let mut sums = [0.0f32; 2];
    for first in (0..piece.n_obs).step_by(LANES) {
        let count = LANES.min((piece.n_obs - first) as usize);
        let (mut a, mut b, mut index) = ([1.0f32; LANES], [1.0f32; LANES], [0u32; LANES]);
        for l in 0..count {
            let o = piece.first_obs + first + l as u32;
            let obs = observations[o as usize];
            a[l] = shapes[0] + obs.successes as f32;
            b[l] = shapes[1] + (obs.trials - obs.successes) as f32;
            index[l] = o - piece.unit_first_obs;
        }
        let logs = log_beta_lanes(a, b, index, unit, params.sweep, key);
        for l in 0..count {
            sums[0] += logs[0][l];
            sums[1] += logs[1][l];
            if let Some(out) = theta_out.as_deref_mut() {
                out[first as usize + l] = logs[0][l].exp();
            }
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
        .for_each(|(chain, block, sums_block, theta_block)| {
            let hyper_chain = &hyper[chain as usize * n_units..(chain as usize + 1) * n_units];
            let task = Task {
                params,
                observations,
                hyper_chain,
                chain,
            };
            task.dispatch(block, sums_block, theta_block);
        });
}

/// theta_update for every piece of one chain, on this thread: `hyper_chain` holds the
/// chain's (alpha, beta) per unit, `theta_chain` its n_obs thetas (written when
/// `params.write_theta != 0`), `sums_chain` its pieces' log sums. The same arithmetic as
/// `theta_update`, for a host loop that updates a chain's units and then draws its thetas.
pub fn theta_update_chain(
    params: &ThetaParams,
    observations: &[Observation],
    pieces: &[Piece],
    hyper_chain: &[[f32; 2]],
    chain: u32,
    theta_chain: &mut [f32],
    sums_chain: &mut [[f32; 2]],
) {
    assert_eq!(sums_chain.len(), pieces.len());
    assert_eq!(hyper_chain.len(), params.n_units as usize);
    let write = params.write_theta != 0;
    if write {
        assert_eq!(theta_chain.len(), params.n_obs as usize);
    }
    let task = Task {
        params,
        observations,
        hyper_chain,
        chain,
    };
    task.dispatch(pieces, sums_chain, write.then_some(theta_chain));
}

/// One rayon task: a run of pieces of one chain.
struct Task<'a> {
    params: &'a ThetaParams,
    observations: &'a [Observation],
    hyper_chain: &'a [[f32; 2]],
    chain: u32,
}

impl Task<'_> {
    /// `run`, compiled for AVX2 where the CPU has it.
    fn dispatch(
        &self,
        block: &[Piece],
        sums_block: &mut [[f32; 2]],
        theta_block: Option<&mut [f32]>,
    ) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            unsafe { self.run_avx2(block, sums_block, theta_block) };
            return;
        }
        self.run(block, sums_block, theta_block);
    }

    #[inline(always)]
    fn run(
        &self,
        block: &[Piece],
        sums_block: &mut [[f32; 2]],
        mut theta_block: Option<&mut [f32]>,
    ) {
        let mut offset = 0;
        for (piece, sums) in block.iter().zip(sums_block.iter_mut()) {
            let len = piece.n_obs as usize;
            let out = theta_block
                .as_deref_mut()
                .map(|t| &mut t[offset..offset + len]);
            offset += len;
            *sums = update_piece(
                self.params,
                self.observations,
                piece,
                self.chain,
                self.hyper_chain[piece.unit as usize],
                out,
            );
        }
    }

    /// The same code compiled for AVX2, so that the lanes run eight wide.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn run_avx2(
        &self,
        block: &[Piece],
        sums_block: &mut [[f32; 2]],
        theta_block: Option<&mut [f32]>,
    ) {
        self.run(block, sums_block, theta_block)
    }
}

//! Structs shared byte for byte between the host and the shaders.
//! The same fields, types and padding as shaders/shared/layout.wgsl: build.rs checks them.

use bytemuck::{Pod, Zeroable};

/// Most observations one GPU invocation draws and sums in registers. Units longer
/// than this are split into pieces whose sums the host adds in f64; short pieces
/// keep many invocations busy when a batch has few units and few chains.
pub(crate) const PIECE_LEN: u32 = 32;

/// Largest trial count: the kernels add counts to the Beta shapes in f32, exact up to 2^24.
pub(crate) const MAX_TRIALS: u32 = 1 << 24;

/// Uniform parameters of one theta_update dispatch (ThetaParams in shaders/shared/layout.wgsl: build.rs checks it).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct ThetaParams {
    /// Philox key word 0.
    pub seed: u32,
    /// Sweep number, counter word 2.
    pub sweep: u32,
    /// Global number of this dispatch's first chain (Philox key word 1 is chain_offset + local chain).
    pub chain_offset: u32,
    /// Chains in this dispatch.
    pub n_chains: u32,
    /// Global number of this dispatch's first unit (counter word 1 is unit_offset + local unit).
    pub unit_offset: u32,
    pub n_units: u32,
    pub n_obs: u32,
    pub n_pieces: u32,
    /// Nonzero: store every theta (only on sweeps whose draws are kept).
    pub write_theta: u32,
    pub _pad: [u32; 3],
}

/// One binomial observation (Observation in shaders/shared/layout.wgsl: build.rs checks it).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq, Eq)]
pub struct Observation {
    pub successes: u32,
    pub trials: u32,
}

/// A run of at most PIECE_LEN consecutive observations of one unit (Piece in shaders/shared/layout.wgsl: build.rs checks it).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq, Eq)]
pub struct Piece {
    /// Local unit number within the batch.
    pub unit: u32,
    /// First observation of the piece.
    pub first_obs: u32,
    pub n_obs: u32,
    /// First observation of the unit: counter word 0 is the observation's index within its unit.
    pub unit_first_obs: u32,
}

/// Split every unit (given by `unit_offsets`, length n_units + 1) into pieces of at most `max_len` observations.
pub(crate) fn build_pieces(unit_offsets: &[u32], max_len: u32) -> Vec<Piece> {
    let mut pieces = Vec::new();
    for (unit, w) in unit_offsets.windows(2).enumerate() {
        let (start, end) = (w[0], w[1]);
        let mut first = start;
        while first < end {
            let n_obs = max_len.min(end - first);
            pieces.push(Piece {
                unit: unit as u32,
                first_obs: first,
                n_obs,
                unit_first_obs: start,
            });
            first += n_obs;
        }
    }
    pieces
}

/// Where each of `n_units` units' pieces start in `pieces` (as `build_pieces` orders them):
/// unit u's are `offsets[u]..offsets[u + 1]`.
pub(crate) fn unit_piece_offsets(pieces: &[Piece], n_units: usize) -> Vec<u32> {
    let mut offsets = vec![0u32; n_units + 1];
    for p in pieces {
        offsets[p.unit as usize + 1] += 1;
    }
    for u in 0..n_units {
        offsets[u + 1] += offsets[u];
    }
    offsets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cover_every_observation_once_and_never_cross_units() {
        let offsets = [0, 3, 3, 70, 71];
        let pieces = build_pieces(&offsets, 32);
        let mut next = 0;
        for p in &pieces {
            assert_eq!(p.first_obs, next);
            assert!(p.n_obs >= 1 && p.n_obs <= 32);
            let u = p.unit as usize;
            assert!(p.first_obs >= offsets[u] && p.first_obs + p.n_obs <= offsets[u + 1]);
            assert_eq!(p.unit_first_obs, offsets[u]);
            next += p.n_obs;
        }
        assert_eq!(next, 71);
        assert_eq!(pieces.len(), 1 + 3 + 1);
    }

    #[test]
    fn params_are_a_multiple_of_16_bytes_for_a_uniform_buffer() {
        assert_eq!(std::mem::size_of::<ThetaParams>() % 16, 0);
    }
}

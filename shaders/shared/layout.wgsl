// Structs shared byte for byte with the host (src/kernels/layout.rs); build.rs checks their
// field order, types and padding. Used by theta_update.wgsl and collapsed_loglik.wgsl;
// collapsed_loglik ignores ThetaParams' seed, sweep and write_theta.

struct ThetaParams {
    seed: u32,
    sweep: u32,
    chain_offset: u32,
    n_chains: u32,
    unit_offset: u32,
    n_units: u32,
    n_obs: u32,
    n_pieces: u32,
    write_theta: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

struct Observation {
    successes: u32,
    trials: u32,
}

struct Piece {
    unit: u32,
    first_obs: u32,
    n_obs: u32,
    unit_first_obs: u32,
}

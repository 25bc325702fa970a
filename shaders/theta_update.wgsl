// Stage 1 of a sweep: draw every theta ~ Beta(alpha + y, beta + n - y) for every
// (chain, observation) and sum (log theta, log(1 - theta)) per (chain, piece), the
// sufficient statistics of the host's (alpha, beta) update. One invocation per
// (chain, piece); a piece is at most PIECE_LEN observations of one unit, so the sums
// are reduced in registers and the host adds a unit's pieces in f64.
// CPU twin: src/kernels/cpu/theta_update.rs. Shared structs: src/kernels/layout.rs (build.rs checks it against site_update.wgsl).

#import layout
#import philox
#import variates

@group(0) @binding(0) var<uniform> params: ThetaParams;
@group(0) @binding(1) var<storage, read> observations: array<Observation>;
@group(0) @binding(2) var<storage, read> pieces: array<Piece>;
// (alpha, beta) per (local chain, unit), chain-major.
@group(0) @binding(3) var<storage, read> hyper: array<vec2<f32>>;
// theta per (local chain, observation), chain-major; written only when params.write_theta != 0.
@group(0) @binding(4) var<storage, read_write> theta: array<f32>;
// (sum log theta, sum log(1 - theta)) per (local chain, piece), chain-major.
@group(0) @binding(5) var<storage, read_write> log_sums: array<vec2<f32>>;

// Results do not depend on it: every draw's randomness comes from its own counter.
override WORKGROUP_SIZE: u32 = 64u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    // Large batches are dispatched as a 2-D grid of workgroups (65,535 per dimension at most).
    let invocation = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
    if (invocation >= params.n_chains * params.n_pieces) {
        return;
    }
    let chain = invocation / params.n_pieces;
    let piece = pieces[invocation % params.n_pieces];
    let key = vec2<u32>(params.seed, params.chain_offset + chain);
    let shapes = hyper[chain * params.n_units + piece.unit];
    var sums = vec2<f32>(0.0, 0.0);
    for (var k = 0u; k < piece.n_obs; k++) {
        let o = piece.first_obs + k;
        let obs = observations[o];
        let logs = log_beta_variate(
            shapes.x + f32(obs.successes),
            shapes.y + f32(obs.trials - obs.successes),
            key,
            o - piece.unit_first_obs,
            params.unit_offset + piece.unit,
            params.sweep,
        );
        sums = sums + logs;
        if (params.write_theta != 0u) {
            theta[chain * params.n_obs + o] = exp(logs.x);
        }
    }
    log_sums[invocation] = sums;
}

// The collapsed update's likelihood: for every (chain, piece), the sum over the piece's
// observations of ln B(y + alpha, n - y + beta) - ln B(alpha, beta), the beta-binomial
// log marginal with the thetas integrated out, at the (alpha, beta) the host proposes
// for the piece's unit. The host adds a unit's pieces in f64. Random numbers: none.
// CPU twin: src/kernels/cpu/collapsed_loglik.rs. Shared structs: src/kernels/layout.rs (build.rs checks it against site_update.wgsl).

#import layout
#import betabinom

@group(0) @binding(0) var<uniform> params: ThetaParams;
@group(0) @binding(1) var<storage, read> observations: array<Observation>;
@group(0) @binding(2) var<storage, read> pieces: array<Piece>;
// (alpha, beta) per (local chain, unit), chain-major.
@group(0) @binding(3) var<storage, read> hyper: array<vec2<f32>>;
// Log marginal per (local chain, piece), chain-major.
@group(0) @binding(4) var<storage, read_write> loglik: array<f32>;

override WORKGROUP_SIZE: u32 = 64u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let invocation = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
    if (invocation >= params.n_chains * params.n_pieces) {
        return;
    }
    let chain = invocation / params.n_pieces;
    let piece = pieces[invocation % params.n_pieces];
    let shapes = hyper[chain * params.n_units + piece.unit];
    var sum = 0.0;
    for (var k = 0u; k < piece.n_obs; k++) {
        let obs = observations[piece.first_obs + k];
        sum += beta_binomial_log_ratio(f32(obs.successes), f32(obs.trials), shapes.x, shapes.y);
    }
    loglik[invocation] = sum;
}

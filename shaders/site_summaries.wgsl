// The per-site summaries of a chunk's recorded draws, one workgroup per (site, quantity):
// the pooled draws' mean, sd, 2.5% and 97.5% quantiles, and the rank-normalised split R-hat
// (the larger of bulk and folded) and bulk ESS of Vehtari et al. (2021), the definitions
// mcmc::diagnostics computes in f64 on the host. Only these rows need come back, not the draws.
// Ranks come from counting (each draw's count of smaller and of equal draws, four draws an
// invocation at a time) rather than a sort, so ties share their average rank as the host's
// do; the normal scores of the ranks come from the host's table, indexed by twice the rank.
// CPU twin: src/kernels/cpu/site_summaries.rs. Layout: src/kernels/summary_layout.rs.

struct SummaryParams {
    n_sites: u32,
    n_chains: u32,
    n_draws: u32,
    stride: u32,
    n_direct: u32,
    compare_first: u32,
    compare_second: u32,
    low_index: u32,
    low_gamma: f32,
    high_index: u32,
    high_gamma: f32,
    _pad: u32,
}

const SUMMARY_WORKGROUP: u32 = 64u;
const MAX_SUMMARY_DRAWS: u32 = 1024u;
// The workgroup arrays' size: the run's pooled draws, at most MAX_SUMMARY_DRAWS. Larger arrays
// than the draws need leave fewer workgroups room on a multiprocessor (summary_stage.rs).
override SUMMARY_DRAWS: u32 = MAX_SUMMARY_DRAWS;
const SUMMARY_STRIDE: u32 = 6u;
// Draws an invocation ranks in one pass over the others (a vec4 of them): each x[j] read once
// serves four comparisons.
const RANK_BLOCK: u32 = 4u;

@group(0) @binding(0) var<uniform> params: SummaryParams;
// Per (site, chain, draw): `stride` values.
@group(0) @binding(1) var<storage, read> draws: array<f32>;
// The normal score of (1-based, possibly half) rank r among the split draws, at 2r.
@group(0) @binding(2) var<storage, read> scores: array<f32>;
// Per (site, quantity): mean, sd, q2.5, q97.5, R-hat, bulk ESS.
@group(0) @binding(3) var<storage, read_write> summaries: array<f32>;

// The quantity's draws, chain after chain.
var<workgroup> x: array<f32, SUMMARY_DRAWS>;
// Normal scores of the split draws (bulk, then folded), split chain after split chain.
var<workgroup> z: array<f32, SUMMARY_DRAWS>;
// Scratch: the draws again (for their ranks), the centred bulk scores, then the folded distances.
var<workgroup> w: array<f32, SUMMARY_DRAWS>;
var<workgroup> partial: array<f32, SUMMARY_WORKGROUP>;
var<workgroup> chain_mean: array<f32, SUMMARY_WORKGROUP>;
var<workgroup> chain_var: array<f32, SUMMARY_WORKGROUP>;
// Order statistics: the two quantiles' pairs, then the split draws' middle two.
var<workgroup> picked: array<f32, 6>;
// Bulk R-hat and ESS, from invocation 0.
var<workgroup> bulk: array<f32, 2>;
// The middle two's sum and its second part (two_sum_in_memory).
var<workgroup> two_sum_parts: array<f32, 2>;
var<workgroup> non_finite: atomic<u32>;
var<workgroup> varied: atomic<u32>;

// A quiet NaN's bits: WGSL has no NaN literal.
const NAN_BITS: u32 = 0x7fc00000u;

// By the bits: a compiler may assume that floats are finite and fold v != v away.
fn is_finite(v: f32) -> bool {
    return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u;
}

fn is_nan(v: f32) -> bool {
    return !is_finite(v) && (bitcast<u32>(v) & 0x007fffffu) != 0u;
}

// The workgroup's sum of each invocation's `v`: a tree over the invocations.
fn reduce_sum(v: f32, lid: u32) -> f32 {
    partial[lid] = v;
    workgroupBarrier();
    for (var half = SUMMARY_WORKGROUP / 2u; half > 0u; half = half / 2u) {
        if (lid < half) {
            partial[lid] = partial[lid] + partial[lid + half];
        }
        workgroupBarrier();
    }
    let total = partial[0];
    workgroupBarrier();
    return total;
}

// Index among the split draws of draw d of chain c (first halves, then second halves), or
// n_split when an odd chain's middle draw is dropped.
fn split_index(c: u32, d: u32) -> u32 {
    let h = params.n_draws / 2u;
    if (d < h) {
        return c * h + d;
    }
    if (d >= params.n_draws - h) {
        return (params.n_chains + c) * h + d - (params.n_draws - h);
    }
    return 2u * params.n_chains * h;
}

// Each split chain's mean and sample variance of z (invocation k: split chain k).
fn chain_moments(lid: u32) {
    let h = params.n_draws / 2u;
    if (lid < 2u * params.n_chains) {
        var sum = 0.0;
        for (var t = 0u; t < h; t++) {
            sum += z[lid * h + t];
        }
        let mean = sum / f32(h);
        var ss = 0.0;
        for (var t = 0u; t < h; t++) {
            let d = z[lid * h + t] - mean;
            ss += d * d;
        }
        chain_mean[lid] = mean;
        chain_var[lid] = ss / f32(h - 1u);
    }
}

// Mean and sample variance of the split chains' means.
fn means_moments() -> vec2<f32> {
    let m = 2u * params.n_chains;
    var sum = 0.0;
    for (var k = 0u; k < m; k++) {
        sum += chain_mean[k];
    }
    let mean = sum / f32(m);
    var ss = 0.0;
    for (var k = 0u; k < m; k++) {
        let d = chain_mean[k] - mean;
        ss += d * d;
    }
    return vec2<f32>(mean, ss / f32(m - 1u));
}

// Gelman-Rubin R-hat of the split chains' scores, from `chain_moments`.
fn rhat_of_moments() -> f32 {
    let m = 2u * params.n_chains;
    let n = f32(params.n_draws / 2u);
    let between = n * means_moments().y;
    var within = 0.0;
    for (var k = 0u; k < m; k++) {
        within += chain_var[k];
    }
    within = within / f32(m);
    return sqrt((between / within + n - 1.0) / n);
}

// Values i0, i0 + 64, i0 + 128 and i0 + 192 of the first n in w (the last repeated past n),
// and each one's count of values below it and equal to it (itself included). (Both rankings
// read w: WGSL passes no pointer to workgroup memory.)
struct Counts {
    v: vec4<f32>,
    less: vec4<u32>,
    equal: vec4<u32>,
}

fn count_block(i0: u32, n: u32) -> Counts {
    let last = n - 1u;
    let v = vec4<f32>(
        w[i0],
        w[min(i0 + SUMMARY_WORKGROUP, last)],
        w[min(i0 + 2u * SUMMARY_WORKGROUP, last)],
        w[min(i0 + 3u * SUMMARY_WORKGROUP, last)],
    );
    var less = vec4<u32>(0u);
    var equal = vec4<u32>(0u);
    for (var j = 0u; j < n; j++) {
        let wj = vec4<f32>(w[j]);
        less += select(vec4<u32>(0u), vec4<u32>(1u), wj < v);
        equal += select(vec4<u32>(0u), vec4<u32>(1u), wj == v);
    }
    return Counts(v, less, equal);
}

// The normal scores of the split draws' values in w (n_split of them, by split index) into z,
// RANK_BLOCK values an invocation at a time, as in `main`'s ranks.
fn score_ranks(lid: u32, n_split: u32) {
    for (var i0 = lid; i0 < n_split; i0 += RANK_BLOCK * SUMMARY_WORKGROUP) {
        let c = count_block(i0, n_split);
        for (var r = 0u; r < RANK_BLOCK; r++) {
            let i = i0 + r * SUMMARY_WORKGROUP;
            if (i < n_split) {
                z[i] = scores[2u * c.less[r] + c.equal[r] + 1u];
            }
        }
    }
}

// picked[4] + picked[5] as the rounded sum and its exact error (Knuth's two-sum). Each
// partial result passes through workgroup memory and a barrier, so that no compiler can
// simplify (a + b) - a to b, as Mesa's does for every float operation not marked exact.
fn two_sum_in_memory(lid: u32) -> vec2<f32> {
    if (lid == 0u) {
        two_sum_parts[0] = picked[4] + picked[5];
    }
    workgroupBarrier();
    if (lid == 0u) {
        two_sum_parts[1] = two_sum_parts[0] - picked[4];
    }
    workgroupBarrier();
    let sum = two_sum_parts[0];
    let b_part = two_sum_parts[1];
    let a_part = sum - b_part;
    return vec2<f32>(sum, (picked[4] - a_part) + (picked[5] - b_part));
}

// numpy's _lerp: from whichever end is nearer.
fn lerp(a: f32, b: f32, t: f32) -> f32 {
    let diff = b - a;
    if (t >= 0.5) {
        return b - diff * (1.0 - t);
    }
    return a + diff * t;
}

// Bulk ESS (Stan's and ArviZ's multi-chain ESS with Geyer's initial monotone sequence) of
// the split chains whose centred scores are in w, from `chain_moments`; invocation 0 only.
// Lag t's mean autocovariance is at z[t], and z[h + t] holds rho.
fn ess_of_autocov() -> f32 {
    let h = params.n_draws / 2u;
    let m = 2u * params.n_chains;
    let n = f32(h);
    let total = f32(m * h);
    let mean_var = z[0] * n / (n - 1.0);
    let var_plus = mean_var * (n - 1.0) / n + means_moments().y;
    var rho_even = 1.0;
    z[h] = rho_even;
    var rho_odd = 1.0 - (mean_var - z[1]) / var_plus;
    z[h + 1u] = rho_odd;
    var t = 1u;
    while (t + 3u < h && rho_even + rho_odd > 0.0) {
        rho_even = 1.0 - (mean_var - z[t + 1u]) / var_plus;
        rho_odd = 1.0 - (mean_var - z[t + 2u]) / var_plus;
        if (rho_even + rho_odd >= 0.0) {
            z[h + t + 1u] = rho_even;
            z[h + t + 2u] = rho_odd;
        }
        t += 2u;
    }
    let max_t_plus_1 = t - 1u;
    if (rho_even > 0.0) {
        z[h + max_t_plus_1] = rho_even;
    }
    t = 1u;
    while (t + 3u <= max_t_plus_1) {
        let prev = z[h + t - 1u] + z[h + t];
        if (z[h + t + 1u] + z[h + t + 2u] > prev) {
            z[h + t + 1u] = prev / 2.0;
            z[h + t + 2u] = prev / 2.0;
        }
        t += 2u;
    }
    var sum = 0.0;
    for (var k = 0u; k < max_t_plus_1; k++) {
        sum += z[h + k];
    }
    let tau = max(-1.0 + 2.0 * sum + z[h + max_t_plus_1], 1.0 / log2(total) * log2(10.0));
    return total / tau;
}

// Draw i (value v, with `less` draws below it and `equal` equal to it, itself included, among
// all the pooled draws): the order statistics it holds, and its bulk normal score.
fn place_draw(i: u32, v: f32, less: u32, equal: u32) {
    let n_draws = params.n_draws;
    let pooled = params.n_chains * n_draws;
    let h = n_draws / 2u;
    let n_split = 2u * params.n_chains * h;
    let end = less + equal;
    if (less <= params.low_index && params.low_index < end) {
        picked[0] = v;
    }
    let low_next = min(params.low_index + 1u, pooled - 1u);
    if (less <= low_next && low_next < end) {
        picked[1] = v;
    }
    if (less <= params.high_index && params.high_index < end) {
        picked[2] = v;
    }
    let high_next = min(params.high_index + 1u, pooled - 1u);
    if (less <= high_next && high_next < end) {
        picked[3] = v;
    }
    let c = i / n_draws;
    let k = split_index(c, i - c * n_draws);
    if (k < n_split) {
        // Odd chains' middle draws are not among the split draws.
        var split_less = less;
        var split_equal = equal;
        if (n_draws % 2u == 1u) {
            for (var m = 0u; m < params.n_chains; m++) {
                let middle = x[m * n_draws + h];
                split_less -= select(0u, 1u, middle < v);
                split_equal -= select(0u, 1u, middle == v);
            }
        }
        let split_end = split_less + split_equal;
        if (split_less <= n_split / 2u - 1u && n_split / 2u - 1u < split_end) {
            picked[4] = v;
        }
        if (split_less <= n_split / 2u && n_split / 2u < split_end) {
            picked[5] = v;
        }
        z[k] = scores[2u * split_less + split_equal + 1u];
    }
}

@compute @workgroup_size(SUMMARY_WORKGROUP)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) grid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let n_quantities = params.n_direct + 1u;
    let job = group.x + group.y * grid.x;
    if (job >= params.n_sites * n_quantities) {
        return;
    }
    let site = job / n_quantities;
    let q = job % n_quantities;
    let n_draws = params.n_draws;
    let pooled = params.n_chains * n_draws;
    let h = n_draws / 2u;
    let n_split = 2u * params.n_chains * h;
    if (lid == 0u) {
        atomicStore(&non_finite, 0u);
        atomicStore(&varied, 0u);
    }
    workgroupBarrier();

    // The draws, their sum, and whether any is not finite or differs from the first.
    // One atomic per invocation, not per draw: those on one address run one at a time.
    var sum = 0.0;
    var finite = true;
    for (var i = lid; i < pooled; i += SUMMARY_WORKGROUP) {
        let base = (site * pooled + i) * params.stride;
        var v = draws[base + params.compare_second] - draws[base + params.compare_first];
        if (q < params.n_direct) {
            v = draws[base + q];
        }
        x[i] = v;
        // The ranks' copy (count_block's).
        w[i] = v;
        sum += v;
        finite = finite && is_finite(v);
    }
    if (!finite) {
        atomicOr(&non_finite, 1u);
    }
    workgroupBarrier();
    let first = x[0];
    var differs = false;
    for (var i = lid; i < pooled; i += SUMMARY_WORKGROUP) {
        differs = differs || x[i] != first;
    }
    if (differs) {
        atomicOr(&varied, 1u);
    }
    let mean = reduce_sum(sum, lid) / f32(pooled);
    var ss = 0.0;
    for (var i = lid; i < pooled; i += SUMMARY_WORKGROUP) {
        let d = x[i] - mean;
        ss += d * d;
    }
    let sd = sqrt(reduce_sum(ss, lid) / f32(pooled - 1u));

    // Each draw's place among all draws (for the quantiles) and among the split draws (for
    // the bulk scores and the median the folding needs), from counts: RANK_BLOCK draws an
    // invocation at a time against each x[j], so that each x[j] is read once per block.
    for (var i0 = lid; i0 < pooled; i0 += RANK_BLOCK * SUMMARY_WORKGROUP) {
        let c = count_block(i0, pooled);
        for (var r = 0u; r < RANK_BLOCK; r++) {
            let i = i0 + r * SUMMARY_WORKGROUP;
            if (i < pooled) {
                place_draw(i, c.v[r], c.less[r], c.equal[r]);
            }
        }
    }
    workgroupBarrier();

    // Bulk R-hat and ESS: the autocovariances lag by lag (invocation t: lags t, t + 64, ...)
    // of the centred scores, then Geyer's sequences on invocation 0.
    chain_moments(lid);
    workgroupBarrier();
    for (var i = lid; i < n_split; i += SUMMARY_WORKGROUP) {
        w[i] = z[i] - chain_mean[i / h];
    }
    workgroupBarrier();
    var lags: array<f32, 16>;
    var n_lags = 0u;
    for (var t = lid; t < h; t += SUMMARY_WORKGROUP) {
        var total = 0.0;
        for (var c = 0u; c < 2u * params.n_chains; c++) {
            var dot = 0.0;
            for (var k = 0u; k + t < h; k++) {
                dot += w[c * h + k] * w[c * h + k + t];
            }
            total += dot / f32(h);
        }
        lags[n_lags] = total / f32(2u * params.n_chains);
        n_lags++;
    }
    // Every invocation has read z; the autocovariances may now replace the scores.
    workgroupBarrier();
    n_lags = 0u;
    for (var t = lid; t < h; t += SUMMARY_WORKGROUP) {
        z[t] = lags[n_lags];
        // Geyer's sequence leaves the rhos it rejects at 0.
        z[h + t] = 0.0;
        n_lags++;
    }
    workgroupBarrier();
    if (lid == 0u) {
        bulk[0] = rhat_of_moments();
        bulk[1] = ess_of_autocov();
    }
    workgroupBarrier();

    // Folded R-hat: the split draws' distances from their median, rank-normalised. Twice
    // the distance, |2x - (a + b)| for the middle two a and b, with a + b as its rounded sum
    // and that sum's error: 2x minus the rounded sum is exact near the median, where
    // rounding would otherwise tie or swap distances that the host's f64 tells apart.
    let middle = two_sum_in_memory(lid);
    for (var i = lid; i < pooled; i += SUMMARY_WORKGROUP) {
        let c = i / n_draws;
        let k = split_index(c, i - c * n_draws);
        if (k < n_split) {
            w[k] = abs((2.0 * x[i] - middle.x) - middle.y);
        }
    }
    workgroupBarrier();
    score_ranks(lid, n_split);
    workgroupBarrier();
    chain_moments(lid);
    workgroupBarrier();

    if (lid == 0u) {
        let folded = rhat_of_moments();
        let nan = bitcast<f32>(NAN_BITS);
        var summary = array<f32, SUMMARY_STRIDE>(
            mean,
            sd,
            lerp(picked[0], picked[1], params.low_gamma),
            lerp(picked[2], picked[3], params.high_gamma),
            max(bulk[0], folded),
            bulk[1],
        );
        if (is_nan(bulk[0]) || is_nan(folded)) {
            // max would hide a NaN; R-hat should surface it, as the host's does.
            summary[4] = nan;
        }
        if (atomicLoad(&varied) == 0u) {
            // A constant quantity: exact moments, and no diagnostics (as the host's).
            summary = array<f32, SUMMARY_STRIDE>(first, 0.0, first, first, nan, nan);
        }
        if (atomicLoad(&non_finite) != 0u) {
            summary = array<f32, SUMMARY_STRIDE>(nan, nan, nan, nan, nan, nan);
        }
        for (var k = 0u; k < SUMMARY_STRIDE; k++) {
            summaries[job * SUMMARY_STRIDE + k] = summary[k];
        }
    }
}

// The site regression of a study design, for every (site, chain) at once:
//   m_j ~ BetaBinomial(n_j, mu_j phi, (1 - mu_j) phi) for each sample j of the site,
//   logit mu_j = x_j . beta, with the design's coefficients beta in the orthogonal
//   coordinates gamma = R beta of the thin QR x = Q R (so logit mu_j = Q_j . gamma);
//   the intercept's inverse logit ~ Beta(a, b); each other coefficient k ~ s_k t(NUISANCE_DOF);
//   the tested block is 0 with probability 1 - w, else each of its coefficients ~ tau t(SLAB_DOF);
//   log phi = m0 + s0 t, t ~ Student-t(LOG_PHI_DOF) (docs/methyl-model.md, "General designs").
// Each sweep: (1) a reversible jump of the tested block between 0 and free, the free values
// from Newton steps of the binomial likelihood with each read discounted by the beta-binomial
// design effect (recorded sweeps add its waste-recycled indicators to the state); (2) each free
// coordinate of gamma by Metropolis-Hastings with the same kind of Newton proposal, the
// reverse density at the proposal; (3) a random walk on log phi.
// One invocation runs all the dispatch's sweeps of one (site, chain).
// CPU twin: src/kernels/cpu/site_regression.rs (same operations, same order). Shared structs:
// shaders/shared/site_layout.wgsl and RegressionShape, RegressionHyper below.

#import site_layout
#import philox
#import variates
#import betabinom

// Most coefficients of a design (MAX_COEFS in src/kernels/regression_layout.rs: build.rs checks it).
const MAX_COEFS: u32 = 16u;
// Most recorded levels (MAX_GROUPS in src/kernels/site_layout.rs).
const MAX_GROUPS: u32 = 8u;
// Floats of state per (site, chain): gamma, log phi, the tested block's state, the log
// target, the accepted jumps since the chain's start and the three recycled sums
// (regression_layout.rs).
const REG_STATE_STRIDE: u32 = 23u;
const REG_STATE_LOG_PHI: u32 = 16u;
const REG_STATE_DIFFER: u32 = 17u;
const REG_STATE_LOG_LIKELIHOOD: u32 = 18u;
const REG_STATE_ACCEPTED: u32 = 19u;
const REG_STATE_RECYCLED: u32 = 20u;
// Stream tag of the regression's normals and uniforms (rng::Stream::SiteRegression).
const STREAM_SITE_REGRESSION: u32 = 9u;
// Smallest precision of a Newton proposal (site_regression.rs).
const MIN_PRECISION: f32 = 0.01;
// Random-walk step sd of log phi (site_regression.rs).
const RW_LOG_PHI: f32 = 0.5;
// The pooled proportion that starts a chain is kept this far from 0 and 1 (site_regression.rs).
const START_CLAMP: f32 = 0.02;
// Degrees of freedom of the nuisance coefficients' Student-t priors (regression_layout.rs).
const NUISANCE_DOF: f32 = 4.0;
const LOG_PHI_DOF: f32 = 4.0;
const SLAB_DOF: f32 = 2.0;
// Smallest shape of a beta-binomial term (MIN_SHAPE in src/kernels/site_layout.rs).
const MIN_SHAPE: f32 = 1.17549435e-38;
// No coordinate: a pass over the samples for the likelihood alone.
const NO_COORD: u32 = 0xFFFFFFFFu;

// The design's sizes and what the recycled sums compare (regression_layout.rs).
struct RegressionShape {
    n_coefs: u32,
    n_rows: u32,
    tested: u32,
    n_levels: u32,
    compare_first: u32,
    compare_second: u32,
    // Nonzero: a joint test; the first recycled sum counts the levels spanning more than d.
    joint: u32,
    threshold: f32,
    // ln |det R| of the tested block: the Jacobian between its beta and gamma.
    ln_det_tested: f32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

// One chain's priors: the level, dispersion, spike and slab, and each nuisance coefficient's scale.
struct RegressionHyper {
    site: SiteHyper,
    nuisance_scale: array<f32, 16>,
}

@group(0) @binding(0) var<uniform> params: SiteParams;
@group(0) @binding(1) var<uniform> shape: RegressionShape;
// Q (n_rows x n_coefs), then R^-1 (n_coefs x n_coefs), then the recorded levels
// (n_levels x n_coefs, in beta's order), all row-major.
@group(0) @binding(2) var<storage, read> design: array<f32>;
@group(0) @binding(3) var<storage, read> samples: array<SiteSample>;
@group(0) @binding(4) var<storage, read> site_offsets: array<u32>;
@group(0) @binding(5) var<storage, read> hyper: array<RegressionHyper>;
@group(0) @binding(6) var<storage, read_write> state: array<f32>;
// Per (site, chain, draw of the run, slot): each level's mu, then the tested coefficient.
@group(0) @binding(7) var<storage, read_write> draws: array<f32>;
// Per site, its rng::site_id (chromosome key, position): the key of its random numbers.
@group(0) @binding(8) var<storage, read> site_ids: array<vec2<u32>>;

override WORKGROUP_SIZE: u32 = 64u;

struct RegressionPoint {
    gamma: array<f32, 16>,
    z: f32,
    differ: bool,
}

fn sigmoid(u: f32) -> f32 {
    return 1.0 / (1.0 + exp(-u));
}

fn softplus(u: f32) -> f32 {
    return max(u, 0.0) + ln_1p(exp(-abs(u)));
}

fn basis(row: u32, k: u32) -> f32 {
    return design[row * shape.n_coefs + k];
}

fn to_beta(i: u32, k: u32) -> f32 {
    return design[shape.n_rows * shape.n_coefs + i * shape.n_coefs + k];
}

fn level(g: u32, k: u32) -> f32 {
    return design[(shape.n_rows + shape.n_coefs) * shape.n_coefs + g * shape.n_coefs + k];
}

// beta = R^-1 gamma.
fn coefficients(gamma: array<f32, 16>) -> array<f32, 16> {
    var beta: array<f32, 16>;
    for (var i = 0u; i < shape.n_coefs; i++) {
        var b = 0.0;
        for (var k = i; k < shape.n_coefs; k++) {
            b += to_beta(i, k) * gamma[k];
        }
        beta[i] = b;
    }
    return beta;
}

// One pass over the site's samples at p: coordinate k's data score and information (none for
// NO_COORD) and, when `likelihood`, p's beta-binomial log likelihood.
fn data_pass(first: u32, last: u32, k: u32, p: RegressionPoint, likelihood: bool) -> vec3<f32> {
    let phi = exp(p.z);
    var g = 0.0;
    var c = 0.0;
    var l = 0.0;
    for (var j = first; j < last; j++) {
        let s = samples[j];
        var e = 0.0;
        for (var i = 0u; i < shape.n_coefs; i++) {
            e += basis(s.group, i) * p.gamma[i];
        }
        let mu = sigmoid(e);
        let m = f32(s.methylated);
        let total = f32(s.total);
        if (k != NO_COORD) {
            let q = basis(s.group, k);
            let discount = (phi + 1.0) / (phi + total);
            g += q * discount * (m - total * mu);
            c += q * q * discount * total * mu * (1.0 - mu);
        }
        if (likelihood) {
            l += beta_binomial_log_ratio(m, total, max(mu * phi, MIN_SHAPE), max((1.0 - mu) * phi, MIN_SHAPE));
        }
    }
    return vec3<f32>(g, c, l);
}

// log prior density of p in gamma coordinates (normalised where the jump compares spaces).
fn log_prior(p: RegressionPoint, h: RegressionHyper) -> f32 {
    let beta = coefficients(p.gamma);
    var lp = -h.site.a * softplus(-beta[0]) - h.site.b * softplus(beta[0]) - h.site.ln_beta;
    for (var k = 1u; k < shape.tested; k++) {
        let b = beta[k];
        let s = h.nuisance_scale[k];
        lp -= 0.5 * (NUISANCE_DOF + 1.0) * ln_1p(b * b / (NUISANCE_DOF * s * s)) + log(s);
    }
    if (p.differ) {
        lp += h.site.log_differ - shape.ln_det_tested;
        for (var k = shape.tested; k < shape.n_coefs; k++) {
            let b = beta[k];
            lp += h.site.ln_slab - 0.5 * (SLAB_DOF + 1.0) * ln_1p(b * b * h.site.slab_inv_scale2);
        }
    } else {
        lp += h.site.log_same;
    }
    let t = (p.z - h.site.m0) / h.site.s0;
    return lp - 0.5 * (LOG_PHI_DOF + 1.0) * ln_1p(t * t / LOG_PHI_DOF);
}

// Coordinate k's Newton proposal at p: (mean, precision), and p's log likelihood when asked.
fn newton(first: u32, last: u32, k: u32, p: RegressionPoint, h: RegressionHyper, slab: bool, likelihood: bool) -> vec3<f32> {
    let beta = coefficients(p.gamma);
    var g = 0.0;
    var c = 0.0;
    for (var i = 0u; i <= k; i++) {
        let r = to_beta(i, k);
        if (r == 0.0) {
            continue;
        }
        let b = beta[i];
        var gi = 0.0;
        var ci = 0.0;
        if (i == 0u) {
            let m = sigmoid(b);
            gi = h.site.a - (h.site.a + h.site.b) * m;
            ci = (h.site.a + h.site.b) * m * (1.0 - m);
        } else if (i < shape.tested) {
            let v = NUISANCE_DOF * h.nuisance_scale[i] * h.nuisance_scale[i];
            gi = -(NUISANCE_DOF + 1.0) * b / (v + b * b);
            ci = (NUISANCE_DOF + 1.0) / (v + b * b);
        } else if (slab) {
            let v = 1.0 / h.site.slab_inv_scale2;
            gi = -(SLAB_DOF + 1.0) * b / (v + b * b);
            ci = (SLAB_DOF + 1.0) / (v + b * b);
        }
        g += gi * r;
        c += ci * r * r;
    }
    let d = data_pass(first, last, k, p, likelihood);
    let information = max(c + d.y, MIN_PRECISION);
    return vec3<f32>(p.gamma[k] + (g + d.x) / information, information, d.z);
}

// mu at each recorded level.
fn level_mus(p: RegressionPoint) -> array<f32, 8> {
    let beta = coefficients(p.gamma);
    var mu: array<f32, 8>;
    for (var g = 0u; g < shape.n_levels; g++) {
        var u = 0.0;
        for (var k = 0u; k < shape.n_coefs; k++) {
            u += level(g, k) * beta[k];
        }
        mu[g] = sigmoid(u);
    }
    return mu;
}

// What the recycled sums estimate at p: (delta > d, delta < -d, differ) as 0 or 1.
fn indicators(p: RegressionPoint) -> vec3<f32> {
    if (!p.differ) {
        return vec3<f32>(0.0);
    }
    let mu = level_mus(p);
    let d = shape.threshold;
    if (shape.joint != 0u) {
        var lo = mu[0];
        var hi = mu[0];
        for (var g = 1u; g < shape.n_levels; g++) {
            lo = min(lo, mu[g]);
            hi = max(hi, mu[g]);
        }
        return vec3<f32>(select(0.0, 1.0, hi - lo > d), 0.0, 1.0);
    }
    let delta = mu[shape.compare_second] - mu[shape.compare_first];
    return vec3<f32>(select(0.0, 1.0, delta > d), select(0.0, 1.0, delta < -d), 1.0);
}

// Normalised: the jump compares it with densities on another space.
fn log_normal_density(x: f32, mean: f32, information: f32) -> f32 {
    return 0.5 * log(information) - HALF_LN_TWO_PI - 0.5 * information * (x - mean) * (x - mean);
}

fn words(step: u32, site: u32, sweep: u32, key: vec2<u32>) -> vec4<u32> {
    return philox4x32_10(vec4<u32>(step, site, sweep, STREAM_SITE_REGRESSION << STREAM_SHIFT), key);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let invocation = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
    if (invocation >= params.n_sites * params.n_chains) {
        return;
    }
    let site = invocation / params.n_chains;
    let chain = invocation % params.n_chains;
    // The site's identity keys its random numbers (rng::site_id), never its index here, so a
    // shard, a chunk or a resumed run draws what the whole run draws.
    let id = site_ids[site];
    let site_pos = id.y;
    let key = vec2<u32>(params.seed ^ id.x, chain);
    let first = site_offsets[site];
    let last = site_offsets[site + 1u];
    let h = hyper[chain];
    let base = invocation * REG_STATE_STRIDE;
    let n = shape.n_coefs;
    let tested = shape.tested;

    var here: RegressionPoint;
    here.z = h.site.m0;
    here.differ = false;
    var recycled = vec3<f32>(0.0);
    var accepted = 0.0;
    // The log likelihood at `here`, kept in the state: a dispatch that goes on needs no pass.
    var ll_here: f32;
    if (params.init != 0u) {
        // The pooled proportion through the intercept (Q's first column is constant), then
        // each other free coordinate at its Newton mean.
        var m = 0.5;
        var t = 1.0;
        for (var j = first; j < last; j++) {
            m += f32(samples[j].methylated);
            t += f32(samples[j].total);
        }
        let p = clamp(m / t, START_CLAMP, 1.0 - START_CLAMP);
        here.gamma[0] = log(p / (1.0 - p)) / design[0];
        for (var k = 1u; k < tested; k++) {
            here.gamma[k] = newton(first, last, k, here, h, false, false).x;
        }
        ll_here = data_pass(first, last, NO_COORD, here, true).z;
    } else {
        ll_here = state[base + REG_STATE_LOG_LIKELIHOOD];
        for (var k = 0u; k < n; k++) {
            here.gamma[k] = state[base + k];
        }
        here.z = state[base + REG_STATE_LOG_PHI];
        here.differ = state[base + REG_STATE_DIFFER] != 0.0;
        recycled = vec3<f32>(
            state[base + REG_STATE_RECYCLED],
            state[base + REG_STATE_RECYCLED + 1u],
            state[base + REG_STATE_RECYCLED + 2u],
        );
        accepted = state[base + REG_STATE_ACCEPTED];
    }
    var lp_here = ll_here + log_prior(here, h);
    let slots = shape.n_levels + 1u;
    for (var k = 0u; k < params.warmup + params.n_draws; k++) {
        let sweep = params.first_sweep + k;
        // 1. The jump of the tested block between 0 and free.
        let jump = words(n + 1u, site_pos, sweep, key);
        var there = here;
        var log_q = 0.0;
        var ll_there: f32;
        if (here.differ) {
            for (var t = tested; t < n; t++) {
                there.gamma[t] = 0.0;
            }
            there.differ = false;
            // The reverse proposal, built from the null point as the forward one would be;
            // its first pass is at the null point itself and gives that point's likelihood.
            var partial = there;
            var likelihood = 0.0;
            for (var t = tested; t < n; t++) {
                let q = newton(first, last, t, partial, h, true, t == tested);
                if (t == tested) {
                    likelihood = q.z;
                }
                log_q += log_normal_density(here.gamma[t], q.x, q.y);
                partial.gamma[t] = here.gamma[t];
            }
            ll_there = likelihood;
        } else {
            there.differ = true;
            for (var t = tested; t < n; t++) {
                let w = words(n + 2u + t - tested, site_pos, sweep, key);
                let q = newton(first, last, t, there, h, true, false);
                let value = q.x + standard_normal(w.x, w.y) / sqrt(q.y);
                log_q -= log_normal_density(value, q.x, q.y);
                there.gamma[t] = value;
            }
            ll_there = data_pass(first, last, NO_COORD, there, true).z;
        }
        let lp_there = ll_there + log_prior(there, h);
        let log_ratio = lp_there - lp_here + log_q;
        if (k >= params.warmup) {
            let alpha = exp(min(log_ratio, 0.0));
            recycled += alpha * indicators(there) + (1.0 - alpha) * indicators(here);
        }
        if (log(uniform_from_word(jump.z)) < log_ratio) {
            here = there;
            lp_here = lp_there;
            ll_here = ll_there;
            accepted += 1.0;
        }
        // 2. Each free coordinate by its Newton proposal; the reverse step's pass gives the
        // proposal's likelihood too.
        let free = select(tested, n, here.differ);
        for (var c = 0u; c < free; c++) {
            let w = words(c, site_pos, sweep, key);
            let q = newton(first, last, c, here, h, true, false);
            let value = q.x + standard_normal(w.x, w.y) / sqrt(q.y);
            var step = here;
            step.gamma[c] = value;
            let back = newton(first, last, c, step, h, true, true);
            let lp_step = back.z + log_prior(step, h);
            let ratio = lp_step - lp_here
                + log_normal_density(here.gamma[c], back.x, back.y)
                - log_normal_density(value, q.x, q.y);
            if (log(uniform_from_word(w.z)) < ratio) {
                here = step;
                lp_here = lp_step;
                ll_here = back.z;
            }
        }
        // 3. log phi by a random walk.
        let w = words(n, site_pos, sweep, key);
        var walk = here;
        walk.z += RW_LOG_PHI * standard_normal(w.x, w.y);
        let ll_walk = data_pass(first, last, NO_COORD, walk, true).z;
        let lp_walk = ll_walk + log_prior(walk, h);
        if (log(uniform_from_word(w.z)) < lp_walk - lp_here) {
            here = walk;
            lp_here = lp_walk;
            ll_here = ll_walk;
        }
        if (k >= params.warmup) {
            let row = ((invocation * params.draws_total) + params.draw_offset + k - params.warmup) * slots;
            let mu = level_mus(here);
            for (var g = 0u; g < shape.n_levels; g++) {
                draws[row + g] = mu[g];
            }
            draws[row + shape.n_levels] = coefficients(here.gamma)[tested];
        }
    }
    for (var k = 0u; k < n; k++) {
        state[base + k] = here.gamma[k];
    }
    state[base + REG_STATE_LOG_PHI] = here.z;
    state[base + REG_STATE_DIFFER] = select(0.0, 1.0, here.differ);
    state[base + REG_STATE_LOG_LIKELIHOOD] = ll_here;
    state[base + REG_STATE_ACCEPTED] = accepted;
    state[base + REG_STATE_RECYCLED] = recycled.x;
    state[base + REG_STATE_RECYCLED + 1u] = recycled.y;
    state[base + REG_STATE_RECYCLED + 2u] = recycled.z;
}

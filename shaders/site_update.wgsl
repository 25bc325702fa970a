// The per-site update of the methylation model, for every (site, chain) at once:
//   m_j ~ BetaBinomial(n_j, mu_g phi, (1 - mu_g) phi) for sample j of group g,
//   mu_g ~ Beta(a, b), log phi ~ Normal(m0, s0^2), hyperparameters (a, b, m0, s0) per chain.
// The thetas are integrated out. Each sweep is 1 + G Metropolis–Hastings moves:
// 1. an independence proposal of (log phi, mu_1..G): log phi from its genome-wide prior,
//    then each mu_g from Beta(a + Σ m_j c_j, b + Σ (n_j - m_j) c_j), c_j = (phi + 1) / (phi + n_j):
//    the binomial posterior with each sample's reads discounted by the beta-binomial design
//    effect at that phi. It makes large, fresh moves where it fits (most sites);
// 2. a random walk on each logit mu_g (RW_LOGIT_MU): it keeps a chain moving at sites where
//    the independence proposal fits badly. (A random walk on log phi added no ESS: gone.)
// One invocation runs all the dispatch's sweeps of one (site, chain).
// CPU twin: src/methyl/site.rs. Shared structs: shaders/shared/site_layout.wgsl.

#import site_layout
#import philox
#import variates
#import betabinom

// Most groups a design may have (keep in sync with MAX_GROUPS in src/methyl/site.rs).
const MAX_GROUPS: u32 = 8u;
// Floats of state per (site, chain): logit mu per group, log phi, then each group's
// beta-binomial log likelihood at that point (a dispatch that goes on from the state needs
// not evaluate it again; stage 1 runs one sweep per dispatch). Keep in sync with site.rs.
const STATE_STRIDE: u32 = 17u;
const STATE_LIKELIHOOD: u32 = 9u;
// Stream tag of the proposals' normals and the acceptance uniforms (rng::Stream::Site).
const STREAM_SITE: u32 = 6u;
// Smallest shape of a beta-binomial term, 2^-126: mu phi underflows (or flushes) to 0, where the
// Stirling shifts would divide 0 by 0 (keep in sync with MIN_SHAPE in src/methyl/site.rs).
const MIN_SHAPE: f32 = 1.17549435e-38;
// Random-walk step sd of each logit mu (keep in sync with src/methyl/site.rs).
const RW_LOGIT_MU: f32 = 0.5;

@group(0) @binding(0) var<uniform> params: SiteParams;
@group(0) @binding(1) var<storage, read> samples: array<SiteSample>;
// Samples of site s: site_offsets[s] .. site_offsets[s + 1].
@group(0) @binding(2) var<storage, read> site_offsets: array<u32>;
// (a, b, m0, s0) per chain.
@group(0) @binding(3) var<storage, read> hyper: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> state: array<f32>;
// mu per (site, chain, draw of the whole run, group).
@group(0) @binding(5) var<storage, read_write> draws: array<f32>;
// (Σ_g log mu_g, Σ_g log(1 - mu_g), log phi, accepted steps) per (site, chain).
@group(0) @binding(6) var<storage, read_write> stats: array<vec4<f32>>;

override WORKGROUP_SIZE: u32 = 64u;

struct Point {
    log_mu: array<f32, 8>,
    log_1m: array<f32, 8>,
    z: f32,
}

// Proposal shapes of every group at log phi = z.
fn proposal_shapes(first: u32, last: u32, z: f32, h: vec4<f32>) -> array<vec2<f32>, 8> {
    var shapes: array<vec2<f32>, 8>;
    for (var g = 0u; g < params.n_groups; g++) {
        shapes[g] = vec2<f32>(h.x, h.y);
    }
    let phi = exp(z);
    for (var j = first; j < last; j++) {
        let s = samples[j];
        let c = (phi + 1.0) / (phi + f32(s.total));
        shapes[s.group] += c * vec2<f32>(f32(s.methylated), f32(s.total - s.methylated));
    }
    return shapes;
}

// log of the posterior density at p, up to a constant, in (log phi, mu) coordinates, and each
// group's beta-binomial log likelihood in it: a random walk on one mu then needs only that
// group's terms at the new point.
struct Target {
    total: f32,
    likelihood: array<f32, 8>,
}

fn log_target(first: u32, last: u32, p: Point, h: vec4<f32>) -> Target {
    let phi = exp(p.z);
    var likelihood: array<f32, 8>;
    var shapes: array<vec2<f32>, 8>;
    for (var g = 0u; g < params.n_groups; g++) {
        shapes[g] = max(vec2<f32>(exp(p.log_mu[g]) * phi, exp(p.log_1m[g]) * phi), vec2<f32>(MIN_SHAPE));
    }
    for (var j = first; j < last; j++) {
        let s = samples[j];
        likelihood[s.group] += beta_binomial_log_ratio(
            f32(s.methylated),
            f32(s.total),
            shapes[s.group].x,
            shapes[s.group].y,
        );
    }
    return with_priors(p, likelihood, h);
}

// The target at p from its groups' log likelihoods: the priors added.
fn with_priors(p: Point, likelihood: array<f32, 8>, h: vec4<f32>) -> Target {
    let u = (p.z - h.z) / h.w;
    var t: Target;
    t.total = -0.5 * u * u;
    for (var g = 0u; g < params.n_groups; g++) {
        t.total += group_prior(p, h, g) + likelihood[g];
    }
    t.likelihood = likelihood;
    return t;
}

// log of mu_g's Beta(a, b) prior density at p, up to a constant.
fn group_prior(p: Point, h: vec4<f32>, g: u32) -> f32 {
    return (h.x - 1.0) * p.log_mu[g] + (h.y - 1.0) * p.log_1m[g];
}

// Group g's beta-binomial log likelihood at p.
fn group_likelihood(first: u32, last: u32, p: Point, g: u32) -> f32 {
    let phi = exp(p.z);
    let a = max(exp(p.log_mu[g]) * phi, MIN_SHAPE);
    let b = max(exp(p.log_1m[g]) * phi, MIN_SHAPE);
    var sum = 0.0;
    for (var j = first; j < last; j++) {
        let s = samples[j];
        if (s.group == g) {
            sum += beta_binomial_log_ratio(f32(s.methylated), f32(s.total), a, b);
        }
    }
    return sum;
}

// The independence proposal at one log phi: each group's Beta shapes and their ln B, kept
// with the chain's point so that only a new log phi costs them again.
struct Proposal {
    shapes: array<vec2<f32>, 8>,
    ln_beta: array<f32, 8>,
}

fn proposal(first: u32, last: u32, z: f32, h: vec4<f32>) -> Proposal {
    var q: Proposal;
    q.shapes = proposal_shapes(first, last, z, h);
    for (var g = 0u; g < params.n_groups; g++) {
        q.ln_beta[g] = ln_beta(q.shapes[g].x, q.shapes[g].y);
    }
    return q;
}

// log density of the independence proposal at p, whose log phi `q` was built at, up to the
// same constant at every p.
fn log_proposal(p: Point, q: Proposal, h: vec4<f32>) -> f32 {
    let u = (p.z - h.z) / h.w;
    var lq = -0.5 * u * u;
    for (var g = 0u; g < params.n_groups; g++) {
        let s = q.shapes[g];
        lq += (s.x - 1.0) * p.log_mu[g] + (s.y - 1.0) * p.log_1m[g] - q.ln_beta[g];
    }
    return lq;
}

// (log mu, log(1 - mu)) of logit u: -softplus(-u) and -softplus(u), which share their log term.
fn log_mu_pair(u: f32) -> vec2<f32> {
    let log_term = log(1.0 + exp(-abs(u)));
    return vec2<f32>(-(max(-u, 0.0) + log_term), -(max(u, 0.0) + log_term));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let invocation = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
    if (invocation >= params.n_sites * params.n_chains) {
        return;
    }
    let site = invocation / params.n_chains;
    let chain = invocation % params.n_chains;
    let global_site = params.site_offset + site;
    let key = vec2<u32>(params.seed, chain);
    let first = site_offsets[site];
    let last = site_offsets[site + 1u];
    let h = hyper[chain];
    let base = invocation * STATE_STRIDE;

    var here: Point;
    var lp_here: Target;
    let fresh = params.init != 0u;
    if (!fresh) {
        var likelihood: array<f32, 8>;
        for (var g = 0u; g < params.n_groups; g++) {
            let pair = log_mu_pair(state[base + g]);
            here.log_mu[g] = pair.x;
            here.log_1m[g] = pair.y;
            likelihood[g] = state[base + STATE_LIKELIHOOD + g];
        }
        here.z = state[base + MAX_GROUPS];
        lp_here = with_priors(here, likelihood, h);
    }
    // The proposal at here's log phi (only an accepted independence step moves log phi).
    var q_here = proposal(first, last, here.z, h);
    var accepted = 0.0;
    let n_sweeps = params.warmup + params.n_draws;
    for (var k = 0u; k < n_sweeps; k++) {
        let sweep = params.first_sweep + k;
        let first_sweep_fresh = fresh && k == 0u;
        // 1. Independence proposal.
        let words = philox4x32_10(vec4<u32>(0u, global_site, sweep, STREAM_SITE << STREAM_SHIFT), key);
        var there: Point;
        there.z = h.z + h.w * standard_normal(words.x, words.y);
        let q_there = proposal(first, last, there.z, h);
        for (var g = 0u; g < params.n_groups; g++) {
            let logs = log_beta_variate(q_there.shapes[g].x, q_there.shapes[g].y, key, g, global_site, sweep);
            there.log_mu[g] = logs.x;
            there.log_1m[g] = logs.y;
        }
        let lp_there = log_target(first, last, there, h);
        var log_ratio = 3.0e38;
        if (!first_sweep_fresh) {
            log_ratio = (lp_there.total - log_proposal(there, q_there, h))
                - (lp_here.total - log_proposal(here, q_here, h));
        }
        if (log(uniform_from_word(words.z)) < log_ratio) {
            here = there;
            lp_here = lp_there;
            q_here = q_there;
            accepted += 1.0;
        }
        // 2. Random walk on each logit mu; its target gains the Jacobian mu (1 - mu).
        let rw_groups = select(0u, params.n_groups, params.random_walk != 0u);
        for (var g = 0u; g < rw_groups; g++) {
            let wg = philox4x32_10(vec4<u32>(1u + g, global_site, sweep, STREAM_SITE << STREAM_SHIFT), key);
            let u1 = here.log_mu[g] - here.log_1m[g] + RW_LOGIT_MU * standard_normal(wg.x, wg.y);
            var step = here;
            let pair = log_mu_pair(u1);
            step.log_mu[g] = pair.x;
            step.log_1m[g] = pair.y;
            let likelihood = group_likelihood(first, last, step, g);
            let before = group_prior(here, h, g) + lp_here.likelihood[g];
            let after = group_prior(step, h, g) + likelihood;
            let jacobian = step.log_mu[g] + step.log_1m[g] - here.log_mu[g] - here.log_1m[g];
            if (log(uniform_from_word(wg.z)) < after - before + jacobian) {
                lp_here.total += after - before;
                lp_here.likelihood[g] = likelihood;
                here = step;
            }
        }
        if (k >= params.warmup) {
            let d = k - params.warmup;
            let out = (invocation * params.draws_total + params.draw_offset + d) * params.n_groups;
            for (var g = 0u; g < params.n_groups; g++) {
                draws[out + g] = exp(here.log_mu[g]);
            }
        }
    }
    var sum_log = 0.0;
    var sum_log1m = 0.0;
    for (var g = 0u; g < params.n_groups; g++) {
        state[base + g] = here.log_mu[g] - here.log_1m[g];
        state[base + STATE_LIKELIHOOD + g] = lp_here.likelihood[g];
        sum_log += here.log_mu[g];
        sum_log1m += here.log_1m[g];
    }
    state[base + MAX_GROUPS] = here.z;
    stats[invocation] = vec4<f32>(sum_log, sum_log1m, here.z, accepted);
}

// The per-site update of the methylation model, for every (site, chain) at once:
//   m_j ~ BetaBinomial(n_j, mu_g phi, (1 - mu_g) phi) for sample j of group g,
//   a level mu_0 ~ Beta(a, b), and a two-groups prior on the differences: with probability
//   1 - w the site's groups share the level ("same"); with probability w ("differ") each
//   other group has logit mu_g = logit mu_0 + beta_g, beta_g ~ tau t(SLAB_DOF), heavy-tailed
//   so that a large difference near 0 or 1 (huge in logit) is not ruled out by the many
//   small ones that set tau;
//   log phi = m0 + s0 t, t ~ Student-t(LOG_PHI_DOF), heavier-tailed than a Normal so that a
//   site far more variable than most is explained by its phi, not by a difference.
//   Hyperparameters (a, b, m0, s0, w, tau) per chain, learned in stage 1 (docs/methyl-model.md).
// The thetas are integrated out. Each sweep is two Metropolis–Hastings moves:
// 1. an independence proposal of (same or differ, log phi, the mus), a reversible jump
//    between the two priors: "differ" with probability PROPOSE_DIFFER; log phi from its
//    genome-wide prior; then each mu_g (or the shared mu) from Beta(a + Σ m_j c_j,
//    b + Σ (n_j - m_j) c_j), c_j = (phi + 1) / (phi + n_j), over the group's (or all)
//    samples: the binomial posterior with each sample's reads discounted by the
//    beta-binomial design effect at that phi. Recorded sweeps also add this step's
//    waste-recycled P(delta > d), P(delta < -d) and P(differ) to the state: the acceptance
//    probability weighs the proposal and the current point, a smooth (Rao–Blackwellised)
//    estimate where counting draws would tie at multiples of 1/draws;
// 2. one random-walk step (RW_LOGIT_MU) of logit mu_g, g = sweep mod G, where the groups
//    differ, or of the shared mu: it keeps a chain moving at sites where the independence
//    proposal fits badly.
// One invocation runs all the dispatch's sweeps of one (site, chain).
// CPU twin: src/kernels/site_layout.rs. Shared structs: shaders/shared/site_layout.wgsl.

#import site_layout
#import philox
#import variates
#import betabinom

// Most groups a design may have (MAX_GROUPS in src/kernels/site_layout.rs: build.rs checks it).
const MAX_GROUPS: u32 = 8u;
// Floats of state per (site, chain), mirrored in src/kernels/site_layout.rs (checked by build.rs): logit mu per group, log phi,
// each group's beta-binomial log likelihood at that point (a dispatch that goes on from the
// state needs not evaluate it again; stage 1 runs one sweep per dispatch), differ (0 or 1),
// the accepted independence steps since the chain's start, and the recycled sums of P(delta > d),
// P(delta < -d) and P(differ) over the recorded sweeps so far.
const STATE_STRIDE: u32 = 22u;
const STATE_LOG_PHI: u32 = 8u;
const STATE_LIKELIHOOD: u32 = 9u;
const STATE_DIFFER: u32 = 17u;
const STATE_ACCEPTED: u32 = 18u;
const STATE_RECYCLED: u32 = 19u;
// Stream tag of the proposals' normals and the acceptance uniforms (rng::Stream::Site).
const STREAM_SITE: u32 = 6u;
// Counter index of the random walk's block.
const WALK_BLOCK: u32 = 1u;
// Counter index of the independence step's second block (chi-square and model choice).
const MODEL_BLOCK: u32 = 9u;
// Smallest shape of a beta-binomial term, 2^-126: mu phi underflows (or flushes) to 0, where the
// Stirling shifts would divide 0 by 0 (MIN_SHAPE in src/kernels/site_layout.rs: build.rs checks it).
const MIN_SHAPE: f32 = 1.17549435e-38;
// Random-walk step sd of each logit mu (mirrored in src/kernels/site_layout.rs, checked by build.rs).
const RW_LOGIT_MU: f32 = 0.5;
// Degrees of freedom of log phi's Student-t prior; 4 makes its chi-square two exponentials.
const LOG_PHI_DOF: f32 = 4.0;
// Degrees of freedom of the slab's Student-t (mirrored in src/kernels/site_layout.rs, checked by build.rs).
const SLAB_DOF: f32 = 2.0;
// Probability that the independence step proposes "differ" (mirrored in src/kernels/site_layout.rs, checked by build.rs).
const PROPOSE_DIFFER: f32 = 0.5;

@group(0) @binding(0) var<uniform> params: SiteParams;
@group(0) @binding(1) var<storage, read> samples: array<SiteSample>;
// Samples of site s: site_offsets[s] .. site_offsets[s + 1].
@group(0) @binding(2) var<storage, read> site_offsets: array<u32>;
@group(0) @binding(3) var<storage, read> hyper: array<SiteHyper>;
@group(0) @binding(4) var<storage, read_write> state: array<f32>;
// mu per (site, chain, draw of the whole run, group).
@group(0) @binding(5) var<storage, read_write> draws: array<f32>;
// (log mu_0, log(1 - mu_0), log phi, differ) per (site, chain): stage 1's statistics, with
// the logits in the state.
@group(0) @binding(6) var<storage, read_write> stats: array<vec4<f32>>;
// Per site, its rng::site_id (chromosome key, position): the key of its random numbers.
@group(0) @binding(7) var<storage, read> site_ids: array<vec2<u32>>;

override WORKGROUP_SIZE: u32 = 64u;
// The study's groups (params.n_groups), fixed per pipeline: every loop over the groups then has
// a constant bound and unrolls, so the per-group arrays are indexed by constants and stay in
// registers. A sample's group only selects among them (see `proposal`), never indexes one: an
// array indexed at run time lives in slow local memory on NVIDIA's compiler.
override N_GROUPS: u32 = 2u;

struct Point {
    log_mu: array<f32, 8>,
    log_1m: array<f32, 8>,
    z: f32,
    differ: bool,
}

// The independence proposal's Beta shapes at one log phi: each group's, and the pooled
// ones of a shared mu, with the ln B of those a point that differs or not needs: each
// group's, or in ln_beta[0] the pooled shapes' (a chain keeps the proposal of its own point,
// whose model only an accepted independence step changes).
struct Proposal {
    shapes: array<vec2<f32>, 8>,
    ln_beta: array<f32, 8>,
    same: vec2<f32>,
}

fn proposal(first: u32, last: u32, z: f32, differ: bool, h: SiteHyper) -> Proposal {
    var q: Proposal;
    for (var g = 0u; g < N_GROUPS; g++) {
        q.shapes[g] = vec2<f32>(h.a, h.b);
    }
    q.same = vec2<f32>(h.a, h.b);
    let phi = exp(z);
    for (var j = first; j < last; j++) {
        let s = samples[j];
        let c = (phi + 1.0) / (phi + f32(s.total));
        let counts = c * vec2<f32>(f32(s.methylated), f32(s.total - s.methylated));
        // Adding zeros to the other groups leaves them exactly as they were.
        for (var g = 0u; g < N_GROUPS; g++) {
            q.shapes[g] += select(vec2<f32>(0.0), counts, s.group == g);
        }
        q.same += counts;
    }
    // One loop for "differ" (each group's shapes) and "same" (the pooled shapes, once), so
    // that a site's chains on either side of the model choice share one code path.
    for (var g = 0u; g < N_GROUPS; g++) {
        if (differ || g == 0u) {
            let shapes = select(q.same, q.shapes[g], differ);
            q.ln_beta[g] = ln_beta(shapes.x, shapes.y);
        }
    }
    return q;
}

// log of the posterior density at p, up to a constant, in (log phi, mu) coordinates, and each
// group's beta-binomial log likelihood in it: a random walk on one mu then needs only that
// group's terms at the new point. log phi's prior is left out, here and in log_proposal: it
// is also log phi's proposal, so it cancels from the independence step's ratio, the only
// move of log phi.
struct Target {
    total: f32,
    likelihood: array<f32, 8>,
}

// Every group's beta-binomial log likelihood at p.
fn likelihoods(first: u32, last: u32, p: Point) -> array<f32, 8> {
    let phi = exp(p.z);
    var likelihood: array<f32, 8>;
    var shapes: array<vec2<f32>, 8>;
    for (var g = 0u; g < N_GROUPS; g++) {
        shapes[g] = max(vec2<f32>(exp(p.log_mu[g]) * phi, exp(p.log_1m[g]) * phi), vec2<f32>(MIN_SHAPE));
    }
    for (var j = first; j < last; j++) {
        let s = samples[j];
        var shape = shapes[0];
        for (var g = 1u; g < N_GROUPS; g++) {
            shape = select(shape, shapes[g], s.group == g);
        }
        let term = beta_binomial_log_ratio(f32(s.methylated), f32(s.total), shape.x, shape.y);
        for (var g = 0u; g < N_GROUPS; g++) {
            likelihood[g] += select(0.0, term, s.group == g);
        }
    }
    return likelihood;
}

fn log_target(first: u32, last: u32, p: Point, h: SiteHyper) -> Target {
    return with_priors(p, likelihoods(first, last, p), h);
}

// The target at p from its groups' log likelihoods: the priors added.
fn with_priors(p: Point, likelihood: array<f32, 8>, h: SiteHyper) -> Target {
    var t: Target;
    t.total = mu_prior(p, h);
    for (var g = 0u; g < N_GROUPS; g++) {
        t.total += likelihood[g];
    }
    t.likelihood = likelihood;
    return t;
}

// log of the mus' prior density at p in mu coordinates, normalised (the jump between one mu
// and several compares densities on different spaces): the level's Beta and, where the
// groups differ, each other group's slab in logit with its Jacobian 1 / (mu (1 - mu)).
fn mu_prior(p: Point, h: SiteHyper) -> f32 {
    var lp = (h.a - 1.0) * p.log_mu[0] + (h.b - 1.0) * p.log_1m[0] - h.ln_beta;
    if (!p.differ) {
        return lp + h.log_same;
    }
    lp += h.log_differ;
    let level = p.log_mu[0] - p.log_1m[0];
    for (var g = 1u; g < N_GROUPS; g++) {
        let beta = p.log_mu[g] - p.log_1m[g] - level;
        let slab = h.ln_slab - 0.5 * (SLAB_DOF + 1.0) * log(1.0 + beta * beta * h.slab_inv_scale2);
        lp += slab - p.log_mu[g] - p.log_1m[g];
    }
    return lp;
}

// The groups' log likelihoods after a random-walk step of group g's mu (p differs) or of the
// shared mu (p does not): the moved groups' sums afresh over their samples in order, the
// others as in `old` (the values `likelihoods` gives, summed in the same order).
fn walk_likelihoods(first: u32, last: u32, p: Point, g: u32, old: array<f32, 8>) -> array<f32, 8> {
    let phi = exp(p.z);
    let a = max(exp(p.log_mu[g]) * phi, MIN_SHAPE);
    let b = max(exp(p.log_1m[g]) * phi, MIN_SHAPE);
    var likelihood = old;
    for (var k = 0u; k < N_GROUPS; k++) {
        likelihood[k] = select(old[k], 0.0, !p.differ || k == g);
    }
    for (var j = first; j < last; j++) {
        let s = samples[j];
        if (!p.differ || s.group == g) {
            let term = beta_binomial_log_ratio(f32(s.methylated), f32(s.total), a, b);
            for (var k = 0u; k < N_GROUPS; k++) {
                likelihood[k] += select(0.0, term, s.group == k);
            }
        }
    }
    return likelihood;
}

// log density of the independence proposal at p, whose log phi `q` was built at, up to the
// same constant at every p (the model choice's constant probability, and log phi's prior, are
// left out).
fn log_proposal(p: Point, q: Proposal, h: SiteHyper) -> f32 {
    var lq = 0.0;
    if (p.differ) {
        for (var g = 0u; g < N_GROUPS; g++) {
            let s = q.shapes[g];
            lq += (s.x - 1.0) * p.log_mu[g] + (s.y - 1.0) * p.log_1m[g] - q.ln_beta[g];
        }
    } else {
        lq += (q.same.x - 1.0) * p.log_mu[0] + (q.same.y - 1.0) * p.log_1m[0] - q.ln_beta[0];
    }
    return lq;
}

// (log mu, log(1 - mu)) of logit u: -softplus(-u) and -softplus(u), which share their log term.
fn log_mu_pair(u: f32) -> vec2<f32> {
    let log_term = log(1.0 + exp(-abs(u)));
    return vec2<f32>(-(max(-u, 0.0) + log_term), -(max(u, 0.0) + log_term));
}

// What the recycled sums estimate at p: (delta > d, delta < -d, differ) as 0 or 1.
fn indicators(p: Point) -> vec3<f32> {
    if (!p.differ) {
        return vec3<f32>(0.0);
    }
    var first = 0.0;
    var second = 0.0;
    for (var g = 0u; g < N_GROUPS; g++) {
        first = select(first, p.log_mu[g], g == params.compare_first);
        second = select(second, p.log_mu[g], g == params.compare_second);
    }
    let delta = exp(second) - exp(first);
    return vec3<f32>(select(0.0, 1.0, delta > params.threshold), select(0.0, 1.0, delta < -params.threshold), 1.0);
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
    let base = invocation * STATE_STRIDE;

    var here: Point;
    var lp_here: Target;
    var recycled = vec3<f32>(0.0);
    var accepted = 0.0;
    let fresh = params.init != 0u;
    if (!fresh) {
        var likelihood: array<f32, 8>;
        for (var g = 0u; g < N_GROUPS; g++) {
            let pair = log_mu_pair(state[base + g]);
            here.log_mu[g] = pair.x;
            here.log_1m[g] = pair.y;
            likelihood[g] = state[base + STATE_LIKELIHOOD + g];
        }
        here.z = state[base + STATE_LOG_PHI];
        here.differ = state[base + STATE_DIFFER] != 0.0;
        recycled = vec3<f32>(
            state[base + STATE_RECYCLED],
            state[base + STATE_RECYCLED + 1u],
            state[base + STATE_RECYCLED + 2u],
        );
        accepted = state[base + STATE_ACCEPTED];
        lp_here = with_priors(here, likelihood, h);
    }
    // The proposal at here's log phi (only an accepted independence step moves log phi).
    var q_here = proposal(first, last, here.z, here.differ, h);
    let n_sweeps = params.warmup + params.n_draws;
    for (var k = 0u; k < n_sweeps; k++) {
        let sweep = params.first_sweep + k;
        let first_sweep_fresh = fresh && k == 0u;
        // 1. Independence proposal.
        let words = philox4x32_10(vec4<u32>(0u, site_pos, sweep, STREAM_SITE << STREAM_SHIFT), key);
        let extra = philox4x32_10(vec4<u32>(MODEL_BLOCK, site_pos, sweep, STREAM_SITE << STREAM_SHIFT), key);
        var there: Point;
        // Student-t(4): a normal over the root of a chi-square(4) / 4, that chi-square being
        // -2 log(u1 u2).
        let chi_square = -2.0 * log(uniform_from_word(extra.x) * uniform_from_word(extra.y));
        there.z = h.m0 + h.s0 * standard_normal(words.x, words.y) * sqrt(LOG_PHI_DOF / chi_square);
        there.differ = uniform_from_word(extra.z) < PROPOSE_DIFFER;
        let q_there = proposal(first, last, there.z, there.differ, h);
        // The shared mu is drawn as group 0's (the same random numbers, pooled shapes).
        // One call site for both models (a site's chains may differ in it): group g's shapes
        // where the groups differ, the pooled shapes once where they share the mu.
        var logs: vec2<f32>;
        for (var g = 0u; g < N_GROUPS; g++) {
            if (there.differ || g == 0u) {
                let shapes = select(q_there.same, q_there.shapes[g], there.differ);
                logs = log_beta_variate(shapes.x, shapes.y, key, g, site_pos, sweep);
            }
            there.log_mu[g] = logs.x;
            there.log_1m[g] = logs.y;
        }
        let lp_there = log_target(first, last, there, h);
        var log_ratio = 3.0e38;
        if (!first_sweep_fresh) {
            log_ratio = (lp_there.total - log_proposal(there, q_there, h))
                - (lp_here.total - log_proposal(here, q_here, h));
        }
        if (k >= params.warmup) {
            let alpha = exp(min(log_ratio, 0.0));
            recycled += alpha * indicators(there) + (1.0 - alpha) * indicators(here);
        }
        if (log(uniform_from_word(words.z)) < log_ratio) {
            here = there;
            lp_here = lp_there;
            q_here = q_there;
            accepted += 1.0;
        }
        // 2. One random-walk step: of group (sweep mod G)'s logit mu where the groups differ,
        // of the shared mu where they do not; its target gains the Jacobian mu (1 - mu). One
        // step for every chain, so that a warp's chains that differ do not walk their other
        // groups while the rest idle (docs/perf-notes.md).
        if (params.random_walk != 0u) {
            let g = sweep % N_GROUPS;
            let wg = philox4x32_10(vec4<u32>(WALK_BLOCK, site_pos, sweep, STREAM_SITE << STREAM_SHIFT), key);
            let u1 = here.log_mu[g] - here.log_1m[g] + RW_LOGIT_MU * standard_normal(wg.x, wg.y);
            var step = here;
            let pair = log_mu_pair(u1);
            // The groups the step moves: g where the groups differ, every group where they
            // share the mu. One code path for both, so that the chains of a site on either
            // side of the model choice do not run two branches in turn.
            var before = 0.0;
            var after = 0.0;
            for (var j = 0u; j < N_GROUPS; j++) {
                if (!here.differ || j == g) {
                    step.log_mu[j] = pair.x;
                    step.log_1m[j] = pair.y;
                }
            }
            let likelihood = walk_likelihoods(first, last, step, g, lp_here.likelihood);
            for (var j = 0u; j < N_GROUPS; j++) {
                let moved = !here.differ || j == g;
                before += select(0.0, lp_here.likelihood[j], moved);
                after += select(0.0, likelihood[j], moved);
            }
            before += mu_prior(here, h);
            after += mu_prior(step, h);
            let jacobian = step.log_mu[g] + step.log_1m[g] - here.log_mu[g] - here.log_1m[g];
            if (log(uniform_from_word(wg.z)) < after - before + jacobian) {
                lp_here.total += after - before;
                lp_here.likelihood = likelihood;
                here = step;
            }
        }
        if (k >= params.warmup) {
            let d = k - params.warmup;
            let out = (invocation * params.draws_total + params.draw_offset + d) * N_GROUPS;
            for (var g = 0u; g < N_GROUPS; g++) {
                draws[out + g] = exp(here.log_mu[g]);
            }
        }
    }
    for (var g = 0u; g < N_GROUPS; g++) {
        state[base + g] = here.log_mu[g] - here.log_1m[g];
        state[base + STATE_LIKELIHOOD + g] = lp_here.likelihood[g];
    }
    state[base + STATE_LOG_PHI] = here.z;
    state[base + STATE_DIFFER] = select(0.0, 1.0, here.differ);
    state[base + STATE_ACCEPTED] = accepted;
    state[base + STATE_RECYCLED] = recycled.x;
    state[base + STATE_RECYCLED + 1u] = recycled.y;
    state[base + STATE_RECYCLED + 2u] = recycled.z;
    stats[invocation] = vec4<f32>(here.log_mu[0], here.log_1m[0], here.z, select(0.0, 1.0, here.differ));
}

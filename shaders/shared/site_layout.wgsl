// Structs of site_update.wgsl shared byte for byte with the host: build.rs checks them against
// src/kernels/site_layout.rs (field order, types and padding).

struct SiteParams {
    seed: u32,
    n_sites: u32,
    n_chains: u32,
    n_groups: u32,
    first_sweep: u32,
    // Sweeps run in this dispatch: `warmup` unrecorded, then `n_draws` recorded.
    warmup: u32,
    n_draws: u32,
    // Nonzero: start from the proposal (the first step always accepts), not from `state`.
    init: u32,
    // Draws recorded per (site, chain) over the whole run, and how many came before this dispatch.
    draws_total: u32,
    draw_offset: u32,
    // Nonzero: step 2, one random-walk step on a logit mu, follows the independence step
    // (stage 2); stage 1 skips it (see fit.rs).
    random_walk: u32,
    // The groups of delta = mu[compare_second] - mu[compare_first], and the d of the recycled
    // P(delta > d) and P(delta < -d) sums in the state.
    compare_first: u32,
    compare_second: u32,
    threshold: f32,
    _pad0: u32,
    _pad1: u32,
}

// One chain's genome-wide prior of a site (docs/methyl-model.md): group 0's mu (the level) ~
// Beta(a, b), with its normalising ln B(a, b); log phi = m0 + s0 t with t Student's t on
// LOG_PHI_DOF degrees of freedom; with prior probability e^log_same the groups share the
// level, with e^log_differ each other group g has logit mu_g = logit mu_0 + beta_g, beta_g
// tau times a Student-t on SLAB_DOF degrees of freedom (the slab: slab_inv_scale2 =
// 1 / (SLAB_DOF tau^2), and ln_slab its log normalising constant).
struct SiteHyper {
    a: f32,
    b: f32,
    m0: f32,
    s0: f32,
    log_same: f32,
    log_differ: f32,
    ln_beta: f32,
    slab_inv_scale2: f32,
    ln_slab: f32,
    _pad0: f32,
    _pad1: f32,
    _pad2: f32,
}

struct SiteSample {
    group: u32,
    methylated: u32,
    total: u32,
    _pad: u32,
}

// Structs of site_update.wgsl shared byte for byte with the host: keep in sync with
// src/methyl/site.rs (field order, types and padding).

struct SiteParams {
    seed: u32,
    n_sites: u32,
    n_chains: u32,
    n_groups: u32,
    // Global number of this dispatch's first site: counter word 1 of its random numbers.
    site_offset: u32,
    first_sweep: u32,
    // Sweeps run in this dispatch: `warmup` unrecorded, then `n_draws` recorded.
    warmup: u32,
    n_draws: u32,
    // Nonzero: start from the proposal (the first step always accepts), not from `state`.
    init: u32,
    // Draws recorded per (site, chain) over the whole run, and how many came before this dispatch.
    draws_total: u32,
    draw_offset: u32,
    // Nonzero: step 2, the random walk on each logit mu, follows the independence step
    // (stage 2); stage 1 skips it (see fit.rs).
    random_walk: u32,
}

struct SiteSample {
    group: u32,
    methylated: u32,
    total: u32,
    _pad: u32,
}

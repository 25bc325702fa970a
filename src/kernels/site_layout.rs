//! The methylation site update's layouts, shared byte for byte with
//! `shaders/shared/site_layout.wgsl` and the constants of `shaders/site_update.wgsl`
//! (build.rs checks that they agree): the uniform parameters, the hyperparameters per chain,
//! the samples, and the offsets into each (site, chain)'s state.

use bytemuck::{Pod, Zeroable};

use crate::math::ln_gamma;

/// Most groups a design may have (MAX_GROUPS in site_update.wgsl: build.rs checks it).
pub(crate) const MAX_GROUPS: usize = 8;
/// Floats of state per (site, chain), checked against site_update.wgsl by build.rs: logit mu per group,
/// log phi, each group's beta-binomial log likelihood at that point (so that a dispatch that
/// goes on from the state, as stage 1's do every sweep, need not evaluate it again), differ
/// (0 or 1), the accepted independence steps since the chain's start, and the recycled sums of
/// P(delta > d), P(delta < -d) and P(differ) over the recorded sweeps so far.
pub const STATE_STRIDE: usize = 2 * MAX_GROUPS + 6;
pub(crate) const STATE_LOG_PHI: usize = MAX_GROUPS;
pub(crate) const STATE_LIKELIHOOD: usize = MAX_GROUPS + 1;
pub(crate) const STATE_DIFFER: usize = 2 * MAX_GROUPS + 1;
pub const STATE_ACCEPTED: usize = 2 * MAX_GROUPS + 2;
/// The three recycled sums.
pub const STATE_RECYCLED: usize = 2 * MAX_GROUPS + 3;
/// Random-walk step sd of each logit mu (build.rs checks it against site_update.wgsl).
pub(crate) const RW_LOGIT_MU: f32 = 0.5;
/// Degrees of freedom of log phi's Student-t prior: heavier-tailed than the Normal, so a site
/// far more variable than most is explained by its phi, not by a difference; at 4 its
/// chi-square is two exponentials (build.rs checks it against site_update.wgsl).
pub const LOG_PHI_DOF: f32 = 4.0;
/// Degrees of freedom of the slab's Student-t: heavy-tailed, so that a large difference near
/// 0 or 1 (huge in logit) is not ruled out by the many small ones that set tau (build.rs checks it against site_update.wgsl).
pub const SLAB_DOF: f32 = 2.0;
/// Probability that the independence step proposes "differ" (build.rs checks it against site_update.wgsl).
pub(crate) const PROPOSE_DIFFER: f32 = 0.5;
/// Counter index of the random walk's Philox block (build.rs checks it against site_update.wgsl).
pub(crate) const WALK_BLOCK: u32 = 1;
/// Counter index of the independence step's second Philox block (chi-square and model
/// choice), where it was when each group walked with block 1 + g, so that its stream stayed
/// (build.rs checks it against site_update.wgsl).
pub(crate) const MODEL_BLOCK: u32 = MAX_GROUPS as u32 + 1;
/// Smallest shape of a beta-binomial term: mu phi underflows to 0 in f32 (the GPU flushes
/// below 2^-126), where the Stirling shifts would divide 0 by 0 (build.rs checks it against the shader).
pub(crate) const MIN_SHAPE: f32 = f32::MIN_POSITIVE;

/// Uniform parameters of one site_update dispatch (SiteParams in
/// shaders/shared/site_layout.wgsl: build.rs checks it).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct SiteParams {
    pub seed: u32,
    pub n_sites: u32,
    pub n_chains: u32,
    pub n_groups: u32,
    pub first_sweep: u32,
    /// Sweeps run: `warmup` unrecorded, then `n_draws` recorded.
    pub warmup: u32,
    pub n_draws: u32,
    /// Nonzero: start from the proposal, not from the state.
    pub init: u32,
    /// Draws recorded per (site, chain) over the whole run, and how many came before this dispatch.
    pub draws_total: u32,
    pub draw_offset: u32,
    /// Nonzero: step 2, one random-walk step on a logit mu, follows the independence step
    /// (stage 2); stage 1 skips it (see `fit.rs`).
    pub random_walk: u32,
    /// The groups of delta = mu[compare_second] - mu[compare_first], and the d of the
    /// recycled P(delta > d) and P(delta < -d).
    pub compare_first: u32,
    pub compare_second: u32,
    pub threshold: f32,
    pub _pad: [u32; 2],
}

/// One chain's genome-wide prior of a site (SiteHyper in site_layout.wgsl: build.rs checks it):
/// group 0's mu (the level) ~ Beta(a, b), with its normalising ln B(a, b); log phi = m0 + s0 t,
/// t ~ Student-t(LOG_PHI_DOF); with prior probability e^log_same the groups share the level,
/// with e^log_differ each other group has logit mu_g = logit mu_0 + beta_g, beta_g tau times a
/// Student-t(SLAB_DOF): slab_inv_scale2 = 1 / (SLAB_DOF tau^2), ln_slab its log normaliser.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct SiteHyper {
    pub a: f32,
    pub b: f32,
    pub m0: f32,
    pub s0: f32,
    pub log_same: f32,
    pub log_differ: f32,
    pub ln_beta: f32,
    pub slab_inv_scale2: f32,
    pub ln_slab: f32,
    pub _pad: [f32; 3],
}

impl SiteHyper {
    /// From (a, b, m0, s0), w (the prior probability that a site's groups differ) and tau
    /// (the slab's sd of a difference in logit).
    pub fn new([a, b, m0, s0]: [f32; 4], w: f64, tau: f64) -> SiteHyper {
        let nu = f64::from(SLAB_DOF);
        SiteHyper {
            a,
            b,
            m0,
            s0,
            log_same: (-w).ln_1p() as f32,
            log_differ: w.ln() as f32,
            ln_beta: (ln_gamma(f64::from(a)) + ln_gamma(f64::from(b)) - ln_gamma(f64::from(a + b)))
                as f32,
            slab_inv_scale2: (1.0 / (nu * tau * tau)) as f32,
            ln_slab: (ln_gamma(0.5 * (nu + 1.0))
                - ln_gamma(0.5 * nu)
                - 0.5 * (nu * std::f64::consts::PI).ln()
                - tau.ln()) as f32,
            _pad: [0.0; 3],
        }
    }
}

/// One sample's counts at a site (SiteSample in site_layout.wgsl: build.rs checks it).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq, Eq)]
pub struct SiteSample {
    pub group: u32,
    pub methylated: u32,
    pub total: u32,
    pub _pad: u32,
}

/// The sites of one dispatch: samples in CSR form.
#[derive(Debug, Clone, Default)]
pub struct SiteBatch {
    pub samples: Vec<SiteSample>,
    /// len n_sites + 1.
    pub offsets: Vec<u32>,
    /// Per site, its `rng::site_id`: the key of its random numbers.
    pub ids: Vec<[u32; 2]>,
}

impl SiteBatch {
    pub fn new() -> Self {
        SiteBatch {
            samples: Vec::new(),
            offsets: vec![0],
            ids: Vec::new(),
        }
    }

    /// Closes the site whose samples were pushed since the last one closed.
    pub fn end_site(&mut self, id: [u32; 2]) {
        self.offsets.push(self.samples.len() as u32);
        self.ids.push(id);
    }

    pub fn n_sites(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }
}

/// Outputs of one dispatch, sized by `SiteOutputs::new`.
pub struct SiteOutputs {
    /// Per (site, chain): STATE_STRIDE floats.
    pub state: Vec<f32>,
    /// mu per (site, chain, draw of the whole run, group).
    pub draws: Vec<f32>,
    /// (log mu_0, log(1 - mu_0), log phi, differ) per (site, chain): stage 1's statistics,
    /// with the logits in the state.
    pub stats: Vec<[f32; 4]>,
}

impl SiteOutputs {
    pub fn new(params: &SiteParams) -> SiteOutputs {
        SiteOutputs::reusing(params, Vec::new())
    }

    /// As `new`, with the draws in `spare`'s memory: a buffer used again costs no page faults.
    pub fn reusing(params: &SiteParams, spare: Vec<f32>) -> SiteOutputs {
        let n = params.n_sites as usize * params.n_chains as usize;
        let draws = n * params.draws_total as usize * params.n_groups as usize;
        SiteOutputs {
            state: vec![0.0; n * STATE_STRIDE],
            draws: zeroed(spare, draws),
            stats: vec![[0.0; 4]; n],
        }
    }
}

/// `len` zeros in `spare`'s memory (a new allocation where it has too little).
pub fn zeroed(mut spare: Vec<f32>, len: usize) -> Vec<f32> {
    spare.clear();
    spare.resize(len, 0.0);
    spare
}

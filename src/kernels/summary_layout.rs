//! The layouts of site_summaries.wgsl and draws_gather.wgsl, the two shaders that work on a
//! site stage's draws where they lie, shared byte for byte with them (build.rs checks it):
//! their uniform parameters, their limits, and the order of each summary's six values.

use bytemuck::{Pod, Zeroable};

/// Invocations per workgroup, one workgroup per (site, quantity) (build.rs checks it).
pub const SUMMARY_WORKGROUP: u32 = 64;
/// Most pooled draws (chains x draws) a quantity may have: three arrays of them fill 12 KiB
/// of the 16 KiB of workgroup memory every adapter offers (build.rs checks it). A pipeline's
/// arrays hold its run's draws alone (the shader's override SUMMARY_DRAWS).
pub const MAX_SUMMARY_DRAWS: u32 = 1024;
/// Floats per (site, quantity) summary: SUMMARY_MEAN ... SUMMARY_ESS (build.rs checks it).
pub const SUMMARY_STRIDE: usize = 6;
pub const SUMMARY_MEAN: usize = 0;
pub const SUMMARY_SD: usize = 1;
pub const SUMMARY_Q2_5: usize = 2;
pub const SUMMARY_Q97_5: usize = 3;
pub const SUMMARY_RHAT: usize = 4;
pub const SUMMARY_ESS: usize = 5;
/// The interval the summaries report, as the host's: the 2.5% and 97.5% quantiles.
pub const SUMMARY_PROBS: (f64, f64) = (0.025, 0.975);

/// Uniform parameters of one site_summaries dispatch (SummaryParams in site_summaries.wgsl:
/// build.rs checks it). Each recorded draw holds `stride` values; the quantities are its
/// first `n_direct` values and the difference `compare_second - compare_first`, in that order.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Pod, Zeroable)]
pub struct SummaryParams {
    pub n_sites: u32,
    pub n_chains: u32,
    pub n_draws: u32,
    pub stride: u32,
    pub n_direct: u32,
    pub compare_first: u32,
    pub compare_second: u32,
    /// numpy's "linear" 2.5% and 97.5% quantiles of the pooled draws: order statistic
    /// `index` and the next, `gamma` of the way between (`quantile_index`).
    pub low_index: u32,
    pub low_gamma: f32,
    pub high_index: u32,
    pub high_gamma: f32,
    pub _pad: u32,
}

impl SummaryParams {
    /// The parameters of `n_sites` sites of `n_chains` x `n_draws` draws, each `stride`
    /// values wide; None where the shader cannot summarise them (see `device_summarises`).
    pub fn new(
        n_sites: usize,
        (n_chains, n_draws): (usize, usize),
        stride: usize,
        n_direct: usize,
        compare: (usize, usize),
    ) -> Option<SummaryParams> {
        if !device_summarises(n_chains, n_draws) {
            return None;
        }
        let pooled = n_chains * n_draws;
        let (low_index, low_gamma) = quantile_index(pooled, SUMMARY_PROBS.0);
        let (high_index, high_gamma) = quantile_index(pooled, SUMMARY_PROBS.1);
        Some(SummaryParams {
            n_sites: n_sites as u32,
            n_chains: n_chains as u32,
            n_draws: n_draws as u32,
            stride: stride as u32,
            n_direct: n_direct as u32,
            compare_first: compare.0 as u32,
            compare_second: compare.1 as u32,
            low_index,
            low_gamma,
            high_index,
            high_gamma,
            _pad: 0,
        })
    }

    /// Quantities per site: the direct values and the difference.
    pub fn quantities(&self) -> usize {
        self.n_direct as usize + 1
    }

    /// Draws of a split chain and split chains (every chain halved, an odd middle dropped).
    pub fn split(&self) -> (usize, usize) {
        (self.n_draws as usize / 2, 2 * self.n_chains as usize)
    }
}

/// Whether the shader summarises chains of this shape: at least two chains (R-hat) of at
/// least four draws (a split half's variance), at most SUMMARY_WORKGROUP / 2 chains (one
/// invocation per split chain) and MAX_SUMMARY_DRAWS draws pooled. Others go to the host.
pub fn device_summarises(n_chains: usize, n_draws: usize) -> bool {
    (2..=SUMMARY_WORKGROUP as usize / 2).contains(&n_chains)
        && n_draws >= 4
        && n_chains * n_draws <= MAX_SUMMARY_DRAWS as usize
}

/// numpy's "linear" quantile p of n sorted values, as (i, gamma): lerp between order
/// statistics i and i + 1 (the last alone, with gamma 0, at its end), computed in f64 as
/// `mcmc::diagnostics::quantile_sorted` does.
pub fn quantile_index(n: usize, p: f64) -> (u32, f32) {
    let virtual_index = (n - 1) as f64 * p;
    if virtual_index >= (n - 1) as f64 {
        return ((n - 1) as u32, 0.0);
    }
    let prev = virtual_index.floor();
    (prev as u32, (virtual_index - prev) as f32)
}

/// Invocations per workgroup of draws_gather, one per gathered float (build.rs checks it).
pub const GATHER_WORKGROUP: u32 = 256;

/// Uniform parameters of one draws_gather dispatch (GatherParams in draws_gather.wgsl:
/// build.rs checks it): `n_sites` chosen sites of `per_site` floats each.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Pod, Zeroable)]
pub struct GatherParams {
    pub n_sites: u32,
    pub per_site: u32,
    pub _pad0: u32,
    pub _pad1: u32,
}

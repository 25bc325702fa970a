//! The methylation run's sampling: genome-wide hyperparameters from a sample of the sites,
//! then every site, chunk by chunk, with bounded memory.
//!
//! Two stages. (1) A uniform sample of `hyper_sites` sites runs the joint Gibbs sampler, the
//! hyperparameters drawn every sweep (`hyper`). (2) Every site of the genome, chunk by chunk,
//! runs its own chains with the hyperparameters fixed at one stage-1 draw per chain (here;
//! `summaries` turns their draws into rows). The hyperparameters' posterior from thousands
//! of sites is narrow enough that the sites after them would hardly move it (its sd shrinks
//! as one over the root of the sites; w's, learned from the few sites that differ, least),
//! so the two-stage run is the joint posterior up to that width, which the chains still
//! carry. Both stages run the site update through `site_stage`.

use crate::kernels::gpu::summary_stage::SummaryCall;
use crate::kernels::gpu::GpuError;
use crate::kernels::site_layout::{
    SiteOutputs, SiteParams, STATE_ACCEPTED, STATE_RECYCLED, STATE_STRIDE,
};
use crate::kernels::summary_layout::SummaryParams;
use crate::mcmc::diagnostics::normal_scores_by_twice_rank;
use crate::methyl::merge::{Site, SiteMerger};

// Stage 1's result, the site stage and the summaries under the paths they had when they lived here.
use crate::kernels::stages::SiteStage;
pub use crate::methyl::hyper::Hyper;
pub use crate::methyl::scan_sample::HyperSites;
pub use crate::methyl::site_stage::{site_batch, site_stage, FitConfig};
use crate::methyl::summaries::swept_draws;
pub use crate::methyl::summaries::{summarize_chunk, ChunkResult, SiteSummary, SweptChunk};

/// Sweeps per site-update call: GPU drivers have watchdogs on long dispatches, so longer runs
/// go in several, the chains carried over in `state`. (lavapipe's limit, 65,535 loop
/// iterations an invocation, is met by the stage itself: `Gpu::sweeps_per_dispatch`.)
pub(crate) const SWEEPS_PER_DISPATCH: u32 = 64;

/// Pulls up to `n` sites from the merge.
pub(crate) fn next_sites(
    merger: &mut SiteMerger,
    n: usize,
) -> Result<Vec<Site>, crate::error::UserError> {
    let mut sites = Vec::with_capacity(n.min(1 << 20));
    while sites.len() < n {
        match merger.next_site()? {
            Some(site) => sites.push(site),
            None => break,
        }
    }
    Ok(sites)
}

/// The question a run asks of each site: delta = mu[groups.1] - mu[groups.0], and the d of
/// P(delta > d) and P(delta < -d).
#[derive(Debug, Clone, Copy)]
pub struct Contrast {
    pub groups: (usize, usize),
    pub threshold: f64,
}

/// Stage 2's sweeps of one chunk's sites with the stage-1 hyperparameters: their recorded
/// draws (`summarize_chunk` turns them into rows; `methyl` runs the two in a pipeline).
#[allow(clippy::too_many_arguments)]
pub fn sweep_chunk(
    stage: &SiteStage,
    sites: &[Site],
    sample_group: &[u32],
    n_groups: usize,
    hyper: &Hyper,
    config: &FitConfig,
    contrast: Contrast,
    spare: Vec<f32>,
) -> Result<SweptChunk, GpuError> {
    let batch = site_batch(sites, sample_group);
    let first = SiteParams {
        seed: config.seed,
        n_sites: sites.len() as u32,
        n_chains: config.chains,
        n_groups: n_groups as u32,
        // Stage 2's sweeps are numbered after stage 1's, so the two never share random numbers.
        first_sweep: config.hyper_warmup + config.hyper_draws,
        warmup: 0,
        n_draws: 0,
        init: 1,
        draws_total: config.draws,
        draw_offset: 0,
        random_walk: 1,
        compare_first: contrast.groups.0 as u32,
        compare_second: contrast.groups.1 as u32,
        threshold: contrast.threshold as f32,
        _pad: [0; 2],
    };

    // Each site's groups' mus and their difference, on the device where it summarises.
    let summary = device_summary(
        stage.summarizes(),
        sites.len(),
        config,
        n_groups,
        contrast.groups,
    );
    // Summarised on the device, the draws stay there: none come back with the outputs, and
    // stage 2 brings back, into `spare`, those the host needs (`sites_needing_draws`).
    let (mut out, draws_later) = match summary {
        Some(_) => {
            let no_draws = SiteParams {
                draws_total: 0,
                ..first
            };
            (SiteOutputs::reusing(&no_draws, Vec::new()), Some(spare))
        }
        None => (SiteOutputs::reusing(&first, spare), None),
    };
    let mut summaries = Vec::new();
    // Dispatches of at most SWEEPS_PER_DISPATCH sweeps, the chains carried in `state`.
    let total = config.warmup + config.draws;
    let mut done = 0;
    while done < total {
        let n = SWEEPS_PER_DISPATCH.min(total - done);
        let warmup = config.warmup.saturating_sub(done).min(n);
        let params = SiteParams {
            first_sweep: first.first_sweep + done,
            warmup,
            n_draws: n - warmup,
            init: u32::from(done == 0),
            draw_offset: done.saturating_sub(config.warmup),
            ..first
        };
        done += n;
        // The last dispatch also summarises the draws where the device holds them.
        let call = summary
            .as_ref()
            .filter(|_| done == total)
            .map(|(params, scores)| SummaryCall { params, scores });
        stage.run_summarized(
            &params,
            &batch,
            &hyper.per_chain,
            &mut out,
            call,
            &mut summaries,
        )?;
    }
    // The state holds the run's accepted steps and recycled sums.
    let chains = out.state.chunks_exact(STATE_STRIDE);
    let accepted: f64 = chains.clone().map(|c| f64::from(c[STATE_ACCEPTED])).sum();
    let recycled = chains
        .map(|c| [0, 1, 2].map(|i| c[STATE_RECYCLED + i]))
        .collect();
    let steps = out.stats.len() as f64 * f64::from(total);
    let (draws, draw_sites) = swept_draws(out.draws, draws_later);
    Ok(SweptChunk {
        draws,
        draw_sites,
        summaries,
        recycled,
        acceptance: accepted / steps.max(1.0),
    })
}

/// What site_summaries needs for a chunk of `n_sites` whose draws hold `slots` values, each
/// one a quantity, and delta from `compare`: its parameters and normal scores (by twice the
/// rank among the split draws). None where the stage does not summarise (`summarizes`: on
/// the CPU, with `--summaries host`, or chains of a shape the shader does not take).
pub(crate) fn device_summary(
    summarizes: bool,
    n_sites: usize,
    config: &FitConfig,
    slots: usize,
    compare: (usize, usize),
) -> Option<(SummaryParams, Vec<f32>)> {
    let shape = (config.chains as usize, config.draws as usize);
    let params =
        SummaryParams::new(n_sites, shape, slots, slots, compare).filter(|_| summarizes)?;
    let (h, m) = params.split();
    let scores = normal_scores_by_twice_rank(h * m)
        .iter()
        .map(|&v| v as f32)
        .collect();
    Some((params, scores))
}

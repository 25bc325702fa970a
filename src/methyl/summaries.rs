//! Stage 2's per-site posterior summaries from a chunk's draws: moments and intervals of the
//! groups' mus and of delta, the recycled probabilities, R-hat and bulk ESS; and what the
//! regions and --draws-region keep of the draws.

use rayon::prelude::*;

use crate::io::cpu_time::CoreClock;
use crate::kernels::summary_layout::{
    SUMMARY_ESS, SUMMARY_MEAN, SUMMARY_Q2_5, SUMMARY_Q97_5, SUMMARY_RHAT, SUMMARY_SD,
    SUMMARY_STRIDE,
};
use crate::mcmc::diagnostics::{quantile_sorted, rhat_ess_bulk_and_sorted};
use crate::methyl::merge::Site;
use crate::methyl::regions::leaning;
use crate::methyl::site_stage::FitConfig;

/// What each recorded draw holds: `stride` values, the mus of the groups (or a design's
/// levels), then a design's tested coefficient in slot `coef`; delta compares `compare`.
#[derive(Debug, Clone, Copy)]
pub struct DrawSlots {
    pub stride: usize,
    pub compare: (usize, usize),
    pub coef: Option<usize>,
}

/// One site's posterior summary.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteSummary {
    pub chr: u32,
    pub pos: u64,
    pub n_samples: u32,
    pub coverage_total: u64,
    pub coverage_min: u32,
    /// Per group: mean, sd, 2.5% and 97.5% quantiles of mu.
    pub mu: Vec<[f64; 4]>,
    /// delta = mu[second] - mu[first]: mean, sd, 2.5%, 97.5%.
    pub delta: [f64; 4],
    /// A design's tested coefficient on the logit scale: mean, sd, 2.5%, 97.5%.
    pub coef: Option<[f64; 4]>,
    /// P(delta > d) and P(delta < -d), and P(the groups differ): waste-recycled estimates
    /// from the independence steps (smooth, where counting draws would tie).
    pub p_above: f64,
    pub p_below: f64,
    pub p_differ: f64,
    /// Largest R-hat and smallest bulk ESS over the mus and delta.
    pub r_hat: f64,
    pub ess_bulk: f64,
}

/// Mean, sd, 2.5% and 97.5% quantiles of draws in ascending order.
fn moments_and_interval(sorted: &[f64]) -> [f64; 4] {
    let n = sorted.len() as f64;
    let mean = sorted.iter().sum::<f64>() / n;
    let sd = (sorted.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    [
        mean,
        sd,
        quantile_sorted(sorted, 0.025),
        quantile_sorted(sorted, 0.975),
    ]
}

/// Summaries of one chunk's sites from their sweeps: the draws, mu per (site, chain, draw,
/// group) (and a design's tested coefficient in the last slot, `coef_slot`), and the
/// recycled sums of (P(delta > d), P(delta < -d), P(differ)) per (site, chain). Where the
/// device summarised the draws already (site_summaries.wgsl's rows per (site, quantity)),
/// its rows stand in for the host's.
pub(crate) fn summarize_sites(
    sites: &[Site],
    swept: &SweptChunk,
    (n_chains, n_draws): (usize, usize),
    slots: DrawSlots,
    clock: &CoreClock,
) -> Vec<SiteSummary> {
    let SweptChunk {
        draws,
        summaries: device,
        recycled,
        ..
    } = swept;
    let DrawSlots {
        stride: n_groups,
        compare,
        coef: coef_slot,
    } = slots;
    let n_mu = coef_slot.unwrap_or(n_groups);
    // The device's quantities per site: the mus, the coefficient, delta.
    let quantities = n_mu + usize::from(coef_slot.is_some()) + 1;
    let device_rows = sites.len() * quantities * SUMMARY_STRIDE;
    assert!(device.is_empty() || device.len() == device_rows);
    let summarize = |s: usize, site: &Site| {
        // The site's draws, (chain, draw, group) in order: a quantity's are every n_groups-th,
        // chain after chain, gathered in one allocation.
        let per_site = n_chains * n_draws * n_groups;
        // (Indexed only where the host summarises: a device's summaries leave `draws` empty.)
        let of = |g: usize| {
            let block = &draws[s * per_site..][..per_site];
            block
                .iter()
                .skip(g)
                .step_by(n_groups)
                .map(|&v| f64::from(v))
        };
        let chains_of = |g: usize| -> Vec<f64> { of(g).collect() };
        let mut r_hat = f64::NEG_INFINITY;
        let mut ess = f64::INFINITY;
        // R-hat and bulk ESS, and the pooled draws sorted by the same ranking.
        let mut diagnose = |flat: Vec<f64>| -> Vec<f64> {
            let refs: Vec<&[f64]> = flat.chunks_exact(n_draws.max(1)).collect();
            let (r, e, mut sorted) = rhat_ess_bulk_and_sorted(&refs);
            r_hat = r_hat.max(r);
            ess = ess.min(e);
            if sorted.len() != n_chains * n_draws {
                // No ranking (e.g. too few draws to split): sort here.
                sorted = flat;
                sorted.sort_unstable_by(f64::total_cmp);
            }
            sorted
        };
        let (mu, coef, delta): (Vec<[f64; 4]>, _, _) = match device.is_empty() {
            true => {
                let mu = (0..n_mu)
                    .map(|g| moments_and_interval(&diagnose(chains_of(g))))
                    .collect();
                let coef = coef_slot.map(|g| moments_and_interval(&diagnose(chains_of(g))));
                let (g1, g2) = compare;
                let pooled = diagnose(of(g2).zip(of(g1)).map(|(b, a)| b - a).collect());
                (mu, coef, moments_and_interval(&pooled))
            }
            false => {
                // Rows: the mus, the coefficient if any, then delta.
                let rows =
                    &device[s * quantities * SUMMARY_STRIDE..][..quantities * SUMMARY_STRIDE];
                let rows: Vec<&[f32]> = rows.chunks_exact(SUMMARY_STRIDE).collect();
                for row in &rows {
                    r_hat = r_hat.max(f64::from(row[SUMMARY_RHAT]));
                    ess = ess.min(f64::from(row[SUMMARY_ESS]));
                }
                let four = |row: &[f32]| {
                    [SUMMARY_MEAN, SUMMARY_SD, SUMMARY_Q2_5, SUMMARY_Q97_5]
                        .map(|i| f64::from(row[i]))
                };
                let mu = rows[..n_mu].iter().map(|r| four(r)).collect();
                let coef = coef_slot.map(|_| four(rows[n_mu]));
                (mu, coef, four(rows[quantities - 1]))
            }
        };
        let [p_above, p_below, p_differ] = recycled_probabilities(recycled, s, (n_chains, n_draws));
        SiteSummary {
            chr: site.chr,
            pos: site.pos,
            n_samples: site.counts.len() as u32,
            coverage_total: site.counts.iter().map(|c| u64::from(c.2)).sum(),
            coverage_min: site.counts.iter().map(|c| c.2).min().unwrap_or(0),
            mu,
            delta,
            coef,
            p_above,
            p_below,
            p_differ,
            r_hat,
            ess_bulk: ess,
        }
    };
    // Blocks of sites per task, each timed once (a thread's CPU clock is a system call).
    sites
        .par_chunks(SUMMARY_BLOCK)
        .enumerate()
        .flat_map_iter(|(b, block)| {
            clock.time(|| {
                let first = b * SUMMARY_BLOCK;
                let out: Vec<SiteSummary> = (first..)
                    .zip(block)
                    .map(|(s, site)| summarize(s, site))
                    .collect();
                out
            })
        })
        .collect()
}

/// Site s's recycled P(delta > d), P(delta < -d) and P(differ): its chains' recycled sums
/// over their draws.
fn recycled_probabilities(
    recycled: &[[f32; 3]],
    s: usize,
    (n_chains, n_draws): (usize, usize),
) -> [f64; 3] {
    let mut p = [0.0f64; 3];
    for sums in &recycled[s * n_chains..(s + 1) * n_chains] {
        for (p, x) in p.iter_mut().zip(sums) {
            *p += f64::from(*x) / (n_chains * n_draws) as f64;
        }
    }
    // Sums of f32 can round a hair past 1.
    p.map(|x| x.clamp(0.0, 1.0))
}

/// The sites of a chunk whose draws the host needs once the device has summarised them:
/// those that lean enough to join a candidate region (their deltas), and those `keep_draws`
/// asks for (--draws-region). Ascending.
pub(crate) fn sites_needing_draws(
    sites: &[Site],
    recycled: &[[f32; 3]],
    config: &FitConfig,
    keep_draws: &dyn Fn(&Site) -> bool,
) -> Vec<u32> {
    let shape = (config.chains as usize, config.draws as usize);
    (0..sites.len())
        .filter(|&s| {
            let [above, below, _] = recycled_probabilities(recycled, s, shape);
            leaning(above, below).is_some() || keep_draws(&sites[s])
        })
        .map(|s| s as u32)
        .collect()
}

/// Sites per task of the summaries: enough to spread a chunk over the threads and to amortise
/// the task's two reads of the thread's CPU clock.
const SUMMARY_BLOCK: usize = 64;

/// The summaries of one chunk's sites from their sweeps, and the draws `keep_draws` asks for.
pub fn summarize_chunk(
    sites: &[Site],
    swept: &SweptChunk,
    slots: DrawSlots,
    config: &FitConfig,
    keep_draws: &dyn Fn(&Site) -> bool,
    clock: &CoreClock,
) -> ChunkResult {
    let shape = (config.chains as usize, config.draws as usize);
    let summaries = summarize_sites(sites, swept, shape, slots, clock);
    let DrawSlots {
        stride: n_groups,
        compare,
        ..
    } = slots;
    let per_site = config.chains as usize * config.draws as usize * n_groups;
    // Site s's draws: every site's are there, or those of `draw_sites` in order.
    let draws = |s: usize| -> &[f32] {
        let k = match &swept.draw_sites {
            None => s,
            Some(listed) => listed
                .binary_search(&(s as u32))
                .expect("the draws of every site that leans or is kept came back"),
        };
        &swept.draws[k * per_site..(k + 1) * per_site]
    };
    // Each leaning site's delta per joint draw, for the regions.
    let (g1, g2) = compare;
    let leaning_deltas = summaries
        .iter()
        .enumerate()
        .filter(|(_, s)| leaning(s.p_above, s.p_below).is_some())
        .map(|(s, _)| {
            let deltas = draws(s)
                .chunks_exact(n_groups)
                .map(|mu| mu[g2] - mu[g1])
                .collect();
            (s, deltas)
        })
        .collect();
    let kept_draws = sites
        .iter()
        .enumerate()
        .filter(|(_, site)| keep_draws(site))
        .map(|(s, _)| (s, draws(s).to_vec()))
        .collect();
    ChunkResult {
        summaries,
        kept_draws,
        leaning_deltas,
    }
}

/// What one chunk's sweeps left.
pub struct SweptChunk {
    /// mu per (site, chain, draw, group).
    pub draws: Vec<f32>,
    /// The device's summaries (site_summaries.wgsl) per (site, quantity); empty where the
    /// host summarises.
    pub summaries: Vec<f32>,
    /// None: `draws` holds every site's. Some: the device summarised, and `draws` holds
    /// only these sites' (ascending), those the host still needs (`sites_needing_draws`, fetched by stage 2).
    pub draw_sites: Option<Vec<u32>>,
    /// Recycled sums of (P(delta > d), P(delta < -d), P(differ)) per (site, chain).
    pub recycled: Vec<[f32; 3]>,
    /// Share of the Metropolis proposals accepted.
    pub acceptance: f64,
}

/// A chunk's draws and `SweptChunk::draw_sites` once swept: all the site stage's own where it
/// brought every site's back (`later` None); else the buffer `later` that stage 2 fills with
/// the sites it fetches, and their list, to be made then.
pub(crate) fn swept_draws(own: Vec<f32>, later: Option<Vec<f32>>) -> (Vec<f32>, Option<Vec<u32>>) {
    match later {
        Some(spare) => (spare, Some(Vec::new())),
        None => (own, None),
    }
}

/// What one chunk gave.
pub struct ChunkResult {
    pub summaries: Vec<SiteSummary>,
    /// For the sites `keep_draws` chose: index in the chunk, and mu per (chain, draw, group).
    pub kept_draws: Vec<(usize, Vec<f32>)>,
    /// For the sites that lean enough to join a candidate region (`regions::leaning`), in
    /// order: index in the chunk, and delta per (chain, draw).
    pub leaning_deltas: Vec<(usize, Vec<f32>)>,
}

//! The study's truth, chromosome by chromosome: CpG positions, group A's levels (methylated
//! and unmethylated blocks, a smooth wiggle, each site's jitter) and the DMRs, placed apart
//! and given group B's levels.

use std::ops::Range;

use crate::methyl::simulate::{expit, logit, stream, uniform_int, Purpose, SimulateConfig};
use crate::rng::host_variates::normal;

/// First base of every chromosome, before the first gap.
const CHROMOSOME_START: u64 = 10_000;
/// Smallest gap between neighbouring CpGs: a CpG takes two bases.
const MIN_CPG_GAP: u64 = 2;
/// Mean gap between neighbouring CpGs outside the large gaps (about; the gap is a whole
/// number of bases): CpG spacing in mammalian genomes away from islands.
const MEAN_CPG_GAP: f64 = 40.0;
/// Chance that a gap is a large one: clusters of about 100 CpGs, as RRBS fragments and
/// CpG-dense stretches give.
const LARGE_GAP_RATE: f64 = 0.01;
/// Shortest large gap in bases: beyond any DMR caller's merge distance.
const LARGE_GAP_MIN: f64 = 1_000.0;
/// Mean length of a large gap beyond LARGE_GAP_MIN (exponential): thousands of bases.
const LARGE_GAP_MEAN: f64 = 4_000.0;

/// Mean length in bases of a methylated block: most of a mammalian genome is methylated in
/// long stretches.
const METHYLATED_BLOCK_BP: f64 = 8_000.0;
/// Mean length in bases of an unmethylated block (island- and promoter-like): shorter, so
/// the state is rarer (a fifth of the bases).
const UNMETHYLATED_BLOCK_BP: f64 = 2_000.0;
/// Share of bases in unmethylated blocks under the chain's stationary law.
const UNMETHYLATED_SHARE: f64 =
    UNMETHYLATED_BLOCK_BP / (METHYLATED_BLOCK_BP + UNMETHYLATED_BLOCK_BP);
/// Rate per base at which the chain forgets its state (the sum of its two switching rates).
const BLOCK_MIXING_RATE: f64 = 1.0 / METHYLATED_BLOCK_BP + 1.0 / UNMETHYLATED_BLOCK_BP;
/// Typical level of a methylated block (its logit is the block's centre).
const METHYLATED_LEVEL: f64 = 0.85;
/// Typical level of an unmethylated block.
const UNMETHYLATED_LEVEL: f64 = 0.1;
/// Stationary sd of the logit-scale wiggle: levels within a block drift by about +-0.1.
const WIGGLE_SD: f64 = 0.5;
/// Bases over which the wiggle's correlation falls by 1/e: neighbouring CpGs alike,
/// CpGs a few hundred bases apart less so.
const WIGGLE_BP: f64 = 500.0;
/// Logit-scale sd of each site's own departure from the smooth level: neighbours are alike,
/// not equal.
const SITE_JITTER_SD: f64 = 0.2;
/// Group A's levels stay in [LEVEL_FLOOR, 1 - LEVEL_FLOOR], so every DMR site has room to
/// move by at least LEVEL_FLOOR - MU_FLOOR in either direction.
const LEVEL_FLOOR: f64 = 0.02;
/// Every level stays in [MU_FLOOR, 1 - MU_FLOOR].
pub(super) const MU_FLOOR: f64 = 0.01;
/// Fewest null CpGs between two DMRs, so that neighbouring DMRs are distinct regions.
pub(super) const DMR_SEPARATION: usize = 5;

/// A DMR placed but not yet given its levels: its CpGs (indices within the chromosome), its
/// peak |delta| and the uniform that picks its sign.
struct DmrPlan {
    cpgs: Range<usize>,
    peak: f64,
    sign_draw: f64,
}

/// The DMRs of a chromosome of `n` sites: lengths drawn until they cover
/// round((1 - null_fraction) n) sites, then spread uniformly over the chromosome with at
/// least DMR_SEPARATION null CpGs between two.
fn plan_dmrs(config: &SimulateConfig, chromosome: u32, n: usize) -> Vec<DmrPlan> {
    let target = ((1.0 - config.null_fraction) * n as f64).round() as usize;
    let (fewest, most) = config.dmr_cpgs;
    let (least, largest) = config.dmr_delta;
    // (length, peak, sign draw, place draw) in drawing order.
    let mut drawn: Vec<(usize, f64, f64, f64)> = Vec::new();
    let mut covered = 0;
    loop {
        let mut rng = stream(config.seed, Purpose::Dmrs, chromosome, drawn.len());
        let length = (uniform_int(fewest, most, rng.next_f64()) as usize).min(target - covered);
        if length == 0 || length < fewest as usize {
            break;
        }
        let peak = least + (largest - least) * rng.next_f64();
        drawn.push((length, peak, rng.next_f64(), rng.next_f64()));
        covered += length;
    }
    // Too many DMRs to keep apart (a small null fraction): drop the last ones.
    while drawn.len() > 1 && n - covered < (drawn.len() - 1) * DMR_SEPARATION {
        covered -= drawn.pop().map_or(0, |d| d.0);
    }
    // The null sites beyond the separations, spread over the DMRs' k + 1 gaps by k sorted
    // uniform cut points.
    let free = n - covered - drawn.len().saturating_sub(1) * DMR_SEPARATION;
    let mut cuts: Vec<usize> = drawn
        .iter()
        .map(|d| (((free + 1) as f64 * d.3) as usize).min(free))
        .collect();
    cuts.sort_unstable();
    let mut before = 0; // CpGs of earlier DMRs and their separations
    drawn
        .iter()
        .zip(cuts)
        .map(|(&(length, peak, sign_draw, _), cut)| {
            let start = cut + before;
            before += length + DMR_SEPARATION;
            DmrPlan {
                cpgs: start..start + length,
                peak,
                sign_draw,
            }
        })
        .collect()
}

/// One site's truth.
#[derive(Debug, Clone)]
pub(super) struct Site {
    pub(super) pos: u64,
    pub(super) methylated_block: bool,
    /// mu_A, mu_B.
    pub(super) mu: [f64; 2],
    /// Index of its DMR among the chromosome's regions.
    pub(super) region: Option<usize>,
}

/// A DMR with its levels: its CpGs and the signed delta of largest magnitude among them.
#[derive(Debug, Clone)]
pub(super) struct Region {
    pub(super) cpgs: Range<usize>,
    pub(super) peak_delta: f64,
}

/// One chromosome's sites and DMRs.
pub(super) struct Chromosome {
    /// 0-based; named `chr{index + 1}`.
    pub(super) index: u32,
    pub(super) sites: Vec<Site>,
    pub(super) regions: Vec<Region>,
}

/// Positions, blocks and levels of a chromosome of `n` sites, then its DMRs' levels in group B.
pub(super) fn draw_chromosome(config: &SimulateConfig, index: u32, n: usize) -> Chromosome {
    let plans = plan_dmrs(config, index, n);
    let mut region_of = vec![None; n];
    for (r, plan) in plans.iter().enumerate() {
        region_of[plan.cpgs.clone()].fill(Some(r));
    }
    let mut sites: Vec<Site> = Vec::with_capacity(n);
    let mut wiggle = 0.0;
    for i in 0..n {
        let mut rng = stream(config.seed, Purpose::Landscape, index, i);
        let mut gap =
            MIN_CPG_GAP + (-(MEAN_CPG_GAP - MIN_CPG_GAP as f64) * rng.next_f64().ln()) as u64;
        let (large, large_draw) = (rng.next_f64(), rng.next_f64());
        // No large gap splits a DMR: DMRs lie in CpG-dense stretches.
        let splits_dmr = i > 0 && region_of[i].is_some() && region_of[i] == region_of[i - 1];
        if large < LARGE_GAP_RATE && !splits_dmr {
            gap += (LARGE_GAP_MIN - LARGE_GAP_MEAN * large_draw.ln()) as u64;
        }
        let (switch, z_wiggle, z_site) = (rng.next_f64(), normal(&mut rng), normal(&mut rng));
        let (pos, methylated_block) = match sites.last() {
            None => {
                wiggle = WIGGLE_SD * z_wiggle;
                (CHROMOSOME_START + gap, switch >= UNMETHYLATED_SHARE)
            }
            Some(previous) => {
                // The two-state chain in continuous "time" (bases): over d bases it leaves its
                // state with probability (the other state's share) * (1 - exp(-rate d)).
                let d = gap as f64;
                let forgets = 1.0 - (-BLOCK_MIXING_RATE * d).exp();
                let leaves = forgets
                    * if previous.methylated_block {
                        UNMETHYLATED_SHARE
                    } else {
                        1.0 - UNMETHYLATED_SHARE
                    };
                let rho = (-d / WIGGLE_BP).exp();
                wiggle = rho * wiggle + (1.0 - rho * rho).sqrt() * WIGGLE_SD * z_wiggle;
                (
                    previous.pos + gap,
                    previous.methylated_block != (switch < leaves),
                )
            }
        };
        let centre = logit(if methylated_block {
            METHYLATED_LEVEL
        } else {
            UNMETHYLATED_LEVEL
        });
        let mu_a =
            expit(centre + wiggle + SITE_JITTER_SD * z_site).clamp(LEVEL_FLOOR, 1.0 - LEVEL_FLOOR);
        sites.push(Site {
            pos,
            methylated_block,
            mu: [mu_a, mu_a],
            region: region_of[i],
        });
    }
    let regions = plans
        .into_iter()
        .map(|plan| shift_group_b(&mut sites[plan.cpgs.clone()], &plan))
        .collect();
    Chromosome {
        index,
        sites,
        regions,
    }
}

/// Gives a DMR's sites their group-B level: mu_A plus peak * sin(pi (k + 1) / (L + 1)) at its
/// k-th of L CpGs, clipped to [MU_FLOOR, 1 - MU_FLOOR]. The sign is the drawn one unless the
/// other side has more room for the peak at the DMR's middle CpG.
fn shift_group_b(sites: &mut [Site], plan: &DmrPlan) -> Region {
    let middle = sites[(sites.len() - 1) / 2].mu[0];
    let room = |up: bool| {
        if up {
            1.0 - MU_FLOOR - middle
        } else {
            middle - MU_FLOOR
        }
    };
    let drawn_up = plan.sign_draw < 0.5;
    let up = if room(drawn_up) < plan.peak && room(!drawn_up) > room(drawn_up) {
        !drawn_up
    } else {
        drawn_up
    };
    let signed = if up { plan.peak } else { -plan.peak };
    let length = sites.len() as f64;
    let mut peak_delta: f64 = 0.0;
    for (k, site) in sites.iter_mut().enumerate() {
        let bump = (std::f64::consts::PI * (k as f64 + 1.0) / (length + 1.0)).sin();
        site.mu[1] = (site.mu[0] + signed * bump).clamp(MU_FLOOR, 1.0 - MU_FLOOR);
        let delta = site.mu[1] - site.mu[0];
        if delta.abs() > peak_delta.abs() {
            peak_delta = delta;
        }
    }
    Region {
        cpgs: plan.cpgs.clone(),
        peak_delta,
    }
}

//! Region-level inference. Candidate regions are runs of neighbouring CpGs whose sites lean the
//! same way; each gets the posterior probability that its mean difference exceeds d in that
//! direction, from its sites' joint draws; regions are called at a region-level Bayesian FDR.
//!
//! Sites are independent given the genome-wide priors, and draw k of every site comes from the
//! same chain (the same hyperparameter draw), so the k-th draws of a region's sites are a joint
//! draw of the region. A region with a few strong sites and a few weak ones is judged on its
//! mean, not on each site passing a threshold of its own.

/// Rules of candidate regions (as DSS's callDMR: fewest loci, largest gap in bases).
#[derive(Debug, Clone, Copy)]
pub struct DmrRule {
    pub min_cpgs: u32,
    pub max_gap: u64,
}

/// A site joins a candidate region when P(delta beyond d in the region's direction) is at
/// least this: lenient, because the region's own probability, not the site's, decides the call.
pub(crate) const CANDIDATE_P: f64 = 0.2;

/// One candidate region and its posterior.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CandidateRegion {
    pub chr: String,
    pub start: u64,
    pub end: u64,
    pub n_cpgs: u32,
    /// Posterior mean of the region's mean delta.
    pub delta_mean: f64,
    /// P(the region's mean delta > d), or < -d for a region that leans down.
    pub p_region: f64,
}

/// The run being grown: its direction and, per joint draw, the sum of its sites' deltas.
struct Open {
    chr: String,
    start: u64,
    end: u64,
    up: bool,
    n_cpgs: u32,
    delta_sums: Vec<f64>,
}

/// Grows candidate regions from sites in genome order and scores each as it closes.
pub(crate) struct RegionFinder {
    rule: DmrRule,
    threshold: f64,
    open: Option<Open>,
    done: Vec<CandidateRegion>,
}

/// Which way a site leans, if it leans enough to join a candidate: Some(true) for up.
pub fn leaning(p_above: f64, p_below: f64) -> Option<bool> {
    if p_above >= CANDIDATE_P && p_above >= p_below {
        Some(true)
    } else if p_below >= CANDIDATE_P {
        Some(false)
    } else {
        None
    }
}

impl RegionFinder {
    /// `threshold` is d of P(mean delta > d).
    pub fn new(rule: DmrRule, threshold: f64) -> Self {
        RegionFinder {
            rule,
            threshold,
            open: None,
            done: Vec::new(),
        }
    }

    /// The next site in genome order: its P(delta > d), P(delta < -d) and, where it leans
    /// (`leaning`), its delta per joint draw (chain-major).
    pub fn push(&mut self, chr: &str, pos: u64, p_above: f64, p_below: f64, deltas: &[f32]) {
        let Some(up) = leaning(p_above, p_below) else {
            self.close();
            return;
        };
        if let Some(r) = &mut self.open {
            let joins = r.chr == chr
                && pos.saturating_sub(r.end) <= self.rule.max_gap
                && r.up == up
                && r.delta_sums.len() == deltas.len();
            if joins {
                r.end = pos;
                r.n_cpgs += 1;
                for (sum, d) in r.delta_sums.iter_mut().zip(deltas) {
                    *sum += f64::from(*d);
                }
                return;
            }
        }
        self.close();
        self.open = Some(Open {
            chr: chr.to_string(),
            start: pos,
            end: pos,
            up,
            n_cpgs: 1,
            delta_sums: deltas.iter().map(|d| f64::from(*d)).collect(),
        });
    }

    fn close(&mut self) {
        let Some(r) = self.open.take() else {
            return;
        };
        if r.n_cpgs < self.rule.min_cpgs || r.delta_sums.is_empty() {
            return;
        }
        let n = f64::from(r.n_cpgs);
        let draws = r.delta_sums.len() as f64;
        let beyond = r
            .delta_sums
            .iter()
            .filter(|&&s| {
                let mean = s / n;
                if r.up {
                    mean > self.threshold
                } else {
                    mean < -self.threshold
                }
            })
            .count();
        self.done.push(CandidateRegion {
            chr: r.chr,
            start: r.start,
            end: r.end,
            n_cpgs: r.n_cpgs,
            delta_mean: r.delta_sums.iter().sum::<f64>() / (n * draws),
            p_region: beyond as f64 / draws,
        });
    }

    /// Every candidate, in genome order.
    pub(crate) fn finish(mut self) -> Vec<CandidateRegion> {
        self.close();
        self.done
    }
}

/// The regions called at Bayesian FDR `fdr` (Müller et al. 2006, at the region level): the
/// largest set, in decreasing `p_region`, whose mean of 1 - p_region is at most `fdr`; ties
/// are called together or not at all. Returns the called regions in genome order, the
/// smallest called p_region (1 where none) and the set's expected FDR.
pub(crate) fn call_regions(
    candidates: Vec<CandidateRegion>,
    fdr: f64,
) -> (Vec<CandidateRegion>, f64, f64) {
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&i, &j| candidates[j].p_region.total_cmp(&candidates[i].p_region));
    let (mut n, mut mass) = (0usize, 0.0);
    let mut called = (0usize, 1.0, 0.0);
    let mut k = 0;
    while k < order.len() {
        let p = candidates[order[k]].p_region;
        while k < order.len() && candidates[order[k]].p_region == p {
            n += 1;
            mass += 1.0 - p;
            k += 1;
        }
        if mass / n as f64 > fdr {
            break;
        }
        called = (n, p, mass / n as f64);
    }
    let mut keep = vec![false; candidates.len()];
    for &i in &order[..called.0] {
        keep[i] = true;
    }
    let regions = candidates
        .into_iter()
        .zip(keep)
        .filter_map(|(r, k)| k.then_some(r))
        .collect();
    (regions, called.1, called.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: DmrRule = DmrRule {
        min_cpgs: 3,
        max_gap: 50,
    };

    #[test]
    fn regions_are_runs_of_sites_leaning_one_way() {
        let mut f = RegionFinder::new(RULE, 0.1);
        let up = [0.3f32, 0.2, 0.0, 0.05];
        // Three up, then a gap too wide, then two down (too few), then a site that leans
        // nowhere.
        for pos in [100, 140, 180] {
            f.push("chr1", pos, 0.9, 0.0, &up);
        }
        f.push("chr1", 300, 0.9, 0.0, &up);
        f.push("chr1", 320, 0.0, 0.8, &[-0.3; 4]);
        f.push("chr1", 330, 0.0, 0.8, &[-0.3; 4]);
        f.push("chr1", 340, 0.1, 0.1, &[]);
        let regions = f.finish();
        assert_eq!(regions.len(), 1);
        let r = &regions[0];
        assert_eq!((r.start, r.end, r.n_cpgs), (100, 180, 3));
        // The joint draws' means: 0.3, 0.2, 0.0, 0.05: two of four beyond 0.1.
        assert!((r.p_region - 0.5).abs() < 1e-12);
        assert!((r.delta_mean - 0.1375).abs() < 1e-6);
    }

    #[test]
    fn region_calls_keep_the_expected_fdr_and_ties_go_together() {
        let region = |start: u64, p: f64| CandidateRegion {
            chr: "chr1".into(),
            start,
            end: start + 10,
            n_cpgs: 3,
            delta_mean: 0.2,
            p_region: p,
        };
        let candidates = vec![
            region(1, 0.99),
            region(2, 0.5),
            region(3, 1.0),
            region(4, 0.9),
            region(5, 0.9),
        ];
        // Decreasing: 1.0, 0.99, 0.9, 0.9 -> mean(1 - p) = 0.0525 > 0.05 with both 0.9s.
        let (called, threshold, fdr) = call_regions(candidates.clone(), 0.05);
        assert_eq!(called.iter().map(|r| r.start).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(threshold, 0.99);
        assert!((fdr - 0.005).abs() < 1e-12);
        let (called, _, fdr) = call_regions(candidates, 0.06);
        assert_eq!(called.len(), 4);
        assert!((fdr - 0.0525).abs() < 1e-12);
    }
}

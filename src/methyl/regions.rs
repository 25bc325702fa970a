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

impl DmrRule {
    /// Whether a site (chromosome, position, direction, joint draws) continues a run whose
    /// last site is `last`: the one rule of `RegionFinder` and `ShardFinder`.
    fn joins(&self, last: (&str, u64, bool, usize), site: (&str, u64, bool, usize)) -> bool {
        last.0 == site.0
            && site.1.saturating_sub(last.1) <= self.max_gap
            && last.2 == site.2
            && last.3 == site.3
    }
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
            if self.rule.joins(
                (&r.chr, r.end, r.up, r.delta_sums.len()),
                (chr, pos, up, deltas.len()),
            ) {
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

    pub(crate) fn close(&mut self) {
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

/// A leaning site at a shard's edge, kept whole for `methyl call` to replay.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EdgeSite {
    pub chr: String,
    pub pos: u64,
    pub p_above: f64,
    pub p_below: f64,
    /// Delta per joint draw (chain-major).
    pub deltas: Vec<f32>,
}

/// What a shard knows of its candidate regions: a run of leaning sites at either edge may go
/// on into the neighbouring shard, so those sites are kept whole; the runs between are
/// closed and scored as in the whole run.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ShardRegions {
    /// The run that starts at the shard's first site, if it leans.
    pub leading: Vec<EdgeSite>,
    /// Whether a site ended the leading run (else the shard is that one run, or empty).
    pub broken: bool,
    /// The runs closed after the leading one, scored.
    pub inner: Vec<CandidateRegion>,
    /// The run still open at the shard's last site (after the leading one).
    pub trailing: Vec<EdgeSite>,
}

/// A `RegionFinder` for one shard: it keeps the sites of the edge runs whole (`ShardRegions`).
pub(crate) struct ShardFinder {
    finder: RegionFinder,
    regions: ShardRegions,
}

impl ShardFinder {
    pub fn new(rule: DmrRule, threshold: f64) -> Self {
        ShardFinder {
            finder: RegionFinder::new(rule, threshold),
            regions: ShardRegions::default(),
        }
    }

    /// The next site in genome order, as `RegionFinder::push`.
    pub fn push(&mut self, chr: &str, pos: u64, p_above: f64, p_below: f64, deltas: &[f32]) {
        let up = leaning(p_above, p_below);
        let site = || EdgeSite {
            chr: chr.to_string(),
            pos,
            p_above,
            p_below,
            deltas: deltas.to_vec(),
        };
        let continues = |run: &[EdgeSite]| match (run.last(), up) {
            (None, Some(_)) => true,
            (Some(last), Some(up)) => self.finder.rule.joins(
                (
                    &last.chr,
                    last.pos,
                    leaning(last.p_above, last.p_below) == Some(true),
                    last.deltas.len(),
                ),
                (chr, pos, up, deltas.len()),
            ),
            (_, None) => false,
        };
        let r = &mut self.regions;
        if !r.broken {
            if continues(&r.leading) {
                r.leading.push(site());
                return;
            }
            r.broken = true;
        }
        // The open run's sites, as the finder grows it.
        if up.is_none() {
            r.trailing.clear();
        } else if continues(&r.trailing) {
            r.trailing.push(site());
        } else {
            r.trailing = vec![site()];
        }
        self.finder.push(chr, pos, p_above, p_below, deltas);
    }

    /// The shard's edges and the runs closed between them.
    pub fn finish(self) -> ShardRegions {
        let mut finder = self.finder;
        finder.open = None; // the trailing run: kept whole, closed by `methyl call`
        ShardRegions {
            inner: finder.done,
            ..self.regions
        }
    }
}

/// The finder of a run: the whole run's, or a shard's (which keeps its edge runs whole).
pub(crate) enum Finder {
    Whole(RegionFinder),
    Shard(ShardFinder),
}

impl Finder {
    pub fn push(&mut self, chr: &str, pos: u64, p_above: f64, p_below: f64, deltas: &[f32]) {
        match self {
            Finder::Whole(f) => f.push(chr, pos, p_above, p_below, deltas),
            Finder::Shard(f) => f.push(chr, pos, p_above, p_below, deltas),
        }
    }
}

/// The candidates of a whole run from its shards' regions, in genome order: each shard's edge
/// runs replayed through one finder, so a run across a shard boundary is one candidate, scored
/// exactly as the whole run scores it.
pub(crate) fn replay_shards(
    rule: DmrRule,
    threshold: f64,
    shards: impl IntoIterator<Item = ShardRegions>,
) -> Vec<CandidateRegion> {
    let mut finder = RegionFinder::new(rule, threshold);
    let push = |finder: &mut RegionFinder, s: &EdgeSite| {
        finder.push(&s.chr, s.pos, s.p_above, s.p_below, &s.deltas)
    };
    for shard in shards {
        shard.leading.iter().for_each(|s| push(&mut finder, s));
        if shard.broken {
            finder.close();
            finder.done.extend(shard.inner);
            shard.trailing.iter().for_each(|s| push(&mut finder, s));
        }
    }
    finder.finish()
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

    /// Sites on two chromosomes, leaning up, down or not at all, some far apart: every cut
    /// into shards, replayed, gives the whole run's candidates bit for bit.
    #[test]
    fn shards_replayed_give_the_whole_runs_candidates() {
        let mut x = 7u32;
        let mut next = |m: u32| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 8) % m
        };
        let mut sites = Vec::new();
        let mut pos = 0u64;
        for i in 0..400 {
            let chr = if i < 250 { "chr1" } else { "chr2" };
            pos = if i == 250 {
                5
            } else {
                pos + 1 + u64::from(next(70))
            };
            let (p_above, p_below) = match next(5) {
                0 | 1 => (0.5 + f64::from(next(50)) / 100.0, 0.0),
                2 => (0.0, 0.3 + f64::from(next(70)) / 100.0),
                _ => (0.1, 0.05),
            };
            let deltas: Vec<f32> = (0..8).map(|_| next(1000) as f32 / 997.0 - 0.3).collect();
            sites.push((chr, pos, p_above, p_below, deltas));
        }
        let rule = DmrRule {
            min_cpgs: 2,
            max_gap: 40,
        };
        let mut whole = RegionFinder::new(rule, 0.1);
        for (c, p, a, b, d) in &sites {
            whole.push(c, *p, *a, *b, d);
        }
        let whole = whole.finish();
        assert!(whole.len() > 10);
        for cuts in [
            vec![],
            vec![1],
            vec![3, 4, 5, 200, 250, 251],
            (0..400).step_by(7).collect(),
        ] {
            let mut bounds = vec![0];
            bounds.extend(cuts);
            bounds.push(sites.len());
            let shards = bounds.windows(2).map(|w| {
                let mut f = ShardFinder::new(rule, 0.1);
                for (c, p, a, b, d) in &sites[w[0]..w[1]] {
                    f.push(c, *p, *a, *b, d);
                }
                f.finish()
            });
            assert_eq!(replay_shards(rule, 0.1, shards), whole, "cuts {bounds:?}");
        }
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

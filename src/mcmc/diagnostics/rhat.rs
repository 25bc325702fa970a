//! Rank-normalised split R-hat: the larger of the bulk and the folded (tail) R-hat.

use super::ess::ess_of;
use super::rank::Ranked;
use super::split::{mean_variance, Split};
use crate::math::max_or_nan;

/// Fewest chains (before splitting) for R-hat; ArviZ's `az.rhat` refuses one chain.
pub(super) const MIN_CHAINS_FOR_RHAT: usize = 2;

/// Rank-normalised split R-hat: the larger of the bulk R-hat (split chains, rank
/// normalised) and the tail R-hat (the same after folding around the median).
/// NaN with fewer than two chains or on the invalid inputs listed in the `diagnostics` docs.
pub fn rhat(chains: &[&[f64]]) -> f64 {
    if chains.len() < MIN_CHAINS_FOR_RHAT {
        return f64::NAN;
    }
    Ranked::new(chains).map_or(f64::NAN, |r| r.rhat(None))
}

/// `rhat` and `ess_bulk` from one ranking of the draws (what both compute first).
pub fn rhat_and_ess_bulk(chains: &[&[f64]]) -> (f64, f64) {
    Ranked::new(chains).map_or((f64::NAN, f64::NAN), |r| r.rhat_and_ess_bulk(chains.len()))
}

/// `rhat_and_ess_bulk`, and all draws pooled in ascending order from the same ranking (for
/// quantiles without sorting again). The sorted draws are empty where the ranking fails.
pub fn rhat_ess_bulk_and_sorted(chains: &[&[f64]]) -> (f64, f64, Vec<f64>) {
    let Some(ranked) = Ranked::new(chains) else {
        return (f64::NAN, f64::NAN, Vec::new());
    };
    let (r_hat, ess) = ranked.rhat_and_ess_bulk(chains.len());
    (r_hat, ess, ranked.pooled_sorted(chains))
}

impl Ranked {
    /// R-hat (NaN with too few chains) and bulk ESS from one rank normalisation. The folded
    /// scores come first and go before the bulk ones are made: with millions of draws, each
    /// set of scores is a copy of them in memory.
    pub(super) fn rhat_and_ess_bulk(&self, n_chains: usize) -> (f64, f64) {
        let tail = (n_chains >= MIN_CHAINS_FOR_RHAT).then(|| rhat_basic(&self.z_folded()));
        let z = self.z_bulk();
        let r_hat = match tail {
            None => f64::NAN,
            Some(tail) => max_or_nan(rhat_basic(&z), tail),
        };
        (r_hat, ess_of(&z))
    }

    /// max(bulk, folded) rank R-hat; `z_bulk` when the caller has it already.
    pub(super) fn rhat(&self, z_bulk: Option<&Split>) -> f64 {
        let bulk = match z_bulk {
            Some(z) => rhat_basic(z),
            None => rhat_basic(&self.z_bulk()),
        };
        max_or_nan(bulk, rhat_basic(&self.z_folded()))
    }
}

/// Gelman-Rubin R-hat of already split (and possibly transformed) chains, with the
/// within-chain variance W and the between-chain variance B as in BDA3.
fn rhat_basic(split: &Split) -> f64 {
    let n = split.n_draws as f64;
    let mut means = Vec::with_capacity(split.n_chains);
    let mut vars = Vec::with_capacity(split.n_chains);
    for c in 0..split.n_chains {
        let (m, v) = mean_variance(split.chain(c));
        means.push(m);
        vars.push(v);
    }
    let between = n * mean_variance(&means).1;
    let within = vars.iter().sum::<f64>() / vars.len() as f64;
    ((between / within + n - 1.0) / n).sqrt()
}

#[cfg(test)]
mod tests {
    use super::super::ess_bulk;
    use super::*;

    /// One ranking for both gives exactly what the two functions give apart (ties included).
    #[test]
    fn rhat_and_ess_bulk_together_equal_apart() {
        let chains: Vec<Vec<f64>> = (0..4)
            .map(|c| {
                (0..50)
                    .map(|d| (((c * 7 + d * 13) % 17) as f64 / 4.0).floor() + 0.1 * c as f64)
                    .collect()
            })
            .collect();
        let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
        let (r, e) = rhat_and_ess_bulk(&refs);
        assert_eq!(r.to_bits(), rhat(&refs).to_bits());
        assert_eq!(e.to_bits(), ess_bulk(&refs).to_bits());
    }
}

//! Rank normalisation: the split draws sorted once, and the normal scores of their bulk
//! and folded ranks (and the pooled draws in order, from the same sort).

use std::cell::{OnceCell, RefCell};
use std::rc::Rc;

use super::normal::inv_normal_cdf;
use super::scratch;
use super::split::Split;

/// Blom's (1958) offset in the rank-to-normal-score map (r - c)/(S - 2c + 1),
/// the choice of Vehtari et al. (2021) and ArviZ.
const BLOM_OFFSET: f64 = 3.0 / 8.0;
/// Fewest draws the radix sort ranks: below, its passes' 256 counters cost more than a
/// comparison sort (200 draws, a methylation site's: 1.2 against 1.6 µs here).
const RADIX_SORT_FROM: usize = 1024;
/// Most pooled draws whose normal scores are tabulated (16 bytes a draw): 16 MiB.
const SCORE_TABLE_MAX: usize = 1 << 20;

/// The split draws sorted once. Every rank-based quantity derives from this one order:
/// bulk ranks directly, the median from its middle, folded ranks by merging the two
/// sides of the median (each already ordered by distance), and the pooled quantiles by
/// merging back the middle draws that splitting dropped.
pub(super) struct Ranked {
    pub(super) split: Split,
    /// Split draws ascending (`f64::total_cmp`), each with its index in `split.data`.
    pub(super) order: Vec<(f64, usize)>,
    /// Normal scores of the ranks 0, 1/2, 1, ..., S (by twice the rank), shared by bulk and
    /// folded ranks.
    scores: OnceCell<Rc<Vec<f64>>>,
}

thread_local! {
    /// The normal scores of ranks 0, 1/2, ..., S for the last S ranked on this thread: summaries of
    /// many sites with the same number of draws compute them once, not once per quantity.
    static SCORE_TABLE: RefCell<Rc<Vec<f64>>> = RefCell::new(Rc::new(Vec::new()));
}

/// The normal score of (1-based) rank `rank` among `s` draws: Phi^-1((r - c)/(S - 2c + 1)).
fn blom_score(rank: f64, s: usize) -> f64 {
    inv_normal_cdf((rank - BLOM_OFFSET) / (s as f64 - 2.0 * BLOM_OFFSET + 1.0))
}

/// The normal scores of the ranks 0, 1/2, 1, ..., S among S draws, indexed by twice the rank:
/// ties share an average rank, a whole or a half number (the table of the rank
/// normalisation, and site_summaries.wgsl's).
pub fn normal_scores_by_twice_rank(s: usize) -> Vec<f64> {
    (0..=2 * s).map(|k| blom_score(k as f64 / 2.0, s)).collect()
}

/// An f32 as a u32 that orders as `f32::total_cmp` orders the floats: its bit transform,
/// with the sign bit flipped so that unsigned order is signed order.
#[inline]
fn f32_order_key(x: f32) -> u32 {
    let bits = x.to_bits() as i32;
    (bits ^ (((bits >> 31) as u32) >> 1) as i32) as u32 ^ (1 << 31)
}

/// Sort words (key << 32 | index) whose indices ascend as given: a stable LSD radix sort
/// on the key's four bytes, skipping a byte that every key shares, gives the order of
/// `sort_unstable` on the whole words in about half its time (ties keep their index order).
fn sort_by_high_word(words: &mut Vec<u64>) {
    let mut spare = vec![0u64; words.len()];
    for shift in [32u32, 40, 48, 56] {
        let mut counts = [0usize; 256];
        for &w in words.iter() {
            counts[((w >> shift) & 0xFF) as usize] += 1;
        }
        if counts.contains(&words.len()) {
            continue;
        }
        let mut start = 0;
        for count in counts.iter_mut() {
            let c = *count;
            *count = start;
            start += c;
        }
        for &w in words.iter() {
            let digit = ((w >> shift) & 0xFF) as usize;
            spare[counts[digit]] = w;
            counts[digit] += 1;
        }
        std::mem::swap(words, &mut spare);
    }
}

impl Ranked {
    pub(super) fn new(chains: &[&[f64]]) -> Option<Ranked> {
        let split = Split::new(chains)?;
        let data = &split.data;
        let f32_draws =
            data.len() <= u32::MAX as usize && data.iter().all(|&x| x as f32 as f64 == x);
        let order: Vec<(f64, usize)> = if f32_draws {
            // Draws that are f32 values (the methylation sites' mus): sorted as one integer
            // each, the float's order key above its index, in half the time of `total_cmp`.
            let mut packed: Vec<u64> = scratch::take(data.len());
            packed.extend(
                (data.iter().zip(0u64..))
                    .map(|(&x, i)| (u64::from(f32_order_key(x as f32)) << 32) | i),
            );
            // The words are distinct (their indices), so both sorts give the one order.
            if packed.len() < RADIX_SORT_FROM {
                packed.sort_unstable();
            } else {
                sort_by_high_word(&mut packed);
            }
            let mut order = scratch::take(data.len());
            order.extend(packed.iter().map(|&k| {
                let i = (k & 0xFFFF_FFFF) as usize;
                (data[i], i)
            }));
            scratch::give(packed);
            order
        } else {
            let mut order: Vec<(f64, usize)> = data.iter().copied().zip(0..).collect();
            order.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
            order
        };
        Some(Ranked {
            split,
            order,
            scores: OnceCell::new(),
        })
    }

    /// Rank normalisation of values given in ascending order with their positions:
    /// tied values share their average rank (`scipy.stats.rankdata(method="average")`),
    /// and rank r becomes Phi^-1((r - c) / (S - 2c + 1)) with Blom's c.
    fn z_scores(&self, sorted: &[(f64, usize)]) -> Split {
        self.z_scores_from(sorted, sorted.len() <= SCORE_TABLE_MAX)
    }

    fn z_scores_from(&self, sorted: &[(f64, usize)], tabulate: bool) -> Split {
        let s = sorted.len();
        let score = |rank: f64| blom_score(rank, s);
        // Indexed by twice the rank: ties share an average rank, a whole or a half number.
        // Tabulated once per thread for every parameter of a run, up to SCORE_TABLE_MAX
        // draws; beyond, the table would take twice the draws' memory.
        let table = tabulate.then(|| {
            self.scores.get_or_init(|| {
                SCORE_TABLE.with(|cached| {
                    let mut cached = cached.borrow_mut();
                    if cached.len() != 2 * s + 1 {
                        *cached = Rc::new(normal_scores_by_twice_rank(s));
                    }
                    Rc::clone(&cached)
                })
            })
        });
        let mut z = scratch::take(s);
        z.resize(s, 0.0);
        let mut start = 0;
        while start < s {
            let mut end = start + 1;
            while end < s && sorted[end].0 == sorted[start].0 {
                end += 1;
            }
            // 1-based ranks start+1 ..= end share their average.
            let value = match table {
                Some(table) => table[start + 1 + end],
                None => score((start + 1 + end) as f64 / 2.0),
            };
            for &(_, i) in &sorted[start..end] {
                z[i] = value;
            }
            start = end;
        }
        self.split.map_all(z)
    }

    pub(super) fn z_bulk(&self) -> Split {
        self.z_scores(&self.order)
    }

    /// |x - median| of the split draws, rank normalised.
    pub(super) fn z_folded(&self) -> Split {
        let s = self.order.len();
        // S = 2 * chains * half is even: numpy's median averages the middle two.
        let median = (self.order[s / 2 - 1].0 + self.order[s / 2].0) / 2.0;
        let split_at = self.order.partition_point(|&(v, _)| v < median);
        let (below, above) = self.order.split_at(split_at);
        // Below the median distance grows downwards, above it upwards: merge the two runs.
        // The merge runs from both ends at once, nearest first into the front half and
        // farthest first into the back half: two independent chains of loads for the
        // processor to overlap. Equal distances put the draw below the median first, at
        // either end, so the halves meet in the one merged order. Each choice is made by bit
        // masks rather than a branch (it is a coin flip per draw, which a branch would
        // mispredict half the time).
        let mut folded = scratch::take(s);
        folded.resize(s, (0.0, 0));
        let pick = |take_first: bool, (d1, i1): (f64, usize), (d2, i2): (f64, usize)| {
            let mask = u64::from(take_first).wrapping_neg();
            let d = f64::from_bits((d1.to_bits() & mask) | (d2.to_bits() & !mask));
            (d, (i1 & mask as usize) | (i2 & !mask as usize))
        };
        // Front cursors: below[front_b - 1] and above[front_a] are the nearest left; back
        // cursors: below[back_b] and above[back_a - 1] the farthest. An exhausted run's
        // distance is infinite at the front and minus infinity at the back.
        let (mut front_b, mut front_a) = (below.len(), 0);
        let (mut back_b, mut back_a) = (0, above.len());
        for k in 0..s / 2 {
            let nb = match front_b {
                0 => (f64::INFINITY, 0),
                b => (median - below[b - 1].0, below[b - 1].1),
            };
            let na = match above.get(front_a) {
                Some(&(v, i)) => (v - median, i),
                None => (f64::INFINITY, 0),
            };
            let take_below = nb.0 <= na.0;
            folded[k] = pick(take_below, nb, na);
            front_b -= usize::from(take_below);
            front_a += usize::from(!take_below);

            let fb = match below.get(back_b) {
                Some(&(v, i)) => (median - v, i),
                None => (f64::NEG_INFINITY, 0),
            };
            let fa = match back_a {
                0 => (f64::NEG_INFINITY, 0),
                a => (above[a - 1].0 - median, above[a - 1].1),
            };
            let take_above = fa.0 >= fb.0;
            folded[s - 1 - k] = pick(take_above, fa, fb);
            back_a -= usize::from(take_above);
            back_b += usize::from(!take_above);
        }
        let z = self.z_scores(&folded);
        scratch::give(folded);
        z
    }

    /// All draws (not just the split ones) in ascending order.
    pub(super) fn pooled_sorted(&self, chains: &[&[f64]]) -> Vec<f64> {
        let n = chains[0].len();
        let split_sorted = self.order.iter().map(|p| p.0);
        if n.is_multiple_of(2) {
            return split_sorted.collect();
        }
        let mut middle: Vec<f64> = chains.iter().map(|c| c[n / 2]).collect();
        middle.sort_unstable_by(f64::total_cmp);
        let mut merged = Vec::with_capacity(self.order.len() + middle.len());
        let mut middle = middle.into_iter().peekable();
        for v in split_sorted {
            while let Some(m) = middle.next_if(|m| m.total_cmp(&v).is_lt()) {
                merged.push(m);
            }
            merged.push(v);
        }
        merged.extend(middle);
        merged
    }
}

impl Drop for Ranked {
    fn drop(&mut self) {
        scratch::give(std::mem::take(&mut self.order));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The radix sort gives sort_unstable's order, ties and all.
    #[test]
    fn radix_sort_matches_sort_unstable() {
        let mut state = 12345u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as u32
        };
        for (n, spread) in [
            (0usize, 1u32),
            (1, 1),
            (1000, 7),
            (5000, u32::MAX),
            (70_000, 1 << 20),
        ] {
            let mut words: Vec<u64> = (0..n as u64)
                .map(|i| (u64::from(next() % spread.max(1)) << 32) | i)
                .collect();
            let mut want = words.clone();
            want.sort_unstable();
            sort_by_high_word(&mut words);
            assert_eq!(words, want, "n {n}, spread {spread}");
        }
    }

    /// The integer keys order f32 values as `total_cmp` does; f32 draws and the same draws
    /// nudged off f32 (the general path) give the same ranks.
    #[test]
    fn f32_keys_sort_as_total_cmp() {
        let mut xs = vec![
            0.0f32,
            -0.0,
            1.5,
            -1.5,
            f32::MIN_POSITIVE,
            -f32::MIN_POSITIVE,
            f32::MAX,
            f32::MIN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            1e-40,
            -1e-40,
            0.1,
            -0.25,
            3.0,
        ];
        let mut by_key = xs.clone();
        by_key.sort_by_key(|&x| f32_order_key(x));
        xs.sort_by(f32::total_cmp);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&by_key), bits(&xs));
        let chains: Vec<Vec<f64>> = (0..4)
            .map(|c| {
                (0..30)
                    .map(|d| f64::from(((d * 7 + c * 5) % 13) as f32 * 0.1))
                    .collect()
            })
            .collect();
        let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
        let nudged: Vec<Vec<f64>> = chains
            .iter()
            .map(|c| c.iter().map(|x| x + 1e-12 * x.abs()).collect())
            .collect();
        let nudged_refs: Vec<&[f64]> = nudged.iter().map(Vec::as_slice).collect();
        let (a, b) = (
            Ranked::new(&refs).unwrap(),
            Ranked::new(&nudged_refs).unwrap(),
        );
        assert_eq!(a.z_bulk().data, b.z_bulk().data);
        assert_eq!(a.z_folded().data, b.z_folded().data);
    }

    /// The two-ended merge gives the folded scores that a plain sort of |x - median| gives:
    /// with many ties (draws on a coarse grid), draws at the median, equal distances either
    /// side where the two ends meet (symmetric draws), skewed draws (runs of unequal length
    /// either side), and odd numbers of draws per chain.
    #[test]
    fn folded_merge_matches_a_sort_of_the_distances() {
        let cases = [
            (4, 50, 7),
            (4, 50, 1000),
            (3, 41, 5),
            (2, 10, 3),
            (4, 50, 9),
            (2, 6, 3),
        ];
        for (n_chains, n_draws, grid) in cases {
            for skewed in [false, true] {
                let chains: Vec<Vec<f64>> = (0..n_chains)
                    .map(|c| {
                        (0..n_draws)
                            .map(|d| {
                                // A grid symmetric about 0, or squared: a long tail above.
                                let cell = ((d * 7 + c * 5) * 13 % grid) as f64 - (grid / 2) as f64;
                                if skewed {
                                    cell * cell * 0.25
                                } else {
                                    cell
                                }
                            })
                            .collect()
                    })
                    .collect();
                check_folded(&chains);
            }
        }
    }

    /// z_folded against the scores of the distances sorted plainly.
    fn check_folded(chains: &[Vec<f64>]) {
        let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
        let Some(ranked) = Ranked::new(&refs) else {
            return; // constant draws have no ranks
        };
        let s = ranked.order.len();
        let median = (ranked.order[s / 2 - 1].0 + ranked.order[s / 2].0) / 2.0;
        let mut by_distance: Vec<(f64, usize)> = (ranked.split.data.iter())
            .enumerate()
            .map(|(i, &x)| ((x - median).abs(), i))
            .collect();
        by_distance.sort_by(|a, b| a.0.total_cmp(&b.0));
        let plain = ranked.z_scores(&by_distance);
        assert_eq!(ranked.z_folded().data, plain.data, "{chains:?}");
    }

    /// The tabulated scores and the scores computed per tie group are the same numbers.
    #[test]
    fn scores_with_and_without_the_table_agree() {
        let chains: Vec<Vec<f64>> = (0..3)
            .map(|c| (0..40).map(|d| ((d * 7 + c * 5) % 13) as f64).collect())
            .collect();
        let chains: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
        let ranked = Ranked::new(&chains).unwrap();
        let (a, b) = (
            ranked.z_scores_from(&ranked.order, true),
            ranked.z_scores_from(&ranked.order, false),
        );
        assert_eq!(a.data, b.data);
    }
}

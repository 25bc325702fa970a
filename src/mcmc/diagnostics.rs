//! Posterior summaries and convergence diagnostics (Vehtari et al. 2021).
//!
//! Implements the definitions of Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021),
//! "Rank-normalization, folding, and localization: an improved R-hat for assessing
//! convergence of MCMC", *Bayesian Analysis* 16(2), as coded in ArviZ 0.23
//! (`az.rhat(method="rank")`, `az.ess(method="bulk" | "tail" | "mean")`,
//! `az.mcse(method="mean")`, `az.hdi`) and in Stan / the R `posterior` package.
//! The unit tests compare against ArviZ 0.23.4 to 1e-9 relative.
//!
//! Everything works on `chains: &[&[f64]]`, one slice per chain of post-warm-up draws,
//! all of the same length.
//!
//! # Edge cases
//! The diagnostics (`rhat`, `ess_*`, `mcse_mean`, and those fields of [`Summary`]) are
//! `f64::NAN`, never a panic, when
//! * there are no chains, the chains differ in length, or a chain has fewer than
//!   [`MIN_DRAWS_PER_CHAIN`] draws;
//! * any draw is NaN or ±infinity;
//! * the quantity is constant (every draw exactly equal). ArviZ gives NaN for R-hat here
//!   but the total draw count for the ESS values; we follow the R `posterior` package and
//!   return NaN for every diagnostic, since no effective sample size is meaningful then.
//!
//! A tail-quantile indicator can be constant while the quantity is not (more than 5% of
//! the draws equal to the maximum makes I(x <= q95) all ones); its ESS is then the
//! split draw count, as in ArviZ.
//!
//! [`rhat`] is also NaN with a single chain, as in ArviZ (`az.rhat` needs two chains
//! before splitting). The ESS values are defined for one chain.
//!
//! With an odd number of draws per chain the middle draw is dropped when splitting, as
//! ArviZ does. The folded R-hat uses the median of the split draws (as `az.rhat`; note
//! `az.summary` folds around the median of all draws, which differs only for odd draws).

use std::cell::{OnceCell, RefCell};
use std::f64::consts::PI;
use std::rc::Rc;

/// Fewest draws per chain for which diagnostics are defined: each split half needs
/// at least two draws to have a variance (ArviZ and `posterior` use the same floor).
pub const MIN_DRAWS_PER_CHAIN: usize = 4;

/// Fewest chains (before splitting) for R-hat; ArviZ's `az.rhat` refuses one chain.
const MIN_CHAINS_FOR_RHAT: usize = 2;

/// Blom's (1958) offset in the rank-to-normal-score map (r - c)/(S - 2c + 1),
/// the choice of Vehtari et al. (2021) and ArviZ.
const BLOM_OFFSET: f64 = 3.0 / 8.0;

/// Tail-ESS is the smaller ESS of the indicators I(x <= q) at these quantiles
/// (Vehtari et al. 2021, section 4.3).
const TAIL_QUANTILES: (f64, f64) = (0.05, 0.95);

/// Central 95% interval and median reported in [`Summary`].
const SUMMARY_QUANTILES: (f64, f64, f64) = (0.025, 0.5, 0.975);
/// Probability mass of the summary's highest-density interval (Kruschke's 95% HDI).
pub const HDI_PROB: f64 = 0.95;

/// ArviZ's `_ess` treats a chain set whose range is below numpy's
/// `finfo(float).resolution` as constant and returns its draw count. Exactly constant
/// quantities are NaN before this point, so it is reached by tail-quantile indicators
/// that are all 0 or all 1, and by draws spread over less than 1e-15.
const CONSTANT_RANGE: f64 = 1e-15;

/// Autocovariances are computed lag by lag until this many lags per log2 of the FFT
/// length have been needed; past that, one FFT for all lags is cheaper than going on.
const FFT_SWITCH_LAGS_PER_LOG2: usize = 8;

/// Posterior summary of one scalar quantity over all chains.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Mean over all draws pooled.
    pub mean: f64,
    /// Standard deviation over all draws pooled (ddof = 1); NaN for fewer than two draws.
    pub sd: f64,
    /// 2.5% quantile of the pooled draws (numpy "linear").
    pub q2_5: f64,
    /// Median of the pooled draws.
    pub median: f64,
    /// 97.5% quantile of the pooled draws (numpy "linear").
    pub q97_5: f64,
    /// Monte Carlo standard error of the mean: `sd / sqrt(ess_mean)`.
    pub mcse_mean: f64,
    /// The HDI_PROB highest-density interval of the pooled draws (as `az.hdi`).
    pub hdi_low: f64,
    pub hdi_high: f64,
    /// Fraction of the pooled draws above 0: P(quantity > 0), what a contrast is read for.
    pub p_positive: f64,
    /// Bulk effective sample size (rank-normalised split chains).
    pub ess_bulk: f64,
    /// Tail effective sample size (5% and 95% quantile indicators).
    pub ess_tail: f64,
    /// Rank-normalised split R-hat, max of bulk and folded.
    pub r_hat: f64,
}

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

/// Full summary of one quantity. Mean, sd and quantiles use every draw pooled
/// (they are NaN when any draw is NaN or there are no draws); the diagnostics follow the
/// rules in the module docs.
pub fn summarize(chains: &[&[f64]]) -> Summary {
    let pooled: Vec<f64> = chains.iter().flat_map(|c| c.iter().copied()).collect();
    let (mean, sd) = mean_sd(&pooled);
    let ranked = Ranked::new(chains);
    let sorted = match &ranked {
        Some(ranked) => ranked.pooled_sorted(chains),
        // Empty, so the quantiles come out NaN.
        None if pooled.iter().any(|x| x.is_nan()) => Vec::new(),
        None => {
            let mut sorted = pooled;
            sorted.sort_unstable_by(f64::total_cmp);
            sorted
        }
    };
    let hdi = if sorted.iter().all(|x| x.is_finite()) {
        hdi_sorted(&sorted, HDI_PROB)
    } else {
        (f64::NAN, f64::NAN)
    };
    // Empty when there are no draws or a NaN among them.
    let p_positive = if sorted.is_empty() {
        f64::NAN
    } else {
        sorted.iter().filter(|&&x| x > 0.0).count() as f64 / sorted.len() as f64
    };
    let (ess_bulk, ess_tail, ess_mean, r_hat) = match &ranked {
        None => (f64::NAN, f64::NAN, f64::NAN, f64::NAN),
        Some(ranked) => {
            let z = ranked.z_bulk();
            let r_hat = if chains.len() >= MIN_CHAINS_FOR_RHAT {
                ranked.rhat(Some(&z))
            } else {
                f64::NAN
            };
            (
                ess_of(&z),
                ranked.ess_tail(&sorted),
                ess_of(&ranked.split),
                r_hat,
            )
        }
    };
    Summary {
        mean,
        sd,
        q2_5: quantile_sorted(&sorted, SUMMARY_QUANTILES.0),
        median: quantile_sorted(&sorted, SUMMARY_QUANTILES.1),
        q97_5: quantile_sorted(&sorted, SUMMARY_QUANTILES.2),
        mcse_mean: sd / ess_mean.sqrt(),
        hdi_low: hdi.0,
        hdi_high: hdi.1,
        p_positive,
        ess_bulk,
        ess_tail,
        r_hat,
    }
}

/// Rank-normalised split R-hat: the larger of the bulk R-hat (split chains, rank
/// normalised) and the tail R-hat (the same after folding around the median).
/// NaN with fewer than two chains or on the invalid inputs listed in the module docs.
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

/// Bulk ESS: ESS of the rank-normalised split chains.
pub fn ess_bulk(chains: &[&[f64]]) -> f64 {
    Ranked::new(chains).map_or(f64::NAN, |r| ess_of(&r.z_bulk()))
}

/// Tail ESS: the smaller ESS of the split-chain indicators I(x <= q05) and
/// I(x <= q95), with the quantiles taken over all draws pooled.
pub fn ess_tail(chains: &[&[f64]]) -> f64 {
    Ranked::new(chains).map_or(f64::NAN, |r| r.ess_tail(&r.pooled_sorted(chains)))
}

/// ESS of the mean: ESS of the raw split chains (the "old" split-ESS).
pub fn ess_mean(chains: &[&[f64]]) -> f64 {
    Split::new(chains).map_or(f64::NAN, |split| ess_of(&split))
}

/// Monte Carlo standard error of the mean, `sd / sqrt(ess_mean)` (as `az.mcse(method="mean")`).
pub fn mcse_mean(chains: &[&[f64]]) -> f64 {
    let pooled: Vec<f64> = chains.iter().flat_map(|c| c.iter().copied()).collect();
    mean_sd(&pooled).1 / ess_mean(chains).sqrt()
}

/// Quantile of ascending-sorted data by linear interpolation between order statistics
/// (Hyndman & Fan type 7, numpy's default `method="linear"`, bit for bit).
/// NaN for empty input or `p` outside [0, 1].
pub fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 0 || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    // numpy computes the virtual index as (n - 1) * p to avoid rounding issues.
    let virtual_index = (n - 1) as f64 * p;
    if virtual_index >= (n - 1) as f64 {
        return sorted[n - 1];
    }
    let prev = virtual_index.floor();
    let gamma = virtual_index - prev;
    let i = prev as usize;
    lerp(sorted[i], sorted[i + 1], gamma)
}

/// Highest-density interval of unimodal draws, as `az.hdi`: sort, and among the
/// windows `sorted[i]..=sorted[i + k]` with `k = floor(prob * n)` (so each spans
/// k + 1 >= ceil(prob * n) draws) return the narrowest, the first on ties.
/// `prob = 1` gives (min, max). Returns (NaN, NaN) for no draws, any non-finite draw,
/// or `prob` outside (0, 1].
pub fn hdi(draws: &[f64], prob: f64) -> (f64, f64) {
    let n = draws.len();
    if n == 0 || !(prob > 0.0 && prob <= 1.0) || draws.iter().any(|x| !x.is_finite()) {
        return (f64::NAN, f64::NAN);
    }
    let mut sorted = draws.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    hdi_sorted(&sorted, prob)
}

/// `hdi` of draws already sorted and all finite.
fn hdi_sorted(sorted: &[f64], prob: f64) -> (f64, f64) {
    let n = sorted.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let k = (prob * n as f64).floor() as usize;
    if k >= n {
        return (sorted[0], sorted[n - 1]);
    }
    let mut best = 0;
    let mut best_width = sorted[k] - sorted[0];
    for i in 1..n - k {
        let width = sorted[i + k] - sorted[i];
        if width < best_width {
            best = i;
            best_width = width;
        }
    }
    (sorted[best], sorted[best + k])
}

/// Inverse of the standard normal CDF, Wichura's (1988) algorithm AS 241 (PPND16),
/// accurate to about 1e-16 relative. Returns -inf at 0, +inf at 1, NaN outside [0, 1].
pub fn inv_normal_cdf(p: f64) -> f64 {
    // AS 241's rational approximations, coefficients lowest degree first (the published
    // 20-digit values rounded to the nearest f64).
    // Central region |p - 0.5| <= 0.425, in r = 0.180625 - q^2.
    const A: [f64; 8] = [
        3.3871328727963665,
        133.14166789178438,
        1971.5909503065513,
        13731.69376550946,
        45921.95393154987,
        67265.7709270087,
        33430.57558358813,
        2509.0809287301227,
    ];
    const B: [f64; 8] = [
        1.0,
        42.31333070160091,
        687.1870074920579,
        5394.196021424751,
        21213.794301586597,
        39307.89580009271,
        28729.085735721943,
        5226.495278852854,
    ];
    // Intermediate tails, exp(-25) <= min(p, 1 - p), in r = sqrt(-ln min(p, 1 - p)) - 1.6.
    const C: [f64; 8] = [
        1.4234371107496835,
        4.630337846156546,
        5.769497221460691,
        3.6478483247632045,
        1.2704582524523684,
        0.2417807251774506,
        0.022723844989269184,
        0.0007745450142783414,
    ];
    const D: [f64; 8] = [
        1.0,
        2.053191626637759,
        1.6763848301838038,
        0.6897673349851,
        0.14810397642748008,
        0.015198666563616457,
        0.0005475938084995345,
        1.0507500716444169e-09,
    ];
    // Far tails, min(p, 1 - p) < exp(-25), in r = sqrt(-ln min(p, 1 - p)) - 5.
    const E: [f64; 8] = [
        6.657904643501103,
        5.463784911164114,
        1.7848265399172913,
        0.29656057182850487,
        0.026532189526576124,
        0.0012426609473880784,
        2.7115555687434876e-05,
        2.0103343992922881e-07,
    ];
    const F: [f64; 8] = [
        1.0,
        0.599832206555888,
        0.1369298809227358,
        0.014875361290850615,
        0.0007868691311456133,
        1.8463183175100548e-05,
        1.421511758316446e-07,
        2.0442631033899397e-15,
    ];
    const CENTRAL: f64 = 0.425; // half-width of the central region around p = 0.5
    const CENTRAL_R: f64 = 0.180625; // 0.425^2, so the central variable r stays >= 0
    const TAIL_SPLIT: f64 = 5.0; // sqrt(-ln p) <= 5 <=> p >= exp(-25)
    const MID_SHIFT: f64 = 1.6; // centre of the intermediate approximation in sqrt(-ln p)

    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let q = p - 0.5;
    if q.abs() <= CENTRAL {
        let r = CENTRAL_R - q * q;
        return q * horner(&A, r) / horner(&B, r);
    }
    let tail = if q < 0.0 { p } else { 1.0 - p };
    let r = (-tail.ln()).sqrt();
    let value = if r <= TAIL_SPLIT {
        let r = r - MID_SHIFT;
        horner(&C, r) / horner(&D, r)
    } else {
        let r = r - TAIL_SPLIT;
        horner(&E, r) / horner(&F, r)
    };
    if q < 0.0 {
        -value
    } else {
        value
    }
}

/// Polynomial with coefficients lowest degree first, by Horner's rule.
fn horner(coeffs: &[f64], x: f64) -> f64 {
    coeffs.iter().rev().fold(0.0, |acc, &c| acc * x + c)
}

// ---------------------------------------------------------------------------
// Internals
// ---------------------------------------------------------------------------

/// Split chains stored row-major: `n_chains` rows of `n_draws`, first halves of the
/// original chains followed by their second halves (ArviZ's `_split_chains` order).
struct Split {
    data: Vec<f64>,
    n_chains: usize,
    n_draws: usize,
}

impl Split {
    /// Validates the input (see module docs) and splits every chain in two, dropping
    /// the middle draw of odd-length chains. `None` when diagnostics must be NaN.
    fn new(chains: &[&[f64]]) -> Option<Split> {
        let n = chains.first()?.len();
        if n < MIN_DRAWS_PER_CHAIN || chains.iter().any(|c| c.len() != n) {
            return None;
        }
        let first = chains[0][0];
        let mut constant = true;
        for c in chains {
            for &x in c.iter() {
                if !x.is_finite() {
                    return None;
                }
                constant &= x == first;
            }
        }
        if constant {
            return None;
        }
        let half = n / 2;
        let mut data = Vec::with_capacity(2 * half * chains.len());
        for c in chains {
            data.extend_from_slice(&c[..half]);
        }
        for c in chains {
            data.extend_from_slice(&c[n - half..]);
        }
        Some(Split {
            data,
            n_chains: 2 * chains.len(),
            n_draws: half,
        })
    }

    /// Same shape, new values.
    fn map_all(&self, data: Vec<f64>) -> Split {
        debug_assert_eq!(data.len(), self.data.len());
        Split {
            data,
            n_chains: self.n_chains,
            n_draws: self.n_draws,
        }
    }

    fn chain(&self, c: usize) -> &[f64] {
        &self.data[c * self.n_draws..(c + 1) * self.n_draws]
    }
}

/// numpy's `_lerp`: interpolate from whichever end is nearer, so that t = 0 and t = 1
/// reproduce the end points exactly.
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

/// Type-7 quantile as `scipy.stats.mstats.mquantiles(alphap=1, betap=1)`, the formula
/// ArviZ uses for the tail-ESS thresholds (equal to [`quantile_sorted`] up to rounding;
/// reproduced exactly so the indicators agree with ArviZ on ties).
fn mquantile_sorted(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 1 {
        return sorted[0];
    }
    let aleph = n as f64 * p + (1.0 - p);
    let k = aleph.clamp(1.0, (n - 1) as f64).floor();
    let gamma = (aleph - k).clamp(0.0, 1.0);
    let k = k as usize;
    (1.0 - gamma) * sorted[k - 1] + gamma * sorted[k]
}

/// Mean and sample variance (ddof = 1), two-pass as numpy; the mean is NaN for no
/// values and the variance NaN for fewer than two.
fn mean_variance(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    if x.len() < 2 {
        return (mean, f64::NAN);
    }
    let ss: f64 = x.iter().map(|v| (v - mean) * (v - mean)).sum();
    (mean, ss / (n - 1.0))
}

/// Mean and sample standard deviation (ddof = 1).
fn mean_sd(x: &[f64]) -> (f64, f64) {
    let (mean, var) = mean_variance(x);
    (mean, var.sqrt())
}

/// The split draws sorted once. Every rank-based quantity derives from this one order:
/// bulk ranks directly, the median from its middle, folded ranks by merging the two
/// sides of the median (each already ordered by distance), and the pooled quantiles by
/// merging back the middle draws that splitting dropped.
struct Ranked {
    split: Split,
    /// Split draws ascending (`f64::total_cmp`), each with its index in `split.data`.
    order: Vec<(f64, usize)>,
    /// Normal scores of the ranks 0, 1/2, 1, ..., S (by twice the rank), shared by bulk and
    /// folded ranks.
    scores: OnceCell<Rc<Vec<f64>>>,
}

thread_local! {
    /// The normal scores of ranks 0, 1/2, ..., S for the last S ranked on this thread: summaries of
    /// many sites with the same number of draws compute them once, not once per quantity.
    static SCORE_TABLE: RefCell<Rc<Vec<f64>>> = RefCell::new(Rc::new(Vec::new()));
}

impl Ranked {
    fn new(chains: &[&[f64]]) -> Option<Ranked> {
        let split = Split::new(chains)?;
        let mut order: Vec<(f64, usize)> = split.data.iter().copied().zip(0..).collect();
        order.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
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
        let s = sorted.len();
        let score =
            |rank: f64| inv_normal_cdf((rank - BLOM_OFFSET) / (s as f64 - 2.0 * BLOM_OFFSET + 1.0));
        // Indexed by twice the rank: ties share an average rank, a whole or a half number.
        let table = self.scores.get_or_init(|| {
            SCORE_TABLE.with(|cached| {
                let mut cached = cached.borrow_mut();
                if cached.len() != 2 * s + 1 {
                    *cached = Rc::new((0..=2 * s).map(|k| score(k as f64 / 2.0)).collect());
                }
                Rc::clone(&cached)
            })
        });
        let mut z = vec![0.0; s];
        let mut start = 0;
        while start < s {
            let mut end = start + 1;
            while end < s && sorted[end].0 == sorted[start].0 {
                end += 1;
            }
            // 1-based ranks start+1 ..= end share their average.
            let value = table[start + 1 + end];
            for &(_, i) in &sorted[start..end] {
                z[i] = value;
            }
            start = end;
        }
        self.split.map_all(z)
    }

    /// R-hat (NaN with too few chains) and bulk ESS from one rank normalisation.
    fn rhat_and_ess_bulk(&self, n_chains: usize) -> (f64, f64) {
        let z = self.z_bulk();
        let r_hat = if n_chains < MIN_CHAINS_FOR_RHAT {
            f64::NAN
        } else {
            self.rhat(Some(&z))
        };
        (r_hat, ess_of(&z))
    }

    fn z_bulk(&self) -> Split {
        self.z_scores(&self.order)
    }

    /// |x - median| of the split draws, rank normalised.
    fn z_folded(&self) -> Split {
        let s = self.order.len();
        // S = 2 * chains * half is even: numpy's median averages the middle two.
        let median = (self.order[s / 2 - 1].0 + self.order[s / 2].0) / 2.0;
        let split_at = self.order.partition_point(|&(v, _)| v < median);
        let dist = |&(v, i): &(f64, usize)| ((v - median).abs(), i);
        // Below the median distance grows downwards, above it upwards: merge the two runs.
        let mut below = self.order[..split_at].iter().rev().map(dist).peekable();
        let mut above = self.order[split_at..].iter().map(dist).peekable();
        let mut folded = Vec::with_capacity(s);
        while let (Some(b), Some(a)) = (below.peek(), above.peek()) {
            if b.0 <= a.0 {
                folded.push(*b);
                below.next();
            } else {
                folded.push(*a);
                above.next();
            }
        }
        folded.extend(below);
        folded.extend(above);
        self.z_scores(&folded)
    }

    /// max(bulk, folded) rank R-hat; `z_bulk` when the caller has it already.
    fn rhat(&self, z_bulk: Option<&Split>) -> f64 {
        let bulk = match z_bulk {
            Some(z) => rhat_basic(z),
            None => rhat_basic(&self.z_bulk()),
        };
        let tail = rhat_basic(&self.z_folded());
        // f64::max would hide a NaN; R-hat should surface it.
        if bulk.is_nan() || tail.is_nan() {
            f64::NAN
        } else {
            bulk.max(tail)
        }
    }

    /// All draws (not just the split ones) in ascending order.
    fn pooled_sorted(&self, chains: &[&[f64]]) -> Vec<f64> {
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

    /// Tail ESS given the pooled sorted (unsplit) draws.
    fn ess_tail(&self, pooled_sorted: &[f64]) -> f64 {
        let split = &self.split;
        let indicator_ess = |p: f64| {
            let q = mquantile_sorted(pooled_sorted, p);
            let indicator = split.data.iter().map(|&x| if x <= q { 1.0 } else { 0.0 });
            ess_of(&split.map_all(indicator.collect()))
        };
        let low = indicator_ess(TAIL_QUANTILES.0);
        let high = indicator_ess(TAIL_QUANTILES.1);
        if low.is_nan() || high.is_nan() {
            f64::NAN
        } else {
            low.min(high)
        }
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

/// Multi-chain ESS of (split) chains, Stan's / ArviZ's `_ess`: autocorrelations combine
/// the within-chain autocovariances with the between-chain variance; Geyer's initial
/// positive sequence truncates the sum of pairs at the first negative pair sum, the
/// initial monotone sequence smooths it, and tau is floored at 1/log10(S) so that
/// ESS <= S log10(S) for antithetic chains.
fn ess_of(split: &Split) -> f64 {
    let m = split.n_chains;
    let n = split.n_draws;
    let total = (m * n) as f64;
    let (lo, hi) = split
        .data
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        });
    if hi - lo < CONSTANT_RANGE {
        // ArviZ: a (numerically) constant set of chains has ESS equal to its size.
        return total;
    }
    let nf = n as f64;
    let mut chain_means = Vec::with_capacity(m);
    let mut centered = Vec::with_capacity(m * n);
    for c in 0..m {
        let chain = split.chain(c);
        let mean = chain.iter().sum::<f64>() / nf;
        chain_means.push(mean);
        centered.extend(chain.iter().map(|x| x - mean));
    }
    let mut acov = MeanAutocov::new(centered, m, n);

    let mean_var = acov.get(0) * nf / (nf - 1.0);
    let mut var_plus = mean_var * (nf - 1.0) / nf;
    if m > 1 {
        var_plus += mean_variance(&chain_means).1;
    }
    let mut rho = vec![0.0; n];
    let mut rho_even = 1.0;
    rho[0] = rho_even;
    let mut rho_odd = 1.0 - (mean_var - acov.get(1)) / var_plus;
    rho[1] = rho_odd;

    // Geyer's initial positive sequence: pairs (t+1, t+2) until a pair sum is negative.
    let mut t = 1;
    while t + 3 < n && rho_even + rho_odd > 0.0 {
        rho_even = 1.0 - (mean_var - acov.get(t + 1)) / var_plus;
        rho_odd = 1.0 - (mean_var - acov.get(t + 2)) / var_plus;
        if rho_even + rho_odd >= 0.0 {
            rho[t + 1] = rho_even;
            rho[t + 2] = rho_odd;
        }
        t += 2;
    }
    // max_t = t - 2 may be -1 (no pair accepted); index max_t + 1 = t - 1 >= 0.
    let max_t_plus_1 = t - 1;
    if rho_even > 0.0 {
        // Stan's refinement: keep the last positive even autocorrelation.
        rho[max_t_plus_1] = rho_even;
    }
    // Geyer's initial monotone sequence: no pair sum may exceed the previous one.
    let mut t = 1;
    while t + 3 <= max_t_plus_1 {
        let prev = rho[t - 1] + rho[t];
        if rho[t + 1] + rho[t + 2] > prev {
            rho[t + 1] = prev / 2.0;
            rho[t + 2] = rho[t + 1];
        }
        t += 2;
    }
    if rho.iter().any(|r| r.is_nan()) {
        return f64::NAN;
    }
    let tau = -1.0 + 2.0 * rho[..max_t_plus_1].iter().sum::<f64>() + rho[max_t_plus_1];
    let tau = tau.max(1.0 / total.log10());
    total / tau
}

/// Autocovariance at each lag, averaged over chains, with the biased 1/n normalisation
/// ArviZ uses. Lags are computed directly one at a time as Geyer's sequence asks for
/// them (cheap when autocorrelation dies quickly); once many lags are needed, all
/// remaining lags come from one zero-padded FFT per chain, keeping the worst case at
/// O(n log n) rather than O(n^2).
struct MeanAutocov {
    centered: Vec<f64>,
    n_chains: usize,
    n_draws: usize,
    lags: Vec<f64>,
    fft_done: bool,
    switch_lag: usize,
}

impl MeanAutocov {
    fn new(centered: Vec<f64>, n_chains: usize, n_draws: usize) -> Self {
        let fft_len = (2 * n_draws).next_power_of_two();
        let switch_lag = FFT_SWITCH_LAGS_PER_LOG2 * fft_len.trailing_zeros() as usize;
        MeanAutocov {
            centered,
            n_chains,
            n_draws,
            lags: Vec::new(),
            fft_done: false,
            switch_lag,
        }
    }

    fn get(&mut self, lag: usize) -> f64 {
        while self.lags.len() <= lag {
            if !self.fft_done && self.lags.len() >= self.switch_lag {
                self.fill_by_fft();
            } else {
                let next = self.direct(self.lags.len());
                self.lags.push(next);
            }
        }
        self.lags[lag]
    }

    fn direct(&self, lag: usize) -> f64 {
        let n = self.n_draws;
        let mut total = 0.0;
        for c in 0..self.n_chains {
            let x = &self.centered[c * n..(c + 1) * n];
            total += dot(&x[..n - lag], &x[lag..]) / n as f64;
        }
        total / self.n_chains as f64
    }

    /// Appends every lag not yet computed, from FFTs of the chains. Two real chains share
    /// one complex transform (one as the real part, one as the imaginary part), and
    /// their two power spectra share the transform back.
    fn fill_by_fft(&mut self) {
        let n = self.n_draws;
        // Zero padding to >= 2n makes the circular correlation equal the linear one.
        let len = (2 * n).next_power_of_two();
        let fft = Fft::new(len);
        let mut sums = vec![0.0; n];
        let mut re = vec![0.0; len];
        let mut im = vec![0.0; len];
        let mut power_a = vec![0.0; len];
        let mut power_b = vec![0.0; len];
        let scale = 1.0 / (len as f64 * n as f64);
        for first in (0..self.n_chains).step_by(2) {
            re.fill(0.0);
            im.fill(0.0);
            re[..n].copy_from_slice(&self.centered[first * n..(first + 1) * n]);
            if first + 1 < self.n_chains {
                im[..n].copy_from_slice(&self.centered[(first + 1) * n..(first + 2) * n]);
            }
            fft.forward(&mut re, &mut im);
            // Z = A + iB with A, B the spectra of the real chains:
            // A_k = (Z_k + conj Z_-k) / 2 and B_k = (Z_k - conj Z_-k) / 2i.
            for k in 0..len {
                let j = (len - k) % len;
                let (ar, ai) = (0.5 * (re[k] + re[j]), 0.5 * (im[k] - im[j]));
                let (br, bi) = (0.5 * (im[k] + im[j]), -0.5 * (re[k] - re[j]));
                power_a[k] = ar * ar + ai * ai;
                power_b[k] = br * br + bi * bi;
            }
            // Power spectra are real and even, so their forward transforms are real, even,
            // and equal to len times the inverse transforms.
            re.copy_from_slice(&power_a);
            im.copy_from_slice(&power_b);
            fft.forward(&mut re, &mut im);
            for (lag, s) in sums.iter_mut().enumerate() {
                *s += (re[lag] + im[lag]) * scale;
            }
        }
        let start = self.lags.len();
        self.lags
            .extend(sums[start..].iter().map(|s| s / self.n_chains as f64));
        self.fft_done = true;
    }
}

/// Dot product with four independent accumulators, so the compiler can pipeline and
/// vectorise it (a single running sum is a serial dependency chain).
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..4 {
            acc[i] += x[i] * y[i];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// Iterative radix-2 complex FFT of one power-of-two length. Twiddles are tabulated per
/// stage (contiguous in the inner loop) and each computed directly from cos/sin, not by
/// recurrence, to keep the round-off at a few ulps.
struct Fft {
    len: usize,
    /// Stage with half-width h keeps its h twiddles exp(-i pi k / h) at offset h - 1.
    tw_re: Vec<f64>,
    tw_im: Vec<f64>,
}

impl Fft {
    fn new(len: usize) -> Self {
        debug_assert!(len.is_power_of_two());
        let mut tw_re = Vec::with_capacity(len);
        let mut tw_im = Vec::with_capacity(len);
        let mut half = 1;
        while half < len {
            for k in 0..half {
                let angle = -PI * k as f64 / half as f64;
                tw_re.push(angle.cos());
                tw_im.push(angle.sin());
            }
            half *= 2;
        }
        Fft { len, tw_re, tw_im }
    }

    fn forward(&self, re: &mut [f64], im: &mut [f64]) {
        let n = self.len;
        if n < 2 {
            return;
        }
        let bits = n.trailing_zeros();
        for i in 0..n {
            let j = i.reverse_bits() >> (usize::BITS - bits);
            if j > i {
                re.swap(i, j);
                im.swap(i, j);
            }
        }
        let mut half = 1;
        while half < n {
            let wr = &self.tw_re[half - 1..2 * half - 1];
            let wi = &self.tw_im[half - 1..2 * half - 1];
            for start in (0..n).step_by(2 * half) {
                let (re_a, re_b) = re[start..start + 2 * half].split_at_mut(half);
                let (im_a, im_b) = im[start..start + 2 * half].split_at_mut(half);
                for k in 0..half {
                    let tr = re_b[k] * wr[k] - im_b[k] * wi[k];
                    let ti = re_b[k] * wi[k] + im_b[k] * wr[k];
                    re_b[k] = re_a[k] - tr;
                    im_b[k] = im_a[k] - ti;
                    re_a[k] += tr;
                    im_a[k] += ti;
                }
            }
            half *= 2;
        }
    }
}

#[cfg(test)]
mod tests {
    //! Known answers from ArviZ 0.23.4 (numpy 2.4.6, scipy 1.17.1, no numba), produced by
    //! the script below (`python3 -m venv /tmp/azenv && /tmp/azenv/bin/pip install arviz
    //! numpy`, then `/tmp/azenv/bin/python gen.py`). The calls are `az.rhat(a)`,
    //! `az.ess(a, method="bulk" | "tail" | "mean")`, `az.mcse(a, method="mean")`,
    //! `np.quantile(a.ravel(), p)` and `az.hdi(a.ravel(), hdi_prob=p)` on the
    //! (chain, draw) array `a`. The chains come from an integer LCG and plain IEEE
    //! arithmetic, so [`ar1`] below reproduces them bit for bit.
    //!
    //! ```python
    //! import warnings
    //! warnings.simplefilter("ignore")
    //! import numpy as np, arviz as az, scipy
    //!
    //! MASK = (1 << 64) - 1
    //!
    //! class Lcg:
    //!     # Knuth MMIX LCG; u in [0,1) from the top 53 bits.
    //!     def __init__(self, seed):
    //!         self.s = seed & MASK
    //!     def next_u(self):
    //!         self.s = (self.s * 6364136223846793005 + 1442695040888963407) & MASK
    //!         return (self.s >> 11) / 9007199254740992.0
    //!
    //! def ar1(seed, chains, draws, phi, offsets):
    //!     rng = Lcg(seed)
    //!     out = []
    //!     for c in range(chains):
    //!         x = 0.0
    //!         row = []
    //!         for _ in range(draws):
    //!             x = phi * x + (2.0 * rng.next_u() - 1.0)
    //!             row.append(x + offsets[c])
    //!         out.append(row)
    //!     return np.array(out)
    //!
    //! CASES = {
    //!     "well_mixed": ar1(1, 4, 200, 0.3, [0.0] * 4),
    //!     "badly_mixed": ar1(2, 4, 200, 0.5, [0.0, 0.5, 1.0, 1.5]),
    //!     "heavy_autocorr": ar1(3, 4, 1000, 0.98, [0.0] * 4),
    //!     "odd_draws": ar1(4, 3, 201, 0.6, [0.0] * 3),
    //!     "ties": np.floor(ar1(5, 4, 100, 0.4, [0.0] * 4) * 2.0),
    //!     "single_chain": ar1(6, 1, 300, 0.5, [0.0]),
    //!     "antithetic": ar1(7, 4, 200, -0.9, [0.0] * 4),
    //!     "tiny": ar1(8, 2, 5, 0.2, [0.0, 0.3]),
    //! }
    //!
    //! def f(v):
    //!     return float(np.asarray(v).squeeze())
    //!
    //! print("arviz", az.__version__, "numpy", np.__version__, "scipy", scipy.__version__)
    //! for name, a in CASES.items():
    //!     flat = a.ravel()
    //!     d = dict(
    //!         rhat=f(az.rhat(a)),
    //!         ess_bulk=f(az.ess(a, method="bulk")),
    //!         ess_tail=f(az.ess(a, method="tail")),
    //!         ess_mean=f(az.ess(a, method="mean")),
    //!         mcse_mean=f(az.mcse(a, method="mean")),
    //!         mean=float(np.mean(flat)),
    //!         sd=float(np.std(flat, ddof=1)),
    //!         q2_5=float(np.quantile(flat, 0.025)),
    //!         median=float(np.quantile(flat, 0.5)),
    //!         q97_5=float(np.quantile(flat, 0.975)),
    //!         hdi90=tuple(float(v) for v in az.hdi(flat, hdi_prob=0.9)),
    //!         hdi94=tuple(float(v) for v in az.hdi(flat, hdi_prob=0.94)),
    //!     )
    //!     print("// " + name)
    //!     for k, v in d.items():
    //!         print(f"    {k}: {v!r},")
    //! from scipy.stats import norm
    //! for p in [1e-300, 1e-20, 1e-10, 0.001, 0.02425, 0.025, 0.1, 0.3, 0.5, 0.7,
    //!           0.975, 0.999, 1 - 1e-12]:
    //!     print("ppf", repr(p), repr(float(norm.ppf(p))))
    //! ```
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

    /// Relative tolerance against ArviZ (FFT vs direct sums, pairwise vs naive
    /// summation and ndtri vs AS 241 differ in the last few ulps only).
    const REL_TOL: f64 = 1e-9;

    /// Knuth's MMIX LCG, identical to the Python `Lcg` above.
    struct Lcg(u64);

    impl Lcg {
        fn next_u(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 11) as f64 / 9007199254740992.0
        }
    }

    /// AR(1) chains with uniform(-1, 1) innovations, identical to the Python `ar1`.
    fn ar1(seed: u64, chains: usize, draws: usize, phi: f64, offsets: &[f64]) -> Vec<Vec<f64>> {
        let mut rng = Lcg(seed);
        (0..chains)
            .map(|c| {
                let mut x = 0.0;
                (0..draws)
                    .map(|_| {
                        x = phi * x + (2.0 * rng.next_u() - 1.0);
                        x + offsets[c]
                    })
                    .collect()
            })
            .collect()
    }

    struct Expected {
        rhat: f64,
        ess_bulk: f64,
        ess_tail: f64,
        ess_mean: f64,
        mcse_mean: f64,
        mean: f64,
        sd: f64,
        q2_5: f64,
        median: f64,
        q97_5: f64,
        hdi90: (f64, f64),
        hdi94: (f64, f64),
    }

    fn assert_close(what: &str, got: f64, want: f64) {
        if want.is_nan() {
            assert!(got.is_nan(), "{what}: got {got}, want NaN");
            return;
        }
        let err = (got - want).abs() / want.abs().max(f64::MIN_POSITIVE);
        assert!(
            err <= REL_TOL || got == want,
            "{what}: got {got:.17e}, want {want:.17e} (rel err {err:.2e})"
        );
    }

    fn check_case(name: &str, data: &[Vec<f64>], e: &Expected) {
        let chains: Vec<&[f64]> = data.iter().map(|c| c.as_slice()).collect();
        let s = summarize(&chains);
        let tag = |field: &str| format!("{name}.{field}");
        assert_close(&tag("rhat"), rhat(&chains), e.rhat);
        assert_close(&tag("ess_bulk"), ess_bulk(&chains), e.ess_bulk);
        assert_close(&tag("ess_tail"), ess_tail(&chains), e.ess_tail);
        assert_close(&tag("ess_mean"), ess_mean(&chains), e.ess_mean);
        assert_close(&tag("mcse_mean"), mcse_mean(&chains), e.mcse_mean);
        assert_close(&tag("summary.r_hat"), s.r_hat, e.rhat);
        assert_close(&tag("summary.ess_bulk"), s.ess_bulk, e.ess_bulk);
        assert_close(&tag("summary.ess_tail"), s.ess_tail, e.ess_tail);
        assert_close(&tag("summary.mcse_mean"), s.mcse_mean, e.mcse_mean);
        assert_close(&tag("summary.mean"), s.mean, e.mean);
        assert_close(&tag("summary.sd"), s.sd, e.sd);
        assert_close(&tag("summary.q2_5"), s.q2_5, e.q2_5);
        assert_close(&tag("summary.median"), s.median, e.median);
        assert_close(&tag("summary.q97_5"), s.q97_5, e.q97_5);
        let flat: Vec<f64> = data.iter().flatten().copied().collect();
        let (lo, hi) = hdi(&flat, 0.9);
        assert_close(&tag("hdi90.lo"), lo, e.hdi90.0);
        assert_close(&tag("hdi90.hi"), hi, e.hdi90.1);
        let (lo, hi) = hdi(&flat, 0.94);
        assert_close(&tag("hdi94.lo"), lo, e.hdi94.0);
        assert_close(&tag("hdi94.hi"), hi, e.hdi94.1);
    }

    #[test]
    fn well_mixed_matches_arviz() {
        let data = ar1(1, 4, 200, 0.3, &[0.0; 4]);
        check_case(
            "well_mixed",
            &data,
            &Expected {
                rhat: 1.0035790813748797,
                ess_bulk: 444.65001929117153,
                ess_tail: 669.9164224489989,
                ess_mean: 465.302644336259,
                mcse_mean: 0.02749313665349049,
                mean: 0.01863601418719941,
                sd: 0.5930510116062769,
                q2_5: -1.0225164476888617,
                median: 0.04543566099334509,
                q97_5: 1.041928649581346,
                hdi90: (-0.9717218221994774, 0.8882442838215856),
                hdi94: (-1.0238184382382147, 0.9838018126190462),
            },
        );
        assert!(rhat(&data.iter().map(|c| c.as_slice()).collect::<Vec<_>>()) < 1.01);
    }

    #[test]
    fn badly_mixed_matches_arviz() {
        let data = ar1(2, 4, 200, 0.5, &[0.0, 0.5, 1.0, 1.5]);
        check_case(
            "badly_mixed",
            &data,
            &Expected {
                rhat: 1.3484413255825678,
                ess_bulk: 9.898974284498225,
                ess_tail: 61.848606389822734,
                ess_mean: 9.77691398271491,
                mcse_mean: 0.27530004036133937,
                mean: 0.7939571835650141,
                sd: 0.8608097396894053,
                q2_5: -1.0193440625352974,
                median: 0.8192233413037419,
                q97_5: 2.3658864780476483,
                hdi90: (-0.6204348702717197, 2.248275114020024),
                hdi94: (-0.8693630957506494, 2.3713027767122337),
            },
        );
        assert!(rhat(&data.iter().map(|c| c.as_slice()).collect::<Vec<_>>()) > 1.1);
    }

    #[test]
    fn heavy_autocorrelation_matches_arviz() {
        // phi = 0.98 needs a few hundred lags, so this also exercises the FFT path.
        let data = ar1(3, 4, 1000, 0.98, &[0.0; 4]);
        check_case(
            "heavy_autocorr",
            &data,
            &Expected {
                rhat: 1.0678370500271797,
                ess_bulk: 48.52585838500523,
                ess_tail: 79.1853712695608,
                ess_mean: 45.69109187199442,
                mcse_mean: 0.43074984214167955,
                mean: 0.22530602307924993,
                sd: 2.9116615752645574,
                q2_5: -4.972871846353257,
                median: 0.05957664941356683,
                q97_5: 6.912912747914536,
                hdi90: (-4.950747505850991, 4.6171985885385505),
                hdi94: (-5.10788707756353, 6.249019246566647),
            },
        );
    }

    #[test]
    fn odd_draws_drop_the_middle_draw() {
        let data = ar1(4, 3, 201, 0.6, &[0.0; 3]);
        check_case(
            "odd_draws",
            &data,
            &Expected {
                rhat: 1.0369753454485473,
                ess_bulk: 132.25524464583592,
                ess_tail: 217.39113936059186,
                ess_mean: 134.91308809039117,
                mcse_mean: 0.06178187388435198,
                mean: -0.042137979081889966,
                sd: 0.7176093987926487,
                q2_5: -1.3713029505394154,
                median: -0.04993569431163919,
                q97_5: 1.3099575780274562,
                hdi90: (-1.1277378352400957, 1.2069419323410902),
                hdi94: (-1.3715375263496388, 1.1912527489935973),
            },
        );
    }

    #[test]
    fn ties_use_average_ranks() {
        let data: Vec<Vec<f64>> = ar1(5, 4, 100, 0.4, &[0.0; 4])
            .into_iter()
            .map(|c| c.into_iter().map(|x| (x * 2.0).floor()).collect())
            .collect();
        check_case(
            "ties",
            &data,
            &Expected {
                rhat: 1.0223874015492507,
                ess_bulk: 236.82669255959502,
                ess_tail: 234.34677359953366,
                ess_mean: 239.24458365392556,
                mcse_mean: 0.0789429891663207,
                mean: -0.5525,
                sd: 1.2210533067580882,
                q2_5: -3.0,
                median: -1.0,
                q97_5: 1.0249999999999773,
                hdi90: (-2.0, 1.0),
                hdi94: (-3.0, 1.0),
            },
        );
    }

    #[test]
    fn single_chain_has_ess_but_no_rhat() {
        let data = ar1(6, 1, 300, 0.5, &[0.0]);
        check_case(
            "single_chain",
            &data,
            &Expected {
                rhat: f64::NAN,
                ess_bulk: 42.586886716864306,
                ess_tail: 48.29385686230625,
                ess_mean: 40.06993826001868,
                mcse_mean: 0.10713293983624696,
                mean: 0.0046396654214190865,
                sd: 0.6781602951924771,
                q2_5: -1.3902858880159665,
                median: 0.030133008925233136,
                q97_5: 1.2415734588949052,
                hdi90: (-0.9661779364005496, 1.2520545012391264),
                hdi94: (-1.2843765643037426, 1.2442083069350052),
            },
        );
    }

    #[test]
    fn antithetic_chains_hit_the_log10_cap() {
        let data = ar1(7, 4, 200, -0.9, &[0.0; 4]);
        check_case(
            "antithetic",
            &data,
            &Expected {
                rhat: 1.0166363837710672,
                ess_bulk: 2322.471989593555,
                ess_tail: 448.63090235180636,
                ess_mean: 2322.471989593555,
                mcse_mean: 0.024443257502484578,
                mean: -0.012793376668798625,
                sd: 1.1779702582189169,
                q2_5: -2.27900236822751,
                median: 0.0020564682111683663,
                q97_5: 2.2582514000418445,
                hdi90: (-2.067846784098924, 1.8440598235413084),
                hdi94: (-2.1140564675822415, 2.2569946070464786),
            },
        );
        assert_close("cap", 2322.471989593555, 800.0 * 800f64.log10());
    }

    #[test]
    fn tiny_odd_chains_match_arviz() {
        // 2 chains x 5 draws: split halves of 2 draws, the smallest case ArviZ accepts.
        let data = ar1(8, 2, 5, 0.2, &[0.0, 0.3]);
        check_case(
            "tiny",
            &data,
            &Expected {
                rhat: 1.1351075329832052,
                ess_bulk: 7.224719895935548,
                ess_tail: 7.224719895935548,
                ess_mean: 7.224719895935548,
                mcse_mean: 0.20354111662083704,
                mean: 0.11473785865520118,
                sd: 0.5470948917183609,
                q2_5: -0.5384135024180475,
                median: -0.00625488894380527,
                q97_5: 0.883270075978789,
                hdi90: (-0.5438543419546478, 0.8866500051607993),
                hdi94: (-0.5438543419546478, 0.8866500051607993),
            },
        );
    }

    #[test]
    fn inverse_normal_cdf_matches_scipy() {
        // scipy.stats.norm.ppf, scipy 1.17.1.
        let cases = [
            (1e-300, -37.0470962993612),
            (1e-20, -9.262340089798409),
            (1e-10, -6.361340902404056),
            (0.001, -3.090232306167813),
            (0.02425, -1.972961051311885),
            (0.025, -1.9599639845400545),
            (0.1, -1.2815515655446004),
            (0.3, -0.5244005127080409),
            (0.7, 0.5244005127080407),
            (0.975, 1.959963984540054),
            (0.999, 3.090232306167813),
            (1.0 - 1e-12, 7.0344869100478356),
        ];
        for (p, want) in cases {
            let got = inv_normal_cdf(p);
            let err = ((got - want) / want).abs();
            assert!(err < 1e-14, "ppf({p}) = {got:.17e}, want {want:.17e}");
        }
        assert_eq!(inv_normal_cdf(0.5), 0.0);
        assert_eq!(inv_normal_cdf(0.0), f64::NEG_INFINITY);
        assert_eq!(inv_normal_cdf(1.0), f64::INFINITY);
        assert!(inv_normal_cdf(-0.1).is_nan());
        assert!(inv_normal_cdf(1.1).is_nan());
        assert!(inv_normal_cdf(f64::NAN).is_nan());
        // Antisymmetry around 0.5 (binary fractions, so 1 - p is exact).
        for p in [0.001953125, 0.0625, 0.25, 0.375] {
            assert_eq!(inv_normal_cdf(p), -inv_normal_cdf(1.0 - p), "p = {p}");
        }
    }

    #[test]
    fn quantile_matches_numpy_linear() {
        // np.quantile(a, p) on the scipy mquantiles doc example, numpy 2.4.6.
        let mut a = [6., 47., 49., 15., 42., 41., 7., 39., 43., 40., 36.];
        a.sort_unstable_by(f64::total_cmp);
        let cases = [
            (0.0, 6.0),
            (0.1, 7.0),
            (0.25, 25.5),
            (0.333, 36.99),
            (0.5, 40.0),
            (0.9, 47.0),
            (1.0, 49.0),
        ];
        for (p, want) in cases {
            assert_eq!(quantile_sorted(&a, p), want, "p = {p}");
        }
        assert!(quantile_sorted(&[], 0.5).is_nan());
        assert!(quantile_sorted(&a, 1.5).is_nan());
        assert_eq!(quantile_sorted(&[3.0], 0.7), 3.0);
    }

    #[test]
    fn hdi_edge_cases() {
        assert_eq!(hdi(&[3.0, 1.0, 2.0], 1.0), (1.0, 3.0));
        let (lo, hi) = hdi(&[], 0.9);
        assert!(lo.is_nan() && hi.is_nan());
        let (lo, hi) = hdi(&[1.0, f64::NAN], 0.5);
        assert!(lo.is_nan() && hi.is_nan());
        let (lo, hi) = hdi(&[1.0, 2.0], 0.0);
        assert!(lo.is_nan() && hi.is_nan());
        // Narrowest window of 3 (floor(0.5 * 5) + 1) draws, first on ties.
        assert_eq!(hdi(&[0.0, 1.0, 2.0, 10.0, 11.0], 0.5), (0.0, 2.0));
    }

    #[test]
    fn invalid_inputs_give_nan_without_panicking() {
        let all_nan = |chains: &[&[f64]]| {
            let s = summarize(chains);
            [
                rhat(chains),
                ess_bulk(chains),
                ess_tail(chains),
                ess_mean(chains),
                mcse_mean(chains),
                s.r_hat,
                s.ess_bulk,
                s.ess_tail,
                s.mcse_mean,
            ]
            .iter()
            .all(|x| x.is_nan())
        };
        // Too few draws per chain.
        assert!(all_nan(&[&[1.0, 2.0, 3.0], &[2.0, 3.0, 1.0]]));
        // Constant quantity.
        let c = [0.25; 10];
        assert!(all_nan(&[&c, &c]));
        let s = summarize(&[&c, &c]);
        assert_eq!((s.mean, s.sd, s.median), (0.25, 0.0, 0.25));
        // NaN and infinite draws.
        let mut data = ar1(9, 2, 50, 0.5, &[0.0; 2]);
        data[1][7] = f64::NAN;
        let chains: Vec<&[f64]> = data.iter().map(|c| c.as_slice()).collect();
        assert!(all_nan(&chains));
        assert!(summarize(&chains).mean.is_nan());
        assert!(summarize(&chains).median.is_nan());
        data[1][7] = f64::INFINITY;
        let chains: Vec<&[f64]> = data.iter().map(|c| c.as_slice()).collect();
        assert!(all_nan(&chains));
        // No chains, empty chains, ragged chains.
        assert!(all_nan(&[]));
        assert!(all_nan(&[&[], &[]]));
        assert!(all_nan(&[
            &[1.0, 2.0, 3.0, 4.0],
            &[1.0, 2.0, 3.0, 4.0, 5.0]
        ]));
        let s = summarize(&[]);
        assert!(s.mean.is_nan() && s.sd.is_nan() && s.median.is_nan());
    }

    #[test]
    fn constant_tail_indicator_counts_all_draws() {
        // 29% of draws sit at the maximum 0.5, so q95 = max and I(x <= q95) is all ones;
        // ArviZ's _ess returns the split draw count (80) for such a constant indicator,
        // below the 5% indicator's ESS (102.01...), so tail ESS is exactly 80.
        let data: Vec<Vec<f64>> = ar1(12, 2, 40, 0.3, &[0.0; 2])
            .into_iter()
            .map(|c| c.into_iter().map(|x| x.min(0.5)).collect())
            .collect();
        check_case(
            "clipped",
            &data,
            &Expected {
                rhat: 1.0145229955803967,
                ess_bulk: 57.37834998116435,
                ess_tail: 80.0,
                ess_mean: 58.695130713919866,
                mcse_mean: 0.06836039900607949,
                mean: -0.06074801433558288,
                sd: 0.5237277984435245,
                q2_5: -0.9059095931271376,
                median: 0.10638429901254073,
                q97_5: 0.5,
                hdi90: (-0.8423879259031485, 0.5),
                hdi94: (-0.8651547592121895, 0.5),
            },
        );
    }

    #[test]
    fn fft_and_direct_autocovariances_agree() {
        let data = ar1(10, 3, 999, 0.95, &[0.0; 3]);
        let n = data[0].len();
        let mut centered = Vec::new();
        for c in &data {
            let m = c.iter().sum::<f64>() / n as f64;
            centered.extend(c.iter().map(|x| x - m));
        }
        let direct = MeanAutocov::new(centered.clone(), 3, n);
        let mut fft = MeanAutocov::new(centered, 3, n);
        fft.fill_by_fft();
        let scale = direct.direct(0).abs();
        for lag in [0, 1, 2, 17, 300, 998] {
            let d = direct.direct(lag);
            let f = fft.get(lag);
            assert!((d - f).abs() <= 1e-12 * scale, "lag {lag}: {d} vs {f}");
        }
    }

    #[test]
    fn many_lags_switch_to_the_fft() {
        // Asking for every lag must not evaluate more than `switch_lag` of them directly:
        // that is what keeps slowly mixing long chains O(n log n) instead of O(n^2).
        let data = ar1(11, 2, 20_000, 0.999, &[0.0; 2]);
        let n = data[0].len();
        let centered: Vec<f64> = data.iter().flatten().copied().collect();
        let mut acov = MeanAutocov::new(centered, 2, n);
        let switch_lag = acov.switch_lag;
        assert!(switch_lag < 200, "switch_lag = {switch_lag}");
        for lag in 0..n {
            acov.get(lag);
            if lag < switch_lag {
                assert!(!acov.fft_done, "FFT before lag {switch_lag}");
            }
        }
        assert!(acov.fft_done);
    }

    #[test]
    fn long_slowly_mixing_chains_give_finite_diagnostics() {
        // 4 x 50k draws at phi = 0.999 needs thousands of lags (the FFT path).
        let data = ar1(11, 4, 50_000, 0.999, &[0.0; 4]);
        let chains: Vec<&[f64]> = data.iter().map(|c| c.as_slice()).collect();
        let s = summarize(&chains);
        assert!(s.ess_bulk > 10.0 && s.ess_bulk < 2000.0, "{s:?}");
        assert!(s.r_hat.is_finite() && s.r_hat > 1.0, "{s:?}");
    }
}

#[cfg(test)]
mod summary_interval_tests {
    use super::*;

    #[test]
    fn summary_carries_the_hdi_and_the_probability_above_zero() {
        let a: Vec<f64> = (0..400)
            .map(|i| ((i * 37) % 400) as f64 / 100.0 - 1.0)
            .collect();
        let b: Vec<f64> = (0..400)
            .map(|i| ((i * 53) % 400) as f64 / 100.0 - 1.5)
            .collect();
        let s = summarize(&[&a, &b]);
        let pooled: Vec<f64> = a.iter().chain(&b).copied().collect();
        assert_eq!((s.hdi_low, s.hdi_high), hdi(&pooled, HDI_PROB));
        let above = pooled.iter().filter(|&&x| x > 0.0).count() as f64 / pooled.len() as f64;
        assert_eq!(s.p_positive, above);
        let with_nan = [f64::NAN, 1.0, 2.0, 3.0];
        let s = summarize(&[&with_nan, &with_nan]);
        assert!(s.p_positive.is_nan() && s.hdi_low.is_nan());
    }
}

//! Known answers from ArviZ 0.23.4 (numpy 2.4.6, scipy 1.17.1, no numba), produced by
//! the script below (`python3 -m venv /tmp/azenv && /tmp/azenv/bin/pip install arviz
//! numpy`, then `/tmp/azenv/bin/python gen.py`). The calls are `az.rhat(a)`,
//! `az.ess(a, method="bulk" | "tail" | "mean")`, `az.mcse(a, method="mean")`,
//! `np.quantile(a.ravel(), p)` and `az.hdi(a.ravel(), hdi_prob=p)` on the
//! (chain, draw) array `a`. The chains come from an integer LCG and plain IEEE
//! arithmetic, so `test_chains::ar1` reproduces them bit for bit.
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
use super::test_chains::ar1;
use super::*;

/// Relative tolerance against ArviZ (FFT vs direct sums, pairwise vs naive
/// summation and ndtri vs AS 241 differ in the last few ulps only).
const REL_TOL: f64 = 1e-9;

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
fn long_slowly_mixing_chains_give_finite_diagnostics() {
    // 4 x 50k draws at phi = 0.999 needs thousands of lags (the FFT path).
    let data = ar1(11, 4, 50_000, 0.999, &[0.0; 4]);
    let chains: Vec<&[f64]> = data.iter().map(|c| c.as_slice()).collect();
    let s = summarize(&chains);
    assert!(s.ess_bulk > 10.0 && s.ess_bulk < 2000.0, "{s:?}");
    assert!(s.r_hat.is_finite() && s.r_hat > 1.0, "{s:?}");
}

//! The lanes' arithmetic, in `wide`'s f32x4: Cephes' `ln`, `exp` and `cos` (as in `lanes`),
//! the uniform and normal variates of Philox words, ln Γ, ln B and the beta-binomial's log
//! ratio by Stirling with shifts, and the Gamma and Beta variates, each the twin's
//! operations in every lane.

use wide::{f32x4, i32x4, u32x4};

use crate::kernels::cpu::betabinom::{
    beta_binomial_log_ratio, HALF_LN_TWO_PI, QUOTIENT_MAX, STIRLING_MIN,
};
use crate::kernels::cpu::lanes::philox_lanes;
use crate::kernels::cpu::variates::{log_gamma_variate_out_of_line, DrawSite};
use crate::math::cephes::{
    COS_POLYNOMIAL, EXP_POLYNOMIAL, LN2_HI, LN2_LO, LN_POLYNOMIAL, ROUND_SHIFTER, SIN_POLYNOMIAL,
};
use crate::rng::{Stream, STREAM_SHIFT};

/// Chains per call: one SSE register of f32 (and the default chain count).
pub const CHAIN_LANES: usize = 4;

/// An f32 per chain.
pub(super) type F = f32x4;
/// A Philox word per chain.
pub(super) type U = [u32; CHAIN_LANES];

/// x in every lane.
#[inline(always)]
pub(super) fn sp(x: f32) -> F {
    F::splat(x)
}

/// A mask of every lane.
#[inline(always)]
pub(super) fn all_lanes() -> F {
    sp(0.0).simd_eq(sp(0.0))
}

/// 1 where `mask`, else 0.
#[inline(always)]
pub(super) fn one_if(mask: F) -> F {
    mask & sp(1.0)
}

/// lanes::ln in every lane (Cephes logf) for positive normal x.
#[inline(always)]
pub(super) fn ln(x: F) -> F {
    const C: [f32; 9] = LN_POLYNOMIAL;
    let bits: u32x4 = bytemuck::cast(x);
    let e: i32x4 = bytemuck::cast(bits >> 23);
    let m: F = bytemuck::cast((bits & u32x4::splat(0x007f_ffff)) | u32x4::splat(0x3f00_0000));
    let small = m.simd_lt(sp(std::f32::consts::FRAC_1_SQRT_2));
    let e = F::from_i32x4(e - i32x4::splat(126)) - one_if(small);
    let m = small.select(m + m - 1.0, m - 1.0);
    let z = m * m;
    let mut p = sp(C[0]);
    for c in &C[1..] {
        p = p * m + *c;
    }
    m + (m * z * p - e * LN2_LO - z * 0.5) + e * LN2_HI
}

/// lanes::exp_clamped in every lane: e^x for x clamped to [-87, 88].
#[inline(always)]
pub(super) fn exp(x: F) -> F {
    const SHIFTER: f32 = ROUND_SHIFTER;
    let x = x.fast_max(sp(-87.0)).fast_min(sp(88.0));
    let n = (x * std::f32::consts::LOG2_E + SHIFTER) - SHIFTER;
    let r = x - n * LN2_HI + n * LN2_LO;
    let p = ((((r * EXP_POLYNOMIAL[0] + EXP_POLYNOMIAL[1]) * r + EXP_POLYNOMIAL[2]) * r
        + EXP_POLYNOMIAL[3])
        * r
        + EXP_POLYNOMIAL[4])
        * r
        + EXP_POLYNOMIAL[5];
    let y = r + 1.0 + r * r * p;
    let scale: F = bytemuck::cast((n.fast_trunc_int() + i32x4::splat(127)) << 23);
    y * scale
}

/// lanes::cos_pi in every lane: cos(x) for x in [-pi, pi].
#[inline(always)]
fn cos_pi(x: F) -> F {
    use std::f32::consts::{FRAC_PI_2, FRAC_PI_4, PI};
    let y = x.abs();
    let far = y.simd_gt(sp(FRAC_PI_2));
    let y = far.select(sp(PI) - y, y);
    let upper = y.simd_gt(sp(FRAC_PI_4));
    let z = upper.select(sp(FRAC_PI_2) - y, y);
    let z2 = z * z;
    let cos_z = sp(1.0) - z2 * 0.5
        + z2 * z2 * ((z2 * COS_POLYNOMIAL[0] - COS_POLYNOMIAL[1]) * z2 + COS_POLYNOMIAL[2]);
    let sin_z =
        z + z * z2 * ((z2 * -SIN_POLYNOMIAL[0] + SIN_POLYNOMIAL[1]) * z2 - SIN_POLYNOMIAL[2]);
    let c = upper.select(sin_z, cos_z);
    far.select(-c, c)
}

/// rng::uniform_f32 in every lane.
#[inline(always)]
pub(super) fn uniform(w: U) -> F {
    let k: i32x4 = bytemuck::cast(u32x4::new(w) >> 9);
    (F::from_i32x4(k) + 0.5) * (1.0 / 8_388_608.0)
}

/// variates::standard_normal in every lane.
#[inline(always)]
pub(super) fn standard_normal(w0: U, w1: U) -> F {
    let radius = (ln(uniform(w0)) * -2.0).sqrt();
    radius * cos_pi(uniform(w1) * std::f32::consts::TAU - std::f32::consts::PI)
}

/// betabinom::ln_1p's series branch, 2 atanh(u / (2 + u)), for u in about [-0.5, 1].
#[inline(always)]
fn ln_1p_series(u: F) -> F {
    let t = u / (u + 2.0);
    let t2 = t * t;
    let mut s = sp(1.0 / 15.0);
    for c in [
        1.0 / 13.0,
        1.0 / 11.0,
        1.0 / 9.0,
        1.0 / 7.0,
        1.0 / 5.0,
        1.0 / 3.0,
        1.0,
    ] {
        s = s * t2 + c;
    }
    t * 2.0 * s
}

/// `near` lanes from `series()`, the others from `log()`: only one is computed where all
/// lanes agree, as they mostly do (the counts are shared, the shapes alike across chains).
#[inline(always)]
fn choose(near: F, series: impl Fn() -> F, log: impl Fn() -> F) -> F {
    if near.all() {
        series()
    } else if !near.any() {
        log()
    } else {
        near.select(series(), log())
    }
}

/// betabinom::ln_1p in every lane.
#[inline(always)]
pub(super) fn ln_1p(u: F) -> F {
    let near = u.simd_ge(sp(-0.5)) & u.simd_le(sp(1.0));
    choose(near, || ln_1p_series(u), || ln(u + 1.0))
}

/// betabinom::ln_ratio in every lane.
#[inline(always)]
fn ln_ratio(num: F, num_minus_den: F, den: F) -> F {
    let r = num / den;
    let near = r.simd_ge(sp(0.5)) & r.simd_le(sp(2.0));
    choose(near, || ln_1p_series(num_minus_den / den), || ln(r))
}

/// betabinom::stirling_shift for x > 0: 0 to 3.
#[inline(always)]
fn stirling_shift(x: F) -> F {
    one_if(x.simd_lt(sp(STIRLING_MIN)))
        + one_if(x.simd_lt(sp(STIRLING_MIN - 1.0)))
        + one_if(x.simd_lt(sp(STIRLING_MIN - 2.0)))
}

#[inline(always)]
fn stirling_tail(x: F) -> F {
    let r = sp(1.0) / x;
    let r2 = r * r;
    r * (sp(1.0 / 12.0) - r2 * (sp(1.0 / 360.0) - r2 * (sp(1.0 / 1260.0) - r2 * (1.0 / 1680.0))))
}

/// Π_{j < m} (x + j + k): a shift product, m <= 3, branch-free.
#[inline(always)]
fn shift_product(x: F, k: F, m: F) -> F {
    let mut product = sp(1.0);
    for j in [0.0f32, 1.0, 2.0] {
        product *= m.simd_gt(sp(j)).select(x + j + k, sp(1.0));
    }
    product
}

/// What the Stirling terms of one shape x need whatever the count: the shift m (0 to 3), the
/// shifted x, its series tail and the shift product Π_{j < m} (x + j). A group's samples share
/// their shapes, so `group_likelihood` computes these once for all of its samples.
#[derive(Clone, Copy, Default)]
pub(super) struct Shape {
    x: F,
    m: F,
    xs: F,
    tail: F,
    /// Π_{j < m} (x + j); 1 in lanes that don't shift.
    below: F,
    /// Some lane shifts.
    shifted: bool,
}

impl Shape {
    #[inline(always)]
    fn new(x: F) -> Shape {
        let m = stirling_shift(x);
        let xs = x + m;
        let shifted = m.simd_gt(sp(0.0)).any();
        Shape {
            x,
            m,
            xs,
            tail: stirling_tail(xs),
            below: if shifted {
                shift_product(x, sp(0.0), m)
            } else {
                sp(1.0)
            },
            shifted,
        }
    }

    /// betabinom::log_gamma_ratio_rest at count k without its shift quotient: the Stirling
    /// part, and the product Π_{j < m} (x + j + k) (1 in lanes that don't shift), whose log
    /// over `below` the caller takes with the other terms'.
    #[inline(always)]
    fn rest(&self, k: F) -> (F, F) {
        let rest = (self.xs - 0.5) * ln_1p(k / self.xs) + stirling_tail(self.xs + k) - self.tail;
        let above = if self.shifted {
            shift_product(self.x, k, self.m)
        } else {
            sp(1.0)
        };
        (rest, above)
    }
}

/// The three shapes of a beta-binomial's, or a Beta function's, ln Γ terms: (a, b, a + b).
#[inline(always)]
pub(super) fn beta_shapes(a: F, b: F) -> [Shape; 3] {
    [Shape::new(a), Shape::new(b), Shape::new(a + b)]
}

/// betabinom::beta_binomial_log_ratio in every lane: counts shared, shapes per lane (from
/// `beta_shapes`). The three terms' shift quotients share one log, ln(q_a q_b / q_c),
/// where the twin takes three (one rounding apart; at small shapes, as in 2-replicate designs,
/// 2 of the 8 logs and 2 of the divisions of a call). Lanes whose combined quotient leaves
/// [1/QUOTIENT_MAX, QUOTIENT_MAX] (tiny shapes, huge counts) are recomputed by the scalar twin.
#[inline(always)]
pub(super) fn beta_binomial(y: f32, n: f32, [a, b, c]: &[Shape; 3]) -> F {
    let f = n - y;
    let den = c.xs + n;
    let mut big = sp(0.0);
    if y > 0.0 {
        big += ln_ratio(a.xs + y, (a.m - c.m) - b.x - f, den) * y;
    }
    if f > 0.0 {
        big += ln_ratio(b.xs + f, (b.m - c.m) - a.x - y, den) * f;
    }
    let (rest_a, above_a) = a.rest(sp(y));
    let (rest_b, above_b) = b.rest(sp(f));
    let (rest_c, above_c) = c.rest(sp(n));
    let mut out = big + rest_a + rest_b - rest_c;
    if !(a.shifted || b.shifted || c.shifted) {
        return out;
    }
    let quotient = (above_a * above_b * c.below) / (a.below * b.below * above_c);
    out -= ln(quotient);
    let ok = quotient.simd_lt(sp(QUOTIENT_MAX)) & quotient.simd_gt(sp(1.0 / QUOTIENT_MAX));
    if ok.to_bitmask() == (1 << CHAIN_LANES) - 1 {
        return out;
    }
    let (mut out, ok) = (out.to_array(), ok.to_bitmask());
    let (a, b) = (a.x.to_array(), b.x.to_array());
    for l in 0..CHAIN_LANES {
        if ok & (1 << l) == 0 {
            out[l] = beta_binomial_log_ratio(y, n, a[l], b[l]);
        }
    }
    F::new(out)
}

/// betabinom::ln_gamma_f32 in every lane (for the tests: the proposal takes `ln_beta`).
#[cfg(test)]
fn ln_gamma(x: F) -> F {
    let shape = Shape::new(x);
    let r = stirling_ln_gamma(&shape);
    if !shape.shifted {
        return r; // no lane shifted: its product is 1, as the twin skips it
    }
    r - ln(shape.below)
}

/// ln Γ(x) by Stirling at the shifted x, without the shift product's log.
#[inline(always)]
fn stirling_ln_gamma(x: &Shape) -> F {
    (x.xs - 0.5) * ln(x.xs) - x.xs + HALF_LN_TWO_PI + x.tail
}

/// betabinom::ln_beta_f32 in every lane: the three shift products share one log, where the
/// twin takes three; lanes whose quotient leaves [1/QUOTIENT_MAX, QUOTIENT_MAX] take three.
#[inline(always)]
pub(super) fn ln_beta(a: F, b: F) -> F {
    let [a, b, c] = beta_shapes(a, b);
    let r = stirling_ln_gamma(&a) + stirling_ln_gamma(&b) - stirling_ln_gamma(&c);
    if !(a.shifted || b.shifted || c.shifted) {
        return r;
    }
    let quotient = a.below * b.below / c.below;
    let ok = quotient.simd_lt(sp(QUOTIENT_MAX)) & quotient.simd_gt(sp(1.0 / QUOTIENT_MAX));
    if ok.all() {
        return r - ln(quotient);
    }
    ok.select(
        r - ln(quotient),
        r - (ln(a.below) + ln(b.below) - ln(c.below)),
    )
}

/// site_update::log_mu_pair in every lane.
#[inline(always)]
pub(super) fn log_mu_pair(u: F) -> [F; 2] {
    let shared = ln(exp(-u.abs()) + 1.0);
    [
        -((-u).fast_max(sp(0.0)) + shared),
        -(u.fast_max(sp(0.0)) + shared),
    ]
}

/// lanes::log_gamma_lanes in f32x4: the first Marsaglia–Tsang attempt in every lane, and the
/// scalar twin `variates::log_gamma_variate` for a lane that it doesn't settle (about 2%).
#[inline(always)]
fn log_gamma(shape: F, index: u32, unit: u32, sweep: u32, key: [U; 2], stream: Stream) -> F {
    let w = philox_lanes(
        [index; CHAIN_LANES],
        unit,
        sweep,
        (stream as u32) << STREAM_SHIFT,
        key,
    );
    let boosted = shape.simd_lt(sp(1.0));
    let a = shape + one_if(boosted);
    let d = a - 1.0 / 3.0;
    let c = sp(1.0) / (d * 9.0).sqrt();
    let x = standard_normal(w[0], w[1]);
    let t = c * x + 1.0;
    let v = t * t * t;
    let u = uniform(w[2]);
    let x2 = x * x;
    // Squeeze accepted, and t far enough from 0 that d v is a normal float.
    let positive = t.simd_gt(sp(1e-3));
    let squeezed = positive & u.simd_lt(sp(1.0) - sp(0.0331) * x2 * x2);
    let mut out = ln(d * v.fast_max(sp(f32::MIN_POSITIVE)));
    let mut done = squeezed.to_bitmask();
    if done != (1 << CHAIN_LANES) - 1 {
        // The exact test where the squeeze failed (about 2% of lanes), here rather than in the
        // scalar twin, which would draw the same attempt again: log G = ln d + 3 ln t.
        let log_v = ln(t.fast_max(sp(f32::MIN_POSITIVE))) * 3.0;
        let exact = positive & !squeezed & ln(u).simd_lt(x2 * 0.5 + d * (sp(1.0) - v + log_v));
        out = exact.select(ln(d) + log_v, out);
        done |= exact.to_bitmask();
    }
    if boosted.any() {
        // The shape < 1 boost, log U / shape.
        out = boosted.select(out + ln(uniform(w[3])) / shape, out);
    }
    if done == (1 << CHAIN_LANES) - 1 {
        return out;
    }
    let (mut out, shape) = (out.to_array(), shape.to_array());
    for l in 0..CHAIN_LANES {
        if done & (1 << l) == 0 {
            let site = DrawSite {
                key: [key[0][l], key[1][l]],
                index,
                unit,
                sweep,
            };
            out[l] = log_gamma_variate_out_of_line(shape[l], site, stream);
        }
    }
    F::new(out)
}

/// log Gamma(shape, 1) variates for values i in 0..n, CHAIN_LANES at a time: value i at
/// counter (i / CHAIN_LANES, unit, sweep, stream) under key (key[0], key[1] CHAIN_LANES +
/// i % CHAIN_LANES). Stage 1's latent weights of its t priors, thousands per chain a sweep.
pub fn log_gammas_keyed(
    shape: f32,
    n: usize,
    (unit, sweep): (u32, u32),
    key: [u32; 2],
    stream: Stream,
) -> Vec<f32> {
    let lanes: [U; 2] = [
        [key[0]; CHAIN_LANES],
        std::array::from_fn(|l| key[1].wrapping_mul(CHAIN_LANES as u32) + l as u32),
    ];
    let mut out = Vec::with_capacity(n.next_multiple_of(CHAIN_LANES));
    for block in 0..n.div_ceil(CHAIN_LANES) {
        let g = log_gamma(sp(shape), block as u32, unit, sweep, lanes, stream);
        out.extend(g.to_array());
    }
    out.truncate(n);
    out
}

/// variates::log_beta_variate in every lane: (log theta, log(1 - theta)), theta ~ Beta(a, b).
#[inline(always)]
pub(super) fn log_beta(a: F, b: F, index: u32, unit: u32, sweep: u32, key: [U; 2]) -> [F; 2] {
    let ga = log_gamma(a, index, unit, sweep, key, Stream::ThetaA);
    let gb = log_gamma(b, index, unit, sweep, key, Stream::ThetaB);
    let log_sum = ga.fast_max(gb) + ln(exp(-(ga - gb).abs()) + 1.0);
    [ga - log_sum, gb - log_sum]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::cpu::betabinom::{
        beta_binomial_log_ratio_f64, ln_gamma_f32, TEST_COUNTS, TEST_SHAPES,
    };
    use crate::math::ln_gamma as ln_gamma_f64;

    /// The twin's test shapes, and 1e-30, which takes the scalar twin's path (a quotient past
    /// QUOTIENT_MAX), and 1e-3.
    fn lane_test_shapes() -> Vec<f32> {
        let extra = [1e-30, 1e-3];
        TEST_SHAPES.iter().map(|&s| s as f32).chain(extra).collect()
    }

    /// The lanes' beta-binomial against the f64 reference, with the scalar twin's test bound.
    #[test]
    fn beta_binomial_lanes_match_the_f64_reference() {
        let shapes = lane_test_shapes();
        let counts = &TEST_COUNTS[..7]; // to 600 trials; 1e5 is the scalar twin's test
        for &(y, n) in counts {
            for a in shapes.chunks(2) {
                for b in shapes.chunks(2) {
                    let (a4, b4) = ([a[0], a[1], a[1], a[0]], [b[0], b[1], b[0], b[1]]);
                    let shapes = beta_shapes(F::new(a4), F::new(b4));
                    let got = beta_binomial(y as f32, n as f32, &shapes).to_array();
                    for l in 0..CHAIN_LANES {
                        let (a, b) = (f64::from(a4[l]), f64::from(b4[l]));
                        let exact = beta_binomial_log_ratio_f64(y as f64, n as f64, a, b);
                        // The twin's bound, plus 2 ulps of the result: a shape of 1e-30 makes it ~70.
                        let bound = 2e-7 * (n as f64 + 1.0) * (1.0 + exact.abs().ln_1p())
                            + 2e-6
                            + 2.4e-7 * exact.abs();
                        let err = (f64::from(got[l]) - exact).abs();
                        assert!(
                            err <= bound,
                            "y={y} n={n} a={a} b={b}: {} vs {exact}",
                            got[l]
                        );
                    }
                }
            }
        }
    }

    /// Keyed Gamma variates: a prefix of n values is the same for any n, and the draws' mean
    /// and variance (both the shape) within 5 standard errors, at the t weights' shapes.
    #[test]
    fn keyed_gammas_are_stable_and_have_their_moments() {
        let n = 100_003;
        for shape in [1.5f32, 2.5, 7.0] {
            let draws = log_gammas_keyed(shape, n, (7, 3), [11, 2], Stream::Hyper);
            let prefix = log_gammas_keyed(shape, 10, (7, 3), [11, 2], Stream::Hyper);
            assert_eq!(&draws[..10], &prefix[..]);
            let g: Vec<f64> = draws.iter().map(|&l| f64::from(l).exp()).collect();
            let mean = g.iter().sum::<f64>() / n as f64;
            let var = g.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            let k = f64::from(shape);
            // Var of the sample variance of a Gamma(k): (m4 - m2^2) / n, m4 = 3k(k + 2).
            let (se_mean, se_var) = (
                (k / n as f64).sqrt(),
                ((3.0 * k * (k + 2.0) - k * k) / n as f64).sqrt(),
            );
            assert!((mean - k).abs() < 5.0 * se_mean, "shape {k}: mean {mean}");
            assert!((var - k).abs() < 5.0 * se_var, "shape {k}: variance {var}");
        }
    }

    #[test]
    fn ln_gamma_lanes_match_the_scalar_twin() {
        for x in [
            [0.01f32, 0.5, 1.0, 2.5],
            [5.9, 6.0, 13.7, 400.0],
            [1e5, 2.999, 3.0, 1.0001],
        ] {
            let got = ln_gamma(F::new(x)).to_array();
            for l in 0..CHAIN_LANES {
                let exact = ln_gamma_f64(f64::from(x[l]));
                assert!((f64::from(got[l]) - exact).abs() < 4e-7 * (1.0 + exact.abs()));
                assert!((got[l] - ln_gamma_f32(x[l])).abs() < 1e-6 * (1.0 + exact.abs() as f32));
            }
        }
    }

    /// The proposal's ln B, one log for the three shift products (or three where their quotient
    /// leaves the range: the 1e-30 shapes), against the f64 reference.
    #[test]
    fn ln_beta_lanes_match_the_f64_reference() {
        let shapes = lane_test_shapes();
        for a in shapes.chunks(2) {
            for b in shapes.chunks(2) {
                let (a4, b4) = ([a[0], a[1], a[1], a[0]], [b[0], b[1], b[0], b[1]]);
                let got = ln_beta(F::new(a4), F::new(b4)).to_array();
                for l in 0..CHAIN_LANES {
                    let (a, b) = (f64::from(a4[l]), f64::from(b4[l]));
                    let terms = [ln_gamma_f64(a), ln_gamma_f64(b), ln_gamma_f64(a + b)];
                    let exact = terms[0] + terms[1] - terms[2];
                    // f32 rounding of the terms, which cancel (a few ulps of the largest).
                    let scale: f64 = terms.iter().map(|t| t.abs()).sum();
                    let err = (f64::from(got[l]) - exact).abs();
                    assert!(
                        err <= 2e-6 + 2.4e-7 * scale,
                        "a={a} b={b}: {} vs {exact}",
                        got[l]
                    );
                }
            }
        }
    }
}

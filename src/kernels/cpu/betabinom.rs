//! The beta-binomial log marginal ln B(y + a, n - y + b) - ln B(a, b): the CPU twin of
//! `shaders/shared/betabinom.wgsl` (f32, same operations in the same order), and an f64
//! reference from `prior::ln_gamma` that the tests hold the twin to.
//!
//! Why not ln Γ differences in f32: at n = 600 each ln Γ is about 4,000, so the f32
//! difference loses 5e-4 per observation and a group's sum drifts by 1e-2, a visible
//! distortion of the collapsed posterior. Stirling differences with the large parts
//! combined into logs of ratios keep the error near f32's resolution of the result.

use crate::math::ln_gamma;

/// Stirling's series (four terms) from here on: its first omitted term, 1/(1188 x^9), is
/// below 5e-8. At most 3 shifts then, whose products stay in f32's range for counts to 2^24.
pub(crate) const STIRLING_MIN: f32 = 3.0;

/// ln(1 + u) for u > -1, accurate near 0 (see betabinom.wgsl: 2 atanh(u / (2 + u)) by series).
#[inline(always)]
pub(crate) fn ln_1p(u: f32) -> f32 {
    if !(-0.5..=1.0).contains(&u) {
        return (1.0 + u).ln();
    }
    let t = u / (2.0 + u);
    let t2 = t * t;
    let mut s = 1.0 / 15.0;
    s = s * t2 + 1.0 / 13.0;
    s = s * t2 + 1.0 / 11.0;
    s = s * t2 + 1.0 / 9.0;
    s = s * t2 + 1.0 / 7.0;
    s = s * t2 + 1.0 / 5.0;
    s = s * t2 + 1.0 / 3.0;
    s = s * t2 + 1.0;
    2.0 * t * s
}

/// ln(num / den) given also num - den formed without cancellation: near 1 through ln_1p of
/// the difference, else the log of the quotient (whose division is exact to an ulp).
#[inline(always)]
fn ln_ratio(num: f32, num_minus_den: f32, den: f32) -> f32 {
    let r = num / den;
    if (0.5..=2.0).contains(&r) {
        ln_1p(num_minus_den / den)
    } else {
        r.ln()
    }
}

#[inline(always)]
fn stirling_tail(x: f32) -> f32 {
    let r = 1.0 / x;
    let r2 = r * r;
    r * (1.0 / 12.0 - r2 * (1.0 / 360.0 - r2 * (1.0 / 1260.0 - r2 * (1.0 / 1680.0))))
}

/// Largest quotient of the shift products taken as one log: far below f32's 3.4e38
/// (QUOTIENT_MAX in betabinom.wgsl: build.rs checks it).
pub(crate) const QUOTIENT_MAX: f32 = 1.0e30;

/// ceil(STIRLING_MIN - x) clamped at 0, by comparisons, without a libm call on CPUs whose
/// baseline has no rounding instruction. The shader's `ceil` gives the same shift except
/// within an ulp of an integer x, where f32 rounds 3 - x to an integer; both are accurate.
#[inline(always)]
fn stirling_shift(x: f32) -> f32 {
    if x >= STIRLING_MIN {
        0.0
    } else if x >= STIRLING_MIN - 1.0 {
        1.0
    } else if x >= STIRLING_MIN - 2.0 {
        2.0
    } else if x > 0.0 {
        3.0
    } else {
        (STIRLING_MIN - x).ceil().max(0.0)
    }
}

#[inline(always)]
fn log_gamma_ratio_rest(x: f32, k: f32) -> f32 {
    let m = stirling_shift(x);
    let xs = x + m;
    let mut rest = (xs - 0.5) * ln_1p(k / xs) + stirling_tail(xs + k) - stirling_tail(xs);
    if m > 0.0 {
        let (mut above, mut below) = (1.0f32, 1.0f32);
        let mut j = 0.0;
        while j < m {
            above *= x + j + k;
            below *= x + j;
            j += 1.0;
        }
        // One log of the quotient where it stays finite, else the difference of two logs.
        let quotient = above / below;
        if quotient < QUOTIENT_MAX {
            rest -= quotient.ln();
        } else {
            rest -= above.ln() - below.ln();
        }
    }
    rest
}

/// ln B(y + a, n - y + b) - ln B(a, b) in f32, as the shader computes it.
#[inline(always)]
pub(crate) fn beta_binomial_log_ratio(y: f32, n: f32, a: f32, b: f32) -> f32 {
    let f = n - y;
    let c = a + b;
    let ma = stirling_shift(a);
    let mb = stirling_shift(b);
    let mc = stirling_shift(c);
    let den = c + mc + n;
    let mut big = 0.0;
    if y > 0.0 {
        big += y * ln_ratio(a + ma + y, (ma - mc) - b - f, den);
    }
    if f > 0.0 {
        big += f * ln_ratio(b + mb + f, (mb - mc) - a - y, den);
    }
    big + log_gamma_ratio_rest(a, y) + log_gamma_ratio_rest(b, f) - log_gamma_ratio_rest(c, n)
}

pub(crate) const HALF_LN_TWO_PI: f32 = 0.918_938_5;

/// ln Γ(x) for x > 0 in f32, as betabinom.wgsl computes it.
#[inline(always)]
pub(crate) fn ln_gamma_f32(x: f32) -> f32 {
    let m = stirling_shift(x);
    let xs = x + m;
    let mut r = (xs - 0.5) * xs.ln() - xs + HALF_LN_TWO_PI + stirling_tail(xs);
    if m > 0.0 {
        let mut product = 1.0f32;
        let mut j = 0.0;
        while j < m {
            product *= x + j;
            j += 1.0;
        }
        r -= product.ln();
    }
    r
}

/// ln B(a, b) for a, b > 0 in f32, as betabinom.wgsl computes it.
#[inline(always)]
pub(crate) fn ln_beta_f32(a: f32, b: f32) -> f32 {
    ln_gamma_f32(a) + ln_gamma_f32(b) - ln_gamma_f32(a + b)
}

/// The same quantity in f64 from ln Γ: the reference for tests.
pub fn beta_binomial_log_ratio_f64(y: f64, n: f64, a: f64, b: f64) -> f64 {
    ln_gamma(y + a) + ln_gamma(n - y + b) - ln_gamma(n + a + b) - ln_gamma(a) - ln_gamma(b)
        + ln_gamma(a + b)
}

/// Shapes and (successes, trials) that the f32 beta-binomials are tested at, here and in site_lanes.
#[cfg(test)]
pub(crate) const TEST_SHAPES: [f64; 10] = [0.01, 0.3, 1.0, 2.5, 5.9, 6.0, 24.0, 310.0, 1e4, 1e6];
#[cfg(test)]
pub(crate) const TEST_COUNTS: [(u32, u32); 8] = [
    (0, 1),
    (1, 1),
    (0, 7),
    (3, 7),
    (53, 219),
    (137, 607),
    (1, 600),
    (5_000, 100_000),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_gamma_f32_matches_f64() {
        for &x in &[0.01f32, 0.5, 1.0, 2.5, 5.9, 6.0, 13.7, 400.0, 1e5] {
            let exact = ln_gamma(f64::from(x));
            let got = f64::from(ln_gamma_f32(x));
            assert!(
                (got - exact).abs() < 4e-7 * (1.0 + exact.abs()),
                "{x}: {got} vs {exact}"
            );
        }
    }

    #[test]
    fn ln_1p_is_accurate_near_zero_and_far_from_it() {
        for &u in &[1e-30f32, -1e-8, 1e-4, -0.3, 0.49, 0.999, 1.5, -0.9, 1e6] {
            let exact = (f64::from(u)).ln_1p();
            let got = f64::from(ln_1p(u));
            assert!(
                (got - exact).abs() <= 4.0 * f64::from(f32::EPSILON) * exact.abs(),
                "ln_1p({u}) = {got}, exact {exact}"
            );
        }
    }

    /// The f32 twin against f64 ln Γ over shapes from 0.01 to 1e6 and counts to 1e5.
    /// The bound, 2e-7 of (n + 1) plus 2e-6, is what a group of 300 observations with
    /// n near 600 turns into a summed error below 0.05 in the worst case, 0.003 typical.
    #[test]
    fn matches_the_f64_log_gamma_reference() {
        let mut worst = 0.0f64;
        for &a in &TEST_SHAPES {
            for &b in &TEST_SHAPES {
                for &(y, n) in &TEST_COUNTS {
                    let exact = beta_binomial_log_ratio_f64(y as f64, n as f64, a, b);
                    let got = beta_binomial_log_ratio(y as f32, n as f32, a as f32, b as f32);
                    // Compare at the f32 shapes actually used.
                    let exact_at_f32 = beta_binomial_log_ratio_f64(
                        y as f64,
                        n as f64,
                        f64::from(a as f32),
                        f64::from(b as f32),
                    );
                    let err = (f64::from(got) - exact_at_f32).abs();
                    let bound = 2e-7 * (n as f64 + 1.0) * (1.0 + exact.abs().ln_1p()) + 2e-6;
                    worst = worst.max(err / bound);
                    assert!(
                        err <= bound,
                        "y={y} n={n} a={a} b={b}: f32 {got}, f64 {exact_at_f32}, error {err:e} > {bound:e}"
                    );
                }
            }
        }
        assert!(worst > 0.0);
    }
}

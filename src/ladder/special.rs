//! Digamma, trigamma and rising-factorial differences of ln Γ and ψ, accurate for the
//! huge shapes a concentration running off to its limit reaches.

use crate::math::ln_gamma;

/// Products of up to this many factors replace ln Γ differences: exact to rounding and faster.
const RISING_PRODUCT_MAX: u32 = 16;
/// From this argument on, ln Γ(a + m) - ln Γ(a) uses a Stirling difference, which avoids
/// the cancellation of two ln Γ values of size a ln a.
const STIRLING_DIFF_FROM: f64 = 20.0;
/// Digamma and trigamma recur up to this argument, then use their asymptotic series
/// (truncation error below 1e-12 there).
const PSI_ASYMPTOTIC_FROM: f64 = 10.0;

/// Digamma ψ(x) for x > 0: upward recurrence, then the asymptotic series (abs. error < 1e-13).
pub fn digamma(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    let (mut x, mut acc) = (x, 0.0);
    while x < PSI_ASYMPTOTIC_FROM {
        acc -= 1.0 / x;
        x += 1.0;
    }
    let r = 1.0 / (x * x);
    // ln x - 1/(2x) - Σ B_2j / (2j x^2j), through B_10.
    acc + x.ln()
        - 0.5 / x
        - r * (1.0 / 12.0 - r * (1.0 / 120.0 - r * (1.0 / 252.0 - r * (1.0 / 240.0 - r / 132.0))))
}

/// Trigamma ψ1(x) for x > 0: upward recurrence, then the asymptotic series (rel. error < 1e-13).
pub fn trigamma(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    let (mut x, mut acc) = (x, 0.0);
    while x < PSI_ASYMPTOTIC_FROM {
        acc += 1.0 / (x * x);
        x += 1.0;
    }
    let r = 1.0 / (x * x);
    // 1/x + 1/(2x^2) + Σ B_2j / x^(2j+1), through B_10.
    acc + (1.0
        + 0.5 / x
        + r * (1.0 / 6.0 - r * (1.0 / 30.0 - r * (1.0 / 42.0 - r * (1.0 / 30.0 - r * 5.0 / 66.0)))))
        / x
}

/// ln Γ(a + m) - ln Γ(a) for integer m, accurate also when a is huge.
pub fn ln_rising(a: f64, m: u32) -> f64 {
    if m == 0 {
        return 0.0;
    }
    if m <= RISING_PRODUCT_MAX {
        // At most 16 factors below 1e7 each: no overflow, one logarithm.
        return (0..m).map(|j| a + f64::from(j)).product::<f64>().ln();
    }
    let mf = f64::from(m);
    if a < STIRLING_DIFF_FROM {
        return ln_gamma(a + mf) - ln_gamma(a);
    }
    // Stirling: ln Γ(x) = (x - 1/2) ln x - x + ln√(2π) + 1/(12x) - 1/(360x^3) + 1/(1260x^5) - ...,
    // differenced term by term so nothing of size a ln a cancels.
    let b = a + mf;
    let series = |x: f64| {
        let r = 1.0 / (x * x);
        (1.0 / 12.0 - r * (1.0 / 360.0 - r / 1260.0)) / x
    };
    (a - 0.5) * (mf / a).ln_1p() + mf * b.ln() - mf + series(b) - series(a)
}

/// ψ(a + m) - ψ(a) and ψ1(a) - ψ1(a + m) for integer m.
pub(super) fn psi_rising(a: f64, m: u32) -> (f64, f64) {
    if m <= RISING_PRODUCT_MAX {
        let mut d1 = 0.0;
        let mut d2 = 0.0;
        for j in 0..m {
            let inv = 1.0 / (a + f64::from(j));
            d1 += inv;
            d2 += inv * inv;
        }
        return (d1, d2);
    }
    let b = a + f64::from(m);
    (digamma(b) - digamma(a), trigamma(a) - trigamma(b))
}

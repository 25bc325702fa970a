//! Special functions of the host (f64): ln Gamma, softplus, sigmoid; and `cephes`, the
//! named polynomial constants that the f32 kernels share with their WGSL.

pub mod cephes;

/// The larger of `a` and `b`, or NaN if either is: `f64::max` drops a NaN, and an unknown
/// diagnostic (an R-hat of too few draws) must stay unknown.
#[inline]
pub(crate) fn max_or_nan(a: f64, b: f64) -> f64 {
    match a.is_nan() || b.is_nan() {
        true => f64::NAN,
        false => a.max(b),
    }
}

/// log(1 + e^x) without overflow.
#[inline]
pub(crate) fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// Lanczos' approximation (g = 7, nine terms; relative error below 1e-14 here): two
/// `ln` of the platform's libm, several times faster than the portable `libm::lgamma`,
/// which took a sixth of the CPU path's time in the hyperparameter updates.
const LANCZOS_G: f64 = 7.0;
const LANCZOS: [f64; 9] = [
    0.999_999_999_999_809_9,
    676.520_368_121_885_1,
    -1_259.139_216_722_402_8,
    771.323_428_777_653_1,
    -176.615_029_162_140_6,
    12.507_343_278_686_905,
    -0.138_571_095_265_720_12,
    9.984_369_578_019_572e-6,
    1.505_632_735_149_311_6e-7,
];

/// ln Γ(x) for x > 0.
#[inline]
pub fn ln_gamma(x: f64) -> f64 {
    if x < 0.5 {
        // Γ(x) = Γ(x + 1) / x keeps the series where it is accurate.
        return ln_gamma(x + 1.0) - x.ln();
    }
    let z = x - 1.0;
    let mut a = LANCZOS[0];
    for (k, c) in LANCZOS.iter().enumerate().skip(1) {
        a += c / (z + k as f64);
    }
    let t = z + LANCZOS_G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (z + 0.5) * t.ln() - t + a.ln()
}

#[inline]
pub(crate) fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

//! Eight Beta draws at a time for the CPU path, written so that the compiler
//! vectorises them: Philox for eight counters, and the first Marsaglia–Tsang attempt
//! of each Gamma variate with branch-free log, exp and cos (Cephes' polynomials).
//!
//! Same stream, same arithmetic as `variates` (the twin of variates.wgsl): a lane whose
//! first attempt passes the squeeze (about 98% of them) takes its value from here, any
//! other lane is redrawn by `variates::log_gamma_variate` from its first block. The
//! polynomials differ from libm's `logf`, `expf` and `cosf` in the last bits, as libm
//! differs from a GPU's; that is covered by the GPU-vs-CPU tolerance.

use crate::kernels::cpu::variates::{log_gamma_variate_out_of_line, DrawSite};
use crate::math::cephes::{
    COS_POLYNOMIAL, EXP_POLYNOMIAL, LN2_HI, LN2_LO, LN_POLYNOMIAL, ROUND_SHIFTER, SIN_POLYNOMIAL,
};
use crate::rng::{Stream, PHILOX_M0, PHILOX_M1, PHILOX_W0, PHILOX_W1, STREAM_SHIFT};

/// Lanes per call: two AVX2 registers of f32 or u32 pairs per 64-bit product.
pub(crate) const LANES: usize = 8;

type F = [f32; LANES];
type U = [u32; LANES];

/// Philox4x32-10 of counters (index[l], unit, sweep, tag) under keys (key[0][l], key[1][l]):
/// rng::philox4x32_10 lane by lane, for N lanes.
#[inline(always)]
pub(crate) fn philox_lanes<const N: usize>(
    index: [u32; N],
    unit: u32,
    sweep: u32,
    tag: u32,
    key: [[u32; N]; 2],
) -> [[u32; N]; 4] {
    let (mut c0, mut c1, mut c2, mut c3) = (index, [unit; N], [sweep; N], [tag; N]);
    let [mut k0, mut k1] = key;
    for round in 0..10 {
        if round > 0 {
            for l in 0..N {
                k0[l] = k0[l].wrapping_add(PHILOX_W0);
                k1[l] = k1[l].wrapping_add(PHILOX_W1);
            }
        }
        for l in 0..N {
            let p0 = u64::from(PHILOX_M0) * u64::from(c0[l]);
            let p1 = u64::from(PHILOX_M1) * u64::from(c2[l]);
            let n0 = (p1 >> 32) as u32 ^ c1[l] ^ k0[l];
            let n2 = (p0 >> 32) as u32 ^ c3[l] ^ k1[l];
            c0[l] = n0;
            c1[l] = p1 as u32;
            c2[l] = n2;
            c3[l] = p0 as u32;
        }
    }
    [c0, c1, c2, c3]
}

#[inline(always)]
fn uniform(w: u32) -> f32 {
    crate::rng::uniform_f32(w)
}

/// ln of a positive normal f32 (Cephes logf: relative error < 1.5e-7), branch-free.
#[inline(always)]
fn ln(x: f32) -> f32 {
    const C: [f32; 9] = LN_POLYNOMIAL;
    let bits = x.to_bits();
    let e = (bits >> 23) as i32 - 126;
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f00_0000);
    let small = m < std::f32::consts::FRAC_1_SQRT_2;
    let e = (e - i32::from(small)) as f32;
    let m = if small { m + m - 1.0 } else { m - 1.0 };
    let z = m * m;
    let mut p = C[0];
    for c in &C[1..] {
        p = p * m + c;
    }
    // ln 2 in two parts (0.693359375 is exact in f32) so that e ln 2 adds without rounding.
    m + (m * z * p - LN2_LO * e - 0.5 * z) + LN2_HI * e
}

/// e^x for x <= 0 (Cephes expf), branch-free; below -87 it returns ~1e-38 instead of
/// an underflow, which only ever feeds ln(1 + e^x) here.
#[inline(always)]
fn exp_nonpositive(x: f32) -> f32 {
    let x = x.max(-87.0);
    // n = round(x log2 e) by the 1.5 * 2^23 shifter: no libm floor, which baseline x86-64
    // (no SSE4.1 rounding) calls per lane, stopping vectorisation.
    const SHIFTER: f32 = ROUND_SHIFTER;
    let n = (x * std::f32::consts::LOG2_E + SHIFTER) - SHIFTER;
    let r = x - n * LN2_HI + n * LN2_LO;
    let p = ((((EXP_POLYNOMIAL[0] * r + EXP_POLYNOMIAL[1]) * r + EXP_POLYNOMIAL[2]) * r
        + EXP_POLYNOMIAL[3])
        * r
        + EXP_POLYNOMIAL[4])
        * r
        + EXP_POLYNOMIAL[5];
    let y = 1.0 + r + r * r * p;
    y * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// cos(x) for x in [-pi, pi] (Cephes sinf/cosf polynomials on [0, pi/4]), branch-free.
#[inline(always)]
fn cos_pi(x: f32) -> f32 {
    use std::f32::consts::{FRAC_PI_2, FRAC_PI_4, PI};
    let y = x.abs();
    let far = y > FRAC_PI_2;
    // cos(y) = -cos(pi - y) brings y into [0, pi/2].
    let y = if far { PI - y } else { y };
    let upper = y > FRAC_PI_4;
    // cos(y) = sin(pi/2 - y) on (pi/4, pi/2].
    let z = if upper { FRAC_PI_2 - y } else { y };
    let z2 = z * z;
    let cos_z = 1.0 - 0.5 * z2
        + z2 * z2 * ((COS_POLYNOMIAL[0] * z2 - COS_POLYNOMIAL[1]) * z2 + COS_POLYNOMIAL[2]);
    let sin_z =
        z + z * z2 * ((-SIN_POLYNOMIAL[0] * z2 + SIN_POLYNOMIAL[1]) * z2 - SIN_POLYNOMIAL[2]);
    let c = if upper { sin_z } else { cos_z };
    if far {
        -c
    } else {
        c
    }
}

/// log Gamma(shape[l], 1) for eight lanes at counters (index[l], unit, sweep, stream).
#[inline(always)]
fn log_gamma_lanes(shape: F, index: U, unit: u32, sweep: u32, key: [u32; 2], stream: Stream) -> F {
    let keys = [[key[0]; LANES], [key[1]; LANES]];
    let w = philox_lanes(index, unit, sweep, (stream as u32) << STREAM_SHIFT, keys);
    let mut out = [0.0f32; LANES];
    let mut done = [false; LANES];
    for l in 0..LANES {
        let boosted = shape[l] < 1.0;
        let a = if boosted { shape[l] + 1.0 } else { shape[l] };
        let d = a - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        let radius = (-2.0 * ln(uniform(w[0][l]))).sqrt();
        let x = radius * cos_pi(std::f32::consts::TAU * uniform(w[1][l]) - std::f32::consts::PI);
        let t = 1.0 + c * x;
        let v = t * t * t;
        let u = uniform(w[2][l]);
        let x2 = x * x;
        // Squeeze accepted, and t far enough from 0 that d v is a normal float.
        done[l] = t > 1e-3 && u < 1.0 - 0.0331 * x2 * x2;
        out[l] = ln(d * v.max(f32::MIN_POSITIVE));
    }
    // The shape < 1 boost, log U / shape, only when some lane needs it (rare in practice).
    if shape.iter().any(|&s| s < 1.0) {
        for l in 0..LANES {
            if shape[l] < 1.0 {
                out[l] += ln(uniform(w[3][l])) / shape[l];
            }
        }
    }
    for l in 0..LANES {
        if !done[l] {
            let site = DrawSite {
                key,
                index: index[l],
                unit,
                sweep,
            };
            out[l] = log_gamma_variate_out_of_line(shape[l], site, stream);
        }
    }
    out
}

/// (log theta, log(1 - theta)) for theta[l] ~ Beta(a[l], b[l]): `variates::log_beta_variate`, eight at a time.
#[inline(always)]
pub(crate) fn log_beta_lanes(a: F, b: F, index: U, unit: u32, sweep: u32, key: [u32; 2]) -> [F; 2] {
    let ga = log_gamma_lanes(a, index, unit, sweep, key, Stream::ThetaA);
    let gb = log_gamma_lanes(b, index, unit, sweep, key, Stream::ThetaB);
    let mut out = [[0.0f32; LANES]; 2];
    for l in 0..LANES {
        let log_sum = ga[l].max(gb[l]) + ln(1.0 + exp_nonpositive(-(ga[l] - gb[l]).abs()));
        out[0][l] = ga[l] - log_sum;
        out[1][l] = gb[l] - log_sum;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::cpu::variates::log_beta_variate;
    use crate::rng::philox4x32_10;

    #[test]
    fn philox_lanes_equal_the_scalar_generator() {
        let index = [0, 1, 2, 3, 1000, 77_777, u32::MAX - 1, u32::MAX];
        let w = philox_lanes(index, 12, 345, 2 << STREAM_SHIFT, [[9; LANES], [8; LANES]]);
        for l in 0..LANES {
            let s = philox4x32_10([index[l], 12, 345, 2 << STREAM_SHIFT], [9, 8]);
            assert_eq!([w[0][l], w[1][l], w[2][l], w[3][l]], s);
        }
    }

    #[test]
    fn polynomials_match_the_library() {
        let mut worst = [0.0f64; 3];
        for i in 1..200_000 {
            let x = i as f32 / 200_000.0;
            worst[0] = worst[0].max(
                (f64::from(ln(x)) - f64::from(x).ln()).abs() / f64::from(x).ln().abs().max(0.5),
            );
            let y = -30.0 * x;
            worst[1] = worst[1].max(
                (f64::from(exp_nonpositive(y)) - f64::from(y).exp()).abs() / f64::from(y).exp(),
            );
            let z = std::f32::consts::PI * (2.0 * x - 1.0);
            worst[2] = worst[2].max((f64::from(cos_pi(z)) - f64::from(z).cos()).abs());
        }
        assert!(
            worst[0] < 2e-7 && worst[1] < 3e-7 && worst[2] < 2e-7,
            "{worst:?}"
        );
    }

    /// Lanes and the scalar twin give the same draws, to f32 rounding.
    #[test]
    fn lanes_equal_the_scalar_variates() {
        let shapes = [0.05f32, 0.5, 0.99, 1.0, 2.4, 17.0, 350.0, 2e4];
        let mut worst = 0.0f32;
        for sweep in 0..200 {
            let index = [0, 1, 2, 3, 4, 5, 6, 7].map(|i| i + 8 * sweep);
            let b = shapes.map(|s| s * 1.7 + 0.3);
            let got = log_beta_lanes(shapes, b, index, 3, sweep, [5, 6]);
            for l in 0..LANES {
                let site = DrawSite {
                    key: [5, 6],
                    index: index[l],
                    unit: 3,
                    sweep,
                };
                let want = log_beta_variate(shapes[l], b[l], site);
                for k in 0..2 {
                    let rel = (got[k][l] - want[k]).abs() / want[k].abs().max(1e-6);
                    worst = worst.max(rel);
                }
            }
        }
        assert!(worst < 1e-4, "worst relative difference {worst:e}");
    }
}

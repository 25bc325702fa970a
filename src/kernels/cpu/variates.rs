//! Uniform, normal, Gamma and Beta variates in f32 from Philox blocks.
//!
//! CPU twin of `shaders/shared/variates.wgsl`: the same operations in the same
//! order, so that the CPU path consumes the same random stream as the GPU path
//! and differs only where the two platforms' `log`, `cos` and `sqrt` differ in
//! the last bits.

use crate::rng::{counter, philox4x32_10, uniform_f32, Stream};

/// Bound on Marsaglia–Tsang attempts (MAX_GAMMA_ATTEMPTS in variates.wgsl: build.rs checks it);
/// each accepts with probability > 0.95, so 64 never run out in practice.
pub(crate) const MAX_GAMMA_ATTEMPTS: u32 = 64;
const PI: f32 = std::f32::consts::PI;
const TWO_PI: f32 = 2.0 * std::f32::consts::PI;

/// Box–Muller, cosine branch, with the angle kept in [-pi, pi).
#[inline]
pub(crate) fn standard_normal(w0: u32, w1: u32) -> f32 {
    let radius = (-2.0 * uniform_f32(w0).ln()).sqrt();
    radius * (TWO_PI * uniform_f32(w1) - PI).cos()
}

/// Where a variate's random blocks come from: the Philox key and the counter's first three words.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DrawSite {
    pub key: [u32; 2],
    pub index: u32,
    pub unit: u32,
    pub sweep: u32,
}

/// `log_gamma_variate` kept out of line, for the lanes' few lanes their own attempt does not
/// settle: inlined into the four-chain lanes' sweep (as one build's code generation chose),
/// it grew the sweep's stack frame past a page and slowed every sweep by 3%.
#[cold]
#[inline(never)]
pub(crate) fn log_gamma_variate_out_of_line(shape: f32, site: DrawSite, stream: Stream) -> f32 {
    log_gamma_variate(shape, site, stream)
}

/// log of a Gamma(shape, 1) variate: Marsaglia & Tsang (2000), boosted in log space for shape < 1.
#[inline]
#[allow(clippy::neg_cmp_op_on_partial_ord)] // NaN must reject, as in the shader
pub(crate) fn log_gamma_variate(shape: f32, site: DrawSite, stream: Stream) -> f32 {
    let boosted = shape < 1.0;
    let a = if boosted { shape + 1.0 } else { shape };
    let d = a - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    for attempt in 0..MAX_GAMMA_ATTEMPTS {
        let w = philox4x32_10(
            counter(site.index, site.unit, site.sweep, stream, attempt),
            site.key,
        );
        let x = standard_normal(w[0], w[1]);
        let t = 1.0 + c * x;
        if t <= 0.0 {
            continue;
        }
        let v = t * t * t;
        let u = uniform_f32(w[2]);
        let x2 = x * x;
        // Squeeze first: accepted without the exact test's logarithms, and log G = log(d v) in one log.
        let log_g = if u < 1.0 - 0.0331 * x2 * x2 {
            (d * v).ln()
        } else {
            let log_v = 3.0 * t.ln();
            if !(u.ln() < 0.5 * x2 + d * (1.0 - v + log_v)) {
                continue;
            }
            d.ln() + log_v
        };
        return if boosted {
            log_g + uniform_f32(w[3]).ln() / shape
        } else {
            log_g
        };
    }
    d.ln()
}

/// (log theta, log(1 - theta)) for theta ~ Beta(a, b), from two Gamma variates in log space.
#[inline]
pub(crate) fn log_beta_variate(a: f32, b: f32, site: DrawSite) -> [f32; 2] {
    let log_ga = log_gamma_variate(a, site, Stream::ThetaA);
    let log_gb = log_gamma_variate(b, site, Stream::ThetaB);
    // log(Ga + Gb) = max + log(1 + e^-|difference|): one exp, one log.
    let log_sum = log_ga.max(log_gb) + (1.0 + (-(log_ga - log_gb).abs()).exp()).ln();
    [log_ga - log_sum, log_gb - log_sum]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Value stability, one case per branch: a change to the stream or the algorithm shows
    /// up here first. Tolerance 1e-5 relative: libm's last bits may differ between platforms.
    #[test]
    fn draws_are_stable_for_a_fixed_seed() {
        let site = DrawSite {
            key: [2013, 11],
            index: 5,
            unit: 2,
            sweep: 40,
        };
        let cases = [
            (log_gamma_variate(0.3, site, Stream::ThetaA), VALUE_BOOSTED),
            (log_gamma_variate(4.5, site, Stream::ThetaB), VALUE_PLAIN),
            (log_beta_variate(2.5, 40.0, site)[0], VALUE_BETA),
        ];
        for (i, (got, want)) in cases.into_iter().enumerate() {
            assert!(
                (got - want).abs() <= 1e-5 * want.abs(),
                "case {i}: {got} vs {want}"
            );
        }
    }

    // Recorded from this implementation on x86-64 Linux (glibc), 2026-11-24.
    const VALUE_BOOSTED: f32 = 1.089_266_8;
    const VALUE_PLAIN: f32 = 1.471_961_7;
    const VALUE_BETA: f32 = -1.892_800_6;
}

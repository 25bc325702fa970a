// Uniform, normal, Gamma and Beta variates in f32 from Philox blocks.
// Keep in sync with src/kernels/cpu/variates.rs (the CPU twin): same operations, same order.
// Needs philox.wgsl.

// Stream tags of the two Gamma variates behind one Beta (rng::Stream::ThetaA / ThetaB).
const STREAM_THETA_A: u32 = 1u;
const STREAM_THETA_B: u32 = 2u;
// Bound on Marsaglia–Tsang attempts; each accepts with probability > 0.95, so 64 never run out in practice.
const MAX_GAMMA_ATTEMPTS: u32 = 64u;
const PI: f32 = 3.14159265358979;
const TWO_PI: f32 = 6.28318530717959;

// Uniform in the open interval (0, 1) from the top 23 bits: exact in f32, never 0 or 1.
fn uniform_from_word(w: u32) -> f32 {
    return (f32(w >> 9u) + 0.5) * (1.0 / 8388608.0);
}

// Box–Muller, cosine branch; the angle stays in [-pi, pi), where WGSL specifies cos's accuracy.
fn standard_normal(w0: u32, w1: u32) -> f32 {
    let radius = sqrt(-2.0 * log(uniform_from_word(w0)));
    return radius * cos(TWO_PI * uniform_from_word(w1) - PI);
}

// log of a Gamma(shape, 1) variate by Marsaglia & Tsang (2000); for shape < 1 the
// boost G(shape) = G(shape + 1) * U^(1/shape), applied in log space so that it never underflows.
// Each attempt uses its own Philox block (index, unit, sweep, stream << 24 | attempt).
fn log_gamma_variate(shape: f32, key: vec2<u32>, index: u32, unit: u32, sweep: u32, stream: u32) -> f32 {
    let boosted = shape < 1.0;
    let a = select(shape, shape + 1.0, boosted);
    let d = a - 1.0 / 3.0;
    let c = 1.0 / sqrt(9.0 * d);
    for (var attempt = 0u; attempt < MAX_GAMMA_ATTEMPTS; attempt++) {
        let w = philox4x32_10(vec4<u32>(index, unit, sweep, (stream << STREAM_SHIFT) | attempt), key);
        let x = standard_normal(w.x, w.y);
        let t = 1.0 + c * x;
        if (t <= 0.0) {
            continue;
        }
        let v = t * t * t;
        let u = uniform_from_word(w.z);
        let x2 = x * x;
        // Squeeze first: accepted without the exact test's logarithms, and log G = log(d v) in one log.
        var log_g: f32;
        if (u < 1.0 - 0.0331 * x2 * x2) {
            log_g = log(d * v);
        } else {
            let log_v = 3.0 * log(t);
            if (!(log(u) < 0.5 * x2 + d * (1.0 - v + log_v))) {
                continue;
            }
            log_g = log(d) + log_v;
        }
        if (boosted) {
            log_g = log_g + log(uniform_from_word(w.w)) / shape;
        }
        return log_g;
    }
    // Unreachable in practice (probability < 0.05^64): fall back to the mode of the proposal.
    return log(d);
}

// (log theta, log(1 - theta)) for theta ~ Beta(a, b), from two Gamma variates in log
// space so that both logs stay accurate in f32 when theta is near 0 or 1.
fn log_beta_variate(a: f32, b: f32, key: vec2<u32>, index: u32, unit: u32, sweep: u32) -> vec2<f32> {
    let log_ga = log_gamma_variate(a, key, index, unit, sweep, STREAM_THETA_A);
    let log_gb = log_gamma_variate(b, key, index, unit, sweep, STREAM_THETA_B);
    // log(Ga + Gb) = max + log(1 + e^-|difference|): one exp, one log.
    let log_sum = max(log_ga, log_gb) + log(1.0 + exp(-abs(log_ga - log_gb)));
    return vec2<f32>(log_ga - log_sum, log_gb - log_sum);
}

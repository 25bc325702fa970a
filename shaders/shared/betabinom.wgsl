// The beta-binomial log marginal of one observation in f32, without the catastrophic
// cancellation of a difference of log-gamma values:
//   ln B(y + a, n - y + b) - ln B(a, b)
// = D(a, y) + D(b, n - y) - D(a + b, n),  D(x, k) = ln Γ(x + k) - ln Γ(x),
// with every D from Stirling's series at x' = x + m >= STIRLING_MIN (shifted by the
// recurrence), and the large k ln(x' + k) parts combined into logs of ratios below 1.
// Keep in sync with src/kernels/cpu/betabinom.rs (the CPU twin): same operations, same order.

// Stirling's series (four terms) from here on: its first omitted term, 1/(1188 x^9), is below 5e-8.
// At most 3 shifts then, whose products stay below f32's range for counts up to 2^24.
const STIRLING_MIN: f32 = 3.0;

// ln(1 + u) for u > -1, accurate to a few ulp relative also near u = 0, where WGSL's log
// only promises an absolute error of 2^-21: 2 atanh(t), t = u / (2 + u), by its series
// (|t| <= 1/3 on [0.5, 2]; 8 terms reach 3^-17 / 17 < 1e-9), else the builtin log.
fn ln_1p(u: f32) -> f32 {
    if (u < -0.5 || u > 1.0) {
        return log(1.0 + u);
    }
    let t = u / (2.0 + u);
    let t2 = t * t;
    var s = 1.0 / 15.0;
    s = s * t2 + 1.0 / 13.0;
    s = s * t2 + 1.0 / 11.0;
    s = s * t2 + 1.0 / 9.0;
    s = s * t2 + 1.0 / 7.0;
    s = s * t2 + 1.0 / 5.0;
    s = s * t2 + 1.0 / 3.0;
    s = s * t2 + 1.0;
    return 2.0 * t * s;
}

// ln(num / den) given also num - den formed without cancellation: near 1 through ln_1p of
// the difference, else the log of the quotient (whose division is exact to an ulp).
fn ln_ratio(num: f32, num_minus_den: f32, den: f32) -> f32 {
    let r = num / den;
    if (r >= 0.5 && r <= 2.0) {
        return ln_1p(num_minus_den / den);
    }
    return log(r);
}

// Stirling's correction 1/(12x) - 1/(360x^3) + 1/(1260x^5) - 1/(1680x^7) for x >= STIRLING_MIN.
fn stirling_tail(x: f32) -> f32 {
    let r = 1.0 / x;
    let r2 = r * r;
    return r * (1.0 / 12.0 - r2 * (1.0 / 360.0 - r2 * (1.0 / 1260.0 - r2 * (1.0 / 1680.0))));
}

// Shift that brings x to at least STIRLING_MIN.
// Largest quotient of the shift products taken as one log: far below f32's 3.4e38
// (QUOTIENT_MAX in src/kernels/cpu/betabinom.rs: build.rs checks it).
const QUOTIENT_MAX: f32 = 1.0e30;

fn stirling_shift(x: f32) -> f32 {
    return max(0.0, ceil(STIRLING_MIN - x));
}

// D(x, k) - k ln(x' + k) + k with x' = x + stirling_shift(x): the part of
// ln Γ(x + k) - ln Γ(x) that stays small.
fn log_gamma_ratio_rest(x: f32, k: f32) -> f32 {
    let m = stirling_shift(x);
    let xs = x + m;
    var rest = (xs - 0.5) * ln_1p(k / xs) + stirling_tail(xs + k) - stirling_tail(xs);
    // ln Γ(x + k) - ln Γ(x) = D(x', k) - ln Π_{j < m} (x + j + k) / (x + j): two logs of products.
    if (m > 0.0) {
        var above = 1.0;
        var below = 1.0;
        for (var j = 0.0; j < m; j += 1.0) {
            above *= x + j + k;
            below *= x + j;
        }
        // One log of the quotient where it stays finite, else the difference of two logs.
        let quotient = above / below;
        if (quotient < QUOTIENT_MAX) {
            rest -= log(quotient);
        } else {
            rest -= log(above) - log(below);
        }
    }
    return rest;
}

// ln B(y + a, n - y + b) - ln B(a, b) for counts y <= n and shapes a, b > 0.
fn beta_binomial_log_ratio(y: f32, n: f32, a: f32, b: f32) -> f32 {
    let f = n - y;
    let c = a + b;
    let ma = stirling_shift(a);
    let mb = stirling_shift(b);
    let mc = stirling_shift(c);
    let den = c + mc + n;
    // y ln((a' + y) / (c' + n)) + f ln((b' + f) / (c' + n)); the numerators minus the
    // denominator are formed from the small pieces, not by subtracting two large sums.
    var big = 0.0;
    if (y > 0.0) {
        big += y * ln_ratio(a + ma + y, (ma - mc) - b - f, den);
    }
    if (f > 0.0) {
        big += f * ln_ratio(b + mb + f, (mb - mc) - a - y, den);
    }
    return big + log_gamma_ratio_rest(a, y) + log_gamma_ratio_rest(b, f) - log_gamma_ratio_rest(c, n);
}

const HALF_LN_TWO_PI: f32 = 0.918938533204673;

// ln Γ(x) for x > 0: Stirling's series at x + stirling_shift(x), shifted back by the recurrence.
fn ln_gamma(x: f32) -> f32 {
    let m = stirling_shift(x);
    let xs = x + m;
    var r = (xs - 0.5) * log(xs) - xs + HALF_LN_TWO_PI + stirling_tail(xs);
    if (m > 0.0) {
        var product = 1.0;
        for (var j = 0.0; j < m; j += 1.0) {
            product *= x + j;
        }
        r -= log(product);
    }
    return r;
}

// ln B(a, b) for a, b > 0.
fn ln_beta(a: f32, b: f32) -> f32 {
    return ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b);
}

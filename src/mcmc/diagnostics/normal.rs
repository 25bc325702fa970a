//! The inverse standard normal CDF (Wichura's AS 241), which maps ranks to normal scores.

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

#[cfg(test)]
mod tests {
    use super::*;

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
}

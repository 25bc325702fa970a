//! f64 variates for the host's own draws (the methylation hyperparameters, simulated
//! studies), from a Philox `UniformStream`. The kernels' f32 twins are in `variates`.

use crate::rng::UniformStream;

/// A standard normal (Box–Muller, one of the pair).
pub fn normal(rng: &mut UniformStream) -> f64 {
    let radius = (-2.0 * rng.next_f64().ln()).sqrt();
    radius * (std::f64::consts::TAU * rng.next_f64()).cos()
}

/// A Gamma(shape, 1) variate, shape > 0: Marsaglia & Tsang (2000), boosted for shape < 1.
pub fn gamma(shape: f64, rng: &mut UniformStream) -> f64 {
    if shape < 1.0 {
        return gamma(shape + 1.0, rng) * rng.next_f64().powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = normal(rng);
        let t = 1.0 + c * x;
        if t <= 0.0 {
            continue;
        }
        let v = t * t * t;
        let u = rng.next_f64();
        let x2 = x * x;
        // Marsaglia and Tsang's squeeze, which implies the exact test: the same draws, without
        // the test's two logarithms for about 98% of them.
        if u < 1.0 - 0.0331 * x2 * x2 || u.ln() < 0.5 * x2 + d * (1.0 - v + v.ln()) {
            return d * v;
        }
    }
}

/// A Beta(a, b) variate.
pub fn beta(a: f64, b: f64, rng: &mut UniformStream) -> f64 {
    let x = gamma(a, rng);
    let y = gamma(b, rng);
    x / (x + y)
}

/// A Binomial(n, p) variate by counting Bernoulli trials: for the modest n of simulated coverage.
pub fn binomial(n: u32, p: f64, rng: &mut UniformStream) -> u32 {
    (0..n).filter(|_| rng.next_f64() < p).count() as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Stream;

    /// Moments of 200,000 draws within 5 standard errors.
    #[test]
    fn gamma_and_beta_moments() {
        for (shape, n) in [(0.3, 200_000), (2.5, 200_000), (400.0, 200_000)] {
            let mut rng = UniformStream::new(3, 0, 0, 0, 0, Stream::Init);
            let draws: Vec<f64> = (0..n).map(|_| gamma(shape, &mut rng)).collect();
            let mean = draws.iter().sum::<f64>() / n as f64;
            let se = (shape / n as f64).sqrt();
            assert!(
                (mean - shape).abs() < 5.0 * se,
                "Gamma({shape}) mean {mean}"
            );
        }
        let mut rng = UniformStream::new(4, 0, 0, 0, 0, Stream::Init);
        let n = 100_000;
        let mean = (0..n).map(|_| beta(2.0, 6.0, &mut rng)).sum::<f64>() / n as f64;
        let sd = (2.0 * 6.0 / (64.0 * 9.0) / n as f64).sqrt();
        assert!((mean - 0.25).abs() < 5.0 * sd, "Beta(2, 6) mean {mean}");
    }
}

//! Hyperpriors on the population Beta(alpha, beta), each with the unconstrained
//! coordinates z = (z0, z1) in which the host's slice sampler moves.

use std::fmt;

use crate::math::{ln_gamma, sigmoid, softplus};

/// Shapes outside this range get zero density: inside it the f32 Gamma draws of the
/// kernels stay finite and accurate (log U / shape stays above -2e7 for shape >= 1e-6),
/// and a posterior that wanders outside it carries no information from the data.
pub(crate) const SHAPE_RANGE: (f64, f64) = (1e-6, 1e7);

/// A hyperprior on (alpha, beta). The variant decides the sampler's coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HyperPrior {
    /// p(alpha, beta) ∝ (alpha + beta)^(-5/2) (BDA3 §5.3); z = (logit mu, log kappa).
    Bda3,
    /// Mode/concentration (Kruschke DBDA2 ch. 9): omega ~ Beta(a, b), kappa - 2 ~ Gamma(shape, rate),
    /// alpha = omega (kappa - 2) + 1, beta = (1 - omega)(kappa - 2) + 1; z = (logit omega, log(kappa - 2)).
    Kruschke {
        a: f64,
        b: f64,
        shape: f64,
        rate: f64,
    },
    /// mu = alpha / (alpha + beta) ~ Beta(a, b), kappa = alpha + beta ~ Gamma(shape, rate); z = (logit mu, log kappa).
    MeanConcentration {
        a: f64,
        b: f64,
        shape: f64,
        rate: f64,
    },
}

/// Defaults of the named priors: Kruschke's DBDA2 values, and the Stan model of the original analysis.
pub(crate) const KRUSCHKE_DEFAULT: [f64; 4] = [1.0, 1.0, 0.01, 0.01];
pub(crate) const MEAN_CONCENTRATION_DEFAULT: [f64; 4] = [0.5, 0.5, 0.5, 1e-4];

/// Both shapes inside SHAPE_RANGE (false for NaN).
#[inline]
pub(crate) fn shapes_in_range(alpha: f64, beta: f64) -> bool {
    alpha >= SHAPE_RANGE.0
        && beta >= SHAPE_RANGE.0
        && alpha <= SHAPE_RANGE.1
        && beta <= SHAPE_RANGE.1
}

impl HyperPrior {
    /// Parse `name` or `name(a=1,b=1,shape=0.01,rate=0.01)`; unnamed parameters keep their defaults.
    pub fn parse(spec: &str) -> Result<HyperPrior, String> {
        let spec = spec.trim();
        let (name, args) = match spec.find('(') {
            Some(i) if spec.ends_with(')') => (&spec[..i], &spec[i + 1..spec.len() - 1]),
            Some(_) => return Err(format!("prior {spec:?}: missing closing parenthesis")),
            None => (spec, ""),
        };
        let mut values = match name.trim() {
            "bda3" if args.trim().is_empty() => return Ok(HyperPrior::Bda3),
            "bda3" => return Err("prior bda3 takes no parameters".into()),
            "kruschke" => KRUSCHKE_DEFAULT,
            "mean-concentration" => MEAN_CONCENTRATION_DEFAULT,
            other => {
                return Err(format!(
                    "unknown prior {other:?}; expected bda3, kruschke or mean-concentration"
                ))
            }
        };
        for pair in args.split(',').filter(|p| !p.trim().is_empty()) {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| format!("prior parameter {pair:?}: expected name=value"))?;
            let slot = match k.trim() {
                "a" => 0,
                "b" => 1,
                "shape" => 2,
                "rate" => 3,
                other => {
                    return Err(format!(
                        "prior parameter {other:?}: expected a, b, shape or rate"
                    ))
                }
            };
            values[slot] = v
                .trim()
                .parse::<f64>()
                .map_err(|_| format!("prior parameter {k}={v:?}: not a number"))?;
        }
        let [a, b, shape, rate] = values;
        let prior = if name.trim() == "kruschke" {
            HyperPrior::Kruschke { a, b, shape, rate }
        } else {
            HyperPrior::MeanConcentration { a, b, shape, rate }
        };
        prior.validate()?;
        Ok(prior)
    }

    /// Every parameter finite and positive (`!(x > 0)` also rejects NaN).
    pub(crate) fn validate(&self) -> Result<(), String> {
        match *self {
            HyperPrior::Bda3 => Ok(()),
            HyperPrior::Kruschke { a, b, shape, rate }
            | HyperPrior::MeanConcentration { a, b, shape, rate } => {
                for (k, v) in [("a", a), ("b", b), ("shape", shape), ("rate", rate)] {
                    if !(v > 0.0 && v.is_finite()) {
                        return Err(format!("prior parameter {k} = {v}: must be finite and > 0"));
                    }
                }
                Ok(())
            }
        }
    }

    /// Rate r of the prior's left tail in z1, density ∝ e^(r z1) as z1 -> -inf, where the
    /// data stop constraining a concentration near its lower limit: the Gamma shape.
    pub(crate) fn left_tail_rate(&self) -> Option<f64> {
        match *self {
            HyperPrior::Bda3 => None,
            HyperPrior::Kruschke { shape, .. } | HyperPrior::MeanConcentration { shape, .. } => {
                Some(shape)
            }
        }
    }

    /// (alpha, beta) at unconstrained coordinates z.
    #[inline]
    pub fn alpha_beta(&self, z: [f64; 2]) -> (f64, f64) {
        let p = sigmoid(z[0]);
        match self {
            HyperPrior::Kruschke { .. } => {
                let k2 = z[1].exp();
                (p * k2 + 1.0, (1.0 - p) * k2 + 1.0)
            }
            _ => {
                let kappa = z[1].exp();
                (p * kappa, (1.0 - p) * kappa)
            }
        }
    }

    /// log prior density of z, Jacobian included, up to a constant.
    #[inline]
    pub fn log_density(&self, z: [f64; 2]) -> f64 {
        // log p and log(1 - p) for p = sigmoid(z0), computed stably.
        let log_p = -softplus(-z[0]);
        let log_q = -softplus(z[0]);
        match *self {
            // (alpha + beta)^(-5/2) times |d(alpha, beta)/dz| = mu (1 - mu) kappa^2.
            HyperPrior::Bda3 => log_p + log_q - 0.5 * z[1],
            // Beta(a, b) on p and Gamma(shape, rate) on e^z1, each times its Jacobian.
            HyperPrior::Kruschke { a, b, shape, rate }
            | HyperPrior::MeanConcentration { a, b, shape, rate } => {
                a * log_p + b * log_q + shape * z[1] - rate * z[1].exp()
            }
        }
    }

    /// log p(z | thetas) up to a constant, from the unit's sufficient statistics:
    /// `n` thetas with `sum_log` = Σ log theta and `sum_log1m` = Σ log(1 - theta).
    #[inline]
    pub(crate) fn log_conditional(&self, z: [f64; 2], n: f64, sum_log: f64, sum_log1m: f64) -> f64 {
        let (alpha, beta) = self.alpha_beta(z);
        if !shapes_in_range(alpha, beta) {
            return f64::NEG_INFINITY;
        }
        let log_norm = ln_gamma(alpha + beta) - ln_gamma(alpha) - ln_gamma(beta);
        self.log_density(z) + (alpha - 1.0) * sum_log + (beta - 1.0) * sum_log1m + n * log_norm
    }
}

impl fmt::Display for HyperPrior {
    /// The canonical spec, which `parse` reads back (recorded in the output metadata).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HyperPrior::Bda3 => write!(f, "bda3"),
            HyperPrior::Kruschke { a, b, shape, rate } => {
                write!(f, "kruschke(a={a},b={b},shape={shape},rate={rate})")
            }
            HyperPrior::MeanConcentration { a, b, shape, rate } => {
                write!(
                    f,
                    "mean-concentration(a={a},b={b},shape={shape},rate={rate})"
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_gamma_matches_libm_over_the_shape_range() {
        let mut x = SHAPE_RANGE.0;
        while x < 1e8 {
            let (got, want) = (ln_gamma(x), libm::lgamma(x));
            assert!(
                (got - want).abs() <= 1e-13 * want.abs().max(1.0),
                "x = {x}: {got} vs {want}"
            );
            x *= 1.013;
        }
    }

    #[test]
    fn parse_round_trips_and_rejects_bad_parameters() {
        for spec in [
            "bda3",
            "kruschke",
            "mean-concentration",
            "kruschke(a=2,rate=0.5)",
        ] {
            let p = HyperPrior::parse(spec).unwrap();
            assert_eq!(HyperPrior::parse(&p.to_string()).unwrap(), p);
        }
        assert!(HyperPrior::parse("kruschke(a=NaN)").is_err());
        assert!(HyperPrior::parse("kruschke(a=-1)").is_err());
        assert!(HyperPrior::parse("kruschke(q=1)").is_err());
        assert!(HyperPrior::parse("flat").is_err());
    }

    /// The density in z must be the (alpha, beta) density times the Jacobian: check
    /// by finite differences of the map z -> (alpha, beta).
    #[test]
    fn log_density_includes_the_jacobian() {
        let priors = [
            (HyperPrior::Bda3, None),
            (
                HyperPrior::parse("mean-concentration(a=2,b=3,shape=1.5,rate=0.1)").unwrap(),
                Some(false),
            ),
            (
                HyperPrior::parse("kruschke(a=2,b=3,shape=1.5,rate=0.1)").unwrap(),
                Some(true),
            ),
        ];
        let ab_density = |prior: &HyperPrior, alpha: f64, beta: f64| -> f64 {
            match *prior {
                HyperPrior::Bda3 => -2.5 * (alpha + beta).ln(),
                HyperPrior::MeanConcentration { a, b, shape, rate } => {
                    let (k, m) = (alpha + beta, alpha / (alpha + beta));
                    // (mu, kappa) density times |d(mu,kappa)/d(alpha,beta)| = 1/kappa.
                    (a - 1.0) * m.ln() + (b - 1.0) * (1.0 - m).ln() + (shape - 1.0) * k.ln()
                        - rate * k
                        - k.ln()
                }
                HyperPrior::Kruschke { a, b, shape, rate } => {
                    let k2 = alpha + beta - 2.0;
                    let w = (alpha - 1.0) / k2;
                    (a - 1.0) * w.ln() + (b - 1.0) * (1.0 - w).ln() + (shape - 1.0) * k2.ln()
                        - rate * k2
                        - k2.ln()
                }
            }
        };
        for (prior, _) in priors {
            let z = [0.3, 1.7];
            let h = 1e-6;
            let (a0, b0) = prior.alpha_beta(z);
            let (a1, b1) = prior.alpha_beta([z[0] + h, z[1]]);
            let (a2, b2) = prior.alpha_beta([z[0], z[1] + h]);
            let det = ((a1 - a0) * (b2 - b0) - (a2 - a0) * (b1 - b0)) / (h * h);
            let expected = ab_density(&prior, a0, b0) + det.abs().ln();
            let z_b = [-1.1, 0.4];
            let (a0b, b0b) = prior.alpha_beta(z_b);
            let (a1b, b1b) = prior.alpha_beta([z_b[0] + h, z_b[1]]);
            let (a2b, b2b) = prior.alpha_beta([z_b[0], z_b[1] + h]);
            let det_b = ((a1b - a0b) * (b2b - b0b) - (a2b - a0b) * (b1b - b0b)) / (h * h);
            let expected_b = ab_density(&prior, a0b, b0b) + det_b.abs().ln();
            // Densities are up to a constant: compare differences between two points.
            let got = prior.log_density(z) - prior.log_density(z_b);
            assert!(
                (got - (expected - expected_b)).abs() < 1e-4,
                "{prior}: {got} vs {}",
                expected - expected_b
            );
        }
    }
}

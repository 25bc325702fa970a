//! The regression sampler against brute-force quadrature: on a small two-group table the
//! posterior of (intercept, slope, log kappa) is summed on a 3-D grid, with its own
//! beta-binomial (products of rising factorials, not ln Gamma) and its own priors, and the
//! sampler's means and sds must agree within a few Monte Carlo standard errors.

use betagibbs::mcmc::diagnostics::summarize;
use betagibbs::mcmc::regression::{param_names, run, Regression, RegressionConfig};

/// (successes, trials, in group B): twelve rows, overdispersed within each group.
const ROWS: [(u32, u32, f64); 12] = [
    (12, 30, 0.0),
    (15, 28, 0.0),
    (9, 31, 0.0),
    (20, 35, 0.0),
    (7, 25, 0.0),
    (14, 30, 0.0),
    (22, 30, 1.0),
    (18, 27, 1.0),
    (25, 33, 1.0),
    (15, 29, 1.0),
    (26, 31, 1.0),
    (21, 28, 1.0),
];
/// The priors as docs/cli.md states them: t7 with scale 10 (intercept) and 2.5, and
/// p(kappa) = (1/2)(1 + kappa)^(-3/2).
const T_DF: f64 = 7.0;
const SCALES: [f64; 2] = [10.0, 2.5];

fn log_posterior(b0: f64, b1: f64, eta: f64) -> f64 {
    let kappa = eta.exp();
    let mut lp = eta - 1.5 * (1.0 + kappa).ln();
    for (b, s) in [(b0, SCALES[0]), (b1, SCALES[1])] {
        lp -= 0.5 * (T_DF + 1.0) * (1.0 + (b / s).powi(2) / T_DF).ln();
    }
    for &(y, n, g) in &ROWS {
        let mu = 1.0 / (1.0 + (-(b0 + b1 * g)).exp());
        let (a, b) = (mu * kappa, (1.0 - mu) * kappa);
        lp += (0..y).map(|j| (a + f64::from(j)).ln()).sum::<f64>()
            + (0..n - y).map(|j| (b + f64::from(j)).ln()).sum::<f64>()
            - (0..n).map(|j| (kappa + f64::from(j)).ln()).sum::<f64>();
    }
    lp
}

/// Posterior moments of (b0, b1, log kappa, theta of row 1) on a grid over `box_`.
struct Moments {
    mean: [f64; 4],
    sd: [f64; 4],
}

fn grid(box_: [(f64, f64); 3], steps: usize) -> (Moments, [(f64, f64); 3]) {
    let at =
        |k: usize, i: usize| box_[k].0 + (box_[k].1 - box_[k].0) * (i as f64 + 0.5) / steps as f64;
    let mut points = Vec::with_capacity(steps.pow(3));
    for i in 0..steps {
        for j in 0..steps {
            for k in 0..steps {
                let (b0, b1, eta) = (at(0, i), at(1, j), at(2, k));
                points.push(([b0, b1, eta], log_posterior(b0, b1, eta)));
            }
        }
    }
    let top = points.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    // The box where the density is within e^-20 of its peak, one cell wider each way.
    let mut found = [(f64::INFINITY, f64::NEG_INFINITY); 3];
    let (mut sum_w, mut m1, mut m2) = (0.0, [0.0; 4], [0.0; 4]);
    let (y0, n0) = (f64::from(ROWS[0].0), f64::from(ROWS[0].1));
    for (p, lp) in &points {
        if *lp > top - 20.0 {
            for k in 0..3 {
                let cell = (box_[k].1 - box_[k].0) / steps as f64;
                found[k] = (found[k].0.min(p[k] - cell), found[k].1.max(p[k] + cell));
            }
        }
        let w = (lp - top).exp();
        let kappa = p[2].exp();
        let mu = 1.0 / (1.0 + (-p[0]).exp());
        let theta = (y0 + mu * kappa) / (n0 + kappa);
        let v = [p[0], p[1], p[2], theta];
        sum_w += w;
        for q in 0..4 {
            m1[q] += w * v[q];
            m2[q] += w * v[q] * v[q];
        }
        // theta given the parameters is a Beta: its own variance joins theta's.
        m2[3] += w * theta * (1.0 - theta) / (n0 + kappa + 1.0);
    }
    let mean = m1.map(|m| m / sum_w);
    let sd: [f64; 4] = std::array::from_fn(|q| (m2[q] / sum_w - mean[q].powi(2)).sqrt());
    (Moments { mean, sd }, found)
}

#[test]
fn posterior_moments_match_quadrature() {
    // log kappa reaches far: near the binomial limit its density falls only as e^(-eta/2).
    let (_, region) = grid([(-10.0, 10.0), (-10.0, 10.0), (-5.0, 60.0)], 40);
    let (exact, inner) = grid(region, 90);
    for k in 0..3 {
        // The fine grid's high-density box lies inside its own box: nothing was cut off.
        // (`found` pads by one cell, which may reach one fine cell past the box.)
        let cell = (region[k].1 - region[k].0) / 90.0 * 1.001;
        assert!(
            inner[k].0 >= region[k].0 - cell && inner[k].1 <= region[k].1 + cell,
            "{region:?} {inner:?}"
        );
    }
    let x: Vec<f64> = ROWS.iter().flat_map(|r| [1.0, r.2]).collect();
    let y: Vec<u32> = ROWS.iter().map(|r| r.0).collect();
    let n: Vec<u32> = ROWS.iter().map(|r| r.1).collect();
    let names = ["(Intercept)".to_string(), "groupB".to_string()];
    let labels: Vec<String> = (1..=ROWS.len()).map(|i| i.to_string()).collect();
    let reg = Regression {
        x: &x,
        coef_names: &names,
        successes: &y,
        trials: &n,
        row_labels: &labels,
    };
    let config = RegressionConfig {
        chains: 4,
        warmup: 1000,
        draws: 5000,
        thin: 1,
        seed: 7,
    };
    let fit = run(&reg, &config, None).unwrap();
    let params = param_names(&reg);
    let index = |name: &str| params.iter().position(|p| p == name).unwrap();
    let series = |p: usize, f: fn(f64) -> f64| -> Vec<Vec<f64>> {
        (0..fit.n_chains)
            .map(|c| fit.chain(p, c).iter().map(|&v| f(v)).collect())
            .collect()
    };
    let checks = [
        (
            "coef[(Intercept)]",
            series(index("coef[(Intercept)]"), |v| v),
        ),
        ("coef[groupB]", series(index("coef[groupB]"), |v| v)),
        ("log kappa", series(index("kappa"), f64::ln)),
        ("theta[1]", series(index("theta[1]"), |v| v)),
    ];
    for (q, (name, chains)) in checks.iter().enumerate() {
        let refs: Vec<&[f64]> = chains.iter().map(|c| c.as_slice()).collect();
        let s = summarize(&refs);
        assert!(s.r_hat < 1.01, "{name}: R-hat {}", s.r_hat);
        // The sd's MCSE from that of the squared deviations: d(sd) = d(var) / (2 sd).
        let dev: Vec<Vec<f64>> = chains
            .iter()
            .map(|c| c.iter().map(|v| (v - s.mean).powi(2)).collect())
            .collect();
        let dev_refs: Vec<&[f64]> = dev.iter().map(|c| c.as_slice()).collect();
        let mcse_sd = summarize(&dev_refs).mcse_mean / (2.0 * s.sd);
        eprintln!(
            "{name}: mean {:.4} (quadrature {:.4}, mcse {:.4}), sd {:.4} (quadrature {:.4}, mcse {:.4}), ess {:.0}",
            s.mean, exact.mean[q], s.mcse_mean, s.sd, exact.sd[q], mcse_sd, s.ess_bulk
        );
        // Four MCSEs, plus the grid's own error (well below 1% of an sd at 90 points a side).
        let grid_error = 0.01 * exact.sd[q];
        assert!(
            (s.mean - exact.mean[q]).abs() < 4.0 * s.mcse_mean + grid_error,
            "{name} mean"
        );
        assert!(
            (s.sd - exact.sd[q]).abs() < 4.0 * mcse_sd + grid_error,
            "{name} sd"
        );
    }
}

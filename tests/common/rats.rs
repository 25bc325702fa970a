//! The rat-tumour table built into the binary (BDA3 §5.3), read the way any input is read, and
//! its exact posterior under the bda3 prior by quadrature, the reference of the sampler tests.

use betagibbs::app::RATS_CSV;
use betagibbs::io::read::{parse_delimited, ColumnSpec, Dataset};
use libm::lgamma;

/// The 71 experiments, named by their `experiment` column (theta[1] to theta[71]).
pub fn rats() -> Dataset {
    let columns = ColumnSpec {
        successes: "tumors".into(),
        trials: "rats".into(),
        unit: None,
        id: Some("experiment".into()),
        aggregate_ids: false,
        groups: Vec::new(),
    };
    parse_delimited(RATS_CSV, "rats.csv (embedded)", b',', &columns).expect("embedded rats.csv")
}

/// Grid over u = log(alpha / beta) and v = log(alpha + beta): wide enough that the
/// posterior mass beyond its edges is negligible (`RatsPosterior::edge_mass` says how much).
const U_RANGE: (f64, f64) = (-4.0, 0.5);
const V_RANGE: (f64, f64) = (-2.0, 14.0);

fn ln_beta(a: f64, b: f64) -> f64 {
    lgamma(a) + lgamma(b) - lgamma(a + b)
}

/// p(alpha, beta | y) ∝ (alpha + beta)^(-5/2) ∏ B(alpha + y_i, beta + n_i - y_i) / B(alpha, beta)
/// at the midpoints of a grid over (u, v), with the thetas integrated out analytically.
pub struct RatsPosterior {
    /// (alpha, beta, weight) per grid point; the weights sum to 1.
    pub points: Vec<(f64, f64, f64)>,
    /// The weight of the grid's outermost rows and columns.
    pub edge_mass: f64,
    /// The grid's step in u and in v.
    pub step: [f64; 2],
}

impl RatsPosterior {
    /// The posterior on a `grid` x `grid` midpoint grid (by libm's lgamma, independent of
    /// the crate's arithmetic).
    pub fn new(grid: usize) -> RatsPosterior {
        let ds = rats();
        let (du, dv) = (
            (U_RANGE.1 - U_RANGE.0) / grid as f64,
            (V_RANGE.1 - V_RANGE.0) / grid as f64,
        );
        let mut log_post = Vec::with_capacity(grid * grid);
        for i in 0..grid {
            let u = U_RANGE.0 + (i as f64 + 0.5) * du;
            for j in 0..grid {
                let v = V_RANGE.0 + (j as f64 + 0.5) * dv;
                let mu = 1.0 / (1.0 + (-u).exp());
                let (alpha, beta) = (mu * v.exp(), (1.0 - mu) * v.exp());
                // Prior (alpha + beta)^(-5/2) times the Jacobian alpha * beta of (u, v).
                let mut lp = alpha.ln() + beta.ln() - 2.5 * v;
                for (&yi, &ni) in ds.successes.iter().zip(&ds.trials) {
                    lp += ln_beta(alpha + f64::from(yi), beta + f64::from(ni - yi))
                        - ln_beta(alpha, beta);
                }
                log_post.push((alpha, beta, lp));
            }
        }
        let max = log_post
            .iter()
            .map(|p| p.2)
            .fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = log_post.iter().map(|p| (p.2 - max).exp()).sum();
        let points: Vec<(f64, f64, f64)> = log_post
            .iter()
            .map(|&(alpha, beta, lp)| (alpha, beta, (lp - max).exp() / z))
            .collect();
        let edge_mass = points
            .iter()
            .enumerate()
            .filter(|(k, _)| {
                let (i, j) = (k / grid, k % grid);
                i == 0 || j == 0 || i == grid - 1 || j == grid - 1
            })
            .map(|(_, p)| p.2)
            .sum();
        RatsPosterior {
            points,
            edge_mass,
            step: [du, dv],
        }
    }

    /// (alpha, beta) of the grid point of highest posterior density.
    pub fn mode(&self) -> (f64, f64) {
        let best = self
            .points
            .iter()
            .max_by(|a, b| a.2.total_cmp(&b.2))
            .unwrap();
        (best.0, best.1)
    }

    /// E[f(alpha, beta) | y]; points of weight below 1e-15 are left out (together they hold
    /// less than 1e-9 of the mass on grids up to 1000 x 1000).
    pub fn expectation(&self, f: impl Fn(f64, f64) -> f64) -> f64 {
        self.points
            .iter()
            .filter(|p| p.2 >= 1e-15)
            .map(|&(alpha, beta, w)| w * f(alpha, beta))
            .sum()
    }
}

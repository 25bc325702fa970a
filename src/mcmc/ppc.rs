//! Posterior predictive checks (BDA3 ch. 6): replicated data for every observed theta
//! (its draw, then y_rep ~ Binomial(n, theta)), data for a new member of every unit or
//! innermost group (the population's draw, then theta, then y_new), and posterior
//! predictive p-values of a few test statistics of the whole data set.

use crate::mcmc::batch::Batch;
use crate::mcmc::sampler::Fit;
use crate::rng::host_variates::{beta, binomial};
use crate::rng::{Stream, UniformStream};

/// Test statistics T(y) of the whole data set: what a beta-binomial model most often
/// misses is the spread of the rates and the number of zeros (BDA3 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statistic {
    /// Mean of the rates y_i / n_i.
    MeanRate,
    /// Standard deviation (ddof = 1) of the rates.
    SdRate,
    /// Number of observations with y_i = 0.
    ZeroCounts,
}

impl Statistic {
    pub const ALL: [Statistic; 3] = [
        Statistic::MeanRate,
        Statistic::SdRate,
        Statistic::ZeroCounts,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Statistic::MeanRate => "mean rate",
            Statistic::SdRate => "sd of rates",
            Statistic::ZeroCounts => "zero counts",
        }
    }

    /// Its replicated values' name among the predictive draws.
    pub(crate) fn draws_name(self) -> String {
        format!("T[{}]", self.name())
    }

    /// Footer key of "observed=<T(y)>;p=<p-value>" in predictive.parquet.
    pub(crate) fn metadata_key(self) -> String {
        format!("betagibbs.ppc.{}", self.name().replace(' ', "_"))
    }

    /// T of counts `y` over `n` trials.
    pub fn of(self, y: impl Iterator<Item = f64> + Clone, n: &[u32]) -> f64 {
        let rates = y.zip(n).map(|(y, &n)| y / f64::from(n));
        let k = n.len() as f64;
        match self {
            Statistic::MeanRate => rates.sum::<f64>() / k,
            Statistic::SdRate => {
                let mean = rates.clone().sum::<f64>() / k;
                (rates.map(|r| (r - mean).powi(2)).sum::<f64>() / (k - 1.0).max(1.0)).sqrt()
            }
            Statistic::ZeroCounts => rates.filter(|&r| r == 0.0).count() as f64,
        }
    }
}

/// One statistic's check: T(y), T(y_rep) per (chain, draw), and p = P(T(y_rep) >= T(y)).
#[derive(Debug, Clone)]
pub struct Check {
    pub statistic: Statistic,
    pub observed: f64,
    pub replicated: Vec<f64>,
    pub p_value: f64,
}

/// Replicated and new data in a `Fit`'s layout, `values[(param * n_chains + chain) * n_draws + draw]`.
#[derive(Debug, Clone)]
pub struct Predictive {
    /// y_rep[<id>] per observation (named as its theta), then y_new per unit (one level) or
    /// y_new[<group>] per innermost group.
    pub names: Vec<String>,
    pub n_chains: usize,
    pub n_draws: usize,
    pub values: Vec<f64>,
    /// Trials of each new member: the median trials of its unit or group.
    pub new_trials: Vec<u32>,
    pub checks: Vec<Check>,
}

impl Predictive {
    /// Names and values for draws.parquet's layout: the replicated data, then each
    /// statistic's replicated values as `T[<statistic>]`.
    pub fn draws(&self) -> (Vec<String>, Vec<f64>) {
        let mut names = self.names.clone();
        let mut values = self.values.clone();
        for check in &self.checks {
            names.push(check.statistic.draws_name());
            values.extend(&check.replicated);
        }
        (names, values)
    }

    /// Footer metadata: each check's observed statistic and p-value, and the new members' trials.
    pub fn metadata(&self) -> Vec<(String, String)> {
        let mut kv: Vec<(String, String)> = self
            .checks
            .iter()
            .map(|c| {
                (
                    c.statistic.metadata_key(),
                    format!("observed={};p={}", c.observed, c.p_value),
                )
            })
            .collect();
        kv.push((
            "betagibbs.ppc.new_trials".into(),
            self.new_trials
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(","),
        ));
        kv.push((
            "betagibbs.ppc.p_value".into(),
            "P(T(y_rep) >= T(y)) over the kept draws (BDA3 eq. 6.3)".into(),
        ));
        kv
    }
}

/// Where each observation's theta and its population's Beta shapes sit in the fit.
struct Layout {
    theta: Vec<usize>,
    /// Per unit or innermost group: parameter index of alpha (one level) or omega (tree).
    population: Vec<usize>,
    tree: bool,
}

fn layout(batch: &Batch) -> Layout {
    let tree = batch.is_tree();
    // A unit's population follows its thetas in one level; a tree's level-0 nodes come after all thetas.
    let population = (0..batch.n_units())
        .map(|u| {
            if tree {
                batch.node_param_start(0, u, true)
            } else {
                batch.unit_param_start(u, true)
                    + (batch.unit_offsets[u + 1] - batch.unit_offsets[u]) as usize
            }
        })
        .collect();
    Layout {
        theta: batch.theta_param_indices(),
        population,
        tree,
    }
}

/// The names of the predictive quantities from the model's parameter names (`names` as
/// `Model::new(_, true)` gives them). Labels and ids are kept whole (they may hold '/',
/// "alpha" or "theta["): only the parameter word after the unit's prefix changes.
fn predictive_names(batch: &Batch, layout: &Layout, names: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(layout.theta.len() + layout.population.len());
    if layout.tree {
        for &p in &layout.theta {
            out.push(format!(
                "y_rep{}",
                names[p].strip_prefix("theta").unwrap_or(&names[p])
            ));
        }
        for &p in &layout.population {
            out.push(format!(
                "y_new{}",
                names[p].strip_prefix("omega").unwrap_or(&names[p])
            ));
        }
        return out;
    }
    // One level: unit u's names are "<prefix>theta[<id>]" ... "<prefix>alpha", prefix "" or "U/".
    let prefixes: Vec<&str> = layout
        .population
        .iter()
        .map(|&p| names[p].strip_suffix("alpha").unwrap_or(""))
        .collect();
    for (u, prefix) in prefixes.iter().enumerate() {
        for o in batch.unit_offsets[u] as usize..batch.unit_offsets[u + 1] as usize {
            let name = &names[layout.theta[o]];
            let id = name[prefix.len()..].strip_prefix("theta").unwrap_or(name);
            out.push(format!("{prefix}y_rep{id}"));
        }
    }
    out.extend(prefixes.iter().map(|prefix| format!("{prefix}y_new")));
    out
}

/// Replicates the data once per kept draw of `fit` (made with thetas kept) and runs the checks.
pub fn predictive(batch: &Batch, names: &[String], fit: &Fit, seed: u32) -> Predictive {
    let layout = layout(batch);
    assert_eq!(fit.n_params, names.len(), "a fit with its thetas kept");
    let (n_chains, n_draws) = (fit.n_chains, fit.n_draws);
    let n_obs = batch.n_obs();
    let n_new = layout.population.len();
    let trials: Vec<u32> = batch.observations.iter().map(|o| o.trials).collect();
    let new_trials: Vec<u32> = (0..batch.n_units())
        .map(|u| {
            let mut n =
                trials[batch.unit_offsets[u] as usize..batch.unit_offsets[u + 1] as usize].to_vec();
            n.sort_unstable();
            // The median, the two middle values' mean rounded for an even count.
            let k = n.len();
            if k % 2 == 1 {
                n[k / 2]
            } else {
                (u64::from(n[k / 2 - 1]) + u64::from(n[k / 2])).div_ceil(2) as u32
            }
        })
        .collect();
    let mut values = vec![0.0; (n_obs + n_new) * n_chains * n_draws];
    let at = |param: usize, chain: usize, draw: usize| (param * n_chains + chain) * n_draws + draw;
    for chain in 0..n_chains {
        for draw in 0..n_draws {
            // One stream per kept draw: the replicate does not depend on how many came before.
            let mut rng =
                UniformStream::new(seed, chain as u32, 0, 0, draw as u32, Stream::Predictive);
            for (o, &p) in layout.theta.iter().enumerate() {
                let theta = fit.values[at(p, chain, draw)];
                values[at(o, chain, draw)] = f64::from(binomial(trials[o], theta, &mut rng));
            }
            for (u, &p) in layout.population.iter().enumerate() {
                let (first, second) = (
                    fit.values[at(p, chain, draw)],
                    fit.values[at(p + 1, chain, draw)],
                );
                let (a, b) = if layout.tree {
                    // omega, kappa: the mode/concentration form of the Beta.
                    (
                        first * (second - 2.0) + 1.0,
                        (1.0 - first) * (second - 2.0) + 1.0,
                    )
                } else {
                    (first, second)
                };
                let theta = beta(a, b, &mut rng);
                values[at(n_obs + u, chain, draw)] =
                    f64::from(binomial(new_trials[u], theta, &mut rng));
            }
        }
    }
    let observed_y = batch.observations.iter().map(|o| f64::from(o.successes));
    let checks = Statistic::ALL
        .iter()
        .map(|&statistic| {
            let observed = statistic.of(observed_y.clone(), &trials);
            let replicated: Vec<f64> = (0..n_chains * n_draws)
                .map(|cd| {
                    let (chain, draw) = (cd / n_draws, cd % n_draws);
                    statistic.of((0..n_obs).map(|o| values[at(o, chain, draw)]), &trials)
                })
                .collect();
            let p_value = replicated.iter().filter(|&&t| t >= observed).count() as f64
                / replicated.len().max(1) as f64;
            Check {
                statistic,
                observed,
                replicated,
                p_value,
            }
        })
        .collect();
    Predictive {
        names: predictive_names(batch, &layout, names),
        n_chains,
        n_draws,
        values,
        new_trials,
        checks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fit with every draw equal to `values` (one per parameter).
    fn constant_fit(values: &[f64], n_chains: usize, n_draws: usize) -> Fit {
        Fit {
            n_chains,
            n_draws,
            n_params: values.len(),
            values: values
                .iter()
                .flat_map(|&v| std::iter::repeat_n(v, n_chains * n_draws))
                .collect(),
            wall_seconds: 0.0,
            stage_seconds: 0.0,
            observation_updates: 0,
        }
    }

    fn mean_var(x: impl Iterator<Item = f64>) -> (f64, f64, usize) {
        let v: Vec<f64> = x.collect();
        let n = v.len();
        let m = v.iter().sum::<f64>() / n as f64;
        (
            m,
            v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64,
            n,
        )
    }

    #[test]
    fn replicates_have_binomial_and_beta_binomial_moments() {
        // One unit, two observations (y, n) = (3, 20), (5, 40); theta 0.3 and 0.6, alpha 2, beta 6.
        let batch = Batch::new(&[3, 5], &[20, 40], vec![0, 2]);
        let names: Vec<String> = ["theta[a]", "theta[b]", "alpha", "beta", "mu", "kappa"]
            .map(String::from)
            .to_vec();
        let fit = constant_fit(&[0.3, 0.6, 2.0, 6.0, 0.25, 8.0], 4, 5000);
        let p = predictive(&batch, &names, &fit, 11);
        assert_eq!(p.names, ["y_rep[a]", "y_rep[b]", "y_new"]);
        // The median trials of (20, 40).
        assert_eq!(p.new_trials, [30]);
        let per = p.n_chains * p.n_draws;
        let check = |param: usize, mean: f64, var: f64| {
            let (m, v, n) = mean_var(p.values[param * per..(param + 1) * per].iter().copied());
            // Tolerance: 5 standard errors of the mean and of the variance (normal-theory, x2 for kurtosis).
            assert!(
                (m - mean).abs() < 5.0 * (var / n as f64).sqrt(),
                "mean {m} vs {mean}"
            );
            assert!(
                (v - var).abs() < 5.0 * 2.0 * var * (2.0 / n as f64).sqrt(),
                "var {v} vs {var}"
            );
        };
        check(0, 20.0 * 0.3, 20.0 * 0.3 * 0.7);
        check(1, 40.0 * 0.6, 40.0 * 0.6 * 0.4);
        // Beta-binomial(30, 2, 6): mean n a/(a+b), variance n a b (a+b+n) / ((a+b)^2 (a+b+1)).
        check(2, 30.0 * 0.25, 30.0 * 2.0 * 6.0 * 38.0 / (64.0 * 9.0));
    }

    #[test]
    fn names_keep_awkward_unit_labels_and_ids() {
        let batch = Batch::new(&[1, 2], &[5, 6], vec![0, 1, 2]);
        let names: Vec<String> = [
            "alpha1/theta[a/theta[b]",
            "alpha1/alpha",
            "alpha1/beta",
            "alpha1/mu",
            "alpha1/kappa",
            "x/y/theta[2]",
            "x/y/alpha",
            "x/y/beta",
            "x/y/mu",
            "x/y/kappa",
        ]
        .map(String::from)
        .to_vec();
        let fit = constant_fit(&[0.2, 1.0, 1.0, 0.5, 2.0, 0.3, 1.0, 1.0, 0.5, 2.0], 1, 2);
        let p = predictive(&batch, &names, &fit, 1);
        assert_eq!(
            p.names,
            [
                "alpha1/y_rep[a/theta[b]",
                "x/y/y_rep[2]",
                "alpha1/y_new",
                "x/y/y_new"
            ]
        );
    }

    #[test]
    fn tree_new_members_use_the_groups_mode_and_concentration() {
        let batch = Batch::with_levels(&[1, 2, 3], &[10, 10, 30], vec![0, 2, 3], vec![vec![0, 0]]);
        let names: Vec<String> = [
            "theta[1]", "theta[2]", "theta[3]", "omega[A]", "kappa[A]", "omega[B]", "kappa[B]",
            "omega", "kappa",
        ]
        .map(String::from)
        .to_vec();
        // Group B: omega 0.5, kappa 12 -> Beta(6, 6), new member with n = 30.
        let fit = constant_fit(&[0.1, 0.2, 0.1, 0.1, 50.0, 0.5, 12.0, 0.3, 20.0], 2, 10_000);
        let p = predictive(&batch, &names, &fit, 5);
        assert_eq!(p.names[3..], ["y_new[A]", "y_new[B]"]);
        assert_eq!(p.new_trials, [10, 30]);
        let per = p.n_chains * p.n_draws;
        let (m, v, n) = mean_var(p.values[4 * per..5 * per].iter().copied());
        let var = 30.0 * 6.0 * 6.0 * 42.0 / (144.0 * 13.0);
        assert!((m - 15.0).abs() < 5.0 * (var / n as f64).sqrt(), "{m}");
        assert!((v - var).abs() < 0.1 * var, "{v} vs {var}");
    }

    #[test]
    fn p_values_compare_replicated_with_observed_statistics() {
        // Observed y = 0 of 10 twice: with theta = 0.5 the replicates almost never have two
        // zeros (p near 0) and their mean rate exceeds 0 almost surely (p near 1).
        let batch = Batch::new(&[0, 0], &[10, 10], vec![0, 2]);
        let names: Vec<String> = ["theta[1]", "theta[2]", "alpha", "beta", "mu", "kappa"]
            .map(String::from)
            .to_vec();
        let p = predictive(
            &batch,
            &names,
            &constant_fit(&[0.5, 0.5, 1.0, 1.0, 0.5, 2.0], 2, 1000),
            1,
        );
        let by = |s| p.checks.iter().find(|c| c.statistic == s).unwrap();
        assert_eq!(by(Statistic::ZeroCounts).observed, 2.0);
        assert!(by(Statistic::ZeroCounts).p_value < 0.01);
        assert!(by(Statistic::MeanRate).p_value > 0.99);
        assert_eq!(by(Statistic::SdRate).replicated.len(), 2000);
    }
}

//! The collapsed update's log marginal on the CPU path, in f64, from each unit's count tables.
//!
//! Since ln Γ(y + a) - ln Γ(a) = Σ_{k<y} ln(a + k), a unit's sum over its observations of
//! ln B(y_i + a, n_i - y_i + b) - ln B(a, b) equals
//! Σ_k S_k ln(a + k) + Σ_k F_k ln(b + k) - Σ_k N_k ln(a + b + k), where S_k, F_k and N_k
//! count the observations with more than k successes, failures and trials. The counts step
//! only where a count of the data does, so a run of equal weight costs one log of the product
//! of its factors. For the rats (71 experiments, 39 distinct) that is about 110
//! multiplications and 50 logs per evaluation, where the per-observation form
//! (`collapsed_loglik.wgsl` and its twin) takes 71 x 6 ln Γ.
//!
//! Units whose trials run so high that the tables would cost more are summed per observation
//! from the f64 ln Γ instead. The GPU keeps the per-observation f32 kernel, whose sums the
//! tests hold to the same f64 reference (tests/gpu_vs_cpu.rs).

use crate::kernels::cpu::betabinom::beta_binomial_log_ratio_f64;
use crate::kernels::layout::Observation;

/// A product of factors is logged before it passes this: the next factor, at most 1e7 + 2^25 (SHAPE_RANGE's top plus twice the largest
/// count), keeps it below f64's 1.8e308.
const PRODUCT_MAX: f64 = 1e290;
/// A run's log costs about this many multiplications (libm's log against a fused multiply).
const RUN_COST: usize = 20;
/// One observation of the per-observation form costs about this many multiplications: six
/// ln Γ of Stirling's series, each a log and a dozen operations.
const DIRECT_COST: usize = 6 * (RUN_COST + 12);

/// k in start..end, each ln(x + k) weighted by `weight`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Run {
    start: u32,
    end: u32,
    weight: i32,
}

/// One unit's way to its log marginal.
#[derive(Debug, Clone, PartialEq)]
enum UnitTable {
    /// The runs of S_k, F_k and N_k.
    Counts {
        successes: Vec<Run>,
        failures: Vec<Run>,
        trials: Vec<Run>,
    },
    /// The unit's observations, summed from ln Γ.
    Direct(Vec<Observation>),
}

/// Every unit's table, built once per run.
#[derive(Debug, Clone, PartialEq)]
pub struct MarginalTables {
    units: Vec<UnitTable>,
}

/// Runs of #{v in values: v > k} for k from 0 to the largest value.
fn runs_above(values: &mut [u32]) -> Vec<Run> {
    values.sort_unstable();
    let mut runs = Vec::new();
    let mut start = 0u32;
    let mut i = 0;
    while i < values.len() {
        let v = values[i];
        // For k in start..v, every value from index i on is above k.
        if v > start {
            runs.push(Run {
                start,
                end: v,
                weight: i32::try_from(values.len() - i).expect("a unit's count fits i32"),
            });
            start = v;
        }
        i += 1;
    }
    runs
}

/// Multiplications and logs that evaluating `runs` takes.
fn cost(runs: &[Run]) -> usize {
    runs.iter()
        .map(|r| (r.end - r.start) as usize + RUN_COST)
        .sum()
}

/// Σ over runs of weight x Σ_{k in run} ln(x + k), by logs of products. (Raising each
/// run's product to its weight and taking one log per table measured 15% slower.)
#[inline]
fn weighted_log_rising(runs: &[Run], x: f64) -> f64 {
    let mut total = 0.0;
    for run in runs {
        let (mut product, mut logs) = (1.0f64, 0.0f64);
        for k in run.start..run.end {
            if product > PRODUCT_MAX {
                logs += product.ln();
                product = 1.0;
            }
            product *= x + f64::from(k);
        }
        total += f64::from(run.weight) * (logs + product.ln());
    }
    total
}

impl MarginalTables {
    /// The tables of units `unit_offsets[u]..unit_offsets[u + 1]` of `observations`.
    pub fn new(observations: &[Observation], unit_offsets: &[u32]) -> MarginalTables {
        let units = unit_offsets
            .windows(2)
            .map(|w| {
                let obs = &observations[w[0] as usize..w[1] as usize];
                let column = |f: fn(&Observation) -> u32| {
                    runs_above(&mut obs.iter().map(f).collect::<Vec<_>>())
                };
                let successes = column(|o| o.successes);
                let failures = column(|o| o.trials - o.successes);
                let trials = column(|o| o.trials);
                let table_cost = cost(&successes) + cost(&failures) + cost(&trials);
                if table_cost <= DIRECT_COST * obs.len() {
                    UnitTable::Counts {
                        successes,
                        failures,
                        trials,
                    }
                } else {
                    UnitTable::Direct(obs.to_vec())
                }
            })
            .collect();
        MarginalTables { units }
    }

    pub fn n_units(&self) -> usize {
        self.units.len()
    }

    /// Σ_i ln B(y_i + a, n_i - y_i + b) - ln B(a, b) over unit `unit`'s observations.
    pub fn log_marginal(&self, unit: usize, a: f64, b: f64) -> f64 {
        match &self.units[unit] {
            UnitTable::Counts {
                successes,
                failures,
                trials,
            } => {
                weighted_log_rising(successes, a) + weighted_log_rising(failures, b)
                    - weighted_log_rising(trials, a + b)
            }
            UnitTable::Direct(obs) => obs
                .iter()
                .map(|o| {
                    beta_binomial_log_ratio_f64(f64::from(o.successes), f64::from(o.trials), a, b)
                })
                .sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::cpu::betabinom::{TEST_COUNTS, TEST_SHAPES};

    fn observations(counts: &[(u32, u32)]) -> Vec<Observation> {
        counts
            .iter()
            .map(|&(successes, trials)| Observation { successes, trials })
            .collect()
    }

    fn reference(obs: &[Observation], a: f64, b: f64) -> f64 {
        obs.iter()
            .map(|o| beta_binomial_log_ratio_f64(f64::from(o.successes), f64::from(o.trials), a, b))
            .sum()
    }

    #[test]
    fn runs_count_the_values_above_each_k() {
        let runs = runs_above(&mut [3, 0, 1, 3]);
        // k = 0: 3 values above (1, 3, 3); k = 1, 2: two (3, 3); from 3 on, none.
        let expect = [(0, 1, 3), (1, 3, 2)];
        assert_eq!(runs.len(), expect.len());
        for (r, (start, end, weight)) in runs.iter().zip(expect) {
            assert_eq!((r.start, r.end, r.weight), (start, end, weight));
        }
        assert!(runs_above(&mut [0, 0]).is_empty());
    }

    /// The tables against the per-observation ln Γ sum, on the shapes and counts the f32
    /// kernels are tested at, with both ways chosen: relative 1e-12 (f64's ln Γ carries
    /// about 1e-13 of each term's size).
    #[test]
    fn tables_match_the_log_gamma_sum() {
        let mut counts = TEST_COUNTS.to_vec();
        counts.extend([(0, 20), (4, 20), (16, 52), (0, 0), (5, 5)]);
        let obs = observations(&counts);
        let tables = MarginalTables::new(&obs, &[0, 5, obs.len() as u32]);
        let direct = MarginalTables::new(&obs, &[0, obs.len() as u32]);
        for &a in &TEST_SHAPES {
            for &b in &TEST_SHAPES {
                let whole = reference(&obs, a, b);
                let split = tables.log_marginal(0, a, b) + tables.log_marginal(1, a, b);
                for got in [split, direct.log_marginal(0, a, b)] {
                    // The size of the ln Γ terms the reference subtracts.
                    let scale: f64 = obs
                        .iter()
                        .map(|o| {
                            let x = a + b + f64::from(o.trials) + 2.0;
                            x * x.ln()
                        })
                        .sum();
                    assert!(
                        (got - whole).abs() <= 1e-12 * scale,
                        "a {a} b {b}: {got} against {whole}"
                    );
                }
            }
        }
    }

    /// Small counts take the tables, counts in the millions the ln Γ sum.
    #[test]
    fn picks_the_cheaper_form() {
        let small = observations(&[(0, 20), (2, 20), (4, 19), (16, 52)]);
        let tables = MarginalTables::new(&small, &[0, 4]);
        assert!(matches!(tables.units[0], UnitTable::Counts { .. }));
        let large = observations(&[(1_000_000, 3_000_000), (5, 4_000_000)]);
        let tables = MarginalTables::new(&large, &[0, 2]);
        assert!(matches!(tables.units[0], UnitTable::Direct(_)));
        let (a, b) = (2.5, 14.0);
        assert!(
            (tables.log_marginal(0, a, b) - reference(&large, a, b)).abs()
                < 1e-12 * reference(&large, a, b).abs()
        );
    }

    /// A unit of 5,000 observations, whose weights run to thousands.
    #[test]
    fn heavy_weights_match_the_log_gamma_sum() {
        let counts: Vec<(u32, u32)> = (0..5000u32).map(|i| (i % 7, 20 + i % 13)).collect();
        let obs = observations(&counts);
        let tables = MarginalTables::new(&obs, &[0, obs.len() as u32]);
        assert!(matches!(tables.units[0], UnitTable::Counts { .. }));
        for (a, b) in [(0.3, 0.7), (2.5, 14.0), (1e4, 3e4)] {
            let (got, want) = (tables.log_marginal(0, a, b), reference(&obs, a, b));
            assert!((got - want).abs() < 1e-11 * want.abs(), "{got} {want}");
        }
    }

    /// Products stay finite at the top of SHAPE_RANGE and the largest counts.
    #[test]
    fn long_runs_stay_finite() {
        let obs = observations(&[(1 << 24, 1 << 24), (0, 1 << 24)]);
        let runs = runs_above(&mut obs.iter().map(|o| o.trials).collect::<Vec<_>>());
        let got = weighted_log_rising(&runs, 1e7);
        let want: f64 = (0..1u32 << 24)
            .map(|k| (1e7 + f64::from(k)).ln())
            .sum::<f64>()
            * 2.0;
        assert!(
            got.is_finite() && (got - want).abs() < 1e-9 * want,
            "{got} {want}"
        );
    }
}

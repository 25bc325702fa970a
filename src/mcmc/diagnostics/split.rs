//! Split chains: the validated, halved draws every diagnostic starts from, and the
//! two-pass moments they are measured with.

use super::scratch;

/// Fewest draws per chain for which diagnostics are defined: each split half needs
/// at least two draws to have a variance (ArviZ and `posterior` use the same floor).
pub const MIN_DRAWS_PER_CHAIN: usize = 4;

/// Split chains stored row-major: `n_chains` rows of `n_draws`, first halves of the
/// original chains followed by their second halves (ArviZ's `_split_chains` order).
pub(super) struct Split {
    pub(super) data: Vec<f64>,
    pub(super) n_chains: usize,
    pub(super) n_draws: usize,
}

impl Split {
    /// Validates the input (see the `diagnostics` docs) and splits every chain in two, dropping
    /// the middle draw of odd-length chains. `None` when diagnostics must be NaN.
    pub(super) fn new(chains: &[&[f64]]) -> Option<Split> {
        let n = chains.first()?.len();
        if n < MIN_DRAWS_PER_CHAIN || chains.iter().any(|c| c.len() != n) {
            return None;
        }
        let first = chains[0][0];
        let mut constant = true;
        for c in chains {
            for &x in c.iter() {
                if !x.is_finite() {
                    return None;
                }
                constant &= x == first;
            }
        }
        if constant {
            return None;
        }
        let half = n / 2;
        let mut data = scratch::take(2 * half * chains.len());
        for c in chains {
            data.extend_from_slice(&c[..half]);
        }
        for c in chains {
            data.extend_from_slice(&c[n - half..]);
        }
        Some(Split {
            data,
            n_chains: 2 * chains.len(),
            n_draws: half,
        })
    }

    /// Same shape, new values.
    pub(super) fn map_all(&self, data: Vec<f64>) -> Split {
        debug_assert_eq!(data.len(), self.data.len());
        Split {
            data,
            n_chains: self.n_chains,
            n_draws: self.n_draws,
        }
    }

    pub(super) fn chain(&self, c: usize) -> &[f64] {
        &self.data[c * self.n_draws..(c + 1) * self.n_draws]
    }
}

impl Drop for Split {
    fn drop(&mut self) {
        scratch::give(std::mem::take(&mut self.data));
    }
}

/// Mean and sample variance (ddof = 1), two-pass as numpy; the mean is NaN for no
/// values and the variance NaN for fewer than two.
pub(super) fn mean_variance(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    if x.len() < 2 {
        return (mean, f64::NAN);
    }
    let ss: f64 = x.iter().map(|v| (v - mean) * (v - mean)).sum();
    (mean, ss / (n - 1.0))
}

/// Mean and sample standard deviation (ddof = 1).
pub(super) fn mean_sd(x: &[f64]) -> (f64, f64) {
    let (mean, var) = mean_variance(x);
    (mean, var.sqrt())
}

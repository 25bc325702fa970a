//! One node's slice-sampler state: its z, slice widths adapted in warm-up, and the
//! overdispersed start.

use crate::mcmc::batch::Batch;
use crate::mcmc::prior::HyperPrior;
use crate::mcmc::slice::{slice_update, RunningVariance, WIDTH_PER_SD};
use crate::rng::{Stream, UniformStream};

/// Slice width in z before warm-up has measured the posterior sd.
const INITIAL_WIDTH: f64 = 1.0;
/// Warm-up sweeps before the width follows the measured sd: the first moves from an
/// overdispersed start say little about the posterior's scale.
const ADAPT_AFTER: u32 = 20;
/// Half-width of the uniform jitter of starting values around the pooled rate on the
/// logit scale, and the range of the starting log concentration: overdispersed starts make R-hat meaningful.
const INIT_LOGIT_JITTER: f64 = 1.0;
const INIT_LOG_CONCENTRATION: (f64, f64) = (0.0, 5.0);

/// The slice sampler's state for one (chain, node).
#[derive(Debug, Clone, Copy)]
pub(super) struct HyperState {
    pub(super) z: [f64; 2],
    width: [f64; 2],
    warmup_stats: [RunningVariance; 2],
}

impl HyperState {
    /// Slice-sample both coordinates `rounds` times from p(z | children), given the children's
    /// sufficient statistics `[n, Σ log x, Σ log(1 - x)]`; in warm-up, adapt the widths.
    pub(super) fn update(
        &mut self,
        prior: &HyperPrior,
        stats: [f64; 3],
        rounds: u32,
        in_warmup: bool,
        rng: &mut UniformStream,
    ) {
        let [n, sum_log, sum_log1m] = stats;
        // Density at the current point; each update returns it at its new point.
        let mut log_f_here = prior.log_conditional(self.z, n, sum_log, sum_log1m);
        for k in (0..2).cycle().take(2 * rounds as usize) {
            let z = self.z;
            let log_f = |x: f64| {
                let mut moved = z;
                moved[k] = x;
                prior.log_conditional(moved, n, sum_log, sum_log1m)
            };
            let (x1, log_f1) = slice_update(z[k], log_f_here, self.width[k], log_f, rng);
            self.z[k] = x1;
            log_f_here = log_f1;
            if in_warmup {
                let moments = &mut self.warmup_stats[k];
                moments.push(x1);
                if moments.count() >= f64::from(ADAPT_AFTER) && moments.sd() > 0.0 {
                    self.width[k] = WIDTH_PER_SD * moments.sd();
                }
            }
        }
    }
}

/// Overdispersed starting z for (chain, node of `level`): around the pooled rate of the
/// node's observations (the whole data's above level 0).
pub(super) fn initial_state(
    batch: &Batch,
    seed: u32,
    chain: u32,
    level: usize,
    node: usize,
) -> HyperState {
    let rate = if level == 0 {
        batch.pooled_rate(node..node + 1)
    } else {
        batch.pooled_rate(0..batch.n_units())
    }
    .clamp(1e-3, 1.0 - 1e-3);
    let mut rng = UniformStream::new(seed, chain, level as u32, node as u32, 0, Stream::Init);
    let z0 = (rate / (1.0 - rate)).ln() + INIT_LOGIT_JITTER * (2.0 * rng.next_f64() - 1.0);
    let (lo, hi) = INIT_LOG_CONCENTRATION;
    let z1 = lo + (hi - lo) * rng.next_f64();
    HyperState {
        z: [z0, z1],
        width: [INITIAL_WIDTH; 2],
        warmup_stats: Default::default(),
    }
}

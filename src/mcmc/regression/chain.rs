//! One chain: an overdispersed start, slice-sampling sweeps along the basis's directions
//! (re-based halfway through warm-up), and on each kept sweep the conjugate thetas.

use super::basis::Basis;
use super::likelihood::shapes;
use super::linalg::mat_vec;
use super::target::Target;
use super::RegressionConfig;
use crate::mcmc::slice::slice_update;
use crate::rng::host_variates::beta;
use crate::rng::{Stream, UniformStream};

/// Half-width of the uniform jitter of the start around the least-squares fit of the
/// empirical logits, in the QR coordinates (unit-mean-square Q): overdispersed starts make
/// R-hat meaningful.
const INIT_JITTER: f64 = 1.0;
/// Range of the starting log kappa, uniform: from strong overdispersion to nearly binomial.
const INIT_LOG_KAPPA: (f64, f64) = (0.0, 5.0);

/// Per-chain output: values[param * draws + draw], params as `param_names` orders them
/// (thetas, coefficients, kappa).
pub(super) fn run_chain(
    target: &Target,
    r_star: &[f64],
    start_gamma: &[f64],
    config: &RegressionConfig,
    chain: u32,
    on_sweep: Option<&(dyn Fn() + Sync)>,
) -> Vec<f64> {
    let (rows, cols) = (target.rows, target.cols);
    let n_params = rows + cols + 1;
    let n_draws = config.draws as usize;
    let mut values = vec![0.0; n_params * n_draws];
    let mut th = initial_state(target, r_star, start_gamma, config.seed, chain);
    let mut lin = target.linear_predictor(&th);
    let mut log_post = target.at(&th, &lin);
    let mut basis = Basis::from_qr(target, r_star);
    // Warm-up's second quarter feeds the covariance basis of its second half.
    let (collect_from, rebase_at) = (config.warmup / 4, config.warmup / 2);
    let mut collected: Vec<Vec<f64>> = Vec::new();
    for sweep in 0..config.sweeps() {
        let mut rng = UniformStream::new(config.seed, chain, 0, 0, sweep, Stream::Hyper);
        for k in 0..basis.dims() {
            let dir = basis.direction(k);
            let image = basis.image(k);
            let (t, lp) = slice_update(
                0.0,
                log_post,
                basis.width(k),
                |t| target.along(&th, &lin, &dir, image, t),
                &mut rng,
            );
            for (v, d) in th.iter_mut().zip(&dir) {
                *v += t * d;
            }
            for (l, m) in lin.iter_mut().zip(image) {
                *l += t * m;
            }
            log_post = lp;
        }
        if sweep < config.warmup {
            basis.observe(&th);
            if sweep >= collect_from && sweep < rebase_at {
                collected.push(th.clone());
            }
            if sweep + 1 == rebase_at {
                if let Some(b) = Basis::from_draws(target, &collected) {
                    basis = b;
                }
            }
        } else if (sweep - config.warmup + 1).is_multiple_of(config.thin) {
            let draw = ((sweep - config.warmup + 1) / config.thin - 1) as usize;
            store_draw(target, &th, &lin, config, chain, sweep, draw, &mut values);
        }
        if chain == 0 {
            if let Some(f) = on_sweep {
                f();
            }
        }
    }
    values
}

/// Thetas from their conjugate Betas given (beta, kappa), then the coefficients and kappa.
#[allow(clippy::too_many_arguments)]
fn store_draw(
    target: &Target,
    th: &[f64],
    lin: &[f64],
    config: &RegressionConfig,
    chain: u32,
    sweep: u32,
    draw: usize,
    values: &mut [f64],
) {
    let n_draws = config.draws as usize;
    let kappa = th[target.cols].exp();
    for i in 0..target.rows {
        let (a, b) = shapes(lin[i], kappa);
        let mut rng = UniformStream::new(config.seed, chain, i as u32, 0, sweep, Stream::ThetaA);
        let (y, n) = (f64::from(target.y[i]), f64::from(target.n[i]));
        values[i * n_draws + draw] = beta(y + a, n - y + b, &mut rng);
    }
    for j in 0..target.cols {
        values[(target.rows + j) * n_draws + draw] = th[j];
    }
    values[(target.rows + target.cols) * n_draws + draw] = kappa;
}

/// The start: the least-squares coefficients of the empirical logits, jittered in the QR
/// coordinates, and a uniform log kappa; the unjittered line through logit 0 if that point
/// has no density (a shape out of range).
fn initial_state(
    target: &Target,
    r_star: &[f64],
    start_gamma: &[f64],
    seed: u32,
    chain: u32,
) -> Vec<f64> {
    let cols = target.cols;
    let mut rng = UniformStream::new(seed, chain, 0, 0, 0, Stream::Init);
    let gamma: Vec<f64> = start_gamma
        .iter()
        .map(|g| g + INIT_JITTER * (2.0 * rng.next_f64() - 1.0))
        .collect();
    let r_inv = super::linalg::invert_upper(r_star, cols);
    let mut th = mat_vec(&r_inv, cols, cols, &gamma);
    let (lo, hi) = INIT_LOG_KAPPA;
    th.push(lo + (hi - lo) * rng.next_f64());
    if target.at(&th, &target.linear_predictor(&th)).is_finite() {
        return th;
    }
    th[..cols].fill(0.0);
    th
}

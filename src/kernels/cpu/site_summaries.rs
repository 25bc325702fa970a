//! CPU twin of site_summaries.wgsl: the same f32 operations in the same order, the
//! workgroup's invocations taken one after another (their partial sums and the tree that
//! joins them included), so that the two agree to rounding the compilers may add.

use rayon::prelude::*;

use crate::kernels::summary_layout::{SummaryParams, SUMMARY_STRIDE, SUMMARY_WORKGROUP};

const LANES: usize = SUMMARY_WORKGROUP as usize;

/// The summaries of every (site, quantity) of `draws` (per site, chain and draw,
/// `params.stride` values), `SUMMARY_STRIDE` floats each; `scores` is the normal score of
/// each rank among the split draws, by twice the rank.
pub fn site_summaries(params: &SummaryParams, draws: &[f32], scores: &[f32]) -> Vec<f32> {
    let jobs = params.n_sites as usize * params.quantities();
    let mut out = vec![0.0f32; jobs * SUMMARY_STRIDE];
    out.par_chunks_mut(SUMMARY_STRIDE)
        .enumerate()
        .for_each(|(job, row)| row.copy_from_slice(&summarize_job(params, draws, scores, job)));
    out
}

/// The shader's tree over the invocations' partial sums.
fn reduce_sum(mut partial: [f32; LANES]) -> f32 {
    let mut half = LANES / 2;
    while half > 0 {
        for lane in 0..half {
            partial[lane] += partial[lane + half];
        }
        half /= 2;
    }
    partial[0]
}

/// Each invocation's sum of f over its indices lid, lid + LANES, ... below n, then the tree.
fn workgroup_sum(n: usize, f: impl Fn(usize) -> f32) -> f32 {
    let mut partial = [0.0f32; LANES];
    for (lane, p) in partial.iter_mut().enumerate() {
        for i in (lane..n).step_by(LANES) {
            *p += f(i);
        }
    }
    reduce_sum(partial)
}

/// Each split chain's mean and sample variance of `z` (h draws each).
fn chain_moments(z: &[f32], h: usize) -> Vec<(f32, f32)> {
    z.chunks_exact(h)
        .map(|chain| {
            let mut sum = 0.0f32;
            for &v in chain {
                sum += v;
            }
            let mean = sum / h as f32;
            let mut ss = 0.0f32;
            for &v in chain {
                let d = v - mean;
                ss += d * d;
            }
            (mean, ss / (h - 1) as f32)
        })
        .collect()
}

/// Mean and sample variance of the split chains' means.
fn means_moments(moments: &[(f32, f32)]) -> (f32, f32) {
    let m = moments.len();
    let mut sum = 0.0f32;
    for &(mean, _) in moments {
        sum += mean;
    }
    let mean = sum / m as f32;
    let mut ss = 0.0f32;
    for &(v, _) in moments {
        let d = v - mean;
        ss += d * d;
    }
    (mean, ss / (m - 1) as f32)
}

fn rhat_of_moments(moments: &[(f32, f32)], h: usize) -> f32 {
    let n = h as f32;
    let between = n * means_moments(moments).1;
    let mut within = 0.0f32;
    for &(_, var) in moments {
        within += var;
    }
    within /= moments.len() as f32;
    ((between / within + n - 1.0) / n).sqrt()
}

/// The normal scores of `values` ranked among themselves (ties at their average rank).
fn score_ranks(values: &[f32], scores: &[f32]) -> Vec<f32> {
    values
        .iter()
        .map(|&v| {
            let (mut less, mut equal) = (0usize, 0usize);
            for &u in values {
                less += usize::from(u < v);
                equal += usize::from(u == v);
            }
            scores[2 * less + equal + 1]
        })
        .collect()
}

/// Order statistic k (from 0; the last beyond the end) by counting, as the shader's
/// invocations pick them: the value whose places, from its count of smaller values on, cover k.
fn order_stat(values: &[f32], k: usize) -> f32 {
    let k = k.min(values.len() - 1);
    values
        .iter()
        .copied()
        .find(|&v| {
            let less = values.iter().filter(|&&u| u < v).count();
            let equal = values.iter().filter(|&&u| u == v).count();
            less <= k && k < less + equal
        })
        .expect("every place holds a value")
}

/// a + b as the rounded sum and its exact error (Knuth's two-sum).
fn two_sum(a: f32, b: f32) -> (f32, f32) {
    let sum = a + b;
    let b_part = sum - a;
    let a_part = sum - b_part;
    (sum, (a - a_part) + (b - b_part))
}

/// numpy's _lerp, in f32.
fn lerp(a: f32, b: f32, t: f32) -> f32 {
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

/// Bulk ESS from the mean autocovariances and the split chains' moments (the shader's
/// ess_of_autocov, rho in its own array).
fn ess_of_autocov(acov: &[f32], moments: &[(f32, f32)], h: usize) -> f32 {
    let n = h as f32;
    let total = (moments.len() * h) as f32;
    let mean_var = acov[0] * n / (n - 1.0);
    let var_plus = mean_var * (n - 1.0) / n + means_moments(moments).1;
    let mut rho = vec![0.0f32; h];
    let mut rho_even = 1.0f32;
    rho[0] = rho_even;
    let mut rho_odd = 1.0 - (mean_var - acov[1]) / var_plus;
    rho[1] = rho_odd;
    let mut t = 1;
    while t + 3 < h && rho_even + rho_odd > 0.0 {
        rho_even = 1.0 - (mean_var - acov[t + 1]) / var_plus;
        rho_odd = 1.0 - (mean_var - acov[t + 2]) / var_plus;
        if rho_even + rho_odd >= 0.0 {
            rho[t + 1] = rho_even;
            rho[t + 2] = rho_odd;
        }
        t += 2;
    }
    let max_t_plus_1 = t - 1;
    if rho_even > 0.0 {
        rho[max_t_plus_1] = rho_even;
    }
    let mut t = 1;
    while t + 3 <= max_t_plus_1 {
        let prev = rho[t - 1] + rho[t];
        if rho[t + 1] + rho[t + 2] > prev {
            rho[t + 1] = prev / 2.0;
            rho[t + 2] = prev / 2.0;
        }
        t += 2;
    }
    let mut sum = 0.0f32;
    for &r in &rho[..max_t_plus_1] {
        sum += r;
    }
    let tau = (-1.0 + 2.0 * sum + rho[max_t_plus_1]).max(1.0 / total.log2() * 10f32.log2());
    total / tau
}

/// One workgroup's (site, quantity) summary.
fn summarize_job(
    params: &SummaryParams,
    draws: &[f32],
    scores: &[f32],
    job: usize,
) -> [f32; SUMMARY_STRIDE] {
    let n_quantities = params.quantities();
    let (site, q) = (job / n_quantities, job % n_quantities);
    let (n_chains, n_draws) = (params.n_chains as usize, params.n_draws as usize);
    let pooled = n_chains * n_draws;
    let (h, m) = params.split();
    let n_split = m * h;
    let stride = params.stride as usize;
    let x: Vec<f32> = (0..pooled)
        .map(|i| {
            let base = (site * pooled + i) * stride;
            if q < params.n_direct as usize {
                draws[base + q]
            } else {
                draws[base + params.compare_second as usize]
                    - draws[base + params.compare_first as usize]
            }
        })
        .collect();
    let nan = f32::NAN;
    if x.iter().any(|v| !v.is_finite()) {
        return [nan; SUMMARY_STRIDE];
    }
    let first = x[0];
    if x.iter().all(|&v| v == first) {
        return [first, 0.0, first, first, nan, nan];
    }
    let mean = workgroup_sum(pooled, |i| x[i]) / pooled as f32;
    let sd = (workgroup_sum(pooled, |i| {
        let d = x[i] - mean;
        d * d
    }) / (pooled - 1) as f32)
        .sqrt();

    let split_index = |c: usize, d: usize| -> Option<usize> {
        if d < h {
            Some(c * h + d)
        } else if d >= n_draws - h {
            Some((n_chains + c) * h + d - (n_draws - h))
        } else {
            None
        }
    };
    let (low, high) = (params.low_index as usize, params.high_index as usize);
    let q_low = lerp(
        order_stat(&x, low),
        order_stat(&x, low + 1),
        params.low_gamma,
    );
    let q_high = lerp(
        order_stat(&x, high),
        order_stat(&x, high + 1),
        params.high_gamma,
    );
    let mut split = vec![0.0f32; n_split];
    for c in 0..n_chains {
        for d in 0..n_draws {
            if let Some(k) = split_index(c, d) {
                split[k] = x[c * n_draws + d];
            }
        }
    }
    let (sum, error) = two_sum(
        order_stat(&split, n_split / 2 - 1),
        order_stat(&split, n_split / 2),
    );

    // Bulk R-hat and ESS.
    let z = score_ranks(&split, scores);
    let moments = chain_moments(&z, h);
    let centred: Vec<f32> = z
        .iter()
        .enumerate()
        .map(|(i, &v)| v - moments[i / h].0)
        .collect();
    let acov: Vec<f32> = (0..h)
        .map(|t| {
            let mut total = 0.0f32;
            for c in 0..m {
                let mut dot = 0.0f32;
                for k in 0..h - t {
                    dot += centred[c * h + k] * centred[c * h + k + t];
                }
                total += dot / h as f32;
            }
            total / m as f32
        })
        .collect();
    let bulk_rhat = rhat_of_moments(&moments, h);
    let ess = ess_of_autocov(&acov, &moments, h);

    // Folded R-hat.
    let distances: Vec<f32> = split
        .iter()
        .map(|&v| ((2.0 * v - sum) - error).abs())
        .collect();
    let folded = rhat_of_moments(&chain_moments(&score_ranks(&distances, scores), h), h);
    let r_hat = match bulk_rhat.is_nan() || folded.is_nan() {
        true => nan,
        false => bulk_rhat.max(folded),
    };
    [mean, sd, q_low, q_high, r_hat, ess]
}

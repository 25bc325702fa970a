//! Empirical Bayes by the method of moments on the raw rates.

use super::data::validate;

/// EB by the method of moments on the raw rates (BDA3 ch. 5): (alpha, beta) with the
/// rates' mean and sample variance (k - 1 denominator); Err when no proper Beta matches.
pub fn eb_moments(y: &[u32], n: &[u32]) -> Result<[f64; 2], String> {
    validate(y, n, 2)?;
    let rates: Vec<f64> = y
        .iter()
        .zip(n)
        .map(|(&a, &b)| f64::from(a) / f64::from(b))
        .collect();
    let k = rates.len() as f64;
    let m = rates.iter().sum::<f64>() / k;
    let v = rates.iter().map(|r| (r - m) * (r - m)).sum::<f64>() / (k - 1.0);
    // Equal rates compared exactly (y_i n_0 = y_0 n_i): rounding would leave a tiny v > 0.
    let all_equal = y
        .iter()
        .zip(n)
        .all(|(&a, &b)| u64::from(a) * u64::from(n[0]) == u64::from(y[0]) * u64::from(b));
    if all_equal || v == 0.0 {
        return Err(format!(
            "EB moments: every raw rate y_i/n_i equals {m}: zero variance, so the moments give no proper Beta (no overdispersion to estimate)"
        ));
    }
    let concentration = m * (1.0 - m) / v - 1.0;
    if concentration.is_nan() || concentration <= 0.0 {
        return Err(format!(
            "EB moments: the raw rates' variance {v:.4} reaches m(1 - m) = {:.4} (mean {m:.4}), so alpha + beta = m(1 - m)/v - 1 = {concentration:.4} <= 0: no proper Beta",
            m * (1.0 - m)
        ));
    }
    Ok([m * concentration, (1.0 - m) * concentration])
}

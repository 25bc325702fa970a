//! The one-level data (y_i successes of n_i trials): the checks every rung runs first,
//! and the totals.

/// Checks the data: equal lengths, at least `min_units` units, n_i >= 1 and y_i <= n_i.
pub fn validate(y: &[u32], n: &[u32], min_units: usize) -> Result<(), String> {
    if y.len() != n.len() {
        return Err(format!(
            "{} success counts but {} trial counts: the lengths must match",
            y.len(),
            n.len()
        ));
    }
    if y.len() < min_units.max(1) {
        return Err(format!(
            "{} units: this estimator needs at least {}",
            y.len(),
            min_units.max(1)
        ));
    }
    for (i, (&yi, &ni)) in y.iter().zip(n).enumerate() {
        if ni == 0 {
            return Err(format!("unit {}: n = 0 trials (need n >= 1)", i + 1));
        }
        if yi > ni {
            return Err(format!(
                "unit {}: y = {yi} successes > n = {ni} trials",
                i + 1
            ));
        }
    }
    Ok(())
}

/// (Σy, Σn) as f64.
pub(super) fn totals(y: &[u32], n: &[u32]) -> (f64, f64) {
    (
        y.iter().map(|&v| f64::from(v)).sum(),
        n.iter().map(|&v| f64::from(v)).sum(),
    )
}

//! Full column rank, checked by Gram–Schmidt in column order: the first column that is a
//! combination of earlier ones is reported with that combination, found by least squares.

/// R's qr() tolerance: a column whose part orthogonal to the earlier columns is below this
/// fraction of its norm is taken as their combination.
pub(super) const RANK_TOLERANCE: f64 = 1e-7;

/// Weights below this fraction of the column's norm (each scaled by its column's norm) are
/// rounding, not part of the combination.
const NEGLIGIBLE_WEIGHT: f64 = 1e-6;

/// The first dependent column and the earlier columns (index, weight) that make it up.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Dependence {
    pub column: usize,
    pub combination: Vec<(usize, f64)>,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `None` when the columns are linearly independent.
pub(super) fn first_dependence(columns: &[Vec<f64>]) -> Option<Dependence> {
    let mut q: Vec<Vec<f64>> = Vec::new();
    // r[j] holds column j's coordinates on q[0..=j]: X = Q R with R upper triangular.
    let mut r: Vec<Vec<f64>> = Vec::new();
    for (j, x) in columns.iter().enumerate() {
        let mut v = x.clone();
        let mut coords = vec![0.0; q.len()];
        // Two passes of modified Gram–Schmidt: the second removes what rounding left.
        for _ in 0..2 {
            for (k, qk) in q.iter().enumerate() {
                let p = dot(qk, &v);
                v.iter_mut().zip(qk).for_each(|(vi, qi)| *vi -= p * qi);
                coords[k] += p;
            }
        }
        let scale = dot(x, x).sqrt();
        let rest = dot(&v, &v).sqrt();
        if rest <= RANK_TOLERANCE * scale || scale == 0.0 {
            // Least squares on the earlier columns: solve R c = Q'x by back substitution.
            let mut c = coords;
            for k in (0..c.len()).rev() {
                c[k] /= r[k][k];
                for i in 0..k {
                    c[i] -= r[k][i] * c[k];
                }
            }
            let combination = c
                .into_iter()
                .enumerate()
                .filter(|&(k, w)| {
                    (w * dot(&columns[k], &columns[k]).sqrt()).abs() > NEGLIGIBLE_WEIGHT * scale
                })
                .collect();
            return Some(Dependence {
                column: j,
                combination,
            });
        }
        v.iter_mut().for_each(|vi| *vi /= rest);
        coords.push(rest);
        q.push(v);
        r.push(coords);
    }
    None
}

/// `a - 2*b + 0.5*c`: the combination written with the columns' names.
pub(super) fn write_combination(names: &[String], combination: &[(usize, f64)]) -> String {
    let mut out = String::new();
    for (i, &(k, w)) in combination.iter().enumerate() {
        let sign = if w < 0.0 { "-" } else { "+" };
        match (i, sign) {
            (0, "-") => out.push('-'),
            (0, _) => {}
            _ => out.push_str(&format!(" {sign} ")),
        }
        let a = w.abs();
        if (a - 1.0).abs() > 1e-9 {
            let rounded = (a * 1e4).round() / 1e4;
            out.push_str(&format!("{rounded}*"));
        }
        out.push_str(&names[k]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn independent_columns_pass() {
        let cols = vec![
            vec![1.0, 1.0, 1.0],
            vec![0.0, 1.0, 0.0],
            vec![0.0, 0.0, 1.0],
        ];
        assert_eq!(first_dependence(&cols), None);
    }

    #[test]
    fn a_combination_is_found_with_its_weights() {
        let cols = vec![
            vec![1.0, 1.0, 1.0, 1.0],
            vec![0.0, 1.0, 0.0, 1.0],
            vec![1.0, 0.0, 0.0, 0.0],
            vec![1.0, 0.0, 1.0, 0.0],
        ];
        let d = first_dependence(&cols).unwrap();
        assert_eq!(d.column, 3);
        let w: Vec<(usize, f64)> = d
            .combination
            .iter()
            .map(|&(k, w)| (k, (w * 1e9).round() / 1e9))
            .collect();
        assert_eq!(w, [(0, 1.0), (1, -1.0)]);
        let names = ["(Intercept)", "b", "c", "d"].map(String::from);
        assert_eq!(write_combination(&names, &w), "(Intercept) - b");
        assert_eq!(
            write_combination(&names, &[(1, -2.5), (2, 0.5)]),
            "-2.5*b + 0.5*c"
        );
    }

    #[test]
    fn a_zero_column_is_dependent_on_nothing() {
        let cols = vec![vec![1.0, 1.0], vec![0.0, 0.0]];
        let d = first_dependence(&cols).unwrap();
        assert_eq!((d.column, d.combination.len()), (1, 0));
    }
}

//! The small dense algebra of the regression sampler: a thin QR of the design, a Cholesky
//! factor of a covariance, and the inverses of their triangles. Matrices are row-major.

/// A column of the design whose part orthogonal to the earlier columns is below this share
/// of its own norm is a linear combination of them: its coefficient is not identified.
const RANK_TOLERANCE: f64 = 1e-9;

/// Thin QR of the `rows × cols` matrix `x` by modified Gram-Schmidt: (Q, R) with Q
/// `rows × cols` orthonormal and R `cols × cols` upper triangular, or the first column that
/// depends on the earlier ones.
pub(super) fn thin_qr(x: &[f64], rows: usize, cols: usize) -> Result<(Vec<f64>, Vec<f64>), usize> {
    let mut q = x.to_vec();
    let mut r = vec![0.0; cols * cols];
    for j in 0..cols {
        let norm0 = (0..rows)
            .map(|i| q[i * cols + j].powi(2))
            .sum::<f64>()
            .sqrt();
        for k in 0..j {
            let dot: f64 = (0..rows).map(|i| q[i * cols + k] * q[i * cols + j]).sum();
            r[k * cols + j] = dot;
            for i in 0..rows {
                q[i * cols + j] -= dot * q[i * cols + k];
            }
        }
        let norm = (0..rows)
            .map(|i| q[i * cols + j].powi(2))
            .sum::<f64>()
            .sqrt();
        if norm.is_nan() || norm <= RANK_TOLERANCE * norm0 {
            return Err(j);
        }
        r[j * cols + j] = norm;
        for i in 0..rows {
            q[i * cols + j] /= norm;
        }
    }
    Ok((q, r))
}

/// Lower Cholesky factor L of the symmetric `d × d` matrix `s` (s = L Lᵀ), or None when
/// `s` is not positive definite.
pub(super) fn cholesky(s: &[f64], d: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..=i {
            let sum: f64 = (0..j).map(|k| l[i * d + k] * l[j * d + k]).sum();
            if i == j {
                let pivot = s[i * d + i] - sum;
                if pivot.is_nan() || pivot <= 0.0 {
                    return None;
                }
                l[i * d + i] = pivot.sqrt();
            } else {
                l[i * d + j] = (s[i * d + j] - sum) / l[j * d + j];
            }
        }
    }
    Some(l)
}

/// Inverse of the `d × d` lower triangular `l`, itself lower triangular.
pub(super) fn invert_lower(l: &[f64], d: usize) -> Vec<f64> {
    let mut inv = vec![0.0; d * d];
    for col in 0..d {
        // Forward substitution for L x = e_col.
        for i in col..d {
            let rhs = if i == col { 1.0 } else { 0.0 };
            let sum: f64 = (col..i).map(|k| l[i * d + k] * inv[k * d + col]).sum();
            inv[i * d + col] = (rhs - sum) / l[i * d + i];
        }
    }
    inv
}

/// Transpose of a `d × d` matrix.
pub(super) fn transpose(m: &[f64], d: usize) -> Vec<f64> {
    (0..d * d).map(|k| m[(k % d) * d + k / d]).collect()
}

/// Inverse of the `d × d` upper triangular `u`, itself upper triangular.
pub(super) fn invert_upper(u: &[f64], d: usize) -> Vec<f64> {
    transpose(&invert_lower(&transpose(u, d), d), d)
}

/// `m v` for the `rows × cols` matrix `m`.
pub(super) fn mat_vec(m: &[f64], rows: usize, cols: usize, v: &[f64]) -> Vec<f64> {
    (0..rows)
        .map(|i| (0..cols).map(|j| m[i * cols + j] * v[j]).sum())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mat_mul(a: &[f64], b: &[f64], n: usize, k: usize, m: usize) -> Vec<f64> {
        (0..n * m)
            .map(|ij| (0..k).map(|l| a[ij / m * k + l] * b[l * m + ij % m]).sum())
            .collect()
    }

    fn close(a: &[f64], b: &[f64]) {
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-12, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn qr_reproduces_the_matrix_and_finds_dependent_columns() {
        let x = [1.0, 0.0, 2.0, 1.0, 1.0, 5.0, 1.0, 1.0, -1.0, 1.0, 0.0, 3.0];
        let (q, r) = thin_qr(&x, 4, 3).unwrap();
        close(&mat_mul(&q, &r, 4, 3, 3), &x);
        close(
            &mat_mul(&transpose_rect(&q, 4, 3), &q, 3, 4, 3),
            &[1., 0., 0., 0., 1., 0., 0., 0., 1.],
        );
        // The third column is the first plus twice the second.
        let dependent = [1.0, 0.0, 1.0, 1.0, 1.0, 3.0, 1.0, 1.0, 3.0];
        assert_eq!(thin_qr(&dependent, 3, 3), Err(2));
    }

    fn transpose_rect(m: &[f64], rows: usize, cols: usize) -> Vec<f64> {
        (0..rows * cols)
            .map(|k| m[(k % rows) * cols + k / rows])
            .collect()
    }

    #[test]
    fn cholesky_and_triangular_inverses() {
        let s = [4.0, 2.0, 0.4, 2.0, 3.0, 0.5, 0.4, 0.5, 2.0];
        let l = cholesky(&s, 3).unwrap();
        close(&mat_mul(&l, &transpose(&l, 3), 3, 3, 3), &s);
        let identity = [1., 0., 0., 0., 1., 0., 0., 0., 1.];
        close(&mat_mul(&l, &invert_lower(&l, 3), 3, 3, 3), &identity);
        let u = transpose(&l, 3);
        close(&mat_mul(&u, &invert_upper(&u, 3), 3, 3, 3), &identity);
        assert!(cholesky(&[1.0, 2.0, 2.0, 1.0], 2).is_none());
    }
}

//! Dense symmetric-matrix helpers for the portfolio risk model: Cholesky factorisation,
//! the Jacobi eigenvalue method, and the nearest positive-definite repair of a covariance
//! matrix. Matrices are `n × n`, row-major, in a `Vec<f64>`.

// Index loops over dense matrices read like the formulas they implement.
#![allow(clippy::needless_range_loop)]

/// Lower-triangular Cholesky factor `L` with `A = L Lᵀ`, or `None` when `A` is not
/// numerically positive definite: a pivot at or below `1e-12 ×` its diagonal element (a
/// direction with no variance of its own, such as a duplicated column) counts as singular.
pub(crate) fn cholesky(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                if s <= 1e-12 * a[i * n + i].abs() || !s.is_finite() {
                    return None;
                }
                l[i * n + i] = s.sqrt();
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    }
    Some(l)
}

/// Eigenvalues and eigenvectors (columns of the returned matrix) of a symmetric matrix by
/// the cyclic Jacobi method.
pub(crate) fn symmetric_eigen(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut m = a.to_vec();
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i * n + j].powi(2))
            .sum();
        let scale: f64 = (0..n).map(|i| m[i * n + i].powi(2)).sum::<f64>().max(f64::MIN_POSITIVE);
        if off <= 1e-30 * scale {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = m[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (m[q * n + q] - m[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (mkp, mkq) = (m[k * n + p], m[k * n + q]);
                    m[k * n + p] = c * mkp - s * mkq;
                    m[k * n + q] = s * mkp + c * mkq;
                }
                for k in 0..n {
                    let (mpk, mqk) = (m[p * n + k], m[q * n + k]);
                    m[p * n + k] = c * mpk - s * mqk;
                    m[q * n + k] = s * mpk + c * mqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| m[i * n + i]).collect(), v)
}

/// The positive-definite matrix nearest to symmetric `a` in the Frobenius norm, up to a
/// floor: eigenvalues below `1e-10 ×` the largest are raised to that floor (negative ones
/// included), and the matrix is rebuilt from its eigenvectors. Returns the repaired matrix
/// and its Cholesky factor.
pub(crate) fn nearest_positive_definite(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let (values, vectors) = symmetric_eigen(a, n);
    let largest = values.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(f64::MIN_POSITIVE);
    let mut floor = 1e-10 * largest;
    loop {
        let clipped: Vec<f64> = values.iter().map(|&l| l.max(floor)).collect();
        let mut out = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
                let s: f64 = (0..n).map(|k| vectors[i * n + k] * clipped[k] * vectors[j * n + k]).sum();
                out[i * n + j] = s;
                out[j * n + i] = s;
            }
        }
        if let Some(l) = cholesky(&out, n) {
            return (out, l);
        }
        floor *= 10.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_reconstructs() {
        let a = [4.0, 2.0, 0.4, 2.0, 5.0, 1.0, 0.4, 1.0, 3.0];
        let l = cholesky(&a, 3).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let s: f64 = (0..3).map(|k| l[i * 3 + k] * l[j * 3 + k]).sum();
                assert!((s - a[i * 3 + j]).abs() < 1e-14);
            }
        }
        assert!(cholesky(&[1.0, 2.0, 2.0, 1.0], 2).is_none());
    }

    #[test]
    fn eigen_decomposition_of_a_known_matrix() {
        let (mut vals, _) = symmetric_eigen(&[2.0, 1.0, 1.0, 2.0], 2);
        vals.sort_by(f64::total_cmp);
        assert!((vals[0] - 1.0).abs() < 1e-14 && (vals[1] - 3.0).abs() < 1e-14);
    }

    #[test]
    fn repair_of_an_indefinite_correlation_matrix() {
        // pairwise correlations 0.9, 0.9, -0.9 cannot hold together
        let a = [1.0, 0.9, 0.9, 0.9, 1.0, -0.9, 0.9, -0.9, 1.0];
        assert!(cholesky(&a, 3).is_none());
        let (fixed, l) = nearest_positive_definite(&a, 3);
        let (vals, _) = symmetric_eigen(&fixed, 3);
        assert!(vals.iter().all(|&v| v > 0.0));
        assert!(l.iter().all(|v| v.is_finite()));
        // the repair only removes the negative eigen-direction: the positive part stays
        let (orig, _) = symmetric_eigen(&a, 3);
        let mut o: Vec<f64> = orig.into_iter().filter(|v| *v > 0.0).collect();
        let mut f: Vec<f64> = vals.into_iter().filter(|v| *v > 1e-6).collect();
        o.sort_by(f64::total_cmp);
        f.sort_by(f64::total_cmp);
        assert_eq!(o.len(), f.len());
        for (x, y) in o.iter().zip(&f) {
            assert!((x - y).abs() < 1e-12);
        }
    }
}

//! Small deterministic optimisers for the analytics' maximum-likelihood fits: an
//! active-set damped Newton method for smooth objectives under linear inequality
//! constraints, and Nelder–Mead for unconstrained minimisation. Four parameters at most,
//! dense and allocation-free; private to the crate.

// Index loops over small dense matrices read like the formulas they implement.
#![allow(clippy::needless_range_loop)]

/// A parameter vector.
pub(crate) type Vec4 = [f64; 4];
/// A 4 × 4 matrix, row-major.
pub(crate) type Mat4 = [[f64; 4]; 4];

/// A linear inequality constraint `a · x ≥ b`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Constraint {
    pub a: Vec4,
    pub b: f64,
}

impl Constraint {
    fn slack(&self, x: &Vec4) -> f64 {
        dot(&self.a, x) - self.b
    }
}

/// What the Newton method reached.
#[derive(Debug, Clone)]
pub(crate) struct NewtonOutcome {
    pub x: Vec4,
    pub iterations: usize,
    pub converged: bool,
}

fn dot(a: &Vec4, b: &Vec4) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3]
}

/// Solve the `k × k` symmetric positive-definite system `m x = rhs` (top-left block of `m`)
/// by Cholesky; `None` when `m` is not positive definite.
fn cholesky_solve(m: &Mat4, k: usize, rhs: &Vec4) -> Option<Vec4> {
    let mut l = [[0.0; 4]; 4];
    for i in 0..k {
        for j in 0..=i {
            let mut s = m[i][j];
            for p in 0..j {
                s -= l[i][p] * l[j][p];
            }
            if i == j {
                if s <= 0.0 || !s.is_finite() {
                    return None;
                }
                l[i][i] = s.sqrt();
            } else {
                l[i][j] = s / l[j][j];
            }
        }
    }
    let mut y = [0.0; 4];
    for i in 0..k {
        let mut s = rhs[i];
        for p in 0..i {
            s -= l[i][p] * y[p];
        }
        y[i] = s / l[i][i];
    }
    let mut x = [0.0; 4];
    for i in (0..k).rev() {
        let mut s = y[i];
        for p in i + 1..k {
            s -= l[p][i] * x[p];
        }
        x[i] = s / l[i][i];
    }
    Some(x)
}

/// An orthonormal basis of the vectors orthogonal to every given normal.
fn null_space(normals: &[Vec4]) -> Vec<Vec4> {
    let mut q: Vec<Vec4> = Vec::with_capacity(4);
    for a in normals {
        let mut v = *a;
        for u in &q {
            let d = dot(&v, u);
            for i in 0..4 {
                v[i] -= d * u[i];
            }
        }
        let n = dot(&v, &v).sqrt();
        if n > 1e-10 {
            q.push(v.map(|c| c / n));
        }
    }
    let rank = q.len();
    let mut z: Vec<Vec4> = Vec::with_capacity(4 - rank);
    for e in 0..4 {
        if z.len() + rank == 4 {
            break;
        }
        let mut v = [0.0; 4];
        v[e] = 1.0;
        for u in q.iter().chain(z.iter()) {
            let d = dot(&v, u);
            for i in 0..4 {
                v[i] -= d * u[i];
            }
        }
        let n = dot(&v, &v).sqrt();
        if n > 1e-6 {
            z.push(v.map(|c| c / n));
        }
    }
    z
}

/// Least-squares Lagrange multipliers `ν` of the active constraints for a maximisation:
/// `g + Σ ν_k a_k ≈ 0`; a negative `ν_k` means the objective increases into the interior.
fn multipliers(normals: &[Vec4], g: &Vec4) -> Vec<f64> {
    let m = normals.len();
    let mut ata = [[0.0; 4]; 4];
    let mut rhs = [0.0; 4];
    for i in 0..m {
        rhs[i] = -dot(&normals[i], g);
        for j in 0..m {
            ata[i][j] = dot(&normals[i], &normals[j]);
        }
    }
    cholesky_solve(&ata, m, &rhs).map_or_else(|| vec![0.0; m], |v| v[..m].to_vec())
}

/// Maximise a smooth `f` subject to `constraints` (`a·x ≥ b`) by an active-set Newton
/// method with Levenberg–Marquardt damping. `full` returns value, gradient and Hessian;
/// `value` only the value; `project` snaps a point exactly into the feasible set. The
/// start must be feasible.
///
/// Converges when the Newton decrement on the current face is below `1e-12` (the objective
/// is then within `5e-13` of the face's maximum) and no active constraint has a negative
/// multiplier.
pub(crate) fn active_set_newton(
    start: Vec4,
    constraints: &[Constraint],
    max_iter: usize,
    mut full: impl FnMut(&Vec4) -> (f64, Vec4, Mat4),
    mut value: impl FnMut(&Vec4) -> f64,
    project: impl Fn(&mut Vec4),
) -> NewtonOutcome {
    const DECREMENT_TOL: f64 = 1e-12;
    let mut x = start;
    project(&mut x);
    let mut active: Vec<bool> = constraints.iter().map(|c| c.slack(&x) <= 0.0).collect();
    let (mut f, mut g, mut h) = full(&x);
    let mut lambda = 0.0f64;
    let mut last_dropped: Option<usize> = None;
    // `_why` documents each exit at its call site.
    let outcome =
        |x: Vec4, _f: f64, iterations: usize, converged: bool, _why: &str| NewtonOutcome { x, iterations, converged };
    if !f.is_finite() {
        return outcome(x, f, 0, false, "the objective is not finite at the start");
    }
    for iter in 1..=max_iter {
        let active_idx: Vec<usize> = (0..constraints.len()).filter(|&k| active[k]).collect();
        let normals: Vec<Vec4> = active_idx.iter().map(|&k| constraints[k].a).collect();
        let z = null_space(&normals);
        let k = z.len();
        let mut gz = [0.0; 4];
        let mut m = [[0.0; 4]; 4];
        for i in 0..k {
            gz[i] = dot(&z[i], &g);
            let mut hz = [0.0; 4];
            for r in 0..4 {
                hz[r] = dot(&h[r], &z[i]);
            }
            for j in 0..k {
                m[j][i] = -dot(&z[j], &hz);
            }
        }
        let decrement = if k == 0 {
            Some(0.0)
        } else {
            cholesky_solve(&m, k, &gz).map(|q| (0..k).map(|i| q[i] * gz[i]).sum::<f64>())
        };
        if decrement.is_some_and(|d| d < DECREMENT_TOL) {
            let nu = multipliers(&normals, &g);
            let worst = nu
                .iter()
                .enumerate()
                .filter(|(_, v)| **v < -1e-6)
                .min_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, _)| active_idx[i]);
            match worst {
                Some(kc) if last_dropped != Some(kc) => {
                    active[kc] = false;
                    last_dropped = Some(kc);
                    lambda = 0.0;
                    continue;
                }
                _ => return outcome(x, f, iter, true, "converged"),
            }
        }
        let mut accepted = false;
        for _ in 0..80 {
            let mut damped = m;
            let max_diag = (0..k).map(|i| m[i][i].abs()).fold(0.0f64, f64::max).max(1e-300);
            for i in 0..k {
                damped[i][i] += lambda * m[i][i].abs().max(1e-12 * max_diag);
            }
            let Some(q) = cholesky_solve(&damped, k, &gz) else {
                lambda = if lambda == 0.0 { 1e-6 } else { lambda * 10.0 };
                continue;
            };
            let mut p = [0.0; 4];
            for i in 0..k {
                for r in 0..4 {
                    p[r] += q[i] * z[i][r];
                }
            }
            let mut tau = 1.0f64;
            let mut blocking = None;
            for (kc, c) in constraints.iter().enumerate() {
                if active[kc] {
                    continue;
                }
                let ap = dot(&c.a, &p);
                if ap < 0.0 {
                    let t = (c.slack(&x) / -ap).max(0.0);
                    if t < tau {
                        tau = t;
                        blocking = Some(kc);
                    }
                }
            }
            let mut trial = [x[0] + tau * p[0], x[1] + tau * p[1], x[2] + tau * p[2], x[3] + tau * p[3]];
            project(&mut trial);
            let f_trial = value(&trial);
            if f_trial.is_finite() && f_trial >= f - 1e-12 * f.abs().max(1.0) {
                if let Some(kc) = blocking {
                    if tau <= 1e-14 && last_dropped == Some(kc) {
                        // the constraint just released binds again at once: a face maximum
                        return outcome(x, f, iter, true, "converged on a constraint");
                    }
                    active[kc] = true;
                }
                x = trial;
                lambda = if lambda < 1e-9 { 0.0 } else { lambda / 10.0 };
                accepted = true;
                break;
            }
            lambda = if lambda == 0.0 { 1e-6 } else { lambda * 10.0 };
        }
        if !accepted {
            return outcome(x, f, iter, false, "no step increased the objective");
        }
        last_dropped = None;
        (f, g, h) = full(&x);
        if !f.is_finite() {
            return outcome(x, f, iter, false, "the objective became non-finite");
        }
    }
    outcome(x, f, max_iter, false, "iteration limit reached")
}

/// What Nelder–Mead reached.
#[derive(Debug, Clone)]
pub(crate) struct NelderMeadOutcome {
    pub x: Vec4,
    pub iterations: usize,
}

/// Minimise `f` by Nelder–Mead (reflection 1, expansion 2, contraction ½, shrink ½) from
/// `start` with initial steps `step`, stopping after `max_iter` iterations or when the
/// simplex's function values span less than `ftol · (|f_best| + 1e-30)`.
pub(crate) fn nelder_mead(
    start: Vec4,
    step: &Vec4,
    max_iter: usize,
    ftol: f64,
    mut f: impl FnMut(&Vec4) -> f64,
) -> NelderMeadOutcome {
    let mut eval = |x: &Vec4| {
        let v = f(x);
        if v.is_nan() { f64::INFINITY } else { v }
    };
    let mut simplex: Vec<(Vec4, f64)> = Vec::with_capacity(5);
    simplex.push((start, eval(&start)));
    for i in 0..4 {
        let mut x = start;
        x[i] += step[i];
        let v = eval(&x);
        simplex.push((x, v));
    }
    let mut iterations = 0;
    while iterations < max_iter {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (best, worst) = (simplex[0].1, simplex[4].1);
        if (worst - best).abs() <= ftol * (best.abs() + 1e-30) {
            break;
        }
        iterations += 1;
        let mut centroid = [0.0; 4];
        for (x, _) in &simplex[..4] {
            for i in 0..4 {
                centroid[i] += x[i] / 4.0;
            }
        }
        let along = |t: f64, w: &Vec4| {
            let mut x = [0.0; 4];
            for i in 0..4 {
                x[i] = centroid[i] + t * (w[i] - centroid[i]);
            }
            x
        };
        let w = simplex[4].0;
        let xr = along(-1.0, &w);
        let fr = eval(&xr);
        if fr < simplex[0].1 {
            let xe = along(-2.0, &w);
            let fe = eval(&xe);
            simplex[4] = if fe < fr { (xe, fe) } else { (xr, fr) };
        } else if fr < simplex[3].1 {
            simplex[4] = (xr, fr);
        } else {
            let (xc, fc) = if fr < worst {
                let xc = along(-0.5, &w);
                (xc, eval(&xc))
            } else {
                let xc = along(0.5, &w);
                (xc, eval(&xc))
            };
            if fc < worst.min(fr) {
                simplex[4] = (xc, fc);
            } else {
                let b = simplex[0].0;
                for item in simplex.iter_mut().skip(1) {
                    let mut x = [0.0; 4];
                    for i in 0..4 {
                        x[i] = b[i] + 0.5 * (item.0[i] - b[i]);
                    }
                    *item = (x, eval(&x));
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    NelderMeadOutcome { x: simplex[0].0, iterations }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nelder_mead_finds_the_rosenbrock_minimum() {
        let rosen =
            |x: &Vec4| (0..3).map(|i| 100.0 * (x[i + 1] - x[i] * x[i]).powi(2) + (1.0 - x[i]).powi(2)).sum::<f64>();
        let out = nelder_mead([-1.2, 1.0, -0.5, 0.8], &[0.5; 4], 20_000, 1e-16, rosen);
        for v in out.x {
            assert!((v - 1.0).abs() < 1e-3, "{:?}", out.x);
        }
        assert!(rosen(&out.x) < 1e-8);
    }

    /// Concave quadratic `−½ (x − c)ᵀ A (x − c)` with its exact derivatives.
    fn quadratic(c: Vec4) -> impl Fn(&Vec4) -> (f64, Vec4, Mat4) {
        let a: Mat4 = [[4.0, 1.0, 0.0, 0.0], [1.0, 3.0, 0.5, 0.0], [0.0, 0.5, 2.0, 0.2], [0.0, 0.0, 0.2, 1.0]];
        move |x| {
            let d = [x[0] - c[0], x[1] - c[1], x[2] - c[2], x[3] - c[3]];
            let mut ad = [0.0; 4];
            for i in 0..4 {
                ad[i] = dot(&a[i], &d);
            }
            let h = a.map(|row| row.map(|v| -v));
            (-0.5 * dot(&d, &ad), ad.map(|v| -v), h)
        }
    }

    #[test]
    fn newton_reaches_an_interior_maximum_in_one_step() {
        let q = quadratic([0.3, -0.2, 0.1, 0.4]);
        let out = active_set_newton([0.0; 4], &[], 20, &q, |x| q(x).0, |_| {});
        assert!(out.converged);
        assert!(out.iterations <= 2);
        for (v, c) in out.x.iter().zip([0.3, -0.2, 0.1, 0.4]) {
            assert!((v - c).abs() < 1e-12);
        }
    }

    #[test]
    fn newton_stops_on_a_binding_constraint_with_the_right_kkt_point() {
        // unconstrained maximum at x2 + x3 = 1.2 > 1: the constraint x2 + x3 <= 1 binds
        let c = [0.0, 0.0, 0.7, 0.5];
        let q = quadratic(c);
        let cons = [
            Constraint { a: [0.0, 0.0, 1.0, 0.0], b: 0.0 },
            Constraint { a: [0.0, 0.0, 0.0, 1.0], b: 0.0 },
            Constraint { a: [0.0, 0.0, -1.0, -1.0], b: -1.0 },
        ];
        let project = |x: &mut Vec4| {
            x[2] = x[2].max(0.0);
            x[3] = x[3].max(0.0);
            if x[2] + x[3] > 1.0 {
                x[3] = 1.0 - x[2];
            }
        };
        let out = active_set_newton([0.0, 0.0, 0.1, 0.1], &cons, 50, &q, |x| q(x).0, project);
        assert!(out.converged, "{out:?}");
        assert!((out.x[2] + out.x[3] - 1.0).abs() < 1e-15);
        // on the face the gradient is parallel to the constraint normal (-1, -1) with a
        // positive multiplier: equal partial derivatives, both positive
        let (_, g, _) = q(&out.x);
        assert!((g[2] - g[3]).abs() < 1e-6, "{g:?}");
        assert!(g[2] > 0.0);
        // a start on the face whose maximum is interior leaves the face
        let q2 = quadratic([0.1, 0.2, 0.3, 0.2]);
        let out = active_set_newton([0.0, 0.0, 0.5, 0.5], &cons, 50, &q2, |x| q2(x).0, project);
        assert!(out.converged);
        assert!((out.x[2] - 0.3).abs() < 1e-9 && (out.x[3] - 0.2).abs() < 1e-9, "{out:?}");
    }

    #[test]
    fn null_space_is_orthonormal_and_orthogonal() {
        let normals = [[0.0, 0.0, -1.0, -1.0], [0.0, 0.0, 1.0, 0.0]];
        let z = null_space(&normals);
        assert_eq!(z.len(), 2);
        for u in &z {
            assert!((dot(u, u) - 1.0).abs() < 1e-15);
            for a in &normals {
                assert!(dot(u, a).abs() < 1e-15);
            }
        }
    }
}

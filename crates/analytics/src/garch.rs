//! GARCH(1,1) with a constant mean and normal errors, fitted by maximum likelihood with the
//! conventions of the Python `arch` package (`arch_model(y, mean='Constant', vol='GARCH',
//! p=1, q=1, dist='normal')`), so that a quant can check Crude against it.
//!
//! Model, for returns `y_t` exactly as given (the risk engine passes 100 × log returns, the
//! scale `arch` recommends):
//!
//! ```text
//! y_t = μ + ε_t,   ε_t ~ N(0, σ²_t)
//! σ²_t = ω + α ε²_{t−1} + β σ²_{t−1}
//! ```
//!
//! Conventions copied from `arch` 8.0.0:
//! - **Backcast**: the recursion starts from `σ²_0 = ω + (α + β)·b`, where `b` is the
//!   weighted mean of the first `min(75, n)` squared residuals `(y_t − ȳ)²` with weights
//!   `0.94^i` normalised to one ([`crate::ewma_seed`]). `b` is computed once, at the sample
//!   mean, and does not move with μ.
//! - **Variance bounds**: each `σ²_t` is kept within loose bounds derived from an EWMA of the
//!   residuals (`/1e6` and `×1e6` of it, floored at `var(ε)/1e8`, the upper bound between
//!   `1 + max ε²` and `1e7·(1 + max ε²)`); above the upper bound `u` a variance `s` becomes
//!   `u + ln(s/u)`. The bounds only bind at absurd parameter values.
//! - **Log-likelihood** `Σ −½ (ln 2π + ln σ²_t + ε²_t/σ²_t)`, the constant included.
//! - **Constraints**: `1e-8·v ≤ ω ≤ 10·v` (`v` the mean squared residual), `α ≥ 0`, `β ≥ 0`,
//!   `α + β ≤ 1` (the boundary `α + β = 1`, integrated GARCH, is allowed as in `arch`).
//! - **Starting values**: the best, by log-likelihood, of `arch`'s grid
//!   `α ∈ {0.01, 0.05, 0.1, 0.2}`, `α + β ∈ {0.5, 0.7, 0.9, 0.98}`, `ω = (1 − α − β)·v`,
//!   `μ = ȳ`.
//! - **Forecast**: `next_variance = ω + α ε²_n + β σ²_n`, the one-step variance made at the
//!   end of the sample (`forecast(horizon=1).variance`); `h` steps ahead
//!   `σ²_{n+h} = ω + (α + β) σ²_{n+h−1}`. As in `arch`'s `forecast`, the recursion that
//!   gives `σ²_n` here restarts from the backcast of the residuals about the *fitted* μ
//!   (the fit itself uses the sample mean), so `next_variance` can differ slightly from
//!   `ω + α ε²_n + β·last_variance`.
//!
//! The optimiser is Crude's own and deterministic: an active-set Newton method with
//! Levenberg–Marquardt damping on the analytic gradient and Hessian of the log-likelihood,
//! which handles the bounds exactly. If it stalls, or ends on the boundary of the
//! constraints (typically `α = 0, β = 1`: a variance drifting linearly from the backcast,
//! which can out-score the interior GARCH maximum on short samples), a Nelder–Mead search
//! on an unconstrained reparametrisation, started from the same starting values, looks for
//! an interior local maximum as `arch`'s local SLSQP search does, and Newton polishes it;
//! an interior maximum found that way is preferred. Newton converges to the maximum
//! itself, so the fit agrees with `arch` (whose SLSQP stops within about 1e-4 relative of
//! the maximum) to about 1e-4.

// Index loops over the 4 × 4 derivative arrays read like the formulas they implement.
#![allow(clippy::needless_range_loop)]

use crate::AnalyticsError;
use crate::optim::{self, Mat4, Vec4};
use crate::returns::{check_finite, mean};
use crate::vol::{RISKMETRICS_LAMBDA, ewma_seed};

const WHAT: &str = "GARCH(1,1)";

/// The fewest returns [`fit_garch11`] accepts. A meaningful fit needs hundreds.
pub const GARCH_MIN_OBSERVATIONS: usize = 10;

const LN_2PI: f64 = 1.837_877_066_409_345_3;

/// Newton iterations allowed per optimisation stage.
const NEWTON_MAX_ITER: usize = 200;

/// Parameters of a constant-mean GARCH(1,1), in the units of the returns it was fitted to
/// (for 100 × log returns: μ in percent, ω in percent squared).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Garch11Params {
    /// Constant mean μ.
    pub mu: f64,
    /// Variance intercept ω.
    pub omega: f64,
    /// ARCH coefficient α (weight of the last squared shock).
    pub alpha: f64,
    /// GARCH coefficient β (weight of the last variance).
    pub beta: f64,
}

impl Garch11Params {
    fn to_vec(self) -> Vec4 {
        [self.mu, self.omega, self.alpha, self.beta]
    }

    fn from_vec(v: Vec4) -> Self {
        Self { mu: v[0], omega: v[1], alpha: v[2], beta: v[3] }
    }
}

/// A fitted GARCH(1,1) (see the module documentation for the conventions).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Garch11Fit {
    /// Constant mean μ.
    pub mu: f64,
    /// Variance intercept ω.
    pub omega: f64,
    /// ARCH coefficient α.
    pub alpha: f64,
    /// GARCH coefficient β.
    pub beta: f64,
    /// Maximised log-likelihood, including the `−½ ln 2π` constants.
    pub loglik: f64,
    /// One-step-ahead variance forecast made at the end of the sample.
    pub next_variance: f64,
    /// Conditional variance of the last observation, `σ²_n`, from the fit's recursion
    /// (`arch`'s `conditional_volatility[-1]²`).
    pub last_variance: f64,
    /// The backcast that started the variance recursion.
    pub backcast: f64,
    /// Number of returns fitted.
    pub observations: usize,
    /// Optimiser iterations (Newton steps, plus Nelder–Mead iterations if it was needed).
    pub iterations: usize,
}

impl Garch11Fit {
    /// The fitted parameters.
    pub fn params(&self) -> Garch11Params {
        Garch11Params { mu: self.mu, omega: self.omega, alpha: self.alpha, beta: self.beta }
    }

    /// Persistence `α + β`.
    pub fn persistence(&self) -> f64 {
        self.alpha + self.beta
    }

    /// Long-run variance `ω / (1 − α − β)`, or `None` for an integrated fit (`α + β ≥ 1`).
    pub fn unconditional_variance(&self) -> Option<f64> {
        let p = self.persistence();
        (p < 1.0).then(|| self.omega / (1.0 - p))
    }

    /// Variance forecasts for the next `horizon` returns, made at the end of the sample:
    /// element `h − 1` is `σ²_{n+h}` (`[0]` equals [`Self::next_variance`]). Empty for a
    /// horizon of 0.
    pub fn forecast_variance(&self, horizon: usize) -> Vec<f64> {
        let mut out = Vec::with_capacity(horizon);
        let mut v = self.next_variance;
        for _ in 0..horizon {
            out.push(v);
            v = self.omega + self.alpha * v + self.beta * v;
        }
        out
    }
}

/// The data of a fit: returns, backcast, variance bounds and parameter bounds, all fixed
/// before the optimisation as `arch` fixes them.
struct GarchProblem<'a> {
    y: &'a [f64],
    backcast: f64,
    lower: Vec<f64>,
    upper: Vec<f64>,
    omega_lo: f64,
    omega_hi: f64,
    mean_sq_resid: f64,
}

/// Clip a variance to its bounds as `arch` does. Returns the clipped value and the
/// derivative factor: 0 when clipped to the lower bound, `1/s` above the upper bound, 1
/// otherwise.
#[inline]
fn bound_variance(s: f64, lo: f64, hi: f64) -> (f64, BoundKind) {
    if s < lo {
        (lo, BoundKind::Lower)
    } else if s > hi {
        if s.is_finite() { (hi + (s / hi).ln(), BoundKind::Upper) } else { (hi + 1000.0, BoundKind::Lower) }
    } else {
        (s, BoundKind::Inside)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum BoundKind {
    Inside,
    Lower,
    Upper,
}

/// Value, gradient and Hessian of the log-likelihood at one parameter vector.
struct Eval {
    f: f64,
    g: Vec4,
    h: Mat4,
}

impl<'a> GarchProblem<'a> {
    /// The problem as `arch` sets it up for fitting: backcast and bounds from the residuals
    /// about the sample mean.
    fn new(y: &'a [f64]) -> Result<Self, AnalyticsError> {
        Self::centred(y, None)
    }

    /// The problem with backcast and bounds from the residuals about `centre` (the sample
    /// mean when `None`).
    fn centred(y: &'a [f64], centre: Option<f64>) -> Result<Self, AnalyticsError> {
        if y.len() < GARCH_MIN_OBSERVATIONS {
            return Err(AnalyticsError::TooFewObservations {
                what: WHAT,
                needed: GARCH_MIN_OBSERVATIONS,
                got: y.len(),
            });
        }
        check_finite("GARCH(1,1) returns", y)?;
        let n = y.len();
        let ybar = match centre {
            Some(c) => c,
            None => mean(y)?,
        };
        let resids: Vec<f64> = y.iter().map(|v| v - ybar).collect();
        let backcast = ewma_seed(&resids);
        let mean_sq_resid = resids.iter().map(|e| e * e).sum::<f64>() / n as f64;
        // np.var re-centres the residuals
        let rbar = resids.iter().sum::<f64>() / n as f64;
        let var = resids.iter().map(|e| (e - rbar) * (e - rbar)).sum::<f64>() / n as f64;
        if var <= 0.0 || backcast <= 0.0 {
            return Err(AnalyticsError::Degenerate {
                what: WHAT,
                reason: "every return is the same (zero variance), so there is no volatility to model".to_string(),
            });
        }
        // arch's variance_bounds: an EWMA(0.94) of the squared residuals seeded as above
        let max_sq = resids.iter().fold(0.0f64, |m, e| m.max(e * e));
        let lower_floor = var / 1e8;
        let min_upper = 1.0 + max_sq;
        let upper_cap = 1e7 * (1.0 + max_sq);
        let seed = backcast;
        let one_minus = 1.0 - RISKMETRICS_LAMBDA;
        let mut lower = Vec::with_capacity(n);
        let mut upper = Vec::with_capacity(n);
        let mut ew = 0.0 + one_minus * seed + RISKMETRICS_LAMBDA * seed;
        for t in 0..n {
            if t > 0 {
                ew = 0.0 + one_minus * (resids[t - 1] * resids[t - 1]) + RISKMETRICS_LAMBDA * ew;
            }
            let mut lo = ew / 1e6;
            let mut hi = ew * 1e6;
            if lo < lower_floor {
                lo = lower_floor;
            }
            if hi < min_upper {
                hi = min_upper;
            }
            if hi > upper_cap {
                hi = upper_cap;
            }
            lower.push(lo);
            upper.push(hi);
        }
        Ok(Self {
            y,
            backcast,
            lower,
            upper,
            omega_lo: 1e-8 * mean_sq_resid,
            omega_hi: 10.0 * mean_sq_resid,
            mean_sq_resid,
        })
    }

    /// Log-likelihood at `theta`; also the last conditional variance.
    fn loglik(&self, theta: &Vec4) -> (f64, f64) {
        let [mu, omega, alpha, beta] = *theta;
        let mut ll = 0.0;
        let mut s_prev = self.backcast;
        let mut e2_prev = self.backcast;
        for (t, &yt) in self.y.iter().enumerate() {
            let raw = omega + alpha * e2_prev + beta * s_prev;
            let (s, _) = bound_variance(raw, self.lower[t], self.upper[t]);
            let e = yt - mu;
            let e2 = e * e;
            ll += -0.5 * (LN_2PI + s.ln() + e2 / s);
            s_prev = s;
            e2_prev = e2;
        }
        (ll, s_prev)
    }

    /// Log-likelihood with its analytic gradient and Hessian (parameter order μ, ω, α, β).
    fn eval(&self, theta: &Vec4) -> Eval {
        let [mu, omega, alpha, beta] = *theta;
        let mut f = 0.0;
        let mut g = [0.0; 4];
        let mut h = [[0.0; 4]; 4];
        let bc = self.backcast;
        let mut s_prev = bc;
        let mut e_prev = 0.0;
        let mut e2_prev = bc;
        let mut ds_prev = [0.0; 4];
        let mut d2s_prev = [[0.0; 4]; 4];
        for (t, &yt) in self.y.iter().enumerate() {
            let raw = omega + alpha * e2_prev + beta * s_prev;
            let mut ds = [0.0; 4];
            let mut d2s = [[0.0; 4]; 4];
            if t == 0 {
                ds = [0.0, 1.0, bc, bc];
            } else {
                ds[0] = -2.0 * alpha * e_prev + beta * ds_prev[0];
                ds[1] = 1.0 + beta * ds_prev[1];
                ds[2] = e2_prev + beta * ds_prev[2];
                ds[3] = s_prev + beta * ds_prev[3];
                for i in 0..4 {
                    for j in i..4 {
                        let mut v = beta * d2s_prev[i][j];
                        if j == 3 {
                            v += ds_prev[i];
                        }
                        if i == 3 {
                            v += ds_prev[j];
                        }
                        d2s[i][j] = v;
                    }
                }
                d2s[0][0] += 2.0 * alpha;
                d2s[0][2] += -2.0 * e_prev;
            }
            let (s, kind) = bound_variance(raw, self.lower[t], self.upper[t]);
            match kind {
                BoundKind::Inside => {}
                BoundKind::Lower => {
                    ds = [0.0; 4];
                    d2s = [[0.0; 4]; 4];
                }
                BoundKind::Upper => {
                    for i in 0..4 {
                        for j in i..4 {
                            d2s[i][j] = d2s[i][j] / raw - ds[i] * ds[j] / (raw * raw);
                        }
                    }
                    for d in &mut ds {
                        *d /= raw;
                    }
                }
            }
            let e = yt - mu;
            let e2 = e * e;
            let inv_s = 1.0 / s;
            f += -0.5 * (LN_2PI + s.ln() + e2 * inv_s);
            let a = -0.5 * (inv_s - e2 * inv_s * inv_s);
            let b = 0.5 * inv_s * inv_s - e2 * inv_s * inv_s * inv_s;
            let c = e * inv_s * inv_s;
            for i in 0..4 {
                g[i] += a * ds[i];
                for j in i..4 {
                    h[i][j] += b * ds[i] * ds[j] + a * d2s[i][j];
                }
            }
            g[0] += e * inv_s;
            h[0][0] += -2.0 * c * ds[0] - inv_s;
            for j in 1..4 {
                h[0][j] += -c * ds[j];
            }
            s_prev = s;
            e_prev = e;
            e2_prev = e2;
            ds_prev = ds;
            d2s_prev = d2s;
        }
        for i in 0..4 {
            for j in 0..i {
                h[i][j] = h[j][i];
            }
        }
        Eval { f, g, h }
    }

    /// `arch`'s starting-value grid, evaluated at the sample mean.
    fn starting_values(&self) -> Vec4 {
        let mu = self.y.iter().sum::<f64>() / self.y.len() as f64;
        let target = self.mean_sq_resid;
        let mut best: Option<(f64, Vec4)> = None;
        for alpha in [0.01, 0.05, 0.1, 0.2] {
            for agb in [0.5, 0.7, 0.9, 0.98] {
                let theta = [mu, (1.0 - agb) * target, alpha, agb - alpha];
                let (ll, _) = self.loglik(&theta);
                if best.as_ref().is_none_or(|(b, _)| ll > *b) {
                    best = Some((ll, theta));
                }
            }
        }
        best.map_or([mu, 0.1 * target, 0.05, 0.85], |(_, t)| t)
    }

    /// The linear inequality constraints `a·θ ≥ b`.
    fn constraints(&self) -> [optim::Constraint; 5] {
        [
            optim::Constraint { a: [0.0, 1.0, 0.0, 0.0], b: self.omega_lo },
            optim::Constraint { a: [0.0, -1.0, 0.0, 0.0], b: -self.omega_hi },
            optim::Constraint { a: [0.0, 0.0, 1.0, 0.0], b: 0.0 },
            optim::Constraint { a: [0.0, 0.0, 0.0, 1.0], b: 0.0 },
            optim::Constraint { a: [0.0, 0.0, -1.0, -1.0], b: -1.0 },
        ]
    }

    /// Whether `theta` lies on a constraint (within 1e-10 of it).
    fn on_boundary(&self, theta: &Vec4) -> bool {
        self.constraints()
            .iter()
            .any(|c| c.a.iter().zip(theta).map(|(a, t)| a * t).sum::<f64>() - c.b <= 1e-10 * c.b.abs().max(1e-3))
    }

    /// Put `theta` exactly inside the feasible set (after a step that may overshoot by
    /// rounding).
    fn project(&self, theta: &mut Vec4) {
        theta[1] = theta[1].clamp(self.omega_lo, self.omega_hi);
        theta[2] = theta[2].clamp(0.0, 1.0);
        theta[3] = theta[3].clamp(0.0, 1.0);
        if theta[2] + theta[3] > 1.0 {
            theta[3] = 1.0 - theta[2];
        }
    }

    /// Map an unconstrained vector to a feasible parameter vector (for Nelder–Mead).
    fn params_of_unconstrained(&self, u: &Vec4) -> Vec4 {
        let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
        let omega = self.omega_lo + (self.omega_hi - self.omega_lo) * sig(u[1]);
        let persistence = sig(u[2]);
        let alpha = persistence * sig(u[3]);
        [u[0], omega, alpha, persistence - alpha]
    }

    /// Inverse of [`Self::params_of_unconstrained`] for an interior point.
    fn unconstrained_of(&self, theta: &Vec4) -> Vec4 {
        let logit = |p: f64| {
            let p = p.clamp(1e-12, 1.0 - 1e-12);
            (p / (1.0 - p)).ln()
        };
        let w = (theta[1] - self.omega_lo) / (self.omega_hi - self.omega_lo);
        let persistence = theta[2] + theta[3];
        let share = if persistence > 0.0 { theta[2] / persistence } else { 0.5 };
        [theta[0], logit(w), logit(persistence), logit(share)]
    }

    fn newton(&self, start: Vec4, max_iter: usize) -> optim::NewtonOutcome {
        let constraints = self.constraints();
        optim::active_set_newton(
            start,
            &constraints,
            max_iter,
            |theta| {
                let e = self.eval(theta);
                (e.f, e.g, e.h)
            },
            |theta| self.loglik(theta).0,
            |theta| self.project(theta),
        )
    }
}

/// Fit a constant-mean GARCH(1,1) with normal errors by maximum likelihood, with the
/// conventions of `arch` (see the module documentation). Pass returns on a scale where
/// their variance is of order 1, as `arch` recommends (Crude's risk engine passes
/// 100 × log returns); the parameters are in the units of the returns given.
///
/// # Errors
/// - [`AnalyticsError::TooFewObservations`] with fewer than [`GARCH_MIN_OBSERVATIONS`] returns;
/// - [`AnalyticsError::NonFinite`] for a NaN or infinite return;
/// - [`AnalyticsError::Degenerate`] when every return is equal;
/// - [`AnalyticsError::NoConvergence`] if no maximum is found.
pub fn fit_garch11(returns: &[f64]) -> Result<Garch11Fit, AnalyticsError> {
    fit_with_stage_limit(returns, NEWTON_MAX_ITER)
}

fn fit_with_stage_limit(returns: &[f64], first_stage_iter: usize) -> Result<Garch11Fit, AnalyticsError> {
    let problem = GarchProblem::new(returns)?;
    let start = problem.starting_values();
    let first = problem.newton(start, first_stage_iter);
    let mut iterations = first.iterations;
    let mut best = first.converged.then_some(first.x);
    if best.is_none_or(|x| problem.on_boundary(&x)) {
        // Newton stalled, or ended on the boundary (typically α = 0 with α + β = 1, a
        // variance that drifts linearly). Search locally from the starting values, as
        // arch's SLSQP does, for an interior maximum, and polish it with Newton.
        let nm = optim::nelder_mead(
            problem.unconstrained_of(&start),
            &[0.1 * problem.mean_sq_resid.sqrt(), 0.5, 0.5, 0.5],
            4000,
            1e-12,
            |u| -problem.loglik(&problem.params_of_unconstrained(u)).0,
        );
        iterations += nm.iterations;
        let mut restart = problem.params_of_unconstrained(&nm.x);
        problem.project(&mut restart);
        let polished = problem.newton(restart, NEWTON_MAX_ITER);
        iterations += polished.iterations;
        if polished.converged && (best.is_none() || !problem.on_boundary(&polished.x)) {
            best = Some(polished.x);
        }
    }
    let Some(x) = best else {
        return Err(AnalyticsError::NoConvergence {
            what: WHAT,
            reason: "the Newton iterations stalled, also after a Nelder-Mead restart".to_string(),
        });
    };
    let params = Garch11Params::from_vec(x);
    let (loglik, last_variance) = problem.loglik(&x);
    // arch's forecast restarts the recursion from a backcast (and bounds) of the residuals
    // about the fitted mean, where the fit used the sample mean.
    let forecast_problem = GarchProblem::centred(returns, Some(params.mu))?;
    let (_, forecast_last_variance) = forecast_problem.loglik(&x);
    let Some(&last_return) = returns.last() else {
        return Err(AnalyticsError::TooFewObservations { what: WHAT, needed: GARCH_MIN_OBSERVATIONS, got: 0 });
    };
    let e = last_return - params.mu;
    let next_variance = params.omega + params.alpha * (e * e) + params.beta * forecast_last_variance;
    Ok(Garch11Fit {
        mu: params.mu,
        omega: params.omega,
        alpha: params.alpha,
        beta: params.beta,
        loglik,
        next_variance,
        last_variance,
        backcast: problem.backcast,
        observations: returns.len(),
        iterations,
    })
}

/// The GARCH(1,1) log-likelihood of `returns` at given parameters, with `arch`'s backcast
/// and variance bounds (what `arch` maximises).
///
/// # Errors
/// As [`fit_garch11`] for the data, plus [`AnalyticsError::InvalidParameter`] for a
/// non-finite parameter or a non-positive ω or negative α, β.
pub fn garch11_loglikelihood(returns: &[f64], params: &Garch11Params) -> Result<f64, AnalyticsError> {
    for (name, value) in [("mu", params.mu), ("omega", params.omega), ("alpha", params.alpha), ("beta", params.beta)] {
        if !value.is_finite() {
            return Err(AnalyticsError::InvalidParameter { name, value, reason: "must be finite" });
        }
    }
    if params.omega <= 0.0 {
        return Err(AnalyticsError::InvalidParameter { name: "omega", value: params.omega, reason: "must be > 0" });
    }
    if params.alpha < 0.0 || params.beta < 0.0 {
        let (name, value) = if params.alpha < 0.0 { ("alpha", params.alpha) } else { ("beta", params.beta) };
        return Err(AnalyticsError::InvalidParameter { name, value, reason: "must be >= 0" });
    }
    let problem = GarchProblem::new(returns)?;
    Ok(problem.loglik(&params.to_vec()).0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic GARCH(1,1) sample from a small xorshift generator and Box–Muller.
    fn simulate(n: usize, mu: f64, omega: f64, alpha: f64, beta: f64, seed: u64) -> Vec<f64> {
        let mut state = seed;
        let mut uniform = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        let mut out = Vec::with_capacity(n);
        let mut s2 = omega / (1.0 - alpha - beta);
        for _ in 0..n + 200 {
            let z = (-2.0 * uniform().ln()).sqrt() * (2.0 * std::f64::consts::PI * uniform()).cos();
            let e = s2.sqrt() * z;
            out.push(mu + e);
            s2 = omega + alpha * e * e + beta * s2;
        }
        out.split_off(200)
    }

    #[test]
    fn analytic_gradient_and_hessian_match_finite_differences() {
        let y = simulate(600, 0.05, 0.1, 0.1, 0.85, 11);
        let p = GarchProblem::new(&y).unwrap();
        let theta = [0.03, 0.12, 0.08, 0.86];
        let e = p.eval(&theta);
        assert!((e.f - p.loglik(&theta).0).abs() < 1e-9);
        for i in 0..4 {
            let h = 1e-6 * theta[i].abs().max(1e-3);
            let mut up = theta;
            let mut dn = theta;
            up[i] += h;
            dn[i] -= h;
            let fd = (p.loglik(&up).0 - p.loglik(&dn).0) / (2.0 * h);
            assert!((fd - e.g[i]).abs() < 1e-4 * (1.0 + e.g[i].abs()), "g[{i}] {fd} vs {}", e.g[i]);
            let (eu, ed) = (p.eval(&up), p.eval(&dn));
            for j in 0..4 {
                let fdh = (eu.g[j] - ed.g[j]) / (2.0 * h);
                assert!((fdh - e.h[i][j]).abs() < 1e-4 * (1.0 + e.h[i][j].abs()), "h[{i}][{j}] {fdh} vs {}", e.h[i][j]);
            }
        }
    }

    #[test]
    fn fit_recovers_simulated_parameters_and_satisfies_first_order_conditions() {
        let y = simulate(4000, 0.05, 0.05, 0.08, 0.9, 3);
        let fit = fit_garch11(&y).unwrap();
        assert!((fit.alpha - 0.08).abs() < 0.03, "{fit:?}");
        assert!((fit.beta - 0.9).abs() < 0.04, "{fit:?}");
        assert!(fit.persistence() < 1.0);
        let p = GarchProblem::new(&y).unwrap();
        let e = p.eval(&fit.params().to_vec());
        for (i, g) in e.g.iter().enumerate() {
            assert!(g.abs() < 1e-6, "gradient[{i}] = {g}");
        }
        // the maximum: every small feasible move lowers the likelihood
        for i in 0..4 {
            for sign in [-1.0, 1.0] {
                let mut t = fit.params().to_vec();
                t[i] += sign * 1e-4 * t[i].abs().max(1e-3);
                assert!(p.loglik(&t).0 <= fit.loglik + 1e-9);
            }
        }
    }

    #[test]
    fn nelder_mead_restart_reaches_the_same_maximum() {
        let y = simulate(1500, 0.0, 0.2, 0.12, 0.7, 5);
        let direct = fit_garch11(&y).unwrap();
        // one Newton iteration is not enough, so the fit goes through the Nelder–Mead restart
        let restarted = fit_with_stage_limit(&y, 1).unwrap();
        assert!(restarted.iterations > direct.iterations);
        for (a, b) in [
            (direct.mu, restarted.mu),
            (direct.omega, restarted.omega),
            (direct.alpha, restarted.alpha),
            (direct.beta, restarted.beta),
            (direct.loglik, restarted.loglik),
        ] {
            assert!((a - b).abs() <= 1e-7 * b.abs().max(1e-3), "{a} vs {b}");
        }
    }

    #[test]
    fn forecast_converges_to_the_long_run_variance() {
        let y = simulate(2000, 0.0, 0.1, 0.1, 0.8, 9);
        let fit = fit_garch11(&y).unwrap();
        let f = fit.forecast_variance(2000);
        assert_eq!(f.len(), 2000);
        assert_eq!(f[0], fit.next_variance);
        assert!((f[1] - (fit.omega + fit.persistence() * f[0])).abs() < 1e-12);
        let lr = fit.unconditional_variance().unwrap();
        assert!((f[1999] - lr).abs() < 1e-9 * lr);
        assert!(fit.forecast_variance(0).is_empty());
    }

    #[test]
    fn bad_input_is_rejected() {
        assert!(matches!(fit_garch11(&[0.1; 5]), Err(AnalyticsError::TooFewObservations { needed: 10, got: 5, .. })));
        assert!(matches!(fit_garch11(&[0.3; 50]), Err(AnalyticsError::Degenerate { .. })));
        let mut y = simulate(100, 0.0, 0.1, 0.1, 0.8, 1);
        y[42] = f64::NAN;
        assert!(matches!(fit_garch11(&y), Err(AnalyticsError::NonFinite { index: 42, .. })));
        let y = simulate(100, 0.0, 0.1, 0.1, 0.8, 1);
        let bad = Garch11Params { mu: 0.0, omega: -1.0, alpha: 0.1, beta: 0.8 };
        assert!(garch11_loglikelihood(&y, &bad).is_err());
    }
}

//! Black-76 options on futures: price, Greeks and implied volatility.
//!
//! For a forward (futures price) `F`, strike `K`, time to expiry `T` years, volatility `σ`
//! and continuously compounded rate `r`, with `d1 = (ln(F/K) + σ²T/2)/(σ√T)`,
//! `d2 = d1 − σ√T` and discount `D = e^{−rT}`:
//!
//! - call `V = D (F N(d1) − K N(d2))`, put `V = D (K N(−d2) − F N(−d1))`;
//! - **delta** `∂V/∂F`: `D N(d1)` (call), `−D N(−d1)` (put);
//! - **gamma** `∂²V/∂F² = D φ(d1) / (F σ √T)`;
//! - **vega** `∂V/∂σ = D F φ(d1) √T`, per 1.00 (100 vol points) of volatility;
//! - **theta** `−∂V/∂T` per year, with `F`, `K`, `σ`, `r` fixed (calendar time; divide by
//!   365 for a day): `r V − D F φ(d1) σ / (2√T)`;
//! - **rho** `∂V/∂r` per 1.00 of rate with `F` fixed: `−T V`.
//!
//! Black-76 takes `ln(F/K)`, so it needs `F > 0` and `K > 0`; zero or negative forwards
//! or strikes (WTI in April 2020) get [`RiskError::NonPositiveForOptionModel`], which
//! points to the Bachelier (normal) model. `T` and `σ` must be strictly positive.
//!
//! The implied volatility solver works on the out-of-the-money equivalent (put–call
//! parity), matches `ln` of its undiscounted price with a Newton step safeguarded by a
//! bisection bracket, and reports prices outside the no-arbitrage bounds
//! `D·max(F − K, 0) < V < D·F` (call), `D·max(K − F, 0) < V < D·K` (put) as errors.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::RiskError;
use crate::normal::{norm_cdf, norm_pdf};

/// The largest implied volatility the solver looks for (10,000 % a year).
pub const MAX_IMPLIED_VOL: f64 = 100.0;

/// Call or put.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OptionType {
    /// The right to buy the future at the strike.
    Call,
    /// The right to sell the future at the strike.
    Put,
}

impl fmt::Display for OptionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OptionType::Call => "call",
            OptionType::Put => "put",
        })
    }
}

impl FromStr for OptionType {
    type Err = RiskError;

    /// `call`/`c` or `put`/`p`, any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "call" | "c" => Ok(OptionType::Call),
            "put" | "p" => Ok(OptionType::Put),
            _ => Err(RiskError::BadArgument {
                argument: "--type",
                value: s.to_string(),
                reason: "expected 'call' or 'put'".to_string(),
            }),
        }
    }
}

/// Black-76 price and Greeks (conventions in the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Black76Greeks {
    /// Discounted option price.
    pub price: f64,
    /// `∂V/∂F`.
    pub delta: f64,
    /// `∂²V/∂F²`.
    pub gamma: f64,
    /// `∂V/∂σ` per 1.00 of volatility.
    pub vega: f64,
    /// `−∂V/∂T` per year.
    pub theta: f64,
    /// `∂V/∂r` per 1.00 of rate, forward fixed.
    pub rho: f64,
}

fn check_finite(argument: &'static str, value: f64) -> Result<(), RiskError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(RiskError::BadArgument {
            argument,
            value: format!("{value}"),
            reason: "must be a finite number".to_string(),
        })
    }
}

fn check_market(forward: f64, strike: f64, years: f64, rate: f64) -> Result<(), RiskError> {
    check_finite("--forward", forward)?;
    check_finite("--strike", strike)?;
    check_finite("--years", years)?;
    check_finite("--rate", rate)?;
    if forward <= 0.0 {
        return Err(RiskError::NonPositiveForOptionModel { argument: "--forward", value: forward });
    }
    if strike <= 0.0 {
        return Err(RiskError::NonPositiveForOptionModel { argument: "--strike", value: strike });
    }
    if years <= 0.0 {
        return Err(RiskError::BadArgument {
            argument: "--years",
            value: format!("{years}"),
            reason: "time to expiry must be > 0 years (an expired option is worth its intrinsic value)".to_string(),
        });
    }
    Ok(())
}

/// Undiscounted Black price `F N(d1) − K N(d2)` (call) or `K N(−d2) − F N(−d1)` (put)
/// for total standard deviation `sd = σ√T`.
fn undiscounted(option_type: OptionType, forward: f64, strike: f64, sd: f64) -> f64 {
    let d1 = (forward / strike).ln() / sd + 0.5 * sd;
    let d2 = d1 - sd;
    match option_type {
        OptionType::Call => forward * norm_cdf(d1) - strike * norm_cdf(d2),
        OptionType::Put => strike * norm_cdf(-d2) - forward * norm_cdf(-d1),
    }
}

/// Black-76 price and Greeks.
///
/// # Errors
/// [`RiskError::NonPositiveForOptionModel`] for `forward ≤ 0` or `strike ≤ 0`;
/// [`RiskError::BadArgument`] for a non-finite input, `years ≤ 0` or `vol ≤ 0`.
pub fn black76(
    option_type: OptionType,
    forward: f64,
    strike: f64,
    years: f64,
    vol: f64,
    rate: f64,
) -> Result<Black76Greeks, RiskError> {
    check_market(forward, strike, years, rate)?;
    check_finite("--vol", vol)?;
    if vol <= 0.0 {
        return Err(RiskError::BadArgument {
            argument: "--vol",
            value: format!("{vol}"),
            reason: "volatility must be > 0, as a fraction a year (0.35 for 35 %)".to_string(),
        });
    }
    let sqrt_t = years.sqrt();
    let sd = vol * sqrt_t;
    let d1 = (forward / strike).ln() / sd + 0.5 * sd;
    let disc = (-rate * years).exp();
    let price = disc * undiscounted(option_type, forward, strike, sd);
    let pdf = norm_pdf(d1);
    let delta = match option_type {
        OptionType::Call => disc * norm_cdf(d1),
        OptionType::Put => -disc * norm_cdf(-d1),
    };
    let gamma = disc * pdf / (forward * sd);
    let vega = disc * forward * pdf * sqrt_t;
    let theta = rate * price - disc * forward * pdf * vol / (2.0 * sqrt_t);
    let rho = -years * price;
    Ok(Black76Greeks { price, delta, gamma, vega, theta, rho })
}

/// The Black-76 volatility that reproduces `price`.
///
/// # Errors
/// The market-input errors of [`black76`]; [`RiskError::BadArgument`] for a non-finite
/// price; [`RiskError::NoImpliedVol`] when the price is at or outside the no-arbitrage
/// bounds (the message gives them), when its time value is lost to rounding, or when the
/// volatility would exceed [`MAX_IMPLIED_VOL`].
pub fn implied_vol(
    option_type: OptionType,
    forward: f64,
    strike: f64,
    years: f64,
    rate: f64,
    price: f64,
) -> Result<f64, RiskError> {
    check_market(forward, strike, years, rate)?;
    check_finite("--price", price)?;
    let disc = (-rate * years).exp();
    let (intrinsic, upper) = match option_type {
        OptionType::Call => ((forward - strike).max(0.0), forward),
        OptionType::Put => ((strike - forward).max(0.0), strike),
    };
    let bounds = || {
        format!(
            "a {option_type} with F={forward}, K={strike}, T={years}, r={rate} must be worth more than {} \
             (discounted intrinsic value) and less than {} (discounted {})",
            disc * intrinsic,
            disc * upper,
            if option_type == OptionType::Call { "forward" } else { "strike" }
        )
    };
    let undisc = price / disc;
    // Within a few units of rounding of a bound counts as on it.
    let slack = 8.0 * f64::EPSILON;
    if undisc.is_nan() || undisc <= intrinsic * (1.0 + slack) {
        return Err(RiskError::NoImpliedVol { price, reason: format!("no volatility gives this price: {}", bounds()) });
    }
    if undisc >= upper * (1.0 - slack) {
        return Err(RiskError::NoImpliedVol { price, reason: format!("no volatility gives this price: {}", bounds()) });
    }
    // Out-of-the-money equivalent by put-call parity: C - P = F - K (undiscounted).
    let (otm_type, target) = match option_type {
        OptionType::Call if forward > strike => (OptionType::Put, undisc - (forward - strike)),
        OptionType::Put if strike > forward => (OptionType::Call, undisc - (strike - forward)),
        _ => (option_type, undisc),
    };
    if target <= 0.0 {
        return Err(RiskError::NoImpliedVol {
            price,
            reason:
                "the price's time value above intrinsic is lost to rounding; quote the out-of-the-money option instead"
                    .to_string(),
        });
    }
    let ln_target = target.ln();
    let sqrt_t = years.sqrt();
    let objective = |vol: f64| undiscounted(otm_type, forward, strike, vol * sqrt_t).ln() - ln_target;
    let mut lo = 0.0f64;
    let mut hi = 1.0f64;
    while objective(hi) < 0.0 {
        lo = hi;
        hi *= 2.0;
        if hi > MAX_IMPLIED_VOL {
            return Err(RiskError::NoImpliedVol {
                price,
                reason: format!(
                    "the implied volatility would exceed {:.0} % a year; check the price (it is close to the upper bound: {})",
                    MAX_IMPLIED_VOL * 100.0,
                    bounds()
                ),
            });
        }
    }
    let ln_fk = (forward / strike).ln().abs();
    let mut vol = if ln_fk > 0.0 { (2.0 * ln_fk / years).sqrt() } else { 2.5 * target / (forward * sqrt_t) };
    if !(vol > lo && vol < hi) {
        vol = 0.5 * (lo + hi);
    }
    for _ in 0..200 {
        let sd = vol * sqrt_t;
        let value = undiscounted(otm_type, forward, strike, sd);
        let g = value.ln() - ln_target;
        if g == 0.0 {
            return Ok(vol);
        }
        if g > 0.0 {
            hi = vol;
        } else {
            lo = vol;
        }
        let d1 = (forward / strike).ln() / sd + 0.5 * sd;
        let dlog = forward * norm_pdf(d1) * sqrt_t / value;
        let newton = vol - g / dlog;
        let next = if newton.is_finite() && newton > lo && newton < hi {
            newton
        } else if lo > 0.0 && hi / lo > 4.0 {
            (lo * hi).sqrt()
        } else {
            0.5 * (lo + hi)
        };
        if (next - vol).abs() <= 4.0 * f64::EPSILON * vol || hi - lo <= 4.0 * f64::EPSILON * hi {
            return Ok(next);
        }
        vol = next;
    }
    Err(RiskError::Computation {
        what: "implied volatility",
        reason: format!("the solver did not converge for price {price}; bracket [{lo}, {hi}]"),
    })
}

/// Volatility given directly or to be implied from a price.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum VolInput {
    /// Volatility a year as a fraction (`--vol 0.35`).
    Vol(f64),
    /// Option price to imply the volatility from (`--price 5.75`).
    Price(f64),
}

/// The arguments of `crude option`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OptionParams {
    /// Call or put.
    pub option_type: OptionType,
    /// Futures price `F`.
    pub forward: f64,
    /// Strike `K`.
    pub strike: f64,
    /// Time to expiry in years.
    pub years: f64,
    /// Continuously compounded rate.
    pub rate: f64,
    /// Volatility or price.
    pub vol_input: VolInput,
}

/// The `crude option --json` report: the inputs, the volatility, and price and Greeks at
/// that volatility; `implied_vol: true` appears when the volatility was solved from a
/// price (the reported price is then the one given).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OptionReport {
    /// Call or put.
    #[serde(rename = "type")]
    pub option_type: OptionType,
    /// Futures price.
    pub forward: f64,
    /// Strike.
    pub strike: f64,
    /// Years to expiry.
    pub years: f64,
    /// Rate.
    pub rate: f64,
    /// Volatility a year.
    pub vol: f64,
    /// Option price.
    pub price: f64,
    /// `∂V/∂F`.
    pub delta: f64,
    /// `∂²V/∂F²`.
    pub gamma: f64,
    /// `∂V/∂σ` per 1.00.
    pub vega: f64,
    /// `−∂V/∂T` per year.
    pub theta: f64,
    /// `∂V/∂r` per 1.00, forward fixed.
    pub rho: f64,
    /// Present and true when the volatility was implied from a price.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub implied_vol: bool,
}

/// `crude option --type call|put --forward F --strike K --years T --rate R (--vol V | --price P)`.
///
/// # Errors
/// Those of [`black76`] and, with a price, of [`implied_vol`].
pub fn run_option(params: &OptionParams) -> Result<OptionReport, RiskError> {
    let OptionParams { option_type, forward, strike, years, rate, vol_input } = *params;
    let (vol, given_price) = match vol_input {
        VolInput::Vol(v) => (v, None),
        VolInput::Price(p) => (implied_vol(option_type, forward, strike, years, rate, p)?, Some(p)),
    };
    let g = black76(option_type, forward, strike, years, vol, rate)?;
    Ok(OptionReport {
        option_type,
        forward,
        strike,
        years,
        rate,
        vol,
        price: given_price.unwrap_or(g.price),
        delta: g.delta,
        gamma: g.gamma,
        vega: g.vega,
        theta: g.theta,
        rho: g.rho,
        implied_vol: given_price.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_call_parity_and_finite_difference_greeks() {
        let (f, k, t, v, r) = (72.0, 75.0, 0.4, 0.38, 0.045);
        let c = black76(OptionType::Call, f, k, t, v, r).unwrap();
        let p = black76(OptionType::Put, f, k, t, v, r).unwrap();
        let disc = (-r * t).exp();
        assert!((c.price - p.price - disc * (f - k)).abs() < 1e-12);
        assert!((c.delta - p.delta - disc).abs() < 1e-14);
        let h = 1e-5;
        let px = |f: f64, t: f64, v: f64, r: f64| black76(OptionType::Call, f, k, t, v, r).unwrap().price;
        assert!(((px(f + h, t, v, r) - px(f - h, t, v, r)) / (2.0 * h) - c.delta).abs() < 1e-8);
        assert!(((px(f + 1e-3, t, v, r) - 2.0 * c.price + px(f - 1e-3, t, v, r)) / 1e-6 - c.gamma).abs() < 1e-6);
        assert!(((px(f, t, v + h, r) - px(f, t, v - h, r)) / (2.0 * h) - c.vega).abs() < 1e-7);
        assert!((-(px(f, t + h, v, r) - px(f, t - h, v, r)) / (2.0 * h) - c.theta).abs() < 1e-7);
        assert!(((px(f, t, v, r + h) - px(f, t, v, r - h)) / (2.0 * h) - c.rho).abs() < 1e-7);
    }

    #[test]
    fn bad_inputs_are_named() {
        let err = black76(OptionType::Call, -37.63, 20.0, 0.1, 0.5, 0.01).unwrap_err();
        assert!(err.to_string().contains("--forward = -37.63"), "{err}");
        assert!(err.to_string().contains("Bachelier"), "{err}");
        assert_eq!(err.exit_code(), 2);
        assert!(matches!(
            black76(OptionType::Put, 20.0, 0.0, 0.1, 0.5, 0.01),
            Err(RiskError::NonPositiveForOptionModel { argument: "--strike", .. })
        ));
        assert!(black76(OptionType::Put, 20.0, 20.0, 0.0, 0.5, 0.01).is_err());
        assert!(black76(OptionType::Put, 20.0, 20.0, 1.0, 0.0, 0.01).is_err());
        assert!(black76(OptionType::Put, 20.0, 20.0, 1.0, f64::NAN, 0.01).is_err());
        assert!("straddle".parse::<OptionType>().is_err());
        assert_eq!("P".parse::<OptionType>().unwrap(), OptionType::Put);
    }

    #[test]
    fn prices_outside_no_arbitrage_bounds_are_rejected() {
        let (f, k, t, r): (f64, f64, f64, f64) = (80.0, 70.0, 0.5, 0.05);
        let disc = (-r * t).exp();
        // at intrinsic value
        let err = implied_vol(OptionType::Call, f, k, t, r, disc * 10.0).unwrap_err();
        assert!(matches!(err, RiskError::NoImpliedVol { .. }), "{err}");
        assert!(err.to_string().contains("must be worth more than"), "{err}");
        // above the discounted forward
        assert!(implied_vol(OptionType::Call, f, k, t, r, disc * 80.0 + 1e-9).is_err());
        assert!(implied_vol(OptionType::Put, f, k, t, r, disc * 70.0).is_err());
        assert!(implied_vol(OptionType::Put, f, k, t, r, -1.0).is_err());
        // a price needing more than 10,000 % volatility: at-the-money, one second to expiry
        let err = implied_vol(OptionType::Call, 80.0, 80.0, 1e-6, 0.0, 10.0).unwrap_err();
        assert!(err.to_string().contains("exceed"), "{err}");
    }

    #[test]
    fn implied_vol_round_trips_across_wings_and_expiries() {
        let mut checked = 0;
        for &t in &[1.0 / 365.0, 0.05, 0.5, 2.0, 10.0] {
            for &v in &[0.05, 0.2, 0.45, 1.2] {
                for &k in &[20.0, 50.0, 70.0, 80.0, 90.0, 120.0, 300.0] {
                    for ty in [OptionType::Call, OptionType::Put] {
                        let f = 80.0;
                        let g = black76(ty, f, k, t, v, 0.03).unwrap();
                        let disc = (-0.03 * t).exp();
                        let intrinsic = match ty {
                            OptionType::Call => (f - k).max(0.0),
                            OptionType::Put => (k - f).max(0.0),
                        } * disc;
                        let time_value = g.price - intrinsic;
                        // skip prices whose time value is below what doubles can carry
                        if g.price < 1e-250 || time_value < 1e-12 * g.price.max(1.0) {
                            continue;
                        }
                        let iv = implied_vol(ty, f, k, t, 0.03, g.price).unwrap();
                        let back = black76(ty, f, k, t, iv, 0.03).unwrap().price;
                        assert!(
                            (back - g.price).abs() <= 1e-12 * g.price.max(1.0),
                            "{ty} K={k} T={t} v={v}: price {} -> iv {iv} -> {back}",
                            g.price
                        );
                        // the vol itself is recovered as well as the price's conditioning allows
                        let cond = 1e-13 * g.price.max(time_value) / g.vega.max(1e-300);
                        assert!((iv - v).abs() <= (1e-9 * v).max(cond), "{ty} K={k} T={t}: {iv} vs {v}");
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 150, "{checked}");
    }

    #[test]
    fn run_option_reports_and_serialises() {
        let base = OptionParams {
            option_type: OptionType::Call,
            forward: 80.0,
            strike: 85.0,
            years: 0.5,
            rate: 0.04,
            vol_input: VolInput::Vol(0.35),
        };
        let rep = run_option(&base).unwrap();
        let json = serde_json::to_string(&rep).unwrap();
        assert!(json.starts_with("{\"type\":\"call\",\"forward\":80.0,\"strike\":85.0,\"years\":0.5,\"rate\":0.04,\"vol\":0.35,\"price\":"), "{json}");
        assert!(!json.contains("implied_vol"));
        assert!(json.ends_with(&format!("\"rho\":{}}}", serde_json::to_string(&rep.rho).unwrap())), "{json}");
        let solved = run_option(&OptionParams { vol_input: VolInput::Price(rep.price), ..base }).unwrap();
        assert!((solved.vol - 0.35).abs() < 1e-12);
        assert!(solved.implied_vol);
        assert!((solved.delta - rep.delta).abs() < 1e-12);
        let json = serde_json::to_string(&solved).unwrap();
        assert!(json.ends_with(",\"implied_vol\":true}"), "{json}");
    }
}

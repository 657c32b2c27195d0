//! Single-series Value at Risk and Expected Shortfall: historical, parametric (normal),
//! Monte Carlo and a GARCH(1,1) fit, for a long position of one unit in a price series.
//!
//! Conventions (the ones `crude risk --input FILE --json` reports):
//! - Returns are log returns `ln(P_t/P_{t−1})` over the last `N` returns of the file
//!   (default [`DEFAULT_WINDOW`] = 1000; [`Window::All`] for every return). The `N + 1`
//!   prices used must be strictly positive; prices outside the window are not looked at.
//! - VaR and ES are positive fractions of the position's value (a loss of 0.03 = 3 %),
//!   for confidence levels `c` such as 0.95 and 0.99.
//! - **Historical**: `VaR = −q`, `q` the empirical quantile of the returns at `1 − c` with
//!   linear interpolation between order statistics (numpy's default `np.quantile` method
//!   'linear': index `(n − 1)(1 − c)`); `ES = −mean` of the returns `≤ q`.
//! - **Parametric** (normal): `VaR = −(μ + σ z)`, `ES = −(μ − σ φ(z)/(1 − c))`, with
//!   `z = Φ⁻¹(1 − c)`, `μ` the mean and `σ` the sample standard deviation (`ddof = 1`).
//! - **Monte Carlo**: [`MC_DRAWS`] draws from `N(μ, σ)`, VaR and ES computed from the draws
//!   exactly as the historical ones. The draws come in fixed chunks of
//!   [`MC_CHUNK_DRAWS`], chunk `i` from ChaCha8 seeded with the seed and set to stream
//!   `i`, so the result is the same for any number of threads. Default seed:
//!   [`DEFAULT_SEED`]. The standard error of the VaR estimate is about
//!   `σ·sqrt(c(1 − c)/draws)/φ(z)` (≈ 0.0007 σ at 99 %).
//! - **GARCH(1,1)**: fitted on 100 × the window's log returns with the `arch` package's
//!   conventions ([`crude_analytics::fit_garch11`]); parameters, log-likelihood and
//!   next-day variance are in percent units (`next_variance` of 4.0 means a 2 % daily
//!   standard deviation).
//! - Confidence keys in the JSON are the shortest decimal text that reads back as the
//!   parsed number (`0.950` is keyed `"0.95"`), in the order given.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::Serialize;
use serde::ser::SerializeMap;

use crate::RiskError;
use crate::input::read_price_series;
use crate::normal::{norm_pdf, norm_ppf};
use crude_analytics::{GARCH_MIN_OBSERVATIONS, fit_garch11};

/// Returns used when no window is given.
pub const DEFAULT_WINDOW: usize = 1000;
/// Monte Carlo seed used when none is given.
pub const DEFAULT_SEED: u64 = 42;
/// Confidence levels used when none are given.
pub const DEFAULT_CONFIDENCES: [f64; 2] = [0.95, 0.99];
/// Monte Carlo draws per run.
pub const MC_DRAWS: usize = 100_000;
/// Draws per independently seeded Monte Carlo chunk.
pub const MC_CHUNK_DRAWS: usize = 8_192;

/// How many of the file's returns to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The last `n` returns (`n ≥ 1`).
    Last(usize),
    /// Every return in the file.
    All,
}

impl Default for Window {
    fn default() -> Self {
        Window::Last(DEFAULT_WINDOW)
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Window::Last(n) => write!(f, "{n}"),
            Window::All => f.write_str("all"),
        }
    }
}

impl FromStr for Window {
    type Err = RiskError;

    /// `all` (any case) or a positive integer.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("all") {
            return Ok(Window::All);
        }
        match t.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(Window::Last(n)),
            _ => Err(RiskError::BadArgument {
                argument: "--window",
                value: s.to_string(),
                reason: "expected a positive whole number of returns (such as 1000) or 'all'".to_string(),
            }),
        }
    }
}

/// The JSON key of a confidence level: the shortest decimal text that reads back as the
/// same number (`0.95`, `0.975`).
pub fn confidence_key(c: f64) -> String {
    format!("{c}")
}

/// Check confidence levels: each strictly between 0 and 1, none repeated, at least one.
///
/// # Errors
/// [`RiskError::BadArgument`] naming the offending value.
pub fn validate_confidences(confidences: &[f64]) -> Result<(), RiskError> {
    let bad = |value: String, reason: &str| RiskError::BadArgument {
        argument: "--confidence",
        value,
        reason: reason.to_string(),
    };
    if confidences.is_empty() {
        return Err(bad(String::new(), "give at least one confidence level, such as 0.95,0.99"));
    }
    for (i, &c) in confidences.iter().enumerate() {
        if !(c > 0.0 && c < 1.0) {
            return Err(bad(
                confidence_key(c),
                "a confidence level must lie strictly between 0 and 1 (write 0.99 for 99 %)",
            ));
        }
        if confidences[..i].contains(&c) {
            return Err(bad(confidence_key(c), "this confidence level is given twice; list each once"));
        }
    }
    Ok(())
}

/// Parse a comma-separated list of confidence levels such as `0.95,0.99`.
///
/// # Errors
/// [`RiskError::BadArgument`] for an unparsable, out-of-range or repeated value.
pub fn parse_confidences(s: &str) -> Result<Vec<f64>, RiskError> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let v: f64 = part.trim().parse().map_err(|_| RiskError::BadArgument {
            argument: "--confidence",
            value: part.trim().to_string(),
            reason: "expected numbers between 0 and 1 separated by commas, such as 0.95,0.99".to_string(),
        })?;
        out.push(v);
    }
    validate_confidences(&out)?;
    Ok(out)
}

/// The quantile at probability `p` of ascending-sorted data, with numpy's default
/// 'linear' method: virtual index `h = (n − 1)·p`, interpolating between the order
/// statistics at `⌊h⌋` and `⌊h⌋ + 1` as numpy does. `NaN` for empty data.
pub fn quantile_linear(sorted: &[f64], p: f64) -> f64 {
    quantile_linear_prefix(sorted, sorted.len(), p)
}

/// [`quantile_linear`] of `n` values of which `prefix` holds the smallest, sorted; the
/// prefix must reach the order statistic after the virtual index `(n − 1)·p`.
fn quantile_linear_prefix(sorted: &[f64], n: usize, p: f64) -> f64 {
    if n == 0 || sorted.is_empty() {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * p;
    if h >= (n - 1) as f64 {
        return sorted[n - 1];
    }
    if h < 0.0 {
        return sorted[0];
    }
    let lo = h.floor();
    let i = lo as usize;
    let gamma = h - lo;
    let (a, b) = (sorted[i], sorted[i + 1]);
    let diff = b - a;
    if gamma >= 0.5 { b - diff * (1.0 - gamma) } else { a + diff * gamma }
}

/// VaR and ES at one confidence level, as positive fractions of position value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VarEs {
    /// Value at Risk.
    pub var: f64,
    /// Expected Shortfall.
    pub es: f64,
}

/// VaR/ES at confidence `c` of `n` values whose smallest are `prefix`, sorted (see the
/// module documentation).
fn empirical_var_es(prefix: &[f64], n: usize, c: f64) -> VarEs {
    let q = quantile_linear_prefix(prefix, n, 1.0 - c);
    let tail_len = prefix.partition_point(|&r| r <= q);
    let es = if tail_len == 0 { q } else { prefix[..tail_len].iter().sum::<f64>() / tail_len as f64 };
    VarEs { var: -q, es: -es }
}

/// Empirical VaR and ES at each confidence level from unsorted values: only the lower tail
/// that the quantiles and tail means need is selected and sorted (`O(n)` plus a sort of
/// the tail), with the same results as sorting everything.
pub(crate) fn tail_var_es(values: &mut [f64], confidences: &[f64]) -> Vec<VarEs> {
    let n = values.len();
    let max_p = confidences.iter().map(|c| 1.0 - c).fold(0.0f64, f64::max);
    let k = (((n.saturating_sub(1)) as f64 * max_p).floor() as usize + 2).min(n);
    if k > 0 && k < n {
        values.select_nth_unstable_by(k - 1, f64::total_cmp);
    }
    let prefix = &mut values[..k];
    prefix.sort_unstable_by(f64::total_cmp);
    confidences.iter().map(|&c| empirical_var_es(prefix, n, c)).collect()
}

/// Historical VaR and ES of `returns` at each confidence level.
///
/// # Errors
/// [`RiskError::BadArgument`] for a bad confidence level; [`RiskError::Analytics`]
/// for an empty or non-finite return series.
pub fn historical_var_es(returns: &[f64], confidences: &[f64]) -> Result<Vec<VarEs>, RiskError> {
    validate_confidences(confidences)?;
    crude_analytics::check_finite("returns", returns)?;
    if returns.is_empty() {
        return Err(
            crude_analytics::AnalyticsError::TooFewObservations { what: "historical VaR", needed: 1, got: 0 }.into()
        );
    }
    let mut values = returns.to_vec();
    Ok(tail_var_es(&mut values, confidences))
}

/// Normal (parametric) VaR and ES for returns with mean `mean` and standard deviation
/// `std_dev` (see the module documentation).
///
/// # Errors
/// [`RiskError::BadArgument`] for a bad confidence level or a negative or non-finite
/// standard deviation.
pub fn parametric_var_es(mean: f64, std_dev: f64, confidences: &[f64]) -> Result<Vec<VarEs>, RiskError> {
    validate_confidences(confidences)?;
    if std_dev < 0.0 || !std_dev.is_finite() || !mean.is_finite() {
        return Err(RiskError::BadArgument {
            argument: "std_dev",
            value: format!("{std_dev}"),
            reason: "the mean must be finite and the standard deviation finite and non-negative".to_string(),
        });
    }
    Ok(confidences
        .iter()
        .map(|&c| {
            let alpha = 1.0 - c;
            let z = norm_ppf(alpha);
            VarEs { var: -(mean + std_dev * z), es: -(mean - std_dev * norm_pdf(z) / alpha) }
        })
        .collect())
}

/// `draws` samples of `N(mean, std_dev)`, generated in fixed chunks of
/// [`MC_CHUNK_DRAWS`] (chunk `i`: ChaCha8 seeded with `seed`, stream `i`) in parallel, in
/// chunk order, so identical for any thread count.
pub fn normal_draws(mean: f64, std_dev: f64, draws: usize, seed: u64) -> Vec<f64> {
    let chunks = draws.div_ceil(MC_CHUNK_DRAWS);
    let parts: Vec<Vec<f64>> = (0..chunks)
        .into_par_iter()
        .map(|i| {
            let len = MC_CHUNK_DRAWS.min(draws - i * MC_CHUNK_DRAWS);
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(i as u64);
            (0..len)
                .map(|_| {
                    let z: f64 = rng.sample(StandardNormal);
                    mean + std_dev * z
                })
                .collect()
        })
        .collect();
    parts.concat()
}

/// Monte Carlo VaR and ES from `draws` normal draws (see [`normal_draws`]), computed from
/// the draws as the historical measures are from returns.
///
/// # Errors
/// [`RiskError::BadArgument`] for a bad confidence level, a non-finite mean or
/// standard deviation, or fewer than 1,000 draws.
pub fn monte_carlo_var_es(
    mean: f64,
    std_dev: f64,
    confidences: &[f64],
    draws: usize,
    seed: u64,
) -> Result<Vec<VarEs>, RiskError> {
    validate_confidences(confidences)?;
    if draws < 1000 {
        return Err(RiskError::BadArgument {
            argument: "draws",
            value: draws.to_string(),
            reason: "use at least 1,000 Monte Carlo draws (default 100,000)".to_string(),
        });
    }
    if std_dev < 0.0 || !std_dev.is_finite() || !mean.is_finite() {
        return Err(RiskError::BadArgument {
            argument: "std_dev",
            value: format!("{std_dev}"),
            reason: "the mean must be finite and the standard deviation finite and non-negative".to_string(),
        });
    }
    let mut sample = normal_draws(mean, std_dev, draws, seed);
    Ok(tail_var_es(&mut sample, confidences))
}

/// Values keyed by confidence level, serialised as a JSON object in the order given.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConfidenceMap(pub Vec<(String, f64)>);

impl ConfidenceMap {
    /// The value for a confidence key such as `"0.99"`.
    pub fn get(&self, key: &str) -> Option<f64> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }
}

impl Serialize for ConfidenceMap {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// One risk measure by method.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct MethodTable {
    /// From the empirical distribution of the returns.
    pub historical: ConfidenceMap,
    /// From a normal distribution with the returns' mean and standard deviation.
    pub parametric: ConfidenceMap,
    /// From Monte Carlo draws of that normal distribution.
    pub monte_carlo: ConfidenceMap,
}

/// GARCH(1,1) fit on 100 × log returns.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GarchSummary {
    /// Constant mean, percent per day.
    pub mu: f64,
    /// Variance intercept, percent squared.
    pub omega: f64,
    /// ARCH coefficient.
    pub alpha: f64,
    /// GARCH coefficient.
    pub beta: f64,
    /// Maximised log-likelihood of the percent returns.
    pub loglik: f64,
    /// Next-day variance forecast, percent squared.
    pub next_variance: f64,
}

/// Facts about a run that the JSON report leaves out.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SeriesRiskDetails {
    /// Price column used, when read from a file.
    pub column: Option<String>,
    /// Date of the first price used.
    pub first_date: Option<String>,
    /// Date of the last price used.
    pub last_date: Option<String>,
    /// Monte Carlo seed.
    pub seed: u64,
    /// Monte Carlo draws.
    pub mc_draws: usize,
    /// Mean daily log return.
    pub mean: f64,
    /// Sample standard deviation of the daily log returns (`ddof = 1`).
    pub std_dev: f64,
}

/// The single-series risk report. Serialises to exactly
/// `{"observations", "var": {"historical", "parametric", "monte_carlo"}, "es": {…}, "garch": {…}}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesRiskReport {
    /// Number of returns used.
    pub observations: usize,
    /// Value at Risk by method and confidence.
    pub var: MethodTable,
    /// Expected Shortfall by method and confidence.
    pub es: MethodTable,
    /// GARCH(1,1) on 100 × the returns.
    pub garch: GarchSummary,
    /// What the JSON leaves out.
    #[serde(skip)]
    pub details: SeriesRiskDetails,
}

/// The risk report of a return series (log returns, oldest first) for a long unit
/// position.
///
/// # Errors
/// [`RiskError::BadArgument`] for bad confidence levels; [`RiskError::Analytics`]
/// for too few (fewer than [`GARCH_MIN_OBSERVATIONS`]), non-finite or constant returns,
/// or a GARCH fit that does not converge.
pub fn series_risk(returns: &[f64], confidences: &[f64], seed: u64) -> Result<SeriesRiskReport, RiskError> {
    validate_confidences(confidences)?;
    crude_analytics::check_finite("returns", returns)?;
    if returns.len() < GARCH_MIN_OBSERVATIONS {
        return Err(crude_analytics::AnalyticsError::TooFewObservations {
            what: "the risk report (its GARCH(1,1) fit)",
            needed: GARCH_MIN_OBSERVATIONS,
            got: returns.len(),
        }
        .into());
    }
    let mean = crude_analytics::mean(returns)?;
    let std_dev = crude_analytics::std_dev(returns, 1)?;
    let hist = historical_var_es(returns, confidences)?;
    let para = parametric_var_es(mean, std_dev, confidences)?;
    let mc = monte_carlo_var_es(mean, std_dev, confidences, MC_DRAWS, seed)?;
    let pct: Vec<f64> = returns.iter().map(|r| 100.0 * r).collect();
    let fit = fit_garch11(&pct)?;
    let keys: Vec<String> = confidences.iter().map(|&c| confidence_key(c)).collect();
    let table = |rows: &[VarEs], pick: fn(&VarEs) -> f64| {
        ConfidenceMap(keys.iter().cloned().zip(rows.iter().map(pick)).collect())
    };
    Ok(SeriesRiskReport {
        observations: returns.len(),
        var: MethodTable {
            historical: table(&hist, |v| v.var),
            parametric: table(&para, |v| v.var),
            monte_carlo: table(&mc, |v| v.var),
        },
        es: MethodTable {
            historical: table(&hist, |v| v.es),
            parametric: table(&para, |v| v.es),
            monte_carlo: table(&mc, |v| v.es),
        },
        garch: GarchSummary {
            mu: fit.mu,
            omega: fit.omega,
            alpha: fit.alpha,
            beta: fit.beta,
            loglik: fit.loglik,
            next_variance: fit.next_variance,
        },
        details: SeriesRiskDetails {
            column: None,
            first_date: None,
            last_date: None,
            seed,
            mc_draws: MC_DRAWS,
            mean,
            std_dev,
        },
    })
}

/// `crude risk --input FILE [--window N|all] [--confidence 0.95,0.99] [--seed S]`: read a
/// dated price CSV ([`crate::read_price_series`]), take the window's log returns and
/// compute the report (see the module documentation).
///
/// # Errors
/// The file errors of [`crate::read_price_series`]; [`RiskError::WindowTooLarge`] when
/// the window asks for more returns than the file has (the message gives the largest
/// window that fits); [`RiskError::NonPositivePrice`] naming the line and date of a
/// price `≤ 0` inside the window; and the errors of [`series_risk`]. All have
/// [`RiskError::exit_code`] 2 except a GARCH fit that fails to converge (1).
pub fn run_risk_series(
    input: &Path,
    window: Window,
    confidences: &[f64],
    seed: u64,
) -> Result<SeriesRiskReport, RiskError> {
    validate_confidences(confidences)?;
    let series = read_price_series(input)?;
    let n_prices = series.prices.len();
    let available = n_prices - 1;
    let first = match window {
        Window::All => 0,
        Window::Last(w) if w <= available => n_prices - 1 - w,
        Window::Last(w) => {
            return Err(RiskError::WindowTooLarge { window: w, needed: w + 1, prices: n_prices, available });
        }
    };
    let used = &series.prices[first..];
    if let Some(i) = used.iter().position(|&p| p <= 0.0) {
        let row = first + i;
        return Err(RiskError::NonPositivePrice {
            path: series.path.clone(),
            line: series.lines[row],
            date: series.date_label(row),
            column: series.column.clone(),
            price: series.prices[row],
        });
    }
    let returns = crude_analytics::log_returns(used)?;
    let mut report = series_risk(&returns, confidences, seed)?;
    report.details.column = Some(series.column.clone());
    report.details.first_date = Some(series.date_label(first));
    report.details.last_date = Some(series.date_label(n_prices - 1));
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_parsing() {
        assert_eq!("all".parse::<Window>().unwrap(), Window::All);
        assert_eq!(" ALL ".parse::<Window>().unwrap(), Window::All);
        assert_eq!("250".parse::<Window>().unwrap(), Window::Last(250));
        assert!("0".parse::<Window>().is_err());
        assert!("-5".parse::<Window>().is_err());
        let err = "1e3".parse::<Window>().unwrap_err();
        assert!(err.to_string().contains("--window '1e3'"), "{err}");
        assert_eq!(err.exit_code(), 2);
        assert_eq!(Window::default(), Window::Last(1000));
        assert_eq!(Window::All.to_string(), "all");
    }

    #[test]
    fn confidence_keys_and_parsing() {
        assert_eq!(confidence_key(0.95), "0.95");
        assert_eq!(confidence_key(0.975), "0.975");
        assert_eq!(confidence_key("0.950".parse().unwrap()), "0.95");
        assert_eq!(parse_confidences("0.95, 0.99").unwrap(), vec![0.95, 0.99]);
        assert!(parse_confidences("95").is_err());
        assert!(parse_confidences("0.95,0.95").unwrap_err().to_string().contains("twice"));
        assert!(parse_confidences("0.9,abc").unwrap_err().to_string().contains("'abc'"));
        assert!(validate_confidences(&[]).is_err());
        assert!(validate_confidences(&[1.0]).is_err());
    }

    #[test]
    fn numpy_linear_quantile() {
        let x = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert_eq!(quantile_linear(&x, 0.0), 1.0);
        assert_eq!(quantile_linear(&x, 1.0), 10.0);
        assert_eq!(quantile_linear(&x, 0.5), 3.0);
        assert!((quantile_linear(&x, 0.1) - 1.4).abs() < 1e-15);
        assert!((quantile_linear(&x, 0.9) - 7.6).abs() < 1e-14);
        assert!(quantile_linear(&[], 0.5).is_nan());
    }

    #[test]
    fn tail_selection_equals_a_full_sort() {
        for n in [1usize, 2, 3, 20, 101, 5000] {
            let mut values: Vec<f64> = normal_draws(0.0, 1.0, n.max(1000), n as u64)[..n].to_vec();
            let confs = [0.5, 0.9, 0.95, 0.99, 0.999];
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let full: Vec<VarEs> = confs.iter().map(|&c| empirical_var_es(&sorted, n, c)).collect();
            assert_eq!(tail_var_es(&mut values, &confs), full, "n={n}");
        }
    }

    #[test]
    fn historical_es_averages_the_tail_at_or_below_the_quantile() {
        let r: Vec<f64> = (0..101).map(|i| (i as f64 - 50.0) / 1000.0).collect();
        let v = historical_var_es(&r, &[0.95]).unwrap()[0];
        // q = r[5] exactly (index 100 * 0.05 = 5.000000000000004 → tiny interpolation)
        assert!((v.var - 0.045).abs() < 1e-12, "{v:?}");
        let tail_mean = r[..6].iter().sum::<f64>() / 6.0;
        assert!((v.es + tail_mean).abs() < 1e-15, "{v:?}");
    }

    #[test]
    fn monte_carlo_is_independent_of_thread_count() {
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| monte_carlo_var_es(0.0003, 0.021, &[0.95, 0.99], 50_000, 7).unwrap())
        };
        let one = run(1);
        assert_eq!(one, run(2));
        assert_eq!(one, run(3));
        let other_seed = monte_carlo_var_es(0.0003, 0.021, &[0.95], 50_000, 8).unwrap();
        assert_ne!(one[0], other_seed[0]);
    }

    #[test]
    fn monte_carlo_agrees_with_parametric_within_its_standard_error() {
        let (mu, sd) = (0.0002, 0.02);
        let confs = [0.95, 0.99];
        let mc = monte_carlo_var_es(mu, sd, &confs, MC_DRAWS, DEFAULT_SEED).unwrap();
        let pa = parametric_var_es(mu, sd, &confs).unwrap();
        for ((m, p), c) in mc.iter().zip(&pa).zip(confs) {
            let z = norm_ppf(1.0 - c);
            let se = sd * (c * (1.0 - c) / MC_DRAWS as f64).sqrt() / norm_pdf(z);
            assert!((m.var - p.var).abs() < 4.0 * se, "c={c}: {} vs {} (se {se})", m.var, p.var);
            assert!((m.es - p.es).abs() < 6.0 * se, "c={c}: ES {} vs {}", m.es, p.es);
        }
    }

    #[test]
    fn draws_are_chunked_deterministically() {
        let a = normal_draws(0.0, 1.0, MC_CHUNK_DRAWS + 10, 3);
        assert_eq!(a.len(), MC_CHUNK_DRAWS + 10);
        let b = normal_draws(0.0, 1.0, MC_CHUNK_DRAWS, 3);
        assert_eq!(&a[..MC_CHUNK_DRAWS], &b[..]);
    }

    #[test]
    fn json_shape_and_key_order() {
        let r: Vec<f64> = (0..300).map(|i| ((i * 7919) % 101) as f64 / 5000.0 - 0.01).collect();
        let rep = series_risk(&r, &[0.99, 0.95], 1).unwrap();
        let json = serde_json::to_string(&rep).unwrap();
        assert!(json.starts_with("{\"observations\":300,\"var\":{\"historical\":{\"0.99\":"), "{json}");
        let order = ["\"var\"", "\"es\"", "\"garch\"", "\"parametric\"", "\"monte_carlo\""];
        for k in order {
            assert!(json.contains(k), "{k} missing in {json}");
        }
        let es_pos = json.find("\"es\"").unwrap();
        let garch_pos = json.find("\"garch\"").unwrap();
        assert!(es_pos < garch_pos);
        assert!(json.ends_with("}}"));
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v.as_object().unwrap().len(), 4);
        for key in ["mu", "omega", "alpha", "beta", "loglik", "next_variance"] {
            assert!(v["garch"][key].is_f64(), "{key}");
        }
        let (ours, parsed) =
            (rep.var.historical.get("0.95").unwrap(), v["var"]["historical"]["0.95"].as_f64().unwrap());
        assert!((ours - parsed).abs() <= 1e-15 * ours.abs(), "{ours} vs {parsed}");
    }
}

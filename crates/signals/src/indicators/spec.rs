//! Indicators chosen by name, the grammar `crude indicators --indicators` and the
//! configuration files use.
//!
//! # Grammar
//!
//! ```text
//! name   := family ( "_" param )*
//! family := word ( "_" word )*            word = ASCII letters
//! param  := whole number (periods) | decimal number (multipliers, e.g. 2 or 2.5)
//! list   := name ( "," name )*            blanks around names are ignored
//! ```
//!
//! Names are case-insensitive. Every parameter is required; the family fixes their count:
//!
//! | name | indicator | output columns |
//! | --- | --- | --- |
//! | `sma_N` | SMA(N) | `sma_N` |
//! | `ema_N` | EMA(N) | `ema_N` |
//! | `wma_N` | WMA(N) | `wma_N` |
//! | `rsi_N` | RSI(N) | `rsi_N` |
//! | `macd_F_S_G` | MACD(fast F, slow S, signal G) | `macd_F_S_G`, `macd_signal_F_S_G`, `macd_hist_F_S_G` |
//! | `bb_N_K` | Bollinger(N, K σ) | `bb_upper_N_K`, `bb_middle_N_K`, `bb_lower_N_K` |
//! | `atr_N` | ATR(N) † | `atr_N` |
//! | `natr_N` | NATR(N) † | `natr_N` |
//! | `adx_N` | ADX(N) † | `adx_N` |
//! | `plus_di_N` | +DI(N) † | `plus_di_N` |
//! | `minus_di_N` | −DI(N) † | `minus_di_N` |
//! | `stoch_K_SK_SD` | STOCH(fastk K, slowk SK, slowd SD; SMA smoothing) † | `stoch_k_K_SK_SD`, `stoch_d_K_SK_SD` |
//! | `willr_N` | Williams %R(N) † | `willr_N` |
//! | `roc_N` | ROC(N) | `roc_N` |
//! | `cci_N` | CCI(N) † | `cci_N` |
//! | `obv` | OBV ‡ | `obv` |
//! | `mfi_N` | MFI(N) † ‡ | `mfi_N` |
//! | `donchian_N` | Donchian(N) † | `donchian_upper_N`, `donchian_middle_N`, `donchian_lower_N` |
//! | `keltner_N_K` or `keltner_N_K_M` | EMA(N) ± K·ATR(M), M = N when omitted † | `keltner_upper_N_K[_M]`, `keltner_middle_N_K[_M]`, `keltner_lower_N_K[_M]` |
//! | `vwap` | session-anchored VWAP † ‡ | `vwap` |
//! | `supertrend_N_K` | Supertrend(ATR N, K) † | `supertrend_N_K`, `supertrend_dir_N_K` |
//! | `zscore_N` | rolling z-score(N), population σ | `zscore_N` |
//!
//! † needs high and low; ‡ needs volume. Numbers in column names are written in their
//! shortest form: `bb_20_2.0` and `bb_20_2` both give `bb_upper_20_2`.

use thiserror::Error;

use super::common::{IndicatorError, OhlcvBar, OhlcvSeries};
use super::momentum::{Cci, Macd, Roc, Rsi, Stoch, StochConfig, WillR, cci, macd, roc, rsi, stoch, willr};
use super::moving_average::{Ema, Sma, Wma, ema, sma, wma};
use super::trend::{Dmi, Supertrend, dmi, rename, supertrend};
use super::volatility::{
    Atr, Bollinger, Donchian, Keltner, Natr, ZScore, atr, bollinger, donchian, keltner, natr, zscore,
};
use super::volume::{Mfi, Obv, Vwap, mfi, obv, vwap};

/// The accepted indicator names, for error messages.
pub const INDICATOR_FORMS: &str = "sma_N, ema_N, wma_N, rsi_N, macd_FAST_SLOW_SIGNAL, bb_N_K, atr_N, natr_N, adx_N, \
plus_di_N, minus_di_N, stoch_FASTK_SLOWK_SLOWD, willr_N, roc_N, cci_N, obv, mfi_N, donchian_N, keltner_N_K[_ATRN], \
vwap, supertrend_N_K, zscore_N";

/// An error in an indicator name.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SpecError {
    /// An empty entry in the list (e.g. `sma_20,,rsi_14`).
    #[error("empty indicator name at position {position} of the list; separate names with single commas")]
    Empty {
        /// 1-based position in the comma list.
        position: usize,
    },
    /// A family that is not known.
    #[error("unknown indicator `{name}`; known forms: {INDICATOR_FORMS}")]
    Unknown {
        /// The name as given.
        name: String,
    },
    /// Wrong number or form of parameters.
    #[error("indicator `{name}`: {reason}; write it as {form}")]
    BadParams {
        /// The name as given.
        name: String,
        /// What is wrong.
        reason: String,
        /// The expected form, e.g. `macd_FAST_SLOW_SIGNAL (e.g. macd_12_26_9)`.
        form: &'static str,
    },
    /// Parameters of the right form but out of range.
    #[error("indicator `{name}`: {source}")]
    Invalid {
        /// The name as given.
        name: String,
        /// The range error.
        source: IndicatorError,
    },
    /// The same indicator twice in one list.
    #[error("indicator `{name}` is listed twice; list each indicator once")]
    Duplicate {
        /// The canonical name.
        name: String,
    },
}

/// What inputs an indicator reads beyond the close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Needs {
    /// Needs high and low.
    pub high_low: bool,
    /// Needs volume.
    pub volume: bool,
}

/// One indicator with its parameters, parsed from a name such as `rsi_14` or `bb_20_2.5`.
#[derive(Debug, Clone, PartialEq)]
pub enum IndicatorSpec {
    /// `sma_N`.
    Sma { period: usize },
    /// `ema_N`.
    Ema { period: usize },
    /// `wma_N`.
    Wma { period: usize },
    /// `rsi_N`.
    Rsi { period: usize },
    /// `macd_F_S_G`.
    Macd { fast: usize, slow: usize, signal: usize },
    /// `bb_N_K`.
    Bollinger { period: usize, k: f64 },
    /// `atr_N`.
    Atr { period: usize },
    /// `natr_N`.
    Natr { period: usize },
    /// `adx_N`.
    Adx { period: usize },
    /// `plus_di_N`.
    PlusDi { period: usize },
    /// `minus_di_N`.
    MinusDi { period: usize },
    /// `stoch_K_SK_SD` (SMA smoothing).
    Stoch { fastk: usize, slowk: usize, slowd: usize },
    /// `willr_N`.
    WillR { period: usize },
    /// `roc_N`.
    Roc { period: usize },
    /// `cci_N`.
    Cci { period: usize },
    /// `obv`.
    Obv,
    /// `mfi_N`.
    Mfi { period: usize },
    /// `donchian_N`.
    Donchian { period: usize },
    /// `keltner_N_K[_M]`.
    Keltner { period: usize, k: f64, atr_period: Option<usize> },
    /// `vwap`.
    Vwap,
    /// `supertrend_N_K`.
    Supertrend { period: usize, k: f64 },
    /// `zscore_N`.
    ZScore { period: usize },
}

/// Shortest decimal form of a multiplier (`2.0` -> `2`, `2.50` -> `2.5`, never `-0`).
fn fmt_num(x: f64) -> String {
    if x == 0.0 { "0".to_string() } else { format!("{x}") }
}

enum Param {
    Int(usize),
    Num(f64),
}

fn parse_params(name: &str, tokens: &[&str], kinds: &[bool], form: &'static str) -> Result<Vec<Param>, SpecError> {
    // `kinds[i]` is true for a whole-number parameter, false for a decimal multiplier.
    let bad = |reason: String| SpecError::BadParams { name: name.to_string(), reason, form };
    if tokens.len() != kinds.len() {
        return Err(bad(format!("expected {} parameter(s), found {}", kinds.len(), tokens.len())));
    }
    tokens
        .iter()
        .zip(kinds)
        .enumerate()
        .map(|(i, (tok, &int))| {
            if int {
                if tok.is_empty() || !tok.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad(format!("parameter {} `{tok}` is not a whole number", i + 1)));
                }
                tok.parse::<usize>()
                    .map(Param::Int)
                    .map_err(|_| bad(format!("parameter {} `{tok}` is too large", i + 1)))
            } else {
                let ok_chars = !tok.is_empty() && tok.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-');
                match tok.parse::<f64>() {
                    Ok(v) if ok_chars && v.is_finite() => Ok(Param::Num(v)),
                    _ => Err(bad(format!("parameter {} `{tok}` is not a decimal number", i + 1))),
                }
            }
        })
        .collect()
}

impl IndicatorSpec {
    /// Parse one name (see the module docs for the grammar) and check its parameters.
    ///
    /// # Errors
    /// [`SpecError::Unknown`], [`SpecError::BadParams`] or [`SpecError::Invalid`].
    pub fn parse(raw: &str) -> Result<Self, SpecError> {
        let name = raw.trim().to_ascii_lowercase();
        let tokens: Vec<&str> = name.split('_').collect();
        let family_len = tokens.iter().take_while(|t| t.starts_with(|c: char| c.is_ascii_alphabetic())).count();
        let family = tokens[..family_len].join("_");
        let params = &tokens[family_len..];
        let unknown = || SpecError::Unknown { name: raw.trim().to_string() };
        if family.is_empty() || params.iter().any(|t| t.starts_with(|c: char| c.is_ascii_alphabetic())) {
            return Err(unknown());
        }
        use Param::{Int, Num};
        let one = |form| -> Result<usize, SpecError> {
            match parse_params(&name, params, &[true], form)?.as_slice() {
                [Int(p)] => Ok(*p),
                _ => Err(unknown()),
            }
        };
        let spec = match family.as_str() {
            "sma" => Self::Sma { period: one("sma_N (e.g. sma_20)")? },
            "ema" => Self::Ema { period: one("ema_N (e.g. ema_20)")? },
            "wma" => Self::Wma { period: one("wma_N (e.g. wma_10)")? },
            "rsi" => Self::Rsi { period: one("rsi_N (e.g. rsi_14)")? },
            "atr" => Self::Atr { period: one("atr_N (e.g. atr_14)")? },
            "natr" => Self::Natr { period: one("natr_N (e.g. natr_14)")? },
            "adx" => Self::Adx { period: one("adx_N (e.g. adx_14)")? },
            "plus_di" => Self::PlusDi { period: one("plus_di_N (e.g. plus_di_14)")? },
            "minus_di" => Self::MinusDi { period: one("minus_di_N (e.g. minus_di_14)")? },
            "willr" => Self::WillR { period: one("willr_N (e.g. willr_14)")? },
            "roc" => Self::Roc { period: one("roc_N (e.g. roc_10)")? },
            "cci" => Self::Cci { period: one("cci_N (e.g. cci_20)")? },
            "mfi" => Self::Mfi { period: one("mfi_N (e.g. mfi_14)")? },
            "donchian" => Self::Donchian { period: one("donchian_N (e.g. donchian_20)")? },
            "zscore" => Self::ZScore { period: one("zscore_N (e.g. zscore_20)")? },
            "obv" | "vwap" => {
                if !params.is_empty() {
                    return Err(SpecError::BadParams {
                        name: name.clone(),
                        reason: "takes no parameters".to_string(),
                        form: if family == "obv" { "obv" } else { "vwap" },
                    });
                }
                if family == "obv" { Self::Obv } else { Self::Vwap }
            }
            "macd" => {
                match parse_params(&name, params, &[true, true, true], "macd_FAST_SLOW_SIGNAL (e.g. macd_12_26_9)")?
                    .as_slice()
                {
                    [Int(fast), Int(slow), Int(signal)] => Self::Macd { fast: *fast, slow: *slow, signal: *signal },
                    _ => return Err(unknown()),
                }
            }
            "stoch" => {
                match parse_params(&name, params, &[true, true, true], "stoch_FASTK_SLOWK_SLOWD (e.g. stoch_5_3_3)")?
                    .as_slice()
                {
                    [Int(fastk), Int(slowk), Int(slowd)] => Self::Stoch { fastk: *fastk, slowk: *slowk, slowd: *slowd },
                    _ => return Err(unknown()),
                }
            }
            "bb" => match parse_params(&name, params, &[true, false], "bb_N_K (e.g. bb_20_2 or bb_20_2.5)")?.as_slice()
            {
                [Int(period), Num(k)] => Self::Bollinger { period: *period, k: *k },
                _ => return Err(unknown()),
            },
            "supertrend" => {
                match parse_params(&name, params, &[true, false], "supertrend_N_K (e.g. supertrend_10_3)")?.as_slice() {
                    [Int(period), Num(k)] => Self::Supertrend { period: *period, k: *k },
                    _ => return Err(unknown()),
                }
            }
            "keltner" => {
                let form = "keltner_N_K or keltner_N_K_ATRN (e.g. keltner_20_2 or keltner_20_2_10)";
                let kinds: &[bool] = if params.len() == 3 { &[true, false, true] } else { &[true, false] };
                match parse_params(&name, params, kinds, form)?.as_slice() {
                    [Int(period), Num(k)] => Self::Keltner { period: *period, k: *k, atr_period: None },
                    [Int(period), Num(k), Int(m)] => Self::Keltner { period: *period, k: *k, atr_period: Some(*m) },
                    _ => return Err(unknown()),
                }
            }
            _ => return Err(unknown()),
        };
        spec.stream().map_err(|source| SpecError::Invalid { name: name.clone(), source })?;
        Ok(spec)
    }

    /// Parse a comma-separated list, rejecting empty entries and duplicates.
    ///
    /// # Errors
    /// Any [`SpecError`], for the first bad entry.
    pub fn parse_list(list: &str) -> Result<Vec<Self>, SpecError> {
        let mut out: Vec<Self> = Vec::new();
        let mut ids: Vec<String> = Vec::new();
        for (i, raw) in list.split(',').enumerate() {
            if raw.trim().is_empty() {
                return Err(SpecError::Empty { position: i + 1 });
            }
            let spec = Self::parse(raw)?;
            let id = spec.id();
            if ids.contains(&id) {
                return Err(SpecError::Duplicate { name: id });
            }
            ids.push(id);
            out.push(spec);
        }
        Ok(out)
    }

    /// The canonical name, e.g. `bb_20_2.5` (numbers in shortest form).
    pub fn id(&self) -> String {
        match self {
            Self::Sma { period } => format!("sma_{period}"),
            Self::Ema { period } => format!("ema_{period}"),
            Self::Wma { period } => format!("wma_{period}"),
            Self::Rsi { period } => format!("rsi_{period}"),
            Self::Macd { fast, slow, signal } => format!("macd_{fast}_{slow}_{signal}"),
            Self::Bollinger { period, k } => format!("bb_{period}_{}", fmt_num(*k)),
            Self::Atr { period } => format!("atr_{period}"),
            Self::Natr { period } => format!("natr_{period}"),
            Self::Adx { period } => format!("adx_{period}"),
            Self::PlusDi { period } => format!("plus_di_{period}"),
            Self::MinusDi { period } => format!("minus_di_{period}"),
            Self::Stoch { fastk, slowk, slowd } => format!("stoch_{fastk}_{slowk}_{slowd}"),
            Self::WillR { period } => format!("willr_{period}"),
            Self::Roc { period } => format!("roc_{period}"),
            Self::Cci { period } => format!("cci_{period}"),
            Self::Obv => "obv".to_string(),
            Self::Mfi { period } => format!("mfi_{period}"),
            Self::Donchian { period } => format!("donchian_{period}"),
            Self::Keltner { period, k, atr_period } => match atr_period {
                Some(m) => format!("keltner_{period}_{}_{m}", fmt_num(*k)),
                None => format!("keltner_{period}_{}", fmt_num(*k)),
            },
            Self::Vwap => "vwap".to_string(),
            Self::Supertrend { period, k } => format!("supertrend_{period}_{}", fmt_num(*k)),
            Self::ZScore { period } => format!("zscore_{period}"),
        }
    }

    /// The output column names, in output order.
    pub fn columns(&self) -> Vec<String> {
        let id = self.id();
        let suffix = |prefix: &str| id.strip_prefix(prefix).unwrap_or_default().to_string();
        match self {
            Self::Macd { .. } => {
                let s = suffix("macd");
                vec![format!("macd{s}"), format!("macd_signal{s}"), format!("macd_hist{s}")]
            }
            Self::Bollinger { .. } => {
                let s = suffix("bb");
                vec![format!("bb_upper{s}"), format!("bb_middle{s}"), format!("bb_lower{s}")]
            }
            Self::Stoch { .. } => {
                let s = suffix("stoch");
                vec![format!("stoch_k{s}"), format!("stoch_d{s}")]
            }
            Self::Donchian { .. } => {
                let s = suffix("donchian");
                vec![format!("donchian_upper{s}"), format!("donchian_middle{s}"), format!("donchian_lower{s}")]
            }
            Self::Keltner { .. } => {
                let s = suffix("keltner");
                vec![format!("keltner_upper{s}"), format!("keltner_middle{s}"), format!("keltner_lower{s}")]
            }
            Self::Supertrend { .. } => {
                let s = suffix("supertrend");
                vec![format!("supertrend{s}"), format!("supertrend_dir{s}")]
            }
            _ => vec![id],
        }
    }

    /// The inputs it needs beyond the close.
    pub fn needs(&self) -> Needs {
        match self {
            Self::Sma { .. }
            | Self::Ema { .. }
            | Self::Wma { .. }
            | Self::Rsi { .. }
            | Self::Macd { .. }
            | Self::Bollinger { .. }
            | Self::Roc { .. }
            | Self::ZScore { .. } => Needs::default(),
            Self::Obv => Needs { high_low: false, volume: true },
            Self::Mfi { .. } | Self::Vwap => Needs { high_low: true, volume: true },
            _ => Needs { high_low: true, volume: false },
        }
    }

    /// Compute the indicator over a whole series: one vector per output column (see
    /// [`IndicatorSpec::columns`]), each the series' length, `NaN` where there is no value.
    ///
    /// # Errors
    /// [`IndicatorError::MissingInput`] when the series lacks high/low, volume or (for
    /// `vwap`) session ids; range errors as for the indicator's constructor.
    pub fn compute(&self, data: &OhlcvSeries) -> Result<Vec<Vec<f64>>, IndicatorError> {
        let c = data.close();
        Ok(match self {
            Self::Sma { period } => vec![sma(c, *period)?],
            Self::Ema { period } => vec![ema(c, *period)?],
            Self::Wma { period } => vec![wma(c, *period)?],
            Self::Rsi { period } => vec![rsi(c, *period)?],
            Self::Macd { fast, slow, signal } => {
                let m = macd(c, *fast, *slow, *signal)?;
                vec![m.macd, m.signal, m.hist]
            }
            Self::Bollinger { period, k } => {
                let b = bollinger(c, *period, *k)?;
                vec![b.upper, b.middle, b.lower]
            }
            Self::Roc { period } => vec![roc(c, *period)?],
            Self::ZScore { period } => vec![zscore(c, *period)?],
            Self::Obv => vec![obv(c, data.need_volume("obv")?)?],
            Self::Atr { period } => {
                let (h, l) = data.need_high_low("atr")?;
                vec![atr(h, l, c, *period)?]
            }
            Self::Natr { period } => {
                let (h, l) = data.need_high_low("natr")?;
                vec![natr(h, l, c, *period)?]
            }
            Self::Adx { period } => {
                let (h, l) = data.need_high_low("adx")?;
                vec![dmi(h, l, c, *period)?.adx]
            }
            Self::PlusDi { period } => {
                let (h, l) = data.need_high_low("plus_di")?;
                vec![dmi(h, l, c, *period)?.plus_di]
            }
            Self::MinusDi { period } => {
                let (h, l) = data.need_high_low("minus_di")?;
                vec![dmi(h, l, c, *period)?.minus_di]
            }
            Self::Stoch { fastk, slowk, slowd } => {
                let (h, l) = data.need_high_low("stoch")?;
                let s = stoch(h, l, c, StochConfig::sma(*fastk, *slowk, *slowd))?;
                vec![s.k, s.d]
            }
            Self::WillR { period } => {
                let (h, l) = data.need_high_low("willr")?;
                vec![willr(h, l, c, *period)?]
            }
            Self::Cci { period } => {
                let (h, l) = data.need_high_low("cci")?;
                vec![cci(h, l, c, *period)?]
            }
            Self::Mfi { period } => {
                let (h, l) = data.need_high_low("mfi")?;
                vec![mfi(h, l, c, data.need_volume("mfi")?, *period)?]
            }
            Self::Donchian { period } => {
                let (h, l) = data.need_high_low("donchian")?;
                let b = donchian(h, l, *period)?;
                vec![b.upper, b.middle, b.lower]
            }
            Self::Keltner { period, k, atr_period } => {
                let (h, l) = data.need_high_low("keltner")?;
                let b = keltner(h, l, c, *period, *k, atr_period.unwrap_or(*period))?;
                vec![b.upper, b.middle, b.lower]
            }
            Self::Vwap => {
                let (h, l) = data.need_high_low("vwap")?;
                vec![vwap(h, l, c, data.need_volume("vwap")?, data.need_sessions("vwap")?)?]
            }
            Self::Supertrend { period, k } => {
                let (h, l) = data.need_high_low("supertrend")?;
                let s = supertrend(h, l, c, *period, *k)?;
                vec![s.value, s.direction]
            }
        })
    }

    /// A streaming instance of the indicator.
    ///
    /// # Errors
    /// Range errors as for the indicator's constructor.
    pub fn stream(&self) -> Result<IndicatorStream, IndicatorError> {
        Ok(match self {
            Self::Sma { period } => IndicatorStream::Sma(Sma::new(*period)?),
            Self::Ema { period } => IndicatorStream::Ema(Ema::new(*period)?),
            Self::Wma { period } => IndicatorStream::Wma(Wma::new(*period)?),
            Self::Rsi { period } => IndicatorStream::Rsi(Rsi::new(*period)?),
            Self::Macd { fast, slow, signal } => IndicatorStream::Macd(Macd::new(*fast, *slow, *signal)?),
            Self::Bollinger { period, k } => IndicatorStream::Bollinger(Bollinger::new(*period, *k)?),
            Self::Atr { period } => IndicatorStream::Atr(Atr::new(*period)?),
            Self::Natr { period } => IndicatorStream::Natr(Natr::new(*period)?),
            Self::Adx { period } => IndicatorStream::Adx(Dmi::new(*period).map_err(|e| rename(e, "adx"))?),
            Self::PlusDi { period } => IndicatorStream::PlusDi(Dmi::new(*period).map_err(|e| rename(e, "plus_di"))?),
            Self::MinusDi { period } => IndicatorStream::MinusDi(Dmi::new(*period).map_err(|e| rename(e, "minus_di"))?),
            Self::Stoch { fastk, slowk, slowd } => {
                IndicatorStream::Stoch(Stoch::new(StochConfig::sma(*fastk, *slowk, *slowd))?)
            }
            Self::WillR { period } => IndicatorStream::WillR(WillR::new(*period)?),
            Self::Roc { period } => IndicatorStream::Roc(Roc::new(*period)?),
            Self::Cci { period } => IndicatorStream::Cci(Cci::new(*period)?),
            Self::Obv => IndicatorStream::Obv(Obv::new()),
            Self::Mfi { period } => IndicatorStream::Mfi(Mfi::new(*period)?),
            Self::Donchian { period } => IndicatorStream::Donchian(Donchian::new(*period)?),
            Self::Keltner { period, k, atr_period } => {
                IndicatorStream::Keltner(Keltner::new(*period, *k, atr_period.unwrap_or(*period))?)
            }
            Self::Vwap => IndicatorStream::Vwap(Vwap::new()),
            Self::Supertrend { period, k } => IndicatorStream::Supertrend(Supertrend::new(*period, *k)?),
            Self::ZScore { period } => IndicatorStream::ZScore(ZScore::new(*period)?),
        })
    }
}

/// A streaming indicator chosen at run time (from an [`IndicatorSpec`]).
#[derive(Debug, Clone)]
pub enum IndicatorStream {
    /// SMA.
    Sma(Sma),
    /// EMA.
    Ema(Ema),
    /// WMA.
    Wma(Wma),
    /// RSI.
    Rsi(Rsi),
    /// MACD.
    Macd(Macd),
    /// Bollinger bands.
    Bollinger(Bollinger),
    /// ATR.
    Atr(Atr),
    /// NATR.
    Natr(Natr),
    /// ADX (from the full directional system).
    Adx(Dmi),
    /// +DI.
    PlusDi(Dmi),
    /// −DI.
    MinusDi(Dmi),
    /// Stochastic.
    Stoch(Stoch),
    /// Williams %R.
    WillR(WillR),
    /// ROC.
    Roc(Roc),
    /// CCI.
    Cci(Cci),
    /// OBV.
    Obv(Obv),
    /// MFI.
    Mfi(Mfi),
    /// Donchian channel.
    Donchian(Donchian),
    /// Keltner channel.
    Keltner(Keltner),
    /// Session-anchored VWAP.
    Vwap(Vwap),
    /// Supertrend.
    Supertrend(Supertrend),
    /// Rolling z-score.
    ZScore(ZScore),
}

impl IndicatorStream {
    /// Feed one bar (with its session id, used by VWAP only) and append one value per
    /// output column to `out`, `NaN` where there is none yet.
    pub fn update_into(&mut self, bar: &OhlcvBar, session: i64, out: &mut Vec<f64>) {
        let nan = f64::NAN;
        let one = |v: Option<f64>, out: &mut Vec<f64>| out.push(v.unwrap_or(nan));
        match self {
            Self::Sma(s) => one(s.update(bar.close), out),
            Self::Ema(s) => one(s.update(bar.close), out),
            Self::Wma(s) => one(s.update(bar.close), out),
            Self::Rsi(s) => one(s.update(bar.close), out),
            Self::Roc(s) => one(s.update(bar.close), out),
            Self::ZScore(s) => one(s.update(bar.close), out),
            Self::Macd(s) => {
                let o = s.update(bar.close);
                out.extend([o.map_or(nan, |o| o.macd), o.map_or(nan, |o| o.signal), o.map_or(nan, |o| o.hist)]);
            }
            Self::Bollinger(s) => {
                let o = s.update(bar.close);
                out.extend([o.map_or(nan, |o| o.upper), o.map_or(nan, |o| o.middle), o.map_or(nan, |o| o.lower)]);
            }
            Self::Atr(s) => one(s.update(bar), out),
            Self::Natr(s) => one(s.update(bar), out),
            Self::Adx(s) => one(s.update(bar).adx, out),
            Self::PlusDi(s) => one(s.update(bar).plus_di, out),
            Self::MinusDi(s) => one(s.update(bar).minus_di, out),
            Self::Stoch(s) => {
                let o = s.update(bar);
                out.extend([o.map_or(nan, |o| o.k), o.map_or(nan, |o| o.d)]);
            }
            Self::WillR(s) => one(s.update(bar), out),
            Self::Cci(s) => one(s.update(bar), out),
            Self::Obv(s) => one(s.update(bar), out),
            Self::Mfi(s) => one(s.update(bar), out),
            Self::Donchian(s) => {
                let o = s.update(bar);
                out.extend([o.map_or(nan, |o| o.upper), o.map_or(nan, |o| o.middle), o.map_or(nan, |o| o.lower)]);
            }
            Self::Keltner(s) => {
                let o = s.update(bar);
                out.extend([o.map_or(nan, |o| o.upper), o.map_or(nan, |o| o.middle), o.map_or(nan, |o| o.lower)]);
            }
            Self::Vwap(s) => one(s.update(bar, session), out),
            Self::Supertrend(s) => {
                let o = s.update(bar);
                out.extend([o.map_or(nan, |o| o.value), o.map_or(nan, |o| f64::from(o.direction))]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_documented_example() {
        let list = "sma_50,ema_9,rsi_7,wma_10,macd_12_26_9,bb_20_2.5,atr_14,natr_14,adx_14,plus_di_14,minus_di_14,\
stoch_5_3_3,willr_14,roc_10,cci_20,obv,mfi_14,donchian_20,keltner_20_2,vwap,supertrend_10_3,zscore_20";
        let specs = IndicatorSpec::parse_list(list).unwrap();
        assert_eq!(specs.len(), 22);
        let cols: Vec<String> = specs.iter().flat_map(|s| s.columns()).collect();
        assert_eq!(
            cols,
            [
                "sma_50",
                "ema_9",
                "rsi_7",
                "wma_10",
                "macd_12_26_9",
                "macd_signal_12_26_9",
                "macd_hist_12_26_9",
                "bb_upper_20_2.5",
                "bb_middle_20_2.5",
                "bb_lower_20_2.5",
                "atr_14",
                "natr_14",
                "adx_14",
                "plus_di_14",
                "minus_di_14",
                "stoch_k_5_3_3",
                "stoch_d_5_3_3",
                "willr_14",
                "roc_10",
                "cci_20",
                "obv",
                "mfi_14",
                "donchian_upper_20",
                "donchian_middle_20",
                "donchian_lower_20",
                "keltner_upper_20_2",
                "keltner_middle_20_2",
                "keltner_lower_20_2",
                "vwap",
                "supertrend_10_3",
                "supertrend_dir_10_3",
                "zscore_20"
            ]
        );
    }

    #[test]
    fn canonical_numbers_and_case() {
        let s = IndicatorSpec::parse(" BB_20_2.0 ").unwrap();
        assert_eq!(s.columns(), ["bb_upper_20_2", "bb_middle_20_2", "bb_lower_20_2"]);
        assert_eq!(IndicatorSpec::parse("keltner_20_1.50_10").unwrap().columns()[0], "keltner_upper_20_1.5_10");
        assert_eq!(IndicatorSpec::parse("supertrend_10_0").unwrap().id(), "supertrend_10_0");
    }

    #[test]
    fn needs() {
        assert_eq!(IndicatorSpec::parse("rsi_14").unwrap().needs(), Needs::default());
        assert_eq!(IndicatorSpec::parse("obv").unwrap().needs(), Needs { high_low: false, volume: true });
        assert_eq!(IndicatorSpec::parse("vwap").unwrap().needs(), Needs { high_low: true, volume: true });
        assert_eq!(IndicatorSpec::parse("adx_14").unwrap().needs(), Needs { high_low: true, volume: false });
    }

    #[test]
    fn rejects_bad_names() {
        let unknown = |s: &str| matches!(IndicatorSpec::parse(s), Err(SpecError::Unknown { .. }));
        assert!(unknown("foo_3"));
        assert!(unknown("sma_20_x"));
        assert!(unknown("_20"));
        assert!(unknown(""));
        let bad = |s: &str| matches!(IndicatorSpec::parse(s), Err(SpecError::BadParams { .. }));
        assert!(bad("sma"));
        assert!(bad("sma_20_30"));
        assert!(bad("sma_2.5"));
        assert!(bad("sma_-3"));
        assert!(bad("macd_12_26"));
        assert!(bad("bb_20"));
        assert!(bad("bb_20_1e3"));
        assert!(bad("obv_3"));
        assert!(bad("keltner_20"));
        assert!(bad("sma_99999999999999999999999"));
        let invalid = |s: &str| matches!(IndicatorSpec::parse(s), Err(SpecError::Invalid { .. }));
        assert!(invalid("sma_1"));
        assert!(invalid("rsi_0"));
        assert!(invalid("adx_1"));
        assert!(invalid("sma_100001"));
        assert!(invalid("keltner_20_-1"));
        let msg = IndicatorSpec::parse("macd_12_26").unwrap_err().to_string();
        assert!(msg.contains("macd_12_26") && msg.contains("macd_12_26_9"), "{msg}");
        let msg = IndicatorSpec::parse("adx_1").unwrap_err().to_string();
        assert!(msg.contains("adx: period = 1"), "{msg}");
        assert!(matches!(IndicatorSpec::parse_list("sma_20,,rsi_14"), Err(SpecError::Empty { position: 2 })));
        assert!(matches!(IndicatorSpec::parse_list("bb_20_2,bb_20_2.0"), Err(SpecError::Duplicate { .. })));
    }

    #[test]
    fn compute_reports_missing_inputs() {
        let s = OhlcvSeries::from_close(vec![1.0, 2.0, 3.0]);
        for name in ["atr_14", "obv", "vwap", "mfi_14", "supertrend_10_3"] {
            let e = IndicatorSpec::parse(name).unwrap().compute(&s).unwrap_err();
            assert!(matches!(e, IndicatorError::MissingInput { .. }), "{name}: {e}");
        }
        let s = s.with_high_low(vec![1.0, 2.0, 3.0], vec![1.0, 2.0, 3.0]).unwrap().with_volume(vec![1.0; 3]).unwrap();
        let e = IndicatorSpec::Vwap.compute(&s).unwrap_err();
        assert!(e.to_string().contains("session"), "{e}");
    }
}

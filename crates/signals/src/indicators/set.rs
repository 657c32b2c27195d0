//! [`IndicatorSet`]: every indicator of the library updated together, one call per new
//! OHLCV bar, as the live app and the backtester use them.

use crude_model::Bar;
use serde::{Deserialize, Serialize};

use super::common::{IndicatorError, OhlcvBar, OhlcvSeries};
use super::momentum::{Cci, Macd, MacdOutput, Roc, Rsi, Stoch, StochConfig, StochOutput, WillR};
use super::moving_average::{Ema, Sma, Wma};
use super::trend::{Dmi, Supertrend, SupertrendOutput};
use super::volatility::{Atr, Bands, Bollinger, Donchian, Keltner, ZScore};
use super::volume::{Mfi, Obv, Vwap};

/// Periods and multipliers of an [`IndicatorSet`]. The defaults are the CLI defaults and
/// TA-Lib's usual settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IndicatorSetConfig {
    /// SMA period (20).
    pub sma_period: usize,
    /// EMA period (20).
    pub ema_period: usize,
    /// WMA period (20).
    pub wma_period: usize,
    /// RSI period (14).
    pub rsi_period: usize,
    /// MACD fast EMA period (12).
    pub macd_fast: usize,
    /// MACD slow EMA period (26).
    pub macd_slow: usize,
    /// MACD signal EMA period (9).
    pub macd_signal: usize,
    /// Bollinger period (20).
    pub bb_period: usize,
    /// Bollinger width in standard deviations (2).
    pub bb_k: f64,
    /// ATR and NATR period (14).
    pub atr_period: usize,
    /// ADX / ±DI period (14).
    pub adx_period: usize,
    /// Stochastic settings (5, 3 SMA, 3 SMA).
    pub stoch: StochConfig,
    /// Williams %R period (14).
    pub willr_period: usize,
    /// ROC period (10).
    pub roc_period: usize,
    /// CCI period (20).
    pub cci_period: usize,
    /// MFI period (14).
    pub mfi_period: usize,
    /// Donchian period (20).
    pub donchian_period: usize,
    /// Keltner EMA period (20).
    pub keltner_period: usize,
    /// Keltner ATR multiplier (2).
    pub keltner_k: f64,
    /// Keltner ATR period (20).
    pub keltner_atr_period: usize,
    /// Supertrend ATR period (10).
    pub supertrend_period: usize,
    /// Supertrend ATR multiplier (3).
    pub supertrend_k: f64,
    /// Z-score window (20).
    pub zscore_period: usize,
}

impl Default for IndicatorSetConfig {
    fn default() -> Self {
        Self {
            sma_period: 20,
            ema_period: 20,
            wma_period: 20,
            rsi_period: 14,
            macd_fast: 12,
            macd_slow: 26,
            macd_signal: 9,
            bb_period: 20,
            bb_k: 2.0,
            atr_period: 14,
            adx_period: 14,
            stoch: StochConfig::default(),
            willr_period: 14,
            roc_period: 10,
            cci_period: 20,
            mfi_period: 14,
            donchian_period: 20,
            keltner_period: 20,
            keltner_k: 2.0,
            keltner_atr_period: 20,
            supertrend_period: 10,
            supertrend_k: 3.0,
            zscore_period: 20,
        }
    }
}

/// Every indicator's value after one bar; `None` until that indicator has a value.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct IndicatorValues {
    /// SMA of the close.
    pub sma: Option<f64>,
    /// EMA of the close.
    pub ema: Option<f64>,
    /// WMA of the close.
    pub wma: Option<f64>,
    /// RSI of the close.
    pub rsi: Option<f64>,
    /// MACD line, signal and histogram.
    pub macd: Option<MacdOutput>,
    /// Bollinger bands.
    pub bollinger: Option<Bands>,
    /// ATR.
    pub atr: Option<f64>,
    /// NATR (ATR as a percentage of the close).
    pub natr: Option<f64>,
    /// +DI.
    pub plus_di: Option<f64>,
    /// −DI.
    pub minus_di: Option<f64>,
    /// ADX.
    pub adx: Option<f64>,
    /// Stochastic slow %K / %D.
    pub stoch: Option<StochOutput>,
    /// Williams %R.
    pub willr: Option<f64>,
    /// Rate of change, percent.
    pub roc: Option<f64>,
    /// CCI.
    pub cci: Option<f64>,
    /// On-balance volume.
    pub obv: Option<f64>,
    /// Money flow index.
    pub mfi: Option<f64>,
    /// Donchian channel.
    pub donchian: Option<Bands>,
    /// Keltner channel.
    pub keltner: Option<Bands>,
    /// Session-anchored VWAP.
    pub vwap: Option<f64>,
    /// Supertrend line and direction.
    pub supertrend: Option<SupertrendOutput>,
    /// Rolling z-score of the close.
    pub zscore: Option<f64>,
}

/// All indicators, streaming: one [`IndicatorSet::update`] per new bar updates every one
/// of them in O(1) (CCI in O(period)) with no allocation. Each value equals the one the
/// matching batch function gives at that bar.
#[derive(Debug, Clone)]
pub struct IndicatorSet {
    config: IndicatorSetConfig,
    sma: Sma,
    ema: Ema,
    wma: Wma,
    rsi: Rsi,
    macd: Macd,
    bollinger: Bollinger,
    atr: Atr,
    dmi: Dmi,
    stoch: Stoch,
    willr: WillR,
    roc: Roc,
    cci: Cci,
    obv: Obv,
    mfi: Mfi,
    donchian: Donchian,
    keltner: Keltner,
    vwap: Vwap,
    supertrend: Supertrend,
    zscore: ZScore,
    last: IndicatorValues,
    bars: u64,
}

impl IndicatorSet {
    /// A set with the given settings.
    ///
    /// # Errors
    /// The first out-of-range period or multiplier, naming its indicator.
    pub fn new(config: IndicatorSetConfig) -> Result<Self, IndicatorError> {
        let c = config;
        Ok(Self {
            config,
            sma: Sma::new(c.sma_period)?,
            ema: Ema::new(c.ema_period)?,
            wma: Wma::new(c.wma_period)?,
            rsi: Rsi::new(c.rsi_period)?,
            macd: Macd::new(c.macd_fast, c.macd_slow, c.macd_signal)?,
            bollinger: Bollinger::new(c.bb_period, c.bb_k)?,
            atr: {
                super::common::check_period("natr", "period", c.atr_period, 2)?;
                Atr::new(c.atr_period)?
            },
            dmi: Dmi::new(c.adx_period)?,
            stoch: Stoch::new(c.stoch)?,
            willr: WillR::new(c.willr_period)?,
            roc: Roc::new(c.roc_period)?,
            cci: Cci::new(c.cci_period)?,
            obv: Obv::new(),
            mfi: Mfi::new(c.mfi_period)?,
            donchian: Donchian::new(c.donchian_period)?,
            keltner: Keltner::new(c.keltner_period, c.keltner_k, c.keltner_atr_period)?,
            vwap: Vwap::new(),
            supertrend: Supertrend::new(c.supertrend_period, c.supertrend_k)?,
            zscore: ZScore::new(c.zscore_period)?,
            last: IndicatorValues::default(),
            bars: 0,
        })
    }

    /// Feed one bar with its session id (see [`Vwap`]) and get every indicator's value.
    #[inline]
    pub fn update(&mut self, bar: &OhlcvBar, session: i64) -> IndicatorValues {
        let close = bar.close;
        let atr = self.atr.update(bar);
        // NATR is ATR / close * 100, 0 when the close is within 1e-14 of zero (TA-Lib).
        let natr = atr.map(|a| if super::common::ta_is_zero(close) { 0.0 } else { (a / close) * 100.0 });
        let dmi = self.dmi.update(bar);
        let values = IndicatorValues {
            sma: self.sma.update(close),
            ema: self.ema.update(close),
            wma: self.wma.update(close),
            rsi: self.rsi.update(close),
            macd: self.macd.update(close),
            bollinger: self.bollinger.update(close),
            atr,
            natr,
            plus_di: dmi.plus_di,
            minus_di: dmi.minus_di,
            adx: dmi.adx,
            stoch: self.stoch.update(bar),
            willr: self.willr.update(bar),
            roc: self.roc.update(close),
            cci: self.cci.update(bar),
            obv: self.obv.update(bar),
            mfi: self.mfi.update(bar),
            donchian: self.donchian.update(bar),
            keltner: self.keltner.update(bar),
            vwap: self.vwap.update(bar, session),
            supertrend: self.supertrend.update(bar),
            zscore: self.zscore.update(close),
        };
        self.last = values;
        self.bars += 1;
        values
    }

    /// Feed one model bar (volume converted to `f64`) with its session id.
    #[inline]
    pub fn update_bar(&mut self, bar: &Bar, session: i64) -> IndicatorValues {
        self.update(&OhlcvBar::from(bar), session)
    }

    /// Run the set over a whole series (session ids from the series, or one session when
    /// it has none) and return the values after each bar.
    ///
    /// # Errors
    /// As for [`IndicatorSet::new`].
    pub fn run(config: IndicatorSetConfig, series: &OhlcvSeries) -> Result<Vec<IndicatorValues>, IndicatorError> {
        let mut set = Self::new(config)?;
        let sessions = series.sessions();
        Ok((0..series.len())
            .filter_map(|i| {
                let bar = series.bar(i)?;
                let session = sessions.and_then(|s| s.get(i).copied()).unwrap_or(0);
                Some(set.update(&bar, session))
            })
            .collect())
    }

    /// The values after the latest bar (all `None` before the first).
    pub fn last(&self) -> &IndicatorValues {
        &self.last
    }

    /// Number of bars fed since creation or the last reset.
    pub fn bars(&self) -> u64 {
        self.bars
    }

    /// The settings.
    pub fn config(&self) -> &IndicatorSetConfig {
        &self.config
    }

    /// Forget all bars (settings kept).
    pub fn reset(&mut self) {
        self.sma.reset();
        self.ema.reset();
        self.wma.reset();
        self.rsi.reset();
        self.macd.reset();
        self.bollinger.reset();
        self.atr.reset();
        self.dmi.reset();
        self.stoch.reset();
        self.willr.reset();
        self.roc.reset();
        self.cci.reset();
        self.obv.reset();
        self.mfi.reset();
        self.donchian.reset();
        self.keltner.reset();
        self.vwap.reset();
        self.supertrend.reset();
        self.zscore.reset();
        self.last = IndicatorValues::default();
        self.bars = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::{
        adx, atr, bollinger, cci, donchian, ema, keltner, macd, mfi, natr, obv, plus_di, roc, rsi, sma, stoch,
        supertrend, vwap, willr, wma, zscore,
    };

    type Columns = (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>, Vec<i64>);

    fn series(n: usize) -> Columns {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let (mut o, mut h, mut l, mut c, mut v, mut s) = (vec![], vec![], vec![], vec![], vec![], vec![]);
        let mut px = 3.0;
        for i in 0..n {
            let open = px;
            px += (next() - 0.52) * 1.5; // drifts down through zero
            let close = (px * 100.0).round() / 100.0;
            o.push(open);
            h.push(open.max(close) + next() * 0.5);
            l.push(open.min(close) - next() * 0.5);
            c.push(close);
            v.push((next() * 1000.0).floor());
            s.push((i / 24) as i64);
        }
        (o, h, l, c, v, s)
    }

    fn same(a: Option<f64>, b: f64, what: &str, i: usize) {
        match a {
            Some(x) => assert!((x - b).abs() <= 1e-9 * b.abs().max(1.0), "{what} bar {i}: {x} vs {b}"),
            None => assert!(b.is_nan(), "{what} bar {i}: None vs {b}"),
        }
    }

    #[test]
    fn set_matches_batch_functions_on_every_bar() {
        let (o, h, l, c, v, s) = series(600);
        let cfg = IndicatorSetConfig::default();
        let mut set = IndicatorSet::new(cfg).unwrap();
        let b_sma = sma(&c, 20).unwrap();
        let b_ema = ema(&c, 20).unwrap();
        let b_wma = wma(&c, 20).unwrap();
        let b_rsi = rsi(&c, 14).unwrap();
        let b_macd = macd(&c, 12, 26, 9).unwrap();
        let b_bb = bollinger(&c, 20, 2.0).unwrap();
        let b_atr = atr(&h, &l, &c, 14).unwrap();
        let b_natr = natr(&h, &l, &c, 14).unwrap();
        let b_adx = adx(&h, &l, &c, 14).unwrap();
        let b_pdi = plus_di(&h, &l, &c, 14).unwrap();
        let b_st = stoch(&h, &l, &c, StochConfig::default()).unwrap();
        let b_wr = willr(&h, &l, &c, 14).unwrap();
        let b_roc = roc(&c, 10).unwrap();
        let b_cci = cci(&h, &l, &c, 20).unwrap();
        let b_obv = obv(&c, &v).unwrap();
        let b_mfi = mfi(&h, &l, &c, &v, 14).unwrap();
        let b_dc = donchian(&h, &l, 20).unwrap();
        let b_kc = keltner(&h, &l, &c, 20, 2.0, 20).unwrap();
        let b_vw = vwap(&h, &l, &c, &v, &s).unwrap();
        let b_su = supertrend(&h, &l, &c, 10, 3.0).unwrap();
        let b_z = zscore(&c, 20).unwrap();
        for i in 0..c.len() {
            let r = set.update(&OhlcvBar::new(o[i], h[i], l[i], c[i], v[i]), s[i]);
            same(r.sma, b_sma[i], "sma", i);
            same(r.ema, b_ema[i], "ema", i);
            same(r.wma, b_wma[i], "wma", i);
            same(r.rsi, b_rsi[i], "rsi", i);
            same(r.macd.map(|m| m.macd), b_macd.macd[i], "macd", i);
            same(r.macd.map(|m| m.signal), b_macd.signal[i], "macd signal", i);
            same(r.macd.map(|m| m.hist), b_macd.hist[i], "macd hist", i);
            same(r.bollinger.map(|b| b.upper), b_bb.upper[i], "bb upper", i);
            same(r.bollinger.map(|b| b.lower), b_bb.lower[i], "bb lower", i);
            same(r.atr, b_atr[i], "atr", i);
            same(r.natr, b_natr[i], "natr", i);
            same(r.adx, b_adx[i], "adx", i);
            same(r.plus_di, b_pdi[i], "plus_di", i);
            same(r.stoch.map(|x| x.k), b_st.k[i], "stoch k", i);
            same(r.stoch.map(|x| x.d), b_st.d[i], "stoch d", i);
            same(r.willr, b_wr[i], "willr", i);
            same(r.roc, b_roc[i], "roc", i);
            same(r.cci, b_cci[i], "cci", i);
            same(r.obv, b_obv[i], "obv", i);
            same(r.mfi, b_mfi[i], "mfi", i);
            same(r.donchian.map(|x| x.upper), b_dc.upper[i], "donchian", i);
            same(r.keltner.map(|x| x.lower), b_kc.lower[i], "keltner", i);
            same(r.vwap, b_vw[i], "vwap", i);
            same(r.supertrend.map(|x| x.value), b_su.value[i], "supertrend", i);
            same(r.supertrend.map(|x| f64::from(x.direction)), b_su.direction[i], "supertrend dir", i);
            same(r.zscore, b_z[i], "zscore", i);
            assert_eq!(set.last(), &r);
        }
        assert_eq!(set.bars(), 600);
        assert_eq!(set.config(), &cfg);
        set.reset();
        assert_eq!(set.bars(), 0);
        assert_eq!(set.last(), &IndicatorValues::default());
    }

    #[test]
    fn run_over_series_and_model_bars() {
        let (o, h, l, c, v, s) = series(100);
        let ser = OhlcvSeries::from_ohlcv(o.clone(), h.clone(), l.clone(), c.clone(), v.clone())
            .unwrap()
            .with_sessions(s.clone())
            .unwrap();
        let all = IndicatorSet::run(IndicatorSetConfig::default(), &ser).unwrap();
        assert_eq!(all.len(), 100);
        let mut set = IndicatorSet::new(IndicatorSetConfig::default()).unwrap();
        for i in 0..100 {
            let bar = Bar {
                start: crude_model::Timestamp(i as i64),
                open: o[i],
                high: h[i],
                low: l[i],
                close: c[i],
                volume: v[i] as u64,
            };
            assert_eq!(set.update_bar(&bar, s[i]), all[i]);
        }
    }

    #[test]
    fn bad_config_names_the_indicator() {
        let cfg = IndicatorSetConfig { rsi_period: 1, ..IndicatorSetConfig::default() };
        let e = IndicatorSet::new(cfg).unwrap_err();
        assert!(e.to_string().starts_with("rsi:"), "{e}");
        let cfg = IndicatorSetConfig { keltner_k: f64::NAN, ..IndicatorSetConfig::default() };
        assert!(IndicatorSet::new(cfg).unwrap_err().to_string().starts_with("keltner:"));
        let cfg = IndicatorSetConfig { atr_period: 1, ..IndicatorSetConfig::default() };
        assert!(IndicatorSet::new(cfg).unwrap_err().to_string().starts_with("natr:"));
    }

    #[test]
    fn config_reads_from_yaml_with_defaults() {
        let cfg: IndicatorSetConfig = serde_yaml::from_str("rsi_period: 7\nstoch:\n  fastk_period: 14\n  slowk_period: 3\n  slowk_ma: ema\n  slowd_period: 3\n  slowd_ma: sma\n").unwrap();
        assert_eq!(cfg.rsi_period, 7);
        assert_eq!(cfg.sma_period, 20);
        assert_eq!(cfg.stoch.fastk_period, 14);
        assert!(serde_yaml::from_str::<IndicatorSetConfig>("rsi_perod: 7\n").is_err());
    }
}

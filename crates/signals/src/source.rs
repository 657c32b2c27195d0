//! Signal sources, directions and regime styles: the vocabulary shared by the config, the
//! engine, the history and the CLI.

use std::fmt;

use crude_model::Market;
use serde::{Deserialize, Serialize};

/// Every signal source the engine computes. The snake-case name is the key in
/// `config/signals.yaml`, in the history database and in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceId {
    /// Fast versus slow moving average.
    MaCrossover,
    /// RSI leaving an extreme zone (the exit from the zone confirms the setup).
    RsiExtremes,
    /// Close at or beyond a Bollinger band, ignored while the bands are inside the Keltner
    /// channel (the squeeze).
    BollingerTouch,
    /// Close beyond the previous bar's Donchian channel.
    DonchianBreakout,
    /// ADX strength with the ±DI direction.
    AdxTrend,
    /// Multi-horizon momentum (price change over several horizons, in ATR units).
    Momentum,
    /// MACD histogram in ATR units.
    MacdHistogram,
    /// Weekly EIA inventory surprise z-score.
    InventorySurprise,
    /// Term-structure carry (annualised roll yield).
    TermStructureCarry,
    /// 3-2-1 crack spread z-score, traded for mean reversion.
    CrackMeanReversion,
    /// WTI − Brent spread z-score, traded for mean reversion.
    WtiBrentSpread,
    /// OPEC+ production against quota.
    OpecQuota,
}

/// What a source needs beyond close prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SourceNeeds {
    /// Bar highs and lows.
    pub high_low: bool,
    /// Futures curve snapshots of the market.
    pub curve: bool,
    /// Weekly inventory reports.
    pub inventory: bool,
    /// Bars of other markets (cracks, WTI–Brent).
    pub other_markets: bool,
    /// An OPEC+ production table.
    pub opec_table: bool,
}

impl SourceId {
    /// Every source, in display order (technical first).
    pub const ALL: [SourceId; 12] = [
        SourceId::MaCrossover,
        SourceId::RsiExtremes,
        SourceId::BollingerTouch,
        SourceId::DonchianBreakout,
        SourceId::AdxTrend,
        SourceId::Momentum,
        SourceId::MacdHistogram,
        SourceId::InventorySurprise,
        SourceId::TermStructureCarry,
        SourceId::CrackMeanReversion,
        SourceId::WtiBrentSpread,
        SourceId::OpecQuota,
    ];

    /// The snake-case name.
    pub const fn name(self) -> &'static str {
        match self {
            SourceId::MaCrossover => "ma_crossover",
            SourceId::RsiExtremes => "rsi_extremes",
            SourceId::BollingerTouch => "bollinger_touch",
            SourceId::DonchianBreakout => "donchian_breakout",
            SourceId::AdxTrend => "adx_trend",
            SourceId::Momentum => "momentum",
            SourceId::MacdHistogram => "macd_histogram",
            SourceId::InventorySurprise => "inventory_surprise",
            SourceId::TermStructureCarry => "term_structure_carry",
            SourceId::CrackMeanReversion => "crack_mean_reversion",
            SourceId::WtiBrentSpread => "wti_brent_spread",
            SourceId::OpecQuota => "opec_quota",
        }
    }

    /// The source with this snake-case name.
    pub fn from_name(name: &str) -> Option<SourceId> {
        SourceId::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Index into [`SourceId::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Whether the source is technical (price-only) rather than fundamental.
    pub const fn is_technical(self) -> bool {
        (self as usize) < 7
    }

    /// What the source needs beyond closes.
    pub const fn needs(self) -> SourceNeeds {
        let none =
            SourceNeeds { high_low: false, curve: false, inventory: false, other_markets: false, opec_table: false };
        match self {
            SourceId::BollingerTouch | SourceId::DonchianBreakout | SourceId::AdxTrend => {
                SourceNeeds { high_low: true, ..none }
            }
            SourceId::InventorySurprise => SourceNeeds { inventory: true, ..none },
            SourceId::TermStructureCarry => SourceNeeds { curve: true, ..none },
            SourceId::CrackMeanReversion | SourceId::WtiBrentSpread => SourceNeeds { other_markets: true, ..none },
            SourceId::OpecQuota => SourceNeeds { opec_table: true, ..none },
            _ => none,
        }
    }

    /// Whether the source gives a view on `market`: the WTI–Brent spread and OPEC+
    /// production only on the two crudes; everything else on all four markets.
    pub const fn applies_to(self, market: Market) -> bool {
        match self {
            SourceId::WtiBrentSpread | SourceId::OpecQuota => matches!(market, Market::Wti | Market::Brent),
            _ => true,
        }
    }

    /// The regime style a source has unless the config says otherwise.
    pub const fn default_style(self) -> RegimeStyle {
        match self {
            SourceId::MaCrossover
            | SourceId::DonchianBreakout
            | SourceId::AdxTrend
            | SourceId::Momentum
            | SourceId::MacdHistogram => RegimeStyle::Trend,
            SourceId::RsiExtremes | SourceId::BollingerTouch => RegimeStyle::Reversion,
            _ => RegimeStyle::Fundamental,
        }
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A signal's direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Direction {
    /// Buy.
    Long,
    /// Sell.
    Short,
    /// No position.
    #[default]
    Neutral,
}

impl Direction {
    /// The direction of a signed score against a threshold (`|score| >= threshold`).
    pub fn from_score(score: f64, threshold: f64) -> Direction {
        if score >= threshold && score > 0.0 {
            Direction::Long
        } else if score <= -threshold && score < 0.0 {
            Direction::Short
        } else {
            Direction::Neutral
        }
    }

    /// +1, −1 or 0.
    pub const fn sign(self) -> i64 {
        match self {
            Direction::Long => 1,
            Direction::Short => -1,
            Direction::Neutral => 0,
        }
    }

    /// `LONG`, `SHORT` or `NEUTRAL`.
    pub const fn label(self) -> &'static str {
        match self {
            Direction::Long => "LONG",
            Direction::Short => "SHORT",
            Direction::Neutral => "NEUTRAL",
        }
    }

    /// The direction with this label.
    pub fn from_label(label: &str) -> Option<Direction> {
        match label {
            "LONG" => Some(Direction::Long),
            "SHORT" => Some(Direction::Short),
            "NEUTRAL" => Some(Direction::Neutral),
            _ => None,
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// How a source's weight is scaled by the market regime (the scales are in the config's
/// `regime.scales`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegimeStyle {
    /// Trend-following: strongest in trending markets.
    Trend,
    /// Mean-reverting: strongest in ranging markets.
    Reversion,
    /// Fundamental: by default not scaled.
    Fundamental,
}

impl RegimeStyle {
    /// Lower-case name.
    pub const fn name(self) -> &'static str {
        match self {
            RegimeStyle::Trend => "trend",
            RegimeStyle::Reversion => "reversion",
            RegimeStyle::Fundamental => "fundamental",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for (i, s) in SourceId::ALL.into_iter().enumerate() {
            assert_eq!(s.index(), i);
            assert_eq!(SourceId::from_name(s.name()), Some(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.name()));
            assert_eq!(s.is_technical(), i < 7);
        }
        assert_eq!(SourceId::from_name("nope"), None);
        assert_eq!(serde_json::to_string(&Direction::Long).unwrap(), "\"LONG\"");
        assert_eq!(Direction::from_label("SHORT"), Some(Direction::Short));
    }

    #[test]
    fn direction_threshold() {
        assert_eq!(Direction::from_score(0.2, 0.2), Direction::Long);
        assert_eq!(Direction::from_score(0.19, 0.2), Direction::Neutral);
        assert_eq!(Direction::from_score(-0.5, 0.2), Direction::Short);
        assert_eq!(Direction::from_score(0.0, 0.0), Direction::Neutral);
        assert_eq!(Direction::Short.sign(), -1);
    }

    #[test]
    fn applicability_and_needs() {
        assert!(!SourceId::WtiBrentSpread.applies_to(Market::Rbob));
        assert!(SourceId::WtiBrentSpread.applies_to(Market::Brent));
        assert!(SourceId::CrackMeanReversion.applies_to(Market::HeatingOil));
        assert!(SourceId::AdxTrend.needs().high_low);
        assert!(!SourceId::Momentum.needs().high_low);
        assert_eq!(SourceId::RsiExtremes.default_style(), RegimeStyle::Reversion);
    }
}

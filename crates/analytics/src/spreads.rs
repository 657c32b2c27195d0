//! Crack spreads (refining margins) and the WTI–Brent location spreads.
//!
//! # Crack spreads
//!
//! Product futures (RBOB gasoline, NY Harbor ULSD / heating oil) are quoted in USD per
//! gallon and crude in USD per barrel; products are converted with 42 gal/bbl
//! ([`crude_model::GALLONS_PER_BARREL`]) and every crack is quoted in **USD per barrel of
//! crude processed**:
//!
//! | crack | formula (USD/bbl) |
//! | --- | --- |
//! | gasoline crack (1-1) | `42·RB − CL` |
//! | heating-oil crack (1-1) | `42·HO − CL` |
//! | 3-2-1 | `(2·42·RB + 1·42·HO − 3·CL) / 3` |
//! | 2-1-1 | `(1·42·RB + 1·42·HO − 2·CL) / 2` |
//!
//! `CL` is whichever crude the caller passes (WTI for the NYMEX cracks, Brent for the
//! European ones). Any ratio `c:g:d` with `c = g + d` is [`CrackRatio`]. Prices may be
//! negative; no positivity is assumed.
//!
//! # WTI–Brent
//!
//! * [`wti_brent_spread`] `= WTI − Brent` (USD/bbl), the quoted location spread; it is
//!   usually negative because Brent is priced at the water and WTI inland at Cushing.
//! * [`brent_wti_arb`] `= Brent − WTI − transport_cost_usd_bbl`: the margin of buying WTI,
//!   shipping it to the Brent market and selling it there. Positive means the export arb
//!   is open (US crude flows out); the transport cost (pipeline to the Gulf Coast, terminal
//!   fees, freight to Europe and quality differentials) is a parameter because it changes
//!   with freight rates. With a zero cost it is simply `−(WTI − Brent)`.

use crude_model::GALLONS_PER_BARREL;
use serde::{Deserialize, Serialize};

use crate::market_error::{MarketAnalyticsError, check_all_finite, check_same_len};

/// A crack-spread recipe: barrels of crude in, barrels of gasoline and distillate out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrackRatio {
    /// Barrels of crude.
    pub crude: u32,
    /// Barrels of gasoline.
    pub gasoline: u32,
    /// Barrels of distillate (heating oil / ULSD).
    pub distillate: u32,
}

impl CrackRatio {
    /// 3 crude → 2 gasoline + 1 distillate.
    pub const THREE_TWO_ONE: CrackRatio = CrackRatio { crude: 3, gasoline: 2, distillate: 1 };
    /// 2 crude → 1 gasoline + 1 distillate.
    pub const TWO_ONE_ONE: CrackRatio = CrackRatio { crude: 2, gasoline: 1, distillate: 1 };
    /// 1 crude → 1 gasoline.
    pub const GASOLINE: CrackRatio = CrackRatio { crude: 1, gasoline: 1, distillate: 0 };
    /// 1 crude → 1 distillate.
    pub const HEATING_OIL: CrackRatio = CrackRatio { crude: 1, gasoline: 0, distillate: 1 };

    /// A validated ratio.
    ///
    /// # Errors
    /// [`MarketAnalyticsError::InvalidParameter`] unless `crude >= 1` and
    /// `gasoline + distillate == crude`.
    pub fn new(crude: u32, gasoline: u32, distillate: u32) -> Result<Self, MarketAnalyticsError> {
        if crude == 0 || gasoline.checked_add(distillate) != Some(crude) {
            return Err(MarketAnalyticsError::param(
                "crack ratio",
                "crude:gasoline:distillate",
                format!("{crude}:{gasoline}:{distillate}"),
                "use crude >= 1 barrels with gasoline + distillate = crude (for example 3:2:1)",
            ));
        }
        Ok(Self { crude, gasoline, distillate })
    }

    /// The crack in USD per barrel of crude for one set of prices (products in USD/gal,
    /// crude in USD/bbl).
    #[inline]
    pub fn crack_usd_bbl(&self, gasoline_usd_gal: f64, distillate_usd_gal: f64, crude_usd_bbl: f64) -> f64 {
        let g = f64::from(self.gasoline) * GALLONS_PER_BARREL * gasoline_usd_gal;
        let d = f64::from(self.distillate) * GALLONS_PER_BARREL * distillate_usd_gal;
        (g + d - f64::from(self.crude) * crude_usd_bbl) / f64::from(self.crude)
    }
}

/// Gasoline crack `42·RB − CL`, USD/bbl.
#[inline]
pub fn gasoline_crack(rbob_usd_gal: f64, crude_usd_bbl: f64) -> f64 {
    GALLONS_PER_BARREL * rbob_usd_gal - crude_usd_bbl
}

/// Heating-oil crack `42·HO − CL`, USD/bbl.
#[inline]
pub fn heating_oil_crack(ho_usd_gal: f64, crude_usd_bbl: f64) -> f64 {
    GALLONS_PER_BARREL * ho_usd_gal - crude_usd_bbl
}

/// 3-2-1 crack `(2·42·RB + 42·HO − 3·CL) / 3`, USD/bbl.
#[inline]
pub fn crack_321(rbob_usd_gal: f64, ho_usd_gal: f64, crude_usd_bbl: f64) -> f64 {
    CrackRatio::THREE_TWO_ONE.crack_usd_bbl(rbob_usd_gal, ho_usd_gal, crude_usd_bbl)
}

/// 2-1-1 crack `(42·RB + 42·HO − 2·CL) / 2`, USD/bbl.
#[inline]
pub fn crack_211(rbob_usd_gal: f64, ho_usd_gal: f64, crude_usd_bbl: f64) -> f64 {
    CrackRatio::TWO_ONE_ONE.crack_usd_bbl(rbob_usd_gal, ho_usd_gal, crude_usd_bbl)
}

/// A crack series from aligned price series (same dates, same length). For a ratio with
/// no gasoline or no distillate leg, pass an empty slice for the unused leg.
///
/// # Errors
/// [`MarketAnalyticsError::LengthMismatch`] when a used leg's length differs from the
/// crude series; [`MarketAnalyticsError::NonFinite`] naming the leg and index of a NaN or
/// infinite price.
pub fn crack_series(
    ratio: CrackRatio,
    gasoline_usd_gal: &[f64],
    distillate_usd_gal: &[f64],
    crude_usd_bbl: &[f64],
) -> Result<Vec<f64>, MarketAnalyticsError> {
    const WHAT: &str = "crack series";
    let n = crude_usd_bbl.len();
    check_all_finite("crack series: crude", crude_usd_bbl)?;
    let leg = |used: bool, name: &'static str, xs: &[f64]| -> Result<(), MarketAnalyticsError> {
        if used {
            check_same_len(WHAT, (name, xs.len()), ("crude", n))?;
            check_all_finite(
                if name == "gasoline" { "crack series: gasoline" } else { "crack series: distillate" },
                xs,
            )?;
        }
        Ok(())
    };
    leg(ratio.gasoline > 0, "gasoline", gasoline_usd_gal)?;
    leg(ratio.distillate > 0, "distillate", distillate_usd_gal)?;
    Ok((0..n)
        .map(|i| {
            let g = if ratio.gasoline > 0 { gasoline_usd_gal[i] } else { 0.0 };
            let d = if ratio.distillate > 0 { distillate_usd_gal[i] } else { 0.0 };
            ratio.crack_usd_bbl(g, d, crude_usd_bbl[i])
        })
        .collect())
}

/// WTI − Brent, USD/bbl (usually negative).
#[inline]
pub fn wti_brent_spread(wti_usd_bbl: f64, brent_usd_bbl: f64) -> f64 {
    wti_usd_bbl - brent_usd_bbl
}

/// Brent − WTI − transport cost, USD/bbl: positive when exporting WTI to Brent-priced
/// markets pays.
#[inline]
pub fn brent_wti_arb(brent_usd_bbl: f64, wti_usd_bbl: f64, transport_cost_usd_bbl: f64) -> f64 {
    brent_usd_bbl - wti_usd_bbl - transport_cost_usd_bbl
}

/// The WTI − Brent series from aligned series.
///
/// # Errors
/// [`MarketAnalyticsError::LengthMismatch`] or [`MarketAnalyticsError::NonFinite`].
pub fn wti_brent_series(wti_usd_bbl: &[f64], brent_usd_bbl: &[f64]) -> Result<Vec<f64>, MarketAnalyticsError> {
    check_same_len("WTI-Brent spread", ("wti", wti_usd_bbl.len()), ("brent", brent_usd_bbl.len()))?;
    check_all_finite("WTI-Brent spread: wti", wti_usd_bbl)?;
    check_all_finite("WTI-Brent spread: brent", brent_usd_bbl)?;
    Ok(wti_usd_bbl.iter().zip(brent_usd_bbl).map(|(w, b)| wti_brent_spread(*w, *b)).collect())
}

/// The Brent–WTI arbitrage series from aligned series and a transport cost.
///
/// # Errors
/// As [`wti_brent_series`], plus [`MarketAnalyticsError::InvalidParameter`] for a
/// non-finite transport cost.
pub fn brent_wti_arb_series(
    brent_usd_bbl: &[f64],
    wti_usd_bbl: &[f64],
    transport_cost_usd_bbl: f64,
) -> Result<Vec<f64>, MarketAnalyticsError> {
    if !transport_cost_usd_bbl.is_finite() {
        return Err(MarketAnalyticsError::param(
            "Brent-WTI arb",
            "transport_cost_usd_bbl",
            transport_cost_usd_bbl,
            "use a finite cost in USD per barrel",
        ));
    }
    Ok(wti_brent_series(wti_usd_bbl, brent_usd_bbl)?.into_iter().map(|s| -s - transport_cost_usd_bbl).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cracks_by_hand() {
        // RB 2.10 $/gal = 88.2 $/bbl, HO 2.50 $/gal = 105 $/bbl, CL 70.
        let (rb, ho, cl) = (2.10, 2.50, 70.0);
        assert!((gasoline_crack(rb, cl) - 18.2).abs() < 1e-12);
        assert!((heating_oil_crack(ho, cl) - 35.0).abs() < 1e-12);
        assert!((crack_321(rb, ho, cl) - (2.0 * 88.2 + 105.0 - 210.0) / 3.0).abs() < 1e-12);
        assert!((crack_211(rb, ho, cl) - (88.2 + 105.0 - 140.0) / 2.0).abs() < 1e-12);
        // The 3-2-1 is the 2/3, 1/3 blend of the single-product cracks.
        let blend = (2.0 * gasoline_crack(rb, cl) + heating_oil_crack(ho, cl)) / 3.0;
        assert!((crack_321(rb, ho, cl) - blend).abs() < 1e-12);
        assert_eq!(
            CrackRatio::new(5, 3, 2).unwrap().crack_usd_bbl(rb, ho, cl),
            (3.0 * 88.2 + 2.0 * 105.0 - 350.0) / 5.0
        );
        assert!(CrackRatio::new(3, 2, 2).is_err());
        assert!(CrackRatio::new(0, 0, 0).is_err());
        // Negative crude (April 2020) gives a huge but finite crack.
        assert!((gasoline_crack(0.7, -37.63) - (29.4 + 37.63)).abs() < 1e-12);
    }

    #[test]
    fn crack_series_checks_legs() {
        let s = crack_series(CrackRatio::GASOLINE, &[2.0, 2.1], &[], &[70.0, 71.0]).unwrap();
        assert!((s[1] - (42.0 * 2.1 - 71.0)).abs() < 1e-12);
        let err = crack_series(CrackRatio::THREE_TWO_ONE, &[2.0, 2.1], &[2.5], &[70.0, 71.0]).unwrap_err();
        assert!(err.to_string().contains("`distillate` has 1"), "{err}");
        let err = crack_series(CrackRatio::HEATING_OIL, &[], &[2.5, f64::NAN], &[70.0, 71.0]).unwrap_err();
        assert!(err.to_string().contains("distillate") && err.to_string().contains("index 1"), "{err}");
    }

    #[test]
    fn wti_brent_and_arb() {
        assert_eq!(wti_brent_spread(65.0, 69.5), -4.5);
        assert_eq!(brent_wti_arb(69.5, 65.0, 3.0), 1.5);
        assert_eq!(brent_wti_arb(69.5, 65.0, 0.0), -wti_brent_spread(65.0, 69.5));
        let s = wti_brent_series(&[65.0, 66.0], &[69.5, 68.0]).unwrap();
        assert_eq!(s, vec![-4.5, -2.0]);
        let a = brent_wti_arb_series(&[69.5, 68.0], &[65.0, 66.0], 2.5).unwrap();
        assert_eq!(a, vec![2.0, -0.5]);
        assert!(wti_brent_series(&[1.0], &[]).is_err());
        assert!(brent_wti_arb_series(&[1.0], &[1.0], f64::NAN).is_err());
    }
}

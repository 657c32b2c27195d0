//! Microstructure: the price grid, top-of-book quotes, market depth and trade sizes.
//!
//! * **Spreads** are 1–3 ticks: mostly one tick on the front months, wider further out
//!   (front two months 80 % / 17 % / 3 % for 1 / 2 / 3 ticks; months 3–6 50 / 35 / 15 %;
//!   beyond 25 / 45 / 30 %). The quote is centred on the model's fair price and rounded to
//!   the grid, so bid < ask always and both are on the tick grid, negative prices included.
//! * **Touch sizes** are Gamma(2)-distributed around a mean that falls with tenor (20 lots on
//!   the WTI front month, ×0.8 per month, products and Brent thinner).
//! * **Depth**: levels at consecutive ticks behind the touch on the front two months (a
//!   one-tick gap now and then further out), so prices are strictly monotone. Mean size at
//!   level k is the touch mean × (1 + 0.8k)·e^{−k/3}: the book is a little thicker just
//!   behind the touch (×1.3 at levels 1–2, where resting orders have not yet been hit) and
//!   thins out further away (×0.9 at level 5, ×0.4 at level 9).
//! * **Trades** print on a tick with probability `trade_probability` × a market factor
//!   (WTI 1, Brent 0.65, RBOB and heating oil 0.35), at the offer when the price has risen
//!   since the last quote (65 % of the time) and at the bid otherwise.
//! * **Lot sizes** follow a discrete Pareto law, `floor(U^{−1/1.5})` capped at 300 lots:
//!   65 % single lots, 3 % of 10 lots or more, mean about 2.5 lots.

use rand::Rng;

use crude_model::{BookLevel, Market};

/// Tail exponent of the lot-size distribution.
const LOT_ALPHA: f64 = 1.5;
/// Largest single trade (lots).
const LOT_CAP: u32 = 300;

/// A price grid: prices are whole numbers of ticks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Grid {
    /// Tick size in the market's unit.
    pub tick: f64,
    /// Ticks per unit (1 / tick, a whole number).
    pub per_unit: f64,
    /// Decimals needed to print a grid price.
    pub decimals: usize,
}

impl Grid {
    /// The grid of a (validated) tick size.
    pub fn new(tick: f64) -> Self {
        let per_unit = (1.0 / tick).round();
        let decimals = (per_unit.log10().ceil().max(0.0)) as usize;
        Self { tick, per_unit, decimals }
    }

    /// A price in ticks (fractional).
    #[inline]
    pub fn to_ticks(self, price: f64) -> f64 {
        price * self.per_unit
    }

    /// The price of a whole number of ticks: the double nearest to the decimal grid value.
    #[inline]
    pub fn price(self, ticks: i64) -> f64 {
        ticks as f64 / self.per_unit
    }

    /// The nearest grid price.
    #[inline]
    pub fn round(self, price: f64) -> f64 {
        self.price(self.to_ticks(price).round() as i64)
    }
}

/// Relative book thickness of a market (WTI = 1).
fn market_size_factor(market: Market) -> f64 {
    match market {
        Market::Wti => 1.0,
        Market::Brent => 0.8,
        Market::Rbob | Market::HeatingOil => 0.6,
    }
}

/// Share of ticks that print a trade, relative to `trade_probability` (WTI = 1): the
/// product markets trade about a third of WTI's volume, Brent about two thirds.
pub(crate) fn market_trade_factor(market: Market) -> f64 {
    match market {
        Market::Wti => 1.0,
        Market::Brent => 0.65,
        Market::Rbob | Market::HeatingOil => 0.35,
    }
}

/// Mean touch size (lots) for a contract.
pub(crate) fn touch_mean_lots(market: Market, tenor: usize) -> f64 {
    let decay = 0.8_f64.powi(i32::try_from(tenor).unwrap_or(i32::MAX));
    (20.0 * market_size_factor(market) * decay).max(2.0)
}

/// A Gamma(2) draw with the given mean, at least one lot.
fn gamma2_lots<R: Rng + ?Sized>(rng: &mut R, mean: f64) -> u32 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = 1.0 - rng.random::<f64>();
    let g = -(u1 * u2).ln() * 0.5 * mean;
    (g.round() as u32).max(1)
}

/// A spread of 1–3 ticks for a contract of the given tenor.
pub(crate) fn spread_ticks<R: Rng + ?Sized>(rng: &mut R, tenor: usize) -> i64 {
    let (p1, p2) = match tenor {
        0 | 1 => (0.80, 0.97),
        2..=5 => (0.50, 0.85),
        _ => (0.25, 0.70),
    };
    let x: f64 = rng.random();
    if x < p1 {
        1
    } else if x < p2 {
        2
    } else {
        3
    }
}

/// Bid and ask (in ticks) of a quote `spread` ticks wide centred on `fair`.
#[inline]
pub(crate) fn touch_ticks(grid: &Grid, fair: f64, spread: i64) -> (i64, i64) {
    let bid = (grid.to_ticks(fair) - spread as f64 * 0.5).round() as i64;
    (bid, bid + spread)
}

/// Touch sizes (bid, ask) for a contract.
pub(crate) fn touch_sizes<R: Rng + ?Sized>(rng: &mut R, market: Market, tenor: usize) -> (u32, u32) {
    let mean = touch_mean_lots(market, tenor);
    (gamma2_lots(rng, mean), gamma2_lots(rng, mean))
}

/// Relative mean size at depth level `k` (0 = the touch).
fn level_shape(k: usize) -> f64 {
    let k = k as f64;
    (1.0 + 0.8 * k) * (-k / 3.0).exp()
}

/// Fills `bids` and `asks` with `levels` levels each, starting at the touch.
#[allow(clippy::too_many_arguments)]
pub(crate) fn depth<R: Rng + ?Sized>(
    rng: &mut R,
    grid: &Grid,
    market: Market,
    tenor: usize,
    levels: usize,
    (bid, ask): (i64, i64),
    (bid_size, ask_size): (u32, u32),
    bids: &mut Vec<BookLevel>,
    asks: &mut Vec<BookLevel>,
) {
    let mean = touch_mean_lots(market, tenor);
    let gap_p = if tenor < 2 { 0.0 } else { 0.15 };
    for (side, out, start, touch_size) in [(-1_i64, &mut *bids, bid, bid_size), (1, &mut *asks, ask, ask_size)] {
        out.clear();
        out.reserve(levels);
        let mut ticks = start;
        for k in 0..levels {
            if k > 0 {
                let gap = if gap_p > 0.0 && rng.random::<f64>() < gap_p { 2 } else { 1 };
                ticks += side * gap;
            }
            let size = if k == 0 { touch_size } else { gamma2_lots(rng, mean * level_shape(k)) };
            out.push(BookLevel { price: grid.price(ticks), size });
        }
    }
}

/// One trade's size in lots.
pub(crate) fn lot_size<R: Rng + ?Sized>(rng: &mut R) -> u32 {
    let u: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
    let x = u.powf(-1.0 / LOT_ALPHA).floor();
    if x >= f64::from(LOT_CAP) { LOT_CAP } else { (x as u32).max(1) }
}

/// Mean and second moment of [`lot_size`]: `P(S ≥ k) = k^{−α}` for `k ≤ cap`.
pub(crate) fn lot_size_moments() -> (f64, f64) {
    let mut m1 = 0.0;
    let mut m2 = 0.0;
    for k in 1..=LOT_CAP {
        let tail = f64::from(k).powf(-LOT_ALPHA);
        m1 += tail;
        m2 += (2.0 * f64::from(k) - 1.0) * tail;
    }
    (m1, m2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn grid_prices_are_exact_decimals() {
        let g = Grid::new(0.01);
        assert_eq!(g.price(7523), 75.23);
        assert_eq!(g.round(-37.634), -37.63);
        assert_eq!(g.decimals, 2);
        let p = Grid::new(0.0001);
        assert_eq!(p.price(22345), 2.2345);
        assert_eq!(p.decimals, 4);
    }

    #[test]
    fn quotes_straddle_fair_on_grid_including_negative_prices() {
        let g = Grid::new(0.01);
        for fair in [75.2349, 75.235, -37.631, 0.004, -0.006] {
            for s in 1..=3 {
                let (b, a) = touch_ticks(&g, fair, s);
                assert_eq!(a - b, s);
                assert!(g.price(b) <= fair + 0.01 && g.price(a) >= fair - 0.01, "{fair} {s}");
            }
        }
    }

    #[test]
    fn depth_is_monotone_with_requested_levels() {
        let g = Grid::new(0.01);
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let (mut bids, mut asks) = (Vec::new(), Vec::new());
        for tenor in [0, 1, 4] {
            depth(&mut rng, &g, Market::Wti, tenor, 10, (7500, 7501), (12, 9), &mut bids, &mut asks);
            assert_eq!((bids.len(), asks.len()), (10, 10));
            assert_eq!((bids[0].size, asks[0].size), (12, 9));
            assert!(bids.windows(2).all(|w| w[1].price < w[0].price));
            assert!(asks.windows(2).all(|w| w[1].price > w[0].price));
            assert!(bids.iter().chain(&asks).all(|l| l.size >= 1));
        }
    }

    #[test]
    fn depth_sizes_decay_away_from_the_touch() {
        let g = Grid::new(0.01);
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        let (mut bids, mut asks) = (Vec::new(), Vec::new());
        let mut mean = [0.0; 10];
        let n = 2_000;
        for _ in 0..n {
            let touch = touch_sizes(&mut rng, Market::Wti, 0);
            depth(&mut rng, &g, Market::Wti, 0, 10, (7500, 7501), touch, &mut bids, &mut asks);
            for (k, l) in bids.iter().enumerate() {
                mean[k] += f64::from(l.size) / f64::from(n);
            }
        }
        assert!((mean[0] - 20.0).abs() < 1.5, "touch {}", mean[0]);
        assert!(mean[5..].windows(2).all(|w| w[1] < w[0]), "{mean:?}");
        assert!(mean[9] < 0.5 * mean[0], "{mean:?}");
    }

    #[test]
    fn lot_sizes_match_their_moments() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let n = 400_000;
        let sizes: Vec<u32> = (0..n).map(|_| lot_size(&mut rng)).collect();
        let mean = sizes.iter().map(|&s| f64::from(s)).sum::<f64>() / n as f64;
        let ones = sizes.iter().filter(|&&s| s == 1).count() as f64 / n as f64;
        let (m1, _) = lot_size_moments();
        assert!((mean - m1).abs() / m1 < 0.05, "mean {mean} vs {m1}");
        assert!((ones - (1.0 - 2f64.powf(-1.5))).abs() < 0.01);
        assert!(sizes.iter().all(|&s| (1..=LOT_CAP).contains(&s)));
    }
}

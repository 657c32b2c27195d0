//! Aggregation: the within-family correlation rule that stops related sources from being
//! counted more than once, and the composite score.
//!
//! # The rule
//!
//! For each family, with `k` members that have a reading this bar and a weight above 0,
//! and correlations `ρᵢⱼ` of their score histories (last `correlation_lookback_bars` bars
//! where both had a reading, clipped to [0, 1]; taken as 1 with fewer than
//! `min_correlation_bars` joint observations or a constant series):
//!
//! `N_eff = k² / Σᵢⱼ ρᵢⱼ` (ρᵢᵢ = 1), so `1 <= N_eff <= k`, and each member's weight is
//! multiplied by `N_eff / k`.
//!
//! Three identical sources in a family then weigh exactly as much as one of them; three
//! independent ones weigh three times as much. See [`effective_number`].
//!
//! # The composite
//!
//! With `wᵢ` the member's config weight times its family factor and `sᵢ` the regime scale
//! of its style: `S = Σ wᵢ·sᵢ·scoreᵢ / Σ_{sᵢ > 0} wᵢ` over sources with a reading. A scale
//! of 0 switches a source off for that regime (it neither contributes nor dilutes: in a
//! trending market the mean-reversion sources are ignored); a scale between 0 and 1 scales
//! the source's contribution down while its full weight stays in the denominator (in a
//! transitional market, 0.5 halves the technical part of the composite). `coverage = Σ
//! config weights with a reading / Σ config weights of the sources that apply to the
//! market`; `confidence = 100·|S|·coverage`.

use std::collections::VecDeque;

use crate::source::SourceId;

const N: usize = SourceId::ALL.len();

/// `k² / Σᵢⱼ ρᵢⱼ` for a symmetric correlation matrix given as rows (entries clipped to
/// [0, 1], the diagonal taken as 1). 0 for an empty matrix.
pub fn effective_number(corr: &[Vec<f64>]) -> f64 {
    let k = corr.len();
    if k == 0 {
        return 0.0;
    }
    let mut sum = 0.0;
    for (i, row) in corr.iter().enumerate() {
        for j in 0..k {
            sum += if i == j { 1.0 } else { row.get(j).copied().unwrap_or(1.0).clamp(0.0, 1.0) };
        }
    }
    (k * k) as f64 / sum
}

/// Running sums of one pair of score series.
#[derive(Debug, Clone, Copy, Default)]
struct Pair {
    n: f64,
    sx: f64,
    sy: f64,
    sxx: f64,
    syy: f64,
    sxy: f64,
}

impl Pair {
    fn add(&mut self, x: f64, y: f64, sign: f64) {
        self.n += sign;
        self.sx += sign * x;
        self.sy += sign * y;
        self.sxx += sign * x * x;
        self.syy += sign * y * y;
        self.sxy += sign * x * y;
    }

    fn corr(&self, min_n: usize) -> f64 {
        if self.n < min_n as f64 {
            return 1.0;
        }
        let (mx, my) = (self.sx / self.n, self.sy / self.n);
        let vx = self.sxx / self.n - mx * mx;
        let vy = self.syy / self.n - my * my;
        if vx <= 1e-12 || vy <= 1e-12 {
            return 1.0;
        }
        ((self.sxy / self.n - mx * my) / (vx * vy).sqrt()).clamp(0.0, 1.0)
    }
}

/// Rolling within-family correlations of component scores for one market.
#[derive(Debug, Clone)]
pub(crate) struct FamilyCorrelation {
    lookback: usize,
    min_obs: usize,
    /// Family index of each source (`usize::MAX` when not applicable to the market).
    family: [usize; N],
    /// Scores per bar, NaN where a source had no reading.
    rows: VecDeque<[f64; N]>,
    pairs: Vec<Pair>,
    pushes: usize,
}

impl FamilyCorrelation {
    pub(crate) fn new(family: [usize; N], lookback: usize, min_obs: usize) -> Self {
        Self {
            lookback,
            min_obs,
            family,
            rows: VecDeque::with_capacity(lookback),
            pairs: vec![Pair::default(); N * N],
            pushes: 0,
        }
    }

    fn same_family(&self, i: usize, j: usize) -> bool {
        self.family[i] != usize::MAX && self.family[i] == self.family[j]
    }

    fn apply(&mut self, row: &[f64; N], sign: f64) {
        for i in 0..N {
            if row[i].is_nan() {
                continue;
            }
            for j in (i + 1)..N {
                if !row[j].is_nan() && self.same_family(i, j) {
                    self.pairs[i * N + j].add(row[i], row[j], sign);
                }
            }
        }
    }

    /// Record one bar's scores (`None` = no reading).
    pub(crate) fn push(&mut self, scores: &[Option<f64>; N]) {
        let row: [f64; N] = std::array::from_fn(|i| scores[i].unwrap_or(f64::NAN));
        if self.rows.len() == self.lookback
            && let Some(old) = self.rows.pop_front()
        {
            self.apply(&old, -1.0);
        }
        self.apply(&row, 1.0);
        self.rows.push_back(row);
        self.pushes += 1;
        // Rebuild the sums from the window now and then so rounding cannot accumulate.
        if self.pushes.is_multiple_of(self.lookback.max(64)) {
            self.pairs.iter_mut().for_each(|p| *p = Pair::default());
            let rows: Vec<[f64; N]> = self.rows.iter().copied().collect();
            for r in &rows {
                self.apply(r, 1.0);
            }
        }
    }

    /// The correlation used for sources `i` and `j` of one family.
    pub(crate) fn corr(&self, i: usize, j: usize) -> f64 {
        let (a, b) = if i < j { (i, j) } else { (j, i) };
        self.pairs[a * N + b].corr(self.min_obs)
    }

    /// `N_eff / k` for the members of `family` that have a reading (`available[i]`).
    pub(crate) fn factor(&self, family: usize, available: &[bool; N]) -> f64 {
        let member = |i: usize| available[i] && self.family[i] == family;
        let (mut k, mut off_diagonal) = (0usize, 0.0);
        for i in (0..N).filter(|&i| member(i)) {
            k += 1;
            for j in ((i + 1)..N).filter(|&j| member(j)) {
                off_diagonal += self.corr(i, j);
            }
        }
        // Σᵢⱼ ρᵢⱼ = k + 2·Σᵢ<ⱼ ρᵢⱼ; the factor is (k² / Σ) / k.
        if k <= 1 { 1.0 } else { k as f64 / (k as f64 + 2.0 * off_diagonal) }
    }
}

/// One source's part in the composite.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Part {
    /// Whether it has a reading.
    pub(crate) available: bool,
    /// Score in [−1, 1].
    pub(crate) score: f64,
    /// Config weight.
    pub(crate) config_weight: f64,
    /// Family factor `N_eff / k`.
    pub(crate) family_factor: f64,
    /// Regime scale of its style.
    pub(crate) regime_scale: f64,
    /// Horizon, bars.
    pub(crate) horizon_bars: usize,
}

impl Part {
    /// The weight it enters the composite with: config × family factor × regime scale.
    pub(crate) fn effective_weight(&self) -> f64 {
        if self.available { self.config_weight * self.family_factor * self.regime_scale } else { 0.0 }
    }
}

/// Composite score, coverage and horizon of a set of parts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Combined {
    pub(crate) score: f64,
    pub(crate) coverage: f64,
    pub(crate) horizon_bars: usize,
}

/// Combine parts (see the module docs); `default_horizon` when no part agrees with the
/// composite's sign.
pub(crate) fn combine(parts: &[Part], threshold: f64, default_horizon: usize) -> Combined {
    let (mut num, mut den, mut have, mut total) = (0.0, 0.0, 0.0, 0.0);
    for p in parts {
        total += p.config_weight;
        if p.available {
            have += p.config_weight;
            num += p.effective_weight() * p.score;
            if p.regime_scale > 0.0 {
                den += p.config_weight * p.family_factor;
            }
        }
    }
    let score = if den > 0.0 { (num / den).clamp(-1.0, 1.0) } else { 0.0 };
    let coverage = if total > 0.0 { have / total } else { 0.0 };
    let mut horizon = default_horizon;
    if score.abs() >= threshold {
        let (mut hw, mut w) = (0.0, 0.0);
        for p in parts.iter().filter(|p| p.available && p.score * score > 0.0) {
            let c = (p.effective_weight() * p.score).abs();
            hw += c * p.horizon_bars as f64;
            w += c;
        }
        if w > 0.0 {
            horizon = (hw / w).round().max(1.0) as usize;
        }
    }
    Combined { score, coverage, horizon_bars: horizon }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effective_number_bounds() {
        assert_eq!(effective_number(&[]), 0.0);
        let ones = vec![vec![1.0; 3]; 3];
        assert!((effective_number(&ones) - 1.0).abs() < 1e-12);
        let eye: Vec<Vec<f64>> = (0..3).map(|i| (0..3).map(|j| if i == j { 1.0 } else { 0.0 }).collect()).collect();
        assert!((effective_number(&eye) - 3.0).abs() < 1e-12);
        let neg = vec![vec![1.0, -0.9], vec![-0.9, 1.0]];
        assert!((effective_number(&neg) - 2.0).abs() < 1e-12, "negative correlation is clipped to 0");
        let half = vec![vec![1.0, 0.5], vec![0.5, 1.0]];
        assert!((effective_number(&half) - 4.0 / 3.0).abs() < 1e-12);
    }

    fn families() -> [usize; N] {
        // Sources 0, 1, 2 in family 0; source 3 in family 1; the rest off.
        std::array::from_fn(|i| match i {
            0..=2 => 0,
            3 => 1,
            _ => usize::MAX,
        })
    }

    fn part(score: f64, factor: f64) -> Part {
        Part { available: true, score, config_weight: 1.0, family_factor: factor, regime_scale: 1.0, horizon_bars: 10 }
    }

    /// Deterministic pseudo-random scores in [−1, 1].
    fn noise(seed: &mut u64) -> f64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        (*seed >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }

    #[test]
    fn identical_members_count_once() {
        let mut fc = FamilyCorrelation::new(families(), 50, 10);
        let mut seed = 7u64;
        let mut available = [false; N];
        available[..4].fill(true);
        let (mut a, mut b) = (0.0, 0.0);
        for _ in 0..60 {
            a = noise(&mut seed);
            b = noise(&mut seed);
            let mut s = [None; N];
            s[0] = Some(a);
            s[1] = Some(a);
            s[2] = Some(a);
            s[3] = Some(b);
            fc.push(&s);
        }
        let f0 = fc.factor(0, &available);
        assert!((f0 - 1.0 / 3.0).abs() < 1e-9, "three copies: N_eff = 1, factor 1/3, got {f0}");
        assert_eq!(fc.factor(1, &available), 1.0);
        // The composite with three copies equals the composite with the source once.
        let tripled = combine(&[part(a, f0), part(a, f0), part(a, f0), part(b, 1.0)], 0.2, 5);
        let single = combine(&[part(a, 1.0), part(b, 1.0)], 0.2, 5);
        assert!((tripled.score - single.score).abs() < 1e-12, "{tripled:?} vs {single:?}");
        // Without the rule the copies would dominate.
        let naive = combine(&[part(a, 1.0), part(a, 1.0), part(a, 1.0), part(b, 1.0)], 0.2, 5);
        assert!((naive.score - (3.0 * a + b) / 4.0).abs() < 1e-12);
        assert!((naive.score - single.score).abs() > 1e-6);
    }

    #[test]
    fn independent_members_count_fully_and_early_correlation_is_one() {
        let mut fc = FamilyCorrelation::new(families(), 400, 30);
        let mut available = [false; N];
        available[..3].fill(true);
        let mut seed = 99u64;
        for n in 0..400 {
            if n == 20 {
                assert!((fc.factor(0, &available) - 1.0 / 3.0).abs() < 1e-12, "too few observations: rho = 1");
            }
            let mut s = [None; N];
            for slot in s.iter_mut().take(3) {
                *slot = Some(noise(&mut seed));
            }
            fc.push(&s);
        }
        let f = fc.factor(0, &available);
        assert!(f > 0.85 && f <= 1.0, "independent noise: factor near 1, got {f}");
        // Only the members with a reading count: one member alone has factor 1.
        let mut one = [false; N];
        one[0] = true;
        assert_eq!(fc.factor(0, &one), 1.0);
        // A constant series has no correlation estimate: taken as 1.
        let mut fc = FamilyCorrelation::new(families(), 50, 5);
        for _ in 0..20 {
            let mut s = [None; N];
            s[0] = Some(1.0);
            s[1] = Some(noise(&mut seed));
            fc.push(&s);
        }
        assert_eq!(fc.corr(0, 1), 1.0);
    }

    #[test]
    fn window_eviction_matches_a_fresh_window() {
        let mut rolling = FamilyCorrelation::new(families(), 30, 5);
        let mut seed = 3u64;
        let mut rows = Vec::new();
        for _ in 0..100 {
            let x = noise(&mut seed);
            let mut s = [None; N];
            s[0] = Some(x);
            s[1] = Some(0.5 * x + 0.5 * noise(&mut seed));
            if noise(&mut seed) > 0.8 {
                s[1] = None;
            }
            rolling.push(&s);
            rows.push(s);
        }
        let mut fresh = FamilyCorrelation::new(families(), 30, 5);
        for s in &rows[70..] {
            fresh.push(s);
        }
        assert!((rolling.corr(0, 1) - fresh.corr(0, 1)).abs() < 1e-9);
        assert!(rolling.corr(0, 1) > 0.3 && rolling.corr(0, 1) < 1.0);
    }

    #[test]
    fn regime_scale_coverage_and_horizon() {
        let mut p = [part(1.0, 1.0), part(0.5, 1.0), part(-1.0, 1.0)];
        p[0].horizon_bars = 20;
        p[1].horizon_bars = 5;
        p[2].regime_scale = 0.0; // switched off by the regime: neither counts nor dilutes
        let c = combine(&p, 0.2, 7);
        assert!((c.score - 1.5 / 2.0).abs() < 1e-12, "{c:?}");
        assert_eq!(c.coverage, 1.0);
        assert_eq!(c.horizon_bars, 15, "(1*20 + 0.5*5) / 1.5");
        p[1].available = false;
        let c = combine(&p, 0.2, 7);
        assert!((c.coverage - 2.0 / 3.0).abs() < 1e-12);
        assert!((c.score - 1.0).abs() < 1e-12);
        // A half scale halves the contribution and keeps the full weight in the denominator.
        let mut q = [part(1.0, 1.0), part(0.0, 1.0)];
        q[0].regime_scale = 0.5;
        assert!((combine(&q, 0.2, 7).score - 0.25).abs() < 1e-12);
        let neutral = combine(&[part(0.1, 1.0)], 0.2, 7);
        assert_eq!(neutral.horizon_bars, 7);
        assert_eq!(combine(&[], 0.2, 7).score, 0.0);
    }
}

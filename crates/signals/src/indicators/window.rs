//! Fixed-size windows for the streaming indicators: a ring buffer of the last `n` values
//! and a monotonic deque that gives the window maximum or minimum in amortised O(1).
//! Both allocate once, at construction.

use std::collections::VecDeque;

/// The last `capacity` values, oldest overwritten first.
#[derive(Debug, Clone)]
pub(crate) struct Ring {
    buf: Vec<f64>,
    head: usize,
    len: usize,
}

impl Ring {
    /// An empty ring holding up to `capacity` values (`capacity >= 1`).
    pub(crate) fn new(capacity: usize) -> Self {
        Self { buf: vec![0.0; capacity.max(1)], head: 0, len: 0 }
    }

    /// Append `x`; returns the value it evicted once the ring is full.
    #[inline(always)]
    pub(crate) fn push(&mut self, x: f64) -> Option<f64> {
        let cap = self.buf.len();
        let slot = self.head;
        self.head = if slot + 1 == cap { 0 } else { slot + 1 };
        // `slot < cap` always holds: `head` is kept in `0..cap`.
        let old = std::mem::replace(&mut self.buf[slot], x);
        if self.len == cap {
            Some(old)
        } else {
            self.len += 1;
            None
        }
    }

    /// The oldest value held, once the ring is full (the one the next push evicts).
    #[inline(always)]
    pub(crate) fn oldest_if_full(&self) -> Option<f64> {
        (self.len == self.buf.len()).then(|| self.buf[self.head])
    }

    /// Number of values held.
    #[inline(always)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The raw storage in slot order (slot 0 first), as TA-Lib's circular buffers sum it.
    #[inline(always)]
    pub(crate) fn slots(&self) -> &[f64] {
        &self.buf
    }

    /// Empty the ring.
    pub(crate) fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
        self.buf.iter_mut().for_each(|v| *v = 0.0);
    }
}

/// Which extreme a [`MonoDeque`] tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Extreme {
    Max,
    Min,
}

/// Sliding-window maximum or minimum over the last `window` pushes. Each value enters and
/// leaves the deque once, so a push is amortised O(1).
#[derive(Debug, Clone)]
pub(crate) struct MonoDeque {
    items: VecDeque<(u64, f64)>,
    window: u64,
    seq: u64,
    extreme: Extreme,
}

impl MonoDeque {
    /// A deque over windows of `window >= 1` values.
    pub(crate) fn new(window: usize, extreme: Extreme) -> Self {
        Self { items: VecDeque::with_capacity(window + 1), window: window.max(1) as u64, seq: 0, extreme }
    }

    /// Push the next value and return the extreme of the last `window` values (including it).
    #[inline(always)]
    pub(crate) fn push(&mut self, x: f64) -> f64 {
        let seq = self.seq;
        self.seq += 1;
        match self.extreme {
            Extreme::Max => {
                while let Some(&(_, back)) = self.items.back() {
                    if back <= x {
                        self.items.pop_back();
                    } else {
                        break;
                    }
                }
            }
            Extreme::Min => {
                while let Some(&(_, back)) = self.items.back() {
                    if back >= x {
                        self.items.pop_back();
                    } else {
                        break;
                    }
                }
            }
        }
        self.items.push_back((seq, x));
        while let Some(&(s, _)) = self.items.front() {
            if s + self.window <= seq {
                self.items.pop_front();
            } else {
                break;
            }
        }
        // The value just pushed is always in the deque, so the front exists.
        self.items.front().map_or(x, |&(_, v)| v)
    }

    /// Number of values pushed so far.
    #[inline(always)]
    pub(crate) fn pushed(&self) -> u64 {
        self.seq
    }

    /// Forget everything.
    pub(crate) fn clear(&mut self) {
        self.items.clear();
        self.seq = 0;
    }
}

/// Mean and population variance of the last `period` values, precise to a few ulps of
/// the true values: the running sums are kept relative to a shift near the window mean
/// and recomputed exactly from the window every `period` pushes (amortised O(1)), and a
/// window of identical values is recognised exactly (variance exactly 0).
#[derive(Debug, Clone)]
pub(crate) struct RollingMoments {
    period: usize,
    period_f: f64,
    ring: Ring,
    shift: f64,
    s1: f64,
    s2: f64,
    since_refresh: usize,
    run: usize,
    last: f64,
}

impl RollingMoments {
    /// Moments over windows of `period >= 1` values.
    pub(crate) fn new(period: usize) -> Self {
        Self {
            period: period.max(1),
            period_f: period.max(1) as f64,
            ring: Ring::new(period),
            shift: 0.0,
            s1: 0.0,
            s2: 0.0,
            since_refresh: 0,
            run: 0,
            last: 0.0,
        }
    }

    /// Push the next value; once the window is full, `(x - mean, variance)` for the value
    /// just pushed (the deviation is computed in the shifted frame, which keeps it exact
    /// to rounding even when the variance is tiny next to the price level).
    #[inline]
    pub(crate) fn push(&mut self, x: f64) -> Option<(f64, f64)> {
        self.run = if self.ring.len() > 0 && x == self.last { self.run + 1 } else { 1 };
        self.last = x;
        if self.ring.len() == 0 {
            self.shift = x;
        }
        let evicted = self.ring.push(x);
        let d = x - self.shift;
        self.s1 += d;
        self.s2 += d * d;
        if let Some(old) = evicted {
            let e = old - self.shift;
            self.s1 -= e;
            self.s2 -= e * e;
        }
        if self.ring.len() < self.period {
            return None;
        }
        self.since_refresh += 1;
        if self.since_refresh >= self.period {
            self.refresh();
        }
        if self.run >= self.period {
            return Some((0.0, 0.0));
        }
        let mean_d = self.s1 / self.period_f;
        let var = self.s2 / self.period_f - mean_d * mean_d;
        Some(((x - self.shift) - mean_d, if var > 0.0 || var.is_nan() { var } else { 0.0 }))
    }

    /// Recompute the sums exactly from the window, shifted by its mean.
    fn refresh(&mut self) {
        let slots = self.ring.slots();
        let mut total = 0.0;
        for &v in slots {
            total += v;
        }
        let shift = total / self.period_f;
        let (mut s1, mut s2) = (0.0, 0.0);
        for &v in slots {
            let d = v - shift;
            s1 += d;
            s2 += d * d;
        }
        self.shift = shift;
        self.s1 = s1;
        self.s2 = s2;
        self.since_refresh = 0;
    }

    /// Forget all values.
    pub(crate) fn clear(&mut self) {
        self.ring.clear();
        self.shift = 0.0;
        self.s1 = 0.0;
        self.s2 = 0.0;
        self.since_refresh = 0;
        self.run = 0;
        self.last = 0.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_evicts_oldest() {
        let mut r = Ring::new(3);
        assert_eq!(r.push(1.0), None);
        assert_eq!(r.oldest_if_full(), None);
        assert_eq!(r.push(2.0), None);
        assert_eq!(r.push(3.0), None);
        assert_eq!(r.oldest_if_full(), Some(1.0));
        assert_eq!(r.push(4.0), Some(1.0));
        assert_eq!(r.push(5.0), Some(2.0));
        assert_eq!(r.len(), 3);
        assert_eq!(r.slots(), &[4.0, 5.0, 3.0]);
        r.clear();
        assert_eq!(r.len(), 0);
        assert_eq!(r.push(9.0), None);
    }

    #[test]
    fn rolling_moments_are_precise_and_flat_windows_exact() {
        let xs: Vec<f64> = (0..400).map(|i| 1000.0 + ((i * 7919) % 101) as f64 * 0.001).collect();
        let mut m = RollingMoments::new(8);
        for (i, &x) in xs.iter().enumerate() {
            let out = m.push(x);
            if i < 7 {
                assert!(out.is_none());
                continue;
            }
            let (dev, var) = out.unwrap();
            let w = &xs[i - 7..=i];
            let mean = w.iter().sum::<f64>() / 8.0;
            let want = w.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / 8.0;
            assert!((var - want).abs() <= 1e-12 * want.max(1e-6), "i={i}: {var} vs {want}");
            assert!((dev - (x - mean)).abs() <= 1e-9, "i={i}");
        }
        let mut flat = RollingMoments::new(4);
        for _ in 0..10 {
            flat.push(0.1);
        }
        assert_eq!(flat.push(0.1), Some((0.0, 0.0)));
        flat.clear();
        assert_eq!(flat.push(0.1), None);
    }

    #[test]
    fn mono_deque_matches_brute_force() {
        let xs: Vec<f64> = (0..500).map(|i| (((i * 7919) % 113) as f64 - 50.0) * 0.37).collect();
        for w in [1usize, 2, 5, 20] {
            let mut mx = MonoDeque::new(w, Extreme::Max);
            let mut mn = MonoDeque::new(w, Extreme::Min);
            for (i, &x) in xs.iter().enumerate() {
                let lo = i.saturating_sub(w - 1);
                let bmax = xs[lo..=i].iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let bmin = xs[lo..=i].iter().copied().fold(f64::INFINITY, f64::min);
                assert_eq!(mx.push(x), bmax, "max w={w} i={i}");
                assert_eq!(mn.push(x), bmin, "min w={w} i={i}");
            }
            assert_eq!(mx.pushed(), xs.len() as u64);
            mx.clear();
            assert_eq!(mx.push(-1.0), -1.0);
        }
    }
}

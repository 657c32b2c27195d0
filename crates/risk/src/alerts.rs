//! Limit alerts: the rules that turn the limit utilisations of each risk snapshot into
//! alerts, and the alerts raised so far.
//!
//! # Rules
//!
//! * An alert is raised when a limit **enters** the warning, critical or breach zone.
//! * Once per limit and zone: a limit that stays in a zone (or falls back to a lower
//!   non-ok zone) raises nothing more until it recovers to ok.
//! * Escalation alerts at once: warning → critical (→ breach) raises a new alert
//!   immediately; each zone has its own cooldown.
//! * Recovery resets: after the limit returns to ok, the next entry into a zone raises an
//!   alert again — unless that zone already alerted for the same limit within the cooldown
//!   (default 5 minutes of *event* time), so a utilisation flapping around a threshold
//!   does not flood the screen.
//!
//! Time is the snapshot's event time, never the wall clock: a replay or an accelerated
//! simulator runs the same rules deterministically.

use std::collections::{BTreeMap, HashMap, VecDeque};

use crude_model::{Timestamp, thousands};

use crate::limits::{LimitUtilisation, Zone};

/// Default cooldown between two alerts of the same limit and zone: 5 minutes.
pub const DEFAULT_COOLDOWN_SECS: i64 = 300;
/// Most alerts the list keeps (older ones are dropped).
pub const ALERT_LIST_CAP: usize = 200;

/// One alert raised by a limit entering a zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Increases with every alert (the banner's dismissal remembers it).
    pub seq: u64,
    /// Event time of the snapshot that raised it.
    pub ts: Timestamp,
    /// The limit's key (as in the limits file).
    pub key: String,
    /// The limit's display name.
    pub label: String,
    /// The measured value.
    pub value: f64,
    /// The limit.
    pub limit: f64,
    /// `value / limit`.
    pub utilisation: f64,
    /// The zone entered: warning, critical or breach.
    pub zone: Zone,
}

impl Alert {
    /// One line describing the alert: `CRITICAL VaR 99% 1d 93% of limit (930,000 / 1,000,000)`.
    pub fn text(&self) -> String {
        format!(
            "{} {}: {} of limit ({} / {})",
            zone_name(self.zone),
            self.label,
            percent(self.utilisation),
            limit_amount(&self.key, self.value),
            limit_amount(&self.key, self.limit)
        )
    }
}

/// Per-limit memory of the alerting rules.
#[derive(Debug, Clone, Default, PartialEq)]
struct KeyState {
    /// Highest zone seen since the limit last recovered to ok.
    episode: Option<Zone>,
    /// Time of the last alert per zone.
    last_alert: BTreeMap<Zone, Timestamp>,
}

/// The alerting rules (see the module documentation) and the alerts raised so far.
#[derive(Debug, Clone, PartialEq)]
pub struct LimitAlerts {
    cooldown_ns: i64,
    state: HashMap<String, KeyState>,
    /// Most recent first.
    list: VecDeque<Alert>,
    next_seq: u64,
}

impl Default for LimitAlerts {
    fn default() -> Self {
        Self::new(DEFAULT_COOLDOWN_SECS)
    }
}

impl LimitAlerts {
    /// Rules with a cooldown of `cooldown_secs` seconds of event time (negative counts as 0).
    pub fn new(cooldown_secs: i64) -> Self {
        Self {
            cooldown_ns: cooldown_secs.max(0).saturating_mul(Timestamp::NANOS_PER_SEC),
            state: HashMap::new(),
            list: VecDeque::new(),
            next_seq: 1,
        }
    }

    /// The cooldown, seconds.
    pub fn cooldown_secs(&self) -> i64 {
        self.cooldown_ns / Timestamp::NANOS_PER_SEC
    }

    /// Applies one set of utilisations observed at event time `now`; returns the alerts it
    /// raised (also kept in [`Self::alerts`]). A limit listed twice counts once, at its
    /// highest zone. Non-finite utilisations are ignored.
    pub fn observe(&mut self, utilisations: &[LimitUtilisation], now: Timestamp) -> Vec<Alert> {
        let mut worst: Vec<&LimitUtilisation> = Vec::with_capacity(utilisations.len());
        for u in utilisations.iter().filter(|u| u.utilisation.is_finite()) {
            match worst.iter_mut().find(|w| w.key == u.key) {
                Some(w) if u.zone > w.zone => *w = u,
                Some(_) => {}
                None => worst.push(u),
            }
        }
        let mut raised = Vec::new();
        for u in worst {
            let st = self.state.entry(u.key.clone()).or_default();
            if u.zone == Zone::Ok {
                st.episode = None;
                continue;
            }
            let escalates = st.episode.is_none_or(|e| u.zone > e);
            if !escalates {
                continue;
            }
            st.episode = Some(u.zone);
            let cooled = st.last_alert.get(&u.zone).is_none_or(|t| now.0.saturating_sub(t.0) >= self.cooldown_ns);
            if !cooled {
                continue;
            }
            st.last_alert.insert(u.zone, now);
            let alert = Alert {
                seq: self.next_seq,
                ts: now,
                key: u.key.clone(),
                label: u.label.clone(),
                value: u.value,
                limit: u.limit,
                utilisation: u.utilisation,
                zone: u.zone,
            };
            self.next_seq += 1;
            raised.push(alert);
        }
        for a in &raised {
            if self.list.len() == ALERT_LIST_CAP {
                self.list.pop_back();
            }
            self.list.push_front(a.clone());
        }
        raised
    }

    /// Every alert kept, most recent first.
    pub fn alerts(&self) -> &VecDeque<Alert> {
        &self.list
    }

    /// The most recent alert.
    pub fn latest(&self) -> Option<&Alert> {
        self.list.front()
    }
}

/// Upper-case zone name as shown on screen.
pub fn zone_name(z: Zone) -> &'static str {
    match z {
        Zone::Ok => "OK",
        Zone::Warning => "WARNING",
        Zone::Critical => "CRITICAL",
        Zone::Breach => "BREACH",
    }
}

/// A utilisation as a whole percentage: `93%`.
pub fn percent(u: f64) -> String {
    if u.is_finite() { format!("{:.0}%", 100.0 * u) } else { "—".into() }
}

/// An amount rounded to a whole number with thousands separators: `-1,234,567`.
pub fn amount(v: f64) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    let r = v.round();
    let sign = if r < 0.0 { "-" } else { "" };
    // |v| beyond u64 is not a limit anyone sets; saturate rather than wrap.
    format!("{sign}{}", thousands(r.abs().min(u64::MAX as f64) as u64))
}

/// A limit's figure in its unit: a share for `concentration.*` keys (`45.0%`), contracts
/// with one decimal for `contracts.*` and `greeks.delta`, whole USD otherwise.
pub fn limit_amount(key: &str, v: f64) -> String {
    if !v.is_finite() {
        "—".into()
    } else if key.starts_with("concentration.") {
        format!("{:.1}%", 100.0 * v)
    } else if key.starts_with("contracts.") || key == "greeks.delta" {
        format!("{v:.1}")
    } else {
        amount(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(key: &str, utilisation: f64, zone: Zone) -> LimitUtilisation {
        LimitUtilisation {
            key: key.into(),
            label: key.to_uppercase(),
            value: utilisation * 1000.0,
            limit: 1000.0,
            utilisation,
            zone,
            warning: 0.75,
            critical: 0.9,
        }
    }

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_secs(1_795_014_000 + secs)
    }

    #[test]
    fn entry_alerts_once_per_zone() {
        let mut a = LimitAlerts::default();
        let r = a.observe(&[u("var", 0.8, Zone::Warning), u("gross", 0.1, Zone::Ok)], at(0));
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].key.as_str(), r[0].zone, r[0].ts), ("var", Zone::Warning, at(0)));
        // Staying in the zone, even past the cooldown, raises nothing more.
        assert!(a.observe(&[u("var", 0.85, Zone::Warning)], at(10)).is_empty());
        assert!(a.observe(&[u("var", 0.86, Zone::Warning)], at(3_600)).is_empty());
        assert_eq!(a.alerts().len(), 1);
    }

    #[test]
    fn escalation_alerts_immediately_and_de_escalation_does_not() {
        let mut a = LimitAlerts::default();
        assert_eq!(a.observe(&[u("var", 0.8, Zone::Warning)], at(0)).len(), 1);
        let r = a.observe(&[u("var", 0.95, Zone::Critical)], at(1));
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].zone, Zone::Critical);
        let r = a.observe(&[u("var", 1.2, Zone::Breach)], at(2));
        assert_eq!(r[0].zone, Zone::Breach);
        // Back to warning then critical again: same episode, nothing new.
        assert!(a.observe(&[u("var", 0.8, Zone::Warning)], at(3)).is_empty());
        assert!(a.observe(&[u("var", 0.95, Zone::Critical)], at(4)).is_empty());
        // Most recent first.
        let zones: Vec<Zone> = a.alerts().iter().map(|x| x.zone).collect();
        assert_eq!(zones, vec![Zone::Breach, Zone::Critical, Zone::Warning]);
        assert!(a.alerts()[0].seq > a.alerts()[1].seq);
    }

    #[test]
    fn cooldown_suppresses_flapping_and_recovery_resets_after_it() {
        let mut a = LimitAlerts::new(300);
        assert_eq!(a.observe(&[u("var", 0.8, Zone::Warning)], at(0)).len(), 1);
        assert!(a.observe(&[u("var", 0.7, Zone::Ok)], at(60)).is_empty());
        // Re-entry within 5 minutes of the last warning alert: suppressed.
        assert!(a.observe(&[u("var", 0.8, Zone::Warning)], at(120)).is_empty());
        // Still in the zone after the cooldown: nothing (no recovery since).
        assert!(a.observe(&[u("var", 0.8, Zone::Warning)], at(400)).is_empty());
        // Recovery, then re-entry after the cooldown: alerts again.
        assert!(a.observe(&[u("var", 0.7, Zone::Ok)], at(500)).is_empty());
        let r = a.observe(&[u("var", 0.8, Zone::Warning)], at(501));
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].ts, at(501));
        // A different limit has its own memory.
        assert_eq!(a.observe(&[u("gross", 0.8, Zone::Warning)], at(502)).len(), 1);
    }

    #[test]
    fn escalation_is_not_held_back_by_another_zones_cooldown() {
        let mut a = LimitAlerts::new(300);
        assert_eq!(a.observe(&[u("var", 0.95, Zone::Critical)], at(0)).len(), 1);
        assert!(a.observe(&[u("var", 0.1, Zone::Ok)], at(10)).is_empty());
        // Warning never alerted: it alerts although critical did 20 s ago.
        assert_eq!(a.observe(&[u("var", 0.8, Zone::Warning)], at(20)).len(), 1);
        // Critical again within its cooldown: suppressed.
        assert!(a.observe(&[u("var", 0.95, Zone::Critical)], at(30)).is_empty());
    }

    #[test]
    fn duplicates_count_once_at_their_worst_and_nan_is_ignored() {
        let mut a = LimitAlerts::default();
        let r = a.observe(&[u("var", 0.8, Zone::Warning), u("var", 0.95, Zone::Critical)], at(0));
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].zone, Zone::Critical);
        assert!(a.observe(&[u("nan", f64::NAN, Zone::Breach)], at(1)).is_empty());
    }

    #[test]
    fn the_list_is_capped() {
        let mut a = LimitAlerts::new(0);
        for i in 0..(ALERT_LIST_CAP as i64 + 10) {
            a.observe(&[u("var", 0.8, Zone::Warning)], at(2 * i));
            a.observe(&[u("var", 0.1, Zone::Ok)], at(2 * i + 1));
        }
        assert_eq!(a.alerts().len(), ALERT_LIST_CAP);
        assert_eq!(a.latest().map(|x| x.ts), Some(at(2 * (ALERT_LIST_CAP as i64 + 9))));
    }

    #[test]
    fn formats() {
        assert_eq!(amount(-1_234_567.4), "-1,234,567");
        assert_eq!(amount(0.4), "0");
        assert_eq!(percent(0.934), "93%");
        assert_eq!(limit_amount("concentration.CL", 0.456), "45.6%");
        assert_eq!(limit_amount("contracts.CL", 12.0), "12.0");
        assert_eq!(limit_amount("var", 1_500_000.0), "1,500,000");
        let a = Alert {
            seq: 1,
            ts: at(0),
            key: "var".into(),
            label: "VaR 99% 1d".into(),
            value: 930_000.0,
            limit: 1_000_000.0,
            utilisation: 0.93,
            zone: Zone::Critical,
        };
        assert_eq!(a.text(), "CRITICAL VaR 99% 1d: 93% of limit (930,000 / 1,000,000)");
    }
}

//! One-line descriptions of audit records for people (the app's activity log) and the
//! details of a limit edit as they are stored.

use crude_store::AuditEntry;

use crate::engine::actions;

/// The details of a limit edit as stored in the audit log: `text` itself when it is a JSON
/// object, else `{"edit": text}`.
pub fn limit_edit_details(text: &str) -> serde_json::Value {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v @ serde_json::Value::Object(_)) => v,
        _ => serde_json::json!({ "edit": text }),
    }
}

/// A one-line description of a spread entry or limit edit record (`Spread #3 WTI-Brent buy
/// 2 entered by trader`, `Daily loss limit changed from $250000 to $5000 by risk`); other
/// records as `action by user: details`.
pub fn describe_audit(a: &AuditEntry) -> String {
    let d = serde_json::from_str::<serde_json::Value>(&a.details).unwrap_or(serde_json::Value::Null);
    match a.action.as_str() {
        actions::SPREAD_ENTRY if d.is_object() => format!(
            "Spread #{} {} {} {} entered by {}",
            d["spread_id"],
            d["name"].as_str().unwrap_or("spread"),
            d["side"].as_str().unwrap_or("?"),
            d["qty"],
            a.user
        ),
        actions::LIMIT_EDIT => match (d["limit"].as_str(), d["old"].as_f64(), d["new"].as_f64()) {
            (Some("max_daily_loss_usd"), Some(old), Some(new)) => {
                format!("Daily loss limit changed from ${old:.0} to ${new:.0} by {} (audited)", a.user)
            }
            _ => format!("Limit edit recorded by {} (audited): {}", a.user, a.details),
        },
        other => format!("{other} by {}: {}", a.user, a.details),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crude_model::Timestamp;

    fn entry(action: &str, details: &str) -> AuditEntry {
        AuditEntry { ts: Timestamp(0), user: "risk".into(), action: action.into(), details: details.into() }
    }

    #[test]
    fn details_and_descriptions() {
        assert_eq!(limit_edit_details(r#"{"max_gross_notional_usd": 1e7}"#)["max_gross_notional_usd"], 1e7);
        assert_eq!(limit_edit_details("raised VaR limit")["edit"], "raised VaR limit");
        assert_eq!(limit_edit_details("[1, 2]")["edit"], "[1, 2]");
        let s = entry(actions::SPREAD_ENTRY, r#"{"spread_id": 3, "name": "WTI-Brent", "side": "buy", "qty": 2}"#);
        assert_eq!(describe_audit(&s), "Spread #3 WTI-Brent buy 2 entered by risk");
        let l = entry(actions::LIMIT_EDIT, r#"{"limit": "max_daily_loss_usd", "old": 250000.0, "new": 5000.0}"#);
        assert_eq!(describe_audit(&l), "Daily loss limit changed from $250000 to $5000 by risk (audited)");
        let t = entry(actions::LIMIT_EDIT, r#"{"edit": "x"}"#);
        assert_eq!(describe_audit(&t), r#"Limit edit recorded by risk (audited): {"edit": "x"}"#);
        assert_eq!(describe_audit(&entry("cancel", "{}")), "cancel by risk: {}");
    }
}

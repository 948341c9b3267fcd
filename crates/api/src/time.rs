//! Instants on the wire: stored in UTC, shown in the service time zone (+09:00 for Japan), RFC 3339.

use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use hotline_domain::schedule::ServiceWindow;
use serde_json::{Value, json};

/// An instant as clients see it: with the offset of the service time zone.
pub fn display_time(at: DateTime<Utc>, tz: Tz) -> DateTime<FixedOffset> {
    at.with_timezone(&tz).fixed_offset()
}

/// A service window as JSON: `{"open":"09:00","close":"21:00","time_zone":"Asia/Tokyo","effective_from":null}`.
pub fn window_json(window: &ServiceWindow, tz: Tz) -> Value {
    json!({
        "open": window.open.format("%H:%M").to_string(),
        "close": window.close.format("%H:%M").to_string(),
        "time_zone": tz.name(),
        "effective_from": window.effective_from,
    })
}

//! Instants on the wire: stored in UTC, shown in the service time zone (+09:00 for Japan), RFC 3339.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use chrono_tz::Tz;
use hotline_domain::schedule::ServiceWindow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An instant as clients see it: with the offset of the service time zone.
pub fn display_time(at: DateTime<Utc>, tz: Tz) -> DateTime<FixedOffset> {
    at.with_timezone(&tz).fixed_offset()
}

/// Opening hours of the hotline, as the status and the outside-window problem show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WindowView {
    /// Opening time, local `HH:MM`.
    #[schema(examples("09:00"))]
    pub open: String,
    /// Closing time, local `HH:MM` (the window is half-open: a call at `close` is refused).
    #[schema(examples("21:00"))]
    pub close: String,
    /// IANA zone of the times.
    #[schema(examples("Asia/Tokyo"))]
    pub time_zone: String,
    /// First local date these hours apply; `null` for the base window.
    pub effective_from: Option<NaiveDate>,
}

impl WindowView {
    /// The window as shown in `tz`.
    pub fn new(window: &ServiceWindow, tz: Tz) -> Self {
        Self {
            open: window.open.format("%H:%M").to_string(),
            close: window.close.format("%H:%M").to_string(),
            time_zone: tz.name().to_owned(),
            effective_from: window.effective_from,
        }
    }
}

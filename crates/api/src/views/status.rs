//! Whether the hotline is open, and whether the service is alive and ready.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::time::WindowView;

/// Open or closed now, and the next changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HotlineStatusView {
    /// Open now.
    pub open: bool,
    /// The server's "now".
    pub now: DateTime<FixedOffset>,
    /// The window in force today.
    pub window: WindowView,
    /// The next opening.
    pub next_open: DateTime<FixedOffset>,
    /// The next closing.
    pub next_close: DateTime<FixedOffset>,
}

/// The process is up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HealthView {
    /// Always `ok`.
    #[schema(examples("ok"))]
    pub status: String,
}

/// The database answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReadyView {
    /// Always `ready`.
    #[schema(examples("ready"))]
    pub status: String,
}

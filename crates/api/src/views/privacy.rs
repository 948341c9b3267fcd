//! The access log of personal data, as admins read it.

use chrono::{DateTime, FixedOffset};
use hotline_domain::privacy::AccessKind;
use hotline_storage::queries::privacy::AccessRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::context::ViewContext;

/// One read of a ticket's personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccessEntryView {
    /// Id of the entry.
    pub id: Uuid,
    /// The token that read.
    pub token_id: Uuid,
    /// Its name.
    pub token_name: String,
    /// The ticket read.
    pub ticket_id: Uuid,
    /// Its reference.
    pub ticket_reference: String,
    /// What the response showed: `ticket`, `call`, `events` or `change` (a change's response, the whole
    /// ticket).
    pub what: AccessKind,
    /// When.
    pub read_at: DateTime<FixedOffset>,
}

impl AccessEntryView {
    /// Shows an entry.
    pub fn new(entry: &AccessRecord, ctx: &ViewContext<'_>) -> Self {
        Self {
            id: entry.id,
            token_id: entry.token_id,
            token_name: entry.token_name.clone(),
            ticket_id: entry.ticket_id,
            ticket_reference: entry.ticket_reference.clone(),
            what: entry.what,
            read_at: ctx.at(entry.read_at),
        }
    }
}

/// A page of the access log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccessLogView {
    /// The entries.
    pub entries: Vec<AccessEntryView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next: Option<String>,
}

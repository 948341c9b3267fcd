//! The access log of personal data, and the records found by a person's request, as admins read them.

use chrono::{DateTime, FixedOffset};
use hotline_domain::audit::PersonalDataAnonymised;
use hotline_domain::privacy::AccessKind;
use hotline_storage::queries::privacy::{AccessRecord, Erased, PersonalData};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::call::CallView;
use super::context::ViewContext;
use super::ticket::CallbackView;

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
    /// What the response showed: `ticket`, `call`, `events`, `change` (a change's response, the whole
    /// ticket) or `request` (a search for a person's records).
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

/// A note found by a person's request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FoundNoteView {
    /// Id.
    pub id: Uuid,
    /// Its ticket.
    pub ticket_id: Uuid,
    /// Text.
    pub body: String,
    /// When.
    pub created_at: DateTime<FixedOffset>,
    /// Who.
    pub created_by: Uuid,
}

/// Every record holding what a person's request names them by: the export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PersonalDataView {
    /// Calls holding it, oldest first.
    pub calls: Vec<CallView>,
    /// Callbacks holding it in their note.
    pub callbacks: Vec<CallbackView>,
    /// Notes holding it, oldest first.
    pub notes: Vec<FoundNoteView>,
}

impl PersonalDataView {
    /// Shows what was found.
    pub fn new(found: &PersonalData, ctx: &ViewContext<'_>) -> Self {
        Self {
            calls: found.calls.iter().map(|call| CallView::new(call, ctx)).collect(),
            callbacks: found.callbacks.iter().map(|callback| CallbackView::new(callback, ctx)).collect(),
            notes: found
                .notes
                .iter()
                .map(|(ticket_id, note)| FoundNoteView {
                    id: note.id,
                    ticket_id: *ticket_id,
                    body: note.body.clone(),
                    created_at: ctx.at(note.created_at),
                    created_by: note.created_by,
                })
                .collect(),
        }
    }
}

/// One ticket an erasure touched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErasedTicketView {
    /// The ticket.
    pub ticket_id: Uuid,
    /// Its reference.
    pub ticket_reference: String,
    /// What was replaced (the `personal_data.anonymised` event written).
    pub erased: PersonalDataAnonymised,
}

impl ErasedTicketView {
    /// Shows one ticket's erasure.
    pub fn new(erased: &Erased) -> Self {
        Self {
            ticket_id: erased.ticket_id,
            ticket_reference: erased.reference.clone(),
            erased: erased.event.clone(),
        }
    }
}

/// The outcome of an erasure: counts, never the erased values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErasureView {
    /// The tickets touched; empty when nothing held the value.
    pub tickets: Vec<ErasedTicketView>,
}

//! Tickets after intake: the full view (with the transitions the caller's role may make and the SLA
//! clocks), the queue, the audit trail, and every change: triage, start, assignment, notes, resolution,
//! closing, declining, reopening and caller confirmation. Every change needs `If-Match`; each handler
//! parses its body, names the storage operation, and says what to answer (see `crate::change`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, FixedOffset, Utc};
use hotline_domain::privacy::AccessKind;
use hotline_domain::text::required_notes;
use hotline_domain::ticket_list::{TicketListForm, TicketListQuery};
use hotline_domain::triage::{IncidentFacts, Triage, TriageForm};
use hotline_domain::workflow::TicketAction;
use hotline_storage::queries::ticket_list::{self, Clocks};
use hotline_storage::queries::tickets;
use hotline_storage::queries::{audit, notes, triage as triage_queries, workflow};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access_log::read_by;
use crate::auth::{Authorized, Supervisor};
use crate::change::{TicketChange, read_ticket, ticket_key};
use crate::extract::{Empty, JsonRequest};
use crate::precondition::{IfMatch, TicketPath, etag};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::views::{EventList, EventView, TicketList, TicketView, WithNote};

/// A ticket with everything on it
///
/// `allowed_transitions` depends on the requesting token's role. The `ETag` is the version to send
/// back in `If-Match`.
#[utoipa::path(
    tag = "tickets",
    operation_id = "getTicket",
    security(("bearer" = ["operator"])),
    params(TicketPath),
    responses((status = 200, description = "The ticket.", body = TicketView,
        headers(("ETag" = String, description = "The ticket's version, quoted: send it back in `If-Match`.")))),
)]
#[get("/tickets/{id}")]
pub async fn get_ticket(
    auth: Authorized,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let key = ticket_key(&path)?;
    let (storage, now) = (state.storage.clone(), state.clock.now());
    let found = web::block(move || storage.read(|conn| read_ticket(conn, &key))).await??;
    let (full, case) = found.ok_or_else(|| ApiError::NotFound(format!("ticket {:?}", path.as_str())))?;
    let read = read_by(auth.actor.token_id, full.detail.header.id, AccessKind::Ticket, now);
    crate::change::record_reads(&state, vec![read]).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::ETAG, etag(full.detail.header.version)))
        .json(TicketView::new(&full, &case, &state.views(auth.actor.role, state.clock.now()))))
}

/// The ticket list
///
/// Filters combine with AND; list parameters take comma-separated values (any of them). Pages follow
/// `next_cursor` (keyset: no row repeats or is skipped while tickets are added). With
/// `Accept: text/csv` the answer is every matching ticket as CSV (UTF-8 with BOM; personal columns for
/// supervisors and admins only, see docs/api.md). An unknown parameter or a bad value is 422.
#[utoipa::path(
    tag = "tickets",
    operation_id = "listTickets",
    security(("bearer" = ["operator"])),
    params(TicketListForm),
    responses((status = 200, description = "A page of the list, or with `Accept: text/csv` every matching ticket.",
        content((TicketList = "application/json"), (String = "text/csv")))),
)]
#[get("/tickets")]
pub async fn list_tickets(
    auth: Authorized,
    request: HttpRequest,
    query: web::Query<TicketListForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let list = TicketListQuery::parse(&query, state.time_zone())?;
    let now = state.clock.now();
    if crate::ticket_export::wants_csv(&request) {
        return Ok(crate::ticket_export::respond(state, list, auth.actor.role, now));
    }
    let (storage, targets) = (state.storage.clone(), state.config.sla);
    let page = web::block(move || {
        storage.read(|conn| ticket_list::page(conn, &list, Clocks { targets: &targets, now }))
    })
    .await??;
    Ok(HttpResponse::Ok().json(TicketList::new(&page, &state.views(auth.actor.role, now))))
}

/// The ticket's audit trail
///
/// Oldest first; append-only.
#[utoipa::path(
    tag = "tickets",
    operation_id = "listTicketEvents",
    security(("bearer" = ["operator"])),
    params(TicketPath),
    responses((status = 200, description = "The audit trail.", body = EventList)),
)]
#[get("/tickets/{id}/events")]
pub async fn list_events(
    auth: Authorized,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let key = ticket_key(&path)?;
    let (storage, now) = (state.storage.clone(), state.clock.now());
    let found = web::block(move || {
        storage.read(|conn| match tickets::find_header(conn, &key)? {
            Some(ticket) => Ok(Some((ticket.id, audit::list(conn, ticket.id)?))),
            None => Ok(None),
        })
    })
    .await??;
    let (ticket, events) = found.ok_or_else(|| ApiError::NotFound(format!("ticket {:?}", path.as_str())))?;
    crate::change::record_reads(&state, vec![read_by(auth.actor.token_id, ticket, AccessKind::Events, now)])
        .await?;
    let ctx = state.views(auth.actor.role, state.clock.now());
    Ok(HttpResponse::Ok()
        .json(EventList { events: events.iter().map(|e| EventView::new(e, &ctx)).collect() }))
}

/// A triage decision.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriageRequest {
    /// `everyday_trouble`, `serious_incident`, `preventive_consultation` or `out_of_scope`.
    category: String,
    /// What happened, e.g. `ransomware`, `emotet`, `unauthorized_access`, `none`.
    incident_kind: String,
    /// The facts the priority follows from.
    #[serde(default)]
    facts: FactsRequest,
    /// `P1`–`P4`; default: the suggested priority. Another one needs `priority_reason`.
    #[serde(default)]
    priority: Option<String>,
    /// Why the suggestion is overridden.
    #[serde(default)]
    priority_reason: Option<String>,
    /// Required for `out_of_scope`: why the call is declined.
    #[serde(default)]
    decline_reason: Option<String>,
}

impl JsonRequest for TriageRequest {
    const FREE_TEXT: &'static [&'static str] = &["priority_reason", "decline_reason"];
}

/// The facts of an incident as the caller gives them.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FactsRequest {
    /// When the institution noticed.
    #[serde(default)]
    detected_at: Option<DateTime<FixedOffset>>,
    /// When it happened, if known.
    #[serde(default)]
    occurred_at: Option<DateTime<FixedOffset>>,
    /// Systems affected, as the caller names them.
    #[serde(default)]
    systems_affected: Vec<String>,
    /// The electronic medical record cannot be used.
    #[serde(default)]
    emr_unusable: bool,
    /// Care suspended, including refusing new patients.
    #[serde(default)]
    care_suspended: bool,
    /// Personal data may have leaked.
    #[serde(default)]
    personal_data_leaked: bool,
    /// Estimated number of people affected.
    #[serde(default)]
    people_affected: Option<u64>,
    /// An insider is suspected.
    #[serde(default)]
    insider_suspected: bool,
}

impl TriageRequest {
    fn decide(&self, now: DateTime<Utc>) -> Result<Triage, ApiError> {
        let facts = &self.facts;
        let form = TriageForm {
            category: &self.category,
            incident_kind: &self.incident_kind,
            facts: IncidentFacts {
                detected_at: facts.detected_at.map(|at| at.with_timezone(&Utc)),
                occurred_at: facts.occurred_at.map(|at| at.with_timezone(&Utc)),
                systems_affected: facts.systems_affected.iter().map(|s| s.trim().to_owned()).collect(),
                emr_unusable: facts.emr_unusable,
                care_suspended: facts.care_suspended,
                personal_data_leaked: facts.personal_data_leaked,
                people_affected: facts.people_affected,
                insider_suspected: facts.insider_suspected,
            },
            priority: self.priority.as_deref(),
            priority_reason: self.priority_reason.as_deref(),
            decline_reason: self.decline_reason.as_deref(),
        };
        Ok(Triage::parse(&form, now)?)
    }
}

/// Shows the ticket after a change that created nothing else.
fn ticket_only<T>(ticket: TicketView, _: &T, _: &crate::views::ViewContext<'_>) -> TicketView {
    ticket
}

/// Triage
///
/// Sets category, incident kind, facts and priority (a suggestion is computed). `new` → `triaged`;
/// `out_of_scope` declines the ticket.
#[utoipa::path(
    tag = "tickets",
    operation_id = "triageTicket",
    security(("bearer" = ["operator"])),
    params(TicketPath, IfMatch),
    request_body = TriageRequest,
    responses((status = 200, description = "The ticket after the change.", body = TicketView,
        headers(("ETag" = String, description = "The new version.")))),
    extensions(("x-problems" = json!(["invalid-transition"]))),
)]
#[post("/tickets/{id}/triage")]
pub async fn triage(
    change: TicketChange<TriageRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let decision = change.body.decide(state.clock.now())?;
    change
        .run(
            &state,
            StatusCode::OK,
            move |conn, change, _| triage_queries::triage(conn, change, &decision),
            ticket_only,
        )
        .await
}

/// Start work
///
/// `triaged` → `in_progress`. No body, or `{}`.
#[utoipa::path(
    tag = "tickets",
    operation_id = "startTicket",
    security(("bearer" = ["operator"])),
    params(TicketPath, IfMatch),
    request_body(content = Option<Empty>, description = "Nothing, or `{}`."),
    responses((status = 200, description = "The ticket after the change.", body = TicketView,
        headers(("ETag" = String, description = "The new version.")))),
    extensions(("x-problems" = json!(["invalid-transition"]))),
)]
#[post("/tickets/{id}/start")]
pub async fn start(
    change: TicketChange<Empty>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    change
        .run(
            &state,
            StatusCode::OK,
            |conn, change, _| workflow::apply(conn, change, TicketAction::Start),
            ticket_only,
        )
        .await
}

/// Close
///
/// `resolved` → `closed`. No body, or `{}`.
#[utoipa::path(
    tag = "tickets",
    operation_id = "closeTicket",
    security(("bearer" = ["operator"])),
    params(TicketPath, IfMatch),
    request_body(content = Option<Empty>, description = "Nothing, or `{}`."),
    responses((status = 200, description = "The ticket after the change.", body = TicketView,
        headers(("ETag" = String, description = "The new version.")))),
    extensions(("x-problems" = json!(["invalid-transition"]))),
)]
#[post("/tickets/{id}/close")]
pub async fn close(
    change: TicketChange<Empty>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    change
        .run(
            &state,
            StatusCode::OK,
            |conn, change, _| workflow::apply(conn, change, TicketAction::Close),
            ticket_only,
        )
        .await
}

/// Assign the ticket to oneself
///
/// 409 `already-assigned` when another token has it. No body, or `{}`.
#[utoipa::path(
    tag = "tickets",
    operation_id = "takeTicket",
    security(("bearer" = ["operator"])),
    params(TicketPath, IfMatch),
    request_body(content = Option<Empty>, description = "Nothing, or `{}`."),
    responses((status = 200, description = "The ticket after the change.", body = TicketView,
        headers(("ETag" = String, description = "The new version.")))),
    extensions(("x-problems" = json!(["invalid-transition", "already-assigned"]))),
)]
#[post("/tickets/{id}/take")]
pub async fn take(change: TicketChange<Empty>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    change.run(&state, StatusCode::OK, |conn, change, _| workflow::take(conn, change), ticket_only).await
}

/// Whom to assign the ticket to.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// An active token's id, or `null` (or absent) to unassign.
    #[serde(default)]
    assignee: Option<Uuid>,
}

impl JsonRequest for AssignRequest {
    const FREE_TEXT: &'static [&'static str] = &[];
}

/// Assign or unassign
///
/// Assigns the ticket to an active token, or unassigns it with `null` (or `{}`); an unknown or revoked
/// token is 422 on `assignee`.
#[utoipa::path(
    tag = "tickets",
    operation_id = "assignTicket",
    security(("bearer" = ["supervisor"])),
    params(TicketPath, IfMatch),
    request_body = AssignRequest,
    responses((status = 200, description = "The ticket after the change.", body = TicketView,
        headers(("ETag" = String, description = "The new version.")))),
    extensions(("x-problems" = json!(["invalid-transition"]))),
)]
#[post("/tickets/{id}/assign")]
pub async fn assign(
    change: TicketChange<AssignRequest, Supervisor>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let assignee = change.body.assignee;
    change
        .run(
            &state,
            StatusCode::OK,
            move |conn, change, _| workflow::assign(conn, change, assignee),
            ticket_only,
        )
        .await
}

/// A note.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    /// The note, 1–4000 characters.
    body: String,
}

impl JsonRequest for NoteRequest {
    const FREE_TEXT: &'static [&'static str] = &["body"];
}

/// Add a note
///
/// Notes are append-only.
#[utoipa::path(
    tag = "tickets",
    operation_id = "addNote",
    security(("bearer" = ["operator"])),
    params(TicketPath, IfMatch),
    request_body = NoteRequest,
    responses((status = 201, description = "The ticket with the note, and the note's id.", body = WithNote,
        headers(("ETag" = String, description = "The new version.")))),
    extensions(("x-problems" = json!(["invalid-transition"]))),
)]
#[post("/tickets/{id}/notes")]
pub async fn add_note(
    change: TicketChange<NoteRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let text = required_notes("body", &change.body.body, 4000)?;
    change
        .run(
            &state,
            StatusCode::CREATED,
            move |conn, change, _| notes::add_note(conn, change, &text).map(|(_, note)| note.id),
            |ticket, note_id, _| WithNote { ticket, note_id: *note_id },
        )
        .await
}

/// A resolution.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    /// What was done, 1–4000 characters.
    resolution_summary: String,
}

impl JsonRequest for ResolveRequest {
    const FREE_TEXT: &'static [&'static str] = &["resolution_summary"];
}

/// Record the resolution
///
/// From `in_progress` or `escalated`; 409 `open-referrals` while a referral is `requested` or
/// `accepted`, listing them with the actions that would close them.
#[utoipa::path(
    tag = "tickets",
    operation_id = "resolveTicket",
    security(("bearer" = ["operator"])),
    params(TicketPath, IfMatch),
    request_body = ResolveRequest,
    responses((status = 200, description = "The ticket after the change.", body = TicketView,
        headers(("ETag" = String, description = "The new version.")))),
    extensions(("x-problems" = json!(["invalid-transition", "open-referrals"]))),
)]
#[post("/tickets/{id}/resolve")]
pub async fn resolve(
    change: TicketChange<ResolveRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let text = required_notes("resolution_summary", &change.body.resolution_summary, 4000)?;
    change
        .run(
            &state,
            StatusCode::OK,
            move |conn, change, _| workflow::resolve(conn, change, &text),
            ticket_only,
        )
        .await
}

/// A change that needs a reason.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    /// Why, 1–4000 characters.
    reason: String,
}

impl JsonRequest for ReasonRequest {
    const FREE_TEXT: &'static [&'static str] = &["reason"];
}

/// Decline
///
/// From `new` or `triaged`, for callers not eligible or calls out of scope; the reason becomes
/// `resolution_summary`, and the `ticket.declined` event points the caller to the free security portal
/// (`security_portal_url`, configured as `hotline.security_portal_url`).
#[utoipa::path(
    tag = "tickets",
    operation_id = "declineTicket",
    security(("bearer" = ["operator"])),
    params(TicketPath, IfMatch),
    request_body = ReasonRequest,
    responses((status = 200, description = "The ticket after the change.", body = TicketView,
        headers(("ETag" = String, description = "The new version.")))),
    extensions(("x-problems" = json!(["invalid-transition"]))),
)]
#[post("/tickets/{id}/decline")]
pub async fn decline(
    change: TicketChange<ReasonRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let text = required_notes("reason", &change.body.reason, 4000)?;
    let portal = state.config.security_portal_url.clone();
    change
        .run(
            &state,
            StatusCode::OK,
            move |conn, change, _| workflow::decline(conn, change, &text, portal.as_deref()),
            ticket_only,
        )
        .await
}

/// Reopen
///
/// From `resolved` or `closed` back to `in_progress`.
#[utoipa::path(
    tag = "tickets",
    operation_id = "reopenTicket",
    security(("bearer" = ["supervisor"])),
    params(TicketPath, IfMatch),
    request_body = ReasonRequest,
    responses((status = 200, description = "The ticket after the change.", body = TicketView,
        headers(("ETag" = String, description = "The new version.")))),
    extensions(("x-problems" = json!(["invalid-transition"]))),
)]
#[post("/tickets/{id}/reopen")]
pub async fn reopen(
    change: TicketChange<ReasonRequest, Supervisor>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let text = required_notes("reason", &change.body.reason, 4000)?;
    change
        .run(
            &state,
            StatusCode::OK,
            move |conn, change, _| workflow::reopen(conn, change, &text),
            ticket_only,
        )
        .await
}

/// A supervisor's confirmation of a caller.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmRequest {
    /// How the caller was confirmed, 1–4000 characters.
    note: String,
}

impl JsonRequest for ConfirmRequest {
    const FREE_TEXT: &'static [&'static str] = &["note"];
}

/// Confirm an unverified caller
///
/// Allows referrals (of any kind) on a ticket whose first call was not `verified`; the note records
/// the reason, in the `caller.confirmed` event.
#[utoipa::path(
    tag = "tickets",
    operation_id = "confirmCaller",
    security(("bearer" = ["supervisor"])),
    params(TicketPath, IfMatch),
    request_body = ConfirmRequest,
    responses((status = 200, description = "The ticket after the change.", body = TicketView,
        headers(("ETag" = String, description = "The new version.")))),
    extensions(("x-problems" = json!(["invalid-transition"]))),
)]
#[post("/tickets/{id}/confirm-caller")]
pub async fn confirm_caller(
    change: TicketChange<ConfirmRequest, Supervisor>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let text = required_notes("note", &change.body.note, 4000)?;
    change
        .run(
            &state,
            StatusCode::OK,
            move |conn, change, _| workflow::confirm_caller(conn, change, &text),
            ticket_only,
        )
        .await
}

//! Tickets after intake: the full view (with the transitions the caller's role may make and the SLA
//! clocks), the queues, and every change: triage, start, assignment, notes, resolution, closing,
//! declining, reopening and caller confirmation. Every change needs `If-Match`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, FixedOffset, Utc};
use hotline_domain::clocks::{ReferralTimes, TicketTimes, is_overdue, referral_deadline, ticket_deadlines};
use hotline_domain::role::Role;
use hotline_domain::ticket::{TicketReference, TicketStatus};
use hotline_domain::triage::{IncidentFacts, Priority, Triage, TriageForm};
use hotline_domain::workflow::{TicketAction, TransitionError, allowed_actions};
use hotline_storage::db::DbConnection;
use hotline_storage::queries::lifecycle::{
    self, Change, ChangeError, FullTicket, ReferralRecord, TicketFilter,
};
use hotline_storage::queries::tickets::{self, TicketHeader, TicketKey};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::AppState;
use crate::auth::Actor;
use crate::extract::{IdempotencyKey, RequestBody, RequestFingerprint, json_body, parse_json, read_body};
use crate::idempotency::{StoredResponse, write_once};
use crate::precondition::{etag, required_version};
use crate::problem::ApiError;
use crate::routes::calls::{CallView, related_json};
use crate::time::display_time;

/// A path segment is a UUID or a reference such as `HL-2026-000123`.
pub(crate) fn ticket_key(raw: &str) -> Result<TicketKey, ApiError> {
    if let Ok(id) = Uuid::parse_str(raw) {
        return Ok(TicketKey::Id(id));
    }
    raw.parse::<TicketReference>()
        .map(|reference| TicketKey::Reference(reference.to_string()))
        .map_err(|_| ApiError::NotFound(format!("ticket {raw:?}")))
}

/// The ticket's id for a path segment (a reference needs a lookup).
pub(crate) async fn ticket_id(state: &web::Data<AppState>, raw: &str) -> Result<Uuid, ApiError> {
    match ticket_key(raw)? {
        TicketKey::Id(id) => Ok(id),
        key => {
            let storage = state.storage.clone();
            let found = web::block(move || storage.read(|conn| tickets::find_header(conn, &key))).await??;
            found.map(|t| t.id).ok_or_else(|| ApiError::NotFound(format!("ticket {raw:?}")))
        }
    }
}

/// Maps every refusal of a ticket change to its problem type.
pub(crate) fn change_error(error: ChangeError, actual: Role) -> ApiError {
    use hotline_domain::referral::ReferralRefusal as R;
    match error {
        ChangeError::NotFound => ApiError::NotFound("the ticket".to_owned()),
        ChangeError::VersionMismatch { current } => ApiError::PreconditionFailed { current },
        ChangeError::Transition(TransitionError::Invalid { from, action, allowed }) => {
            ApiError::InvalidTransition {
                from,
                action: action.as_str().to_owned(),
                allowed: allowed.into_iter().map(|(a, to)| (a.as_str().to_owned(), to)).collect(),
            }
        }
        ChangeError::Transition(TransitionError::Forbidden { required, .. })
        | ChangeError::Forbidden(required) => ApiError::Forbidden { required, actual },
        ChangeError::OpenReferrals(count) => ApiError::OpenReferrals(count),
        ChangeError::TicketNotOpen(status) => ApiError::TicketNotOpen(status),
        ChangeError::AlreadyAssigned(id) => ApiError::AlreadyAssigned(id),
        ChangeError::UnknownAssignee(id) => ApiError::field("assignee", format!("no active token {id}")),
        ChangeError::Referral(refusal) => {
            let reason = match &refusal {
                R::TicketStatus(_) => "ticket-status",
                R::PoliceNeedsSeriousIncident(_) => "police-needs-serious-incident",
                R::NotAnIncident { .. } => "not-an-incident",
                R::CallerUnconfirmed => "caller-unconfirmed",
            };
            ApiError::ReferralNotAllowed { reason, detail: refusal.to_string() }
        }
        ChangeError::Partner(problem) => ApiError::PartnerUnavailable(problem.to_string()),
        ChangeError::ReferralNotFound => ApiError::NotFound("the referral".to_owned()),
        ChangeError::ReferralTransition { from, action, allowed } => ApiError::InvalidReferralTransition {
            from: from.as_str().to_owned(),
            action: action.as_str().to_owned(),
            allowed: allowed.iter().map(|a| a.as_str().to_owned()).collect(),
        },
        ChangeError::DuplicateOpenReferral => ApiError::DuplicateReferral,
        ChangeError::Storage(error) => error.into(),
    }
}

fn times(ticket: &TicketHeader) -> TicketTimes {
    TicketTimes {
        status: ticket.status,
        priority: ticket.priority,
        first_call_at: ticket.first_call_at,
        first_response_at: ticket.first_response_at,
        resolved_at: ticket.resolved_at,
    }
}

fn referral_times(referral: &ReferralRecord) -> ReferralTimes {
    ReferralTimes {
        status: referral.status,
        requested_at: referral.requested_at,
        accepted_at: referral.accepted_at,
        ended_at: referral.ended_at,
    }
}

fn deadline_json(deadline: &hotline_domain::sla::Deadline, tz: chrono_tz::Tz) -> Value {
    json!({
        "due_at": display_time(deadline.due_at, tz),
        "met_at": deadline.met_at.map(|at| display_time(at, tz)),
        "overdue": deadline.overdue,
    })
}

/// A referral as clients see it, with its acceptance clock.
pub(crate) fn referral_json(
    referral: &ReferralRecord,
    priority: Option<Priority>,
    state: &AppState,
    now: DateTime<Utc>,
) -> Value {
    let tz = state.time_zone();
    let deadline = referral_deadline(&state.config.sla, priority, &referral_times(referral), now);
    let at = |value: Option<DateTime<Utc>>| value.map(|at| display_time(at, tz));
    json!({
        "id": referral.id,
        "ticket_id": referral.ticket_id,
        "kind": referral.kind.as_str(),
        "status": referral.status.as_str(),
        "partner": { "id": referral.partner_id, "name": referral.partner_name },
        "consent": {
            "given_by": referral.consent_given_by,
            "name": referral.consent_name,
            "given_at": display_time(referral.consent_given_at, tz),
        },
        "request_note": referral.request_note,
        "requested_at": display_time(referral.requested_at, tz),
        "requested_by": referral.requested_by,
        "accepted_at": at(referral.accepted_at),
        "completed_at": at(referral.completed_at),
        "ended_at": at(referral.ended_at),
        "last_note": referral.last_note,
        "police_receipt_number": referral.police_receipt_number,
        "police_contact": referral.police_contact,
        "acceptance": deadline_json(&deadline, tz),
        "allowed_actions": hotline_domain::referral::referral_actions(referral.status).iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        "updated_at": display_time(referral.updated_at, tz),
    })
}

fn facts_json(facts: &IncidentFacts, tz: chrono_tz::Tz) -> Value {
    json!({
        "detected_at": facts.detected_at.map(|at| display_time(at, tz)),
        "occurred_at": facts.occurred_at.map(|at| display_time(at, tz)),
        "systems_affected": facts.systems_affected,
        "emr_unusable": facts.emr_unusable,
        "care_suspended": facts.care_suspended,
        "personal_data_leaked": facts.personal_data_leaked,
        "people_affected": facts.people_affected,
        "insider_suspected": facts.insider_suspected,
    })
}

/// The full ticket as clients see it; `allowed_transitions` depends on the caller's role.
pub(crate) fn ticket_json(full: &FullTicket, role: Role, state: &AppState, now: DateTime<Utc>) -> Value {
    let tz = state.time_zone();
    let ticket = &full.detail.header;
    let at = |value: Option<DateTime<Utc>>| value.map(|at| display_time(at, tz));
    let deadlines = ticket_deadlines(&state.config.sla, &times(ticket), now);
    let referral_clocks: Vec<ReferralTimes> = full.referrals.iter().map(referral_times).collect();
    let first_verification = full.detail.calls.first().map(|call| call.verification.outcome.as_str());
    json!({
        "id": ticket.id,
        "reference": ticket.reference,
        "status": ticket.status.as_str(),
        "version": ticket.version,
        "priority": ticket.priority.map(Priority::as_str),
        "prefecture": ticket.prefecture.code(),
        "member_id": ticket.member_id,
        "institution_id": ticket.institution_id,
        "summary": ticket.summary,
        "assignee": ticket.assignee,
        "caller": {
            "verification": first_verification,
            "confirmed_at": at(ticket.caller_confirmed_at),
            "confirmed_by": ticket.caller_confirmed_by,
        },
        "triage": full.triage.as_ref().map(|record| json!({
            "category": record.triage.category.as_str(),
            "incident_kind": record.triage.incident_kind.as_str(),
            "facts": facts_json(&record.triage.facts, tz),
            "suggested_priority": record.triage.suggested_priority.as_str(),
            "priority": record.triage.priority.as_str(),
            "priority_reason": record.triage.priority_reason,
            "decline_reason": record.triage.decline_reason,
            "triaged_at": display_time(record.triaged_at, tz),
            "triaged_by": record.triaged_by,
        })),
        "resolution_summary": ticket.resolution_summary,
        "first_call_at": display_time(ticket.first_call_at, tz),
        "first_response_at": at(ticket.first_response_at),
        "resolved_at": at(ticket.resolved_at),
        "closed_at": at(ticket.closed_at),
        "created_at": display_time(ticket.created_at, tz),
        "updated_at": display_time(ticket.updated_at, tz),
        "created_by": ticket.created_by,
        "allowed_transitions": allowed_actions(ticket.status, role)
            .into_iter()
            .map(|(action, to)| json!({ "action": action.as_str(), "to": to.as_str() }))
            .collect::<Vec<_>>(),
        "sla": {
            "first_response": deadline_json(&deadlines.first_response, tz),
            "resolution": deadlines.resolution.map(|d| deadline_json(&d, tz)),
            "overdue": is_overdue(&state.config.sla, &times(ticket), &referral_clocks, now),
        },
        "referrals": full
            .referrals
            .iter()
            .map(|referral| {
                let mut view = referral_json(referral, ticket.priority, state, now);
                view["alerts"] = json!(full
                    .alerts
                    .iter()
                    .filter(|alert| alert.referral_id == Some(referral.id))
                    .map(|alert| crate::routes::notifications::alert_json(alert, tz))
                    .collect::<Vec<_>>());
                view
            })
            .collect::<Vec<_>>(),
        "callbacks": full.callbacks.iter().map(|c| crate::routes::callbacks::callback_json(c, tz, now)).collect::<Vec<_>>(),
        "notes": full.notes.iter().map(|n| json!({
            "id": n.id, "body": n.body, "created_at": display_time(n.created_at, tz), "created_by": n.created_by,
        })).collect::<Vec<_>>(),
        "possible_repeat_of": related_json(&full.detail.possible_repeat_of, tz),
        "calls": full.detail.calls.iter().map(|call| CallView::new(call, tz)).collect::<Vec<_>>(),
        "alerts": full.alerts.iter().map(|alert| crate::routes::notifications::alert_json(alert, tz)).collect::<Vec<_>>(),
    })
}

/// `GET /v1/tickets/{id-or-reference}` (operator).
pub async fn get_ticket(
    path: web::Path<String>,
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, ApiError> {
    actor.require(Role::Operator)?;
    let key = ticket_key(&path)?;
    let storage = state.storage.clone();
    let full = web::block(move || storage.read(|conn| lifecycle::full_ticket(conn, &key))).await??;
    let full = full.ok_or_else(|| ApiError::NotFound(format!("ticket {:?}", path.as_str())))?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::ETAG, etag(full.detail.header.version)))
        .json(ticket_json(&full, actor.role, &state, state.clock.now())))
}

/// Query of the ticket queue.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    overdue: Option<bool>,
    #[serde(default)]
    assignee: Option<Uuid>,
    #[serde(default)]
    priority: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
}

/// `GET /v1/tickets?status=&overdue=true&assignee=&priority=&limit=` (operator): a queue, oldest first.
/// `overdue=true` looks at every open ticket and keeps the late ones.
pub async fn list_tickets(
    query: web::Query<ListQuery>,
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, ApiError> {
    actor.require(Role::Operator)?;
    let mut statuses = Vec::new();
    if let Some(list) = &query.status {
        for name in list.split(',').filter(|s| !s.is_empty()) {
            statuses.push(TicketStatus::parse(name)?);
        }
    }
    let overdue = query.overdue.unwrap_or(false);
    if overdue && statuses.is_empty() {
        statuses = TicketStatus::ALL
            .into_iter()
            .filter(|s| !matches!(s, TicketStatus::Closed | TicketStatus::Declined))
            .collect();
    }
    let priority = query.priority.as_deref().map(Priority::parse).transpose()?;
    let limit = crate::routes::page_limit(query.limit, 50, state.config.max_page_size)?;
    // Overdue filtering happens after loading, so it scans a wider window of open tickets.
    let filter = TicketFilter {
        statuses,
        assignee: query.assignee,
        priority,
        limit: if overdue { 10_000 } else { limit },
    };
    let storage = state.storage.clone();
    let rows = web::block(move || storage.read(|conn| lifecycle::list_tickets(conn, &filter))).await??;
    let now = state.clock.now();
    let tz = state.time_zone();
    let items: Vec<Value> = rows
        .iter()
        .filter_map(|(ticket, referrals)| {
            let clocks: Vec<ReferralTimes> = referrals.iter().map(referral_times).collect();
            let late = is_overdue(&state.config.sla, &times(ticket), &clocks, now);
            (!overdue || late).then(|| {
                let deadlines = ticket_deadlines(&state.config.sla, &times(ticket), now);
                json!({
                    "id": ticket.id,
                    "reference": ticket.reference,
                    "status": ticket.status.as_str(),
                    "priority": ticket.priority.map(Priority::as_str),
                    "prefecture": ticket.prefecture.code(),
                    "assignee": ticket.assignee,
                    "first_call_at": display_time(ticket.first_call_at, tz),
                    "version": ticket.version,
                    "open_referrals": referrals.iter().filter(|r| r.status.is_open()).count(),
                    "sla": {
                        "first_response": deadline_json(&deadlines.first_response, tz),
                        "resolution": deadlines.resolution.map(|d| deadline_json(&d, tz)),
                        "overdue": late,
                    },
                })
            })
        })
        .take(usize::try_from(limit).unwrap_or(50))
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "tickets": items })))
}

/// A change's body, optional for actions that carry no data.
pub(crate) async fn optional_body<T: RequestBody + Default>(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<(T, RequestFingerprint), ApiError> {
    let bytes = read_body(req, payload, limit).await?;
    let fingerprint = RequestFingerprint::of(req, &bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok((T::default(), fingerprint));
    }
    crate::extract::require_media_type(req, "application/json")?;
    Ok((parse_json(&bytes)?, fingerprint))
}

/// Runs a ticket change: If-Match, the change in one transaction, and the ticket view as the answer
/// (with its new ETag), replayable by Idempotency-Key.
pub(crate) async fn run_change<F>(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    actor: &Actor,
    ticket: Uuid,
    fingerprint: RequestFingerprint,
    status: StatusCode,
    change: F,
) -> Result<HttpResponse, ApiError>
where
    F: Fn(&mut DbConnection, &Change) -> Result<Option<Value>, ChangeError> + Send + Clone + 'static,
{
    let key = IdempotencyKey::from_request(req)?;
    let expected_version = required_version(req)?;
    let now = state.clock.now();
    let change_data =
        Change { ticket_id: ticket, expected_version, actor: actor.token_id, role: actor.role, now };
    let view_state = state.clone();
    let role = actor.role;
    write_once(
        state,
        actor,
        key,
        fingerprint,
        move |conn| {
            let extra = change(conn, &change_data).map_err(|error| change_error(error, role))?;
            let full = lifecycle::full_ticket(conn, &TicketKey::Id(ticket))?
                .ok_or_else(|| ApiError::NotFound("the ticket".into()))?;
            Ok((full, extra))
        },
        move |(full, extra)| {
            let mut body = ticket_json(full, role, &view_state, now);
            if let (Some(extra), Some(map)) = (extra, body.as_object_mut()) {
                if let Some(extra) = extra.as_object() {
                    map.extend(extra.clone());
                }
            }
            let response =
                StoredResponse::json(status, &body, None)?.with_etag(etag(full.detail.header.version));
            Ok((response.clone(), response))
        },
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TriageRequest {
    category: String,
    incident_kind: String,
    #[serde(default)]
    facts: FactsRequest,
    #[serde(default)]
    priority: Option<String>,
    #[serde(default)]
    priority_reason: Option<String>,
    #[serde(default)]
    decline_reason: Option<String>,
}

impl RequestBody for TriageRequest {
    const FREE_TEXT: &'static [&'static str] = &["priority_reason", "decline_reason"];
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FactsRequest {
    #[serde(default)]
    detected_at: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    occurred_at: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    systems_affected: Vec<String>,
    #[serde(default)]
    emr_unusable: bool,
    #[serde(default)]
    care_suspended: bool,
    #[serde(default)]
    personal_data_leaked: bool,
    #[serde(default)]
    people_affected: Option<u64>,
    #[serde(default)]
    insider_suspected: bool,
}

/// `POST /v1/tickets/{id}/triage` (operator, If-Match).
pub async fn triage(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, ApiError> {
    actor.require(Role::Operator)?;
    let ticket = ticket_id(&state, &path).await?;
    let (body, fingerprint) = json_body::<TriageRequest>(&req, payload, state.config.body_limit).await?;
    let facts = &body.facts;
    let form = TriageForm {
        category: &body.category,
        incident_kind: &body.incident_kind,
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
        priority: body.priority.as_deref(),
        priority_reason: body.priority_reason.as_deref(),
        decline_reason: body.decline_reason.as_deref(),
    };
    let decision: Triage = Triage::parse(&form, state.clock.now())?;
    run_change(&req, &state, &actor, ticket, fingerprint, StatusCode::OK, move |conn, change| {
        lifecycle::triage(conn, change, &decision).map(|_| None)
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmptyRequest {}

impl RequestBody for EmptyRequest {
    const FREE_TEXT: &'static [&'static str] = &[];
}

/// `POST /v1/tickets/{id}/start` (operator, If-Match): triaged → in_progress.
pub async fn start(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, ApiError> {
    simple_action(req, path, payload, state, actor, TicketAction::Start).await
}

/// `POST /v1/tickets/{id}/close` (operator, If-Match): resolved → closed.
pub async fn close(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, ApiError> {
    simple_action(req, path, payload, state, actor, TicketAction::Close).await
}

async fn simple_action(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
    actor: Actor,
    action: TicketAction,
) -> Result<HttpResponse, ApiError> {
    actor.require(Role::Operator)?;
    let ticket = ticket_id(&state, &path).await?;
    let (_body, fingerprint) = optional_body::<EmptyRequest>(&req, payload, state.config.body_limit).await?;
    run_change(&req, &state, &actor, ticket, fingerprint, StatusCode::OK, move |conn, change| {
        lifecycle::apply(conn, change, action).map(|_| None)
    })
    .await
}

/// The operation behind a change whose body is one required text field.
type TextOperation = fn(&mut DbConnection, &Change, &str) -> Result<Option<Value>, ChangeError>;

/// The body of a text change: one free-text field, checked by [`text_change`].
#[derive(Debug, Deserialize)]
#[serde(transparent)]
struct TextChangeBody(serde_json::Map<String, Value>);

impl RequestBody for TextChangeBody {
    // Each route takes exactly one of these; any other key is refused by `text_change`.
    const FREE_TEXT: &'static [&'static str] = &["resolution_summary", "reason", "body", "note"];
}

/// Runs a change whose body is exactly `{"<field>": "<text>"}` (1–4000 characters).
#[allow(clippy::too_many_arguments)]
async fn text_change(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
    actor: Actor,
    role: Role,
    field: &'static str,
    status: StatusCode,
    operation: TextOperation,
) -> Result<HttpResponse, ApiError> {
    actor.require(role)?;
    let ticket = ticket_id(&state, &path).await?;
    let (TextChangeBody(body), fingerprint) =
        json_body::<TextChangeBody>(&req, payload, state.config.body_limit).await?;
    if let Some(other) = body.keys().find(|key| key.as_str() != field) {
        return Err(ApiError::field(other, format!("unknown field `{other}`, expected `{field}`")));
    }
    let text = match body.get(field) {
        Some(Value::String(text)) => hotline_domain::text::required_notes(field, text, 4000)?,
        Some(_) => return Err(ApiError::field(field, format!("{field} must be a string"))),
        None => return Err(ApiError::field(field, format!("{field} is required"))),
    };
    run_change(&req, &state, &actor, ticket, fingerprint, status, move |conn, change| {
        operation(conn, change, &text)
    })
    .await
}

/// `POST /v1/tickets/{id}/resolve` (operator, If-Match) with `resolution_summary`; refused while a
/// referral is open.
pub async fn resolve(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, ApiError> {
    text_change(
        req,
        path,
        payload,
        state,
        actor,
        Role::Operator,
        "resolution_summary",
        StatusCode::OK,
        |conn, change, text| lifecycle::resolve(conn, change, text).map(|_| None),
    )
    .await
}

/// `POST /v1/tickets/{id}/decline` (operator, If-Match) with `reason`.
pub async fn decline(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, ApiError> {
    text_change(
        req,
        path,
        payload,
        state,
        actor,
        Role::Operator,
        "reason",
        StatusCode::OK,
        |conn, change, text| lifecycle::decline(conn, change, text).map(|_| None),
    )
    .await
}

/// `POST /v1/tickets/{id}/reopen` (supervisor, If-Match) with `reason`; the state machine answers
/// 403 for lower roles.
pub async fn reopen(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, ApiError> {
    text_change(
        req,
        path,
        payload,
        state,
        actor,
        // Checked first, like every supervisor-only route: an operator learns nothing about the ticket.
        TicketAction::Reopen.required_role(),
        "reason",
        StatusCode::OK,
        |conn, change, text| lifecycle::reopen(conn, change, text).map(|_| None),
    )
    .await
}

/// `POST /v1/tickets/{id}/notes` (operator, If-Match) with `body`; notes are append-only.
pub async fn add_note(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, ApiError> {
    text_change(
        req,
        path,
        payload,
        state,
        actor,
        Role::Operator,
        "body",
        StatusCode::CREATED,
        |conn, change, text| {
            lifecycle::add_note(conn, change, text).map(|(_, note)| Some(json!({ "note_id": note.id })))
        },
    )
    .await
}

/// `POST /v1/tickets/{id}/confirm-caller` (supervisor, If-Match) with `note`: allows referrals on a
/// serious incident reported by an unverified caller.
pub async fn confirm_caller(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, ApiError> {
    text_change(
        req,
        path,
        payload,
        state,
        actor,
        Role::Supervisor,
        "note",
        StatusCode::OK,
        |conn, change, text| lifecycle::confirm_caller(conn, change, text).map(|_| None),
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignRequest {
    assignee: Option<Uuid>,
}

impl RequestBody for AssignRequest {
    const FREE_TEXT: &'static [&'static str] = &[];
}

/// `POST /v1/tickets/{id}/assign` (supervisor, If-Match) with `assignee` (a token id, or null).
pub async fn assign(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, ApiError> {
    actor.require(Role::Supervisor)?;
    let ticket = ticket_id(&state, &path).await?;
    let (body, fingerprint) = json_body::<AssignRequest>(&req, payload, state.config.body_limit).await?;
    run_change(&req, &state, &actor, ticket, fingerprint, StatusCode::OK, move |conn, change| {
        lifecycle::assign(conn, change, body.assignee).map(|_| None)
    })
    .await
}

/// `POST /v1/tickets/{id}/take` (operator, If-Match): take an unassigned ticket.
pub async fn take(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, ApiError> {
    actor.require(Role::Operator)?;
    let ticket = ticket_id(&state, &path).await?;
    let (_body, fingerprint) = optional_body::<EmptyRequest>(&req, payload, state.config.body_limit).await?;
    run_change(&req, &state, &actor, ticket, fingerprint, StatusCode::OK, move |conn, change| {
        lifecycle::take(conn, change).map(|_| None)
    })
    .await
}

/// `GET /v1/tickets/{id-or-reference}/events` (operator): the audit trail, oldest first.
pub async fn list_events(
    path: web::Path<String>,
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, ApiError> {
    actor.require(Role::Operator)?;
    let key = ticket_key(&path)?;
    let storage = state.storage.clone();
    let events = web::block(move || {
        storage.read(|conn| match tickets::find_header(conn, &key)? {
            Some(ticket) => tickets::list_events(conn, ticket.id).map(Some),
            None => Ok(None),
        })
    })
    .await??;
    let events = events.ok_or_else(|| ApiError::NotFound(format!("ticket {:?}", path.as_str())))?;
    let tz = state.time_zone();
    let events: Vec<_> = events
        .iter()
        .map(|event| {
            json!({
                "id": event.id,
                "occurred_at": display_time(event.occurred_at, tz),
                "actor": { "token_id": event.actor_token_id, "name": event.actor_name },
                "action": event.action,
                "changes": event.changes,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "events": events })))
}

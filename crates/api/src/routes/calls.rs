//! Logging hotline calls while the caller is on the line. A new call opens a ticket; a call with
//! `ticket_id` is a follow-up on that ticket. The service window is enforced on the call's start.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, FixedOffset, Utc};
use hotline_domain::call::{CallForm, NewCall};
use hotline_domain::privacy::AccessKind;
use hotline_domain::ticket::reference_year;
use hotline_domain::verification::{Verification, verify};
use hotline_storage::StorageError;
use hotline_storage::queries::calls::{self, LogCall, LogCallError, LoggedCall};
use hotline_storage::queries::registry;
use hotline_storage::queries::tickets::RelatedTicket;
use serde::{Deserialize, Deserializer};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access_log::read_by;
use crate::auth::Authorized;
use crate::change::parse_id;
use crate::extract::{Idempotency, Json, JsonRequest};
use crate::idempotency::{StoredResponse, write_once};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::views::{CallView, LoggedCallView};

/// A call as the operator records it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallRequest {
    /// When the call started; default: now. At most `api.max_clock_skew_seconds` ahead of the server.
    #[serde(default)]
    pub started_at: Option<DateTime<FixedOffset>>,
    /// Who is calling.
    pub caller_name: String,
    /// `member`, `doctor`, `staff`, `association_staff` or `care_facility_staff`.
    pub caller_role: String,
    /// Number to call back: 10 or 11 digits starting with 0, or +81.
    pub callback_phone: String,
    /// The A① member running the institution; required unless the caller is the member.
    #[serde(default)]
    pub member_name: Option<String>,
    /// The institution as the caller gives it.
    pub institution: InstitutionClaim,
    /// The registration number or member number the caller gives.
    pub identifier: IdentifierClaim,
    /// What happened, in the caller's words.
    pub summary: String,
    /// A follow-up on this ticket instead of a new one.
    #[serde(default)]
    pub ticket_id: Option<Uuid>,
}

impl JsonRequest for CallRequest {
    const FREE_TEXT: &'static [&'static str] = &["summary"];
}

/// The institution as the caller gives it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstitutionClaim {
    /// Name.
    pub name: String,
    /// Address.
    pub address: String,
    /// Prefecture code `01`–`47` (JIS X 0401), as text or number.
    #[serde(deserialize_with = "string_or_number")]
    #[schema(value_type = TextOrNumber)]
    pub prefecture: String,
}

/// The identifier the caller gives.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentifierClaim {
    /// `registration_number` (医籍登録番号, up to 6 digits) or `member_number` (会員番号, 10 digits).
    pub kind: String,
    /// The number, as text or number.
    #[serde(deserialize_with = "string_or_number")]
    #[schema(value_type = TextOrNumber)]
    pub value: String,
}

/// A code or number given as text (`"13"`) or as a number (`13`); both mean the same to an operator.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum TextOrNumber {
    /// As text.
    Text(String),
    /// As a non-negative integer.
    Number(u64),
}

fn string_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Number(u64),
    }
    match Raw::deserialize(deserializer) {
        Ok(Raw::Text(text)) => Ok(text),
        Ok(Raw::Number(number)) => Ok(number.to_string()),
        Err(_) => Err(serde::de::Error::custom("expected a string or a non-negative integer")),
    }
}

impl CallRequest {
    /// The call to log: parsed, and inside the service window.
    fn command(&self, state: &AppState, actor: Uuid, now: DateTime<Utc>) -> Result<LogCall, ApiError> {
        let tz = state.time_zone();
        let call = NewCall::parse(&self.form(), now, state.config.max_clock_skew)?;
        state
            .schedule
            .check(call.started_at)
            .map_err(|outside| ApiError::OutsideServiceWindow(Box::new(outside), tz))?;
        Ok(LogCall {
            call,
            call_id: Uuid::now_v7(),
            actor,
            now,
            reference_prefix: state.config.reference_prefix.clone(),
            reference_year: reference_year(now, tz),
            repeat_caller_days: state.config.repeat_caller_days,
        })
    }

    fn form(&self) -> CallForm<'_> {
        CallForm {
            started_at: self.started_at,
            caller_name: &self.caller_name,
            caller_role: &self.caller_role,
            callback_phone: &self.callback_phone,
            member_name: self.member_name.as_deref(),
            institution_name: &self.institution.name,
            institution_address: &self.institution.address,
            prefecture: &self.institution.prefecture,
            identifier_kind: &self.identifier.kind,
            identifier_value: &self.identifier.value,
            summary: &self.summary,
            ticket_id: self.ticket_id,
        }
    }
}

/// Log a call
///
/// Verifies the caller against the registry, checks the service window, and opens a ticket or, with
/// `ticket_id`, adds a follow-up call to it (no If-Match). 404: `ticket_id` names no ticket.
#[utoipa::path(
    tag = "calls",
    operation_id = "logCall",
    security(("bearer" = ["operator"])),
    request_body = CallRequest,
    responses((status = 201, description = "The call and its ticket.", body = LoggedCallView,
        headers(("Location" = String, description = "`/v1/calls/{id}` of the call.")))),
    extensions(("x-problems" = json!(["outside-service-window", "ticket-not-open", "not-found"]))),
)]
#[post("/calls")]
pub async fn log_call(
    auth: Authorized,
    Idempotency(key): Idempotency,
    body: Json<CallRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let command = body.value.command(&state, auth.actor.token_id, now)?;
    let view_state = state.clone();
    let role = auth.actor.role;
    // The registry and the caller's recent tickets are read before the write transaction, so no
    // other call waits on them (docs/benchmarks.md).
    let storage = state.storage.clone();
    let read_command = command.clone();
    let day = command.call.started_at.with_timezone(&state.time_zone()).date_naive();
    let (verification, repeats) =
        web::block(move || storage.read(|conn| look_up(conn, &read_command, day))).await??;
    write_once(
        &state,
        &auth.actor,
        key,
        body.fingerprint,
        move |conn| log(conn, &command, verification.clone(), repeats.clone()),
        move |logged| {
            let view = LoggedCallView::new(logged, &view_state.views(role, now));
            let location = Some(format!("/v1/calls/{}", logged.call.id));
            let response = StoredResponse::json(StatusCode::CREATED, &view, location)?;
            Ok((response.clone(), response))
        },
    )
    .await
}

/// Verifies the caller against the registry as it stood on the call's local `day` (the domain judges
/// the claim against what the identifier finds) and finds the caller's recent tickets.
fn look_up(
    conn: &mut hotline_storage::db::DbConnection,
    command: &LogCall,
    day: chrono::NaiveDate,
) -> Result<(Verification, Vec<RelatedTicket>), StorageError> {
    let claim = &command.call.claim;
    let candidate = registry::member_for_identifier(conn, &claim.identifier)?;
    let verification = verify(claim, candidate.as_ref(), day);
    let repeats = calls::recent_for_caller(conn, command, &verification)?;
    Ok((verification, repeats))
}

/// Logs the call, verified and with its repeats looked up, in the write transaction.
fn log(
    conn: &mut hotline_storage::db::DbConnection,
    command: &LogCall,
    verification: Verification,
    repeats: Vec<RelatedTicket>,
) -> Result<LoggedCall, ApiError> {
    calls::log_call(conn, command, verification, repeats).map_err(|error| match error {
        LogCallError::TicketNotFound(id) => ApiError::NotFound(format!("ticket {id}")),
        LogCallError::TicketNotOpen(status) => ApiError::TicketNotOpen(status),
        LogCallError::Storage(error) => error.into(),
    })
}

/// One call
#[utoipa::path(
    tag = "calls",
    operation_id = "getCall",
    security(("bearer" = ["operator"])),
    params(("id" = Uuid, Path, description = "The call's id.")),
    responses((status = 200, description = "The call.", body = CallView)),
)]
#[get("/calls/{id}")]
pub async fn get_call(
    auth: Authorized,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "call")?;
    let (storage, now) = (state.storage.clone(), state.clock.now());
    let call = web::block(move || storage.read(|conn| calls::get(conn, id))).await??;
    let call = call.ok_or_else(|| ApiError::NotFound(format!("call {id}")))?;
    let read = read_by(auth.actor.token_id, call.ticket_id, AccessKind::Call, now);
    crate::change::record_reads(&state, vec![read]).await?;
    Ok(HttpResponse::Ok().json(CallView::new(&call, &state.views(auth.actor.role, state.clock.now()))))
}

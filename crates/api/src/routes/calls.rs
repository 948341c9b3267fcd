//! Logging hotline calls while the caller is on the line. A new call opens a ticket; a call with
//! `ticket_id` is a follow-up on that ticket. The service window is enforced on the call's start.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use hotline_domain::call::{CallForm, NewCall};
use hotline_domain::role::Role;
use hotline_domain::ticket::reference_year;
use hotline_domain::verification::{ClaimField, VerificationOutcome};
use hotline_storage::queries::calls::{self, CallRecord, LogCall, LogCallError, LoggedCall};
use hotline_storage::queries::tickets::RelatedTicket;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::AppState;
use crate::auth::Actor;
use crate::extract::{IdempotencyKey, json_body};
use crate::idempotency::{StoredResponse, write_once};
use crate::problem::ApiError;
use crate::routes::parse_id;
use crate::time::display_time;

/// `POST /v1/calls` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CallRequest {
    #[serde(default)]
    started_at: Option<DateTime<FixedOffset>>,
    caller_name: String,
    caller_role: String,
    callback_phone: String,
    #[serde(default)]
    member_name: Option<String>,
    institution: InstitutionClaim,
    identifier: IdentifierClaim,
    summary: String,
    #[serde(default)]
    ticket_id: Option<Uuid>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InstitutionClaim {
    name: String,
    address: String,
    #[serde(deserialize_with = "string_or_number")]
    prefecture: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IdentifierClaim {
    kind: String,
    #[serde(deserialize_with = "string_or_number")]
    value: String,
}

/// Codes and numbers arrive as `"13"` or `13`; both mean the same to an operator.
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

/// A logged call as clients see it.
#[derive(Debug, Serialize)]
pub struct CallView {
    id: Uuid,
    ticket_id: Uuid,
    started_at: DateTime<FixedOffset>,
    caller_name: String,
    caller_role: &'static str,
    callback_phone: String,
    member_name: String,
    institution: serde_json::Value,
    identifier: serde_json::Value,
    summary: String,
    follow_up: bool,
    verification: VerificationView,
    created_at: DateTime<FixedOffset>,
    created_by: Uuid,
}

#[derive(Debug, Serialize)]
struct VerificationView {
    outcome: VerificationOutcome,
    mismatches: Vec<ClaimField>,
    member_id: Option<Uuid>,
    institution_id: Option<Uuid>,
}

impl CallView {
    /// Shapes a stored call for the wire.
    pub fn new(call: &CallRecord, tz: Tz) -> Self {
        Self {
            id: call.id,
            ticket_id: call.ticket_id,
            started_at: display_time(call.started_at, tz),
            caller_name: call.caller_name.clone(),
            caller_role: call.caller_role.as_str(),
            callback_phone: call.callback_phone.clone(),
            member_name: call.member_name.clone(),
            institution: json!({
                "name": call.institution_name,
                "address": call.institution_address,
                "prefecture": call.prefecture.code(),
                "prefecture_name": call.prefecture.name_ja(),
            }),
            identifier: json!({ "kind": call.identifier_kind.as_str(), "value": call.identifier_value }),
            summary: call.summary.clone(),
            follow_up: call.follow_up,
            verification: VerificationView {
                outcome: call.verification.outcome,
                mismatches: call.verification.mismatches.clone(),
                member_id: call.verification.member_id,
                institution_id: call.verification.institution_id,
            },
            created_at: display_time(call.created_at, tz),
            created_by: call.created_by,
        }
    }
}

/// An earlier ticket of the same caller, as shown on a new one.
pub fn related_json(related: &[RelatedTicket], tz: Tz) -> serde_json::Value {
    json!(
        related
            .iter()
            .map(|ticket| json!({
                "id": ticket.id,
                "reference": ticket.reference,
                "status": ticket.status.as_str(),
                "first_call_at": display_time(ticket.first_call_at, tz),
                "matched_on": ticket.matched_on,
            }))
            .collect::<Vec<_>>()
    )
}

fn logged_call_json(logged: &LoggedCall, tz: Tz) -> serde_json::Value {
    json!({
        "call": CallView::new(&logged.call, tz),
        "ticket": {
            "id": logged.ticket.id,
            "reference": logged.ticket.reference,
            "status": logged.ticket.status.as_str(),
            "version": logged.ticket.version,
            "possible_repeat_of": related_json(&logged.possible_repeat_of, tz),
        },
    })
}

/// `POST /v1/calls` (operator): logs a call, verifies the caller, opens or continues a ticket.
pub async fn log_call(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, ApiError> {
    actor.require(Role::Operator)?;
    let key = IdempotencyKey::from_request(&req)?;
    let (body, fingerprint) = json_body::<CallRequest>(&req, payload, state.config.body_limit).await?;
    let now = state.clock.now();
    let tz = state.time_zone();
    let call = NewCall::parse(&body.form(), now, state.config.max_clock_skew)?;
    state
        .schedule
        .check(call.started_at)
        .map_err(|outside| ApiError::OutsideServiceWindow(Box::new(outside), tz))?;
    let command = LogCall {
        call,
        call_id: Uuid::now_v7(),
        actor: actor.token_id,
        now,
        reference_prefix: state.config.reference_prefix.clone(),
        reference_year: reference_year(now, tz),
        repeat_caller_days: state.config.repeat_caller_days,
    };
    // Registry and repeat-caller reads first, outside the write transaction (see `CallerLookup`).
    let storage = state.storage.clone();
    let lookup_command = command.clone();
    let lookup =
        web::block(move || storage.read(|conn| calls::look_up_caller(conn, &lookup_command))).await??;
    write_once(
        &state,
        &actor,
        key,
        fingerprint,
        move |conn| {
            calls::log_looked_up_call(conn, &command, &lookup).map_err(|error| match error {
                LogCallError::TicketNotFound(id) => ApiError::NotFound(format!("ticket {id}")),
                LogCallError::TicketNotOpen(status) => ApiError::TicketNotOpen(status),
                LogCallError::Storage(error) => error.into(),
            })
        },
        move |logged| {
            let location = Some(format!("/v1/calls/{}", logged.call.id));
            let response =
                StoredResponse::json(StatusCode::CREATED, &logged_call_json(logged, tz), location)?;
            Ok((response.clone(), response))
        },
    )
    .await
}

/// `GET /v1/calls/{id}` (operator).
pub async fn get_call(
    path: web::Path<String>,
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, ApiError> {
    actor.require(Role::Operator)?;
    let id = parse_id(&path, "call")?;
    let storage = state.storage.clone();
    let call = web::block(move || storage.read(|conn| calls::get(conn, id))).await??;
    let call = call.ok_or_else(|| ApiError::NotFound(format!("call {id}")))?;
    Ok(HttpResponse::Ok().json(CallView::new(&call, state.time_zone())))
}

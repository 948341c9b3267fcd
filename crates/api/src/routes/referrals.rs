//! Referrals to forensic vendors, law firms and the prefectural police, each with the member's
//! consent. A police handoff goes to the desk of the institution's prefecture automatically and says
//! whether the desk is open now, when it opens next, and the urgent fallback.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, FixedOffset, Utc};
use hotline_domain::office_hours::OfficeHours;
use hotline_domain::referral::{Consent, ReferralAction, ReferralKind};
use hotline_domain::role::Role;
use hotline_domain::text::required_notes;
use hotline_domain::{FieldError, ValidationErrors};
use hotline_notify::AlertKind;
use hotline_storage::queries::lifecycle::{self, ReferralRequest, ReferralUpdate};
use hotline_storage::queries::partners::PartnerRecord;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::AppState;
use crate::auth::Actor;
use crate::extract::{RequestBody, json_body};
use crate::problem::ApiError;
use crate::routes::parse_id;
use crate::routes::tickets::{optional_body, referral_json, run_change, ticket_id};
use crate::time::display_time;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsentRequest {
    given_by: String,
    name: String,
    given_at: DateTime<FixedOffset>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateReferral {
    kind: String,
    #[serde(default)]
    partner_id: Option<Uuid>,
    #[serde(default)]
    consent: Option<ConsentRequest>,
    #[serde(default)]
    note: Option<String>,
}

impl RequestBody for CreateReferral {
    const FREE_TEXT: &'static [&'static str] = &["note"];
}

/// Office hours of a partner: its own, or the police defaults.
pub(crate) fn office_hours_of(partner: &PartnerRecord, defaults: &OfficeHours) -> OfficeHours {
    partner
        .office_hours
        .as_ref()
        .and_then(|value| crate::routes::partners::office_hours_from_json(value, defaults).ok())
        .unwrap_or_else(|| defaults.clone())
}

/// What the operator tells the caller about the desk right now.
fn desk_json(partner: &PartnerRecord, state: &AppState, now: DateTime<Utc>) -> Value {
    let hours = office_hours_of(partner, &state.config.police_hours);
    let tz = state.time_zone();
    let open_now = hours.is_open(now);
    let today = now.with_timezone(&hours.time_zone).date_naive();
    json!({
        "partner_id": partner.id,
        "name": partner.name,
        "phone": partner.phone,
        "open_now": open_now,
        "closed_reason": if open_now { None } else { hours.closed_reason(today).or_else(|| Some("outside office hours".to_owned())) },
        "next_open": hours.next_open_after(now).map(|at| display_time(at, tz)),
        "office_hours": crate::routes::partners::office_hours_json(&hours),
        "urgent_fallback": if open_now { None } else { Some(&state.config.police_fallback) },
        "context": "警察は、医療機関が緊急対応中であることに留意し、復旧への影響が最小限となるよう配慮した捜査を行います（日本医師会・警察庁サイバー警察局 覚書 2023）。 Under the 2023 memorandum the police investigate with minimal disruption to recovery and give technical advice.",
    })
}

/// `POST /v1/tickets/{id}/referrals` (operator, If-Match): request a referral with consent.
pub async fn request_referral(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, ApiError> {
    actor.require(Role::Operator)?;
    let ticket = ticket_id(&state, &path).await?;
    let (body, fingerprint) = json_body::<CreateReferral>(&req, payload, state.config.body_limit).await?;
    let now = state.clock.now();
    let mut errors = ValidationErrors::default();
    let kind = errors.check(ReferralKind::parse(&body.kind));
    let consent = match &body.consent {
        None => {
            errors.push(FieldError::new(
                "consent",
                "a referral needs the member's consent: who asked (member or delegate), their name and when",
            ));
            None
        }
        Some(consent) => {
            match Consent::parse(&consent.given_by, &consent.name, consent.given_at.with_timezone(&Utc), now)
            {
                Ok(consent) => Some(consent),
                Err(field_errors) => {
                    field_errors.into_iter().for_each(|e| errors.push(e));
                    None
                }
            }
        }
    };
    let note = body.note.as_deref().map(|n| required_notes("note", n, 2000)).transpose();
    let note = errors.check(note);
    let (Some(kind), Some(consent), Some(note)) = (kind, consent, note) else {
        return Err(errors.into());
    };
    errors.into_result()?;
    let request = ReferralRequest { kind, partner_id: body.partner_id, consent, note };
    let desk_state = state.clone();
    run_change(&req, &state, &actor, ticket, fingerprint, StatusCode::CREATED, move |conn, change| {
        let (ticket, referral, partner) = lifecycle::request_referral(conn, change, &request)?;
        let hours = (referral.kind == ReferralKind::Police)
            .then(|| office_hours_of(&partner, &desk_state.config.police_hours));
        let kind = if referral.kind == ReferralKind::Police {
            AlertKind::PoliceHandoff
        } else {
            AlertKind::ReferralRequested
        };
        enqueue_alerts(
            conn,
            &desk_state,
            kind,
            ticket.id,
            &referral,
            &partner,
            hours.as_ref(),
            None,
            change.now,
        )?;
        let mut extra =
            json!({ "referral": referral_json(&referral, ticket.priority, &desk_state, change.now) });
        if referral.kind == ReferralKind::Police {
            extra["police_desk"] = desk_json(&partner, &desk_state, change.now);
        }
        Ok(Some(extra))
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReferralActionRequest {
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    police_receipt_number: Option<String>,
    #[serde(default)]
    police_contact: Option<String>,
}

impl RequestBody for ReferralActionRequest {
    const FREE_TEXT: &'static [&'static str] = &["note"];
}

/// `POST /v1/referrals/{id}/{accept|complete|decline|cancel}` (operator, If-Match of the ticket).
/// A police acceptance records the receipt number (受理番号) and the contact.
pub async fn act(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, ApiError> {
    actor.require(Role::Operator)?;
    let (raw_id, raw_action) = path.into_inner();
    let referral_id = parse_id(&raw_id, "referral")?;
    let action = ReferralAction::parse(&raw_action)
        .map_err(|_| ApiError::NotFound(format!("referral action {raw_action:?}")))?;
    // Every member is optional, so is the body (e.g. a bare `complete`).
    let (body, fingerprint) =
        optional_body::<ReferralActionRequest>(&req, payload, state.config.body_limit).await?;
    let storage = state.storage.clone();
    let referral = web::block(move || storage.read(|conn| lifecycle::referral(conn, referral_id)))
        .await??
        .ok_or_else(|| ApiError::NotFound(format!("referral {referral_id}")))?;
    let mut errors = ValidationErrors::default();
    let text = |field: &str, value: &Option<String>, max: usize| {
        value.as_deref().map(|v| required_notes(field, v, max)).transpose()
    };
    let note = errors.check(text("note", &body.note, 2000)).flatten();
    let receipt = errors.check(text("police_receipt_number", &body.police_receipt_number, 100)).flatten();
    let contact = errors.check(text("police_contact", &body.police_contact, 200)).flatten();
    errors.check(hotline_domain::referral::check_receipt(referral.kind, action, receipt.as_deref()));
    errors.into_result()?;
    let update = ReferralUpdate { note, police_receipt_number: receipt, police_contact: contact };
    let view_state = state.clone();
    run_change(&req, &state, &actor, referral.ticket_id, fingerprint, StatusCode::OK, move |conn, change| {
        let (ticket, referral) = lifecycle::act_on_referral(conn, change, referral_id, action, &update)?;
        if action == ReferralAction::Cancel {
            let partner = hotline_storage::queries::partners::get(conn, referral.partner_id)?
                .ok_or(lifecycle::ChangeError::ReferralNotFound)?;
            enqueue_alerts(
                conn,
                &view_state,
                AlertKind::ReferralCancelled,
                ticket.id,
                &referral,
                &partner,
                None,
                update.note.as_deref(),
                change.now,
            )?;
        }
        Ok(Some(json!({ "referral": referral_json(&referral, ticket.priority, &view_state, change.now) })))
    })
    .await
}

/// Writes the alerts of a referral change to the outbox, inside the change's transaction. A failure
/// here rolls the change back: a referral is never recorded without its alerts.
#[allow(clippy::too_many_arguments)]
fn enqueue_alerts(
    conn: &mut hotline_storage::db::DbConnection,
    state: &AppState,
    kind: AlertKind,
    ticket_id: Uuid,
    referral: &hotline_storage::queries::lifecycle::ReferralRecord,
    partner: &PartnerRecord,
    hours: Option<&OfficeHours>,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), lifecycle::ChangeError> {
    let full = lifecycle::full_ticket(conn, &hotline_storage::queries::tickets::TicketKey::Id(ticket_id))?
        .ok_or(lifecycle::ChangeError::NotFound)?;
    let subject = crate::alerts::AlertSubject { ticket: &full, referral, partner, hours };
    crate::alerts::enqueue(conn, &state.alerts, kind, &subject, note, state.time_zone(), now)
        .map(|_| ())
        .map_err(|error| {
            lifecycle::ChangeError::Storage(hotline_storage::StorageError::Other(error.to_string()))
        })
}

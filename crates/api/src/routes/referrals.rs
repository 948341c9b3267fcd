//! Referrals to forensic vendors, law firms and the prefectural police, each with the member's
//! consent. A police handoff goes to the desk of the institution's prefecture automatically and says
//! whether the desk is open now, when it opens next, and the urgent fallback. The partner's alerts are
//! written in the change's own transaction.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, post, web};
use chrono::{DateTime, FixedOffset, Utc};
use hotline_domain::office_hours::OfficeHours;
use hotline_domain::referral::{Consent, ReferralAction, ReferralKind};
use hotline_domain::text::required_notes;
use hotline_domain::{FieldError, ValidationErrors};
use hotline_notify::AlertKind;
use hotline_storage::db::DbConnection;
use hotline_storage::queries::change::{Change, ChangeError};
use hotline_storage::queries::partners::{self, PartnerRecord};
use hotline_storage::queries::records::ReferralRecord;
use hotline_storage::queries::referrals::{self, ReferralRequest, ReferralUpdate};
use hotline_storage::queries::ticket_view;
use hotline_storage::queries::tickets::TicketKey;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::change::{ReferralChange, TicketChange};
use crate::extract::JsonRequest;
use crate::precondition::{IfMatch, TicketPath};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::views::{PoliceDeskView, ReferralView, WithReferral, office_hours_of};

/// The member's consent to a referral.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    /// `member` or `delegate`.
    given_by: String,
    /// The person's name.
    name: String,
    /// When consent was given (not in the future).
    given_at: DateTime<FixedOffset>,
}

/// A referral request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReferral {
    /// `forensic`, `legal` or `police`.
    kind: String,
    /// The partner (forensic and legal); a police handoff goes to the prefecture's desk.
    #[serde(default)]
    partner_id: Option<Uuid>,
    /// The member's consent (required).
    #[serde(default)]
    consent: Option<ConsentRequest>,
    /// Note to the partner, 1–2000 characters.
    #[serde(default)]
    note: Option<String>,
}

impl JsonRequest for CreateReferral {
    const FREE_TEXT: &'static [&'static str] = &["note"];
}

impl CreateReferral {
    fn parse(&self, now: DateTime<Utc>) -> Result<ReferralRequest, ApiError> {
        let mut errors = ValidationErrors::default();
        let kind = errors.check(ReferralKind::parse(&self.kind));
        let consent = match &self.consent {
            None => {
                errors.push(FieldError::new(
                    "consent",
                    "a referral needs the member's consent: who asked (member or delegate), their name and when",
                ));
                None
            }
            Some(consent) => {
                match Consent::parse(
                    &consent.given_by,
                    &consent.name,
                    consent.given_at.with_timezone(&Utc),
                    now,
                ) {
                    Ok(consent) => Some(consent),
                    Err(field_errors) => {
                        field_errors.into_iter().for_each(|e| errors.push(e));
                        None
                    }
                }
            }
        };
        let note = errors.check(self.note.as_deref().map(|n| required_notes("note", n, 2000)).transpose());
        match (kind, consent, note) {
            (Some(kind), Some(consent), Some(note)) if errors.is_empty() => {
                Ok(ReferralRequest { kind, partner_id: self.partner_id, consent, note })
            }
            _ => Err(errors.into()),
        }
    }
}

/// Request a referral
///
/// With the member's consent. The first referral escalates the ticket. Alerts to the partner are
/// written in the same transaction. A police handoff adds `police_desk`: whether the desk is open now,
/// when it opens next, and the urgent fallback.
#[utoipa::path(
    tag = "referrals",
    operation_id = "requestReferral",
    security(("bearer" = ["operator"])),
    params(TicketPath, IfMatch),
    request_body = CreateReferral,
    responses((status = 201, description = "The ticket and the referral.", body = WithReferral,
        headers(("ETag" = String, description = "The new version.")))),
    extensions(("x-problems" = json!(["referral-not-allowed", "partner-unavailable", "duplicate-referral", "invalid-transition"]))),
)]
#[post("/tickets/{id}/referrals")]
pub async fn request_referral(
    change: TicketChange<CreateReferral>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let request = change.body.parse(state.clock.now())?;
    let alert_state = state.clone();
    change
        .run(
            &state,
            StatusCode::CREATED,
            move |conn, change, ctx| {
                let (ticket, referral, partner) = referrals::request_referral(conn, change, &request)?;
                let police = referral.kind == ReferralKind::Police;
                let hours = police.then(|| office_hours_of(&partner, ctx.police_hours));
                let kind = if police { AlertKind::PoliceHandoff } else { AlertKind::ReferralRequested };
                enqueue_alerts(
                    conn,
                    &alert_state,
                    kind,
                    ticket.id,
                    &referral,
                    &partner,
                    hours.as_ref(),
                    None,
                    change.now,
                )?;
                Ok((referral, ticket.priority, police.then_some(partner)))
            },
            |ticket, (referral, priority, desk), ctx| WithReferral {
                ticket,
                referral: ReferralView::new(referral, *priority, ctx),
                police_desk: desk.as_ref().map(|desk| PoliceDeskView::new(desk, ctx)),
            },
        )
        .await
}

/// A partner's answer, or the hotline withdrawing a referral.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralActionRequest {
    /// Note with the change, 1–2000 characters.
    #[serde(default)]
    note: Option<String>,
    /// 受理番号: required when a police desk accepts.
    #[serde(default)]
    police_receipt_number: Option<String>,
    /// The police contact person.
    #[serde(default)]
    police_contact: Option<String>,
}

impl JsonRequest for ReferralActionRequest {
    const FREE_TEXT: &'static [&'static str] = &["note"];

    fn when_empty() -> Option<Self> {
        Some(Self::default())
    }
}

/// The referral and action in the path.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct ReferralActionPath {
    /// The referral's id.
    id: Uuid,
    /// What happens to it.
    action: ReferralAction,
}

/// Record a partner's answer or withdraw a referral
///
/// With If-Match of the ticket. `requested` → `accepted`, `declined` or `cancelled`; `accepted` →
/// `completed` or `cancelled`; otherwise 409 `invalid-referral-transition`, listing what is possible.
/// Accepting a police referral needs `police_receipt_number`. Cancelling alerts the partner. The body
/// is optional.
#[utoipa::path(
    tag = "referrals",
    operation_id = "actOnReferral",
    security(("bearer" = ["operator"])),
    params(ReferralActionPath, IfMatch),
    request_body(content = Option<ReferralActionRequest>, description = "Optional."),
    responses((status = 200, description = "The ticket and the referral.", body = WithReferral,
        headers(("ETag" = String, description = "The new version.")))),
    extensions(("x-problems" = json!(["invalid-referral-transition"]))),
)]
#[post("/referrals/{id}/{action}")]
pub async fn act(
    change: ReferralChange<ReferralActionRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (referral_id, action) = (change.referral, change.action);
    let storage = state.storage.clone();
    let referral = web::block(move || storage.read(|conn| referrals::referral(conn, referral_id)))
        .await??
        .ok_or_else(|| ApiError::NotFound(format!("referral {referral_id}")))?;
    let (change, body) = change.on_ticket(referral.ticket_id);
    let update = body.parse(&referral, action)?;
    let alert_state = state.clone();
    change
        .run(
            &state,
            StatusCode::OK,
            move |conn, change, _| act_and_alert(conn, change, &alert_state, referral_id, action, &update),
            |ticket, (referral, priority), ctx| WithReferral {
                ticket,
                referral: ReferralView::new(referral, *priority, ctx),
                police_desk: None,
            },
        )
        .await
}

impl ReferralActionRequest {
    fn parse(&self, referral: &ReferralRecord, action: ReferralAction) -> Result<ReferralUpdate, ApiError> {
        let mut errors = ValidationErrors::default();
        let text = |field: &str, value: &Option<String>, max: usize| {
            value.as_deref().map(|v| required_notes(field, v, max)).transpose()
        };
        let note = errors.check(text("note", &self.note, 2000)).flatten();
        let receipt = errors.check(text("police_receipt_number", &self.police_receipt_number, 100)).flatten();
        let contact = errors.check(text("police_contact", &self.police_contact, 200)).flatten();
        errors.check(hotline_domain::referral::check_receipt(referral.kind, action, receipt.as_deref()));
        errors.into_result()?;
        Ok(ReferralUpdate { note, police_receipt_number: receipt, police_contact: contact })
    }
}

/// Moves the referral on; a cancellation also alerts the partner, in the same transaction.
fn act_and_alert(
    conn: &mut DbConnection,
    change: &Change,
    state: &AppState,
    referral_id: Uuid,
    action: ReferralAction,
    update: &ReferralUpdate,
) -> Result<(ReferralRecord, Option<hotline_domain::triage::Priority>), ChangeError> {
    let (ticket, referral) = referrals::act_on_referral(conn, change, referral_id, action, update)?;
    if action == ReferralAction::Cancel {
        let partner = partners::get(conn, referral.partner_id)?.ok_or(ChangeError::ReferralNotFound)?;
        let kind = AlertKind::ReferralCancelled;
        enqueue_alerts(
            conn,
            state,
            kind,
            ticket.id,
            &referral,
            &partner,
            None,
            update.note.as_deref(),
            change.now,
        )?;
    }
    Ok((referral, ticket.priority))
}

/// Writes the alerts of a referral change to the outbox, inside the change's transaction. A failure
/// here rolls the change back: a referral is never recorded without its alerts.
#[allow(clippy::too_many_arguments)]
fn enqueue_alerts(
    conn: &mut DbConnection,
    state: &AppState,
    kind: AlertKind,
    ticket_id: Uuid,
    referral: &ReferralRecord,
    partner: &PartnerRecord,
    hours: Option<&OfficeHours>,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), ChangeError> {
    let full = ticket_view::full_ticket(conn, &TicketKey::Id(ticket_id))?.ok_or(ChangeError::NotFound)?;
    let subject = crate::alerts::AlertSubject { ticket: &full, referral, partner, hours };
    crate::alerts::enqueue(conn, &state.alerts, kind, &subject, note, state.time_zone(), now)
        .map(|_| ())
        .map_err(|error| match error {
            crate::alerts::AlertError::Storage(error) => ChangeError::Storage(error),
            render => ChangeError::Storage(hotline_storage::StorageError::Other(render.to_string())),
        })
}

//! Support payments (一時支援金): a ticket's assessment, the claim steps supervisors take
//! (claim → paid | rejected, one claim per incident, each a ticket change with `If-Match`, audited as
//! `support_payment.*`), and the supervisors' list across tickets. The rules are the domain's
//! (`hotline_domain::support_payment`); the rule sets in force come from the configuration.

use std::sync::Arc;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, get, post, web};
use hotline_domain::support_payment::claim::rejection_reason;
use hotline_domain::support_payment::{ClaimStatus, PaymentKind};
use hotline_storage::queries::support_payments::{self, PaymentFilter};
use hotline_storage::queries::tickets;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Authorized, Supervisor};
use crate::change::{TicketChange, ticket_key};
use crate::extract::{Empty, JsonRequest};
use crate::precondition::{IfMatch, TicketPath, etag};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::views::{SupportPaymentList, SupportPaymentView, TicketView};

/// A ticket's support payment
///
/// The assessment from the ticket's current facts and the rule set in force on the incident date: which
/// payment applies, the amount, each requirement met or missing and each exclusion, every item with a
/// stable code and a reason in Japanese and English; the claim once made; and the claim steps the token
/// may take. The `ETag` is the ticket's version, for the claim steps' `If-Match`.
#[utoipa::path(
    tag = "support payments",
    operation_id = "getSupportPayment",
    security(("bearer" = ["operator"])),
    params(TicketPath),
    responses((status = 200, description = "The support payment.", body = SupportPaymentView,
        headers(("ETag" = String, description = "The ticket's version, quoted: send it back in `If-Match`.")))),
)]
#[get("/tickets/{id}/support-payment")]
pub async fn get_support_payment(
    auth: Authorized,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let key = ticket_key(&path)?;
    let now = state.clock.now();
    let (storage, rules) = (state.storage.clone(), Arc::clone(&state.support_rules));
    let found = web::block(move || {
        storage.read(|conn| {
            let Some(ticket) = tickets::find_header(conn, &key)? else { return Ok(None) };
            support_payments::view(conn, &ticket, &rules, now).map(|view| Some((ticket.version, view)))
        })
    })
    .await??;
    let (version, view) = found.ok_or_else(|| ApiError::NotFound(format!("ticket {:?}", path.as_str())))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(version)))
        .json(SupportPaymentView::new(&view, &state.views(auth.actor.role, now))))
}

/// A claim of the support payment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimRequest {
    /// The payment claimed: the one the assessment names (`cyber_attack` or `personal_data_leak`).
    payment: PaymentKind,
}

impl JsonRequest for ClaimRequest {
    const FREE_TEXT: &'static [&'static str] = &[];
}

/// Claim the support payment
///
/// `ready_to_claim` → `claimed`, recording the amount and the rule set of this moment. One claim per
/// incident: a second claim, for either payment, is 409 `claim-exists`; a payment the facts do not
/// point to, or an assessment that is not `ready_to_claim`, is 409 `payment-not-claimable` naming what
/// is missing or excluded.
#[utoipa::path(
    tag = "support payments",
    operation_id = "claimSupportPayment",
    security(("bearer" = ["supervisor"])),
    params(TicketPath, IfMatch),
    request_body = ClaimRequest,
    responses((status = 200, description = "The ticket after the change; `support_payment.claim` is the claim.", body = TicketView,
        headers(("ETag" = String, description = "The new version.")))),
    extensions(("x-problems" = json!(["claim-exists", "payment-not-claimable"]))),
)]
#[post("/tickets/{id}/support-payment/claim")]
pub async fn claim(
    change: TicketChange<ClaimRequest, Supervisor>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let payment = change.body.payment;
    change
        .run_case(
            &state,
            StatusCode::OK,
            move |conn, change, ctx| support_payments::claim(conn, change, payment, ctx.support_rules),
            |ticket, _, _| ticket,
        )
        .await
}

/// Record the payment
///
/// `claimed` → `paid`: the association paid. No body, or `{}`.
#[utoipa::path(
    tag = "support payments",
    operation_id = "markSupportPaymentPaid",
    security(("bearer" = ["supervisor"])),
    params(TicketPath, IfMatch),
    request_body(content = Option<Empty>, description = "Nothing, or `{}`."),
    responses((status = 200, description = "The ticket after the change.", body = TicketView,
        headers(("ETag" = String, description = "The new version.")))),
    extensions(("x-problems" = json!(["invalid-claim-transition"]))),
)]
#[post("/tickets/{id}/support-payment/pay")]
pub async fn pay(
    change: TicketChange<Empty, Supervisor>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    change
        .run_case(
            &state,
            StatusCode::OK,
            |conn, change, ctx| support_payments::mark_paid(conn, change, ctx.support_rules),
            |ticket, _, _| ticket,
        )
        .await
}

/// The association's refusal of a claim.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    /// Why the association refused, 1–1000 characters, as it gave the reason.
    reason: String,
}

impl JsonRequest for RejectRequest {
    const FREE_TEXT: &'static [&'static str] = &["reason"];
}

/// Record a rejection
///
/// `claimed` → `rejected`, with the association's reason. A rejection is final in hotline: the incident
/// cannot be claimed again.
#[utoipa::path(
    tag = "support payments",
    operation_id = "rejectSupportPayment",
    security(("bearer" = ["supervisor"])),
    params(TicketPath, IfMatch),
    request_body = RejectRequest,
    responses((status = 200, description = "The ticket after the change.", body = TicketView,
        headers(("ETag" = String, description = "The new version.")))),
    extensions(("x-problems" = json!(["invalid-claim-transition"]))),
)]
#[post("/tickets/{id}/support-payment/reject")]
pub async fn reject(
    change: TicketChange<RejectRequest, Supervisor>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let reason = rejection_reason(&change.body.reason)?;
    change
        .run_case(
            &state,
            StatusCode::OK,
            move |conn, change, ctx| support_payments::reject(conn, change, &reason, ctx.support_rules),
            |ticket, _, _| ticket,
        )
        .await
}

/// Query of the support-payment list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PaymentListQuery {
    /// Only this status: a recorded one (`claimed`, `paid`, `rejected`) or a derived one
    /// (`not_applicable`, `pending_requirements`, `ready_to_claim`).
    #[serde(default)]
    #[param(value_type = Option<ClaimStatus>)]
    status: Option<String>,
    /// At most this many (default 50, at most `api.max_page_size`).
    #[serde(default)]
    limit: Option<i64>,
}

/// Support payments across tickets
///
/// Recorded claims, and the tickets with recorded facts but no claim, assessed now; oldest incident
/// first. A ticket without recorded facts is not listed.
#[utoipa::path(
    tag = "support payments",
    operation_id = "listSupportPayments",
    security(("bearer" = ["supervisor"])),
    params(PaymentListQuery),
    responses((status = 200, description = "The support payments.", body = SupportPaymentList)),
)]
#[get("/support-payments")]
pub async fn list(
    auth: Authorized<Supervisor>,
    query: web::Query<PaymentListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let filter = PaymentFilter { status: query.status.as_deref().map(ClaimStatus::parse).transpose()? };
    let limit = crate::extract::page_limit(query.limit, 50, state.config.max_page_size)?;
    let now = state.clock.now();
    let (storage, rules) = (state.storage.clone(), Arc::clone(&state.support_rules));
    let rows =
        web::block(move || storage.read(|conn| support_payments::list(conn, &filter, &rules, now, limit)))
            .await??;
    let ctx = state.views(auth.actor.role, now);
    Ok(HttpResponse::Ok().json(SupportPaymentList {
        support_payments: rows.iter().map(|row| SupportPaymentView::new(row, &ctx)).collect(),
    }))
}

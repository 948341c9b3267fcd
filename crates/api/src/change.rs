//! Changes to a ticket, the one pattern every change route follows: the role (403), the path (404),
//! the body (415, 413, 400, 422), then `If-Match` (428), and in one write transaction the ticket (404),
//! its version (412), the domain's rules (409, 422), the write, its audit event and, with an
//! `Idempotency-Key`, the stored response. [`TicketChange`] and [`ReferralChange`] extract everything
//! but the body's meaning, so a handler is: parse the body, run the change, show the result.

use std::marker::PhantomData;

use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, dev, web};
use chrono::{DateTime, Utc};
use futures_util::future::LocalBoxFuture;
use hotline_domain::privacy::AccessKind;
use hotline_domain::referral::{ReferralAction, ReferralRefusal, referral_next};
use hotline_domain::role::Role;
use hotline_domain::support_payment::ClaimRefusal;
use hotline_domain::support_payment::claim::{allowed_claim_actions, next_claim_status};
use hotline_domain::ticket::TicketReference;
use hotline_domain::workflow::TransitionError;
use hotline_storage::StorageError;
use hotline_storage::db::DbConnection;
use hotline_storage::queries::change::{Change, ChangeError};
use hotline_storage::queries::incident_facts::CaseError;
use hotline_storage::queries::privacy;
use hotline_storage::queries::support_payments::CaseRecord;
use hotline_storage::queries::ticket_view::{self, FullTicket};
use hotline_storage::queries::tickets::{self, TicketKey};
use serde::Serialize;
use uuid::Uuid;

use crate::auth::{Actor, Authorized, Operator, RequiredRole};
use crate::extract::{IdempotencyKey, JsonRequest, RequestFingerprint, body_limit, read_json};
use crate::idempotency::{StoredResponse, write_once};
use crate::precondition::{etag, required_version};
use crate::problem::{ApiError, ReferralRefusalView};
use crate::state::AppState;
use crate::views::{OpenReferralView, TicketView, ViewContext};

/// A path segment naming a ticket: its UUID or its reference (`HL-2026-000123`); anything else names
/// no ticket (404).
pub fn ticket_key(raw: &str) -> Result<TicketKey, ApiError> {
    if let Ok(id) = Uuid::parse_str(raw) {
        return Ok(TicketKey::Id(id));
    }
    raw.parse::<TicketReference>()
        .map(|reference| TicketKey::Reference(reference.to_string()))
        .map_err(|_| ApiError::NotFound(format!("ticket {raw:?}")))
}

/// Parses a UUID path segment, answering 404 (not 400) for anything else: no such resource exists.
pub fn parse_id(raw: &str, what: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound(format!("{what} {raw:?}")))
}

/// What every change request carries besides its target.
#[derive(Debug)]
struct Envelope<B> {
    actor: Actor,
    body: B,
    fingerprint: RequestFingerprint,
    key: Result<Option<IdempotencyKey>, ApiError>,
    version: Result<i64, ApiError>,
}

impl<B: JsonRequest> Envelope<B> {
    async fn read<R: RequiredRole>(
        req: &HttpRequest,
        payload: dev::Payload,
        check_target: impl FnOnce() -> Result<(), ApiError>,
    ) -> Result<Self, ApiError> {
        let actor = Authorized::<R>::check(req)?.actor;
        check_target()?;
        let (body, fingerprint) = read_json::<B, _>(req, payload, body_limit(req)).await?;
        Ok(Self {
            actor,
            body,
            fingerprint,
            key: IdempotencyKey::from_request(req),
            version: required_version(req),
        })
    }
}

/// A change to the ticket named by the path's `{id}`, by a token of at least role `R`, with a body of
/// type `B`.
#[derive(Debug)]
pub struct TicketChange<B, R: RequiredRole = Operator> {
    /// The ticket.
    pub ticket: TicketKey,
    /// Who changes it.
    pub actor: Actor,
    /// The body.
    pub body: B,
    fingerprint: RequestFingerprint,
    key: Result<Option<IdempotencyKey>, ApiError>,
    version: Result<i64, ApiError>,
    role: PhantomData<R>,
}

impl<B: JsonRequest, R: RequiredRole> FromRequest for TicketChange<B, R> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut dev::Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            let raw = req.match_info().get("id").unwrap_or_default().to_owned();
            let mut ticket = None;
            let envelope = Envelope::<B>::read::<R>(&req, payload, || {
                ticket = Some(ticket_key(&raw)?);
                Ok(())
            })
            .await?;
            let ticket = ticket.ok_or_else(|| ApiError::NotFound(format!("ticket {raw:?}")))?;
            Ok(TicketChange {
                ticket,
                actor: envelope.actor,
                body: envelope.body,
                fingerprint: envelope.fingerprint,
                key: envelope.key,
                version: envelope.version,
                role: PhantomData,
            })
        })
    }
}

/// An action on the referral named by the path's `{id}` and `{action}` (accept, complete, decline,
/// cancel), which changes the referral's ticket.
#[derive(Debug)]
pub struct ReferralChange<B, R: RequiredRole = Operator> {
    /// The referral.
    pub referral: Uuid,
    /// The action.
    pub action: ReferralAction,
    /// Who acts.
    pub actor: Actor,
    /// The body.
    pub body: B,
    fingerprint: RequestFingerprint,
    key: Result<Option<IdempotencyKey>, ApiError>,
    version: Result<i64, ApiError>,
    role: PhantomData<R>,
}

impl<B: JsonRequest, R: RequiredRole> FromRequest for ReferralChange<B, R> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut dev::Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            let raw_id = req.match_info().get("id").unwrap_or_default().to_owned();
            let raw_action = req.match_info().get("action").unwrap_or_default().to_owned();
            let mut target = None;
            let envelope = Envelope::<B>::read::<R>(&req, payload, || {
                let referral = parse_id(&raw_id, "referral")?;
                let action = ReferralAction::parse(&raw_action)
                    .map_err(|_| ApiError::NotFound(format!("referral action {raw_action:?}")))?;
                target = Some((referral, action));
                Ok(())
            })
            .await?;
            let (referral, action) =
                target.ok_or_else(|| ApiError::NotFound(format!("referral {raw_id:?}")))?;
            Ok(ReferralChange {
                referral,
                action,
                actor: envelope.actor,
                body: envelope.body,
                fingerprint: envelope.fingerprint,
                key: envelope.key,
                version: envelope.version,
                role: PhantomData,
            })
        })
    }
}

impl<B, R: RequiredRole> ReferralChange<B, R> {
    /// The same change, aimed at the referral's ticket (looked up by the caller).
    pub fn on_ticket(self, ticket: Uuid) -> (TicketChange<(), R>, B) {
        (
            TicketChange {
                ticket: TicketKey::Id(ticket),
                actor: self.actor,
                body: (),
                fingerprint: self.fingerprint,
                key: self.key,
                version: self.version,
                role: PhantomData,
            },
            self.body,
        )
    }
}

impl<B, R: RequiredRole> TicketChange<B, R> {
    /// Splits the body off, for handlers that turn it into the change's input first.
    pub fn split(self) -> (TicketChange<(), R>, B) {
        (
            TicketChange {
                ticket: self.ticket,
                actor: self.actor,
                body: (),
                fingerprint: self.fingerprint,
                key: self.key,
                version: self.version,
                role: PhantomData,
            },
            self.body,
        )
    }

    /// Runs `change` in one write transaction at the `If-Match` version and answers `status` with
    /// `show(ticket after the change, what the change returned)` and the new `ETag`; replayable by
    /// `Idempotency-Key`.
    pub async fn run<T, V, C, S>(
        self,
        state: &web::Data<AppState>,
        status: StatusCode,
        change: C,
        show: S,
    ) -> Result<HttpResponse, ApiError>
    where
        T: 'static,
        V: Serialize,
        C: Fn(&mut DbConnection, &Change, &ViewContext<'_>) -> Result<T, ChangeError>
            + Send
            + Clone
            + 'static,
        S: Fn(TicketView, &T, &ViewContext<'_>) -> V + Send + Clone + 'static,
    {
        self.run_refusable(state, status, change, show).await
    }

    /// [`TicketChange::run`] for the changes of the case: incident facts and support-payment claims,
    /// whose storage refuses with a [`CaseError`].
    pub async fn run_case<T, V, C, S>(
        self,
        state: &web::Data<AppState>,
        status: StatusCode,
        change: C,
        show: S,
    ) -> Result<HttpResponse, ApiError>
    where
        T: 'static,
        V: Serialize,
        C: Fn(&mut DbConnection, &Change, &ViewContext<'_>) -> Result<T, CaseError> + Send + Clone + 'static,
        S: Fn(TicketView, &T, &ViewContext<'_>) -> V + Send + Clone + 'static,
    {
        self.run_refusable(state, status, change, show).await
    }

    async fn run_refusable<T, E, V, C, S>(
        self,
        state: &web::Data<AppState>,
        status: StatusCode,
        change: C,
        show: S,
    ) -> Result<HttpResponse, ApiError>
    where
        T: 'static,
        E: Refusal,
        V: Serialize,
        C: Fn(&mut DbConnection, &Change, &ViewContext<'_>) -> Result<T, E> + Send + Clone + 'static,
        S: Fn(TicketView, &T, &ViewContext<'_>) -> V + Send + Clone + 'static,
    {
        let key = self.key?;
        let expected_version = self.version?;
        let now = state.clock.now();
        let actor = self.actor.clone();
        let role = actor.role;
        let ticket = self.ticket;
        let view_state = state.clone();
        let show_state = state.clone();
        write_once(
            state,
            &actor,
            key,
            self.fingerprint,
            move |conn| {
                let ctx = view_state.views(role, now);
                let ticket_id = match &ticket {
                    TicketKey::Id(id) => *id,
                    key => tickets::find_header(conn, key)?
                        .map(|header| header.id)
                        .ok_or_else(|| ApiError::NotFound(format!("ticket {:?}", key_text(key))))?,
                };
                let change_data = Change { ticket_id, expected_version, actor: actor.token_id, role, now };
                let outcome = change(conn, &change_data, &ctx).map_err(|error| error.into_api(role))?;
                let (full, case) = read_ticket_recorded(
                    conn,
                    &TicketKey::Id(ticket_id),
                    actor.token_id,
                    AccessKind::Change,
                    now,
                )?
                .ok_or_else(|| ApiError::NotFound("the ticket".into()))?;
                Ok((TicketView::new(&full, &case, &ctx), outcome))
            },
            move |(view, outcome)| {
                let ctx = show_state.views(role, now);
                let version = view.version;
                let body = show(view.clone(), outcome, &ctx);
                let response = StoredResponse::json(status, &body, None)?.with_etag(etag(version));
                Ok((response.clone(), response))
            },
        )
        .await
    }
}

/// Everything the ticket view shows: the ticket with what hangs on it, and beside it its recorded
/// incident facts and support-payment claim.
pub fn read_ticket(
    conn: &mut DbConnection,
    key: &TicketKey,
) -> Result<Option<(FullTicket, CaseRecord)>, StorageError> {
    ticket_view::full_ticket_and_case(conn, key)
}

/// [`read_ticket`] recorded in the access log as read by `token` (the view shows personal data), in the
/// calling write transaction: a change's response, whose transaction writes anyway. Plain reads queue
/// their record instead ([`crate::access_log`]).
pub fn read_ticket_recorded(
    conn: &mut DbConnection,
    key: &TicketKey,
    token: Uuid,
    what: AccessKind,
    now: DateTime<Utc>,
) -> Result<Option<(FullTicket, CaseRecord)>, StorageError> {
    let found = read_ticket(conn, key)?;
    if let Some((full, _)) = &found {
        privacy::record_access(conn, token, full.detail.header.id, what, now)?;
    }
    Ok(found)
}

/// A storage refusal of a ticket change, as the client hears it (the reader's role decides what the
/// problem offers instead).
pub trait Refusal {
    /// The problem to answer.
    fn into_api(self, actual: Role) -> ApiError;
}

impl Refusal for ChangeError {
    fn into_api(self, actual: Role) -> ApiError {
        change_error(self, actual)
    }
}

impl Refusal for CaseError {
    fn into_api(self, actual: Role) -> ApiError {
        case_error(self, actual)
    }
}

/// Maps every refusal of a facts update or a claim step to its problem type, with what the client can
/// do next.
pub fn case_error(error: CaseError, actual: Role) -> ApiError {
    match error {
        CaseError::NotFound => ApiError::NotFound("the ticket".to_owned()),
        CaseError::VersionMismatch { current } => ApiError::PreconditionFailed { current },
        CaseError::Invalid(errors) => ApiError::Validation(errors),
        CaseError::Refused(refusal) => claim_refusal(refusal, actual),
        CaseError::Storage(error) => error.into(),
    }
}

fn claim_refusal(refusal: ClaimRefusal, actual: Role) -> ApiError {
    let detail = refusal.to_string();
    let steps = |from| {
        allowed_claim_actions(from, actual)
            .into_iter()
            .filter_map(|action| next_claim_status(from, action).map(|to| (action.as_str().to_owned(), to)))
            .collect()
    };
    match refusal {
        ClaimRefusal::Forbidden { required, .. } => ApiError::Forbidden { required, actual },
        ClaimRefusal::AlreadyClaimed { payment, status } => ApiError::ClaimExists {
            reason: "same-payment",
            claimed: payment,
            status,
            allowed: steps(status),
            detail,
        },
        ClaimRefusal::OtherPaymentClaimed { claimed, status, .. } => {
            ApiError::ClaimExists { reason: "other-payment", claimed, status, allowed: steps(status), detail }
        }
        ClaimRefusal::WrongPayment { applicable, .. } => ApiError::PaymentNotClaimable {
            reason: "wrong-payment",
            status: None,
            applicable,
            missing: Vec::new(),
            exclusions: Vec::new(),
            detail,
        },
        ClaimRefusal::NotReady { status, missing, exclusions } => ApiError::PaymentNotClaimable {
            reason: "not-ready",
            status: Some(status),
            applicable: None,
            missing: missing.into_iter().map(str::to_owned).collect(),
            exclusions: exclusions.into_iter().map(str::to_owned).collect(),
            detail,
        },
        ClaimRefusal::Invalid { from, action, .. } => ApiError::InvalidClaimTransition {
            from,
            action: action.as_str().to_owned(),
            allowed: steps(from),
        },
    }
}

fn key_text(key: &TicketKey) -> String {
    match key {
        TicketKey::Id(id) => id.to_string(),
        TicketKey::Reference(reference) => reference.clone(),
    }
}

/// Maps every refusal of a ticket change to its problem type, with what the client can do next.
pub fn change_error(error: ChangeError, actual: Role) -> ApiError {
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
        ChangeError::OpenReferrals(open) => {
            ApiError::OpenReferrals(open.iter().map(OpenReferralView::new).collect())
        }
        ChangeError::TicketNotOpen(status) => ApiError::TicketNotOpen(status),
        ChangeError::AlreadyAssigned(id) => ApiError::AlreadyAssigned(id),
        ChangeError::UnknownAssignee(id) => ApiError::field("assignee", format!("no active token {id}")),
        ChangeError::Referral(refusal) => ApiError::ReferralNotAllowed(referral_refusal(&refusal)),
        ChangeError::Partner(problem) => {
            use hotline_domain::referral::PartnerProblem as P;
            let reason = match &problem {
                P::Missing => "partner-missing",
                P::Unknown(_) => "partner-unknown",
                P::WrongKind { .. } => "partner-wrong-kind",
                P::Inactive(_) => "partner-inactive",
                P::NotCovering { .. } => "partner-not-covering",
                P::NoEmail { .. } => "partner-without-email",
                P::NoPoliceDesk(_) => "no-police-desk",
            };
            ApiError::PartnerUnavailable { reason, detail: problem.to_string() }
        }
        ChangeError::ReferralNotFound => ApiError::NotFound("the referral".to_owned()),
        ChangeError::ReferralTransition { from, action, allowed } => ApiError::InvalidReferralTransition {
            from,
            action: action.as_str().to_owned(),
            allowed: allowed
                .iter()
                .filter_map(|a| referral_next(from, *a).map(|to| (a.as_str().to_owned(), to)))
                .collect(),
        },
        ChangeError::DuplicateOpenReferral(open) => {
            ApiError::DuplicateReferral(open.iter().map(OpenReferralView::new).collect())
        }
        ChangeError::Storage(error) => error.into(),
    }
}

/// A referral refusal as a stable code and a sentence that says what would make it possible.
fn referral_refusal(refusal: &ReferralRefusal) -> ReferralRefusalView {
    let (reason, ticket_status, verification) = match refusal {
        ReferralRefusal::TicketStatus(status) => ("ticket-status", Some(*status), None),
        ReferralRefusal::PoliceNeedsSeriousIncident(_) => ("police-needs-serious-incident", None, None),
        ReferralRefusal::NotAnIncident { .. } => ("not-an-incident", None, None),
        ReferralRefusal::CallerUnconfirmed(outcome) => ("caller-unconfirmed", None, *outcome),
    };
    ReferralRefusalView {
        reason,
        detail: refusal.to_string(),
        ticket_status,
        remedies: refusal.remedies(),
        verification,
    }
}

/// Records that the request's token read `reads` (after the read answered): queued without waiting;
/// when the queue is full, written now in a write transaction of its own (an error when that fails:
/// a read is never left unrecorded).
pub async fn record_reads(state: &AppState, reads: Vec<privacy::NewAccess>) -> Result<(), ApiError> {
    if reads.is_empty() {
        return Ok(());
    }
    let Err(reads) = state.access_log.push(reads) else { return Ok(()) };
    tracing::warn!(
        pending = state.access_log.pending(),
        "the access log's queue is full: the read is recorded in a write of its own"
    );
    let storage = state.storage.clone();
    web::block(move || storage.write(|conn| privacy::record_accesses(conn, &reads))).await??;
    Ok(())
}

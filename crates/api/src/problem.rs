//! RFC 9457 problem details. Every problem type is declared once, in [`problem_types!`]'s table: its
//! stable slug (the last part of its `type` URI), its status and its title. docs/errors.md documents each
//! one (a test checks the catalogue against the table), the OpenAPI document lists per operation which
//! types it may answer, and every error the API returns is an [`ApiError`] that names one of them.
//! Internal causes — database messages included — are logged, never serialised.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use hotline_domain::outbox::OutboxStatus;
use hotline_domain::referral::{ReferralStatus, Remedy};
use hotline_domain::registry::RowError;
use hotline_domain::role::Role;
use hotline_domain::schedule::OutsideWindow;
use hotline_domain::support_payment::{ClaimStatus, PaymentKind};
use hotline_domain::ticket::TicketStatus;
use hotline_domain::verification::VerificationOutcome;
use hotline_domain::{FieldError, ValidationErrors};
use hotline_storage::StorageError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::time::{WindowView, display_time};
use crate::views::OpenReferralView;

/// Media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Declares the problem types: variant, slug, status and title, each written exactly once.
macro_rules! problem_types {
    ($($(#[doc = $doc:literal])* $variant:ident => ($slug:literal, $status:literal, $title:literal);)+) => {
        /// Every kind of problem the API answers with; the table in `problem.rs` is its only definition.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ProblemType {
            $($(#[doc = $doc])* $variant,)+
        }

        impl ProblemType {
            /// Every problem type, in catalogue order.
            pub const ALL: &'static [ProblemType] = &[$(ProblemType::$variant,)+];

            /// Stable slug: the last part of the `type` URI, never reused for another meaning.
            pub const fn slug(self) -> &'static str {
                match self { $(Self::$variant => $slug,)+ }
            }

            /// The HTTP status every occurrence of the type has.
            pub const fn status_code(self) -> u16 {
                match self { $(Self::$variant => $status,)+ }
            }

            /// Short English summary, the same for every occurrence.
            pub const fn title(self) -> &'static str {
                match self { $(Self::$variant => $title,)+ }
            }
        }
    };
}

problem_types! {
    /// Well-formed JSON whose values break the rules, or a bad query parameter.
    ValidationError => ("validation-error", 422, "Some fields are invalid");
    /// The body is not UTF-8, not JSON, or not a JSON object.
    MalformedBody => ("malformed-body", 400, "The request body cannot be read");
    /// The body's media type or encoding is not the one the route takes.
    UnsupportedMediaType => ("unsupported-media-type", 415, "Unsupported media type");
    /// The body is larger than the configured limit.
    PayloadTooLarge => ("payload-too-large", 413, "Request body too large");
    /// No usable bearer token.
    Unauthorized => ("unauthorized", 401, "Authentication required");
    /// The token's role is below what the route needs.
    Forbidden => ("forbidden", 403, "Not allowed for this role");
    /// No such resource or route.
    NotFound => ("not-found", 404, "Not found");
    /// The path exists, not with this method.
    MethodNotAllowed => ("method-not-allowed", 405, "Method not allowed");
    /// A request the HTTP layer could not read.
    BadRequest => ("bad-request", 400, "Bad request");
    /// The request target is longer than the service reads.
    UriTooLong => ("uri-too-long", 414, "Request target too long");
    /// The request head is larger than the HTTP layer reads.
    HeadersTooLarge => ("headers-too-large", 431, "Request header fields too large");
    /// The request head did not arrive in time.
    RequestTimeout => ("request-timeout", 408, "Request timeout");
    /// A call outside the service window.
    OutsideServiceWindow => ("outside-service-window", 422, "The hotline is closed at that time");
    /// A follow-up to a ticket that takes no more calls.
    TicketNotOpen => ("ticket-not-open", 409, "The ticket takes no more calls");
    /// A malformed `Idempotency-Key` header.
    InvalidIdempotencyKey => ("invalid-idempotency-key", 400, "Invalid Idempotency-Key");
    /// The same `Idempotency-Key` with another request.
    IdempotencyKeyReused => ("idempotency-key-reused", 422, "Idempotency-Key already used for another request");
    /// A registry file with errors; nothing was imported.
    RegistryImportRejected => ("registry-import-rejected", 422, "The registry file has errors; nothing was imported");
    /// A full-snapshot import that would end more than the allowed share of the roster, unforced.
    SnapshotEndsTooMany => ("snapshot-ends-too-many", 422, "The snapshot would end too many memberships; nothing was imported");
    /// A change without `If-Match`.
    PreconditionRequired => ("precondition-required", 428, "If-Match required");
    /// A change at a version that is no longer current.
    PreconditionFailed => ("precondition-failed", 412, "The ticket changed meanwhile");
    /// The ticket state machine refused the action.
    InvalidTransition => ("invalid-transition", 409, "Not possible in the ticket's status");
    /// Resolution while referrals are open.
    OpenReferrals => ("open-referrals", 409, "Referrals are still open");
    /// Someone else works the ticket.
    AlreadyAssigned => ("already-assigned", 409, "The ticket is already assigned");
    /// The referral rules refused.
    ReferralNotAllowed => ("referral-not-allowed", 422, "Referral not allowed");
    /// The chosen partner cannot take the referral.
    PartnerUnavailable => ("partner-unavailable", 422, "The partner cannot take this referral");
    /// The partner already has an open referral on the ticket.
    DuplicateReferral => ("duplicate-referral", 409, "The partner already has an open referral on this ticket");
    /// The referral's own lifecycle refused the action.
    InvalidReferralTransition => ("invalid-referral-transition", 409, "Not possible in the referral's status");
    /// The last active admin token cannot be revoked.
    LastAdminToken => ("last-admin-token", 409, "The last admin token cannot be revoked");
    /// A partner that must stay in the directory.
    PartnerInUse => ("partner-in-use", 409, "The partner cannot be deleted");
    /// A retry of an alert that has not failed.
    AlertNotFailed => ("alert-not-failed", 409, "Only failed alerts can be retried");
    /// A second support-payment claim for an incident (either payment).
    ClaimExists => ("claim-exists", 409, "The incident already has a support-payment claim");
    /// A claim for a payment the facts do not point to, or one that is not ready to claim.
    PaymentNotClaimable => ("payment-not-claimable", 409, "The support payment cannot be claimed now");
    /// The support-payment claim's status does not allow the step.
    InvalidClaimTransition => ("invalid-claim-transition", 409, "Not possible in the claim's status");
    /// A write lost against a concurrent one or broke a uniqueness rule.
    Conflict => ("conflict", 409, "Conflict");
    /// The database cannot be reached right now.
    ServiceUnavailable => ("service-unavailable", 503, "Service temporarily unavailable");
    /// Too many failed authentications from one address.
    TooManyRequests => ("too-many-requests", 429, "Too many failed authentications");
    /// A bug or an unexpected failure.
    InternalError => ("internal-error", 500, "Internal error");
}

impl ProblemType {
    /// The `type` member: a URI reference relative to the API's base URL.
    pub fn uri(self) -> String {
        format!("/problems/{}", self.slug())
    }

    /// The status as actix's type.
    pub fn status(self) -> StatusCode {
        StatusCode::from_u16(self.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The type of a slug, if it is one.
    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|kind| kind.slug() == slug)
    }

    /// The type the safety net uses for an error response of the HTTP layer with this status.
    pub fn for_status(status: StatusCode) -> Self {
        match status.as_u16() {
            404 => Self::NotFound,
            405 => Self::MethodNotAllowed,
            408 => Self::RequestTimeout,
            413 => Self::PayloadTooLarge,
            414 => Self::UriTooLong,
            415 => Self::UnsupportedMediaType,
            431 => Self::HeadersTooLarge,
            400..=499 => Self::BadRequest,
            _ => Self::InternalError,
        }
    }
}

/// One rejected value: a body field or query parameter, or a line and column of a registry file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldProblem {
    /// Dotted path of the body field (`institution.prefecture`, `emails.0`), the query parameter, or
    /// the registry column; empty for a whole row or file.
    pub field: String,
    /// What a valid value looks like.
    pub detail: String,
    /// Registry imports only: the 1-based line of the file (0 for the file as a whole).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

/// An action the client may take instead, and the status it leads to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AllowedAction {
    /// The action (its path segment or route).
    pub action: String,
    /// The status it leads to.
    pub to: String,
}

/// A problem details object (RFC 9457) with the extension members some types add; each member says
/// which types carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// `/problems/<slug>`; branch on this, never on `title` or `detail`.
    #[serde(rename = "type")]
    #[schema(examples("/problems/validation-error"))]
    pub problem_type: String,
    /// Short summary of the type.
    pub title: String,
    /// The HTTP status, repeated.
    pub status: u16,
    /// What happened this time and what to do next, in English.
    pub detail: String,
    /// validation-error, registry-import-rejected: every rejected value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldProblem>>,
    /// outside-service-window: the window that refused the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<WindowView>,
    /// outside-service-window: when the hotline opens next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_open: Option<DateTime<FixedOffset>>,
    /// outside-service-window: the instant judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<FixedOffset>>,
    /// ticket-not-open, invalid-transition, referral-not-allowed: the ticket's status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_status: Option<TicketStatus>,
    /// invalid-referral-transition: the referral's status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral_status: Option<ReferralStatus>,
    /// precondition-failed: the ticket's current version (also in `ETag`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i64>,
    /// invalid-transition, invalid-referral-transition, claim-exists, invalid-claim-transition: what the
    /// token may do now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<AllowedAction>>,
    /// open-referrals, duplicate-referral: the open referrals in the way, with the actions that close them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_referrals: Option<Vec<OpenReferralView>>,
    /// already-assigned: the token working the ticket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<Uuid>,
    /// referral-not-allowed, partner-in-use, partner-unavailable, claim-exists, payment-not-claimable: a
    /// stable reason code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// partner-in-use: how many referrals point at the partner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral_count: Option<i64>,
    /// alert-not-failed: the alert's status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_status: Option<OutboxStatus>,
    /// too-many-requests: seconds until the address may try again (also in `Retry-After`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
    /// claim-exists, invalid-claim-transition, payment-not-claimable (`not-ready`): the support payment's
    /// status (the claim's once one is recorded, the assessment's before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_status: Option<ClaimStatus>,
    /// claim-exists: the payment claimed; payment-not-claimable (`wrong-payment`): the payment the facts
    /// point to (absent while they point to none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<PaymentKind>,
    /// payment-not-claimable (`not-ready`): codes of the requirements still missing (record them with
    /// `POST /v1/tickets/{id}/facts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_requirements: Option<Vec<String>>,
    /// payment-not-claimable (`not-ready`): codes of the exclusions that apply (nothing can be claimed
    /// then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applying_exclusions: Option<Vec<String>>,
    /// referral-not-allowed (`caller-unconfirmed`): what would make the ticket eligible, e.g.
    /// `supervisor_confirmation` (`POST /v1/tickets/{id}/confirm-caller` with the reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedies: Option<Vec<Remedy>>,
    /// referral-not-allowed (`caller-unconfirmed`): the verification outcome of the ticket's first call
    /// (absent when the ticket has no call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<VerificationOutcome>,
    /// snapshot-ends-too-many: the memberships the snapshot would end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ending: Option<usize>,
    /// snapshot-ends-too-many: the memberships active before the import.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<usize>,
    /// snapshot-ends-too-many: the largest share an unforced snapshot may end (`registry.max_end_share`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_end_share: Option<f64>,
}

impl Problem {
    /// A problem of `kind` with its status and title, and no extension members.
    pub fn new(kind: ProblemType, detail: impl Into<String>) -> Self {
        Self {
            problem_type: kind.uri(),
            title: kind.title().to_owned(),
            status: kind.status_code(),
            detail: detail.into(),
            errors: None,
            window: None,
            next_open: None,
            started_at: None,
            ticket_status: None,
            referral_status: None,
            current_version: None,
            allowed: None,
            open_referrals: None,
            assignee: None,
            reason: None,
            referral_count: None,
            alert_status: None,
            retry_after_seconds: None,
            claim_status: None,
            payment: None,
            missing_requirements: None,
            applying_exclusions: None,
            remedies: None,
            verification: None,
            ending: None,
            active: None,
            max_end_share: None,
        }
    }

    /// The slug of `type`, if it names one of ours.
    pub fn kind(&self) -> Option<ProblemType> {
        self.problem_type.strip_prefix("/problems/").and_then(ProblemType::from_slug)
    }

    /// The body as JSON text (serialising plain data cannot fail; an empty object is the fall-back).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }
}

/// Why a referral is refused, as a stable code and a sentence saying what would allow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralRefusalView {
    /// Stable code.
    pub reason: &'static str,
    /// What is wrong and what to do.
    pub detail: String,
    /// The ticket's status, when that is what refused.
    pub ticket_status: Option<TicketStatus>,
    /// What would make the ticket eligible (empty unless the caller refused it).
    pub remedies: Vec<Remedy>,
    /// The first call's verification outcome, when the caller refused it.
    pub verification: Option<VerificationOutcome>,
}

/// Everything that can go wrong in a request, as the client should hear it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Well-formed JSON whose values break the rules; lists every field.
    #[error("validation failed: {0}")]
    Validation(ValidationErrors),
    /// The body is not JSON, not UTF-8, or not the JSON shape expected.
    #[error("malformed request body: {0}")]
    MalformedBody(String),
    /// The body's media type is not the one this route takes.
    #[error("unsupported media type; expected {expected}")]
    UnsupportedMediaType {
        /// What the route accepts.
        expected: &'static str,
    },
    /// The body is larger than the configured limit.
    #[error("request body larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// No valid bearer token.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// The token's role is too low.
    #[error("forbidden: needs {required}, token has {actual}")]
    Forbidden {
        /// Role the route needs.
        required: Role,
        /// Role of the token.
        actual: Role,
    },
    /// No such resource.
    #[error("not found: {0}")]
    NotFound(String),
    /// No route matches the path.
    #[error("no route")]
    NoRoute,
    /// The path exists, not with this method.
    #[error("method {0} not allowed")]
    MethodNotAllowed(String),
    /// The request target (path and query) is longer than the service reads.
    #[error("request target longer than {limit} bytes")]
    UriTooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// The request head (request line and header fields) is larger than the HTTP layer reads.
    #[error("request head too large")]
    HeadersTooLarge {
        /// The largest head read, in bytes.
        max_bytes: usize,
        /// The most header fields read.
        max_fields: usize,
    },
    /// The bytes received are not an HTTP/1.1 request (refused by the HTTP layer before routing).
    #[error("malformed request: {0}")]
    MalformedRequest(String),
    /// The request head did not arrive in time.
    #[error("request head not received in time")]
    RequestTimeout {
        /// How long the head may take.
        seconds: u64,
    },
    /// A call outside the service window.
    #[error("call outside the service window")]
    OutsideServiceWindow(Box<OutsideWindow>, Tz),
    /// A follow-up call or callback to a ticket that no longer takes them.
    #[error("ticket is {0:?} and takes no follow-up calls")]
    TicketNotOpen(TicketStatus),
    /// The Idempotency-Key header is malformed.
    #[error("invalid Idempotency-Key: {0}")]
    InvalidIdempotencyKey(&'static str),
    /// The same Idempotency-Key was used with a different request.
    #[error("Idempotency-Key reused with a different request")]
    IdempotencyKeyReused,
    /// A registry file with errors; nothing was imported.
    #[error("registry import rejected with {} error(s)", .0.len())]
    RegistryImportRejected(Vec<RowError>),
    /// A full snapshot that would end more than `registry.max_end_share` of the active roster.
    #[error("snapshot would end {ending} of {active} memberships")]
    SnapshotEndsTooMany {
        /// Memberships it would end.
        ending: usize,
        /// Active memberships before the import.
        active: usize,
        /// The configured largest share.
        max_share: f64,
    },
    /// A change to a ticket without `If-Match`.
    #[error("If-Match required")]
    PreconditionRequired,
    /// A change to a ticket at a version that is no longer current.
    #[error("ticket changed meanwhile")]
    PreconditionFailed {
        /// Current version.
        current: i64,
    },
    /// The ticket state machine refused the action.
    #[error("invalid transition")]
    InvalidTransition {
        /// Current status.
        from: TicketStatus,
        /// Refused action.
        action: String,
        /// What the caller's role could do instead.
        allowed: Vec<(String, TicketStatus)>,
    },
    /// Resolution while referrals are open.
    #[error("{} referral(s) still open", .0.len())]
    OpenReferrals(Vec<OpenReferralView>),
    /// Someone else works the ticket.
    #[error("ticket already assigned")]
    AlreadyAssigned(Uuid),
    /// The referral rules refused (police only for serious incidents, unconfirmed caller…).
    #[error("referral not allowed: {}", .0.detail)]
    ReferralNotAllowed(ReferralRefusalView),
    /// The chosen partner cannot take the referral (inactive, no email, not covering…).
    #[error("partner unavailable: {detail}")]
    PartnerUnavailable {
        /// Stable reason code.
        reason: &'static str,
        /// What is wrong and what to do.
        detail: String,
    },
    /// The partner already has an open referral on this ticket.
    #[error("duplicate open referral")]
    DuplicateReferral(Vec<OpenReferralView>),
    /// The referral's own lifecycle refused the action.
    #[error("invalid referral transition")]
    InvalidReferralTransition {
        /// Current status.
        from: ReferralStatus,
        /// Refused action.
        action: String,
        /// Possible actions and where they lead.
        allowed: Vec<(String, ReferralStatus)>,
    },
    /// Revoking the last active admin token.
    #[error("last active admin token")]
    LastAdminToken,
    /// Deleting a partner that must stay (a police desk, or one with referrals).
    #[error("partner in use: {reason}")]
    PartnerInUse {
        /// `police-desk` or `has-referrals`.
        reason: &'static str,
        /// Referrals pointing at it (not counted for a police desk).
        referrals: Option<i64>,
    },
    /// Retrying an alert that has not failed.
    #[error("alert is {0:?}, not failed")]
    AlertNotFailed(OutboxStatus),
    /// A second support-payment claim for an incident: one claim per incident, for either payment.
    #[error("the incident already has a claim")]
    ClaimExists {
        /// `same-payment` or `other-payment`.
        reason: &'static str,
        /// The payment claimed before.
        claimed: PaymentKind,
        /// Its claim's status.
        status: ClaimStatus,
        /// What the token may do with the existing claim, and where it leads.
        allowed: Vec<(String, ClaimStatus)>,
        /// The domain's sentence.
        detail: String,
    },
    /// The payment cannot be claimed: the facts point to another payment (or none yet), or the
    /// assessment is not `ready_to_claim`.
    #[error("payment not claimable: {detail}")]
    PaymentNotClaimable {
        /// `wrong-payment` or `not-ready`.
        reason: &'static str,
        /// The assessment's status (`not-ready` only).
        status: Option<ClaimStatus>,
        /// The payment the facts point to.
        applicable: Option<PaymentKind>,
        /// Requirements still missing.
        missing: Vec<String>,
        /// Exclusions that apply.
        exclusions: Vec<String>,
        /// The domain's sentence.
        detail: String,
    },
    /// The claim's status does not allow the step.
    #[error("invalid claim transition")]
    InvalidClaimTransition {
        /// The support payment's status.
        from: ClaimStatus,
        /// The refused step.
        action: String,
        /// What the token may do instead, and where it leads.
        allowed: Vec<(String, ClaimStatus)>,
    },
    /// Failed authentications from one address beyond its allowance.
    #[error("too many failed authentications")]
    TooManyFailedAuthentications {
        /// The allowance per minute.
        per_minute: u32,
        /// Seconds until the next attempt is allowed.
        retry_after: u64,
    },
    /// A write that lost against a concurrent one or breaks a uniqueness rule; the cause is logged.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database cannot be reached right now; retrying later may work.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// No answer within the request's deadline (the database is slow or unreachable).
    #[error("request deadline of {budget_ms} ms passed")]
    DeadlinePassed {
        /// The budget in milliseconds.
        budget_ms: u128,
    },
    /// A bug or an unexpected failure; details are in the log under the request id.
    #[error("internal error: {0}")]
    Internal(String),
}

fn allowed_list(allowed: &[(String, String)]) -> String {
    if allowed.is_empty() {
        "nothing".to_owned()
    } else {
        allowed.iter().map(|(action, to)| format!("{action} → {to}")).collect::<Vec<_>>().join(", ")
    }
}

fn claim_steps(allowed: &[(String, ClaimStatus)]) -> Vec<(String, String)> {
    allowed.iter().map(|(action, to)| (action.clone(), to.as_str().to_owned())).collect()
}

fn allowed_actions(allowed: &[(String, String)]) -> Vec<AllowedAction> {
    allowed.iter().map(|(action, to)| AllowedAction { action: action.clone(), to: to.clone() }).collect()
}

fn describe_open(open: &[OpenReferralView]) -> String {
    open.iter()
        .map(|referral| {
            let actions: Vec<&str> = referral.allowed_actions.iter().map(|a| a.as_str()).collect();
            format!(
                "{} referral to {} ({}: {})",
                referral.kind.as_str(),
                referral.partner.name,
                referral.status.as_str(),
                actions.join(" or ")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

impl ApiError {
    /// The problem type this error is answered with.
    pub fn kind(&self) -> ProblemType {
        match self {
            Self::Validation(_) => ProblemType::ValidationError,
            Self::MalformedBody(_) => ProblemType::MalformedBody,
            Self::UnsupportedMediaType { .. } => ProblemType::UnsupportedMediaType,
            Self::PayloadTooLarge { .. } => ProblemType::PayloadTooLarge,
            Self::Unauthorized(_) => ProblemType::Unauthorized,
            Self::Forbidden { .. } => ProblemType::Forbidden,
            Self::NotFound(_) | Self::NoRoute => ProblemType::NotFound,
            Self::MethodNotAllowed(_) => ProblemType::MethodNotAllowed,
            Self::UriTooLong { .. } => ProblemType::UriTooLong,
            Self::HeadersTooLarge { .. } => ProblemType::HeadersTooLarge,
            Self::MalformedRequest(_) => ProblemType::BadRequest,
            Self::RequestTimeout { .. } => ProblemType::RequestTimeout,
            Self::OutsideServiceWindow(..) => ProblemType::OutsideServiceWindow,
            Self::TicketNotOpen(_) => ProblemType::TicketNotOpen,
            Self::InvalidIdempotencyKey(_) => ProblemType::InvalidIdempotencyKey,
            Self::IdempotencyKeyReused => ProblemType::IdempotencyKeyReused,
            Self::RegistryImportRejected(_) => ProblemType::RegistryImportRejected,
            Self::SnapshotEndsTooMany { .. } => ProblemType::SnapshotEndsTooMany,
            Self::PreconditionRequired => ProblemType::PreconditionRequired,
            Self::PreconditionFailed { .. } => ProblemType::PreconditionFailed,
            Self::InvalidTransition { .. } => ProblemType::InvalidTransition,
            Self::OpenReferrals(_) => ProblemType::OpenReferrals,
            Self::AlreadyAssigned(_) => ProblemType::AlreadyAssigned,
            Self::ReferralNotAllowed(_) => ProblemType::ReferralNotAllowed,
            Self::PartnerUnavailable { .. } => ProblemType::PartnerUnavailable,
            Self::DuplicateReferral(_) => ProblemType::DuplicateReferral,
            Self::InvalidReferralTransition { .. } => ProblemType::InvalidReferralTransition,
            Self::LastAdminToken => ProblemType::LastAdminToken,
            Self::PartnerInUse { .. } => ProblemType::PartnerInUse,
            Self::AlertNotFailed(_) => ProblemType::AlertNotFailed,
            Self::ClaimExists { .. } => ProblemType::ClaimExists,
            Self::PaymentNotClaimable { .. } => ProblemType::PaymentNotClaimable,
            Self::InvalidClaimTransition { .. } => ProblemType::InvalidClaimTransition,
            Self::TooManyFailedAuthentications { .. } => ProblemType::TooManyRequests,
            Self::Conflict(_) => ProblemType::Conflict,
            Self::Unavailable(_) | Self::DeadlinePassed { .. } => ProblemType::ServiceUnavailable,
            Self::Internal(_) => ProblemType::InternalError,
        }
    }

    /// One field error as a validation problem, for parsers that fail on a single value.
    pub fn field(field: &str, detail: impl Into<String>) -> Self {
        Self::Validation(FieldError::new(field, detail).into())
    }

    /// The body the client receives.
    pub fn problem(&self) -> Problem {
        let kind = self.kind();
        let mut problem = Problem::new(kind, String::new());
        problem.detail = match self {
            Self::Validation(errors) => {
                problem.errors = Some(
                    errors
                        .0
                        .iter()
                        .map(|e| FieldProblem { field: e.field.clone(), detail: e.detail.clone(), line: None })
                        .collect(),
                );
                errors.0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
            }
            Self::MalformedBody(reason) => reason.clone(),
            Self::UnsupportedMediaType { expected } => format!("send the body as {expected}"),
            Self::PayloadTooLarge { limit } => format!("the request body must be at most {limit} bytes"),
            Self::Unauthorized(reason) => (*reason).to_owned(),
            Self::Forbidden { required, actual } => {
                format!("this action needs the {required} role; the token has the {actual} role")
            }
            Self::NotFound(what) => format!("{what} does not exist"),
            Self::NoRoute => "no route matches this path".to_owned(),
            Self::MethodNotAllowed(method) => {
                format!("this path does not take {method}; the Allow header lists the methods it takes")
            }
            Self::UriTooLong { limit } => {
                format!("the request target (path and query) must be at most {limit} bytes")
            }
            Self::HeadersTooLarge { max_bytes, max_fields } => format!(
                "the request line and header fields must be less than {max_bytes} bytes in all, in at most {max_fields} fields"
            ),
            Self::MalformedRequest(reason) => reason.clone(),
            Self::RequestTimeout { seconds } => {
                format!("the request head must arrive within {seconds} seconds of connecting")
            }
            Self::OutsideServiceWindow(outside, tz) => {
                problem.window = Some(WindowView::new(&outside.window, *tz));
                problem.next_open = Some(display_time(outside.next_open, *tz));
                problem.started_at = Some(display_time(outside.at, *tz));
                format!(
                    "the hotline answers {}–{} ({}); it opens next at {}",
                    outside.window.open.format("%H:%M"),
                    outside.window.close.format("%H:%M"),
                    tz.name(),
                    display_time(outside.next_open, *tz).to_rfc3339()
                )
            }
            Self::TicketNotOpen(status) => {
                problem.ticket_status = Some(*status);
                match status {
                    TicketStatus::Declined => "the ticket was declined; log the call as a new ticket".to_owned(),
                    other => format!(
                        "the ticket is {}; a supervisor may reopen it, or log the call as a new ticket",
                        other.as_str()
                    ),
                }
            }
            Self::InvalidIdempotencyKey(reason) => (*reason).to_owned(),
            Self::IdempotencyKeyReused => {
                "this Idempotency-Key was used for a request with another body or path; use a new key"
                    .to_owned()
            }
            Self::RegistryImportRejected(rows) => {
                problem.errors = Some(
                    rows.iter()
                        .map(|row| FieldProblem {
                            field: row.field.clone(),
                            detail: row.detail.clone(),
                            line: Some(row.line),
                        })
                        .collect(),
                );
                format!("{} problem(s) found; fix the file and import it again", rows.len())
            }
            Self::SnapshotEndsTooMany { ending, active, max_share } => {
                problem.ending = Some(*ending);
                problem.active = Some(*active);
                problem.max_end_share = Some(*max_share);
                format!(
                    "the snapshot would end {ending} of {active} active memberships, more than the allowed share of {max_share} (registry.max_end_share); check that the file is the whole roster (try dry_run=true), or import it again with force=true"
                )
            }
            Self::PreconditionRequired => {
                "send If-Match with the ticket's ETag (its version) to change it".to_owned()
            }
            Self::PreconditionFailed { current } => {
                problem.current_version = Some(*current);
                format!(
                    "the ticket is now at version {current}; reload it, check the change still applies, and retry"
                )
            }
            Self::InvalidTransition { from, action, allowed } => {
                let allowed: Vec<(String, String)> =
                    allowed.iter().map(|(a, to)| (a.clone(), to.as_str().to_owned())).collect();
                problem.ticket_status = Some(*from);
                problem.allowed = Some(
                    allowed.iter().map(|(action, to)| AllowedAction { action: action.clone(), to: to.clone() }).collect(),
                );
                format!("a {} ticket cannot {action}; allowed: {}", from.as_str(), allowed_list(&allowed))
            }
            Self::OpenReferrals(open) => {
                problem.open_referrals = Some(open.clone());
                format!(
                    "{} referral(s) are still open; complete or cancel them before resolving: {}",
                    open.len(),
                    describe_open(open)
                )
            }
            Self::AlreadyAssigned(assignee) => {
                problem.assignee = Some(*assignee);
                "another token works this ticket; ask a supervisor to reassign it".to_owned()
            }
            Self::ReferralNotAllowed(refusal) => {
                problem.reason = Some(refusal.reason.to_owned());
                problem.ticket_status = refusal.ticket_status;
                if !refusal.remedies.is_empty() {
                    problem.remedies = Some(refusal.remedies.clone());
                }
                problem.verification = refusal.verification;
                refusal.detail.clone()
            }
            Self::PartnerUnavailable { reason, detail } => {
                problem.reason = Some((*reason).to_owned());
                detail.clone()
            }
            Self::DuplicateReferral(open) => {
                problem.open_referrals = Some(open.clone());
                format!(
                    "this partner already has an open referral on the ticket; use it, or complete or cancel it first: {}",
                    describe_open(open)
                )
            }
            Self::InvalidReferralTransition { from, action, allowed } => {
                let allowed: Vec<(String, String)> =
                    allowed.iter().map(|(a, to)| (a.clone(), to.as_str().to_owned())).collect();
                problem.referral_status = Some(*from);
                problem.allowed = Some(
                    allowed.iter().map(|(action, to)| AllowedAction { action: action.clone(), to: to.clone() }).collect(),
                );
                format!("a {} referral cannot {action}; allowed: {}", from.as_str(), allowed_list(&allowed))
            }
            Self::LastAdminToken => {
                "this is the last active admin token; create another admin token before revoking it".to_owned()
            }
            Self::PartnerInUse { reason, referrals } => {
                problem.reason = Some((*reason).to_owned());
                problem.referral_count = *referrals;
                if *reason == "police-desk" {
                    "police desks are reference rows, one per prefecture: update or deactivate one (PATCH) instead of deleting it"
                        .to_owned()
                } else {
                    format!(
                        "the partner has {} referral(s) on record; deactivate it (PATCH active=false) instead of deleting it",
                        referrals.unwrap_or_default()
                    )
                }
            }
            Self::AlertNotFailed(status) => {
                problem.alert_status = Some(*status);
                format!(
                    "only failed alerts can be retried; this one is {}{}",
                    status.as_str(),
                    if *status == OutboxStatus::Sent { "" } else { " and is still being delivered" }
                )
            }
            Self::ClaimExists { reason, claimed, status, allowed, detail } => {
                let allowed = claim_steps(allowed);
                problem.reason = Some((*reason).to_owned());
                problem.claim_status = Some(*status);
                problem.payment = Some(*claimed);
                problem.allowed = Some(allowed_actions(&allowed));
                format!(
                    "{detail}; nothing was claimed. Act on the existing claim instead (allowed: {})",
                    allowed_list(&allowed)
                )
            }
            Self::PaymentNotClaimable { reason, status, applicable, missing, exclusions, detail } => {
                problem.reason = Some((*reason).to_owned());
                problem.claim_status = *status;
                problem.payment = *applicable;
                let next = if *reason == "wrong-payment" {
                    match applicable {
                        Some(payment) => format!("claim the {} payment instead", payment.as_str()),
                        None => "record the cause first (POST /v1/tickets/{id}/facts)".to_owned(),
                    }
                } else {
                    problem.missing_requirements = Some(missing.clone());
                    problem.applying_exclusions = Some(exclusions.clone());
                    if exclusions.is_empty() {
                        "record what is missing with POST /v1/tickets/{id}/facts, then claim".to_owned()
                    } else {
                        "nothing can be claimed while an exclusion applies".to_owned()
                    }
                };
                format!("{detail}; {next}")
            }
            Self::InvalidClaimTransition { from, action, allowed } => {
                let allowed = claim_steps(allowed);
                problem.claim_status = Some(*from);
                problem.allowed = Some(allowed_actions(&allowed));
                format!("a support payment that is {} cannot {action}; allowed: {}", from.as_str(), allowed_list(&allowed))
            }
            Self::TooManyFailedAuthentications { per_minute, retry_after } => {
                problem.retry_after_seconds = Some(*retry_after);
                format!(
                    "more than {per_minute} failed authentications from this address within a minute; check the token \
                     and try again in {retry_after} s"
                )
            }
            Self::Conflict(_) => {
                "the change conflicted with another change made at the same time, and nothing was written; reload and retry (with the same Idempotency-Key)"
                    .to_owned()
            }
            Self::Unavailable(_) => "the database is unreachable; retry shortly".to_owned(),
            Self::DeadlinePassed { budget_ms } => format!(
                "no answer within {budget_ms} ms (the database is slow or unreachable); retry shortly — a write may \
                 still have been recorded, so retry it with the same Idempotency-Key"
            ),
            Self::Internal(_) => {
                "an unexpected error occurred; it has been logged with this request's id".to_owned()
            }
        };
        problem
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.kind().status()
    }

    fn error_response(&self) -> HttpResponse {
        let kind = self.kind();
        match self {
            Self::Internal(cause) => tracing::error!(problem = kind.slug(), cause = %cause, "request failed"),
            Self::Unavailable(cause) => {
                tracing::warn!(problem = kind.slug(), cause = %cause, "database unavailable")
            }
            Self::TooManyFailedAuthentications { .. } => {
                tracing::warn!(problem = kind.slug(), "failed authentications throttled")
            }
            Self::Conflict(cause) => {
                tracing::warn!(problem = kind.slug(), cause = %cause, "write conflict")
            }
            _ => tracing::info!(problem = kind.slug(), status = kind.status_code(), "request refused"),
        }
        let mut response = HttpResponse::build(kind.status());
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        match self {
            Self::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
            }
            Self::Unavailable(_) | Self::DeadlinePassed { .. } => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("5")));
            }
            Self::TooManyFailedAuthentications { retry_after, .. } => {
                response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            }
            Self::PreconditionFailed { current } => {
                response.insert_header((header::ETAG, format!("\"{current}\"")));
            }
            _ => {}
        }
        response.body(self.problem().to_json())
    }
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::NotFound => Self::NotFound("the requested record".to_owned()),
            StorageError::Conflict(reason) => Self::Conflict(reason),
            StorageError::Unavailable(reason) => Self::Unavailable(reason),
            StorageError::Other(reason) => Self::Internal(reason),
        }
    }
}

impl From<hotline_storage::queries::registry::ImportError> for ApiError {
    fn from(error: hotline_storage::queries::registry::ImportError) -> Self {
        use hotline_storage::queries::registry::ImportError;
        match error {
            ImportError::RegistrationTaken(taken) => Self::RegistryImportRejected(
                taken
                    .into_iter()
                    .map(|(member, registration, holder)| RowError {
                        line: 0,
                        field: "registration_number".to_owned(),
                        detail: format!(
                            "member {member} is given registration number {registration}, which member {holder} \
                             (not in this file) holds; include {holder} with its corrected number"
                        ),
                    })
                    .collect(),
            ),
            ImportError::TooManyEnded { ending, active, max_share } => {
                Self::SnapshotEndsTooMany { ending, active, max_share }
            }
            ImportError::DryRun(_) => Self::Internal("a dry run's report escaped its import".to_owned()),
            ImportError::Storage(error) => error.into(),
        }
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        Self::Validation(errors)
    }
}

impl From<FieldError> for ApiError {
    fn from(error: FieldError) -> Self {
        Self::Validation(error.into())
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        Self::Internal(format!("blocking task failed: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ERRORS_MD: &str = include_str!("../../../docs/errors.md");

    /// The catalogue's section of a type: from its heading to the next heading.
    fn section(slug: &str) -> Option<&'static str> {
        let heading = format!("### /problems/{slug}\n");
        let start = ERRORS_MD.find(&heading)? + heading.len();
        let rest = &ERRORS_MD[start..];
        let end = rest.find("\n#").unwrap_or(rest.len());
        Some(&rest[..end])
    }

    #[test]
    fn the_error_catalogue_documents_every_type_with_its_status_and_title() {
        for kind in ProblemType::ALL {
            let text = section(kind.slug())
                .unwrap_or_else(|| panic!("docs/errors.md lacks a `### /problems/{}` section", kind.slug()));
            assert!(
                text.contains(&format!("**Status:** {}", kind.status_code())),
                "docs/errors.md: /problems/{} must say **Status:** {}",
                kind.slug(),
                kind.status_code()
            );
            assert!(
                text.contains(&format!("**Title:** `{}`", kind.title())),
                "docs/errors.md: /problems/{} must say **Title:** `{}`",
                kind.slug(),
                kind.title()
            );
        }
    }

    #[test]
    fn the_catalogue_has_no_type_the_table_lacks() {
        for line in ERRORS_MD.lines() {
            if let Some(slug) = line.strip_prefix("### /problems/") {
                assert!(
                    ProblemType::from_slug(slug).is_some(),
                    "docs/errors.md documents unknown type {slug}"
                );
            }
        }
    }

    #[test]
    fn slugs_are_unique_and_statuses_are_errors() {
        let mut slugs: Vec<&str> = ProblemType::ALL.iter().map(|kind| kind.slug()).collect();
        slugs.sort_unstable();
        slugs.dedup();
        assert_eq!(slugs.len(), ProblemType::ALL.len());
        for kind in ProblemType::ALL {
            assert!((400..=599).contains(&kind.status_code()), "{kind:?}");
        }
    }

    #[test]
    fn a_conflict_never_shows_the_database_message() {
        let error =
            ApiError::from(StorageError::Conflict("UNIQUE constraint failed: tickets.reference".into()));
        let problem = error.problem();
        assert_eq!(problem.problem_type, "/problems/conflict");
        assert!(!problem.detail.contains("UNIQUE"), "{}", problem.detail);
    }

    #[test]
    fn a_problem_body_carries_only_the_members_of_its_type() {
        let body: serde_json::Value =
            serde_json::from_str(&ApiError::PreconditionFailed { current: 3 }.problem().to_json())
                .expect("JSON");
        let mut keys: Vec<&str> = body.as_object().expect("object").keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["current_version", "detail", "status", "title", "type"]);
        assert_eq!(body["status"], 412);
    }
}

//! RFC 9457 problem details. Every error the API returns is one of these variants, each with a stable
//! `type` URI documented in docs/errors.md, so desk software can react to the kind of failure rather
//! than parse English. Internal causes are logged, never serialised.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use chrono_tz::Tz;
use hotline_domain::registry::RowError;
use hotline_domain::role::Role;
use hotline_domain::schedule::OutsideWindow;
use hotline_domain::ticket::TicketStatus;
use hotline_domain::{FieldError, ValidationErrors};
use hotline_storage::StorageError;
use serde_json::{Map, Value, json};

use crate::time::{display_time, window_json};

/// Media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

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
    /// A call outside the service window.
    #[error("call outside the service window")]
    OutsideServiceWindow(Box<OutsideWindow>, Tz),
    /// A follow-up call to a ticket that no longer takes calls.
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
    /// A change to a ticket without `If-Match`.
    #[error("If-Match required")]
    PreconditionRequired {
        /// Current version, so the client can retry at once.
        current: Option<i64>,
    },
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
    #[error("{0} referral(s) still open")]
    OpenReferrals(usize),
    /// Someone else works the ticket.
    #[error("ticket already assigned")]
    AlreadyAssigned(uuid::Uuid),
    /// The referral rules refused (police only for serious incidents, unconfirmed caller…).
    #[error("referral not allowed: {detail}")]
    ReferralNotAllowed {
        /// Stable reason code.
        reason: &'static str,
        /// Human explanation.
        detail: String,
    },
    /// The chosen partner cannot take the referral (inactive, no email, not covering…).
    #[error("partner unavailable: {0}")]
    PartnerUnavailable(String),
    /// The partner already has an open referral on this ticket.
    #[error("duplicate open referral")]
    DuplicateReferral,
    /// The referral's own lifecycle refused the action.
    #[error("invalid referral transition")]
    InvalidReferralTransition {
        /// Current status.
        from: String,
        /// Refused action.
        action: String,
        /// Possible actions.
        allowed: Vec<String>,
    },
    /// A write that lost against a concurrent one or breaks a uniqueness rule.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database cannot be reached right now; retrying later may work.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected failure; details are in the log under the request id.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Every problem type the API can answer with, including those of the safety net for actix's own
/// errors; docs/errors.md documents each one (a test checks).
pub const PROBLEM_SLUGS: &[&str] = &[
    "validation-error",
    "malformed-body",
    "unsupported-media-type",
    "payload-too-large",
    "unauthorized",
    "forbidden",
    "not-found",
    "method-not-allowed",
    "bad-request",
    "outside-service-window",
    "ticket-not-open",
    "invalid-idempotency-key",
    "idempotency-key-reused",
    "registry-import-rejected",
    "precondition-required",
    "precondition-failed",
    "invalid-transition",
    "open-referrals",
    "already-assigned",
    "referral-not-allowed",
    "partner-unavailable",
    "duplicate-referral",
    "invalid-referral-transition",
    "conflict",
    "service-unavailable",
    "too-many-requests",
    "internal-error",
];

impl ApiError {
    /// Stable slug of the problem type, the last part of its `type` URI.
    pub fn slug(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation-error",
            Self::MalformedBody(_) => "malformed-body",
            Self::UnsupportedMediaType { .. } => "unsupported-media-type",
            Self::PayloadTooLarge { .. } => "payload-too-large",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden { .. } => "forbidden",
            Self::NotFound(_) => "not-found",
            Self::OutsideServiceWindow(..) => "outside-service-window",
            Self::TicketNotOpen(_) => "ticket-not-open",
            Self::InvalidIdempotencyKey(_) => "invalid-idempotency-key",
            Self::IdempotencyKeyReused => "idempotency-key-reused",
            Self::RegistryImportRejected(_) => "registry-import-rejected",
            Self::PreconditionRequired { .. } => "precondition-required",
            Self::PreconditionFailed { .. } => "precondition-failed",
            Self::InvalidTransition { .. } => "invalid-transition",
            Self::OpenReferrals(_) => "open-referrals",
            Self::AlreadyAssigned(_) => "already-assigned",
            Self::ReferralNotAllowed { .. } => "referral-not-allowed",
            Self::PartnerUnavailable(_) => "partner-unavailable",
            Self::DuplicateReferral => "duplicate-referral",
            Self::InvalidReferralTransition { .. } => "invalid-referral-transition",
            Self::Conflict(_) => "conflict",
            Self::Unavailable(_) => "service-unavailable",
            Self::Internal(_) => "internal-error",
        }
    }

    /// One field error as a validation problem, for parsers that fail on a single value.
    pub fn field(field: &str, detail: impl Into<String>) -> Self {
        Self::Validation(FieldError::new(field, detail).into())
    }

    fn title(&self) -> &'static str {
        match self {
            Self::Validation(_) => "Some fields are invalid",
            Self::MalformedBody(_) => "The request body cannot be read",
            Self::UnsupportedMediaType { .. } => "Unsupported media type",
            Self::PayloadTooLarge { .. } => "Request body too large",
            Self::Unauthorized(_) => "Authentication required",
            Self::Forbidden { .. } => "Not allowed for this role",
            Self::NotFound(_) => "Not found",
            Self::OutsideServiceWindow(..) => "The hotline is closed at that time",
            Self::TicketNotOpen(_) => "The ticket takes no more calls",
            Self::InvalidIdempotencyKey(_) => "Invalid Idempotency-Key",
            Self::IdempotencyKeyReused => "Idempotency-Key already used for another request",
            Self::RegistryImportRejected(_) => "The registry file has errors; nothing was imported",
            Self::PreconditionRequired { .. } => "If-Match required",
            Self::PreconditionFailed { .. } => "The ticket changed meanwhile",
            Self::InvalidTransition { .. } => "Not possible in the ticket's status",
            Self::OpenReferrals(_) => "Referrals are still open",
            Self::AlreadyAssigned(_) => "The ticket is already assigned",
            Self::ReferralNotAllowed { .. } => "Referral not allowed",
            Self::PartnerUnavailable(_) => "The partner cannot take this referral",
            Self::DuplicateReferral => "The partner already has an open referral on this ticket",
            Self::InvalidReferralTransition { .. } => "Not possible in the referral's status",
            Self::Conflict(_) => "Conflict",
            Self::Unavailable(_) => "Service temporarily unavailable",
            Self::Internal(_) => "Internal error",
        }
    }

    fn detail_and_extensions(&self) -> (String, Map<String, Value>) {
        let mut ext = Map::new();
        let detail = match self {
            Self::Validation(errors) => {
                ext.insert("errors".into(), json!(errors.0));
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
            Self::OutsideServiceWindow(outside, tz) => {
                ext.insert("window".into(), window_json(&outside.window, *tz));
                ext.insert("next_open".into(), json!(display_time(outside.next_open, *tz)));
                ext.insert("started_at".into(), json!(display_time(outside.at, *tz)));
                format!(
                    "the hotline answers {}–{} ({}); it opens next at {}",
                    outside.window.open.format("%H:%M"),
                    outside.window.close.format("%H:%M"),
                    tz.name(),
                    display_time(outside.next_open, *tz).to_rfc3339()
                )
            }
            Self::TicketNotOpen(status) => {
                ext.insert("ticket_status".into(), json!(status.as_str()));
                match status {
                    TicketStatus::Declined => {
                        "the ticket was declined; log the call as a new ticket".to_owned()
                    }
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
                ext.insert("errors".into(), json!(rows));
                format!("{} problem(s) found; fix the file and import it again", rows.len())
            }
            Self::PreconditionRequired { current } => {
                ext.insert("current_version".into(), json!(current));
                "send If-Match with the ticket's ETag (its version) to change it".to_owned()
            }
            Self::PreconditionFailed { current } => {
                ext.insert("current_version".into(), json!(current));
                format!(
                    "the ticket is now at version {current}; reload it, check the change still applies, and retry"
                )
            }
            Self::InvalidTransition { from, action, allowed } => {
                ext.insert("ticket_status".into(), json!(from.as_str()));
                ext.insert(
                    "allowed".into(),
                    json!(
                        allowed
                            .iter()
                            .map(|(a, to)| json!({ "action": a, "to": to.as_str() }))
                            .collect::<Vec<_>>()
                    ),
                );
                let next: Vec<String> =
                    allowed.iter().map(|(a, to)| format!("{a} → {}", to.as_str())).collect();
                format!(
                    "a {} ticket cannot {action}; allowed: {}",
                    from.as_str(),
                    if next.is_empty() { "nothing".to_owned() } else { next.join(", ") }
                )
            }
            Self::OpenReferrals(count) => {
                ext.insert("open_referrals".into(), json!(count));
                format!("{count} referral(s) are still open: complete or cancel them before resolving")
            }
            Self::AlreadyAssigned(assignee) => {
                ext.insert("assignee".into(), json!(assignee));
                "another token works this ticket; ask a supervisor to reassign it".to_owned()
            }
            Self::ReferralNotAllowed { reason, detail } => {
                ext.insert("reason".into(), json!(reason));
                detail.clone()
            }
            Self::PartnerUnavailable(detail) => detail.clone(),
            Self::DuplicateReferral => {
                "complete or cancel the open referral to this partner first".to_owned()
            }
            Self::InvalidReferralTransition { from, action, allowed } => {
                ext.insert("referral_status".into(), json!(from));
                ext.insert("allowed".into(), json!(allowed));
                format!(
                    "a {from} referral cannot {action}; allowed: {}",
                    if allowed.is_empty() { "nothing".to_owned() } else { allowed.join(", ") }
                )
            }
            Self::Conflict(reason) => reason.clone(),
            Self::Unavailable(_) => "the database is unreachable; retry shortly".to_owned(),
            Self::Internal(_) => {
                "an unexpected error occurred; it has been logged with this request's id".to_owned()
            }
        };
        (detail, ext)
    }
}

/// Builds a problem body; used for our own errors and for rewriting actix's plain-text ones.
pub fn problem_body(
    status: StatusCode,
    slug: &str,
    title: &str,
    detail: &str,
    extensions: Map<String, Value>,
) -> Value {
    let mut body = Map::new();
    body.insert("type".into(), json!(format!("/problems/{slug}")));
    body.insert("title".into(), json!(title));
    body.insert("status".into(), json!(status.as_u16()));
    body.insert("detail".into(), json!(detail));
    for (key, value) in extensions {
        // Extension members never replace RFC 9457's own (type, title, status, detail, instance).
        if !matches!(key.as_str(), "type" | "title" | "status" | "detail" | "instance") {
            body.insert(key, value);
        }
    }
    Value::Object(body)
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::MalformedBody(_) | Self::InvalidIdempotencyKey(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::TicketNotOpen(_)
            | Self::Conflict(_)
            | Self::InvalidTransition { .. }
            | Self::OpenReferrals(_)
            | Self::AlreadyAssigned(_)
            | Self::DuplicateReferral
            | Self::InvalidReferralTransition { .. } => StatusCode::CONFLICT,
            Self::PreconditionRequired { .. } => StatusCode::PRECONDITION_REQUIRED,
            Self::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            Self::ReferralNotAllowed { .. } | Self::PartnerUnavailable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_)
            | Self::OutsideServiceWindow(..)
            | Self::IdempotencyKeyReused
            | Self::RegistryImportRejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            Self::Internal(cause) => tracing::error!(problem = self.slug(), cause = %cause, "request failed"),
            Self::Unavailable(cause) => {
                tracing::warn!(problem = self.slug(), cause = %cause, "database unavailable")
            }
            _ => tracing::info!(problem = self.slug(), status = status.as_u16(), "request refused"),
        }
        let (detail, extensions) = self.detail_and_extensions();
        let body = problem_body(status, self.slug(), self.title(), &detail, extensions);
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        match self {
            Self::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
            }
            Self::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("5")));
            }
            Self::PreconditionFailed { current } | Self::PreconditionRequired { current: Some(current) } => {
                response.insert_header((header::ETAG, format!("\"{current}\"")));
            }
            _ => {}
        }
        response.body(body.to_string())
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

    #[test]
    fn every_problem_type_is_documented_in_the_error_catalogue() {
        let missing: Vec<&str> = PROBLEM_SLUGS
            .iter()
            .copied()
            .filter(|slug| !ERRORS_MD.contains(&format!("### /problems/{slug}")))
            .collect();
        assert!(missing.is_empty(), "docs/errors.md lacks a `### /problems/<slug>` section for {missing:?}");
    }

    #[test]
    fn every_api_error_maps_to_a_listed_slug() {
        let samples = [
            ApiError::Validation(ValidationErrors::default()),
            ApiError::MalformedBody(String::new()),
            ApiError::UnsupportedMediaType { expected: "application/json" },
            ApiError::PayloadTooLarge { limit: 1 },
            ApiError::Unauthorized("x"),
            ApiError::Forbidden { required: Role::Admin, actual: Role::Operator },
            ApiError::NotFound(String::new()),
            ApiError::TicketNotOpen(TicketStatus::Closed),
            ApiError::InvalidIdempotencyKey("x"),
            ApiError::IdempotencyKeyReused,
            ApiError::RegistryImportRejected(vec![]),
            ApiError::PreconditionRequired { current: None },
            ApiError::PreconditionFailed { current: 1 },
            ApiError::InvalidTransition {
                from: TicketStatus::New,
                action: "resolve".into(),
                allowed: vec![],
            },
            ApiError::OpenReferrals(1),
            ApiError::AlreadyAssigned(uuid::Uuid::nil()),
            ApiError::ReferralNotAllowed { reason: "x", detail: String::new() },
            ApiError::PartnerUnavailable(String::new()),
            ApiError::DuplicateReferral,
            ApiError::InvalidReferralTransition {
                from: "completed".into(),
                action: "accept".into(),
                allowed: vec![],
            },
            ApiError::Conflict(String::new()),
            ApiError::Unavailable(String::new()),
            ApiError::Internal(String::new()),
        ];
        for error in &samples {
            assert!(PROBLEM_SLUGS.contains(&error.slug()), "{} is not in PROBLEM_SLUGS", error.slug());
            let status = error.status_code();
            assert!(status.is_client_error() || status.is_server_error(), "{error:?} has status {status}");
        }
    }
}

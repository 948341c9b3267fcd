//! Idempotent POSTs. The response to a keyed request is stored in the same transaction as the write it
//! reports, so a retry after a lost response gets the original answer and creates nothing, even if the
//! server crashed in between. The same key with another request is refused. Keys are per token.
//!
//! Two checks: [`replay_stored`], a middleware, answers a retry from the stored response before any
//! handler parses or validates it (a call logged at 20:59 and retried at 21:01 must not be refused as
//! outside the window); [`write_once`] repeats the check inside the write transaction, which settles
//! concurrent first attempts.

use actix_web::HttpMessage;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use hotline_storage::StorageError;
use hotline_storage::db::DbConnection;
use hotline_storage::queries::idempotency::{self, IdempotencyRecord};

use crate::auth::Actor;
use crate::extract::{IdempotencyKey, RequestFingerprint};
use crate::problem::ApiError;
use crate::state::AppState;

/// A response as stored for replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: String,
    /// `Location` header, if any.
    pub location: Option<String>,
    /// `ETag` of the fresh response (not kept for replays: a replay's version may be stale).
    pub etag: Option<String>,
}

impl StoredResponse {
    /// A JSON response.
    pub fn json(
        status: StatusCode,
        body: &impl serde::Serialize,
        location: Option<String>,
    ) -> Result<Self, ApiError> {
        let body = serde_json::to_string(body)
            .map_err(|error| ApiError::Internal(format!("serialising response: {error}")))?;
        Ok(Self { status: status.as_u16(), body, location, etag: None })
    }

    /// Adds the resource version the response describes.
    pub fn with_etag(mut self, etag: String) -> Self {
        self.etag = Some(etag);
        self
    }

    fn into_response(self, replayed: bool) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK);
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static("application/json")));
        if let Some(location) = self.location {
            response.insert_header((header::LOCATION, location));
        }
        if let Some(etag) = self.etag.filter(|_| !replayed) {
            response.insert_header((header::ETAG, etag));
        }
        if replayed {
            response.insert_header(("idempotent-replayed", "true"));
        }
        response.body(self.body)
    }
}

enum Outcome {
    Fresh(StoredResponse),
    Replayed(StoredResponse),
}

/// Runs `write` in one database transaction and answers with `render` of its result; with a key, the
/// rendered response is stored in that transaction and replayed for a retry. `store` turns the fresh
/// response into what may be kept (e.g. without a secret shown once).
pub async fn write_once<T, W, R>(
    state: &web::Data<AppState>,
    actor: &Actor,
    key: Option<IdempotencyKey>,
    fingerprint: RequestFingerprint,
    write: W,
    render: R,
) -> Result<HttpResponse, ApiError>
where
    T: 'static,
    W: Fn(&mut DbConnection) -> Result<T, ApiError> + Send + Clone + 'static,
    R: Fn(&T) -> Result<(StoredResponse, StoredResponse), ApiError> + Send + Clone + 'static,
{
    let state = state.clone();
    let token_id = actor.token_id;
    let outcome = web::block(move || {
        // A concurrent request with the same key loses on the primary key and is answered by replay.
        let mut last_conflict = None;
        for _ in 0..2 {
            let attempt = state.storage.write(|conn| {
                if let Some(key) = &key {
                    if let Some(record) = idempotency::find(conn, token_id, key.as_str())? {
                        return if record.request_hash == fingerprint.as_str() {
                            Ok(Outcome::Replayed(StoredResponse {
                                status: u16::try_from(record.status_code).unwrap_or(200),
                                body: record.response_body,
                                location: record.location,
                                etag: None,
                            }))
                        } else {
                            Err(ApiError::IdempotencyKeyReused)
                        };
                    }
                }
                let result = write(conn)?;
                let (fresh, kept) = render(&result)?;
                if let Some(key) = &key {
                    let record = IdempotencyRecord {
                        token_id,
                        key: key.as_str().to_owned(),
                        request_hash: fingerprint.as_str().to_owned(),
                        status_code: i32::from(kept.status),
                        response_body: kept.body,
                        location: kept.location,
                        created_at: state.clock.now(),
                    };
                    idempotency::insert(conn, &record).map_err(|error| match error {
                        StorageError::Conflict(reason) => ApiError::Conflict(reason),
                        other => ApiError::from(other),
                    })?;
                }
                Ok(Outcome::Fresh(fresh))
            });
            match attempt {
                Err(ApiError::Conflict(reason)) if key.is_some() => last_conflict = Some(reason),
                other => return other,
            }
        }
        Err(ApiError::Conflict(last_conflict.unwrap_or_default()))
    })
    .await??;
    Ok(match outcome {
        Outcome::Fresh(response) => response.into_response(false),
        Outcome::Replayed(response) => response.into_response(true),
    })
}

/// Middleware for `/v1` (inside authentication): a keyed POST already answered for this token gets the
/// stored response (`idempotent-replayed: true`); the same key with another request gets 422. The
/// body is read once, fingerprinted and handed on unchanged.
pub async fn replay_stored(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if req.method() != Method::POST {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let key = match IdempotencyKey::from_request(req.request()) {
        Ok(Some(key)) => key,
        Ok(None) => return Ok(next.call(req).await?.map_into_left_body()),
        Err(error) => return Ok(req.error_response(error).map_into_right_body()),
    };
    let (Some(state), Some(actor)) =
        (req.app_data::<web::Data<AppState>>().cloned(), req.extensions().get::<Actor>().cloned())
    else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let limit = state.config.body_limit.max(state.config.import_body_limit);
    let payload = req.take_payload();
    let bytes = match crate::extract::read_body(req.request(), payload, limit).await {
        Ok(bytes) => bytes,
        Err(error) => return Ok(req.error_response(error).map_into_right_body()),
    };
    let fingerprint = RequestFingerprint::of(req.request(), &bytes);
    req.set_payload(Payload::from(bytes));
    let storage = state.storage.clone();
    let token = actor.token_id;
    let lookup_key = key.as_str().to_owned();
    let stored = web::block(move || storage.read(|conn| idempotency::find(conn, token, &lookup_key))).await;
    let stored = match stored.map_err(ApiError::from).and_then(|found| found.map_err(ApiError::from)) {
        Ok(stored) => stored,
        Err(error) => return Ok(req.error_response(error).map_into_right_body()),
    };
    match stored {
        None => Ok(next.call(req).await?.map_into_left_body()),
        Some(record) if record.request_hash == fingerprint.as_str() => {
            let response = StoredResponse {
                status: u16::try_from(record.status_code).unwrap_or(200),
                body: record.response_body,
                location: record.location,
                etag: None,
            };
            Ok(req.into_response(response.into_response(true)).map_into_right_body())
        }
        Some(_) => Ok(req.error_response(ApiError::IdempotencyKeyReused).map_into_right_body()),
    }
}

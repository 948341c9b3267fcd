//! Reading request bodies ourselves, so that every failure (too large, wrong media type, broken JSON,
//! invalid UTF-8, an unknown field) becomes a problem+json with the field path, and so the raw bytes
//! are at hand for the Idempotency-Key fingerprint.

use std::future::{Ready, ready};

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev, web};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::problem::ApiError;
use crate::state::AppState;

/// Reads the whole body, refusing it as soon as it passes `limit` bytes (or announces more).
pub async fn read_body<S>(req: &HttpRequest, mut payload: S, limit: usize) -> Result<web::Bytes, ApiError>
where
    S: futures_util::Stream<Item = Result<web::Bytes, actix_web::error::PayloadError>> + Unpin,
{
    // `web::Payload` is not decompressed: refuse a compressed body rather than misread its bytes.
    if let Some(coding) = req.headers().get(header::CONTENT_ENCODING) {
        let coding = coding.to_str().unwrap_or("?").trim();
        if !coding.is_empty() && !coding.eq_ignore_ascii_case("identity") {
            return Err(ApiError::UnsupportedMediaType {
                expected: "an uncompressed body (no Content-Encoding)",
            });
        }
    }
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if announced.is_some_and(|length| length > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|error| ApiError::MalformedBody(format!("the body could not be read: {error}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Checks the Content-Type's essence (parameters such as charset are allowed).
pub fn require_media_type(req: &HttpRequest, expected: &'static str) -> Result<(), ApiError> {
    let given = req.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("");
    let essence = given.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case(expected) {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType { expected })
    }
}

/// Parses a JSON body into `T`, naming the field of any type error, missing or unknown field, then
/// refuses characters no field takes (422 naming each such field, see [`crate::text_input`]).
pub fn parse_json<T: JsonRequest>(bytes: &[u8]) -> Result<T, ApiError> {
    let text = std::str::from_utf8(bytes).map_err(|error| {
        ApiError::MalformedBody(format!("the body is not valid UTF-8 (byte {})", error.valid_up_to()))
    })?;
    // serde reads a struct from a JSON array too (`[null, null]` would fill the first two fields):
    // every body of this API is an object.
    if !text.trim_start().starts_with('{') {
        return Err(ApiError::MalformedBody("the body is not the JSON object expected".to_owned()));
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let detail = strip_position(&inner.to_string());
                let parent = if path == "." { String::new() } else { path };
                match named_field(parent, &detail) {
                    // Not an object at all (`[]`, `"text"`, `null`): no field to name.
                    field if field.is_empty() => {
                        ApiError::MalformedBody(format!("the body is not the JSON object expected: {detail}"))
                    }
                    field => ApiError::field(&field, detail),
                }
            }
            _ => ApiError::MalformedBody(format!("the body is not valid JSON: {inner}")),
        }
    })?;
    deserializer
        .end()
        .map_err(|error| ApiError::MalformedBody(format!("the body is not valid JSON: {error}")))?;
    // The body parsed as `T`, so it is valid JSON; read again as a tree to reach every string.
    let tree: serde_json::Value = serde_json::from_str(text)
        .map_err(|error| ApiError::MalformedBody(format!("the body is not valid JSON: {error}")))?;
    crate::text_input::check_json_text(&tree, T::FREE_TEXT)?;
    Ok(value)
}

/// For an optional member that may be left out but not sent as `null` (with `#[serde(default)]`):
/// `null` is refused as the wrong type, naming the member, instead of being read as "left out".
pub fn non_null<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// serde reports a missing, unknown or duplicate field at the path of the object that holds it, naming
/// the field only in its message: append that name, so `errors[].field` says which field it is.
fn named_field(parent: String, detail: &str) -> String {
    let name = ["missing field `", "unknown field `", "duplicate field `"]
        .iter()
        .find_map(|prefix| detail.strip_prefix(prefix)?.split('`').next());
    match name {
        Some(name) if parent.rsplit('.').next() != Some(name) => {
            if parent.is_empty() {
                name.to_owned()
            } else {
                format!("{parent}.{name}")
            }
        }
        _ => parent,
    }
}

/// serde_json appends " at line 1 column 42"; a field path says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

/// A type a route reads from a JSON body. Every string in it is checked before a handler sees it
/// ([`crate::text_input`]): one line of text unless its path is listed in [`Self::FREE_TEXT`]. Routes
/// whose body is optional (`start`, `take`, the referral actions…) say what an empty body means.
pub trait JsonRequest: DeserializeOwned + 'static {
    /// Paths of the fields that take free text (tabs and line breaks allowed), as `errors[].field`
    /// names them: `summary`, `consent.note`, `items[]` for every element of an array.
    const FREE_TEXT: &'static [&'static str];

    /// The value of an empty body; `None` when the body is required.
    fn when_empty() -> Option<Self> {
        None
    }
}

/// Reads a JSON body with the route's limit and media type; an empty body is accepted, without a
/// media type, where the type allows it.
pub async fn read_json<T: JsonRequest, S>(
    req: &HttpRequest,
    payload: S,
    limit: usize,
) -> Result<(T, RequestFingerprint), ApiError>
where
    S: futures_util::Stream<Item = Result<web::Bytes, actix_web::error::PayloadError>> + Unpin,
{
    if T::when_empty().is_none() {
        require_media_type(req, "application/json")?;
    }
    let bytes = read_body(req, payload, limit).await?;
    let fingerprint = RequestFingerprint::of(req, &bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        if let Some(empty) = T::when_empty() {
            return Ok((empty, fingerprint));
        }
    }
    require_media_type(req, "application/json")?;
    Ok((parse_json(&bytes)?, fingerprint))
}

/// The largest JSON body the app accepts.
pub(crate) fn body_limit(req: &HttpRequest) -> usize {
    req.app_data::<web::Data<AppState>>().map_or(1024 * 1024, |state| state.config.body_limit)
}

/// A JSON request body of type `T`, with the fingerprint an idempotent retry is compared by.
#[derive(Debug)]
pub struct Json<T> {
    /// The body.
    pub value: T,
    /// Method, path and body hashed.
    pub fingerprint: RequestFingerprint,
}

impl<T: JsonRequest> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut dev::Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            let (value, fingerprint) = read_json::<T, _>(&req, payload, body_limit(&req)).await?;
            Ok(Json { value, fingerprint })
        })
    }
}

/// The request's `Idempotency-Key`, if it sent one (a malformed key is a 400).
#[derive(Debug, Clone)]
pub struct Idempotency(pub Option<IdempotencyKey>);

impl FromRequest for Idempotency {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut dev::Payload) -> Self::Future {
        ready(IdempotencyKey::from_request(req).map(Idempotency))
    }
}

/// The body of routes that take none (an empty body, or `{}`).
#[derive(Debug, Clone, Copy, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

impl JsonRequest for Empty {
    const FREE_TEXT: &'static [&'static str] = &[];

    fn when_empty() -> Option<Self> {
        Some(Self {})
    }
}

/// A client-chosen key that makes a POST safe to retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Longest key accepted.
    pub const MAX_LEN: usize = 255;

    /// Reads the optional `Idempotency-Key` header (quoted or bare; 1–255 visible ASCII characters).
    pub fn from_request(req: &HttpRequest) -> Result<Option<Self>, ApiError> {
        let Some(value) = req.headers().get("idempotency-key") else {
            return Ok(None);
        };
        let text = value
            .to_str()
            .map_err(|_| ApiError::InvalidIdempotencyKey("the key must be visible ASCII characters"))?;
        let key = text.trim().trim_matches('"');
        if key.is_empty() || key.len() > Self::MAX_LEN || !key.chars().all(|c| c.is_ascii_graphic()) {
            return Err(ApiError::InvalidIdempotencyKey("the key must be 1–255 visible ASCII characters"));
        }
        Ok(Some(Self(key.to_owned())))
    }

    /// The key as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// SHA-256 over method, path and body: what "the same request" means for an idempotent retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestFingerprint(String);

impl RequestFingerprint {
    /// Fingerprints a request, its query string (when it has one: a registry import's `snapshot` and
    /// `force` change what it does) and its body. Without a query string the fingerprint is the one
    /// earlier versions stored.
    pub fn of(req: &HttpRequest, body: &[u8]) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(req.method().as_str().as_bytes());
        hasher.update(b" ");
        hasher.update(req.path().as_bytes());
        if !req.query_string().is_empty() {
            hasher.update(b"?");
            hasher.update(req.query_string().as_bytes());
        }
        hasher.update(b"\n");
        hasher.update(body);
        Self(hex::encode(hasher.finalize()))
    }

    /// Hex digest.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// For `PATCH`-like members: absent (`None`), `null` (`Some(None)`) and a value (`Some(Some(v))`) are
/// three different requests. Use with `#[serde(default, deserialize_with = "nullable")]`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

/// Checks a `limit` query parameter (1 to the configured maximum), with a default.
pub fn page_limit(requested: Option<i64>, default: i64, max: i64) -> Result<i64, ApiError> {
    let limit = requested.unwrap_or(default);
    if (1..=max).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::field("limit", format!("limit must be 1–{max}, got {limit}")))
    }
}

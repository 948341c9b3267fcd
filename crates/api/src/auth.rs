//! Bearer-token authentication. A middleware on the whole `/v1` scope authenticates every request, so
//! no route can forget it; handlers then ask the [`Actor`] for the role they need. Tokens are random,
//! shown once, and only their SHA-256 is stored.

use std::future::{Ready, ready};
use std::marker::PhantomData;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, http::header, web};
use hotline_domain::role::Role;
use hotline_storage::queries::tokens;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::problem::ApiError;
use crate::state::AppState;
use crate::token_cache::CachedToken;

/// Prefix of every token, so a leaked one is recognisable in a secret scanner.
pub const TOKEN_PREFIX: &str = "hl_";

/// Who is making the request: the token, its name and its role. Every write records `token_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The token's id.
    pub token_id: Uuid,
    /// The token's name, e.g. the operator's desk.
    pub name: String,
    /// What the token may do.
    pub role: Role,
}

impl Actor {
    /// Refuses with 403 unless the actor has at least `required`.
    pub fn require(&self, required: Role) -> Result<(), ApiError> {
        if self.role.allows(required) {
            Ok(())
        } else {
            Err(ApiError::Forbidden { required, actual: self.role })
        }
    }
}

impl FromRequest for Actor {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(
            req.extensions().get::<Actor>().cloned().ok_or(ApiError::Unauthorized("no authenticated token")),
        )
    }
}

/// The least role a route needs, as a type, so a handler's signature says who may call it and the
/// check runs before any other extractor reads the path, the database or the body.
pub trait RequiredRole: 'static {
    /// The role.
    const ROLE: Role;
}

/// Any token (the least role is operator).
#[derive(Debug, Clone, Copy)]
pub struct Operator;
/// Supervisors and admins.
#[derive(Debug, Clone, Copy)]
pub struct Supervisor;
/// Admins only.
#[derive(Debug, Clone, Copy)]
pub struct Admin;

impl RequiredRole for Operator {
    const ROLE: Role = Role::Operator;
}
impl RequiredRole for Supervisor {
    const ROLE: Role = Role::Supervisor;
}
impl RequiredRole for Admin {
    const ROLE: Role = Role::Admin;
}

/// The authenticated actor, already checked to hold at least `R`'s role (403 otherwise).
#[derive(Debug, Clone)]
pub struct Authorized<R: RequiredRole = Operator> {
    /// Who is calling.
    pub actor: Actor,
    role: PhantomData<R>,
}

impl<R: RequiredRole> Authorized<R> {
    /// Checks the role of the request's actor.
    pub fn check(req: &HttpRequest) -> Result<Self, ApiError> {
        let actor = req
            .extensions()
            .get::<Actor>()
            .cloned()
            .ok_or(ApiError::Unauthorized("no authenticated token"))?;
        actor.require(R::ROLE)?;
        Ok(Self { actor, role: PhantomData })
    }
}

impl<R: RequiredRole> FromRequest for Authorized<R> {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(Self::check(req))
    }
}

/// A new token: the secret shown once and the hash that is stored.
pub struct GeneratedToken {
    /// `hl_` followed by 64 hex digits (256 random bits).
    pub secret: String,
    /// SHA-256 of the secret, hex.
    pub hash: String,
}

/// Makes a token from the operating system's random source.
pub fn generate_token() -> GeneratedToken {
    let bytes: [u8; 32] = rand::random();
    let secret = format!("{TOKEN_PREFIX}{}", hex::encode(bytes));
    let hash = hash_token(&secret);
    GeneratedToken { secret, hash }
}

/// The stored form of a token.
pub fn hash_token(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Middleware: resolves `Authorization: Bearer …` to an [`Actor`] or answers 401.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    match resolve_actor(&req).await {
        Ok(actor) => {
            tracing::Span::current().record("token_id", tracing::field::display(actor.token_id));
            req.extensions_mut().insert(actor);
            Ok(next.call(req).await?.map_into_left_body())
        }
        Err(error) => match crate::security::throttle_failed_authentication(&req, &error) {
            Some(throttled) => Ok(req.into_response(throttled).map_into_right_body()),
            None => Ok(req.error_response(error).map_into_right_body()),
        },
    }
}

async fn resolve_actor(req: &ServiceRequest) -> Result<Actor, ApiError> {
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or(ApiError::Unauthorized("send Authorization: Bearer <token>"))?;
    let value =
        header.to_str().map_err(|_| ApiError::Unauthorized("the Authorization header is not ASCII"))?;
    let secret = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|secret| !secret.is_empty())
        .ok_or(ApiError::Unauthorized("the Authorization header must be 'Bearer <token>'"))?;
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal("application state missing".into()))?
        .clone();
    let hash = hash_token(secret);
    let now = state.clock.now();
    if let Some(cached) = state.tokens.get(&hash, now) {
        return Ok(Actor { token_id: cached.token_id, name: cached.name, role: cached.role });
    }
    let generation = state.tokens.generation();
    let storage = state.storage.clone();
    let lookup = hash.clone();
    let token = web::block(move || storage.read(|conn| tokens::find_active_by_hash(conn, &lookup))).await??;
    let token = token.ok_or(ApiError::Unauthorized("the token is unknown or revoked"))?;
    let cached = CachedToken { token_id: token.id, name: token.name, role: token.role };
    state.tokens.put(hash, cached.clone(), now, generation);
    Ok(Actor { token_id: cached.token_id, name: cached.name, role: cached.role })
}

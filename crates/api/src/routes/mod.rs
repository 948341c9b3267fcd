//! Route table: one module per resource. Everything under `/v1` needs a bearer token. docs/openapi.json
//! describes every route registered here; crates/api/tests/openapi.rs fails when they drift apart.

pub mod ack;
pub mod callbacks;
pub mod calls;
pub mod health;
pub mod members;
pub mod notifications;
pub mod openapi;
pub mod partners;
pub mod referrals;
pub mod registry;
pub mod status;
pub mod tickets;
pub mod tokens;

use actix_web::middleware::from_fn;
use actix_web::web;

use crate::auth::authenticate;

/// Registers all routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::QueryConfig::default().error_handler(|error, _req| {
        crate::problem::ApiError::field("query", format!("invalid query string: {error}")).into()
    }))
    .service(
        web::resource("/healthz")
            .route(web::get().to(health::healthz))
            .route(web::head().to(health::healthz)),
    )
    .service(
        web::resource("/readyz").route(web::get().to(health::readyz)).route(web::head().to(health::readyz)),
    )
    .service(web::resource("/openapi.json").route(web::get().to(openapi::document)))
    .service(web::resource("/ack/{token}").route(web::get().to(ack::show)).route(web::post().to(ack::answer)))
    .service(
        web::scope("/v1")
            // The middleware registered last runs first: authenticate, then answer stored replays, then
            // refuse query strings with characters no parameter takes.
            .wrap(from_fn(crate::text_input::refuse_bad_query_text))
            .wrap(from_fn(crate::idempotency::replay_stored))
            .wrap(from_fn(authenticate))
            .service(web::resource("/hotline/status").route(web::get().to(status::hotline_status)))
            .service(web::resource("/calls").route(web::post().to(calls::log_call)))
            .service(web::resource("/calls/{id}").route(web::get().to(calls::get_call)))
            .service(web::resource("/tickets").route(web::get().to(tickets::list_tickets)))
            .service(web::resource("/tickets/{id}").route(web::get().to(tickets::get_ticket)))
            .service(web::resource("/tickets/{id}/events").route(web::get().to(tickets::list_events)))
            .service(web::resource("/tickets/{id}/triage").route(web::post().to(tickets::triage)))
            .service(web::resource("/tickets/{id}/start").route(web::post().to(tickets::start)))
            .service(web::resource("/tickets/{id}/assign").route(web::post().to(tickets::assign)))
            .service(web::resource("/tickets/{id}/take").route(web::post().to(tickets::take)))
            .service(web::resource("/tickets/{id}/notes").route(web::post().to(tickets::add_note)))
            .service(web::resource("/tickets/{id}/resolve").route(web::post().to(tickets::resolve)))
            .service(web::resource("/tickets/{id}/close").route(web::post().to(tickets::close)))
            .service(web::resource("/tickets/{id}/decline").route(web::post().to(tickets::decline)))
            .service(web::resource("/tickets/{id}/reopen").route(web::post().to(tickets::reopen)))
            .service(
                web::resource("/tickets/{id}/confirm-caller").route(web::post().to(tickets::confirm_caller)),
            )
            .service(web::resource("/tickets/{id}/callbacks").route(web::post().to(callbacks::promise)))
            .service(
                web::resource("/tickets/{id}/referrals").route(web::post().to(referrals::request_referral)),
            )
            .service(web::resource("/referrals/{id}/{action}").route(web::post().to(referrals::act)))
            .service(web::resource("/callbacks").route(web::get().to(callbacks::list_due)))
            .service(
                web::resource("/partners")
                    .route(web::get().to(partners::list))
                    .route(web::post().to(partners::create)),
            )
            .service(
                web::resource("/partners/{id}")
                    .route(web::patch().to(partners::update))
                    .route(web::delete().to(partners::delete)),
            )
            .service(web::resource("/notifications").route(web::get().to(notifications::list)))
            .service(web::resource("/notifications/{id}/retry").route(web::post().to(notifications::retry)))
            .service(web::resource("/members").route(web::get().to(members::search_members)))
            .service(web::resource("/registry/imports").route(web::post().to(registry::import_registry)))
            .service(
                web::resource("/tokens")
                    .route(web::get().to(tokens::list_tokens))
                    .route(web::post().to(tokens::create_token)),
            )
            .service(web::resource("/tokens/{id}").route(web::delete().to(tokens::revoke_token))),
    );
}

/// Parses a UUID path segment, answering 404 (not 400) for anything else: no such resource exists.
pub(crate) fn parse_id(raw: &str, what: &str) -> Result<uuid::Uuid, crate::problem::ApiError> {
    uuid::Uuid::parse_str(raw).map_err(|_| crate::problem::ApiError::NotFound(format!("{what} {raw:?}")))
}

/// Checks a `limit` query parameter (1 to the configured maximum), with a default.
pub(crate) fn page_limit(
    requested: Option<i64>,
    default: i64,
    max: i64,
) -> Result<i64, crate::problem::ApiError> {
    let limit = requested.unwrap_or(default);
    if (1..=max).contains(&limit) {
        Ok(limit)
    } else {
        Err(crate::problem::ApiError::field("limit", format!("limit must be 1–{max}, got {limit}")))
    }
}

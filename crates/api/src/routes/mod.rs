//! Route table: one module per resource, each handler registered here and documented by its own
//! `#[utoipa::path]` (so the OpenAPI document is generated from this very table, see `crate::openapi`).
//! Everything under `/v1` needs a bearer token. No route module imports another: what they share lives
//! in `crate::change`, `crate::extract`, `crate::views` and `crate::auth`.

pub use meta::fallback;

pub mod access_log;
pub mod ack;
pub mod callbacks;
pub mod calls;
pub mod dashboard;
pub mod deadlines;
pub mod facts;
pub mod health;
pub mod members;
pub mod meta;
pub mod notifications;
pub mod partners;
pub mod personal_data;
pub mod police_desks;
pub mod referrals;
pub mod registry;
pub mod reports;
pub mod scrape;
pub mod status;
pub mod support_payments;
pub mod tickets;
pub mod tokens;

use actix_web::middleware::from_fn;
use actix_web::web;
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::authenticate;
use crate::problem::ApiError;

/// The route table, written once for both registrations: `$cfg` is actix's `web::ServiceConfig` with
/// `web::scope` (what the server mounts) or utoipa-actix-web's with its `scope` (what the OpenAPI
/// document is generated from). Mounting through actix's own skips utoipa's collection of every route's
/// documentation, which cost each worker about 1.5 MiB of allocations at start that glibc kept
/// (docs/benchmarks.md, "Memory"). A route added here is in both; the OpenAPI tests check the mounted
/// routes against the document.
macro_rules! route_table {
    ($cfg:expr, $scope:path) => {
        $cfg.app_data(web::QueryConfig::default().error_handler(|error, _req| {
            ApiError::field("query", format!("invalid query string: {error}")).into()
        }))
        .service(health::healthz)
        .service(health::readyz)
        .service(meta::openapi_json)
        .service(ack::show)
        .service(ack::answer)
        // Prometheus scrapes with an admin token: authenticated like `/v1`, outside it (the usual path).
        .service($scope("/metrics").wrap(from_fn(authenticate)).service(scrape::metrics))
        .service(
            $scope("/v1")
                // The middleware registered last runs first: authenticate, then answer stored replays, then
                // refuse query strings with characters no parameter takes.
                .wrap(from_fn(crate::text_input::refuse_bad_query_text))
                .wrap(from_fn(crate::idempotency::replay_stored))
                .wrap(from_fn(authenticate))
                .service(status::hotline_status)
                .service(calls::log_call)
                .service(calls::get_call)
                .service(tickets::list_tickets)
                .service(tickets::get_ticket)
                .service(tickets::list_events)
                .service(tickets::triage)
                .service(tickets::start)
                .service(tickets::assign)
                .service(tickets::take)
                .service(tickets::add_note)
                .service(tickets::resolve)
                .service(tickets::close)
                .service(tickets::decline)
                .service(tickets::reopen)
                .service(tickets::confirm_caller)
                .service(callbacks::promise)
                .service(referrals::request_referral)
                .service(referrals::act)
                .service(callbacks::list_due)
                .service(partners::list)
                .service(partners::create)
                .service(partners::update)
                .service(partners::delete)
                .service(notifications::list)
                .service(notifications::retry)
                .service(members::search_members)
                .service(registry::import_registry)
                .service(tokens::list_tokens)
                .service(tokens::create_token)
                .service(tokens::revoke_token)
                .service(facts::record_facts)
                .service(support_payments::get_support_payment)
                .service(support_payments::claim)
                .service(support_payments::pay)
                .service(support_payments::reject)
                .service(support_payments::list)
                .service(deadlines::list)
                .service(police_desks::availability)
                .service(dashboard::dashboard)
                .service(reports::summary)
                .service(access_log::list)
                .service(personal_data::find)
                .service(personal_data::erase),
        );
    };
}

/// Registers every route: what the server mounts.
pub fn configure(cfg: &mut web::ServiceConfig) {
    route_table!(cfg, web::scope);
}

/// Registers every route with its documentation: what [`crate::openapi`] generates the document from.
pub fn configure_documented(cfg: &mut ServiceConfig<'_>) {
    route_table!(cfg, scope::scope);
}

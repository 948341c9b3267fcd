//! Requests from a person (APPI; docs/data-protection.md): find every call, callback and note holding
//! their phone number, registration or member number, or name, export them as JSON, and erase them. Admin
//! only; a search is recorded in the access log for every ticket it found, an erasure in each ticket's
//! audit trail.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use hotline_domain::privacy::{AccessKind, PersonQuery};
use hotline_storage::queries::privacy;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::access_log::read_by;
use crate::auth::{Admin, Authorized};
use crate::extract::{Idempotency, Json, JsonRequest};
use crate::idempotency::{StoredResponse, write_once};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::views::{ErasedTicketView, ErasureView, PersonalDataView};

/// What the person is named by: exactly one.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PersonalDataQuery {
    /// A phone number, written as people do (`03-3946-2121`, `+81 3 …`).
    #[serde(default)]
    phone: Option<String>,
    /// A medical registration number.
    #[serde(default)]
    registration_number: Option<String>,
    /// An association member number.
    #[serde(default)]
    member_number: Option<String>,
    /// A name (the caller's or the member's; spaces and hyphens are ignored).
    #[serde(default)]
    name: Option<String>,
}

/// Every record holding a person's data
///
/// Calls holding the value in a contact field (callback number, identifier of that kind, caller or member
/// name) or their summary, callbacks and notes holding it in their text; the response is the export.
/// Recorded in the access log (`request`) for every ticket found.
#[utoipa::path(
    tag = "privacy",
    operation_id = "findPersonalData",
    security(("bearer" = ["admin"])),
    params(PersonalDataQuery),
    responses((status = 200, description = "What was found.", body = PersonalDataView)),
)]
#[get("/personal-data")]
pub async fn find(
    auth: Authorized<Admin>,
    query: web::Query<PersonalDataQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = &query;
    let person = PersonQuery::parse(
        q.phone.as_deref(),
        q.registration_number.as_deref(),
        q.member_number.as_deref(),
        q.name.as_deref(),
    )?;
    let (storage, token, now) = (state.storage.clone(), auth.actor.token_id, state.clock.now());
    let found = web::block(move || storage.read(|conn| privacy::find_person(conn, &person))).await??;
    let reads = found.ticket_ids().into_iter().map(|t| read_by(token, t, AccessKind::Request, now));
    crate::change::record_reads(&state, reads.collect()).await?;
    Ok(HttpResponse::Ok().json(PersonalDataView::new(&found, &state.views(auth.actor.role, now))))
}

/// What a person to erase is named by: exactly one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseRequest {
    /// A phone number.
    #[serde(default)]
    phone: Option<String>,
    /// A medical registration number.
    #[serde(default)]
    registration_number: Option<String>,
    /// An association member number.
    #[serde(default)]
    member_number: Option<String>,
    /// A name.
    #[serde(default)]
    name: Option<String>,
}

impl JsonRequest for EraseRequest {
    const FREE_TEXT: &'static [&'static str] = &[];
}

/// Erase a person's records
///
/// Everything `GET /v1/personal-data` finds for the same value is replaced by `[anonymised]`: each
/// call's caller contact fields (and its summary when it holds the value), each note's and callback's
/// text holding it. Each ticket touched gets a `personal_data.anonymised` event (basis `request`) that
/// counts what was replaced and never repeats it. Erasing again finds nothing and changes nothing.
#[utoipa::path(
    tag = "privacy",
    operation_id = "erasePersonalData",
    security(("bearer" = ["admin"])),
    request_body = EraseRequest,
    responses((status = 200, description = "The tickets erased from.", body = ErasureView)),
)]
#[post("/personal-data/erase")]
pub async fn erase(
    auth: Authorized<Admin>,
    Idempotency(key): Idempotency,
    body: Json<EraseRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let b = &body.value;
    let person = PersonQuery::parse(
        b.phone.as_deref(),
        b.registration_number.as_deref(),
        b.member_number.as_deref(),
        b.name.as_deref(),
    )?;
    let (token, now) = (auth.actor.token_id, state.clock.now());
    write_once(
        &state,
        &auth.actor,
        key,
        body.fingerprint,
        move |conn| Ok(privacy::erase_person(conn, &person, token, now)?),
        |erased| {
            let view = ErasureView { tickets: erased.iter().map(ErasedTicketView::new).collect() };
            let response = StoredResponse::json(StatusCode::OK, &view, None)?;
            Ok((response.clone(), response))
        },
    )
    .await
}

//! Requests from a person (APPI; docs/data-protection.md): find every call, callback and note holding
//! their phone number, registration or member number, or name, and export them as JSON. Admin only; the
//! search is recorded in the access log for every ticket it found.

use actix_web::{HttpResponse, get, web};
use hotline_domain::privacy::{AccessKind, PersonQuery};
use hotline_storage::StorageError;
use hotline_storage::queries::privacy;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::{Admin, Authorized};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::views::PersonalDataView;

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
    let found = web::block(move || {
        storage.write(|conn| {
            let found = privacy::find_person(conn, &person)?;
            for ticket in found.ticket_ids() {
                privacy::record_access(conn, token, ticket, AccessKind::Request, now)?;
            }
            Ok::<_, StorageError>(found)
        })
    })
    .await??;
    Ok(HttpResponse::Ok().json(PersonalDataView::new(&found, &state.views(auth.actor.role, now))))
}

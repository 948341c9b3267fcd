//! Looking a caller up in the member registry while they are on the phone: by member number,
//! registration number, or part of a member's or institution's name.

use actix_web::{HttpResponse, web};
use hotline_domain::role::Role;
use hotline_storage::queries::registry::{self, MemberDetail};
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::auth::Actor;
use crate::problem::ApiError;

/// Query string of the member search.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    q: String,
    #[serde(default)]
    limit: Option<i64>,
}

fn member_json(member: &MemberDetail) -> serde_json::Value {
    json!({
        "id": member.id,
        "member_number": member.member_number,
        "registration_number": member.registration_number,
        "name": member.name,
        "kana": member.kana,
        "member_class": member.member_class.as_str(),
        "eligible": member.member_class.is_eligible(),
        "institutions": member.institutions.iter().map(|institution| json!({
            "id": institution.id,
            "institution_key": institution.institution_key,
            "name": institution.name,
            "kind": institution.kind.as_str(),
            "prefecture": institution.prefecture.code(),
            "prefecture_name": institution.prefecture.name_ja(),
            "postal_code": institution.postal_code,
            "address": institution.address,
            "phone": institution.phone,
            "institution_code": institution.institution_code,
            "role": institution.role.as_str(),
        })).collect::<Vec<_>>(),
    })
}

/// `GET /v1/members?q=…&limit=…` (operator).
pub async fn search_members(
    query: web::Query<SearchQuery>,
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, ApiError> {
    actor.require(Role::Operator)?;
    let text = hotline_domain::text::clean_text(&query.q);
    if text.is_empty() {
        return Err(ApiError::field("q", "q must not be empty"));
    }
    let limit = crate::routes::page_limit(query.limit, 20, state.config.max_page_size)?;
    let storage = state.storage.clone();
    let members = web::block(move || storage.read(|conn| registry::search(conn, &text, limit))).await??;
    Ok(HttpResponse::Ok().json(json!({ "members": members.iter().map(member_json).collect::<Vec<_>>() })))
}

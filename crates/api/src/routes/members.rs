//! Looking a caller up in the member registry while they are on the phone: by member number,
//! registration number, or part of a member's or institution's name.

use actix_web::{HttpResponse, get, web};
use hotline_storage::queries::registry;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Authorized;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::views::{MemberList, MemberView};

/// Query string of the member search.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Digits (member number, registration number, institution code, phone) or part of a name.
    q: String,
    /// At most this many (default 20, at most `api.max_page_size`).
    #[serde(default)]
    limit: Option<i64>,
}

/// Search the member registry
///
/// Digits find by member number, institution code, phone or registration number (exact); text finds
/// names, kana and institution names containing `q`. Sorted by name, then member number.
#[utoipa::path(
    tag = "registry",
    operation_id = "searchMembers",
    security(("bearer" = ["operator"])),
    params(SearchQuery),
    responses((status = 200, description = "The members found.", body = MemberList)),
)]
#[get("/members")]
pub async fn search_members(
    _auth: Authorized,
    query: web::Query<SearchQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let text = hotline_domain::text::clean_text(&query.q);
    if text.is_empty() {
        return Err(ApiError::field("q", "q must not be empty"));
    }
    let limit = crate::extract::page_limit(query.limit, 20, state.config.max_page_size)?;
    let storage = state.storage.clone();
    let members = web::block(move || storage.read(|conn| registry::search(conn, &text, limit))).await??;
    Ok(HttpResponse::Ok().json(MemberList { members: members.iter().map(MemberView::new).collect() }))
}

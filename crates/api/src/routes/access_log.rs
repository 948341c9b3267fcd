//! Who read which ticket's personal data, and when (APPI; docs/data-protection.md): every response that
//! shows it is recorded with the reading token, and admins query the record here.

use std::sync::Arc;

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, FixedOffset, Utc};
use hotline_storage::queries::privacy::{self, AccessFilter, AccessRecord};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::auth::{Admin, Authorized};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::views::{AccessEntryView, AccessLogView};

/// Query of the access log.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccessLogQuery {
    /// Only reads of this ticket (its id).
    #[serde(default)]
    ticket: Option<Uuid>,
    /// Only reads by this token.
    #[serde(default)]
    token: Option<Uuid>,
    /// Only reads at or after this instant.
    #[serde(default)]
    from: Option<DateTime<FixedOffset>>,
    /// Only reads before this instant.
    #[serde(default)]
    to: Option<DateTime<FixedOffset>>,
    /// At most this many (default 50, at most `api.max_page_size`).
    #[serde(default)]
    limit: Option<i64>,
    /// The `next` of the previous page.
    #[serde(default)]
    cursor: Option<String>,
}

impl AccessLogQuery {
    fn filter(&self, max_page_size: i64) -> Result<AccessFilter, ApiError> {
        let cursor = self.cursor.as_deref().map(parse_cursor).transpose()?;
        Ok(AccessFilter {
            ticket: self.ticket,
            token: self.token,
            from: self.from.map(|at| at.with_timezone(&Utc)),
            to: self.to.map(|at| at.with_timezone(&Utc)),
            cursor,
            limit: crate::extract::page_limit(self.limit, 50, max_page_size)?,
        })
    }
}

/// The cursor after `entry`: its time in microseconds since the epoch and its id.
fn cursor_of(entry: &AccessRecord) -> String {
    format!("{}.{}", entry.read_at.timestamp_micros(), entry.id)
}

fn parse_cursor(text: &str) -> Result<(DateTime<Utc>, Uuid), ApiError> {
    let bad = || ApiError::field("cursor", "cursor must be the `next` of a previous page");
    let (micros, id) = text.split_once('.').ok_or_else(bad)?;
    let at = micros.parse::<i64>().ok().and_then(DateTime::from_timestamp_micros).ok_or_else(bad)?;
    Ok((at, Uuid::parse_str(id).map_err(|_| bad())?))
}

/// Who read which ticket's personal data
///
/// Newest first, a page at a time: pass `next` back as `cursor`. Recorded are the reads of a ticket
/// (`ticket`), a call (`call`), an audit trail (`events`), the ticket in a change's response
/// (`change`) and the tickets a search for a person's records found (`request`); entries older than `privacy.access_log_days` are purged.
/// Reads are written in batches a moment after they answer; reads not written yet are written before
/// this page is read, so it shows every read answered before it.
#[utoipa::path(
    tag = "privacy",
    operation_id = "listAccessLog",
    security(("bearer" = ["admin"])),
    params(AccessLogQuery),
    responses((status = 200, description = "A page of the access log.", body = AccessLogView)),
)]
#[get("/access-log")]
pub async fn list(
    auth: Authorized<Admin>,
    query: web::Query<AccessLogQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let filter = query.filter(state.config.max_page_size)?;
    let limit = usize::try_from(filter.limit).unwrap_or(usize::MAX);
    let (storage, log) = (state.storage.clone(), Arc::clone(&state.access_log));
    // Reads still queued are written first, so the page shows every read answered before it.
    let entries = web::block(move || {
        log.flush(&storage)?;
        storage.read(|conn| privacy::list_access(conn, &filter))
    })
    .await??;
    let next = if entries.len() == limit { entries.last().map(cursor_of) } else { None };
    let ctx = state.views(auth.actor.role, state.clock.now());
    Ok(HttpResponse::Ok().json(AccessLogView {
        entries: entries.iter().map(|e| AccessEntryView::new(e, &ctx)).collect(),
        next,
    }))
}

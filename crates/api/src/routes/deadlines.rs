//! Regulatory deadlines across tickets: the reports to the PPC and the MHLW that cases owe, by status
//! and due time, for the shift's reminders. Each ticket shows its own in its view; this is the list.
//! The hotline reminds and records; it does not file reports.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use hotline_domain::FieldError;
use hotline_domain::incident_facts::JST;
use hotline_domain::regulatory::{DeadlineKind, DeadlineStatus};
use hotline_storage::queries::deadlines::{self, DeadlineFilter};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Authorized;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::views::{DeadlineEntryView, DeadlineList};

/// Query of the deadline list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeadlineQuery {
    /// Only this status now: `due`, `done` or `overdue`.
    #[serde(default)]
    #[param(value_type = Option<DeadlineStatus>)]
    status: Option<String>,
    /// Only deadlines due before this: an instant (`2027-01-03T00:00:00+09:00`) or a date, read as
    /// 00:00 JST of that date (`2027-01-03` lists those due up to the end of 2 January).
    #[serde(default)]
    #[param(example = "2027-01-03")]
    due_before: Option<String>,
    /// Only this report: `ppc_preliminary_report`, `ppc_final_report` or `mhlw_report`.
    #[serde(default)]
    #[param(value_type = Option<DeadlineKind>)]
    kind: Option<String>,
    /// At most this many (default 50, at most `api.max_page_size`).
    #[serde(default)]
    limit: Option<i64>,
}

/// Reads `due_before`: an RFC 3339 instant, or a date meaning 00:00 JST of that date.
fn due_before(input: &str) -> Result<DateTime<Utc>, FieldError> {
    if let Ok(at) = DateTime::parse_from_rfc3339(input) {
        return Ok(at.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(input, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_time(NaiveTime::MIN).and_local_timezone(JST).single())
        .map(|at| at.with_timezone(&Utc))
        .ok_or_else(|| {
            FieldError::new(
                "due_before",
                format!(
                    "due_before must be an instant with an offset (2027-01-03T00:00:00+09:00) or a date \
                     (2027-01-03, read as 00:00 JST), got {input:?}"
                ),
            )
        })
}

impl DeadlineQuery {
    fn filter(&self) -> Result<DeadlineFilter, ApiError> {
        let mut errors = hotline_domain::ValidationErrors::default();
        let status = errors.check(self.status.as_deref().map(DeadlineStatus::parse).transpose());
        let due_before = errors.check(self.due_before.as_deref().map(due_before).transpose());
        let kind = errors.check(self.kind.as_deref().map(DeadlineKind::parse).transpose());
        errors.into_result()?;
        Ok(DeadlineFilter {
            status: status.flatten(),
            due_before: due_before.flatten(),
            kind: kind.flatten(),
        })
    }
}

/// Regulatory deadlines across tickets
///
/// The PPC preliminary and final reports and the MHLW report that tickets owe, earliest due first, with
/// their status now (`overdue` from 00:00 JST after the due date). Due dates are dates in Japan; a
/// deadline falls at 23:59:59 JST of its due date.
#[utoipa::path(
    tag = "deadlines",
    operation_id = "listDeadlines",
    security(("bearer" = ["operator"])),
    params(DeadlineQuery),
    responses((status = 200, description = "The deadlines.", body = DeadlineList)),
)]
#[get("/deadlines")]
pub async fn list(
    auth: Authorized,
    query: web::Query<DeadlineQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let filter = query.filter()?;
    let limit = crate::extract::page_limit(query.limit, 50, state.config.max_page_size)?;
    let now = state.clock.now();
    let storage = state.storage.clone();
    let rows = web::block(move || storage.read(|conn| deadlines::list(conn, &filter, now, limit))).await??;
    let ctx = state.views(auth.actor.role, now);
    Ok(HttpResponse::Ok()
        .json(DeadlineList { deadlines: rows.iter().map(|row| DeadlineEntryView::new(row, &ctx)).collect() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_before_reads_an_instant_or_a_date_at_midnight_in_japan() {
        let utc = |text: &str| text.parse::<DateTime<Utc>>().expect("instant");
        assert_eq!(due_before("2027-01-03T00:00:00+09:00"), Ok(utc("2027-01-02T15:00:00Z")));
        assert_eq!(due_before("2027-01-02T15:00:00Z"), Ok(utc("2027-01-02T15:00:00Z")));
        assert_eq!(due_before("2027-01-03"), Ok(utc("2027-01-02T15:00:00Z")));
        assert_eq!(due_before("2028-02-29"), Ok(utc("2028-02-28T15:00:00Z")));
        for bad in ["2027-02-29", "2027-01-03T00:00:00", "tomorrow", ""] {
            let error = due_before(bad).expect_err(bad);
            assert_eq!(error.field, "due_before");
            assert!(error.detail.contains("00:00 JST"), "{}", error.detail);
        }
    }
}

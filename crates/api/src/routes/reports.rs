//! The summary report for supervisors: calls, tickets, referrals, verification outcomes and durations
//! over a range of JST days, counted in the database. Counts and durations only, never personal data;
//! every list in a stable order, so that the same data gives the same bytes (JSON or CSV).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use chrono_tz::Asia::Tokyo;
use hotline_domain::{FieldError, ValidationErrors};
use hotline_storage::queries::reports;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::{Authorized, Supervisor};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::views::SummaryReportView;

/// The longest range a report covers, in days (a leap year).
pub const MAX_REPORT_DAYS: i64 = 366;

/// Query of the summary report.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// First JST date, inclusive (`YYYY-MM-DD`).
    #[serde(default)]
    #[param(example = "2026-01-01", required = true)]
    from: Option<String>,
    /// Last JST date, inclusive (`YYYY-MM-DD`), at most 366 days after `from`'s start.
    #[serde(default)]
    #[param(example = "2026-12-31", required = true)]
    to: Option<String>,
}

fn date(field: &str, input: Option<&str>) -> Result<NaiveDate, FieldError> {
    let input = input.ok_or_else(|| FieldError::new(field, format!("{field} is required (YYYY-MM-DD)")))?;
    NaiveDate::parse_from_str(input, "%Y-%m-%d")
        .map_err(|_| FieldError::new(field, format!("{field} must be a date YYYY-MM-DD, got {input:?}")))
}

/// 00:00 JST of a date, as UTC (Japan has no daylight saving time).
fn jst_midnight(date: NaiveDate) -> DateTime<Utc> {
    let naive = date.and_time(NaiveTime::MIN);
    naive.and_local_timezone(Tokyo).single().map_or_else(|| naive.and_utc(), |at| at.with_timezone(&Utc))
}

impl SummaryQuery {
    /// The checked range: both dates, `from` ≤ `to`, at most [`MAX_REPORT_DAYS`] days.
    fn range(&self) -> Result<(NaiveDate, NaiveDate), ApiError> {
        let mut errors = ValidationErrors::default();
        let from = errors.check(date("from", self.from.as_deref()));
        let to = errors.check(date("to", self.to.as_deref()));
        if let (Some(from), Some(to)) = (from, to) {
            if to < from {
                errors.push(FieldError::new("to", format!("to ({to}) must not be before from ({from})")));
            } else if (to - from).num_days() + 1 > MAX_REPORT_DAYS {
                errors.push(FieldError::new("to", format!("a report covers at most {MAX_REPORT_DAYS} days")));
            }
        }
        errors.into_result()?;
        from.zip(to).ok_or_else(|| ApiError::Internal("checked dates missing".to_owned()))
    }
}

/// The summary report
///
/// Over the JST dates `from`–`to` (inclusive, at most 366 days; a day runs from 00:00 to 24:00 JST): calls
/// and tickets per day, per JST hour, per category, per incident kind and per prefecture; referrals by kind
/// and outcome; calls by verification outcome; the median and 90th percentile (nearest rank, whole seconds)
/// of the time to first response, to referral acceptance and to resolution. `Accept: text/csv` gives the
/// same as CSV (UTF-8 with a byte-order mark, `section,key,metric,value`).
#[utoipa::path(
    tag = "reports",
    operation_id = "getSummaryReport",
    security(("bearer" = ["supervisor"])),
    params(SummaryQuery),
    responses((status = 200, description = "The report.", content(
        (SummaryReportView = "application/json"),
        (String = "text/csv", example = "\u{feff}section,key,metric,value\nrange,,from,2026-01-01\n"),
    ))),
)]
#[get("/reports/summary")]
pub async fn summary(
    _auth: Authorized<Supervisor>,
    request: HttpRequest,
    query: web::Query<SummaryQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (from, to) = query.range()?;
    let end = jst_midnight(to.checked_add_days(Days::new(1)).unwrap_or(to));
    let bounds = (jst_midnight(from), end);
    let (storage, timeout) = (state.storage.clone(), state.config.report_timeout);
    let summary =
        web::block(move || storage.read(|conn| reports::summary(conn, (from, to), bounds, timeout)))
            .await??;
    let view = SummaryReportView::new(&summary, from, to, Tokyo);
    let accept = request.headers().get(header::ACCEPT).and_then(|value| value.to_str().ok()).unwrap_or("");
    if !accept.contains("text/csv") {
        return Ok(HttpResponse::Ok().json(view));
    }
    let csv =
        view.to_csv().map_err(|error| ApiError::Internal(format!("writing the report CSV: {error}")))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"summary-{from}-{to}.csv\""),
        ))
        .body(csv))
}

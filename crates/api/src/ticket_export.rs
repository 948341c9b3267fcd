//! The ticket list as CSV (`GET /v1/tickets` with `Accept: text/csv`): UTF-8 with a byte-order mark so
//! Excel in Japan reads it as UTF-8, a header row, then every matching ticket, read in keyset batches
//! inside `web::block` and streamed as each batch is written, so memory stays constant however many
//! rows there are. Personal columns (who called and how to reach them, the identifier they gave and the
//! free-text summary) go only to supervisors and admins; operators get the other columns.

use actix_web::http::header::{self, HeaderValue};
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use hotline_domain::clocks::{ReferralTimes, TicketTimes, is_overdue};
use hotline_domain::role::Role;
use hotline_domain::ticket_list::{TicketCursor, TicketListQuery};
use hotline_storage::queries::ticket_list::{Clocks, ExportRow, export_batch};

use crate::problem::ApiError;
use crate::state::AppState;

/// Rows read per database round trip.
const BATCH: i64 = 1000;

/// UTF-8 byte-order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Columns every role gets.
pub const COLUMNS: &[&str] = &[
    "reference",
    "id",
    "status",
    "priority",
    "category",
    "incident_kind",
    "prefecture",
    "prefecture_name",
    "institution_name",
    "verification",
    "assignee",
    "overdue",
    "open_referrals",
    "first_call_at",
    "created_at",
    "updated_at",
    "resolved_at",
    "closed_at",
];

/// Columns only supervisors and admins get: they name or reach a person, or are free text that may.
pub const PERSONAL_COLUMNS: &[&str] = &[
    "caller_name",
    "caller_role",
    "callback_phone",
    "member_name",
    "identifier_kind",
    "identifier_value",
    "summary",
];

/// The client asked for CSV.
pub fn wants_csv(request: &HttpRequest) -> bool {
    request
        .headers()
        .get_all(header::ACCEPT)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|media| media.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("text/csv")))
}

struct Export {
    state: web::Data<AppState>,
    query: TicketListQuery,
    personal: bool,
    now: DateTime<Utc>,
    cursor: Option<TicketCursor>,
    started: bool,
    done: bool,
}

/// The streamed CSV answer.
pub fn respond(
    state: web::Data<AppState>,
    query: TicketListQuery,
    role: Role,
    now: DateTime<Utc>,
) -> HttpResponse {
    let export = Export {
        state,
        cursor: query.cursor.clone(),
        query,
        personal: role.allows(Role::Supervisor),
        now,
        started: false,
        done: false,
    };
    let body = futures_util::stream::unfold(export, |mut export| async move {
        if export.done {
            return None;
        }
        let chunk = next_chunk(&mut export).await;
        if chunk.is_err() {
            export.done = true;
        }
        Some((chunk, export))
    });
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")))
        .insert_header((
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment; filename=\"tickets.csv\""),
        ))
        .streaming(body)
}

async fn next_chunk(export: &mut Export) -> Result<Bytes, actix_web::Error> {
    let storage = export.state.storage.clone();
    let (query, cursor, targets, now) =
        (export.query.clone(), export.cursor.clone(), export.state.config.sla, export.now);
    let (rows, next) = web::block(move || {
        storage.read(|conn| {
            export_batch(conn, &query, cursor.as_ref(), BATCH, Clocks { targets: &targets, now })
        })
    })
    .await
    .map_err(ApiError::from)?
    .map_err(|error| {
        tracing::error!(%error, "ticket export failed mid-stream");
        ApiError::from(error)
    })?;
    let mut out = Vec::with_capacity(rows.len() * 256 + 512);
    if !export.started {
        out.extend_from_slice(BOM);
    }
    {
        let mut writer = csv::Writer::from_writer(&mut out);
        if !export.started {
            let header = COLUMNS.iter().chain(if export.personal { PERSONAL_COLUMNS } else { &[] });
            writer.write_record(header).map_err(csv_error)?;
        }
        for row in &rows {
            writer.write_record(record(export, row)).map_err(csv_error)?;
        }
        writer.flush().map_err(|error| csv_error(error.into()))?;
    }
    export.started = true;
    export.done = next.is_none();
    export.cursor = next;
    Ok(Bytes::from(out))
}

fn csv_error(error: csv::Error) -> actix_web::Error {
    tracing::error!(%error, "ticket export could not write CSV");
    ApiError::Internal(error.to_string()).into()
}

fn record(export: &Export, row: &ExportRow) -> Vec<String> {
    let ctx = export.state.views(Role::Operator, export.now);
    let ticket = &row.ticket;
    let at = |value: Option<DateTime<Utc>>| value.map(|v| ctx.at(v).to_rfc3339()).unwrap_or_default();
    let times = TicketTimes {
        status: ticket.status,
        priority: ticket.priority,
        first_call_at: ticket.first_call_at,
        first_response_at: ticket.first_response_at,
        resolved_at: ticket.resolved_at,
    };
    let referrals: Vec<ReferralTimes> = row
        .referrals
        .iter()
        .map(|r| ReferralTimes {
            status: r.status,
            requested_at: r.requested_at,
            accepted_at: r.accepted_at,
            ended_at: r.ended_at,
        })
        .collect();
    let call = row.first_call.as_ref();
    let mut cells = vec![
        ticket.reference.clone(),
        ticket.id.to_string(),
        ticket.status.as_str().to_owned(),
        ticket.priority.map(|p| p.as_str().to_owned()).unwrap_or_default(),
        row.triage.map(|(c, _)| c.as_str().to_owned()).unwrap_or_default(),
        row.triage.map(|(_, k)| k.as_str().to_owned()).unwrap_or_default(),
        ticket.prefecture.code(),
        ticket.prefecture.name_ja().to_owned(),
        row.institution_name.clone().or_else(|| call.map(|c| c.institution_name.clone())).unwrap_or_default(),
        call.and_then(|c| c.verification).map(|v| v.as_str().to_owned()).unwrap_or_default(),
        ticket.assignee.map(|a| a.to_string()).unwrap_or_default(),
        is_overdue(ctx.sla, &times, &referrals, export.now).to_string(),
        row.referrals.iter().filter(|r| r.status.is_open()).count().to_string(),
        at(Some(ticket.first_call_at)),
        at(Some(ticket.created_at)),
        at(Some(ticket.updated_at)),
        at(ticket.resolved_at),
        at(ticket.closed_at),
    ];
    if export.personal {
        let field = |get: fn(&hotline_storage::queries::ticket_list::FirstCall) -> &str| {
            call.map(|c| get(c).to_owned()).unwrap_or_default()
        };
        cells.extend([
            field(|c| &c.caller_name),
            field(|c| &c.caller_role),
            field(|c| &c.callback_phone),
            field(|c| &c.member_name),
            field(|c| &c.identifier_kind),
            field(|c| &c.identifier_value),
            ticket.summary.clone(),
        ]);
    }
    cells
}

//! The incident facts of a ticket (cause, dates, reports made) that decide its support payment and its
//! regulatory deadlines: recorded as the case develops, a ticket change like any other (`If-Match`,
//! audited as `facts.recorded`). The domain checks the update (`FactsUpdate::parse`); storage writes the
//! facts and the deadlines computed from them in one transaction.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, post, web};
use chrono::{DateTime, FixedOffset, Utc};
use hotline_domain::incident_facts::{Cause, FactsUpdateForm, FieldPatch, PersonalDataLeak};
use hotline_storage::queries::incident_facts;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::change::TicketChange;
use crate::extract::JsonRequest;
use crate::precondition::{IfMatch, TicketPath};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::views::TicketView;

/// An update of the incident facts. Name only the facts that change: a fact left out keeps its value,
/// `null` clears it, a value sets it. Every fact is optional; partial facts are normal while a case
/// develops. Instants need an offset and cannot lie in the future.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FactsUpdateRequest {
    /// `cyber_attack` (including a leak caused by one), `leak_not_attack` or `other`.
    #[serde(default)]
    #[schema(value_type = Option<Cause>)]
    cause: FieldPatch<String>,
    /// `no`, `possible` (漏えいのおそれ) or `confirmed`.
    #[serde(default)]
    #[schema(value_type = Option<PersonalDataLeak>)]
    personal_data_leak: FieldPatch<String>,
    /// The attack stopped systems (EMR, ordering, billing).
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    systems_stopped: FieldPatch<bool>,
    /// When the incident happened; its date in Japan selects the rule set.
    #[serde(default)]
    #[schema(value_type = Option<DateTime<FixedOffset>>)]
    occurred_at: FieldPatch<DateTime<FixedOffset>>,
    /// When the institution became aware; starts the deadlines. Not before `occurred_at`.
    #[serde(default)]
    #[schema(value_type = Option<DateTime<FixedOffset>>)]
    aware_at: FieldPatch<DateTime<FixedOffset>>,
    /// Whole days closed because of the attack, 0–365 (stopping all new-patient consultations counts).
    #[serde(default)]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 365)]
    days_closed: FieldPatch<i64>,
    /// When the MHLW (厚生労働省) was notified.
    #[serde(default)]
    #[schema(value_type = Option<DateTime<FixedOffset>>)]
    mhlw_notified_at: FieldPatch<DateTime<FixedOffset>>,
    /// When the preliminary report (速報) went to the PPC.
    #[serde(default)]
    #[schema(value_type = Option<DateTime<FixedOffset>>)]
    ppc_preliminary_report_at: FieldPatch<DateTime<FixedOffset>>,
    /// When the final report (確報, with the recurrence-prevention measures) went to the PPC; not before
    /// the preliminary one.
    #[serde(default)]
    #[schema(value_type = Option<DateTime<FixedOffset>>)]
    ppc_final_report_at: FieldPatch<DateTime<FixedOffset>>,
    /// When the people whose data leaked were notified.
    #[serde(default)]
    #[schema(value_type = Option<DateTime<FixedOffset>>)]
    victims_notified_at: FieldPatch<DateTime<FixedOffset>>,
    /// The case was found to be an insider's doing (内部犯罪); distinct from triage's `insider_suspected`.
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    insider_finding: FieldPatch<bool>,
}

impl JsonRequest for FactsUpdateRequest {
    const FREE_TEXT: &'static [&'static str] = &[];
}

fn name(patch: &FieldPatch<String>) -> FieldPatch<&str> {
    match patch {
        FieldPatch::Keep => FieldPatch::Keep,
        FieldPatch::Clear => FieldPatch::Clear,
        FieldPatch::Set(value) => FieldPatch::Set(value.as_str()),
    }
}

fn instant(patch: FieldPatch<DateTime<FixedOffset>>) -> FieldPatch<DateTime<Utc>> {
    patch.map(|at| at.with_timezone(&Utc))
}

impl FactsUpdateRequest {
    /// The update as the domain reads it: names as given, instants in UTC.
    fn form(&self) -> FactsUpdateForm<'_> {
        FactsUpdateForm {
            cause: name(&self.cause),
            personal_data_leak: name(&self.personal_data_leak),
            systems_stopped: self.systems_stopped,
            occurred_at: instant(self.occurred_at),
            aware_at: instant(self.aware_at),
            days_closed: self.days_closed,
            mhlw_notified_at: instant(self.mhlw_notified_at),
            ppc_preliminary_report_at: instant(self.ppc_preliminary_report_at),
            ppc_final_report_at: instant(self.ppc_final_report_at),
            victims_notified_at: instant(self.victims_notified_at),
            insider_finding: self.insider_finding,
        }
    }
}

/// Record incident facts
///
/// Records what the case established: cause, leak, dates, days closed, reports made, an insider finding.
/// Every field error is reported at once (422). The ticket shows the facts, the regulatory deadlines
/// computed from them and where the support payment stands. An update that repeats what is recorded
/// writes nothing and keeps the version. Allowed in any ticket status: reports and payments often come
/// weeks after a ticket closed.
#[utoipa::path(
    tag = "tickets",
    operation_id = "recordIncidentFacts",
    security(("bearer" = ["operator"])),
    params(TicketPath, IfMatch),
    request_body = FactsUpdateRequest,
    responses((status = 200, description = "The ticket after the change, with its facts, deadlines and support payment.", body = TicketView,
        headers(("ETag" = String, description = "The new version (the same when nothing changed).")))),
)]
#[post("/tickets/{id}/facts")]
pub async fn record_facts(
    change: TicketChange<FactsUpdateRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (change, body) = change.split();
    change
        .run_case(
            &state,
            StatusCode::OK,
            move |conn, change, ctx| incident_facts::record(conn, change, &body.form(), ctx.deadline_policy),
            |ticket, _, _| ticket,
        )
        .await
}

//! The partner directory, and what a police handoff tells the operator about the desk.

use chrono::{DateTime, FixedOffset, Utc};
use hotline_domain::office_hours::{OfficeHours, day_name};
use hotline_domain::referral::ReferralKind;
use hotline_storage::queries::partners::PartnerRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::context::{PrefectureCodeView, ViewContext};
use crate::state::PoliceFallback;

/// When a partner answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OfficeHoursView {
    /// IANA zone of the times.
    #[schema(examples("Asia/Tokyo"))]
    pub time_zone: String,
    /// Opening time, `HH:MM`.
    #[schema(examples("08:30"))]
    pub open: String,
    /// Closing time, `HH:MM` (exclusive).
    #[schema(examples("17:15"))]
    pub close: String,
    /// Days it opens: `mon` … `sun`.
    pub days: Vec<String>,
    /// Closed on national holidays.
    pub closed_on_holidays: bool,
    /// Closed from 29 December to 3 January.
    pub closed_over_new_year: bool,
}

impl OfficeHoursView {
    /// Shows office hours.
    pub fn new(hours: &OfficeHours) -> Self {
        Self {
            time_zone: hours.time_zone.name().to_owned(),
            open: hours.open.format("%H:%M").to_string(),
            close: hours.close.format("%H:%M").to_string(),
            days: hours.days.iter().map(|day| day_name(*day).to_owned()).collect(),
            closed_on_holidays: hours.closed_on_holidays,
            closed_over_new_year: hours.closed_over_new_year,
        }
    }
}

/// A partner's office hours: its own on top of the police defaults.
pub fn office_hours_of(partner: &PartnerRecord, defaults: &OfficeHours) -> OfficeHours {
    partner.office_hours.as_ref().map_or_else(|| defaults.clone(), |own| own.apply(defaults))
}

/// A referral partner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PartnerView {
    /// Id.
    pub id: Uuid,
    /// Forensic vendor, law firm or police desk.
    pub kind: ReferralKind,
    /// Name.
    pub name: String,
    /// Addresses alerts go to.
    pub emails: Vec<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Covers every prefecture.
    pub nationwide: bool,
    /// Prefectures covered (a police desk: exactly one).
    pub prefectures: Vec<PrefectureCodeView>,
    /// When it answers.
    pub office_hours: OfficeHoursView,
    /// Inactive partners get no new referrals.
    pub active: bool,
    /// When created.
    pub created_at: DateTime<FixedOffset>,
    /// Last change.
    pub updated_at: DateTime<FixedOffset>,
}

impl PartnerView {
    /// Shows a partner.
    pub fn new(partner: &PartnerRecord, ctx: &ViewContext<'_>) -> Self {
        Self {
            id: partner.id,
            kind: partner.kind,
            name: partner.name.clone(),
            emails: partner.emails.clone(),
            phone: partner.phone.clone(),
            nationwide: partner.nationwide,
            prefectures: partner.prefectures.iter().map(|p| p.code()).collect(),
            office_hours: OfficeHoursView::new(&office_hours_of(partner, ctx.police_hours)),
            active: partner.active,
            created_at: ctx.at(partner.created_at),
            updated_at: ctx.at(partner.updated_at),
        }
    }
}

/// The directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PartnerList {
    /// Partners.
    pub partners: Vec<PartnerView>,
}

/// What the operator tells the caller about the police desk right now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PoliceDeskView {
    /// The desk's partner id.
    pub partner_id: Uuid,
    /// Its name.
    pub name: String,
    /// Its phone.
    pub phone: Option<String>,
    /// Open at the time of the handoff.
    pub open_now: bool,
    /// Why it is closed (a holiday's name, the New Year, the weekday, or outside office hours).
    pub closed_reason: Option<String>,
    /// When it opens next.
    pub next_open: Option<DateTime<FixedOffset>>,
    /// Its office hours.
    pub office_hours: OfficeHoursView,
    /// While it is closed: the urgent fallback to give the caller.
    pub urgent_fallback: Option<PoliceFallback>,
    /// What the police do, under the 2023 memorandum.
    pub context: String,
}

const MEMORANDUM: &str = "警察は、医療機関が緊急対応中であることに留意し、復旧への影響が最小限となるよう配慮した捜査を行います（日本医師会・警察庁サイバー警察局 覚書 2023）。 Under the 2023 memorandum the police investigate with minimal disruption to recovery and give technical advice.";

impl PoliceDeskView {
    /// The desk as it stands at `ctx.now`.
    pub fn new(partner: &PartnerRecord, ctx: &ViewContext<'_>) -> Self {
        let hours = office_hours_of(partner, ctx.police_hours);
        let now: DateTime<Utc> = ctx.now;
        let open_now = hours.is_open(now);
        let today = now.with_timezone(&hours.time_zone).date_naive();
        Self {
            partner_id: partner.id,
            name: partner.name.clone(),
            phone: partner.phone.clone(),
            open_now,
            closed_reason: (!open_now)
                .then(|| hours.closed_reason(today).unwrap_or_else(|| "outside office hours".to_owned())),
            next_open: ctx.at_opt(hours.next_open_after(now)),
            office_hours: OfficeHoursView::new(&hours),
            urgent_fallback: (!open_now).then(|| ctx.police_fallback.clone()),
            context: MEMORANDUM.to_owned(),
        }
    }
}

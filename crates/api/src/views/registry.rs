//! The member registry as operators search it, and the report of an import.

use chrono::NaiveDate;
use hotline_domain::institution::InstitutionKind;
use hotline_domain::registry::AffiliationRole;
use hotline_domain::verification::MemberClass;
use hotline_storage::queries::registry::{ImportCounts, ImportReport, MemberDetail};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::context::PrefectureCodeView;

/// An institution of a member, with the member's role there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MemberInstitutionView {
    /// Id.
    pub id: Uuid,
    /// The registry's stable key.
    pub institution_key: String,
    /// Name.
    pub name: String,
    /// Hospital, clinic, …
    pub kind: InstitutionKind,
    /// Prefecture code.
    pub prefecture: PrefectureCodeView,
    /// The prefecture's name.
    pub prefecture_name: String,
    /// Postal code `NNN-NNNN`.
    pub postal_code: String,
    /// Address.
    pub address: String,
    /// Phone.
    pub phone: String,
    /// 医療機関コード.
    pub institution_code: Option<String>,
    /// Founder, manager, or both.
    pub role: AffiliationRole,
    /// The day the member's link to it ended (a full-snapshot import no longer listed it); absent while
    /// it lasts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_on: Option<NaiveDate>,
}

/// A member of the association.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MemberView {
    /// Id.
    pub id: Uuid,
    /// 会員番号 (10 digits).
    pub member_number: String,
    /// 医籍登録番号.
    pub registration_number: Option<String>,
    /// Name.
    pub name: String,
    /// Kana reading.
    pub kana: Option<String>,
    /// Member class (A1 is eligible).
    pub member_class: MemberClass,
    /// Whether the member's institutions may use the hotline: an A1 member whose membership has not
    /// ended.
    pub eligible: bool,
    /// The day the membership ended (a full-snapshot import no longer listed the member); absent while
    /// it lasts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub membership_ended_on: Option<NaiveDate>,
    /// The member's institutions.
    pub institutions: Vec<MemberInstitutionView>,
}

impl MemberView {
    /// Shows a member.
    pub fn new(member: &MemberDetail) -> Self {
        Self {
            id: member.id,
            member_number: member.member_number.clone(),
            registration_number: member.registration_number.clone(),
            name: member.name.clone(),
            kana: member.kana.clone(),
            member_class: member.member_class,
            eligible: member.member_class.is_eligible() && member.membership_ended_on.is_none(),
            membership_ended_on: member.membership_ended_on,
            institutions: member
                .institutions
                .iter()
                .map(|institution| MemberInstitutionView {
                    id: institution.id,
                    institution_key: institution.institution_key.clone(),
                    name: institution.name.clone(),
                    kind: institution.kind,
                    prefecture: institution.prefecture.code(),
                    prefecture_name: institution.prefecture.name_ja().to_owned(),
                    postal_code: institution.postal_code.clone(),
                    address: institution.address.clone(),
                    phone: institution.phone.clone(),
                    institution_code: institution.institution_code.clone(),
                    role: institution.role,
                    ended_on: institution.ends_on,
                })
                .collect(),
        }
    }
}

/// Search results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MemberList {
    /// Members found.
    pub members: Vec<MemberView>,
}

/// Rows created, updated and left as they were.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImportCountsView {
    /// New rows.
    pub created: usize,
    /// Changed rows.
    pub updated: usize,
    /// Rows already as in the file.
    pub unchanged: usize,
    /// Members and links a snapshot no longer lists: their membership ends on the import date.
    pub ended: usize,
    /// Members and links listed again after their membership ended: re-opened on the import date (also
    /// counted as updated or unchanged).
    pub reopened: usize,
}

impl From<&ImportCounts> for ImportCountsView {
    fn from(counts: &ImportCounts) -> Self {
        Self {
            created: counts.created,
            updated: counts.updated,
            unchanged: counts.unchanged,
            ended: counts.ended,
            reopened: counts.reopened,
        }
    }
}

/// What a registry import changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImportReportView {
    /// Members.
    pub members: ImportCountsView,
    /// Institutions.
    pub institutions: ImportCountsView,
    /// Member–institution links.
    pub affiliations: ImportCountsView,
    /// The file was imported as a full snapshot of the roster.
    pub snapshot: bool,
    /// Nothing was written: the counts say what the import would do.
    pub dry_run: bool,
}

impl From<&ImportReport> for ImportReportView {
    fn from(report: &ImportReport) -> Self {
        Self {
            members: (&report.members).into(),
            institutions: (&report.institutions).into(),
            affiliations: (&report.affiliations).into(),
            snapshot: report.snapshot,
            dry_run: report.dry_run,
        }
    }
}

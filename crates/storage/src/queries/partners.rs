//! The partner directory as far as referrals need it: who covers a prefecture, whether they can be
//! reached by email, and the prefectural police desk that a police handoff goes to automatically.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use hotline_domain::office_hours::OfficeHoursOverride;
use hotline_domain::prefecture::PrefectureCode;
use hotline_domain::referral::ReferralKind;
use uuid::Uuid;

use crate::columns::{DbJson, DbOptJson, DbPrefecture, DbReferralKind, DbTime, DbUuid};
use crate::schema::{partner_prefectures, partners};
use crate::{DbConnection, MultiBackend, StorageError};

/// A partner as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerRecord {
    /// Row id.
    pub id: Uuid,
    /// Forensic, legal or police.
    pub kind: ReferralKind,
    /// Name.
    pub name: String,
    /// Addresses alerts go to.
    pub emails: Vec<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Covers every prefecture.
    pub nationwide: bool,
    /// Prefectures covered (police: exactly one).
    pub prefectures: Vec<PrefectureCode>,
    /// Its own office hours; `None` means the kind's defaults.
    pub office_hours: Option<OfficeHoursOverride>,
    /// Inactive partners get no new referrals.
    pub active: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl PartnerRecord {
    /// Whether the partner covers a prefecture.
    pub fn covers(&self, prefecture: PrefectureCode) -> bool {
        self.nationwide || self.prefectures.contains(&prefecture)
    }
}

/// A partner to create or the new state of one to update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerDraft {
    /// Kind.
    pub kind: ReferralKind,
    /// Name.
    pub name: String,
    /// Addresses.
    pub emails: Vec<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Nationwide coverage.
    pub nationwide: bool,
    /// Prefectures.
    pub prefectures: Vec<PrefectureCode>,
    /// Its own office hours.
    pub office_hours: Option<OfficeHoursOverride>,
    /// Active.
    pub active: bool,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = partners)]
#[diesel(check_for_backend(MultiBackend))]
struct PartnerRow {
    #[diesel(deserialize_as = DbUuid, serialize_as = DbUuid)]
    id: Uuid,
    #[diesel(deserialize_as = DbReferralKind, serialize_as = DbReferralKind)]
    kind: ReferralKind,
    name: String,
    #[diesel(deserialize_as = DbJson<Vec<String>>, serialize_as = DbJson<Vec<String>>)]
    emails: Vec<String>,
    phone: Option<String>,
    nationwide: bool,
    #[diesel(deserialize_as = DbOptJson<OfficeHoursOverride>, serialize_as = DbOptJson<OfficeHoursOverride>)]
    office_hours: Option<OfficeHoursOverride>,
    active: bool,
    #[diesel(deserialize_as = DbTime, serialize_as = DbTime)]
    created_at: DateTime<Utc>,
    #[diesel(deserialize_as = DbTime, serialize_as = DbTime)]
    updated_at: DateTime<Utc>,
}

/// Why a partner cannot be deleted.
#[derive(Debug, thiserror::Error)]
pub enum DeleteError {
    /// No such partner.
    #[error("partner not found")]
    NotFound,
    /// Police desks are reference rows, one per prefecture.
    #[error("police desks cannot be deleted")]
    PoliceDesk,
    /// Referrals point at it; it stays for the audit trail.
    #[error("the partner has {0} referral(s)")]
    HasReferrals(i64),
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<diesel::result::Error> for DeleteError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Storage(error.into())
    }
}

impl PartnerRow {
    fn into_record(self, prefectures: Vec<PrefectureCode>) -> PartnerRecord {
        PartnerRecord {
            id: self.id,
            kind: self.kind,
            name: self.name,
            emails: self.emails,
            phone: self.phone,
            nationwide: self.nationwide,
            prefectures,
            office_hours: self.office_hours,
            active: self.active,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

fn with_prefectures(
    conn: &mut DbConnection,
    rows: Vec<PartnerRow>,
) -> Result<Vec<PartnerRecord>, StorageError> {
    let ids: Vec<DbUuid> = rows.iter().map(|row| DbUuid(row.id)).collect();
    let mut coverage: std::collections::HashMap<Uuid, Vec<PrefectureCode>> = std::collections::HashMap::new();
    let pairs: Vec<(DbUuid, DbPrefecture)> = partner_prefectures::table
        .filter(partner_prefectures::partner_id.eq_any(&ids))
        .order(partner_prefectures::prefecture.asc())
        .select((partner_prefectures::partner_id, partner_prefectures::prefecture))
        .load(conn)?;
    for (partner, prefecture) in pairs {
        coverage.entry(partner.0).or_default().push(prefecture.0);
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let prefectures = coverage.remove(&row.id).unwrap_or_default();
            row.into_record(prefectures)
        })
        .collect())
}

/// One partner.
pub fn get(conn: &mut DbConnection, id: Uuid) -> Result<Option<PartnerRecord>, StorageError> {
    let rows: Vec<PartnerRow> =
        partners::table.filter(partners::id.eq(DbUuid(id))).select(PartnerRow::as_select()).load(conn)?;
    Ok(with_prefectures(conn, rows)?.pop())
}

/// Partners, optionally of one kind and covering one prefecture (nationwide ones included).
pub fn list(
    conn: &mut DbConnection,
    kind: Option<ReferralKind>,
    prefecture: Option<PrefectureCode>,
) -> Result<Vec<PartnerRecord>, StorageError> {
    let mut query = partners::table.select(PartnerRow::as_select()).into_boxed();
    if let Some(kind) = kind {
        query = query.filter(partners::kind.eq(DbReferralKind(kind)));
    }
    if let Some(prefecture) = prefecture {
        let covering = partner_prefectures::table
            .filter(partner_prefectures::prefecture.eq(DbPrefecture(prefecture)))
            .select(partner_prefectures::partner_id);
        query = query.filter(partners::nationwide.eq(true).or(partners::id.eq_any(covering)));
    }
    let rows = query.order((partners::kind.asc(), partners::name.asc())).load(conn)?;
    with_prefectures(conn, rows)
}

/// The police desk of a prefecture (reference rows shipped by the migrations). An active desk wins
/// over a deactivated one (a desk replaced by a new row); with none active, the first is returned so
/// that the refusal names it.
pub fn police_desk(
    conn: &mut DbConnection,
    prefecture: PrefectureCode,
) -> Result<Option<PartnerRecord>, StorageError> {
    let desks: Vec<PartnerRecord> = list(conn, Some(ReferralKind::Police), Some(prefecture))?
        .into_iter()
        .filter(|p| p.prefectures.contains(&prefecture))
        .collect();
    let chosen = desks.iter().position(|desk| desk.active).unwrap_or(0);
    Ok(desks.into_iter().nth(chosen))
}

/// Creates a partner.
pub fn create(
    conn: &mut DbConnection,
    draft: &PartnerDraft,
    now: DateTime<Utc>,
) -> Result<PartnerRecord, StorageError> {
    let id = Uuid::now_v7();
    let row = PartnerRow {
        id,
        kind: draft.kind,
        name: draft.name.clone(),
        emails: draft.emails.clone(),
        phone: draft.phone.clone(),
        nationwide: draft.nationwide,
        office_hours: draft.office_hours.clone(),
        active: draft.active,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(partners::table).values(row).execute(conn)?;
    replace_prefectures(conn, id, &draft.prefectures)?;
    get(conn, id)?.ok_or(StorageError::NotFound)
}

/// Replaces a partner's data.
pub fn update(
    conn: &mut DbConnection,
    id: Uuid,
    draft: &PartnerDraft,
    now: DateTime<Utc>,
) -> Result<PartnerRecord, StorageError> {
    let changed = diesel::update(partners::table.find(DbUuid(id)))
        .set((
            partners::name.eq(&draft.name),
            partners::emails.eq(DbJson(draft.emails.clone())),
            partners::phone.eq(&draft.phone),
            partners::nationwide.eq(draft.nationwide),
            partners::office_hours.eq(DbOptJson(draft.office_hours.clone())),
            partners::active.eq(draft.active),
            partners::updated_at.eq(DbTime::from(now)),
        ))
        .execute(conn)?;
    if changed == 0 {
        return Err(StorageError::NotFound);
    }
    replace_prefectures(conn, id, &draft.prefectures)?;
    get(conn, id)?.ok_or(StorageError::NotFound)
}

fn replace_prefectures(
    conn: &mut DbConnection,
    id: Uuid,
    prefectures: &[PrefectureCode],
) -> Result<(), StorageError> {
    diesel::delete(partner_prefectures::table.filter(partner_prefectures::partner_id.eq(DbUuid(id))))
        .execute(conn)?;
    for prefecture in prefectures {
        diesel::insert_into(partner_prefectures::table)
            .values((
                partner_prefectures::partner_id.eq(DbUuid(id)),
                partner_prefectures::prefecture.eq(DbPrefecture(*prefecture)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Deletes a forensic or legal partner that never received a referral (police desks are reference rows). One that did stays for the audit trail (referrals
/// point at it): deactivate it instead.
pub fn delete(conn: &mut DbConnection, id: Uuid) -> Result<(), DeleteError> {
    use crate::schema::referrals;
    let partner = get(conn, id)?.ok_or(DeleteError::NotFound)?;
    if partner.kind == ReferralKind::Police {
        return Err(DeleteError::PoliceDesk);
    }
    let used: i64 = referrals::table.filter(referrals::partner_id.eq(DbUuid(id))).count().get_result(conn)?;
    if used > 0 {
        return Err(DeleteError::HasReferrals(used));
    }
    diesel::delete(partner_prefectures::table.filter(partner_prefectures::partner_id.eq(DbUuid(id))))
        .execute(conn)?;
    let deleted = diesel::delete(partners::table.find(DbUuid(id))).execute(conn)?;
    if deleted == 0 {
        return Err(DeleteError::NotFound);
    }
    Ok(())
}

//! The member registry: idempotent imports (create or update by natural key, never duplicate, never
//! delete), the lookup verification needs, and the operators' search.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use hotline_domain::identifiers::Identifier;
use hotline_domain::institution::InstitutionKind;
use hotline_domain::prefecture::PrefectureCode;
use hotline_domain::registry::{AffiliationRole, RegistrySnapshot};
use hotline_domain::search::SearchQuery;
use hotline_domain::text::match_key;
use hotline_domain::verification::{MemberClass, MembershipPeriod, RegistryInstitution, RegistryMember};
use serde::Serialize;
use uuid::Uuid;

use crate::queries::{corrupt, parse_uuid, registry_search};
use crate::schema::{institutions, member_institutions, members, membership_periods};
use crate::{DbConnection, MultiBackend, Storage, StorageError, db_time};

/// Rows per multi-row INSERT; well under SQLite's bound-variable limit.
const INSERT_CHUNK: usize = 500;

/// How many rows an import created, changed or left as they were, and whose membership it ended or
/// re-opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportCounts {
    /// New rows.
    pub created: usize,
    /// Rows whose data changed.
    pub updated: usize,
    /// Rows already identical.
    pub unchanged: usize,
    /// Members and links a full snapshot no longer lists: their membership ends on the import date.
    pub ended: usize,
    /// Members and links listed again after their membership had ended: re-opened on the import date
    /// (also counted as updated or unchanged by their data).
    pub reopened: usize,
}

/// What an import did, per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Members by member number.
    pub members: ImportCounts,
    /// Institutions by institution key.
    pub institutions: ImportCounts,
    /// Member–institution links.
    pub affiliations: ImportCounts,
    /// The file was a full snapshot (what it leaves out ends).
    pub snapshot: bool,
    /// Nothing was written: the counts say what the import would do.
    pub dry_run: bool,
}

/// How an import treats what the file leaves out, and whether it writes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImportOptions {
    /// The file is the whole roster: members and links it does not list end on `today`.
    pub snapshot: bool,
    /// Work out the report, write nothing.
    pub dry_run: bool,
    /// End more than `max_end_share` of the active roster anyway.
    pub force: bool,
    /// Largest share (0–1) of the active members a snapshot may end without `force`.
    pub max_end_share: f64,
    /// The import's local date: ends and re-openings are dated with it.
    pub today: NaiveDate,
}

impl ImportOptions {
    /// An additive import (nothing ends), written, dated `today`.
    pub fn additive(today: NaiveDate) -> Self {
        ImportOptions { snapshot: false, dry_run: false, force: false, max_end_share: 1.0, today }
    }
}

/// A member with their institutions, for search results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberDetail {
    /// Row id.
    pub id: Uuid,
    /// 会員番号.
    pub member_number: String,
    /// 医籍登録番号.
    pub registration_number: Option<String>,
    /// Name.
    pub name: String,
    /// Kana.
    pub kana: Option<String>,
    /// Class.
    pub member_class: MemberClass,
    /// Institutions run (links that ended too, with their end).
    pub institutions: Vec<InstitutionDetail>,
    /// When the membership ended, if it has no open period (the latest end).
    pub membership_ended_on: Option<NaiveDate>,
}

/// An institution as search shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstitutionDetail {
    /// Row id.
    pub id: Uuid,
    /// Registry key.
    pub institution_key: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: InstitutionKind,
    /// Prefecture.
    pub prefecture: PrefectureCode,
    /// Postal code NNN-NNNN.
    pub postal_code: String,
    /// Address.
    pub address: String,
    /// Phone.
    pub phone: String,
    /// 医療機関コード.
    pub institution_code: Option<String>,
    /// The member's role there.
    pub role: AffiliationRole,
    /// The day the member's link to it ended (a full snapshot no longer listed it), if it did.
    pub ends_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = members)]
#[diesel(check_for_backend(MultiBackend))]
struct MemberRow {
    id: String,
    member_number: String,
    registration_number: Option<String>,
    name: String,
    kana: Option<String>,
    name_search: String,
    member_class: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = institutions)]
#[diesel(check_for_backend(MultiBackend))]
struct InstitutionRow {
    id: String,
    institution_key: String,
    name: String,
    name_search: String,
    kind: String,
    prefecture: String,
    postal_code: String,
    address: String,
    phone: String,
    institution_code: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = member_institutions)]
#[diesel(check_for_backend(MultiBackend))]
struct AffiliationRow {
    member_id: String,
    institution_id: String,
    role: String,
    ends_on: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = membership_periods)]
#[diesel(check_for_backend(MultiBackend))]
struct PeriodRow {
    id: String,
    member_id: String,
    starts_on: Option<String>,
    ends_on: Option<String>,
}

/// A local day as stored: YYYY-MM-DD, which sorts as it compares.
fn day_text(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

fn parse_day(column: &str, text: &str) -> Result<NaiveDate, StorageError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| corrupt(column, text))
}

impl MemberRow {
    /// The data columns, for "did anything change?".
    fn data(&self) -> (&Option<String>, &str, &Option<String>, &str) {
        (&self.registration_number, &self.name, &self.kana, &self.member_class)
    }
}

impl InstitutionRow {
    fn data(&self) -> (&str, &str, &str, &str, &str, &str, &Option<String>) {
        (
            &self.name,
            &self.kind,
            &self.prefecture,
            &self.postal_code,
            &self.address,
            &self.phone,
            &self.institution_code,
        )
    }
}

/// The search key of a member: name and kana, so either finds them.
fn member_search_key(name: &str, kana: Option<&str>) -> String {
    match kana {
        Some(kana) => format!("{}|{}", match_key(name), match_key(kana)),
        None => match_key(name),
    }
}

/// Why an import was refused; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Registration numbers the file gives to one member but the registry holds for another member
    /// the file does not mention: (member in the file, registration number, member holding it).
    #[error("{} registration number(s) belong to members not in the file", .0.len())]
    RegistrationTaken(Vec<(String, String, String)>),
    /// A full snapshot that would end more than the allowed share of the active roster, unforced.
    #[error(
        "the snapshot would end {ending} of {active} active memberships, more than the allowed share of {max_share}; check the file, or force the import"
    )]
    TooManyEnded {
        /// Memberships it would end.
        ending: usize,
        /// Active memberships before the import.
        active: usize,
        /// The configured largest share.
        max_share: f64,
    },
    /// A dry run finished: what the import would have done; the transaction is rolled back.
    #[error("dry run")]
    DryRun(Box<ImportReport>),
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<diesel::result::Error> for ImportError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Storage(error.into())
    }
}

/// Which part of the registry an import is writing, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportStage {
    /// Members, by member number.
    Members,
    /// Institutions, by institution key.
    Institutions,
    /// Member–institution links.
    Affiliations,
    /// Ending the memberships and links a full snapshot leaves out.
    Ending,
    /// The search index of the members whose data changed.
    SearchIndex,
}

impl ImportStage {
    /// What a progress bar says.
    pub fn label(self) -> &'static str {
        match self {
            Self::Members => "members",
            Self::Institutions => "institutions",
            Self::Affiliations => "links",
            Self::Ending => "ending",
            Self::SearchIndex => "search index",
        }
    }
}

/// How far an import has come: `done` of `total` rows of `stage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportProgress {
    /// The part being written.
    pub stage: ImportStage,
    /// Rows of it handled so far.
    pub done: usize,
    /// Rows of it in all.
    pub total: usize,
}

/// Imports a checked registry file in the caller's transaction. Rows are matched by member number,
/// institution key and (member, institution); a second import of the same file changes nothing.
/// With `options.snapshot`, members and links the file leaves out end on `options.today`; a dry run
/// answers [`ImportError::DryRun`] with the report, so the caller's transaction rolls back (see
/// [`import_into`], which turns it into the report).
pub fn import(
    conn: &mut DbConnection,
    snapshot: &RegistrySnapshot,
    now: DateTime<Utc>,
    actor: Option<Uuid>,
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    import_with_progress(conn, snapshot, now, actor, options, &mut |_| {})
}

/// Runs [`import_with_progress`] in a write transaction of its own; a dry run's transaction is rolled
/// back and its report returned.
pub fn import_into(
    storage: &Storage,
    snapshot: &RegistrySnapshot,
    now: DateTime<Utc>,
    actor: Option<Uuid>,
    options: &ImportOptions,
    progress: &mut dyn FnMut(ImportProgress),
) -> Result<ImportReport, ImportError> {
    match storage.write(|conn| import_with_progress(conn, snapshot, now, actor, options, progress)) {
        Err(ImportError::DryRun(report)) => Ok(*report),
        other => other,
    }
}

/// [`import`], telling `progress` after every chunk of rows. The file is compared with the database
/// chunk by chunk ([`INSERT_CHUNK`] rows at a time, each looked up by its key), so memory holds the
/// parsed file and two id maps, never a second copy of the registry (82,700 members imported in
/// under 150 MiB, docs/benchmarks.md).
pub fn import_with_progress(
    conn: &mut DbConnection,
    snapshot: &RegistrySnapshot,
    now: DateTime<Utc>,
    actor: Option<Uuid>,
    options: &ImportOptions,
    progress: &mut dyn FnMut(ImportProgress),
) -> Result<ImportReport, ImportError> {
    let today = day_text(options.today);
    let active_before: i64 =
        membership_periods::table.filter(membership_periods::ends_on.is_null()).count().get_result(conn)?;
    let now = db_time(now);
    let mut report =
        ImportReport { snapshot: options.snapshot, dry_run: options.dry_run, ..ImportReport::default() };
    check_registration_numbers(conn, snapshot)?;
    free_changing_registration_numbers(conn, snapshot)?;
    // Members whose search rows must be rewritten: their own row, an institution or a link changed.
    let mut reindex: HashSet<String> = HashSet::new();

    let total = snapshot.members.len();
    let mut member_ids: HashMap<&str, String> = HashMap::with_capacity(total);
    for (index, chunk) in snapshot.members.chunks(INSERT_CHUNK).enumerate() {
        let numbers: Vec<&str> = chunk.iter().map(|m| m.member_number.as_str()).collect();
        let existing: HashMap<String, MemberRow> = members::table
            .filter(members::member_number.eq_any(&numbers))
            .select(MemberRow::as_select())
            .load(conn)?
            .into_iter()
            .map(|row| (row.member_number.clone(), row))
            .collect();
        let existing_ids: Vec<&str> = existing.values().map(|row| row.id.as_str()).collect();
        let open: HashSet<String> = membership_periods::table
            .filter(membership_periods::member_id.eq_any(&existing_ids))
            .filter(membership_periods::ends_on.is_null())
            .select(membership_periods::member_id)
            .load(conn)?
            .into_iter()
            .collect();
        let mut new_members = Vec::new();
        let mut new_periods = Vec::new();
        for record in chunk {
            let wanted = MemberRow {
                id: Uuid::now_v7().to_string(),
                member_number: record.member_number.as_str().to_owned(),
                registration_number: record.registration_number.as_ref().map(|n| n.as_str().to_owned()),
                name: record.name.as_str().to_owned(),
                kana: record.kana.clone(),
                name_search: member_search_key(record.name.as_str(), record.kana.as_deref()),
                member_class: record.member_class.as_str().to_owned(),
                created_at: now,
                updated_at: now,
            };
            let id = match existing.get(&wanted.member_number) {
                Some(current) if current.data() == wanted.data() => {
                    report.members.unchanged += 1;
                    current.id.clone()
                }
                Some(current) => {
                    diesel::update(members::table.find(&current.id))
                        .set((
                            members::registration_number.eq(&wanted.registration_number),
                            members::name.eq(&wanted.name),
                            members::kana.eq(&wanted.kana),
                            members::name_search.eq(&wanted.name_search),
                            members::member_class.eq(&wanted.member_class),
                            members::updated_at.eq(now),
                        ))
                        .execute(conn)?;
                    report.members.updated += 1;
                    reindex.insert(current.id.clone());
                    current.id.clone()
                }
                None => {
                    report.members.created += 1;
                    reindex.insert(wanted.id.clone());
                    let id = wanted.id.clone();
                    // A new member's first period has no start: the roster does not say since when.
                    new_periods.push(PeriodRow {
                        id: Uuid::now_v7().to_string(),
                        member_id: id.clone(),
                        starts_on: None,
                        ends_on: None,
                    });
                    new_members.push(wanted);
                    id
                }
            };
            if existing.contains_key(record.member_number.as_str()) && !open.contains(&id) {
                report.members.reopened += 1;
                new_periods.push(PeriodRow {
                    id: Uuid::now_v7().to_string(),
                    member_id: id.clone(),
                    starts_on: Some(today.clone()),
                    ends_on: None,
                });
            }
            member_ids.insert(record.member_number.as_str(), id);
        }
        insert_members(conn, &new_members)?;
        insert_periods(conn, &new_periods)?;
        let done = (index * INSERT_CHUNK + chunk.len()).min(total);
        progress(ImportProgress { stage: ImportStage::Members, done, total });
    }

    let total = snapshot.institutions.len();
    let mut institution_ids: HashMap<&str, String> = HashMap::with_capacity(total);
    let mut changed_institutions: Vec<String> = Vec::new();
    for (index, chunk) in snapshot.institutions.chunks(INSERT_CHUNK).enumerate() {
        let keys: Vec<&str> = chunk.iter().map(|i| i.institution_key.as_str()).collect();
        let existing: HashMap<String, InstitutionRow> = institutions::table
            .filter(institutions::institution_key.eq_any(&keys))
            .select(InstitutionRow::as_select())
            .load(conn)?
            .into_iter()
            .map(|row| (row.institution_key.clone(), row))
            .collect();
        let mut new_institutions = Vec::new();
        for record in chunk {
            let wanted = InstitutionRow {
                id: Uuid::now_v7().to_string(),
                institution_key: record.institution_key.clone(),
                name: record.name.as_str().to_owned(),
                name_search: match_key(record.name.as_str()),
                kind: record.kind.as_str().to_owned(),
                prefecture: record.prefecture.code(),
                postal_code: record.postal_code.to_string(),
                address: record.address.clone(),
                phone: record.phone.as_str().to_owned(),
                institution_code: record.institution_code.as_ref().map(|code| code.as_str().to_owned()),
                created_at: now,
                updated_at: now,
            };
            let id = match existing.get(&wanted.institution_key) {
                Some(current) if current.data() == wanted.data() => {
                    report.institutions.unchanged += 1;
                    current.id.clone()
                }
                Some(current) => {
                    diesel::update(institutions::table.find(&current.id))
                        .set((
                            institutions::name.eq(&wanted.name),
                            institutions::name_search.eq(&wanted.name_search),
                            institutions::kind.eq(&wanted.kind),
                            institutions::prefecture.eq(&wanted.prefecture),
                            institutions::postal_code.eq(&wanted.postal_code),
                            institutions::address.eq(&wanted.address),
                            institutions::phone.eq(&wanted.phone),
                            institutions::institution_code.eq(&wanted.institution_code),
                            institutions::updated_at.eq(now),
                        ))
                        .execute(conn)?;
                    report.institutions.updated += 1;
                    changed_institutions.push(current.id.clone());
                    current.id.clone()
                }
                None => {
                    report.institutions.created += 1;
                    let id = wanted.id.clone();
                    new_institutions.push(wanted);
                    id
                }
            };
            institution_ids.insert(record.institution_key.as_str(), id);
        }
        insert_institutions(conn, &new_institutions)?;
        let done = (index * INSERT_CHUNK + chunk.len()).min(total);
        progress(ImportProgress { stage: ImportStage::Institutions, done, total });
    }

    let total = snapshot.affiliations.len();
    let mut seen: HashSet<(&str, &str)> = HashSet::with_capacity(total);
    for (index, chunk) in snapshot.affiliations.chunks(INSERT_CHUNK).enumerate() {
        let mut pairs = Vec::with_capacity(chunk.len());
        for affiliation in chunk {
            let (Some(member_id), Some(institution_id)) = (
                member_ids.get(affiliation.member_number.as_str()),
                institution_ids.get(affiliation.institution_key.as_str()),
            ) else {
                return Err(StorageError::Other(
                    "registry snapshot links an unknown member or institution".into(),
                )
                .into());
            };
            if seen.insert((member_id.as_str(), institution_id.as_str())) {
                pairs.push((member_id, institution_id, affiliation.role.as_str()));
            }
        }
        let chunk_members: Vec<&str> = pairs.iter().map(|(member_id, _, _)| member_id.as_str()).collect();
        let existing: HashMap<(String, String), (String, Option<String>)> = member_institutions::table
            .filter(member_institutions::member_id.eq_any(&chunk_members))
            .select(AffiliationRow::as_select())
            .load(conn)?
            .into_iter()
            .map(|row| ((row.member_id, row.institution_id), (row.role, row.ends_on)))
            .collect();
        let mut new_links = Vec::new();
        for (member_id, institution_id, role) in pairs {
            match existing.get(&(member_id.clone(), institution_id.clone())) {
                Some((current, ends_on)) => {
                    if current == role {
                        report.affiliations.unchanged += 1;
                    } else {
                        report.affiliations.updated += 1;
                    }
                    if ends_on.is_some() {
                        report.affiliations.reopened += 1;
                    }
                    if current != role || ends_on.is_some() {
                        diesel::update(member_institutions::table.find((member_id, institution_id)))
                            .set((
                                member_institutions::role.eq(role),
                                member_institutions::ends_on.eq(None::<String>),
                            ))
                            .execute(conn)?;
                    }
                }
                None => {
                    report.affiliations.created += 1;
                    reindex.insert(member_id.clone());
                    new_links.push(AffiliationRow {
                        member_id: member_id.clone(),
                        institution_id: institution_id.clone(),
                        role: role.to_owned(),
                        ends_on: None,
                    });
                }
            }
        }
        insert_affiliations(conn, &new_links)?;
        let done = (index * INSERT_CHUNK + chunk.len()).min(total);
        progress(ImportProgress { stage: ImportStage::Affiliations, done, total });
    }
    if options.snapshot {
        end_absent(conn, snapshot, &seen, active_before, options, &mut report, progress)?;
    }
    drop(seen);
    drop(member_ids);
    drop(institution_ids);
    if options.dry_run {
        return Err(ImportError::DryRun(Box::new(report)));
    }

    // Members of a changed institution, also through links this file does not mention.
    for chunk in changed_institutions.chunks(INSERT_CHUNK) {
        let linked: Vec<String> = member_institutions::table
            .filter(member_institutions::institution_id.eq_any(chunk))
            .select(member_institutions::member_id)
            .load(conn)?;
        reindex.extend(linked);
    }
    let mut reindex: Vec<String> = reindex.into_iter().collect();
    reindex.sort_unstable();
    let total = reindex.len();
    for (index, chunk) in reindex.chunks(INSERT_CHUNK).enumerate() {
        registry_search::refresh_members(conn, chunk)?;
        let done = (index * INSERT_CHUNK + chunk.len()).min(total);
        progress(ImportProgress { stage: ImportStage::SearchIndex, done, total });
    }
    // A roster import changes most of these tables at once: give PostgreSQL's planner their new
    // statistics now rather than at autovacuum's next pass, or the first searches after an import are
    // planned for empty tables (measured: 44 instead of 370 searches/s, docs/benchmarks.md). SQLite plans
    // these queries from its indexes alone.
    let changed = report.members.created
        + report.members.updated
        + report.institutions.created
        + report.institutions.updated
        + report.affiliations.created;
    if changed > 0 {
        if let DbConnection::Postgresql(pg) = conn {
            diesel::sql_query("ANALYZE members, institutions, member_institutions, registry_search")
                .execute(pg)?;
        }
    }
    tracing::info!(
        actor = ?actor,
        members_created = report.members.created,
        members_updated = report.members.updated,
        institutions_created = report.institutions.created,
        institutions_updated = report.institutions.updated,
        members_ended = report.members.ended,
        members_reopened = report.members.reopened,
        affiliations_ended = report.affiliations.ended,
        snapshot = report.snapshot,
        "registry imported"
    );
    Ok(report)
}

/// Ends, on the import date, the open membership of every member the snapshot leaves out and every
/// open link it leaves out; refuses (unless forced) to end more than the allowed share of the members
/// active before the import.
fn end_absent(
    conn: &mut DbConnection,
    snapshot: &RegistrySnapshot,
    listed_links: &HashSet<(&str, &str)>,
    active_before: i64,
    options: &ImportOptions,
    report: &mut ImportReport,
    progress: &mut dyn FnMut(ImportProgress),
) -> Result<(), ImportError> {
    let today = day_text(options.today);
    let listed: HashSet<&str> = snapshot.members.iter().map(|m| m.member_number.as_str()).collect();
    let ending: Vec<String> = membership_periods::table
        .inner_join(members::table)
        .filter(membership_periods::ends_on.is_null())
        .select((membership_periods::id, members::member_number))
        .load::<(String, String)>(conn)?
        .into_iter()
        .filter(|(_, number)| !listed.contains(number.as_str()))
        .map(|(period, _)| period)
        .collect();
    let active = usize::try_from(active_before).unwrap_or(0);
    #[allow(clippy::cast_precision_loss)] // rosters are far below 2^52 members
    let share = if active == 0 { 0.0 } else { ending.len() as f64 / active as f64 };
    if share > options.max_end_share && !options.force {
        return Err(ImportError::TooManyEnded {
            ending: ending.len(),
            active,
            max_share: options.max_end_share,
        });
    }
    let total = ending.len();
    for (index, chunk) in ending.chunks(INSERT_CHUNK).enumerate() {
        diesel::update(membership_periods::table.filter(membership_periods::id.eq_any(chunk)))
            .set(membership_periods::ends_on.eq(&today))
            .execute(conn)?;
        let done = (index * INSERT_CHUNK + chunk.len()).min(total);
        progress(ImportProgress { stage: ImportStage::Ending, done, total });
    }
    report.members.ended = total;

    let open_links: Vec<(String, String)> = member_institutions::table
        .filter(member_institutions::ends_on.is_null())
        .select((member_institutions::member_id, member_institutions::institution_id))
        .load(conn)?;
    for (member_id, institution_id) in open_links {
        if !listed_links.contains(&(member_id.as_str(), institution_id.as_str())) {
            diesel::update(member_institutions::table.find((&member_id, &institution_id)))
                .set(member_institutions::ends_on.eq(&today))
                .execute(conn)?;
            report.affiliations.ended += 1;
        }
    }
    Ok(())
}

/// Refuses a file that gives a member a registration number another member keeps (one the file does
/// not mention, so its number stays). Reads only the holders of the file's numbers, chunk by chunk.
fn check_registration_numbers(
    conn: &mut DbConnection,
    snapshot: &RegistrySnapshot,
) -> Result<(), ImportError> {
    let in_file: HashSet<&str> = snapshot.members.iter().map(|m| m.member_number.as_str()).collect();
    let wanted: Vec<(&str, &str)> = snapshot
        .members
        .iter()
        .filter_map(|m| m.registration_number.as_ref().map(|r| (r.as_str(), m.member_number.as_str())))
        .collect();
    let mut taken = Vec::new();
    for chunk in wanted.chunks(INSERT_CHUNK) {
        let numbers: Vec<&str> = chunk.iter().map(|(registration, _)| *registration).collect();
        let holders: HashMap<String, String> = members::table
            .filter(members::registration_number.eq_any(&numbers))
            .select((members::registration_number.assume_not_null(), members::member_number))
            .load::<(String, String)>(conn)?
            .into_iter()
            .filter(|(_, holder)| !in_file.contains(holder.as_str()))
            .collect();
        for (registration, member) in chunk {
            if let Some(holder) = holders.get(*registration) {
                taken.push(((*member).to_owned(), (*registration).to_owned(), holder.clone()));
            }
        }
    }
    if taken.is_empty() { Ok(()) } else { Err(ImportError::RegistrationTaken(taken)) }
}

/// Frees the registration numbers that change hands before any is assigned, so two members may swap
/// numbers in one file without tripping the unique index midway.
fn free_changing_registration_numbers(
    conn: &mut DbConnection,
    snapshot: &RegistrySnapshot,
) -> Result<(), StorageError> {
    for chunk in snapshot.members.chunks(INSERT_CHUNK) {
        let numbers: Vec<&str> = chunk.iter().map(|m| m.member_number.as_str()).collect();
        let current: HashMap<String, (String, Option<String>)> = members::table
            .filter(members::member_number.eq_any(&numbers))
            .select((members::member_number, members::id, members::registration_number))
            .load::<(String, String, Option<String>)>(conn)?
            .into_iter()
            .map(|(number, id, registration)| (number, (id, registration)))
            .collect();
        let freed: Vec<&str> = chunk
            .iter()
            .filter_map(|record| {
                let (id, registration) = current.get(record.member_number.as_str())?;
                let wanted = record.registration_number.as_ref().map(|n| n.as_str());
                (registration.is_some() && registration.as_deref() != wanted).then_some(id.as_str())
            })
            .collect();
        if !freed.is_empty() {
            diesel::update(members::table.filter(members::id.eq_any(&freed)))
                .set(members::registration_number.eq(None::<String>))
                .execute(conn)?;
        }
    }
    Ok(())
}

// Multi-row INSERT does not compile through the multi-connection, so each dialect gets its arm.
fn insert_members(conn: &mut DbConnection, rows: &[MemberRow]) -> Result<(), StorageError> {
    for chunk in rows.chunks(INSERT_CHUNK) {
        match conn {
            DbConnection::Postgresql(pg) => diesel::insert_into(members::table).values(chunk).execute(pg)?,
            DbConnection::Sqlite(lite) => diesel::insert_into(members::table).values(chunk).execute(lite)?,
        };
    }
    Ok(())
}

fn insert_periods(conn: &mut DbConnection, rows: &[PeriodRow]) -> Result<(), StorageError> {
    for chunk in rows.chunks(INSERT_CHUNK) {
        match conn {
            DbConnection::Postgresql(pg) => {
                diesel::insert_into(membership_periods::table).values(chunk).execute(pg)?
            }
            DbConnection::Sqlite(lite) => {
                diesel::insert_into(membership_periods::table).values(chunk).execute(lite)?
            }
        };
    }
    Ok(())
}

fn insert_institutions(conn: &mut DbConnection, rows: &[InstitutionRow]) -> Result<(), StorageError> {
    for chunk in rows.chunks(INSERT_CHUNK) {
        match conn {
            DbConnection::Postgresql(pg) => {
                diesel::insert_into(institutions::table).values(chunk).execute(pg)?
            }
            DbConnection::Sqlite(lite) => {
                diesel::insert_into(institutions::table).values(chunk).execute(lite)?
            }
        };
    }
    Ok(())
}

fn insert_affiliations(conn: &mut DbConnection, rows: &[AffiliationRow]) -> Result<(), StorageError> {
    for chunk in rows.chunks(INSERT_CHUNK) {
        match conn {
            DbConnection::Postgresql(pg) => {
                diesel::insert_into(member_institutions::table).values(chunk).execute(pg)?
            }
            DbConnection::Sqlite(lite) => {
                diesel::insert_into(member_institutions::table).values(chunk).execute(lite)?
            }
        };
    }
    Ok(())
}

/// The member a caller's identifier names, with their institutions, ready for verification.
pub fn member_for_identifier(
    conn: &mut DbConnection,
    identifier: &Identifier,
) -> Result<Option<RegistryMember>, StorageError> {
    let query = members::table.select(MemberRow::as_select());
    let row = match identifier {
        Identifier::Member(number) => {
            query.filter(members::member_number.eq(number.as_str())).first(conn).optional()?
        }
        Identifier::Registration(number) => {
            query.filter(members::registration_number.eq(number.as_str())).first(conn).optional()?
        }
    };
    let Some(row) = row else { return Ok(None) };
    let institutions = institutions_of(conn, std::slice::from_ref(&row.id))?;
    let member_class = MemberClass::parse(&row.member_class)
        .map_err(|_| corrupt("members.member_class", &row.member_class))?;
    let periods = membership_periods::table
        .filter(membership_periods::member_id.eq(&row.id))
        .select(PeriodRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|period| {
            Ok(MembershipPeriod {
                starts_on: period
                    .starts_on
                    .as_deref()
                    .map(|day| parse_day("membership_periods.starts_on", day))
                    .transpose()?,
                ends_on: period
                    .ends_on
                    .as_deref()
                    .map(|day| parse_day("membership_periods.ends_on", day))
                    .transpose()?,
            })
        })
        .collect::<Result<Vec<_>, StorageError>>()?;
    Ok(Some(RegistryMember {
        id: parse_uuid("members.id", &row.id)?,
        name: row.name,
        kana: row.kana,
        member_class,
        institutions: institutions
            .into_iter()
            .map(|(_, institution)| RegistryInstitution {
                id: institution.id,
                name: institution.name,
                prefecture: institution.prefecture,
                address: institution.address,
                ends_on: institution.ends_on,
            })
            .collect(),
        periods,
    }))
}

fn institutions_of(
    conn: &mut DbConnection,
    member_ids: &[String],
) -> Result<Vec<(String, InstitutionDetail)>, StorageError> {
    let rows: Vec<(String, String, Option<String>, InstitutionRow)> = member_institutions::table
        .inner_join(institutions::table)
        .filter(member_institutions::member_id.eq_any(member_ids))
        .order(institutions::name.asc())
        .select((
            member_institutions::member_id,
            member_institutions::role,
            member_institutions::ends_on,
            InstitutionRow::as_select(),
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(member_id, role, ends_on, row)| {
            let detail = InstitutionDetail {
                id: parse_uuid("institutions.id", &row.id)?,
                kind: InstitutionKind::parse(&row.kind)
                    .map_err(|_| corrupt("institutions.kind", &row.kind))?,
                prefecture: PrefectureCode::parse(&row.prefecture)
                    .map_err(|_| corrupt("institutions.prefecture", &row.prefecture))?,
                role: AffiliationRole::parse(&role)
                    .map_err(|_| corrupt("member_institutions.role", &role))?,
                ends_on: ends_on
                    .as_deref()
                    .map(|day| parse_day("member_institutions.ends_on", day))
                    .transpose()?,
                institution_key: row.institution_key,
                name: row.name,
                postal_code: row.postal_code,
                address: row.address,
                phone: row.phone,
                institution_code: row.institution_code,
            };
            Ok((member_id, detail))
        })
        .collect()
}

/// The members among `member_ids` without an open membership period, with their latest end.
fn ended_memberships(
    conn: &mut DbConnection,
    member_ids: &[String],
) -> Result<HashMap<String, NaiveDate>, StorageError> {
    let periods: Vec<(String, Option<String>)> = membership_periods::table
        .filter(membership_periods::member_id.eq_any(member_ids))
        .select((membership_periods::member_id, membership_periods::ends_on))
        .load(conn)?;
    let mut open: HashSet<String> = HashSet::new();
    let mut ended: HashMap<String, NaiveDate> = HashMap::new();
    for (member_id, ends_on) in periods {
        match ends_on {
            None => {
                open.insert(member_id);
            }
            Some(day) => {
                let day = parse_day("membership_periods.ends_on", &day)?;
                let latest = ended.entry(member_id).or_insert(day);
                *latest = (*latest).max(day);
            }
        }
    }
    ended.retain(|member_id, _| !open.contains(member_id));
    Ok(ended)
}

/// Operators' lookup, ranked: exact identifier, then a key that starts with the text, then one that
/// contains it (see [`crate::queries::registry_search`] for which keys and indexes).
pub fn search(conn: &mut DbConnection, text: &str, limit: i64) -> Result<Vec<MemberDetail>, StorageError> {
    let Some(query) = SearchQuery::parse(text) else { return Ok(Vec::new()) };
    let rows: Vec<MemberRow> = registry_search::ranked(conn, &query, limit)?;
    let ids: Vec<String> = rows.iter().map(|row| row.id.clone()).collect();
    let mut by_member: HashMap<String, Vec<InstitutionDetail>> = HashMap::new();
    for (member_id, institution) in institutions_of(conn, &ids)? {
        by_member.entry(member_id).or_default().push(institution);
    }
    let ended = ended_memberships(conn, &ids)?;
    rows.into_iter()
        .map(|row| {
            Ok(MemberDetail {
                id: parse_uuid("members.id", &row.id)?,
                member_class: MemberClass::parse(&row.member_class)
                    .map_err(|_| corrupt("members.member_class", &row.member_class))?,
                institutions: by_member.remove(&row.id).unwrap_or_default(),
                membership_ended_on: ended.get(&row.id).copied(),
                member_number: row.member_number,
                registration_number: row.registration_number,
                name: row.name,
                kana: row.kana,
            })
        })
        .collect()
}

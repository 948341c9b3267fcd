//! Personal data under the APPI (docs/data-protection.md): the access log of who read which ticket's
//! personal data, and the anonymisation of a ticket's caller contact data — every value replaced by the
//! marker ([`ANONYMISED`]), rows kept, one `personal_data.anonymised` event per ticket without the erased
//! values. Replacing only what is not the marker yet makes a second run change nothing.

use chrono::{DateTime, Utc};
use diesel::dsl::exists;
use diesel::prelude::*;
use hotline_domain::audit::{PersonalDataAnonymised, TicketEvent};
use hotline_domain::privacy::{ANONYMISED, AccessKind, AnonymisationBasis, DataClass, PersonQuery};
use hotline_domain::ticket::TicketStatus;
use uuid::Uuid;

use crate::columns::{DbAccessKind, DbTicketStatus, DbTime, DbUuid};
use crate::queries::calls::{self as call_queries, CallRecord};
use crate::queries::records::{CallbackRecord, NoteRecord};
use crate::queries::tickets::{self as ticket_queries, TicketKey};
use crate::queries::{audit, callbacks as callback_queries};
use crate::schema::{
    api_tokens, callbacks, calls, personal_data_access, referrals, ticket_event_texts, ticket_notes, tickets,
};
use crate::{DbConnection, MultiBackend, StorageError};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = personal_data_access)]
#[diesel(check_for_backend(MultiBackend))]
struct AccessRow {
    #[diesel(deserialize_as = DbUuid, serialize_as = DbUuid)]
    id: Uuid,
    #[diesel(deserialize_as = DbUuid, serialize_as = DbUuid)]
    token_id: Uuid,
    #[diesel(deserialize_as = DbUuid, serialize_as = DbUuid)]
    ticket_id: Uuid,
    #[diesel(deserialize_as = DbAccessKind, serialize_as = DbAccessKind)]
    what: AccessKind,
    #[diesel(deserialize_as = DbTime, serialize_as = DbTime)]
    read_at: DateTime<Utc>,
}

/// One read of a ticket's personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRecord {
    /// Row id (UUID v7).
    pub id: Uuid,
    /// The token that read.
    pub token_id: Uuid,
    /// Its name.
    pub token_name: String,
    /// The ticket read.
    pub ticket_id: Uuid,
    /// Its reference.
    pub ticket_reference: String,
    /// What the response showed.
    pub what: AccessKind,
    /// When.
    pub read_at: DateTime<Utc>,
}

/// One read of a ticket's personal data, waiting to be recorded (the API queues them and writes them
/// in batches, see `hotline_api::access_log`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewAccess {
    /// Row id (UUID v7), taken at the read: entries of the same instant keep the order of their reads.
    pub id: Uuid,
    /// The token that read.
    pub token_id: Uuid,
    /// The ticket read.
    pub ticket_id: Uuid,
    /// What the response showed.
    pub what: AccessKind,
    /// When.
    pub read_at: DateTime<Utc>,
}

/// Rows per INSERT statement (5 bind parameters each, far below SQLite's and PostgreSQL's limits).
const INSERT_CHUNK: usize = 500;

/// Records `reads` with multi-row inserts; run it in one write transaction. How many were recorded.
pub fn record_accesses(conn: &mut DbConnection, reads: &[NewAccess]) -> Result<usize, StorageError> {
    let mut written = 0;
    for chunk in reads.chunks(INSERT_CHUNK) {
        let rows: Vec<AccessRow> = chunk
            .iter()
            .map(|read| AccessRow {
                id: read.id,
                token_id: read.token_id,
                ticket_id: read.ticket_id,
                what: read.what,
                read_at: read.read_at,
            })
            .collect();
        // Multi-row INSERT does not compile through the multi-connection, so each dialect gets its arm.
        written += match conn {
            DbConnection::Postgresql(pg) => {
                diesel::insert_into(personal_data_access::table).values(rows).execute(pg)?
            }
            DbConnection::Sqlite(lite) => {
                diesel::insert_into(personal_data_access::table).values(rows).execute(lite)?
            }
        };
    }
    Ok(written)
}

/// Records that `token` read `ticket`'s personal data at `at`, in the calling transaction (a ticket
/// change's response: the change writes anyway).
pub fn record_access(
    conn: &mut DbConnection,
    token: Uuid,
    ticket: Uuid,
    what: AccessKind,
    at: DateTime<Utc>,
) -> Result<(), StorageError> {
    let row = AccessRow { id: Uuid::now_v7(), token_id: token, ticket_id: ticket, what, read_at: at };
    diesel::insert_into(personal_data_access::table).values(row).execute(conn)?;
    Ok(())
}

/// Which reads to list: all filters optional; newest first, after `cursor` (the last entry of the
/// previous page).
#[derive(Debug, Clone, Default)]
pub struct AccessFilter {
    /// Only reads of this ticket.
    pub ticket: Option<Uuid>,
    /// Only reads by this token.
    pub token: Option<Uuid>,
    /// Only reads at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Only reads before this instant.
    pub to: Option<DateTime<Utc>>,
    /// Continue after this entry (its time and id).
    pub cursor: Option<(DateTime<Utc>, Uuid)>,
    /// At most this many.
    pub limit: i64,
}

/// Reads of personal data, newest first (keyset by time and id).
pub fn list_access(
    conn: &mut DbConnection,
    filter: &AccessFilter,
) -> Result<Vec<AccessRecord>, StorageError> {
    let mut query = personal_data_access::table
        .inner_join(api_tokens::table.on(api_tokens::id.eq(personal_data_access::token_id)))
        .inner_join(tickets::table.on(tickets::id.eq(personal_data_access::ticket_id)))
        .select((AccessRow::as_select(), api_tokens::name, tickets::reference))
        .into_boxed();
    if let Some(ticket) = filter.ticket {
        query = query.filter(personal_data_access::ticket_id.eq(DbUuid(ticket)));
    }
    if let Some(token) = filter.token {
        query = query.filter(personal_data_access::token_id.eq(DbUuid(token)));
    }
    if let Some(from) = filter.from {
        query = query.filter(personal_data_access::read_at.ge(DbTime::from(from)));
    }
    if let Some(to) = filter.to {
        query = query.filter(personal_data_access::read_at.lt(DbTime::from(to)));
    }
    if let Some((at, id)) = filter.cursor {
        query = query.filter(personal_data_access::read_at.lt(DbTime::from(at)).or(
            personal_data_access::read_at.eq(DbTime::from(at)).and(personal_data_access::id.lt(DbUuid(id))),
        ));
    }
    let rows: Vec<(AccessRow, String, String)> = query
        .order((personal_data_access::read_at.desc(), personal_data_access::id.desc()))
        .limit(filter.limit)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(row, token_name, ticket_reference)| AccessRecord {
            id: row.id,
            token_id: row.token_id,
            token_name,
            ticket_id: row.ticket_id,
            ticket_reference,
            what: row.what,
            read_at: row.read_at,
        })
        .collect())
}

/// Forgets reads older than `before`; how many.
pub fn purge_access_before(conn: &mut DbConnection, before: DateTime<Utc>) -> Result<usize, StorageError> {
    Ok(diesel::delete(
        personal_data_access::table.filter(personal_data_access::read_at.lt(DbTime::from(before))),
    )
    .execute(conn)?)
}

/// A ticket whose caller contact data is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueTicket {
    /// Id.
    pub id: Uuid,
    /// Reference.
    pub reference: String,
}

/// Finished tickets whose closure (closed: `closed_at`; declined: its decline, its last change) lies at
/// or before `closed_before` and that still hold caller contact data; by id, at most `limit`.
pub fn caller_contact_due(
    conn: &mut DbConnection,
    closed_before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<DueTicket>, StorageError> {
    let cutoff = DbTime::from(closed_before);
    let finished = tickets::status
        .eq(DbTicketStatus(TicketStatus::Closed))
        .and(tickets::closed_at.le(cutoff))
        .or(tickets::status.eq(DbTicketStatus(TicketStatus::Declined)).and(tickets::updated_at.le(cutoff)));
    let call_holds = exists(
        calls::table.filter(calls::ticket_id.eq(tickets::id)).filter(
            calls::caller_name
                .ne(ANONYMISED)
                .or(calls::callback_phone.ne(ANONYMISED))
                .or(calls::claimed_member_name.ne(ANONYMISED))
                .or(calls::claimed_institution_name.ne(ANONYMISED))
                .or(calls::claimed_institution_address.ne(ANONYMISED))
                .or(calls::identifier_value.ne(ANONYMISED)),
        ),
    );
    let referral_holds = exists(
        referrals::table
            .filter(referrals::ticket_id.eq(tickets::id))
            .filter(referrals::consent_name.ne(ANONYMISED)),
    );
    let rows: Vec<(DbUuid, String)> = tickets::table
        .filter(finished)
        .filter(call_holds.or(referral_holds).or(tickets::institution_match.ne(ANONYMISED)))
        .order(tickets::id.asc())
        .limit(limit)
        .select((tickets::id, tickets::reference))
        .load(conn)?;
    Ok(rows.into_iter().map(|(id, reference)| DueTicket { id: id.0, reference }).collect())
}

/// Replaces every caller contact value of `ticket` that is not the marker yet (calls, the consenting
/// person's name on referrals, the normalised institution name used for repeat callers), bumps the
/// ticket's version (not its `updated_at`: its dates stay) and appends `personal_data.anonymised` by
/// `actor`; `None`, writing nothing, when nothing was left to replace.
pub fn anonymise_caller_contact(
    conn: &mut DbConnection,
    ticket: Uuid,
    actor: Uuid,
    now: DateTime<Utc>,
    basis: AnonymisationBasis,
    retention_days: Option<u32>,
) -> Result<Option<PersonalDataAnonymised>, StorageError> {
    let id = DbUuid(ticket);
    let calls_changed = diesel::update(
        calls::table.filter(calls::ticket_id.eq(id)).filter(
            calls::caller_name
                .ne(ANONYMISED)
                .or(calls::callback_phone.ne(ANONYMISED))
                .or(calls::claimed_member_name.ne(ANONYMISED))
                .or(calls::claimed_institution_name.ne(ANONYMISED))
                .or(calls::claimed_institution_address.ne(ANONYMISED))
                .or(calls::identifier_value.ne(ANONYMISED)),
        ),
    )
    .set((
        calls::caller_name.eq(ANONYMISED),
        calls::callback_phone.eq(ANONYMISED),
        calls::claimed_member_name.eq(ANONYMISED),
        calls::claimed_institution_name.eq(ANONYMISED),
        calls::claimed_institution_address.eq(ANONYMISED),
        calls::identifier_value.eq(ANONYMISED),
    ))
    .execute(conn)?;
    let referrals_changed = diesel::update(
        referrals::table.filter(referrals::ticket_id.eq(id)).filter(referrals::consent_name.ne(ANONYMISED)),
    )
    .set(referrals::consent_name.eq(ANONYMISED))
    .execute(conn)?;
    let match_changed =
        diesel::update(tickets::table.find(id).filter(tickets::institution_match.ne(ANONYMISED)))
            .set(tickets::institution_match.eq(ANONYMISED))
            .execute(conn)?;
    if calls_changed + referrals_changed + match_changed == 0 {
        return Ok(None);
    }
    diesel::update(tickets::table.find(id)).set(tickets::version.eq(tickets::version + 1)).execute(conn)?;
    let anonymised = PersonalDataAnonymised {
        class: DataClass::CallerContact,
        basis,
        retention_days,
        calls: u32::try_from(calls_changed).unwrap_or(u32::MAX),
        referrals: u32::try_from(referrals_changed).unwrap_or(u32::MAX),
        notes: 0,
        callbacks: 0,
        event_texts: 0,
    };
    audit::record(conn, ticket, actor, now, &TicketEvent::PersonalDataAnonymised(anonymised.clone()))?;
    Ok(Some(anonymised))
}

diesel::define_sql_function! {
    /// SQL `replace(text, from, to)`, the same on SQLite and PostgreSQL.
    fn replace(text: diesel::sql_types::Text, from: diesel::sql_types::Text, to: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// A column without hyphens and spaces (ASCII and ideographic), as `hotline_domain::privacy::squeeze`.
macro_rules! squeezed {
    ($column:expr) => {
        replace(replace(replace($column, "-", ""), " ", ""), "\u{3000}", "")
    };
}

/// Everything found holding what a person's request names them by.
#[derive(Debug, Clone, Default)]
pub struct PersonalData {
    /// Calls holding it in a contact field or their summary, oldest first.
    pub calls: Vec<CallRecord>,
    /// Callbacks holding it in their note.
    pub callbacks: Vec<CallbackRecord>,
    /// Notes holding it, with their ticket.
    pub notes: Vec<(Uuid, NoteRecord)>,
}

impl PersonalData {
    /// The tickets the records belong to, each once.
    pub fn ticket_ids(&self) -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = self
            .calls
            .iter()
            .map(|call| call.ticket_id)
            .chain(self.callbacks.iter().map(|callback| callback.ticket_id))
            .chain(self.notes.iter().map(|(ticket, _)| *ticket))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

/// Finds every call, callback and note holding what `query` names: a phone number in a call's callback
/// number or any text; an identifier in a call's identifier of that kind or any text; a name in a call's
/// caller or member name or any text (text compared without hyphens and spaces).
pub fn find_person(conn: &mut DbConnection, query: &PersonQuery) -> Result<PersonalData, StorageError> {
    let needle = query.needle();
    let like = format!("%{needle}%");
    let in_summary = squeezed!(calls::summary).like(like.clone());
    let call_ids: Vec<DbUuid> = match query {
        PersonQuery::Phone(_) => calls::table
            .filter(squeezed!(calls::callback_phone).eq(needle.clone()).or(in_summary))
            .select(calls::id)
            .load(conn)?,
        PersonQuery::RegistrationNumber(value) | PersonQuery::MemberNumber(value) => {
            let kind = if matches!(query, PersonQuery::MemberNumber(_)) {
                "member_number"
            } else {
                "registration_number"
            };
            calls::table
                .filter(
                    calls::identifier_kind
                        .eq(kind)
                        .and(calls::identifier_value.eq(value.clone()))
                        .or(in_summary),
                )
                .select(calls::id)
                .load(conn)?
        }
        PersonQuery::Name(_) => calls::table
            .filter(
                squeezed!(calls::caller_name)
                    .eq(needle.clone())
                    .or(squeezed!(calls::claimed_member_name).eq(needle.clone()))
                    .or(in_summary),
            )
            .select(calls::id)
            .load(conn)?,
    };
    let mut found = PersonalData::default();
    for id in call_ids {
        found.calls.extend(call_queries::get(conn, id.0)?);
    }
    found.calls.sort_by_key(|call| (call.started_at, call.id));
    let notes: Vec<(DbUuid, DbUuid, String, DbTime, DbUuid)> = ticket_notes::table
        .filter(squeezed!(ticket_notes::body).like(like.clone()))
        .order((ticket_notes::created_at.asc(), ticket_notes::id.asc()))
        .select((
            ticket_notes::id,
            ticket_notes::ticket_id,
            ticket_notes::body,
            ticket_notes::created_at,
            ticket_notes::created_by,
        ))
        .load(conn)?;
    found.notes = notes
        .into_iter()
        .map(|(id, ticket, body, created_at, created_by)| {
            (ticket.0, NoteRecord { id: id.0, body, created_at: created_at.into(), created_by: created_by.0 })
        })
        .collect();
    let callback_ids: Vec<(DbUuid, DbUuid)> = callbacks::table
        .filter(callbacks::note.is_not_null())
        .filter(squeezed!(callbacks::note.assume_not_null()).like(like))
        .select((callbacks::id, callbacks::ticket_id))
        .load(conn)?;
    for (id, ticket) in callback_ids {
        if let Some(header) = ticket_queries::find_header(conn, &TicketKey::Id(ticket.0))? {
            let of_ticket = callback_queries::callbacks_of(conn, &header)?;
            found.callbacks.extend(of_ticket.into_iter().filter(|callback| callback.id == id.0));
        }
    }
    Ok(found)
}

/// What an erasure replaced on one ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erased {
    /// The ticket.
    pub ticket_id: Uuid,
    /// Its reference.
    pub reference: String,
    /// The event written.
    pub event: PersonalDataAnonymised,
}

/// Erases on request everything [`find_person`] finds: each call's caller contact fields (and its
/// summary when it holds the value), each note's and callback's text holding it, the ticket's summary
/// and resolution holding it, and every free text of the audit trail holding it (`ticket_event_texts`,
/// compared the same way; its tickets are erased too), replaced by the marker;
/// per ticket a `personal_data.anonymised` event (basis `request`) by `actor`, never repeating the values.
pub fn erase_person(
    conn: &mut DbConnection,
    query: &PersonQuery,
    actor: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<Erased>, StorageError> {
    let found = find_person(conn, query)?;
    let like = format!("%{}%", query.needle());
    let in_event_text = squeezed!(ticket_event_texts::body).like(like.clone());
    let event_text_tickets: Vec<DbUuid> = ticket_event_texts::table
        .filter(in_event_text.clone())
        .select(ticket_event_texts::ticket_id)
        .distinct()
        .load(conn)?;
    let mut tickets = found.ticket_ids();
    tickets.extend(event_text_tickets.into_iter().map(|id| id.0));
    tickets.sort_unstable();
    tickets.dedup();
    let mut erased = Vec::new();
    for ticket in tickets {
        let id = DbUuid(ticket);
        let call_ids: Vec<DbUuid> =
            found.calls.iter().filter(|c| c.ticket_id == ticket).map(|c| DbUuid(c.id)).collect();
        let calls_changed = diesel::update(calls::table.filter(calls::id.eq_any(&call_ids)))
            .set((
                calls::caller_name.eq(ANONYMISED),
                calls::callback_phone.eq(ANONYMISED),
                calls::claimed_member_name.eq(ANONYMISED),
                calls::claimed_institution_name.eq(ANONYMISED),
                calls::claimed_institution_address.eq(ANONYMISED),
                calls::identifier_value.eq(ANONYMISED),
            ))
            .execute(conn)?;
        diesel::update(
            calls::table
                .filter(calls::id.eq_any(&call_ids))
                .filter(squeezed!(calls::summary).like(like.clone())),
        )
        .set(calls::summary.eq(ANONYMISED))
        .execute(conn)?;
        diesel::update(tickets::table.find(id).filter(squeezed!(tickets::summary).like(like.clone())))
            .set(tickets::summary.eq(ANONYMISED))
            .execute(conn)?;
        diesel::update(
            tickets::table
                .find(id)
                .filter(squeezed!(tickets::resolution_summary.assume_not_null()).like(like.clone())),
        )
        .set(tickets::resolution_summary.eq(ANONYMISED))
        .execute(conn)?;
        if calls_changed > 0 {
            diesel::update(tickets::table.find(id))
                .set(tickets::institution_match.eq(ANONYMISED))
                .execute(conn)?;
        }
        let note_ids: Vec<DbUuid> =
            found.notes.iter().filter(|(t, _)| *t == ticket).map(|(_, note)| DbUuid(note.id)).collect();
        let notes_changed = diesel::update(ticket_notes::table.filter(ticket_notes::id.eq_any(&note_ids)))
            .set(ticket_notes::body.eq(ANONYMISED))
            .execute(conn)?;
        let callback_ids: Vec<DbUuid> =
            found.callbacks.iter().filter(|c| c.ticket_id == ticket).map(|c| DbUuid(c.id)).collect();
        let callbacks_changed = diesel::update(callbacks::table.filter(callbacks::id.eq_any(&callback_ids)))
            .set(callbacks::note.eq(ANONYMISED))
            .execute(conn)?;
        let event_texts_changed = diesel::update(
            ticket_event_texts::table
                .filter(ticket_event_texts::ticket_id.eq(id))
                .filter(in_event_text.clone()),
        )
        .set(ticket_event_texts::body.eq(ANONYMISED))
        .execute(conn)?;
        diesel::update(tickets::table.find(id))
            .set(tickets::version.eq(tickets::version + 1))
            .execute(conn)?;
        let event = PersonalDataAnonymised {
            class: DataClass::CallerContact,
            basis: AnonymisationBasis::Request,
            retention_days: None,
            calls: u32::try_from(calls_changed).unwrap_or(u32::MAX),
            referrals: 0,
            notes: u32::try_from(notes_changed).unwrap_or(u32::MAX),
            callbacks: u32::try_from(callbacks_changed).unwrap_or(u32::MAX),
            event_texts: u32::try_from(event_texts_changed).unwrap_or(u32::MAX),
        };
        audit::record(conn, ticket, actor, now, &TicketEvent::PersonalDataAnonymised(event.clone()))?;
        let reference = tickets::table.find(id).select(tickets::reference).first(conn)?;
        erased.push(Erased { ticket_id: ticket, reference, event });
    }
    Ok(erased)
}

/// Finished tickets whose closure lies at or before `closed_before` and that still hold free text
/// (summaries, resolution, notes, callback notes, triage reasons, referral notes, claim rejection
/// reasons, alert texts, and the audit trail's texts in `ticket_event_texts`); by id, at most `limit`.
pub fn free_text_due(
    conn: &mut DbConnection,
    closed_before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<DueTicket>, StorageError> {
    use crate::schema::{outbox, support_claims, ticket_triage};
    let cutoff = DbTime::from(closed_before);
    let finished = tickets::status
        .eq(DbTicketStatus(TicketStatus::Closed))
        .and(tickets::closed_at.le(cutoff))
        .or(tickets::status.eq(DbTicketStatus(TicketStatus::Declined)).and(tickets::updated_at.le(cutoff)));
    let own = tickets::summary.ne(ANONYMISED).or(tickets::resolution_summary.ne(ANONYMISED));
    let in_calls =
        exists(calls::table.filter(calls::ticket_id.eq(tickets::id)).filter(calls::summary.ne(ANONYMISED)));
    let in_notes = exists(
        ticket_notes::table
            .filter(ticket_notes::ticket_id.eq(tickets::id))
            .filter(ticket_notes::body.ne(ANONYMISED)),
    );
    let in_callbacks = exists(
        callbacks::table.filter(callbacks::ticket_id.eq(tickets::id)).filter(callbacks::note.ne(ANONYMISED)),
    );
    let in_triage = exists(ticket_triage::table.filter(ticket_triage::ticket_id.eq(tickets::id)).filter(
        ticket_triage::priority_reason.ne(ANONYMISED).or(ticket_triage::decline_reason.ne(ANONYMISED)),
    ));
    let in_referrals = exists(
        referrals::table.filter(referrals::ticket_id.eq(tickets::id)).filter(
            referrals::request_note
                .ne(ANONYMISED)
                .or(referrals::last_note.ne(ANONYMISED))
                .or(referrals::police_contact.ne(ANONYMISED))
                .or(referrals::police_receipt_number.ne(ANONYMISED)),
        ),
    );
    let in_claims = exists(
        support_claims::table
            .filter(support_claims::ticket_id.eq(tickets::id))
            .filter(support_claims::rejection_reason.ne(ANONYMISED)),
    );
    let in_alerts = exists(
        outbox::table
            .filter(outbox::ticket_id.eq(tickets::id))
            .filter(outbox::status.eq_any(["sent", "failed"]))
            .filter(outbox::subject.ne(ANONYMISED).or(outbox::body.ne(ANONYMISED))),
    );
    let in_event_texts = exists(
        ticket_event_texts::table
            .filter(ticket_event_texts::ticket_id.eq(tickets::id))
            .filter(ticket_event_texts::body.ne(ANONYMISED)),
    );
    let rows: Vec<(DbUuid, String)> = tickets::table
        .filter(finished)
        .filter(
            own.or(in_calls)
                .or(in_event_texts)
                .or(in_notes)
                .or(in_callbacks)
                .or(in_triage)
                .or(in_referrals)
                .or(in_claims)
                .or(in_alerts),
        )
        .order(tickets::id.asc())
        .limit(limit)
        .select((tickets::id, tickets::reference))
        .load(conn)?;
    Ok(rows.into_iter().map(|(id, reference)| DueTicket { id: id.0, reference }).collect())
}

/// Replaces every free-text value of `ticket` that is not the marker yet, the audit trail's texts
/// included (a NULL stays NULL), bumps the version and appends `personal_data.anonymised` (class `free_text`);
/// `None`, writing nothing, when nothing was left. Alerts still waiting to be sent keep their text.
pub fn anonymise_free_text(
    conn: &mut DbConnection,
    ticket: Uuid,
    actor: Uuid,
    now: DateTime<Utc>,
    retention_days: u32,
) -> Result<Option<PersonalDataAnonymised>, StorageError> {
    use crate::schema::{outbox, support_claims, ticket_triage};
    let id = DbUuid(ticket);
    let mut changed = 0;
    changed += diesel::update(tickets::table.find(id).filter(tickets::summary.ne(ANONYMISED)))
        .set(tickets::summary.eq(ANONYMISED))
        .execute(conn)?;
    changed += diesel::update(tickets::table.find(id).filter(tickets::resolution_summary.ne(ANONYMISED)))
        .set(tickets::resolution_summary.eq(ANONYMISED))
        .execute(conn)?;
    let calls_changed =
        diesel::update(calls::table.filter(calls::ticket_id.eq(id)).filter(calls::summary.ne(ANONYMISED)))
            .set(calls::summary.eq(ANONYMISED))
            .execute(conn)?;
    let notes_changed = diesel::update(
        ticket_notes::table.filter(ticket_notes::ticket_id.eq(id)).filter(ticket_notes::body.ne(ANONYMISED)),
    )
    .set(ticket_notes::body.eq(ANONYMISED))
    .execute(conn)?;
    let callbacks_changed = diesel::update(
        callbacks::table.filter(callbacks::ticket_id.eq(id)).filter(callbacks::note.ne(ANONYMISED)),
    )
    .set(callbacks::note.eq(ANONYMISED))
    .execute(conn)?;
    for column_changed in [
        diesel::update(
            ticket_triage::table
                .filter(ticket_triage::ticket_id.eq(id))
                .filter(ticket_triage::priority_reason.ne(ANONYMISED)),
        )
        .set(ticket_triage::priority_reason.eq(ANONYMISED))
        .execute(conn)?,
        diesel::update(
            ticket_triage::table
                .filter(ticket_triage::ticket_id.eq(id))
                .filter(ticket_triage::decline_reason.ne(ANONYMISED)),
        )
        .set(ticket_triage::decline_reason.eq(ANONYMISED))
        .execute(conn)?,
        diesel::update(
            support_claims::table
                .filter(support_claims::ticket_id.eq(id))
                .filter(support_claims::rejection_reason.ne(ANONYMISED)),
        )
        .set(support_claims::rejection_reason.eq(ANONYMISED))
        .execute(conn)?,
        diesel::update(
            outbox::table
                .filter(outbox::ticket_id.eq(id))
                .filter(outbox::status.eq_any(["sent", "failed"]))
                .filter(outbox::subject.ne(ANONYMISED).or(outbox::body.ne(ANONYMISED))),
        )
        .set((outbox::subject.eq(ANONYMISED), outbox::body.eq(ANONYMISED)))
        .execute(conn)?,
    ] {
        changed += column_changed;
    }
    let mut referrals_changed = 0;
    referrals_changed += diesel::update(
        referrals::table.filter(referrals::ticket_id.eq(id)).filter(referrals::request_note.ne(ANONYMISED)),
    )
    .set(referrals::request_note.eq(ANONYMISED))
    .execute(conn)?;
    referrals_changed += diesel::update(
        referrals::table.filter(referrals::ticket_id.eq(id)).filter(referrals::last_note.ne(ANONYMISED)),
    )
    .set(referrals::last_note.eq(ANONYMISED))
    .execute(conn)?;
    referrals_changed += diesel::update(
        referrals::table.filter(referrals::ticket_id.eq(id)).filter(referrals::police_contact.ne(ANONYMISED)),
    )
    .set(referrals::police_contact.eq(ANONYMISED))
    .execute(conn)?;
    referrals_changed += diesel::update(
        referrals::table
            .filter(referrals::ticket_id.eq(id))
            .filter(referrals::police_receipt_number.ne(ANONYMISED)),
    )
    .set(referrals::police_receipt_number.eq(ANONYMISED))
    .execute(conn)?;
    let event_texts_changed = diesel::update(
        ticket_event_texts::table
            .filter(ticket_event_texts::ticket_id.eq(id))
            .filter(ticket_event_texts::body.ne(ANONYMISED)),
    )
    .set(ticket_event_texts::body.eq(ANONYMISED))
    .execute(conn)?;
    if changed + calls_changed + notes_changed + callbacks_changed + referrals_changed + event_texts_changed
        == 0
    {
        return Ok(None);
    }
    diesel::update(tickets::table.find(id)).set(tickets::version.eq(tickets::version + 1)).execute(conn)?;
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let anonymised = PersonalDataAnonymised {
        class: DataClass::FreeText,
        basis: AnonymisationBasis::Retention,
        retention_days: Some(retention_days),
        calls: count(calls_changed),
        referrals: count(referrals_changed),
        notes: count(notes_changed),
        callbacks: count(callbacks_changed),
        event_texts: count(event_texts_changed),
    };
    audit::record(conn, ticket, actor, now, &TicketEvent::PersonalDataAnonymised(anonymised.clone()))?;
    Ok(Some(anonymised))
}

//! Referrals to forensic vendors, law firms and the prefectural police: requested with the member's
//! consent, then accepted, completed, declined or cancelled. The rules (may this ticket be referred,
//! can this partner take it, where may the referral go next) are the domain's; this module reads what
//! they need and writes what they decide.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use hotline_domain::audit::TicketEvent;
use hotline_domain::changes::{self, PartnerFacts};
use hotline_domain::referral::{
    Consent, ConsentGiver, ReferralAction, ReferralContext, ReferralKind, ReferralStatus,
};
use hotline_domain::verification::VerificationOutcome;
use uuid::Uuid;

use crate::columns::{DbConsentGiver, DbOptTime, DbReferralKind, DbReferralStatus, DbTime, DbUuid};
use crate::queries::change::{self, Change, ChangeError};
use crate::queries::corrupt;
use crate::queries::partners::{self, PartnerRecord};
use crate::queries::records::ReferralRecord;
use crate::queries::tickets::TicketHeader;
use crate::queries::triage::triage_of;
use crate::schema::{calls, partners as partner_rows, referrals};
use crate::{DbConnection, MultiBackend, StorageError};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = referrals)]
#[diesel(check_for_backend(MultiBackend))]
struct ReferralRow {
    #[diesel(deserialize_as = DbUuid, serialize_as = DbUuid)]
    id: Uuid,
    #[diesel(deserialize_as = DbUuid, serialize_as = DbUuid)]
    ticket_id: Uuid,
    #[diesel(deserialize_as = DbUuid, serialize_as = DbUuid)]
    partner_id: Uuid,
    #[diesel(deserialize_as = DbReferralKind, serialize_as = DbReferralKind)]
    kind: ReferralKind,
    #[diesel(deserialize_as = DbReferralStatus, serialize_as = DbReferralStatus)]
    status: ReferralStatus,
    #[diesel(deserialize_as = DbConsentGiver, serialize_as = DbConsentGiver)]
    consent_given_by: ConsentGiver,
    consent_name: String,
    #[diesel(deserialize_as = DbTime, serialize_as = DbTime)]
    consent_given_at: DateTime<Utc>,
    request_note: Option<String>,
    #[diesel(deserialize_as = DbTime, serialize_as = DbTime)]
    requested_at: DateTime<Utc>,
    #[diesel(deserialize_as = DbUuid, serialize_as = DbUuid)]
    requested_by: Uuid,
    #[diesel(deserialize_as = DbOptTime, serialize_as = DbOptTime)]
    accepted_at: Option<DateTime<Utc>>,
    #[diesel(deserialize_as = DbOptTime, serialize_as = DbOptTime)]
    completed_at: Option<DateTime<Utc>>,
    #[diesel(deserialize_as = DbOptTime, serialize_as = DbOptTime)]
    ended_at: Option<DateTime<Utc>>,
    last_note: Option<String>,
    police_receipt_number: Option<String>,
    police_contact: Option<String>,
    #[diesel(deserialize_as = DbTime, serialize_as = DbTime)]
    updated_at: DateTime<Utc>,
}

impl ReferralRow {
    fn into_record(self, partner_name: String) -> ReferralRecord {
        ReferralRecord {
            id: self.id,
            ticket_id: self.ticket_id,
            partner_id: self.partner_id,
            partner_name,
            kind: self.kind,
            status: self.status,
            consent_given_by: self.consent_given_by.as_str().to_owned(),
            consent_name: self.consent_name,
            consent_given_at: self.consent_given_at,
            request_note: self.request_note,
            requested_at: self.requested_at,
            requested_by: self.requested_by,
            accepted_at: self.accepted_at,
            completed_at: self.completed_at,
            ended_at: self.ended_at,
            last_note: self.last_note,
            police_receipt_number: self.police_receipt_number,
            police_contact: self.police_contact,
            updated_at: self.updated_at,
        }
    }
}

/// Which referrals to load.
enum Which {
    Tickets(Vec<Uuid>),
    One(Uuid),
}

fn load(conn: &mut DbConnection, which: Which) -> Result<Vec<ReferralRecord>, StorageError> {
    let query = referrals::table
        .inner_join(partner_rows::table)
        .select((ReferralRow::as_select(), partner_rows::name))
        .into_boxed();
    let query = match which {
        Which::Tickets(ids) => query.filter(referrals::ticket_id.eq_any(ids.into_iter().map(DbUuid))),
        Which::One(id) => query.filter(referrals::id.eq(DbUuid(id))),
    };
    let rows: Vec<(ReferralRow, String)> =
        query.order((referrals::requested_at.asc(), referrals::id.asc())).load(conn)?;
    Ok(rows.into_iter().map(|(row, name)| row.into_record(name)).collect())
}

/// A ticket's referrals, oldest first.
pub fn referrals_of(conn: &mut DbConnection, ticket_id: Uuid) -> Result<Vec<ReferralRecord>, StorageError> {
    load(conn, Which::Tickets(vec![ticket_id]))
}

/// The referrals of several tickets, oldest first (a queue's SLA clocks).
pub fn referrals_of_tickets(
    conn: &mut DbConnection,
    ids: Vec<Uuid>,
) -> Result<Vec<ReferralRecord>, StorageError> {
    load(conn, Which::Tickets(ids))
}

/// One referral.
pub fn referral(conn: &mut DbConnection, id: Uuid) -> Result<Option<ReferralRecord>, StorageError> {
    Ok(load(conn, Which::One(id))?.pop())
}

/// The referrals of a ticket that are still open (requested or accepted).
pub fn open_referrals(conn: &mut DbConnection, ticket_id: Uuid) -> Result<Vec<ReferralRecord>, StorageError> {
    Ok(referrals_of(conn, ticket_id)?.into_iter().filter(|referral| referral.status.is_open()).collect())
}

/// The ticket a referral belongs to.
pub fn ticket_of_referral(conn: &mut DbConnection, referral_id: Uuid) -> Result<Option<Uuid>, StorageError> {
    let ticket: Option<DbUuid> =
        referrals::table.find(DbUuid(referral_id)).select(referrals::ticket_id).first(conn).optional()?;
    Ok(ticket.map(Uuid::from))
}

/// A referral to request.
#[derive(Debug, Clone)]
pub struct ReferralRequest {
    /// Kind.
    pub kind: ReferralKind,
    /// Partner for forensic and legal; ignored for police (the prefecture's desk is chosen).
    pub partner_id: Option<Uuid>,
    /// The member's consent.
    pub consent: Consent,
    /// Note to the partner.
    pub note: Option<String>,
}

/// What the referral rules need to know about the ticket.
fn context(conn: &mut DbConnection, ticket: &TicketHeader) -> Result<ReferralContext, StorageError> {
    let category = triage_of(conn, ticket.id)?.map(|record| record.triage.category);
    let first_verification: Option<String> = calls::table
        .filter(calls::ticket_id.eq(DbUuid(ticket.id)))
        .order((calls::started_at.asc(), calls::id.asc()))
        .select(calls::verification)
        .first(conn)
        .optional()?;
    Ok(ReferralContext {
        status: ticket.status,
        category,
        first_verification: first_verification
            .map(|stored| {
                VerificationOutcome::parse(&stored).ok_or_else(|| corrupt("calls.verification", &stored))
            })
            .transpose()?,
        caller_confirmed: ticket.caller_confirmed_at.is_some(),
    })
}

/// The partner a referral would go to: the one chosen, or the prefecture's police desk.
fn candidate(
    conn: &mut DbConnection,
    request: &ReferralRequest,
    ticket: &TicketHeader,
) -> Result<Option<PartnerRecord>, StorageError> {
    match (request.kind, request.partner_id) {
        (ReferralKind::Police, _) => partners::police_desk(conn, ticket.prefecture),
        (_, Some(id)) => partners::get(conn, id),
        (_, None) => Ok(None),
    }
}

fn facts(partner: &PartnerRecord, ticket: &TicketHeader) -> PartnerFacts {
    PartnerFacts {
        id: partner.id,
        name: partner.name.clone(),
        kind: partner.kind,
        active: partner.active,
        has_email: !partner.emails.is_empty(),
        covers_prefecture: partner.covers(ticket.prefecture),
    }
}

/// Requests a referral: the domain checks the rules and the partner and escalates the ticket; the
/// referral is written, and one open referral per partner is kept by a unique index.
pub fn request_referral(
    conn: &mut DbConnection,
    change: &Change,
    request: &ReferralRequest,
) -> Result<(TicketHeader, ReferralRecord, PartnerRecord), ChangeError> {
    let ticket = change::lock(conn, change)?;
    let context = context(conn, &ticket)?;
    let partner = candidate(conn, request, &ticket)?;
    let fit = changes::check_partner(
        request.kind,
        request.partner_id,
        partner.as_ref().map(|p| facts(p, &ticket)).as_ref(),
        &ticket.prefecture.code(),
    )
    .map(|()| partner.as_ref().map_or(Uuid::nil(), |p| p.id));
    let id = Uuid::now_v7();
    let event = changes::request_referral(
        &change::now_of(&ticket),
        change.role,
        context,
        request.kind,
        &request.consent,
        id,
        fit,
    )?;
    let (TicketEvent::ReferralRequested(requested), Some(partner)) = (&event, partner) else {
        return Err(ChangeError::NotFound);
    };
    let now = crate::utc(crate::db_time(change.now));
    let row = ReferralRow {
        id,
        ticket_id: ticket.id,
        partner_id: partner.id,
        kind: request.kind,
        status: ReferralStatus::Requested,
        consent_given_by: request.consent.given_by,
        consent_name: request.consent.name.as_str().to_owned(),
        consent_given_at: crate::utc(crate::db_time(request.consent.given_at)),
        request_note: request.note.clone(),
        requested_at: now,
        requested_by: change.actor,
        accepted_at: None,
        completed_at: None,
        ended_at: None,
        last_note: None,
        police_receipt_number: None,
        police_contact: None,
        updated_at: now,
    };
    // The partial unique index allows one open referral per partner; a savepoint keeps the
    // transaction usable on PostgreSQL so the conflict can be reported.
    let inserted =
        conn.transaction(|conn| diesel::insert_into(referrals::table).values(row.clone()).execute(conn));
    match inserted {
        Ok(_) => {}
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
            let open = open_referrals(conn, ticket.id)?;
            return Err(ChangeError::DuplicateOpenReferral(
                open.into_iter().filter(|referral| referral.partner_id == partner.id).collect(),
            ));
        }
        Err(error) => return Err(error.into()),
    }
    change::set_status(conn, ticket.id, requested.status.after)?;
    change::commit(conn, change, &ticket, &event)?;
    let referral = row.into_record(partner.name.clone());
    Ok((change::reload(conn, ticket.id)?, referral, partner))
}

/// What a partner or the hotline reports about a referral.
#[derive(Debug, Clone, Default)]
pub struct ReferralUpdate {
    /// Note with the change.
    pub note: Option<String>,
    /// 受理番号, when the police accept.
    pub police_receipt_number: Option<String>,
    /// Police contact, when the police accept.
    pub police_contact: Option<String>,
}

/// Moves a referral along its lifecycle (accept, complete, decline, cancel).
pub fn act_on_referral(
    conn: &mut DbConnection,
    change: &Change,
    referral_id: Uuid,
    action: ReferralAction,
    update: &ReferralUpdate,
) -> Result<(TicketHeader, ReferralRecord), ChangeError> {
    let ticket = change::lock(conn, change)?;
    let current = referral(conn, referral_id)?
        .filter(|r| r.ticket_id == ticket.id)
        .ok_or(ChangeError::ReferralNotFound)?;
    let event = changes::move_referral(
        referral_id,
        current.status,
        action,
        update.note.clone(),
        update.police_receipt_number.clone(),
    )?;
    let TicketEvent::ReferralMoved(moved) = &event else { return Err(ChangeError::ReferralNotFound) };
    let now = DbTime::from(change.now);
    let id = DbUuid(referral_id);
    diesel::update(referrals::table.find(id))
        .set((
            referrals::status.eq(DbReferralStatus(moved.status.after)),
            referrals::last_note.eq(&update.note),
            referrals::updated_at.eq(now),
        ))
        .execute(conn)?;
    match action {
        ReferralAction::Accept => {
            diesel::update(referrals::table.find(id))
                .set((
                    referrals::accepted_at.eq(DbOptTime(Some(now))),
                    referrals::police_receipt_number.eq(&update.police_receipt_number),
                    referrals::police_contact.eq(&update.police_contact),
                ))
                .execute(conn)?;
        }
        ReferralAction::Complete => {
            diesel::update(referrals::table.find(id))
                .set(referrals::completed_at.eq(DbOptTime(Some(now))))
                .execute(conn)?;
        }
        ReferralAction::Decline | ReferralAction::Cancel => {
            diesel::update(referrals::table.find(id))
                .set(referrals::ended_at.eq(DbOptTime(Some(now))))
                .execute(conn)?;
        }
    }
    change::commit(conn, change, &ticket, &event)?;
    let updated = referral(conn, referral_id)?.ok_or(ChangeError::ReferralNotFound)?;
    Ok((change::reload(conn, ticket.id)?, updated))
}

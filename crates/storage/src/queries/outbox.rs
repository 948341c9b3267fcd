//! The transactional outbox. Alerts are enqueued in the caller's transaction, next to the change that
//! causes them, so an acknowledged change always has its alert. Workers claim due alerts under a
//! lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several server processes never claim the same
//! row; SQLite serialises writers anyway), and a crashed worker's lease runs out and the alert is
//! claimed again. Every attempt, error and delivery is recorded on the row.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use hotline_domain::outbox::{AfterFailure, Channel, OutboxStatus, RetryPolicy};
use uuid::Uuid;

use crate::queries::{corrupt, parse_opt_uuid, parse_uuid};
use crate::schema::outbox;
use crate::{DbConnection, MultiBackend, StorageError, db_time, utc};

/// An alert to enqueue, already rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlert {
    /// Email to a partner or webhook to the desk software.
    pub channel: Channel,
    /// Which alert, e.g. `referral_requested`, or for a webhook the event, e.g. `ticket.triaged`.
    pub alert_kind: String,
    /// Ticket it is about.
    pub ticket_id: Uuid,
    /// Referral it is about, if any.
    pub referral_id: Option<Uuid>,
    /// Partner it goes to, if any.
    pub partner_id: Option<Uuid>,
    /// Address (or URL).
    pub recipient: String,
    /// Subject (for a webhook, the event type).
    pub subject: String,
    /// Body (for a webhook, the JSON payload).
    pub body: String,
    /// The webhook endpoint it goes to, whose configured secret signs it.
    pub webhook_endpoint: Option<String>,
}

/// An alert as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRecord {
    /// Row id.
    pub id: Uuid,
    /// Channel.
    pub channel: Channel,
    /// Kind.
    pub alert_kind: String,
    /// Ticket.
    pub ticket_id: Uuid,
    /// Referral.
    pub referral_id: Option<Uuid>,
    /// Partner.
    pub partner_id: Option<Uuid>,
    /// Recipient.
    pub recipient: String,
    /// Stable Message-ID (without angle brackets): the same on every attempt, for receivers to dedupe.
    pub message_id: String,
    /// Subject.
    pub subject: String,
    /// Body.
    pub body: String,
    /// Status.
    pub status: OutboxStatus,
    /// Attempts made.
    pub attempts: i32,
    /// Attempts allowed.
    pub max_attempts: i32,
    /// When the next attempt is due.
    pub next_attempt_at: DateTime<Utc>,
    /// Worker holding the lease.
    pub locked_by: Option<String>,
    /// Lease end.
    pub locked_until: Option<DateTime<Utc>>,
    /// Last failure.
    pub last_error: Option<String>,
    /// Delivery time.
    pub sent_at: Option<DateTime<Utc>>,
    /// Enqueued.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Webhook endpoint (webhooks only).
    pub webhook_endpoint: Option<String>,
}

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = outbox)]
#[diesel(check_for_backend(MultiBackend))]
struct AlertRow {
    id: String,
    channel: String,
    alert_kind: String,
    ticket_id: String,
    referral_id: Option<String>,
    partner_id: Option<String>,
    recipient: String,
    message_id: String,
    subject: String,
    body: String,
    status: String,
    attempts: i32,
    max_attempts: i32,
    next_attempt_at: NaiveDateTime,
    locked_by: Option<String>,
    locked_until: Option<NaiveDateTime>,
    last_error: Option<String>,
    sent_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    webhook_endpoint: Option<String>,
}

impl AlertRow {
    fn into_record(self) -> Result<AlertRecord, StorageError> {
        Ok(AlertRecord {
            id: parse_uuid("outbox.id", &self.id)?,
            ticket_id: parse_uuid("outbox.ticket_id", &self.ticket_id)?,
            referral_id: parse_opt_uuid("outbox.referral_id", self.referral_id.as_deref())?,
            partner_id: parse_opt_uuid("outbox.partner_id", self.partner_id.as_deref())?,
            status: OutboxStatus::parse(&self.status).map_err(|_| corrupt("outbox.status", &self.status))?,
            channel: Channel::parse(&self.channel).map_err(|_| corrupt("outbox.channel", &self.channel))?,
            alert_kind: self.alert_kind,
            recipient: self.recipient,
            message_id: self.message_id,
            subject: self.subject,
            body: self.body,
            attempts: self.attempts,
            max_attempts: self.max_attempts,
            next_attempt_at: utc(self.next_attempt_at),
            locked_by: self.locked_by,
            locked_until: self.locked_until.map(utc),
            last_error: self.last_error,
            sent_at: self.sent_at.map(utc),
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
            webhook_endpoint: self.webhook_endpoint,
        })
    }
}

/// Enqueues an alert, due at once, in the caller's transaction. Its Message-ID (for a webhook, its
/// delivery id) is derived from its id.
pub fn enqueue(
    conn: &mut DbConnection,
    alert: &NewAlert,
    policy: &RetryPolicy,
    message_domain: &str,
    now: DateTime<Utc>,
) -> Result<AlertRecord, StorageError> {
    let id = Uuid::now_v7();
    let now = db_time(now);
    let row = AlertRow {
        id: id.to_string(),
        channel: alert.channel.as_str().to_owned(),
        alert_kind: alert.alert_kind.clone(),
        ticket_id: alert.ticket_id.to_string(),
        referral_id: alert.referral_id.map(|id| id.to_string()),
        partner_id: alert.partner_id.map(|id| id.to_string()),
        recipient: alert.recipient.clone(),
        message_id: match alert.channel {
            Channel::Email => format!("{}@{message_domain}", id.simple()),
            Channel::Webhook => format!("msg_{}", id.simple()),
        },
        subject: alert.subject.clone(),
        body: alert.body.clone(),
        status: OutboxStatus::Pending.as_str().to_owned(),
        attempts: 0,
        max_attempts: i32::try_from(policy.max_attempts).unwrap_or(i32::MAX),
        next_attempt_at: now,
        locked_by: None,
        locked_until: None,
        last_error: None,
        sent_at: None,
        created_at: now,
        updated_at: now,
        webhook_endpoint: alert.webhook_endpoint.clone(),
    };
    diesel::insert_into(outbox::table).values(&row).execute(conn)?;
    row.into_record()
}

/// Claims up to `limit` due alerts for `worker` until `now + lease`: pending ones whose time has come,
/// and ones whose previous claimer's lease ran out. Run it in a write transaction.
pub fn claim(
    conn: &mut DbConnection,
    worker: &str,
    limit: i64,
    lease: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<Vec<AlertRecord>, StorageError> {
    const CLAIM: &str = "UPDATE outbox SET status = 'sending', locked_by = #1, locked_until = #2, updated_at = #3 \
         WHERE id IN (SELECT id FROM outbox \
             WHERE (status = 'pending' AND next_attempt_at <= #3) OR (status = 'sending' AND locked_until < #3) \
             ORDER BY next_attempt_at, id LIMIT #4 LOCKING) \
         RETURNING *";
    let until = db_time(now + lease);
    let now = db_time(now);
    let rows: Vec<AlertRow> = match conn {
        DbConnection::Postgresql(pg) => {
            let sql = CLAIM.replace("#1", "$1").replace("#2", "$2").replace("#3", "$3").replace("#4", "$4");
            diesel::sql_query(sql.replace("LOCKING", "FOR UPDATE SKIP LOCKED"))
                .bind::<Text, _>(worker)
                .bind::<Timestamp, _>(until)
                .bind::<Timestamp, _>(now)
                .bind::<BigInt, _>(limit)
                .load(pg)?
        }
        DbConnection::Sqlite(lite) => {
            // SQLite numbers its parameters like PostgreSQL when written ?NNN.
            let sql = CLAIM.replace("#1", "?1").replace("#2", "?2").replace("#3", "?3").replace("#4", "?4");
            diesel::sql_query(sql.replace(" LOCKING", ""))
                .bind::<Text, _>(worker)
                .bind::<Timestamp, _>(until)
                .bind::<Timestamp, _>(now)
                .bind::<BigInt, _>(limit)
                .load(lite)?
        }
    };
    let mut records: Vec<AlertRecord> =
        rows.into_iter().map(AlertRow::into_record).collect::<Result<_, _>>()?;
    records.sort_by_key(|record| (record.next_attempt_at, record.id));
    Ok(records)
}

/// Records a delivery. A delivery by a worker whose lease was taken over still counts: the alert was
/// sent, and sending it again would be the worse outcome.
pub fn mark_sent(conn: &mut DbConnection, id: Uuid, now: DateTime<Utc>) -> Result<(), StorageError> {
    diesel::update(outbox::table.find(id.to_string()).filter(outbox::status.ne(OutboxStatus::Sent.as_str())))
        .set((
            outbox::status.eq(OutboxStatus::Sent.as_str()),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::sent_at.eq(db_time(now)),
            outbox::locked_by.eq(None::<String>),
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(None::<String>),
            outbox::updated_at.eq(db_time(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records a failed attempt: the next try per the policy, or `failed`. Returns the new status.
pub fn mark_failed_attempt(
    conn: &mut DbConnection,
    id: Uuid,
    error: &str,
    permanent: bool,
    policy: &RetryPolicy,
    now: DateTime<Utc>,
    jitter: f64,
) -> Result<OutboxStatus, StorageError> {
    let current: AlertRow = outbox::table.find(id.to_string()).select(AlertRow::as_select()).first(conn)?;
    if current.status == OutboxStatus::Sent.as_str() {
        return Ok(OutboxStatus::Sent);
    }
    let attempts = current.attempts + 1;
    let limit = RetryPolicy { max_attempts: u32::try_from(current.max_attempts).unwrap_or(0), ..*policy };
    let (status, next) =
        match limit.after_failure(u32::try_from(attempts).unwrap_or(u32::MAX), permanent, now, jitter) {
            AfterFailure::RetryAt(at) => (OutboxStatus::Pending, at),
            AfterFailure::GiveUp => (OutboxStatus::Failed, now),
        };
    let error: String = error.chars().take(1000).collect();
    diesel::update(outbox::table.find(id.to_string()))
        .set((
            outbox::status.eq(status.as_str()),
            outbox::attempts.eq(attempts),
            outbox::next_attempt_at.eq(db_time(next)),
            outbox::last_error.eq(error),
            outbox::locked_by.eq(None::<String>),
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::updated_at.eq(db_time(now)),
        ))
        .execute(conn)?;
    Ok(status)
}

/// Why an alert cannot be retried.
#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    /// No such alert.
    #[error("alert not found")]
    NotFound,
    /// Only failed alerts get a fresh set of attempts.
    #[error("the alert is {0:?}, not failed")]
    NotFailed(OutboxStatus),
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<diesel::result::Error> for RetryError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Storage(error.into())
    }
}

/// Makes a failed alert pending again with a fresh set of attempts (a supervisor's retry).
pub fn retry(
    conn: &mut DbConnection,
    id: Uuid,
    policy: &RetryPolicy,
    now: DateTime<Utc>,
) -> Result<AlertRecord, RetryError> {
    let current = get(conn, id)?.ok_or(RetryError::NotFound)?;
    if current.status != OutboxStatus::Failed {
        return Err(RetryError::NotFailed(current.status));
    }
    let max = current.attempts.saturating_add(i32::try_from(policy.max_attempts).unwrap_or(i32::MAX));
    diesel::update(outbox::table.find(id.to_string()))
        .set((
            outbox::status.eq(OutboxStatus::Pending.as_str()),
            outbox::max_attempts.eq(max),
            outbox::next_attempt_at.eq(db_time(now)),
            outbox::updated_at.eq(db_time(now)),
        ))
        .execute(conn)?;
    get(conn, id)?.ok_or(RetryError::NotFound)
}

/// One alert.
pub fn get(conn: &mut DbConnection, id: Uuid) -> Result<Option<AlertRecord>, StorageError> {
    outbox::table
        .find(id.to_string())
        .select(AlertRow::as_select())
        .first(conn)
        .optional()?
        .map(AlertRow::into_record)
        .transpose()
}

/// A ticket's alerts to partners (emails, not webhooks), oldest first.
pub fn of_ticket(conn: &mut DbConnection, ticket_id: Uuid) -> Result<Vec<AlertRecord>, StorageError> {
    outbox::table
        .filter(outbox::ticket_id.eq(ticket_id.to_string()))
        .filter(outbox::channel.eq(Channel::Email.as_str()))
        .order((outbox::created_at.asc(), outbox::id.asc()))
        .select(AlertRow::as_select())
        .load(conn)?
        .into_iter()
        .map(AlertRow::into_record)
        .collect()
}

/// Alerts and webhook deliveries in a status and channel (or all), newest first.
pub fn list(
    conn: &mut DbConnection,
    status: Option<OutboxStatus>,
    channel: Option<Channel>,
    limit: i64,
) -> Result<Vec<AlertRecord>, StorageError> {
    let mut query = outbox::table.select(AlertRow::as_select()).into_boxed();
    if let Some(status) = status {
        query = query.filter(outbox::status.eq(status.as_str()));
    }
    if let Some(channel) = channel {
        query = query.filter(outbox::channel.eq(channel.as_str()));
    }
    query
        .order((outbox::created_at.desc(), outbox::id.desc()))
        .limit(limit)
        .load(conn)?
        .into_iter()
        .map(AlertRow::into_record)
        .collect()
}

//! Tickets: the statuses a case moves through, the human-readable reference operators read out on the
//! phone, and the audit actions recorded for every change.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, Utc};
use chrono_tz::Tz;

use crate::FieldError;

/// Where a ticket stands. The full lifecycle lives here so storage and API never invent a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    /// Logged, not yet triaged.
    New,
    /// Category and priority set.
    Triaged,
    /// Being worked by the hotline.
    InProgress,
    /// Has an open referral.
    Escalated,
    /// Work done, summary recorded.
    Resolved,
    /// Finished for good (reopen needs a supervisor).
    Closed,
    /// Out of scope or not eligible.
    Declined,
}

impl TicketStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [TicketStatus; 7] = [
        Self::New,
        Self::Triaged,
        Self::InProgress,
        Self::Escalated,
        Self::Resolved,
        Self::Closed,
        Self::Declined,
    ];

    /// Stable storage and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Triaged => "triaged",
            Self::InProgress => "in_progress",
            Self::Escalated => "escalated",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
            Self::Declined => "declined",
        }
    }

    /// Reads a stored or given status.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        Self::ALL.into_iter().find(|status| status.as_str() == input).ok_or_else(|| {
            FieldError::new(
                "status",
                format!("status must be one of {}, got {input:?}", Self::ALL.map(Self::as_str).join(", ")),
            )
        })
    }

    /// Whether a follow-up call may be attached: a closed ticket must be reopened first, and a declined
    /// caller who calls again gets a new ticket.
    pub fn accepts_follow_up(self) -> bool {
        !matches!(self, Self::Closed | Self::Declined)
    }
}

/// A ticket reference such as `HL-2026-000123`: prefix, the year in the service time zone, and a
/// sequence number that restarts at 1 every year and has no gaps.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TicketReference {
    prefix: String,
    year: i32,
    seq: i64,
}

impl TicketReference {
    /// Builds a reference; the prefix must be 1–8 ASCII capitals, the year four digits, seq ≥ 1.
    pub fn new(prefix: &str, year: i32, seq: i64) -> Result<Self, FieldError> {
        let field = "reference";
        if prefix.is_empty() || prefix.len() > 8 || !prefix.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(FieldError::new(
                field,
                format!("reference prefix must be 1–8 capital letters, got {prefix:?}"),
            ));
        }
        if !(1000..=9999).contains(&year) || seq < 1 {
            return Err(FieldError::new(
                field,
                format!("reference needs a 4-digit year and a positive number, got {year} and {seq}"),
            ));
        }
        Ok(Self { prefix: prefix.to_owned(), year, seq })
    }

    /// The year part.
    pub fn year(&self) -> i32 {
        self.year
    }

    /// The number within the year.
    pub fn seq(&self) -> i64 {
        self.seq
    }
}

impl fmt::Display for TicketReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{:06}", self.prefix, self.year, self.seq)
    }
}

impl FromStr for TicketReference {
    type Err = FieldError;

    /// Parses `HL-2026-000123` (case-insensitive, full-width and any dash accepted: a Japanese IME
    /// often types `ー` for `-`).
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let cleaned = crate::text::unify_dashes(&crate::text::clean_text(input)).to_ascii_uppercase();
        let mut parts = cleaned.split('-');
        let (Some(prefix), Some(year), Some(seq), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(FieldError::new(
                "reference",
                format!("a ticket reference looks like HL-2026-000123, got {input:?}"),
            ));
        };
        let year_ok = year.len() == 4 && year.chars().all(|c| c.is_ascii_digit());
        let seq_ok = seq.len() >= 6 && seq.chars().all(|c| c.is_ascii_digit());
        match (year_ok, seq_ok, year.parse::<i32>(), seq.parse::<i64>()) {
            (true, true, Ok(year), Ok(seq)) => Self::new(prefix, year, seq),
            _ => Err(FieldError::new(
                "reference",
                format!("a ticket reference looks like HL-2026-000123, got {input:?}"),
            )),
        }
    }
}

/// The year a ticket created at `now` is numbered in: the calendar year in the service time zone, so a
/// ticket opened at 2027-01-01 08:00 JST (still 2026 in UTC) is numbered in 2027.
pub fn reference_year(now: DateTime<Utc>, time_zone: Tz) -> i32 {
    now.with_timezone(&time_zone).year()
}

/// The earliest first-call time of an earlier ticket that still counts as "the same caller calling
/// again" for a call starting at `started_at`.
pub fn repeat_caller_since(started_at: DateTime<Utc>, lookback_days: u32) -> DateTime<Utc> {
    started_at - Duration::days(i64::from(lookback_days))
}

/// Audit actions; their names are stable because auditors and reports filter on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EventAction {
    /// A new call opened the ticket.
    TicketOpened,
    /// A follow-up call was attached.
    CallLogged,
    /// Category, kind, facts and priority set or changed.
    TicketTriaged,
    /// Work started.
    TicketStarted,
    /// Assignee set or cleared.
    TicketAssigned,
    /// Resolution recorded.
    TicketResolved,
    /// Finished.
    TicketClosed,
    /// Declined (out of scope or not eligible).
    TicketDeclined,
    /// Reopened by a supervisor.
    TicketReopened,
    /// A note was added.
    NoteAdded,
    /// A supervisor confirmed an unverified caller.
    CallerConfirmed,
    /// A callback was promised.
    CallbackPromised,
    /// A referral was requested.
    ReferralRequested,
    /// The partner accepted.
    ReferralAccepted,
    /// The partner completed its work.
    ReferralCompleted,
    /// The partner declined.
    ReferralDeclined,
    /// The referral was withdrawn.
    ReferralCancelled,
    /// A supervisor retried a failed alert.
    AlertRetried,
    /// Incident facts (cause, dates, reports) were recorded or changed.
    FactsRecorded,
    /// A supervisor claimed the support payment.
    SupportPaymentClaimed,
    /// A supervisor recorded that the support payment was paid.
    SupportPaymentPaid,
    /// A supervisor recorded that the association refused the claim.
    SupportPaymentRejected,
    /// A regulatory deadline (PPC or MHLW report) fell due without the report being recorded: the
    /// hotline's reminder, written by the built-in deadline actor.
    DeadlineDue,
    /// Personal data of one class was replaced by the marker (retention ended, or the person asked).
    PersonalDataAnonymised,
}

wire_names!(EventAction, "event" {
    TicketOpened => "ticket.opened",
    CallLogged => "call.logged",
    TicketTriaged => "ticket.triaged",
    TicketStarted => "ticket.started",
    TicketAssigned => "ticket.assigned",
    TicketResolved => "ticket.resolved",
    TicketClosed => "ticket.closed",
    TicketDeclined => "ticket.declined",
    TicketReopened => "ticket.reopened",
    NoteAdded => "note.added",
    CallerConfirmed => "caller.confirmed",
    CallbackPromised => "callback.promised",
    ReferralRequested => "referral.requested",
    ReferralAccepted => "referral.accepted",
    ReferralCompleted => "referral.completed",
    ReferralDeclined => "referral.declined",
    ReferralCancelled => "referral.cancelled",
    AlertRetried => "alert.retried",
    FactsRecorded => "facts.recorded",
    SupportPaymentClaimed => "support_payment.claimed",
    SupportPaymentPaid => "support_payment.paid",
    SupportPaymentRejected => "support_payment.rejected",
    DeadlineDue => "deadline.due",
    PersonalDataAnonymised => "personal_data.anonymised",
});

#[cfg(test)]
mod tests {
    use chrono_tz::Asia::Tokyo;

    use super::*;

    fn reference(input: &str) -> TicketReference {
        input.parse().unwrap_or_else(|e| panic!("{input}: {e}"))
    }

    #[test]
    fn reference_is_displayed_with_a_six_digit_zero_padded_number() {
        let reference = TicketReference::new("HL", 2026, 123).expect("valid");
        assert_eq!(reference.to_string(), "HL-2026-000123");
        assert_eq!((reference.year(), reference.seq()), (2026, 123));
    }

    #[test]
    fn reference_round_trips_through_its_display() {
        for (prefix, year, seq) in
            [("HL", 2026, 1), ("HL", 2027, 999_999), ("ABCDEFGH", 1000, 42), ("X", 9999, 1_234_567)]
        {
            let reference = TicketReference::new(prefix, year, seq).expect("valid");
            assert_eq!(reference.to_string().parse::<TicketReference>(), Ok(reference));
        }
    }

    #[test]
    fn reference_in_lower_case_full_width_or_with_ime_dashes_is_read() {
        let expected = TicketReference::new("HL", 2026, 123).expect("valid");
        for input in [
            "hl-2026-000123",
            " HL-2026-000123 ",
            "ＨＬ－２０２６－０００１２３",
            "ｈｌ-2026-000123",
            "HLー2026ー000123",
            "HL−2026−000123",
            "HL‐2026‐000123",
        ] {
            assert_eq!(reference(input), expected, "{input}");
        }
    }

    #[test]
    fn reference_with_a_seven_digit_number_is_read_and_shown_in_full() {
        let reference = reference("HL-2026-1234567");
        assert_eq!(reference.seq(), 1_234_567);
        assert_eq!(reference.to_string(), "HL-2026-1234567");
    }

    #[test]
    fn malformed_references_are_refused() {
        for input in [
            "",
            "HL",
            "HL-2026",
            "HL-2026-123",
            "HL-26-000123",
            "HL-02026-000123",
            "HL-2026-000123-1",
            "HL2026000123",
            "H1-2026-000123",
            "-2026-000123",
            "HL-2026-000000",
            "HL-0999-000123",
            "HL-2026-00012a",
            "HL-2026-+00123",
            "HL-2026-99999999999999999999",
            "TOOLONGPX-2026-000123",
            "HL 2026 000123",
        ] {
            let error = input.parse::<TicketReference>().expect_err(input);
            assert_eq!(error.field, "reference", "{input}");
        }
    }

    #[test]
    fn new_refuses_bad_prefix_year_or_number() {
        assert!(TicketReference::new("", 2026, 1).is_err());
        assert!(TicketReference::new("hl", 2026, 1).is_err());
        assert!(TicketReference::new("ABCDEFGHI", 2026, 1).is_err());
        assert!(TicketReference::new("ＨＬ", 2026, 1).is_err());
        assert!(TicketReference::new("HL", 999, 1).is_err());
        assert!(TicketReference::new("HL", 10_000, 1).is_err());
        assert!(TicketReference::new("HL", 2026, 0).is_err());
        assert!(TicketReference::new("HL", 2026, -1).is_err());
    }

    #[test]
    fn reference_year_is_the_tokyo_year_at_the_new_year_boundary() {
        let last_second = "2026-12-31T14:59:59Z".parse().expect("instant");
        let new_year = "2026-12-31T15:00:00Z".parse().expect("instant");
        assert_eq!(reference_year(last_second, Tokyo), 2026);
        assert_eq!(reference_year(new_year, Tokyo), 2027);
        assert_eq!(reference_year(new_year, chrono_tz::UTC), 2026);
    }

    #[test]
    fn repeat_caller_window_looks_back_whole_days() {
        let at: DateTime<Utc> = "2026-03-10T01:00:00Z".parse().expect("instant");
        assert_eq!(
            repeat_caller_since(at, 30),
            "2026-02-08T01:00:00Z".parse::<DateTime<Utc>>().expect("instant")
        );
        assert_eq!(repeat_caller_since(at, 0), at);
    }

    #[test]
    fn status_round_trips_through_its_name() {
        for status in TicketStatus::ALL {
            assert_eq!(TicketStatus::parse(status.as_str()), Ok(status));
        }
        assert_eq!(TicketStatus::parse("in_progress"), Ok(TicketStatus::InProgress));
    }

    #[test]
    fn unknown_status_is_refused_listing_every_status() {
        let error = TicketStatus::parse("open").expect_err("unknown");
        assert_eq!(error.field, "status");
        assert!(
            error.detail.contains("new, triaged, in_progress, escalated, resolved, closed, declined"),
            "{}",
            error.detail
        );
        assert!(TicketStatus::parse("New").is_err());
    }

    #[test]
    fn only_closed_and_declined_tickets_refuse_follow_up_calls() {
        for status in TicketStatus::ALL {
            let expected = !matches!(status, TicketStatus::Closed | TicketStatus::Declined);
            assert_eq!(status.accepts_follow_up(), expected, "{}", status.as_str());
        }
    }

    #[test]
    fn event_actions_have_stable_dotted_names() {
        assert_eq!(EventAction::TicketOpened.as_str(), "ticket.opened");
        assert_eq!(EventAction::CallLogged.as_str(), "call.logged");
    }
}

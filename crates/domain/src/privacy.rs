//! Personal data under the APPI: its classes, how long each is kept after a ticket's closure, when a
//! ticket's data of a class is due for anonymisation (time is a parameter), the marker that replaces it,
//! and what reading it is recorded as. See docs/data-protection.md for the inventory of fields.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::ticket::TicketStatus;

/// What replaces anonymised or erased personal data: rows stay (so counts, dates and references do not
/// change), their personal values do not.
pub const ANONYMISED: &str = "[anonymised]";

/// A class of personal data, each with its own retention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DataClass {
    /// Who called and how to reach them, and what they claimed: names, phone numbers, addresses as
    /// given, the identifier given, the consenting person's name.
    CallerContact,
    /// What was written in words: summaries, notes, reasons.
    FreeText,
}

wire_names!(DataClass, "class" { CallerContact => "caller_contact", FreeText => "free_text" });

/// Why personal data was anonymised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AnonymisationBasis {
    /// Its retention period after the ticket's closure ended.
    Retention,
    /// The person asked for erasure.
    Request,
}

wire_names!(AnonymisationBasis, "basis" { Retention => "retention", Request => "request" });

/// How long each class is kept after a ticket's closure, in days (configuration `privacy.retention`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Caller contact data.
    pub caller_contact_days: u32,
    /// Free text.
    pub free_text_days: u32,
}

/// The longest retention the configuration accepts (100 years).
pub const MAX_RETENTION_DAYS: u32 = 36_500;

impl RetentionPolicy {
    /// The days kept of `class`.
    pub fn days(&self, class: DataClass) -> u32 {
        match class {
            DataClass::CallerContact => self.caller_contact_days,
            DataClass::FreeText => self.free_text_days,
        }
    }

    /// Refuses periods that cannot be meant: zero (data erased at closure, before anyone could follow
    /// up) or beyond [`MAX_RETENTION_DAYS`].
    pub fn check(&self) -> Result<(), String> {
        for (name, days) in
            [("caller_contact_days", self.caller_contact_days), ("free_text_days", self.free_text_days)]
        {
            if !(1..=MAX_RETENTION_DAYS).contains(&days) {
                return Err(format!("{name} must be 1–{MAX_RETENTION_DAYS}, got {days}"));
            }
        }
        Ok(())
    }

    /// Tickets closed at or before this instant are due for anonymising `class` at `now`.
    pub fn closed_before(&self, class: DataClass, now: DateTime<Utc>) -> DateTime<Utc> {
        now - Duration::days(i64::from(self.days(class)))
    }

    /// Whether a ticket's `class` data is due at `now`: the ticket is finished (closed, or declined, which
    /// takes no further change) and its closure lies a whole retention period back. An open, resolved
    /// or reopened ticket is never due.
    pub fn is_due(&self, class: DataClass, ticket: &Closure, now: DateTime<Utc>) -> bool {
        ticket.closed_at().is_some_and(|closed| closed <= self.closed_before(class, now))
    }
}

/// What decides when a ticket was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closure {
    /// Its status.
    pub status: TicketStatus,
    /// When it was closed (closed tickets).
    pub closed_at: Option<DateTime<Utc>>,
    /// Its last change (a declined ticket's decline).
    pub updated_at: DateTime<Utc>,
}

impl Closure {
    /// When the ticket's retention started: its closure, or for a declined ticket its decline.
    pub fn closed_at(&self) -> Option<DateTime<Utc>> {
        match self.status {
            TicketStatus::Closed => self.closed_at,
            TicketStatus::Declined => Some(self.updated_at),
            _ => None,
        }
    }
}

/// Whether a stored value still holds personal data (is neither the marker nor empty).
pub fn holds_personal_data(value: &str) -> bool {
    !value.is_empty() && value != ANONYMISED
}

/// What a read of a ticket's personal data showed, in the access log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AccessKind {
    /// The whole ticket (`GET /v1/tickets/{id}`).
    Ticket,
    /// One call (`GET /v1/calls/{id}`).
    Call,
    /// The audit trail (`GET /v1/tickets/{id}/events`).
    Events,
    /// The whole ticket, in the response to a change.
    Change,
    /// Records found by a person's request (`GET /v1/personal-data`).
    Request,
}

wire_names!(AccessKind, "what" {
    Ticket => "ticket",
    Call => "call",
    Events => "events",
    Change => "change",
    Request => "request",
});

/// What a person's request names them by, parsed as intake stores it: a phone number as its digits, an
/// identifier as its canonical digits, a name as cleaned text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonQuery {
    /// A phone number (digits, `0…`).
    Phone(String),
    /// A medical registration number (医籍登録番号).
    RegistrationNumber(String),
    /// An association member number (会員番号).
    MemberNumber(String),
    /// A name (caller or member).
    Name(String),
}

impl PersonQuery {
    /// Exactly one of the four, parsed; none or several is a field error.
    pub fn parse(
        phone: Option<&str>,
        registration_number: Option<&str>,
        member_number: Option<&str>,
        name: Option<&str>,
    ) -> Result<Self, crate::FieldError> {
        use crate::identifiers::{MemberNumber, RegistrationNumber};
        use crate::person::{Name, PhoneNumber};
        let given = [phone, registration_number, member_number, name].iter().filter(|v| v.is_some()).count();
        if given != 1 {
            return Err(crate::FieldError::new(
                "query",
                "give exactly one of phone, registration_number, member_number, name",
            ));
        }
        if let Some(phone) = phone {
            return Ok(Self::Phone(PhoneNumber::parse("phone", phone)?.as_str().to_owned()));
        }
        if let Some(number) = registration_number {
            return Ok(Self::RegistrationNumber(RegistrationNumber::parse(number)?.as_str().to_owned()));
        }
        if let Some(number) = member_number {
            return Ok(Self::MemberNumber(MemberNumber::parse(number)?.as_str().to_owned()));
        }
        let name = Name::parse("name", name.unwrap_or_default())?;
        if name.as_str().contains(['%', '_', '\\']) {
            return Err(crate::FieldError::new("name", "name must not contain %, _ or \\"));
        }
        Ok(Self::Name(name.as_str().to_owned()))
    }

    /// What free text is searched for, squeezed like the text it is compared with ([`squeeze`]).
    pub fn needle(&self) -> String {
        match self {
            Self::Phone(v) | Self::RegistrationNumber(v) | Self::MemberNumber(v) | Self::Name(v) => {
                squeeze(v)
            }
        }
    }
}

/// Text without the separators people write inside numbers and names (hyphens, ASCII and ideographic
/// spaces), so "03-3946-2121" holds "0339462121" and "山田　太郎" holds "山田太郎". Storage squeezes
/// columns the same way in SQL.
pub fn squeeze(text: &str) -> String {
    text.chars().filter(|c| !matches!(c, '-' | ' ' | '\u{3000}')).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).expect("instant").with_timezone(&Utc)
    }

    const POLICY: RetentionPolicy = RetentionPolicy { caller_contact_days: 365, free_text_days: 1095 };

    fn closed(at_: &str) -> Closure {
        Closure { status: TicketStatus::Closed, closed_at: Some(at(at_)), updated_at: at(at_) }
    }

    #[test]
    fn a_ticket_closed_a_whole_period_ago_is_due_and_one_closed_a_day_later_is_not() {
        let now = at("2026-11-20T01:00:00Z");
        assert!(POLICY.is_due(DataClass::CallerContact, &closed("2025-11-19T01:00:00Z"), now));
        assert!(POLICY.is_due(DataClass::CallerContact, &closed("2025-11-20T01:00:00Z"), now));
        assert!(!POLICY.is_due(DataClass::CallerContact, &closed("2025-11-20T01:00:01Z"), now));
        // The free text is kept longer.
        assert!(!POLICY.is_due(DataClass::FreeText, &closed("2025-11-19T01:00:00Z"), now));
        assert!(POLICY.is_due(DataClass::FreeText, &closed("2023-11-20T01:00:00Z"), now));
    }

    #[test]
    fn only_finished_tickets_are_due_and_a_declined_one_counts_from_its_decline() {
        let now = at("2030-01-01T00:00:00Z");
        let long_ago = at("2020-01-01T00:00:00Z");
        for status in [TicketStatus::New, TicketStatus::InProgress, TicketStatus::Resolved] {
            let ticket = Closure { status, closed_at: Some(long_ago), updated_at: long_ago };
            assert!(!POLICY.is_due(DataClass::CallerContact, &ticket, now), "{status:?}");
        }
        let declined = Closure { status: TicketStatus::Declined, closed_at: None, updated_at: long_ago };
        assert!(POLICY.is_due(DataClass::CallerContact, &declined, now));
        let reopened_then_closed_again =
            Closure { status: TicketStatus::Closed, closed_at: None, updated_at: long_ago };
        assert!(!POLICY.is_due(DataClass::CallerContact, &reopened_then_closed_again, now));
    }

    #[test]
    fn retention_periods_out_of_range_are_refused() {
        assert!(POLICY.check().is_ok());
        let zero = RetentionPolicy { caller_contact_days: 0, ..POLICY };
        assert_eq!(zero.check(), Err("caller_contact_days must be 1–36500, got 0".to_owned()));
        let huge = RetentionPolicy { free_text_days: 40_000, ..POLICY };
        assert!(huge.check().is_err());
    }

    #[test]
    fn a_person_is_named_by_exactly_one_value_parsed_as_intake_stores_it() {
        assert_eq!(
            PersonQuery::parse(Some("03-3946-2121"), None, None, None),
            Ok(PersonQuery::Phone("0339462121".to_owned()))
        );
        assert_eq!(
            PersonQuery::parse(Some("+81 3 3946 2121"), None, None, None).map(|q| q.needle()),
            Ok("0339462121".to_owned())
        );
        assert_eq!(
            PersonQuery::parse(None, None, None, Some(" 山田　太郎 ")).map(|q| q.needle()),
            Ok("山田太郎".to_owned())
        );
        assert!(PersonQuery::parse(None, None, None, None).is_err());
        assert!(PersonQuery::parse(Some("0339462121"), Some("123456"), None, None).is_err());
        assert!(PersonQuery::parse(Some("12"), None, None, None).is_err());
        assert!(PersonQuery::parse(None, None, None, Some("100%")).is_err());
    }

    #[test]
    fn the_marker_holds_no_personal_data() {
        assert!(!holds_personal_data(ANONYMISED));
        assert!(!holds_personal_data(""));
        assert!(holds_personal_data("山田 太郎"));
    }
}

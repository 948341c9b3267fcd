//! Webhooks for the desk software: which ticket events an endpoint receives, and what a webhook may say.
//!
//! A webhook is a *thin* event: its type, when it happened, the ticket's id and reference, the ids of
//! what it touched (call, referral, partner, callback, note, alert), the referral kind and the status
//! transition, if any.
//! Never names, phone numbers, registration numbers, notes or summaries: the desk software fetches the
//! ticket through the API with its own token when it needs more, so a webhook that leaks (a log, a proxy,
//! a wrong URL) gives away nothing about a caller, and what it says is never staler than the API.

use crate::FieldError;
use crate::ticket::EventAction;

/// Keys of an audit event's change record that a webhook repeats as they are: identifiers, the kind
/// (of a referral, or of the report a `deadline.due` event is about) and a deadline's due date. The
/// status transition is repeated under [`status_key`]; everything else (notes, reasons, names, consent,
/// receipt numbers) stays in the API.
pub const SHARED_CHANGE_KEYS: &[&str] = &[
    "call_id",
    "referral_id",
    "partner_id",
    "callback_id",
    "note_id",
    "alert_id",
    "claim_id",
    "kind",
    "due_date",
];

/// Under which key a webhook carries the event's status transition (`{"before", "after"}`), naming
/// whose status it is: the referral's for a partner's answer or a cancellation, the alert's for a
/// retried alert, the support-payment claim's for a claim step, the ticket's otherwise.
pub fn status_key(action: EventAction) -> &'static str {
    match action {
        EventAction::ReferralAccepted
        | EventAction::ReferralCompleted
        | EventAction::ReferralDeclined
        | EventAction::ReferralCancelled => "referral_status",
        EventAction::AlertRetried => "alert_status",
        EventAction::SupportPaymentClaimed
        | EventAction::SupportPaymentPaid
        | EventAction::SupportPaymentRejected => "claim_status",
        _ => "ticket_status",
    }
}

/// A webhook endpoint's name: the stable key its deliveries and its secret are found by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EndpointName(String);

impl EndpointName {
    /// Reads a name: 1–63 characters of lower-case ASCII letters, digits, `-` and `_`, starting with a
    /// letter or digit, so it is safe in URLs, logs and config keys.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let valid = !input.is_empty()
            && input.len() <= 63
            && input.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
            && input.starts_with(|c: char| c.is_ascii_alphanumeric());
        if valid {
            Ok(Self(input.to_owned()))
        } else {
            Err(FieldError::new(
                "name",
                format!(
                    "a webhook endpoint name is 1–63 characters of a–z, 0–9, '-' and '_', starting with a \
                     letter or digit; got {input:?}"
                ),
            ))
        }
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One subscription pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    /// `*`: every event.
    All,
    /// `ticket.*`: every event of a family (the part before the dot).
    Family(String),
    /// One event by name.
    Exact(EventAction),
}

impl Pattern {
    fn matches(&self, action: EventAction) -> bool {
        match self {
            Pattern::All => true,
            Pattern::Family(family) => family_of(action) == family,
            Pattern::Exact(wanted) => *wanted == action,
        }
    }

    fn as_text(&self) -> String {
        match self {
            Pattern::All => "*".to_owned(),
            Pattern::Family(family) => format!("{family}.*"),
            Pattern::Exact(action) => action.as_str().to_owned(),
        }
    }
}

fn family_of(action: EventAction) -> &'static str {
    action.as_str().split_once('.').map_or(action.as_str(), |(family, _)| family)
}

/// The events an endpoint subscribes to: `*`, families such as `ticket.*` and `referral.*`, or single
/// events such as `referral.requested`. Unknown names are refused when the configuration is read, so a
/// typo never silently subscribes to nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFilter {
    patterns: Vec<Pattern>,
}

impl EventFilter {
    /// Every event.
    pub fn all() -> Self {
        Self { patterns: vec![Pattern::All] }
    }

    /// Reads a list of patterns; an empty list is refused (an endpoint that wants nothing should be
    /// removed or deactivated instead).
    pub fn parse<S: AsRef<str>>(patterns: &[S]) -> Result<Self, FieldError> {
        if patterns.is_empty() {
            return Err(FieldError::new(
                "events",
                "list at least one event pattern: \"*\" for every event, a family such as \"ticket.*\", or \
                 an event name such as \"referral.requested\"",
            ));
        }
        let patterns = patterns.iter().map(|text| Self::pattern(text.as_ref())).collect::<Result<_, _>>()?;
        Ok(Self { patterns })
    }

    fn pattern(text: &str) -> Result<Pattern, FieldError> {
        let text = text.trim();
        if text == "*" {
            return Ok(Pattern::All);
        }
        if let Some(family) = text.strip_suffix(".*") {
            if EventAction::ALL.iter().any(|action| family_of(*action) == family) {
                return Ok(Pattern::Family(family.to_owned()));
            }
            let mut families: Vec<&str> = EventAction::ALL.iter().map(|action| family_of(*action)).collect();
            families.dedup();
            return Err(FieldError::new(
                "events",
                format!(
                    "no event family {family:?}; families are {}",
                    families.iter().map(|f| format!("{f}.*")).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        EventAction::parse(text).map(Pattern::Exact).map_err(|error| FieldError::new("events", error.detail))
    }

    /// Whether an endpoint with this filter receives `action`.
    pub fn matches(&self, action: EventAction) -> bool {
        self.patterns.iter().any(|pattern| pattern.matches(action))
    }

    /// The patterns as written in configuration, for storage and display.
    pub fn patterns(&self) -> Vec<String> {
        self.patterns.iter().map(Pattern::as_text).collect()
    }

    /// Stored form: the patterns separated by spaces.
    pub fn to_stored(&self) -> String {
        self.patterns().join(" ")
    }

    /// Reads the stored form.
    pub fn from_stored(stored: &str) -> Result<Self, FieldError> {
        Self::parse(&stored.split_whitespace().collect::<Vec<_>>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(patterns: &[&str]) -> EventFilter {
        EventFilter::parse(patterns).unwrap_or_else(|e| panic!("{patterns:?}: {e:?}"))
    }

    #[test]
    fn star_matches_every_event() {
        let all = filter(&["*"]);
        assert!(EventAction::ALL.iter().all(|action| all.matches(*action)));
        assert_eq!(all, EventFilter::all());
    }

    #[test]
    fn a_family_matches_exactly_its_own_events() {
        let referrals = filter(&["referral.*"]);
        for action in EventAction::ALL {
            assert_eq!(
                referrals.matches(*action),
                action.as_str().starts_with("referral."),
                "{}",
                action.as_str()
            );
        }
        assert!(referrals.matches(EventAction::ReferralRequested));
        assert!(!referrals.matches(EventAction::TicketOpened));
    }

    #[test]
    fn exact_names_and_families_combine() {
        let mixed = filter(&["ticket.opened", "referral.*"]);
        assert!(mixed.matches(EventAction::TicketOpened));
        assert!(mixed.matches(EventAction::ReferralCancelled));
        assert!(!mixed.matches(EventAction::TicketTriaged));
        assert!(!mixed.matches(EventAction::NoteAdded));
    }

    #[test]
    fn unknown_names_and_families_are_refused_with_the_choices() {
        let error = EventFilter::parse(&["ticket.opend"]).expect_err("typo");
        assert_eq!(error.field, "events");
        assert!(error.detail.contains("ticket.opened"), "{}", error.detail);
        let error = EventFilter::parse(&["tickets.*"]).expect_err("no such family");
        assert!(error.detail.contains("ticket.*") && error.detail.contains("referral.*"), "{}", error.detail);
        assert!(EventFilter::parse(&["ticket"]).is_err());
        assert!(EventFilter::parse(&["**"]).is_err());
    }

    #[test]
    fn an_empty_list_is_refused() {
        let error = EventFilter::parse::<&str>(&[]).expect_err("empty");
        assert!(error.detail.contains("\"*\""), "{}", error.detail);
    }

    #[test]
    fn stored_form_round_trips() {
        let original = filter(&[" ticket.* ", "referral.requested", "*"]);
        assert_eq!(original.to_stored(), "ticket.* referral.requested *");
        assert_eq!(EventFilter::from_stored(&original.to_stored()), Ok(original));
    }

    #[test]
    fn endpoint_names_are_url_and_log_safe() {
        for good in ["desk", "desk-1", "a", "0_main", &"x".repeat(63)] {
            assert_eq!(EndpointName::parse(good).map(|n| n.as_str().to_owned()), Ok(good.to_owned()));
        }
        for bad in ["", "Desk", "-desk", "_desk", "desk 1", "デスク", "desk/1", &"x".repeat(64)] {
            assert!(EndpointName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn status_transitions_name_whose_status_they_are() {
        assert_eq!(status_key(EventAction::TicketTriaged), "ticket_status");
        assert_eq!(status_key(EventAction::ReferralRequested), "ticket_status");
        assert_eq!(status_key(EventAction::ReferralAccepted), "referral_status");
        assert_eq!(status_key(EventAction::ReferralCancelled), "referral_status");
        assert_eq!(status_key(EventAction::AlertRetried), "alert_status");
        assert_eq!(status_key(EventAction::SupportPaymentRejected), "claim_status");
        assert_eq!(status_key(EventAction::FactsRecorded), "ticket_status");
    }

    #[test]
    fn shared_keys_are_identifiers_the_kind_and_the_due_date_only() {
        for key in SHARED_CHANGE_KEYS {
            assert!(key.ends_with("_id") || ["kind", "due_date"].contains(key), "{key}");
        }
        for private in ["note", "decline_reason", "resolution_summary", "consent", "police_receipt_number"] {
            assert!(!SHARED_CHANGE_KEYS.contains(&private), "{private}");
        }
    }
}

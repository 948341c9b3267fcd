//! The SLA clocks of one ticket and its referrals: which deadlines apply, which are met, which are
//! late. Queues ("what is overdue?") and ticket views both use this, so they cannot disagree.

use chrono::{DateTime, Utc};

use crate::referral::ReferralStatus;
use crate::sla::{Deadline, SlaTargets};
use crate::ticket::TicketStatus;
use crate::triage::Priority;

/// What the clocks need to know about a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketTimes {
    /// Status now.
    pub status: TicketStatus,
    /// Applied priority, if triaged.
    pub priority: Option<Priority>,
    /// Start of the first call: every ticket clock starts here.
    pub first_call_at: DateTime<Utc>,
    /// First action after the call.
    pub first_response_at: Option<DateTime<Utc>>,
    /// Resolution.
    pub resolved_at: Option<DateTime<Utc>>,
}

/// What the clocks need to know about a referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReferralTimes {
    /// Status now.
    pub status: ReferralStatus,
    /// Request time: the acceptance clock starts here.
    pub requested_at: DateTime<Utc>,
    /// Acceptance.
    pub accepted_at: Option<DateTime<Utc>>,
    /// Decline or cancellation, which stops the clock.
    pub ended_at: Option<DateTime<Utc>>,
}

/// A ticket's deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct TicketDeadlines {
    /// First response after the first call.
    pub first_response: Deadline,
    /// Resolution; `None` for declined tickets, which need none.
    pub resolution: Option<Deadline>,
}

impl TicketDeadlines {
    /// Any of the ticket's own clocks is running late.
    pub fn is_late(&self) -> bool {
        self.first_response.is_open_and_late() || self.resolution.is_some_and(|d| d.is_open_and_late())
    }
}

/// The deadlines of a ticket at `now`.
pub fn ticket_deadlines(targets: &SlaTargets, ticket: &TicketTimes, now: DateTime<Utc>) -> TicketDeadlines {
    let target = targets.for_priority(ticket.priority);
    let first_response =
        Deadline::new(ticket.first_call_at, target.first_response, ticket.first_response_at, now);
    let resolution = (ticket.status != TicketStatus::Declined)
        .then(|| Deadline::new(ticket.first_call_at, target.resolution, ticket.resolved_at, now));
    TicketDeadlines { first_response, resolution }
}

/// The acceptance deadline of a referral at `now`; a declined or cancelled referral's clock stopped
/// when it ended.
pub fn referral_deadline(
    targets: &SlaTargets,
    priority: Option<Priority>,
    referral: &ReferralTimes,
    now: DateTime<Utc>,
) -> Deadline {
    let target = targets.for_priority(priority).referral_acceptance;
    let stopped = referral.accepted_at.or(referral.ended_at);
    Deadline::new(referral.requested_at, target, stopped, now)
}

/// Whether a ticket belongs in the overdue queue: its own clocks, or an open referral's acceptance.
pub fn is_overdue(
    targets: &SlaTargets,
    ticket: &TicketTimes,
    referrals: &[ReferralTimes],
    now: DateTime<Utc>,
) -> bool {
    if matches!(ticket.status, TicketStatus::Closed | TicketStatus::Declined) {
        return false;
    }
    ticket_deadlines(targets, ticket, now).is_late()
        || referrals.iter().any(|referral| {
            referral.status.is_open()
                && referral_deadline(targets, ticket.priority, referral, now).is_open_and_late()
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn at(hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, hour, minute, 0).unwrap()
    }

    fn ticket(status: TicketStatus, priority: Option<Priority>) -> TicketTimes {
        TicketTimes { status, priority, first_call_at: at(1, 0), first_response_at: None, resolved_at: None }
    }

    #[test]
    fn an_untriaged_ticket_is_late_after_fifteen_minutes_without_response() {
        let targets = SlaTargets::default();
        let new = ticket(TicketStatus::New, None);
        assert!(!is_overdue(&targets, &new, &[], at(1, 15)));
        assert!(is_overdue(&targets, &new, &[], at(1, 16)));
    }

    #[test]
    fn a_responded_p4_ticket_is_not_late_within_a_month() {
        let targets = SlaTargets::default();
        let mut triaged = ticket(TicketStatus::Triaged, Some(Priority::P4));
        triaged.first_response_at = Some(at(1, 5));
        assert!(!is_overdue(&targets, &triaged, &[], at(1, 0) + Duration::days(29)));
        assert!(is_overdue(&targets, &triaged, &[], at(1, 0) + Duration::days(31)));
    }

    #[test]
    fn closed_and_declined_tickets_are_never_overdue_and_declined_have_no_resolution_clock() {
        let targets = SlaTargets::default();
        let late = at(1, 0) + Duration::days(90);
        assert!(!is_overdue(&targets, &ticket(TicketStatus::Closed, Some(Priority::P1)), &[], late));
        assert!(!is_overdue(&targets, &ticket(TicketStatus::Declined, None), &[], late));
        assert_eq!(ticket_deadlines(&targets, &ticket(TicketStatus::Declined, None), late).resolution, None);
    }

    #[test]
    fn an_open_referral_not_accepted_in_time_makes_the_ticket_overdue() {
        let targets = SlaTargets::default();
        let mut escalated = ticket(TicketStatus::Escalated, Some(Priority::P1));
        escalated.first_response_at = Some(at(1, 5));
        let requested = ReferralTimes {
            status: ReferralStatus::Requested,
            requested_at: at(1, 10),
            accepted_at: None,
            ended_at: None,
        };
        assert!(!is_overdue(&targets, &escalated, &[requested], at(3, 10)));
        assert!(is_overdue(&targets, &escalated, &[requested], at(3, 11)));
        let accepted =
            ReferralTimes { status: ReferralStatus::Accepted, accepted_at: Some(at(2, 0)), ..requested };
        assert!(!is_overdue(&targets, &escalated, &[accepted], at(3, 11)));
        let cancelled =
            ReferralTimes { status: ReferralStatus::Cancelled, ended_at: Some(at(1, 30)), ..requested };
        assert!(!referral_deadline(&targets, Some(Priority::P1), &cancelled, at(9, 0)).overdue);
    }
}

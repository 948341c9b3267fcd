//! Service-level clocks: how soon a ticket gets its first response, a referral is accepted, and a
//! ticket is resolved, per priority. Targets are configuration; this module only computes due times.

use chrono::{DateTime, Duration, Utc};

use crate::triage::Priority;

/// Targets for one priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaTarget {
    /// From the first call to the first action after it (triage).
    pub first_response: Duration,
    /// From a referral's request to the partner's acceptance.
    pub referral_acceptance: Duration,
    /// From the first call to resolution.
    pub resolution: Duration,
}

/// Targets for P1–P4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaTargets {
    /// Index 0 is P1.
    pub by_priority: [SlaTarget; 4],
}

impl Default for SlaTargets {
    /// P1 15 min / 2 h / 3 days; P2 1 h / 8 h / 7 days; P3 4 h / 24 h / 14 days; P4 24 h / 72 h / 30 days.
    fn default() -> Self {
        let target = |first: i64, referral: i64, resolution_days: i64| SlaTarget {
            first_response: Duration::minutes(first),
            referral_acceptance: Duration::hours(referral),
            resolution: Duration::days(resolution_days),
        };
        Self { by_priority: [target(15, 2, 3), target(60, 8, 7), target(240, 24, 14), target(1440, 72, 30)] }
    }
}

impl SlaTargets {
    /// The targets of a priority; an untriaged ticket is held to P1's first response.
    pub fn for_priority(&self, priority: Option<Priority>) -> SlaTarget {
        let index = match priority {
            None | Some(Priority::P1) => 0,
            Some(Priority::P2) => 1,
            Some(Priority::P3) => 2,
            Some(Priority::P4) => 3,
        };
        self.by_priority[index]
    }
}

/// A due time and whether it was missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Deadline {
    /// When it is due.
    pub due_at: DateTime<Utc>,
    /// When it was met, if it was.
    pub met_at: Option<DateTime<Utc>>,
    /// Not met by its due time (met late, or still open after it).
    pub overdue: bool,
}

impl Deadline {
    /// A deadline `target` after `start`, judged at `now`.
    pub fn new(
        start: DateTime<Utc>,
        target: Duration,
        met_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Self {
        let due_at = start + target;
        let overdue = match met_at {
            Some(met) => met > due_at,
            None => now > due_at,
        };
        Self { due_at, met_at, overdue }
    }

    /// Still open and past due: what the overdue queue lists.
    pub fn is_open_and_late(&self) -> bool {
        self.met_at.is_none() && self.overdue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(rfc3339: &str) -> DateTime<Utc> {
        rfc3339.parse().expect("an RFC 3339 instant")
    }

    fn target(first_minutes: i64, referral_hours: i64, resolution_days: i64) -> SlaTarget {
        SlaTarget {
            first_response: Duration::minutes(first_minutes),
            referral_acceptance: Duration::hours(referral_hours),
            resolution: Duration::days(resolution_days),
        }
    }

    #[test]
    fn default_targets_per_priority() {
        let targets = SlaTargets::default();
        assert_eq!(targets.for_priority(Some(Priority::P1)), target(15, 2, 3));
        assert_eq!(targets.for_priority(Some(Priority::P2)), target(60, 8, 7));
        assert_eq!(targets.for_priority(Some(Priority::P3)), target(240, 24, 14));
        assert_eq!(targets.for_priority(Some(Priority::P4)), target(1440, 72, 30));
    }

    #[test]
    fn targets_loosen_from_p1_to_p4() {
        let targets = SlaTargets::default();
        for pair in Priority::ALL.windows(2) {
            let (higher, lower) = (targets.for_priority(Some(pair[0])), targets.for_priority(Some(pair[1])));
            assert!(higher.first_response < lower.first_response, "{pair:?}");
            assert!(higher.referral_acceptance < lower.referral_acceptance, "{pair:?}");
            assert!(higher.resolution < lower.resolution, "{pair:?}");
        }
    }

    #[test]
    fn an_untriaged_ticket_is_held_to_p1() {
        let targets = SlaTargets::default();
        assert_eq!(targets.for_priority(None), targets.for_priority(Some(Priority::P1)));
    }

    #[test]
    fn configured_targets_are_indexed_p1_first() {
        let targets =
            SlaTargets { by_priority: [target(1, 1, 1), target(2, 2, 2), target(3, 3, 3), target(4, 4, 4)] };
        for (i, priority) in Priority::ALL.iter().enumerate() {
            let n = i as i64 + 1;
            assert_eq!(targets.for_priority(Some(*priority)), target(n, n, n), "{priority:?}");
        }
        assert_eq!(targets.for_priority(None), target(1, 1, 1));
    }

    #[test]
    fn an_open_deadline_is_overdue_only_after_its_due_time() {
        let start = at("2026-11-21T01:00:00Z");
        let target = Duration::minutes(15);
        let due = at("2026-11-21T01:15:00Z");
        let before = Deadline::new(start, target, None, at("2026-11-21T01:10:00Z"));
        assert_eq!(before, Deadline { due_at: due, met_at: None, overdue: false });
        assert!(!before.is_open_and_late());
        let exactly = Deadline::new(start, target, None, due);
        assert!(!exactly.overdue, "due at, not yet late");
        let after = Deadline::new(start, target, None, due + Duration::seconds(1));
        assert!(after.overdue);
        assert!(after.is_open_and_late());
    }

    #[test]
    fn a_deadline_met_in_time_is_never_overdue() {
        let start = at("2026-11-21T01:00:00Z");
        let met = at("2026-11-21T01:14:00Z");
        let deadline = Deadline::new(start, Duration::minutes(15), Some(met), at("2026-12-31T00:00:00Z"));
        assert_eq!(deadline.met_at, Some(met));
        assert!(!deadline.overdue);
        assert!(!deadline.is_open_and_late());
        let on_the_dot =
            Deadline::new(start, Duration::minutes(15), Some(start + Duration::minutes(15)), met);
        assert!(!on_the_dot.overdue);
    }

    #[test]
    fn a_deadline_met_late_stays_overdue_but_is_not_open() {
        let start = at("2026-11-21T01:00:00Z");
        let met = at("2026-11-21T01:20:00Z");
        // Judged before it was late, and long after: the verdict depends on when it was met, not on now.
        for now in [at("2026-11-21T01:05:00Z"), at("2027-01-01T00:00:00Z")] {
            let deadline = Deadline::new(start, Duration::minutes(15), Some(met), now);
            assert!(deadline.overdue);
            assert!(!deadline.is_open_and_late());
        }
    }

    #[test]
    fn resolution_deadlines_count_whole_days() {
        let start = at("2026-11-21T01:00:00Z");
        let target = SlaTargets::default().for_priority(Some(Priority::P2)).resolution;
        let deadline = Deadline::new(start, target, None, start);
        assert_eq!(deadline.due_at, at("2026-11-28T01:00:00Z"));
    }
}

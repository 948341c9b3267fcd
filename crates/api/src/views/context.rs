//! What every view needs: the reader's context (zone, "now", SLA targets, role, police defaults), and
//! the small shapes several views share.

use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use hotline_domain::office_hours::OfficeHours;
use hotline_domain::regulatory::DeadlinePolicy;
use hotline_domain::role::Role;
use hotline_domain::sla::{Deadline, SlaTargets};
use hotline_domain::support_payment::RuleBook;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::state::{AppState, PoliceFallback};

/// What a view needs besides the record: the zone instants are shown in, "now" for the clocks, the
/// SLA targets, the reader's role (for the actions offered), the police defaults, and the support-payment
/// rule sets and deadline periods (the assessment and the deadlines are computed on every read).
#[derive(Debug, Clone, Copy)]
pub struct ViewContext<'a> {
    /// Zone of every instant shown.
    pub tz: Tz,
    /// The request's "now".
    pub now: DateTime<Utc>,
    /// SLA targets per priority.
    pub sla: &'a SlaTargets,
    /// The reader's role.
    pub role: Role,
    /// Office hours of desks without their own.
    pub police_hours: &'a OfficeHours,
    /// What a closed desk's handoff tells the caller.
    pub police_fallback: &'a PoliceFallback,
    /// The support-payment rule sets in force.
    pub support_rules: &'a RuleBook,
    /// The periods of the regulatory deadlines.
    pub deadline_policy: &'a DeadlinePolicy,
}

impl AppState {
    /// The context of views answered to `role` at `now`.
    pub fn views(&self, role: Role, now: DateTime<Utc>) -> ViewContext<'_> {
        ViewContext {
            tz: self.time_zone(),
            now,
            sla: &self.config.sla,
            role,
            police_hours: &self.config.police_hours,
            police_fallback: &self.config.police_fallback,
            support_rules: &self.support_rules,
            deadline_policy: &self.deadline_policy,
        }
    }
}

impl ViewContext<'_> {
    /// An instant as shown to clients.
    pub fn at(&self, at: DateTime<Utc>) -> DateTime<FixedOffset> {
        crate::time::display_time(at, self.tz)
    }

    /// An optional instant as shown to clients.
    pub fn at_opt(&self, at: Option<DateTime<Utc>>) -> Option<DateTime<FixedOffset>> {
        at.map(|at| self.at(at))
    }
}

/// A clock with a due time: SLA targets of tickets and referrals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeadlineView {
    /// When it is due.
    pub due_at: DateTime<FixedOffset>,
    /// When it was met; `null` while open.
    pub met_at: Option<DateTime<FixedOffset>>,
    /// Not met by its due time (met late, or still open after it).
    pub overdue: bool,
}

impl DeadlineView {
    /// Shows a deadline.
    pub fn new(deadline: &Deadline, ctx: &ViewContext<'_>) -> Self {
        Self {
            due_at: ctx.at(deadline.due_at),
            met_at: ctx.at_opt(deadline.met_at),
            overdue: deadline.overdue,
        }
    }
}

/// A partner named on a referral.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PartnerRef {
    /// The partner's id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
}

/// A prefecture: JIS X 0401 code `01`–`47`.
pub type PrefectureCodeView = String;

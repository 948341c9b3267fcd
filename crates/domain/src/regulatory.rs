//! Regulatory deadlines the hotline reminds members of (it never files reports itself): the reports to
//! the PPC (個人情報保護委員会) after a leak or a possible leak of personal data — medical data is
//! special-care personal information, so every such case is reportable — and the prompt report to the
//! MHLW (厚生労働省) after a cyber attack that stopped systems or threatens a leak.
//!
//! | deadline | applies when | counted from | period (default, configurable) |
//! | --- | --- | --- | --- |
//! | `ppc_preliminary_report` (速報) | personal data leaked or may have | awareness | 5 days ("promptly", read as 3–5 days) |
//! | `ppc_final_report` (確報) | the same | awareness | 30 days; 60 when caused with wrongful intent (a cyber attack, or an insider finding) |
//! | `mhlw_report` | a cyber attack that stopped systems, closed the institution or threatens a leak | awareness | 1 day ("promptly") |
//!
//! Day counting follows the Civil Code (art. 140: the first day is not counted) in Japan time: the due
//! date is the awareness date in Japan plus the period, and a deadline falls at the **end** of that
//! day — `due_at` is 23:59:59 JST of the due date, and a deadline is overdue from 00:00 JST the next
//! day. Awareness noticed on 2026-12-28 10:00 JST gives a preliminary report due 2027-01-02 and a final
//! report due 2027-01-27 (or 2027-02-26 after an attack).
//!
//! Without a recorded awareness time, the clocks start at the ticket's first call: the institution
//! knew by then at the latest. The deadline says so (`clock_start = first_call`).

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};

use crate::incident_facts::{CaseFacts, Cause, JST};
use crate::support_payment::Reason;

/// One of the reports the hotline reminds of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    /// The preliminary report to the PPC (速報).
    PpcPreliminaryReport,
    /// The final report to the PPC (確報).
    PpcFinalReport,
    /// The prompt report to the MHLW.
    MhlwReport,
}

wire_names!(DeadlineKind, "kind" {
    PpcPreliminaryReport => "ppc_preliminary_report",
    PpcFinalReport => "ppc_final_report",
    MhlwReport => "mhlw_report",
});

/// Where a deadline stands at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeadlineStatus {
    /// Not done, due date not passed.
    Due,
    /// Done (on time or late).
    Done,
    /// Not done and the due date has passed.
    Overdue,
}

wire_names!(DeadlineStatus, "status" {
    Due => "due",
    Done => "done",
    Overdue => "overdue",
});

/// What a deadline's clock starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClockStart {
    /// The recorded time the institution became aware.
    AwareAt,
    /// The ticket's first call, standing in while the awareness time is not recorded.
    FirstCall,
}

wire_names!(ClockStart, "clock_start" {
    AwareAt => "aware_at",
    FirstCall => "first_call",
});

/// The periods, in days after the awareness date (configuration `[deadlines]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlinePolicy {
    /// PPC preliminary report ("promptly": about 3–5 days).
    pub ppc_preliminary_days: u32,
    /// PPC final report.
    pub ppc_final_days: u32,
    /// PPC final report when caused with wrongful intent (e.g. an attack).
    pub ppc_final_wrongful_intent_days: u32,
    /// MHLW report after an attack ("promptly").
    pub mhlw_report_days: u32,
}

impl Default for DeadlinePolicy {
    /// 5, 30, 60 and 1 days.
    fn default() -> Self {
        Self {
            ppc_preliminary_days: 5,
            ppc_final_days: 30,
            ppc_final_wrongful_intent_days: 60,
            mhlw_report_days: 1,
        }
    }
}

/// Longest period a policy may set, in days.
pub const MAX_PERIOD_DAYS: u32 = 365;

impl DeadlinePolicy {
    /// Checks the periods: each 0–365 days, the preliminary report not after the final one, and the
    /// wrongful-intent period not shorter than the ordinary one.
    pub fn check(&self) -> Result<(), String> {
        for (name, days) in [
            ("ppc_preliminary_days", self.ppc_preliminary_days),
            ("ppc_final_days", self.ppc_final_days),
            ("ppc_final_wrongful_intent_days", self.ppc_final_wrongful_intent_days),
            ("mhlw_report_days", self.mhlw_report_days),
        ] {
            if days > MAX_PERIOD_DAYS {
                return Err(format!("{name} must be 0–{MAX_PERIOD_DAYS} days, got {days}"));
            }
        }
        if self.ppc_preliminary_days > self.ppc_final_days {
            return Err("ppc_preliminary_days cannot be longer than ppc_final_days".to_owned());
        }
        if self.ppc_final_wrongful_intent_days < self.ppc_final_days {
            return Err("ppc_final_wrongful_intent_days cannot be shorter than ppc_final_days".to_owned());
        }
        Ok(())
    }
}

/// One deadline of one incident.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Deadline {
    /// Which report.
    pub kind: DeadlineKind,
    /// What the clock starts from.
    pub clock_start: ClockStart,
    /// The instant it starts from.
    pub starts_at: DateTime<Utc>,
    /// Days after the start date.
    pub period_days: u32,
    /// The last day, in Japan.
    pub due_date: NaiveDate,
    /// The end of the last day: 23:59:59 JST of `due_date`.
    pub due_at: DateTime<Utc>,
    /// When the report was made, if it was.
    pub done_at: Option<DateTime<Utc>>,
    /// Why it applies and how it is counted.
    pub reason: Reason,
}

impl Deadline {
    /// Done once the report is recorded; overdue from 00:00 JST after the due date; due before that.
    pub fn status(&self, now: DateTime<Utc>) -> DeadlineStatus {
        status_of(self.done_at, self.due_date, now)
    }

    /// Whether the report was made after the due date.
    pub fn done_late(&self) -> bool {
        self.done_at.is_some_and(|at| jst_date(at) > self.due_date)
    }
}

/// The status of a deadline with this done time and due date at `now`.
pub fn status_of(done_at: Option<DateTime<Utc>>, due_date: NaiveDate, now: DateTime<Utc>) -> DeadlineStatus {
    if done_at.is_some() {
        DeadlineStatus::Done
    } else if jst_date(now) > due_date {
        DeadlineStatus::Overdue
    } else {
        DeadlineStatus::Due
    }
}

fn jst_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&JST).date_naive()
}

/// The instant of a wall-clock time in Japan (no daylight saving since 1951, so always unique).
fn jst_instant(date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let local = date.and_time(time);
    local
        .and_local_timezone(JST)
        .earliest()
        .map_or_else(|| (local - chrono::Duration::hours(9)).and_utc(), |at| at.with_timezone(&Utc))
}

/// The due date: the start's date in Japan plus `days` (the first day is not counted).
pub fn due_date(starts_at: DateTime<Utc>, days: u32) -> NaiveDate {
    let start = jst_date(starts_at);
    start.checked_add_days(Days::new(u64::from(days))).unwrap_or(NaiveDate::MAX)
}

/// The end of a day in Japan: 23:59:59 JST.
pub fn end_of_day(date: NaiveDate) -> DateTime<Utc> {
    jst_instant(date, NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN))
}

/// The first instant of the day in Japan that contains `now`: a deadline not done whose `due_at` lies
/// before it is overdue. For filtering stored deadlines with the same rule as [`Deadline::status`].
pub fn overdue_cutoff(now: DateTime<Utc>) -> DateTime<Utc> {
    jst_instant(jst_date(now), NaiveTime::MIN)
}

/// Whether the incident was caused with wrongful intent (不正の目的), which doubles the PPC final
/// report's period: a cyber attack, or a case found to be an insider's doing.
pub fn wrongful_intent(facts: &CaseFacts) -> bool {
    facts.cause == Some(Cause::CyberAttack) || facts.insider_finding == Some(true)
}

/// Whether the MHLW is to be told: a cyber attack that stopped systems, closed the institution, or
/// threatens a leak.
pub fn mhlw_report_applies(facts: &CaseFacts) -> bool {
    facts.cause == Some(Cause::CyberAttack)
        && (facts.systems_stopped == Some(true)
            || facts.days_closed.is_some_and(|d| d > 0)
            || facts.may_have_leaked())
}

/// The deadlines of an incident, in [`DeadlineKind`] order; none when nothing is reportable.
pub fn deadlines(facts: &CaseFacts, first_call_at: DateTime<Utc>, policy: &DeadlinePolicy) -> Vec<Deadline> {
    let (clock_start, starts_at) = match facts.aware_at {
        Some(at) => (ClockStart::AwareAt, at),
        None => (ClockStart::FirstCall, first_call_at),
    };
    let basis = match clock_start {
        ClockStart::AwareAt => Reason::new("認識日時から", "from when the institution became aware"),
        ClockStart::FirstCall => Reason::new(
            "認識日時が未記録のため初回入電から",
            "from the first call, as the awareness time is not recorded",
        ),
    };
    let deadline = |kind: DeadlineKind, period_days: u32, done_at: Option<DateTime<Utc>>, what: Reason| {
        let due_date = due_date(starts_at, period_days);
        Deadline {
            kind,
            clock_start,
            starts_at,
            period_days,
            due_date,
            due_at: end_of_day(due_date),
            done_at,
            reason: Reason::new(
                format!("{}({}{period_days}日以内、{due_date}まで)", what.ja, basis.ja),
                format!(
                    "{} (within {period_days} day(s) {}, by the end of {due_date} JST)",
                    what.en, basis.en
                ),
            ),
        }
    };
    let mut out = Vec::new();
    if facts.may_have_leaked() {
        out.push(deadline(
            DeadlineKind::PpcPreliminaryReport,
            policy.ppc_preliminary_days,
            // A final report made within the preliminary period does for both.
            facts.ppc_preliminary_report_at.or(facts.ppc_final_report_at),
            Reason::new(
                "個人情報保護委員会への速報(要配慮個人情報の漏えい等またはそのおそれ、速やかに)",
                "Preliminary report to the PPC (special-care personal data leaked or may have; promptly)",
            ),
        ));
        let (days, what) = if wrongful_intent(facts) {
            (
                policy.ppc_final_wrongful_intent_days,
                Reason::new(
                    "個人情報保護委員会への確報(不正の目的によるおそれのある漏えい等)",
                    "Final report to the PPC (caused with wrongful intent, such as an attack)",
                ),
            )
        } else {
            (policy.ppc_final_days, Reason::new("個人情報保護委員会への確報", "Final report to the PPC"))
        };
        out.push(deadline(DeadlineKind::PpcFinalReport, days, facts.ppc_final_report_at, what));
    }
    if mhlw_report_applies(facts) {
        out.push(deadline(
            DeadlineKind::MhlwReport,
            policy.mhlw_report_days,
            facts.mhlw_notified_at,
            Reason::new(
                "厚生労働省への報告(サイバー攻撃によるシステム停止または漏えいのおそれ、速やかに)",
                "Report to the MHLW (a cyber attack stopped systems or threatens a leak; promptly)",
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::incident_facts::PersonalDataLeak;

    fn jst(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> DateTime<Utc> {
        JST.with_ymd_and_hms(y, m, d, h, min, s).single().expect("a JST instant").with_timezone(&Utc)
    }

    fn date(text: &str) -> NaiveDate {
        text.parse().expect("a date")
    }

    #[test]
    fn a_deadline_ends_at_the_last_second_of_its_day_in_japan() {
        assert_eq!(
            end_of_day(date("2027-01-02")),
            "2027-01-02T14:59:59Z".parse::<DateTime<Utc>>().expect("instant")
        );
        assert_eq!(
            overdue_cutoff(jst(2027, 1, 3, 0, 0, 0)),
            "2027-01-02T15:00:00Z".parse::<DateTime<Utc>>().expect("instant")
        );
        assert_eq!(
            overdue_cutoff(jst(2027, 1, 2, 23, 59, 59)),
            "2027-01-01T15:00:00Z".parse::<DateTime<Utc>>().expect("instant")
        );
    }

    #[test]
    fn status_is_due_to_the_end_of_the_day_then_overdue_and_done_once_recorded() {
        let due = date("2027-01-02");
        assert_eq!(status_of(None, due, jst(2027, 1, 2, 23, 59, 59)), DeadlineStatus::Due);
        let almost = jst(2027, 1, 2, 23, 59, 59) + chrono::Duration::milliseconds(999);
        assert_eq!(status_of(None, due, almost), DeadlineStatus::Due);
        assert_eq!(status_of(None, due, jst(2027, 1, 3, 0, 0, 0)), DeadlineStatus::Overdue);
        assert_eq!(
            status_of(Some(jst(2027, 1, 5, 9, 0, 0)), due, jst(2027, 1, 9, 0, 0, 0)),
            DeadlineStatus::Done
        );
    }

    #[test]
    fn a_report_after_the_due_date_is_done_late() {
        let facts = CaseFacts {
            personal_data_leak: Some(PersonalDataLeak::Possible),
            aware_at: Some(jst(2026, 12, 28, 10, 0, 0)),
            ppc_preliminary_report_at: Some(jst(2027, 1, 3, 9, 0, 0)),
            ppc_final_report_at: Some(jst(2027, 1, 27, 23, 0, 0)),
            ..CaseFacts::default()
        };
        let all = deadlines(&facts, jst(2026, 12, 28, 11, 0, 0), &DeadlinePolicy::default());
        assert!(all[0].done_late(), "preliminary a day late");
        assert!(!all[1].done_late(), "final on its last day");
    }

    #[test]
    fn the_default_policy_is_5_30_60_and_1_days_and_checks_its_periods() {
        let policy = DeadlinePolicy::default();
        assert_eq!(
            (
                policy.ppc_preliminary_days,
                policy.ppc_final_days,
                policy.ppc_final_wrongful_intent_days,
                policy.mhlw_report_days
            ),
            (5, 30, 60, 1)
        );
        assert_eq!(policy.check(), Ok(()));
        let check = |policy: DeadlinePolicy| policy.check().expect_err("refused");
        assert!(check(DeadlinePolicy { ppc_preliminary_days: 31, ..policy }).contains("ppc_final_days"));
        assert!(check(DeadlinePolicy { ppc_final_wrongful_intent_days: 29, ..policy }).contains("shorter"));
        assert!(check(DeadlinePolicy { mhlw_report_days: 366, ..policy }).contains("0–365"));
    }

    #[test]
    fn nothing_is_due_without_a_leak_or_an_attack_that_stopped_something() {
        let first_call = jst(2026, 12, 1, 10, 0, 0);
        let policy = DeadlinePolicy::default();
        assert!(deadlines(&CaseFacts::default(), first_call, &policy).is_empty());
        let no_leak = CaseFacts {
            cause: Some(Cause::CyberAttack),
            personal_data_leak: Some(PersonalDataLeak::No),
            systems_stopped: Some(false),
            days_closed: Some(0),
            ..CaseFacts::default()
        };
        assert!(deadlines(&no_leak, first_call, &policy).is_empty());
        let closed = CaseFacts { days_closed: Some(1), ..no_leak.clone() };
        let kinds: Vec<DeadlineKind> =
            deadlines(&closed, first_call, &policy).iter().map(|d| d.kind).collect();
        assert_eq!(kinds, [DeadlineKind::MhlwReport]);
        let leak_without_attack = CaseFacts { cause: Some(Cause::LeakNotAttack), ..closed };
        assert!(deadlines(&leak_without_attack, first_call, &policy).is_empty(), "a leak of 'no' is no leak");
    }

    #[test]
    fn reasons_name_the_period_and_the_clock() {
        let facts =
            CaseFacts { personal_data_leak: Some(PersonalDataLeak::Confirmed), ..CaseFacts::default() };
        let all = deadlines(&facts, jst(2026, 12, 28, 10, 0, 0), &DeadlinePolicy::default());
        assert_eq!(all[0].clock_start, ClockStart::FirstCall);
        assert!(all[0].reason.en.contains("within 5 day(s) from the first call"), "{}", all[0].reason.en);
        assert!(all[0].reason.en.contains("by the end of 2027-01-02 JST"), "{}", all[0].reason.en);
        assert!(all[1].reason.ja.contains("30日以内"), "{}", all[1].reason.ja);
    }
}

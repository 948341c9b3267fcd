//! The facts of an incident that decide its support payment (一時支援金) and its regulatory deadlines,
//! recorded on the ticket as the case develops: every fact is optional, and an update changes only the
//! facts it names (patch semantics).
//!
//! These are not the triage facts ([`crate::triage::IncidentFacts`]): those are what the operator hears
//! in the first minutes and decide urgency (`insider_suspected` is a suspicion); these are what the case
//! establishes later and decide money and legal reminders (`insider_finding` is a finding).

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::{FieldError, ValidationErrors};

/// The zone in which the scheme's dates and the Act's days are counted: Japan, whatever the service's
/// configured zone, because the association and the PPC count Japanese calendar days.
pub const JST: Tz = chrono_tz::Asia::Tokyo;

/// Longest closure recorded, in days; the scheme pays at most a flat supplement, so a year is plenty.
pub const MAX_DAYS_CLOSED: i64 = 365;

/// What caused the incident, as far as the support payments are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// A cyber attack (サイバー攻撃), including a leak caused by one: ransomware, Emotet, intrusion,
    /// defacement.
    CyberAttack,
    /// A personal-data leak not caused by an attack (サイバー攻撃に起因しない個人情報漏えい): a misdirected
    /// fax or e-mail, a lost USB stick.
    LeakNotAttack,
    /// Neither (a failure, a false alarm).
    Other,
}

wire_names!(Cause, "cause" {
    CyberAttack => "cyber_attack",
    LeakNotAttack => "leak_not_attack",
    Other => "other",
});

/// Whether personal data leaked. Medical data is special-care personal information (要配慮個人情報), so a
/// possible leak already has to be reported to the PPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PersonalDataLeak {
    /// Established that nothing leaked.
    No,
    /// May have leaked (漏えいのおそれ).
    Possible,
    /// Leaked.
    Confirmed,
}

wire_names!(PersonalDataLeak, "personal_data_leak" {
    No => "no",
    Possible => "possible",
    Confirmed => "confirmed",
});

impl PersonalDataLeak {
    /// Leaked or may have: the PPC reports are due.
    pub fn may_have_leaked(self) -> bool {
        matches!(self, Self::Possible | Self::Confirmed)
    }
}

/// The recorded facts of one incident. `None` means "not recorded yet", never "no".
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CaseFacts {
    /// Attack, leak without an attack, or other.
    pub cause: Option<Cause>,
    /// Whether personal data leaked or may have.
    pub personal_data_leak: Option<PersonalDataLeak>,
    /// The attack stopped systems (EMR, ordering, billing): the MHLW is to be told promptly.
    pub systems_stopped: Option<bool>,
    /// When the incident happened; its date in Japan selects the rule set.
    pub occurred_at: Option<DateTime<Utc>>,
    /// When the institution became aware of it; starts the PPC clocks.
    pub aware_at: Option<DateTime<Utc>>,
    /// Whole days the institution was closed because of the attack. Stopping all new-patient
    /// consultations counts as closed even if follow-up care went on.
    pub days_closed: Option<u16>,
    /// When the institution notified the MHLW (厚生労働省).
    pub mhlw_notified_at: Option<DateTime<Utc>>,
    /// When the preliminary report (速報) went to the PPC.
    pub ppc_preliminary_report_at: Option<DateTime<Utc>>,
    /// When the final report (確報) went to the PPC. It states the recurrence-prevention measures
    /// (再発防止策), so it is also the "report of recurrence-prevention measures" the leak payment needs.
    pub ppc_final_report_at: Option<DateTime<Utc>>,
    /// When the people whose data leaked were notified.
    pub victims_notified_at: Option<DateTime<Utc>>,
    /// The case was found to be caused by an insider (内部犯罪): excluded from the payments.
    pub insider_finding: Option<bool>,
}

impl CaseFacts {
    /// The incident's date in Japan, which selects the rule set.
    pub fn incident_date(&self) -> Option<NaiveDate> {
        self.occurred_at.map(|at| at.with_timezone(&JST).date_naive())
    }

    /// Whether personal data leaked or may have (the PPC reports are due).
    pub fn may_have_leaked(&self) -> bool {
        self.personal_data_leak.is_some_and(PersonalDataLeak::may_have_leaked)
    }
}

/// One field of an update: left out (keep), `null` (clear) or a value (set). Deserialises that way
/// when the field carries `#[serde(default)]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FieldPatch<T> {
    /// Not named: the recorded value stays.
    #[default]
    Keep,
    /// Named as `null`: the recorded value is removed.
    Clear,
    /// Named with a value.
    Set(T),
}

impl<T> FieldPatch<T> {
    /// The value after the update.
    pub fn apply(self, current: Option<T>) -> Option<T> {
        match self {
            Self::Keep => current,
            Self::Clear => None,
            Self::Set(value) => Some(value),
        }
    }

    /// Whether the update names this field.
    pub fn is_named(&self) -> bool {
        !matches!(self, Self::Keep)
    }

    /// Converts the value, keeping keep/clear.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> FieldPatch<U> {
        match self {
            Self::Keep => FieldPatch::Keep,
            Self::Clear => FieldPatch::Clear,
            Self::Set(value) => FieldPatch::Set(f(value)),
        }
    }
}

impl<T> From<Option<Option<T>>> for FieldPatch<T> {
    /// From the usual serde "double option": outer `None` absent, inner `None` null.
    fn from(value: Option<Option<T>>) -> Self {
        match value {
            None => Self::Keep,
            Some(None) => Self::Clear,
            Some(Some(value)) => Self::Set(value),
        }
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for FieldPatch<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(deserializer).map(|value| value.map_or(Self::Clear, Self::Set))
    }
}

/// A facts update as the desk sends it: names as text (checked here), instants already read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FactsUpdateForm<'a> {
    /// `cyber_attack`, `leak_not_attack` or `other`.
    pub cause: FieldPatch<&'a str>,
    /// `no`, `possible` or `confirmed`.
    pub personal_data_leak: FieldPatch<&'a str>,
    /// The attack stopped systems.
    pub systems_stopped: FieldPatch<bool>,
    /// When it happened.
    pub occurred_at: FieldPatch<DateTime<Utc>>,
    /// When the institution became aware.
    pub aware_at: FieldPatch<DateTime<Utc>>,
    /// Whole days closed, 0–365.
    pub days_closed: FieldPatch<i64>,
    /// MHLW notified.
    pub mhlw_notified_at: FieldPatch<DateTime<Utc>>,
    /// PPC preliminary report.
    pub ppc_preliminary_report_at: FieldPatch<DateTime<Utc>>,
    /// PPC final report (with the recurrence-prevention measures).
    pub ppc_final_report_at: FieldPatch<DateTime<Utc>>,
    /// Victims notified.
    pub victims_notified_at: FieldPatch<DateTime<Utc>>,
    /// Insider finding.
    pub insider_finding: FieldPatch<bool>,
}

/// A checked update: the facts after it, and which of them changed (in [`FACT_NAMES`] order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactsUpdate {
    /// The facts after the update.
    pub facts: CaseFacts,
    /// Names of the facts whose value changed; empty when the update repeats what is recorded.
    pub changed: Vec<&'static str>,
}

/// The wire names of the facts, in documentation order.
pub const FACT_NAMES: [&str; 11] = [
    "cause",
    "personal_data_leak",
    "systems_stopped",
    "occurred_at",
    "aware_at",
    "days_closed",
    "mhlw_notified_at",
    "ppc_preliminary_report_at",
    "ppc_final_report_at",
    "victims_notified_at",
    "insider_finding",
];

/// The instants of reports and notifications, which cannot precede the incident nor the awareness.
const REPORT_FIELDS: [&str; 4] =
    ["mhlw_notified_at", "ppc_preliminary_report_at", "ppc_final_report_at", "victims_notified_at"];

impl FactsUpdate {
    /// Applies `form` to the recorded facts and checks the result: names known, days closed 0–365, no
    /// instant in the future, awareness not before the incident, no report or notification before the
    /// incident or the awareness, the PPC final report not before the preliminary one, and a leak not
    /// caused by an attack is a leak. Every problem is reported at once; a problem with a fact the
    /// update does not name is reported against the fact that makes it inconsistent.
    pub fn parse(
        current: &CaseFacts,
        form: &FactsUpdateForm<'_>,
        now: DateTime<Utc>,
    ) -> Result<FactsUpdate, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if !form.names_any() {
            errors.push(FieldError::new(
                "",
                format!("name at least one fact to record: {}", FACT_NAMES.join(", ")),
            ));
            return Err(errors);
        }
        let cause = match form.cause {
            FieldPatch::Set(name) => errors.check(Cause::parse(name)).map(FieldPatch::Set),
            other => Some(other.map(|_| Cause::Other)),
        };
        let leak = match form.personal_data_leak {
            FieldPatch::Set(name) => errors.check(PersonalDataLeak::parse(name)).map(FieldPatch::Set),
            other => Some(other.map(|_| PersonalDataLeak::No)),
        };
        let days_closed = match form.days_closed {
            FieldPatch::Set(days) => match u16::try_from(days) {
                Ok(days) if i64::from(days) <= MAX_DAYS_CLOSED => Some(FieldPatch::Set(days)),
                _ => {
                    errors.push(FieldError::new(
                        "days_closed",
                        format!(
                            "days_closed must be a whole number of days, 0–{MAX_DAYS_CLOSED}, got {days}"
                        ),
                    ));
                    None
                }
            },
            other => Some(other.map(|_| 0)),
        };
        let instants = [
            ("occurred_at", form.occurred_at),
            ("aware_at", form.aware_at),
            ("mhlw_notified_at", form.mhlw_notified_at),
            ("ppc_preliminary_report_at", form.ppc_preliminary_report_at),
            ("ppc_final_report_at", form.ppc_final_report_at),
            ("victims_notified_at", form.victims_notified_at),
        ];
        for (field, patch) in instants {
            if let FieldPatch::Set(at) = patch
                && at > now
            {
                errors.push(FieldError::new(field, format!("{field} lies in the future")));
            }
        }
        let (Some(cause), Some(leak), Some(days_closed)) = (cause, leak, days_closed) else {
            return Err(errors);
        };
        let facts = CaseFacts {
            cause: cause.apply(current.cause),
            personal_data_leak: leak.apply(current.personal_data_leak),
            systems_stopped: form.systems_stopped.apply(current.systems_stopped),
            occurred_at: form.occurred_at.apply(current.occurred_at),
            aware_at: form.aware_at.apply(current.aware_at),
            days_closed: days_closed.apply(current.days_closed),
            mhlw_notified_at: form.mhlw_notified_at.apply(current.mhlw_notified_at),
            ppc_preliminary_report_at: form
                .ppc_preliminary_report_at
                .apply(current.ppc_preliminary_report_at),
            ppc_final_report_at: form.ppc_final_report_at.apply(current.ppc_final_report_at),
            victims_notified_at: form.victims_notified_at.apply(current.victims_notified_at),
            insider_finding: form.insider_finding.apply(current.insider_finding),
        };
        check_consistency(&facts, form, &mut errors);
        errors.into_result()?;
        let changed = changed_facts(current, &facts);
        Ok(FactsUpdate { facts, changed })
    }
}

impl FactsUpdateForm<'_> {
    /// Whether the update names any fact at all.
    pub fn names_any(&self) -> bool {
        self.cause.is_named()
            || self.personal_data_leak.is_named()
            || self.systems_stopped.is_named()
            || self.occurred_at.is_named()
            || self.aware_at.is_named()
            || self.days_closed.is_named()
            || self.mhlw_notified_at.is_named()
            || self.ppc_preliminary_report_at.is_named()
            || self.ppc_final_report_at.is_named()
            || self.victims_notified_at.is_named()
            || self.insider_finding.is_named()
    }

    fn names(&self, field: &str) -> bool {
        match field {
            "cause" => self.cause.is_named(),
            "personal_data_leak" => self.personal_data_leak.is_named(),
            "occurred_at" => self.occurred_at.is_named(),
            "aware_at" => self.aware_at.is_named(),
            "mhlw_notified_at" => self.mhlw_notified_at.is_named(),
            "ppc_preliminary_report_at" => self.ppc_preliminary_report_at.is_named(),
            "ppc_final_report_at" => self.ppc_final_report_at.is_named(),
            "victims_notified_at" => self.victims_notified_at.is_named(),
            _ => false,
        }
    }
}

fn report_instant(facts: &CaseFacts, field: &str) -> Option<DateTime<Utc>> {
    match field {
        "mhlw_notified_at" => facts.mhlw_notified_at,
        "ppc_preliminary_report_at" => facts.ppc_preliminary_report_at,
        "ppc_final_report_at" => facts.ppc_final_report_at,
        "victims_notified_at" => facts.victims_notified_at,
        _ => None,
    }
}

/// Checks the facts after the update against each other. An inconsistency is reported against the
/// later fact of the pair when the update names it, otherwise against the earlier one (the update
/// moved it), so the desk shows the error next to what the operator just typed.
fn check_consistency(facts: &CaseFacts, form: &FactsUpdateForm<'_>, errors: &mut ValidationErrors) {
    let mut pair =
        |later: &str, later_at: Option<DateTime<Utc>>, earlier: &str, earlier_at: Option<DateTime<Utc>>| {
            if let (Some(later_at), Some(earlier_at)) = (later_at, earlier_at)
                && later_at < earlier_at
            {
                let field = if form.names(later) || !form.names(earlier) { later } else { earlier };
                errors.push(FieldError::new(field, format!("{later} cannot precede {earlier}")));
            }
        };
    pair("aware_at", facts.aware_at, "occurred_at", facts.occurred_at);
    for report in REPORT_FIELDS {
        let at = report_instant(facts, report);
        pair(report, at, "occurred_at", facts.occurred_at);
        pair(report, at, "aware_at", facts.aware_at);
    }
    pair(
        "ppc_final_report_at",
        facts.ppc_final_report_at,
        "ppc_preliminary_report_at",
        facts.ppc_preliminary_report_at,
    );
    if facts.cause == Some(Cause::LeakNotAttack) && facts.personal_data_leak == Some(PersonalDataLeak::No) {
        let field = if form.personal_data_leak.is_named() || !form.cause.is_named() {
            "personal_data_leak"
        } else {
            "cause"
        };
        errors.push(FieldError::new(
            field,
            "a leak not caused by an attack means personal data leaked or may have: personal_data_leak \
             cannot be no with cause leak_not_attack",
        ));
    }
}

/// The names of the facts that differ between two records, in [`FACT_NAMES`] order.
pub fn changed_facts(before: &CaseFacts, after: &CaseFacts) -> Vec<&'static str> {
    let differs = [
        before.cause != after.cause,
        before.personal_data_leak != after.personal_data_leak,
        before.systems_stopped != after.systems_stopped,
        before.occurred_at != after.occurred_at,
        before.aware_at != after.aware_at,
        before.days_closed != after.days_closed,
        before.mhlw_notified_at != after.mhlw_notified_at,
        before.ppc_preliminary_report_at != after.ppc_preliminary_report_at,
        before.ppc_final_report_at != after.ppc_final_report_at,
        before.victims_notified_at != after.victims_notified_at,
        before.insider_finding != after.insider_finding,
    ];
    FACT_NAMES.iter().zip(differs).filter(|(_, differs)| *differs).map(|(name, _)| *name).collect()
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn jst(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        JST.with_ymd_and_hms(y, m, d, h, min, 0).single().expect("a JST instant").with_timezone(&Utc)
    }

    fn now() -> DateTime<Utc> {
        jst(2026, 12, 1, 12, 0)
    }

    fn fields(errors: &ValidationErrors) -> Vec<&str> {
        errors.0.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn names_round_trip() {
        for cause in Cause::ALL {
            assert_eq!(Cause::parse(cause.as_str()), Ok(*cause));
        }
        assert_eq!(
            Cause::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            ["cyber_attack", "leak_not_attack", "other"]
        );
        assert_eq!(
            PersonalDataLeak::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            ["no", "possible", "confirmed"]
        );
        assert!(!PersonalDataLeak::No.may_have_leaked());
        assert!(
            PersonalDataLeak::Possible.may_have_leaked() && PersonalDataLeak::Confirmed.may_have_leaked()
        );
    }

    #[test]
    fn an_update_sets_clears_and_keeps_fields() {
        let current = CaseFacts {
            cause: Some(Cause::CyberAttack),
            days_closed: Some(2),
            insider_finding: Some(false),
            ..CaseFacts::default()
        };
        let form = FactsUpdateForm {
            days_closed: FieldPatch::Set(3),
            insider_finding: FieldPatch::Clear,
            aware_at: FieldPatch::Set(jst(2026, 11, 30, 9, 0)),
            ..FactsUpdateForm::default()
        };
        let update = FactsUpdate::parse(&current, &form, now()).expect("valid");
        assert_eq!(update.facts.cause, Some(Cause::CyberAttack), "kept");
        assert_eq!(update.facts.days_closed, Some(3), "set");
        assert_eq!(update.facts.insider_finding, None, "cleared");
        assert_eq!(update.facts.aware_at, Some(jst(2026, 11, 30, 9, 0)));
        assert_eq!(update.changed, ["aware_at", "days_closed", "insider_finding"]);
    }

    #[test]
    fn repeating_what_is_recorded_changes_nothing() {
        let current = CaseFacts { cause: Some(Cause::Other), ..CaseFacts::default() };
        let form = FactsUpdateForm { cause: FieldPatch::Set("other"), ..FactsUpdateForm::default() };
        let update = FactsUpdate::parse(&current, &form, now()).expect("valid");
        assert_eq!(update.facts, current);
        assert!(update.changed.is_empty());
    }

    #[test]
    fn an_update_naming_nothing_is_refused() {
        let errors =
            FactsUpdate::parse(&CaseFacts::default(), &FactsUpdateForm::default(), now()).expect_err("empty");
        assert_eq!(fields(&errors), [""]);
        assert!(errors.0[0].detail.contains("victims_notified_at"), "{}", errors.0[0].detail);
    }

    #[test]
    fn bad_names_days_and_future_instants_are_all_reported() {
        let form = FactsUpdateForm {
            cause: FieldPatch::Set("ransomware"),
            personal_data_leak: FieldPatch::Set("maybe"),
            days_closed: FieldPatch::Set(-1),
            mhlw_notified_at: FieldPatch::Set(now() + Duration::minutes(1)),
            ..FactsUpdateForm::default()
        };
        let errors = FactsUpdate::parse(&CaseFacts::default(), &form, now()).expect_err("four problems");
        assert_eq!(fields(&errors), ["cause", "personal_data_leak", "days_closed", "mhlw_notified_at"]);
        assert!(
            errors.0[0].detail.contains("cyber_attack, leak_not_attack, other"),
            "{}",
            errors.0[0].detail
        );
        assert_eq!(errors.0[2].detail, "days_closed must be a whole number of days, 0–365, got -1");
    }

    #[test]
    fn days_closed_is_limited_to_a_year() {
        let parse = |days| {
            let form = FactsUpdateForm { days_closed: FieldPatch::Set(days), ..FactsUpdateForm::default() };
            FactsUpdate::parse(&CaseFacts::default(), &form, now()).map(|u| u.facts.days_closed)
        };
        assert_eq!(parse(0), Ok(Some(0)));
        assert_eq!(parse(365), Ok(Some(365)));
        assert!(parse(366).is_err());
        assert!(parse(i64::MAX).is_err());
        assert_eq!(parse(1).expect("valid"), Some(1));
    }

    #[test]
    fn an_instant_equal_to_now_is_accepted() {
        let form = FactsUpdateForm { aware_at: FieldPatch::Set(now()), ..FactsUpdateForm::default() };
        assert!(FactsUpdate::parse(&CaseFacts::default(), &form, now()).is_ok());
    }

    #[test]
    fn awareness_and_reports_cannot_precede_the_incident() {
        let current = CaseFacts { occurred_at: Some(jst(2026, 11, 20, 8, 0)), ..CaseFacts::default() };
        let form = FactsUpdateForm {
            aware_at: FieldPatch::Set(jst(2026, 11, 19, 8, 0)),
            victims_notified_at: FieldPatch::Set(jst(2026, 11, 19, 9, 0)),
            ..FactsUpdateForm::default()
        };
        let errors = FactsUpdate::parse(&current, &form, now()).expect_err("inconsistent");
        assert_eq!(fields(&errors), ["aware_at", "victims_notified_at"]);
        assert_eq!(errors.0[0].detail, "aware_at cannot precede occurred_at");
    }

    #[test]
    fn a_report_before_the_awareness_is_refused() {
        let current = CaseFacts { aware_at: Some(jst(2026, 11, 20, 8, 0)), ..CaseFacts::default() };
        let form = FactsUpdateForm {
            mhlw_notified_at: FieldPatch::Set(jst(2026, 11, 20, 7, 59)),
            ..FactsUpdateForm::default()
        };
        let errors = FactsUpdate::parse(&current, &form, now()).expect_err("before awareness");
        assert_eq!(
            errors.0,
            [FieldError::new("mhlw_notified_at", "mhlw_notified_at cannot precede aware_at")]
        );
    }

    #[test]
    fn moving_an_earlier_fact_past_a_recorded_later_one_blames_the_moved_fact() {
        let current = CaseFacts {
            aware_at: Some(jst(2026, 11, 20, 8, 0)),
            mhlw_notified_at: Some(jst(2026, 11, 20, 10, 0)),
            ..CaseFacts::default()
        };
        let form = FactsUpdateForm {
            aware_at: FieldPatch::Set(jst(2026, 11, 21, 8, 0)),
            ..FactsUpdateForm::default()
        };
        let errors = FactsUpdate::parse(&current, &form, now()).expect_err("moved past the report");
        assert_eq!(fields(&errors), ["aware_at"]);
    }

    #[test]
    fn the_final_ppc_report_cannot_precede_the_preliminary_one() {
        let form = FactsUpdateForm {
            ppc_preliminary_report_at: FieldPatch::Set(jst(2026, 11, 25, 8, 0)),
            ppc_final_report_at: FieldPatch::Set(jst(2026, 11, 24, 8, 0)),
            ..FactsUpdateForm::default()
        };
        let errors = FactsUpdate::parse(&CaseFacts::default(), &form, now()).expect_err("order");
        assert_eq!(fields(&errors), ["ppc_final_report_at"]);
        let same_time = FactsUpdateForm {
            ppc_preliminary_report_at: FieldPatch::Set(jst(2026, 11, 25, 8, 0)),
            ppc_final_report_at: FieldPatch::Set(jst(2026, 11, 25, 8, 0)),
            ..FactsUpdateForm::default()
        };
        assert!(FactsUpdate::parse(&CaseFacts::default(), &same_time, now()).is_ok());
    }

    #[test]
    fn a_leak_not_caused_by_an_attack_cannot_be_no_leak() {
        let current = CaseFacts { personal_data_leak: Some(PersonalDataLeak::No), ..CaseFacts::default() };
        let form =
            FactsUpdateForm { cause: FieldPatch::Set("leak_not_attack"), ..FactsUpdateForm::default() };
        let errors = FactsUpdate::parse(&current, &form, now()).expect_err("contradiction");
        assert_eq!(fields(&errors), ["cause"]);
        let form = FactsUpdateForm {
            cause: FieldPatch::Set("leak_not_attack"),
            personal_data_leak: FieldPatch::Set("confirmed"),
            ..FactsUpdateForm::default()
        };
        assert!(FactsUpdate::parse(&current, &form, now()).is_ok());
    }

    #[test]
    fn the_incident_date_is_the_japanese_date() {
        let facts = CaseFacts { occurred_at: Some(jst(2022, 6, 1, 0, 0)), ..CaseFacts::default() };
        assert_eq!(facts.occurred_at.map(|at| at.date_naive()), NaiveDate::from_ymd_opt(2022, 5, 31));
        assert_eq!(facts.incident_date(), NaiveDate::from_ymd_opt(2022, 6, 1));
        assert_eq!(CaseFacts::default().incident_date(), None);
    }

    #[test]
    fn field_patch_reads_absent_null_and_value() {
        #[derive(serde::Deserialize)]
        struct Body {
            #[serde(default)]
            days_closed: FieldPatch<i64>,
            #[serde(default)]
            cause: FieldPatch<String>,
            #[serde(default)]
            insider_finding: FieldPatch<bool>,
        }
        let body: Body =
            serde_json::from_str(r#"{"days_closed": 2, "cause": null}"#).expect("valid JSON body");
        assert_eq!(body.days_closed, FieldPatch::Set(2));
        assert_eq!(body.cause, FieldPatch::Clear);
        assert_eq!(body.insider_finding, FieldPatch::Keep);
        assert_eq!(FieldPatch::from(Some(Some(1))), FieldPatch::Set(1));
        assert_eq!(FieldPatch::<i32>::from(Some(None)), FieldPatch::Clear);
        assert_eq!(FieldPatch::<i32>::from(None), FieldPatch::Keep);
    }
}

//! Rule sets of the support payments as data: one TOML text per revision, with the date (in Japan) from
//! which it applies, the amounts, the requirements and the exclusions. The rules change by revision,
//! and an incident is judged by the rule set in force on its own date, so a revision is a new file,
//! never a code change. This module only reads text; the server reads the files.
//!
//! The format, by example (the shipped `config/support-payments/2022-06-01.toml`):
//!
//! ```toml
//! effective_from = "2022-06-01"            # JST date
//! title_ja = "…"
//! title_en = "…"
//! source = "…"                             # optional
//! exclusions = ["insider", "not_member_institution"]
//!
//! [payments.cyber_attack]
//! amount_yen = 100000
//! requirements = ["mhlw_notified"]         # scope: the whole payment
//!
//! [payments.cyber_attack.closure]          # optional supplement for days closed
//! min_days = 1
//! amount_yen = 50000                       # flat; or per_day_yen (+ optional max_yen)
//! requirements = []                        # scope: the supplement only
//!
//! [payments.personal_data_leak]
//! amount_yen = 50000
//! requirements = ["ppc_recurrence_prevention_report", "victims_notified"]
//! ```

use std::fmt;
use std::ops::Range;

use chrono::NaiveDate;
use serde::Deserialize;
use toml::Spanned;

use super::PaymentKind;

/// The rule sets shipped with hotline, compiled in: `(file name, text)`. Only figures the association
/// has published; later revisions are added by operators as files (see docs/support-payments.md).
pub const SHIPPED_RULE_FILES: &[(&str, &str)] =
    &[("2022-06-01.toml", include_str!("../../../../config/support-payments/2022-06-01.toml"))];

/// Largest amount a rule set may state, in yen: anything above is a typo (an extra zero).
pub const MAX_AMOUNT_YEN: i64 = 10_000_000;

/// A condition of a payment that the institution fulfils by doing something, recorded as a fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    /// Notification to the MHLW (厚生労働省への届出).
    MhlwNotified,
    /// The preliminary report to the PPC (速報).
    PpcPreliminaryReport,
    /// The report of recurrence-prevention measures to the PPC (再発防止策の報告), made with the final
    /// report (確報).
    PpcRecurrencePreventionReport,
    /// The people whose data leaked were notified (被害者への通知).
    VictimsNotified,
}

wire_names!(Requirement, "requirements" {
    MhlwNotified => "mhlw_notified",
    PpcPreliminaryReport => "ppc_preliminary_report",
    PpcRecurrencePreventionReport => "ppc_recurrence_prevention_report",
    VictimsNotified => "victims_notified",
});

/// A kind of case a rule set does not pay for, whatever else holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    /// Caused by an insider (内部犯罪に起因した案件).
    Insider,
    /// The institution is not run by an A① member (A①会員がいらっしゃらない医療機関).
    NotMemberInstitution,
}

wire_names!(Exclusion, "exclusions" {
    Insider => "insider",
    NotMemberInstitution => "not_member_institution",
});

/// How the closure supplement is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClosureAmount {
    /// One amount once the minimum days are reached.
    Flat(u64),
    /// An amount per day closed, optionally capped.
    PerDay {
        /// Yen per day closed.
        per_day_yen: u64,
        /// Largest supplement, if any.
        max_yen: Option<u64>,
    },
}

/// The supplement for days closed because of an attack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosureRule {
    /// Days closed from which the supplement is paid.
    pub min_days: u16,
    /// How much.
    pub amount: ClosureAmount,
    /// Requirements of the supplement only.
    pub requirements: Vec<Requirement>,
}

impl ClosureRule {
    /// The supplement for `days` closed: nothing below the minimum.
    pub fn supplement(&self, days: u16) -> u64 {
        if days < self.min_days {
            return 0;
        }
        match self.amount {
            ClosureAmount::Flat(amount) => amount,
            ClosureAmount::PerDay { per_day_yen, max_yen } => {
                let total = per_day_yen.saturating_mul(u64::from(days));
                max_yen.map_or(total, |max| total.min(max))
            }
        }
    }
}

/// One payment of a rule set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRule {
    /// The base amount.
    pub amount_yen: u64,
    /// Requirements of the whole payment.
    pub requirements: Vec<Requirement>,
    /// The closure supplement, if the payment has one.
    pub closure: Option<ClosureRule>,
}

/// The rules in force from one date on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSet {
    /// First incident date (in Japan) the rules apply to; also the rule set's identity.
    pub effective_from: NaiveDate,
    /// Name in Japanese.
    pub title_ja: String,
    /// Name in English.
    pub title_en: String,
    /// Where the figures come from.
    pub source: Option<String>,
    /// What is excluded.
    pub exclusions: Vec<Exclusion>,
    /// The cyber-attack payment, if offered.
    pub cyber_attack: Option<PaymentRule>,
    /// The payment for a leak not caused by an attack, if offered.
    pub personal_data_leak: Option<PaymentRule>,
}

impl RuleSet {
    /// The rule of one payment, if this rule set offers it.
    pub fn payment(&self, kind: PaymentKind) -> Option<&PaymentRule> {
        match kind {
            PaymentKind::CyberAttack => self.cyber_attack.as_ref(),
            PaymentKind::PersonalDataLeak => self.personal_data_leak.as_ref(),
        }
    }

    /// Whether the rule set excludes this kind of case.
    pub fn excludes(&self, exclusion: Exclusion) -> bool {
        self.exclusions.contains(&exclusion)
    }

    /// Reads and checks one rule file; every mistake names its line.
    pub fn parse(text: &str) -> Result<RuleSet, RuleSetError> {
        let raw: RawRuleSet = toml::from_str(text).map_err(|error| RuleSetError {
            line: error.span().map(|span| line_of(text, span.start)),
            message: error.message().trim().to_owned(),
        })?;
        let at = |span: Range<usize>, message: String| RuleSetError {
            line: Some(line_of(text, span.start)),
            message,
        };
        let effective_from =
            NaiveDate::parse_from_str(raw.effective_from.get_ref(), "%Y-%m-%d").map_err(|_| {
                at(
                    raw.effective_from.span(),
                    format!(
                        "effective_from must be a date YYYY-MM-DD, got {:?}",
                        raw.effective_from.get_ref()
                    ),
                )
            })?;
        for (field, value) in [("title_ja", &raw.title_ja), ("title_en", &raw.title_en)] {
            if value.get_ref().trim().is_empty() {
                return Err(at(value.span(), format!("{field} must not be empty")));
            }
        }
        let exclusions = codes(&raw.exclusions, Exclusion::parse, &at)?;
        let payments = raw.payments.get_ref();
        let cyber_attack =
            payments.cyber_attack.as_ref().map(|p| payment(p, "cyber_attack", &at)).transpose()?;
        let personal_data_leak = payments
            .personal_data_leak
            .as_ref()
            .map(|p| payment(p, "personal_data_leak", &at))
            .transpose()?;
        if let Some(leak) = &payments.personal_data_leak
            && let Some(closure) = &leak.get_ref().closure
        {
            return Err(at(
                closure.span(),
                "a closure supplement belongs to the cyber_attack payment only (closure because of an attack)"
                    .to_owned(),
            ));
        }
        if cyber_attack.is_none() && personal_data_leak.is_none() {
            return Err(at(
                raw.payments.span(),
                "[payments] must offer cyber_attack, personal_data_leak or both".to_owned(),
            ));
        }
        Ok(RuleSet {
            effective_from,
            title_ja: raw.title_ja.into_inner().trim().to_owned(),
            title_en: raw.title_en.into_inner().trim().to_owned(),
            source: raw.source,
            exclusions,
            cyber_attack,
            personal_data_leak,
        })
    }
}

/// A rule file that cannot be used, with the line (1-based) of the mistake when known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RuleSetError {
    /// Line of the mistake.
    pub line: Option<usize>,
    /// What is wrong and what would be right.
    pub message: String,
}

impl fmt::Display for RuleSetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end].iter().filter(|byte| **byte == b'\n').count() + 1
}

type At<'a> = dyn Fn(Range<usize>, String) -> RuleSetError + 'a;

/// Reads a list of codes, refusing unknown names and repeats.
fn codes<T: PartialEq + Copy>(
    raw: &[Spanned<String>],
    parse: fn(&str) -> Result<T, crate::FieldError>,
    at: &At<'_>,
) -> Result<Vec<T>, RuleSetError> {
    let mut out = Vec::with_capacity(raw.len());
    for code in raw {
        let value = parse(code.get_ref()).map_err(|error| at(code.span(), error.detail))?;
        if out.contains(&value) {
            return Err(at(code.span(), format!("{:?} is listed twice", code.get_ref())));
        }
        out.push(value);
    }
    Ok(out)
}

/// A whole number of yen, 1 – [`MAX_AMOUNT_YEN`].
fn yen(value: &Spanned<i64>, field: &str, at: &At<'_>) -> Result<u64, RuleSetError> {
    match u64::try_from(*value.get_ref()) {
        Ok(amount) if amount >= 1 && *value.get_ref() <= MAX_AMOUNT_YEN => Ok(amount),
        _ => {
            Err(at(value.span(), format!("{field} must be 1–{MAX_AMOUNT_YEN} yen, got {}", value.get_ref())))
        }
    }
}

fn payment(raw: &Spanned<RawPayment>, name: &str, at: &At<'_>) -> Result<PaymentRule, RuleSetError> {
    let raw = raw.get_ref();
    let amount_yen = yen(&raw.amount_yen, &format!("payments.{name}.amount_yen"), at)?;
    let requirements = codes(&raw.requirements, Requirement::parse, at)?;
    let closure = raw.closure.as_ref().map(|closure| closure_rule(closure, &requirements, at)).transpose()?;
    Ok(PaymentRule { amount_yen, requirements, closure })
}

fn closure_rule(
    raw: &Spanned<RawClosure>,
    payment_requirements: &[Requirement],
    at: &At<'_>,
) -> Result<ClosureRule, RuleSetError> {
    let span = raw.span();
    let raw = raw.get_ref();
    let min_days = match u16::try_from(*raw.min_days.get_ref()) {
        Ok(days) if (1..=365).contains(&days) => days,
        _ => {
            return Err(at(
                raw.min_days.span(),
                format!("closure.min_days must be 1–365, got {}", raw.min_days.get_ref()),
            ));
        }
    };
    let amount = match (&raw.amount_yen, &raw.per_day_yen, &raw.max_yen) {
        (Some(flat), None, None) => ClosureAmount::Flat(yen(flat, "closure.amount_yen", at)?),
        (None, Some(per_day), max) => {
            let per_day_yen = yen(per_day, "closure.per_day_yen", at)?;
            let max_yen = max.as_ref().map(|max| yen(max, "closure.max_yen", at)).transpose()?;
            if let (Some(max), Some(raw_max)) = (max_yen, max)
                && max < per_day_yen
            {
                return Err(at(
                    raw_max.span(),
                    "closure.max_yen must be at least closure.per_day_yen".to_owned(),
                ));
            }
            ClosureAmount::PerDay { per_day_yen, max_yen }
        }
        (Some(_), None, Some(max)) => {
            return Err(at(
                max.span(),
                "closure.max_yen goes with per_day_yen, not with amount_yen".to_owned(),
            ));
        }
        (Some(_), Some(per_day), _) => {
            return Err(at(
                per_day.span(),
                "give closure.amount_yen or closure.per_day_yen, not both".to_owned(),
            ));
        }
        (None, None, _) => {
            return Err(at(span, "closure needs amount_yen (flat) or per_day_yen".to_owned()));
        }
    };
    let requirements = codes(&raw.requirements, Requirement::parse, at)?;
    if let Some(twice) = raw.requirements.iter().find(|code| {
        Requirement::parse(code.get_ref())
            .is_ok_and(|requirement| payment_requirements.contains(&requirement))
    }) {
        return Err(at(
            twice.span(),
            format!("{:?} is already a requirement of the whole payment", twice.get_ref()),
        ));
    }
    Ok(ClosureRule { min_days, amount, requirements })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRuleSet {
    effective_from: Spanned<String>,
    title_ja: Spanned<String>,
    title_en: Spanned<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    exclusions: Vec<Spanned<String>>,
    payments: Spanned<RawPayments>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPayments {
    #[serde(default)]
    cyber_attack: Option<Spanned<RawPayment>>,
    #[serde(default)]
    personal_data_leak: Option<Spanned<RawPayment>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPayment {
    amount_yen: Spanned<i64>,
    #[serde(default)]
    requirements: Vec<Spanned<String>>,
    #[serde(default)]
    closure: Option<Spanned<RawClosure>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClosure {
    min_days: Spanned<i64>,
    #[serde(default)]
    amount_yen: Option<Spanned<i64>>,
    #[serde(default)]
    per_day_yen: Option<Spanned<i64>>,
    #[serde(default)]
    max_yen: Option<Spanned<i64>>,
    #[serde(default)]
    requirements: Vec<Spanned<String>>,
}

/// Every rule set in use, ordered by date: the one in force on an incident's date judges it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleBook {
    sets: Vec<RuleSet>,
}

/// Why a collection of rule files cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleBookError {
    /// One file is broken.
    #[error("{file}: {error}")]
    File {
        /// The file's name.
        file: String,
        /// What is wrong, with the line.
        error: RuleSetError,
    },
    /// Two files take effect on the same date.
    #[error("{first} and {second} both take effect on {date}: give each revision its own effective_from")]
    SameDate {
        /// One file.
        first: String,
        /// The other.
        second: String,
        /// The date.
        date: NaiveDate,
    },
    /// No rule set at all.
    #[error("no support-payment rule set: at least one is needed")]
    Empty,
}

impl RuleBook {
    /// Reads rule files `(name, text)`: each is checked, and no two may share a date.
    pub fn from_files<N: AsRef<str>, T: AsRef<str>>(files: &[(N, T)]) -> Result<RuleBook, RuleBookError> {
        let mut named: Vec<(String, RuleSet)> = Vec::with_capacity(files.len());
        for (name, text) in files {
            let set = RuleSet::parse(text.as_ref())
                .map_err(|error| RuleBookError::File { file: name.as_ref().to_owned(), error })?;
            if let Some((first, _)) =
                named.iter().find(|(_, other)| other.effective_from == set.effective_from)
            {
                return Err(RuleBookError::SameDate {
                    first: first.clone(),
                    second: name.as_ref().to_owned(),
                    date: set.effective_from,
                });
            }
            named.push((name.as_ref().to_owned(), set));
        }
        Self::new(named.into_iter().map(|(_, set)| set).collect())
    }

    /// A book of already-checked rule sets (dates must differ).
    pub fn new(mut sets: Vec<RuleSet>) -> Result<RuleBook, RuleBookError> {
        if sets.is_empty() {
            return Err(RuleBookError::Empty);
        }
        sets.sort_by_key(|set| set.effective_from);
        if let Some(pair) = sets.windows(2).find(|pair| pair[0].effective_from == pair[1].effective_from) {
            let date = pair[0].effective_from;
            return Err(RuleBookError::SameDate { first: date.to_string(), second: date.to_string(), date });
        }
        Ok(RuleBook { sets })
    }

    /// The rule sets compiled into hotline.
    pub fn shipped() -> Result<RuleBook, RuleBookError> {
        Self::from_files(SHIPPED_RULE_FILES)
    }

    /// The rule set in force on an incident date (in Japan): the latest one that took effect on or
    /// before it. `None` before the scheme began.
    pub fn in_force(&self, incident_date: NaiveDate) -> Option<&RuleSet> {
        self.sets.iter().rev().find(|set| set.effective_from <= incident_date)
    }

    /// The first day of the scheme: incidents before it are not covered.
    pub fn scheme_start(&self) -> NaiveDate {
        self.sets[0].effective_from
    }

    /// Every rule set, oldest first.
    pub fn sets(&self) -> &[RuleSet] {
        &self.sets
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const SHIPPED: &str = SHIPPED_RULE_FILES[0].1;

    fn date(text: &str) -> NaiveDate {
        text.parse().expect("a date")
    }

    fn error_of(text: &str) -> RuleSetError {
        RuleSet::parse(text).expect_err("refused")
    }

    /// The shipped rules with one line replaced, so each test breaks exactly one thing.
    fn shipped_with(from: &str, to: &str) -> String {
        assert!(SHIPPED.contains(from), "the shipped file has no {from:?}");
        SHIPPED.replacen(from, to, 1)
    }

    fn line_containing(text: &str, needle: &str) -> usize {
        text.lines().position(|line| line.contains(needle)).expect("needle") + 1
    }

    #[test]
    fn the_shipped_rule_set_states_the_2022_scheme() {
        let set = RuleSet::parse(SHIPPED).expect("the shipped rule set parses");
        assert_eq!(set.effective_from, date("2022-06-01"));
        assert_eq!(set.exclusions, [Exclusion::Insider, Exclusion::NotMemberInstitution]);
        let cyber = set.payment(PaymentKind::CyberAttack).expect("cyber payment");
        assert_eq!(cyber.amount_yen, 100_000);
        assert_eq!(cyber.requirements, [Requirement::MhlwNotified]);
        let closure = cyber.closure.as_ref().expect("closure supplement");
        assert_eq!((closure.min_days, closure.amount), (1, ClosureAmount::Flat(50_000)));
        assert!(closure.requirements.is_empty());
        let leak = set.payment(PaymentKind::PersonalDataLeak).expect("leak payment");
        assert_eq!(leak.amount_yen, 50_000);
        assert_eq!(
            leak.requirements,
            [Requirement::PpcRecurrencePreventionReport, Requirement::VictimsNotified]
        );
        assert!(leak.closure.is_none());
        assert!(set.title_ja.contains("一時支援金") && !set.title_en.is_empty());
        let book = RuleBook::shipped().expect("shipped book");
        assert_eq!(book.sets().len(), 1, "only the published 2022 figures ship");
        assert_eq!(book.scheme_start(), date("2022-06-01"));
    }

    #[test]
    fn a_flat_closure_supplement_starts_at_the_minimum() {
        let rule = ClosureRule { min_days: 1, amount: ClosureAmount::Flat(50_000), requirements: vec![] };
        assert_eq!([0, 1, 3].map(|days| rule.supplement(days)), [0, 50_000, 50_000]);
    }

    #[test]
    fn a_per_day_supplement_is_capped() {
        let rule = ClosureRule {
            min_days: 1,
            amount: ClosureAmount::PerDay { per_day_yen: 100_000, max_yen: Some(300_000) },
            requirements: vec![],
        };
        assert_eq!(
            [0, 1, 2, 3, 4, 30].map(|days| rule.supplement(days)),
            [0, 100_000, 200_000, 300_000, 300_000, 300_000]
        );
        let uncapped =
            ClosureRule { amount: ClosureAmount::PerDay { per_day_yen: 10_000, max_yen: None }, ..rule };
        assert_eq!(uncapped.supplement(365), 3_650_000);
    }

    #[test]
    fn toml_syntax_errors_name_the_line() {
        let broken = shipped_with("amount_yen = 100000", "amount_yen = = 100000");
        let error = error_of(&broken);
        assert_eq!(error.line, Some(line_containing(&broken, "amount_yen = = 100000")), "{error}");
        assert!(error.to_string().starts_with(&format!("line {}: ", error.line.expect("line"))));
    }

    #[test]
    fn unknown_keys_are_refused_with_their_line() {
        let broken = shipped_with("min_days = 1", "min_days = 1\nmax_days = 3");
        let error = error_of(&broken);
        assert_eq!(error.line, Some(line_containing(&broken, "max_days")), "{error}");
        assert!(error.message.contains("max_days"), "{error}");
    }

    #[test]
    fn unknown_requirements_and_exclusions_name_the_line_and_the_choices() {
        let broken = shipped_with("requirements = [\"mhlw_notified\"]", "requirements = [\"mhlw_notifed\"]");
        let error = error_of(&broken);
        assert_eq!(error.line, Some(line_containing(&broken, "mhlw_notifed")), "{error}");
        assert!(error.message.contains("ppc_recurrence_prevention_report"), "{error}");

        let broken = shipped_with("\"insider\", ", "\"insiders\", ");
        let error = error_of(&broken);
        assert_eq!(error.line, Some(line_containing(&broken, "insiders")), "{error}");
        assert!(error.message.contains("not_member_institution"), "{error}");
    }

    #[test]
    fn bad_values_name_their_line() {
        for (from, to, needle, says) in [
            ("effective_from = \"2022-06-01\"", "effective_from = \"2022-6-31\"", "2022-6-31", "YYYY-MM-DD"),
            ("amount_yen = 100000", "amount_yen = 0", "amount_yen = 0", "1–10000000"),
            (
                "amount_yen = 50000\nrequirements = []",
                "amount_yen = -5\nrequirements = []",
                "amount_yen = -5",
                "yen",
            ),
            ("min_days = 1", "min_days = 0", "min_days = 0", "1–365"),
            (
                "exclusions = [\"insider\", ",
                "exclusions = [\"insider\", \"insider\", ",
                "exclusions = [",
                "twice",
            ),
            (
                "title_en = \"Cyber-attack and personal-data-leak support payments (scheme start, 2022-06-01)\"",
                "title_en = \" \"",
                "title_en",
                "empty",
            ),
        ] {
            let broken = shipped_with(from, to);
            let error = error_of(&broken);
            assert_eq!(error.line, Some(line_containing(&broken, needle)), "{to}: {error}");
            assert!(error.message.contains(says), "{to}: {error}");
        }
    }

    #[test]
    fn closure_amounts_must_be_one_of_flat_or_per_day() {
        let both = shipped_with(
            "amount_yen = 50000\nrequirements = []",
            "amount_yen = 50000\nper_day_yen = 1\nrequirements = []",
        );
        assert!(error_of(&both).message.contains("not both"), "{}", error_of(&both));
        let neither = shipped_with("amount_yen = 50000\nrequirements = []", "requirements = []");
        assert!(error_of(&neither).message.contains("per_day_yen"), "{}", error_of(&neither));
        let cap_too_low = shipped_with(
            "amount_yen = 50000\nrequirements = []",
            "per_day_yen = 100000\nmax_yen = 50000\nrequirements = []",
        );
        let error = error_of(&cap_too_low);
        assert_eq!(error.line, Some(line_containing(&cap_too_low, "max_yen")), "{error}");
        let per_day = shipped_with(
            "amount_yen = 50000\nrequirements = []",
            "per_day_yen = 100000\nmax_yen = 300000\nrequirements = []",
        );
        let set = RuleSet::parse(&per_day).expect("a per-day supplement is valid");
        let closure = set.cyber_attack.and_then(|p| p.closure).expect("closure");
        assert_eq!(closure.amount, ClosureAmount::PerDay { per_day_yen: 100_000, max_yen: Some(300_000) });
    }

    #[test]
    fn a_requirement_cannot_be_both_of_the_payment_and_of_the_supplement() {
        let broken = shipped_with(
            "min_days = 1\namount_yen = 50000\nrequirements = []",
            "min_days = 1\namount_yen = 50000\nrequirements = [\"mhlw_notified\"]",
        );
        let error = error_of(&broken);
        assert!(error.message.contains("already a requirement"), "{error}");
        let moved = shipped_with("requirements = [\"mhlw_notified\"]", "requirements = []").replacen(
            "min_days = 1\namount_yen = 50000\nrequirements = []",
            "min_days = 1\namount_yen = 50000\nrequirements = [\"mhlw_notified\"]",
            1,
        );
        let set = RuleSet::parse(&moved).expect("the MHLW requirement may sit on the supplement");
        let cyber = set.cyber_attack.expect("cyber");
        assert!(cyber.requirements.is_empty());
        assert_eq!(cyber.closure.expect("closure").requirements, [Requirement::MhlwNotified]);
    }

    #[test]
    fn a_leak_payment_has_no_closure_and_a_rule_set_offers_a_payment() {
        let leak_closure =
            format!("{SHIPPED}\n[payments.personal_data_leak.closure]\nmin_days = 1\namount_yen = 1\n");
        let error = error_of(&leak_closure);
        assert!(error.message.contains("cyber_attack payment only"), "{error}");
        let none = "effective_from = \"2024-01-01\"\ntitle_ja = \"a\"\ntitle_en = \"b\"\n[payments]\n";
        let error = error_of(none);
        assert_eq!(error.line, Some(4), "{error}");
        let missing = "effective_from = \"2024-01-01\"\ntitle_ja = \"a\"\ntitle_en = \"b\"\n";
        assert!(error_of(missing).message.contains("payments"), "{}", error_of(missing));
    }

    #[test]
    fn the_rule_in_force_is_the_latest_on_or_before_the_incident_date() {
        let later = shipped_with("effective_from = \"2022-06-01\"", "effective_from = \"2023-06-01\"");
        let book = RuleBook::from_files(&[("later.toml", later.as_str()), ("2022-06-01.toml", SHIPPED)])
            .expect("two sets");
        assert_eq!(book.scheme_start(), date("2022-06-01"));
        let in_force = |d: &str| book.in_force(date(d)).map(|set| set.effective_from.to_string());
        assert_eq!(in_force("2022-05-31"), None);
        assert_eq!(in_force("2022-06-01").as_deref(), Some("2022-06-01"));
        assert_eq!(in_force("2023-05-31").as_deref(), Some("2022-06-01"));
        assert_eq!(in_force("2023-06-01").as_deref(), Some("2023-06-01"));
        assert_eq!(in_force("2030-01-01").as_deref(), Some("2023-06-01"));
    }

    #[test]
    fn a_book_refuses_two_sets_of_one_date_an_empty_list_and_names_a_broken_file() {
        let error = RuleBook::from_files(&[("a.toml", SHIPPED), ("b.toml", SHIPPED)]).expect_err("same date");
        assert_eq!(
            error.to_string(),
            "a.toml and b.toml both take effect on 2022-06-01: give each revision its own effective_from"
        );
        assert_eq!(RuleBook::from_files::<&str, &str>(&[]), Err(RuleBookError::Empty));
        let broken = shipped_with("min_days = 1", "min_days = \"one\"");
        let error = RuleBook::from_files(&[("2022-06-01.toml", broken.as_str())]).expect_err("broken");
        let text = error.to_string();
        assert!(
            text.starts_with(&format!("2022-06-01.toml: line {}: ", line_containing(&broken, "\"one\""))),
            "{text}"
        );
    }
}

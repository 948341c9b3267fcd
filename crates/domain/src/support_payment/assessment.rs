//! The assessment: from the recorded facts, the institution's standing, the rule sets and the time, which
//! payment applies, how much, which requirements are met or still missing and which exclusions apply.
//! Every item has a stable code (clients and reports key on it) and a short reason in Japanese and
//! English (operators read it to the member).
//!
//! How it decides, in order:
//! 1. The rule set: the one in force on the incident's date in Japan. Before the first rule set's date
//!    the incident is excluded (`incident_before_scheme`). Without an incident date the rule set in
//!    force today is used provisionally, and `incident_date_recorded` is missing.
//! 2. The payment, from the cause: a cyber attack (a leak caused by one included) → the cyber-attack
//!    payment; a leak not caused by an attack → the leak payment; anything else is excluded
//!    (`cause_not_covered`); no cause yet → `cause_recorded` is missing.
//! 3. The rule set's exclusions (`insider` on an insider finding, `not_member_institution`) and
//!    requirements (the institution's standing, the days closed when the payment has a closure
//!    supplement, and the payment's and the supplement's own requirements).
//! 4. The status: `not_applicable` if any exclusion applies, else `pending_requirements` if anything is
//!    missing, else `ready_to_claim`. The amount is shown while pending (what will be paid once the
//!    requirements are met) and is 0 when not applicable.

use chrono::{DateTime, NaiveDate, Utc};

use super::rules::{Exclusion, PaymentRule, Requirement, RuleBook, RuleSet};
use super::{ClaimStatus, MemberStanding, PaymentKind, Reason, format_yen};
use crate::incident_facts::{CaseFacts, Cause, JST};

/// What the assessment says about one incident.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Assessment {
    /// `not_applicable`, `pending_requirements` or `ready_to_claim` (derived, never stored).
    pub status: ClaimStatus,
    /// The payment the cause points to, if known.
    pub payment: Option<PaymentKind>,
    /// The amount, base plus supplement; 0 when not applicable.
    pub amount_yen: u64,
    /// How the amount is made up.
    pub amounts: Vec<AmountLine>,
    /// The rule set used.
    pub rule_set: Option<RuleSetRef>,
    /// Every requirement checked, met or missing, in a fixed order: recorded facts first, then the
    /// scheme's conditions.
    pub requirements: Vec<RequirementCheck>,
    /// Every exclusion checked, applying or not.
    pub exclusions: Vec<ExclusionCheck>,
    /// One sentence for the operator.
    pub summary: Reason,
}

impl Assessment {
    /// Codes of the requirements still missing.
    pub fn missing(&self) -> Vec<&'static str> {
        self.requirements.iter().filter(|check| !check.met).map(|check| check.code).collect()
    }

    /// Codes of the exclusions that apply.
    pub fn applying_exclusions(&self) -> Vec<&'static str> {
        self.exclusions.iter().filter(|check| check.applies).map(|check| check.code).collect()
    }
}

/// Which rule set judged the incident.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleSetRef {
    /// Its first day (its identity).
    pub effective_from: NaiveDate,
    /// Its name.
    pub title: Reason,
    /// True when the incident date is not recorded and the rule set in force today stands in.
    pub provisional: bool,
}

/// Part of the amount.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AmountLine {
    /// `base` or `closure_supplement`.
    pub code: &'static str,
    /// Yen.
    pub amount_yen: u64,
    /// Why.
    pub reason: Reason,
}

/// One requirement and whether it is met.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RequirementCheck {
    /// Stable code: `cause_recorded`, `incident_date_recorded`, `member_institution_confirmed`,
    /// `days_closed_recorded`, or a rule-file requirement (`mhlw_notified`, `ppc_preliminary_report`,
    /// `ppc_recurrence_prevention_report`, `victims_notified`).
    pub code: &'static str,
    /// Met or still missing.
    pub met: bool,
    /// `payment` (the whole payment) or `closure_supplement` (the supplement only).
    pub scope: &'static str,
    /// Why met or what is missing.
    pub reason: Reason,
}

/// One exclusion and whether it applies.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExclusionCheck {
    /// Stable code: `incident_before_scheme`, `cause_not_covered`, `payment_not_offered`, `insider`,
    /// `not_member_institution`.
    pub code: &'static str,
    /// Whether it applies (then nothing is paid).
    pub applies: bool,
    /// Why.
    pub reason: Reason,
}

const SCOPE_PAYMENT: &str = "payment";
const SCOPE_CLOSURE: &str = "closure_supplement";

/// Short names of what a requirement asks for, for reasons and summaries.
fn label(code: &str) -> Reason {
    match code {
        "cause_recorded" => Reason::new("原因の記録", "the cause"),
        "incident_date_recorded" => Reason::new("発生日時の記録", "the incident date"),
        "member_institution_confirmed" => Reason::new(
            "A①会員の医療機関であることの確認",
            "confirmation that an A① member runs the institution",
        ),
        "days_closed_recorded" => Reason::new("休業日数の記録", "the days closed"),
        "mhlw_notified" => Reason::new("厚生労働省への届出", "notification to the MHLW"),
        "ppc_preliminary_report" => {
            Reason::new("個人情報保護委員会への速報", "the preliminary report to the PPC")
        }
        "ppc_recurrence_prevention_report" => Reason::new(
            "個人情報保護委員会への再発防止策の報告",
            "the report of recurrence-prevention measures to the PPC",
        ),
        "victims_notified" => {
            Reason::new("情報漏えいの被害者への通知", "notification of the people whose data leaked")
        }
        other => Reason::new(other, other),
    }
}

fn jst_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&JST).date_naive()
}

/// When a rule-file requirement was fulfilled, if it was.
fn fulfilled_at(requirement: Requirement, facts: &CaseFacts) -> Option<DateTime<Utc>> {
    match requirement {
        Requirement::MhlwNotified => facts.mhlw_notified_at,
        // A final report filed at once also does for the preliminary one.
        Requirement::PpcPreliminaryReport => facts.ppc_preliminary_report_at.or(facts.ppc_final_report_at),
        Requirement::PpcRecurrencePreventionReport => facts.ppc_final_report_at,
        Requirement::VictimsNotified => facts.victims_notified_at,
    }
}

#[derive(Default)]
struct Findings {
    requirements: Vec<RequirementCheck>,
    exclusions: Vec<ExclusionCheck>,
    amounts: Vec<AmountLine>,
}

impl Findings {
    fn requirement(&mut self, code: &'static str, met: bool, scope: &'static str, reason: Reason) {
        self.requirements.push(RequirementCheck { code, met, scope, reason });
    }

    fn missing_fact(&mut self, code: &'static str, why_ja: &str, why_en: &str) {
        let name = label(code);
        self.requirement(
            code,
            false,
            SCOPE_PAYMENT,
            Reason::new(
                format!("{}が必要です({why_ja})", name.ja),
                format!("{} is needed ({why_en})", name.en),
            ),
        );
    }

    fn exclusion(&mut self, code: &'static str, applies: bool, reason: Reason) {
        self.exclusions.push(ExclusionCheck { code, applies, reason });
    }

    fn rule_requirements(&mut self, requirements: &[Requirement], scope: &'static str, facts: &CaseFacts) {
        for requirement in requirements {
            let code = requirement.as_str();
            let name = label(code);
            let reason = match fulfilled_at(*requirement, facts) {
                Some(at) => {
                    let date = jst_date(at);
                    Reason::new(format!("{}: 済({date})", name.ja), format!("{}: done on {date}", name.en))
                }
                None => Reason::new(
                    format!("{}が要件です(未記録)", name.ja),
                    format!("{} is required and not recorded yet", name.en),
                ),
            };
            self.requirement(code, fulfilled_at(*requirement, facts).is_some(), scope, reason);
        }
    }
}

/// Assesses one incident. `now` chooses the provisional rule set while the incident date is unknown.
pub fn assess(
    facts: &CaseFacts,
    standing: MemberStanding,
    rules: &RuleBook,
    now: DateTime<Utc>,
) -> Assessment {
    let mut found = Findings::default();

    let payment = match facts.cause {
        None => {
            found.missing_fact(
                "cause_recorded",
                "サイバー攻撃か、攻撃に起因しない漏えいか",
                "an attack, or a leak not caused by one",
            );
            None
        }
        Some(Cause::CyberAttack) => {
            found.requirement(
                "cause_recorded",
                true,
                SCOPE_PAYMENT,
                Reason::new(
                    "原因: サイバー攻撃(攻撃による漏えいを含む)",
                    "cause: a cyber attack (including a leak caused by one)",
                ),
            );
            Some(PaymentKind::CyberAttack)
        }
        Some(Cause::LeakNotAttack) => {
            found.requirement(
                "cause_recorded",
                true,
                SCOPE_PAYMENT,
                Reason::new(
                    "原因: サイバー攻撃に起因しない個人情報漏えい",
                    "cause: a personal-data leak not caused by an attack",
                ),
            );
            Some(PaymentKind::PersonalDataLeak)
        }
        Some(Cause::Other) => {
            found.requirement(
                "cause_recorded",
                true,
                SCOPE_PAYMENT,
                Reason::new("原因: その他", "cause: other"),
            );
            found.exclusion(
                "cause_not_covered",
                true,
                Reason::new(
                    "サイバー攻撃にも個人情報漏えいにも当たらないため対象外です",
                    "neither a cyber attack nor a personal-data leak: not covered",
                ),
            );
            None
        }
    };

    let start = rules.scheme_start();
    let (rule_set, provisional) = match facts.incident_date() {
        Some(date) => {
            found.requirement(
                "incident_date_recorded",
                true,
                SCOPE_PAYMENT,
                Reason::new(format!("発生日: {date}"), format!("incident date: {date} (JST)")),
            );
            let before = date < start;
            found.exclusion(
                "incident_before_scheme",
                before,
                if before {
                    Reason::new(
                        format!("{date}の被害は制度開始({start})より前のため対象外です"),
                        format!("the incident on {date} predates the scheme, which covers incidents from {start} (JST)"),
                    )
                } else {
                    Reason::new(
                        format!("{date}の被害: 制度開始({start})以降"),
                        format!("the incident on {date} is on or after the scheme start, {start} (JST)"),
                    )
                },
            );
            (rules.in_force(date), false)
        }
        None => {
            found.missing_fact(
                "incident_date_recorded",
                "適用する規程を決めるため",
                "it chooses the rule set",
            );
            (rules.in_force(jst_date(now)), true)
        }
    };

    if let Some(set) = rule_set {
        check_rule_set(&mut found, set, payment, facts, standing);
    }

    let excluded = found.exclusions.iter().any(|check| check.applies);
    let missing = found.requirements.iter().any(|check| !check.met);
    let status = if excluded {
        ClaimStatus::NotApplicable
    } else if missing || payment.is_none() || rule_set.is_none() {
        ClaimStatus::PendingRequirements
    } else {
        ClaimStatus::ReadyToClaim
    };
    if excluded {
        found.amounts.clear();
    }
    let amount_yen = found.amounts.iter().map(|line| line.amount_yen).sum();
    let summary = summarise(status, payment, amount_yen, &found);
    Assessment {
        status,
        payment,
        amount_yen,
        amounts: found.amounts,
        rule_set: rule_set.map(|set| RuleSetRef {
            effective_from: set.effective_from,
            title: Reason::new(set.title_ja.clone(), set.title_en.clone()),
            provisional,
        }),
        requirements: found.requirements,
        exclusions: found.exclusions,
        summary,
    }
}

fn check_rule_set(
    found: &mut Findings,
    set: &RuleSet,
    payment: Option<PaymentKind>,
    facts: &CaseFacts,
    standing: MemberStanding,
) {
    if set.excludes(Exclusion::Insider) {
        let applies = facts.insider_finding == Some(true);
        found.exclusion(
            "insider",
            applies,
            match facts.insider_finding {
                Some(true) => Reason::new(
                    "内部犯罪に起因した案件はお支払いの対象外です",
                    "cases caused by an insider (内部犯罪) are not paid",
                ),
                Some(false) => Reason::new("内部犯罪ではないと判明", "found not to be caused by an insider"),
                None => Reason::new("内部犯罪との判明なし", "no insider finding recorded"),
            },
        );
    }
    if set.excludes(Exclusion::NotMemberInstitution) {
        let (met, reason) = match standing {
            MemberStanding::Confirmed => (
                true,
                Reason::new("A①会員が開設・管理する医療機関(確認済み)", "run by an A① member (confirmed)"),
            ),
            MemberStanding::Unconfirmed => (
                false,
                Reason::new(
                    "A①会員が開設・管理する医療機関であることが未確認です(会員情報の照合または責任者の確認が必要)",
                    "not yet confirmed that an A① member runs the institution (a registry match or a supervisor's \
                     confirmation is needed)",
                ),
            ),
            MemberStanding::NotMemberInstitution => (
                false,
                Reason::new("A①会員の医療機関ではありません", "the institution is not run by an A① member"),
            ),
        };
        found.requirement("member_institution_confirmed", met, SCOPE_PAYMENT, reason);
        let applies = standing == MemberStanding::NotMemberInstitution;
        found.exclusion(
            "not_member_institution",
            applies,
            if applies {
                Reason::new(
                    "A①会員が開設・管理する医療機関ではないため対象外です",
                    "the institution is not run by an A① member: not covered",
                )
            } else {
                Reason::new("A①会員でないとの判明なし", "not found to be outside the A① membership")
            },
        );
    }
    let Some(kind) = payment else { return };
    let Some(rule) = set.payment(kind) else {
        let name = kind.name();
        found.exclusion(
            "payment_not_offered",
            true,
            Reason::new(
                format!("{}の規程({})に{}はありません", set.title_ja, set.effective_from, name.ja),
                format!("the rule set of {} offers no {}", set.effective_from, name.en.to_lowercase()),
            ),
        );
        return;
    };
    check_payment(found, kind, rule, facts);
}

fn check_payment(found: &mut Findings, kind: PaymentKind, rule: &PaymentRule, facts: &CaseFacts) {
    let name = kind.name();
    found.amounts.push(AmountLine {
        code: "base",
        amount_yen: rule.amount_yen,
        reason: Reason::new(
            format!("{}(初期対応支援) {}円", name.ja, format_yen(rule.amount_yen)),
            format!("{} (initial response) ¥{}", name.en, format_yen(rule.amount_yen)),
        ),
    });
    let closure_applies = match (&rule.closure, facts.days_closed) {
        (None, _) => false,
        (Some(_), None) => {
            found.missing_fact(
                "days_closed_recorded",
                "休業しなかった場合は0",
                "0 if the institution did not close",
            );
            true
        }
        (Some(closure), Some(days)) => {
            let supplement = closure.supplement(days);
            let reason = if supplement > 0 {
                Reason::new(
                    format!("休業{days}日({}日以上): {}円を加算", closure.min_days, format_yen(supplement)),
                    format!(
                        "closed {days} day(s), at least {}: ¥{} more",
                        closure.min_days,
                        format_yen(supplement)
                    ),
                )
            } else if days == 0 {
                Reason::new("休業なし(0日): 加算なし", "not closed (0 days): no supplement")
            } else {
                Reason::new(
                    format!("休業{days}日({}日未満): 加算なし", closure.min_days),
                    format!("closed {days} day(s), fewer than {}: no supplement", closure.min_days),
                )
            };
            found.requirement("days_closed_recorded", true, SCOPE_PAYMENT, reason.clone());
            if supplement > 0 {
                found.amounts.push(AmountLine { code: "closure_supplement", amount_yen: supplement, reason });
            }
            supplement > 0
        }
    };
    found.rule_requirements(&rule.requirements, SCOPE_PAYMENT, facts);
    if let Some(closure) = rule.closure.as_ref().filter(|_| closure_applies) {
        found.rule_requirements(&closure.requirements, SCOPE_CLOSURE, facts);
    }
}

fn summarise(status: ClaimStatus, payment: Option<PaymentKind>, amount: u64, found: &Findings) -> Reason {
    if status == ClaimStatus::NotApplicable {
        let first = found.exclusions.iter().find(|check| check.applies).map(|check| &check.reason);
        return match first {
            Some(reason) => {
                Reason::new(format!("対象外: {}", reason.ja), format!("Not eligible: {}", reason.en))
            }
            None => Reason::new("対象外", "Not eligible"),
        };
    }
    let head = payment.map(|kind| {
        let name = kind.name();
        (format!("{} {}円", name.ja, format_yen(amount)), format!("{} ¥{}", name.en, format_yen(amount)))
    });
    if status == ClaimStatus::ReadyToClaim {
        let (ja, en) = head.unwrap_or_default();
        return Reason::new(format!("{ja}: 請求できます"), format!("{en}: ready to claim"));
    }
    let missing: Vec<Reason> =
        found.requirements.iter().filter(|check| !check.met).map(|check| label(check.code)).collect();
    let ja_missing = missing.iter().map(|r| r.ja.as_str()).collect::<Vec<_>>().join("、");
    let en_missing = missing.iter().map(|r| r.en.as_str()).collect::<Vec<_>>().join("; ");
    match head {
        Some((ja, en)) => Reason::new(
            format!("{ja}: 要件の充足待ち(未了: {ja_missing})"),
            format!("{en}: pending requirements (missing: {en_missing})"),
        ),
        None => Reason::new(
            format!("支援金はまだ判定できません(未了: {ja_missing})"),
            format!("No payment can be determined yet (missing: {en_missing})"),
        ),
    }
}

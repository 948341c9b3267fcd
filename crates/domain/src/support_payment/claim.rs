//! The claim of a support payment and its statuses:
//!
//! ```text
//! not_applicable ⇄ pending_requirements ⇄ ready_to_claim ──claim──▶ claimed ──pay────▶ paid
//!        (derived from the assessment, never stored)                   └────reject─▶ rejected (reason)
//! ```
//!
//! The first three are *derived*: they follow the facts, forwards and backwards, and are computed on
//! every read. `claimed`, `paid` and `rejected` are *recorded*: a supervisor takes each step, it is
//! stored with the ticket and audited, and later facts do not move it. One claim per incident: a second
//! claim — for the same payment or for the other one (the two are mutually exclusive) — is refused, and
//! so is a claim after a rejection (a rejection is final in hotline; the association decides appeals).

use chrono::NaiveDate;

use super::{Assessment, PaymentKind, Reason, format_yen};
use crate::FieldError;
use crate::role::Role;

/// Where a support payment stands for one incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClaimStatus {
    /// An exclusion applies: nothing is paid (derived).
    NotApplicable,
    /// A payment may apply but something is still missing (derived).
    PendingRequirements,
    /// Everything is met: a supervisor may claim (derived).
    ReadyToClaim,
    /// Claimed from the association (recorded).
    Claimed,
    /// Paid (recorded).
    Paid,
    /// Refused by the association, with a reason (recorded).
    Rejected,
}

wire_names!(ClaimStatus, "status" {
    NotApplicable => "not_applicable",
    PendingRequirements => "pending_requirements",
    ReadyToClaim => "ready_to_claim",
    Claimed => "claimed",
    Paid => "paid",
    Rejected => "rejected",
});

impl ClaimStatus {
    /// The statuses that are stored; the others are computed from the facts.
    pub const RECORDED: [ClaimStatus; 3] = [Self::Claimed, Self::Paid, Self::Rejected];

    /// Whether the status is stored (a claim exists) rather than derived.
    pub fn is_recorded(self) -> bool {
        Self::RECORDED.contains(&self)
    }
}

/// A step a supervisor takes on a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClaimAction {
    /// Claim the payment (from `ready_to_claim`).
    Claim,
    /// Record that the association paid (from `claimed`).
    Pay,
    /// Record that the association refused, with a reason (from `claimed`).
    Reject,
}

wire_names!(ClaimAction, "action" {
    Claim => "claim",
    Pay => "pay",
    Reject => "reject",
});

impl ClaimAction {
    /// Least role that may take the step: every step is a supervisor's.
    pub fn required_role(self) -> Role {
        Role::Supervisor
    }
}

/// The status a step leads to, or `None` when the step does not apply there.
pub fn next_claim_status(from: ClaimStatus, action: ClaimAction) -> Option<ClaimStatus> {
    match (from, action) {
        (ClaimStatus::ReadyToClaim, ClaimAction::Claim) => Some(ClaimStatus::Claimed),
        (ClaimStatus::Claimed, ClaimAction::Pay) => Some(ClaimStatus::Paid),
        (ClaimStatus::Claimed, ClaimAction::Reject) => Some(ClaimStatus::Rejected),
        _ => None,
    }
}

/// The steps a role may take from a status, for the ticket view.
pub fn allowed_claim_actions(from: ClaimStatus, role: Role) -> Vec<ClaimAction> {
    ClaimAction::ALL
        .iter()
        .copied()
        .filter(|action| role.allows(action.required_role()) && next_claim_status(from, *action).is_some())
        .collect()
}

/// The claim recorded for an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExistingClaim {
    /// Which payment was claimed.
    pub payment: PaymentKind,
    /// `claimed`, `paid` or `rejected`.
    pub status: ClaimStatus,
}

/// The status to show: the recorded claim's if there is one, otherwise the assessment's.
pub fn current_status(assessment: &Assessment, existing: Option<&ExistingClaim>) -> ClaimStatus {
    existing.map_or(assessment.status, |claim| claim.status)
}

/// What a new claim records, taken from the assessment at the moment of claiming.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimDraft {
    /// The payment.
    pub payment: PaymentKind,
    /// The amount claimed.
    pub amount_yen: u64,
    /// The rule set that judged it.
    pub rule_set: NaiveDate,
}

/// Why a claim step was refused; nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimRefusal {
    /// The role may not take the step.
    #[error("{} needs the {required} role", .action.as_str())]
    Forbidden {
        /// The step.
        action: ClaimAction,
        /// The role needed.
        required: Role,
    },
    /// The incident already has a claim for this payment.
    #[error("this incident already has a claim for the {} payment, now {}: one claim per incident", .payment.as_str(), .status.as_str())]
    AlreadyClaimed {
        /// The payment claimed.
        payment: PaymentKind,
        /// Its status.
        status: ClaimStatus,
    },
    /// The incident has a claim for the other payment; the two are mutually exclusive.
    #[error("the {} payment was already claimed for this incident (now {}); the two payments are mutually exclusive", .claimed.as_str(), .status.as_str())]
    OtherPaymentClaimed {
        /// The payment claimed before.
        claimed: PaymentKind,
        /// Its status.
        status: ClaimStatus,
        /// The payment asked for now.
        requested: PaymentKind,
    },
    /// The facts point to another payment, or to none yet.
    #[error("the {} payment does not apply to this incident; {}", .requested.as_str(), applicable_text(*.applicable))]
    WrongPayment {
        /// The payment asked for.
        requested: PaymentKind,
        /// The payment the facts point to.
        applicable: Option<PaymentKind>,
    },
    /// The assessment is not `ready_to_claim`.
    #[error("not ready to claim: the payment is {}{}", .status.as_str(), not_ready_detail(.missing, .exclusions))]
    NotReady {
        /// The derived status.
        status: ClaimStatus,
        /// Requirements still missing.
        missing: Vec<&'static str>,
        /// Exclusions that apply.
        exclusions: Vec<&'static str>,
    },
    /// The step does not apply to the claim's status.
    #[error("cannot {} a claim that is {}; allowed here: {}", .action.as_str(), .from.as_str(), describe(.allowed))]
    Invalid {
        /// The current status.
        from: ClaimStatus,
        /// The refused step.
        action: ClaimAction,
        /// What could be done instead.
        allowed: Vec<ClaimAction>,
    },
}

fn applicable_text(applicable: Option<PaymentKind>) -> String {
    match applicable {
        Some(kind) => format!("the facts point to the {} payment", kind.as_str()),
        None => "the facts point to no payment yet".to_owned(),
    }
}

fn not_ready_detail(missing: &[&str], exclusions: &[&str]) -> String {
    let mut out = String::new();
    if !exclusions.is_empty() {
        out.push_str(&format!("; excluded: {}", exclusions.join(", ")));
    }
    if !missing.is_empty() {
        out.push_str(&format!("; missing: {}", missing.join(", ")));
    }
    out
}

fn describe(allowed: &[ClaimAction]) -> String {
    if allowed.is_empty() {
        return "nothing".to_owned();
    }
    allowed.iter().map(|action| action.as_str()).collect::<Vec<_>>().join(", ")
}

/// Checks a claim for `requested`: a supervisor's step, no earlier claim for the incident, the payment
/// the facts point to, and an assessment that is `ready_to_claim`. The draft carries the amount and
/// the rule set of this moment.
pub fn may_claim(
    assessment: &Assessment,
    existing: Option<&ExistingClaim>,
    requested: PaymentKind,
    role: Role,
) -> Result<ClaimDraft, ClaimRefusal> {
    let action = ClaimAction::Claim;
    if !role.allows(action.required_role()) {
        return Err(ClaimRefusal::Forbidden { action, required: action.required_role() });
    }
    if let Some(claim) = existing {
        return Err(if claim.payment == requested {
            ClaimRefusal::AlreadyClaimed { payment: claim.payment, status: claim.status }
        } else {
            ClaimRefusal::OtherPaymentClaimed { claimed: claim.payment, status: claim.status, requested }
        });
    }
    if assessment.payment.is_some_and(|applicable| applicable != requested) {
        return Err(ClaimRefusal::WrongPayment { requested, applicable: assessment.payment });
    }
    let (Some(payment), Some(rule_set), ClaimStatus::ReadyToClaim) =
        (assessment.payment, assessment.rule_set.as_ref(), assessment.status)
    else {
        if assessment.payment.is_none() && assessment.status != ClaimStatus::NotApplicable {
            return Err(ClaimRefusal::WrongPayment { requested, applicable: None });
        }
        return Err(ClaimRefusal::NotReady {
            status: assessment.status,
            missing: assessment.missing(),
            exclusions: assessment.applying_exclusions(),
        });
    };
    Ok(ClaimDraft { payment, amount_yen: assessment.amount_yen, rule_set: rule_set.effective_from })
}

/// Checks a later step (`pay`, `reject`) on the recorded claim; the new status.
pub fn decide(
    assessment: &Assessment,
    existing: Option<&ExistingClaim>,
    action: ClaimAction,
    role: Role,
) -> Result<ClaimStatus, ClaimRefusal> {
    if !role.allows(action.required_role()) {
        return Err(ClaimRefusal::Forbidden { action, required: action.required_role() });
    }
    let from = current_status(assessment, existing);
    match next_claim_status(from, action) {
        Some(to) if action != ClaimAction::Claim => Ok(to),
        _ => Err(ClaimRefusal::Invalid { from, action, allowed: allowed_claim_actions(from, role) }),
    }
}

/// One sentence on a recorded claim, for the operator: the payment, the amount claimed and where the
/// claim stands (the assessment's summary speaks for the derived statuses).
pub fn claim_summary(payment: PaymentKind, status: ClaimStatus, amount_yen: u64) -> Reason {
    let name = payment.name();
    let amount = format_yen(amount_yen);
    let (ja, en) = match status {
        ClaimStatus::Claimed => ("請求済み(支払待ち)", "claimed, awaiting payment"),
        ClaimStatus::Paid => ("支払済み", "paid"),
        ClaimStatus::Rejected => {
            ("不支給(理由は請求の記録を参照)", "rejected (see the claim for the reason)")
        }
        ClaimStatus::NotApplicable | ClaimStatus::PendingRequirements | ClaimStatus::ReadyToClaim => {
            ("未請求", "not claimed")
        }
    };
    Reason::new(format!("{} {amount}円: {ja}", name.ja), format!("{} ¥{amount}: {en}", name.en))
}

/// The reason of a rejection: required, 1–1000 characters, as the association gave it.
pub fn rejection_reason(input: &str) -> Result<String, FieldError> {
    crate::text::required_notes("reason", input, 1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::support_payment::RuleSetRef;

    fn assessment(status: ClaimStatus, payment: Option<PaymentKind>) -> Assessment {
        Assessment {
            status,
            payment,
            amount_yen: 150_000,
            amounts: vec![],
            rule_set: Some(RuleSetRef {
                effective_from: "2022-06-01".parse().expect("date"),
                title: Reason::new("", ""),
                provisional: false,
            }),
            requirements: vec![],
            exclusions: vec![],
            summary: Reason::new("", ""),
        }
    }

    const ALL_ROLES: [Role; 3] = [Role::Operator, Role::Supervisor, Role::Admin];

    #[test]
    fn a_recorded_claim_is_summed_up_with_its_payment_amount_and_status() {
        let paid = claim_summary(PaymentKind::CyberAttack, ClaimStatus::Paid, 150_000);
        assert_eq!(paid.ja, "サイバー攻撃一時支援金 150,000円: 支払済み");
        assert_eq!(paid.en, "Cyber-attack support payment ¥150,000: paid");
        let claimed = claim_summary(PaymentKind::PersonalDataLeak, ClaimStatus::Claimed, 50_000);
        assert_eq!(claimed.ja, "個人情報漏えい一時支援金 50,000円: 請求済み(支払待ち)");
        assert!(
            claim_summary(PaymentKind::CyberAttack, ClaimStatus::Rejected, 100_000)
                .en
                .ends_with("rejected (see the claim for the reason)")
        );
    }

    /// The machine written out by hand: every allowed (from, action, to); everything else is refused.
    const EXPECTED: &[(ClaimStatus, ClaimAction, ClaimStatus)] = &[
        (ClaimStatus::ReadyToClaim, ClaimAction::Claim, ClaimStatus::Claimed),
        (ClaimStatus::Claimed, ClaimAction::Pay, ClaimStatus::Paid),
        (ClaimStatus::Claimed, ClaimAction::Reject, ClaimStatus::Rejected),
    ];

    #[test]
    fn every_status_and_action_agrees_with_the_expected_table() {
        for from in ClaimStatus::ALL.iter().copied() {
            for action in ClaimAction::ALL.iter().copied() {
                let expected =
                    EXPECTED.iter().find(|(f, a, _)| *f == from && *a == action).map(|(_, _, to)| *to);
                assert_eq!(next_claim_status(from, action), expected, "{from:?} {action:?}");
            }
        }
        assert_eq!(
            ClaimStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            ["not_applicable", "pending_requirements", "ready_to_claim", "claimed", "paid", "rejected"]
        );
        assert!(ClaimStatus::ALL.iter().all(|s| s.is_recorded() == ClaimStatus::RECORDED.contains(s)));
        assert!(!ClaimStatus::ReadyToClaim.is_recorded() && ClaimStatus::Paid.is_recorded());
    }

    #[test]
    fn only_supervisors_and_admins_take_claim_steps() {
        let ready = assessment(ClaimStatus::ReadyToClaim, Some(PaymentKind::CyberAttack));
        for role in ALL_ROLES {
            let result = may_claim(&ready, None, PaymentKind::CyberAttack, role);
            if role == Role::Operator {
                assert_eq!(
                    result,
                    Err(ClaimRefusal::Forbidden { action: ClaimAction::Claim, required: Role::Supervisor })
                );
            } else {
                assert_eq!(
                    result,
                    Ok(ClaimDraft {
                        payment: PaymentKind::CyberAttack,
                        amount_yen: 150_000,
                        rule_set: "2022-06-01".parse().expect("date"),
                    })
                );
            }
        }
        let claimed = ExistingClaim { payment: PaymentKind::CyberAttack, status: ClaimStatus::Claimed };
        assert_eq!(
            decide(&ready, Some(&claimed), ClaimAction::Pay, Role::Operator),
            Err(ClaimRefusal::Forbidden { action: ClaimAction::Pay, required: Role::Supervisor })
        );
        assert_eq!(allowed_claim_actions(ClaimStatus::Claimed, Role::Operator), []);
        assert_eq!(
            allowed_claim_actions(ClaimStatus::Claimed, Role::Supervisor),
            [ClaimAction::Pay, ClaimAction::Reject]
        );
        assert_eq!(allowed_claim_actions(ClaimStatus::ReadyToClaim, Role::Admin), [ClaimAction::Claim]);
    }

    #[test]
    fn pay_and_reject_follow_a_claim_only() {
        let ready = assessment(ClaimStatus::ReadyToClaim, Some(PaymentKind::CyberAttack));
        let claimed = ExistingClaim { payment: PaymentKind::CyberAttack, status: ClaimStatus::Claimed };
        assert_eq!(decide(&ready, Some(&claimed), ClaimAction::Pay, Role::Supervisor), Ok(ClaimStatus::Paid));
        assert_eq!(
            decide(&ready, Some(&claimed), ClaimAction::Reject, Role::Supervisor),
            Ok(ClaimStatus::Rejected)
        );
        let error =
            decide(&ready, None, ClaimAction::Pay, Role::Supervisor).expect_err("nothing claimed yet");
        assert_eq!(error.to_string(), "cannot pay a claim that is ready_to_claim; allowed here: claim");
        let paid = ExistingClaim { status: ClaimStatus::Paid, ..claimed };
        let error = decide(&ready, Some(&paid), ClaimAction::Reject, Role::Supervisor).expect_err("final");
        assert_eq!(error.to_string(), "cannot reject a claim that is paid; allowed here: nothing");
        assert!(matches!(
            decide(&ready, None, ClaimAction::Claim, Role::Supervisor),
            Err(ClaimRefusal::Invalid { action: ClaimAction::Claim, .. })
        ));
    }

    #[test]
    fn a_second_claim_is_refused_for_either_payment_even_after_a_rejection() {
        let ready = assessment(ClaimStatus::ReadyToClaim, Some(PaymentKind::CyberAttack));
        for status in ClaimStatus::RECORDED {
            let existing = ExistingClaim { payment: PaymentKind::CyberAttack, status };
            assert_eq!(
                may_claim(&ready, Some(&existing), PaymentKind::CyberAttack, Role::Supervisor),
                Err(ClaimRefusal::AlreadyClaimed { payment: PaymentKind::CyberAttack, status })
            );
            let error = may_claim(&ready, Some(&existing), PaymentKind::PersonalDataLeak, Role::Supervisor)
                .expect_err("mutually exclusive");
            assert_eq!(
                error,
                ClaimRefusal::OtherPaymentClaimed {
                    claimed: PaymentKind::CyberAttack,
                    status,
                    requested: PaymentKind::PersonalDataLeak
                }
            );
            assert!(error.to_string().contains("mutually exclusive"), "{error}");
        }
    }

    #[test]
    fn a_claim_needs_the_applicable_payment_and_a_ready_assessment() {
        let ready = assessment(ClaimStatus::ReadyToClaim, Some(PaymentKind::CyberAttack));
        let error =
            may_claim(&ready, None, PaymentKind::PersonalDataLeak, Role::Supervisor).expect_err("wrong");
        assert_eq!(
            error.to_string(),
            "the personal_data_leak payment does not apply to this incident; the facts point to the cyber_attack payment"
        );
        let pending = assessment(ClaimStatus::PendingRequirements, None);
        assert_eq!(
            may_claim(&pending, None, PaymentKind::CyberAttack, Role::Supervisor),
            Err(ClaimRefusal::WrongPayment { requested: PaymentKind::CyberAttack, applicable: None })
        );
        let pending = assessment(ClaimStatus::PendingRequirements, Some(PaymentKind::CyberAttack));
        assert!(matches!(
            may_claim(&pending, None, PaymentKind::CyberAttack, Role::Supervisor),
            Err(ClaimRefusal::NotReady { status: ClaimStatus::PendingRequirements, .. })
        ));
        let excluded = assessment(ClaimStatus::NotApplicable, None);
        assert!(matches!(
            may_claim(&excluded, None, PaymentKind::CyberAttack, Role::Supervisor),
            Err(ClaimRefusal::NotReady { status: ClaimStatus::NotApplicable, .. })
        ));
    }

    #[test]
    fn the_shown_status_is_the_recorded_one_once_claimed() {
        let pending = assessment(ClaimStatus::PendingRequirements, Some(PaymentKind::CyberAttack));
        assert_eq!(current_status(&pending, None), ClaimStatus::PendingRequirements);
        let paid = ExistingClaim { payment: PaymentKind::CyberAttack, status: ClaimStatus::Paid };
        assert_eq!(current_status(&pending, Some(&paid)), ClaimStatus::Paid);
    }

    #[test]
    fn a_rejection_needs_a_reason() {
        assert_eq!(rejection_reason("  書類不備 ").as_deref(), Ok("書類不備"));
        assert_eq!(rejection_reason("").map_err(|e| e.field), Err("reason".to_owned()));
        assert!(rejection_reason(&"あ".repeat(1001)).is_err());
    }
}

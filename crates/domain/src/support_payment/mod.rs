//! The association's support payments (サイバー攻撃一時支援金・個人情報漏えい一時支援金): which payment an
//! incident is owed, how much, what is still missing, and the claim that follows.
//!
//! - [`rules`]: rule sets as data (TOML), one per revision, chosen by the incident's date in Japan.
//! - [`assessment`]: a pure function of the recorded facts, the institution's standing, the rule sets and
//!   the time, that says which payment applies, the amount, every requirement met or missing and every
//!   exclusion, each with a stable code and a reason in Japanese and English.
//! - [`claim`]: the claim's statuses. `not_applicable`, `pending_requirements` and `ready_to_claim` are
//!   derived from the assessment and never stored; `claimed`, `paid` and `rejected` are recorded by
//!   supervisors, one claim per incident.
//!
//! docs/support-payments.md explains the rules with the scheme's own wording.

pub mod assessment;
pub mod claim;
pub mod rules;

#[cfg(test)]
mod cases;

use crate::verification::VerificationOutcome;

pub use assessment::{AmountLine, Assessment, ExclusionCheck, RequirementCheck, RuleSetRef, assess};
pub use claim::{ClaimAction, ClaimDraft, ClaimRefusal, ClaimStatus, ExistingClaim};
pub use rules::{RuleBook, RuleBookError, RuleSet, RuleSetError};

/// The two payments of the scheme; they are mutually exclusive (「両方を受け取ることはできず」).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PaymentKind {
    /// サイバー攻撃一時支援金: a cyber attack, including a leak caused by one.
    CyberAttack,
    /// 個人情報漏えい一時支援金: a personal-data leak not caused by an attack.
    PersonalDataLeak,
}

wire_names!(PaymentKind, "payment" {
    CyberAttack => "cyber_attack",
    PersonalDataLeak => "personal_data_leak",
});

impl PaymentKind {
    /// The payment's name.
    pub fn name(self) -> Reason {
        match self {
            Self::CyberAttack => Reason::new("サイバー攻撃一時支援金", "Cyber-attack support payment"),
            Self::PersonalDataLeak => {
                Reason::new("個人情報漏えい一時支援金", "Personal-data-leak support payment")
            }
        }
    }
}

/// Whether the institution is run by an A① member, as far as the hotline knows. Only institutions run
/// by an A① member are covered (「A①会員がいらっしゃらない医療機関はご利用になれない」).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MemberStanding {
    /// The registry matched the caller's member and institution, or a supervisor confirmed the caller.
    Confirmed,
    /// Not established yet: the details did not match, or the identifier was not found, and no
    /// supervisor has confirmed the caller.
    Unconfirmed,
    /// The registry knows the member, but not as an A① member running an institution.
    NotMemberInstitution,
}

impl MemberStanding {
    /// The standing from the ticket's first call's verification and a supervisor's confirmation. A
    /// supervisor's confirmation is the latest human judgement and wins over the registry's outcome.
    pub fn from_verification(first_call: Option<VerificationOutcome>, caller_confirmed: bool) -> Self {
        match (first_call, caller_confirmed) {
            (_, true) | (Some(VerificationOutcome::Verified), _) => Self::Confirmed,
            (Some(VerificationOutcome::Ineligible), false) => Self::NotMemberInstitution,
            (Some(VerificationOutcome::Mismatch | VerificationOutcome::NotFound) | None, false) => {
                Self::Unconfirmed
            }
        }
    }
}

/// A short explanation in both languages the hotline works in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reason {
    /// 日本語.
    pub ja: String,
    /// English.
    pub en: String,
}

impl Reason {
    /// Builds a reason from its two texts.
    pub fn new(ja: impl Into<String>, en: impl Into<String>) -> Self {
        Self { ja: ja.into(), en: en.into() }
    }
}

/// Yen with thousands separators: `150,000`.
pub fn format_yen(amount: u64) -> String {
    let digits = amount.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yen_are_grouped_by_thousands() {
        assert_eq!(format_yen(0), "0");
        assert_eq!(format_yen(999), "999");
        assert_eq!(format_yen(1_000), "1,000");
        assert_eq!(format_yen(50_000), "50,000");
        assert_eq!(format_yen(150_000), "150,000");
        assert_eq!(format_yen(10_000_000), "10,000,000");
    }

    #[test]
    fn standing_follows_verification_and_confirmation() {
        use VerificationOutcome as V;
        let cases = [
            (Some(V::Verified), false, MemberStanding::Confirmed),
            (Some(V::Mismatch), false, MemberStanding::Unconfirmed),
            (Some(V::NotFound), false, MemberStanding::Unconfirmed),
            (None, false, MemberStanding::Unconfirmed),
            (Some(V::Ineligible), false, MemberStanding::NotMemberInstitution),
            (Some(V::Mismatch), true, MemberStanding::Confirmed),
            (Some(V::Ineligible), true, MemberStanding::Confirmed),
            (None, true, MemberStanding::Confirmed),
        ];
        for (outcome, confirmed, expected) in cases {
            assert_eq!(
                MemberStanding::from_verification(outcome, confirmed),
                expected,
                "{outcome:?} {confirmed}"
            );
        }
    }

    #[test]
    fn payment_names_are_bilingual() {
        assert_eq!(PaymentKind::CyberAttack.name().ja, "サイバー攻撃一時支援金");
        assert_eq!(PaymentKind::PersonalDataLeak.name().en, "Personal-data-leak support payment");
        assert_eq!(
            PaymentKind::ALL.iter().map(|kind| kind.as_str()).collect::<Vec<_>>(),
            ["cyber_attack", "personal_data_leak"]
        );
    }
}

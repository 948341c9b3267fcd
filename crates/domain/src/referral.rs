//! Referrals: a forensic vendor, a law firm, or the police cyber desk of the institution's prefecture.
//! A referral is made only at the member's request, so each one records consent: who asked (the member
//! or their delegate), their name, and when. Each has its own small lifecycle.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::FieldError;
use crate::person::Name;
use crate::ticket::TicketStatus;
use crate::triage::Category;
use crate::verification::VerificationOutcome;

/// Who a referral goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReferralKind {
    /// フォレンジック事業者: evidence and root cause.
    Forensic,
    /// 弁護士: legal advice.
    Legal,
    /// 都道府県警察 サイバー犯罪相談窓口: investigation and technical advice.
    Police,
}

/// Where a referral stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReferralStatus {
    /// Sent to the partner, no answer yet.
    Requested,
    /// The partner took it on.
    Accepted,
    /// The partner's work is done.
    Completed,
    /// The partner said no.
    Declined,
    /// Withdrawn by the hotline or the member.
    Cancelled,
}

/// What can happen to a referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReferralAction {
    /// Partner accepts.
    Accept,
    /// Partner's work is done.
    Complete,
    /// Partner declines.
    Decline,
    /// Withdrawn.
    Cancel,
}

/// Who gave consent to share the institution's details.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConsentGiver {
    /// The A① member themself.
    Member,
    /// Someone the member authorised (e.g. the hospital's director on duty).
    Delegate,
}

wire_names!(ReferralKind, "kind" { Forensic => "forensic", Legal => "legal", Police => "police" });
wire_names!(ReferralStatus, "status" {
    Requested => "requested", Accepted => "accepted", Completed => "completed",
    Declined => "declined", Cancelled => "cancelled",
});
wire_names!(ReferralAction, "action" {
    Accept => "accept", Complete => "complete", Decline => "decline", Cancel => "cancel",
});
wire_names!(ConsentGiver, "consent.given_by" { Member => "member", Delegate => "delegate" });

impl ReferralStatus {
    /// Open referrals keep a ticket escalated and block its resolution.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Requested | Self::Accepted)
    }
}

/// The status an action leads to, or `None` when it does not apply.
pub fn referral_next(from: ReferralStatus, action: ReferralAction) -> Option<ReferralStatus> {
    use ReferralAction as A;
    use ReferralStatus as S;
    match (from, action) {
        (S::Requested, A::Accept) => Some(S::Accepted),
        (S::Requested, A::Decline) => Some(S::Declined),
        (S::Accepted, A::Complete) => Some(S::Completed),
        (S::Requested | S::Accepted, A::Cancel) => Some(S::Cancelled),
        _ => None,
    }
}

/// The actions possible from a status, for error messages and views.
pub fn referral_actions(from: ReferralStatus) -> Vec<ReferralAction> {
    ReferralAction::ALL.iter().copied().filter(|action| referral_next(from, *action).is_some()).collect()
}

/// When the police accept a consultation they give a receipt number (受理番号); the hotline records it
/// so the institution can quote it. Any other answer needs none.
pub fn check_receipt(
    kind: ReferralKind,
    action: ReferralAction,
    receipt: Option<&str>,
) -> Result<(), FieldError> {
    let missing = receipt.is_none_or(|text| text.trim().is_empty());
    if kind == ReferralKind::Police && action == ReferralAction::Accept && missing {
        Err(FieldError::new(
            "police_receipt_number",
            "a police acceptance records the receipt number (受理番号)",
        ))
    } else {
        Ok(())
    }
}

/// Recorded consent to a referral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// Member or delegate.
    pub given_by: ConsentGiver,
    /// Their name.
    pub name: Name,
    /// When they asked.
    pub given_at: DateTime<Utc>,
}

impl Consent {
    /// Checks consent: a name, and a time not in the future.
    pub fn parse(
        given_by: &str,
        name: &str,
        given_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Consent, Vec<FieldError>> {
        let mut errors = Vec::new();
        let given_by = ConsentGiver::parse(given_by).map_err(|e| errors.push(e)).ok();
        let name = Name::parse("consent.name", name).map_err(|e| errors.push(e)).ok();
        if given_at > now {
            errors.push(FieldError::new("consent.given_at", "consent cannot be given in the future"));
        }
        match (given_by, name) {
            (Some(given_by), Some(name)) if errors.is_empty() => Ok(Consent { given_by, name, given_at }),
            _ => Err(errors),
        }
    }
}

/// Why a referral may not be made on a ticket.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferralRefusal {
    /// Referrals follow triage, and end with resolution.
    #[error("a ticket that is {} cannot get a referral; triage it first, or reopen it", .0.as_str())]
    TicketStatus(TicketStatus),
    /// Only serious incidents go to the police.
    #[error("a police consultation is only for serious incidents; this ticket is {}", .0.as_str())]
    PoliceNeedsSeriousIncident(Category),
    /// Forensic and legal referrals are for incidents, not consultations.
    #[error("a {} referral is for incidents; this ticket is {}", .kind.as_str(), .category.as_str())]
    NotAnIncident {
        /// Requested kind.
        kind: ReferralKind,
        /// Ticket category.
        category: Category,
    },
    /// Any referral needs a caller whose institution is run by an eligible member on the call's date:
    /// registry-verified, or confirmed by a supervisor with a recorded reason.
    #[error(
        "the caller's eligibility is not established (first call: {}); a supervisor must confirm the caller, with the reason, before any referral",
        .0.map_or("no call", VerificationOutcome::as_str)
    )]
    CallerUnconfirmed(Option<VerificationOutcome>),
}

/// What would make a refused ticket eligible for referrals; stable wire names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Remedy {
    /// A supervisor confirms the caller with a reason (`POST /v1/tickets/{id}/confirm-caller`).
    SupervisorConfirmation,
}

impl ReferralRefusal {
    /// The remedies that would lift the refusal (empty when none is about the caller).
    pub fn remedies(&self) -> Vec<Remedy> {
        match self {
            Self::CallerUnconfirmed(_) => vec![Remedy::SupervisorConfirmation],
            _ => vec![],
        }
    }
}

/// Whether the caller of a ticket counts as eligible for referrals: the ticket's first call was
/// `verified` (the registry judged the member on the call's date), or a supervisor confirmed the
/// caller; a supervisor's confirmation is the latest human judgement and wins over the registry's.
pub fn caller_eligible(first_call: Option<VerificationOutcome>, caller_confirmed: bool) -> bool {
    caller_confirmed || first_call == Some(VerificationOutcome::Verified)
}

/// What is wrong with the partner chosen for a referral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartnerProblem {
    /// Forensic and legal referrals name their partner.
    Missing,
    /// No partner with that id.
    Unknown(Uuid),
    /// A partner of another kind.
    WrongKind {
        /// The partner's kind.
        partner: ReferralKind,
        /// The referral's kind.
        referral: ReferralKind,
    },
    /// Marked inactive.
    Inactive(String),
    /// Does not cover the institution's prefecture.
    NotCovering {
        /// Partner name.
        partner: String,
        /// Prefecture code.
        prefecture: String,
    },
    /// No address to alert; names the partner so an admin knows what to fill in.
    NoEmail {
        /// Partner id.
        id: Uuid,
        /// Partner name.
        name: String,
    },
    /// The prefecture has no police desk row.
    NoPoliceDesk(String),
}

impl std::fmt::Display for PartnerProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing => write!(f, "partner_id is required for forensic and legal referrals"),
            Self::Unknown(id) => write!(f, "no partner {id}"),
            Self::WrongKind { partner, referral } => {
                write!(f, "the partner is a {} partner, not {}", partner.as_str(), referral.as_str())
            }
            Self::Inactive(name) => write!(f, "{name} is inactive"),
            Self::NotCovering { partner, prefecture } => {
                write!(f, "{partner} does not cover prefecture {prefecture}")
            }
            Self::NoEmail { id, name } => {
                write!(
                    f,
                    "{name} has no email address: a supervisor or admin must add one first (PATCH /v1/partners/{id}, field emails)"
                )
            }
            Self::NoPoliceDesk(prefecture) => {
                write!(f, "no police desk is registered for prefecture {prefecture}")
            }
        }
    }
}

/// What the referral rules need to know about a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReferralContext {
    /// Status now.
    pub status: TicketStatus,
    /// Triage category, if triaged.
    pub category: Option<Category>,
    /// The first call's verification outcome.
    pub first_verification: Option<VerificationOutcome>,
    /// A supervisor confirmed the caller.
    pub caller_confirmed: bool,
}

/// Whether a referral of `kind` may be requested now.
pub fn may_refer(kind: ReferralKind, ticket: ReferralContext) -> Result<(), ReferralRefusal> {
    let category = match (ticket.status, ticket.category) {
        (TicketStatus::Triaged | TicketStatus::InProgress | TicketStatus::Escalated, Some(category)) => {
            category
        }
        (status, _) => return Err(ReferralRefusal::TicketStatus(status)),
    };
    match (kind, category) {
        (ReferralKind::Police, Category::SeriousIncident) => {}
        (ReferralKind::Police, other) => return Err(ReferralRefusal::PoliceNeedsSeriousIncident(other)),
        (_, Category::SeriousIncident | Category::EverydayTrouble) => {}
        (kind, category) => return Err(ReferralRefusal::NotAnIncident { kind, category }),
    }
    if !caller_eligible(ticket.first_verification, ticket.caller_confirmed) {
        return Err(ReferralRefusal::CallerUnconfirmed(ticket.first_verification));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    use ReferralAction as A;
    use ReferralStatus as S;

    /// Every allowed (status, action) pair of a referral and where it leads; the rest is refused.
    const EXPECTED: &[(ReferralStatus, ReferralAction, ReferralStatus)] = &[
        (S::Requested, A::Accept, S::Accepted),
        (S::Requested, A::Decline, S::Declined),
        (S::Requested, A::Cancel, S::Cancelled),
        (S::Accepted, A::Complete, S::Completed),
        (S::Accepted, A::Cancel, S::Cancelled),
    ];

    fn now() -> DateTime<Utc> {
        "2026-11-21T03:00:00Z".parse().expect("an RFC 3339 instant")
    }

    #[test]
    fn referral_next_agrees_with_the_expected_table_for_every_pair() {
        let mut checked = 0;
        for from in S::ALL.iter().copied() {
            for action in A::ALL.iter().copied() {
                let expected =
                    EXPECTED.iter().find(|(f, a, _)| *f == from && *a == action).map(|(_, _, to)| *to);
                assert_eq!(referral_next(from, action), expected, "{} {}", from.as_str(), action.as_str());
                checked += 1;
            }
        }
        assert_eq!(checked, 5 * 4);
    }

    #[test]
    fn referral_actions_list_exactly_the_applicable_actions() {
        assert_eq!(referral_actions(S::Requested), [A::Accept, A::Decline, A::Cancel]);
        assert_eq!(referral_actions(S::Accepted), [A::Complete, A::Cancel]);
        for from in [S::Completed, S::Declined, S::Cancelled] {
            assert!(referral_actions(from).is_empty(), "{} is final", from.as_str());
        }
    }

    #[test]
    fn only_requested_and_accepted_referrals_are_open() {
        for status in S::ALL.iter().copied() {
            let expected = matches!(status, S::Requested | S::Accepted);
            assert_eq!(status.is_open(), expected, "{}", status.as_str());
            // A referral is open exactly while something can still happen to it.
            assert_eq!(status.is_open(), !referral_actions(status).is_empty(), "{}", status.as_str());
        }
    }

    #[test]
    fn consent_is_recorded_with_giver_name_and_time() {
        let at = now() - Duration::minutes(3);
        let consent = Consent::parse("member", "  山田 太郎 ", at, now()).expect("valid");
        assert_eq!(consent.given_by, ConsentGiver::Member);
        assert_eq!(consent.name.as_str(), "山田 太郎");
        assert_eq!(consent.given_at, at);
        let consent = Consent::parse("delegate", "佐藤花子", now(), now()).expect("now is not the future");
        assert_eq!(consent.given_by, ConsentGiver::Delegate);
    }

    #[test]
    fn consent_in_the_future_is_refused() {
        let errors =
            Consent::parse("member", "山田 太郎", now() + Duration::seconds(1), now()).expect_err("future");
        assert_eq!(errors, [FieldError::new("consent.given_at", "consent cannot be given in the future")]);
    }

    #[test]
    fn consent_without_a_name_is_refused() {
        for name in ["", "   "] {
            let errors = Consent::parse("member", name, now(), now()).expect_err("no name");
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(errors[0].field, "consent.name");
        }
    }

    #[test]
    fn consent_from_an_unknown_giver_is_refused_listing_the_choices() {
        let errors = Consent::parse("nurse", "山田 太郎", now(), now()).expect_err("bad giver");
        assert_eq!(
            errors,
            [FieldError::new(
                "consent.given_by",
                "consent.given_by must be one of member, delegate, got \"nurse\""
            )]
        );
    }

    #[test]
    fn consent_errors_are_collected_together() {
        let errors = Consent::parse("", "", now() + Duration::days(1), now()).expect_err("all wrong");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["consent.given_by", "consent.name", "consent.given_at"]);
    }

    fn ticket(status: TicketStatus, category: Category) -> ReferralContext {
        ReferralContext {
            status,
            category: Some(category),
            first_verification: Some(VerificationOutcome::Verified),
            caller_confirmed: false,
        }
    }

    const OPEN_STATUSES: [TicketStatus; 3] =
        [TicketStatus::Triaged, TicketStatus::InProgress, TicketStatus::Escalated];

    #[test]
    fn police_only_for_serious_incidents() {
        for category in [Category::PreventiveConsultation, Category::EverydayTrouble, Category::OutOfScope] {
            assert_eq!(
                may_refer(ReferralKind::Police, ticket(TicketStatus::InProgress, category)),
                Err(ReferralRefusal::PoliceNeedsSeriousIncident(category)),
                "{}",
                category.as_str()
            );
        }
        for status in OPEN_STATUSES {
            assert_eq!(may_refer(ReferralKind::Police, ticket(status, Category::SeriousIncident)), Ok(()));
        }
    }

    const OUTCOMES: [Option<VerificationOutcome>; 5] = [
        Some(VerificationOutcome::Verified),
        Some(VerificationOutcome::Mismatch),
        Some(VerificationOutcome::NotFound),
        Some(VerificationOutcome::Ineligible),
        None,
    ];

    #[test]
    fn every_referral_of_every_incident_category_needs_an_eligible_caller() {
        for kind in ReferralKind::ALL.iter().copied() {
            for category in [Category::SeriousIncident, Category::EverydayTrouble] {
                if kind == ReferralKind::Police && category != Category::SeriousIncident {
                    continue;
                }
                for first_verification in OUTCOMES {
                    for confirmed in [false, true] {
                        let context = ReferralContext {
                            status: TicketStatus::Escalated,
                            category: Some(category),
                            first_verification,
                            caller_confirmed: confirmed,
                        };
                        let eligible = confirmed || first_verification == Some(VerificationOutcome::Verified);
                        let expected = if eligible {
                            Ok(())
                        } else {
                            Err(ReferralRefusal::CallerUnconfirmed(first_verification))
                        };
                        assert_eq!(
                            may_refer(kind, context),
                            expected,
                            "{} {} {first_verification:?} {confirmed}",
                            kind.as_str(),
                            category.as_str()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_caller_refusal_names_the_supervisor_confirmation_and_the_outcome() {
        let refusal = ReferralRefusal::CallerUnconfirmed(Some(VerificationOutcome::NotFound));
        assert_eq!(refusal.remedies(), vec![Remedy::SupervisorConfirmation]);
        assert!(refusal.to_string().contains("not_found"), "{refusal}");
        assert!(refusal.to_string().contains("supervisor"), "{refusal}");
        assert_eq!(ReferralRefusal::TicketStatus(TicketStatus::New).remedies(), vec![]);
    }

    #[test]
    fn a_supervisors_confirmation_wins_over_the_registrys_outcome() {
        for outcome in OUTCOMES {
            assert!(caller_eligible(outcome, true), "{outcome:?}");
            assert_eq!(caller_eligible(outcome, false), outcome == Some(VerificationOutcome::Verified));
        }
    }

    #[test]
    fn forensic_and_legal_are_for_incidents_not_consultations() {
        for kind in [ReferralKind::Forensic, ReferralKind::Legal] {
            for status in OPEN_STATUSES {
                for category in [Category::SeriousIncident, Category::EverydayTrouble] {
                    assert_eq!(may_refer(kind, ticket(status, category)), Ok(()), "{}", kind.as_str());
                }
                for category in [Category::PreventiveConsultation, Category::OutOfScope] {
                    assert_eq!(
                        may_refer(kind, ticket(status, category)),
                        Err(ReferralRefusal::NotAnIncident { kind, category }),
                        "{} {}",
                        kind.as_str(),
                        category.as_str()
                    );
                }
            }
        }
    }

    #[test]
    fn everyday_trouble_of_a_not_found_caller_gets_no_forensic_referral_until_confirmed() {
        let context = ReferralContext {
            status: TicketStatus::InProgress,
            category: Some(Category::EverydayTrouble),
            first_verification: Some(VerificationOutcome::NotFound),
            caller_confirmed: false,
        };
        assert_eq!(
            may_refer(ReferralKind::Forensic, context),
            Err(ReferralRefusal::CallerUnconfirmed(Some(VerificationOutcome::NotFound)))
        );
        let confirmed = ReferralContext { caller_confirmed: true, ..context };
        assert_eq!(may_refer(ReferralKind::Forensic, confirmed), Ok(()));
    }

    #[test]
    fn no_referral_on_tickets_that_are_not_being_worked() {
        for status in
            [TicketStatus::New, TicketStatus::Resolved, TicketStatus::Closed, TicketStatus::Declined]
        {
            for kind in ReferralKind::ALL.iter().copied() {
                for category in Category::ALL.iter().copied() {
                    assert_eq!(
                        may_refer(kind, ticket(status, category)),
                        Err(ReferralRefusal::TicketStatus(status)),
                        "{} {} {}",
                        status.as_str(),
                        kind.as_str(),
                        category.as_str()
                    );
                }
                let untriaged =
                    ReferralContext { category: None, ..ticket(status, Category::SeriousIncident) };
                assert_eq!(may_refer(kind, untriaged), Err(ReferralRefusal::TicketStatus(status)));
            }
        }
    }

    #[test]
    fn a_ticket_without_a_category_cannot_get_a_referral() {
        let context =
            ReferralContext { category: None, ..ticket(TicketStatus::Triaged, Category::SeriousIncident) };
        assert_eq!(
            may_refer(ReferralKind::Legal, context),
            Err(ReferralRefusal::TicketStatus(TicketStatus::Triaged))
        );
    }

    #[test]
    fn refusals_read_with_wire_names() {
        assert_eq!(
            ReferralRefusal::TicketStatus(TicketStatus::InProgress).to_string(),
            "a ticket that is in_progress cannot get a referral; triage it first, or reopen it"
        );
        assert_eq!(
            ReferralRefusal::PoliceNeedsSeriousIncident(Category::EverydayTrouble).to_string(),
            "a police consultation is only for serious incidents; this ticket is everyday_trouble"
        );
        assert_eq!(
            ReferralRefusal::NotAnIncident {
                kind: ReferralKind::Forensic,
                category: Category::PreventiveConsultation
            }
            .to_string(),
            "a forensic referral is for incidents; this ticket is preventive_consultation"
        );
    }
}

#[cfg(test)]
mod receipt_tests {
    use super::*;

    #[test]
    fn only_a_police_acceptance_needs_a_receipt_number() {
        assert!(check_receipt(ReferralKind::Police, ReferralAction::Accept, None).is_err());
        assert!(check_receipt(ReferralKind::Police, ReferralAction::Accept, Some("  ")).is_err());
        assert!(check_receipt(ReferralKind::Police, ReferralAction::Accept, Some("第2026-1号")).is_ok());
        assert!(check_receipt(ReferralKind::Police, ReferralAction::Decline, None).is_ok());
        assert!(check_receipt(ReferralKind::Forensic, ReferralAction::Accept, None).is_ok());
    }
}

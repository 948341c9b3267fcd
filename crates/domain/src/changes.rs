//! Every change to a ticket after intake, decided: each function takes what the change needs to know
//! about the ticket as it is now, and either refuses with the reason or returns the [`TicketEvent`]
//! that describes the change — the values before and after. Storage then writes exactly what the event
//! says, and appends it to the audit trail; it never decides anything itself.

use uuid::Uuid;

use crate::audit::{
    Assigned, CallbackPromised, CallerConfirmed, Change, ConsentGiven, Declined, NoteAdded, ReferralMoved,
    ReferralRequested, Reopened, Resolved, StatusChanged, TicketEvent, TriageSummary, Triaged,
};
use crate::callback::CallbackPlan;
use crate::referral::{
    Consent, PartnerProblem, ReferralAction, ReferralContext, ReferralKind, ReferralRefusal, ReferralStatus,
    may_refer, referral_actions, referral_next,
};
use crate::role::Role;
use crate::ticket::TicketStatus;
use crate::triage::Triage;
use crate::workflow::{TicketAction, TransitionError, transition};

/// What the rules need to know about a ticket as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketNow {
    /// Status.
    pub status: TicketStatus,
    /// The token working it.
    pub assignee: Option<Uuid>,
    /// A supervisor confirmed the caller.
    pub caller_confirmed: bool,
    /// Resolution summary or decline reason.
    pub resolution_summary: Option<String>,
}

/// Why a change was refused; nothing is written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The state machine refused.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// A supervisor-only change by a lower role.
    #[error("needs the {0} role")]
    Forbidden(Role),
    /// A closed or declined ticket takes no callbacks.
    #[error("ticket is {0:?}")]
    TicketNotOpen(TicketStatus),
    /// Resolution while referrals are open.
    #[error("referrals are still open")]
    OpenReferrals,
    /// Someone else works the ticket.
    #[error("ticket already assigned to {0}")]
    AlreadyAssigned(Uuid),
    /// Assigning to a token that does not exist or is revoked.
    #[error("no active token {0}")]
    UnknownAssignee(Uuid),
    /// The referral rules refused.
    #[error(transparent)]
    Referral(#[from] ReferralRefusal),
    /// The partner cannot take the referral.
    #[error("{0}")]
    Partner(PartnerProblem),
    /// The referral's own lifecycle refused.
    #[error("cannot {action:?} a {from:?} referral")]
    ReferralTransition {
        /// Current referral status.
        from: ReferralStatus,
        /// Refused action.
        action: ReferralAction,
        /// What is possible instead.
        allowed: Vec<ReferralAction>,
    },
}

/// A triage (or re-triage); an out-of-scope triage declines the ticket.
pub fn triage(
    ticket: &TicketNow,
    before: Option<&Triage>,
    decision: &Triage,
    role: Role,
) -> Result<TicketEvent, Refusal> {
    let action = if decision.declines() { TicketAction::Decline } else { TicketAction::Triage };
    let status = transition(ticket.status, action, role)?;
    let triaged = Triaged {
        status: Change::new(ticket.status, status),
        triage: Change::new(before.map(TriageSummary::from), Some(TriageSummary::from(decision))),
        suggested_priority: decision.suggested_priority,
        priority_reason: decision.priority_reason.clone(),
        decline_reason: decision.decline_reason.clone(),
    };
    Ok(if decision.declines() {
        TicketEvent::DeclinedByTriage(triaged)
    } else {
        TicketEvent::Triaged(triaged)
    })
}

/// A status change with no data of its own: start or close.
pub fn step(ticket: &TicketNow, action: TicketAction, role: Role) -> Result<TicketEvent, Refusal> {
    let status = Change::new(ticket.status, transition(ticket.status, action, role)?);
    Ok(match action {
        TicketAction::Close => TicketEvent::Closed(StatusChanged { status }),
        _ => TicketEvent::Started(StatusChanged { status }),
    })
}

/// The resolution; refused while any referral is open.
pub fn resolve(
    ticket: &TicketNow,
    role: Role,
    open_referrals: usize,
    summary: &str,
) -> Result<TicketEvent, Refusal> {
    let status = transition(ticket.status, TicketAction::Resolve, role)?;
    if open_referrals > 0 {
        return Err(Refusal::OpenReferrals);
    }
    Ok(TicketEvent::Resolved(Resolved {
        status: Change::new(ticket.status, status),
        resolution_summary: summary.to_owned(),
    }))
}

/// A decline (not eligible, or out of scope without a triage) with its reason, pointing the caller to
/// the free security portal anyone may use.
pub fn decline(
    ticket: &TicketNow,
    role: Role,
    reason: &str,
    security_portal_url: Option<&str>,
) -> Result<TicketEvent, Refusal> {
    let status = transition(ticket.status, TicketAction::Decline, role)?;
    Ok(TicketEvent::Declined(Declined {
        status: Change::new(ticket.status, status),
        decline_reason: reason.to_owned(),
        security_portal_url: security_portal_url.map(str::to_owned),
    }))
}

/// A supervisor reopens a resolved or closed ticket; the resolution summary is cleared.
pub fn reopen(ticket: &TicketNow, role: Role, reason: &str) -> Result<TicketEvent, Refusal> {
    let status = transition(ticket.status, TicketAction::Reopen, role)?;
    Ok(TicketEvent::Reopened(Reopened {
        status: Change::new(ticket.status, status),
        reason: reason.to_owned(),
        resolution_summary: Change::new(ticket.resolution_summary.clone(), None),
    }))
}

/// A supervisor assigns the ticket to an active token, or unassigns it.
pub fn assign(
    ticket: &TicketNow,
    role: Role,
    assignee: Option<Uuid>,
    assignee_is_active: bool,
) -> Result<TicketEvent, Refusal> {
    if !role.allows(Role::Supervisor) {
        return Err(Refusal::Forbidden(Role::Supervisor));
    }
    if let (Some(id), false) = (assignee, assignee_is_active) {
        return Err(Refusal::UnknownAssignee(id));
    }
    Ok(TicketEvent::Assigned(Assigned { assignee: Change::new(ticket.assignee, assignee) }))
}

/// An operator takes a ticket nobody else works.
pub fn take(ticket: &TicketNow, actor: Uuid) -> Result<TicketEvent, Refusal> {
    match ticket.assignee {
        Some(current) if current != actor => Err(Refusal::AlreadyAssigned(current)),
        _ => Ok(TicketEvent::Assigned(Assigned { assignee: Change::new(ticket.assignee, Some(actor)) })),
    }
}

/// A supervisor confirms an unverified caller, with the reason, which allows referrals of any kind.
pub fn confirm_caller(ticket: &TicketNow, role: Role, note: &str) -> Result<TicketEvent, Refusal> {
    if !role.allows(Role::Supervisor) {
        return Err(Refusal::Forbidden(Role::Supervisor));
    }
    Ok(TicketEvent::CallerConfirmed(CallerConfirmed {
        caller_confirmed: Change::new(ticket.caller_confirmed, true),
        note: note.to_owned(),
    }))
}

/// A note (any status: notes record what happened, also on closed tickets).
pub fn add_note(note_id: Uuid) -> TicketEvent {
    TicketEvent::NoteAdded(NoteAdded { note_id })
}

/// A promised callback; a closed or declined ticket takes none (reopen it, or open a new ticket).
pub fn promise_callback(
    ticket: &TicketNow,
    callback_id: Uuid,
    plan: &CallbackPlan,
) -> Result<TicketEvent, Refusal> {
    if !ticket.status.accepts_follow_up() {
        return Err(Refusal::TicketNotOpen(ticket.status));
    }
    Ok(TicketEvent::CallbackPromised(CallbackPromised {
        callback_id,
        promised_at: plan.promised_at,
        due_at: plan.due_at,
        moved: plan.moved,
    }))
}

/// What the partner rules need to know about the partner a referral would go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerFacts {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: ReferralKind,
    /// Active.
    pub active: bool,
    /// Has at least one e-mail address for the alerts.
    pub has_email: bool,
    /// Covers the ticket's prefecture.
    pub covers_prefecture: bool,
}

/// Whether `partner` can take a referral of `kind`: for forensic and legal referrals the one the
/// operator chose (`requested`), for the police the desk of the institution's prefecture.
pub fn check_partner(
    kind: ReferralKind,
    requested: Option<Uuid>,
    partner: Option<&PartnerFacts>,
    prefecture: &str,
) -> Result<(), PartnerProblem> {
    let partner = match (kind, requested, partner) {
        (ReferralKind::Police, _, None) => return Err(PartnerProblem::NoPoliceDesk(prefecture.to_owned())),
        (_, None, _) if kind != ReferralKind::Police => return Err(PartnerProblem::Missing),
        (_, Some(id), None) => return Err(PartnerProblem::Unknown(id)),
        (_, _, Some(partner)) => partner,
        (_, None, None) => return Err(PartnerProblem::Missing),
    };
    if kind != ReferralKind::Police {
        if partner.kind != kind {
            return Err(PartnerProblem::WrongKind { partner: partner.kind, referral: kind });
        }
        if !partner.covers_prefecture {
            return Err(PartnerProblem::NotCovering {
                partner: partner.name.clone(),
                prefecture: prefecture.to_owned(),
            });
        }
    }
    if !partner.active {
        return Err(PartnerProblem::Inactive(partner.name.clone()));
    }
    if !partner.has_email {
        return Err(PartnerProblem::NoEmail { id: partner.id, name: partner.name.clone() });
    }
    Ok(())
}

/// A referral requested with the member's consent: the rules for the ticket, the partner, and the
/// escalation of the ticket.
pub fn request_referral(
    ticket: &TicketNow,
    role: Role,
    context: ReferralContext,
    kind: ReferralKind,
    consent: &Consent,
    referral_id: Uuid,
    partner: Result<Uuid, PartnerProblem>,
) -> Result<TicketEvent, Refusal> {
    may_refer(kind, context)?;
    let status = transition(ticket.status, TicketAction::Escalate, role)?;
    let partner_id = partner.map_err(Refusal::Partner)?;
    Ok(TicketEvent::ReferralRequested(ReferralRequested {
        referral_id,
        kind,
        partner_id,
        status: Change::new(ticket.status, status),
        consent: ConsentGiven { given_by: consent.given_by, given_at: consent.given_at },
    }))
}

/// A referral moved along its own lifecycle (accept, complete, decline, cancel).
pub fn move_referral(
    referral_id: Uuid,
    from: ReferralStatus,
    action: ReferralAction,
    note: Option<String>,
    police_receipt_number: Option<String>,
) -> Result<TicketEvent, Refusal> {
    let Some(next) = referral_next(from, action) else {
        return Err(Refusal::ReferralTransition { from, action, allowed: referral_actions(from) });
    };
    Ok(TicketEvent::ReferralMoved(ReferralMoved {
        action,
        referral_id,
        status: Change::new(from, next),
        note,
        police_receipt_number,
    }))
}

/// Whether the change is the hotline acting on the ticket, so that it meets the first-response clock:
/// triage, work, a decline, a note, a callback — not an assignment, a confirmation or a referral step.
pub fn counts_as_first_response(event: &TicketEvent) -> bool {
    matches!(
        event,
        TicketEvent::Triaged(_)
            | TicketEvent::DeclinedByTriage(_)
            | TicketEvent::Started(_)
            | TicketEvent::Closed(_)
            | TicketEvent::Declined(_)
            | TicketEvent::NoteAdded(_)
            | TicketEvent::CallbackPromised(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now(status: TicketStatus) -> TicketNow {
        TicketNow { status, assignee: None, caller_confirmed: false, resolution_summary: None }
    }

    #[test]
    fn resolve_is_refused_while_referrals_are_open_and_describes_the_change_otherwise() {
        let ticket = now(TicketStatus::Escalated);
        assert_eq!(resolve(&ticket, Role::Operator, 1, "done"), Err(Refusal::OpenReferrals));
        let event = resolve(&ticket, Role::Operator, 0, "done").expect("resolved");
        assert_eq!(
            event,
            TicketEvent::Resolved(Resolved {
                status: Change::new(TicketStatus::Escalated, TicketStatus::Resolved),
                resolution_summary: "done".to_owned(),
            })
        );
    }

    #[test]
    fn take_is_refused_when_another_token_works_the_ticket() {
        let mine = Uuid::from_u128(1);
        let theirs = Uuid::from_u128(2);
        let ticket = TicketNow { assignee: Some(theirs), ..now(TicketStatus::Triaged) };
        assert_eq!(take(&ticket, mine), Err(Refusal::AlreadyAssigned(theirs)));
        assert!(take(&ticket, theirs).is_ok());
    }

    #[test]
    fn assignment_and_confirmation_need_a_supervisor_and_an_active_assignee() {
        let ticket = now(TicketStatus::Triaged);
        let someone = Some(Uuid::from_u128(3));
        assert_eq!(assign(&ticket, Role::Operator, someone, true), Err(Refusal::Forbidden(Role::Supervisor)));
        assert_eq!(
            assign(&ticket, Role::Supervisor, someone, false),
            Err(Refusal::UnknownAssignee(Uuid::from_u128(3)))
        );
        assert!(assign(&ticket, Role::Supervisor, None, false).is_ok());
        assert_eq!(confirm_caller(&ticket, Role::Operator, "x"), Err(Refusal::Forbidden(Role::Supervisor)));
    }

    fn partner(kind: ReferralKind) -> PartnerFacts {
        PartnerFacts {
            id: Uuid::from_u128(9),
            name: "東京フォレンジック".to_owned(),
            kind,
            active: true,
            has_email: true,
            covers_prefecture: true,
        }
    }

    #[test]
    fn a_partner_must_be_chosen_of_the_right_kind_covering_active_and_reachable() {
        let forensic = partner(ReferralKind::Forensic);
        assert_eq!(check_partner(ReferralKind::Forensic, None, None, "13"), Err(PartnerProblem::Missing));
        let id = Uuid::from_u128(5);
        assert_eq!(
            check_partner(ReferralKind::Legal, Some(id), None, "13"),
            Err(PartnerProblem::Unknown(id))
        );
        assert!(matches!(
            check_partner(ReferralKind::Legal, Some(forensic.id), Some(&forensic), "13"),
            Err(PartnerProblem::WrongKind { .. })
        ));
        let far = PartnerFacts { covers_prefecture: false, ..forensic.clone() };
        assert!(matches!(
            check_partner(ReferralKind::Forensic, Some(far.id), Some(&far), "47"),
            Err(PartnerProblem::NotCovering { .. })
        ));
        let mute = PartnerFacts { has_email: false, ..forensic.clone() };
        assert!(matches!(
            check_partner(ReferralKind::Forensic, Some(mute.id), Some(&mute), "13"),
            Err(PartnerProblem::NoEmail { .. })
        ));
        assert_eq!(
            check_partner(ReferralKind::Police, None, None, "13"),
            Err(PartnerProblem::NoPoliceDesk("13".to_owned()))
        );
        assert!(
            check_partner(ReferralKind::Police, None, Some(&partner(ReferralKind::Police)), "13").is_ok()
        );
        assert!(check_partner(ReferralKind::Forensic, Some(forensic.id), Some(&forensic), "13").is_ok());
    }

    #[test]
    fn a_referral_moves_only_along_its_lifecycle() {
        let id = Uuid::from_u128(4);
        assert!(matches!(
            move_referral(id, ReferralStatus::Requested, ReferralAction::Complete, None, None),
            Err(Refusal::ReferralTransition { from: ReferralStatus::Requested, .. })
        ));
        let event =
            move_referral(id, ReferralStatus::Requested, ReferralAction::Accept, None, Some("R".into()))
                .expect("accepted");
        assert_eq!(event.action(), crate::ticket::EventAction::ReferralAccepted);
    }
}

//! The ticket state machine, the single source of truth for which status may follow which, by whom.
//! Storage and API never compare statuses themselves: they ask [`transition`] and show
//! [`allowed_actions`]. The table is rendered into docs/ticket-lifecycle.md by [`markdown_table`], and
//! a test keeps the two identical.

use std::fmt;

use crate::role::Role;
use crate::ticket::TicketStatus;

/// Something that moves a ticket. Escalation and de-escalation are not requested directly: opening
/// the first referral escalates, and resolving needs every referral closed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TicketAction {
    /// Set or change category, incident kind, facts and priority.
    Triage,
    /// Start working a triaged ticket.
    Start,
    /// A referral was requested (done by the referral itself).
    Escalate,
    /// Record a resolution summary.
    Resolve,
    /// Finish a resolved ticket.
    Close,
    /// Decline as out of scope or not eligible, with a reason.
    Decline,
    /// Reopen a resolved or closed ticket, with a reason (supervisor).
    Reopen,
}

impl TicketAction {
    /// Every action, in documentation order.
    pub const ALL: [TicketAction; 7] =
        [Self::Triage, Self::Start, Self::Escalate, Self::Resolve, Self::Close, Self::Decline, Self::Reopen];

    /// Stable wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Triage => "triage",
            Self::Start => "start",
            Self::Escalate => "escalate",
            Self::Resolve => "resolve",
            Self::Close => "close",
            Self::Decline => "decline",
            Self::Reopen => "reopen",
        }
    }

    /// Least role that may take the action.
    pub fn required_role(self) -> Role {
        match self {
            Self::Reopen => Role::Supervisor,
            _ => Role::Operator,
        }
    }
}

impl fmt::Display for TicketAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status an action leads to from a status, or `None` when the action is not allowed there.
/// Triage keeps a ticket that is already past triage where it is (re-triage).
pub fn next_status(from: TicketStatus, action: TicketAction) -> Option<TicketStatus> {
    use TicketAction as A;
    use TicketStatus as S;
    match (from, action) {
        (S::New, A::Triage) => Some(S::Triaged),
        (S::Triaged | S::InProgress | S::Escalated, A::Triage) => Some(from),
        (S::Triaged, A::Start) => Some(S::InProgress),
        (S::Triaged | S::InProgress, A::Escalate) => Some(S::Escalated),
        (S::Escalated, A::Escalate) => Some(S::Escalated),
        (S::InProgress | S::Escalated, A::Resolve) => Some(S::Resolved),
        (S::Resolved, A::Close) => Some(S::Closed),
        (S::New | S::Triaged, A::Decline) => Some(S::Declined),
        (S::Resolved | S::Closed, A::Reopen) => Some(S::InProgress),
        _ => None,
    }
}

/// Why a transition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The action does not apply to this status.
    #[error("cannot {action} a ticket that is {}; allowed here: {}", .from.as_str(), describe(.allowed))]
    Invalid {
        /// Current status.
        from: TicketStatus,
        /// Refused action.
        action: TicketAction,
        /// What this role could do instead, with the resulting status.
        allowed: Vec<(TicketAction, TicketStatus)>,
    },
    /// The action applies, but the role is too low.
    #[error("{action} needs the {required} role")]
    Forbidden {
        /// Refused action.
        action: TicketAction,
        /// Role needed.
        required: Role,
    },
}

/// The allowed actions as a sentence fragment for error messages: `start → in_progress, …` or `nothing`.
fn describe(allowed: &[(TicketAction, TicketStatus)]) -> String {
    if allowed.is_empty() {
        return "nothing".to_owned();
    }
    allowed.iter().map(|(action, to)| format!("{action} → {}", to.as_str())).collect::<Vec<_>>().join(", ")
}

/// Applies an action for a role: the new status, or why not.
pub fn transition(
    from: TicketStatus,
    action: TicketAction,
    role: Role,
) -> Result<TicketStatus, TransitionError> {
    let Some(to) = next_status(from, action) else {
        return Err(TransitionError::Invalid { from, action, allowed: allowed_actions(from, role) });
    };
    if !role.allows(action.required_role()) {
        return Err(TransitionError::Forbidden { action, required: action.required_role() });
    }
    Ok(to)
}

/// What a role may do from a status, with the resulting status; shown on every ticket. Escalation is
/// left out: it happens by requesting a referral.
pub fn allowed_actions(from: TicketStatus, role: Role) -> Vec<(TicketAction, TicketStatus)> {
    TicketAction::ALL
        .into_iter()
        .filter(|action| *action != TicketAction::Escalate && role.allows(action.required_role()))
        .filter_map(|action| next_status(from, action).map(|to| (action, to)))
        .collect()
}

/// The transition table as Markdown (rows: statuses; columns: actions; cells: resulting status),
/// for docs/ticket-lifecycle.md.
pub fn markdown_table() -> String {
    let mut out = String::from("| from \\ action |");
    for action in TicketAction::ALL {
        out.push_str(&format!(" {} ({}) |", action.as_str(), action.required_role()));
    }
    out.push_str("\n|---|");
    for _ in TicketAction::ALL {
        out.push_str("---|");
    }
    out.push('\n');
    for from in TicketStatus::ALL {
        out.push_str(&format!("| {} |", from.as_str()));
        for action in TicketAction::ALL {
            match next_status(from, action) {
                Some(to) => out.push_str(&format!(" {} |", to.as_str())),
                None => out.push_str(" — |"),
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use TicketAction as A;
    use TicketStatus as S;

    const ROLES: [Role; 3] = [Role::Operator, Role::Supervisor, Role::Admin];

    /// The lifecycle written out by hand from the issue, independent of `next_status`: every allowed
    /// (from, action) pair and where it leads. Everything not listed is invalid.
    const EXPECTED: &[(TicketStatus, TicketAction, TicketStatus)] = &[
        (S::New, A::Triage, S::Triaged),
        (S::Triaged, A::Triage, S::Triaged),
        (S::InProgress, A::Triage, S::InProgress),
        (S::Escalated, A::Triage, S::Escalated),
        (S::Triaged, A::Start, S::InProgress),
        (S::Triaged, A::Escalate, S::Escalated),
        (S::InProgress, A::Escalate, S::Escalated),
        (S::Escalated, A::Escalate, S::Escalated),
        (S::InProgress, A::Resolve, S::Resolved),
        (S::Escalated, A::Resolve, S::Resolved),
        (S::Resolved, A::Close, S::Closed),
        (S::New, A::Decline, S::Declined),
        (S::Triaged, A::Decline, S::Declined),
        (S::Resolved, A::Reopen, S::InProgress),
        (S::Closed, A::Reopen, S::InProgress),
    ];

    /// Actions an operator may not take; a supervisor and an admin may take every action.
    const SUPERVISOR_ONLY: &[TicketAction] = &[A::Reopen];

    fn expected_next(from: TicketStatus, action: TicketAction) -> Option<TicketStatus> {
        EXPECTED.iter().find(|(f, a, _)| *f == from && *a == action).map(|(_, _, to)| *to)
    }

    fn expected_permitted(action: TicketAction, role: Role) -> bool {
        role != Role::Operator || !SUPERVISOR_ONLY.contains(&action)
    }

    #[test]
    fn every_status_action_and_role_agrees_with_the_expected_table() {
        let mut checked = 0;
        for from in S::ALL {
            for action in A::ALL {
                assert_eq!(next_status(from, action), expected_next(from, action), "{from:?} {action}");
                for role in ROLES {
                    let result = transition(from, action, role);
                    match (expected_next(from, action), expected_permitted(action, role)) {
                        (Some(to), true) => assert_eq!(result, Ok(to), "{from:?} {action} {role}"),
                        (Some(_), false) => assert_eq!(
                            result,
                            Err(TransitionError::Forbidden { action, required: Role::Supervisor }),
                            "{from:?} {action} {role}"
                        ),
                        (None, _) => assert_eq!(
                            result,
                            Err(TransitionError::Invalid {
                                from,
                                action,
                                allowed: allowed_actions(from, role)
                            }),
                            "{from:?} {action} {role}"
                        ),
                    }
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 7 * 7 * 3);
    }

    #[test]
    fn the_expected_table_has_no_duplicate_pairs() {
        for (i, (from, action, _)) in EXPECTED.iter().enumerate() {
            assert!(
                !EXPECTED[i + 1..].iter().any(|(f, a, _)| f == from && a == action),
                "{from:?} {action} listed twice"
            );
        }
    }

    #[test]
    fn required_role_is_supervisor_for_reopen_only() {
        for action in A::ALL {
            let expected = if SUPERVISOR_ONLY.contains(&action) { Role::Supervisor } else { Role::Operator };
            assert_eq!(action.required_role(), expected, "{action}");
        }
    }

    #[test]
    fn allowed_actions_never_list_escalate_and_only_what_transition_accepts() {
        for from in S::ALL {
            for role in ROLES {
                let allowed = allowed_actions(from, role);
                assert!(allowed.iter().all(|(action, _)| *action != A::Escalate), "{from:?} {role}");
                for (action, to) in &allowed {
                    assert_eq!(transition(from, *action, role), Ok(*to), "{from:?} {action} {role}");
                }
                // And nothing accepted is missing (escalation aside), in documentation order.
                let accepted: Vec<(TicketAction, TicketStatus)> = A::ALL
                    .into_iter()
                    .filter(|action| *action != A::Escalate)
                    .filter_map(|action| transition(from, action, role).ok().map(|to| (action, to)))
                    .collect();
                assert_eq!(allowed, accepted, "{from:?} {role}");
            }
        }
    }

    #[test]
    fn allowed_actions_for_an_operator_on_each_status() {
        let names = |from| -> Vec<&str> {
            allowed_actions(from, Role::Operator).into_iter().map(|(a, _)| a.as_str()).collect()
        };
        assert_eq!(names(S::New), ["triage", "decline"]);
        assert_eq!(names(S::Triaged), ["triage", "start", "decline"]);
        assert_eq!(names(S::InProgress), ["triage", "resolve"]);
        assert_eq!(names(S::Escalated), ["triage", "resolve"]);
        assert_eq!(names(S::Resolved), ["close"]);
        assert!(names(S::Closed).is_empty());
        assert!(names(S::Declined).is_empty());
        assert_eq!(allowed_actions(S::Closed, Role::Supervisor), [(A::Reopen, S::InProgress)]);
        assert_eq!(
            allowed_actions(S::Resolved, Role::Admin),
            [(A::Close, S::Closed), (A::Reopen, S::InProgress)]
        );
    }

    #[test]
    fn reopen_by_an_operator_is_forbidden_by_a_supervisor_or_admin_gives_in_progress() {
        for from in [S::Resolved, S::Closed] {
            assert_eq!(
                transition(from, A::Reopen, Role::Operator),
                Err(TransitionError::Forbidden { action: A::Reopen, required: Role::Supervisor })
            );
            assert_eq!(transition(from, A::Reopen, Role::Supervisor), Ok(S::InProgress));
            assert_eq!(transition(from, A::Reopen, Role::Admin), Ok(S::InProgress));
        }
        // Reopening an open ticket is not a permission question: it is invalid for everyone.
        for role in ROLES {
            assert!(matches!(
                transition(S::InProgress, A::Reopen, role),
                Err(TransitionError::Invalid { .. })
            ));
        }
    }

    #[test]
    fn declined_is_terminal_and_closed_only_reopens() {
        for action in A::ALL {
            for role in ROLES {
                assert!(
                    matches!(transition(S::Declined, action, role), Err(TransitionError::Invalid { .. })),
                    "declined {action} {role}"
                );
                let from_closed = transition(S::Closed, action, role);
                if action == A::Reopen && role != Role::Operator {
                    assert_eq!(from_closed, Ok(S::InProgress));
                } else {
                    assert!(from_closed.is_err(), "closed {action} {role}");
                }
            }
            assert!(allowed_actions(S::Declined, Role::Admin).is_empty());
        }
    }

    #[test]
    fn invalid_transition_lists_what_the_role_may_do_instead() {
        let error = transition(S::New, A::Resolve, Role::Operator).expect_err("new cannot be resolved");
        assert_eq!(
            error,
            TransitionError::Invalid {
                from: S::New,
                action: A::Resolve,
                allowed: vec![(A::Triage, S::Triaged), (A::Decline, S::Declined)],
            }
        );
        assert_eq!(
            error.to_string(),
            "cannot resolve a ticket that is new; allowed here: triage → triaged, decline → declined"
        );
        let error = transition(S::Declined, A::Reopen, Role::Admin).expect_err("declined is final");
        assert_eq!(error.to_string(), "cannot reopen a ticket that is declined; allowed here: nothing");
        let error = transition(S::Closed, A::Reopen, Role::Operator).expect_err("needs a supervisor");
        assert_eq!(error.to_string(), "reopen needs the supervisor role");
    }

    #[test]
    fn actions_have_stable_names_and_display() {
        let names: Vec<&str> = A::ALL.into_iter().map(TicketAction::as_str).collect();
        assert_eq!(names, ["triage", "start", "escalate", "resolve", "close", "decline", "reopen"]);
        for action in A::ALL {
            assert_eq!(action.to_string(), action.as_str());
        }
    }

    #[test]
    fn markdown_table_has_a_row_per_status_and_a_column_per_action() {
        let table = markdown_table();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 2 + S::ALL.len());
        assert!(lines[0].contains("reopen (supervisor)"), "{}", lines[0]);
        assert!(lines[0].contains("triage (operator)"), "{}", lines[0]);
        for line in &lines {
            assert_eq!(line.matches('|').count(), A::ALL.len() + 2, "{line}");
        }
        assert_eq!(lines[2], "| new | triaged | — | — | — | — | declined | — |");
        assert_eq!(lines[7], "| closed | — | — | — | — | — | — | in_progress |");
        assert!(table.ends_with('\n'));
    }

    const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/ticket-lifecycle.md");
    const START: &str = "<!-- table:start -->";
    const END: &str = "<!-- table:end -->";

    /// docs/ticket-lifecycle.md shows the table `markdown_table` renders; `UPDATE_DOCS=1` rewrites it.
    #[test]
    fn the_lifecycle_document_contains_the_current_table() {
        let doc = std::fs::read_to_string(DOC).unwrap_or_else(|e| panic!("cannot read {DOC}: {e}"));
        let start = doc.find(START).unwrap_or_else(|| panic!("{DOC} lacks the marker {START}"));
        let end = doc.find(END).unwrap_or_else(|| panic!("{DOC} lacks the marker {END}"));
        assert!(start < end, "{DOC}: {START} must come before {END}");
        let current = &doc[start + START.len()..end];
        let wanted = format!("\n{}", markdown_table());
        if current == wanted {
            return;
        }
        if std::env::var("UPDATE_DOCS").is_ok_and(|value| value == "1") {
            let updated = format!("{}{wanted}{}", &doc[..start + START.len()], &doc[end..]);
            std::fs::write(DOC, updated).unwrap_or_else(|e| panic!("cannot write {DOC}: {e}"));
            return;
        }
        panic!(
            "docs/ticket-lifecycle.md is out of date with workflow::markdown_table(). Regenerate it with\n\
             \n    UPDATE_DOCS=1 cargo test -p hotline-domain workflow\n\n\
             and review the diff. Between the markers it has:\n{current}\nbut the table is:\n{wanted}"
        );
    }
}

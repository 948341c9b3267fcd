//! Pure hotline rules: the values the service accepts, the service window, caller verification and
//! ticket references. No I/O and no clock: every function that depends on time takes it as a parameter,
//! so the rules can be tested exhaustively and reused by storage, API and CLI alike.

/// Gives a fieldless enum its stable wire names: `ALL`, `as_str` and `parse` (whose error names the
/// field and lists the accepted names). Defined before the modules so they can all use it.
macro_rules! wire_names {
    ($ty:ty, $field:literal { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value, in documentation order.
            pub const ALL: &'static [$ty] = &[$(<$ty>::$variant),+];

            /// Stable storage and wire name.
            pub fn as_str(self) -> &'static str {
                match self { $(<$ty>::$variant => $name),+ }
            }

            /// Reads a stored or given name.
            pub fn parse(input: &str) -> Result<Self, $crate::FieldError> {
                Self::ALL.iter().copied().find(|value| value.as_str() == input).ok_or_else(|| {
                    let names: Vec<&str> = Self::ALL.iter().map(|value| value.as_str()).collect();
                    $crate::FieldError::new(
                        $field,
                        format!("{} must be one of {}, got {input:?}", $field, names.join(", ")),
                    )
                })
            }
        }
    };
}

pub mod audit;
pub mod call;
pub mod callback;
pub mod changes;
pub mod characters;
pub mod clocks;
pub mod error;
pub mod holidays;
pub mod identifiers;
pub mod incident_facts;
pub mod institution;
pub mod office_hours;
pub mod outbox;
pub mod person;
pub mod prefecture;
pub mod privacy;
pub mod referral;
pub mod registry;
pub mod regulatory;
pub mod role;
pub mod schedule;
pub mod search;
pub mod sla;
pub mod support_payment;
pub mod text;
pub mod ticket;
pub mod ticket_list;
pub mod triage;
pub mod verification;
pub mod webhook;
pub mod workflow;

pub use error::{FieldError, ValidationErrors};

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde::de::IntoDeserializer;
    use serde::de::value::Error as DeError;

    use crate::incident_facts::{Cause, PersonalDataLeak};
    use crate::outbox::Channel;
    use crate::referral::{ConsentGiver, ReferralAction, ReferralKind, ReferralStatus};
    use crate::regulatory::{ClockStart, DeadlineKind, DeadlineStatus};
    use crate::support_payment::rules::{Exclusion, Requirement};
    use crate::support_payment::{ClaimAction, ClaimStatus, PaymentKind};
    use crate::triage::{Category, IncidentKind, Priority};

    /// For one enum using `wire_names!`: names are unique and non-empty, `parse(as_str(v)) == v` for
    /// every value, serde reads the same names, and an unknown name is refused naming the field and
    /// listing every accepted name in order.
    macro_rules! check_wire_names {
        ($ty:ty, $field:literal, [$($name:literal),+ $(,)?]) => {{
            let expected: &[&str] = &[$($name),+];
            let names: Vec<&str> = <$ty>::ALL.iter().map(|value| value.as_str()).collect();
            assert_eq!(names, expected, stringify!($ty));
            for value in <$ty>::ALL.iter().copied() {
                assert_eq!(<$ty>::parse(value.as_str()), Ok(value), "{}", value.as_str());
                let from_serde = <$ty>::deserialize(value.as_str().into_deserializer())
                    .map_err(|e: DeError| e.to_string());
                assert_eq!(from_serde, Ok(value), "serde name of {}", value.as_str());
            }
            for (i, name) in names.iter().enumerate() {
                assert!(!name.is_empty() && !names[i + 1..].contains(name), "{name} is not unique");
            }
            for unknown in ["", "unknown", &names[0].to_uppercase(), &format!(" {}", names[0])] {
                if names.contains(&unknown) {
                    continue;
                }
                let error = <$ty>::parse(unknown).expect_err(unknown);
                assert_eq!(error.field, $field);
                assert_eq!(
                    error.detail,
                    format!("{} must be one of {}, got {unknown:?}", $field, expected.join(", "))
                );
            }
        }};
    }

    #[test]
    fn every_wire_named_enum_round_trips_and_lists_its_names() {
        check_wire_names!(
            Category,
            "category",
            ["everyday_trouble", "serious_incident", "preventive_consultation", "out_of_scope"]
        );
        check_wire_names!(
            IncidentKind,
            "incident_kind",
            [
                "ransomware",
                "malware",
                "unauthorized_access",
                "data_leak",
                "website_defacement",
                "network_trouble",
                "other",
                "none",
            ]
        );
        check_wire_names!(Priority, "priority", ["P1", "P2", "P3", "P4"]);
        check_wire_names!(ReferralKind, "kind", ["forensic", "legal", "police"]);
        check_wire_names!(
            ReferralStatus,
            "status",
            ["requested", "accepted", "completed", "declined", "cancelled"]
        );
        check_wire_names!(ReferralAction, "action", ["accept", "complete", "decline", "cancel"]);
        check_wire_names!(ConsentGiver, "consent.given_by", ["member", "delegate"]);
        check_wire_names!(Channel, "channel", ["email", "webhook"]);
        check_wire_names!(Cause, "cause", ["cyber_attack", "leak_not_attack", "other"]);
        check_wire_names!(PersonalDataLeak, "personal_data_leak", ["no", "possible", "confirmed"]);
        check_wire_names!(PaymentKind, "payment", ["cyber_attack", "personal_data_leak"]);
        check_wire_names!(
            ClaimStatus,
            "status",
            ["not_applicable", "pending_requirements", "ready_to_claim", "claimed", "paid", "rejected"]
        );
        check_wire_names!(ClaimAction, "action", ["claim", "pay", "reject"]);
        check_wire_names!(
            Requirement,
            "requirements",
            [
                "mhlw_notified",
                "ppc_preliminary_report",
                "ppc_recurrence_prevention_report",
                "victims_notified"
            ]
        );
        check_wire_names!(Exclusion, "exclusions", ["insider", "not_member_institution"]);
        check_wire_names!(
            DeadlineKind,
            "kind",
            ["ppc_preliminary_report", "ppc_final_report", "mhlw_report"]
        );
        check_wire_names!(DeadlineStatus, "status", ["due", "done", "overdue"]);
        check_wire_names!(ClockStart, "clock_start", ["aware_at", "first_call"]);
    }

    #[test]
    fn an_unknown_name_reads_as_a_sentence() {
        let error = Priority::parse("urgent").expect_err("unknown");
        assert_eq!(error.to_string(), "priority: priority must be one of P1, P2, P3, P4, got \"urgent\"");
    }
}

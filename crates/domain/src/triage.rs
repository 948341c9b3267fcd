//! Triage: what kind of case a ticket is, the facts that matter for urgency, and the priority the
//! hotline suggests from them. The operator may override the suggestion, but must say why.

use chrono::{DateTime, Utc};

use crate::text::required_notes;
use crate::{FieldError, ValidationErrors};

/// The four kinds of case the hotline handles (see domain.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// 1次対応: network trouble, a virus: first advice, removal, remote check.
    EverydayTrouble,
    /// 2次対応: intrusion, leak, ransomware, Emotet, defacement, EMR down: specialist advice, referrals.
    SeriousIncident,
    /// No incident: "how do we start on security?".
    PreventiveConsultation,
    /// General PC operation and the like: declined, and the decline recorded.
    OutOfScope,
}

/// What kind of incident, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    /// Encryption and ransom demand.
    Ransomware,
    /// Malware, Emotet included.
    Malware,
    /// Intrusion into systems or accounts.
    UnauthorizedAccess,
    /// Data leaked or exposed.
    DataLeak,
    /// Website altered.
    WebsiteDefacement,
    /// Connectivity problems.
    NetworkTrouble,
    /// Anything else.
    Other,
    /// No incident.
    None,
}

/// Urgency, P1 highest. SLA targets are configured per priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Priority {
    /// Care is affected now.
    P1,
    /// Serious incident without care stopped, or a possible leak.
    P2,
    /// Everyday trouble.
    P3,
    /// No incident.
    P4,
}

wire_names!(Category, "category" {
    EverydayTrouble => "everyday_trouble",
    SeriousIncident => "serious_incident",
    PreventiveConsultation => "preventive_consultation",
    OutOfScope => "out_of_scope",
});
wire_names!(IncidentKind, "incident_kind" {
    Ransomware => "ransomware",
    Malware => "malware",
    UnauthorizedAccess => "unauthorized_access",
    DataLeak => "data_leak",
    WebsiteDefacement => "website_defacement",
    NetworkTrouble => "network_trouble",
    Other => "other",
    None => "none",
});
wire_names!(Priority, "priority" { P1 => "P1", P2 => "P2", P3 => "P3", P4 => "P4" });

/// The facts gathered on the phone that decide urgency and, later, payments and deadlines.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct IncidentFacts {
    /// When the institution noticed (starts regulatory clocks).
    pub detected_at: Option<DateTime<Utc>>,
    /// When it happened, if known.
    pub occurred_at: Option<DateTime<Utc>>,
    /// Systems affected, as named by the caller (EMR, billing, website…).
    pub systems_affected: Vec<String>,
    /// The electronic medical record cannot be used.
    pub emr_unusable: bool,
    /// Care suspended, including refusing new patients.
    pub care_suspended: bool,
    /// Personal data may have leaked (medical data is special-care personal information).
    pub personal_data_leaked: bool,
    /// Estimated number of people affected.
    pub people_affected: Option<u64>,
    /// An insider is suspected (excludes support payments).
    pub insider_suspected: bool,
}

/// The priority the hotline suggests: care affected is P1; any other serious incident, or a possible
/// leak of personal data, P2; everyday trouble P3; consultations and out-of-scope calls P4.
pub fn suggest_priority(category: Category, facts: &IncidentFacts) -> Priority {
    if facts.care_suspended || facts.emr_unusable {
        return Priority::P1;
    }
    match category {
        Category::SeriousIncident => Priority::P2,
        _ if facts.personal_data_leaked => Priority::P2,
        Category::EverydayTrouble => Priority::P3,
        Category::PreventiveConsultation | Category::OutOfScope => Priority::P4,
    }
}

/// A triage as the operator submits it.
#[derive(Debug, Clone, Default)]
pub struct TriageForm<'a> {
    /// Category name.
    pub category: &'a str,
    /// Incident kind name.
    pub incident_kind: &'a str,
    /// Facts.
    pub facts: IncidentFacts,
    /// An explicit priority, overriding the suggestion.
    pub priority: Option<&'a str>,
    /// Why the priority differs from the suggestion; required then.
    pub priority_reason: Option<&'a str>,
    /// Why the ticket is declined; required for out_of_scope.
    pub decline_reason: Option<&'a str>,
}

/// A checked triage decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Triage {
    /// Category.
    pub category: Category,
    /// Incident kind.
    pub incident_kind: IncidentKind,
    /// Facts.
    pub facts: IncidentFacts,
    /// What the rules suggest.
    pub suggested_priority: Priority,
    /// What applies (the suggestion unless overridden).
    pub priority: Priority,
    /// Reason for an override.
    pub priority_reason: Option<String>,
    /// Reason for declining (out of scope).
    pub decline_reason: Option<String>,
}

impl Triage {
    /// Checks a triage: a serious incident names its kind; times are not in the future and detection
    /// does not precede occurrence; an override and an out-of-scope decline carry their reasons.
    pub fn parse(form: &TriageForm<'_>, now: DateTime<Utc>) -> Result<Triage, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let category = errors.check(Category::parse(form.category));
        let incident_kind = errors.check(IncidentKind::parse(form.incident_kind));
        if category == Some(Category::SeriousIncident) && incident_kind == Some(IncidentKind::None) {
            errors.push(FieldError::new(
                "incident_kind",
                "a serious incident needs an incident kind other than none",
            ));
        }
        let facts = &form.facts;
        for (field, value) in
            [("facts.detected_at", facts.detected_at), ("facts.occurred_at", facts.occurred_at)]
        {
            if value.is_some_and(|at| at > now) {
                errors.push(FieldError::new(field, format!("{field} lies in the future")));
            }
        }
        if facts.detected_at.zip(facts.occurred_at).is_some_and(|(detected, occurred)| detected < occurred) {
            errors.push(FieldError::new("facts.detected_at", "detected_at cannot precede occurred_at"));
        }
        if facts.systems_affected.len() > 50
            || facts.systems_affected.iter().any(|s| s.trim().is_empty() || s.chars().count() > 100)
        {
            errors.push(FieldError::new(
                "facts.systems_affected",
                "list at most 50 systems, each 1–100 characters",
            ));
        }
        let explicit = match form.priority {
            Some(priority) => errors.check(Priority::parse(priority)).map(Some),
            None => Some(None),
        };
        let priority_reason = reason(&mut errors, "priority_reason", form.priority_reason);
        let decline_reason = reason(&mut errors, "decline_reason", form.decline_reason);
        let (Some(category), Some(incident_kind), Some(explicit)) = (category, incident_kind, explicit)
        else {
            return Err(errors);
        };
        let suggested_priority = suggest_priority(category, facts);
        let priority = explicit.unwrap_or(suggested_priority);
        if priority != suggested_priority && form.priority_reason.is_none() {
            errors.push(FieldError::new(
                "priority_reason",
                format!(
                    "overriding the suggested {} with {} needs a priority_reason",
                    suggested_priority.as_str(),
                    priority.as_str()
                ),
            ));
        }
        if category == Category::OutOfScope && form.decline_reason.is_none() {
            errors.push(FieldError::new(
                "decline_reason",
                "an out-of-scope ticket is declined: say why in decline_reason",
            ));
        }
        errors.into_result()?;
        Ok(Triage {
            category,
            incident_kind,
            facts: facts.clone(),
            suggested_priority,
            priority,
            priority_reason: if priority != suggested_priority { priority_reason } else { None },
            decline_reason: if category == Category::OutOfScope { decline_reason } else { None },
        })
    }

    /// Whether this triage declines the ticket.
    pub fn declines(&self) -> bool {
        self.category == Category::OutOfScope
    }
}

/// An optional free-text reason: absent, or 1–1000 characters.
fn reason(errors: &mut ValidationErrors, field: &str, input: Option<&str>) -> Option<String> {
    input.and_then(|text| errors.check(required_notes(field, text, 1000)))
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-11-21T03:00:00Z".parse().expect("an RFC 3339 instant")
    }

    fn form<'a>(category: &'a str, incident_kind: &'a str) -> TriageForm<'a> {
        TriageForm { category, incident_kind, ..TriageForm::default() }
    }

    fn fields(errors: &ValidationErrors) -> Vec<&str> {
        errors.0.iter().map(|e| e.field.as_str()).collect()
    }

    /// The rule table from the issue and domain.md, written out: (category, care_suspended,
    /// emr_unusable, personal_data_leaked) → priority. Care affected is P1 whatever the category; a
    /// serious incident otherwise P2, and so is a possible leak; everyday trouble P3; the rest P4.
    #[rustfmt::skip]
    const RULES: &[(Category, bool, bool, bool, Priority)] = {
        use Category::*;
        use Priority::*;
        &[
            (EverydayTrouble, false, false, false, P3),
            (EverydayTrouble, false, false, true, P2),
            (EverydayTrouble, false, true, false, P1),
            (EverydayTrouble, false, true, true, P1),
            (EverydayTrouble, true, false, false, P1),
            (EverydayTrouble, true, false, true, P1),
            (EverydayTrouble, true, true, false, P1),
            (EverydayTrouble, true, true, true, P1),
            (SeriousIncident, false, false, false, P2),
            (SeriousIncident, false, false, true, P2),
            (SeriousIncident, false, true, false, P1),
            (SeriousIncident, false, true, true, P1),
            (SeriousIncident, true, false, false, P1),
            (SeriousIncident, true, false, true, P1),
            (SeriousIncident, true, true, false, P1),
            (SeriousIncident, true, true, true, P1),
            (PreventiveConsultation, false, false, false, P4),
            (PreventiveConsultation, false, false, true, P2),
            (PreventiveConsultation, false, true, false, P1),
            (PreventiveConsultation, false, true, true, P1),
            (PreventiveConsultation, true, false, false, P1),
            (PreventiveConsultation, true, false, true, P1),
            (PreventiveConsultation, true, true, false, P1),
            (PreventiveConsultation, true, true, true, P1),
            (OutOfScope, false, false, false, P4),
            (OutOfScope, false, false, true, P2),
            (OutOfScope, false, true, false, P1),
            (OutOfScope, false, true, true, P1),
            (OutOfScope, true, false, false, P1),
            (OutOfScope, true, false, true, P1),
            (OutOfScope, true, true, false, P1),
            (OutOfScope, true, true, true, P1),
        ]
    };

    #[test]
    fn suggested_priority_follows_the_rule_table_for_every_combination() {
        let mut checked = 0;
        for category in Category::ALL.iter().copied() {
            for care_suspended in [false, true] {
                for emr_unusable in [false, true] {
                    for personal_data_leaked in [false, true] {
                        let expected = RULES
                            .iter()
                            .find(|r| {
                                (r.0, r.1, r.2, r.3)
                                    == (category, care_suspended, emr_unusable, personal_data_leaked)
                            })
                            .map(|r| r.4)
                            .expect("the table covers every combination");
                        let facts = IncidentFacts {
                            care_suspended,
                            emr_unusable,
                            personal_data_leaked,
                            ..IncidentFacts::default()
                        };
                        assert_eq!(
                            suggest_priority(category, &facts),
                            expected,
                            "{} care={care_suspended} emr={emr_unusable} leak={personal_data_leaked}",
                            category.as_str()
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, RULES.len());
    }

    #[test]
    fn other_facts_do_not_change_the_suggestion() {
        let facts = IncidentFacts {
            detected_at: Some(now()),
            occurred_at: Some(now()),
            systems_affected: vec!["電子カルテ".to_owned()],
            people_affected: Some(10_000),
            insider_suspected: true,
            ..IncidentFacts::default()
        };
        assert_eq!(suggest_priority(Category::EverydayTrouble, &facts), Priority::P3);
        assert_eq!(suggest_priority(Category::SeriousIncident, &facts), Priority::P2);
    }

    #[test]
    fn a_plain_serious_incident_is_accepted_with_the_suggested_priority() {
        let mut input = form("serious_incident", "ransomware");
        input.facts.emr_unusable = true;
        input.facts.detected_at = Some(now() - Duration::hours(2));
        input.facts.occurred_at = Some(now() - Duration::hours(5));
        input.facts.systems_affected = vec!["電子カルテ".to_owned(), "レセコン".to_owned()];
        let triage = Triage::parse(&input, now()).expect("valid");
        assert_eq!(triage.category, Category::SeriousIncident);
        assert_eq!(triage.incident_kind, IncidentKind::Ransomware);
        assert_eq!(triage.suggested_priority, Priority::P1);
        assert_eq!(triage.priority, Priority::P1);
        assert_eq!(triage.priority_reason, None);
        assert_eq!(triage.decline_reason, None);
        assert_eq!(triage.facts, input.facts);
        assert!(!triage.declines());
    }

    #[test]
    fn a_serious_incident_without_an_incident_kind_is_refused() {
        let errors = Triage::parse(&form("serious_incident", "none"), now()).expect_err("needs a kind");
        assert_eq!(fields(&errors), ["incident_kind"]);
        for kind in IncidentKind::ALL.iter().filter(|kind| **kind != IncidentKind::None) {
            assert!(Triage::parse(&form("serious_incident", kind.as_str()), now()).is_ok(), "{kind:?}");
        }
        // Other categories may well have no incident.
        assert!(Triage::parse(&form("preventive_consultation", "none"), now()).is_ok());
        assert!(Triage::parse(&form("everyday_trouble", "none"), now()).is_ok());
    }

    #[test]
    fn times_in_the_future_are_refused_and_now_is_accepted() {
        let mut input = form("everyday_trouble", "malware");
        input.facts.detected_at = Some(now() + Duration::seconds(1));
        input.facts.occurred_at = Some(now() + Duration::days(1));
        let errors = Triage::parse(&input, now()).expect_err("future");
        assert_eq!(fields(&errors), ["facts.detected_at", "facts.occurred_at", "facts.detected_at"]);
        assert!(errors.0[0].detail.contains("future"), "{}", errors.0[0].detail);

        input.facts.detected_at = Some(now());
        input.facts.occurred_at = Some(now());
        assert!(Triage::parse(&input, now()).is_ok());
    }

    #[test]
    fn detection_before_occurrence_is_refused() {
        let mut input = form("everyday_trouble", "malware");
        input.facts.occurred_at = Some(now() - Duration::hours(1));
        input.facts.detected_at = Some(now() - Duration::hours(2));
        let errors = Triage::parse(&input, now()).expect_err("detected before it happened");
        assert_eq!(fields(&errors), ["facts.detected_at"]);
        assert!(errors.0[0].detail.contains("occurred_at"), "{}", errors.0[0].detail);

        // Either time alone is fine.
        input.facts.occurred_at = None;
        assert!(Triage::parse(&input, now()).is_ok());
        input.facts.occurred_at = Some(now() - Duration::hours(1));
        input.facts.detected_at = None;
        assert!(Triage::parse(&input, now()).is_ok());
    }

    #[test]
    fn an_override_needs_a_reason_which_is_kept() {
        let mut input = form("everyday_trouble", "malware");
        input.priority = Some("P1");
        let errors = Triage::parse(&input, now()).expect_err("no reason");
        assert_eq!(fields(&errors), ["priority_reason"]);
        assert!(
            errors.0[0].detail.contains("P3") && errors.0[0].detail.contains("P1"),
            "{}",
            errors.0[0].detail
        );

        // A blank reason is reported once, as blank, not also as missing.
        input.priority_reason = Some("   ");
        let errors = Triage::parse(&input, now()).expect_err("blank reason");
        assert_eq!(fields(&errors), ["priority_reason"]);
        assert_eq!(errors.0[0].detail, "priority_reason must not be empty");

        input.priority_reason = Some("  院長から至急の要請  ");
        let triage = Triage::parse(&input, now()).expect("with a reason");
        assert_eq!(triage.suggested_priority, Priority::P3);
        assert_eq!(triage.priority, Priority::P1);
        assert_eq!(triage.priority_reason.as_deref(), Some("院長から至急の要請"));
    }

    #[test]
    fn a_reason_is_dropped_when_the_priority_equals_the_suggestion() {
        let mut input = form("everyday_trouble", "malware");
        input.priority = Some("P3");
        input.priority_reason = Some("same as suggested");
        let triage = Triage::parse(&input, now()).expect("no override");
        assert_eq!(triage.priority, Priority::P3);
        assert_eq!(triage.priority_reason, None);

        input.priority = None;
        let triage = Triage::parse(&input, now()).expect("no override");
        assert_eq!(triage.priority_reason, None);
    }

    #[test]
    fn a_reason_longer_than_1000_characters_is_refused() {
        let long = "あ".repeat(1001);
        let mut input = form("everyday_trouble", "malware");
        input.priority = Some("P2");
        input.priority_reason = Some(&long);
        let errors = Triage::parse(&input, now()).expect_err("too long");
        assert_eq!(fields(&errors)[0], "priority_reason");
        let exact = "あ".repeat(1000);
        input.priority_reason = Some(&exact);
        assert!(Triage::parse(&input, now()).is_ok());
    }

    #[test]
    fn out_of_scope_needs_a_decline_reason_and_then_declines() {
        let errors = Triage::parse(&form("out_of_scope", "none"), now()).expect_err("no reason");
        assert_eq!(fields(&errors), ["decline_reason"]);
        assert!(errors.0[0].detail.contains("out-of-scope"), "{}", errors.0[0].detail);

        let mut input = form("out_of_scope", "none");
        input.decline_reason = Some(" ");
        let errors = Triage::parse(&input, now()).expect_err("blank reason");
        assert_eq!(fields(&errors), ["decline_reason"]);

        let mut input = form("out_of_scope", "none");
        input.decline_reason = Some("Excel の操作方法の質問");
        let triage = Triage::parse(&input, now()).expect("with a reason");
        assert!(triage.declines());
        assert_eq!(triage.priority, Priority::P4);
        assert_eq!(triage.decline_reason.as_deref(), Some("Excel の操作方法の質問"));
    }

    #[test]
    fn a_decline_reason_on_another_category_is_dropped_and_does_not_decline() {
        for category in ["everyday_trouble", "serious_incident", "preventive_consultation"] {
            let mut input = form(category, "other");
            input.decline_reason = Some("not needed");
            let triage = Triage::parse(&input, now()).expect(category);
            assert!(!triage.declines(), "{category}");
            assert_eq!(triage.decline_reason, None, "{category}");
        }
    }

    #[test]
    fn unknown_names_are_refused_listing_the_accepted_ones() {
        let mut input = form("serious", "emotet");
        input.priority = Some("p1");
        let errors = Triage::parse(&input, now()).expect_err("unknown names");
        assert_eq!(fields(&errors), ["category", "incident_kind", "priority"]);
        assert_eq!(
            errors.0[0].detail,
            "category must be one of everyday_trouble, serious_incident, preventive_consultation, \
             out_of_scope, got \"serious\""
        );
        assert_eq!(
            errors.0[1].detail,
            "incident_kind must be one of ransomware, malware, unauthorized_access, data_leak, \
             website_defacement, network_trouble, other, none, got \"emotet\""
        );
        assert_eq!(errors.0[2].detail, "priority must be one of P1, P2, P3, P4, got \"p1\"");
    }

    #[test]
    fn several_errors_are_collected_at_once() {
        let mut input = form("out_of_scope", "other");
        input.facts.occurred_at = Some(now() + Duration::minutes(5));
        input.facts.systems_affected = vec![String::new()];
        input.priority = Some("P1");
        let errors = Triage::parse(&input, now()).expect_err("four problems");
        assert_eq!(
            fields(&errors),
            ["facts.occurred_at", "facts.systems_affected", "priority_reason", "decline_reason"]
        );

        let mut input = form("nonsense", "none");
        input.facts.detected_at = Some(now() + Duration::days(1));
        input.decline_reason = Some("");
        let errors = Triage::parse(&input, now()).expect_err("three problems");
        assert_eq!(fields(&errors), ["category", "facts.detected_at", "decline_reason"]);
    }

    #[test]
    fn systems_affected_are_limited_in_number_and_length() {
        let check = |systems: Vec<String>| {
            let mut input = form("everyday_trouble", "network_trouble");
            input.facts.systems_affected = systems;
            Triage::parse(&input, now()).map(|_| ()).map_err(|errors| fields(&errors).join(","))
        };
        assert_eq!(check(vec![]), Ok(()));
        assert_eq!(check(vec!["電子カルテ".to_owned(); 50]), Ok(()));
        assert_eq!(check(vec!["電子カルテ".to_owned(); 51]), Err("facts.systems_affected".to_owned()));
        assert_eq!(check(vec!["あ".repeat(100)]), Ok(()));
        assert_eq!(check(vec!["あ".repeat(101)]), Err("facts.systems_affected".to_owned()));
        assert_eq!(check(vec!["EMR".to_owned(), " ".to_owned()]), Err("facts.systems_affected".to_owned()));
        assert_eq!(check(vec![String::new()]), Err("facts.systems_affected".to_owned()));
    }

    #[test]
    fn priorities_are_ordered_p1_first() {
        assert!(Priority::P1 < Priority::P2 && Priority::P2 < Priority::P3 && Priority::P3 < Priority::P4);
        assert_eq!(Priority::ALL, [Priority::P1, Priority::P2, Priority::P3, Priority::P4]);
    }
}

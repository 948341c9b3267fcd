//! A hotline call as the operator logs it: who called, for which institution, and what happened. Parsing
//! collects every field error at once so the operator can fix the form while the caller waits.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use uuid::Uuid;

use crate::identifiers::{Identifier, IdentifierKind};
use crate::person::{CallerRole, Name, PhoneNumber};
use crate::prefecture::PrefectureCode;
use crate::text::{required_notes, required_text};
use crate::verification::Claim;
use crate::{FieldError, ValidationErrors};

/// Longest summary of a call; a summary is notes, not a transcript.
pub const SUMMARY_MAX_CHARS: usize = 4000;
/// Longest address.
pub const ADDRESS_MAX_CHARS: usize = 200;

/// The call form as received, before any rule is applied. Borrowed so the API's wire type can lend it.
#[derive(Debug, Clone, Default)]
pub struct CallForm<'a> {
    /// When the call started; `None` means now.
    pub started_at: Option<DateTime<FixedOffset>>,
    /// Person on the phone.
    pub caller_name: &'a str,
    /// Their role, e.g. `staff`.
    pub caller_role: &'a str,
    /// Where to call them back.
    pub callback_phone: &'a str,
    /// 会員名; defaults to the caller's name when the caller is the member.
    pub member_name: Option<&'a str>,
    /// Claimed institution name.
    pub institution_name: &'a str,
    /// Claimed institution address.
    pub institution_address: &'a str,
    /// Claimed prefecture code.
    pub prefecture: &'a str,
    /// `registration_number` or `member_number`.
    pub identifier_kind: &'a str,
    /// The number as dictated.
    pub identifier_value: &'a str,
    /// What the call was about.
    pub summary: &'a str,
    /// Ticket a follow-up call belongs to.
    pub ticket_id: Option<Uuid>,
}

/// A call that passed every field rule (the service window is checked separately, because its refusal
/// carries the window and the next opening).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCall {
    /// When the call started.
    pub started_at: DateTime<Utc>,
    /// Person on the phone.
    pub caller_name: Name,
    /// Their role.
    pub caller_role: CallerRole,
    /// Callback number.
    pub callback_phone: PhoneNumber,
    /// What the caller claims, for verification.
    pub claim: Claim,
    /// What the call was about.
    pub summary: String,
    /// Ticket of a follow-up call.
    pub ticket_id: Option<Uuid>,
}

impl NewCall {
    /// Applies every field rule; `now` and `max_skew` bound how far in the future a start may lie (desk
    /// clocks drift a little, but a call cannot start tomorrow).
    pub fn parse(
        form: &CallForm<'_>,
        now: DateTime<Utc>,
        max_skew: Duration,
    ) -> Result<NewCall, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let started_at = form.started_at.map_or(now, |at| at.with_timezone(&Utc));
        if started_at > now + max_skew {
            errors.push(FieldError::new(
                "started_at",
                format!(
                    "started_at lies in the future (more than {} s after the server's clock)",
                    max_skew.num_seconds()
                ),
            ));
        }
        let caller_name = errors.check(Name::parse("caller_name", form.caller_name));
        let caller_role = errors.check(CallerRole::parse(form.caller_role));
        let callback_phone = errors.check(PhoneNumber::parse("callback_phone", form.callback_phone));
        let member_name = match (form.member_name, caller_role) {
            (Some(name), _) => errors.check(Name::parse("member_name", name)),
            (None, Some(CallerRole::Member)) => caller_name.clone(),
            // An unreadable role is already reported; whether the name is needed depends on the fix.
            (None, None) => None,
            (None, Some(_)) => {
                errors.push(FieldError::new(
                    "member_name",
                    "member_name is required unless the caller is the member",
                ));
                None
            }
        };
        let institution_name = errors.check(Name::parse("institution.name", form.institution_name));
        let institution_address =
            errors.check(required_text("institution.address", form.institution_address, ADDRESS_MAX_CHARS));
        let prefecture =
            errors.check(PrefectureCode::parse(form.prefecture).map_err(|e| e.under("institution")));
        let identifier =
            IdentifierKind::parse(form.identifier_kind).map_err(|e| e.under("identifier")).and_then(|kind| {
                Identifier::parse(kind, form.identifier_value).map_err(|e| e.under("identifier"))
            });
        let identifier = errors.check(identifier);
        let summary = errors.check(required_notes("summary", form.summary, SUMMARY_MAX_CHARS));
        match (
            caller_name,
            caller_role,
            callback_phone,
            member_name,
            institution_name,
            institution_address,
            prefecture,
            identifier,
            summary,
        ) {
            (
                Some(caller_name),
                Some(caller_role),
                Some(callback_phone),
                Some(member_name),
                Some(institution_name),
                Some(institution_address),
                Some(prefecture),
                Some(identifier),
                Some(summary),
            ) if errors.is_empty() => Ok(NewCall {
                started_at,
                caller_name,
                caller_role,
                callback_phone,
                claim: Claim { member_name, institution_name, institution_address, prefecture, identifier },
                summary,
                ticket_id: form.ticket_id,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::identifiers::RegistrationNumber;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 1, 0, 0).single().expect("valid instant")
    }

    fn skew() -> Duration {
        Duration::minutes(5)
    }

    fn valid_form() -> CallForm<'static> {
        CallForm {
            started_at: None,
            caller_name: "佐藤 花子",
            caller_role: "staff",
            callback_phone: "03-1234-5678",
            member_name: Some("山田 太郎"),
            institution_name: "本駒込クリニック",
            institution_address: "東京都文京区本駒込2-28-16",
            prefecture: "13",
            identifier_kind: "registration_number",
            identifier_value: "０１２３４５",
            summary: "電子カルテが開けない。身代金要求の画面が出ている。",
            ticket_id: None,
        }
    }

    fn fields(errors: &ValidationErrors) -> Vec<&str> {
        errors.0.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn valid_form_parses_into_a_new_call_with_a_claim() {
        let ticket = Uuid::from_u128(7);
        let form = CallForm { ticket_id: Some(ticket), ..valid_form() };
        let call = NewCall::parse(&form, now(), skew()).expect("valid form");
        assert_eq!(call.started_at, now());
        assert_eq!(call.caller_name.as_str(), "佐藤 花子");
        assert_eq!(call.caller_role, CallerRole::Staff);
        assert_eq!(call.callback_phone.as_str(), "0312345678");
        assert_eq!(call.claim.member_name.as_str(), "山田 太郎");
        assert_eq!(call.claim.institution_name.as_str(), "本駒込クリニック");
        assert_eq!(call.claim.institution_address, "東京都文京区本駒込2-28-16");
        assert_eq!(call.claim.prefecture.code(), "13");
        assert_eq!(
            call.claim.identifier,
            Identifier::Registration(RegistrationNumber::parse("12345").expect("valid"))
        );
        assert_eq!(call.summary, "電子カルテが開けない。身代金要求の画面が出ている。");
        assert_eq!(call.ticket_id, Some(ticket));
    }

    #[test]
    fn free_text_is_kept_as_given_but_trimmed() {
        let form = CallForm {
            institution_address: " 東京都文京区\u{3000}本駒込２－２８－１６ ",
            ..valid_form()
        };
        let call = NewCall::parse(&form, now(), skew()).expect("valid form");
        assert_eq!(call.claim.institution_address, "東京都文京区\u{3000}本駒込２－２８－１６");
    }

    #[test]
    fn summary_keeps_its_lines_and_characters() {
        let form = CallForm {
            summary: "\r\n①ＰＣが起動しない\r\n②身代金要求の画面が出ている \r\n",
            ..valid_form()
        };
        let call = NewCall::parse(&form, now(), skew()).expect("valid form");
        assert_eq!(call.summary, "①ＰＣが起動しない\n②身代金要求の画面が出ている");
    }

    #[test]
    fn member_number_identifier_is_accepted() {
        let form =
            CallForm { identifier_kind: "member_number", identifier_value: "0123-456-789", ..valid_form() };
        let call = NewCall::parse(&form, now(), skew()).expect("valid form");
        assert_eq!(call.claim.identifier.kind(), IdentifierKind::MemberNumber);
        assert_eq!(call.claim.identifier.value(), "0123456789");
    }

    #[test]
    fn every_bad_field_is_reported_at_once_with_its_path() {
        let form = CallForm {
            started_at: None,
            caller_name: " ",
            caller_role: "patient",
            callback_phone: "12345",
            member_name: Some(""),
            institution_name: "",
            institution_address: "",
            prefecture: "48",
            identifier_kind: "registration_number",
            identifier_value: "1234567",
            summary: "",
            ticket_id: None,
        };
        let errors = NewCall::parse(&form, now(), skew()).expect_err("everything is wrong");
        assert_eq!(
            fields(&errors),
            vec![
                "caller_name",
                "caller_role",
                "callback_phone",
                "member_name",
                "institution.name",
                "institution.address",
                "institution.prefecture",
                "identifier.value",
                "summary",
            ]
        );
        let prefecture =
            errors.0.iter().find(|e| e.field == "institution.prefecture").expect("prefecture error");
        assert_eq!(prefecture.detail, "prefecture must be 01–47, got 48");
        assert_eq!(errors.to_string(), "9 invalid field(s)");
    }

    #[test]
    fn two_bad_fields_give_exactly_two_errors() {
        let form = CallForm { prefecture: "abc", identifier_value: "12a", ..valid_form() };
        let errors = NewCall::parse(&form, now(), skew()).expect_err("two bad fields");
        assert_eq!(fields(&errors), vec!["institution.prefecture", "identifier.value"]);
    }

    #[test]
    fn unknown_identifier_kind_is_reported_on_identifier_kind() {
        let form = CallForm { identifier_kind: "passport", ..valid_form() };
        let errors = NewCall::parse(&form, now(), skew()).expect_err("bad kind");
        assert_eq!(fields(&errors), vec!["identifier.kind"]);
    }

    #[test]
    fn too_long_summary_is_refused() {
        let long = "あ".repeat(SUMMARY_MAX_CHARS + 1);
        let form = CallForm { summary: &long, ..valid_form() };
        let errors = NewCall::parse(&form, now(), skew()).expect_err("too long");
        assert_eq!(fields(&errors), vec!["summary"]);
        let longest = "あ".repeat(SUMMARY_MAX_CHARS);
        assert!(NewCall::parse(&CallForm { summary: &longest, ..valid_form() }, now(), skew()).is_ok());
    }

    #[test]
    fn too_long_address_is_refused() {
        let long = "あ".repeat(ADDRESS_MAX_CHARS + 1);
        let form = CallForm { institution_address: &long, ..valid_form() };
        assert_eq!(
            fields(&NewCall::parse(&form, now(), skew()).expect_err("too long")),
            vec!["institution.address"]
        );
    }

    #[test]
    fn start_more_than_the_skew_in_the_future_is_refused() {
        let started = (now() + skew() + Duration::seconds(1)).fixed_offset();
        let form = CallForm { started_at: Some(started), ..valid_form() };
        let errors = NewCall::parse(&form, now(), skew()).expect_err("in the future");
        assert_eq!(fields(&errors), vec!["started_at"]);
        assert!(errors.0[0].detail.contains("300 s"), "{}", errors.0[0].detail);
    }

    #[test]
    fn start_within_the_skew_in_the_future_is_accepted() {
        for ahead in [Duration::zero(), Duration::seconds(1), skew()] {
            let form = CallForm { started_at: Some((now() + ahead).fixed_offset()), ..valid_form() };
            let call = NewCall::parse(&form, now(), skew()).expect("within the skew");
            assert_eq!(call.started_at, now() + ahead);
        }
    }

    #[test]
    fn start_given_with_a_jst_offset_is_stored_as_the_same_instant() {
        let started = DateTime::parse_from_rfc3339("2026-11-21T09:30:00+09:00").expect("valid");
        let form = CallForm { started_at: Some(started), ..valid_form() };
        let call = NewCall::parse(&form, now(), skew()).expect("in the past");
        assert_eq!(call.started_at, Utc.with_ymd_and_hms(2026, 11, 21, 0, 30, 0).single().expect("valid"));
    }

    #[test]
    fn missing_start_means_now() {
        let call = NewCall::parse(&valid_form(), now(), skew()).expect("valid form");
        assert_eq!(call.started_at, now());
    }

    #[test]
    fn member_name_defaults_to_the_caller_name_when_the_caller_is_the_member() {
        let form =
            CallForm {
                caller_role: "member", caller_name: "山田　太郎", member_name: None, ..valid_form()
            };
        let call = NewCall::parse(&form, now(), skew()).expect("valid form");
        assert_eq!(call.caller_role, CallerRole::Member);
        assert_eq!(call.claim.member_name.as_str(), "山田\u{3000}太郎");
    }

    #[test]
    fn member_name_given_by_the_member_is_kept() {
        let form = CallForm {
            caller_role: "member",
            caller_name: "山田太郎",
            member_name: Some("山田 太郎"),
            ..valid_form()
        };
        let call = NewCall::parse(&form, now(), skew()).expect("valid form");
        assert_eq!(call.claim.member_name.as_str(), "山田 太郎");
    }

    #[test]
    fn member_name_is_required_for_every_other_caller_role() {
        for role in CallerRole::ALL.into_iter().filter(|role| *role != CallerRole::Member) {
            let form = CallForm { caller_role: role.as_str(), member_name: None, ..valid_form() };
            let errors = NewCall::parse(&form, now(), skew()).expect_err(role.as_str());
            assert_eq!(fields(&errors), vec!["member_name"], "{}", role.as_str());
        }
    }

    #[test]
    fn missing_member_name_is_not_reported_when_the_role_itself_is_unreadable() {
        let form = CallForm { caller_role: "membr", member_name: None, ..valid_form() };
        let errors = NewCall::parse(&form, now(), skew()).expect_err("bad role");
        assert_eq!(fields(&errors), vec!["caller_role"]);
    }

    #[test]
    fn member_caller_with_a_bad_name_gets_one_error_not_two() {
        let form = CallForm { caller_role: "member", caller_name: "", member_name: None, ..valid_form() };
        let errors = NewCall::parse(&form, now(), skew()).expect_err("bad name");
        assert_eq!(fields(&errors), vec!["caller_name"]);
    }
}

//! People on the phone: their names, their role towards the member institution, and the number to call
//! them back on. Names are Japanese text kept as given (after NFKC); phone numbers keep digits only.

use std::fmt;

use crate::FieldError;
use crate::text::{required_text, strip_number};

/// Longest name we accept; real names are far shorter, this only stops abuse.
pub const NAME_MAX_CHARS: usize = 100;

/// A person's or institution's name, non-empty and cleaned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    /// Parses a name for `field`.
    pub fn parse(field: &str, input: &str) -> Result<Self, FieldError> {
        required_text(field, input, NAME_MAX_CHARS).map(Self)
    }

    /// The cleaned text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Japanese phone number to call back on: 10 or 11 digits starting with 0, or +81 followed by 9–10
/// digits (stored as the domestic form). Hyphens, spaces and full-width digits are accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parses a dictated phone number for `field`.
    pub fn parse(field: &str, input: &str) -> Result<Self, FieldError> {
        let mut digits = strip_number(input).replace(['(', ')'], "");
        if let Some(rest) = digits.strip_prefix("+81") {
            digits = format!("0{}", rest.trim_start_matches('0'));
        }
        let valid = digits.starts_with('0')
            && (10..=11).contains(&digits.len())
            && digits.chars().all(|c| c.is_ascii_digit());
        if valid {
            Ok(Self(digits))
        } else {
            Err(FieldError::new(field, "phone number must be 10 or 11 digits starting with 0 (or +81)"))
        }
    }

    /// Digits only, domestic form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who is on the phone, relative to the member institution. The registry check is the same for all; the
/// role is recorded because a member's own call and a staff member's call are handled differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CallerRole {
    /// The A① member (founder or manager) themself.
    Member,
    /// A doctor working at the member's institution.
    Doctor,
    /// Other staff of the member's institution.
    Staff,
    /// Staff of a prefectural or municipal medical association.
    AssociationStaff,
    /// Staff of a care facility run by a member (eligible since 2023).
    CareFacilityStaff,
}

impl CallerRole {
    /// Every role, for error messages and documentation.
    pub const ALL: [CallerRole; 5] =
        [Self::Member, Self::Doctor, Self::Staff, Self::AssociationStaff, Self::CareFacilityStaff];

    /// Stable storage and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Doctor => "doctor",
            Self::Staff => "staff",
            Self::AssociationStaff => "association_staff",
            Self::CareFacilityStaff => "care_facility_staff",
        }
    }

    /// Reads the stored name back.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        Self::ALL.into_iter().find(|role| role.as_str() == input).ok_or_else(|| {
            FieldError::new(
                "caller_role",
                format!(
                    "caller role must be one of {}, got {input:?}",
                    Self::ALL.map(Self::as_str).join(", ")
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(input: &str) -> String {
        PhoneNumber::parse("callback_phone", input)
            .unwrap_or_else(|e| panic!("{input}: {e}"))
            .as_str()
            .to_owned()
    }

    #[test]
    fn name_is_trimmed_and_otherwise_kept_as_given() {
        let name = Name::parse("caller_name", "\u{3000}山田\u{3000}太郎 ").expect("valid");
        assert_eq!(name.as_str(), "山田\u{3000}太郎");
        assert_eq!(name.to_string(), "山田\u{3000}太郎");
    }

    #[test]
    fn name_empty_or_too_long_is_refused_on_its_field() {
        let error = Name::parse("caller_name", "  ").expect_err("blank");
        assert_eq!(error.field, "caller_name");
        let long = "あ".repeat(NAME_MAX_CHARS + 1);
        let error = Name::parse("member_name", &long).expect_err("too long");
        assert_eq!(error.field, "member_name");
        assert!(error.detail.contains("at most 100 characters"), "{}", error.detail);
        assert!(Name::parse("member_name", &"あ".repeat(NAME_MAX_CHARS)).is_ok());
    }

    #[test]
    fn phone_number_with_hyphens_spaces_or_parentheses_keeps_digits_only() {
        assert_eq!(phone("03-1234-5678"), "0312345678");
        assert_eq!(phone("090 1234 5678"), "09012345678");
        assert_eq!(phone("(03)1234-5678"), "0312345678");
        assert_eq!(phone("0120-123-456"), "0120123456");
    }

    #[test]
    fn phone_number_in_full_width_is_accepted() {
        assert_eq!(phone("０３－１２３４－５６７８"), "0312345678");
        assert_eq!(phone("（０３）１２３４ー５６７８"), "0312345678");
        assert_eq!(phone("＋８１　３　１２３４　５６７８"), "0312345678");
    }

    #[test]
    fn phone_number_with_plus_81_is_stored_in_domestic_form() {
        assert_eq!(phone("+81-3-1234-5678"), "0312345678");
        assert_eq!(phone("+81 90 1234 5678"), "09012345678");
        assert_eq!(phone("+81 (0)3 1234 5678"), "0312345678");
    }

    #[test]
    fn phone_number_too_short_too_long_or_not_starting_with_0_is_refused() {
        for input in [
            "03-1234-567",
            "090-1234-56789",
            "3-1234-5678",
            "",
            "+81",
            "+81 3 1234 567",
            "03-1234-567a",
            "81312345678",
        ] {
            let error = PhoneNumber::parse("callback_phone", input).expect_err(input);
            assert_eq!(error.field, "callback_phone");
            assert_eq!(error.detail, "phone number must be 10 or 11 digits starting with 0 (or +81)");
        }
    }

    #[test]
    fn caller_role_round_trips_through_its_name() {
        for role in CallerRole::ALL {
            assert_eq!(CallerRole::parse(role.as_str()), Ok(role));
        }
        assert_eq!(CallerRole::parse("care_facility_staff"), Ok(CallerRole::CareFacilityStaff));
    }

    #[test]
    fn unknown_caller_role_is_refused_listing_every_role() {
        let error = CallerRole::parse("patient").expect_err("unknown");
        assert_eq!(error.field, "caller_role");
        assert_eq!(
            error.detail,
            "caller role must be one of member, doctor, staff, association_staff, care_facility_staff, got \"patient\""
        );
    }
}

//! The two numbers a caller can give to prove membership: the medical registration number (医籍登録番号,
//! up to 6 digits, older ones shorter) and the association member number (会員番号, 10 digits).
//! Widths are constants here because they come from the association's published practice *(seed only)*.

use std::fmt;

use crate::FieldError;
use crate::text::strip_number;

/// Longest medical registration number in use *(seed only)*.
pub const REGISTRATION_NUMBER_MAX_DIGITS: usize = 6;
/// Width of an association member number *(seed only)*.
pub const MEMBER_NUMBER_DIGITS: usize = 10;

/// A medical registration number in canonical form: ASCII digits without leading zeros, so "012345",
/// "１２３４５" and "12 345" are the same doctor.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegistrationNumber(String);

impl RegistrationNumber {
    /// Parses a dictated registration number.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let field = "registration_number";
        let digits = strip_number(input);
        if digits.is_empty() {
            return Err(FieldError::new(field, "registration number must not be empty"));
        }
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(FieldError::new(field, "registration number must contain only digits"));
        }
        let canonical = digits.trim_start_matches('0');
        if canonical.is_empty() {
            return Err(FieldError::new(field, "registration number must not be zero"));
        }
        if canonical.len() > REGISTRATION_NUMBER_MAX_DIGITS {
            return Err(FieldError::new(
                field,
                format!(
                    "registration number has at most {REGISTRATION_NUMBER_MAX_DIGITS} digits, got {}",
                    canonical.len()
                ),
            ));
        }
        Ok(Self(canonical.to_owned()))
    }

    /// The canonical digits, as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RegistrationNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An association member number: exactly ten digits, leading zeros significant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemberNumber(String);

impl MemberNumber {
    /// Parses a dictated member number.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let field = "member_number";
        let digits = strip_number(input);
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(FieldError::new(field, "member number must contain only digits"));
        }
        if digits.len() != MEMBER_NUMBER_DIGITS {
            return Err(FieldError::new(
                field,
                format!("member number must be exactly {MEMBER_NUMBER_DIGITS} digits, got {}", digits.len()),
            ));
        }
        Ok(Self(digits))
    }

    /// The ten digits, as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MemberNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which of the two numbers the caller gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IdentifierKind {
    /// 医籍登録番号.
    RegistrationNumber,
    /// 会員番号.
    MemberNumber,
}

impl IdentifierKind {
    /// Stable storage and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RegistrationNumber => "registration_number",
            Self::MemberNumber => "member_number",
        }
    }

    /// Reads the stored name back.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        match input {
            "registration_number" => Ok(Self::RegistrationNumber),
            "member_number" => Ok(Self::MemberNumber),
            other => Err(FieldError::new(
                "kind",
                format!("identifier kind must be registration_number or member_number, got {other:?}"),
            )),
        }
    }
}

/// The identifier a caller gave, already parsed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Identifier {
    /// A medical registration number.
    Registration(RegistrationNumber),
    /// An association member number.
    Member(MemberNumber),
}

impl Identifier {
    /// Parses `value` as the number `kind` names; the field of any error is `value`.
    pub fn parse(kind: IdentifierKind, value: &str) -> Result<Self, FieldError> {
        let parsed = match kind {
            IdentifierKind::RegistrationNumber => RegistrationNumber::parse(value).map(Self::Registration),
            IdentifierKind::MemberNumber => MemberNumber::parse(value).map(Self::Member),
        };
        parsed.map_err(|mut error| {
            error.field = "value".to_owned();
            error
        })
    }

    /// Which number this is.
    pub fn kind(&self) -> IdentifierKind {
        match self {
            Self::Registration(_) => IdentifierKind::RegistrationNumber,
            Self::Member(_) => IdentifierKind::MemberNumber,
        }
    }

    /// The canonical digits.
    pub fn value(&self) -> &str {
        match self {
            Self::Registration(number) => number.as_str(),
            Self::Member(number) => number.as_str(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registration(input: &str) -> String {
        RegistrationNumber::parse(input).expect("a valid registration number").as_str().to_owned()
    }

    #[test]
    fn registration_number_accepts_full_width_digits() {
        assert_eq!(registration("１２３４５６"), "123456");
    }

    #[test]
    fn registration_number_ignores_hyphens_and_spaces() {
        assert_eq!(registration("12-34 56"), "123456");
        assert_eq!(registration(" 12\u{3000}345 "), "12345");
        assert_eq!(registration("12ー34−56"), "123456");
    }

    #[test]
    fn registration_number_drops_leading_zeros_so_padded_and_short_forms_are_equal() {
        assert_eq!(RegistrationNumber::parse("000123"), RegistrationNumber::parse("123"));
        assert_eq!(registration("000123"), "123");
        assert_eq!(RegistrationNumber::parse("０１２３４５").expect("valid").to_string(), "12345");
    }

    #[test]
    fn registration_number_of_six_digits_is_the_maximum() {
        assert_eq!(registration("999999"), "999999");
        assert_eq!(registration("0999999"), "999999");
    }

    #[test]
    fn registration_number_of_seven_digits_is_refused_naming_the_maximum() {
        let error = RegistrationNumber::parse("1234567").expect_err("seven digits");
        assert_eq!(error.field, "registration_number");
        assert!(error.detail.contains("at most 6 digits"), "{}", error.detail);
        assert!(error.detail.contains("got 7"), "{}", error.detail);
    }

    #[test]
    fn registration_number_with_letters_is_refused() {
        for input in ["12a456", "abc", "12.3", "+123"] {
            let error = RegistrationNumber::parse(input).expect_err(input);
            assert_eq!(error.field, "registration_number");
            assert!(error.detail.contains("only digits"), "{}", error.detail);
        }
    }

    #[test]
    fn registration_number_zero_or_empty_is_refused() {
        for input in ["0", "000000", "０"] {
            let error = RegistrationNumber::parse(input).expect_err(input);
            assert!(error.detail.contains("zero"), "{input}: {}", error.detail);
        }
        for input in ["", "  ", "-"] {
            let error = RegistrationNumber::parse(input).expect_err(input);
            assert!(error.detail.contains("empty"), "{input}: {}", error.detail);
        }
    }

    #[test]
    fn member_number_of_exactly_ten_digits_is_accepted_with_leading_zeros_kept() {
        let number = MemberNumber::parse("0012345678").expect("ten digits");
        assert_eq!(number.as_str(), "0012345678");
        assert_eq!(number.to_string(), "0012345678");
    }

    #[test]
    fn member_number_accepts_full_width_digits_hyphens_and_spaces() {
        assert_eq!(MemberNumber::parse("０１２３４５６７８９").expect("valid").as_str(), "0123456789");
        assert_eq!(MemberNumber::parse("01234-56789").expect("valid").as_str(), "0123456789");
        assert_eq!(MemberNumber::parse(" 0123 456 789 ").expect("valid").as_str(), "0123456789");
    }

    #[test]
    fn member_number_of_nine_or_eleven_digits_is_refused_with_the_count() {
        let error = MemberNumber::parse("123456789").expect_err("nine digits");
        assert_eq!(error, FieldError::new("member_number", "member number must be exactly 10 digits, got 9"));
        let error = MemberNumber::parse("01234567890").expect_err("eleven digits");
        assert_eq!(error.detail, "member number must be exactly 10 digits, got 11");
    }

    #[test]
    fn member_number_with_letters_or_empty_is_refused() {
        let error = MemberNumber::parse("12345abcde").expect_err("letters");
        assert_eq!(error.detail, "member number must contain only digits");
        let error = MemberNumber::parse("").expect_err("empty");
        assert_eq!(error.detail, "member number must be exactly 10 digits, got 0");
    }

    #[test]
    fn identifier_kind_round_trips_through_its_name() {
        for kind in [IdentifierKind::RegistrationNumber, IdentifierKind::MemberNumber] {
            assert_eq!(IdentifierKind::parse(kind.as_str()), Ok(kind));
        }
        let error = IdentifierKind::parse("passport").expect_err("unknown kind");
        assert_eq!(error.field, "kind");
        assert!(error.detail.contains("\"passport\""), "{}", error.detail);
    }

    #[test]
    fn identifier_parse_dispatches_on_kind() {
        let registration = Identifier::parse(IdentifierKind::RegistrationNumber, "０１２３").expect("valid");
        assert_eq!(registration, Identifier::Registration(RegistrationNumber::parse("123").expect("valid")));
        assert_eq!(registration.kind(), IdentifierKind::RegistrationNumber);
        assert_eq!(registration.value(), "123");

        let member = Identifier::parse(IdentifierKind::MemberNumber, "0123456789").expect("valid");
        assert_eq!(member.kind(), IdentifierKind::MemberNumber);
        assert_eq!(member.value(), "0123456789");
    }

    #[test]
    fn identifier_parse_reports_errors_on_field_value() {
        let error =
            Identifier::parse(IdentifierKind::RegistrationNumber, "1234567").expect_err("seven digits");
        assert_eq!(error.field, "value");
        assert!(error.detail.contains("at most 6 digits"));
        let error = Identifier::parse(IdentifierKind::MemberNumber, "123").expect_err("three digits");
        assert_eq!(error.field, "value");
        assert!(error.detail.contains("exactly 10 digits"));
    }

    #[test]
    fn a_ten_digit_number_is_no_registration_number() {
        assert!(Identifier::parse(IdentifierKind::RegistrationNumber, "0123456789").is_err());
    }
}

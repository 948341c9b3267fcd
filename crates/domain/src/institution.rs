//! Medical institutions as the registry knows them: kind, postal code and the optional 10-digit medical
//! institution code (医療機関コード).

use std::fmt;

use crate::FieldError;
use crate::prefecture::PrefectureCode;
use crate::text::strip_number;

/// What an institution is; care facilities run by a member became eligible in 2023.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InstitutionKind {
    /// 病院 (20 beds or more).
    Hospital,
    /// 診療所.
    Clinic,
    /// 介護施設 run by a member.
    CareFacility,
}

impl InstitutionKind {
    /// Stable storage and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hospital => "hospital",
            Self::Clinic => "clinic",
            Self::CareFacility => "care_facility",
        }
    }

    /// Reads a stored or imported name.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        match input.trim() {
            "hospital" => Ok(Self::Hospital),
            "clinic" => Ok(Self::Clinic),
            "care_facility" => Ok(Self::CareFacility),
            other => Err(FieldError::new(
                "kind",
                format!("institution kind must be hospital, clinic or care_facility, got {other:?}"),
            )),
        }
    }
}

/// A Japanese postal code, seven digits, shown NNN-NNNN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostalCode(String);

impl PostalCode {
    /// Parses "113-8621", "1138621" or "〒１１３－８６２１".
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let stripped = strip_number(input);
        let digits = stripped.trim_start_matches('〒');
        if digits.len() == 7 && digits.chars().all(|c| c.is_ascii_digit()) {
            Ok(Self(digits.to_owned()))
        } else {
            Err(FieldError::new(
                "postal_code",
                format!("postal code must be 7 digits (NNN-NNNN), got {input:?}"),
            ))
        }
    }
}

impl fmt::Display for PostalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", &self.0[..3], &self.0[3..])
    }
}

/// The 10-digit medical institution code: prefecture (2), fee table (1: 1 medical, 3 dental,
/// 4 pharmacy), district (2), number (4), check digit (1). The check digit is not verified: its
/// algorithm is not in our sources, and a wrong rejection would block a caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MedicalInstitutionCode(String);

impl MedicalInstitutionCode {
    /// Parses the code and checks its prefecture and fee-table parts.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let field = "institution_code";
        let digits = strip_number(input);
        if digits.len() != 10 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(FieldError::new(
                field,
                format!("medical institution code must be 10 digits, got {input:?}"),
            ));
        }
        PrefectureCode::parse(&digits[..2]).map_err(|_| {
            FieldError::new(
                field,
                format!(
                    "medical institution code must start with a prefecture 01–47, got {:?}",
                    &digits[..2]
                ),
            )
        })?;
        if !matches!(&digits[2..3], "1" | "3" | "4") {
            return Err(FieldError::new(
                field,
                format!(
                    "medical institution code's 3rd digit must be 1, 3 or 4 (fee table), got {}",
                    &digits[2..3]
                ),
            ));
        }
        Ok(Self(digits))
    }

    /// The ten digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn institution_kind_round_trips_through_its_name() {
        for kind in [InstitutionKind::Hospital, InstitutionKind::Clinic, InstitutionKind::CareFacility] {
            assert_eq!(InstitutionKind::parse(kind.as_str()), Ok(kind));
        }
        assert_eq!(InstitutionKind::parse(" clinic "), Ok(InstitutionKind::Clinic));
        let error = InstitutionKind::parse("pharmacy").expect_err("unknown kind");
        assert_eq!(error.field, "kind");
        assert!(error.detail.contains("\"pharmacy\""), "{}", error.detail);
    }

    #[test]
    fn postal_code_is_shown_nnn_nnnn_whatever_the_input_form() {
        for input in [
            "113-8621",
            "1138621",
            "〒113-8621",
            "〒１１３－８６２１",
            " 〒 113ー8621 ",
            "113 8621",
            "〶113-8621",
        ] {
            let code = PostalCode::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(code.to_string(), "113-8621", "{input}");
        }
    }

    #[test]
    fn postal_code_keeps_leading_zeros() {
        assert_eq!(PostalCode::parse("060-0001").expect("valid").to_string(), "060-0001");
    }

    #[test]
    fn postal_code_of_wrong_length_or_with_letters_is_refused() {
        for input in ["113-862", "113-86211", "", "abc-defg", "113-862a", "〒"] {
            let error = PostalCode::parse(input).expect_err(input);
            assert_eq!(error.field, "postal_code");
            assert!(error.detail.starts_with("postal code must be 7 digits (NNN-NNNN)"), "{}", error.detail);
        }
    }

    #[test]
    fn medical_institution_code_of_ten_digits_is_accepted_in_any_width() {
        let code = MedicalInstitutionCode::parse("1312345678").expect("valid");
        assert_eq!(code.as_str(), "1312345678");
        assert_eq!(
            MedicalInstitutionCode::parse("１３１２３４５６７８").expect("valid").as_str(),
            "1312345678"
        );
        assert_eq!(MedicalInstitutionCode::parse("13-1-23-4567-8").expect("valid").as_str(), "1312345678");
    }

    #[test]
    fn medical_institution_code_accepts_medical_dental_and_pharmacy_fee_tables() {
        for code in ["0112345678", "1332345678", "4742345678"] {
            assert!(MedicalInstitutionCode::parse(code).is_ok(), "{code}");
        }
    }

    #[test]
    fn medical_institution_code_with_another_fee_table_digit_is_refused() {
        for code in ["1302345678", "1322345678", "1352345678", "1392345678"] {
            let error = MedicalInstitutionCode::parse(code).expect_err(code);
            assert_eq!(error.field, "institution_code");
            assert!(error.detail.contains("3rd digit must be 1, 3 or 4"), "{}", error.detail);
        }
    }

    #[test]
    fn medical_institution_code_must_start_with_a_prefecture() {
        for code in ["0012345678", "4812345678", "9912345678"] {
            let error = MedicalInstitutionCode::parse(code).expect_err(code);
            assert_eq!(error.field, "institution_code");
            assert!(error.detail.contains("prefecture 01–47"), "{}", error.detail);
        }
    }

    #[test]
    fn medical_institution_code_of_wrong_length_or_with_letters_is_refused() {
        for code in ["131234567", "13123456789", "13123456a8", ""] {
            let error = MedicalInstitutionCode::parse(code).expect_err(code);
            assert_eq!(error.field, "institution_code");
            assert!(error.detail.contains("must be 10 digits"), "{}", error.detail);
        }
    }
}

//! Caller verification against the member registry. The operator records what the caller says; the
//! service compares it with the registry and stores the outcome with the call. Only A① members
//! (founders and managers of hospitals and clinics) and the institutions they run are eligible.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::FieldError;
use crate::identifiers::Identifier;
use crate::person::Name;
use crate::prefecture::PrefectureCode;
use crate::text::{address_key, match_key};

/// What the caller claims, already parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// 会員名: the member who runs the institution (not necessarily the person on the phone).
    pub member_name: Name,
    /// 医療機関名.
    pub institution_name: Name,
    /// 所在地, as dictated.
    pub institution_address: String,
    /// Prefecture of the institution.
    pub prefecture: PrefectureCode,
    /// Registration or member number.
    pub identifier: Identifier,
}

/// Membership classes of the association; only A① is covered by the support system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MemberClass {
    /// A①: founder or manager of a hospital or clinic.
    A1,
    /// A②(B).
    A2B,
    /// A②(C).
    A2C,
    /// B.
    B,
    /// C.
    C,
}

impl MemberClass {
    /// Stable storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::A1 => "A1",
            Self::A2B => "A2B",
            Self::A2C => "A2C",
            Self::B => "B",
            Self::C => "C",
        }
    }

    /// Reads "A1", "A①", "A②(B)", "a2b" and the like.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let key: String = match_key(input).chars().filter(|c| !matches!(c, '(' | ')')).collect();
        match key.to_uppercase().as_str() {
            "A1" => Ok(Self::A1),
            "A2B" => Ok(Self::A2B),
            "A2C" => Ok(Self::A2C),
            "B" => Ok(Self::B),
            "C" => Ok(Self::C),
            _ => Err(FieldError::new(
                "member_class",
                format!("member class must be A1, A2B, A2C, B or C, got {input:?}"),
            )),
        }
    }

    /// Whether members of this class are covered by the hotline.
    pub fn is_eligible(self) -> bool {
        self == Self::A1
    }
}

/// A registry member with the institutions they run, as storage loads it for one identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryMember {
    /// Row id.
    pub id: Uuid,
    /// Registered name.
    pub name: String,
    /// Registered reading, if any; callers may spell the name in kana.
    pub kana: Option<String>,
    /// Membership class.
    pub member_class: MemberClass,
    /// Institutions the member founded or manages (links that ended too: see
    /// [`RegistryInstitution::ends_on`]).
    pub institutions: Vec<RegistryInstitution>,
    /// The periods the member was on the roster; a full-snapshot import ends the open one.
    pub periods: Vec<MembershipPeriod>,
}

/// A period of membership: from `starts_on` (none: since before the registry knew the member) up to,
/// not including, `ends_on` (none: still a member). Days are the service's local days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MembershipPeriod {
    /// First day of membership, if the registry knows it (a re-opened membership's re-opening day).
    pub starts_on: Option<NaiveDate>,
    /// The day the membership ended (the day of the snapshot that no longer listed the member).
    pub ends_on: Option<NaiveDate>,
}

impl MembershipPeriod {
    /// A membership that has not ended, since before the registry knew it.
    pub const OPEN: MembershipPeriod = MembershipPeriod { starts_on: None, ends_on: None };

    /// Whether a call made on `day` falls in the period.
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.starts_on.is_none_or(|start| start <= day) && self.ends_on.is_none_or(|end| day < end)
    }
}

/// One institution of a registry member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryInstitution {
    /// Row id.
    pub id: Uuid,
    /// Registered name.
    pub name: String,
    /// Prefecture.
    pub prefecture: PrefectureCode,
    /// Registered address.
    pub address: String,
    /// The day the member's link to the institution ended (absent from a full snapshot); calls from
    /// that day on do not count it.
    pub ends_on: Option<NaiveDate>,
}

/// The outcome stored with every call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VerificationOutcome {
    /// Identifier found and every claimed detail matches the registry.
    Verified,
    /// Identifier found, but some details differ (listed).
    Mismatch,
    /// No member has that identifier.
    NotFound,
    /// The member exists but is not covered (class other than A①, or runs no institution).
    Ineligible,
}

impl VerificationOutcome {
    /// Stable storage and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verified => "verified",
            Self::Mismatch => "mismatch",
            Self::NotFound => "not_found",
            Self::Ineligible => "ineligible",
        }
    }

    /// Reads the stored name back.
    pub fn parse(input: &str) -> Option<Self> {
        [Self::Verified, Self::Mismatch, Self::NotFound, Self::Ineligible]
            .into_iter()
            .find(|o| o.as_str() == input)
    }
}

/// A claimed detail that can disagree with the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClaimField {
    /// 会員名.
    MemberName,
    /// 医療機関名.
    InstitutionName,
    /// 所在地.
    InstitutionAddress,
    /// Prefecture.
    Prefecture,
}

impl ClaimField {
    /// Stable storage and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MemberName => "member_name",
            Self::InstitutionName => "institution_name",
            Self::InstitutionAddress => "institution_address",
            Self::Prefecture => "prefecture",
        }
    }

    /// Reads the stored name back.
    pub fn parse(input: &str) -> Option<Self> {
        [Self::MemberName, Self::InstitutionName, Self::InstitutionAddress, Self::Prefecture]
            .into_iter()
            .find(|field| field.as_str() == input)
    }
}

/// Why a known member is `ineligible`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IneligibleReason {
    /// A class other than A①.
    MemberClass,
    /// An A① member running no institution (on the call's date).
    NoInstitution,
    /// The membership had ended by the call's date (a full-snapshot import no longer listed them).
    MembershipEnded,
}

impl IneligibleReason {
    /// Stable storage and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MemberClass => "member_class",
            Self::NoInstitution => "no_institution",
            Self::MembershipEnded => "membership_ended",
        }
    }

    /// Reads the stored name back.
    pub fn parse(input: &str) -> Option<Self> {
        [Self::MemberClass, Self::NoInstitution, Self::MembershipEnded]
            .into_iter()
            .find(|reason| reason.as_str() == input)
    }
}

/// The verification result: outcome, the registry rows it matched, and what did not match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Verified, mismatch, not found or ineligible.
    pub outcome: VerificationOutcome,
    /// The member the identifier belongs to, if any.
    pub member_id: Option<Uuid>,
    /// The member's institution that best matches the claim, if any.
    pub institution_id: Option<Uuid>,
    /// Claimed details that differ from the registry (empty unless `Mismatch`).
    pub mismatches: Vec<ClaimField>,
    /// Why the member is not eligible (only with `Ineligible`).
    pub ineligible_reason: Option<IneligibleReason>,
}

/// Compares a claim with the member its identifier found (or `None`), as the registry stood on `day`,
/// the call's (local) date: a membership that had ended by then makes the member `ineligible`
/// (`membership_ended`), and links that had ended by then do not count. Names compare after NFKC
/// without spaces (the kana reading counts too); addresses also ignore the prefecture prefix, dash
/// variants and 丁目/番地/番/号. Of several institutions, the one with fewest differences is reported.
pub fn verify(claim: &Claim, member: Option<&RegistryMember>, day: NaiveDate) -> Verification {
    let Some(member) = member else {
        return Verification {
            outcome: VerificationOutcome::NotFound,
            member_id: None,
            institution_id: None,
            mismatches: vec![],
            ineligible_reason: None,
        };
    };
    let ineligible = |reason| Verification {
        outcome: VerificationOutcome::Ineligible,
        member_id: Some(member.id),
        institution_id: None,
        mismatches: vec![],
        ineligible_reason: Some(reason),
    };
    if !member.member_class.is_eligible() {
        return ineligible(IneligibleReason::MemberClass);
    }
    if !member.periods.iter().any(|period| period.covers(day)) {
        return ineligible(IneligibleReason::MembershipEnded);
    }
    let claimed_name = match_key(claim.member_name.as_str());
    let name_matches = claimed_name == match_key(&member.name)
        || member.kana.as_deref().is_some_and(|kana| claimed_name == match_key(kana));
    let best = member
        .institutions
        .iter()
        .filter(|institution| institution.ends_on.is_none_or(|end| day < end))
        .map(|institution| (institution, institution_mismatches(claim, institution)))
        .min_by_key(|(_, mismatches)| mismatches.len());
    let Some((institution, mut mismatches)) = best else {
        return ineligible(IneligibleReason::NoInstitution);
    };
    if !name_matches {
        mismatches.insert(0, ClaimField::MemberName);
    }
    let outcome =
        if mismatches.is_empty() { VerificationOutcome::Verified } else { VerificationOutcome::Mismatch };
    Verification {
        outcome,
        member_id: Some(member.id),
        institution_id: Some(institution.id),
        mismatches,
        ineligible_reason: None,
    }
}

fn institution_mismatches(claim: &Claim, institution: &RegistryInstitution) -> Vec<ClaimField> {
    let mut mismatches = Vec::new();
    if match_key(claim.institution_name.as_str()) != match_key(&institution.name) {
        mismatches.push(ClaimField::InstitutionName);
    }
    if comparable_address(&claim.institution_address, institution.prefecture)
        != comparable_address(&institution.address, institution.prefecture)
    {
        mismatches.push(ClaimField::InstitutionAddress);
    }
    if claim.prefecture != institution.prefecture {
        mismatches.push(ClaimField::Prefecture);
    }
    mismatches
}

/// Address key without the leading prefecture name, which callers often leave out.
fn comparable_address(address: &str, prefecture: PrefectureCode) -> String {
    let key = address_key(address);
    key.strip_prefix(prefecture.name_ja()).map(str::to_owned).unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identifiers::{IdentifierKind, RegistrationNumber};

    fn uuid(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().expect("a YYYY-MM-DD date")
    }

    /// The rules on an ordinary call date, for the tests that are not about periods.
    fn verify(claim: &Claim, member: Option<&RegistryMember>) -> Verification {
        super::verify(claim, member, day("2026-11-20"))
    }

    fn tokyo() -> PrefectureCode {
        PrefectureCode::parse("13").expect("13")
    }

    fn claim(member: &str, institution: &str, address: &str, prefecture: &str) -> Claim {
        Claim {
            member_name: Name::parse("member_name", member).expect("valid name"),
            institution_name: Name::parse("institution.name", institution).expect("valid name"),
            institution_address: crate::text::clean_text(address),
            prefecture: PrefectureCode::parse(prefecture).expect("valid prefecture"),
            identifier: Identifier::parse(IdentifierKind::RegistrationNumber, "123456")
                .expect("valid number"),
        }
    }

    fn honkomagome() -> RegistryInstitution {
        RegistryInstitution {
            id: uuid(10),
            name: "本駒込クリニック".to_owned(),
            prefecture: tokyo(),
            address: "東京都文京区本駒込2-28-16".to_owned(),
            ends_on: None,
        }
    }

    fn member(class: MemberClass, institutions: Vec<RegistryInstitution>) -> RegistryMember {
        RegistryMember {
            id: uuid(1),
            name: "山田 太郎".to_owned(),
            kana: Some("ヤマダ タロウ".to_owned()),
            member_class: class,
            institutions,
            periods: vec![MembershipPeriod::OPEN],
        }
    }

    fn exact_claim() -> Claim {
        claim("山田 太郎", "本駒込クリニック", "東京都文京区本駒込2-28-16", "13")
    }

    fn assert_verified(verification: &Verification) {
        assert_eq!(
            verification,
            &Verification {
                outcome: VerificationOutcome::Verified,
                member_id: Some(uuid(1)),
                institution_id: Some(uuid(10)),
                mismatches: vec![],
                ineligible_reason: None,
            }
        );
    }

    #[test]
    fn exact_claim_is_verified() {
        assert_verified(&verify(&exact_claim(), Some(&member(MemberClass::A1, vec![honkomagome()]))));
    }

    #[test]
    fn claim_in_full_width_with_ideographic_spaces_is_verified() {
        let claim =
            claim("山田\u{3000}太郎", "本駒込　クリニック", "東京都文京区本駒込２－２８－１６", "１３");
        assert_verified(&verify(&claim, Some(&member(MemberClass::A1, vec![honkomagome()]))));
    }

    #[test]
    fn member_name_given_as_its_kana_reading_is_verified_in_any_kana() {
        let registry = member(MemberClass::A1, vec![honkomagome()]);
        for name in ["ヤマダ タロウ", "ﾔﾏﾀﾞ ﾀﾛｳ", "やまだ たろう", "ヤマダタロウ"]
        {
            let claim = claim(name, "本駒込クリニック", "東京都文京区本駒込2-28-16", "13");
            assert_verified(&verify(&claim, Some(&registry)));
        }
    }

    #[test]
    fn institution_name_in_half_width_kana_is_verified() {
        let mut institution = honkomagome();
        institution.name = "サクラ病院".to_owned();
        let claim = claim("山田太郎", "ｻｸﾗ病院", "東京都文京区本駒込2-28-16", "13");
        assert_verified(&verify(&claim, Some(&member(MemberClass::A1, vec![institution]))));
    }

    #[test]
    fn address_without_the_prefecture_and_with_chome_ban_go_is_verified() {
        let claim = claim("山田太郎", "本駒込クリニック", "文京区本駒込2丁目28番16号", "13");
        assert_verified(&verify(&claim, Some(&member(MemberClass::A1, vec![honkomagome()]))));
    }

    #[test]
    fn registry_address_without_the_prefecture_matches_a_claim_with_it() {
        let mut institution = honkomagome();
        institution.address = "文京区本駒込二丁目28番16号".to_owned();
        let claim = claim("山田太郎", "本駒込クリニック", "東京都文京区本駒込二丁目28-16", "13");
        assert_verified(&verify(&claim, Some(&member(MemberClass::A1, vec![institution]))));
    }

    #[test]
    fn wrong_member_name_is_a_mismatch_on_member_name_only() {
        let claim = claim("山田 次郎", "本駒込クリニック", "東京都文京区本駒込2-28-16", "13");
        let verification = verify(&claim, Some(&member(MemberClass::A1, vec![honkomagome()])));
        assert_eq!(verification.outcome, VerificationOutcome::Mismatch);
        assert_eq!(verification.mismatches, vec![ClaimField::MemberName]);
        assert_eq!(verification.member_id, Some(uuid(1)));
        assert_eq!(verification.institution_id, Some(uuid(10)));
    }

    #[test]
    fn member_without_a_registered_reading_is_matched_on_the_name_only() {
        let mut registry = member(MemberClass::A1, vec![honkomagome()]);
        registry.kana = None;
        let claim = claim("ヤマダ タロウ", "本駒込クリニック", "東京都文京区本駒込2-28-16", "13");
        assert_eq!(verify(&claim, Some(&registry)).mismatches, vec![ClaimField::MemberName]);
    }

    #[test]
    fn wrong_institution_name_is_a_mismatch_on_institution_name_only() {
        let claim = claim("山田太郎", "駒込病院", "東京都文京区本駒込2-28-16", "13");
        let verification = verify(&claim, Some(&member(MemberClass::A1, vec![honkomagome()])));
        assert_eq!(verification.outcome, VerificationOutcome::Mismatch);
        assert_eq!(verification.mismatches, vec![ClaimField::InstitutionName]);
    }

    #[test]
    fn wrong_address_is_a_mismatch_on_address_only() {
        let claim = claim("山田太郎", "本駒込クリニック", "東京都文京区本駒込2-28-17", "13");
        let verification = verify(&claim, Some(&member(MemberClass::A1, vec![honkomagome()])));
        assert_eq!(verification.outcome, VerificationOutcome::Mismatch);
        assert_eq!(verification.mismatches, vec![ClaimField::InstitutionAddress]);
    }

    #[test]
    fn wrong_prefecture_is_a_mismatch_on_prefecture_only() {
        let claim = claim("山田太郎", "本駒込クリニック", "東京都文京区本駒込2-28-16", "11");
        let verification = verify(&claim, Some(&member(MemberClass::A1, vec![honkomagome()])));
        assert_eq!(verification.outcome, VerificationOutcome::Mismatch);
        assert_eq!(verification.mismatches, vec![ClaimField::Prefecture]);
    }

    #[test]
    fn several_wrong_details_are_all_listed_in_field_order() {
        let claim = claim("鈴木一郎", "駒込病院", "埼玉県さいたま市浦和区1-1-1", "11");
        let verification = verify(&claim, Some(&member(MemberClass::A1, vec![honkomagome()])));
        assert_eq!(verification.outcome, VerificationOutcome::Mismatch);
        assert_eq!(
            verification.mismatches,
            vec![
                ClaimField::MemberName,
                ClaimField::InstitutionName,
                ClaimField::InstitutionAddress,
                ClaimField::Prefecture
            ]
        );
        assert_eq!(verification.institution_id, Some(uuid(10)));
    }

    #[test]
    fn two_wrong_details_are_listed_without_the_right_ones() {
        let claim = claim("山田太郎", "駒込病院", "東京都文京区本駒込2-28-16", "14");
        let verification = verify(&claim, Some(&member(MemberClass::A1, vec![honkomagome()])));
        assert_eq!(verification.mismatches, vec![ClaimField::InstitutionName, ClaimField::Prefecture]);
    }

    #[test]
    fn unknown_identifier_is_not_found() {
        assert_eq!(
            verify(&exact_claim(), None),
            Verification {
                outcome: VerificationOutcome::NotFound,
                member_id: None,
                institution_id: None,
                mismatches: vec![],
                ineligible_reason: None,
            }
        );
    }

    #[test]
    fn member_of_class_b_is_ineligible_even_when_everything_matches() {
        for class in [MemberClass::A2B, MemberClass::A2C, MemberClass::B, MemberClass::C] {
            let verification = verify(&exact_claim(), Some(&member(class, vec![honkomagome()])));
            assert_eq!(
                verification,
                Verification {
                    outcome: VerificationOutcome::Ineligible,
                    member_id: Some(uuid(1)),
                    institution_id: None,
                    mismatches: vec![],
                    ineligible_reason: Some(IneligibleReason::MemberClass),
                },
                "{}",
                class.as_str()
            );
        }
    }

    #[test]
    fn a1_member_running_no_institution_is_ineligible() {
        let verification = verify(&exact_claim(), Some(&member(MemberClass::A1, vec![])));
        assert_eq!(verification.outcome, VerificationOutcome::Ineligible);
        assert_eq!(verification.member_id, Some(uuid(1)));
        assert_eq!(verification.institution_id, None);
        assert!(verification.mismatches.is_empty());
        assert_eq!(verification.ineligible_reason, Some(IneligibleReason::NoInstitution));
    }

    #[test]
    fn membership_is_judged_on_the_calls_date() {
        let mut registry = member(MemberClass::A1, vec![honkomagome()]);
        registry.periods = vec![MembershipPeriod { starts_on: None, ends_on: Some(day("2026-12-01")) }];
        let before = super::verify(&exact_claim(), Some(&registry), day("2026-11-30"));
        assert_eq!(before.outcome, VerificationOutcome::Verified);
        for after in ["2026-12-01", "2026-12-02"] {
            let verification = super::verify(&exact_claim(), Some(&registry), day(after));
            assert_eq!(verification.outcome, VerificationOutcome::Ineligible, "{after}");
            assert_eq!(verification.ineligible_reason, Some(IneligibleReason::MembershipEnded));
            assert_eq!(verification.member_id, Some(uuid(1)));
        }
    }

    #[test]
    fn a_reopened_membership_covers_its_new_period_but_not_the_gap() {
        let mut registry = member(MemberClass::A1, vec![honkomagome()]);
        registry.periods = vec![
            MembershipPeriod { starts_on: None, ends_on: Some(day("2026-06-01")) },
            MembershipPeriod { starts_on: Some(day("2026-09-01")), ends_on: None },
        ];
        for (date, outcome) in [
            ("2026-05-31", VerificationOutcome::Verified),
            ("2026-06-01", VerificationOutcome::Ineligible),
            ("2026-08-31", VerificationOutcome::Ineligible),
            ("2026-09-01", VerificationOutcome::Verified),
        ] {
            assert_eq!(super::verify(&exact_claim(), Some(&registry), day(date)).outcome, outcome, "{date}");
        }
    }

    #[test]
    fn an_ended_link_does_not_count_from_its_end() {
        let mut ended = honkomagome();
        ended.ends_on = Some(day("2026-12-01"));
        let registry = member(MemberClass::A1, vec![ended]);
        assert_eq!(
            super::verify(&exact_claim(), Some(&registry), day("2026-11-30")).outcome,
            VerificationOutcome::Verified
        );
        let after = super::verify(&exact_claim(), Some(&registry), day("2026-12-01"));
        assert_eq!(after.outcome, VerificationOutcome::Ineligible);
        assert_eq!(after.ineligible_reason, Some(IneligibleReason::NoInstitution));
    }

    #[test]
    fn ineligible_reasons_round_trip() {
        for reason in [
            IneligibleReason::MemberClass,
            IneligibleReason::NoInstitution,
            IneligibleReason::MembershipEnded,
        ] {
            assert_eq!(IneligibleReason::parse(reason.as_str()), Some(reason));
        }
        assert_eq!(IneligibleReason::parse("other"), None);
    }

    #[test]
    fn of_several_institutions_the_one_the_caller_describes_is_chosen() {
        let other = RegistryInstitution {
            id: uuid(20),
            name: "山田医院".to_owned(),
            prefecture: PrefectureCode::parse("27").expect("27"),
            address: "大阪府大阪市北区梅田1-1-1".to_owned(),
            ends_on: None,
        };
        let registry = member(MemberClass::A1, vec![other.clone(), honkomagome()]);
        assert_verified(&verify(&exact_claim(), Some(&registry)));

        let claim = claim("山田太郎", "山田医院", "大阪市北区梅田1丁目1番1号", "27");
        let verification = verify(&claim, Some(&registry));
        assert_eq!(verification.outcome, VerificationOutcome::Verified);
        assert_eq!(verification.institution_id, Some(uuid(20)));
    }

    #[test]
    fn of_several_partly_matching_institutions_the_closest_is_reported() {
        let other = RegistryInstitution {
            id: uuid(20),
            name: "山田医院".to_owned(),
            prefecture: PrefectureCode::parse("27").expect("27"),
            address: "大阪府大阪市北区梅田1-1-1".to_owned(),
            ends_on: None,
        };
        let registry = member(MemberClass::A1, vec![other, honkomagome()]);
        // Right name and prefecture of the Tokyo clinic, wrong house number.
        let claim = claim("山田太郎", "本駒込クリニック", "文京区本駒込2-28-99", "13");
        let verification = verify(&claim, Some(&registry));
        assert_eq!(verification.outcome, VerificationOutcome::Mismatch);
        assert_eq!(verification.institution_id, Some(uuid(10)));
        assert_eq!(verification.mismatches, vec![ClaimField::InstitutionAddress]);
    }

    #[test]
    fn of_equally_close_institutions_the_first_is_reported() {
        let mut twin = honkomagome();
        twin.id = uuid(11);
        let registry = member(MemberClass::A1, vec![honkomagome(), twin]);
        assert_eq!(verify(&exact_claim(), Some(&registry)).institution_id, Some(uuid(10)));
    }

    #[test]
    fn the_identifier_is_not_compared_again() {
        let mut claim = exact_claim();
        claim.identifier = Identifier::Registration(RegistrationNumber::parse("1").expect("valid"));
        assert_verified(&verify(&claim, Some(&member(MemberClass::A1, vec![honkomagome()]))));
    }

    #[test]
    fn member_class_reads_circled_and_parenthesised_forms() {
        assert_eq!(MemberClass::parse("A①"), Ok(MemberClass::A1));
        assert_eq!(MemberClass::parse("A1"), Ok(MemberClass::A1));
        assert_eq!(MemberClass::parse("ａ１"), Ok(MemberClass::A1));
        assert_eq!(MemberClass::parse("A2(B)"), Ok(MemberClass::A2B));
        assert_eq!(MemberClass::parse("A②(B)"), Ok(MemberClass::A2B));
        assert_eq!(MemberClass::parse("Ａ②（Ｃ）"), Ok(MemberClass::A2C));
        assert_eq!(MemberClass::parse("a2c"), Ok(MemberClass::A2C));
        assert_eq!(MemberClass::parse(" B "), Ok(MemberClass::B));
        assert_eq!(MemberClass::parse("c"), Ok(MemberClass::C));
    }

    #[test]
    fn member_class_round_trips_and_unknown_classes_are_refused() {
        for class in [MemberClass::A1, MemberClass::A2B, MemberClass::A2C, MemberClass::B, MemberClass::C] {
            assert_eq!(MemberClass::parse(class.as_str()), Ok(class));
            assert_eq!(class.is_eligible(), class == MemberClass::A1);
        }
        for input in ["", "A", "A2", "A3", "D", "A①B"] {
            let error = MemberClass::parse(input).expect_err(input);
            assert_eq!(error.field, "member_class");
        }
    }

    #[test]
    fn outcome_and_claim_field_round_trip_through_their_names() {
        for outcome in [
            VerificationOutcome::Verified,
            VerificationOutcome::Mismatch,
            VerificationOutcome::NotFound,
            VerificationOutcome::Ineligible,
        ] {
            assert_eq!(VerificationOutcome::parse(outcome.as_str()), Some(outcome));
        }
        assert_eq!(VerificationOutcome::parse("unknown"), None);
        for field in [
            ClaimField::MemberName,
            ClaimField::InstitutionName,
            ClaimField::InstitutionAddress,
            ClaimField::Prefecture,
        ] {
            assert_eq!(ClaimField::parse(field.as_str()), Some(field));
        }
        assert_eq!(ClaimField::parse("phone"), None);
    }
}

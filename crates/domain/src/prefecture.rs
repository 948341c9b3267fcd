//! Prefectures by JIS X 0401 code (01 北海道 … 47 沖縄県). The police handoff goes to the desk of the
//! institution's prefecture, so the code is a typed value rather than free text.

use std::fmt;

use crate::FieldError;

/// (code, Japanese name, English name) for the 47 prefectures, from JIS X 0401.
pub const PREFECTURES: [(&str, &str, &str); 47] = [
    ("01", "北海道", "Hokkaido"),
    ("02", "青森県", "Aomori"),
    ("03", "岩手県", "Iwate"),
    ("04", "宮城県", "Miyagi"),
    ("05", "秋田県", "Akita"),
    ("06", "山形県", "Yamagata"),
    ("07", "福島県", "Fukushima"),
    ("08", "茨城県", "Ibaraki"),
    ("09", "栃木県", "Tochigi"),
    ("10", "群馬県", "Gunma"),
    ("11", "埼玉県", "Saitama"),
    ("12", "千葉県", "Chiba"),
    ("13", "東京都", "Tokyo"),
    ("14", "神奈川県", "Kanagawa"),
    ("15", "新潟県", "Niigata"),
    ("16", "富山県", "Toyama"),
    ("17", "石川県", "Ishikawa"),
    ("18", "福井県", "Fukui"),
    ("19", "山梨県", "Yamanashi"),
    ("20", "長野県", "Nagano"),
    ("21", "岐阜県", "Gifu"),
    ("22", "静岡県", "Shizuoka"),
    ("23", "愛知県", "Aichi"),
    ("24", "三重県", "Mie"),
    ("25", "滋賀県", "Shiga"),
    ("26", "京都府", "Kyoto"),
    ("27", "大阪府", "Osaka"),
    ("28", "兵庫県", "Hyogo"),
    ("29", "奈良県", "Nara"),
    ("30", "和歌山県", "Wakayama"),
    ("31", "鳥取県", "Tottori"),
    ("32", "島根県", "Shimane"),
    ("33", "岡山県", "Okayama"),
    ("34", "広島県", "Hiroshima"),
    ("35", "山口県", "Yamaguchi"),
    ("36", "徳島県", "Tokushima"),
    ("37", "香川県", "Kagawa"),
    ("38", "愛媛県", "Ehime"),
    ("39", "高知県", "Kochi"),
    ("40", "福岡県", "Fukuoka"),
    ("41", "佐賀県", "Saga"),
    ("42", "長崎県", "Nagasaki"),
    ("43", "熊本県", "Kumamoto"),
    ("44", "大分県", "Oita"),
    ("45", "宮崎県", "Miyazaki"),
    ("46", "鹿児島県", "Kagoshima"),
    ("47", "沖縄県", "Okinawa"),
];

/// A prefecture, valid by construction (1–47).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PrefectureCode(u8);

impl PrefectureCode {
    /// Parses "13", "01", "1" or full-width "１３"; anything outside 01–47 is refused with the range.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let digits = crate::text::clean_text(input);
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(out_of_range(&format!("{digits:?}")));
        }
        match digits.parse::<u8>() {
            Ok(number) => Self::from_number(number),
            Err(_) => Err(out_of_range(&digits)),
        }
    }

    /// Builds a code from its number.
    pub fn from_number(number: u8) -> Result<Self, FieldError> {
        if (1..=47).contains(&number) { Ok(Self(number)) } else { Err(out_of_range(&number.to_string())) }
    }

    /// Two-digit code, as stored and shown.
    pub fn code(self) -> String {
        format!("{:02}", self.0)
    }

    /// Japanese name, e.g. 東京都.
    pub fn name_ja(self) -> &'static str {
        PREFECTURES[usize::from(self.0) - 1].1
    }

    /// English name, e.g. Tokyo.
    pub fn name_en(self) -> &'static str {
        PREFECTURES[usize::from(self.0) - 1].2
    }

    /// All prefectures in code order, for reference rows.
    pub fn all() -> impl Iterator<Item = PrefectureCode> {
        (1..=47).map(PrefectureCode)
    }
}

/// The one message for every refused prefecture, so clients see the valid range whatever went wrong.
fn out_of_range(got: &str) -> FieldError {
    FieldError::new("prefecture", format!("prefecture must be 01–47, got {got}"))
}

impl fmt::Display for PrefectureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(input: &str) -> String {
        PrefectureCode::parse(input).expect("a valid prefecture").code()
    }

    #[test]
    fn every_code_from_01_to_47_is_accepted() {
        for number in 1..=47u8 {
            let written = format!("{number:02}");
            assert_eq!(code(&written), written);
        }
    }

    #[test]
    fn single_digit_full_width_and_padded_codes_are_accepted() {
        assert_eq!(code("1"), "01");
        assert_eq!(code("01"), "01");
        assert_eq!(code("１３"), "13");
        assert_eq!(code("０１"), "01");
        assert_eq!(code(" 47 "), "47");
    }

    #[test]
    fn code_48_is_refused_naming_the_range() {
        let error = PrefectureCode::parse("48").expect_err("48");
        assert_eq!(error, FieldError::new("prefecture", "prefecture must be 01–47, got 48"));
    }

    #[test]
    fn code_0_is_refused_naming_what_was_given() {
        let error = PrefectureCode::parse("0").expect_err("0");
        assert_eq!(error.detail, "prefecture must be 01–47, got 0");
        let error = PrefectureCode::parse("00").expect_err("00");
        assert_eq!(error.detail, "prefecture must be 01–47, got 0");
    }

    #[test]
    fn non_numeric_and_huge_codes_are_refused_naming_the_range() {
        let error = PrefectureCode::parse("abc").expect_err("abc");
        assert_eq!(error.field, "prefecture");
        assert_eq!(error.detail, "prefecture must be 01–47, got \"abc\"");
        let error = PrefectureCode::parse("").expect_err("empty");
        assert_eq!(error.detail, "prefecture must be 01–47, got \"\"");
        let error = PrefectureCode::parse("300").expect_err("300");
        assert_eq!(error.detail, "prefecture must be 01–47, got 300");
        assert!(PrefectureCode::parse("-13").is_err());
        assert!(PrefectureCode::parse("1 3").is_err());
        assert!(PrefectureCode::parse("13.0").is_err());
    }

    #[test]
    fn from_number_checks_the_range() {
        assert_eq!(PrefectureCode::from_number(13).expect("13").name_ja(), "東京都");
        assert!(PrefectureCode::from_number(0).is_err());
        assert!(PrefectureCode::from_number(48).is_err());
        assert!(PrefectureCode::from_number(u8::MAX).is_err());
    }

    #[test]
    fn names_of_known_prefectures() {
        let tokyo = PrefectureCode::parse("13").expect("13");
        assert_eq!((tokyo.name_ja(), tokyo.name_en()), ("東京都", "Tokyo"));
        let hokkaido = PrefectureCode::parse("01").expect("01");
        assert_eq!((hokkaido.name_ja(), hokkaido.name_en()), ("北海道", "Hokkaido"));
        let okinawa = PrefectureCode::parse("47").expect("47");
        assert_eq!((okinawa.name_ja(), okinawa.name_en()), ("沖縄県", "Okinawa"));
        assert_eq!(PrefectureCode::parse("26").expect("26").name_ja(), "京都府");
        assert_eq!(PrefectureCode::parse("27").expect("27").name_ja(), "大阪府");
    }

    #[test]
    fn names_match_the_shared_prefecture_table() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/prefectures.tsv");
        let Ok(table) = std::fs::read_to_string(&path) else {
            // The shared table lives outside the repository; the known names are checked above.
            return;
        };
        let rows: Vec<Vec<&str>> =
            table.lines().skip(1).filter(|l| !l.trim().is_empty()).map(|l| l.split('\t').collect()).collect();
        assert_eq!(rows.len(), 47, "the table lists every prefecture");
        for row in &rows {
            let prefecture = PrefectureCode::parse(row[0]).expect("the table's code is valid");
            assert_eq!(prefecture.code(), row[0]);
            assert_eq!(prefecture.name_ja(), row[1].trim(), "name of {}", row[0]);
            if let Some(english) = row.get(2) {
                assert_eq!(prefecture.name_en(), english.trim(), "English name of {}", row[0]);
            }
        }
        for wanted in ["01", "13", "47"] {
            assert!(rows.iter().any(|row| row[0] == wanted), "{wanted} is in the table");
        }
    }

    #[test]
    fn all_lists_47_prefectures_in_code_order() {
        let all: Vec<PrefectureCode> = PrefectureCode::all().collect();
        assert_eq!(all.len(), 47);
        assert_eq!(all[0].code(), "01");
        assert_eq!(all[46].code(), "47");
        assert!(all.windows(2).all(|pair| pair[0] < pair[1]));
        for (prefecture, (code, _, _)) in all.iter().zip(PREFECTURES) {
            assert_eq!(prefecture.code(), code);
        }
    }

    #[test]
    fn display_is_the_two_digit_code() {
        assert_eq!(PrefectureCode::parse("1").expect("1").to_string(), "01");
    }
}

//! Which characters a text the service stores or searches may hold, the same for every field on both
//! databases. PostgreSQL refuses NUL in text outright (the write failed with a 500) while SQLite stores
//! it (and C-string tools then cut the value short); other control characters are invisible on the
//! desk's screen, move the cursor or ring bells in terminals, break CSV exports, e-mails and log lines,
//! and make two names that look the same compare different. So they are refused at the boundary, with
//! the field named, instead of being stored as given.
//!
//! | kind | accepts | refuses |
//! | --- | --- | --- |
//! | [`TextKind::SingleLine`] (names, addresses, numbers, codes, search text…) | every Unicode scalar value except those refused | C0 controls U+0000–U+001F (TAB, LF and CR included), DEL U+007F, C1 controls U+0080–U+009F, LINE SEPARATOR U+2028, PARAGRAPH SEPARATOR U+2029, noncharacters |
//! | [`TextKind::FreeText`] (summaries, notes, reasons) | the same, plus TAB, LF, CR, U+2028 and U+2029 | the other C0 controls, DEL, C1 controls, noncharacters |
//!
//! Noncharacters (U+FDD0–U+FDEF and the last two code points of every plane, U+FFFE, U+FFFF, U+1FFFE…)
//! are reserved by Unicode for a program's internal use and never typed by people; other systems (XML,
//! some mail software) refuse them. Private-use characters stay allowed: institutions' systems use them
//! for 外字 (characters of names missing from the standard). Format characters such as the zero-width
//! joiner stay allowed: emoji sequences and some scripts need them. Lone surrogates cannot reach this
//! check: a Rust string cannot hold them, and the readers answer 400 for them and for invalid UTF-8.

use crate::FieldError;

/// The rule for [`TextKind::SingleLine`] as an ECMA-262 regular expression, for the `pattern` of string
/// schemas in the OpenAPI document. It covers the noncharacters of the Basic Multilingual Plane only: a
/// character class cannot name the others the same way in every regex dialect.
pub const SINGLE_LINE_PATTERN: &str =
    r"^[^\u0000-\u001F\u007F-\u009F\u2028\u2029\uFDD0-\uFDEF\uFFFE\uFFFF]*$";

/// The rule for [`TextKind::FreeText`] as an ECMA-262 regular expression (see [`SINGLE_LINE_PATTERN`]).
pub const FREE_TEXT_PATTERN: &str =
    r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFDD0-\uFDEF\uFFFE\uFFFF]*$";

/// What a text field is for, which decides the characters it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// One line: names, addresses, phone and registration numbers, codes, e-mail addresses, search text.
    SingleLine,
    /// Text people write for people, where line breaks and tabs carry meaning: summaries, notes, reasons.
    FreeText,
}

impl TextKind {
    /// Whether `c` may appear in a field of this kind.
    pub fn allows(self, c: char) -> bool {
        let line_break_or_tab = matches!(c, '\t' | '\n' | '\r' | '\u{2028}' | '\u{2029}');
        if line_break_or_tab {
            return self == TextKind::FreeText;
        }
        !(c.is_control() || is_noncharacter(c))
    }

    /// The first character `value` may not hold, with its 1-based position in characters.
    pub fn first_refused(self, value: &str) -> Option<(usize, char)> {
        value.chars().enumerate().find(|&(_, c)| !self.allows(c)).map(|(index, c)| (index + 1, c))
    }

    /// Refuses `value` for `field` when it holds a character this kind does not accept, saying which
    /// and where, so the operator can find an invisible character in a pasted text.
    pub fn check(self, field: &str, value: &str) -> Result<(), FieldError> {
        match self.first_refused(value) {
            None => Ok(()),
            Some((position, c)) => Err(FieldError::new(
                field,
                format!(
                    "{field} must not contain {}; found {} at character {position}",
                    match self {
                        TextKind::SingleLine => "control characters, line breaks, tabs or noncharacters",
                        TextKind::FreeText =>
                            "control characters other than tabs and line breaks, or noncharacters",
                    },
                    describe(c)
                ),
            )),
        }
    }
}

/// Unicode noncharacters: U+FDD0–U+FDEF and U+xFFFE, U+xFFFF of every plane.
fn is_noncharacter(c: char) -> bool {
    let code = u32::from(c);
    (0xFDD0..=0xFDEF).contains(&code) || code & 0xFFFE == 0xFFFE
}

/// `U+0000 (NUL)`: the code point, and the common name of the characters people meet in pasted text.
fn describe(c: char) -> String {
    let name = match c {
        '\0' => " (NUL)",
        '\t' => " (TAB)",
        '\n' => " (LINE FEED)",
        '\r' => " (CARRIAGE RETURN)",
        '\u{1b}' => " (ESCAPE)",
        '\u{7f}' => " (DELETE)",
        '\u{85}' => " (NEXT LINE)",
        '\u{2028}' => " (LINE SEPARATOR)",
        '\u{2029}' => " (PARAGRAPH SEPARATOR)",
        _ if is_noncharacter(c) => " (a noncharacter)",
        _ => "",
    };
    format!("U+{:04X}{name}", u32::from(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FREE_ONLY: [char; 5] = ['\t', '\n', '\r', '\u{2028}', '\u{2029}'];

    #[test]
    fn every_c0_and_c1_control_and_del_is_refused_in_single_line_text() {
        for code in (0x00..=0x1F).chain([0x7F]).chain(0x80..=0x9F) {
            let c = char::from_u32(code).expect("a scalar value");
            assert!(!TextKind::SingleLine.allows(c), "U+{code:04X}");
        }
    }

    #[test]
    fn free_text_accepts_tab_and_line_breaks_and_refuses_the_other_controls() {
        for c in FREE_ONLY {
            assert!(TextKind::FreeText.allows(c), "{c:?}");
            assert!(!TextKind::SingleLine.allows(c), "{c:?}");
        }
        for code in (0x00..=0x08).chain([0x0B, 0x0C]).chain(0x0E..=0x1F).chain([0x7F]).chain(0x80..=0x9F) {
            let c = char::from_u32(code).expect("a scalar value");
            assert!(!TextKind::FreeText.allows(c), "U+{code:04X}");
        }
    }

    #[test]
    fn noncharacters_are_refused_in_both_kinds() {
        for c in ['\u{FDD0}', '\u{FDEF}', '\u{FFFE}', '\u{FFFF}', '\u{1FFFE}', '\u{10FFFF}'] {
            assert!(!TextKind::SingleLine.allows(c), "{c:?}");
            assert!(!TextKind::FreeText.allows(c), "{c:?}");
        }
        for c in ['\u{FDCF}', '\u{FDF0}', '\u{FFFD}', '\u{1FFFD}'] {
            assert!(TextKind::SingleLine.allows(c), "{c:?} is an ordinary character");
        }
    }

    #[test]
    fn japanese_text_emoji_private_use_and_format_characters_are_accepted() {
        for text in [
            "山田\u{3000}太郎",
            "ｻｸﾗ病院（本院）",
            "東京都文京区本駒込２－２８－１６",
            "髙橋 \u{E000}",
            "👩\u{200D}⚕️",
            "\u{FEFF}bom",
            "a\u{A0}b",
        ] {
            assert_eq!(TextKind::SingleLine.check("name", text), Ok(()), "{text:?}");
            assert_eq!(TextKind::FreeText.check("summary", text), Ok(()), "{text:?}");
        }
    }

    #[test]
    fn the_error_names_the_field_the_character_and_its_position() {
        let error = TextKind::SingleLine.check("caller_name", "A\u{0}B").expect_err("NUL");
        assert_eq!(error.field, "caller_name");
        assert!(error.detail.contains("U+0000 (NUL) at character 2"), "{}", error.detail);
        let error = TextKind::FreeText.check("summary", "一行目\n二行目\u{1b}[31m").expect_err("ESC");
        assert!(error.detail.contains("U+001B (ESCAPE) at character 8"), "{}", error.detail);
        assert!(error.detail.contains("other than tabs and line breaks"), "{}", error.detail);
        let error = TextKind::SingleLine.check("member_name", "山田\t太郎").expect_err("TAB");
        assert!(error.detail.contains("U+0009 (TAB) at character 3"), "{}", error.detail);
    }

    #[test]
    fn first_refused_counts_characters_not_bytes() {
        assert_eq!(TextKind::SingleLine.first_refused("あいう\u{85}"), Some((4, '\u{85}')));
        assert_eq!(TextKind::FreeText.first_refused("あ\r\nい\tう"), None);
        assert_eq!(TextKind::SingleLine.first_refused(""), None);
    }
}

//! Normalisation of what operators type while a caller dictates: full-width digits, stray spaces and
//! the many dash characters of Japanese text must not make a registered member look unknown.

use unicode_normalization::UnicodeNormalization;

use crate::characters::TextKind;

/// Characters callers and registries use as separators inside numbers and addresses.
const DASHES: &[char] = &[
    '-', '\u{2010}', '\u{2011}', '\u{2012}', '\u{2013}', '\u{2014}', '\u{2015}', '\u{2212}', '\u{30FC}',
    '\u{FF0D}', '\u{FF70}', '\u{FE63}',
];

/// NFKC and trimmed, with inner runs of white space collapsed to one space: the form we store free text in.
pub fn clean_text(input: &str) -> String {
    let nfkc: String = input.nfkc().collect();
    nfkc.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The digits of a number as dictated: NFKC (full-width to ASCII), spaces and dashes removed.
/// Returns the remaining string; callers check that only digits are left.
pub fn strip_number(input: &str) -> String {
    input.nfkc().filter(|c| !c.is_whitespace() && !DASHES.contains(c)).collect()
}

/// Replaces every dash variant (including the katakana prolonged sound mark a Japanese IME types for
/// `-`) with an ASCII hyphen.
pub(crate) fn unify_dashes(input: &str) -> String {
    input.chars().map(|c| if DASHES.contains(&c) { '-' } else { c }).collect()
}

/// A comparison key for names: NFKC, lower case, hiragana read as katakana, no white space at all.
/// "山田　太郎" and "山田太郎" match, and so do "やまだ" and "ヤマダ": over the phone an operator hears the
/// reading, not the script it is registered in.
pub fn match_key(input: &str) -> String {
    input
        .nfkc()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .map(hiragana_to_katakana)
        .collect()
}

/// Hiragana ぁ–ゖ and the iteration marks ゝゞ map to their katakana forms; everything else is kept.
fn hiragana_to_katakana(c: char) -> char {
    match c {
        '\u{3041}'..='\u{3096}' | '\u{309D}'..='\u{309E}' => char::from_u32(u32::from(c) + 0x60).unwrap_or(c),
        _ => c,
    }
}

/// A comparison key for addresses: like [`match_key`], with every dash unified and the Japanese block
/// markers 丁目/番地/番/号 read as separators, so "本駒込2丁目28番16号" matches "本駒込2-28-16".
pub fn address_key(input: &str) -> String {
    let mut unified = unify_dashes(&match_key(input));
    for marker in ["丁目", "番地", "番", "号"] {
        unified = unified.replace(marker, "-");
    }
    let mut out = String::with_capacity(unified.len());
    for c in unified.chars() {
        if c == '-' && out.ends_with('-') {
            continue;
        }
        out.push(c);
    }
    out.trim_end_matches('-').to_owned()
}

/// Escapes `%`, `_` and `\` so user text can be used inside a SQL LIKE pattern with `ESCAPE '\'`.
pub fn escape_like(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for c in input.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Multi-line notes as the operator wrote them: characters kept as given (no NFKC, so "①" stays a
/// circled one), line endings unified to `\n`, trailing white space of each line and white space at
/// either end dropped. Notes are read by people, so their line breaks carry meaning.
pub fn clean_notes(input: &str) -> String {
    let unified = input.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = unified.split('\n').map(str::trim_end).collect();
    let text = lines.join("\n");
    text.trim().to_owned()
}

/// Checks the characters (free text: tabs and line breaks allowed) and, after [`clean_notes`], the
/// length of a required notes field.
pub fn required_notes(field: &str, input: &str, max_chars: usize) -> Result<String, crate::FieldError> {
    TextKind::FreeText.check(field, input)?;
    let cleaned = clean_notes(input);
    if cleaned.is_empty() {
        return Err(crate::FieldError::new(field, format!("{field} must not be empty")));
    }
    check_length(field, cleaned, max_chars)
}

fn check_length(field: &str, cleaned: String, max_chars: usize) -> Result<String, crate::FieldError> {
    let count = cleaned.chars().count();
    if count > max_chars {
        return Err(crate::FieldError::new(
            field,
            format!("{field} must be at most {max_chars} characters, got {count}"),
        ));
    }
    Ok(cleaned)
}

/// A required single-line field kept as given (only trimmed): names and addresses are returned exactly
/// as the caller's registry or operator wrote them; comparisons use [`match_key`] and [`address_key`].
/// Control characters, line breaks and tabs inside it are refused ([`TextKind::SingleLine`]).
pub fn required_text(field: &str, input: &str, max_chars: usize) -> Result<String, crate::FieldError> {
    let kept = input.trim().to_owned();
    TextKind::SingleLine.check(field, &kept)?;
    if kept.is_empty() {
        return Err(crate::FieldError::new(field, format!("{field} must not be empty")));
    }
    check_length(field, kept, max_chars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_text_applies_nfkc_to_full_width_and_half_width_kana() {
        assert_eq!(clean_text("ＡＢＣ１２３"), "ABC123");
        assert_eq!(clean_text("ｻｸﾗ病院"), "サクラ病院");
    }

    #[test]
    fn clean_text_trims_and_collapses_inner_white_space_including_ideographic_space() {
        assert_eq!(clean_text("  山田\u{3000}\u{3000}太郎 \t\n"), "山田 太郎");
        assert_eq!(clean_text("\u{3000}文京区  本駒込\u{3000}"), "文京区 本駒込");
        assert_eq!(clean_text("a \n\t b"), "a b");
    }

    #[test]
    fn clean_text_of_only_white_space_is_empty() {
        assert_eq!(clean_text(" \u{3000}\t "), "");
        assert_eq!(clean_text(""), "");
    }

    #[test]
    fn strip_number_turns_full_width_into_ascii_and_drops_spaces_and_dashes() {
        assert_eq!(strip_number("１２３－４５６７"), "1234567");
        assert_eq!(strip_number("12-34 56"), "123456");
        assert_eq!(strip_number("03ー1234−5678"), "0312345678");
        assert_eq!(strip_number("03\u{2010}1234\u{2013}5678"), "0312345678");
        assert_eq!(strip_number("12a"), "12a");
    }

    #[test]
    fn match_key_ignores_all_white_space_width_and_case() {
        assert_eq!(match_key("山田　太郎"), match_key("山田太郎"));
        assert_eq!(match_key(" 山田 太郎 "), "山田太郎");
        assert_eq!(match_key("ＡＢＣ Clinic"), "abcclinic");
    }

    #[test]
    fn match_key_reads_half_width_katakana_and_hiragana_as_katakana() {
        assert_eq!(match_key("ﾔﾏﾀﾞ ﾀﾛｳ"), match_key("ヤマダ タロウ"));
        assert_eq!(match_key("やまだ たろう"), match_key("ヤマダタロウ"));
        assert_eq!(match_key("さくらクリニック"), "サクラクリニック");
    }

    #[test]
    fn match_key_keeps_different_names_apart() {
        assert_ne!(match_key("山田太郎"), match_key("山田次郎"));
        assert_ne!(match_key("やまだ"), match_key("やまざき"));
    }

    #[test]
    fn address_key_reads_chome_ban_go_as_the_dashed_form() {
        assert_eq!(
            address_key("東京都文京区本駒込2丁目28番16号"),
            address_key("東京都文京区本駒込２−２８−１６")
        );
        assert_eq!(address_key("東京都文京区本駒込2丁目28番16号"), "東京都文京区本駒込2-28-16");
    }

    #[test]
    fn address_key_unifies_every_dash_and_ignores_spaces() {
        let expected = "文京区本駒込2-28-16";
        for written in [
            "文京区本駒込2-28-16",
            "文京区 本駒込 2‐28‐16",
            "文京区本駒込２ー２８ー１６",
            "文京区本駒込2―28―16",
            "文京区本駒込2－28－16",
            "文京区本駒込2丁目28番地16",
            "文京区本駒込2丁目28-16",
            "文京区本駒込2--28--16-",
        ] {
            assert_eq!(address_key(written), expected, "{written}");
        }
    }

    #[test]
    fn address_key_keeps_different_addresses_apart() {
        assert_ne!(address_key("文京区本駒込2丁目28番16号"), address_key("文京区本駒込2丁目28番17号"));
        assert_ne!(address_key("文京区本駒込2-28-16"), address_key("文京区本駒込22-8-16"));
    }

    #[test]
    fn escape_like_escapes_percent_underscore_and_backslash() {
        assert_eq!(escape_like("100%_a\\b"), "100\\%\\_a\\\\b");
        assert_eq!(escape_like("山田"), "山田");
        assert_eq!(escape_like(""), "");
    }

    #[test]
    fn required_text_trims_keeps_the_rest_and_counts_characters_not_bytes() {
        assert_eq!(required_text("name", " 山田\u{3000}太郎 ", 5), Ok("山田\u{3000}太郎".to_owned()));
        let error = required_text("name", "山田太郎病院", 5).expect_err("six characters are too many");
        assert_eq!(error.field, "name");
        assert_eq!(error.detail, "name must be at most 5 characters, got 6");
    }

    #[test]
    fn required_text_refuses_control_characters_and_inner_line_breaks() {
        for input in ["山田\u{0}太郎", "山田\n太郎", "山田\t太郎", "\u{7f}"] {
            let error = required_text("member_name", input, 100).expect_err(input);
            assert_eq!(error.field, "member_name");
        }
        assert_eq!(required_text("member_name", " 山田太郎\n", 100), Ok("山田太郎".to_owned()));
    }

    #[test]
    fn required_notes_keeps_tabs_and_line_breaks_and_refuses_other_controls() {
        assert_eq!(required_notes("summary", "a\tb\r\nc", 100), Ok("a\tb\nc".to_owned()));
        assert_eq!(required_notes("summary", "a\u{0}b", 100).expect_err("NUL").field, "summary");
        assert_eq!(required_notes("summary", "a\u{9b}b", 100).expect_err("CSI").field, "summary");
    }

    #[test]
    fn required_text_refuses_blank_input() {
        let error = required_text("summary", " \u{3000} ", 10).expect_err("blank");
        assert_eq!(error, crate::FieldError::new("summary", "summary must not be empty"));
    }

    #[test]
    fn clean_notes_keeps_characters_and_line_breaks_as_written() {
        let notes = "\r\n  ①ＰＣが起動しない  \r\n②　身代金要求の画面\r\n\r\n③ 院長に報告済み\n\n \n";
        assert_eq!(clean_notes(notes), "①ＰＣが起動しない\n②　身代金要求の画面\n\n③ 院長に報告済み");
        assert_eq!(clean_notes("a\rb"), "a\nb");
    }

    #[test]
    fn required_notes_refuses_blank_and_too_long_notes() {
        assert_eq!(
            required_notes("summary", " \n\u{3000}\n ", 10).expect_err("blank").detail,
            "summary must not be empty"
        );
        assert_eq!(
            required_notes("summary", "あ\nいう", 3).expect_err("too long").detail,
            "summary must be at most 3 characters, got 4"
        );
        assert_eq!(required_notes("summary", "あ\r\nい", 3), Ok("あ\nい".to_owned()));
    }

    #[test]
    fn unify_dashes_maps_ime_prolonged_sound_mark_to_hyphen() {
        assert_eq!(unify_dashes("HLー2026−000123"), "HL-2026-000123");
    }
}

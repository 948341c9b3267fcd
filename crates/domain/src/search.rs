//! What an operator's registry search means: which identifiers it could be, which normalised keys it is
//! compared with, and whether it is long enough for the trigram index. Storage turns this into index
//! look-ups; the ranking it implements is exact identifier, then prefix of a key, then substring.

use crate::identifiers::{MEMBER_NUMBER_DIGITS, REGISTRATION_NUMBER_MAX_DIGITS};
use crate::text::{address_key, match_key, strip_number};

/// Shortest text a trigram index can find anywhere inside a key. Shorter queries only match the start
/// of a key (a range of a B-tree index), so that one or two characters never scan the roster.
pub const TRIGRAM: usize = 3;

/// The keys one member–institution link is found by: name, kana and institution name as compared in
/// verification ([`match_key`]), the address with its block markers unified ([`address_key`]), and the
/// phone's digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchKeys {
    /// The member's name.
    pub name: String,
    /// The member's kana, empty when unknown.
    pub kana: String,
    /// The institution's name.
    pub institution_name: String,
    /// The institution's address.
    pub address: String,
    /// The institution's phone, digits only.
    pub phone: String,
}

impl SearchKeys {
    /// The keys of a member and one of their institutions, as stored.
    pub fn of(name: &str, kana: Option<&str>, institution_name: &str, address: &str, phone: &str) -> Self {
        SearchKeys {
            name: match_key(name),
            kana: kana.map(match_key).unwrap_or_default(),
            institution_name: match_key(institution_name),
            address: address_key(address),
            phone: strip_number(phone),
        }
    }
}

/// A search as the registry index answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchQuery {
    /// Only digits (after removing spaces and dashes, full width accepted): an identifier or a phone.
    Digits {
        /// The digits, e.g. a member number, medical institution code or phone.
        digits: String,
        /// The registration number the digits may be: at most 6 digits once leading zeros are dropped,
        /// and never a 10-digit member number ("0000034567" is not registration number 34567).
        registration_number: Option<String>,
        /// Whether phones are also searched for the digits anywhere (long enough for trigrams).
        phone_substring: bool,
    },
    /// Text: names, kana, institution names and addresses.
    Text {
        /// The query as a name key ([`match_key`]).
        key: String,
        /// The query as an address key ([`address_key`]); `None` when too short to find anywhere.
        address_key: Option<String>,
        /// Fewer than [`TRIGRAM`] characters: only the start of a name, kana or institution name.
        prefix_only: bool,
    },
}

impl SearchQuery {
    /// Reads the operator's text (already trimmed and NFKC-cleaned); `None` when nothing is left to
    /// search for.
    pub fn parse(text: &str) -> Option<SearchQuery> {
        let digits = strip_number(text);
        if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
            let trimmed = digits.trim_start_matches('0');
            let registration_number = (digits.len() != MEMBER_NUMBER_DIGITS
                && !trimmed.is_empty()
                && trimmed.len() <= REGISTRATION_NUMBER_MAX_DIGITS)
                .then(|| trimmed.to_owned());
            let phone_substring = digits.len() >= TRIGRAM;
            return Some(SearchQuery::Digits { digits, registration_number, phone_substring });
        }
        let key = match_key(text);
        if key.is_empty() {
            return None;
        }
        let prefix_only = key.chars().count() < TRIGRAM;
        let address = address_key(text);
        let address_key = (!prefix_only && address.chars().count() >= TRIGRAM).then_some(address);
        Some(SearchQuery::Text { key, address_key, prefix_only })
    }
}

/// The smallest string greater than every string that starts with `prefix`, so that
/// `prefix <= key < prefix_end(prefix)` is a prefix match as a range of an index ordered by code point
/// (SQLite's BINARY collation, PostgreSQL's `COLLATE "C"`). `None` when no such bound exists.
pub fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        // The next scalar value, stepping over the surrogate gap.
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_normalised_like_verification() {
        let keys = SearchKeys::of(
            "山田　太郎",
            Some("やまだ たろう"),
            "本駒込ｸﾘﾆｯｸ",
            "本駒込2丁目28番16号",
            "03-3946-2121",
        );
        assert_eq!(keys.name, "山田太郎");
        assert_eq!(keys.kana, "ヤマダタロウ");
        assert_eq!(keys.institution_name, "本駒込クリニック");
        assert_eq!(keys.address, "本駒込2-28-16");
        assert_eq!(keys.phone, "0339462121");
        assert_eq!(SearchKeys::of("a", None, "b", "c", "0").kana, "");
    }

    #[test]
    fn digits_are_identifiers_and_long_enough_digits_also_search_phones() {
        assert_eq!(
            SearchQuery::parse("0123456"),
            Some(SearchQuery::Digits {
                digits: "0123456".into(),
                registration_number: Some("123456".into()),
                phone_substring: true,
            })
        );
        let Some(SearchQuery::Digits { registration_number, .. }) = SearchQuery::parse("0000034567") else {
            panic!("digits");
        };
        assert_eq!(registration_number, None, "10 digits are a member number");
        let Some(SearchQuery::Digits { phone_substring, .. }) = SearchQuery::parse("１２") else {
            panic!("digits");
        };
        assert!(!phone_substring, "two digits are below trigram length");
        let Some(SearchQuery::Digits { registration_number, .. }) = SearchQuery::parse("000") else {
            panic!("digits");
        };
        assert_eq!(registration_number, None, "no registration number is all zeros");
    }

    #[test]
    fn short_text_matches_prefixes_only_and_long_text_anywhere() {
        assert_eq!(
            SearchQuery::parse("山田"),
            Some(SearchQuery::Text { key: "山田".into(), address_key: None, prefix_only: true })
        );
        assert_eq!(
            SearchQuery::parse("やまだ"),
            Some(SearchQuery::Text {
                key: "ヤマダ".into(),
                address_key: Some("ヤマダ".into()),
                prefix_only: false,
            })
        );
        let Some(SearchQuery::Text { address_key, prefix_only, .. }) = SearchQuery::parse("2丁目") else {
            panic!("text");
        };
        assert!(!prefix_only);
        assert_eq!(address_key, None, "\"2\" is too short to find in addresses");
        assert_eq!(SearchQuery::parse("  "), None);
    }

    #[test]
    fn prefix_end_is_the_next_string_after_every_extension() {
        assert_eq!(prefix_end("ab").as_deref(), Some("ac"));
        assert_eq!(prefix_end("山田").as_deref(), Some("山由"));
        assert_eq!(prefix_end("a\u{D7FF}").as_deref(), Some("a\u{E000}"));
        assert_eq!(prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_end("\u{10FFFF}"), None);
        for key in ["ab", "abz", "ab\u{10FFFF}x"] {
            assert!(key >= "ab" && key < prefix_end("ab").expect("bound").as_str(), "{key}");
        }
    }
}

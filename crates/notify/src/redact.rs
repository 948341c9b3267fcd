//! Scrubbing of text that may reach a log line: SMTP servers quote recipient addresses in their replies
//! ("550 5.1.1 <someone@example.jp>: Recipient address rejected"), and logs must never hold an address.

/// Replaces every whitespace-separated word that contains an `@` with `[address]`, so a server reply can be
/// logged and stored as a failure reason without the address it may quote.
pub(crate) fn addresses(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    for c in text.chars() {
        if c.is_whitespace() {
            flush(&mut out, &mut word);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut out, &mut word);
    out
}

fn flush(out: &mut String, word: &mut String) {
    if word.contains('@') {
        out.push_str("[address]");
    } else {
        out.push_str(word);
    }
    word.clear();
}

#[cfg(test)]
mod tests {
    use super::addresses;

    #[test]
    fn quoted_recipient_is_replaced_and_the_rest_kept() {
        let reply = "permanent error (550): 5.1.1 <nobody@example.jp>: Recipient address rejected";
        assert_eq!(addresses(reply), "permanent error (550): 5.1.1 [address] Recipient address rejected");
    }

    #[test]
    fn text_without_addresses_is_unchanged() {
        let text = "Connection error: Connection refused (os error 111)\n next line";
        assert_eq!(addresses(text), text);
    }
}

//! Text that may reach a log line or a stored failure reason: error chains, and scrubbing of addresses (SMTP
//! servers quote recipient addresses in their replies
//! ("550 5.1.1 <someone@example.jp>: Recipient address rejected"), and logs must never hold an address).

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

/// An error's message followed by each of its causes (`outer: inner: root`), since many libraries put the
/// useful part (the refused connection, the template line) in a cause, not in the outer message.
pub(crate) fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
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

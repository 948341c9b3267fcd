//! PATCH(hotline): a hook for the responses the HTTP/1 dispatcher makes itself.
//!
//! When a request head cannot be parsed (too large, malformed) or does not arrive in time, the
//! dispatcher answers before any service runs, so no middleware can shape that answer. An
//! application may install one responder for the whole process; without one the dispatcher answers
//! exactly as upstream actix-http does (an empty 431, 400 or 408).

use std::sync::OnceLock;

use crate::{body::BoxBody, error::ParseError, Response};

/// Builds the response to a request head the dispatcher refused.
///
/// It gets the parse error ([`ParseError::Timeout`] when the head did not arrive in time) and the
/// bytes of the refused head received so far (possibly empty, at most the decoder's buffer limit).
/// It runs on the connection's task, so it must not block. The connection is closed after the
/// response is written.
pub type ParseErrorResponder = fn(&ParseError, &[u8]) -> Response<BoxBody>;

static RESPONDER: OnceLock<ParseErrorResponder> = OnceLock::new();

/// Installs the process-wide responder for refused request heads.
///
/// Returns `false`, and keeps the first one, when a different responder was installed before;
/// installing the same function again is a no-op that returns `true`.
pub fn set_parse_error_responder(responder: ParseErrorResponder) -> bool {
    let installed = RESPONDER.get_or_init(|| responder);
    std::ptr::fn_addr_eq(*installed, responder)
}

/// The response to a refused head: the installed responder's, or `upstream` without one.
pub(crate) fn refusal_response(
    error: &ParseError,
    head: &[u8],
    upstream: impl FnOnce() -> Response<BoxBody>,
) -> Response<BoxBody> {
    match RESPONDER.get() {
        Some(responder) => responder(error, head),
        None => upstream(),
    }
}

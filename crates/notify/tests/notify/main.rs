//! Integration tests of hotline-notify, one binary: the mailer against a real SMTP server on 127.0.0.1
//! (hotline_notify::test_support) and the file transport, the shipped templates, and the outbox worker with an in-memory store.

mod mailer;
mod outbox;
mod support;
mod templates;

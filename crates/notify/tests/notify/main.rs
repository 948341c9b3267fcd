//! Integration tests of hotline-notify, one binary: the mailer against a real SMTP server on 127.0.0.1
//! (hotline_notify::test_support) and the file transport, the shipped templates, the outbox worker with an
//! in-memory store, and the webhook sender against a real HTTP peer.

mod mailer;
mod outbox;
mod support;
mod templates;
mod webhook;

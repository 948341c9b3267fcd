//! Logs carry no personal data: callers' names, phone numbers, member numbers and what operators search
//! for stay out of them, at the most verbose level the service is run with.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use reqwest::Method;
use serde_json::json;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::helpers::{TestApp, sample_call_body, with};

on_both_backends!(logs_of_an_intake_carry_no_names_phone_numbers_or_searches);

/// Everything the global subscriber wrote.
#[derive(Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

impl Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogBuffer {
    type Writer = LogBuffer;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Installs, once per test binary, a global subscriber at `info,hotline=debug` writing into memory.
pub fn captured_logs() -> &'static LogBuffer {
    static LOGS: OnceLock<LogBuffer> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = LogBuffer::default();
        tracing_subscriber::fmt()
            .with_env_filter(EnvFilter::new("info,hotline=debug"))
            .with_writer(buffer.clone())
            .with_ansi(false)
            .try_init()
            .expect("no other global subscriber in the e2e binary");
        buffer
    })
}

async fn logs_of_an_intake_carry_no_names_phone_numbers_or_searches(app: TestApp) {
    let logs = captured_logs();
    app.import_fixture_registry().await;

    // Distinctive values, so that finding one in the logs can only mean it leaked.
    let name = "蝶野 珠緒";
    let phone = "090-2468-1357";
    let member_number = "0246813579";
    let institution = "珠緒こどもクリニック";
    let address = "東京都千代田区神田錦町9-8-7";
    let body = with(sample_call_body(), "/caller_name", json!(name));
    let body = with(body, "/callback_phone", json!(phone));
    let body = with(body, "/identifier", json!({ "kind": "member_number", "value": member_number }));
    let body =
        with(body, "/institution", json!({ "name": institution, "address": address, "prefecture": 13 }));
    let body = with(body, "/summary", json!("珠緒さんの端末でランサムウェア"));

    let logged = app.log_call(&body).await;
    assert_eq!(logged["call"]["verification"]["outcome"], "not_found");
    let reference = logged["ticket"]["reference"].as_str().expect("reference").to_owned();
    app.get(&format!("/v1/tickets/{reference}"), &app.operator.secret).await.expect(200);
    app.search_members(name).await;
    app.search_members(member_number).await;
    app.search_members(phone).await;
    // Refused calls: outside the window, and with invalid fields that echo the input in the response.
    app.set_clock("2026-11-20T22:00:00+09:00");
    let late = with(body.clone(), "/started_at", json!("2026-11-20T21:30:00+09:00"));
    app.post_call(&late).await.expect_problem(422, "outside-service-window");
    let invalid = with(with(body.clone(), "/institution/prefecture", json!(48)), "/caller_role", json!(name));
    app.post_call(&invalid).await.expect_problem(422, "validation-error");
    let wrong_type = with(body.clone(), "/callback_phone", json!(9024681357_u64));
    app.post_call(&wrong_type).await.expect_problem(422, "validation-error");
    let request = app
        .request(Method::GET, "/v1/members")
        .query(&[("q", name), ("unexpected", phone)])
        .bearer_auth(&app.operator.secret);
    app.send(request).await.expect_problem(422, "validation-error");

    let text = logs.text();
    assert!(text.contains("request finished"), "request lines are captured, so this test can fail:\n{text}");
    assert!(text.contains("/v1/members"), "request lines name the route:\n{text}");
    assert!(text.contains("outside-service-window"), "refusals are logged by type:\n{text}");
    let member_digits = "0246813579";
    let phone_digits = "09024681357";
    for secret in [
        "蝶野",
        "珠緒",
        name,
        phone,
        phone_digits,
        "9024681357",
        member_number,
        member_digits,
        institution,
        "神田錦町",
        "%E8%9D%B6",
        "ランサムウェア",
    ] {
        assert!(!text.contains(secret), "the logs contain {secret:?}:\n{text}");
    }
}

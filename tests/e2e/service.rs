//! Whether the hotline is open now, and the probes load balancers use.

use reqwest::Method;
use serde_json::json;

use crate::helpers::TestApp;

on_both_backends!(
    hotline_status_is_open_at_20_59_and_closed_from_21_00_jst,
    health_probes_answer_without_a_token
);

async fn hotline_status_is_open_at_20_59_and_closed_from_21_00_jst(app: TestApp) {
    let window =
        json!({ "open": "09:00", "close": "21:00", "time_zone": "Asia/Tokyo", "effective_from": null });

    app.set_clock("2026-11-20T20:59:00+09:00");
    let status = app.get("/v1/hotline/status", &app.operator.secret).await.expect(200);
    assert_eq!(status["open"], true, "{status}");
    assert_eq!(status["now"], "2026-11-20T20:59:00+09:00");
    assert_eq!(status["next_close"], "2026-11-20T21:00:00+09:00");
    assert_eq!(status["next_open"], "2026-11-21T09:00:00+09:00");
    assert_eq!(status["window"], window);

    app.set_clock("2026-11-20T21:00:00+09:00");
    let status = app.get("/v1/hotline/status", &app.operator.secret).await.expect(200);
    assert_eq!(status["open"], false, "{status}");
    assert_eq!(status["next_open"], "2026-11-21T09:00:00+09:00");
    assert_eq!(status["next_close"], "2026-11-21T21:00:00+09:00");

    // Open every day: a Sunday morning too.
    app.set_clock("2026-11-22T09:00:00+09:00");
    let status = app.get("/v1/hotline/status", &app.operator.secret).await.expect(200);
    assert_eq!(status["open"], true, "{status}");
    assert_eq!(status["next_close"], "2026-11-22T21:00:00+09:00");
}

async fn health_probes_answer_without_a_token(app: TestApp) {
    assert!(app.address.ip().is_loopback() && app.address.port() != 0, "bound to 127.0.0.1:0");
    let healthz = app.send(app.request(Method::GET, "/healthz")).await;
    assert_eq!(healthz.expect(200), json!({ "status": "ok" }));
    let readyz = app.send(app.request(Method::GET, "/readyz")).await;
    assert_eq!(readyz.expect(200), json!({ "status": "ready" }));
}

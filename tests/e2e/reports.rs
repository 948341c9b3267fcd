//! Supervisors' REST at national scale: the dashboard (`GET /v1/dashboard`) and the summary report
//! (`GET /v1/reports/summary`, JSON and CSV), on known data, with JST day boundaries and percentiles.

use serde_json::{Value, json};

use crate::helpers::{
    TestApp, consent, create_forensic_partner, open_ticket, police_desk, ransomware_triage, text,
};

/// The open tickets of one status in the dashboard.
fn status<'a>(dashboard: &'a Value, name: &str) -> &'a Value {
    dashboard["tickets"]["by_status"]
        .as_array()
        .and_then(|all| all.iter().find(|row| row["status"] == name))
        .unwrap_or_else(|| panic!("no status {name} in {dashboard}"))
}

/// A call the evening before (another JST day), a new untriaged ticket taken by the operator with a
/// callback due 10:20, and a P1 ticket escalated to a forensic vendor at 10:00; at 12:30 the first is
/// late for its first response, the second for the referral's acceptance (2 h), and the callback is
/// late. One police desk is deactivated.
async fn the_dashboard_counts_known_data(app: TestApp) {
    app.import_fixture_registry().await;
    let op = app.operator.secret.clone();
    app.set_clock("2026-11-19T20:59:00+09:00");
    open_ticket(&app, "2026-11-19T20:59:00+09:00").await;
    app.set_clock("2026-11-20T10:00:00+09:00");
    let late = open_ticket(&app, "2026-11-20T10:00:00+09:00").await;
    app.change(&format!("/v1/tickets/{late}/take"), &op, Some(1), None).await.expect_change(200, 2);
    let callback = json!({ "due_at": "2026-11-20T10:20:00+09:00" });
    app.change(&format!("/v1/tickets/{late}/callbacks"), &op, Some(2), Some(&callback))
        .await
        .expect_change(201, 3);

    let p1 = open_ticket(&app, "2026-11-20T10:00:00+09:00").await;
    let path = |action: &str| format!("/v1/tickets/{p1}/{action}");
    app.change(&path("triage"), &op, Some(1), Some(&ransomware_triage())).await.expect_change(200, 2);
    app.change(&path("start"), &op, Some(2), None).await.expect_change(200, 3);
    let vendor = create_forensic_partner(&app, &["13"]).await;
    let request = json!({ "kind": "forensic", "partner_id": text(&vendor, "/id"), "consent": consent("2026-11-20T10:00:00+09:00") });
    app.change(&path("referrals"), &op, Some(3), Some(&request)).await.expect_change(201, 4);
    let desk = police_desk(&app, "27").await;
    app.patch_json(
        &format!("/v1/partners/{}", text(&desk, "/id")),
        &app.supervisor.secret,
        &json!({ "active": false }),
    )
    .await
    .expect(200);

    // At 10:05 only the evening's ticket is late.
    app.set_clock("2026-11-20T10:05:00+09:00");
    let early = app.get("/v1/dashboard", &app.supervisor.secret).await.expect(200);
    assert_eq!(early["overdue"], json!({ "tickets": 1, "referrals": 0, "callbacks": 0 }), "{early}");

    app.set_clock("2026-11-20T12:30:00+09:00");
    let board = app.get("/v1/dashboard", &app.supervisor.secret).await.expect(200);
    assert_eq!(board["now"], "2026-11-20T12:30:00+09:00", "{board}");
    assert_eq!(board["hotline"]["open"], true, "{board}");
    assert_eq!(board["hotline"]["next_change"], "2026-11-20T21:00:00+09:00", "{board}");
    assert_eq!(board["tickets"]["total"], 3, "{board}");
    assert_eq!(board["tickets"]["unassigned"], 2, "{board}");
    assert_eq!(board["tickets"]["p1"], 1, "{board}");
    let statuses: Vec<&str> = board["tickets"]["by_status"]
        .as_array()
        .expect("by_status")
        .iter()
        .filter_map(|s| s["status"].as_str())
        .collect();
    assert_eq!(statuses, ["new", "triaged", "in_progress", "escalated", "resolved"], "{board}");
    assert_eq!(status(&board, "new")["count"], 2, "{board}");
    assert_eq!(status(&board, "new")["unassigned"], 1, "{board}");
    assert_eq!(
        status(&board, "new")["by_priority"][4],
        json!({ "priority": "untriaged", "count": 2 }),
        "{board}"
    );
    assert_eq!(
        status(&board, "escalated")["by_priority"][0],
        json!({ "priority": "P1", "count": 1 }),
        "{board}"
    );
    assert_eq!(status(&board, "triaged")["count"], 0, "{board}");
    // The evening's ticket is late for its first response (15 min; taking the other one was its first
    // response), the P1 one for its referral's acceptance.
    assert_eq!(board["overdue"], json!({ "tickets": 2, "referrals": 1, "callbacks": 1 }), "{board}");
    assert_eq!(board["calls_today"], json!({ "date": "2026-11-20", "count": 2 }), "{board}");
    assert_eq!(board["failed_alerts"], 0, "{board}");
    assert_eq!(board["police_desks_open"]["count"], 46, "{board}");
    let open: Vec<&str> = board["police_desks_open"]["prefectures"]
        .as_array()
        .expect("prefectures")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(!open.contains(&"27") && open.contains(&"13") && open.windows(2).all(|w| w[0] < w[1]), "{board}");

    // The overdue queue agrees.
    let queue = app.get("/v1/tickets?overdue=true", &op).await.expect(200);
    assert_eq!(queue["tickets"].as_array().map(Vec::len), Some(2), "{queue}");

    // After hours the hotline's next change is the next opening; the desks are closed.
    app.set_clock("2026-11-20T22:00:00+09:00");
    let night = app.get("/v1/dashboard", &app.supervisor.secret).await.expect(200);
    assert_eq!(night["hotline"]["open"], false, "{night}");
    assert_eq!(night["hotline"]["next_change"], "2026-11-21T09:00:00+09:00", "{night}");
    assert_eq!(night["police_desks_open"], json!({ "count": 0, "prefectures": [] }), "{night}");
    assert_eq!(night["calls_today"]["count"], 2, "{night}");

    // Operators may not read it.
    app.get("/v1/dashboard", &op).await.expect_problem(403, "forbidden");
}

on_both_backends!(the_dashboard_counts_known_data);

//! Supervisors' REST at national scale: the dashboard (`GET /v1/dashboard`) and the summary report
//! (`GET /v1/reports/summary`, JSON and CSV), on known data, with JST day boundaries and percentiles.

use serde_json::{Value, json};

use crate::helpers::{
    TestApp, at, consent, create_forensic_partner, open_ticket, police_desk, ransomware_triage, text,
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

/// Moves a ticket's first (and only) call to `rfc3339`, as if it had been logged then: the service window
/// (09:00–21:00) would refuse a call at midnight through the API.
fn move_first_call(app: &TestApp, ticket: &str, rfc3339: &str) {
    use diesel::prelude::*;
    use hotline_storage::schema::{calls, tickets};
    let instant = at(rfc3339).naive_utc();
    let ticket = ticket.to_owned();
    app.storage
        .write(|conn| -> Result<(), hotline_storage::StorageError> {
            diesel::update(calls::table.filter(calls::ticket_id.eq(&ticket)))
                .set(calls::started_at.eq(instant))
                .execute(conn)?;
            diesel::update(tickets::table.find(&ticket))
                .set(tickets::first_call_at.eq(instant))
                .execute(conn)?;
            Ok(())
        })
        .expect("moving a call");
}

/// Known data around a JST day boundary, and three triaged tickets with known durations: first
/// responses after 5, 1 and 20 minutes, one referral accepted after 30 minutes, one resolution after
/// an hour.
async fn report_data(app: &TestApp) {
    app.import_fixture_registry().await;
    let op = app.operator.secret.clone();
    app.set_clock("2026-11-20T10:00:00+09:00");
    for (moved_to, _) in [
        ("2026-11-20T23:59:59+09:00", "last second of the 20th"),
        ("2026-11-21T00:00:00+09:00", "first second of the 21st"),
        ("2026-11-19T23:59:59+09:00", "before the range"),
        ("2026-11-22T00:00:00+09:00", "after the range"),
    ] {
        let ticket = open_ticket(app, "2026-11-20T10:00:00+09:00").await;
        move_first_call(app, &ticket, moved_to);
    }
    let vendor = create_forensic_partner(app, &["13"]).await;
    let mut triaged = Vec::new();
    for minutes in [5, 1, 20] {
        app.set_clock("2026-11-20T10:00:00+09:00");
        let ticket = open_ticket(app, "2026-11-20T10:00:00+09:00").await;
        app.set_clock(&format!("2026-11-20T10:{minutes:02}:00+09:00"));
        app.change(&format!("/v1/tickets/{ticket}/triage"), &op, Some(1), Some(&ransomware_triage()))
            .await
            .expect_change(200, 2);
        triaged.push(ticket);
    }
    let first = &triaged[0];
    let path = |action: &str| format!("/v1/tickets/{first}/{action}");
    app.set_clock("2026-11-20T10:30:00+09:00");
    app.change(&path("start"), &op, Some(2), None).await.expect_change(200, 3);
    let request = json!({ "kind": "forensic", "partner_id": text(&vendor, "/id"), "consent": consent("2026-11-20T10:30:00+09:00") });
    let escalated = app.change(&path("referrals"), &op, Some(3), Some(&request)).await.expect_change(201, 4);
    let referral = text(&escalated, "/referral/id");
    app.set_clock("2026-11-20T11:00:00+09:00");
    app.change(&format!("/v1/referrals/{referral}/accept"), &op, Some(4), Some(&json!({})))
        .await
        .expect_change(200, 5);
    app.change(&format!("/v1/referrals/{referral}/complete"), &op, Some(5), Some(&json!({})))
        .await
        .expect_change(200, 6);
    let resolution = json!({ "resolution_summary": "バックアップから復旧" });
    app.change(&path("resolve"), &op, Some(6), Some(&resolution)).await.expect_change(200, 7);
}

async fn summary(
    app: &TestApp,
    query: &[(&str, &str)],
    accept: Option<&str>,
    token: &str,
) -> crate::helpers::TestResponse {
    let mut request =
        app.request(reqwest::Method::GET, "/v1/reports/summary").query(query).bearer_auth(token);
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    app.send(request).await
}

fn row(report: &Value, list: &str, key: &str) -> Value {
    report[list]
        .as_array()
        .and_then(|rows| rows.iter().find(|row| row["key"] == key))
        .map_or_else(|| json!({ "key": key, "calls": 0, "tickets": 0 }), Clone::clone)
}

/// A call at 23:59:59 JST counts on its day, one at 00:00 JST on the next; calls outside the range do
/// not count; durations give nearest-rank medians and 90th percentiles.
async fn the_summary_report_counts_jst_days_and_durations(app: TestApp) {
    report_data(&app).await;
    let range = [("from", "2026-11-20"), ("to", "2026-11-21")];
    let report = summary(&app, &range, None, &app.supervisor.secret).await.expect(200);
    assert_eq!(
        report["range"],
        json!({ "from": "2026-11-20", "to": "2026-11-21", "days": 2, "time_zone": "Asia/Tokyo" })
    );
    assert_eq!(report["totals"], json!({ "calls": 5, "tickets": 5 }), "{report}");
    assert_eq!(
        report["by_day"],
        json!([
            { "key": "2026-11-20", "calls": 4, "tickets": 4 },
            { "key": "2026-11-21", "calls": 1, "tickets": 1 },
        ]),
        "{report}"
    );
    assert_eq!(report["by_hour"].as_array().map(Vec::len), Some(24), "{report}");
    assert_eq!(row(&report, "by_hour", "23"), json!({ "key": "23", "calls": 1, "tickets": 1 }));
    assert_eq!(row(&report, "by_hour", "00"), json!({ "key": "00", "calls": 1, "tickets": 1 }));
    assert_eq!(row(&report, "by_hour", "10"), json!({ "key": "10", "calls": 3, "tickets": 3 }));
    assert_eq!(row(&report, "by_hour", "14"), json!({ "key": "14", "calls": 0, "tickets": 0 }));
    assert_eq!(
        report["by_category"],
        json!([
            { "key": "serious_incident", "calls": 3, "tickets": 3 },
            { "key": "untriaged", "calls": 2, "tickets": 2 },
        ]),
        "{report}"
    );
    assert_eq!(
        report["by_incident_kind"],
        json!([{ "key": "ransomware", "calls": 3, "tickets": 3 }, { "key": "untriaged", "calls": 2, "tickets": 2 }])
    );
    assert_eq!(report["by_prefecture"], json!([{ "key": "13", "calls": 5, "tickets": 5 }]));
    assert_eq!(report["referrals"], json!([{ "kind": "forensic", "outcome": "completed", "count": 1 }]));
    assert_eq!(report["verification"], json!([{ "outcome": "verified", "count": 5 }]), "{report}");
    assert_eq!(
        report["durations"],
        json!({
            "first_response": { "count": 3, "median_seconds": 300, "p90_seconds": 1200 },
            "referral_acceptance": { "count": 1, "median_seconds": 1800, "p90_seconds": 1800 },
            "resolution": { "count": 1, "median_seconds": 3600, "p90_seconds": 3600 },
        }),
        "{report}"
    );
    let text_of_report = serde_json::to_string(&report).expect("json");
    for personal in ["山田", "03-3946", "123456", "本駒込"] {
        assert!(!text_of_report.contains(personal), "the report holds no personal data: {personal}");
    }

    // One day only: the 21st's first second, and nothing of the 20th.
    let one = summary(&app, &[("from", "2026-11-21"), ("to", "2026-11-21")], None, &app.supervisor.secret)
        .await
        .expect(200);
    assert_eq!(one["by_day"], json!([{ "key": "2026-11-21", "calls": 1, "tickets": 1 }]), "{one}");
    assert_eq!(
        one["durations"]["first_response"],
        json!({ "count": 0, "median_seconds": null, "p90_seconds": null })
    );

    // The same data gives the same bytes.
    let again = summary(&app, &range, None, &app.supervisor.secret).await;
    assert_eq!(again.text, summary(&app, &range, None, &app.supervisor.secret).await.text);
}

/// `Accept: text/csv`: UTF-8 with a BOM, `section,key,metric,value`, the same numbers as the JSON.
async fn the_summary_report_as_csv(app: TestApp) {
    report_data(&app).await;
    let range = [("from", "2026-11-20"), ("to", "2026-11-21")];
    let response = summary(&app, &range, Some("text/csv"), &app.supervisor.secret).await;
    assert_eq!(response.status.as_u16(), 200, "{}", response.text);
    assert_eq!(response.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(
        response
            .header("content-disposition")
            .is_some_and(|d| d.contains("summary-2026-11-20-2026-11-21.csv"))
    );
    let bytes = response.text.as_bytes();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a byte-order mark first");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    assert_eq!(
        reader.headers().expect("header").iter().collect::<Vec<_>>(),
        ["section", "key", "metric", "value"]
    );
    let records: Vec<Vec<String>> = reader
        .records()
        .map(|record| record.expect("a record").iter().map(str::to_owned).collect())
        .collect();
    let value = |section: &str, key: &str, metric: &str| {
        records
            .iter()
            .find(|r| r[0] == section && r[1] == key && r[2] == metric)
            .map(|r| r[3].clone())
            .unwrap_or_else(|| panic!("no {section},{key},{metric} in {records:?}"))
    };
    assert_eq!(value("range", "", "from"), "2026-11-20");
    assert_eq!(value("totals", "", "calls"), "5");
    assert_eq!(value("day", "2026-11-20", "calls"), "4");
    assert_eq!(value("day", "2026-11-21", "tickets"), "1");
    assert_eq!(value("hour", "23", "calls"), "1");
    assert_eq!(value("category", "untriaged", "tickets"), "2");
    assert_eq!(value("referrals", "forensic/completed", "count"), "1");
    assert_eq!(value("verification", "verified", "count"), "5");
    assert_eq!(value("first_response", "", "median_seconds"), "300");
    assert_eq!(value("first_response", "", "p90_seconds"), "1200");
    assert_eq!(value("resolution", "", "median_seconds"), "3600");
    // 4 range + 2 totals + (2 days + 24 hours + 2 + 2 + 1) × 2 + 1 referral + 1 outcome + 3 × 3 durations.
    assert_eq!(records.len(), 4 + 2 + 31 * 2 + 1 + 1 + 9);
}

/// Bad ranges are 422 naming the fields; operators get 403.
async fn bad_report_ranges_are_refused(app: TestApp) {
    let sup = app.supervisor.secret.clone();
    summary(&app, &[], None, &sup).await.expect_invalid_fields(&["from", "to"]);
    summary(&app, &[("from", "2026-11-31"), ("to", "tomorrow")], None, &sup)
        .await
        .expect_invalid_fields(&["from", "to"]);
    summary(&app, &[("from", "2026-11-21"), ("to", "2026-11-20")], None, &sup)
        .await
        .expect_invalid_fields(&["to"]);
    summary(&app, &[("from", "2025-01-01"), ("to", "2026-01-02")], None, &sup)
        .await
        .expect_invalid_fields(&["to"]);
    summary(&app, &[("from", "2024-01-01"), ("to", "2024-12-31")], None, &sup).await.expect(200);
    summary(&app, &[("from", "2026-01-01"), ("to", "2026-12-31"), ("x", "1")], None, &sup)
        .await
        .expect_problem(422, "validation-error");
    summary(&app, &[("from", "2026-01-01"), ("to", "2026-12-31")], None, &app.operator.secret)
        .await
        .expect_problem(403, "forbidden");
}

on_both_backends!(
    the_dashboard_counts_known_data,
    the_summary_report_counts_jst_days_and_durations,
    the_summary_report_as_csv,
    bad_report_ranges_are_refused,
);

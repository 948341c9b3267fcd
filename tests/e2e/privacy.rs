//! Personal data under the APPI (issue 11): every read of a ticket's personal data is in the access log,
//! which only admins read; caller contact data past its retention is replaced by the marker once, with
//! an audit event that does not repeat it, and nothing else about the ticket changes.

use std::sync::Arc;

use hotline_api::access_log::{AccessLog, read_by};
use hotline_domain::privacy::{ANONYMISED, AccessKind, RetentionPolicy};
use hotline_server::privacy::{AnonymiseReport, anonymise_due, purge_access_log};
use hotline_storage::queries::privacy::{self, AccessFilter, NewAccess};
use serde_json::{Value, json};

use crate::helpers::{TestApp, open_ticket, ransomware_triage, sample_call_body, with};

on_both_backends!(
    reads_of_personal_data_are_logged_and_only_admins_read_the_log,
    caller_contact_data_past_its_retention_is_anonymised_once_and_nothing_else_changes,
    a_person_s_records_are_found_by_phone_identifier_or_name_and_exported,
    a_person_s_records_are_erased_on_request_and_the_trail_does_not_repeat_them,
    queued_reads_land_in_one_batch_and_a_failed_flush_keeps_them,
);

const POLICY: RetentionPolicy = RetentionPolicy { caller_contact_days: 365, free_text_days: 1095 };

fn entries(page: &Value) -> Vec<Value> {
    page["entries"].as_array().cloned().unwrap_or_else(|| panic!("entries[]: {page}"))
}

async fn reads_of_personal_data_are_logged_and_only_admins_read_the_log(app: TestApp) {
    app.import_fixture_registry().await;
    let id = open_ticket(&app, "2026-11-20T10:00:00+09:00").await;
    let ticket = app.ticket(&id, &app.operator.secret).await;
    let call_id = ticket["calls"][0]["id"].as_str().expect("call id").to_owned();
    app.set_clock("2026-11-20T10:05:00+09:00");
    app.get(&format!("/v1/calls/{call_id}"), &app.supervisor.secret).await.expect(200);

    let log = app.get(&format!("/v1/access-log?ticket={id}"), &app.admin.secret).await.expect(200);
    let seen: Vec<(Value, Value, Value)> = entries(&log)
        .iter()
        .map(|entry| (entry["token_id"].clone(), entry["what"].clone(), entry["read_at"].clone()))
        .collect();
    assert_eq!(
        seen,
        vec![
            (json!(app.supervisor.id), json!("call"), json!("2026-11-20T10:05:00+09:00")),
            (json!(app.operator.id), json!("ticket"), json!("2026-11-20T10:00:00+09:00")),
        ],
        "{log}"
    );
    assert_eq!(entries(&log)[1]["ticket_reference"], ticket["reference"]);
    assert_eq!(entries(&log)[1]["token_name"], "operator desk 1");
    assert_eq!(log["next"], Value::Null);

    // By token, and by time (`to` is exclusive).
    let mine =
        app.get(&format!("/v1/access-log?token={}", app.operator.id), &app.admin.secret).await.expect(200);
    assert_eq!(entries(&mine).len(), 1, "{mine}");
    let early = app.get("/v1/access-log?to=2026-11-20T01:05:00Z", &app.admin.secret).await.expect(200);
    assert_eq!(entries(&early).iter().map(|e| e["what"].clone()).collect::<Vec<_>>(), vec![json!("ticket")]);

    // A page at a time, newest first.
    let first = app.get("/v1/access-log?limit=1", &app.admin.secret).await.expect(200);
    assert_eq!(entries(&first)[0]["what"], "call");
    let next = first["next"].as_str().expect("a next page").to_owned();
    let second =
        app.get(&format!("/v1/access-log?limit=1&cursor={next}"), &app.admin.secret).await.expect(200);
    assert_eq!(entries(&second)[0]["what"], "ticket");
    let next = second["next"].as_str().expect("a cursor after a full page").to_owned();
    let third =
        app.get(&format!("/v1/access-log?limit=1&cursor={next}"), &app.admin.secret).await.expect(200);
    assert!(entries(&third).is_empty() && third["next"].is_null(), "{third}");
    app.get("/v1/access-log?cursor=nonsense", &app.admin.secret).await.expect(422);

    // Reading the trail and a change's response are reads too.
    app.get(&format!("/v1/tickets/{id}/events"), &app.operator.secret).await.expect(200);
    app.change(
        &format!("/v1/tickets/{id}/triage"),
        &app.operator.secret,
        Some(1),
        Some(&ransomware_triage()),
    )
    .await
    .expect_change(200, 2);
    let log = app.get(&format!("/v1/access-log?ticket={id}&limit=2"), &app.admin.secret).await.expect(200);
    let whats: Vec<Value> = entries(&log).iter().map(|e| e["what"].clone()).collect();
    assert_eq!(whats, vec![json!("change"), json!("events")], "{log}");

    for token in [&app.operator.secret, &app.supervisor.secret] {
        app.get("/v1/access-log", token).await.expect_problem(403, "forbidden");
    }

    // Kept `privacy.access_log_days` (730): a day before that nothing goes, after it everything.
    let storage = app.storage.clone();
    let now = hotline_api::Clock::now(app.clock.as_ref());
    let purged = tokio::task::spawn_blocking(move || {
        let early = purge_access_log(&storage, 730, now + chrono::Duration::days(729))?;
        let late = purge_access_log(&storage, 730, now + chrono::Duration::days(731))?;
        Ok::<_, hotline_storage::StorageError>((early, late))
    })
    .await
    .expect("the purge's task")
    .expect("the purge");
    assert_eq!(purged, (0, 4), "ticket, call, events and change");
    let log = app.get("/v1/access-log", &app.admin.secret).await.expect(200);
    assert!(entries(&log).is_empty(), "{log}");
}

/// Logs the fixture call at `at` (JST, inside the window, the clock set there), a follow-up five minutes
/// later, and works the ticket through to closed; its id.
async fn closed_ticket(app: &TestApp, at: &str, follow_up_at: &str) -> String {
    app.set_clock(at);
    let id = open_ticket(app, at).await;
    app.set_clock(follow_up_at);
    let follow_up =
        with(with(sample_call_body(), "/started_at", json!(follow_up_at)), "/ticket_id", json!(id));
    app.log_call(&follow_up).await;
    let path = |action: &str| format!("/v1/tickets/{id}/{action}");
    let op = &app.operator.secret;
    app.change(&path("triage"), op, Some(2), Some(&ransomware_triage())).await.expect_change(200, 3);
    app.change(&path("start"), op, Some(3), None).await.expect_change(200, 4);
    let resolution = json!({ "resolution_summary": "バックアップから復旧" });
    app.change(&path("resolve"), op, Some(4), Some(&resolution)).await.expect_change(200, 5);
    app.change(&path("close"), op, Some(5), None).await.expect_change(200, 6);
    id
}

/// What anonymisation must not change: everything but the calls' personal values and the version.
fn kept(ticket: &Value) -> Value {
    let mut kept = ticket.clone();
    let fields = kept.as_object_mut().expect("a ticket");
    fields.remove("version");
    fields.remove("calls");
    fields.remove("sla");
    let calls: Vec<Value> = ticket["calls"]
        .as_array()
        .expect("calls[]")
        .iter()
        .map(|call| {
            json!([
                call["id"],
                call["started_at"],
                call["caller_role"],
                call["institution"]["prefecture"],
                call["identifier"]["kind"],
                call["summary"],
                call["verification"],
                call["created_at"]
            ])
        })
        .collect();
    fields.insert("calls".to_owned(), json!(calls));
    kept
}

/// The summary report of the old ticket's year, as JSON and as CSV: what the association keeps, which
/// anonymisation must leave byte for byte as it was.
async fn year_report(app: &TestApp) -> (String, String) {
    report_of(app, 2025).await
}

/// The summary report of `year`, as JSON and as CSV.
async fn report_of(app: &TestApp, year: i32) -> (String, String) {
    let (from, to) = (format!("{year}-01-01"), format!("{year}-12-31"));
    let mut bodies = Vec::new();
    for accept in ["application/json", "text/csv"] {
        let request = app
            .request(reqwest::Method::GET, "/v1/reports/summary")
            .query(&[("from", from.as_str()), ("to", to.as_str())])
            .bearer_auth(&app.supervisor.secret)
            .header("accept", accept);
        let response = app.send(request).await;
        assert_eq!(response.status.as_u16(), 200, "{}", response.text);
        bodies.push(response.text);
    }
    let csv = bodies.pop().unwrap_or_default();
    (bodies.pop().unwrap_or_default(), csv)
}

async fn run(app: &TestApp, dry_run: bool) -> AnonymiseReport {
    run_with(app, POLICY, dry_run).await
}

async fn run_with(app: &TestApp, policy: RetentionPolicy, dry_run: bool) -> AnonymiseReport {
    let storage = app.storage.clone();
    let now = hotline_api::Clock::now(app.clock.as_ref());
    tokio::task::spawn_blocking(move || anonymise_due(&storage, policy, now, dry_run))
        .await
        .expect("the job's task")
        .expect("the job runs")
}

async fn caller_contact_data_past_its_retention_is_anonymised_once_and_nothing_else_changes(app: TestApp) {
    app.import_fixture_registry().await;
    let old = closed_ticket(&app, "2025-11-19T10:00:00+09:00", "2025-11-19T10:05:00+09:00").await;
    let recent = closed_ticket(&app, "2025-11-21T10:00:00+09:00", "2025-11-21T10:05:00+09:00").await;
    // 366 days after the old ticket's closure, 364 after the recent one's.
    app.set_clock("2026-11-20T10:00:00+09:00");
    let before = app.ticket(&old, &app.admin.secret).await;
    let recent_before = app.ticket(&recent, &app.admin.secret).await;
    let events_before = app.events(&old).await.len();
    assert_eq!(before["calls"][0]["caller_name"], "山田 太郎");
    assert_eq!(before["calls"][0]["callback_phone"], "0339462121");
    let report_before = year_report(&app).await;
    let totals = serde_json::from_str::<Value>(&report_before.0).expect("a JSON report")["totals"].clone();
    assert_eq!((totals["tickets"].clone(), totals["calls"].clone()), (json!(2), json!(4)), "{totals}");

    let dry = run(&app, true).await;
    assert_eq!(dry.tickets, vec![before["reference"].as_str().expect("reference").to_owned()], "{dry:?}");
    assert_eq!(
        app.ticket(&old, &app.admin.secret).await["calls"],
        before["calls"],
        "a dry run writes nothing"
    );

    let report = run(&app, false).await;
    assert_eq!((report.tickets.clone(), report.calls, report.referrals), (dry.tickets.clone(), 2, 0));
    let after = app.ticket(&old, &app.admin.secret).await;
    for call in after["calls"].as_array().expect("calls[]") {
        for pointer in [
            "/caller_name",
            "/callback_phone",
            "/member_name",
            "/institution/name",
            "/institution/address",
            "/identifier/value",
        ] {
            assert_eq!(call.pointer(pointer), Some(&json!(ANONYMISED)), "{pointer} of {call}");
        }
    }
    assert_eq!(kept(&after), kept(&before), "reference, category, prefecture, dates stay");
    assert_eq!(after["version"], json!(before["version"].as_i64().expect("version") + 1));
    assert_eq!(app.ticket(&recent, &app.admin.secret).await["calls"], recent_before["calls"], "not due yet");

    let events = app.events(&old).await;
    assert_eq!(events.len(), events_before + 1);
    let last = events.last().expect("an event");
    assert_eq!(last["action"], "personal_data.anonymised");
    assert_eq!(last["actor"]["name"], "data retention", "{last}");
    assert_eq!(
        last["changes"],
        json!({ "class": "caller_contact", "basis": "retention", "retention_days": 365, "calls": 2,
            "referrals": 0, "notes": 0, "callbacks": 0, "event_texts": 0 })
    );
    let trail = serde_json::to_string(&events).expect("json");
    for erased in ["山田", "0339462121", "本駒込クリニック", "本駒込2-28-16"] {
        assert!(!trail.contains(erased), "the trail repeats {erased:?}: {trail}");
    }

    assert_eq!(year_report(&app).await, report_before, "the year's report is the same, byte for byte");

    let again = run(&app, false).await;
    assert!(again.tickets.is_empty() && again.calls == 0, "{again:?}");
    assert_eq!(app.ticket(&old, &app.admin.secret).await["version"], after["version"]);
    assert_eq!(app.events(&old).await.len(), events.len(), "a second run changes nothing");
    assert!(
        report.free_text_tickets.is_empty() && again.free_text_tickets.is_empty(),
        "free text is kept 1095 days"
    );

    // Free text kept 365 days is due as well: summaries and the resolution go (in the trail too), one
    // event of that class.
    let resolved = |events: Vec<Value>| {
        let event = events.into_iter().find(|e| e["action"] == "ticket.resolved").expect("ticket.resolved");
        event["changes"]["resolution_summary"].clone()
    };
    assert_eq!(resolved(app.events(&old).await), json!("バックアップから復旧"));
    let texts = RetentionPolicy { free_text_days: 365, ..POLICY };
    let report = run_with(&app, texts, false).await;
    assert_eq!(report.free_text_tickets, dry.tickets, "{report:?}");
    let text_gone = app.ticket(&old, &app.admin.secret).await;
    assert_eq!(
        (&text_gone["summary"], &text_gone["resolution_summary"]),
        (&json!(ANONYMISED), &json!(ANONYMISED))
    );
    for call in text_gone["calls"].as_array().expect("calls[]") {
        assert_eq!(call["summary"], ANONYMISED, "{call}");
    }
    assert_eq!(text_gone["closed_at"], before["closed_at"]);
    assert_eq!(text_gone["triage"]["category"], before["triage"]["category"]);
    let last = app.events(&old).await.pop().expect("an event");
    assert_eq!(
        last["changes"],
        json!({ "class": "free_text", "basis": "retention", "retention_days": 365, "calls": 2,
            "referrals": 0, "notes": 0, "callbacks": 0, "event_texts": 1 })
    );
    assert_eq!(resolved(app.events(&old).await), json!(ANONYMISED), "the trail's text is gone too");
    assert_eq!(resolved(app.events(&recent).await), json!("バックアップから復旧"), "not due yet");
    assert_eq!(year_report(&app).await, report_before, "free text gone, the same report");
    let again = run_with(&app, texts, false).await;
    assert!(again.free_text_tickets.is_empty(), "{again:?}");
    assert_eq!(app.ticket(&recent, &app.admin.secret).await["summary"], recent_before["summary"]);
}

async fn a_person_s_records_are_found_by_phone_identifier_or_name_and_exported(app: TestApp) {
    app.import_fixture_registry().await;
    let id = open_ticket(&app, "2026-11-20T10:00:00+09:00").await;
    let note = json!({ "body": "折り返しは 03-3946-2121 まで（事務長）" });
    app.change(&format!("/v1/tickets/{id}/notes"), &app.operator.secret, Some(1), Some(&note))
        .await
        .expect_change(201, 2);
    let callback = json!({ "due_at": "2026-11-20T15:00:00+09:00", "note": "03 3946 2121 に電話" });
    app.change(&format!("/v1/tickets/{id}/callbacks"), &app.operator.secret, Some(2), Some(&callback))
        .await
        .expect_change(201, 3);
    // Someone else: another member, number and name.
    let other = json!({
        "started_at": "2026-11-20T10:03:00+09:00",
        "caller_name": "佐藤 花子",
        "caller_role": "member",
        "callback_phone": "011-123-4567",
        "institution": { "name": "札幌内科", "address": "北海道札幌市中央区北1条西1", "prefecture": "01" },
        "identifier": { "kind": "member_number", "value": "0000023456" },
        "summary": "ウイルス感染の疑い",
    });
    let other = app.log_call(&other).await["ticket"]["id"].as_str().expect("id").to_owned();

    for query in ["phone=0339462121", "phone=03-3946-2121", "phone=%2B81%203%203946%202121"] {
        let found = app.get(&format!("/v1/personal-data?{query}"), &app.admin.secret).await.expect(200);
        let tickets: Vec<&Value> =
            found["calls"].as_array().expect("calls[]").iter().map(|c| &c["ticket_id"]).collect();
        assert_eq!(tickets, vec![&json!(id)], "{query}: {found}");
        assert_eq!(found["calls"][0]["callback_phone"], "0339462121");
        assert_eq!(found["notes"].as_array().map(Vec::len), Some(1), "{query}: {found}");
        assert_eq!(found["notes"][0]["body"], note["body"]);
        assert_eq!(found["callbacks"].as_array().map(Vec::len), Some(1), "{query}: {found}");
        assert_eq!(found["callbacks"][0]["note"], callback["note"]);
    }
    let by_number =
        app.get("/v1/personal-data?registration_number=123456", &app.admin.secret).await.expect(200);
    assert_eq!(by_number["calls"].as_array().map(Vec::len), Some(1), "{by_number}");
    let by_member =
        app.get("/v1/personal-data?member_number=0000023456", &app.admin.secret).await.expect(200);
    assert_eq!(by_member["calls"][0]["ticket_id"], json!(other), "{by_member}");
    let by_name = app
        .get("/v1/personal-data?name=%E5%B1%B1%E7%94%B0%E5%A4%AA%E9%83%8E", &app.admin.secret)
        .await
        .expect(200);
    assert_eq!(by_name["calls"][0]["caller_name"], "山田 太郎", "{by_name}");
    assert_eq!(by_name["calls"].as_array().map(Vec::len), Some(1), "{by_name}");
    let nobody = app.get("/v1/personal-data?phone=0312345678", &app.admin.secret).await.expect(200);
    assert_eq!(nobody, json!({ "calls": [], "callbacks": [], "notes": [] }));

    app.get("/v1/personal-data", &app.admin.secret).await.expect(422);
    app.get("/v1/personal-data?phone=1&name=x", &app.admin.secret).await.expect(422);
    app.get("/v1/personal-data?phone=0339462121", &app.supervisor.secret)
        .await
        .expect_problem(403, "forbidden");

    // The search is a read of the tickets it found.
    let log = app.get(&format!("/v1/access-log?ticket={id}&limit=1"), &app.admin.secret).await.expect(200);
    assert_eq!(entries(&log)[0]["what"], "request", "{log}");
    assert_eq!(entries(&log)[0]["token_id"], json!(app.admin.id));
}

async fn a_person_s_records_are_erased_on_request_and_the_trail_does_not_repeat_them(app: TestApp) {
    app.import_fixture_registry().await;
    let id = open_ticket(&app, "2026-11-20T10:00:00+09:00").await;
    let note = json!({ "body": "折り返しは 03-3946-2121 まで" });
    app.change(&format!("/v1/tickets/{id}/notes"), &app.operator.secret, Some(1), Some(&note))
        .await
        .expect_change(201, 2);
    let callback = json!({ "due_at": "2026-11-20T15:00:00+09:00", "note": "03 3946 2121 に電話" });
    app.change(&format!("/v1/tickets/{id}/callbacks"), &app.operator.secret, Some(2), Some(&callback))
        .await
        .expect_change(201, 3);
    let unrelated = json!({ "body": "院内LANから隔離済み" });
    app.change(&format!("/v1/tickets/{id}/notes"), &app.operator.secret, Some(3), Some(&unrelated))
        .await
        .expect_change(201, 4);
    // The resolution holds the number too: in the ticket and in the trail's `ticket.resolved`.
    let path = |action: &str| format!("/v1/tickets/{id}/{action}");
    let op = &app.operator.secret;
    app.change(&path("triage"), op, Some(4), Some(&ransomware_triage())).await.expect_change(200, 5);
    app.change(&path("start"), op, Some(5), None).await.expect_change(200, 6);
    let resolution = json!({ "resolution_summary": "復旧済み。03-3946-2121 に折り返し報告" });
    app.change(&path("resolve"), op, Some(6), Some(&resolution)).await.expect_change(200, 7);
    let resolved = |events: &[Value]| {
        let event = events.iter().find(|e| e["action"] == "ticket.resolved").expect("ticket.resolved");
        event["changes"]["resolution_summary"].clone()
    };
    assert_eq!(resolved(&app.events(&id).await), resolution["resolution_summary"]);
    let report_before = report_of(&app, 2026).await;
    let totals = serde_json::from_str::<Value>(&report_before.0).expect("a JSON report")["totals"].clone();
    assert_eq!(totals["tickets"], json!(1), "{totals}");
    let erase = json!({ "phone": "0339462121" });

    app.post_json("/v1/personal-data/erase", &app.supervisor.secret, &erase, None)
        .await
        .expect_problem(403, "forbidden");
    let erased = app.post_json("/v1/personal-data/erase", &app.admin.secret, &erase, None).await.expect(200);
    assert_eq!(erased["tickets"].as_array().map(Vec::len), Some(1), "{erased}");
    assert_eq!(erased["tickets"][0]["ticket_id"], json!(id));
    assert_eq!(
        erased["tickets"][0]["erased"],
        json!({ "class": "caller_contact", "basis": "request", "retention_days": null, "calls": 1,
            "referrals": 0, "notes": 1, "callbacks": 1, "event_texts": 1 })
    );

    let found = app.get("/v1/personal-data?phone=03-3946-2121", &app.admin.secret).await.expect(200);
    assert_eq!(found, json!({ "calls": [], "callbacks": [], "notes": [] }), "nothing holds it any more");
    let ticket = app.ticket(&id, &app.admin.secret).await;
    assert_eq!(ticket["calls"][0]["callback_phone"], ANONYMISED);
    assert_eq!(ticket["calls"][0]["caller_name"], ANONYMISED);
    assert_eq!(ticket["callbacks"][0]["note"], ANONYMISED);
    let bodies: Vec<&Value> =
        ticket["notes"].as_array().expect("notes[]").iter().map(|n| &n["body"]).collect();
    assert_eq!(bodies, vec![&json!(ANONYMISED), &unrelated["body"]], "only the note holding it");
    assert_eq!(ticket["resolution_summary"], ANONYMISED);
    assert_eq!(ticket["version"], 8);

    let events = app.events(&id).await;
    assert_eq!(resolved(&events), json!(ANONYMISED), "the trail's text holding it is replaced");
    assert_eq!(report_of(&app, 2026).await, report_before, "the report is the same, byte for byte");
    let last = events.last().expect("an event");
    assert_eq!(last["action"], "personal_data.anonymised");
    assert_eq!(last["actor"]["token_id"], json!(app.admin.id));
    let trail = serde_json::to_string(&events).expect("json");
    for erased in ["0339462121", "3946-2121", "3946 2121", "山田"] {
        assert!(!trail.contains(erased), "the trail repeats {erased:?}: {trail}");
    }

    let again = app.post_json("/v1/personal-data/erase", &app.admin.secret, &erase, None).await.expect(200);
    assert_eq!(again, json!({ "tickets": [] }), "a second erasure changes nothing");
    assert_eq!(app.events(&id).await.len(), events.len());
}

/// The access log's queue: reads wait without a write, a flush writes them all in one transaction
/// (more than one multi-row INSERT's worth), a flush the database refuses keeps every read in order for
/// the next one, and a full queue gives the reads back instead of dropping them.
async fn queued_reads_land_in_one_batch_and_a_failed_flush_keeps_them(app: TestApp) {
    let id = open_ticket(&app, "2026-11-20T10:00:00+09:00").await;
    let ticket: uuid::Uuid = id.parse().expect("a ticket id");
    let start = chrono::DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z").expect("an instant").to_utc();
    let reads: Vec<NewAccess> = (0..1200)
        .map(|i| read_by(app.operator.id, ticket, AccessKind::Call, start + chrono::Duration::seconds(i)))
        .collect();
    let log = Arc::new(AccessLog::new(2000, 500));
    log.push(reads[..700].to_vec()).expect("room for 700");
    log.push(reads[700..].to_vec()).expect("room for 500 more");
    let refused = log.push(reads[..801].to_vec()).expect_err("no room for 801 more");
    assert_eq!(refused.len(), 801, "given back whole");
    assert_eq!(log.pending(), 1200);

    let storage = app.storage.clone();
    let flushing = Arc::clone(&log);
    let (failed, written, recorded) = tokio::task::spawn_blocking(move || {
        // A database without the table refuses the batch (as one that is down would).
        let (_dir, url) = hotline_storage::test_support::sqlite_temp();
        let broken = hotline_storage::Storage::connect(&url, hotline_storage::PoolOptions::default())
            .expect("a SQLite file");
        let failed = flushing.flush(&broken);
        let kept = flushing.pending();
        let written = flushing.flush(&storage).expect("the flush");
        let filter =
            AccessFilter { ticket: Some(ticket), from: Some(start), limit: 5000, ..AccessFilter::default() };
        let recorded = storage.read(|conn| privacy::list_access(conn, &filter)).expect("the access log");
        ((failed.is_err(), kept), written, recorded)
    })
    .await
    .expect("the flush's task");
    assert_eq!(failed, (true, 1200), "a failed flush keeps every read");
    assert_eq!((written, log.pending()), (1200, 0), "one flush wrote them all");
    let times: Vec<_> = recorded.iter().rev().map(|entry| entry.read_at).collect();
    assert_eq!(times, reads.iter().map(|read| read.read_at).collect::<Vec<_>>(), "each once, none lost");
    assert!(recorded.iter().all(|entry| entry.token_id == app.operator.id && entry.what == AccessKind::Call));
}

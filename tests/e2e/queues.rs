//! Work around the tickets: callbacks promised near closing time, the overdue queue, assignment,
//! notes, and the partner directory's rules.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, consent, create_forensic_partner, open_ticket, police_desk, sample_call_body, text,
    triaged_ransomware_ticket, with,
};

on_both_backends!(
    callback_promised_at_20_50_for_21_20_moves_to_09_00_and_a_follow_up_call_completes_it,
    untriaged_ticket_is_overdue_only_after_15_minutes_and_leaves_the_queue_once_triaged_p4,
    supervisor_assigns_another_operators_take_is_409_and_unassigned_tickets_can_be_taken,
    notes_are_listed_on_the_ticket_in_the_order_written,
    partner_directory_refuses_invalid_partners_and_referrals_to_unsuitable_ones,
);

async fn due_callbacks(app: &TestApp, due_before: Option<&str>) -> Vec<Value> {
    let mut request = app.request(Method::GET, "/v1/callbacks").bearer_auth(&app.operator.secret);
    if let Some(before) = due_before {
        request = request.query(&[("due_before", before)]);
    }
    let listed = app.send(request).await.expect(200);
    listed["callbacks"].as_array().cloned().unwrap_or_else(|| panic!("callbacks[]: {listed}"))
}

fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(|item| text(item, "/id")).collect()
}

async fn callback_promised_at_20_50_for_21_20_moves_to_09_00_and_a_follow_up_call_completes_it(app: TestApp) {
    app.import_fixture_registry().await;
    let op = app.operator.secret.clone();
    app.set_clock("2026-11-20T20:45:00+09:00");
    let late = open_ticket(&app, "2026-11-20T20:45:00+09:00").await;
    let early = open_ticket(&app, "2026-11-20T20:46:00+09:00").await;

    app.set_clock("2026-11-20T20:50:00+09:00");
    let promise = json!({ "due_at": "2026-11-20T21:20:00+09:00", "note": "復旧状況を確認" });
    let promised = app
        .change(&format!("/v1/tickets/{late}/callbacks"), &op, Some(1), Some(&promise))
        .await
        .expect_change(201, 2);
    let callback = &promised["callback"];
    assert_eq!(callback["promised_at"], "2026-11-20T21:20:00+09:00", "{callback}");
    assert_eq!(callback["due_at"], "2026-11-21T09:00:00+09:00", "{callback}");
    assert_eq!(callback["moved"], true, "{callback}");
    assert!(text(callback, "/moved_reason").contains("service window"), "{callback}");
    assert_eq!(callback["note"], "復旧状況を確認");
    assert_eq!(callback["completed_at"], Value::Null);
    assert_eq!(callback["overdue"], false);
    assert_eq!(callback["ticket_reference"], "HL-2026-000001");
    assert_eq!(promised["callbacks"].as_array().map(Vec::len), Some(1), "{promised}");
    let late_callback = text(callback, "/id");

    // A promise inside the window stays as promised; one in the past is refused.
    let inside = json!({ "due_at": "2026-11-20T20:58:00+09:00" });
    let kept = app
        .change(&format!("/v1/tickets/{early}/callbacks"), &op, Some(1), Some(&inside))
        .await
        .expect_change(201, 2);
    assert_eq!(kept["callback"]["due_at"], "2026-11-20T20:58:00+09:00");
    assert_eq!(kept["callback"]["moved"], false);
    assert!(kept["callback"].get("moved_reason").is_none(), "{kept}");
    let early_callback = text(&kept, "/callback/id");
    let past = json!({ "due_at": "2026-11-20T20:30:00+09:00" });
    app.change(&format!("/v1/tickets/{early}/callbacks"), &op, Some(2), Some(&past))
        .await
        .expect_invalid_fields(&["due_at"]);

    // The queue, earliest first.
    assert_eq!(ids(&due_callbacks(&app, None).await), Vec::<String>::new(), "nothing is due at 20:50");
    let until_ten = due_callbacks(&app, Some("2026-11-21T10:00:00+09:00")).await;
    assert_eq!(ids(&until_ten), [early_callback.clone(), late_callback.clone()]);
    assert_eq!(until_ten[1]["due_at"], "2026-11-21T09:00:00+09:00");
    assert!(until_ten[1].get("moved_reason").is_none(), "{}", until_ten[1]);
    let before_nine = due_callbacks(&app, Some("2026-11-21T08:59:00+09:00")).await;
    assert_eq!(ids(&before_nine), [early_callback.as_str()]);

    // Next morning the moved callback is due; the caller's follow-up call completes it.
    app.set_clock("2026-11-21T09:05:00+09:00");
    let now_due = due_callbacks(&app, None).await;
    assert_eq!(ids(&now_due), [early_callback.clone(), late_callback.clone()]);
    assert_eq!(now_due[1]["overdue"], true, "{}", now_due[1]);
    let follow_up = with(
        with(sample_call_body(), "/started_at", json!("2026-11-21T09:05:00+09:00")),
        "/ticket_id",
        json!(late),
    );
    let logged = app.log_call(&follow_up).await;
    assert_eq!(logged["call"]["follow_up"], true, "{logged}");
    assert_eq!(logged["ticket"]["version"], 3, "{logged}");
    let ticket = app.ticket(&late, &op).await;
    let completed = &ticket["callbacks"][0];
    assert_eq!(completed["completed_at"], "2026-11-21T09:05:00+09:00", "{completed}");
    assert_eq!(completed["completed_by_call_id"], logged["call"]["id"], "{completed}");
    assert_eq!(completed["overdue"], false, "{completed}");
    assert_eq!(ids(&due_callbacks(&app, Some("2026-11-21T10:00:00+09:00")).await), [early_callback]);
    let event = app.events(&late).await.pop().expect("an event");
    assert_eq!(event["action"], "call.logged");
    assert_eq!(event["changes"]["completed_callback"], json!(late_callback));
}

async fn overdue_ids(app: &TestApp) -> Vec<String> {
    let listed = app.get("/v1/tickets?overdue=true", &app.operator.secret).await.expect(200);
    let tickets = listed["tickets"].as_array().unwrap_or_else(|| panic!("tickets[]: {listed}"));
    for ticket in tickets {
        assert_eq!(ticket["sla"]["overdue"], true, "{ticket}");
    }
    ids(tickets)
}

async fn untriaged_ticket_is_overdue_only_after_15_minutes_and_leaves_the_queue_once_triaged_p4(
    app: TestApp,
) {
    app.import_fixture_registry().await;
    let op = app.operator.secret.clone();
    let first = open_ticket(&app, "2026-11-20T10:00:00+09:00").await;
    app.set_clock("2026-11-20T10:10:00+09:00");
    let second = open_ticket(&app, "2026-11-20T10:10:00+09:00").await;

    for not_yet in ["2026-11-20T10:14:59+09:00", "2026-11-20T10:15:00+09:00"] {
        app.set_clock(not_yet);
        assert_eq!(overdue_ids(&app).await, Vec::<String>::new(), "at {not_yet}");
    }
    let ticket = app.ticket(&first, &op).await;
    assert_eq!(
        ticket["sla"]["first_response"],
        json!({ "due_at": "2026-11-20T10:15:00+09:00", "met_at": null, "overdue": false })
    );
    assert_eq!(ticket["sla"]["overdue"], false);

    app.set_clock("2026-11-20T10:15:01+09:00");
    assert_eq!(overdue_ids(&app).await, [first.as_str()]);
    let ticket = app.ticket(&first, &op).await;
    assert_eq!(ticket["sla"]["first_response"]["overdue"], true);
    assert_eq!(ticket["sla"]["overdue"], true);
    let all = app.get("/v1/tickets", &op).await.expect(200);
    assert_eq!(ids(all["tickets"].as_array().expect("tickets[]")), [first.clone(), second.clone()]);

    // Triage as P4 against the suggested P3: a reason is required; then the ticket leaves the queue.
    app.set_clock("2026-11-20T10:16:00+09:00");
    let everyday =
        json!({ "category": "everyday_trouble", "incident_kind": "network_trouble", "priority": "P4" });
    let triage = format!("/v1/tickets/{first}/triage");
    app.change(&triage, &op, Some(1), Some(&everyday)).await.expect_invalid_fields(&["priority_reason"]);
    assert_eq!(overdue_ids(&app).await, [first.as_str()]);
    let with_reason =
        with(everyday, "/priority_reason", json!("院内で再起動により解消済み、念のための確認のみ"));
    let triaged = app.change(&triage, &op, Some(1), Some(&with_reason)).await.expect_change(200, 2);
    assert_eq!(triaged["priority"], "P4");
    assert_eq!(triaged["triage"]["suggested_priority"], "P3");
    assert_eq!(triaged["triage"]["priority_reason"], with_reason["priority_reason"]);
    // The first response is met by the triage. (Its due time is then recomputed from P4's target; the
    // P1 hold applies only while the ticket is untriaged.)
    assert_eq!(triaged["sla"]["first_response"]["met_at"], "2026-11-20T10:16:00+09:00");
    assert_eq!(triaged["sla"]["resolution"]["due_at"], "2026-12-20T10:00:00+09:00", "P4: 30 days");
    assert_eq!(triaged["sla"]["overdue"], false);
    assert_eq!(overdue_ids(&app).await, Vec::<String>::new());
    let p4 = app.get("/v1/tickets?priority=P4", &op).await.expect(200);
    assert_eq!(ids(p4["tickets"].as_array().expect("tickets[]")), [first.as_str()]);

    // The second ticket's own clock runs out 15 minutes after its call.
    app.set_clock("2026-11-20T10:25:01+09:00");
    assert_eq!(overdue_ids(&app).await, [second]);
}

async fn supervisor_assigns_another_operators_take_is_409_and_unassigned_tickets_can_be_taken(app: TestApp) {
    app.import_fixture_registry().await;
    let op = app.operator.secret.clone();
    let listed = app.get("/v1/tokens", &app.admin.secret).await.expect(200);
    let operator_id = listed["tokens"]
        .as_array()
        .expect("tokens[]")
        .iter()
        .find(|token| token["name"] == "operator desk 1")
        .map(|token| text(token, "/id"))
        .unwrap_or_else(|| panic!("the operator token is listed: {listed}"));
    assert_eq!(operator_id, app.operator.id.to_string());
    let desk_2 = app
        .post_json("/v1/tokens", &app.admin.secret, &json!({ "name": "desk-2", "role": "operator" }), None)
        .await
        .expect(201);
    let (desk_2_id, desk_2_secret) = (text(&desk_2, "/id"), text(&desk_2, "/token"));

    let assigned_ticket = open_ticket(&app, "2026-11-20T10:00:00+09:00").await;
    let unassigned_ticket = open_ticket(&app, "2026-11-20T10:00:00+09:00").await;
    let assign = format!("/v1/tickets/{assigned_ticket}/assign");
    let body = json!({ "assignee": operator_id });
    app.change(&assign, &op, Some(1), Some(&body)).await.expect_problem(403, "forbidden");
    let assigned =
        app.change(&assign, &app.supervisor.secret, Some(1), Some(&body)).await.expect_change(200, 2);
    assert_eq!(assigned["assignee"], json!(operator_id));
    assert_eq!(assigned["status"], "new", "assignment does not change the status");
    let event = app.events(&assigned_ticket).await.pop().expect("an event");
    assert_eq!(event["action"], "ticket.assigned");
    assert_eq!(event["changes"]["assignee"], json!({ "before": null, "after": operator_id }));

    // Another operator cannot take it; the assignee can (a no-op on the assignee).
    let take = format!("/v1/tickets/{assigned_ticket}/take");
    let problem =
        app.change(&take, &desk_2_secret, Some(2), None).await.expect_problem(409, "already-assigned");
    assert_eq!(problem["assignee"], json!(operator_id), "{problem}");
    assert_eq!(app.ticket(&assigned_ticket, &op).await["version"], 2);
    let retaken = app.change(&take, &op, Some(2), None).await.expect_change(200, 3);
    assert_eq!(retaken["assignee"], json!(operator_id));

    // An unassigned ticket is free to take.
    let taken = app
        .change(&format!("/v1/tickets/{unassigned_ticket}/take"), &desk_2_secret, Some(1), None)
        .await
        .expect_change(200, 2);
    assert_eq!(taken["assignee"], json!(desk_2_id));
    let event = app.events(&unassigned_ticket).await.pop().expect("an event");
    assert_eq!(event["actor"]["token_id"], json!(desk_2_id));

    let mine = app.get(&format!("/v1/tickets?assignee={operator_id}"), &op).await.expect(200);
    assert_eq!(ids(mine["tickets"].as_array().expect("tickets[]")), [assigned_ticket.as_str()]);

    // Assigning to a token that does not exist is a validation error; null unassigns.
    let unknown = json!({ "assignee": uuid::Uuid::now_v7() });
    app.change(&assign, &app.supervisor.secret, Some(3), Some(&unknown))
        .await
        .expect_invalid_fields(&["assignee"]);
    let unassigned = app
        .change(&assign, &app.supervisor.secret, Some(3), Some(&json!({ "assignee": null })))
        .await
        .expect_change(200, 4);
    assert_eq!(unassigned["assignee"], Value::Null);
    let taken = app.change(&take, &desk_2_secret, Some(4), None).await.expect_change(200, 5);
    assert_eq!(taken["assignee"], json!(desk_2_id));
}

async fn notes_are_listed_on_the_ticket_in_the_order_written(app: TestApp) {
    app.import_fixture_registry().await;
    let id = open_ticket(&app, "2026-11-20T10:00:00+09:00").await;
    let path = format!("/v1/tickets/{id}/notes");
    let bodies =
        ["院内LANから隔離済み", "バックアップは\n昨夜分まで取得済み", "ベンダーへ連絡予定", "同時刻のメモ"];
    let writers = [&app.operator, &app.supervisor, &app.operator, &app.supervisor];
    let times = ["10:01", "10:02", "10:02", "10:02"];
    let mut note_ids = Vec::new();
    for (index, ((body, writer), time)) in bodies.iter().zip(writers).zip(times).enumerate() {
        app.set_clock(&format!("2026-11-20T{time}:00+09:00"));
        let version = i64::try_from(index).expect("small") + 1;
        let added = app
            .change(&path, &writer.secret, Some(version), Some(&json!({ "body": body })))
            .await
            .expect_change(201, version + 1);
        note_ids.push(text(&added, "/note_id"));
    }
    app.change(&path, &app.operator.secret, Some(5), Some(&json!({ "body": "" })))
        .await
        .expect_invalid_fields(&["body"]);
    app.change(&path, &app.operator.secret, Some(5), Some(&json!({ "body": "x", "author": "y" })))
        .await
        .expect_problem(422, "validation-error");

    let ticket = app.ticket(&id, &app.operator.secret).await;
    let notes = ticket["notes"].as_array().expect("notes[]");
    let expected: Vec<Value> = note_ids
        .iter()
        .zip(bodies)
        .zip(writers)
        .zip(times)
        .map(|(((note_id, body), writer), time)| {
            json!({
                "id": note_id,
                "body": body,
                "created_at": format!("2026-11-20T{time}:00+09:00"),
                "created_by": writer.id,
            })
        })
        .collect();
    assert_eq!(*notes, expected);
    assert_eq!(ticket["first_response_at"], "2026-11-20T10:01:00+09:00", "a note is a first response");
    let events: Vec<String> = app.events(&id).await.iter().map(|e| text(e, "/action")).collect();
    assert_eq!(events, ["ticket.opened", "note.added", "note.added", "note.added", "note.added"]);
}

async fn partner_directory_refuses_invalid_partners_and_referrals_to_unsuitable_ones(app: TestApp) {
    let sup = app.supervisor.secret.clone();
    let police_two = json!({ "kind": "police", "name": "合同捜査窓口", "emails": ["a@police.example.jp"], "prefectures": ["13", "14"] });
    let problem =
        app.post_json("/v1/partners", &sup, &police_two, None).await.expect_invalid_fields(&["prefectures"]);
    assert!(text(&problem, "/errors/0/detail").contains("exactly one prefecture"), "{problem}");
    let nationwide_police =
        json!({ "kind": "police", "name": "全国窓口", "nationwide": true, "prefectures": ["13"] });
    app.post_json("/v1/partners", &sup, &nationwide_police, None)
        .await
        .expect_invalid_fields(&["prefectures"]);
    let uncovered = json!({ "kind": "legal", "name": "山田法律事務所", "emails": ["law@example.jp"] });
    app.post_json("/v1/partners", &sup, &uncovered, None).await.expect_invalid_fields(&["prefectures"]);
    let bad_email = json!({ "kind": "legal", "name": "山田法律事務所", "emails": ["law.example.jp"], "nationwide": true });
    app.post_json("/v1/partners", &sup, &bad_email, None).await.expect_invalid_fields(&["emails.0"]);
    app.post_json("/v1/partners", &sup, &json!({ "emails": [] }), None)
        .await
        .expect_invalid_fields(&["kind", "name"]);
    app.post_json("/v1/partners", &app.operator.secret, &uncovered, None)
        .await
        .expect_problem(403, "forbidden");

    // The shipped desk cannot be widened to a second prefecture or turned into another kind.
    let desk = police_desk(&app, "13").await;
    let desk_path = format!("/v1/partners/{}", text(&desk, "/id"));
    app.patch_json(&desk_path, &sup, &json!({ "prefectures": ["13", "14"] }))
        .await
        .expect_invalid_fields(&["prefectures"]);
    app.patch_json(&desk_path, &sup, &json!({ "kind": "forensic" })).await.expect_invalid_fields(&["kind"]);
    app.patch_json(&desk_path, &app.operator.secret, &json!({ "emails": ["x@police.example.jp"] }))
        .await
        .expect_problem(403, "forbidden");
    assert_eq!(police_desk(&app, "13").await, desk, "refused updates change nothing");
    let nobody = format!("/v1/partners/{}", uuid::Uuid::now_v7());
    app.patch_json(&nobody, &sup, &json!({ "active": false })).await.expect_problem(404, "not-found");

    // Referrals go only to an active partner of the right kind covering the institution's prefecture.
    let id = triaged_ransomware_ticket(&app).await;
    let osaka_only = create_forensic_partner(&app, &["27"]).await;
    let tokyo = create_forensic_partner(&app, &["13"]).await;
    let tokyo_path = format!("/v1/partners/{}", text(&tokyo, "/id"));
    let inactive = app.patch_json(&tokyo_path, &sup, &json!({ "active": false })).await.expect(200);
    assert_eq!(inactive["active"], false);
    let refer = |partner_id: &Value| json!({ "kind": "forensic", "partner_id": partner_id, "consent": consent("2026-11-20T10:00:00+09:00") });
    let referrals = format!("/v1/tickets/{id}/referrals");
    for (partner, names) in [
        (&osaka_only["id"], "does not cover prefecture 13"),
        (&tokyo["id"], "inactive"),
        (&desk["id"], "police partner"),
        (&json!(uuid::Uuid::now_v7()), "no partner"),
    ] {
        let problem = app
            .change(&referrals, &app.operator.secret, Some(2), Some(&refer(partner)))
            .await
            .expect_problem(422, "partner-unavailable");
        assert!(text(&problem, "/detail").contains(names), "{problem}");
    }
    let missing = json!({ "kind": "legal", "consent": consent("2026-11-20T10:00:00+09:00") });
    let problem = app
        .change(&referrals, &app.operator.secret, Some(2), Some(&missing))
        .await
        .expect_problem(422, "partner-unavailable");
    assert!(text(&problem, "/detail").contains("partner_id"), "{problem}");
    assert_eq!(app.ticket(&id, &app.operator.secret).await["version"], 2);

    app.patch_json(&tokyo_path, &sup, &json!({ "active": true })).await.expect(200);
    let escalated = app
        .change(&referrals, &app.operator.secret, Some(2), Some(&refer(&tokyo["id"])))
        .await
        .expect_change(201, 3);
    assert_eq!(escalated["referral"]["partner"]["id"], tokyo["id"]);
    let listed = app.get("/v1/partners?kind=forensic&prefecture=13", &app.operator.secret).await.expect(200);
    assert_eq!(ids(listed["partners"].as_array().expect("partners[]")), [text(&tokyo, "/id")]);
}

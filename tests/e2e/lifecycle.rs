//! The ticket lifecycle over HTTP, end to end: a call, triage, a forensic referral with consent, the
//! police handoff to the desk of the institution's prefecture on a Sunday evening (once on an ordinary
//! weekend, once before a national holiday), the partners' answers, resolution and closing. Every change
//! sends If-Match and gets the next ETag; the audit trail records each step with before and after.

use serde_json::{Value, json};

use crate::helpers::{
    TestApp, assert_timestamps_in_jst, consent, create_forensic_partner, give_desk_an_email, open_ticket,
    police_desk, ransomware_triage, sample_call_body, text, with,
};

on_both_backends!(
    sunday_evening_ransomware_call_goes_through_triage_forensic_and_police_referrals_to_closed,
    handoff_on_the_sunday_before_a_holiday_says_the_desk_opens_next_on_tuesday_and_completes,
    handoff_on_the_holiday_itself_names_it_and_a_weekday_handoff_has_no_fallback,
    handoff_goes_to_the_active_desk_of_the_institutions_prefecture,
);

/// One run of the full path: the call and the handoff on a Sunday evening, the partners answering once
/// the desk has opened.
struct SundayCase {
    /// The Sunday, YYYY-MM-DD.
    sunday: &'static str,
    /// When the police desk opens next after that Sunday evening.
    next_open: &'static str,
    /// A time after that opening, when the partners answer (RFC 3339).
    answered: &'static str,
}

fn at(date: &str, time: &str) -> String {
    format!("{date}T{time}:00+09:00")
}

fn allowed(ticket: &Value) -> Vec<(String, String)> {
    ticket["allowed_transitions"]
        .as_array()
        .unwrap_or_else(|| panic!("allowed_transitions[]: {ticket}"))
        .iter()
        .map(|t| (text(t, "/action"), text(t, "/to")))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

/// The ids in the overdue queue.
async fn overdue(app: &TestApp) -> Vec<String> {
    let listed = app.get("/v1/tickets?overdue=true", &app.operator.secret).await.expect(200);
    listed["tickets"]
        .as_array()
        .unwrap_or_else(|| panic!("tickets[]: {listed}"))
        .iter()
        .map(|t| text(t, "/id"))
        .collect()
}

async fn full_path(app: TestApp, case: SundayCase) {
    let day = case.sunday;
    let op = app.operator.secret.clone();
    app.import_fixture_registry().await;

    // The call, inside 09:00–21:00 on the Sunday.
    app.set_clock(&at(day, "18:30"));
    let id = open_ticket(&app, &at(day, "18:30")).await;
    let path = |action: &str| format!("/v1/tickets/{id}/{action}");
    let ticket = app.ticket(&id, &op).await;
    assert_eq!((ticket["status"].clone(), ticket["version"].clone()), (json!("new"), json!(1)));
    assert_eq!(allowed(&ticket), pairs(&[("triage", "triaged"), ("decline", "declined")]));
    assert_eq!(ticket["triage"], Value::Null);
    assert_eq!(ticket["caller"]["verification"], "verified", "{ticket}");
    assert_eq!(ticket["sla"]["first_response"]["due_at"], at(day, "18:45"), "{ticket}");
    assert_eq!(ticket["sla"]["overdue"], false);

    // A forensic vendor covering Tokyo, created by the supervisor.
    let vendor = create_forensic_partner(&app, &["13", "14"]).await;
    let vendor_id = text(&vendor, "/id");

    // Triage: ransomware, care suspended → P1 suggested and applied.
    app.set_clock(&at(day, "18:35"));
    let triaged =
        app.change(&path("triage"), &op, Some(1), Some(&ransomware_triage())).await.expect_change(200, 2);
    assert_eq!(triaged["status"], "triaged");
    assert_eq!(triaged["priority"], "P1");
    assert_eq!(triaged["triage"]["category"], "serious_incident");
    assert_eq!(triaged["triage"]["incident_kind"], "ransomware");
    assert_eq!(triaged["triage"]["suggested_priority"], "P1");
    assert_eq!(triaged["triage"]["priority"], "P1");
    assert_eq!(triaged["triage"]["priority_reason"], Value::Null);
    assert_eq!(triaged["triage"]["facts"]["care_suspended"], true);
    assert_eq!(triaged["triage"]["facts"]["systems_affected"], json!(["電子カルテ", "レセコン"]));
    assert_eq!(triaged["triage"]["triaged_by"], json!(app.operator.id));
    assert_eq!(triaged["first_response_at"], at(day, "18:35"));
    assert_eq!(
        allowed(&triaged),
        pairs(&[("triage", "triaged"), ("start", "in_progress"), ("decline", "declined")])
    );

    let started = app.change(&path("start"), &op, Some(2), None).await.expect_change(200, 3);
    assert_eq!(started["status"], "in_progress");
    assert_eq!(allowed(&started), pairs(&[("triage", "in_progress"), ("resolve", "resolved")]));

    // The member asks for a forensic vendor.
    app.set_clock(&at(day, "18:45"));
    let forensic_request = json!({
        "kind": "forensic",
        "partner_id": vendor_id,
        "consent": consent(&at(day, "18:40")),
        "note": "電子カルテサーバのログ保全を依頼",
    });
    let escalated =
        app.change(&path("referrals"), &op, Some(3), Some(&forensic_request)).await.expect_change(201, 4);
    assert_eq!(escalated["status"], "escalated");
    let forensic = escalated["referral"].clone();
    let forensic_id = text(&forensic, "/id");
    assert_eq!(forensic["kind"], "forensic");
    assert_eq!(forensic["status"], "requested");
    assert_eq!(forensic["partner"], json!({ "id": vendor_id, "name": "東京フォレンジック株式会社" }));
    assert_eq!(
        forensic["consent"],
        json!({ "given_by": "member", "name": "山田 太郎", "given_at": at(day, "18:40") })
    );
    assert_eq!(forensic["request_note"], "電子カルテサーバのログ保全を依頼");
    assert_eq!(forensic["acceptance"]["due_at"], at(day, "20:45"), "P1: two hours to accept");
    assert_eq!(forensic["allowed_actions"], json!(["accept", "decline", "cancel"]));
    assert!(escalated.get("police_desk").is_none(), "{escalated}");

    // The police handoff goes to the Tokyo desk, which has no e-mail address yet: refused, naming
    // the desk and what to fill in, and nothing changes.
    let desk = police_desk(&app, "13").await;
    let desk_id = text(&desk, "/id");
    assert_eq!(desk["prefectures"], json!(["13"]));
    assert_eq!(desk["emails"], json!([]));
    app.set_clock(&at(day, "18:55"));
    let police_request =
        json!({ "kind": "police", "consent": consent(&at(day, "18:50")), "note": "被害相談" });
    let problem = app
        .change(&path("referrals"), &op, Some(4), Some(&police_request))
        .await
        .expect_problem(422, "partner-unavailable");
    let detail = text(&problem, "/detail");
    assert!(
        detail.contains(&format!("PATCH /v1/partners/{desk_id}")) && detail.contains("emails"),
        "{detail}"
    );
    assert!(detail.contains(&text(&desk, "/name")), "{detail}");
    assert_eq!(app.ticket(&id, &op).await["version"], 4, "a refused handoff changes nothing");

    give_desk_an_email(&app, &desk_id).await;
    app.set_clock(&at(day, "19:00"));
    let handed =
        app.change(&path("referrals"), &op, Some(4), Some(&police_request)).await.expect_change(201, 5);
    assert_eq!(handed["status"], "escalated");
    let police = handed["referral"].clone();
    let police_id = text(&police, "/id");
    assert_eq!(police["kind"], "police");
    assert_eq!(police["status"], "requested");
    assert_eq!(police["partner"]["id"], json!(desk_id), "{police}");
    let desk_view = &handed["police_desk"];
    assert_eq!(desk_view["partner_id"], json!(desk_id), "{desk_view}");
    assert_eq!(desk_view["open_now"], false, "{desk_view}");
    assert_eq!(desk_view["closed_reason"], "closed on Sun", "{desk_view}");
    assert_eq!(desk_view["next_open"], case.next_open, "{desk_view}");
    assert_eq!(desk_view["urgent_fallback"]["emergency_number"], "110", "{desk_view}");
    assert!(text(desk_view, "/urgent_fallback/advice").contains("110"), "{desk_view}");
    assert_eq!(
        desk_view["urgent_fallback"]["online_report_url"], "https://www.npa.go.jp/bureau/cyber/soudan.html",
        "{desk_view}"
    );
    assert_eq!(desk_view["office_hours"]["open"], "08:30", "{desk_view}");
    assert!(text(desk_view, "/context").contains("覚書"), "{desk_view}");
    assert_timestamps_in_jst(&handed);

    // Completing a referral nobody accepted yet, or resolving with open referrals, is refused.
    let problem = app
        .change(&format!("/v1/referrals/{police_id}/complete"), &op, Some(5), Some(&json!({})))
        .await
        .expect_state_problem("invalid-referral-transition", "referral_status", "requested");
    // What is possible instead, and where each action leads.
    assert_eq!(
        problem["allowed"],
        json!([
            { "action": "accept", "to": "accepted" },
            { "action": "decline", "to": "declined" },
            { "action": "cancel", "to": "cancelled" },
        ]),
        "{problem}"
    );
    let resolution = json!({ "resolution_summary": "バックアップから復旧、警察へ被害届提出済み" });
    let problem = app
        .change(&path("resolve"), &op, Some(5), Some(&resolution))
        .await
        .expect_problem(409, "open-referrals");
    let open: Vec<&str> = problem["open_referrals"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|referral| referral["kind"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(open, ["forensic", "police"], "{problem}");

    // Once the desk is open the partners answer: the police with their receipt number.
    app.set_clock(case.answered);
    assert_eq!(overdue(&app).await, [id.as_str()], "both referrals are past their two hours to accept");
    let referral = |rid: &str, action: &str| format!("/v1/referrals/{rid}/{action}");
    let accepted = app
        .change(
            &referral(&forensic_id, "accept"),
            &op,
            Some(5),
            Some(&json!({ "note": "担当者アサイン済み" })),
        )
        .await
        .expect_change(200, 6);
    assert_eq!(accepted["referral"]["status"], "accepted");
    assert_eq!(accepted["referral"]["last_note"], "担当者アサイン済み");
    app.change(&referral(&police_id, "accept"), &op, Some(6), Some(&json!({ "police_contact": "田中" })))
        .await
        .expect_invalid_fields(&["police_receipt_number"]);
    let receipt = json!({ "police_receipt_number": "警視庁第2026-001234号", "police_contact": "サイバー犯罪対策課 田中" });
    let accepted =
        app.change(&referral(&police_id, "accept"), &op, Some(6), Some(&receipt)).await.expect_change(200, 7);
    let police = &accepted["referral"];
    assert_eq!(police["status"], "accepted");
    assert_eq!(police["police_receipt_number"], "警視庁第2026-001234号");
    assert_eq!(police["police_contact"], "サイバー犯罪対策課 田中");
    assert_eq!(police["accepted_at"], case.answered);
    assert_eq!(police["acceptance"]["met_at"], police["accepted_at"]);
    assert_eq!(police["allowed_actions"], json!(["complete", "cancel"]));
    assert_eq!(police["acceptance"]["overdue"], true, "accepted, but late: {police}");
    assert_eq!(overdue(&app).await, Vec::<String>::new(), "every referral is accepted now");

    app.change(&referral(&forensic_id, "complete"), &op, Some(7), Some(&json!({ "note": "報告書受領" })))
        .await
        .expect_change(200, 8);
    let completed =
        app.change(&referral(&police_id, "complete"), &op, Some(8), None).await.expect_change(200, 9);
    assert_eq!(completed["referral"]["status"], "completed");
    assert_eq!(completed["referral"]["completed_at"], case.answered);
    assert_eq!(completed["status"], "escalated");

    let resolved = app.change(&path("resolve"), &op, Some(9), Some(&resolution)).await.expect_change(200, 10);
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["resolution_summary"], resolution["resolution_summary"]);
    assert_eq!(resolved["resolved_at"], case.answered);
    assert_eq!(allowed(&resolved), pairs(&[("close", "closed")]));
    let closed = app.change(&path("close"), &op, Some(10), None).await.expect_change(200, 11);
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["closed_at"], case.answered);

    // The ticket as each role sees it now.
    let ticket = app.ticket(&id, &op).await;
    assert_eq!(ticket, closed, "the change's answer is the ticket view");
    assert_eq!(allowed(&ticket), pairs(&[]), "an operator can do nothing with a closed ticket");
    let as_supervisor = app.ticket(&id, &app.supervisor.secret).await;
    assert_eq!(allowed(&as_supervisor), pairs(&[("reopen", "in_progress")]));
    assert_eq!(ticket["triage"]["category"], "serious_incident");
    assert_eq!(ticket["priority"], "P1");
    let referrals = ticket["referrals"].as_array().expect("referrals[]");
    let summary: Vec<(String, String)> =
        referrals.iter().map(|r| (text(r, "/kind"), text(r, "/status"))).collect();
    assert_eq!(summary, pairs(&[("forensic", "completed"), ("police", "completed")]));
    assert_eq!(referrals[1]["police_receipt_number"], "警視庁第2026-001234号");
    assert_eq!(referrals[1]["requested_at"], at(day, "19:00"));
    assert_eq!(referrals[0]["allowed_actions"], json!([]));
    let sla = &ticket["sla"];
    assert_eq!(
        sla["first_response"],
        json!({ "due_at": at(day, "18:45"), "met_at": at(day, "18:35"), "overdue": false })
    );
    assert_eq!(sla["resolution"]["met_at"], case.answered, "{sla}");
    assert_eq!(sla["resolution"]["overdue"], false, "{sla}");
    assert_eq!(sla["overdue"], false, "{sla}");
    assert_timestamps_in_jst(&ticket);

    // The audit trail: each step, by whom, with the status before and after.
    let events = app.events(&id).await;
    let actions: Vec<String> = events.iter().map(|e| text(e, "/action")).collect();
    assert_eq!(
        actions,
        [
            "ticket.opened",
            "ticket.triaged",
            "ticket.started",
            "referral.requested",
            "referral.requested",
            "referral.accepted",
            "referral.accepted",
            "referral.completed",
            "referral.completed",
            "ticket.resolved",
            "ticket.closed",
        ],
        "refused changes leave no event"
    );
    let status_changes: Vec<Value> = events[1..].iter().map(|e| e["changes"]["status"].clone()).collect();
    let step = |before: &str, after: &str| json!({ "before": before, "after": after });
    assert_eq!(
        status_changes,
        [
            step("new", "triaged"),
            step("triaged", "in_progress"),
            step("in_progress", "escalated"),
            step("escalated", "escalated"),
            step("requested", "accepted"),
            step("requested", "accepted"),
            step("accepted", "completed"),
            step("accepted", "completed"),
            step("escalated", "resolved"),
            step("resolved", "closed"),
        ]
    );
    assert_eq!(events[1]["changes"]["triage"]["before"], Value::Null, "{}", events[1]);
    assert_eq!(
        events[1]["changes"]["triage"]["after"],
        json!({ "category": "serious_incident", "incident_kind": "ransomware", "priority": "P1" })
    );
    assert_eq!(events[3]["changes"]["referral_id"], json!(forensic_id));
    assert_eq!(events[3]["changes"]["kind"], "forensic");
    assert_eq!(events[4]["changes"]["referral_id"], json!(police_id));
    assert_eq!(events[4]["changes"]["kind"], "police");
    assert_eq!(events[4]["changes"]["partner_id"], json!(desk_id));
    assert_eq!(events[4]["occurred_at"], at(day, "19:00"));
    assert_eq!(events[6]["changes"]["police_receipt_number"], "警視庁第2026-001234号");
    assert_eq!(events[9]["changes"]["resolution_summary"], resolution["resolution_summary"]);
    for event in &events {
        assert_eq!(event["actor"]["token_id"], json!(app.operator.id), "{event}");
    }
}

async fn sunday_evening_ransomware_call_goes_through_triage_forensic_and_police_referrals_to_closed(
    app: TestApp,
) {
    let case = SundayCase {
        sunday: "2026-11-29",
        next_open: "2026-11-30T08:30:00+09:00",
        answered: "2026-11-30T09:10:00+09:00",
    };
    full_path(app, case).await;
}

async fn handoff_on_the_sunday_before_a_holiday_says_the_desk_opens_next_on_tuesday_and_completes(
    app: TestApp,
) {
    // Monday 2026-11-23 is 勤労感謝の日 (Labour Thanksgiving Day): the desk stays closed until Tuesday.
    let case = SundayCase {
        sunday: "2026-11-22",
        next_open: "2026-11-24T08:30:00+09:00",
        answered: "2026-11-24T09:10:00+09:00",
    };
    full_path(app, case).await;
}

async fn handoff_on_the_holiday_itself_names_it_and_a_weekday_handoff_has_no_fallback(app: TestApp) {
    let op = app.operator.secret.clone();
    app.import_fixture_registry().await;
    app.set_clock("2026-11-23T10:00:00+09:00");
    let id = open_ticket(&app, "2026-11-23T10:00:00+09:00").await;
    app.change(&format!("/v1/tickets/{id}/triage"), &op, Some(1), Some(&ransomware_triage()))
        .await
        .expect_change(200, 2);
    let desk_id = text(&police_desk(&app, "13").await, "/id");
    give_desk_an_email(&app, &desk_id).await;

    let police_request = json!({ "kind": "police", "consent": consent("2026-11-23T10:00:00+09:00") });
    let handed = app
        .change(&format!("/v1/tickets/{id}/referrals"), &op, Some(2), Some(&police_request))
        .await
        .expect_change(201, 3);
    let desk = &handed["police_desk"];
    assert_eq!(desk["open_now"], false, "{desk}");
    let reason = text(desk, "/closed_reason");
    assert!(reason.contains("勤労感謝の日"), "{reason}");
    assert_eq!(desk["next_open"], "2026-11-24T08:30:00+09:00", "{desk}");
    assert_eq!(desk["urgent_fallback"]["emergency_number"], "110", "{desk}");

    // A second open referral to the same desk is refused; once the first is cancelled, a handoff on
    // Tuesday morning finds the desk open, with no fallback needed.
    let problem = app
        .change(&format!("/v1/tickets/{id}/referrals"), &op, Some(3), Some(&police_request))
        .await
        .expect_problem(409, "duplicate-referral");
    assert!(problem["detail"].as_str().is_some(), "{problem}");
    let first = text(&handed, "/referral/id");
    let cancelled = app
        .change(
            &format!("/v1/referrals/{first}/cancel"),
            &op,
            Some(3),
            Some(&json!({ "note": "翌営業日に再依頼" })),
        )
        .await
        .expect_change(200, 4);
    assert_eq!(cancelled["referral"]["status"], "cancelled");
    assert_eq!(cancelled["referral"]["ended_at"], "2026-11-23T10:00:00+09:00");
    assert_eq!(cancelled["status"], "escalated", "cancelling does not de-escalate");

    app.set_clock("2026-11-24T10:00:00+09:00");
    let handed = app
        .change(&format!("/v1/tickets/{id}/referrals"), &op, Some(4), Some(&police_request))
        .await
        .expect_change(201, 5);
    let desk = &handed["police_desk"];
    assert_eq!(desk["open_now"], true, "{desk}");
    assert_eq!(desk["closed_reason"], Value::Null, "{desk}");
    assert_eq!(desk["urgent_fallback"], Value::Null, "{desk}");
    assert_eq!(desk["next_open"], "2026-11-25T08:30:00+09:00", "{desk}");
    let statuses: Vec<String> =
        handed["referrals"].as_array().expect("referrals[]").iter().map(|r| text(r, "/status")).collect();
    assert_eq!(statuses, ["cancelled", "requested"]);
}

async fn handoff_goes_to_the_active_desk_of_the_institutions_prefecture(app: TestApp) {
    let op = app.operator.secret.clone();
    let sup = app.supervisor.secret.clone();
    app.import_fixture_registry().await;
    // 山田 太郎 calls about his Osaka hospital: the Osaka desk (27) takes the handoff, not Tokyo's.
    let osaka_call = with(
        with(
            with(sample_call_body(), "/institution/name", json!("梅田中央病院")),
            "/institution/address",
            json!("大阪府大阪市北区梅田1-1-1"),
        ),
        "/institution/prefecture",
        json!("27"),
    );
    let logged = app.log_call(&osaka_call).await;
    assert_eq!(logged["call"]["verification"]["outcome"], "verified", "{logged}");
    let id = text(&logged, "/ticket/id");
    app.change(&format!("/v1/tickets/{id}/triage"), &op, Some(1), Some(&ransomware_triage()))
        .await
        .expect_change(200, 2);
    let osaka = police_desk(&app, "27").await;
    assert_eq!(osaka["prefectures"], json!(["27"]));
    give_desk_an_email(&app, &text(&police_desk(&app, "13").await, "/id")).await;

    // The shipped Osaka desk is replaced: a new desk row with contacts, the old one deactivated.
    let replacement = json!({
        "kind": "police",
        "name": "大阪府警察 サイバー犯罪相談窓口（新）",
        "emails": ["cyber@police.osaka.example.jp"],
        "phone": "06-6943-1234",
        "prefectures": ["27"],
    });
    let replacement = app.post_json("/v1/partners", &sup, &replacement, None).await.expect(201);
    let old = app
        .patch_json(&format!("/v1/partners/{}", text(&osaka, "/id")), &sup, &json!({ "active": false }))
        .await
        .expect(200);
    assert_eq!(old["active"], false);

    let police_request = json!({ "kind": "police", "consent": consent("2026-11-20T10:00:00+09:00") });
    let handed = app
        .change(&format!("/v1/tickets/{id}/referrals"), &op, Some(2), Some(&police_request))
        .await
        .expect_change(201, 3);
    assert_eq!(handed["referral"]["partner"]["id"], replacement["id"], "{handed}");
    assert_eq!(handed["police_desk"]["partner_id"], replacement["id"]);
    // Friday 10:00: the desk is open.
    assert_eq!(handed["police_desk"]["open_now"], true);
    assert_eq!(handed["police_desk"]["urgent_fallback"], Value::Null);
}

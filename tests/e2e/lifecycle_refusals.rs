//! Refused ticket changes: each is a problem+json with a stable type, and writes nothing (the version
//! and the audit trail stay as they were).

use futures_util::future::join;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, consent, create_forensic_partner, give_desk_an_email, open_ticket, police_desk,
    ransomware_triage, sample_call_body, text, triaged_ransomware_ticket, with,
};

on_both_backends!(
    referral_without_consent_is_422_naming_consent,
    police_referral_on_a_preventive_consultation_is_refused_as_police_needs_serious_incident,
    resolving_with_an_open_referral_is_409_open_referrals_until_it_is_closed,
    stale_if_match_is_412_with_the_current_version_and_missing_if_match_is_428,
    operator_reopening_is_403_and_a_supervisor_reopens_with_a_reason_to_in_progress,
    closing_a_new_ticket_is_409_invalid_transition_listing_what_is_allowed,
    unverified_callers_serious_incident_gets_referrals_only_after_a_supervisor_confirms_the_caller,
    out_of_scope_triage_needs_a_decline_reason_and_then_declines_the_ticket,
    two_operators_triaging_at_once_get_exactly_one_200_and_one_412,
);

/// Asserts that a refused change left the ticket alone: same version, same number of events.
async fn assert_unchanged(app: &TestApp, id: &str, version: i64, events: usize) {
    let ticket = app.ticket(id, &app.operator.secret).await;
    assert_eq!(ticket["version"], json!(version), "a refused change must not bump the version");
    assert_eq!(app.events(id).await.len(), events, "a refused change must not leave an event");
}

async fn referral_without_consent_is_422_naming_consent(app: TestApp) {
    let id = triaged_ransomware_ticket(&app).await;
    let vendor = create_forensic_partner(&app, &["13"]).await;
    let path = format!("/v1/tickets/{id}/referrals");
    let without_consent = json!({ "kind": "forensic", "partner_id": vendor["id"] });
    let problem = app
        .change(&path, &app.operator.secret, Some(2), Some(&without_consent))
        .await
        .expect_invalid_fields(&["consent"]);
    assert!(text(&problem, "/errors/0/detail").contains("consent"), "{problem}");

    // Consent in the future, or without a name, is refused on the sub-field.
    let future = with(without_consent.clone(), "/consent", consent("2026-11-20T10:30:00+09:00"));
    app.change(&path, &app.operator.secret, Some(2), Some(&future))
        .await
        .expect_invalid_fields(&["consent.given_at"]);
    let nameless = with(
        future,
        "/consent",
        json!({ "given_by": "member", "name": " ", "given_at": "2026-11-20T09:59:00+09:00" }),
    );
    app.change(&path, &app.operator.secret, Some(2), Some(&nameless))
        .await
        .expect_invalid_fields(&["consent.name"]);
    assert_unchanged(&app, &id, 2, 2).await;
    assert_eq!(app.ticket(&id, &app.operator.secret).await["status"], "triaged");
}

async fn police_referral_on_a_preventive_consultation_is_refused_as_police_needs_serious_incident(
    app: TestApp,
) {
    app.import_fixture_registry().await;
    let id = open_ticket(&app, "2026-11-20T10:00:00+09:00").await;
    let consultation = json!({ "category": "preventive_consultation", "incident_kind": "none" });
    let triaged = app
        .change(&format!("/v1/tickets/{id}/triage"), &app.operator.secret, Some(1), Some(&consultation))
        .await
        .expect_change(200, 2);
    assert_eq!(triaged["priority"], "P4");
    let desk_id = text(&police_desk(&app, "13").await, "/id");
    give_desk_an_email(&app, &desk_id).await;

    let police = json!({ "kind": "police", "consent": consent("2026-11-20T10:00:00+09:00") });
    let problem = app
        .change(&format!("/v1/tickets/{id}/referrals"), &app.operator.secret, Some(2), Some(&police))
        .await
        .expect_problem(422, "referral-not-allowed");
    assert_eq!(problem["reason"], "police-needs-serious-incident", "{problem}");
    assert!(text(&problem, "/detail").contains("preventive_consultation"), "{problem}");

    // Forensic and legal referrals are for incidents too.
    let vendor = create_forensic_partner(&app, &["13"]).await;
    let forensic = json!({ "kind": "forensic", "partner_id": vendor["id"], "consent": consent("2026-11-20T10:00:00+09:00") });
    let problem = app
        .change(&format!("/v1/tickets/{id}/referrals"), &app.operator.secret, Some(2), Some(&forensic))
        .await
        .expect_problem(422, "referral-not-allowed");
    assert_eq!(problem["reason"], "not-an-incident", "{problem}");
    assert_unchanged(&app, &id, 2, 2).await;
}

async fn resolving_with_an_open_referral_is_409_open_referrals_until_it_is_closed(app: TestApp) {
    let id = triaged_ransomware_ticket(&app).await;
    let op = app.operator.secret.clone();
    let vendor = create_forensic_partner(&app, &["13"]).await;
    let forensic = json!({ "kind": "forensic", "partner_id": vendor["id"], "consent": consent("2026-11-20T10:00:00+09:00") });
    let escalated = app
        .change(&format!("/v1/tickets/{id}/referrals"), &op, Some(2), Some(&forensic))
        .await
        .expect_change(201, 3);
    let referral_id = text(&escalated, "/referral/id");

    let summary = json!({ "resolution_summary": "初動対応を助言" });
    let resolve = format!("/v1/tickets/{id}/resolve");
    let problem =
        app.change(&resolve, &op, Some(3), Some(&summary)).await.expect_problem(409, "open-referrals");
    // The problem lists the open referral with the actions that would close it.
    let open: Vec<hotline_api::views::OpenReferralView> =
        serde_json::from_value(problem["open_referrals"].clone()).expect("open referrals");
    assert_eq!(open.len(), 1, "{problem}");
    assert_eq!((open[0].id.to_string(), open[0].status.as_str()), (referral_id.clone(), "requested"));
    let actions: Vec<&str> = open[0].allowed_actions.iter().map(|action| action.as_str()).collect();
    assert_eq!(actions, ["accept", "decline", "cancel"]);
    assert!(text(&problem, "/detail").contains("complete or cancel"), "{problem}");
    assert_unchanged(&app, &id, 3, 3).await;

    // Accepted is still open; declined by the partner closes it.
    app.change(&format!("/v1/referrals/{referral_id}/accept"), &op, Some(3), None)
        .await
        .expect_change(200, 4);
    app.change(&resolve, &op, Some(4), Some(&summary)).await.expect_problem(409, "open-referrals");
    app.change(&format!("/v1/referrals/{referral_id}/decline"), &op, Some(4), None)
        .await
        .expect_state_problem("invalid-referral-transition", "referral_status", "accepted");
    app.change(
        &format!("/v1/referrals/{referral_id}/cancel"),
        &op,
        Some(4),
        Some(&json!({ "note": "会員の意向で中止" })),
    )
    .await
    .expect_change(200, 5);
    let resolved = app.change(&resolve, &op, Some(5), Some(&summary)).await.expect_change(200, 6);
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["referrals"][0]["status"], "cancelled");
}

async fn stale_if_match_is_412_with_the_current_version_and_missing_if_match_is_428(app: TestApp) {
    app.import_fixture_registry().await;
    let op = app.operator.secret.clone();
    let id = open_ticket(&app, "2026-11-20T10:00:00+09:00").await;
    let triage = format!("/v1/tickets/{id}/triage");
    app.change(&triage, &op, Some(1), Some(&ransomware_triage())).await.expect_change(200, 2);

    // Someone else's edit moved the ticket to version 2; a change still based on version 1 is refused.
    let note = json!({ "body": "古い画面からのメモ" });
    let response = app.change(&format!("/v1/tickets/{id}/notes"), &op, Some(1), Some(&note)).await;
    let problem = response.expect_problem(412, "precondition-failed");
    assert_eq!(problem["current_version"], 2, "{problem}");
    assert_eq!(response.etag_version(), 2);
    let response = app.change(&format!("/v1/tickets/{id}/start"), &op, Some(7), None).await;
    assert_eq!(response.expect_problem(412, "precondition-failed")["current_version"], 2);
    assert_eq!(response.etag_version(), 2);

    let response = app.change(&format!("/v1/tickets/{id}/notes"), &op, None, Some(&note)).await;
    let problem = response.expect_problem(428, "precondition-required");
    assert!(text(&problem, "/detail").contains("If-Match"), "{problem}");
    app.change(&format!("/v1/tickets/{id}/start"), &op, None, None)
        .await
        .expect_problem(428, "precondition-required");
    assert_unchanged(&app, &id, 2, 2).await;

    // The weak and the bare forms of the ETag are read too.
    let request = app
        .request(reqwest::Method::POST, &format!("/v1/tickets/{id}/start"))
        .bearer_auth(&op)
        .header("if-match", "W/\"2\"");
    app.send(request).await.expect_change(200, 3);
    let request = app
        .request(reqwest::Method::POST, &format!("/v1/tickets/{id}/notes"))
        .bearer_auth(&op)
        .header("if-match", "3")
        .header("content-type", "application/json")
        .body(note.to_string());
    app.send(request).await.expect_change(201, 4);
}

async fn operator_reopening_is_403_and_a_supervisor_reopens_with_a_reason_to_in_progress(app: TestApp) {
    let id = triaged_ransomware_ticket(&app).await;
    let op = app.operator.secret.clone();
    let path = |action: &str| format!("/v1/tickets/{id}/{action}");
    app.change(&path("start"), &op, Some(2), None).await.expect_change(200, 3);
    app.change(&path("resolve"), &op, Some(3), Some(&json!({ "resolution_summary": "復旧済み" })))
        .await
        .expect_change(200, 4);
    let closed = app.change(&path("close"), &op, Some(4), None).await.expect_change(200, 5);
    assert_eq!(closed["closed_at"], "2026-11-20T10:00:00+09:00");

    let reason = json!({ "reason": "再感染の連絡があった" });
    let problem =
        app.change(&path("reopen"), &op, Some(5), Some(&reason)).await.expect_problem(403, "forbidden");
    assert!(text(&problem, "/detail").contains("supervisor"), "{problem}");
    assert_unchanged(&app, &id, 5, 5).await;

    // A supervisor must give a reason.
    app.change(&path("reopen"), &app.supervisor.secret, Some(5), Some(&json!({})))
        .await
        .expect_invalid_fields(&["reason"]);
    app.change(&path("reopen"), &app.supervisor.secret, Some(5), Some(&json!({ "reason": "  " })))
        .await
        .expect_invalid_fields(&["reason"]);
    let reopened = app
        .change(&path("reopen"), &app.supervisor.secret, Some(5), Some(&reason))
        .await
        .expect_change(200, 6);
    assert_eq!(reopened["status"], "in_progress");
    assert_eq!(reopened["resolved_at"], Value::Null);
    assert_eq!(reopened["closed_at"], Value::Null);
    assert_eq!(reopened["resolution_summary"], Value::Null);
    let events = app.events(&id).await;
    let reopen = events.last().expect("an event");
    assert_eq!(reopen["action"], "ticket.reopened");
    assert_eq!(reopen["actor"]["token_id"], json!(app.supervisor.id));
    assert_eq!(reopen["changes"]["status"], json!({ "before": "closed", "after": "in_progress" }));
    assert_eq!(reopen["changes"]["reason"], "再感染の連絡があった");
    assert_eq!(reopen["changes"]["resolution_summary"], json!({ "before": "復旧済み", "after": null }));
}

async fn closing_a_new_ticket_is_409_invalid_transition_listing_what_is_allowed(app: TestApp) {
    app.import_fixture_registry().await;
    let id = open_ticket(&app, "2026-11-20T10:00:00+09:00").await;
    let problem = app
        .change(&format!("/v1/tickets/{id}/close"), &app.operator.secret, Some(1), None)
        .await
        .expect_state_problem("invalid-transition", "ticket_status", "new");
    assert_eq!(
        problem["allowed"],
        json!([{ "action": "triage", "to": "triaged" }, { "action": "decline", "to": "declined" }]),
        "{problem}"
    );
    assert!(text(&problem, "/detail").contains("close"), "{problem}");
    for action in ["start", "resolve"] {
        let body = (action == "resolve").then(|| json!({ "resolution_summary": "x" }));
        app.change(&format!("/v1/tickets/{id}/{action}"), &app.operator.secret, Some(1), body.as_ref())
            .await
            .expect_state_problem("invalid-transition", "ticket_status", "new");
    }
    // A referral before triage is refused by the referral rules.
    let police = json!({ "kind": "police", "consent": consent("2026-11-20T10:00:00+09:00") });
    let problem = app
        .change(&format!("/v1/tickets/{id}/referrals"), &app.operator.secret, Some(1), Some(&police))
        .await
        .expect_problem(422, "referral-not-allowed");
    assert_eq!(problem["reason"], "ticket-status", "{problem}");
    assert_unchanged(&app, &id, 1, 1).await;
}

async fn unverified_callers_serious_incident_gets_referrals_only_after_a_supervisor_confirms_the_caller(
    app: TestApp,
) {
    app.import_fixture_registry().await;
    let op = app.operator.secret.clone();
    let unknown = with(sample_call_body(), "/identifier/value", json!("999999"));
    let logged = app.log_call(&unknown).await;
    assert_eq!(logged["call"]["verification"]["outcome"], "not_found", "{logged}");
    let id = text(&logged, "/ticket/id");
    let path = |action: &str| format!("/v1/tickets/{id}/{action}");
    app.change(&path("triage"), &op, Some(1), Some(&ransomware_triage())).await.expect_change(200, 2);
    let vendor = create_forensic_partner(&app, &["13"]).await;
    let forensic = json!({ "kind": "forensic", "partner_id": vendor["id"], "consent": consent("2026-11-20T10:00:00+09:00") });
    let police = json!({ "kind": "police", "consent": consent("2026-11-20T10:00:00+09:00") });
    for request in [&forensic, &police] {
        let problem = app
            .change(&path("referrals"), &op, Some(2), Some(request))
            .await
            .expect_problem(422, "referral-not-allowed");
        assert_eq!(problem["reason"], "caller-unconfirmed", "{problem}");
    }
    assert_unchanged(&app, &id, 2, 2).await;

    // Only a supervisor confirms, with a note.
    let note = json!({ "note": "院長本人に折り返し電話で確認" });
    app.change(&path("confirm-caller"), &op, Some(2), Some(&note)).await.expect_problem(403, "forbidden");
    app.change(&path("confirm-caller"), &app.supervisor.secret, Some(2), Some(&json!({})))
        .await
        .expect_invalid_fields(&["note"]);
    assert_unchanged(&app, &id, 2, 2).await;
    let confirmed = app
        .change(&path("confirm-caller"), &app.supervisor.secret, Some(2), Some(&note))
        .await
        .expect_change(200, 3);
    assert_eq!(confirmed["caller"]["verification"], "not_found");
    assert_eq!(confirmed["caller"]["confirmed_at"], "2026-11-20T10:00:00+09:00");
    assert_eq!(confirmed["caller"]["confirmed_by"], json!(app.supervisor.id));
    let event = app.events(&id).await.pop().expect("an event");
    assert_eq!(event["action"], "caller.confirmed");
    assert_eq!(event["changes"]["caller_confirmed"], json!({ "before": false, "after": true }));

    let escalated = app.change(&path("referrals"), &op, Some(3), Some(&forensic)).await.expect_change(201, 4);
    assert_eq!(escalated["status"], "escalated");
    assert_eq!(escalated["referral"]["status"], "requested");
}

async fn out_of_scope_triage_needs_a_decline_reason_and_then_declines_the_ticket(app: TestApp) {
    app.import_fixture_registry().await;
    let op = app.operator.secret.clone();
    let id = open_ticket(&app, "2026-11-20T10:00:00+09:00").await;
    let triage = format!("/v1/tickets/{id}/triage");
    let out_of_scope = json!({ "category": "out_of_scope", "incident_kind": "none" });
    let problem = app
        .change(&triage, &op, Some(1), Some(&out_of_scope))
        .await
        .expect_invalid_fields(&["decline_reason"]);
    assert!(text(&problem, "/errors/0/detail").contains("decline_reason"), "{problem}");
    assert_unchanged(&app, &id, 1, 1).await;

    let reason = "Excelの操作方法の質問のため対象外。公開のセキュリティポータルを案内";
    let declined = app
        .change(&triage, &op, Some(1), Some(&with(out_of_scope, "/decline_reason", json!(reason))))
        .await
        .expect_change(200, 2);
    assert_eq!(declined["status"], "declined");
    assert_eq!(declined["triage"]["category"], "out_of_scope");
    assert_eq!(declined["triage"]["decline_reason"], reason);
    assert_eq!(declined["resolution_summary"], reason);
    assert_eq!(declined["allowed_transitions"], json!([]));
    assert_eq!(declined["sla"]["resolution"], Value::Null, "a declined ticket needs no resolution");
    let event = app.events(&id).await.pop().expect("an event");
    assert_eq!(event["action"], "ticket.declined");
    assert_eq!(event["changes"]["status"], json!({ "before": "new", "after": "declined" }));
    assert_eq!(event["changes"]["decline_reason"], reason);

    // A declined ticket is finished: no more triage, and no follow-up call.
    app.change(&triage, &op, Some(2), Some(&ransomware_triage())).await.expect_state_problem(
        "invalid-transition",
        "ticket_status",
        "declined",
    );
    let follow_up = with(sample_call_body(), "/ticket_id", json!(id));
    app.post_call(&follow_up).await.expect_state_problem("ticket-not-open", "ticket_status", "declined");
    assert_unchanged(&app, &id, 2, 2).await;
}

async fn two_operators_triaging_at_once_get_exactly_one_200_and_one_412(app: TestApp) {
    app.import_fixture_registry().await;
    let second = app
        .post_json("/v1/tokens", &app.admin.secret, &json!({ "name": "desk-2", "role": "operator" }), None)
        .await
        .expect(201);
    let second_secret = text(&second, "/token");
    let everyday = json!({ "category": "everyday_trouble", "incident_kind": "network_trouble" });
    for round in 0..3 {
        let id = open_ticket(&app, "2026-11-20T10:00:00+09:00").await;
        let triage = format!("/v1/tickets/{id}/triage");
        let (first, other) = join(
            app.change(&triage, &app.operator.secret, Some(1), Some(&ransomware_triage())),
            app.change(&triage, &second_secret, Some(1), Some(&everyday)),
        )
        .await;
        let mut statuses = [first.status.as_u16(), other.status.as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 412], "round {round}: {} / {}", first.text, other.text);
        let (winner, loser, winning_body) = if first.status == 200 {
            (&first, &other, ransomware_triage())
        } else {
            (&other, &first, everyday.clone())
        };
        let won = winner.expect_change(200, 2);
        let problem = loser.expect_problem(412, "precondition-failed");
        assert_eq!(problem["current_version"], 2, "{problem}");
        assert_eq!(loser.etag_version(), 2);

        // The ticket holds the winner's triage, and exactly one triage was recorded.
        let ticket = app.ticket(&id, &app.operator.secret).await;
        assert_eq!(ticket, won);
        assert_eq!(ticket["triage"]["category"], winning_body["category"]);
        assert_eq!(ticket["triage"]["incident_kind"], winning_body["incident_kind"]);
        let actions: Vec<String> = app.events(&id).await.iter().map(|e| text(e, "/action")).collect();
        assert_eq!(actions, ["ticket.opened", "ticket.triaged"]);
    }
}

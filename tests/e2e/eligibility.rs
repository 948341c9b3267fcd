//! Eligibility at every door (issue 11): any referral — forensic, legal or police, of any incident
//! category — needs a caller the registry verified on the call's date or a supervisor confirmed with a
//! reason; the refusal names the remedy. Ineligible callers' tickets are still handled and declined
//! with a pointer to the free security portal.

use serde_json::json;

use crate::helpers::{
    TestApp, consent, create_forensic_partner, ransomware_triage, sample_call_body, text, with,
};

on_both_backends!(
    a_not_found_callers_everyday_trouble_gets_a_forensic_referral_only_after_a_supervisors_confirmation,
    an_ineligible_callers_ticket_is_advised_and_declined_with_the_security_portal,
);

async fn a_not_found_callers_everyday_trouble_gets_a_forensic_referral_only_after_a_supervisors_confirmation(
    app: TestApp,
) {
    app.import_fixture_registry().await;
    let op = app.operator.secret.clone();
    let unknown = with(sample_call_body(), "/identifier/value", json!("999999"));
    let logged = app.log_call(&unknown).await;
    assert_eq!(logged["call"]["verification"]["outcome"], "not_found", "{logged}");
    let id = text(&logged, "/ticket/id");
    let path = |action: &str| format!("/v1/tickets/{id}/{action}");
    let everyday = json!({ "category": "everyday_trouble", "incident_kind": "network_trouble" });
    app.change(&path("triage"), &op, Some(1), Some(&everyday)).await.expect_change(200, 2);
    let vendor = create_forensic_partner(&app, &["13"]).await;
    let forensic = json!({
        "kind": "forensic",
        "partner_id": vendor["id"],
        "consent": consent("2026-11-20T10:00:00+09:00"),
    });

    let problem = app
        .change(&path("referrals"), &op, Some(2), Some(&forensic))
        .await
        .expect_problem(422, "referral-not-allowed");
    assert_eq!(problem["reason"], "caller-unconfirmed", "{problem}");
    assert_eq!(problem["remedies"], json!(["supervisor_confirmation"]), "{problem}");
    assert_eq!(problem["verification"], "not_found", "{problem}");
    assert!(text(&problem, "/detail").contains("supervisor"), "{problem}");
    let ticket = app.ticket(&id, &op).await;
    assert_eq!(ticket["version"], 2, "a refusal writes nothing");
    assert_eq!(app.events(&id).await.len(), 2, "a refusal leaves no event");

    let reason = "院長本人に折り返し電話で会員であることを確認(会員証の番号を口頭で照合)";
    app.change(&path("confirm-caller"), &app.supervisor.secret, Some(2), Some(&json!({ "note": reason })))
        .await
        .expect_change(200, 3);
    let referred = app.change(&path("referrals"), &op, Some(3), Some(&forensic)).await.expect_change(201, 4);
    assert_eq!(referred["status"], "escalated", "{referred}");
    assert_eq!(referred["referral"]["kind"], "forensic", "{referred}");

    // Both the confirmation, with its reason and supervisor, and the referral are in the audit trail.
    let events = app.events(&id).await;
    let actions: Vec<String> = events.iter().map(|e| text(e, "/action")).collect();
    assert_eq!(actions, ["ticket.opened", "ticket.triaged", "caller.confirmed", "referral.requested"]);
    assert_eq!(events[2]["changes"]["note"], reason, "{}", events[2]);
    assert_eq!(events[2]["actor"]["token_id"], json!(app.supervisor.id), "{}", events[2]);
}

async fn an_ineligible_callers_ticket_is_advised_and_declined_with_the_security_portal(app: TestApp) {
    app.import_fixture_registry().await;
    let op = app.operator.secret.clone();
    // 佐藤 花子 is a class-B member: ineligible.
    let sato = with(sample_call_body(), "/caller_name", json!("佐藤 花子"));
    let sato = with(sato, "/identifier/value", json!("45678"));
    let sato = with(
        sato,
        "/institution",
        json!({ "name": "札幌内科", "address": "北海道札幌市中央区北1条西1", "prefecture": "01" }),
    );
    let logged = app.log_call(&sato).await;
    assert_eq!(logged["call"]["verification"]["outcome"], "ineligible", "{logged}");
    assert_eq!(logged["call"]["verification"]["ineligible_reason"], "member_class", "{logged}");
    let id = text(&logged, "/ticket/id");
    let path = |action: &str| format!("/v1/tickets/{id}/{action}");

    // No legal referral for a serious incident either, until a supervisor confirms.
    app.change(&path("triage"), &op, Some(1), Some(&ransomware_triage())).await.expect_change(200, 2);
    let legal = json!({ "kind": "legal", "partner_id": "00000000-0000-0000-0000-000000000000", "consent": consent("2026-11-20T10:00:00+09:00") });
    let problem = app
        .change(&path("referrals"), &op, Some(2), Some(&legal))
        .await
        .expect_problem(422, "referral-not-allowed");
    assert_eq!(problem["reason"], "caller-unconfirmed", "{problem}");
    assert_eq!(problem["verification"], "ineligible", "{problem}");

    // Declined with the reason, pointing to the free security portal.
    let reason = "A①会員の医療機関ではないため対象外。無料のセキュリティポータルを案内";
    let declined = app
        .change(&path("decline"), &op, Some(2), Some(&json!({ "reason": reason })))
        .await
        .expect_change(200, 3);
    assert_eq!(declined["status"], "declined", "{declined}");
    let event = app.events(&id).await.pop().expect("an event");
    assert_eq!(event["action"], "ticket.declined", "{event}");
    assert_eq!(event["changes"]["decline_reason"], reason, "{event}");
    assert_eq!(
        event["changes"]["security_portal_url"],
        "https://tokiocyberport.tokiomarine-nichido.co.jp/cybersecurity/s/",
        "{event}"
    );
}

//! Support payments (一時支援金) and regulatory deadlines over HTTP (issue 9): incident facts recorded
//! with `If-Match` and audited, the assessment read back with its amount, requirements and exclusions,
//! a claim moved through claimed → paid and claimed → rejected by supervisors (a second claim refused),
//! the PPC and MHLW deadlines in JST on the ticket and in `GET /v1/deadlines`, and a deadline that falls
//! due announced once to the desk software as a `deadline.due` webhook.

use std::time::Duration;

use hotline_api::views::{SupportPaymentList, SupportPaymentView, TicketView};
use serde_json::{Value, json};

use crate::helpers::{
    AppOptions, Backend, TestApp, WebhookTarget, assert_timestamps_in_jst, open_ticket, sample_call_body,
    text, triaged_ransomware_ticket, with,
};
use crate::webhook_sink::WebhookSink;

on_both_backends!(
    ransomware_closed_two_days_with_the_mhlw_notified_reads_150000_ready_to_claim_and_is_claimed_then_paid,
    a_misdirected_fax_leak_without_the_victims_notified_is_pending_and_a_rejected_claim_is_final,
    an_insider_case_and_an_incident_on_31_may_2022_are_not_eligible_with_the_reason,
    a_leak_noticed_on_28_december_2026_is_due_to_the_ppc_on_2_january_and_27_january_or_26_february,
);

/// `POST /v1/tickets/{id}/facts` as `token` at `version`.
async fn record_facts(
    app: &TestApp,
    id: &str,
    token: &str,
    version: i64,
    facts: &Value,
) -> crate::helpers::TestResponse {
    app.change(&format!("/v1/tickets/{id}/facts"), token, Some(version), Some(facts)).await
}

/// `POST /v1/tickets/{id}/support-payment/{step}` as the supervisor at `version`.
async fn claim_step(
    app: &TestApp,
    id: &str,
    step: &str,
    version: i64,
    body: Option<&Value>,
) -> crate::helpers::TestResponse {
    let path = format!("/v1/tickets/{id}/support-payment/{step}");
    app.change(&path, &app.supervisor.secret, Some(version), body).await
}

/// `GET /v1/tickets/{id}/support-payment` as `token`, read into the API's own type; the `ETag` is
/// the ticket's version.
async fn support_payment(app: &TestApp, id: &str, token: &str) -> (SupportPaymentView, i64) {
    let response = app.get(&format!("/v1/tickets/{id}/support-payment"), token).await;
    let body = response.expect(200);
    let view: SupportPaymentView =
        serde_json::from_value(body.clone()).unwrap_or_else(|e| panic!("a SupportPaymentView ({e}): {body}"));
    (view, response.etag_version())
}

fn ticket_view(body: &Value) -> TicketView {
    serde_json::from_value(body.clone()).unwrap_or_else(|e| panic!("a TicketView ({e}): {body}"))
}

fn codes<'a>(items: impl IntoIterator<Item = (&'a str, bool)>) -> Vec<&'a str> {
    items.into_iter().filter(|(_, on)| *on).map(|(code, _)| code).collect()
}

fn missing(view: &SupportPaymentView) -> Vec<&str> {
    codes(view.assessment.requirements.iter().map(|r| (r.code.as_str(), !r.met)))
}

fn excluded(view: &SupportPaymentView) -> Vec<&str> {
    codes(view.assessment.exclusions.iter().map(|e| (e.code.as_str(), e.applies)))
}

fn actions(view: &SupportPaymentView) -> Vec<&str> {
    view.allowed_actions.iter().map(|a| a.as_str()).collect()
}

fn event_actions(events: &[Value]) -> Vec<String> {
    events.iter().map(|event| text(event, "/action")).collect()
}

async fn ransomware_closed_two_days_with_the_mhlw_notified_reads_150000_ready_to_claim_and_is_claimed_then_paid(
    app: TestApp,
) {
    let id = triaged_ransomware_ticket(&app).await;
    let op = app.operator.secret.clone();
    let attack = json!({
        "cause": "cyber_attack",
        "personal_data_leak": "no",
        "systems_stopped": true,
        "occurred_at": "2026-11-19T22:30:00+09:00",
        "aware_at": "2026-11-20T07:45:00+09:00",
        "days_closed": 2,
    });

    // Bad facts are refused all at once, and a stale If-Match is refused; nothing is written.
    let bad = json!({ "cause": "ransomware", "days_closed": -1, "aware_at": "2026-11-19T20:00:00+09:00" });
    let problem =
        record_facts(&app, &id, &op, 2, &bad).await.expect_invalid_fields(&["cause", "days_closed"]);
    assert!(text(&problem, "/detail").contains("cyber_attack, leak_not_attack, other"), "{problem}");
    record_facts(&app, &id, &op, 2, &json!({})).await.expect_invalid_fields(&[""]);
    let stale = record_facts(&app, &id, &op, 1, &attack).await;
    assert_eq!(stale.expect_problem(412, "precondition-failed")["current_version"], 2);
    assert_eq!(stale.etag_version(), 2);
    let ticket = app.ticket(&id, &op).await;
    assert_eq!((&ticket["version"], &ticket["incident_facts"]), (&json!(2), &Value::Null), "{ticket}");
    assert_eq!(ticket["support_payment"], Value::Null, "no facts, no payment shown: {ticket}");

    // The facts: the cyber payment with the closure supplement, pending the MHLW notification.
    let body = record_facts(&app, &id, &op, 2, &attack).await.expect_change(200, 3);
    assert_timestamps_in_jst(&body["incident_facts"]);
    let ticket = ticket_view(&body);
    let facts = ticket.incident_facts.as_ref().expect("facts on the ticket");
    assert_eq!(facts.incident_date, "2026-11-19".parse().ok());
    assert_eq!((facts.days_closed, facts.systems_stopped), (Some(2), Some(true)));
    let payment = ticket.support_payment.as_ref().expect("the payment on the ticket");
    assert_eq!(payment.status.as_str(), "pending_requirements");
    assert_eq!(
        (payment.amount_yen, payment.missing.as_slice()),
        (150_000, &["mhlw_notified".to_owned()][..])
    );
    let deadlines: Vec<(&str, String, &str)> = ticket
        .regulatory_deadlines
        .iter()
        .map(|d| (d.kind.as_str(), d.due_date.to_string(), d.status.as_str()))
        .collect();
    assert_eq!(
        deadlines,
        [("mhlw_report", "2026-11-21".to_owned(), "due")],
        "systems stopped: tell the MHLW"
    );
    assert_eq!(body["regulatory_deadlines"][0]["due_at"], "2026-11-21T23:59:59+09:00");

    // A claim now is refused, naming what is missing; operators may not claim at all.
    let path = format!("/v1/tickets/{id}/support-payment/claim");
    let cyber = json!({ "payment": "cyber_attack" });
    app.change(&path, &op, Some(3), Some(&cyber)).await.expect_problem(403, "forbidden");
    let problem =
        claim_step(&app, &id, "claim", 3, Some(&cyber)).await.expect_problem(409, "payment-not-claimable");
    assert_eq!(
        (&problem["reason"], &problem["claim_status"], &problem["missing_requirements"]),
        (&json!("not-ready"), &json!("pending_requirements"), &json!(["mhlw_notified"])),
        "{problem}"
    );
    assert!(text(&problem, "/detail").contains("POST /v1/tickets/{id}/facts"), "{problem}");

    // MHLW notified: ¥150,000, ready to claim; the MHLW deadline is done.
    let notified = json!({ "mhlw_notified_at": "2026-11-20T09:40:00+09:00" });
    let body = record_facts(&app, &id, &op, 3, &notified).await.expect_change(200, 4);
    assert_eq!(body["regulatory_deadlines"][0]["status"], "done", "{body}");
    assert_eq!(body["regulatory_deadlines"][0]["done_late"], false, "{body}");
    let repeated = record_facts(&app, &id, &op, 4, &notified).await.expect_change(200, 4);
    assert_eq!(repeated["version"], 4, "repeating the recorded facts writes nothing");
    let (view, version) = support_payment(&app, &id, &app.supervisor.secret).await;
    assert_eq!(version, 4);
    assert_eq!(
        (view.status.as_str(), view.standing),
        ("ready_to_claim", hotline_domain::support_payment::MemberStanding::Confirmed)
    );
    assert_eq!(view.assessment.payment.map(|p| p.as_str()), Some("cyber_attack"));
    assert_eq!(view.assessment.amount_yen, 150_000);
    let lines: Vec<(&str, u64)> =
        view.assessment.amounts.iter().map(|l| (l.code.as_str(), l.amount_yen)).collect();
    assert_eq!(lines, [("base", 100_000), ("closure_supplement", 50_000)]);
    assert!(missing(&view).is_empty(), "{view:?}");
    assert!(excluded(&view).is_empty(), "{view:?}");
    assert_eq!(view.assessment.summary.ja, "サイバー攻撃一時支援金 150,000円: 請求できます");
    assert_eq!(
        view.assessment.rule_set.as_ref().map(|r| r.effective_from.to_string()),
        Some("2022-06-01".to_owned())
    );
    assert_eq!(actions(&view), ["claim"]);
    let (as_operator, _) = support_payment(&app, &id, &op).await;
    assert!(as_operator.allowed_actions.is_empty(), "claim steps are a supervisor's");

    // Claim: a stale version and the other payment are refused, then the claim is recorded.
    let problem =
        claim_step(&app, &id, "claim", 3, Some(&cyber)).await.expect_problem(412, "precondition-failed");
    assert_eq!(problem["current_version"], 4);
    let leak = json!({ "payment": "personal_data_leak" });
    let problem =
        claim_step(&app, &id, "claim", 4, Some(&leak)).await.expect_problem(409, "payment-not-claimable");
    assert_eq!((&problem["reason"], &problem["payment"]), (&json!("wrong-payment"), &json!("cyber_attack")));
    assert!(text(&problem, "/detail").contains("claim the cyber_attack payment instead"), "{problem}");
    let body = claim_step(&app, &id, "claim", 4, Some(&cyber)).await.expect_change(200, 5);
    let claimed = ticket_view(&body).support_payment.expect("payment");
    assert_eq!(claimed.status.as_str(), "claimed");
    let claim = claimed.claim.as_ref().expect("the claim");
    assert_eq!(
        (claim.amount_yen, claim.rule_set.to_string(), claim.claimed_by),
        (150_000, "2022-06-01".to_owned(), app.supervisor.id)
    );
    assert_eq!(claimed.allowed_actions.iter().map(|a| a.as_str()).collect::<Vec<_>>(), ["pay", "reject"]);

    // A second claim, for either payment, is refused with what can be done instead.
    for (payment, reason) in [(&cyber, "same-payment"), (&leak, "other-payment")] {
        let problem =
            claim_step(&app, &id, "claim", 5, Some(payment)).await.expect_problem(409, "claim-exists");
        assert_eq!(
            (&problem["reason"], &problem["claim_status"], &problem["payment"]),
            (&json!(reason), &json!("claimed"), &json!("cyber_attack"))
        );
        assert_eq!(
            problem["allowed"],
            json!([{ "action": "pay", "to": "paid" }, { "action": "reject", "to": "rejected" }])
        );
    }

    // Paid; paying again is refused; the list shows it under paid only.
    let body = claim_step(&app, &id, "pay", 5, None).await.expect_change(200, 6);
    let paid = ticket_view(&body).support_payment.expect("payment");
    assert_eq!(paid.status.as_str(), "paid");
    assert_eq!(paid.summary.ja, "サイバー攻撃一時支援金 150,000円: 支払済み");
    assert!(paid.claim.as_ref().is_some_and(|c| c.decided_by == Some(app.supervisor.id)));
    let problem = claim_step(&app, &id, "pay", 6, Some(&json!({})))
        .await
        .expect_problem(409, "invalid-claim-transition");
    assert_eq!((&problem["claim_status"], &problem["allowed"]), (&json!("paid"), &json!([])));
    let listed = |status: &str| {
        let app = &app;
        let status = status.to_owned();
        async move {
            let body = app
                .get(&format!("/v1/support-payments?status={status}"), &app.supervisor.secret)
                .await
                .expect(200);
            let list: SupportPaymentList =
                serde_json::from_value(body.clone()).unwrap_or_else(|e| panic!("{e}: {body}"));
            list.support_payments.iter().map(|p| p.ticket_id.to_string()).collect::<Vec<_>>()
        }
    };
    assert_eq!(listed("paid").await, std::slice::from_ref(&id));
    assert!(listed("claimed").await.is_empty());
    assert!(listed("ready_to_claim").await.is_empty());
    app.get("/v1/support-payments", &op).await.expect_problem(403, "forbidden");
    app.get("/v1/support-payments?status=owed", &app.supervisor.secret)
        .await
        .expect_invalid_fields(&["status"]);

    // The audit trail: each step with its status before and after.
    let events = app.events(&id).await;
    assert_eq!(
        event_actions(&events)[2..],
        ["facts.recorded", "facts.recorded", "support_payment.claimed", "support_payment.paid"]
    );
    assert_eq!(
        events[2]["changes"]["changed"],
        json!(["cause", "personal_data_leak", "systems_stopped", "occurred_at", "aware_at", "days_closed"])
    );
    assert_eq!(events[3]["changes"]["facts"]["before"], json!({ "mhlw_notified_at": null }));
    assert_eq!(events[4]["changes"]["status"], json!({ "before": "ready_to_claim", "after": "claimed" }));
    assert_eq!(events[4]["changes"]["amount_yen"], 150_000);
    assert_eq!(events[5]["changes"]["status"], json!({ "before": "claimed", "after": "paid" }));
    assert_eq!(events[5]["actor"]["token_id"], json!(app.supervisor.id));
}

async fn a_misdirected_fax_leak_without_the_victims_notified_is_pending_and_a_rejected_claim_is_final(
    app: TestApp,
) {
    app.import_fixture_registry().await;
    let id = open_ticket(&app, "2026-11-20T10:00:00+09:00").await;
    let op = app.operator.secret.clone();
    let fax = json!({
        "cause": "leak_not_attack",
        "personal_data_leak": "confirmed",
        "occurred_at": "2026-11-02T15:00:00+09:00",
        "aware_at": "2026-11-04T09:00:00+09:00",
        "ppc_preliminary_report_at": "2026-11-06T17:00:00+09:00",
        "ppc_final_report_at": "2026-11-18T17:00:00+09:00",
    });
    record_facts(&app, &id, &op, 1, &fax).await.expect_change(200, 2);
    let (view, _) = support_payment(&app, &id, &op).await;
    assert_eq!(view.status.as_str(), "pending_requirements");
    assert_eq!(
        (view.assessment.payment.map(|p| p.as_str()), view.assessment.amount_yen),
        (Some("personal_data_leak"), 50_000)
    );
    assert_eq!(missing(&view), ["victims_notified"]);
    let victims = view.assessment.requirements.iter().find(|r| r.code == "victims_notified").expect("listed");
    assert_eq!(victims.reason.ja, "情報漏えいの被害者への通知が要件です(未記録)");
    let report = view
        .assessment
        .requirements
        .iter()
        .find(|r| r.code == "ppc_recurrence_prevention_report")
        .expect("listed");
    assert!(report.met, "the PPC final report states the recurrence-prevention measures: {report:?}");
    assert!(
        view.assessment.summary.en.contains("missing: notification of the people whose data leaked"),
        "{:?}",
        view.assessment.summary
    );
    // Both PPC deadlines are done, the final one early: 30 days, no attack.
    let ticket = app.ticket(&id, &op).await;
    let deadlines = &ticket["regulatory_deadlines"];
    assert_eq!(
        (
            &deadlines[1]["kind"],
            &deadlines[1]["period_days"],
            &deadlines[1]["due_date"],
            &deadlines[1]["status"]
        ),
        (&json!("ppc_final_report"), &json!(30), &json!("2026-12-04"), &json!("done"))
    );

    record_facts(&app, &id, &op, 2, &json!({ "victims_notified_at": "2026-11-19T12:00:00+09:00" }))
        .await
        .expect_change(200, 3);
    let (view, _) = support_payment(&app, &id, &app.supervisor.secret).await;
    assert_eq!((view.status.as_str(), view.assessment.amount_yen), ("ready_to_claim", 50_000));
    let leak = json!({ "payment": "personal_data_leak" });
    claim_step(&app, &id, "claim", 3, Some(&leak)).await.expect_change(200, 4);

    // Rejected with the association's reason; the reason is required; a rejection is final.
    claim_step(&app, &id, "reject", 4, Some(&json!({ "reason": "  " })))
        .await
        .expect_invalid_fields(&["reason"]);
    claim_step(&app, &id, "reject", 4, None).await.expect_problem(415, "unsupported-media-type");
    let why = json!({ "reason": "再発防止策の報告書が添付されていない" });
    let body = claim_step(&app, &id, "reject", 4, Some(&why)).await.expect_change(200, 5);
    assert_eq!(body["support_payment"]["status"], "rejected");
    assert_eq!(body["support_payment"]["claim"]["rejection_reason"], "再発防止策の報告書が添付されていない");
    assert_eq!(body["support_payment"]["allowed_actions"], json!([]));
    let problem = claim_step(&app, &id, "claim", 5, Some(&leak)).await.expect_problem(409, "claim-exists");
    assert_eq!((&problem["claim_status"], &problem["allowed"]), (&json!("rejected"), &json!([])));
    let problem = claim_step(&app, &id, "pay", 5, None).await.expect_problem(409, "invalid-claim-transition");
    assert_eq!(problem["claim_status"], "rejected");

    let events = app.events(&id).await;
    let rejected = events.last().expect("events");
    assert_eq!(rejected["action"], "support_payment.rejected");
    assert_eq!(rejected["changes"]["reason"], "再発防止策の報告書が添付されていない");
    let body = app.get("/v1/support-payments?status=rejected", &app.supervisor.secret).await.expect(200);
    assert_eq!(body["support_payments"].as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(body["support_payments"][0]["ticket_id"], json!(id));
}

async fn an_insider_case_and_an_incident_on_31_may_2022_are_not_eligible_with_the_reason(app: TestApp) {
    app.import_fixture_registry().await;
    let op = app.operator.secret.clone();
    let ready = json!({
        "cause": "cyber_attack",
        "personal_data_leak": "no",
        "days_closed": 0,
        "mhlw_notified_at": "2026-11-20T09:00:00+09:00",
    });

    let insider = open_ticket(&app, "2026-11-20T10:00:00+09:00").await;
    let facts = with(
        with(ready.clone(), "/occurred_at", json!("2026-11-18T08:00:00+09:00")),
        "/insider_finding",
        json!(true),
    );
    record_facts(&app, &insider, &op, 1, &facts).await.expect_change(200, 2);
    let (view, _) = support_payment(&app, &insider, &app.supervisor.secret).await;
    assert_eq!((view.status.as_str(), view.assessment.amount_yen), ("not_applicable", 0));
    assert_eq!(excluded(&view), ["insider"]);
    assert_eq!(view.assessment.summary.ja, "対象外: 内部犯罪に起因した案件はお支払いの対象外です");
    assert_eq!(
        view.assessment.summary.en,
        "Not eligible: cases caused by an insider (内部犯罪) are not paid"
    );
    assert!(view.allowed_actions.is_empty());
    let problem = claim_step(&app, &insider, "claim", 2, Some(&json!({ "payment": "cyber_attack" })))
        .await
        .expect_problem(409, "payment-not-claimable");
    assert_eq!(
        (&problem["claim_status"], &problem["applying_exclusions"]),
        (&json!("not_applicable"), &json!(["insider"]))
    );
    assert!(
        text(&problem, "/detail").contains("nothing can be claimed while an exclusion applies"),
        "{problem}"
    );
    // The triage's suspicion is not a finding: cleared, the case is ready.
    let body =
        record_facts(&app, &insider, &op, 2, &json!({ "insider_finding": null })).await.expect_change(200, 3);
    assert_eq!(body["support_payment"]["status"], "ready_to_claim", "{body}");

    // The scheme starts with incidents on 2022-06-01 in Japan: 31 May 23:59 JST is before it.
    let cases = [
        ("2022-05-31T10:00:00+09:00", "not_applicable"),
        ("2022-05-31T23:59:00+09:00", "not_applicable"),
        ("2022-06-01T00:00:00+09:00", "ready_to_claim"),
    ];
    for (occurred_at, status) in cases {
        let id = open_ticket(&app, "2026-11-20T10:00:00+09:00").await;
        let facts = with(ready.clone(), "/occurred_at", json!(occurred_at));
        record_facts(&app, &id, &op, 1, &facts).await.expect_change(200, 2);
        let (view, _) = support_payment(&app, &id, &op).await;
        assert_eq!(view.status.as_str(), status, "{occurred_at}: {view:?}");
        let before =
            view.assessment.exclusions.iter().find(|e| e.code == "incident_before_scheme").expect("checked");
        assert_eq!(before.applies, status == "not_applicable", "{occurred_at}");
        if before.applies {
            assert!(
                before.reason.en.contains("predates the scheme, which covers incidents from 2022-06-01"),
                "{before:?}"
            );
            assert_eq!(view.assessment.amount_yen, 0);
        }
    }
    let body =
        app.get("/v1/support-payments?status=not_applicable", &app.supervisor.secret).await.expect(200);
    assert_eq!(body["support_payments"].as_array().map(Vec::len), Some(2), "{body}");
}

async fn a_leak_noticed_on_28_december_2026_is_due_to_the_ppc_on_2_january_and_27_january_or_26_february(
    app: TestApp,
) {
    app.set_clock("2026-12-28T11:00:00+09:00");
    app.import_fixture_registry().await;
    let op = app.operator.secret.clone();
    let noticed = json!({ "personal_data_leak": "confirmed", "aware_at": "2026-12-28T10:00:00+09:00" });
    let leak = open_ticket(&app, "2026-12-28T11:00:00+09:00").await;
    let leak_facts = with(noticed.clone(), "/cause", json!("leak_not_attack"));
    let body = record_facts(&app, &leak, &op, 1, &leak_facts).await.expect_change(200, 2);
    let due: Vec<(Value, Value, Value)> = body["regulatory_deadlines"]
        .as_array()
        .expect("deadlines")
        .iter()
        .map(|d| (d["kind"].clone(), d["due_date"].clone(), d["due_at"].clone()))
        .collect();
    assert_eq!(
        due,
        [
            (json!("ppc_preliminary_report"), json!("2027-01-02"), json!("2027-01-02T23:59:59+09:00")),
            (json!("ppc_final_report"), json!("2027-01-27"), json!("2027-01-27T23:59:59+09:00")),
        ]
    );
    assert_eq!(body["regulatory_deadlines"][0]["clock_start"], "aware_at");
    assert!(text(&body, "/regulatory_deadlines/0/reason/ja").contains("2027-01-02まで"), "{body}");

    let attack = open_ticket(&app, "2026-12-28T11:00:00+09:00").await;
    let attack_facts = with(noticed, "/cause", json!("cyber_attack"));
    let body = record_facts(&app, &attack, &op, 1, &attack_facts).await.expect_change(200, 2);
    let kinds: Vec<(&Value, &Value, &Value)> = body["regulatory_deadlines"]
        .as_array()
        .expect("deadlines")
        .iter()
        .map(|d| (&d["kind"], &d["period_days"], &d["due_date"]))
        .collect();
    assert_eq!(
        kinds,
        [
            (&json!("ppc_preliminary_report"), &json!(5), &json!("2027-01-02")),
            (&json!("ppc_final_report"), &json!(60), &json!("2027-02-26")),
            (&json!("mhlw_report"), &json!(1), &json!("2026-12-29")),
        ],
        "60 days after an attack, and the MHLW is told of an attack that threatens a leak"
    );

    // The same deadlines across tickets.
    let list = |query: &str| {
        let app = &app;
        let query = query.to_owned();
        async move {
            let body = app.get(&format!("/v1/deadlines{query}"), &app.operator.secret).await.expect(200);
            assert_timestamps_in_jst(&body);
            body["deadlines"]
                .as_array()
                .expect("deadlines[]")
                .iter()
                .map(|d| (text(d, "/ticket_id"), text(d, "/kind"), text(d, "/due_date"), text(d, "/status")))
                .collect::<Vec<_>>()
        }
    };
    let entry = |id: &str, kind: &str, date: &str, status: &str| {
        (id.to_owned(), kind.to_owned(), date.to_owned(), status.to_owned())
    };
    assert_eq!(list("").await.len(), 5);
    assert_eq!(
        list("?due_before=2027-01-03").await,
        [
            entry(&attack, "mhlw_report", "2026-12-29", "due"),
            entry(&leak, "ppc_preliminary_report", "2027-01-02", "due"),
            entry(&attack, "ppc_preliminary_report", "2027-01-02", "due"),
        ]
    );
    assert_eq!(
        list("?due_before=2027-01-02T23:59:59%2B09:00").await.len(),
        1,
        "due_at is the end of the day"
    );
    assert_eq!(
        list("?kind=ppc_final_report").await,
        [
            entry(&leak, "ppc_final_report", "2027-01-27", "due"),
            entry(&attack, "ppc_final_report", "2027-02-26", "due")
        ]
    );
    app.get("/v1/deadlines?due_before=soon&status=late", &op)
        .await
        .expect_invalid_fields(&["due_before", "status"]);

    // After the due date: overdue unless done.
    record_facts(&app, &attack, &op, 2, &json!({ "mhlw_notified_at": "2026-12-28T10:30:00+09:00" }))
        .await
        .expect_change(200, 3);
    app.set_clock("2027-01-03T00:00:00+09:00");
    assert_eq!(
        list("?status=overdue").await,
        [
            entry(&leak, "ppc_preliminary_report", "2027-01-02", "overdue"),
            entry(&attack, "ppc_preliminary_report", "2027-01-02", "overdue")
        ]
    );
    assert_eq!(list("?status=done").await, [entry(&attack, "mhlw_report", "2026-12-29", "done")]);
    let ticket = app.ticket(&leak, &op).await;
    assert_eq!(ticket["regulatory_deadlines"][0]["status"], "overdue", "{ticket}");
    assert_eq!(ticket["regulatory_deadlines"][1]["status"], "due", "{ticket}");
}

/// Deadlines falling due, announced by the server's reminder to a real webhook receiver.
mod announcements {
    use super::*;

    on_both_backends_with_own_apps!(a_deadline_falling_due_is_announced_once_to_the_desk_as_deadline_due);

    async fn a_deadline_falling_due_is_announced_once_to_the_desk_as_deadline_due(backend: Backend) {
        let sink = WebhookSink::start().await;
        let target = WebhookTarget {
            name: "desk".to_owned(),
            url: sink.url("/hooks/desk"),
            secret: "whsec_c2VjcmV0LWtleS1mb3ItdGhlLWRlc2stc29mdHdhcmUhIQ==".to_owned(),
            events: vec!["deadline.*".to_owned()],
        };
        let Some(app) = backend.spawn(AppOptions::webhooks(vec![target])).await else { return };
        app.set_clock("2026-12-28T11:00:00+09:00");
        app.import_fixture_registry().await;
        let call = with(sample_call_body(), "/started_at", json!("2026-12-28T11:00:00+09:00"));
        let id = text(&app.log_call(&call).await, "/ticket/id");
        let facts = json!({
            "cause": "leak_not_attack",
            "personal_data_leak": "possible",
            "aware_at": "2026-12-28T10:00:00+09:00",
        });
        record_facts(&app, &id, &app.operator.secret, 1, &facts).await.expect_change(200, 2);

        // Nothing is due yet: the reminder (every second here) stays quiet.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert!(sink.received().is_empty(), "{:#?}", sink.received());

        // The preliminary report's last day: announced once, without anything about the caller.
        app.set_clock("2027-01-02T08:00:00+09:00");
        sink.wait_until("the deadline.due delivery", Duration::from_secs(15), |r| !r.is_empty()).await;
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let received = sink.received();
        assert_eq!(received.len(), 1, "announced once: {received:#?}");
        let payload = received[0].json();
        assert_eq!(payload["type"], "deadline.due");
        assert_eq!(payload["data"]["ticket_id"], json!(id));
        assert_eq!(payload["data"]["kind"], "ppc_preliminary_report");
        assert_eq!(payload["data"]["due_date"], "2027-01-02");
        for private in ["山田", "03-3946-2121", "123456", "本駒込"] {
            assert!(!received[0].body.contains(private), "{private:?} in {}", received[0].body);
        }
        let events = app.events(&id).await;
        let due = events.last().expect("events");
        assert_eq!(due["action"], "deadline.due");
        assert_eq!(due["id"], payload["data"]["event_id"]);
        assert_eq!(due["actor"]["name"], "regulatory deadline reminder");
        assert_eq!(
            (&due["changes"]["kind"], &due["changes"]["deadline_status"]),
            (&json!("ppc_preliminary_report"), &json!("due"))
        );
        let listed =
            app.get("/v1/deadlines?kind=ppc_preliminary_report", &app.operator.secret).await.expect(200);
        assert_eq!(listed["deadlines"][0]["announced_at"], "2027-01-02T08:00:00+09:00", "{listed}");
        assert_eq!(
            app.ticket(&id, &app.operator.secret).await["version"],
            2,
            "an announcement changes no ticket"
        );

        // A report recorded in time is never announced.
        record_facts(
            &app,
            &id,
            &app.operator.secret,
            2,
            &json!({ "ppc_final_report_at": "2027-01-02T08:00:00+09:00" }),
        )
        .await
        .expect_change(200, 3);
        app.set_clock("2027-01-27T08:00:00+09:00");
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(sink.received().len(), 1, "{:#?}", sink.received());
    }
}

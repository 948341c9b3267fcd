//! Acknowledgement links in partner alerts: opening one (GET) changes nothing — mail scanners open
//! links by themselves — and the page's form (POST) records the answer with an audit event. A tampered
//! link gets 403; an expired or already used one, 410.

use hotline_storage::queries::outbox;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{TestApp, consent, create_forensic_partner, open_ticket, ransomware_triage, text};

on_both_backends!(
    opening_a_link_changes_nothing_and_its_form_accepts_the_referral_once,
    a_form_that_cannot_be_read_gets_the_page_again_not_json_and_changes_nothing,
    tampered_links_are_403_and_expired_ones_410,
    a_police_desk_declines_or_accepts_with_a_receipt_number_through_its_link,
    referrals_show_their_alerts_and_partners_with_referrals_are_deactivated_not_deleted,
);

async fn referrals_show_their_alerts_and_partners_with_referrals_are_deactivated_not_deleted(app: TestApp) {
    let (ticket, referral, _path) = escalate(&app, false).await;
    let view = app.ticket(&ticket, &app.operator.secret).await;
    assert_eq!(view["referrals"][0]["id"], json!(referral));
    let alerts = view["referrals"][0]["alerts"].as_array().expect("referral alerts");
    assert_eq!(alerts.len(), 1, "{view}");
    assert_eq!(alerts[0]["recipient"], "ir@forensic.example.co.jp");
    assert_eq!(alerts[0]["kind"], "referral_requested");
    assert_eq!(view["alerts"].as_array().map(Vec::len), Some(1));

    let partner = text(&view, "/referrals/0/partner/id");
    let path = format!("/v1/partners/{partner}");
    let delete = |token: String| {
        let request = app.request(reqwest::Method::DELETE, &path).bearer_auth(token);
        app.send(request)
    };
    delete(app.supervisor.secret.clone()).await.expect_problem(403, "forbidden");
    let problem = delete(app.admin.secret.clone()).await.expect_problem(409, "partner-in-use");
    assert_eq!(
        (&problem["reason"], &problem["referral_count"]),
        (&serde_json::json!("has-referrals"), &serde_json::json!(1))
    );
    let desk = crate::helpers::police_desk(&app, "01").await;
    let desk_path = format!("/v1/partners/{}", text(&desk, "/id"));
    app.send(app.request(reqwest::Method::DELETE, &desk_path).bearer_auth(&app.admin.secret))
        .await
        .expect_problem(409, "partner-in-use");
    let unused = create_forensic_partner(&app, &["27"]).await;
    let unused_path = format!("/v1/partners/{}", text(&unused, "/id"));
    let response =
        app.send(app.request(reqwest::Method::DELETE, &unused_path).bearer_auth(&app.admin.secret)).await;
    assert_eq!(response.status, 204, "{}", response.text);
    let response =
        app.send(app.request(reqwest::Method::DELETE, &unused_path).bearer_auth(&app.admin.secret)).await;
    response.expect_problem(404, "not-found");
}

/// Escalates a fresh ticket to a forensic partner (or the Tokyo police desk) and returns the ticket id,
/// the referral id and the ack path found in the alert written to the outbox.
async fn escalate(app: &TestApp, police: bool) -> (String, String, String) {
    app.import_fixture_registry().await;
    let ticket = open_ticket(app, "2026-11-20T10:00:00+09:00").await;
    let token = &app.operator.secret;
    app.change(&format!("/v1/tickets/{ticket}/triage"), token, Some(1), Some(&ransomware_triage()))
        .await
        .expect_change(200, 2);
    let body = if police {
        let desk = crate::helpers::police_desk(app, "13").await;
        crate::helpers::give_desk_an_email(app, &text(&desk, "/id")).await;
        json!({ "kind": "police", "consent": consent("2026-11-20T10:00:00+09:00") })
    } else {
        let partner = create_forensic_partner(app, &["13"]).await;
        json!({ "kind": "forensic", "partner_id": partner["id"], "consent": consent("2026-11-20T10:00:00+09:00") })
    };
    let created = app
        .change(&format!("/v1/tickets/{ticket}/referrals"), token, Some(2), Some(&body))
        .await
        .expect_change(201, 3);
    let referral = text(&created, "/referral/id");
    let ticket_id = Uuid::parse_str(&ticket).expect("ticket id");
    let alerts = app.storage.read(|conn| outbox::of_ticket(conn, ticket_id)).expect("alerts");
    assert_eq!(alerts.len(), 1, "one alert for one partner address");
    let body = &alerts[0].body;
    let start = body.find("/ack/").unwrap_or_else(|| panic!("no ack link in the alert:\n{body}"));
    let path: String = body[start..].chars().take_while(|c| !c.is_whitespace()).collect();
    (ticket, referral, path)
}

async fn referral_status(app: &TestApp, ticket: &str) -> String {
    let view = app.ticket(ticket, &app.operator.secret).await;
    text(&view, "/referrals/0/status")
}

async fn form_post(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let response = app
        .client
        .post(format!("{}{path}", app.base_url))
        .form(fields)
        .send()
        .await
        .expect("POST the ack form");
    let status = response.status().as_u16();
    (status, response.text().await.expect("page"))
}

async fn page(app: &TestApp, path: &str) -> (u16, String, Option<String>) {
    let response = app.client.get(format!("{}{path}", app.base_url)).send().await.expect("GET the ack page");
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
    (status, response.text().await.expect("page"), content_type)
}

async fn opening_a_link_changes_nothing_and_its_form_accepts_the_referral_once(app: TestApp) {
    let (ticket, referral, path) = escalate(&app, false).await;
    let events_before = app.events(&ticket).await.len();
    for _ in 0..3 {
        let (status, html, content_type) = page(&app, &path).await;
        assert_eq!(status, 200, "{html}");
        assert_eq!(content_type.as_deref(), Some("text/html; charset=utf-8"));
        assert!(html.contains("HL-2026-000001") && html.contains("<form method=\"post\""), "{html}");
    }
    assert_eq!(referral_status(&app, &ticket).await, "requested", "opening the link changed nothing");
    assert_eq!(app.events(&ticket).await.len(), events_before);

    let (status, html) =
        form_post(&app, &path, &[("action", "accept"), ("note", "明朝9時に訪問します")]).await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(referral_status(&app, &ticket).await, "accepted");
    let events = app.events(&ticket).await;
    let last = events.last().expect("an event");
    assert_eq!(last["action"], "referral.accepted");
    assert_eq!(last["actor"]["name"], "partner acknowledgement link");
    assert_eq!(last["changes"]["referral_id"], json!(referral));
    assert_eq!(last["changes"]["note"], "明朝9時に訪問します");

    // The link is used up: the page and the form both answer 410, and nothing changes.
    let (status, html, content_type) = page(&app, &path).await;
    assert_eq!((status, content_type.as_deref()), (410, Some("text/html; charset=utf-8")));
    assert!(html.contains("回答済み"), "{html}");
    assert_eq!(form_post(&app, &path, &[("action", "decline")]).await.0, 410);
    assert_eq!(referral_status(&app, &ticket).await, "accepted");
    assert_eq!(app.events(&ticket).await.len(), events.len());
}

async fn a_form_that_cannot_be_read_gets_the_page_again_not_json_and_changes_nothing(app: TestApp) {
    let (ticket, _referral, path) = escalate(&app, false).await;
    let events_before = app.events(&ticket).await.len();
    let post = |content_type: &'static str, body: &'static str| {
        app.client
            .post(format!("{}{path}", app.base_url))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    for (content_type, body, status) in [
        ("application/json", r#"{"action":"accept"}"#, 415),
        ("application/x-www-form-urlencoded", "note=%E3%81%82", 422),
        ("application/x-www-form-urlencoded", "action=maybe", 422),
        // Control characters are refused as through the API: none in the note but line breaks and tabs,
        // none at all in the one-line fields.
        ("application/x-www-form-urlencoded", "action=accept&note=a%00b", 422),
        ("application/x-www-form-urlencoded", "action=accept&police_contact=a%0Ab", 422),
        ("application/x-www-form-urlencoded", "action=accept%1B", 422),
    ] {
        let response = post(content_type, body).await.expect("POST the ack form");
        assert_eq!(response.status().as_u16(), status, "{content_type} {body}");
        let page_type =
            response.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert_eq!(page_type.as_deref(), Some("text/html; charset=utf-8"), "{content_type} {body}");
        let html = response.text().await.expect("page");
        assert!(html.contains("<form method=\"post\""), "the form again: {html}");
    }
    assert_eq!(referral_status(&app, &ticket).await, "requested");
    assert_eq!(app.events(&ticket).await.len(), events_before);
}

async fn tampered_links_are_403_and_expired_ones_410(app: TestApp) {
    let (ticket, _referral, path) = escalate(&app, false).await;
    let token = path.trim_start_matches("/ack/");
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = (parts[1].parse::<i64>().expect("expiry") + 86_400).to_string();
    let longer = format!("/ack/{}", parts.join("."));
    let other_referral =
        format!("/ack/{}.{}", Uuid::now_v7().simple(), token.split_once('.').expect("dot").1);
    for forged in [longer.as_str(), other_referral.as_str(), "/ack/not-a-token"] {
        let (status, html, content_type) = page(&app, forged).await;
        assert_eq!(status, 403, "{forged}");
        assert_eq!(
            content_type.as_deref(),
            Some("text/html; charset=utf-8"),
            "partners get a page, not JSON"
        );
        assert!(html.contains("リンクが無効です"), "{html}");
        assert_eq!(form_post(&app, forged, &[("action", "accept")]).await.0, 403, "{forged}");
    }
    assert_eq!(referral_status(&app, &ticket).await, "requested");

    // Links work for 72 hours (ack.ttl_hours).
    app.set_clock("2026-11-23T10:00:01+09:00");
    assert_eq!(page(&app, &path).await.0, 410);
    assert_eq!(form_post(&app, &path, &[("action", "accept")]).await.0, 410);
    assert_eq!(referral_status(&app, &ticket).await, "requested");
}

async fn a_police_desk_declines_or_accepts_with_a_receipt_number_through_its_link(app: TestApp) {
    let (ticket, _referral, path) = escalate(&app, true).await;
    let (status, html, _) = page(&app, &path).await;
    assert_eq!(status, 200);
    assert!(html.contains("police_receipt_number"), "the police form asks for the receipt number: {html}");
    let (status, html) = form_post(&app, &path, &[("action", "accept")]).await;
    assert_eq!(status, 422, "{html}");
    assert_eq!(referral_status(&app, &ticket).await, "requested");
    let (status, html) = form_post(
        &app,
        &path,
        &[
            ("action", "accept"),
            ("police_receipt_number", "警視庁第2026-1234号"),
            ("police_contact", "サイバー犯罪対策課 佐藤"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{html}");
    let view = app.ticket(&ticket, &app.operator.secret).await;
    assert_eq!(text(&view, "/referrals/0/status"), "accepted");
    assert_eq!(text(&view, "/referrals/0/police_receipt_number"), "警視庁第2026-1234号");
}

//! Text the service cannot store or search faithfully is refused the same way on both databases: a
//! control character (NUL, ESC, DEL, C1…) in any string of any body or query gets 422 naming the field
//! as it was sent, and nothing is stored; free-text fields take tabs and line breaks; a lone surrogate
//! or invalid UTF-8 gets 400.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    RowCounts, TestApp, consent, create_forensic_partner, open_ticket, sample_call_body, text,
    triaged_ransomware_ticket, with,
};

on_both_backends!(
    a_nul_in_any_string_of_any_body_is_422_naming_that_field_and_stores_nothing,
    del_c1_and_escape_characters_are_refused_and_single_line_fields_refuse_line_breaks,
    free_text_fields_keep_tabs_and_line_breaks,
    a_lone_surrogate_or_invalid_utf8_is_400,
    a_nul_in_a_query_parameter_is_422_naming_it,
    a_registry_cell_with_a_control_character_is_a_row_error,
);

const NUL: &str = "A\u{0}B";

/// A request of the table: who sends it where, with which `If-Match`.
struct Route {
    method: Method,
    path: String,
    token: String,
    if_match: Option<i64>,
}

impl Route {
    fn new(method: Method, path: impl Into<String>, token: &str, if_match: Option<i64>) -> Route {
        Route { method, path: path.into(), token: token.to_owned(), if_match }
    }
}

async fn send(app: &TestApp, route: &Route, body: &Value) -> crate::helpers::TestResponse {
    let mut request = app
        .request(route.method.clone(), &route.path)
        .bearer_auth(&route.token)
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(version) = route.if_match {
        request = request.header("if-match", format!("\"{version}\""));
    }
    app.send(request).await
}

/// What a refused write must leave alone: every counted table, the ticket, the partner list.
async fn snapshot(app: &TestApp, ticket: &str) -> (RowCounts, Value, Value) {
    let mut view = app.ticket(ticket, &app.supervisor.secret).await;
    // Computed from the clock at each read, not stored.
    if let Some(object) = view.as_object_mut() {
        object.remove("sla");
    }
    let partners = app.get("/v1/partners", &app.operator.secret).await.expect(200);
    (app.row_counts().await, view, partners)
}

async fn a_nul_in_any_string_of_any_body_is_422_naming_that_field_and_stores_nothing(app: TestApp) {
    let ticket = triaged_ransomware_ticket(&app).await;
    let partner = create_forensic_partner(&app, &["13"]).await;
    let partner_id = text(&partner, "/id");
    let referral_body = json!({
        "kind": "forensic",
        "partner_id": partner_id,
        "consent": consent("2026-11-20T10:00:00+09:00"),
        "note": "明日の朝に連絡",
    });
    let created = app
        .change(
            &format!("/v1/tickets/{ticket}/referrals"),
            &app.operator.secret,
            Some(2),
            Some(&referral_body),
        )
        .await
        .expect_change(201, 3);
    let referral = text(&created, "/referral/id");
    let version = Some(3);
    let (operator, supervisor, admin) = (&app.operator.secret, &app.supervisor.secret, &app.admin.secret);
    let on_ticket = |action: &str, token: &str| {
        Route::new(Method::POST, format!("/v1/tickets/{ticket}/{action}"), token, version)
    };

    let call = sample_call_body();
    let call_with_member =
        with(with(call.clone(), "/caller_role", json!("staff")), "/member_name", json!("山田 太郎"));
    let call_route = || Route::new(Method::POST, "/v1/calls", operator, None);
    let triage = json!({
        "category": "serious_incident",
        "incident_kind": "ransomware",
        "facts": {
            "detected_at": "2026-11-20T09:30:00+09:00",
            "occurred_at": "2026-11-20T09:00:00+09:00",
            "systems_affected": ["電子カルテ"],
            "care_suspended": true,
        },
        "priority": "P2",
        "priority_reason": "院内で対応中",
        "decline_reason": "なし",
    });
    let callback = json!({ "due_at": "2026-11-20T15:00:00+09:00", "note": "結果を確認" });
    let action = json!({ "note": "受付", "police_receipt_number": "R-1", "police_contact": "担当 山田" });
    let new_partner = json!({
        "kind": "forensic",
        "name": "株式会社テスト",
        "emails": ["ir@test.example.jp"],
        "phone": "03-1234-5678",
        "prefectures": ["13"],
        "office_hours": { "open": "09:00", "close": "17:00" },
    });
    let token_body = json!({ "name": "desk 9", "role": "operator" });

    let cases: Vec<(Route, Value, &str)> = vec![
        (call_route(), call.clone(), "caller_name"),
        (call_route(), call.clone(), "caller_role"),
        (call_route(), call.clone(), "callback_phone"),
        (call_route(), call_with_member, "member_name"),
        (call_route(), call.clone(), "institution.name"),
        (call_route(), call.clone(), "institution.address"),
        (call_route(), call.clone(), "institution.prefecture"),
        (call_route(), call.clone(), "identifier.kind"),
        (call_route(), call.clone(), "identifier.value"),
        (call_route(), call.clone(), "summary"),
        (call_route(), call.clone(), "started_at"),
        (call_route(), with(call.clone(), "/ticket_id", json!(ticket)), "ticket_id"),
        (on_ticket("triage", operator), triage.clone(), "category"),
        (on_ticket("triage", operator), triage.clone(), "incident_kind"),
        (on_ticket("triage", operator), triage.clone(), "facts.detected_at"),
        (on_ticket("triage", operator), triage.clone(), "facts.occurred_at"),
        (on_ticket("triage", operator), triage.clone(), "facts.systems_affected[0]"),
        (on_ticket("triage", operator), triage.clone(), "priority"),
        (on_ticket("triage", operator), triage.clone(), "priority_reason"),
        (on_ticket("triage", operator), triage.clone(), "decline_reason"),
        (on_ticket("notes", operator), json!({ "body": "メモ" }), "body"),
        (on_ticket("resolve", operator), json!({ "resolution_summary": "復旧" }), "resolution_summary"),
        (on_ticket("decline", operator), json!({ "reason": "対象外" }), "reason"),
        (on_ticket("reopen", supervisor), json!({ "reason": "再発" }), "reason"),
        (on_ticket("confirm-caller", supervisor), json!({ "note": "折り返しで確認" }), "note"),
        (on_ticket("callbacks", operator), callback.clone(), "due_at"),
        (on_ticket("callbacks", operator), callback, "note"),
        (on_ticket("assign", supervisor), json!({ "assignee": app.operator.id }), "assignee"),
        (on_ticket("referrals", operator), referral_body.clone(), "kind"),
        (on_ticket("referrals", operator), referral_body.clone(), "partner_id"),
        (on_ticket("referrals", operator), referral_body.clone(), "consent.given_by"),
        (on_ticket("referrals", operator), referral_body.clone(), "consent.name"),
        (on_ticket("referrals", operator), referral_body.clone(), "consent.given_at"),
        (on_ticket("referrals", operator), referral_body, "note"),
    ];
    let mut cases = cases;
    for field in ["note", "police_receipt_number", "police_contact"] {
        let route = Route::new(Method::POST, format!("/v1/referrals/{referral}/accept"), operator, version);
        cases.push((route, action.clone(), field));
    }
    for field in ["kind", "name", "emails[0]", "phone", "prefectures[0]", "office_hours.open"] {
        cases.push((Route::new(Method::POST, "/v1/partners", supervisor, None), new_partner.clone(), field));
    }
    let patch = Route::new(Method::PATCH, format!("/v1/partners/{partner_id}"), supervisor, None);
    cases.push((patch, json!({ "name": "改名" }), "name"));
    for field in ["name", "role"] {
        cases.push((Route::new(Method::POST, "/v1/tokens", admin, None), token_body.clone(), field));
    }

    let before = snapshot(&app, &ticket).await;
    for (route, body, field) in &cases {
        let pointer = pointer_of(field);
        assert!(
            body.pointer(&pointer).is_some(),
            "{field} is in the body of {} {}",
            route.method,
            route.path
        );
        let bad = set(body.clone(), &pointer, json!(NUL));
        let response = send(&app, route, &bad).await;
        assert_eq!(
            response.status, 422,
            "{} {} with a NUL in {field}: {}",
            route.method, route.path, response.text
        );
        response.expect_invalid_fields(&[field]);
    }
    assert_eq!(snapshot(&app, &ticket).await, before, "a refused request stored nothing");
    // The bodies were right apart from the NUL: the same call is accepted as sent.
    app.log_call(&sample_call_body()).await;
}

/// `facts.systems_affected[0]` as a JSON pointer, `/facts/systems_affected/0`.
fn pointer_of(field: &str) -> String {
    field
        .split('.')
        .flat_map(|part| part.split('['))
        .map(|part| format!("/{}", part.trim_end_matches(']')))
        .collect()
}

/// `body` with the value at `pointer` (which exists) replaced.
fn set(mut body: Value, pointer: &str, value: Value) -> Value {
    *body.pointer_mut(pointer).unwrap_or_else(|| panic!("no {pointer}")) = value;
    body
}

async fn del_c1_and_escape_characters_are_refused_and_single_line_fields_refuse_line_breaks(app: TestApp) {
    app.import_fixture_registry().await;
    let empty = app.row_counts().await;
    for (pointer, value, field) in [
        ("/caller_name", "山田\u{7f}太郎", "caller_name"),
        ("/caller_name", "山田\u{85}太郎", "caller_name"),
        ("/institution/name", "本駒込\u{9b}31mクリニック", "institution.name"),
        ("/summary", "画面に\u{1b}[31m赤字", "summary"),
        ("/summary", "bell\u{7}", "summary"),
        ("/caller_name", "山田\t太郎", "caller_name"),
        ("/institution/address", "東京都文京区\n本駒込2-28-16", "institution.address"),
        ("/caller_name", "山田\u{2028}太郎", "caller_name"),
        ("/summary", "\u{FFFE}", "summary"),
    ] {
        let problem = app
            .post_call(&with(sample_call_body(), pointer, json!(value)))
            .await
            .expect_invalid_fields(&[field]);
        let detail = problem["errors"][0]["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("U+"), "the detail names the character: {problem}");
    }
    assert_eq!(app.row_counts().await, empty);
}

async fn free_text_fields_keep_tabs_and_line_breaks(app: TestApp) {
    app.import_fixture_registry().await;
    let summary = "一行目\r\n\t字下げした二行目\n三行目";
    let logged = app.log_call(&with(sample_call_body(), "/summary", json!(summary))).await;
    let id = text(&logged, "/ticket/id");
    let view = app.ticket(&id, &app.operator.secret).await;
    assert_eq!(view["summary"], json!("一行目\n\t字下げした二行目\n三行目"), "{view}");
    let note = "確認事項:\n\t1. 端末の隔離\n\t2. バックアップ";
    let added = app
        .change(
            &format!("/v1/tickets/{id}/notes"),
            &app.operator.secret,
            Some(1),
            Some(&json!({ "body": note })),
        )
        .await
        .expect_change(201, 2);
    let notes = added["notes"].as_array().unwrap_or_else(|| panic!("notes[]: {added}"));
    assert_eq!(notes.last().map(|n| n["body"].clone()), Some(json!(note)), "{added}");
}

async fn a_lone_surrogate_or_invalid_utf8_is_400(app: TestApp) {
    app.import_fixture_registry().await;
    let empty = app.row_counts().await;
    let body = sample_call_body().to_string();
    for replacement in
        [r#""caller_name":"\ud800""#, r#""caller_name":"\udc00x""#, r#""caller_name":"a\ud800\u0041""#]
    {
        let bad = body.replacen(r#""caller_name":"山田 太郎""#, replacement, 1);
        assert_ne!(bad, body, "the body holds the caller's name");
        let request = app
            .request(Method::POST, "/v1/calls")
            .bearer_auth(&app.operator.secret)
            .header("content-type", "application/json")
            .body(bad);
        app.send(request).await.expect_problem(400, "malformed-body");
    }
    let mut not_utf8 = body.replacen("山田 太郎", "\u{0}", 1).into_bytes();
    let at = not_utf8.iter().position(|&b| b == 0).expect("the marker");
    not_utf8.splice(at..=at, [0xED, 0xA0, 0x80]);
    let request = app
        .request(Method::POST, "/v1/calls")
        .bearer_auth(&app.operator.secret)
        .header("content-type", "application/json")
        .body(not_utf8);
    app.send(request).await.expect_problem(400, "malformed-body");
    // In a query, percent-encoded bytes that are not UTF-8 (a CESU surrogate, a lone 0xFF).
    for query in ["q=%ED%A0%80", "q=%FF"] {
        let request =
            app.request(Method::GET, &format!("/v1/members?{query}")).bearer_auth(&app.operator.secret);
        app.send(request).await.expect_problem(400, "bad-request");
    }
    assert_eq!(app.row_counts().await, empty);
}

async fn a_nul_in_a_query_parameter_is_422_naming_it(app: TestApp) {
    app.import_fixture_registry().await;
    let operator = &app.operator.secret;
    for (path, field) in [
        ("/v1/members?q=A%00B", "q"),
        ("/v1/members?q=%E5%B1%B1%E7%94%B0%0A", "q"),
        ("/v1/tickets?status=new%00", "status"),
        ("/v1/tickets?priority=p1%1B", "priority"),
        ("/v1/partners?kind=forensic%00", "kind"),
        ("/v1/callbacks?due_before=2026-11-20T10%3A00%3A00%2B09%3A00%00", "due_before"),
    ] {
        let request = app.request(Method::GET, path).bearer_auth(operator);
        app.send(request).await.expect_invalid_fields(&[field]);
    }
    let request =
        app.request(Method::GET, "/v1/notifications?channel=email%7F").bearer_auth(&app.supervisor.secret);
    app.send(request).await.expect_invalid_fields(&["channel"]);
    // The same search without the NUL works.
    assert_eq!(app.search_members("山田").await.len(), 1);
}

async fn a_registry_cell_with_a_control_character_is_a_row_error(app: TestApp) {
    let csv = crate::helpers::REGISTRY_CSV.replacen("佐藤 花子", "佐藤\u{0}花子", 1).replacen(
        "札幌内科",
        "札幌\u{85}内科",
        1,
    );
    let problem = app.import_registry(csv).await.expect_problem(422, "registry-import-rejected");
    let errors: Vec<(i64, &str)> = problem["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("errors[]: {problem}"))
        .iter()
        .map(|error| {
            (error["line"].as_i64().unwrap_or_default(), error["field"].as_str().unwrap_or_default())
        })
        .collect();
    assert_eq!(errors, [(4, "member_name"), (4, "institution_name")], "{problem}");
    assert_eq!(app.row_counts().await.members, 0, "nothing imported");
    // An open ticket is untouched by any of this.
    open_ticket(&app, "2026-11-20T10:00:00+09:00").await;
}

/// The patterns the OpenAPI document can give text fields say what the service does: every character of
/// the Basic Multilingual Plane, and a few beyond it, is accepted by the pattern exactly when the rule
/// accepts it.
#[test]
fn the_documented_text_patterns_match_the_rule() {
    use hotline_domain::characters::{FREE_TEXT_PATTERN, SINGLE_LINE_PATTERN, TextKind};
    for (kind, pattern) in
        [(TextKind::SingleLine, SINGLE_LINE_PATTERN), (TextKind::FreeText, FREE_TEXT_PATTERN)]
    {
        let schema = json!({ "type": "string", "pattern": pattern });
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&schema)
            .unwrap_or_else(|error| panic!("{pattern} does not compile: {error}"));
        let beyond = ['\u{10000}', '\u{1F469}', '\u{E0001}', '\u{10FFFD}'];
        for c in (0..=0xFFFF).filter_map(char::from_u32).chain(beyond) {
            let text = format!("a{c}b");
            assert_eq!(validator.is_valid(&json!(text)), kind.allows(c), "{kind:?} U+{:04X}", u32::from(c));
        }
    }
}

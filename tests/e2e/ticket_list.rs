//! The supervisors' ticket list (issue 10): every filter on known tickets, JST day boundaries, keyset
//! pages that neither repeat nor skip a ticket while new ones arrive, the page limit, the exact total,
//! and the CSV export (BOM, header, Japanese text, same rows as the JSON list, no personal columns for
//! operators).

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, consent, create_forensic_partner, ransomware_triage, sample_call_body, text, with,
};

on_both_backends!(
    filters_select_the_known_tickets_and_a_jst_day_ends_at_midnight,
    cursor_pages_neither_repeat_nor_skip_while_tickets_arrive,
    csv_export_has_a_bom_a_header_the_listed_rows_and_no_personal_columns_for_operators,
);

/// Logs a call of the fixture caller at `started_at` (clock must be set), with `changes` applied.
async fn open(app: &TestApp, started_at: &str, changes: &[(&str, Value)]) -> String {
    let mut body = with(sample_call_body(), "/started_at", json!(started_at));
    for (pointer, value) in changes {
        body = with(body, pointer, value.clone());
    }
    let logged = app.log_call(&body).await;
    text(&logged, "/ticket/id")
}

/// The tickets `query` lists (one page, at most 500), by reference, for `token`.
async fn listed(app: &TestApp, query: &[(&str, &str)], token: &str) -> Value {
    let request = app.request(Method::GET, "/v1/tickets").query(query).bearer_auth(token);
    app.send(request).await.expect(200)
}

async fn refs(app: &TestApp, query: &[(&str, &str)]) -> Vec<String> {
    let mut query = query.to_vec();
    query.push(("limit", "500"));
    let page = listed(app, &query, &app.supervisor.secret).await;
    page["tickets"]
        .as_array()
        .unwrap_or_else(|| panic!("tickets[]: {page}"))
        .iter()
        .map(|t| text(t, "/reference"))
        .collect()
}

const A: &str = "HL-2026-000001";
const B: &str = "HL-2026-000002";
const C: &str = "HL-2026-000003";

async fn filters_select_the_known_tickets_and_a_jst_day_ends_at_midnight(app: TestApp) {
    app.import_fixture_registry().await;
    let op = app.operator.secret.clone();
    // A: 20:00 JST on 11-30, full-width "ＶＰＮ" in the summary, 本駒込クリニック (13).
    app.set_clock("2026-11-30T20:00:00+09:00");
    let a = open(&app, "2026-11-30T20:00:00+09:00", &[("/summary", json!("ＶＰＮ装置から侵入された"))]).await;
    // B: created at 23:59:59 JST, 梅田中央病院 (27), still the same day.
    app.set_clock("2026-11-30T23:59:59+09:00");
    let b = open(
        &app,
        "2026-11-30T20:59:00+09:00",
        &[
            ("/institution/name", json!("梅田中央病院")),
            ("/institution/address", json!("大阪府大阪市北区梅田1-1-1")),
            ("/institution/prefecture", json!("27")),
            ("/summary", json!("電子カルテが停止している")),
        ],
    )
    .await;
    // C: created at 00:00 JST on 12-01 (next day), 鈴木 一郎 of 横浜みなと医院 (14), by member number.
    app.set_clock("2026-12-01T00:00:00+09:00");
    let c = open(
        &app,
        "2026-11-30T20:59:30+09:00",
        &[
            ("/caller_name", json!("鈴木 一郎")),
            ("/institution/name", json!("横浜みなと医院")),
            ("/institution/address", json!("神奈川県横浜市中区新港1-1-1")),
            ("/institution/prefecture", json!("14")),
            ("/identifier", json!({ "kind": "member_number", "value": "0000034567" })),
            ("/summary", json!("メールの添付ファイルを開いてしまった")),
        ],
    )
    .await;
    assert_eq!(refs(&app, &[]).await, [A, B, C], "default: oldest created first");

    // Days in Japan: 23:59:59 JST belongs to 11-30, 00:00 JST to 12-01.
    assert_eq!(refs(&app, &[("created_from", "2026-11-30"), ("created_to", "2026-11-30")]).await, [A, B]);
    assert_eq!(refs(&app, &[("created_from", "2026-12-01")]).await, [C]);
    assert_eq!(refs(&app, &[("created_to", "2026-11-29")]).await, Vec::<String>::new());
    // An instant bound is exclusive at the end, inclusive at the start.
    assert_eq!(refs(&app, &[("created_to", "2026-11-30T23:59:59+09:00")]).await, [A]);
    assert_eq!(refs(&app, &[("created_from", "2026-11-30T23:59:59+09:00")]).await, [B, C]);

    // Prefectures, the caller's history, verification.
    assert_eq!(refs(&app, &[("prefecture", "27")]).await, [B]);
    assert_eq!(refs(&app, &[("prefecture", "13,14")]).await, [A, C]);
    assert_eq!(refs(&app, &[("member_number", "0000012345")]).await, [A, B]);
    assert_eq!(refs(&app, &[("registration_number", "123456")]).await, [A, B]);
    assert_eq!(refs(&app, &[("member_number", "0000034567")]).await, [C]);
    let institution_c = text(&app.ticket(&c, &op).await, "/institution_id");
    assert_eq!(refs(&app, &[("institution_id", &institution_c)]).await, [C]);
    assert_eq!(refs(&app, &[("verification", "verified")]).await, [A, B, C]);
    assert_eq!(refs(&app, &[("verification", "mismatch,not_found")]).await, Vec::<String>::new());

    // Free text: NFKC (full-width stored, ASCII asked and the other way round), any case, reference,
    // summary and institution name.
    assert_eq!(refs(&app, &[("q", "vpn")]).await, [A]);
    assert_eq!(refs(&app, &[("q", "ＶＰＮ装置")]).await, [A]);
    assert_eq!(refs(&app, &[("q", "本駒込")]).await, [A]);
    assert_eq!(refs(&app, &[("q", "横浜みなと")]).await, [C]);
    assert_eq!(refs(&app, &[("q", "hl-2026-000002")]).await, [B]);
    assert_eq!(refs(&app, &[("q", "電子カルテ")]).await, [B]);
    assert_eq!(refs(&app, &[("q", "100%")]).await, Vec::<String>::new(), "% is literal");

    // Triage, start and refer B; C is taken by the operator.
    app.change(&format!("/v1/tickets/{b}/triage"), &op, Some(1), Some(&ransomware_triage()))
        .await
        .expect_change(200, 2);
    app.change(&format!("/v1/tickets/{b}/start"), &op, Some(2), None).await.expect_change(200, 3);
    let vendor = create_forensic_partner(&app, &["27"]).await;
    let referral = json!({
        "kind": "forensic",
        "partner_id": vendor["id"],
        "consent": consent("2026-12-01T00:00:00+09:00"),
    });
    app.change(&format!("/v1/tickets/{b}/referrals"), &op, Some(3), Some(&referral))
        .await
        .expect_change(201, 4);
    app.change(&format!("/v1/tickets/{c}/take"), &op, Some(1), None).await.expect_change(200, 2);

    assert_eq!(refs(&app, &[("status", "new")]).await, [A, C]);
    assert_eq!(refs(&app, &[("status", "escalated,triaged")]).await, [B]);
    assert_eq!(refs(&app, &[("category", "serious_incident")]).await, [B]);
    assert_eq!(refs(&app, &[("incident_kind", "ransomware")]).await, [B]);
    assert_eq!(refs(&app, &[("incident_kind", "malware")]).await, Vec::<String>::new());
    assert_eq!(refs(&app, &[("priority", "P1")]).await, [B]);
    assert_eq!(refs(&app, &[("referral_kind", "forensic")]).await, [B]);
    assert_eq!(refs(&app, &[("referral_kind", "forensic"), ("referral_status", "requested")]).await, [B]);
    assert_eq!(
        refs(&app, &[("referral_kind", "forensic"), ("referral_status", "accepted")]).await,
        Vec::<String>::new()
    );
    assert_eq!(refs(&app, &[("referral_kind", "police")]).await, Vec::<String>::new());
    let operator_id = app.operator.id.to_string();
    assert_eq!(refs(&app, &[("assignee", &operator_id)]).await, [C]);
    assert_eq!(refs(&app, &[("assignee", "unassigned")]).await, [A, B]);
    assert_eq!(refs(&app, &[("updated_from", "2026-12-01")]).await, [B, C]);
    assert_eq!(refs(&app, &[("sort", "-updated"), ("updated_from", "2026-12-01")]).await.len(), 2);

    // Overdue, computed in SQL, agrees with each row's clocks: A and C wait for a first response since
    // about 21:00 (P1's 15 minutes), B was answered by its triage.
    app.set_clock("2026-12-01T00:30:00+09:00");
    assert_eq!(refs(&app, &[("overdue", "true")]).await, [A, C]);
    assert_eq!(refs(&app, &[("overdue", "false")]).await, [B]);
    let all = listed(&app, &[], &op).await;
    for ticket in all["tickets"].as_array().expect("tickets") {
        let late = [A, C].contains(&text(ticket, "/reference").as_str());
        assert_eq!(ticket["sla"]["overdue"], json!(late), "{ticket}");
    }
    // The referral's acceptance clock (P1: 2 hours) makes B late too once it runs out.
    app.set_clock("2026-12-01T02:01:00+09:00");
    assert_eq!(refs(&app, &[("overdue", "true")]).await, [A, B, C]);
    assert_eq!(refs(&app, &[("overdue", "true"), ("prefecture", "27")]).await, [B]);

    // Bad values are 422 with the fields named.
    let bad = app
        .send(
            app.request(Method::GET, "/v1/tickets")
                .query(&[
                    ("status", "open"),
                    ("prefecture", "48"),
                    ("created_from", "11/30"),
                    ("sort", "name"),
                ])
                .bearer_auth(&op),
        )
        .await;
    bad.expect_invalid_fields(&["status", "prefecture", "created_from", "sort"]);
    let _ = a;
}

async fn cursor_pages_neither_repeat_nor_skip_while_tickets_arrive(app: TestApp) {
    app.import_fixture_registry().await;
    let sup = app.supervisor.secret.clone();
    let mut opened = 0;
    let mut add = || {
        opened += 1;
        format!("2026-11-20T{:02}:{:02}:00+09:00", 10 + opened / 60, opened % 60)
    };
    for _ in 0..7 {
        let start = add();
        app.set_clock(&start);
        open(&app, &start, &[]).await;
    }
    // Triage a few so priority and due orders have ties and differences.
    let first = listed(&app, &[("limit", "3")], &sup).await;
    let mut triaged: Vec<String> =
        first["tickets"].as_array().expect("tickets").iter().map(|t| text(t, "/reference")).collect();
    triaged.sort();
    for ticket in first["tickets"].as_array().expect("tickets") {
        let id = text(ticket, "/id");
        app.change(
            &format!("/v1/tickets/{id}/triage"),
            &app.operator.secret,
            Some(1),
            Some(&ransomware_triage()),
        )
        .await
        .expect_change(200, 2);
    }
    let everything = listed(&app, &[("total", "true")], &sup).await;
    assert_eq!(everything["total"], 7, "{everything}");
    assert_eq!(everything["next_cursor"], Value::Null);
    assert_eq!(listed(&app, &[], &sup).await["total"], Value::Null, "no total unless asked for");
    for sort in ["created", "-created", "updated", "-updated", "priority", "-priority", "due", "-due"] {
        let before = refs(&app, &[]).await;
        let mut seen: Vec<String> = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut query = vec![("sort", sort.to_owned()), ("limit", "2".to_owned())];
            if let Some(cursor) = &cursor {
                query.push(("cursor", cursor.clone()));
            }
            let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let page = listed(&app, &query, &sup).await;
            let rows = page["tickets"].as_array().expect("tickets");
            assert!(rows.len() <= 2, "{page}");
            seen.extend(rows.iter().map(|t| text(t, "/reference")));
            pages += 1;
            // A new ticket arrives between the first pages.
            if pages <= 3 {
                let start = add();
                app.set_clock(&start);
                open(&app, &start, &[]).await;
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
            assert!(pages < 50, "{sort}: the walk must end: {seen:?}");
        }
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "{sort}: a ticket came twice: {seen:?}");
        for reference in &before {
            assert!(seen.contains(reference), "{sort}: {reference} was skipped: {seen:?}");
        }
        // Triaged tickets (P1, resolution due in days) sort after untriaged ones (first response due
        // in 15 minutes) by priority and by due time, ascending; first descending.
        let mut ends =
            if sort.starts_with('-') { seen[..3].to_vec() } else { seen[seen.len() - 3..].to_vec() };
        ends.sort();
        if sort.ends_with("priority") || sort.ends_with("due") {
            assert_eq!(ends, triaged, "{sort}: {seen:?}");
        }
        if sort == "-created" {
            assert_eq!(
                seen,
                before.iter().rev().cloned().collect::<Vec<_>>(),
                "new tickets arrive above the walk"
            );
        }
    }

    // Limits: 1–500; a cursor belongs to its sort order; a cursor we did not issue is refused.
    app.get("/v1/tickets?limit=500", &sup).await.expect(200);
    app.get("/v1/tickets?limit=501", &sup).await.expect_invalid_fields(&["limit"]);
    app.get("/v1/tickets?limit=0", &sup).await.expect_invalid_fields(&["limit"]);
    let page = listed(&app, &[("limit", "1")], &sup).await;
    let cursor = text(&page, "/next_cursor");
    app.get(&format!("/v1/tickets?sort=-created&cursor={cursor}"), &sup)
        .await
        .expect_invalid_fields(&["cursor"]);
    app.get("/v1/tickets?cursor=abc", &sup).await.expect_invalid_fields(&["cursor"]);
    let total = listed(&app, &[("total", "true"), ("limit", "1")], &sup).await;
    assert_eq!(total["total"], json!(opened), "{total}");
    assert_eq!(total["tickets"].as_array().map(Vec::len), Some(1));
}

async fn csv_of(
    app: &TestApp,
    query: &[(&str, &str)],
    token: &str,
) -> (Vec<String>, Vec<Vec<String>>, String) {
    let request =
        app.request(Method::GET, "/v1/tickets").query(query).bearer_auth(token).header("accept", "text/csv");
    let response = app.send(request).await;
    assert_eq!(response.status.as_u16(), 200, "{}", response.text);
    assert_eq!(response.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(
        response.text.starts_with('\u{feff}'),
        "BOM first: {:?}",
        &response.text[..10.min(response.text.len())]
    );
    let body = response.text.trim_start_matches('\u{feff}');
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let header: Vec<String> = reader.headers().expect("a header row").iter().map(str::to_owned).collect();
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|record| record.expect("a CSV record").iter().map(str::to_owned).collect())
        .collect();
    (header, rows, response.text.clone())
}

async fn csv_export_has_a_bom_a_header_the_listed_rows_and_no_personal_columns_for_operators(app: TestApp) {
    app.import_fixture_registry().await;
    let summary = "ＶＰＮ経由で侵入、\"身代金\"要求, 電子カルテ停止\n続報あり";
    for (minute, prefecture) in [(1, "13"), (2, "27"), (3, "13"), (4, "13")] {
        let start = format!("2026-11-20T10:0{minute}:00+09:00");
        app.set_clock(&start);
        let mut changes = vec![("/summary", json!(summary))];
        if prefecture == "27" {
            changes.push(("/institution/name", json!("梅田中央病院")));
            changes.push(("/institution/address", json!("大阪府大阪市北区梅田1-1-1")));
            changes.push(("/institution/prefecture", json!("27")));
        }
        open(&app, &start, &changes).await;
    }
    let filter = [("prefecture", "13"), ("sort", "-created")];
    let json_list = listed(&app, &filter, &app.supervisor.secret).await;
    let json_refs: Vec<String> =
        json_list["tickets"].as_array().expect("tickets").iter().map(|t| text(t, "/reference")).collect();
    assert_eq!(json_refs.len(), 3);

    let (header, rows, _) = csv_of(&app, &filter, &app.supervisor.secret).await;
    let column =
        |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("{name} in {header:?}"));
    for name in
        ["reference", "status", "prefecture", "institution_name", "caller_name", "callback_phone", "summary"]
    {
        column(name);
    }
    let csv_refs: Vec<String> = rows.iter().map(|row| row[column("reference")].clone()).collect();
    assert_eq!(csv_refs, json_refs, "same rows, same order as the JSON list");
    for row in &rows {
        assert_eq!(row.len(), header.len());
        assert_eq!(row[column("institution_name")], "本駒込クリニック");
        assert_eq!(row[column("prefecture_name")], "東京都");
        assert_eq!(row[column("caller_name")], "山田 太郎");
        assert_eq!(row[column("summary")], summary, "quotes, commas and line breaks survive");
        assert_eq!(row[column("status")], "new");
    }
    // Without a filter every ticket, beyond any page size.
    let (_, all, _) = csv_of(&app, &[("limit", "1")], &app.supervisor.secret).await;
    assert_eq!(all.len(), 4);

    // Operators get the same rows without the personal columns.
    let (header, rows, raw) = csv_of(&app, &filter, &app.operator.secret).await;
    for personal in [
        "caller_name",
        "caller_role",
        "callback_phone",
        "member_name",
        "identifier_kind",
        "identifier_value",
        "summary",
    ] {
        assert!(!header.iter().any(|h| h == personal), "{personal} in {header:?}");
    }
    assert_eq!(rows.len(), 3);
    assert!(!raw.contains("山田"), "no caller name for operators");
    assert!(!raw.contains("03-3946-2121"), "no phone for operators");
    assert!(raw.contains("本駒込クリニック"));

    // An empty result is the header alone; a bad filter is 422 as for JSON.
    let (header, rows, _) = csv_of(&app, &[("prefecture", "47")], &app.supervisor.secret).await;
    assert!(!header.is_empty());
    assert!(rows.is_empty());
    let request = app
        .request(Method::GET, "/v1/tickets?limit=501")
        .bearer_auth(&app.supervisor.secret)
        .header("accept", "text/csv");
    app.send(request).await.expect_invalid_fields(&["limit"]);
}

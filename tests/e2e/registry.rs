//! The member registry over HTTP: all-or-nothing, idempotent imports and the operators' search.

use serde_json::{Value, json};

use crate::helpers::{REGISTRY_CSV, REGISTRY_HEADER, TestApp};

on_both_backends!(
    reimporting_the_same_file_changes_nothing_and_search_gives_the_same_results,
    changing_one_members_name_updates_exactly_that_member,
    a_file_with_a_byte_order_mark_imports_like_one_without,
    member_search_finds_by_numbers_names_kana_and_institution,
    a_file_with_errors_is_rejected_whole_with_line_numbers,
);

/// Searches that cover every member, for before/after comparisons.
const SEARCHES: [&str; 6] = ["山田", "佐藤 花子", "スズキ", "0000012345", "札幌", "みなと医院"];

fn counts(created: u64, updated: u64, unchanged: u64) -> Value {
    json!({ "created": created, "updated": updated, "unchanged": unchanged, "ended": 0, "reopened": 0 })
}

async fn search_all(app: &TestApp) -> Vec<Vec<Value>> {
    let mut results = Vec::new();
    for q in SEARCHES {
        results.push(app.search_members(q).await);
    }
    results
}

async fn reimporting_the_same_file_changes_nothing_and_search_gives_the_same_results(app: TestApp) {
    let first = app.import_fixture_registry().await;
    assert_eq!(
        first,
        json!({ "members": counts(3, 0, 0), "institutions": counts(4, 0, 0), "affiliations": counts(4, 0, 0), "snapshot": false, "dry_run": false })
    );
    let before = search_all(&app).await;
    assert!(before.iter().all(|found| !found.is_empty()), "{before:?}");
    let rows = app.row_counts().await;

    app.set_clock("2026-11-21T10:00:00+09:00");
    let second = app.import_fixture_registry().await;
    assert_eq!(
        second,
        json!({ "members": counts(0, 0, 3), "institutions": counts(0, 0, 4), "affiliations": counts(0, 0, 4), "snapshot": false, "dry_run": false })
    );
    assert_eq!(search_all(&app).await, before, "an unchanged import changes no search result");
    assert_eq!(app.row_counts().await, rows);
}

async fn changing_one_members_name_updates_exactly_that_member(app: TestApp) {
    app.import_fixture_registry().await;
    let before = app.search_members("0000034567").await;
    assert_eq!(before[0]["name"], "鈴木 一郎");

    let renamed = REGISTRY_CSV.replace("鈴木 一郎", "鈴木 一朗");
    let report = app.import_registry(renamed).await.expect(200);
    assert_eq!(
        report,
        json!({ "members": counts(0, 1, 2), "institutions": counts(0, 0, 4), "affiliations": counts(0, 0, 4), "snapshot": false, "dry_run": false })
    );
    let after = app.search_members("0000034567").await;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0]["name"], "鈴木 一朗");
    assert_eq!(after[0]["id"], before[0]["id"], "an update keeps the member's id");
    assert_eq!(after[0]["institutions"], before[0]["institutions"]);
    assert_eq!(app.search_members("鈴木一朗").await, after);
    assert_eq!(app.search_members("鈴木 一郎").await, Vec::<Value>::new());
}

async fn a_file_with_a_byte_order_mark_imports_like_one_without(app: TestApp) {
    let mut with_bom = "\u{feff}".as_bytes().to_vec();
    with_bom.extend_from_slice(REGISTRY_CSV.replace('\n', "\r\n").as_bytes());
    let report = app.import_registry(with_bom).await.expect(200);
    assert_eq!(report["members"], counts(3, 0, 0));
    assert_eq!(app.search_members("0000012345").await[0]["member_number"], "0000012345");
    let again = app.import_fixture_registry().await;
    assert_eq!(
        again,
        json!({ "members": counts(0, 0, 3), "institutions": counts(0, 0, 4), "affiliations": counts(0, 0, 4), "snapshot": false, "dry_run": false })
    );
}

async fn member_search_finds_by_numbers_names_kana_and_institution(app: TestApp) {
    app.import_fixture_registry().await;
    let cases: [(&str, &[&str]); 22] = [
        ("0000012345", &["0000012345"]),
        ("0000-012-345", &["0000012345"]),
        // The registration number first, then the phones that contain the digits (011-123-4567,
        // 045-123-4567), each rank by name.
        ("123456", &["0000012345", "0000023456", "0000034567"]),
        ("0123456", &["0000012345"]),
        ("１２３４５６", &["0000012345", "0000023456", "0000034567"]),
        ("７８９０", &["0000034567"]),
        ("山田 太郎", &["0000012345"]),
        ("山田太郎", &["0000012345"]),
        ("山田\u{3000}太郎", &["0000012345"]),
        ("ヤマダ タロウ", &["0000012345"]),
        ("やまだ", &["0000012345"]),
        ("ﾔﾏﾀﾞ", &["0000012345"]),
        ("梅田中央病院", &["0000012345"]),
        ("本駒込", &["0000012345"]),
        ("札幌内科", &["0000023456"]),
        ("ハナコ", &["0000023456"]),
        ("横浜みなと", &["0000034567"]),
        ("03-3946-2121", &["0000012345"]),
        ("存在しない医院", &[]),
        ("%", &[]),
        ("_", &[]),
        ("\\", &[]),
    ];
    for (q, expected) in cases {
        let found = app.search_members(q).await;
        let numbers: Vec<&str> = found.iter().map(|m| m["member_number"].as_str().expect("number")).collect();
        assert_eq!(numbers, expected, "q={q:?}");
    }

    let yamada = &app.search_members("山田").await[0];
    assert_eq!(yamada["registration_number"], "123456");
    assert_eq!(yamada["kana"], "ヤマダ タロウ");
    assert_eq!(yamada["member_class"], "A1");
    assert_eq!(yamada["eligible"], true);
    let institutions: Vec<&str> = yamada["institutions"]
        .as_array()
        .expect("institutions")
        .iter()
        .map(|i| i["name"].as_str().expect("name"))
        .collect();
    assert_eq!(institutions.len(), 2);
    assert!(institutions.contains(&"本駒込クリニック") && institutions.contains(&"梅田中央病院"));
    let sato = &app.search_members("佐藤").await[0];
    assert_eq!((&sato["member_class"], &sato["eligible"]), (&json!("B"), &json!(false)));
    assert_eq!(sato["institutions"][0]["prefecture"], "01");
    assert_eq!(sato["institutions"][0]["prefecture_name"], "北海道");

    let request = app.request(reqwest::Method::GET, "/v1/members").query(&[("q", " ")]);
    let response = app.send(request.bearer_auth(&app.operator.secret)).await;
    response.expect_invalid_fields(&["q"]);
    let request = app.request(reqwest::Method::GET, "/v1/members").bearer_auth(&app.operator.secret);
    app.send(request).await.expect_problem(422, "validation-error");
    let request = app.request(reqwest::Method::GET, "/v1/members").query(&[("q", "山田"), ("limit", "1000")]);
    app.send(request.bearer_auth(&app.operator.secret)).await.expect_invalid_fields(&["limit"]);
}

async fn a_file_with_errors_is_rejected_whole_with_line_numbers(app: TestApp) {
    let empty = app.row_counts().await;
    let csv = format!(
        "{REGISTRY_HEADER}\n\
         0000012345,123456,山田 太郎,ヤマダ タロウ,A1,1312345678,本駒込クリニック,clinic,13,113-8621,東京都文京区本駒込2-28-16,03-3946-2121,1312345678,founder\n\
         0000099999,,高橋 三郎,,A1,4012345678,博多医院,clinic,48,812-0011,福岡県福岡市博多区博多駅前1-1-1,092-123-4567,,founder\n\
         0000088888,,伊藤 四郎,,A1,2612345678,四条医院,clinic,26,60-8001,京都府京都市下京区四条通1,075-123-4567,,owner\n"
    );
    let problem = app.import_registry(csv).await.expect_problem(422, "registry-import-rejected");
    let errors: Vec<(u64, &str)> = problem["errors"]
        .as_array()
        .expect("errors[]")
        .iter()
        .map(|e| (e["line"].as_u64().expect("line"), e["field"].as_str().expect("field")))
        .collect();
    assert_eq!(errors, [(3, "prefecture"), (4, "postal_code"), (4, "role")], "{problem}");
    assert!(problem["detail"].as_str().is_some_and(|d| d.contains('3')), "{problem}");
    assert_eq!(app.row_counts().await, empty, "nothing was imported");
    assert_eq!(app.search_members("山田").await, Vec::<Value>::new());

    let unknown_column = format!("{REGISTRY_HEADER},fax\n");
    let problem = app.import_registry(unknown_column).await.expect_problem(422, "registry-import-rejected");
    assert_eq!(problem["errors"][0]["line"], 1, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "fax", "{problem}");
    // 山田 in Shift_JIS, as office software often exports it.
    let mut shift_jis = format!("{REGISTRY_HEADER}\n").into_bytes();
    shift_jis.extend_from_slice(
        b"0000012345,123456,\x8eR\x93c,,A1,1312345678,x,clinic,13,113-8621,x,03-3946-2121,,founder\n",
    );
    let problem = app.import_registry(shift_jis).await.expect_problem(422, "registry-import-rejected");
    assert_eq!(problem["errors"][0]["line"], 2, "{problem}");
    assert!(problem["errors"][0]["detail"].as_str().is_some_and(|d| d.contains("UTF-8")), "{problem}");
    assert_eq!(app.row_counts().await, empty, "nothing was imported");
}

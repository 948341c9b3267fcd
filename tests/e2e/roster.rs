//! The registry as a roster (issue 11): a full-snapshot import ends, on its date, the membership of
//! members it no longer lists (kept, not deleted), calls are verified against the roster of their own
//! date, a member listed again is re-opened, a dry run writes nothing, and a snapshot that would end
//! too large a share of the roster is refused unless forced.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{REGISTRY_CSV, REGISTRY_HEADER, TestApp, TestResponse, sample_call_body, with};

on_both_backends!(
    a_snapshot_without_a_member_ends_their_membership_on_the_import_date,
    a_snapshot_ending_sixty_percent_of_the_roster_is_refused_unless_forced_and_a_dry_run_writes_nothing,
    a_snapshot_without_one_of_a_members_institutions_ends_only_that_link,
);

/// The fixture without 鈴木 一郎 (its last row).
fn fixture_without_suzuki() -> String {
    REGISTRY_CSV.lines().filter(|line| !line.contains("鈴木")).map(|line| format!("{line}\n")).collect()
}

/// A call from 鈴木 一郎 about 横浜みなと医院 starting at `started_at`.
fn suzuki_call(started_at: &str) -> Value {
    let body = with(sample_call_body(), "/started_at", json!(started_at));
    let body = with(body, "/caller_name", json!("鈴木 一郎"));
    let body = with(body, "/member_name", json!("鈴木 一郎"));
    let body = with(
        body,
        "/institution",
        json!({ "name": "横浜みなと医院", "address": "神奈川県横浜市中区新港1-1-1", "prefecture": "14" }),
    );
    with(body, "/identifier", json!({ "kind": "registration_number", "value": "7890" }))
}

/// `POST /v1/registry/imports?…` as the admin with a CSV body.
async fn import(app: &TestApp, query: &[(&str, &str)], csv: &str) -> TestResponse {
    import_with_key(app, query, csv, None).await
}

async fn import_with_key(
    app: &TestApp,
    query: &[(&str, &str)],
    csv: &str,
    key: Option<&str>,
) -> TestResponse {
    let mut request = app
        .request(Method::POST, "/v1/registry/imports")
        .query(query)
        .bearer_auth(&app.admin.secret)
        .header("content-type", "text/csv")
        .body(csv.to_owned());
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    app.send(request).await
}

async fn verification_of(app: &TestApp, call: &Value) -> Value {
    let logged = app.log_call(call).await;
    logged["call"]["verification"].clone()
}

async fn a_snapshot_without_a_member_ends_their_membership_on_the_import_date(app: TestApp) {
    app.import_fixture_registry().await;
    let before_import = verification_of(&app, &suzuki_call("2026-11-20T10:00:00+09:00")).await;
    assert_eq!(before_import["outcome"], "verified", "{before_import}");

    // 25 November: a snapshot without 鈴木 (1 of 3 members: above the 10 % share, so forced).
    app.set_clock("2026-11-25T12:00:00+09:00");
    let without = fixture_without_suzuki();
    let refused =
        import(&app, &[("snapshot", "true")], &without).await.expect_problem(422, "snapshot-ends-too-many");
    assert_eq!((refused["ending"].clone(), refused["active"].clone()), (json!(1), json!(3)), "{refused}");
    let report = import(&app, &[("snapshot", "true"), ("force", "true")], &without).await.expect(200);
    assert_eq!(report["snapshot"], true, "{report}");
    assert_eq!(report["dry_run"], false, "{report}");
    assert_eq!(report["members"]["ended"], 1, "{report}");
    assert_eq!(report["members"]["unchanged"], 2, "{report}");
    assert_eq!(report["affiliations"]["ended"], 1, "{report}");
    // Ended, not deleted.
    assert_eq!(app.row_counts().await.members, 3);
    let found = app.search_members("スズキ").await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["membership_ended_on"], "2026-11-25", "{}", found[0]);
    assert_eq!(found[0]["eligible"], false, "{}", found[0]);
    assert_eq!(found[0]["institutions"][0]["ended_on"], "2026-11-25", "{}", found[0]);

    // A call made the day before the import (logged now) still verifies; one the day after does not.
    let day_before = verification_of(&app, &suzuki_call("2026-11-24T10:00:00+09:00")).await;
    assert_eq!(day_before["outcome"], "verified", "{day_before}");
    app.set_clock("2026-11-26T10:00:00+09:00");
    let day_after = verification_of(&app, &suzuki_call("2026-11-26T10:00:00+09:00")).await;
    assert_eq!(day_after["outcome"], "ineligible", "{day_after}");
    assert_eq!(day_after["ineligible_reason"], "membership_ended", "{day_after}");
    assert!(day_after["member_id"].is_string(), "the member is still known: {day_after}");
    // Other members are untouched.
    let yamada =
        verification_of(&app, &with(sample_call_body(), "/started_at", json!("2026-11-26T10:00:00+09:00")))
            .await;
    assert_eq!(yamada["outcome"], "verified", "{yamada}");

    // 27 November: a snapshot listing 鈴木 again re-opens the membership from that date; the gap stays.
    app.set_clock("2026-11-27T12:00:00+09:00");
    let report = import(&app, &[("snapshot", "true")], REGISTRY_CSV).await.expect(200);
    assert_eq!(report["members"]["reopened"], 1, "{report}");
    assert_eq!(report["members"]["ended"], 0, "{report}");
    assert_eq!(report["affiliations"]["reopened"], 1, "{report}");
    let found = app.search_members("スズキ").await;
    assert_eq!(found[0]["eligible"], true, "{}", found[0]);
    assert!(found[0].get("membership_ended_on").is_none(), "{}", found[0]);
    assert!(found[0]["institutions"][0].get("ended_on").is_none(), "{}", found[0]);
    let reopened = verification_of(&app, &suzuki_call("2026-11-27T11:00:00+09:00")).await;
    assert_eq!(reopened["outcome"], "verified", "{reopened}");
    let in_the_gap = verification_of(&app, &suzuki_call("2026-11-26T11:00:00+09:00")).await;
    assert_eq!(in_the_gap["ineligible_reason"], "membership_ended", "{in_the_gap}");
}

/// Five A① members, each running one clinic.
fn five_member_roster() -> String {
    let mut csv = format!("{REGISTRY_HEADER}\n");
    for n in 1..=5 {
        csv.push_str(&format!(
            "000000100{n},10{n}00,会員 {n}郎,,A1,13000000{n}0,第{n}クリニック,clinic,13,113-000{n},東京都文京区本郷{n}-1-1,03-0000-000{n},,founder\n"
        ));
    }
    csv
}

async fn a_snapshot_ending_sixty_percent_of_the_roster_is_refused_unless_forced_and_a_dry_run_writes_nothing(
    app: TestApp,
) {
    let roster = five_member_roster();
    let first = import(&app, &[], &roster).await.expect(200);
    assert_eq!(first["members"]["created"], 5, "{first}");
    let two_left: String = roster.lines().take(3).map(|line| format!("{line}\n")).collect();

    // The parameters are part of the request: a key used for an additive import is not replayed for a
    // forced snapshot of the same file.
    let additive = import_with_key(&app, &[], &two_left, Some("roster-2026-11")).await.expect(200);
    assert_eq!(additive["members"]["ended"], 0, "{additive}");
    let replayed = import_with_key(&app, &[], &two_left, Some("roster-2026-11")).await.expect(200);
    assert_eq!(replayed, additive);
    import_with_key(&app, &[("snapshot", "true"), ("force", "true")], &two_left, Some("roster-2026-11"))
        .await
        .expect_problem(422, "idempotency-key-reused");

    let problem =
        import(&app, &[("snapshot", "true")], &two_left).await.expect_problem(422, "snapshot-ends-too-many");
    assert_eq!(problem["ending"], 3, "{problem}");
    assert_eq!(problem["active"], 5, "{problem}");
    assert_eq!(problem["max_end_share"], 0.1, "{problem}");
    assert!(problem["detail"].as_str().is_some_and(|d| d.contains("force=true")), "{problem}");

    // A dry run reports what the forced import would do, and writes nothing.
    let dry = import(&app, &[("snapshot", "true"), ("force", "true"), ("dry_run", "true")], &two_left)
        .await
        .expect(200);
    assert_eq!(dry["dry_run"], true, "{dry}");
    assert_eq!(dry["members"]["ended"], 3, "{dry}");
    assert_eq!(dry["members"]["unchanged"], 2, "{dry}");
    assert_eq!(dry["affiliations"]["ended"], 3, "{dry}");
    let again =
        import(&app, &[("snapshot", "true")], &two_left).await.expect_problem(422, "snapshot-ends-too-many");
    assert_eq!(again["active"], 5, "the dry run ended nothing: {again}");

    // A dry run of an additive import: nothing ends, nothing is created.
    let additive = import(&app, &[("dry_run", "true")], &two_left).await.expect(200);
    assert_eq!(additive["members"]["ended"], 0, "{additive}");
    assert_eq!(additive["snapshot"], false, "{additive}");

    let forced = import(&app, &[("snapshot", "true"), ("force", "true")], &two_left).await.expect(200);
    assert_eq!(forced["members"]["ended"], 3, "{forced}");
    assert_eq!(forced["dry_run"], false, "{forced}");
    // Once ended, they do not count again: the same snapshot ends nothing more.
    let repeat = import(&app, &[("snapshot", "true")], &two_left).await.expect(200);
    assert_eq!(repeat["members"]["ended"], 0, "{repeat}");
}

/// A call from 山田 太郎 about 梅田中央病院 (Osaka) starting at `started_at`.
fn umeda_call(started_at: &str) -> Value {
    let body = with(sample_call_body(), "/started_at", json!(started_at));
    with(
        body,
        "/institution",
        json!({ "name": "梅田中央病院", "address": "大阪府大阪市北区梅田1-1-1", "prefecture": "27" }),
    )
}

async fn a_snapshot_without_one_of_a_members_institutions_ends_only_that_link(app: TestApp) {
    app.import_fixture_registry().await;
    app.set_clock("2026-11-25T12:00:00+09:00");
    let without_umeda: String =
        REGISTRY_CSV.lines().filter(|line| !line.contains("梅田")).map(|line| format!("{line}\n")).collect();
    // Every member stays, so no share is exceeded.
    let report = import(&app, &[("snapshot", "true")], &without_umeda).await.expect(200);
    assert_eq!(report["members"]["ended"], 0, "{report}");
    assert_eq!(report["affiliations"]["ended"], 1, "{report}");
    assert_eq!(report["institutions"]["ended"], 0, "institutions themselves do not end: {report}");

    let day_before = verification_of(&app, &umeda_call("2026-11-24T10:00:00+09:00")).await;
    assert_eq!(day_before["outcome"], "verified", "{day_before}");
    app.set_clock("2026-11-26T10:00:00+09:00");
    // The member still runs 本駒込クリニック: a call about Umeda no longer matches an institution of theirs.
    let day_after = verification_of(&app, &umeda_call("2026-11-26T10:00:00+09:00")).await;
    assert_eq!(day_after["outcome"], "mismatch", "{day_after}");
    let honkomagome =
        verification_of(&app, &with(sample_call_body(), "/started_at", json!("2026-11-26T10:00:00+09:00")))
            .await;
    assert_eq!(honkomagome["outcome"], "verified", "{honkomagome}");
}

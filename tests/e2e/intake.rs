//! Logging calls: the service window, caller verification, follow-ups and repeat callers.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, assert_timestamps_in_jst, sample_call_body, with};

on_both_backends!(
    call_at_10_00_jst_opens_a_verified_ticket_readable_by_id_and_by_reference,
    calls_outside_09_00_to_21_00_jst_are_refused_with_the_next_opening,
    started_at_beyond_the_clock_skew_is_a_validation_error,
    verification_reports_mismatched_fields_unknown_and_ineligible_callers,
    full_width_digits_and_hyphens_in_identifiers_still_verify,
    follow_up_call_attaches_to_its_ticket_and_bumps_the_version,
    repeat_caller_within_7_days_is_flagged_and_8_days_later_is_not,
    unregistered_repeat_caller_is_matched_by_institution_name_and_prefecture,
    references_restart_at_1_each_year,
);

async fn call_at_10_00_jst_opens_a_verified_ticket_readable_by_id_and_by_reference(app: TestApp) {
    let report = app.import_fixture_registry().await;
    assert_eq!(report["members"]["created"], 3, "{report}");

    let response = app.post_call(&sample_call_body()).await;
    let logged = response.expect(201);

    let call = &logged["call"];
    let ticket = &logged["ticket"];
    assert_eq!(call["verification"]["outcome"], "verified", "{logged}");
    assert_eq!(call["verification"]["mismatches"], json!([]));
    assert!(call["verification"]["member_id"].is_string(), "{logged}");
    assert!(call["verification"]["institution_id"].is_string(), "{logged}");
    assert_eq!(call["started_at"], "2026-11-20T10:00:00+09:00");
    assert_eq!(call["follow_up"], false);
    assert_eq!(call["created_by"], json!(app.operator.id));
    assert_eq!(ticket["reference"], "HL-2026-000001");
    assert_eq!(ticket["status"], "new");
    assert_eq!(ticket["version"], 1);
    assert_eq!(ticket["possible_repeat_of"], json!([]));
    assert_timestamps_in_jst(&logged);

    let call_id = call["id"].as_str().expect("call id");
    let location = format!("/v1/calls/{call_id}");
    assert_eq!(response.header("location"), Some(location.as_str()));
    assert_eq!(app.get(&location, &app.operator.secret).await.expect(200), *call);

    let ticket_id = ticket["id"].as_str().expect("ticket id");
    let by_id = app.get(&format!("/v1/tickets/{ticket_id}"), &app.operator.secret).await.expect(200);
    let by_reference = app.get("/v1/tickets/HL-2026-000001", &app.operator.secret).await.expect(200);
    assert_eq!(by_id, by_reference);
    assert_eq!(by_id["id"], ticket["id"]);
    assert_eq!(by_id["reference"], "HL-2026-000001");
    assert_eq!(by_id["prefecture"], "13");
    assert_eq!(by_id["first_call_at"], "2026-11-20T10:00:00+09:00");
    assert_eq!(by_id["calls"], json!([call]));
    assert_timestamps_in_jst(&by_id);
    // As an operator may type the reference: lower case, or full width with a Japanese IME's dashes.
    for typed in ["hl-2026-000001", "ＨＬ－２０２６－０００００１", "HLー2026ー000001"] {
        let found = app.get(&format!("/v1/tickets/{typed}"), &app.operator.secret).await.expect(200);
        assert_eq!(found, by_id, "{typed}");
    }

    let events = app.get(&format!("/v1/tickets/{ticket_id}/events"), &app.operator.secret).await.expect(200);
    let events = events["events"].as_array().expect("events[]");
    assert_eq!(events.len(), 1, "{events:?}");
    let opened = &events[0];
    assert_eq!(opened["action"], "ticket.opened");
    assert_eq!(opened["actor"], json!({ "token_id": app.operator.id, "name": app.operator.name }));
    assert_eq!(opened["occurred_at"], "2026-11-20T10:00:00+09:00");
    assert_eq!(opened["changes"]["reference"], "HL-2026-000001");
    assert_eq!(opened["changes"]["call_id"], call["id"]);
    assert_timestamps_in_jst(opened);
}

async fn calls_outside_09_00_to_21_00_jst_are_refused_with_the_next_opening(app: TestApp) {
    app.import_fixture_registry().await;
    let empty = app.row_counts().await;

    app.set_clock("2026-11-20T21:00:30+09:00");
    let at_closing = with(sample_call_body(), "/started_at", json!("2026-11-20T21:00:00+09:00"));
    let problem = app.post_call(&at_closing).await.expect_problem(422, "outside-service-window");
    assert_eq!(problem["next_open"], "2026-11-21T09:00:00+09:00", "{problem}");
    assert_eq!(problem["started_at"], "2026-11-20T21:00:00+09:00", "{problem}");
    assert_eq!(problem["window"]["open"], "09:00", "{problem}");
    assert_eq!(problem["window"]["close"], "21:00", "{problem}");
    assert_eq!(problem["window"]["time_zone"], "Asia/Tokyo", "{problem}");
    let detail = problem["detail"].as_str().expect("detail");
    assert!(detail.contains("09:00") && detail.contains("21:00"), "{detail}");
    assert_eq!(app.row_counts().await, empty, "a refused call writes nothing");

    let last_second = with(sample_call_body(), "/started_at", json!("2026-11-20T20:59:59+09:00"));
    let logged = app.log_call(&last_second).await;
    assert_eq!(logged["call"]["started_at"], "2026-11-20T20:59:59+09:00");
    let one_call = app.row_counts().await;
    assert_eq!((one_call.tickets, one_call.calls), (1, 1));

    app.set_clock("2026-11-21T08:59:59+09:00");
    let before_opening = with(sample_call_body(), "/started_at", json!("2026-11-21T08:59:59+09:00"));
    let problem = app.post_call(&before_opening).await.expect_problem(422, "outside-service-window");
    assert_eq!(problem["next_open"], "2026-11-21T09:00:00+09:00", "{problem}");
    // Without started_at the call starts now, which is just as closed.
    let mut now = sample_call_body();
    now.as_object_mut().expect("object").remove("started_at");
    let problem = app.post_call(&now).await.expect_problem(422, "outside-service-window");
    assert_eq!(problem["started_at"], "2026-11-21T08:59:59+09:00", "{problem}");
    assert_eq!(app.row_counts().await, one_call, "a refused call writes nothing");
}

async fn started_at_beyond_the_clock_skew_is_a_validation_error(app: TestApp) {
    app.import_fixture_registry().await;
    let empty = app.row_counts().await;

    let ten_minutes_ahead = with(sample_call_body(), "/started_at", json!("2026-11-20T10:10:00+09:00"));
    app.post_call(&ten_minutes_ahead).await.expect_invalid_fields(&["started_at"]);
    assert_eq!(app.row_counts().await, empty);

    // Five minutes is the configured tolerance for drifting desk clocks.
    let five_minutes_ahead = with(sample_call_body(), "/started_at", json!("2026-11-20T10:05:00+09:00"));
    app.log_call(&five_minutes_ahead).await;
}

async fn verification_reports_mismatched_fields_unknown_and_ineligible_callers(app: TestApp) {
    app.import_fixture_registry().await;
    let outcome = |logged: &Value| logged["call"]["verification"].clone();

    let wrong_name_and_address = with(
        with(sample_call_body(), "/caller_name", json!("山田 次郎")),
        "/institution/address",
        json!("東京都文京区本駒込9-9-9"),
    );
    let verification = outcome(&app.log_call(&wrong_name_and_address).await);
    assert_eq!(verification["outcome"], "mismatch", "{verification}");
    assert_eq!(verification["mismatches"], json!(["member_name", "institution_address"]), "{verification}");
    assert!(verification["member_id"].is_string(), "{verification}");

    let other_institution = with(
        with(sample_call_body(), "/institution/name", json!("梅田中央病院")),
        "/institution/address",
        json!("大阪府大阪市北区梅田1-1-1"),
    );
    let other_institution = with(other_institution, "/institution/prefecture", json!(27));
    assert_eq!(outcome(&app.log_call(&other_institution).await)["outcome"], "verified");

    let in_kana = with(sample_call_body(), "/caller_name", json!("ヤマダ タロウ"));
    assert_eq!(outcome(&app.log_call(&in_kana).await)["outcome"], "verified");

    let unknown = with(sample_call_body(), "/identifier/value", json!("999999"));
    let verification = outcome(&app.log_call(&unknown).await);
    assert_eq!(verification["outcome"], "not_found", "{verification}");
    assert_eq!(verification["member_id"], Value::Null, "{verification}");

    let class_b = json!({
        "started_at": "2026-11-20T10:00:00+09:00",
        "caller_name": "受付 一美",
        "caller_role": "staff",
        "member_name": "佐藤 花子",
        "callback_phone": "011-123-4567",
        "institution": { "name": "札幌内科", "address": "北海道札幌市中央区北1条西1", "prefecture": "01" },
        "identifier": { "kind": "member_number", "value": "0000023456" },
        "summary": "ウイルス感染の疑い",
    });
    let verification = outcome(&app.log_call(&class_b).await);
    assert_eq!(verification["outcome"], "ineligible", "{verification}");
    assert_eq!(verification["mismatches"], json!([]), "{verification}");
}

async fn full_width_digits_and_hyphens_in_identifiers_still_verify(app: TestApp) {
    app.import_fixture_registry().await;
    let cases = [
        ("registration_number", "１２３－４５６", "123456"),
        ("registration_number", "0123456", "123456"),
        ("member_number", "０００００−１２３４５", "0000012345"),
        ("member_number", "00000-12345", "0000012345"),
    ];
    for (kind, dictated, canonical) in cases {
        let body = with(sample_call_body(), "/identifier", json!({ "kind": kind, "value": dictated }));
        let logged = app.log_call(&body).await;
        assert_eq!(logged["call"]["verification"]["outcome"], "verified", "{dictated}: {logged}");
        assert_eq!(logged["call"]["identifier"], json!({ "kind": kind, "value": canonical }));
    }
    let full_width_address = with(
        with(sample_call_body(), "/institution/address", json!("東京都文京区本駒込２丁目２８番１６号")),
        "/institution/prefecture",
        json!("１３"),
    );
    let logged = app.log_call(&full_width_address).await;
    assert_eq!(logged["call"]["verification"]["outcome"], "verified", "{logged}");
    assert_eq!(logged["call"]["institution"]["prefecture"], "13");
}

async fn follow_up_call_attaches_to_its_ticket_and_bumps_the_version(app: TestApp) {
    app.import_fixture_registry().await;
    let first = app.log_call(&sample_call_body()).await;
    let ticket_id = first["ticket"]["id"].as_str().expect("ticket id").to_owned();

    app.set_clock("2026-11-20T15:30:00+09:00");
    let follow_up = with(
        with(sample_call_body(), "/started_at", json!("2026-11-20T15:25:00+09:00")),
        "/ticket_id",
        json!(ticket_id),
    );
    let follow_up = with(follow_up, "/summary", json!("バックアップから復旧できたとの連絡"));
    let second = app.log_call(&follow_up).await;
    assert_eq!(second["call"]["follow_up"], true, "{second}");
    assert_eq!(second["call"]["ticket_id"], json!(ticket_id));
    assert_eq!(second["ticket"]["id"], json!(ticket_id));
    assert_eq!(second["ticket"]["reference"], "HL-2026-000001");
    assert_eq!(second["ticket"]["version"], 2);

    let ticket = app.get(&format!("/v1/tickets/{ticket_id}"), &app.operator.secret).await.expect(200);
    assert_eq!(ticket["version"], 2);
    assert_eq!(ticket["updated_at"], "2026-11-20T15:30:00+09:00");
    assert_eq!(ticket["calls"], json!([first["call"], second["call"]]));

    let events = app.get("/v1/tickets/HL-2026-000001/events", &app.operator.secret).await.expect(200);
    let actions: Vec<&Value> =
        events["events"].as_array().expect("events[]").iter().map(|e| &e["action"]).collect();
    assert_eq!(actions, [&json!("ticket.opened"), &json!("call.logged")]);
    let logged = &events["events"][1];
    assert_eq!(logged["changes"]["call_id"], second["call"]["id"]);
    assert_eq!(logged["changes"]["version"], json!({ "before": 1, "after": 2 }));
    assert_eq!(logged["actor"]["token_id"], json!(app.operator.id));

    let counts = app.row_counts().await;
    assert_eq!((counts.tickets, counts.calls, counts.ticket_events), (1, 2, 2));
    let unknown = with(follow_up, "/ticket_id", json!(Uuid::now_v7()));
    app.post_call(&unknown).await.expect_problem(404, "not-found");
    assert_eq!(app.row_counts().await, counts, "a refused follow-up writes nothing");
}

async fn repeat_caller_within_7_days_is_flagged_and_8_days_later_is_not(app: TestApp) {
    app.import_fixture_registry().await;
    let first = app.log_call(&sample_call_body()).await;
    assert_eq!(first["ticket"]["possible_repeat_of"], json!([]));

    app.set_clock("2026-11-23T10:00:00+09:00");
    let three_days_later = with(sample_call_body(), "/started_at", json!("2026-11-23T10:00:00+09:00"));
    let second = app.log_call(&three_days_later).await;
    assert_eq!(second["ticket"]["reference"], "HL-2026-000002");
    assert_ne!(second["ticket"]["id"], first["ticket"]["id"]);
    let flagged = &second["ticket"]["possible_repeat_of"];
    assert_eq!(flagged.as_array().map(Vec::len), Some(1), "{flagged}");
    assert_eq!(flagged[0]["reference"], "HL-2026-000001");
    assert_eq!(flagged[0]["id"], first["ticket"]["id"]);
    assert_eq!(flagged[0]["matched_on"], "member");
    assert_eq!(flagged[0]["first_call_at"], "2026-11-20T10:00:00+09:00");
    let ticket = app.get("/v1/tickets/HL-2026-000002", &app.operator.secret).await.expect(200);
    assert_eq!(ticket["possible_repeat_of"], *flagged);

    app.set_clock("2026-12-01T10:00:00+09:00");
    let eight_days_later = with(sample_call_body(), "/started_at", json!("2026-12-01T10:00:00+09:00"));
    let third = app.log_call(&eight_days_later).await;
    assert_eq!(third["ticket"]["reference"], "HL-2026-000003");
    assert_eq!(third["ticket"]["possible_repeat_of"], json!([]), "{third}");
}

async fn unregistered_repeat_caller_is_matched_by_institution_name_and_prefecture(app: TestApp) {
    app.import_fixture_registry().await;
    let unregistered = |started_at: &str, institution: &str, prefecture: u8| {
        json!({
            "started_at": started_at,
            "caller_name": "事務長 青木",
            "caller_role": "staff",
            "member_name": "緑川 健",
            "callback_phone": "03-5555-0101",
            "institution": { "name": institution, "address": "東京都港区芝公園4-2-8", "prefecture": prefecture },
            "identifier": { "kind": "registration_number", "value": "55555" },
            "summary": "不審なメールの添付ファイルを開いてしまった",
        })
    };
    let first = app.log_call(&unregistered("2026-11-20T09:30:00+09:00", "みどり医院", 13)).await;
    assert_eq!(first["call"]["verification"]["outcome"], "not_found");

    // Another prefecture's clinic of the same name is somebody else.
    let elsewhere = app.log_call(&unregistered("2026-11-20T09:40:00+09:00", "みどり医院", 14)).await;
    assert_eq!(elsewhere["ticket"]["possible_repeat_of"], json!([]), "{elsewhere}");

    // Written in half-width katakana, it is still the same clinic.
    let again = app.log_call(&unregistered("2026-11-20T09:50:00+09:00", "ﾐﾄﾞﾘ医院", 13)).await;
    let flagged = &again["ticket"]["possible_repeat_of"];
    assert_eq!(flagged.as_array().map(Vec::len), Some(1), "{again}");
    assert_eq!(flagged[0]["reference"], first["ticket"]["reference"]);
    assert_eq!(flagged[0]["matched_on"], "institution_name");
}

async fn references_restart_at_1_each_year(app: TestApp) {
    app.import_fixture_registry().await;
    app.set_clock("2026-12-31T20:59:59+09:00");
    let new_years_eve = with(sample_call_body(), "/started_at", json!("2026-12-31T20:59:59+09:00"));
    let last = app.log_call(&new_years_eve).await;
    assert_eq!(last["ticket"]["reference"], "HL-2026-000001");

    // 09:00 on New Year's Day in Japan; the line is open on holidays too.
    app.set_clock("2027-01-01T09:00:00+09:00");
    let new_year = with(sample_call_body(), "/started_at", json!("2027-01-01T09:00:00+09:00"));
    let first = app.log_call(&new_year).await;
    assert_eq!(first["ticket"]["reference"], "HL-2027-000001");
    let second = app.log_call(&new_year).await;
    assert_eq!(second["ticket"]["reference"], "HL-2027-000002");
    app.get("/v1/tickets/HL-2026-000001", &app.operator.secret).await.expect(200);
    app.get("/v1/tickets/HL-2027-000002", &app.operator.secret).await.expect(200);
}

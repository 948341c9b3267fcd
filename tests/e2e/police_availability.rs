//! `GET /v1/police-desks/{prefecture}/availability`: whether a prefecture's police cyber desk answers
//! at an instant and when it opens next (weekday hours, national holidays, the New Year, the desk's own
//! hours), shown in +09:00.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, TestResponse, police_desk, text};

async fn availability(app: &TestApp, prefecture: &str, at: Option<&str>) -> TestResponse {
    let mut request = app
        .request(Method::GET, &format!("/v1/police-desks/{prefecture}/availability"))
        .bearer_auth(&app.operator.secret);
    if let Some(at) = at {
        request = request.query(&[("at", at)]);
    }
    app.send(request).await
}

/// Sunday evening before Labour Thanksgiving Day (Monday 2026-11-23): closed until Tuesday 08:30.
async fn a_desk_closed_over_a_holiday_weekend_names_tuesday_morning(app: TestApp) {
    let body = availability(&app, "27", Some("2026-11-22T20:00:00+09:00")).await.expect(200);
    assert_eq!(body["prefecture"], "27", "{body}");
    assert_eq!(body["open"], false, "{body}");
    assert_eq!(body["at"], "2026-11-22T20:00:00+09:00", "{body}");
    assert_eq!(body["next_open"], "2026-11-24T08:30:00+09:00", "{body}");
    assert_eq!(body["closed_reason"], "closed on Sun", "{body}");
    assert_eq!(body["urgent_fallback"]["emergency_number"], "110", "{body}");
    let desk = police_desk(&app, "27").await;
    assert_eq!(body["desk"]["partner_id"], desk["id"], "{body}");

    // On the holiday itself the reason is the holiday.
    let holiday = availability(&app, "27", Some("2026-11-23T10:00:00+09:00")).await.expect(200);
    assert_eq!(holiday["open"], false, "{holiday}");
    assert!(text(&holiday, "/closed_reason").contains("勤労感謝の日"), "{holiday}");
    assert_eq!(holiday["next_open"], "2026-11-24T08:30:00+09:00", "{holiday}");

    // Inside hours it is open, and the next opening is the following working day's.
    let open = availability(&app, "27", Some("2026-11-24T00:30:00Z")).await.expect(200);
    assert_eq!(open["open"], true, "{open}");
    assert_eq!(open["at"], "2026-11-24T09:30:00+09:00", "{open}");
    assert_eq!(open["closed_reason"], json!(null), "{open}");
    assert_eq!(open["urgent_fallback"], json!(null), "{open}");
    assert_eq!(open["next_open"], "2026-11-25T08:30:00+09:00", "{open}");

    // The New Year closure: from 29 December to 3 January (a Sunday in 2027), then Monday 4 January.
    let new_year = availability(&app, "27", Some("2026-12-28T17:15:00+09:00")).await.expect(200);
    assert_eq!(new_year["open"], false, "{new_year}");
    assert_eq!(new_year["next_open"], "2027-01-04T08:30:00+09:00", "{new_year}");
}

/// Without `at` the answer is for the hotline's clock (a Friday 10:00 JST in tests).
async fn without_at_the_answer_is_for_now(app: TestApp) {
    let body = availability(&app, "13", None).await.expect(200);
    assert_eq!(body["at"], "2026-11-20T10:00:00+09:00", "{body}");
    assert_eq!(body["open"], true, "{body}");
    app.set_clock("2026-11-20T17:15:00+09:00");
    let closing = availability(&app, "13", None).await.expect(200);
    assert_eq!(closing["open"], false, "closing time is exclusive: {closing}");
    assert_eq!(closing["closed_reason"], "outside office hours", "{closing}");
    assert_eq!(closing["next_open"], "2026-11-24T08:30:00+09:00", "{closing}");
}

/// A desk's own hours (opening at 10:00, also on Saturdays) replace the defaults they name.
async fn a_desks_own_hours_apply(app: TestApp) {
    let desk = police_desk(&app, "27").await;
    let hours =
        json!({ "office_hours": { "open": "10:00", "days": ["mon", "tue", "wed", "thu", "fri", "sat"] } });
    app.patch_json(&format!("/v1/partners/{}", text(&desk, "/id")), &app.supervisor.secret, &hours)
        .await
        .expect(200);
    let friday = availability(&app, "27", Some("2026-11-20T18:00:00+09:00")).await.expect(200);
    assert_eq!(friday["next_open"], "2026-11-21T10:00:00+09:00", "{friday}");
    assert_eq!(friday["office_hours"]["open"], "10:00", "{friday}");
    assert_eq!(friday["office_hours"]["close"], "17:15", "{friday}");
    let other = availability(&app, "26", Some("2026-11-20T18:00:00+09:00")).await.expect(200);
    assert_eq!(other["next_open"], "2026-11-24T08:30:00+09:00", "{other}");
}

/// An unknown prefecture or a bad instant is a validation problem naming the field.
async fn unknown_prefectures_and_bad_instants_are_refused(app: TestApp) {
    availability(&app, "48", None).await.expect_invalid_fields(&["prefecture"]);
    availability(&app, "tokyo", None).await.expect_invalid_fields(&["prefecture"]);
    availability(&app, "27", Some("2026-11-22T20:00:00")).await.expect_invalid_fields(&["at"]);
    availability(&app, "27", Some("tomorrow")).await.expect_invalid_fields(&["at"]);
}

on_both_backends!(
    a_desk_closed_over_a_holiday_weekend_names_tuesday_morning,
    without_at_the_answer_is_for_now,
    a_desks_own_hours_apply,
    unknown_prefectures_and_bad_instants_are_refused,
);

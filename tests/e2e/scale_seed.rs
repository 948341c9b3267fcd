//! The scale benchmark's seeder (`hotline-seed`, tests/src/seed.rs) writes what the service reads: on a
//! roster imported through the API, seeded tickets of every status and shape read back with their audit
//! trails, the list reads them, and intake numbers its next ticket after them.

use hotline_tests::seed::{SeedArgs, run};

use crate::helpers::{DEFAULT_NOW, TestApp, at, sample_call_body, text};

on_both_backends!(seeded_tickets_read_back_through_the_api_with_their_trails);

async fn seeded_tickets_read_back_through_the_api_with_their_trails(app: TestApp) {
    let mut roster = Vec::new();
    hotline_tests::roster::write_roster(&mut roster, 200, 12).expect("a roster in memory");
    app.import_registry(roster).await.expect(200);
    let args = SeedArgs {
        database_url: app.database_url().to_owned(),
        tickets: 600,
        callers: 60,
        days: 60,
        batch: 250,
        seed: 10,
        now: Some(at(DEFAULT_NOW)),
        reference_prefix: "HL".to_owned(),
    };
    let summary = tokio::task::spawn_blocking(move || run(&args)).await.expect("seed task").expect("seeded");
    let value =
        |key: &str| summary.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_default();

    let counts = app.row_counts().await;
    assert_eq!(counts.tickets, 600);
    assert_eq!(counts.calls.to_string(), value("rows_calls"));
    assert_eq!(counts.ticket_events.to_string(), value("rows_ticket_events"));
    assert!(counts.calls > 600 && counts.ticket_events > 3 * 600, "{counts:?}");

    // One ticket of each status and shape: the full view and the trail, one event per version.
    let samples = value("samples");
    let samples: Vec<&str> = samples.split(',').filter(|s| !s.is_empty()).collect();
    assert!(samples.len() >= 6, "{samples:?}");
    for reference in samples {
        let ticket = app.get(&format!("/v1/tickets/{reference}"), &app.supervisor.secret).await.expect(200);
        assert_eq!(text(&ticket, "/reference"), reference);
        let trail =
            app.get(&format!("/v1/tickets/{reference}/events"), &app.supervisor.secret).await.expect(200);
        let events = trail["events"].as_array().cloned().unwrap_or_default();
        assert_eq!(Some(events.len() as i64), ticket["version"].as_i64(), "{reference}: {trail}");
        assert_eq!(text(&events[0], "/action"), "ticket.opened", "{reference}");
    }

    // The queue reads a full page of seeded tickets.
    let page = app.get("/v1/tickets?limit=50", &app.operator.secret).await.expect(200);
    assert_eq!(page["tickets"].as_array().map(Vec::len), Some(50), "{page}");

    // Intake numbers the next ticket after the seeded ones of its year.
    let logged = app.log_call(&sample_call_body()).await;
    let reference = text(&logged, "/ticket/reference");
    let seq: usize = reference.rsplit('-').next().and_then(|n| n.parse().ok()).expect("a numbered reference");
    assert_eq!(seq, 601, "{reference}: the 600 seeded tickets are all of 2026");
}

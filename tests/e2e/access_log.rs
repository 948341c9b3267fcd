//! The access log is written off the request path (docs/data-protection.md): a read only queues its
//! entry; the queue is written at shutdown; a read whose entries do not fit the queue writes them itself
//! before it answers, so no read goes unrecorded.

use hotline_domain::privacy::AccessKind;
use hotline_storage::Storage;
use hotline_storage::queries::privacy::{self, AccessFilter};
use serde_json::json;

use crate::helpers::{AppOptions, Backend, open_ticket, sample_call_body, with};

on_both_backends_with_own_apps!(
    a_read_waits_in_the_queue_and_is_written_at_shutdown,
    reads_that_do_not_fit_the_queue_are_written_before_the_answer,
);

/// How many entries of `what` are in the database (not in the queue).
async fn written(storage: &Storage, what: AccessKind) -> usize {
    let storage = storage.clone();
    let filter = AccessFilter { limit: 10_000, ..AccessFilter::default() };
    let entries =
        tokio::task::spawn_blocking(move || storage.read(|conn| privacy::list_access(conn, &filter)))
            .await
            .expect("the read's task")
            .expect("the access log");
    entries.iter().filter(|entry| entry.what == what).count()
}

async fn a_read_waits_in_the_queue_and_is_written_at_shutdown(backend: Backend) {
    // Written once a minute or at 500 queued: within the test only the shutdown writes.
    let options = AppOptions {
        tweak: Some(|settings| settings.privacy.access_log_flush_ms = 60_000),
        ..AppOptions::default()
    };
    let Some(mut app) = backend.spawn(options).await else { return };
    let id = open_ticket(&app, "2026-11-20T10:00:00+09:00").await;
    app.get(&format!("/v1/tickets/{id}"), &app.operator.secret).await.expect(200);
    assert_eq!(written(&app.storage, AccessKind::Ticket).await, 0, "the read wrote nothing");
    app.stop().await;
    assert_eq!(written(&app.storage, AccessKind::Ticket).await, 1, "written at shutdown");
}

async fn reads_that_do_not_fit_the_queue_are_written_before_the_answer(backend: Backend) {
    let options = AppOptions {
        tweak: Some(|settings| {
            settings.privacy.access_log_queue = 100;
            settings.privacy.access_log_batch = 100;
            settings.privacy.access_log_flush_ms = 60_000;
        }),
        ..AppOptions::default()
    };
    let Some(app) = backend.spawn(options).await else { return };
    for _ in 0..101 {
        app.log_call(&with(sample_call_body(), "/started_at", json!("2026-11-20T09:59:00+09:00"))).await;
    }
    // One search finds 101 tickets: 101 entries do not fit a queue of 100.
    app.get("/v1/personal-data?phone=03-3946-2121", &app.admin.secret).await.expect(200);
    assert_eq!(written(&app.storage, AccessKind::Request).await, 101, "written before the answer");
    let log = app.get("/v1/access-log?limit=100", &app.admin.secret).await.expect(200);
    assert_eq!(log["entries"].as_array().map(Vec::len), Some(100), "{log}");
}

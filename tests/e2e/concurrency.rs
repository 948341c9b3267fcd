//! Many operators at once during an attack wave: every call gets its own ticket and references stay
//! consecutive.

use std::collections::BTreeSet;

use futures_util::future::join_all;
use serde_json::json;

use crate::helpers::{TestApp, sample_call_body, with};

on_both_backends!(fifty_concurrent_calls_get_references_1_to_50_without_gaps);

async fn fifty_concurrent_calls_get_references_1_to_50_without_gaps(app: TestApp) {
    app.import_fixture_registry().await;
    let bodies: Vec<_> = (1..=50)
        .map(|n| with(sample_call_body(), "/summary", json!(format!("同時多発の着信 {n}"))))
        .collect();
    let responses = join_all(bodies.iter().map(|body| app.post_call(body))).await;

    let mut references = BTreeSet::new();
    for response in &responses {
        let logged = response.expect(201);
        references.insert(logged["ticket"]["reference"].as_str().expect("reference").to_owned());
    }
    assert_eq!(references.len(), 50, "{references:?}");
    let numbers: Vec<i64> = references
        .iter()
        .map(|reference| {
            let number = reference.strip_prefix("HL-2026-").expect("HL-2026-NNNNNN");
            assert_eq!(number.len(), 6, "{reference}");
            number.parse().expect("a number")
        })
        .collect();
    assert_eq!(numbers, (1..=50).collect::<Vec<i64>>());
    let counts = app.row_counts().await;
    assert_eq!((counts.tickets, counts.calls, counts.ticket_events), (50, 50, 50));
}

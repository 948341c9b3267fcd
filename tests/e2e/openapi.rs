//! Real responses against docs/openapi.json. One realistic day at the hotline — the registry import, a
//! call and its ticket through triage, assignment, notes, a callback, forensic and police referrals
//! (one answered through the partner's link), resolution, closing and reopening; a declined ticket;
//! the queues, the partner directory, member search, tokens, a failed alert retried — plus the usual
//! refusals (401, 403, 404, 409, 412, 415, 422, 428). Every response is checked against the document:
//!
//! - its status must be documented for the operation the path and method match, with the media type
//!   it was sent with (`application/json`, `application/problem+json`, `text/html`, or no body);
//! - a JSON body must validate (JSON Schema 2020-12, formats asserted) against that response's schema,
//!   made **strict** for the test: every object schema that lists `properties` gets
//!   `unevaluatedProperties: false`, so a member the server sends but the document does not name
//!   fails, while the published document stays open for additions;
//! - headers the document marks required must be there, and `Location`, `ETag`, `idempotent-replayed`,
//!   `WWW-Authenticate` and `Retry-After` may only appear where the document declares them;
//! - at the end every documented operation must have been seen answering with a success status.

use std::collections::BTreeSet;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use hotline_notify::test_support::{Behaviour, SmtpSink};
use hotline_storage::queries::outbox;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    AppOptions, Backend, REGISTRY_CSV, TestApp, TestResponse, consent, ransomware_triage, sample_call_body,
    text, with,
};

on_both_backends_with_own_apps!(a_day_at_the_hotline_answers_exactly_as_docs_openapi_json_says);

/// The document as committed (and served at `/openapi.json`).
const DOCUMENT: &str = include_str!("../../docs/openapi.json");

/// Headers whose presence the document must declare wherever they are sent.
const DECLARED_HEADERS: [&str; 5] =
    ["location", "etag", "idempotent-replayed", "www-authenticate", "retry-after"];

/// How long an alert may take to fail or to be sent.
const WAIT: Duration = Duration::from_secs(15);

/// Replaces every `allOf` of object schemas (how the generated document writes a flattened type such
/// as "the ticket plus the note's id", or a problem narrowed to some types) by one object schema with
/// all their properties, so that [`strict`] judges the combined object: a member of one part must not
/// count as unexpected by another.
fn merge_all_of(value: &mut Value, schemas: &Value) {
    match value {
        Value::Object(object) => {
            object.values_mut().for_each(|sub| merge_all_of(sub, schemas));
            let Some(Value::Array(parts)) = object.get("allOf") else { return };
            let mut properties = serde_json::Map::new();
            let mut required: Vec<Value> = Vec::new();
            for part in parts {
                let part = match part.get("$ref").and_then(Value::as_str) {
                    Some(reference) => {
                        let name = reference.rsplit('/').next().unwrap_or_default();
                        let mut component = schemas[name].clone();
                        merge_all_of(&mut component, schemas);
                        component
                    }
                    None => part.clone(),
                };
                let Some(own) = part.get("properties").and_then(Value::as_object) else { return };
                for (name, schema) in own {
                    let merged = match properties.remove(name) {
                        Some(earlier) => json!({ "allOf": [earlier, schema] }),
                        None => schema.clone(),
                    };
                    properties.insert(name.clone(), merged);
                }
                for name in part.get("required").and_then(Value::as_array).into_iter().flatten() {
                    if !required.contains(name) {
                        required.push(name.clone());
                    }
                }
            }
            object.remove("allOf");
            object.insert("type".to_owned(), json!("object"));
            object.insert("properties".to_owned(), Value::Object(properties));
            object.insert("required".to_owned(), Value::Array(required));
        }
        Value::Array(items) => items.iter_mut().for_each(|item| merge_all_of(item, schemas)),
        _ => {}
    }
}

/// Makes every object schema that lists its properties refuse unlisted members (unless it says
/// otherwise with `additionalProperties`), so undocumented response members fail the test.
fn strict(value: &mut Value) {
    match value {
        Value::Object(object) => {
            let lists_properties = object.get("properties").is_some_and(Value::is_object);
            if lists_properties
                && !object.contains_key("additionalProperties")
                && !object.contains_key("unevaluatedProperties")
            {
                object.insert("unevaluatedProperties".to_owned(), Value::Bool(false));
            }
            object.values_mut().for_each(strict);
        }
        Value::Array(items) => items.iter_mut().for_each(strict),
        _ => {}
    }
}

/// The document, and which operations the flow has seen succeed.
struct Contract {
    /// The document with strict object schemas.
    doc: Value,
    /// (METHOD, path template) of every operation that answered 2xx.
    succeeded: BTreeSet<(String, String)>,
}

impl Contract {
    fn load() -> Contract {
        let mut doc: Value = serde_json::from_str(DOCUMENT).expect("docs/openapi.json is JSON");
        let schemas = doc["components"]["schemas"].clone();
        merge_all_of(&mut doc, &schemas);
        strict(&mut doc);
        Contract { doc, succeeded: BTreeSet::new() }
    }

    /// Follows a local `$ref` (responses, headers).
    fn resolve<'a>(&'a self, value: &'a Value) -> &'a Value {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let pointer = reference.strip_prefix('#').expect("a local reference");
                self.doc.pointer(pointer).unwrap_or_else(|| panic!("{reference} does not resolve"))
            }
            None => value,
        }
    }

    /// The documented path template a request path falls under: literal segments win over parameters.
    fn template(&self, method: &str, path: &str) -> String {
        let path = path.split('?').next().unwrap_or(path);
        let segments: Vec<&str> = path.split('/').collect();
        let paths = self.doc["paths"].as_object().expect("paths");
        paths
            .iter()
            .filter(|(_, item)| item.get(method.to_lowercase()).is_some())
            .filter_map(|(template, _)| {
                let parts: Vec<&str> = template.split('/').collect();
                let fits = parts.len() == segments.len()
                    && parts
                        .iter()
                        .zip(&segments)
                        .all(|(part, segment)| part.starts_with('{') || part == segment);
                fits.then(|| (parts.iter().filter(|part| part.starts_with('{')).count(), template.clone()))
            })
            .min()
            .map(|(_, template)| template)
            .unwrap_or_else(|| panic!("no documented operation for {method} {path}"))
    }

    /// Checks a response against the operation's documented response, returns its JSON body (or
    /// `Null` for a body that is not JSON).
    fn check(&mut self, method: &str, path: &str, response: &TestResponse) -> Value {
        let template = self.template(method, path);
        let status = response.status.as_u16();
        let what = format!("{method} {path} → {status} (documented as {method} {template})");
        let operation = &self.doc["paths"][&template][method.to_lowercase()];
        let documented = operation["responses"]
            .get(status.to_string())
            .unwrap_or_else(|| panic!("{what}: status not documented; body: {}", response.text));
        let documented = self.resolve(documented).clone();

        let headers = documented["headers"].as_object().cloned().unwrap_or_default();
        for (name, header) in &headers {
            if self.resolve(header)["required"] == json!(true) {
                assert!(response.header(name).is_some(), "{what}: required header {name} is missing");
            }
        }
        for name in DECLARED_HEADERS {
            if response.header(name).is_some() {
                assert!(
                    headers.keys().any(|declared| declared.eq_ignore_ascii_case(name)),
                    "{what}: the response has {name}, which the document does not declare"
                );
            }
        }

        let content_type = response.header("content-type").unwrap_or_default();
        let essence = content_type.split(';').next().unwrap_or_default().trim().to_owned();
        let body = if method == "HEAD" {
            assert!(response.text.is_empty(), "{what}: a HEAD answer has no body");
            Value::Null
        } else if response.text.is_empty() && essence.is_empty() {
            assert!(
                documented.get("content").is_none(),
                "{what}: no body, but the document describes {}",
                documented["content"]
            );
            Value::Null
        } else {
            let media = documented["content"].get(&essence).unwrap_or_else(|| {
                panic!(
                    "{what}: {essence:?} is not documented (only {}); body: {}",
                    documented["content"], response.text
                )
            });
            if essence.ends_with("json") {
                let body = response.json();
                self.validate(&media["schema"], &body, &what);
                body
            } else {
                assert_eq!(media["schema"]["type"], "string", "{what}: a {essence} body is a string");
                Value::Null
            }
        };
        if response.status.is_success() {
            self.succeeded.insert((method.to_owned(), template));
        }
        body
    }

    fn validate(&self, schema: &Value, instance: &Value, what: &str) {
        // The document's component schemas beside the target, so `#/components/schemas/…` resolves.
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$defs": { "target": schema },
            "components": { "schemas": self.doc["components"]["schemas"] },
            "$ref": "#/$defs/target",
        });
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|error| panic!("{what}: the documented schema does not compile: {error}"));
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|error| format!("{} at {}", error, error.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{what}: the body does not match docs/openapi.json:\n  {}\nbody: {instance:#}",
            errors.join("\n  ")
        );
    }

    /// Every documented operation that never answered 2xx in the flow.
    fn not_seen_succeeding(&self) -> Vec<String> {
        let paths = self.doc["paths"].as_object().expect("paths");
        let mut missing = Vec::new();
        for (template, item) in paths {
            for method in ["get", "head", "post", "put", "patch", "delete", "options"] {
                let pair = (method.to_uppercase(), template.clone());
                if item.get(method).is_some() && !self.succeeded.contains(&pair) {
                    missing.push(format!("{} {template}", pair.0));
                }
            }
        }
        missing
    }
}

/// A test app and the contract, so that every request of the flow is checked.
struct Flow {
    app: TestApp,
    contract: Mutex<Contract>,
}

impl Flow {
    /// Sends `request` (built for `method path`) and checks the answer against the document.
    async fn send(
        &self,
        method: &str,
        path: &str,
        request: reqwest::RequestBuilder,
    ) -> (TestResponse, Value) {
        let response = self.app.send(request).await;
        let body =
            self.contract.lock().unwrap_or_else(PoisonError::into_inner).check(method, path, &response);
        (response, body)
    }

    async fn get(&self, path: &str, token: &str) -> (TestResponse, Value) {
        let request = self.app.request(Method::GET, path).bearer_auth(token);
        self.send("GET", path, request).await
    }

    async fn post(&self, path: &str, token: &str, body: &Value, key: Option<&str>) -> (TestResponse, Value) {
        let mut request = self
            .app
            .request(Method::POST, path)
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        self.send("POST", path, request).await
    }

    /// A ticket change with `If-Match` (unless `None`) and a JSON body (unless `None`).
    async fn change(
        &self,
        path: &str,
        token: &str,
        version: Option<i64>,
        body: Option<&Value>,
    ) -> (TestResponse, Value) {
        let mut request = self.app.request(Method::POST, path).bearer_auth(token);
        if let Some(version) = version {
            request = request.header("if-match", format!("\"{version}\""));
        }
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        self.send("POST", path, request).await
    }

    async fn delete(&self, path: &str, token: &str) -> (TestResponse, Value) {
        let request = self.app.request(Method::DELETE, path).bearer_auth(token);
        self.send("DELETE", path, request).await
    }

    /// The ticket's current version, read (and checked) through `GET /v1/tickets/{id}`.
    async fn version(&self, id: &str) -> i64 {
        let operator = self.app.operator.secret.clone();
        let (response, ticket) = self.get(&format!("/v1/tickets/{id}"), &operator).await;
        assert_eq!(response.status, 200, "{}", response.text);
        ticket["version"].as_i64().unwrap_or_else(|| panic!("version: {ticket}"))
    }

    /// The ticket's alerts once every one satisfies `done` (bounded by [`WAIT`]).
    async fn alerts_when(&self, id: &str, done: impl Fn(&Value) -> bool) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + WAIT;
        let operator = self.app.operator.secret.clone();
        loop {
            let (_, ticket) = self.get(&format!("/v1/tickets/{id}"), &operator).await;
            let alerts = ticket["alerts"].as_array().cloned().unwrap_or_default();
            if !alerts.is_empty() && alerts.iter().all(&done) {
                return alerts;
            }
            assert!(tokio::time::Instant::now() < deadline, "alerts never settled: {alerts:#?}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

fn status_of(response: &TestResponse) -> u16 {
    response.status.as_u16()
}

async fn a_day_at_the_hotline_answers_exactly_as_docs_openapi_json_says(backend: Backend) {
    // Partners' mail servers refuse everything at first: alerts fail, for the supervisors' retry.
    let sink = SmtpSink::start_with(0, Behaviour::rejecting(550)).await;
    let Some(app) = backend.spawn(AppOptions::smtp(sink.port())).await else { return };
    let (op, sup, admin) =
        (app.operator.secret.clone(), app.supervisor.secret.clone(), app.admin.secret.clone());
    let f = Flow { app, contract: Mutex::new(Contract::load()) };

    // Probes and the document itself, without a token.
    for path in ["/healthz", "/readyz"] {
        let (response, _) = f.send("GET", path, f.app.request(Method::GET, path)).await;
        assert_eq!(status_of(&response), 200);
        let (response, _) = f.send("HEAD", path, f.app.request(Method::HEAD, path)).await;
        assert_eq!((status_of(&response), response.text.as_str()), (200, ""));
    }
    let (response, served) =
        f.send("GET", "/openapi.json", f.app.request(Method::GET, "/openapi.json")).await;
    assert_eq!(status_of(&response), 200);
    assert_eq!(served, serde_json::from_str::<Value>(DOCUMENT).expect("JSON"), "served as committed");

    // The window, and a request without a token.
    let (response, status) = f.get("/v1/hotline/status", &op).await;
    assert_eq!((status_of(&response), &status["open"]), (200, &json!(true)));
    let (response, _) = f.send("GET", "/v1/tickets", f.app.request(Method::GET, "/v1/tickets")).await;
    assert_eq!(status_of(&response), 401);

    // The registry: a rejected file, an operator who may not import, the import, a search.
    let import = |token: &str, csv: &str| {
        f.app
            .request(Method::POST, "/v1/registry/imports")
            .bearer_auth(token)
            .header("content-type", "text/csv")
            .body(csv.to_owned())
    };
    let bad_csv = format!("{}\n", REGISTRY_CSV.lines().next().unwrap_or_default()) + "0000012345,1234567,x";
    let (response, problem) = f.send("POST", "/v1/registry/imports", import(&admin, &bad_csv)).await;
    assert_eq!((status_of(&response), &problem["type"]), (422, &json!("/problems/registry-import-rejected")));
    let (response, _) = f.send("POST", "/v1/registry/imports", import(&op, REGISTRY_CSV)).await;
    assert_eq!(status_of(&response), 403);
    let (response, report) = f.send("POST", "/v1/registry/imports", import(&admin, REGISTRY_CSV)).await;
    assert_eq!((status_of(&response), &report["members"]["created"]), (200, &json!(3)));
    let search = f.app.request(Method::GET, "/v1/members").query(&[("q", "山田")]).bearer_auth(&op);
    let (response, found) = f.send("GET", "/v1/members", search).await;
    assert_eq!((status_of(&response), found["members"].as_array().map(Vec::len)), (200, Some(1)));
    let (response, problem) = f.get("/v1/members", &op).await;
    assert_eq!((status_of(&response), &problem["errors"][0]["field"]), (422, &json!("query")));

    // A call: refusals first, then the call, its replay and a reused key.
    let call = sample_call_body();
    let (response, problem) = f
        .post("/v1/calls", &op, &with(call.clone(), "/started_at", json!("2026-11-20T08:30:00+09:00")), None)
        .await;
    assert_eq!((status_of(&response), &problem["type"]), (422, &json!("/problems/outside-service-window")));
    let (response, problem) =
        f.post("/v1/calls", &op, &with(call.clone(), "/callback_phone", json!("12")), None).await;
    assert_eq!((status_of(&response), &problem["errors"][0]["field"]), (422, &json!("callback_phone")));
    let broken = f
        .app
        .request(Method::POST, "/v1/calls")
        .bearer_auth(&op)
        .header("content-type", "application/json")
        .body("{");
    let (response, _) = f.send("POST", "/v1/calls", broken).await;
    assert_eq!(status_of(&response), 400);
    let as_text = f
        .app
        .request(Method::POST, "/v1/calls")
        .bearer_auth(&op)
        .header("content-type", "text/plain")
        .body("hi");
    let (response, _) = f.send("POST", "/v1/calls", as_text).await;
    assert_eq!(status_of(&response), 415);
    let (response, logged) = f.post("/v1/calls", &op, &call, Some("call-1")).await;
    assert_eq!(status_of(&response), 201, "{}", response.text);
    let (response, _) = f.post("/v1/calls", &op, &call, Some("call-1")).await;
    assert_eq!((status_of(&response), response.header("idempotent-replayed")), (201, Some("true")));
    let (response, _) =
        f.post("/v1/calls", &op, &with(call.clone(), "/summary", json!("別件")), Some("call-1")).await;
    assert_eq!(status_of(&response), 422);
    let id = text(&logged, "/ticket/id");
    let reference = text(&logged, "/ticket/reference");
    let call_id = text(&logged, "/call/id");
    let (response, _) = f.get(&format!("/v1/calls/{call_id}"), &op).await;
    assert_eq!(status_of(&response), 200);
    let (response, _) = f.get("/v1/calls/01900000-0000-7000-8000-000000000000", &op).await;
    assert_eq!(status_of(&response), 404);

    // An unknown caller's call, for a declined ticket later.
    let stranger =
        with(with(call.clone(), "/identifier/value", json!("999999")), "/caller_name", json!("名無し"));
    let (response, other) = f.post("/v1/calls", &op, &stranger, None).await;
    assert_eq!((status_of(&response), &other["call"]["verification"]["outcome"]), (201, &json!("not_found")));
    let other_id = text(&other, "/ticket/id");

    // The ticket: read by reference, then triaged after the two precondition refusals.
    let (response, _) = f.get(&format!("/v1/tickets/{reference}"), &op).await;
    assert_eq!(status_of(&response), 200);
    let (response, _) = f.get("/v1/tickets/HL-2026-999999", &op).await;
    assert_eq!(status_of(&response), 404);
    let path = |action: &str| format!("/v1/tickets/{id}/{action}");
    let (response, problem) = f.change(&path("triage"), &op, None, Some(&ransomware_triage())).await;
    assert_eq!((status_of(&response), &problem["current_version"]), (428, &Value::Null));
    let (response, problem) = f.change(&path("triage"), &op, Some(7), Some(&ransomware_triage())).await;
    assert_eq!((status_of(&response), &problem["current_version"]), (412, &json!(1)));
    let (response, _) = f.change(&path("triage"), &op, Some(1), Some(&ransomware_triage())).await;
    assert_eq!(status_of(&response), 200, "{}", response.text);
    let (response, problem) = f.change(&path("close"), &op, Some(2), None).await;
    assert_eq!((status_of(&response), &problem["type"]), (409, &json!("/problems/invalid-transition")));
    let (response, _) = f.change(&path("start"), &op, Some(2), None).await;
    assert_eq!(status_of(&response), 200);
    let (response, _) = f.change(&path("take"), &op, Some(3), Some(&json!({}))).await;
    assert_eq!(status_of(&response), 200);
    let (response, problem) = f.change(&path("take"), &admin, Some(4), None).await;
    assert_eq!((status_of(&response), &problem["type"]), (409, &json!("/problems/already-assigned")));
    let (response, _) = f.change(&path("assign"), &op, Some(4), Some(&json!({ "assignee": null }))).await;
    assert_eq!(status_of(&response), 403);
    let assignee = json!({ "assignee": f.app.supervisor.id });
    let (response, _) = f.change(&path("assign"), &sup, Some(4), Some(&assignee)).await;
    assert_eq!(status_of(&response), 200);
    let (response, noted) =
        f.change(&path("notes"), &op, Some(5), Some(&json!({ "body": "院内LANから隔離済み" }))).await;
    assert_eq!((status_of(&response), noted["note_id"].is_string()), (201, true));
    let promise = json!({ "due_at": "2026-11-20T22:00:00+09:00", "note": "復旧状況を確認" });
    let (response, promised) = f.change(&path("callbacks"), &op, Some(6), Some(&promise)).await;
    assert_eq!((status_of(&response), &promised["callback"]["moved"]), (201, &json!(true)));
    let due = f
        .app
        .request(Method::GET, "/v1/callbacks")
        .query(&[("due_before", "2026-11-22T00:00:00+09:00")])
        .bearer_auth(&op);
    let (response, callbacks) = f.send("GET", "/v1/callbacks", due).await;
    assert_eq!((status_of(&response), callbacks["callbacks"].as_array().map(Vec::len)), (200, Some(1)));

    // The partner directory: a vendor, the Tokyo police desk's address, a refused and an unknown edit.
    let (response, partners) = f.get("/v1/partners", &op).await;
    assert_eq!((status_of(&response), partners["partners"].as_array().map(Vec::len)), (200, Some(47)));
    let vendor = json!({ "kind": "forensic", "name": "東京フォレンジック株式会社", "emails": ["ir@forensic.example.co.jp"], "phone": "03-1234-5678", "prefectures": ["13"] });
    let (response, vendor) = f.post("/v1/partners", &sup, &vendor, Some("vendor-1")).await;
    assert_eq!(status_of(&response), 201, "{}", response.text);
    let vendor_id = text(&vendor, "/id");
    let (response, _) = f.post("/v1/partners", &sup, &json!({ "kind": "forensic", "name": "" }), None).await;
    assert_eq!(status_of(&response), 422);
    let tokyo = f
        .app
        .request(Method::GET, "/v1/partners")
        .query(&[("kind", "police"), ("prefecture", "13")])
        .bearer_auth(&op);
    let (_, desks) = f.send("GET", "/v1/partners", tokyo).await;
    let desk_id = text(&desks, "/partners/0/id");
    let patch = |id: &str, token: &str| {
        f.app
            .request(Method::PATCH, &format!("/v1/partners/{id}"))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(
                json!({ "emails": ["cyber-soudan@police.example.jp"], "office_hours": { "open": "08:30" } })
                    .to_string(),
            )
    };
    let (response, _) = f.send("PATCH", &format!("/v1/partners/{desk_id}"), patch(&desk_id, &sup)).await;
    assert_eq!(status_of(&response), 200, "{}", response.text);
    let unknown = "01900000-0000-7000-8000-0000000000ff";
    let (response, _) = f.send("PATCH", &format!("/v1/partners/{unknown}"), patch(unknown, &sup)).await;
    assert_eq!(status_of(&response), 404);

    // Referrals: forensic, then the police handoff (open on a Friday morning), a duplicate, and a
    // resolution refused while they are open.
    let consent = consent("2026-11-20T10:00:00+09:00");
    let forensic =
        json!({ "kind": "forensic", "partner_id": vendor_id, "consent": consent, "note": "ログ保全を依頼" });
    let (response, referred) = f.change(&path("referrals"), &op, Some(7), Some(&forensic)).await;
    assert_eq!((status_of(&response), &referred["status"]), (201, &json!("escalated")), "{}", response.text);
    let forensic_id = text(&referred, "/referral/id");
    let police = json!({ "kind": "police", "consent": consent });
    let (response, handed) = f.change(&path("referrals"), &op, Some(8), Some(&police)).await;
    assert_eq!(
        (status_of(&response), &handed["police_desk"]["open_now"]),
        (201, &json!(true)),
        "{}",
        response.text
    );
    let police_id = text(&handed, "/referral/id");
    let (response, problem) = f.change(&path("referrals"), &op, Some(9), Some(&forensic)).await;
    assert_eq!((status_of(&response), &problem["type"]), (409, &json!("/problems/duplicate-referral")));
    let resolution = json!({ "resolution_summary": "バックアップから復旧" });
    let (response, problem) = f.change(&path("resolve"), &op, Some(9), Some(&resolution)).await;
    let open = problem["open_referrals"].as_array().map(Vec::len);
    assert_eq!((status_of(&response), open), (409, Some(2)), "{problem}");

    // The vendor's answers, recorded by the operator.
    let referral = |rid: &str, action: &str| format!("/v1/referrals/{rid}/{action}");
    let (response, problem) = f.change(&referral(&forensic_id, "complete"), &op, Some(9), None).await;
    assert_eq!((status_of(&response), &problem["referral_status"]), (409, &json!("requested")));
    let (response, _) = f
        .change(
            &referral(&forensic_id, "accept"),
            &op,
            Some(9),
            Some(&json!({ "note": "担当者アサイン済み" })),
        )
        .await;
    assert_eq!(status_of(&response), 200, "{}", response.text);
    let (response, _) = f.change(&referral(&forensic_id, "complete"), &op, Some(10), None).await;
    assert_eq!(status_of(&response), 200);
    let (response, problem) =
        f.change(&referral(&police_id, "accept"), &op, Some(11), Some(&json!({}))).await;
    assert_eq!(
        (status_of(&response), &problem["errors"][0]["field"]),
        (422, &json!("police_receipt_number"))
    );

    // The police desk answers through the link in its alert: the page, then its form.
    let ticket_uuid = uuid::Uuid::parse_str(&id).expect("ticket id");
    let stored = f.app.storage.read(|conn| outbox::of_ticket(conn, ticket_uuid)).expect("alerts");
    let police_alert = stored.iter().find(|a| a.alert_kind == "police_handoff").expect("a police alert");
    let start = police_alert.body.find("/ack/").expect("an acknowledgement link");
    let ack: String = police_alert.body[start..].chars().take_while(|c| !c.is_whitespace()).collect();
    let (response, _) = f.send("GET", &ack, f.app.request(Method::GET, &ack)).await;
    assert_eq!(status_of(&response), 200);
    let (response, _) = f.send("GET", "/ack/forged", f.app.request(Method::GET, "/ack/forged")).await;
    assert_eq!(status_of(&response), 403);
    let form = |fields: &[(&str, &str)]| f.app.request(Method::POST, &ack).form(fields);
    let (response, _) = f.send("POST", &ack, f.app.request(Method::POST, &ack).body("action=accept")).await;
    assert_eq!(status_of(&response), 415, "a form without its media type: the page again");
    let (response, _) = f.send("POST", &ack, form(&[("action", "accept")])).await;
    assert_eq!(status_of(&response), 422, "a police acceptance needs the receipt number");
    let (response, _) = f.send("POST", &ack, form(&[("action", "decline"), ("note", "管轄外")])).await;
    assert_eq!(status_of(&response), 200);
    let (response, _) = f.send("POST", &ack, form(&[("action", "decline")])).await;
    assert_eq!(status_of(&response), 410, "the link is used up");

    // Resolution, closing, a callback refused on the closed ticket, reopening.
    let version = f.version(&id).await;
    let (response, _) = f.change(&path("resolve"), &op, Some(version), Some(&resolution)).await;
    assert_eq!(status_of(&response), 200, "{}", response.text);
    let (response, _) = f.change(&path("close"), &op, Some(version + 1), Some(&json!({}))).await;
    assert_eq!(status_of(&response), 200);
    let (response, problem) = f.change(&path("callbacks"), &op, Some(version + 2), Some(&promise)).await;
    assert_eq!((status_of(&response), &problem["ticket_status"]), (409, &json!("closed")));
    let reason = json!({ "reason": "再感染の疑い" });
    let (response, _) = f.change(&path("reopen"), &op, Some(version + 2), Some(&reason)).await;
    assert_eq!(status_of(&response), 403);
    let (response, reopened) = f.change(&path("reopen"), &sup, Some(version + 2), Some(&reason)).await;
    assert_eq!((status_of(&response), &reopened["status"]), (200, &json!("in_progress")));
    let (response, events) = f.get(&format!("/v1/tickets/{id}/events"), &op).await;
    assert_eq!(status_of(&response), 200);
    assert!(events["events"].as_array().is_some_and(|e| e.len() > 10), "{events}");

    // The unknown caller's ticket: confirmed by a supervisor, then declined; no follow-up call.
    let other_path = |action: &str| format!("/v1/tickets/{other_id}/{action}");
    let (response, _) = f
        .change(&other_path("confirm-caller"), &sup, Some(1), Some(&json!({ "note": "折り返しで本人確認" })))
        .await;
    assert_eq!(status_of(&response), 200);
    let (response, declined) =
        f.change(&other_path("decline"), &op, Some(2), Some(&json!({ "reason": "会員ではない" }))).await;
    assert_eq!((status_of(&response), &declined["sla"]["resolution"]), (200, &Value::Null));
    let (response, problem) =
        f.post("/v1/calls", &op, &with(stranger, "/ticket_id", json!(other_id)), None).await;
    assert_eq!((status_of(&response), &problem["ticket_status"]), (409, &json!("declined")));

    // Support payments and deadlines: facts (refused, then recorded), the assessment, a claim refused as
    // not ready, claimed, refused again, paid, paid again refused; the other ticket's leak claimed and
    // rejected; the supervisors' list and the deadlines.
    let version = f.version(&id).await;
    let (response, _) =
        f.change(&path("facts"), &op, Some(version), Some(&json!({ "days_closed": 400 }))).await;
    assert_eq!(status_of(&response), 422);
    let attack = json!({
        "cause": "cyber_attack", "personal_data_leak": "possible", "systems_stopped": true,
        "occurred_at": "2026-11-19T22:30:00+09:00", "aware_at": "2026-11-20T07:45:00+09:00", "days_closed": 2,
    });
    let (response, recorded) = f.change(&path("facts"), &op, Some(version), Some(&attack)).await;
    let deadlines = recorded["regulatory_deadlines"].as_array().map(Vec::len);
    assert_eq!((status_of(&response), deadlines), (200, Some(3)), "{}", response.text);
    let (response, assessed) = f.get(&path("support-payment"), &op).await;
    assert_eq!((status_of(&response), &assessed["status"]), (200, &json!("pending_requirements")));
    let cyber = json!({ "payment": "cyber_attack" });
    let claim = path("support-payment/claim");
    let (response, problem) = f.change(&claim, &sup, Some(version + 1), Some(&cyber)).await;
    assert_eq!((status_of(&response), &problem["reason"]), (409, &json!("not-ready")));
    let notified = json!({ "mhlw_notified_at": "2026-11-20T09:40:00+09:00" });
    let (response, _) = f.change(&path("facts"), &op, Some(version + 1), Some(&notified)).await;
    assert_eq!(status_of(&response), 200);
    let (response, claimed) = f.change(&claim, &sup, Some(version + 2), Some(&cyber)).await;
    assert_eq!((status_of(&response), &claimed["support_payment"]["status"]), (200, &json!("claimed")));
    let (response, problem) = f.change(&claim, &sup, Some(version + 3), Some(&cyber)).await;
    assert_eq!((status_of(&response), &problem["reason"]), (409, &json!("same-payment")));
    let (response, _) = f.change(&path("support-payment/pay"), &sup, Some(version + 3), None).await;
    assert_eq!(status_of(&response), 200);
    let (response, problem) = f.change(&path("support-payment/pay"), &sup, Some(version + 4), None).await;
    assert_eq!((status_of(&response), &problem["claim_status"]), (409, &json!("paid")));
    let fax = json!({
        "cause": "leak_not_attack", "personal_data_leak": "confirmed", "occurred_at": "2026-11-02T15:00:00+09:00",
        "ppc_final_report_at": "2026-11-18T17:00:00+09:00", "victims_notified_at": "2026-11-19T12:00:00+09:00",
    });
    let (response, _) = f.change(&other_path("facts"), &op, Some(3), Some(&fax)).await;
    assert_eq!(status_of(&response), 200, "{}", response.text);
    let leak = json!({ "payment": "personal_data_leak" });
    let (response, _) = f.change(&other_path("support-payment/claim"), &sup, Some(4), Some(&leak)).await;
    assert_eq!(status_of(&response), 200, "{}", response.text);
    let why = json!({ "reason": "被害者への通知の証跡がない" });
    let (response, rejected) =
        f.change(&other_path("support-payment/reject"), &sup, Some(5), Some(&why)).await;
    assert_eq!((status_of(&response), &rejected["support_payment"]["status"]), (200, &json!("rejected")));
    let (response, listed) = f.get("/v1/support-payments?status=paid", &sup).await;
    assert_eq!((status_of(&response), listed["support_payments"].as_array().map(Vec::len)), (200, Some(1)));
    let (response, _) = f.get("/v1/support-payments", &op).await;
    assert_eq!(status_of(&response), 403);
    let (response, due) = f.get("/v1/deadlines?due_before=2026-11-26&status=due", &op).await;
    assert_eq!((status_of(&response), due["deadlines"].as_array().map(Vec::len)), (200, Some(1)), "{due}");
    let (response, _) = f.get("/v1/deadlines?due_before=tomorrow", &op).await;
    assert_eq!(status_of(&response), 422);

    // The queues.
    let (response, queue) = f.get("/v1/tickets?status=in_progress,declined", &op).await;
    assert_eq!((status_of(&response), queue["tickets"].as_array().map(Vec::len)), (200, Some(2)));
    let (response, _) = f.get("/v1/tickets?overdue=true&limit=10", &op).await;
    assert_eq!(status_of(&response), 200);
    let (response, _) = f.get("/v1/tickets?limit=0", &op).await;
    assert_eq!(status_of(&response), 422);

    // Alerts: all refused by the mail server; a supervisor retries one once the server accepts.
    f.alerts_when(&id, |alert| alert["status"] == "failed").await;
    let (response, _) = f.get("/v1/notifications", &op).await;
    assert_eq!(status_of(&response), 403);
    let (response, _) = f.get("/v1/notifications?status=bogus", &sup).await;
    assert_eq!(status_of(&response), 422);
    let (response, failed) = f.get("/v1/notifications?status=failed&limit=10", &sup).await;
    assert_eq!(status_of(&response), 200);
    let alert_id = text(&failed, "/notifications/0/id");
    sink.set_behaviour(Behaviour::default());
    let retry = format!("/v1/notifications/{alert_id}/retry");
    let (response, retried) = f.change(&retry, &sup, None, None).await;
    assert_eq!((status_of(&response), &retried["status"]), (200, &json!("pending")));
    f.alerts_when(&id, |alert| alert["id"] != json!(alert_id) || alert["status"] == "sent").await;
    let (response, problem) = f.change(&retry, &sup, None, None).await;
    assert_eq!((status_of(&response), &problem["type"]), (409, &json!("/problems/alert-not-failed")));
    let (response, _) =
        f.change("/v1/notifications/01900000-0000-7000-8000-000000000000/retry", &sup, None, None).await;
    assert_eq!(status_of(&response), 404);

    // Tokens: created (and replayed without its secret), listed, revoked; the last admin stays.
    let desk = json!({ "name": "desk-9", "role": "operator" });
    let (response, created) = f.post("/v1/tokens", &admin, &desk, Some("desk-9")).await;
    assert_eq!((status_of(&response), created["token"].is_string()), (201, true));
    let (response, replayed) = f.post("/v1/tokens", &admin, &desk, Some("desk-9")).await;
    assert_eq!((status_of(&response), &replayed["token"]), (201, &Value::Null));
    let (response, _) = f.post("/v1/tokens", &admin, &json!({ "name": "x", "role": "root" }), None).await;
    assert_eq!(status_of(&response), 422);
    let (response, _) = f.get("/v1/tokens", &sup).await;
    assert_eq!(status_of(&response), 403);
    let (response, listed) = f.get("/v1/tokens", &admin).await;
    assert_eq!((status_of(&response), listed["tokens"].as_array().map(Vec::len)), (200, Some(4)));
    let (response, revoked) = f.delete(&format!("/v1/tokens/{}", text(&created, "/id")), &admin).await;
    assert_eq!((status_of(&response), revoked["revoked_at"].is_string()), (200, true));
    let admin_id = f.app.admin.id;
    let (response, _) = f.delete(&format!("/v1/tokens/{admin_id}"), &admin).await;
    assert_eq!(status_of(&response), 409, "the last active admin token");
    let (response, _) = f.delete(&format!("/v1/tokens/{unknown}"), &admin).await;
    assert_eq!(status_of(&response), 404);

    // The access log of personal-data reads: the flow read tickets, so there are entries.
    let (response, log) = f.get("/v1/access-log?limit=2", &admin).await;
    assert_eq!((status_of(&response), log["entries"].as_array().map(Vec::len)), (200, Some(2)));
    let (response, _) = f.get("/v1/access-log", &sup).await;
    assert_eq!(status_of(&response), 403);
    let (response, found) = f.get("/v1/personal-data?registration_number=123456", &admin).await;
    assert_eq!((status_of(&response), found["calls"].as_array().is_some_and(|c| !c.is_empty())), (200, true));
    let (response, _) = f.get("/v1/personal-data", &admin).await;
    assert_eq!(status_of(&response), 422);
    let (response, erased) =
        f.post("/v1/personal-data/erase", &admin, &json!({ "phone": "0312345678" }), None).await;
    assert_eq!((status_of(&response), erased), (200, json!({ "tickets": [] })));

    // Partners: one never referred to can be deleted, one with referrals cannot.
    let spare = json!({ "kind": "legal", "name": "大阪法律事務所", "nationwide": true });
    let (_, spare) = f.post("/v1/partners", &sup, &spare, None).await;
    let (response, _) = f.delete(&format!("/v1/partners/{}", text(&spare, "/id")), &sup).await;
    assert_eq!(status_of(&response), 403);
    let (response, gone) = f.delete(&format!("/v1/partners/{}", text(&spare, "/id")), &admin).await;
    assert_eq!((status_of(&response), gone), (204, Value::Null));
    let (response, _) = f.delete(&format!("/v1/partners/{vendor_id}"), &admin).await;
    assert_eq!(status_of(&response), 409);

    // Supervisors' views: the dashboard, the summary report (JSON and CSV), a police desk's hours, the
    // metrics.
    let (response, board) = f.get("/v1/dashboard", &sup).await;
    assert_eq!((status_of(&response), board["tickets"]["total"].is_i64()), (200, true), "{}", response.text);
    let (response, _) = f.get("/v1/dashboard", &op).await;
    assert_eq!(status_of(&response), 403);
    let report = |range: &[(&str, &str)], accept: &str| {
        f.app
            .request(Method::GET, "/v1/reports/summary")
            .query(range)
            .header("accept", accept)
            .bearer_auth(&sup)
    };
    let november = [("from", "2026-11-01"), ("to", "2026-11-30")];
    let (response, summary) =
        f.send("GET", "/v1/reports/summary", report(&november, "application/json")).await;
    assert_eq!((status_of(&response), &summary["range"]["days"]), (200, &json!(30)), "{}", response.text);
    let (response, _) = f.send("GET", "/v1/reports/summary", report(&november, "text/csv")).await;
    assert_eq!(status_of(&response), 200);
    let backwards = [("from", "2026-11-30"), ("to", "2026-11-01")];
    let (response, _) = f.send("GET", "/v1/reports/summary", report(&backwards, "application/json")).await;
    assert_eq!(status_of(&response), 422);
    let availability = |prefecture: &str| {
        let path = format!("/v1/police-desks/{prefecture}/availability");
        (
            path.clone(),
            f.app.request(Method::GET, &path).query(&[("at", "2026-11-22T20:00:00+09:00")]).bearer_auth(&op),
        )
    };
    let (path, request) = availability("13");
    let (response, desk) = f.send("GET", &path, request).await;
    assert_eq!((status_of(&response), &desk["open"]), (200, &json!(false)), "{}", response.text);
    let (path, request) = availability("48");
    let (response, _) = f.send("GET", &path, request).await;
    assert_eq!(status_of(&response), 422);
    let (response, _) = f.get("/metrics", &admin).await;
    assert_eq!(status_of(&response), 200);
    let (response, _) = f.get("/metrics", &sup).await;
    assert_eq!(status_of(&response), 403);

    let missing = f.contract.lock().unwrap_or_else(PoisonError::into_inner).not_seen_succeeding();
    assert!(missing.is_empty(), "documented operations the flow never saw succeed: {missing:?}");
}

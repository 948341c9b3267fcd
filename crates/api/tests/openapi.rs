//! The OpenAPI document against the code it is generated from and the router it describes.
//!
//! - **Generated = committed.** `GET /openapi.json` serves the document generated from the handlers'
//!   `#[utoipa::path]` and the body types; docs/openapi.json must be exactly that (a snapshot, as
//!   crates.io keeps its own). Run `cargo run -- openapi > docs/openapi.json` (or this test with
//!   `HOTLINE_BLESS=1`) after changing the API.
//! - **Document → router.** The real app (`hotline_api::configure`, with its fallback) runs in an actix
//!   test service; every documented (method, path) is sent with dummy parameters and must reach a
//!   handler (the fallback answers `no route matches this path`, or 405); every other method of a
//!   documented path must get 405 with an `Allow` header naming exactly the documented methods.
//! - **Roles.** Each `/v1` operation's bearer scope names its lowest role; a token one role below gets
//!   403 before anything about the request is looked at, and a token of that role does not.
//! - **Headers and problems.** Every POST under `/v1` takes `Idempotency-Key`; exactly the ticket changes
//!   and referral actions take `If-Match`, with their 412 and 428; every problem response names only
//!   problem types of the catalogue, and every response has a description.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use actix_web::http::{Method, StatusCode};
use actix_web::test::{TestRequest, call_service, init_service, read_body};
use actix_web::{App, web};
use hotline_api::alerts::AlertSettings;
use hotline_api::document_json;
use hotline_api::problem::ProblemType;
use hotline_api::{ApiConfig, AppState, SystemClock};
use hotline_domain::role::Role;
use hotline_domain::schedule::ServiceSchedule;
use hotline_storage::queries::tokens::{self, NewToken};
use hotline_storage::{PoolOptions, Storage};
use serde_json::Value;

/// The committed document.
const COMMITTED: &str = include_str!("../../../docs/openapi.json");

/// The HTTP methods an OpenAPI path item may hold (`trace` aside, which actix never routes here).
const METHODS: [&str; 7] = ["get", "head", "post", "put", "patch", "delete", "options"];

fn document() -> Value {
    serde_json::from_str(document_json()).expect("the generated document is JSON")
}

/// Every (METHOD, path) the document describes.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("the document has paths");
    let mut pairs = BTreeSet::new();
    for (path, item) in paths {
        for key in item.as_object().expect("a path item is an object").keys() {
            assert!(METHODS.contains(&key.as_str()), "{path}: unexpected path item member {key:?}");
            pairs.insert((key.to_uppercase(), path.clone()));
        }
    }
    pairs
}

#[test]
fn docs_openapi_json_is_the_generated_document() {
    let generated = document_json();
    if std::env::var_os("HOTLINE_BLESS").is_some() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
        std::fs::write(path, generated).expect("write docs/openapi.json");
        return;
    }
    assert!(
        COMMITTED == generated,
        "docs/openapi.json is not the document the code generates: run `cargo run -- openapi > docs/openapi.json` \
         (or this test with HOTLINE_BLESS=1) and review the diff"
    );
}

/// Schema keywords the document may use; anything else is most likely a typo that would silently
/// weaken what the tests check.
const SCHEMA_KEYWORDS: &[&str] = &[
    "$ref",
    "type",
    "enum",
    "const",
    "format",
    "pattern",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "anyOf",
    "allOf",
    "oneOf",
    "description",
    "default",
    "examples",
];

/// A local `#/…` reference.
fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

fn check_schema(schema: &Value, at: &str, doc: &Value, problems: &mut Vec<String>) {
    let Some(object) = schema.as_object() else {
        if !schema.is_boolean() {
            problems.push(format!("{at}: a schema must be an object or a boolean"));
        }
        return;
    };
    for key in object.keys() {
        if !SCHEMA_KEYWORDS.contains(&key.as_str()) {
            problems.push(format!("{at}: unknown schema keyword {key:?}"));
        }
    }
    if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
        if resolve(doc, reference).is_none() {
            problems.push(format!("{at}: $ref {reference} does not resolve"));
        }
    }
    if let (Some(required), Some(properties)) = (
        object.get("required").and_then(Value::as_array),
        object.get("properties").and_then(Value::as_object),
    ) {
        for name in required.iter().filter_map(Value::as_str) {
            if !properties.contains_key(name) {
                problems.push(format!("{at}: required {name:?} is not among the properties"));
            }
        }
    }
    for (name, sub) in object.get("properties").and_then(Value::as_object).into_iter().flatten() {
        check_schema(sub, &format!("{at}/properties/{name}"), doc, problems);
    }
    for key in ["items", "additionalProperties"] {
        if let Some(sub) = object.get(key) {
            check_schema(sub, &format!("{at}/{key}"), doc, problems);
        }
    }
    for key in ["anyOf", "allOf", "oneOf"] {
        for (index, sub) in object.get(key).and_then(Value::as_array).into_iter().flatten().enumerate() {
            check_schema(sub, &format!("{at}/{key}/{index}"), doc, problems);
        }
    }
}

/// Every `schema` under `value`.
fn collect_schemas<'a>(value: &'a Value, at: String, out: &mut Vec<(String, &'a Value)>) {
    match value {
        Value::Object(object) => {
            for (key, sub) in object {
                let here = format!("{at}/{key}");
                if key == "schema" {
                    out.push((here, sub));
                } else {
                    collect_schemas(sub, here, out);
                }
            }
        }
        Value::Array(items) => {
            for (index, sub) in items.iter().enumerate() {
                collect_schemas(sub, format!("{at}/{index}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_schema_uses_known_keywords_and_every_reference_resolves() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut problems = Vec::new();
    let mut schemas = Vec::new();
    collect_schemas(&doc["paths"], "#/paths".to_owned(), &mut schemas);
    for (name, schema) in doc["components"]["schemas"].as_object().expect("component schemas") {
        schemas.push((format!("#/components/schemas/{name}"), schema));
    }
    for (at, schema) in &schemas {
        check_schema(schema, at, &doc, &mut problems);
    }
    assert!(problems.is_empty(), "the OpenAPI document:\n  {}", problems.join("\n  "));
}

#[test]
fn every_response_is_described_and_names_only_catalogued_problem_types() {
    let doc = document();
    let catalogue: BTreeSet<String> = ProblemType::ALL.iter().map(|kind| kind.uri()).collect();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for (method, path) in documented(&doc) {
        let operation = &doc["paths"][&path][method.to_lowercase()];
        for (status, response) in operation["responses"].as_object().expect("responses") {
            if response["description"].as_str().unwrap_or_default().is_empty() {
                problems.push(format!("{method} {path} {status}: no description"));
            }
            let Some(schema) = response.pointer("/content/application~1problem+json/schema") else {
                continue;
            };
            let types = schema.pointer("/allOf/1/properties/type/enum").and_then(Value::as_array);
            for kind in types.into_iter().flatten().filter_map(Value::as_str) {
                seen.insert(kind.to_owned());
                let known = ProblemType::ALL.iter().find(|k| k.uri() == kind);
                match known {
                    None => problems.push(format!("{method} {path} {status}: unknown problem type {kind}")),
                    Some(k) if k.status_code().to_string() != *status => {
                        problems.push(format!("{method} {path}: {kind} listed under {status}"));
                    }
                    Some(_) => {}
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Types only the HTTP layer answers (the fallback, the safety net) need no operation.
    let unused: Vec<_> = catalogue
        .difference(&seen)
        .filter(|uri| !["/problems/method-not-allowed", "/problems/bad-request"].contains(&uri.as_str()))
        .collect();
    assert!(unused.is_empty(), "problem types no operation can answer: {unused:?}");
}

/// The lowest role an operation needs, from its bearer scope (`None`: no token).
fn documented_role(operation: &Value) -> Option<Role> {
    let scopes = operation["security"].as_array()?.first()?.get("bearer")?.as_array()?;
    let name = scopes.first().and_then(Value::as_str).unwrap_or("operator");
    Some(Role::parse(name).unwrap_or_else(|_| panic!("unknown role scope {name:?}")))
}

/// The names of the header parameters an operation documents.
fn header_parameters(operation: &Value) -> BTreeSet<String> {
    operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|parameter| parameter["in"] == "header")
        .filter_map(|parameter| parameter["name"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn operations_document_their_token_role_and_request_headers() {
    let doc = document();
    for (method, path) in documented(&doc) {
        let operation = &doc["paths"][&path][method.to_lowercase()];
        let role = documented_role(operation);
        // Everything under /v1 needs a token, and so do the metrics (an admin's); nothing else does.
        if !path.starts_with("/v1/") && path != "/metrics" {
            assert!(role.is_none(), "{method} {path} needs no token");
            continue;
        }
        let role = role.unwrap_or_else(|| panic!("{method} {path} documents no bearer role"));
        let description = operation["description"].as_str().unwrap_or_default();
        assert!(description.starts_with(&format!("Role: {role}.")), "{method} {path}: {description:?}");
        assert!(operation["responses"].get("401").is_some(), "{method} {path} lacks its 401");
        let headers = header_parameters(operation);
        if method == "POST" {
            assert!(headers.contains("Idempotency-Key"), "{method} {path} takes an Idempotency-Key");
        }
        let changes_a_ticket =
            (path.starts_with("/v1/tickets/{id}/") && method == "POST") || path.starts_with("/v1/referrals/");
        assert_eq!(
            headers.contains("If-Match"),
            changes_a_ticket,
            "{method} {path}: If-Match is required exactly on ticket changes"
        );
        if changes_a_ticket {
            for status in ["412", "428"] {
                assert!(operation["responses"].get(status).is_some(), "{method} {path} lacks its {status}");
            }
        }
    }
}

/// A value for a path parameter that routing accepts.
fn dummy(name: &str) -> &'static str {
    match name {
        "id" => "01900000-0000-7000-8000-00000000abcd",
        "token" => "not-a-signed-token",
        "action" => "accept",
        "prefecture" => "27",
        other => panic!("no dummy value for the path parameter {{{other}}}: add one"),
    }
}

fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => dummy(name).to_owned(),
            None => segment.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn seed_token(storage: &Storage, role: Role) -> String {
    let generated = hotline_api::auth::generate_token();
    let token = NewToken {
        id: uuid::Uuid::now_v7(),
        name: format!("{role:?} probe"),
        role,
        token_hash: generated.hash,
        created_at: chrono::Utc::now(),
        created_by: None,
    };
    storage.write(|conn| tokens::create(conn, &token)).expect("seed a token");
    generated.secret
}

fn state(storage: Storage) -> web::Data<AppState> {
    web::Data::new(AppState {
        storage,
        schedule: ServiceSchedule::jma_default(),
        config: ApiConfig::default(),
        clock: Arc::new(SystemClock),
        alerts: Arc::new(AlertSettings {
            templates: Arc::new(hotline_notify::Templates::embedded().expect("built-in templates")),
            language: hotline_notify::Lang::Ja,
            hotline_name: "hotline".to_owned(),
            hotline_phone: "0120-000-000".to_owned(),
            hotline_email: "hotline@example.jp".to_owned(),
            message_domain: "hotline.invalid".to_owned(),
            retry_policy: hotline_domain::outbox::RetryPolicy::default(),
            ack: hotline_api::ack::AckLinks::new("http://127.0.0.1", b"probe", chrono::Duration::hours(1)),
        }),
        support_rules: Arc::new(
            hotline_domain::support_payment::RuleBook::shipped().expect("the built-in rule sets"),
        ),
        deadline_policy: hotline_domain::regulatory::DeadlinePolicy::default(),
        tokens: hotline_api::token_cache::TokenCache::new(chrono::Duration::zero()),
        metrics: Arc::new(hotline_api::metrics::Metrics::new().expect("metrics")),
        access_log: Arc::new(hotline_api::access_log::AccessLog::new(10_000, 500)),
    })
}

#[actix_web::test]
async fn every_documented_operation_reaches_a_handler_and_other_methods_get_405_with_allow() {
    let (_dir, url) = hotline_storage::test_support::sqlite_temp();
    let storage = Storage::connect(&url, PoolOptions::default()).expect("open a SQLite database");
    storage.run_migrations().expect("migrate");
    let secrets: BTreeMap<Role, String> = [Role::Operator, Role::Supervisor, Role::Admin]
        .into_iter()
        .map(|r| (r, seed_token(&storage, r)))
        .collect();
    let app = init_service(App::new().app_data(state(storage)).configure(hotline_api::configure)).await;
    let send = |method: &str, path: &str, role: Role| {
        let method = Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        TestRequest::default()
            .method(method)
            .uri(path)
            .insert_header(("authorization", format!("Bearer {}", secrets[&role])))
            .to_request()
    };
    async fn unrouted(response: actix_web::dev::ServiceResponse) -> bool {
        if response.status() == StatusCode::METHOD_NOT_ALLOWED {
            return true;
        }
        let body: Value = serde_json::from_slice(&read_body(response).await).unwrap_or(Value::Null);
        body["detail"] == "no route matches this path"
    }

    // The probe itself can tell a missing route from a handler's answer.
    assert!(unrouted(call_service(&app, send("GET", "/v1/no-such-resource", Role::Admin)).await).await);
    let response = call_service(&app, send("DELETE", "/v1/calls", Role::Admin)).await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "a known path with another method");
    assert_eq!(response.headers().get("allow").and_then(|v| v.to_str().ok()), Some("POST"));

    let doc = document();
    let pairs = documented(&doc);
    let mut problems = Vec::new();
    for (method, path) in &pairs {
        let uri = concrete(path);
        if unrouted(call_service(&app, send(method, &uri, Role::Admin)).await).await {
            problems.push(format!("{method} {path} is documented but not routed"));
        }
        let operation = &doc["paths"][path][method.to_lowercase()];
        let Some(role) = documented_role(operation) else { continue };
        let lower = match role {
            Role::Supervisor => Some(Role::Operator),
            Role::Admin => Some(Role::Supervisor),
            Role::Operator => None,
        };
        if let Some(lower) = lower {
            let response = call_service(&app, send(method, &uri, lower)).await;
            if response.status() != StatusCode::FORBIDDEN {
                problems.push(format!(
                    "{method} {path}: documented for {role} but a {lower} token got {}",
                    response.status()
                ));
            }
        }
        let response = call_service(&app, send(method, &uri, role)).await;
        if response.status() == StatusCode::FORBIDDEN {
            problems.push(format!("{method} {path}: documented for {role}, which got 403"));
        }
    }
    let paths: BTreeSet<&String> = pairs.iter().map(|(_, path)| path).collect();
    for path in paths {
        let allowed: Vec<String> = METHODS
            .map(str::to_uppercase)
            .into_iter()
            .filter(|m| pairs.contains(&(m.clone(), path.clone())))
            .collect();
        for method in METHODS.map(str::to_uppercase) {
            if allowed.contains(&method) {
                continue;
            }
            let response = call_service(&app, send(&method, &concrete(path), Role::Admin)).await;
            let allow =
                response.headers().get("allow").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
            let mut listed: Vec<String> = allow.split(", ").map(str::to_owned).collect();
            listed.sort();
            let mut expected = allowed.clone();
            expected.sort();
            if response.status() != StatusCode::METHOD_NOT_ALLOWED || listed != expected {
                problems.push(format!(
                    "{method} {path} is not documented but answered {} with Allow {allow:?}",
                    response.status()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "router against the document:\n  {}", problems.join("\n  "));
}

#[actix_web::test]
async fn the_document_is_served_and_the_reference_page_loads_it() {
    let (_dir, url) = hotline_storage::test_support::sqlite_temp();
    let storage = Storage::connect(&url, PoolOptions::default()).expect("open a SQLite database");
    let app = init_service(App::new().app_data(state(storage)).configure(hotline_api::configure)).await;
    let response = call_service(&app, TestRequest::get().uri("/openapi.json").to_request()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    assert_eq!(read_body(response).await, document_json().as_bytes());

    let response = call_service(&app, TestRequest::get().uri("/docs").to_request()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = String::from_utf8(read_body(response).await.to_vec()).expect("UTF-8");
    assert!(page.contains("<rapi-doc") && page.contains("spec-url=\"/openapi.json\""), "{page}");
}

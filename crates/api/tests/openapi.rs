//! docs/openapi.json against the router it describes, so the document cannot drift from the code.
//!
//! How route coverage is checked, in both directions:
//!
//! - **Document → router, at run time.** The real route table (`routes::configure`) is built in an actix
//!   test service on a throw-away SQLite database with seeded tokens, and every documented
//!   (method, path) is sent with dummy path parameters and an admin token. The app's default service
//!   marks a request no route matched, and actix answers 405 itself when a path exists but not with that
//!   method; a documented operation must get neither (any answer of a handler, even a 404 problem for the
//!   dummy id, proves the route exists). Every method the document does *not* list for a documented path
//!   must get that 405, so a method registered but undocumented fails too.
//! - **Router → document, from the source.** Which paths exist cannot be listed from an actix app, so
//!   `configure` in src/routes/mod.rs is read as text: every `web::resource("…")` with the
//!   `web::get()`/`post()`/… routes that follow it, under the `web::scope("/v1")` prefix. The set must
//!   equal the document's. The parser refuses registration forms it does not understand (a second
//!   scope, `.configure(`, `.route("…")`, `web::route()`, …), so a new form fails here instead of
//!   slipping past; and as the two sets must be equal, every pair it finds is probed at run time too.
//! - **Roles.** Each `/v1` operation's description names its role (`Role: operator.`); the probe checks
//!   that a token one role below gets 403 `forbidden` (before anything about the request is looked at:
//!   the probe's ids are dummies) and a token of that role does not.
//! - **Headers.** Every POST under `/v1` documents `Idempotency-Key`, and exactly the ticket changes and
//!   referral actions document `If-Match` with their 412 and 428.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use actix_web::http::{Method, StatusCode};
use actix_web::test::{TestRequest, call_service, init_service, read_body};
use actix_web::{App, HttpResponse, web};
use hotline_api::alerts::AlertSettings;
use hotline_api::routes::openapi::DOCUMENT;
use hotline_api::{ApiConfig, AppState, SystemClock};
use hotline_domain::role::Role;
use hotline_domain::schedule::ServiceSchedule;
use hotline_storage::queries::tokens::{self, NewToken};
use hotline_storage::{PoolOptions, Storage};
use serde_json::Value;

/// The source text of the route table.
const ROUTES_SOURCE: &str = include_str!("../src/routes/mod.rs");

/// The HTTP methods an OpenAPI path item may hold (`trace` aside, which actix never routes here).
const METHODS: [&str; 7] = ["get", "head", "post", "put", "patch", "delete", "options"];

/// Header the test app's default service sets: no route matched the path.
const NO_ROUTE: &str = "x-test-no-route";

fn document() -> Value {
    serde_json::from_str(DOCUMENT).expect("docs/openapi.json is valid JSON")
}

/// Every (METHOD, path) the document describes.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("the document has paths");
    let mut pairs = BTreeSet::new();
    for (path, item) in paths {
        let item = item.as_object().expect("a path item is an object");
        for key in item.keys() {
            if METHODS.contains(&key.as_str()) {
                pairs.insert((key.to_uppercase(), path.clone()));
            } else {
                assert!(
                    matches!(key.as_str(), "parameters" | "summary" | "description"),
                    "{path}: unexpected path item member {key:?}"
                );
            }
        }
    }
    pairs
}

/// Every (METHOD, path) registered in `configure`, read from src/routes/mod.rs.
fn registered_in_source() -> BTreeSet<(String, String)> {
    let start = ROUTES_SOURCE.find("pub fn configure(").expect("routes/mod.rs has `pub fn configure(`");
    let body = &ROUTES_SOURCE[start..];
    let end = body.find("\n}\n").expect("the end of `configure`");
    let body = &body[..end];
    for unsupported in
        [".configure(", ".route(\"", "web::route(", "web::method(", "web::service(", "web::redirect("]
    {
        assert!(
            !body.contains(unsupported),
            "configure uses `{unsupported}`, which this test cannot read: teach registered_in_source it"
        );
    }
    // Tokens in source order: a scope sets the prefix, a resource opens a path, a method adds a route.
    let mut tokens: Vec<(usize, &str, String)> = Vec::new();
    for (marker, kind) in [("web::scope(\"", "scope"), ("web::resource(\"", "resource")] {
        for (at, _) in body.match_indices(marker) {
            let rest = &body[at + marker.len()..];
            let literal = rest.split('"').next().expect("a string literal").to_owned();
            tokens.push((at, kind, literal));
        }
    }
    for method in METHODS {
        for (at, _) in body.match_indices(&format!("web::{method}()")) {
            tokens.push((at, "method", method.to_uppercase()));
        }
    }
    tokens.sort();
    let scopes: Vec<&str> = tokens.iter().filter(|t| t.1 == "scope").map(|t| t.2.as_str()).collect();
    assert_eq!(scopes, ["/v1"], "one scope, /v1, after the top-level resources; teach this test others");
    let mut prefix = "";
    let mut current: Option<String> = None;
    let mut pairs = BTreeSet::new();
    for (_, kind, text) in &tokens {
        match *kind {
            "scope" => {
                prefix = "/v1";
                current = None;
            }
            "resource" => current = Some(format!("{prefix}{text}")),
            _ => {
                let path = current.clone().unwrap_or_else(|| panic!("web::{text}() outside a resource"));
                assert!(pairs.insert((text.clone(), path.clone())), "{text} {path} registered twice");
            }
        }
    }
    pairs
}

#[test]
fn the_document_lists_exactly_the_routes_registered_in_routes_mod_rs() {
    let in_source = registered_in_source();
    assert!(in_source.len() >= 38, "the source parser found too few routes: {in_source:?}");
    let in_document = documented(&document());
    let undocumented: Vec<_> = in_source.difference(&in_document).collect();
    let unregistered: Vec<_> = in_document.difference(&in_source).collect();
    assert!(
        undocumented.is_empty() && unregistered.is_empty(),
        "docs/openapi.json and routes::configure differ\n  registered but not documented: \
         {undocumented:?}\n  documented but not registered: {unregistered:?}"
    );
}

/// Schema keywords the document may use; anything else is most likely a typo (`requried`) that would
/// silently weaken what the tests check.
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
];

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
    if let Some(properties) = object.get("properties").and_then(Value::as_object) {
        for (name, sub) in properties {
            check_schema(sub, &format!("{at}/properties/{name}"), doc, problems);
        }
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

/// A local `#/…` reference.
fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

/// Every `schema` under paths and components (media types, parameters, headers) and every component
/// schema.
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
    collect_schemas(&doc["components"]["parameters"], "#/components/parameters".to_owned(), &mut schemas);
    collect_schemas(&doc["components"]["headers"], "#/components/headers".to_owned(), &mut schemas);
    collect_schemas(&doc["components"]["responses"], "#/components/responses".to_owned(), &mut schemas);
    collect_schemas(
        &doc["components"]["requestBodies"],
        "#/components/requestBodies".to_owned(),
        &mut schemas,
    );
    for (name, schema) in doc["components"]["schemas"].as_object().expect("component schemas") {
        schemas.push((format!("#/components/schemas/{name}"), schema));
    }
    for (at, schema) in &schemas {
        check_schema(schema, at, &doc, &mut problems);
    }
    // References outside schemas: parameters, responses, headers, request bodies.
    let mut stack = vec![&doc];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(object) => {
                if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
                    if resolve(&doc, reference).is_none() {
                        problems.push(format!("$ref {reference} does not resolve"));
                    }
                }
                stack.extend(object.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    assert!(problems.is_empty(), "docs/openapi.json:\n  {}", problems.join("\n  "));
}

#[test]
fn the_problem_schema_names_every_problem_type_and_only_those() {
    let doc = document();
    let documented: BTreeSet<String> = doc["components"]["schemas"]["Problem"]["properties"]["type"]["enum"]
        .as_array()
        .expect("Problem.type has an enum")
        .iter()
        .map(|slug| slug.as_str().expect("a string").to_owned())
        .collect();
    let actual: BTreeSet<String> =
        hotline_api::problem::PROBLEM_SLUGS.iter().map(|slug| format!("/problems/{slug}")).collect();
    assert_eq!(documented, actual, "Problem.type in docs/openapi.json against problem::PROBLEM_SLUGS");
}

/// The role an operation's description names (`Role: supervisor.`), or `None` for "any valid token".
fn documented_role(operation: &Value, method: &str, path: &str) -> Option<Role> {
    let description = operation["description"].as_str().unwrap_or_default();
    let named = description
        .strip_prefix("Role: ")
        .unwrap_or_else(|| panic!("{method} {path}: the description must start with `Role: …`"));
    if named.starts_with("any valid token") {
        return None;
    }
    let role = named.split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or_default();
    Some(Role::parse(role).unwrap_or_else(|_| panic!("{method} {path}: unknown role in {description:?}")))
}

/// The names of the header parameters an operation documents.
fn header_parameters(operation: &Value, doc: &Value) -> BTreeSet<String> {
    operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|parameter| match parameter["$ref"].as_str() {
            Some(reference) => resolve(doc, reference).expect("a parameter reference resolves"),
            None => parameter,
        })
        .filter(|parameter| parameter["in"] == "header")
        .filter_map(|parameter| parameter["name"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn operations_document_their_token_role_and_request_headers() {
    let doc = document();
    for (method, path) in documented(&doc) {
        let operation = &doc["paths"][&path][method.to_lowercase()];
        if path.starts_with("/v1/") {
            assert!(operation.get("security").is_none(), "{method} {path} must keep the bearer security");
            documented_role(operation, &method, &path);
            assert!(operation["responses"].get("401").is_some(), "{method} {path} lacks its 401");
            let headers = header_parameters(operation, &doc);
            // The replay middleware reads Idempotency-Key on every POST under /v1.
            if method == "POST" {
                assert!(headers.contains("Idempotency-Key"), "{method} {path} takes an Idempotency-Key");
            }
            // Ticket changes and referral actions call precondition::required_version.
            let changes_a_ticket = (path.starts_with("/v1/tickets/{id}/") && method == "POST")
                || path.starts_with("/v1/referrals/");
            assert_eq!(
                headers.contains("If-Match"),
                changes_a_ticket,
                "{method} {path}: If-Match is required exactly on ticket changes"
            );
            if changes_a_ticket {
                for status in ["412", "428"] {
                    assert!(
                        operation["responses"].get(status).is_some(),
                        "{method} {path} lacks its {status}"
                    );
                }
            }
        } else {
            assert_eq!(operation["security"], serde_json::json!([]), "{method} {path} needs no token");
        }
    }
}

/// A value for a path parameter that routing accepts.
fn dummy(name: &str) -> &'static str {
    match name {
        "id" => "01900000-0000-7000-8000-00000000abcd",
        "token" => "not-a-signed-token",
        "action" => "accept",
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

#[actix_web::test]
async fn every_documented_operation_reaches_a_handler_and_no_undocumented_method_does() {
    let (_dir, url) = hotline_storage::test_support::sqlite_temp();
    let storage = Storage::connect(&url, PoolOptions::default()).expect("open a SQLite database");
    storage.run_migrations().expect("migrate");
    let secrets: BTreeMap<Role, String> = [Role::Operator, Role::Supervisor, Role::Admin]
        .into_iter()
        .map(|r| (r, seed_token(&storage, r)))
        .collect();
    let state = web::Data::new(AppState {
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
        tokens: hotline_api::token_cache::TokenCache::new(chrono::Duration::zero()),
    });
    let app = init_service(
        App::new()
            .app_data(state)
            .default_service(web::to(|| async {
                HttpResponse::NotFound().insert_header((NO_ROUTE, "1")).finish()
            }))
            .configure(hotline_api::routes::configure),
    )
    .await;
    let send = |method: &str, path: &str, role: Role| {
        let method = Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        TestRequest::default()
            .method(method)
            .uri(path)
            .insert_header(("authorization", format!("Bearer {}", secrets[&role])))
            .to_request()
    };
    let routed = |response: &actix_web::dev::ServiceResponse| {
        response.status() != StatusCode::METHOD_NOT_ALLOWED && !response.headers().contains_key(NO_ROUTE)
    };

    // The probe itself can tell a missing route from a handler's answer.
    let response = call_service(&app, send("GET", "/v1/no-such-resource", Role::Admin)).await;
    assert!(!routed(&response), "an unknown path must look unrouted ({})", response.status());
    let response = call_service(&app, send("DELETE", "/v1/calls", Role::Admin)).await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "a known path with another method");

    let doc = document();
    let pairs = documented(&doc);
    let mut problems = Vec::new();
    for (method, path) in &pairs {
        let uri = concrete(path);
        let response = call_service(&app, send(method, &uri, Role::Admin)).await;
        if !routed(&response) {
            problems.push(format!("{method} {path} is documented but not routed ({})", response.status()));
        }
        if path.starts_with("/v1/") {
            let operation = &doc["paths"][path][method.to_lowercase()];
            let role = documented_role(operation, method, path);
            let lower = match role {
                Some(Role::Supervisor) => Some(Role::Operator),
                Some(Role::Admin) => Some(Role::Supervisor),
                _ => None,
            };
            if let Some(lower) = lower {
                let response = call_service(&app, send(method, &uri, lower)).await;
                if response.status() != StatusCode::FORBIDDEN {
                    problems.push(format!(
                        "{method} {path}: documented for {role:?} but a {lower:?} token got {}",
                        response.status()
                    ));
                }
            }
            let response = call_service(&app, send(method, &uri, role.unwrap_or(Role::Operator))).await;
            if response.status() == StatusCode::FORBIDDEN {
                problems.push(format!("{method} {path}: documented for {role:?}, which got 403"));
            }
        }
    }
    let paths: BTreeSet<&String> = pairs.iter().map(|(_, path)| path).collect();
    for path in paths {
        for method in METHODS.map(str::to_uppercase) {
            if pairs.contains(&(method.clone(), path.clone())) {
                continue;
            }
            let response = call_service(&app, send(&method, &concrete(path), Role::Admin)).await;
            if response.status() != StatusCode::METHOD_NOT_ALLOWED {
                problems
                    .push(format!("{method} {path} is not documented but answered {}", response.status()));
            }
        }
    }
    assert!(problems.is_empty(), "router against docs/openapi.json:\n  {}", problems.join("\n  "));

    // The document is served as it is written.
    let response = call_service(&app, TestRequest::get().uri("/openapi.json").to_request()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    let body = read_body(response).await;
    assert_eq!(body, DOCUMENT.as_bytes(), "GET /openapi.json serves docs/openapi.json");
}

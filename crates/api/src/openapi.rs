//! The OpenAPI 3.1 document, generated from the code: every route is registered and documented in one
//! place (its handler's `#[utoipa::path]`, collected by utoipa-actix-web from `routes::configure_documented`), and
//! the bodies are the Rust types of `views`, `problem` and the routes' requests. What every operation of
//! a kind shares is added here, from what the operation declares, so it cannot be forgotten:
//!
//! - the lowest role (the bearer scheme's scope) is repeated at the start of the description;
//! - the problem types an operation can answer: those it lists in its `x-problems` extension, those the
//!   HTTP layer answers before routing (400, 408, 414, 431), plus those its shape implies — a token (401, and 403 above operator), a path parameter (404), a body
//!   (400, 413, 415, 422), query parameters (422), `If-Match` (412, 428), a POST under `/v1`
//!   (`Idempotency-Key`: 400, 422), any write (409 on a concurrent conflict), the database (503) and
//!   bugs (500). They are grouped by status into
//!   `application/problem+json` responses whose `type` is narrowed to exactly those types;
//! - `Idempotency-Key` on every POST under `/v1`, and `Idempotent-Replayed` on its success responses.
//!
//! docs/openapi.json is this document, committed; a test fails when they differ (run
//! `cargo run -- openapi > docs/openapi.json` to update it), and `GET /openapi.json` serves it
//! (`routes::meta`). This module knows no route: `crate::app` hands it the route table.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{HttpMethod, Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, OpenApi as Document, Ref, RefOr, Required, ResponseBuilder, ServerBuilder,
};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::problem::{PROBLEM_JSON, Problem, ProblemType};

/// Name of the bearer-token security scheme; its scopes name the lowest role an operation needs.
pub const BEARER: &str = "bearer";

/// What the document says before the routes are added.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "hotline API",
        description = "REST API of the cyber-incident hotline for Japanese medical institutions. Operators' desk \
software logs calls and works tickets; supervisors keep queues, the partner directory and alerts; admins import \
the registry and manage tokens. The guide is docs/api.md and the problem types are in docs/errors.md. Every \
response carries an `X-Request-Id` header. Instants are RFC 3339, shown in the service time zone (+09:00 by \
default). Errors are RFC 9457 `application/problem+json`. This document is generated from the code.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    tags(
        (name = "health", description = "Probes for load balancers."),
        (name = "meta", description = "This document."),
        (name = "acknowledgement", description = "Pages partners open from alert e-mails (HTML, signed link, no token)."),
        (name = "hotline", description = "The service window."),
        (name = "calls", description = "Logging calls and verifying callers."),
        (name = "tickets", description = "Tickets, their lifecycle and audit trail. Changes need If-Match."),
        (name = "referrals", description = "Forensic, legal and police referrals."),
        (name = "callbacks", description = "Promised callbacks."),
        (name = "partners", description = "The partner directory."),
        (name = "notifications", description = "Partner alerts and their delivery."),
        (name = "registry", description = "The member registry."),
        (name = "tokens", description = "API tokens."),
        (name = "support payments", description = "Support payments (一時支援金): the assessment from a ticket's incident facts, and the claim supervisors move through claimed → paid | rejected."),
        (name = "deadlines", description = "Regulatory deadlines: the reports to the PPC and the MHLW that cases owe, in JST."),
        (name = "reports", description = "Supervisors' dashboard and summary report: counts and durations only, no personal data."),
        (name = "privacy", description = "Personal data under the APPI: who read which ticket's personal data (docs/data-protection.md)."),
    ),
    components(schemas(Problem)),
    modifiers(&Security),
)]
struct ApiDoc;

/// The bearer scheme and the default server.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut Document) {
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.description = Some(
            "`Authorization: Bearer hl_<64 hex digits>`. Roles are ordered operator < supervisor < admin; each \
             operation's scope names the lowest role it needs. Checked before anything else under /v1 (401 even \
             for an unknown path)."
                .to_owned(),
        );
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(BEARER, SecurityScheme::Http(scheme));
        openapi.servers = Some(vec![
            ServerBuilder::new()
                .url("http://127.0.0.1:8080")
                .description(Some("Default listen address (`server.listen`)."))
                .build(),
        ]);
    }
}

/// The document as the server serves it: docs/openapi.json, built into the binary (a test checks it is
/// exactly what the code generates), and the methods of each documented path for `Allow`. Generating
/// it at start cost about 10 MiB of heap the allocator kept for good; the embedded text costs nothing
/// until `/openapi.json` is read.
pub struct ApiDocument {
    json: &'static str,
    routes: Vec<(actix_web::dev::ResourceDef, Vec<&'static str>)>,
}

impl std::fmt::Debug for ApiDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiDocument").field("paths", &self.routes.len()).finish_non_exhaustive()
    }
}

/// The committed document (docs/openapi.json).
const COMMITTED: &str = include_str!("../../../docs/openapi.json");

/// The methods `Allow` may name, in the order it names them (OpenAPI spells them in lower case).
const ALLOW_ORDER: [(&str, &str); 7] = [
    ("get", "GET"),
    ("head", "HEAD"),
    ("post", "POST"),
    ("put", "PUT"),
    ("patch", "PATCH"),
    ("delete", "DELETE"),
    ("options", "OPTIONS"),
];

impl ApiDocument {
    fn committed() -> Self {
        #[derive(serde::Deserialize)]
        struct PathsOnly {
            paths:
                std::collections::BTreeMap<String, std::collections::BTreeMap<String, serde::de::IgnoredAny>>,
        }
        let paths =
            serde_json::from_str::<PathsOnly>(COMMITTED).map(|doc| doc.paths).unwrap_or_else(|error| {
                tracing::error!(%error, "docs/openapi.json built into the server does not parse");
                Default::default()
            });
        let mut routes: Vec<_> = paths
            .into_iter()
            .map(|(template, item)| {
                let methods = ALLOW_ORDER
                    .iter()
                    .filter(|(key, _)| item.contains_key(*key))
                    .map(|(_, name)| *name)
                    .collect();
                (actix_web::dev::ResourceDef::new(template), methods)
            })
            .collect();
        // Should two templates match one path, the one with fewer parameters wins (a literal segment over
        // a parameter in its place).
        routes.sort_by_key(|(template, _)| {
            template.pattern().map_or(0, |pattern| pattern.matches('{').count())
        });
        Self { json: COMMITTED, routes }
    }

    /// Pretty JSON with a final newline: what `/openapi.json` serves and docs/openapi.json holds.
    pub fn json(&self) -> &'static str {
        self.json
    }

    /// The methods a request path takes (matching the documented templates), as `Allow` lists them;
    /// empty when no route has the path.
    pub fn methods_for(&self, path: &str) -> Vec<&'static str> {
        self.routes
            .iter()
            .find(|(template, _)| template.is_match(path))
            .map(|(_, methods)| methods.clone())
            .unwrap_or_default()
    }
}

/// The document the server serves, read once per process.
pub fn served() -> &'static ApiDocument {
    static SERVED: OnceLock<ApiDocument> = OnceLock::new();
    SERVED.get_or_init(ApiDocument::committed)
}

/// The document the code of `register` generates, as pretty JSON with a final newline: what
/// `hotline openapi` prints and docs/openapi.json must hold. Generated once per process (the first
/// caller's routes: there is one route table); the server never calls it.
pub fn generate(register: fn(&mut utoipa_actix_web::service_config::ServiceConfig<'_>)) -> &'static str {
    static GENERATED: OnceLock<String> = OnceLock::new();
    GENERATED.get_or_init(|| {
        let (_, mut document) = actix_web::App::new()
            .into_utoipa_app()
            .openapi(ApiDoc::openapi())
            .configure(register)
            .split_for_parts();
        complete(&mut document);
        let mut json = document.to_pretty_json().unwrap_or_else(|error| {
            tracing::error!(%error, "the OpenAPI document cannot be serialised");
            "{}".to_owned()
        });
        json.push('\n');
        json
    })
}

/// The browsable reference at `/docs` (RapiDoc), which loads `/openapi.json`.
pub fn reference_page() -> utoipa_rapidoc::RapiDoc {
    utoipa_rapidoc::RapiDoc::new("/openapi.json").path("/docs")
}

const METHODS: [HttpMethod; 8] = [
    HttpMethod::Get,
    HttpMethod::Put,
    HttpMethod::Post,
    HttpMethod::Delete,
    HttpMethod::Options,
    HttpMethod::Head,
    HttpMethod::Patch,
    HttpMethod::Trace,
];

fn operation_mut<'a>(
    item: &'a mut utoipa::openapi::PathItem,
    method: &HttpMethod,
) -> Option<&'a mut Operation> {
    match method {
        HttpMethod::Get => item.get.as_mut(),
        HttpMethod::Put => item.put.as_mut(),
        HttpMethod::Post => item.post.as_mut(),
        HttpMethod::Delete => item.delete.as_mut(),
        HttpMethod::Options => item.options.as_mut(),
        HttpMethod::Head => item.head.as_mut(),
        HttpMethod::Patch => item.patch.as_mut(),
        HttpMethod::Trace => item.trace.as_mut(),
    }
}

/// The lowest role an operation needs, from its security requirement (`None`: no token).
pub fn required_role(operation: &Operation) -> Option<String> {
    let security = operation.security.as_ref()?;
    security.iter().find_map(|requirement| {
        let value = serde_json::to_value(requirement).ok()?;
        let scopes = value.get(BEARER)?.as_array()?;
        Some(scopes.first().and_then(|scope| scope.as_str()).unwrap_or("operator").to_owned())
    })
}

/// The problem types an operation lists itself in `x-problems`.
fn listed_problems(operation: &Operation) -> Vec<ProblemType> {
    let Some(list) = operation.extensions.as_ref().and_then(|extensions| extensions.get("x-problems")) else {
        return Vec::new();
    };
    list.as_array()
        .into_iter()
        .flatten()
        .map(|slug| {
            let slug = slug.as_str().unwrap_or_default();
            ProblemType::from_slug(slug)
                .unwrap_or_else(|| panic!("an operation lists unknown problem type {slug:?} in x-problems"))
        })
        .collect()
}

fn has_parameter(operation: &Operation, location: ParameterIn, name: Option<&str>) -> bool {
    operation.parameters.iter().flatten().any(|parameter| match parameter {
        RefOr::T(parameter) => {
            parameter.parameter_in == location
                && name.is_none_or(|name| parameter.name.eq_ignore_ascii_case(name))
        }
        RefOr::Ref(_) => false,
    })
}

/// An untagged enum whose variants' shapes overlap (an audit event's payload: `{status}` of a start is
/// part of `{status, resolution_summary}` of a resolution) is any of them, not exactly one: utoipa
/// writes `oneOf`, which such a payload would fail.
const ANY_OF: &[&str] = &["TicketEvent"];

fn any_of(api: &mut Document) {
    let Some(components) = api.components.as_mut() else { return };
    for name in ANY_OF {
        if let Some(RefOr::T(Schema::OneOf(one_of))) = components.schemas.get(*name) {
            let mut builder =
                utoipa::openapi::schema::AnyOfBuilder::new().description(one_of.description.clone());
            let mut seen = Vec::new();
            for item in &one_of.items {
                let key = serde_json::to_string(item).unwrap_or_default();
                if !seen.contains(&key) {
                    seen.push(key);
                    builder = builder.item(item.clone());
                }
            }
            components.schemas.insert((*name).to_owned(), RefOr::T(Schema::AnyOf(builder.build())));
        }
    }
}

/// Adds what operations of a kind share (see the module's documentation).
fn complete(api: &mut Document) {
    any_of(api);
    for (path, item) in api.paths.paths.iter_mut() {
        let under_v1 = path.starts_with("/v1/");
        for method in &METHODS {
            let Some(operation) = operation_mut(item, method) else { continue };
            if *method == HttpMethod::Head {
                operation.operation_id = operation.operation_id.take().map(|id| format!("{id}Head"));
            }
            dedupe_parameters(operation);
            let role = required_role(operation);
            assert!(
                !under_v1 || role.is_some(),
                "{path} needs a token: declare security((\"bearer\" = [\"<role>\"]))"
            );
            if let Some(role) = &role {
                let described = operation.description.take().unwrap_or_default();
                operation.description = Some(format!("Role: {role}. {described}").trim_end().to_owned());
            }
            let mut problems = listed_problems(operation);
            // What the HTTP layer answers before routing, whatever the operation.
            problems.extend([
                ProblemType::BadRequest,
                ProblemType::UriTooLong,
                ProblemType::HeadersTooLarge,
                ProblemType::RequestTimeout,
                ProblemType::InternalError,
            ]);
            // Everything under /v1 (the token is looked up), readiness, the metrics (token and gauges)
            // and the partners' pages use the database.
            if under_v1 || path == "/readyz" || path == "/metrics" || path.starts_with("/ack/") {
                problems.push(ProblemType::ServiceUnavailable);
            }
            if role.is_some() {
                problems.extend([ProblemType::Unauthorized, ProblemType::TooManyRequests]);
            }
            if role.as_deref().is_some_and(|role| role != "operator") {
                problems.push(ProblemType::Forbidden);
            }
            if under_v1 && has_parameter(operation, ParameterIn::Path, None) {
                problems.push(ProblemType::NotFound);
            }
            if has_parameter(operation, ParameterIn::Query, None) {
                problems.push(ProblemType::ValidationError);
            }
            if operation.request_body.is_some() {
                problems.extend([
                    ProblemType::MalformedBody,
                    ProblemType::PayloadTooLarge,
                    ProblemType::UnsupportedMediaType,
                    ProblemType::ValidationError,
                ]);
            }
            if has_parameter(operation, ParameterIn::Header, Some("If-Match")) {
                problems.extend([ProblemType::PreconditionRequired, ProblemType::PreconditionFailed]);
            }
            // A write can lose against a concurrent one (a uniqueness rule, a serialisation failure).
            if under_v1 && !matches!(method, HttpMethod::Get | HttpMethod::Head) {
                problems.push(ProblemType::Conflict);
            }
            if under_v1 && *method == HttpMethod::Post {
                add_idempotency(operation);
                problems.extend([
                    ProblemType::InvalidIdempotencyKey,
                    ProblemType::IdempotencyKeyReused,
                    ProblemType::PayloadTooLarge,
                    ProblemType::UnsupportedMediaType,
                ]);
            }
            add_problem_responses(operation, problems);
            for response in operation.responses.responses.values_mut() {
                if let RefOr::T(response) = response {
                    if response.description.is_empty() {
                        response.description = "OK".to_owned();
                    }
                }
            }
        }
    }
}

/// A path parameter documented by the handler (`params(...)`) and detected from its `web::Path` is
/// listed once, as documented.
fn dedupe_parameters(operation: &mut Operation) {
    if let Some(parameters) = operation.parameters.as_mut() {
        let mut seen = Vec::new();
        parameters.retain(|parameter| match parameter {
            RefOr::T(parameter) => {
                let key = (
                    parameter.name.clone(),
                    serde_json::to_string(&parameter.parameter_in).unwrap_or_default(),
                );
                let first = !seen.contains(&key);
                seen.push(key);
                first
            }
            RefOr::Ref(_) => true,
        });
    }
}

fn add_idempotency(operation: &mut Operation) {
    let parameter = ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Makes the POST safe to retry: the same key with the same request is answered with the stored \
             response (`Idempotent-Replayed: true`), with another request 422. 1–255 visible ASCII characters; \
             kept `api.idempotency_retention_hours`.",
        ))
        .schema(Some(
            ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).max_length(Some(255)).pattern(Some("^[!-~]+$")),
        ))
        .build();
    operation.parameters.get_or_insert_with(Vec::new).push(RefOr::T(parameter));
    for (status, response) in operation.responses.responses.iter_mut() {
        if let (true, RefOr::T(response)) = (status.starts_with('2'), response) {
            response.headers.insert(
                "Idempotent-Replayed".to_owned(),
                RefOr::T(
                    HeaderBuilder::new()
                        .schema(Some(ObjectBuilder::new().schema_type(Type::String).enum_values(Some(["true"]))))
                        .description(Some("`true` when this is the stored response to an earlier request with the same Idempotency-Key."))
                        .build(),
                ),
            );
        }
    }
}

fn add_problem_responses(operation: &mut Operation, problems: Vec<ProblemType>) {
    let mut by_status: BTreeMap<u16, Vec<ProblemType>> = BTreeMap::new();
    for kind in problems {
        let list = by_status.entry(kind.status_code()).or_default();
        if !list.contains(&kind) {
            list.push(kind);
        }
    }
    for (status, mut kinds) in by_status {
        // A response the operation declares itself (the partners' HTML pages) stands as declared.
        if operation.responses.responses.contains_key(&status.to_string()) {
            continue;
        }
        kinds.sort();
        let names: Vec<String> = kinds.iter().map(|kind| format!("`{}`", kind.uri())).collect();
        let schema = AllOfBuilder::new()
            .item(Ref::from_schema_name("Problem"))
            .item(
                ObjectBuilder::new().property(
                    "type",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some(kinds.iter().map(|kind| kind.uri()))),
                ),
            )
            .build();
        let mut response = ResponseBuilder::new()
            .description(format!("Problem: {} (docs/errors.md).", names.join(", ")))
            .content(PROBLEM_JSON, ContentBuilder::new().schema(Some(Schema::AllOf(schema))).build());
        let header = |description: &str| {
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .description(Some(description.to_owned()))
                .build()
        };
        match status {
            401 => response = response.header("WWW-Authenticate", header("`Bearer`.")),
            412 => response = response.header("ETag", header("The ticket's current version, quoted.")),
            429 | 503 => {
                response = response.header("Retry-After", header("Seconds to wait before retrying."))
            }
            _ => {}
        }
        operation.responses.responses.insert(status.to_string(), RefOr::T(response.build()));
    }
    if let Some(extensions) = operation.extensions.as_mut() {
        extensions.remove("x-problems");
        if extensions.is_empty() {
            operation.extensions = None;
        }
    }
}

//! Every request is answered within a deadline, whatever the database does. A request still running
//! when its deadline passes is answered `503` problem+json with `Retry-After`, and its handler is
//! dropped. Work it had handed to the blocking pool (`web::block`) cannot be cancelled and runs on; the
//! storage layer bounds it (the pool's checkout timeout, the SQLite writer queue, PostgreSQL's
//! statement timeout, keepalives and `tcp_user_timeout`), and at most one blocking task per pooled
//! connection can be waiting on the database, so a stalled database cannot exhaust either pool.
//!
//! A write answered by the deadline may still commit afterwards: its outcome is unknown to the client,
//! which is why desks retry with the same `Idempotency-Key`.

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::error::InternalError;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{Error, HttpResponse, ResponseError};
use tracing_actix_web::RequestId;

use crate::problem::ApiError;
use crate::telemetry::REQUEST_ID_HEADER;

/// The route whose requests get [`RequestDeadline::import_budget`] instead of the general budget: a
/// registry file of a whole roster takes longer than any other request.
pub const IMPORT_PATH: &str = "/v1/registry/imports";

/// The route whose requests get [`RequestDeadline::report_budget`]: a year's summary report aggregates
/// every call and ticket of the year, seconds of work at national scale, and is still bounded.
pub const REPORT_PATH: &str = "/v1/reports/summary";

/// The deadline fires this much before the budget ends, leaving time to write the answer, so the client
/// has it within the budget.
pub const ANSWER_MARGIN: Duration = Duration::from_millis(50);

/// Middleware factory: how long a request may take.
#[derive(Debug, Clone, Copy)]
pub struct RequestDeadline {
    /// The deadline of every request but registry imports.
    pub budget: Duration,
    /// The deadline of a registry import.
    pub import_budget: Duration,
    /// The deadline of a summary report.
    pub report_budget: Duration,
}

impl<S, B> Transform<S, ServiceRequest> for RequestDeadline
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = RequestDeadlineService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequestDeadlineService { service: Rc::new(service), limits: *self }))
    }
}

/// The service [`RequestDeadline`] wraps around the app.
pub struct RequestDeadlineService<S> {
    service: Rc<S>,
    limits: RequestDeadline,
}

impl<S, B> Service<ServiceRequest> for RequestDeadlineService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let budget = match req.path() {
            IMPORT_PATH => self.limits.import_budget,
            REPORT_PATH => self.limits.report_budget,
            _ => self.limits.budget,
        };
        let timer = budget.saturating_sub(ANSWER_MARGIN).max(budget / 2);
        // The request itself cannot be kept (actix needs it unshared), so the answer is an error that
        // carries its response, with the request id the outer middleware would have added.
        let request_id = req.extensions().get::<RequestId>().map(ToString::to_string);
        let answer = self.service.call(req);
        Box::pin(async move {
            match actix_web::rt::time::timeout(timer, answer).await {
                Ok(result) => result,
                Err(_elapsed) => {
                    tracing::warn!(
                        budget_ms = budget.as_millis(),
                        problem = "service-unavailable",
                        "request deadline passed; answered 503"
                    );
                    let mut response = deadline_passed(budget);
                    if let Some(id) = request_id.and_then(|id| HeaderValue::from_str(&id).ok()) {
                        response.headers_mut().insert(HeaderName::from_static(REQUEST_ID_HEADER), id);
                    }
                    Err(InternalError::from_response("request deadline passed", response).into())
                }
            }
        })
    }
}

/// The answer to a request whose deadline passed.
pub fn deadline_passed(budget: Duration) -> HttpResponse {
    ApiError::DeadlinePassed { budget_ms: budget.as_millis() }.error_response()
}

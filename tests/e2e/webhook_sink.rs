//! A real HTTP receiver for webhooks on 127.0.0.1 (actix-web on its own port): records every request
//! it gets, with its headers and body, and answers with a status the test chooses, so scenarios can
//! play an outage (503), a receiver that is gone (410) or a healthy desk (204).

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Received {
    /// Method and path, e.g. `POST /hooks/desk`.
    pub request_line: String,
    /// Headers, lower-cased names.
    pub headers: HashMap<String, String>,
    /// Raw body.
    pub body: String,
    /// The status it was answered with.
    pub answered: u16,
}

impl Received {
    /// A header's value, which must be there.
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or_else(|| panic!("no {name} header in {self:#?}"), String::as_str)
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }
}

#[derive(Default)]
struct SinkState {
    received: Mutex<Vec<Received>>,
    answer: AtomicU16,
}

/// The receiver; stops when dropped.
pub struct WebhookSink {
    address: SocketAddr,
    state: Arc<SinkState>,
    handle: ServerHandle,
}

async fn receive(request: HttpRequest, body: web::Bytes, state: web::Data<Arc<SinkState>>) -> HttpResponse {
    let answered = state.answer.load(Ordering::SeqCst);
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), value.to_str().unwrap_or("<binary>").to_owned()))
        .collect();
    state.received.lock().unwrap_or_else(PoisonError::into_inner).push(Received {
        request_line: format!("{} {}", request.method(), request.path()),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        answered,
    });
    HttpResponse::build(actix_web::http::StatusCode::from_u16(answered).expect("a valid status")).finish()
}

impl WebhookSink {
    /// A receiver on a free port, answering 204.
    pub async fn start() -> WebhookSink {
        Self::start_on(0).await
    }

    /// A receiver on `port` (0: any free port), answering 204.
    pub async fn start_on(port: u16) -> WebhookSink {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("the webhook sink binds");
        let address = listener.local_addr().expect("bound address");
        let state = Arc::new(SinkState { received: Mutex::default(), answer: AtomicU16::new(204) });
        let shared = web::Data::new(Arc::clone(&state));
        let server =
            HttpServer::new(move || App::new().app_data(shared.clone()).default_service(web::to(receive)))
                .workers(1)
                .disable_signals()
                .listen(listener)
                .expect("the webhook sink listens")
                .run();
        let handle = server.handle();
        tokio::spawn(server);
        WebhookSink { address, state, handle }
    }

    /// The URL of an endpoint on this receiver.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// From now on, answer every request with `status`.
    pub fn answer_with(&self, status: u16) {
        self.state.answer.store(status, Ordering::SeqCst);
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The requests answered with a 2xx.
    pub fn delivered(&self) -> Vec<Received> {
        self.received().into_iter().filter(|r| (200..300).contains(&r.answered)).collect()
    }

    /// Waits until `done` holds for what was received, up to `within`.
    pub async fn wait_until(&self, what: &str, within: Duration, done: impl Fn(&[Received]) -> bool) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let received = self.received();
            if done(&received) {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "the receiver never got {what}: {received:#?}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for WebhookSink {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        // Stopping is async; the test's runtime may be shutting down, in which case the server goes
        // with it anyway.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { handle.stop(false).await });
        }
    }
}

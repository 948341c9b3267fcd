//! A real SMTP server for tests (feature `test-support`): the `mailin` crate's SMTP state machine
//! (greeting, EHLO, MAIL, RCPT, DATA with dot-unstuffing, RSET, QUIT) driven by a tokio accept loop on
//! 127.0.0.1, so a mailer under test holds a genuine SMTP conversation over TCP.
//!
//! ```no_run
//! # async fn demo() {
//! use std::time::Duration;
//! use hotline_notify::test_support::{SmtpSink, reserve_port};
//!
//! // Up at once, on a free port:
//! let sink = SmtpSink::start().await;
//! let received = sink.wait_for(1, Duration::from_secs(10)).await;
//! assert_eq!(received[0].subject().as_deref(), Some("…"));
//!
//! // "The mail server is down": nothing listens on the port until the sink starts there.
//! let port = reserve_port();
//! // … point the service at 127.0.0.1:{port}, let it fail …
//! let sink = SmtpSink::start_on(port).await;
//! # }
//! ```
//!
//! Why not `mailin-embedded`: 0.8.3 does not compile with `default-features = false` (its rustls module is
//! not feature-gated), with its defaults it pulls in aws-lc-rs, and `serve()` runs forever with no way to
//! stop it. This sink stops when dropped (or, releasing its port for sure, with [`SmtpSink::stop`]), can
//! be started later on a port reserved earlier, can reject recipients or end DATA with a chosen reply
//! (changeable while it runs), and can be slow to accept.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use mail_parser::{MessageParser, MimeHeaders};
use mailin::{Action, Handler, Response, SessionBuilder};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinSet;

/// One message the sink accepted (its reply to the end of DATA was 250).
#[derive(Debug, Clone)]
pub struct Received {
    /// The envelope sender (MAIL FROM).
    pub mail_from: String,
    /// The envelope recipients (RCPT TO) the sink accepted.
    pub rcpt_to: Vec<String>,
    /// The DATA section as sent, dot-unstuffed, lines ending in CRLF.
    pub raw: Vec<u8>,
}

impl Received {
    /// The message parsed (MIME, RFC 2047 words and transfer encodings decoded).
    ///
    /// # Panics
    /// When the message cannot be parsed at all, which a test wants to know.
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        MessageParser::default()
            .parse(&self.raw)
            .unwrap_or_else(|| panic!("unparsable message:\n{}", String::from_utf8_lossy(&self.raw)))
    }

    /// The value of the first header called `name` (case-insensitive) exactly as sent, folding kept.
    pub fn raw_header(&self, name: &str) -> Option<String> {
        raw_header(&self.raw, name)
    }

    /// The subject, decoded.
    pub fn subject(&self) -> Option<String> {
        self.parsed().subject().map(str::to_owned)
    }

    /// The first text body, decoded, with LF line ends.
    pub fn body(&self) -> Option<String> {
        self.parsed().body_text(0).map(|body| body.replace("\r\n", "\n"))
    }

    /// The Message-ID without angle brackets.
    pub fn message_id(&self) -> Option<String> {
        self.parsed().message_id().map(str::to_owned)
    }

    /// The `charset` parameter of the Content-Type.
    pub fn charset(&self) -> Option<String> {
        self.parsed().content_type().and_then(|ct| ct.attribute("charset")).map(str::to_owned)
    }

    /// The addresses in the `To` header.
    pub fn to_addresses(&self) -> Vec<String> {
        let parsed = self.parsed();
        parsed
            .to()
            .map(|to| to.iter().filter_map(|addr| addr.address()).map(str::to_owned).collect())
            .unwrap_or_default()
    }
}

/// How the sink answers; [`Behaviour::default`] accepts everything at once.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    /// Reply to every RCPT TO with this code (quoting the address, as real servers do): 550 refuses for
    /// good, 451 asks to try later.
    pub reject_rcpt: Option<u16>,
    /// Reply to the end of DATA with this code instead of 250; the message is not kept.
    pub data_reply: Option<u16>,
    /// Wait this long before answering the end of DATA (the message is kept already).
    pub delay_after_data: Duration,
}

impl Behaviour {
    /// Refuses every recipient with `code`.
    pub fn rejecting(code: u16) -> Behaviour {
        Behaviour { reject_rcpt: Some(code), ..Behaviour::default() }
    }
}

/// A running sink on 127.0.0.1; stops accepting and drops its connections when dropped.
#[derive(Debug)]
pub struct SmtpSink {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    behaviour: Arc<Mutex<Behaviour>>,
    task: tokio::task::JoinHandle<()>,
}

/// How long to wait for a port to become free again when starting on a given port.
const BIND_PATIENCE: Duration = Duration::from_secs(5);

impl SmtpSink {
    /// Starts an accepting sink on a free port.
    pub async fn start() -> SmtpSink {
        SmtpSink::start_with(0, Behaviour::default()).await
    }

    /// Starts an accepting sink on `port` (e.g. one from [`reserve_port`], while "the server was down").
    pub async fn start_on(port: u16) -> SmtpSink {
        SmtpSink::start_with(port, Behaviour::default()).await
    }

    /// Starts a sink on `port` (0: any free port) answering as `behaviour` says.
    ///
    /// # Panics
    /// When the port cannot be bound within a few seconds.
    pub async fn start_with(port: u16, behaviour: Behaviour) -> SmtpSink {
        let listener = bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)).await;
        let addr = listener.local_addr().expect("sink address");
        let received = Arc::new(Mutex::new(Vec::new()));
        let behaviour = Arc::new(Mutex::new(behaviour));
        let (store, answers) = (Arc::clone(&received), Arc::clone(&behaviour));
        let task = tokio::spawn(async move {
            // Owned by the accept loop: aborting the loop drops the set, which aborts every connection.
            let mut connections = JoinSet::new();
            loop {
                let Ok((stream, peer)) = listener.accept().await else { continue };
                connections.spawn(serve(stream, peer.ip(), Arc::clone(&answers), Arc::clone(&store)));
                while connections.try_join_next().is_some() {}
            }
        });
        SmtpSink { addr, received, behaviour, task }
    }

    /// Where the sink listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port the sink listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Changes how the sink answers from the next command on (connections stay open).
    pub fn set_behaviour(&self, behaviour: Behaviour) {
        *self.behaviour.lock().unwrap_or_else(PoisonError::into_inner) = behaviour;
    }

    /// Messages accepted so far, oldest first.
    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// How many messages were accepted so far.
    pub fn count(&self) -> usize {
        self.received.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Waits until at least `count` messages arrived and returns them all.
    ///
    /// # Panics
    /// When they have not arrived within `timeout`.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "only {} of {count} messages arrived at the SMTP sink within {timeout:?}",
                messages.len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Stops the sink and waits until its port is released (dropping it stops it too, a moment later).
    pub async fn stop(mut self) {
        self.task.abort();
        // An aborted task reports a JoinError: that is the expected outcome.
        let _ = (&mut self.task).await;
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A loopback port nothing listens on (bound once, then released), so connecting to it is refused until
/// a sink is started there with [`SmtpSink::start_on`].
pub fn reserve_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("free port address").port()
}

/// [`reserve_port`] as a socket address on 127.0.0.1.
pub fn free_addr() -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), reserve_port())
}

/// Splits a raw message's header block into header lines (folded continuation lines joined).
pub fn raw_headers(raw: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(raw);
    let head = text.split("\r\n\r\n").next().unwrap_or_default().to_owned();
    let mut headers: Vec<String> = Vec::new();
    for line in head.split("\r\n") {
        match headers.last_mut() {
            Some(last) if line.starts_with([' ', '\t']) => {
                last.push_str("\r\n");
                last.push_str(line);
            }
            _ => headers.push(line.to_owned()),
        }
    }
    headers
}

/// The raw value of the first header called `name` (case-insensitive), folding kept.
pub fn raw_header(raw: &[u8], name: &str) -> Option<String> {
    let prefix = format!("{}:", name.to_ascii_lowercase());
    raw_headers(raw)
        .into_iter()
        .find(|h| h.to_ascii_lowercase().starts_with(&prefix))
        .map(|h| h[prefix.len()..].trim().to_owned())
}

/// Binds with SO_REUSEADDR, retrying for a while: a sink stopped a moment ago may still hold the port.
async fn bind(addr: SocketAddr) -> TcpListener {
    let deadline = tokio::time::Instant::now() + BIND_PATIENCE;
    loop {
        let attempt = TcpSocket::new_v4().and_then(|socket| {
            socket.set_reuseaddr(true)?;
            socket.bind(addr)?;
            socket.listen(128)
        });
        match attempt {
            Ok(listener) => return listener,
            Err(_) if tokio::time::Instant::now() < deadline && addr.port() != 0 => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(error) => panic!("cannot bind the SMTP sink to {addr}: {error}"),
        }
    }
}

struct SinkHandler {
    behaviour: Arc<Mutex<Behaviour>>,
    current: Option<Received>,
    received: Arc<Mutex<Vec<Received>>>,
}

impl SinkHandler {
    fn behaviour(&self) -> Behaviour {
        self.behaviour.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl Handler for SinkHandler {
    fn rcpt(&mut self, to: &str) -> Response {
        match self.behaviour().reject_rcpt {
            Some(code) if code >= 500 => {
                Response::custom(code, format!("5.1.1 <{to}>: Recipient address rejected"))
            }
            Some(code) => Response::custom(code, format!("4.2.0 <{to}>: Try again later")),
            None => mailin::response::OK,
        }
    }

    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.current = Some(Received { mail_from: from.to_owned(), rcpt_to: to.to_vec(), raw: Vec::new() });
        mailin::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if let Some(current) = self.current.as_mut() {
            current.raw.extend_from_slice(buf);
        }
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let message = self.current.take();
        if let Some(code) = self.behaviour().data_reply {
            return Response::custom(code, "Message not accepted".to_owned());
        }
        if let Some(message) = message {
            self.received.lock().unwrap_or_else(PoisonError::into_inner).push(message);
        }
        mailin::response::OK
    }
}

async fn serve(
    stream: TcpStream,
    peer: IpAddr,
    behaviour: Arc<Mutex<Behaviour>>,
    received: Arc<Mutex<Vec<Received>>>,
) {
    let handler =
        SinkHandler { behaviour: Arc::clone(&behaviour), current: None, received: Arc::clone(&received) };
    let mut session = SessionBuilder::new("sink.test").build(peer, handler);
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let Ok(greeting) = session.greeting().buffer() else { return };
    if write.write_all(&greeting).await.is_err() {
        return;
    }
    let mut line = Vec::with_capacity(256);
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let before = received.lock().unwrap_or_else(PoisonError::into_inner).len();
        let response = session.process(&line);
        let after = received.lock().unwrap_or_else(PoisonError::into_inner).len();
        let delay = behaviour.lock().unwrap_or_else(PoisonError::into_inner).delay_after_data;
        if after > before && !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        match response.action {
            Action::NoReply => {}
            Action::Reply | Action::Close | Action::UpgradeTls => {
                let Ok(bytes) = response.buffer() else { return };
                if write.write_all(&bytes).await.is_err() || response.action != Action::Reply {
                    return;
                }
            }
        }
    }
}

//! A real SMTP server for the tests: the `mailin` crate's SMTP state machine (greeting, EHLO, MAIL, RCPT,
//! DATA with dot-unstuffing, RSET, QUIT) driven by a tokio accept loop on 127.0.0.1, so the mailer holds a
//! genuine SMTP conversation over TCP.
//!
//! Why not `mailin-embedded`: 0.8.3 does not compile with `default-features = false` (its rustls module is
//! not feature-gated), with its defaults it pulls in aws-lc-rs, and `serve()` runs forever with no way to
//! stop it. This sink stops when dropped, can be started later on a port chosen earlier (to test "the
//! server was down, then came back"), can reject recipients, and can be slow to accept.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use mailin::{Action, Handler, Response, SessionBuilder};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// One message the sink accepted.
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The DATA section as sent, dot-unstuffed, lines ending in CRLF.
    pub raw: Vec<u8>,
}

/// How the sink answers.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    /// Reply to every RCPT TO with this code (quoting the address, as real servers do).
    pub reject_rcpt: Option<u16>,
    /// Wait this long before answering the end of DATA.
    pub delay_after_data: Duration,
}

/// A running sink; stops accepting and drops its connections when dropped.
pub struct SmtpSink {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpSink {
    /// Starts an accepting sink on a free port.
    pub async fn start() -> SmtpSink {
        SmtpSink::start_with(free_addr(), Behaviour::default()).await
    }

    /// Starts a sink on `addr` (e.g. one reserved with [`free_addr`] while "the server was down").
    pub async fn start_with(addr: SocketAddr, behaviour: Behaviour) -> SmtpSink {
        let listener = TcpListener::bind(addr).await.expect("bind the SMTP sink");
        let addr = listener.local_addr().expect("sink address");
        let received = Arc::new(Mutex::new(Vec::new()));
        let store = Arc::clone(&received);
        let task = tokio::spawn(async move {
            // Owned by the accept loop: aborting the loop drops the set, which aborts every connection.
            let mut connections = JoinSet::new();
            loop {
                let Ok((stream, peer)) = listener.accept().await else { continue };
                connections.spawn(serve(stream, peer.ip(), behaviour.clone(), Arc::clone(&store)));
                while connections.try_join_next().is_some() {}
            }
        });
        SmtpSink { addr, received, task }
    }

    /// Where the sink listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Messages accepted so far.
    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Waits until `count` messages arrived (or panics after `timeout`).
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "only {} of {count} messages arrived",
                messages.len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A loopback address whose port nothing listens on (bound once, then released), so connecting is
/// refused until a sink is started there.
pub fn free_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("free port address")
}

struct SinkHandler {
    behaviour: Behaviour,
    current: Option<Received>,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Handler for SinkHandler {
    fn rcpt(&mut self, to: &str) -> Response {
        match self.behaviour.reject_rcpt {
            Some(code) => Response::custom(code, format!("5.1.1 <{to}>: Recipient address rejected")),
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
        if let Some(message) = self.current.take() {
            self.received.lock().unwrap_or_else(PoisonError::into_inner).push(message);
        }
        mailin::response::OK
    }
}

async fn serve(stream: TcpStream, peer: IpAddr, behaviour: Behaviour, received: Arc<Mutex<Vec<Received>>>) {
    let delay = behaviour.delay_after_data;
    let handler = SinkHandler { behaviour, current: None, received: Arc::clone(&received) };
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

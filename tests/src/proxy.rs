//! A TCP proxy for fault tests, between the server and PostgreSQL on the loopback interface. It does
//! what a network or a database does when it fails:
//!
//! - [`Mode::Pass`]: forwards both ways.
//! - [`Mode::Refuse`]: closes its listening socket, so new connections are refused outright
//!   (`ECONNREFUSED`), and resets every open connection, as a database that went down.
//! - [`Mode::Stall`]: accepts new connections but forwards nothing, and stops forwarding on open
//!   connections, as a dead network path or a hung host: bytes already sent are held, not lost, and
//!   flow again when the proxy returns to [`Mode::Pass`], as TCP would deliver them once the path is
//!   back. (The proxy's own kernel still acknowledges the bytes it receives, so unlike a real dead
//!   path this does not trigger the sender's `tcp_user_timeout`: what bounds a request here is the
//!   server's own deadline.)

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the proxy does with connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forward both ways.
    Pass,
    /// Refuse new connections and reset open ones.
    Refuse,
    /// Accept, and forward nothing.
    Stall,
}

/// A running proxy; stopped (and every connection through it closed) when dropped.
#[derive(Debug)]
pub struct FaultProxy {
    address: SocketAddr,
    mode: watch::Sender<Mode>,
    task: JoinHandle<()>,
}

impl FaultProxy {
    /// Starts a proxy on 127.0.0.1 (a free port) to `upstream`, passing.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<FaultProxy> {
        let listener = listen(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        let address = listener.local_addr()?;
        let (mode, watching) = watch::channel(Mode::Pass);
        let task = tokio::spawn(accept_loop(listener, address, upstream, watching));
        Ok(FaultProxy { address, mode, task })
    }

    /// Where clients connect.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Switches the mode; takes effect at once for new and open connections.
    pub fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        // Reset every connection, then stop accepting.
        self.mode.send_replace(Mode::Refuse);
        self.task.abort();
    }
}

fn listen(address: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(1024)
}

async fn accept_loop(
    listener: TcpListener,
    address: SocketAddr,
    upstream: SocketAddr,
    mut mode: watch::Receiver<Mode>,
) {
    let mut listener = Some(listener);
    loop {
        let current = *mode.borrow_and_update();
        if current == Mode::Refuse {
            listener = None;
            if mode.changed().await.is_err() {
                return;
            }
            continue;
        }
        let accepting = match &listener {
            Some(listener) => listener,
            None => match listen(address) {
                Ok(reopened) => listener.insert(reopened),
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        tokio::select! {
            accepted = accepting.accept() => {
                if let Ok((client, _)) = accepted {
                    tokio::spawn(connection(client, upstream, mode.clone()));
                }
            }
            changed = mode.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}

/// Waits while the proxy stalls; `false` once it refuses (the connection must close).
async fn passing(mode: &mut watch::Receiver<Mode>) -> bool {
    loop {
        match *mode.borrow_and_update() {
            Mode::Pass => return true,
            Mode::Refuse => return false,
            Mode::Stall => {}
        }
        if mode.changed().await.is_err() {
            return false;
        }
    }
}

/// Resolves when the proxy switches to [`Mode::Refuse`].
async fn refused(mode: &mut watch::Receiver<Mode>) {
    while *mode.borrow_and_update() != Mode::Refuse {
        if mode.changed().await.is_err() {
            return;
        }
    }
}

async fn connection(client: TcpStream, upstream: SocketAddr, mut mode: watch::Receiver<Mode>) {
    // A connection accepted while stalling waits (the client sees its bytes go nowhere).
    if !passing(&mut mode).await {
        reset(client);
        return;
    }
    let Ok(server) = TcpStream::connect(upstream).await else {
        reset(client);
        return;
    };
    for stream in [&client, &server] {
        let _ = stream.set_nodelay(true);
        // Every close is a reset, as a crashed peer's kernel would answer (never blocks: zero linger).
        let _ = stream.set_zero_linger();
    }
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let mut watching = mode.clone();
    tokio::select! {
        () = pump(client_read, server_write, mode.clone()) => {}
        () = pump(server_read, client_write, mode.clone()) => {}
        () = refused(&mut watching) => {}
    }
    // Dropping the halves resets both sockets.
}

fn reset(stream: TcpStream) {
    // A zero linger turns the close into a reset, as a crashed peer's kernel would answer.
    let _ = stream.set_zero_linger();
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut mode: watch::Receiver<Mode>,
) {
    let mut buffer = vec![0_u8; 16 * 1024];
    loop {
        if !passing(&mut mode).await {
            return;
        }
        let mut watching = mode.clone();
        let read = tokio::select! {
            read = from.read(&mut buffer) => read,
            () = refused(&mut watching) => return,
        };
        let count = match read {
            Ok(0) | Err(_) => return,
            Ok(count) => count,
        };
        // Held while stalling, forwarded when the proxy passes again.
        if !passing(&mut mode).await {
            return;
        }
        if to.write_all(&buffer[..count]).await.is_err() {
            return;
        }
    }
}

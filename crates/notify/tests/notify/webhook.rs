//! The webhook sender against a real HTTP peer on 127.0.0.1 (a raw TCP server that answers one fixed
//! response per connection): which answers count as delivered, retried or given up, and that no error
//! text carries the URL.

use std::collections::HashMap;
use std::time::Duration;

use hotline_notify::{SendError, WebhookDelivery, WebhookSecret, WebhookSender};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves `response` to every connection (after reading the request head), or never answers when
/// `response` is `None`; returns the port.
async fn peer(response: Option<&'static str>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                let mut buffer = vec![0_u8; 16 * 1024];
                let _ = stream.read(&mut buffer).await;
                match response {
                    Some(response) => {
                        let _ = stream.write_all(response.as_bytes()).await;
                        let _ = stream.shutdown().await;
                    }
                    None => tokio::time::sleep(Duration::from_secs(30)).await,
                }
            });
        }
    });
    port
}

fn sender() -> WebhookSender {
    let secret = WebhookSecret::parse("desk", &"s".repeat(32)).expect("secret");
    WebhookSender::new(HashMap::from([("desk".to_owned(), secret)]), Duration::from_millis(500))
        .expect("client")
}

fn delivery(port: u16) -> WebhookDelivery {
    WebhookDelivery {
        id: "msg_0001".to_owned(),
        endpoint: "desk".to_owned(),
        url: format!("http://127.0.0.1:{port}/hooks?token=do-not-log"),
        event_type: "ticket.opened".to_owned(),
        body: r#"{"type":"ticket.opened"}"#.to_owned(),
    }
}

async fn send_to(response: Option<&'static str>) -> Result<(), SendError> {
    let port = peer(response).await;
    sender().send(&delivery(port)).await
}

fn assert_no_url(error: &SendError) {
    let text = error.to_string();
    assert!(!text.contains("do-not-log") && !text.contains("127.0.0.1"), "{text}");
}

#[tokio::test]
async fn a_2xx_answer_is_a_delivery() {
    assert_eq!(send_to(Some("HTTP/1.1 204 No Content\r\n\r\n")).await, Ok(()));
    assert_eq!(send_to(Some("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")).await, Ok(()));
}

#[tokio::test]
async fn a_server_error_is_retried() {
    let error = send_to(Some("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n"))
        .await
        .expect_err("503");
    assert!(matches!(&error, SendError::Transient(text) if text.contains("503")), "{error}");
    assert_no_url(&error);
}

#[tokio::test]
async fn gone_and_redirects_are_given_up() {
    let error = send_to(Some("HTTP/1.1 410 Gone\r\ncontent-length: 0\r\n\r\n")).await.expect_err("410");
    assert!(error.is_permanent(), "{error}");
    let error = send_to(Some(
        "HTTP/1.1 302 Found\r\nlocation: http://elsewhere.example/\r\ncontent-length: 0\r\n\r\n",
    ))
    .await
    .expect_err("302");
    assert!(matches!(&error, SendError::Permanent(text) if text.contains("redirects")), "{error}");
}

#[tokio::test]
async fn a_silent_peer_times_out_and_is_retried() {
    let error = send_to(None).await.expect_err("timeout");
    assert!(matches!(&error, SendError::Transient(text) if text.contains("no answer")), "{error}");
}

#[tokio::test]
async fn a_refused_connection_is_retried_without_the_url_in_the_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let error = sender().send(&delivery(port)).await.expect_err("refused");
    assert!(!error.is_permanent(), "{error}");
    assert_no_url(&error);
}

#[tokio::test]
async fn an_endpoint_without_a_secret_is_given_up_naming_it() {
    let port = peer(Some("HTTP/1.1 204 No Content\r\n\r\n")).await;
    let mut unknown = delivery(port);
    unknown.endpoint = "removed".to_owned();
    let error = sender().send(&unknown).await.expect_err("no secret");
    assert!(matches!(&error, SendError::Permanent(text) if text.contains("\"removed\"")), "{error}");
}

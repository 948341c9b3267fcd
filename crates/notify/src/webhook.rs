//! Signed webhooks to the desk software, following the Standard Webhooks scheme
//! (<https://www.standardwebhooks.com/>), so the receiving side can verify them with an existing library:
//!
//! - `webhook-id`: the delivery id, the same on every retry, so the receiver can drop duplicates;
//! - `webhook-timestamp`: Unix seconds when this attempt was signed, so old captures can be refused;
//! - `webhook-signature`: `v1,` + base64 of HMAC-SHA256 over `{id}.{timestamp}.{body}`.
//!
//! A `whsec_`-prefixed secret is base64 (the scheme's form, 24–64 bytes); any other secret is used as
//! its bytes (at least 32). Secrets live only in configuration; deliveries name their endpoint and the
//! sender looks the secret up at send time, so a rotated secret signs the retries too.
//!
//! Outcomes: any 2xx is delivered; a 3xx is a permanent failure (redirects are not followed, so a signed
//! body never goes to a host nobody configured); 410 Gone is permanent; anything else — connection
//! errors, timeouts, 408, 429, 5xx, other 4xx — is retried per the outbox policy. Errors never include
//! the URL (it may carry a token) or the body.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use sha2::Sha256;

use crate::mailer::SendError;

/// Why a webhook endpoint's configuration cannot be used, so start-up can refuse it by name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// The secret is missing, too short or not valid base64 after `whsec_`.
    #[error("webhook endpoint {endpoint:?}: {reason}")]
    Secret {
        /// Endpoint name.
        endpoint: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The URL is not an http(s) URL with a host, or carries credentials.
    #[error("webhook endpoint {endpoint:?}: {reason}")]
    Url {
        /// Endpoint name.
        endpoint: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The HTTP client could not be built (TLS set-up).
    #[error("webhook client: {0}")]
    Client(String),
}

/// An HMAC key, kept out of `Debug` and zeroed on drop.
pub struct WebhookSecret(SecretSlice<u8>);

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

impl WebhookSecret {
    /// Reads a configured secret for `endpoint` (named in the error).
    pub fn parse(endpoint: &str, text: &str) -> Result<Self, WebhookError> {
        let refuse = |reason: String| WebhookError::Secret { endpoint: endpoint.to_owned(), reason };
        let bytes = match text.strip_prefix("whsec_") {
            Some(encoded) => {
                let bytes = STANDARD
                    .decode(encoded)
                    .map_err(|_| refuse("the part after whsec_ is not valid base64".to_owned()))?;
                if !(24..=64).contains(&bytes.len()) {
                    return Err(refuse(format!(
                        "a whsec_ secret must decode to 24–64 bytes, this one has {}",
                        bytes.len()
                    )));
                }
                bytes
            }
            None if text.len() >= 32 => text.as_bytes().to_vec(),
            None => {
                return Err(refuse(format!(
                    "the secret must be at least 32 characters (or whsec_ + base64), got {}",
                    text.len()
                )));
            }
        };
        Ok(Self(SecretSlice::from(bytes)))
    }

    fn key(&self) -> &[u8] {
        self.0.expose_secret()
    }
}

/// How a configured endpoint URL will be reached, so start-up can warn about plain HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlSecurity {
    /// HTTPS.
    Encrypted,
    /// HTTP to this machine (loopback).
    Loopback,
    /// HTTP over a network: the payload is thin and signed, but readable on the way.
    Plain,
}

/// Checks an endpoint URL: http or https, with a host, without user:password (the signature is the
/// authentication, and credentials in a URL end up in logs).
pub fn check_url(endpoint: &str, url: &str) -> Result<UrlSecurity, WebhookError> {
    let refuse = |reason: String| WebhookError::Url { endpoint: endpoint.to_owned(), reason };
    let parsed = reqwest::Url::parse(url).map_err(|error| refuse(format!("not a URL: {error}")))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(refuse("remove the user name and password from the URL".to_owned()));
    }
    let host = parsed.host_str().ok_or_else(|| refuse("the URL has no host".to_owned()))?;
    match parsed.scheme() {
        "https" => Ok(UrlSecurity::Encrypted),
        "http" => {
            let loopback = host == "localhost"
                || host
                    .trim_matches(|c| c == '[' || c == ']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            Ok(if loopback { UrlSecurity::Loopback } else { UrlSecurity::Plain })
        }
        other => Err(refuse(format!("the scheme must be https (or http), not {other}"))),
    }
}

/// The `webhook-signature` header value for one delivery attempt.
pub fn sign(secret: &WebhookSecret, delivery_id: &str, timestamp: i64, body: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail; the fallback keeps the signature invalid
    // rather than panicking.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.key()) else {
        return "v1,".to_owned();
    };
    mac.update(delivery_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// One webhook delivery attempt, as the outbox holds it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// Delivery id, the same on every attempt.
    pub id: String,
    /// Endpoint name, whose secret signs it.
    pub endpoint: String,
    /// Where it goes.
    pub url: String,
    /// Event type, e.g. `ticket.triaged`, also sent as `hotline-event`.
    pub event_type: String,
    /// JSON payload.
    pub body: String,
}

impl fmt::Debug for WebhookDelivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookDelivery")
            .field("id", &self.id)
            .field("endpoint", &self.endpoint)
            .field("event_type", &self.event_type)
            .finish_non_exhaustive()
    }
}

/// POSTs signed deliveries; cheap to share behind an `Arc`.
pub struct WebhookSender {
    client: reqwest::Client,
    secrets: HashMap<String, WebhookSecret>,
    timeout: Duration,
    clock: fn() -> SystemTime,
}

impl fmt::Debug for WebhookSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut endpoints: Vec<&String> = self.secrets.keys().collect();
        endpoints.sort();
        f.debug_struct("WebhookSender")
            .field("endpoints", &endpoints)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl WebhookSender {
    /// A sender for the configured endpoints (name → secret), giving each attempt `timeout` in all.
    pub fn new(secrets: HashMap<String, WebhookSecret>, timeout: Duration) -> Result<Self, WebhookError> {
        Self::with_clock(secrets, timeout, SystemTime::now)
    }

    /// Like [`WebhookSender::new`], with the clock that stamps `webhook-timestamp` (receivers compare it
    /// with their own wall clock, so production uses the system time; tests may not).
    pub fn with_clock(
        secrets: HashMap<String, WebhookSecret>,
        timeout: Duration,
        clock: fn() -> SystemTime,
    ) -> Result<Self, WebhookError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("hotline/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(timeout)
            .timeout(timeout)
            .build()
            .map_err(|error| WebhookError::Client(error.to_string()))?;
        Ok(Self { client, secrets, timeout, clock })
    }

    /// Longest time one attempt may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Signs and POSTs one delivery; the error says whether another attempt can succeed.
    pub async fn send(&self, delivery: &WebhookDelivery) -> Result<(), SendError> {
        let Some(secret) = self.secrets.get(&delivery.endpoint) else {
            return Err(SendError::Permanent(format!(
                "webhook endpoint {:?} is not configured in this process (removed from the \
                 configuration, or its secret is missing), so the delivery cannot be signed",
                delivery.endpoint
            )));
        };
        let timestamp = (self.clock)()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        let signature = sign(secret, &delivery.id, timestamp, &delivery.body);
        let response = self
            .client
            .post(&delivery.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", &delivery.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .header("hotline-event", &delivery.event_type)
            .body(delivery.body.clone())
            .send()
            .await;
        match response {
            Ok(response) => classify(response.status()),
            Err(error) if error.is_builder() => {
                Err(SendError::Permanent(format!("the endpoint URL cannot be used: {}", error.without_url())))
            }
            Err(error) if error.is_timeout() => {
                Err(SendError::Transient(format!("no answer within {} s", self.timeout.as_secs_f32())))
            }
            // With its causes: reqwest's own text is only the outermost layer, e.g. "error sending request".
            Err(error) => Err(SendError::Transient(crate::redact::with_causes(&error.without_url()))),
        }
    }
}

/// What an HTTP status means for a delivery.
fn classify(status: reqwest::StatusCode) -> Result<(), SendError> {
    if status.is_success() {
        Ok(())
    } else if status.is_redirection() {
        Err(SendError::Permanent(format!(
            "the endpoint answered {status}; redirects are not followed, configure the final URL"
        )))
    } else if status == reqwest::StatusCode::GONE {
        Err(SendError::Permanent(format!("the endpoint answered {status}: it no longer takes deliveries")))
    } else {
        Err(SendError::Transient(format!("the endpoint answered {status}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_standard_webhooks_test_vector() {
        // The example of the Standard Webhooks reference libraries.
        let secret = WebhookSecret::parse("test", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("secret");
        let signature =
            sign(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, r#"{"test": 2432232314}"#);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn any_change_to_id_timestamp_body_or_key_changes_the_signature() {
        let secret = WebhookSecret::parse("desk", &"k".repeat(32)).expect("secret");
        let other = WebhookSecret::parse("desk", &"j".repeat(32)).expect("secret");
        let base = sign(&secret, "msg_1", 100, "{}");
        assert_ne!(base, sign(&secret, "msg_2", 100, "{}"));
        assert_ne!(base, sign(&secret, "msg_1", 101, "{}"));
        assert_ne!(base, sign(&secret, "msg_1", 100, "{ }"));
        assert_ne!(base, sign(&other, "msg_1", 100, "{}"));
        assert_eq!(base, sign(&secret, "msg_1", 100, "{}"));
    }

    #[test]
    fn short_or_malformed_secrets_are_refused_naming_the_endpoint() {
        for bad in ["", "short", &"x".repeat(31), "whsec_not base64!", "whsec_c2hvcnQ="] {
            let error = WebhookSecret::parse("desk", bad).expect_err(bad);
            assert!(error.to_string().contains("\"desk\""), "{error}");
        }
        assert!(WebhookSecret::parse("desk", &"x".repeat(32)).is_ok());
    }

    #[test]
    fn urls_are_checked_and_plain_http_over_a_network_is_told_apart() {
        assert_eq!(check_url("d", "https://desk.example.jp/hooks"), Ok(UrlSecurity::Encrypted));
        assert_eq!(check_url("d", "http://127.0.0.1:8081/hooks"), Ok(UrlSecurity::Loopback));
        assert_eq!(check_url("d", "http://localhost/hooks"), Ok(UrlSecurity::Loopback));
        assert_eq!(check_url("d", "http://[::1]:9/"), Ok(UrlSecurity::Loopback));
        assert_eq!(check_url("d", "http://10.0.0.5/hooks"), Ok(UrlSecurity::Plain));
        for bad in [
            "",
            "desk.example.jp",
            "ftp://desk.example.jp/",
            "https://user:pw@desk.example.jp/",
            "file:///tmp/x",
        ] {
            let error = check_url("desk", bad).expect_err(bad);
            assert!(error.to_string().contains("\"desk\""), "{error}");
        }
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let secret = WebhookSecret::parse("desk", "super-secret-value-that-is-long-enough").expect("secret");
        assert!(!format!("{secret:?}").contains("super"));
    }

    #[test]
    fn statuses_are_classified_for_the_retry_policy() {
        use reqwest::StatusCode;
        assert_eq!(classify(StatusCode::OK), Ok(()));
        assert_eq!(classify(StatusCode::NO_CONTENT), Ok(()));
        for transient in [400, 401, 404, 408, 429, 500, 502, 503] {
            let status = StatusCode::from_u16(transient).expect("status");
            assert!(matches!(classify(status), Err(SendError::Transient(_))), "{transient}");
        }
        for permanent in [301, 302, 307, 410] {
            let status = StatusCode::from_u16(permanent).expect("status");
            assert!(matches!(classify(status), Err(SendError::Permanent(_))), "{permanent}");
        }
    }
}

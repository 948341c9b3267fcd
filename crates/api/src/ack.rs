//! Acknowledgement links: partners accept or decline a referral from their email without an account.
//! A link names the referral and an expiry, signed with HMAC-SHA256 under a secret from config, so it
//! cannot be forged or altered; opening it (GET) changes nothing — mail scanners open links by
//! themselves — and only the form's POST records the answer.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

/// Signs and checks links.
#[derive(Clone)]
pub struct AckLinks {
    /// Public base URL of the service, e.g. `https://hotline.example.jp`.
    pub base_url: String,
    secret: Vec<u8>,
    /// How long a link works.
    pub ttl: Duration,
}

impl std::fmt::Debug for AckLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AckLinks")
            .field("base_url", &self.base_url)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// Why a link is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AckError {
    /// Not a link we signed (altered or forged): 403.
    #[error("the link is not valid")]
    Tampered,
    /// Past its expiry: 410.
    #[error("the link has expired")]
    Expired,
}

/// A verified link's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckClaim {
    /// The referral it answers.
    pub referral_id: Uuid,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

impl AckLinks {
    /// Links under `base_url`, signed with `secret`, valid for `ttl`.
    pub fn new(base_url: &str, secret: &[u8], ttl: Duration) -> Self {
        Self { base_url: base_url.trim_end_matches('/').to_owned(), secret: secret.to_vec(), ttl }
    }

    fn signature(&self, referral_id: Uuid, expires: i64) -> Vec<u8> {
        let mut mac = HmacSha256::new_from_slice(&self.secret).expect("HMAC accepts keys of any length");
        mac.update(format!("hotline-ack-v1|{}|{expires}", referral_id.simple()).as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// The token of a link for a referral, issued at `now`.
    pub fn token(&self, referral_id: Uuid, now: DateTime<Utc>) -> String {
        let expires = (now + self.ttl).timestamp();
        let signature = URL_SAFE_NO_PAD.encode(self.signature(referral_id, expires));
        format!("{}.{expires}.{signature}", referral_id.simple())
    }

    /// The full URL a partner opens.
    pub fn url(&self, referral_id: Uuid, now: DateTime<Utc>) -> String {
        format!("{}/ack/{}", self.base_url, self.token(referral_id, now))
    }

    /// Checks a token: signature first (a forged expiry must not read as "expired"), then expiry.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AckClaim, AckError> {
        let mut parts = token.split('.');
        let (Some(id), Some(expires), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(AckError::Tampered);
        };
        let referral_id = Uuid::try_parse(id).map_err(|_| AckError::Tampered)?;
        let expires: i64 = expires.parse().map_err(|_| AckError::Tampered)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| AckError::Tampered)?;
        let mut mac = HmacSha256::new_from_slice(&self.secret).map_err(|_| AckError::Tampered)?;
        mac.update(format!("hotline-ack-v1|{}|{expires}", referral_id.simple()).as_bytes());
        mac.verify_slice(&signature).map_err(|_| AckError::Tampered)?;
        let expires_at = DateTime::from_timestamp(expires, 0).ok_or(AckError::Tampered)?;
        if now >= expires_at {
            return Err(AckError::Expired);
        }
        Ok(AckClaim { referral_id, expires_at })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn links() -> AckLinks {
        AckLinks::new("https://hotline.example.jp/", b"a secret of the deployment", Duration::hours(72))
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 1, 0, 0).unwrap()
    }

    #[test]
    fn a_fresh_link_verifies_to_its_referral_until_it_expires() {
        let id = Uuid::now_v7();
        let token = links().token(id, now());
        let claim = links().verify(&token, now() + Duration::hours(71)).unwrap();
        assert_eq!(claim.referral_id, id);
        assert_eq!(links().verify(&token, now() + Duration::hours(72)), Err(AckError::Expired));
        assert!(links().url(id, now()).starts_with("https://hotline.example.jp/ack/"));
    }

    #[test]
    fn any_altered_part_or_another_secret_is_tampered() {
        let id = Uuid::now_v7();
        let token = links().token(id, now());
        let parts: Vec<&str> = token.split('.').collect();
        let other_id = format!("{}.{}.{}", Uuid::now_v7().simple(), parts[1], parts[2]);
        let later = format!("{}.{}.{}", parts[0], parts[1].parse::<i64>().unwrap() + 3600, parts[2]);
        // Another last character (a fixed "A" was the signature itself one time in sixteen).
        let (kept, last) = parts[2].split_at(parts[2].len() - 1);
        let bad_signature =
            format!("{}.{}.{kept}{}", parts[0], parts[1], if last == "A" { "Q" } else { "A" });
        for forged in [other_id, later, bad_signature, "garbage".to_owned(), format!("{token}.x")] {
            assert_eq!(links().verify(&forged, now()), Err(AckError::Tampered), "{forged}");
        }
        let other_secret =
            AckLinks::new("https://hotline.example.jp", b"another secret", Duration::hours(72));
        assert_eq!(other_secret.verify(&token, now()), Err(AckError::Tampered));
        // A forged expiry in the past is still "tampered", not "expired".
        let past = format!("{}.{}.{}", parts[0], 1, parts[2]);
        assert_eq!(links().verify(&past, now()), Err(AckError::Tampered));
    }
}

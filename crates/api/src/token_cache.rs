//! Authenticated tokens remembered for a short time (`api.token_cache_seconds`), so that a request does
//! not read `api_tokens` before its own work: one database round trip and pool checkout fewer per request.
//!
//! Only successful look-ups are kept (a new token works at once, and unknown tokens cannot fill the
//! cache), keyed by the token's SHA-256 like the table. A revocation takes effect at once in the process
//! that revoked the token ([`TokenCache::forget`]), and in other processes on the same database once
//! their entry is older than the TTL. A dozen lines of map and clock instead of a caching crate: a few
//! dozen tokens, one TTL and an explicit removal are all it needs.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use hotline_domain::role::Role;

/// What the cache remembers of a token: what authentication makes an `auth::Actor` of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedToken {
    /// The token's id.
    pub token_id: Uuid,
    /// The token's name.
    pub name: String,
    /// What the token may do.
    pub role: Role,
}

/// Most entries kept; past this, expired entries are dropped, and if all are fresh the map is emptied.
const MAX_ENTRIES: usize = 4096;

/// Token hash → (actor, when it was read from the database).
#[derive(Debug)]
pub struct TokenCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (CachedToken, DateTime<Utc>)>>,
    /// Bumped by every [`TokenCache::forget`], so a look-up that read the database before a revocation
    /// cannot put the revoked token back after it.
    revocations: AtomicU64,
}

impl TokenCache {
    /// A cache whose entries live `ttl`; zero or less disables it (every request reads the database).
    pub fn new(ttl: Duration) -> Self {
        TokenCache { ttl, entries: Mutex::new(HashMap::new()), revocations: AtomicU64::new(0) }
    }

    /// The actor of a token read less than the TTL ago. An entry from the future (the clock went back)
    /// counts as expired.
    pub fn get(&self, hash: &str, now: DateTime<Utc>) -> Option<CachedToken> {
        if self.ttl <= Duration::zero() {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let (actor, read_at) = entries.get(hash)?;
        let age = now - *read_at;
        (age >= Duration::zero() && age < self.ttl).then(|| actor.clone())
    }

    /// Taken before reading a token from the database and handed to [`TokenCache::put`].
    pub fn generation(&self) -> u64 {
        self.revocations.load(Ordering::SeqCst)
    }

    /// Remembers a token read from the database, unless a token was revoked since `generation` was
    /// taken (the read may predate the revocation).
    pub fn put(&self, hash: String, actor: CachedToken, now: DateTime<Utc>, generation: u64) {
        if self.ttl <= Duration::zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if self.revocations.load(Ordering::SeqCst) != generation {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            let ttl = self.ttl;
            entries.retain(|_, (_, read_at)| now - *read_at < ttl);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(hash, (actor, now));
    }

    /// Drops a token at once, e.g. when this process revokes it.
    pub fn forget(&self, token_id: Uuid) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        self.revocations.fetch_add(1, Ordering::SeqCst);
        entries.retain(|_, (actor, _)| actor.token_id != token_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(id: u128) -> CachedToken {
        CachedToken { token_id: Uuid::from_u128(id), name: format!("desk-{id}"), role: Role::Operator }
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).expect("a valid instant")
    }

    #[test]
    fn an_entry_lives_for_the_ttl_only() {
        let cache = TokenCache::new(Duration::seconds(10));
        cache.put("h1".into(), actor(1), at(0), 0);

        assert_eq!(cache.get("h1", at(9)), Some(actor(1)));
        assert_eq!(cache.get("h1", at(10)), None);
        assert_eq!(cache.get("h1", at(-1)), None, "a clock that went back does not extend it");
        assert_eq!(cache.get("h2", at(0)), None);
    }

    #[test]
    fn forget_drops_every_entry_of_the_token_at_once() {
        let cache = TokenCache::new(Duration::seconds(10));
        cache.put("h1".into(), actor(1), at(0), 0);
        cache.put("h2".into(), actor(2), at(0), 0);

        cache.forget(Uuid::from_u128(1));

        assert_eq!(cache.get("h1", at(1)), None);
        assert_eq!(cache.get("h2", at(1)), Some(actor(2)));
    }

    #[test]
    fn a_read_from_before_a_revocation_is_not_kept() {
        let cache = TokenCache::new(Duration::seconds(10));
        let before = cache.generation();
        cache.forget(Uuid::from_u128(1));
        cache.put("h1".into(), actor(1), at(0), before);
        assert_eq!(cache.get("h1", at(0)), None);
        cache.put("h1".into(), actor(1), at(0), cache.generation());
        assert_eq!(cache.get("h1", at(0)), Some(actor(1)));
    }

    #[test]
    fn a_zero_ttl_disables_the_cache() {
        let cache = TokenCache::new(Duration::zero());
        cache.put("h1".into(), actor(1), at(0), 0);
        assert_eq!(cache.get("h1", at(0)), None);
    }

    #[test]
    fn a_full_cache_makes_room() {
        let cache = TokenCache::new(Duration::seconds(10));
        for i in 0..MAX_ENTRIES {
            cache.put(format!("old{i}"), actor(1), at(0), 0);
        }
        cache.put("new".into(), actor(2), at(20), 0);
        assert_eq!(cache.get("new", at(21)), Some(actor(2)));
        assert_eq!(cache.entries.lock().expect("lock").len(), 1, "expired entries were dropped");
    }
}

//! Delivery rules for the outbox: when a failed alert is tried again (exponential backoff with
//! jitter, so a recovering mail server is not hit by every alert at once), and when it gives up and
//! becomes `failed`, visible to supervisors, who can retry it. Randomness is a parameter.

use chrono::{DateTime, Duration, Utc};

/// Where an alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Waiting for its next attempt.
    Pending,
    /// Claimed by a worker under a lease; a crashed worker's claim expires and is taken again.
    Sending,
    /// Accepted by the mail server.
    Sent,
    /// Gave up after its attempts (or a permanent refusal); a supervisor may retry it.
    Failed,
}

wire_names!(OutboxStatus, "status" { Pending => "pending", Sending => "sending", Sent => "sent", Failed => "failed" });

/// How an outbox row leaves: an email to a partner, or a webhook to the desk software.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// An alert mailed to a partner address.
    Email,
    /// A signed HTTP POST of a ticket event to a configured endpoint.
    Webhook,
}

wire_names!(Channel, "channel" { Email => "email", Webhook => "webhook" });

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Delay after the first failure.
    pub base_delay: Duration,
    /// Longest delay between two attempts.
    pub max_delay: Duration,
    /// Attempts before giving up.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    /// 30 s doubling to at most 30 min, 12 attempts: about 1½ to 3 hours of trying (with jitter) before
    /// `failed`.
    fn default() -> Self {
        Self { base_delay: Duration::seconds(30), max_delay: Duration::minutes(30), max_attempts: 12 }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Try again at this time.
    RetryAt(DateTime<Utc>),
    /// Give up: `failed`.
    GiveUp,
}

impl RetryPolicy {
    /// The delay before attempt `attempts + 1`, after `attempts` failures (≥ 1): base × 2^(n−1), capped,
    /// then "equal jitter": half fixed, half scaled by `jitter` in [0, 1).
    pub fn delay(&self, attempts: u32, jitter: f64) -> Duration {
        let exponent = attempts.saturating_sub(1).min(30);
        let full =
            self.base_delay.checked_mul(1_i32 << exponent).unwrap_or(self.max_delay).min(self.max_delay);
        let millis = full.num_milliseconds() as f64;
        let jitter = jitter.clamp(0.0, 1.0);
        Duration::milliseconds((millis / 2.0 + millis / 2.0 * jitter) as i64)
    }

    /// After the `attempts`-th failure at `now`: retry later, or give up (attempts exhausted, or the
    /// receiver refused for good).
    pub fn after_failure(
        &self,
        attempts: u32,
        permanent: bool,
        now: DateTime<Utc>,
        jitter: f64,
    ) -> AfterFailure {
        if permanent || attempts >= self.max_attempts {
            AfterFailure::GiveUp
        } else {
            AfterFailure::RetryAt(now + self.delay(attempts, jitter))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn delays_double_from_the_base_and_stop_at_the_cap() {
        let policy = RetryPolicy::default();
        let full = |attempts| policy.delay(attempts, 1.0);
        assert_eq!(full(1), Duration::seconds(30));
        assert_eq!(full(2), Duration::seconds(60));
        assert_eq!(full(3), Duration::seconds(120));
        assert_eq!(full(7), Duration::minutes(30));
        assert_eq!(full(40), Duration::minutes(30));
    }

    #[test]
    fn jitter_spreads_a_delay_between_half_and_all_of_it() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.delay(2, 0.0), Duration::seconds(30));
        assert_eq!(policy.delay(2, 0.5), Duration::seconds(45));
        assert_eq!(policy.delay(2, 7.0), Duration::seconds(60));
    }

    #[test]
    fn gives_up_after_the_last_attempt_or_a_permanent_refusal() {
        let policy = RetryPolicy { max_attempts: 3, ..RetryPolicy::default() };
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0).unwrap();
        assert_eq!(
            policy.after_failure(1, false, now, 1.0),
            AfterFailure::RetryAt(now + Duration::seconds(30))
        );
        assert_eq!(
            policy.after_failure(2, false, now, 1.0),
            AfterFailure::RetryAt(now + Duration::seconds(60))
        );
        assert_eq!(policy.after_failure(3, false, now, 1.0), AfterFailure::GiveUp);
        assert_eq!(policy.after_failure(1, true, now, 1.0), AfterFailure::GiveUp);
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in OutboxStatus::ALL {
            assert_eq!(OutboxStatus::parse(status.as_str()), Ok(*status));
        }
    }
}

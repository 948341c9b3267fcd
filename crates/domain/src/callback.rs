//! Callbacks (折り返し): an operator promises to call back by a time. A promise outside the service
//! window cannot be kept by the hotline, so it moves to the next opening and the operator is told.

use chrono::{DateTime, Duration, Utc};

use crate::FieldError;
use crate::schedule::ServiceSchedule;

/// When a promised callback is really due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallbackPlan {
    /// The time promised to the caller.
    pub promised_at: DateTime<Utc>,
    /// When it is due: the promise, or the next opening if the promise falls outside the window.
    pub due_at: DateTime<Utc>,
    /// True when the due time was moved.
    pub moved: bool,
}

/// Plans a callback promised for `promised_at`; a promise in the past (beyond `skew`) is refused.
pub fn plan_callback(
    schedule: &ServiceSchedule,
    promised_at: DateTime<Utc>,
    now: DateTime<Utc>,
    skew: Duration,
) -> Result<CallbackPlan, FieldError> {
    if promised_at + skew < now {
        return Err(FieldError::new("due_at", "a callback cannot be promised for a time already past"));
    }
    let due_at = schedule.next_open_at_or_after(promised_at);
    Ok(CallbackPlan { promised_at, due_at, moved: due_at != promised_at })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use chrono_tz::Asia::Tokyo;

    use super::*;

    /// An instant given as Tokyo wall-clock time.
    fn jst(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Tokyo.with_ymd_and_hms(y, mo, d, h, mi, 0).single().expect("Tokyo has no DST").with_timezone(&Utc)
    }

    fn plan(promised_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<CallbackPlan, FieldError> {
        plan_callback(&ServiceSchedule::jma_default(), promised_at, now, Duration::minutes(5))
    }

    #[test]
    fn a_promise_after_closing_moves_to_the_next_morning() {
        // At 20:50 the operator promises to call back in 30 minutes: 21:20 is after the 21:00 close.
        let now = jst(2026, 11, 21, 20, 50);
        let promised = now + Duration::minutes(30);
        assert_eq!(promised, jst(2026, 11, 21, 21, 20));
        let plan = plan(promised, now).expect("not in the past");
        assert_eq!(
            plan,
            CallbackPlan { promised_at: promised, due_at: jst(2026, 11, 22, 9, 0), moved: true }
        );
    }

    #[test]
    fn a_promise_inside_the_window_is_kept() {
        let promised = jst(2026, 11, 21, 10, 0);
        let plan = plan(promised, jst(2026, 11, 21, 9, 30)).expect("valid");
        assert_eq!(plan, CallbackPlan { promised_at: promised, due_at: promised, moved: false });
    }

    #[test]
    fn a_promise_at_closing_time_moves_to_the_next_morning() {
        let plan = plan(jst(2026, 11, 21, 21, 0), jst(2026, 11, 21, 20, 30)).expect("valid");
        assert_eq!(plan.due_at, jst(2026, 11, 22, 9, 0));
        assert!(plan.moved);
        let last_minute = plan_callback(
            &ServiceSchedule::jma_default(),
            jst(2026, 11, 21, 20, 59),
            jst(2026, 11, 21, 20, 30),
            Duration::zero(),
        )
        .expect("valid");
        assert!(!last_minute.moved);
    }

    #[test]
    fn a_promise_before_opening_moves_to_the_same_mornings_opening() {
        let early = plan(jst(2026, 11, 22, 8, 0), jst(2026, 11, 21, 20, 55)).expect("valid");
        assert_eq!(early.due_at, jst(2026, 11, 22, 9, 0));
        assert!(early.moved);
        let at_opening = plan(jst(2026, 11, 22, 9, 0), jst(2026, 11, 21, 20, 55)).expect("valid");
        assert!(!at_opening.moved);
    }

    #[test]
    fn the_hotline_is_open_on_holidays_so_promises_are_kept_then() {
        // 2026-11-23 is 勤労感謝の日; the hotline, unlike a police desk, works.
        let promised = jst(2026, 11, 23, 12, 0);
        let plan = plan(promised, jst(2026, 11, 23, 11, 0)).expect("valid");
        assert!(!plan.moved);
    }

    #[test]
    fn a_promise_in_the_past_is_refused_beyond_the_skew() {
        let now = jst(2026, 11, 21, 15, 0);
        let error = plan(now - Duration::minutes(6), now).expect_err("past");
        assert_eq!(error.field, "due_at");
        assert!(error.detail.contains("past"), "{}", error.detail);
        // Within the allowed clock skew, and exactly at it, a promise is accepted.
        assert!(plan(now - Duration::minutes(5), now).is_ok());
        assert!(plan(now - Duration::minutes(1), now).is_ok());
        assert!(plan(now, now).is_ok());
    }

    #[test]
    fn a_callback_follows_the_window_in_force_on_its_date() {
        // Opening moved to 06:00 on 2023-06-01, as the real line did.
        let window = |from, open| crate::schedule::ServiceWindow {
            effective_from: from,
            open: chrono::NaiveTime::from_hms_opt(open, 0, 0).expect("time"),
            close: chrono::NaiveTime::from_hms_opt(21, 0, 0).expect("time"),
        };
        let schedule = ServiceSchedule::new(
            Tokyo,
            vec![window(None, 9), window(chrono::NaiveDate::from_ymd_opt(2023, 6, 1), 6)],
        )
        .expect("valid schedule");
        let now = jst(2026, 11, 21, 20, 50);
        let plan = plan_callback(&schedule, jst(2026, 11, 21, 21, 20), now, Duration::zero()).expect("valid");
        assert_eq!(plan.due_at, jst(2026, 11, 22, 6, 0));
    }
}

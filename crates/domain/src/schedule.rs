//! The service window: the hours the hotline answers, every day including holidays. Windows change over
//! time (the real line moved its opening to 06:00 on 2023-06-01), so a schedule is a list of windows with
//! the local date from which each is in force, and a call is judged by the window in force on its date.

use chrono::{DateTime, Days, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// Daily opening hours as a half-open interval [open, close) in the schedule's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceWindow {
    /// First local date on which these hours apply; `None` means "since the beginning".
    pub effective_from: Option<NaiveDate>,
    /// Opening time; a call starting at this time is accepted.
    pub open: NaiveTime,
    /// Closing time; a call starting at this time is refused.
    pub close: NaiveTime,
}

/// Why a configured schedule cannot be used; reported at start-up, never at call time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// No window at all.
    #[error("the service schedule needs at least one window")]
    Empty,
    /// Open must come before close on the same day.
    #[error("window effective from {effective_from:?}: open {open} must be before close {close}")]
    OpenNotBeforeClose {
        /// The offending window's start date.
        effective_from: Option<NaiveDate>,
        /// Its opening time.
        open: NaiveTime,
        /// Its closing time.
        close: NaiveTime,
    },
    /// Two windows claim the same start date.
    #[error("two windows are effective from the same date {0:?}")]
    DuplicateEffectiveFrom(Option<NaiveDate>),
}

/// A call or promise that falls outside the window in force, with what a caller needs to hear next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutsideWindow {
    /// The instant that was judged.
    pub at: DateTime<Utc>,
    /// The window in force on that local date.
    pub window: ServiceWindow,
    /// When the hotline opens next after `at`.
    pub next_open: DateTime<Utc>,
}

/// Whether the hotline is open at an instant, and the next transitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotlineStatus {
    /// True inside [open, close) of today's window.
    pub open: bool,
    /// The window in force today (local date of `now`).
    pub window: ServiceWindow,
    /// Next opening strictly after now.
    pub next_open: DateTime<Utc>,
    /// Next closing strictly after now.
    pub next_close: DateTime<Utc>,
}

/// A validated list of windows in one time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSchedule {
    time_zone: Tz,
    /// Sorted by effective date, the undated window (if any) first.
    windows: Vec<ServiceWindow>,
}

impl ServiceSchedule {
    /// Validates and sorts the windows.
    pub fn new(time_zone: Tz, mut windows: Vec<ServiceWindow>) -> Result<Self, ScheduleError> {
        if windows.is_empty() {
            return Err(ScheduleError::Empty);
        }
        for window in &windows {
            if window.open >= window.close {
                return Err(ScheduleError::OpenNotBeforeClose {
                    effective_from: window.effective_from,
                    open: window.open,
                    close: window.close,
                });
            }
        }
        windows.sort_by_key(|window| window.effective_from);
        if let Some(pair) = windows.windows(2).find(|pair| pair[0].effective_from == pair[1].effective_from) {
            return Err(ScheduleError::DuplicateEffectiveFrom(pair[0].effective_from));
        }
        Ok(Self { time_zone, windows })
    }

    /// The hotline's own schedule before configuration: 09:00–21:00 Asia/Tokyo every day.
    pub fn jma_default() -> Self {
        let window = ServiceWindow {
            effective_from: None,
            open: NaiveTime::from_hms_opt(9, 0, 0).unwrap_or(NaiveTime::MIN),
            close: NaiveTime::from_hms_opt(21, 0, 0).unwrap_or(NaiveTime::MIN),
        };
        Self { time_zone: chrono_tz::Asia::Tokyo, windows: vec![window] }
    }

    /// The zone windows are written in; also the zone responses are shown in.
    pub fn time_zone(&self) -> Tz {
        self.time_zone
    }

    /// All windows, oldest first.
    pub fn windows(&self) -> &[ServiceWindow] {
        &self.windows
    }

    /// The window in force on a local date: the latest one that started on or before it. Dates before
    /// every effective date use the earliest window, so old calls are still judged by some hours.
    pub fn window_on(&self, date: NaiveDate) -> ServiceWindow {
        self.windows
            .iter()
            .rev()
            .find(|window| window.effective_from.is_none_or(|from| from <= date))
            .or_else(|| self.windows.first())
            .copied()
            .unwrap_or(ServiceSchedule::jma_default().windows[0])
    }

    /// The local calendar date of an instant.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.time_zone).date_naive()
    }

    /// True when `at` lies in [open, close) of the window in force on its local date.
    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&self.time_zone);
        let window = self.window_on(local.date_naive());
        let date = local.date_naive();
        self.instant(date, window.open) <= at && at < self.instant(date, window.close)
    }

    /// Accepts an instant inside the window, or says which window refused it and when it opens next.
    pub fn check(&self, at: DateTime<Utc>) -> Result<(), OutsideWindow> {
        if self.is_open(at) {
            Ok(())
        } else {
            Err(OutsideWindow {
                at,
                window: self.window_on(self.local_date(at)),
                next_open: self.next_open_after(at),
            })
        }
    }

    /// The first opening strictly after `at`.
    pub fn next_open_after(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        let mut date = self.local_date(at);
        // Today's opening if still ahead, else tomorrow's; a third day only guards odd zone transitions.
        for _ in 0..3 {
            let opening = self.instant(date, self.window_on(date).open);
            if opening > at {
                return opening;
            }
            date = date.checked_add_days(Days::new(1)).unwrap_or(date);
        }
        at
    }

    /// The first closing strictly after `at`.
    pub fn next_close_after(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        let mut date = self.local_date(at);
        for _ in 0..3 {
            let closing = self.instant(date, self.window_on(date).close);
            if closing > at {
                return closing;
            }
            date = date.checked_add_days(Days::new(1)).unwrap_or(date);
        }
        at
    }

    /// `at` itself when the hotline is open then, otherwise the next opening: where a promise to call
    /// back outside the hours has to move.
    pub fn next_open_at_or_after(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        if self.is_open(at) { at } else { self.next_open_after(at) }
    }

    /// Open or closed now, today's window and the next transitions.
    pub fn status(&self, now: DateTime<Utc>) -> HotlineStatus {
        HotlineStatus {
            open: self.is_open(now),
            window: self.window_on(self.local_date(now)),
            next_open: self.next_open_after(now),
            next_close: self.next_close_after(now),
        }
    }

    /// The UTC instant of a local wall-clock time. A time that occurs twice (DST fall-back) takes the
    /// earlier; a time skipped by a DST jump takes the first valid instant after it (the transition).
    fn instant(&self, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        let naive = NaiveDateTime::new(date, time);
        match self.time_zone.from_local_datetime(&naive) {
            LocalResult::Single(local) | LocalResult::Ambiguous(local, _) => local.with_timezone(&Utc),
            LocalResult::None => {
                // Zone transitions fall on whole minutes: walk forward from the skipped minute one
                // minute at a time, so the result is the end of the gap, not some later quarter hour.
                let minute = naive.with_second(0).and_then(|n| n.with_nanosecond(0)).unwrap_or(naive);
                for step in 1..=(24 * 60) {
                    let probe = minute + chrono::Duration::minutes(step);
                    if let Some(local) = self.time_zone.from_local_datetime(&probe).earliest() {
                        return local.with_timezone(&Utc);
                    }
                }
                Utc.from_utc_datetime(&naive)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono_tz::Asia::Tokyo;
    use chrono_tz::Europe::Berlin;

    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
    }

    fn time(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("a valid time")
    }

    /// An instant given as Tokyo wall-clock time.
    fn jst(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Tokyo.with_ymd_and_hms(y, mo, d, h, mi, s).single().expect("Tokyo has no DST").with_timezone(&Utc)
    }

    fn utc(rfc3339: &str) -> DateTime<Utc> {
        rfc3339.parse().expect("an RFC 3339 instant")
    }

    fn window(effective_from: Option<NaiveDate>, open: NaiveTime, close: NaiveTime) -> ServiceWindow {
        ServiceWindow { effective_from, open, close }
    }

    /// 09:00–21:00 until 2023-05-31, 06:00–21:00 from 2023-06-01, like the real line.
    fn moved_opening() -> ServiceSchedule {
        ServiceSchedule::new(
            Tokyo,
            vec![
                window(Some(date(2023, 6, 1)), time(6, 0), time(21, 0)),
                window(None, time(9, 0), time(21, 0)),
            ],
        )
        .expect("a valid schedule")
    }

    #[test]
    fn default_schedule_is_09_to_21_tokyo_every_day() {
        let schedule = ServiceSchedule::jma_default();
        assert_eq!(schedule.time_zone(), Tokyo);
        assert_eq!(schedule.windows(), &[window(None, time(9, 0), time(21, 0))]);
    }

    #[test]
    fn call_at_08_59_59_jst_is_refused_with_next_opening_at_09_00_the_same_day() {
        let at = jst(2026, 11, 21, 8, 59, 59);
        let refusal = ServiceSchedule::jma_default().check(at).expect_err("closed before 09:00");
        assert_eq!(refusal.at, at);
        assert_eq!(refusal.window, window(None, time(9, 0), time(21, 0)));
        assert_eq!(refusal.next_open, jst(2026, 11, 21, 9, 0, 0));
    }

    #[test]
    fn call_at_09_00_00_jst_is_accepted() {
        assert_eq!(ServiceSchedule::jma_default().check(jst(2026, 11, 21, 9, 0, 0)), Ok(()));
    }

    #[test]
    fn call_at_20_59_59_jst_is_accepted() {
        assert_eq!(ServiceSchedule::jma_default().check(jst(2026, 11, 21, 20, 59, 59)), Ok(()));
    }

    #[test]
    fn call_at_21_00_jst_is_refused_with_next_opening_at_09_00_the_next_day() {
        let at = jst(2026, 11, 21, 21, 0, 0);
        let refusal = ServiceSchedule::jma_default().check(at).expect_err("closed from 21:00");
        assert_eq!(refusal.next_open, jst(2026, 11, 22, 9, 0, 0));
        assert_eq!(refusal.window.close, time(21, 0));
    }

    #[test]
    fn call_just_before_midnight_and_just_after_is_refused_with_the_same_next_opening() {
        let schedule = ServiceSchedule::jma_default();
        let late = schedule.check(jst(2026, 12, 31, 23, 59, 59)).expect_err("closed at night");
        let early = schedule.check(jst(2027, 1, 1, 0, 0, 0)).expect_err("closed at night");
        assert_eq!(late.next_open, jst(2027, 1, 1, 9, 0, 0));
        assert_eq!(early.next_open, jst(2027, 1, 1, 9, 0, 0));
    }

    #[test]
    fn call_at_06_30_jst_on_2023_05_31_is_refused_before_the_earlier_opening_took_effect() {
        let refusal = moved_opening().check(jst(2023, 5, 31, 6, 30, 0)).expect_err("old hours still apply");
        assert_eq!(refusal.window.open, time(9, 0));
        assert_eq!(refusal.next_open, jst(2023, 5, 31, 9, 0, 0));
    }

    #[test]
    fn call_at_06_30_jst_on_2023_06_01_is_accepted_under_the_new_opening() {
        assert_eq!(moved_opening().check(jst(2023, 6, 1, 6, 30, 0)), Ok(()));
        assert_eq!(moved_opening().check(jst(2023, 6, 1, 6, 0, 0)), Ok(()));
        assert!(moved_opening().check(jst(2023, 6, 1, 5, 59, 59)).is_err());
    }

    #[test]
    fn call_on_2023_05_31_is_still_judged_by_the_old_hours() {
        let schedule = moved_opening();
        assert_eq!(schedule.window_on(date(2023, 5, 31)), window(None, time(9, 0), time(21, 0)));
        assert!(!schedule.is_open(jst(2023, 5, 31, 8, 59, 59)));
        assert!(schedule.is_open(jst(2023, 5, 31, 9, 0, 0)));
        assert!(!schedule.is_open(jst(2023, 5, 31, 21, 0, 0)));
        assert_eq!(schedule.window_on(date(2023, 6, 1)).open, time(6, 0));
        assert_eq!(schedule.window_on(date(2030, 1, 1)).open, time(6, 0));
    }

    #[test]
    fn closing_on_the_eve_of_a_change_reopens_at_the_new_hour() {
        let refusal = moved_opening().check(jst(2023, 5, 31, 21, 30, 0)).expect_err("closed at night");
        assert_eq!(refusal.next_open, jst(2023, 6, 1, 6, 0, 0));
    }

    #[test]
    fn utc_evening_before_is_early_morning_jst_and_refused_until_09_00_jst() {
        let at = utc("2026-11-20T23:30:00Z");
        let schedule = ServiceSchedule::jma_default();
        assert_eq!(schedule.local_date(at), date(2026, 11, 21));
        let refusal = schedule.check(at).expect_err("08:30 JST is closed");
        assert_eq!(refusal.next_open, jst(2026, 11, 21, 9, 0, 0));
        assert_eq!(refusal.next_open, utc("2026-11-21T00:00:00Z"));
    }

    #[test]
    fn utc_noon_minus_one_second_is_20_59_59_jst_and_open() {
        assert!(ServiceSchedule::jma_default().is_open(utc("2026-11-21T11:59:59Z")));
        assert!(!ServiceSchedule::jma_default().is_open(utc("2026-11-21T12:00:00Z")));
    }

    #[test]
    fn utc_midnight_is_09_00_jst_and_open() {
        assert!(ServiceSchedule::jma_default().is_open(utc("2026-11-21T00:00:00Z")));
        assert!(!ServiceSchedule::jma_default().is_open(utc("2026-11-20T23:59:59Z")));
    }

    #[test]
    fn status_while_open_names_todays_closing_and_tomorrows_opening() {
        let status = ServiceSchedule::jma_default().status(jst(2026, 11, 21, 10, 0, 0));
        assert!(status.open);
        assert_eq!(status.window, window(None, time(9, 0), time(21, 0)));
        assert_eq!(status.next_close, jst(2026, 11, 21, 21, 0, 0));
        assert_eq!(status.next_open, jst(2026, 11, 22, 9, 0, 0));
    }

    #[test]
    fn status_while_closed_in_the_evening_names_tomorrows_opening_and_closing() {
        let status = ServiceSchedule::jma_default().status(jst(2026, 11, 21, 22, 0, 0));
        assert!(!status.open);
        assert_eq!(status.next_open, jst(2026, 11, 22, 9, 0, 0));
        assert_eq!(status.next_close, jst(2026, 11, 22, 21, 0, 0));
    }

    #[test]
    fn status_while_closed_in_the_morning_names_todays_opening_and_closing() {
        let status = ServiceSchedule::jma_default().status(jst(2026, 11, 21, 8, 0, 0));
        assert!(!status.open);
        assert_eq!(status.next_open, jst(2026, 11, 21, 9, 0, 0));
        assert_eq!(status.next_close, jst(2026, 11, 21, 21, 0, 0));
    }

    #[test]
    fn status_at_the_exact_opening_is_open_with_next_opening_tomorrow() {
        let status = ServiceSchedule::jma_default().status(jst(2026, 11, 21, 9, 0, 0));
        assert!(status.open);
        assert_eq!(status.next_open, jst(2026, 11, 22, 9, 0, 0));
        assert_eq!(status.next_close, jst(2026, 11, 21, 21, 0, 0));
    }

    #[test]
    fn callback_promised_for_21_20_jst_moves_to_09_00_the_next_day() {
        let schedule = ServiceSchedule::jma_default();
        assert_eq!(schedule.next_open_at_or_after(jst(2026, 11, 21, 21, 20, 0)), jst(2026, 11, 22, 9, 0, 0));
    }

    #[test]
    fn callback_promised_for_10_00_jst_stays_where_it_is() {
        let schedule = ServiceSchedule::jma_default();
        let at = jst(2026, 11, 21, 10, 0, 0);
        assert_eq!(schedule.next_open_at_or_after(at), at);
        let opening = jst(2026, 11, 21, 9, 0, 0);
        assert_eq!(schedule.next_open_at_or_after(opening), opening);
    }

    #[test]
    fn schedule_without_windows_is_refused() {
        assert_eq!(ServiceSchedule::new(Tokyo, vec![]), Err(ScheduleError::Empty));
    }

    #[test]
    fn window_that_opens_at_or_after_its_closing_is_refused() {
        for (open, close) in [(time(21, 0), time(9, 0)), (time(9, 0), time(9, 0))] {
            let from = Some(date(2024, 1, 1));
            let error =
                ServiceSchedule::new(Tokyo, vec![window(from, open, close)]).expect_err("open >= close");
            assert_eq!(error, ScheduleError::OpenNotBeforeClose { effective_from: from, open, close });
        }
        let error =
            ServiceSchedule::new(Tokyo, vec![window(None, time(21, 0), time(9, 0))]).expect_err("overnight");
        assert!(error.to_string().contains("open 21:00:00 must be before close 09:00:00"), "{error}");
    }

    #[test]
    fn two_windows_with_the_same_effective_date_are_refused() {
        let from = Some(date(2023, 6, 1));
        let windows = vec![
            window(from, time(6, 0), time(21, 0)),
            window(None, time(9, 0), time(21, 0)),
            window(from, time(7, 0), time(21, 0)),
        ];
        assert_eq!(ServiceSchedule::new(Tokyo, windows), Err(ScheduleError::DuplicateEffectiveFrom(from)));
        let undated = vec![window(None, time(9, 0), time(21, 0)), window(None, time(6, 0), time(21, 0))];
        assert_eq!(ServiceSchedule::new(Tokyo, undated), Err(ScheduleError::DuplicateEffectiveFrom(None)));
        assert!(!ScheduleError::Empty.to_string().is_empty());
    }

    #[test]
    fn windows_are_sorted_oldest_first_with_the_undated_one_first() {
        let schedule = ServiceSchedule::new(
            Tokyo,
            vec![
                window(Some(date(2024, 4, 1)), time(7, 0), time(22, 0)),
                window(Some(date(2023, 6, 1)), time(6, 0), time(21, 0)),
                window(None, time(9, 0), time(21, 0)),
            ],
        )
        .expect("valid");
        let starts: Vec<_> = schedule.windows().iter().map(|w| w.effective_from).collect();
        assert_eq!(starts, vec![None, Some(date(2023, 6, 1)), Some(date(2024, 4, 1))]);
        assert_eq!(schedule.window_on(date(2024, 3, 31)).open, time(6, 0));
        assert_eq!(schedule.window_on(date(2024, 4, 1)).open, time(7, 0));
    }

    #[test]
    fn window_on_a_date_before_every_effective_date_uses_the_earliest() {
        let schedule = ServiceSchedule::new(
            Tokyo,
            vec![
                window(Some(date(2024, 1, 1)), time(7, 0), time(22, 0)),
                window(Some(date(2023, 6, 1)), time(6, 0), time(21, 0)),
            ],
        )
        .expect("valid");
        assert_eq!(
            schedule.window_on(date(2020, 1, 1)),
            window(Some(date(2023, 6, 1)), time(6, 0), time(21, 0))
        );
        assert!(schedule.is_open(jst(2020, 1, 1, 6, 30, 0)));
        assert_eq!(schedule.window_on(date(2023, 12, 31)).open, time(6, 0));
        assert_eq!(schedule.window_on(date(2024, 1, 1)).open, time(7, 0));
    }

    #[test]
    fn local_date_follows_the_schedule_time_zone() {
        let schedule = ServiceSchedule::jma_default();
        assert_eq!(schedule.local_date(utc("2026-12-31T14:59:59Z")), date(2026, 12, 31));
        assert_eq!(schedule.local_date(utc("2026-12-31T15:00:00Z")), date(2027, 1, 1));
    }

    fn berlin(open: NaiveTime) -> ServiceSchedule {
        ServiceSchedule::new(Berlin, vec![window(None, open, time(20, 0))]).expect("valid")
    }

    #[test]
    fn opening_skipped_by_spring_forward_moves_to_the_end_of_the_gap() {
        // 2026-03-29 in Berlin: 02:00 CET jumps to 03:00 CEST (01:00 UTC); 02:30 never happens.
        let schedule = berlin(time(2, 30));
        let status = schedule.status(utc("2026-03-29T00:30:00Z"));
        assert!(!status.open);
        assert_eq!(status.next_open, utc("2026-03-29T01:00:00Z"));
        assert_eq!(status.next_close, utc("2026-03-29T18:00:00Z"));
        assert!(!schedule.is_open(utc("2026-03-29T00:59:59Z")));
        assert!(schedule.is_open(utc("2026-03-29T01:00:00Z")));
        assert_eq!(
            schedule.check(utc("2026-03-29T00:59:59Z")).expect_err("closed").next_open,
            utc("2026-03-29T01:00:00Z")
        );
    }

    #[test]
    fn opening_skipped_off_the_quarter_hour_still_moves_to_the_end_of_the_gap() {
        let schedule = berlin(time(2, 10));
        assert_eq!(schedule.next_open_after(utc("2026-03-28T22:00:00Z")), utc("2026-03-29T01:00:00Z"));
    }

    #[test]
    fn opening_repeated_by_fall_back_takes_the_earlier_instant() {
        // 2026-10-25 in Berlin: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice.
        let schedule = berlin(time(2, 30));
        assert_eq!(schedule.next_open_after(utc("2026-10-24T22:00:00Z")), utc("2026-10-25T00:30:00Z"));
        assert!(schedule.is_open(utc("2026-10-25T01:30:00Z")));
        assert_eq!(schedule.next_close_after(utc("2026-10-25T01:30:00Z")), utc("2026-10-25T19:00:00Z"));
    }

    /// Walks `hours` hours from `start` in quarter hours and checks that every answer is consistent.
    fn assert_consistent(schedule: &ServiceSchedule, start: DateTime<Utc>, hours: i64) {
        for quarter in 0..hours * 4 {
            let at = start + chrono::Duration::minutes(quarter * 15);
            let status = schedule.status(at);
            assert!(status.next_open > at, "next opening after {at}");
            assert!(status.next_close > at, "next closing after {at}");
            assert_eq!(status.open, status.next_close < status.next_open, "order of transitions at {at}");
            assert_eq!(schedule.check(at).is_ok(), status.open, "check agrees with status at {at}");
            assert!(schedule.is_open(schedule.next_open_at_or_after(at)), "a callback slot is open at {at}");
            assert!(schedule.next_open_at_or_after(at) >= at);
            assert!(schedule.is_open(status.next_open), "next opening is open at {at}");
            assert!(!schedule.is_open(status.next_close), "next closing is closed at {at}");
        }
    }

    #[test]
    fn a_year_of_tokyo_quarter_hours_is_consistent() {
        assert_consistent(&moved_opening(), utc("2023-01-01T00:00:00Z"), 24 * 366);
    }

    #[test]
    fn berlin_around_both_dst_changes_is_consistent_and_never_panics() {
        for open in [time(0, 0), time(2, 0), time(2, 30), time(3, 0), time(9, 0)] {
            let schedule = ServiceSchedule::new(
                Berlin,
                vec![window(None, open, time(20, 0)), window(Some(date(2026, 3, 29)), open, time(23, 30))],
            )
            .expect("valid");
            assert_consistent(&schedule, utc("2026-03-26T00:00:00Z"), 24 * 7);
            assert_consistent(&schedule, utc("2026-10-22T00:00:00Z"), 24 * 7);
        }
    }
}

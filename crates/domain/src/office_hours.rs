//! Office hours of referral partners, police cyber desks above all: typically weekdays 08:30–17:15
//! Asia/Tokyo, closed on national holidays and over the New Year (12/29–1/3, the government's closure).
//! A handoff made after hours must say when the desk opens next, and give the urgent fallback.

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

use crate::holidays::holiday_on;

/// When a partner answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeHours {
    /// Zone of the times below.
    pub time_zone: Tz,
    /// Opening time on an open day.
    pub open: NaiveTime,
    /// Closing time, exclusive.
    pub close: NaiveTime,
    /// Days of the week the office opens.
    pub days: Vec<Weekday>,
    /// Closed on national holidays.
    pub closed_on_holidays: bool,
    /// Closed from 29 December to 3 January.
    pub closed_over_new_year: bool,
}

impl OfficeHours {
    /// Weekdays 08:30–17:15 Asia/Tokyo, closed on holidays and over the New Year: the usual police
    /// desk hours (configurable per partner).
    pub fn police_default() -> Self {
        Self {
            time_zone: chrono_tz::Asia::Tokyo,
            open: NaiveTime::from_hms_opt(8, 30, 0).unwrap_or(NaiveTime::MIN),
            close: NaiveTime::from_hms_opt(17, 15, 0).unwrap_or(NaiveTime::MIN),
            days: vec![Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri],
            closed_on_holidays: true,
            closed_over_new_year: true,
        }
    }

    /// Whether the office opens at all on a local date, and if not, why (for the message). A holiday is
    /// named even when it falls on a closed weekday, since that is what a caller recognises.
    pub fn closed_reason(&self, date: NaiveDate) -> Option<String> {
        if let Some(holiday) = holiday_on(date).filter(|_| self.closed_on_holidays) {
            return Some(format!("closed for {} ({})", holiday.name_ja, holiday.name_en));
        }
        let new_year = (date.month() == 12 && date.day() >= 29) || (date.month() == 1 && date.day() <= 3);
        if self.closed_over_new_year && new_year {
            return Some("closed for the New Year holidays (12/29–1/3)".to_owned());
        }
        if !self.days.contains(&date.weekday()) {
            return Some(format!("closed on {}", date.weekday()));
        }
        None
    }

    /// True inside opening hours on an open day.
    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&self.time_zone);
        let date = local.date_naive();
        self.closed_reason(date).is_none()
            && self.local(date, self.open) <= at
            && at < self.local(date, self.close)
    }

    /// The next opening strictly after `at`, looking at most 60 days ahead.
    pub fn next_open_after(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut date = at.with_timezone(&self.time_zone).date_naive();
        for _ in 0..60 {
            if self.closed_reason(date).is_none() {
                let opening = self.local(date, self.open);
                if opening > at {
                    return Some(opening);
                }
            }
            date = date.checked_add_days(Days::new(1))?;
        }
        None
    }

    fn local(&self, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        let naive = date.and_time(time);
        self.time_zone
            .from_local_datetime(&naive)
            .earliest()
            .map_or_else(|| Utc.from_utc_datetime(&naive), |local| local.with_timezone(&Utc))
    }
}

/// A partner's own office hours, as far as they differ from the defaults of its kind: each member
/// left out takes the default in force when the hours are read (so a changed default reaches every
/// partner that did not set its own).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficeHoursOverride {
    /// Zone of the times.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "zone_name")]
    pub time_zone: Option<Tz>,
    /// Opening time.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "hh_mm")]
    pub open: Option<NaiveTime>,
    /// Closing time.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "hh_mm")]
    pub close: Option<NaiveTime>,
    /// Days of the week the office opens.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "day_names")]
    pub days: Option<Vec<Weekday>>,
    /// Closed on national holidays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_on_holidays: Option<bool>,
    /// Closed over the New Year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_over_new_year: Option<bool>,
}

/// The short day names used on the wire and in storage, Monday first.
pub const DAY_NAMES: [(Weekday, &str); 7] = [
    (Weekday::Mon, "mon"),
    (Weekday::Tue, "tue"),
    (Weekday::Wed, "wed"),
    (Weekday::Thu, "thu"),
    (Weekday::Fri, "fri"),
    (Weekday::Sat, "sat"),
    (Weekday::Sun, "sun"),
];

/// The short name of a day (`mon`).
pub fn day_name(day: Weekday) -> &'static str {
    DAY_NAMES.iter().find(|(d, _)| *d == day).map_or("mon", |(_, name)| name)
}

/// The day of a short name, if it is one.
pub fn parse_day(name: &str) -> Option<Weekday> {
    DAY_NAMES.iter().find(|(_, n)| *n == name).map(|(day, _)| *day)
}

impl OfficeHoursOverride {
    /// The hours these overrides give on top of `defaults`.
    pub fn apply(&self, defaults: &OfficeHours) -> OfficeHours {
        OfficeHours {
            time_zone: self.time_zone.unwrap_or(defaults.time_zone),
            open: self.open.unwrap_or(defaults.open),
            close: self.close.unwrap_or(defaults.close),
            days: self.days.clone().unwrap_or_else(|| defaults.days.clone()),
            closed_on_holidays: self.closed_on_holidays.unwrap_or(defaults.closed_on_holidays),
            closed_over_new_year: self.closed_over_new_year.unwrap_or(defaults.closed_over_new_year),
        }
    }

    /// Checks that the hours make sense on top of today's defaults: the office opens before it closes.
    pub fn check(&self, defaults: &OfficeHours) -> Result<OfficeHours, crate::FieldError> {
        let hours = self.apply(defaults);
        if hours.open >= hours.close {
            return Err(crate::FieldError::new("office_hours", "office_hours.open must be before close"));
        }
        Ok(hours)
    }
}

mod zone_name {
    use chrono_tz::Tz;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(zone: &Option<Tz>, serializer: S) -> Result<S::Ok, S::Error> {
        match zone {
            Some(zone) => serializer.serialize_str(zone.name()),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Tz>, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map(Some).map_err(|_| serde::de::Error::custom(format!("unknown time zone {name:?}")))
    }
}

mod hh_mm {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &Option<NaiveTime>, serializer: S) -> Result<S::Ok, S::Error> {
        match time {
            Some(time) => serializer.serialize_str(&time.format("%H:%M").to_string()),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<NaiveTime>, D::Error> {
        let text = String::deserialize(deserializer)?;
        NaiveTime::parse_from_str(&text, "%H:%M")
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("expected HH:MM, got {text:?}")))
    }
}

mod day_names {
    use chrono::Weekday;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(days: &Option<Vec<Weekday>>, serializer: S) -> Result<S::Ok, S::Error> {
        match days {
            Some(days) => serializer.collect_seq(days.iter().map(|day| super::day_name(*day))),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<Weekday>>, D::Error> {
        let names = Vec::<String>::deserialize(deserializer)?;
        names
            .iter()
            .map(|name| {
                super::parse_day(name).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "{name:?} is not a day: mon, tue, wed, thu, fri, sat, sun"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Timelike};
    use chrono_tz::Asia::Tokyo;

    use super::*;

    /// An instant given as Tokyo wall-clock time.
    fn jst(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Tokyo.with_ymd_and_hms(y, mo, d, h, mi, s).single().expect("Tokyo has no DST").with_timezone(&Utc)
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
    }

    fn desk() -> OfficeHours {
        OfficeHours::police_default()
    }

    #[test]
    fn an_override_keeps_the_defaults_it_does_not_name_and_round_trips_as_json() {
        let own: OfficeHoursOverride =
            serde_json::from_str(r#"{"open":"09:00","days":["mon","sat"]}"#).expect("override");
        let hours = own.apply(&desk());
        assert_eq!(hours.open, NaiveTime::from_hms_opt(9, 0, 0).expect("time"));
        assert_eq!(hours.close, desk().close);
        assert_eq!(hours.days, [Weekday::Mon, Weekday::Sat]);
        assert_eq!(serde_json::to_string(&own).expect("json"), r#"{"open":"09:00","days":["mon","sat"]}"#);
    }

    #[test]
    fn an_override_refuses_unknown_days_zones_and_members_and_closing_before_opening() {
        for bad in
            [r#"{"days":["monday"]}"#, r#"{"time_zone":"Mars/Base"}"#, r#"{"open":"9am"}"#, r#"{"x":1}"#]
        {
            assert!(serde_json::from_str::<OfficeHoursOverride>(bad).is_err(), "{bad}");
        }
        let late: OfficeHoursOverride = serde_json::from_str(r#"{"open":"18:00"}"#).expect("override");
        assert_eq!(late.check(&desk()).expect_err("closes first").field, "office_hours");
    }

    #[test]
    fn police_default_is_weekdays_0830_to_1715_tokyo() {
        let hours = desk();
        assert_eq!(hours.time_zone, Tokyo);
        assert_eq!(hours.open, NaiveTime::from_hms_opt(8, 30, 0).expect("time"));
        assert_eq!(hours.close, NaiveTime::from_hms_opt(17, 15, 0).expect("time"));
        assert_eq!(hours.days, [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri]);
        assert!(hours.closed_on_holidays && hours.closed_over_new_year);
    }

    #[test]
    fn open_inside_hours_on_a_plain_monday_only() {
        let hours = desk();
        // 2026-11-16 is a Monday without a holiday.
        assert!(hours.is_open(jst(2026, 11, 16, 10, 0, 0)));
        assert!(hours.is_open(jst(2026, 11, 16, 8, 30, 0)), "opening is inclusive");
        assert!(!hours.is_open(jst(2026, 11, 16, 8, 29, 59)));
        assert!(hours.is_open(jst(2026, 11, 16, 17, 14, 59)));
        assert!(!hours.is_open(jst(2026, 11, 16, 17, 15, 0)), "closing is exclusive");
        assert!(!hours.is_open(jst(2026, 11, 16, 23, 0, 0)));
    }

    #[test]
    fn closed_on_weekends_holidays_and_over_the_new_year() {
        let hours = desk();
        assert!(!hours.is_open(jst(2026, 11, 21, 10, 0, 0)), "Saturday");
        assert!(!hours.is_open(jst(2026, 11, 22, 10, 0, 0)), "Sunday");
        assert!(!hours.is_open(jst(2026, 11, 23, 10, 0, 0)), "勤労感謝の日");
        assert!(!hours.is_open(jst(2026, 9, 22, 10, 0, 0)), "国民の休日");
        assert!(!hours.is_open(jst(2026, 12, 29, 10, 0, 0)), "New Year closure");
        assert!(!hours.is_open(jst(2027, 1, 1, 10, 0, 0)), "元日");
        assert!(!hours.is_open(jst(2027, 1, 3, 10, 0, 0)), "Sunday in the New Year closure");
        assert!(hours.is_open(jst(2026, 12, 28, 10, 0, 0)), "last working day of the year");
        assert!(hours.is_open(jst(2027, 1, 4, 10, 0, 0)), "first working day of the year");
    }

    #[test]
    fn the_day_is_judged_in_tokyo_not_utc() {
        // Monday 2026-11-16 08:45 JST is still Sunday 23:45 in UTC.
        let at = jst(2026, 11, 16, 8, 45, 0);
        assert_eq!(at, "2026-11-15T23:45:00Z".parse::<DateTime<Utc>>().expect("instant"));
        assert!(desk().is_open(at));
        // Saturday 2026-11-21 01:00 JST is still Friday in UTC.
        assert!(!desk().is_open(jst(2026, 11, 21, 1, 0, 0)));
    }

    #[test]
    fn sunday_evening_before_a_monday_holiday_opens_on_tuesday() {
        // 2026-11-23 (Monday) is 勤労感謝の日, so the desk opens again on Tuesday.
        assert_eq!(desk().next_open_after(jst(2026, 11, 22, 20, 0, 0)), Some(jst(2026, 11, 24, 8, 30, 0)));
    }

    #[test]
    fn a_plain_sunday_evening_opens_on_monday() {
        assert_eq!(desk().next_open_after(jst(2026, 11, 29, 20, 0, 0)), Some(jst(2026, 11, 30, 8, 30, 0)));
    }

    #[test]
    fn friday_at_closing_time_opens_on_monday() {
        assert_eq!(desk().next_open_after(jst(2026, 11, 27, 17, 15, 0)), Some(jst(2026, 11, 30, 8, 30, 0)));
    }

    #[test]
    fn before_opening_on_a_weekday_opens_the_same_day() {
        assert_eq!(desk().next_open_after(jst(2026, 11, 16, 6, 0, 0)), Some(jst(2026, 11, 16, 8, 30, 0)));
        // The next opening is strictly after: at the opening instant it is the next day's.
        assert_eq!(desk().next_open_after(jst(2026, 11, 16, 8, 30, 0)), Some(jst(2026, 11, 17, 8, 30, 0)));
    }

    #[test]
    fn the_new_year_closure_opens_on_the_first_working_day() {
        // Monday 2026-12-28 after hours; 12/29–1/3 is the closure (with 元日 on Friday 1/1 and a weekend
        // on 1/2–1/3). 2027-01-04 is a Monday and not a holiday in the data (成人の日 is 1/11), so the desk
        // opens then.
        assert_eq!(holiday_on(date(2027, 1, 4)), None);
        assert_eq!(desk().next_open_after(jst(2026, 12, 28, 17, 30, 0)), Some(jst(2027, 1, 4, 8, 30, 0)));
    }

    #[test]
    fn closed_reason_names_the_holiday_or_the_closure() {
        let hours = desk();
        assert_eq!(hours.closed_reason(date(2026, 11, 16)), None);
        assert_eq!(
            hours.closed_reason(date(2026, 11, 23)).as_deref(),
            Some("closed for 勤労感謝の日 (Labor Thanksgiving Day)")
        );
        assert_eq!(
            hours.closed_reason(date(2026, 9, 22)).as_deref(),
            Some("closed for 休日 (Citizen's Holiday)")
        );
        assert_eq!(
            hours.closed_reason(date(2027, 1, 1)).as_deref(),
            Some("closed for 元日 (New Year's Day)")
        );
        assert_eq!(
            hours.closed_reason(date(2026, 12, 29)).as_deref(),
            Some("closed for the New Year holidays (12/29–1/3)")
        );
        // A holiday on a Sunday is still named; 1/2 is a Saturday inside the closure.
        assert_eq!(
            hours.closed_reason(date(2026, 5, 3)).as_deref(),
            Some("closed for 憲法記念日 (Constitution Memorial Day)")
        );
        assert_eq!(
            hours.closed_reason(date(2027, 1, 2)).as_deref(),
            Some("closed for the New Year holidays (12/29–1/3)")
        );
        assert_eq!(hours.closed_reason(date(2026, 11, 21)).as_deref(), Some("closed on Sat"));
        assert_eq!(hours.closed_reason(date(2026, 11, 22)).as_deref(), Some("closed on Sun"));
    }

    #[test]
    fn holiday_and_new_year_closures_are_configurable() {
        let hours = OfficeHours { closed_on_holidays: false, closed_over_new_year: false, ..desk() };
        assert!(hours.is_open(jst(2026, 11, 23, 10, 0, 0)));
        assert!(hours.is_open(jst(2026, 12, 29, 10, 0, 0)));
        assert!(!hours.is_open(jst(2026, 11, 22, 10, 0, 0)), "still closed on Sunday");
        assert_eq!(hours.next_open_after(jst(2026, 11, 22, 20, 0, 0)), Some(jst(2026, 11, 23, 8, 30, 0)));
    }

    #[test]
    fn an_office_that_never_opens_has_no_next_opening() {
        let hours = OfficeHours { days: Vec::new(), ..desk() };
        assert_eq!(hours.next_open_after(jst(2026, 11, 16, 10, 0, 0)), None);
        assert!(!hours.is_open(jst(2026, 11, 16, 10, 0, 0)));
    }

    /// Independent statement of the default desk's hours.
    fn expected_open(at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&Tokyo);
        let date = local.date_naive();
        let weekday = !matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
        let new_year = (date.month() == 12 && date.day() >= 29) || (date.month() == 1 && date.day() <= 3);
        let minutes = local.hour() * 60 + local.minute();
        weekday && holiday_on(date).is_none() && !new_year && (8 * 60 + 30..17 * 60 + 15).contains(&minutes)
    }

    /// Every 15 minutes over a span: is_open matches the expected hours, and next_open_after(t) is an
    /// opening (open, and closed a second before) with no other opening between t and it.
    fn sweep(from: DateTime<Utc>, days: i64) {
        let hours = desk();
        let step = Duration::minutes(15);
        let grid: Vec<DateTime<Utc>> = (0..days * 24 * 4).map(|i| from + step * i as i32).collect();
        for t in &grid {
            assert_eq!(hours.is_open(*t), expected_open(*t), "is_open at {}", t.with_timezone(&Tokyo));
            let next = hours.next_open_after(*t).expect("opens within 60 days");
            let shown = t.with_timezone(&Tokyo);
            assert!(next > *t, "{shown}");
            assert!(hours.is_open(next), "{shown}: next opening {next} is open");
            assert!(!hours.is_open(next - Duration::seconds(1)), "{shown}: {next} is an opening edge");
            let mut probe = *t + step;
            let mut was_open = hours.is_open(*t);
            while probe < next {
                let open = hours.is_open(probe);
                // Nothing opens between t and the next opening: a closed desk stays closed, an open one
                // at most closes.
                assert!(!open || was_open, "{shown}: opens at {} before {next}", probe.with_timezone(&Tokyo));
                was_open = open;
                probe += step;
            }
        }
    }

    #[test]
    fn is_open_and_next_open_after_agree_over_two_weeks_with_a_holiday() {
        // Monday 2026-11-16 to Sunday 2026-11-29, with 勤労感謝の日 on Monday 11-23.
        sweep(jst(2026, 11, 16, 0, 0, 0), 14);
    }

    #[test]
    fn is_open_and_next_open_after_agree_over_the_new_year() {
        sweep(jst(2026, 12, 24, 0, 0, 0), 14);
    }
}

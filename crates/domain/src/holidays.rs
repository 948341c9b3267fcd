//! Japanese national holidays (国民の祝日, with substitute and citizens' holidays), from the maintained
//! holiday_jp dataset shipped as data/jp-holidays.tsv and compiled in. Police desks and other offices
//! close on them, while the hotline itself does not. Regenerate with scripts/update-holidays.sh.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};

const DATA: &str = include_str!("../data/jp-holidays.tsv");

/// A holiday's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holiday {
    /// Japanese name, e.g. 勤労感謝の日.
    pub name_ja: &'static str,
    /// English name.
    pub name_en: &'static str,
}

fn table() -> &'static BTreeMap<NaiveDate, Holiday> {
    static TABLE: OnceLock<BTreeMap<NaiveDate, Holiday>> = OnceLock::new();
    TABLE.get_or_init(|| {
        DATA.lines()
            .filter(|line| !line.starts_with('#') && !line.starts_with("date\t"))
            .filter_map(|line| {
                let mut cells = line.split('\t');
                let date = NaiveDate::parse_from_str(cells.next()?, "%Y-%m-%d").ok()?;
                Some((date, Holiday { name_ja: cells.next()?, name_en: cells.next()? }))
            })
            .collect()
    })
}

/// The holiday on a date, if it is one.
pub fn holiday_on(date: NaiveDate) -> Option<Holiday> {
    table().get(&date).copied()
}

/// Years the data covers; outside them no day is known to be a holiday (a start-up check warns when
/// the current year nears the end).
pub fn covered_years() -> RangeInclusive<i32> {
    let table = table();
    let first = table.keys().next().map_or(0, Datelike::year);
    let last = table.keys().next_back().map_or(0, Datelike::year);
    first..=last
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
    }

    fn name(y: i32, m: u32, d: u32) -> Option<&'static str> {
        holiday_on(date(y, m, d)).map(|holiday| holiday.name_ja)
    }

    #[test]
    fn new_years_day_2026() {
        assert_eq!(
            holiday_on(date(2026, 1, 1)),
            Some(Holiday { name_ja: "元日", name_en: "New Year's Day" })
        );
    }

    #[test]
    fn substitute_holidays_are_included() {
        // 2026-05-03 憲法記念日 falls on a Sunday: the next free weekday, Wednesday 05-06, is off.
        assert_eq!(name(2026, 5, 6), Some("こどもの日 振替休日"));
        // 2025-11-23 勤労感謝の日 falls on a Sunday: Monday 11-24 is off.
        assert_eq!(name(2025, 11, 23), Some("勤労感謝の日"));
        assert_eq!(name(2025, 11, 24), Some("勤労感謝の日 振替休日"));
    }

    #[test]
    fn a_day_between_two_holidays_is_a_citizens_holiday() {
        // 2026-09-22 lies between 敬老の日 (09-21) and 秋分の日 (09-23): 国民の休日.
        assert_eq!(name(2026, 9, 21), Some("敬老の日"));
        assert_eq!(
            holiday_on(date(2026, 9, 22)),
            Some(Holiday { name_ja: "休日", name_en: "Citizen's Holiday" })
        );
        assert_eq!(name(2026, 9, 23), Some("秋分の日"));
    }

    #[test]
    fn the_enthronement_day_2019_is_a_holiday() {
        // 天皇の即位の日 (2019-05-01) was made a holiday by a one-off law; the holiday_jp dataset, like
        // the Cabinet Office's CSV, names it 休日（祝日扱い）, "a holiday treated as a national holiday".
        assert_eq!(name(2019, 5, 1), Some("休日（祝日扱い）"));
        assert_eq!(name(2019, 4, 30), Some("休日"));
        assert_eq!(name(2019, 5, 2), Some("休日"));
        assert_eq!(name(2019, 10, 22), Some("休日（祝日扱い）"));
    }

    #[test]
    fn ordinary_days_are_not_holidays() {
        for (y, m, d) in
            [(2026, 1, 2), (2026, 1, 5), (2026, 5, 7), (2026, 11, 24), (2026, 12, 29), (2027, 1, 4)]
        {
            assert_eq!(holiday_on(date(y, m, d)), None, "{y}-{m}-{d}");
        }
    }

    #[test]
    fn a_known_holiday_of_every_kind_in_2027() {
        assert_eq!(name(2027, 1, 11), Some("成人の日"));
        assert_eq!(name(2027, 3, 22), Some("春分の日 振替休日"));
        assert_eq!(name(2027, 11, 23), Some("勤労感謝の日"));
    }

    #[test]
    fn every_covered_year_has_a_plausible_number_of_holidays() {
        let years = covered_years();
        assert!(*years.start() <= 2024 && *years.end() >= 2050, "covered {years:?}");
        for year in years {
            let count = table().keys().filter(|date| date.year() == year).count();
            // 16 fixed or Monday holidays a year, 15 before 山の日 (2016), plus substitute and citizens'
            // holidays. 2019 had 22 (the enthronement added four days off, three in Golden Week) and
            // 2024 had 21 (four substitutes); a count outside 14..=22 means a broken data file.
            assert!((14..=22).contains(&count), "{year} has {count} holidays");
        }
        // The exceptional years the bound has to allow, so a shrunk data file is noticed too.
        assert_eq!(table().keys().filter(|date| date.year() == 2019).count(), 22);
        assert_eq!(table().keys().filter(|date| date.year() == 2024).count(), 21);
        assert_eq!(table().keys().filter(|date| date.year() == 2026).count(), 18);
    }

    #[test]
    fn every_data_line_is_read() {
        let data_lines: Vec<&str> =
            DATA.lines().filter(|line| !line.starts_with('#') && !line.starts_with("date\t")).collect();
        assert_eq!(data_lines.len(), table().len(), "a line was skipped or a date is listed twice");
        for line in data_lines {
            let cells: Vec<&str> = line.split('\t').collect();
            assert_eq!(cells.len(), 3, "{line:?}");
            assert!(cells.iter().all(|cell| !cell.trim().is_empty() && cell.trim() == *cell), "{line:?}");
        }
    }

    #[test]
    fn the_data_file_header_names_its_source_and_columns() {
        let header: Vec<&str> = DATA.lines().take_while(|line| line.starts_with('#')).collect();
        let header = header.join("\n");
        assert!(header.contains("holiday_jp"), "{header}");
        assert!(header.contains("@holiday-jp/holiday_jp@"), "{header}");
        assert!(header.contains("scripts/update-holidays.sh"), "{header}");
        assert!(DATA.lines().any(|line| line == "date\tname_ja\tname_en"));
    }
}

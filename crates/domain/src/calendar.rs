//! Swedish local time and the Swedish calendar.
//!
//! Deadlines and payment liability are counted in *local calendar days* in Europe/Stockholm, so
//! every conversion between an instant and a date goes through here. The time-zone database is
//! compiled in (jiff's `static` feature): no file is read at run time.

use jiff::civil::{Date, Weekday, date};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, ZonedDateTime};

pub static STOCKHOLM: TimeZone = jiff::tz::get!("Europe/Stockholm");

/// The local date in Sweden at an instant.
pub fn local_date(at: Timestamp) -> Date {
    at.to_zoned_datetime(STOCKHOLM.clone()).date()
}

pub fn local(at: Timestamp) -> ZonedDateTime {
    at.to_zoned_datetime(STOCKHOLM.clone())
}

/// The first instant of a local date (midnight, or the first existing time on a DST day).
pub fn start_of_day(d: Date) -> Timestamp {
    d.to_zoned_datetime(STOCKHOLM.clone()).expect("every Swedish date has a start").timestamp()
}

/// The instant the local date ends, i.e. the start of the next day. "By the day of discharge"
/// means strictly before this instant.
pub fn end_of_day(d: Date) -> Timestamp {
    start_of_day(d.tomorrow().expect("date in range"))
}

/// Calendar days from `a` to `b` (positive if `b` is later).
pub fn days_between(a: Date, b: Date) -> i64 {
    // Date spans in days are exact for civil dates (no DST involved).
    (b - a).get_days() as i64
}

/// Easter Sunday (anonymous Gregorian algorithm, Meeus/Jones/Butcher).
pub fn easter_sunday(year: i16) -> Date {
    let y = year as i32;
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    date(year, month as i8, day as i8)
}

/// The Saturday in the range [first, first + 6].
fn saturday_from(first: Date) -> Date {
    (0..7).map(|i| first + i.days()).find(|d| d.weekday() == Weekday::Saturday).expect("a week has a Saturday")
}

/// Swedish public holidays (allmänna helgdagar, lag 1989:253) that are not Sundays by
/// definition, plus the de facto holidays Midsommarafton, Julafton and Nyårsafton.
pub fn holiday_name(d: Date) -> Option<&'static str> {
    let y = d.year();
    let easter = easter_sunday(y);
    let midsommardagen = saturday_from(date(y, 6, 20));
    let fixed = [
        (date(y, 1, 1), "Nyårsdagen"),
        (date(y, 1, 6), "Trettondedag jul"),
        (easter - 2.days(), "Långfredagen"),
        (easter, "Påskdagen"),
        (easter + 1.days(), "Annandag påsk"),
        (date(y, 5, 1), "Första maj"),
        (easter + 39.days(), "Kristi himmelsfärdsdag"),
        (easter + 49.days(), "Pingstdagen"),
        (date(y, 6, 6), "Nationaldagen"),
        (midsommardagen - 1.day(), "Midsommarafton"),
        (midsommardagen, "Midsommardagen"),
        (saturday_from(date(y, 10, 31)), "Alla helgons dag"),
        (date(y, 12, 24), "Julafton"),
        (date(y, 12, 25), "Juldagen"),
        (date(y, 12, 26), "Annandag jul"),
        (date(y, 12, 31), "Nyårsafton"),
    ];
    fixed.iter().find(|(h, _)| *h == d).map(|(_, name)| *name)
}

/// A working day: Monday to Friday and not a public or de facto holiday.
pub fn is_working_day(d: Date) -> bool {
    !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday) && holiday_name(d).is_none()
}

/// The date `n` working days after `d` (n = 0 gives `d` itself).
pub fn add_working_days(d: Date, n: u32) -> Date {
    let mut cur = d;
    let mut left = n;
    while left > 0 {
        cur = cur.tomorrow().expect("date in range");
        if is_working_day(cur) {
            left -= 1;
        }
    }
    cur
}

/// Weekend or holiday: used by follow-up (discharges at weekends) and the directory.
pub fn is_weekend_or_holiday(d: Date) -> bool {
    !is_working_day(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::datetime;

    #[test]
    fn easter_dates_match_known_years() {
        assert_eq!(easter_sunday(2025), date(2025, 4, 20));
        assert_eq!(easter_sunday(2026), date(2026, 4, 5));
        assert_eq!(easter_sunday(2024), date(2024, 3, 31));
    }

    #[test]
    fn midsommar_and_all_saints() {
        assert_eq!(holiday_name(date(2026, 6, 20)), Some("Midsommardagen"));
        assert_eq!(holiday_name(date(2026, 6, 19)), Some("Midsommarafton"));
        assert_eq!(holiday_name(date(2026, 10, 31)), Some("Alla helgons dag"));
        assert_eq!(holiday_name(date(2026, 11, 2)), None);
    }

    #[test]
    fn the_day_ends_at_local_midnight_even_across_dst() {
        // 2026-03-29: clocks go from 02:00 to 03:00; the day is 23 hours long.
        let start = start_of_day(date(2026, 3, 29));
        let end = end_of_day(date(2026, 3, 29));
        assert_eq!((end - start).as_hours(), 23);
        // 2026-10-25: clocks go back; the day is 25 hours long.
        let len = end_of_day(date(2026, 10, 25)) - start_of_day(date(2026, 10, 25));
        assert_eq!(len.as_hours(), 25);
    }

    #[test]
    fn local_date_of_a_late_evening_instant() {
        let at = datetime(2026, 11, 23, 23, 59, 59, 0).to_zoned_datetime(STOCKHOLM.clone()).unwrap().timestamp();
        assert_eq!(local_date(at), date(2026, 11, 23));
        assert_eq!(local_date(at + 1.second()), date(2026, 11, 24));
    }

    #[test]
    fn working_days_skip_weekends_and_easter() {
        // Thursday before Easter 2026 (2 April) + 1 working day = Tuesday 7 April.
        assert_eq!(add_working_days(date(2026, 4, 2), 1), date(2026, 4, 7));
        assert_eq!(add_working_days(date(2026, 11, 20), 1), date(2026, 11, 23));
    }
}

//! Calendar helpers: days since 1970-01-01 (`Date32`) and local wall-clock milliseconds
//! (`Timestamp(ms, none)`).

use chrono::{Datelike, NaiveDate};

/// Days since the Unix epoch of a calendar date.
/// Days from 0001-01-01 (day 1 of the common era) to 1970-01-01.
const EPOCH_CE: i32 = 719_163;

pub fn day_number(year: i32, month: u32, day: u32) -> i32 {
    let d = NaiveDate::from_ymd_opt(year, month, day).expect("valid date");
    d.num_days_from_ce() - EPOCH_CE
}

/// Calendar date of a day number.
pub fn date_of(day: i32) -> (i32, u32, u32) {
    let d = NaiveDate::from_num_days_from_ce_opt(day + EPOCH_CE).expect("date in range");
    (d.year(), d.month(), d.day())
}

/// Number of days of a month.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    let (ny, nm) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    (day_number(ny, nm, 1) - day_number(year, month, 1)) as u32
}

/// Absolute month index (`year * 12 + month - 1`), convenient for "the month before".
pub fn month_abs(year: i32, month: u32) -> i32 {
    year * 12 + month as i32 - 1
}

/// `(year, month)` of an absolute month index.
pub fn from_abs(abs: i32) -> (i32, u32) {
    (abs.div_euclid(12), (abs.rem_euclid(12) + 1) as u32)
}

/// Day number of the first day of an absolute month.
pub fn first_day(abs: i32) -> i32 {
    let (y, m) = from_abs(abs);
    day_number(y, m, 1)
}

/// Days of an absolute month.
pub fn days_of(abs: i32) -> u32 {
    let (y, m) = from_abs(abs);
    days_in_month(y, m)
}

/// Milliseconds of a local wall-clock time: day number plus seconds of the day.
pub fn millis(day: i32, second_of_day: u32) -> i64 {
    (day as i64 * 86_400 + second_of_day as i64) * 1000
}

/// Number of days of a calendar quarter.
pub fn days_in_quarter(year: i32, quarter: u32) -> u32 {
    let m0 = (quarter - 1) * 3 + 1;
    (m0..m0 + 3).map(|m| days_in_month(year, m)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar() {
        assert_eq!(day_number(1970, 1, 1), 0);
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2025, 2), 28);
        assert_eq!(days_in_month(2025, 12), 31);
        assert_eq!(date_of(day_number(2025, 3, 31)), (2025, 3, 31));
        assert_eq!(date_of(day_number(1960, 2, 29)), (1960, 2, 29));
        assert_eq!(from_abs(month_abs(2025, 1) - 1), (2024, 12));
        assert_eq!(days_in_quarter(2025, 1), 90);
        assert_eq!(days_in_quarter(2025, 4), 92);
    }
}

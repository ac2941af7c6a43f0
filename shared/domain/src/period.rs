//! Settlement months, warning quarters and scoring years.
//!
//! A claim belongs to the month of its `settle_time`; quarters are calendar quarters (`2025Q1` =
//! months 1–3); the natural year is the calendar year (README conventions). These types spell
//! periods the way the CLI, the lake partitions and the reports do, and do the calendar
//! arithmetic (previous month across a year end, the month before a quarter, issue months) in one
//! place.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate, NaiveDateTime};

use crate::error::{DomainError, Result};

/// Years the engine accepts: four-digit years, so that every period spells as `YYYY…`.
const YEARS: std::ops::RangeInclusive<i32> = 1000..=9999;

fn check_year(year: i32, input: &str) -> Result<i32> {
    if YEARS.contains(&year) {
        Ok(year)
    } else {
        Err(DomainError::Period(format!(
            "{input:?}: year {year} is not a four-digit year"
        )))
    }
}

fn parse_year(text: &str, input: &str) -> Result<i32> {
    if text.len() != 4 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DomainError::Period(format!(
            "{input:?}: expected a four-digit year, found {text:?}"
        )));
    }
    let year = text
        .parse()
        .map_err(|_| DomainError::Period(format!("{input:?}: bad year")))?;
    check_year(year, input)
}

fn parse_number(
    text: &str,
    input: &str,
    what: &str,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32> {
    let value: Option<u32> =
        if !text.is_empty() && text.len() <= 2 && text.bytes().all(|b| b.is_ascii_digit()) {
            text.parse().ok()
        } else {
            None
        };
    match value {
        Some(v) if range.contains(&v) => Ok(v),
        _ => Err(DomainError::Period(format!(
            "{input:?}: {what} must be {}..{}, found {text:?}",
            range.start(),
            range.end()
        ))),
    }
}

/// A calendar month of a year, e.g. `2025-03`.
///
/// Fields are public for matching and construction; `month` must be in 1..=12 (use
/// [`Month::new`] or parsing to have it checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    /// Calendar year.
    pub year: i32,
    /// Month of the year, 1..=12.
    pub month: u32,
}

impl Month {
    /// The month `month` (1..=12) of `year`.
    pub fn new(year: i32, month: u32) -> Result<Month> {
        let input = format!("{year}-{month:02}");
        check_year(year, &input)?;
        if !(1..=12).contains(&month) {
            return Err(DomainError::Period(format!(
                "{input:?}: month must be 1..12, found {month}"
            )));
        }
        Ok(Month { year, month })
    }

    /// The month a date falls in.
    pub fn of_date(date: NaiveDate) -> Month {
        Month {
            year: date.year(),
            month: date.month(),
        }
    }

    /// The month a settle time falls in (local wall clock, no zone).
    pub fn of_datetime(time: NaiveDateTime) -> Month {
        Month::of_date(time.date())
    }

    /// The previous month (`2025-01` → `2024-12`).
    pub fn prev(self) -> Month {
        if self.month == 1 {
            Month {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Month {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// The next month (`2025-12` → `2026-01`).
    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// The month `n` months later (`n` may be negative).
    pub fn plus(self, n: i32) -> Month {
        let index = self.year * 12 + (self.month as i32 - 1) + n;
        Month {
            year: index.div_euclid(12),
            month: index.rem_euclid(12) as u32 + 1,
        }
    }

    /// The calendar quarter the month is in.
    pub fn quarter(self) -> Quarter {
        Quarter {
            year: self.year,
            quarter: (self.month - 1) / 3 + 1,
        }
    }

    /// The calendar year the month is in.
    pub fn calendar_year(self) -> Year {
        Year(self.year)
    }

    /// The first day of the month.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a Month holds a valid month")
    }

    /// The last day of the month.
    pub fn last_day(self) -> NaiveDate {
        self.next()
            .first_day()
            .pred_opt()
            .expect("dates before year 9999 have a predecessor")
    }

    /// Number of days in the month.
    pub fn days(self) -> u32 {
        self.last_day().day()
    }

    /// Whether `date` falls in the month.
    pub fn contains(self, date: NaiveDate) -> bool {
        Month::of_date(date) == self
    }

    /// January through this month of the same year ("月度累计").
    pub fn year_to_date(self) -> Vec<Month> {
        (1..=self.month)
            .map(|month| Month {
                year: self.year,
                month,
            })
            .collect()
    }

    /// The hive partition path of the month: `year=2025/month=03`.
    pub fn partition(self) -> String {
        format!("year={}/month={:02}", self.year, self.month)
    }

    /// Reads a partition path `year=2025/month=03` (as written by [`Month::partition`]).
    pub fn from_partition(path: &str) -> Result<Month> {
        let bad = || {
            DomainError::Period(format!(
                "{path:?}: expected a partition like \"year=2025/month=03\""
            ))
        };
        let (y, m) = path.trim_matches('/').split_once('/').ok_or_else(bad)?;
        let year = y.strip_prefix("year=").ok_or_else(bad)?;
        let month = m.strip_prefix("month=").ok_or_else(bad)?;
        if month.len() != 2 {
            return Err(bad());
        }
        Ok(Month {
            year: parse_year(year, path)?,
            month: parse_number(month, path, "month", 1..=12)?,
        })
    }
}

impl fmt::Display for Month {
    /// `2025-03`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Month {
    type Err = DomainError;

    /// Reads `YYYY-MM` (two-digit month).
    fn from_str(s: &str) -> Result<Month> {
        let (y, m) = s.split_once('-').ok_or_else(|| {
            DomainError::Period(format!("{s:?}: expected a month like \"2025-03\""))
        })?;
        if m.len() != 2 {
            return Err(DomainError::Period(format!(
                "{s:?}: expected a month like \"2025-03\" (two-digit month)"
            )));
        }
        Ok(Month {
            year: parse_year(y, s)?,
            month: parse_number(m, s, "month", 1..=12)?,
        })
    }
}

impl Month {
    /// Same as `str::parse`.
    pub fn parse(s: &str) -> Result<Month> {
        s.parse()
    }
}

/// A calendar quarter, e.g. `2025Q1` (months 1–3).
///
/// `quarter` must be in 1..=4 (use [`Quarter::new`] or parsing to have it checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    /// Calendar year.
    pub year: i32,
    /// Quarter of the year, 1..=4.
    pub quarter: u32,
}

impl Quarter {
    /// The quarter `quarter` (1..=4) of `year`.
    pub fn new(year: i32, quarter: u32) -> Result<Quarter> {
        let input = format!("{year}Q{quarter}");
        check_year(year, &input)?;
        if !(1..=4).contains(&quarter) {
            return Err(DomainError::Period(format!(
                "{input:?}: quarter must be 1..4, found {quarter}"
            )));
        }
        Ok(Quarter { year, quarter })
    }

    /// Same as `str::parse`: `2025Q1` (also `2025-Q1`, `2025q1`).
    pub fn parse(s: &str) -> Result<Quarter> {
        s.parse()
    }

    /// Its three months in order.
    pub fn months(self) -> [Month; 3] {
        let first = self.first_month();
        [first, first.next(), first.next().next()]
    }

    /// Its first month.
    pub fn first_month(self) -> Month {
        Month {
            year: self.year,
            month: (self.quarter - 1) * 3 + 1,
        }
    }

    /// Its last month.
    pub fn last_month(self) -> Month {
        Month {
            year: self.year,
            month: self.quarter * 3,
        }
    }

    /// The month before the quarter (read as context by R01/R06): `2025Q1` → `2024-12`.
    pub fn prev_month_before(self) -> Month {
        self.first_month().prev()
    }

    /// The first month after the quarter, in which its cards are issued: `2025Q4` → `2026-01`.
    pub fn issue_month(self) -> Month {
        self.last_month().next()
    }

    /// The previous quarter (`2025Q1` → `2024Q4`).
    pub fn prev(self) -> Quarter {
        self.first_month().prev().quarter()
    }

    /// The next quarter (`2025Q4` → `2026Q1`).
    pub fn next(self) -> Quarter {
        self.last_month().next().quarter()
    }

    /// The earlier quarters of the same year (whose cards count toward this year's yellows).
    pub fn earlier_in_year(self) -> Vec<Quarter> {
        (1..self.quarter)
            .map(|quarter| Quarter {
                year: self.year,
                quarter,
            })
            .collect()
    }

    /// The first day of the quarter.
    pub fn first_day(self) -> NaiveDate {
        self.first_month().first_day()
    }

    /// The last day of the quarter.
    pub fn last_day(self) -> NaiveDate {
        self.last_month().last_day()
    }

    /// Number of days in the quarter (R02's "days in the quarter").
    pub fn days(self) -> u32 {
        self.months().iter().map(|m| m.days()).sum()
    }

    /// Whether `month` is one of its months.
    pub fn contains(self, month: Month) -> bool {
        month.quarter() == self
    }

    /// The hive partition path: `year=2025/quarter=1`.
    pub fn partition(self) -> String {
        format!("year={}/quarter={}", self.year, self.quarter)
    }

    /// The report file stem: `2025-Q1` (`reports/warnings/2025-Q1.json`).
    pub fn report_stem(self) -> String {
        format!("{:04}-Q{}", self.year, self.quarter)
    }
}

impl fmt::Display for Quarter {
    /// `2025Q1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}Q{}", self.year, self.quarter)
    }
}

impl FromStr for Quarter {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Quarter> {
        let bad = || DomainError::Period(format!("{s:?}: expected a quarter like \"2025Q1\""));
        let pos = s.find(['Q', 'q']).ok_or_else(bad)?;
        let year = s[..pos].strip_suffix('-').unwrap_or(&s[..pos]);
        let quarter = &s[pos + 1..];
        if quarter.len() != 1 {
            return Err(DomainError::Period(format!(
                "{s:?}: quarter must be 1..4, found {quarter:?}"
            )));
        }
        Ok(Quarter {
            year: parse_year(year, s)?,
            quarter: parse_number(quarter, s, "quarter", 1..=4)?,
        })
    }
}

/// A natural (calendar) year, e.g. `2025`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Year(pub i32);

impl Year {
    /// The year, checked to have four digits.
    pub fn new(year: i32) -> Result<Year> {
        check_year(year, &year.to_string()).map(Year)
    }

    /// Same as `str::parse`: `2025`.
    pub fn parse(s: &str) -> Result<Year> {
        s.parse()
    }

    /// The year number.
    pub const fn get(self) -> i32 {
        self.0
    }

    /// The previous year.
    pub const fn prev(self) -> Year {
        Year(self.0 - 1)
    }

    /// The next year.
    pub const fn next(self) -> Year {
        Year(self.0 + 1)
    }

    /// Its twelve months.
    pub fn months(self) -> Vec<Month> {
        (1..=12)
            .map(|month| Month {
                year: self.0,
                month,
            })
            .collect()
    }

    /// Its four quarters.
    pub fn quarters(self) -> Vec<Quarter> {
        (1..=4)
            .map(|quarter| Quarter {
                year: self.0,
                quarter,
            })
            .collect()
    }

    /// January 1.
    pub fn first_day(self) -> NaiveDate {
        Month {
            year: self.0,
            month: 1,
        }
        .first_day()
    }

    /// December 31.
    pub fn last_day(self) -> NaiveDate {
        Month {
            year: self.0,
            month: 12,
        }
        .last_day()
    }

    /// The hive partition path: `year=2025`.
    pub fn partition(self) -> String {
        format!("year={}", self.0)
    }
}

impl fmt::Display for Year {
    /// `2025`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.0)
    }
}

impl FromStr for Year {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Year> {
        parse_year(s, s).map(Year)
    }
}

/// Serde as the display string (`"2025-03"`, `"2025Q1"`, `"2025"`), read back with `FromStr`.
macro_rules! serde_as_string {
    ($($name:ident),+) => {$(
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    )+};
}

serde_as_string!(Month, Quarter, Year);

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn month_parse_and_display() {
        let m: Month = "2025-03".parse().unwrap();
        assert_eq!(
            m,
            Month {
                year: 2025,
                month: 3
            }
        );
        assert_eq!(m.to_string(), "2025-03");
        assert_eq!(m.partition(), "year=2025/month=03");
        assert_eq!(Month::from_partition("year=2025/month=03").unwrap(), m);
        for bad in [
            "2025-13",
            "2025-00",
            "2025-3",
            "25-03",
            "2025/03",
            "2025-03-01",
            "",
            "2025-+3",
        ] {
            let err = bad.parse::<Month>().unwrap_err();
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
        assert!(
            Month::new(2025, 13)
                .unwrap_err()
                .to_string()
                .contains("2025-13")
        );
    }

    #[test]
    fn month_arithmetic_across_year_ends() {
        let jan = Month::new(2025, 1).unwrap();
        let dec = Month::new(2024, 12).unwrap();
        assert_eq!(jan.prev(), dec);
        assert_eq!(dec.next(), jan);
        assert_eq!(jan.plus(-13), Month::new(2023, 12).unwrap());
        assert_eq!(dec.plus(14), Month::new(2026, 2).unwrap());
        assert_eq!(dec.quarter(), Quarter::new(2024, 4).unwrap());
        assert_eq!(Month::new(2025, 4).unwrap().quarter().to_string(), "2025Q2");
        assert_eq!(dec.first_day(), date(2024, 12, 1));
        assert_eq!(dec.last_day(), date(2024, 12, 31));
        assert_eq!(Month::new(2024, 2).unwrap().last_day(), date(2024, 2, 29));
        assert_eq!(Month::new(2025, 2).unwrap().days(), 28);
        assert_eq!(Month::new(2025, 3).unwrap().year_to_date().len(), 3);
        assert!(jan < Month::new(2025, 2).unwrap() && dec < jan);
        assert!(jan.contains(date(2025, 1, 31)) && !jan.contains(date(2025, 2, 1)));
    }

    #[test]
    fn quarter_parse_and_months() {
        let q: Quarter = "2025Q1".parse().unwrap();
        assert_eq!(q.to_string(), "2025Q1");
        assert_eq!("2025-Q1".parse::<Quarter>().unwrap(), q);
        assert_eq!(
            q.months().map(|m| m.to_string()),
            ["2025-01", "2025-02", "2025-03"]
        );
        assert_eq!(q.prev_month_before().to_string(), "2024-12");
        assert_eq!(q.prev().to_string(), "2024Q4");
        assert_eq!(q.partition(), "year=2025/quarter=1");
        assert_eq!(q.report_stem(), "2025-Q1");
        assert_eq!(q.days(), 90);
        let q4 = Quarter::new(2025, 4).unwrap();
        assert_eq!(q4.issue_month().to_string(), "2026-01");
        assert_eq!(q4.next().to_string(), "2026Q1");
        assert_eq!(q4.prev_month_before().to_string(), "2025-09");
        assert_eq!(q4.last_day(), date(2025, 12, 31));
        assert_eq!(q4.earlier_in_year().len(), 3);
        for bad in ["2025Q5", "2025Q0", "2025", "Q1", "2025Q12", "20x5Q1"] {
            let err = bad.parse::<Quarter>().unwrap_err();
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn serde_as_strings() {
        #[derive(serde::Deserialize)]
        struct Row {
            month: Month,
            quarter: Quarter,
            year: Year,
        }
        let row: Row =
            toml::from_str("month = \"2025-12\"\nquarter = \"2025Q4\"\nyear = \"2025\"").unwrap();
        assert_eq!(
            row.month,
            Month {
                year: 2025,
                month: 12
            }
        );
        assert_eq!(
            row.quarter,
            Quarter {
                year: 2025,
                quarter: 4
            }
        );
        assert_eq!(row.year, Year(2025));
        assert!(
            toml::from_str::<Row>("month = \"2025-13\"\nquarter = \"2025Q4\"\nyear = \"2025\"")
                .is_err()
        );
    }

    #[test]
    fn year_parse_and_parts() {
        let y: Year = "2025".parse().unwrap();
        assert_eq!(y.to_string(), "2025");
        assert_eq!(y.months().len(), 12);
        assert_eq!(y.quarters()[3].to_string(), "2025Q4");
        assert_eq!(y.prev(), Year(2024));
        assert_eq!(y.partition(), "year=2025");
        assert_eq!(y.last_day(), date(2025, 12, 31));
        assert!(
            "20251"
                .parse::<Year>()
                .unwrap_err()
                .to_string()
                .contains("\"20251\"")
        );
    }
}

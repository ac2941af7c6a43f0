//! `"period": "auto"`: the period that has just closed, seen from the fund's time zone.
//!
//! The scheduler fires on the 5th at 02:00 Asia/Shanghai; at that moment it is still the 4th in
//! UTC for part of the world, so the calendar must be read in the fund's zone, not the
//! function's (UTC). The zone is `CLAIMLAKE_TIME_ZONE`: an IANA name (default `Asia/Shanghai`,
//! which has had no daylight saving since 1991) or a fixed offset such as `+08:00`.
//!
//! The instant is the schedule's own time when the event carries it (`scheduled_time`, filled
//! by EventBridge Scheduler's `<aws.scheduler.scheduled-time>`), so a retry or a redrive from
//! the dead-letter queue days later still computes the period the schedule meant.

use std::str::FromStr;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};
use chrono_tz::Tz;
use claimlake_domain::period::{Month, Quarter, Year};

use crate::error::{ErrorClass, FunctionError};

/// The kind of period a function computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodKind {
    Month,
    Quarter,
    Year,
}

/// A period of one of the three kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Month(Month),
    Quarter(Quarter),
    Year(Year),
}

impl std::fmt::Display for Period {
    /// `2025-03`, `2025Q1`, `2025`: the spelling of the CLI and the run manifests.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Period::Month(m) => m.fmt(f),
            Period::Quarter(q) => q.fmt(f),
            Period::Year(y) => y.fmt(f),
        }
    }
}

impl Period {
    /// Parses an explicit period of `kind` (`2025-03`, `2025Q1`, `2025`).
    pub fn parse(kind: PeriodKind, text: &str) -> Result<Period, FunctionError> {
        let bad = |e: claimlake_domain::error::DomainError| {
            FunctionError::bad_event(format!("field \"period\": {e}"))
        };
        Ok(match kind {
            PeriodKind::Month => Period::Month(text.parse().map_err(bad)?),
            PeriodKind::Quarter => Period::Quarter(text.parse().map_err(bad)?),
            PeriodKind::Year => Period::Year(text.parse().map_err(bad)?),
        })
    }

    pub fn month(self) -> Option<Month> {
        match self {
            Period::Month(m) => Some(m),
            _ => None,
        }
    }

    pub fn quarter(self) -> Option<Quarter> {
        match self {
            Period::Quarter(q) => Some(q),
            _ => None,
        }
    }

    pub fn year(self) -> Option<Year> {
        match self {
            Period::Year(y) => Some(y),
            _ => None,
        }
    }
}

/// The fund's time zone: an IANA zone or a fixed offset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Zone {
    Named(Tz),
    Fixed(FixedOffset),
}

impl Zone {
    /// `CLAIMLAKE_TIME_ZONE`, `Asia/Shanghai` when unset.
    pub fn from_env() -> Result<Zone, FunctionError> {
        let text =
            std::env::var("CLAIMLAKE_TIME_ZONE").unwrap_or_else(|_| "Asia/Shanghai".to_string());
        Zone::parse(&text).map_err(|m| {
            FunctionError::permanent(ErrorClass::Config, format!("CLAIMLAKE_TIME_ZONE: {m}"))
        })
    }

    /// An IANA name (`Asia/Shanghai`, `UTC`) or an offset (`+08:00`).
    pub fn parse(text: &str) -> Result<Zone, String> {
        if text.starts_with('+') || text.starts_with('-') {
            return FixedOffset::from_str(text)
                .map(Zone::Fixed)
                .map_err(|_| format!("{text:?} is not an offset like +08:00"));
        }
        Tz::from_str(text)
            .map(Zone::Named)
            .map_err(|_| format!("{text:?} is neither an IANA time zone nor an offset like +08:00"))
    }

    /// The local calendar date of an instant.
    pub fn local_date(self, at: DateTime<Utc>) -> NaiveDate {
        match self {
            Zone::Named(tz) => at.with_timezone(&tz).date_naive(),
            Zone::Fixed(off) => at.with_timezone(&off).date_naive(),
        }
    }
}

/// The period of `kind` that had most recently closed at `at`, in `zone`: the previous month,
/// the previous calendar quarter, the previous year.
pub fn closed_period(kind: PeriodKind, at: DateTime<Utc>, zone: Zone) -> Period {
    let today = zone.local_date(at);
    let this_month = Month {
        year: today.year(),
        month: today.month(),
    };
    match kind {
        PeriodKind::Month => Period::Month(this_month.prev()),
        PeriodKind::Quarter => Period::Quarter(this_month.quarter().prev()),
        PeriodKind::Year => Period::Year(Year(today.year() - 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn settlement_schedule_settles_the_previous_month_in_shanghai() {
        let sh = Zone::parse("Asia/Shanghai").unwrap();
        // The 5th at 02:00 Shanghai is the 4th at 18:00 UTC: the month is read in Shanghai.
        let p = closed_period(PeriodKind::Month, at("2025-04-04T18:00:00Z"), sh);
        assert_eq!(p.to_string(), "2025-03");
        // January's run settles December of the year before.
        let p = closed_period(PeriodKind::Month, at("2025-01-04T18:00:00Z"), sh);
        assert_eq!(p.to_string(), "2024-12");
        // Just before midnight on the last day of March, Shanghai time, March is still open.
        let p = closed_period(PeriodKind::Month, at("2025-03-31T15:59:59Z"), sh);
        assert_eq!(p.to_string(), "2025-02");
        let p = closed_period(PeriodKind::Month, at("2025-03-31T16:00:00Z"), sh);
        assert_eq!(p.to_string(), "2025-03");
    }

    #[test]
    fn warnings_take_the_last_complete_quarter_and_scores_the_last_year() {
        let sh = Zone::parse("Asia/Shanghai").unwrap();
        let p = closed_period(PeriodKind::Quarter, at("2025-04-09T18:00:00Z"), sh);
        assert_eq!(p.to_string(), "2025Q1");
        // A late run (redrive in May) still means Q1: Q2 has not closed.
        let p = closed_period(PeriodKind::Quarter, at("2025-05-20T00:00:00Z"), sh);
        assert_eq!(p.to_string(), "2025Q1");
        let p = closed_period(PeriodKind::Quarter, at("2026-01-09T18:00:00Z"), sh);
        assert_eq!(p.to_string(), "2025Q4");
        let p = closed_period(PeriodKind::Year, at("2026-01-19T18:00:00Z"), sh);
        assert_eq!(p.to_string(), "2025");
    }

    #[test]
    fn zones_by_name_or_offset() {
        let utc = Zone::parse("UTC").unwrap();
        let p = closed_period(PeriodKind::Month, at("2025-04-04T18:00:00Z"), utc);
        assert_eq!(p.to_string(), "2025-03");
        let west = Zone::parse("-05:00").unwrap();
        let p = closed_period(PeriodKind::Month, at("2025-04-01T03:00:00Z"), west);
        assert_eq!(p.to_string(), "2025-02");
        assert!(Zone::parse("Mars/Olympus").is_err());
        assert!(Zone::parse("+25:00").is_err());
    }

    #[test]
    fn explicit_periods_follow_the_function_kind() {
        assert_eq!(
            Period::parse(PeriodKind::Month, "2025-03").unwrap(),
            Period::Month(Month {
                year: 2025,
                month: 3
            })
        );
        assert_eq!(
            Period::parse(PeriodKind::Quarter, "2025Q2")
                .unwrap()
                .to_string(),
            "2025Q2"
        );
        let e = Period::parse(PeriodKind::Month, "2025Q1").unwrap_err();
        assert_eq!(e.error_type(), "NonRetryable.BadEvent");
        assert!(e.message.contains("period"), "{}", e.message);
        assert!(Period::parse(PeriodKind::Year, "25").is_err());
    }
}

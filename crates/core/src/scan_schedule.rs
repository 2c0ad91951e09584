//! Schedules of stored active-discovery scans (the sensor service): one-time, periodic or times of day, maintenance windows, next run in a time zone.
//!
//! Every date and time here is civil (wall-clock) time in the sensor's time zone, which the
//! caller passes in; the functions are pure, so the scheduler's decisions are tested with any
//! "now" and any zone. Local times that do not exist (the hour skipped when clocks go forward)
//! or exist twice (the hour repeated when they go back) are resolved the "compatible" way: a
//! skipped time runs at the same distance after the gap, a repeated time runs at its first
//! occurrence only.

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Most values in a list of times of day.
pub const MAX_TIMES_OF_DAY: usize = 48;

/// A day of the week, as written in schedules (`mon` ... `sun`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

impl Day {
    /// The day of a civil date.
    pub fn of(date: Date) -> Day {
        match date.weekday() {
            Weekday::Monday => Day::Mon,
            Weekday::Tuesday => Day::Tue,
            Weekday::Wednesday => Day::Wed,
            Weekday::Thursday => Day::Thu,
            Weekday::Friday => Day::Fri,
            Weekday::Saturday => Day::Sat,
            Weekday::Sunday => Day::Sun,
        }
    }
}

/// The unit of a periodic schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Minutes (elapsed time).
    Minutes,
    /// Hours (elapsed time: a run every 2 hours stays 2 hours apart across a clock change).
    Hours,
    /// Calendar days (a daily run keeps its wall-clock time across a clock change).
    Days,
}

/// When a scan runs by itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    /// Once, at a date and time.
    Once {
        /// The local date and time (`2026-05-01T22:00:00`).
        at: DateTime,
    },
    /// Every N minutes, hours or days, counted from a start.
    Every {
        /// N, at least 1.
        every: u32,
        /// Minutes, hours or days.
        unit: Unit,
        /// The first run's local date and time.
        start: DateTime,
    },
    /// At given times of day, on every day or on the listed days of the week.
    TimesOfDay {
        /// Local times (`08:00`, `20:30`), at least one.
        times: Vec<Time>,
        /// The days it runs on; empty means every day.
        #[serde(default)]
        days: Vec<Day>,
    },
}

/// A schedule or window that cannot work, with the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {detail}")]
pub struct ScheduleError {
    /// The field, relative to the schedule (`every`, `times`, `end`).
    pub field: &'static str,
    /// What is wrong.
    pub detail: String,
}

fn invalid(field: &'static str, detail: impl Into<String>) -> ScheduleError {
    ScheduleError {
        field,
        detail: detail.into(),
    }
}

impl Schedule {
    /// Checks what the type alone does not: N at least 1 and not absurdly large, at least one
    /// time of day and no duplicates.
    pub fn validate(&self) -> Result<(), ScheduleError> {
        match self {
            Schedule::Once { .. } => Ok(()),
            Schedule::Every { every, unit, .. } => {
                let max = match unit {
                    Unit::Minutes => 60 * 24 * 366,
                    Unit::Hours => 24 * 366,
                    Unit::Days => 366 * 10,
                };
                if *every == 0 || *every > max {
                    return Err(invalid("every", format!("must be from 1 to {max}")));
                }
                Ok(())
            }
            Schedule::TimesOfDay { times, days } => {
                if times.is_empty() {
                    return Err(invalid("times", "at least one time of day is needed"));
                }
                if times.len() > MAX_TIMES_OF_DAY {
                    return Err(invalid(
                        "times",
                        format!("at most {MAX_TIMES_OF_DAY} times of day"),
                    ));
                }
                if has_duplicates(times) {
                    return Err(invalid("times", "a time of day is listed twice"));
                }
                if has_duplicates(days) {
                    return Err(invalid("days", "a day is listed twice"));
                }
                Ok(())
            }
        }
    }

    /// The first time strictly after `after` at which the scan is due, or `None` when it will
    /// never be due again (a one-time schedule whose time has passed).
    pub fn next_after(&self, tz: &TimeZone, after: Timestamp) -> Option<Timestamp> {
        match self {
            Schedule::Once { at } => local(tz, *at).filter(|t| *t > after),
            Schedule::Every { every, unit, start } => match unit {
                Unit::Minutes => every_elapsed(tz, *start, i128::from(*every) * 60, after),
                Unit::Hours => every_elapsed(tz, *start, i128::from(*every) * 3600, after),
                Unit::Days => every_days(tz, *start, i64::from(*every), after),
            },
            Schedule::TimesOfDay { times, days } => times_of_day(tz, times, days, after),
        }
    }
}

fn has_duplicates<T: Ord + Clone>(items: &[T]) -> bool {
    let mut sorted = items.to_vec();
    sorted.sort();
    sorted.windows(2).any(|w| w[0] == w[1])
}

/// A local date and time as an instant in `tz` (compatible disambiguation).
fn local(tz: &TimeZone, dt: DateTime) -> Option<Timestamp> {
    tz.to_timestamp(dt).ok()
}

/// The local date `at` falls on in `tz`.
fn local_date(tz: &TimeZone, at: Timestamp) -> Date {
    at.to_zoned(tz.clone()).date()
}

/// `start + k * period` for the smallest k with a result after `after`.
fn every_elapsed(
    tz: &TimeZone,
    start: DateTime,
    period_secs: i128,
    after: Timestamp,
) -> Option<Timestamp> {
    let first = local(tz, start)?;
    if first > after {
        return Some(first);
    }
    let period = period_secs.checked_mul(1_000_000_000)?;
    let elapsed = after.as_nanosecond() - first.as_nanosecond();
    let k = elapsed / period + 1;
    Timestamp::from_nanosecond(first.as_nanosecond().checked_add(k.checked_mul(period)?)?).ok()
}

/// `start`'s wall-clock time on `start`'s date plus `k * every` days, for the smallest k with a
/// result after `after`.
fn every_days(tz: &TimeZone, start: DateTime, every: i64, after: Timestamp) -> Option<Timestamp> {
    let days_since = i64::from(start.date().until(local_date(tz, after)).ok()?.get_days());
    let first_k = days_since.max(0) / every;
    // at most two steps: the candidate on or just before `after`'s date, then the next one
    (first_k..first_k + 4).find_map(|k| {
        let date = start.date().checked_add((k * every).days()).ok()?;
        local(tz, date.to_datetime(start.time())).filter(|t| *t > after)
    })
}

/// The earliest listed time of day, on an allowed day, after `after`.
fn times_of_day(
    tz: &TimeZone,
    times: &[Time],
    days: &[Day],
    after: Timestamp,
) -> Option<Timestamp> {
    let mut sorted = times.to_vec();
    sorted.sort();
    let today = local_date(tz, after);
    // a week and a day: every allowed weekday is met whatever today is
    for offset in -1..=8i64 {
        let Ok(date) = today.checked_add(offset.days()) else {
            continue;
        };
        if !days.is_empty() && !days.contains(&Day::of(date)) {
            continue;
        }
        for time in &sorted {
            match local(tz, date.to_datetime(*time)) {
                Some(t) if t > after => return Some(t),
                _ => {}
            }
        }
    }
    None
}

/// A span of local time, on every day or on listed days, in which a scan may start; outside it
/// the scheduler holds a due scan back until the window opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceWindow {
    /// When it opens (local time).
    pub start: Time,
    /// When it closes (local time); before `start` means the next day (`22:00` to `04:00`).
    pub end: Time,
    /// The days it opens on; empty means every day.
    #[serde(default)]
    pub days: Vec<Day>,
}

impl MaintenanceWindow {
    /// Checks that it is not empty and lists no day twice.
    pub fn validate(&self) -> Result<(), ScheduleError> {
        if self.start == self.end {
            return Err(invalid("end", "the window closes when it opens"));
        }
        if has_duplicates(&self.days) {
            return Err(invalid("days", "a day is listed twice"));
        }
        Ok(())
    }

    /// The openings (open, close) that begin on `date`, if the window opens that day.
    fn opening_on(&self, tz: &TimeZone, date: Date) -> Option<(Timestamp, Timestamp)> {
        if !self.days.is_empty() && !self.days.contains(&Day::of(date)) {
            return None;
        }
        let open = local(tz, date.to_datetime(self.start))?;
        let close_date = if self.end > self.start {
            date
        } else {
            date.checked_add(1.day()).ok()?
        };
        let close = local(tz, close_date.to_datetime(self.end))?;
        Some((open, close))
    }

    /// Whether a scan may start at `at`.
    pub fn contains(&self, tz: &TimeZone, at: Timestamp) -> bool {
        let today = local_date(tz, at);
        [-1i64, 0].into_iter().any(|offset| {
            today
                .checked_add(offset.days())
                .ok()
                .and_then(|d| self.opening_on(tz, d))
                .is_some_and(|(open, close)| open <= at && at < close)
        })
    }

    /// `at` if the window is open then, else the window's next opening after `at`.
    pub fn defer(&self, tz: &TimeZone, at: Timestamp) -> Option<Timestamp> {
        if self.contains(tz, at) {
            return Some(at);
        }
        let today = local_date(tz, at);
        (0..=8i64)
            .filter_map(|offset| today.checked_add(offset.days()).ok())
            .filter_map(|d| self.opening_on(tz, d))
            .map(|(open, _)| open)
            .find(|open| *open > at)
    }
}

impl fmt::Display for MaintenanceWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} to {}", self.start, self.end)?;
        if !self.days.is_empty() {
            let days: Vec<String> = self.days.iter().map(|d| format!("{d:?}")).collect();
            write!(f, " on {}", days.join(", "))?;
        }
        Ok(())
    }
}

/// When a scan with `schedule` and an optional `window` is next due after `after`: the
/// schedule's next time, held back to the window's next opening when it falls outside.
pub fn next_due(
    schedule: &Schedule,
    window: Option<&MaintenanceWindow>,
    tz: &TimeZone,
    after: Timestamp,
) -> Option<Timestamp> {
    let due = schedule.next_after(tz, after)?;
    match window {
        Some(w) => w.defer(tz, due),
        None => Some(due),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    fn tz(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap()
    }

    fn at(tz: &TimeZone, s: &str) -> Timestamp {
        tz.to_timestamp(s.parse().unwrap()).unwrap()
    }

    fn show(tz: &TimeZone, t: Option<Timestamp>) -> String {
        t.map(|t| t.to_zoned(tz.clone()).to_string())
            .unwrap_or_else(|| "never".into())
    }

    #[test]
    fn once_runs_once_at_its_local_time() {
        let berlin = tz("Europe/Berlin");
        let s = Schedule::Once {
            at: date(2026, 3, 2).at(22, 0, 0, 0),
        };
        let before = at(&berlin, "2026-03-02T21:59:59");
        assert_eq!(
            show(&berlin, s.next_after(&berlin, before)),
            "2026-03-02T22:00:00+01:00[Europe/Berlin]"
        );
        let due = s.next_after(&berlin, before).unwrap();
        assert_eq!(s.next_after(&berlin, due), None);
    }

    #[test]
    fn every_n_minutes_counts_from_the_start() {
        let utc = TimeZone::UTC;
        let s = Schedule::Every {
            every: 15,
            unit: Unit::Minutes,
            start: date(2026, 1, 1).at(10, 5, 0, 0),
        };
        assert_eq!(
            s.next_after(&utc, at(&utc, "2025-12-31T00:00:00")),
            Some(at(&utc, "2026-01-01T10:05:00"))
        );
        assert_eq!(
            s.next_after(&utc, at(&utc, "2026-01-01T10:05:00")),
            Some(at(&utc, "2026-01-01T10:20:00"))
        );
        assert_eq!(
            s.next_after(&utc, at(&utc, "2026-01-03T07:21:30")),
            Some(at(&utc, "2026-01-03T07:35:00"))
        );
    }

    #[test]
    fn hours_are_elapsed_time_and_days_keep_the_wall_clock_across_a_clock_change() {
        // Europe/Berlin goes from +01:00 to +02:00 at 2026-03-29 02:00
        let berlin = tz("Europe/Berlin");
        let start = date(2026, 3, 28).at(8, 0, 0, 0);
        let hourly = Schedule::Every {
            every: 24,
            unit: Unit::Hours,
            start,
        };
        let daily = Schedule::Every {
            every: 1,
            unit: Unit::Days,
            start,
        };
        let after = at(&berlin, "2026-03-28T08:00:00");
        assert_eq!(
            show(&berlin, hourly.next_after(&berlin, after)),
            "2026-03-29T09:00:00+02:00[Europe/Berlin]"
        );
        assert_eq!(
            show(&berlin, daily.next_after(&berlin, after)),
            "2026-03-29T08:00:00+02:00[Europe/Berlin]"
        );
        let every3 = Schedule::Every {
            every: 3,
            unit: Unit::Days,
            start,
        };
        assert_eq!(
            show(&berlin, every3.next_after(&berlin, after)),
            "2026-03-31T08:00:00+02:00[Europe/Berlin]"
        );
    }

    #[test]
    fn times_of_day_across_both_clock_changes() {
        let ny = tz("America/New_York");
        // 2026-03-08 02:00 -> 03:00 (02:30 does not exist); 2026-11-01 02:00 -> 01:00 (01:30 twice)
        let s = Schedule::TimesOfDay {
            times: vec![time(2, 30, 0, 0), time(1, 30, 0, 0)],
            days: vec![],
        };
        let mut t = at(&ny, "2026-03-08T00:00:00");
        let mut seen = Vec::new();
        for _ in 0..3 {
            t = s.next_after(&ny, t).unwrap();
            seen.push(show(&ny, Some(t)));
        }
        assert_eq!(
            seen,
            [
                "2026-03-08T01:30:00-05:00[America/New_York]",
                "2026-03-08T03:30:00-04:00[America/New_York]",
                "2026-03-09T01:30:00-04:00[America/New_York]",
            ]
        );
        // the repeated hour: 01:30 runs once, at its first occurrence
        let mut t = at(&ny, "2026-11-01T00:00:00");
        let mut seen = Vec::new();
        for _ in 0..3 {
            t = s.next_after(&ny, t).unwrap();
            seen.push(show(&ny, Some(t)));
        }
        assert_eq!(
            seen,
            [
                "2026-11-01T01:30:00-04:00[America/New_York]",
                "2026-11-01T02:30:00-05:00[America/New_York]",
                "2026-11-02T01:30:00-05:00[America/New_York]",
            ]
        );
    }

    #[test]
    fn times_of_day_on_listed_days_only() {
        let utc = TimeZone::UTC;
        let s = Schedule::TimesOfDay {
            times: vec![time(6, 0, 0, 0)],
            days: vec![Day::Sat],
        };
        // 2026-01-05 is a Monday
        assert_eq!(
            s.next_after(&utc, at(&utc, "2026-01-05T07:00:00")),
            Some(at(&utc, "2026-01-10T06:00:00"))
        );
    }

    #[test]
    fn a_window_holds_a_due_scan_back_until_it_opens() {
        let utc = TimeZone::UTC;
        let w = MaintenanceWindow {
            start: time(22, 0, 0, 0),
            end: time(4, 0, 0, 0),
            days: vec![],
        };
        assert!(w.contains(&utc, at(&utc, "2026-01-05T23:00:00")));
        assert!(w.contains(&utc, at(&utc, "2026-01-06T03:59:59")));
        assert!(!w.contains(&utc, at(&utc, "2026-01-06T04:00:00")));
        let s = Schedule::Every {
            every: 1,
            unit: Unit::Hours,
            start: date(2026, 1, 1).at(0, 0, 0, 0),
        };
        assert_eq!(
            next_due(&s, Some(&w), &utc, at(&utc, "2026-01-05T10:30:00")),
            Some(at(&utc, "2026-01-05T22:00:00"))
        );
        assert_eq!(
            next_due(&s, Some(&w), &utc, at(&utc, "2026-01-05T23:00:00")),
            Some(at(&utc, "2026-01-06T00:00:00"))
        );
        let weekend = MaintenanceWindow {
            start: time(8, 0, 0, 0),
            end: time(12, 0, 0, 0),
            days: vec![Day::Sun],
        };
        assert_eq!(
            weekend.defer(&utc, at(&utc, "2026-01-05T09:00:00")),
            Some(at(&utc, "2026-01-11T08:00:00"))
        );
    }

    #[test]
    fn validation_names_the_field() {
        let bad = Schedule::Every {
            every: 0,
            unit: Unit::Days,
            start: date(2026, 1, 1).at(0, 0, 0, 0),
        };
        assert_eq!(bad.validate().unwrap_err().field, "every");
        let empty = Schedule::TimesOfDay {
            times: vec![],
            days: vec![],
        };
        assert_eq!(empty.validate().unwrap_err().field, "times");
        let w = MaintenanceWindow {
            start: time(1, 0, 0, 0),
            end: time(1, 0, 0, 0),
            days: vec![],
        };
        assert_eq!(w.validate().unwrap_err().field, "end");
    }

    #[test]
    fn schedules_read_from_json() {
        let s: Schedule = serde_json::from_str(
            r#"{"kind":"times_of_day","times":["08:00","20:30:00"],"days":["mon","fri"]}"#,
        )
        .unwrap();
        assert_eq!(
            s,
            Schedule::TimesOfDay {
                times: vec![time(8, 0, 0, 0), time(20, 30, 0, 0)],
                days: vec![Day::Mon, Day::Fri],
            }
        );
        let e: Schedule = serde_json::from_str(
            r#"{"kind":"every","every":2,"unit":"hours","start":"2026-01-01T00:00"}"#,
        )
        .unwrap();
        assert!(matches!(e, Schedule::Every { every: 2, .. }));
    }
}

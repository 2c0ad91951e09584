//! Schedules: every N hours, or at fixed times of day in the sensor's time zone.
//!
//! A schedule's text form is what operators type and what the store keeps:
//! `every 6 hours` (also `every 1 hour`, `every 6h`) or one or more 24-hour times `02:30, 14:00`.
//! [`Schedule::next_run`] says when the next run is due, time-zone aware (daylight saving time
//! gaps and folds included).

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The longest interval of an `every N hours` schedule: 30 days.
pub const MAX_EVERY_HOURS: u32 = 720;

/// The most times of day one schedule may list.
pub const MAX_TIMES_OF_DAY: usize = 48;

/// When something runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Schedule {
    /// Every N hours (1 to [`MAX_EVERY_HOURS`]), counted from the start of the last run.
    EveryHours(u32),
    /// At these times of day (sorted, no duplicates, at least one), in the sensor's time zone.
    DailyAt(Vec<TimeOfDay>),
}

/// A time of day, to the minute, in 24-hour form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay {
    hour: u8,
    minute: u8,
}

/// Why a schedule's text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// Nothing was given.
    #[error("no schedule given: write 'every N hours' or times of day such as '02:30, 14:00'")]
    Empty,
    /// `every N hours` with N out of range or not a number.
    #[error("'{0}': N in 'every N hours' must be a whole number from 1 to {MAX_EVERY_HOURS}")]
    BadInterval(String),
    /// A time of day that is not `HH:MM` in 24-hour form.
    #[error("'{0}' is not a time of day in 24-hour HH:MM form (00:00 to 23:59, e.g. 14:30)")]
    BadTime(String),
    /// Too many times of day.
    #[error("{0} times of day: at most {MAX_TIMES_OF_DAY}")]
    TooManyTimes(usize),
}

impl TimeOfDay {
    /// A time of day; `None` unless `hour` < 24 and `minute` < 60.
    pub fn new(hour: u8, minute: u8) -> Option<TimeOfDay> {
        (hour < 24 && minute < 60).then_some(TimeOfDay { hour, minute })
    }

    /// The hour, 0 to 23.
    pub fn hour(self) -> u8 {
        self.hour
    }

    /// The minute, 0 to 59.
    pub fn minute(self) -> u8 {
        self.minute
    }

    fn civil(self) -> Time {
        // hour < 24 and minute < 60 by construction
        Time::constant(self.hour as i8, self.minute as i8, 0, 0)
    }
}

impl FromStr for TimeOfDay {
    type Err = ScheduleError;

    /// Parses exactly `HH:MM` (two digits each, 24-hour form): `02:30`, `14:00`; refuses
    /// `2:30`, `2:30 PM`, `24:00`.
    fn from_str(s: &str) -> Result<TimeOfDay, ScheduleError> {
        let bad = || ScheduleError::BadTime(s.to_string());
        let t = s.trim();
        let (h, m) = t.split_once(':').ok_or_else(bad)?;
        let two_digits = |x: &str| x.len() == 2 && x.bytes().all(|b| b.is_ascii_digit());
        if !two_digits(h) || !two_digits(m) {
            return Err(bad());
        }
        let hour = h.parse().map_err(|_| bad())?;
        let minute = m.parse().map_err(|_| bad())?;
        TimeOfDay::new(hour, minute).ok_or_else(bad)
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

impl Schedule {
    /// Every `hours` hours; `None` unless 1 <= hours <= [`MAX_EVERY_HOURS`].
    pub fn every_hours(hours: u32) -> Option<Schedule> {
        (1..=MAX_EVERY_HOURS)
            .contains(&hours)
            .then_some(Schedule::EveryHours(hours))
    }

    /// At the given times of day (sorted and deduplicated); `None` when empty or above
    /// [`MAX_TIMES_OF_DAY`].
    pub fn daily_at(times: impl IntoIterator<Item = TimeOfDay>) -> Option<Schedule> {
        let mut times: Vec<TimeOfDay> = times.into_iter().collect();
        times.sort();
        times.dedup();
        (!times.is_empty() && times.len() <= MAX_TIMES_OF_DAY).then_some(Schedule::DailyAt(times))
    }

    /// When the next run is due, seen at `now`, given the start of the last run (if any), with
    /// times of day read in the time zone `tz` (the sensor's).
    ///
    /// - every N hours: N hours after the last run's start, or `now` when that moment has passed
    ///   or there was no run yet;
    /// - times of day: the first listed time strictly after `now`. A time that daylight saving
    ///   time skips runs at the first moment after the gap (02:30 becomes 03:30 on the spring
    ///   day); a time that occurs twice in the autumn runs once, at its first occurrence.
    pub fn next_run(
        &self,
        now: Timestamp,
        last_run: Option<Timestamp>,
        tz: &TimeZone,
    ) -> Timestamp {
        match self {
            Schedule::EveryHours(hours) => {
                let Some(last) = last_run else { return now };
                let due = last
                    .checked_add(SignedDuration::from_hours(i64::from(*hours)))
                    .unwrap_or(Timestamp::MAX);
                due.max(now)
            }
            Schedule::DailyAt(times) => next_time_of_day(times, now, tz),
        }
    }
}

/// The first of `times` strictly after `now`, looking at today and the next days in `tz`.
fn next_time_of_day(times: &[TimeOfDay], now: Timestamp, tz: &TimeZone) -> Timestamp {
    let today: Date = tz.to_datetime(now).date();
    let mut day = today;
    // two days always suffice (every time occurs at least once a day, an hour's gap aside);
    // a few more cover odd zones that skip whole days
    for _ in 0..4 {
        let found = times
            .iter()
            .filter_map(|t| occurrence(day, *t, tz))
            .filter(|at| *at > now)
            .min();
        if let Some(at) = found {
            return at;
        }
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    Timestamp::MAX
}

/// The instant a civil date and time of day denote in `tz`: after a gap for a skipped time,
/// the first occurrence for a repeated one (jiff's "compatible" rule).
fn occurrence(day: Date, time: TimeOfDay, tz: &TimeZone) -> Option<Timestamp> {
    tz.to_ambiguous_timestamp(day.to_datetime(time.civil()))
        .compatible()
        .ok()
}

impl FromStr for Schedule {
    type Err = ScheduleError;

    /// Parses `every N hours` / `every N hour` / `every Nh`, or a comma (or space) separated
    /// list of `HH:MM` times.
    fn from_str(s: &str) -> Result<Schedule, ScheduleError> {
        let text = s.trim();
        if text.is_empty() {
            return Err(ScheduleError::Empty);
        }
        let lower = text.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("every") {
            return parse_every(text, rest);
        }
        let items: Vec<&str> = text
            .split([',', ';'])
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .collect();
        if items.len() > MAX_TIMES_OF_DAY {
            return Err(ScheduleError::TooManyTimes(items.len()));
        }
        let times = items
            .iter()
            .map(|i| i.parse())
            .collect::<Result<Vec<TimeOfDay>, _>>()?;
        Schedule::daily_at(times).ok_or(ScheduleError::Empty)
    }
}

fn parse_every(text: &str, rest: &str) -> Result<Schedule, ScheduleError> {
    let bad = || ScheduleError::BadInterval(text.to_string());
    let rest = rest.trim();
    let number = rest
        .strip_suffix("hours")
        .or_else(|| rest.strip_suffix("hour"))
        .or_else(|| rest.strip_suffix('h'))
        .ok_or_else(bad)?
        .trim();
    let hours: u32 = number.parse().map_err(|_| bad())?;
    Schedule::every_hours(hours).ok_or_else(bad)
}

impl fmt::Display for Schedule {
    /// The text form [`Schedule::from_str`] reads: `every 6 hours`, `every 1 hour`, `02:30, 14:00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::EveryHours(1) => f.write_str("every 1 hour"),
            Schedule::EveryHours(n) => write!(f, "every {n} hours"),
            Schedule::DailyAt(times) => {
                let list: Vec<String> = times.iter().map(ToString::to_string).collect();
                f.write_str(&list.join(", "))
            }
        }
    }
}

impl Serialize for Schedule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Schedule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Central Europe: CET, CEST from the last Sunday of March 02:00 to the last Sunday of
    /// October 03:00 (a POSIX rule, so the tests need no system time zone database).
    fn berlin() -> TimeZone {
        TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").unwrap()
    }

    fn at(tz: &TimeZone, text: &str) -> Timestamp {
        let dt: jiff::civil::DateTime = text.parse().unwrap();
        tz.to_ambiguous_timestamp(dt).compatible().unwrap()
    }

    fn local(tz: &TimeZone, t: Timestamp) -> String {
        tz.to_datetime(t).strftime("%Y-%m-%d %H:%M").to_string()
    }

    #[test]
    fn text_forms_parse_and_print_back() {
        assert_eq!("every 6 hours".parse(), Ok(Schedule::EveryHours(6)));
        assert_eq!("Every 1 hour".parse(), Ok(Schedule::EveryHours(1)));
        assert_eq!("every 12h".parse(), Ok(Schedule::EveryHours(12)));
        let s: Schedule = "14:00, 02:30,14:00".parse().unwrap();
        assert_eq!(s.to_string(), "02:30, 14:00");
        for text in [
            "every 6 hours",
            "every 1 hour",
            "00:00",
            "02:30, 14:00, 23:59",
        ] {
            assert_eq!(text.parse::<Schedule>().unwrap().to_string(), text);
        }
    }

    #[test]
    fn only_24_hour_hh_mm_is_accepted() {
        for bad in [
            "2:30 PM", "2:30", "24:00", "12:60", "1230", "12:3", "12:30:00", "noon",
        ] {
            assert_eq!(
                bad.parse::<Schedule>(),
                Err(ScheduleError::BadTime(bad.to_string())),
                "{bad}"
            );
        }
        assert!(
            ScheduleError::BadTime("2:30 PM".into())
                .to_string()
                .contains("24-hour HH:MM")
        );
        for bad in [
            "every 0 hours",
            "every 721 hours",
            "every -1 hours",
            "every x hours",
        ] {
            assert!(matches!(
                bad.parse::<Schedule>(),
                Err(ScheduleError::BadInterval(_))
            ));
        }
        assert!("every six".parse::<Schedule>().is_err());
        assert_eq!(" ".parse::<Schedule>(), Err(ScheduleError::Empty));
        assert_eq!(",".parse::<Schedule>(), Err(ScheduleError::Empty));
    }

    #[test]
    fn every_n_hours_counts_from_the_last_run() {
        let tz = berlin();
        let s = Schedule::EveryHours(6);
        let now = at(&tz, "2025-01-10T12:00");
        assert_eq!(s.next_run(now, None, &tz), now);
        let last = at(&tz, "2025-01-10T09:15");
        assert_eq!(
            local(&tz, s.next_run(now, Some(last), &tz)),
            "2025-01-10 15:15"
        );
        let long_ago = at(&tz, "2025-01-01T00:00");
        assert_eq!(s.next_run(now, Some(long_ago), &tz), now);
    }

    #[test]
    fn times_of_day_pick_the_next_one_in_the_sensor_time_zone() {
        let tz = berlin();
        let s: Schedule = "02:30, 14:00".parse().unwrap();
        let now = at(&tz, "2025-01-10T12:00");
        assert_eq!(local(&tz, s.next_run(now, None, &tz)), "2025-01-10 14:00");
        let now = at(&tz, "2025-01-10T14:00");
        assert_eq!(
            local(&tz, s.next_run(now, None, &tz)),
            "2025-01-11 02:30",
            "strictly after now"
        );
        // 14:00 in Berlin in winter is 13:00 UTC
        let next = s.next_run(at(&tz, "2025-01-10T12:00"), None, &tz);
        assert_eq!(next.to_string(), "2025-01-10T13:00:00Z");
        // and the same schedule in UTC runs at 14:00 UTC
        let utc = s.next_run(at(&TimeZone::UTC, "2025-01-10T12:00"), None, &TimeZone::UTC);
        assert_eq!(utc.to_string(), "2025-01-10T14:00:00Z");
    }

    #[test]
    fn a_time_skipped_by_daylight_saving_runs_after_the_gap() {
        let tz = berlin();
        let s: Schedule = "02:30".parse().unwrap();
        // 30 March 2025: clocks jump from 02:00 to 03:00
        let next = s.next_run(at(&tz, "2025-03-30T01:00"), None, &tz);
        assert_eq!(local(&tz, next), "2025-03-30 03:30");
        assert_eq!(next.to_string(), "2025-03-30T01:30:00Z");
    }

    #[test]
    fn a_time_repeated_by_daylight_saving_runs_once() {
        let tz = berlin();
        let s: Schedule = "02:30".parse().unwrap();
        // 26 October 2025: 02:00 to 03:00 happens twice (CEST, then CET)
        let first = s.next_run(at(&tz, "2025-10-26T01:00"), None, &tz);
        assert_eq!(first.to_string(), "2025-10-26T00:30:00Z");
        let after_first_run = first + SignedDuration::from_mins(1);
        let next = s.next_run(after_first_run, Some(first), &tz);
        assert_eq!(local(&tz, next), "2025-10-27 02:30");
    }

    proptest! {
        #[test]
        fn the_next_time_of_day_is_within_a_day_and_after_now(
            secs in 0i64..4_000_000_000, h in 0u8..24, m in 0u8..60,
        ) {
            let tz = berlin();
            let now = Timestamp::from_second(secs).unwrap();
            let s = Schedule::daily_at([TimeOfDay::new(h, m).unwrap()]).unwrap();
            let next = s.next_run(now, None, &tz);
            prop_assert!(next > now);
            prop_assert!(next.duration_since(now) <= SignedDuration::from_hours(25));
        }

        #[test]
        fn schedule_text_never_panics(text in ".{0,40}") {
            if let Ok(s) = text.parse::<Schedule>() {
                prop_assert_eq!(s.to_string().parse::<Schedule>().unwrap(), s);
            }
        }
    }
}

//! How domain values are written to columns and read back: times, names, numbers, JSON.
//!
//! Reading never panics: a value that does not parse is a [`Failure::Corrupt`] naming the value.

use crate::error::{Failure, Result};
use jiff::Timestamp;
use jiff::fmt::temporal::DateTimePrinter;
use otsensor_core::{Change, DeviceKey, Outcome, Protocol};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// RFC 3339 in UTC with nine fractional digits: fixed width, so text order is time order.
pub(crate) fn time_text(t: Timestamp) -> String {
    DateTimePrinter::new()
        .precision(Some(9))
        .timestamp_to_string(&t)
}

/// An address as fixed-width hex with its family (`4:7f00000a`, `6:` and 32 digits), so that
/// text order is address order and a subnet is a text range (the `devices.ip_sort` column).
pub fn ip_sort_text(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(a) => format!("4:{:08x}", u32::from(a)),
        std::net::IpAddr::V6(a) => format!("6:{:032x}", u128::from(a)),
    }
}

/// Parses [`time_text`].
pub(crate) fn parse_time(text: &str) -> Result<Timestamp> {
    text.parse()
        .map_err(|e| Failure::Corrupt(format!("time {text:?}: {e}")))
}

/// Parses an optional [`time_text`].
pub(crate) fn parse_opt_time(text: Option<&str>) -> Result<Option<Timestamp>> {
    text.map(parse_time).transpose()
}

/// Parses a device key's text form.
pub(crate) fn parse_key(text: &str) -> Result<DeviceKey> {
    text.parse()
        .map_err(|e| Failure::Corrupt(format!("device key {text:?}: {e}")))
}

/// Parses [`Protocol::name`].
pub(crate) fn parse_protocol(text: &str) -> Result<Protocol> {
    Protocol::from_name(text).ok_or_else(|| Failure::Corrupt(format!("protocol {text:?}")))
}

/// Parses [`Outcome::name`].
pub(crate) fn parse_outcome(text: &str) -> Result<Outcome> {
    Outcome::from_name(text).ok_or_else(|| Failure::Corrupt(format!("probe outcome {text:?}")))
}

/// Parses [`Change::name`].
pub(crate) fn parse_change(text: &str) -> Result<Change> {
    [Change::New, Change::Enriched, Change::Unchanged]
        .into_iter()
        .find(|c| c.name() == text)
        .ok_or_else(|| Failure::Corrupt(format!("device change {text:?}")))
}

/// A count or duration as the database's signed integer.
pub(crate) fn to_i64(value: u64, what: &str) -> Result<i64> {
    i64::try_from(value).map_err(|_| Failure::Rejected(format!("{what} {value} is too large")))
}

/// A stored signed integer as a count or duration.
pub(crate) fn to_u64(value: i64, what: &str) -> Result<u64> {
    u64::try_from(value).map_err(|_| Failure::Corrupt(format!("{what} {value} is negative")))
}

/// A value as JSON text.
pub(crate) fn to_json<T: Serialize>(value: &T, what: &str) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Failure::Rejected(format!("{what} as JSON: {e}")))
}

/// A value from JSON text.
pub(crate) fn from_json<T: DeserializeOwned>(text: &str, what: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| Failure::Corrupt(format!("{what} JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_fixed_width_and_read_back_exactly() {
        let whole = Timestamp::from_second(1_700_000_000).unwrap();
        let fine = Timestamp::from_nanosecond(1_700_000_000_123_456_789).unwrap();
        assert_eq!(time_text(whole), "2023-11-14T22:13:20.000000000Z");
        assert_eq!(time_text(fine).len(), time_text(whole).len());
        assert!(time_text(whole) < time_text(fine));
        for t in [whole, fine] {
            assert_eq!(parse_time(&time_text(t)).unwrap(), t);
        }
        assert!(matches!(parse_time("yesterday"), Err(Failure::Corrupt(_))));
    }

    #[test]
    fn changes_read_back_by_name() {
        for c in [Change::New, Change::Enriched, Change::Unchanged] {
            assert_eq!(parse_change(c.name()).unwrap(), c);
        }
        assert!(parse_change("gone").is_err());
    }
}

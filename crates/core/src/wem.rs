//! Windows endpoint monitoring settings: scan ranges with credentials, and the schedule.
//!
//! Ranges are imported and exported as CSV with exactly the headers `FROM,TO,USER,PASSWORD,DISABLE`
//! (DISABLE is `TRUE` or `FALSE`). An import checks every line and either accepts all of them or
//! reports every bad line by number. Passwords never leave in clear: an export leaves PASSWORD
//! empty, and an import line with an empty PASSWORD keeps the password stored for the same range.

use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;

/// The CSV headers of a ranges file, in order.
pub const RANGE_HEADERS: [&str; 5] = ["FROM", "TO", "USER", "PASSWORD", "DISABLE"];
/// Most addresses one range may cover.
pub const MAX_RANGE_ADDRESSES: u128 = 65_536;

/// A password: never shown by `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Password(String);

impl Password {
    /// Wraps a password.
    pub fn new(s: impl Into<String>) -> Password {
        Password(s.into())
    }

    /// The clear text, for the login itself and for encryption at rest.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<hidden>")
    }
}

/// One scan range: the addresses FROM..=TO, scanned with USER / PASSWORD unless disabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WemRange {
    /// First address.
    pub from: IpAddr,
    /// Last address.
    pub to: IpAddr,
    /// Account, as `DOMAIN\user`, `user@domain` or `user`.
    pub user: String,
    /// Its password (empty in an imported line that keeps the stored one).
    pub password: Password,
    /// Whether the range is left out of scans.
    pub disabled: bool,
}

impl WemRange {
    /// How many addresses it covers.
    pub fn len(&self) -> u128 {
        let (a, b) = match (self.from, self.to) {
            (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) as u128, u32::from(b) as u128),
            (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b)),
            _ => return 0,
        };
        if b < a { 0 } else { (b - a).saturating_add(1) }
    }

    /// Whether it covers no address (never true for a validated range).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Its addresses, in order.
    pub fn addresses(&self) -> Vec<IpAddr> {
        match (self.from, self.to) {
            (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a)..=u32::from(b))
                .map(|n| IpAddr::V4(n.into()))
                .collect(),
            (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a)..=u128::from(b))
                .take(MAX_RANGE_ADDRESSES as usize)
                .map(|n| IpAddr::V6(n.into()))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// `FROM-TO`, as a target list names it.
    pub fn target_text(&self) -> String {
        format!("{}-{}", self.from, self.to)
    }
}

/// One bad line of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// Line number in the file (the header is line 1).
    pub line: u64,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Why an import was refused (nothing of it was taken).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// The header line is not `FROM,TO,USER,PASSWORD,DISABLE`.
    #[error("the header must be exactly FROM,TO,USER,PASSWORD,DISABLE, not {0}")]
    Header(String),
    /// Lines that do not validate.
    #[error("{} bad line(s), nothing imported: {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Lines(Vec<LineError>),
}

/// Parses a ranges CSV, checking every line. Passwords may be empty here (see [`import_ranges`]).
pub fn parse_ranges(csv_text: &str) -> Result<Vec<WemRange>, ImportError> {
    Ok(parse_lines(csv_text)?.into_iter().map(|(_, r)| r).collect())
}

/// Imports a ranges CSV over the `stored` ranges: every line checked, an empty PASSWORD keeping
/// the password stored for the same FROM-TO range; all lines or none.
pub fn import_ranges(csv_text: &str, stored: &[WemRange]) -> Result<Vec<WemRange>, ImportError> {
    let lines = parse_lines(csv_text)?;
    let mut errors = Vec::new();
    let mut out = Vec::with_capacity(lines.len());
    for (line, mut r) in lines {
        if r.password.is_empty() {
            match stored.iter().find(|s| s.from == r.from && s.to == r.to) {
                Some(s) if !s.password.is_empty() => r.password = s.password.clone(),
                _ => errors.push(LineError {
                    line,
                    message: format!(
                        "PASSWORD is empty and no password is stored for {}",
                        r.target_text()
                    ),
                }),
            }
        }
        out.push(r);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ImportError::Lines(errors))
    }
}

fn parse_lines(csv_text: &str) -> Result<Vec<(u64, WemRange)>, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::None)
        .from_reader(csv_text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| ImportError::Header(e.to_string()))?
        .clone();
    let names: Vec<&str> = headers
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim())
        .collect();
    if names != RANGE_HEADERS {
        return Err(ImportError::Header(names.join(",")));
    }
    let mut ranges = Vec::new();
    let mut errors = Vec::new();
    for (i, record) in reader.records().enumerate() {
        // the line in the file, counted from the record's byte offset (blank lines included)
        let line = record
            .as_ref()
            .ok()
            .and_then(|r| r.position())
            .map(|p| line_of(csv_text, p.byte()))
            .unwrap_or(i as u64 + 2);
        match record {
            Err(e) => errors.push(LineError {
                line,
                message: format!("not CSV: {e}"),
            }),
            Ok(r) if r.iter().all(|f| f.trim().is_empty()) => {}
            Ok(r) => match parse_line(&r) {
                Ok(range) => ranges.push((line, range)),
                Err(message) => errors.push(LineError { line, message }),
            },
        }
    }
    check_overlaps(&ranges, &mut errors);
    if errors.is_empty() {
        Ok(ranges)
    } else {
        errors.sort_by_key(|e| e.line);
        Err(ImportError::Lines(errors))
    }
}

/// The line of the record that starts at `byte` (the reader reports the start of the blank lines
/// it skipped before the record).
fn line_of(text: &str, byte: u64) -> u64 {
    let mut end = (byte as usize).min(text.len());
    while matches!(text.as_bytes().get(end), Some(b'\n' | b'\r')) {
        end += 1;
    }
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count() as u64
        + 1
}

fn parse_line(r: &csv::StringRecord) -> Result<WemRange, String> {
    if r.len() != RANGE_HEADERS.len() {
        return Err(format!(
            "{} fields, expected 5 (FROM,TO,USER,PASSWORD,DISABLE)",
            r.len()
        ));
    }
    let field = |i: usize| r.get(i).unwrap_or_default();
    let addr = |i: usize| -> Result<IpAddr, String> {
        field(i)
            .trim()
            .parse()
            .map_err(|_| format!("{} {:?} is not an IP address", RANGE_HEADERS[i], field(i)))
    };
    let (from, to) = (addr(0)?, addr(1)?);
    if from.is_ipv4() != to.is_ipv4() {
        return Err("FROM and TO are not of the same IP version".into());
    }
    let range = WemRange {
        from,
        to,
        user: field(2).trim().to_string(),
        password: Password::new(field(3)),
        disabled: match field(4).trim().to_ascii_uppercase().as_str() {
            "TRUE" => true,
            "FALSE" => false,
            other => return Err(format!("DISABLE {other:?} must be TRUE or FALSE")),
        },
    };
    if range.is_empty() {
        return Err(format!("TO {to} comes before FROM {from}"));
    }
    if range.len() > MAX_RANGE_ADDRESSES {
        return Err(format!(
            "{} addresses, more than the {MAX_RANGE_ADDRESSES} a range may cover",
            range.len()
        ));
    }
    if range.user.is_empty() {
        return Err("USER is empty".into());
    }
    if range.user.contains(['\r', '\n']) {
        return Err("USER spans lines".into());
    }
    Ok(range)
}

fn check_overlaps(ranges: &[(u64, WemRange)], errors: &mut Vec<LineError>) {
    for (i, (line, a)) in ranges.iter().enumerate() {
        for (other, b) in &ranges[..i] {
            let overlap = a.from.is_ipv4() == b.from.is_ipv4() && a.from <= b.to && b.from <= a.to;
            if overlap {
                errors.push(LineError {
                    line: *line,
                    message: format!(
                        "range {} overlaps range {} of line {other} (an address must have one set of credentials)",
                        a.target_text(),
                        b.target_text()
                    ),
                });
            }
        }
    }
}

/// The ranges as CSV, PASSWORD left empty.
pub fn export_ranges(ranges: &[WemRange]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(RANGE_HEADERS);
    for r in ranges {
        let _ = w.write_record([
            r.from.to_string(),
            r.to.to_string(),
            r.user.clone(),
            String::new(),
            if r.disabled { "TRUE" } else { "FALSE" }.to_string(),
        ]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// When WEM scans run by themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum WemSchedule {
    /// Only on request ("scan now").
    Manual,
    /// Every N hours.
    EveryHours {
        /// N (1 to 168).
        hours: u32,
    },
    /// At these times of day (local time of the sensor).
    TimesOfDay {
        /// The times, sorted.
        times: Vec<Time>,
    },
}

impl WemSchedule {
    /// Parses `manual`, `every 6h` / `6h`, or `02:00,14:30`.
    pub fn parse(s: &str) -> Result<WemSchedule, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("manual") {
            return Ok(WemSchedule::Manual);
        }
        let every = s.strip_prefix("every ").unwrap_or(s).trim();
        if let Some(h) = every.strip_suffix('h') {
            let hours: u32 = h
                .trim()
                .parse()
                .map_err(|_| format!("{s:?}: the hours of 'every Nh' must be a number"))?;
            if !(1..=168).contains(&hours) {
                return Err(format!("{s:?}: every 1 to 168 hours"));
            }
            return Ok(WemSchedule::EveryHours { hours });
        }
        let mut times = s
            .split(',')
            .map(|t| {
                t.trim()
                    .parse::<Time>()
                    .map_err(|_| format!("{t:?} is not a time of day (HH:MM)"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        times.sort();
        times.dedup();
        Ok(WemSchedule::TimesOfDay { times })
    }

    /// The next start after `now` (last start `last` for interval schedules), in time zone `tz`.
    pub fn next_after(
        &self,
        now: Timestamp,
        last: Option<Timestamp>,
        tz: &TimeZone,
    ) -> Option<Timestamp> {
        match self {
            WemSchedule::Manual => None,
            WemSchedule::EveryHours { hours } => {
                let span = (*hours as i64).hours();
                let next = last.and_then(|l| l.checked_add(span).ok()).unwrap_or(now);
                Some(next.max(now))
            }
            WemSchedule::TimesOfDay { times } => {
                let today = now.to_zoned(tz.clone()).date();
                [today, today.tomorrow().ok()?]
                    .into_iter()
                    .flat_map(|d| times.iter().map(move |t| d.to_datetime(*t)))
                    .filter_map(|dt| dt.to_zoned(tz.clone()).ok().map(|z| z.timestamp()))
                    .find(|t| *t > now)
            }
        }
    }
}

impl fmt::Display for WemSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WemSchedule::Manual => f.write_str("manual"),
            WemSchedule::EveryHours { hours } => write!(f, "every {hours}h"),
            WemSchedule::TimesOfDay { times } => {
                let list: Vec<String> = times
                    .iter()
                    .map(|t| t.strftime("%H:%M").to_string())
                    .collect();
                f.write_str(&list.join(","))
            }
        }
    }
}

/// One host of a WEM scan's results: one CSV row per host that answered.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct WemResult {
    /// The scanned address.
    pub ip: String,
    /// Computer name.
    pub name: String,
    /// Domain or workgroup.
    pub domain: String,
    /// OS name.
    pub os: String,
    /// OS version.
    pub os_version: String,
    /// OS build.
    pub os_build: String,
    /// Service pack.
    pub service_pack: String,
    /// Architecture.
    pub architecture: String,
    /// MAC addresses of the enabled interfaces, `;`-separated.
    pub macs: String,
    /// Their IP addresses, `;`-separated.
    pub ip_addresses: String,
    /// How many hotfixes are installed.
    pub hotfixes: usize,
    /// The most recently installed hotfix.
    pub last_kb: String,
    /// When it was installed.
    pub last_kb_installed: String,
    /// How many software packages are installed (empty when the host has no cheap class for it).
    pub software: String,
    /// When the host last booted.
    pub last_boot: String,
}

impl WemResult {
    /// The CSV headers of the results, in field order.
    pub const HEADERS: [&'static str; 15] = [
        "IP",
        "NAME",
        "DOMAIN",
        "OS",
        "OS_VERSION",
        "OS_BUILD",
        "SERVICE_PACK",
        "ARCHITECTURE",
        "MACS",
        "IP_ADDRESSES",
        "HOTFIXES",
        "LAST_KB",
        "LAST_KB_INSTALLED",
        "SOFTWARE",
        "LAST_BOOT",
    ];

    /// The result row of a host from the facts its probe returned.
    pub fn from_facts(address: IpAddr, facts: &[crate::Fact]) -> WemResult {
        use crate::Fact;
        let mut r = WemResult {
            ip: address.to_string(),
            ..WemResult::default()
        };
        for f in facts {
            match f {
                Fact::Name(n) => r.name = n.clone(),
                Fact::Domain(d) => r.domain = d.clone(),
                Fact::Os(os) => {
                    r.os = os.name.clone();
                    r.os_version = os.version.clone().unwrap_or_default();
                    r.os_build = os.build.clone().unwrap_or_default();
                    r.service_pack = os.service_pack.clone().unwrap_or_default();
                    r.architecture = os.architecture.clone().unwrap_or_default();
                    r.last_boot = os.last_boot.map(|t| t.to_string()).unwrap_or_default();
                }
                Fact::Interfaces(list) => {
                    let macs: Vec<String> = list
                        .iter()
                        .filter_map(|i| i.mac)
                        .map(|m| m.to_string())
                        .collect();
                    let ips: Vec<String> = list
                        .iter()
                        .flat_map(|i| &i.addresses)
                        .map(ToString::to_string)
                        .collect();
                    r.macs = macs.join(";");
                    r.ip_addresses = ips.join(";");
                }
                Fact::Hotfixes(list) => {
                    r.hotfixes = list.len();
                    if let Some(last) = list
                        .iter()
                        .filter(|h| h.installed_on.is_some())
                        .max_by(|a, b| a.installed_on.cmp(&b.installed_on))
                    {
                        r.last_kb = last.id.clone();
                        r.last_kb_installed = last.installed_on.clone().unwrap_or_default();
                    }
                }
                Fact::Software(list) => r.software = list.len().to_string(),
                _ => {}
            }
        }
        r
    }
}

/// One line of a WEM scan's probe log (CSV): every address probed, success or failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct WemLogLine {
    /// The probed address.
    pub ip: String,
    /// The range it belongs to (`FROM-TO`).
    pub range: String,
    /// `success` or `failure`.
    pub result: String,
    /// The probe's outcome (identified, no_response, refused, error, cancelled).
    pub outcome: String,
    /// The error's text (or the warnings of a success).
    pub error: String,
    /// When the probe started.
    pub started: String,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
}

impl WemLogLine {
    /// The CSV headers of the log, in field order.
    pub const HEADERS: [&'static str; 7] = [
        "IP",
        "RANGE",
        "RESULT",
        "OUTCOME",
        "ERROR",
        "STARTED",
        "DURATION_MS",
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "FROM,TO,USER,PASSWORD,DISABLE\n\
        127.0.0.70,127.0.0.75,LAB\\alice,Passw0rd!,FALSE\n\
        10.0.0.1,10.0.0.1,bob,\"p,w\"\"x\",TRUE\n";

    #[test]
    fn a_ranges_file_imports_and_exports_without_passwords() {
        let ranges = parse_ranges(FILE).unwrap();
        assert_eq!(ranges.len(), 2);
        assert_eq!(ranges[0].len(), 6);
        assert_eq!(ranges[0].user, "LAB\\alice");
        assert_eq!(ranges[1].password.expose(), "p,w\"x");
        assert!(ranges[1].disabled);
        let out = export_ranges(&ranges);
        assert_eq!(
            out,
            "FROM,TO,USER,PASSWORD,DISABLE\n127.0.0.70,127.0.0.75,LAB\\alice,,FALSE\n10.0.0.1,10.0.0.1,bob,,TRUE\n"
        );
        assert!(!format!("{ranges:?}").contains("Passw0rd"));
        // the export imports back, keeping the stored passwords
        let again = import_ranges(&out, &ranges).unwrap();
        assert_eq!(again, ranges);
    }

    #[test]
    fn every_bad_line_is_reported_by_number_and_nothing_is_taken() {
        let file = "FROM,TO,USER,PASSWORD,DISABLE\n\
            127.0.0.1,127.0.0.9,u,p,FALSE\n\
            127.0.0.300,127.0.0.9,u,p,FALSE\n\
            127.0.0.9,127.0.0.1,u,p,FALSE\n\
            127.0.1.1,127.0.1.2,,p,FALSE\n\
            127.0.2.1,127.0.2.2,u,p,maybe\n\
            127.0.3.1,127.0.3.2,u,p\n";
        let ImportError::Lines(errors) = parse_ranges(file).unwrap_err() else {
            panic!("expected line errors");
        };
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6, 7]);
        assert!(errors[0].message.contains("not an IP address"));
        assert!(errors[1].message.contains("comes before"));
        assert!(errors[2].message.contains("USER is empty"));
        assert!(errors[3].message.contains("TRUE or FALSE"));
        assert!(errors[4].message.contains("5"));
    }

    #[test]
    fn headers_must_be_exact() {
        assert!(matches!(
            parse_ranges("FROM,TO,USER,PASS,DISABLE\n"),
            Err(ImportError::Header(_))
        ));
        assert!(parse_ranges("\u{feff}FROM,TO,USER,PASSWORD,DISABLE\n").is_ok());
    }

    #[test]
    fn overlapping_and_huge_ranges_are_refused() {
        let e = parse_ranges(
            "FROM,TO,USER,PASSWORD,DISABLE\n10.0.0.1,10.0.0.9,a,p,FALSE\n10.0.0.5,10.0.0.20,b,p,FALSE\n",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("line 3: range 10.0.0.5-10.0.0.20 overlaps"),
            "{e}"
        );
        let e = parse_ranges("FROM,TO,USER,PASSWORD,DISABLE\n10.0.0.0,10.2.0.0,a,p,FALSE\n")
            .unwrap_err();
        assert!(e.to_string().contains("more than"), "{e}");
    }

    #[test]
    fn an_empty_password_needs_a_stored_one() {
        let e = import_ranges(
            "FROM,TO,USER,PASSWORD,DISABLE\n\n10.0.0.1,10.0.0.2,a,,FALSE\n",
            &[],
        )
        .unwrap_err();
        assert!(e.to_string().contains("line 3: PASSWORD is empty"), "{e}");
    }

    #[test]
    fn csv_headers_match_the_fields() {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.serialize(WemResult::default()).unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert_eq!(text.lines().next().unwrap(), WemResult::HEADERS.join(","));
        let mut w = csv::Writer::from_writer(Vec::new());
        w.serialize(WemLogLine {
            ip: String::new(),
            range: String::new(),
            result: String::new(),
            outcome: String::new(),
            error: String::new(),
            started: String::new(),
            duration_ms: 0,
        })
        .unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert_eq!(text.lines().next().unwrap(), WemLogLine::HEADERS.join(","));
    }

    #[test]
    fn schedules_parse_and_find_their_next_start() {
        let tz = TimeZone::UTC;
        let now: Timestamp = "2024-05-01T13:00:00Z".parse().unwrap();
        let s = WemSchedule::parse("02:00, 14:30").unwrap();
        assert_eq!(s.to_string(), "02:00,14:30");
        assert_eq!(
            s.next_after(now, None, &tz).unwrap().to_string(),
            "2024-05-01T14:30:00Z"
        );
        let late: Timestamp = "2024-05-01T15:00:00Z".parse().unwrap();
        assert_eq!(
            s.next_after(late, None, &tz).unwrap().to_string(),
            "2024-05-02T02:00:00Z"
        );
        let e = WemSchedule::parse("every 6h").unwrap();
        let last: Timestamp = "2024-05-01T10:00:00Z".parse().unwrap();
        assert_eq!(
            e.next_after(now, Some(last), &tz).unwrap().to_string(),
            "2024-05-01T16:00:00Z"
        );
        assert_eq!(e.next_after(now, None, &tz), Some(now));
        assert_eq!(
            WemSchedule::parse("manual")
                .unwrap()
                .next_after(now, None, &tz),
            None
        );
        assert!(WemSchedule::parse("25:00").is_err());
        assert!(WemSchedule::parse("every 0h").is_err());
    }

    proptest::proptest! {
        #[test]
        fn importing_arbitrary_text_never_panics(text in ".{0,200}") {
            let _ = parse_ranges(&text);
            let with_header = format!("FROM,TO,USER,PASSWORD,DISABLE\n{text}");
            let _ = import_ranges(&with_header, &[]);
        }

        #[test]
        fn schedule_parsing_never_panics(text in ".{0,30}") {
            if let Ok(s) = WemSchedule::parse(&text) {
                let _ = s.next_after(Timestamp::UNIX_EPOCH, None, &TimeZone::UTC);
            }
        }
    }
}

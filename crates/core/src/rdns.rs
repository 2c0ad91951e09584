//! Reverse DNS settings: the DNS servers to ask, which subnets each one answers for, how many
//! labels of a name to show, when to run, and how fast.
//!
//! Settings arrive as a [`DnsServerInput`] (what a form, the REST API, a configuration file or the
//! command line gave, as text or numbers) and become a validated [`DnsServerSettings`] through
//! [`DnsServerSettings::from_input`], whose [`SettingsError`] lists every wrong field by name.
//! [`DnsServerSettings::to_input`] gives the form back for editing.

use crate::schedule::Schedule;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The standard DNS port.
pub const DEFAULT_PORT: u16 = 53;
/// Labels of a name shown by default (the host name alone).
pub const DEFAULT_LABELS: u8 = 1;
/// The most labels a DNS name can have.
pub const MAX_LABELS: u8 = 127;
/// The most characters of a host name shown.
pub const MAX_NAME_CHARS: usize = 30;
/// Queries per second to one DNS server by default.
pub const DEFAULT_RATE: u32 = 200;
/// The highest configurable query rate (0 lifts the limit instead).
pub const MAX_RATE: u32 = 1_000_000;
/// The default schedule: once a day at 03:00.
pub const DEFAULT_SCHEDULE: &str = "03:00";
/// The most subnets one server may list.
pub const MAX_SUBNETS: usize = 1024;

/// A number as a form or API gave it: a JSON number or text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum NumberInput {
    /// A number.
    Number(i64),
    /// Text, to be read as a number.
    Text(String),
}

impl From<i64> for NumberInput {
    fn from(n: i64) -> NumberInput {
        NumberInput::Number(n)
    }
}

impl From<&str> for NumberInput {
    fn from(s: &str) -> NumberInput {
        NumberInput::Text(s.to_string())
    }
}

/// One DNS server's settings as given, before validation. Absent optional fields take their
/// defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DnsServerInput {
    /// The server's IP address, optionally with the port: `10.1.2.3`, `10.1.2.3:5300`,
    /// `fd00::53`, `[fd00::53]:5300`.
    pub address: String,
    /// The port (default 53); must not also be given in `address`.
    pub port: Option<NumberInput>,
    /// How many labels of a name to show, from the left (default 1: the host name).
    pub labels: Option<NumberInput>,
    /// The subnets whose addresses this server resolves: CIDR blocks (IPv4 or IPv6, any prefix
    /// length, host bits allowed), bare addresses, or IPv4 `address/netmask`; an item may hold
    /// several separated by commas or white space.
    pub subnets: Vec<String>,
    /// `every N hours`, or times of day in 24-hour form `HH:MM[, HH:MM...]` (default 03:00).
    pub schedule: Option<String>,
    /// Whether scheduled runs happen (default true).
    pub enabled: Option<bool>,
    /// Queries per second to this server (default 200; 0 lifts the limit).
    pub rate: Option<NumberInput>,
}

/// One DNS server's validated settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsServerSettings {
    /// The server's address.
    pub address: IpAddr,
    /// Its port, 1 to 65535.
    pub port: u16,
    /// Labels shown, 1 to [`MAX_LABELS`].
    pub labels: u8,
    /// The subnets it resolves (host bits cleared, no duplicates, at least one).
    pub subnets: Vec<IpNet>,
    /// When it runs.
    pub schedule: Schedule,
    /// Whether scheduled runs happen.
    pub enabled: bool,
    /// Queries per second to it (0: no limit).
    pub rate: u32,
}

/// One wrong field: its name (`port`, `subnets[2]`, ...) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The field's name as in [`DnsServerInput`], with an index for list items.
    pub field: String,
    /// What is wrong, naming the value.
    pub message: String,
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Every wrong field of one input (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SettingsError {
    /// The wrong fields, in the order of [`DnsServerInput`]'s fields.
    pub errors: Vec<FieldError>,
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let all: Vec<String> = self.errors.iter().map(ToString::to_string).collect();
        f.write_str(&all.join("; "))
    }
}

impl DnsServerSettings {
    /// Validates `input`; the error lists every wrong field.
    pub fn from_input(input: &DnsServerInput) -> Result<DnsServerSettings, SettingsError> {
        let mut errors = Vec::new();
        let server = parse_server(&input.address, input.port.as_ref())
            .map_err(|e| errors.push(e))
            .ok();
        let labels = read_labels(input.labels.as_ref())
            .map_err(|e| errors.push(e))
            .ok();
        let subnets = read_subnets(&input.subnets, &mut errors);
        let schedule = input
            .schedule
            .as_deref()
            .unwrap_or(DEFAULT_SCHEDULE)
            .parse::<Schedule>()
            .map_err(|e| errors.push(FieldError::new("schedule", e.to_string())))
            .ok();
        let rate = read_rate(input.rate.as_ref())
            .map_err(|e| errors.push(e))
            .ok();
        match (server, labels, subnets, schedule, rate) {
            (Some(server), Some(labels), Some(subnets), Some(schedule), Some(rate))
                if errors.is_empty() =>
            {
                Ok(DnsServerSettings {
                    address: server.ip(),
                    port: server.port(),
                    labels,
                    subnets,
                    schedule,
                    enabled: input.enabled.unwrap_or(true),
                    rate,
                })
            }
            _ => Err(SettingsError { errors }),
        }
    }

    /// The settings as a form, for editing ([`DnsServerSettings::from_input`] reads it back).
    pub fn to_input(&self) -> DnsServerInput {
        DnsServerInput {
            address: self.address.to_string(),
            port: Some(i64::from(self.port).into()),
            labels: Some(i64::from(self.labels).into()),
            subnets: self.subnets.iter().map(ToString::to_string).collect(),
            schedule: Some(self.schedule.to_string()),
            enabled: Some(self.enabled),
            rate: Some(i64::from(self.rate).into()),
        }
    }

    /// The server's socket address.
    pub fn server(&self) -> SocketAddr {
        SocketAddr::new(self.address, self.port)
    }

    /// Whether `addr` lies in one of the server's subnets.
    pub fn covers(&self, addr: IpAddr) -> bool {
        self.subnets.iter().any(|net| net.contains(&addr))
    }

    /// The host name to show for `fqdn` under these settings (see [`host_name`]).
    pub fn host_name(&self, fqdn: &str) -> String {
        host_name(fqdn, self.labels)
    }
}

/// What one reverse lookup said about one address, as the inventory takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameLookup {
    /// The address looked up.
    pub address: IpAddr,
    /// What the server said.
    pub result: NameResult,
    /// When the lookup ended.
    pub looked_up: jiff::Timestamp,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// The lookup in words (the names, or exactly what failed), for the probe log.
    pub detail: String,
}

/// The gist of a lookup: names, no name, or no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameResult {
    /// The names found, sorted; the first is the FQDN the inventory records.
    Found(Vec<String>),
    /// The server says there is no name (NXDOMAIN, or no PTR record).
    Missing,
    /// No statement about the name could be had; the probe-log outcome says how it failed
    /// (no response, refused, error).
    Failed(crate::probe::Outcome),
}

impl NameLookup {
    /// The FQDN the inventory records: the first name found.
    pub fn fqdn(&self) -> Option<&str> {
        match &self.result {
            NameResult::Found(names) => names.first().map(String::as_str),
            _ => None,
        }
    }

    /// The probe-log outcome: identified when found, error for no name, else the failure's.
    pub fn outcome(&self) -> crate::probe::Outcome {
        match &self.result {
            NameResult::Found(_) => crate::probe::Outcome::Identified,
            NameResult::Missing => crate::probe::Outcome::Error,
            NameResult::Failed(outcome) => *outcome,
        }
    }
}

/// Parses a server given as `ADDR`, `ADDR:PORT`, `[V6]:PORT` or `V6`, with `port` given apart
/// (or not). Errors name the field `address` or `port`.
pub fn parse_server(address: &str, port: Option<&NumberInput>) -> Result<SocketAddr, FieldError> {
    let text = address.trim();
    if text.is_empty() {
        return Err(FieldError::new(
            "address",
            "no DNS server address given (an IPv4 or IPv6 address, optionally with :PORT)",
        ));
    }
    let (ip, inline_port) = split_address(text)?;
    let port = match (inline_port, port) {
        (Some(_), Some(_)) => {
            return Err(FieldError::new(
                "port",
                format!("given twice: in the address '{text}' and as the port"),
            ));
        }
        (Some(p), None) => read_port(&NumberInput::Text(p.to_string()))?,
        (None, Some(p)) => read_port(p)?,
        (None, None) => DEFAULT_PORT,
    };
    Ok(SocketAddr::new(ip, port))
}

/// Splits `ADDR[:PORT]` / `[V6]:PORT` / `V6` into the address and the port's text.
fn split_address(text: &str) -> Result<(IpAddr, Option<&str>), FieldError> {
    let bad = || {
        FieldError::new(
            "address",
            format!(
                "'{text}' is not an IP address (write 10.1.2.3, 10.1.2.3:5300, fd00::53 or [fd00::53]:5300)"
            ),
        )
    };
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok((ip, None));
    }
    if let Some(rest) = text.strip_prefix('[') {
        let (ip, after) = rest.split_once(']').ok_or_else(bad)?;
        let ip = ip.parse::<IpAddr>().map_err(|_| bad())?;
        return match after {
            "" => Ok((ip, None)),
            _ => Ok((ip, Some(after.strip_prefix(':').ok_or_else(bad)?))),
        };
    }
    let (ip, port) = text.rsplit_once(':').ok_or_else(bad)?;
    let ip = ip.parse::<Ipv4Addr>().map_err(|_| bad())?;
    Ok((IpAddr::V4(ip), Some(port)))
}

/// Reads a whole number from a form value; errors name `field`.
fn read_number(field: &str, value: &NumberInput) -> Result<i64, FieldError> {
    match value {
        NumberInput::Number(n) => Ok(*n),
        NumberInput::Text(t) => t
            .trim()
            .parse()
            .map_err(|_| FieldError::new(field, format!("'{t}' is not a whole number"))),
    }
}

fn read_port(value: &NumberInput) -> Result<u16, FieldError> {
    let n = read_number("port", value)?;
    match u16::try_from(n) {
        Ok(0) | Err(_) => Err(FieldError::new(
            "port",
            format!("{n} is not a port: it must be from 1 to 65535"),
        )),
        Ok(p) => Ok(p),
    }
}

fn read_labels(value: Option<&NumberInput>) -> Result<u8, FieldError> {
    let Some(value) = value else {
        return Ok(DEFAULT_LABELS);
    };
    let n = read_number("labels", value)?;
    match u8::try_from(n) {
        Ok(l) if (1..=MAX_LABELS).contains(&l) => Ok(l),
        _ => Err(FieldError::new(
            "labels",
            format!("{n}: the number of labels to show must be from 1 to {MAX_LABELS}"),
        )),
    }
}

fn read_rate(value: Option<&NumberInput>) -> Result<u32, FieldError> {
    let Some(value) = value else {
        return Ok(DEFAULT_RATE);
    };
    let n = read_number("rate", value)?;
    match u32::try_from(n) {
        Ok(r) if r <= MAX_RATE => Ok(r),
        _ => Err(FieldError::new(
            "rate",
            format!("{n}: queries per second must be from 0 (no limit) to {MAX_RATE}"),
        )),
    }
}

/// Reads every subnet; pushes one error per bad item (field `subnets[i]`, or `subnets`).
fn read_subnets(items: &[String], errors: &mut Vec<FieldError>) -> Option<Vec<IpNet>> {
    let mut nets: Vec<IpNet> = Vec::new();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        for part in item
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|p| !p.is_empty())
        {
            match parse_subnet(part) {
                Ok(net) if !nets.contains(&net) => nets.push(net),
                Ok(_) => {}
                Err(message) => {
                    ok = false;
                    errors.push(FieldError::new(format!("subnets[{i}]"), message));
                }
            }
        }
    }
    if ok && nets.is_empty() {
        errors.push(FieldError::new(
            "subnets",
            "no subnet given: name at least one CIDR block, e.g. 10.20.0.0/16 or fd00:1::/64",
        ));
        return None;
    }
    if nets.len() > MAX_SUBNETS {
        errors.push(FieldError::new(
            "subnets",
            format!("{} subnets: at most {MAX_SUBNETS}", nets.len()),
        ));
        return None;
    }
    ok.then_some(nets)
}

/// Parses one subnet: `A.B.C.D/P`, `V6/P`, a bare address, or `A.B.C.D/M.M.M.M`; host bits
/// are cleared.
pub fn parse_subnet(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(IpNet::from(ip));
    }
    let Some((addr, mask)) = text.split_once('/') else {
        return Err(format!(
            "'{text}' is not a subnet (write a CIDR block such as 10.20.0.0/16 or fd00:1::/64)"
        ));
    };
    match addr.parse::<IpAddr>() {
        Err(_) => Err(format!("'{text}': '{addr}' is not an IP address")),
        Ok(IpAddr::V4(v4)) => {
            let prefix = netmask_prefix(mask).ok_or_else(|| {
                format!("'{text}': '{mask}' is not a prefix length from 0 to 32 nor a netmask")
            })?;
            Ipv4Net::new(v4, prefix)
                .map(|n| IpNet::V4(n.trunc()))
                .map_err(|e| format!("'{text}': {e}"))
        }
        Ok(IpAddr::V6(v6)) => {
            let fix = format!("'{text}': '{mask}' is not a prefix length from 0 to 128");
            let prefix: u8 = mask.parse().map_err(|_| fix.clone())?;
            Ipv6Net::new(v6, prefix)
                .map(|n| IpNet::V6(n.trunc()))
                .map_err(|_| fix)
        }
    }
}

/// The prefix length of a contiguous IPv4 netmask such as 255.255.255.0.
fn netmask_prefix(mask: &str) -> Option<u8> {
    let bits = u32::from(mask.parse::<Ipv4Addr>().ok()?);
    let prefix = bits.leading_ones();
    (bits.checked_shl(prefix).unwrap_or(0) == 0).then_some(prefix as u8)
}

/// The host name shown for `fqdn`: its first `labels` labels (escapes such as `\.` kept whole),
/// without the final dot, cut to at most [`MAX_NAME_CHARS`] characters.
///
/// `host_name("plc-7.line-2.plant.example.", 2)` is `plc-7.line-2`.
pub fn host_name(fqdn: &str, labels: u8) -> String {
    let mut out = String::new();
    let mut chars = 0usize;
    let mut label = 0u8;
    let mut tokens = presentation_tokens(fqdn.strip_suffix('.').unwrap_or(fqdn)).peekable();
    while let Some(token) = tokens.next() {
        if token == "." {
            label += 1;
            if label >= labels || tokens.peek().is_none() {
                break;
            }
        }
        let width = token.chars().count();
        if chars + width > MAX_NAME_CHARS {
            break;
        }
        chars += width;
        out.push_str(token);
    }
    out
}

/// Splits a name in presentation form into tokens: `.` separators, escapes (`\.`, `\065`) and
/// single characters.
fn presentation_tokens(name: &str) -> impl Iterator<Item = &str> {
    let mut rest = name;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let len = if first == '\\' {
            let after: &str = &rest[1..];
            match after.chars().next() {
                Some(c) if c.is_ascii_digit() => {
                    1 + after.bytes().take(3).take_while(u8::is_ascii_digit).count()
                }
                Some(c) => 1 + c.len_utf8(),
                None => 1,
            }
        } else {
            first.len_utf8()
        };
        let (token, tail) = rest.split_at(len);
        rest = tail;
        Some(token)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::TimeOfDay;
    use proptest::prelude::*;

    fn input() -> DnsServerInput {
        DnsServerInput {
            address: "127.0.0.53".into(),
            port: Some(5300.into()),
            labels: Some(2.into()),
            subnets: vec!["10.20.0.0/16".into(), "fd00:1::/64".into()],
            schedule: Some("02:30, 14:00".into()),
            enabled: Some(true),
            rate: Some("0".into()),
        }
    }

    fn fields(input: &DnsServerInput) -> Vec<String> {
        DnsServerSettings::from_input(input)
            .unwrap_err()
            .errors
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn a_good_input_validates_and_round_trips() {
        let s = DnsServerSettings::from_input(&input()).unwrap();
        assert_eq!(s.server().to_string(), "127.0.0.53:5300");
        assert_eq!(s.labels, 2);
        assert_eq!(s.rate, 0);
        assert_eq!(
            s.schedule,
            Schedule::DailyAt(vec![
                TimeOfDay::new(2, 30).unwrap(),
                TimeOfDay::new(14, 0).unwrap()
            ])
        );
        assert!(s.covers("10.20.255.1".parse().unwrap()));
        assert!(s.covers("fd00:1::99".parse().unwrap()));
        assert!(!s.covers("10.21.0.1".parse().unwrap()));
        assert_eq!(DnsServerSettings::from_input(&s.to_input()).unwrap(), s);
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<DnsServerSettings>(&json).unwrap(), s);
    }

    #[test]
    fn defaults_fill_what_is_absent() {
        let s = DnsServerSettings::from_input(&DnsServerInput {
            address: "10.1.2.3".into(),
            subnets: vec!["10.1.0.0/16".into()],
            ..Default::default()
        })
        .unwrap();
        assert_eq!(s.port, 53);
        assert_eq!(s.labels, 1);
        assert_eq!(s.rate, 200);
        assert!(s.enabled);
        assert_eq!(s.schedule.to_string(), "03:00");
    }

    #[test]
    fn server_addresses_take_every_form() {
        let p = |a: &str| parse_server(a, None).map(|s| s.to_string());
        assert_eq!(p("10.1.2.3").unwrap(), "10.1.2.3:53");
        assert_eq!(p("10.1.2.3:5300").unwrap(), "10.1.2.3:5300");
        assert_eq!(p("fd00::53").unwrap(), "[fd00::53]:53");
        assert_eq!(p("[fd00::53]:5300").unwrap(), "[fd00::53]:5300");
        assert_eq!(p("[fd00::53]").unwrap(), "[fd00::53]:53");
        assert_eq!(p("10.1.2.3:0").unwrap_err().field, "port");
        assert_eq!(p("10.1.2.3:65536").unwrap_err().field, "port");
        assert_eq!(p("10.1.2.3:x").unwrap_err().field, "port");
        assert_eq!(p("dns.example").unwrap_err().field, "address");
        assert_eq!(p("10.1.2").unwrap_err().field, "address");
        assert_eq!(p("").unwrap_err().field, "address");
        let twice = parse_server("10.1.2.3:53", Some(&53.into())).unwrap_err();
        assert_eq!(twice.field, "port");
    }

    #[test]
    fn each_bad_field_is_named() {
        let mut bad = input();
        bad.port = Some(0.into());
        assert_eq!(fields(&bad), ["port"]);
        bad.port = Some(65536.into());
        let err = DnsServerSettings::from_input(&bad).unwrap_err();
        assert_eq!(
            err.to_string(),
            "port: 65536 is not a port: it must be from 1 to 65535"
        );
        let mut bad = input();
        bad.labels = Some(0.into());
        assert_eq!(fields(&bad), ["labels"]);
        let mut bad = input();
        bad.schedule = Some("2:30 PM".into());
        let err = DnsServerSettings::from_input(&bad).unwrap_err();
        assert_eq!(err.errors[0].field, "schedule");
        assert!(err.to_string().contains("'2:30 PM'"), "{err}");
        let mut bad = input();
        bad.subnets = vec!["10.20.0.0/16".into(), "10.20.0.0/33".into(), "x".into()];
        assert_eq!(fields(&bad), ["subnets[1]", "subnets[2]"]);
        let mut bad = input();
        bad.subnets = vec![];
        assert_eq!(fields(&bad), ["subnets"]);
        let mut bad = input();
        bad.rate = Some((-1).into());
        assert_eq!(fields(&bad), ["rate"]);
        // several at once, in field order
        let bad = DnsServerInput {
            address: "nowhere".into(),
            labels: Some("many".into()),
            subnets: vec!["10.0.0.0/8".into()],
            schedule: Some("25:00".into()),
            ..Default::default()
        };
        assert_eq!(fields(&bad), ["address", "labels", "schedule"]);
    }

    #[test]
    fn subnets_come_in_any_cidr_form() {
        let p = |s: &str| parse_subnet(s).map(|n| n.to_string());
        assert_eq!(p("10.20.0.0/16").unwrap(), "10.20.0.0/16");
        assert_eq!(p("10.20.3.4/16").unwrap(), "10.20.0.0/16");
        assert_eq!(p("10.20.3.4").unwrap(), "10.20.3.4/32");
        assert_eq!(p("10.20.0.0/255.255.0.0").unwrap(), "10.20.0.0/16");
        assert_eq!(p("fd00:1::5/64").unwrap(), "fd00:1::/64");
        assert_eq!(p("::1").unwrap(), "::1/128");
        assert!(p("10.20.0.0/255.0.255.0").is_err());
        assert!(p("10.20.0.0/33").is_err());
        assert!(p("fd00::/129").is_err());
        assert!(p("10.20.0.0/").is_err());
        let mut errors = Vec::new();
        let nets = read_subnets(&["10.0.0.0/8, 10.0.0.0/8 fd00::/8".into()], &mut errors);
        assert_eq!(nets.unwrap().len(), 2);
        assert!(errors.is_empty());
    }

    #[test]
    fn host_names_keep_n_labels_and_thirty_characters() {
        assert_eq!(host_name("plc-7.line-2.plant.example.", 1), "plc-7");
        assert_eq!(host_name("plc-7.line-2.plant.example.", 2), "plc-7.line-2");
        assert_eq!(
            host_name("plc-7.line-2.plant.example", 9),
            "plc-7.line-2.plant.example"
        );
        let long = "historian-primary-archive-server-01.control-room-2.plant.ot.example.";
        assert_eq!(host_name(long, 1), "historian-primary-archive-serv");
        assert_eq!(host_name(long, 1).chars().count(), 30);
        assert_eq!(host_name(long, 3), host_name(long, 1));
        assert_eq!(host_name(r"a\.b.c", 1), r"a\.b");
        assert_eq!(host_name(r"\065bc.d", 1), r"\065bc");
        assert_eq!(host_name(".", 1), "");
    }

    proptest! {
        #[test]
        fn host_names_never_exceed_the_limit(name in "[a-z0-9.\\\\-]{0,300}", labels in 1u8..10) {
            let shown = host_name(&name, labels);
            prop_assert!(shown.chars().count() <= MAX_NAME_CHARS);
            prop_assert!(shown.split('.').count() <= usize::from(labels).max(1) + shown.matches("\\.").count());
        }

        #[test]
        fn validation_never_panics(
            address in ".{0,30}", port in any::<i64>(), labels in any::<i64>(),
            subnet in ".{0,30}", schedule in ".{0,20}",
        ) {
            let _ = DnsServerSettings::from_input(&DnsServerInput {
                address, port: Some(port.into()), labels: Some(labels.into()),
                subnets: vec![subnet], schedule: Some(schedule), enabled: None, rate: None,
            });
        }
    }
}

//! The result of one address's reverse lookup: the names found, or exactly why none was.

use crate::name::Name;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// How a lookup ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LookupStatus {
    /// One or more PTR names.
    Found,
    /// NXDOMAIN: the server says the name does not exist (no PTR record for the address).
    NxDomain,
    /// NOERROR without a PTR record: the name exists, but has no PTR record.
    NoData,
    /// SERVFAIL: the server could not answer (a zone that did not load, a failed upstream).
    ServFail,
    /// REFUSED: the server refuses to answer (not its zone, or an ACL against the sensor).
    Refused,
    /// No answer within the time limit, after every retry.
    Timeout,
    /// ICMP port unreachable: nothing listens at the server's address and port.
    Unreachable,
    /// Anything else: another response code, a malformed answer, a CNAME loop, a failed TCP
    /// fallback, a socket error (the lookup's `detail` says which).
    Error,
}

impl LookupStatus {
    /// Every status.
    pub const ALL: [LookupStatus; 8] = [
        LookupStatus::Found,
        LookupStatus::NxDomain,
        LookupStatus::NoData,
        LookupStatus::ServFail,
        LookupStatus::Refused,
        LookupStatus::Timeout,
        LookupStatus::Unreachable,
        LookupStatus::Error,
    ];

    /// The name used in output, the store and the API.
    pub fn name(self) -> &'static str {
        match self {
            LookupStatus::Found => "found",
            LookupStatus::NxDomain => "nxdomain",
            LookupStatus::NoData => "nodata",
            LookupStatus::ServFail => "servfail",
            LookupStatus::Refused => "refused",
            LookupStatus::Timeout => "timeout",
            LookupStatus::Unreachable => "unreachable",
            LookupStatus::Error => "error",
        }
    }

    /// Parses [`LookupStatus::name`].
    pub fn from_name(name: &str) -> Option<LookupStatus> {
        LookupStatus::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Whether the server said there is no name (as opposed to failing to say anything).
    pub fn is_missing(self) -> bool {
        matches!(self, LookupStatus::NxDomain | LookupStatus::NoData)
    }

    /// Whether the lookup failed (no statement about the name could be had).
    pub fn is_failure(self) -> bool {
        !matches!(
            self,
            LookupStatus::Found | LookupStatus::NxDomain | LookupStatus::NoData
        )
    }
}

impl fmt::Display for LookupStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The reverse lookup of one address against one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// The address looked up.
    pub address: IpAddr,
    /// The server asked.
    pub server: SocketAddr,
    /// How it ended.
    pub status: LookupStatus,
    /// The names found, in presentation form without the final dot, sorted ignoring case and
    /// without duplicates; empty unless found.
    pub names: Vec<String>,
    /// The CNAMEs followed from the reverse name (RFC 2317), in order.
    pub aliases: Vec<String>,
    /// Queries sent over UDP (retries and CNAME follow-ups included).
    pub udp_queries: u32,
    /// Whether an answer came truncated and was asked again over TCP.
    pub tcp: bool,
    /// From the first query to the end.
    pub elapsed: Duration,
    /// What went wrong, for [`LookupStatus::Error`] (and the response code of other errors).
    pub detail: Option<String>,
    /// The per-lookup time limit that applied.
    pub time_limit: Duration,
}

impl Lookup {
    /// The first name (in the sorted order): the FQDN the inventory records.
    pub fn fqdn(&self) -> Option<&str> {
        self.names.first().map(String::as_str)
    }

    /// The reverse name of the address (`D.C.B.A.in-addr.arpa`, or under `ip6.arpa`).
    pub fn reverse(&self) -> String {
        Name::reverse(self.address).to_string()
    }

    /// The name the final answer is about: the reverse name, or the last CNAME's target.
    pub fn asked(&self) -> String {
        self.aliases
            .last()
            .cloned()
            .unwrap_or_else(|| self.reverse())
    }

    /// One line for people: the name(s), or exactly what failed and what to check.
    pub fn describe(&self) -> String {
        let Lookup {
            address, server, ..
        } = self;
        let asked = &self.asked();
        let via = if self.aliases.is_empty() {
            String::new()
        } else {
            format!(" (reached from {} through CNAME)", self.reverse())
        };
        match self.status {
            LookupStatus::Found => format!("{address} is {}", self.names.join(", ")),
            LookupStatus::NxDomain => format!(
                "{address} has no name: {server} answered NXDOMAIN for {asked}{via} (no PTR record)"
            ),
            LookupStatus::NoData => format!(
                "{address} has no name: {server} answered NOERROR without a PTR record for {asked}{via}"
            ),
            LookupStatus::ServFail => format!(
                "{server} answered SERVFAIL for {asked}{via}: the server could not answer (a zone that did not load, or a failed upstream); check the server's log"
            ),
            LookupStatus::Refused => format!(
                "{server} answered REFUSED for {asked}{via}: the server does not answer for this reverse zone, or refuses queries from this sensor; check its zones and access lists"
            ),
            LookupStatus::Timeout => format!(
                "no answer from {server} for {asked} within {:.1} s ({} UDP queries{}): check the server's address and port, that it runs, and firewalls between",
                self.time_limit.as_secs_f64(),
                self.udp_queries,
                if self.tcp { ", then TCP" } else { "" },
            ),
            LookupStatus::Unreachable => format!(
                "{server} is unreachable: ICMP port unreachable for {asked} (nothing listens on UDP port {}); check the server's address and port",
                server.port()
            ),
            LookupStatus::Error => format!(
                "lookup of {address} on {server} failed: {}",
                self.detail.as_deref().unwrap_or("unknown error")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_by_name() {
        for s in LookupStatus::ALL {
            assert_eq!(LookupStatus::from_name(s.name()), Some(s));
        }
        assert!(LookupStatus::Timeout.is_failure());
        assert!(LookupStatus::NxDomain.is_missing());
        assert!(!LookupStatus::Found.is_failure());
    }
}

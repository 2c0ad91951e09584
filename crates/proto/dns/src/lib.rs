//! Reverse DNS for otsensor: a pure DNS codec for PTR queries and their answers, and a paced,
//! pipelined resolver that looks many addresses up against one server.
//!
//! # The only request this crate can send
//!
//! The safety rules allow read requests only. [`codec::PtrQuery`] is the one message this crate
//! can build, and it has no fields but the ID and the name:
//!
//! | field | value |
//! |---|---|
//! | header | QR 0 (query), OPCODE 0 (QUERY), RD 1, QDCOUNT 1, ANCOUNT/NSCOUNT/ARCOUNT 0, no EDNS |
//! | question | QNAME = the address's reverse name (`D.C.B.A.in-addr.arpa`, 32 nibbles + `ip6.arpa`) or a CNAME target the server itself named for it (RFC 2317), QTYPE 12 (PTR), QCLASS 1 (IN) |
//! | transport | UDP to the configured server; the same bytes over TCP (two-octet length prefix, RFC 1035 4.2.2) only when the UDP answer came truncated (TC) |
//!
//! Nothing is ever sent to the addresses being looked up: they only appear inside the question
//! names. Packets go to the configured DNS server alone, after [`Resolver::new`] checked it
//! against the scope.
//!
//! # Results
//!
//! Each address gets one [`Lookup`]: the names found ([`LookupStatus::Found`], several PTR
//! records kept, sorted), or NXDOMAIN, NODATA, SERVFAIL, REFUSED, a timeout, ICMP port
//! unreachable, or an error naming what failed, each reported as such.

pub mod codec;
pub mod lookup;
pub mod name;
pub mod resolver;
pub mod tcp;

pub use codec::{Answer, CodecError, PtrQuery, Rcode, Response};
pub use lookup::{Lookup, LookupStatus};
pub use name::Name;
pub use resolver::{Resolver, ResolverConfig, ResolverError};

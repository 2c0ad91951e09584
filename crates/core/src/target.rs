//! Target sets: what an operator asked to scan, parsed and bounded.
//!
//! A target is an address, a CIDR block (IPv4 or IPv6), a range `A-B`, or a comma list of these.

use ipnet::IpNet;
use std::collections::HashSet;
use std::fmt;
use std::net::IpAddr;

/// The default bound on the number of addresses in one scan.
pub const DEFAULT_MAX_ADDRESSES: u64 = 65_536;

/// Why a target list was refused. Each message names the offending item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Nothing was given.
    #[error("no targets given")]
    Empty,
    /// An item is neither an address, a block nor a range.
    #[error("{0}: not an address, a CIDR block or a range A-B")]
    Unparsable(String),
    /// A CIDR block with an impossible prefix.
    #[error("{item}: {reason}")]
    BadCidr {
        /// The item as given.
        item: String,
        /// What is wrong.
        reason: String,
    },
    /// A range whose start comes after its end.
    #[error("{0}: start is after end")]
    Backwards(String),
    /// A range mixing IPv4 and IPv6.
    #[error("{0}: start and end are of different address families")]
    MixedFamilies(String),
    /// The set is larger than the bound.
    #[error(
        "{what}: {count} addresses, above the limit of {limit} per scan (raise it with --max-targets)"
    )]
    TooLarge {
        /// The item (or "the targets" for the whole list) that broke the bound.
        what: String,
        /// How many addresses it holds.
        count: u128,
        /// The bound.
        limit: u64,
    },
}

/// One item of a target list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A single address.
    Address(IpAddr),
    /// A CIDR block (host bits cleared).
    Block(IpNet),
    /// An inclusive range of addresses of one family.
    Range(IpAddr, IpAddr),
}

impl Target {
    /// Parses one item (no commas).
    pub fn parse(item: &str) -> Result<Target, TargetError> {
        let item = item.trim();
        if item.is_empty() {
            return Err(TargetError::Empty);
        }
        if let Some((start, end)) = item.split_once('-') {
            return parse_range(item, start.trim(), end.trim());
        }
        if item.contains('/') {
            return item
                .parse::<IpNet>()
                .map(|net| Target::Block(net.trunc()))
                .map_err(|_| bad_cidr(item));
        }
        item.parse::<IpAddr>()
            .map(Target::Address)
            .map_err(|_| TargetError::Unparsable(item.to_string()))
    }

    /// How many addresses it holds.
    pub fn count(&self) -> u128 {
        match *self {
            Target::Address(_) => 1,
            Target::Block(net) => {
                let host_bits = u32::from(net.max_prefix_len() - net.prefix_len());
                1u128.checked_shl(host_bits).unwrap_or(u128::MAX)
            }
            Target::Range(a, b) => (as_u128(b) - as_u128(a)).saturating_add(1),
        }
    }

    /// Every address, in ascending order.
    pub fn addresses(&self) -> impl Iterator<Item = IpAddr> + use<> {
        let (first, last, v4) = match *self {
            Target::Address(a) => (as_u128(a), as_u128(a), a.is_ipv4()),
            Target::Block(net) => (
                as_u128(net.network()),
                as_u128(net.broadcast()),
                net.network().is_ipv4(),
            ),
            Target::Range(a, b) => (as_u128(a), as_u128(b), a.is_ipv4()),
        };
        (first..=last).map(move |n| from_u128(n, v4))
    }

    /// Whether `addr` is in it.
    pub fn contains(&self, addr: IpAddr) -> bool {
        match *self {
            Target::Address(a) => a == addr,
            Target::Block(net) => net.contains(&addr),
            Target::Range(a, b) => {
                a.is_ipv4() == addr.is_ipv4() && (as_u128(a)..=as_u128(b)).contains(&as_u128(addr))
            }
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Address(a) => write!(f, "{a}"),
            Target::Block(n) => write!(f, "{n}"),
            Target::Range(a, b) => write!(f, "{a}-{b}"),
        }
    }
}

fn bad_cidr(item: &str) -> TargetError {
    let reason = match item.split_once('/') {
        Some((addr, prefix)) if addr.trim().parse::<IpAddr>().is_ok() => {
            let max = if addr.contains(':') { 128 } else { 32 };
            let prefix = prefix.trim();
            match prefix.parse::<u8>() {
                _ if prefix.is_empty() => "the prefix length is missing".into(),
                Ok(p) => format!("prefix length {p} is above {max}"),
                Err(_) => format!("prefix length '{prefix}' is not a number from 0 to {max}"),
            }
        }
        Some((addr, _)) => format!("'{addr}' is not an IP address"),
        None => "not a CIDR block".into(),
    };
    TargetError::BadCidr {
        item: item.to_string(),
        reason,
    }
}

fn parse_range(item: &str, start: &str, end: &str) -> Result<Target, TargetError> {
    let unparsable = || TargetError::Unparsable(item.to_string());
    let a: IpAddr = start.parse().map_err(|_| unparsable())?;
    let b: IpAddr = end.parse().map_err(|_| unparsable())?;
    if a.is_ipv4() != b.is_ipv4() {
        return Err(TargetError::MixedFamilies(item.to_string()));
    }
    if as_u128(a) > as_u128(b) {
        return Err(TargetError::Backwards(item.to_string()));
    }
    Ok(Target::Range(a, b))
}

fn as_u128(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn from_u128(n: u128, v4: bool) -> IpAddr {
    if v4 {
        IpAddr::from(std::net::Ipv4Addr::from(
            u32::try_from(n).unwrap_or(u32::MAX),
        ))
    } else {
        IpAddr::from(std::net::Ipv6Addr::from(n))
    }
}

/// A parsed, bounded list of targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSet {
    items: Vec<Target>,
}

impl TargetSet {
    /// Parses command-line arguments, each an item or a comma list, bounded by `limit` addresses.
    pub fn parse<'a>(
        args: impl IntoIterator<Item = &'a str>,
        limit: u64,
    ) -> Result<TargetSet, TargetError> {
        let mut items = Vec::new();
        for arg in args {
            for part in arg.split(',') {
                if part.trim().is_empty() {
                    continue;
                }
                let target = Target::parse(part)?;
                check_size(&target.to_string(), target.count(), limit)?;
                items.push(target);
            }
        }
        if items.is_empty() {
            return Err(TargetError::Empty);
        }
        let total = items
            .iter()
            .fold(0u128, |acc, t| acc.saturating_add(t.count()));
        check_size("the targets", total, limit)?;
        Ok(TargetSet { items })
    }

    /// The items as given.
    pub fn items(&self) -> &[Target] {
        &self.items
    }

    /// Every address once, in the order given.
    pub fn addresses(&self) -> Vec<IpAddr> {
        let mut seen = HashSet::new();
        self.items
            .iter()
            .flat_map(Target::addresses)
            .filter(|a| seen.insert(*a))
            .collect()
    }
}

impl fmt::Display for TargetSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.items.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join(","))
    }
}

fn check_size(what: &str, count: u128, limit: u64) -> Result<(), TargetError> {
    if count > u128::from(limit) {
        return Err(TargetError::TooLarge {
            what: what.to_string(),
            count,
            limit,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &str) -> Result<TargetSet, TargetError> {
        TargetSet::parse([s], DEFAULT_MAX_ADDRESSES)
    }

    #[test]
    fn parses_every_form() {
        let set = parse("127.0.0.1, 127.0.1.0/30,127.0.2.1-127.0.2.3").unwrap();
        assert_eq!(set.addresses().len(), 1 + 4 + 3);
        let v6 = parse("::1,fd00::/126").unwrap();
        assert_eq!(v6.addresses().len(), 5);
    }

    #[test]
    fn errors_name_the_item() {
        assert_eq!(
            parse("10.0.0.9-10.0.0.1").unwrap_err().to_string(),
            "10.0.0.9-10.0.0.1: start is after end"
        );
        assert_eq!(
            parse("127.0.0.1,hello").unwrap_err().to_string(),
            "hello: not an address, a CIDR block or a range A-B"
        );
        assert_eq!(
            parse("10.0.0.0/33").unwrap_err().to_string(),
            "10.0.0.0/33: prefix length 33 is above 32"
        );
        assert_eq!(
            parse("10.0.0.1-::1").unwrap_err().to_string(),
            "10.0.0.1-::1: start and end are of different address families"
        );
        assert_eq!(
            parse("10.0.0.0/8").unwrap_err().to_string(),
            "10.0.0.0/8: 16777216 addresses, above the limit of 65536 per scan (raise it with --max-targets)"
        );
        assert_eq!(parse(" , ").unwrap_err(), TargetError::Empty);
        assert!(matches!(
            parse("::/0").unwrap_err(),
            TargetError::TooLarge { .. }
        ));
    }

    #[test]
    fn the_bound_applies_to_the_whole_list() {
        let err = TargetSet::parse(["127.1.0.0/17", "127.2.0.0/17", "127.3.0.0/24"], 65_536);
        assert!(
            matches!(err, Err(TargetError::TooLarge { ref what, .. }) if what == "the targets")
        );
        assert_eq!(parse("127.1.0.0/16").unwrap().addresses().len(), 65_536);
    }

    #[test]
    fn duplicates_are_scanned_once_and_host_bits_cleared() {
        let set = parse("127.0.0.5/30,127.0.0.5").unwrap();
        assert_eq!(set.to_string(), "127.0.0.4/30,127.0.0.5");
        assert_eq!(set.addresses().len(), 4);
    }

    proptest! {
        #[test]
        fn ranges_count_what_they_expand_to(a in any::<u32>(), len in 0u32..2000) {
            let b = a.saturating_add(len);
            let item = format!("{}-{}", std::net::Ipv4Addr::from(a), std::net::Ipv4Addr::from(b));
            let t = Target::parse(&item).unwrap();
            prop_assert_eq!(t.count(), u128::from(b - a) + 1);
            prop_assert_eq!(t.addresses().count() as u128, t.count());
            prop_assert!(t.addresses().all(|x| t.contains(x)));
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,40}") {
            let _ = TargetSet::parse([s.as_str()], DEFAULT_MAX_ADDRESSES);
        }
    }
}

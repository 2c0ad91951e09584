//! Object identifiers: a sequence of sub-identifiers, ordered as SNMP orders them.

use std::fmt;
use std::str::FromStr;

/// Most sub-identifiers an OID may have (RFC 2578 section 3.5).
pub const MAX_SUBIDS: usize = 128;

/// An object identifier such as `1.3.6.1.2.1.1.5.0`.
///
/// The derived order is lexicographic over the sub-identifiers, which is the order in which an
/// agent walks its MIB (GETNEXT returns the next OID in this order).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Oid(Vec<u32>);

impl Oid {
    /// An OID from its sub-identifiers.
    pub fn new(subids: impl Into<Vec<u32>>) -> Oid {
        Oid(subids.into())
    }

    /// The sub-identifiers.
    pub fn as_slice(&self) -> &[u32] {
        &self.0
    }

    /// Number of sub-identifiers.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for the empty OID.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when `self` lies at or under `prefix`.
    pub fn starts_with(&self, prefix: &[u32]) -> bool {
        self.0.starts_with(prefix)
    }

    /// The sub-identifiers after `prefix` (the instance index of a column), if `self` lies under it.
    pub fn suffix(&self, prefix: &[u32]) -> Option<&[u32]> {
        self.0.strip_prefix(prefix)
    }

    /// `self` followed by `more`.
    pub fn child(&self, more: &[u32]) -> Oid {
        let mut v = self.0.clone();
        v.extend_from_slice(more);
        Oid(v)
    }
}

impl From<&[u32]> for Oid {
    fn from(subids: &[u32]) -> Oid {
        Oid(subids.to_vec())
    }
}

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, n) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{n}")?;
        }
        Ok(())
    }
}

impl FromStr for Oid {
    type Err = String;

    /// Parses dotted numbers, with or without a leading dot (`.1.3.6` or `1.3.6`).
    fn from_str(s: &str) -> Result<Oid, String> {
        let body = s.strip_prefix('.').unwrap_or(s);
        if body.is_empty() {
            return Err(format!("{s:?}: an OID needs at least one number"));
        }
        let subids = body
            .split('.')
            .map(|p| p.parse::<u32>())
            .collect::<Result<Vec<u32>, _>>()
            .map_err(|_| format!("{s:?}: an OID is dot-separated numbers of 0 to 4294967295"))?;
        if subids.len() > MAX_SUBIDS {
            return Err(format!("{s:?}: more than {MAX_SUBIDS} sub-identifiers"));
        }
        Ok(Oid(subids))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_dotted_numbers() {
        let oid: Oid = ".1.3.6.1.2.1.1.5.0".parse().unwrap();
        assert_eq!(oid.to_string(), "1.3.6.1.2.1.1.5.0");
        assert!(oid.starts_with(&[1, 3, 6, 1, 2, 1, 1]));
        assert_eq!(oid.suffix(&[1, 3, 6, 1, 2, 1, 1, 5]), Some(&[0u32][..]));
        assert!("1..3".parse::<Oid>().is_err());
        assert!("".parse::<Oid>().is_err());
        assert!("1.3.x".parse::<Oid>().is_err());
    }

    #[test]
    fn orders_as_an_agent_walks() {
        let a: Oid = "1.3.6.1.2.1.2".parse().unwrap();
        let b: Oid = "1.3.6.1.2.1.2.1".parse().unwrap();
        let c: Oid = "1.3.6.1.2.1.10".parse().unwrap();
        assert!(a < b && b < c);
    }
}

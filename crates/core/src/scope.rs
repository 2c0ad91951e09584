//! The scope allow-list: the only networks the sensor may send packets to.

use crate::target::TargetSet;
use ipnet::IpNet;
use std::fmt;
use std::net::IpAddr;

/// Why a scan was refused by the scope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{address} is outside the scope allow-list ({scope}){more}; widen it with --allow CIDR or scope.allow in the configuration"
)]
pub struct ScopeError {
    /// The first refused address.
    pub address: IpAddr,
    /// How many addresses were refused in all.
    pub refused: usize,
    /// The allow-list, for the message.
    pub scope: String,
    more: String,
}

/// The networks the sensor may touch. The default is loopback only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    allow: Vec<IpNet>,
}

impl Default for Scope {
    /// Loopback only: 127.0.0.0/8 and ::1.
    fn default() -> Scope {
        Scope {
            allow: Self::loopback(),
        }
    }
}

impl Scope {
    /// 127.0.0.0/8 and ::1/128.
    pub fn loopback() -> Vec<IpNet> {
        vec![
            "127.0.0.0/8".parse().expect("literal network"),
            "::1/128".parse().expect("literal network"),
        ]
    }

    /// The default (loopback) widened by `extra` networks.
    pub fn with(extra: impl IntoIterator<Item = IpNet>) -> Scope {
        let mut scope = Scope::default();
        scope.widen(extra);
        scope
    }

    /// Adds networks to the allow-list.
    pub fn widen(&mut self, extra: impl IntoIterator<Item = IpNet>) {
        for net in extra {
            let net = net.trunc();
            if !self.allow.contains(&net) {
                self.allow.push(net);
            }
        }
    }

    /// The allowed networks.
    pub fn networks(&self) -> &[IpNet] {
        &self.allow
    }

    /// Whether the sensor may send packets to `addr`.
    pub fn allows(&self, addr: IpAddr) -> bool {
        let addr = canonical(addr);
        self.allow.iter().any(|net| net.contains(&addr))
    }

    /// Checks one address.
    pub fn check(&self, addr: IpAddr) -> Result<(), ScopeError> {
        if self.allows(addr) {
            return Ok(());
        }
        Err(self.error(addr, 1))
    }

    /// Checks every address of a target set; the error names the first refused one.
    pub fn check_all(&self, targets: &TargetSet) -> Result<(), ScopeError> {
        let mut refused = targets.addresses().into_iter().filter(|a| !self.allows(*a));
        match refused.next() {
            None => Ok(()),
            Some(first) => Err(self.error(first, 1 + refused.count())),
        }
    }

    fn error(&self, address: IpAddr, refused: usize) -> ScopeError {
        let more = if refused > 1 {
            format!(" (and {} more of the targets)", refused - 1)
        } else {
            String::new()
        };
        ScopeError {
            address,
            refused,
            scope: self.to_string(),
            more,
        }
    }
}

/// IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nets: Vec<String> = self.allow.iter().map(ToString::to_string).collect();
        f.write_str(&nets.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::DEFAULT_MAX_ADDRESSES;

    #[test]
    fn default_scope_is_loopback_only() {
        let scope = Scope::default();
        assert!(scope.allows("127.1.2.3".parse().unwrap()));
        assert!(scope.allows("::1".parse().unwrap()));
        assert!(scope.allows("::ffff:127.0.0.1".parse().unwrap()));
        for outside in [
            "10.0.0.1",
            "192.168.1.1",
            "8.8.8.8",
            "::2",
            "::ffff:10.0.0.1",
        ] {
            assert!(!scope.allows(outside.parse().unwrap()), "{outside}");
        }
    }

    #[test]
    fn the_error_names_the_first_refused_address_and_counts_the_rest() {
        let targets =
            TargetSet::parse(["127.0.0.1,10.0.0.1-10.0.0.3"], DEFAULT_MAX_ADDRESSES).unwrap();
        let err = Scope::default().check_all(&targets).unwrap_err();
        assert_eq!(err.address.to_string(), "10.0.0.1");
        assert_eq!(err.refused, 3);
        assert!(err.to_string().starts_with(
            "10.0.0.1 is outside the scope allow-list (127.0.0.0/8, ::1/128) (and 2 more of the targets)"
        ));
        let widened = Scope::with(["10.0.0.0/24".parse().unwrap()]);
        assert!(widened.check_all(&targets).is_ok());
    }
}

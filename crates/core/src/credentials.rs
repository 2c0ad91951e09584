//! Credentials that scans use (SNMP communities and users), and [`Secret`], the wrapper that
//! keeps their secret parts out of `Debug`, logs and exports.
//!
//! Credentials are not `Serialize`: the only way to persist them is the store's sealed
//! (encrypted) credential table, which calls [`Secret::expose`] explicitly.

use std::fmt;

/// A secret string (a community, a password). `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The secret itself, for the few places that must use it (the wire, the sealed store).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// SNMP credentials: a community for v1/v2c, or a v3 user with its passwords.
///
/// Protocol names are kept as the operator wrote them (`SHA`, `AES-256`, ...); the SNMP crate
/// parses them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnmpCredentials {
    /// SNMPv1 or SNMPv2c.
    Community {
        /// "v1" or "v2c".
        version: String,
        /// The community.
        community: Secret,
    },
    /// SNMPv3 (USM).
    User {
        /// The user name.
        user: String,
        /// Authentication protocol and password.
        auth: Option<(String, Secret)>,
        /// Privacy protocol and password.
        privacy: Option<(String, Secret)>,
        /// The context name (empty: default).
        context: String,
    },
}

impl SnmpCredentials {
    /// A description without secrets, e.g. `v2c community` or `v3 user opsv3 (SHA/AES)`.
    pub fn describe(&self) -> String {
        match self {
            SnmpCredentials::Community { version, .. } => format!("{version} community"),
            SnmpCredentials::User {
                user,
                auth,
                privacy,
                ..
            } => {
                let protos: Vec<&str> = [auth.as_ref(), privacy.as_ref()]
                    .into_iter()
                    .flatten()
                    .map(|(p, _)| p.as_str())
                    .collect();
                if protos.is_empty() {
                    format!("v3 user {user} (noAuthNoPriv)")
                } else {
                    format!("v3 user {user} ({})", protos.join("/"))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let c = SnmpCredentials::User {
            user: "opsv3".into(),
            auth: Some(("SHA".into(), Secret::new("authpass123"))),
            privacy: Some(("AES".into(), Secret::new("privpass123"))),
            context: String::new(),
        };
        let shown = format!("{c:?} {}", c.describe());
        assert!(!shown.contains("authpass123") && !shown.contains("privpass123"));
        assert_eq!(c.describe(), "v3 user opsv3 (SHA/AES)");
        assert_eq!(Secret::new("public").to_string(), "***");
    }
}

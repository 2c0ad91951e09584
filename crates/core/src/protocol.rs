//! The protocols otsensor speaks to devices.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A protocol a probe speaks; also what a device was seen to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// Modbus/TCP, TCP 502.
    Modbus,
    /// Siemens S7comm, TCP 102.
    S7,
    /// EtherNet/IP with CIP, TCP and UDP 44818.
    Enip,
    /// BACnet/IP, UDP 47808.
    Bacnet,
    /// SNMP, UDP 161.
    Snmp,
    /// DNS (reverse lookups).
    Dns,
    /// WMI over DCOM.
    Wmi,
}

impl Protocol {
    /// The lowercase name used on the command line, in the store and in exports.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Modbus => "modbus",
            Protocol::S7 => "s7",
            Protocol::Enip => "enip",
            Protocol::Bacnet => "bacnet",
            Protocol::Snmp => "snmp",
            Protocol::Dns => "dns",
            Protocol::Wmi => "wmi",
        }
    }

    /// Parses the lowercase name given by [`Protocol::name`].
    pub fn from_name(name: &str) -> Option<Protocol> {
        [
            Protocol::Modbus,
            Protocol::S7,
            Protocol::Enip,
            Protocol::Bacnet,
            Protocol::Snmp,
            Protocol::Dns,
            Protocol::Wmi,
        ]
        .into_iter()
        .find(|p| p.name() == name)
    }

    /// The standard port of the protocol.
    pub fn default_port(self) -> u16 {
        match self {
            Protocol::Modbus => 502,
            Protocol::S7 => 102,
            Protocol::Enip => 44818,
            Protocol::Bacnet => 47808,
            Protocol::Snmp => 161,
            Protocol::Dns => 53,
            Protocol::Wmi => 135,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

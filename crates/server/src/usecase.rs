//! Use cases: what a stored scan does, and the probe that does it.
//!
//! Every use case runs through the same engine and the same [`Probe`] trait; a use case only
//! says which probe, which port and how deep. This is where the protocol crates plug in:
//!
//! - **PLC discovery** ([`PlcDiscovery`]): [`plc_probe`] maps a protocol to its probe. Modbus is
//!   wired; S7, EtherNet/IP and BACnet are *extension points*: when their crates merge, add one
//!   arm each to [`plc_probe`] (`PlcProtocol::S7 => Some(Arc::new(otsensor_s7::S7Probe))`) and the
//!   API, the scheduler and the runner take them with no other change.
//! - **Switch discovery** ([`SwitchDiscovery`]): *extension point*, not implemented. The fields
//!   are reserved so that stored scans and clients can be written against them; creating one is
//!   refused (400 naming `use_case.kind`) until the SNMP branch adds its probe in
//!   [`UseCase::probe`] and moves its credentials to encrypted storage (secrets at rest).
//! - **WEM** and **reverse-DNS** settings are not scan definitions of this kind; their API
//!   (`/api/wem/...`, `/api/rdns/...`) answers 501 until their branches arrive (see `api::meta`).

use otsensor_core::{Probe, Protocol};
use otsensor_modbus::ModbusProbe;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The PLC protocols a scan may speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlcProtocol {
    /// Modbus/TCP (TCP 502).
    Modbus,
    /// Siemens S7comm (TCP 102).
    S7,
    /// EtherNet/IP with CIP (TCP/UDP 44818).
    Enip,
    /// BACnet/IP (UDP 47808).
    Bacnet,
}

impl PlcProtocol {
    /// Every PLC protocol.
    pub const ALL: [PlcProtocol; 4] = [
        PlcProtocol::Modbus,
        PlcProtocol::S7,
        PlcProtocol::Enip,
        PlcProtocol::Bacnet,
    ];

    /// The core protocol.
    pub fn protocol(self) -> Protocol {
        match self {
            PlcProtocol::Modbus => Protocol::Modbus,
            PlcProtocol::S7 => Protocol::S7,
            PlcProtocol::Enip => Protocol::Enip,
            PlcProtocol::Bacnet => Protocol::Bacnet,
        }
    }
}

/// The probe for a PLC protocol in this build, if it has one.
///
/// EXTENSION POINT: one arm per protocol crate.
pub fn plc_probe(protocol: PlcProtocol) -> Option<Arc<dyn Probe>> {
    match protocol {
        PlcProtocol::Modbus => Some(Arc::new(ModbusProbe)),
        PlcProtocol::S7 => Some(Arc::new(otsensor_s7::S7Probe)),
        PlcProtocol::Enip => Some(Arc::new(otsensor_enip::EnipProbe)),
        PlcProtocol::Bacnet => Some(Arc::new(otsensor_bacnet::BacnetProbe)),
    }
}

/// The PLC protocols this build can scan with.
pub fn available_plc_protocols() -> Vec<PlcProtocol> {
    PlcProtocol::ALL
        .into_iter()
        .filter(|p| plc_probe(*p).is_some())
        .collect()
}

/// PLC discovery and enrichment, as stored (every default filled in).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlcDiscovery {
    /// The protocol to speak.
    pub protocol: PlcProtocol,
    /// The port [default: the protocol's standard port].
    pub port: u16,
    /// Time limit of each stage (connect, each request), in seconds.
    pub timeout_secs: f64,
    /// Stop after this many devices, sub-devices included (0: no limit).
    pub device_limit: usize,
    /// How deep to look behind each device (Modbus: 1 sweeps unit IDs 1 to 247).
    pub depth: u8,
}

/// Switch discovery (SNMP). EXTENSION POINT: reserved fields, not runnable in this build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchDiscovery {
    /// `snmp-v1`, `snmp-v2c` or `snmp-v3`.
    pub version: Option<String>,
    /// `auto`, `cisco`, `hirschmann`, ...
    pub vendor: Option<String>,
    /// Write-only: the v1/v2c community (will be kept encrypted, never returned).
    #[serde(default, skip_serializing)]
    pub community: Option<String>,
    /// The v3 user.
    pub user: Option<String>,
    /// The v3 authentication protocol.
    pub auth_proto: Option<String>,
    /// Write-only: the v3 authentication pass phrase.
    #[serde(default, skip_serializing)]
    pub auth_pass: Option<String>,
    /// The v3 privacy protocol.
    pub priv_proto: Option<String>,
    /// Write-only: the v3 privacy pass phrase.
    #[serde(default, skip_serializing)]
    pub priv_pass: Option<String>,
}

/// What a stored scan does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UseCase {
    /// PLC discovery and enrichment.
    Plc(PlcDiscovery),
    /// Switch discovery (reserved).
    Switch(SwitchDiscovery),
}

/// How the engine runs a use case: the probe, the port, the depth.
#[derive(Clone)]
pub struct ProbePlan {
    /// The probe.
    pub probe: Arc<dyn Probe>,
    /// The port to probe.
    pub port: u16,
    /// How deep to look.
    pub depth: u8,
}

impl UseCase {
    /// The store's `kind` ("plc", "switch").
    pub fn kind(&self) -> &'static str {
        match self {
            UseCase::Plc(_) => "plc",
            UseCase::Switch(_) => "switch",
        }
    }

    /// The protocol it speaks.
    pub fn protocol(&self) -> Protocol {
        match self {
            UseCase::Plc(p) => p.protocol.protocol(),
            UseCase::Switch(_) => Protocol::Snmp,
        }
    }

    /// The probe that runs it, or why this build cannot (with the field at fault).
    pub fn probe(&self) -> Result<ProbePlan, (&'static str, String)> {
        match self {
            UseCase::Plc(plc) => match plc_probe(plc.protocol) {
                Some(probe) => Ok(ProbePlan {
                    probe,
                    port: plc.port,
                    depth: plc.depth,
                }),
                None => Err((
                    "use_case.protocol",
                    format!(
                        "{}: not available in this build yet (available: {})",
                        plc.protocol.protocol(),
                        available_plc_protocols()
                            .iter()
                            .map(|p| p.protocol().name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )),
            },
            // EXTENSION POINT: the SNMP branch returns its probe here.
            UseCase::Switch(_) => Err((
                "use_case.kind",
                "switch discovery is not available in this build yet (it arrives with SNMP support)"
                    .to_string(),
            )),
        }
    }
}

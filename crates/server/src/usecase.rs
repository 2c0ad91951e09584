//! Use cases: what a stored scan does, and the probe that does it.
//!
//! Every use case runs through the same engine and the same [`Probe`] trait; a use case only
//! says which probe, which port and how deep. This is where the protocol crates plug in:
//!
//! - **PLC discovery** ([`PlcDiscovery`]): [`plc_probe`] maps a protocol to its probe: Modbus,
//!   S7, EtherNet/IP and BACnet (a new protocol crate adds one arm there).
//! - **Switch discovery** ([`SwitchDiscovery`]): SNMP v1/v2c/v3 with `otsensor_snmp`'s probe;
//!   its community or v3 pass phrases are sealed in the store (never in the specification,
//!   never returned); `crate::switch` validates the fields and builds the probe at run time.
//! - **WEM** and **reverse-DNS** settings are not scan definitions of this kind: they have
//!   their own API (`/api/wem/...` in `api::wem`, `/api/rdns/...` in `api::rdns`) and runners
//!   (`crate::wem`, `crate::rdns`).

use otsensor_bacnet::BacnetProbe;
use otsensor_core::{Probe, Protocol};
use otsensor_enip::EnipProbe;
use otsensor_modbus::ModbusProbe;
use otsensor_s7::S7Probe;
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
/// One arm per protocol crate.
pub fn plc_probe(protocol: PlcProtocol) -> Option<Arc<dyn Probe>> {
    match protocol {
        PlcProtocol::Modbus => Some(Arc::new(ModbusProbe)),
        PlcProtocol::S7 => Some(Arc::new(S7Probe)),
        PlcProtocol::Enip => Some(Arc::new(EnipProbe)),
        PlcProtocol::Bacnet => Some(Arc::new(BacnetProbe)),
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

/// Switch discovery (SNMP), as stored: every default filled in, no secret. The community and
/// the v3 pass phrases are sealed in the store's SNMP credentials under [`credentials`]
/// (see `crate::switch`); the API shows only whether each is set.
///
/// [`credentials`]: SwitchDiscovery::credentials
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SwitchDiscovery {
    /// `snmp-v1`, `snmp-v2c` or `snmp-v3`.
    pub version: String,
    /// `auto` (from the sysObjectID), `cisco`, `hirschmann`, `siemens`, `moxa`, `hpe`,
    /// `juniper`, `arista` or `generic`.
    pub vendor: String,
    /// The UDP port (161).
    pub port: u16,
    /// Time limit of each request, in seconds.
    pub timeout_secs: f64,
    /// Attempts after the first when a request gets no answer (0 to 5).
    pub retries: u32,
    /// Stop after this many devices, related devices included (0: no limit).
    pub device_limit: usize,
    /// A port on which more distinct MACs than this were learned is an uplink.
    pub uplink_macs: usize,
    /// The v3 user (v3 only).
    pub user: Option<String>,
    /// The v3 authentication protocol: MD5, SHA, SHA-224, SHA-256, SHA-384, SHA-512.
    pub auth_proto: Option<String>,
    /// The v3 privacy protocol: DES, AES, AES-192, AES-256, AES-192-C, AES-256-C.
    pub priv_proto: Option<String>,
    /// The v3 context name (empty: the default context).
    pub context: Option<String>,
    /// Whether a v1/v2c community is stored (the community itself is never returned).
    pub community_set: bool,
    /// Whether a v3 authentication pass phrase is stored.
    pub auth_pass_set: bool,
    /// Whether a v3 privacy pass phrase is stored.
    pub priv_pass_set: bool,
    /// The name of the sealed credentials in the store (not a secret).
    pub credentials: String,
}

/// What a stored scan does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UseCase {
    /// PLC discovery and enrichment.
    Plc(PlcDiscovery),
    /// Switch discovery (SNMP).
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
            // the switch probe needs the sealed credentials: see `crate::switch::probe_plan`
            UseCase::Switch(_) => Err((
                "use_case.credentials",
                "switch discovery needs its credentials from the store".to_string(),
            )),
        }
    }
}

//! SNMP v1/v2c/v3 for otsensor: a pure BER codec, the USM, a thin paced async client, table
//! walks and the switch-discovery probe.
//!
//! # The only requests this crate can send
//!
//! The safety rules allow read requests only. [`codec::Request`] has exactly three variants, so
//! nothing else can be encoded (no SetRequest, no Trap, no Inform):
//!
//! | PDU | tag | used for |
//! |---|---|---|
//! | GetRequest | 0xA0 | scalars (system group, bridge address); SNMPv3 engine discovery (an empty GetRequest, RFC 3414 section 4); sysUpTime.0 at authNoPriv to tell a wrong privacy password from a silent agent |
//! | GetNextRequest | 0xA1 | table walks in SNMPv1 |
//! | GetBulkRequest | 0xA5 | table walks in SNMPv2c and SNMPv3 |
//!
//! The objects read are listed in [`mib`]: the system group, ENTITY-MIB entPhysicalTable, IF-MIB
//! ifTable/ifXTable, IP-MIB ipNetToMediaTable and ipNetToPhysicalTable, BRIDGE-MIB dot1dBase and
//! dot1dTpFdbTable, Q-BRIDGE-MIB dot1qTpFdbTable and dot1qVlanCurrentTable, LLDP-MIB (local
//! ports, remote table, remote management addresses), CISCO-CDP-MIB cdpCacheTable and, for
//! Cisco's per-VLAN bridge tables, CISCO-VTP-MIB vtpVlanTable. A test holds the client to this
//! list (`tests/read_only.rs`).
//!
//! # Layers
//!
//! - [`ber`], [`codec`], [`v3`]: parse and emit, no I/O (smoltcp-style; proptests and a fuzz
//!   target hold them to "never panics").
//! - [`usm`]: password-to-key, localization, HMAC-MD5/SHA-1/SHA-2 authentication, DES and AES
//!   privacy (RustCrypto, no OpenSSL).
//! - [`client`]: UDP, one request at a time, `pacer.ready()` before every datagram, a time limit
//!   and retries per request, engine discovery and time sync.
//! - [`walk`]: multi-column GETBULK/GETNEXT walks with adaptive max-repetitions.
//! - [`discovery`] (what to read, per [`vendor`] profile), [`inventory`] (what it means for the
//!   inventory) and [`probe`] (the engine's `Probe`).

#![warn(missing_docs)]

pub mod ber;
pub mod client;
pub mod codec;
pub mod discovery;
pub mod inventory;
pub mod mib;
pub mod oid;
pub mod probe;
pub mod usm;
pub mod v3;
pub mod vendor;
pub mod walk;

pub use client::{Client, ClientConfig, ClientError, Security, Stats};
pub use codec::{Request, Value, VarBind, Version};
pub use oid::Oid;
pub use probe::{SnmpProbe, SnmpSettings};
pub use usm::{AuthProtocol, PrivProtocol, Secret, SecurityLevel, UsmUser};
pub use vendor::VendorChoice;

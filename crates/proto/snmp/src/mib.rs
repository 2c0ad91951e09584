//! The objects a switch discovery reads (numeric OIDs: no MIB files needed), and pure decoders
//! from walked columns to typed rows.

use crate::codec::Value;
use crate::walk::Walked;
use otsensor_core::MacAddr;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// SNMPv2-MIB system group scalars.
pub mod system {
    /// sysDescr.0
    pub const DESCR: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 1, 0];
    /// sysObjectID.0
    pub const OBJECT_ID: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 2, 0];
    /// sysUpTime.0
    pub const UP_TIME: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 3, 0];
    /// sysContact.0
    pub const CONTACT: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 4, 0];
    /// sysName.0
    pub const NAME: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 5, 0];
    /// sysLocation.0
    pub const LOCATION: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 6, 0];
    /// sysServices.0
    pub const SERVICES: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 7, 0];
}

/// ENTITY-MIB entPhysicalTable columns (entPhysicalEntry = 1.3.6.1.2.1.47.1.1.1.1).
pub mod entity {
    /// entPhysicalDescr
    pub const DESCR: &[u32] = &[1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 2];
    /// entPhysicalContainedIn
    pub const CONTAINED_IN: &[u32] = &[1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 4];
    /// entPhysicalClass (3 = chassis)
    pub const CLASS: &[u32] = &[1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 5];
    /// entPhysicalName
    pub const NAME: &[u32] = &[1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 7];
    /// entPhysicalHardwareRev
    pub const HARDWARE_REV: &[u32] = &[1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 8];
    /// entPhysicalFirmwareRev
    pub const FIRMWARE_REV: &[u32] = &[1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 9];
    /// entPhysicalSoftwareRev
    pub const SOFTWARE_REV: &[u32] = &[1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 10];
    /// entPhysicalSerialNum
    pub const SERIAL: &[u32] = &[1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 11];
    /// entPhysicalMfgName
    pub const MFG_NAME: &[u32] = &[1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 12];
    /// entPhysicalModelName
    pub const MODEL_NAME: &[u32] = &[1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 13];
    /// entPhysicalEntry: walked whole (most of its columns are needed).
    pub const ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1];
    /// What is walked.
    pub const ROOTS: [&[u32]; 1] = [ENTRY];
    /// The columns, in the order [`super::entities`] reads them.
    pub const COLUMNS: [&[u32]; 10] = [
        DESCR,
        CONTAINED_IN,
        CLASS,
        NAME,
        HARDWARE_REV,
        FIRMWARE_REV,
        SOFTWARE_REV,
        SERIAL,
        MFG_NAME,
        MODEL_NAME,
    ];
}

/// IF-MIB ifTable and ifXTable columns.
pub mod interfaces {
    /// ifDescr
    pub const DESCR: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1, 2];
    /// ifType
    pub const TYPE: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1, 3];
    /// ifSpeed (bit/s, saturates at 4294967295)
    pub const SPEED: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1, 5];
    /// ifPhysAddress
    pub const PHYS_ADDRESS: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1, 6];
    /// ifAdminStatus
    pub const ADMIN_STATUS: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1, 7];
    /// ifOperStatus
    pub const OPER_STATUS: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1, 8];
    /// ifName
    pub const NAME: &[u32] = &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1];
    /// ifHighSpeed (Mbit/s)
    pub const HIGH_SPEED: &[u32] = &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 15];
    /// ifAlias
    pub const ALIAS: &[u32] = &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 18];
    /// ifEntry.
    pub const IF_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1];
    /// ifXEntry.
    pub const IFX_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1];
    /// What is walked: both tables whole. (Walking only the nine columns moves less data but
    /// starts nine walks; agents that look up a non-instance OID slowly, as snmpsim does at
    /// about a second each, make that the slower way.)
    pub const ROOTS: [&[u32]; 2] = [IF_ENTRY, IFX_ENTRY];
    /// The columns, in the order [`super::interfaces`] reads them.
    pub const COLUMNS: [&[u32]; 9] = [
        DESCR,
        TYPE,
        SPEED,
        PHYS_ADDRESS,
        ADMIN_STATUS,
        OPER_STATUS,
        NAME,
        HIGH_SPEED,
        ALIAS,
    ];
}

/// IP-MIB address translation tables.
pub mod arp {
    /// ipNetToMediaPhysAddress (index ifIndex.a.b.c.d)
    pub const MEDIA_PHYS_ADDRESS: &[u32] = &[1, 3, 6, 1, 2, 1, 4, 22, 1, 2];
    /// ipNetToMediaType (1 other, 2 invalid, 3 dynamic, 4 static)
    pub const MEDIA_TYPE: &[u32] = &[1, 3, 6, 1, 2, 1, 4, 22, 1, 4];
    /// ipNetToPhysicalPhysAddress (index ifIndex.addressType.length.address)
    pub const PHYSICAL_PHYS_ADDRESS: &[u32] = &[1, 3, 6, 1, 2, 1, 4, 35, 1, 4];
    /// ipNetToPhysicalType (1 other, 2 invalid, 3 dynamic, 4 static, 5 local)
    pub const PHYSICAL_TYPE: &[u32] = &[1, 3, 6, 1, 2, 1, 4, 35, 1, 6];
    /// ipNetToMediaEntry.
    pub const MEDIA_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 4, 22, 1];
    /// ipNetToPhysicalEntry.
    pub const PHYSICAL_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 4, 35, 1];
    /// What is walked: both tables whole.
    pub const ROOTS: [&[u32]; 2] = [MEDIA_ENTRY, PHYSICAL_ENTRY];
    /// The columns, in the order [`super::arp_entries`] reads them.
    pub const COLUMNS: [&[u32]; 4] = [
        MEDIA_PHYS_ADDRESS,
        MEDIA_TYPE,
        PHYSICAL_PHYS_ADDRESS,
        PHYSICAL_TYPE,
    ];
}

/// BRIDGE-MIB (RFC 4188).
pub mod bridge {
    /// dot1dBaseBridgeAddress.0
    pub const BASE_BRIDGE_ADDRESS: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 1, 1, 0];
    /// dot1dBasePortIfIndex (index dot1dBasePort)
    pub const BASE_PORT_IF_INDEX: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 1, 4, 1, 2];
    /// dot1dTpFdbPort (index MAC)
    pub const FDB_PORT: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 4, 3, 1, 2];
    /// dot1dTpFdbStatus (1 other, 2 invalid, 3 learned, 4 self, 5 mgmt)
    pub const FDB_STATUS: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 4, 3, 1, 3];
    /// dot1dTpFdbEntry.
    pub const FDB_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 4, 3, 1];
    /// What is walked: the port map column and the forwarding table whole.
    pub const ROOTS: [&[u32]; 2] = [BASE_PORT_IF_INDEX, FDB_ENTRY];
    /// The columns, in the order [`super::bridge_fdb`] reads them.
    pub const COLUMNS: [&[u32]; 3] = [BASE_PORT_IF_INDEX, FDB_PORT, FDB_STATUS];
}

/// Q-BRIDGE-MIB (RFC 4363).
pub mod qbridge {
    /// dot1qTpFdbPort (index dot1qFdbId.MAC)
    pub const FDB_PORT: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 7, 1, 2, 2, 1, 2];
    /// dot1qTpFdbStatus
    pub const FDB_STATUS: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 7, 1, 2, 2, 1, 3];
    /// dot1qVlanFdbId (index dot1qVlanTimeMark.dot1qVlanIndex)
    pub const VLAN_FDB_ID: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 7, 1, 4, 2, 1, 3];
    /// dot1qTpFdbEntry.
    pub const FDB_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 7, 1, 2, 2, 1];
    /// What is walked: the forwarding table whole and the FDB-to-VLAN column.
    pub const ROOTS: [&[u32]; 2] = [FDB_ENTRY, VLAN_FDB_ID];
    /// The columns, in the order [`super::qbridge_fdb`] reads them.
    pub const COLUMNS: [&[u32]; 3] = [FDB_PORT, FDB_STATUS, VLAN_FDB_ID];
}

/// LLDP-MIB (IEEE 802.1AB-2005).
pub mod lldp {
    /// lldpLocPortIdSubtype (index lldpLocPortNum)
    pub const LOC_PORT_ID_SUBTYPE: &[u32] = &[1, 0, 8802, 1, 1, 2, 1, 3, 7, 1, 2];
    /// lldpLocPortId
    pub const LOC_PORT_ID: &[u32] = &[1, 0, 8802, 1, 1, 2, 1, 3, 7, 1, 3];
    /// lldpLocPortDesc
    pub const LOC_PORT_DESC: &[u32] = &[1, 0, 8802, 1, 1, 2, 1, 3, 7, 1, 4];
    /// lldpRemChassisIdSubtype (index lldpRemTimeMark.lldpRemLocalPortNum.lldpRemIndex)
    pub const REM_CHASSIS_ID_SUBTYPE: &[u32] = &[1, 0, 8802, 1, 1, 2, 1, 4, 1, 1, 4];
    /// lldpRemChassisId
    pub const REM_CHASSIS_ID: &[u32] = &[1, 0, 8802, 1, 1, 2, 1, 4, 1, 1, 5];
    /// lldpRemPortIdSubtype
    pub const REM_PORT_ID_SUBTYPE: &[u32] = &[1, 0, 8802, 1, 1, 2, 1, 4, 1, 1, 6];
    /// lldpRemPortId
    pub const REM_PORT_ID: &[u32] = &[1, 0, 8802, 1, 1, 2, 1, 4, 1, 1, 7];
    /// lldpRemPortDesc
    pub const REM_PORT_DESC: &[u32] = &[1, 0, 8802, 1, 1, 2, 1, 4, 1, 1, 8];
    /// lldpRemSysName
    pub const REM_SYS_NAME: &[u32] = &[1, 0, 8802, 1, 1, 2, 1, 4, 1, 1, 9];
    /// lldpRemSysDesc
    pub const REM_SYS_DESC: &[u32] = &[1, 0, 8802, 1, 1, 2, 1, 4, 1, 1, 10];
    /// lldpRemSysCapSupported
    pub const REM_SYS_CAP_SUPPORTED: &[u32] = &[1, 0, 8802, 1, 1, 2, 1, 4, 1, 1, 11];
    /// lldpRemSysCapEnabled
    pub const REM_SYS_CAP_ENABLED: &[u32] = &[1, 0, 8802, 1, 1, 2, 1, 4, 1, 1, 12];
    /// lldpRemManAddrIfSubtype (index timeMark.localPort.index.addrSubtype.addr)
    pub const REM_MAN_ADDR_IF_SUBTYPE: &[u32] = &[1, 0, 8802, 1, 1, 2, 1, 4, 2, 1, 3];
    /// lldpLocPortEntry.
    pub const LOC_PORT_ENTRY: &[u32] = &[1, 0, 8802, 1, 1, 2, 1, 3, 7, 1];
    /// lldpRemEntry.
    pub const REM_ENTRY: &[u32] = &[1, 0, 8802, 1, 1, 2, 1, 4, 1, 1];
    /// lldpRemManAddrEntry.
    pub const REM_MAN_ADDR_ENTRY: &[u32] = &[1, 0, 8802, 1, 1, 2, 1, 4, 2, 1];
    /// What is walked: the three tables whole.
    pub const ROOTS: [&[u32]; 3] = [LOC_PORT_ENTRY, REM_ENTRY, REM_MAN_ADDR_ENTRY];
    /// The columns, in the order [`super::lldp_neighbors`] reads them.
    pub const COLUMNS: [&[u32]; 13] = [
        LOC_PORT_ID_SUBTYPE,
        LOC_PORT_ID,
        LOC_PORT_DESC,
        REM_CHASSIS_ID_SUBTYPE,
        REM_CHASSIS_ID,
        REM_PORT_ID_SUBTYPE,
        REM_PORT_ID,
        REM_PORT_DESC,
        REM_SYS_NAME,
        REM_SYS_DESC,
        REM_SYS_CAP_SUPPORTED,
        REM_SYS_CAP_ENABLED,
        REM_MAN_ADDR_IF_SUBTYPE,
    ];
}

/// CISCO-CDP-MIB cdpCacheTable (index ifIndex.cdpCacheDeviceIndex).
pub mod cdp {
    /// cdpCacheAddressType (1 = ip)
    pub const ADDRESS_TYPE: &[u32] = &[1, 3, 6, 1, 4, 1, 9, 9, 23, 1, 2, 1, 1, 3];
    /// cdpCacheAddress
    pub const ADDRESS: &[u32] = &[1, 3, 6, 1, 4, 1, 9, 9, 23, 1, 2, 1, 1, 4];
    /// cdpCacheVersion
    pub const VERSION: &[u32] = &[1, 3, 6, 1, 4, 1, 9, 9, 23, 1, 2, 1, 1, 5];
    /// cdpCacheDeviceId
    pub const DEVICE_ID: &[u32] = &[1, 3, 6, 1, 4, 1, 9, 9, 23, 1, 2, 1, 1, 6];
    /// cdpCacheDevicePort
    pub const DEVICE_PORT: &[u32] = &[1, 3, 6, 1, 4, 1, 9, 9, 23, 1, 2, 1, 1, 7];
    /// cdpCachePlatform
    pub const PLATFORM: &[u32] = &[1, 3, 6, 1, 4, 1, 9, 9, 23, 1, 2, 1, 1, 8];
    /// cdpCacheCapabilities
    pub const CAPABILITIES: &[u32] = &[1, 3, 6, 1, 4, 1, 9, 9, 23, 1, 2, 1, 1, 9];
    /// cdpCacheEntry.
    pub const CACHE_ENTRY: &[u32] = &[1, 3, 6, 1, 4, 1, 9, 9, 23, 1, 2, 1, 1];
    /// What is walked: the table whole (see [`super::interfaces::ROOTS`] for why).
    pub const ROOTS: [&[u32]; 1] = [CACHE_ENTRY];
    /// The columns, in the order [`super::cdp_neighbors`] reads them.
    pub const COLUMNS: [&[u32]; 7] = [
        ADDRESS_TYPE,
        ADDRESS,
        VERSION,
        DEVICE_ID,
        DEVICE_PORT,
        PLATFORM,
        CAPABILITIES,
    ];
}

/// CISCO-VTP-MIB vtpVlanTable (index managementDomainIndex.vtpVlanIndex).
pub mod vtp {
    /// vtpVlanState (1 operational)
    pub const VLAN_STATE: &[u32] = &[1, 3, 6, 1, 4, 1, 9, 9, 46, 1, 3, 1, 1, 2];
    /// vtpVlanType (1 ethernet)
    pub const VLAN_TYPE: &[u32] = &[1, 3, 6, 1, 4, 1, 9, 9, 46, 1, 3, 1, 1, 3];
    /// What is walked: the state column only (the table has some twenty columns).
    pub const ROOTS: [&[u32]; 1] = [VLAN_STATE];
    /// The columns, in the order [`super::vtp_vlans`] reads them.
    pub const COLUMNS: [&[u32]; 2] = [VLAN_STATE, VLAN_TYPE];
}

// ---- value helpers ----

/// An octet string as text: UTF-8 (lossy), trailing NULs and whitespace trimmed; `None` when
/// empty.
pub fn text(v: &Value) -> Option<String> {
    let bytes = match v {
        Value::OctetString(b) | Value::Opaque(b) => b.as_slice(),
        Value::Integer(n) => return Some(n.to_string()),
        _ => return None,
    };
    let s = String::from_utf8_lossy(bytes);
    let t = s.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    (!t.is_empty()).then(|| t.to_string())
}

/// Octets as text when printable, else as colon-separated hex.
pub fn printable_or_hex(bytes: &[u8]) -> Option<String> {
    if bytes.is_empty() {
        return None;
    }
    let printable = bytes.iter().all(|b| b.is_ascii_graphic() || *b == b' ');
    if printable {
        let s = String::from_utf8_lossy(bytes).trim().to_string();
        return (!s.is_empty()).then_some(s);
    }
    Some(
        bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":"),
    )
}

/// Six octets as a MAC address.
pub fn mac(v: &Value) -> Option<MacAddr> {
    v.as_bytes().and_then(mac_of)
}

/// Six octets as a MAC address.
pub fn mac_of(bytes: &[u8]) -> Option<MacAddr> {
    <[u8; 6]>::try_from(bytes).ok().map(MacAddr)
}

/// A unicast, globally meaningful MAC (not zero, not broadcast or multicast).
pub fn is_station_mac(m: &MacAddr) -> bool {
    m.0 != [0; 6] && m.0[0] & 0x01 == 0
}

/// An integer value.
pub fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Integer(n) => Some(*n),
        other => other.as_u64().and_then(|n| i64::try_from(n).ok()),
    }
}

/// Six index sub-identifiers as a MAC address.
pub fn mac_from_index(index: &[u32]) -> Option<MacAddr> {
    if index.len() != 6 {
        return None;
    }
    let mut m = [0u8; 6];
    for (slot, v) in m.iter_mut().zip(index) {
        *slot = u8::try_from(*v).ok()?;
    }
    Some(MacAddr(m))
}

/// Index sub-identifiers as octets (each must fit in a byte).
fn octets_from_index(index: &[u32]) -> Option<Vec<u8>> {
    index.iter().map(|v| u8::try_from(*v).ok()).collect()
}

/// An InetAddress of `kind` (1 ipv4, 2 ipv6, 3 ipv4z, 4 ipv6z) from its octets.
pub fn inet_address(kind: u32, bytes: &[u8]) -> Option<IpAddr> {
    match (kind, bytes.len()) {
        (1, 4) | (3, 8) => {
            let b = bytes.get(..4)?;
            Some(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3])))
        }
        (2, 16) | (4, 20) => {
            let b: [u8; 16] = bytes.get(..16)?.try_into().ok()?;
            Some(IpAddr::V6(Ipv6Addr::from(b)))
        }
        _ => None,
    }
}

/// Rows of several walked columns, keyed by instance index: row -> one value per column.
pub fn rows(walked: &Walked) -> BTreeMap<Vec<u32>, Vec<Option<&Value>>> {
    let width = walked.columns.len();
    let mut out: BTreeMap<Vec<u32>, Vec<Option<&Value>>> = BTreeMap::new();
    for (c, column) in walked.columns.iter().enumerate() {
        for (index, value) in column {
            let row = out
                .entry(index.clone())
                .or_insert_with(|| vec![None; width]);
            if let Some(slot) = row.get_mut(c) {
                *slot = Some(value);
            }
        }
    }
    out
}

/// The walk of `roots` (subtrees: whole tables or single columns) seen as the walk of
/// `columns`: each column gets the rows under it, indexed after the column's OID.
pub fn project(roots: &[&[u32]], walked: &Walked, columns: &[&[u32]]) -> Walked {
    let mut out: Vec<crate::walk::ColumnRows> = vec![Vec::new(); columns.len()];
    for (root, rows) in roots.iter().zip(&walked.columns) {
        for (index, value) in rows {
            let full: Vec<u32> = [*root, index.as_slice()].concat();
            for (c, column) in columns.iter().enumerate() {
                if let Some(rest) = full.strip_prefix(*column)
                    && !rest.is_empty()
                    && let Some(slot) = out.get_mut(c)
                {
                    slot.push((rest.to_vec(), value.clone()));
                }
            }
        }
    }
    Walked {
        columns: out,
        notes: walked.notes.clone(),
    }
}

/// The distinct row indices of some of the walked columns.
pub fn row_count(walked: &Walked, columns: std::ops::Range<usize>) -> u64 {
    let mut indices: Vec<&Vec<u32>> = walked
        .columns
        .get(columns)
        .unwrap_or_default()
        .iter()
        .flatten()
        .map(|(i, _)| i)
        .collect();
    indices.sort();
    indices.dedup();
    indices.len() as u64
}

fn cell<'a>(row: &[Option<&'a Value>], i: usize) -> Option<&'a Value> {
    row.get(i).copied().flatten()
}

// ---- typed rows ----

/// The system group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemInfo {
    /// sysDescr.
    pub descr: Option<String>,
    /// sysObjectID.
    pub object_id: Option<crate::Oid>,
    /// sysUpTime (hundredths of a second).
    pub up_time: Option<u32>,
    /// sysContact.
    pub contact: Option<String>,
    /// sysName.
    pub name: Option<String>,
    /// sysLocation.
    pub location: Option<String>,
    /// sysServices.
    pub services: Option<i64>,
}

impl SystemInfo {
    /// The enterprise number of sysObjectID (1.3.6.1.4.1.N...).
    pub fn enterprise(&self) -> Option<u32> {
        self.object_id
            .as_ref()
            .and_then(|o| o.suffix(&[1, 3, 6, 1, 4, 1]))
            .and_then(|rest| rest.first().copied())
    }
}

/// A row of entPhysicalTable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntityRow {
    /// entPhysicalIndex.
    pub index: u32,
    /// entPhysicalDescr.
    pub descr: Option<String>,
    /// entPhysicalContainedIn.
    pub contained_in: Option<i64>,
    /// entPhysicalClass.
    pub class: Option<i64>,
    /// entPhysicalName.
    pub name: Option<String>,
    /// entPhysicalHardwareRev.
    pub hardware_rev: Option<String>,
    /// entPhysicalFirmwareRev.
    pub firmware_rev: Option<String>,
    /// entPhysicalSoftwareRev.
    pub software_rev: Option<String>,
    /// entPhysicalSerialNum.
    pub serial: Option<String>,
    /// entPhysicalMfgName.
    pub mfg_name: Option<String>,
    /// entPhysicalModelName.
    pub model_name: Option<String>,
}

/// entPhysicalClass chassis(3).
pub const ENTITY_CLASS_CHASSIS: i64 = 3;
/// entPhysicalClass stack(11).
pub const ENTITY_CLASS_STACK: i64 = 11;

/// Decodes the walk of [`entity::COLUMNS`] (one row per entPhysicalIndex seen in any column).
pub fn entities(walked: &Walked) -> Vec<EntityRow> {
    rows(walked)
        .into_iter()
        .filter_map(|(index, row)| {
            let [i] = index.as_slice() else { return None };
            let t = |c| cell(&row, c).and_then(text);
            Some(EntityRow {
                index: *i,
                descr: t(0),
                contained_in: cell(&row, 1).and_then(int),
                class: cell(&row, 2).and_then(int),
                name: t(3),
                hardware_rev: t(4),
                firmware_rev: t(5),
                software_rev: t(6),
                serial: t(7),
                mfg_name: t(8),
                model_name: t(9),
            })
        })
        .collect()
}

/// A row of ifTable joined with ifXTable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IfRow {
    /// ifIndex.
    pub index: u32,
    /// ifDescr.
    pub descr: Option<String>,
    /// ifType.
    pub if_type: Option<u32>,
    /// Speed in bit/s (ifHighSpeed * 10^6 when set, else ifSpeed).
    pub speed_bps: Option<u64>,
    /// ifPhysAddress (when six octets).
    pub mac: Option<MacAddr>,
    /// ifAdminStatus.
    pub admin: Option<i64>,
    /// ifOperStatus.
    pub oper: Option<i64>,
    /// ifName.
    pub name: Option<String>,
    /// ifAlias.
    pub alias: Option<String>,
}

/// Decodes the walk of [`interfaces::COLUMNS`].
pub fn interfaces(walked: &Walked) -> Vec<IfRow> {
    rows(walked)
        .into_iter()
        .filter_map(|(index, row)| {
            let [i] = index.as_slice() else { return None };
            let t = |c| cell(&row, c).and_then(text);
            let high = cell(&row, 7)
                .and_then(|v| v.as_u64())
                .filter(|v| *v > 0)
                .map(|mbps| mbps.saturating_mul(1_000_000));
            let speed = high.or_else(|| cell(&row, 2).and_then(|v| v.as_u64()));
            Some(IfRow {
                index: *i,
                descr: t(0),
                if_type: cell(&row, 1)
                    .and_then(int)
                    .and_then(|v| u32::try_from(v).ok()),
                speed_bps: speed,
                mac: cell(&row, 3).and_then(mac).filter(is_station_mac),
                admin: cell(&row, 4).and_then(int),
                oper: cell(&row, 5).and_then(int),
                name: t(6),
                alias: t(8),
            })
        })
        .collect()
}

/// An ARP (address translation) entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArpRow {
    /// The interface it was learned on.
    pub if_index: u32,
    /// The IP address.
    pub ip: IpAddr,
    /// The MAC address.
    pub mac: MacAddr,
    /// ipNetToMediaType / ipNetToPhysicalType.
    pub kind: Option<i64>,
}

/// ARP entry type invalid(2): to be ignored.
pub const ARP_TYPE_INVALID: i64 = 2;

/// Decodes the walk of [`arp::COLUMNS`]: both tables, with their row counts
/// (ipNetToMediaTable, ipNetToPhysicalTable).
pub fn arp_entries(walked: &Walked) -> (Vec<ArpRow>, u64, u64) {
    let media_count = row_count(walked, 0..1);
    let physical_count = row_count(walked, 2..3);
    let mut out = Vec::new();
    for (index, row) in rows(walked) {
        // media rows have values in columns 0-1, physical rows in 2-3; their indices differ
        let (mac_col, type_col, media) = if cell(&row, 0).is_some() || cell(&row, 1).is_some() {
            (0, 1, true)
        } else {
            (2, 3, false)
        };
        let Some(m) = cell(&row, mac_col).and_then(mac) else {
            continue;
        };
        let parsed = if media {
            media_index(&index)
        } else {
            physical_index(&index)
        };
        let Some((if_index, ip)) = parsed else {
            continue;
        };
        out.push(ArpRow {
            if_index,
            ip,
            mac: m,
            kind: cell(&row, type_col).and_then(int),
        });
    }
    (out, media_count, physical_count)
}

fn media_index(index: &[u32]) -> Option<(u32, IpAddr)> {
    let [if_index, rest @ ..] = index else {
        return None;
    };
    let bytes = octets_from_index(rest)?;
    Some((*if_index, inet_address(1, &bytes)?))
}

fn physical_index(index: &[u32]) -> Option<(u32, IpAddr)> {
    let [if_index, kind, len, rest @ ..] = index else {
        return None;
    };
    if *len as usize != rest.len() {
        return None;
    }
    let bytes = octets_from_index(rest)?;
    Some((*if_index, inet_address(*kind, &bytes)?))
}

/// Where a forwarding entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FdbSource {
    /// dot1dTpFdbTable of the default bridge instance.
    Bridge,
    /// dot1dTpFdbTable of a per-VLAN bridge instance (Cisco community@vlan).
    BridgeVlan(u16),
    /// dot1qTpFdbTable.
    QBridge,
}

/// A forwarding (MAC table) entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FdbRow {
    /// The MAC address learned.
    pub mac: MacAddr,
    /// The bridge port.
    pub bridge_port: u32,
    /// The port's ifIndex, where the bridge says.
    pub if_index: Option<u32>,
    /// dot1dTpFdbStatus / dot1qTpFdbStatus.
    pub status: Option<i64>,
    /// The VLAN, where known.
    pub vlan: Option<u16>,
    /// Which table.
    pub source: FdbSource,
}

/// FDB status self(4): the bridge's own address.
pub const FDB_STATUS_SELF: i64 = 4;
/// FDB status invalid(2).
pub const FDB_STATUS_INVALID: i64 = 2;

/// Decodes the walk of [`bridge::COLUMNS`] (one bridge instance): its base port map, its
/// entries, and the number of dot1dTpFdbTable rows.
pub fn bridge_fdb(walked: &Walked, source: FdbSource) -> (BTreeMap<u32, u32>, Vec<FdbRow>, u64) {
    let mut ports = BTreeMap::new();
    if let Some(col) = walked.columns.first() {
        for (index, value) in col {
            if let ([port], Some(ifi)) = (index.as_slice(), int(value))
                && let Ok(ifi) = u32::try_from(ifi)
            {
                ports.insert(*port, ifi);
            }
        }
    }
    let count = row_count(walked, 1..2);
    let vlan = match source {
        FdbSource::BridgeVlan(v) => Some(v),
        _ => None,
    };
    let fdb_only = Walked {
        columns: walked.columns.get(1..3).unwrap_or_default().to_vec(),
        notes: Vec::new(),
    };
    let entries = rows(&fdb_only)
        .into_iter()
        .filter_map(|(index, row)| {
            let mac = mac_from_index(&index)?;
            let bridge_port = cell(&row, 0)
                .and_then(int)
                .and_then(|p| u32::try_from(p).ok())?;
            Some(FdbRow {
                mac,
                bridge_port,
                if_index: ports.get(&bridge_port).copied(),
                status: cell(&row, 1).and_then(int),
                vlan,
                source,
            })
        })
        .collect();
    (ports, entries, count)
}

/// Decodes the walk of [`qbridge::COLUMNS`]: entries with their VLAN (through dot1qVlanFdbId,
/// else taking the FDB ID as the VLAN ID), and the number of dot1qTpFdbTable rows.
pub fn qbridge_fdb(walked: &Walked, base_ports: &BTreeMap<u32, u32>) -> (Vec<FdbRow>, u64) {
    let mut fdb_to_vlan: BTreeMap<u32, u16> = BTreeMap::new();
    if let Some(col) = walked.columns.get(2) {
        for (index, value) in col {
            if let ([_time_mark, vlan], Some(fdb)) = (index.as_slice(), int(value))
                && let (Ok(fdb), Ok(vlan)) = (u32::try_from(fdb), u16::try_from(*vlan))
            {
                fdb_to_vlan.entry(fdb).or_insert(vlan);
            }
        }
    }
    let count = row_count(walked, 0..1);
    let fdb_only = Walked {
        columns: walked.columns.get(0..2).unwrap_or_default().to_vec(),
        notes: Vec::new(),
    };
    let entries = rows(&fdb_only)
        .into_iter()
        .filter_map(|(index, row)| {
            let [fdb_id, mac_index @ ..] = index.as_slice() else {
                return None;
            };
            let mac = mac_from_index(mac_index)?;
            let bridge_port = cell(&row, 0)
                .and_then(int)
                .and_then(|p| u32::try_from(p).ok())?;
            let vlan = fdb_to_vlan
                .get(fdb_id)
                .copied()
                .or_else(|| u16::try_from(*fdb_id).ok());
            Some(FdbRow {
                mac,
                bridge_port,
                if_index: base_ports.get(&bridge_port).copied(),
                status: cell(&row, 1).and_then(int),
                vlan,
                source: FdbSource::QBridge,
            })
        })
        .collect();
    (entries, count)
}

/// A local LLDP port (lldpLocPortTable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LldpLocalPort {
    /// lldpLocPortIdSubtype.
    pub id_subtype: Option<i64>,
    /// lldpLocPortId (raw).
    pub id: Vec<u8>,
    /// lldpLocPortDesc.
    pub desc: Option<String>,
}

/// A row of lldpRemTable with its management addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LldpRow {
    /// lldpRemLocalPortNum.
    pub local_port: u32,
    /// lldpRemIndex.
    pub index: u32,
    /// lldpRemChassisIdSubtype.
    pub chassis_subtype: Option<i64>,
    /// lldpRemChassisId (raw).
    pub chassis_id: Vec<u8>,
    /// lldpRemPortIdSubtype.
    pub port_subtype: Option<i64>,
    /// lldpRemPortId (raw).
    pub port_id: Vec<u8>,
    /// lldpRemPortDesc.
    pub port_desc: Option<String>,
    /// lldpRemSysName.
    pub sys_name: Option<String>,
    /// lldpRemSysDesc.
    pub sys_desc: Option<String>,
    /// lldpRemSysCapSupported (BITS).
    pub caps_supported: Vec<u8>,
    /// lldpRemSysCapEnabled (BITS).
    pub caps_enabled: Vec<u8>,
    /// Management addresses (lldpRemManAddrTable).
    pub addresses: Vec<IpAddr>,
}

/// Decodes the walk of [`lldp::COLUMNS`]: local ports, remote rows, and the number of
/// lldpRemTable rows.
pub fn lldp_neighbors(walked: &Walked) -> (BTreeMap<u32, LldpLocalPort>, Vec<LldpRow>, u64) {
    let all = rows(walked);
    let mut local = BTreeMap::new();
    let mut remote: BTreeMap<(u32, u32, u32), LldpRow> = BTreeMap::new();
    let mut addresses: Vec<((u32, u32, u32), IpAddr)> = Vec::new();
    for (index, row) in &all {
        let has = |cols: std::ops::Range<usize>| cols.into_iter().any(|c| cell(row, c).is_some());
        if has(0..3)
            && let [port] = index.as_slice()
        {
            {
                local.insert(
                    *port,
                    LldpLocalPort {
                        id_subtype: cell(row, 0).and_then(int),
                        id: cell(row, 1)
                            .and_then(|v| v.as_bytes())
                            .unwrap_or_default()
                            .to_vec(),
                        desc: cell(row, 2).and_then(text),
                    },
                );
            }
        }
        if has(3..12)
            && let [time_mark, port, idx] = index.as_slice()
        {
            let bytes = |c| {
                cell(row, c)
                    .and_then(|v| v.as_bytes())
                    .unwrap_or_default()
                    .to_vec()
            };
            remote.insert(
                (*time_mark, *port, *idx),
                LldpRow {
                    local_port: *port,
                    index: *idx,
                    chassis_subtype: cell(row, 3).and_then(int),
                    chassis_id: bytes(4),
                    port_subtype: cell(row, 5).and_then(int),
                    port_id: bytes(6),
                    port_desc: cell(row, 7).and_then(text),
                    sys_name: cell(row, 8).and_then(text),
                    sys_desc: cell(row, 9).and_then(text),
                    caps_supported: bytes(10),
                    caps_enabled: bytes(11),
                    addresses: Vec::new(),
                },
            );
        }
        if cell(row, 12).is_some()
            && let [time_mark, port, idx, subtype, len, rest @ ..] = index.as_slice()
            && *len as usize == rest.len()
            && let Some(bytes) = octets_from_index(rest)
            && let Some(ip) = inet_address(*subtype, &bytes)
        {
            addresses.push(((*time_mark, *port, *idx), ip));
        }
    }
    let count = row_count(walked, 4..5);
    for (key, ip) in addresses {
        if let Some(r) = remote.get_mut(&key)
            && !r.addresses.contains(&ip)
        {
            r.addresses.push(ip);
        }
    }
    (local, remote.into_values().collect(), count)
}

/// LLDP capability names by bit (IEEE 802.1AB LldpSystemCapabilitiesMap; bit 0 is the most
/// significant bit of the first octet).
const LLDP_CAPABILITIES: [&str; 8] = [
    "other", "repeater", "bridge", "wlan-ap", "router", "phone", "docsis", "station",
];

/// The capability names of an LLDP BITS value.
pub fn lldp_capabilities(bits: &[u8]) -> Vec<String> {
    let Some(first) = bits.first() else {
        return Vec::new();
    };
    LLDP_CAPABILITIES
        .iter()
        .enumerate()
        .filter(|(i, _)| first & (0x80 >> i) != 0)
        .map(|(_, n)| n.to_string())
        .collect()
}

/// A row of cdpCacheTable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdpRow {
    /// The local ifIndex.
    pub if_index: u32,
    /// cdpCacheDeviceIndex.
    pub index: u32,
    /// cdpCacheAddress as an IP address (type ip and four octets).
    pub address: Option<IpAddr>,
    /// cdpCacheVersion.
    pub version: Option<String>,
    /// cdpCacheDeviceId (raw).
    pub device_id: Vec<u8>,
    /// cdpCacheDevicePort.
    pub device_port: Option<String>,
    /// cdpCachePlatform.
    pub platform: Option<String>,
    /// cdpCacheCapabilities as a bit mask.
    pub capabilities: u32,
}

/// Decodes the walk of [`cdp::COLUMNS`], with the number of cdpCacheTable rows.
pub fn cdp_neighbors(walked: &Walked) -> (Vec<CdpRow>, u64) {
    let all = rows(walked);
    let count = row_count(walked, 3..4);
    let out = all
        .into_iter()
        .filter_map(|(index, row)| {
            let [if_index, idx] = index.as_slice() else {
                return None;
            };
            let address = match (cell(&row, 0).and_then(int), cell(&row, 1)) {
                (Some(1), Some(v)) => v.as_bytes().and_then(|b| inet_address(1, b)),
                _ => None,
            };
            Some(CdpRow {
                if_index: *if_index,
                index: *idx,
                address,
                version: cell(&row, 2).and_then(text),
                device_id: cell(&row, 3)
                    .and_then(|v| v.as_bytes())
                    .unwrap_or_default()
                    .to_vec(),
                device_port: cell(&row, 4).and_then(text),
                platform: cell(&row, 5).and_then(text),
                capabilities: cell(&row, 6)
                    .and_then(|v| v.as_bytes())
                    .map(cdp_capability_bits)
                    .unwrap_or(0),
            })
        })
        .collect();
    (out, count)
}

/// cdpCacheCapabilities: four octets of bits (0x01 router, 0x02 transparent bridge, 0x04
/// source-route bridge, 0x08 switch, 0x10 host, 0x20 IGMP, 0x40 repeater). Some agents (HP
/// ProCurve) write the mask as hex text ("8"); that form is read too.
pub fn cdp_capability_bits(bytes: &[u8]) -> u32 {
    let hex_text = !bytes.is_empty() && bytes.len() <= 8 && bytes.iter().all(u8::is_ascii_hexdigit);
    if hex_text {
        return std::str::from_utf8(bytes)
            .ok()
            .and_then(|s| u32::from_str_radix(s, 16).ok())
            .unwrap_or(0);
    }
    bytes
        .iter()
        .rev()
        .take(4)
        .rev()
        .fold(0u32, |acc, b| (acc << 8) | u32::from(*b))
}

/// The capability names of a CDP bit mask.
pub fn cdp_capabilities(bits: u32) -> Vec<String> {
    [
        (0x01, "router"),
        (0x02, "bridge"),
        (0x04, "bridge"),
        (0x08, "switch"),
        (0x10, "host"),
        (0x20, "igmp"),
        (0x40, "repeater"),
    ]
    .iter()
    .filter(|(bit, _)| bits & bit != 0)
    .map(|(_, n)| n.to_string())
    .fold(Vec::new(), |mut acc, n| {
        if !acc.contains(&n) {
            acc.push(n);
        }
        acc
    })
}

/// A VLAN of vtpVlanTable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VtpVlan {
    /// The VLAN ID.
    pub vlan: u16,
    /// vtpVlanState (1 operational).
    pub state: Option<i64>,
    /// vtpVlanType (1 ethernet).
    pub kind: Option<i64>,
}

/// Decodes the walk of [`vtp::COLUMNS`].
pub fn vtp_vlans(walked: &Walked) -> Vec<VtpVlan> {
    rows(walked)
        .into_iter()
        .filter_map(|(index, row)| {
            let [_domain, vlan] = index.as_slice() else {
                return None;
            };
            Some(VtpVlan {
                vlan: u16::try_from(*vlan).ok()?,
                state: cell(&row, 0).and_then(int),
                kind: cell(&row, 1).and_then(int),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walked(cols: Vec<Vec<(Vec<u32>, Value)>>) -> Walked {
        Walked {
            columns: cols,
            notes: vec![],
        }
    }

    #[test]
    fn arp_indices_decode_for_both_tables() {
        let w = walked(vec![
            vec![(
                vec![100, 172, 25, 2, 1],
                Value::OctetString(vec![0xf4, 0x7f, 0x35, 0x93, 0xaf, 0xc1]),
            )],
            vec![(vec![100, 172, 25, 2, 1], Value::Integer(3))],
            vec![(
                vec![
                    7, 2, 16, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
                ],
                Value::OctetString(vec![0, 1, 2, 3, 4, 5]),
            )],
            vec![],
        ]);
        let (rows, media, physical) = arp_entries(&w);
        assert_eq!((media, physical), (1, 1));
        assert_eq!(rows.len(), 2);
        let v4 = rows.iter().find(|r| r.if_index == 100).unwrap();
        assert_eq!(v4.ip, "172.25.2.1".parse::<IpAddr>().unwrap());
        let v6 = rows.iter().find(|r| r.if_index == 7).unwrap();
        assert_eq!(v6.ip, "fe80::1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn lldp_management_addresses_join_their_neighbour() {
        let idx = vec![0, 17, 1];
        let w = walked(vec![
            vec![],
            vec![],
            vec![],
            vec![(idx.clone(), Value::Integer(4))],
            vec![(
                idx.clone(),
                Value::OctetString(vec![0x8c, 0x60, 0x4f, 0x19, 0x16, 0x3a]),
            )],
            vec![],
            vec![(idx.clone(), Value::OctetString(b"Eth1/19".to_vec()))],
            vec![],
            vec![(idx.clone(), Value::OctetString(b"NWPU-CA-5548-01".to_vec()))],
            vec![],
            vec![],
            vec![(idx.clone(), Value::OctetString(vec![0x28]))],
            vec![(vec![0, 17, 1, 1, 4, 10, 40, 1, 19], Value::Integer(2))],
        ]);
        let (_, rows, count) = lldp_neighbors(&w);
        assert_eq!(count, 1);
        assert_eq!(
            rows[0].addresses,
            vec!["10.40.1.19".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(
            lldp_capabilities(&rows[0].caps_enabled),
            ["bridge", "router"]
        );
    }

    #[test]
    fn a_table_walked_whole_projects_onto_its_columns() {
        let entry: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 4, 3, 1];
        let mac = [0u32, 1, 2, 3, 4, 5];
        let w = walked(vec![vec![
            (
                [&[1u32][..], &mac].concat(),
                Value::OctetString(vec![0, 1, 2, 3, 4, 5]),
            ),
            ([&[2u32][..], &mac].concat(), Value::Integer(7)),
            ([&[3u32][..], &mac].concat(), Value::Integer(3)),
        ]]);
        let p = project(&[entry], &w, &[bridge::FDB_PORT, bridge::FDB_STATUS]);
        assert_eq!(p.columns[0], vec![(mac.to_vec(), Value::Integer(7))]);
        assert_eq!(p.columns[1], vec![(mac.to_vec(), Value::Integer(3))]);
    }

    #[test]
    fn cdp_capabilities_read_binary_and_procurve_text() {
        assert_eq!(cdp_capability_bits(&[0, 0, 0, 0x29]), 0x29);
        assert_eq!(cdp_capability_bits(b"9"), 9);
        assert_eq!(cdp_capabilities(9), ["router", "switch"]);
    }

    #[test]
    fn qbridge_fdb_ids_map_to_vlans() {
        let mac = vec![0, 0x0c, 7, 0xac, 0x32, 1];
        let w = walked(vec![
            vec![([vec![2], mac.clone()].concat(), Value::Integer(17))],
            vec![([vec![2], mac.clone()].concat(), Value::Integer(3))],
            vec![(vec![0, 20], Value::Gauge32(2))],
        ]);
        let (rows, count) = qbridge_fdb(&w, &BTreeMap::from([(17, 10017)]));
        assert_eq!(count, 1);
        assert_eq!(rows[0].vlan, Some(20));
        assert_eq!(rows[0].if_index, Some(10017));
    }
}

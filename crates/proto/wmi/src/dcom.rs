//! DCOM (MS-DCOM): activation, OBJREFs, OXID string bindings, ORPCTHIS/ORPCTHAT, RemRelease.
//!
//! Activation asks the host's object resolver on TCP 135 to create a WbemLevel1Login object:
//! [`remote_create_instance`] (IRemoteSCMActivator, Windows 2003 and later) or, for old hosts,
//! [`remote_activation`] (IActivation). Both replies name the object exporter's string bindings
//! (`NAME[port]`, `IP[port]`); [`pick_binding`] chooses where to connect.

use crate::ndr::{NdrError, Reader, Uuid, Writer, utf16_lossy_until_nul};
use crate::status::Status;
use std::net::{IpAddr, SocketAddr};

/// IRemoteSCMActivator.
pub const IID_IREMOTE_SCM_ACTIVATOR: Uuid = Uuid::from_u128(0x000001A0_0000_0000_C000_000000000046);
/// IActivation.
pub const IID_IACTIVATION: Uuid = Uuid::from_u128(0x4D9F4AB8_7D1C_11CF_861E_0020AF6E7C57);
/// IRemUnknown.
pub const IID_IREM_UNKNOWN: Uuid = Uuid::from_u128(0x00000131_0000_0000_C000_000000000046);
/// IActivationPropertiesIn.
pub const IID_IACTIVATION_PROPERTIES_IN: Uuid =
    Uuid::from_u128(0x000001A2_0000_0000_C000_000000000046);
/// CLSID_ActivationPropertiesIn.
pub const CLSID_ACTIVATION_PROPERTIES_IN: Uuid =
    Uuid::from_u128(0x00000338_0000_0000_C000_000000000046);
/// CLSID_InstantiationInfo.
pub const CLSID_INSTANTIATION_INFO: Uuid = Uuid::from_u128(0x000001AB_0000_0000_C000_000000000046);
/// CLSID_ActivationContextInfo.
pub const CLSID_ACTIVATION_CONTEXT_INFO: Uuid =
    Uuid::from_u128(0x000001A5_0000_0000_C000_000000000046);
/// CLSID_ServerLocationInfo.
pub const CLSID_SERVER_LOCATION_INFO: Uuid =
    Uuid::from_u128(0x000001A4_0000_0000_C000_000000000046);
/// CLSID_ScmRequestInfo.
pub const CLSID_SCM_REQUEST_INFO: Uuid = Uuid::from_u128(0x000001AA_0000_0000_C000_000000000046);
/// CLSID_PropsOutInfo.
pub const CLSID_PROPS_OUT_INFO: Uuid = Uuid::from_u128(0x00000339_0000_0000_C000_000000000046);
/// CLSID_ScmReplyInfo.
pub const CLSID_SCM_REPLY_INFO: Uuid = Uuid::from_u128(0x000001B6_0000_0000_C000_000000000046);

/// IRemoteSCMActivator::RemoteCreateInstance.
pub const OPNUM_REMOTE_CREATE_INSTANCE: u16 = 4;
/// IActivation::RemoteActivation.
pub const OPNUM_REMOTE_ACTIVATION: u16 = 0;
/// IRemUnknown::RemRelease.
pub const OPNUM_REM_RELEASE: u16 = 5;

/// 'MEOW', the OBJREF signature.
const OBJREF_SIGNATURE: u32 = 0x574f_454d;
/// ncacn_ip_tcp tower ID.
pub const TOWER_TCP: u16 = 0x07;
/// RPC_C_IMP_LEVEL_IDENTIFY: the server may learn who we are, not act as us.
const IMP_LEVEL_IDENTIFY: u32 = 2;
/// MSHCTX_DIFFERENTMACHINE.
const DEST_DIFFERENT_MACHINE: u32 = 2;
/// Most string bindings read from one DUALSTRINGARRAY.
const MAX_BINDINGS: usize = 64;

/// Why a DCOM reply could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DcomError {
    /// Malformed NDR.
    #[error(transparent)]
    Ndr(#[from] NdrError),
    /// Malformed DCOM structure.
    #[error("bad {what}: {detail}")]
    Bad {
        /// The structure.
        what: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// The call returned a failure HRESULT.
    #[error("{call} returned {status}")]
    Failed {
        /// The call.
        call: &'static str,
        /// Its HRESULT.
        status: Status,
    },
}

fn bad(what: &'static str, detail: impl Into<String>) -> DcomError {
    DcomError::Bad {
        what,
        detail: detail.into(),
    }
}

/// Writes an ORPCTHIS (COM version 5.7, no extensions) with causality ID `cid`.
pub fn orpc_this(w: &mut Writer, cid: &Uuid) {
    w.u16(5);
    w.u16(7);
    w.u32(0); // flags: ORPCF_NULL
    w.u32(0); // reserved1
    w.uuid(cid);
    w.null(); // extensions
}

/// Reads an ORPCTHAT, skipping any extensions (error information).
pub fn orpc_that(r: &mut Reader<'_>) -> Result<(), DcomError> {
    let _flags = r.u32("ORPCTHAT.flags")?;
    if r.pointer("ORPCTHAT.extensions")? != 0 {
        skip_extent_array(r)?;
    }
    Ok(())
}

/// Skips an ORPC_EXTENT_ARRAY referent.
fn skip_extent_array(r: &mut Reader<'_>) -> Result<(), DcomError> {
    let _size = r.u32("ORPC_EXTENT_ARRAY.size")?;
    let _reserved = r.u32("ORPC_EXTENT_ARRAY.reserved")?;
    if r.pointer("ORPC_EXTENT_ARRAY.extent")? == 0 {
        return Ok(());
    }
    let _max = r.u32("extent max count")?;
    let _offset = r.u32("extent offset")?;
    let n = r.count(4, "extent count")?;
    let mut present = 0;
    for _ in 0..n {
        if r.pointer("extent pointer")? != 0 {
            present += 1;
        }
    }
    for _ in 0..present {
        let size = r.count(1, "ORPC_EXTENT data size")?;
        let _id = r.uuid("ORPC_EXTENT.id")?;
        let _size = r.u32("ORPC_EXTENT.size")?;
        r.take(size, "ORPC_EXTENT.data")?;
    }
    Ok(())
}

/// Reads the HRESULT that ends every DCOM reply stub.
pub fn trailing_hresult(stub: &[u8]) -> Result<Status, DcomError> {
    let n = stub.len();
    let tail = stub
        .get(n.saturating_sub(4)..)
        .filter(|t| t.len() == 4)
        .ok_or_else(|| bad("reply", "shorter than an HRESULT"))?;
    Ok(Status(u32::from_le_bytes([
        tail[0], tail[1], tail[2], tail[3],
    ])))
}

/// Fails with the reply's HRESULT when it is a failure.
pub fn check_hresult(call: &'static str, stub: &[u8]) -> Result<Status, DcomError> {
    let status = trailing_hresult(stub)?;
    if status.is_failure() {
        return Err(DcomError::Failed { call, status });
    }
    Ok(status)
}

/// Writes a non-null `MInterfacePointer*` with `data` as its abData.
pub fn write_interface_pointer(w: &mut Writer, data: &[u8]) {
    w.pointer();
    w.u32(data.len() as u32);
    w.u32(data.len() as u32);
    w.bytes(data);
}

/// Reads the referent of an `MInterfacePointer*` (ulCntData + abData).
pub fn read_interface_pointer<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], DcomError> {
    let max = r.count(1, "MInterfacePointer conformance")?;
    let len = r.u32("MInterfacePointer.ulCntData")? as usize;
    if len > max {
        return Err(bad(
            "MInterfacePointer",
            format!("{len} bytes announced in a {max}-byte array"),
        ));
    }
    let data = r.take(max, "MInterfacePointer.abData")?;
    Ok(&data[..len])
}

/// STDOBJREF: how to call a marshaled interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StdObjRef {
    /// flags.
    pub flags: u32,
    /// cPublicRefs: references handed to us (to release).
    pub public_refs: u32,
    /// The object exporter.
    pub oxid: u64,
    /// The object.
    pub oid: u64,
    /// The interface pointer identifier (the request's object UUID).
    pub ipid: Uuid,
}

/// An OBJREF (MS-DCOM 2.2.18).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjRef {
    /// OBJREF_STANDARD (or the standard part of a handler / extended OBJREF).
    Standard {
        /// The interface.
        iid: Uuid,
        /// Its standard reference.
        std: StdObjRef,
    },
    /// OBJREF_CUSTOM: data unmarshaled by `clsid`.
    Custom {
        /// The interface.
        iid: Uuid,
        /// The unmarshaler's class.
        clsid: Uuid,
        /// pObjectData.
        data: Vec<u8>,
    },
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn le64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn guid(b: &[u8], at: usize) -> Option<Uuid> {
    Some(Uuid(b.get(at..at + 16)?.try_into().ok()?))
}

impl ObjRef {
    /// Parses an OBJREF (the abData of an MInterfacePointer).
    pub fn parse(b: &[u8]) -> Result<ObjRef, DcomError> {
        let short = || bad("OBJREF", format!("{} bytes, too short", b.len()));
        if le32(b, 0).ok_or_else(short)? != OBJREF_SIGNATURE {
            return Err(bad("OBJREF", "no MEOW signature"));
        }
        let flags = le32(b, 4).ok_or_else(short)?;
        let iid = guid(b, 8).ok_or_else(short)?;
        match flags {
            1 | 2 | 8 => {
                let std = StdObjRef {
                    flags: le32(b, 24).ok_or_else(short)?,
                    public_refs: le32(b, 28).ok_or_else(short)?,
                    oxid: le64(b, 32).ok_or_else(short)?,
                    oid: le64(b, 40).ok_or_else(short)?,
                    ipid: guid(b, 48).ok_or_else(short)?,
                };
                Ok(ObjRef::Standard { iid, std })
            }
            4 => {
                let clsid = guid(b, 24).ok_or_else(short)?;
                let data = b.get(48..).ok_or_else(short)?.to_vec();
                Ok(ObjRef::Custom { iid, clsid, data })
            }
            f => Err(bad("OBJREF", format!("unknown flags {f:#x}"))),
        }
    }

    /// The standard reference, for a standard OBJREF.
    pub fn standard(&self) -> Option<&StdObjRef> {
        match self {
            ObjRef::Standard { std, .. } => Some(std),
            ObjRef::Custom { .. } => None,
        }
    }

    /// Writes an OBJREF_CUSTOM.
    pub fn custom_bytes(iid: &Uuid, clsid: &Uuid, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(48 + data.len());
        out.extend_from_slice(&OBJREF_SIGNATURE.to_le_bytes());
        out.extend_from_slice(&4u32.to_le_bytes());
        out.extend_from_slice(&iid.0);
        out.extend_from_slice(&clsid.0);
        out.extend_from_slice(&0u32.to_le_bytes()); // cbExtension
        out.extend_from_slice(&((data.len() + 8) as u32).to_le_bytes()); // ObjectReferenceSize
        out.extend_from_slice(data);
        out
    }
}

/// One string binding of an OXID: where the object exporter listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringBinding {
    /// wTowerId (7 = ncacn_ip_tcp).
    pub tower_id: u16,
    /// aNetworkAddr, e.g. `ENG-WS-01[49154]`.
    pub address: String,
}

impl StringBinding {
    /// The host part and the port in brackets, for TCP bindings.
    pub fn host_port(&self) -> Option<(&str, Option<u16>)> {
        if self.tower_id != TOWER_TCP {
            return None;
        }
        match self.address.split_once('[') {
            Some((host, rest)) => {
                let port = rest.trim_end_matches(']').parse().ok();
                Some((host, port))
            }
            None => Some((self.address.as_str(), None)),
        }
    }
}

/// Parses the entries of a DUALSTRINGARRAY: its string bindings (security bindings skipped).
pub fn parse_string_bindings(
    entries: &[u16],
    security_offset: usize,
) -> Result<Vec<StringBinding>, DcomError> {
    let strings = entries
        .get(..security_offset)
        .ok_or_else(|| bad("DUALSTRINGARRAY", "security offset past the entries"))?;
    let mut out = Vec::new();
    let mut i = 0;
    while i < strings.len() && strings[i] != 0 && out.len() < MAX_BINDINGS {
        let tower_id = strings[i];
        let start = i + 1;
        let end = strings[start.min(strings.len())..]
            .iter()
            .position(|u| *u == 0)
            .map(|p| start + p)
            .ok_or_else(|| bad("DUALSTRINGARRAY", "unterminated string binding"))?;
        out.push(StringBinding {
            tower_id,
            address: String::from_utf16_lossy(&strings[start..end]),
        });
        i = end + 1;
    }
    Ok(out)
}

/// Reads the referent of a `DUALSTRINGARRAY*`.
fn read_dual_string_array(r: &mut Reader<'_>) -> Result<Vec<StringBinding>, DcomError> {
    let max = r.count(2, "DUALSTRINGARRAY conformance")?;
    let n = r.u16("DUALSTRINGARRAY.wNumEntries")? as usize;
    let security_offset = r.u16("DUALSTRINGARRAY.wSecurityOffset")? as usize;
    if n > max {
        return Err(bad(
            "DUALSTRINGARRAY",
            format!("{n} entries in a {max}-entry array"),
        ));
    }
    let mut entries = Vec::with_capacity(max);
    for _ in 0..max {
        entries.push(r.u16("DUALSTRINGARRAY entry")?);
    }
    entries.truncate(n);
    parse_string_bindings(&entries, security_offset.min(n))
}

/// Chooses where to reach the object exporter: the binding that names `target` itself, else the
/// port of the first TCP binding on `target` (a NetBIOS name is never resolved, and no address
/// other than the scanned one is ever contacted).
pub fn pick_binding(bindings: &[StringBinding], target: IpAddr) -> Result<SocketAddr, DcomError> {
    let tcp: Vec<(&str, Option<u16>)> = bindings.iter().filter_map(|b| b.host_port()).collect();
    let same_host = tcp
        .iter()
        .find(|(host, port)| port.is_some() && host.parse::<IpAddr>().ok() == Some(target));
    let chosen = same_host.or_else(|| tcp.iter().find(|(_, port)| port.is_some()));
    match chosen {
        Some((_, Some(port))) => Ok(SocketAddr::new(target, *port)),
        _ => Err(bad(
            "OXID bindings",
            format!(
                "no TCP binding with a port among {:?}",
                bindings.iter().map(|b| &b.address).collect::<Vec<_>>()
            ),
        )),
    }
}

/// What activation returned: the interface and where its exporter listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activation {
    /// The object exporter.
    pub oxid: u64,
    /// Its string bindings, as the host named them.
    pub bindings: Vec<StringBinding>,
    /// IPID of the exporter's IRemUnknown (for RemRelease).
    pub rem_unknown: Uuid,
    /// The authentication level the server suggests.
    pub authn_hint: u32,
    /// The server's COM version (major, minor).
    pub server_version: (u16, u16),
    /// The requested interface.
    pub interface: StdObjRef,
}

/// One Type Serialization Version 1 stream (MS-RPCE 2.2.6): headers, then `ndr` padded to 8.
fn type_serialized(ndr: &[u8]) -> Vec<u8> {
    let padded = ndr.len().div_ceil(8) * 8;
    let mut out = Vec::with_capacity(16 + padded);
    out.extend_from_slice(&[1, 0x10, 8, 0, 0xcc, 0xcc, 0xcc, 0xcc]);
    out.extend_from_slice(&(padded as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(ndr);
    out.resize(16 + padded, 0);
    out
}

fn instantiation_info(clsid: &Uuid, iid: &Uuid) -> Vec<u8> {
    // thisSize is the serialized size, which is fixed: 16 (headers) + 48 (struct) + 20 (the
    // pIID referent) padded to 72
    const THIS_SIZE: u32 = 16 + 72;
    let mut w = Writer::new();
    w.uuid(clsid);
    w.u32(0); // classCtx
    w.u32(0); // actvflags
    w.u32(0); // fIsSurrogate
    w.u32(1); // cIID
    w.u32(0); // instFlag
    w.pointer(); // pIID
    w.u32(THIS_SIZE);
    w.u16(5); // clientCOMVersion 5.7
    w.u16(7);
    w.u32(1); // pIID referent: conformance, then the IID
    w.uuid(iid);
    let out = type_serialized(&w.into_bytes());
    debug_assert_eq!(out.len(), THIS_SIZE as usize);
    out
}

fn activation_context_info() -> Vec<u8> {
    let mut w = Writer::new();
    for _ in 0..4 {
        w.u32(0); // clientOK, bReserved1, dwReserved1, dwReserved2
    }
    w.null(); // pIFDClientCtx
    w.null(); // pIFDPrototypeCtx
    type_serialized(&w.into_bytes())
}

fn location_info() -> Vec<u8> {
    let mut w = Writer::new();
    w.null(); // machineName
    w.u32(0); // processId
    w.u32(0); // apartmentId
    w.u32(0); // contextId
    type_serialized(&w.into_bytes())
}

fn scm_request_info() -> Vec<u8> {
    let mut w = Writer::new();
    w.null(); // pdwReserved
    w.pointer(); // remoteRequest
    w.u32(IMP_LEVEL_IDENTIFY); // ClientImpLevel
    w.u16(1); // cRequestedProtseqs
    w.pointer(); // pRequestedProtseqs
    w.u32(1);
    w.u16(TOWER_TCP);
    type_serialized(&w.into_bytes())
}

/// The ACTIVATION_BLOB of an IActivationPropertiesIn asking for `clsid` / `iid`.
pub fn activation_properties_in(clsid: &Uuid, iid: &Uuid) -> Vec<u8> {
    let props = [
        (CLSID_INSTANTIATION_INFO, instantiation_info(clsid, iid)),
        (CLSID_ACTIVATION_CONTEXT_INFO, activation_context_info()),
        (CLSID_SERVER_LOCATION_INFO, location_info()),
        (CLSID_SCM_REQUEST_INFO, scm_request_info()),
    ];
    let properties_len: usize = props.iter().map(|(_, p)| p.len()).sum();
    let header = |total: u32, header_size: u32| {
        let mut w = Writer::new();
        w.u32(total);
        w.u32(header_size);
        w.u32(0); // dwReserved
        w.u32(DEST_DIFFERENT_MACHINE);
        w.u32(props.len() as u32); // cIfs
        w.uuid(&Uuid::default()); // classInfoClsid
        w.pointer(); // pclsid
        w.pointer(); // pSizes
        w.null(); // pdwReserved
        w.u32(props.len() as u32);
        for (c, _) in &props {
            w.uuid(c);
        }
        w.u32(props.len() as u32);
        for (_, p) in &props {
            w.u32(p.len() as u32);
        }
        type_serialized(&w.into_bytes())
    };
    let header_size = header(0, 0).len();
    let total = (header_size + properties_len) as u32;
    let mut blob = Vec::with_capacity(8 + total as usize);
    blob.extend_from_slice(&total.to_le_bytes()); // dwSize
    blob.extend_from_slice(&[0; 4]); // dwReserved
    blob.extend_from_slice(&header(total, header_size as u32));
    for (_, p) in &props {
        blob.extend_from_slice(p);
    }
    blob
}

/// The stub of IRemoteSCMActivator::RemoteCreateInstance for `clsid` / `iid`.
pub fn remote_create_instance(cid: &Uuid, clsid: &Uuid, iid: &Uuid) -> Vec<u8> {
    let mut w = Writer::new();
    orpc_this(&mut w, cid);
    w.null(); // pUnkOuter
    let objref = ObjRef::custom_bytes(
        &IID_IACTIVATION_PROPERTIES_IN,
        &CLSID_ACTIVATION_PROPERTIES_IN,
        &activation_properties_in(clsid, iid),
    );
    write_interface_pointer(&mut w, &objref);
    w.into_bytes()
}

/// Reads a Type Serialization Version 1 stream: the NDR data after its 16-byte headers.
fn type_serialized_data(blob: &[u8]) -> Result<&[u8], DcomError> {
    if blob.len() < 16 || blob[0] != 1 || blob[1] != 0x10 {
        return Err(bad(
            "serialized property",
            "not a little-endian version 1 stream",
        ));
    }
    let announced = u32::from_le_bytes([blob[8], blob[9], blob[10], blob[11]]) as usize;
    let data = &blob[16..];
    Ok(&data[..announced.min(data.len())])
}

/// Reads the reply of RemoteCreateInstance.
pub fn parse_remote_create_instance(stub: &[u8]) -> Result<Activation, DcomError> {
    check_hresult("RemoteCreateInstance", stub)?;
    let mut r = Reader::new(stub);
    orpc_that(&mut r)?;
    if r.pointer("ppActProperties")? == 0 {
        return Err(bad(
            "RemoteCreateInstance reply",
            "no activation properties",
        ));
    }
    let objref = ObjRef::parse(read_interface_pointer(&mut r)?)?;
    let ObjRef::Custom { data, .. } = objref else {
        return Err(bad("ppActProperties", "not a custom OBJREF"));
    };
    parse_activation_properties_out(&data)
}

/// Reads an IActivationPropertiesOut ACTIVATION_BLOB: PropsOutInfo and ScmReplyInfo.
pub fn parse_activation_properties_out(blob: &[u8]) -> Result<Activation, DcomError> {
    let mut r = Reader::new(blob);
    let _size = r.u32("ACTIVATION_BLOB.dwSize")?;
    let _reserved = r.u32("ACTIVATION_BLOB.dwReserved")?;
    let rest = &blob[8..];
    let (clsids, sizes, header_size) = parse_custom_header(type_serialized_data(rest)?)?;
    let mut at = header_size;
    let mut props_out = None;
    let mut scm_reply = None;
    for (clsid, size) in clsids.iter().zip(sizes) {
        let prop = rest
            .get(at..at.saturating_add(size))
            .ok_or_else(|| bad("ACTIVATION_BLOB", "property past the end"))?;
        at += size;
        if *clsid == CLSID_PROPS_OUT_INFO {
            props_out = Some(parse_props_out(type_serialized_data(prop)?)?);
        } else if *clsid == CLSID_SCM_REPLY_INFO {
            scm_reply = Some(parse_scm_reply(type_serialized_data(prop)?)?);
        }
    }
    let interface = props_out.ok_or_else(|| bad("ACTIVATION_BLOB", "no PropsOutInfo"))?;
    let (oxid, bindings, rem_unknown, authn_hint, server_version) =
        scm_reply.ok_or_else(|| bad("ACTIVATION_BLOB", "no ScmReplyInfo"))?;
    Ok(Activation {
        oxid,
        bindings,
        rem_unknown,
        authn_hint,
        server_version,
        interface,
    })
}

type CustomHeader = (Vec<Uuid>, Vec<usize>, usize);

fn parse_custom_header(data: &[u8]) -> Result<CustomHeader, DcomError> {
    let mut r = Reader::new(data);
    let _total = r.u32("CustomHeader.totalSize")?;
    let header_size = r.u32("CustomHeader.headerSize")? as usize;
    let _reserved = r.u32("CustomHeader.dwReserved")?;
    let _dest = r.u32("CustomHeader.destCtx")?;
    let n = r.u32("CustomHeader.cIfs")? as usize;
    let _class_info = r.uuid("CustomHeader.classInfoClsid")?;
    let p_clsid = r.pointer("CustomHeader.pclsid")?;
    let p_sizes = r.pointer("CustomHeader.pSizes")?;
    let p_reserved = r.pointer("CustomHeader.pdwReserved")?;
    if p_clsid == 0 || p_sizes == 0 {
        return Err(bad("CustomHeader", "no property list"));
    }
    let m = r.count(16, "CustomHeader.pclsid count")?;
    if m != n {
        return Err(bad(
            "CustomHeader",
            format!("{m} CLSIDs for {n} properties"),
        ));
    }
    let mut clsids = Vec::with_capacity(n);
    for _ in 0..n {
        clsids.push(r.uuid("CustomHeader.pclsid")?);
    }
    let m = r.count(4, "CustomHeader.pSizes count")?;
    if m != n {
        return Err(bad("CustomHeader", format!("{m} sizes for {n} properties")));
    }
    let mut sizes = Vec::with_capacity(n);
    for _ in 0..n {
        sizes.push(r.u32("CustomHeader.pSizes")? as usize);
    }
    if p_reserved != 0 {
        let _ = r.u32("CustomHeader.pdwReserved")?;
    }
    Ok((clsids, sizes, header_size))
}

fn parse_props_out(data: &[u8]) -> Result<StdObjRef, DcomError> {
    let mut r = Reader::new(data);
    let n = r.u32("PropsOutInfo.cIfs")? as usize;
    let p_iid = r.pointer("PropsOutInfo.piid")?;
    let p_hr = r.pointer("PropsOutInfo.phresults")?;
    let p_intf = r.pointer("PropsOutInfo.ppIntfData")?;
    if n == 0 || p_iid == 0 || p_hr == 0 || p_intf == 0 {
        return Err(bad("PropsOutInfo", "no interface returned"));
    }
    let m = r.count(16, "PropsOutInfo.piid count")?;
    for _ in 0..m {
        r.uuid("PropsOutInfo.piid")?;
    }
    let m = r.count(4, "PropsOutInfo.phresults count")?;
    let mut first_hr = 0;
    for i in 0..m {
        let hr = r.u32("PropsOutInfo.phresults")?;
        if i == 0 {
            first_hr = hr;
        }
    }
    if Status(first_hr).is_failure() {
        return Err(DcomError::Failed {
            call: "RemoteCreateInstance (interface)",
            status: Status(first_hr),
        });
    }
    let m = r.count(4, "PropsOutInfo.ppIntfData count")?;
    let mut present = Vec::with_capacity(m);
    for _ in 0..m {
        present.push(r.pointer("PropsOutInfo.ppIntfData")? != 0);
    }
    if present.first() != Some(&true) {
        return Err(bad("PropsOutInfo", "no interface pointer"));
    }
    let objref = ObjRef::parse(read_interface_pointer(&mut r)?)?;
    objref
        .standard()
        .copied()
        .ok_or_else(|| bad("PropsOutInfo", "the interface is not a standard OBJREF"))
}

type ScmReply = (u64, Vec<StringBinding>, Uuid, u32, (u16, u16));

fn parse_scm_reply(data: &[u8]) -> Result<ScmReply, DcomError> {
    let mut r = Reader::new(data);
    let _reserved = r.pointer("ScmReplyInfoData.pdwReserved")?;
    if r.pointer("ScmReplyInfoData.remoteReply")? == 0 {
        return Err(bad("ScmReplyInfoData", "no remote reply"));
    }
    let oxid = r.u64("REMOTE_REPLY.Oxid")?;
    let p_bindings = r.pointer("REMOTE_REPLY.pdsaOxidBindings")?;
    let rem_unknown = r.uuid("REMOTE_REPLY.ipidRemUnknown")?;
    let authn_hint = r.u32("REMOTE_REPLY.authnHint")?;
    let major = r.u16("REMOTE_REPLY.serverVersion")?;
    let minor = r.u16("REMOTE_REPLY.serverVersion")?;
    if p_bindings == 0 {
        return Err(bad("ScmReplyInfoData", "no OXID bindings"));
    }
    let bindings = read_dual_string_array(&mut r)?;
    Ok((oxid, bindings, rem_unknown, authn_hint, (major, minor)))
}

/// The stub of IActivation::RemoteActivation for `clsid` / `iid` (for hosts without
/// IRemoteSCMActivator).
pub fn remote_activation(cid: &Uuid, clsid: &Uuid, iid: &Uuid) -> Vec<u8> {
    let mut w = Writer::new();
    orpc_this(&mut w, cid);
    w.uuid(clsid);
    w.null(); // pwszObjectName
    w.null(); // pObjectStorage
    w.u32(IMP_LEVEL_IDENTIFY);
    w.u32(0); // Mode
    w.u32(1); // Interfaces
    w.pointer(); // pIIDs
    w.u32(1);
    w.uuid(iid);
    w.u16(1); // cRequestedProtseqs
    w.u32(1); // aRequestedProtseqs (conformant)
    w.u16(TOWER_TCP);
    w.into_bytes()
}

/// Reads the reply of RemoteActivation.
pub fn parse_remote_activation(stub: &[u8]) -> Result<Activation, DcomError> {
    check_hresult("RemoteActivation", stub)?;
    let mut r = Reader::new(stub);
    orpc_that(&mut r)?;
    let oxid = r.u64("pOxid")?;
    let bindings = if r.pointer("ppdsaOxidBindings")? != 0 {
        read_dual_string_array(&mut r)?
    } else {
        Vec::new()
    };
    let rem_unknown = r.uuid("pipidRemUnknown")?;
    let authn_hint = r.u32("pAuthnHint")?;
    let major = r.u16("pServerVersion")?;
    let minor = r.u16("pServerVersion")?;
    let hr = r.u32("phr")?;
    if Status(hr).is_failure() {
        return Err(DcomError::Failed {
            call: "RemoteActivation",
            status: Status(hr),
        });
    }
    let n = r.count(4, "ppInterfaceData count")?;
    let mut present = Vec::with_capacity(n);
    for _ in 0..n {
        present.push(r.pointer("ppInterfaceData")? != 0);
    }
    let mut first = None;
    for p in present {
        if p {
            let data = read_interface_pointer(&mut r)?;
            if first.is_none() {
                first = Some(ObjRef::parse(data)?);
            }
        }
    }
    let n = r.count(4, "pResults count")?;
    for i in 0..n {
        let hr = r.u32("pResults")?;
        if i == 0 && Status(hr).is_failure() {
            return Err(DcomError::Failed {
                call: "RemoteActivation (interface)",
                status: Status(hr),
            });
        }
    }
    let interface = first
        .as_ref()
        .and_then(ObjRef::standard)
        .copied()
        .ok_or_else(|| bad("RemoteActivation reply", "no standard interface pointer"))?;
    Ok(Activation {
        oxid,
        bindings,
        rem_unknown,
        authn_hint,
        server_version: (major, minor),
        interface,
    })
}

/// The stub of IRemUnknown::RemRelease for `(ipid, public references)`.
pub fn rem_release(cid: &Uuid, refs: &[(Uuid, u32)]) -> Vec<u8> {
    let mut w = Writer::new();
    orpc_this(&mut w, cid);
    w.u16(refs.len() as u16);
    w.u32(refs.len() as u32);
    for (ipid, public) in refs {
        w.uuid(ipid);
        w.u32(*public);
        w.u32(0); // cPrivateRefs
    }
    w.into_bytes()
}

/// Reads the reply of RemRelease.
pub fn parse_rem_release(stub: &[u8]) -> Result<(), DcomError> {
    check_hresult("RemRelease", stub)?;
    let mut r = Reader::new(stub);
    orpc_that(&mut r)
}

/// Decodes a NUL-terminated UTF-16LE name (for logs).
pub fn wide_name(raw: &[u8]) -> String {
    utf16_lossy_until_nul(raw)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) const CLSID_LOGIN: Uuid = Uuid::from_u128(0x8BC3F05E_D86B_11D0_A075_00C04FB68820);
    pub(crate) const IID_LOGIN: Uuid = Uuid::from_u128(0xF309AD18_D86A_11D0_A075_00C04FB68820);

    /// A standard OBJREF, as a server marshals an interface.
    pub(crate) fn std_objref(iid: &Uuid, ipid: &Uuid) -> Vec<u8> {
        let mut o = OBJREF_SIGNATURE.to_le_bytes().to_vec();
        o.extend_from_slice(&1u32.to_le_bytes());
        o.extend_from_slice(&iid.0);
        o.extend_from_slice(&0x1000u32.to_le_bytes());
        o.extend_from_slice(&5u32.to_le_bytes());
        o.extend_from_slice(&[0x11; 8]);
        o.extend_from_slice(&[0x22; 8]);
        o.extend_from_slice(&ipid.0);
        o.extend_from_slice(&[0, 0, 0, 0]);
        o
    }

    fn dsa_entries(names: &[&str]) -> (Vec<u16>, u16) {
        let mut e = Vec::new();
        for n in names {
            e.push(TOWER_TCP);
            e.extend(n.encode_utf16());
            e.push(0);
        }
        e.push(0);
        let sec = e.len() as u16;
        e.extend_from_slice(&[10, 0xffff, 0, 0]);
        (e, sec)
    }

    /// An activation reply shaped like the testbed responder's (and Windows').
    pub(crate) fn activation_reply(names: &[&str], ipid: &Uuid) -> Vec<u8> {
        let mut w = Writer::new();
        w.u32(1);
        w.pointer();
        w.pointer();
        w.pointer();
        w.u32(1);
        w.uuid(&IID_LOGIN);
        w.u32(1);
        w.u32(0);
        w.u32(1);
        w.pointer();
        let objref = std_objref(&IID_LOGIN, ipid);
        w.u32(objref.len() as u32);
        w.u32(objref.len() as u32);
        w.bytes(&objref);
        let props = type_serialized(&w.into_bytes());
        let mut w = Writer::new();
        w.null();
        w.pointer();
        w.u64(0x1111_1111_1111_1111);
        w.pointer();
        w.uuid(&Uuid::from_u128(0xA1));
        w.u32(5);
        w.u16(5);
        w.u16(7);
        let (entries, sec) = dsa_entries(names);
        w.u32(entries.len() as u32);
        w.u16(entries.len() as u16);
        w.u16(sec);
        for e in &entries {
            w.u16(*e);
        }
        let scm = type_serialized(&w.into_bytes());
        let mut w = Writer::new();
        w.u32(0);
        w.u32(0);
        w.u32(0);
        w.u32(2);
        w.u32(2);
        w.uuid(&Uuid::default());
        w.pointer();
        w.pointer();
        w.null();
        w.u32(2);
        w.uuid(&CLSID_PROPS_OUT_INFO);
        w.uuid(&CLSID_SCM_REPLY_INFO);
        w.u32(2);
        w.u32(props.len() as u32);
        w.u32(scm.len() as u32);
        let header = type_serialized(&w.into_bytes());
        let mut blob = vec![0u8; 8];
        blob.extend_from_slice(&header);
        blob.extend_from_slice(&props);
        blob.extend_from_slice(&scm);
        // fix headerSize
        let hs = header.len() as u32;
        blob[8 + 16 + 4..8 + 16 + 8].copy_from_slice(&hs.to_le_bytes());
        let objref = ObjRef::custom_bytes(
            &Uuid::from_u128(0x000001A3_0000_0000_C000_000000000046),
            &CLSID_PROPS_OUT_INFO,
            &blob,
        );
        let mut w = Writer::new();
        w.u32(0);
        w.null();
        write_interface_pointer(&mut w, &objref);
        w.u32(0);
        w.into_bytes()
    }

    #[test]
    fn the_activation_reply_names_the_interface_and_the_exporter() {
        let ipid = Uuid::from_u128(0xA2A2);
        let stub = activation_reply(&["ENG-WS-01[49667]", "127.0.0.70[49667]"], &ipid);
        let a = parse_remote_create_instance(&stub).unwrap();
        assert_eq!(a.interface.ipid, ipid);
        assert_eq!(a.interface.public_refs, 5);
        assert_eq!(a.rem_unknown, Uuid::from_u128(0xA1));
        assert_eq!(a.authn_hint, 5);
        assert_eq!(a.bindings.len(), 2);
        assert_eq!(a.bindings[0].address, "ENG-WS-01[49667]");
        let target: IpAddr = "127.0.0.70".parse().unwrap();
        assert_eq!(
            pick_binding(&a.bindings, target).unwrap(),
            "127.0.0.70:49667".parse().unwrap()
        );
    }

    #[test]
    fn a_binding_by_name_only_is_reached_on_the_scanned_address() {
        let b = parse_string_bindings(&dsa_entries(&["HMI-7[50001]"]).0, 14).unwrap();
        let target: IpAddr = "127.0.0.9".parse().unwrap();
        assert_eq!(
            pick_binding(&b, target).unwrap(),
            "127.0.0.9:50001".parse().unwrap()
        );
        let b = parse_string_bindings(&dsa_entries(&["HMI-7"]).0, 7).unwrap();
        assert!(pick_binding(&b, target).is_err());
    }

    #[test]
    fn a_remote_activation_reply_names_the_interface_and_the_exporter() {
        let ipid = Uuid::from_u128(0xB2);
        let mut w = Writer::new();
        w.u32(0); // ORPCTHAT.flags
        w.null(); // extensions
        w.u64(0x3333); // pOxid
        w.pointer(); // ppdsaOxidBindings
        let (entries, sec) = dsa_entries(&["OLD-HMI[1042]", "127.0.0.9[1042]"]);
        w.u32(entries.len() as u32);
        w.u16(entries.len() as u16);
        w.u16(sec);
        for e in &entries {
            w.u16(*e);
        }
        w.uuid(&Uuid::from_u128(0xB1)); // pipidRemUnknown
        w.u32(6); // pAuthnHint
        w.u16(5);
        w.u16(6); // pServerVersion
        w.u32(0); // phr
        w.u32(1); // ppInterfaceData
        w.pointer();
        let objref = std_objref(&IID_LOGIN, &ipid);
        w.u32(objref.len() as u32);
        w.u32(objref.len() as u32);
        w.bytes(&objref);
        w.u32(1); // pResults
        w.u32(0);
        w.u32(0); // return value
        let a = parse_remote_activation(&w.into_bytes()).unwrap();
        assert_eq!(a.oxid, 0x3333);
        assert_eq!(a.interface.ipid, ipid);
        assert_eq!(a.rem_unknown, Uuid::from_u128(0xB1));
        assert_eq!((a.authn_hint, a.server_version), (6, (5, 6)));
        let target: IpAddr = "127.0.0.9".parse().unwrap();
        assert_eq!(
            pick_binding(&a.bindings, target).unwrap(),
            "127.0.0.9:1042".parse().unwrap()
        );
    }

    #[test]
    fn a_failed_activation_names_its_hresult() {
        let mut w = Writer::new();
        w.u32(0);
        w.null();
        w.null();
        w.u32(0x8007_0005);
        let e = parse_remote_create_instance(&w.into_bytes()).unwrap_err();
        assert!(e.to_string().contains("E_ACCESSDENIED"), "{e}");
    }

    #[test]
    fn the_activation_request_has_four_properties_of_the_sizes_it_announces() {
        let blob = activation_properties_in(&CLSID_LOGIN, &IID_LOGIN);
        let total = u32::from_le_bytes(blob[..4].try_into().unwrap()) as usize;
        assert_eq!(total + 8, blob.len());
        let (clsids, sizes, header_size) =
            parse_custom_header(type_serialized_data(&blob[8..]).unwrap()).unwrap();
        assert_eq!(
            clsids,
            vec![
                CLSID_INSTANTIATION_INFO,
                CLSID_ACTIVATION_CONTEXT_INFO,
                CLSID_SERVER_LOCATION_INFO,
                CLSID_SCM_REQUEST_INFO
            ]
        );
        assert_eq!(header_size + sizes.iter().sum::<usize>(), total);
        assert!(sizes.iter().all(|s| s % 8 == 0));
        // InstantiationInfoData carries the class, the interface and its own size
        let inst = &blob[8 + header_size..8 + header_size + sizes[0]];
        assert_eq!(&inst[16..32], &CLSID_LOGIN.0);
        assert_eq!(&inst[68..84], &IID_LOGIN.0);
        assert_eq!(
            u32::from_le_bytes(inst[56..60].try_into().unwrap()) as usize,
            sizes[0]
        );
    }

    #[test]
    fn rem_release_lists_each_reference() {
        let stub = rem_release(
            &Uuid::default(),
            &[(Uuid::from_u128(1), 5), (Uuid::from_u128(2), 5)],
        );
        assert_eq!(stub.len(), 32 + 2 + 2 + 4 + 2 * 24);
        let mut w = Writer::new();
        w.u32(0);
        w.null();
        w.u32(0);
        parse_rem_release(&w.into_bytes()).unwrap();
    }

    #[test]
    fn orpcthat_extensions_are_skipped() {
        let mut w = Writer::new();
        w.u32(0); // flags
        w.pointer(); // extensions
        w.u32(1);
        w.u32(0);
        w.pointer(); // extent
        w.u32(2);
        w.u32(0);
        w.u32(1);
        w.pointer();
        w.u32(8); // conformance
        w.uuid(&Uuid::from_u128(9));
        w.u32(8);
        w.bytes(&[1; 8]);
        w.u32(0xdead_beef);
        let bytes = w.into_bytes();
        let mut r = Reader::new(&bytes);
        orpc_that(&mut r).unwrap();
        assert_eq!(r.u32("x").unwrap(), 0xdead_beef);
    }

    proptest! {
        #[test]
        fn activation_decoders_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_remote_create_instance(&data);
            let _ = parse_remote_activation(&data);
            let _ = parse_activation_properties_out(&data);
            let _ = ObjRef::parse(&data);
            let _ = parse_rem_release(&data);
        }

        #[test]
        fn mutated_activation_replies_never_panic(at in 0usize..700, byte in any::<u8>()) {
            let mut stub = activation_reply(&["A[1]", "127.0.0.1[2]"], &Uuid::from_u128(3));
            let i = at % stub.len();
            stub[i] = byte;
            let _ = parse_remote_create_instance(&stub);
        }

        #[test]
        fn string_binding_parsing_never_panics(entries in proptest::collection::vec(any::<u16>(), 0..40), off in 0usize..50) {
            if let Ok(b) = parse_string_bindings(&entries, off) {
                let _ = pick_binding(&b, "127.0.0.1".parse().unwrap());
            }
        }
    }
}

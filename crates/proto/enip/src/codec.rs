//! The EtherNet/IP and CIP wire codec: the encapsulation header, the four commands we send, the
//! Common Packet Format, List Identity, and the two CIP reads (Identity Get_Attributes_All, Port
//! Get_Attribute_Single), sent directly or inside an Unconnected Send with a route path.
//!
//! Pure functions over bytes; every length from the wire is checked before use, and no input makes
//! them panic. Field names follow The CIP Networks Library, Volume 1 (CIP) and Volume 2
//! (EtherNet/IP adaptation); all integers are little-endian except the socket address item's.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddrV4};

/// Length of the encapsulation header.
pub const HEADER_LEN: usize = 24;
/// Largest encapsulation data length accepted in a reply (List Identity and identity reads are a
/// few hundred bytes; anything above is not an answer to our requests).
pub const MAX_REPLY_DATA: usize = 4096;
/// The encapsulation protocol version of RegisterSession.
pub const PROTOCOL_VERSION: u16 = 1;

/// Encapsulation commands.
pub mod command {
    /// List Identity: who is the device (TCP or UDP, no session).
    pub const LIST_IDENTITY: u16 = 0x0063;
    /// RegisterSession: opens a session for SendRRData.
    pub const REGISTER_SESSION: u16 = 0x0065;
    /// UnRegisterSession: closes the session (no reply; the device closes the connection).
    pub const UNREGISTER_SESSION: u16 = 0x0066;
    /// SendRRData: one unconnected CIP request and its reply.
    pub const SEND_RR_DATA: u16 = 0x006F;
}

/// Every encapsulation command this crate can emit (the read-only allow-list).
pub const ALLOWED_COMMANDS: [u16; 4] = [
    command::LIST_IDENTITY,
    command::REGISTER_SESSION,
    command::UNREGISTER_SESSION,
    command::SEND_RR_DATA,
];

/// CIP services.
pub mod service {
    /// Get_Attributes_All.
    pub const GET_ATTRIBUTES_ALL: u8 = 0x01;
    /// Get_Attribute_Single.
    pub const GET_ATTRIBUTE_SINGLE: u8 = 0x0E;
    /// Unconnected_Send of the Connection Manager.
    pub const UNCONNECTED_SEND: u8 = 0x52;
    /// The bit a reply sets in the service code.
    pub const REPLY: u8 = 0x80;
}

/// Every CIP service this crate can emit (the read-only allow-list).
pub const ALLOWED_SERVICES: [u8; 3] = [
    service::GET_ATTRIBUTES_ALL,
    service::GET_ATTRIBUTE_SINGLE,
    service::UNCONNECTED_SEND,
];

/// CIP classes addressed.
pub mod class {
    /// Identity object.
    pub const IDENTITY: u8 = 0x01;
    /// Connection Manager object.
    pub const CONNECTION_MANAGER: u8 = 0x06;
    /// Port object.
    pub const PORT: u8 = 0xF4;
}

/// Common Packet Format item types.
pub mod item {
    /// Null address item (unconnected messages).
    pub const NULL_ADDRESS: u16 = 0x0000;
    /// CIP Identity item of a List Identity reply.
    pub const CIP_IDENTITY: u16 = 0x000C;
    /// Unconnected data item (UCMM).
    pub const UNCONNECTED_DATA: u16 = 0x00B2;
}

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// A field ended before its announced length.
    #[error("truncated: {what} needs {need} bytes, {have} present")]
    Truncated {
        /// The field being read.
        what: &'static str,
        /// Bytes needed.
        need: usize,
        /// Bytes present.
        have: usize,
    },
    /// The encapsulation length is above what any answer to our requests needs.
    #[error(
        "encapsulation length {0} is above {MAX_REPLY_DATA}, the most a reply to these requests needs"
    )]
    TooLong(usize),
    /// The reply's command is not the request's.
    #[error("reply command {got:#06x} does not answer command {sent:#06x}")]
    WrongCommand {
        /// The request's command.
        sent: u16,
        /// What came back.
        got: u16,
    },
    /// A reply without the item it must carry.
    #[error("no {0} item in the reply")]
    MissingItem(&'static str),
    /// A CIP reply whose service code does not answer the request.
    #[error("CIP reply service {got:#04x} does not answer service {sent:#04x}")]
    WrongService {
        /// The request's service.
        sent: u8,
        /// What came back.
        got: u8,
    },
    /// A request frame that is not one of the requests this crate may send.
    #[error("not an allowed request: {0}")]
    NotAllowed(&'static str),
}

/// The encapsulation header of every EtherNet/IP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Encapsulation command.
    pub command: u16,
    /// Length of the data that follows the header.
    pub length: u16,
    /// Session handle (0 outside a session).
    pub session: u32,
    /// Encapsulation status (0: success).
    pub status: u32,
    /// Sender context, echoed by the target.
    pub context: [u8; 8],
    /// Options (0).
    pub options: u32,
}

impl Header {
    /// Parses a header; refuses data lengths above [`MAX_REPLY_DATA`].
    pub fn parse(bytes: &[u8; HEADER_LEN]) -> Result<Header, CodecError> {
        let mut r = Reader::new(bytes, "encapsulation header");
        let header = Header {
            command: r.u16()?,
            length: r.u16()?,
            session: r.u32()?,
            status: r.u32()?,
            context: r.array()?,
            options: r.u32()?,
        };
        if usize::from(header.length) > MAX_REPLY_DATA {
            return Err(CodecError::TooLong(header.length.into()));
        }
        Ok(header)
    }

    /// Writes the header.
    pub fn emit(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..2].copy_from_slice(&self.command.to_le_bytes());
        out[2..4].copy_from_slice(&self.length.to_le_bytes());
        out[4..8].copy_from_slice(&self.session.to_le_bytes());
        out[8..12].copy_from_slice(&self.status.to_le_bytes());
        out[12..20].copy_from_slice(&self.context);
        out[20..24].copy_from_slice(&self.options.to_le_bytes());
        out
    }
}

/// An encapsulation status (the header's status field), named after Volume 2, table 2-3.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncapStatus(pub u32);

impl EncapStatus {
    /// The specification's name of the status.
    pub fn name(self) -> &'static str {
        match self.0 {
            0x0000 => "success",
            0x0001 => "invalid or unsupported command",
            0x0002 => "insufficient memory",
            0x0003 => "poorly formed or incorrect data",
            0x0064 => "invalid session handle",
            0x0065 => "invalid length",
            0x0069 => "unsupported encapsulation protocol revision",
            _ => "unknown encapsulation status",
        }
    }
}

impl fmt::Display for EncapStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#06x} ({})", self.0, self.name())
    }
}

/// One hop of a route path: out of `port`, to `link` (a slot on a backplane, a node on a network).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hop {
    /// Port number (1: the backplane).
    pub port: u16,
    /// Link address: slot or node number.
    pub link: u8,
}

impl fmt::Display for Hop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.port, self.link)
    }
}

/// A route path of port segments; empty: the device itself, without an Unconnected Send.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Route(pub Vec<Hop>);

impl Route {
    /// The device itself.
    pub fn local() -> Route {
        Route(Vec::new())
    }

    /// Backplane (port 1) slot `slot`.
    pub fn slot(slot: u8) -> Route {
        Route(vec![Hop {
            port: 1,
            link: slot,
        }])
    }

    /// This route, one hop further.
    pub fn then(&self, port: u16, link: u8) -> Route {
        let mut hops = self.0.clone();
        hops.push(Hop { port, link });
        Route(hops)
    }

    /// Port segments, padded to whole words (Volume 1, C-1.4.3).
    fn emit(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for hop in &self.0 {
            if hop.port < 0x0F {
                // the port fits the segment's 4-bit port identifier
                out.push(hop.port as u8);
                out.push(hop.link);
            } else {
                // port identifier 15: a 16-bit port number follows, then the link; pad to a word
                out.push(0x0F);
                out.extend_from_slice(&hop.port.to_le_bytes());
                out.push(hop.link);
            }
        }
        if out.len() % 2 == 1 {
            out.push(0);
        }
        out
    }

    /// Parses port segments as [`Route::emit`] writes them.
    fn parse(bytes: &[u8]) -> Result<Route, CodecError> {
        let mut hops = Vec::new();
        let mut r = Reader::new(bytes, "route path");
        while r.remaining() > 0 {
            let segment = r.u8()?;
            if segment == 0 && r.remaining() == 0 {
                break; // the pad byte
            }
            if segment & 0xF0 != 0 {
                return Err(CodecError::NotAllowed(
                    "route path holds a segment other than a plain port segment",
                ));
            }
            let port = match segment & 0x0F {
                0 => return Err(CodecError::NotAllowed("port segment with port 0")),
                0x0F => r.u16()?,
                p => u16::from(p),
            };
            hops.push(Hop {
                port,
                link: r.u8()?,
            });
        }
        Ok(Route(hops))
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("the device itself");
        }
        let hops: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        write!(f, "route {}", hops.join(","))
    }
}

/// How long a router may wait for the target of an Unconnected Send: 2^tick * ticks milliseconds
/// (Volume 1, 3-5.6.1.2.1: priority/time_tick and time-out_ticks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RouteTimeout {
    /// Time tick exponent (low 4 bits of the priority/time_tick byte).
    pub tick: u8,
    /// Number of ticks.
    pub ticks: u8,
}

impl RouteTimeout {
    /// The shortest encodable timeout of at least `ms` milliseconds (at most 255 * 2^15 ms).
    pub fn from_millis(ms: u32) -> RouteTimeout {
        let ms = ms.clamp(1, 255 << 15);
        for tick in 0u8..=15 {
            let ticks = ms.div_ceil(1 << tick);
            if ticks <= 255 {
                return RouteTimeout {
                    tick,
                    ticks: ticks as u8,
                };
            }
        }
        RouteTimeout {
            tick: 15,
            ticks: 255,
        }
    }

    /// The timeout in milliseconds.
    pub fn millis(self) -> u32 {
        (1u32 << (self.tick & 0x0F)) * u32::from(self.ticks)
    }
}

/// The attribute of a Port object instance read by the probe (Volume 1, 3-17.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PortAttribute {
    /// Attribute 1: Port Type (1 backplane, 2 ControlNet, 4 EtherNet/IP, 5 DeviceNet, ...).
    Type = 1,
    /// Attribute 2: Port Number.
    Number = 2,
}

/// The CIP read carried to the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CipRead {
    /// Get_Attributes_All of the Identity object, instance 1.
    IdentityAll,
    /// Get_Attribute_Single of a Port object instance.
    Port {
        /// The instance (one per port).
        instance: u8,
        /// The attribute.
        attribute: PortAttribute,
    },
}

impl CipRead {
    /// The service code.
    pub fn service(self) -> u8 {
        match self {
            CipRead::IdentityAll => service::GET_ATTRIBUTES_ALL,
            CipRead::Port { .. } => service::GET_ATTRIBUTE_SINGLE,
        }
    }

    /// The Message Router request: service, path size in words, logical path.
    fn emit(self) -> Vec<u8> {
        match self {
            CipRead::IdentityAll => vec![
                service::GET_ATTRIBUTES_ALL,
                2,
                0x20,
                class::IDENTITY,
                0x24,
                1,
            ],
            CipRead::Port {
                instance,
                attribute,
            } => vec![
                service::GET_ATTRIBUTE_SINGLE,
                3,
                0x20,
                class::PORT,
                0x24,
                instance,
                0x30,
                attribute as u8,
            ],
        }
    }

    fn parse(bytes: &[u8]) -> Result<CipRead, CodecError> {
        match bytes {
            [
                service::GET_ATTRIBUTES_ALL,
                2,
                0x20,
                class::IDENTITY,
                0x24,
                1,
            ] => Ok(CipRead::IdentityAll),
            [
                service::GET_ATTRIBUTE_SINGLE,
                3,
                0x20,
                class::PORT,
                0x24,
                instance,
                0x30,
                attribute,
            ] => {
                let attribute = match attribute {
                    1 => PortAttribute::Type,
                    2 => PortAttribute::Number,
                    _ => return Err(CodecError::NotAllowed("Port attribute other than 1 or 2")),
                };
                Ok(CipRead::Port {
                    instance: *instance,
                    attribute,
                })
            }
            _ => Err(CodecError::NotAllowed(
                "CIP request other than Identity Get_Attributes_All or Port Get_Attribute_Single",
            )),
        }
    }
}

impl fmt::Display for CipRead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CipRead::IdentityAll => f.write_str("Get_Attributes_All of Identity (class 0x01)"),
            CipRead::Port {
                instance,
                attribute,
            } => write!(
                f,
                "Get_Attribute_Single of Port (class 0xf4) instance {instance} attribute {}",
                *attribute as u8
            ),
        }
    }
}

/// A CIP read to a target along a route.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CipRequest {
    /// Where the read goes; empty: the device itself.
    pub route: Route,
    /// What is read.
    pub read: CipRead,
    /// How long the routers may wait for the target (ignored for the device itself).
    pub route_timeout: RouteTimeout,
}

impl CipRequest {
    /// The Message Router request: the read itself, or the read inside an Unconnected Send.
    pub fn message(&self) -> Vec<u8> {
        let inner = self.read.emit();
        if self.route.0.is_empty() {
            return inner;
        }
        let route = self.route.emit();
        let mut out = vec![
            service::UNCONNECTED_SEND,
            2,
            0x20,
            class::CONNECTION_MANAGER,
            0x24,
            1,
            self.route_timeout.tick & 0x0F,
            self.route_timeout.ticks,
        ];
        out.extend_from_slice(&(inner.len() as u16).to_le_bytes());
        out.extend_from_slice(&inner);
        if inner.len() % 2 == 1 {
            out.push(0);
        }
        out.push((route.len() / 2) as u8);
        out.push(0);
        out.extend_from_slice(&route);
        out
    }

    fn parse(message: &[u8]) -> Result<CipRequest, CodecError> {
        if message.first() != Some(&service::UNCONNECTED_SEND) {
            return Ok(CipRequest {
                route: Route::local(),
                read: CipRead::parse(message)?,
                route_timeout: RouteTimeout { tick: 0, ticks: 0 },
            });
        }
        let mut r = Reader::new(message, "Unconnected Send");
        let head = r.take(6)?;
        if head
            != [
                service::UNCONNECTED_SEND,
                2,
                0x20,
                class::CONNECTION_MANAGER,
                0x24,
                1,
            ]
        {
            return Err(CodecError::NotAllowed(
                "Unconnected Send not addressed to the Connection Manager",
            ));
        }
        let priority = r.u8()?;
        if priority & 0xF0 != 0 {
            return Err(CodecError::NotAllowed(
                "Unconnected Send with priority bits set",
            ));
        }
        let route_timeout = RouteTimeout {
            tick: priority,
            ticks: r.u8()?,
        };
        let size = usize::from(r.u16()?);
        let read = CipRead::parse(r.take(size)?)?;
        if size % 2 == 1 {
            r.u8()?;
        }
        let words = usize::from(r.u8()?);
        r.u8()?;
        let route = Route::parse(r.take(words * 2)?)?;
        if r.remaining() != 0 || route.0.is_empty() {
            return Err(CodecError::NotAllowed(
                "Unconnected Send with trailing bytes or no route",
            ));
        }
        Ok(CipRequest {
            route,
            read,
            route_timeout,
        })
    }
}

impl fmt::Display for CipRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.route.0.is_empty() {
            write!(f, "{}", self.read)
        } else {
            write!(f, "{} via Unconnected Send, {}", self.read, self.route)
        }
    }
}

/// A request this crate can send. There is no other (see the crate docs).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Request {
    /// List Identity (0x63).
    ListIdentity,
    /// RegisterSession (0x65), protocol version 1, no options.
    RegisterSession,
    /// UnRegisterSession (0x66).
    UnRegisterSession,
    /// SendRRData (0x6F) with one CIP read in the UCMM item.
    Cip(CipRequest),
}

impl Request {
    /// The encapsulation command.
    pub fn command(&self) -> u16 {
        match self {
            Request::ListIdentity => command::LIST_IDENTITY,
            Request::RegisterSession => command::REGISTER_SESSION,
            Request::UnRegisterSession => command::UNREGISTER_SESSION,
            Request::Cip(_) => command::SEND_RR_DATA,
        }
    }

    /// The encapsulation data.
    pub fn data(&self) -> Vec<u8> {
        match self {
            Request::ListIdentity | Request::UnRegisterSession => Vec::new(),
            Request::RegisterSession => {
                let mut d = PROTOCOL_VERSION.to_le_bytes().to_vec();
                d.extend_from_slice(&0u16.to_le_bytes());
                d
            }
            Request::Cip(cip) => {
                let message = cip.message();
                let mut d = Vec::with_capacity(16 + message.len());
                d.extend_from_slice(&0u32.to_le_bytes()); // interface handle: CIP
                d.extend_from_slice(&0u16.to_le_bytes()); // timeout: ignored for SendRRData
                d.extend_from_slice(&2u16.to_le_bytes()); // item count
                d.extend_from_slice(&item::NULL_ADDRESS.to_le_bytes());
                d.extend_from_slice(&0u16.to_le_bytes());
                d.extend_from_slice(&item::UNCONNECTED_DATA.to_le_bytes());
                d.extend_from_slice(&(message.len() as u16).to_le_bytes());
                d.extend_from_slice(&message);
                d
            }
        }
    }

    /// The whole frame: header and data.
    pub fn frame(&self, session: u32, context: [u8; 8]) -> Vec<u8> {
        let data = self.data();
        let header = Header {
            command: self.command(),
            length: data.len() as u16,
            session,
            status: 0,
            context,
            options: 0,
        };
        let mut out = header.emit().to_vec();
        out.extend_from_slice(&data);
        out
    }

    /// A short name for errors and logs.
    pub fn name(&self) -> String {
        match self {
            Request::ListIdentity => "List Identity".into(),
            Request::RegisterSession => "RegisterSession".into(),
            Request::UnRegisterSession => "UnRegisterSession".into(),
            Request::Cip(cip) => cip.to_string(),
        }
    }
}

/// Decodes one request frame, accepting only what [`Request::frame`] can write: the check that
/// holds a client (or a recording of its traffic) to the read-only list.
pub fn parse_request(frame: &[u8]) -> Result<(Header, Request), CodecError> {
    let head: &[u8; HEADER_LEN] = frame
        .get(..HEADER_LEN)
        .and_then(|h| h.try_into().ok())
        .ok_or(CodecError::Truncated {
            what: "encapsulation header",
            need: HEADER_LEN,
            have: frame.len(),
        })?;
    let header = Header::parse(head)?;
    let data = frame.get(HEADER_LEN..).unwrap_or_default();
    if data.len() != usize::from(header.length) {
        return Err(CodecError::NotAllowed(
            "frame length differs from its header",
        ));
    }
    let request = match header.command {
        command::LIST_IDENTITY if data.is_empty() => Request::ListIdentity,
        command::UNREGISTER_SESSION if data.is_empty() => Request::UnRegisterSession,
        command::REGISTER_SESSION if data == [1, 0, 0, 0] => Request::RegisterSession,
        command::SEND_RR_DATA => {
            let mut r = Reader::new(data, "SendRRData");
            if r.take(6)? != [0; 6] {
                return Err(CodecError::NotAllowed(
                    "SendRRData other than CIP with two items",
                ));
            }
            let items = parse_items(r.rest(), 2)?;
            match items.as_slice() {
                [(item::NULL_ADDRESS, []), (item::UNCONNECTED_DATA, message)] => {
                    Request::Cip(CipRequest::parse(message)?)
                }
                _ => {
                    return Err(CodecError::NotAllowed(
                        "SendRRData items other than null address and unconnected data",
                    ));
                }
            }
        }
        _ => {
            return Err(CodecError::NotAllowed(
                "encapsulation command not on the list",
            ));
        }
    };
    Ok((header, request))
}

/// Common Packet Format items: (type, data); at most `max` of them.
fn parse_items(bytes: &[u8], max: usize) -> Result<Vec<(u16, &[u8])>, CodecError> {
    let mut r = Reader::new(bytes, "item count");
    let count = usize::from(r.u16()?);
    if count > max {
        return Err(CodecError::NotAllowed(
            "more Common Packet Format items than expected",
        ));
    }
    let mut items = Vec::with_capacity(count);
    for _ in 0..count {
        r.what = "item header";
        let kind = r.u16()?;
        let len = usize::from(r.u16()?);
        r.what = "item data";
        items.push((kind, r.take(len)?));
    }
    Ok(items)
}

/// A product revision: major.minor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Revision {
    /// Major revision.
    pub major: u8,
    /// Minor revision.
    pub minor: u8,
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Attributes 1 to 7 of the Identity object (and 8 where present), as List Identity and
/// Get_Attributes_All carry them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identity {
    /// Attribute 1: Vendor ID.
    pub vendor_id: u16,
    /// Attribute 2: Device Type.
    pub device_type: u16,
    /// Attribute 3: Product Code.
    pub product_code: u16,
    /// Attribute 4: Revision.
    pub revision: Revision,
    /// Attribute 5: Status (a bit field, Volume 1 table 5-2.4).
    pub status: u16,
    /// Attribute 6: Serial Number.
    pub serial: u32,
    /// Attribute 7: Product Name (SHORT_STRING, ISO 8859-1).
    pub product_name: String,
    /// Attribute 8: State, where the reply carries it.
    pub state: Option<u8>,
}

impl Identity {
    /// The serial number as the usual tools print it: `0x` and eight hex digits.
    pub fn serial_hex(&self) -> String {
        format!("{:#010x}", self.serial)
    }

    /// Parses attributes 1-7, then the state byte if one follows.
    fn parse(r: &mut Reader<'_>) -> Result<Identity, CodecError> {
        r.what = "Identity attributes";
        let vendor_id = r.u16()?;
        let device_type = r.u16()?;
        let product_code = r.u16()?;
        let revision = Revision {
            major: r.u8()?,
            minor: r.u8()?,
        };
        let status = r.u16()?;
        let serial = r.u32()?;
        r.what = "product name";
        let len = usize::from(r.u8()?);
        let product_name = latin1(r.take(len)?);
        let state = if r.remaining() > 0 {
            Some(r.u8()?)
        } else {
            None
        };
        Ok(Identity {
            vendor_id,
            device_type,
            product_code,
            revision,
            status,
            serial,
            product_name,
            state,
        })
    }
}

/// ISO 8859-1 text, trailing NULs and spaces removed.
fn latin1(bytes: &[u8]) -> String {
    let text: String = bytes.iter().map(|&b| char::from(b)).collect();
    text.trim_end_matches(['\0', ' ']).to_string()
}

/// The CIP Identity item of a List Identity reply.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ListIdentity {
    /// Encapsulation protocol version the device speaks.
    pub protocol_version: u16,
    /// The socket address the device gives for itself (sin_family, sin_port, sin_addr).
    pub socket: SocketAddrV4,
    /// The identity; `state` is always present here.
    pub identity: Identity,
}

/// Parses the data of a List Identity reply (the items after the header).
pub fn parse_list_identity(data: &[u8]) -> Result<ListIdentity, CodecError> {
    let items = parse_items(data, 16)?;
    let (_, body) = items
        .into_iter()
        .find(|(kind, _)| *kind == item::CIP_IDENTITY)
        .ok_or(CodecError::MissingItem("CIP Identity (0x0c)"))?;
    let mut r = Reader::new(body, "CIP Identity item");
    let protocol_version = r.u16()?;
    r.what = "socket address";
    let _family = r.take(2)?;
    let port = u16::from_be_bytes(r.array()?);
    let ip = Ipv4Addr::from(u32::from_be_bytes(r.array()?));
    r.take(8)?;
    let identity = Identity::parse(&mut r)?;
    if identity.state.is_none() {
        return Err(CodecError::Truncated {
            what: "state",
            need: 1,
            have: 0,
        });
    }
    Ok(ListIdentity {
        protocol_version,
        socket: SocketAddrV4::new(ip, port),
        identity,
    })
}

/// The unconnected data item (the CIP reply) of a SendRRData reply.
pub fn parse_send_rr_data(data: &[u8]) -> Result<&[u8], CodecError> {
    let mut r = Reader::new(data, "SendRRData interface handle and timeout");
    r.take(6)?;
    let items = parse_items(r.rest(), 4)?;
    items
        .into_iter()
        .find(|(kind, _)| *kind == item::UNCONNECTED_DATA)
        .map(|(_, body)| body)
        .ok_or(CodecError::MissingItem("unconnected data (0xb2)"))
}

/// A CIP general status with its extended status words (Volume 1, appendix B).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CipStatus {
    /// General status.
    pub general: u8,
    /// Additional (extended) status words.
    pub extended: Vec<u16>,
}

impl CipStatus {
    /// The specification's name of the general status.
    pub fn name(&self) -> &'static str {
        general_status_name(self.general)
    }
}

impl fmt::Display for CipStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#04x} ({})", self.general, self.name())?;
        for ext in &self.extended {
            write!(f, ", extended {ext:#06x}")?;
            if self.general == 0x01
                && let Some(name) = connection_manager_extended_name(*ext)
            {
                write!(f, " ({name})")?;
            }
        }
        Ok(())
    }
}

/// The name of a CIP general status code.
pub fn general_status_name(code: u8) -> &'static str {
    match code {
        0x00 => "success",
        0x01 => "connection failure",
        0x02 => "resource unavailable",
        0x03 => "invalid parameter value",
        0x04 => "path segment error",
        0x05 => "path destination unknown",
        0x06 => "partial transfer",
        0x07 => "connection lost",
        0x08 => "service not supported",
        0x09 => "invalid attribute value",
        0x0A => "attribute list error",
        0x0B => "already in requested mode/state",
        0x0C => "object state conflict",
        0x0D => "object already exists",
        0x0E => "attribute not settable",
        0x0F => "privilege violation",
        0x10 => "device state conflict",
        0x11 => "reply data too large",
        0x12 => "fragmentation of a primitive value",
        0x13 => "not enough data",
        0x14 => "attribute not supported",
        0x15 => "too much data",
        0x16 => "object does not exist",
        0x17 => "service fragmentation sequence not in progress",
        0x18 => "no stored attribute data",
        0x19 => "store operation failure",
        0x1A => "routing failure, request packet too large",
        0x1B => "routing failure, response packet too large",
        0x1C => "missing attribute list entry data",
        0x1D => "invalid attribute value list",
        0x1E => "embedded service error",
        0x1F => "vendor specific error",
        0x20 => "invalid parameter",
        0x21 => "write-once value or medium already written",
        0x22 => "invalid reply received",
        0x25 => "key failure in path",
        0x26 => "path size invalid",
        0x27 => "unexpected attribute in list",
        0x28 => "invalid member ID",
        0x29 => "member not settable",
        _ => "unknown general status",
    }
}

/// The name of a Connection Manager extended status that routing can return.
pub fn connection_manager_extended_name(code: u16) -> Option<&'static str> {
    Some(match code {
        0x0204 => "unconnected request timed out",
        0x0205 => "parameter error in unconnected request service",
        0x0206 => "message too large for unconnected send",
        0x0207 => "unconnected acknowledge without reply",
        0x0301 => "no buffer memory available",
        0x0311 => "port not available",
        0x0312 => "link address not valid",
        0x0315 => "invalid segment in connection path",
        0x0318 => "link address to self invalid",
        _ => return None,
    })
}

/// A Message Router reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CipReply<'a> {
    /// Reply service code (request service | 0x80).
    pub service: u8,
    /// General and extended status.
    pub status: CipStatus,
    /// Reply data.
    pub data: &'a [u8],
}

impl CipReply<'_> {
    /// Whether the Unconnected Send itself failed at a router (reply service 0xD2), rather than
    /// the target answering.
    pub fn from_router(&self) -> bool {
        self.service == service::UNCONNECTED_SEND | service::REPLY
    }
}

/// Parses a Message Router reply and checks that it answers `request`: the target's reply
/// (service | 0x80), or, for a routed request, the router's Unconnected Send reply (0xD2).
pub fn parse_cip_reply<'a>(
    request: &CipRequest,
    bytes: &'a [u8],
) -> Result<CipReply<'a>, CodecError> {
    let mut r = Reader::new(bytes, "CIP reply header");
    let reply_service = r.u8()?;
    let _reserved = r.u8()?;
    let general = r.u8()?;
    let words = usize::from(r.u8()?);
    r.what = "CIP extended status";
    let mut extended = Vec::with_capacity(words);
    for _ in 0..words {
        extended.push(r.u16()?);
    }
    let sent = request.read.service();
    let routed = !request.route.0.is_empty();
    let answers = reply_service == sent | service::REPLY
        || (routed && reply_service == service::UNCONNECTED_SEND | service::REPLY);
    if !answers {
        return Err(CodecError::WrongService {
            sent,
            got: reply_service,
        });
    }
    Ok(CipReply {
        service: reply_service,
        status: CipStatus { general, extended },
        data: r.rest(),
    })
}

/// Parses the data of a successful Identity Get_Attributes_All reply.
pub fn parse_identity_all(data: &[u8]) -> Result<Identity, CodecError> {
    Identity::parse(&mut Reader::new(data, "Identity attributes"))
}

/// Parses the data of a successful Get_Attribute_Single of a UINT attribute.
pub fn parse_uint(data: &[u8]) -> Result<u16, CodecError> {
    Reader::new(data, "UINT attribute").u16()
}

/// A bounds-checked little-endian reader.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8], what: &'static str) -> Reader<'a> {
        Reader { bytes, at: 0, what }
    }

    fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.at)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        let have = self.remaining();
        let end = self.at.checked_add(n).filter(|_| n <= have);
        match end.and_then(|end| self.bytes.get(self.at..end)) {
            Some(slice) => {
                self.at += n;
                Ok(slice)
            }
            None => Err(CodecError::Truncated {
                what: self.what,
                need: n,
                have,
            }),
        }
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], CodecError> {
        let slice = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, CodecError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, CodecError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn rest(&mut self) -> &'a [u8] {
        let rest = self.bytes.get(self.at..).unwrap_or_default();
        self.at = self.bytes.len();
        rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn list_identity_request_is_the_bare_header() {
        let frame = Request::ListIdentity.frame(0, [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(
            frame,
            hex("6300 0000 00000000 00000000 0102030405060708 00000000")
        );
    }

    #[test]
    fn register_session_asks_protocol_version_1() {
        let frame = Request::RegisterSession.frame(0, [0; 8]);
        assert_eq!(&frame[..4], &[0x65, 0, 4, 0]);
        assert_eq!(&frame[24..], &[1, 0, 0, 0]);
    }

    #[test]
    fn an_identity_read_of_slot_3_is_an_unconnected_send_with_route_1_3() {
        let req = Request::Cip(CipRequest {
            route: Route::slot(3),
            read: CipRead::IdentityAll,
            route_timeout: RouteTimeout::from_millis(1000),
        });
        let frame = req.frame(0x1122_3344, [0; 8]);
        let want = hex("6f00 2400 44332211 00000000 0000000000000000 00000000
             00000000 0000 0200 0000 0000 b200 1400
             52 02 20 06 24 01 02 fa 0600 01 02 20 01 24 01 01 00 01 03");
        assert_eq!(frame, want);
        assert_eq!(
            RouteTimeout {
                tick: 2,
                ticks: 250
            }
            .millis(),
            1000
        );
    }

    #[test]
    fn a_port_read_two_hops_away_pads_the_route() {
        let req = CipRequest {
            route: Route::slot(4).then(2, 12),
            read: CipRead::Port {
                instance: 2,
                attribute: PortAttribute::Type,
            },
            route_timeout: RouteTimeout::from_millis(100),
        };
        let m = req.message();
        assert_eq!(
            m,
            hex("52 02 20 06 24 01 00 64 0800 0e 03 20 f4 24 02 30 01 02 00 01 04 02 0c")
        );
        let wide = CipRequest {
            route: Route(vec![Hop { port: 18, link: 7 }]),
            ..req
        };
        assert!(wide.message().ends_with(&hex("02 00 0f 12 00 07")));
    }

    fn list_identity_reply() -> Vec<u8> {
        // vendor 1, type 14, code 155, rev 32.11, status 0x3160, serial 0x60c2a5f1, state 3
        hex("0100 0c00 2e00 0100 0002 af12 7f00001e 0000000000000000
             0100 0e00 9b00 20 0b 6031 f1a5c260
             0c 313736392d4c333345522f41 03")
    }

    #[test]
    fn list_identity_decodes_every_field() {
        let li = parse_list_identity(&list_identity_reply()).unwrap();
        assert_eq!(li.protocol_version, 1);
        assert_eq!(li.socket, "127.0.0.30:44818".parse().unwrap());
        let id = &li.identity;
        assert_eq!(
            (id.vendor_id, id.device_type, id.product_code),
            (1, 14, 155)
        );
        assert_eq!(id.revision.to_string(), "32.11");
        assert_eq!(id.status, 0x3160);
        assert_eq!(id.serial_hex(), "0x60c2a5f1");
        assert_eq!(id.product_name, "1769-L33ER/A");
        assert_eq!(id.state, Some(3));
    }

    #[test]
    fn a_truncated_identity_item_says_what_is_missing() {
        let mut reply = list_identity_reply();
        reply.truncate(6 + 20);
        let err = parse_list_identity(&reply).unwrap_err();
        assert!(
            matches!(
                err,
                CodecError::Truncated {
                    what: "item data",
                    need: 46,
                    have: 20
                }
            ),
            "{err}"
        );
        // the item length still claims the full size: the item is what is truncated
        let mut short_item = list_identity_reply();
        short_item.truncate(40);
        assert!(parse_list_identity(&short_item).is_err());
        let mut no_state = list_identity_reply();
        no_state.pop();
        no_state[4] -= 1;
        assert!(matches!(
            parse_list_identity(&no_state),
            Err(CodecError::Truncated { what: "state", .. })
        ));
    }

    #[test]
    fn routing_errors_come_from_the_router() {
        let req = CipRequest {
            route: Route::slot(7),
            read: CipRead::IdentityAll,
            route_timeout: RouteTimeout::from_millis(500),
        };
        let routing = hex("d2 00 01 01 1203 01");
        let reply = parse_cip_reply(&req, &routing).unwrap();
        assert!(reply.from_router());
        assert_eq!(reply.status.general, 1);
        assert_eq!(
            reply.status.to_string(),
            "0x01 (connection failure), extended 0x0312 (link address not valid)"
        );
        let refused = hex("81 00 08 00");
        let target = parse_cip_reply(&req, &refused).unwrap();
        assert!(!target.from_router());
        assert_eq!(target.status.to_string(), "0x08 (service not supported)");
        let local = CipRequest {
            route: Route::local(),
            ..req
        };
        assert!(matches!(
            parse_cip_reply(&local, &hex("d2 00 01 00")),
            Err(CodecError::WrongService { sent: 1, got: 0xd2 })
        ));
    }

    #[test]
    fn route_timeouts_round_up() {
        assert_eq!(RouteTimeout::from_millis(0).millis(), 1);
        assert_eq!(RouteTimeout::from_millis(255).millis(), 255);
        assert_eq!(RouteTimeout::from_millis(256).millis(), 256);
        assert_eq!(RouteTimeout::from_millis(1500).millis(), 1504);
    }

    #[test]
    fn frames_from_elsewhere_are_refused() {
        // a write: Set_Attribute_Single (0x10) to Identity
        let mut frame = Request::Cip(CipRequest {
            route: Route::local(),
            read: CipRead::IdentityAll,
            route_timeout: RouteTimeout::from_millis(1),
        })
        .frame(1, [0; 8]);
        let at = frame.len() - 6;
        frame[at] = 0x10;
        assert!(matches!(
            parse_request(&frame),
            Err(CodecError::NotAllowed(_))
        ));
        // SendUnitData (0x70)
        let mut other = Request::ListIdentity.frame(0, [0; 8]);
        other[0] = 0x70;
        assert!(parse_request(&other).is_err());
        // Identity Reset (0x05)
        let mut reset = Request::Cip(CipRequest {
            route: Route::slot(0),
            read: CipRead::IdentityAll,
            route_timeout: RouteTimeout::from_millis(1),
        })
        .frame(1, [0; 8]);
        let at = HEADER_LEN + 16 + 10;
        assert_eq!(reset[at], 0x01);
        reset[at] = 0x05;
        assert!(parse_request(&reset).is_err());
    }

    fn any_route() -> impl Strategy<Value = Route> {
        proptest::collection::vec((1u16..40, any::<u8>()), 0..4).prop_map(|hops| {
            Route(
                hops.into_iter()
                    .map(|(port, link)| Hop { port, link })
                    .collect(),
            )
        })
    }

    fn any_request() -> impl Strategy<Value = Request> {
        let read = prop_oneof![
            Just(CipRead::IdentityAll),
            (
                any::<u8>(),
                prop_oneof![Just(PortAttribute::Type), Just(PortAttribute::Number)]
            )
                .prop_map(|(instance, attribute)| CipRead::Port {
                    instance,
                    attribute
                }),
        ];
        let cip = (any_route(), read, any::<u32>()).prop_map(|(route, read, ms)| {
            let route_timeout = if route.0.is_empty() {
                RouteTimeout { tick: 0, ticks: 0 }
            } else {
                RouteTimeout::from_millis(ms)
            };
            Request::Cip(CipRequest {
                route,
                read,
                route_timeout,
            })
        });
        prop_oneof![
            Just(Request::ListIdentity),
            Just(Request::RegisterSession),
            Just(Request::UnRegisterSession),
            cip,
        ]
    }

    proptest! {
        #[test]
        fn every_request_is_on_the_read_only_list(req in any_request(), session in any::<u32>(), ctx in any::<[u8; 8]>()) {
            let frame = req.frame(session, ctx);
            let (header, back) = parse_request(&frame).unwrap();
            prop_assert_eq!(&back, &req);
            prop_assert_eq!(header.session, session);
            prop_assert_eq!(header.context, ctx);
            prop_assert!(ALLOWED_COMMANDS.contains(&header.command));
            if let Request::Cip(cip) = &req {
                let message = cip.message();
                prop_assert!(ALLOWED_SERVICES.contains(&message[0]));
                prop_assert!(ALLOWED_SERVICES.contains(&cip.read.service()));
            }
        }

        #[test]
        fn route_timeouts_are_never_shorter(ms in 1u32..(255 << 15)) {
            let t = RouteTimeout::from_millis(ms);
            prop_assert!(t.millis() >= ms);
            prop_assert!(t.millis() < ms.saturating_mul(2).max(2));
        }

        #[test]
        fn reply_parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_list_identity(&bytes);
            let _ = parse_send_rr_data(&bytes);
            let _ = parse_identity_all(&bytes);
            let _ = parse_uint(&bytes);
            let _ = parse_request(&bytes);
            let req = CipRequest { route: Route::slot(1), read: CipRead::IdentityAll, route_timeout: RouteTimeout::from_millis(9) };
            let _ = parse_cip_reply(&req, &bytes);
        }

        #[test]
        fn headers_never_panic(bytes in any::<[u8; 24]>()) {
            if let Ok(h) = Header::parse(&bytes) {
                prop_assert_eq!(h.emit(), bytes);
            }
        }

        #[test]
        fn list_identity_survives_any_cut_or_flip(cut in 0usize..80, flip in 0usize..80, bit in 0u8..8) {
            let mut reply = list_identity_reply();
            if flip < reply.len() {
                reply[flip] ^= 1 << bit;
            }
            reply.truncate(cut);
            let _ = parse_list_identity(&reply);
        }
    }
}

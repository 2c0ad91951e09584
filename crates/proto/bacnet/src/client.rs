//! A thin async BACnet/IP client: one UDP socket per target, one request at a time, a time limit
//! and a bounded number of retries on each, answers matched by invoke ID and source address.
//!
//! The socket is bound to a specific local address and an ephemeral port (never 47808, never the
//! unspecified address) and connected to the target, so only the target's datagrams reach it and an
//! ICMP "port unreachable" shows as [`ClientError::Refused`].

use crate::codec::apdu::{AbortReason, Apdu, BacnetError, RejectReason, service as svc};
use crate::codec::npdu::{NetworkMessage, NetworkRejectReason, Npci, RemoteAddress};
use crate::codec::service::{
    IAm, PropertyId, PropertyResult, ReadPropertyAck, ReadPropertyMultiple, ReadPropertyMultipleAck,
};
use crate::codec::tag::{ObjectId, Value};
use crate::codec::{Body, CodecError, Incoming, Request};
use otsensor_core::Pacer;
use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::time::{Instant, timeout, timeout_at};

/// Retries after the first attempt of each request, by default.
pub const DEFAULT_RETRIES: u8 = 1;
/// Receive buffer: above the largest BACnet/IP datagram (1497 octets), so none is cut.
const RECV_BUFFER: usize = 2048;
/// Most I-Ams kept from one remote-broadcast Who-Is.
pub const MAX_I_AMS: usize = 1024;

/// The Device object properties read for identification, in this order.
pub const DEVICE_PROPERTIES: [PropertyId; 9] = [
    PropertyId::OBJECT_NAME,
    PropertyId::VENDOR_NAME,
    PropertyId::VENDOR_IDENTIFIER,
    PropertyId::MODEL_NAME,
    PropertyId::FIRMWARE_REVISION,
    PropertyId::APPLICATION_SOFTWARE_VERSION,
    PropertyId::LOCATION,
    PropertyId::DESCRIPTION,
    PropertyId::PROTOCOL_REVISION,
];

/// One request to one place, as errors name it: `127.0.0.40:47808: ReadProperty ... at network 2 MAC 05`.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The target's UDP address.
    pub addr: SocketAddr,
    /// The request, described.
    pub request: String,
    /// Where the target routes it, if anywhere.
    pub route: Option<RemoteAddress>,
}

impl fmt::Display for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.addr, self.request)?;
        if let Some(r) = &self.route {
            write!(f, " to {r}")?;
        }
        Ok(())
    }
}

/// Why a request failed. The text says what, where and what to check.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// BACnet/IPv6 is a different link layer (Annex U).
    #[error("{addr}: BACnet/IPv6 (Annex U) is not supported; give an IPv4 address")]
    Ipv6 {
        /// The target.
        addr: SocketAddr,
    },
    /// The local socket could not be opened.
    #[error("{addr}: cannot open a UDP socket on {local}: {source}")]
    Socket {
        /// The target.
        addr: SocketAddr,
        /// The local address tried.
        local: SocketAddr,
        /// The system's reason.
        source: io::Error,
    },
    /// ICMP port unreachable: nothing listens on that UDP port.
    #[error("{at}: port unreachable (nothing listens on that UDP port)")]
    Refused {
        /// The request.
        at: Box<Exchange>,
    },
    /// No answer within the time limit, after every attempt.
    #[error(
        "{at}: no answer within {secs:.1} s ({attempts} attempts); check that a BACnet/IP device listens on that UDP port"
    )]
    Timeout {
        /// The request.
        at: Box<Exchange>,
        /// The limit of each attempt.
        secs: f64,
        /// Attempts made.
        attempts: u8,
    },
    /// A socket error.
    #[error("{at}: {source}")]
    Io {
        /// The request.
        at: Box<Exchange>,
        /// The system's reason.
        source: io::Error,
    },
    /// The answer is not valid BACnet/IP.
    #[error("{at}: bad reply: {source}")]
    Codec {
        /// The request.
        at: Box<Exchange>,
        /// What is wrong with it.
        source: CodecError,
    },
    /// The device answered with an Error PDU.
    #[error("{at}: answered with error {error}")]
    Error {
        /// The request.
        at: Box<Exchange>,
        /// Class and code.
        error: BacnetError,
    },
    /// The device rejected the request.
    #[error("{at}: rejected: {reason}")]
    Reject {
        /// The request.
        at: Box<Exchange>,
        /// Why.
        reason: RejectReason,
    },
    /// The device aborted the transaction.
    #[error("{at}: aborted by the device: {reason}")]
    Abort {
        /// The request.
        at: Box<Exchange>,
        /// Why.
        reason: AbortReason,
    },
    /// The device sent a segmented answer although the request accepted none.
    #[error(
        "{at}: the device answered in segments, though the request accepts no segmented answer"
    )]
    Segmented {
        /// The request.
        at: Box<Exchange>,
    },
    /// A router could not deliver the request.
    #[error("{at}: the router rejected it for network {network}: {reason}")]
    RouterReject {
        /// The request.
        at: Box<Exchange>,
        /// The network concerned.
        network: u16,
        /// Why.
        reason: NetworkRejectReason,
    },
    /// A valid answer of the wrong kind.
    #[error("{at}: unexpected answer: {what}")]
    Unexpected {
        /// The request.
        at: Box<Exchange>,
        /// What came.
        what: String,
    },
}

impl ClientError {
    /// Whether the device answered in BACnet at all (an Error, Reject, Abort or segmented answer).
    pub fn device_answered(&self) -> bool {
        matches!(
            self,
            ClientError::Error { .. }
                | ClientError::Reject { .. }
                | ClientError::Abort { .. }
                | ClientError::Segmented { .. }
                | ClientError::RouterReject { .. }
                | ClientError::Unexpected { .. }
        )
    }

    /// Whether nothing answered in time.
    pub fn is_timeout(&self) -> bool {
        matches!(self, ClientError::Timeout { .. })
    }
}

/// An I-Am and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IAmFrom {
    /// SNET/SADR of a routed device; None for the device at the IP address itself.
    pub source: Option<RemoteAddress>,
    /// What it said.
    pub i_am: IAm,
}

/// How [`Client::read_device`] reads the Device object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadMode {
    /// ReadPropertyMultiple, falling back to ReadProperty per property if the device refuses it.
    Multiple,
    /// ReadProperty per property only.
    Single,
}

/// What the Device object said about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// The Device object read.
    pub device: ObjectId,
    /// Object_Name.
    pub object_name: Option<String>,
    /// Vendor_Name.
    pub vendor_name: Option<String>,
    /// Vendor_Identifier.
    pub vendor_id: Option<u32>,
    /// Model_Name.
    pub model_name: Option<String>,
    /// Firmware_Revision.
    pub firmware_revision: Option<String>,
    /// Application_Software_Version.
    pub application_software_version: Option<String>,
    /// Location.
    pub location: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Protocol_Revision.
    pub protocol_revision: Option<u32>,
    /// The service that gave the values (ReadPropertyMultiple, or ReadProperty after a fallback).
    pub read_with: ReadMode,
    /// Why ReadPropertyMultiple was not used, when it was tried and failed.
    pub multiple_failed: Option<String>,
    /// Properties the device did not give, with why.
    pub missing: Vec<(PropertyId, String)>,
}

impl DeviceInfo {
    fn new(device: ObjectId, read_with: ReadMode) -> DeviceInfo {
        DeviceInfo {
            device,
            object_name: None,
            vendor_name: None,
            vendor_id: None,
            model_name: None,
            firmware_revision: None,
            application_software_version: None,
            location: None,
            description: None,
            protocol_revision: None,
            read_with,
            multiple_failed: None,
            missing: Vec::new(),
        }
    }

    /// Takes the value of one property (the first value of the right type).
    fn absorb(&mut self, property: PropertyId, values: &[Value]) {
        let text = || values.iter().find_map(|v| v.as_text().map(str::to_string));
        let number = || {
            values
                .iter()
                .find_map(Value::as_unsigned)
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
        };
        match property {
            PropertyId::OBJECT_NAME => self.object_name = text(),
            PropertyId::VENDOR_NAME => self.vendor_name = text(),
            PropertyId::VENDOR_IDENTIFIER => self.vendor_id = number(),
            PropertyId::MODEL_NAME => self.model_name = text(),
            PropertyId::FIRMWARE_REVISION => self.firmware_revision = text(),
            PropertyId::APPLICATION_SOFTWARE_VERSION => self.application_software_version = text(),
            PropertyId::LOCATION => self.location = text(),
            PropertyId::DESCRIPTION => self.description = text(),
            PropertyId::PROTOCOL_REVISION => self.protocol_revision = number(),
            _ => {}
        }
    }
}

/// What happened while waiting for an answer.
enum Event<'a> {
    /// A datagram from the target, decoded.
    Datagram(Incoming<'a>),
    /// The deadline of the current attempt passed.
    Deadline,
}

/// What to do about an [`Event`]: stop with a value, or go on waiting (or retrying).
enum Step<T> {
    Done(T),
    Skip,
}

/// One BACnet/IP conversation with one target.
pub struct Client {
    socket: UdpSocket,
    addr: SocketAddr,
    timeout: Duration,
    retries: u8,
    pacer: Arc<dyn Pacer>,
    next_invoke_id: u8,
    sent: Option<Vec<Vec<u8>>>,
}

/// The local address to send from: 127.0.0.1 for a loopback target, else the address the
/// system would route from (found without sending anything).
fn local_address_for(addr: SocketAddr) -> io::Result<SocketAddr> {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_loopback() => Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))),
        IpAddr::V4(_) => {
            let route = std::net::UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))?;
            route.connect(addr)?;
            Ok(SocketAddr::new(route.local_addr()?.ip(), 0))
        }
        IpAddr::V6(_) => Err(io::Error::from(io::ErrorKind::Unsupported)),
    }
}

impl Client {
    /// Opens a socket for `addr` on 127.0.0.1 for a loopback target, else on the address the
    /// system would route from (found without sending anything); an ephemeral port either way.
    pub async fn open(
        addr: SocketAddr,
        limit: Duration,
        pacer: Arc<dyn Pacer>,
    ) -> Result<Client, ClientError> {
        if addr.is_ipv6() {
            return Err(ClientError::Ipv6 { addr });
        }
        let local = local_address_for(addr).map_err(|source| ClientError::Socket {
            addr,
            local: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
            source,
        })?;
        Client::open_from(addr, local, limit, pacer).await
    }

    /// Opens a socket for `addr` bound to `local` (use port 0 for an ephemeral port).
    pub async fn open_from(
        addr: SocketAddr,
        local: SocketAddr,
        limit: Duration,
        pacer: Arc<dyn Pacer>,
    ) -> Result<Client, ClientError> {
        if addr.is_ipv6() {
            return Err(ClientError::Ipv6 { addr });
        }
        let socket_error = |source| ClientError::Socket {
            addr,
            local,
            source,
        };
        let socket = UdpSocket::bind(local).await.map_err(socket_error)?;
        socket.connect(addr).await.map_err(socket_error)?;
        Ok(Client {
            socket,
            addr,
            timeout: limit,
            retries: DEFAULT_RETRIES,
            pacer,
            next_invoke_id: 0,
            sent: None,
        })
    }

    /// Changes the time limit of each attempt.
    pub fn set_timeout(&mut self, limit: Duration) {
        self.timeout = limit;
    }

    /// Changes the retries after each first attempt.
    pub fn set_retries(&mut self, retries: u8) {
        self.retries = retries;
    }

    /// Keeps a copy of every datagram sent from now on (for the read-only check of tests).
    pub fn record_requests(&mut self) {
        self.sent.get_or_insert_with(Vec::new);
    }

    /// The datagrams sent since [`Client::record_requests`].
    pub fn sent(&self) -> &[Vec<u8>] {
        self.sent.as_deref().unwrap_or_default()
    }

    /// The local address of the socket.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    fn attempts(&self) -> u8 {
        self.retries.saturating_add(1)
    }

    fn exchange(&self, request: &Request, route: Option<&RemoteAddress>) -> Exchange {
        Exchange {
            addr: self.addr,
            request: request.to_string(),
            route: route.cloned(),
        }
    }

    fn io_error(at: &Exchange, source: io::Error) -> ClientError {
        if source.kind() == io::ErrorKind::ConnectionRefused {
            ClientError::Refused {
                at: Box::new(at.clone()),
            }
        } else {
            ClientError::Io {
                at: Box::new(at.clone()),
                source,
            }
        }
    }

    async fn send(&mut self, frame: &[u8], at: &Exchange) -> Result<(), ClientError> {
        self.pacer.ready().await;
        if let Some(sent) = &mut self.sent {
            sent.push(frame.to_vec());
        }
        match timeout(self.timeout, self.socket.send(frame)).await {
            Err(_) => Err(ClientError::Io {
                at: Box::new(at.clone()),
                source: io::Error::from(io::ErrorKind::TimedOut),
            }),
            Ok(Err(e)) => Err(Self::io_error(at, e)),
            Ok(Ok(_)) => Ok(()),
        }
    }

    /// The next datagram before `deadline`, or None when it passes.
    async fn recv(
        &mut self,
        deadline: Instant,
        at: &Exchange,
    ) -> Result<Option<Vec<u8>>, ClientError> {
        let mut buf = vec![0u8; RECV_BUFFER];
        match timeout_at(deadline, self.socket.recv(&mut buf)).await {
            Err(_) => Ok(None),
            Ok(Err(e)) => Err(Self::io_error(at, e)),
            Ok(Ok(n)) => {
                buf.truncate(n);
                Ok(Some(buf))
            }
        }
    }

    /// Sends `request` (with retries) and hands each decoded datagram to `step` until it says
    /// done; at the deadline of each attempt `step` sees [`Event::Deadline`] and may end the wait.
    async fn converse<T>(
        &mut self,
        request: &Request,
        route: Option<&RemoteAddress>,
        invoke_id: u8,
        mut step: impl FnMut(&Exchange, Event<'_>) -> Result<Step<T>, ClientError>,
    ) -> Result<T, ClientError> {
        let at = self.exchange(request, route);
        let frame = request.frame(route, invoke_id);
        for _ in 0..self.attempts() {
            self.send(&frame, &at).await?;
            let deadline = Instant::now() + self.timeout;
            while let Some(datagram) = self.recv(deadline, &at).await? {
                let incoming = Incoming::parse(&datagram).map_err(|source| ClientError::Codec {
                    at: Box::new(at.clone()),
                    source,
                })?;
                if let Step::Done(value) = step(&at, Event::Datagram(incoming))? {
                    return Ok(value);
                }
            }
            if let Step::Done(value) = step(&at, Event::Deadline)? {
                return Ok(value);
            }
        }
        Err(ClientError::Timeout {
            at: Box::new(at),
            secs: self.timeout.as_secs_f64(),
            attempts: self.attempts(),
        })
    }

    /// Who-Is, unicast to the target. With no route: the target's own I-Am (the first one).
    /// With a station route: that station's I-Am. With a network route (empty MAC, a remote
    /// broadcast the target's router delivers on that network): every I-Am from the network
    /// within the time limit, which may be none.
    pub async fn who_is(
        &mut self,
        route: Option<&RemoteAddress>,
    ) -> Result<Vec<IAmFrom>, ClientError> {
        let collect = route.is_some_and(|r| r.mac.is_empty());
        let mut found: Vec<IAmFrom> = Vec::new();
        let result = self
            .converse(&Request::WhoIs, route, 0, |at, event| {
                let incoming = match event {
                    // a remote broadcast ends with its first attempt that found anyone
                    Event::Deadline if collect && !found.is_empty() => {
                        return Ok(Step::Done(std::mem::take(&mut found)));
                    }
                    Event::Deadline => return Ok(Step::Skip),
                    Event::Datagram(incoming) => incoming,
                };
                if let Some(e) = router_reject(at, route, &incoming) {
                    return Err(e);
                }
                let Body::Apdu(Apdu::UnconfirmedRequest {
                    service: svc::I_AM,
                    data,
                }) = incoming.body
                else {
                    return Ok(Step::Skip);
                };
                let source = incoming.npci.source;
                let wanted = match (route, &source) {
                    (None, None) => true,
                    (Some(r), Some(s)) if collect => s.network == r.network,
                    (Some(r), Some(s)) => s == r,
                    _ => false,
                };
                if !wanted {
                    tracing::debug!(exchange = %at, ?source, "I-Am from elsewhere skipped");
                    return Ok(Step::Skip);
                }
                let i_am = match IAm::parse(data) {
                    Ok(i_am) => i_am,
                    Err(e) if collect => {
                        tracing::debug!(exchange = %at, ?source, error = %e, "bad I-Am skipped");
                        return Ok(Step::Skip);
                    }
                    Err(source) => {
                        return Err(ClientError::Codec {
                            at: Box::new(at.clone()),
                            source,
                        });
                    }
                };
                if !collect {
                    return Ok(Step::Done(vec![IAmFrom { source, i_am }]));
                }
                if found.len() < MAX_I_AMS && !found.iter().any(|f| f.source == source) {
                    found.push(IAmFrom { source, i_am });
                }
                Ok(Step::Skip)
            })
            .await;
        match result {
            // silence on a remote network means no device there
            Err(ClientError::Timeout { .. }) if collect => Ok(Vec::new()),
            other => other,
        }
    }

    /// Who-Is-Router-To-Network to the target: the networks it routes to.
    pub async fn who_is_router_to_network(&mut self) -> Result<Vec<u16>, ClientError> {
        self.converse(
            &Request::WhoIsRouterToNetwork,
            None,
            0,
            |_, event| match event {
                Event::Datagram(Incoming {
                    npci,
                    body: Body::Message(NetworkMessage::IAmRouterToNetwork(mut nets)),
                }) if npci.source.is_none() => {
                    nets.sort_unstable();
                    nets.dedup();
                    Ok(Step::Done(nets))
                }
                _ => Ok(Step::Skip),
            },
        )
        .await
    }

    fn next_invoke_id(&mut self) -> u8 {
        let id = self.next_invoke_id;
        self.next_invoke_id = self.next_invoke_id.wrapping_add(1);
        id
    }

    /// Sends a confirmed request and returns the data of its Complex-ACK.
    async fn confirmed(
        &mut self,
        request: &Request,
        route: Option<&RemoteAddress>,
    ) -> Result<Vec<u8>, ClientError> {
        let invoke = self.next_invoke_id();
        let service = match request {
            Request::ReadProperty(_) => svc::READ_PROPERTY,
            Request::ReadPropertyMultiple(_) => svc::READ_PROPERTY_MULTIPLE,
            _ => 0,
        };
        self.converse(request, route, invoke, |at, event| {
            let Event::Datagram(incoming) = event else {
                return Ok(Step::Skip);
            };
            if let Some(e) = router_reject(at, route, &incoming) {
                return Err(e);
            }
            if !from(&incoming.npci, route) {
                return Ok(Step::Skip);
            }
            let Body::Apdu(apdu) = incoming.body else {
                return Ok(Step::Skip);
            };
            answer_of(at, apdu, invoke, service)
        })
        .await
    }

    /// ReadProperty of one whole property.
    pub async fn read_property(
        &mut self,
        route: Option<&RemoteAddress>,
        object: ObjectId,
        property: PropertyId,
    ) -> Result<Vec<Value>, ClientError> {
        let request = Request::read_property(object, property);
        let data = self.confirmed(&request, route).await?;
        let at = || Box::new(self.exchange(&request, route));
        let ack = ReadPropertyAck::parse(&data)
            .map_err(|source| ClientError::Codec { at: at(), source })?;
        let same_object =
            ack.object == object || (object == ObjectId::WILDCARD_DEVICE && ack.object.is_device());
        if !same_object || ack.property != property {
            return Err(ClientError::Unexpected {
                at: at(),
                what: format!("the value of {} of {}", ack.property, ack.object),
            });
        }
        Ok(ack.values)
    }

    /// The Device object's identifier, read through the wildcard instance 4194303.
    pub async fn read_device_identifier(
        &mut self,
        route: Option<&RemoteAddress>,
    ) -> Result<ObjectId, ClientError> {
        let values = self
            .read_property(
                route,
                ObjectId::WILDCARD_DEVICE,
                PropertyId::OBJECT_IDENTIFIER,
            )
            .await?;
        match values.as_slice() {
            [Value::ObjectId(id)] if id.is_device() => Ok(*id),
            other => Err(ClientError::Unexpected {
                at: Box::new(self.exchange(
                    &Request::read_property(
                        ObjectId::WILDCARD_DEVICE,
                        PropertyId::OBJECT_IDENTIFIER,
                    ),
                    route,
                )),
                what: format!("object-identifier {other:?}"),
            }),
        }
    }

    /// ReadPropertyMultiple of whole properties of one object.
    pub async fn read_property_multiple(
        &mut self,
        route: Option<&RemoteAddress>,
        object: ObjectId,
        properties: &[PropertyId],
    ) -> Result<Vec<PropertyResult>, ClientError> {
        let request = Request::ReadPropertyMultiple(ReadPropertyMultiple {
            object,
            properties: properties.to_vec(),
        });
        let data = self.confirmed(&request, route).await?;
        let at = || Box::new(self.exchange(&request, route));
        let ack = ReadPropertyMultipleAck::parse(&data)
            .map_err(|source| ClientError::Codec { at: at(), source })?;
        ack.objects
            .into_iter()
            .find(|o| o.object == object)
            .map(|o| o.results)
            .ok_or_else(|| ClientError::Unexpected {
                at: at(),
                what: format!("no results for {object}"),
            })
    }

    /// Reads [`DEVICE_PROPERTIES`] of `device`: with [`ReadMode::Multiple`] one
    /// ReadPropertyMultiple, falling back to ReadProperty per property when the device refuses,
    /// aborts, answers in segments or not at all; a property the device cannot give is listed in
    /// [`DeviceInfo::missing`].
    pub async fn read_device(
        &mut self,
        route: Option<&RemoteAddress>,
        device: ObjectId,
        mode: ReadMode,
    ) -> Result<DeviceInfo, ClientError> {
        let mut info = DeviceInfo::new(device, mode);
        if mode == ReadMode::Multiple {
            match self
                .read_property_multiple(route, device, &DEVICE_PROPERTIES)
                .await
            {
                Ok(results) => {
                    for r in results {
                        match r.value {
                            Ok(values) => info.absorb(r.property, &values),
                            Err(e) => info.missing.push((r.property, e.to_string())),
                        }
                    }
                    return Ok(info);
                }
                Err(e) if e.device_answered() || e.is_timeout() || is_codec(&e) => {
                    tracing::debug!(error = %e, "ReadPropertyMultiple failed; reading properties one by one");
                    info.multiple_failed = Some(e.to_string());
                    info.read_with = ReadMode::Single;
                }
                Err(e) => return Err(e),
            }
        }
        self.read_one_by_one(route, &mut info).await?;
        Ok(info)
    }

    async fn read_one_by_one(
        &mut self,
        route: Option<&RemoteAddress>,
        info: &mut DeviceInfo,
    ) -> Result<(), ClientError> {
        let mut answered = false;
        for (i, property) in DEVICE_PROPERTIES.into_iter().enumerate() {
            match self.read_property(route, info.device, property).await {
                Ok(values) => {
                    info.absorb(property, &values);
                    answered = true;
                }
                Err(e) if e.device_answered() => {
                    info.missing.push((property, e.to_string()));
                    answered = true;
                }
                Err(e) if !answered => return Err(e),
                Err(e) => {
                    // the device stopped answering: keep what it gave
                    let why = e.to_string();
                    for p in &DEVICE_PROPERTIES[i..] {
                        info.missing.push((*p, why.clone()));
                    }
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

fn is_codec(e: &ClientError) -> bool {
    matches!(e, ClientError::Codec { .. })
}

/// Whether a datagram comes from where the request went: the device itself (no SNET), or the
/// routed station (SNET/SADR equal to the request's DNET/DADR).
fn from(npci: &Npci, route: Option<&RemoteAddress>) -> bool {
    npci.source.as_ref() == route
}

/// A Reject-Message-To-Network from the target router for the request's network.
fn router_reject(
    at: &Exchange,
    route: Option<&RemoteAddress>,
    incoming: &Incoming<'_>,
) -> Option<ClientError> {
    let route = route?;
    match &incoming.body {
        Body::Message(NetworkMessage::RejectMessageToNetwork { reason, network })
            if *network == route.network =>
        {
            Some(ClientError::RouterReject {
                at: Box::new(at.clone()),
                network: *network,
                reason: *reason,
            })
        }
        _ => None,
    }
}

/// What an APDU from the right place means for the confirmed request `invoke`/`service`.
fn answer_of(
    exchange: &Exchange,
    apdu: Apdu<'_>,
    invoke: u8,
    service: u8,
) -> Result<Step<Vec<u8>>, ClientError> {
    let at = || Box::new(exchange.clone());
    match apdu {
        Apdu::ComplexAck {
            invoke_id,
            segmented,
            service: s,
            data,
            ..
        } if invoke_id == invoke => {
            if segmented {
                Err(ClientError::Segmented { at: at() })
            } else if s != service {
                Err(ClientError::Unexpected {
                    at: at(),
                    what: format!("a Complex-ACK for service {s}"),
                })
            } else {
                Ok(Step::Done(data.to_vec()))
            }
        }
        Apdu::SimpleAck { invoke_id, .. } if invoke_id == invoke => Err(ClientError::Unexpected {
            at: at(),
            what: "a Simple-ACK".into(),
        }),
        Apdu::Error {
            invoke_id, error, ..
        } if invoke_id == invoke => Err(ClientError::Error { at: at(), error }),
        Apdu::Reject { invoke_id, reason } if invoke_id == invoke => {
            Err(ClientError::Reject { at: at(), reason })
        }
        Apdu::Abort {
            invoke_id,
            server: true,
            reason,
        } if invoke_id == invoke => Err(ClientError::Abort { at: at(), reason }),
        other => {
            tracing::debug!(%exchange, ?other, "stale or unrelated APDU skipped");
            Ok(Step::Skip)
        }
    }
}

//! A thin async EtherNet/IP client: List Identity over TCP or UDP, and over TCP a session for
//! unconnected CIP reads, one request at a time, each within a time limit.

use crate::codec::{
    self, CipRead, CipRequest, CipStatus, CodecError, EncapStatus, HEADER_LEN, Header, Identity,
    ListIdentity, PortAttribute, Request, Route, RouteTimeout,
};
use otsensor_core::Pacer;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{Instant, timeout, timeout_at};

/// Longest wait for the device to close after UnRegisterSession and our FIN.
const CLOSE_DRAIN: Duration = Duration::from_millis(500);

/// Why a request failed. The text says what, where and what to check.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing listens on the TCP port.
    #[error("{addr}: TCP connection refused (nothing listens on that port)")]
    Refused {
        /// The address.
        addr: SocketAddr,
    },
    /// The UDP port is closed (ICMP port unreachable).
    #[error("{addr}: UDP port unreachable (nothing listens on that UDP port)")]
    UdpUnreachable {
        /// The address.
        addr: SocketAddr,
    },
    /// The TCP connection did not open in time.
    #[error("{addr}: no answer to the TCP connect within {secs:.1} s")]
    ConnectTimeout {
        /// The address.
        addr: SocketAddr,
        /// The limit.
        secs: f64,
    },
    /// Another connect failure.
    #[error("{addr}: connect failed: {source}")]
    Connect {
        /// The address.
        addr: SocketAddr,
        /// The system's reason.
        source: io::Error,
    },
    /// No (whole) reply within the time limit.
    #[error("{addr}: no response to {request} within {secs:.1} s")]
    Timeout {
        /// The address.
        addr: SocketAddr,
        /// What was asked.
        request: String,
        /// The limit.
        secs: f64,
    },
    /// The device closed the connection.
    #[error("{addr}: connection closed by the device during {request}")]
    Closed {
        /// The address.
        addr: SocketAddr,
        /// What was asked.
        request: String,
    },
    /// A socket error while talking.
    #[error("{addr}: {request}: {source}")]
    Io {
        /// The address.
        addr: SocketAddr,
        /// What was asked.
        request: String,
        /// The system's reason.
        source: io::Error,
    },
    /// The reply is not valid EtherNet/IP or CIP.
    #[error("{addr}: bad reply to {request}: {source}")]
    Codec {
        /// The address.
        addr: SocketAddr,
        /// What was asked.
        request: String,
        /// What is wrong with it.
        source: CodecError,
    },
    /// The device refused the request at the encapsulation layer.
    #[error("{addr}: {request} refused with encapsulation status {status}")]
    Encapsulation {
        /// The address.
        addr: SocketAddr,
        /// What was asked.
        request: String,
        /// The status.
        status: EncapStatus,
    },
    /// The CIP reply carries an error status: from the target, or from a router on the way.
    #[error("{addr}: {request}: {}CIP status {status}", if *.at_router { "the route failed at a router with " } else { "answered with " })]
    Cip {
        /// The address.
        addr: SocketAddr,
        /// What was asked.
        request: String,
        /// The status.
        status: CipStatus,
        /// Whether the Unconnected Send failed on the way (reply service 0xD2).
        at_router: bool,
    },
}

impl ClientError {
    /// Whether the connection can still be used after this error.
    pub fn connection_usable(&self) -> bool {
        matches!(
            self,
            ClientError::Cip { .. }
                | ClientError::Encapsulation { .. }
                | ClientError::Timeout { .. }
        )
    }

    /// Whether the peer answered in EtherNet/IP at all (a well-framed reply to the request),
    /// even if the reply was refused, truncated or empty.
    pub fn spoke_enip(&self) -> bool {
        match self {
            ClientError::Encapsulation { .. } | ClientError::Cip { .. } => true,
            ClientError::Codec { source, .. } => matches!(
                source,
                CodecError::Truncated { .. } | CodecError::MissingItem(_)
            ),
            _ => false,
        }
    }
}

/// One EtherNet/IP TCP connection, with at most one session.
pub struct Client {
    stream: TcpStream,
    addr: SocketAddr,
    timeout: Duration,
    pacer: Arc<dyn Pacer>,
    session: u32,
    next_context: u64,
}

impl Client {
    /// Opens a TCP connection, waiting on `pacer` first (the SYN is a packet too).
    pub async fn connect(
        addr: SocketAddr,
        limit: Duration,
        pacer: Arc<dyn Pacer>,
    ) -> Result<Client, ClientError> {
        pacer.ready().await;
        let stream = match timeout(limit, TcpStream::connect(addr)).await {
            Err(_) => {
                return Err(ClientError::ConnectTimeout {
                    addr,
                    secs: limit.as_secs_f64(),
                });
            }
            Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => {
                return Err(ClientError::Refused { addr });
            }
            Ok(Err(source)) => return Err(ClientError::Connect { addr, source }),
            Ok(Ok(stream)) => stream,
        };
        let _ = stream.set_nodelay(true);
        Ok(Client {
            stream,
            addr,
            timeout: limit,
            pacer,
            session: 0,
            next_context: 1,
        })
    }

    /// The address spoken to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Changes the time limit of each request.
    pub fn set_timeout(&mut self, limit: Duration) {
        self.timeout = limit;
    }

    /// The session handle, 0 before RegisterSession.
    pub fn session(&self) -> u32 {
        self.session
    }

    /// How long routers may wait for a routed request's target: half our own limit, so that a
    /// router's "timed out" reply arrives before we give up.
    fn route_timeout(&self) -> RouteTimeout {
        let ms = (self.timeout.as_millis() / 2).clamp(1, u128::from(u32::MAX));
        RouteTimeout::from_millis(ms as u32)
    }

    /// List Identity over this connection.
    pub async fn list_identity(&mut self) -> Result<ListIdentity, ClientError> {
        let request = Request::ListIdentity;
        let data = self.exchange(&request).await?;
        codec::parse_list_identity(&data).map_err(|source| self.codec_error(&request, source))
    }

    /// RegisterSession; later CIP reads use the session.
    pub async fn register_session(&mut self) -> Result<u32, ClientError> {
        let request = Request::RegisterSession;
        let context = self.take_context();
        let (header, _) = self.exchange_with(&request, context).await?;
        if header.session == 0 {
            return Err(self.codec_error(
                &request,
                CodecError::MissingItem("session handle (0 given)"),
            ));
        }
        self.session = header.session;
        Ok(header.session)
    }

    /// Get_Attributes_All of the Identity object at `route` (empty: the device itself).
    pub async fn read_identity(&mut self, route: &Route) -> Result<Identity, ClientError> {
        let request = CipRequest {
            route: route.clone(),
            read: CipRead::IdentityAll,
            route_timeout: self.route_timeout(),
        };
        let data = self.cip(&request).await?;
        codec::parse_identity_all(&data)
            .map_err(|source| self.codec_error(&Request::Cip(request), source))
    }

    /// Get_Attribute_Single of a Port object instance's attribute at `route`.
    pub async fn read_port_attribute(
        &mut self,
        route: &Route,
        instance: u8,
        attribute: PortAttribute,
    ) -> Result<u16, ClientError> {
        let request = CipRequest {
            route: route.clone(),
            read: CipRead::Port {
                instance,
                attribute,
            },
            route_timeout: self.route_timeout(),
        };
        let data = self.cip(&request).await?;
        codec::parse_uint(&data).map_err(|source| self.codec_error(&Request::Cip(request), source))
    }

    /// Sends one CIP read in SendRRData (registering a session first if there is none) and
    /// returns the data of a successful reply.
    async fn cip(&mut self, cip: &CipRequest) -> Result<Vec<u8>, ClientError> {
        if self.session == 0 {
            self.register_session().await?;
        }
        let request = Request::Cip(cip.clone());
        let data = self.exchange(&request).await?;
        let message = codec::parse_send_rr_data(&data)
            .map_err(|source| self.codec_error(&request, source))?;
        let reply = codec::parse_cip_reply(cip, message)
            .map_err(|source| self.codec_error(&request, source))?;
        if reply.status.general != 0 {
            return Err(ClientError::Cip {
                addr: self.addr,
                request: request.name(),
                status: reply.status.clone(),
                at_router: reply.from_router(),
            });
        }
        if reply.from_router() {
            return Err(self.codec_error(
                &request,
                CodecError::WrongService {
                    sent: cip.read.service(),
                    got: reply.service,
                },
            ));
        }
        Ok(reply.data.to_vec())
    }

    fn take_context(&mut self) -> [u8; 8] {
        let context = self.next_context.to_le_bytes();
        self.next_context = self.next_context.wrapping_add(1);
        context
    }

    /// Sends `request` and returns the data of its reply.
    async fn exchange(&mut self, request: &Request) -> Result<Vec<u8>, ClientError> {
        let context = self.take_context();
        self.exchange_with(request, context).await.map(|(_, d)| d)
    }

    /// Sends `request` with `context`; reads until the reply with the same context (replies to
    /// earlier, timed-out requests are skipped), within the time limit.
    async fn exchange_with(
        &mut self,
        request: &Request,
        context: [u8; 8],
    ) -> Result<(Header, Vec<u8>), ClientError> {
        let frame = request.frame(self.session, context);
        self.pacer.ready().await;
        let deadline = Instant::now() + self.timeout;
        match timeout_at(deadline, self.stream.write_all(&frame)).await {
            Err(_) => return Err(self.timeout_error(request)),
            Ok(Err(e)) => return Err(self.io_error(request, e)),
            Ok(Ok(())) => {}
        }
        loop {
            let (header, data) = match timeout_at(deadline, self.read_reply(request)).await {
                Err(_) => return Err(self.timeout_error(request)),
                Ok(result) => result?,
            };
            if header.context != context && header.context != [0; 8] {
                tracing::debug!(addr = %self.addr, "stale reply skipped");
                continue;
            }
            if header.status != 0 {
                return Err(ClientError::Encapsulation {
                    addr: self.addr,
                    request: request.name(),
                    status: EncapStatus(header.status),
                });
            }
            return Ok((header, data));
        }
    }

    /// Reads one reply frame; its command must be the request's (checked before its data is
    /// awaited, so a stream of garbage fails at once).
    async fn read_reply(&mut self, request: &Request) -> Result<(Header, Vec<u8>), ClientError> {
        let mut head = [0u8; HEADER_LEN];
        self.read_exact(&mut head, request).await?;
        let header = Header::parse(&head).map_err(|source| self.codec_error(request, source))?;
        if header.command != request.command() {
            return Err(self.codec_error(
                request,
                CodecError::WrongCommand {
                    sent: request.command(),
                    got: header.command,
                },
            ));
        }
        let mut data = vec![0u8; usize::from(header.length)];
        self.read_exact(&mut data, request).await?;
        Ok((header, data))
    }

    async fn read_exact(&mut self, buf: &mut [u8], request: &Request) -> Result<(), ClientError> {
        match self.stream.read_exact(buf).await {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(ClientError::Closed {
                addr: self.addr,
                request: request.name(),
            }),
            Err(e) => Err(self.io_error(request, e)),
        }
    }

    fn timeout_error(&self, request: &Request) -> ClientError {
        ClientError::Timeout {
            addr: self.addr,
            request: request.name(),
            secs: self.timeout.as_secs_f64(),
        }
    }

    fn io_error(&self, request: &Request, source: io::Error) -> ClientError {
        if source.kind() == io::ErrorKind::ConnectionReset {
            return ClientError::Closed {
                addr: self.addr,
                request: request.name(),
            };
        }
        ClientError::Io {
            addr: self.addr,
            request: request.name(),
            source,
        }
    }

    fn codec_error(&self, request: &Request, source: CodecError) -> ClientError {
        ClientError::Codec {
            addr: self.addr,
            request: request.name(),
            source,
        }
    }

    /// Closes cleanly: UnRegisterSession if a session is open (no reply comes), then FIN, then
    /// waits briefly for the device's own close. Every step has a time limit.
    pub async fn close(mut self) {
        if self.session != 0 {
            let context = self.take_context();
            let frame = Request::UnRegisterSession.frame(self.session, context);
            self.pacer.ready().await;
            let _ = timeout(self.timeout, self.stream.write_all(&frame)).await;
        }
        let _ = timeout(self.timeout, self.stream.shutdown()).await;
        let mut sink = [0u8; 512];
        let _ = timeout(self.timeout.min(CLOSE_DRAIN), async {
            while matches!(self.stream.read(&mut sink).await, Ok(n) if n > 0) {}
        })
        .await;
    }
}

/// List Identity over UDP, unicast to `addr`: one datagram out, the first matching reply back.
pub async fn list_identity_udp(
    addr: SocketAddr,
    limit: Duration,
    pacer: Arc<dyn Pacer>,
) -> Result<ListIdentity, ClientError> {
    let request = Request::ListIdentity;
    let io_err = |source: io::Error| {
        if source.kind() == io::ErrorKind::ConnectionRefused {
            ClientError::UdpUnreachable { addr }
        } else {
            ClientError::Io {
                addr,
                request: "List Identity (UDP)".into(),
                source,
            }
        }
    };
    let local: SocketAddr = if addr.is_ipv4() {
        SocketAddr::from(([0, 0, 0, 0], 0))
    } else {
        SocketAddr::from(([0u16; 8], 0))
    };
    let socket = UdpSocket::bind(local).await.map_err(io_err)?;
    socket.connect(addr).await.map_err(io_err)?;
    let context = *b"otsensor";
    pacer.ready().await;
    let deadline = Instant::now() + limit;
    socket
        .send(&request.frame(0, context))
        .await
        .map_err(io_err)?;
    let mut buf = vec![0u8; HEADER_LEN + codec::MAX_REPLY_DATA];
    loop {
        let n = match timeout_at(deadline, socket.recv(&mut buf)).await {
            Err(_) => {
                return Err(ClientError::Timeout {
                    addr,
                    request: "List Identity (UDP)".into(),
                    secs: limit.as_secs_f64(),
                });
            }
            Ok(result) => result.map_err(io_err)?,
        };
        let datagram = buf.get(..n).unwrap_or_default();
        match parse_udp_reply(datagram, context) {
            Ok(Some(li)) => return Ok(li),
            Ok(None) => continue,
            Err(source) => {
                return Err(ClientError::Codec {
                    addr,
                    request: "List Identity (UDP)".into(),
                    source,
                });
            }
        }
    }
}

/// A List Identity reply datagram; `None` for a reply to another request (another context).
fn parse_udp_reply(datagram: &[u8], context: [u8; 8]) -> Result<Option<ListIdentity>, CodecError> {
    let head: &[u8; HEADER_LEN] = datagram
        .get(..HEADER_LEN)
        .and_then(|h| h.try_into().ok())
        .ok_or(CodecError::Truncated {
            what: "encapsulation header",
            need: HEADER_LEN,
            have: datagram.len(),
        })?;
    let header = Header::parse(head)?;
    if header.command != codec::command::LIST_IDENTITY {
        return Err(CodecError::WrongCommand {
            sent: codec::command::LIST_IDENTITY,
            got: header.command,
        });
    }
    if header.context != context && header.context != [0; 8] {
        return Ok(None);
    }
    let data = datagram.get(HEADER_LEN..).unwrap_or_default();
    let need = usize::from(header.length);
    let data = data.get(..need).ok_or(CodecError::Truncated {
        what: "List Identity data",
        need,
        have: data.len(),
    })?;
    codec::parse_list_identity(data).map(Some)
}

//! A thin async Modbus/TCP client: one connection, one request at a time, a time limit on each.

use crate::codec::{
    self, CodecError, DeviceIdResponse, DeviceIdentification, ExceptionCode, MBAP_LEN, MbapHeader,
    ReadDeviceIdCode, Request, Response, ServerIdResponse,
};
use otsensor_core::Pacer;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout, timeout_at};

/// Most responses one identification stream may take ("more follows"), against looping devices.
const MAX_STREAM_PARTS: usize = 32;

/// Why a request failed. The text says what, where and what to check.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing listens at the address.
    #[error("{addr}: connection refused (nothing listens on that port)")]
    Refused {
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
    /// No (whole) response within the time limit.
    #[error("{addr}: no response to {request} (unit {unit}) within {secs:.1} s")]
    Timeout {
        /// The address.
        addr: SocketAddr,
        /// What was asked.
        request: &'static str,
        /// The unit ID.
        unit: u8,
        /// The limit.
        secs: f64,
    },
    /// The device closed the connection.
    #[error("{addr}: connection closed by the device during {request} (unit {unit})")]
    Closed {
        /// The address.
        addr: SocketAddr,
        /// What was asked.
        request: &'static str,
        /// The unit ID.
        unit: u8,
    },
    /// A socket error while talking.
    #[error("{addr}: {request} (unit {unit}): {source}")]
    Io {
        /// The address.
        addr: SocketAddr,
        /// What was asked.
        request: &'static str,
        /// The unit ID.
        unit: u8,
        /// The system's reason.
        source: io::Error,
    },
    /// The reply is not valid Modbus.
    #[error("{addr}: bad reply to {request} (unit {unit}): {source}")]
    Codec {
        /// The address.
        addr: SocketAddr,
        /// What was asked.
        request: &'static str,
        /// The unit ID.
        unit: u8,
        /// What is wrong with it.
        source: CodecError,
    },
    /// The device answered with a Modbus exception.
    #[error("{addr}: {request} (unit {unit}) answered with exception {code}")]
    Exception {
        /// The address.
        addr: SocketAddr,
        /// What was asked.
        request: &'static str,
        /// The unit ID.
        unit: u8,
        /// The exception.
        code: ExceptionCode,
    },
}

impl ClientError {
    /// Whether the connection can still be used after this error.
    pub fn connection_usable(&self) -> bool {
        matches!(
            self,
            ClientError::Exception { .. } | ClientError::Timeout { .. }
        )
    }
}

fn request_name(request: &Request) -> &'static str {
    match request {
        Request::ReadDeviceId { .. } => "Read Device Identification (43/14)",
        Request::ReportServerId => "Report Server ID (17)",
    }
}

/// One Modbus/TCP connection.
pub struct Client {
    stream: TcpStream,
    addr: SocketAddr,
    timeout: Duration,
    pacer: Arc<dyn Pacer>,
    next_transaction: u16,
}

impl Client {
    /// Opens a connection, waiting on `pacer` first (the SYN is a packet too).
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
            next_transaction: 1,
        })
    }

    /// Changes the time limit of each request.
    pub fn set_timeout(&mut self, limit: Duration) {
        self.timeout = limit;
    }

    /// Sends one request to `unit` and waits for its response (stale responses are skipped).
    pub async fn request(&mut self, unit: u8, request: &Request) -> Result<Response, ClientError> {
        let name = request_name(request);
        let tid = self.next_transaction;
        self.next_transaction = self.next_transaction.wrapping_add(1);
        self.pacer.ready().await;
        let deadline = Instant::now() + self.timeout;
        let frame = request.frame(tid, unit);
        match timeout_at(deadline, self.stream.write_all(&frame)).await {
            Err(_) => return Err(self.timeout_error(name, unit)),
            Ok(Err(e)) => return Err(self.io_error(name, unit, e)),
            Ok(Ok(())) => {}
        }
        loop {
            let (header, pdu) = match timeout_at(deadline, self.read_frame(name, unit)).await {
                Err(_) => return Err(self.timeout_error(name, unit)),
                Ok(result) => result?,
            };
            if header.transaction_id != tid {
                tracing::debug!(addr = %self.addr, got = header.transaction_id, want = tid, "stale response skipped");
                continue;
            }
            return codec::parse_response(request, &pdu).map_err(|source| ClientError::Codec {
                addr: self.addr,
                request: name,
                unit,
                source,
            });
        }
    }

    async fn read_frame(
        &mut self,
        name: &'static str,
        unit: u8,
    ) -> Result<(MbapHeader, Vec<u8>), ClientError> {
        let mut head = [0u8; MBAP_LEN];
        self.read_exact(&mut head, name, unit).await?;
        let header = MbapHeader::parse(&head).map_err(|source| ClientError::Codec {
            addr: self.addr,
            request: name,
            unit,
            source,
        })?;
        let mut pdu = vec![0u8; header.pdu_len()];
        self.read_exact(&mut pdu, name, unit).await?;
        Ok((header, pdu))
    }

    async fn read_exact(
        &mut self,
        buf: &mut [u8],
        name: &'static str,
        unit: u8,
    ) -> Result<(), ClientError> {
        match self.stream.read_exact(buf).await {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(ClientError::Closed {
                addr: self.addr,
                request: name,
                unit,
            }),
            Err(e) => Err(self.io_error(name, unit, e)),
        }
    }

    fn timeout_error(&self, request: &'static str, unit: u8) -> ClientError {
        ClientError::Timeout {
            addr: self.addr,
            request,
            unit,
            secs: self.timeout.as_secs_f64(),
        }
    }

    fn io_error(&self, request: &'static str, unit: u8, source: io::Error) -> ClientError {
        if source.kind() == io::ErrorKind::ConnectionReset {
            return ClientError::Closed {
                addr: self.addr,
                request,
                unit,
            };
        }
        ClientError::Io {
            addr: self.addr,
            request,
            unit,
            source,
        }
    }

    fn exception(&self, request: &Request, unit: u8, code: ExceptionCode) -> ClientError {
        ClientError::Exception {
            addr: self.addr,
            request: request_name(request),
            unit,
            code,
        }
    }

    /// Reads one identification stream whole, following "more follows" (bounded).
    pub async fn read_device_id_stream(
        &mut self,
        unit: u8,
        code: ReadDeviceIdCode,
        into: &mut DeviceIdentification,
    ) -> Result<(), ClientError> {
        let mut object_id = 0u8;
        for _ in 0..MAX_STREAM_PARTS {
            let part = self.read_device_id_part(unit, code, object_id).await?;
            into.absorb(&part);
            // a next object ID that does not move forward would loop forever
            if !part.more_follows || part.next_object_id <= object_id {
                return Ok(());
            }
            object_id = part.next_object_id;
        }
        Ok(())
    }

    async fn read_device_id_part(
        &mut self,
        unit: u8,
        code: ReadDeviceIdCode,
        object_id: u8,
    ) -> Result<DeviceIdResponse, ClientError> {
        let request = Request::ReadDeviceId { code, object_id };
        match self.request(unit, &request).await? {
            Response::DeviceId(r) => Ok(r),
            Response::Exception { code, .. } => Err(self.exception(&request, unit, code)),
            Response::ServerId(_) => Err(ClientError::Codec {
                addr: self.addr,
                request: request_name(&request),
                unit,
                source: CodecError::WrongFunction {
                    sent: request.function(),
                    got: codec::FC_REPORT_SERVER_ID,
                },
            }),
        }
    }

    /// Reads the basic stream, then the regular and extended ones as far as the device's
    /// conformity level says it supports them.
    pub async fn read_device_identification(
        &mut self,
        unit: u8,
    ) -> Result<DeviceIdentification, ClientError> {
        let mut ident = DeviceIdentification::default();
        self.read_device_id_stream(unit, ReadDeviceIdCode::Basic, &mut ident)
            .await?;
        let level = ident.level();
        for (code, needed) in [
            (ReadDeviceIdCode::Regular, 2),
            (ReadDeviceIdCode::Extended, 3),
        ] {
            if level < needed {
                break;
            }
            match self.read_device_id_stream(unit, code, &mut ident).await {
                Ok(()) => {}
                // a device may claim more than it serves; what we have is still its identity
                Err(ClientError::Exception { .. }) => break,
                Err(e) => return Err(e),
            }
        }
        Ok(ident)
    }

    /// Function 17: Report Server ID.
    pub async fn report_server_id(&mut self, unit: u8) -> Result<ServerIdResponse, ClientError> {
        let request = Request::ReportServerId;
        match self.request(unit, &request).await? {
            Response::ServerId(r) => Ok(r),
            Response::Exception { code, .. } => Err(self.exception(&request, unit, code)),
            Response::DeviceId(_) => Err(ClientError::Codec {
                addr: self.addr,
                request: request_name(&request),
                unit,
                source: CodecError::WrongFunction {
                    sent: codec::FC_REPORT_SERVER_ID,
                    got: codec::FC_ENCAPSULATED_INTERFACE,
                },
            }),
        }
    }

    /// Closes the connection cleanly (FIN), waiting at most the time limit.
    pub async fn close(mut self) {
        let _ = timeout(self.timeout, self.stream.shutdown()).await;
    }
}

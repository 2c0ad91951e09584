//! A thin async S7comm client: one ISO-on-TCP connection, one request at a time, a time limit on
//! each stage, and a record of every frame sent.

use crate::codec::{
    self, CodecError, Cotp, MAX_SZL_BYTES, Request, S7Pdu, SetupReply, SzlList, SzlRead,
    TPKT_HEADER_LEN, Tsap,
};
use otsensor_core::Pacer;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout, timeout_at};

/// The most bytes one S7 PDU may take when reassembled from data TPDUs.
pub const MAX_S7_PDU: usize = 8192;
/// The most follow-up fragments one SZL answer may take, against looping devices.
pub const MAX_SZL_FRAGMENTS: usize = 32;

/// What the client was doing when something failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The COTP connection request to a TSAP.
    Cotp(Tsap),
    /// S7 Setup Communication.
    Setup,
    /// Reading an SZL list.
    Szl(SzlRead),
    /// Reading the next fragment of an SZL list.
    SzlNext(SzlRead),
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stage::Cotp(tsap) => write!(f, "the COTP connection request to TSAP {tsap}"),
            Stage::Setup => f.write_str("S7 Setup Communication"),
            Stage::Szl(szl) => write!(f, "the read of {szl}"),
            Stage::SzlNext(szl) => write!(f, "the read of the next fragment of {szl}"),
        }
    }
}

/// Why a connection or a request failed. The text says what, where and what to check.
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
    /// No (whole) answer within the time limit.
    #[error("{addr}: no answer to {stage} within {secs:.1} s")]
    Timeout {
        /// The address.
        addr: SocketAddr,
        /// What was asked.
        stage: Stage,
        /// The limit.
        secs: f64,
    },
    /// The device closed the connection.
    #[error("{addr}: connection closed by the device during {stage}")]
    Closed {
        /// The address.
        addr: SocketAddr,
        /// What was asked.
        stage: Stage,
    },
    /// A socket error while talking.
    #[error("{addr}: {stage}: {source}")]
    Io {
        /// The address.
        addr: SocketAddr,
        /// What was asked.
        stage: Stage,
        /// The system's reason.
        source: io::Error,
    },
    /// The reply is not valid ISO-on-TCP / S7comm.
    #[error("{addr}: bad reply to {stage}: {source}")]
    Codec {
        /// The address.
        addr: SocketAddr,
        /// What was asked.
        stage: Stage,
        /// What is wrong with it.
        source: CodecError,
    },
    /// The device refused the COTP connection with a disconnect request.
    #[error(
        "{addr}: COTP connection to TSAP {tsap} refused (disconnect reason {reason:#04x}, {}): no S7 service at that rack/slot, or no free connection resource",
        codec::disconnect_reason_name(*reason)
    )]
    CotpRefused {
        /// The address.
        addr: SocketAddr,
        /// The TSAP asked for.
        tsap: Tsap,
        /// The ISO 8073 disconnect reason.
        reason: u8,
    },
    /// The device rejected the COTP connection request with a TPDU error.
    #[error(
        "{addr}: COTP connection request to TSAP {tsap} rejected (TPDU error, cause {cause:#04x})"
    )]
    CotpRejected {
        /// The address.
        addr: SocketAddr,
        /// The TSAP asked for.
        tsap: Tsap,
        /// The reject cause.
        cause: u8,
    },
    /// The device refused S7 Setup Communication.
    #[error(
        "{addr}: S7 Setup Communication on TSAP {tsap} refused with error class {class:#04x}, code {code:#04x}"
    )]
    SetupRefused {
        /// The address.
        addr: SocketAddr,
        /// The TSAP connected to.
        tsap: Tsap,
        /// S7 error class.
        class: u8,
        /// S7 error code.
        code: u8,
    },
    /// The device answered an SZL read with an error.
    #[error(
        "{addr}: {szl} answered with an error: return code {return_code:#04x} ({}), parameter error {error_code:#06x} ({})",
        codec::return_code_name(*return_code),
        codec::userdata_error_name(*error_code)
    )]
    SzlError {
        /// The address.
        addr: SocketAddr,
        /// The list asked for.
        szl: SzlRead,
        /// The data item return code.
        return_code: u8,
        /// The userdata parameter error code.
        error_code: u16,
    },
    /// Every TSAP of the bounded list was refused.
    #[error(
        "{addr}: no S7 connection on any of {} TSAPs tried (is it an S7 CPU, reachable by rack/slot?): {}",
        attempts.len(),
        attempts.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    NoTsapAccepted {
        /// The address.
        addr: SocketAddr,
        /// Why each attempt failed, in order.
        attempts: Vec<ClientError>,
    },
}

impl ClientError {
    /// Whether the device refused this TSAP (or S7 on it), so the next TSAP is worth a try.
    pub fn tries_next_tsap(&self) -> bool {
        match self {
            ClientError::CotpRefused { .. }
            | ClientError::CotpRejected { .. }
            | ClientError::SetupRefused { .. } => true,
            ClientError::Closed { stage, .. } => matches!(stage, Stage::Cotp(_) | Stage::Setup),
            _ => false,
        }
    }

    /// Whether the connection can still be used after this error (the device said no to one
    /// request, and nothing else went wrong).
    pub fn connection_usable(&self) -> bool {
        matches!(self, ClientError::SzlError { .. })
    }
}

/// One S7comm connection to one TSAP of a device.
pub struct Client {
    stream: TcpStream,
    addr: SocketAddr,
    timeout: Duration,
    pacer: Arc<dyn Pacer>,
    tsap: Tsap,
    pdu_size: u16,
    next_ref: u16,
    sent: Vec<Vec<u8>>,
}

impl Client {
    /// Opens a TCP connection, a COTP connection to `tsap` and an S7 session, waiting on `pacer`
    /// before every packet (the SYN too). On failure the socket is closed before returning.
    pub async fn connect(
        addr: SocketAddr,
        tsap: Tsap,
        limit: Duration,
        pacer: Arc<dyn Pacer>,
    ) -> Result<Client, ClientError> {
        let mut sent = Vec::new();
        Client::connect_logged(addr, tsap, limit, pacer, &mut sent).await
    }

    async fn connect_logged(
        addr: SocketAddr,
        tsap: Tsap,
        limit: Duration,
        pacer: Arc<dyn Pacer>,
        sent: &mut Vec<Vec<u8>>,
    ) -> Result<Client, ClientError> {
        let stream = tcp_connect(addr, limit, pacer.as_ref()).await?;
        let mut client = Client {
            stream,
            addr,
            timeout: limit,
            pacer,
            tsap,
            pdu_size: codec::PROPOSED_PDU_SIZE,
            next_ref: 1,
            sent: std::mem::take(sent),
        };
        let opened = match client.cotp_connect().await {
            Ok(()) => client.setup_communication().await,
            Err(e) => Err(e),
        };
        match opened {
            Ok(()) => Ok(client),
            Err(e) => {
                *sent = std::mem::take(&mut client.sent);
                client.close().await;
                Err(e)
            }
        }
    }

    /// Tries each TSAP of `tsaps` in order, one connection at a time, each refused one closed
    /// before the next; stops at the first that works, or at the first failure that is not a
    /// refusal (nothing listens, silence, garbage).
    pub async fn connect_any(
        addr: SocketAddr,
        tsaps: &[Tsap],
        limit: Duration,
        pacer: Arc<dyn Pacer>,
    ) -> Result<Client, ClientError> {
        let mut sent = Vec::new();
        let mut attempts = Vec::new();
        for &tsap in tsaps {
            match Client::connect_logged(addr, tsap, limit, pacer.clone(), &mut sent).await {
                Ok(client) => return Ok(client),
                Err(e) if e.tries_next_tsap() => {
                    tracing::debug!(%addr, %tsap, error = %e, "TSAP refused, trying the next");
                    attempts.push(e);
                }
                Err(e) if attempts.is_empty() => return Err(e),
                Err(e) => {
                    attempts.push(e);
                    break;
                }
            }
        }
        Err(ClientError::NoTsapAccepted { addr, attempts })
    }

    /// The TSAP this connection reached.
    pub fn tsap(&self) -> Tsap {
        self.tsap
    }

    /// The PDU size the device agreed to.
    pub fn pdu_size(&self) -> u16 {
        self.pdu_size
    }

    /// Every frame sent on this connection (and on the refused attempts before it), in order:
    /// what the read-only test checks against [`codec::allowed_request`].
    pub fn sent(&self) -> &[Vec<u8>] {
        &self.sent
    }

    /// Changes the time limit of each stage.
    pub fn set_timeout(&mut self, limit: Duration) {
        self.timeout = limit;
    }

    async fn send(
        &mut self,
        request: &Request,
        stage: Stage,
        deadline: Instant,
    ) -> Result<(), ClientError> {
        self.pacer.ready().await;
        let frame = request.frame();
        let written = timeout_at(deadline, self.stream.write_all(&frame)).await;
        self.sent.push(frame);
        match written {
            Err(_) => Err(self.timeout_error(stage)),
            Ok(Err(e)) => Err(self.io_error(stage, e)),
            Ok(Ok(())) => Ok(()),
        }
    }

    async fn cotp_connect(&mut self) -> Result<(), ClientError> {
        let stage = Stage::Cotp(self.tsap);
        let deadline = Instant::now() + self.timeout;
        self.send(
            &Request::ConnectionRequest { called: self.tsap },
            stage,
            deadline,
        )
        .await?;
        let tpdu = match timeout_at(deadline, self.read_tpkt(stage)).await {
            Err(_) => return Err(self.timeout_error(stage)),
            Ok(r) => r?,
        };
        match codec::parse_cotp(&tpdu).map_err(|e| self.codec_error(stage, e))? {
            Cotp::ConnectionConfirm { .. } => Ok(()),
            Cotp::DisconnectRequest { reason } => Err(ClientError::CotpRefused {
                addr: self.addr,
                tsap: self.tsap,
                reason,
            }),
            Cotp::Error { cause } => Err(ClientError::CotpRejected {
                addr: self.addr,
                tsap: self.tsap,
                cause,
            }),
            Cotp::Data { .. } => Err(self.unexpected_cotp(stage, codec::COTP_DT)),
            Cotp::Other(code) => Err(self.unexpected_cotp(stage, code)),
        }
    }

    async fn setup_communication(&mut self) -> Result<(), ClientError> {
        let stage = Stage::Setup;
        let pdu_ref = self.take_ref();
        let pdu = self
            .exchange(&Request::SetupCommunication { pdu_ref }, pdu_ref, stage)
            .await?;
        let parsed = codec::parse_s7(&pdu).map_err(|e| self.codec_error(stage, e))?;
        match codec::parse_setup_reply(&parsed).map_err(|e| self.codec_error(stage, e))? {
            SetupReply::Accepted(setup) => {
                self.pdu_size = setup.pdu_size;
                Ok(())
            }
            SetupReply::Refused { class, code } => Err(ClientError::SetupRefused {
                addr: self.addr,
                tsap: self.tsap,
                class,
                code,
            }),
        }
    }

    fn take_ref(&mut self) -> u16 {
        let r = self.next_ref;
        self.next_ref = self.next_ref.wrapping_add(1).max(1);
        r
    }

    /// Sends one S7 request and returns the PDU answering it (stale answers are skipped).
    async fn exchange(
        &mut self,
        request: &Request,
        pdu_ref: u16,
        stage: Stage,
    ) -> Result<Vec<u8>, ClientError> {
        let deadline = Instant::now() + self.timeout;
        self.send(request, stage, deadline).await?;
        loop {
            let pdu = match timeout_at(deadline, self.read_s7_pdu(stage)).await {
                Err(_) => return Err(self.timeout_error(stage)),
                Ok(r) => r?,
            };
            let got = pdu.get(4..6).map(|b| u16::from_be_bytes([b[0], b[1]]));
            if got == Some(pdu_ref) {
                return Ok(pdu);
            }
            tracing::debug!(addr = %self.addr, ?got, want = pdu_ref, "stale S7 answer skipped");
        }
    }

    /// Reads data TPDUs until the end of one S7 PDU (bounded by [`MAX_S7_PDU`]).
    async fn read_s7_pdu(&mut self, stage: Stage) -> Result<Vec<u8>, ClientError> {
        let mut pdu = Vec::new();
        loop {
            let tpdu = self.read_tpkt(stage).await?;
            match codec::parse_cotp(&tpdu).map_err(|e| self.codec_error(stage, e))? {
                Cotp::Data { last, payload } => {
                    if pdu.len() + payload.len() > MAX_S7_PDU {
                        return Err(self.codec_error(
                            stage,
                            CodecError::Truncated {
                                what: "reassembled S7 PDU (above the limit)",
                                need: pdu.len() + payload.len(),
                                have: MAX_S7_PDU,
                            },
                        ));
                    }
                    pdu.extend_from_slice(payload);
                    if last {
                        return Ok(pdu);
                    }
                }
                Cotp::DisconnectRequest { .. } => {
                    return Err(ClientError::Closed {
                        addr: self.addr,
                        stage,
                    });
                }
                Cotp::ConnectionConfirm { .. } => {
                    return Err(self.unexpected_cotp(stage, codec::COTP_CC));
                }
                Cotp::Error { .. } => return Err(self.unexpected_cotp(stage, codec::COTP_ER)),
                Cotp::Other(code) => return Err(self.unexpected_cotp(stage, code)),
            }
        }
    }

    /// Reads one TPKT frame and returns its COTP TPDU.
    async fn read_tpkt(&mut self, stage: Stage) -> Result<Vec<u8>, ClientError> {
        let mut header = [0u8; TPKT_HEADER_LEN];
        self.read_exact(&mut header, stage).await?;
        let len = codec::parse_tpkt_header(&header).map_err(|e| self.codec_error(stage, e))?;
        let mut tpdu = vec![0u8; len];
        self.read_exact(&mut tpdu, stage).await?;
        Ok(tpdu)
    }

    async fn read_exact(&mut self, buf: &mut [u8], stage: Stage) -> Result<(), ClientError> {
        match self.stream.read_exact(buf).await {
            Ok(_) => Ok(()),
            Err(e) => Err(self.io_error(stage, e)),
        }
    }

    /// Reads one SZL list whole, following fragments (bounded by [`MAX_SZL_FRAGMENTS`] and
    /// [`MAX_SZL_BYTES`]). A short answer comes back flagged as partial, not as an error.
    pub async fn read_szl(&mut self, szl: SzlRead) -> Result<SzlList, ClientError> {
        let stage = Stage::Szl(szl);
        let pdu_ref = self.take_ref();
        let pdu = self
            .exchange(&Request::ReadSzl { pdu_ref, szl }, pdu_ref, stage)
            .await?;
        let (mut list, mut next) = {
            let parsed = codec::parse_s7(&pdu).map_err(|e| self.codec_error(stage, e))?;
            let frag = self.szl_fragment(&parsed, szl, stage)?;
            let list = SzlList::parse(frag.payload, frag.truncated)
                .map_err(|e| self.codec_error(stage, e))?;
            (list, frag.more.then_some(frag.sequence))
        };
        list.check_id(szl.id())
            .map_err(|e| self.codec_error(stage, e))?;
        let mut fragments = 0;
        while let Some(sequence) = next {
            if fragments == MAX_SZL_FRAGMENTS || list.data.len() >= MAX_SZL_BYTES {
                list.truncated = true;
                break;
            }
            fragments += 1;
            let stage = Stage::SzlNext(szl);
            let pdu_ref = self.take_ref();
            let pdu = self
                .exchange(&Request::ReadSzlNext { pdu_ref, sequence }, pdu_ref, stage)
                .await?;
            let parsed = codec::parse_s7(&pdu).map_err(|e| self.codec_error(stage, e))?;
            let frag = self.szl_fragment(&parsed, szl, stage)?;
            list.extend(frag.payload, frag.truncated);
            next = frag.more.then_some(frag.sequence);
        }
        Ok(list)
    }

    fn szl_fragment<'a>(
        &self,
        pdu: &S7Pdu<'a>,
        szl: SzlRead,
        stage: Stage,
    ) -> Result<codec::SzlFragment<'a>, ClientError> {
        let frag = codec::parse_szl_reply(pdu).map_err(|e| self.codec_error(stage, e))?;
        if frag.is_error() {
            return Err(ClientError::SzlError {
                addr: self.addr,
                szl,
                return_code: frag.return_code,
                error_code: frag.error_code,
            });
        }
        Ok(frag)
    }

    fn timeout_error(&self, stage: Stage) -> ClientError {
        ClientError::Timeout {
            addr: self.addr,
            stage,
            secs: self.timeout.as_secs_f64(),
        }
    }

    fn io_error(&self, stage: Stage, source: io::Error) -> ClientError {
        match source.kind() {
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionAborted => ClientError::Closed {
                addr: self.addr,
                stage,
            },
            _ => ClientError::Io {
                addr: self.addr,
                stage,
                source,
            },
        }
    }

    fn codec_error(&self, stage: Stage, source: CodecError) -> ClientError {
        ClientError::Codec {
            addr: self.addr,
            stage,
            source,
        }
    }

    fn unexpected_cotp(&self, stage: Stage, code: u8) -> ClientError {
        let expected = match stage {
            Stage::Cotp(_) => "a connection confirm",
            _ => "a data TPDU",
        };
        self.codec_error(
            stage,
            CodecError::UnexpectedCotp {
                code,
                name: codec::cotp_name(code),
                expected,
            },
        )
    }

    /// Closes the connection cleanly (FIN), waiting at most the time limit.
    pub async fn close(mut self) {
        let _ = timeout(self.timeout, self.stream.shutdown()).await;
    }
}

async fn tcp_connect(
    addr: SocketAddr,
    limit: Duration,
    pacer: &dyn Pacer,
) -> Result<TcpStream, ClientError> {
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
    Ok(stream)
}

//! The async WMI client on tokio: activation on TCP 135, then WQL queries on the dynamic port the
//! host names, each stage under its own time limit.
//!
//! Stages: connect to 135, bind (NTLM), activation (RemoteCreateInstance, or RemoteActivation on
//! old hosts), close 135; connect to the dynamic port, bind (NTLM), NTLMLogin to root\cimv2; then
//! ExecQuery + Next per query; at the end one RemRelease of every interface received. One
//! connection at a time; the pacer is awaited before every PDU (and before each connect).

use crate::dcom::{self, Activation, IID_IACTIVATION, IID_IREM_UNKNOWN, IID_IREMOTE_SCM_ACTIVATOR};
use crate::ndr::Uuid;
use crate::ntlm::{Credentials, Nonces, NtlmError};
use crate::rpc::{self, Association, AuthLevel, HEADER_LEN, RpcError, SyntaxId};
use crate::status::{
    ACCESS_DENIED, NCA_S_OP_RNG_ERROR, NCA_S_UNK_IF, RPC_SERVER_UNAVAILABLE, Status,
    WBEM_S_TIMEDOUT,
};
use crate::wmi::{self, IID_IENUM_WBEM_CLASS_OBJECT, IID_IWBEM_LEVEL1_LOGIN, IID_IWBEM_SERVICES};
use crate::wmio::{ClassCache, Object};
use otsensor_core::Pacer;
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout, timeout_at};

/// The stages of a WMI session, each under its own time limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// TCP connect to the endpoint mapper port (135).
    Connect,
    /// RPC bind (NTLM) on port 135.
    Bind,
    /// DCOM activation of WbemLevel1Login.
    Activation,
    /// TCP connect to the dynamic port the host named.
    DynamicConnect,
    /// RPC bind (NTLM) on the dynamic port.
    DynamicBind,
    /// IWbemLevel1Login::NTLMLogin.
    Login,
    /// ExecQuery and Next.
    Query,
    /// IRemUnknown::RemRelease.
    Release,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Connect => "TCP connect to the RPC endpoint mapper",
            Stage::Bind => "RPC bind to the DCOM activator",
            Stage::Activation => "DCOM activation of WbemLevel1Login",
            Stage::DynamicConnect => "TCP connect to the dynamic WMI port",
            Stage::DynamicBind => "RPC bind on the dynamic WMI port",
            Stage::Login => "WMI login to root\\cimv2 (NTLMLogin)",
            Stage::Query => "WQL query",
            Stage::Release => "RemRelease",
        })
    }
}

/// Why a WMI session failed. The text says what, where and what to check.
#[derive(Debug, thiserror::Error)]
pub enum WmiError {
    /// Nothing listens.
    #[error(
        "{addr}: connection refused at {stage} (nothing listens there: is the host's RPC service up, or a firewall rejecting?)"
    )]
    Refused {
        /// The address.
        addr: SocketAddr,
        /// The stage.
        stage: Stage,
    },
    /// No answer in time.
    #[error("{addr}: no answer within {secs:.1} s at {stage}{}", timeout_hint(*.stage))]
    Timeout {
        /// The address.
        addr: SocketAddr,
        /// The stage.
        stage: Stage,
        /// The limit.
        secs: f64,
    },
    /// The host closed the connection.
    #[error("{addr}: connection closed by the host at {stage}")]
    Closed {
        /// The address.
        addr: SocketAddr,
        /// The stage.
        stage: Stage,
    },
    /// A socket error.
    #[error("{addr}: {stage}: {source}")]
    Io {
        /// The address.
        addr: SocketAddr,
        /// The stage.
        stage: Stage,
        /// The system's reason.
        source: io::Error,
    },
    /// The NTLM credentials were refused.
    #[error(
        "{addr}: logon failure for {user}: the host refused the NTLM credentials (wrong user name, password or domain, or the account is locked or disabled)"
    )]
    LogonFailure {
        /// The address.
        addr: SocketAddr,
        /// The account, as `DOMAIN\user`.
        user: String,
    },
    /// Authenticated, but not allowed.
    #[error("{addr}: access denied at {stage} ({status}): {}", access_hint(*.stage))]
    AccessDenied {
        /// The address.
        addr: SocketAddr,
        /// The stage.
        stage: Stage,
        /// The status returned.
        status: Status,
    },
    /// The host's RPC server is unavailable.
    #[error(
        "{addr}: RPC server unavailable at {stage} ({status}): the DCOM/WMI service is not reachable there"
    )]
    Unavailable {
        /// The address.
        addr: SocketAddr,
        /// The stage.
        stage: Stage,
        /// The status returned.
        status: Status,
    },
    /// A call failed with an HRESULT or a fault.
    #[error("{addr}: {stage} failed: {status}")]
    Failed {
        /// The address.
        addr: SocketAddr,
        /// The stage.
        stage: Stage,
        /// The status.
        status: Status,
    },
    /// A reply's NTLM signature did not verify.
    #[error(
        "{addr}: a reply at {stage} failed its NTLM signature check (tampered traffic or a broken server); nothing from it was used"
    )]
    BadSignature {
        /// The address.
        addr: SocketAddr,
        /// The stage.
        stage: Stage,
    },
    /// The host's reply does not follow the protocol.
    #[error("{addr}: bad reply at {stage}: {detail}")]
    Protocol {
        /// The address.
        addr: SocketAddr,
        /// The stage.
        stage: Stage,
        /// What is wrong.
        detail: String,
    },
}

fn timeout_hint(stage: Stage) -> &'static str {
    match stage {
        Stage::DynamicConnect | Stage::DynamicBind => {
            ": the host named this port for WMI but it does not answer; a firewall between the sensor and the host likely blocks the dynamic RPC ports (TCP 49152-65535)"
        }
        Stage::Connect => ": the host is down, or a firewall drops TCP 135",
        _ => "",
    }
}

fn access_hint(stage: Stage) -> &'static str {
    match stage {
        Stage::Activation | Stage::Bind => {
            "the account needs DCOM Remote Launch and Remote Activation rights (member of Distributed COM Users or Administrators)"
        }
        _ => "the account needs Enable Account and Remote Enable on the WMI namespace root\\cimv2",
    }
}

impl WmiError {
    /// Whether nothing answered at all (for the probe log's outcome).
    pub fn is_no_response(&self) -> bool {
        matches!(
            self,
            WmiError::Timeout {
                stage: Stage::Connect,
                ..
            }
        )
    }

    /// Whether the connection to 135 was refused.
    pub fn is_refused(&self) -> bool {
        matches!(
            self,
            WmiError::Refused {
                stage: Stage::Connect,
                ..
            }
        )
    }

    /// Whether the stage failed with a status that ends the session (as opposed to one query).
    pub fn is_fatal(&self) -> bool {
        !matches!(
            self,
            WmiError::Failed {
                stage: Stage::Query,
                ..
            }
        )
    }
}

/// Time limits of the stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Each TCP connect.
    pub connect: Duration,
    /// Each bind, activation, login and release call.
    pub call: Duration,
    /// Each ExecQuery and Next call (providers can be slow).
    pub query: Duration,
}

impl Timeouts {
    /// `base` for connects and calls; queries get at least 30 s.
    pub fn from_base(base: Duration) -> Timeouts {
        Timeouts {
            connect: base,
            call: base,
            query: base.max(Duration::from_secs(30)),
        }
    }
}

/// How the client talks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// Authentication level of both connections (privacy by default).
    pub level: AuthLevel,
    /// Time limits.
    pub timeouts: Timeouts,
    /// The workstation name sent in NTLM.
    pub workstation: String,
    /// Objects asked per IEnumWbemClassObject::Next.
    pub batch: u32,
}

impl Default for ClientConfig {
    fn default() -> ClientConfig {
        ClientConfig {
            level: AuthLevel::Privacy,
            timeouts: Timeouts::from_base(Duration::from_secs(5)),
            workstation: "OTSENSOR".into(),
            batch: 64,
        }
    }
}

/// Traffic counters of a session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Every call made: (interface, opnum), in order.
    pub calls: Vec<(Uuid, u16)>,
    /// Requests that waited for a reply (bind, calls).
    pub round_trips: u32,
    /// PDUs sent.
    pub pdus_sent: u32,
    /// Bytes sent.
    pub bytes_sent: u64,
    /// Bytes received.
    pub bytes_received: u64,
}

/// One RPC connection: a socket and its association.
struct Conn {
    stream: TcpStream,
    addr: SocketAddr,
    assoc: Association,
    pacer: Arc<dyn Pacer>,
    stats: Stats,
}

impl Conn {
    async fn open(
        addr: SocketAddr,
        stage: Stage,
        limit: Duration,
        pacer: Arc<dyn Pacer>,
        assoc: Association,
        stats: Stats,
    ) -> Result<Conn, WmiError> {
        pacer.ready().await;
        let stream = match timeout(limit, TcpStream::connect(addr)).await {
            Err(_) => {
                return Err(WmiError::Timeout {
                    addr,
                    stage,
                    secs: limit.as_secs_f64(),
                });
            }
            Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => {
                return Err(WmiError::Refused { addr, stage });
            }
            Ok(Err(source)) => {
                return Err(WmiError::Io {
                    addr,
                    stage,
                    source,
                });
            }
            Ok(Ok(s)) => s,
        };
        let _ = stream.set_nodelay(true);
        Ok(Conn {
            stream,
            addr,
            assoc,
            pacer,
            stats,
        })
    }

    fn io_error(&self, stage: Stage, e: io::Error) -> WmiError {
        match e.kind() {
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe => WmiError::Closed {
                addr: self.addr,
                stage,
            },
            _ => WmiError::Io {
                addr: self.addr,
                stage,
                source: e,
            },
        }
    }

    async fn send(&mut self, pdu: &[u8], stage: Stage) -> Result<(), WmiError> {
        self.pacer.ready().await;
        self.stats.pdus_sent += 1;
        self.stats.bytes_sent += pdu.len() as u64;
        self.stream
            .write_all(pdu)
            .await
            .map_err(|e| self.io_error(stage, e))
    }

    async fn recv(&mut self, stage: Stage) -> Result<Vec<u8>, WmiError> {
        let mut head = [0u8; HEADER_LEN];
        self.stream
            .read_exact(&mut head)
            .await
            .map_err(|e| self.io_error(stage, e))?;
        let len = rpc::fragment_length(&head).map_err(|e| self.rpc_error(stage, e))?;
        let mut pdu = vec![0u8; len];
        pdu[..HEADER_LEN].copy_from_slice(&head);
        self.stream
            .read_exact(&mut pdu[HEADER_LEN..])
            .await
            .map_err(|e| self.io_error(stage, e))?;
        self.stats.bytes_received += len as u64;
        Ok(pdu)
    }

    fn rpc_error(&self, stage: Stage, e: RpcError) -> WmiError {
        rpc_to_wmi(self.addr, stage, e)
    }

    fn timeout_error(&self, stage: Stage, limit: Duration) -> WmiError {
        WmiError::Timeout {
            addr: self.addr,
            stage,
            secs: limit.as_secs_f64(),
        }
    }

    /// Bind with NTLM, then send the auth3.
    async fn bind(
        &mut self,
        syntaxes: &[SyntaxId],
        stage: Stage,
        limit: Duration,
    ) -> Result<(), WmiError> {
        let deadline = Instant::now() + limit;
        let pdu = self.assoc.bind(syntaxes);
        let ack = timeout_at(deadline, async {
            self.send(&pdu, stage).await?;
            self.recv(stage).await
        })
        .await
        .map_err(|_| self.timeout_error(stage, limit))??;
        self.stats.round_trips += 1;
        let auth3 = self
            .assoc
            .accept_bind_ack(&ack, Nonces::random())
            .map_err(|e| self.rpc_error(stage, e))?;
        timeout_at(deadline, self.send(&auth3, stage))
            .await
            .map_err(|_| self.timeout_error(stage, limit))?
    }

    /// One call: sends its fragments, reads the reply's fragments, returns the reply stub.
    async fn call(
        &mut self,
        (interface, opnum, object): (&SyntaxId, u16, Option<Uuid>),
        stub: &[u8],
        stage: Stage,
        limit: Duration,
    ) -> Result<Vec<u8>, WmiError> {
        if !ALLOWED_CALLS
            .iter()
            .any(|(i, op, _)| i == interface && *op == opnum)
        {
            return Err(WmiError::Protocol {
                addr: self.addr,
                stage,
                detail: format!(
                    "refused to send opnum {opnum} of {}: not a read-only call",
                    interface.uuid
                ),
            });
        }
        self.stats.calls.push((interface.uuid, opnum));
        let ctx = self
            .assoc
            .context_id(interface)
            .ok_or_else(|| WmiError::Protocol {
                addr: self.addr,
                stage,
                detail: format!("the host did not accept interface {}", interface.uuid),
            })?;
        let call = self
            .assoc
            .request(ctx, opnum, object, stub)
            .map_err(|e| self.rpc_error(stage, e))?;
        let deadline = Instant::now() + limit;
        let result = timeout_at(deadline, async {
            for f in &call.fragments {
                self.send(f, stage).await?;
            }
            let mut asm = self.assoc.reassembly(&call);
            loop {
                let pdu = self.recv(stage).await?;
                if let Some(stub) = self
                    .assoc
                    .accept_response(&mut asm, &pdu)
                    .map_err(|e| self.rpc_error(stage, e))?
                {
                    return Ok(stub);
                }
            }
        })
        .await
        .map_err(|_| self.timeout_error(stage, limit))?;
        self.stats.round_trips += 1;
        result
    }

    /// Closes the connection (FIN), waiting at most `limit`; returns its counters.
    async fn close(mut self, limit: Duration) -> Stats {
        let _ = timeout(limit, self.stream.shutdown()).await;
        self.stats
    }
}

fn rpc_to_wmi(addr: SocketAddr, stage: Stage, e: RpcError) -> WmiError {
    match e {
        RpcError::Fault(status) => status_error(addr, stage, status),
        RpcError::Ntlm(NtlmError::BadSignature { .. }) => WmiError::BadSignature { addr, stage },
        other => WmiError::Protocol {
            addr,
            stage,
            detail: other.to_string(),
        },
    }
}

fn status_error(addr: SocketAddr, stage: Stage, status: Status) -> WmiError {
    if status.is_access_denied() {
        WmiError::AccessDenied {
            addr,
            stage,
            status,
        }
    } else if matches!(status.0, 0x0000_06BA | RPC_SERVER_UNAVAILABLE) {
        WmiError::Unavailable {
            addr,
            stage,
            status,
        }
    } else {
        WmiError::Failed {
            addr,
            stage,
            status,
        }
    }
}

fn dcom_to_wmi(addr: SocketAddr, stage: Stage, e: impl Into<DcomOrNext>) -> WmiError {
    match e.into() {
        DcomOrNext::Dcom(dcom::DcomError::Failed { status, .. }) => {
            status_error(addr, stage, status)
        }
        DcomOrNext::Dcom(other) => WmiError::Protocol {
            addr,
            stage,
            detail: other.to_string(),
        },
        DcomOrNext::Next(wmi::NextError::Dcom(d)) => dcom_to_wmi(addr, stage, d),
        DcomOrNext::Next(other) => WmiError::Protocol {
            addr,
            stage,
            detail: other.to_string(),
        },
    }
}

enum DcomOrNext {
    Dcom(dcom::DcomError),
    Next(wmi::NextError),
}

impl From<dcom::DcomError> for DcomOrNext {
    fn from(e: dcom::DcomError) -> Self {
        DcomOrNext::Dcom(e)
    }
}

impl From<wmi::NextError> for DcomOrNext {
    fn from(e: wmi::NextError) -> Self {
        DcomOrNext::Next(e)
    }
}

/// Every call the client can make: interface, opnum, name. Nothing else is ever sent (besides
/// bind and auth3), and [`WmiClient::query`] sends WQL SELECTs only.
pub const ALLOWED_CALLS: [(SyntaxId, u16, &str); 6] = [
    (
        SCM,
        dcom::OPNUM_REMOTE_CREATE_INSTANCE,
        "IRemoteSCMActivator::RemoteCreateInstance",
    ),
    (
        ACTIVATION,
        dcom::OPNUM_REMOTE_ACTIVATION,
        "IActivation::RemoteActivation",
    ),
    (LOGIN, wmi::OPNUM_NTLM_LOGIN, "IWbemLevel1Login::NTLMLogin"),
    (SERVICES, wmi::OPNUM_EXEC_QUERY, "IWbemServices::ExecQuery"),
    (ENUM, wmi::OPNUM_NEXT, "IEnumWbemClassObject::Next"),
    (
        REM_UNKNOWN,
        dcom::OPNUM_REM_RELEASE,
        "IRemUnknown::RemRelease",
    ),
];

/// Whether `wql` is a query this client may send: a SELECT, never on Win32_Product (enumerating
/// it makes Windows Installer verify and repair every MSI package).
pub fn is_allowed_query(wql: &str) -> bool {
    let lower = wql.trim_start().to_ascii_lowercase();
    lower.starts_with("select ") && !lower.contains("win32_product")
}

/// Empty batches (WBEM_S_TIMEDOUT) tolerated in a row.
const MAX_EMPTY_BATCHES: u32 = 8;
/// Rows read from one query at most.
const MAX_ROWS: usize = 100_000;

const SCM: SyntaxId = SyntaxId::dcom(IID_IREMOTE_SCM_ACTIVATOR);
const ACTIVATION: SyntaxId = SyntaxId::dcom(IID_IACTIVATION);
const LOGIN: SyntaxId = SyntaxId::dcom(IID_IWBEM_LEVEL1_LOGIN);
const SERVICES: SyntaxId = SyntaxId::dcom(IID_IWBEM_SERVICES);
const ENUM: SyntaxId = SyntaxId::dcom(IID_IENUM_WBEM_CLASS_OBJECT);
const REM_UNKNOWN: SyntaxId = SyntaxId::dcom(IID_IREM_UNKNOWN);

/// A WMI session on one host, logged in to root\cimv2.
pub struct WmiClient {
    conn: Conn,
    config: ClientConfig,
    services: Uuid,
    rem_unknown: Uuid,
    refs: Vec<(Uuid, u32)>,
    cache: ClassCache,
    exporter: SocketAddr,
    level: AuthLevel,
}

impl fmt::Debug for WmiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WmiClient")
            .field("exporter", &self.exporter)
            .field("level", &self.level)
            .field("stats", &self.conn.stats)
            .finish_non_exhaustive()
    }
}

impl WmiClient {
    /// Activates WbemLevel1Login on `target` (endpoint mapper port `port`, normally 135), connects
    /// to the port the host names, and logs in to root\cimv2.
    pub async fn connect(
        target: IpAddr,
        port: u16,
        credentials: &Credentials,
        config: &ClientConfig,
        pacer: Arc<dyn Pacer>,
    ) -> Result<WmiClient, WmiError> {
        let t = config.timeouts;
        let scm_addr = SocketAddr::new(target, port);
        let assoc = Association::new(config.level, credentials.clone(), &config.workstation);
        let mut scm = Conn::open(
            scm_addr,
            Stage::Connect,
            t.connect,
            pacer.clone(),
            assoc,
            Stats::default(),
        )
        .await?;
        let activation = activate(&mut scm, credentials, t.call).await;
        let stats = scm.close(t.connect).await;
        let activation = activation?;
        let exporter =
            dcom::pick_binding(&activation.bindings, target).map_err(|e| WmiError::Protocol {
                addr: scm_addr,
                stage: Stage::Activation,
                detail: e.to_string(),
            })?;
        // the host's hint may ask for more than we were told to use, never less
        let hinted = match activation.authn_hint {
            6 => AuthLevel::Privacy,
            5 => AuthLevel::Integrity,
            _ => AuthLevel::Connect,
        };
        let level = config.level.max(hinted);
        tracing::debug!(%target, %exporter, ?level, "activated WbemLevel1Login");
        let assoc = Association::new(level, credentials.clone(), &config.workstation);
        let mut conn = Conn::open(
            exporter,
            Stage::DynamicConnect,
            t.connect,
            pacer,
            assoc,
            stats,
        )
        .await?;
        let logged_in = login(&mut conn, &activation, t.call).await;
        let services = match logged_in {
            Ok(s) => s,
            Err(e) => {
                conn.close(t.connect).await;
                return Err(e);
            }
        };
        Ok(WmiClient {
            conn,
            config: config.clone(),
            services: services.ipid,
            rem_unknown: activation.rem_unknown,
            refs: vec![
                (activation.interface.ipid, activation.interface.public_refs),
                (services.ipid, services.public_refs),
            ],
            cache: ClassCache::new(),
            exporter,
            level,
        })
    }

    /// Where the WMI object exporter was reached.
    pub fn exporter(&self) -> SocketAddr {
        self.exporter
    }

    /// The authentication level in use on the WMI connection.
    pub fn level(&self) -> AuthLevel {
        self.level
    }

    /// Traffic so far.
    pub fn stats(&self) -> &Stats {
        &self.conn.stats
    }

    /// Runs a WQL query and reads every result (Next in batches until WBEM_S_FALSE).
    pub async fn query(&mut self, wql: &str) -> Result<Vec<Object>, WmiError> {
        let limit = self.config.timeouts.query;
        let addr = self.conn.addr;
        if !is_allowed_query(wql) {
            return Err(WmiError::Protocol {
                addr,
                stage: Stage::Query,
                detail: format!("refused to send {wql:?}: only SELECTs, never on Win32_Product"),
            });
        }
        let stub = self
            .conn
            .call(
                (&SERVICES, wmi::OPNUM_EXEC_QUERY, Some(self.services)),
                &wmi::exec_query(&Uuid::random(), wql),
                Stage::Query,
                limit,
            )
            .await?;
        let enumerator =
            wmi::parse_exec_query(&stub).map_err(|e| dcom_to_wmi(addr, Stage::Query, e))?;
        self.refs.push((enumerator.ipid, enumerator.public_refs));
        let mut rows = Vec::new();
        let mut empty_batches = 0;
        loop {
            let stub = self
                .conn
                .call(
                    (&ENUM, wmi::OPNUM_NEXT, Some(enumerator.ipid)),
                    &wmi::next(&Uuid::random(), wmi::WBEM_INFINITE, self.config.batch),
                    Stage::Query,
                    limit,
                )
                .await?;
            let batch = wmi::parse_next(&stub, &mut self.cache)
                .map_err(|e| dcom_to_wmi(addr, Stage::Query, e))?;
            let got = batch.objects.len();
            let last = batch.is_last();
            let timed_out = batch.status.0 == WBEM_S_TIMEDOUT;
            rows.extend(batch.objects);
            if last || (got == 0 && !timed_out) {
                return Ok(rows);
            }
            empty_batches = if got == 0 { empty_batches + 1 } else { 0 };
            if empty_batches > MAX_EMPTY_BATCHES || rows.len() > MAX_ROWS {
                return Err(WmiError::Protocol {
                    addr,
                    stage: Stage::Query,
                    detail: format!(
                        "the enumeration does not end ({} rows, {empty_batches} empty batches)",
                        rows.len()
                    ),
                });
            }
        }
    }

    /// Releases every interface received (one RemRelease) and closes the connection.
    pub async fn close(mut self) -> Result<Stats, WmiError> {
        let result = self.release().await;
        let stats = self.conn.close(self.config.timeouts.connect).await;
        result.map(|_| stats)
    }

    async fn release(&mut self) -> Result<(), WmiError> {
        if self.refs.is_empty() {
            return Ok(());
        }
        let stub = dcom::rem_release(&Uuid::random(), &self.refs);
        let reply = self
            .conn
            .call(
                (
                    &REM_UNKNOWN,
                    dcom::OPNUM_REM_RELEASE,
                    Some(self.rem_unknown),
                ),
                &stub,
                Stage::Release,
                self.config.timeouts.call,
            )
            .await?;
        self.refs.clear();
        dcom::parse_rem_release(&reply).map_err(|e| dcom_to_wmi(self.conn.addr, Stage::Release, e))
    }
}

/// Binds to the activator and activates WbemLevel1Login (IRemoteSCMActivator, else IActivation).
async fn activate(
    scm: &mut Conn,
    credentials: &Credentials,
    limit: Duration,
) -> Result<Activation, WmiError> {
    scm.bind(&[SCM, ACTIVATION], Stage::Bind, limit).await?;
    let clsid = wmi::CLSID_WBEM_LEVEL1_LOGIN;
    let iid = wmi::IID_IWBEM_LEVEL1_LOGIN;
    let has_scm = scm.assoc.context_id(&SCM).is_some();
    let first = if has_scm {
        scm.call(
            (&SCM, dcom::OPNUM_REMOTE_CREATE_INSTANCE, None),
            &dcom::remote_create_instance(&Uuid::random(), &clsid, &iid),
            Stage::Activation,
            limit,
        )
        .await
        .map(Some)
    } else {
        Ok(None)
    };
    let stub = match first {
        Ok(Some(stub)) => {
            return dcom::parse_remote_create_instance(&stub)
                .map_err(|e| dcom_to_wmi(scm.addr, Stage::Activation, e));
        }
        // the first authenticated call is where Windows refuses bad NTLM credentials
        Err(WmiError::AccessDenied { status, .. }) if status.0 == ACCESS_DENIED => {
            return Err(logon_failure(scm.addr, credentials));
        }
        Err(WmiError::Failed { status, .. })
            if matches!(status.0, NCA_S_UNK_IF | NCA_S_OP_RNG_ERROR | 0x6d1)
                && scm.assoc.context_id(&ACTIVATION).is_some() =>
        {
            tracing::debug!(addr = %scm.addr, %status, "no IRemoteSCMActivator: falling back to IActivation");
            activation_call(scm, &clsid, &iid, limit).await?
        }
        Err(e) => return Err(e),
        Ok(None) => match activation_call(scm, &clsid, &iid, limit).await {
            Err(WmiError::AccessDenied { status, .. }) if status.0 == ACCESS_DENIED => {
                return Err(logon_failure(scm.addr, credentials));
            }
            other => other?,
        },
    };
    dcom::parse_remote_activation(&stub).map_err(|e| dcom_to_wmi(scm.addr, Stage::Activation, e))
}

async fn activation_call(
    scm: &mut Conn,
    clsid: &Uuid,
    iid: &Uuid,
    limit: Duration,
) -> Result<Vec<u8>, WmiError> {
    scm.call(
        (&ACTIVATION, dcom::OPNUM_REMOTE_ACTIVATION, None),
        &dcom::remote_activation(&Uuid::random(), clsid, iid),
        Stage::Activation,
        limit,
    )
    .await
}

fn logon_failure(addr: SocketAddr, c: &Credentials) -> WmiError {
    let user = if c.domain.is_empty() {
        c.user.clone()
    } else {
        format!("{}\\{}", c.domain, c.user)
    };
    WmiError::LogonFailure { addr, user }
}

/// Binds on the exporter's port and logs in to root\cimv2: the IWbemServices reference.
async fn login(
    conn: &mut Conn,
    activation: &Activation,
    limit: Duration,
) -> Result<dcom::StdObjRef, WmiError> {
    conn.bind(
        &[LOGIN, SERVICES, ENUM, REM_UNKNOWN],
        Stage::DynamicBind,
        limit,
    )
    .await?;
    let stub = conn
        .call(
            (
                &LOGIN,
                wmi::OPNUM_NTLM_LOGIN,
                Some(activation.interface.ipid),
            ),
            &wmi::ntlm_login(&Uuid::random(), wmi::NAMESPACE),
            Stage::Login,
            limit,
        )
        .await?;
    wmi::parse_ntlm_login(&stub).map_err(|e| dcom_to_wmi(conn.addr, Stage::Login, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_selects_off_win32_product_may_be_sent() {
        assert!(is_allowed_query("SELECT Name FROM Win32_BIOS"));
        assert!(is_allowed_query(
            "  select * from Win32_QuickFixEngineering"
        ));
        assert!(!is_allowed_query("SELECT * FROM Win32_Product"));
        assert!(!is_allowed_query("DELETE FROM Win32_Process"));
        assert!(!is_allowed_query("ASSOCIATORS OF {Win32_Process}"));
    }

    #[test]
    fn the_allowed_calls_are_the_documented_requests() {
        for (_, opnum, name) in ALLOWED_CALLS {
            assert!(
                crate::probe::REQUESTS
                    .iter()
                    .any(|r| r.contains(name) && r.contains(&format!("opnum {opnum}"))),
                "{name} opnum {opnum} is not in the documented list"
            );
        }
    }
}

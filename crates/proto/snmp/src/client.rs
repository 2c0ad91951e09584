//! A thin async SNMP client over UDP: one agent, one request at a time, paced, with a time
//! limit and retries on every request, SNMPv3 engine discovery and time synchronization.
//!
//! Errors say what failed and what to check; an SNMPv3 Report is turned into the error it
//! stands for (unknown user, wrong authentication password, wrong privacy password, ...).

use crate::codec::{
    CodecError, ErrorStatus, Pdu, PduKind, Request, Value, Version, emit_community, parse_community,
};
use crate::oid::Oid;
use crate::usm::{
    AuthProtocol, LocalizedKeys, MasterKeys, PrivProtocol, Secret, SecurityLevel, UsmUser,
};
use crate::v3::{
    self, FLAG_AUTH, FLAG_PRIV, FLAG_REPORTABLE, MsgData, OutMessage, Scope, UsmParams,
};
use otsensor_core::Pacer;
use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::time::{Instant, timeout_at};

/// usmStatsUnsupportedSecLevels.0
pub const USM_STATS_UNSUPPORTED_SEC_LEVELS: &[u32] = &[1, 3, 6, 1, 6, 3, 15, 1, 1, 1, 0];
/// usmStatsNotInTimeWindows.0
pub const USM_STATS_NOT_IN_TIME_WINDOWS: &[u32] = &[1, 3, 6, 1, 6, 3, 15, 1, 1, 2, 0];
/// usmStatsUnknownUserNames.0
pub const USM_STATS_UNKNOWN_USER_NAMES: &[u32] = &[1, 3, 6, 1, 6, 3, 15, 1, 1, 3, 0];
/// usmStatsUnknownEngineIDs.0
pub const USM_STATS_UNKNOWN_ENGINE_IDS: &[u32] = &[1, 3, 6, 1, 6, 3, 15, 1, 1, 4, 0];
/// usmStatsWrongDigests.0
pub const USM_STATS_WRONG_DIGESTS: &[u32] = &[1, 3, 6, 1, 6, 3, 15, 1, 1, 5, 0];
/// usmStatsDecryptionErrors.0
pub const USM_STATS_DECRYPTION_ERRORS: &[u32] = &[1, 3, 6, 1, 6, 3, 15, 1, 1, 6, 0];
/// snmpUnavailableContexts.0
pub const SNMP_UNAVAILABLE_CONTEXTS: &[u32] = &[1, 3, 6, 1, 6, 3, 12, 1, 4, 0];
/// snmpUnknownContexts.0
pub const SNMP_UNKNOWN_CONTEXTS: &[u32] = &[1, 3, 6, 1, 6, 3, 12, 1, 5, 0];
/// sysUpTime.0, asked at authNoPriv to tell a wrong privacy password from a silent agent.
const SYS_UP_TIME: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 3, 0];

/// Largest datagram read.
const RECV_BUFFER: usize = 65_535;

/// How the client authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Security {
    /// SNMPv1 or SNMPv2c with a community.
    Community {
        /// V1 or V2c.
        version: Version,
        /// The community.
        community: Secret,
    },
    /// SNMPv3 with the USM.
    Usm {
        /// The user and its passwords.
        user: UsmUser,
        /// The context name (empty: the default context).
        context: String,
    },
}

impl Security {
    /// The message version.
    pub fn version(&self) -> Version {
        match self {
            Security::Community { version, .. } => *version,
            Security::Usm { .. } => Version::V3,
        }
    }
}

/// Settings of a client.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Version and credentials.
    pub security: Security,
    /// Time limit of each attempt of each request.
    pub timeout: Duration,
    /// Attempts after the first when nothing answers.
    pub retries: u32,
}

/// What the client sent and received.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Datagrams sent (requests and their retries, discovery included).
    pub sent: u64,
    /// Responses and reports accepted.
    pub received: u64,
    /// Attempts that timed out.
    pub timeouts: u64,
}

/// Why a request failed. The text says what, where and what to check.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The local UDP socket could not be opened.
    #[error("{addr}: cannot open a UDP socket: {source}")]
    Socket {
        /// The agent.
        addr: SocketAddr,
        /// The system's reason.
        source: io::Error,
    },
    /// Sending or receiving failed.
    #[error("{addr}: {request}: {source}")]
    Io {
        /// The agent.
        addr: SocketAddr,
        /// What was asked.
        request: &'static str,
        /// The system's reason.
        source: io::Error,
    },
    /// The agent's host said nothing listens on its UDP port (ICMP port unreachable).
    #[error(
        "{addr}: {request}: UDP port unreachable (the host answered that nothing listens there: check the address, the agent's port and that the SNMP agent runs)"
    )]
    PortUnreachable {
        /// The agent.
        addr: SocketAddr,
        /// What was asked.
        request: &'static str,
    },
    /// Nothing answered.
    #[error(
        "{addr}: no answer to {version} {request} within {secs:.1} s ({attempts} attempts): {hint}"
    )]
    Timeout {
        /// The agent.
        addr: SocketAddr,
        /// The SNMP version.
        version: &'static str,
        /// What was asked.
        request: &'static str,
        /// The limit of each attempt.
        secs: f64,
        /// Attempts made.
        attempts: u32,
        /// What to check.
        hint: &'static str,
    },
    /// The request could not be encoded.
    #[error("{addr}: cannot encode {request}: {source}")]
    Encode {
        /// The agent.
        addr: SocketAddr,
        /// What was asked.
        request: &'static str,
        /// Why.
        source: CodecError,
    },
    /// usmStatsUnknownUserNames.
    #[error(
        "{addr}: SNMPv3 user {user:?} is unknown to the agent (usmStatsUnknownUserNames): check the user name"
    )]
    UnknownUser {
        /// The agent.
        addr: SocketAddr,
        /// The user.
        user: String,
    },
    /// usmStatsWrongDigests.
    #[error(
        "{addr}: the agent rejected the authentication of user {user:?} (usmStatsWrongDigests): wrong authentication password or protocol ({auth} was used)"
    )]
    WrongDigest {
        /// The agent.
        addr: SocketAddr,
        /// The user.
        user: String,
        /// The protocol used.
        auth: AuthProtocol,
    },
    /// usmStatsDecryptionErrors.
    #[error(
        "{addr}: the agent could not decrypt the request of user {user:?} (usmStatsDecryptionErrors): wrong privacy password or protocol ({privacy} was used)"
    )]
    DecryptionError {
        /// The agent.
        addr: SocketAddr,
        /// The user.
        user: String,
        /// The protocol used.
        privacy: PrivProtocol,
    },
    /// No answer at authPriv, while the same user and authentication password are answered at
    /// authNoPriv: the agent drops requests it cannot decrypt (net-snmp does).
    #[error(
        "{addr}: no answer to {request} at authPriv, but the agent accepts user {user:?} with this authentication password at authNoPriv: wrong privacy password or protocol ({privacy} was used){}",
        context.as_ref().map(|c| format!(", or the agent has no context {c:?}")).unwrap_or_default()
    )]
    PrivacyRejected {
        /// The agent.
        addr: SocketAddr,
        /// What was asked.
        request: &'static str,
        /// The user.
        user: String,
        /// The protocol used.
        privacy: PrivProtocol,
        /// The context, when it may be the cause instead (the authNoPriv check could not tell).
        context: Option<String>,
    },
    /// The agent answered, but refused the request (authorizationError).
    #[error(
        "{addr}: the agent refused {request}: {status}: the community or user may not read these objects at this security level (check the agent's access rules and views)"
    )]
    AccessDenied {
        /// The agent.
        addr: SocketAddr,
        /// What was asked.
        request: &'static str,
        /// The error-status.
        status: ErrorStatus,
    },
    /// The agent's answer did not decrypt.
    #[error(
        "{addr}: the agent's encrypted answer does not decrypt with {privacy}: wrong privacy password or protocol"
    )]
    ResponseDecrypt {
        /// The agent.
        addr: SocketAddr,
        /// The protocol used.
        privacy: PrivProtocol,
    },
    /// usmStatsUnsupportedSecLevels.
    #[error(
        "{addr}: the agent does not support {level} for user {user:?} (usmStatsUnsupportedSecLevels): use the security level the user is configured with"
    )]
    UnsupportedSecurityLevel {
        /// The agent.
        addr: SocketAddr,
        /// The user.
        user: String,
        /// The level used.
        level: SecurityLevel,
    },
    /// snmpUnknownContexts / snmpUnavailableContexts.
    #[error("{addr}: the agent has no SNMPv3 context {context:?}: check the context name")]
    UnknownContext {
        /// The agent.
        addr: SocketAddr,
        /// The context.
        context: String,
    },
    /// The agent keeps reporting the request outside its time window.
    #[error(
        "{addr}: the agent keeps reporting the request outside its time window (usmStatsNotInTimeWindows) after resynchronization"
    )]
    NotInTimeWindow {
        /// The agent.
        addr: SocketAddr,
    },
    /// Another Report.
    #[error("{addr}: the agent answered {request} with a Report {oid}")]
    Report {
        /// The agent.
        addr: SocketAddr,
        /// What was asked.
        request: &'static str,
        /// The report's first OID.
        oid: String,
    },
    /// SNMPv3 engine discovery failed.
    #[error("{addr}: SNMPv3 engine discovery failed: {detail}")]
    Discovery {
        /// The agent.
        addr: SocketAddr,
        /// What went wrong.
        detail: String,
    },
    /// The settings cannot work.
    #[error("{0}")]
    Config(String),
}

impl ClientError {
    /// True when nothing answered at all.
    pub fn is_timeout(&self) -> bool {
        matches!(self, ClientError::Timeout { .. })
    }

    /// True when the host said nothing listens on the agent's port.
    pub fn is_port_unreachable(&self) -> bool {
        matches!(self, ClientError::PortUnreachable { .. })
    }

    /// True for errors that a different credential would fix (the agent answered).
    pub fn is_credentials(&self) -> bool {
        matches!(
            self,
            ClientError::UnknownUser { .. }
                | ClientError::AccessDenied { .. }
                | ClientError::WrongDigest { .. }
                | ClientError::DecryptionError { .. }
                | ClientError::PrivacyRejected { .. }
                | ClientError::ResponseDecrypt { .. }
                | ClientError::UnsupportedSecurityLevel { .. }
                | ClientError::UnknownContext { .. }
        )
    }
}

/// What the client knows of the agent's SNMPv3 engine.
struct Engine {
    id: Vec<u8>,
    boots: u32,
    time: u32,
    synced: Instant,
    keys: LocalizedKeys,
}

impl Engine {
    fn time_now(&self) -> u32 {
        let elapsed = u32::try_from(self.synced.elapsed().as_secs()).unwrap_or(u32::MAX);
        self.time.saturating_add(elapsed)
    }
}

/// SNMPv3 state: the user's master keys, the engine once discovered, the salt counter.
struct UsmState {
    user: UsmUser,
    context: String,
    master: MasterKeys,
    engine: Option<Engine>,
    salt: u64,
}

/// An accepted answer: a response PDU, or a report with whether it was authenticated.
enum Answer {
    Response(Pdu),
    Report {
        pdu: Pdu,
        authenticated: bool,
        usm: UsmParams,
    },
}

/// One SNMP agent.
pub struct Client {
    socket: UdpSocket,
    addr: SocketAddr,
    security: Security,
    timeout: Duration,
    retries: u32,
    pacer: Arc<dyn Pacer>,
    next_id: i32,
    usm: Option<UsmState>,
    stats: Stats,
    /// Response PDUs received (not Reports): the agent has answered requests.
    responses: u64,
    buf: Vec<u8>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("addr", &self.addr)
            .field("version", &self.security.version())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Opens a UDP socket for `addr` (bound on loopback for a loopback agent) and checks the
    /// settings. Nothing is sent yet.
    pub async fn open(
        addr: SocketAddr,
        config: ClientConfig,
        pacer: Arc<dyn Pacer>,
    ) -> Result<Client, ClientError> {
        let usm = match &config.security {
            Security::Usm { user, context } => {
                user.validate().map_err(ClientError::Config)?;
                Some(UsmState {
                    master: user.master_keys(),
                    user: user.clone(),
                    context: context.clone(),
                    engine: None,
                    salt: random_u64(),
                })
            }
            Security::Community { version, .. } if *version == Version::V3 => {
                return Err(ClientError::Config(
                    "a community is for SNMPv1 and v2c; SNMPv3 needs a user".into(),
                ));
            }
            Security::Community { .. } => None,
        };
        let local = local_address(addr.ip());
        let socket = UdpSocket::bind(SocketAddr::new(local, 0))
            .await
            .map_err(|source| ClientError::Socket { addr, source })?;
        socket
            .connect(addr)
            .await
            .map_err(|source| ClientError::Socket { addr, source })?;
        Ok(Client {
            socket,
            addr,
            security: config.security,
            timeout: config.timeout,
            retries: config.retries,
            pacer,
            next_id: (random_u64() as i32 & 0x3FFF_FFFF).max(1),
            usm,
            stats: Stats::default(),
            responses: 0,
            buf: vec![0u8; RECV_BUFFER],
        })
    }

    /// The agent's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The SNMP version spoken.
    pub fn version(&self) -> Version {
        self.security.version()
    }

    /// What was sent and received so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The time limit of each attempt.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Attempts after the first when nothing answers.
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// Changes the time limit of each attempt and the number of retries.
    pub fn set_timing(&mut self, timeout: Duration, retries: u32) {
        self.timeout = timeout;
        self.retries = retries;
    }

    /// The community (SNMPv1/v2c), if any.
    pub fn community(&self) -> Option<&Secret> {
        match &self.security {
            Security::Community { community, .. } => Some(community),
            Security::Usm { .. } => None,
        }
    }

    /// Uses another community from now on (Cisco's community@vlan indexing).
    pub fn set_community(&mut self, new: Secret) {
        if let Security::Community { community, .. } = &mut self.security {
            *community = new;
        }
    }

    /// The SNMPv3 context name, if SNMPv3.
    pub fn context(&self) -> Option<&str> {
        self.usm.as_ref().map(|u| u.context.as_str())
    }

    /// Uses another SNMPv3 context from now on (per-VLAN contexts).
    pub fn set_context(&mut self, context: String) {
        if let Some(usm) = &mut self.usm {
            usm.context = context;
        }
    }

    /// The SNMPv3 engine ID, once discovered.
    pub fn engine_id(&self) -> Option<&[u8]> {
        self.usm
            .as_ref()
            .and_then(|u| u.engine.as_ref())
            .map(|e| e.id.as_slice())
    }

    /// Sends `request` and returns the Response PDU (whose error-status the caller reads).
    pub async fn request(&mut self, request: &Request) -> Result<Pdu, ClientError> {
        let started = Instant::now();
        let result = if self.usm.is_none() {
            self.request_community(request).await
        } else {
            self.request_v3(request).await
        };
        tracing::trace!(
            addr = %self.addr,
            request = request.name(),
            names = request.oids().len(),
            first = %request.oids().first().map(ToString::to_string).unwrap_or_default(),
            secs = started.elapsed().as_secs_f64(),
            varbinds = result.as_ref().map(|p| p.varbinds.len()).unwrap_or(0),
            ok = result.is_ok(),
            "request"
        );
        result
    }

    /// GET of `oids`, each answer by OID. SNMPv1's noSuchName drops the named OID and asks
    /// again for the rest; SNMPv2 exceptions come back as their values.
    pub async fn get(&mut self, oids: &[Oid]) -> Result<BTreeMap<Oid, Value>, ClientError> {
        let mut pending: Vec<Oid> = oids.to_vec();
        let mut out = BTreeMap::new();
        while !pending.is_empty() {
            let pdu = self.request(&Request::Get(pending.clone())).await?;
            match pdu.error_status {
                ErrorStatus::NoError => {
                    for vb in pdu.varbinds {
                        out.insert(vb.oid, vb.value);
                    }
                    return Ok(out);
                }
                ErrorStatus::NoSuchName | ErrorStatus::GenErr | ErrorStatus::NoAccess
                    if pdu.error_index >= 1 && pdu.error_index as usize <= pending.len() =>
                {
                    let gone = pending.remove(pdu.error_index as usize - 1);
                    out.insert(gone, Value::NoSuchObject);
                }
                ErrorStatus::AuthorizationError => {
                    return Err(ClientError::AccessDenied {
                        addr: self.addr,
                        request: "GetRequest",
                        status: pdu.error_status,
                    });
                }
                ErrorStatus::TooBig if pending.len() > 1 => {
                    // ask one at a time
                    let half = pending.split_off(pending.len() / 2);
                    let first = Box::pin(self.get(&pending)).await?;
                    let second = Box::pin(self.get(&half)).await?;
                    out.extend(first);
                    out.extend(second);
                    return Ok(out);
                }
                _ => {
                    for oid in pending {
                        out.insert(oid, Value::NoSuchObject);
                    }
                    return Ok(out);
                }
            }
        }
        Ok(out)
    }

    // ---- SNMPv1 / v2c ----

    async fn request_community(&mut self, request: &Request) -> Result<Pdu, ClientError> {
        let (version, community) = match &self.security {
            Security::Community { version, community } => {
                (*version, community.expose().as_bytes().to_vec())
            }
            Security::Usm { .. } => return Err(internal("community request without a community")),
        };
        let name = request.name();
        let attempts = self.retries + 1;
        let mut ids = Vec::new();
        for _ in 0..attempts {
            let id = self.take_id();
            ids.push(id);
            let bytes = emit_community(version, &community, id, request).map_err(|source| {
                ClientError::Encode {
                    addr: self.addr,
                    request: name,
                    source,
                }
            })?;
            self.send(&bytes, name).await?;
            let deadline = Instant::now() + self.timeout;
            if let Some(pdu) = self.await_community(&ids, deadline, name).await? {
                return Ok(pdu);
            }
        }
        Err(self.timeout_error(name, attempts, community_hint()))
    }

    async fn await_community(
        &mut self,
        ids: &[i32],
        deadline: Instant,
        name: &'static str,
    ) -> Result<Option<Pdu>, ClientError> {
        loop {
            let Some(len) = self.receive(deadline, name).await? else {
                return Ok(None);
            };
            let data = self.buf.get(..len).unwrap_or_default();
            match parse_community(data) {
                Ok(msg)
                    if ids.contains(&msg.pdu.request_id) && msg.pdu.kind == PduKind::Response =>
                {
                    self.stats.received += 1;
                    self.responses += 1;
                    return Ok(Some(msg.pdu));
                }
                Ok(msg) => {
                    tracing::debug!(addr = %self.addr, id = msg.pdu.request_id, "stale or foreign response skipped");
                }
                Err(e) => {
                    tracing::debug!(addr = %self.addr, error = %e, "undecodable datagram skipped");
                }
            }
        }
    }

    // ---- SNMPv3 ----

    async fn request_v3(&mut self, request: &Request) -> Result<Pdu, ClientError> {
        if self.usm.as_ref().is_some_and(|u| u.engine.is_none()) {
            self.discover().await?;
        }
        let mut resynced = false;
        let mut rediscovered = false;
        loop {
            let answer = match self.exchange_v3(request, true).await {
                Ok(a) => a,
                Err(e) if e.is_timeout() => return Err(self.diagnose_timeout(request, e).await),
                Err(e) => return Err(e),
            };
            match answer {
                Answer::Response(pdu) => {
                    self.responses += 1;
                    return Ok(pdu);
                }
                Answer::Report {
                    pdu,
                    authenticated,
                    usm,
                } => {
                    let oid = pdu.varbinds.first().map(|vb| vb.oid.clone());
                    let oid_slice = oid.as_ref().map(|o| o.as_slice()).unwrap_or_default();
                    if oid_slice == USM_STATS_NOT_IN_TIME_WINDOWS && !resynced {
                        resynced = true;
                        if authenticated {
                            self.resync(&usm);
                        }
                        continue;
                    }
                    if oid_slice == USM_STATS_UNKNOWN_ENGINE_IDS && !rediscovered {
                        rediscovered = true;
                        self.discover().await?;
                        continue;
                    }
                    return Err(self.report_error(request, oid_slice));
                }
            }
        }
    }

    /// Engine discovery (RFC 3414 section 4): an empty noAuthNoPriv GET that the agent
    /// answers with a usmStatsUnknownEngineIDs Report naming its engine ID, boots and time.
    async fn discover(&mut self) -> Result<(), ClientError> {
        let answer = self.exchange_v3(&Request::Get(Vec::new()), false).await?;
        let (pdu, usm) = match answer {
            Answer::Report { pdu, usm, .. } => (pdu, usm),
            Answer::Response(pdu) => {
                return Err(ClientError::Discovery {
                    addr: self.addr,
                    detail: format!(
                        "the agent answered the discovery request with a Response ({}) instead of a Report",
                        pdu.error_status
                    ),
                });
            }
        };
        let first = pdu.varbinds.first().map(|vb| vb.oid.to_string());
        if usm.engine_id.is_empty() {
            return Err(ClientError::Discovery {
                addr: self.addr,
                detail: format!(
                    "the Report ({}) names no engine ID",
                    first.unwrap_or_else(|| "no OID".into())
                ),
            });
        }
        let Some(state) = self.usm.as_mut() else {
            return Ok(());
        };
        let keys = state.master.localize(&usm.engine_id);
        tracing::debug!(addr = %self.addr, boots = usm.boots, time = usm.time, "SNMPv3 engine discovered");
        state.engine = Some(Engine {
            id: usm.engine_id,
            boots: usm.boots,
            time: usm.time,
            synced: Instant::now(),
            keys,
        });
        Ok(())
    }

    fn resync(&mut self, usm: &UsmParams) {
        if let Some(engine) = self.usm.as_mut().and_then(|u| u.engine.as_mut()) {
            engine.boots = usm.boots;
            engine.time = usm.time;
            engine.synced = Instant::now();
        }
    }

    /// A wrong privacy password makes some agents (net-snmp) drop the request silently. When
    /// an authPriv request times out after a successful discovery, one authNoPriv GET of
    /// sysUpTime.0 tells the two apart: an authenticated answer proves user and
    /// authentication password right, so the privacy password is wrong.
    async fn diagnose_timeout(&mut self, request: &Request, timeout: ClientError) -> ClientError {
        let Some(state) = &self.usm else {
            return timeout;
        };
        let Some((privacy, _)) = &state.user.privacy else {
            return timeout;
        };
        let (privacy, user) = (*privacy, state.user.name.clone());
        let context = (!state.context.is_empty()).then(|| state.context.clone());
        // a request answered before proves the privacy password: this is another silence
        if state.engine.is_none() || self.responses > 0 {
            return timeout;
        }
        let saved_retries = self.retries;
        self.retries = 0;
        let probe = Request::Get(vec![Oid::from(SYS_UP_TIME)]);
        let answer = self.exchange_v3_level(&probe, true, false).await;
        self.retries = saved_retries;
        match answer {
            // a response in the same context: the context exists, the privacy password is wrong
            Ok(Answer::Response(_)) => ClientError::PrivacyRejected {
                addr: self.addr,
                request: request.name(),
                user,
                privacy,
                context: None,
            },
            Ok(Answer::Report {
                authenticated: true,
                ..
            }) => ClientError::PrivacyRejected {
                addr: self.addr,
                request: request.name(),
                user,
                privacy,
                context,
            },
            _ => timeout,
        }
    }

    fn report_error(&self, request: &Request, oid: &[u32]) -> ClientError {
        let addr = self.addr;
        let Some(state) = &self.usm else {
            return ClientError::Report {
                addr,
                request: request.name(),
                oid: Oid::from(oid).to_string(),
            };
        };
        let user = state.user.name.clone();
        match oid {
            USM_STATS_UNKNOWN_USER_NAMES => ClientError::UnknownUser { addr, user },
            USM_STATS_WRONG_DIGESTS => ClientError::WrongDigest {
                addr,
                user,
                auth: state
                    .user
                    .auth
                    .as_ref()
                    .map(|a| a.0)
                    .unwrap_or(AuthProtocol::Md5),
            },
            USM_STATS_DECRYPTION_ERRORS => ClientError::DecryptionError {
                addr,
                user,
                privacy: state
                    .user
                    .privacy
                    .as_ref()
                    .map(|p| p.0)
                    .unwrap_or(PrivProtocol::Des),
            },
            USM_STATS_UNSUPPORTED_SEC_LEVELS => ClientError::UnsupportedSecurityLevel {
                addr,
                user,
                level: state.user.level(),
            },
            USM_STATS_NOT_IN_TIME_WINDOWS => ClientError::NotInTimeWindow { addr },
            SNMP_UNKNOWN_CONTEXTS | SNMP_UNAVAILABLE_CONTEXTS => ClientError::UnknownContext {
                addr,
                context: state.context.clone(),
            },
            other => ClientError::Report {
                addr,
                request: request.name(),
                oid: Oid::from(other).to_string(),
            },
        }
    }

    /// One v3 request at the user's security level (`secure`) or as a discovery (not secure).
    async fn exchange_v3(
        &mut self,
        request: &Request,
        secure: bool,
    ) -> Result<Answer, ClientError> {
        let privacy = secure && self.usm.as_ref().is_some_and(|u| u.user.privacy.is_some());
        self.exchange_v3_level(request, secure, privacy).await
    }

    async fn exchange_v3_level(
        &mut self,
        request: &Request,
        secure: bool,
        privacy: bool,
    ) -> Result<Answer, ClientError> {
        let name = if secure {
            request.name()
        } else {
            "engine discovery"
        };
        let attempts = self.retries + 1;
        let mut ids = Vec::new();
        for _ in 0..attempts {
            let id = self.take_id();
            ids.push(id);
            let bytes = self.emit_v3(id, request, secure, privacy)?;
            self.send(&bytes, name).await?;
            let deadline = Instant::now() + self.timeout;
            if let Some(answer) = self.await_v3(&ids, deadline, name, privacy).await? {
                return Ok(answer);
            }
        }
        let hint = if secure {
            v3_hint()
        } else {
            "SNMPv3 not enabled on the agent, wrong port, or UDP filtered"
        };
        Err(self.timeout_error(name, attempts, hint))
    }

    fn emit_v3(
        &mut self,
        id: i32,
        request: &Request,
        secure: bool,
        privacy: bool,
    ) -> Result<Vec<u8>, ClientError> {
        let addr = self.addr;
        let name = request.name();
        let encode = |source| ClientError::Encode {
            addr,
            request: name,
            source,
        };
        let Some(state) = self.usm.as_mut() else {
            return Err(internal("SNMPv3 request without SNMPv3 state"));
        };
        let engine = match (&state.engine, secure) {
            (Some(e), true) => Some(e),
            _ => None,
        };
        let scope = Scope {
            engine_id: engine.map(|e| e.id.clone()).unwrap_or_default(),
            name: if secure {
                state.context.as_bytes().to_vec()
            } else {
                Vec::new()
            },
        };
        let scoped = v3::emit_scoped_pdu(&scope, id, request).map_err(encode)?;
        let Some(engine) = engine else {
            // discovery: noAuthNoPriv, no user, no engine
            let msg = OutMessage {
                msg_id: id,
                flags: FLAG_REPORTABLE,
                usm: UsmParams::default(),
                data: MsgData::Plain(scoped),
            };
            return Ok(msg.emit().0);
        };
        let (boots, time) = (engine.boots, engine.time_now());
        let mut flags = FLAG_REPORTABLE;
        let mut usm = UsmParams {
            engine_id: engine.id.clone(),
            boots,
            time,
            user: state.user.name.as_bytes().to_vec(),
            auth: Vec::new(),
            privacy: Vec::new(),
        };
        if let Some((auth, _)) = &engine.keys.auth {
            flags |= FLAG_AUTH;
            usm.auth = vec![0; auth.mac_len()];
        }
        let data = match (&engine.keys.privacy, privacy) {
            (Some((p, key)), true) => {
                flags |= FLAG_PRIV;
                state.salt = state.salt.wrapping_add(1);
                let (ct, params) = p
                    .encrypt(key, boots, time, state.salt, &scoped)
                    .map_err(|e| ClientError::Config(format!("{addr}: encrypting {name}: {e}")))?;
                usm.privacy = params;
                MsgData::Encrypted(ct)
            }
            _ => MsgData::Plain(scoped),
        };
        let (mut bytes, offset) = OutMessage {
            msg_id: id,
            flags,
            usm,
            data,
        }
        .emit();
        if let Some((auth, key)) = &engine.keys.auth {
            let mac = auth.mac(key, &bytes);
            if let Some(slot) = bytes.get_mut(offset..offset + mac.len()) {
                slot.copy_from_slice(&mac);
            }
        }
        Ok(bytes)
    }

    async fn await_v3(
        &mut self,
        ids: &[i32],
        deadline: Instant,
        name: &'static str,
        privacy: bool,
    ) -> Result<Option<Answer>, ClientError> {
        loop {
            let Some(len) = self.receive(deadline, name).await? else {
                return Ok(None);
            };
            let data = self.buf.get(..len).unwrap_or_default().to_vec();
            let msg = match v3::parse_message(&data) {
                Ok(m) if ids.contains(&m.msg_id) => m,
                Ok(m) => {
                    tracing::debug!(addr = %self.addr, id = m.msg_id, "stale SNMPv3 message skipped");
                    continue;
                }
                Err(e) => {
                    tracing::debug!(addr = %self.addr, error = %e, "undecodable datagram skipped");
                    continue;
                }
            };
            match self.open_v3(&data, msg, privacy) {
                Ok(Some(answer)) => {
                    self.stats.received += 1;
                    return Ok(Some(answer));
                }
                Ok(None) => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Verifies and decrypts a received v3 message. `Ok(None)`: not acceptable, keep waiting.
    fn open_v3(
        &self,
        data: &[u8],
        msg: v3::InMessage,
        sent_privacy: bool,
    ) -> Result<Option<Answer>, ClientError> {
        let engine = self.usm.as_ref().and_then(|u| u.engine.as_ref());
        let authenticated = msg.flags & FLAG_AUTH != 0;
        if authenticated {
            let Some((auth, key)) = engine.and_then(|e| e.keys.auth.as_ref()) else {
                tracing::debug!(addr = %self.addr, "authenticated message before discovery skipped");
                return Ok(None);
            };
            let mut zeroed = data.to_vec();
            if let Some(slot) =
                zeroed.get_mut(msg.auth_offset..msg.auth_offset + msg.usm.auth.len())
            {
                slot.fill(0);
            }
            if !auth.verify(key, &zeroed, &msg.usm.auth) {
                tracing::debug!(addr = %self.addr, "message with a wrong MAC skipped");
                return Ok(None);
            }
        }
        let scoped_bytes = match (&msg.data, msg.flags & FLAG_PRIV != 0) {
            (MsgData::Plain(b), false) => b.clone(),
            (MsgData::Encrypted(ct), true) => {
                let Some((p, key)) = engine.and_then(|e| e.keys.privacy.as_ref()) else {
                    return Ok(None);
                };
                p.decrypt(key, msg.usm.boots, msg.usm.time, &msg.usm.privacy, ct)
                    .map_err(|_| ClientError::ResponseDecrypt {
                        addr: self.addr,
                        privacy: *p,
                    })?
            }
            _ => return Ok(None),
        };
        let scoped = match v3::parse_scoped_pdu(&scoped_bytes) {
            Ok(s) => s,
            Err(e) if msg.flags & FLAG_PRIV != 0 => {
                let privacy = engine
                    .and_then(|e| e.keys.privacy.as_ref())
                    .map(|p| p.0)
                    .unwrap_or(PrivProtocol::Des);
                tracing::debug!(addr = %self.addr, error = %e, "decrypted PDU does not parse");
                return Err(ClientError::ResponseDecrypt {
                    addr: self.addr,
                    privacy,
                });
            }
            Err(e) => {
                tracing::debug!(addr = %self.addr, error = %e, "undecodable scoped PDU skipped");
                return Ok(None);
            }
        };
        let _ = sent_privacy;
        Ok(Some(match scoped.pdu.kind {
            PduKind::Response => {
                if !authenticated && engine.is_some_and(|e| e.keys.auth.is_some()) {
                    // an unauthenticated Response to an authenticated request is not trusted
                    tracing::debug!(addr = %self.addr, "unauthenticated response skipped");
                    return Ok(None);
                }
                Answer::Response(scoped.pdu)
            }
            PduKind::Report => Answer::Report {
                pdu: scoped.pdu,
                authenticated,
                usm: msg.usm,
            },
        }))
    }

    // ---- shared ----

    fn take_id(&mut self) -> i32 {
        let id = self.next_id;
        self.next_id = if self.next_id >= i32::MAX - 1 {
            1
        } else {
            self.next_id + 1
        };
        id
    }

    async fn send(&mut self, bytes: &[u8], name: &'static str) -> Result<(), ClientError> {
        self.pacer.ready().await;
        self.stats.sent += 1;
        match self.socket.send(bytes).await {
            Ok(_) => Ok(()),
            Err(source) => Err(ClientError::Io {
                addr: self.addr,
                request: name,
                source,
            }),
        }
    }

    /// Waits for one datagram until `deadline`; `None` at the deadline. ICMP port unreachable
    /// (connection refused on a connected UDP socket) ends the request at once: nothing listens
    /// there, and waiting out the retries would only slow a sweep down.
    async fn receive(
        &mut self,
        deadline: Instant,
        name: &'static str,
    ) -> Result<Option<usize>, ClientError> {
        match timeout_at(deadline, self.socket.recv(&mut self.buf)).await {
            Err(_) => {
                self.stats.timeouts += 1;
                Ok(None)
            }
            Ok(Ok(len)) => Ok(Some(len)),
            Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => {
                Err(ClientError::PortUnreachable {
                    addr: self.addr,
                    request: name,
                })
            }
            Ok(Err(source)) => Err(ClientError::Io {
                addr: self.addr,
                request: name,
                source,
            }),
        }
    }

    fn timeout_error(
        &self,
        request: &'static str,
        attempts: u32,
        hint: &'static str,
    ) -> ClientError {
        // an agent that answered before and then falls silent has no credential problem
        let hint = if self.responses > 0 {
            "the agent answered earlier requests, then stopped answering (overloaded, restarted, or a large answer was lost)"
        } else {
            hint
        };
        ClientError::Timeout {
            addr: self.addr,
            version: self.security.version().name(),
            request,
            secs: self.timeout.as_secs_f64(),
            attempts,
            hint,
        }
    }
}

fn community_hint() -> &'static str {
    "wrong community, SNMP not enabled on the agent, wrong port, or UDP filtered (agents ignore a wrong community silently)"
}

fn v3_hint() -> &'static str {
    "the agent answered engine discovery but not the request: check the security level, the context, and the passwords"
}

/// A broken invariant of this module, reported instead of panicking.
fn internal(what: &str) -> ClientError {
    ClientError::Config(format!("internal error: {what}"))
}

fn local_address(target: IpAddr) -> IpAddr {
    match target {
        IpAddr::V4(v4) if v4.is_loopback() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(v6) if v6.is_loopback() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    if getrandom::getrandom(&mut bytes).is_err() {
        // no OS randomness: fall back to the clock (salts must only be unique, not secret)
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        return nanos;
    }
    u64::from_be_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_agent_and_what_to_check() {
        let addr: SocketAddr = "127.0.0.60:161".parse().unwrap();
        let e = ClientError::WrongDigest {
            addr,
            user: "opsv3".into(),
            auth: AuthProtocol::Sha1,
        };
        let text = e.to_string();
        assert!(text.contains("127.0.0.60:161") && text.contains("authentication password"));
        assert!(e.is_credentials());
    }
}

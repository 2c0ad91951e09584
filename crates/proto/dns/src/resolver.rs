//! The resolver engine: many reverse lookups against one server, pipelined over one UDP socket.
//!
//! - One UDP socket per run, bound to the specific local address the route to the server uses
//!   (127.0.0.1 for a loopback server), never to the wildcard, and connected to the server so
//!   that the kernel drops datagrams from anyone else and reports ICMP port unreachable.
//! - Up to `in_flight` queries outstanding, each with a random ID; an answer is taken only when
//!   its ID belongs to an outstanding query and it repeats that query's question.
//! - Queries paced to `rate` per second (retries, CNAME follow-ups and TCP queries included).
//! - Each lookup has a time limit, starting with its first query. A query unanswered is sent
//!   again up to `attempts` times; the waits double (for 3 attempts and a 5 s limit: 0.71 s,
//!   1.43 s, 2.86 s).
//! - A truncated answer (TC) is asked again over TCP; a CNAME answer without the PTR at its end
//!   (RFC 2317 classless delegation on a server that does not follow it) makes the engine ask
//!   for the CNAME's target, up to [`MAX_ALIASES`](crate::codec::MAX_ALIASES) CNAMEs.
//!
//! Dropping the future stops everything at once and closes every socket.
//!
//! Poll it on a thread that also drives the runtime's IO: `block_on` of a current-thread
//! runtime, or a task spawned on a multi-thread runtime (the future is `Send`). Polled from
//! a multi-thread runtime's `block_on`, every answer costs a wake-up across threads, which
//! halves the rate on loopback.

use crate::codec::{Answer, Header, MAX_ALIASES, PtrQuery, Rcode, Response, emit_ptr_query};
use crate::lookup::{Lookup, LookupStatus};
use crate::name::Name;
use crate::tcp::{self, TcpFailure};
use otsensor_core::{Scope, ScopeError};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until};

/// Queries per second to one server by default.
pub const DEFAULT_RATE: u32 = 200;
/// Queries outstanding at once by default.
pub const DEFAULT_IN_FLIGHT: usize = 64;
/// The most queries outstanding at once.
pub const MAX_IN_FLIGHT: usize = 4096;
/// The time limit of one lookup by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// UDP queries per question by default (the first one and two retries).
pub const DEFAULT_ATTEMPTS: u32 = 3;
/// The most UDP queries per question.
pub const MAX_ATTEMPTS: u32 = 10;

/// Datagrams larger than this are not DNS answers we asked for (512 without EDNS); the buffer
/// takes any datagram whole so that nothing is silently cut.
const RECV_BUFFER: usize = 65_535;

/// Early sending allowed by the rate limiter, so that rates above the timer's resolution hold.
const RATE_SLACK: Duration = Duration::from_millis(2);

/// How one resolver talks to its server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolverConfig {
    /// The DNS server.
    pub server: SocketAddr,
    /// Queries per second to it (0: no limit).
    pub rate: u32,
    /// Queries outstanding at once (1 to [`MAX_IN_FLIGHT`]).
    pub in_flight: usize,
    /// Time limit of one lookup, from its first query to its end (retries, TCP and CNAME
    /// follow-ups included).
    pub timeout: Duration,
    /// UDP queries per question (1 to [`MAX_ATTEMPTS`]).
    pub attempts: u32,
    /// The local address to send from (default: the one the route to the server uses).
    pub source: Option<IpAddr>,
}

impl ResolverConfig {
    /// The defaults for `server`: 200 queries/s, 64 outstanding, 5 s per lookup, 3 attempts.
    pub fn new(server: SocketAddr) -> ResolverConfig {
        ResolverConfig {
            server,
            rate: DEFAULT_RATE,
            in_flight: DEFAULT_IN_FLIGHT,
            timeout: DEFAULT_TIMEOUT,
            attempts: DEFAULT_ATTEMPTS,
            source: None,
        }
    }

    /// How long to wait for an answer to the `n`th query (1-based) of a question: the time
    /// limit split in doubling parts (1, 2, 4, ... over 2^attempts - 1).
    pub fn wait_for_attempt(&self, n: u32) -> Duration {
        let parts = (1u64 << self.attempts.min(MAX_ATTEMPTS)) - 1;
        let share = 1u64 << n.saturating_sub(1).min(MAX_ATTEMPTS);
        let nanos = self.timeout.as_nanos() * u128::from(share) / u128::from(parts.max(1));
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

/// Why the resolver could not start.
#[derive(Debug, thiserror::Error)]
pub enum ResolverError {
    /// The server is outside the scope allow-list.
    #[error("DNS server {server}: {source}")]
    OutOfScope {
        /// The server.
        server: SocketAddr,
        /// The scope's refusal.
        source: ScopeError,
    },
    /// A setting out of range.
    #[error("DNS server {server}: {detail}")]
    BadConfig {
        /// The server.
        server: SocketAddr,
        /// What is wrong.
        detail: String,
    },
    /// The UDP socket could not be opened.
    #[error("cannot open a UDP socket from {local} to DNS server {server}: {source}")]
    Socket {
        /// The server.
        server: SocketAddr,
        /// The local address tried.
        local: String,
        /// The system's reason.
        source: io::Error,
    },
}

/// A resolver for one DNS server: checked against the scope, ready to look addresses up.
#[derive(Debug, Clone)]
pub struct Resolver {
    config: ResolverConfig,
}

impl Resolver {
    /// Checks the server against `scope` and the settings' ranges.
    pub fn new(config: ResolverConfig, scope: &Scope) -> Result<Resolver, ResolverError> {
        let server = config.server;
        scope
            .check(server.ip())
            .map_err(|source| ResolverError::OutOfScope { server, source })?;
        let bad = |detail: String| Err(ResolverError::BadConfig { server, detail });
        if server.port() == 0 {
            return bad("port 0 is not a port".into());
        }
        if !(1..=MAX_IN_FLIGHT).contains(&config.in_flight) {
            return bad(format!(
                "{} queries in flight: must be from 1 to {MAX_IN_FLIGHT}",
                config.in_flight
            ));
        }
        if !(1..=MAX_ATTEMPTS).contains(&config.attempts) {
            return bad(format!(
                "{} attempts: must be from 1 to {MAX_ATTEMPTS}",
                config.attempts
            ));
        }
        if config.timeout.is_zero() {
            return bad("a time limit of 0".into());
        }
        Ok(Resolver { config })
    }

    /// The settings.
    pub fn config(&self) -> &ResolverConfig {
        &self.config
    }

    /// Looks one address up.
    pub async fn lookup(&self, address: IpAddr) -> Result<Lookup, ResolverError> {
        let mut found = None;
        self.lookup_all([address], &mut |l| found = Some(l)).await?;
        // every address given yields exactly one lookup
        Ok(found.unwrap_or_else(|| {
            Task::new(address).into_lookup(
                &self.config,
                LookupStatus::Error,
                Vec::new(),
                Some("the engine ended without a result".into()),
            )
        }))
    }

    /// Looks every address up, handing each result to `sink` as it comes (not in address
    /// order). Returns when every address has its result; dropping the future stops at once.
    pub async fn lookup_all<I>(
        &self,
        addresses: I,
        sink: &mut (dyn FnMut(Lookup) + Send),
    ) -> Result<(), ResolverError>
    where
        I: IntoIterator<Item = IpAddr>,
        I::IntoIter: Send,
    {
        let socket = open_socket(&self.config).await?;
        let engine = Engine::new(&self.config, socket, sink);
        engine.run(addresses.into_iter()).await;
        Ok(())
    }
}

/// Opens the UDP socket: bound to the specific local address towards the server, connected.
async fn open_socket(config: &ResolverConfig) -> Result<(UdpSocket, IpAddr), ResolverError> {
    let server = config.server;
    let fail = |local: String, source: io::Error| ResolverError::Socket {
        server,
        local,
        source,
    };
    let local = match config.source {
        Some(ip) => ip,
        None => route_source(server).map_err(|e| fail("the routed address".into(), e))?,
    };
    let socket = UdpSocket::bind(SocketAddr::new(local, 0))
        .await
        .map_err(|e| fail(local.to_string(), e))?;
    socket
        .connect(server)
        .await
        .map_err(|e| fail(local.to_string(), e))?;
    Ok((socket, local))
}

/// The local address the system routes to `server` from (no packet is sent).
fn route_source(server: SocketAddr) -> io::Result<IpAddr> {
    let any: IpAddr = match server {
        SocketAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
        SocketAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
    };
    let probe = std::net::UdpSocket::bind(SocketAddr::new(any, 0))?;
    probe.connect(server)?;
    Ok(probe.local_addr()?.ip())
}

/// How the last query of a question was lost.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Loss {
    /// No answer.
    Silence,
    /// ICMP port unreachable.
    Unreachable,
    /// A socket error.
    Socket(String),
    /// Only answers that could not be read came back.
    Malformed(String),
}

/// One address's lookup in progress.
#[derive(Debug, Clone)]
struct Task {
    address: IpAddr,
    /// The reverse name.
    reverse: Name,
    /// The question now: the reverse name, or the last CNAME target.
    asked: Name,
    aliases: Vec<Name>,
    /// UDP queries for the current question.
    sent: u32,
    udp_queries: u32,
    /// The current question is to go (or went) over TCP.
    tcp: bool,
    used_tcp: bool,
    started: Option<Instant>,
    deadline: Option<Instant>,
    loss: Loss,
}

impl Task {
    fn new(address: IpAddr) -> Task {
        let reverse = Name::reverse(address);
        Task {
            address,
            asked: reverse.clone(),
            reverse,
            aliases: Vec::new(),
            sent: 0,
            udp_queries: 0,
            tcp: false,
            used_tcp: false,
            started: None,
            deadline: None,
            loss: Loss::Silence,
        }
    }

    /// Marks the first query; the time limit runs from here.
    fn start(&mut self, now: Instant, limit: Duration) {
        if self.started.is_none() {
            self.started = Some(now);
            self.deadline = Some(now + limit);
        }
    }

    /// Moves on to the CNAME target `target`.
    fn follow(&mut self, target: Name) {
        self.asked = target;
        self.sent = 0;
        self.tcp = false;
        self.loss = Loss::Silence;
    }

    fn into_lookup(
        self,
        config: &ResolverConfig,
        status: LookupStatus,
        names: Vec<Name>,
        detail: Option<String>,
    ) -> Lookup {
        Lookup {
            address: self.address,
            server: config.server,
            status,
            names: sorted_names(names),
            aliases: self.aliases.iter().map(ToString::to_string).collect(),
            udp_queries: self.udp_queries,
            tcp: self.used_tcp,
            elapsed: self.started.map(|s| s.elapsed()).unwrap_or_default(),
            detail,
            time_limit: config.timeout,
        }
    }
}

/// Names as text, sorted label by label from the left ignoring case (so `hmi-10.plant` comes
/// before `hmi-10-backup.plant`), without duplicates.
fn sorted_names(mut names: Vec<Name>) -> Vec<String> {
    let key = |n: &Name| -> Vec<Vec<u8>> { n.labels().map(|l| l.to_ascii_lowercase()).collect() };
    names.sort_by_key(key);
    names.dedup();
    names.iter().map(ToString::to_string).collect()
}

/// A query on the wire, waiting for its answer.
struct Outstanding {
    task: Task,
    seq: u64,
}

/// What a TCP exchange hands back.
type TcpDone = (Task, u16, Result<Vec<u8>, TcpFailure>);

/// A TCP exchange as the join set returns it.
type TcpJoined = Result<(tokio::task::Id, TcpDone), tokio::task::JoinError>;

/// Why sending stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Blocked {
    /// The window is full.
    Window,
    /// Nothing left to send.
    Idle,
    /// The rate limit: the next slot.
    Rate(Instant),
    /// The socket's send buffer is full.
    Write,
}

/// What woke the engine.
enum Wake {
    Readable,
    SocketError(io::Error),
    Tcp(Box<Option<TcpJoined>>),
    Writable,
    Timer,
}

struct Engine<'a> {
    config: &'a ResolverConfig,
    socket: UdpSocket,
    local: IpAddr,
    sink: &'a mut (dyn FnMut(Lookup) + Send),
    outstanding: HashMap<u16, Outstanding>,
    timers: BinaryHeap<Reverse<(Instant, u64, u16)>>,
    ready: VecDeque<Task>,
    tcp: JoinSet<TcpDone>,
    /// Addresses of the TCP exchanges running, by task id, to report one that died.
    tcp_tasks: HashMap<tokio::task::Id, Task>,
    interval: Option<Duration>,
    next_slot: Option<Instant>,
    seq: u64,
    rng: u64,
    send_buf: Vec<u8>,
    recv_buf: Vec<u8>,
}

impl<'a> Engine<'a> {
    fn new(
        config: &'a ResolverConfig,
        (socket, local): (UdpSocket, IpAddr),
        sink: &'a mut (dyn FnMut(Lookup) + Send),
    ) -> Engine<'a> {
        Engine {
            config,
            socket,
            local,
            sink,
            outstanding: HashMap::with_capacity(config.in_flight),
            timers: BinaryHeap::with_capacity(config.in_flight),
            ready: VecDeque::new(),
            tcp: JoinSet::new(),
            tcp_tasks: HashMap::new(),
            interval: (config.rate > 0).then(|| Duration::from_secs(1) / config.rate),
            next_slot: None,
            seq: 0,
            rng: seed(),
            send_buf: Vec::with_capacity(128),
            recv_buf: vec![0u8; RECV_BUFFER],
        }
    }

    async fn run(mut self, mut addresses: impl Iterator<Item = IpAddr>) {
        let mut exhausted = false;
        loop {
            self.expire(Instant::now());
            let blocked = self.send_what_may(&mut addresses, &mut exhausted);
            let received = self.drain_udp();
            if exhausted
                && self.ready.is_empty()
                && self.outstanding.is_empty()
                && self.tcp.is_empty()
            {
                return;
            }
            if received > 0 {
                continue; // answers free room in the window, and may ask for more queries
            }
            let wake_at = self.next_wake(blocked);
            let wake = tokio::select! {
                // ERROR too: an ICMP port unreachable makes the socket ready with an error only
                r = self.socket.ready(Interest::READABLE | Interest::ERROR) => match r {
                    Ok(_) => Wake::Readable,
                    Err(e) => Wake::SocketError(e),
                },
                done = self.tcp.join_next_with_id(), if !self.tcp.is_empty() => Wake::Tcp(Box::new(done)),
                _ = self.socket.writable(), if blocked == Blocked::Write => Wake::Writable,
                _ = sleep_until(wake_at) => Wake::Timer,
            };
            match wake {
                Wake::Tcp(done) => {
                    if let Some(done) = *done {
                        self.on_tcp(done);
                    }
                }
                Wake::SocketError(e) => self.lose_all(Loss::Socket(format!(
                    "waiting for answers from {}: {e}",
                    self.config.server
                ))),
                Wake::Readable | Wake::Writable | Wake::Timer => {}
            }
        }
    }

    /// When to wake at the latest: the next query's wait ends, or the next rate slot.
    fn next_wake(&self, blocked: Blocked) -> Instant {
        let timer = self.timers.peek().map(|Reverse((at, _, _))| *at);
        let rate = match blocked {
            Blocked::Rate(at) => Some(at),
            _ => None,
        };
        [timer, rate]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(1))
    }

    /// Sends queries while the window, the rate and the socket allow.
    fn send_what_may(
        &mut self,
        addresses: &mut impl Iterator<Item = IpAddr>,
        exhausted: &mut bool,
    ) -> Blocked {
        loop {
            if self.outstanding.len() + self.tcp.len() >= self.config.in_flight {
                return Blocked::Window;
            }
            let task = match self.ready.pop_front() {
                Some(task) => task,
                None if *exhausted => return Blocked::Idle,
                None => match addresses.next() {
                    Some(address) => Task::new(address),
                    None => {
                        *exhausted = true;
                        return Blocked::Idle;
                    }
                },
            };
            let now = Instant::now();
            if task.deadline.is_some_and(|d| now >= d) {
                self.give_up(task);
                continue;
            }
            if let Some(slot) = self.rate_wait(now) {
                self.ready.push_front(task);
                return Blocked::Rate(slot);
            }
            if task.tcp {
                self.take_slot(now);
                self.start_tcp(task, now);
                continue;
            }
            if let Some(task) = self.send_udp(task, now) {
                self.ready.push_front(task);
                return Blocked::Write;
            }
        }
    }

    /// When the rate limit lets the next query go, if not now.
    fn rate_wait(&self, now: Instant) -> Option<Instant> {
        self.interval?;
        let slot = self.next_slot?;
        (slot > now + RATE_SLACK).then_some(slot)
    }

    fn take_slot(&mut self, now: Instant) {
        if let Some(interval) = self.interval {
            let base = self.next_slot.map_or(now, |s| s.max(now));
            self.next_slot = Some(base + interval);
        }
    }

    /// Sends one UDP query; gives the task back when the socket would block.
    fn send_udp(&mut self, mut task: Task, now: Instant) -> Option<Task> {
        let id = self.fresh_id();
        emit_ptr_query(id, &task.asked, &mut self.send_buf);
        match self.socket.try_send(&self.send_buf) {
            Ok(_) => {
                self.take_slot(now);
                task.start(now, self.config.timeout);
                task.sent += 1;
                task.udp_queries += 1;
                let wait = self.config.wait_for_attempt(task.sent);
                let until = task.deadline.map_or(now + wait, |d| d.min(now + wait));
                self.seq += 1;
                self.push_timer(until, id);
                self.outstanding.insert(
                    id,
                    Outstanding {
                        task,
                        seq: self.seq,
                    },
                );
                None
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Some(task),
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                // an ICMP port unreachable for an earlier query, reported on this send
                self.lose_all(Loss::Unreachable);
                task.loss = Loss::Unreachable;
                self.after_loss(task);
                None
            }
            Err(e) => {
                task.loss = Loss::Socket(format!("sending to {}: {e}", self.config.server));
                self.give_up(task);
                None
            }
        }
    }

    fn start_tcp(&mut self, mut task: Task, now: Instant) {
        task.start(now, self.config.timeout);
        task.used_tcp = true;
        let id = self.fresh_id();
        let query = PtrQuery {
            id,
            name: task.asked.clone(),
        }
        .emit();
        let (server, local) = (self.config.server, self.local);
        let deadline = task.deadline.unwrap_or(now + self.config.timeout);
        let keep = task.clone();
        let handle = self.tcp.spawn(async move {
            let result = tcp::exchange(server, local, &query, deadline).await;
            (task, id, result)
        });
        self.tcp_tasks.insert(handle.id(), keep);
    }

    /// Arms the wait of the query `id` (sequence number `self.seq`). Answered queries leave
    /// their entries behind; when those outnumber the live ones, the heap is rebuilt.
    fn push_timer(&mut self, until: Instant, id: u16) {
        if self.timers.len() >= 4 * self.outstanding.len().max(64) {
            let outstanding = &self.outstanding;
            self.timers
                .retain(|Reverse((_, seq, id))| outstanding.get(id).is_some_and(|o| o.seq == *seq));
        }
        self.timers.push(Reverse((until, self.seq, id)));
    }

    /// A random ID that no outstanding query uses.
    fn fresh_id(&mut self) -> u16 {
        loop {
            // xorshift64*
            self.rng ^= self.rng >> 12;
            self.rng ^= self.rng << 25;
            self.rng ^= self.rng >> 27;
            let id = (self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 48) as u16;
            if !self.outstanding.contains_key(&id) {
                return id;
            }
        }
    }

    /// Ends the waits that ran out.
    fn expire(&mut self, now: Instant) {
        while let Some(Reverse((at, seq, id))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            if self.outstanding.get(&id).is_some_and(|o| o.seq == seq)
                && let Some(o) = self.outstanding.remove(&id)
            {
                self.after_loss(o.task);
            }
        }
    }

    /// Every outstanding query is lost (the socket reported an error).
    fn lose_all(&mut self, loss: Loss) {
        let lost: Vec<Outstanding> = self.outstanding.drain().map(|(_, o)| o).collect();
        self.timers.clear();
        for mut o in lost {
            o.task.loss = loss.clone();
            self.after_loss(o.task);
        }
    }

    /// A query went unanswered: send again if attempts and time remain, else give up.
    fn after_loss(&mut self, task: Task) {
        let time_left = task.deadline.is_none_or(|d| Instant::now() < d);
        if task.sent < self.config.attempts && time_left {
            self.ready.push_front(task);
        } else {
            self.give_up(task);
        }
    }

    /// Ends a lookup that got no usable answer.
    fn give_up(&mut self, task: Task) {
        let (status, detail) = match &task.loss {
            Loss::Silence => (LookupStatus::Timeout, None),
            Loss::Unreachable => (LookupStatus::Unreachable, None),
            Loss::Socket(e) => (LookupStatus::Error, Some(e.clone())),
            Loss::Malformed(e) => (
                LookupStatus::Error,
                Some(format!("only unreadable answers came back: {e}")),
            ),
        };
        self.finish(task, status, Vec::new(), detail);
    }

    fn finish(
        &mut self,
        task: Task,
        status: LookupStatus,
        names: Vec<Name>,
        detail: Option<String>,
    ) {
        let lookup = task.into_lookup(self.config, status, names, detail);
        (self.sink)(lookup);
    }

    /// Reads every datagram waiting; returns how many answers it took.
    fn drain_udp(&mut self) -> usize {
        self.drain_errors();
        let mut taken = 0;
        loop {
            match self.socket.try_recv(&mut self.recv_buf) {
                Ok(n) => {
                    if self.on_datagram(n) {
                        taken += 1;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return taken,
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                    self.lose_all(Loss::Unreachable);
                }
                Err(e) => {
                    self.lose_all(Loss::Socket(format!(
                        "receiving from {}: {e}",
                        self.config.server
                    )));
                    return taken;
                }
            }
        }
    }

    /// Takes the socket's pending errors: an ICMP port unreachable makes the socket ready with
    /// an error (not readable), which only reading SO_ERROR clears.
    fn drain_errors(&mut self) {
        loop {
            let pending = self
                .socket
                .try_io(Interest::ERROR, || match self.socket.take_error() {
                    Ok(Some(e)) => Ok(e),
                    Ok(None) => Err(io::ErrorKind::WouldBlock.into()),
                    Err(e) => Ok(e),
                });
            match pending {
                Err(_) => return,
                Ok(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                    self.lose_all(Loss::Unreachable)
                }
                Ok(e) => {
                    self.lose_all(Loss::Socket(format!(
                        "the socket towards {} reported: {e}",
                        self.config.server
                    )));
                    return;
                }
            }
        }
    }

    /// Takes one datagram if it answers an outstanding query; returns whether it did.
    fn on_datagram(&mut self, len: usize) -> bool {
        let bytes = &self.recv_buf[..len.min(self.recv_buf.len())];
        let Ok(header) = Header::parse(bytes) else {
            tracing::debug!(server = %self.config.server, len, "datagram too short for DNS: ignored");
            return false;
        };
        let Some(out) = self.outstanding.get_mut(&header.id) else {
            tracing::debug!(server = %self.config.server, id = header.id, "answer to no outstanding query: ignored");
            return false;
        };
        let response = match Response::parse(bytes) {
            Ok(r) => r,
            Err(e) => {
                out.task.loss = Loss::Malformed(e.to_string());
                return false;
            }
        };
        if !response.answers(header.id, &out.task.asked) {
            tracing::debug!(server = %self.config.server, id = header.id, "answer to another question: ignored");
            return false;
        }
        let Some(out) = self.outstanding.remove(&header.id) else {
            return false;
        };
        self.on_answer(out.task, &response, false);
        true
    }

    fn on_tcp(&mut self, done: TcpJoined) {
        let (task, id, result) = match done {
            Ok((task_id, done)) => {
                self.tcp_tasks.remove(&task_id);
                done
            }
            Err(e) => {
                if let Some(mut task) = self.tcp_tasks.remove(&e.id()) {
                    task.loss = Loss::Socket(format!("TCP query to {}: {e}", self.config.server));
                    self.give_up(task);
                }
                return;
            }
        };
        let server = self.config.server;
        match result {
            Err(TcpFailure::Timeout) => self.finish(task, LookupStatus::Timeout, Vec::new(), None),
            Err(e) => {
                let detail =
                    format!("the answer was truncated over UDP, and TCP to {server} failed: {e}");
                self.finish(task, LookupStatus::Error, Vec::new(), Some(detail));
            }
            Ok(bytes) => {
                let query = PtrQuery {
                    id,
                    name: task.asked.clone(),
                };
                match Response::parse(&bytes) {
                    Ok(r) if r.answers_query(&query) => self.on_answer(task, &r, true),
                    Ok(_) => {
                        let detail =
                            format!("the TCP answer from {server} does not answer the question");
                        self.finish(task, LookupStatus::Error, Vec::new(), Some(detail));
                    }
                    Err(e) => {
                        let detail = format!("unreadable TCP answer from {server}: {e}");
                        self.finish(task, LookupStatus::Error, Vec::new(), Some(detail));
                    }
                }
            }
        }
    }

    /// Acts on a valid answer to the task's question.
    fn on_answer(&mut self, mut task: Task, response: &Response, over_tcp: bool) {
        match response.interpret(&task.asked) {
            Answer::Names { names, aliases } => {
                task.aliases.extend(aliases);
                self.finish(task, LookupStatus::Found, names, None);
            }
            Answer::Alias { aliases } => {
                let looped = aliases
                    .iter()
                    .any(|a| a == &task.reverse || task.aliases.contains(a));
                task.aliases.extend(aliases);
                match task.aliases.last().cloned() {
                    Some(target) if !looped && task.aliases.len() <= MAX_ALIASES => {
                        task.follow(target);
                        self.ready.push_front(task);
                    }
                    _ => self.alias_error(task),
                }
            }
            Answer::NoData { aliases } => {
                task.aliases.extend(aliases);
                self.finish(task, LookupStatus::NoData, Vec::new(), None);
            }
            Answer::Truncated if over_tcp => {
                let detail = format!(
                    "the TCP answer from {} is marked truncated",
                    self.config.server
                );
                self.finish(task, LookupStatus::Error, Vec::new(), Some(detail));
            }
            Answer::Truncated => {
                task.tcp = true;
                self.ready.push_front(task);
            }
            Answer::Rcode { rcode, aliases } => {
                task.aliases.extend(aliases);
                let (status, detail) = match rcode {
                    Rcode::NxDomain => (LookupStatus::NxDomain, None),
                    Rcode::ServFail => (LookupStatus::ServFail, None),
                    Rcode::Refused => (LookupStatus::Refused, None),
                    other => (
                        LookupStatus::Error,
                        Some(format!(
                            "{} answered {other} for {}",
                            self.config.server, task.asked
                        )),
                    ),
                };
                self.finish(task, status, Vec::new(), detail);
            }
            Answer::AliasLoop { aliases } => {
                task.aliases.extend(aliases);
                self.alias_error(task);
            }
        }
    }

    fn alias_error(&mut self, task: Task) {
        let chain: Vec<String> = std::iter::once(&task.reverse)
            .chain(&task.aliases)
            .map(ToString::to_string)
            .collect();
        let detail = format!(
            "the CNAMEs loop or are more than {MAX_ALIASES}: {}",
            chain.join(" -> ")
        );
        self.finish(task, LookupStatus::Error, Vec::new(), Some(detail));
    }
}

/// A seed for query IDs that differs between runs (the standard library's random hash keys).
fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x9E37_79B9_7F4A_7C15);
    h.finish() | 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_and_add_up_to_the_time_limit() {
        let c = ResolverConfig::new("127.0.0.53:5300".parse().unwrap());
        let waits: Vec<u128> = (1..=3).map(|n| c.wait_for_attempt(n).as_millis()).collect();
        assert_eq!(waits, [714, 1428, 2857]);
        let one = ResolverConfig {
            attempts: 1,
            ..c.clone()
        };
        assert_eq!(one.wait_for_attempt(1), Duration::from_secs(5));
    }

    #[test]
    fn the_scope_and_ranges_are_checked() {
        let scope = Scope::default();
        let outside = ResolverConfig::new("10.0.0.53:53".parse().unwrap());
        let err = Resolver::new(outside, &scope).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("DNS server 10.0.0.53:53: 10.0.0.53 is outside")
        );
        let mut c = ResolverConfig::new("127.0.0.53:5300".parse().unwrap());
        c.in_flight = 0;
        assert!(Resolver::new(c.clone(), &scope).is_err());
        c.in_flight = 1;
        c.attempts = 0;
        assert!(Resolver::new(c.clone(), &scope).is_err());
        c.attempts = 1;
        assert!(Resolver::new(c, &scope).is_ok());
    }

    #[test]
    fn names_sort_without_case_or_duplicates() {
        let n = |s: &str| Name::from_dotted(s).unwrap();
        let sorted = sorted_names(vec![n("b.example"), n("A.example"), n("a.EXAMPLE")]);
        assert_eq!(sorted, ["A.example", "b.example"]);
        let sorted = sorted_names(vec![n("hmi-10-backup.plant"), n("hmi-10.plant")]);
        assert_eq!(sorted, ["hmi-10.plant", "hmi-10-backup.plant"]);
    }
}

//! A simulated plant on loopback addresses, for the demo and for benchmarks at scale.
//!
//! [`plant::Plant::generate`] makes a deterministic plant (seeded) of Modbus/TCP devices and
//! gateways, Siemens S7 stations, Rockwell EtherNet/IP chassis and controllers, BACnet/IP
//! controllers and routers, SNMP switches whose tables describe the plant, and a DNS server with a
//! PTR record for every address. [`start`] serves all of it from the current tokio runtime, each
//! device on its own 127.x.y.z address and its standard port:
//!
//! | kind | transport | port |
//! |---|---|---|
//! | Modbus/TCP | TCP | 502 |
//! | S7comm (ISO-on-TCP) | TCP | 102 |
//! | EtherNet/IP | TCP and UDP | 44818 |
//! | BACnet/IP | UDP | 47808 |
//! | SNMP v1/v2c (community `public`) | UDP | 161 |
//! | DNS | UDP | 53 (or the address given) |
//!
//! Every socket binds one specific loopback address, never 0.0.0.0. The simulator only answers
//! the identification and read requests otsensor (and the usual third-party tools) send.

pub mod bacnet;
pub mod dns;
pub mod enip;
pub mod modbus;
pub mod plant;
pub mod s7;
pub mod snmp;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use plant::{Device, Kind, Plant, PlantConfig, PlantError};

/// Standard ports of the simulated services.
pub mod port {
    /// Modbus/TCP.
    pub const MODBUS: u16 = 502;
    /// S7comm (ISO-on-TCP).
    pub const S7: u16 = 102;
    /// EtherNet/IP.
    pub const ENIP: u16 = 44818;
    /// BACnet/IP.
    pub const BACNET: u16 = 47808;
    /// SNMP.
    pub const SNMP: u16 = 161;
    /// DNS.
    pub const DNS: u16 = 53;
}

/// How long a connection may stay silent before the simulator closes it.
const IDLE: Duration = Duration::from_secs(30);

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A socket could not be bound.
    #[error(
        "cannot bind {what} on {addr}: {source} (is another simulator or peer running on that address? ports below 1024 need root or CAP_NET_BIND_SERVICE)"
    )]
    Bind {
        /// What was being served.
        what: &'static str,
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The DNS address is not on loopback.
    #[error("the DNS server address {0} is not on loopback (127.0.0.0/8)")]
    NotLoopback(SocketAddr),
}

/// Where each kind of device is: the `ready` line of `otsensor sim`.
#[derive(Debug, Clone, Serialize)]
pub struct Ready {
    /// Always true: the plant answers.
    pub ready: bool,
    /// The plant's block.
    pub net: String,
    /// Devices with an address (switches included).
    pub devices: usize,
    /// The DNS server (address:port).
    pub dns: String,
    /// The DNS domain of every PTR record.
    pub domain: String,
    /// Modbus/TCP devices.
    pub modbus: Endpoints,
    /// S7 stations.
    pub s7: Endpoints,
    /// EtherNet/IP devices.
    pub enip: Endpoints,
    /// BACnet/IP devices.
    pub bacnet: Endpoints,
    /// SNMP switches.
    pub snmp: SnmpEndpoints,
}

/// The addresses of one kind of device and its port.
#[derive(Debug, Clone, Serialize)]
pub struct Endpoints {
    /// The port every one of them listens on.
    pub port: u16,
    /// Their addresses.
    pub addresses: Vec<Ipv4Addr>,
}

/// The switches, their port and community.
#[derive(Debug, Clone, Serialize)]
pub struct SnmpEndpoints {
    /// UDP port.
    pub port: u16,
    /// v1/v2c community.
    pub community: String,
    /// Their addresses.
    pub addresses: Vec<Ipv4Addr>,
}

impl Ready {
    /// Where a plant's devices are, with its DNS server at `dns`.
    pub fn of(plant: &Plant, dns: SocketAddr) -> Ready {
        let addresses = |kind: &str| plant.of_kind(kind).map(|d| d.ip).collect::<Vec<_>>();
        let endpoints = |kind: &str, port: u16| Endpoints {
            port,
            addresses: addresses(kind),
        };
        Ready {
            ready: true,
            net: plant.net.to_string(),
            devices: plant.devices.len(),
            dns: dns.to_string(),
            domain: plant::DOMAIN.into(),
            modbus: endpoints("modbus", port::MODBUS),
            s7: endpoints("s7", port::S7),
            enip: endpoints("enip", port::ENIP),
            bacnet: endpoints("bacnet", port::BACNET),
            snmp: SnmpEndpoints {
                port: port::SNMP,
                community: plant::COMMUNITY.into(),
                addresses: addresses("switch"),
            },
        }
    }
}

/// A running simulator: stops when [`Running::stop`] is called or it is dropped.
pub struct Running {
    /// The plant served.
    pub plant: Arc<Plant>,
    /// The DNS server's address.
    pub dns: SocketAddr,
    cancel: CancellationToken,
    tasks: JoinSet<()>,
}

impl Running {
    /// Where everything is.
    pub fn ready(&self) -> Ready {
        Ready::of(&self.plant, self.dns)
    }

    /// Stops every server and waits for them.
    pub async fn stop(mut self) {
        self.cancel.cancel();
        while self.tasks.join_next().await.is_some() {}
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Binds every device of `plant` (and the DNS server on `dns`, default the plant's DNS address
/// on port 53) and serves them on the current runtime until stopped.
pub async fn start(plant: Plant, dns: Option<SocketAddr>) -> Result<Running, SimError> {
    let dns = dns.unwrap_or(SocketAddr::new(IpAddr::V4(plant.dns), port::DNS));
    if !dns.ip().is_loopback() {
        return Err(SimError::NotLoopback(dns));
    }
    let plant = Arc::new(plant);
    let cancel = CancellationToken::new();
    let mut tasks = JoinSet::new();
    let zone = Arc::new(dns::Zone::of(&plant));
    let socket = bind_udp("DNS", dns).await?;
    tasks.spawn(serve_udp(socket, cancel.clone(), move |q| {
        zone.answer(q).into_iter().collect()
    }));
    for (ip, mib) in snmp::agents(&plant) {
        let socket = bind_udp("SNMP", SocketAddr::new(ip.into(), port::SNMP)).await?;
        let mib = Arc::new(mib);
        tasks.spawn(serve_udp(socket, cancel.clone(), move |m| {
            mib.answer(m).into_iter().collect()
        }));
    }
    for index in 0..plant.devices.len() {
        spawn_device(&plant, index, &cancel, &mut tasks).await?;
    }
    Ok(Running {
        plant,
        dns,
        cancel,
        tasks,
    })
}

async fn spawn_device(
    plant: &Arc<Plant>,
    index: usize,
    cancel: &CancellationToken,
    tasks: &mut JoinSet<()>,
) -> Result<(), SimError> {
    let device = &plant.devices[index];
    let ip = device.ip;
    let at = |port| SocketAddr::new(IpAddr::V4(ip), port);
    let (plant, cancel) = (plant.clone(), cancel.clone());
    match &device.kind {
        Kind::Modbus(_) => {
            let listener = bind_tcp("Modbus/TCP", at(port::MODBUS)).await?;
            tasks.spawn(accept_loop(listener, cancel, plant, index, serve_modbus));
        }
        Kind::S7(_) => {
            let listener = bind_tcp("S7comm", at(port::S7)).await?;
            tasks.spawn(accept_loop(listener, cancel, plant, index, serve_s7));
        }
        Kind::Enip(_) => {
            let listener = bind_tcp("EtherNet/IP", at(port::ENIP)).await?;
            let socket = bind_udp("EtherNet/IP", at(port::ENIP)).await?;
            let p = plant.clone();
            tasks.spawn(serve_udp(socket, cancel.clone(), move |d| {
                match &p.devices[index].kind {
                    Kind::Enip(e) => enip::answer_udp(e, ip, d).into_iter().collect(),
                    _ => Vec::new(),
                }
            }));
            tasks.spawn(accept_loop(listener, cancel, plant, index, serve_enip));
        }
        Kind::Bacnet(_) => {
            let socket = bind_udp("BACnet/IP", at(port::BACNET)).await?;
            tasks.spawn(serve_udp(socket, cancel, move |d| {
                match &plant.devices[index].kind {
                    Kind::Bacnet(b) => bacnet::answer(b, d),
                    _ => Vec::new(),
                }
            }));
        }
        Kind::Switch(_) => {}
    }
    Ok(())
}

async fn bind_tcp(what: &'static str, addr: SocketAddr) -> Result<TcpListener, SimError> {
    let socket =
        tokio::net::TcpSocket::new_v4().map_err(|source| SimError::Bind { what, addr, source })?;
    socket
        .set_reuseaddr(true)
        .and_then(|_| socket.bind(addr))
        .and_then(|_| socket.listen(128))
        .map_err(|source| SimError::Bind { what, addr, source })
}

async fn bind_udp(what: &'static str, addr: SocketAddr) -> Result<UdpSocket, SimError> {
    UdpSocket::bind(addr)
        .await
        .map_err(|source| SimError::Bind { what, addr, source })
}

async fn serve_udp<F>(socket: UdpSocket, cancel: CancellationToken, answer: F)
where
    F: Fn(&[u8]) -> Vec<Vec<u8>> + Send + 'static,
{
    let mut buf = vec![0u8; 65_536];
    loop {
        let (n, from) = tokio::select! {
            _ = cancel.cancelled() => return,
            r = socket.recv_from(&mut buf) => match r {
                Ok(r) => r,
                Err(_) => continue,
            },
        };
        for reply in answer(&buf[..n]) {
            let _ = socket.send_to(&reply, from).await;
        }
    }
}

type Handler = fn(TcpStream, Arc<Plant>, usize) -> futures_like::BoxFuture;

mod futures_like {
    //! A boxed connection handler future.
    use std::future::Future;
    use std::pin::Pin;
    /// A boxed, sendable future of a connection handler.
    pub type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;
}

async fn accept_loop(
    listener: TcpListener,
    cancel: CancellationToken,
    plant: Arc<Plant>,
    index: usize,
    handler: Handler,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    let _ = stream.set_nodelay(true);
                    let conn = handler(stream, plant.clone(), index);
                    let cancel = cancel.clone();
                    connections.spawn(async move {
                        tokio::select! {
                            _ = cancel.cancelled() => {}
                            _ = conn => {}
                        }
                    });
                }
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}

/// Reads exactly `buf.len()` bytes, within the idle limit; false on EOF, error or silence.
async fn read_exact(stream: &mut TcpStream, buf: &mut [u8]) -> bool {
    matches!(
        tokio::time::timeout(IDLE, stream.read_exact(buf)).await,
        Ok(Ok(_))
    )
}

fn serve_modbus(mut stream: TcpStream, plant: Arc<Plant>, index: usize) -> futures_like::BoxFuture {
    Box::pin(async move {
        let Kind::Modbus(device) = &plant.devices[index].kind else {
            return;
        };
        let mut head = [0u8; 7];
        while read_exact(&mut stream, &mut head).await {
            let len = usize::from(u16::from_be_bytes([head[4], head[5]]));
            if head[2..4] != [0, 0] || !(2..=254).contains(&len) {
                break;
            }
            let mut pdu = vec![0u8; len - 1];
            if !read_exact(&mut stream, &mut pdu).await {
                break;
            }
            let reply = modbus::reply(device, head[6], &pdu);
            let frame = modbus::frame(u16::from_be_bytes([head[0], head[1]]), head[6], &reply);
            if stream.write_all(&frame).await.is_err() {
                break;
            }
        }
        let _ = stream.shutdown().await;
    })
}

fn serve_s7(mut stream: TcpStream, plant: Arc<Plant>, index: usize) -> futures_like::BoxFuture {
    Box::pin(async move {
        let Kind::S7(station) = &plant.devices[index].kind else {
            return;
        };
        let mut head = [0u8; 4];
        while read_exact(&mut stream, &mut head).await {
            let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
            if head[0] != 3 || !(7..=4096).contains(&len) {
                break;
            }
            let mut tpdu = vec![0u8; len - 4];
            if !read_exact(&mut stream, &mut tpdu).await {
                break;
            }
            match s7::answer(station, &tpdu) {
                s7::Answer::Send(frame) => {
                    if stream.write_all(&frame).await.is_err() {
                        break;
                    }
                }
                s7::Answer::SendAndClose(frame) => {
                    let _ = stream.write_all(&frame).await;
                    break;
                }
                s7::Answer::Close => break,
            }
        }
        let _ = stream.shutdown().await;
    })
}

fn serve_enip(mut stream: TcpStream, plant: Arc<Plant>, index: usize) -> futures_like::BoxFuture {
    Box::pin(async move {
        let device = &plant.devices[index];
        let Kind::Enip(enip_device) = &device.kind else {
            return;
        };
        let mut head = [0u8; 24];
        while read_exact(&mut stream, &mut head).await {
            let len = usize::from(u16::from_le_bytes([head[2], head[3]]));
            if len > 4096 {
                break;
            }
            let mut frame = head.to_vec();
            frame.resize(24 + len, 0);
            if !read_exact(&mut stream, &mut frame[24..]).await {
                break;
            }
            match enip::answer(enip_device, device.ip, &frame) {
                Some(reply) => {
                    if stream.write_all(&reply).await.is_err() {
                        break;
                    }
                }
                None => break,
            }
        }
        let _ = stream.shutdown().await;
    })
}

//! One query over TCP (RFC 1035 4.2.2: a two-octet length, then the message), for answers that
//! came truncated over UDP. One connection per query, closed cleanly after the answer.

use crate::codec::HEADER_LEN;
use std::io;
use std::net::{IpAddr, SocketAddr};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;
use tokio::time::{Instant, timeout_at};

/// Why a TCP exchange failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TcpFailure {
    /// No whole answer before the lookup's deadline.
    #[error("no answer over TCP before the time limit")]
    Timeout,
    /// Nothing listens on the server's TCP port.
    #[error("connection refused on TCP port {0} (the server does not answer DNS over TCP)")]
    Refused(u16),
    /// The server closed the connection before the whole answer.
    #[error("the server closed the TCP connection before the whole answer")]
    Closed,
    /// An answer too short to be a DNS message.
    #[error("a {0}-octet TCP answer is shorter than a DNS header")]
    TooShort(usize),
    /// Another socket error.
    #[error("TCP: {0}")]
    Io(String),
}

/// Sends `query` to `server` over a new TCP connection from `local` and reads one answer, all
/// before `deadline`.
pub async fn exchange(
    server: SocketAddr,
    local: IpAddr,
    query: &[u8],
    deadline: Instant,
) -> Result<Vec<u8>, TcpFailure> {
    match timeout_at(deadline, talk(server, local, query)).await {
        Err(_) => Err(TcpFailure::Timeout),
        Ok(result) => result.map_err(|e| classify(e, server.port())),
    }
}

async fn talk(server: SocketAddr, local: IpAddr, query: &[u8]) -> io::Result<Vec<u8>> {
    let socket = if server.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.bind(SocketAddr::new(local, 0))?;
    let mut stream = socket.connect(server).await?;
    stream.set_nodelay(true)?;
    let len = u16::try_from(query.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "query too long"))?;
    let mut frame = Vec::with_capacity(2 + query.len());
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(query);
    stream.write_all(&frame).await?;
    let mut prefix = [0u8; 2];
    stream.read_exact(&mut prefix).await?;
    let n = usize::from(u16::from_be_bytes(prefix));
    if n < HEADER_LEN {
        return Err(io::Error::new(io::ErrorKind::InvalidData, TooShort(n)));
    }
    // n <= 65535 by construction: a bounded allocation
    let mut body = vec![0u8; n];
    stream.read_exact(&mut body).await?;
    let _ = stream.shutdown().await;
    Ok(body)
}

#[derive(Debug)]
struct TooShort(usize);

impl std::fmt::Display for TooShort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} octets", self.0)
    }
}

impl std::error::Error for TooShort {}

fn classify(e: io::Error, port: u16) -> TcpFailure {
    if let Some(short) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<TooShort>())
    {
        return TcpFailure::TooShort(short.0);
    }
    match e.kind() {
        io::ErrorKind::ConnectionRefused => TcpFailure::Refused(port),
        io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset => TcpFailure::Closed,
        _ => TcpFailure::Io(e.to_string()),
    }
}

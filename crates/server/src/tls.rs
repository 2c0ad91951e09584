//! HTTPS: the certificate (the operator's, or a self-signed one generated on first start) and a
//! listener that hands finished TLS connections to axum.
//!
//! rustls with the ring provider only. The generated certificate and key live in
//! `<data_dir>/tls/` (`cert.pem`, `key.pem` readable by the sensor's user only); the names it was
//! made for are in `names.txt`, and a start on an address it does not name makes a new one.

use crate::ServiceError;
use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::server::TlsStream;

/// Where the certificate in use came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateFiles {
    /// The certificate (PEM).
    pub cert: PathBuf,
    /// Its key (PEM).
    pub key: PathBuf,
    /// Whether the service generated it (self-signed).
    pub generated: bool,
}

/// Longest a client may take over the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Most handshakes under way at once.
const MAX_HANDSHAKES: usize = 256;

/// The generated certificate's directory inside the data directory.
pub fn generated_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("tls")
}

/// The names a generated certificate covers for a service listening on `ip`.
fn names_for(ip: IpAddr) -> Vec<String> {
    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    if !names.contains(&ip.to_string()) {
        names.push(ip.to_string());
    }
    names
}

/// The certificate to serve: the operator's files, or the generated one (made now if missing
/// or not made for `listen_ip`).
pub fn certificate(
    cert: Option<&Path>,
    key: Option<&Path>,
    data_dir: &Path,
    listen_ip: IpAddr,
) -> Result<CertificateFiles, ServiceError> {
    if let (Some(cert), Some(key)) = (cert, key) {
        return Ok(CertificateFiles {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            generated: false,
        });
    }
    let dir = generated_dir(data_dir);
    let files = CertificateFiles {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
        generated: true,
    };
    let names = names_for(listen_ip);
    let names_file = dir.join("names.txt");
    let made_for = std::fs::read_to_string(&names_file).unwrap_or_default();
    if files.cert.exists()
        && files.key.exists()
        && made_for.lines().any(|l| l == listen_ip.to_string())
    {
        return Ok(files);
    }
    generate(&dir, &files, &names, &names_file)?;
    tracing::info!(cert = %files.cert.display(), "generated a self-signed certificate for {}", names.join(", "));
    Ok(files)
}

fn generate(
    dir: &Path,
    files: &CertificateFiles,
    names: &[String],
    names_file: &Path,
) -> Result<(), ServiceError> {
    let io = |what: &str, path: &Path, e: std::io::Error| {
        ServiceError::Tls(format!("{what} {}: {e}", path.display()))
    };
    create_private_dir(dir).map_err(|e| io("creating", dir, e))?;
    let key = rcgen::KeyPair::generate()
        .map_err(|e| ServiceError::Tls(format!("generating a key: {e}")))?;
    let mut params = rcgen::CertificateParams::new(names.to_vec())
        .map_err(|e| ServiceError::Tls(format!("certificate names {names:?}: {e}")))?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "otsensor sensor (self-signed)");
    let cert = params
        .self_signed(&key)
        .map_err(|e| ServiceError::Tls(format!("signing the certificate: {e}")))?;
    write_private(&files.key, key.serialize_pem().as_bytes())
        .map_err(|e| io("writing", &files.key, e))?;
    std::fs::write(&files.cert, cert.pem()).map_err(|e| io("writing", &files.cert, e))?;
    std::fs::write(names_file, names.join("\n") + "\n")
        .map_err(|e| io("writing", names_file, e))?;
    Ok(())
}

/// Creates `dir` readable by the owner only.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Writes `bytes` to a new file readable by the owner only.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let _ = std::fs::remove_file(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// The rustls server configuration (ring provider, TLS 1.2 and 1.3, HTTP/1.1) for `files`.
pub fn server_config(files: &CertificateFiles) -> Result<Arc<ServerConfig>, ServiceError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            ServiceError::Tls(format!(
                "reading the certificate {}: {e}",
                files.cert.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(ServiceError::Tls(format!(
            "{} holds no certificate (PEM \"BEGIN CERTIFICATE\")",
            files.cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| ServiceError::Tls(format!("reading the key {}: {e}", files.key.display())))?;
    let mut config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| ServiceError::Tls(format!("TLS versions: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            ServiceError::Tls(format!(
                "{} and {} do not make a usable certificate and key: {e}",
                files.cert.display(),
                files.key.display()
            ))
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A listener that accepts TCP connections, completes their TLS handshakes in the background
/// (each within a time limit, a bounded number at once) and yields the finished ones.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    acceptor_task: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    /// Starts accepting on `tcp` with `config`.
    pub fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> std::io::Result<TlsListener> {
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        let acceptor_task = tokio::spawn(accept_loop(tcp, acceptor, tx));
        Ok(TlsListener {
            ready,
            local,
            acceptor_task,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.acceptor_task.abort();
    }
}

async fn accept_loop(
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    let slots = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    loop {
        let (stream, peer) = match tcp.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                // out of file descriptors and the like: wait a little instead of spinning
                tracing::warn!("accepting a connection: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let _ = stream.set_nodelay(true);
        let acceptor = acceptor.clone();
        let ready = ready.clone();
        tokio::spawn(async move {
            let _permit = permit;
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    let _ = ready.send((tls, peer)).await;
                }
                Ok(Err(e)) => tracing::debug!(%peer, "TLS handshake failed: {e}"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // the accept loop ended: nothing more will come
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// The client's address, for login throttling and the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub SocketAddr);

impl Connected<IncomingStream<'_, TlsListener>> for ClientAddr {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        ClientAddr(*stream.remote_addr())
    }
}

impl Connected<IncomingStream<'_, TcpListener>> for ClientAddr {
    fn connect_info(stream: IncomingStream<'_, TcpListener>) -> Self {
        ClientAddr(*stream.remote_addr())
    }
}

//! The otsensor sensor service: `otsensor serve`.
//!
//! It turns the scanners into a sensor that runs unattended: scans defined once and run on a
//! schedule, results kept, and only the right people able to change what touches the plant.
//!
//! - **HTTPS** on axum with rustls (ring provider): the operator's certificate, or a self-signed
//!   one generated on first start into `<data_dir>/tls/` ([`tls`]). Plain HTTP only when asked.
//!   It listens on 127.0.0.1:8443 by default and refuses to listen on all interfaces.
//! - **REST API** under `/api` ([`api`], routes in [`app::router`]), described by the OpenAPI
//!   document at `/api/openapi.json`; errors are JSON `{error, detail, field}`.
//! - **Stored scans** (use cases in [`usecase`], validation in [`model`]), run by the [`runner`]
//!   (one run per scan, stop within a second) and started by the [`scheduler`] in the sensor's
//!   time zone, inside each scan's maintenance window.
//! - **Users and roles** (admin, analyst, read-only), argon2 passwords, sessions in HttpOnly,
//!   Secure, SameSite=Strict cookies with CSRF protection, login throttling, API tokens
//!   ([`auth`]); the first admin gets a one-time password on first start ([`accounts`]).
//! - **Audit log** of every change and every scan start and stop.
//!
//! A start marks runs left `running` by a previous process as interrupted and computes every
//! schedule afresh. A stop (Ctrl-C, SIGTERM) stops the runs under way, saving them as cancelled.

pub mod accounts;
pub mod api;
pub mod app;
pub mod auth;
pub mod clock;
pub mod config;
pub mod console;
pub mod error;
pub mod extract;
mod lifecycle;
pub mod model;
pub mod persist;
pub mod rdns;
pub mod runner;
pub mod scheduler;
pub mod switch;
pub mod tls;
pub mod usecase;
pub mod wem;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{ConfigError, ServerSettings, ServiceConfig};

use app::{AppState, Shared};
use auth::throttle::Throttle;
use jiff::SignedDuration;
use otsensor_store::{NewAuditEntry, RunId, Store, StoreError};
use runner::Runner;
use scheduler::Scheduler;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tls::{CertificateFiles, ClientAddr, TlsListener};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Longest the server waits for open connections to finish on shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How often expired sessions are swept from the store.
const SESSION_SWEEP: SignedDuration = SignedDuration::from_mins(10);

/// Why the service could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The configuration cannot work.
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    /// The store could not be opened or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The certificate could not be made or read.
    #[error("TLS: {0}")]
    Tls(String),
    /// The address could not be bound.
    #[error(
        "listening on {addr}: {source} (another process on that port? set server.listen or --listen)"
    )]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// What the system said.
        source: std::io::Error,
    },
    /// The first admin could not be created.
    #[error("creating the first admin: {0}")]
    Account(#[from] accounts::AccountError),
}

/// A service that is up.
pub struct RunningService {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The certificate it serves (`None` for plain HTTP).
    pub certificate: Option<CertificateFiles>,
    /// The first admin's one-time password, when this start created the admin.
    pub first_admin_password: Option<String>,
    /// Runs this start found cut off by a previous stop and marked interrupted.
    pub interrupted: Vec<RunId>,
    state: AppState,
    stop: CancellationToken,
    server: JoinHandle<std::io::Result<()>>,
    background: Vec<JoinHandle<()>>,
}

impl RunningService {
    /// The base URL (`https://127.0.0.1:8443`).
    pub fn url(&self) -> String {
        let scheme = if self.certificate.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// The store it uses.
    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// Starts a run of the stored scan `scan` now, on behalf of `actor` (as `POST
    /// /api/scans/{id}/run` does; `otsensor demo` runs its ready-made scans this way).
    pub async fn run_now(&self, scan: i64, actor: &str) -> Result<RunId, String> {
        let def = self
            .state
            .store
            .definition(otsensor_store::ScanId(scan))
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("no scan {scan}"))?;
        let (origin, audit) = self.manual_start(actor);
        self.state
            .runner
            .start(&def, origin, audit)
            .await
            .map_err(|e| e.to_string())
    }

    /// Starts a reverse-DNS run of the stored DNS server `server` now, on behalf of `actor` (as
    /// `POST /api/rdns/servers/{id}/run` does).
    pub async fn run_rdns_now(&self, server: i64, actor: &str) -> Result<RunId, String> {
        let stored = self
            .state
            .store
            .dns_server(otsensor_store::DnsServerId(server))
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("no DNS server {server}"))?;
        let (origin, audit) = self.manual_start(actor);
        self.state
            .rdns
            .start(&stored, origin, audit)
            .await
            .map_err(|e| e.to_string())
    }

    /// The origin and the `run.start` audit entry of a run `actor` starts by hand.
    fn manual_start(&self, actor: &str) -> (otsensor_store::RunOrigin, NewAuditEntry) {
        let origin = otsensor_store::RunOrigin {
            trigger: otsensor_store::Trigger::Manual,
            actor: actor.to_string(),
        };
        let mut audit = system_entry(self.state.clock.now(), "run.start", serde_json::Value::Null);
        audit.actor = actor.to_string();
        (origin, audit)
    }

    /// Whether the reverse-DNS run `run` is under way.
    pub fn is_rdns_running(&self, run: RunId) -> bool {
        self.state.rdns.is_running(run)
    }

    /// Whether a run of the stored scan `scan` is under way.
    pub fn is_running(&self, scan: i64) -> bool {
        self.state
            .runner
            .running(otsensor_store::ScanId(scan))
            .is_some()
    }

    /// Resolves when the server stopped by itself (it does not, unless it failed).
    pub async fn stopped(&mut self) -> std::io::Result<()> {
        match (&mut self.server).await {
            Ok(result) => result,
            Err(e) => Err(std::io::Error::other(e)),
        }
    }

    /// Stops accepting requests, stops the runs under way (saved as cancelled), waits for open
    /// requests (a few seconds at most) and closes the store.
    pub async fn shutdown(self) {
        self.stop.cancel();
        self.state.runner.shutdown().await;
        self.state.rdns.shutdown().await;
        self.state.wem.shutdown().await;
        for task in self.background {
            task.abort();
        }
        let mut server = self.server;
        if tokio::time::timeout(SHUTDOWN_GRACE, &mut server)
            .await
            .is_err()
        {
            server.abort();
        }
        let entry = system_entry(
            self.state.clock.now(),
            "service.stop",
            serde_json::json!({}),
        );
        if let Err(e) = self.state.store.record_audit(&entry).await {
            tracing::error!("recording the stop: {e}");
        }
        self.state.store.close().await;
    }
}

fn system_entry(at: jiff::Timestamp, action: &str, detail: serde_json::Value) -> NewAuditEntry {
    NewAuditEntry {
        at,
        actor: "system".into(),
        via: "system".into(),
        action: action.into(),
        target: None,
        detail,
        client: None,
    }
}

/// Starts the service: opens the store (marking interrupted runs), creates the first admin if
/// there is no user, prepares HTTPS, binds, plans the schedules and serves.
pub async fn start(
    config: ServiceConfig,
    clock: Arc<dyn Clock>,
) -> Result<RunningService, ServiceError> {
    config.validate()?;
    let config = Arc::new(config);
    let store = Store::open(&config.data_dir).await?;
    keep_private(&config.data_dir);
    let interrupted = store.mark_interrupted_runs().await?;
    for run in &interrupted {
        let mut entry = system_entry(
            clock.now(),
            "run.interrupted",
            serde_json::json!({ "reason": "the sensor stopped before the run ended" }),
        );
        entry.target = Some(format!("run:{run}"));
        store.record_audit(&entry).await?;
    }
    let first_admin_password = accounts::ensure_first_admin(&store, clock.now()).await?;
    let certificate = if config.server.insecure_http {
        None
    } else {
        Some(tls::certificate(
            config.server.tls_cert.as_deref(),
            config.server.tls_key.as_deref(),
            &config.data_dir,
            config.server.listen.ip(),
        )?)
    };
    let tcp = TcpListener::bind(config.server.listen)
        .await
        .map_err(|source| ServiceError::Bind {
            addr: config.server.listen,
            source,
        })?;
    let addr = tcp.local_addr().map_err(|source| ServiceError::Bind {
        addr: config.server.listen,
        source,
    })?;

    let runner = Arc::new(Runner::new(store.clone(), config.clone(), clock.clone()));
    let scheduler = Arc::new(Scheduler::new(
        store.clone(),
        runner.clone(),
        clock.clone(),
        config.time_zone.clone(),
    ));
    scheduler.load().await?;
    let rdns = Arc::new(rdns::RdnsRunner::new(
        store.clone(),
        config.clone(),
        clock.clone(),
    ));
    rdns.load().await?;
    let wem = Arc::new(wem::WemRunner::new(
        store.clone(),
        config.clone(),
        clock.clone(),
    ));
    wem.plan().await?;
    let state = AppState(Arc::new(Shared {
        store: store.clone(),
        config: config.clone(),
        clock: clock.clone(),
        runner,
        scheduler: scheduler.clone(),
        rdns: rdns.clone(),
        wem: wem.clone(),
        throttle: Throttle::new(
            config.server.login_max_failures,
            SignedDuration::from_secs(
                i64::try_from(config.server.login_lockout_secs).unwrap_or(i64::MAX / 2),
            ),
        ),
        tls: certificate.is_some(),
    }));
    let stop = CancellationToken::new();
    let router = app::router(state.clone());
    let service = router.into_make_service_with_connect_info::<ClientAddr>();
    let shutdown_signal = stop.clone().cancelled_owned();
    let server = match &certificate {
        Some(files) => {
            let listener = TlsListener::new(tcp, tls::server_config(files)?)
                .map_err(|source| ServiceError::Bind { addr, source })?;
            tokio::spawn(async move {
                axum::serve(listener, service)
                    .with_graceful_shutdown(shutdown_signal)
                    .await
            })
        }
        None => tokio::spawn(async move {
            axum::serve(tcp, service)
                .with_graceful_shutdown(shutdown_signal)
                .await
        }),
    };
    let background = vec![
        tokio::spawn(scheduler.run(stop.clone())),
        tokio::spawn(rdns.run_schedules(stop.clone())),
        tokio::spawn(wem.run_schedule(stop.clone())),
        tokio::spawn(sweep_sessions(state.clone(), stop.clone())),
    ];
    store
        .record_audit(&system_entry(
            clock.now(),
            "service.start",
            serde_json::json!({
                "listen": addr.to_string(),
                "https": certificate.is_some(),
                "interrupted_runs": interrupted.iter().map(|r| r.0).collect::<Vec<_>>(),
            }),
        ))
        .await?;
    tracing::info!("listening on {addr}");
    Ok(RunningService {
        addr,
        certificate,
        first_admin_password,
        interrupted,
        state,
        stop,
        server,
        background,
    })
}

/// Makes the data directory (password hashes, session hashes, the audit log, the TLS key)
/// accessible to the sensor's user only; a failure is logged, not fatal (the operator may manage
/// the permissions).
fn keep_private(dir: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Err(e) = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)) {
            tracing::warn!("making {} private: {e}", dir.display());
        }
    }
}

/// Deletes expired sessions every few minutes.
async fn sweep_sessions(state: AppState, stop: CancellationToken) {
    loop {
        let now = state.clock.now();
        let idle_since = now.checked_sub(state.session_idle()).unwrap_or(now);
        if let Err(e) = state.store.delete_expired_sessions(now, idle_since).await {
            tracing::warn!("sweeping expired sessions: {e}");
        }
        let next = now.checked_add(SESSION_SWEEP).unwrap_or(now);
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = state.clock.sleep_until(next) => {}
        }
    }
}

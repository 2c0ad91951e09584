//! Reverse DNS through the service: lookup runs of the configured DNS servers (run now, stop,
//! and the scheduler's runs on each enabled server's schedule), one run per server at a time.
//!
//! A run looks up the addresses of the inventory's devices inside the server's subnets (what
//! the store's `device_addresses_in` gives), writes the names into those devices
//! (`Store::finish_rdns_run`) and keeps the probe log; every DNS server must be inside the
//! sensor's scope. [`name_lookup`] is shared with the command line's `otsensor rdns`.

use crate::clock::Clock;
use crate::config::ServiceConfig;
use crate::lifecycle::{Active, Lifecycle};
use crate::runner::StartError;
use jiff::Timestamp;
use otsensor_core::{DnsServerSettings, NameLookup, NameResult, Outcome};
use otsensor_dns::{Lookup, LookupStatus, Resolver, ResolverConfig};
use otsensor_store::{
    DnsServer, DnsServerId, NewAuditEntry, RdnsRunResult, RunId, RunOrigin, RunStatus, Store,
    StoreError,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

/// A lookup as the inventory takes it; the names move over (the lookup keeps the rest).
pub fn name_lookup(l: &mut Lookup, at: Timestamp) -> NameLookup {
    let result = match l.status {
        LookupStatus::Found => NameResult::Found(std::mem::take(&mut l.names)),
        LookupStatus::NxDomain | LookupStatus::NoData => NameResult::Missing,
        LookupStatus::Timeout => NameResult::Failed(Outcome::NoResponse),
        LookupStatus::Refused | LookupStatus::Unreachable => NameResult::Failed(Outcome::Refused),
        LookupStatus::ServFail | LookupStatus::Error => NameResult::Failed(Outcome::Error),
    };
    let detail = if l.status == LookupStatus::Found {
        String::new() // the probe log keeps no text for an address that was identified
    } else {
        l.describe()
    };
    NameLookup {
        address: l.address,
        result,
        looked_up: at,
        duration_ms: l.elapsed.as_millis() as u64,
        detail,
    }
}

/// The resolver of a server's settings; the error says why (a server outside the scope).
pub fn resolver(settings: &DnsServerSettings, config: &ServiceConfig) -> Result<Resolver, String> {
    let mut rc = ResolverConfig::new(settings.server());
    rc.rate = settings.rate;
    Resolver::new(rc, &config.scope).map_err(|e| e.to_string())
}

/// Starts, stops and schedules lookup runs of the configured DNS servers.
pub struct RdnsRunner {
    store: Store,
    config: Arc<ServiceConfig>,
    clock: Arc<dyn Clock>,
    active: Mutex<HashMap<DnsServerId, Active>>,
    next: Mutex<BTreeMap<DnsServerId, Timestamp>>,
    life: Lifecycle,
    wake: Notify,
}

impl RdnsRunner {
    /// A runner saving into `store`.
    pub fn new(store: Store, config: Arc<ServiceConfig>, clock: Arc<dyn Clock>) -> RdnsRunner {
        RdnsRunner {
            store,
            config,
            clock,
            active: Mutex::new(HashMap::new()),
            next: Mutex::new(BTreeMap::new()),
            life: Lifecycle::new(),
            wake: Notify::new(),
        }
    }

    fn active(&self) -> std::sync::MutexGuard<'_, HashMap<DnsServerId, Active>> {
        self.active.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn next(&self) -> std::sync::MutexGuard<'_, BTreeMap<DnsServerId, Timestamp>> {
        self.next.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The running run of `server`, if it runs.
    pub fn running(&self, server: DnsServerId) -> Option<RunId> {
        self.active().get(&server).map(|a| a.run)
    }

    /// Whether `run` is a lookup run under way.
    pub fn is_running(&self, run: RunId) -> bool {
        self.active().values().any(|a| a.run == run)
    }

    /// When `server` next runs by itself.
    pub fn next_run(&self, server: DnsServerId) -> Option<Timestamp> {
        self.next().get(&server).copied()
    }

    /// Plans the next run of `server` from now (after it was created or changed).
    pub async fn plan(&self, server: &DnsServer) -> Result<(), StoreError> {
        let now = self.clock.now();
        let next = if server.settings.enabled {
            let last = self
                .store
                .rdns_runs(Some(server.id))
                .await?
                .first()
                .map(|r| r.started);
            Some(
                server
                    .settings
                    .schedule
                    .next_run(now, last, &self.config.time_zone),
            )
        } else {
            None
        };
        match next {
            Some(t) => self.next().insert(server.id, t),
            None => self.next().remove(&server.id),
        };
        self.wake.notify_one();
        Ok(())
    }

    /// Forgets `server` (deleted).
    pub fn forget(&self, server: DnsServerId) {
        self.next().remove(&server);
        self.wake.notify_one();
    }

    /// Plans every server afresh (on start).
    pub async fn load(&self) -> Result<(), StoreError> {
        self.next().clear();
        for server in self.store.dns_servers().await? {
            self.plan(&server).await?;
        }
        Ok(())
    }

    /// Starts a lookup run of `server` now; `audit` names who asked (recorded as `run.start`).
    pub async fn start(
        self: &Arc<Self>,
        server: &DnsServer,
        origin: RunOrigin,
        audit: NewAuditEntry,
    ) -> Result<RunId, StartError> {
        let _one_at_a_time = self.life.start_lock.lock().await;
        if self.life.shutdown.is_cancelled() {
            return Err(StartError::ShuttingDown);
        }
        if let Some(active) = self.active().get(&server.id) {
            return Err(StartError::Running {
                scan: server.scan,
                run: active.run,
            });
        }
        let resolver =
            resolver(&server.settings, &self.config).map_err(|detail| StartError::Unrunnable {
                scan: server.scan,
                field: "address".into(),
                detail,
            })?;
        let addresses = self
            .store
            .device_addresses_in(&server.settings.subnets)
            .await?;
        let now = self.clock.now();
        let mut entry = audit;
        entry.at = now;
        entry.action = "run.start".into();
        entry.detail = serde_json::json!({
            "dns_server": server.id.0,
            "server": server.settings.server().to_string(),
            "trigger": origin.trigger,
            "addresses": addresses.len(),
        });
        let total = addresses.len() as u64;
        let run = self
            .store
            .start_recorded_run(server.scan, now, total, &origin, &entry)
            .await?;
        let cancel = self.life.shutdown.child_token();
        let (done_tx, done) = watch::channel(false);
        self.active().insert(
            server.id,
            Active {
                run,
                cancel: cancel.clone(),
                progress: (),
                done,
            },
        );
        let runner = self.clone();
        let owned = server.clone();
        self.life.tasks.spawn(async move {
            let (lookups, cancelled, error) = look_up(&resolver, addresses, &cancel).await;
            runner.finish(&owned, run, lookups, cancelled, error).await;
            runner.active().remove(&owned.id);
            let _ = done_tx.send(true);
        });
        tracing::info!(dns_server = server.id.0, run = run.0, "lookup run started");
        Ok(run)
    }

    async fn close_failed(&self, run: RunId, message: &str) {
        if let Err(e) = self.store.fail_run(run, self.clock.now(), message).await {
            tracing::error!(run = run.0, "closing the lookup run as failed: {e}");
        }
    }

    async fn finish(
        &self,
        server: &DnsServer,
        run: RunId,
        mut lookups: Vec<(Lookup, Timestamp)>,
        cancelled: bool,
        error: Option<String>,
    ) {
        lookups.sort_by_key(|(l, _)| l.address);
        let names: Vec<NameLookup> = lookups
            .iter_mut()
            .map(|(l, at)| name_lookup(l, *at))
            .collect();
        let note = match (&error, cancelled) {
            (Some(e), _) => Some(e.clone()),
            (None, true) if self.life.shutdown.is_cancelled() => {
                Some("stopped: the sensor was shutting down".to_string())
            }
            (None, true) => Some("stopped on request".to_string()),
            (None, false) => None,
        };
        let status = match (&error, cancelled) {
            (Some(_), _) => RunStatus::Failed,
            (None, true) => RunStatus::Cancelled,
            (None, false) => RunStatus::Completed,
        };
        let merging = self.store.merge_guard().await;
        let saved = self
            .store
            .finish_rdns_run(
                run,
                &RdnsRunResult {
                    status,
                    ended: self.clock.now(),
                    server: server.settings.server(),
                    server_id: Some(server.id),
                    labels: server.settings.labels,
                    subnets: &server.settings.subnets,
                    lookups: &names,
                    error: note.as_deref(),
                },
            )
            .await;
        drop(merging);
        let (status, summary, error) = match saved {
            Ok(summary) => (status, Some(summary), note),
            Err(e) => {
                tracing::error!(run = run.0, "saving the lookup run: {e}");
                let message = format!("saving the run failed: {e}");
                self.close_failed(run, &message).await;
                (RunStatus::Failed, None, Some(message))
            }
        };
        let entry = NewAuditEntry {
            at: self.clock.now(),
            actor: "system".into(),
            via: "system".into(),
            action: "run.end".into(),
            target: Some(format!("run:{run}")),
            detail: serde_json::json!({
                "dns_server": server.id.0,
                "status": status,
                "summary": summary,
                "error": error,
            }),
            client: None,
        };
        if let Err(e) = self.store.record_audit(&entry).await {
            tracing::error!(run = run.0, "recording the end of the lookup run: {e}");
        }
    }

    /// Stops the running run of `server` and waits until it is saved; `None` when it does not
    /// run. `audit` names who asked; recorded as `run.stop`.
    pub async fn stop(
        &self,
        server: DnsServerId,
        audit: NewAuditEntry,
    ) -> Result<Option<RunId>, StoreError> {
        let Some(active) = self.active().get(&server).cloned() else {
            return Ok(None);
        };
        let detail = serde_json::json!({ "dns_server": server.0 });
        let now = self.clock.now();
        Ok(Some(active.stop(&self.store, now, audit, detail).await?))
    }

    /// Stops every run (saved as cancelled) and waits for them; no run starts afterwards.
    pub async fn shutdown(&self) {
        self.life.shutdown().await;
    }

    /// Starts due servers until `stop` (the scheduler of reverse DNS).
    pub async fn run_schedules(self: Arc<Self>, stop: CancellationToken) {
        loop {
            let now = self.clock.now();
            let due: Vec<DnsServerId> = self
                .next()
                .iter()
                .filter(|(_, t)| **t <= now)
                .map(|(id, _)| *id)
                .collect();
            for id in due {
                self.start_due(id, now).await;
            }
            let wake_at = self.next().values().min().copied();
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = self.wake.notified() => {}
                _ = sleep(&*self.clock, wake_at) => {}
            }
        }
    }

    async fn start_due(self: &Arc<Self>, id: DnsServerId, now: Timestamp) {
        let server = match self.store.dns_server(id).await {
            Ok(Some(server)) => server,
            Ok(None) => {
                self.next().remove(&id);
                return;
            }
            Err(e) => {
                tracing::error!(dns_server = id.0, "reading a due DNS server: {e}");
                let retry = now
                    .checked_add(jiff::SignedDuration::from_secs(60))
                    .unwrap_or(now);
                self.next().insert(id, retry);
                return;
            }
        };
        let following = server
            .settings
            .schedule
            .next_run(now, Some(now), &self.config.time_zone);
        if server.settings.enabled {
            self.next().insert(id, following);
        } else {
            self.next().remove(&id);
            return;
        }
        let origin = RunOrigin {
            trigger: otsensor_store::Trigger::Scheduled,
            actor: "scheduler".into(),
        };
        let entry = NewAuditEntry {
            at: now,
            actor: "scheduler".into(),
            via: "scheduler".into(),
            action: String::new(),
            target: None,
            detail: serde_json::Value::Null,
            client: None,
        };
        match self.start(&server, origin, entry.clone()).await {
            Ok(run) => tracing::info!(dns_server = id.0, run = run.0, "scheduled lookup run"),
            Err(StartError::ShuttingDown) => {}
            Err(e) => {
                tracing::warn!(dns_server = id.0, "scheduled lookup run skipped: {e}");
                let mut skip = entry;
                skip.action = "run.skip".into();
                skip.target = Some(format!("dns_server:{id}"));
                skip.detail = serde_json::json!({ "reason": e.to_string() });
                if let Err(e) = self.store.record_audit(&skip).await {
                    tracing::error!("recording a skipped lookup run: {e}");
                }
            }
        }
    }
}

/// Looks every address up until done or cancelled; returns the lookups with their times,
/// whether it was cancelled, and why it could not run, if it could not.
async fn look_up(
    resolver: &Resolver,
    addresses: Vec<std::net::IpAddr>,
    cancel: &CancellationToken,
) -> (Vec<(Lookup, Timestamp)>, bool, Option<String>) {
    let mut lookups = Vec::with_capacity(addresses.len());
    let mut sink = |l: Lookup| lookups.push((l, Timestamp::now()));
    let (cancelled, error) = tokio::select! {
        result = resolver.lookup_all(addresses, &mut sink) => (false, result.err().map(|e| e.to_string())),
        _ = cancel.cancelled() => (true, None),
    };
    (lookups, cancelled, error)
}

async fn sleep(clock: &dyn Clock, until: Option<Timestamp>) {
    match until {
        Some(t) => clock.sleep_until(t).await,
        None => std::future::pending().await,
    }
}

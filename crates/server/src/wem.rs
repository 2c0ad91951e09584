//! Windows endpoint monitoring through the service: the WEM scan (every enabled range with its
//! own account, one range after the other; only one WEM scan at a time), stop, and the
//! scheduler's runs on the WEM schedule.
//!
//! The hosts go into the inventory through the shared save path (`persist`); the results of
//! the last scan (one row per host) and its probe log are kept for the CSV downloads.

use crate::clock::Clock;
use crate::config::ServiceConfig;
use crate::lifecycle::Lifecycle;
use crate::persist::save_outcome;
use crate::runner::StartError;
use jiff::Timestamp;
use otsensor_core::wem::{WemRange, WemResult};
use otsensor_core::{Protocol, TargetSet};
use otsensor_engine::{Progress, ScanOutcome, ScanRequest, ScanStatus, run_scan};
use otsensor_store::{NewAuditEntry, RunId, RunOrigin, RunStatus, Store, StoreError};
use otsensor_wmi::{AuthLevel, Credentials, WmiProbe};
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

/// A run under way, with its progress.
type Active = crate::lifecycle::Active<Arc<Mutex<Progress>>>;

/// Starts, stops and schedules WEM scans.
pub struct WemRunner {
    store: Store,
    config: Arc<ServiceConfig>,
    clock: Arc<dyn Clock>,
    active: Mutex<Option<Active>>,
    next: Mutex<Option<Timestamp>>,
    life: Lifecycle,
    wake: Notify,
}

/// The engine requests of the enabled ranges; the error names the range at fault.
pub fn range_requests(
    ranges: &[WemRange],
    config: &ServiceConfig,
) -> Result<Vec<(WemRange, ScanRequest)>, (String, String)> {
    let mut out = Vec::new();
    for (i, r) in ranges.iter().enumerate().filter(|(_, r)| !r.disabled) {
        let field = format!("ranges[{i}]");
        let targets = TargetSet::parse([r.target_text().as_str()], config.max_targets)
            .map_err(|e| (field.clone(), e.to_string()))?;
        config
            .scope
            .check_all(&targets)
            .map_err(|e| (field.clone(), e.to_string()))?;
        out.push((
            r.clone(),
            ScanRequest {
                targets,
                scope: config.scope.clone(),
                pacing: config.pacing,
                port: Protocol::Wmi.default_port(),
                depth: 0,
            },
        ));
    }
    if out.is_empty() {
        return Err(("ranges".into(), "no enabled WEM range to scan".into()));
    }
    Ok(out)
}

impl WemRunner {
    /// A runner saving into `store`.
    pub fn new(store: Store, config: Arc<ServiceConfig>, clock: Arc<dyn Clock>) -> WemRunner {
        WemRunner {
            store,
            config,
            clock,
            active: Mutex::new(None),
            next: Mutex::new(None),
            life: Lifecycle::new(),
            wake: Notify::new(),
        }
    }

    fn active(&self) -> std::sync::MutexGuard<'_, Option<Active>> {
        self.active.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn next(&self) -> std::sync::MutexGuard<'_, Option<Timestamp>> {
        self.next.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The running WEM run and its progress, if one runs.
    pub fn running(&self) -> Option<(RunId, Progress)> {
        self.active()
            .as_ref()
            .map(|a| (a.run, *a.progress.lock().unwrap_or_else(|e| e.into_inner())))
    }

    /// When the WEM scan next runs by itself.
    pub fn next_run(&self) -> Option<Timestamp> {
        *self.next()
    }

    /// Plans the next scheduled run from now (on start and after the schedule changed).
    pub async fn plan(&self) -> Result<(), StoreError> {
        let now = self.clock.now();
        let schedule = self.store.wem_schedule().await?;
        let scan = self.store.wem_scan().await?;
        let last = self
            .store
            .runs_of_scan(scan, 0, 1)
            .await?
            .runs
            .first()
            .map(|r| r.started);
        *self.next() = schedule.next_after(now, last, &self.config.time_zone);
        self.wake.notify_one();
        Ok(())
    }

    /// Starts a WEM scan now; `audit` names who asked (recorded as `run.start`).
    pub async fn start(
        self: &Arc<Self>,
        origin: RunOrigin,
        audit: NewAuditEntry,
    ) -> Result<RunId, StartError> {
        let _one_at_a_time = self.life.start_lock.lock().await;
        if self.life.shutdown.is_cancelled() {
            return Err(StartError::ShuttingDown);
        }
        let scan = self.store.wem_scan().await?;
        if let Some(active) = self.active().as_ref() {
            return Err(StartError::Running {
                scan,
                run: active.run,
            });
        }
        let ranges = self.store.wem_ranges().await?;
        let plan = range_requests(&ranges, &self.config).map_err(|(field, detail)| {
            StartError::Unrunnable {
                scan,
                field,
                detail,
            }
        })?;
        let total: u64 = plan
            .iter()
            .map(|(_, r)| r.targets.addresses().len() as u64)
            .sum();
        let now = self.clock.now();
        let mut entry = audit;
        entry.at = now;
        entry.action = "run.start".into();
        entry.detail = serde_json::json!({
            "scan": scan.0,
            "name": "Windows endpoint monitoring",
            "trigger": origin.trigger,
            "ranges": plan.iter().map(|(r, _)| r.target_text()).collect::<Vec<_>>(),
        });
        let run = self
            .store
            .start_wem_run_as(now, total, Some((&origin, &entry)))
            .await?;
        let cancel = self.life.shutdown.child_token();
        let progress = Arc::new(Mutex::new(Progress {
            total,
            ..Progress::default()
        }));
        let (done_tx, done) = watch::channel(false);
        *self.active() = Some(Active {
            run,
            cancel: cancel.clone(),
            progress: progress.clone(),
            done,
        });
        let runner = self.clone();
        self.life.tasks.spawn(async move {
            let outcome = scan_ranges(plan, &cancel, &progress).await;
            runner.finish(run, outcome).await;
            *runner.active() = None;
            let _ = done_tx.send(true);
        });
        tracing::info!(run = run.0, "WEM scan started");
        Ok(run)
    }

    async fn close_failed(&self, run: RunId, message: &str) {
        if let Err(e) = self.store.fail_run(run, self.clock.now(), message).await {
            tracing::error!(run = run.0, "closing the WEM run as failed: {e}");
        }
    }

    async fn finish(&self, run: RunId, outcome: Result<ScanOutcome, String>) {
        let saved = match outcome {
            Ok(mut outcome) => {
                outcome.ended = self.clock.now();
                let note = match outcome.status {
                    ScanStatus::Cancelled if self.life.shutdown.is_cancelled() => {
                        Some("stopped: the sensor was shutting down")
                    }
                    ScanStatus::Cancelled => Some("stopped on request"),
                    _ => None,
                };
                self.save(run, &mut outcome, note).await
            }
            Err(e) => {
                self.close_failed(run, &e).await;
                Err(e)
            }
        };
        let detail = match &saved {
            Ok((status, new, updated, hosts)) => serde_json::json!({
                "status": status, "new_devices": new, "updated_devices": updated, "hosts": hosts,
            }),
            Err(e) => serde_json::json!({ "status": RunStatus::Failed, "error": e }),
        };
        let entry = NewAuditEntry {
            at: self.clock.now(),
            actor: "system".into(),
            via: "system".into(),
            action: "run.end".into(),
            target: Some(format!("run:{run}")),
            detail,
            client: None,
        };
        if let Err(e) = self.store.record_audit(&entry).await {
            tracing::error!(run = run.0, "recording the end of the WEM run: {e}");
        }
    }

    /// Saves the hosts, the run and the results; returns (status, new, updated, hosts).
    async fn save(
        &self,
        run: RunId,
        outcome: &mut ScanOutcome,
        note: Option<&str>,
    ) -> Result<(RunStatus, u64, u64, usize), String> {
        let result = async {
            let saved = save_outcome(&self.store, run, outcome, note).await?;
            let mut observations: Vec<_> = outcome.observations.iter().collect();
            observations.sort_by_key(|o| o.address);
            let results: Vec<WemResult> = observations
                .iter()
                .map(|o| WemResult::from_facts(o.address, &o.facts))
                .collect();
            self.store.save_wem_results(run, &results).await?;
            Ok::<_, StoreError>((
                saved.status,
                saved.summary.new_devices,
                saved.summary.updated_devices,
                results.len(),
            ))
        };
        match result.await {
            Ok(done) => Ok(done),
            Err(e) => {
                tracing::error!(run = run.0, "saving the WEM run: {e}");
                let message = format!("saving the run failed: {e}");
                self.close_failed(run, &message).await;
                Err(message)
            }
        }
    }

    /// Stops the running WEM scan and waits until it is saved; `None` when none runs.
    pub async fn stop(&self, audit: NewAuditEntry) -> Result<Option<RunId>, StoreError> {
        let Some(active) = self.active().clone() else {
            return Ok(None);
        };
        let detail = serde_json::json!({ "wem": true });
        let now = self.clock.now();
        Ok(Some(active.stop(&self.store, now, audit, detail).await?))
    }

    /// Stops the run under way (saved as cancelled) and waits for it; none starts afterwards.
    pub async fn shutdown(&self) {
        self.life.shutdown().await;
    }

    /// Starts the WEM scan when its schedule says, until `stop`.
    pub async fn run_schedule(self: Arc<Self>, stop: CancellationToken) {
        loop {
            let now = self.clock.now();
            let due = self.next().is_some_and(|t| t <= now);
            if due {
                self.start_due(now).await;
            }
            let wake_at = *self.next();
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = self.wake.notified() => {}
                _ = sleep(&*self.clock, wake_at) => {}
            }
        }
    }

    async fn start_due(self: &Arc<Self>, now: Timestamp) {
        let following = match self.store.wem_schedule().await {
            Ok(s) => s.next_after(now, Some(now), &self.config.time_zone),
            Err(e) => {
                tracing::error!("reading the WEM schedule: {e}");
                now.checked_add(jiff::SignedDuration::from_secs(60)).ok()
            }
        };
        *self.next() = following;
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
        match self.start(origin, entry.clone()).await {
            Ok(run) => tracing::info!(run = run.0, "scheduled WEM scan started"),
            Err(StartError::ShuttingDown) => {}
            Err(e) => {
                tracing::warn!("scheduled WEM scan skipped: {e}");
                let mut skip = entry;
                skip.action = "run.skip".into();
                skip.target = Some("wem".into());
                skip.detail = serde_json::json!({ "reason": e.to_string() });
                if let Err(e) = self.store.record_audit(&skip).await {
                    tracing::error!("recording a skipped WEM scan: {e}");
                }
            }
        }
    }
}

/// Scans each range with its own account, one after the other, until done or cancelled.
async fn scan_ranges(
    plan: Vec<(WemRange, ScanRequest)>,
    cancel: &CancellationToken,
    progress: &Arc<Mutex<Progress>>,
) -> Result<ScanOutcome, String> {
    let started = Timestamp::now();
    let total = progress.lock().unwrap_or_else(|e| e.into_inner()).total;
    let mut all = ScanOutcome {
        status: ScanStatus::Completed,
        observations: Vec::new(),
        probe_log: Vec::new(),
        progress: Progress {
            total,
            ..Progress::default()
        },
        started,
        ended: started,
    };
    for (range, request) in plan {
        if cancel.is_cancelled() {
            all.status = ScanStatus::Cancelled;
            break;
        }
        let credentials = Credentials::parse(&range.user, range.password.expose());
        let probe = Arc::new(WmiProbe::new(credentials, AuthLevel::Privacy));
        let before = all.progress;
        let done = run_scan(probe, request, cancel.clone(), &|p: Progress| {
            let mut shown = progress.lock().unwrap_or_else(|e| e.into_inner());
            shown.done = before.done + p.done;
            shown.identified = before.identified + p.identified;
        })
        .await
        .map_err(|e| format!("range {}: {e}", range.target_text()))?;
        if done.status == ScanStatus::Cancelled {
            all.status = ScanStatus::Cancelled;
        }
        all.progress.done += done.progress.done;
        all.progress.identified += done.progress.identified;
        all.observations.extend(done.observations);
        all.probe_log.extend(done.probe_log);
    }
    all.ended = Timestamp::now();
    Ok(all)
}

async fn sleep(clock: &dyn Clock, until: Option<Timestamp>) {
    match until {
        Some(t) => clock.sleep_until(t).await,
        None => std::future::pending().await,
    }
}

//! Running stored scans: start (one run per scan at a time, only inside the maintenance window),
//! stop within a second, live progress, and saving the result (inventory merge, probe log,
//! counts) when the engine returns.

use crate::clock::Clock;
use crate::config::ServiceConfig;
use crate::error::ApiError;
use crate::lifecycle::Lifecycle;
use crate::model::scan_request;
use crate::persist::save_outcome;
use jiff::Timestamp;
use otsensor_core::SnmpCredentials;
use otsensor_engine::{Progress, ScanError, ScanOutcome, ScanRequest, ScanStatus, run_scan};
use otsensor_store::{
    NewAuditEntry, RunId, RunOrigin, RunStatus, RunSummary, ScanDefinition, ScanId, Store,
    StoreError,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// A run under way, with its progress.
type Active = crate::lifecycle::Active<Arc<Mutex<Progress>>>;

/// Why a run did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The scan is already running (one run per scan).
    #[error("scan {scan} is already running (run {run})")]
    Running {
        /// The scan.
        scan: ScanId,
        /// Its running run.
        run: RunId,
    },
    /// Outside the scan's maintenance window.
    #[error("scan {scan} may start only inside its maintenance window ({window}){}", opens.map(|t| format!("; it next opens at {t}")).unwrap_or_default())]
    OutsideWindow {
        /// The scan.
        scan: ScanId,
        /// The window, for people.
        window: String,
        /// When the window next opens.
        opens: Option<Timestamp>,
    },
    /// The stored scan cannot run under the current configuration.
    #[error("scan {scan} cannot run: {field}: {detail}")]
    Unrunnable {
        /// The scan.
        scan: ScanId,
        /// The field at fault.
        field: String,
        /// Why.
        detail: String,
    },
    /// The sensor is shutting down.
    #[error("the sensor is shutting down")]
    ShuttingDown,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<StartError> for ApiError {
    fn from(e: StartError) -> ApiError {
        match e {
            StartError::Running { .. } | StartError::OutsideWindow { .. } => {
                ApiError::conflict(e.to_string())
            }
            StartError::Unrunnable { ref field, .. } => {
                ApiError::conflict_field(field.clone(), e.to_string())
            }
            StartError::ShuttingDown => ApiError::conflict(e.to_string()),
            StartError::Store(s) => s.into(),
        }
    }
}

/// Starts, stops and tracks runs of stored scans.
pub struct Runner {
    store: Store,
    config: Arc<ServiceConfig>,
    clock: Arc<dyn Clock>,
    active: Mutex<HashMap<ScanId, Active>>,
    life: Lifecycle,
}

impl Runner {
    /// A runner saving into `store`.
    pub fn new(store: Store, config: Arc<ServiceConfig>, clock: Arc<dyn Clock>) -> Runner {
        Runner {
            store,
            config,
            clock,
            active: Mutex::new(HashMap::new()),
            life: Lifecycle::new(),
        }
    }

    fn active(&self) -> std::sync::MutexGuard<'_, HashMap<ScanId, Active>> {
        self.active.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The running run of `scan` and its progress, if it runs.
    pub fn running(&self, scan: ScanId) -> Option<(RunId, Progress)> {
        self.active()
            .get(&scan)
            .map(|a| (a.run, *a.progress.lock().unwrap_or_else(|e| e.into_inner())))
    }

    /// The progress of `run`, if it is running.
    pub fn progress_of(&self, run: RunId) -> Option<Progress> {
        self.active()
            .values()
            .find(|a| a.run == run)
            .map(|a| *a.progress.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// How many runs are under way.
    pub fn running_count(&self) -> usize {
        self.active().len()
    }

    /// Starts a run of `def` now. `audit` names who asked (actor, via, client); the runner
    /// records it as `run.start` with the run and the scan.
    pub async fn start(
        self: &Arc<Self>,
        def: &ScanDefinition,
        origin: RunOrigin,
        audit: NewAuditEntry,
    ) -> Result<RunId, StartError> {
        let _one_at_a_time = self.life.start_lock.lock().await;
        let scan = def.scan.id;
        if self.life.shutdown.is_cancelled() {
            return Err(StartError::ShuttingDown);
        }
        if let Some(active) = self.active().get(&scan) {
            return Err(StartError::Running {
                scan,
                run: active.run,
            });
        }
        let now = self.clock.now();
        if let Some(window) = def
            .window
            .as_ref()
            .filter(|w| !w.contains(&self.config.time_zone, now))
        {
            return Err(StartError::OutsideWindow {
                scan,
                window: window.to_string(),
                opens: window.defer(&self.config.time_zone, now),
            });
        }
        let credentials = switch_credentials(&self.store, def).await?;
        let (request, plan) =
            scan_request(def, &self.config, credentials.as_ref()).map_err(|(field, detail)| {
                StartError::Unrunnable {
                    scan,
                    field,
                    detail,
                }
            })?;
        let total = request.targets.addresses().len() as u64;
        let mut entry = audit;
        entry.at = now;
        entry.action = "run.start".into();
        entry.detail = serde_json::json!({
            "scan": scan.0,
            "name": def.scan.name,
            "trigger": origin.trigger,
            "targets": def.scan.targets,
        });
        let run = self
            .store
            .start_recorded_run(scan, now, total, &origin, &entry)
            .await?;

        let cancel = self.life.shutdown.child_token();
        let progress = Arc::new(Mutex::new(Progress {
            total,
            ..Progress::default()
        }));
        let (done_tx, done) = watch::channel(false);
        self.active().insert(
            scan,
            Active {
                run,
                cancel: cancel.clone(),
                progress: progress.clone(),
                done,
            },
        );
        let runner = self.clone();
        self.life.tasks.spawn(async move {
            let outcome = run_scan(plan.probe, request.clone(), cancel, &|p| {
                *progress.lock().unwrap_or_else(|e| e.into_inner()) = p;
            })
            .await;
            runner.finish(scan, run, &request, outcome).await;
            runner.active().remove(&scan);
            let _ = done_tx.send(true);
        });
        tracing::info!(scan = scan.0, run = run.0, "run started");
        Ok(run)
    }

    /// Closes `run` as failed with no results (logged if even that fails).
    async fn close_failed(&self, run: RunId, message: &str) {
        if let Err(e) = self.store.fail_run(run, self.clock.now(), message).await {
            tracing::error!(run = run.0, "closing the run as failed: {e}");
        }
    }

    /// Stops the running run of `scan` and waits until it is saved; returns it, or `None`
    /// when the scan is not running. `audit` names who asked; recorded as `run.stop`.
    pub async fn stop(
        &self,
        scan: ScanId,
        audit: NewAuditEntry,
    ) -> Result<Option<RunId>, StoreError> {
        let Some(active) = self.active().get(&scan).cloned() else {
            return Ok(None);
        };
        let detail = serde_json::json!({ "scan": scan.0 });
        let now = self.clock.now();
        Ok(Some(active.stop(&self.store, now, audit, detail).await?))
    }

    /// Stops every run (saved as cancelled) and waits for them; no run starts afterwards.
    pub async fn shutdown(&self) {
        self.life.shutdown().await;
    }

    /// Merges and saves what the engine returned; on a failure to save, tries to close the
    /// run as failed (else it stays running until the next start marks it interrupted).
    async fn finish(
        &self,
        scan: ScanId,
        run: RunId,
        request: &ScanRequest,
        outcome: Result<ScanOutcome, ScanError>,
    ) {
        let saved = self.save(run, request, outcome).await;
        let (status, summary, error) = match saved {
            Ok((status, summary)) => (status, Some(summary), None),
            Err(e) => {
                tracing::error!(run = run.0, "saving the run: {e}");
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
                "scan": scan.0,
                "status": status,
                "new_devices": summary.map(|s| s.new_devices),
                "updated_devices": summary.map(|s| s.updated_devices),
                "error": error,
            }),
            client: None,
        };
        if let Err(e) = self.store.record_audit(&entry).await {
            tracing::error!(run = run.0, "recording the end of the run: {e}");
        }
        tracing::info!(scan = scan.0, run = run.0, status = %status, "run ended");
    }

    async fn save(
        &self,
        run: RunId,
        request: &ScanRequest,
        outcome: Result<ScanOutcome, ScanError>,
    ) -> Result<(RunStatus, RunSummary), StoreError> {
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(e) => {
                let summary = self
                    .store
                    .fail_run(run, self.clock.now(), &e.to_string())
                    .await?;
                return Ok((RunStatus::Failed, summary));
            }
        };
        let mut outcome = outcome;
        outcome.ended = self.clock.now();
        let note = self.note(&outcome, request);
        let saved = save_outcome(&self.store, run, &mut outcome, note.as_deref()).await?;
        Ok((saved.status, saved.summary))
    }

    fn note(&self, outcome: &ScanOutcome, request: &ScanRequest) -> Option<String> {
        match outcome.status {
            ScanStatus::Completed => None,
            ScanStatus::Cancelled if self.life.shutdown.is_cancelled() => {
                Some("stopped: the sensor was shutting down".into())
            }
            ScanStatus::Cancelled => Some("stopped on request".into()),
            ScanStatus::TimedOut => Some(format!(
                "stopped at the scan time limit of {} s",
                request.pacing.scan_timeout_secs
            )),
            ScanStatus::DeviceLimit => Some(format!(
                "stopped at the device limit of {}",
                request.pacing.device_limit
            )),
        }
    }
}

/// The unsealed credentials of a switch scan (`None` for other scans, or when they are gone).
pub async fn switch_credentials(
    store: &Store,
    def: &ScanDefinition,
) -> Result<Option<SnmpCredentials>, StoreError> {
    match crate::model::stored_spec(def) {
        Ok(crate::model::StoredSpec {
            use_case: crate::usecase::UseCase::Switch(sw),
            ..
        }) => store.snmp_credentials(&sw.credentials).await,
        _ => Ok(None),
    }
}

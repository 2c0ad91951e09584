//! The scheduler: starts enabled scans when their schedule says, inside their maintenance
//! window, in the sensor's time zone.
//!
//! Schedules are persisted with the scans; the next run times are not: on every start they are
//! computed afresh from "now" (a run missed while the sensor was down is not made up for, and a
//! run a restart cut off was already marked interrupted). A due scan that is still running is
//! skipped (one run per scan) and the skip is audited.

use crate::clock::Clock;
use crate::runner::{Runner, StartError};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use otsensor_core::scan_schedule::next_due;
use otsensor_store::{
    NewAuditEntry, RunOrigin, ScanDefinition, ScanId, Store, StoreError, Trigger,
};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// When each scheduled scan is next due, and the loop that starts them.
pub struct Scheduler {
    store: Store,
    runner: Arc<Runner>,
    clock: Arc<dyn Clock>,
    tz: TimeZone,
    next: Mutex<BTreeMap<ScanId, Timestamp>>,
    wake: Notify,
}

/// When `def` is next due after `after`, if it is enabled and scheduled.
pub fn next_for(def: &ScanDefinition, tz: &TimeZone, after: Timestamp) -> Option<Timestamp> {
    if !def.enabled {
        return None;
    }
    next_due(def.schedule.as_ref()?, def.window.as_ref(), tz, after)
}

impl Scheduler {
    /// A scheduler starting runs through `runner`.
    pub fn new(
        store: Store,
        runner: Arc<Runner>,
        clock: Arc<dyn Clock>,
        tz: TimeZone,
    ) -> Scheduler {
        Scheduler {
            store,
            runner,
            clock,
            tz,
            next: Mutex::new(BTreeMap::new()),
            wake: Notify::new(),
        }
    }

    fn next(&self) -> std::sync::MutexGuard<'_, BTreeMap<ScanId, Timestamp>> {
        self.next.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Computes every next run afresh from now.
    pub async fn load(&self) -> Result<(), StoreError> {
        let now = self.clock.now();
        let defs = self.store.definitions().await?;
        let mut next = self.next();
        next.clear();
        for def in &defs {
            if let Some(t) = next_for(def, &self.tz, now) {
                next.insert(def.scan.id, t);
            }
        }
        drop(next);
        self.wake.notify_one();
        Ok(())
    }

    /// Recomputes the next run of `def` from now (after it was created or changed).
    pub fn plan(&self, def: &ScanDefinition) {
        let now = self.clock.now();
        let mut next = self.next();
        match next_for(def, &self.tz, now) {
            Some(t) => next.insert(def.scan.id, t),
            None => next.remove(&def.scan.id),
        };
        drop(next);
        self.wake.notify_one();
    }

    /// Forgets `scan` (deleted).
    pub fn forget(&self, scan: ScanId) {
        self.next().remove(&scan);
        self.wake.notify_one();
    }

    /// When `scan` next runs by itself.
    pub fn next_run(&self, scan: ScanId) -> Option<Timestamp> {
        self.next().get(&scan).copied()
    }

    /// Starts due scans until `stop`.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        loop {
            let now = self.clock.now();
            let due: Vec<ScanId> = self
                .next()
                .iter()
                .filter(|(_, t)| **t <= now)
                .map(|(id, _)| *id)
                .collect();
            for scan in due {
                self.start_due(scan, now).await;
            }
            let wake_at = self.next().values().min().copied();
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = self.wake.notified() => {}
                _ = sleep(&*self.clock, wake_at) => {}
            }
        }
    }

    /// Starts the due `scan` and plans its following run.
    async fn start_due(&self, scan: ScanId, now: Timestamp) {
        let def = match self.store.definition(scan).await {
            Ok(Some(def)) => def,
            Ok(None) => {
                self.next().remove(&scan);
                return;
            }
            Err(e) => {
                // try again in a minute; the store may be busy
                tracing::error!(scan = scan.0, "reading a due scan: {e}");
                let retry = now
                    .checked_add(jiff::SignedDuration::from_secs(60))
                    .unwrap_or(now);
                self.next().insert(scan, retry);
                return;
            }
        };
        match next_for(&def, &self.tz, now) {
            Some(t) => self.next().insert(scan, t),
            None => self.next().remove(&scan),
        };
        if !def.enabled {
            return;
        }
        let origin = RunOrigin {
            trigger: Trigger::Scheduled,
            actor: "scheduler".into(),
        };
        match self.runner.start(&def, origin, scheduler_entry(now)).await {
            Ok(run) => tracing::info!(scan = scan.0, run = run.0, "scheduled run started"),
            Err(StartError::ShuttingDown) => {}
            Err(e) => self.record_skip(scan, now, &e).await,
        }
    }

    async fn record_skip(&self, scan: ScanId, now: Timestamp, e: &StartError) {
        tracing::warn!(scan = scan.0, "scheduled run skipped: {e}");
        let mut entry = scheduler_entry(now);
        entry.action = "run.skip".into();
        entry.target = Some(format!("scan:{scan}"));
        entry.detail = serde_json::json!({ "reason": e.to_string() });
        if let Err(e) = self.store.record_audit(&entry).await {
            tracing::error!(scan = scan.0, "recording a skipped run: {e}");
        }
    }
}

fn scheduler_entry(at: Timestamp) -> NewAuditEntry {
    NewAuditEntry {
        at,
        actor: "scheduler".into(),
        via: "scheduler".into(),
        action: String::new(),
        target: None,
        detail: serde_json::Value::Null,
        client: None,
    }
}

async fn sleep(clock: &dyn Clock, until: Option<Timestamp>) {
    match until {
        Some(t) => clock.sleep_until(t).await,
        None => std::future::pending().await,
    }
}

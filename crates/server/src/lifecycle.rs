//! What the three runners (stored scans, reverse DNS, WEM) share about their runs: stopping a
//! run under way with an audit entry, and their own start lock, tasks and shutdown.

use jiff::Timestamp;
use otsensor_store::{NewAuditEntry, RunId, Store, StoreError};
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Longest a stop request waits for the run to be saved.
pub(crate) const STOP_WAIT: Duration = Duration::from_secs(10);

/// A run under way: what stops it, what says it is saved, and what the runner tracks of it
/// (`P`: its progress, or nothing).
#[derive(Clone)]
pub(crate) struct Active<P = ()> {
    /// The run.
    pub run: RunId,
    /// Cancelled to stop it.
    pub cancel: CancellationToken,
    /// The runner's view of it while it runs.
    pub progress: P,
    /// Becomes true once its task has saved it.
    pub done: watch::Receiver<bool>,
}

impl<P> Active<P> {
    /// Cancels the run, records who asked (`audit`, as `run.stop` at `now` with `detail`) and
    /// waits until its task says it is saved, at most [`STOP_WAIT`].
    pub async fn stop(
        &self,
        store: &Store,
        now: Timestamp,
        audit: NewAuditEntry,
        detail: serde_json::Value,
    ) -> Result<RunId, StoreError> {
        self.cancel.cancel();
        let mut entry = audit;
        entry.at = now;
        entry.action = "run.stop".into();
        entry.target = Some(format!("run:{}", self.run));
        entry.detail = detail;
        store.record_audit(&entry).await?;
        let mut done = self.done.clone();
        let _ = tokio::time::timeout(STOP_WAIT, done.wait_for(|d| *d)).await;
        Ok(self.run)
    }
}

/// A runner's start lock (one start at a time), the tasks of its runs, and the token that
/// stops them all at shutdown.
pub(crate) struct Lifecycle {
    /// Held while a run starts.
    pub start_lock: tokio::sync::Mutex<()>,
    /// The runs' tasks.
    pub tasks: TaskTracker,
    /// Cancelled at shutdown; every run's token is a child of it.
    pub shutdown: CancellationToken,
}

impl Lifecycle {
    /// A runner with no run yet.
    pub fn new() -> Lifecycle {
        Lifecycle {
            start_lock: tokio::sync::Mutex::new(()),
            tasks: TaskTracker::new(),
            shutdown: CancellationToken::new(),
        }
    }

    /// Stops every run (each saves itself as cancelled) and waits for them; no run starts
    /// afterwards.
    pub async fn shutdown(&self) {
        {
            let _no_more_starts = self.start_lock.lock().await;
            self.shutdown.cancel();
        }
        self.tasks.close();
        self.tasks.wait().await;
    }
}

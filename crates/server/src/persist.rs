//! Saving what a scan found: the inventory merge (devices known only by MAC re-keyed to the
//! device the inventory already knows with that MAC), the run's changes, probe log and the
//! links switch discovery reported, in one store transaction. Shared by the service's runner
//! and the command line (`otsensor scan plc|switch`).

use otsensor_core::merge::{RunMerge, mac_only_keys, observation_keys, resolve_macs};
use otsensor_core::{DeviceChange, Link, Observation};
use otsensor_engine::{ScanOutcome, ScanStatus};
use otsensor_store::{RunId, RunResult, RunStatus, RunSummary, Store, StoreError};

/// What a saved run produced.
pub struct Saved {
    /// The run's status as stored.
    pub status: RunStatus,
    /// The counts.
    pub summary: RunSummary,
    /// The devices the run added or changed.
    pub changes: Vec<DeviceChange>,
}

/// The run status a scan's end maps to (a time or device limit still completes the run).
pub fn run_status(status: ScanStatus) -> RunStatus {
    match status {
        ScanStatus::Cancelled => RunStatus::Cancelled,
        ScanStatus::Completed | ScanStatus::TimedOut | ScanStatus::DeviceLimit => {
            RunStatus::Completed
        }
    }
}

/// Merges `outcome` into the inventory and saves the run (devices, history, probe log,
/// links); `note` is kept as the run's message (why it stopped early).
pub async fn save_outcome(
    store: &Store,
    run: RunId,
    outcome: &mut ScanOutcome,
    note: Option<&str>,
) -> Result<Saved, StoreError> {
    // read, merge and write as one step: a run saving the same devices meanwhile would be lost
    let _merging = store.merge_guard().await;
    resolve_known_macs(store, &mut outcome.observations).await?;
    let keys: Vec<_> = outcome
        .observations
        .iter()
        .flat_map(observation_keys)
        .collect();
    let mut merge = RunMerge::new(store.devices_by_keys(&keys).await?);
    for obs in &outcome.observations {
        merge.absorb(obs);
    }
    let changes = merge.into_changes();
    let links: Vec<Link> = outcome
        .observations
        .iter()
        .flat_map(|o| o.links.iter().cloned())
        .collect();
    let status = run_status(outcome.status);
    let summary = store
        .finish_run_with_links(
            run,
            &RunResult {
                status,
                ended: outcome.ended,
                changes: &changes,
                probe_log: &outcome.probe_log,
                error: note,
            },
            &links,
        )
        .await?;
    Ok(Saved {
        status,
        summary,
        changes,
    })
}

/// Devices that observations know only by MAC, but that the inventory already knows by address
/// with that MAC, are re-keyed to that device (a switch's MAC table enriches the PLC a PLC
/// scan found instead of creating a second device).
async fn resolve_known_macs(
    store: &Store,
    observations: &mut [Observation],
) -> Result<(), StoreError> {
    let macs: Vec<_> = observations.iter().flat_map(mac_only_keys).collect();
    if macs.is_empty() {
        return Ok(());
    }
    let known = store.device_keys_by_macs(&macs).await?;
    for obs in observations {
        resolve_macs(obs, &known);
    }
    Ok(())
}

//! Runs of scans: their status and counts, the devices each run saw, and the probe log.

use crate::Store;
use crate::codec::{
    parse_change, parse_opt_time, parse_outcome, parse_protocol, parse_time, time_text, to_i64,
    to_u64,
};
use crate::devices::{self, DEVICE_COLUMNS, DeviceRow};
use crate::error::{Failure, Result, StoreError};
use crate::scans::ScanId;
use jiff::Timestamp;
use otsensor_core::{Change, Device, DeviceChange, DeviceKey, Link, Outcome, ProbeLogEntry};
use serde::{Deserialize, Serialize};
use sqlx::{SqliteConnection, SqlitePool};
use std::collections::BTreeMap;
use std::fmt;

/// The identity of a run in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunId(pub i64);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Where a run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Started and not yet finished.
    Running,
    /// Every target was probed.
    Completed,
    /// Stopped on request.
    Cancelled,
    /// Could not go on (the reason is in the run's error).
    Failed,
    /// The process ended while the run was going (found on the next start).
    Interrupted,
}

impl RunStatus {
    /// Every status.
    pub const ALL: [RunStatus; 5] = [
        RunStatus::Running,
        RunStatus::Completed,
        RunStatus::Cancelled,
        RunStatus::Failed,
        RunStatus::Interrupted,
    ];

    /// The name used in the store, the API and exports.
    pub fn name(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Failed => "failed",
            RunStatus::Interrupted => "interrupted",
        }
    }

    /// Parses [`RunStatus::name`].
    pub fn from_name(name: &str) -> Option<RunStatus> {
        RunStatus::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a run counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Targets probed (probe-log entries).
    pub probed: u64,
    /// Targets that answered and said who they are.
    pub identified: u64,
    /// Devices the run added to the inventory.
    pub new_devices: u64,
    /// Known devices the run enriched (an attribute added or changed).
    pub updated_devices: u64,
}

impl RunSummary {
    /// Counts the changes and the probe log of a run.
    pub fn count(changes: &[DeviceChange], probe_log: &[ProbeLogEntry]) -> RunSummary {
        let changed = |kind: Change| changes.iter().filter(|c| c.change == kind).count() as u64;
        RunSummary {
            probed: probe_log.len() as u64,
            identified: probe_log
                .iter()
                .filter(|e| e.outcome == Outcome::Identified)
                .count() as u64,
            new_devices: changed(Change::New),
            updated_devices: changed(Change::Enriched),
        }
    }
}

/// A run of a scan as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// Its identity.
    pub id: RunId,
    /// The scan it ran.
    pub scan: ScanId,
    /// Where it is in its life.
    pub status: RunStatus,
    /// When it started.
    pub started: Timestamp,
    /// When it ended; `None` while running, and for an interrupted run.
    pub ended: Option<Timestamp>,
    /// How many targets the scan named.
    pub targets_total: u64,
    /// Its counts (all zero until it is finished).
    pub summary: RunSummary,
    /// Why it failed or was interrupted.
    pub error: Option<String>,
}

/// How a run ended and what it found: everything [`Store::finish_run`] saves.
#[derive(Debug, Clone, Copy)]
pub struct RunResult<'a> {
    /// How it ended: completed, cancelled or failed.
    pub status: RunStatus,
    /// When it ended.
    pub ended: Timestamp,
    /// The merged devices, one per device the run saw (core's `RunMerge::into_changes`).
    pub changes: &'a [DeviceChange],
    /// One entry per probed target.
    pub probe_log: &'a [ProbeLogEntry],
    /// Why it failed, if it did.
    pub error: Option<&'a str>,
}

/// A device a run saw, and what the run did to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDevice {
    /// The device as it is now (later runs may have changed it since).
    pub device: Device,
    /// Whether the run created it, enriched it or only saw it again.
    pub change: Change,
}

impl Store {
    /// Opens a run of `scan` as `running`. Refused while another run of the same scan is
    /// running (one run per scan).
    pub async fn start_run(
        &self,
        scan: ScanId,
        started: Timestamp,
        targets_total: u64,
    ) -> Result<RunId, StoreError> {
        let started_run = async {
            let mut conn = self.pool.acquire().await?;
            insert_run(&mut conn, scan, started, targets_total).await
        };
        started_run
            .await
            .map_err(|e| e.context(format!("starting a run of scan {scan}")))
    }

    /// [`Store::start_run`] for the service: the run, where it came from and its audit entry
    /// (`audit`, whose target becomes the run) are saved in one transaction, so no reader ever
    /// sees the run without its origin, and a failure leaves no run behind.
    pub async fn start_recorded_run(
        &self,
        scan: ScanId,
        started: Timestamp,
        targets_total: u64,
        origin: &crate::RunOrigin,
        audit: &crate::NewAuditEntry,
    ) -> Result<RunId, StoreError> {
        let started_run = async {
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            let run = insert_run(&mut tx, scan, started, targets_total).await?;
            crate::definitions::insert_origin(&mut tx, run, origin).await?;
            let mut entry = audit.clone();
            entry.target = Some(format!("run:{run}"));
            crate::audit::insert(&mut tx, &entry).await?;
            tx.commit().await?;
            Ok(run)
        };
        started_run
            .await
            .map_err(|e: Failure| e.context(format!("starting a run of scan {scan}")))
    }

    /// Saves how the running run `run` ended, in one transaction: every changed device (parents
    /// before sub-devices), a history row per attribute change, the run's devices, the probe log
    /// and the run's status and counts. On any error nothing is saved and the run stays running.
    pub async fn finish_run(
        &self,
        run: RunId,
        result: &RunResult<'_>,
    ) -> Result<RunSummary, StoreError> {
        save_run(&self.pool, run, result, &[])
            .await
            .map_err(|e| e.context(format!("saving run {run}")))
    }

    /// Closes the running run `run` as failed at `ended`, with no results and `message` as its
    /// error.
    pub async fn fail_run(
        &self,
        run: RunId,
        ended: Timestamp,
        message: &str,
    ) -> Result<RunSummary, StoreError> {
        let failed = RunResult {
            status: RunStatus::Failed,
            ended,
            changes: &[],
            probe_log: &[],
            error: Some(message),
        };
        self.finish_run(run, &failed).await
    }

    /// [`Store::finish_run`] with the links the run's observations reported (switch
    /// discovery): saved in the same transaction, after the devices they join. Links of a
    /// reporting device that this run no longer reports become inactive.
    pub async fn finish_run_with_links(
        &self,
        run: RunId,
        result: &RunResult<'_>,
        links: &[Link],
    ) -> Result<RunSummary, StoreError> {
        save_run(&self.pool, run, result, links)
            .await
            .map_err(|e| e.context(format!("saving run {run}")))
    }

    /// Marks every `running` run `interrupted` (call on start, before any run begins: a run
    /// still marked running then belongs to a process that is gone). Returns their identities.
    pub async fn mark_interrupted_runs(&self) -> Result<Vec<RunId>, StoreError> {
        interrupt_running(&self.pool)
            .await
            .map_err(|e| e.context("marking interrupted runs"))
    }

    /// Every run, newest first.
    pub async fn runs(&self) -> Result<Vec<Run>, StoreError> {
        select_runs(&self.pool)
            .await
            .map_err(|e| e.context("reading runs"))
    }

    /// The run `id`, if there is one.
    pub async fn run(&self, id: RunId) -> Result<Option<Run>, StoreError> {
        select_run(&self.pool, id)
            .await
            .map_err(|e| e.context(format!("reading run {id}")))
    }

    /// The probe log of the run `id`, in the order it was saved.
    pub async fn probe_log(&self, id: RunId) -> Result<Vec<ProbeLogEntry>, StoreError> {
        select_probe_log(&self.pool, id)
            .await
            .map_err(|e| e.context(format!("reading the probe log of run {id}")))
    }

    /// The devices the run `id` saw, parents first, with what it did to each.
    pub async fn run_devices(&self, id: RunId) -> Result<Vec<RunDevice>, StoreError> {
        select_run_devices(&self.pool, id)
            .await
            .map_err(|e| e.context(format!("reading the devices of run {id}")))
    }
}

async fn insert_run(
    conn: &mut SqliteConnection,
    scan: ScanId,
    started: Timestamp,
    targets_total: u64,
) -> Result<RunId> {
    let inserted = sqlx::query_scalar(
        "INSERT INTO runs (scan_id, status, started_at, targets_total) \
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(scan.0)
    .bind(RunStatus::Running.name())
    .bind(time_text(started))
    .bind(to_i64(targets_total, "targets_total")?)
    .fetch_one(conn)
    .await;
    match inserted {
        Ok(id) => Ok(RunId(id)),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(Failure::Rejected(
            format!("scan {scan} already has a running run"),
        )),
        Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => {
            Err(Failure::Rejected(format!("there is no scan {scan}")))
        }
        Err(e) => Err(e.into()),
    }
}

async fn save_run(
    pool: &SqlitePool,
    run: RunId,
    result: &RunResult<'_>,
    links: &[Link],
) -> Result<RunSummary> {
    if result.status == RunStatus::Running {
        return Err(Failure::Rejected(
            "a finished run cannot be running".to_string(),
        ));
    }
    // IMMEDIATE takes the write lock now, so that the transaction never has to upgrade a read
    // lock (which SQLite may refuse under concurrency).
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    ensure_running(&mut tx, run).await?;
    save_devices(&mut tx, run, result.changes).await?;
    crate::links::save_links(&mut tx, run, links, result.ended).await?;
    insert_probe_log(&mut tx, run, result.probe_log).await?;
    let summary = RunSummary::count(result.changes, result.probe_log);
    update_finished_run(&mut tx, run, result, &summary).await?;
    tx.commit().await?;
    Ok(summary)
}

/// Fails unless `run` exists and is running.
pub(crate) async fn ensure_running(conn: &mut SqliteConnection, run: RunId) -> Result<()> {
    let status: Option<String> = sqlx::query_scalar("SELECT status FROM runs WHERE id = $1")
        .bind(run.0)
        .fetch_optional(conn)
        .await?;
    match status.as_deref() {
        None => Err(Failure::Rejected("there is no such run".to_string())),
        Some(s) if s == RunStatus::Running.name() => Ok(()),
        Some(s) => Err(Failure::Rejected(format!("the run is {s}, not running"))),
    }
}

/// Upserts the changed devices, parents first, with their history and run links.
pub(crate) async fn save_devices(
    conn: &mut SqliteConnection,
    run: RunId,
    changes: &[DeviceChange],
) -> Result<()> {
    let mut ordered: Vec<&DeviceChange> = changes.iter().collect();
    ordered.sort_by_key(|c| devices::depth(&c.device.key));
    let mut saved: BTreeMap<DeviceKey, i64> = BTreeMap::new();
    for change in ordered {
        let id = save_device(conn, run, change, &saved).await?;
        saved.insert(change.device.key.clone(), id);
    }
    Ok(())
}

/// Saves one changed device; returns its row id.
async fn save_device(
    conn: &mut SqliteConnection,
    run: RunId,
    change: &DeviceChange,
    saved: &BTreeMap<DeviceKey, i64>,
) -> Result<i64> {
    let device = &change.device;
    let parent_id = devices::parent_id(conn, &device.key, saved).await?;
    let id = devices::upsert(conn, device, parent_id).await?;
    devices::insert_history(
        conn,
        id,
        run,
        &change.attributes,
        change.source,
        device.last_seen,
    )
    .await?;
    insert_run_device(conn, run, id, change.change).await?;
    Ok(id)
}

async fn insert_run_device(
    conn: &mut SqliteConnection,
    run: RunId,
    device_id: i64,
    change: Change,
) -> Result<()> {
    sqlx::query("INSERT INTO run_devices (run_id, device_id, change) VALUES ($1, $2, $3)")
        .bind(run.0)
        .bind(device_id)
        .bind(change.name())
        .execute(conn)
        .await?;
    Ok(())
}

/// Inserts the probe log in order, as one statement whose rows come from one JSON array
/// parameter: the same statement for any number of entries, so it is prepared once per
/// connection (a VALUES list of N rows is a new statement of 7 x N parameters each time).
pub(crate) async fn insert_probe_log(
    conn: &mut SqliteConnection,
    run: RunId,
    entries: &[ProbeLogEntry],
) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let rows = entries
        .iter()
        .map(|e| {
            Ok((
                e.address.to_string(),
                e.protocol.name(),
                e.outcome.name(),
                e.error.as_deref(),
                time_text(e.started),
                to_i64(e.duration_ms, "probe duration_ms")?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let rows = crate::codec::to_json(&rows, "the probe log")?;
    sqlx::query(
        "INSERT INTO probe_log \
             (run_id, address, protocol, outcome, error, started_at, duration_ms) \
         SELECT $1, value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5 \
         FROM json_each($2) ORDER BY key",
    )
    .bind(run.0)
    .bind(rows)
    .execute(conn)
    .await?;
    Ok(())
}

pub(crate) async fn update_finished_run(
    conn: &mut SqliteConnection,
    run: RunId,
    result: &RunResult<'_>,
    summary: &RunSummary,
) -> Result<()> {
    sqlx::query(
        "UPDATE runs SET status = $2, ended_at = $3, probed = $4, identified = $5, \
             new_devices = $6, updated_devices = $7, error = $8 \
         WHERE id = $1",
    )
    .bind(run.0)
    .bind(result.status.name())
    .bind(time_text(result.ended))
    .bind(to_i64(summary.probed, "probed")?)
    .bind(to_i64(summary.identified, "identified")?)
    .bind(to_i64(summary.new_devices, "new_devices")?)
    .bind(to_i64(summary.updated_devices, "updated_devices")?)
    .bind(result.error)
    .execute(conn)
    .await?;
    Ok(())
}

async fn interrupt_running(pool: &SqlitePool) -> Result<Vec<RunId>> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "UPDATE runs SET status = $1, error = $2 WHERE status = $3 RETURNING id",
    )
    .bind(RunStatus::Interrupted.name())
    .bind("otsensor stopped before the run ended")
    .bind(RunStatus::Running.name())
    .fetch_all(pool)
    .await?;
    let mut ids: Vec<RunId> = ids.into_iter().map(RunId).collect();
    ids.sort();
    Ok(ids)
}

/// A row of `runs`.
#[derive(sqlx::FromRow)]
pub(crate) struct RunRow {
    id: i64,
    scan_id: i64,
    status: String,
    started_at: String,
    ended_at: Option<String>,
    targets_total: i64,
    probed: i64,
    identified: i64,
    new_devices: i64,
    updated_devices: i64,
    error: Option<String>,
}

impl RunRow {
    /// The stored run.
    pub(crate) fn into_run(self) -> Result<Run> {
        Ok(Run {
            id: RunId(self.id),
            scan: ScanId(self.scan_id),
            status: RunStatus::from_name(&self.status)
                .ok_or_else(|| Failure::Corrupt(format!("run status {:?}", self.status)))?,
            started: parse_time(&self.started_at)?,
            ended: parse_opt_time(self.ended_at.as_deref())?,
            targets_total: to_u64(self.targets_total, "targets_total")?,
            summary: RunSummary {
                probed: to_u64(self.probed, "probed")?,
                identified: to_u64(self.identified, "identified")?,
                new_devices: to_u64(self.new_devices, "new_devices")?,
                updated_devices: to_u64(self.updated_devices, "updated_devices")?,
            },
            error: self.error,
        })
    }
}

/// The columns a [`RunRow`] reads.
pub(crate) const RUN_COLUMNS: &str = "id, scan_id, status, started_at, ended_at, targets_total, probed, \
                           identified, new_devices, updated_devices, error";

async fn select_runs(pool: &SqlitePool) -> Result<Vec<Run>> {
    let sql = format!("SELECT {RUN_COLUMNS} FROM runs ORDER BY id DESC");
    let rows: Vec<RunRow> = sqlx::query_as(&sql).fetch_all(pool).await?;
    rows.into_iter().map(RunRow::into_run).collect()
}

async fn select_run(pool: &SqlitePool, id: RunId) -> Result<Option<Run>> {
    let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = $1");
    let row: Option<RunRow> = sqlx::query_as(&sql).bind(id.0).fetch_optional(pool).await?;
    row.map(RunRow::into_run).transpose()
}

/// A row of `probe_log`.
#[derive(sqlx::FromRow)]
struct ProbeLogRow {
    address: String,
    protocol: String,
    outcome: String,
    error: Option<String>,
    started_at: String,
    duration_ms: i64,
}

impl ProbeLogRow {
    fn into_entry(self) -> Result<ProbeLogEntry> {
        Ok(ProbeLogEntry {
            address: self
                .address
                .parse()
                .map_err(|_| Failure::Corrupt(format!("probed address {:?}", self.address)))?,
            protocol: parse_protocol(&self.protocol)?,
            outcome: parse_outcome(&self.outcome)?,
            error: self.error,
            started: parse_time(&self.started_at)?,
            duration_ms: to_u64(self.duration_ms, "probe duration_ms")?,
        })
    }
}

async fn select_probe_log(pool: &SqlitePool, run: RunId) -> Result<Vec<ProbeLogEntry>> {
    let rows: Vec<ProbeLogRow> = sqlx::query_as(
        "SELECT address, protocol, outcome, error, started_at, duration_ms \
         FROM probe_log WHERE run_id = $1 ORDER BY id",
    )
    .bind(run.0)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(ProbeLogRow::into_entry).collect()
}

/// A device of a run with the run's change.
#[derive(sqlx::FromRow)]
struct RunDeviceRow {
    #[sqlx(flatten)]
    device: DeviceRow,
    change: String,
}

impl RunDeviceRow {
    fn into_run_device(self) -> Result<RunDevice> {
        Ok(RunDevice {
            device: self.device.into_device()?,
            change: parse_change(&self.change)?,
        })
    }
}

async fn select_run_devices(pool: &SqlitePool, run: RunId) -> Result<Vec<RunDevice>> {
    let sql = format!(
        "SELECT {DEVICE_COLUMNS}, rd.change FROM run_devices rd \
         JOIN devices d ON d.id = rd.device_id WHERE rd.run_id = $1"
    );
    let rows: Vec<RunDeviceRow> = sqlx::query_as(&sql).bind(run.0).fetch_all(pool).await?;
    let mut devices = rows
        .into_iter()
        .map(RunDeviceRow::into_run_device)
        .collect::<Result<Vec<_>>>()?;
    devices.sort_by(|a, b| devices::tree_order(&a.device.key, &b.device.key));
    Ok(devices)
}

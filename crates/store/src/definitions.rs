//! Scan definitions: scans an operator keeps, with whether they are on, a schedule and a
//! maintenance window; and where each run came from (a person or the scheduler).
//!
//! A definition is a row of `scans` (what to scan) plus a row of `scan_definitions` (when);
//! ad-hoc command-line scans have only the first. Deleting a definition marks it deleted and
//! keeps it, so its runs keep their scan.

use crate::Store;
use crate::audit::{self, NewAuditEntry};
use crate::codec::{from_json, parse_time, time_text, to_json};
use crate::error::{Failure, Result, StoreError};
use crate::runs::{RUN_COLUMNS, Run, RunId, RunRow};
use crate::scans::{SCAN_COLUMNS, Scan, ScanId, ScanRow};
use jiff::Timestamp;
use otsensor_core::Protocol;
use otsensor_core::scan_schedule::{MaintenanceWindow, Schedule};
use serde::{Deserialize, Serialize};
use sqlx::{SqliteConnection, SqlitePool};

/// A scan definition as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanDefinition {
    /// What to scan (name, kind, protocol, targets, specification).
    pub scan: Scan,
    /// Whether the scheduler starts it.
    pub enabled: bool,
    /// When it runs by itself; `None`: on demand only.
    pub schedule: Option<Schedule>,
    /// When it may start; `None`: any time.
    pub window: Option<MaintenanceWindow>,
    /// Who created it.
    pub created_by: String,
    /// When it last changed.
    pub updated: Timestamp,
}

/// The settings of a definition, to create one or replace one's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct DefinitionSettings {
    /// A name for people, unique among the definitions.
    pub name: String,
    /// What kind of scan: "plc", "switch".
    pub kind: String,
    /// The protocol it speaks.
    pub protocol: Protocol,
    /// The targets as the operator wrote them (comma list).
    pub targets: String,
    /// The full specification as JSON.
    pub spec: serde_json::Value,
    /// Whether the scheduler starts it.
    pub enabled: bool,
    /// When it runs by itself.
    pub schedule: Option<Schedule>,
    /// When it may start.
    pub window: Option<MaintenanceWindow>,
}

/// How a run was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// A person asked for it (run now).
    Manual,
    /// The scheduler started it.
    Scheduled,
}

impl Trigger {
    /// The name used in the store and the API.
    pub fn name(self) -> &'static str {
        match self {
            Trigger::Manual => "manual",
            Trigger::Scheduled => "scheduled",
        }
    }
}

/// Where a run came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunOrigin {
    /// How it was started.
    pub trigger: Trigger,
    /// Who started it ("scheduler" for scheduled runs).
    pub actor: String,
}

/// A page of a scan's runs, newest first, and how many there are in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunPage {
    /// The runs.
    pub runs: Vec<Run>,
    /// How many runs the scan has.
    pub total: u64,
}

impl Store {
    /// Creates a definition (its scan and its settings) with its audit entry, in one
    /// transaction; the entry's target is set to `scan:<id>`. Refused when the name is taken.
    pub async fn create_definition(
        &self,
        settings: &DefinitionSettings,
        created_by: &str,
        at: Timestamp,
        audit: &NewAuditEntry,
    ) -> Result<ScanId, StoreError> {
        let context = || format!("creating scan {:?}", settings.name);
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| Failure::from(e).context(context()))?;
        let id = insert_definition(&mut tx, settings, created_by, at)
            .await
            .map_err(|e| e.context(context()))?;
        let mut audit = audit.clone();
        audit.target = Some(format!("scan:{id}"));
        audit::insert(&mut tx, &audit)
            .await
            .map_err(|e| e.context(context()))?;
        tx.commit()
            .await
            .map_err(|e| Failure::from(e).context(context()))?;
        Ok(id)
    }

    /// Replaces the settings of the definition `id`, with its audit entry, in one transaction.
    /// Returns whether there is such a (not deleted) definition. Refused when the name is taken.
    pub async fn update_definition(
        &self,
        id: ScanId,
        settings: &DefinitionSettings,
        at: Timestamp,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError> {
        let context = || format!("updating scan {id}");
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| Failure::from(e).context(context()))?;
        if !update_settings(&mut tx, id, settings, at)
            .await
            .map_err(|e| e.context(context()))?
        {
            return Ok(false);
        }
        audit::insert(&mut tx, audit)
            .await
            .map_err(|e| e.context(context()))?;
        tx.commit()
            .await
            .map_err(|e| Failure::from(e).context(context()))?;
        Ok(true)
    }

    /// Marks the definition `id` deleted (its runs stay), with its audit entry, in one
    /// transaction. Returns whether there was such a definition.
    pub async fn delete_definition(
        &self,
        id: ScanId,
        at: Timestamp,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError> {
        let context = || format!("deleting scan {id}");
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| Failure::from(e).context(context()))?;
        let deleted = sqlx::query(
            "UPDATE scan_definitions SET deleted_at = $2, enabled = 0 \
             WHERE scan_id = $1 AND deleted_at IS NULL",
        )
        .bind(id.0)
        .bind(time_text(at))
        .execute(&mut *tx)
        .await
        .map_err(|e| Failure::from(e).context(context()))?
        .rows_affected()
            > 0;
        if !deleted {
            return Ok(false);
        }
        audit::insert(&mut tx, audit)
            .await
            .map_err(|e| e.context(context()))?;
        tx.commit()
            .await
            .map_err(|e| Failure::from(e).context(context()))?;
        Ok(true)
    }

    /// The definition `id`, unless there is none or it was deleted.
    pub async fn definition(&self, id: ScanId) -> Result<Option<ScanDefinition>, StoreError> {
        select_definitions(&self.pool, Some(id))
            .await
            .map(|mut d| d.pop())
            .map_err(|e| e.context(format!("reading scan {id}")))
    }

    /// Every definition not deleted, oldest first.
    pub async fn definitions(&self) -> Result<Vec<ScanDefinition>, StoreError> {
        select_definitions(&self.pool, None)
            .await
            .map_err(|e| e.context("reading scan definitions"))
    }

    /// A page of the runs of `scan`, newest first.
    pub async fn runs_of_scan(
        &self,
        scan: ScanId,
        offset: u64,
        limit: u64,
    ) -> Result<RunPage, StoreError> {
        select_runs_of_scan(&self.pool, scan, offset, limit)
            .await
            .map_err(|e| e.context(format!("reading the runs of scan {scan}")))
    }

    /// Where the run `run` came from, if it was recorded (runs of the command line have none).
    pub async fn run_origin(&self, run: RunId) -> Result<Option<RunOrigin>, StoreError> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT trigger, actor FROM run_origins WHERE run_id = $1")
                .bind(run.0)
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| {
                    Failure::from(e).context(format!("reading the origin of run {run}"))
                })?;
        Ok(row.map(|(trigger, actor)| RunOrigin {
            trigger: if trigger == Trigger::Scheduled.name() {
                Trigger::Scheduled
            } else {
                Trigger::Manual
            },
            actor,
        }))
    }
}

/// Fails when a definition other than `except` is already called `name`.
async fn ensure_name_free(
    conn: &mut SqliteConnection,
    name: &str,
    except: Option<ScanId>,
) -> Result<()> {
    let taken: Option<i64> = sqlx::query_scalar(
        "SELECT s.id FROM scans s JOIN scan_definitions d ON d.scan_id = s.id \
         WHERE d.deleted_at IS NULL AND s.name = $1 AND ($2 IS NULL OR s.id <> $2) LIMIT 1",
    )
    .bind(name)
    .bind(except.map(|s| s.0))
    .fetch_optional(conn)
    .await?;
    match taken {
        Some(id) => Err(Failure::Rejected(format!(
            "the name {name:?} is already used by scan {id}"
        ))),
        None => Ok(()),
    }
}

async fn insert_definition(
    conn: &mut SqliteConnection,
    s: &DefinitionSettings,
    created_by: &str,
    at: Timestamp,
) -> Result<ScanId> {
    ensure_name_free(conn, &s.name, None).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO scans (name, kind, protocol, targets, spec, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(&s.name)
    .bind(&s.kind)
    .bind(s.protocol.name())
    .bind(&s.targets)
    .bind(to_json(&s.spec, "scan spec")?)
    .bind(time_text(at))
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO scan_definitions \
             (scan_id, enabled, schedule, maintenance_window, created_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(s.enabled)
    .bind(opt_json(&s.schedule, "schedule")?)
    .bind(opt_json(&s.window, "maintenance window")?)
    .bind(created_by)
    .bind(time_text(at))
    .execute(&mut *conn)
    .await?;
    Ok(ScanId(id))
}

async fn update_settings(
    conn: &mut SqliteConnection,
    id: ScanId,
    s: &DefinitionSettings,
    at: Timestamp,
) -> Result<bool> {
    let live = sqlx::query(
        "UPDATE scan_definitions SET enabled = $2, schedule = $3, maintenance_window = $4, \
             updated_at = $5 \
         WHERE scan_id = $1 AND deleted_at IS NULL",
    )
    .bind(id.0)
    .bind(s.enabled)
    .bind(opt_json(&s.schedule, "schedule")?)
    .bind(opt_json(&s.window, "maintenance window")?)
    .bind(time_text(at))
    .execute(&mut *conn)
    .await?
    .rows_affected()
        > 0;
    if !live {
        return Ok(false);
    }
    ensure_name_free(conn, &s.name, Some(id)).await?;
    sqlx::query(
        "UPDATE scans SET name = $2, kind = $3, protocol = $4, targets = $5, spec = $6 \
         WHERE id = $1",
    )
    .bind(id.0)
    .bind(&s.name)
    .bind(&s.kind)
    .bind(s.protocol.name())
    .bind(&s.targets)
    .bind(to_json(&s.spec, "scan spec")?)
    .execute(&mut *conn)
    .await?;
    Ok(true)
}

fn opt_json<T: Serialize>(value: &Option<T>, what: &str) -> Result<Option<String>> {
    value.as_ref().map(|v| to_json(v, what)).transpose()
}

#[derive(sqlx::FromRow)]
struct DefinitionRow {
    #[sqlx(flatten)]
    scan: ScanRow,
    enabled: bool,
    schedule: Option<String>,
    maintenance_window: Option<String>,
    created_by: String,
    updated_at: String,
}

impl DefinitionRow {
    fn into_definition(self) -> Result<ScanDefinition> {
        Ok(ScanDefinition {
            scan: self.scan.into_scan()?,
            enabled: self.enabled,
            schedule: self
                .schedule
                .as_deref()
                .map(|s| from_json(s, "schedule"))
                .transpose()?,
            window: self
                .maintenance_window
                .as_deref()
                .map(|s| from_json(s, "maintenance window"))
                .transpose()?,
            created_by: self.created_by,
            updated: parse_time(&self.updated_at)?,
        })
    }
}

async fn select_definitions(pool: &SqlitePool, id: Option<ScanId>) -> Result<Vec<ScanDefinition>> {
    let sql = format!(
        "SELECT {SCAN_COLUMNS}, enabled, schedule, maintenance_window, created_by, updated_at \
         FROM scans JOIN scan_definitions ON scan_definitions.scan_id = scans.id \
         WHERE deleted_at IS NULL AND ($1 IS NULL OR scans.id = $1) ORDER BY scans.id"
    );
    let rows: Vec<DefinitionRow> = sqlx::query_as(&sql)
        .bind(id.map(|i| i.0))
        .fetch_all(pool)
        .await?;
    rows.into_iter()
        .map(DefinitionRow::into_definition)
        .collect()
}

async fn select_runs_of_scan(
    pool: &SqlitePool,
    scan: ScanId,
    offset: u64,
    limit: u64,
) -> Result<RunPage> {
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM runs WHERE scan_id = $1")
        .bind(scan.0)
        .fetch_one(pool)
        .await?;
    let sql = format!(
        "SELECT {RUN_COLUMNS} FROM runs WHERE scan_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3"
    );
    let rows: Vec<RunRow> = sqlx::query_as(&sql)
        .bind(scan.0)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .bind(i64::try_from(offset).unwrap_or(i64::MAX))
        .fetch_all(pool)
        .await?;
    Ok(RunPage {
        runs: rows
            .into_iter()
            .map(RunRow::into_run)
            .collect::<Result<_>>()?,
        total: u64::try_from(total).unwrap_or(0),
    })
}

/// Inserts where `run` came from on `conn` (inside the caller's transaction, if any).
pub(crate) async fn insert_origin(
    conn: &mut sqlx::SqliteConnection,
    run: RunId,
    origin: &RunOrigin,
) -> Result<(), Failure> {
    sqlx::query("INSERT INTO run_origins (run_id, trigger, actor) VALUES ($1, $2, $3)")
        .bind(run.0)
        .bind(origin.trigger.name())
        .bind(&origin.actor)
        .execute(conn)
        .await?;
    Ok(())
}

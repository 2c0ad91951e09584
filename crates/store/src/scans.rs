//! Scans: what to scan, where and how, as an operator (or a command line) asked for it.

use crate::Store;
use crate::codec::{from_json, parse_protocol, parse_time, time_text, to_json};
use crate::error::{Result, StoreError};
use jiff::Timestamp;
use otsensor_core::Protocol;
use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;
use std::fmt;

/// The identity of a scan in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ScanId(pub i64);

impl fmt::Display for ScanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A scan to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewScan {
    /// A name for people ("plant floor PLCs", or the command line of an ad-hoc scan).
    pub name: String,
    /// What kind of scan: "plc", "switch", "wem", "rdns".
    pub kind: String,
    /// The protocol it speaks.
    pub protocol: Protocol,
    /// The targets as the operator wrote them (addresses, CIDR blocks, ranges).
    pub targets: String,
    /// The full specification (ports, timeouts, rates, ...) as JSON.
    pub spec: serde_json::Value,
    /// When it was created.
    pub created: Timestamp,
}

/// A recorded scan.
#[derive(Debug, Clone, PartialEq)]
pub struct Scan {
    /// Its identity.
    pub id: ScanId,
    /// A name for people.
    pub name: String,
    /// What kind of scan: "plc", "switch", "wem", "rdns".
    pub kind: String,
    /// The protocol it speaks.
    pub protocol: Protocol,
    /// The targets as the operator wrote them.
    pub targets: String,
    /// The full specification as JSON.
    pub spec: serde_json::Value,
    /// When it was created.
    pub created: Timestamp,
}

impl Store {
    /// Records a scan; returns its identity.
    pub async fn create_scan(&self, scan: &NewScan) -> Result<ScanId, StoreError> {
        insert_scan(&self.pool, scan)
            .await
            .map_err(|e| e.context(format!("creating scan {:?}", scan.name)))
    }

    /// The scan `id`, if there is one.
    pub async fn scan(&self, id: ScanId) -> Result<Option<Scan>, StoreError> {
        select_scan(&self.pool, id)
            .await
            .map_err(|e| e.context(format!("reading scan {id}")))
    }

    /// Every scan, oldest first.
    pub async fn scans(&self) -> Result<Vec<Scan>, StoreError> {
        select_scans(&self.pool)
            .await
            .map_err(|e| e.context("reading scans"))
    }
}

/// A row of `scans`.
#[derive(sqlx::FromRow)]
pub(crate) struct ScanRow {
    id: i64,
    name: String,
    kind: String,
    protocol: String,
    targets: String,
    spec: String,
    created_at: String,
}

impl ScanRow {
    /// The stored scan.
    pub(crate) fn into_scan(self) -> Result<Scan> {
        Ok(Scan {
            id: ScanId(self.id),
            name: self.name,
            kind: self.kind,
            protocol: parse_protocol(&self.protocol)?,
            targets: self.targets,
            spec: from_json(&self.spec, "scan spec")?,
            created: parse_time(&self.created_at)?,
        })
    }
}

/// The columns a [`ScanRow`] reads.
pub(crate) const SCAN_COLUMNS: &str = "id, name, kind, protocol, targets, spec, created_at";

async fn insert_scan(pool: &SqlitePool, scan: &NewScan) -> Result<ScanId> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO scans (name, kind, protocol, targets, spec, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(&scan.name)
    .bind(&scan.kind)
    .bind(scan.protocol.name())
    .bind(&scan.targets)
    .bind(to_json(&scan.spec, "scan spec")?)
    .bind(time_text(scan.created))
    .fetch_one(pool)
    .await?;
    Ok(ScanId(id))
}

async fn select_scan(pool: &SqlitePool, id: ScanId) -> Result<Option<Scan>> {
    let sql = format!("SELECT {SCAN_COLUMNS} FROM scans WHERE id = $1");
    let row: Option<ScanRow> = sqlx::query_as(&sql).bind(id.0).fetch_optional(pool).await?;
    row.map(ScanRow::into_scan).transpose()
}

async fn select_scans(pool: &SqlitePool) -> Result<Vec<Scan>> {
    let sql = format!("SELECT {SCAN_COLUMNS} FROM scans ORDER BY id");
    let rows: Vec<ScanRow> = sqlx::query_as(&sql).fetch_all(pool).await?;
    rows.into_iter().map(ScanRow::into_scan).collect()
}

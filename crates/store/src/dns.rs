//! Reverse DNS: the configured DNS servers (create, read, update, delete), and the results of
//! lookup runs written into the inventory.
//!
//! A server's settings are checked again here (core's validation) before anything is written,
//! and each change happens in one transaction: a server is saved whole with its subnets and its
//! scan, or not at all.
//!
//! A lookup run ([`Store::finish_rdns_run`]) writes, for every inventory device whose address
//! lies in the run's subnets and has a name, the host name (the first N labels, at most 30
//! characters), the FQDN and its lookup time, through core's inventory merge so that the history
//! records every change; a device's last-seen time is left alone (the device itself was not
//! contacted). Addresses outside the inventory are counted but create no device. The run's
//! counts (found, missing, failed, changed) go to `rdns_runs`, its probe log to `probe_log`.

use crate::Store;
use crate::codec::{parse_time, time_text, to_i64, to_u64};
use crate::devices;
use crate::error::{Failure, Result, StoreError};
use crate::runs::{self, RunId, RunResult, RunStatus, RunSummary};
use crate::scans::ScanId;
use jiff::Timestamp;
use otsensor_core::merge::merge;
use otsensor_core::rdns::host_name;
use otsensor_core::{
    DeviceChange, DeviceKey, DnsServerSettings, Fact, NameLookup, NameResult, Observation,
    ProbeLogEntry, Protocol, Schedule,
};
use serde::{Deserialize, Serialize};
use sqlx::{SqliteConnection, SqlitePool};
use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// The identity of a configured DNS server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DnsServerId(pub i64);

impl fmt::Display for DnsServerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A configured DNS server as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsServer {
    /// Its identity.
    pub id: DnsServerId,
    /// The scan its runs belong to.
    pub scan: ScanId,
    /// Its settings.
    pub settings: DnsServerSettings,
    /// When it was created.
    pub created: Timestamp,
    /// When it was last changed.
    pub updated: Timestamp,
}

/// Everything [`Store::finish_rdns_run`] saves about one lookup run.
#[derive(Debug, Clone, Copy)]
pub struct RdnsRunResult<'a> {
    /// How it ended: completed, cancelled or failed.
    pub status: RunStatus,
    /// When it ended.
    pub ended: Timestamp,
    /// The server asked.
    pub server: SocketAddr,
    /// The configured server, when the run was one of its runs (`None` from the command line).
    pub server_id: Option<DnsServerId>,
    /// Labels of a name to show (1 to 127).
    pub labels: u8,
    /// The subnets of the run: only devices inside them are written.
    pub subnets: &'a [ipnet::IpNet],
    /// One result per address looked up.
    pub lookups: &'a [NameLookup],
    /// Why it failed or stopped, if it did.
    pub error: Option<&'a str>,
}

/// What one lookup run counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RdnsSummary {
    /// Addresses looked up.
    pub looked_up: u64,
    /// Addresses with a name.
    pub found: u64,
    /// Addresses the server says have no name (NXDOMAIN, no PTR record).
    pub missing: u64,
    /// Addresses without an answer (timeout, SERVFAIL, REFUSED, unreachable, errors).
    pub failed: u64,
    /// Inventory devices among the addresses with a name (inside the subnets).
    pub devices: u64,
    /// Of these, the devices whose host name or FQDN changed.
    pub changed: u64,
}

/// A stored lookup run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdnsRun {
    /// The run (status, times and probe log through the run's own methods).
    pub run: RunId,
    /// The configured server, if the run was one of its runs and the server still exists.
    pub server_id: Option<DnsServerId>,
    /// The server asked, `ADDR:PORT`.
    pub server: String,
    /// Labels shown.
    pub labels: u8,
    /// When it started.
    pub started: Timestamp,
    /// Its counts.
    pub summary: RdnsSummary,
}

impl Store {
    /// Saves a new DNS server with its subnets and its scan; returns its identity.
    pub async fn create_dns_server(
        &self,
        settings: &DnsServerSettings,
        at: Timestamp,
    ) -> Result<DnsServerId, StoreError> {
        insert_server(&self.pool, settings, at)
            .await
            .map_err(|e| e.context(format!("saving DNS server {}", settings.server())))
    }

    /// Replaces the settings of the server `id` (subnets included), all or nothing.
    pub async fn update_dns_server(
        &self,
        id: DnsServerId,
        settings: &DnsServerSettings,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        update_server(&self.pool, id, settings, at)
            .await
            .map_err(|e| e.context(format!("updating DNS server {id}")))
    }

    /// Deletes the server `id` and its subnets; its past runs stay (without the server).
    pub async fn delete_dns_server(&self, id: DnsServerId) -> Result<(), StoreError> {
        delete_server(&self.pool, id)
            .await
            .map_err(|e| e.context(format!("deleting DNS server {id}")))
    }

    /// The server `id`, if there is one.
    pub async fn dns_server(&self, id: DnsServerId) -> Result<Option<DnsServer>, StoreError> {
        select_server(&self.pool, id)
            .await
            .map_err(|e| e.context(format!("reading DNS server {id}")))
    }

    /// Every configured server, oldest first.
    pub async fn dns_servers(&self) -> Result<Vec<DnsServer>, StoreError> {
        select_servers(&self.pool)
            .await
            .map_err(|e| e.context("reading DNS servers"))
    }

    /// The addresses of the inventory's top-level devices inside `subnets`, in address order:
    /// what a scheduled run of a server looks up.
    pub async fn device_addresses_in(
        &self,
        subnets: &[ipnet::IpNet],
    ) -> Result<Vec<IpAddr>, StoreError> {
        select_addresses_in(&self.pool, subnets)
            .await
            .map_err(|e| e.context("reading device addresses"))
    }

    /// Saves how the running lookup run `run` ended, in one transaction: the names into the
    /// devices inside the subnets (with history), the probe log, the run's status and counts.
    /// On any error nothing is saved and the run stays running.
    pub async fn finish_rdns_run(
        &self,
        run: RunId,
        result: &RdnsRunResult<'_>,
    ) -> Result<RdnsSummary, StoreError> {
        save_rdns_run(&self.pool, run, result)
            .await
            .map_err(|e| e.context(format!("saving lookup run {run}")))
    }

    /// The lookup run `run`'s counts, if it is a finished lookup run.
    pub async fn rdns_run(&self, run: RunId) -> Result<Option<RdnsRun>, StoreError> {
        select_rdns_runs(&self.pool, Some(run), None)
            .await
            .map(|mut runs| runs.pop())
            .map_err(|e| e.context(format!("reading lookup run {run}")))
    }

    /// The finished lookup runs, newest first; only those of `server` when given.
    pub async fn rdns_runs(&self, server: Option<DnsServerId>) -> Result<Vec<RdnsRun>, StoreError> {
        select_rdns_runs(&self.pool, None, server)
            .await
            .map_err(|e| e.context("reading lookup runs"))
    }
}

/// Checks settings built elsewhere against core's rules, naming every wrong field.
fn validate(settings: &DnsServerSettings) -> Result<()> {
    DnsServerSettings::from_input(&settings.to_input())
        .map(|_| ())
        .map_err(|e| Failure::Rejected(e.to_string()))
}

/// The scan row that a server's runs belong to.
fn scan_fields(settings: &DnsServerSettings) -> (String, String, String) {
    let targets: Vec<String> = settings.subnets.iter().map(ToString::to_string).collect();
    let name = format!("rdns {}", settings.server());
    let spec = serde_json::json!({ "server": settings });
    (name, targets.join(","), spec.to_string())
}

async fn insert_server(
    pool: &SqlitePool,
    settings: &DnsServerSettings,
    at: Timestamp,
) -> Result<DnsServerId> {
    validate(settings)?;
    let (name, targets, spec) = scan_fields(settings);
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let scan: i64 = sqlx::query_scalar(
        "INSERT INTO scans (name, kind, protocol, targets, spec, created_at) \
         VALUES ($1, 'rdns', $2, $3, $4, $5) RETURNING id",
    )
    .bind(&name)
    .bind(Protocol::Dns.name())
    .bind(&targets)
    .bind(&spec)
    .bind(time_text(at))
    .fetch_one(&mut *tx)
    .await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO dns_servers \
             (scan_id, address, port, labels, schedule, enabled, rate, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
    )
    .bind(scan)
    .bind(settings.address.to_string())
    .bind(i64::from(settings.port))
    .bind(i64::from(settings.labels))
    .bind(settings.schedule.to_string())
    .bind(settings.enabled)
    .bind(i64::from(settings.rate))
    .bind(time_text(at))
    .fetch_one(&mut *tx)
    .await?;
    insert_subnets(&mut tx, id, &settings.subnets).await?;
    tx.commit().await?;
    Ok(DnsServerId(id))
}

async fn insert_subnets(
    conn: &mut SqliteConnection,
    id: i64,
    subnets: &[ipnet::IpNet],
) -> Result<()> {
    for (position, net) in subnets.iter().enumerate() {
        sqlx::query(
            "INSERT INTO dns_server_subnets (server_id, position, subnet) VALUES ($1, $2, $3)",
        )
        .bind(id)
        .bind(to_i64(position as u64, "subnet position")?)
        .bind(net.to_string())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn update_server(
    pool: &SqlitePool,
    id: DnsServerId,
    settings: &DnsServerSettings,
    at: Timestamp,
) -> Result<()> {
    validate(settings)?;
    let (name, targets, spec) = scan_fields(settings);
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let scan: Option<i64> = sqlx::query_scalar(
        "UPDATE dns_servers SET address = $2, port = $3, labels = $4, schedule = $5, \
             enabled = $6, rate = $7, updated_at = $8 \
         WHERE id = $1 RETURNING scan_id",
    )
    .bind(id.0)
    .bind(settings.address.to_string())
    .bind(i64::from(settings.port))
    .bind(i64::from(settings.labels))
    .bind(settings.schedule.to_string())
    .bind(settings.enabled)
    .bind(i64::from(settings.rate))
    .bind(time_text(at))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(scan) = scan else {
        return Err(Failure::Rejected(format!("there is no DNS server {id}")));
    };
    sqlx::query("DELETE FROM dns_server_subnets WHERE server_id = $1")
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
    insert_subnets(&mut tx, id.0, &settings.subnets).await?;
    sqlx::query("UPDATE scans SET name = $2, targets = $3, spec = $4 WHERE id = $1")
        .bind(scan)
        .bind(&name)
        .bind(&targets)
        .bind(&spec)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

async fn delete_server(pool: &SqlitePool, id: DnsServerId) -> Result<()> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query("DELETE FROM dns_server_subnets WHERE server_id = $1")
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE rdns_runs SET server_id = NULL WHERE server_id = $1")
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
    let deleted = sqlx::query("DELETE FROM dns_servers WHERE id = $1")
        .bind(id.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if deleted == 0 {
        return Err(Failure::Rejected(format!("there is no DNS server {id}")));
    }
    tx.commit().await?;
    Ok(())
}

/// A row of `dns_servers`.
#[derive(sqlx::FromRow)]
struct ServerRow {
    id: i64,
    scan_id: i64,
    address: String,
    port: i64,
    labels: i64,
    schedule: String,
    enabled: bool,
    rate: i64,
    created_at: String,
    updated_at: String,
}

const SERVER_COLUMNS: &str =
    "id, scan_id, address, port, labels, schedule, enabled, rate, created_at, updated_at";

impl ServerRow {
    fn into_server(self, subnets: Vec<String>) -> Result<DnsServer> {
        let corrupt = |what: &str, value: &dyn fmt::Debug| {
            Failure::Corrupt(format!("DNS server {}: {what} {value:?}", self.id))
        };
        let subnets = subnets
            .iter()
            .map(|s| s.parse().map_err(|_| corrupt("subnet", s)))
            .collect::<Result<Vec<ipnet::IpNet>>>()?;
        let settings = DnsServerSettings {
            address: self
                .address
                .parse()
                .map_err(|_| corrupt("address", &self.address))?,
            port: u16::try_from(self.port).map_err(|_| corrupt("port", &self.port))?,
            labels: u8::try_from(self.labels).map_err(|_| corrupt("labels", &self.labels))?,
            subnets,
            schedule: self
                .schedule
                .parse::<Schedule>()
                .map_err(|_| corrupt("schedule", &self.schedule))?,
            enabled: self.enabled,
            rate: u32::try_from(self.rate).map_err(|_| corrupt("rate", &self.rate))?,
        };
        Ok(DnsServer {
            id: DnsServerId(self.id),
            scan: ScanId(self.scan_id),
            settings,
            created: parse_time(&self.created_at)?,
            updated: parse_time(&self.updated_at)?,
        })
    }
}

async fn select_subnets(pool: &SqlitePool, id: i64) -> Result<Vec<String>> {
    let subnets = sqlx::query_scalar(
        "SELECT subnet FROM dns_server_subnets WHERE server_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(subnets)
}

async fn select_server(pool: &SqlitePool, id: DnsServerId) -> Result<Option<DnsServer>> {
    let sql = format!("SELECT {SERVER_COLUMNS} FROM dns_servers WHERE id = $1");
    let row: Option<ServerRow> = sqlx::query_as(&sql).bind(id.0).fetch_optional(pool).await?;
    match row {
        None => Ok(None),
        Some(row) => {
            let subnets = select_subnets(pool, row.id).await?;
            row.into_server(subnets).map(Some)
        }
    }
}

async fn select_servers(pool: &SqlitePool) -> Result<Vec<DnsServer>> {
    let sql = format!("SELECT {SERVER_COLUMNS} FROM dns_servers ORDER BY id");
    let rows: Vec<ServerRow> = sqlx::query_as(&sql).fetch_all(pool).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let subnets = select_subnets(pool, row.id).await?;
        out.push(row.into_server(subnets)?);
    }
    Ok(out)
}

async fn select_addresses_in(pool: &SqlitePool, subnets: &[ipnet::IpNet]) -> Result<Vec<IpAddr>> {
    let keys: Vec<String> =
        sqlx::query_scalar("SELECT key FROM devices WHERE parent_id IS NULL AND key LIKE 'ip:%'")
            .fetch_all(pool)
            .await?;
    let mut addrs: Vec<IpAddr> = keys
        .iter()
        .filter_map(|k| k.strip_prefix("ip:")?.parse().ok())
        .filter(|a| subnets.iter().any(|n| n.contains(a)))
        .collect();
    addrs.sort();
    Ok(addrs)
}

async fn save_rdns_run(
    pool: &SqlitePool,
    run: RunId,
    result: &RdnsRunResult<'_>,
) -> Result<RdnsSummary> {
    if result.status == RunStatus::Running {
        return Err(Failure::Rejected(
            "a finished run cannot be running".to_string(),
        ));
    }
    if !(1..=otsensor_core::rdns::MAX_LABELS).contains(&result.labels) {
        return Err(Failure::Rejected(format!(
            "labels: {} is not from 1 to {}",
            result.labels,
            otsensor_core::rdns::MAX_LABELS
        )));
    }
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    runs::ensure_running(&mut tx, run).await?;
    let changes = merge_names(&mut tx, result).await?;
    runs::save_devices(&mut tx, run, &changes).await?;
    let probe_log = probe_log(result);
    runs::insert_probe_log(&mut tx, run, &probe_log).await?;
    let summary = count(result, &changes);
    let run_summary = RunSummary {
        probed: summary.looked_up,
        identified: summary.found,
        new_devices: 0,
        updated_devices: summary.changed,
    };
    let finished = RunResult {
        status: result.status,
        ended: result.ended,
        changes: &changes,
        probe_log: &probe_log,
        error: result.error,
    };
    runs::update_finished_run(&mut tx, run, &finished, &run_summary).await?;
    insert_rdns_run(&mut tx, run, result, &summary).await?;
    tx.commit().await?;
    Ok(summary)
}

/// Merges the names found into the stored devices inside the subnets: one change per device.
async fn merge_names(
    conn: &mut SqliteConnection,
    result: &RdnsRunResult<'_>,
) -> Result<Vec<DeviceChange>> {
    // one lookup per address (the last one, should an address come twice)
    let found: std::collections::BTreeMap<IpAddr, (&NameLookup, &str)> = result
        .lookups
        .iter()
        .filter(|l| result.subnets.iter().any(|n| n.contains(&l.address)))
        .filter_map(|l| Some((l.address, (l, l.fqdn()?))))
        .collect();
    let keys: Vec<DeviceKey> = found.keys().map(|a| DeviceKey::Ip(*a)).collect();
    let current = devices::select_by_keys(conn, &keys).await?;
    let mut changes = Vec::new();
    for (lookup, fqdn) in found.into_values() {
        let key = DeviceKey::Ip(lookup.address);
        let Some(existing) = current.get(&key) else {
            continue; // not in the inventory: reverse DNS creates no devices
        };
        let observation = Observation {
            address: lookup.address,
            source: Protocol::Dns,
            time: lookup.looked_up,
            facts: vec![
                Fact::Name(host_name(fqdn, result.labels)),
                Fact::Fqdn {
                    fqdn: fqdn.to_string(),
                    looked_up: lookup.looked_up,
                },
            ],
            children: Vec::new(),
            related: Vec::new(),
            links: Vec::new(),
        };
        for mut change in merge(&current, &observation) {
            // the device was not contacted: a name lookup does not make it seen
            change.device.last_seen = existing.last_seen;
            changes.push(change);
        }
    }
    Ok(changes)
}

fn probe_log(result: &RdnsRunResult<'_>) -> Vec<ProbeLogEntry> {
    result
        .lookups
        .iter()
        .map(|l| {
            let outcome = l.outcome();
            let started = l
                .looked_up
                .checked_sub(jiff::SignedDuration::from_millis(
                    i64::try_from(l.duration_ms).unwrap_or(i64::MAX),
                ))
                .unwrap_or(l.looked_up);
            ProbeLogEntry {
                address: l.address,
                protocol: Protocol::Dns,
                outcome,
                error: (outcome != otsensor_core::Outcome::Identified).then(|| l.detail.clone()),
                started,
                duration_ms: l.duration_ms,
            }
        })
        .collect()
}

fn count(result: &RdnsRunResult<'_>, changes: &[DeviceChange]) -> RdnsSummary {
    let by =
        |f: fn(&NameResult) -> bool| result.lookups.iter().filter(|l| f(&l.result)).count() as u64;
    RdnsSummary {
        looked_up: result.lookups.len() as u64,
        found: by(|r| matches!(r, NameResult::Found(_))),
        missing: by(|r| matches!(r, NameResult::Missing)),
        failed: by(|r| matches!(r, NameResult::Failed(_))),
        devices: changes.len() as u64,
        changed: changes
            .iter()
            .filter(|c| c.change == otsensor_core::Change::Enriched)
            .count() as u64,
    }
}

async fn insert_rdns_run(
    conn: &mut SqliteConnection,
    run: RunId,
    result: &RdnsRunResult<'_>,
    s: &RdnsSummary,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO rdns_runs (run_id, server_id, server, labels, looked_up, found, missing, \
                                failed, devices, changed) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(run.0)
    .bind(result.server_id.map(|s| s.0))
    .bind(result.server.to_string())
    .bind(i64::from(result.labels))
    .bind(to_i64(s.looked_up, "looked_up")?)
    .bind(to_i64(s.found, "found")?)
    .bind(to_i64(s.missing, "missing")?)
    .bind(to_i64(s.failed, "failed")?)
    .bind(to_i64(s.devices, "devices")?)
    .bind(to_i64(s.changed, "changed")?)
    .execute(conn)
    .await?;
    Ok(())
}

/// A row of `rdns_runs` with its run's start.
#[derive(sqlx::FromRow)]
struct RdnsRunRow {
    run_id: i64,
    server_id: Option<i64>,
    server: String,
    labels: i64,
    started_at: String,
    looked_up: i64,
    found: i64,
    missing: i64,
    failed: i64,
    devices: i64,
    changed: i64,
}

impl RdnsRunRow {
    fn into_run(self) -> Result<RdnsRun> {
        Ok(RdnsRun {
            run: RunId(self.run_id),
            server_id: self.server_id.map(DnsServerId),
            server: self.server,
            labels: u8::try_from(self.labels)
                .map_err(|_| Failure::Corrupt(format!("lookup run labels {}", self.labels)))?,
            started: parse_time(&self.started_at)?,
            summary: RdnsSummary {
                looked_up: to_u64(self.looked_up, "looked_up")?,
                found: to_u64(self.found, "found")?,
                missing: to_u64(self.missing, "missing")?,
                failed: to_u64(self.failed, "failed")?,
                devices: to_u64(self.devices, "devices")?,
                changed: to_u64(self.changed, "changed")?,
            },
        })
    }
}

async fn select_rdns_runs(
    pool: &SqlitePool,
    run: Option<RunId>,
    server: Option<DnsServerId>,
) -> Result<Vec<RdnsRun>> {
    let rows: Vec<RdnsRunRow> = sqlx::query_as(
        "SELECT d.run_id, d.server_id, d.server, d.labels, r.started_at, d.looked_up, d.found, \
                d.missing, d.failed, d.devices, d.changed \
         FROM rdns_runs d JOIN runs r ON r.id = d.run_id \
         WHERE ($1 IS NULL OR d.run_id = $1) AND ($2 IS NULL OR d.server_id = $2) \
         ORDER BY d.run_id DESC",
    )
    .bind(run.map(|r| r.0))
    .bind(server.map(|s| s.0))
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(RdnsRunRow::into_run).collect()
}

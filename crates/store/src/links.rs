//! Links between devices (LLDP/CDP neighbours, stations on access ports) for the device map.

use crate::Store;
use crate::codec::{parse_key, parse_time, time_text};
use crate::devices;
use crate::error::{Failure, Result, StoreError};
use crate::runs::RunId;
use jiff::Timestamp;
use otsensor_core::{DeviceKey, Link, LinkKind, MacAddr};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};
use std::collections::{BTreeMap, BTreeSet};

/// A link as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLink {
    /// The link.
    pub link: Link,
    /// Whether the reporting device still reported it when it was last read.
    pub active: bool,
    /// When a run first saw it.
    pub first_seen: Timestamp,
    /// When a run last saw it.
    pub last_seen: Timestamp,
    /// The last run that saw it.
    pub run: RunId,
}

/// An active link between two devices of the inventory, by device id (the device map).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkEdge {
    /// The reporting device (the switch).
    pub source: i64,
    /// The device at the other end.
    pub target: i64,
    /// The reporting device's port.
    pub port: Option<String>,
    /// The remote device's port, as its neighbour protocol named it.
    pub remote_port: Option<String>,
    /// How it was learned.
    pub kind: LinkKind,
    /// The VLAN, when known.
    pub vlan: Option<u16>,
}

/// MACs per `IN (...)` query.
const MACS_PER_QUERY: usize = 500;

impl Store {
    /// Every link, active ones only unless `all`, ordered by reporting device and port.
    pub async fn links(&self, all: bool) -> Result<Vec<StoredLink>, StoreError> {
        select_links(&self.pool, all)
            .await
            .map_err(|e| e.context("reading links"))
    }

    /// Every active link whose remote end is a device of the inventory, by device ids.
    pub async fn link_edges(&self) -> Result<Vec<LinkEdge>, StoreError> {
        select_edges(&self.pool)
            .await
            .map_err(|e| e.context("reading device-map links"))
    }

    /// The top-level devices known by address that have one of `macs` (for re-keying devices a
    /// switch knows only by MAC): MAC to key, the lowest key when several share a MAC.
    pub async fn device_keys_by_macs(
        &self,
        macs: &[MacAddr],
    ) -> Result<BTreeMap<MacAddr, DeviceKey>, StoreError> {
        select_keys_by_macs(&self.pool, macs)
            .await
            .map_err(|e| e.context(format!("looking up {} MAC addresses", macs.len())))
    }
}

/// Saves the links of a run: upserts each (active again, seen now), then marks inactive the
/// links of the reporting devices that this run did not report.
pub(crate) async fn save_links(
    conn: &mut SqliteConnection,
    run: RunId,
    links: &[Link],
    at: Timestamp,
) -> Result<()> {
    let at = time_text(at);
    let mut reporters = BTreeSet::new();
    for link in links {
        let Some(device_id) = devices::device_id(conn, &link.device).await? else {
            return Err(Failure::Rejected(format!(
                "the link's device {} is neither in the run nor in the inventory",
                link.device
            )));
        };
        reporters.insert(device_id);
        let remote_id = match &link.remote {
            Some(key) => devices::device_id(conn, key).await?,
            None => None,
        };
        sqlx::query(
            "INSERT INTO links (device_id, port, if_index, remote_key, remote_device_id, \
                                remote_name, remote_port, kind, vlan, active, first_seen, \
                                last_seen, run_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $10, $11) \
             ON CONFLICT (device_id, port, kind, remote_key, remote_name, remote_port) \
             DO UPDATE SET if_index = excluded.if_index, \
                 remote_device_id = excluded.remote_device_id, vlan = excluded.vlan, \
                 active = 1, last_seen = excluded.last_seen, run_id = excluded.run_id",
        )
        .bind(device_id)
        .bind(link.port.clone().unwrap_or_default())
        .bind(link.if_index.map(i64::from))
        .bind(
            link.remote
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
        )
        .bind(remote_id)
        .bind(link.remote_name.clone().unwrap_or_default())
        .bind(link.remote_port.clone().unwrap_or_default())
        .bind(link.kind.name())
        .bind(link.vlan.map(i64::from))
        .bind(&at)
        .bind(run.0)
        .execute(&mut *conn)
        .await?;
    }
    for device_id in reporters {
        sqlx::query("UPDATE links SET active = 0 WHERE device_id = $1 AND run_id <> $2")
            .bind(device_id)
            .bind(run.0)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// A row of `links` with the reporting device's key.
#[derive(sqlx::FromRow)]
struct LinkRow {
    device_key: String,
    port: String,
    if_index: Option<i64>,
    remote_key: String,
    remote_name: String,
    remote_port: String,
    kind: String,
    vlan: Option<i64>,
    active: i64,
    first_seen: String,
    last_seen: String,
    run_id: i64,
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

impl LinkRow {
    fn into_link(self) -> Result<StoredLink> {
        let kind = LinkKind::from_name(&self.kind)
            .ok_or_else(|| Failure::Corrupt(format!("link kind {:?}", self.kind)))?;
        let remote = match self.remote_key.as_str() {
            "" => None,
            key => Some(parse_key(key)?),
        };
        Ok(StoredLink {
            link: Link {
                device: parse_key(&self.device_key)?,
                port: non_empty(self.port),
                if_index: self.if_index.and_then(|v| u32::try_from(v).ok()),
                remote,
                remote_name: non_empty(self.remote_name),
                remote_port: non_empty(self.remote_port),
                kind,
                vlan: self.vlan.and_then(|v| u16::try_from(v).ok()),
            },
            active: self.active != 0,
            first_seen: parse_time(&self.first_seen)?,
            last_seen: parse_time(&self.last_seen)?,
            run: RunId(self.run_id),
        })
    }
}

async fn select_links(pool: &SqlitePool, all: bool) -> Result<Vec<StoredLink>> {
    let sql = format!(
        "SELECT d.key AS device_key, l.port, l.if_index, l.remote_key, l.remote_name, \
                l.remote_port, l.kind, l.vlan, l.active, l.first_seen, l.last_seen, l.run_id \
         FROM links l JOIN devices d ON d.id = l.device_id {} \
         ORDER BY d.key, l.if_index, l.port, l.kind, l.remote_key, l.remote_name",
        if all { "" } else { "WHERE l.active = 1" }
    );
    let rows: Vec<LinkRow> = sqlx::query_as(&sql).fetch_all(pool).await?;
    rows.into_iter().map(LinkRow::into_link).collect()
}

async fn select_keys_by_macs(
    pool: &SqlitePool,
    macs: &[MacAddr],
) -> Result<BTreeMap<MacAddr, DeviceKey>> {
    let mut found: BTreeMap<MacAddr, DeviceKey> = BTreeMap::new();
    for chunk in macs.chunks(MACS_PER_QUERY) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT d.mac, d.key FROM devices d \
             WHERE d.parent_id IS NULL AND d.key LIKE 'ip:%' AND d.mac IN (",
        );
        let mut list = query.separated(", ");
        for mac in chunk {
            list.push_bind(mac.to_string());
        }
        query.push(")");
        let rows: Vec<(String, String)> = query.build_query_as().fetch_all(pool).await?;
        for (mac, key) in rows {
            let mac: MacAddr = mac
                .parse()
                .map_err(|e| Failure::Corrupt(format!("device MAC {mac:?}: {e}")))?;
            let key = parse_key(&key)?;
            found
                .entry(mac)
                .and_modify(|k| {
                    if key < *k {
                        *k = key.clone();
                    }
                })
                .or_insert(key);
        }
    }
    Ok(found)
}

async fn select_edges(pool: &SqlitePool) -> Result<Vec<LinkEdge>> {
    type Row = (i64, i64, String, String, String, Option<i64>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT l.device_id, COALESCE(l.remote_device_id, r.id) AS target, l.port, \
                l.remote_port, l.kind, l.vlan \
         FROM links l LEFT JOIN devices r ON l.remote_key <> '' AND r.key = l.remote_key \
         WHERE l.active = 1 AND COALESCE(l.remote_device_id, r.id) IS NOT NULL \
         ORDER BY l.device_id, l.if_index, l.port, l.kind, target",
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(source, target, port, remote_port, kind, vlan)| {
            Ok(LinkEdge {
                source,
                target,
                port: non_empty(port),
                remote_port: non_empty(remote_port),
                kind: LinkKind::from_name(&kind)
                    .ok_or_else(|| Failure::Corrupt(format!("link kind {kind:?}")))?,
                vlan: vlan.and_then(|v| u16::try_from(v).ok()),
            })
        })
        .collect()
}

//! The inventory: devices (parents before sub-devices) and the history of their attributes.

use crate::Store;
use crate::codec::{
    from_json, ip_sort_text, parse_key, parse_protocol, parse_time, time_text, to_json,
};
use crate::error::{Failure, Result, StoreError};
use crate::runs::RunId;
use jiff::Timestamp;
use otsensor_core::{AttributeChange, Device, DeviceKey, Protocol};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// One attribute a run added or changed on a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// The run that saw the change.
    pub run: RunId,
    /// Attribute name as in exports (`vendor`, `firmware`, `protocols`, ...).
    pub attribute: String,
    /// The value before, if there was one.
    pub old: Option<String>,
    /// The value after.
    pub new: String,
    /// The protocol whose answer said so.
    pub source: Protocol,
    /// When the run saw the device (its last-seen time after the run).
    pub at: Timestamp,
}

impl Store {
    /// The stored devices among `keys`, by key (keys not in the inventory are absent): the
    /// current state that the inventory merge starts from.
    pub async fn devices_by_keys(
        &self,
        keys: &[DeviceKey],
    ) -> Result<BTreeMap<DeviceKey, Device>, StoreError> {
        let read = async {
            let mut conn = self.pool.acquire().await?;
            select_by_keys(&mut conn, keys).await
        };
        read.await
            .map_err(|e| e.context(format!("reading {} devices by key", keys.len())))
    }

    /// Every device, each parent before its sub-devices (top-level devices in address order).
    pub async fn devices(&self) -> Result<Vec<Device>, StoreError> {
        select_all(&self.pool)
            .await
            .map_err(|e| e.context("reading devices"))
    }

    /// The device with `key`, if there is one.
    pub async fn device(&self, key: &DeviceKey) -> Result<Option<Device>, StoreError> {
        select_one(&self.pool, key)
            .await
            .map_err(|e| e.context(format!("reading device {key}")))
    }

    /// The direct sub-devices of `key` (modules, units, routed devices), in position order.
    pub async fn children(&self, key: &DeviceKey) -> Result<Vec<Device>, StoreError> {
        select_children(&self.pool, key)
            .await
            .map_err(|e| e.context(format!("reading sub-devices of {key}")))
    }

    /// Every attribute change of the device `key`, oldest first (empty for an unknown device).
    pub async fn history(&self, key: &DeviceKey) -> Result<Vec<HistoryEntry>, StoreError> {
        select_history(&self.pool, key)
            .await
            .map_err(|e| e.context(format!("reading the history of {key}")))
    }
}

/// The columns a [`DeviceRow`] reads, from `devices` aliased `d`.
pub(crate) const DEVICE_COLUMNS: &str = "d.key, d.attributes, d.first_seen, d.last_seen";

/// Keys per `IN (...)` query, well under SQLite's (and Postgres') parameter limits.
const KEYS_PER_QUERY: usize = 500;

/// The columns of `devices` that make up a [`Device`].
#[derive(sqlx::FromRow)]
pub(crate) struct DeviceRow {
    pub(crate) key: String,
    pub(crate) attributes: String,
    pub(crate) first_seen: String,
    pub(crate) last_seen: String,
}

impl DeviceRow {
    /// The domain device.
    pub(crate) fn into_device(self) -> Result<Device> {
        Ok(Device {
            key: parse_key(&self.key)?,
            attributes: from_json(&self.attributes, "device attributes")?,
            first_seen: parse_time(&self.first_seen)?,
            last_seen: parse_time(&self.last_seen)?,
        })
    }
}

/// Sorts devices so that each parent comes before its sub-devices, siblings in key order.
pub(crate) fn sort_parents_first(devices: &mut [Device]) {
    devices.sort_by(|a, b| tree_order(&a.key, &b.key));
}

/// Orders keys as a tree walk: a parent before its sub-devices, siblings in key order.
pub(crate) fn tree_order(a: &DeviceKey, b: &DeviceKey) -> Ordering {
    lineage(a).cmp(&lineage(b))
}

/// The keys from the top-level ancestor down to `key`.
fn lineage(key: &DeviceKey) -> Vec<&DeviceKey> {
    let mut chain = vec![key];
    let mut at = key;
    while let Some(parent) = at.parent() {
        chain.push(parent);
        at = parent;
    }
    chain.reverse();
    chain
}

/// How many ancestors a key has.
pub(crate) fn depth(key: &DeviceKey) -> usize {
    lineage(key).len() - 1
}

/// The stored devices among `keys`, read on `conn` (inside a transaction, if it holds one).
pub(crate) async fn select_by_keys(
    conn: &mut SqliteConnection,
    keys: &[DeviceKey],
) -> Result<BTreeMap<DeviceKey, Device>> {
    let mut found = BTreeMap::new();
    for chunk in keys.chunks(KEYS_PER_QUERY) {
        let mut query = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {DEVICE_COLUMNS} FROM devices d WHERE d.key IN ("
        ));
        let mut list = query.separated(", ");
        for key in chunk {
            list.push_bind(key.to_string());
        }
        query.push(")");
        let rows: Vec<DeviceRow> = query.build_query_as().fetch_all(&mut *conn).await?;
        for row in rows {
            let device = row.into_device()?;
            found.insert(device.key.clone(), device);
        }
    }
    Ok(found)
}

async fn select_all(pool: &SqlitePool) -> Result<Vec<Device>> {
    let sql = format!("SELECT {DEVICE_COLUMNS} FROM devices d");
    let rows: Vec<DeviceRow> = sqlx::query_as(&sql).fetch_all(pool).await?;
    into_sorted_devices(rows)
}

async fn select_one(pool: &SqlitePool, key: &DeviceKey) -> Result<Option<Device>> {
    let sql = format!("SELECT {DEVICE_COLUMNS} FROM devices d WHERE d.key = $1");
    let row: Option<DeviceRow> = sqlx::query_as(&sql)
        .bind(key.to_string())
        .fetch_optional(pool)
        .await?;
    row.map(DeviceRow::into_device).transpose()
}

async fn select_children(pool: &SqlitePool, key: &DeviceKey) -> Result<Vec<Device>> {
    let sql = format!(
        "SELECT {DEVICE_COLUMNS} FROM devices d JOIN devices p ON d.parent_id = p.id \
         WHERE p.key = $1"
    );
    let rows: Vec<DeviceRow> = sqlx::query_as(&sql)
        .bind(key.to_string())
        .fetch_all(pool)
        .await?;
    into_sorted_devices(rows)
}

/// Rows as devices, parents first.
pub(crate) fn into_sorted_devices(rows: Vec<DeviceRow>) -> Result<Vec<Device>> {
    let mut devices = rows
        .into_iter()
        .map(DeviceRow::into_device)
        .collect::<Result<Vec<_>>>()?;
    sort_parents_first(&mut devices);
    Ok(devices)
}

/// A row of `device_history`.
#[derive(sqlx::FromRow)]
struct HistoryRow {
    run_id: i64,
    attribute: String,
    old_value: Option<String>,
    new_value: String,
    source: String,
    at: String,
}

impl HistoryRow {
    fn into_entry(self) -> Result<HistoryEntry> {
        Ok(HistoryEntry {
            run: RunId(self.run_id),
            attribute: self.attribute,
            old: self.old_value,
            new: self.new_value,
            source: parse_protocol(&self.source)?,
            at: parse_time(&self.at)?,
        })
    }
}

async fn select_history(pool: &SqlitePool, key: &DeviceKey) -> Result<Vec<HistoryEntry>> {
    let rows: Vec<HistoryRow> = sqlx::query_as(
        "SELECT h.run_id, h.attribute, h.old_value, h.new_value, h.source, h.at \
         FROM device_history h JOIN devices d ON d.id = h.device_id \
         WHERE d.key = $1 ORDER BY h.id",
    )
    .bind(key.to_string())
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(HistoryRow::into_entry).collect()
}

/// The row id of the device `key`, if it is stored.
pub(crate) async fn device_id(conn: &mut SqliteConnection, key: &DeviceKey) -> Result<Option<i64>> {
    let id = sqlx::query_scalar("SELECT id FROM devices WHERE key = $1")
        .bind(key.to_string())
        .fetch_optional(conn)
        .await?;
    Ok(id)
}

/// Inserts `device` or updates the stored one with the same key; returns its row id.
///
/// `protocols` repeats the attributes' protocol array for the devices list's filter (migration
/// 0007); triggers keep the trigram search index in step.
///
/// First and last seen only ever widen, so a stale copy cannot move them back.
pub(crate) async fn upsert(
    conn: &mut SqliteConnection,
    device: &Device,
    parent_id: Option<i64>,
) -> Result<i64> {
    let attrs = &device.attributes;
    let id = sqlx::query_scalar(
        "INSERT INTO devices (key, parent_id, position, ip, mac, vendor, type, name, attributes, \
                              first_seen, last_seen, ip_sort, protocols) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
                 json_extract($9, '$.protocols')) \
         ON CONFLICT (key) DO UPDATE SET \
             parent_id = excluded.parent_id, position = excluded.position, ip = excluded.ip, \
             ip_sort = excluded.ip_sort, protocols = excluded.protocols, \
             mac = excluded.mac, vendor = excluded.vendor, type = excluded.type, \
             name = excluded.name, attributes = excluded.attributes, \
             first_seen = CASE WHEN excluded.first_seen < devices.first_seen \
                               THEN excluded.first_seen ELSE devices.first_seen END, \
             last_seen = CASE WHEN excluded.last_seen > devices.last_seen \
                              THEN excluded.last_seen ELSE devices.last_seen END \
         RETURNING id",
    )
    .bind(device.key.to_string())
    .bind(parent_id)
    .bind(device.key.position().map(ToString::to_string))
    .bind(device.ip().map(|ip| ip.to_string()))
    .bind(attrs.mac.map(|mac| mac.to_string()))
    .bind(attrs.best_vendor())
    .bind(attrs.device_type.map(|t| t.name()))
    .bind(attrs.name.as_deref())
    .bind(to_json(attrs, "device attributes")?)
    .bind(time_text(device.first_seen))
    .bind(time_text(device.last_seen))
    .bind(device.ip().map(ip_sort_text))
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// Records the attribute changes a run saw on one device.
pub(crate) async fn insert_history(
    conn: &mut SqliteConnection,
    device_id: i64,
    run: RunId,
    changes: &[AttributeChange],
    source: Protocol,
    at: Timestamp,
) -> Result<()> {
    let at = time_text(at);
    for change in changes {
        sqlx::query(
            "INSERT INTO device_history \
                 (device_id, run_id, attribute, old_value, new_value, source, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(device_id)
        .bind(run.0)
        .bind(&change.attribute)
        .bind(change.old.as_deref())
        .bind(&change.new)
        .bind(source.name())
        .bind(&at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The row id of the parent of a sub-device `key`: `None` for a top-level device, an error
/// when the parent is neither in `saved` (saved earlier in this transaction) nor stored.
pub(crate) async fn parent_id(
    conn: &mut SqliteConnection,
    key: &DeviceKey,
    saved: &BTreeMap<DeviceKey, i64>,
) -> Result<Option<i64>> {
    let Some(parent) = key.parent() else {
        return Ok(None);
    };
    if let Some(id) = saved.get(parent) {
        return Ok(Some(*id));
    }
    match device_id(conn, parent).await? {
        Some(id) => Ok(Some(id)),
        None => Err(Failure::Rejected(format!(
            "the parent {parent} of {key} is neither in the run nor in the inventory"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use otsensor_core::Position;

    fn device(key: &str) -> Device {
        Device::new(key.parse().unwrap(), Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn parents_come_before_their_sub_devices() {
        let mut devices: Vec<Device> = [
            "ip:127.0.0.10/slot:2",
            "ip:127.0.0.10/slot:10/unit:1",
            "ip:127.0.0.2",
            "ip:127.0.0.10/slot:10",
            "ip:127.0.0.10",
        ]
        .into_iter()
        .map(device)
        .collect();
        sort_parents_first(&mut devices);
        let keys: Vec<String> = devices.iter().map(|d| d.key.to_string()).collect();
        assert_eq!(
            keys,
            [
                "ip:127.0.0.2",
                "ip:127.0.0.10",
                "ip:127.0.0.10/slot:2",
                "ip:127.0.0.10/slot:10",
                "ip:127.0.0.10/slot:10/unit:1",
            ]
        );
        let deep = devices[4].key.clone();
        assert_eq!(depth(&deep), 2);
        assert_eq!(deep.position(), Some(&Position::UnitId(1)));
    }
}

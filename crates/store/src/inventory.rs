//! The inventory as the service shows it: devices by row id, filtered, sorted and paged; a
//! device's sub-devices; the links of the device map; the devices of a run; and counts for
//! the metrics endpoint.

use crate::Store;
use crate::codec::{ip_sort_text, parse_change, parse_key, parse_time};
use crate::devices::{DEVICE_COLUMNS, DeviceRow, tree_order};
use crate::error::{Failure, Result, StoreError};
use crate::runs::RunId;
use ipnet::IpNet;
use jiff::Timestamp;
use otsensor_core::{Change, Device, DeviceKey, DeviceType, Protocol};
use sqlx::SqlitePool;

/// Which devices to list. Every field narrows the list; the default lists every device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceFilter {
    /// Only devices of this type.
    pub device_type: Option<DeviceType>,
    /// Only devices whose vendor contains this (any case).
    pub vendor: Option<String>,
    /// Only devices that answered this protocol.
    pub protocol: Option<Protocol>,
    /// Only devices whose address (or top-level ancestor's address) is in this network.
    pub subnet: Option<IpNet>,
    /// Only devices whose key or any attribute contains this text (any case).
    pub text: Option<String>,
    /// Only top-level devices (no modules, units or routed devices).
    pub top_level: bool,
}

/// What the list is ordered by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DeviceSort {
    /// Address, in numeric order; a parent before its sub-devices.
    #[default]
    Ip,
    /// Vendor name.
    Vendor,
    /// Device type.
    Type,
    /// Device name.
    Name,
    /// When first seen.
    FirstSeen,
    /// When last seen.
    LastSeen,
}

impl DeviceSort {
    /// Parses the name used in the API (`ip`, `vendor`, `type`, `name`, `first_seen`, `last_seen`).
    pub fn from_name(name: &str) -> Option<DeviceSort> {
        Some(match name {
            "ip" => DeviceSort::Ip,
            "vendor" => DeviceSort::Vendor,
            "type" => DeviceSort::Type,
            "name" => DeviceSort::Name,
            "first_seen" => DeviceSort::FirstSeen,
            "last_seen" => DeviceSort::LastSeen,
            _ => return None,
        })
    }

    /// The column, from `devices` aliased `d`.
    pub(crate) fn column(self) -> &'static str {
        match self {
            DeviceSort::Ip => "d.ip_sort",
            DeviceSort::Vendor => "d.vendor",
            DeviceSort::Type => "d.type",
            DeviceSort::Name => "d.name",
            DeviceSort::FirstSeen => "d.first_seen",
            DeviceSort::LastSeen => "d.last_seen",
        }
    }

    /// Its part of the name of its indexes (`devices_list_<name>_asc`, migration 0007).
    pub(crate) fn index_name(self) -> &'static str {
        match self {
            DeviceSort::Ip => "ip",
            DeviceSort::Vendor => "vendor",
            DeviceSort::Type => "type",
            DeviceSort::Name => "name",
            DeviceSort::FirstSeen => "first_seen",
            DeviceSort::LastSeen => "last_seen",
        }
    }
}

/// A device with its row ids (for links between API resources).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDevice {
    /// Its row id.
    pub id: i64,
    /// Its parent's row id, for a sub-device.
    pub parent: Option<i64>,
    /// The device.
    pub device: Device,
}

/// A page of devices and how many match in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevicePage {
    /// The devices of the page.
    pub devices: Vec<StoredDevice>,
    /// How many devices match the filter.
    pub total: u64,
}

/// A device of a list page with its attributes as the JSON text they are stored as.
///
/// That text is always [`Attributes`](otsensor_core::device::Attributes) serialized by this
/// build (`serde_json::to_string`): the store writes nothing else and brings older rows to this
/// form when it opens ([`ATTRIBUTES_FORMAT`](crate::ATTRIBUTES_FORMAT)), so a caller may copy it
/// into its own JSON instead of parsing it and writing it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedDevice {
    /// Its row id.
    pub id: i64,
    /// Its parent's row id, for a sub-device.
    pub parent: Option<i64>,
    /// Its identity.
    pub key: DeviceKey,
    /// Its attributes as stored: a JSON object.
    pub attributes_json: String,
    /// When a scan first saw it.
    pub first_seen: Timestamp,
    /// When a scan last saw it.
    pub last_seen: Timestamp,
}

/// A page of [`ListedDevice`]s and how many match in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedPage {
    /// The devices of the page.
    pub devices: Vec<ListedDevice>,
    /// How many devices match the filter.
    pub total: u64,
}

/// Counts for the metrics endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreCounts {
    /// Devices in the inventory.
    pub devices: u64,
    /// Scan definitions (not deleted).
    pub scans: u64,
    /// Runs by status name.
    pub runs: Vec<(String, u64)>,
    /// Probe-log entries by outcome name.
    pub probes: Vec<(String, u64)>,
}

impl Store {
    /// A page of the devices matching `filter`, ordered by `sort` (then by key).
    pub async fn list_devices(
        &self,
        filter: &DeviceFilter,
        sort: DeviceSort,
        descending: bool,
        offset: u64,
        limit: u64,
    ) -> Result<DevicePage, StoreError> {
        let (devices, total) = self
            .list_page(
                filter,
                sort,
                descending,
                offset,
                limit,
                IdDeviceRow::into_stored,
            )
            .await?;
        Ok(DevicePage { devices, total })
    }

    /// The page [`list_devices`](Store::list_devices) gives, with each device's attributes as
    /// their stored JSON text (for an answer that copies them as they are).
    pub async fn list_devices_json(
        &self,
        filter: &DeviceFilter,
        sort: DeviceSort,
        descending: bool,
        offset: u64,
        limit: u64,
    ) -> Result<ListedPage, StoreError> {
        let (devices, total) = self
            .list_page(
                filter,
                sort,
                descending,
                offset,
                limit,
                IdDeviceRow::into_listed,
            )
            .await?;
        Ok(ListedPage { devices, total })
    }

    /// The page of either kind, each device made from its row by `make`.
    async fn list_page<T>(
        &self,
        filter: &DeviceFilter,
        sort: DeviceSort,
        descending: bool,
        offset: u64,
        limit: u64,
        make: fn(IdDeviceRow) -> Result<T>,
    ) -> Result<(Vec<T>, u64), StoreError> {
        crate::listing::select_page(&self.pool, filter, sort, descending, offset, limit, make)
            .await
            .map_err(|e| e.context("listing devices"))
    }

    /// The device with row id `id`.
    pub async fn device_by_id(&self, id: i64) -> Result<Option<StoredDevice>, StoreError> {
        let sql =
            format!("SELECT d.id, d.parent_id, {DEVICE_COLUMNS} FROM devices d WHERE d.id = $1");
        let row: Option<IdDeviceRow> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| Failure::from(e).context(format!("reading device {id}")))?;
        row.map(IdDeviceRow::into_stored)
            .transpose()
            .map_err(|e| e.context(format!("reading device {id}")))
    }

    /// Every sub-device below the device `id`, at any depth, parents first.
    pub async fn descendants(&self, id: i64) -> Result<Vec<StoredDevice>, StoreError> {
        let sql = format!(
            "WITH RECURSIVE below(id) AS ( \
                 SELECT id FROM devices WHERE parent_id = $1 \
                 UNION SELECT d.id FROM devices d JOIN below b ON d.parent_id = b.id) \
             SELECT d.id, d.parent_id, {DEVICE_COLUMNS} FROM devices d JOIN below b ON b.id = d.id"
        );
        let rows: Vec<IdDeviceRow> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| Failure::from(e).context(format!("reading the modules of device {id}")))?;
        let mut devices = rows
            .into_iter()
            .map(IdDeviceRow::into_stored)
            .collect::<Result<Vec<_>>>()
            .map_err(|e| e.context(format!("reading the modules of device {id}")))?;
        devices.sort_by(|a, b| tree_order(&a.device.key, &b.device.key));
        Ok(devices)
    }

    /// The containment links of the device map: (parent row id, sub-device row id).
    pub async fn containment_links(&self) -> Result<Vec<(i64, i64)>, StoreError> {
        sqlx::query_as("SELECT parent_id, id FROM devices WHERE parent_id IS NOT NULL ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| Failure::from(e).context("reading device links"))
    }

    /// The devices the run `run` saw (only those it created or enriched, if `change` says so),
    /// with their row ids, parents first.
    pub async fn run_devices_with_ids(
        &self,
        run: RunId,
        change: Option<Change>,
    ) -> Result<Vec<(StoredDevice, Change)>, StoreError> {
        select_run_devices(&self.pool, run, change)
            .await
            .map_err(|e| e.context(format!("reading the devices of run {run}")))
    }

    /// Counts of devices, scans, runs by status and probes by outcome.
    pub async fn counts(&self) -> Result<StoreCounts, StoreError> {
        select_counts(&self.pool)
            .await
            .map_err(|e| e.context("counting for the metrics"))
    }

    /// Fills the sortable address of devices saved before it existed.
    pub(crate) async fn backfill_ip_sort(&self) -> Result<(), StoreError> {
        backfill(&self.pool)
            .await
            .map_err(|e| e.context("filling devices.ip_sort"))
    }
}

/// A device row with its row ids.
#[derive(sqlx::FromRow)]
pub(crate) struct IdDeviceRow {
    /// Its row id.
    pub(crate) id: i64,
    /// Its parent's row id.
    pub(crate) parent_id: Option<i64>,
    /// The device's columns.
    #[sqlx(flatten)]
    pub(crate) device: DeviceRow,
}

impl IdDeviceRow {
    /// The stored device.
    pub(crate) fn into_stored(self) -> Result<StoredDevice> {
        Ok(StoredDevice {
            id: self.id,
            parent: self.parent_id,
            device: self.device.into_device()?,
        })
    }

    /// The listed device, its attributes left as stored.
    pub(crate) fn into_listed(self) -> Result<ListedDevice> {
        let DeviceRow {
            key,
            attributes,
            first_seen,
            last_seen,
        } = self.device;
        check_json_object(&attributes)?;
        Ok(ListedDevice {
            id: self.id,
            parent: self.parent_id,
            key: parse_key(&key)?,
            attributes_json: attributes,
            first_seen: parse_time(&first_seen)?,
            last_seen: parse_time(&last_seen)?,
        })
    }
}

/// Fails unless `text` has the braces of a JSON object, so that a damaged row is reported
/// rather than copied into an answer. (Only the store writes the column, always whole objects;
/// reading each one through to check it would cost about a tenth of a 1,000-device page.)
fn check_json_object(text: &str) -> Result<()> {
    if text.len() >= 2 && text.starts_with('{') && text.ends_with('}') {
        Ok(())
    } else {
        Err(Failure::Corrupt(format!(
            "device attributes: not a JSON object: {text:.80}"
        )))
    }
}

#[derive(sqlx::FromRow)]
struct RunDeviceRow {
    #[sqlx(flatten)]
    device: IdDeviceRow,
    change: String,
}

async fn select_run_devices(
    pool: &SqlitePool,
    run: RunId,
    change: Option<Change>,
) -> Result<Vec<(StoredDevice, Change)>> {
    let sql = format!(
        "SELECT d.id, d.parent_id, {DEVICE_COLUMNS}, rd.change FROM run_devices rd \
         JOIN devices d ON d.id = rd.device_id \
         WHERE rd.run_id = $1 AND ($2 IS NULL OR rd.change = $2)"
    );
    let rows: Vec<RunDeviceRow> = sqlx::query_as(&sql)
        .bind(run.0)
        .bind(change.map(Change::name))
        .fetch_all(pool)
        .await?;
    let mut out = rows
        .into_iter()
        .map(|r| Ok((r.device.into_stored()?, parse_change(&r.change)?)))
        .collect::<Result<Vec<_>>>()?;
    out.sort_by(|a, b| tree_order(&a.0.device.key, &b.0.device.key));
    Ok(out)
}

async fn select_counts(pool: &SqlitePool) -> Result<StoreCounts> {
    let devices: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM devices")
        .fetch_one(pool)
        .await?;
    let scans: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM scan_definitions WHERE deleted_at IS NULL")
            .fetch_one(pool)
            .await?;
    let runs: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) FROM runs GROUP BY status ORDER BY status")
            .fetch_all(pool)
            .await?;
    let probes: Vec<(String, i64)> =
        sqlx::query_as("SELECT outcome, COUNT(*) FROM probe_log GROUP BY outcome ORDER BY outcome")
            .fetch_all(pool)
            .await?;
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    Ok(StoreCounts {
        devices: count(devices),
        scans: count(scans),
        runs: runs.into_iter().map(|(s, n)| (s, count(n))).collect(),
        probes: probes.into_iter().map(|(s, n)| (s, count(n))).collect(),
    })
}

async fn backfill(pool: &SqlitePool) -> Result<()> {
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, ip FROM devices WHERE ip_sort IS NULL AND ip IS NOT NULL")
            .fetch_all(pool)
            .await?;
    for (id, ip) in rows {
        let Ok(ip) = ip.parse() else {
            return Err(Failure::Corrupt(format!("device address {ip:?}")));
        };
        sqlx::query("UPDATE devices SET ip_sort = $2 WHERE id = $1")
            .bind(id)
            .bind(ip_sort_text(ip))
            .execute(pool)
            .await?;
    }
    Ok(())
}

/// The plain query of a page, as before migration 0007 (every device's JSON read for the
/// protocol and text filters): the reference the indexed query is tested against.
#[cfg(test)]
pub(crate) mod plain {
    use super::{DeviceFilter, DevicePage, DeviceSort, IdDeviceRow};
    use crate::audit::escape_like;
    use crate::codec::ip_sort_text;
    use crate::devices::DEVICE_COLUMNS;
    use crate::error::Result;
    use sqlx::{QueryBuilder, Sqlite, SqlitePool};

    /// Appends ` WHERE ...` for `filter` to `query`: the plain filter (every device's JSON read),
    /// the reference the list's indexed query is tested against.
    fn push_filter(query: &mut QueryBuilder<'_, Sqlite>, filter: &DeviceFilter) {
        query.push(" WHERE 1 = 1");
        if let Some(t) = filter.device_type {
            query.push(" AND d.type = ").push_bind(t.name());
        }
        if let Some(v) = &filter.vendor {
            query
                .push(" AND d.vendor LIKE ")
                .push_bind(format!("%{}%", escape_like(v)))
                .push(" ESCAPE '\\'");
        }
        if let Some(p) = filter.protocol {
            query
                .push(
                    " AND EXISTS (SELECT 1 FROM json_each(d.attributes, '$.protocols') p \
                     WHERE p.value = ",
                )
                .push_bind(p.name())
                .push(")");
        }
        if let Some(net) = filter.subnet {
            query
                .push(" AND d.ip_sort BETWEEN ")
                .push_bind(ip_sort_text(net.network()))
                .push(" AND ")
                .push_bind(ip_sort_text(net.broadcast()));
        }
        if let Some(text) = &filter.text {
            let pattern = format!("%{}%", escape_like(text));
            query
                .push(" AND (d.key LIKE ")
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\' OR d.attributes LIKE ")
                .push_bind(pattern)
                .push(" ESCAPE '\\')");
        }
        if filter.top_level {
            query.push(" AND d.parent_id IS NULL");
        }
    }

    /// The plain query of a page (before migration 0007): the reference of the tests.
    pub(crate) async fn select_page(
        pool: &SqlitePool,
        filter: &DeviceFilter,
        sort: DeviceSort,
        descending: bool,
        offset: u64,
        limit: u64,
    ) -> Result<DevicePage> {
        let mut count = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM devices d");
        push_filter(&mut count, filter);
        let total: i64 = count.build_query_scalar().fetch_one(pool).await?;

        let mut page = QueryBuilder::<Sqlite>::new(format!(
            "SELECT d.id, d.parent_id, {DEVICE_COLUMNS} FROM devices d"
        ));
        push_filter(&mut page, filter);
        let column = sort.column();
        let direction = if descending { "DESC" } else { "ASC" };
        // absent values last whichever the direction; then the key, so a parent precedes its modules
        page.push(format!(
            " ORDER BY ({column} IS NULL), {column} {direction}, d.key {direction}, d.id LIMIT "
        ));
        page.push_bind(i64::try_from(limit).unwrap_or(i64::MAX));
        page.push(" OFFSET ");
        page.push_bind(i64::try_from(offset).unwrap_or(i64::MAX));
        let rows: Vec<IdDeviceRow> = page.build_query_as().fetch_all(pool).await?;
        Ok(DevicePage {
            devices: rows
                .into_iter()
                .map(IdDeviceRow::into_stored)
                .collect::<Result<_>>()?,
            total: u64::try_from(total).unwrap_or(0),
        })
    }
}

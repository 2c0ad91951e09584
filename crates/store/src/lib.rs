//! Persistence for otsensor: the device inventory with its history, scans, runs and probe logs.
//!
//! Callers see one type, [`Store`], whose async methods take and return core domain types
//! ([`Device`](otsensor_core::Device), [`DeviceKey`](otsensor_core::DeviceKey),
//! [`DeviceChange`](otsensor_core::DeviceChange), [`ProbeLogEntry`](otsensor_core::ProbeLogEntry))
//! and the store's own plain records ([`Scan`], [`Run`], [`HistoryEntry`], ...). No database type
//! appears in the API; errors are [`StoreError`], whose database cause is opaque.
//!
//! A scan's life in the store:
//!
//! 1. [`Store::create_scan`] records what to scan (an ad-hoc command-line scan gets a row too);
//! 2. [`Store::start_run`] opens a run (`running`); at most one run per scan runs at a time;
//! 3. the engine reads the current state of the devices it will touch with
//!    [`Store::devices_by_keys`] and merges observations purely (core's `merge`);
//! 4. [`Store::finish_run`] saves the merged devices, their history, the run's devices, the probe
//!    log and the run's counts in one transaction: all of it or nothing;
//! 5. after a restart, [`Store::mark_interrupted_runs`] closes runs a dead process left `running`.
//!
//! # Storage
//!
//! SQLite by default: one file, `<data dir>/otsensor.db`, in WAL mode (readers do not block the
//! writer) with foreign keys on and a busy timeout. The schema lives in `migrations/` and is
//! applied on [`Store::open`]. One module per aggregate: `devices` (devices and their history),
//! `scans`, `runs` (runs, the devices of a run, the probe log), `wem` (Windows endpoint monitoring:
//! ranges with their credentials encrypted at rest under the data directory's `secret.key`, the
//! schedule, the last results), `dns` (configured DNS servers, lookup runs and the names they write
//! into devices), `links` (the device map's links between devices, as switches report them),
//! `credentials` (SNMP credentials, sealed under the same key), and for the sensor service
//! (migration 0005): `users` (users and roles), `access` (sessions and API tokens, kept as hashes),
//! `audit` (the audit log, written in the same transaction as the change it records),
//! `definitions` (stored scans with schedules and maintenance windows, where runs came from) and
//! `inventory` (the devices list by row id with filters, sorting and paging; links; counts), whose
//! query is `listing` (migration 0007: indexes that answer a filtered, sorted page without
//! reading the devices off the page, and a trigram index for the text search). The
//! `attributes` column holds [`Attributes`](otsensor_core::device::Attributes) exactly as this
//! build writes them (`attributes_format`: older rows are rewritten once on open), so the API can
//! copy a page's attribute JSON into its answer without reading it ([`ListedDevice`]). Times
//! are RFC 3339 UTC text with
//! nine fractional digits, so text order is time order and times read back exactly; enumerations
//! are stored by the names core gives them.
//!
//! # Adding PostgreSQL
//!
//! The SQL is written in the subset both engines share: `$1`-style parameters (which SQLite
//! accepts too), `INSERT ... ON CONFLICT ... DO UPDATE`, `RETURNING id`, text times, no
//! engine-specific functions. A Postgres backend would add:
//!
//! - `migrations/postgres/` with the same tables (`BIGINT GENERATED ALWAYS AS IDENTITY` keys,
//!   `JSONB` for the JSON columns, the same partial unique index on running runs);
//! - a private pool enum in [`Store`] (`Sqlite(SqlitePool)` / `Postgres(PgPool)`) and a
//!   constructor such as `Store::connect(url)` that picks the backend by URL scheme;
//! - in each aggregate module, the same functions over a Postgres connection (the queries are
//!   shared; only the connection type and the transaction opening, `BEGIN IMMEDIATE` here, differ).
//!
//! Callers would not change: they keep calling the same `Store` methods.

#![warn(missing_docs)]

mod access;
mod attributes_format;
mod audit;
mod codec;
mod credentials;
mod definitions;
mod devices;
mod dns;
mod error;
mod inventory;
mod links;
mod listing;
mod runs;
mod scans;
mod secret;
mod users;
mod wem;

pub use access::{ApiToken, NewApiToken, Session};
pub use attributes_format::ATTRIBUTES_FORMAT;
pub use audit::{AuditEntry, AuditPage, AuditQuery, NewAuditEntry};
pub use codec::ip_sort_text;
pub use credentials::CredentialSummary;
pub use definitions::{DefinitionSettings, RunOrigin, RunPage, ScanDefinition, Trigger};
pub use devices::HistoryEntry;
pub use dns::{DnsServer, DnsServerId, RdnsRun, RdnsRunResult, RdnsSummary};
pub use error::{DatabaseError, StoreError};
pub use inventory::{
    DeviceFilter, DevicePage, DeviceSort, ListedDevice, ListedPage, StoreCounts, StoredDevice,
};
pub use links::{LinkEdge, StoredLink};
pub use runs::{Run, RunDevice, RunId, RunResult, RunStatus, RunSummary};
pub use scans::{NewScan, Scan, ScanId};
pub use secret::KEY_FILE;
pub use users::{NewUser, Role, User, UserCredentials, UserId, UserUpdate};

use error::Failure;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The database file's name inside the data directory.
pub const DATABASE_FILE: &str = "otsensor.db";

/// How long a statement waits for another connection's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections in the pool: one writer at a time in SQLite, a few readers beside it.
const MAX_CONNECTIONS: u32 = 4;

/// Bytes of the database file each connection reads through a memory map instead of read
/// calls into its own page cache (SQLite's default cache is 2 MB; a store of 100,000 devices is
/// ~300 MB, so a page of the devices list otherwise copies most of its pages in again).
const MMAP_SIZE: u64 = 1 << 30;

/// The schema, embedded at build time.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// The otsensor store: a handle on the database, cheap to clone and safe to share.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    path: PathBuf,
    data_dir: PathBuf,
    /// Serializes this process's device merges (see [`Store::merge_guard`]).
    merges: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl Store {
    /// Opens (creating if needed) the store in `data_dir`: the directory, the database file
    /// `otsensor.db` in WAL mode, and the schema (migrations already applied are skipped).
    pub async fn open(data_dir: &Path) -> Result<Store, StoreError> {
        tokio::fs::create_dir_all(data_dir)
            .await
            .map_err(|source| StoreError::DataDir {
                path: data_dir.to_path_buf(),
                source,
            })?;
        let path = data_dir.join(DATABASE_FILE);
        let pool = connect(&path)
            .await
            .map_err(|e| e.context(format!("opening {}", path.display())))?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| Failure::from(e).context(format!("migrating {}", path.display())))?;
        let store = Store {
            pool,
            path,
            data_dir: data_dir.to_path_buf(),
            merges: Default::default(),
        };
        store.backfill_ip_sort().await?;
        attributes_format::bring_to_current_form(&store.pool)
            .await
            .map_err(|e| e.context("bringing device attributes to the current form"))?;
        Ok(store)
    }

    /// Holds off every other device merge of this process until dropped. A saver that reads
    /// the stored devices, merges a run's findings into them and writes them back does all of
    /// it under this guard, so two runs saving the same device at once cannot lose each other's
    /// facts.
    pub async fn merge_guard(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.merges.lock().await
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes every connection, waiting for those in use to come back (for a clean shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Opens the pool on the database file with the store's settings.
async fn connect(path: &Path) -> Result<SqlitePool, Failure> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT)
        .pragma("mmap_size", MMAP_SIZE.to_string());
    let pool = SqlitePoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .connect_with(options)
        .await?;
    Ok(pool)
}

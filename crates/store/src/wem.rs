//! Windows endpoint monitoring: ranges (passwords encrypted at rest), the schedule, the WEM scan
//! whose runs are WEM scans (one at a time), and the results of the last one.

use crate::Store;
use crate::codec::{from_json, to_json};
use crate::error::{Failure, Result, StoreError};
use crate::runs::RunId;
use crate::scans::{NewScan, ScanId};
use crate::secret::SecretKey;
use jiff::Timestamp;
use otsensor_core::Protocol;
use otsensor_core::wem::{Password, WemRange, WemResult, WemSchedule};
use sqlx::SqlitePool;

impl Store {
    /// The WEM ranges in their order, passwords decrypted.
    pub async fn wem_ranges(&self) -> Result<Vec<WemRange>, StoreError> {
        let key = SecretKey::load_or_create(&self.data_dir)
            .map_err(|e| e.context("reading the WEM ranges"))?;
        select_ranges(&self.pool, &key)
            .await
            .map_err(|e| e.context("reading the WEM ranges"))
    }

    /// Replaces every WEM range by `ranges` (passwords encrypted), all or nothing.
    pub async fn replace_wem_ranges(&self, ranges: &[WemRange]) -> Result<(), StoreError> {
        let key = SecretKey::load_or_create(&self.data_dir)
            .map_err(|e| e.context("saving the WEM ranges"))?;
        replace_ranges(&self.pool, &key, ranges)
            .await
            .map_err(|e| e.context("saving the WEM ranges"))
    }

    /// The WEM schedule (manual until one is set).
    pub async fn wem_schedule(&self) -> Result<WemSchedule, StoreError> {
        let text: Option<String> =
            sqlx::query_scalar("SELECT schedule FROM wem_settings WHERE id = 1")
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| Failure::from(e).context("reading the WEM schedule"))?;
        match text {
            Some(t) => {
                from_json(&t, "WEM schedule").map_err(|e| e.context("reading the WEM schedule"))
            }
            None => Ok(WemSchedule::Manual),
        }
    }

    /// Sets the WEM schedule.
    pub async fn set_wem_schedule(&self, schedule: &WemSchedule) -> Result<(), StoreError> {
        let json =
            to_json(schedule, "WEM schedule").map_err(|e| e.context("saving the WEM schedule"))?;
        sqlx::query(
            "INSERT INTO wem_settings (id, schedule) VALUES (1, $1) \
             ON CONFLICT (id) DO UPDATE SET schedule = excluded.schedule",
        )
        .bind(json)
        .execute(&self.pool)
        .await
        .map_err(|e| Failure::from(e).context("saving the WEM schedule"))?;
        Ok(())
    }

    /// Starts a WEM scan run: refused with a clear message while another WEM scan runs.
    pub async fn start_wem_run(
        &self,
        started: Timestamp,
        targets_total: u64,
    ) -> Result<RunId, StoreError> {
        self.start_wem_run_as(started, targets_total, None).await
    }

    /// [`Store::start_wem_run`] with, for the service, where the run came from and its audit
    /// entry, saved with the run (see [`Store::start_recorded_run`]).
    pub async fn start_wem_run_as(
        &self,
        started: Timestamp,
        targets_total: u64,
        recorded: Option<(&crate::RunOrigin, &crate::NewAuditEntry)>,
    ) -> Result<RunId, StoreError> {
        let scan = self.wem_scan().await?;
        let started_run = match recorded {
            None => self.start_run(scan, started, targets_total).await,
            Some((origin, audit)) => {
                self.start_recorded_run(scan, started, targets_total, origin, audit)
                    .await
            }
        };
        match started_run {
            Ok(run) => Ok(run),
            Err(StoreError::Rejected { .. }) => {
                let running: Option<(i64, String)> = sqlx::query_as(
                    "SELECT id, started_at FROM runs WHERE scan_id = $1 AND status = 'running'",
                )
                .bind(scan.0)
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| Failure::from(e).context("starting a WEM scan"))?;
                let detail = match running {
                    Some((id, at)) => format!(
                        "a WEM scan is already running (run {id}, started {at}): only one runs at a time; wait for it or stop it"
                    ),
                    None => "a WEM scan is already running: only one runs at a time".to_string(),
                };
                Err(StoreError::Rejected {
                    context: "starting a WEM scan".into(),
                    detail,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// The scan whose runs are the WEM scans (created on first use).
    pub async fn wem_scan(&self) -> Result<ScanId, StoreError> {
        let existing: Option<Option<i64>> =
            sqlx::query_scalar("SELECT scan_id FROM wem_settings WHERE id = 1")
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| Failure::from(e).context("reading the WEM scan"))?;
        if let Some(Some(id)) = existing {
            return Ok(ScanId(id));
        }
        let scan = self
            .create_scan(&NewScan {
                name: "Windows endpoint monitoring".into(),
                kind: "wem".into(),
                protocol: Protocol::Wmi,
                targets: "WEM ranges".into(),
                spec: serde_json::json!({}),
                created: Timestamp::now(),
            })
            .await?;
        let schedule = to_json(&WemSchedule::Manual, "WEM schedule")
            .map_err(|e| e.context("creating the WEM scan"))?;
        sqlx::query(
            "INSERT INTO wem_settings (id, schedule, scan_id) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET scan_id = excluded.scan_id",
        )
        .bind(schedule)
        .bind(scan.0)
        .execute(&self.pool)
        .await
        .map_err(|e| Failure::from(e).context("creating the WEM scan"))?;
        Ok(scan)
    }

    /// Saves the results of WEM run `run` in place of the previous scan's, and drops the probe
    /// logs of earlier WEM runs (only the last scan's log is kept).
    pub async fn save_wem_results(
        &self,
        run: RunId,
        results: &[WemResult],
    ) -> Result<(), StoreError> {
        let scan = self.wem_scan().await?;
        save_results(&self.pool, scan, run, results)
            .await
            .map_err(|e| e.context(format!("saving the results of WEM run {run}")))
    }

    /// The results of the last WEM scan, with its run.
    pub async fn wem_results(&self) -> Result<(Option<RunId>, Vec<WemResult>), StoreError> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT run_id, result FROM wem_results ORDER BY rowid")
                .fetch_all(&self.pool)
                .await
                .map_err(|e| Failure::from(e).context("reading the WEM results"))?;
        let run = rows.first().map(|(r, _)| RunId(*r));
        let results = rows
            .iter()
            .map(|(_, json)| from_json(json, "WEM result"))
            .collect::<Result<Vec<WemResult>>>()
            .map_err(|e| e.context("reading the WEM results"))?;
        Ok((run, results))
    }
}

fn aad(from: &str, to: &str) -> String {
    format!("wem range {from}-{to}")
}

async fn select_ranges(pool: &SqlitePool, key: &SecretKey) -> Result<Vec<WemRange>> {
    let rows: Vec<(String, String, String, Vec<u8>, i64)> = sqlx::query_as(
        "SELECT from_ip, to_ip, username, password, disabled FROM wem_ranges ORDER BY position",
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(from, to, user, sealed, disabled)| {
            let parse = |t: &str| {
                t.parse()
                    .map_err(|_| Failure::Corrupt(format!("WEM range address {t:?}")))
            };
            Ok(WemRange {
                from: parse(&from)?,
                to: parse(&to)?,
                user,
                password: Password::new(key.open(&sealed, &aad(&from, &to))?),
                disabled: disabled != 0,
            })
        })
        .collect()
}

async fn replace_ranges(pool: &SqlitePool, key: &SecretKey, ranges: &[WemRange]) -> Result<()> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query("DELETE FROM wem_ranges")
        .execute(&mut *tx)
        .await?;
    for (position, r) in ranges.iter().enumerate() {
        let (from, to) = (r.from.to_string(), r.to.to_string());
        let sealed = key.seal(r.password.expose(), &aad(&from, &to))?;
        sqlx::query(
            "INSERT INTO wem_ranges (position, from_ip, to_ip, username, password, disabled) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(position as i64)
        .bind(from)
        .bind(to)
        .bind(&r.user)
        .bind(sealed)
        .bind(r.disabled as i64)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn save_results(
    pool: &SqlitePool,
    scan: ScanId,
    run: RunId,
    results: &[WemResult],
) -> Result<()> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query("DELETE FROM wem_results")
        .execute(&mut *tx)
        .await?;
    for r in results {
        sqlx::query("INSERT INTO wem_results (address, run_id, result) VALUES ($1, $2, $3)")
            .bind(&r.ip)
            .bind(run.0)
            .bind(to_json(r, "WEM result")?)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "DELETE FROM probe_log WHERE run_id IN \
         (SELECT id FROM runs WHERE scan_id = $1 AND id <> $2)",
    )
    .bind(scan.0)
    .bind(run.0)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

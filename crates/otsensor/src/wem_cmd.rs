//! `otsensor wem`: import the ranges, scan them over WMI, save the hosts, write results and log.

use crate::cli::{WemExportArgs, WemImportArgs, WemScanArgs, WemScheduleArgs, WmiLevel};
use crate::config::Config;
use crate::error::CliError;
use crate::output::write_devices;
use crate::scan_cmd::{progress_bar, run_status};
use otsensor_core::merge::{RunMerge, observation_keys};
use otsensor_core::wem::{
    WemLogLine, WemRange, WemResult, WemSchedule, export_ranges, import_ranges,
};
use otsensor_core::{Device, Observation, Outcome, ProbeLogEntry, TargetSet};
use otsensor_engine::{ScanRequest, ScanStatus, spawn_scan};
use otsensor_store::{RunResult, Store};
use otsensor_wmi::{AuthLevel, Credentials, WmiProbe};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

async fn open_store(config: &Config, common: &crate::cli::CommonArgs) -> Result<Store, CliError> {
    Store::open(&config.data_dir(common))
        .await
        .map_err(CliError::failed)
}

fn read_file(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|e| CliError::usage(format!("{}: {e}", path.display())))
}

/// Reads and validates a ranges file over the stored ranges (all lines or none).
async fn import_file(store: &Store, path: &Path) -> Result<Vec<WemRange>, CliError> {
    let text = read_file(path)?;
    let stored = store.wem_ranges().await.map_err(CliError::failed)?;
    import_ranges(&text, &stored).map_err(|e| CliError::usage(format!("{}: {e}", path.display())))
}

/// `otsensor wem import FILE`.
pub async fn import(args: WemImportArgs) -> Result<ExitCode, CliError> {
    let config = Config::load(&args.common)?;
    let store = open_store(&config, &args.common).await?;
    let result = async {
        let ranges = import_file(&store, &args.file).await?;
        store
            .replace_wem_ranges(&ranges)
            .await
            .map_err(CliError::failed)?;
        eprintln!("otsensor: {} WEM ranges imported", ranges.len());
        Ok(ExitCode::SUCCESS)
    }
    .await;
    store.close().await;
    result
}

/// `otsensor wem export [FILE]`.
pub async fn export(args: WemExportArgs) -> Result<ExitCode, CliError> {
    let config = Config::load(&args.common)?;
    let store = open_store(&config, &args.common).await?;
    let ranges = store.wem_ranges().await.map_err(CliError::failed);
    store.close().await;
    let csv = export_ranges(&ranges?);
    match &args.file {
        Some(path) => std::fs::write(path, csv)
            .map_err(|e| CliError::failed(format!("{}: {e}", path.display())))?,
        None => print!("{csv}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `otsensor wem schedule [SCHEDULE]`.
pub async fn schedule(args: WemScheduleArgs) -> Result<ExitCode, CliError> {
    let config = Config::load(&args.common)?;
    let store = open_store(&config, &args.common).await?;
    let result = async {
        if let Some(text) = &args.schedule {
            let s = WemSchedule::parse(text).map_err(CliError::usage)?;
            store.set_wem_schedule(&s).await.map_err(CliError::failed)?;
        }
        let s = store.wem_schedule().await.map_err(CliError::failed)?;
        let tz = jiff::tz::TimeZone::system();
        let next = s
            .next_after(jiff::Timestamp::now(), None, &tz)
            .map(|t| {
                format!(
                    " (next: {})",
                    t.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M %Z")
                )
            })
            .unwrap_or_default();
        println!("{s}{next}");
        Ok(ExitCode::SUCCESS)
    }
    .await;
    store.close().await;
    result
}

/// `otsensor wem scan --ranges FILE.csv [--results FILE.csv] [--log FILE.csv]`.
pub async fn scan(args: WemScanArgs) -> Result<ExitCode, CliError> {
    let config = Config::load(&args.common)?;
    let scope = config.scope(&args.pacing)?;
    let pacing = config.pacing(&args.pacing)?;
    let store = open_store(&config, &args.common).await?;
    let result = async {
        let ranges = import_file(&store, &args.ranges).await?;
        let enabled: Vec<&WemRange> = ranges.iter().filter(|r| !r.disabled).collect();
        let mut requests = Vec::with_capacity(enabled.len());
        for r in &enabled {
            let targets =
                TargetSet::parse([r.target_text().as_str()], config.max_targets(&args.pacing))
                    .map_err(|e| CliError::usage(format!("range {}: {e}", r.target_text())))?;
            scope.check_all(&targets).map_err(CliError::usage)?;
            requests.push(ScanRequest {
                targets,
                scope: scope.clone(),
                pacing,
                port: args.port,
                depth: 0,
            });
        }
        store
            .replace_wem_ranges(&ranges)
            .await
            .map_err(CliError::failed)?;
        scan_ranges(&store, &enabled, requests, &args).await
    }
    .await;
    store.close().await;
    result
}

/// What the scan of every range produced.
struct WemOutcome {
    observations: Vec<Observation>,
    log: Vec<(String, ProbeLogEntry)>,
    cancelled: bool,
}

async fn scan_ranges(
    store: &Store,
    ranges: &[&WemRange],
    requests: Vec<ScanRequest>,
    args: &WemScanArgs,
) -> Result<ExitCode, CliError> {
    let total: u64 = requests
        .iter()
        .map(|r| r.targets.addresses().len() as u64)
        .sum();
    let started = jiff::Timestamp::now();
    let run = store
        .start_wem_run(started, total)
        .await
        .map_err(CliError::failed)?;
    let level = match args.level {
        WmiLevel::Integrity => AuthLevel::Integrity,
        WmiLevel::Privacy => AuthLevel::Privacy,
    };
    let outcome = probe_ranges(ranges, requests, level).await?;
    let current = store
        .devices_by_keys(
            &outcome
                .observations
                .iter()
                .flat_map(observation_keys)
                .collect::<Vec<_>>(),
        )
        .await
        .map_err(CliError::failed)?;
    let mut merge = RunMerge::new(current);
    for obs in &outcome.observations {
        merge.absorb(obs);
    }
    let changes = merge.into_changes();
    let probe_log: Vec<ProbeLogEntry> = outcome.log.iter().map(|(_, e)| e.clone()).collect();
    let status = run_status(if outcome.cancelled {
        ScanStatus::Cancelled
    } else {
        ScanStatus::Completed
    });
    let summary = store
        .finish_run(
            run,
            &RunResult {
                status,
                ended: jiff::Timestamp::now(),
                changes: &changes,
                probe_log: &probe_log,
                error: outcome.cancelled.then_some("stopped on request"),
            },
        )
        .await
        .map_err(CliError::failed)?;
    let mut observations: Vec<&Observation> = outcome.observations.iter().collect();
    observations.sort_by_key(|o| o.address);
    let results: Vec<WemResult> = observations
        .iter()
        .map(|o| WemResult::from_facts(o.address, &o.facts))
        .collect();
    store
        .save_wem_results(run, &results)
        .await
        .map_err(CliError::failed)?;
    if let Some(path) = &args.results {
        write_csv(path, &WemResult::HEADERS, &results)?;
    }
    if let Some(path) = &args.log {
        let mut log: Vec<&(String, ProbeLogEntry)> = outcome.log.iter().collect();
        log.sort_by_key(|(_, e)| e.address);
        let lines: Vec<WemLogLine> = log.iter().map(|(range, e)| log_line(range, e)).collect();
        write_csv(path, &WemLogLine::HEADERS, &lines)?;
    }
    let devices: Vec<Device> = changes.into_iter().map(|c| c.device).collect();
    let mut out = std::io::stdout().lock();
    write_devices(&mut out, &devices, args.format)
        .map_err(|e| CliError::failed(format!("writing output: {e}")))?;
    let failed = outcome.log.len() - results.len().min(outcome.log.len());
    eprintln!(
        "wem: probed {} addresses in {} ranges: {} answered, {} failed; {} new, {} updated devices (run {})",
        outcome.log.len(),
        ranges.len(),
        results.len(),
        failed,
        summary.new_devices,
        summary.updated_devices,
        run.0
    );
    Ok(if outcome.cancelled {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Scans each range with its own credentials, one range after the other; Ctrl-C stops all.
async fn probe_ranges(
    ranges: &[&WemRange],
    requests: Vec<ScanRequest>,
    level: AuthLevel,
) -> Result<WemOutcome, CliError> {
    let cancel = CancellationToken::new();
    let on_signal = cancel.clone();
    let watcher = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("otsensor: stopping the WEM scan (Ctrl-C)");
            on_signal.cancel();
        }
    });
    let bar = progress_bar();
    let shown = bar.clone();
    let show: Arc<dyn Fn(otsensor_engine::Progress) + Send + Sync> =
        Arc::new(move |p: otsensor_engine::Progress| {
            if let Some(bar) = &shown {
                bar.set_length(p.total);
                bar.set_position(p.done);
                bar.set_message(format!("{} answered", p.identified));
            }
        });
    let mut outcome = WemOutcome {
        observations: Vec::new(),
        log: Vec::new(),
        cancelled: false,
    };
    for (range, request) in ranges.iter().zip(requests) {
        if cancel.is_cancelled() {
            outcome.cancelled = true;
            break;
        }
        let credentials = Credentials::parse(&range.user, range.password.expose());
        let probe = Arc::new(WmiProbe::new(credentials, level));
        let done = spawn_scan(probe, request, cancel.clone(), show.clone())
            .await
            .map_err(|e| CliError::failed(format!("the scan task failed: {e}")))?
            .map_err(CliError::usage)?;
        outcome.cancelled |= done.status == ScanStatus::Cancelled;
        outcome.observations.extend(done.observations);
        let text = range.target_text();
        outcome
            .log
            .extend(done.probe_log.into_iter().map(|e| (text.clone(), e)));
    }
    watcher.abort();
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    Ok(outcome)
}

fn log_line(range: &str, e: &ProbeLogEntry) -> WemLogLine {
    WemLogLine {
        ip: e.address.to_string(),
        range: range.to_string(),
        result: if e.outcome == Outcome::Identified {
            "success"
        } else {
            "failure"
        }
        .into(),
        outcome: e.outcome.name().into(),
        error: e.error.clone().unwrap_or_default(),
        started: e.started.to_string(),
        duration_ms: e.duration_ms,
    }
}

/// Writes `rows` under `headers` (the header line even when there is no row).
fn write_csv<T: serde::Serialize>(
    path: &Path,
    headers: &[&str],
    rows: &[T],
) -> Result<(), CliError> {
    let fail =
        |e: &dyn std::fmt::Display| CliError::failed(format!("writing {}: {e}", path.display()));
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_path(path)
        .map_err(|e| fail(&e))?;
    w.write_record(headers).map_err(|e| fail(&e))?;
    for row in rows {
        w.serialize(row).map_err(|e| fail(&e))?;
    }
    w.flush().map_err(|e| fail(&e))
}

//! `otsensor scan plc`: run a scan, merge it into the inventory, save it, print what was found.

use crate::cli::{Format, PlcProtocol, PlcScanArgs};
use crate::config::Config;
use crate::error::CliError;
use crate::output::write_devices;
use indicatif::{ProgressBar, ProgressStyle};
use otsensor_bacnet::BacnetProbe;
use otsensor_core::{Device, DeviceKey, Outcome, Probe, Protocol, TargetSet};
use otsensor_engine::{PortProbe, Progress, ScanOutcome, ScanRequest, ScanStatus, spawn_sweep};
use otsensor_enip::EnipProbe;
use otsensor_modbus::ModbusProbe;
use otsensor_s7::S7Probe;
pub(crate) use otsensor_server::persist::run_status;
use otsensor_server::persist::save_outcome;
use otsensor_store::{NewScan, RunId, RunSummary, Store};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Runs `otsensor scan plc`.
pub async fn scan_plc(args: PlcScanArgs) -> Result<ExitCode, CliError> {
    let config = Config::load(&args.common)?;
    let probes = plc_probes(&args.protocol, args.port)?;
    let request = ScanRequest {
        targets: TargetSet::parse(
            args.targets.iter().map(String::as_str),
            config.max_targets(&args.pacing),
        )
        .map_err(|e| CliError::usage(format!("TARGET {e}")))?,
        scope: config.scope(&args.pacing)?,
        pacing: config.pacing(&args.pacing)?,
        port: probes[0].port,
        depth: args.depth,
    };
    request
        .scope
        .check_all(&request.targets)
        .map_err(CliError::usage)?;
    let store = Store::open(&config.data_dir(&args.common))
        .await
        .map_err(CliError::failed)?;
    let protocols: Vec<String> = probes
        .iter()
        .map(|p| p.probe.protocol().to_string())
        .collect();
    let job = ScanJob {
        kind: "plc",
        name: format!(
            "scan plc --protocol {} {}",
            protocols.join(","),
            request.targets
        ),
        spec: scan_spec(&request),
        format: args.format,
        report: None,
    };
    let result = sweep_and_save(&store, probes, &request, job).await;
    store.close().await;
    result
}

/// What is being scanned, for the store and the output.
pub struct ScanJob {
    /// "plc", "switch", ...
    pub kind: &'static str,
    /// The scan's name in the store.
    pub name: String,
    /// The scan's specification (never a secret).
    pub spec: serde_json::Value,
    /// Output format.
    pub format: Format,
    /// One stderr line per observation or failed probe, if the use case wants them.
    pub report: Option<fn(&ScanOutcome) -> Vec<String>>,
}

/// The probes of `--protocol` (each named once, in the order given) on `--port` or their
/// standard ports; `--port` with several protocols is a usage error.
fn plc_probes(protocols: &[PlcProtocol], port: Option<u16>) -> Result<Vec<PortProbe>, CliError> {
    let mut distinct: Vec<PlcProtocol> = Vec::new();
    for p in protocols {
        if !distinct.contains(p) {
            distinct.push(*p);
        }
    }
    if distinct.len() > 1 && port.is_some() {
        return Err(CliError::usage(
            "--port applies to one protocol: with several --protocol values each uses its standard port",
        ));
    }
    Ok(distinct
        .into_iter()
        .map(|p| {
            let probe = probe_for(p);
            let port = port.unwrap_or(probe.protocol().default_port());
            PortProbe { probe, port }
        })
        .collect())
}

fn probe_for(protocol: PlcProtocol) -> Arc<dyn Probe> {
    match protocol {
        PlcProtocol::Modbus => Arc::new(ModbusProbe),
        PlcProtocol::S7 => Arc::new(S7Probe),
        PlcProtocol::Enip => Arc::new(EnipProbe),
        PlcProtocol::Bacnet => Arc::new(BacnetProbe),
    }
}

/// Runs the scan, merges it into the inventory (devices, their history, links), saves the run
/// and prints what was found.
pub async fn scan_and_save(
    store: &Store,
    probe: Arc<dyn Probe>,
    request: &ScanRequest,
    job: ScanJob,
) -> Result<ExitCode, CliError> {
    let port = request.port;
    sweep_and_save(store, vec![PortProbe { probe, port }], request, job).await
}

/// [`scan_and_save`] for a sweep of several protocols in one pass: each protocol is saved as a
/// stored scan and run of its own (named after the job, with the protocol), every device is
/// printed once with all it gained, and each protocol gets its summary line.
pub async fn sweep_and_save(
    store: &Store,
    probes: Vec<PortProbe>,
    request: &ScanRequest,
    job: ScanJob,
) -> Result<ExitCode, CliError> {
    let mut runs = Vec::with_capacity(probes.len());
    for p in &probes {
        let protocol = p.probe.protocol();
        let name = match probes.len() {
            1 => job.name.clone(),
            _ => format!("{} [{protocol}]", job.name),
        };
        runs.push((
            protocol,
            start_stored_run(store, &job, name, protocol, request).await?,
        ));
    }
    let outcome = run_with_ctrl_c(probes, request.clone()).await?;
    let note = status_note(&outcome, request);
    let mut devices = DevicesOnce::default();
    let mut summaries = Vec::with_capacity(runs.len());
    for (protocol, run) in runs {
        let mut part = outcome.for_protocol(protocol);
        let saved = save_outcome(store, run, &mut part, note.as_deref())
            .await
            .map_err(CliError::failed)?;
        for change in saved.changes {
            devices.keep_latest(change.device);
        }
        summaries.push(summary_line(
            &part,
            &saved.summary,
            protocol,
            run.0,
            note.clone(),
        ));
    }
    let mut out = std::io::stdout().lock();
    write_devices(&mut out, &devices.list, job.format)
        .map_err(|e| CliError::failed(format!("writing output: {e}")))?;
    if let Some(report) = job.report {
        for line in report(&outcome) {
            eprintln!("{line}");
        }
    }
    for line in summaries {
        eprintln!("{line}");
    }
    Ok(match outcome.status {
        ScanStatus::Cancelled => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    })
}

/// Saves the scan `name` of `protocol` and starts its run.
async fn start_stored_run(
    store: &Store,
    job: &ScanJob,
    name: String,
    protocol: Protocol,
    request: &ScanRequest,
) -> Result<RunId, CliError> {
    let scan = store
        .create_scan(&NewScan {
            name,
            kind: job.kind.into(),
            protocol,
            targets: request.targets.to_string(),
            spec: job.spec.clone(),
            created: jiff::Timestamp::now(),
        })
        .await
        .map_err(CliError::failed)?;
    let total = request.targets.addresses().len() as u64;
    store
        .start_run(scan, jiff::Timestamp::now(), total)
        .await
        .map_err(CliError::failed)
}

/// Devices in the order first seen, each once in its latest version.
#[derive(Default)]
struct DevicesOnce {
    list: Vec<Device>,
    position: HashMap<DeviceKey, usize>,
}

impl DevicesOnce {
    /// Adds `device`, or replaces the earlier version of it (same key) in place.
    fn keep_latest(&mut self, device: Device) {
        match self.position.get(&device.key) {
            Some(&at) => self.list[at] = device,
            None => {
                self.position.insert(device.key.clone(), self.list.len());
                self.list.push(device);
            }
        }
    }
}

/// The scan's settings as saved with it.
pub fn scan_spec(request: &ScanRequest) -> serde_json::Value {
    serde_json::json!({
        "port": request.port,
        "depth": request.depth,
        "pacing": request.pacing,
        "scope": request.scope.networks().iter().map(ToString::to_string).collect::<Vec<_>>(),
    })
}

fn status_note(outcome: &ScanOutcome, request: &ScanRequest) -> Option<String> {
    match outcome.status {
        ScanStatus::Completed => None,
        ScanStatus::Cancelled => Some("stopped on request".into()),
        ScanStatus::TimedOut => Some(format!(
            "stopped at the scan time limit of {} s",
            request.pacing.scan_timeout_secs
        )),
        ScanStatus::DeviceLimit => Some(format!(
            "stopped at the device limit of {}",
            request.pacing.device_limit
        )),
    }
}

/// Runs the scan; Ctrl-C stops it (every socket closed) and keeps what was found.
async fn run_with_ctrl_c(
    probes: Vec<PortProbe>,
    request: ScanRequest,
) -> Result<ScanOutcome, CliError> {
    let cancel = CancellationToken::new();
    let on_signal = cancel.clone();
    let watcher = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("otsensor: stopping the scan (Ctrl-C)");
            on_signal.cancel();
        }
    });
    let bar = progress_bar();
    let shown = bar.clone();
    let show = move |p: Progress| {
        if let Some(bar) = &shown {
            bar.set_length(p.total);
            bar.set_position(p.done);
            bar.set_message(format!("{} identified", p.identified));
        }
    };
    let outcome = match spawn_sweep(probes, request, cancel, Arc::new(show)).await {
        Ok(outcome) => outcome,
        Err(e) => return Err(CliError::failed(format!("the scan task failed: {e}"))),
    };
    watcher.abort();
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    outcome.map_err(CliError::usage)
}

pub(crate) fn progress_bar() -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(0);
    let style = ProgressStyle::with_template("{bar:40} {pos}/{len} targets, {msg} ({elapsed})")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}

fn summary_line(
    outcome: &ScanOutcome,
    summary: &RunSummary,
    protocol: Protocol,
    run: i64,
    note: Option<String>,
) -> String {
    let count = |o: Outcome| outcome.probe_log.iter().filter(|e| e.outcome == o).count();
    let secs = (outcome.ended.as_millisecond() - outcome.started.as_millisecond()) as f64 / 1000.0;
    let mut line = format!(
        "{protocol}: probed {} of {} addresses in {secs:.1} s: {} identified, {} no response, {} refused, {} error; {} new, {} updated devices (run {run})",
        outcome.progress.done,
        outcome.progress.total,
        summary.identified,
        count(Outcome::NoResponse),
        count(Outcome::Refused),
        count(Outcome::Error),
        summary.new_devices,
        summary.updated_devices,
    );
    if let Some(note) = note {
        line.push_str(&format!("; {note}"));
    }
    line
}

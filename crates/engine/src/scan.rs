//! Running one scan: scope check, parallel paced probes, limits, cancel, progress, probe log.

use crate::pace::{DevicePacer, RateLimiter};
use jiff::Timestamp;
use otsensor_core::{
    Observation, Outcome, Pacing, Probe, ProbeContext, ProbeLogEntry, ProbeReport, Protocol, Scope,
    ScopeError, TargetSet,
};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// What to scan and how.
#[derive(Debug, Clone)]
pub struct ScanRequest {
    /// The targets.
    pub targets: TargetSet,
    /// The networks the sensor may touch.
    pub scope: Scope,
    /// Rates, parallelism, time and device limits.
    pub pacing: Pacing,
    /// The port [`run_scan`] probes ([`run_sweep`] takes a port with each probe).
    pub port: u16,
    /// How deep to look behind each device.
    pub depth: u8,
}

/// Why a scan could not run. Nothing was sent.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// A target is outside the scope.
    #[error(transparent)]
    Scope(#[from] ScopeError),
}

/// How a scan ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScanStatus {
    /// Every target was probed.
    Completed,
    /// Stopped on request.
    Cancelled,
    /// Stopped at the scan time limit.
    TimedOut,
    /// Stopped because the device limit was reached.
    DeviceLimit,
}

impl ScanStatus {
    /// The name used in the store and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ScanStatus::Completed => "completed",
            ScanStatus::Cancelled => "cancelled",
            ScanStatus::TimedOut => "timed_out",
            ScanStatus::DeviceLimit => "device_limit",
        }
    }
}

/// Where a scan stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// Addresses in the scan.
    pub total: u64,
    /// Addresses probed so far.
    pub done: u64,
    /// Of those, identified.
    pub identified: u64,
    /// Devices found so far, sub-devices included.
    pub devices: u64,
}

/// What a scan produced.
#[derive(Debug, Clone)]
pub struct ScanOutcome {
    /// How it ended.
    pub status: ScanStatus,
    /// One observation per answering device, in completion order.
    pub observations: Vec<Observation>,
    /// One entry per probed target, in completion order.
    pub probe_log: Vec<ProbeLogEntry>,
    /// Final progress.
    pub progress: Progress,
    /// When it started.
    pub started: Timestamp,
    /// When it ended.
    pub ended: Timestamp,
}

/// One protocol of a sweep: its probe and the port the probe is sent to.
#[derive(Clone)]
pub struct PortProbe {
    /// The protocol's probe.
    pub probe: Arc<dyn Probe>,
    /// The port it is sent to.
    pub port: u16,
}

impl PortProbe {
    /// `probe` on its protocol's standard port.
    pub fn on_default_port(probe: Arc<dyn Probe>) -> PortProbe {
        let port = probe.protocol().default_port();
        PortProbe { probe, port }
    }
}

impl std::fmt::Debug for PortProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.probe.protocol(), self.port)
    }
}

impl ScanOutcome {
    /// The part of a sweep's outcome that one protocol produced: its observations, its
    /// probe-log entries and the progress they make (the other fields are the sweep's).
    pub fn for_protocol(&self, protocol: Protocol) -> ScanOutcome {
        let observations: Vec<Observation> = self
            .observations
            .iter()
            .filter(|o| o.source == protocol)
            .cloned()
            .collect();
        let probe_log: Vec<ProbeLogEntry> = self
            .probe_log
            .iter()
            .filter(|e| e.protocol == protocol)
            .cloned()
            .collect();
        let progress = Progress {
            total: self.progress.total,
            done: probe_log.len() as u64,
            identified: probe_log
                .iter()
                .filter(|e| e.outcome == Outcome::Identified)
                .count() as u64,
            devices: observations.iter().map(devices_in).sum(),
        };
        ScanOutcome {
            status: self.status,
            observations,
            probe_log,
            progress,
            started: self.started,
            ended: self.ended,
        }
    }
}

/// Runs `probe` over the request's targets until done, cancelled, timed out or at the device limit.
///
/// Refuses the whole scan, before sending anything, if any target is outside the scope.
pub async fn run_scan(
    probe: Arc<dyn Probe>,
    request: ScanRequest,
    cancel: CancellationToken,
    on_progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<ScanOutcome, ScanError> {
    let port = request.port;
    run_sweep(
        vec![PortProbe { probe, port }],
        request,
        cancel,
        on_progress,
    )
    .await
}

/// Runs several protocols' probes over the request's targets in one pass: each address gets
/// one task that sends the probes one after the other (one connection at a time per device,
/// one per-device pacer for all of them), under one global rate, parallel bound and time limit.
/// Every probe of every address gets its own probe-log entry; `Progress::done` counts
/// addresses whose probes have all ended.
///
/// Refuses the whole scan, before sending anything, if any target is outside the scope.
pub async fn run_sweep(
    probes: Vec<PortProbe>,
    request: ScanRequest,
    cancel: CancellationToken,
    on_progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<ScanOutcome, ScanError> {
    request.scope.check_all(&request.targets)?;
    let probes: Arc<[PortProbe]> = probes.into();
    let addresses = request.targets.addresses();
    let started = Timestamp::now();
    let mut run = Run::new(&request, addresses.len() as u64);
    let stop = cancel.child_token();
    let deadline = request
        .pacing
        .scan_timeout()
        .map(|t| tokio::time::Instant::now() + t);
    let global = Arc::new(RateLimiter::new(request.pacing.rate));
    let slots = Arc::new(Semaphore::new(request.pacing.parallel.max(1)));
    let mut tasks: JoinSet<Vec<Probed>> = JoinSet::new();
    let mut pending = addresses.into_iter();
    let mut status = ScanStatus::Completed;
    on_progress(run.progress);
    loop {
        let more_to_start = pending.len() > 0;
        if !more_to_start && tasks.is_empty() {
            break;
        }
        tokio::select! {
            biased;
            _ = cancel.cancelled() => { status = ScanStatus::Cancelled; break; }
            _ = sleep_until_deadline(deadline) => { status = ScanStatus::TimedOut; break; }
            Some(joined) = tasks.join_next(), if !tasks.is_empty() => {
                if let Ok(probed) = joined {
                    run.record(probed);
                    on_progress(run.progress);
                    if run.at_device_limit() {
                        status = ScanStatus::DeviceLimit;
                        break;
                    }
                }
            }
            Ok(permit) = slots.clone().acquire_owned(), if more_to_start => {
                let Some(address) = pending.next() else { continue };
                let pacer: Arc<DevicePacer> = Arc::new(DevicePacer::new(request.pacing.per_device_rate, global.clone()));
                let ctx = ProbeContext {
                    port: 0,
                    timeout: request.pacing.timeout(),
                    depth: request.depth,
                    pacer,
                };
                tasks.spawn(probe_address(probes.clone(), address, ctx, stop.clone(), permit));
            }
        }
    }
    stop.cancel();
    // every probe still running sees the stop at once; its future is dropped with its sockets
    while let Some(joined) = tasks.join_next().await {
        if let Ok(probed) = joined {
            run.record(probed);
        }
    }
    on_progress(run.progress);
    Ok(ScanOutcome {
        status,
        observations: run.observations,
        probe_log: run.probe_log,
        progress: run.progress,
        started,
        ended: Timestamp::now(),
    })
}

/// What one probe of one address reported, and when it ran.
struct Probed {
    address: IpAddr,
    protocol: Protocol,
    started: Timestamp,
    duration_ms: u64,
    report: ProbeReport,
}

/// Sends each probe to `address` in turn; a stop ends the running probe (reported cancelled)
/// and skips the rest.
async fn probe_address(
    probes: Arc<[PortProbe]>,
    address: IpAddr,
    ctx: ProbeContext,
    stop: CancellationToken,
    _permit: OwnedSemaphorePermit,
) -> Vec<Probed> {
    let mut reports = Vec::with_capacity(probes.len());
    for PortProbe { probe, port } in probes.iter() {
        let ctx = ProbeContext {
            port: *port,
            ..ctx.clone()
        };
        let started = Timestamp::now();
        let clock = Instant::now();
        let report = tokio::select! {
            _ = stop.cancelled() => ProbeReport::failed(Outcome::Cancelled, "scan stopped before the probe ended"),
            r = probe.probe(address, ctx) => r,
        };
        let cancelled = report.outcome == Outcome::Cancelled;
        reports.push(Probed {
            address,
            protocol: probe.protocol(),
            started,
            duration_ms: u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX),
            report,
        });
        if cancelled {
            break;
        }
    }
    reports
}

/// Runs [`run_scan`] as a task of its own on the runtime, so the probes it spawns start on a
/// worker's local queue instead of crossing threads from the caller's.
pub fn spawn_scan(
    probe: Arc<dyn Probe>,
    request: ScanRequest,
    cancel: CancellationToken,
    on_progress: Arc<dyn Fn(Progress) + Send + Sync>,
) -> tokio::task::JoinHandle<Result<ScanOutcome, ScanError>> {
    let port = request.port;
    spawn_sweep(
        vec![PortProbe { probe, port }],
        request,
        cancel,
        on_progress,
    )
}

/// Runs [`run_sweep`] as a task of its own on the runtime (see [`spawn_scan`]).
pub fn spawn_sweep(
    probes: Vec<PortProbe>,
    request: ScanRequest,
    cancel: CancellationToken,
    on_progress: Arc<dyn Fn(Progress) + Send + Sync>,
) -> tokio::task::JoinHandle<Result<ScanOutcome, ScanError>> {
    tokio::spawn(async move { run_sweep(probes, request, cancel, &*on_progress).await })
}

async fn sleep_until_deadline(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// The results gathered so far.
struct Run {
    observations: Vec<Observation>,
    probe_log: Vec<ProbeLogEntry>,
    progress: Progress,
    device_limit: usize,
}

impl Run {
    fn new(request: &ScanRequest, total: u64) -> Run {
        Run {
            observations: Vec::new(),
            probe_log: Vec::new(),
            progress: Progress {
                total,
                ..Progress::default()
            },
            device_limit: request.pacing.device_limit,
        }
    }

    /// Records every probe of one address; the address counts once in the progress.
    fn record(&mut self, probed: Vec<Probed>) {
        self.progress.done += 1;
        if probed
            .iter()
            .any(|p| p.report.outcome == Outcome::Identified)
        {
            self.progress.identified += 1;
        }
        for p in probed {
            self.record_probe(p);
        }
    }

    fn record_probe(&mut self, probed: Probed) {
        let Probed {
            address,
            protocol,
            started,
            duration_ms,
            report,
        } = probed;
        if let Some(obs) = report.observation {
            self.progress.devices += devices_in(&obs);
            self.observations.push(obs);
        }
        tracing::debug!(%address, %protocol, outcome = %report.outcome, error = ?report.error, "probed");
        self.probe_log.push(ProbeLogEntry {
            address,
            protocol,
            outcome: report.outcome,
            error: report.error,
            started,
            duration_ms,
        });
    }

    fn at_device_limit(&self) -> bool {
        self.device_limit > 0 && self.progress.devices >= self.device_limit as u64
    }
}

/// The devices an observation counts for: the device, its sub-devices, and the devices it
/// told about (a switch's stations).
fn devices_in(obs: &Observation) -> u64 {
    1 + count_children(&obs.children) + obs.related.len() as u64
}

fn count_children(children: &[otsensor_core::SubObservation]) -> u64 {
    children
        .iter()
        .map(|c| 1 + count_children(&c.children))
        .sum()
}

//! Running one scan: scope check, parallel paced probes, limits, cancel, progress, probe log.

use crate::pace::{DevicePacer, RateLimiter};
use jiff::Timestamp;
use otsensor_core::{
    Observation, Outcome, Pacing, Probe, ProbeContext, ProbeLogEntry, ProbeReport, Scope,
    ScopeError, TargetSet,
};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Semaphore;
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
    /// The port to probe.
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

/// Runs `probe` over the request's targets until done, cancelled, timed out or at the device limit.
///
/// Refuses the whole scan, before sending anything, if any target is outside the scope.
pub async fn run_scan(
    probe: Arc<dyn Probe>,
    request: ScanRequest,
    cancel: CancellationToken,
    on_progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<ScanOutcome, ScanError> {
    request.scope.check_all(&request.targets)?;
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
    let mut tasks: JoinSet<(IpAddr, Timestamp, Instant, ProbeReport)> = JoinSet::new();
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
                if let Ok((address, at, clock, report)) = joined {
                    run.record(probe.as_ref(), address, at, clock, report);
                    on_progress(run.progress);
                    if run.at_device_limit() {
                        status = ScanStatus::DeviceLimit;
                        break;
                    }
                }
            }
            Ok(permit) = slots.clone().acquire_owned(), if more_to_start => {
                let Some(address) = pending.next() else { continue };
                let ctx = ProbeContext {
                    port: request.port,
                    timeout: request.pacing.timeout(),
                    depth: request.depth,
                    pacer: Arc::new(DevicePacer::new(request.pacing.per_device_rate, global.clone())),
                };
                let probe = probe.clone();
                let stop = stop.clone();
                tasks.spawn(async move {
                    let _permit = permit;
                    let at = Timestamp::now();
                    let clock = Instant::now();
                    let report = tokio::select! {
                        _ = stop.cancelled() => ProbeReport::failed(Outcome::Cancelled, "scan stopped before the probe ended"),
                        r = probe.probe(address, ctx) => r,
                    };
                    (address, at, clock, report)
                });
            }
        }
    }
    stop.cancel();
    // every probe still running sees the stop at once; its future is dropped with its sockets
    while let Some(joined) = tasks.join_next().await {
        if let Ok((address, at, clock, report)) = joined {
            run.record(probe.as_ref(), address, at, clock, report);
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

/// Runs [`run_scan`] as a task of its own on the runtime, so the probes it spawns start on a
/// worker's local queue instead of crossing threads from the caller's.
pub fn spawn_scan(
    probe: Arc<dyn Probe>,
    request: ScanRequest,
    cancel: CancellationToken,
    on_progress: Arc<dyn Fn(Progress) + Send + Sync>,
) -> tokio::task::JoinHandle<Result<ScanOutcome, ScanError>> {
    tokio::spawn(async move { run_scan(probe, request, cancel, &*on_progress).await })
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

    fn record(
        &mut self,
        probe: &dyn Probe,
        address: IpAddr,
        at: Timestamp,
        clock: Instant,
        report: ProbeReport,
    ) {
        self.progress.done += 1;
        if report.outcome == Outcome::Identified {
            self.progress.identified += 1;
        }
        if let Some(obs) = report.observation {
            // the device, its sub-devices, and the devices it told about (a switch's stations)
            self.progress.devices += 1 + count_children(&obs.children) + obs.related.len() as u64;
            self.observations.push(obs);
        }
        tracing::debug!(%address, outcome = %report.outcome, error = ?report.error, "probed");
        self.probe_log.push(ProbeLogEntry {
            address,
            protocol: probe.protocol(),
            outcome: report.outcome,
            error: report.error,
            started: at,
            duration_ms: u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX),
        });
    }

    fn at_device_limit(&self) -> bool {
        self.device_limit > 0 && self.progress.devices >= self.device_limit as u64
    }
}

fn count_children(children: &[otsensor_core::SubObservation]) -> u64 {
    children
        .iter()
        .map(|c| 1 + count_children(&c.children))
        .sum()
}

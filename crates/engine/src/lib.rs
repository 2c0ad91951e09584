//! The otsensor scan engine: runs one probe over a target set, safely.
//!
//! It refuses targets outside the scope before sending anything, probes each address with one
//! task (so one connection per device at a time), bounds the devices probed in parallel, paces
//! every packet per device and overall, stops on cancel (dropping every probe, which closes its
//! sockets) within milliseconds, stops at the scan time limit or the device limit, reports
//! progress, and writes one probe-log entry per probed target.

pub mod pace;
pub mod scan;

pub use pace::{DevicePacer, RateLimiter};
pub use scan::{
    PortProbe, Progress, ScanError, ScanOutcome, ScanRequest, ScanStatus, run_scan, run_sweep,
    spawn_scan, spawn_sweep,
};

//! Pacing settings: how gently a scan touches the network.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How fast and how wide a scan may go. Every field has a safe default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Pacing {
    /// Packets per second to one device (0 lifts the limit). Default 40.
    pub per_device_rate: u32,
    /// Packets per second overall (0 lifts the limit). Default 1000.
    pub rate: u32,
    /// Devices probed at once. Default 64.
    pub parallel: usize,
    /// Time limit of every stage (connect, each request), in milliseconds. Default 5000.
    pub timeout_ms: u64,
    /// Time limit of the whole scan, in seconds (0: none). Default 0.
    pub scan_timeout_secs: u64,
    /// Devices (with sub-devices) after which the scan stops (0: none). Default 0.
    pub device_limit: usize,
}

impl Default for Pacing {
    fn default() -> Pacing {
        Pacing {
            per_device_rate: 40,
            rate: 1000,
            parallel: 64,
            timeout_ms: 5000,
            scan_timeout_secs: 0,
            device_limit: 0,
        }
    }
}

impl Pacing {
    /// The per-stage time limit.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    /// The whole-scan time limit, if any.
    pub fn scan_timeout(&self) -> Option<Duration> {
        (self.scan_timeout_secs > 0).then(|| Duration::from_secs(self.scan_timeout_secs))
    }
}

//! The contract between the scan engine and a protocol probe, and the probe log.
//!
//! A probe speaks one protocol to one target and returns an [`Observation`]; it knows nothing of
//! storage or of other targets. The engine hands it a [`ProbeContext`] whose [`Pacer`] it must wait
//! on before every packet it sends, and cancels it by dropping its future (which closes its sockets).

use crate::observation::Observation;
use crate::protocol::Protocol;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// A boxed future, as returned by object-safe async traits here.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Waits until the next packet to one device may be sent (per-device and global rates).
pub trait Pacer: Send + Sync {
    /// Resolves when one more packet may go out.
    fn ready(&self) -> BoxFuture<'_, ()>;
}

/// A pacer that never waits (for tests of codecs and clients).
#[derive(Debug, Default, Clone, Copy)]
pub struct Unpaced;

impl Pacer for Unpaced {
    fn ready(&self) -> BoxFuture<'_, ()> {
        Box::pin(std::future::ready(()))
    }
}

/// What a probe gets from the engine for one target.
#[derive(Clone)]
pub struct ProbeContext {
    /// The port to speak to.
    pub port: u16,
    /// Time limit of each stage (connect, each request).
    pub timeout: Duration,
    /// How deep to look behind the device (0: the device only).
    pub depth: u8,
    /// Wait on it before every packet.
    pub pacer: Arc<dyn Pacer>,
}

impl fmt::Debug for ProbeContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProbeContext")
            .field("port", &self.port)
            .field("timeout", &self.timeout)
            .field("depth", &self.depth)
            .finish_non_exhaustive()
    }
}

/// How a probe of one target ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The device answered and said who it is.
    Identified,
    /// Nothing answered within the time limit.
    NoResponse,
    /// The connection was refused (nothing listens there).
    Refused,
    /// Something answered, but not as the protocol says, or with errors only.
    Error,
    /// The scan was stopped before the probe ended.
    Cancelled,
}

impl Outcome {
    /// The name used in the probe log.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Identified => "identified",
            Outcome::NoResponse => "no_response",
            Outcome::Refused => "refused",
            Outcome::Error => "error",
            Outcome::Cancelled => "cancelled",
        }
    }

    /// Parses [`Outcome::name`].
    pub fn from_name(name: &str) -> Option<Outcome> {
        [
            Outcome::Identified,
            Outcome::NoResponse,
            Outcome::Refused,
            Outcome::Error,
            Outcome::Cancelled,
        ]
        .into_iter()
        .find(|o| o.name() == name)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a probe returns: an observation when the device answered, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeReport {
    /// How it ended.
    pub outcome: Outcome,
    /// What was learned; present whenever the device answered in the protocol at all.
    pub observation: Option<Observation>,
    /// The error's text, for outcomes other than identified (or a warning with it).
    pub error: Option<String>,
}

impl ProbeReport {
    /// The device answered and was identified.
    pub fn identified(observation: Observation) -> ProbeReport {
        ProbeReport {
            outcome: Outcome::Identified,
            observation: Some(observation),
            error: None,
        }
    }

    /// The probe failed with `outcome` for the reason `error`.
    pub fn failed(outcome: Outcome, error: impl fmt::Display) -> ProbeReport {
        ProbeReport {
            outcome,
            observation: None,
            error: Some(error.to_string()),
        }
    }
}

/// A probe: one protocol, one target.
pub trait Probe: Send + Sync {
    /// The protocol it speaks.
    fn protocol(&self) -> Protocol;

    /// The exact requests it can send, for the safety rule "read only" (shown in docs and logs).
    fn requests(&self) -> &'static [&'static str];

    /// Probes one address. Must honour `ctx.timeout` on every stage and wait on `ctx.pacer`
    /// before every packet; never panics on any reply.
    fn probe(&self, address: IpAddr, ctx: ProbeContext) -> BoxFuture<'_, ProbeReport>;
}

/// One line of the probe log: one target of one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeLogEntry {
    /// The probed address.
    pub address: IpAddr,
    /// The protocol spoken.
    pub protocol: Protocol,
    /// How it ended.
    pub outcome: Outcome,
    /// The error's text, if any.
    pub error: Option<String>,
    /// When the probe started.
    pub started: Timestamp,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
}

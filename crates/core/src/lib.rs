//! Domain types and rules of otsensor, free of I/O.
//!
//! A probe turns replies into an [`Observation`] made of typed [`Fact`]s; the pure
//! [`merge`](merge::merge) folds an observation into the current devices and says what is new or
//! enriched; [`TargetSet`] parses what an operator asked to scan and [`Scope`] says what the sensor
//! may touch at all. [`rdns`] holds the validated reverse DNS settings and [`schedule`] says when
//! scheduled work is due.

pub mod credentials;
pub mod device;
pub mod fact;
pub mod host;
pub mod merge;
pub mod network;
pub mod observation;
pub mod oui;
pub mod pacing;
pub mod probe;
pub mod protocol;
pub mod rdns;
pub mod scan_schedule;
pub mod schedule;
pub mod scope;
pub mod target;
pub mod wem;

pub use credentials::{Secret, SnmpCredentials};
pub use device::{Device, DeviceKey, DeviceType, MacAddr, PlcMode, Position};
pub use fact::Fact;
pub use host::{Hotfix, Interface, OsInfo, Software};
pub use merge::{AttributeChange, Change, DeviceChange, merge};
pub use network::{
    Link, LinkKind, Neighbor, NeighborProtocol, OperStatus, PortSighting, TableCounts,
};
pub use observation::{Observation, RelatedObservation, SubObservation};
pub use oui::OuiTable;
pub use pacing::Pacing;
pub use probe::{Outcome, Pacer, Probe, ProbeContext, ProbeLogEntry, ProbeReport};
pub use protocol::Protocol;
pub use rdns::{
    DnsServerInput, DnsServerSettings, FieldError, NameLookup, NameResult, SettingsError,
};
pub use schedule::{Schedule, TimeOfDay};
pub use scope::{Scope, ScopeError};
pub use target::{TargetError, TargetSet};

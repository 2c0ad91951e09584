//! The JSON shapes the API answers with. Secrets never appear in them.

use crate::model::{PacingInput, StoredSpec, stored_spec};
use crate::usecase::UseCase;
use jiff::Timestamp;
use otsensor_core::device::Attributes;
use otsensor_core::scan_schedule::{MaintenanceWindow, Schedule};
use otsensor_engine::Progress;
use otsensor_store::{
    ApiToken, HistoryEntry, Run, RunOrigin, RunStatus, ScanDefinition, StoredDevice, User,
};
use serde::Serialize;

/// A user (never the password hash).
#[derive(Debug, Serialize)]
pub struct UserView {
    /// Its id.
    pub id: i64,
    /// The login name.
    pub name: String,
    /// `admin`, `analyst` or `readonly`.
    pub role: &'static str,
    /// The password is a one-time password still to be changed.
    pub must_change_password: bool,
    /// The user may not log in.
    pub disabled: bool,
    /// When it was created.
    pub created: Timestamp,
    /// When it last changed.
    pub updated: Timestamp,
}

impl From<&User> for UserView {
    fn from(u: &User) -> UserView {
        UserView {
            id: u.id.0,
            name: u.name.clone(),
            role: u.role.name(),
            must_change_password: u.must_change_password,
            disabled: u.disabled,
            created: u.created,
            updated: u.updated,
        }
    }
}

/// An API token (never its secret, which is shown once, at creation).
#[derive(Debug, Serialize)]
pub struct TokenView {
    /// Its id.
    pub id: i64,
    /// What it is for.
    pub name: String,
    /// The user it acts for.
    pub user: String,
    /// When it was created.
    pub created: Timestamp,
    /// When it was last used.
    pub last_used: Option<Timestamp>,
    /// When it stops working.
    pub expires: Option<Timestamp>,
    /// When it was revoked.
    pub revoked: Option<Timestamp>,
}

impl From<&ApiToken> for TokenView {
    fn from(t: &ApiToken) -> TokenView {
        TokenView {
            id: t.id,
            name: t.name.clone(),
            user: t.user_name.clone(),
            created: t.created,
            last_used: t.last_used,
            expires: t.expires,
            revoked: t.revoked,
        }
    }
}

/// Live progress of a running run.
#[derive(Debug, Serialize)]
pub struct ProgressView {
    /// Addresses in the scan.
    pub total: u64,
    /// Addresses probed so far.
    pub done: u64,
    /// Of those, identified.
    pub identified: u64,
    /// Devices found so far, sub-devices included.
    pub devices: u64,
}

impl From<Progress> for ProgressView {
    fn from(p: Progress) -> ProgressView {
        ProgressView {
            total: p.total,
            done: p.done,
            identified: p.identified,
            devices: p.devices,
        }
    }
}

/// A scan's running run.
#[derive(Debug, Serialize)]
pub struct RunningView {
    /// The run.
    pub run: i64,
    /// Where it stands.
    pub progress: ProgressView,
}

/// Links of a scan.
#[derive(Debug, Serialize)]
pub struct ScanLinks {
    /// This scan.
    #[serde(rename = "self")]
    pub this: String,
    /// Its runs.
    pub runs: String,
}

/// A stored scan.
#[derive(Debug, Serialize)]
pub struct ScanView {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// What it does (every default filled in; write-only fields left out).
    pub use_case: Option<UseCase>,
    /// The target items.
    pub targets: Vec<String>,
    /// When it runs by itself.
    pub schedule: Option<Schedule>,
    /// When it may start.
    pub maintenance_window: Option<MaintenanceWindow>,
    /// Whether the scheduler starts it.
    pub enabled: bool,
    /// Pacing overrides.
    pub pacing: PacingInput,
    /// When it was created.
    pub created: Timestamp,
    /// Who created it.
    pub created_by: String,
    /// When it last changed.
    pub updated: Timestamp,
    /// When the scheduler next starts it.
    pub next_run: Option<Timestamp>,
    /// Its running run, if any.
    pub running: Option<RunningView>,
    /// Links.
    pub links: ScanLinks,
}

impl ScanView {
    /// The view of `def` with its scheduling state.
    pub fn new(
        def: &ScanDefinition,
        next_run: Option<Timestamp>,
        running: Option<(otsensor_store::RunId, Progress)>,
    ) -> ScanView {
        let spec: Option<StoredSpec> = stored_spec(def).ok();
        let id = def.scan.id.0;
        ScanView {
            id,
            name: def.scan.name.clone(),
            use_case: spec.as_ref().map(|s| s.use_case.clone()),
            targets: spec
                .as_ref()
                .map(|s| s.targets.clone())
                .unwrap_or_else(|| vec![def.scan.targets.clone()]),
            schedule: def.schedule.clone(),
            maintenance_window: def.window.clone(),
            enabled: def.enabled,
            pacing: spec.map(|s| s.pacing).unwrap_or_default(),
            created: def.scan.created,
            created_by: def.created_by.clone(),
            updated: def.updated,
            next_run,
            running: running.map(|(run, p)| RunningView {
                run: run.0,
                progress: p.into(),
            }),
            links: ScanLinks {
                this: format!("/api/scans/{id}"),
                runs: format!("/api/scans/{id}/runs"),
            },
        }
    }
}

/// Links of a run.
#[derive(Debug, Serialize)]
pub struct RunLinks {
    /// This run.
    #[serde(rename = "self")]
    pub this: String,
    /// Its scan.
    pub scan: String,
    /// Every device it saw.
    pub devices: String,
    /// The devices it created.
    pub new_devices: String,
    /// The devices it enriched.
    pub updated_devices: String,
    /// Its probe log (JSON; add `?format=csv` for CSV).
    pub log: String,
}

/// A run of a scan.
#[derive(Debug, Serialize)]
pub struct RunView {
    /// Its id.
    pub id: i64,
    /// Its scan.
    pub scan: i64,
    /// `running`, `completed`, `cancelled`, `failed` or `interrupted`.
    pub status: RunStatus,
    /// When it started.
    pub started: Timestamp,
    /// When it ended.
    pub ended: Option<Timestamp>,
    /// Addresses the scan named.
    pub targets_total: u64,
    /// Targets probed (when finished).
    pub probed: u64,
    /// Targets identified (when finished).
    pub identified: u64,
    /// Devices it added to the inventory.
    pub new_devices: u64,
    /// Devices it enriched.
    pub updated_devices: u64,
    /// Why it ended early or failed.
    pub error: Option<String>,
    /// `manual` or `scheduled` (absent for command-line runs).
    pub trigger: Option<&'static str>,
    /// Who started it.
    pub started_by: Option<String>,
    /// Live progress while running.
    pub progress: Option<ProgressView>,
    /// Links.
    pub links: RunLinks,
}

impl RunView {
    /// The view of `run`.
    pub fn new(run: &Run, origin: Option<RunOrigin>, progress: Option<Progress>) -> RunView {
        let id = run.id.0;
        RunView {
            id,
            scan: run.scan.0,
            status: run.status,
            started: run.started,
            ended: run.ended,
            targets_total: run.targets_total,
            probed: run.summary.probed,
            identified: run.summary.identified,
            new_devices: run.summary.new_devices,
            updated_devices: run.summary.updated_devices,
            error: run.error.clone(),
            trigger: origin.as_ref().map(|o| o.trigger.name()),
            started_by: origin.map(|o| o.actor),
            progress: progress.map(Into::into),
            links: RunLinks {
                this: format!("/api/runs/{id}"),
                scan: format!("/api/scans/{}", run.scan.0),
                devices: format!("/api/runs/{id}/devices"),
                new_devices: format!("/api/runs/{id}/devices?change=new"),
                updated_devices: format!("/api/runs/{id}/devices?change=enriched"),
                log: format!("/api/runs/{id}/log"),
            },
        }
    }
}

/// A device of the inventory.
#[derive(Debug, Serialize)]
pub struct DeviceView {
    /// Its id.
    pub id: i64,
    /// Its identity (`ip:127.0.0.12/unit:17`).
    pub key: String,
    /// Its parent's id, for a module, unit or routed device.
    pub parent_id: Option<i64>,
    /// Its address, or its top-level ancestor's.
    pub ip: Option<String>,
    /// Where it sits in its parent (`slot:3`, `unit:17`).
    pub position: Option<String>,
    /// Its typed attributes (vendor, model, firmware, protocols, ...).
    #[serde(flatten)]
    pub attributes: Attributes,
    /// When first seen.
    pub first_seen: Timestamp,
    /// When last seen.
    pub last_seen: Timestamp,
    /// This device.
    #[serde(rename = "self")]
    pub this: String,
}

impl DeviceView {
    /// The view of `d` with `attributes` (its own, moved or cloned).
    fn with_attributes(d: &StoredDevice, attributes: Attributes) -> DeviceView {
        DeviceView {
            id: d.id,
            key: d.device.key.to_string(),
            parent_id: d.parent,
            ip: d.device.ip().map(|ip| ip.to_string()),
            position: d.device.key.position().map(ToString::to_string),
            attributes,
            first_seen: d.device.first_seen,
            last_seen: d.device.last_seen,
            this: format!("/api/devices/{}", d.id),
        }
    }
}

impl From<&StoredDevice> for DeviceView {
    fn from(d: &StoredDevice) -> DeviceView {
        DeviceView::with_attributes(d, d.device.attributes.clone())
    }
}

/// Takes the attributes instead of copying them (a page of 1,000 devices).
impl From<StoredDevice> for DeviceView {
    fn from(mut d: StoredDevice) -> DeviceView {
        let attributes = std::mem::take(&mut d.device.attributes);
        DeviceView::with_attributes(&d, attributes)
    }
}

/// A device with its sub-devices nested.
#[derive(Debug, Serialize)]
pub struct DeviceTree {
    /// The device.
    #[serde(flatten)]
    pub device: DeviceView,
    /// Its modules, units and routed devices.
    pub modules: Vec<DeviceTree>,
}

/// Nests `below` (parents first) under the device `root`.
pub fn device_tree(root: DeviceView, below: &[StoredDevice]) -> DeviceTree {
    let children: Vec<DeviceTree> = below
        .iter()
        .filter(|d| d.parent == Some(root.id))
        .map(|d| device_tree(DeviceView::from(d), below))
        .collect();
    DeviceTree {
        device: root,
        modules: children,
    }
}

/// One change of a device's history.
#[derive(Debug, Serialize)]
pub struct HistoryView {
    /// The run that saw it.
    pub run: i64,
    /// The attribute.
    pub attribute: String,
    /// The value before.
    pub old: Option<String>,
    /// The value after.
    pub new: String,
    /// The protocol that said so.
    pub source: &'static str,
    /// When.
    pub at: Timestamp,
}

impl From<&HistoryEntry> for HistoryView {
    fn from(h: &HistoryEntry) -> HistoryView {
        HistoryView {
            run: h.run.0,
            attribute: h.attribute.clone(),
            old: h.old.clone(),
            new: h.new.clone(),
            source: h.source.name(),
            at: h.at,
        }
    }
}

/// A page of a list.
#[derive(Debug, Serialize)]
pub struct Page<T: Serialize> {
    /// How many items match in all.
    pub total: u64,
    /// This page's number, from 1.
    pub page: u64,
    /// Items per page.
    pub per_page: u64,
    /// The items.
    pub items: Vec<T>,
}

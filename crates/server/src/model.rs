//! Scan definitions as the API reads and writes them: the request body, its validation into
//! what the store keeps, and what the store keeps back into the engine's request.

use crate::config::ServiceConfig;
use crate::error::ApiError;
use crate::extract::from_value_at;
use crate::switch::{SwitchInput, check_switch, parse_switch};
use crate::usecase::{PlcDiscovery, PlcProtocol, UseCase};
use jiff::Timestamp;
use otsensor_core::scan_schedule::{MaintenanceWindow, Schedule};
use otsensor_core::{Pacing, SnmpCredentials, TargetSet};
use otsensor_engine::ScanRequest;
use otsensor_store::{DefinitionSettings, ScanDefinition};
use serde::{Deserialize, Serialize};

/// Longest scan name.
pub const MAX_NAME_CHARS: usize = 100;

/// Most target items in one scan.
pub const MAX_TARGET_ITEMS: usize = 256;

/// The use case as a client sends it: PLC fields may be left out for their defaults.
#[derive(Debug, Clone, PartialEq)]
pub enum UseCaseInput {
    /// PLC discovery and enrichment.
    Plc(PlcInput),
    /// Switch discovery (SNMP), credentials included.
    Switch(Box<SwitchInput>),
}

/// PLC discovery fields as sent.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlcInput {
    /// The protocol.
    pub protocol: PlcProtocol,
    /// The port [default: the protocol's].
    pub port: Option<u16>,
    /// Per-stage time limit in seconds, 0.01 to 600 [default: the pacing default].
    pub timeout_secs: Option<f64>,
    /// Device limit, 0 for none [default: 0].
    pub device_limit: Option<usize>,
    /// Scan depth, 0 to 2 [default: 0].
    pub depth: Option<u8>,
}

/// Pacing a scan may set for itself; absent fields take the sensor's defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PacingInput {
    /// Packets per second overall (0: no limit).
    pub rate: Option<u32>,
    /// Packets per second to one device (0: no limit).
    pub per_device_rate: Option<u32>,
    /// Devices probed at once, 1 to 4096.
    pub parallel: Option<usize>,
    /// Time limit of the whole scan in seconds (0: none).
    pub scan_timeout_secs: Option<u64>,
}

/// The body of `POST /api/scans` and `PUT /api/scans/{id}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanInput {
    /// A name for people, unique among the scans.
    pub name: String,
    /// What the scan does: `{"kind": "plc", ...}` or `{"kind": "switch", ...}` (read by
    /// [`parse_use_case`], so that errors name the field inside it).
    pub use_case: serde_json::Value,
    /// Addresses, CIDR blocks, ranges `A-B` (one per item, or comma lists).
    pub targets: Vec<String>,
    /// When it runs by itself; absent or null: on demand only.
    #[serde(default)]
    pub schedule: Option<Schedule>,
    /// When it may start; absent or null: any time.
    #[serde(default)]
    pub maintenance_window: Option<MaintenanceWindow>,
    /// Whether the scheduler starts it [default: true].
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// Pacing overrides.
    #[serde(default)]
    pub pacing: PacingInput,
}

fn enabled_by_default() -> bool {
    true
}

/// What the store keeps in `scans.spec` for a definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSpec {
    /// What the scan does, every default filled in.
    pub use_case: UseCase,
    /// The target items as given.
    pub targets: Vec<String>,
    /// Pacing overrides.
    pub pacing: PacingInput,
}

/// A scan definition checked whole: what to store, and the switch credentials to seal first.
pub struct Validated {
    /// The settings to store.
    pub settings: DefinitionSettings,
    /// Switch discovery: the credentials to seal under this name before storing the settings.
    pub credentials: Option<(String, SnmpCredentials)>,
}

impl ScanInput {
    /// Checks every field and fills defaults; the error names the first field at fault.
    /// `now` and the configuration's time zone judge a one-time schedule in the past.
    /// `previous` (on update) holds the stored switch credentials, which supply the secrets
    /// the client left out.
    pub fn validate(
        self,
        config: &ServiceConfig,
        now: Timestamp,
        previous: Option<&SnmpCredentials>,
    ) -> Result<Validated, ApiError> {
        let name = check_name(&self.name)?;
        let (use_case, credentials) = check_use_case(self.use_case, &config.pacing, previous)?;
        if !matches!(use_case, UseCase::Switch(_))
            && let Err((field, detail)) = use_case.probe()
        {
            return Err(ApiError::invalid(field, detail));
        }
        let targets = check_targets(&self.targets, config)?;
        check_schedule(self.schedule.as_ref(), config, now)?;
        if let Some(w) = &self.maintenance_window {
            w.validate().map_err(|e| {
                ApiError::invalid(format!("maintenance_window.{}", e.field), e.detail)
            })?;
        }
        check_pacing(&self.pacing)?;
        let spec = StoredSpec {
            use_case: use_case.clone(),
            targets: targets.clone(),
            pacing: self.pacing,
        };
        let spec = serde_json::to_value(&spec)
            .map_err(|e| ApiError::internal(format!("encoding the scan: {e}")))?;
        Ok(Validated {
            settings: DefinitionSettings {
                name,
                kind: use_case.kind().to_string(),
                protocol: use_case.protocol(),
                targets: targets.join(","),
                spec,
                enabled: self.enabled,
                schedule: self.schedule,
                window: self.maintenance_window,
            },
            credentials,
        })
    }
}

fn check_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::invalid("name", "a scan needs a name"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::invalid(
            "name",
            format!("at most {MAX_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(ApiError::invalid("name", "no control characters"));
    }
    Ok(name.to_string())
}

/// Reads the use case; errors name the field (`use_case.kind`, `use_case.port`).
pub fn parse_use_case(value: serde_json::Value) -> Result<UseCaseInput, ApiError> {
    let serde_json::Value::Object(mut fields) = value else {
        return Err(ApiError::invalid(
            "use_case",
            "must be an object with a kind",
        ));
    };
    let kind = match fields.remove("kind") {
        Some(serde_json::Value::String(kind)) => kind,
        Some(_) => {
            return Err(ApiError::invalid(
                "use_case.kind",
                "must be \"plc\" or \"switch\"",
            ));
        }
        None => {
            return Err(ApiError::invalid(
                "use_case.kind",
                "missing: \"plc\" or \"switch\"",
            ));
        }
    };
    let rest = serde_json::Value::Object(fields);
    match kind.as_str() {
        "plc" => from_value_at(rest, "use_case").map(UseCaseInput::Plc),
        "switch" => parse_switch(rest).map(|s| UseCaseInput::Switch(Box::new(s))),
        other => Err(ApiError::invalid(
            "use_case.kind",
            format!("{other:?}: expected \"plc\" or \"switch\""),
        )),
    }
}

type CheckedUseCase = (UseCase, Option<(String, SnmpCredentials)>);

fn check_use_case(
    input: serde_json::Value,
    pacing: &Pacing,
    previous: Option<&SnmpCredentials>,
) -> Result<CheckedUseCase, ApiError> {
    match parse_use_case(input)? {
        UseCaseInput::Plc(plc) => {
            let port = plc.port.unwrap_or(plc.protocol.protocol().default_port());
            if port == 0 {
                return Err(ApiError::invalid(
                    "use_case.port",
                    "must be from 1 to 65535",
                ));
            }
            let timeout_secs = plc
                .timeout_secs
                .unwrap_or(pacing.timeout_ms as f64 / 1000.0);
            if !(0.01..=600.0).contains(&timeout_secs) {
                return Err(ApiError::invalid(
                    "use_case.timeout_secs",
                    "must be from 0.01 to 600 seconds",
                ));
            }
            let depth = plc.depth.unwrap_or(0);
            if depth > 2 {
                return Err(ApiError::invalid("use_case.depth", "must be from 0 to 2"));
            }
            let device_limit = plc.device_limit.unwrap_or(0);
            if device_limit > 1_000_000 {
                return Err(ApiError::invalid(
                    "use_case.device_limit",
                    "must be at most 1000000 (0: no limit)",
                ));
            }
            Ok((
                UseCase::Plc(PlcDiscovery {
                    protocol: plc.protocol,
                    port,
                    timeout_secs,
                    device_limit,
                    depth,
                }),
                None,
            ))
        }
        UseCaseInput::Switch(s) => {
            let checked = check_switch(*s, previous, pacing)?;
            let name = checked.stored.credentials.clone();
            Ok((
                UseCase::Switch(checked.stored),
                Some((name, checked.credentials)),
            ))
        }
    }
}

/// Each item parsed (errors name `targets[i]`), the whole bounded, every address in scope.
fn check_targets(items: &[String], config: &ServiceConfig) -> Result<Vec<String>, ApiError> {
    if items.is_empty() {
        return Err(ApiError::invalid(
            "targets",
            "at least one target is needed",
        ));
    }
    if items.len() > MAX_TARGET_ITEMS {
        return Err(ApiError::invalid(
            "targets",
            format!("at most {MAX_TARGET_ITEMS} items"),
        ));
    }
    let mut kept = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let field = format!("targets[{i}]");
        let set = TargetSet::parse([item.as_str()], config.max_targets)
            .map_err(|e| ApiError::invalid(&field, e.to_string()))?;
        config
            .scope
            .check_all(&set)
            .map_err(|e| ApiError::invalid(&field, e.to_string()))?;
        kept.push(item.trim().to_string());
    }
    TargetSet::parse(kept.iter().map(String::as_str), config.max_targets)
        .map_err(|e| ApiError::invalid("targets", e.to_string()))?;
    Ok(kept)
}

fn check_schedule(
    schedule: Option<&Schedule>,
    config: &ServiceConfig,
    now: Timestamp,
) -> Result<(), ApiError> {
    let Some(schedule) = schedule else {
        return Ok(());
    };
    schedule
        .validate()
        .map_err(|e| ApiError::invalid(format!("schedule.{}", e.field), e.detail))?;
    if let Schedule::Once { at } = schedule {
        let when = config
            .time_zone
            .to_timestamp(*at)
            .map_err(|e| ApiError::invalid("schedule.at", format!("{at}: {e}")))?;
        if when <= now {
            return Err(ApiError::invalid(
                "schedule.at",
                format!("{at} ({}) has passed", config.time_zone_name),
            ));
        }
    }
    Ok(())
}

fn check_pacing(p: &PacingInput) -> Result<(), ApiError> {
    if p.parallel.is_some_and(|n| !(1..=4096).contains(&n)) {
        return Err(ApiError::invalid(
            "pacing.parallel",
            "must be from 1 to 4096",
        ));
    }
    Ok(())
}

/// The stored specification of a definition.
pub fn stored_spec(def: &ScanDefinition) -> Result<StoredSpec, String> {
    serde_json::from_value(def.scan.spec.clone()).map_err(|e| {
        format!(
            "scan {} has a specification this build cannot read: {e}",
            def.scan.id
        )
    })
}

/// The engine's request for a definition under the current configuration; the error names
/// the field that no longer works (a target now outside the scope, a protocol not built in).
/// A switch scan needs its unsealed `credentials`.
pub fn scan_request(
    def: &ScanDefinition,
    config: &ServiceConfig,
    credentials: Option<&SnmpCredentials>,
) -> Result<(ScanRequest, crate::usecase::ProbePlan), (String, String)> {
    let spec = stored_spec(def).map_err(|e| ("use_case".to_string(), e))?;
    let plan = match (&spec.use_case, credentials) {
        (UseCase::Switch(sw), Some(c)) => crate::switch::probe_plan(sw, c)?,
        (UseCase::Switch(sw), None) => {
            return Err((
                "use_case.credentials".to_string(),
                format!(
                    "the sealed SNMP credentials {:?} are missing from the store: set them again",
                    sw.credentials
                ),
            ));
        }
        (use_case, _) => use_case.probe().map_err(|(f, d)| (f.to_string(), d))?,
    };
    let targets = TargetSet::parse(spec.targets.iter().map(String::as_str), config.max_targets)
        .map_err(|e| ("targets".to_string(), e.to_string()))?;
    config
        .scope
        .check_all(&targets)
        .map_err(|e| ("targets".to_string(), e.to_string()))?;
    let mut pacing = config.pacing;
    match &spec.use_case {
        UseCase::Plc(plc) => {
            pacing.timeout_ms = (plc.timeout_secs * 1000.0).round() as u64;
            pacing.device_limit = plc.device_limit;
        }
        UseCase::Switch(sw) => {
            pacing.timeout_ms = (sw.timeout_secs * 1000.0).round() as u64;
            pacing.device_limit = sw.device_limit;
        }
    }
    let o = spec.pacing;
    pacing.rate = o.rate.unwrap_or(pacing.rate);
    pacing.per_device_rate = o.per_device_rate.unwrap_or(pacing.per_device_rate);
    pacing.parallel = o.parallel.unwrap_or(pacing.parallel);
    pacing.scan_timeout_secs = o.scan_timeout_secs.unwrap_or(pacing.scan_timeout_secs);
    Ok((
        ScanRequest {
            targets,
            scope: config.scope.clone(),
            pacing,
            port: plan.port,
            depth: plan.depth,
        },
        plan,
    ))
}

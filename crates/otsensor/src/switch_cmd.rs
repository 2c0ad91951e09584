//! `otsensor scan switch`: SNMP switch discovery into the inventory, with the links for the
//! device map. Credentials come from the command line or the environment (and are then saved
//! sealed in the store) or from the store by name; they are never printed.

use crate::cli::{SwitchProtocol, SwitchScanArgs};
use crate::config::Config;
use crate::error::CliError;
use crate::scan_cmd::{ScanJob, scan_and_save, scan_spec};
use otsensor_core::oui::DEFAULT_OUI_FILE;
use otsensor_core::{
    Fact, OuiTable, Outcome, ProbeLogEntry, Protocol, Secret, SnmpCredentials, TargetSet,
};
use otsensor_engine::{ScanOutcome, ScanRequest};
use otsensor_snmp::inventory::InventoryOptions;
use otsensor_snmp::walk::WalkOptions;
use otsensor_snmp::{Security, SnmpProbe, SnmpSettings, UsmUser, Version};
use otsensor_store::Store;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

/// Runs `otsensor scan switch`.
pub async fn scan_switch(args: SwitchScanArgs) -> Result<ExitCode, CliError> {
    let config = Config::load(&args.common)?;
    let given = credentials_from_args(&args)?;
    let request = ScanRequest {
        targets: TargetSet::parse(
            args.targets.iter().map(String::as_str),
            config.max_targets(&args.pacing),
        )
        .map_err(|e| CliError::usage(format!("TARGET {e}")))?,
        scope: config.scope(&args.pacing)?,
        pacing: config.pacing(&args.pacing)?,
        port: args.port.unwrap_or(Protocol::Snmp.default_port()),
        depth: 0,
    };
    request
        .scope
        .check_all(&request.targets)
        .map_err(CliError::usage)?;
    let store = Store::open(&config.data_dir(&args.common))
        .await
        .map_err(CliError::failed)?;
    let result = run(&store, &args, given, request).await;
    store.close().await;
    result
}

async fn run(
    store: &Store,
    args: &SwitchScanArgs,
    given: Option<SnmpCredentials>,
    request: ScanRequest,
) -> Result<ExitCode, CliError> {
    let name = args
        .credentials
        .clone()
        .unwrap_or_else(|| default_credentials_name(args, given.as_ref()));
    let credentials = match given {
        Some(c) => {
            let security = security_for(args.protocol, &c)?;
            store
                .save_snmp_credentials(&name, &c)
                .await
                .map_err(CliError::failed)?;
            security
        }
        None => {
            let saved = store
                .snmp_credentials(&name)
                .await
                .map_err(CliError::failed)?
                .ok_or_else(|| CliError::usage(missing_credentials(args)))?;
            security_for(args.protocol, &saved)?
        }
    };
    let settings = SnmpSettings {
        security: credentials,
        retries: args.retries,
        vendor: args.vendor,
        walk: WalkOptions::default(),
        inventory: InventoryOptions {
            uplink_macs: args.uplink_macs,
        },
    };
    let oui = Arc::new(load_oui(args.oui_file.as_deref()));
    let probe = Arc::new(SnmpProbe::new(settings, oui));
    let mut spec = scan_spec(&request);
    if let Some(map) = spec.as_object_mut() {
        map.insert("protocol".into(), protocol_name(args.protocol).into());
        map.insert("vendor".into(), args.vendor.to_string().into());
        map.insert("retries".into(), args.retries.into());
        map.insert("uplink_macs".into(), args.uplink_macs.into());
        map.insert("credentials".into(), name.clone().into());
    }
    let job = ScanJob {
        kind: "switch",
        name: format!(
            "scan switch --protocol {} {}",
            protocol_name(args.protocol),
            request.targets
        ),
        spec,
        format: args.format,
        report: Some(report),
    };
    scan_and_save(store, probe, &request, job).await
}

fn protocol_name(p: SwitchProtocol) -> &'static str {
    match p {
        SwitchProtocol::SnmpV1 => "snmp-v1",
        SwitchProtocol::SnmpV2c => "snmp-v2c",
        SwitchProtocol::SnmpV3 => "snmp-v3",
    }
}

fn missing_credentials(args: &SwitchScanArgs) -> String {
    match (&args.credentials, args.protocol) {
        (Some(name), _) => format!("no SNMP credentials are saved under --credentials {name:?}"),
        (None, SwitchProtocol::SnmpV3) => {
            "--user is needed for snmp-v3 (with --auth-proto/--auth-pass and --priv-proto/--priv-pass for its security level)".into()
        }
        (None, _) => format!(
            "--community (or OTSENSOR_SNMP_COMMUNITY) is needed for {}",
            protocol_name(args.protocol)
        ),
    }
}

fn default_credentials_name(args: &SwitchScanArgs, given: Option<&SnmpCredentials>) -> String {
    match given {
        Some(SnmpCredentials::User { user, .. }) => format!("snmp-v3 user {user}"),
        Some(SnmpCredentials::Community { version, .. }) => format!("snmp-{version} community"),
        None => match args.protocol {
            SwitchProtocol::SnmpV3 => {
                format!("snmp-v3 user {}", args.user.clone().unwrap_or_default())
            }
            other => format!("{} community", protocol_name(other)),
        },
    }
}

/// The credentials given on the command line or in the environment, if any.
fn credentials_from_args(args: &SwitchScanArgs) -> Result<Option<SnmpCredentials>, CliError> {
    match args.protocol {
        SwitchProtocol::SnmpV1 | SwitchProtocol::SnmpV2c => {
            // (a user or passwords in the environment are ignored by a community scan)
            if args.auth_proto.is_some() || args.priv_proto.is_some() || args.context.is_some() {
                return Err(CliError::usage(format!(
                    "--auth-proto, --priv-proto and --context are SNMPv3 options; {} uses --community",
                    protocol_name(args.protocol)
                )));
            }
            let version = if args.protocol == SwitchProtocol::SnmpV1 {
                "v1"
            } else {
                "v2c"
            };
            Ok(args.community.as_ref().map(|c| SnmpCredentials::Community {
                version: version.into(),
                community: Secret::new(c.clone()),
            }))
        }
        SwitchProtocol::SnmpV3 => {
            let Some(user) = args.user.clone() else {
                return Ok(None);
            };
            let pair =
                |proto: &Option<String>, pass: &Option<String>, what: &str| match (proto, pass) {
                    (Some(p), Some(s)) => Ok(Some((p.clone(), Secret::new(s.clone())))),
                    (None, None) => Ok(None),
                    (Some(_), None) => Err(CliError::usage(format!(
                        "--{what}-proto needs --{what}-pass (or OTSENSOR_SNMP_{}_PASS)",
                        what.to_uppercase()
                    ))),
                    (None, Some(_)) => Err(CliError::usage(format!(
                        "--{what}-pass needs --{what}-proto"
                    ))),
                };
            Ok(Some(SnmpCredentials::User {
                user,
                auth: pair(&args.auth_proto, &args.auth_pass, "auth")?,
                privacy: pair(&args.priv_proto, &args.priv_pass, "priv")?,
                context: args.context.clone().unwrap_or_default(),
            }))
        }
    }
}

/// The client security of credentials, checked against the protocol asked for.
fn security_for(protocol: SwitchProtocol, c: &SnmpCredentials) -> Result<Security, CliError> {
    match (protocol, c) {
        (
            SwitchProtocol::SnmpV1 | SwitchProtocol::SnmpV2c,
            SnmpCredentials::Community { community, .. },
        ) => Ok(Security::Community {
            version: if protocol == SwitchProtocol::SnmpV1 {
                Version::V1
            } else {
                Version::V2c
            },
            community: community.clone(),
        }),
        (
            SwitchProtocol::SnmpV3,
            SnmpCredentials::User {
                user,
                auth,
                privacy,
                context,
            },
        ) => {
            let auth = match auth {
                Some((p, s)) => Some((
                    p.parse()
                        .map_err(|e| CliError::usage(format!("--auth-proto {e}")))?,
                    s.clone(),
                )),
                None => None,
            };
            let privacy = match privacy {
                Some((p, s)) => Some((
                    p.parse()
                        .map_err(|e| CliError::usage(format!("--priv-proto {e}")))?,
                    s.clone(),
                )),
                None => None,
            };
            let user = UsmUser {
                name: user.clone(),
                auth,
                privacy,
            };
            user.validate().map_err(CliError::usage)?;
            Ok(Security::Usm {
                user,
                context: context.clone(),
            })
        }
        (p, saved) => Err(CliError::usage(format!(
            "the credentials ({}) do not fit {}",
            saved.describe(),
            protocol_name(p)
        ))),
    }
}

/// The OUI registry, or an empty one (with a warning) when the file cannot be read.
fn load_oui(path: Option<&Path>) -> OuiTable {
    let path = path.unwrap_or_else(|| Path::new(DEFAULT_OUI_FILE));
    match std::fs::read_to_string(path) {
        Ok(text) => OuiTable::parse(&text),
        Err(e) => {
            eprintln!(
                "otsensor: warning: no MAC vendors: cannot read the OUI registry {}: {e} (install Debian's ieee-data package or pass --oui-file)",
                path.display()
            );
            OuiTable::default()
        }
    }
}

/// One line per switch (what its tables held) and per failed target (why).
fn report(outcome: &ScanOutcome) -> Vec<String> {
    let mut lines = Vec::new();
    for obs in &outcome.observations {
        let tables = obs.facts.iter().find_map(|f| match f {
            Fact::SwitchTables(t) => Some(*t),
            _ => None,
        });
        let name = obs.facts.iter().find_map(|f| match f {
            Fact::Name(n) => Some(n.as_str()),
            _ => None,
        });
        if let Some(t) = tables {
            lines.push(format!(
                "{} ({}): {} interfaces, {} + {} ARP entries, {} + {} MAC-table entries (BRIDGE + Q-BRIDGE), {} LLDP and {} CDP neighbours; {} devices seen, {} links",
                obs.address,
                name.unwrap_or("no sysName"),
                t.interfaces,
                t.arp,
                t.arp_physical,
                t.fdb,
                t.qbridge_fdb,
                t.lldp,
                t.cdp,
                obs.related.len(),
                obs.links.len()
            ));
        }
    }
    let silent = |e: &&ProbeLogEntry| matches!(e.outcome, Outcome::NoResponse | Outcome::Refused);
    let silent_count = outcome.probe_log.iter().filter(silent).count();
    for entry in &outcome.probe_log {
        if silent(&entry) && silent_count > SILENT_LINES_MAX {
            continue;
        }
        match (&entry.outcome, &entry.error) {
            (Outcome::Identified, Some(note)) => {
                lines.push(format!("otsensor: warning: {}: {note}", entry.address));
            }
            (Outcome::Identified, None) => {}
            (_, Some(error)) => lines.push(format!("otsensor: {error}")),
            (outcome, None) => lines.push(format!("otsensor: {}: {outcome}", entry.address)),
        }
    }
    if silent_count > SILENT_LINES_MAX {
        lines.push(format!(
            "otsensor: {silent_count} targets had no SNMP agent (no answer, or port unreachable); `otsensor log` lists each"
        ));
    }
    lines
}

/// Up to this many targets without an agent get a line each; more (a sweep) get one count.
const SILENT_LINES_MAX: usize = 16;

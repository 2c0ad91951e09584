//! Switch discovery as a stored scan: the use-case fields a client sends (credentials
//! included, write-only), their validation into what is stored (no secret) plus the
//! credentials to seal, and the SNMP probe built at run time from the unsealed credentials.

use crate::error::ApiError;
use crate::extract::from_value_at;
use crate::usecase::{ProbePlan, SwitchDiscovery};
use otsensor_core::oui::DEFAULT_OUI_FILE;
use otsensor_core::{OuiTable, Pacing, Protocol, Secret, SnmpCredentials};
use otsensor_snmp::inventory::{DEFAULT_UPLINK_MACS, InventoryOptions};
use otsensor_snmp::walk::WalkOptions;
use otsensor_snmp::{
    AuthProtocol, PrivProtocol, Security, SnmpProbe, SnmpSettings, UsmUser, VendorChoice, Version,
};
use ring::rand::{SecureRandom, SystemRandom};
use serde::Deserialize;
use std::sync::{Arc, OnceLock};

/// Longest community or pass phrase accepted.
const MAX_SECRET_CHARS: usize = 256;

/// Switch discovery fields as a client sends them (`use_case` with `"kind": "switch"`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchInput {
    /// `snmp-v1`, `snmp-v2c` or `snmp-v3`.
    pub version: Option<String>,
    /// Vendor profile [default: auto].
    pub vendor: Option<String>,
    /// Write-only: the v1/v2c community (kept sealed, never returned). On update, absent
    /// keeps the stored one.
    pub community: Option<String>,
    /// The v3 user.
    pub user: Option<String>,
    /// The v3 authentication protocol.
    pub auth_proto: Option<String>,
    /// Write-only: the v3 authentication pass phrase (absent on update: keep the stored one).
    pub auth_pass: Option<String>,
    /// The v3 privacy protocol.
    pub priv_proto: Option<String>,
    /// Write-only: the v3 privacy pass phrase (absent on update: keep the stored one).
    pub priv_pass: Option<String>,
    /// The v3 context name.
    pub context: Option<String>,
    /// UDP port [default: 161].
    pub port: Option<u16>,
    /// Time limit of each request in seconds, 0.01 to 600 [default: the pacing default].
    pub timeout_secs: Option<f64>,
    /// Retries, 0 to 5 [default: 1].
    pub retries: Option<u32>,
    /// Device limit, 0 for none [default: 0].
    pub device_limit: Option<usize>,
    /// Uplink threshold in distinct MACs per port [default: the SNMP crate's].
    pub uplink_macs: Option<usize>,
}

/// A switch use case checked: what is stored, and the credentials to seal under its name.
pub struct CheckedSwitch {
    /// What the scan's specification keeps (no secret).
    pub stored: SwitchDiscovery,
    /// What to seal under `stored.credentials`.
    pub credentials: SnmpCredentials,
}

/// Reads the fields (errors name `use_case.<field>`).
pub fn parse_switch(rest: serde_json::Value) -> Result<SwitchInput, ApiError> {
    from_value_at(rest, "use_case")
}

fn invalid(field: &str, detail: impl Into<String>) -> ApiError {
    ApiError::invalid(format!("use_case.{field}"), detail)
}

fn check_secret(field: &str, value: &str) -> Result<(), ApiError> {
    if value.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if value.chars().count() > MAX_SECRET_CHARS {
        return Err(invalid(
            field,
            format!("at most {MAX_SECRET_CHARS} characters"),
        ));
    }
    Ok(())
}

/// Checks the fields and fills the defaults. `previous` (on update) supplies the secrets the
/// client left out, when they still fit (same version family, same v3 user).
pub fn check_switch(
    input: SwitchInput,
    previous: Option<&SnmpCredentials>,
    pacing: &Pacing,
) -> Result<CheckedSwitch, ApiError> {
    let version = input
        .version
        .clone()
        .ok_or_else(|| invalid("version", "missing: snmp-v1, snmp-v2c or snmp-v3"))?;
    let vendor = input.vendor.clone().unwrap_or_else(|| "auto".into());
    vendor.parse::<VendorChoice>().map_err(|e| {
        invalid(
            "vendor",
            format!("{e} (one of: {})", VendorChoice::names().join(", ")),
        )
    })?;
    let port = input.port.unwrap_or(Protocol::Snmp.default_port());
    if port == 0 {
        return Err(invalid("port", "must be from 1 to 65535"));
    }
    let timeout_secs = input
        .timeout_secs
        .unwrap_or(pacing.timeout_ms as f64 / 1000.0);
    if !(0.01..=600.0).contains(&timeout_secs) {
        return Err(invalid("timeout_secs", "must be from 0.01 to 600 seconds"));
    }
    let retries = input.retries.unwrap_or(1);
    if retries > 5 {
        return Err(invalid("retries", "must be from 0 to 5"));
    }
    let device_limit = input.device_limit.unwrap_or(0);
    if device_limit > 1_000_000 {
        return Err(invalid(
            "device_limit",
            "must be at most 1000000 (0: no limit)",
        ));
    }
    let uplink_macs = input.uplink_macs.unwrap_or(DEFAULT_UPLINK_MACS);
    if uplink_macs == 0 {
        return Err(invalid("uplink_macs", "must be at least 1"));
    }
    let credentials = match version.as_str() {
        "snmp-v1" | "snmp-v2c" => community_credentials(&version, &input, previous)?,
        "snmp-v3" => user_credentials(&input, previous)?,
        other => {
            return Err(invalid(
                "version",
                format!("{other:?}: expected snmp-v1, snmp-v2c or snmp-v3"),
            ));
        }
    };
    // the probe must build from these credentials (protocol names, pass phrase lengths)
    security(&version, &credentials).map_err(|(f, d)| invalid(f, d))?;
    let (user, auth_proto, priv_proto, context, auth_set, priv_set) = match &credentials {
        SnmpCredentials::User {
            user,
            auth,
            privacy,
            context,
        } => (
            Some(user.clone()),
            auth.as_ref().map(|(p, _)| p.clone()),
            privacy.as_ref().map(|(p, _)| p.clone()),
            Some(context.clone()),
            auth.is_some(),
            privacy.is_some(),
        ),
        SnmpCredentials::Community { .. } => (None, None, None, None, false, false),
    };
    let stored = SwitchDiscovery {
        community_set: matches!(credentials, SnmpCredentials::Community { .. }),
        version,
        vendor,
        port,
        timeout_secs,
        retries,
        device_limit,
        uplink_macs,
        user,
        auth_proto,
        priv_proto,
        context,
        auth_pass_set: auth_set,
        priv_pass_set: priv_set,
        credentials: new_credentials_name()?,
    };
    Ok(CheckedSwitch {
        stored,
        credentials,
    })
}

fn community_credentials(
    version: &str,
    input: &SwitchInput,
    previous: Option<&SnmpCredentials>,
) -> Result<SnmpCredentials, ApiError> {
    for (field, given) in [
        ("user", &input.user),
        ("auth_proto", &input.auth_proto),
        ("auth_pass", &input.auth_pass),
        ("priv_proto", &input.priv_proto),
        ("priv_pass", &input.priv_pass),
        ("context", &input.context),
    ] {
        if given.is_some() {
            return Err(invalid(
                field,
                format!("an SNMPv3 field; {version} uses a community"),
            ));
        }
    }
    let community = match (&input.community, previous) {
        (Some(c), _) => {
            check_secret("community", c)?;
            Secret::new(c.clone())
        }
        (None, Some(SnmpCredentials::Community { community, .. })) => community.clone(),
        (None, _) => return Err(invalid("community", format!("needed for {version}"))),
    };
    Ok(SnmpCredentials::Community {
        version: version.trim_start_matches("snmp-").to_string(),
        community,
    })
}

fn user_credentials(
    input: &SwitchInput,
    previous: Option<&SnmpCredentials>,
) -> Result<SnmpCredentials, ApiError> {
    if input.community.is_some() {
        return Err(invalid(
            "community",
            "snmp-v3 uses a user (user, auth_proto/auth_pass, priv_proto/priv_pass)",
        ));
    }
    let user = input
        .user
        .clone()
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| invalid("user", "needed for snmp-v3"))?;
    if user.chars().count() > 32 || user.chars().any(char::is_control) {
        return Err(invalid(
            "user",
            "at most 32 characters, no control characters",
        ));
    }
    let (old_auth, old_priv) = match previous {
        Some(SnmpCredentials::User {
            user: old_user,
            auth,
            privacy,
            ..
        }) if *old_user == user => (
            auth.as_ref().map(|(_, s)| s.clone()),
            privacy.as_ref().map(|(_, s)| s.clone()),
        ),
        _ => (None, None),
    };
    let pair = |proto: &Option<String>,
                pass: &Option<String>,
                old: Option<Secret>,
                what: &str|
     -> Result<Option<(String, Secret)>, ApiError> {
        match (proto, pass) {
            (Some(p), Some(s)) => {
                check_secret(&format!("{what}_pass"), s)?;
                Ok(Some((p.clone(), Secret::new(s.clone()))))
            }
            (Some(p), None) => match old {
                Some(old) => Ok(Some((p.clone(), old))),
                None => Err(invalid(
                    &format!("{what}_pass"),
                    format!("needed with {what}_proto"),
                )),
            },
            (None, None) => Ok(None),
            (None, Some(_)) => Err(invalid(
                &format!("{what}_proto"),
                format!("needed with {what}_pass"),
            )),
        }
    };
    Ok(SnmpCredentials::User {
        user,
        auth: pair(&input.auth_proto, &input.auth_pass, old_auth, "auth")?,
        privacy: pair(&input.priv_proto, &input.priv_pass, old_priv, "priv")?,
        context: input.context.clone().unwrap_or_default(),
    })
}

/// A fresh name for a scan's sealed credentials.
fn new_credentials_name() -> Result<String, ApiError> {
    let mut bytes = [0u8; 12];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| ApiError::internal("the system random generator failed"))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("scan-{hex}"))
}

/// The client security of `credentials` for `version`; the error names the field at fault.
pub fn security(
    version: &str,
    credentials: &SnmpCredentials,
) -> Result<Security, (&'static str, String)> {
    match (version, credentials) {
        ("snmp-v1" | "snmp-v2c", SnmpCredentials::Community { community, .. }) => {
            Ok(Security::Community {
                version: if version == "snmp-v1" {
                    Version::V1
                } else {
                    Version::V2c
                },
                community: community.clone(),
            })
        }
        (
            "snmp-v3",
            SnmpCredentials::User {
                user,
                auth,
                privacy,
                context,
            },
        ) => {
            let auth = match auth {
                Some((p, s)) => Some((
                    p.parse::<AuthProtocol>().map_err(|e| ("auth_proto", e))?,
                    s.clone(),
                )),
                None => None,
            };
            let privacy = match privacy {
                Some((p, s)) => Some((
                    p.parse::<PrivProtocol>().map_err(|e| ("priv_proto", e))?,
                    s.clone(),
                )),
                None => None,
            };
            let user = UsmUser {
                name: user.clone(),
                auth,
                privacy,
            };
            user.validate().map_err(|e| ("user", e))?;
            Ok(Security::Usm {
                user,
                context: context.clone(),
            })
        }
        (v, c) => Err((
            "version",
            format!("the stored credentials ({}) do not fit {v}", c.describe()),
        )),
    }
}

/// The MAC vendor registry, read once (empty, with a warning, when it cannot be read).
fn oui() -> Arc<OuiTable> {
    static OUI: OnceLock<Arc<OuiTable>> = OnceLock::new();
    OUI.get_or_init(|| match std::fs::read_to_string(DEFAULT_OUI_FILE) {
        Ok(text) => Arc::new(OuiTable::parse(&text)),
        Err(e) => {
            tracing::warn!(
                "no MAC vendors: cannot read the OUI registry {DEFAULT_OUI_FILE}: {e} (install Debian's ieee-data package)"
            );
            Arc::new(OuiTable::default())
        }
    })
    .clone()
}

/// The probe plan of a stored switch scan with its unsealed credentials.
pub fn probe_plan(
    sw: &SwitchDiscovery,
    credentials: &SnmpCredentials,
) -> Result<ProbePlan, (String, String)> {
    let security =
        security(&sw.version, credentials).map_err(|(f, d)| (format!("use_case.{f}"), d))?;
    let vendor = sw
        .vendor
        .parse::<VendorChoice>()
        .map_err(|e| ("use_case.vendor".to_string(), e))?;
    let settings = SnmpSettings {
        security,
        retries: sw.retries,
        vendor,
        walk: WalkOptions::default(),
        inventory: InventoryOptions {
            uplink_macs: sw.uplink_macs,
        },
    };
    Ok(ProbePlan {
        probe: Arc::new(SnmpProbe::new(settings, oui())),
        port: sw.port,
        depth: 0,
    })
}

//! The service's settings: the `[server]` table of the configuration file, and the resolved
//! configuration a running service uses.
//!
//! The configuration file is read by the `otsensor` binary (which owns the other tables: `data_dir`,
//! `time_zone`, `[scope]`, `[pacing]`, `[targets]`); this crate defines `[server]` and checks the
//! whole resolved configuration before anything starts.

use jiff::tz::TimeZone;
use otsensor_core::{Pacing, Scope};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;

/// The default listening address: loopback only, HTTPS port 8443.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8443";

/// `[server]` in the configuration file. Every key is optional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// Address and port to listen on [default: 127.0.0.1:8443]. A specific address only: an
    /// unspecified one (0.0.0.0, ::) is refused.
    pub listen: SocketAddr,
    /// Serve plain HTTP instead of HTTPS [default: false]. Only for a TLS-terminating proxy on
    /// the same host: passwords and session cookies then cross the wire unencrypted, and the
    /// cookies lose their Secure flag so that browsers send them back.
    pub insecure_http: bool,
    /// The operator's certificate chain (PEM). Without it the service generates a self-signed
    /// certificate on first start into `<data_dir>/tls/`.
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM, PKCS#8, PKCS#1 or SEC1) of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// A session ends after this many minutes without a request [default: 30].
    pub session_idle_minutes: u64,
    /// A session ends this many hours after login whatever happens [default: 12].
    pub session_max_hours: u64,
    /// Failed logins (per user name and per client address) before logins are refused
    /// [default: 5].
    pub login_max_failures: u32,
    /// How long logins stay refused after too many failures, in seconds [default: 300]; the
    /// failures are also counted over this period.
    pub login_lockout_secs: u64,
}

impl Default for ServerSettings {
    fn default() -> ServerSettings {
        ServerSettings {
            listen: DEFAULT_LISTEN
                .parse()
                .unwrap_or_else(|_| SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, 8443))),
            insecure_http: false,
            tls_cert: None,
            tls_key: None,
            session_idle_minutes: 30,
            session_max_hours: 12,
            login_max_failures: 5,
            login_lockout_secs: 300,
        }
    }
}

/// Why the configuration cannot run; names the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {detail}")]
pub struct ConfigError {
    /// The configuration key (or command-line option) at fault.
    pub key: String,
    /// What is wrong and what to do.
    pub detail: String,
}

fn config_error(key: &str, detail: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.to_string(),
        detail: detail.into(),
    }
}

/// Everything a running service needs, resolved from the file and the command line.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// `[server]`.
    pub server: ServerSettings,
    /// The data directory (the store, the generated certificate).
    pub data_dir: PathBuf,
    /// The sensor's time zone: every schedule is read in it.
    pub time_zone: TimeZone,
    /// Its name, as configured (`Europe/Berlin`) or found (`UTC`).
    pub time_zone_name: String,
    /// The networks scans may touch.
    pub scope: Scope,
    /// Pacing defaults for every scan.
    pub pacing: Pacing,
    /// Most addresses one scan may cover.
    pub max_targets: u64,
}

impl ServiceConfig {
    /// Checks what the types alone do not.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.server.listen.ip().is_unspecified() {
            return Err(config_error(
                "server.listen",
                format!(
                    "{}: listen on a specific address (127.0.0.1, or the address of the management interface), never on all of them",
                    self.server.listen
                ),
            ));
        }
        if self.server.tls_cert.is_some() != self.server.tls_key.is_some() {
            return Err(config_error(
                "server.tls_cert",
                "give both tls_cert and tls_key, or neither (for a generated certificate)",
            ));
        }
        if self.server.session_idle_minutes == 0 || self.server.session_max_hours == 0 {
            return Err(config_error(
                "server.session_idle_minutes",
                "session times must be at least 1",
            ));
        }
        if self.server.login_max_failures == 0 {
            return Err(config_error(
                "server.login_max_failures",
                "must be at least 1",
            ));
        }
        if self.pacing.parallel == 0 {
            return Err(config_error("pacing.parallel", "must be at least 1"));
        }
        Ok(())
    }
}

/// The time zone named `name` (an IANA name such as `Europe/Berlin`, or `UTC`), or the
/// system's when `None`; with the name to show.
pub fn time_zone(name: Option<&str>) -> Result<(TimeZone, String), ConfigError> {
    match name {
        Some(name) => TimeZone::get(name).map(|tz| (tz, name.to_string())).map_err(|e| {
            config_error(
                "time_zone",
                format!("{name}: not a time zone the sensor knows ({e}); use an IANA name such as Europe/Berlin"),
            )
        }),
        None => {
            let tz = TimeZone::try_system().unwrap_or(TimeZone::UTC);
            let name = tz.iana_name().unwrap_or("UTC").to_string();
            Ok((tz, name))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> ServiceConfig {
        ServiceConfig {
            server: ServerSettings::default(),
            data_dir: PathBuf::from("/tmp/x"),
            time_zone: TimeZone::UTC,
            time_zone_name: "UTC".into(),
            scope: Scope::default(),
            pacing: Pacing::default(),
            max_targets: 65_536,
        }
    }

    #[test]
    fn defaults_listen_on_loopback_only() {
        let c = config();
        assert_eq!(c.server.listen.to_string(), "127.0.0.1:8443");
        assert!(c.validate().is_ok());
    }

    #[test]
    fn all_interfaces_are_refused() {
        let mut c = config();
        c.server.listen = "0.0.0.0:8443".parse().unwrap();
        assert_eq!(c.validate().unwrap_err().key, "server.listen");
        c.server.listen = "[::]:8443".parse().unwrap();
        assert_eq!(c.validate().unwrap_err().key, "server.listen");
    }

    #[test]
    fn time_zones_by_name() {
        assert_eq!(time_zone(Some("Europe/Berlin")).unwrap().1, "Europe/Berlin");
        assert_eq!(
            time_zone(Some("Mars/Olympus")).unwrap_err().key,
            "time_zone"
        );
    }
}

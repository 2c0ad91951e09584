//! The WMI probe: one host's inventory as facts, and a probe-log entry.

use crate::client::{ClientConfig, Stats, Timeouts, WmiClient, WmiError};
use crate::inventory::{self, HostInventory};
use crate::ntlm::Credentials;
use crate::rpc::AuthLevel;
use otsensor_core::probe::BoxFuture;
use otsensor_core::{Observation, Outcome, Pacer, Probe, ProbeContext, ProbeReport, Protocol};
use std::net::IpAddr;
use std::sync::Arc;

/// The requests the probe can send, for the probe log and the docs.
pub const REQUESTS: &[&str] = &[
    "DCE/RPC bind and auth3 (NTLMv2) on TCP 135 and on the dynamic port the host names",
    "IRemoteSCMActivator::RemoteCreateInstance (opnum 4) of WbemLevel1Login",
    "IActivation::RemoteActivation (opnum 0) of WbemLevel1Login, on hosts without IRemoteSCMActivator",
    "IWbemLevel1Login::NTLMLogin (opnum 6) to root\\cimv2",
    "IWbemServices::ExecQuery (opnum 20): WQL SELECT from Win32_OperatingSystem, Win32_ComputerSystem, Win32_BIOS, Win32_NetworkAdapterConfiguration, Win32_QuickFixEngineering, Win32_InstalledWin32Program",
    "IEnumWbemClassObject::Next (opnum 4)",
    "IRemUnknown::RemRelease (opnum 5)",
];

/// Read-only WMI inventory probe for one set of credentials.
#[derive(Debug, Clone)]
pub struct WmiProbe {
    credentials: Credentials,
    level: AuthLevel,
}

impl WmiProbe {
    /// A probe that logs in with `credentials` at `level` (privacy unless told otherwise).
    pub fn new(credentials: Credentials, level: AuthLevel) -> WmiProbe {
        WmiProbe { credentials, level }
    }
}

impl Probe for WmiProbe {
    fn protocol(&self) -> Protocol {
        Protocol::Wmi
    }

    fn requests(&self) -> &'static [&'static str] {
        REQUESTS
    }

    fn probe(&self, address: IpAddr, ctx: ProbeContext) -> BoxFuture<'_, ProbeReport> {
        Box::pin(async move {
            let config = ClientConfig {
                level: self.level,
                timeouts: Timeouts::from_base(ctx.timeout),
                ..ClientConfig::default()
            };
            let result = inventory_of(
                address,
                ctx.port,
                &self.credentials,
                &config,
                ctx.pacer.clone(),
            )
            .await;
            report(address, result)
        })
    }
}

/// Logs in to `address`, collects its inventory and closes the session.
pub async fn inventory_of(
    address: IpAddr,
    port: u16,
    credentials: &Credentials,
    config: &ClientConfig,
    pacer: Arc<dyn Pacer>,
) -> Result<(HostInventory, Stats), WmiError> {
    let mut client = WmiClient::connect(address, port, credentials, config, pacer).await?;
    let collected = inventory::collect(&mut client).await;
    let closed = client.close().await;
    let inv = collected?;
    let stats = match closed {
        Ok(stats) => stats,
        // the inventory is complete; a failed release is the host's business
        Err(e) => {
            tracing::debug!(%address, error = %e, "RemRelease failed");
            Stats::default()
        }
    };
    Ok((inv, stats))
}

/// The probe report of an inventory attempt.
pub fn report(address: IpAddr, result: Result<(HostInventory, Stats), WmiError>) -> ProbeReport {
    match result {
        Ok((inv, _)) => {
            let mut obs = Observation::new(address, Protocol::Wmi, jiff::Timestamp::now());
            obs.facts.extend(inventory::facts(&inv, address));
            ProbeReport {
                outcome: Outcome::Identified,
                observation: Some(obs),
                error: (!inv.warnings.is_empty()).then(|| inv.warnings.join("; ")),
            }
        }
        Err(e) => {
            let outcome = if e.is_refused() {
                Outcome::Refused
            } else if e.is_no_response() {
                Outcome::NoResponse
            } else {
                Outcome::Error
            };
            ProbeReport::failed(outcome, e)
        }
    }
}

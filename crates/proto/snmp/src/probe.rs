//! The SNMP switch probe: reads a switch and returns the switch, the stations it has seen, its
//! neighbours and the links between them.

use crate::client::{Client, ClientConfig, ClientError, Security};
use crate::discovery::{DiscoveryOptions, SwitchData, discover};
use crate::inventory::{InventoryOptions, observation};
use crate::vendor::VendorChoice;
use crate::walk::WalkOptions;
use otsensor_core::probe::BoxFuture;
use otsensor_core::{OuiTable, Outcome, Probe, ProbeContext, ProbeReport, Protocol};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// The requests the probe can send, for the probe log and the docs.
pub const REQUESTS: &[&str] = &[
    "SNMP GetRequest (system group, dot1dBaseBridgeAddress; SNMPv3 engine discovery; sysUpTime at authNoPriv to diagnose a wrong privacy password)",
    "SNMP GetNextRequest (table walks, SNMPv1)",
    "SNMP GetBulkRequest (table walks, SNMPv2c/v3): ENTITY-MIB, IF-MIB, IP-MIB ARP, BRIDGE-MIB, Q-BRIDGE-MIB, LLDP-MIB, CISCO-CDP-MIB, CISCO-VTP-MIB",
];

/// What the probe is configured with.
#[derive(Debug, Clone)]
pub struct SnmpSettings {
    /// Version and credentials.
    pub security: Security,
    /// Attempts after the first when nothing answers.
    pub retries: u32,
    /// Vendor profile, or auto.
    pub vendor: VendorChoice,
    /// Walk limits.
    pub walk: WalkOptions,
    /// Uplink detection.
    pub inventory: InventoryOptions,
}

/// Read-only SNMP switch-discovery probe.
#[derive(Debug, Clone)]
pub struct SnmpProbe {
    settings: SnmpSettings,
    oui: Arc<OuiTable>,
}

impl SnmpProbe {
    /// A probe with `settings`, naming MAC vendors from `oui`.
    pub fn new(settings: SnmpSettings, oui: Arc<OuiTable>) -> SnmpProbe {
        SnmpProbe { settings, oui }
    }

    /// Opens a client to `addr` with the probe's settings.
    pub async fn client(
        &self,
        addr: SocketAddr,
        ctx: &ProbeContext,
    ) -> Result<Client, ClientError> {
        Client::open(
            addr,
            ClientConfig {
                security: self.settings.security.clone(),
                timeout: ctx.timeout,
                retries: self.settings.retries,
            },
            ctx.pacer.clone(),
        )
        .await
    }

    /// Reads the switch at `address`: its data and the client's final state.
    pub async fn read(
        &self,
        address: IpAddr,
        ctx: &ProbeContext,
    ) -> Result<(SwitchData, Client), ClientError> {
        let mut client = self.client(SocketAddr::new(address, ctx.port), ctx).await?;
        let data = discover(
            &mut client,
            DiscoveryOptions {
                vendor: self.settings.vendor,
                walk: self.settings.walk,
            },
        )
        .await?;
        Ok((data, client))
    }
}

impl Probe for SnmpProbe {
    fn protocol(&self) -> Protocol {
        Protocol::Snmp
    }

    fn requests(&self) -> &'static [&'static str] {
        REQUESTS
    }

    fn probe(&self, address: IpAddr, ctx: ProbeContext) -> BoxFuture<'_, ProbeReport> {
        Box::pin(async move {
            let (data, _client) = match self.read(address, &ctx).await {
                Ok(read) => read,
                Err(e) => return failure(e),
            };
            let obs = observation(
                address,
                &data,
                &self.oui,
                self.settings.inventory,
                jiff::Timestamp::now(),
            );
            ProbeReport {
                outcome: Outcome::Identified,
                observation: Some(obs),
                error: (!data.notes.is_empty()).then(|| data.notes.join("; ")),
            }
        })
    }
}

/// How a failed read ends: silence is no response; a closed port (ICMP port unreachable) is
/// refused; an agent that answered (with a report, a bad credential) is an error.
fn failure(e: ClientError) -> ProbeReport {
    let outcome = if e.is_timeout() {
        Outcome::NoResponse
    } else if e.is_port_unreachable() {
        Outcome::Refused
    } else {
        Outcome::Error
    };
    ProbeReport::failed(outcome, e)
}

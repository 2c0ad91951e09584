//! What a switch discovery reads, in which order, and what it keeps: [`SwitchData`], the typed
//! contents of a switch's tables. Mapping them to inventory facts is [`crate::inventory`]'s job.

use crate::client::{Client, ClientError};
use crate::codec::Value;
use crate::mib::{
    self, ArpRow, CdpRow, EntityRow, FdbRow, FdbSource, IfRow, LldpLocalPort, LldpRow,
};
use crate::oid::Oid;
use crate::usm::Secret;
use crate::vendor::{VendorChoice, VendorProfile};
use crate::walk::{BulkSize, WalkOptions, Walked, walk_columns};
use otsensor_core::{MacAddr, TableCounts};
use std::collections::BTreeMap;

/// vtpVlanState operational(1).
const VTP_OPERATIONAL: i64 = 1;
/// vtpVlanType ethernet(1).
const VTP_ETHERNET: i64 = 1;
/// VLANs reserved for FDDI and Token Ring on Cisco: never walked per VLAN.
const CISCO_RESERVED_VLANS: std::ops::RangeInclusive<u16> = 1002..=1005;

/// Everything read from one switch.
#[derive(Debug, Clone)]
pub struct SwitchData {
    /// The profile used.
    pub profile: &'static VendorProfile,
    /// The system group.
    pub system: mib::SystemInfo,
    /// entPhysicalTable.
    pub entities: Vec<EntityRow>,
    /// ifTable + ifXTable.
    pub interfaces: Vec<IfRow>,
    /// dot1dBaseBridgeAddress.
    pub bridge_address: Option<MacAddr>,
    /// dot1dBasePortIfIndex of the default bridge instance: bridge port to ifIndex.
    pub base_ports: BTreeMap<u32, u32>,
    /// ARP entries of both tables.
    pub arp: Vec<ArpRow>,
    /// Forwarding entries of every table and instance read.
    pub fdb: Vec<FdbRow>,
    /// lldpLocPortTable.
    pub lldp_local: BTreeMap<u32, LldpLocalPort>,
    /// lldpRemTable.
    pub lldp: Vec<LldpRow>,
    /// cdpCacheTable.
    pub cdp: Vec<CdpRow>,
    /// Row counts of each table.
    pub counts: TableCounts,
    /// What went wrong on the way, without stopping the discovery.
    pub notes: Vec<String>,
}

/// How a discovery goes.
#[derive(Debug, Clone, Copy, Default)]
pub struct DiscoveryOptions {
    /// The vendor profile, or auto.
    pub vendor: VendorChoice,
    /// Limits of each walk.
    pub walk: WalkOptions,
}

/// Reads a switch: the system group first (an error there is the probe's error), then every
/// table. A table that fails is noted and skipped; when the agent stops answering, the
/// discovery stops and returns what it has with a note.
pub async fn discover(
    client: &mut Client,
    options: DiscoveryOptions,
) -> Result<SwitchData, ClientError> {
    let system = read_system(client).await?;
    let profile = options.vendor.resolve(system.enterprise());
    let mut data = SwitchData {
        profile,
        system,
        entities: Vec::new(),
        interfaces: Vec::new(),
        bridge_address: None,
        base_ports: BTreeMap::new(),
        arp: Vec::new(),
        fdb: Vec::new(),
        lldp_local: BTreeMap::new(),
        lldp: Vec::new(),
        cdp: Vec::new(),
        counts: TableCounts::default(),
        notes: Vec::new(),
    };
    let mut reader = Reader {
        client,
        bulk: BulkSize::default(),
        options: options.walk,
        stopped: false,
    };
    reader.entities(&mut data).await;
    reader.interfaces(&mut data).await;
    reader.bridge(&mut data).await;
    reader.qbridge(&mut data).await;
    reader.arp(&mut data).await;
    reader.lldp(&mut data).await;
    reader.cdp(&mut data).await;
    if let Some(indexing) = profile.per_vlan_bridge {
        reader.per_vlan_bridges(&mut data, indexing).await;
    }
    Ok(data)
}

/// GET of the system group.
pub async fn read_system(client: &mut Client) -> Result<mib::SystemInfo, ClientError> {
    let oids: Vec<Oid> = [
        mib::system::DESCR,
        mib::system::OBJECT_ID,
        mib::system::UP_TIME,
        mib::system::CONTACT,
        mib::system::NAME,
        mib::system::LOCATION,
        mib::system::SERVICES,
    ]
    .iter()
    .map(|o| Oid::from(*o))
    .collect();
    let values = client.get(&oids).await?;
    let get = |o: &[u32]| values.get(&Oid::from(o)).filter(|v| !v.is_exception());
    Ok(mib::SystemInfo {
        descr: get(mib::system::DESCR).and_then(mib::text),
        object_id: get(mib::system::OBJECT_ID).and_then(|v| match v {
            Value::ObjectId(o) => Some(o.clone()),
            _ => None,
        }),
        up_time: get(mib::system::UP_TIME)
            .and_then(|v| v.as_u64())
            .and_then(|v| u32::try_from(v).ok()),
        contact: get(mib::system::CONTACT).and_then(mib::text),
        name: get(mib::system::NAME).and_then(mib::text),
        location: get(mib::system::LOCATION).and_then(mib::text),
        services: get(mib::system::SERVICES).and_then(mib::int),
    })
}

/// Walks tables on behalf of a discovery, keeping the adaptive bulk size and stopping for good
/// once the agent stops answering.
struct Reader<'a> {
    client: &'a mut Client,
    bulk: BulkSize,
    options: WalkOptions,
    stopped: bool,
}

impl Reader<'_> {
    /// Walks each root on its own, one name per GETBULK as `snmpbulkwalk` does: agents such as
    /// snmpsim answer a GETBULK of several names far more slowly than several GETBULKs of one.
    async fn walk_roots(&mut self, roots: &[&[u32]]) -> Result<Walked, ClientError> {
        let mut out = Walked::default();
        for root in roots {
            let oid = Oid::from(*root);
            let mut one = walk_columns(self.client, &mut self.bulk, &[oid], self.options).await?;
            out.columns.push(one.columns.pop().unwrap_or_default());
            out.notes.append(&mut one.notes);
        }
        Ok(out)
    }

    /// One GET of dot1dBaseBridgeAddress.0, without retries, in the VLAN's community or
    /// context: whether the agent indexes its bridge MIB by VLAN at all.
    async fn answers_vlan_indexing(&mut self) -> bool {
        let (timeout, retries) = (self.client.timeout(), self.client.retries());
        self.client.set_timing(timeout, 0);
        let answer = self
            .client
            .get(&[Oid::from(mib::bridge::BASE_BRIDGE_ADDRESS)])
            .await;
        self.client.set_timing(timeout, retries);
        answer.is_ok()
    }

    /// Walks the subtrees `roots` together and returns them as `columns`; `None` (with a
    /// note) when the walk failed or the reader has stopped.
    async fn walk(
        &mut self,
        what: &str,
        roots: &[&[u32]],
        columns: &[&[u32]],
        notes: &mut Vec<String>,
    ) -> Option<Walked> {
        if self.stopped {
            return None;
        }
        let (started, sent) = (std::time::Instant::now(), self.client.stats().sent);
        let result = self.walk_roots(roots).await;
        tracing::debug!(
            addr = %self.client.addr(),
            table = what,
            secs = started.elapsed().as_secs_f64(),
            pdus = self.client.stats().sent - sent,
            "walked"
        );
        match result {
            Ok(walked) => {
                notes.extend(walked.notes.iter().map(|n| format!("{what}: {n}")));
                Some(mib::project(roots, &walked, columns))
            }
            Err(e) => {
                if e.is_timeout() || e.is_credentials() {
                    self.stopped = true;
                    notes.push(format!("{what}: {e}; discovery stopped"));
                } else {
                    notes.push(format!("{what}: {e}"));
                }
                None
            }
        }
    }

    async fn entities(&mut self, data: &mut SwitchData) {
        if let Some(w) = self
            .walk(
                "ENTITY-MIB",
                &mib::entity::ROOTS,
                &mib::entity::COLUMNS,
                &mut data.notes,
            )
            .await
        {
            data.entities = mib::entities(&w);
            data.counts.entities = data.entities.len() as u64;
        }
    }

    async fn interfaces(&mut self, data: &mut SwitchData) {
        if let Some(w) = self
            .walk(
                "IF-MIB",
                &mib::interfaces::ROOTS,
                &mib::interfaces::COLUMNS,
                &mut data.notes,
            )
            .await
        {
            data.interfaces = mib::interfaces(&w);
            data.counts.interfaces = mib::row_count(&w, 0..1);
        }
    }

    async fn bridge(&mut self, data: &mut SwitchData) {
        if self.stopped {
            return;
        }
        match self
            .client
            .get(&[Oid::from(mib::bridge::BASE_BRIDGE_ADDRESS)])
            .await
        {
            Ok(values) => {
                data.bridge_address = values
                    .values()
                    .next()
                    .and_then(mib::mac)
                    .filter(mib::is_station_mac);
            }
            Err(e) => data.notes.push(format!("dot1dBaseBridgeAddress: {e}")),
        }
        if let Some(w) = self
            .walk(
                "BRIDGE-MIB",
                &mib::bridge::ROOTS,
                &mib::bridge::COLUMNS,
                &mut data.notes,
            )
            .await
        {
            let (ports, entries, count) = mib::bridge_fdb(&w, FdbSource::Bridge);
            data.base_ports = ports;
            data.fdb.extend(entries);
            data.counts.fdb += count;
        }
    }

    async fn qbridge(&mut self, data: &mut SwitchData) {
        if let Some(w) = self
            .walk(
                "Q-BRIDGE-MIB",
                &mib::qbridge::ROOTS,
                &mib::qbridge::COLUMNS,
                &mut data.notes,
            )
            .await
        {
            let (entries, count) = mib::qbridge_fdb(&w, &data.base_ports);
            data.fdb.extend(entries);
            data.counts.qbridge_fdb = count;
        }
    }

    async fn arp(&mut self, data: &mut SwitchData) {
        if let Some(w) = self
            .walk(
                "IP-MIB ARP",
                &mib::arp::ROOTS,
                &mib::arp::COLUMNS,
                &mut data.notes,
            )
            .await
        {
            let (rows, media, physical) = mib::arp_entries(&w);
            data.arp = rows;
            data.counts.arp = media;
            data.counts.arp_physical = physical;
        }
    }

    async fn lldp(&mut self, data: &mut SwitchData) {
        if let Some(w) = self
            .walk(
                "LLDP-MIB",
                &mib::lldp::ROOTS,
                &mib::lldp::COLUMNS,
                &mut data.notes,
            )
            .await
        {
            let (local, rows, count) = mib::lldp_neighbors(&w);
            data.lldp_local = local;
            data.lldp = rows;
            data.counts.lldp = count;
        }
    }

    async fn cdp(&mut self, data: &mut SwitchData) {
        if let Some(w) = self
            .walk(
                "CISCO-CDP-MIB",
                &mib::cdp::ROOTS,
                &mib::cdp::COLUMNS,
                &mut data.notes,
            )
            .await
        {
            let (rows, count) = mib::cdp_neighbors(&w);
            data.cdp = rows;
            data.counts.cdp = count;
        }
    }

    /// Cisco: the bridge MIB of each VLAN other than 1 (which the plain community shows),
    /// through community@vlan or the context vlan-N. When the agent does not answer the first
    /// VLAN's community or context, the others are not tried.
    async fn per_vlan_bridges(
        &mut self,
        data: &mut SwitchData,
        indexing: crate::vendor::VlanIndexing,
    ) {
        let Some(w) = self
            .walk(
                "CISCO-VTP-MIB",
                &mib::vtp::ROOTS,
                &mib::vtp::COLUMNS,
                &mut data.notes,
            )
            .await
        else {
            return;
        };
        let vlans: Vec<u16> = mib::vtp_vlans(&w)
            .into_iter()
            .filter(|v| v.state.is_none_or(|s| s == VTP_OPERATIONAL))
            .filter(|v| v.kind.is_none_or(|k| k == VTP_ETHERNET))
            .map(|v| v.vlan)
            .filter(|v| *v != 1 && !CISCO_RESERVED_VLANS.contains(v))
            .collect();
        if vlans.is_empty() {
            return;
        }
        let base_community = self.client.community().cloned();
        let base_context = self.client.context().map(str::to_string);
        for (n, vlan) in vlans.iter().enumerate() {
            if self.stopped {
                break;
            }
            match (&base_community, &base_context) {
                (Some(c), _) => self
                    .client
                    .set_community(Secret::new((indexing.community)(c.expose(), *vlan))),
                (None, Some(_)) => self.client.set_context((indexing.context)(*vlan)),
                (None, None) => break,
            }
            if n == 0 && !self.answers_vlan_indexing().await {
                data.notes.push(format!(
                    "per-VLAN bridge tables not read: the agent does not answer {} (tried VLAN {vlan}; {} VLANs skipped)",
                    if base_community.is_some() { "community@vlan" } else { "the vlan-N context" },
                    vlans.len()
                ));
                break;
            }
            let what = format!("BRIDGE-MIB of VLAN {vlan}");
            if let Some(w) = self
                .walk(
                    &what,
                    &mib::bridge::ROOTS,
                    &mib::bridge::COLUMNS,
                    &mut data.notes,
                )
                .await
            {
                let (_, entries, count) = mib::bridge_fdb(&w, FdbSource::BridgeVlan(*vlan));
                data.fdb.extend(entries);
                data.counts.fdb += count;
            }
        }
        if let Some(c) = base_community {
            self.client.set_community(c);
        }
        if let Some(ctx) = base_context {
            self.client.set_context(ctx);
        }
    }
}

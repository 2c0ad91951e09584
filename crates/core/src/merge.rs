//! The inventory merge: a pure function from (current devices, observation) to what changed.

use crate::device::{Device, DeviceKey, MacAddr};
use crate::fact::Fact;
use crate::observation::{Observation, RelatedObservation, SubObservation};
use crate::protocol::Protocol;
use jiff::Timestamp;
use std::collections::BTreeMap;

/// One attribute that a fact added or altered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeChange {
    /// Attribute name as in exports (`vendor`, `firmware`, `protocols`, ...).
    pub attribute: String,
    /// The value before, if there was one.
    pub old: Option<String>,
    /// The value now.
    pub new: String,
}

/// How an observation changed one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Change {
    /// The device was not in the inventory.
    New,
    /// The device was known, and an attribute was added or changed.
    Enriched,
    /// The device was known and nothing changed (only its last-seen time).
    Unchanged,
}

impl Change {
    /// The name used in the store and in exports.
    pub fn name(self) -> &'static str {
        match self {
            Change::New => "new",
            Change::Enriched => "enriched",
            Change::Unchanged => "unchanged",
        }
    }
}

/// The result of merging an observation into one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceChange {
    /// The device as it is after the merge.
    pub device: Device,
    /// New, enriched or unchanged.
    pub change: Change,
    /// The attributes added or altered, in the order the facts came.
    pub attributes: Vec<AttributeChange>,
    /// The protocol whose observation said so.
    pub source: Protocol,
}

/// Every device key an observation speaks of: the device, its sub-devices (parents first) and
/// the related devices it told about.
pub fn observation_keys(obs: &Observation) -> Vec<DeviceKey> {
    let root = DeviceKey::Ip(obs.address);
    let mut keys = vec![root.clone()];
    collect_child_keys(&root, &obs.children, &mut keys);
    for r in &obs.related {
        if !keys.contains(&r.key) {
            keys.push(r.key.clone());
        }
    }
    keys
}

/// The MAC addresses of the related devices known only by MAC, for looking up devices the
/// inventory already knows by address.
pub fn mac_only_keys(obs: &Observation) -> Vec<MacAddr> {
    obs.related
        .iter()
        .filter_map(|r| match r.key {
            DeviceKey::Mac(m) => Some(m),
            _ => None,
        })
        .collect()
}

/// Re-keys related devices known only by MAC to the device the inventory already has with that
/// MAC (`known`: MAC to key), in the related list and in the links, so that a switch's MAC
/// table enriches the device a PLC scan found rather than creating a second one.
pub fn resolve_macs(obs: &mut Observation, known: &BTreeMap<MacAddr, DeviceKey>) {
    let rekey = |key: &mut DeviceKey| {
        if let DeviceKey::Mac(m) = key
            && let Some(k) = known.get(m)
        {
            *key = k.clone();
        }
    };
    for r in &mut obs.related {
        rekey(&mut r.key);
    }
    for l in &mut obs.links {
        if let Some(remote) = &mut l.remote {
            rekey(remote);
        }
    }
}

/// The related devices with one entry per key (facts of repeated keys joined in order); facts
/// about the probed device itself go to `root_facts`.
fn fold_related(obs: &Observation, root: &DeviceKey) -> (Vec<Fact>, Vec<RelatedObservation>) {
    let mut root_facts = obs.facts.clone();
    let mut order: Vec<DeviceKey> = Vec::new();
    let mut by_key: BTreeMap<DeviceKey, Vec<Fact>> = BTreeMap::new();
    for r in &obs.related {
        if &r.key == root {
            root_facts.extend(r.facts.iter().cloned());
            continue;
        }
        let entry = by_key.entry(r.key.clone()).or_insert_with(|| {
            order.push(r.key.clone());
            Vec::new()
        });
        entry.extend(r.facts.iter().cloned());
    }
    let related = order
        .into_iter()
        .map(|key| {
            let facts = by_key.remove(&key).unwrap_or_default();
            RelatedObservation { key, facts }
        })
        .collect();
    (root_facts, related)
}

fn collect_child_keys(parent: &DeviceKey, children: &[SubObservation], out: &mut Vec<DeviceKey>) {
    for child in children {
        let key = parent.child(child.position.clone());
        out.push(key.clone());
        collect_child_keys(&key, &child.children, out);
    }
}

/// Merges `obs` into the `current` devices it names, without touching them.
///
/// Returns one [`DeviceChange`] per device the observation speaks of, parents before children.
/// Devices that `current` lacks are [`Change::New`].
pub fn merge(current: &BTreeMap<DeviceKey, Device>, obs: &Observation) -> Vec<DeviceChange> {
    let root = DeviceKey::Ip(obs.address);
    let (root_facts, related) = fold_related(obs, &root);
    let mut out = vec![merge_one(
        current,
        root.clone(),
        &root_facts,
        obs.source,
        obs.time,
    )];
    merge_children(current, &root, &obs.children, obs, &mut out);
    for r in related {
        if out.iter().any(|c| c.device.key == r.key) {
            // a related device that is also a sub-device of this observation: skip the echo
            continue;
        }
        out.push(merge_one(current, r.key, &r.facts, obs.source, obs.time));
    }
    out
}

fn merge_children(
    current: &BTreeMap<DeviceKey, Device>,
    parent: &DeviceKey,
    children: &[SubObservation],
    obs: &Observation,
    out: &mut Vec<DeviceChange>,
) {
    for child in children {
        let key = parent.child(child.position.clone());
        out.push(merge_one(
            current,
            key.clone(),
            &child.facts,
            obs.source,
            obs.time,
        ));
        merge_children(current, &key, &child.children, obs, out);
    }
}

fn merge_one(
    current: &BTreeMap<DeviceKey, Device>,
    key: DeviceKey,
    facts: &[Fact],
    source: Protocol,
    at: Timestamp,
) -> DeviceChange {
    let existing = current.get(&key);
    let mut device = existing
        .cloned()
        .unwrap_or_else(|| Device::new(key.clone(), at));
    device.last_seen = device.last_seen.max(at);
    let attributes: Vec<AttributeChange> = facts
        .iter()
        .filter_map(|f| f.apply(&mut device.attributes))
        .collect();
    let change = match (existing, attributes.is_empty()) {
        (None, _) => Change::New,
        (Some(_), false) => Change::Enriched,
        (Some(_), true) => Change::Unchanged,
    };
    DeviceChange {
        device,
        change,
        attributes,
        source,
    }
}

/// The devices and accumulated changes of one run, as observations arrive.
///
/// A device that a run first created stays [`Change::New`] however many observations follow; a
/// known device becomes [`Change::Enriched`] as soon as one of them changes it.
#[derive(Debug, Default)]
pub struct RunMerge {
    devices: BTreeMap<DeviceKey, Device>,
    changes: BTreeMap<DeviceKey, DeviceChange>,
}

impl RunMerge {
    /// Starts from the devices the store already holds for the keys the run will touch.
    pub fn new(current: BTreeMap<DeviceKey, Device>) -> RunMerge {
        RunMerge {
            devices: current,
            changes: BTreeMap::new(),
        }
    }

    /// Folds one observation in.
    pub fn absorb(&mut self, obs: &Observation) {
        for change in merge(&self.devices, obs) {
            let key = change.device.key.clone();
            self.devices.insert(key.clone(), change.device.clone());
            match self.changes.get_mut(&key) {
                None => {
                    self.changes.insert(key, change);
                }
                Some(acc) => {
                    acc.device = change.device;
                    acc.attributes.extend(change.attributes);
                    if acc.change == Change::Unchanged && change.change == Change::Enriched {
                        acc.change = Change::Enriched;
                    }
                }
            }
        }
    }

    /// The accumulated changes, one per device, parents before their sub-devices.
    pub fn into_changes(self) -> Vec<DeviceChange> {
        let mut changes: Vec<DeviceChange> = self.changes.into_values().collect();
        changes.sort_by_key(|c| depth(&c.device.key));
        changes
    }
}

fn depth(key: &DeviceKey) -> usize {
    match key.parent() {
        Some(parent) => 1 + depth(parent),
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::Position;

    fn ts(secs: i64) -> Timestamp {
        Timestamp::from_second(secs).unwrap()
    }

    fn obs(facts: Vec<Fact>, at: i64) -> Observation {
        let mut o = Observation::new("127.0.0.10".parse().unwrap(), Protocol::Modbus, ts(at));
        o.facts.extend(facts);
        o
    }

    #[test]
    fn unknown_device_is_new_with_every_attribute_recorded() {
        let changes = merge(
            &BTreeMap::new(),
            &obs(vec![Fact::Vendor("Wago".into())], 10),
        );
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].change, Change::New);
        let names: Vec<&str> = changes[0]
            .attributes
            .iter()
            .map(|a| a.attribute.as_str())
            .collect();
        assert_eq!(names, ["protocols", "vendor"]);
        assert_eq!(changes[0].device.first_seen, ts(10));
    }

    #[test]
    fn known_device_is_enriched_only_when_something_changes() {
        let first = merge(
            &BTreeMap::new(),
            &obs(vec![Fact::Vendor("Wago".into())], 10),
        );
        let mut current = BTreeMap::new();
        current.insert(first[0].device.key.clone(), first[0].device.clone());

        let same = merge(&current, &obs(vec![Fact::Vendor("Wago".into())], 20));
        assert_eq!(same[0].change, Change::Unchanged);
        assert_eq!(same[0].device.last_seen, ts(20));
        assert_eq!(same[0].device.first_seen, ts(10));

        let newer = merge(&current, &obs(vec![Fact::Firmware("03.10.08".into())], 30));
        assert_eq!(newer[0].change, Change::Enriched);
        assert_eq!(newer[0].attributes[0].attribute, "firmware");
    }

    #[test]
    fn sub_devices_get_keys_under_their_parent() {
        let mut o = obs(vec![], 10);
        o.children.push(SubObservation {
            position: Position::UnitId(17),
            facts: vec![Fact::ProductName("drive".into())],
            children: vec![],
        });
        let changes = merge(&BTreeMap::new(), &o);
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[1].device.key.to_string(), "ip:127.0.0.10/unit:17");
        assert_eq!(observation_keys(&o).len(), 2);
    }

    #[test]
    fn related_devices_merge_under_their_own_keys_once_each() {
        let mut o = obs(vec![Fact::Name("sw-1".into())], 10);
        let mac: MacAddr = "00:1b:1b:01:02:03".parse().unwrap();
        o.related.push(RelatedObservation {
            key: DeviceKey::Mac(mac),
            facts: vec![Fact::Mac(mac)],
        });
        o.related.push(RelatedObservation {
            key: DeviceKey::Mac(mac),
            facts: vec![Fact::MacVendor("Siemens AG".into())],
        });
        // an ARP entry for the switch's own address folds into the switch
        o.related.push(RelatedObservation {
            key: DeviceKey::Ip(o.address),
            facts: vec![Fact::Mac(mac)],
        });
        let changes = merge(&BTreeMap::new(), &o);
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].device.attributes.mac, Some(mac));
        assert_eq!(changes[1].device.key, DeviceKey::Mac(mac));
        assert_eq!(
            changes[1].device.attributes.mac_vendor.as_deref(),
            Some("Siemens AG")
        );
        assert_eq!(observation_keys(&o).len(), 2);
    }

    #[test]
    fn macs_the_inventory_knows_are_rekeyed_to_their_device() {
        let mut o = obs(vec![], 10);
        let mac: MacAddr = "00:1b:1b:01:02:03".parse().unwrap();
        o.related.push(RelatedObservation {
            key: DeviceKey::Mac(mac),
            facts: vec![Fact::Mac(mac)],
        });
        assert_eq!(mac_only_keys(&o), [mac]);
        let plc = DeviceKey::Ip("127.0.0.20".parse().unwrap());
        resolve_macs(&mut o, &BTreeMap::from([(mac, plc.clone())]));
        assert_eq!(o.related[0].key, plc);
    }

    #[test]
    fn a_run_keeps_new_devices_new_across_observations() {
        let mut run = RunMerge::new(BTreeMap::new());
        run.absorb(&obs(vec![Fact::Vendor("Wago".into())], 10));
        run.absorb(&obs(vec![Fact::Firmware("1".into())], 11));
        let changes = run.into_changes();
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].change, Change::New);
        assert_eq!(changes[0].attributes.len(), 3);
    }
}

//! SNMP v1/v2c agent side: a sorted MIB per switch, built from the plant, answering Get, GetNext
//! and GetBulk for the switch's community.
//!
//! Each switch has the system group, one ENTITY-MIB chassis row, IF-MIB rows for its ports, the
//! BRIDGE-MIB (base port to ifIndex, learned MACs by port), LLDP (local ports, the switch
//! neighbours on them, their management addresses), and the ARP table (ipNetToMedia): the core
//! switch (index 0) holds every plant device on its VLAN interface, an access switch its own
//! hosts.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::ops::Bound;

use otsensor_snmp::codec::{
    PduKind, TAG_GET, TAG_GET_BULK, TAG_GET_NEXT, emit_community_response, emit_response_pdu,
    parse_community_request,
};
use otsensor_snmp::{Oid, Value, VarBind};

use crate::plant::{Device, Kind, Plant};

/// One switch's MIB: object instances in lexicographic order.
#[derive(Debug, Clone, Default)]
pub struct Mib {
    community: Vec<u8>,
    objects: BTreeMap<Vec<u32>, Value>,
}

/// The ifIndex of the core switch's VLAN interface, where its ARP entries live.
pub const VLAN_IF_INDEX: u32 = 1000;

fn oid(prefix: &[u32], suffix: &[u32]) -> Vec<u32> {
    let mut o = prefix.to_vec();
    o.extend_from_slice(suffix);
    o
}

fn text(s: &str) -> Value {
    Value::OctetString(s.as_bytes().to_vec())
}

fn port_name(port: u16) -> String {
    format!("Port {port}")
}

impl Mib {
    fn set(&mut self, prefix: &[u32], suffix: &[u32], value: Value) {
        self.objects.insert(oid(prefix, suffix), value);
    }

    /// The MIB of switch `index` of the plant.
    pub fn for_switch(plant: &Plant, index: usize) -> Option<Mib> {
        let me = plant.devices.get(index)?;
        let Kind::Switch(sw) = &me.kind else {
            return None;
        };
        let mut mib = Mib {
            community: sw.community.as_bytes().to_vec(),
            objects: BTreeMap::new(),
        };
        let sys = [1, 3, 6, 1, 2, 1, 1];
        mib.set(&sys, &[1, 0], text(&sw.descr));
        mib.set(
            &sys,
            &[2, 0],
            Value::ObjectId(Oid::new(sw.object_id.clone())),
        );
        mib.set(&sys, &[3, 0], Value::TimeTicks(8_640_000));
        mib.set(&sys, &[4, 0], text("OT maintenance"));
        mib.set(&sys, &[5, 0], text(&me.hostname));
        mib.set(&sys, &[6, 0], text(&sw.location));
        mib.set(&sys, &[7, 0], Value::Integer(2));
        // ENTITY-MIB: the chassis
        let ent = [1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1];
        let row: [(u32, Value); 10] = [
            (2, text(&format!("{} {}", sw.vendor, sw.model))),
            (4, Value::Integer(0)),
            (5, Value::Integer(3)),
            (7, text(&sw.model)),
            (8, text("2")),
            (9, text(&sw.firmware)),
            (10, text(&sw.firmware)),
            (11, text(&sw.serial)),
            (12, text(&sw.vendor)),
            (13, text(&sw.model)),
        ];
        for (column, value) in row {
            mib.set(&ent, &[column, 1], value);
        }
        mib.add_interfaces(plant, index, me, sw.ports);
        mib.add_bridge(plant, index, me, sw.ports);
        mib.add_lldp(plant, index, sw.ports);
        // the core routes for the whole plant; an access switch knows its own hosts
        let hosts: Vec<&Device> = if index == 0 {
            plant.devices.iter().collect()
        } else {
            plant.attached_to(index).map(|(_, d)| d).collect()
        };
        mib.add_arp(&hosts, if index == 0 { VLAN_IF_INDEX } else { 1 });
        Some(mib)
    }

    fn add_interfaces(&mut self, plant: &Plant, index: usize, me: &Device, ports: u16) {
        let used: Vec<u16> = plant
            .attached_to(index)
            .map(|(p, _)| p)
            .chain(me.attached.map(|(_, _)| 1))
            .collect();
        let if_entry = [1, 3, 6, 1, 2, 1, 2, 2, 1];
        let ifx_entry = [1, 3, 6, 1, 2, 1, 31, 1, 1, 1];
        let mut rows: Vec<(u32, String, [u8; 6], bool)> = (1..=ports)
            .map(|p| {
                let mut mac = me.mac;
                mac[5] = mac[5].wrapping_add(p as u8);
                (u32::from(p), port_name(p), mac, used.contains(&p))
            })
            .collect();
        if index == 0 {
            rows.push((VLAN_IF_INDEX, "Vlan1".into(), me.mac, true));
        }
        for (if_index, name, mac, up) in rows {
            let i = [if_index];
            let kind = if if_index == VLAN_IF_INDEX { 53 } else { 6 };
            self.set(
                &if_entry,
                &[1, if_index],
                Value::Integer(i64::from(if_index)),
            );
            self.set(&if_entry, &[2, if_index], text(&name));
            self.set(&if_entry, &[3, if_index], Value::Integer(kind));
            self.set(&if_entry, &[5, if_index], Value::Gauge32(100_000_000));
            self.set(&if_entry, &[6, if_index], Value::OctetString(mac.to_vec()));
            self.set(&if_entry, &[7, if_index], Value::Integer(1));
            self.set(
                &if_entry,
                &[8, if_index],
                Value::Integer(if up { 1 } else { 2 }),
            );
            self.set(&ifx_entry, &[1, i[0]], text(&name));
            self.set(&ifx_entry, &[15, i[0]], Value::Gauge32(100));
            self.set(&ifx_entry, &[18, i[0]], text(""));
        }
    }

    fn add_bridge(&mut self, plant: &Plant, index: usize, me: &Device, ports: u16) {
        self.set(
            &[1, 3, 6, 1, 2, 1, 17, 1, 1],
            &[0],
            Value::OctetString(me.mac.to_vec()),
        );
        for p in 1..=u32::from(ports) {
            self.set(
                &[1, 3, 6, 1, 2, 1, 17, 1, 4, 1, 2],
                &[p],
                Value::Integer(i64::from(p)),
            );
        }
        let fdb = [1, 3, 6, 1, 2, 1, 17, 4, 3, 1];
        let mut learn = |mac: [u8; 6], port: u16| {
            let suffix: Vec<u32> = mac.iter().map(|&b| u32::from(b)).collect();
            self.set(&fdb, &oid(&[1], &suffix), Value::OctetString(mac.to_vec()));
            self.set(&fdb, &oid(&[2], &suffix), Value::Integer(i64::from(port)));
            self.set(&fdb, &oid(&[3], &suffix), Value::Integer(3));
        };
        for (port, device) in plant.attached_to(index) {
            learn(device.mac, port);
        }
        if let Some((core, _)) = me.attached
            && let Some(up) = plant.devices.get(core)
        {
            learn(up.mac, 1);
        }
    }

    fn add_lldp(&mut self, plant: &Plant, index: usize, ports: u16) {
        let loc = [1, 0, 8802, 1, 1, 2, 1, 3, 7, 1];
        for p in 1..=ports {
            let pi = u32::from(p);
            self.set(&loc, &[2, pi], Value::Integer(5));
            self.set(&loc, &[3, pi], text(&port_name(p)));
            self.set(&loc, &[4, pi], text(&port_name(p)));
        }
        // switch neighbours: the core sees each access switch on the access switch's core port;
        // an access switch sees the core on its port 1
        let me = &plant.devices[index];
        let mut neighbours: Vec<(u16, &Device, u16)> = plant
            .attached_to(index)
            .filter(|(_, d)| matches!(d.kind, Kind::Switch(_)))
            .map(|(local, d)| (local, d, 1))
            .collect();
        if let Some((core, core_port)) = me.attached
            && let Some(up) = plant.devices.get(core)
        {
            neighbours.push((1, up, core_port));
        }
        let rem = [1, 0, 8802, 1, 1, 2, 1, 4, 1, 1];
        let man = [1, 0, 8802, 1, 1, 2, 1, 4, 2, 1];
        for (local, device, remote_port) in neighbours {
            let Kind::Switch(sw) = &device.kind else {
                continue;
            };
            let key = [0, u32::from(local), 1];
            self.set(&rem, &oid(&[4], &key), Value::Integer(4));
            self.set(
                &rem,
                &oid(&[5], &key),
                Value::OctetString(device.mac.to_vec()),
            );
            self.set(&rem, &oid(&[6], &key), Value::Integer(5));
            self.set(&rem, &oid(&[7], &key), text(&port_name(remote_port)));
            self.set(&rem, &oid(&[8], &key), text(&port_name(remote_port)));
            self.set(&rem, &oid(&[9], &key), text(&device.hostname));
            self.set(&rem, &oid(&[10], &key), text(&sw.descr));
            self.set(
                &rem,
                &oid(&[11], &key),
                Value::OctetString(vec![0x28, 0x00]),
            );
            self.set(
                &rem,
                &oid(&[12], &key),
                Value::OctetString(vec![0x28, 0x00]),
            );
            let ip: Vec<u32> = device.ip.octets().iter().map(|&b| u32::from(b)).collect();
            let addr = oid(&oid(&key, &[1, 4]), &ip);
            self.set(&man, &oid(&[3], &addr), Value::Integer(2));
        }
    }

    fn add_arp(&mut self, hosts: &[&Device], if_index: u32) {
        let media = [1, 3, 6, 1, 2, 1, 4, 22, 1];
        for device in hosts {
            let ip: Vec<u32> = device.ip.octets().iter().map(|&b| u32::from(b)).collect();
            let suffix = oid(&[if_index], &ip);
            self.set(
                &media,
                &oid(&[1], &suffix),
                Value::Integer(i64::from(if_index)),
            );
            self.set(
                &media,
                &oid(&[2], &suffix),
                Value::OctetString(device.mac.to_vec()),
            );
            self.set(
                &media,
                &oid(&[3], &suffix),
                Value::IpAddress(device.ip.octets()),
            );
            self.set(&media, &oid(&[4], &suffix), Value::Integer(3));
        }
    }

    /// The number of object instances.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Whether the MIB is empty.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    fn next_after(&self, name: &[u32]) -> VarBind {
        match self
            .objects
            .range::<[u32], _>((Bound::Excluded(name), Bound::Unbounded))
            .next()
        {
            Some((k, v)) => VarBind {
                oid: Oid::new(k.clone()),
                value: v.clone(),
            },
            None => VarBind {
                oid: Oid::new(name.to_vec()),
                value: Value::EndOfMibView,
            },
        }
    }

    fn get(&self, name: &[u32]) -> VarBind {
        VarBind {
            oid: Oid::new(name.to_vec()),
            value: self
                .objects
                .get(name)
                .cloned()
                .unwrap_or(Value::NoSuchInstance),
        }
    }

    /// The response message to one request message; None: no answer (wrong community, garbage).
    pub fn answer(&self, message: &[u8]) -> Option<Vec<u8>> {
        let (version, community, request) = parse_community_request(message).ok()?;
        if community != self.community {
            return None;
        }
        let names: Vec<&[u32]> = request.oids.iter().map(Oid::as_slice).collect();
        let varbinds: Vec<VarBind> = match request.tag {
            TAG_GET => names.iter().map(|n| self.get(n)).collect(),
            TAG_GET_NEXT => names.iter().map(|n| self.next_after(n)).collect(),
            TAG_GET_BULK => {
                let non_repeaters = usize::try_from(request.second.max(0)).unwrap_or(0);
                let repetitions = usize::try_from(request.third.clamp(0, 100)).unwrap_or(0);
                let (single, repeating) = names.split_at(non_repeaters.min(names.len()));
                let mut out: Vec<VarBind> = single.iter().map(|n| self.next_after(n)).collect();
                let mut cursors: Vec<Vec<u32>> = repeating.iter().map(|n| n.to_vec()).collect();
                'rows: for _ in 0..repetitions {
                    let mut all_end = true;
                    for cursor in cursors.iter_mut() {
                        let vb = self.next_after(cursor);
                        all_end &= vb.value == Value::EndOfMibView;
                        *cursor = vb.oid.as_slice().to_vec();
                        out.push(vb);
                        if out.len() >= 60 {
                            break 'rows;
                        }
                    }
                    if all_end {
                        break;
                    }
                }
                out
            }
            _ => return None,
        };
        // SNMPv1 has no exceptions: noSuchName instead
        let pdu = if version.wire() == 0
            && let Some(i) = varbinds.iter().position(|v| v.value.is_exception())
        {
            let names: Vec<VarBind> = request
                .oids
                .iter()
                .map(|o| VarBind {
                    oid: o.clone(),
                    value: Value::Null,
                })
                .collect();
            emit_response_pdu(
                PduKind::Response,
                request.request_id,
                2,
                i as i64 + 1,
                &names,
            )
        } else {
            emit_response_pdu(PduKind::Response, request.request_id, 0, 0, &varbinds)
        };
        Some(emit_community_response(version, &community, &pdu))
    }
}

/// The addresses of the plant's switches with their MIBs.
pub fn agents(plant: &Plant) -> Vec<(Ipv4Addr, Mib)> {
    (0..plant.devices.len())
        .filter_map(|i| Mib::for_switch(plant, i).map(|m| (plant.devices[i].ip, m)))
        .collect()
}

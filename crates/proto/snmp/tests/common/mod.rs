//! A scripted SNMP agent on 127.0.0.1 for the tests of misbehaving agents and of the read-only
//! request list: it serves a small MIB (SNMPv1/v2c, and SNMPv3 at noAuthNoPriv with engine
//! discovery), misbehaves as told, and records every request it receives.

#![allow(dead_code)]

use otsensor_snmp::Oid;
use otsensor_snmp::codec::{
    PduKind, ReceivedRequest, TAG_GET, TAG_GET_BULK, TAG_GET_NEXT, Value, VarBind, Version,
    emit_community_response, emit_response_pdu, parse_community_request, peek_version,
};
use otsensor_snmp::v3::{self, MsgData, OutMessage, Scope, UsmParams};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::UdpSocket;

/// How the agent answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behavior {
    /// As a correct agent.
    Normal,
    /// GETNEXT/GETBULK return the name asked for (never increasing).
    NonIncreasing,
    /// GETNEXT/GETBULK of a table OID return its row 1, of row N row N+1: an endless walk.
    Endless,
    /// tooBig for any GETBULK asking more than this many varbinds.
    TooBigAbove(u32),
    /// Never answers.
    Silent,
    /// Answers every request with these bytes repeated (not SNMP).
    Garbage,
}

/// One request as received, with its version and community or context.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The message version.
    pub version: Version,
    /// Community (v1/v2c) or context name (v3).
    pub scope: String,
    /// The request.
    pub request: ReceivedRequest,
}

/// A running scripted agent.
pub struct Agent {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Every request it received.
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

/// The agent's engine ID (SNMPv3).
pub const ENGINE_ID: &[u8] = &[0x80, 0x00, 0x1f, 0x88, 0x80, 0x01, 0x02, 0x03, 0x04];

/// Starts an agent serving `mib`; `communities` are the v1/v2c communities (and v3 contexts) it
/// answers ("" answers every v3 context).
pub async fn start(mib: BTreeMap<Oid, Value>, behavior: Behavior, communities: &[&str]) -> Agent {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let state = Served {
        mib,
        behavior,
        communities: communities.iter().map(|c| c.to_string()).collect(),
        seen: seen.clone(),
    };
    tokio::spawn(async move {
        let mut buf = vec![0u8; 65_535];
        loop {
            let Ok((len, from)) = socket.recv_from(&mut buf).await else {
                return;
            };
            if let Some(reply) = state.answer(&buf[..len]) {
                let _ = socket.send_to(&reply, from).await;
            }
        }
    });
    Agent { addr, seen }
}

struct Served {
    mib: BTreeMap<Oid, Value>,
    behavior: Behavior,
    communities: Vec<String>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Served {
    fn answer(&self, data: &[u8]) -> Option<Vec<u8>> {
        match peek_version(data).ok()? {
            Version::V3 => self.answer_v3(data),
            _ => self.answer_community(data),
        }
    }

    fn answer_community(&self, data: &[u8]) -> Option<Vec<u8>> {
        let (version, community, request) = parse_community_request(data).ok()?;
        let community = String::from_utf8_lossy(&community).to_string();
        self.seen.lock().unwrap().push(Seen {
            version,
            scope: community.clone(),
            request: request.clone(),
        });
        if !self.communities.contains(&community) {
            return None;
        }
        if self.behavior == Behavior::Garbage {
            return Some([0xde, 0xad, 0xbe, 0xef].repeat(16));
        }
        let pdu = self.respond(version, &request)?;
        Some(emit_community_response(version, community.as_bytes(), &pdu))
    }

    fn answer_v3(&self, data: &[u8]) -> Option<Vec<u8>> {
        let msg = v3::parse_message(data).ok()?;
        let MsgData::Plain(scoped) = &msg.data else {
            return None;
        };
        let (scope, request) = v3::parse_scoped_request(scoped).ok()?;
        let context = String::from_utf8_lossy(&scope.name).to_string();
        self.seen.lock().unwrap().push(Seen {
            version: Version::V3,
            scope: context.clone(),
            request: request.clone(),
        });
        let usm = UsmParams {
            engine_id: ENGINE_ID.to_vec(),
            boots: 1,
            time: 100,
            user: msg.usm.user.clone(),
            auth: Vec::new(),
            privacy: Vec::new(),
        };
        let pdu = if msg.usm.engine_id.is_empty() {
            // discovery
            emit_response_pdu(
                PduKind::Report,
                request.request_id,
                0,
                0,
                &[VarBind {
                    oid: "1.3.6.1.6.3.15.1.1.4.0".parse().unwrap(),
                    value: Value::Counter32(1),
                }],
            )
        } else {
            if !self
                .communities
                .iter()
                .any(|c| c.is_empty() || *c == context)
            {
                return None;
            }
            self.respond(Version::V3, &request)?
        };
        let out = OutMessage {
            msg_id: msg.msg_id,
            flags: 0,
            usm,
            data: MsgData::Plain(v3::emit_scoped_raw(
                &Scope {
                    engine_id: ENGINE_ID.to_vec(),
                    name: scope.name,
                },
                &pdu,
            )),
        };
        Some(out.emit().0)
    }

    /// The response PDU to `request`.
    fn respond(&self, version: Version, request: &ReceivedRequest) -> Option<Vec<u8>> {
        let id = request.request_id;
        match (self.behavior, request.tag) {
            (Behavior::Silent, _) => None,
            (Behavior::TooBigAbove(n), TAG_GET_BULK)
                if request.third.max(0) as u64 * request.oids.len() as u64 > u64::from(n) =>
            {
                Some(emit_response_pdu(PduKind::Response, id, 1, 0, &[]))
            }
            (_, TAG_GET) => {
                let mut out = Vec::new();
                for (i, oid) in request.oids.iter().enumerate() {
                    match self.mib.get(oid) {
                        Some(v) => out.push(VarBind {
                            oid: oid.clone(),
                            value: v.clone(),
                        }),
                        None if version == Version::V1 => {
                            return Some(emit_response_pdu(
                                PduKind::Response,
                                id,
                                2,
                                i as i64 + 1,
                                &request
                                    .oids
                                    .iter()
                                    .map(|o| VarBind {
                                        oid: o.clone(),
                                        value: Value::Null,
                                    })
                                    .collect::<Vec<_>>(),
                            ));
                        }
                        None => out.push(VarBind {
                            oid: oid.clone(),
                            value: Value::NoSuchObject,
                        }),
                    }
                }
                Some(emit_response_pdu(PduKind::Response, id, 0, 0, &out))
            }
            (_, TAG_GET_NEXT) => {
                let mut out = Vec::new();
                for (i, oid) in request.oids.iter().enumerate() {
                    match self.next(oid) {
                        Some(vb) => out.push(vb),
                        None => {
                            return Some(emit_response_pdu(
                                PduKind::Response,
                                id,
                                2,
                                i as i64 + 1,
                                &[],
                            ));
                        }
                    }
                }
                Some(emit_response_pdu(PduKind::Response, id, 0, 0, &out))
            }
            (_, TAG_GET_BULK) => {
                let reps = request.third.clamp(0, 1000) as usize;
                let mut cursors = request.oids.clone();
                let mut out = Vec::new();
                for _ in 0..reps {
                    for cursor in cursors.iter_mut() {
                        match self.next(cursor) {
                            Some(vb) => {
                                *cursor = vb.oid.clone();
                                out.push(vb);
                            }
                            None => out.push(VarBind {
                                oid: cursor.clone(),
                                value: Value::EndOfMibView,
                            }),
                        }
                    }
                }
                Some(emit_response_pdu(PduKind::Response, id, 0, 0, &out))
            }
            _ => None,
        }
    }

    fn next(&self, oid: &Oid) -> Option<VarBind> {
        match self.behavior {
            Behavior::NonIncreasing => Some(VarBind {
                oid: oid.clone(),
                value: Value::Integer(1),
            }),
            Behavior::Endless => {
                let mut next = oid.as_slice().to_vec();
                let in_table = next.len() > 9;
                match next.last_mut() {
                    Some(last) if in_table => *last += 1,
                    _ => next.push(1),
                }
                Some(VarBind {
                    oid: Oid::new(next),
                    value: Value::Integer(1),
                })
            }
            _ => self
                .mib
                .range((
                    std::ops::Bound::Excluded(oid.clone()),
                    std::ops::Bound::Unbounded,
                ))
                .next()
                .map(|(o, v)| VarBind {
                    oid: o.clone(),
                    value: v.clone(),
                }),
        }
    }
}

fn oid(s: &str) -> Oid {
    s.parse().unwrap()
}

fn text(s: &str) -> Value {
    Value::OctetString(s.as_bytes().to_vec())
}

/// A small Cisco-like switch: system group, two interfaces, one chassis entity, a bridge with
/// two learned MACs, ARP for one of them, one LLDP neighbour, one CDP neighbour and a VTP VLAN.
pub fn switch_mib() -> BTreeMap<Oid, Value> {
    let mut m = BTreeMap::new();
    let mut put = |o: &str, v: Value| {
        m.insert(oid(o), v);
    };
    put(
        "1.3.6.1.2.1.1.1.0",
        text(
            "Cisco IOS Software, C2960 Software (C2960-LANBASEK9-M), Version 15.0(2)SE11, RELEASE SOFTWARE (fc3)",
        ),
    );
    put(
        "1.3.6.1.2.1.1.2.0",
        Value::ObjectId(oid("1.3.6.1.4.1.9.1.1208")),
    );
    put("1.3.6.1.2.1.1.3.0", Value::TimeTicks(12345));
    put("1.3.6.1.2.1.1.4.0", text("ot-team"));
    put("1.3.6.1.2.1.1.5.0", text("cell-3-sw"));
    put("1.3.6.1.2.1.1.6.0", text("Hall 3"));
    put("1.3.6.1.2.1.1.7.0", Value::Integer(2));
    for i in [1u32, 2] {
        put(
            &format!("1.3.6.1.2.1.2.2.1.1.{i}"),
            Value::Integer(i64::from(i)),
        );
        put(
            &format!("1.3.6.1.2.1.2.2.1.2.{i}"),
            text(&format!("GigabitEthernet0/{i}")),
        );
        put(&format!("1.3.6.1.2.1.2.2.1.3.{i}"), Value::Integer(6));
        put(
            &format!("1.3.6.1.2.1.2.2.1.5.{i}"),
            Value::Gauge32(1_000_000_000),
        );
        put(
            &format!("1.3.6.1.2.1.2.2.1.6.{i}"),
            Value::OctetString(vec![0, 0x1e, 0x13, 0, 0, i as u8]),
        );
        put(&format!("1.3.6.1.2.1.2.2.1.7.{i}"), Value::Integer(1));
        put(&format!("1.3.6.1.2.1.2.2.1.8.{i}"), Value::Integer(1));
        put(
            &format!("1.3.6.1.2.1.31.1.1.1.1.{i}"),
            text(&format!("Gi0/{i}")),
        );
        put(
            &format!("1.3.6.1.2.1.31.1.1.1.18.{i}"),
            text(if i == 1 { "PLC-1" } else { "uplink" }),
        );
        put(
            &format!("1.3.6.1.2.1.17.1.4.1.2.{i}"),
            Value::Integer(i64::from(i)),
        );
    }
    put("1.3.6.1.2.1.47.1.1.1.1.2.1001", text("WS-C2960-24TT-L"));
    put("1.3.6.1.2.1.47.1.1.1.1.5.1001", Value::Integer(3));
    put("1.3.6.1.2.1.47.1.1.1.1.11.1001", text("FOC1234X0AB"));
    put("1.3.6.1.2.1.47.1.1.1.1.13.1001", text("WS-C2960-24TT-L"));
    put(
        "1.3.6.1.2.1.17.1.1.0",
        Value::OctetString(vec![0, 0x1e, 0x13, 0, 0, 0xff]),
    );
    // a Siemens PLC on Gi0/1, and a host behind the uplink Gi0/2
    put("1.3.6.1.2.1.17.4.3.1.2.0.27.27.1.2.3", Value::Integer(1));
    put("1.3.6.1.2.1.17.4.3.1.3.0.27.27.1.2.3", Value::Integer(3));
    put("1.3.6.1.2.1.17.4.3.1.2.0.80.86.1.2.3", Value::Integer(2));
    put("1.3.6.1.2.1.17.4.3.1.3.0.80.86.1.2.3", Value::Integer(3));
    put(
        "1.3.6.1.2.1.4.22.1.2.1.10.0.0.5",
        Value::OctetString(vec![0, 27, 27, 1, 2, 3]),
    );
    put("1.3.6.1.2.1.4.22.1.4.1.10.0.0.5", Value::Integer(3));
    // LLDP: a bridge on local port 2 with a management address
    put("1.0.8802.1.1.2.1.3.7.1.2.2", Value::Integer(5));
    put("1.0.8802.1.1.2.1.3.7.1.3.2", text("Gi0/2"));
    put("1.0.8802.1.1.2.1.4.1.1.4.0.2.1", Value::Integer(4));
    put(
        "1.0.8802.1.1.2.1.4.1.1.5.0.2.1",
        Value::OctetString(vec![0, 0x1e, 0x13, 9, 9, 9]),
    );
    put("1.0.8802.1.1.2.1.4.1.1.7.0.2.1", text("Gi1/0/24"));
    put("1.0.8802.1.1.2.1.4.1.1.9.0.2.1", text("core-1"));
    put(
        "1.0.8802.1.1.2.1.4.1.1.12.0.2.1",
        Value::OctetString(vec![0x20]),
    );
    put(
        "1.0.8802.1.1.2.1.4.2.1.3.0.2.1.1.4.10.0.0.1",
        Value::Integer(2),
    );
    // CDP: the same core switch
    put("1.3.6.1.4.1.9.9.23.1.2.1.1.3.2.1", Value::Integer(1));
    put(
        "1.3.6.1.4.1.9.9.23.1.2.1.1.4.2.1",
        Value::OctetString(vec![10, 0, 0, 1]),
    );
    put("1.3.6.1.4.1.9.9.23.1.2.1.1.6.2.1", text("core-1"));
    put(
        "1.3.6.1.4.1.9.9.23.1.2.1.1.7.2.1",
        text("GigabitEthernet1/0/24"),
    );
    put(
        "1.3.6.1.4.1.9.9.23.1.2.1.1.8.2.1",
        text("cisco WS-C3850-24T"),
    );
    put(
        "1.3.6.1.4.1.9.9.23.1.2.1.1.9.2.1",
        Value::OctetString(vec![0, 0, 0, 0x29]),
    );
    // VTP: VLAN 1 and 20, both operational
    put("1.3.6.1.4.1.9.9.46.1.3.1.1.2.1.1", Value::Integer(1));
    put("1.3.6.1.4.1.9.9.46.1.3.1.1.2.1.20", Value::Integer(1));
    m
}

//! BACnet/IP server side: Who-Is / I-Am, ReadProperty and ReadPropertyMultiple of the Device
//! object, and for a router Who-Is-Router-To-Network / I-Am-Router-To-Network and the delivery
//! of requests to the devices of its networks (DNET/DADR in, SNET/SADR out). Messages are
//! decoded and encoded with the otsensor BACnet codec.

use otsensor_bacnet::RemoteAddress;
use otsensor_bacnet::codec::apdu::{self, Apdu, BacnetError};
use otsensor_bacnet::codec::npdu::{self, NetworkMessage, Npci, Nsdu};
use otsensor_bacnet::codec::service::{
    IAm, ObjectResults, PropertyId, PropertyResult, ReadProperty, ReadPropertyAck,
    ReadPropertyMultiple, ReadPropertyMultipleAck, Segmentation, WhoIs,
};
use otsensor_bacnet::codec::{bvlc, tag::ObjectId, tag::Value};

use crate::plant::{BacnetDevice, BacnetIdent};

fn property(ident: &BacnetIdent, p: PropertyId) -> Option<Value> {
    let text = |s: &str| Some(Value::CharacterString(s.to_string()));
    match p {
        PropertyId::OBJECT_IDENTIFIER => Some(Value::ObjectId(ObjectId::device(ident.instance))),
        PropertyId::OBJECT_NAME => text(&ident.object_name),
        PropertyId::VENDOR_NAME => text(&ident.vendor_name),
        PropertyId::VENDOR_IDENTIFIER => Some(Value::Unsigned(u64::from(ident.vendor_id))),
        PropertyId::MODEL_NAME => text(&ident.model),
        PropertyId::FIRMWARE_REVISION => text(&ident.firmware),
        PropertyId::APPLICATION_SOFTWARE_VERSION => text(&ident.application),
        PropertyId::LOCATION => text(&ident.location),
        PropertyId::DESCRIPTION => text(&ident.description),
        PropertyId::PROTOCOL_REVISION => Some(Value::Unsigned(14)),
        PropertyId(79) => Some(Value::Enumerated(8)), // object-type: device
        PropertyId(112) => Some(Value::Enumerated(0)), // system-status: operational
        _ => None,
    }
}

fn is_me(ident: &BacnetIdent, object: ObjectId) -> bool {
    object.is_device()
        && (object.instance == ident.instance || object.instance == ObjectId::MAX_INSTANCE)
}

/// The APDU a device answers to `apdu`, if any.
fn device_apdu(ident: &BacnetIdent, apdu_bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    match apdu::parse(apdu_bytes).ok()? {
        Apdu::UnconfirmedRequest { service: 8, data } => {
            let who = WhoIs::parse(data).ok()?;
            if let Some((low, high)) = who.limits
                && !(low..=high).contains(&ident.instance)
            {
                return None;
            }
            let mut data = Vec::new();
            IAm {
                device: ObjectId::device(ident.instance),
                max_apdu: 1476,
                segmentation: Segmentation(3),
                vendor_id: u32::from(ident.vendor_id),
            }
            .emit(&mut data);
            apdu::emit_unconfirmed_request(0, &data, &mut out);
        }
        Apdu::ConfirmedRequest {
            invoke_id,
            service: 12,
            data,
            ..
        } => {
            let rp = ReadProperty::parse(data).ok()?;
            let error = |class, code| BacnetError { class, code };
            if !is_me(ident, rp.object) {
                apdu::emit_error(
                    invoke_id,
                    12,
                    error(BacnetError::CLASS_OBJECT, BacnetError::UNKNOWN_OBJECT),
                    &mut out,
                );
            } else if let Some(v) = property(ident, rp.property) {
                let mut data = Vec::new();
                ReadPropertyAck {
                    object: ObjectId::device(ident.instance),
                    property: rp.property,
                    array_index: None,
                    values: vec![v],
                }
                .emit(&mut data);
                apdu::emit_complex_ack(invoke_id, 12, &data, &mut out);
            } else {
                apdu::emit_error(
                    invoke_id,
                    12,
                    error(BacnetError::CLASS_PROPERTY, BacnetError::UNKNOWN_PROPERTY),
                    &mut out,
                );
            }
        }
        Apdu::ConfirmedRequest {
            invoke_id,
            service: 14,
            data,
            ..
        } => {
            let rpm = ReadPropertyMultiple::parse(data).ok()?;
            if !is_me(ident, rpm.object) {
                let e = BacnetError {
                    class: BacnetError::CLASS_OBJECT,
                    code: BacnetError::UNKNOWN_OBJECT,
                };
                apdu::emit_error(invoke_id, 14, e, &mut out);
                return Some(out);
            }
            let results = rpm
                .properties
                .iter()
                .map(|&p| PropertyResult {
                    property: p,
                    array_index: None,
                    value: property(ident, p).map(|v| vec![v]).ok_or(BacnetError {
                        class: BacnetError::CLASS_PROPERTY,
                        code: BacnetError::UNKNOWN_PROPERTY,
                    }),
                })
                .collect();
            let mut data = Vec::new();
            ReadPropertyMultipleAck {
                objects: vec![ObjectResults {
                    object: ObjectId::device(ident.instance),
                    results,
                }],
            }
            .emit(&mut data);
            apdu::emit_complex_ack(invoke_id, 14, &data, &mut out);
        }
        _ => return None,
    }
    Some(out)
}

fn datagram(npci: &Npci, network_message: bool, body: &[u8]) -> Vec<u8> {
    let mut npdu = Vec::new();
    npci.emit(network_message, &mut npdu);
    npdu.extend_from_slice(body);
    bvlc::emit_original_unicast(&npdu)
}

fn from(source: Option<RemoteAddress>) -> Npci {
    Npci {
        source,
        ..Npci::default()
    }
}

/// The datagrams a device (or router) answers to one datagram.
pub fn answer(device: &BacnetDevice, datagram_in: &[u8]) -> Vec<Vec<u8>> {
    let Ok(bvlc::Bvlc::Npdu { npdu, .. }) = bvlc::parse(datagram_in) else {
        return Vec::new();
    };
    let Ok((npci, nsdu)) = npdu::parse(npdu) else {
        return Vec::new();
    };
    let networks: Vec<u16> = {
        let mut n: Vec<u16> = device.routed.iter().map(|(net, _, _)| *net).collect();
        n.dedup();
        n
    };
    match (nsdu, npci.destination) {
        (Nsdu::Message(NetworkMessage::WhoIsRouterToNetwork(asked)), _) => {
            if networks.is_empty() || asked.is_some_and(|n| !networks.contains(&n)) {
                return Vec::new();
            }
            let mut body = Vec::new();
            NetworkMessage::IAmRouterToNetwork(networks).emit(&mut body);
            vec![datagram(&Npci::default(), true, &body)]
        }
        (Nsdu::Message(_), _) => Vec::new(),
        (Nsdu::Apdu(a), None) => device_apdu(&device.ident, a)
            .map(|reply| vec![datagram(&from(None), false, &reply)])
            .unwrap_or_default(),
        (Nsdu::Apdu(a), Some(dest)) => device
            .routed
            .iter()
            .filter(|(net, mac, _)| {
                (*net == dest.network || dest.network == 0xFFFF)
                    && (dest.mac.is_empty() || dest.mac == [*mac])
            })
            .filter_map(|(net, mac, ident)| {
                let reply = device_apdu(ident, a)?;
                let source = RemoteAddress::station(*net, &[*mac]);
                Some(datagram(&from(Some(source)), false, &reply))
            })
            .collect(),
    }
}

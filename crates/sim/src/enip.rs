//! EtherNet/IP server side: List Identity (TCP and UDP), RegisterSession, UnRegisterSession, and
//! SendRRData carrying Identity Get_Attributes_All, locally or through Unconnected Send to a
//! backplane slot. Requests are decoded with the client codec's own allow-list parser
//! ([`otsensor_enip::codec::parse_request`]), so the simulator understands exactly what
//! otsensor may send; anything else closes the connection.

use std::net::Ipv4Addr;

use otsensor_enip::codec::{CipRead, Header, Request, parse_request};

use crate::plant::{EnipDevice, EnipIdent};

/// The session handle the simulator hands out.
const SESSION: u32 = 0x5151_0001;

fn identity_attributes(ident: &EnipIdent, out: &mut Vec<u8>) {
    out.extend_from_slice(&ident.vendor_id.to_le_bytes());
    out.extend_from_slice(&ident.device_type.to_le_bytes());
    out.extend_from_slice(&ident.product_code.to_le_bytes());
    out.extend_from_slice(&[ident.revision.0, ident.revision.1]);
    out.extend_from_slice(&ident.status.to_le_bytes());
    out.extend_from_slice(&ident.serial.to_le_bytes());
    let name = &ident.name.as_bytes()[..ident.name.len().min(255)];
    out.push(name.len() as u8);
    out.extend_from_slice(name);
}

/// The data of a List Identity reply for the device at `ip`.
pub fn list_identity_data(device: &EnipDevice, ip: Ipv4Addr) -> Vec<u8> {
    let mut body = 1u16.to_le_bytes().to_vec();
    body.extend_from_slice(&2u16.to_be_bytes());
    body.extend_from_slice(&44818u16.to_be_bytes());
    body.extend_from_slice(&ip.octets());
    body.extend_from_slice(&[0; 8]);
    identity_attributes(&device.ident, &mut body);
    body.push(device.ident.state);
    let mut data = 1u16.to_le_bytes().to_vec();
    data.extend_from_slice(&0x000Cu16.to_le_bytes());
    data.extend_from_slice(&(body.len() as u16).to_le_bytes());
    data.extend(body);
    data
}

fn frame(command: u16, session: u32, context: [u8; 8], data: &[u8]) -> Vec<u8> {
    let header = Header {
        command,
        length: data.len() as u16,
        session,
        status: 0,
        context,
        options: 0,
    };
    let mut out = header.emit().to_vec();
    out.extend_from_slice(data);
    out
}

fn cip_reply(device: &EnipDevice, read: CipRead, route_slot: Option<u8>) -> Vec<u8> {
    let target = match route_slot {
        None => Some(&device.ident),
        Some(slot) => device
            .slots
            .iter()
            .find(|(s, _)| *s == slot)
            .map(|(_, ident)| ident),
    };
    match (target, read) {
        (Some(ident), CipRead::IdentityAll) => {
            let mut out = vec![0x81, 0, 0, 0];
            identity_attributes(ident, &mut out);
            out
        }
        (Some(_), CipRead::Port { .. }) => vec![0x8E, 0, 0x16, 0],
        // the router (Connection Manager) answers: connection failure, link address not valid
        (None, _) => {
            let mut out = vec![0xD2, 0, 0x01, 1];
            out.extend_from_slice(&0x0312u16.to_le_bytes());
            out
        }
    }
}

/// The answer to one request frame over TCP; None: close the connection.
pub fn answer(device: &EnipDevice, ip: Ipv4Addr, request: &[u8]) -> Option<Vec<u8>> {
    let (header, request) = parse_request(request).ok()?;
    match request {
        Request::ListIdentity => Some(frame(
            0x63,
            0,
            header.context,
            &list_identity_data(device, ip),
        )),
        Request::RegisterSession => Some(frame(0x65, SESSION, header.context, &[1, 0, 0, 0])),
        Request::UnRegisterSession => None,
        Request::Cip(cip) => {
            if header.session != SESSION {
                return None;
            }
            let reply = match cip.route.0.as_slice() {
                [] => cip_reply(device, cip.read, None),
                [hop] if hop.port == 1 && !device.slots.is_empty() => {
                    cip_reply(device, cip.read, Some(hop.link))
                }
                // no backplane, or a route further than one hop: nobody there
                _ => cip_reply(
                    &EnipDevice {
                        ident: device.ident.clone(),
                        slots: Vec::new(),
                    },
                    cip.read,
                    Some(u8::MAX),
                ),
            };
            let mut data = vec![0; 6];
            data.extend_from_slice(&2u16.to_le_bytes());
            data.extend_from_slice(&[0, 0, 0, 0]);
            data.extend_from_slice(&0x00B2u16.to_le_bytes());
            data.extend_from_slice(&(reply.len() as u16).to_le_bytes());
            data.extend(reply);
            Some(frame(0x6F, SESSION, header.context, &data))
        }
    }
}

/// The answer to a UDP datagram: List Identity only.
pub fn answer_udp(device: &EnipDevice, ip: Ipv4Addr, datagram: &[u8]) -> Option<Vec<u8>> {
    let (header, request) = parse_request(datagram).ok()?;
    matches!(request, Request::ListIdentity)
        .then(|| frame(0x63, 0, header.context, &list_identity_data(device, ip)))
}

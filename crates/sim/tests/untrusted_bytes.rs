//! Every server-side handler of the simulator takes whatever bytes a client sends: none may
//! panic, and each answers well-formed requests of its protocol.

use otsensor_sim::plant::{Kind, Plant, PlantConfig};
use otsensor_sim::{bacnet, dns, enip, modbus, s7, snmp};
use proptest::prelude::*;

fn plant() -> Plant {
    Plant::generate(&PlantConfig {
        devices: 24,
        net: "127.32.1.0/24".parse().unwrap(),
        seed: 5,
    })
    .unwrap()
}

fn every_handler(plant: &Plant, bytes: &[u8]) {
    let zone = dns::Zone::of(plant);
    let _ = zone.answer(bytes);
    for (_, mib) in snmp::agents(plant) {
        let _ = mib.answer(bytes);
    }
    for device in &plant.devices {
        match &device.kind {
            Kind::Modbus(m) => {
                let _ = modbus::reply(m, bytes.first().copied().unwrap_or(0), bytes);
            }
            Kind::S7(s) => {
                let _ = s7::answer(s, bytes);
            }
            Kind::Enip(e) => {
                let _ = enip::answer(e, device.ip, bytes);
                let _ = enip::answer_udp(e, device.ip, bytes);
            }
            Kind::Bacnet(b) => {
                let _ = bacnet::answer(b, bytes);
            }
            Kind::Switch(_) => {}
        }
    }
}

proptest! {
    #[test]
    fn no_handler_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        every_handler(&plant(), &bytes);
    }

    #[test]
    fn no_handler_panics_on_mutated_requests(flip in 0usize..64, value in any::<u8>(), cut in 0usize..64) {
        let plant = plant();
        // real request frames, one byte changed and cut short
        let requests: [&[u8]; 5] = [
            &[0x2B, 0x0E, 0x01, 0x00],
            &[0x11, 0xE0, 0, 0, 0, 1, 0, 0xC0, 1, 0x0A, 0xC1, 2, 1, 0, 0xC2, 2, 1, 2],
            &[0x63, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            &[0x81, 0x0A, 0x00, 0x08, 0x01, 0x00, 0x10, 0x08],
            &[0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 1, b'7', 1, b'0', 0, 0, 12, 0, 1],
        ];
        for r in requests {
            let mut bytes = r.to_vec();
            if let Some(b) = bytes.get_mut(flip % r.len()) {
                *b = value;
            }
            bytes.truncate(bytes.len().saturating_sub(cut % 8));
            every_handler(&plant, &bytes);
        }
    }
}

#[test]
fn a_who_is_gets_an_i_am_and_a_list_identity_gets_the_identity() {
    let plant = plant();
    let bac = plant.of_kind("bacnet").next().unwrap();
    let Kind::Bacnet(b) = &bac.kind else {
        unreachable!()
    };
    // BVLC original unicast, NPDU version 1 no control, unconfirmed Who-Is
    let replies = bacnet::answer(b, &[0x81, 0x0A, 0x00, 0x08, 0x01, 0x00, 0x10, 0x08]);
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0][..2], [0x81, 0x0A]);
    let en = plant.of_kind("enip").next().unwrap();
    let Kind::Enip(e) = &en.kind else {
        unreachable!()
    };
    let reply = enip::answer_udp(
        e,
        en.ip,
        &[
            0x63, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ],
    )
    .unwrap();
    let name = e.ident.name.as_bytes();
    assert!(reply.windows(name.len()).any(|w| w == name));
}

//! Fuzzes the SNMP decoders: community messages, SNMPv3 messages and their scoped PDUs, the
//! privacy decryptions, and the table decoders over whatever values come out.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otsensor_snmp::codec::{parse_community, peek_version};
use otsensor_snmp::mib;
use otsensor_snmp::usm::PrivProtocol;
use otsensor_snmp::v3::{MsgData, parse_message, parse_scoped_pdu};
use otsensor_snmp::walk::Walked;

fuzz_target!(|data: &[u8]| {
    let _ = peek_version(data);
    if let Ok(msg) = parse_community(data) {
        // the varbinds as one column of every table decoder
        let column: Vec<(Vec<u32>, _)> = msg
            .pdu
            .varbinds
            .iter()
            .map(|vb| (vb.oid.as_slice().to_vec(), vb.value.clone()))
            .collect();
        for width in [1usize, 2, 3, 4, 7, 9, 10, 13] {
            let walked = Walked {
                columns: vec![column.clone(); width],
                notes: Vec::new(),
            };
            let _ = mib::entities(&walked);
            let _ = mib::interfaces(&walked);
            let _ = mib::arp_entries(&walked);
            let _ = mib::bridge_fdb(&walked, mib::FdbSource::Bridge);
            let _ = mib::qbridge_fdb(&walked, &Default::default());
            let _ = mib::lldp_neighbors(&walked);
            let _ = mib::cdp_neighbors(&walked);
            let _ = mib::vtp_vlans(&walked);
        }
    }
    if let Ok(msg) = parse_message(data) {
        match msg.data {
            MsgData::Plain(scoped) => {
                let _ = parse_scoped_pdu(&scoped);
            }
            MsgData::Encrypted(bytes) => {
                for p in PrivProtocol::ALL {
                    if let Ok(plain) = p.decrypt(&[7u8; 32], msg.usm.boots, msg.usm.time, &msg.usm.privacy, &bytes) {
                        let _ = parse_scoped_pdu(&plain);
                    }
                }
            }
        }
    }
    let _ = parse_scoped_pdu(data);
});

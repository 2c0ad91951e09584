//! Fuzzes the BACnet/IP decoder: BVLC, NPDU (network messages, remote addresses) and APDU, then
//! the service answers the client reads (I-Am, ReadProperty-ACK, ReadPropertyMultiple-ACK, errors).
#![no_main]

use libfuzzer_sys::fuzz_target;
use otsensor_bacnet::Request;
use otsensor_bacnet::codec::apdu::{self, Apdu, BacnetError};
use otsensor_bacnet::codec::service::{IAm, ReadPropertyAck, ReadPropertyMultipleAck};
use otsensor_bacnet::codec::{Body, Incoming};

fuzz_target!(|data: &[u8]| {
    if let Ok(incoming) = Incoming::parse(data) {
        if let Some(source) = &incoming.npci.source {
            let _ = source.mac_hex();
        }
        if let Body::Apdu(apdu) = incoming.body {
            decode_apdu(&apdu);
        }
    }
    let _ = Request::parse_frame(data);
    // The APDU layer and the service answers on their own.
    if let Ok(apdu) = apdu::parse(data) {
        decode_apdu(&apdu);
    }
    decode_services(data);
});

fn decode_apdu(apdu: &Apdu<'_>) {
    match apdu {
        Apdu::UnconfirmedRequest { data, .. } | Apdu::ComplexAck { data, .. } => {
            decode_services(data)
        }
        Apdu::Error { error, .. } => {
            let _ = (error.class_name(), error.code_name());
        }
        Apdu::Reject { reason, .. } => {
            let _ = reason.name();
        }
        Apdu::Abort { reason, .. } => {
            let _ = reason.name();
        }
        _ => {}
    }
}

fn decode_services(data: &[u8]) {
    if let Ok(i_am) = IAm::parse(data) {
        let _ = i_am.device.is_device();
    }
    if let Ok(ack) = ReadPropertyAck::parse(data) {
        for value in &ack.values {
            let _ = (value.as_text(), value.as_unsigned());
        }
    }
    if let Ok(ack) = ReadPropertyMultipleAck::parse(data) {
        for object in &ack.objects {
            for result in &object.results {
                if let Ok(values) = &result.value {
                    for value in values {
                        let _ = format!("{value:?}");
                    }
                }
            }
        }
    }
    let _ = BacnetError::parse(data);
}

//! Fuzzes the Modbus/TCP decoder: an MBAP header and a response PDU to each kind of request.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otsensor_modbus::DeviceIdentification;
use otsensor_modbus::codec::{MBAP_LEN, MbapHeader, ReadDeviceIdCode, Request, parse_response};

fuzz_target!(|data: &[u8]| {
    let Some((head, pdu)) = data.split_first_chunk::<MBAP_LEN>() else {
        return;
    };
    if let Ok(header) = MbapHeader::parse(head) {
        assert!(header.pdu_len() <= 253);
    }
    let requests = [
        Request::ReportServerId,
        Request::ReadDeviceId {
            code: ReadDeviceIdCode::Basic,
            object_id: 0,
        },
        Request::ReadDeviceId {
            code: ReadDeviceIdCode::Extended,
            object_id: 0x80,
        },
    ];
    for request in requests {
        if let Ok(otsensor_modbus::Response::DeviceId(r)) = parse_response(&request, pdu) {
            let mut ident = DeviceIdentification::default();
            ident.absorb(&r);
            for id in 0..=255u8 {
                let _ = ident.text(id);
            }
        }
    }
});

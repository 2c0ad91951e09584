//! Fuzzes the EtherNet/IP decoder: the encapsulation header, List Identity replies, SendRRData
//! replies and the CIP Message Router replies inside them (Identity, Port attributes, routed).
#![no_main]

use libfuzzer_sys::fuzz_target;
use otsensor_enip::codec::{
    CipRead, CipRequest, HEADER_LEN, Header, PortAttribute, Route, RouteTimeout, parse_cip_reply,
    parse_identity_all, parse_list_identity, parse_send_rr_data, parse_uint,
};
use otsensor_enip::probe::{identity_facts, list_identity_facts};

fuzz_target!(|data: &[u8]| {
    if let Some((head, body)) = data.split_first_chunk::<HEADER_LEN>() {
        if let Ok(header) = Header::parse(head) {
            assert_eq!(Header::parse(&header.emit()).ok(), Some(header));
        }
        decode_body(body);
    }
    decode_body(data);
});

fn decode_body(body: &[u8]) {
    if let Ok(li) = parse_list_identity(body) {
        let _ = li.identity.serial_hex();
        let _ = list_identity_facts(&li);
    }
    if let Ok(cip) = parse_send_rr_data(body) {
        decode_cip(cip);
    }
    decode_cip(body);
}

fn decode_cip(bytes: &[u8]) {
    let timeout = RouteTimeout::from_millis(1000);
    let requests = [
        CipRequest {
            route: Route::local(),
            read: CipRead::IdentityAll,
            route_timeout: timeout,
        },
        CipRequest {
            route: Route::slot(2),
            read: CipRead::IdentityAll,
            route_timeout: timeout,
        },
        CipRequest {
            route: Route::local(),
            read: CipRead::Port {
                instance: 1,
                attribute: PortAttribute::Number,
            },
            route_timeout: timeout,
        },
    ];
    for request in &requests {
        let Ok(reply) = parse_cip_reply(request, bytes) else {
            continue;
        };
        let _ = reply.from_router();
        let _ = reply.status.name();
        if let Ok(identity) = parse_identity_all(reply.data) {
            let _ = identity_facts(&identity);
        }
        let _ = parse_uint(reply.data);
    }
}

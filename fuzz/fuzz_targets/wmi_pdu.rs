//! Fuzzes the DCE/RPC PDU decoders: any fragment, as a bind_ack and as a signed/sealed response.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otsensor_wmi::ntlm::{Credentials, Nonces};
use otsensor_wmi::rpc::{Association, AuthLevel, Fragment, SyntaxId, parse_bind_ack};

fuzz_target!(|data: &[u8]| {
    let _ = Fragment::parse(data);
    let _ = parse_bind_ack(data);
    for level in [AuthLevel::Connect, AuthLevel::Integrity, AuthLevel::Privacy] {
        let mut a = Association::new(level, Credentials::parse("u", "p"), "FUZZ");
        let _ = a.bind(&[SyntaxId::dcom(otsensor_wmi::dcom::IID_IREM_UNKNOWN)]);
        // the fuzz input as the bind_ack (with its NTLM challenge)
        let nonces = Nonces { client_challenge: [1; 8], session_key: [2; 16], time: [0; 8] };
        if a.accept_bind_ack(data, nonces).is_ok() {
            if let Ok(call) = a.request(0, 5, None, b"stub") {
                let mut asm = a.reassembly(&call);
                let _ = a.accept_response(&mut asm, data);
            }
        }
    }
});

//! Fuzzes the S7comm decoder: TPKT header, COTP TPDU, S7 PDU (setup and SZL replies) and the SZL
//! lists the probe decodes (module and component identification, operating state, module status).
#![no_main]

use libfuzzer_sys::fuzz_target;
use otsensor_s7::SzlList;
use otsensor_s7::codec::{
    Cotp, parse_cotp, parse_s7, parse_setup_reply, parse_szl_reply, parse_tpkt_header,
};
use otsensor_s7::szl::{
    ComponentIdentification, ModuleIdentification, ModuleStatus, OperatingState,
};

fuzz_target!(|data: &[u8]| {
    if let Some((head, _)) = data.split_first_chunk::<4>() {
        let _ = parse_tpkt_header(head);
    }
    let tpdu = data.get(4..).unwrap_or_default();
    if let Ok(Cotp::Data { payload, .. }) = parse_cotp(tpdu) {
        decode_s7(payload);
    }
    // The S7 layer on its own, so the fuzzer need not find a valid COTP header first.
    decode_s7(data);
    // And the SZL payload decoders directly.
    decode_szl(data, false);
    decode_szl(data, true);
});

fn decode_s7(bytes: &[u8]) {
    let Ok(pdu) = parse_s7(bytes) else {
        return;
    };
    let _ = parse_setup_reply(&pdu);
    if let Ok(fragment) = parse_szl_reply(&pdu) {
        let _ = fragment.is_error();
        decode_szl(fragment.payload, fragment.truncated);
    }
}

fn decode_szl(payload: &[u8], truncated: bool) {
    let Ok(mut list) = SzlList::parse(payload, truncated) else {
        return;
    };
    list.extend(payload, truncated);
    let _ = list.check_id(0x0011);
    let _ = list.records().count();
    let _ = list.complete_records();
    let _ = list.is_partial();
    let _ = ModuleIdentification::decode(&list).is_empty();
    let _ = ComponentIdentification::decode(&list).is_empty();
    if let Some(state) = OperatingState::decode(&list) {
        let _ = state.name();
        let _ = state.plc_mode();
    }
    for module in ModuleStatus::decode_all(&list) {
        let _ = (module.slot(), module.submodule_slot(), module.is_missing());
    }
}

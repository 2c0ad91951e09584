//! Fuzzes the NDR decoders of the DCOM and WMI replies: activation, login, query, Next, release.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otsensor_wmi::{dcom, wmi, wmio::ClassCache};

fuzz_target!(|data: &[u8]| {
    let _ = dcom::parse_remote_create_instance(data);
    let _ = dcom::parse_remote_activation(data);
    let _ = dcom::parse_activation_properties_out(data);
    let _ = dcom::ObjRef::parse(data);
    let _ = dcom::parse_rem_release(data);
    let _ = wmi::parse_ntlm_login(data);
    let _ = wmi::parse_exec_query(data);
    let _ = wmi::parse_next(data, &mut ClassCache::new());
});

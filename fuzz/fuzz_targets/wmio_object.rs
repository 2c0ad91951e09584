//! Fuzzes the MS-WMIO object decoder (classes, instances, heaps, arrays, embedded objects).
#![no_main]

use libfuzzer_sys::fuzz_target;
use otsensor_wmi::wmio::{ClassCache, SIGNATURE, decode};

fuzz_target!(|data: &[u8]| {
    let mut cache = ClassCache::new();
    let _ = decode(data, &mut cache);
    // the same bytes behind a valid ENCODING_UNIT header, twice (the second through the cache)
    let mut unit = SIGNATURE.to_le_bytes().to_vec();
    unit.extend_from_slice(&(data.len() as u32).to_le_bytes());
    unit.extend_from_slice(data);
    let _ = decode(&unit, &mut cache);
    let _ = decode(&unit, &mut cache);
});

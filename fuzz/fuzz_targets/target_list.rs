//! Fuzzes the target-list parser with arbitrary text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otsensor_core::TargetSet;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(set) = TargetSet::parse([text], 4096) {
            assert!(set.addresses().len() <= 4096);
        }
    }
});

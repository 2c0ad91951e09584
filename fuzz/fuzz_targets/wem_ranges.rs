//! Fuzzes the WEM ranges CSV import and the schedule parser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otsensor_core::wem::{WemSchedule, import_ranges, parse_ranges};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_ranges(text);
    let _ = import_ranges(&format!("FROM,TO,USER,PASSWORD,DISABLE\n{text}"), &[]);
    if let Ok(s) = WemSchedule::parse(text) {
        let _ = s.next_after(jiff::Timestamp::UNIX_EPOCH, None, &jiff::tz::TimeZone::UTC);
    }
});

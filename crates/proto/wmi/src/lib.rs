//! Windows endpoint monitoring for otsensor: a pure-Rust WMI client over DCOM.
//!
//! The protocol stack mirrors the specifications, each layer sans-IO and tested byte for byte:
//! [`ntlm`] (MS-NLMP), [`rpc`] (C706 / MS-RPCE connection-oriented PDUs), [`ndr`] (NDR 2.0),
//! [`dcom`] (MS-DCOM activation, OBJREFs, ORPC headers), [`wmi`] (MS-WMI calls) and [`wmio`]
//! (MS-WMIO object decoding).

pub mod dcom;
pub mod ndr;
pub mod ntlm;
pub mod rpc;
pub mod status;
pub mod wmi;
pub mod wmio;

/// Fills `buf` from the operating system's random source.
pub(crate) fn random_bytes(buf: &mut [u8]) {
    if getrandom::getrandom(buf).is_err() {
        // no OS randomness is a broken host; fall back to time-seeded bytes rather than zeros
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (seed >> ((i % 16) * 8)) as u8 ^ (i as u8).wrapping_mul(151);
        }
    }
}

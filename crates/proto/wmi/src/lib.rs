//! Windows endpoint monitoring for otsensor: a pure-Rust WMI client over DCOM.
//!
//! The protocol stack mirrors the specifications, each layer sans-IO and tested byte for byte:
//! [`ntlm`] (MS-NLMP NTLMv2 with signing and sealing), [`rpc`] (C706 / MS-RPCE connection-oriented
//! PDUs, fragmentation both ways), [`ndr`] (NDR 2.0), [`dcom`] (MS-DCOM activation, OBJREFs, ORPC
//! headers), [`wmi`] (MS-WMI calls) and [`wmio`] (MS-WMIO object decoding). [`client`] drives
//! them over tokio with a time limit per stage; [`inventory`] says what is collected and
//! [`probe`] turns it into facts.
//!
//! # The only requests this crate can send
//!
//! Besides the RPC bind and auth3 of each connection, the client calls exactly these operations
//! ([`client::ALLOWED_CALLS`]; any other is refused before it is sent):
//!
//! | interface | opnum | operation | used for |
//! |---|---|---|---|
//! | IRemoteSCMActivator | 4 | RemoteCreateInstance | activating WbemLevel1Login (TCP 135) |
//! | IActivation | 0 | RemoteActivation | the same on hosts without IRemoteSCMActivator |
//! | IWbemLevel1Login | 6 | NTLMLogin | logging in to `root\cimv2` |
//! | IWbemServices | 20 | ExecQuery | WQL `SELECT`s only ([`client::is_allowed_query`]), listed in [`inventory::QUERIES`] |
//! | IEnumWbemClassObject | 4 | Next | reading the results in batches |
//! | IRemUnknown | 5 | RemRelease | releasing every interface received |
//!
//! The queries read Win32_OperatingSystem, Win32_ComputerSystem, Win32_BIOS,
//! Win32_NetworkAdapterConfiguration, Win32_QuickFixEngineering and Win32_InstalledWin32Program.
//! Win32_Product is never queried (enumerating it makes Windows Installer verify every package).

pub mod client;
pub mod dcom;
pub mod inventory;
pub mod ndr;
pub mod ntlm;
pub mod probe;
pub mod rpc;
pub mod status;
pub mod wmi;
pub mod wmio;

pub use client::{ClientConfig, Stage, Timeouts, WmiClient, WmiError};
pub use inventory::HostInventory;
pub use ntlm::Credentials;
pub use probe::WmiProbe;
pub use rpc::AuthLevel;

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

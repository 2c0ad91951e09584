//! Modbus/TCP for otsensor: a pure codec, a thin async client and a read-only identification probe.
//!
//! # The only requests this crate can send
//!
//! The safety rules allow identification and read requests only. [`codec::Request`] has exactly
//! these variants, and nothing else can be encoded:
//!
//! | function | name | used for |
//! |---|---|---|
//! | 43 (0x2B), MEI 14 (0x0E) | Read Device Identification, read codes 01 (basic), 02 (regular), 03 (extended) stream access | vendor, product code, revision, URL, product name, model, application name |
//! | 17 (0x11) | Report Server ID | fallback identity and the run indicator |
//!
//! The probe asks unit ID 255, then 1, then 0 for the device itself; with depth 1 and above it
//! sweeps unit IDs 1 to 247 with the same request, paced, one at a time, on the same connection.

pub mod client;
pub mod codec;
pub mod probe;

pub use client::{Client, ClientError};
pub use codec::{CodecError, DeviceIdentification, ExceptionCode, Request, Response};
pub use probe::ModbusProbe;

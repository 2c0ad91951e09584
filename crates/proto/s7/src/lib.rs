//! Siemens S7comm for otsensor: a pure codec (TPKT, COTP, S7, SZL), a thin async client and a
//! read-only identification probe.
//!
//! # The only requests this crate can send
//!
//! The safety rules allow identification and read requests only. [`codec::Request`] has exactly
//! these variants, [`codec::SzlRead`] exactly these lists, and nothing else can be encoded;
//! [`codec::allowed_request`] recognises these frames and nothing else, and the tests hold every
//! frame the client sent to the testbed peers to it:
//!
//! | layer | request | used for |
//! |---|---|---|
//! | COTP (ISO 8073 class 0 on RFC 1006) | connection request (CR) from TSAP 0x0100 to the device TSAPs of [`probe::TSAP_ORDER`] | reaching the CPU: rack 0 slot 2, slot 1, slot 0, slot 3, then TSAP 0x0200; one connection at a time, each refused one closed before the next |
//! | S7 job | Setup Communication (function 0xF0), PDU size 480, one job in parallel | opening the S7 session |
//! | S7 userdata, CPU functions, read SZL | SZL 0x0011 index 0 | module identification: order code, basic hardware, firmware version |
//! | | SZL 0x001C index 0 | component identification: AS name, module name, plant identification, copyright, serial number, module type |
//! | | SZL 0x0424 index 0 | CPU operating state (RUN, STOP, STARTUP, HOLD, DEFECT) |
//! | | SZL 0x0D91 index 0 | depth 1 and above: the modules of rack 0, by slot |
//! | | follow-up request (method 0x12, the answer's sequence number) | the next fragment of an answer longer than one PDU |
//!
//! With depth 2 the probe also asks each module of the rack, on its own TSAP (rack 0, its
//! slot), for SZL 0x0011 and 0x001C: communication processors and other S7-capable modules
//! answer with their own identity, signal modules refuse the connection.
//!
//! No COTP disconnect is sent: connections end with a TCP FIN, as class 0 prescribes.

pub mod client;
pub mod codec;
pub mod probe;
pub mod szl;

pub use client::{Client, ClientError, Stage};
pub use codec::{CodecError, Request, SzlList, SzlRead, Tsap};
pub use probe::S7Probe;

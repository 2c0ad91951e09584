//! Holds the probe to its read-only request list: a recording responder on loopback captures every
//! frame a depth-1 probe sends, and each must be one of the allowed function codes.

use otsensor_core::probe::Unpaced;
use otsensor_core::{Outcome, Probe, ProbeContext};
use otsensor_modbus::ModbusProbe;
use otsensor_modbus::codec::{ALLOWED_FUNCTIONS, FC_ENCAPSULATED_INTERFACE, MEI_READ_DEVICE_ID};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Answers Read Device Identification with a vendor name per unit ("unit-N"), anything else with
/// exception 0x01, and records every frame.
async fn recording_responder(listener: TcpListener, frames: Arc<Mutex<Vec<Vec<u8>>>>) {
    let Ok((mut sock, _)) = listener.accept().await else {
        return;
    };
    loop {
        let mut head = [0u8; 7];
        if sock.read_exact(&mut head).await.is_err() {
            return;
        }
        let len = usize::from(u16::from_be_bytes([head[4], head[5]])).saturating_sub(1);
        let mut pdu = vec![0u8; len];
        if sock.read_exact(&mut pdu).await.is_err() {
            return;
        }
        frames
            .lock()
            .unwrap()
            .push([head.to_vec(), pdu.clone()].concat());
        let unit = head[6];
        let reply_pdu = if pdu.first() == Some(&FC_ENCAPSULATED_INTERFACE) {
            let vendor = format!("unit-{unit}");
            let mut r = vec![
                0x2B,
                0x0E,
                0x01,
                0x01,
                0x00,
                0x00,
                0x01,
                0x00,
                vendor.len() as u8,
            ];
            r.extend_from_slice(vendor.as_bytes());
            r
        } else {
            vec![pdu.first().copied().unwrap_or(0) | 0x80, 0x01]
        };
        let mut reply = head[..4].to_vec();
        reply.extend_from_slice(&((reply_pdu.len() + 1) as u16).to_be_bytes());
        reply.push(unit);
        reply.extend_from_slice(&reply_pdu);
        if sock.write_all(&reply).await.is_err() {
            return;
        }
    }
}

#[tokio::test]
async fn a_depth_1_probe_sends_only_allowed_requests() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let frames = Arc::new(Mutex::new(Vec::new()));
    let responder = tokio::spawn(recording_responder(listener, frames.clone()));
    let ctx = ProbeContext {
        port,
        timeout: Duration::from_secs(2),
        depth: 1,
        pacer: Arc::new(Unpaced),
    };
    let report = ModbusProbe.probe("127.0.0.1".parse().unwrap(), ctx).await;
    assert_eq!(report.outcome, Outcome::Identified, "{:?}", report.error);
    // every unit answers with its own vendor, so all 247 are sub-devices
    assert_eq!(report.observation.unwrap().children.len(), 247);
    responder.await.unwrap();
    let frames = frames.lock().unwrap();
    assert_eq!(
        frames.len(),
        1 + 247,
        "one request for the device, one per unit"
    );
    for frame in frames.iter() {
        let function = frame[7];
        assert!(
            ALLOWED_FUNCTIONS.contains(&function),
            "function {function:#04x} sent"
        );
        if function == FC_ENCAPSULATED_INTERFACE {
            assert_eq!(frame[8], MEI_READ_DEVICE_ID);
        }
    }
}

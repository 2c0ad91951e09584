//! Test support: simulated BACnet/IP devices on 127.0.0.1 (ephemeral ports), scripted per request.
//!
//! Every datagram a client sends them must decode as one of the crate's read-only requests; they
//! record what they got, and answer with what the script returns.

#![allow(dead_code)]

use otsensor_bacnet::codec::apdu::{self, service};
use otsensor_bacnet::codec::npdu::RemoteAddress;
use otsensor_bacnet::codec::service::{IAm, PropertyId, ReadPropertyAck, Segmentation};
use otsensor_bacnet::codec::tag::{ObjectId, Value};
use otsensor_bacnet::codec::{Request, answer_frame};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

/// One request as the fake decoded it: routed destination, invoke ID, request.
pub type Asked = (Option<RemoteAddress>, Option<u8>, Request);

/// A scripted UDP peer; stops when dropped.
pub struct Fake {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Every request it got, in order.
    pub asked: Arc<Mutex<Vec<Asked>>>,
    /// Datagrams that were not one of the crate's requests, with why.
    pub off_list: Arc<Mutex<Vec<String>>>,
    task: JoinHandle<()>,
}

impl Fake {
    /// The requests so far.
    pub fn asked(&self) -> Vec<Asked> {
        self.asked.lock().unwrap().clone()
    }

    /// Panics if any datagram was not on the read-only list.
    pub fn assert_all_on_the_list(&self) {
        let off = self.off_list.lock().unwrap();
        assert!(off.is_empty(), "datagrams off the request list: {off:?}");
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a fake that answers each request with the datagrams `script` returns.
pub async fn fake(mut script: impl FnMut(&Asked) -> Vec<Vec<u8>> + Send + 'static) -> Fake {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let off_list = Arc::new(Mutex::new(Vec::new()));
    let log = asked.clone();
    let off = off_list.clone();
    let task = tokio::spawn(async move {
        let mut buf = vec![0u8; 2048];
        loop {
            let Ok((n, from)) = socket.recv_from(&mut buf).await else {
                return;
            };
            let request = match Request::parse_frame(&buf[..n]) {
                Ok(request) => request,
                Err(e) => {
                    off.lock().unwrap().push(e.to_string());
                    continue;
                }
            };
            log.lock().unwrap().push(request.clone());
            for answer in script(&request) {
                let _ = socket.send_to(&answer, from).await;
            }
        }
    });
    Fake {
        addr,
        asked,
        off_list,
        task,
    }
}

/// The fake's I-Am for device `instance` of vendor `vendor`.
pub fn i_am(source: Option<&RemoteAddress>, instance: u32, vendor: u32) -> Vec<u8> {
    let mut data = Vec::new();
    IAm {
        device: ObjectId::device(instance),
        max_apdu: 480,
        segmentation: Segmentation(3),
        vendor_id: vendor,
    }
    .emit(&mut data);
    let mut pdu = Vec::new();
    apdu::emit_unconfirmed_request(service::I_AM, &data, &mut pdu);
    answer_frame(source, &pdu)
}

/// A ReadProperty-ACK.
pub fn rp_ack(invoke: u8, object: ObjectId, property: PropertyId, value: Value) -> Vec<u8> {
    let mut data = Vec::new();
    ReadPropertyAck {
        object,
        property,
        array_index: None,
        values: vec![value],
    }
    .emit(&mut data);
    let mut pdu = Vec::new();
    apdu::emit_complex_ack(invoke, service::READ_PROPERTY, &data, &mut pdu);
    answer_frame(None, &pdu)
}

/// The value a simulated device gives for each Device property.
pub fn device_value(property: PropertyId) -> Value {
    match property {
        PropertyId::VENDOR_IDENTIFIER => Value::Unsigned(8),
        PropertyId::PROTOCOL_REVISION => Value::Unsigned(14),
        p => Value::CharacterString(format!("sim {p}")),
    }
}

//! The client and the probe against simulated devices that misbehave: silence, refusal, garbage,
//! Reject / Abort / Error PDUs, segmented answers, stale invoke IDs, answers from elsewhere, a
//! router that cannot route. The fakes listen on 127.0.0.1 (ephemeral ports) and check that every
//! datagram they get is one of the crate's read-only requests.

mod common;

use common::{Asked, device_value, fake, i_am, rp_ack};
use otsensor_bacnet::codec::apdu::{self, AbortReason, BacnetError, RejectReason, service};
use otsensor_bacnet::codec::npdu::{NetworkMessage, NetworkRejectReason, Npci, RemoteAddress};
use otsensor_bacnet::codec::service::PropertyId;
use otsensor_bacnet::codec::tag::{ObjectId, Value};
use otsensor_bacnet::codec::{Request, answer_frame, bvlc};
use otsensor_bacnet::{BacnetProbe, Client, ClientError, ReadMode};
use otsensor_core::probe::Unpaced;
use otsensor_core::{Fact, Outcome, Probe, ProbeContext};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

const SHORT: Duration = Duration::from_millis(300);

async fn open(addr: SocketAddr) -> Client {
    let mut client = Client::open(addr, SHORT, Arc::new(Unpaced)).await.unwrap();
    client.record_requests();
    client
}

fn ctx(port: u16) -> ProbeContext {
    ProbeContext {
        port,
        timeout: SHORT,
        depth: 1,
        pacer: Arc::new(Unpaced),
    }
}

/// Answers ReadProperty of the device with [`device_value`], Who-Is with an I-Am of device 77.
fn plain_device(asked: &Asked) -> Vec<Vec<u8>> {
    match asked {
        (None, _, Request::WhoIs) => vec![i_am(None, 77, 8)],
        (None, Some(invoke), Request::ReadProperty(rp)) => {
            vec![rp_ack(
                *invoke,
                rp.object,
                rp.property,
                device_value(rp.property),
            )]
        }
        _ => Vec::new(),
    }
}

fn pdu_frame(build: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut pdu = Vec::new();
    build(&mut pdu);
    answer_frame(None, &pdu)
}

#[tokio::test]
async fn a_silent_device_times_out_after_its_retries_and_the_probe_says_no_response() {
    let silent = fake(|_| Vec::new()).await;
    let mut client = open(silent.addr).await;
    let err = client.who_is(None).await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: Who-Is: no answer within 0.3 s (2 attempts); check that a BACnet/IP device listens on that UDP port",
            silent.addr
        )
    );
    assert_eq!(silent.asked().len(), 2, "one retry");

    let report = BacnetProbe
        .probe(silent.addr.ip(), ctx(silent.addr.port()))
        .await;
    assert_eq!(report.outcome, Outcome::NoResponse);
    assert!(report.observation.is_none());
    let text = report.error.unwrap();
    assert!(text.contains("Who-Is: no answer within 0.3 s"), "{text}");
    assert!(
        text.contains("ReadProperty object-identifier of device,4194303: no answer"),
        "{text}"
    );
    silent.assert_all_on_the_list();
}

#[tokio::test]
async fn a_closed_port_is_refused() {
    // a port nothing listens on: bind, note, close
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let target: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut client = open(target).await;
    let err = client.who_is(None).await.unwrap_err();
    assert!(matches!(err, ClientError::Refused { .. }), "{err}");
    assert!(err.to_string().contains("port unreachable"), "{err}");
    let report = BacnetProbe.probe(target.ip(), ctx(port)).await;
    assert_eq!(report.outcome, Outcome::Refused, "{report:?}");
}

#[tokio::test]
async fn garbage_and_truncated_replies_are_bad_replies() {
    let garbage = fake(|_| vec![b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec()]).await;
    let mut client = open(garbage.addr).await;
    let err = client.who_is(None).await.unwrap_err();
    assert!(
        err.to_string()
            .ends_with("Who-Is: bad reply: BVLC type 0x48 is not BACnet/IP (0x81)"),
        "{err}"
    );
    let report = BacnetProbe
        .probe(garbage.addr.ip(), ctx(garbage.addr.port()))
        .await;
    assert_eq!(report.outcome, Outcome::Error);
    assert!(report.error.unwrap().contains("bad reply"));

    // an I-Am cut short: the BVLC length says more than came
    let cut = fake(|_| {
        let mut frame = i_am(None, 1, 5);
        frame.truncate(frame.len() - 3);
        vec![frame]
    })
    .await;
    let err = open(cut.addr).await.who_is(None).await.unwrap_err();
    assert!(err.to_string().contains("BVLC length field"), "{err}");
    // a whole datagram whose I-Am lacks its vendor ID
    let short = fake(|_| {
        let mut frame = i_am(None, 1, 5);
        frame.truncate(frame.len() - 2);
        let len = frame.len() as u16;
        frame[2..4].copy_from_slice(&len.to_be_bytes());
        vec![frame]
    })
    .await;
    let err = open(short.addr).await.who_is(None).await.unwrap_err();
    assert!(err.to_string().contains("I-Am vendor ID"), "{err}");
}

#[tokio::test]
async fn a_rejected_read_property_multiple_falls_back_to_single_reads() {
    let device = fake(|asked| match asked {
        (None, Some(invoke), Request::ReadPropertyMultiple(_)) => vec![pdu_frame(|p| {
            apdu::emit_reject(*invoke, RejectReason::UNRECOGNIZED_SERVICE, p)
        })],
        other => plain_device(other),
    })
    .await;
    let mut client = open(device.addr).await;
    let info = client
        .read_device(None, ObjectId::device(77), ReadMode::Multiple)
        .await
        .unwrap();
    assert_eq!(info.read_with, ReadMode::Single);
    assert!(
        info.multiple_failed
            .as_deref()
            .unwrap()
            .ends_with("rejected: unrecognized-service (9)"),
        "{info:?}"
    );
    assert_eq!(info.object_name.as_deref(), Some("sim object-name"));
    assert_eq!(info.vendor_id, Some(8));
    assert_eq!(info.protocol_revision, Some(14));
    assert!(info.missing.is_empty());
    // one RPM, then nine ReadProperty
    let asked = device.asked();
    assert!(matches!(asked[0].2, Request::ReadPropertyMultiple(_)));
    assert_eq!(asked.len(), 10);
    device.assert_all_on_the_list();
}

#[tokio::test]
async fn an_abort_or_a_segmented_answer_falls_back_too_and_errors_leave_properties_missing() {
    let aborting = fake(|asked| match asked {
        (None, Some(invoke), Request::ReadPropertyMultiple(_)) => vec![pdu_frame(|p| {
            apdu::emit_abort(*invoke, AbortReason::SEGMENTATION_NOT_SUPPORTED, p)
        })],
        (None, Some(invoke), Request::ReadProperty(rp)) if rp.property == PropertyId::LOCATION => {
            let error = BacnetError {
                class: BacnetError::CLASS_PROPERTY,
                code: BacnetError::UNKNOWN_PROPERTY,
            };
            vec![pdu_frame(|p| {
                apdu::emit_error(*invoke, service::READ_PROPERTY, error, p)
            })]
        }
        other => plain_device(other),
    })
    .await;
    let info = open(aborting.addr)
        .await
        .read_device(None, ObjectId::device(77), ReadMode::Multiple)
        .await
        .unwrap();
    assert!(
        info.multiple_failed
            .as_deref()
            .unwrap()
            .ends_with("aborted by the device: segmentation-not-supported (4)"),
        "{info:?}"
    );
    assert_eq!(info.location, None);
    assert_eq!(info.missing.len(), 1);
    assert_eq!(info.missing[0].0, PropertyId::LOCATION);
    assert!(
        info.missing[0]
            .1
            .ends_with("answered with error property: unknown-property (class 2, code 32)"),
        "{:?}",
        info.missing
    );
    assert_eq!(info.model_name.as_deref(), Some("sim model-name"));

    // a device that answers in segments although the request refused them
    let segmenting = fake(|asked| match asked {
        (None, Some(invoke), Request::ReadPropertyMultiple(_)) => vec![answer_frame(
            None,
            &[
                0x3C,
                *invoke,
                0x00,
                0x04,
                service::READ_PROPERTY_MULTIPLE,
                0x0C,
            ],
        )],
        other => plain_device(other),
    })
    .await;
    let info = open(segmenting.addr)
        .await
        .read_device(None, ObjectId::device(77), ReadMode::Multiple)
        .await
        .unwrap();
    assert!(
        info.multiple_failed
            .as_deref()
            .unwrap()
            .contains("answered in segments"),
        "{info:?}"
    );
    assert_eq!(info.read_with, ReadMode::Single);
    assert_eq!(
        info.firmware_revision.as_deref(),
        Some("sim firmware-revision")
    );
}

#[tokio::test]
async fn stale_invoke_ids_and_answers_from_elsewhere_are_skipped() {
    let device = fake(|asked| match asked {
        (None, Some(invoke), Request::ReadProperty(rp)) => {
            let value = device_value(rp.property);
            let stale = rp_ack(
                invoke.wrapping_add(100),
                rp.object,
                rp.property,
                Value::Null,
            );
            // the same answer as if from a routed station behind the device
            let mut routed = Vec::new();
            Npci {
                source: Some(RemoteAddress::station(5, &[1])),
                ..Npci::default()
            }
            .emit(false, &mut routed);
            let ack = rp_ack(*invoke, rp.object, rp.property, Value::Null);
            routed.extend_from_slice(&ack[6..]);
            let routed = bvlc::emit_original_unicast(&routed);
            vec![
                stale,
                routed,
                rp_ack(*invoke, rp.object, rp.property, value),
            ]
        }
        other => plain_device(other),
    })
    .await;
    let mut client = open(device.addr).await;
    for _ in 0..3 {
        let values = client
            .read_property(None, ObjectId::device(77), PropertyId::MODEL_NAME)
            .await
            .unwrap();
        assert_eq!(
            values,
            vec![Value::CharacterString("sim model-name".into())]
        );
    }
    // invoke IDs move on
    let invokes: Vec<Option<u8>> = device.asked().iter().map(|a| a.1).collect();
    assert_eq!(invokes, [Some(0), Some(1), Some(2)]);
}

#[tokio::test]
async fn a_lost_request_is_retried_with_the_same_invoke_id() {
    let mut seen = 0;
    let device = fake(move |asked| {
        seen += 1;
        if seen == 1 {
            return Vec::new();
        }
        plain_device(asked)
    })
    .await;
    let mut client = open(device.addr).await;
    let values = client
        .read_property(None, ObjectId::device(77), PropertyId::OBJECT_NAME)
        .await
        .unwrap();
    assert_eq!(
        values,
        vec![Value::CharacterString("sim object-name".into())]
    );
    let asked = device.asked();
    assert_eq!(asked.len(), 2);
    assert_eq!(asked[0], asked[1]);
}

#[tokio::test]
async fn a_router_that_cannot_route_says_so_and_routed_errors_do_not_sink_the_probe() {
    // a router for network 9 whose only device never answers reads; network 10 is unreachable
    let router = fake(|asked| match asked {
        (None, _, Request::WhoIs) => vec![i_am(None, 500, 10)],
        (None, _, Request::WhoIsRouterToNetwork) => {
            let mut npdu = Vec::new();
            Npci::default().emit(true, &mut npdu);
            NetworkMessage::IAmRouterToNetwork(vec![9, 10]).emit(&mut npdu);
            vec![bvlc::emit_original_unicast(&npdu)]
        }
        (Some(dest), _, Request::WhoIs) if dest.network == 9 => {
            vec![i_am(Some(&RemoteAddress::station(9, &[0x21])), 901, 5)]
        }
        (Some(dest), _, _) if dest.network == 10 => {
            let mut npdu = Vec::new();
            Npci::default().emit(true, &mut npdu);
            NetworkMessage::RejectMessageToNetwork {
                reason: NetworkRejectReason(1),
                network: 10,
            }
            .emit(&mut npdu);
            vec![bvlc::emit_original_unicast(&npdu)]
        }
        (None, Some(invoke), Request::ReadPropertyMultiple(rpm)) => {
            // the router itself: an RPM of its properties, read back as text
            let mut data = Vec::new();
            otsensor_bacnet::codec::service::ReadPropertyMultipleAck {
                objects: vec![otsensor_bacnet::codec::service::ObjectResults {
                    object: rpm.object,
                    results: rpm
                        .properties
                        .iter()
                        .map(|p| otsensor_bacnet::codec::service::PropertyResult {
                            property: *p,
                            array_index: None,
                            value: Ok(vec![device_value(*p)]),
                        })
                        .collect(),
                }],
            }
            .emit(&mut data);
            vec![pdu_frame(|p| {
                apdu::emit_complex_ack(*invoke, service::READ_PROPERTY_MULTIPLE, &data, p)
            })]
        }
        _ => Vec::new(),
    })
    .await;
    let mut client = open(router.addr).await;
    let err = client
        .who_is(Some(&RemoteAddress::broadcast(10)))
        .await
        .unwrap_err();
    assert!(
        err.to_string().ends_with(
            "Who-Is to network 10 (every device): the router rejected it for network 10: the router knows no route to the destination network (1)"
        ),
        "{err}"
    );

    let report = BacnetProbe
        .probe(router.addr.ip(), ctx(router.addr.port()))
        .await;
    assert_eq!(report.outcome, Outcome::Identified, "{report:?}");
    let obs = report.observation.unwrap();
    assert!(obs.facts.contains(&Fact::Name("sim object-name".into())));
    assert_eq!(obs.children.len(), 1, "{:?}", obs.children);
    let child = &obs.children[0];
    assert_eq!(child.position.to_string(), "net:9/21");
    // its reads went unanswered: the I-Am's vendor ID still names the vendor
    assert!(
        child
            .facts
            .contains(&Fact::Vendor("Johnson Controls, Inc.".into()))
    );
    let warning = report.error.unwrap();
    assert!(
        warning.contains("reading device,901 at network 9 MAC 21"),
        "{warning}"
    );
    assert!(
        warning.contains("the router rejected it for network 10"),
        "{warning}"
    );
    router.assert_all_on_the_list();
}

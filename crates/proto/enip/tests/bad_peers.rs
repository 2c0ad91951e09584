//! The client against misbehaving EtherNet/IP peers (testbed/peers/enip_chassis.py --mode ...) and
//! an address where nothing listens, over TCP and UDP: each failure is named clearly.

use otsensor_core::probe::Unpaced;
use otsensor_enip::{Client, ClientError, CodecError, list_identity_udp};
use otsensor_testkit::{addr, require_tcp_peer, var};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

const SHORT: Duration = Duration::from_millis(500);

fn target(ip_var: &str, peer: &str) -> SocketAddr {
    let target = addr(ip_var, "ENIP_BAD_PORT");
    require_tcp_peer(target, peer);
    target
}

async fn tcp_list_identity(target: SocketAddr) -> ClientError {
    let mut client = Client::connect(target, SHORT, Arc::new(Unpaced))
        .await
        .unwrap();
    let err = client.list_identity().await.unwrap_err();
    client.close().await;
    err
}

async fn udp_list_identity(target: SocketAddr) -> ClientError {
    list_identity_udp(target, SHORT, Arc::new(Unpaced))
        .await
        .unwrap_err()
}

#[tokio::test]
async fn a_silent_peer_times_out_on_tcp_and_udp() {
    let t = target("ENIP_SILENT_IP", "enip-silent");
    let tcp = tcp_list_identity(t).await;
    assert_eq!(
        tcp.to_string(),
        format!("{t}: no response to List Identity within 0.5 s")
    );
    let udp = udp_list_identity(t).await;
    assert_eq!(
        udp.to_string(),
        format!("{t}: no response to List Identity (UDP) within 0.5 s")
    );
    assert!(!tcp.spoke_enip() && !udp.spoke_enip());
}

#[tokio::test]
async fn a_truncated_identity_item_is_named_on_tcp_and_udp() {
    let t = target("ENIP_TRUNCATED_IP", "enip-truncated");
    for err in [tcp_list_identity(t).await, udp_list_identity(t).await] {
        assert!(
            matches!(
                err,
                ClientError::Codec {
                    source: CodecError::Truncated {
                        what: "item data",
                        need: 39,
                        have: 20
                    },
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains(": truncated: item data needs 39 bytes, 20 present"),
            "{err}"
        );
        assert!(err.spoke_enip());
    }
}

#[tokio::test]
async fn garbage_is_refused_at_once_on_tcp_and_udp() {
    let t = target("ENIP_GARBAGE_IP", "enip-garbage");
    for err in [tcp_list_identity(t).await, udp_list_identity(t).await] {
        // the random bytes parse as no reply to List Identity: a wrong command or an impossible length
        assert!(
            matches!(
                err,
                ClientError::Codec {
                    source: CodecError::WrongCommand { sent: 0x63, .. } | CodecError::TooLong(_),
                    ..
                }
            ),
            "{err}"
        );
        assert!(!err.spoke_enip());
    }
}

#[tokio::test]
async fn nothing_listening_is_refused_on_tcp_and_unreachable_on_udp() {
    let t = addr("ENIP_CLOSED_IP", "ENIP_BAD_PORT");
    let tcp = Client::connect(t, Duration::from_secs(2), Arc::new(Unpaced))
        .await
        .err()
        .unwrap();
    assert!(matches!(tcp, ClientError::Refused { .. }), "{tcp}");
    assert_eq!(
        tcp.to_string(),
        format!("{t}: TCP connection refused (nothing listens on that port)")
    );
    let udp = udp_list_identity(t).await;
    assert!(matches!(udp, ClientError::UdpUnreachable { .. }), "{udp}");
    assert_eq!(var("ENIP_BAD_PORT"), "44818");
}

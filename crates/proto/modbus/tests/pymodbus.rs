//! The client against real pymodbus 3.16 servers of the testbed, and against misbehaving peers.
//!
//! Every expected value is read from testbed/config.sh, which the peers were started with.

use otsensor_core::probe::Unpaced;
use otsensor_modbus::codec::{ExceptionCode, object};
use otsensor_modbus::{Client, ClientError, DeviceIdentification};
use otsensor_testkit::{addr, require_tcp_peer, var};
use std::sync::Arc;
use std::time::Duration;

async fn connect(ip_var: &str, port_var: &str, peer: &str) -> Client {
    let target = addr(ip_var, port_var);
    require_tcp_peer(target, peer);
    Client::connect(target, Duration::from_secs(3), Arc::new(Unpaced))
        .await
        .unwrap()
}

fn assert_identity(ident: &DeviceIdentification, prefix: &str) {
    let expect = [
        (object::VENDOR_NAME, "VENDOR"),
        (object::PRODUCT_CODE, "PRODCODE"),
        (object::REVISION, "REV"),
        (object::VENDOR_URL, "URL"),
        (object::PRODUCT_NAME, "PRODNAME"),
        (object::MODEL_NAME, "MODEL"),
        (object::APPLICATION_NAME, "APPNAME"),
    ];
    for (id, suffix) in expect {
        let want = var(&format!("{prefix}_{suffix}"));
        assert_eq!(
            ident.objects.get(&id).map(Vec::as_slice),
            Some(want.as_bytes()),
            "object {id:#04x} ({prefix}_{suffix})"
        );
    }
}

#[tokio::test]
async fn two_servers_give_back_every_object_exactly() {
    for (prefix, peer) in [("MODBUS", "modbus"), ("MODBUS2", "modbus2")] {
        let mut client = connect(&format!("{prefix}_IP"), &format!("{prefix}_PORT"), peer).await;
        let ident = client.read_device_identification(255).await.unwrap();
        assert_identity(&ident, prefix);
        assert!(
            ident.level() >= 2,
            "conformity {:#04x}",
            ident.conformity_level
        );
        client.close().await;
    }
}

#[tokio::test]
async fn a_gateway_answers_for_its_units_and_names_the_missing_ones() {
    let mut client = connect("MODBUSGW_IP", "MODBUSGW_PORT", "modbusgw").await;
    assert_identity(
        &client.read_device_identification(255).await.unwrap(),
        "MODBUSGW",
    );
    for unit in var("MODBUSGW_UNITS").split_whitespace() {
        let fields: Vec<String> = var(&format!("MODBUSGW_UNIT{unit}"))
            .split('|')
            .map(String::from)
            .collect();
        let ident = client
            .read_device_identification(unit.parse().unwrap())
            .await
            .unwrap();
        assert_eq!(
            ident.text(object::VENDOR_NAME).as_deref(),
            Some(fields[0].as_str())
        );
        assert_eq!(
            ident.text(object::PRODUCT_CODE).as_deref(),
            Some(fields[1].as_str())
        );
        assert_eq!(
            ident.text(object::REVISION).as_deref(),
            Some(fields[2].as_str())
        );
    }
    let missing = client.read_device_identification(3).await.unwrap_err();
    assert!(
        matches!(
            missing,
            ClientError::Exception {
                code: ExceptionCode(0x0B),
                unit: 3,
                ..
            }
        ),
        "{missing}"
    );
    client.close().await;
}

#[tokio::test]
async fn misbehaving_peers_give_clear_errors() {
    let cases = [
        (
            "MODBUS_SILENT_IP",
            "modbus-silent",
            "no response to Read Device Identification (43/14) (unit 255) within 0.5 s",
        ),
        (
            "MODBUS_MIDFRAME_IP",
            "modbus-midframe",
            "connection closed by the device during Read Device Identification (43/14) (unit 255)",
        ),
        (
            "MODBUS_EXCEPTION_IP",
            "modbus-exception",
            "answered with exception Illegal Function (0x01)",
        ),
        (
            "MODBUS_BIGLEN_IP",
            "modbus-biglen",
            "length field 65535 is outside the Modbus range 2 to 254",
        ),
    ];
    for (ip_var, peer, want) in cases {
        let mut client = connect(ip_var, "MODBUS_BAD_PORT", peer).await;
        // the silent peer is the time limit's own test; the others answer (or close) at once, and
        // a generous limit keeps a busy machine from turning their answer into a timeout
        let limit = if peer == "modbus-silent" {
            Duration::from_millis(500)
        } else {
            Duration::from_secs(10)
        };
        client.set_timeout(limit);
        let err = client.read_device_identification(255).await.unwrap_err();
        assert!(err.to_string().contains(want), "{peer}: {err}");
    }
    let mut garbage = connect("MODBUS_GARBAGE_IP", "MODBUS_BAD_PORT", "modbus-garbage").await;
    garbage.set_timeout(Duration::from_secs(10));
    let err = garbage.read_device_identification(255).await.unwrap_err();
    assert!(
        matches!(err, ClientError::Codec { .. } | ClientError::Timeout { .. }),
        "garbage: {err}"
    );
}

#[tokio::test]
async fn a_refused_port_says_so() {
    let target = addr("MODBUS_CLOSED_IP", "MODBUS_BAD_PORT");
    let err = Client::connect(target, Duration::from_secs(2), Arc::new(Unpaced))
        .await
        .err()
        .unwrap();
    assert!(matches!(err, ClientError::Refused { .. }), "{err}");
    assert!(err.to_string().contains("connection refused"));
}

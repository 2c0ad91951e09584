//! The client and the probe against the testbed's bacpypes3 0.0.110 peers: a device (`bacnet`)
//! and a router with virtual networks of devices behind it (`bacnet-router`).
//!
//! Every expected value is read from testbed/config.sh, which the peers were started with. Every
//! datagram the clients send is checked against the crate's list of read-only requests.

use otsensor_bacnet::codec::apdu::BacnetError;
use otsensor_bacnet::codec::service::PropertyId;
use otsensor_bacnet::{
    BacnetProbe, Client, ClientError, DeviceInfo, ObjectId, ReadMode, RemoteAddress, Request,
};
use otsensor_core::probe::Unpaced;
use otsensor_core::{
    DeviceType, Fact, Outcome, Position, Probe, ProbeContext, Protocol, SubObservation,
};
use otsensor_testkit::{addr, var};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(2);

/// Opens a recording client, failing clearly when the peer does not answer a Who-Is.
async fn client(ip_var: &str, port_var: &str, peer: &str) -> Client {
    let target = addr(ip_var, port_var);
    let mut client = Client::open(target, LIMIT, Arc::new(Unpaced))
        .await
        .unwrap();
    client.record_requests();
    if let Err(e) = client.who_is(None).await {
        panic!(
            "testbed peer '{peer}' does not answer on udp/{target} ({e}): run `testbed/setup.sh && testbed/start.sh {peer}` (scripts/test.sh does it)"
        );
    }
    client
}

/// Every datagram the client sent decodes as one of the crate's requests.
fn assert_read_only(client: &Client) {
    assert!(!client.sent().is_empty());
    for datagram in client.sent() {
        if let Err(e) = Request::parse_frame(datagram) {
            panic!("sent a datagram off the read-only list ({e}): {datagram:02x?}");
        }
    }
}

/// The configured identity of a device: (name, vendor ID, vendor name, model, firmware,
/// application version, location, description).
struct Expected {
    instance: u32,
    name: String,
    vendor_id: u32,
    vendor_name: String,
    model: String,
    firmware: String,
    app_version: String,
    location: String,
    description: String,
}

impl Expected {
    fn of(prefix: &str) -> Expected {
        let v = |s: &str| var(&format!("{prefix}_{s}"));
        Expected {
            instance: v("INSTANCE").parse().unwrap(),
            name: v("NAME"),
            vendor_id: v("VENDOR_ID").parse().unwrap(),
            vendor_name: v("VENDOR_NAME"),
            model: v("MODEL"),
            firmware: v("FIRMWARE"),
            app_version: v("APPVER"),
            location: v("LOCATION"),
            description: v("DESCRIPTION"),
        }
    }

    /// From a BACNET_ROUTED_<instance> line: NET|MAC|NAME|VENDOR_ID|VENDOR_NAME|MODEL|FIRMWARE|APP|LOCATION|DESCRIPTION.
    fn routed(instance: u32, fields: &[String]) -> Expected {
        Expected {
            instance,
            name: fields[2].clone(),
            vendor_id: fields[3].parse().unwrap(),
            vendor_name: fields[4].clone(),
            model: fields[5].clone(),
            firmware: fields[6].clone(),
            app_version: fields[7].clone(),
            location: fields[8].clone(),
            description: fields[9].clone(),
        }
    }

    fn assert_info(&self, info: &DeviceInfo, what: &str) {
        assert_eq!(
            info.object_name.as_deref(),
            Some(self.name.as_str()),
            "{what}"
        );
        assert_eq!(info.vendor_id, Some(self.vendor_id), "{what}");
        assert_eq!(
            info.vendor_name.as_deref(),
            Some(self.vendor_name.as_str()),
            "{what}"
        );
        assert_eq!(
            info.model_name.as_deref(),
            Some(self.model.as_str()),
            "{what}"
        );
        assert_eq!(
            info.firmware_revision.as_deref(),
            Some(self.firmware.as_str()),
            "{what}"
        );
        assert_eq!(
            info.application_software_version.as_deref(),
            Some(self.app_version.as_str()),
            "{what}"
        );
        assert_eq!(
            info.location.as_deref(),
            Some(self.location.as_str()),
            "{what}"
        );
        assert_eq!(
            info.description.as_deref(),
            Some(self.description.as_str()),
            "{what}"
        );
        assert!(info.protocol_revision.is_some(), "{what}: {info:?}");
        assert!(info.missing.is_empty(), "{what}: {:?}", info.missing);
    }

    fn assert_facts(&self, facts: &[Fact], what: &str) {
        let want = [
            Fact::Protocol(Protocol::Bacnet),
            Fact::Name(self.name.clone()),
            Fact::Vendor(self.vendor_name.clone()),
            Fact::Model(self.model.clone()),
            Fact::Firmware(self.firmware.clone()),
            Fact::SoftwareVersion(self.app_version.clone()),
            Fact::Location(self.location.clone()),
            Fact::Description(self.description.clone()),
            Fact::DeviceType(DeviceType::BuildingController),
            Fact::BacnetInstance(self.instance),
            Fact::VendorId(self.vendor_id),
        ];
        for fact in want {
            assert!(
                facts.contains(&fact),
                "{what}: {fact:?} missing in {facts:?}"
            );
        }
        assert_eq!(facts.len(), 11, "{what}: {facts:?}");
    }
}

#[tokio::test]
async fn the_device_gives_back_every_configured_property_both_ways() {
    let mut client = client("BACNET_IP", "BACNET_PORT", "bacnet").await;
    let found = client.who_is(None).await.unwrap();
    assert_eq!(found.len(), 1);
    let instance: u32 = var("BACNET_INSTANCE").parse().unwrap();
    let i_am = found[0].i_am;
    assert_eq!(i_am.device, ObjectId::device(instance));
    assert_eq!(
        i_am.vendor_id,
        var("BACNET_VENDOR_ID").parse::<u32>().unwrap()
    );
    assert_eq!(found[0].source, None);

    let expected = Expected::of("BACNET");
    let multiple = client
        .read_device(None, i_am.device, ReadMode::Multiple)
        .await
        .unwrap();
    assert_eq!(multiple.read_with, ReadMode::Multiple, "{multiple:?}");
    expected.assert_info(&multiple, "ReadPropertyMultiple");
    let single = client
        .read_device(None, i_am.device, ReadMode::Single)
        .await
        .unwrap();
    expected.assert_info(&single, "ReadProperty");
    assert_eq!(single.protocol_revision, multiple.protocol_revision);

    // the wildcard instance answers for the device
    assert_eq!(
        client.read_device_identifier(None).await.unwrap(),
        ObjectId::device(instance)
    );
    assert_read_only(&client);
}

#[tokio::test]
async fn unknown_objects_and_properties_are_named_errors() {
    let mut client = client("BACNET_IP", "BACNET_PORT", "bacnet").await;
    let missing = ObjectId {
        object_type: 2,
        instance: 99,
    };
    let err = client
        .read_property(None, missing, PropertyId::OBJECT_NAME)
        .await
        .unwrap_err();
    let ClientError::Error { error, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(error.code, BacnetError::UNKNOWN_OBJECT, "{err}");
    assert!(
        err.to_string()
            .ends_with("ReadProperty object-name of analog-value,99: answered with error object: unknown-object (class 1, code 31)"),
        "{err}"
    );
    let device = ObjectId::device(var("BACNET_INSTANCE").parse().unwrap());
    let err = client
        .read_property(None, device, PropertyId(9999))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("unknown-property"), "{err}");
    assert_read_only(&client);
}

/// The routed devices of config.sh: (network, MAC, instance, identity).
fn routed_devices() -> Vec<(u16, u8, u32, Expected)> {
    var("BACNET_ROUTED")
        .split_whitespace()
        .map(|instance| {
            let fields: Vec<String> = var(&format!("BACNET_ROUTED_{instance}"))
                .split('|')
                .map(String::from)
                .collect();
            (
                fields[0].parse().unwrap(),
                fields[1].parse().unwrap(),
                instance.parse().unwrap(),
                Expected::routed(instance.parse().unwrap(), &fields),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_router_names_its_networks_and_the_devices_behind_them() {
    let mut client = client("BACNET_ROUTER_IP", "BACNET_ROUTER_PORT", "bacnet-router").await;
    let routed = routed_devices();
    let networks: BTreeSet<u16> = routed.iter().map(|d| d.0).collect();
    assert_eq!(
        client.who_is_router_to_network().await.unwrap(),
        networks.iter().copied().collect::<Vec<_>>()
    );
    let mut seen = BTreeSet::new();
    for network in &networks {
        for found in client
            .who_is(Some(&RemoteAddress::broadcast(*network)))
            .await
            .unwrap()
        {
            let source = found.source.unwrap();
            assert_eq!(source.network, *network);
            seen.insert((
                source.network,
                source.mac.clone(),
                found.i_am.device.instance,
            ));
        }
    }
    let want: BTreeSet<(u16, Vec<u8>, u32)> = routed
        .iter()
        .map(|(net, mac, instance, _)| (*net, vec![*mac], *instance))
        .collect();
    assert_eq!(seen, want);

    for (network, mac, instance, expected) in &routed {
        let station = RemoteAddress::station(*network, &[*mac]);
        let device = ObjectId::device(*instance);
        let info = client
            .read_device(Some(&station), device, ReadMode::Multiple)
            .await
            .unwrap();
        assert_eq!(info.read_with, ReadMode::Multiple);
        expected.assert_info(&info, &format!("{station}"));
        // a directed Who-Is to the station finds it alone
        let one = client.who_is(Some(&station)).await.unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].i_am.device, device);
    }
    // a network the router does not know
    let nowhere = RemoteAddress::station(999, &[1]);
    client.set_timeout(Duration::from_millis(300));
    let err = client
        .read_property(Some(&nowhere), ObjectId::device(1), PropertyId::OBJECT_NAME)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Timeout { .. } | ClientError::RouterReject { .. }
        ),
        "{err}"
    );
    assert_read_only(&client);
}

fn context(port_var: &str, depth: u8) -> ProbeContext {
    ProbeContext {
        port: var(port_var).parse().unwrap(),
        timeout: Duration::from_secs(1),
        depth,
        pacer: Arc::new(Unpaced),
    }
}

#[tokio::test]
async fn the_probe_reports_the_device_and_at_depth_1_the_routed_ones() {
    // make sure both peers run, with a clear message if not
    drop(client("BACNET_IP", "BACNET_PORT", "bacnet").await);
    drop(client("BACNET_ROUTER_IP", "BACNET_ROUTER_PORT", "bacnet-router").await);
    let device: SocketAddr = addr("BACNET_IP", "BACNET_PORT");
    let report = BacnetProbe
        .probe(device.ip(), context("BACNET_PORT", 1))
        .await;
    assert_eq!(report.outcome, Outcome::Identified, "{report:?}");
    assert_eq!(report.error, None);
    let obs = report.observation.unwrap();
    Expected::of("BACNET").assert_facts(&obs.facts, "bacnet");
    assert!(obs.children.is_empty(), "not a router: {:?}", obs.children);

    let router: SocketAddr = addr("BACNET_ROUTER_IP", "BACNET_ROUTER_PORT");
    let shallow = BacnetProbe
        .probe(router.ip(), context("BACNET_ROUTER_PORT", 0))
        .await;
    let obs = shallow.observation.unwrap();
    Expected::of("BACNET_ROUTER").assert_facts(&obs.facts, "router");
    assert!(obs.children.is_empty());

    let deep = BacnetProbe
        .probe(router.ip(), context("BACNET_ROUTER_PORT", 1))
        .await;
    assert_eq!(deep.outcome, Outcome::Identified, "{deep:?}");
    assert_eq!(deep.error, None);
    let children: Vec<SubObservation> = deep.observation.unwrap().children;
    let routed = routed_devices();
    assert_eq!(children.len(), routed.len(), "{children:?}");
    for (network, mac, _, expected) in &routed {
        let position = Position::Routed {
            network: *network,
            mac: format!("{mac:02x}"),
        };
        let child = children
            .iter()
            .find(|c| c.position == position)
            .unwrap_or_else(|| panic!("{position} missing"));
        expected.assert_facts(&child.facts, &position.to_string());
    }
}

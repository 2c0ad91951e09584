//! Switch discovery against snmpsim serving recordings of real switches (testbed peer
//! `snmpsim`; community = recording name, v3 user with context = recording name). Every table
//! count must equal what net-snmp's `snmpbulkwalk` returns from the same agent, and the identity
//! must be what the agent answers to `snmpget`.

use otsensor_core::probe::Unpaced;
use otsensor_snmp::discovery::{DiscoveryOptions, SwitchData, discover};
use otsensor_snmp::{
    AuthProtocol, Client, ClientConfig, ClientError, PrivProtocol, Secret, Security, UsmUser,
    Version,
};
use otsensor_testkit::{addr, require_snmp_peer, snmpbulkwalk, var};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// snmpsim is single-threaded and slow on some lookups: one discovery at a time.
static SNMPSIM: Mutex<()> = Mutex::const_new(());

fn agent() -> SocketAddr {
    let a = addr("SNMPSIM_IP", "SNMPSIM_PORT");
    require_snmp_peer(a, "hpe-procurve", "snmpsim");
    a
}

fn v2c(recording: &str) -> Security {
    Security::Community {
        version: Version::V2c,
        community: Secret::new(recording),
    }
}

fn v3(recording: &str, auth: &str, privacy: &str, name: &str) -> Security {
    Security::Usm {
        user: UsmUser {
            name: name.into(),
            auth: Some((AuthProtocol::Sha1, Secret::new(auth))),
            privacy: Some((PrivProtocol::Aes128, Secret::new(privacy))),
        },
        context: recording.into(),
    }
}

fn v3_ok(recording: &str) -> Security {
    v3(
        recording,
        &var("SNMPSIM_V3_AUTHKEY"),
        &var("SNMPSIM_V3_PRIVKEY"),
        &var("SNMPSIM_V3_USER"),
    )
}

async fn client(security: Security) -> Client {
    Client::open(
        agent(),
        ClientConfig {
            security,
            timeout: Duration::from_secs(10),
            retries: 2,
        },
        Arc::new(Unpaced),
    )
    .await
    .unwrap()
}

async fn discovery(security: Security) -> SwitchData {
    let _one_at_a_time = SNMPSIM.lock().await;
    let mut c = client(security).await;
    discover(&mut c, DiscoveryOptions::default()).await.unwrap()
}

/// What snmpbulkwalk returns under `root` for `recording`.
fn walk(recording: &str, root: &str) -> Vec<(String, String)> {
    snmpbulkwalk(&["-v2c", "-c", recording, &agent().to_string()], root)
}

fn count(recording: &str, root: &str) -> u64 {
    walk(recording, root).len() as u64
}

fn get(recording: &str, oid: &str) -> Option<String> {
    walk(recording, oid.rsplit_once('.').unwrap().0)
        .into_iter()
        .find(|(o, _)| o == oid)
        .map(|(_, v)| v)
}

/// `STRING: "x"` or `Hex-STRING: 41 42` as text.
fn text(value: &str) -> String {
    if let Some(hex) = value.strip_prefix("Hex-STRING: ") {
        let bytes: Vec<u8> = hex
            .split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect();
        return String::from_utf8_lossy(&bytes).trim().to_string();
    }
    value
        .strip_prefix("STRING: ")
        .unwrap_or(value)
        .trim_matches('"')
        .to_string()
}

/// Every table count equals snmpbulkwalk's count of the same column.
fn assert_counts_match(recording: &str, data: &SwitchData) {
    let c = data.counts;
    let expected = [
        ("ifDescr", c.interfaces, "1.3.6.1.2.1.2.2.1.2"),
        ("ipNetToMediaPhysAddress", c.arp, "1.3.6.1.2.1.4.22.1.2"),
        (
            "ipNetToPhysicalPhysAddress",
            c.arp_physical,
            "1.3.6.1.2.1.4.35.1.4",
        ),
        ("dot1dTpFdbPort", c.fdb, "1.3.6.1.2.1.17.4.3.1.2"),
        (
            "dot1qTpFdbPort",
            c.qbridge_fdb,
            "1.3.6.1.2.1.17.7.1.2.2.1.2",
        ),
        ("lldpRemChassisId", c.lldp, "1.0.8802.1.1.2.1.4.1.1.5"),
        ("cdpCacheDeviceId", c.cdp, "1.3.6.1.4.1.9.9.23.1.2.1.1.6"),
    ];
    for (name, got, root) in expected {
        assert_eq!(got, count(recording, root), "{recording}: {name}");
    }
    assert!(data.arp.len() as u64 <= c.arp + c.arp_physical);
    assert_eq!(
        data.lldp.len() as u64,
        c.lldp,
        "{recording}: LLDP rows decoded"
    );
    assert_eq!(
        data.cdp.len() as u64,
        c.cdp,
        "{recording}: CDP rows decoded"
    );
}

/// The identity equals what snmpget says: sysName, sysDescr, and the chassis entity's serial,
/// model and software revision.
fn assert_identity(recording: &str, data: &SwitchData) {
    assert_eq!(
        data.system.name,
        get(recording, "1.3.6.1.2.1.1.5.0").map(|v| text(&v)),
        "{recording}: sysName"
    );
    assert_eq!(
        data.system.descr.as_deref().map(str::trim),
        get(recording, "1.3.6.1.2.1.1.1.0")
            .map(|v| text(&v))
            .as_deref()
            .map(str::trim),
        "{recording}: sysDescr"
    );
    let chassis = walk(recording, "1.3.6.1.2.1.47.1.1.1.1.5")
        .into_iter()
        .find(|(_, v)| v == "INTEGER: 3")
        .map(|(o, _)| o.rsplit('.').next().unwrap().to_string())
        .unwrap();
    let entity = data
        .entities
        .iter()
        .find(|e| e.index.to_string() == chassis)
        .unwrap();
    for (column, got) in [
        (11, &entity.serial),
        (13, &entity.model_name),
        (10, &entity.software_rev),
    ] {
        let want = get(
            recording,
            &format!("1.3.6.1.2.1.47.1.1.1.1.{column}.{chassis}"),
        )
        .map(|v| text(&v))
        .filter(|v| !v.is_empty());
        assert_eq!(got, &want, "{recording}: entPhysical column {column}");
    }
}

#[tokio::test]
async fn hpe_procurve_tables_match_snmpbulkwalk() {
    let data = discovery(v2c("hpe-procurve")).await;
    assert_eq!(data.profile.key, "hpe");
    assert_counts_match("hpe-procurve", &data);
    assert_identity("hpe-procurve", &data);
    assert!(data.counts.fdb > 0 && data.counts.qbridge_fdb > 0 && data.counts.lldp > 0);
    // LLDP management addresses: as many as lldpRemManAddrIfSubtype rows
    let addresses: usize = data.lldp.iter().map(|r| r.addresses.len()).sum();
    assert_eq!(
        addresses as u64,
        count("hpe-procurve", "1.0.8802.1.1.2.1.4.2.1.3")
    );
    assert!(data.notes.is_empty(), "{:?}", data.notes);
}

#[tokio::test]
async fn cisco_c3750_tables_match_snmpbulkwalk() {
    let data = discovery(v2c("cisco-c3750")).await;
    assert_eq!(data.profile.key, "cisco");
    assert_counts_match("cisco-c3750", &data);
    assert_identity("cisco-c3750", &data);
    assert!(data.counts.arp > 0 && data.counts.fdb > 0 && data.counts.cdp > 0);
    // snmpsim serves no community@vlan: the per-VLAN tables are skipped with one note
    assert_eq!(data.notes.len(), 1, "{:?}", data.notes);
    assert!(data.notes[0].contains("community@vlan"), "{:?}", data.notes);
}

#[tokio::test]
async fn cisco_c3560_over_v3_authpriv_matches_snmpbulkwalk() {
    let data = discovery(v3_ok("cisco-c3560")).await;
    assert_eq!(data.profile.key, "cisco");
    assert_counts_match("cisco-c3560", &data);
    assert_identity("cisco-c3560", &data);
    assert!(data.counts.arp > 0 && data.counts.arp_physical > 0 && data.counts.cdp > 0);
}

#[tokio::test]
async fn snmpsim_reports_each_wrong_v3_credential_as_what_it_is() {
    let _one_at_a_time = SNMPSIM.lock().await;
    let (user, auth, privacy) = (
        var("SNMPSIM_V3_USER"),
        var("SNMPSIM_V3_AUTHKEY"),
        var("SNMPSIM_V3_PRIVKEY"),
    );
    let cases = [
        (
            v3("cisco-c3560", &auth, &privacy, "nobody-here"),
            "unknown user",
        ),
        (
            v3("cisco-c3560", "wrong-auth-key", &privacy, &user),
            "wrong auth",
        ),
        (
            v3("cisco-c3560", &auth, "wrong-priv-key", &user),
            "wrong priv",
        ),
    ];
    for (security, case) in cases {
        let mut c = client(security).await;
        let e = otsensor_snmp::discovery::read_system(&mut c)
            .await
            .unwrap_err();
        let ok = match case {
            "unknown user" => matches!(e, ClientError::UnknownUser { .. }),
            "wrong auth" => matches!(e, ClientError::WrongDigest { .. }),
            _ => matches!(e, ClientError::DecryptionError { .. }),
        };
        assert!(ok, "{case}: {e}");
    }
}

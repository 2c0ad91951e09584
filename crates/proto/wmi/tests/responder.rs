//! Against the testbed's impacket-based DCOM/WMI responder (peer `wmi`) and its misbehaving twins
//! (`wmi-frag`, `wmi-badsig`, `wmi-silent`, `wmi-closed`, `wmi-fault`): the inventory equals the
//! responder's dataset exactly, and each bad case fails at its stage with its message.

use otsensor_core::probe::Unpaced;
use otsensor_core::{Fact, Outcome, Probe, ProbeContext};
use otsensor_testkit::{require_tcp_peer, var};
use otsensor_wmi::client::{ALLOWED_CALLS, ClientConfig, Stage, Timeouts, WmiClient, WmiError};
use otsensor_wmi::inventory::HostInventory;
use otsensor_wmi::ntlm::Credentials;
use otsensor_wmi::probe::{WmiProbe, inventory_of};
use otsensor_wmi::rpc::AuthLevel;
use serde_json::Value as Json;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

fn credentials() -> Credentials {
    Credentials {
        domain: var("WMI_DOMAIN"),
        user: var("WMI_USER"),
        password: var("WMI_PASS"),
    }
}

/// The address of a responder (`WMI_IP`, `WMI_FRAG_IP`, ...) on WMI_PORT, checked to be up.
fn peer(ip_var: &str, name: &str) -> SocketAddr {
    let a: SocketAddr = format!("{}:{}", var(ip_var), var("WMI_PORT"))
        .parse()
        .unwrap();
    require_tcp_peer(a, name);
    a
}

fn config(level: AuthLevel, base: Duration) -> ClientConfig {
    ClientConfig {
        level,
        timeouts: Timeouts::from_base(base),
        ..ClientConfig::default()
    }
}

/// The dataset's rows of a class: property name -> JSON value.
fn dataset(class: &str) -> Vec<serde_json::Map<String, Json>> {
    let path = var("WMI_DATASET");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let d: Json = serde_json::from_str(&text).unwrap();
    d["classes"][class]
        .as_array()
        .unwrap_or_else(|| panic!("{class} not in {path}"))
        .iter()
        .map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .map(|p| (p[0].as_str().unwrap().to_string(), p[2].clone()))
                .collect()
        })
        .collect()
}

fn s(row: &serde_json::Map<String, Json>, k: &str) -> Option<String> {
    row.get(k).and_then(Json::as_str).map(str::to_string)
}

fn assert_matches_dataset(inv: &HostInventory) {
    let os = &dataset("Win32_OperatingSystem")[0];
    let got = inv.os.as_ref().expect("OS");
    assert_eq!(Some(got.name.clone()), s(os, "Caption"));
    assert_eq!(got.version, s(os, "Version"));
    assert_eq!(got.build, s(os, "BuildNumber"));
    assert_eq!(
        got.service_pack,
        s(os, "CSDVersion"),
        "no service pack (CSDVersion NULL, SP 0)"
    );
    assert_eq!(got.architecture, s(os, "OSArchitecture"));
    let cim = |k: &str| otsensor_wmi::wmio::parse_datetime(&s(os, k).unwrap());
    assert_eq!(got.installed, cim("InstallDate"));
    assert_eq!(got.last_boot, cim("LastBootUpTime"));
    assert_eq!(got.installed.unwrap().to_string(), "2021-03-05T10:15:00Z");

    let cs = &dataset("Win32_ComputerSystem")[0];
    assert_eq!(inv.computer.name, s(cs, "Name"));
    assert_eq!(inv.computer.domain, s(cs, "Domain"));
    assert_eq!(inv.computer.manufacturer, s(cs, "Manufacturer"));
    assert_eq!(inv.computer.model, s(cs, "Model"));
    assert_eq!(inv.computer.part_of_domain, cs["PartOfDomain"].as_bool());
    assert_eq!(
        inv.bios_serial,
        s(&dataset("Win32_BIOS")[0], "SerialNumber")
    );

    let enabled: Vec<_> = dataset("Win32_NetworkAdapterConfiguration")
        .into_iter()
        .filter(|r| r["IPEnabled"] == Json::Bool(true))
        .collect();
    assert_eq!(inv.interfaces.len(), enabled.len(), "enabled adapters only");
    for (got, want) in inv.interfaces.iter().zip(&enabled) {
        assert_eq!(got.name, s(want, "Description"));
        assert_eq!(
            got.mac,
            Some(s(want, "MACAddress").unwrap().parse().unwrap())
        );
        let ips: Vec<IpAddr> = want["IPAddress"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().parse().unwrap())
            .collect();
        assert_eq!(got.addresses, ips);
    }

    let kbs = dataset("Win32_QuickFixEngineering");
    assert_eq!(
        inv.hotfixes
            .iter()
            .map(|h| h.id.clone())
            .collect::<Vec<_>>(),
        kbs.iter()
            .map(|r| s(r, "HotFixID").unwrap())
            .collect::<Vec<_>>()
    );
    for (h, r) in inv.hotfixes.iter().zip(&kbs) {
        assert_eq!(h.description, s(r, "Description"));
        assert_eq!(
            h.installed_on,
            Some(otsensor_wmi::inventory::installed_on(
                &s(r, "InstalledOn").unwrap()
            ))
        );
    }
    assert_eq!(inv.last_hotfix().map(|h| h.id.as_str()), Some("KB5005701"));

    let sw = dataset("Win32_InstalledWin32Program");
    let got = inv.software.as_ref().expect("software");
    assert_eq!(got.len(), sw.len());
    for (g, w) in got.iter().zip(&sw) {
        assert_eq!(Some(g.name.clone()), s(w, "Name"));
        assert_eq!(g.version, s(w, "Version"));
        assert_eq!(g.vendor, s(w, "Vendor"));
    }
    assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
}

#[tokio::test]
async fn the_inventory_at_privacy_is_the_dataset() {
    let a = peer("WMI_IP", "wmi");
    let (inv, stats) = inventory_of(
        a.ip(),
        a.port(),
        &credentials(),
        &config(AuthLevel::Privacy, Duration::from_secs(10)),
        Arc::new(Unpaced),
    )
    .await
    .unwrap();
    assert_matches_dataset(&inv);
    // read-only: every call made is one of the documented ones
    for (iface, opnum) in &stats.calls {
        assert!(
            ALLOWED_CALLS
                .iter()
                .any(|(s, o, _)| s.uuid == *iface && o == opnum),
            "{iface} opnum {opnum}"
        );
    }
    assert_eq!(
        stats.calls.len(),
        1 + 1 + 6 * 2 + 1,
        "activation, login, 6 x (query + next), release"
    );
}

#[tokio::test]
async fn the_inventory_at_integrity_is_the_dataset_and_the_level_is_kept() {
    let a = peer("WMI_IP", "wmi");
    let mut c = WmiClient::connect(
        a.ip(),
        a.port(),
        &credentials(),
        &config(AuthLevel::Integrity, Duration::from_secs(10)),
        Arc::new(Unpaced),
    )
    .await
    .unwrap();
    assert_eq!(c.level(), AuthLevel::Integrity);
    assert_eq!(
        c.exporter().ip(),
        a.ip(),
        "the host's own address among its bindings"
    );
    assert_ne!(c.exporter().port(), a.port(), "the dynamic port");
    let inv = otsensor_wmi::inventory::collect(&mut c).await.unwrap();
    c.close().await.unwrap();
    assert_matches_dataset(&inv);
}

#[tokio::test]
async fn next_is_asked_in_batches_until_wbem_s_false() {
    let a = peer("WMI_IP", "wmi");
    let config = ClientConfig {
        batch: 1,
        ..config(AuthLevel::Privacy, Duration::from_secs(10))
    };
    let mut c = WmiClient::connect(a.ip(), a.port(), &credentials(), &config, Arc::new(Unpaced))
        .await
        .unwrap();
    let rows = c
        .query("SELECT HotFixID FROM Win32_QuickFixEngineering")
        .await
        .unwrap();
    let ids: Vec<&str> = rows.iter().map(|r| r.text("HotFixID").unwrap()).collect();
    assert_eq!(ids, ["KB5005112", "KB5005701"]);
    let nexts = c
        .stats()
        .calls
        .iter()
        .filter(|(iface, op)| *iface == otsensor_wmi::wmi::IID_IENUM_WBEM_CLASS_OBJECT && *op == 4)
        .count();
    assert_eq!(
        nexts, 3,
        "one object per Next, then an empty batch with WBEM_S_FALSE"
    );
    c.close().await.unwrap();
}

#[tokio::test]
async fn fragmented_responses_are_put_back_together() {
    let a = peer("WMI_FRAG_IP", "wmi-frag");
    let (inv, stats) = inventory_of(
        a.ip(),
        a.port(),
        &credentials(),
        &config(AuthLevel::Privacy, Duration::from_secs(10)),
        Arc::new(Unpaced),
    )
    .await
    .unwrap();
    assert_matches_dataset(&inv);
    assert!(stats.bytes_received > 0);
}

#[tokio::test]
async fn the_probe_reports_typed_facts() {
    let a = peer("WMI_IP", "wmi");
    let probe = WmiProbe::new(credentials(), AuthLevel::Privacy);
    let ctx = ProbeContext {
        port: a.port(),
        timeout: Duration::from_secs(10),
        depth: 0,
        pacer: Arc::new(Unpaced),
    };
    let report = probe.probe(a.ip(), ctx).await;
    assert_eq!(report.outcome, Outcome::Identified, "{:?}", report.error);
    let facts = report.observation.unwrap().facts;
    let os = &dataset("Win32_OperatingSystem")[0];
    assert!(
        facts
            .iter()
            .any(|f| matches!(f, Fact::Os(o) if Some(o.name.clone()) == s(os, "Caption")))
    );
    assert!(facts.contains(&Fact::Domain(var("WMI_DOMAIN"))));
    assert!(facts.contains(&Fact::Name("ENG-WS-01".into())));
    assert!(facts.contains(&Fact::Mac("00:0c:29:aa:bb:cc".parse().unwrap())));
    assert!(
        facts
            .iter()
            .any(|f| matches!(f, Fact::Hotfixes(h) if h.len() == 2))
    );
    assert!(
        facts
            .iter()
            .any(|f| matches!(f, Fact::Software(sw) if sw.len() == 3))
    );
}

async fn failure(ip_var: &str, name: &str, creds: Credentials, base: Duration) -> WmiError {
    let a = peer(ip_var, name);
    WmiClient::connect(
        a.ip(),
        a.port(),
        &creds,
        &config(AuthLevel::Privacy, base),
        Arc::new(Unpaced),
    )
    .await
    .expect_err("the session should fail")
}

#[tokio::test]
async fn a_wrong_password_is_a_logon_failure() {
    let mut c = credentials();
    c.password = "wrong-password".into();
    let e = failure("WMI_IP", "wmi", c, Duration::from_secs(10)).await;
    assert!(matches!(e, WmiError::LogonFailure { .. }), "{e}");
    let text = e.to_string();
    assert!(text.contains("logon failure"), "{text}");
    assert!(
        text.contains(&format!("{}\\{}", var("WMI_DOMAIN"), var("WMI_USER"))),
        "{text}"
    );
    assert!(!text.contains("wrong-password"), "no secret in errors");
}

#[tokio::test]
async fn a_wrong_user_is_a_logon_failure() {
    let mut c = credentials();
    c.user = "mallory".into();
    let e = failure("WMI_IP", "wmi", c, Duration::from_secs(10)).await;
    assert!(matches!(e, WmiError::LogonFailure { .. }), "{e}");
}

#[tokio::test]
async fn a_silent_dynamic_port_times_out_with_a_firewall_hint() {
    let e = failure(
        "WMI_SILENT_IP",
        "wmi-silent",
        credentials(),
        Duration::from_secs(1),
    )
    .await;
    assert!(
        matches!(
            e,
            WmiError::Timeout {
                stage: Stage::DynamicBind,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("firewall"), "{e}");
}

#[tokio::test]
async fn a_closed_dynamic_port_is_refused_at_that_stage() {
    let e = failure(
        "WMI_CLOSED_IP",
        "wmi-closed",
        credentials(),
        Duration::from_secs(5),
    )
    .await;
    assert!(
        matches!(
            e,
            WmiError::Refused {
                stage: Stage::DynamicConnect,
                ..
            }
        ),
        "{e}"
    );
}

#[tokio::test]
async fn a_bad_response_signature_is_refused() {
    let e = failure(
        "WMI_BADSIG_IP",
        "wmi-badsig",
        credentials(),
        Duration::from_secs(5),
    )
    .await;
    assert!(
        matches!(
            e,
            WmiError::BadSignature {
                stage: Stage::Login,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("signature"), "{e}");
}

#[tokio::test]
async fn a_query_fault_is_named_and_ends_the_probe() {
    let a = peer("WMI_FAULT_IP", "wmi-fault");
    let probe = WmiProbe::new(credentials(), AuthLevel::Privacy);
    let ctx = ProbeContext {
        port: a.port(),
        timeout: Duration::from_secs(5),
        depth: 0,
        pacer: Arc::new(Unpaced),
    };
    let report = probe.probe(a.ip(), ctx).await;
    assert_eq!(report.outcome, Outcome::Error);
    let text = report.error.unwrap();
    assert!(text.contains("WBEM_E_ACCESS_DENIED"), "{text}");
    assert!(text.contains("Remote Enable"), "{text}");
}

#[tokio::test]
async fn nothing_listening_on_135_is_refused() {
    let ip: IpAddr = var("WMI_NOLISTEN_IP").parse().unwrap();
    let probe = WmiProbe::new(credentials(), AuthLevel::Privacy);
    let ctx = ProbeContext {
        port: var("WMI_PORT").parse().unwrap(),
        timeout: Duration::from_secs(2),
        depth: 0,
        pacer: Arc::new(Unpaced),
    };
    let report = probe.probe(ip, ctx).await;
    assert_eq!(report.outcome, Outcome::Refused, "{:?}", report.error);
}

//! Secrets at rest: an SNMP community, SNMPv3 pass phrases and WEM passwords stored through the
//! API appear in plain text nowhere: not in the SQLite file or its -wal, not in the service's
//! log output (every level), not in any API response or export, not in a run's probe log.

mod common;

use common::{Auth, Sensor};
use otsensor_testkit::{addr, require_snmp_peer, require_tcp_peer, var};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

const COMMUNITY: &str = "Community-Zq81-secret";
const AUTH_PASS: &str = "AuthPass-Kx42-secret";
const PRIV_PASS: &str = "PrivPass-Wm73-secret";
const WEM_PASS: &str = "WemPass-Rb56-secret";
const WEM_PASS_2: &str = "WemPass2-Tn09-secret";
const ALL: [&str; 5] = [COMMUNITY, AUTH_PASS, PRIV_PASS, WEM_PASS, WEM_PASS_2];

/// Everything the service logs, at every level.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn assert_clean(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for s in ALL {
        assert!(!text.contains(s), "{what} holds a secret in plain text");
    }
}

fn assert_files_clean(dir: &Path) {
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            // SQLite may remove its -wal/-shm files between the listing and the read
            let bytes = match std::fs::read(&path) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => panic!("reading {}: {e}", path.display()),
            };
            seen += 1;
            assert_clean(&path.display().to_string(), &bytes);
        }
    }
    assert!(seen > 0);
}

async fn get_text(sensor: &Sensor, path: &str, auth: &Auth) -> String {
    let (status, _, body) = sensor.send(Method::GET, path, auth, None).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    match body {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_stored_through_the_api_are_never_in_clear() {
    let snmpd = addr("SNMPD_IP", "SNMPD_PORT");
    require_snmp_peer(snmpd, &var("SNMPD_COMMUNITY"), "snmpd");
    let wmi: SocketAddr = format!("{}:{}", var("WMI_IP"), var("WMI_PORT"))
        .parse()
        .unwrap();
    require_tcp_peer(wmi, "wmi");
    let log = Captured::default();
    let writer = log.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let data = tempfile::tempdir().unwrap();
    let sensor = Sensor::start("127.30.0.30", data.path()).await;
    let admin = sensor.login("admin1").await;
    let mut responses: Vec<String> = Vec::new();
    let ip = snmpd.ip().to_string();

    // switch scans with a community and with v3 pass phrases, created, updated, run
    let v2c = sensor
        .create_scan(
            &admin,
            json!({"name": "v2c", "targets": [ip],
                   "use_case": {"kind": "switch", "version": "snmp-v2c", "community": COMMUNITY,
                                "timeout_secs": 0.5, "retries": 0}}),
        )
        .await;
    responses.push(v2c.to_string());
    let v3_body = json!({"name": "v3", "targets": [ip],
        "use_case": {"kind": "switch", "version": "snmp-v3", "user": "secret-test-user",
                     "auth_proto": "SHA", "auth_pass": AUTH_PASS,
                     "priv_proto": "AES", "priv_pass": PRIV_PASS, "timeout_secs": 0.5, "retries": 0}});
    let v3 = sensor.create_scan(&admin, v3_body.clone()).await;
    responses.push(v3.to_string());
    let v3_id = v3["id"].as_i64().unwrap();
    let updated = sensor
        .call(
            Method::PUT,
            &format!("/api/scans/{v3_id}"),
            &admin,
            v3_body,
            StatusCode::OK,
        )
        .await;
    responses.push(updated.to_string());
    for id in [v2c["id"].as_i64().unwrap(), v3_id] {
        let run = sensor
            .call(
                Method::POST,
                &format!("/api/scans/{id}/run"),
                &admin,
                Value::Null,
                StatusCode::ACCEPTED,
            )
            .await;
        let run = sensor
            .wait_for_run(run["id"].as_i64().unwrap(), &admin)
            .await;
        responses.push(run.to_string());
        responses.push(get_text(&sensor, &format!("/api/runs/{}/log", run["id"]), &admin).await);
        responses.push(
            get_text(
                &sensor,
                &format!("/api/runs/{}/log?format=csv", run["id"]),
                &admin,
            )
            .await,
        );
    }

    // WEM passwords, as JSON and as CSV, and a scan with them (the account is wrong on purpose)
    let ranges = sensor
        .call(
            Method::PUT,
            "/api/wem/ranges",
            &admin,
            json!([{"from": var("WMI_IP"), "to": var("WMI_IP"), "user": "LAB\\nobody", "password": WEM_PASS}]),
            StatusCode::OK,
        )
        .await;
    responses.push(ranges.to_string());
    let csv = format!(
        "FROM,TO,USER,PASSWORD,DISABLE\n{ip},{ip},LAB\\nobody,,FALSE\n127.0.1.1,127.0.1.2,x,{WEM_PASS_2},TRUE\n",
        ip = var("WMI_IP")
    );
    let Auth::Session { cookie, csrf, .. } = &admin else {
        panic!()
    };
    let imported = sensor
        .client
        .post(format!("{}/api/wem/ranges/import", sensor.base))
        .header("Cookie", format!("otsensor_session={cookie}"))
        .header("X-CSRF-Token", csrf)
        .header("Content-Type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(imported.status(), StatusCode::OK);
    responses.push(imported.text().await.unwrap());
    let run = sensor
        .call(
            Method::POST,
            "/api/wem/scan",
            &admin,
            Value::Null,
            StatusCode::ACCEPTED,
        )
        .await;
    let run = sensor
        .wait_for_run(run["id"].as_i64().unwrap(), &admin)
        .await;
    assert_eq!(run["identified"], 0, "{run}");
    responses.push(run.to_string());

    // every read there is
    for path in [
        "/api/scans",
        "/api/runs",
        "/api/audit?per_page=1000",
        "/api/devices",
        "/api/devices/export?format=csv",
        "/api/devices/export",
        "/api/devices/links",
        "/api/settings",
        "/api/wem",
        "/api/wem/ranges",
        "/api/wem/ranges/export",
        "/api/wem/schedule",
        "/api/wem/results.csv",
        "/api/wem/log.csv",
        "/metrics",
        "/api/rdns/servers",
        "/api/rdns/runs",
    ] {
        responses.push(get_text(&sensor, path, &admin).await);
    }
    for id in [v2c["id"].as_i64().unwrap(), v3_id] {
        responses.push(get_text(&sensor, &format!("/api/scans/{id}"), &admin).await);
        responses.push(get_text(&sensor, &format!("/api/scans/{id}/runs"), &admin).await);
    }
    for (i, r) in responses.iter().enumerate() {
        assert_clean(&format!("response {i}"), r.as_bytes());
    }
    // the database and its WAL while the service runs, every file after it stopped
    assert_files_clean(data.path());
    sensor.service.shutdown().await;
    assert_files_clean(data.path());
    let logged = log.0.lock().unwrap().clone();
    assert!(!logged.is_empty(), "the service logged nothing");
    assert_clean("the log", &logged);
}

//! `otsensor serve` and `otsensor user add` as processes: the first start's one-time password,
//! a Modbus scan over the API, then kill -9 in the middle of a sweep and a restart: the run is
//! marked interrupted and no device is lost.

use otsensor_testkit::{addr, require_tcp_peer, var};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// A running `otsensor serve` and what it printed before "ready".
struct Served {
    child: Child,
    url: String,
    lines: Vec<String>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(data: &Path) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_otsensor"))
        .args(["serve", "--listen", "127.0.100.40:0", "--data"])
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        if line == "otsensor: ready" {
            break;
        }
        lines.push(line);
    }
    let url = lines
        .iter()
        .find_map(|l| l.strip_prefix("otsensor: listening on "))
        .unwrap_or_else(|| panic!("no listening line in {lines:?}"))
        .to_string();
    Served { child, url, lines }
}

fn user_add(data: &Path, name: &str, role: &str, password: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_otsensor"))
        .args(["user", "add", name, "--role", role, "--data"])
        .arg(data)
        .env("OTSENSOR_PASSWORD", password)
        .output()
        .unwrap()
}

fn client(data: &Path) -> reqwest::Client {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(data.join("tls/cert.pem")).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .build()
        .unwrap()
}

/// Logs in; returns an API token of the user (simpler than cookies for the rest).
async fn token(http: &reqwest::Client, url: &str, name: &str, password: &str) -> String {
    let resp = http
        .post(format!("{url}/api/session"))
        .json(&json!({"name": name, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("otsensor_session="))
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    let resp = http
        .post(format!("{url}/api/tokens"))
        .header("Cookie", cookie)
        .header("X-CSRF-Token", body["csrf_token"].as_str().unwrap())
        .json(&json!({"name": "test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let body: Value = resp.json().await.unwrap();
    body["token_secret"].as_str().unwrap().to_string()
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = http.request(method, url).bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_survives_kill_9_with_the_run_marked_interrupted_and_no_device_lost() {
    require_tcp_peer(addr("MODBUS_IP", "MODBUS_PORT"), "modbus");
    require_tcp_peer(addr("MODBUS2_IP", "MODBUS2_PORT"), "modbus2");
    let data = tempfile::tempdir().unwrap();

    // first start: HTTPS with a generated certificate, and a one-time password for admin
    let mut first = serve(data.path());
    assert!(
        first.url.starts_with("https://127.0.100.40:"),
        "{}",
        first.url
    );
    let otp = first
        .lines
        .iter()
        .find_map(|l| l.split("one-time password ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no one-time password in {:?}", first.lines))
        .to_string();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.path().join("tls/key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the key is readable by its owner only");
    }
    let http = client(data.path());
    let url = first.url.clone();
    let resp = http
        .post(format!("{url}/api/session"))
        .json(&json!({"name": "admin", "password": otp}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("otsensor_session="))
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    let resp = http
        .post(format!("{url}/api/session/password"))
        .header("Cookie", cookie)
        .header("X-CSRF-Token", body["csrf_token"].as_str().unwrap())
        .json(&json!({"current": otp, "new": "the admin's own password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let admin = token(&http, &url, "admin", "the admin's own password").await;

    // a Modbus scan of the two servers, to completion: two devices in the store
    let targets = [var("MODBUS_IP"), var("MODBUS2_IP")];
    let (status, scan) = call(
        &http,
        reqwest::Method::POST,
        format!("{url}/api/scans"),
        &admin,
        Some(json!({
            "name": "plcs", "use_case": {"kind": "plc", "protocol": "modbus"}, "targets": targets,
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{scan}");
    let (status, run) = call(
        &http,
        reqwest::Method::POST,
        format!("{url}/api/scans/{}/run", scan["id"]),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{run}");
    let mut finished = Value::Null;
    for _ in 0..600 {
        let (_, r) = call(
            &http,
            reqwest::Method::GET,
            format!("{url}/api/runs/{}", run["id"]),
            &admin,
            None,
        )
        .await;
        if r["status"] != "running" {
            finished = r;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(finished["status"], "completed", "{finished}");
    assert_eq!(finished["new_devices"], 2);

    // a /16 sweep, killed with SIGKILL in the middle
    let (_, sweep) = call(&http, reqwest::Method::POST, format!("{url}/api/scans"), &admin, Some(json!({
        "name": "sweep", "use_case": {"kind": "plc", "protocol": "modbus"}, "targets": ["127.3.0.0/16"],
    }))).await;
    let (status, cut) = call(
        &http,
        reqwest::Method::POST,
        format!("{url}/api/scans/{}/run", sweep["id"]),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    for _ in 0..600 {
        let (_, r) = call(
            &http,
            reqwest::Method::GET,
            format!("{url}/api/runs/{}", cut["id"]),
            &admin,
            None,
        )
        .await;
        if r["progress"]["done"].as_u64().unwrap_or(0) > 50 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.child.kill().unwrap(); // SIGKILL
    first.child.wait().unwrap();

    // a user added while the sensor is down
    let added = user_add(data.path(), "ops", "analyst", "ops password 123");
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let refused = user_add(data.path(), "ops", "analyst", "ops password 123");
    assert_eq!(refused.status.code(), Some(2), "a taken name is bad input");
    let short = user_add(data.path(), "dev", "readonly", "short");
    assert_eq!(short.status.code(), Some(2));

    // the restart: the cut-off run is interrupted, the devices are all there
    let second = serve(data.path());
    let note = format!("run {} was cut off", cut["id"]);
    assert!(
        second.lines.iter().any(|l| l.contains(&note)),
        "{:?}",
        second.lines
    );
    assert!(!second.lines.iter().any(|l| l.contains("one-time password")));
    let url = second.url.clone();
    let admin = token(&http, &url, "admin", "the admin's own password").await;
    let (_, r) = call(
        &http,
        reqwest::Method::GET,
        format!("{url}/api/runs/{}", cut["id"]),
        &admin,
        None,
    )
    .await;
    assert_eq!(r["status"], "interrupted", "{r}");
    let (_, devices) = call(
        &http,
        reqwest::Method::GET,
        format!("{url}/api/devices"),
        &admin,
        None,
    )
    .await;
    assert_eq!(devices["total"], 2, "{devices}");
    let ops = token(&http, &url, "ops", "ops password 123").await;
    let (status, me) = call(
        &http,
        reqwest::Method::GET,
        format!("{url}/api/session"),
        &ops,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user"]["role"], "analyst");
    let (_, audit) = call(
        &http,
        reqwest::Method::GET,
        format!("{url}/api/audit?action=user.create"),
        &admin,
        None,
    )
    .await;
    let actors: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    assert_eq!(actors, ["cli", "system"]);
}

#[test]
fn serve_refuses_to_listen_on_every_interface() {
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_otsensor"))
        .args(["serve", "--listen", "0.0.0.0:8443", "--data"])
        .arg(data.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("server.listen"), "{err}");
}

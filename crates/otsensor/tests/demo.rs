//! `otsensor demo` as a newcomer runs it: it starts in a temporary directory, prints the
//! console's address and a one-time admin password; logging in over the API with that password
//! shows devices of every kind in the inventory and links for the device map.
//!
//! The demo plant lives in 127.10.0.0/24 (the sim tests use 127.10.1.0/24 and up); the console
//! listens on 127.32.0.251 (the sim engineer's block).

use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

struct Demo(Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
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

async fn token(http: &reqwest::Client, url: &str, password: &str) -> String {
    let resp = http
        .post(format!("{url}/api/session"))
        .json(&json!({"name": "admin", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "the printed password logs admin in"
    );
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
        .json(&json!({"name": "demo test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let body: Value = resp.json().await.unwrap();
    body["token_secret"].as_str().unwrap().to_string()
}

async fn get(http: &reqwest::Client, url: String, token: &str) -> Value {
    let resp = http.get(&url).bearer_auth(token).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{url}");
    resp.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_shows_every_kind_of_device_and_the_links_between_them() {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_otsensor"))
        .args([
            "demo",
            "--listen",
            "127.32.0.251:8443",
            "--devices",
            "16",
            "--data",
        ])
        .arg(data.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("otsensor demo starts");
    let stdout = child.stdout.take().unwrap();
    let demo = Demo(child);
    let (mut url, mut password) = (None, None);
    let mut seen = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(u) = line.strip_prefix("otsensor demo: console at ") {
            url = Some(u.to_string());
        }
        if let Some(p) = line.strip_prefix("otsensor demo: log in as admin with the password ") {
            password = Some(p.to_string());
        }
        let done = line == "otsensor demo: ready";
        seen.push(line);
        if done {
            break;
        }
    }
    let url = url.unwrap_or_else(|| panic!("no console address in {seen:?}"));
    let password = password.unwrap_or_else(|| panic!("no password in {seen:?}"));
    assert_eq!(url, "https://127.32.0.251:8443");

    let http = client(data.path());
    let token = token(&http, &url, &password).await;
    for protocol in ["modbus", "s7", "enip", "bacnet", "snmp"] {
        let page = get(
            &http,
            format!("{url}/api/devices?protocol={protocol}&per_page=1000"),
            &token,
        )
        .await;
        assert!(
            page["total"].as_u64().unwrap_or(0) >= 2,
            "{protocol} devices in the inventory: {page}"
        );
    }
    let named = get(
        &http,
        format!("{url}/api/devices?protocol=s7&per_page=1000"),
        &token,
    )
    .await;
    let fqdns: Vec<&str> = named["items"]
        .as_array()
        .expect("a page of devices")
        .iter()
        .filter_map(|d| d["fqdn"].as_str())
        .collect();
    assert!(
        !fqdns.is_empty() && fqdns.iter().all(|f| f.ends_with(".plant.example")),
        "reverse DNS named the S7 stations from the plant's DNS server: {named}"
    );
    let links = get(&http, format!("{url}/api/devices/links"), &token).await;
    let links = links["links"].as_array().expect("a list of links");
    for kind in ["access", "neighbor"] {
        assert!(
            links.iter().any(|l| l["kind"] == kind),
            "the device map has {kind} links from the switch scan: {links:?}"
        );
    }
    let scans = get(&http, format!("{url}/api/scans"), &token).await;
    let names: Vec<&str> = scans
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert!(
        names
            .iter()
            .filter(|n| n.starts_with("Demo plant:"))
            .count()
            == 5,
        "the ready-made PLC and switch scans are stored: {names:?}"
    );
    drop(demo);
}

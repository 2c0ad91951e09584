//! WEM through the service: ranges as JSON and CSV (passwords write-only, imports all or
//! nothing with line numbers), the schedule, scan now against the impacket WMI responders, the
//! results and log CSV downloads, roles, audit, and the scheduler's run.
//!
//! Expected identities come from testbed/config.sh and the responder's dataset.

mod common;

use common::{Auth, Sensor, config};
use jiff::Timestamp;
use otsensor_testkit::{require_tcp_peer, var};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

fn require_wmi_peers() {
    for (ip, name) in [
        ("WMI_IP", "wmi"),
        ("WMI_FRAG_IP", "wmi-frag"),
        ("WMI_BADSIG_IP", "wmi-badsig"),
        ("WMI_SILENT_IP", "wmi-silent"),
        ("WMI_CLOSED_IP", "wmi-closed"),
        ("WMI_FAULT_IP", "wmi-fault"),
    ] {
        let a: SocketAddr = format!("{}:{}", var(ip), var("WMI_PORT")).parse().unwrap();
        require_tcp_peer(a, name);
    }
}

fn account() -> String {
    format!("{}\\{}", var("WMI_DOMAIN"), var("WMI_USER"))
}

/// Sends a raw body (CSV) and returns status and JSON.
async fn send_csv(sensor: &Sensor, path: &str, auth: &Auth, csv: &str) -> (StatusCode, Value) {
    let Auth::Session { cookie, csrf, .. } = auth else {
        panic!("a session")
    };
    let resp = sensor
        .client
        .post(format!("{}{path}", sensor.base))
        .header("Cookie", format!("otsensor_session={cookie}"))
        .header("X-CSRF-Token", csrf)
        .header("Content-Type", "text/csv")
        .body(csv.to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// A download's text.
pub async fn text_of(sensor: &Sensor, path: &str, auth: &Auth) -> String {
    let Auth::Session { cookie, .. } = auth else {
        panic!("a session")
    };
    let resp = sensor
        .client
        .get(format!("{}{path}", sensor.base))
        .header("Cookie", format!("otsensor_session={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    resp.text().await.unwrap()
}

fn csv_rows(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            headers
                .iter()
                .zip(rec.unwrap().iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wem_ranges_schedule_scan_and_downloads_over_the_api() {
    require_wmi_peers();
    let data = tempfile::tempdir().unwrap();
    let sensor = Sensor::start("127.30.0.20", data.path()).await;
    let admin = sensor.login("admin1").await;
    let analyst = sensor.login("analyst1").await;
    let reader = sensor.login("reader1").await;
    let password = var("WMI_PASS");
    let file = format!(
        "FROM,TO,USER,PASSWORD,DISABLE\n{},{},{},{},FALSE\n127.0.1.1,127.0.1.9,nobody,x-secret-x,TRUE\n",
        var("WMI_IP"),
        var("WMI_FAULT_IP"),
        account(),
        password
    );

    // only admins import; a bad file is refused whole, every bad line numbered
    let (status, _) = send_csv(&sensor, "/api/wem/ranges/import", &analyst, &file).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, ranges) = send_csv(&sensor, "/api/wem/ranges/import", &admin, &file).await;
    assert_eq!(status, StatusCode::OK, "{ranges}");
    assert_eq!(ranges.as_array().unwrap().len(), 2);
    assert_eq!(ranges[0]["from"], var("WMI_IP").as_str());
    assert_eq!(ranges[0]["user"], account().as_str());
    assert_eq!(ranges[0]["password_set"], true);
    assert_eq!(ranges[1]["disabled"], true);
    assert!(!ranges.to_string().contains(&password));
    let bad = "FROM,TO,USER,PASSWORD,DISABLE\n127.0.0.70,127.0.0.70,u,p,FALSE\n127.0.0.x,127.0.0.9,u,p,FALSE\n127.0.0.9,127.0.0.9,u,p,YES\n";
    let (status, e) = send_csv(&sensor, "/api/wem/ranges/import", &admin, bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["field"], "csv");
    let detail = e["detail"].as_str().unwrap();
    assert!(
        detail.contains("line 3:") && detail.contains("line 4:"),
        "{detail}"
    );
    let (status, e) = send_csv(&sensor, "/api/wem/ranges/import", &admin, "FROM,TO\n").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    let kept = sensor.get("/api/wem/ranges", &reader, StatusCode::OK).await;
    assert_eq!(kept, ranges, "nothing of a refused import is saved");

    // JSON ranges: errors name ranges[i]; a range outside the scope is refused
    for (body, field) in [
        (
            json!([{"from": "127.0.0.x", "to": "127.0.0.9", "user": "u", "password": "p"}]),
            "ranges[0]",
        ),
        (
            json!([{"from": "127.0.0.9", "to": "127.0.0.9", "user": "u", "password": "p"},
                {"from": "127.0.0.9", "to": "127.0.0.1", "user": "u", "password": "p"}]),
            "ranges[1]",
        ),
        (
            json!([{"from": "192.0.2.1", "to": "192.0.2.1", "user": "u", "password": "p"}]),
            "ranges[0]",
        ),
        (
            json!([{"from": "127.0.0.9", "to": "127.0.0.9", "user": "u", "colour": "p"}]),
            "[0].colour",
        ),
    ] {
        let (status, _, e) = sensor
            .send(Method::PUT, "/api/wem/ranges", &admin, Some(body.clone()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {e}");
        assert!(e["field"].as_str().unwrap().ends_with(field), "{body}: {e}");
    }
    assert_eq!(
        sensor.get("/api/wem/ranges", &reader, StatusCode::OK).await,
        ranges
    );
    // the same ranges without passwords keep the stored ones
    let same = json!([
        {"from": var("WMI_IP"), "to": var("WMI_FAULT_IP"), "user": account()},
        {"from": "127.0.1.1", "to": "127.0.1.9", "user": "nobody", "disabled": true},
    ]);
    let updated = sensor
        .call(Method::PUT, "/api/wem/ranges", &admin, same, StatusCode::OK)
        .await;
    assert_eq!(updated, ranges);

    // export: PASSWORD empty
    let exported = text_of(&sensor, "/api/wem/ranges/export", &reader).await;
    assert!(
        exported.starts_with("FROM,TO,USER,PASSWORD,DISABLE\n"),
        "{exported}"
    );
    assert!(!exported.contains(&password) && !exported.contains("x-secret-x"));
    let rows = csv_rows(&exported);
    assert_eq!(rows[0]["PASSWORD"], "");
    assert_eq!(rows[0]["USER"], account());

    // schedule
    let s = sensor
        .get("/api/wem/schedule", &reader, StatusCode::OK)
        .await;
    assert_eq!(s, json!({"schedule": "manual", "next_run": null}));
    let e = sensor
        .call(
            Method::PUT,
            "/api/wem/schedule",
            &admin,
            json!({"schedule": "25:00"}),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(e["field"], "schedule");
    sensor
        .call(
            Method::PUT,
            "/api/wem/schedule",
            &analyst,
            json!({"schedule": "02:00"}),
            StatusCode::FORBIDDEN,
        )
        .await;
    let s = sensor
        .call(
            Method::PUT,
            "/api/wem/schedule",
            &admin,
            json!({"schedule": "02:00, 14:30"}),
            StatusCode::OK,
        )
        .await;
    assert_eq!(s["schedule"], "02:00,14:30");
    assert!(s["next_run"].is_string());

    // scan now: readers may not; analysts may
    sensor
        .call(
            Method::POST,
            "/api/wem/scan",
            &reader,
            Value::Null,
            StatusCode::FORBIDDEN,
        )
        .await;
    let run = sensor
        .call(
            Method::POST,
            "/api/wem/scan",
            &analyst,
            Value::Null,
            StatusCode::ACCEPTED,
        )
        .await;
    let run = sensor
        .wait_for_run(run["id"].as_i64().unwrap(), &reader)
        .await;
    assert_eq!(run["status"], "completed", "{run}");
    assert_eq!(run["probed"], 6, "{run}");
    assert_eq!(run["identified"], 2, "{run}");
    assert_eq!(run["started_by"], "analyst1");
    let status = sensor.get("/api/wem", &reader, StatusCode::OK).await;
    assert_eq!(status["last_run"]["id"], run["id"]);
    assert_eq!(status["enabled_ranges"], 1);

    let results = csv_rows(&text_of(&sensor, "/api/wem/results.csv", &reader).await);
    let ips: Vec<&str> = results.iter().map(|r| r["IP"].as_str()).collect();
    assert_eq!(ips, [var("WMI_IP"), var("WMI_FRAG_IP")]);
    for r in &results {
        assert_eq!(r["NAME"], "ENG-WS-01");
        assert_eq!(r["DOMAIN"], var("WMI_DOMAIN"));
        assert_eq!(r["OS"], "Microsoft Windows Server 2019 Standard");
        assert_eq!(r["LAST_KB"], "KB5005701");
    }
    let log = csv_rows(&text_of(&sensor, "/api/wem/log.csv", &reader).await);
    assert_eq!(log.len(), 6);
    let line = |v: &str| log.iter().find(|l| l["IP"] == var(v)).unwrap().clone();
    assert_eq!(line("WMI_IP")["RESULT"], "success");
    assert_eq!(line("WMI_FRAG_IP")["RESULT"], "success");
    for v in [
        "WMI_BADSIG_IP",
        "WMI_SILENT_IP",
        "WMI_CLOSED_IP",
        "WMI_FAULT_IP",
    ] {
        assert_eq!(line(v)["RESULT"], "failure", "{v}");
        assert!(!line(v)["ERROR"].is_empty(), "{v}");
        assert_eq!(
            line(v)["RANGE"],
            format!("{}-{}", var("WMI_IP"), var("WMI_FAULT_IP"))
        );
    }
    let hosts = sensor
        .get("/api/devices?q=ENG-WS-01", &reader, StatusCode::OK)
        .await;
    assert_eq!(hosts["total"], 2, "{hosts}");

    // audited
    for action in [
        "wem.ranges.import",
        "wem.ranges.update",
        "wem.schedule.update",
        "run.start",
        "run.end",
    ] {
        assert!(!sensor.audit(action, &analyst).await.is_empty(), "{action}");
    }
    assert_eq!(
        sensor.audit("run.start", &analyst).await[0]["actor"],
        "analyst1"
    );
    sensor
        .call(
            Method::POST,
            "/api/wem/stop",
            &analyst,
            Value::Null,
            StatusCode::CONFLICT,
        )
        .await;
    sensor.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_runs_the_wem_scan_at_its_time() {
    let wmi: SocketAddr = format!("{}:{}", var("WMI_IP"), var("WMI_PORT"))
        .parse()
        .unwrap();
    require_tcp_peer(wmi, "wmi");
    let data = tempfile::tempdir().unwrap();
    let start: Timestamp = "2026-03-28T02:59:00Z".parse().unwrap();
    let sensor = Sensor::start_with(config("127.30.0.21", data.path(), "UTC"), start).await;
    let admin = sensor.login("admin1").await;
    let ranges = json!([{"from": var("WMI_IP"), "to": var("WMI_IP"), "user": account(),
                         "password": var("WMI_PASS")}]);
    sensor
        .call(
            Method::PUT,
            "/api/wem/ranges",
            &admin,
            ranges,
            StatusCode::OK,
        )
        .await;
    let s = sensor
        .call(
            Method::PUT,
            "/api/wem/schedule",
            &admin,
            json!({"schedule": "03:00"}),
            StatusCode::OK,
        )
        .await;
    assert_eq!(s["next_run"], "2026-03-28T03:00:00Z");
    sensor.clock.set("2026-03-28T03:00:01Z".parse().unwrap());
    let mut status = Value::Null;
    for _ in 0..600 {
        status = sensor.get("/api/wem", &admin, StatusCode::OK).await;
        if status["last_run"].is_object() && status["last_run"]["status"] != "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let last = &status["last_run"];
    assert_eq!(last["status"], "completed", "{status}");
    assert_eq!(last["trigger"], "scheduled");
    assert_eq!(last["identified"], 1);
    assert_eq!(status["schedule"]["next_run"], "2026-03-29T03:00:00Z");
    sensor.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_wem_scan_at_a_time_and_stop_saves_it_cancelled() {
    let silent: SocketAddr = format!("{}:{}", var("WMI_SILENT_IP"), var("WMI_PORT"))
        .parse()
        .unwrap();
    require_tcp_peer(silent, "wmi-silent");
    let data = tempfile::tempdir().unwrap();
    let mut cfg = config("127.30.0.22", data.path(), "UTC");
    cfg.pacing.timeout_ms = 60_000; // the silent host holds the scan until it is stopped
    let sensor = Sensor::start_with(cfg, Timestamp::now()).await;
    let admin = sensor.login("admin1").await;
    let analyst = sensor.login("analyst1").await;
    // no enabled range: nothing to scan
    let e = sensor
        .call(
            Method::POST,
            "/api/wem/scan",
            &analyst,
            Value::Null,
            StatusCode::CONFLICT,
        )
        .await;
    assert_eq!(e["field"], "ranges", "{e}");
    let ranges = json!([{"from": var("WMI_SILENT_IP"), "to": var("WMI_SILENT_IP"),
                         "user": account(), "password": var("WMI_PASS")}]);
    sensor
        .call(
            Method::PUT,
            "/api/wem/ranges",
            &admin,
            ranges,
            StatusCode::OK,
        )
        .await;
    let run = sensor
        .call(
            Method::POST,
            "/api/wem/scan",
            &analyst,
            Value::Null,
            StatusCode::ACCEPTED,
        )
        .await;
    assert_eq!(run["status"], "running");
    let e = sensor
        .call(
            Method::POST,
            "/api/wem/scan",
            &admin,
            Value::Null,
            StatusCode::CONFLICT,
        )
        .await;
    assert!(
        e["detail"].as_str().unwrap().contains("already running"),
        "{e}"
    );
    let status = sensor.get("/api/wem", &analyst, StatusCode::OK).await;
    assert_eq!(status["running_run"], run["id"]);
    let stopped = sensor
        .call(
            Method::POST,
            "/api/wem/stop",
            &analyst,
            Value::Null,
            StatusCode::OK,
        )
        .await;
    assert_eq!(stopped["id"], run["id"]);
    assert_eq!(stopped["status"], "cancelled", "{stopped}");
    assert_eq!(stopped["error"], "stopped on request");
    let stops = sensor.audit("run.stop", &analyst).await;
    assert_eq!(stops[0]["actor"], "analyst1");
    sensor.service.shutdown().await;
}

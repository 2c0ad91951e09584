//! Reverse DNS through the service: DNS servers CRUD with every bad field named and nothing
//! saved, the test lookup, run now with the names written into the inventory's devices, the
//! per-address results, roles, audit, and the scheduler's runs, against knot (the testbed's
//! reverse zones).
//!
//! Expected names come from testbed/config.sh, which the peers were started with.

mod common;

use common::{Sensor, config};
use jiff::Timestamp;
use otsensor_core::merge::RunMerge;
use otsensor_core::{Fact, Observation, Protocol};
use otsensor_store::{NewScan, RunResult, RunStatus, Store};
use otsensor_testkit::{addr, require_tcp_peer, var};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

fn knot() -> (String, String) {
    let knot = addr("KNOT_IP", "KNOT_PORT");
    require_tcp_peer(knot, "knot");
    (knot.ip().to_string(), knot.port().to_string())
}

fn special(n: u8) -> String {
    format!("{}.0.{n}", var("DNS_SPECIAL_NET"))
}

/// Puts devices at `addresses` into the store, as a scan would.
async fn seed_devices(store: &Store, addresses: &[&str]) {
    let now = Timestamp::now();
    let scan = store
        .create_scan(&NewScan {
            name: "seed".into(),
            kind: "plc".into(),
            protocol: Protocol::Modbus,
            targets: addresses.join(","),
            spec: json!({}),
            created: now,
        })
        .await
        .unwrap();
    let run = store
        .start_run(scan, now, addresses.len() as u64)
        .await
        .unwrap();
    let mut merge = RunMerge::new(Default::default());
    for a in addresses {
        let mut obs = Observation::new(a.parse().unwrap(), Protocol::Modbus, now);
        obs.facts.push(Fact::Vendor("Wago".into()));
        merge.absorb(&obs);
    }
    let changes = merge.into_changes();
    let result = RunResult {
        status: RunStatus::Completed,
        ended: now,
        changes: &changes,
        probe_log: &[],
        error: None,
    };
    store.finish_run(run, &result).await.unwrap();
}

async fn wait_for_end(sensor: &Sensor, run: i64, auth: &common::Auth) -> Value {
    sensor.wait_for_run(run, auth).await;
    sensor
        .get(&format!("/api/rdns/runs/{run}"), auth, StatusCode::OK)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_servers_lookups_and_runs_over_the_api() {
    let (ip, port) = knot();
    let data = tempfile::tempdir().unwrap();
    let sensor = Sensor::start("127.30.0.10", data.path()).await;
    let admin = sensor.login("admin1").await;
    let analyst = sensor.login("analyst1").await;
    let reader = sensor.login("reader1").await;
    let block = format!("{}.0.0/28", var("DNS_SPECIAL_NET"));
    let good = json!({"address": format!("{ip}:{port}"), "labels": 2, "subnets": [block],
                      "schedule": "03:00"});

    // every bad field: 400 naming it, nothing saved
    let with = |k: &str, v: Value| {
        let mut b = good.clone();
        b[k] = v;
        b
    };
    for (body, field) in [
        (with("address", json!("")), "address"),
        (with("address", json!("dns.example")), "address"),
        (with("address", json!("192.0.2.53")), "address"),
        (with("labels", json!(0)), "labels"),
        (with("labels", json!("many")), "labels"),
        (with("subnets", json!([])), "subnets"),
        (with("subnets", json!(["10.300.0.0/16"])), "subnets[0]"),
        (with("schedule", json!("every 0 hours")), "schedule"),
        (with("rate", json!(-1)), "rate"),
        (with("colour", json!("blue")), "colour"),
    ] {
        let (status, _, e) = sensor
            .send(
                Method::POST,
                "/api/rdns/servers",
                &admin,
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {e}");
        assert_eq!(e["field"], field, "{body}: {e}");
    }
    assert_eq!(
        sensor
            .get("/api/rdns/servers", &reader, StatusCode::OK)
            .await,
        json!([])
    );
    // only admins change them
    sensor
        .call(
            Method::POST,
            "/api/rdns/servers",
            &analyst,
            good.clone(),
            StatusCode::FORBIDDEN,
        )
        .await;

    let server = sensor
        .call(
            Method::POST,
            "/api/rdns/servers",
            &admin,
            good.clone(),
            StatusCode::CREATED,
        )
        .await;
    let id = server["id"].as_i64().unwrap();
    assert_eq!(server["address"], ip.as_str());
    assert_eq!(server["port"].to_string(), port);
    assert_eq!(server["labels"], 2);
    assert_eq!(server["subnets"], json!([block]));
    assert_eq!(server["schedule"], "03:00");
    assert_eq!(server["enabled"], true);
    assert_eq!(server["rate"], 200);
    assert!(
        server["next_run"].as_str().unwrap().ends_with("T03:00:00Z"),
        "{server}"
    );

    // a bad update changes nothing
    let (status, _, e) = sensor
        .send(
            Method::PUT,
            &format!("/api/rdns/servers/{id}"),
            &admin,
            Some(with("labels", json!(200))),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["field"], "labels");
    let same = sensor
        .get(&format!("/api/rdns/servers/{id}"), &reader, StatusCode::OK)
        .await;
    assert_eq!(same["labels"], 2);

    // the test lookup: a configured server, or one named in the body
    let two = var("DNS_TWO_PTR_IP");
    let found = sensor
        .call(
            Method::POST,
            "/api/rdns/test",
            &analyst,
            json!({"server_id": id, "address": two}),
            StatusCode::OK,
        )
        .await;
    assert_eq!(found["status"], "found", "{found}");
    let names: Vec<String> = var("DNS_TWO_PTR_NAMES")
        .split_whitespace()
        .map(|n| n.trim_end_matches('.').to_string())
        .collect();
    assert_eq!(found["names"], json!(names));
    assert_eq!(found["fqdn"], "hmi-10.plant.ot.example");
    assert_eq!(found["name"], "hmi-10.plant");
    let gap = sensor
        .call(
            Method::POST,
            "/api/rdns/test",
            &analyst,
            json!({"server": ip, "port": port.parse::<u16>().unwrap(), "address": var("DNS_GAP_IP")}),
            StatusCode::OK,
        )
        .await;
    assert_eq!(gap["status"], "nxdomain", "{gap}");
    assert!(gap["detail"].is_string());
    sensor
        .call(
            Method::POST,
            "/api/rdns/test",
            &reader,
            json!({"server_id": id, "address": two}),
            StatusCode::FORBIDDEN,
        )
        .await;
    let e = sensor
        .call(
            Method::POST,
            "/api/rdns/test",
            &analyst,
            json!({"server_id": id, "address": "not-an-ip"}),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(e["field"], "address");

    // run now: the devices of the subnets get their names
    seed_devices(
        sensor.service.store(),
        &[&two, &var("DNS_GAP_IP"), &special(1)],
    )
    .await;
    sensor
        .call(
            Method::POST,
            &format!("/api/rdns/servers/{id}/run"),
            &reader,
            Value::Null,
            StatusCode::FORBIDDEN,
        )
        .await;
    let started = sensor
        .call(
            Method::POST,
            &format!("/api/rdns/servers/{id}/run"),
            &analyst,
            Value::Null,
            StatusCode::ACCEPTED,
        )
        .await;
    let run_id = started["run"]["id"].as_i64().unwrap();
    let run = wait_for_end(&sensor, run_id, &reader).await;
    assert_eq!(run["run"]["status"], "completed", "{run}");
    assert_eq!(run["run"]["trigger"], "manual");
    assert_eq!(run["run"]["started_by"], "analyst1");
    assert_eq!(run["dns_server"], id);
    let summary = &run["summary"];
    assert_eq!(summary["looked_up"], 3, "{run}");
    assert_eq!(summary["found"], 2, "{run}");
    assert_eq!(summary["missing"], 1, "{run}");
    assert_eq!(summary["changed"], 2, "{run}");
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    let of = |ip: &str| results.iter().find(|r| r["ip"] == ip).unwrap().clone();
    assert_eq!(of(&two)["fqdn"], "hmi-10.plant.ot.example");
    assert_eq!(of(&two)["name"], "hmi-10.plant");
    assert_eq!(of(&special(1))["fqdn"], "host-1.plant.ot.example");
    assert_eq!(of(&var("DNS_GAP_IP"))["fqdn"], Value::Null);
    assert!(of(&var("DNS_GAP_IP"))["detail"].is_string());
    let devices = sensor
        .get("/api/devices?q=hmi-10", &reader, StatusCode::OK)
        .await;
    assert_eq!(
        devices["items"][0]["fqdn"], "hmi-10.plant.ot.example",
        "{devices}"
    );
    let listed = sensor
        .get(
            &format!("/api/rdns/runs?server={id}"),
            &reader,
            StatusCode::OK,
        )
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    // stopping when nothing runs is a conflict
    sensor
        .call(
            Method::POST,
            &format!("/api/rdns/servers/{id}/stop"),
            &analyst,
            Value::Null,
            StatusCode::CONFLICT,
        )
        .await;

    // audited
    for action in ["rdns_server.create", "rdns.test", "run.start", "run.end"] {
        assert!(!sensor.audit(action, &analyst).await.is_empty(), "{action}");
    }
    assert_eq!(
        sensor.audit("rdns_server.create", &analyst).await[0]["actor"],
        "admin1"
    );

    // delete: gone from the list, its runs kept
    sensor
        .call(
            Method::DELETE,
            &format!("/api/rdns/servers/{id}"),
            &analyst,
            Value::Null,
            StatusCode::FORBIDDEN,
        )
        .await;
    let (status, _, _) = sensor
        .send(
            Method::DELETE,
            &format!("/api/rdns/servers/{id}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        sensor
            .get("/api/rdns/servers", &reader, StatusCode::OK)
            .await,
        json!([])
    );
    assert!(
        !sensor
            .audit("rdns_server.delete", &analyst)
            .await
            .is_empty()
    );
    let all = sensor.get("/api/rdns/runs", &reader, StatusCode::OK).await;
    assert_eq!(all.as_array().unwrap().len(), 1);
    sensor.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_runs_enabled_servers_at_their_time() {
    let (ip, port) = knot();
    let data = tempfile::tempdir().unwrap();
    let start: Timestamp = "2026-03-28T02:59:00Z".parse().unwrap();
    let sensor = Sensor::start_with(config("127.30.0.11", data.path(), "UTC"), start).await;
    let admin = sensor.login("admin1").await;
    seed_devices(sensor.service.store(), &[&special(2)]).await;
    let body = |enabled: bool| {
        json!({"address": format!("{ip}:{port}"), "subnets": [format!("{}/32", special(2))],
               "schedule": "03:00", "enabled": enabled})
    };
    let on = sensor
        .call(
            Method::POST,
            "/api/rdns/servers",
            &admin,
            body(true),
            StatusCode::CREATED,
        )
        .await;
    let off = sensor
        .call(
            Method::POST,
            "/api/rdns/servers",
            &admin,
            body(false),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(on["next_run"], "2026-03-28T03:00:00Z");
    assert_eq!(off["next_run"], Value::Null);
    sensor.clock.set("2026-03-28T03:00:01Z".parse().unwrap());
    let mut runs = Value::Null;
    for _ in 0..600 {
        runs = sensor.get("/api/rdns/runs", &admin, StatusCode::OK).await;
        if !runs.as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["dns_server"], on["id"]);
    assert_eq!(runs[0]["run"]["trigger"], "scheduled");
    assert_eq!(runs[0]["summary"]["found"], 1);
    let on = sensor
        .get(
            &format!("/api/rdns/servers/{}", on["id"]),
            &admin,
            StatusCode::OK,
        )
        .await;
    assert_eq!(on["next_run"], "2026-03-29T03:00:00Z");
    let starts = sensor.audit("run.start", &admin).await;
    assert_eq!(starts[0]["actor"], "scheduler");
    sensor.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paced_lookup_run_stops_on_request_and_keeps_what_it_found() {
    let (ip, port) = knot();
    let data = tempfile::tempdir().unwrap();
    let sensor = Sensor::start("127.30.0.12", data.path()).await;
    let admin = sensor.login("admin1").await;
    let analyst = sensor.login("analyst1").await;
    let net = var("DNS_REV_NET");
    let addresses: Vec<String> = (1..=20).map(|n| format!("{net}.0.{n}")).collect();
    let refs: Vec<&str> = addresses.iter().map(String::as_str).collect();
    seed_devices(sensor.service.store(), &refs).await;
    // one query a second: twenty addresses take twenty seconds unless stopped
    let server = sensor
        .call(
            Method::POST,
            "/api/rdns/servers",
            &admin,
            json!({"address": format!("{ip}:{port}"), "subnets": [format!("{net}.0.0/24")],
                   "rate": 1}),
            StatusCode::CREATED,
        )
        .await;
    let id = server["id"].as_i64().unwrap();
    let started = sensor
        .call(
            Method::POST,
            &format!("/api/rdns/servers/{id}/run"),
            &analyst,
            Value::Null,
            StatusCode::ACCEPTED,
        )
        .await;
    assert_eq!(started["run"]["targets_total"], 20, "{started}");
    let e = sensor
        .call(
            Method::POST,
            &format!("/api/rdns/servers/{id}/run"),
            &analyst,
            Value::Null,
            StatusCode::CONFLICT,
        )
        .await;
    assert!(
        e["detail"].as_str().unwrap().contains("already running"),
        "{e}"
    );
    let listed = sensor
        .get(&format!("/api/rdns/servers/{id}"), &analyst, StatusCode::OK)
        .await;
    assert_eq!(listed["running_run"], started["run"]["id"]);
    let stopped = sensor
        .call(
            Method::POST,
            &format!("/api/rdns/servers/{id}/stop"),
            &analyst,
            Value::Null,
            StatusCode::OK,
        )
        .await;
    assert_eq!(stopped["run"]["status"], "cancelled", "{stopped}");
    assert!(
        stopped["summary"]["looked_up"].as_u64().unwrap() < 20,
        "{stopped}"
    );
    assert_eq!(
        sensor.audit("run.stop", &analyst).await[0]["actor"],
        "analyst1"
    );
    sensor
        .get("/api/rdns/runs/999999", &analyst, StatusCode::NOT_FOUND)
        .await;
    sensor.service.shutdown().await;
}

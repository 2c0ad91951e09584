//! Stored scans end to end over the API: a Modbus scan of the testbed's pymodbus peers, stopping
//! a /16 sweep, the scheduler with an injected clock, and a restart that cuts a run off.
//!
//! Expected identities come from testbed/config.sh, which the peers were started with.

mod common;

use common::{Auth, Sensor, config, modbus_scan};
use jiff::Timestamp;
use otsensor_testkit::{addr, require_tcp_peer, var};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn items(page: &Value) -> &Vec<Value> {
    page["items"].as_array().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_modbus_scan_finds_both_servers_with_their_identity_and_run_counts() {
    require_tcp_peer(addr("MODBUS_IP", "MODBUS_PORT"), "modbus");
    require_tcp_peer(addr("MODBUS2_IP", "MODBUS2_PORT"), "modbus2");
    let data = tempfile::tempdir().unwrap();
    let sensor = Sensor::start("127.0.100.20", data.path()).await;
    let admin = sensor.login("admin1").await;
    let analyst = sensor.login("analyst1").await;
    let reader = sensor.login("reader1").await;
    let (ip1, ip2) = (var("MODBUS_IP"), var("MODBUS2_IP"));
    let mut body = modbus_scan("plant floor PLCs", &[&ip1, &ip2]);
    body["use_case"]["timeout_secs"] = json!(3);
    body["schedule"] = json!({"kind": "times_of_day", "times": ["03:00"]});
    let scan = sensor.create_scan(&admin, body).await;
    let id = scan["id"].as_i64().unwrap();
    assert_eq!(scan["use_case"]["port"].to_string(), var("MODBUS_PORT"));
    assert_eq!(scan["use_case"]["kind"], "plc");
    assert_eq!(scan["created_by"], "admin1");
    assert!(scan["next_run"].as_str().unwrap().ends_with("T03:00:00Z"));

    let started = sensor
        .call(
            Method::POST,
            &format!("/api/scans/{id}/run"),
            &analyst,
            Value::Null,
            StatusCode::ACCEPTED,
        )
        .await;
    let run_id = started["id"].as_i64().unwrap();
    let run = sensor.wait_for_run(run_id, &reader).await;
    assert_eq!(run["status"], "completed", "{run}");
    assert_eq!(run["probed"], 2);
    assert_eq!(run["identified"], 2);
    assert_eq!(run["new_devices"], 2);
    assert_eq!(run["updated_devices"], 0);
    assert_eq!(run["trigger"], "manual");
    assert_eq!(run["started_by"], "analyst1");
    assert!(run["ended"].is_string());

    // the counts link to the devices they count, with the identity each peer was given
    let new = sensor
        .get(
            run["links"]["new_devices"].as_str().unwrap(),
            &reader,
            StatusCode::OK,
        )
        .await;
    let new = new.as_array().unwrap();
    assert_eq!(new.len(), 2, "{new:?}");
    for prefix in ["MODBUS", "MODBUS2"] {
        let want = |s: &str| var(&format!("{prefix}_{s}"));
        let entry = new
            .iter()
            .find(|d| d["device"]["ip"] == want("IP").as_str())
            .unwrap_or_else(|| panic!("{prefix} not among {new:?}"));
        assert_eq!(entry["change"], "new");
        let d = &entry["device"];
        assert_eq!(d["vendor"], want("VENDOR").as_str());
        assert_eq!(d["product_code"], want("PRODCODE").as_str());
        assert_eq!(d["firmware"], want("REV").as_str());
        assert_eq!(d["product_name"], want("PRODNAME").as_str());
        assert_eq!(d["model"], want("MODEL").as_str());
        assert_eq!(d["vendor_url"], want("URL").as_str());
        assert_eq!(d["application"], want("APPNAME").as_str());
        assert_eq!(d["protocols"], json!(["modbus"]));
        assert_eq!(d["parent_id"], Value::Null);
        let detail = sensor
            .get(d["self"].as_str().unwrap(), &reader, StatusCode::OK)
            .await;
        assert_eq!(detail["vendor"], want("VENDOR").as_str());
        assert_eq!(detail["modules"], json!([]));
        assert_eq!(detail["hotfixes"], json!([]));
        let history = detail["history"].as_array().unwrap();
        assert!(
            history.iter().any(|h| h["attribute"] == "vendor"
                && h["new"] == want("VENDOR").as_str()
                && h["run"] == run_id
                && h["source"] == "modbus"),
            "{history:?}"
        );
    }

    // filters, sorting and paging
    let list = |q: &'static str| sensor.get_owned(format!("/api/devices?{q}"), &reader);
    let all = list("").await;
    assert_eq!(all["total"], 2);
    assert_eq!(items(&all)[0]["ip"], ip1.as_str(), "address order");
    let wago = list("vendor=wago").await;
    assert_eq!(wago["total"], 1);
    assert_eq!(items(&wago)[0]["ip"], ip2.as_str());
    assert_eq!(list("protocol=modbus").await["total"], 2);
    assert_eq!(list("protocol=s7").await["total"], 0);
    let one = sensor
        .get(
            &format!("/api/devices?subnet={ip1}/32"),
            &reader,
            StatusCode::OK,
        )
        .await;
    assert_eq!(one["total"], 1);
    assert_eq!(list("subnet=127.0.0.0/24&top_level=true").await["total"], 2);
    let text = sensor
        .get(
            &format!("/api/devices?q={}", var("MODBUS_APPNAME")),
            &reader,
            StatusCode::OK,
        )
        .await;
    assert_eq!(text["total"], 1);
    assert_eq!(items(&text)[0]["ip"], ip1.as_str());
    let by_vendor = list("sort=vendor&order=desc").await;
    assert_eq!(
        items(&by_vendor)[0]["vendor"],
        var("MODBUS2_VENDOR").as_str()
    );
    let page2 = list("per_page=1&page=2").await;
    assert_eq!(page2["total"], 2);
    assert_eq!(items(&page2).len(), 1);
    assert_eq!(items(&page2)[0]["ip"], ip2.as_str());

    // exports
    let resp = sensor
        .client
        .get(format!(
            "{}/api/devices/export?format=csv&vendor=wago",
            sensor.base
        ))
        .bearer_auth(token(&sensor, &reader).await)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = resp.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[0].starts_with("id,ip,parent,position,mac,name,fqdn,type,vendor,model"));
    assert!(lines[1].contains(&var("MODBUS2_PRODCODE")), "{csv}");
    let json_export = sensor
        .get("/api/devices/export?format=json", &reader, StatusCode::OK)
        .await;
    assert_eq!(json_export.as_array().unwrap().len(), 2);
    let links = sensor
        .get("/api/devices/links", &reader, StatusCode::OK)
        .await;
    assert_eq!(links, json!({"links": []}));

    // the probe log, JSON and CSV
    let log = sensor
        .get(&format!("/api/runs/{run_id}/log"), &reader, StatusCode::OK)
        .await;
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 2);
    assert!(
        log.iter()
            .all(|l| l["outcome"] == "identified" && l["protocol"] == "modbus")
    );
    let csv_log = sensor
        .client
        .get(format!("{}/api/runs/{run_id}/log?format=csv", sensor.base))
        .bearer_auth(token(&sensor, &reader).await)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv_log.starts_with("address,protocol,outcome,error,started,duration_ms"));
    assert_eq!(csv_log.lines().count(), 3);

    // a second run finds the same devices: nothing new, nothing updated
    let again = sensor
        .call(
            Method::POST,
            &format!("/api/scans/{id}/run"),
            &admin,
            Value::Null,
            StatusCode::ACCEPTED,
        )
        .await;
    let again = sensor
        .wait_for_run(again["id"].as_i64().unwrap(), &reader)
        .await;
    assert_eq!(again["status"], "completed");
    assert_eq!(again["new_devices"], 0);
    assert_eq!(again["updated_devices"], 0);
    let seen = sensor
        .get(
            &format!("/api/runs/{}/devices?change=unchanged", again["id"]),
            &reader,
            StatusCode::OK,
        )
        .await;
    assert_eq!(seen.as_array().unwrap().len(), 2);
    let runs = sensor
        .get(&format!("/api/scans/{id}/runs"), &reader, StatusCode::OK)
        .await;
    assert_eq!(runs["total"], 2);
    assert_eq!(items(&runs)[0]["id"], again["id"], "newest first");

    // metrics
    let metrics = sensor
        .client
        .get(format!("{}/metrics", sensor.base))
        .bearer_auth(token(&sensor, &reader).await)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("\notsensor_devices 2\n"), "{metrics}");
    assert!(
        metrics.contains("otsensor_runs{status=\"completed\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("otsensor_probes_total{outcome=\"identified\"} 4"),
        "{metrics}"
    );

    // the audit log: who created the scan, who started each run, and each run's end
    let created = sensor.audit("scan.create", &admin).await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["actor"], "admin1");
    assert_eq!(created[0]["target"], format!("scan:{id}"));
    let starts = sensor.audit("run.start", &admin).await;
    let actors: Vec<&str> = starts
        .iter()
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    assert_eq!(actors, ["admin1", "analyst1"]);
    assert_eq!(starts[1]["target"], format!("run:{run_id}"));
    assert_eq!(sensor.audit("run.end", &admin).await.len(), 2);
    sensor.service.shutdown().await;
}

/// A fresh API token for `session`'s user.
async fn token(sensor: &Sensor, session: &Auth) -> String {
    sensor
        .call(
            Method::POST,
            "/api/tokens",
            session,
            json!({"name": "test"}),
            StatusCode::CREATED,
        )
        .await["token_secret"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Waits until the run `id` has probed more than `n` targets (bounded, not a timing assertion).
async fn wait_for_progress(sensor: &Sensor, id: i64, n: u64, auth: &Auth) {
    for _ in 0..600 {
        let run = sensor
            .get(&format!("/api/runs/{id}"), auth, StatusCode::OK)
            .await;
        assert_eq!(run["status"], "running", "{run}");
        if run["progress"]["done"].as_u64().unwrap_or(0) > n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("run {id} made no progress");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_a_running_slash_16_sweep_takes_under_a_second() {
    let data = tempfile::tempdir().unwrap();
    let sensor = Sensor::start("127.0.100.21", data.path()).await;
    let admin = sensor.login("admin1").await;
    let analyst = sensor.login("analyst1").await;
    // nothing listens on 127.3.0.0/16 (the Modbus benchmark uses 127.1.0.0/16): every probe is refused, about 1000 per second (the
    // default global rate), so the sweep would take over a minute
    let scan = sensor
        .create_scan(&admin, modbus_scan("sweep", &["127.3.0.0/16"]))
        .await;
    let id = scan["id"].as_i64().unwrap();
    let run = sensor
        .call(
            Method::POST,
            &format!("/api/scans/{id}/run"),
            &analyst,
            Value::Null,
            StatusCode::ACCEPTED,
        )
        .await;
    let run_id = run["id"].as_i64().unwrap();
    assert_eq!(run["targets_total"], 65_536);
    wait_for_progress(&sensor, run_id, 100, &analyst).await;
    // a second start while it runs: refused, one run per scan
    let e = sensor
        .call(
            Method::POST,
            &format!("/api/scans/{id}/run"),
            &admin,
            Value::Null,
            StatusCode::CONFLICT,
        )
        .await;
    assert!(e["detail"].as_str().unwrap().contains("already running"));
    let scan = sensor
        .get(&format!("/api/scans/{id}"), &analyst, StatusCode::OK)
        .await;
    assert_eq!(scan["running"]["run"], run_id);

    let asked = Instant::now();
    let stopped = sensor
        .call(
            Method::POST,
            &format!("/api/scans/{id}/stop"),
            &analyst,
            Value::Null,
            StatusCode::OK,
        )
        .await;
    let took = asked.elapsed();
    assert!(took < Duration::from_secs(1), "stopping took {took:?}");
    assert_eq!(stopped["id"], run_id);
    assert_eq!(stopped["status"], "cancelled");
    assert_eq!(stopped["error"], "stopped on request");
    let probed = stopped["probed"].as_u64().unwrap();
    assert!(probed > 100 && probed < 65_536, "{probed}");
    let scan = sensor
        .get(&format!("/api/scans/{id}"), &analyst, StatusCode::OK)
        .await;
    assert_eq!(scan["running"], Value::Null);
    let stops = sensor.audit("run.stop", &admin).await;
    assert_eq!(stops.len(), 1);
    assert_eq!(stops[0]["actor"], "analyst1");
    assert_eq!(stops[0]["target"], format!("run:{run_id}"));
    // it may run again
    sensor
        .call(
            Method::POST,
            &format!("/api/scans/{id}/run"),
            &analyst,
            Value::Null,
            StatusCode::ACCEPTED,
        )
        .await;
    sensor
        .call(
            Method::POST,
            &format!("/api/scans/{id}/stop"),
            &analyst,
            Value::Null,
            StatusCode::OK,
        )
        .await;
    sensor.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_starts_due_scans_in_the_sensor_time_zone() {
    let data = tempfile::tempdir().unwrap();
    let tz = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
    // 28 March 2026, 10:00 in Berlin; the clocks go forward the next night at 02:00
    let start = tz
        .to_timestamp("2026-03-28T10:00:00".parse().unwrap())
        .unwrap();
    let sensor =
        Sensor::start_with(config("127.0.100.22", data.path(), "Europe/Berlin"), start).await;
    // a token: the clock jumps further than a session's idle limit
    let admin = Auth::Token(token(&sensor, &sensor.login("admin1").await).await);
    let closed = var("MODBUS_CLOSED_IP");
    let settings = sensor.get("/api/settings", &admin, StatusCode::OK).await;
    assert_eq!(settings["time_zone"], "Europe/Berlin");

    let mut hourly = modbus_scan("hourly", &[&closed]);
    hourly["schedule"] =
        json!({"kind": "every", "every": 1, "unit": "hours", "start": "2026-03-28T10:30:00"});
    let hourly = sensor.create_scan(&admin, hourly).await;
    assert_eq!(hourly["next_run"], "2026-03-28T09:30:00Z");

    // 02:30 does not exist on 29 March in Berlin: it runs at 03:30 summer time
    let mut nightly = modbus_scan("nightly", &[&closed]);
    nightly["schedule"] = json!({"kind": "times_of_day", "times": ["02:30"]});
    let nightly = sensor.create_scan(&admin, nightly).await;
    assert_eq!(nightly["next_run"], "2026-03-29T01:30:00Z");

    // a window holds a due scan back until it opens, and refuses a start outside it
    let mut windowed = modbus_scan("windowed", &[&closed]);
    windowed["schedule"] =
        json!({"kind": "every", "every": 5, "unit": "minutes", "start": "2026-03-28T10:00:00"});
    windowed["maintenance_window"] = json!({"start": "22:00", "end": "23:00"});
    let windowed = sensor.create_scan(&admin, windowed).await;
    assert_eq!(windowed["next_run"], "2026-03-28T21:00:00Z");
    let e = sensor
        .call(
            Method::POST,
            &format!("/api/scans/{}/run", windowed["id"]),
            &admin,
            Value::Null,
            StatusCode::CONFLICT,
        )
        .await;
    assert!(
        e["detail"].as_str().unwrap().contains("maintenance window"),
        "{e}"
    );

    // once, at 11:00 local time
    let mut once = modbus_scan("once", &[&closed]);
    once["schedule"] = json!({"kind": "once", "at": "2026-03-28T11:00:00"});
    let once = sensor.create_scan(&admin, once).await;
    assert_eq!(once["next_run"], "2026-03-28T10:00:00Z");

    // disabled: never by itself
    let mut off = modbus_scan("off", &[&closed]);
    off["schedule"] =
        json!({"kind": "every", "every": 1, "unit": "minutes", "start": "2026-03-28T10:00:00"});
    off["enabled"] = json!(false);
    let off = sensor.create_scan(&admin, off).await;
    assert_eq!(off["next_run"], Value::Null);

    // 10:31: the hourly scan is due and starts by itself
    sensor.clock.set(
        tz.to_timestamp("2026-03-28T10:31:00".parse().unwrap())
            .unwrap(),
    );
    let id = hourly["id"].as_i64().unwrap();
    let mut runs = Value::Null;
    for _ in 0..600 {
        runs = sensor
            .get(&format!("/api/scans/{id}/runs"), &admin, StatusCode::OK)
            .await;
        // (the run's origin is recorded just after the run itself)
        if runs["total"] == 1 && items(&runs)[0]["trigger"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(runs["total"], 1, "{runs}");
    let run = &items(&runs)[0];
    assert_eq!(run["trigger"], "scheduled");
    assert_eq!(run["started_by"], "scheduler");
    let run = sensor
        .wait_for_run(run["id"].as_i64().unwrap(), &admin)
        .await;
    assert_eq!(run["status"], "completed");
    assert_eq!(run["probed"], 1);
    let hourly = sensor
        .get(&format!("/api/scans/{id}"), &admin, StatusCode::OK)
        .await;
    assert_eq!(hourly["next_run"], "2026-03-28T10:30:00Z");
    let starts = sensor.audit("run.start", &admin).await;
    assert_eq!(starts.len(), 1);
    assert_eq!(starts[0]["actor"], "scheduler");
    assert_eq!(starts[0]["via"], "scheduler");
    // every other scan is still waiting for its time
    for other in [&nightly, &windowed, &off, &once] {
        let runs = sensor
            .get(
                &format!("/api/scans/{}/runs", other["id"]),
                &admin,
                StatusCode::OK,
            )
            .await;
        assert_eq!(runs["total"], 0, "{}", other["name"]);
    }
    // 11:01: the one-time scan runs, and never again
    sensor.clock.set(
        tz.to_timestamp("2026-03-28T11:01:00".parse().unwrap())
            .unwrap(),
    );
    let once_id = once["id"].as_i64().unwrap();
    let mut runs = Value::Null;
    for _ in 0..600 {
        runs = sensor
            .get(
                &format!("/api/scans/{once_id}/runs"),
                &admin,
                StatusCode::OK,
            )
            .await;
        // (the run's origin is recorded just after the run itself)
        if runs["total"] == 1 && items(&runs)[0]["trigger"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(runs["total"], 1, "{runs}");
    sensor
        .wait_for_run(items(&runs)[0]["id"].as_i64().unwrap(), &admin)
        .await;
    let once = sensor
        .get(&format!("/api/scans/{once_id}"), &admin, StatusCode::OK)
        .await;
    assert_eq!(once["next_run"], Value::Null);

    // switching it off takes it out of the plan
    let mut update = modbus_scan("hourly", &[&closed]);
    update["schedule"] =
        json!({"kind": "every", "every": 1, "unit": "hours", "start": "2026-03-28T10:30:00"});
    update["enabled"] = json!(false);
    let updated = sensor
        .call(
            Method::PUT,
            &format!("/api/scans/{id}"),
            &admin,
            update,
            StatusCode::OK,
        )
        .await;
    assert_eq!(updated["next_run"], Value::Null);
    assert_eq!(updated["enabled"], false);
    sensor.service.shutdown().await;
}

#[test]
fn a_restart_marks_the_cut_off_run_interrupted_and_plans_afresh() {
    let data = tempfile::tempdir().unwrap();
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    };
    // the first life: a sweep is under way when the process dies (the runtime is dropped
    // with every task in it: nothing is saved, as after kill -9)
    let first = runtime();
    let (scan_id, run_id) = first.block_on(async {
        let sensor = Sensor::start("127.0.100.23", data.path()).await;
        let admin = sensor.login("admin1").await;
        let mut body = modbus_scan("sweep", &["127.3.0.0/16"]);
        body["schedule"] =
            json!({"kind": "every", "every": 1, "unit": "days", "start": "2030-01-01T00:00:00"});
        let scan = sensor.create_scan(&admin, body).await;
        let id = scan["id"].as_i64().unwrap();
        let run = sensor
            .call(
                Method::POST,
                &format!("/api/scans/{id}/run"),
                &admin,
                Value::Null,
                StatusCode::ACCEPTED,
            )
            .await;
        let run_id = run["id"].as_i64().unwrap();
        wait_for_progress(&sensor, run_id, 50, &admin).await;
        (id, run_id)
    });
    first.shutdown_background();

    let second = runtime();
    second.block_on(async {
        let before = Timestamp::now();
        let sensor = Sensor::start("127.0.100.23", data.path()).await;
        assert_eq!(
            sensor
                .service
                .interrupted
                .iter()
                .map(|r| r.0)
                .collect::<Vec<_>>(),
            [run_id]
        );
        let admin = sensor.login("admin1").await;
        let run = sensor
            .get(&format!("/api/runs/{run_id}"), &admin, StatusCode::OK)
            .await;
        assert_eq!(run["status"], "interrupted");
        assert!(run["error"].as_str().unwrap().contains("stopped"), "{run}");
        let audit = sensor.audit("run.interrupted", &admin).await;
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0]["target"], format!("run:{run_id}"));
        assert_eq!(audit[0]["actor"], "system");
        // the schedule survived and its next run was computed afresh
        let scan = sensor
            .get(&format!("/api/scans/{scan_id}"), &admin, StatusCode::OK)
            .await;
        assert_eq!(scan["running"], Value::Null);
        assert_eq!(scan["next_run"], "2030-01-01T00:00:00Z");
        let next: Timestamp = scan["next_run"].as_str().unwrap().parse().unwrap();
        assert!(next > before);
        // nothing is left "running": the scan runs again
        let again = sensor
            .call(
                Method::POST,
                &format!("/api/scans/{scan_id}/run"),
                &admin,
                Value::Null,
                StatusCode::ACCEPTED,
            )
            .await;
        assert_ne!(again["id"], run_id);
        sensor
            .call(
                Method::POST,
                &format!("/api/scans/{scan_id}/stop"),
                &admin,
                Value::Null,
                StatusCode::OK,
            )
            .await;
        sensor.service.shutdown().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_s7_scan_over_the_api_finds_the_cpu_with_its_identity() {
    require_tcp_peer(addr("S7_IP", "S7_PORT"), "s7");
    let data = tempfile::tempdir().unwrap();
    let sensor = Sensor::start("127.30.0.40", data.path()).await;
    let admin = sensor.login("admin1").await;
    let settings = sensor.get("/api/settings", &admin, StatusCode::OK).await;
    assert_eq!(
        settings["plc_protocols"],
        json!(["modbus", "s7", "enip", "bacnet"]),
        "{settings}"
    );
    let ip = var("S7_IP");
    let scan = sensor
        .create_scan(
            &admin,
            json!({"name": "s7", "use_case": {"kind": "plc", "protocol": "s7", "timeout_secs": 5},
                   "targets": [ip]}),
        )
        .await;
    assert_eq!(scan["use_case"]["port"].to_string(), var("S7_PORT"));
    let started = sensor
        .call(
            Method::POST,
            &format!("/api/scans/{}/run", scan["id"]),
            &admin,
            Value::Null,
            StatusCode::ACCEPTED,
        )
        .await;
    let run = sensor
        .wait_for_run(started["id"].as_i64().unwrap(), &admin)
        .await;
    assert_eq!(run["status"], "completed", "{run}");
    assert_eq!(run["identified"], 1, "{run}");
    let page = sensor
        .get(&format!("/api/devices?q={ip}"), &admin, StatusCode::OK)
        .await;
    let cpu = items(&page)
        .iter()
        .find(|d| d["ip"] == ip.as_str())
        .unwrap_or_else(|| panic!("no {ip}"));
    assert_eq!(cpu["vendor"], "Siemens");
    assert_eq!(cpu["product_code"], var("S7_ORDER").as_str());
    assert_eq!(cpu["firmware"], var("S7_FW").as_str());
    assert_eq!(cpu["serial"], var("S7_SERIAL").as_str());
    sensor.service.shutdown().await;
}

//! Switch-discovery scans through the service: SNMP credentials stored sealed (only whether
//! each is set comes back), runs against snmpsim (an HPE ProCurve recording with LLDP and MAC
//! tables) and net-snmp snmpd (v1, v2c, v3 authPriv), devices and device-map links saved.
//!
//! Expected identities come from testbed/config.sh, which the peers were started with.

mod common;

use common::{Auth, Sensor};
use otsensor_testkit::{addr, require_snmp_peer, var};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn snmpsim() -> String {
    let a = addr("SNMPSIM_IP", "SNMPSIM_PORT");
    require_snmp_peer(a, "hpe-procurve", "snmpsim");
    a.ip().to_string()
}

fn snmpd() -> String {
    let a = addr("SNMPD_IP", "SNMPD_PORT");
    require_snmp_peer(a, &var("SNMPD_COMMUNITY"), "snmpd");
    a.ip().to_string()
}

fn switch_scan(name: &str, target: &str, use_case: Value) -> Value {
    let mut use_case = use_case;
    use_case["kind"] = json!("switch");
    json!({ "name": name, "use_case": use_case, "targets": [target] })
}

async fn run_to_end(sensor: &Sensor, id: i64, who: &Auth) -> Value {
    let started = sensor
        .call(
            Method::POST,
            &format!("/api/scans/{id}/run"),
            who,
            Value::Null,
            StatusCode::ACCEPTED,
        )
        .await;
    sensor
        .wait_for_run(started["id"].as_i64().unwrap(), who)
        .await
}

fn assert_no_secret(what: &str, text: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!text.contains(s), "{what} contains a secret in clear");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v2c_switch_scan_saves_the_switch_its_stations_and_its_links() {
    let ip = snmpsim();
    let data = tempfile::tempdir().unwrap();
    let sensor = Sensor::start("127.30.0.1", data.path()).await;
    let admin = sensor.login("admin1").await;
    let analyst = sensor.login("analyst1").await;
    let reader = sensor.login("reader1").await;
    let body = switch_scan(
        "core switch",
        &ip,
        json!({"version": "snmp-v2c", "community": "hpe-procurve", "timeout_secs": 10, "retries": 2}),
    );
    // only admins define scans
    sensor
        .call(
            Method::POST,
            "/api/scans",
            &analyst,
            body.clone(),
            StatusCode::FORBIDDEN,
        )
        .await;
    let scan = sensor.create_scan(&admin, body).await;
    let id = scan["id"].as_i64().unwrap();
    let uc = &scan["use_case"];
    assert_eq!(uc["kind"], "switch");
    assert_eq!(uc["version"], "snmp-v2c");
    assert_eq!(uc["vendor"], "auto");
    assert_eq!(uc["port"], 161);
    assert_eq!(uc["retries"], 2);
    assert_eq!(uc["community_set"], true);
    assert_eq!(uc["auth_pass_set"], false);
    assert!(uc.get("community").is_none(), "{uc}");

    // read-only users cannot run it; analysts can
    sensor
        .call(
            Method::POST,
            &format!("/api/scans/{id}/run"),
            &reader,
            Value::Null,
            StatusCode::FORBIDDEN,
        )
        .await;
    let run = run_to_end(&sensor, id, &analyst).await;
    assert_eq!(run["status"], "completed", "{run}");
    assert_eq!(run["identified"], 1, "{run}");
    let new = run["new_devices"].as_u64().unwrap();
    assert!(new > 100, "the switch and the stations it learned: {run}");

    let page = sensor
        .get("/api/devices?q=DUMSYS-64", &reader, StatusCode::OK)
        .await;
    let switch = &page["items"][0];
    assert_eq!(switch["ip"], ip.as_str(), "{}", page["total"]);
    assert_eq!(switch["vendor"], "HPE");
    assert_eq!(switch["firmware"], "Z.14.31");
    let switch_id = switch["id"].as_i64().unwrap();

    let links = sensor
        .get("/api/devices/links", &reader, StatusCode::OK)
        .await;
    let links = links["links"].as_array().unwrap();
    let from_switch: Vec<&Value> = links.iter().filter(|l| l["source"] == switch_id).collect();
    assert!(
        from_switch.iter().any(|l| l["kind"] == "access"
            && l["protocol"] == "mac_table"
            && l["port"].is_string()),
        "{from_switch:?}"
    );
    for l in &from_switch {
        assert!(
            ["access", "neighbor"].contains(&l["kind"].as_str().unwrap()),
            "{l}"
        );
        assert!(l["target"].as_i64().is_some(), "{l}");
    }

    // a second run finds the same devices: nothing new, no duplicate links
    let again = run_to_end(&sensor, id, &analyst).await;
    assert_eq!(again["status"], "completed", "{again}");
    assert_eq!(again["new_devices"], 0, "{again}");
    let links_again = sensor
        .get("/api/devices/links", &reader, StatusCode::OK)
        .await;
    assert_eq!(links_again["links"].as_array().unwrap().len(), links.len());

    // audited: the definition and both runs, with who did it
    let created = sensor.audit("scan.create", &analyst).await;
    assert_eq!(created[0]["actor"], "admin1");
    assert_no_secret("the audit log", &created[0].to_string(), &["hpe-procurve"]);
    let starts = sensor.audit("run.start", &analyst).await;
    assert_eq!(starts.len(), 2);
    assert_eq!(starts[0]["actor"], "analyst1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snmpd_over_v1_v2c_and_v3_with_credentials_kept_on_update() {
    let ip = snmpd();
    let data = tempfile::tempdir().unwrap();
    let sensor = Sensor::start("127.30.0.2", data.path()).await;
    let admin = sensor.login("admin1").await;
    let analyst = sensor.login("analyst1").await;
    let (user, auth, privacy) = (
        var("SNMPD_V3_USER"),
        var("SNMPD_V3_AUTH"),
        var("SNMPD_V3_PRIV"),
    );
    let v3 = json!({"version": "snmp-v3", "user": user, "auth_proto": "SHA", "auth_pass": auth,
                    "priv_proto": "AES", "priv_pass": privacy});
    let scan = sensor
        .create_scan(&admin, switch_scan("snmpd v3", &ip, v3))
        .await;
    let id = scan["id"].as_i64().unwrap();
    assert_eq!(scan["use_case"]["user"], user.as_str());
    assert_eq!(scan["use_case"]["auth_proto"], "SHA");
    assert_eq!(scan["use_case"]["auth_pass_set"], true);
    assert_eq!(scan["use_case"]["priv_pass_set"], true);
    assert_eq!(scan["use_case"]["community_set"], false);
    assert_no_secret("the scan", &scan.to_string(), &[&auth, &privacy]);
    let run = run_to_end(&sensor, id, &analyst).await;
    assert_eq!(run["status"], "completed", "{run}");
    assert_eq!(run["identified"], 1, "{run}");
    let page = sensor
        .get(
            &format!("/api/devices?q={}", var("SNMPD_SYSNAME")),
            &analyst,
            StatusCode::OK,
        )
        .await;
    assert_eq!(page["items"][0]["ip"], ip.as_str(), "{page}");
    assert_eq!(page["items"][0]["name"], var("SNMPD_SYSNAME").as_str());

    // an update that leaves the pass phrases out keeps them (write-only fields)
    let same_user = json!({"version": "snmp-v3", "user": user, "auth_proto": "SHA",
                           "priv_proto": "AES", "timeout_secs": 5});
    let updated = sensor
        .call(
            Method::PUT,
            &format!("/api/scans/{id}"),
            &admin,
            switch_scan("snmpd v3", &ip, same_user),
            StatusCode::OK,
        )
        .await;
    assert_eq!(updated["use_case"]["priv_pass_set"], true, "{updated}");
    assert_eq!(updated["use_case"]["timeout_secs"], 5.0);
    let run = run_to_end(&sensor, id, &analyst).await;
    assert_eq!(
        run["identified"], 1,
        "the kept pass phrases still work: {run}"
    );
    assert_eq!(run["new_devices"], 0, "{run}");

    // v1 and v2c with the community
    for version in ["snmp-v1", "snmp-v2c"] {
        let scan = sensor
            .create_scan(
                &admin,
                switch_scan(
                    &format!("snmpd {version}"),
                    &ip,
                    json!({"version": version, "community": var("SNMPD_COMMUNITY")}),
                ),
            )
            .await;
        let run = run_to_end(&sensor, scan["id"].as_i64().unwrap(), &analyst).await;
        assert_eq!(run["identified"], 1, "{version}: {run}");
    }

    // a wrong community is a run with the error in its probe log, not a crash
    let wrong = sensor
        .create_scan(
            &admin,
            switch_scan(
                "wrong community",
                &ip,
                json!({"version": "snmp-v2c", "community": "not-the-community", "timeout_secs": 0.5, "retries": 0}),
            ),
        )
        .await;
    let run = run_to_end(&sensor, wrong["id"].as_i64().unwrap(), &analyst).await;
    assert_eq!(run["status"], "completed", "{run}");
    assert_eq!(run["identified"], 0, "{run}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_switch_fields_are_400_naming_the_field_and_nothing_is_stored() {
    let data = tempfile::tempdir().unwrap();
    let sensor = Sensor::start("127.30.0.3", data.path()).await;
    let admin = sensor.login("admin1").await;
    let cases = [
        (json!({"community": "c"}), "use_case.version"),
        (
            json!({"version": "snmp-v4", "community": "c"}),
            "use_case.version",
        ),
        (json!({"version": "snmp-v2c"}), "use_case.community"),
        (
            json!({"version": "snmp-v2c", "community": ""}),
            "use_case.community",
        ),
        (
            json!({"version": "snmp-v2c", "community": "c", "user": "u"}),
            "use_case.user",
        ),
        (
            json!({"version": "snmp-v2c", "community": "c", "vendor": "nokia-x"}),
            "use_case.vendor",
        ),
        (
            json!({"version": "snmp-v2c", "community": "c", "retries": 9}),
            "use_case.retries",
        ),
        (
            json!({"version": "snmp-v2c", "community": "c", "port": 0}),
            "use_case.port",
        ),
        (
            json!({"version": "snmp-v2c", "community": "c", "timeout_secs": 0}),
            "use_case.timeout_secs",
        ),
        (
            json!({"version": "snmp-v2c", "community": "c", "colour": "x"}),
            "use_case.colour",
        ),
        (
            json!({"version": "snmp-v3", "community": "c"}),
            "use_case.community",
        ),
        (json!({"version": "snmp-v3"}), "use_case.user"),
        (
            json!({"version": "snmp-v3", "user": "u", "auth_proto": "SHA"}),
            "use_case.auth_pass",
        ),
        (
            json!({"version": "snmp-v3", "user": "u", "auth_pass": "longenough"}),
            "use_case.auth_proto",
        ),
        (
            json!({"version": "snmp-v3", "user": "u", "auth_proto": "ROT13", "auth_pass": "longenough"}),
            "use_case.auth_proto",
        ),
        (
            json!({"version": "snmp-v3", "user": "u", "auth_proto": "SHA", "auth_pass": "short"}),
            "use_case.user",
        ),
        (
            json!({"version": "snmp-v3", "user": "u", "priv_proto": "AES", "priv_pass": "longenough"}),
            "use_case.user",
        ),
    ];
    for (use_case, field) in cases {
        let (status, _, body) = sensor
            .send(
                Method::POST,
                "/api/scans",
                &admin,
                Some(switch_scan("bad", "127.0.0.60", use_case.clone())),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{use_case}: {body}");
        assert_eq!(body["field"], field, "{use_case}: {body}");
        assert_eq!(body["error"], "bad_request", "{body}");
    }
    let scans = sensor.get("/api/scans", &admin, StatusCode::OK).await;
    assert_eq!(scans, json!([]));
    let sealed = sensor
        .service
        .store()
        .snmp_credential_summaries()
        .await
        .unwrap();
    assert!(sealed.is_empty(), "{sealed:?}");
}

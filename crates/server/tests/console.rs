//! The web console in a real browser: Debian's Chromium, headless, driven through chromedriver
//! against a real sensor on HTTPS with its self-signed certificate (127.0.0.200-219), and the
//! testbed's pymodbus peer for a PLC scan. Each test saves screenshots of the pages it sees under
//! target/tmp/console-screenshots/.
//!
//! The tests run one at a time (one Chromium is enough for two shared cores).

mod common;
mod webdriver;

use common::{Auth, PASSWORD, Sensor, modbus_scan};
use otsensor_testkit::{addr, require_tcp_peer, var};
use webdriver::{Browser, one_at_a_time};

/// Logs `name` in through the login form; waits for the inventory.
async fn login(b: &Browser, base: &str, name: &str) {
    b.goto(&format!("{base}/login")).await;
    b.submit_login(name, PASSWORD).await;
    b.wait_path("/devices").await;
    b.wait_text("#user-name", name).await;
}

async fn logout(b: &Browser) {
    b.wait("#logout").await.click().await;
    b.wait_path("/login").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_in_shows_the_user_and_role_and_logging_out_ends_the_session() {
    webdriver::require_chromium();
    let _one = one_at_a_time().lock().await;
    let data = tempfile::tempdir().unwrap();
    let sensor = Sensor::start("127.0.0.200", data.path()).await;
    let base = sensor.base.clone();
    let b = Browser::start().await;

    // a page without a session leads to the login form, which comes back to the page after
    b.goto(&format!("{base}/scans")).await;
    b.wait_path("/login").await;
    b.submit_login("admin1", "not the password").await;
    let error = b.wait_some_text("#login-form [data-err=form]").await;
    assert!(error.contains("wrong user name or password"), "{error}");
    assert_eq!(
        b.wait("#login-form input[name=name]")
            .await
            .property("value")
            .await,
        "admin1"
    );
    b.screenshot("login-error").await;

    b.wait("#login-form input[name=password]")
        .await
        .fill(PASSWORD)
        .await;
    b.wait("#login-submit").await.click().await;
    b.wait_path("/scans").await;
    b.wait_text("#user-name", "admin1").await;
    b.wait_text("#user-role", "Admin").await;
    b.goto(&format!("{base}/devices")).await;
    b.wait("#devices").await;
    b.screenshot("devices-empty").await;

    logout(&b).await;
    b.goto(&format!("{base}/devices")).await;
    b.wait_path("/login").await;
    b.close().await;
    sensor.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_sees_only_the_pages_and_buttons_it_may_use() {
    webdriver::require_chromium();
    let _one = one_at_a_time().lock().await;
    let data = tempfile::tempdir().unwrap();
    let sensor = Sensor::start("127.0.0.201", data.path()).await;
    let base = sensor.base.clone();
    let admin: Auth = sensor.login("admin1").await;
    sensor
        .create_scan(&admin, modbus_scan("nightly PLC sweep", &["127.0.0.1"]))
        .await;
    let b = Browser::start().await;

    // Read Only: sees the scan, but no Run, no Create scan, no users, no audit
    login(&b, &base, "reader1").await;
    b.wait_text("#user-role", "Read Only").await;
    b.goto(&format!("{base}/scans")).await;
    b.wait_text("main table", "nightly PLC sweep").await;
    assert_eq!(
        b.count("button.run").await,
        0,
        "a Read Only user sees a Run button"
    );
    assert_eq!(b.count("#create-scan").await, 0);
    assert_eq!(b.count("header nav a[href='/users']").await, 0);
    assert_eq!(b.count("header nav a[href='/audit']").await, 0);
    b.screenshot("scans-readonly").await;
    b.goto(&format!("{base}/scans/new")).await;
    b.wait_text("main", "needs the Admin role").await;
    assert_eq!(b.count("#scan-form").await, 0);
    b.goto(&format!("{base}/users")).await;
    b.wait_text("main", "needs the Security Analyst role").await;
    // WEM and reverse DNS: nothing to change, nothing to start
    b.goto(&format!("{base}/wem")).await;
    b.wait("#wem").await;
    for hidden in [
        "#wem-apply",
        "#wem-import",
        "#wem-save-schedule",
        "#wem button.run",
    ] {
        assert_eq!(b.count(hidden).await, 0, "a Read Only user sees {hidden}");
    }
    b.goto(&format!("{base}/rdns")).await;
    b.wait("#rdns").await;
    assert_eq!(b.count("#rdns-form").await, 0);
    assert_eq!(b.count("#rdns-test").await, 0);
    logout(&b).await;

    // Security Analyst: runs existing scans, creates none
    login(&b, &base, "analyst1").await;
    b.wait_text("#user-role", "Security Analyst").await;
    b.goto(&format!("{base}/scans")).await;
    b.wait("button.run").await;
    assert_eq!(b.count("#create-scan").await, 0);
    assert_eq!(b.count("header nav a[href='/users']").await, 1);
    b.goto(&format!("{base}/users")).await;
    b.wait_text("main table", "reader1").await;
    assert_eq!(
        b.count("#user-form").await,
        0,
        "an analyst may not add users"
    );
    logout(&b).await;

    // Admin: everything
    login(&b, &base, "admin1").await;
    b.goto(&format!("{base}/scans")).await;
    b.wait("#create-scan").await;
    b.wait("button.run").await;
    b.goto(&format!("{base}/wem")).await;
    b.wait("#wem-apply").await;
    b.wait("#wem button.run").await;
    b.goto(&format!("{base}/rdns")).await;
    b.wait("#rdns-form").await;
    b.goto(&format!("{base}/users")).await;
    b.wait("#user-form").await;
    // add a user: a short password is refused beside its field, the name kept
    b.wait("#user-form input[name=name]")
        .await
        .fill("operator2")
        .await;
    b.wait("#user-form select[name=role] option[value=analyst]")
        .await
        .click()
        .await;
    b.wait("#user-form input[name=password]")
        .await
        .fill("short")
        .await;
    b.wait("#user-form button[type=submit]").await.click().await;
    let e = b.wait_some_text("#user-form [data-err=password]").await;
    assert!(e.contains("at least"), "{e}");
    assert_eq!(
        b.wait("#user-form input[name=name]")
            .await
            .property("value")
            .await,
        "operator2"
    );
    b.wait("#user-form input[name=password]")
        .await
        .fill("one-time password 1")
        .await;
    b.wait("#user-form button[type=submit]").await.click().await;
    b.wait_text("main table", "operator2").await;
    b.screenshot("users-admin").await;
    b.goto(&format!("{base}/audit")).await;
    b.wait_text("main table", "scan.create").await;
    b.screenshot("audit").await;
    logout(&b).await;

    // the new user logs in with the one-time password and must choose their own first
    b.submit_login("operator2", "one-time password 1").await;
    b.wait_path("/password").await;
    b.wait("form input[name=current]")
        .await
        .fill("one-time password 1")
        .await;
    b.wait("form input[name=new]")
        .await
        .fill("my own password 2")
        .await;
    b.wait("main form button[type=submit]").await.click().await;
    b.wait_path("/login").await;
    b.submit_login("operator2", "my own password 2").await;
    b.wait_path("/devices").await;
    b.wait_text("#user-role", "Security Analyst").await;
    b.close().await;
    sensor.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_error_shows_beside_its_field_and_keeps_what_was_typed() {
    webdriver::require_chromium();
    let _one = one_at_a_time().lock().await;
    let data = tempfile::tempdir().unwrap();
    let sensor = Sensor::start("127.0.0.202", data.path()).await;
    let base = sensor.base.clone();
    let b = Browser::start().await;
    login(&b, &base, "admin1").await;
    b.goto(&format!("{base}/scans/new")).await;
    b.wait("#scan-form input[name=name]")
        .await
        .fill("boiler house")
        .await;
    b.wait("#scan-form input[name=port]")
        .await
        .fill("70000")
        .await;
    // 192.0.2.7 is outside the sensor's scope: refused before anything is stored or sent
    b.wait("#scan-form textarea[name=targets]")
        .await
        .fill("192.0.2.7")
        .await;
    b.wait("#save-scan").await.click().await;
    let port_error = b.wait_some_text("[data-err='use_case.port']").await;
    assert!(!port_error.is_empty());
    assert_eq!(b.wait("[data-err=targets]").await.text().await, "");
    b.screenshot("scan-form-port-error").await;

    b.wait("#scan-form input[name=port]")
        .await
        .fill("502")
        .await;
    b.wait("#save-scan").await.click().await;
    let targets_error = b.wait_some_text("[data-err=targets]").await;
    assert!(
        targets_error.contains("192.0.2.7") || targets_error.contains("scope"),
        "{targets_error}"
    );
    assert_eq!(b.wait("[data-err='use_case.port']").await.text().await, "");
    // what was typed is still there, and nothing was stored
    assert_eq!(
        b.wait("#scan-form input[name=name]")
            .await
            .property("value")
            .await,
        "boiler house"
    );
    assert_eq!(
        b.wait("#scan-form textarea[name=targets]")
            .await
            .property("value")
            .await,
        "192.0.2.7"
    );
    assert_eq!(
        b.wait("#scan-form input[name=port]")
            .await
            .property("value")
            .await,
        "502"
    );
    assert!(b.url().await.ends_with("/scans/new"));
    b.screenshot("scan-form-targets-error").await;

    // the inventory's filters too: the error beside the field, the typed value kept
    b.goto(&format!("{base}/devices?subnet=10.300.0.0%2F16&q=pump"))
        .await;
    let subnet_error = b.wait_some_text("#device-filters [data-err=subnet]").await;
    assert!(subnet_error.contains("10.300.0.0/16"), "{subnet_error}");
    assert_eq!(
        b.wait("#device-filters input[name=subnet]")
            .await
            .property("value")
            .await,
        "10.300.0.0/16"
    );
    assert_eq!(
        b.wait("#device-filters input[name=q]")
            .await
            .property("value")
            .await,
        "pump"
    );
    let admin = sensor.login("admin1").await;
    let scans = sensor
        .get("/api/scans", &admin, reqwest::StatusCode::OK)
        .await;
    assert_eq!(scans.as_array().map(Vec::len), Some(0), "{scans}");
    b.close().await;
    sensor.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plc_scan_created_and_run_in_the_console_puts_the_peer_in_the_inventory() {
    webdriver::require_chromium();
    require_tcp_peer(addr("MODBUS_IP", "MODBUS_PORT"), "modbus");
    let _one = one_at_a_time().lock().await;
    let data = tempfile::tempdir().unwrap();
    let sensor = Sensor::start("127.0.0.203", data.path()).await;
    let base = sensor.base.clone();
    let ip = var("MODBUS_IP");
    let b = Browser::start().await;
    login(&b, &base, "admin1").await;

    b.goto(&format!("{base}/scans")).await;
    b.wait("#create-scan").await.click().await;
    b.wait("#scan-form input[name=name]")
        .await
        .fill("line 1 PLCs")
        .await;
    // the port follows the protocol; the peer's port as configured
    b.wait("#scan-form input[name=port]")
        .await
        .fill(&var("MODBUS_PORT"))
        .await;
    b.wait("#scan-form input[name=timeout_secs]")
        .await
        .fill("3")
        .await;
    b.wait("#scan-form textarea[name=targets]")
        .await
        .fill(&ip)
        .await;
    b.screenshot("scan-create").await;
    b.wait("#save-scan").await.click().await;
    // the scan's page, with its Run button
    b.wait("button.run").await.click().await;
    b.wait_path("/runs/").await;
    b.wait_text("#run-status", "completed").await;
    b.wait_text("#run-updates", "1 new, 0 updated").await;
    let vendor = var("MODBUS_VENDOR");
    let devices = b.wait_text("main table", &vendor).await;
    assert!(devices.contains(&ip), "{devices}");
    b.wait_text("table.log", "identified").await;
    b.screenshot("run").await;

    // the scans list shows the run and its Update device count
    b.goto(&format!("{base}/scans")).await;
    b.wait_text("a.updates", "1 new, 0 updated").await;
    b.screenshot("scans").await;

    // the inventory, searched by address, with the identity the peer was given
    b.goto(&format!("{base}/devices?q={ip}")).await;
    let row = b.wait_text("#devices tbody", &ip).await;
    for want in [vendor.clone(), var("MODBUS_REV")] {
        assert!(row.contains(&want), "{want} not in {row}");
    }
    assert!(row.contains("modbus"), "{row}");
    b.screenshot("devices").await;
    // filters and sorting keep each other
    b.goto(&format!("{base}/devices?protocol=modbus")).await;
    b.wait("#devices a[data-sort=vendor]").await.click().await;
    let url = b.wait_path("/devices?").await;
    assert!(
        url.contains("sort=vendor") && url.contains("protocol=modbus"),
        "{url}"
    );
    b.wait_text("#devices tbody", &ip).await;
    b.goto(&format!("{base}/devices?protocol=bacnet")).await;
    b.wait_text("#device-total", "0 devices").await;
    b.goto(&format!("{base}/devices?q={ip}")).await;
    b.wait("#devices tbody a").await.click().await;
    b.wait_path("/devices/").await;
    let identity = b.wait_text("#identity", &vendor).await;
    for want in [
        var("MODBUS_PRODCODE"),
        var("MODBUS_REV"),
        var("MODBUS_PRODNAME"),
    ] {
        assert!(identity.contains(&want), "{want} not in {identity}");
    }
    b.wait_text("main", "History").await;
    b.screenshot("device").await;

    // edit the scan: the pane comes back with its settings; a schedule is added
    b.goto(&format!("{base}/scans")).await;
    b.wait("main table a[href^='/scans/']").await.click().await;
    b.wait("#edit-scan").await.click().await;
    b.wait_path("/scans/").await;
    let name = b.wait("#scan-form input[name=name]").await;
    assert_eq!(name.property("value").await, "line 1 PLCs");
    assert_eq!(
        b.wait("#scan-form textarea[name=targets]")
            .await
            .property("value")
            .await,
        ip.as_str()
    );
    name.fill("line 1 PLCs nightly").await;
    b.wait("#scan-form select[name=schedule] option[value=times_of_day]")
        .await
        .click()
        .await;
    b.wait("#scan-form input[name=times]")
        .await
        .fill("03:00")
        .await;
    b.wait("#save-scan").await.click().await;
    b.wait_text("main h1", "line 1 PLCs nightly").await;
    b.wait_text("main", "at 03:00 every day").await;

    b.goto(&format!("{base}/map")).await;
    b.wait("#device-map a.map-link").await;
    b.screenshot("map").await;
    b.close().await;
    sensor.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_scan_shows_live_progress_and_stops_from_the_console() {
    webdriver::require_chromium();
    let _one = one_at_a_time().lock().await;
    let data = tempfile::tempdir().unwrap();
    let sensor = Sensor::start("127.0.0.204", data.path()).await;
    let base = sensor.base.clone();
    let admin: Auth = sensor.login("admin1").await;
    // a /16 of the console's own block where nothing listens: long enough to stop
    let scan = sensor
        .create_scan(&admin, modbus_scan("sweep to stop", &["127.31.0.0/16"]))
        .await;
    let id = scan["id"].as_i64().unwrap();
    let b = Browser::start().await;
    login(&b, &base, "analyst1").await;
    b.goto(&format!("{base}/scans/{id}")).await;
    b.wait("button.run").await.click().await;
    b.wait_path("/runs/").await;
    // the poller rewrites the progress line while the run goes on
    b.wait_text("#run-progress-text", "identified").await;
    b.screenshot("run-progress").await;
    b.wait("button.stop").await.click().await;
    b.wait_text("#run-status", "cancelled").await;
    b.screenshot("run-stopped").await;
    b.close().await;
    sensor.service.shutdown().await;
}

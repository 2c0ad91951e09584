//! The console pages over the service's switch-discovery, WEM and reverse-DNS endpoints, in a
//! real browser (headless Chromium through chromedriver) against a real sensor on HTTPS and the
//! testbed's snmpsim and knot peers: a switch scan and the device map showing its devices; a
//! WEM ranges CSV imported with an error and its line number shown; a DNS server added (with a
//! field error first) and Test answering with the name knot was given.

mod common;
mod webdriver;

use common::{PASSWORD, Sensor};
use otsensor_testkit::{addr, require_snmp_peer, require_tcp_peer, var};
use webdriver::{Browser, one_at_a_time};

async fn login(b: &Browser, base: &str, name: &str) {
    b.goto(&format!("{base}/login")).await;
    b.submit_login(name, PASSWORD).await;
    b.wait_path("/devices").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_switch_scan_of_snmpsim_fills_the_device_map() {
    webdriver::require_chromium();
    let target = addr("SNMPSIM_IP", "SNMPSIM_PORT");
    require_snmp_peer(target, "hpe-procurve", "snmpsim");
    let _one = one_at_a_time().lock().await;
    let data = tempfile::tempdir().unwrap();
    let sensor = Sensor::start("127.0.0.210", data.path()).await;
    let base = sensor.base.clone();
    let b = Browser::start().await;
    login(&b, &base, "admin1").await;
    b.goto(&format!("{base}/scans/new")).await;
    b.wait("#scan-form input[name=name]")
        .await
        .fill("core switch")
        .await;
    b.wait("#scan-form select[name=kind] option[value=switch]")
        .await
        .click()
        .await;
    b.wait("#scan-form select[name=version] option[value='snmp-v2c']")
        .await
        .click()
        .await;
    b.wait("#scan-form input[name=community]")
        .await
        .fill("hpe-procurve")
        .await;
    b.wait("#scan-form textarea[name=targets]")
        .await
        .fill(&target.ip().to_string())
        .await;
    b.screenshot("scan-create-switch").await;
    b.wait("#save-scan").await.click().await;
    b.wait("button.run").await.click().await;
    b.wait_path("/runs/").await;
    b.wait_text("#run-status", "completed").await;
    b.screenshot("run-switch").await;
    b.goto(&format!("{base}/map")).await;
    b.wait("#device-map .node.switch").await;
    assert!(
        b.count("#device-map a.map-link").await > 1,
        "the switch alone on the map"
    );
    assert!(
        b.count("#device-map .edge").await > 0,
        "no links on the map"
    );
    b.screenshot("map-switch").await;
    b.wait("#device-map .node.switch").await.click().await;
    b.wait_path("/devices/").await;
    b.wait("#identity").await;
    b.close().await;
    sensor.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wem_ranges_csv_with_an_error_shows_its_line_number() {
    webdriver::require_chromium();
    let _one = one_at_a_time().lock().await;
    let data = tempfile::tempdir().unwrap();
    let sensor = Sensor::start("127.0.0.211", data.path()).await;
    let base = sensor.base.clone();
    let files = tempfile::tempdir().unwrap();
    let bad = files.path().join("ranges-bad.csv");
    std::fs::write(
        &bad,
        "FROM,TO,USER,PASSWORD,DISABLE\n127.0.0.70,127.0.0.71,PLANT\\scanner,pw,FALSE\nnot-an-address,127.0.0.9,u,p,FALSE\n",
    )
    .unwrap();
    let good = files.path().join("ranges.csv");
    std::fs::write(
        &good,
        "FROM,TO,USER,PASSWORD,DISABLE\n127.0.0.70,127.0.0.71,PLANT\\scanner,pw,FALSE\n",
    )
    .unwrap();
    let b = Browser::start().await;
    login(&b, &base, "admin1").await;
    b.goto(&format!("{base}/wem")).await;
    b.wait("#wem-import-file")
        .await
        .fill(&bad.display().to_string())
        .await;
    b.wait("#wem-import").await.click().await;
    let error = b.wait_some_text("#wem-import-error").await;
    assert!(error.contains("line 3"), "{error}");
    b.screenshot("wem-import-error").await;
    assert_eq!(b.count("#wem-rows tr").await, 0, "a bad file imported");

    b.wait("#wem-import-file")
        .await
        .fill(&good.display().to_string())
        .await;
    b.wait("#wem-import").await.click().await;
    b.wait("#wem-rows tr input[name=from]").await;
    assert_eq!(
        b.wait("#wem-rows tr input[name=user]")
            .await
            .property("value")
            .await,
        "PLANT\\scanner"
    );
    b.screenshot("wem").await;
    b.close().await;
    sensor.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dns_server_added_in_the_console_answers_the_test_lookup() {
    webdriver::require_chromium();
    let knot = addr("KNOT_IP", "KNOT_PORT");
    require_tcp_peer(knot, "knot");
    let _one = one_at_a_time().lock().await;
    let data = tempfile::tempdir().unwrap();
    let sensor = Sensor::start("127.0.0.212", data.path()).await;
    let base = sensor.base.clone();
    let b = Browser::start().await;
    login(&b, &base, "admin1").await;
    b.goto(&format!("{base}/rdns")).await;
    // outside the scope first: the error beside the address, the rest kept
    b.wait("#rdns-form input[name=address]")
        .await
        .fill("192.0.2.53")
        .await;
    b.wait("#rdns-form input[name=port]")
        .await
        .fill(&knot.port().to_string())
        .await;
    let subnet = format!("{}.0.0/24", var("DNS_SPECIAL_NET"));
    b.wait("#rdns-form textarea[name=subnets]")
        .await
        .fill(&subnet)
        .await;
    b.wait("#rdns-add").await.click().await;
    b.wait_some_text("#rdns-form [data-err=address]").await;
    assert_eq!(
        b.wait("#rdns-form textarea[name=subnets]")
            .await
            .property("value")
            .await,
        subnet.as_str()
    );
    b.screenshot("rdns-error").await;
    b.wait("#rdns-form input[name=address]")
        .await
        .fill(&knot.ip().to_string())
        .await;
    b.wait("#rdns-add").await.click().await;
    b.wait_text("#rdns-rows", &knot.ip().to_string()).await;
    b.wait("#rdns-rows button.rdns-test").await.click().await;
    let host = format!("{}.0.1", var("DNS_SPECIAL_NET"));
    b.wait("#rdns-test-form input[name=address]")
        .await
        .fill(&host)
        .await;
    b.wait("#rdns-lookup").await.click().await;
    let answer = b.wait_some_text("#rdns-answer").await;
    assert!(
        answer.contains("found") && answer.contains("host-1"),
        "{answer}"
    );
    b.screenshot("rdns-test").await;
    b.close().await;
    sensor.service.shutdown().await;
}

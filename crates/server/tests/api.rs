//! The REST API over real HTTPS against a real service on a loopback address with a temporary
//! store: sessions and CSRF, roles, throttling, tokens, bad input, the OpenAPI document.

mod common;

use common::{Auth, PASSWORD, Sensor, modbus_scan};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_sets_strict_cookies_and_changes_need_the_csrf_token() {
    let data = tempfile::tempdir().unwrap();
    let sensor = Sensor::start("127.0.100.1", data.path()).await;
    let admin = sensor.login("admin1").await;
    let Auth::Session { set_cookie, .. } = &admin else {
        panic!()
    };
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    let me = sensor.get("/api/session", &admin, StatusCode::OK).await;
    assert_eq!(me["user"]["name"], "admin1");
    assert_eq!(me["user"]["role"], "admin");
    assert_eq!(me["via"], "session");

    // a change without the CSRF header, or with a wrong one, is refused and nothing is stored
    let scan = modbus_scan("csrf test", &["127.0.0.1"]);
    let refused = sensor
        .call(
            Method::POST,
            "/api/scans",
            &admin.without_csrf(),
            scan.clone(),
            StatusCode::FORBIDDEN,
        )
        .await;
    assert_eq!(refused["error"], "csrf");
    let Auth::Session { cookie, .. } = &admin else {
        panic!()
    };
    let wrong = Auth::Session {
        cookie: cookie.clone(),
        csrf: "0".repeat(64),
        set_cookie: String::new(),
    };
    let refused = sensor
        .call(
            Method::POST,
            "/api/scans",
            &wrong,
            scan.clone(),
            StatusCode::FORBIDDEN,
        )
        .await;
    assert_eq!(refused["error"], "csrf");
    // from another origin, even with the token
    let (status, _, body) = {
        let resp = sensor
            .client
            .post(format!("{}/api/scans", sensor.base))
            .header("Cookie", format!("otsensor_session={cookie}"))
            .header("X-CSRF-Token", me["csrf_token"].as_str().unwrap())
            .header("Origin", "https://evil.example")
            .json(&scan)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, (), resp.json::<Value>().await.unwrap())
    };
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"], "csrf");
    let scans = sensor.get("/api/scans", &admin, StatusCode::OK).await;
    assert_eq!(scans, json!([]));

    // with the token it works
    sensor.create_scan(&admin, scan).await;

    // logout ends the session
    let (status, _, _) = sensor
        .send(Method::DELETE, "/api/session", &admin, None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let gone = sensor
        .get("/api/session", &admin, StatusCode::UNAUTHORIZED)
        .await;
    assert_eq!(gone["error"], "unauthorized");
    sensor.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expire_when_idle_and_at_their_end() {
    let data = tempfile::tempdir().unwrap();
    let sensor = Sensor::start("127.0.100.2", data.path()).await;
    let reader = sensor.login("reader1").await;
    sensor.get("/api/devices", &reader, StatusCode::OK).await;
    // idle for 29 minutes: still fine (the default idle limit is 30)
    sensor.clock.advance(jiff::SignedDuration::from_mins(29));
    sensor.get("/api/devices", &reader, StatusCode::OK).await;
    sensor.clock.advance(jiff::SignedDuration::from_mins(31));
    let expired = sensor
        .get("/api/devices", &reader, StatusCode::UNAUTHORIZED)
        .await;
    assert_eq!(expired["error"], "unauthorized");
    // kept busy, a session still ends 12 hours after login
    let busy = sensor.login("reader1").await;
    for _ in 0..25 {
        sensor.clock.advance(jiff::SignedDuration::from_mins(28));
        sensor.get("/api/scans", &busy, StatusCode::OK).await;
    }
    sensor.clock.advance(jiff::SignedDuration::from_mins(28));
    sensor
        .get("/api/scans", &busy, StatusCode::UNAUTHORIZED)
        .await;
    sensor.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_admin_must_change_the_one_time_password() {
    let data = tempfile::tempdir().unwrap();
    let sensor = Sensor::start("127.0.100.3", data.path()).await;
    let otp = sensor
        .service
        .first_admin_password
        .clone()
        .expect("a fresh store gets a first admin");
    let admin = sensor.login_with("admin", &otp).await;
    let me = sensor.get("/api/session", &admin, StatusCode::OK).await;
    assert_eq!(me["user"]["must_change_password"], true);
    let blocked = sensor
        .get("/api/scans", &admin, StatusCode::FORBIDDEN)
        .await;
    assert_eq!(blocked["error"], "password_change_required");
    let short = sensor
        .call(
            Method::POST,
            "/api/session/password",
            &admin,
            json!({ "current": otp, "new": "short" }),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(short["field"], "new");
    sensor
        .call(
            Method::POST,
            "/api/session/password",
            &admin,
            json!({ "current": otp, "new": "a much better password" }),
            StatusCode::NO_CONTENT,
        )
        .await;
    // the change ended the session; the new password works and the old one does not
    sensor
        .get("/api/session", &admin, StatusCode::UNAUTHORIZED)
        .await;
    let (status, _, _) = sensor
        .send(
            Method::POST,
            "/api/session",
            &Auth::None,
            Some(json!({ "name": "admin", "password": otp })),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let admin = sensor.login_with("admin", "a much better password").await;
    sensor.get("/api/scans", &admin, StatusCode::OK).await;
    sensor.service.shutdown().await;

    // a second start on the same store makes no new one-time password
    let again = Sensor::start("127.0.100.3", data.path()).await;
    assert_eq!(again.service.first_admin_password, None);
    again.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_gets_403_for_what_it_may_not_do() {
    let data = tempfile::tempdir().unwrap();
    let sensor = Sensor::start("127.0.100.4", data.path()).await;
    let admin = sensor.login("admin1").await;
    let analyst = sensor.login("analyst1").await;
    let reader = sensor.login("reader1").await;
    let closed = otsensor_testkit::var("MODBUS_CLOSED_IP");
    let scan = sensor
        .create_scan(&admin, modbus_scan("closed port", &[&closed]))
        .await;
    let id = scan["id"].as_i64().unwrap();
    let body = modbus_scan("another", &["127.0.0.1"]);

    // read-only: sees, but cannot create, change, run or stop scans, nor see users or the audit
    for path in [
        "/api/scans",
        "/api/devices",
        "/api/runs",
        "/api/settings",
        "/metrics",
    ] {
        sensor.get(path, &reader, StatusCode::OK).await;
    }
    for path in ["/api/users", "/api/audit"] {
        let e = sensor.get(path, &reader, StatusCode::FORBIDDEN).await;
        assert_eq!(e["error"], "forbidden");
    }
    let cases: Vec<(Method, String, Value)> = vec![
        (Method::POST, "/api/scans".into(), body.clone()),
        (Method::PUT, format!("/api/scans/{id}"), body.clone()),
        (Method::DELETE, format!("/api/scans/{id}"), Value::Null),
        (Method::POST, format!("/api/scans/{id}/run"), Value::Null),
        (Method::POST, format!("/api/scans/{id}/stop"), Value::Null),
        (
            Method::POST,
            "/api/users".into(),
            json!({"name": "x", "role": "admin", "password": PASSWORD}),
        ),
        (
            Method::PATCH,
            "/api/users/1".into(),
            json!({"role": "admin"}),
        ),
        (Method::DELETE, "/api/users/1".into(), Value::Null),
    ];
    for (method, path, body) in &cases {
        let (status, _, e) = sensor
            .send(method.clone(), path, &reader, Some(body.clone()))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "reader {method} {path}: {e}");
        assert_eq!(e["error"], "forbidden");
    }
    // analyst: sees users and the audit log, runs and stops, but creates and changes nothing
    sensor.get("/api/users", &analyst, StatusCode::OK).await;
    sensor.get("/api/audit", &analyst, StatusCode::OK).await;
    for (method, path, body) in cases
        .iter()
        .filter(|(_, p, _)| !p.ends_with("/run") && !p.ends_with("/stop"))
    {
        let (status, _, e) = sensor
            .send(method.clone(), path, &analyst, Some(body.clone()))
            .await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "analyst {method} {path}: {e}"
        );
    }
    let run = sensor
        .call(
            Method::POST,
            &format!("/api/scans/{id}/run"),
            &analyst,
            Value::Null,
            StatusCode::ACCEPTED,
        )
        .await;
    assert_eq!(run["trigger"], "manual");
    assert_eq!(run["started_by"], "analyst1");
    let run = sensor
        .wait_for_run(run["id"].as_i64().unwrap(), &analyst)
        .await;
    assert_eq!(run["status"], "completed");
    assert_eq!(run["probed"], 1);
    let log = sensor
        .get(
            &format!("/api/runs/{}/log", run["id"]),
            &reader,
            StatusCode::OK,
        )
        .await;
    assert_eq!(log[0]["address"], closed.as_str());
    assert_eq!(log[0]["outcome"], "refused");
    // stopping a scan that does not run is a conflict, not a permission matter
    let e = sensor
        .call(
            Method::POST,
            &format!("/api/scans/{id}/stop"),
            &analyst,
            Value::Null,
            StatusCode::CONFLICT,
        )
        .await;
    assert_eq!(e["error"], "conflict");
    // admin: everything
    sensor
        .call(
            Method::PUT,
            &format!("/api/scans/{id}"),
            &admin,
            body,
            StatusCode::OK,
        )
        .await;
    let (status, _, _) = sensor
        .send(Method::DELETE, &format!("/api/scans/{id}"), &admin, None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    sensor
        .get(&format!("/api/scans/{id}"), &admin, StatusCode::NOT_FOUND)
        .await;
    // the deleted scan's runs stay
    sensor
        .get(&format!("/api/runs/{}", run["id"]), &reader, StatusCode::OK)
        .await;
    // nobody may remove the last admin
    let users = sensor.get("/api/users", &admin, StatusCode::OK).await;
    let admin_id = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "admin1")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let other_admin = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "admin")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    sensor
        .call(
            Method::PATCH,
            &format!("/api/users/{other_admin}"),
            &admin,
            json!({"disabled": true}),
            StatusCode::OK,
        )
        .await;
    let e = sensor
        .call(
            Method::PATCH,
            &format!("/api/users/{admin_id}"),
            &admin,
            json!({"role": "readonly"}),
            StatusCode::CONFLICT,
        )
        .await;
    assert!(e["detail"].as_str().unwrap().contains("admin"), "{e}");
    // unauthenticated: 401
    let e = sensor
        .get("/api/scans", &Auth::None, StatusCode::UNAUTHORIZED)
        .await;
    assert_eq!(e["error"], "unauthorized");
    sensor.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_are_throttled_after_repeated_failures() {
    let data = tempfile::tempdir().unwrap();
    let sensor = Sensor::start("127.0.100.5", data.path()).await;
    for _ in 0..5 {
        let (status, _, e) = sensor
            .send(
                Method::POST,
                "/api/session",
                &Auth::None,
                Some(json!({"name": "analyst1", "password": "guess guess guess"})),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{e}");
    }
    // the right password is refused too while the lockout lasts
    let (status, headers, e) = sensor
        .send(
            Method::POST,
            "/api/session",
            &Auth::None,
            Some(json!({"name": "analyst1", "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{e}");
    assert_eq!(e["error"], "too_many_attempts");
    assert!(headers.get("retry-after").is_some());
    // after the lockout (default 300 s) the login works
    sensor.clock.advance(jiff::SignedDuration::from_secs(301));
    sensor.login("analyst1").await;
    let admin = sensor.login("admin1").await;
    let failed = sensor.audit("login.failed", &admin).await;
    assert_eq!(failed.len(), 5);
    assert_eq!(failed[0]["actor"], "analyst1");
    assert!(failed[0]["client"].as_str().unwrap().starts_with("127."));
    assert_eq!(sensor.audit("login.throttled", &admin).await.len(), 1);
    // nothing secret in the audit log
    let all = sensor
        .get("/api/audit?per_page=1000", &admin, StatusCode::OK)
        .await;
    let text = all.to_string();
    assert!(!text.contains("guess guess"), "{text}");
    assert!(!text.contains(PASSWORD), "{text}");
    sensor.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_tokens_act_with_their_users_role_and_can_be_revoked() {
    let data = tempfile::tempdir().unwrap();
    let sensor = Sensor::start("127.0.100.6", data.path()).await;
    let admin = sensor.login("admin1").await;
    let reader = sensor.login("reader1").await;
    let created = sensor
        .call(
            Method::POST,
            "/api/tokens",
            &reader,
            json!({"name": "nightly export", "expires_in_days": 30}),
            StatusCode::CREATED,
        )
        .await;
    let secret = created["token_secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("otsensor_"));
    let token = Auth::Token(secret.clone());
    let me = sensor.get("/api/session", &token, StatusCode::OK).await;
    assert_eq!(me["via"], "token");
    assert_eq!(me["user"]["name"], "reader1");
    sensor
        .get("/api/devices/export?format=csv", &token, StatusCode::OK)
        .await;
    // a token carries its user's role: no CSRF needed, but still no creating scans
    let e = sensor
        .call(
            Method::POST,
            "/api/scans",
            &token,
            modbus_scan("x", &["127.0.0.1"]),
            StatusCode::FORBIDDEN,
        )
        .await;
    assert_eq!(e["error"], "forbidden");
    // the list never shows the secret
    let list = sensor.get("/api/tokens", &reader, StatusCode::OK).await;
    assert_eq!(list[0]["name"], "nightly export");
    assert!(!list.to_string().contains(&secret));
    // an admin's token may create scans without a CSRF header
    let admin_token = sensor
        .call(
            Method::POST,
            "/api/tokens",
            &admin,
            json!({"name": "automation"}),
            StatusCode::CREATED,
        )
        .await["token_secret"]
        .as_str()
        .unwrap()
        .to_string();
    sensor
        .create_scan(
            &Auth::Token(admin_token),
            modbus_scan("by token", &["127.0.0.1"]),
        )
        .await;
    // only admins see everyone's tokens
    sensor
        .get("/api/tokens?all=true", &reader, StatusCode::FORBIDDEN)
        .await;
    let all = sensor
        .get("/api/tokens?all=true", &admin, StatusCode::OK)
        .await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    // revoked: refused at once
    let id = created["id"].as_i64().unwrap();
    let (status, _, _) = sensor
        .send(Method::DELETE, &format!("/api/tokens/{id}"), &reader, None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    sensor
        .get("/api/session", &token, StatusCode::UNAUTHORIZED)
        .await;
    let revoked = sensor.audit("token.revoke", &admin).await;
    assert_eq!(revoked[0]["actor"], "reader1");
    // expired: refused
    sensor
        .clock
        .advance(jiff::SignedDuration::from_hours(24 * 31));
    let fresh = sensor.login("reader1").await;
    let created = sensor
        .call(
            Method::POST,
            "/api/tokens",
            &fresh,
            json!({"name": "short", "expires_in_days": 1}),
            StatusCode::CREATED,
        )
        .await;
    let short = Auth::Token(created["token_secret"].as_str().unwrap().to_string());
    sensor.get("/api/session", &short, StatusCode::OK).await;
    sensor.clock.advance(jiff::SignedDuration::from_hours(25));
    sensor
        .get("/api/session", &short, StatusCode::UNAUTHORIZED)
        .await;
    sensor.service.shutdown().await;
}

/// One bad scan body and the field its 400 must name.
fn bad_scans() -> Vec<(Value, &'static str)> {
    let good = modbus_scan("good", &["127.0.0.10"]);
    let with = |key: &str, value: Value| {
        let mut b = good.clone();
        b[key] = value;
        b
    };
    let use_case = |value: Value| with("use_case", value);
    let mut no_name = good.clone();
    no_name.as_object_mut().unwrap().remove("name");
    vec![
        (no_name, "name"),
        (with("name", json!("   ")), "name"),
        (with("name", json!(7)), "name"),
        (with("colour", json!("blue")), "colour"),
        (use_case(json!({"protocol": "modbus"})), "use_case.kind"),
        (use_case(json!({"kind": "plc"})), "use_case.protocol"),
        (
            use_case(json!({"kind": "plc", "protocol": "profinet"})),
            "use_case.protocol",
        ),
        (
            use_case(json!({"kind": "plc", "protocol": "modbus", "port": 0})),
            "use_case.port",
        ),
        (
            use_case(json!({"kind": "plc", "protocol": "modbus", "port": 70000})),
            "use_case.port",
        ),
        (
            use_case(json!({"kind": "plc", "protocol": "modbus", "port": "502"})),
            "use_case.port",
        ),
        (
            use_case(json!({"kind": "plc", "protocol": "modbus", "timeout_secs": 0})),
            "use_case.timeout_secs",
        ),
        (
            use_case(json!({"kind": "plc", "protocol": "modbus", "depth": 3})),
            "use_case.depth",
        ),
        (
            use_case(json!({"kind": "plc", "protocol": "modbus", "vendor": "x"})),
            "use_case.vendor",
        ),
        (
            use_case(json!({"kind": "switch", "version": "snmp-v2c"})),
            "use_case.kind",
        ),
        (use_case(json!({"kind": "printer"})), "use_case.kind"),
        (with("targets", json!([])), "targets"),
        (with("targets", json!("127.0.0.1")), "targets"),
        (
            with("targets", json!(["127.0.0.1", "not-an-address"])),
            "targets[1]",
        ),
        (
            with("targets", json!(["127.0.0.1", "127.0.0.9-127.0.0.1"])),
            "targets[1]",
        ),
        (with("targets", json!(["10.0.0.1"])), "targets[0]"),
        (with("targets", json!(["127.0.0.0/8"])), "targets[0]"),
        (
            with("targets", json!(["127.1.0.0/16", "127.2.0.0/16"])),
            "targets",
        ),
        (
            with(
                "schedule",
                json!({"kind": "every", "every": 0, "unit": "hours", "start": "2030-01-01T00:00"}),
            ),
            "schedule.every",
        ),
        (
            with(
                "schedule",
                json!({"kind": "once", "at": "2001-01-01T00:00"}),
            ),
            "schedule.at",
        ),
        (
            with("schedule", json!({"kind": "times_of_day", "times": []})),
            "schedule.times",
        ),
        (with("schedule", json!({"kind": "weekly"})), "schedule.kind"),
        (
            with(
                "maintenance_window",
                json!({"start": "02:00", "end": "02:00"}),
            ),
            "maintenance_window.end",
        ),
        (
            with(
                "maintenance_window",
                json!({"start": "25:00", "end": "02:00"}),
            ),
            "maintenance_window.start",
        ),
        (with("enabled", json!("yes")), "enabled"),
        (with("pacing", json!({"parallel": 0})), "pacing.parallel"),
        (with("pacing", json!({"burst": 1})), "pacing.burst"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_400_naming_the_field_and_nothing_is_stored() {
    let data = tempfile::tempdir().unwrap();
    let sensor = Sensor::start("127.0.100.7", data.path()).await;
    let admin = sensor.login("admin1").await;
    for (body, field) in bad_scans() {
        let e = sensor
            .call(
                Method::POST,
                "/api/scans",
                &admin,
                body.clone(),
                StatusCode::BAD_REQUEST,
            )
            .await;
        assert_eq!(e["error"], "bad_request", "{body}: {e}");
        assert_eq!(e["field"], field, "{body}: {e}");
        assert!(!e["detail"].as_str().unwrap().is_empty());
    }
    assert_eq!(
        sensor.get("/api/scans", &admin, StatusCode::OK).await,
        json!([])
    );
    assert!(sensor.audit("scan.", &admin).await.is_empty());

    // a body that is not JSON, or not declared as JSON
    let resp = sensor
        .client
        .post(format!("{}/api/scans", sensor.base))
        .bearer_auth(token_of(&sensor, &admin).await)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let e: Value = resp.json().await.unwrap();
    assert_eq!(e["field"], Value::Null);
    let resp = sensor
        .client
        .post(format!("{}/api/scans", sensor.base))
        .bearer_auth(token_of(&sensor, &admin).await)
        .header("Content-Type", "text/plain")
        .body(modbus_scan("x", &["127.0.0.1"]).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // an update with bad input leaves the scan as it was
    let scan = sensor
        .create_scan(&admin, modbus_scan("keep me", &["127.0.0.10"]))
        .await;
    let id = scan["id"].as_i64().unwrap();
    let mut bad = modbus_scan("renamed", &["127.0.0.10"]);
    bad["use_case"]["port"] = json!(0);
    let e = sensor
        .call(
            Method::PUT,
            &format!("/api/scans/{id}"),
            &admin,
            bad,
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(e["field"], "use_case.port");
    let kept = sensor
        .get(&format!("/api/scans/{id}"), &admin, StatusCode::OK)
        .await;
    assert_eq!(kept["name"], "keep me");
    assert_eq!(
        kept["use_case"]["port"], 502,
        "the port defaults per protocol"
    );
    // a second scan with the same name: 409 naming the field
    let e = sensor
        .call(
            Method::POST,
            "/api/scans",
            &admin,
            modbus_scan("keep me", &["127.0.0.11"]),
            StatusCode::CONFLICT,
        )
        .await;
    assert_eq!(e["field"], "name");

    // other write endpoints and the query parameters name their fields too
    for (method, path, body, field) in [
        (
            Method::POST,
            "/api/users",
            json!({"name": "bad name!", "role": "admin", "password": PASSWORD}),
            "name",
        ),
        (
            Method::POST,
            "/api/users",
            json!({"name": "bob", "role": "root", "password": PASSWORD}),
            "role",
        ),
        (
            Method::POST,
            "/api/users",
            json!({"name": "bob", "role": "admin", "password": "short"}),
            "password",
        ),
        (
            Method::POST,
            "/api/users",
            json!({"name": "bob", "role": "admin"}),
            "password",
        ),
        (
            Method::PATCH,
            "/api/users/1",
            json!({"password": "short"}),
            "password",
        ),
        (Method::POST, "/api/tokens", json!({"name": ""}), "name"),
        (
            Method::POST,
            "/api/tokens",
            json!({"name": "t", "expires_in_days": 0}),
            "expires_in_days",
        ),
        (
            Method::POST,
            "/api/session/password",
            json!({"current": "x"}),
            "new",
        ),
    ] {
        let e = sensor
            .call(
                method.clone(),
                path,
                &admin,
                body.clone(),
                StatusCode::BAD_REQUEST,
            )
            .await;
        assert_eq!(e["field"], field, "{method} {path} {body}: {e}");
    }
    assert!(
        sensor
            .audit("user.", &admin)
            .await
            .iter()
            .all(|e| e["actor"] != "admin1"),
        "a refused change is not audited as done"
    );
    for (query, field) in [
        ("subnet=banana", "subnet"),
        ("type=toaster", "type"),
        ("protocol=http", "protocol"),
        ("sort=colour", "sort"),
        ("order=up", "order"),
        ("page=0", "page"),
        ("per_page=100000", "per_page"),
        ("top_level=maybe", "top_level"),
    ] {
        let e = sensor
            .get(
                &format!("/api/devices?{query}"),
                &admin,
                StatusCode::BAD_REQUEST,
            )
            .await;
        assert_eq!(e["field"], field, "{query}: {e}");
    }
    sensor.service.shutdown().await;
}

/// A fresh admin API token for `session`'s user.
async fn token_of(sensor: &Sensor, session: &Auth) -> String {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_every_route_and_only_routes() {
    let data = tempfile::tempdir().unwrap();
    let sensor = Sensor::start("127.0.100.8", data.path()).await;
    let doc = sensor
        .get("/api/openapi.json", &Auth::None, StatusCode::OK)
        .await;
    assert_eq!(doc["openapi"], "3.1.0");
    let admin = sensor.login("admin1").await;
    let token = Auth::Token(token_of(&sensor, &admin).await);
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 25, "{} paths", paths.len());
    let mut operations = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            if method == "parameters" {
                continue;
            }
            operations += 1;
            assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()));
            // ids that do not exist: nothing is changed, but the route must answer
            let concrete = path.replace("{id}", "999999");
            let method: Method = method.to_uppercase().parse().unwrap();
            let (status, _, body) = sensor
                .send(method.clone(), &concrete, &token, Some(json!({})))
                .await;
            assert_ne!(
                status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}: {body}"
            );
            let detail = body["detail"].as_str().unwrap_or_default();
            assert!(
                !detail.starts_with("no such endpoint"),
                "{method} {path}: {body}"
            );
        }
    }
    assert!(operations >= 35, "{operations} operations");
    // an undocumented path is a JSON 404, an undocumented method a JSON 405
    let e = sensor
        .get("/api/nothing", &token, StatusCode::NOT_FOUND)
        .await;
    assert_eq!(e["error"], "not_found");
    let (status, _, e) = sensor
        .send(Method::PATCH, "/api/devices", &token, None)
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(e["error"], "method_not_allowed");
    // the extension points say so
    let e = sensor
        .get("/api/wem/ranges", &token, StatusCode::NOT_IMPLEMENTED)
        .await;
    assert_eq!(e["error"], "not_implemented");
    let e = sensor
        .get("/api/rdns/servers", &token, StatusCode::NOT_IMPLEMENTED)
        .await;
    assert_eq!(e["error"], "not_implemented");
    sensor.service.shutdown().await;
}

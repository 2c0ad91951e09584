//! A real sensor service on a loopback address for the API tests: HTTPS with the certificate
//! it generated, a temporary store, an injectable clock, and a rustls (ring) HTTP client.

#![allow(dead_code)]

use jiff::Timestamp;
use otsensor_core::{Pacing, Scope};
use otsensor_server::accounts::add_user;
use otsensor_server::{ManualClock, RunningService, ServerSettings, ServiceConfig};
use otsensor_store::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The password every test user gets.
pub const PASSWORD: &str = "correct horse battery staple";

/// A configuration listening on `ip` (any free port), storing in `data`, in time zone `tz`.
pub fn config(ip: &str, data: &Path, tz: &str) -> ServiceConfig {
    let (time_zone, time_zone_name) = otsensor_server::config::time_zone(Some(tz)).unwrap();
    let pacing = Pacing {
        timeout_ms: 2000,
        ..Pacing::default()
    };
    ServiceConfig {
        server: ServerSettings {
            listen: format!("{ip}:0").parse().unwrap(),
            ..ServerSettings::default()
        },
        data_dir: data.to_path_buf(),
        time_zone,
        time_zone_name,
        scope: Scope::default(),
        pacing,
        max_targets: 65_536,
    }
}

/// A running sensor with its client.
pub struct Sensor {
    pub service: RunningService,
    pub clock: Arc<ManualClock>,
    pub client: reqwest::Client,
    pub base: String,
}

/// An HTTPS client trusting only the sensor's generated certificate (rustls with ring).
pub fn client_for(cert_pem: &Path) -> reqwest::Client {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(cert_pem).unwrap() {
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
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

impl Sensor {
    /// Starts a sensor on `ip` with the data in `data`; creates the users `admin1`, `analyst1`
    /// and `reader1` (password [`PASSWORD`]) on a fresh store.
    pub async fn start(ip: &str, data: &Path) -> Sensor {
        Sensor::start_with(config(ip, data, "UTC"), Timestamp::now()).await
    }

    /// Starts a sensor with `config`, its clock showing `now`.
    pub async fn start_with(config: ServiceConfig, now: Timestamp) -> Sensor {
        let clock = Arc::new(ManualClock::new(now));
        let service = otsensor_server::start(config, clock.clone()).await.unwrap();
        let store = service.store();
        if store.user_credentials("admin1").await.unwrap().is_none() {
            for (name, role) in [
                ("admin1", Role::Admin),
                ("analyst1", Role::Analyst),
                ("reader1", Role::ReadOnly),
            ] {
                add_user(store, name, role, PASSWORD, now).await.unwrap();
            }
        }
        let cert = service.certificate.clone().expect("HTTPS");
        assert!(cert.generated);
        let client = client_for(&cert.cert);
        let base = service.url();
        assert!(base.starts_with("https://127."), "{base}");
        Sensor {
            service,
            clock,
            client,
            base,
        }
    }

    /// Sends a request; returns the status, the headers and the body as JSON (`Null` if none).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        auth: &Auth,
        body: Option<Value>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        req = auth.apply(req);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, headers, json)
    }

    /// GET, expecting `want`.
    pub async fn get(&self, path: &str, auth: &Auth, want: StatusCode) -> Value {
        let (status, _, body) = self.send(Method::GET, path, auth, None).await;
        assert_eq!(status, want, "GET {path}: {body}");
        body
    }

    /// GET of an owned path, expecting 200.
    pub async fn get_owned(&self, path: String, auth: &Auth) -> Value {
        self.get(&path, auth, StatusCode::OK).await
    }

    /// A method with a JSON body, expecting `want`.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        auth: &Auth,
        body: Value,
        want: StatusCode,
    ) -> Value {
        let (status, _, got) = self.send(method.clone(), path, auth, Some(body)).await;
        assert_eq!(status, want, "{method} {path}: {got}");
        got
    }

    /// Logs `name` in with [`PASSWORD`].
    pub async fn login(&self, name: &str) -> Auth {
        self.login_with(name, PASSWORD).await
    }

    /// Logs in; panics unless it works.
    pub async fn login_with(&self, name: &str, password: &str) -> Auth {
        let (status, headers, body) = self
            .send(
                Method::POST,
                "/api/session",
                &Auth::None,
                Some(json!({ "name": name, "password": password })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login {name}: {body}");
        let cookie = headers
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|c| c.starts_with("otsensor_session="))
            .expect("a session cookie");
        let value = cookie
            .split(';')
            .next()
            .unwrap()
            .trim_start_matches("otsensor_session=")
            .to_string();
        Auth::Session {
            cookie: value,
            csrf: body["csrf_token"].as_str().unwrap().to_string(),
            set_cookie: cookie,
        }
    }

    /// Creates a stored scan as `admin`; returns its JSON.
    pub async fn create_scan(&self, admin: &Auth, body: Value) -> Value {
        self.call(Method::POST, "/api/scans", admin, body, StatusCode::CREATED)
            .await
    }

    /// Waits until the run `id` is no longer running; returns it. Bounded so that a hang fails
    /// the test instead of stalling it (not a timing assertion).
    pub async fn wait_for_run(&self, id: i64, auth: &Auth) -> Value {
        for _ in 0..1200 {
            let run = self
                .get(&format!("/api/runs/{id}"), auth, StatusCode::OK)
                .await;
            if run["status"] != "running" {
                return run;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("run {id} still running after two minutes");
    }

    /// The audit entries whose action starts with `action`, newest first.
    pub async fn audit(&self, action: &str, auth: &Auth) -> Vec<Value> {
        let page = self
            .get(
                &format!("/api/audit?action={action}&per_page=1000"),
                auth,
                StatusCode::OK,
            )
            .await;
        page["items"].as_array().unwrap().clone()
    }
}

/// How a test request authenticates.
#[derive(Debug, Clone)]
pub enum Auth {
    /// No credentials.
    None,
    /// A session: the cookie's value, the CSRF token, and the whole Set-Cookie line.
    Session {
        cookie: String,
        csrf: String,
        set_cookie: String,
    },
    /// The session cookie without the CSRF header (to test CSRF refusal).
    CookieOnly { cookie: String },
    /// An API token.
    Token(String),
}

impl Auth {
    fn apply(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Auth::None => req,
            Auth::Session { cookie, csrf, .. } => req
                .header("Cookie", format!("otsensor_session={cookie}"))
                .header("X-CSRF-Token", csrf),
            Auth::CookieOnly { cookie } => {
                req.header("Cookie", format!("otsensor_session={cookie}"))
            }
            Auth::Token(t) => req.bearer_auth(t),
        }
    }

    /// The same session without the CSRF header.
    pub fn without_csrf(&self) -> Auth {
        match self {
            Auth::Session { cookie, .. } => Auth::CookieOnly {
                cookie: cookie.clone(),
            },
            other => other.clone(),
        }
    }
}

/// A PLC-discovery scan of `targets` over Modbus, on demand only.
pub fn modbus_scan(name: &str, targets: &[&str]) -> Value {
    json!({
        "name": name,
        "use_case": { "kind": "plc", "protocol": "modbus" },
        "targets": targets,
    })
}

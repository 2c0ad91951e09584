//! A minimal W3C WebDriver client over plain HTTP (reqwest, no OpenSSL) driving Debian's
//! Chromium headless through its chromedriver, for the console's browser tests.
//!
//! chromedriver listens on a free port of 127.0.0.1; Chromium runs headless with a private
//! profile, accepts the sensor's self-signed certificate, and is kept off every network but
//! loopback (no background services, non-loopback hosts sent to a dead proxy on 127.0.0.1).
//! Waits are bounded generously so that a hang fails the test; nothing asserts on time.

#![allow(dead_code)]

use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The W3C key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How long a wait may last before the test fails (a bound against hangs, not a timing check).
pub const WAIT: Duration = Duration::from_secs(60);

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A headless Chromium session.
pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
    http: reqwest::Client,
    profile: tempfile::TempDir,
    closed: bool,
}

/// Fails the test with what to install when Chromium or chromedriver is missing.
pub fn require_chromium() {
    for (path, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
        assert!(
            Path::new(path).exists(),
            "{path} is missing: the console's browser tests need Debian's {package} package \
             (apt-get install chromium chromium-driver; testbed/setup.sh installs both)"
        );
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port on 127.0.0.1");
    listener.local_addr().expect("its address").port()
}

/// One browser test at a time (one Chromium is enough for two shared cores).
pub fn one_at_a_time() -> &'static tokio::sync::Mutex<()> {
    static LOCK: std::sync::OnceLock<tokio::sync::Mutex<()>> = std::sync::OnceLock::new();
    LOCK.get_or_init(|| tokio::sync::Mutex::new(()))
}

impl Browser {
    /// Fills the console's login form (already shown) with `name` and `password` and submits it.
    pub async fn submit_login(&self, name: &str, password: &str) {
        self.wait("#login-form input[name=name]")
            .await
            .fill(name)
            .await;
        self.wait("#login-form input[name=password]")
            .await
            .fill(password)
            .await;
        self.wait("#login-submit").await.click().await;
    }

    /// Starts chromedriver and a Chromium session with a 1366x768 window.
    pub async fn start() -> Browser {
        require_chromium();
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {CHROMEDRIVER}: {e}"));
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap();
        let profile = tempfile::tempdir().unwrap();
        let mut browser = Browser {
            driver,
            port,
            session: String::new(),
            http,
            profile,
            closed: true,
        };
        browser.wait_for_driver().await;
        let args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--window-size=1366,768".into(),
            "--ignore-certificate-errors".into(),
            format!("--user-data-dir={}", browser.profile.path().display()),
            "--no-first-run".into(),
            "--no-default-browser-check".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-default-apps".into(),
            "--disable-domain-reliability".into(),
            "--disable-sync".into(),
            "--disable-extensions".into(),
            "--no-pings".into(),
            "--metrics-recording-only".into(),
            "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication".into(),
            // loopback only: any other host goes to a closed port of 127.0.0.1
            "--proxy-server=http://127.0.0.1:9".into(),
            "--proxy-bypass-list=127.0.0.0/8".into(),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "acceptInsecureCerts": true,
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args}
        }}});
        let v = browser.raw("POST", "/session", Some(caps)).await;
        browser.session = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("chromedriver gave no session: {v}"))
            .to_string();
        browser.closed = false;
        browser
    }

    async fn wait_for_driver(&self) {
        let deadline = Instant::now() + WAIT;
        loop {
            let url = format!("http://127.0.0.1:{}/status", self.port);
            let ready = match self.http.get(&url).send().await {
                Ok(r) => r.json::<Value>().await.ok(),
                Err(_) => None,
            };
            if ready.is_some_and(|v| v["value"]["ready"] == true) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not start on port {}",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn raw(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("http://127.0.0.1:{}{path}", self.port);
        let method: reqwest::Method = method.parse().unwrap();
        let mut req = self.http.request(method.clone(), &url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        v["value"].clone()
    }

    /// A WebDriver command of this session; `Err` with the driver's error value.
    async fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, Value> {
        let v = self
            .raw(method, &format!("/session/{}{path}", self.session), body)
            .await;
        if v.get("error").is_some() {
            Err(v)
        } else {
            Ok(v)
        }
    }

    /// Opens `url`.
    pub async fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({ "url": url })))
            .await
            .unwrap_or_else(|e| panic!("opening {url}: {e}"));
    }

    /// The current URL.
    pub async fn url(&self) -> String {
        self.cmd("GET", "/url", None)
            .await
            .unwrap()
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The element matching `css` now, if any.
    pub async fn find_now(&self, css: &str) -> Option<Element<'_>> {
        let v = self
            .cmd(
                "POST",
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await
            .ok()?;
        v[ELEMENT].as_str().map(|id| Element {
            browser: self,
            id: id.to_string(),
        })
    }

    /// How many elements match `css` now.
    pub async fn count(&self, css: &str) -> usize {
        self.cmd(
            "POST",
            "/elements",
            Some(json!({"using": "css selector", "value": css})),
        )
        .await
        .ok()
        .and_then(|v| v.as_array().map(Vec::len))
        .unwrap_or(0)
    }

    /// Waits until an element matches `css`.
    pub async fn wait(&self, css: &str) -> Element<'_> {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(e) = self.find_now(css).await {
                return e;
            }
            if Instant::now() > deadline {
                let text = self.page_text().await;
                panic!(
                    "no element {css:?} at {} after {WAIT:?}; the page says:\n{text}",
                    self.url().await
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until the element `css` exists and its text contains `want`; returns the text.
    pub async fn wait_text(&self, css: &str, want: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(e) = self.find_now(css).await {
                let t = e.text().await;
                if t.contains(want) {
                    return t;
                }
                if Instant::now() > deadline {
                    panic!("{css:?} says {t:?}, never {want:?}");
                }
            } else if Instant::now() > deadline {
                panic!(
                    "no element {css:?}; the page says:\n{}",
                    self.page_text().await
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until the element `css` has some text; returns it.
    pub async fn wait_some_text(&self, css: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(e) = self.find_now(css).await {
                let t = e.text().await;
                if !t.trim().is_empty() {
                    return t;
                }
            }
            assert!(
                Instant::now() < deadline,
                "{css:?} stayed empty; the page says:\n{}",
                self.page_text().await
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until the URL's path starts with `prefix`; returns the URL.
    pub async fn wait_path(&self, prefix: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let url = self.url().await;
            let path = url
                .splitn(4, '/')
                .nth(3)
                .map(|p| format!("/{p}"))
                .unwrap_or_default();
            if path.starts_with(prefix) {
                return url;
            }
            assert!(
                Instant::now() < deadline,
                "still at {url}, never {prefix}; the page says:\n{}",
                self.page_text().await
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The visible text of the page (its source when it shows no text).
    pub async fn page_text(&self) -> String {
        let text = match self.find_now("body").await {
            Some(b) => b.text().await,
            None => String::new(),
        };
        if !text.trim().is_empty() {
            return text;
        }
        let source = self.cmd("GET", "/source", None).await.unwrap_or_else(|e| e);
        let source = source
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| source.to_string());
        source.chars().take(4000).collect()
    }

    /// Saves a PNG screenshot of the page as `name.png` under the test's target directory.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let v = self.cmd("GET", "/screenshot", None).await.unwrap();
        let png = base64_decode(v.as_str().unwrap_or_default());
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Ends the session (closes Chromium) and chromedriver.
    pub async fn close(mut self) {
        let _ = self.cmd("DELETE", "", None).await;
        self.closed = true;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.closed {
            // a failed test: end the session synchronously so that Chromium exits too
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(20)));
                let _ = write!(
                    s,
                    "DELETE /session/{} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    self.session
                );
                let mut sink = Vec::new();
                let _ = s.read_to_end(&mut sink);
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// An element of the page.
pub struct Element<'a> {
    browser: &'a Browser,
    id: String,
}

impl Element<'_> {
    async fn cmd(&self, method: &str, what: &str, body: Option<Value>) -> Result<Value, Value> {
        self.browser
            .cmd(method, &format!("/element/{}{what}", self.id), body)
            .await
    }

    /// Clicks it.
    pub async fn click(&self) {
        self.cmd("POST", "/click", Some(json!({})))
            .await
            .unwrap_or_else(|e| panic!("click: {e}"));
    }

    /// Replaces its value with `text` as typed.
    pub async fn fill(&self, text: &str) {
        let _ = self.cmd("POST", "/clear", Some(json!({}))).await;
        self.cmd("POST", "/value", Some(json!({ "text": text })))
            .await
            .unwrap_or_else(|e| panic!("typing {text:?}: {e}"));
    }

    /// Its visible text.
    pub async fn text(&self) -> String {
        self.cmd("GET", "/text", None)
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// A DOM property (`value`, `checked`).
    pub async fn property(&self, name: &str) -> Value {
        self.cmd("GET", &format!("/property/{name}"), None)
            .await
            .unwrap_or(Value::Null)
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter_map(value) {
        acc = (acc << 6) | c;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

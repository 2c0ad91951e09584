//! The shared state of the service and its routes.

use crate::api::{audit, devices, meta, rdns, runs, scans, session, tokens, users, wem};
use crate::auth::throttle::Throttle;
use crate::clock::Clock;
use crate::config::ServiceConfig;
use crate::error::ApiError;
use crate::runner::Runner;
use crate::scheduler::Scheduler;
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use jiff::SignedDuration;
use otsensor_store::Store;
use std::ops::Deref;
use std::sync::Arc;

/// What every handler shares.
pub struct Shared {
    /// The store.
    pub store: Store,
    /// The resolved configuration.
    pub config: Arc<ServiceConfig>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Starts and stops runs.
    pub runner: Arc<Runner>,
    /// Plans scheduled runs.
    pub scheduler: Arc<Scheduler>,
    /// Runs and schedules reverse-DNS lookups.
    pub rdns: Arc<crate::rdns::RdnsRunner>,
    /// Runs and schedules WEM scans.
    pub wem: Arc<crate::wem::WemRunner>,
    /// Failed-login counters.
    pub throttle: Throttle,
    /// Whether the service speaks HTTPS (cookies are then Secure).
    pub tls: bool,
}

impl Shared {
    /// A session ends after this long without a request.
    pub fn session_idle(&self) -> SignedDuration {
        minutes(self.config.server.session_idle_minutes)
    }

    /// A session ends this long after login.
    pub fn session_max(&self) -> SignedDuration {
        minutes(self.config.server.session_max_hours.saturating_mul(60))
    }
}

fn minutes(n: u64) -> SignedDuration {
    SignedDuration::from_mins(
        i64::try_from(n)
            .unwrap_or(i64::MAX / 120)
            .min(i64::MAX / 120),
    )
}

/// The state handlers receive (cheap to clone).
#[derive(Clone)]
pub struct AppState(pub Arc<Shared>);

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// Every route of the service. `openapi.json` documents each of them; a test holds the two
/// together.
pub fn router(state: AppState) -> Router {
    let tls = state.tls;
    Router::new()
        .route("/api/health", get(meta::health))
        .route("/api/openapi.json", get(meta::openapi))
        .route("/api/settings", get(meta::settings))
        .route("/metrics", get(meta::metrics))
        .route(
            "/api/session",
            post(session::login)
                .get(session::current)
                .delete(session::logout),
        )
        .route("/api/session/password", post(session::change_password))
        .route("/api/users", get(users::list).post(users::create))
        .route(
            "/api/users/{id}",
            get(users::get).patch(users::update).delete(users::delete),
        )
        .route("/api/tokens", get(tokens::list).post(tokens::create))
        .route("/api/tokens/{id}", axum::routing::delete(tokens::revoke))
        .route("/api/scans", get(scans::list).post(scans::create))
        .route(
            "/api/scans/{id}",
            get(scans::get).put(scans::update).delete(scans::delete),
        )
        .route("/api/scans/{id}/run", post(scans::run_now))
        .route("/api/scans/{id}/stop", post(scans::stop))
        .route("/api/scans/{id}/runs", get(scans::runs))
        .route("/api/runs", get(runs::list))
        .route("/api/runs/{id}", get(runs::get))
        .route("/api/runs/{id}/devices", get(runs::devices))
        .route("/api/runs/{id}/log", get(runs::log))
        .route("/api/devices", get(devices::list))
        .route("/api/devices/export", get(devices::export))
        .route("/api/devices/links", get(devices::links))
        .route("/api/devices/{id}", get(devices::get))
        .route("/api/audit", get(audit::list))
        .route("/api/rdns/servers", get(rdns::list).post(rdns::create))
        .route(
            "/api/rdns/servers/{id}",
            get(rdns::get).put(rdns::update).delete(rdns::delete),
        )
        .route("/api/rdns/servers/{id}/run", post(rdns::run_now))
        .route("/api/rdns/servers/{id}/stop", post(rdns::stop))
        .route("/api/rdns/runs", get(rdns::runs))
        .route("/api/rdns/runs/{id}", get(rdns::run))
        .route("/api/rdns/test", post(rdns::test))
        .route("/api/wem", get(wem::status))
        .route("/api/wem/ranges", get(wem::ranges).put(wem::set_ranges))
        .route("/api/wem/ranges/import", post(wem::import))
        .route("/api/wem/ranges/export", get(wem::export))
        .route(
            "/api/wem/schedule",
            get(wem::schedule).put(wem::set_schedule),
        )
        .route("/api/wem/scan", post(wem::scan_now))
        .route("/api/wem/stop", post(wem::stop))
        .route("/api/wem/results.csv", get(wem::results_csv))
        .route("/api/wem/log.csv", get(wem::log_csv))
        // the web console (HTML pages outside /api)
        .merge(crate::console::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(move |req, next| {
            security_headers(req, next, tls)
        }))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint: see /api/openapi.json")
}

async fn method_not_allowed() -> ApiError {
    ApiError {
        status: axum::http::StatusCode::METHOD_NOT_ALLOWED,
        error: "method_not_allowed",
        detail: "this endpoint does not take that method: see /api/openapi.json".into(),
        field: None,
        retry_after: None,
    }
}

/// Headers on every response: no caching of API data, no sniffing, no framing, HSTS on HTTPS.
async fn security_headers(req: Request, next: Next, tls: bool) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str| {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(headers, header::CACHE_CONTROL, "no-store");
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; frame-ancestors 'none'",
    );
    set(headers, header::REFERRER_POLICY, "no-referrer");
    if tls {
        set(
            headers,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000",
        );
    }
    response
}

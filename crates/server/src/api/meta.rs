//! About the service: health, the OpenAPI document, the settings in force, Prometheus metrics;
//! and the parts of the API that arrive with later features (answering 501).

use crate::app::AppState;
use crate::auth::Viewer;
use crate::error::ApiResult;
use crate::usecase::available_plc_protocols;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use otsensor_core::Pacing;
use serde::Serialize;
use std::fmt::Write;

/// The OpenAPI 3.1 description of the API (hand-written; a test checks that every operation
/// it lists is routed).
pub const OPENAPI: &str = include_str!("../../openapi.json");

/// `GET /api/health`: no authentication; `{"status":"ok"}` once the service answers.
pub async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

/// `GET /api/openapi.json`: no authentication.
pub async fn openapi() -> Response {
    let mut response = OPENAPI.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The settings in force (from the configuration file; read-only through the API).
#[derive(Debug, Serialize)]
pub struct Settings {
    /// The sensor's time zone; every schedule is read in it.
    pub time_zone: String,
    /// The scope allow-list: the only networks scans may touch.
    pub scope: Vec<String>,
    /// Pacing defaults.
    pub pacing: Pacing,
    /// Most addresses one scan may cover.
    pub max_targets: u64,
    /// The PLC protocols this build can scan with.
    pub plc_protocols: Vec<&'static str>,
    /// The use cases this build can run.
    pub use_cases: Vec<&'static str>,
}

/// `GET /api/settings`.
pub async fn settings(State(state): State<AppState>, _: Viewer) -> Json<Settings> {
    let c = &state.config;
    Json(Settings {
        time_zone: c.time_zone_name.clone(),
        scope: c.scope.networks().iter().map(ToString::to_string).collect(),
        pacing: c.pacing,
        max_targets: c.max_targets,
        plc_protocols: available_plc_protocols()
            .iter()
            .map(|p| p.protocol().name())
            .collect(),
        use_cases: vec!["plc"],
    })
}

/// `GET /metrics`: Prometheus text format (any logged-in user or token).
pub async fn metrics(State(state): State<AppState>, _: Viewer) -> ApiResult<Response> {
    let counts = state.store.counts().await?;
    let mut out = String::new();
    let mut gauge = |name: &str, help: &str, kind: &str, samples: &[(String, u64)]| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    gauge(
        "otsensor_devices",
        "Devices in the inventory, sub-devices included.",
        "gauge",
        &[(String::new(), counts.devices)],
    );
    gauge(
        "otsensor_scans",
        "Stored scans.",
        "gauge",
        &[(String::new(), counts.scans)],
    );
    gauge(
        "otsensor_runs_running",
        "Runs under way.",
        "gauge",
        &[(String::new(), state.runner.running_count() as u64)],
    );
    let runs: Vec<(String, u64)> = counts
        .runs
        .iter()
        .map(|(s, n)| (format!("{{status=\"{s}\"}}"), *n))
        .collect();
    gauge("otsensor_runs", "Runs by status.", "gauge", &runs);
    let probes: Vec<(String, u64)> = counts
        .probes
        .iter()
        .map(|(o, n)| (format!("{{outcome=\"{o}\"}}"), *n))
        .collect();
    gauge(
        "otsensor_probes_total",
        "Probed targets of finished runs, by outcome.",
        "counter",
        &probes,
    );
    let errors = counts
        .probes
        .iter()
        .filter(|(o, _)| o == "error")
        .map(|(_, n)| n)
        .sum::<u64>()
        + counts
            .runs
            .iter()
            .filter(|(s, _)| s == "failed")
            .map(|(_, n)| n)
            .sum::<u64>();
    gauge(
        "otsensor_errors_total",
        "Probes that ended in a protocol error plus runs that failed.",
        "counter",
        &[(String::new(), errors)],
    );
    let mut response = out.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(response)
}

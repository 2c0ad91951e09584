//! Runs: status, start and end, counts of new and updated devices linked to those devices, and
//! the probe log (JSON or CSV).

use crate::api::views::{DeviceView, Page, RunView};
use crate::api::{Format, csv_error, download};
use crate::app::AppState;
use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Id, Params};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use otsensor_core::Change;
use otsensor_store::{Run, RunId, RunStatus};
use serde::Serialize;

async fn stored_run(state: &AppState, id: i64) -> ApiResult<Run> {
    state
        .store
        .run(RunId(id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no run {id}")))
}

/// `GET /api/runs?status=&page=&per_page=`: every run, newest first.
pub async fn list(
    State(state): State<AppState>,
    _: Viewer,
    params: Params,
) -> ApiResult<Json<Page<RunView>>> {
    let (offset, limit, page, per_page) = params.paging(50, 500)?;
    let status = match params.text("status") {
        None => None,
        Some(s) => Some(RunStatus::from_name(s).ok_or_else(|| {
            ApiError::invalid(
                "status",
                format!("{s:?}: expected running, completed, cancelled, failed or interrupted"),
            )
        })?),
    };
    let runs: Vec<Run> = state
        .store
        .runs()
        .await?
        .into_iter()
        .filter(|r| status.is_none_or(|s| r.status == s))
        .collect();
    let total = runs.len() as u64;
    let mut items = Vec::new();
    for run in runs
        .iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
    {
        let origin = state.store.run_origin(run.id).await?;
        items.push(RunView::new(run, origin, state.runner.progress_of(run.id)));
    }
    Ok(Json(Page {
        total,
        page,
        per_page,
        items,
    }))
}

/// `GET /api/runs/{id}`.
pub async fn get(State(state): State<AppState>, _: Viewer, Id(id): Id) -> ApiResult<Json<RunView>> {
    let run = stored_run(&state, id).await?;
    let origin = state.store.run_origin(run.id).await?;
    Ok(Json(RunView::new(
        &run,
        origin,
        state.runner.progress_of(run.id),
    )))
}

/// A device a run saw, and what the run did to it.
#[derive(Debug, Serialize)]
pub struct RunDeviceView {
    /// `new`, `enriched` or `unchanged`.
    pub change: &'static str,
    /// The device as it is now.
    pub device: DeviceView,
}

/// `GET /api/runs/{id}/devices?change=new|enriched|unchanged`.
pub async fn devices(
    State(state): State<AppState>,
    _: Viewer,
    Id(id): Id,
    params: Params,
) -> ApiResult<Json<Vec<RunDeviceView>>> {
    let run = stored_run(&state, id).await?;
    let change = match params.text("change") {
        None => None,
        Some("new") => Some(Change::New),
        Some("enriched") | Some("updated") => Some(Change::Enriched),
        Some("unchanged") => Some(Change::Unchanged),
        Some(other) => {
            return Err(ApiError::invalid(
                "change",
                format!("{other:?}: expected new, enriched or unchanged"),
            ));
        }
    };
    let devices = state.store.run_devices_with_ids(run.id, change).await?;
    Ok(Json(
        devices
            .iter()
            .map(|(d, c)| RunDeviceView {
                change: c.name(),
                device: DeviceView::from(d),
            })
            .collect(),
    ))
}

/// One line of the probe log.
#[derive(Debug, Serialize)]
pub struct LogLine {
    /// The probed address.
    pub address: String,
    /// The protocol spoken.
    pub protocol: &'static str,
    /// `identified`, `no_response`, `refused`, `error` or `cancelled`.
    pub outcome: &'static str,
    /// The error's text.
    pub error: Option<String>,
    /// When the probe started.
    pub started: Timestamp,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
}

/// `GET /api/runs/{id}/log?format=json|csv`: one line per probed target (saved when the run
/// ends; empty while it runs).
pub async fn log(
    State(state): State<AppState>,
    _: Viewer,
    Id(id): Id,
    params: Params,
) -> ApiResult<Response> {
    let format = Format::from_params(&params)?;
    let run = stored_run(&state, id).await?;
    let lines: Vec<LogLine> = state
        .store
        .probe_log(run.id)
        .await?
        .into_iter()
        .map(|e| LogLine {
            address: e.address.to_string(),
            protocol: e.protocol.name(),
            outcome: e.outcome.name(),
            error: e.error,
            started: e.started,
            duration_ms: e.duration_ms,
        })
        .collect();
    match format {
        Format::Json => Ok(Json(lines).into_response()),
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record([
                "address",
                "protocol",
                "outcome",
                "error",
                "started",
                "duration_ms",
            ])
            .map_err(csv_error)?;
            for l in &lines {
                w.write_record([
                    l.address.as_str(),
                    l.protocol,
                    l.outcome,
                    l.error.as_deref().unwrap_or(""),
                    &l.started.to_string(),
                    &l.duration_ms.to_string(),
                ])
                .map_err(csv_error)?;
            }
            let body = w.into_inner().map_err(csv_error)?;
            Ok(download(
                body,
                "text/csv; charset=utf-8",
                &format!("run-{id}-log.csv"),
            ))
        }
    }
}

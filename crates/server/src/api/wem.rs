//! Windows endpoint monitoring settings and scans: the ranges (FROM, TO, USER, PASSWORD,
//! DISABLE; passwords write-only, sealed at rest) as JSON or CSV (import all or nothing with
//! line-numbered errors; export with PASSWORD empty), the schedule, scan now / stop (one WEM
//! scan at a time), and the last scan's results and probe log as CSV.
//!
//! Everyone sees; admins change the ranges and the schedule; analysts and admins scan and stop.

use crate::api::download;
use crate::api::views::RunView;
use crate::app::AppState;
use crate::auth::{Admin, Operator, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, parse_json};
use crate::wem::range_requests;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use jiff::Timestamp;
use otsensor_core::Outcome;
use otsensor_core::wem::{
    ImportError, RANGE_HEADERS, WemLogLine, WemRange, WemResult, WemSchedule, export_ranges,
    import_ranges,
};
use otsensor_store::{RunId, RunOrigin, Trigger};
use serde::{Deserialize, Serialize};

/// A WEM range as the API shows it (never the password).
#[derive(Debug, Serialize)]
pub struct RangeView {
    /// First address.
    pub from: String,
    /// Last address.
    pub to: String,
    /// The account: `DOMAIN\user`, `user@domain` or `user`.
    pub user: String,
    /// Whether a password is stored.
    pub password_set: bool,
    /// Whether scans leave it out.
    pub disabled: bool,
}

impl From<&WemRange> for RangeView {
    fn from(r: &WemRange) -> RangeView {
        RangeView {
            from: r.from.to_string(),
            to: r.to.to_string(),
            user: r.user.clone(),
            password_set: !r.password.is_empty(),
            disabled: r.disabled,
        }
    }
}

/// A WEM range as a client sends it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeInput {
    /// First address.
    pub from: String,
    /// Last address.
    pub to: String,
    /// The account.
    pub user: String,
    /// Write-only: the password; absent or empty keeps the one stored for the same FROM-TO.
    #[serde(default)]
    pub password: Option<String>,
    /// Whether scans leave it out [default: false].
    #[serde(default)]
    pub disabled: bool,
}

/// `GET /api/wem/ranges`.
pub async fn ranges(State(state): State<AppState>, _: Viewer) -> ApiResult<Json<Vec<RangeView>>> {
    let ranges = state.store.wem_ranges().await?;
    Ok(Json(ranges.iter().map(RangeView::from).collect()))
}

/// What the audit log keeps of ranges (no password).
fn ranges_detail(ranges: &[WemRange]) -> serde_json::Value {
    serde_json::json!({
        "ranges": ranges.iter().map(|r| serde_json::json!({
            "from": r.from.to_string(), "to": r.to.to_string(),
            "user": r.user, "disabled": r.disabled,
        })).collect::<Vec<_>>(),
    })
}

async fn replace(
    state: &AppState,
    ranges: Vec<WemRange>,
    audit: otsensor_store::NewAuditEntry,
) -> ApiResult<Json<Vec<RangeView>>> {
    range_requests_or_400(state, &ranges)?;
    state.store.replace_wem_ranges(&ranges).await?;
    state.store.record_audit(&audit).await?;
    Ok(Json(ranges.iter().map(RangeView::from).collect()))
}

/// Every enabled range must fit the scope and the target bound (400 naming the range).
fn range_requests_or_400(state: &AppState, ranges: &[WemRange]) -> ApiResult<()> {
    if ranges.iter().all(|r| r.disabled) {
        return Ok(());
    }
    range_requests(ranges, &state.config)
        .map(|_| ())
        .map_err(|(field, detail)| ApiError::invalid(field, detail))
}

/// The ranges as the CSV the import reads (line N is `ranges[N-2]`).
fn to_csv(input: &[RangeInput]) -> ApiResult<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| ApiError::internal(format!("encoding ranges: {e}"));
    w.write_record(RANGE_HEADERS).map_err(fail)?;
    for r in input {
        w.write_record([
            r.from.as_str(),
            r.to.as_str(),
            r.user.as_str(),
            r.password.as_deref().unwrap_or(""),
            if r.disabled { "TRUE" } else { "FALSE" },
        ])
        .map_err(fail)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| ApiError::internal(format!("encoding ranges: {e}")))?;
    String::from_utf8(bytes).map_err(|e| ApiError::internal(format!("encoding ranges: {e}")))
}

/// `PUT /api/wem/ranges` (admin): replaces every range, all or nothing; errors name
/// `ranges[i]` (nothing is saved).
pub async fn set_ranges(
    State(state): State<AppState>,
    Admin(p): Admin,
    JsonBody(input): JsonBody<Vec<RangeInput>>,
) -> ApiResult<Json<Vec<RangeView>>> {
    let text = to_csv(&input)?;
    let stored = state.store.wem_ranges().await?;
    let ranges = import_ranges(&text, &stored).map_err(|e| match e {
        ImportError::Lines(lines) => {
            let first = lines.first().map_or(0, |l| l.line.saturating_sub(2));
            let detail: Vec<String> = lines
                .iter()
                .map(|l| format!("ranges[{}]: {}", l.line.saturating_sub(2), l.message))
                .collect();
            ApiError::invalid(format!("ranges[{first}]"), detail.join("; "))
        }
        other => ApiError::invalid("ranges", other.to_string()),
    })?;
    let audit = p.audit(
        state.clock.now(),
        "wem.ranges.update",
        Some("wem".into()),
        ranges_detail(&ranges),
    );
    replace(&state, ranges, audit).await
}

/// The body of an import: CSV as `text/csv` (or any non-JSON type), or JSON `{"csv": "..."}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportBody {
    /// The CSV text.
    pub csv: String,
}

/// `POST /api/wem/ranges/import` (admin): the CSV `FROM,TO,USER,PASSWORD,DISABLE` replaces
/// every range, all lines or none (400, field `csv`, every bad line numbered in `detail`); an
/// empty PASSWORD keeps the password stored for the same FROM-TO.
pub async fn import(
    State(state): State<AppState>,
    Admin(p): Admin,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Vec<RangeView>>> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    let text = if is_json {
        parse_json::<ImportBody>(&body)?.csv
    } else {
        String::from_utf8(body.to_vec())
            .map_err(|_| ApiError::invalid("csv", "the CSV is not UTF-8 text"))?
    };
    let stored = state.store.wem_ranges().await?;
    let ranges =
        import_ranges(&text, &stored).map_err(|e| ApiError::invalid("csv", e.to_string()))?;
    let audit = p.audit(
        state.clock.now(),
        "wem.ranges.import",
        Some("wem".into()),
        ranges_detail(&ranges),
    );
    replace(&state, ranges, audit).await
}

/// `GET /api/wem/ranges/export`: the ranges as CSV, PASSWORD empty.
pub async fn export(State(state): State<AppState>, _: Viewer) -> ApiResult<Response> {
    let ranges = state.store.wem_ranges().await?;
    Ok(download(
        export_ranges(&ranges).into_bytes(),
        "text/csv; charset=utf-8",
        "wem-ranges.csv",
    ))
}

/// The WEM schedule.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleBody {
    /// `manual`, `every Nh` (1 to 168 hours) or `HH:MM[,HH:MM...]` in the sensor's time zone.
    pub schedule: String,
}

/// The schedule and when it next runs.
#[derive(Debug, Serialize)]
pub struct ScheduleView {
    /// `manual`, `every Nh` or `HH:MM[,HH:MM...]`.
    pub schedule: String,
    /// When the WEM scan next runs by itself.
    pub next_run: Option<Timestamp>,
}

/// `GET /api/wem/schedule`.
pub async fn schedule(State(state): State<AppState>, _: Viewer) -> ApiResult<Json<ScheduleView>> {
    let s = state.store.wem_schedule().await?;
    Ok(Json(ScheduleView {
        schedule: s.to_string(),
        next_run: state.wem.next_run(),
    }))
}

/// `PUT /api/wem/schedule` (admin).
pub async fn set_schedule(
    State(state): State<AppState>,
    Admin(p): Admin,
    JsonBody(body): JsonBody<ScheduleBody>,
) -> ApiResult<Json<ScheduleView>> {
    let s = WemSchedule::parse(&body.schedule).map_err(|e| ApiError::invalid("schedule", e))?;
    if matches!(&s, WemSchedule::TimesOfDay { times } if times.is_empty()) {
        return Err(ApiError::invalid("schedule", "at least one time of day"));
    }
    state.store.set_wem_schedule(&s).await?;
    let audit = p.audit(
        state.clock.now(),
        "wem.schedule.update",
        Some("wem".into()),
        serde_json::json!({ "schedule": s.to_string() }),
    );
    state.store.record_audit(&audit).await?;
    state.wem.plan().await?;
    Ok(Json(ScheduleView {
        schedule: s.to_string(),
        next_run: state.wem.next_run(),
    }))
}

async fn run_view(state: &AppState, run: RunId) -> ApiResult<RunView> {
    let stored = state
        .store
        .run(run)
        .await?
        .ok_or_else(|| ApiError::internal(format!("run {run} vanished")))?;
    let origin = state.store.run_origin(run).await?;
    let progress = state
        .wem
        .running()
        .filter(|(r, _)| *r == run)
        .map(|(_, p)| p);
    Ok(RunView::new(&stored, origin, progress))
}

/// `POST /api/wem/scan` (analyst and up): starts a WEM scan now (202); 409 while one runs or
/// when no range is enabled.
pub async fn scan_now(
    State(state): State<AppState>,
    Operator(p): Operator,
) -> ApiResult<(StatusCode, Json<RunView>)> {
    let origin = RunOrigin {
        trigger: Trigger::Manual,
        actor: p.user.name.clone(),
    };
    let audit = p.audit(
        state.clock.now(),
        "run.start",
        None,
        serde_json::Value::Null,
    );
    let run = state.wem.start(origin, audit).await?;
    Ok((StatusCode::ACCEPTED, Json(run_view(&state, run).await?)))
}

/// `POST /api/wem/stop` (analyst and up): stops the running WEM scan and answers with it,
/// saved; 409 when none runs.
pub async fn stop(
    State(state): State<AppState>,
    Operator(p): Operator,
) -> ApiResult<Json<RunView>> {
    let audit = p.audit(state.clock.now(), "run.stop", None, serde_json::Value::Null);
    let run = state
        .wem
        .stop(audit)
        .await?
        .ok_or_else(|| ApiError::conflict("no WEM scan is running"))?;
    Ok(Json(run_view(&state, run).await?))
}

/// The state of WEM: schedule, the run under way, the last run.
#[derive(Debug, Serialize)]
pub struct WemStatus {
    /// The schedule and its next run.
    pub schedule: ScheduleView,
    /// Ranges stored, and how many are enabled.
    pub ranges: usize,
    /// Enabled ranges.
    pub enabled_ranges: usize,
    /// The run under way, if one is.
    pub running_run: Option<i64>,
    /// The last run (running or finished).
    pub last_run: Option<RunView>,
}

/// `GET /api/wem`: the schedule, the ranges' counts, the running and the last run.
pub async fn status(State(state): State<AppState>, _: Viewer) -> ApiResult<Json<WemStatus>> {
    let ranges = state.store.wem_ranges().await?;
    let last = last_run(&state).await?;
    let last_run = match last {
        Some(run) => Some(run_view(&state, run).await?),
        None => None,
    };
    Ok(Json(WemStatus {
        schedule: ScheduleView {
            schedule: state.store.wem_schedule().await?.to_string(),
            next_run: state.wem.next_run(),
        },
        ranges: ranges.len(),
        enabled_ranges: ranges.iter().filter(|r| !r.disabled).count(),
        running_run: state.wem.running().map(|(r, _)| r.0),
        last_run,
    }))
}

async fn last_run(state: &AppState) -> ApiResult<Option<RunId>> {
    let scan = state.store.wem_scan().await?;
    let page = state.store.runs_of_scan(scan, 0, 1).await?;
    Ok(page.runs.first().map(|r| r.id))
}

fn csv_of<T: Serialize>(headers: &[&str], rows: &[T]) -> ApiResult<Vec<u8>> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    w.write_record(headers).map_err(crate::api::csv_error)?;
    for row in rows {
        w.serialize(row).map_err(crate::api::csv_error)?;
    }
    w.into_inner()
        .map_err(|e| ApiError::internal(format!("writing CSV: {e}")))
}

/// `GET /api/wem/results.csv`: the last WEM scan's hosts, one row per host that answered.
pub async fn results_csv(State(state): State<AppState>, _: Viewer) -> ApiResult<Response> {
    let (_, results) = state.store.wem_results().await?;
    Ok(download(
        csv_of::<WemResult>(&WemResult::HEADERS, &results)?,
        "text/csv; charset=utf-8",
        "wem-results.csv",
    ))
}

/// `GET /api/wem/log.csv`: the last WEM scan's probe log, every address probed.
pub async fn log_csv(State(state): State<AppState>, _: Viewer) -> ApiResult<Response> {
    let mut lines = Vec::new();
    if let Some(run) = last_run(&state).await? {
        let ranges = state.store.wem_ranges().await?;
        let mut log = state.store.probe_log(run).await?;
        log.sort_by_key(|e| e.address);
        for e in log {
            let range = ranges
                .iter()
                .find(|r| r.from <= e.address && e.address <= r.to)
                .map(WemRange::target_text)
                .unwrap_or_default();
            lines.push(WemLogLine {
                ip: e.address.to_string(),
                range,
                result: if e.outcome == Outcome::Identified {
                    "success"
                } else {
                    "failure"
                }
                .into(),
                outcome: e.outcome.name().into(),
                error: e.error.clone().unwrap_or_default(),
                started: e.started.to_string(),
                duration_ms: e.duration_ms,
            });
        }
    }
    Ok(download(
        csv_of(&WemLogLine::HEADERS, &lines)?,
        "text/csv; charset=utf-8",
        "wem-log.csv",
    ))
}

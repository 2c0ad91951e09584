//! Active discovery: the list of scans, the Create scan pane (fields follow the use case), a
//! scan with its runs and the Run and Stop buttons, and a run's detail with its probe log and
//! live progress (polled by `console.js`).

use super::html::{esc, input, link, opt, select, table};
use super::{ConsoleUser, error_page, forbidden, page, when};
use crate::api::views::{RunView, ScanView};
use crate::api::{runs, scans};
use crate::app::AppState;
use crate::auth::Viewer;
use crate::error::ApiError;
use crate::extract::Id;
use crate::usecase::{PlcProtocol, UseCase};
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use otsensor_core::scan_schedule::Schedule;
use otsensor_store::{Role, RunId, ScanId};
use std::fmt::Write;

/// What a use case is called in the console, and its protocol (read from its JSON form, so
/// that the page follows the API's shape).
fn use_case_text(u: Option<&UseCase>) -> (&'static str, String) {
    let Some(value) = u.and_then(|u| serde_json::to_value(u).ok()) else {
        return ("?", String::new());
    };
    let text = |k: &str| value.get(k).map(super::html::json_text).unwrap_or_default();
    match text("kind").as_str() {
        "plc" => {
            let protocol = match u {
                Some(UseCase::Plc(p)) => protocol_name(p.protocol).to_string(),
                _ => text("protocol"),
            };
            (
                "PLC discovery and enrichment",
                format!("{protocol} (port {})", text("port")),
            )
        }
        "switch" => ("Switch discovery", text("version")),
        _ => ("?", String::new()),
    }
}

fn protocol_name(p: PlcProtocol) -> &'static str {
    match p {
        PlcProtocol::Modbus => "Modbus/TCP",
        PlcProtocol::S7 => "Siemens S7",
        PlcProtocol::Enip => "EtherNet/IP",
        PlcProtocol::Bacnet => "BACnet/IP",
    }
}

/// A schedule in words.
pub fn schedule_text(s: Option<&Schedule>) -> String {
    match s {
        None => "on demand".into(),
        Some(Schedule::Once { at }) => format!("once at {at}"),
        Some(Schedule::Every { every, unit, start }) => {
            let unit = serde_json::to_value(unit)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            format!("every {every} {unit} from {start}")
        }
        Some(Schedule::TimesOfDay { times, days }) => {
            let times: Vec<String> = times
                .iter()
                .map(|t| t.strftime("%H:%M").to_string())
                .collect();
            let days: Vec<String> = days
                .iter()
                .filter_map(|d| {
                    serde_json::to_value(d)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                })
                .collect();
            let on = if days.is_empty() {
                "every day".to_string()
            } else {
                days.join(", ")
            };
            format!("at {} {on}", times.join(", "))
        }
    }
}

/// A run's status as a badge.
fn status_badge(status: &str) -> String {
    format!(
        "<span class=\"status {0}\" data-status=\"{0}\">{0}</span>",
        esc(status)
    )
}

fn status_name(run: &RunView) -> String {
    serde_json::to_value(run.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The Run or Stop button of a scan, for analysts and admins.
fn run_button(user: &ConsoleUser, scan: &ScanView) -> String {
    if !user.may(Role::Analyst) {
        return String::new();
    }
    match &scan.running {
        Some(r) => format!(
            "<button type=\"button\" class=\"stop\" data-call=\"POST\" data-url=\"/api/scans/{}/stop\" \
             data-then=\"/runs/{}\">Stop</button>",
            scan.id, r.run
        ),
        None => format!(
            "<button type=\"button\" class=\"run\" data-call=\"POST\" data-url=\"/api/scans/{}/run\" \
             data-then=\"/runs/{{id}}\">Run scan</button>",
            scan.id
        ),
    }
}

async fn last_run(state: &AppState, scan: i64) -> Result<Option<RunView>, ApiError> {
    let page = state.store.runs_of_scan(ScanId(scan), 0, 1).await?;
    let Some(run) = page.runs.into_iter().next() else {
        return Ok(None);
    };
    let origin = state.store.run_origin(run.id).await?;
    Ok(Some(RunView::new(
        &run,
        origin,
        state.runner.progress_of(run.id),
    )))
}

/// `GET /scans`: every stored scan with its last run.
pub async fn scans_page(State(state): State<AppState>, user: ConsoleUser) -> Response {
    let list = match scans::list(State(state.clone()), Viewer(user.0.clone())).await {
        Ok(Json(l)) => l,
        Err(e) => return error_page(&user, e),
    };
    let mut rows = Vec::new();
    for scan in &list {
        let last = match last_run(&state, scan.id).await {
            Ok(l) => l,
            Err(e) => return error_page(&user, e),
        };
        let (kind, protocol) = use_case_text(scan.use_case.as_ref());
        let (last_text, status, updates) = match &last {
            Some(r) => (
                link(&format!("/runs/{}", r.id), &when(&r.started)),
                status_badge(&status_name(r)),
                format!(
                    "<a class=\"updates\" href=\"/runs/{}#devices\">{} new, {} updated</a>",
                    r.id, r.new_devices, r.updated_devices
                ),
            ),
            None => ("never".into(), String::new(), String::new()),
        };
        let status = if scan.running.is_some() {
            status_badge("running")
        } else {
            status
        };
        rows.push(vec![
            link(&format!("/scans/{}", scan.id), &scan.name),
            esc(kind),
            esc(&protocol),
            esc(&scan.targets.join(", ")),
            esc(&schedule_text(scan.schedule.as_ref())),
            last_text,
            status,
            updates,
            run_button(&user, scan),
        ]);
    }
    let mut body = String::new();
    if user.may(Role::Admin) {
        body.push_str("<p class=\"toolbar\"><a class=\"button\" id=\"create-scan\" href=\"/scans/new\">Create scan</a></p>");
    }
    body.push_str(&table(
        "data",
        &[
            "Name",
            "Use case",
            "Protocol",
            "Targets",
            "Schedule",
            "Last run",
            "Status",
            "Update device",
            "",
        ],
        &rows,
    ));
    page(&user, "Active discovery", "/scans", &body)
}

/// `GET /scans/new` (admin): the Create scan pane.
pub async fn new_scan_page(State(state): State<AppState>, user: ConsoleUser) -> Response {
    if !user.may(Role::Admin) {
        return forbidden(&user, Role::Admin);
    }
    scan_form(&state, &user, None)
}

/// `GET /scans/{id}/edit` (admin): the same pane with the scan's settings (write-only
/// credentials left blank).
pub async fn edit_scan_page(
    State(state): State<AppState>,
    user: ConsoleUser,
    id: Result<Id, ApiError>,
) -> Response {
    if !user.may(Role::Admin) {
        return forbidden(&user, Role::Admin);
    }
    let scan = async {
        let id = id?;
        let Json(scan) = scans::get(State(state.clone()), Viewer(user.0.clone()), id).await?;
        Ok::<_, ApiError>(scan)
    }
    .await;
    match scan {
        Ok(scan) => scan_form(&state, &user, Some(&scan)),
        Err(e) => error_page(&user, e),
    }
}

/// The Create (or Edit) scan pane; its fields follow the use case and the schedule kind.
fn scan_form(state: &AppState, user: &ConsoleUser, scan: Option<&ScanView>) -> Response {
    let as_json = |v: Option<serde_json::Value>| v.unwrap_or_default();
    let uc = as_json(
        scan.and_then(|s| s.use_case.as_ref())
            .and_then(|u| serde_json::to_value(u).ok()),
    );
    let sch = as_json(
        scan.and_then(|s| s.schedule.as_ref())
            .and_then(|x| serde_json::to_value(x).ok()),
    );
    let get = |v: &serde_json::Value, k: &str, default: &str| {
        v.get(k)
            .map(super::html::json_text)
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| default.to_string())
    };
    let timeout = format!("{}", state.config.pacing.timeout_ms as f64 / 1000.0);
    let protocols: Vec<(&str, &str)> = crate::usecase::available_plc_protocols()
        .into_iter()
        .map(|p| match p {
            PlcProtocol::Modbus => ("modbus", "Modbus/TCP"),
            PlcProtocol::S7 => ("s7", "Siemens S7"),
            PlcProtocol::Enip => ("enip", "EtherNet/IP"),
            PlcProtocol::Bacnet => ("bacnet", "BACnet/IP"),
        })
        .collect();
    let ports: Vec<String> = PlcProtocol::ALL
        .iter()
        .map(|p| {
            let name = serde_json::to_value(p)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            format!("{name}:{}", p.protocol().default_port())
        })
        .collect();
    let default_port = get(
        &uc,
        "port",
        &PlcProtocol::Modbus.protocol().default_port().to_string(),
    );
    let plc = format!(
        "<fieldset data-show=\"kind=plc\"><legend>PLC discovery</legend>{}{}{}{}{}</fieldset>",
        select(
            "Protocol",
            "protocol",
            "use_case.protocol",
            &protocols,
            &get(&uc, "protocol", "modbus")
        ),
        input(
            "Port",
            "port",
            "use_case.port",
            &default_port,
            &format!(
                "inputmode=\"numeric\" data-ports=\"{}\"",
                esc(&ports.join(","))
            )
        ),
        input(
            "Timeout (seconds)",
            "timeout_secs",
            "use_case.timeout_secs",
            &get(&uc, "timeout_secs", ""),
            &format!("inputmode=\"decimal\" placeholder=\"{}\"", esc(&timeout))
        ),
        input(
            "Device limit (0: none)",
            "device_limit",
            "use_case.device_limit",
            &get(&uc, "device_limit", ""),
            "inputmode=\"numeric\" placeholder=\"0\""
        ),
        select(
            "Scan depth",
            "depth",
            "use_case.depth",
            &[
                ("0", "0: the device itself"),
                ("1", "1: units or modules behind it"),
                ("2", "2: deeper")
            ],
            &get(&uc, "depth", "0")
        ),
    );
    let switch = format!(
        "<fieldset data-show=\"kind=switch\"><legend>Switch discovery</legend>{}{}\
         <div data-show=\"version=snmp-v1,snmp-v2c\">{}</div><div data-show=\"version=snmp-v3\">{}{}{}{}{}</div></fieldset>",
        select(
            "Vendor",
            "vendor",
            "use_case.vendor",
            &[
                ("auto", "auto"),
                ("cisco", "Cisco"),
                ("hirschmann", "Hirschmann"),
                ("siemens", "Siemens"),
                ("moxa", "Moxa"),
                ("hpe", "HPE"),
                ("juniper", "Juniper"),
                ("arista", "Arista"),
                ("generic", "generic")
            ],
            &get(&uc, "vendor", "auto")
        ),
        select(
            "SNMP version",
            "version",
            "use_case.version",
            &[("snmp-v2c", "v2c"), ("snmp-v1", "v1"), ("snmp-v3", "v3")],
            &get(&uc, "version", "snmp-v2c")
        ),
        input(
            "Community",
            "community",
            "use_case.community",
            "",
            "type=\"password\" autocomplete=\"off\""
        ),
        input(
            "User",
            "user",
            "use_case.user",
            &get(&uc, "user", ""),
            "autocomplete=\"off\""
        ),
        select(
            "Authentication",
            "auth_proto",
            "use_case.auth_proto",
            &[
                ("SHA", "SHA"),
                ("SHA-224", "SHA-224"),
                ("SHA-256", "SHA-256"),
                ("SHA-384", "SHA-384"),
                ("SHA-512", "SHA-512"),
                ("MD5", "MD5"),
                ("", "none")
            ],
            &get(&uc, "auth_proto", "SHA")
        ),
        input(
            "Authentication pass phrase",
            "auth_pass",
            "use_case.auth_pass",
            "",
            "type=\"password\" autocomplete=\"off\""
        ),
        select(
            "Privacy",
            "priv_proto",
            "use_case.priv_proto",
            &[
                ("AES", "AES"),
                ("AES-192", "AES-192"),
                ("AES-256", "AES-256"),
                ("AES-192-C", "AES-192-C"),
                ("AES-256-C", "AES-256-C"),
                ("DES", "DES"),
                ("", "none")
            ],
            &get(&uc, "priv_proto", "AES")
        ),
        input(
            "Privacy pass phrase",
            "priv_pass",
            "use_case.priv_pass",
            "",
            "type=\"password\" autocomplete=\"off\""
        ),
    );
    let schedule = format!(
        "<fieldset><legend>Schedule</legend>{}\
         <div data-show=\"schedule=once\">{}</div>\
         <div data-show=\"schedule=every\">{}{}{}</div>\
         <div data-show=\"schedule=times_of_day\">{}</div></fieldset>",
        select(
            "Runs",
            "schedule",
            "schedule",
            &[
                ("", "on demand only"),
                ("once", "one time"),
                ("every", "periodic: every N"),
                ("times_of_day", "periodic: at times of day")
            ],
            &get(&sch, "kind", "")
        ),
        input(
            "At (date and time)",
            "at",
            "schedule.at",
            &get(&sch, "at", ""),
            "type=\"datetime-local\""
        ),
        input(
            "Every",
            "every",
            "schedule.every",
            &get(&sch, "every", ""),
            "inputmode=\"numeric\""
        ),
        select(
            "Unit",
            "unit",
            "schedule.unit",
            &[("minutes", "minutes"), ("hours", "hours"), ("days", "days")],
            &get(&sch, "unit", "hours")
        ),
        input(
            "Starting",
            "start",
            "schedule.start",
            &get(&sch, "start", ""),
            "type=\"datetime-local\""
        ),
        input(
            "Times (24-hour, comma separated)",
            "times",
            "schedule.times",
            &get(&sch, "times", ""),
            "placeholder=\"08:00, 20:30\""
        ),
    );
    let targets = esc(&scan.map(|s| s.targets.join("\n")).unwrap_or_default());
    let enabled = if scan.is_none_or(|s| s.enabled) {
        " checked"
    } else {
        ""
    };
    let (api, method, then, title) = match scan {
        Some(s) => (
            format!("/api/scans/{}", s.id),
            "PUT",
            format!("/scans/{}", s.id),
            "Edit scan",
        ),
        None => (
            "/api/scans".to_string(),
            "POST",
            "/scans/{id}".to_string(),
            "Create scan",
        ),
    };
    let body = format!(
        "<form id=\"scan-form\" class=\"card pane\" data-api=\"{api}\" data-method=\"{method}\" data-build=\"scan\" data-then=\"{then}\">\
         {}{}{plc}{switch}\
         <label class=\"field\"><span>Targets (addresses, CIDR blocks or ranges A-B; one per line)</span>\
         <textarea name=\"targets\" rows=\"4\">{targets}</textarea><span class=\"err\" data-err=\"targets\"></span></label>\
         {schedule}<label class=\"field check\"><input type=\"checkbox\" name=\"enabled\"{enabled}><span>enabled (the scheduler starts it)</span></label>\
         <p class=\"err form-err\" data-err=\"form\"></p>\
         <button type=\"submit\" id=\"save-scan\">Save</button> <a href=\"/scans\">Cancel</a></form>",
        input(
            "Name",
            "name",
            "name",
            &scan.map(|s| s.name.clone()).unwrap_or_default(),
            "required maxlength=\"100\""
        ),
        select(
            "Use case",
            "kind",
            "use_case.kind",
            &[
                ("plc", "PLC discovery and enrichment"),
                ("switch", "Switch discovery")
            ],
            &get(&uc, "kind", "plc")
        ),
    );
    page(user, title, "/scans", &body)
}

/// `GET /scans/{id}`: a scan's settings and its runs.
pub async fn scan_page(
    State(state): State<AppState>,
    user: ConsoleUser,
    id: Result<Id, ApiError>,
) -> Response {
    let result = async {
        let id = id?;
        let Json(scan) = scans::get(State(state.clone()), Viewer(user.0.clone()), id).await?;
        let runs = state.store.runs_of_scan(ScanId(scan.id), 0, 50).await?;
        Ok::<_, ApiError>((scan, runs))
    }
    .await;
    let (scan, runs) = match result {
        Ok(r) => r,
        Err(e) => return error_page(&user, e),
    };
    let (kind, protocol) = use_case_text(scan.use_case.as_ref());
    let mut body = format!(
        "<dl class=\"identity\"><dt>Use case</dt><dd>{}</dd><dt>Protocol</dt><dd>{}</dd><dt>Targets</dt><dd>{}</dd>\
         <dt>Schedule</dt><dd>{}</dd><dt>Next run</dt><dd>{}</dd><dt>Enabled</dt><dd>{}</dd><dt>Created by</dt><dd>{}</dd></dl>",
        esc(kind),
        esc(&protocol),
        esc(&scan.targets.join(", ")),
        esc(&schedule_text(scan.schedule.as_ref())),
        esc(&scan
            .next_run
            .as_ref()
            .map(when)
            .unwrap_or_else(|| "-".into())),
        if scan.enabled { "yes" } else { "no" },
        esc(&scan.created_by),
    );
    let _ = write!(body, "<p class=\"toolbar\">{}", run_button(&user, &scan));
    if user.may(Role::Admin) && scan.running.is_none() {
        let _ = write!(
            body,
            " <a class=\"button\" id=\"edit-scan\" href=\"/scans/{}/edit\">Edit</a> <button type=\"button\" class=\"danger\" data-call=\"DELETE\" data-url=\"/api/scans/{}\" \
             data-confirm=\"Delete this scan? Its runs are kept.\" data-then=\"/scans\">Delete</button>",
            scan.id, scan.id
        );
    }
    body.push_str("</p><h2>Runs</h2>");
    let rows: Vec<Vec<String>> = runs
        .runs
        .iter()
        .map(|r| {
            let v = RunView::new(r, None, None);
            vec![
                link(&format!("/runs/{}", r.id.0), &when(&r.started)),
                status_badge(&status_name(&v)),
                esc(&r.ended.as_ref().map(when).unwrap_or_default()),
                format!("{} / {}", r.summary.identified, r.summary.probed),
                format!(
                    "<a href=\"/runs/{}#devices\">{} new, {} updated</a>",
                    r.id.0, r.summary.new_devices, r.summary.updated_devices
                ),
            ]
        })
        .collect();
    body.push_str(&table(
        "data",
        &[
            "Started",
            "Status",
            "Ended",
            "Identified / probed",
            "Update device",
        ],
        &rows,
    ));
    page(&user, &scan.name, "/scans", &body)
}

/// `GET /runs/{id}`: a run with its live progress, its devices and its probe log.
pub async fn run_page(
    State(state): State<AppState>,
    user: ConsoleUser,
    id: Result<Id, ApiError>,
) -> Response {
    let result = async {
        let id = id?;
        let Json(run) = runs::get(State(state.clone()), Viewer(user.0.clone()), id).await?;
        let devices = state
            .store
            .run_devices_with_ids(RunId(run.id), None)
            .await?;
        let log = state.store.probe_log(RunId(run.id)).await?;
        let scan = state.store.definition(ScanId(run.scan)).await?;
        Ok::<_, ApiError>((run, devices, log, scan))
    }
    .await;
    let (run, devices, log, scan) = match result {
        Ok(r) => r,
        Err(e) => return error_page(&user, e),
    };
    let status = status_name(&run);
    let scan_link = match &scan {
        Some(d) => link(&format!("/scans/{}", run.scan), &d.scan.name),
        None => format!("scan {}", run.scan),
    };
    let mut body = format!(
        "<dl class=\"identity\" id=\"run\" data-run=\"{}\" data-state=\"{}\"><dt>Scan</dt><dd>{scan_link}</dd>\
         <dt>Status</dt><dd id=\"run-status\">{}</dd><dt>Started</dt><dd>{}</dd><dt>Ended</dt><dd>{}</dd>\
         <dt>Started by</dt><dd>{}</dd><dt>Targets</dt><dd>{}</dd><dt>Probed</dt><dd>{}</dd><dt>Identified</dt><dd>{}</dd>\
         <dt>Update device</dt><dd id=\"run-updates\"><a href=\"#devices\">{} new, {} updated</a></dd></dl>",
        run.id,
        esc(&status),
        status_badge(&status),
        esc(&when(&run.started)),
        esc(&run.ended.as_ref().map(when).unwrap_or_default()),
        opt(run.started_by.as_deref()),
        run.targets_total,
        run.probed,
        run.identified,
        run.new_devices,
        run.updated_devices,
    );
    if let Some(e) = &run.error {
        let _ = write!(body, "<p class=\"error\">{}</p>", esc(e));
    }
    if status == "running" {
        let (done, total) = run
            .progress
            .as_ref()
            .map(|p| (p.done, p.total))
            .unwrap_or((0, run.targets_total));
        let _ = write!(
            body,
            "<p class=\"progress\"><progress id=\"run-progress\" max=\"{}\" value=\"{done}\"></progress> \
             <span id=\"run-progress-text\">{done} of {total} probed</span></p>",
            total.max(1)
        );
        if user.may(Role::Analyst) {
            let _ = write!(
                body,
                "<p><button type=\"button\" class=\"stop\" data-call=\"POST\" data-url=\"/api/scans/{}/stop\" data-then=\"/runs/{}\">Stop</button></p>",
                run.scan, run.id
            );
        }
    }
    body.push_str("<h2 id=\"devices\">Devices</h2>");
    let rows: Vec<Vec<String>> = devices
        .iter()
        .map(|(d, change)| {
            let a = &d.device.attributes;
            vec![
                esc(change.name()),
                link(&format!("/devices/{}", d.id), &d.device.key.to_string()),
                opt(a.best_vendor()),
                opt(a.model.as_deref().or(a.product_name.as_deref())),
                opt(a.product_code.as_deref()),
                opt(a.firmware.as_deref()),
            ]
        })
        .collect();
    body.push_str(&table(
        "data",
        &[
            "Change",
            "Device",
            "Vendor",
            "Model",
            "Product code",
            "Firmware",
        ],
        &rows,
    ));
    let _ = write!(
        body,
        "<h2>Probe log</h2><p class=\"toolbar\"><a class=\"button\" href=\"/api/runs/{}/log?format=csv\" download>Export log (CSV)</a></p>",
        run.id
    );
    let rows: Vec<Vec<String>> = log
        .iter()
        .map(|e| {
            vec![
                esc(&e.address.to_string()),
                esc(e.protocol.name()),
                esc(e.outcome.name()),
                opt(e.error.as_deref()),
                esc(&when(&e.started)),
                format!("{} ms", e.duration_ms),
            ]
        })
        .collect();
    body.push_str(&table(
        "data log",
        &[
            "Address", "Protocol", "Outcome", "Error", "Started", "Duration",
        ],
        &rows,
    ));
    page(&user, &format!("Run {}", run.id), "/scans", &body)
}

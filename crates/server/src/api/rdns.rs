//! Reverse DNS settings and runs: DNS servers (everyone sees them, admins create, change and
//! delete them), the test lookup and run now / stop (analysts and up), and the lookup runs with
//! their results.
//!
//! A server's body is core's `DnsServerInput`: `address` (`IP` or `IP:PORT`), `port`, `labels`,
//! `subnets`, `schedule` (`every N hours` or `HH:MM[, HH:MM...]`), `enabled`, `rate`. Every
//! wrong field is reported (`detail`), the first one in `field`; nothing is saved on error.

use crate::api::views::RunView;
use crate::app::AppState;
use crate::auth::{Admin, Operator, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Id, JsonBody, Params};
use crate::rdns::resolver;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::Timestamp;
use otsensor_core::rdns::host_name;
use otsensor_core::{DeviceKey, DnsServerInput, DnsServerSettings, Outcome};
use otsensor_dns::LookupStatus;
use otsensor_store::{DnsServer, DnsServerId, RdnsRun, RdnsSummary, RunId, RunOrigin, Trigger};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// A configured DNS server.
#[derive(Debug, Serialize)]
pub struct DnsServerView {
    /// Its id.
    pub id: i64,
    /// The server's IP address.
    pub address: String,
    /// Its port.
    pub port: u16,
    /// Labels of a name shown as the host name.
    pub labels: u8,
    /// The subnets it resolves (CIDR).
    pub subnets: Vec<String>,
    /// `every N hours` or `HH:MM[, HH:MM...]`, in the sensor's time zone.
    pub schedule: String,
    /// Whether scheduled runs happen.
    pub enabled: bool,
    /// Queries per second to it (0: no limit).
    pub rate: u32,
    /// When it was created.
    pub created: Timestamp,
    /// When it last changed.
    pub updated: Timestamp,
    /// When it next runs by itself.
    pub next_run: Option<Timestamp>,
    /// The run under way, if one is.
    pub running_run: Option<i64>,
    /// The scan its runs belong to (`/api/runs?...` show them too).
    pub scan: i64,
}

fn server_view(state: &AppState, s: &DnsServer) -> DnsServerView {
    DnsServerView {
        id: s.id.0,
        address: s.settings.address.to_string(),
        port: s.settings.port,
        labels: s.settings.labels,
        subnets: s.settings.subnets.iter().map(ToString::to_string).collect(),
        schedule: s.settings.schedule.to_string(),
        enabled: s.settings.enabled,
        rate: s.settings.rate,
        created: s.created,
        updated: s.updated,
        next_run: state.rdns.next_run(s.id),
        running_run: state.rdns.running(s.id).map(|r| r.0),
        scan: s.scan.0,
    }
}

async fn server(state: &AppState, id: i64) -> ApiResult<DnsServer> {
    state
        .store
        .dns_server(DnsServerId(id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no DNS server {id}")))
}

/// Core's validation, then the scope: 400 naming the first wrong field, every one in `detail`.
fn validate(state: &AppState, input: &DnsServerInput) -> ApiResult<DnsServerSettings> {
    let settings = DnsServerSettings::from_input(input).map_err(|e| {
        let field = e
            .errors
            .first()
            .map(|f| f.field.clone())
            .unwrap_or_else(|| "body".into());
        ApiError::invalid(field, e.to_string())
    })?;
    resolver(&settings, &state.config).map_err(|e| ApiError::invalid("address", e))?;
    Ok(settings)
}

/// `GET /api/rdns/servers`.
pub async fn list(State(state): State<AppState>, _: Viewer) -> ApiResult<Json<Vec<DnsServerView>>> {
    let servers = state.store.dns_servers().await?;
    Ok(Json(
        servers.iter().map(|s| server_view(&state, s)).collect(),
    ))
}

/// `GET /api/rdns/servers/{id}`.
pub async fn get(
    State(state): State<AppState>,
    _: Viewer,
    Id(id): Id,
) -> ApiResult<Json<DnsServerView>> {
    let s = server(&state, id).await?;
    Ok(Json(server_view(&state, &s)))
}

/// `POST /api/rdns/servers` (admin).
pub async fn create(
    State(state): State<AppState>,
    Admin(p): Admin,
    JsonBody(input): JsonBody<DnsServerInput>,
) -> ApiResult<(StatusCode, Json<DnsServerView>)> {
    let settings = validate(&state, &input)?;
    let now = state.clock.now();
    let id = state.store.create_dns_server(&settings, now).await?;
    let audit = p.audit(
        now,
        "rdns_server.create",
        Some(format!("dns_server:{id}")),
        serde_json::json!({ "settings": settings }),
    );
    state.store.record_audit(&audit).await?;
    let s = server(&state, id.0).await?;
    state.rdns.plan(&s).await?;
    Ok((StatusCode::CREATED, Json(server_view(&state, &s))))
}

/// `PUT /api/rdns/servers/{id}` (admin): replaces its settings.
pub async fn update(
    State(state): State<AppState>,
    Admin(p): Admin,
    Id(id): Id,
    JsonBody(input): JsonBody<DnsServerInput>,
) -> ApiResult<Json<DnsServerView>> {
    server(&state, id).await?;
    let settings = validate(&state, &input)?;
    let now = state.clock.now();
    state
        .store
        .update_dns_server(DnsServerId(id), &settings, now)
        .await?;
    let audit = p.audit(
        now,
        "rdns_server.update",
        Some(format!("dns_server:{id}")),
        serde_json::json!({ "settings": settings }),
    );
    state.store.record_audit(&audit).await?;
    let s = server(&state, id).await?;
    state.rdns.plan(&s).await?;
    Ok(Json(server_view(&state, &s)))
}

/// `DELETE /api/rdns/servers/{id}` (admin): refused (409) while it runs; its runs are kept.
pub async fn delete(
    State(state): State<AppState>,
    Admin(p): Admin,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    let s = server(&state, id).await?;
    if let Some(run) = state.rdns.running(s.id) {
        return Err(ApiError::conflict(format!(
            "DNS server {id} is running (run {run}): stop it first"
        )));
    }
    state.store.delete_dns_server(s.id).await?;
    state.rdns.forget(s.id);
    let audit = p.audit(
        state.clock.now(),
        "rdns_server.delete",
        Some(format!("dns_server:{id}")),
        serde_json::json!({ "server": s.settings.server().to_string() }),
    );
    state.store.record_audit(&audit).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A lookup run with its counts.
#[derive(Debug, Serialize)]
pub struct RdnsRunView {
    /// The run (status, times, who started it, links to its devices and probe log).
    pub run: RunView,
    /// The configured server, if the run was one of its runs and it still exists.
    pub dns_server: Option<i64>,
    /// The server asked, `ADDR:PORT` (null while running).
    pub server: Option<String>,
    /// The counts (null while running).
    pub summary: Option<RdnsSummary>,
}

/// One address of a finished lookup run.
#[derive(Debug, Serialize)]
pub struct LookupResultView {
    /// The address.
    pub ip: String,
    /// `identified` (a name), `no_response`, `refused`, `error`, or `not_found` (no name).
    pub outcome: Outcome,
    /// The host name the inventory's device now has (found names only).
    pub name: Option<String>,
    /// The FQDN the inventory's device now has (found names only).
    pub fqdn: Option<String>,
    /// What went wrong, if anything.
    pub detail: Option<String>,
    /// How long the lookup took.
    pub duration_ms: u64,
}

/// A lookup run and its per-address results.
#[derive(Debug, Serialize)]
pub struct RdnsRunDetail {
    /// The run and its counts.
    #[serde(flatten)]
    pub run: RdnsRunView,
    /// One entry per address looked up, in address order.
    pub results: Vec<LookupResultView>,
}

async fn run_view(state: &AppState, run: RunId, rdns: Option<&RdnsRun>) -> ApiResult<RdnsRunView> {
    let stored = state
        .store
        .run(run)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no run {run}")))?;
    let origin = state.store.run_origin(run).await?;
    Ok(RdnsRunView {
        run: RunView::new(&stored, origin, None),
        dns_server: rdns.and_then(|r| r.server_id.map(|s| s.0)),
        server: rdns.map(|r| r.server.clone()),
        summary: rdns.map(|r| r.summary),
    })
}

/// `POST /api/rdns/servers/{id}/run` (analyst and up): starts a lookup run now (202); 409
/// while one runs.
pub async fn run_now(
    State(state): State<AppState>,
    Operator(p): Operator,
    Id(id): Id,
) -> ApiResult<(StatusCode, Json<RdnsRunView>)> {
    let s = server(&state, id).await?;
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
    let run = state.rdns.start(&s, origin, audit).await?;
    let mut view = run_view(&state, run, None).await?;
    view.dns_server = Some(id);
    Ok((StatusCode::ACCEPTED, Json(view)))
}

/// `POST /api/rdns/servers/{id}/stop` (analyst and up): stops the running lookup run and
/// answers with it, saved; 409 when none runs.
pub async fn stop(
    State(state): State<AppState>,
    Operator(p): Operator,
    Id(id): Id,
) -> ApiResult<Json<RdnsRunView>> {
    let s = server(&state, id).await?;
    let audit = p.audit(state.clock.now(), "run.stop", None, serde_json::Value::Null);
    let run = state
        .rdns
        .stop(s.id, audit)
        .await?
        .ok_or_else(|| ApiError::conflict(format!("DNS server {id} is not running")))?;
    let rdns = state.store.rdns_run(run).await?;
    Ok(Json(run_view(&state, run, rdns.as_ref()).await?))
}

/// `GET /api/rdns/runs?server=ID`: finished lookup runs, newest first.
pub async fn runs(
    State(state): State<AppState>,
    _: Viewer,
    params: Params,
) -> ApiResult<Json<Vec<RdnsRunView>>> {
    let server = match params.text("server") {
        None => None,
        Some(s) => Some(DnsServerId(s.parse().map_err(|_| {
            ApiError::invalid("server", format!("{s:?}: expected a DNS server id"))
        })?)),
    };
    let mut views = Vec::new();
    for r in state.store.rdns_runs(server).await? {
        views.push(run_view(&state, r.run, Some(&r)).await?);
    }
    Ok(Json(views))
}

/// `GET /api/rdns/runs/{id}`: a lookup run with the result of every address.
pub async fn run(
    State(state): State<AppState>,
    _: Viewer,
    Id(id): Id,
) -> ApiResult<Json<RdnsRunDetail>> {
    let run = RunId(id);
    let rdns = state.store.rdns_run(run).await?;
    if rdns.is_none() && !state.rdns.is_running(run) {
        return Err(ApiError::not_found(format!("no lookup run {id}")));
    }
    let view = run_view(&state, run, rdns.as_ref()).await?;
    let log = state.store.probe_log(run).await?;
    let keys: Vec<DeviceKey> = log
        .iter()
        .filter(|e| e.outcome == Outcome::Identified)
        .map(|e| DeviceKey::Ip(e.address))
        .collect();
    let known = state.store.devices_by_keys(&keys).await?;
    let results = log
        .into_iter()
        .map(|e| {
            let device = known.get(&DeviceKey::Ip(e.address));
            let found = e.outcome == Outcome::Identified;
            LookupResultView {
                ip: e.address.to_string(),
                outcome: e.outcome,
                name: device
                    .filter(|_| found)
                    .and_then(|d| d.attributes.name.clone()),
                fqdn: device
                    .filter(|_| found)
                    .and_then(|d| d.attributes.fqdn.clone()),
                detail: e.error,
                duration_ms: e.duration_ms,
            }
        })
        .collect();
    Ok(Json(RdnsRunDetail { run: view, results }))
}

/// The body of `POST /api/rdns/test`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestInput {
    /// The address to look up.
    pub address: String,
    /// A configured server to ask...
    pub server_id: Option<i64>,
    /// ...or a server `IP` / `IP:PORT` (with `port`).
    pub server: Option<String>,
    /// The port of `server` (default 53).
    pub port: Option<u16>,
    /// Labels of the name to show (default: the configured server's, or 1).
    pub labels: Option<u8>,
}

/// What a test lookup found.
#[derive(Debug, Serialize)]
pub struct TestResult {
    /// The address looked up.
    pub ip: String,
    /// The server asked, `ADDR:PORT`.
    pub server: String,
    /// `found`, `nxdomain`, `nodata`, `timeout`, `servfail`, `refused`, `unreachable`, `error`.
    pub status: &'static str,
    /// The host name (the first `labels` labels of the FQDN).
    pub name: Option<String>,
    /// The FQDN.
    pub fqdn: Option<String>,
    /// Every name found.
    pub names: Vec<String>,
    /// The CNAMEs followed.
    pub aliases: Vec<String>,
    /// How long it took.
    pub elapsed_ms: u64,
    /// What went wrong, if it did not find a name.
    pub detail: Option<String>,
}

/// `POST /api/rdns/test` (analyst and up): looks one address up on a configured server or on
/// a server given in the body; saves nothing.
pub async fn test(
    State(state): State<AppState>,
    Operator(p): Operator,
    JsonBody(input): JsonBody<TestInput>,
) -> ApiResult<Json<TestResult>> {
    let address: IpAddr = input.address.trim().parse().map_err(|_| {
        ApiError::invalid(
            "address",
            format!("{:?} is not an IP address (IPv4 or IPv6)", input.address),
        )
    })?;
    let settings = match (input.server_id, &input.server) {
        (Some(id), None) => {
            let mut settings = server(&state, id).await?.settings;
            if let Some(labels) = input.labels {
                settings.labels = labels;
            }
            settings
        }
        (None, Some(text)) => {
            let form = DnsServerInput {
                address: text.clone(),
                port: input.port.map(|p| i64::from(p).into()),
                labels: input.labels.map(|l| i64::from(l).into()),
                subnets: vec![address.to_string()],
                ..DnsServerInput::default()
            };
            DnsServerSettings::from_input(&form).map_err(|e| {
                let field = match e.errors.first().map(|f| f.field.as_str()) {
                    Some("address") => "server",
                    Some(other) => other,
                    None => "body",
                };
                ApiError::invalid(field, e.to_string())
            })?
        }
        _ => {
            return Err(ApiError::invalid(
                "server",
                "give either server_id or server",
            ));
        }
    };
    let resolver =
        resolver(&settings, &state.config).map_err(|e| ApiError::invalid("server", e))?;
    let audit = p.audit(
        state.clock.now(),
        "rdns.test",
        None,
        serde_json::json!({ "server": settings.server().to_string(), "address": address.to_string() }),
    );
    state.store.record_audit(&audit).await?;
    let lookup = resolver
        .lookup(address)
        .await
        .map_err(|e| ApiError::conflict(e.to_string()))?;
    let found = lookup.status == LookupStatus::Found;
    Ok(Json(TestResult {
        ip: address.to_string(),
        server: settings.server().to_string(),
        status: lookup.status.name(),
        name: lookup.fqdn().map(|f| host_name(f, settings.labels)),
        fqdn: lookup.fqdn().map(str::to_string),
        names: lookup.names.clone(),
        aliases: lookup.aliases.clone(),
        elapsed_ms: lookup.elapsed.as_millis() as u64,
        detail: (!found).then(|| lookup.describe()),
    }))
}

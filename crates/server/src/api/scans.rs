//! Stored scans: everyone sees them; admins create, change and delete them; analysts and admins
//! run and stop them.

use crate::api::views::{Page, RunView, ScanView};
use crate::app::AppState;
use crate::auth::{Admin, Operator, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Id, JsonBody, Params};
use crate::model::{ScanInput, StoredSpec, Validated, stored_spec};
use crate::runner::switch_credentials;
use crate::usecase::UseCase;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use otsensor_store::{RunId, RunOrigin, ScanDefinition, ScanId, StoreError, Trigger};

fn view(state: &AppState, def: &ScanDefinition) -> ScanView {
    ScanView::new(
        def,
        state.scheduler.next_run(def.scan.id),
        state.runner.running(def.scan.id),
    )
}

async fn definition(state: &AppState, id: i64) -> ApiResult<ScanDefinition> {
    state
        .store
        .definition(ScanId(id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no scan {id}")))
}

/// A name already taken is a 409 naming the field `name`.
fn name_conflict(e: StoreError) -> ApiError {
    match &e {
        StoreError::Rejected { detail, .. } if detail.contains("name") => {
            ApiError::conflict_field("name", detail.clone())
        }
        _ => e.into(),
    }
}

/// `GET /api/scans`.
pub async fn list(State(state): State<AppState>, _: Viewer) -> ApiResult<Json<Vec<ScanView>>> {
    let defs = state.store.definitions().await?;
    Ok(Json(defs.iter().map(|d| view(&state, d)).collect()))
}

/// `GET /api/scans/{id}`.
pub async fn get(
    State(state): State<AppState>,
    _: Viewer,
    Id(id): Id,
) -> ApiResult<Json<ScanView>> {
    let def = definition(&state, id).await?;
    Ok(Json(view(&state, &def)))
}

/// `POST /api/scans` (admin): validated whole before anything is stored.
pub async fn create(
    State(state): State<AppState>,
    Admin(p): Admin,
    JsonBody(input): JsonBody<ScanInput>,
) -> ApiResult<(StatusCode, Json<ScanView>)> {
    let now = state.clock.now();
    let checked = input.validate(&state.config, now, None)?;
    let settings = &checked.settings;
    let audit = p.audit(now, "scan.create", None, settings_detail(settings));
    seal_credentials(&state, &checked).await?;
    let created = state
        .store
        .create_definition(settings, &p.user.name, now, &audit)
        .await;
    let id = match created {
        Ok(id) => id,
        Err(e) => {
            forget_credentials(&state, &checked).await;
            return Err(name_conflict(e));
        }
    };
    let def = definition(&state, id.0).await?;
    state.scheduler.plan(&def);
    Ok((StatusCode::CREATED, Json(view(&state, &def))))
}

/// Seals a switch scan's credentials under their fresh name, before the scan refers to them.
async fn seal_credentials(state: &AppState, checked: &Validated) -> ApiResult<()> {
    if let Some((name, credentials)) = &checked.credentials {
        state.store.save_snmp_credentials(name, credentials).await?;
    }
    Ok(())
}

/// Deletes credentials sealed for a scan that was then not stored (logged on failure).
async fn forget_credentials(state: &AppState, checked: &Validated) {
    if let Some((name, _)) = &checked.credentials {
        forget_named(state, name).await;
    }
}

/// Deletes the credentials a definition referred to before it changed or went away.
async fn forget_old_credentials(state: &AppState, def: &ScanDefinition) {
    if let Ok(StoredSpec {
        use_case: UseCase::Switch(sw),
        ..
    }) = stored_spec(def)
    {
        forget_named(state, &sw.credentials).await;
    }
}

async fn forget_named(state: &AppState, name: &str) {
    if let Err(e) = state.store.delete_snmp_credentials(name).await {
        tracing::warn!("deleting SNMP credentials {name:?}: {e}");
    }
}

/// What the audit log keeps of a scan's settings (no secrets: the switch credentials are
/// write-only and left out of the specification's serialization).
fn settings_detail(s: &otsensor_store::DefinitionSettings) -> serde_json::Value {
    serde_json::json!({
        "name": s.name,
        "kind": s.kind,
        "protocol": s.protocol,
        "targets": s.targets,
        "spec": s.spec,
        "enabled": s.enabled,
        "schedule": s.schedule,
        "maintenance_window": s.window,
    })
}

/// `PUT /api/scans/{id}` (admin): replaces the settings; a running run goes on as it started.
pub async fn update(
    State(state): State<AppState>,
    Admin(p): Admin,
    Id(id): Id,
    JsonBody(input): JsonBody<ScanInput>,
) -> ApiResult<Json<ScanView>> {
    let old = definition(&state, id).await?;
    let now = state.clock.now();
    let previous = switch_credentials(&state.store, &old).await?;
    let checked = input.validate(&state.config, now, previous.as_ref())?;
    let settings = &checked.settings;
    let audit = p.audit(
        now,
        "scan.update",
        Some(format!("scan:{id}")),
        settings_detail(settings),
    );
    seal_credentials(&state, &checked).await?;
    let updated = state
        .store
        .update_definition(ScanId(id), settings, now, &audit)
        .await;
    match updated {
        Ok(true) => forget_old_credentials(&state, &old).await,
        Ok(false) => {
            forget_credentials(&state, &checked).await;
            return Err(ApiError::not_found(format!("no scan {id}")));
        }
        Err(e) => {
            forget_credentials(&state, &checked).await;
            return Err(name_conflict(e));
        }
    }
    let def = definition(&state, id).await?;
    state.scheduler.plan(&def);
    Ok(Json(view(&state, &def)))
}

/// `DELETE /api/scans/{id}` (admin): refused (409) while it runs; its runs are kept.
pub async fn delete(
    State(state): State<AppState>,
    Admin(p): Admin,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    let def = definition(&state, id).await?;
    if let Some((run, _)) = state.runner.running(def.scan.id) {
        return Err(ApiError::conflict(format!(
            "scan {id} is running (run {run}): stop it first"
        )));
    }
    let now = state.clock.now();
    let audit = p.audit(
        now,
        "scan.delete",
        Some(format!("scan:{id}")),
        serde_json::json!({ "name": def.scan.name }),
    );
    if !state
        .store
        .delete_definition(def.scan.id, now, &audit)
        .await?
    {
        return Err(ApiError::not_found(format!("no scan {id}")));
    }
    state.scheduler.forget(def.scan.id);
    forget_old_credentials(&state, &def).await;
    Ok(StatusCode::NO_CONTENT)
}

async fn run_view(state: &AppState, run: RunId) -> ApiResult<RunView> {
    let stored = state
        .store
        .run(run)
        .await?
        .ok_or_else(|| ApiError::internal(format!("run {run} vanished")))?;
    let origin = state.store.run_origin(run).await?;
    Ok(RunView::new(&stored, origin, state.runner.progress_of(run)))
}

/// `POST /api/scans/{id}/run` (analyst and up): starts a run now. 409 while one runs or
/// outside the maintenance window.
pub async fn run_now(
    State(state): State<AppState>,
    Operator(p): Operator,
    Id(id): Id,
) -> ApiResult<(StatusCode, Json<RunView>)> {
    let def = definition(&state, id).await?;
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
    let run = state.runner.start(&def, origin, audit).await?;
    Ok((StatusCode::ACCEPTED, Json(run_view(&state, run).await?)))
}

/// `POST /api/scans/{id}/stop` (analyst and up): stops the running run within a second and
/// answers with it, saved (cancelled). 409 when the scan is not running.
pub async fn stop(
    State(state): State<AppState>,
    Operator(p): Operator,
    Id(id): Id,
) -> ApiResult<Json<RunView>> {
    let def = definition(&state, id).await?;
    let audit = p.audit(state.clock.now(), "run.stop", None, serde_json::Value::Null);
    let run = state
        .runner
        .stop(def.scan.id, audit)
        .await?
        .ok_or_else(|| ApiError::conflict(format!("scan {id} is not running")))?;
    Ok(Json(run_view(&state, run).await?))
}

/// `GET /api/scans/{id}/runs?page=&per_page=`: newest first.
pub async fn runs(
    State(state): State<AppState>,
    _: Viewer,
    Id(id): Id,
    params: Params,
) -> ApiResult<Json<Page<RunView>>> {
    let def = definition(&state, id).await?;
    let (offset, limit, page, per_page) = params.paging(50, 500)?;
    let result = state.store.runs_of_scan(def.scan.id, offset, limit).await?;
    let mut items = Vec::with_capacity(result.runs.len());
    for run in &result.runs {
        let origin = state.store.run_origin(run.id).await?;
        items.push(RunView::new(run, origin, state.runner.progress_of(run.id)));
    }
    Ok(Json(Page {
        total: result.total,
        page,
        per_page,
        items,
    }))
}

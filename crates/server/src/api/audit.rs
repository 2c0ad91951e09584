//! The audit log (analysts and admins): who did what, when.

use crate::api::views::Page;
use crate::app::AppState;
use crate::auth::Operator;
use crate::error::ApiResult;
use crate::extract::Params;
use axum::Json;
use axum::extract::State;
use otsensor_store::{AuditEntry, AuditQuery};

/// `GET /api/audit?action=scan.&actor=alice&page=1&per_page=100`: newest first.
pub async fn list(
    State(state): State<AppState>,
    _: Operator,
    params: Params,
) -> ApiResult<Json<Page<AuditEntry>>> {
    let (offset, limit, page, per_page) = params.paging(100, 1000)?;
    let result = state
        .store
        .audit_log(&AuditQuery {
            action_prefix: params.text("action").map(str::to_string),
            actor: params.text("actor").map(str::to_string),
            offset,
            limit,
        })
        .await?;
    Ok(Json(Page {
        total: result.total,
        page,
        per_page,
        items: result.entries,
    }))
}

//! API tokens for automation: each user manages their own; admins see and revoke anyone's.

use crate::api::views::TokenView;
use crate::app::AppState;
use crate::auth::{Viewer, secret};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Id, JsonBody, Params};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::SignedDuration;
use otsensor_store::{NewApiToken, Role};
use serde::{Deserialize, Serialize};

/// Longest token life, in days.
pub const MAX_TOKEN_DAYS: u32 = 3650;

/// `GET /api/tokens`: one's own tokens; `?all=true` for an admin: everyone's.
pub async fn list(
    State(state): State<AppState>,
    Viewer(p): Viewer,
    params: Params,
) -> ApiResult<Json<Vec<TokenView>>> {
    let all: bool = params.parse("all", "true or false")?.unwrap_or(false);
    if all && p.user.role != Role::Admin {
        return Err(ApiError::forbidden("only admins see everyone's tokens"));
    }
    let tokens = state
        .store
        .tokens(if all { None } else { Some(p.user.id) })
        .await?;
    Ok(Json(tokens.iter().map(TokenView::from).collect()))
}

/// The body of `POST /api/tokens`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTokenInput {
    /// What it is for (1 to 100 characters).
    pub name: String,
    /// Days until it stops working (1 to 3650); absent: never.
    pub expires_in_days: Option<u32>,
}

/// What `POST /api/tokens` answers: the token's secret, shown this once.
#[derive(Debug, Serialize)]
pub struct CreatedToken {
    /// The token as stored.
    #[serde(flatten)]
    pub token: TokenView,
    /// The secret: send it as `Authorization: Bearer <token>`. It is not shown again.
    pub token_secret: String,
}

/// `POST /api/tokens`: a token acting for the caller with the caller's role.
pub async fn create(
    State(state): State<AppState>,
    Viewer(p): Viewer,
    JsonBody(body): JsonBody<NewTokenInput>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let name = body.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "name",
            "1 to 100 characters, no control characters",
        ));
    }
    let now = state.clock.now();
    let expires = match body.expires_in_days {
        None => None,
        Some(days) if (1..=MAX_TOKEN_DAYS).contains(&days) => Some(
            now.checked_add(SignedDuration::from_hours(i64::from(days) * 24))
                .map_err(|e| ApiError::internal(format!("token expiry: {e}")))?,
        ),
        Some(_) => {
            return Err(ApiError::invalid(
                "expires_in_days",
                format!("must be from 1 to {MAX_TOKEN_DAYS}"),
            ));
        }
    };
    let token_secret = secret::api_token().map_err(ApiError::internal)?;
    let audit = p.audit(
        now,
        "token.create",
        Some(format!("user:{}", p.user.name)),
        serde_json::json!({ "name": name, "expires": expires }),
    );
    let id = state
        .store
        .create_token(
            &NewApiToken {
                token_hash: secret::secret_hash(&token_secret),
                user: p.user.id,
                name,
                expires,
            },
            now,
            &audit,
        )
        .await?;
    let token = state
        .store
        .tokens(Some(p.user.id))
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or_else(|| ApiError::internal("the new token vanished"))?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            token: TokenView::from(&token),
            token_secret,
        }),
    ))
}

/// `DELETE /api/tokens/{id}`: revokes one's own token (admins: anyone's).
pub async fn revoke(
    State(state): State<AppState>,
    Viewer(p): Viewer,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    let owner = (p.user.role != Role::Admin).then_some(p.user.id);
    let audit = p.audit(
        state.clock.now(),
        "token.revoke",
        Some(format!("token:{id}")),
        serde_json::json!({}),
    );
    if !state
        .store
        .revoke_token(id, owner, state.clock.now(), &audit)
        .await?
    {
        return Err(ApiError::not_found(format!("no live token {id} of yours")));
    }
    Ok(StatusCode::NO_CONTENT)
}

//! Login, logout, the current session, changing one's own password.

use crate::api::views::UserView;
use crate::app::AppState;
use crate::auth::password::{check_new_password, decoy_hash, hash_password, verify_password};
use crate::auth::{Client, Pending, Principal, Via, cleared_cookies, secret, session_cookies};
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use otsensor_store::{NewAuditEntry, UserUpdate};
use serde::{Deserialize, Serialize};

/// The body of `POST /api/session`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    /// The user name.
    pub name: String,
    /// The password.
    pub password: String,
}

/// What a login (and `GET /api/session`) answers.
#[derive(Debug, Serialize)]
pub struct SessionView {
    /// The user.
    pub user: UserView,
    /// How the request authenticated: `session` or `token`.
    pub via: &'static str,
    /// For a session: the token to send as `X-CSRF-Token` with every change.
    pub csrf_token: Option<String>,
    /// For a new session: when it ends at the latest.
    pub expires: Option<Timestamp>,
}

/// Longest user name a login considers (longer ones cannot exist: 64 characters).
const MAX_LOGIN_NAME_BYTES: usize = 256;

fn throttle_keys(name: &str, client: Option<std::net::IpAddr>) -> Vec<String> {
    let short: String = name.chars().take(64).collect();
    let mut keys = vec![format!("user:{}", short.to_lowercase())];
    if let Some(c) = client {
        keys.push(format!("client:{c}"));
    }
    keys
}

/// `POST /api/session`: checks the password (throttled) and opens a session (cookies).
pub async fn login(
    State(state): State<AppState>,
    Client(client): Client,
    JsonBody(body): JsonBody<Login>,
) -> ApiResult<Response> {
    let now = state.clock.now();
    let keys = throttle_keys(&body.name, client);
    if let Err(wait) = state.throttle.check(&keys, now) {
        audit_login(&state, &body.name, client, now, "login.throttled").await?;
        return Err(ApiError::too_many_attempts(wait));
    }
    let credentials = if body.name.len() > MAX_LOGIN_NAME_BYTES {
        None
    } else {
        state.store.user_credentials(&body.name).await?
    };
    let hash = credentials
        .as_ref()
        .map(|c| c.password_hash.clone())
        .unwrap_or_else(|| decoy_hash().to_string());
    let password = body.password.clone();
    let matches = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| ApiError::internal(format!("checking the password: {e}")))?;
    let user = match credentials {
        Some(c) if matches && !c.user.disabled => c.user,
        _ => {
            state.throttle.fail(&keys, now);
            audit_login(&state, &body.name, client, now, "login.failed").await?;
            return Err(ApiError::unauthorized("wrong user name or password"));
        }
    };
    state.throttle.clear(&keys[0]);
    let secret = secret::session_secret().map_err(ApiError::internal)?;
    let expires = now
        .checked_add(state.session_max())
        .map_err(|e| ApiError::internal(format!("session end: {e}")))?;
    let client_text = client.map(|c| c.to_string());
    let id = state
        .store
        .create_session(
            &secret::secret_hash(&secret),
            user.id,
            now,
            expires,
            client_text.as_deref(),
        )
        .await?;
    let principal = Principal {
        user: user.clone(),
        via: Via::Session {
            id,
            secret: secret.clone(),
        },
        client,
    };
    state
        .store
        .record_audit(&principal.audit(
            now,
            "login",
            Some(format!("user:{}", user.name)),
            serde_json::json!({}),
        ))
        .await?;
    let max_age = state.session_max().as_secs();
    let mut response = (
        StatusCode::OK,
        Json(SessionView {
            user: UserView::from(&user),
            via: "session",
            csrf_token: Some(secret::csrf_token(&secret)),
            expires: Some(expires),
        }),
    )
        .into_response();
    for cookie in session_cookies(&secret, max_age, state.tls) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

async fn audit_login(
    state: &AppState,
    name: &str,
    client: Option<std::net::IpAddr>,
    at: Timestamp,
    action: &str,
) -> ApiResult<()> {
    // the name as typed may be a mistyped password: keep it short and never log the password
    let shown: String = name.chars().take(64).collect();
    state
        .store
        .record_audit(&NewAuditEntry {
            at,
            actor: shown.clone(),
            via: "session".into(),
            action: action.into(),
            target: Some(format!("user:{shown}")),
            detail: serde_json::json!({}),
            client: client.map(|c| c.to_string()),
        })
        .await?;
    Ok(())
}

/// `GET /api/session`: who is logged in (also for a user who must change a password).
pub async fn current(Pending(p): Pending) -> Json<SessionView> {
    let csrf_token = match &p.via {
        Via::Session { secret, .. } => Some(secret::csrf_token(secret)),
        Via::Token { .. } => None,
    };
    Json(SessionView {
        user: UserView::from(&p.user),
        via: match p.via {
            Via::Session { .. } => "session",
            Via::Token { .. } => "token",
        },
        csrf_token,
        expires: None,
    })
}

/// `DELETE /api/session`: ends the session and clears the cookies.
pub async fn logout(State(state): State<AppState>, Pending(p): Pending) -> ApiResult<Response> {
    let Via::Session { id, .. } = p.via else {
        return Err(ApiError::bad_request(
            "an API token has no session to end: revoke the token instead",
        ));
    };
    state.store.delete_session(id).await?;
    let now = state.clock.now();
    state
        .store
        .record_audit(&p.audit(
            now,
            "logout",
            Some(format!("user:{}", p.user.name)),
            serde_json::json!({}),
        ))
        .await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    for cookie in cleared_cookies(state.tls) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// The body of `POST /api/session/password`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The password now.
    pub current: String,
    /// The new password.
    pub new: String,
}

/// `POST /api/session/password`: changes one's own password (ends every session of the user,
/// this one included: log in again).
pub async fn change_password(
    State(state): State<AppState>,
    Pending(p): Pending,
    JsonBody(body): JsonBody<PasswordChange>,
) -> ApiResult<Response> {
    check_new_password(&body.new).map_err(|e| ApiError::invalid("new", e))?;
    if body.new == body.current {
        return Err(ApiError::invalid(
            "new",
            "must differ from the current password",
        ));
    }
    let credentials = state
        .store
        .user_credentials_by_id(p.user.id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("the user no longer exists"))?;
    let (current, hash) = (body.current.clone(), credentials.password_hash);
    let matches = tokio::task::spawn_blocking(move || verify_password(&current, &hash))
        .await
        .map_err(|e| ApiError::internal(format!("checking the password: {e}")))?;
    if !matches {
        return Err(ApiError::invalid(
            "current",
            "the current password is wrong",
        ));
    }
    let new = body.new;
    let new_hash = tokio::task::spawn_blocking(move || hash_password(&new))
        .await
        .map_err(|e| ApiError::internal(format!("hashing the password: {e}")))?
        .map_err(ApiError::internal)?;
    let now = state.clock.now();
    let update = UserUpdate {
        password: Some((new_hash, false)),
        ..UserUpdate::default()
    };
    let audit = p.audit(
        now,
        "user.password",
        Some(format!("user:{}", p.user.name)),
        serde_json::json!({ "own": true }),
    );
    state
        .store
        .update_user(p.user.id, &update, now, &audit)
        .await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    for cookie in cleared_cookies(state.tls) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

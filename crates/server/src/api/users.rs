//! Users: analysts and admins see them; admins create, change and delete them.

use crate::accounts::{check_user_name, hash_off_thread};
use crate::api::views::UserView;
use crate::app::AppState;
use crate::auth::Admin;
use crate::auth::Operator;
use crate::auth::password::check_new_password;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Id, JsonBody};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use otsensor_store::{NewUser, Role, UserId, UserUpdate};
use serde::Deserialize;

/// `GET /api/users` (analyst and up).
pub async fn list(State(state): State<AppState>, _: Operator) -> ApiResult<Json<Vec<UserView>>> {
    let users = state.store.users().await?;
    Ok(Json(users.iter().map(UserView::from).collect()))
}

/// `GET /api/users/{id}` (analyst and up).
pub async fn get(
    State(state): State<AppState>,
    _: Operator,
    Id(id): Id,
) -> ApiResult<Json<UserView>> {
    let user = state
        .store
        .user(UserId(id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no user {id}")))?;
    Ok(Json(UserView::from(&user)))
}

/// The body of `POST /api/users`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUserInput {
    /// Login name: letters, digits, `.`, `_`, `-`, `@`; 1 to 64 characters.
    pub name: String,
    /// `admin`, `analyst` or `readonly`.
    pub role: Role,
    /// The password (at least 10 characters).
    pub password: String,
    /// Whether the user must change it at first login [default: true].
    #[serde(default = "yes")]
    pub must_change_password: bool,
}

fn yes() -> bool {
    true
}

/// `POST /api/users` (admin).
pub async fn create(
    State(state): State<AppState>,
    Admin(p): Admin,
    JsonBody(body): JsonBody<NewUserInput>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    check_user_name(&body.name).map_err(|e| ApiError::invalid("name", e))?;
    check_new_password(&body.password).map_err(|e| ApiError::invalid("password", e))?;
    if state.store.user_credentials(&body.name).await?.is_some() {
        return Err(ApiError::conflict_field(
            "name",
            format!("a user called {:?} already exists", body.name),
        ));
    }
    let hash = hash_off_thread(body.password).await?;
    let now = state.clock.now();
    let audit = p.audit(
        now,
        "user.create",
        Some(format!("user:{}", body.name)),
        serde_json::json!({ "role": body.role, "must_change_password": body.must_change_password }),
    );
    let id = state
        .store
        .create_user(
            &NewUser {
                name: body.name,
                role: body.role,
                password_hash: hash,
                must_change_password: body.must_change_password,
            },
            now,
            &audit,
        )
        .await?;
    let user = state
        .store
        .user(id)
        .await?
        .ok_or_else(|| ApiError::internal("the new user vanished"))?;
    Ok((StatusCode::CREATED, Json(UserView::from(&user))))
}

/// The body of `PATCH /api/users/{id}`: each field optional.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// A new role.
    pub role: Option<Role>,
    /// Disable (ends the user's sessions) or enable.
    pub disabled: Option<bool>,
    /// A new password (ends the user's sessions); the user must change it at next login.
    pub password: Option<String>,
}

/// `PATCH /api/users/{id}` (admin). Refused (409) when it would leave no enabled admin.
pub async fn update(
    State(state): State<AppState>,
    Admin(p): Admin,
    Id(id): Id,
    JsonBody(body): JsonBody<UserPatch>,
) -> ApiResult<Json<UserView>> {
    if let Some(pw) = &body.password {
        check_new_password(pw).map_err(|e| ApiError::invalid("password", e))?;
    }
    let target = state
        .store
        .user(UserId(id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no user {id}")))?;
    let password = match body.password {
        Some(pw) => Some((hash_off_thread(pw).await?, true)),
        None => None,
    };
    let now = state.clock.now();
    let audit = p.audit(
        now,
        "user.update",
        Some(format!("user:{}", target.name)),
        serde_json::json!({
            "role": body.role,
            "disabled": body.disabled,
            "password_reset": password.is_some(),
        }),
    );
    let update = UserUpdate {
        role: body.role,
        disabled: body.disabled,
        password,
    };
    let user = state
        .store
        .update_user(UserId(id), &update, now, &audit)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no user {id}")))?;
    Ok(Json(UserView::from(&user)))
}

/// `DELETE /api/users/{id}` (admin): the user, its sessions and its tokens. Refused (409) for
/// the last enabled admin.
pub async fn delete(
    State(state): State<AppState>,
    Admin(p): Admin,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    let target = state
        .store
        .user(UserId(id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no user {id}")))?;
    let audit = p.audit(
        state.clock.now(),
        "user.delete",
        Some(format!("user:{}", target.name)),
        serde_json::json!({ "role": target.role }),
    );
    if !state.store.delete_user(UserId(id), &audit).await? {
        return Err(ApiError::not_found(format!("no user {id}")));
    }
    Ok(StatusCode::NO_CONTENT)
}

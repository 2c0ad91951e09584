//! API errors: every failure is JSON `{error, detail, field}` with a fitting HTTP status.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use otsensor_store::StoreError;
use serde::Serialize;

/// A failed request: the status, a stable error code, what went wrong, and the field at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable code (`bad_request`, `forbidden`, `csrf`, ...).
    pub error: &'static str,
    /// What went wrong, for people.
    pub detail: String,
    /// The request field at fault (`use_case.port`, `targets[1]`), if one is.
    pub field: Option<String>,
    /// For 429: seconds until a retry may succeed.
    pub retry_after: Option<u64>,
}

/// The JSON body of an error.
#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    detail: &'a str,
    field: Option<&'a str>,
}

impl ApiError {
    fn new(status: StatusCode, error: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            error,
            detail: detail.into(),
            field: None,
            retry_after: None,
        }
    }

    /// 400: the field `field` is wrong.
    pub fn invalid(field: impl Into<String>, detail: impl Into<String>) -> ApiError {
        ApiError {
            field: Some(field.into()),
            ..ApiError::new(StatusCode::BAD_REQUEST, "bad_request", detail)
        }
    }

    /// 400 without a field (a body that is not JSON at all).
    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", detail)
    }

    /// 401: not logged in, or the credentials are wrong.
    pub fn unauthorized(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    /// 403: logged in, but the role does not allow it.
    pub fn forbidden(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    /// 403: a cookie-authenticated change without the CSRF token (or from another origin).
    pub fn csrf(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "csrf", detail)
    }

    /// 403: the user must change a one-time password first.
    pub fn password_change_required() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "password_change_required",
            "this account has a one-time password: change it with POST /api/session/password first",
        )
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", detail)
    }

    /// 409: the request conflicts with the current state (a run already running, a name taken).
    pub fn conflict(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "conflict", detail)
    }

    /// 409 naming a field (a name already used).
    pub fn conflict_field(field: impl Into<String>, detail: impl Into<String>) -> ApiError {
        ApiError {
            field: Some(field.into()),
            ..ApiError::conflict(detail)
        }
    }

    /// 415: the body is not declared as JSON.
    pub fn unsupported_media_type() -> ApiError {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with Content-Type: application/json",
        )
    }

    /// 429: too many failed logins; retry after `secs` seconds.
    pub fn too_many_attempts(secs: u64) -> ApiError {
        ApiError {
            retry_after: Some(secs),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                format!("too many failed logins: try again in {secs} s"),
            )
        }
    }

    /// 501: a part of the API that arrives with a later feature.
    pub fn not_implemented(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_IMPLEMENTED, "not_implemented", detail)
    }

    /// 500: the sensor failed (the database, the file system). Logged in full.
    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        tracing::error!("request failed: {detail}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            detail.to_string(),
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Rejected { .. } => ApiError::conflict(e.to_string()),
            other => ApiError::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.error,
            detail: &self.detail,
            field: self.field.as_deref(),
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(v) = self
            .retry_after
            .and_then(|secs| HeaderValue::from_str(&secs.to_string()).ok())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

/// The result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

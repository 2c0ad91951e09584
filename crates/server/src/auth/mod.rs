//! Who is asking, and may they: sessions (cookies with CSRF protection) and API tokens, roles,
//! passwords, login throttling.
//!
//! A request authenticates with `Authorization: Bearer <token>` (automation) or with the session
//! cookie a login set (browsers). A cookie-authenticated request that changes anything (any method
//! but GET, HEAD, OPTIONS) must also carry the session's CSRF token in `X-CSRF-Token`, and, when the
//! browser sends an `Origin`, come from the sensor's own origin. Handlers state the role they need
//! with an extractor: [`Viewer`] (any role), [`Operator`] (analyst or admin), [`Admin`];
//! [`Pending`] also lets in a user whose one-time password must still be changed.

pub mod password;
pub mod secret;
pub mod throttle;

use crate::app::AppState;
use crate::error::ApiError;
use crate::tls::ClientAddr;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use jiff::{SignedDuration, Timestamp};
use otsensor_store::{NewAuditEntry, Role, User};
use std::net::IpAddr;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "otsensor_session";

/// The cookie holding the CSRF token, readable by the console's scripts.
pub const CSRF_COOKIE: &str = "otsensor_csrf";

/// The header a cookie-authenticated change carries the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How often at most a session's or token's last use is written.
const TOUCH_EVERY: SignedDuration = SignedDuration::from_secs(60);

/// How a request authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// A browser session (row id) and its secret (for the CSRF token).
    Session {
        /// The session's row id.
        id: i64,
        /// The cookie's secret.
        secret: String,
    },
    /// An API token (its id).
    Token {
        /// The token's id.
        id: i64,
    },
}

/// The authenticated user of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user.
    pub user: User,
    /// How the request authenticated.
    pub via: Via,
    /// The client's address.
    pub client: Option<IpAddr>,
}

impl Principal {
    /// An audit entry for something this principal did at `at`.
    pub fn audit(
        &self,
        at: Timestamp,
        action: &str,
        target: Option<String>,
        detail: serde_json::Value,
    ) -> NewAuditEntry {
        NewAuditEntry {
            at,
            actor: self.user.name.clone(),
            via: match self.via {
                Via::Session { .. } => "session".into(),
                Via::Token { .. } => "token".into(),
            },
            action: action.to_string(),
            target,
            detail,
            client: self.client.map(|c| c.to_string()),
        }
    }
}

/// The client address of a request (set by the listener).
pub fn client_of(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<ClientAddr>>()
        .map(|ConnectInfo(ClientAddr(addr))| addr.ip())
}

/// The client's address as an extractor (for handlers without a principal: the login).
#[derive(Debug, Clone, Copy)]
pub struct Client(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Client(client_of(parts)))
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// The `Set-Cookie` values of a new session: the HttpOnly session cookie and the CSRF cookie,
/// both SameSite=Strict, Secure unless the service runs plain HTTP.
pub fn session_cookies(secret: &str, max_age_secs: i64, secure: bool) -> Vec<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    let csrf = secret::csrf_token(secret);
    [
        format!(
            "{SESSION_COOKIE}={secret}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite=Strict{secure}"
        ),
        format!("{CSRF_COOKIE}={csrf}; Path=/; Max-Age={max_age_secs}; SameSite=Strict{secure}"),
    ]
    .into_iter()
    .filter_map(|c| HeaderValue::from_str(&c).ok())
    .collect()
}

/// `Set-Cookie` values that remove both cookies.
pub fn cleared_cookies(secure: bool) -> Vec<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    [SESSION_COOKIE, CSRF_COOKIE]
        .into_iter()
        .filter_map(|name| {
            HeaderValue::from_str(&format!(
                "{name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{secure}"
            ))
            .ok()
        })
        .collect()
}

/// Authenticates the request: a bearer token, else the session cookie.
pub async fn authenticate(parts: &Parts, state: &AppState) -> Result<Principal, ApiError> {
    let client = client_of(parts);
    if let Some(token) = bearer(&parts.headers) {
        return by_token(state, token, client).await;
    }
    match cookie(&parts.headers, SESSION_COOKIE) {
        Some(secret) if !secret.is_empty() => by_session(state, secret, client).await,
        _ => Err(ApiError::unauthorized(
            "log in (POST /api/session) or send an API token (Authorization: Bearer ...)",
        )),
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

async fn by_token(
    state: &AppState,
    token: &str,
    client: Option<IpAddr>,
) -> Result<Principal, ApiError> {
    let now = state.clock.now();
    let invalid =
        || ApiError::unauthorized("the API token is not valid (unknown, revoked or expired)");
    let (token, user) = state
        .store
        .token(&secret::secret_hash(token))
        .await?
        .ok_or_else(invalid)?;
    if token.revoked.is_some() || token.expires.is_some_and(|e| e <= now) || user.disabled {
        return Err(invalid());
    }
    if token
        .last_used
        .is_none_or(|t| now.duration_since(t) >= TOUCH_EVERY)
    {
        state.store.touch_token(token.id, now).await?;
    }
    Ok(Principal {
        user,
        via: Via::Token { id: token.id },
        client,
    })
}

async fn by_session(
    state: &AppState,
    secret: &str,
    client: Option<IpAddr>,
) -> Result<Principal, ApiError> {
    let now = state.clock.now();
    let session = state
        .store
        .session(&secret::secret_hash(secret))
        .await?
        .ok_or_else(|| ApiError::unauthorized("the session ended: log in again"))?;
    let idle = now.duration_since(session.last_used);
    if session.expires <= now || idle >= state.session_idle() || session.user.disabled {
        state.store.delete_session(session.id).await?;
        return Err(ApiError::unauthorized("the session expired: log in again"));
    }
    if idle >= TOUCH_EVERY {
        state.store.touch_session(session.id, now).await?;
    }
    Ok(Principal {
        user: session.user,
        via: Via::Session {
            id: session.id,
            secret: secret.to_string(),
        },
        client,
    })
}

/// Refuses a cookie-authenticated change without the CSRF token or from another origin.
fn check_csrf(parts: &Parts, principal: &Principal, tls: bool) -> Result<(), ApiError> {
    let Via::Session { secret, .. } = &principal.via else {
        return Ok(());
    };
    if matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    if let Some(origin) = parts.headers.get(header::ORIGIN) {
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        let scheme = if tls { "https" } else { "http" };
        if origin.to_str().ok() != Some(&format!("{scheme}://{host}")) {
            return Err(ApiError::csrf(
                "the request comes from another origin than the sensor's",
            ));
        }
    }
    let sent = parts
        .headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !secret::same_secret(sent, &secret::csrf_token(secret)) {
        return Err(ApiError::csrf(
            "missing or wrong X-CSRF-Token header: send the csrf_token the login returned",
        ));
    }
    Ok(())
}

/// Authenticates and checks CSRF, the one-time password, and the role.
async fn guard(
    parts: &Parts,
    state: &AppState,
    min: Role,
    allow_pending: bool,
) -> Result<Principal, ApiError> {
    let principal = authenticate(parts, state).await?;
    check_csrf(parts, &principal, state.tls)?;
    if principal.user.must_change_password && !allow_pending {
        return Err(ApiError::password_change_required());
    }
    if principal.user.role < min {
        return Err(ApiError::forbidden(format!(
            "this needs the {} role; {} has the {} role",
            min, principal.user.name, principal.user.role
        )));
    }
    Ok(principal)
}

macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident, $role:expr, $pending:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub Principal);

        impl FromRequestParts<AppState> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
                guard(parts, state, $role, $pending).await.map($name)
            }
        }
    };
}

role_extractor!(
    /// Any logged-in user (read-only and up).
    Viewer,
    Role::ReadOnly,
    false
);
role_extractor!(
    /// An analyst or an admin: may run and stop existing scans.
    Operator,
    Role::Analyst,
    false
);
role_extractor!(
    /// An admin: may change anything.
    Admin,
    Role::Admin,
    false
);
role_extractor!(
    /// Any logged-in user, even one who must still change a one-time password.
    Pending,
    Role::ReadOnly,
    true
);

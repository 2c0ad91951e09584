//! The web console: server-rendered HTML pages on the same sessions, roles and CSRF protection as
//! the REST API, with a little plain JavaScript and CSS embedded in the binary (works offline).
//!
//! Pages are rendered here from the API's own handlers and views, so the console shows exactly
//! what the API answers. Changes (log in, save a scan, run, stop, users) are sent by
//! `console.js` to the REST API with the session's CSRF token; the API validates every field
//! and its `{error, detail, field}` answer is shown beside the field, the typed values kept.
//! Pages and buttons a role may not use are not rendered.
//!
//! One submodule per page group: [`session`] (log in, password), [`devices`] (inventory, device
//! page), [`scans`] (active discovery, runs), [`map`] (device map), [`admin`] (users, audit),
//! [`wem`] (Windows endpoint monitoring) and [`rdns`] (reverse DNS), whose data `console.js`
//! reads from their API.

pub mod admin;
pub mod devices;
pub mod html;
pub mod map;
pub mod rdns;
pub mod scans;
pub mod session;
pub mod wem;

use crate::app::AppState;
use crate::auth::{Principal, authenticate};
use crate::error::ApiError;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use html::{esc, url_encode};
use otsensor_store::Role;

/// The console's stylesheet.
const CSS: &str = include_str!("assets/console.css");
/// The console's script.
const JS: &str = include_str!("assets/console.js");

/// The content security policy of console pages: only the sensor's own script, style and API.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The console's routes (outside `/api`), merged into the service's router.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/devices") }))
        .route("/login", get(session::login_page))
        .route("/password", get(session::password_page))
        .route("/devices", get(devices::inventory))
        .route("/devices/{id}", get(devices::device_page))
        .route("/map", get(map::map_page))
        .route("/scans", get(scans::scans_page))
        .route("/scans/new", get(scans::new_scan_page))
        .route("/scans/{id}", get(scans::scan_page))
        .route("/scans/{id}/edit", get(scans::edit_scan_page))
        .route("/runs/{id}", get(scans::run_page))
        .route("/users", get(admin::users_page))
        .route("/audit", get(admin::audit_page))
        .route("/wem", get(wem::wem_page))
        .route("/rdns", get(rdns::rdns_page))
        .route("/assets/console.css", get(css))
        .route("/assets/console.js", get(js))
        .layer(axum::middleware::map_response(console_headers))
}

async fn console_headers(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    response
}

async fn css() -> Response {
    asset(CSS, "text/css; charset=utf-8")
}

async fn js() -> Response {
    asset(JS, "text/javascript; charset=utf-8")
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// The logged-in user of a console page; anyone else is sent to the login page (and a user
/// with a one-time password to the password page).
#[derive(Debug, Clone)]
pub struct ConsoleUser(pub Principal);

impl FromRequestParts<AppState> for ConsoleUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let here = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        match authenticate(parts, state).await {
            Ok(p) if p.user.must_change_password && parts.uri.path() != "/password" => {
                Err(Redirect::to("/password").into_response())
            }
            Ok(p) => Ok(ConsoleUser(p)),
            Err(_) => {
                Err(Redirect::to(&format!("/login?next={}", url_encode(&here))).into_response())
            }
        }
    }
}

impl ConsoleUser {
    /// Whether the user has at least `role`.
    pub fn may(&self, role: Role) -> bool {
        self.0.user.role >= role
    }
}

/// A full page: the header with the navigation the user's role may use, the user and role, and
/// a log-out button; then `body`.
pub fn page(user: &ConsoleUser, title: &str, active: &str, body: &str) -> Response {
    let mut nav = String::new();
    let mut entries = vec![
        ("/devices", "Devices"),
        ("/map", "Device map"),
        ("/scans", "Active discovery"),
        ("/wem", "Windows (WMI)"),
        ("/rdns", "Reverse DNS"),
    ];
    if user.may(Role::Analyst) {
        entries.push(("/users", "Users"));
        entries.push(("/audit", "Audit log"));
    }
    for (href, text) in entries {
        let class = if href == active {
            " class=\"active\""
        } else {
            ""
        };
        nav.push_str(&format!("<a href=\"{href}\"{class}>{text}</a>"));
    }
    let u = &user.0.user;
    let header = format!(
        "<header><span class=\"brand\">otsensor</span><nav>{nav}</nav>\
         <span class=\"who\"><span id=\"user-name\">{}</span> <span class=\"role\" id=\"user-role\">{}</span>\
         <button type=\"button\" id=\"logout\">Log out</button></span></header>",
        esc(&u.name),
        esc(role_label(u.role)),
    );
    document(
        title,
        &format!(
            "{header}<main><h1>{}</h1><div id=\"flash\" class=\"flash\" hidden></div>{body}</main>",
            esc(title)
        ),
    )
}

/// A bare HTML document (the login page uses it without the header).
pub fn document(title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} - otsensor</title><link rel=\"stylesheet\" href=\"/assets/console.css\">\
         <script src=\"/assets/console.js\" defer></script></head><body>{body}</body></html>",
        esc(title)
    );
    let mut response = html.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// How a role is shown.
pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Admin => "Admin",
        Role::Analyst => "Security Analyst",
        Role::ReadOnly => "Read Only",
    }
}

/// An error as a page with the header (the API's error text, its status kept).
pub fn error_page(user: &ConsoleUser, e: ApiError) -> Response {
    let status = e.status;
    let mut response = page(
        user,
        "Error",
        "",
        &format!(
            "<p class=\"error\" id=\"page-error\">{}</p>",
            esc(&e.detail)
        ),
    );
    *response.status_mut() = status;
    response
}

/// The page a role may not see.
pub fn forbidden(user: &ConsoleUser, needs: Role) -> Response {
    let mut response = page(
        user,
        "Not allowed",
        "",
        &format!(
            "<p class=\"error\">This page needs the {} role.</p>",
            role_label(needs)
        ),
    );
    *response.status_mut() = StatusCode::FORBIDDEN;
    response
}

/// A timestamp as shown in tables (seconds, UTC).
pub fn when(t: &jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S").to_string()
}

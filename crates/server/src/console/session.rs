//! Log in (the form posts to `POST /api/session` from `console.js`), and the page where a user
//! with a one-time password sets their own.

use super::html::{esc, input};
use super::{ConsoleUser, document, page};
use crate::extract::Params;
use axum::response::Response;

/// `GET /login?next=/path`: the login form.
pub async fn login_page(params: Params) -> Response {
    // only a path of this site may follow the login (no open redirect)
    let next = params
        .text("next")
        .filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or("/devices");
    let body = format!(
        "<main class=\"login\"><h1>otsensor</h1>\
         <form id=\"login-form\" class=\"card\" data-next=\"{}\">\
         {}{}<p class=\"err form-err\" data-err=\"form\"></p>\
         <button type=\"submit\" id=\"login-submit\">Log in</button></form></main>",
        esc(next),
        input(
            "User name",
            "name",
            "name",
            "",
            "autocomplete=\"username\" autofocus required"
        ),
        input(
            "Password",
            "password",
            "password",
            "",
            "type=\"password\" autocomplete=\"current-password\" required"
        ),
    );
    document("Log in", &body)
}

/// `GET /password`: change one's own password (needed after a one-time password).
pub async fn password_page(user: ConsoleUser) -> Response {
    let must = if user.0.user.must_change_password {
        "<p class=\"note\">Your password is a one-time password: choose your own to go on.</p>"
    } else {
        ""
    };
    let body = format!(
        "{must}<form class=\"card\" data-api=\"/api/session/password\" data-method=\"POST\" \
         data-build=\"fields\" data-then=\"/login\">{}{}\
         <p class=\"err form-err\" data-err=\"form\"></p><button type=\"submit\">Change password</button></form>",
        input(
            "Current password",
            "current",
            "current",
            "",
            "type=\"password\" required"
        ),
        input(
            "New password",
            "new",
            "new",
            "",
            "type=\"password\" required"
        ),
    );
    page(&user, "Change password", "", &body)
}

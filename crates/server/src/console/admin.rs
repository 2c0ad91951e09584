//! Users (analysts see them, admins change them) and the audit log (analysts and admins).

use super::html::{esc, input, select, table, url_encode};
use super::{ConsoleUser, error_page, forbidden, page, when};
use crate::api::{audit, users};
use crate::app::AppState;
use crate::auth::Operator;
use crate::extract::Params;
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use otsensor_store::Role;
use std::fmt::Write;

const ROLES: [(&str, &str); 3] = [
    ("readonly", "Read Only"),
    ("analyst", "Security Analyst"),
    ("admin", "Admin"),
];

/// `GET /users`.
pub async fn users_page(State(state): State<AppState>, user: ConsoleUser) -> Response {
    if !user.may(Role::Analyst) {
        return forbidden(&user, Role::Analyst);
    }
    let list = match users::list(State(state), Operator(user.0.clone())).await {
        Ok(Json(l)) => l,
        Err(e) => return error_page(&user, e),
    };
    let admin = user.may(Role::Admin);
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|u| {
            let role = ROLES.iter().find(|(k, _)| *k == u.role).map(|(_, v)| *v).unwrap_or(u.role);
            let mut actions = String::new();
            if admin && u.id != user.0.user.id.0 {
                let (label, flag) = if u.disabled { ("Enable", "false") } else { ("Disable", "true") };
                let _ = write!(
                    actions,
                    "<button type=\"button\" data-call=\"PATCH\" data-url=\"/api/users/{id}\" data-body='{{\"disabled\":{flag}}}'>{label}</button> \
                     <button type=\"button\" class=\"danger\" data-call=\"DELETE\" data-url=\"/api/users/{id}\" data-confirm=\"Delete user {name}?\">Delete</button>",
                    id = u.id,
                    name = esc(&u.name),
                );
            }
            vec![
                esc(&u.name),
                esc(role),
                if u.disabled { "disabled".into() } else { "active".into() },
                if u.must_change_password { "one-time password".into() } else { String::new() },
                esc(&when(&u.created)),
                actions,
            ]
        })
        .collect();
    let mut body = table(
        "data",
        &["Name", "Role", "State", "Password", "Created", ""],
        &rows,
    );
    if admin {
        let _ = write!(
            body,
            "<h2>Add user</h2><form id=\"user-form\" class=\"card\" data-api=\"/api/users\" data-method=\"POST\" data-build=\"fields\" data-then=\"/users\">\
             {}{}{}<label class=\"field check\"><input type=\"checkbox\" name=\"must_change_password\" checked><span>must change the password at first login</span></label>\
             <p class=\"err form-err\" data-err=\"form\"></p><button type=\"submit\">Add user</button></form>",
            input("Name", "name", "name", "", "required"),
            select("Role", "role", "role", &ROLES, "readonly"),
            input(
                "Password (one-time)",
                "password",
                "password",
                "",
                "type=\"password\" autocomplete=\"new-password\""
            ),
        );
    }
    page(&user, "Users", "/users", &body)
}

/// `GET /audit?action=&actor=&page=`.
pub async fn audit_page(
    State(state): State<AppState>,
    user: ConsoleUser,
    params: Params,
) -> Response {
    if !user.may(Role::Analyst) {
        return forbidden(&user, Role::Analyst);
    }
    let mut params = params;
    params
        .0
        .entry("per_page".into())
        .or_insert_with(|| "100".into());
    let result = audit::list(State(state), Operator(user.0.clone()), params.clone()).await;
    let page_data = match result {
        Ok(Json(p)) => p,
        Err(e) => return error_page(&user, e),
    };
    let value = |k: &str| params.text(k).unwrap_or("").to_string();
    let mut body = format!(
        "<form class=\"filters\" method=\"get\" action=\"/audit\">{}{}<button type=\"submit\">Filter</button></form>",
        input(
            "Action starts with",
            "action",
            "action",
            &value("action"),
            "placeholder=\"scan.\""
        ),
        input("Who", "actor", "actor", &value("actor"), ""),
    );
    let rows: Vec<Vec<String>> = page_data
        .items
        .iter()
        .map(|e| {
            let e = &e.entry;
            let detail = if e.detail.is_null() || e.detail == serde_json::json!({}) {
                String::new()
            } else {
                e.detail.to_string()
            };
            vec![
                esc(&when(&e.at)),
                esc(&e.actor),
                esc(&e.via),
                esc(&e.action),
                esc(e.target.as_deref().unwrap_or("")),
                esc(&detail),
                esc(e.client.as_deref().unwrap_or("")),
            ]
        })
        .collect();
    body.push_str(&table(
        "data",
        &["When", "Who", "Via", "Action", "Target", "Detail", "Client"],
        &rows,
    ));
    let pages = page_data.total.div_ceil(page_data.per_page.max(1)).max(1);
    let _ = write!(
        body,
        "<nav class=\"pager\">page {} of {pages} ",
        page_data.page
    );
    let q = |n: u64| {
        format!(
            "/audit?action={}&actor={}&page={n}",
            url_encode(&value("action")),
            url_encode(&value("actor"))
        )
    };
    if page_data.page > 1 {
        let _ = write!(
            body,
            "<a href=\"{}\">previous</a> ",
            esc(&q(page_data.page - 1))
        );
    }
    if page_data.page < pages {
        let _ = write!(body, "<a href=\"{}\">next</a>", esc(&q(page_data.page + 1)));
    }
    body.push_str("</nav>");
    page(&user, "Audit log", "/audit", &body)
}

//! Windows Endpoint Monitoring: the ranges table (FROM, TO, USER, PASSWORD, DISABLE) edited in
//! place, Import ranges (CSV, line-numbered errors) and Export ranges, the schedule (every N
//! hours or specific times with "Add scan time"), Apply changes, Manually scan, the results and
//! log downloads. The page is a shell: `console.js` reads and writes `/api/wem/...`, so the API
//! validates everything and its errors show beside the field; a build without WEM says so.

use super::{ConsoleUser, page};
use axum::response::Response;
use otsensor_store::Role;

/// `GET /wem`.
pub async fn wem_page(user: ConsoleUser) -> Response {
    let admin = user.may(Role::Admin);
    let operator = user.may(Role::Analyst);
    let mut body = format!(
        "<div id=\"wem\" data-admin=\"{admin}\" data-operator=\"{operator}\">\
         <p class=\"err form-err\" id=\"wem-unavailable\" hidden></p>\
         <h2>Ranges</h2><form id=\"wem-ranges\" class=\"card\">\
         <table class=\"data\"><thead><tr><th>FROM</th><th>TO</th><th>USER</th><th>PASSWORD</th><th>DISABLE</th><th></th></tr></thead>\
         <tbody id=\"wem-rows\"></tbody></table><p class=\"err form-err\" data-err=\"ranges\"></p><p class=\"err form-err\" data-err=\"form\"></p>"
    );
    if admin {
        body.push_str(
            "<p class=\"toolbar\"><button type=\"button\" id=\"wem-add-range\">Add range</button>\
             <button type=\"submit\" id=\"wem-apply\">Apply changes</button></p>",
        );
    }
    body.push_str("</form><p class=\"toolbar\">");
    if admin {
        body.push_str(
            "<label class=\"field\"><span>Import ranges (CSV: FROM,TO,USER,PASSWORD,DISABLE)</span>\
             <input type=\"file\" id=\"wem-import-file\" accept=\".csv,text/csv\"></label>\
             <button type=\"button\" id=\"wem-import\">Import ranges</button>",
        );
    }
    body.push_str(
        "<a class=\"button\" href=\"/api/wem/ranges/export\" download>Export ranges</a></p>",
    );
    if admin {
        body.push_str("<form id=\"wem-import-errors\"><p class=\"err form-err\" data-err=\"csv\" id=\"wem-import-error\"></p></form>");
    }
    body.push_str(
        "<h2>Schedule</h2><form id=\"wem-schedule\" class=\"card pane\">\
         <label class=\"field\"><span>Scan</span><select name=\"mode\"><option value=\"manual\">manually only</option>\
         <option value=\"every\">at fixed intervals</option><option value=\"times\">at specific times</option></select></label>\
         <div data-show=\"mode=every\"><label class=\"field\"><span>Every (hours)</span><input name=\"hours\" inputmode=\"numeric\"></label></div>\
         <div data-show=\"mode=times\" id=\"wem-times\"></div>\
         <span class=\"err\" data-err=\"schedule\"></span><p class=\"note\" id=\"wem-next\"></p>",
    );
    if admin {
        body.push_str(
            "<p class=\"toolbar\"><button type=\"button\" id=\"wem-add-time\" data-show=\"mode=times\">Add scan time</button>\
             <button type=\"submit\" id=\"wem-save-schedule\">Save</button></p>",
        );
    }
    body.push_str("<p class=\"err form-err\" data-err=\"form\"></p></form><h2>Scans</h2><p class=\"toolbar\">");
    if operator {
        body.push_str(
            "<button type=\"button\" class=\"run\" data-call=\"POST\" data-url=\"/api/wem/scan\" data-then=\"/wem\">Manually scan</button>\
             <button type=\"button\" class=\"stop\" data-call=\"POST\" data-url=\"/api/wem/stop\" data-then=\"/wem\">Stop</button>",
        );
    }
    body.push_str(
        "<a class=\"button\" href=\"/api/wem/results.csv\" download>View scan results (CSV)</a>\
         <a class=\"button\" href=\"/api/wem/log.csv\" download>Export log</a></p>\
         <pre id=\"wem-status\" class=\"card\"></pre></div>",
    );
    page(&user, "Windows Endpoint Monitoring", "/wem", &body)
}

//! Reverse DNS lookup: the DNS servers list, Add DNS server (schedule by interval or specific
//! 24-hour times, address, port, number of labels, subnets, Enabled), and Test, a dialog with a
//! Lookup address and the answer. The page is a shell: `console.js` reads and writes
//! `/api/rdns/...`, so the API validates everything; a build without reverse DNS says so.

use super::html::input;
use super::{ConsoleUser, page};
use axum::response::Response;
use otsensor_store::Role;

/// `GET /rdns`.
pub async fn rdns_page(user: ConsoleUser) -> Response {
    let admin = user.may(Role::Admin);
    let operator = user.may(Role::Analyst);
    let mut body = format!(
        "<div id=\"rdns\" data-admin=\"{admin}\" data-operator=\"{operator}\">\
         <p class=\"err form-err\" id=\"rdns-unavailable\" hidden></p>\
         <table class=\"data\"><thead><tr><th>Address</th><th>Port</th><th>Labels</th><th>Subnets</th><th>Schedule</th>\
         <th>Enabled</th><th>Next run</th><th></th></tr></thead><tbody id=\"rdns-rows\"></tbody></table>"
    );
    if admin {
        body.push_str(&format!(
            "<h2>Add DNS server</h2><form id=\"rdns-form\" class=\"card pane\">\
             <label class=\"field\"><span>Schedule</span><select name=\"mode\"><option value=\"every\">by interval</option>\
             <option value=\"times\">at specific times (24-hour)</option></select></label>\
             <div data-show=\"mode=every\">{}</div><div data-show=\"mode=times\">{}</div>{}{}{}\
             <label class=\"field\"><span>Subnets (CIDR, one per line)</span><textarea name=\"subnets\" rows=\"3\"></textarea>\
             <span class=\"err\" data-err=\"subnets\"></span></label>\
             <label class=\"field check\"><input type=\"checkbox\" name=\"enabled\" checked><span>Enabled</span></label>\
             <span class=\"err\" data-err=\"schedule\"></span><p class=\"err form-err\" data-err=\"form\"></p>\
             <button type=\"submit\" id=\"rdns-add\">Add DNS server</button></form>",
            input("Every (hours)", "hours", "hours", "24", "inputmode=\"numeric\""),
            input("Times", "times", "times", "03:00", "placeholder=\"03:00, 15:00\""),
            input("Address", "address", "address", "", "placeholder=\"10.0.0.53\""),
            input("Port", "port", "port", "53", "inputmode=\"numeric\""),
            input("Number of labels", "labels", "labels", "1", "inputmode=\"numeric\""),
        ));
    }
    if operator {
        body.push_str(&format!(
            "<dialog id=\"rdns-test\"><form id=\"rdns-test-form\" method=\"dialog\"><h2>Test</h2>\
             <input type=\"hidden\" name=\"server_id\">{}\
             <p class=\"err form-err\" data-err=\"form\"></p><pre id=\"rdns-answer\"></pre>\
             <p class=\"toolbar\"><button type=\"submit\" id=\"rdns-lookup\">Look up</button>\
             <button type=\"button\" id=\"rdns-test-close\">Close</button></p></form></dialog>",
            input("Lookup address", "address", "address", "", ""),
        ));
    }
    body.push_str("</div>");
    page(&user, "Reverse DNS lookup", "/rdns", &body)
}

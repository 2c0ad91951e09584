//! The device inventory (search, filters, sorting, paging, CSV export) and the device page
//! (modules slot by slot, interfaces, neighbours, hotfixes, software, history).

use super::html::{esc, input, json_table, link, opt, select, table, url_encode};
use super::{ConsoleUser, error_page, page, when};
use crate::api::devices;
use crate::api::views::DeviceView;
use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::{Id, Params};
use axum::extract::State;
use axum::response::Response;
use otsensor_core::device::Attributes;
use otsensor_store::StoredDevice;
use std::fmt::Write;

/// The filter parameters the inventory keeps across sorting and paging links.
const FILTERS: [&str; 6] = ["q", "type", "vendor", "protocol", "subnet", "top_level"];

const TYPE_OPTIONS: [(&str, &str); 10] = [
    ("", "any type"),
    ("plc", "PLC"),
    ("io_module", "I/O module"),
    ("communication_adapter", "communication adapter"),
    ("hmi", "HMI"),
    ("building_controller", "building controller"),
    ("drive", "drive"),
    ("switch", "switch"),
    ("workstation", "workstation"),
    ("other", "other"),
];

const PROTOCOL_OPTIONS: [(&str, &str); 8] = [
    ("", "any protocol"),
    ("modbus", "Modbus"),
    ("s7", "S7"),
    ("enip", "EtherNet/IP"),
    ("bacnet", "BACnet"),
    ("snmp", "SNMP"),
    ("dns", "DNS"),
    ("wmi", "WMI"),
];

/// The columns of the inventory: header and the sort key it orders by, if any.
const COLUMNS: [(&str, Option<&str>); 14] = [
    ("Name", Some("name")),
    ("IP", Some("ip")),
    ("MAC", None),
    ("Type", Some("type")),
    ("Vendor", Some("vendor")),
    ("Model", None),
    ("Firmware", None),
    ("Serial", None),
    ("OS", None),
    ("Protocols", None),
    ("FQDN", None),
    ("FQDN last lookup", None),
    ("First seen", Some("first_seen")),
    ("Last activity", Some("last_seen")),
];

/// The query string of the current filters plus `extra` pairs.
fn query_with(params: &Params, extra: &[(&str, String)]) -> String {
    let mut parts: Vec<String> = FILTERS
        .iter()
        .filter(|k| !extra.iter().any(|(e, _)| e == *k))
        .filter_map(|k| params.text(k).map(|v| format!("{k}={}", url_encode(v))))
        .collect();
    for keep in ["sort", "order", "per_page"] {
        if let Some(v) = params
            .text(keep)
            .filter(|_| !extra.iter().any(|(e, _)| *e == keep))
        {
            parts.push(format!("{keep}={}", url_encode(v)));
        }
    }
    parts.extend(extra.iter().map(|(k, v)| format!("{k}={}", url_encode(v))));
    parts.join("&")
}

/// `GET /devices?q=&type=&vendor=&protocol=&subnet=&top_level=&sort=&order=&page=&per_page=`.
pub async fn inventory(
    State(state): State<AppState>,
    user: ConsoleUser,
    params: Params,
) -> Response {
    let result = devices::list_page(&state, &params).await;
    let (devices, total, page_no, per_page, error) = match result {
        Ok(p) => (p.items, p.total, p.page, p.per_page, None),
        Err(e) => (Vec::new(), 0, 1, 50, Some(e)),
    };
    let mut body = filter_form(&params, error.as_ref());
    let _ = write!(
        body,
        "<p class=\"toolbar\"><span id=\"device-total\">{total} devices</span> \
         <a class=\"button\" id=\"export-csv\" href=\"/api/devices/export?{}\" download>Export CSV</a></p>",
        esc(&query_with(&params, &[("format", "csv".into())]))
    );
    body.push_str(&device_table(&params, &devices));
    body.push_str(&pager(&params, total, page_no, per_page));
    page(&user, "Devices", "/devices", &body)
}

fn filter_form(params: &Params, error: Option<&ApiError>) -> String {
    let value = |k: &str| params.text(k).unwrap_or("").to_string();
    let top = if params.text("top_level") == Some("true") {
        " checked"
    } else {
        ""
    };
    let mut form = format!(
        "<form class=\"filters\" method=\"get\" action=\"/devices\" id=\"device-filters\">{}{}{}{}{}\
         <label class=\"field check\"><input type=\"checkbox\" name=\"top_level\" value=\"true\"{top}>\
         <span>top level only</span></label>",
        input(
            "Search",
            "q",
            "q",
            &value("q"),
            "type=\"search\" placeholder=\"name, address, serial...\""
        ),
        select("Type", "type", "type", &TYPE_OPTIONS, &value("type")),
        input("Vendor", "vendor", "vendor", &value("vendor"), ""),
        select(
            "Protocol",
            "protocol",
            "protocol",
            &PROTOCOL_OPTIONS,
            &value("protocol")
        ),
        input(
            "Subnet",
            "subnet",
            "subnet",
            &value("subnet"),
            "placeholder=\"10.0.0.0/24\""
        ),
    );
    for keep in ["sort", "order", "per_page"] {
        if let Some(v) = params.text(keep) {
            let _ = write!(
                form,
                "<input type=\"hidden\" name=\"{keep}\" value=\"{}\">",
                esc(v)
            );
        }
    }
    form.push_str("<button type=\"submit\">Filter</button></form>");
    if let Some(e) = error {
        // the server's error beside its field (the page's script moves it there)
        let _ = write!(
            form,
            "<p class=\"err server-err\" data-for=\"{}\">{}</p>",
            esc(e.field.as_deref().unwrap_or("form")),
            esc(&e.detail)
        );
    }
    form
}

fn device_table(params: &Params, devices: &[DeviceView]) -> String {
    let sort = params.text("sort").unwrap_or("ip");
    let descending = params.text("order") == Some("desc");
    let mut out =
        String::from("<div class=\"scroll\"><table class=\"data\" id=\"devices\"><thead><tr>");
    for (header, key) in COLUMNS {
        match key {
            Some(k) => {
                let order = if k == sort && !descending {
                    "desc"
                } else {
                    "asc"
                };
                let mark = match (k == sort, descending) {
                    (true, false) => " ▲",
                    (true, true) => " ▼",
                    _ => "",
                };
                let q = query_with(params, &[("sort", k.into()), ("order", order.into())]);
                let _ = write!(
                    out,
                    "<th><a href=\"/devices?{}\" data-sort=\"{k}\">{}{mark}</a></th>",
                    esc(&q),
                    esc(header)
                );
            }
            None => {
                let _ = write!(out, "<th>{}</th>", esc(header));
            }
        }
    }
    out.push_str("</tr></thead><tbody>");
    if devices.is_empty() {
        let _ = write!(
            out,
            "<tr><td class=\"empty\" colspan=\"{}\">no devices</td></tr>",
            COLUMNS.len()
        );
    }
    for d in devices {
        out.push_str(&device_row(d));
    }
    out.push_str("</tbody></table></div>");
    out
}

fn device_row(d: &DeviceView) -> String {
    let a = &d.attributes;
    let name = a
        .name
        .clone()
        .or_else(|| a.product_name.clone())
        .or_else(|| d.position.clone())
        .unwrap_or_else(|| d.key.clone());
    let cells = [
        link(&format!("/devices/{}", d.id), &name),
        opt(d.ip.as_deref()),
        esc(&a.mac.map(|m| m.to_string()).unwrap_or_default()),
        esc(a.device_type.map(|t| t.name()).unwrap_or("")),
        opt(a.best_vendor()),
        opt(a.model.as_deref().or(a.product_code.as_deref())),
        opt(a.firmware.as_deref()),
        opt(a.serial.as_deref()),
        esc(&a.os.as_ref().map(|o| o.summary()).unwrap_or_default()),
        esc(&protocols(a)),
        opt(a.fqdn.as_deref()),
        esc(&a.fqdn_looked_up.as_ref().map(when).unwrap_or_default()),
        esc(&when(&d.first_seen)),
        esc(&when(&d.last_seen)),
    ];
    let mut row = format!("<tr data-device=\"{}\">", d.id);
    for c in cells {
        let _ = write!(row, "<td>{c}</td>");
    }
    row.push_str("</tr>");
    row
}

fn protocols(a: &Attributes) -> String {
    a.protocols
        .iter()
        .map(|p| p.name())
        .collect::<Vec<_>>()
        .join(", ")
}

fn pager(params: &Params, total: u64, page_no: u64, per_page: u64) -> String {
    let pages = total.div_ceil(per_page.max(1)).max(1);
    let mut out = format!("<nav class=\"pager\">page {page_no} of {pages} ");
    let to = |n: u64| {
        format!(
            "/devices?{}",
            query_with(params, &[("page", n.to_string())])
        )
    };
    if page_no > 1 {
        let _ = write!(
            out,
            "<a href=\"{}\" rel=\"prev\">previous</a> ",
            esc(&to(page_no - 1))
        );
    }
    if page_no < pages {
        let _ = write!(
            out,
            "<a href=\"{}\" rel=\"next\">next</a>",
            esc(&to(page_no + 1))
        );
    }
    out.push_str("</nav>");
    out
}

/// `GET /devices/{id}`: everything the inventory knows of one device.
pub async fn device_page(
    State(state): State<AppState>,
    user: ConsoleUser,
    id: Result<Id, ApiError>,
) -> Response {
    let detail = async {
        let Id(id) = id?;
        let device = state
            .store
            .device_by_id(id)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("no device {id}")))?;
        let below = state.store.descendants(id).await?;
        let history = state.store.history(&device.device.key).await?;
        Ok::<_, ApiError>((device, below, history))
    }
    .await;
    let (device, below, history) = match detail {
        Ok(d) => d,
        Err(e) => return error_page(&user, e),
    };
    let a = &device.device.attributes;
    let title = a
        .name
        .clone()
        .or_else(|| a.product_name.clone())
        .unwrap_or_else(|| device.device.key.to_string());
    let mut body = identity(&device);
    body.push_str("<h2>Modules</h2>");
    body.push_str(&rack(device.id, &below));
    section(&mut body, "Interfaces", &a.interfaces);
    section(&mut body, "Neighbours", &a.neighbors);
    if !a.seen_on.is_empty() {
        section(&mut body, "Seen on switch ports", &a.seen_on);
    }
    section(&mut body, "Hotfixes", &a.hotfixes);
    section(&mut body, "Software", &a.software);
    body.push_str("<h2>History</h2>");
    let rows: Vec<Vec<String>> = history
        .iter()
        .map(|h| {
            vec![
                esc(&when(&h.at)),
                esc(&h.attribute),
                opt(h.old.as_deref()),
                esc(&h.new),
                esc(h.source.name()),
                link(&format!("/runs/{}", h.run.0), &format!("run {}", h.run.0)),
            ]
        })
        .collect();
    body.push_str(&table(
        "data",
        &["When", "Attribute", "Before", "After", "Source", "Run"],
        &rows,
    ));
    page(&user, &title, "/devices", &body)
}

fn identity(d: &StoredDevice) -> String {
    let a = &d.device.attributes;
    let mut fields: Vec<(&str, String)> = vec![
        ("Key", d.device.key.to_string()),
        (
            "IP",
            d.device.ip().map(|i| i.to_string()).unwrap_or_default(),
        ),
        ("MAC", a.mac.map(|m| m.to_string()).unwrap_or_default()),
        (
            "Type",
            a.device_type
                .map(|t| t.name().to_string())
                .unwrap_or_default(),
        ),
        ("Vendor", a.best_vendor().unwrap_or_default().to_string()),
        ("Model", a.model.clone().unwrap_or_default()),
        ("Product name", a.product_name.clone().unwrap_or_default()),
        ("Product code", a.product_code.clone().unwrap_or_default()),
        ("Firmware", a.firmware.clone().unwrap_or_default()),
        ("Hardware", a.hardware.clone().unwrap_or_default()),
        ("Serial", a.serial.clone().unwrap_or_default()),
        (
            "PLC mode",
            a.plc_mode.map(|m| m.name().to_string()).unwrap_or_default(),
        ),
        ("OS", a.os.as_ref().map(|o| o.summary()).unwrap_or_default()),
        ("Domain", a.domain.clone().unwrap_or_default()),
        ("FQDN", a.fqdn.clone().unwrap_or_default()),
        (
            "FQDN last lookup",
            a.fqdn_looked_up.as_ref().map(when).unwrap_or_default(),
        ),
        ("Protocols", protocols(a)),
        ("Location", a.location.clone().unwrap_or_default()),
        ("Description", a.description.clone().unwrap_or_default()),
        (
            "Access port",
            a.access_port
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
        ),
        ("First seen", when(&d.device.first_seen)),
        ("Last activity", when(&d.device.last_seen)),
    ];
    fields.retain(|(_, v)| !v.is_empty());
    let mut out = String::from("<dl class=\"identity\" id=\"identity\">");
    for (k, v) in fields {
        let _ = write!(
            out,
            "<dt>{}</dt><dd data-attr=\"{}\">{}</dd>",
            esc(k),
            esc(k),
            esc(&v)
        );
    }
    if let Some(parent) = d.parent {
        let _ = write!(
            out,
            "<dt>Part of</dt><dd>{}</dd>",
            link(&format!("/devices/{parent}"), &format!("device {parent}"))
        );
    }
    out.push_str("</dl>");
    out
}

/// The modules, units or routed devices directly below `root`, slot by slot like a rack.
fn rack(root: i64, below: &[StoredDevice]) -> String {
    let mut children: Vec<&StoredDevice> =
        below.iter().filter(|d| d.parent == Some(root)).collect();
    if children.is_empty() {
        return "<p class=\"empty\">no modules</p>".into();
    }
    children.sort_by_key(|d| slot_number(d).unwrap_or(u64::MAX));
    let mut out = String::from("<div class=\"rack\" id=\"rack\">");
    for c in children {
        let a = &c.device.attributes;
        let position = c
            .device
            .key
            .position()
            .map(|p| p.to_string())
            .unwrap_or_default();
        let label = a
            .model
            .clone()
            .or_else(|| a.product_name.clone())
            .or_else(|| a.name.clone())
            .unwrap_or_else(|| "module".into());
        let _ = write!(
            out,
            "<a class=\"slot\" href=\"/devices/{}\"><span class=\"pos\">{}</span><strong>{}</strong>\
             <span>{}</span><span>{}</span><span>{}</span></a>",
            c.id,
            esc(&position),
            esc(&label),
            opt(a.product_code.as_deref()),
            esc(&a
                .firmware
                .as_deref()
                .map(|f| format!("fw {f}"))
                .unwrap_or_default()),
            esc(&a
                .serial
                .as_deref()
                .map(|s| format!("s/n {s}"))
                .unwrap_or_default()),
        );
    }
    out.push_str("</div>");
    out
}

fn slot_number(d: &StoredDevice) -> Option<u64> {
    let p = d.device.key.position()?.to_string();
    p.rsplit(':').next()?.parse().ok()
}

fn section<T: serde::Serialize>(body: &mut String, title: &str, items: &[T]) {
    let _ = write!(body, "<h2>{}</h2>", esc(title));
    let values: Vec<serde_json::Value> = items
        .iter()
        .filter_map(|i| serde_json::to_value(i).ok())
        .collect();
    body.push_str(&json_table(&values));
}

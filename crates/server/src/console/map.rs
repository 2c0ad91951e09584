//! The device map: an SVG graph of the top-level devices grouped by subnet, switches first, with
//! the links switch discovery stored (LLDP/CDP neighbours, stations on access ports) drawn between
//! them and labelled with the port; every node links to its device page.

use super::html::esc;
use super::{ConsoleUser, error_page, page};
use crate::app::AppState;
use crate::error::ApiError;
use axum::extract::State;
use axum::response::Response;
use otsensor_core::DeviceType;
use otsensor_store::{DeviceFilter, DeviceSort, StoredDevice, StoredLink};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::net::IpAddr;

/// Most devices drawn.
const MAX_NODES: u64 = 5000;
/// Nodes per row inside a subnet.
const COLUMNS: usize = 10;
const CELL_W: usize = 124;
const CELL_H: usize = 62;
const NODE_W: usize = 112;
const NODE_H: usize = 44;
const MARGIN: usize = 16;
const GROUP_HEAD: usize = 28;

/// The subnet a device is grouped under: its /24 (IPv4), /64 (IPv6), or "no address".
fn subnet_of(ip: Option<IpAddr>) -> String {
    match ip {
        Some(IpAddr::V4(v4)) => {
            let o = v4.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        None => "no address".into(),
    }
}

fn label_of(d: &StoredDevice) -> String {
    let a = &d.device.attributes;
    let text = a
        .name
        .clone()
        .or_else(|| a.model.clone())
        .or_else(|| a.product_name.clone())
        .or_else(|| a.best_vendor().map(str::to_string))
        .unwrap_or_else(|| "device".into());
    text.chars().take(16).collect()
}

/// Orders ports naturally: `2` before `10`, `Gi1/0/2` before `Gi1/0/10`.
fn port_sort_key(port: &str) -> (String, u64) {
    let digits: String = port
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let head = port[..port.len() - digits.len()].to_string();
    (head, digits.parse().unwrap_or(0))
}

/// `GET /map`.
pub async fn map_page(State(state): State<AppState>, user: ConsoleUser) -> Response {
    let data = async {
        let filter = DeviceFilter {
            top_level: true,
            ..DeviceFilter::default()
        };
        let devices = state
            .store
            .list_devices(&filter, DeviceSort::Ip, false, 0, MAX_NODES)
            .await?;
        let links = state.store.links(false).await?;
        let contained = state.store.containment_links().await?;
        Ok::<_, ApiError>((devices.devices, links, contained))
    }
    .await;
    let (devices, links, contained) = match data {
        Ok(d) => d,
        Err(e) => return error_page(&user, e),
    };
    let body = if devices.is_empty() {
        "<p class=\"empty\" id=\"map-empty\">No devices yet: run a switch or PLC discovery.</p>"
            .to_string()
    } else {
        draw(&devices, &links, &contained)
    };
    page(&user, "Device map", "/map", &body)
}

/// The SVG of the map.
fn draw(devices: &[StoredDevice], links: &[StoredLink], contained: &[(i64, i64)]) -> String {
    let reporters: std::collections::BTreeSet<String> =
        links.iter().map(|l| l.link.device.to_string()).collect();
    let is_switch = |d: &StoredDevice| {
        d.device.attributes.device_type == Some(DeviceType::Switch)
            || reporters.contains(&d.device.key.to_string())
    };
    // a device without an address sits with the switch it was seen behind
    let names: HashMap<String, String> = devices
        .iter()
        .map(|d| (d.device.key.to_string(), label_of(d)))
        .collect();
    let behind: HashMap<String, (String, String)> = links
        .iter()
        .filter_map(|l| {
            let remote = l.link.remote.as_ref()?.to_string();
            let switch = l.link.device.to_string();
            Some((remote, (switch, l.link.port.clone().unwrap_or_default())))
        })
        .collect();
    let mut groups: BTreeMap<String, Vec<&StoredDevice>> = BTreeMap::new();
    for d in devices {
        let group = match (d.device.ip(), behind.get(&d.device.key.to_string())) {
            (None, Some((switch, _))) => format!(
                "behind {} (no address)",
                names.get(switch).cloned().unwrap_or_else(|| switch.clone())
            ),
            (ip, _) => subnet_of(ip),
        };
        groups.entry(group).or_default().push(d);
    }
    // in a group: switches first, then by the port they were seen on
    let port_of = |d: &StoredDevice| {
        behind
            .get(&d.device.key.to_string())
            .map(|(_, p)| p.clone())
            .unwrap_or_default()
    };
    let mut modules: HashMap<i64, usize> = HashMap::new();
    for (parent, _) in contained {
        *modules.entry(*parent).or_default() += 1;
    }
    let width = MARGIN * 2 + COLUMNS * CELL_W;
    let mut y = MARGIN;
    let mut centres: HashMap<String, (usize, usize)> = HashMap::new();
    let mut nodes = String::new();
    let mut frames = String::new();
    for (subnet, mut members) in groups {
        members.sort_by_key(|d| (!is_switch(d), port_sort_key(&port_of(d))));
        let rows = members.len().div_ceil(COLUMNS);
        let height = GROUP_HEAD + rows * CELL_H + 8;
        let _ = write!(
            frames,
            "<g class=\"subnet\"><rect x=\"{}\" y=\"{y}\" width=\"{}\" height=\"{height}\" rx=\"6\"/>\
             <text x=\"{}\" y=\"{}\" class=\"subnet-name\">{} ({} devices)</text></g>",
            MARGIN / 2,
            width - MARGIN,
            MARGIN,
            y + 18,
            esc(&subnet),
            members.len()
        );
        for (i, d) in members.iter().enumerate() {
            let x = MARGIN + (i % COLUMNS) * CELL_W;
            let ny = y + GROUP_HEAD + (i / COLUMNS) * CELL_H;
            centres.insert(d.device.key.to_string(), (x + NODE_W / 2, ny + NODE_H / 2));
            let class = if is_switch(d) { "node switch" } else { "node" };
            let ip = d
                .device
                .ip()
                .map(|i| i.to_string())
                .or_else(|| d.device.attributes.mac.map(|m| m.to_string()))
                .unwrap_or_default();
            let extra = modules
                .get(&d.id)
                .map(|n| format!(" +{n}"))
                .unwrap_or_default();
            let _ = write!(
                nodes,
                "<a href=\"/devices/{id}\" class=\"map-link\" data-device=\"{id}\"><g class=\"{class}\">\
                 <title>{title}</title><rect x=\"{x}\" y=\"{ny}\" width=\"{NODE_W}\" height=\"{NODE_H}\" rx=\"5\"/>\
                 <text x=\"{tx}\" y=\"{t1}\">{label}</text><text x=\"{tx}\" y=\"{t2}\" class=\"ip\">{ip}{extra}</text></g></a>",
                id = d.id,
                title = esc(&d.device.key.to_string()),
                tx = x + 6,
                t1 = ny + 18,
                t2 = ny + 35,
                label = esc(&label_of(d)),
                ip = esc(&ip),
                extra = esc(&extra),
            );
        }
        y += height + MARGIN;
    }
    let mut edges = String::new();
    for l in links {
        let Some(remote) = &l.link.remote else {
            continue;
        };
        let (Some(&(x1, y1)), Some(&(x2, y2))) = (
            centres.get(&l.link.device.to_string()),
            centres.get(&remote.to_string()),
        ) else {
            continue;
        };
        let port = l
            .link
            .port
            .as_deref()
            .map(|p| format!("port {p}"))
            .unwrap_or_default();
        let _ = write!(
            edges,
            "<g class=\"edge {}\"><line x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\"/>\
             <text x=\"{}\" y=\"{}\">{}</text></g>",
            esc(l.link.kind.name()),
            x2 + 4,
            y2.saturating_sub(NODE_H / 2 + 2),
            esc(&port)
        );
    }
    format!(
        "<p class=\"note\">Switches first in each subnet; lines are links switch discovery saw, labelled with the switch port. Click a device to open it.</p>\
         <div class=\"scroll map\"><svg id=\"device-map\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{y}\" viewBox=\"0 0 {width} {y}\">\
         {frames}<g class=\"edges\">{edges}</g>{nodes}</svg></div>"
    )
}

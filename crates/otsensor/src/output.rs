//! Device output: an aligned table, JSON Lines with the contract's keys, or CSV.

use crate::cli::Format;
use otsensor_core::{Device, DeviceKey, Position};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// One device as JSON Lines and CSV show it (DESIGN.md's keys, plus a few more).
#[derive(Debug, Serialize)]
pub struct DeviceRecord {
    ip: Option<String>,
    mac: Option<String>,
    name: Option<String>,
    fqdn: Option<String>,
    fqdn_last_lookup: Option<String>,
    #[serde(rename = "type")]
    device_type: Option<&'static str>,
    vendor: Option<String>,
    model: Option<String>,
    product_name: Option<String>,
    product_code: Option<String>,
    firmware: Option<String>,
    hardware: Option<String>,
    serial: Option<String>,
    plc_mode: Option<&'static str>,
    vendor_url: Option<String>,
    application: Option<String>,
    software_version: Option<String>,
    location: Option<String>,
    description: Option<String>,
    os: Option<Value>,
    domain: Option<String>,
    protocols: Vec<&'static str>,
    modules: Vec<DeviceRecord>,
    interfaces: Vec<Value>,
    neighbors: Vec<Value>,
    mac_vendor: Option<String>,
    access_port: Option<Value>,
    seen_on: Vec<Value>,
    switch_tables: Option<Value>,
    hotfixes: Vec<Value>,
    software: Vec<Value>,
    parent: Option<String>,
    slot: Option<u16>,
    unit_id: Option<u8>,
    position: Option<String>,
    first_seen: String,
    last_seen: String,
}

impl DeviceRecord {
    fn new(device: &Device, children: &BTreeMap<DeviceKey, Vec<&Device>>) -> DeviceRecord {
        let a = &device.attributes;
        let position = device.key.position();
        DeviceRecord {
            ip: device.ip().map(|ip| ip.to_string()),
            mac: a.mac.map(|m| m.to_string()),
            name: a.name.clone(),
            fqdn: a.fqdn.clone(),
            fqdn_last_lookup: a.fqdn_looked_up.map(|t| t.to_string()),
            device_type: a.device_type.map(|t| t.name()),
            vendor: a.best_vendor().map(str::to_string),
            model: a.model.clone(),
            product_name: a.product_name.clone(),
            product_code: a.product_code.clone(),
            firmware: a.firmware.clone(),
            hardware: a.hardware.clone(),
            serial: a.serial.clone(),
            plc_mode: a.plc_mode.map(|m| m.name()),
            vendor_url: a.vendor_url.clone(),
            application: a.application.clone(),
            software_version: a.software_version.clone(),
            location: a.location.clone(),
            description: a.description.clone(),
            os: None,
            domain: None,
            protocols: a.protocols.iter().map(|p| p.name()).collect(),
            modules: children
                .get(&device.key)
                .map(|kids| {
                    kids.iter()
                        .map(|k| DeviceRecord::new(k, children))
                        .collect()
                })
                .unwrap_or_default(),
            interfaces: to_values(&a.interfaces),
            neighbors: to_values(&a.neighbors),
            mac_vendor: a.mac_vendor.clone(),
            access_port: a
                .access_port
                .as_ref()
                .and_then(|p| serde_json::to_value(p).ok()),
            seen_on: to_values(&a.seen_on),
            switch_tables: a
                .switch_tables
                .as_ref()
                .and_then(|t| serde_json::to_value(t).ok()),
            hotfixes: Vec::new(),
            software: Vec::new(),
            parent: device.key.parent().map(parent_label),
            slot: match position {
                Some(Position::Slot(n)) => Some(*n),
                _ => None,
            },
            unit_id: match position {
                Some(Position::UnitId(n)) => Some(*n),
                _ => None,
            },
            position: position.map(ToString::to_string),
            first_seen: device.first_seen.to_string(),
            last_seen: device.last_seen.to_string(),
        }
    }
}

fn to_values<T: Serialize>(items: &[T]) -> Vec<Value> {
    items
        .iter()
        .filter_map(|i| serde_json::to_value(i).ok())
        .collect()
}

/// How a parent is named in output: its address, or its key for a nested sub-device.
fn parent_label(key: &DeviceKey) -> String {
    match key {
        DeviceKey::Ip(ip) => ip.to_string(),
        other => other.to_string(),
    }
}

/// Writes `devices` (parents before children) in `format`.
pub fn write_devices(out: &mut dyn Write, devices: &[Device], format: Format) -> io::Result<()> {
    let mut children: BTreeMap<DeviceKey, Vec<&Device>> = BTreeMap::new();
    for d in devices {
        if let Some(parent) = d.key.parent() {
            children.entry(parent.clone()).or_default().push(d);
        }
    }
    match format {
        Format::Json => write_json(out, devices, &children),
        Format::Csv => write_csv(out, devices, &children),
        Format::Table => write_table(out, devices),
    }
}

fn write_json(
    out: &mut dyn Write,
    devices: &[Device],
    children: &BTreeMap<DeviceKey, Vec<&Device>>,
) -> io::Result<()> {
    for d in devices {
        serde_json::to_writer(&mut *out, &DeviceRecord::new(d, children))?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

const CSV_HEADER: [&str; 23] = [
    "ip",
    "parent",
    "position",
    "mac",
    "name",
    "fqdn",
    "type",
    "vendor",
    "model",
    "product_name",
    "product_code",
    "firmware",
    "serial",
    "plc_mode",
    "vendor_url",
    "application",
    "protocols",
    "first_seen",
    "last_seen",
    "mac_vendor",
    "switch",
    "switch_port",
    "vlan",
];

fn write_csv(
    out: &mut dyn Write,
    devices: &[Device],
    children: &BTreeMap<DeviceKey, Vec<&Device>>,
) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(CSV_HEADER)?;
    for d in devices {
        let r = DeviceRecord::new(d, children);
        let access = d.attributes.access_port.as_ref();
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        w.write_record([
            opt(&r.ip),
            opt(&r.parent),
            opt(&r.position),
            opt(&r.mac),
            opt(&r.name),
            opt(&r.fqdn),
            r.device_type.unwrap_or_default().to_string(),
            opt(&r.vendor),
            opt(&r.model),
            opt(&r.product_name),
            opt(&r.product_code),
            opt(&r.firmware),
            opt(&r.serial),
            r.plc_mode.unwrap_or_default().to_string(),
            opt(&r.vendor_url),
            opt(&r.application),
            r.protocols.join(";"),
            r.first_seen,
            r.last_seen,
            opt(&r.mac_vendor),
            access.map(|p| p.switch.to_string()).unwrap_or_default(),
            access.and_then(|p| p.port.clone()).unwrap_or_default(),
            access
                .and_then(|p| p.vlan)
                .map(|v| v.to_string())
                .unwrap_or_default(),
        ])?;
    }
    w.flush()
}

fn write_table(out: &mut dyn Write, devices: &[Device]) -> io::Result<()> {
    let header = [
        "ADDRESS",
        "VENDOR",
        "MODEL",
        "PRODUCT CODE",
        "FIRMWARE",
        "NAME",
        "PROTOCOLS",
    ];
    let rows: Vec<[String; 7]> = devices.iter().map(table_row).collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    write_row(out, &header.map(String::from), &widths)?;
    for row in &rows {
        write_row(out, row, &widths)?;
    }
    Ok(())
}

fn table_row(d: &Device) -> [String; 7] {
    let a = &d.attributes;
    let address = match (d.ip(), d.key.position()) {
        (Some(ip), Some(pos)) => format!("{ip} {pos}"),
        (Some(ip), None) => ip.to_string(),
        (None, _) => a.mac.map(|m| m.to_string()).unwrap_or_default(),
    };
    let text = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let name = a.name.clone().or_else(|| a.application.clone());
    [
        address,
        a.best_vendor().unwrap_or("-").to_string(),
        text(&a.model),
        text(&a.product_code),
        text(&a.firmware),
        text(&name),
        a.protocols
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join(","),
    ]
}

fn write_row(out: &mut dyn Write, cells: &[String; 7], widths: &[usize; 7]) -> io::Result<()> {
    let mut line = String::new();
    for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
        if i + 1 == cells.len() {
            line.push_str(cell);
        } else {
            line.push_str(&format!("{cell:<w$}  "));
        }
    }
    writeln!(out, "{}", line.trim_end())
}

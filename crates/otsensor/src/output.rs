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
    vendor_id: Option<u32>,
    bacnet_instance: Option<u32>,
    type_name: Option<String>,
    reported_ip: Option<String>,
    status: Option<String>,
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
    first_seen: Option<String>,
    last_seen: Option<String>,
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
            vendor_id: a.vendor_id,
            bacnet_instance: a.bacnet_instance,
            type_name: a.type_name.clone(),
            reported_ip: a.reported_ip.map(|ip| ip.to_string()),
            status: a.status.clone(),
            os: a.os.as_ref().map(|os| {
                serde_json::json!({
                    "name": os.name,
                    "version": os.version,
                    "build": os.build,
                    "service_pack": os.service_pack,
                    "architecture": os.architecture,
                    "installed": os.installed.map(|t| t.to_string()),
                    "last_boot": os.last_boot.map(|t| t.to_string()),
                })
            }),
            domain: a.domain.clone(),
            protocols: a.protocols.iter().map(|p| p.name()).collect(),
            modules: children
                .get(&device.key)
                .map(|kids| {
                    kids.iter()
                        .map(|k| DeviceRecord::new(k, children))
                        .collect()
                })
                .unwrap_or_default(),
            interfaces: a.interfaces.iter().map(to_value).collect(),
            neighbors: a.neighbors.iter().map(to_value).collect(),
            mac_vendor: a.mac_vendor.clone(),
            access_port: a.access_port.as_ref().map(to_value),
            seen_on: a.seen_on.iter().map(to_value).collect(),
            switch_tables: a.switch_tables.as_ref().map(to_value),
            hotfixes: a.hotfixes.iter().map(to_value).collect(),
            software: a.software.iter().map(to_value).collect(),
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
            first_seen: Some(device.first_seen.to_string()),
            last_seen: Some(device.last_seen.to_string()),
        }
    }
}

fn to_value<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
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

const CSV_HEADER: [&str; 28] = [
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
    "vendor_id",
    "bacnet_instance",
    "type_name",
    "status",
    "reported_ip",
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
            r.vendor_id.map(|n| n.to_string()).unwrap_or_default(),
            r.bacnet_instance.map(|n| n.to_string()).unwrap_or_default(),
            opt(&r.type_name),
            opt(&r.status),
            opt(&r.reported_ip),
            r.protocols.join(";"),
            r.first_seen.unwrap_or_default(),
            r.last_seen.unwrap_or_default(),
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

/// One looked-up address as `otsensor rdns` shows it: the device (from the inventory, or made
/// of the lookup alone) and how the lookup ended.
#[derive(Debug)]
pub struct LookupRow {
    /// The device after the run; first and last seen are shown only for inventory devices.
    pub device: Device,
    /// Whether the address is a device of the inventory.
    pub in_inventory: bool,
    /// The lookup status (`found`, `nxdomain`, `timeout`, ...).
    pub status: &'static str,
    /// Every name found (the FQDN is the first).
    pub names: Vec<String>,
    /// CNAMEs followed (RFC 2317).
    pub aliases: Vec<String>,
    /// The failure in words, for statuses other than found.
    pub detail: Option<String>,
}

/// A [`LookupRow`] as JSON: the device keys of DESIGN.md, then the lookup's.
#[derive(Debug, Serialize)]
struct LookupRecord<'a> {
    #[serde(flatten)]
    device: DeviceRecord,
    in_inventory: bool,
    status: &'a str,
    names: &'a [String],
    aliases: &'a [String],
    detail: Option<&'a str>,
}

impl<'a> LookupRecord<'a> {
    fn new(row: &'a LookupRow) -> LookupRecord<'a> {
        let mut device = DeviceRecord::new(&row.device, &BTreeMap::new());
        if !row.in_inventory {
            device.first_seen = None;
            device.last_seen = None;
        }
        LookupRecord {
            device,
            in_inventory: row.in_inventory,
            status: row.status,
            names: &row.names,
            aliases: &row.aliases,
            detail: row.detail.as_deref(),
        }
    }
}

/// Writes the rows of `otsensor rdns` in `format`, one at a time (the table needs them all for
/// its widths).
pub fn write_lookups(
    out: &mut dyn Write,
    rows: impl Iterator<Item = LookupRow>,
    format: Format,
) -> io::Result<()> {
    match format {
        Format::Json => {
            for row in rows {
                serde_json::to_writer(&mut *out, &LookupRecord::new(&row))?;
                out.write_all(b"\n")?;
            }
            Ok(())
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record([
                "ip",
                "status",
                "name",
                "fqdn",
                "names",
                "fqdn_last_lookup",
                "in_inventory",
                "detail",
            ])?;
            for row in rows {
                let a = &row.device.attributes;
                w.write_record([
                    row.device.ip().map(|ip| ip.to_string()).unwrap_or_default(),
                    row.status.to_string(),
                    a.name.clone().unwrap_or_default(),
                    a.fqdn.clone().unwrap_or_default(),
                    row.names.join(";"),
                    a.fqdn_looked_up.map(|t| t.to_string()).unwrap_or_default(),
                    row.in_inventory.to_string(),
                    row.detail.clone().unwrap_or_default(),
                ])?;
            }
            w.flush()
        }
        Format::Table => {
            let header = ["ADDRESS", "STATUS", "NAME", "FQDN", "NOTE"].map(String::from);
            let cells: Vec<[String; 5]> = rows.map(|r| lookup_cells(&r)).collect();
            let mut widths = [0usize; 5];
            for row in std::iter::once(&header).chain(&cells) {
                for (w, cell) in widths.iter_mut().zip(row) {
                    *w = (*w).max(cell.chars().count());
                }
            }
            for row in std::iter::once(&header).chain(&cells) {
                let mut line = String::new();
                for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
                    if i + 1 == row.len() {
                        line.push_str(cell);
                    } else {
                        line.push_str(&format!("{cell:<w$}  "));
                    }
                }
                writeln!(out, "{}", line.trim_end())?;
            }
            Ok(())
        }
    }
}

fn lookup_cells(row: &LookupRow) -> [String; 5] {
    let a = &row.device.attributes;
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let fqdn = match row.names.as_slice() {
        [] => dash(&a.fqdn),
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} (+{} more)", rest.len()),
    };
    let note = match (row.status, &row.detail) {
        ("found", _) if !row.aliases.is_empty() => format!("via {}", row.aliases.join(" -> ")),
        ("found" | "nxdomain" | "nodata", _) => String::new(),
        (_, Some(detail)) => detail.clone(),
        _ => String::new(),
    };
    [
        row.device.ip().map(|ip| ip.to_string()).unwrap_or_default(),
        row.status.to_string(),
        dash(&a.name),
        fqdn,
        note,
    ]
}

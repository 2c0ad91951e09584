//! The devices list's page written as JSON text directly: the same document as
//! `Page<DeviceView>`, byte for byte, but each device's attributes are copied from the store's
//! JSON text (always in the form this build writes, see [`ListedDevice`]) instead of being read
//! into a value and written again. A 1,000-device page spends most of its time there otherwise.

use otsensor_store::{ListedDevice, ListedPage};
use serde::Serialize;
use std::io::Write;

/// Typical JSON length of a device apart from its attributes (id, key, address, times, link).
const DEVICE_FRAME_BYTES: usize = 256;

/// The page as `{"total":..,"page":..,"per_page":..,"items":[...]}`.
pub fn page_json(page: &ListedPage, number: u64, per_page: u64) -> Vec<u8> {
    let capacity = page
        .devices
        .iter()
        .map(|d| d.attributes_json.len() + DEVICE_FRAME_BYTES)
        .sum::<usize>()
        + 64;
    let mut out = JsonText(Vec::with_capacity(capacity));
    out.raw("{\"total\":");
    out.number(page.total);
    out.raw(",\"page\":");
    out.number(number);
    out.raw(",\"per_page\":");
    out.number(per_page);
    out.raw(",\"items\":[");
    for (i, device) in page.devices.iter().enumerate() {
        if i > 0 {
            out.raw(",");
        }
        write_device(&mut out, device);
    }
    out.raw("]}");
    out.0
}

/// One device in `DeviceView`'s shape: id, key, parent_id, ip, position, the attributes,
/// first_seen, last_seen, self.
fn write_device(out: &mut JsonText, d: &ListedDevice) {
    out.raw("{\"id\":");
    out.number(d.id);
    out.raw(",\"key\":");
    out.value(&d.key.to_string());
    out.raw(",\"parent_id\":");
    out.value(&d.parent);
    out.raw(",\"ip\":");
    out.value(&d.key.ip().map(|ip| ip.to_string()));
    out.raw(",\"position\":");
    out.value(&d.key.position().map(ToString::to_string));
    let members = object_members(&d.attributes_json);
    if !members.is_empty() {
        out.raw(",");
        out.raw(members);
    }
    out.raw(",\"first_seen\":");
    out.value(&d.first_seen);
    out.raw(",\"last_seen\":");
    out.value(&d.last_seen);
    out.raw(",\"self\":\"/api/devices/");
    out.number(d.id);
    out.raw("\"}");
}

/// The members of a JSON object's text, without its braces (the store checked it is one).
fn object_members(object: &str) -> &str {
    object
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or("")
}

/// JSON text being written into memory.
struct JsonText(Vec<u8>);

impl JsonText {
    /// Text that is JSON already.
    fn raw(&mut self, text: &str) {
        self.0.extend_from_slice(text.as_bytes());
    }

    /// A whole number.
    fn number(&mut self, n: impl std::fmt::Display) {
        write!(self.0, "{n}").expect("writing into memory cannot fail");
    }

    /// Any value, as serde_json writes it (strings escaped, `None` as null).
    fn value(&mut self, value: &impl Serialize) {
        serde_json::to_writer(&mut self.0, value).expect("these values always serialize");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::views::{DeviceView, Page};
    use jiff::Timestamp;
    use otsensor_core::device::{Attributes, DeviceType, MacAddr};
    use otsensor_core::{Device, DeviceKey, Protocol};
    use otsensor_store::StoredDevice;

    fn device(key: &str, parent: Option<i64>, id: i64, attributes: Attributes) -> StoredDevice {
        let at: Timestamp = "2026-11-23T10:11:12.5Z".parse().unwrap();
        StoredDevice {
            id,
            parent,
            device: Device {
                key: key.parse::<DeviceKey>().unwrap(),
                attributes,
                first_seen: at,
                last_seen: "2026-11-23T11:00:00Z".parse().unwrap(),
            },
        }
    }

    fn listed(d: &StoredDevice) -> ListedDevice {
        ListedDevice {
            id: d.id,
            parent: d.parent,
            key: d.device.key.clone(),
            attributes_json: serde_json::to_string(&d.device.attributes).unwrap(),
            first_seen: d.device.first_seen,
            last_seen: d.device.last_seen,
        }
    }

    #[test]
    fn a_page_is_the_document_the_views_give_byte_for_byte() {
        let plc = Attributes {
            mac: Some("00:1b:1b:aa:00:ff".parse::<MacAddr>().unwrap()),
            name: Some("line \"3\" \u{e9}\n".into()),
            device_type: Some(DeviceType::Plc),
            vendor: Some("Siemens".into()),
            protocols: [Protocol::S7].into(),
            mac_vendor: Some("Siemens AG".into()),
            ..Attributes::default()
        };
        let devices = [
            device("ip:127.0.0.20", None, 7, plc),
            device("ip:127.0.0.20/slot:3", Some(7), 9, Attributes::default()),
        ];
        let views = Page {
            total: 1234,
            page: 3,
            per_page: 2,
            items: devices.iter().map(DeviceView::from).collect(),
        };
        let page = ListedPage {
            devices: devices.iter().map(listed).collect(),
            total: 1234,
        };
        let written = String::from_utf8(page_json(&page, 3, 2)).unwrap();
        assert_eq!(written, serde_json::to_string(&views).unwrap());
    }

    #[test]
    fn an_empty_page_is_the_document_the_views_give() {
        let views: Page<DeviceView> = Page {
            total: 0,
            page: 1,
            per_page: 50,
            items: Vec::new(),
        };
        let page = ListedPage {
            devices: Vec::new(),
            total: 0,
        };
        let written = String::from_utf8(page_json(&page, 1, 50)).unwrap();
        assert_eq!(written, serde_json::to_string(&views).unwrap());
    }
}

//! The inventory: list with filters, sorting and paging; one device with its modules and
//! history; export as CSV or JSON; links for the device map.

use crate::api::views::{DeviceTree, DeviceView, HistoryView, Page, device_tree};
use crate::api::{Format, csv_error, download};
use crate::app::AppState;
use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Id, Params};
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use ipnet::IpNet;
use otsensor_core::LinkKind;
use otsensor_core::{DeviceType, Protocol};
use otsensor_store::{DeviceFilter, DeviceSort, StoredDevice};
use serde::Serialize;

/// Most devices one export holds.
pub const MAX_EXPORT: u64 = 1_000_000;

const TYPES: [DeviceType; 9] = [
    DeviceType::Plc,
    DeviceType::IoModule,
    DeviceType::CommunicationAdapter,
    DeviceType::Hmi,
    DeviceType::BuildingController,
    DeviceType::Drive,
    DeviceType::Switch,
    DeviceType::Workstation,
    DeviceType::Other,
];

/// Reads `type`, `vendor`, `protocol`, `subnet`, `q` and `top_level` from the query.
fn filter(params: &Params) -> ApiResult<DeviceFilter> {
    let device_type = match params.text("type") {
        None => None,
        Some(t) => Some(TYPES.into_iter().find(|d| d.name() == t).ok_or_else(|| {
            let names: Vec<&str> = TYPES.iter().map(|d| d.name()).collect();
            ApiError::invalid(
                "type",
                format!("{t:?}: expected one of {}", names.join(", ")),
            )
        })?),
    };
    let protocol = match params.text("protocol") {
        None => None,
        Some(p) => Some(Protocol::from_name(p).ok_or_else(|| {
            ApiError::invalid(
                "protocol",
                format!("{p:?}: expected modbus, s7, enip, bacnet, snmp, dns or wmi"),
            )
        })?),
    };
    let subnet = match params.text("subnet") {
        None => None,
        Some(s) => Some(
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| ApiError::invalid("subnet", format!("{s:?}: not a CIDR block")))?
                .trunc(),
        ),
    };
    Ok(DeviceFilter {
        device_type,
        vendor: params.text("vendor").map(str::to_string),
        protocol,
        subnet,
        text: params.text("q").map(str::to_string),
        top_level: params.parse("top_level", "true or false")?.unwrap_or(false),
    })
}

/// Reads `sort` (ip, vendor, type, name, first_seen, last_seen) and `order` (asc, desc).
fn sorting(params: &Params) -> ApiResult<(DeviceSort, bool)> {
    let sort = match params.text("sort") {
        None => DeviceSort::Ip,
        Some(s) => DeviceSort::from_name(s).ok_or_else(|| {
            ApiError::invalid(
                "sort",
                format!("{s:?}: expected ip, vendor, type, name, first_seen or last_seen"),
            )
        })?,
    };
    let descending = match params.text("order") {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(o) => {
            return Err(ApiError::invalid(
                "order",
                format!("{o:?}: expected asc or desc"),
            ));
        }
    };
    Ok((sort, descending))
}

/// What a devices list request asks for: filters, order and the page.
struct ListRequest {
    filter: DeviceFilter,
    sort: DeviceSort,
    descending: bool,
    offset: u64,
    limit: u64,
    page: u64,
    per_page: u64,
}

impl ListRequest {
    /// Reads the filters, `sort`, `order`, `page` and `per_page` (at most 1,000) from the query.
    fn from_params(params: &Params) -> ApiResult<ListRequest> {
        let filter = filter(params)?;
        let (sort, descending) = sorting(params)?;
        let (offset, limit, page, per_page) = params.paging(50, 1000)?;
        Ok(ListRequest {
            filter,
            sort,
            descending,
            offset,
            limit,
            page,
            per_page,
        })
    }
}

/// `GET /api/devices?type=&vendor=&protocol=&subnet=&q=&top_level=&sort=&order=&page=&per_page=`:
/// the [`list_page`] document, written by [`device_page`](crate::api::device_page) with each
/// device's stored attribute JSON copied in.
pub async fn list(State(state): State<AppState>, _: Viewer, params: Params) -> ApiResult<Response> {
    let r = ListRequest::from_params(&params)?;
    let result = state
        .store
        .list_devices_json(&r.filter, r.sort, r.descending, r.offset, r.limit)
        .await?;
    let body = crate::api::device_page::page_json(&result, r.page, r.per_page);
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// The page of devices `params` asks for (the console's inventory reads it as values).
pub async fn list_page(state: &AppState, params: &Params) -> ApiResult<Page<DeviceView>> {
    let r = ListRequest::from_params(params)?;
    let result = state
        .store
        .list_devices(&r.filter, r.sort, r.descending, r.offset, r.limit)
        .await?;
    Ok(Page {
        total: result.total,
        page: r.page,
        per_page: r.per_page,
        items: result.devices.into_iter().map(DeviceView::from).collect(),
    })
}

/// One device with everything the inventory knows of it.
#[derive(Debug, Serialize)]
pub struct DeviceDetail {
    /// The device and its modules, nested.
    #[serde(flatten)]
    pub tree: DeviceTree,
    /// Network interfaces (filled by WEM and switch discovery when they arrive).
    pub interfaces: Vec<serde_json::Value>,
    /// Neighbours seen by switches (switch discovery).
    pub neighbors: Vec<serde_json::Value>,
    /// Installed hotfixes (WEM).
    pub hotfixes: Vec<serde_json::Value>,
    /// Installed software (WEM).
    pub software: Vec<serde_json::Value>,
    /// Every attribute change, oldest first, with the run and protocol that saw it.
    pub history: Vec<HistoryView>,
}

/// `GET /api/devices/{id}`.
pub async fn get(
    State(state): State<AppState>,
    _: Viewer,
    Id(id): Id,
) -> ApiResult<Json<DeviceDetail>> {
    let device = state
        .store
        .device_by_id(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no device {id}")))?;
    let below = state.store.descendants(id).await?;
    let history = state.store.history(&device.device.key).await?;
    Ok(Json(DeviceDetail {
        tree: device_tree(DeviceView::from(&device), &below),
        interfaces: Vec::new(),
        neighbors: Vec::new(),
        hotfixes: Vec::new(),
        software: Vec::new(),
        history: history.iter().map(HistoryView::from).collect(),
    }))
}

/// The CSV columns of an export: the command line's columns, with the device id first.
const CSV_HEADER: [&str; 20] = [
    "id",
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
];

fn csv_row(d: &StoredDevice) -> [String; 20] {
    let a = &d.device.attributes;
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    [
        d.id.to_string(),
        d.device.ip().map(|ip| ip.to_string()).unwrap_or_default(),
        d.device
            .key
            .parent()
            .map(ToString::to_string)
            .unwrap_or_default(),
        d.device
            .key
            .position()
            .map(ToString::to_string)
            .unwrap_or_default(),
        a.mac.map(|m| m.to_string()).unwrap_or_default(),
        opt(&a.name),
        opt(&a.fqdn),
        a.device_type
            .map(|t| t.name().to_string())
            .unwrap_or_default(),
        opt(&a.vendor),
        opt(&a.model),
        opt(&a.product_name),
        opt(&a.product_code),
        opt(&a.firmware),
        opt(&a.serial),
        a.plc_mode.map(|m| m.name().to_string()).unwrap_or_default(),
        opt(&a.vendor_url),
        opt(&a.application),
        a.protocols
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join(";"),
        d.device.first_seen.to_string(),
        d.device.last_seen.to_string(),
    ]
}

/// `GET /api/devices/export?format=csv|json` with the list's filters and sorting, no paging.
pub async fn export(
    State(state): State<AppState>,
    _: Viewer,
    params: Params,
) -> ApiResult<Response> {
    let format = Format::from_params(&params)?;
    let filter = filter(&params)?;
    let (sort, descending) = sorting(&params)?;
    let result = state
        .store
        .list_devices(&filter, sort, descending, 0, MAX_EXPORT)
        .await?;
    match format {
        Format::Json => {
            let views: Vec<DeviceView> = result.devices.iter().map(DeviceView::from).collect();
            let body = serde_json::to_vec(&views)
                .map_err(|e| ApiError::internal(format!("writing JSON: {e}")))?;
            Ok(download(body, "application/json", "devices.json"))
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(CSV_HEADER).map_err(csv_error)?;
            for d in &result.devices {
                w.write_record(csv_row(d)).map_err(csv_error)?;
            }
            let body = w.into_inner().map_err(csv_error)?;
            Ok(download(body, "text/csv; charset=utf-8", "devices.csv"))
        }
    }
}

/// One link of the device map.
#[derive(Debug, Serialize)]
pub struct Link {
    /// The device at one end (the parent, or the switch that reported the link).
    pub source: i64,
    /// The device at the other end.
    pub target: i64,
    /// `contains` (a rack and its module, a gateway and a unit behind it), `neighbor` (an
    /// LLDP or CDP neighbour of a switch) or `access` (a device on a switch's access port,
    /// from its MAC table).
    pub kind: &'static str,
    /// For switch links: how it was learned, `lldp`, `cdp` or `mac_table`; null otherwise.
    pub protocol: Option<&'static str>,
    /// For switch links: the switch's port; null otherwise.
    pub port: Option<String>,
    /// For neighbour links: the neighbour's port as it names it.
    pub remote_port: Option<String>,
    /// The VLAN, when known.
    pub vlan: Option<u16>,
}

/// The device map's links.
#[derive(Debug, Serialize)]
pub struct Links {
    /// The links.
    pub links: Vec<Link>,
}

/// `GET /api/devices/links`: containment links, then the active links switch discovery
/// reported between devices of the inventory.
pub async fn links(State(state): State<AppState>, _: Viewer) -> ApiResult<impl IntoResponse> {
    let mut links: Vec<Link> = state
        .store
        .containment_links()
        .await?
        .into_iter()
        .map(|(parent, child)| Link {
            source: parent,
            target: child,
            kind: "contains",
            protocol: None,
            port: None,
            remote_port: None,
            vlan: None,
        })
        .collect();
    links.extend(state.store.link_edges().await?.into_iter().map(|e| {
        let (kind, protocol) = match e.kind {
            LinkKind::Lldp => ("neighbor", "lldp"),
            LinkKind::Cdp => ("neighbor", "cdp"),
            LinkKind::Access => ("access", "mac_table"),
        };
        Link {
            source: e.source,
            target: e.target,
            kind,
            protocol: Some(protocol),
            port: e.port,
            remote_port: e.remote_port,
            vlan: e.vlan,
        }
    }));
    Ok(Json(Links { links }))
}

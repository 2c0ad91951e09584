//! The devices list's query: filters, sorting and paging over the indexes of migration 0007,
//! with the results the plain query gives (the filters of [`DeviceFilter`], ordered by
//! `(col IS NULL), col, key, id`), without reading the devices that are not on the page.
//!
//! A page is read in two steps on one read transaction: the row ids of the page (one JSON array
//! in one row), then those devices by id (one joined row). The ids and the total come from
//! indexes alone:
//!
//! - the vendor and protocol filters become lists of the exact stored values that match (read by
//!   skipping through an index, one step per distinct value);
//! - the total is counted on the index of the most selective filter column, which holds the
//!   other filter columns too;
//! - a short list (at most [`SORT_APART_MAX`]) is read from that index and sorted; a longer one
//!   is read by walking the sort column's index in order, which holds every filter column, so
//!   the devices it passes over are never read; when a filter pins the sort column (type, vendor,
//!   subnet by address), the walk starts at its first match;
//! - a text search asks the trigram index `device_search` for a phrase, which finds exactly the
//!   devices whose key or attribute JSON contains the text (the rules that make it exact are in
//!   the migration and in [`search_phrase`]); a text it cannot answer is searched the plain way,
//!   with the LIKE on every device.

use crate::audit::escape_like;
use crate::codec::ip_sort_text;
use crate::devices::DeviceRow;
use crate::error::{Failure, Result};
use crate::inventory::{DeviceFilter, DeviceSort, IdDeviceRow};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};
use std::collections::HashMap;

/// Longest filtered list whose page is read from the filter's index and sorted apart; a longer
/// one is read in order from the sort index (measured at 100,000 devices: sorting 5,000 index
/// entries apart costs about what walking the whole sort index does).
const SORT_APART_MAX: u64 = 5_000;

/// Longest text-search result whose page is read by row id and sorted apart (each match costs
/// a read of its device); a longer one walks the sort index, testing each entry's id against the
/// matches.
const TEXT_SORT_APART_MAX: u64 = 2_000;

/// The filters as the indexes hold them.
#[derive(Debug, Default)]
struct Narrow {
    /// `devices.type`.
    device_type: Option<&'static str>,
    /// The stored vendors that contain the vendor filter's text: the JSON array, the least and
    /// the greatest.
    vendors: Option<(String, String, String)>,
    /// The stored `protocols` arrays that hold the protocol filter's protocol (JSON array).
    protocol_sets: Option<String>,
    /// First and last `ip_sort` of the subnet.
    subnet: Option<(String, String)>,
    /// Only devices without a parent.
    top_level: bool,
}

impl Narrow {
    /// The filter column index to count on (and to read a short list from): the most selective
    /// one the filter uses, or none.
    fn index(&self) -> Option<&'static str> {
        if self.subnet.is_some() {
            Some("devices_by_ip")
        } else if self.device_type.is_some() {
            Some("devices_by_type")
        } else if self.vendors.is_some() {
            Some("devices_by_vendor")
        } else if self.protocol_sets.is_some() {
            Some("devices_by_protocols")
        } else {
            None
        }
    }

    /// No filter at all.
    fn is_empty(&self) -> bool {
        self.device_type.is_none()
            && self.vendors.is_none()
            && self.protocol_sets.is_none()
            && self.subnet.is_none()
            && !self.top_level
    }

    /// Appends ` AND ...` for each filter to `query`. With `walk`, each test is written so
    /// that SQLite cannot seek an index with it (`+column`): the query walks its index in order
    /// and tests the entries.
    fn push_to(&self, query: &mut QueryBuilder<'_, Sqlite>, walk: bool) {
        let plus = if walk { "+" } else { "" };
        if let Some(t) = self.device_type {
            query.push(format!(" AND {plus}d.type = ")).push_bind(t);
        }
        if let Some((list, _, _)) = &self.vendors {
            query
                .push(format!(
                    " AND {plus}d.vendor IN (SELECT value FROM json_each("
                ))
                .push_bind(list.clone())
                .push("))");
        }
        if let Some(p) = &self.protocol_sets {
            query
                .push(format!(
                    " AND {plus}d.protocols IN (SELECT value FROM json_each("
                ))
                .push_bind(p.clone())
                .push("))");
        }
        if let Some((first, last)) = &self.subnet {
            query
                .push(format!(" AND {plus}d.ip_sort BETWEEN "))
                .push_bind(first.clone())
                .push(" AND ")
                .push_bind(last.clone());
        }
        if self.top_level {
            query.push(format!(" AND {plus}d.parent_id IS NULL"));
        }
    }

    /// The range of the sort column that a filter on that same column allows (type, vendor,
    /// subnet for the address): every matching device has a value there, none is absent.
    fn pinned(&self, sort: DeviceSort) -> Option<(String, String)> {
        match sort {
            DeviceSort::Type => self.device_type.map(|t| (t.to_string(), t.to_string())),
            DeviceSort::Vendor => self
                .vendors
                .as_ref()
                .map(|(_, least, greatest)| (least.clone(), greatest.clone())),
            DeviceSort::Ip => self.subnet.clone(),
            _ => None,
        }
    }
}

/// Appends the FROM and WHERE of a walk of the sort index in order (`filter` tests, already
/// written, come after `extra`), and its ORDER BY. When a filter pins the sort column to a
/// range, the walk starts there: `(col IS NULL) = 0 AND col BETWEEN ..`, ordered by `col, key,
/// id` (the same order, since no matching value is absent), which SQLite reads as a seek.
fn push_walk(
    query: &mut QueryBuilder<'_, Sqlite>,
    narrow: &Narrow,
    order: Order,
    extra: impl FnOnce(&mut QueryBuilder<'_, Sqlite>),
) {
    query.push(format!(
        " FROM devices d INDEXED BY {} WHERE 1 = 1",
        order.index()
    ));
    let pinned = narrow.pinned(order.sort);
    let column = order.sort.column();
    if let Some((least, greatest)) = &pinned {
        query
            .push(format!(" AND ({column} IS NULL) = 0 AND {column} BETWEEN "))
            .push_bind(least.clone())
            .push(" AND ")
            .push_bind(greatest.clone());
    }
    extra(query);
    narrow.push_to(query, true);
    match pinned {
        Some(_) => {
            let direction = order.direction();
            query.push(format!(
                " ORDER BY {column} {direction}, d.key {direction}, d.id"
            ))
        }
        None => query.push(order.clause()),
    };
}

/// A page of the devices matching `filter`, ordered by `sort` (then by key), each device made
/// from its row by `make`, and how many devices match in all.
pub(crate) async fn select_page<T>(
    pool: &SqlitePool,
    filter: &DeviceFilter,
    sort: DeviceSort,
    descending: bool,
    offset: u64,
    limit: u64,
    make: fn(IdDeviceRow) -> Result<T>,
) -> Result<(Vec<T>, u64)> {
    let window = Window {
        offset,
        limit,
        sort_apart_max: SORT_APART_MAX,
    };
    select_window(pool, filter, Order { sort, descending }, window, make).await
}

/// Which part of the list to read, and how.
#[derive(Debug, Clone, Copy)]
struct Window {
    /// Devices before the page.
    offset: u64,
    /// Devices on the page.
    limit: u64,
    /// Longest filtered list to sort apart ([`SORT_APART_MAX`]; tests vary it).
    sort_apart_max: u64,
}

/// The page `window` of the list, on one read transaction.
async fn select_window<T>(
    pool: &SqlitePool,
    filter: &DeviceFilter,
    order: Order,
    window: Window,
    make: fn(IdDeviceRow) -> Result<T>,
) -> Result<(Vec<T>, u64)> {
    let mut tx = pool.begin().await?;
    let (rows, total) = select_in(&mut tx, filter, order, window).await?;
    tx.commit().await?;
    let devices = rows.into_iter().map(make).collect::<Result<_>>()?;
    Ok((devices, total))
}

async fn select_in(
    conn: &mut SqliteConnection,
    filter: &DeviceFilter,
    order: Order,
    window: Window,
) -> Result<(Vec<IdDeviceRow>, u64)> {
    let Some(narrow) = narrow(conn, filter).await? else {
        return Ok((Vec::new(), 0));
    };
    let ids = match &filter.text {
        Some(text) => text_ids(conn, &narrow, text, order, window).await?,
        None => narrow_ids(conn, &narrow, order, window).await?,
    };
    Ok((rows_by_ids(conn, &ids).await?, ids.total))
}

/// The filters as the indexes hold them; `None` when a vendor or protocol filter matches no
/// stored value (then no device matches).
async fn narrow(conn: &mut SqliteConnection, filter: &DeviceFilter) -> Result<Option<Narrow>> {
    let mut narrow = Narrow {
        device_type: filter.device_type.map(|t| t.name()),
        subnet: filter
            .subnet
            .map(|net| (ip_sort_text(net.network()), ip_sort_text(net.broadcast()))),
        top_level: filter.top_level,
        ..Narrow::default()
    };
    if let Some(vendor) = &filter.vendor {
        let sql = format!(
            "{} SELECT x FROM v WHERE x LIKE $1 ESCAPE '\\'",
            distinct_values("vendor", "devices_by_vendor")
        );
        let values: Vec<String> = sqlx::query_scalar(&sql)
            .bind(format!("%{}%", escape_like(vendor)))
            .fetch_all(&mut *conn)
            .await?;
        if values.is_empty() {
            return Ok(None);
        }
        let least = values.iter().min().cloned().unwrap_or_default();
        let greatest = values.iter().max().cloned().unwrap_or_default();
        narrow.vendors = Some((json_array(&values), least, greatest));
    }
    if let Some(protocol) = filter.protocol {
        let sql = format!(
            "{} SELECT x FROM v WHERE EXISTS (SELECT 1 FROM json_each(v.x) p WHERE p.value = $1)",
            distinct_values("protocols", "devices_by_protocols")
        );
        let values: Vec<String> = sqlx::query_scalar(&sql)
            .bind(protocol.name())
            .fetch_all(&mut *conn)
            .await?;
        if values.is_empty() {
            return Ok(None);
        }
        narrow.protocol_sets = Some(json_array(&values));
    }
    Ok(Some(narrow))
}

/// A CTE `v(x)` of the distinct non-null values of `column`, found by seeking `index` (whose
/// first column it is) once per value rather than reading every entry.
fn distinct_values(column: &str, index: &str) -> String {
    format!(
        "WITH RECURSIVE v(x) AS ( \
             SELECT (SELECT {column} FROM devices INDEXED BY {index} \
                     WHERE {column} IS NOT NULL ORDER BY {column} LIMIT 1) \
             UNION ALL \
             SELECT (SELECT {column} FROM devices INDEXED BY {index} \
                     WHERE {column} > v.x ORDER BY {column} LIMIT 1) \
             FROM v WHERE v.x IS NOT NULL)"
    )
}

/// `values` as a JSON array of strings.
fn json_array(values: &[String]) -> String {
    serde_json::Value::from(values.to_vec()).to_string()
}

/// The order of the list.
#[derive(Debug, Clone, Copy)]
struct Order {
    sort: DeviceSort,
    descending: bool,
}

impl Order {
    /// ` ORDER BY ...`: absent values last whichever the direction; then the key, so a parent
    /// precedes its modules; then the row id.
    fn clause(self) -> String {
        let column = self.sort.column();
        let direction = self.direction();
        format!(" ORDER BY ({column} IS NULL), {column} {direction}, d.key {direction}, d.id")
    }

    /// `ASC` or `DESC`.
    fn direction(self) -> &'static str {
        if self.descending { "DESC" } else { "ASC" }
    }

    /// The index that holds the devices in this order with every filter column.
    fn index(self) -> String {
        let direction = if self.descending { "desc" } else { "asc" };
        format!("devices_list_{}_{direction}", self.sort.index_name())
    }
}

/// Appends ` LIMIT .. OFFSET ..`.
fn push_window(query: &mut QueryBuilder<'_, Sqlite>, window: Window) {
    query
        .push(" LIMIT ")
        .push_bind(i64::try_from(window.limit).unwrap_or(i64::MAX))
        .push(" OFFSET ")
        .push_bind(i64::try_from(window.offset).unwrap_or(i64::MAX));
}

/// The row ids of a page in page order, as the JSON array SQLite wrote (one row to read rather
/// than one per device, and the list the devices are then read by), with the list's total.
struct PageIds {
    /// `[id, ...]`.
    json: String,
    /// Devices matching the filter.
    total: u64,
}

impl PageIds {
    fn empty(total: u64) -> PageIds {
        PageIds {
            json: "[]".into(),
            total,
        }
    }
}

/// Starts `SELECT <the page's ids as a JSON array>[, extra] FROM (SELECT <id and sort key>
/// [, inner_extra]`; the caller adds the FROM, WHERE, ORDER BY and window of the inner query
/// and the closing parenthesis.
fn ids_query<'a>(order: Order, extra: &str, inner_extra: &str) -> QueryBuilder<'a, Sqlite> {
    let column = order.sort.column();
    let direction = order.direction();
    QueryBuilder::new(format!(
        "SELECT json_group_array(id ORDER BY sort_null, sort_value {direction}, \
                sort_key {direction}, id){extra} \
         FROM (SELECT d.id AS id, ({column} IS NULL) AS sort_null, {column} AS sort_value, \
                      d.key AS sort_key{inner_extra}"
    ))
}

/// The page's ids and the total, without a text search.
async fn narrow_ids(
    conn: &mut SqliteConnection,
    narrow: &Narrow,
    order: Order,
    window: Window,
) -> Result<PageIds> {
    let filter_index = narrow.index();
    let mut count = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM devices d");
    if let Some(index) = filter_index {
        count.push(format!(" INDEXED BY {index}"));
    }
    // without a WHERE, SQLite counts the smallest index's entries page by page
    if !narrow.is_empty() {
        count.push(" WHERE 1 = 1");
        narrow.push_to(&mut count, false);
    }
    let total: i64 = count.build_query_scalar().fetch_one(&mut *conn).await?;
    let total = u64::try_from(total).unwrap_or(0);
    if window.offset >= total {
        return Ok(PageIds::empty(total));
    }
    let mut page = ids_query(order, "", "");
    match filter_index {
        Some(index) if total <= window.sort_apart_max && narrow.pinned(order.sort).is_none() => {
            page.push(format!(" FROM devices d INDEXED BY {index} WHERE 1 = 1"));
            narrow.push_to(&mut page, false);
            page.push(order.clause());
        }
        _ => push_walk(&mut page, narrow, order, |_| {}),
    }
    read_ids(conn, page, window, total).await
}

/// Closes the ids query `page` with the page's window and reads the ids (the list's total is
/// `total`).
async fn read_ids(
    conn: &mut SqliteConnection,
    mut page: QueryBuilder<'_, Sqlite>,
    window: Window,
    total: u64,
) -> Result<PageIds> {
    push_window(&mut page, window);
    page.push(")");
    let json: String = page.build_query_scalar().fetch_one(&mut *conn).await?;
    Ok(PageIds { json, total })
}

/// The page's ids and the total, with the text search `text` (and the other filters).
async fn text_ids(
    conn: &mut SqliteConnection,
    narrow: &Narrow,
    text: &str,
    order: Order,
    window: Window,
) -> Result<PageIds> {
    let omitted: String =
        sqlx::query_scalar("SELECT json_group_array(name) FROM device_search_omitted")
            .fetch_one(&mut *conn)
            .await?;
    let omitted: Vec<String> = serde_json::from_str(&omitted)
        .map_err(|e| Failure::Corrupt(format!("device_search_omitted: {e}")))?;
    match search_phrase(text, &omitted) {
        Some(phrase) => indexed_text_ids(conn, narrow, &phrase, order, window).await,
        None => scanned_text_ids(conn, narrow, text, order, window).await,
    }
}

/// Text search through the trigram index: the FTS5 phrase `phrase` finds exactly the matches.
async fn indexed_text_ids(
    conn: &mut SqliteConnection,
    narrow: &Narrow,
    phrase: &str,
    order: Order,
    window: Window,
) -> Result<PageIds> {
    let push_matches = |query: &mut QueryBuilder<'_, Sqlite>| {
        query
            .push(
                " FROM device_search CROSS JOIN devices d ON d.id = device_search.rowid \
                 WHERE device_search MATCH ",
            )
            .push_bind(phrase.to_string());
        narrow.push_to(query, false);
    };
    let total: i64 = if narrow.is_empty() {
        sqlx::query_scalar("SELECT COUNT(*) FROM device_search WHERE device_search MATCH $1")
            .bind(phrase)
            .fetch_one(&mut *conn)
            .await?
    } else {
        let mut count = QueryBuilder::<Sqlite>::new("SELECT COUNT(*)");
        push_matches(&mut count);
        count.build_query_scalar().fetch_one(&mut *conn).await?
    };
    let total = u64::try_from(total).unwrap_or(0);
    if window.offset >= total {
        return Ok(PageIds::empty(total));
    }
    let mut page = ids_query(order, "", "");
    if total <= window.sort_apart_max.min(TEXT_SORT_APART_MAX) {
        push_matches(&mut page);
        page.push(order.clause());
    } else {
        push_walk(&mut page, narrow, order, |q| {
            q.push(
                " AND d.id IN (SELECT rowid FROM device_search \
                 WHERE device_search MATCH ",
            )
            .push_bind(phrase.to_string())
            .push(")");
        });
    }
    read_ids(conn, page, window, total).await
}

/// Text search the plain way, for a text the trigram index cannot answer: the LIKE on every
/// device; one pass counts and pages the matches.
async fn scanned_text_ids(
    conn: &mut SqliteConnection,
    narrow: &Narrow,
    text: &str,
    order: Order,
    window: Window,
) -> Result<PageIds> {
    let pattern = format!("%{}%", escape_like(text));
    let push_matching = |query: &mut QueryBuilder<'_, Sqlite>| {
        query
            .push(" FROM devices d WHERE (d.key LIKE ")
            .push_bind(pattern.clone())
            .push(" ESCAPE '\\' OR d.attributes LIKE ")
            .push_bind(pattern.clone())
            .push(" ESCAPE '\\')");
        narrow.push_to(query, false);
    };
    // the page's ids and, beside each, how many match in all
    let mut page = ids_query(order, ", max(total)", ", COUNT(*) OVER () AS total");
    push_matching(&mut page);
    page.push(order.clause());
    push_window(&mut page, window);
    page.push(")");
    let (json, total): (String, Option<i64>) = page.build_query_as().fetch_one(&mut *conn).await?;
    let total = match total {
        Some(total) => total,
        None if window.offset == 0 => 0,
        None => {
            let mut count = QueryBuilder::<Sqlite>::new("SELECT COUNT(*)");
            push_matching(&mut count);
            count.build_query_scalar().fetch_one(&mut *conn).await?
        }
    };
    Ok(PageIds {
        json,
        total: u64::try_from(total).unwrap_or(0),
    })
}

/// The FTS5 phrase query that finds exactly the devices whose key or attribute JSON contains
/// `text` (any case of ASCII letters, as the plain query's LIKE), or `None` when the trigram
/// index cannot tell: a text under three characters (no trigram), one with a character of the
/// JSON's structure (`"`, `:`, `,`, braces, brackets, backslash) or a NUL, or one that is part
/// of `null`, `true`, `false` or of a field name the index leaves out (`omitted`; migration
/// 0007 says why these rules make the phrase exact).
fn search_phrase(text: &str, omitted: &[String]) -> Option<String> {
    let structural = |c: char| matches!(c, '"' | ':' | ',' | '{' | '}' | '[' | ']' | '\\' | '\0');
    if text.chars().count() < 3 || text.chars().any(structural) {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    let literals = ["null", "true", "false"];
    let left_out = literals
        .iter()
        .map(|l| l.to_string())
        .chain(omitted.iter().cloned());
    if left_out
        .map(|word| word.to_ascii_lowercase())
        .any(|word| word.contains(&lower))
    {
        return None;
    }
    Some(format!("\"{lower}\""))
}

/// The columns of the devices `rows_by_ids` reads, each joined into one text: ids, parent
/// ids, keys, attributes, first and last seen (all `None` when no device matched).
type Joined = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The device rows of `rows_by_ids`'s joined columns.
fn split_rows(joined: Joined) -> Result<Vec<IdDeviceRow>> {
    let (Some(ids), Some(parents), Some(keys), Some(attributes), Some(firsts), Some(lasts)) =
        joined
    else {
        return Ok(Vec::new());
    };
    let corrupt = |what: &str| Failure::Corrupt(format!("device rows: {what}"));
    let ids: Vec<&str> = ids.split(',').collect();
    let parents: Vec<&str> = parents.split(',').collect();
    let keys: Vec<&str> = keys.split('\u{1e}').collect();
    let attributes: Vec<&str> = attributes.split('\u{1e}').collect();
    let firsts: Vec<&str> = firsts.split('\u{1e}').collect();
    let lasts: Vec<&str> = lasts.split('\u{1e}').collect();
    let n = ids.len();
    if [
        parents.len(),
        keys.len(),
        attributes.len(),
        firsts.len(),
        lasts.len(),
    ] != [n; 5]
    {
        return Err(corrupt("columns of different lengths"));
    }
    let mut rows = Vec::with_capacity(n);
    for i in 0..n {
        let id: i64 = ids[i].parse().map_err(|_| corrupt(ids[i]))?;
        let parent_id = match parents[i] {
            "" => None,
            p => Some(p.parse::<i64>().map_err(|_| corrupt(p))?),
        };
        rows.push(IdDeviceRow {
            id,
            parent_id,
            device: DeviceRow {
                key: keys[i].to_string(),
                attributes: attributes[i].to_string(),
                first_seen: firsts[i].to_string(),
                last_seen: lasts[i].to_string(),
            },
        });
    }
    Ok(rows)
}

/// The device rows of the page `ids`, in its order.
async fn rows_by_ids(conn: &mut SqliteConnection, ids: &PageIds) -> Result<Vec<IdDeviceRow>> {
    let order: Vec<i64> = serde_json::from_str(&ids.json)
        .map_err(|e| Failure::Corrupt(format!("device ids {:?}: {e}", ids.json)))?;
    if order.is_empty() {
        return Ok(Vec::new());
    }
    // one row rather than one per device (each row read is a hand-over between SQLite's thread
    // and the caller's): each column's values joined, in the same row order, by `,` (numbers)
    // or RS, which none of the text columns can hold (keys, times, and attribute JSON, where
    // control characters are escaped)
    let joined: Joined = sqlx::query_as(
        "SELECT group_concat(d.id, ','), group_concat(ifnull(d.parent_id, ''), ','), \
                group_concat(d.key, char(30)), group_concat(d.attributes, char(30)), \
                group_concat(d.first_seen, char(30)), group_concat(d.last_seen, char(30)) \
         FROM devices d WHERE d.id IN (SELECT value FROM json_each($1))",
    )
    .bind(&ids.json)
    .fetch_one(&mut *conn)
    .await?;
    let mut by_id: HashMap<i64, IdDeviceRow> = HashMap::with_capacity(order.len());
    for row in split_rows(joined)? {
        by_id.insert(row.id, row);
    }
    Ok(order.iter().filter_map(|id| by_id.remove(id)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;
    use crate::inventory::{DevicePage, plain};
    use jiff::Timestamp;
    use otsensor_core::{Device, DeviceKey, DeviceType, Protocol};

    #[test]
    fn only_texts_the_index_answers_exactly_become_a_phrase() {
        let omitted = vec!["name".to_string(), "vendor_id".to_string()];
        let phrase = |t: &str| search_phrase(t, &omitted);
        assert_eq!(phrase("CPU 1516").as_deref(), Some("\"cpu 1516\""));
        assert_eq!(phrase("Stößel").as_deref(), Some("\"stößel\""));
        assert_eq!(phrase("ab"), None, "no trigram");
        assert_eq!(phrase("äb"), None, "two characters, three bytes");
        for structural in ["a\"bc", "abc:", "a,bc", "{abc", "abc]", "ab\\c", "a\0bc"] {
            assert_eq!(phrase(structural), None, "{structural:?}");
        }
        for inside in [
            "NUL",
            "ull",
            "rue",
            "alse",
            "NAME",
            "ame",
            "endor_i",
            "vendor_id",
        ] {
            assert_eq!(phrase(inside), None, "{inside:?}");
        }
        assert!(phrase("names").is_some());
    }

    /// A small deterministic generator (no dependency for a test).
    struct Dice(u64);

    impl Dice {
        fn roll(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((self.0 >> 33) % n as u64) as usize
        }

        fn pick<T: Clone>(&mut self, items: &[T]) -> T {
            items[self.roll(items.len())].clone()
        }
    }

    const VENDORS: [Option<&str>; 7] = [
        None,
        Some("Siemens"),
        Some("Siemens Building Technologies"),
        Some("Müller GmbH"),
        Some(r"50%_Off\Corp"),
        Some("Rockwell Automation/Allen-Bradley"),
        Some("STÖSSEL ＡＢＣ"),
    ];
    const NAMES: [Option<&str>; 7] = [
        None,
        Some("SIMATIC 1"),
        Some("Stößel-ÄÖ"),
        Some("\u{212a}elvin"),
        Some("ahu-\"7\""),
        Some("line 3 / CPU 1516"),
        Some("z"),
    ];
    const MODELS: [Option<&str>; 5] = [
        None,
        Some("CPU 1516-3 PN/DP"),
        Some("cpu 315-2 pn/dp"),
        Some("1756-IB16/A"),
        Some("VAV-BOX 100%"),
    ];
    const TYPES: [Option<DeviceType>; 5] = [
        None,
        Some(DeviceType::Plc),
        Some(DeviceType::IoModule),
        Some(DeviceType::Switch),
        Some(DeviceType::Other),
    ];
    const PROTOCOLS: [Protocol; 4] = [
        Protocol::S7,
        Protocol::Modbus,
        Protocol::Snmp,
        Protocol::Wmi,
    ];

    fn random_device(dice: &mut Dice, key: DeviceKey) -> Device {
        let mut d = Device::new(key, Timestamp::from_second(1_750_000_000).unwrap());
        d.first_seen = Timestamp::from_second(1_750_000_000 + dice.roll(50) as i64).unwrap();
        d.last_seen = Timestamp::from_second(1_760_000_000 + dice.roll(50) as i64).unwrap();
        let a = &mut d.attributes;
        a.vendor = dice.pick(&VENDORS).map(str::to_string);
        a.name = dice.pick(&NAMES).map(str::to_string);
        a.model = dice.pick(&MODELS).map(str::to_string);
        a.device_type = dice.pick(&TYPES);
        for p in PROTOCOLS {
            if dice.roll(3) == 0 {
                a.protocols.insert(p);
            }
        }
        d
    }

    /// A store with devices of every kind the filters tell apart: top level and sub-devices,
    /// IPv4 in a few /24s, MAC-only ones (no address), absent values, non-ASCII and LIKE
    /// wildcards in the text; written by the store, rewritten with other attributes, and some
    /// rows written without the `protocols` column (as another writer might).
    async fn mixed_store(dir: &std::path::Path) -> Store {
        let store = Store::open(dir).await.unwrap();
        let mut dice = Dice(7);
        let mut conn = store.pool.acquire().await.unwrap();
        let mut keys = Vec::new();
        for n in 0..240u32 {
            let key: DeviceKey = if n % 40 == 39 {
                format!("mac:00:1b:1b:00:00:{:02x}", n % 256)
                    .parse()
                    .unwrap()
            } else {
                format!("ip:127.31.{}.{}", n % 3, 1 + n / 3)
                    .parse()
                    .unwrap()
            };
            let device = random_device(&mut dice, key.clone());
            let id = crate::devices::upsert(&mut conn, &device, None)
                .await
                .unwrap();
            keys.push(key.clone());
            for slot in 0..dice.roll(4) {
                let child = key.child(format!("slot:{slot}").parse().unwrap());
                let sub = random_device(&mut dice, child.clone());
                crate::devices::upsert(&mut conn, &sub, Some(id))
                    .await
                    .unwrap();
                keys.push(child);
            }
        }
        // rewritten: other attributes (the update triggers), the same ones (no change)
        for key in keys.iter().step_by(5) {
            let parent = match key.parent() {
                Some(p) => crate::devices::device_id(&mut conn, p).await.unwrap(),
                None => None,
            };
            let device = random_device(&mut dice, key.clone());
            crate::devices::upsert(&mut conn, &device, parent)
                .await
                .unwrap();
            crate::devices::upsert(&mut conn, &device, parent)
                .await
                .unwrap();
        }
        // written by someone else, without `protocols`: the insert trigger fills it
        for n in 0..12u32 {
            let device = random_device(&mut dice, format!("ip:127.31.9.{n}").parse().unwrap());
            sqlx::query(
                "INSERT INTO devices (key, ip, vendor, type, name, attributes, first_seen, \
                 last_seen, ip_sort) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(device.key.to_string())
            .bind(format!("127.31.9.{n}"))
            .bind(device.attributes.vendor.clone())
            .bind(device.attributes.device_type.map(|t| t.name()))
            .bind(device.attributes.name.clone())
            .bind(serde_json::to_string(&device.attributes).unwrap())
            .bind(crate::codec::time_text(device.first_seen))
            .bind(crate::codec::time_text(device.last_seen))
            .bind(ip_sort_text(device.ip().unwrap()))
            .execute(&mut *conn)
            .await
            .unwrap();
        }
        drop(conn);
        store
    }

    fn filters() -> Vec<DeviceFilter> {
        let mut out = vec![DeviceFilter::default()];
        let text = |t: &str| Some(t.to_string());
        for vendor in [
            "siemens", "SIEMENS", "%", "_", r"\", "ü", "Ü", "gmbh", "nope", "Ö",
        ] {
            out.push(DeviceFilter {
                vendor: text(vendor),
                ..Default::default()
            });
        }
        for t in TYPES.into_iter().flatten() {
            out.push(DeviceFilter {
                device_type: Some(t),
                ..Default::default()
            });
        }
        for p in [Protocol::S7, Protocol::Wmi, Protocol::Bacnet] {
            out.push(DeviceFilter {
                protocol: Some(p),
                ..Default::default()
            });
        }
        for net in [
            "127.31.1.0/24",
            "127.31.0.7/32",
            "127.0.0.0/8",
            "::/0",
            "127.31.200.0/24",
        ] {
            out.push(DeviceFilter {
                subnet: Some(net.parse().unwrap()),
                ..Default::default()
            });
        }
        for q in [
            "cpu 1516",
            "CPU",
            "pn/dp",
            "ä",
            "Stößel",
            "ößel",
            "%",
            "50%_",
            r"f\C",
            "vendor",
            "null",
            "ab",
            "\"name\":\"ahu",
            "k",
            "kelvin",
            "ＡＢＣ",
            "abc",
            "127.31.2.",
            "slot:1",
            "mac:00",
            "odel",
            "io_mod",
            "_off",
            "ROCKWELL AUTOMATION/ALLEN",
            "line 3 /",
            "plc",
            "ip:127",
            "   ",
            "1516-3",
            "ahu-",
            "rue",
            "ll,",
            "er\\c",
            "Siemens Building",
            "\"7\"",
            "100%",
            "nothing here",
            "s7\"",
        ] {
            out.push(DeviceFilter {
                text: text(q),
                ..Default::default()
            });
        }
        let mut combined = vec![
            DeviceFilter {
                device_type: Some(DeviceType::Plc),
                vendor: text("siemens"),
                ..Default::default()
            },
            DeviceFilter {
                protocol: Some(Protocol::S7),
                subnet: Some("127.31.2.0/24".parse().unwrap()),
                ..Default::default()
            },
            DeviceFilter {
                text: text("cpu"),
                device_type: Some(DeviceType::Plc),
                protocol: Some(Protocol::Modbus),
                ..Default::default()
            },
            DeviceFilter {
                text: text("siemens"),
                vendor: text("building"),
                subnet: Some("127.31.0.0/16".parse().unwrap()),
                ..Default::default()
            },
        ];
        out.append(&mut combined);
        let top: Vec<DeviceFilter> = out
            .iter()
            .map(|f| DeviceFilter {
                top_level: true,
                ..f.clone()
            })
            .collect();
        out.extend(top);
        out
    }

    const SORTS: [DeviceSort; 6] = [
        DeviceSort::Ip,
        DeviceSort::Vendor,
        DeviceSort::Type,
        DeviceSort::Name,
        DeviceSort::FirstSeen,
        DeviceSort::LastSeen,
    ];

    #[tokio::test]
    async fn every_filter_sort_and_page_gives_what_the_plain_query_gives() {
        let dir = tempfile::tempdir().unwrap();
        let store = mixed_store(dir.path()).await;
        let all = plain::select_page(
            &store.pool,
            &DeviceFilter::default(),
            DeviceSort::Ip,
            false,
            0,
            10_000,
        )
        .await
        .unwrap();
        assert!(all.total > 500, "{} devices", all.total);
        let mut compared = 0;
        let mut matched = 0;
        for filter in filters() {
            for sort in SORTS {
                for descending in [false, true] {
                    for (offset, limit) in [(0, 50), (3, 7), (0, 1000), (60, 25), (5000, 10)] {
                        let want = plain::select_page(
                            &store.pool,
                            &filter,
                            sort,
                            descending,
                            offset,
                            limit,
                        )
                        .await
                        .unwrap();
                        for sort_apart_max in [0, u64::MAX] {
                            let window = Window {
                                offset,
                                limit,
                                sort_apart_max,
                            };
                            let (devices, total) = select_window(
                                &store.pool,
                                &filter,
                                Order { sort, descending },
                                window,
                                IdDeviceRow::into_stored,
                            )
                            .await
                            .unwrap();
                            let got = DevicePage { devices, total };
                            assert_eq!(
                                got, want,
                                "{filter:?} sorted by {sort:?} desc={descending} \
                                 offset {offset} limit {limit} sort apart <= {sort_apart_max}"
                            );
                            compared += 1;
                        }
                        matched += usize::from(want.total > 0);
                    }
                }
            }
        }
        assert!(compared > 8_000, "{compared} pages compared");
        assert!(
            matched > compared / 6,
            "{matched} of the filters match devices"
        );
    }

    /// A listed page holds the same devices as the typed page, each with its attributes in the
    /// exact text this build writes for them (what the API copies into its answer).
    #[tokio::test]
    async fn a_listed_page_is_the_typed_page_with_the_attributes_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let store = mixed_store(dir.path()).await;
        for filter in filters().into_iter().step_by(5) {
            for sort in SORTS {
                let (typed, typed_total) = select_page(
                    &store.pool,
                    &filter,
                    sort,
                    true,
                    3,
                    1000,
                    IdDeviceRow::into_stored,
                )
                .await
                .unwrap();
                let (listed, listed_total) = select_page(
                    &store.pool,
                    &filter,
                    sort,
                    true,
                    3,
                    1000,
                    IdDeviceRow::into_listed,
                )
                .await
                .unwrap();
                assert_eq!(listed_total, typed_total);
                assert_eq!(listed.len(), typed.len());
                for (l, t) in listed.iter().zip(&typed) {
                    assert_eq!((l.id, l.parent, &l.key), (t.id, t.parent, &t.device.key));
                    assert_eq!(
                        (l.first_seen, l.last_seen),
                        (t.device.first_seen, t.device.last_seen)
                    );
                    assert_eq!(
                        l.attributes_json,
                        serde_json::to_string(&t.device.attributes).unwrap()
                    );
                }
            }
        }
    }

    /// The names the search text leaves out (the step views) are the names the text search
    /// holds a text to (the table): one list, written twice in the migration.
    #[tokio::test]
    async fn the_search_text_leaves_out_the_names_the_table_lists() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let listed: Vec<String> =
            sqlx::query_scalar("SELECT name FROM device_search_omitted ORDER BY name")
                .fetch_all(&store.pool)
                .await
                .unwrap();
        let views: Vec<String> = sqlx::query_scalar(
            "SELECT sql FROM sqlite_schema WHERE type = 'view' AND name LIKE 'device_search_step%'",
        )
        .fetch_all(&store.pool)
        .await
        .unwrap();
        let mut replaced: Vec<String> = views
            .iter()
            .flat_map(|sql| sql.split("'\"").skip(1))
            .filter_map(|part| part.split_once("\":").map(|(name, _)| name.to_string()))
            .collect();
        replaced.sort();
        replaced.dedup();
        assert_eq!(replaced, listed);
        assert!(listed.len() > 30, "{listed:?}");
    }

    #[tokio::test]
    async fn the_derived_columns_follow_every_write() {
        let dir = tempfile::tempdir().unwrap();
        let store = mixed_store(dir.path()).await;
        let stale: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM devices \
             WHERE protocols IS NOT json_extract(attributes, '$.protocols')",
        )
        .fetch_one(&store.pool)
        .await
        .unwrap();
        assert_eq!(stale, 0);
        // the search index holds exactly the current key and attributes of every device:
        // FTS5's own check, with the expected content given for a contentless table
        let devices: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM devices")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        let indexed: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM device_search WHERE device_search MATCH '\"127\"'",
        )
        .fetch_one(&store.pool)
        .await
        .unwrap();
        let keyed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM devices WHERE key LIKE '%127%'")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert!(
            indexed >= keyed && indexed <= devices,
            "{indexed} {keyed} {devices}"
        );
        // an attribute removed is no longer found
        let mut conn = store.pool.acquire().await.unwrap();
        let key: DeviceKey = "ip:127.31.0.1".parse().unwrap();
        let mut device = crate::devices::select_by_keys(&mut conn, std::slice::from_ref(&key))
            .await
            .unwrap()
            .remove(&key)
            .unwrap();
        device.attributes.model = Some("Unique-Model-XYZ".into());
        crate::devices::upsert(&mut conn, &device, None)
            .await
            .unwrap();
        drop(conn);
        let find = |q: &str| DeviceFilter {
            text: Some(q.to_string()),
            ..Default::default()
        };
        let page = store
            .list_devices(&find("unique-model-xyz"), DeviceSort::Ip, false, 0, 10)
            .await
            .unwrap();
        assert_eq!(page.total, 1);
        let mut conn = store.pool.acquire().await.unwrap();
        device.attributes.model = Some("Other".into());
        crate::devices::upsert(&mut conn, &device, None)
            .await
            .unwrap();
        drop(conn);
        let page = store
            .list_devices(&find("unique-model-xyz"), DeviceSort::Ip, false, 0, 10)
            .await
            .unwrap();
        assert_eq!(page.total, 0);
    }
}

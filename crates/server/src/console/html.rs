//! HTML building: an escaping helper and small builders for tables, links and form fields.
//! Every value that reaches a page goes through [`esc`].

use std::fmt::Write;

/// `text` escaped for HTML text and double-quoted attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` escaped for a URL query value (percent-encoding of everything but unreserved
/// characters); the result is safe in HTML attributes too.
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// An optional value as escaped text (empty when absent).
pub fn opt(value: Option<&str>) -> String {
    value.map(esc).unwrap_or_default()
}

/// A link (`href` and text escaped).
pub fn link(href: &str, text: &str) -> String {
    format!("<a href=\"{}\">{}</a>", esc(href), esc(text))
}

/// A table with a header row; `rows` are already-escaped cells.
pub fn table(class: &str, headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = format!("<table class=\"{}\"><thead><tr>", esc(class));
    for h in headers {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    if rows.is_empty() {
        let _ = write!(
            out,
            "<tr><td class=\"empty\" colspan=\"{}\">nothing yet</td></tr>",
            headers.len().max(1)
        );
    }
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{cell}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

/// A table of JSON objects: one column per key found in any of them, values as text.
pub fn json_table(items: &[serde_json::Value]) -> String {
    let mut keys: Vec<String> = Vec::new();
    for item in items {
        if let Some(map) = item.as_object() {
            for k in map.keys() {
                if !keys.contains(k) {
                    keys.push(k.clone());
                }
            }
        }
    }
    let headers: Vec<&str> = keys.iter().map(String::as_str).collect();
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|item| {
            keys.iter()
                .map(|k| esc(&json_text(item.get(k).unwrap_or(&serde_json::Value::Null))))
                .collect()
        })
        .collect();
    table("data", &headers, &rows)
}

/// A JSON value as plain text: strings bare, arrays joined by commas, null empty.
pub fn json_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => {
            items.iter().map(json_text).collect::<Vec<_>>().join(", ")
        }
        other => other.to_string(),
    }
}

/// A labelled text input with its error slot (`data-err` named like the API's `field`).
pub fn input(label: &str, name: &str, field: &str, value: &str, attrs: &str) -> String {
    format!(
        "<label class=\"field\"><span>{label}</span><input name=\"{name}\" value=\"{value}\" {attrs}>\
         <span class=\"err\" data-err=\"{field}\"></span></label>",
        label = esc(label),
        name = esc(name),
        field = esc(field),
        value = esc(value),
    )
}

/// A labelled select with its error slot; `options` are (value, text).
pub fn select(
    label: &str,
    name: &str,
    field: &str,
    options: &[(&str, &str)],
    selected: &str,
) -> String {
    let mut out = format!(
        "<label class=\"field\"><span>{}</span><select name=\"{}\">",
        esc(label),
        esc(name)
    );
    for (value, text) in options {
        let sel = if *value == selected { " selected" } else { "" };
        let _ = write!(
            out,
            "<option value=\"{}\"{sel}>{}</option>",
            esc(value),
            esc(text)
        );
    }
    let _ = write!(
        out,
        "</select><span class=\"err\" data-err=\"{}\"></span></label>",
        esc(field)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(url_encode("a b&c=/é"), "a%20b%26c%3D%2F%C3%A9");
    }

    #[test]
    fn json_tables_escape_cells() {
        let t = json_table(&[serde_json::json!({"name": "<script>", "n": 1})]);
        assert!(t.contains("&lt;script&gt;"));
        assert!(!t.contains("<script>"));
    }
}

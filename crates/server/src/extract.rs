//! Request extractors whose failures are API errors naming the field: JSON bodies, ids in the
//! path, query parameters.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::str::FromStr;

/// A JSON body. A body that is not JSON, or does not fit `T`, is a 400 naming the field
/// (`use_case.port`, `targets[2]`); a body not declared as JSON is a 415.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        if !is_json {
            return Err(ApiError::unsupported_media_type());
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::bad_request(format!("reading the body: {e}")))?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parses JSON into `T`; errors name the field the way the API documents them.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let message = without_position(&e.inner().to_string());
        if e.inner().is_syntax() || e.inner().is_eof() {
            return ApiError::bad_request(format!("the body is not valid JSON: {message}"));
        }
        ApiError::invalid(field_of(&path, &message), message)
    })
}

/// Reads `T` from a JSON value found at `prefix` in the body (`use_case`); errors name the
/// field below it (`use_case.port`).
pub fn from_value_at<T: DeserializeOwned>(
    value: serde_json::Value,
    prefix: &str,
) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = without_position(&e.inner().to_string());
        let inner = field_of(&path, &message);
        let field = if inner == "body" {
            prefix.to_string()
        } else {
            format!("{prefix}.{inner}")
        };
        ApiError::invalid(field, message)
    })
}

/// serde_json's message without " at line L column C".
fn without_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// The field an error speaks of: the path, plus the field a "missing field `x`" or
/// "unknown field `x`" message names.
fn field_of(path: &str, message: &str) -> String {
    let named = ["missing field `", "unknown field `", "unknown variant `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next())
        .filter(|_| !message.starts_with("unknown variant"));
    let path = if path == "." { "" } else { path };
    // an unknown field is already the last part of the path
    let named = named.filter(|name| path.rsplit('.').next() != Some(*name));
    match (path.is_empty(), named) {
        (true, Some(name)) => name.to_string(),
        (false, Some(name)) => format!("{path}.{name}"),
        (true, None) => "body".to_string(),
        (false, None) => path.to_string(),
    }
}

/// A numeric id from the path (`/api/scans/{id}`); anything else is a 404.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found("no such resource"))?;
        raw.parse::<i64>()
            .map(Id)
            .map_err(|_| ApiError::not_found(format!("{raw}: not an id")))
    }
}

/// Query parameters by name, read one at a time with errors naming the parameter.
#[derive(Debug, Clone, Default)]
pub struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map(|Query(map)| Params(map))
            .map_err(|e| ApiError::bad_request(format!("query string: {e}")))
    }
}

impl Params {
    /// The parameter `name`, if present and not empty.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|s| s.trim()).filter(|s| !s.is_empty())
    }

    /// The parameter `name` parsed; a value that does not parse is a 400 naming it.
    pub fn parse<T: FromStr>(&self, name: &str, expected: &str) -> Result<Option<T>, ApiError> {
        self.text(name)
            .map(|v| {
                v.parse()
                    .map_err(|_| ApiError::invalid(name, format!("{v:?}: expected {expected}")))
            })
            .transpose()
    }

    /// Page and page size (`page` from 1, `per_page` from 1 to `max`, default `default`), as
    /// (offset, limit, page, per_page).
    pub fn paging(&self, default: u64, max: u64) -> Result<(u64, u64, u64, u64), ApiError> {
        let page: u64 = self.parse("page", "a page number from 1")?.unwrap_or(1);
        let per_page: u64 = self.parse("per_page", "a page size")?.unwrap_or(default);
        if page == 0 {
            return Err(ApiError::invalid("page", "pages are numbered from 1"));
        }
        if per_page == 0 || per_page > max {
            return Err(ApiError::invalid(
                "per_page",
                format!("must be from 1 to {max}"),
            ));
        }
        let offset = (page - 1).saturating_mul(per_page);
        Ok((offset, per_page, page, per_page))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        port: u16,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        inner: Inner,
        targets: Vec<String>,
    }

    fn field(body: &str) -> Option<String> {
        parse_json::<Outer>(body.as_bytes()).unwrap_err().field
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(
            field(r#"{"name":"a","inner":{"port":70000},"targets":[]}"#).as_deref(),
            Some("inner.port")
        );
        assert_eq!(
            field(r#"{"name":"a","inner":{},"targets":[]}"#).as_deref(),
            Some("inner.port")
        );
        assert_eq!(
            field(r#"{"inner":{"port":1},"targets":[]}"#).as_deref(),
            Some("name")
        );
        assert_eq!(
            field(r#"{"name":"a","inner":{"port":1},"targets":["x", 3]}"#).as_deref(),
            Some("targets[1]")
        );
        assert_eq!(
            field(r#"{"name":"a","inner":{"port":1},"targets":[],"colour":1}"#).as_deref(),
            Some("colour")
        );
        let syntax = parse_json::<Outer>(b"{not json").unwrap_err();
        assert_eq!(syntax.field, None);
        assert_eq!(syntax.status, axum::http::StatusCode::BAD_REQUEST);
    }
}

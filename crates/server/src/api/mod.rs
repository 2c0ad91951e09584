//! The REST API handlers, one module per resource, and the JSON views they answer with.
//!
//! Permissions (403 otherwise): read-only users see devices, scans, runs, probe logs and
//! settings; analysts also see users and the audit log, and run and stop existing scans;
//! admins change everything (scans, users, other people's tokens). Every user manages their own
//! API tokens and password.

pub mod audit;
pub mod device_page;
pub mod devices;
pub mod meta;
pub mod rdns;
pub mod runs;
pub mod scans;
pub mod session;
pub mod tokens;
pub mod users;
pub mod views;
pub mod wem;

use crate::error::ApiError;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// A downloadable body: CSV or JSON with a file name.
pub fn download(body: Vec<u8>, content_type: &'static str, file_name: &str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

/// A CSV writer's failure as an API error.
pub fn csv_error(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(format!("writing CSV: {e}"))
}

/// The `format` parameter of a download: `json` (default) or `csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON.
    Json,
    /// CSV with a header line.
    Csv,
}

impl Format {
    /// Reads `format` from the query.
    pub fn from_params(params: &crate::extract::Params) -> Result<Format, ApiError> {
        match params.text("format") {
            None | Some("json") => Ok(Format::Json),
            Some("csv") => Ok(Format::Csv),
            Some(other) => Err(ApiError::invalid(
                "format",
                format!("{other:?}: expected json or csv"),
            )),
        }
    }
}

//! The API versions (cts-spec.md §3.1): `GET /` lists them, `GET /{version}` shows one (404
//! `CTS.0100` for one this server does not have). No credentials are needed.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::serve::api::ApiError;
use crate::serve::server::Server;

/// The versions: ID, status, last update. v1.0 is `CURRENT` as CTS documents it; v2.0 and v3
/// are `SUPPORTED`.
const VERSIONS: &[(&str, &str, &str)] = &[
    ("v1.0", "CURRENT", "2016-12-31T00:00:00Z"),
    ("v2.0", "SUPPORTED", "2018-09-30T00:00:00Z"),
    ("v3", "SUPPORTED", "2021-06-30T00:00:00Z"),
];

fn document(base: &str, (id, status, updated): (&str, &str, &str)) -> Value {
    json!({
        "id": id,
        "links": [{"href": format!("{base}/{id}/"), "rel": "self"}],
        "version": "",
        "min_version": "",
        "status": status,
        "updated": updated,
    })
}

/// `GET /`: `{"versions": [...]}`.
pub async fn list(State(server): State<Arc<Server>>, headers: HeaderMap) -> Response {
    let base = server.base_url(&headers);
    let versions: Vec<Value> = VERSIONS.iter().map(|v| document(&base, *v)).collect();
    axum::Json(json!({ "versions": versions })).into_response()
}

/// `GET /{version}`: `{"versions": [that one]}`.
pub async fn one(
    State(server): State<Arc<Server>>,
    Path(version): Path<String>,
    headers: HeaderMap,
) -> Response {
    match VERSIONS.iter().find(|(id, _, _)| *id == version) {
        Some(v) => {
            let base = server.base_url(&headers);
            axum::Json(json!({ "versions": [document(&base, *v)] })).into_response()
        }
        None => ApiError {
            status: StatusCode::NOT_FOUND,
            code: "CTS.0100",
            message: format!("API version {version:?} is not supported: v1.0, v2.0 and v3 are"),
        }
        .into_response(),
    }
}

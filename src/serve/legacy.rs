//! The legacy API (cts-spec.md §3.3, §3.5, §4.1), still what otcextensions' `conn.cts` calls:
//!
//! - trackers v1.0: `POST /v1.0/{project_id}/tracker`, `GET .../tracker[?tracker_name=]` (an
//!   array without `tracker_name`, an object with it), `PUT .../tracker/{tracker_name or id}`,
//!   `DELETE .../tracker?tracker_name=`. The v1.0 API knows the management tracker only; its
//!   tracker is flat (`bucket_name` where v3 has `obs_info.bucket_name`) and carries the `lts`
//!   and `smn` blocks as given.
//! - the trace list v1.0 and v2.0: `GET /v{1,2}.0/{project_id}/{tracker_name}/trace`, the
//!   tracker in the path, paged by marker like v3. v1.0 returns `user` as a JSON string; v2.0
//!   takes `trace_status` for `trace_rating` and returns it beside `trace_rating`.
//!
//! Both are edges over the one tracker model ([`trackers`]) and the one trace list ([`list`]):
//! only names and shapes differ.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::serve::api::ApiError;
use crate::serve::authorized::Authorized;
use crate::serve::book::{SYSTEM, Smn, StoredTracker};
use crate::serve::list;
use crate::serve::server::Server;
use crate::serve::trackers::{self, LtsBody, ObsInfoBody, TrackerBody, parse_body};

/// The body of v1.0 create and update. Unknown fields are refused (`CTS.0003`, naming the
/// field): a v1.0 client that sends one expects something this server would not do.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct V1Body {
    tracker_name: Option<String>,
    tracker_type: Option<String>,
    bucket_name: Option<String>,
    file_prefix_name: Option<String>,
    is_obs_created: Option<bool>,
    status: Option<String>,
    lts: Option<LtsBody>,
    smn: Option<Smn>,
    /// Output only (why a tracker is in `error`): accepted as clients echo it, and ignored.
    #[serde(rename = "detail")]
    _detail: Option<String>,
}

impl V1Body {
    /// The change in the one tracker model's terms, for the management tracker.
    fn into_change(self) -> Result<TrackerBody, ApiError> {
        if let Some(kind) = self.tracker_type.as_deref().filter(|k| *k != SYSTEM) {
            return Err(ApiError::invalid(format!(
                "tracker_type: the v1.0 API manages the management tracker only (system), not \
                 {kind:?}"
            )));
        }
        let obs_info = (self.bucket_name.is_some()
            || self.file_prefix_name.is_some()
            || self.is_obs_created.is_some())
        .then(|| ObsInfoBody {
            bucket_name: self.bucket_name,
            file_prefix_name: self.file_prefix_name,
            is_obs_created: self.is_obs_created,
            ..ObsInfoBody::default()
        });
        Ok(TrackerBody {
            tracker_type: Some(SYSTEM.to_string()),
            tracker_name: Some(self.tracker_name.unwrap_or_else(|| SYSTEM.to_string())),
            obs_info,
            status: self.status,
            lts: self.lts,
            smn: self.smn,
            ..TrackerBody::default()
        })
    }
}

/// A tracker as v1.0 shows it: flat, with `lts` and `smn`.
fn v1_view(stored: &StoredTracker) -> Value {
    let t = stored.view();
    let mut v = json!({
        "id": t.id,
        "create_time": t.create_time,
        "domain_id": t.domain_id,
        "project_id": t.project_id,
        "tracker_name": t.tracker_name,
        "tracker_type": t.tracker_type,
        "bucket_name": t.obs_info.bucket_name,
        "file_prefix_name": t.obs_info.file_prefix_name,
        "is_obs_created": t.obs_info.is_obs_created,
        "is_support_validate": t.is_support_validate,
        "status": t.status,
        "lts": t.lts,
    });
    if let Some(map) = v.as_object_mut() {
        if let Some(detail) = t.detail {
            map.insert("detail".into(), Value::from(detail));
        }
        if let Some(smn) = &stored.tracker.smn {
            map.insert("smn".into(), json!(smn));
        }
    }
    v
}

/// Only the management tracker exists for v1.0: any other name is not found.
fn only_system(name: &str) -> Result<(), ApiError> {
    if name == SYSTEM {
        Ok(())
    } else {
        Err(ApiError::no_tracker(name))
    }
}

/// Query of v1.0 get and delete.
#[derive(Debug, Default, Deserialize)]
pub struct V1TrackerQuery {
    tracker_name: Option<String>,
}

fn query_of<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query
        .map(|Query(q)| q)
        .map_err(|e| ApiError::invalid(format!("query string: {e}")))
}

/// `GET /v1.0/{project_id}/tracker[?tracker_name=system]`: the management tracker, as an array
/// without `tracker_name` and as an object with it; 404 `CTS.0214` when there is none.
pub async fn get_tracker(
    Authorized(project): Authorized,
    query: Result<Query<V1TrackerQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query_of(query)?;
    let name = q.tracker_name.as_deref().unwrap_or(SYSTEM);
    only_system(name)?;
    let book = project.trackers.lock().await;
    let stored = book
        .get(SYSTEM)
        .filter(|t| t.tracker.tracker_type == SYSTEM)
        .ok_or_else(|| ApiError::no_tracker(SYSTEM))?;
    let view = v1_view(stored);
    Ok(match q.tracker_name {
        Some(_) => axum::Json(view),
        None => axum::Json(Value::Array(vec![view])),
    }
    .into_response())
}

/// `POST /v1.0/{project_id}/tracker`: 201 and the tracker. `bucket_name` is required.
pub async fn create_tracker(
    State(server): State<Arc<Server>>,
    Authorized(project): Authorized,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: V1Body = parse_body(&body)?;
    if body.bucket_name.is_none() {
        return Err(ApiError::invalid("bucket_name is missing"));
    }
    let change = body.into_change()?;
    let stored = trackers::create_tracker(&server, &project, &change).await?;
    Ok((StatusCode::CREATED, axum::Json(v1_view(&stored))).into_response())
}

/// `PUT /v1.0/{project_id}/tracker/{tracker_name}`: 200 and the tracker. The path names the
/// tracker by name or by ID (otcextensions puts the ID there).
pub async fn update_tracker(
    State(server): State<Arc<Server>>,
    Authorized(project): Authorized,
    Path((_, named)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let is_system_id = {
        let book = project.trackers.lock().await;
        book.get(SYSTEM).is_some_and(|t| t.tracker.id == named)
    };
    let name = if is_system_id { SYSTEM } else { named.as_str() };
    only_system(name)?;
    let body: V1Body = parse_body(&body)?;
    if let Some(given) = body.tracker_name.as_deref().filter(|n| *n != name) {
        return Err(ApiError::invalid(format!(
            "tracker_name {given:?} is not the tracker of the path, {name:?}"
        )));
    }
    let change = body.into_change()?;
    let stored = trackers::update_tracker(&server, &project, &change).await?;
    Ok(axum::Json(v1_view(&stored)).into_response())
}

/// `DELETE /v1.0/{project_id}/tracker?tracker_name=system`: 204.
pub async fn delete_tracker(
    Authorized(project): Authorized,
    query: Result<Query<V1TrackerQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query_of(query)?;
    let name = q.tracker_name.as_deref().unwrap_or(SYSTEM);
    only_system(name)?;
    trackers::delete_trackers(&project, Some(name), Some(SYSTEM)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The v3 query of a legacy trace list: the tracker from the path, and (v2.0) `trace_status`
/// as `trace_rating`.
fn v3_query(mut q: BTreeMap<String, String>, tracker: &str) -> BTreeMap<String, String> {
    let kind = if tracker == SYSTEM { "system" } else { "data" };
    q.insert("trace_type".into(), kind.into());
    q.insert("tracker_name".into(), tracker.into());
    if let Some(status) = q.remove("trace_status") {
        q.entry("trace_rating".into()).or_insert(status);
    }
    q
}

/// The legacy trace list of `tracker`: the v3 page, each trace then shaped by `edge`.
async fn legacy_page(
    server: &Server,
    project: &crate::serve::server::Project,
    tracker: &str,
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
    edge: fn(&mut Map<String, Value>),
) -> Result<Response, ApiError> {
    let q = v3_query(query_of(query)?, tracker);
    let (mut traces, marker) = list::list_page(server, project, &q).await?;
    for trace in &mut traces {
        if let Some(map) = trace.as_object_mut() {
            edge(map);
        }
    }
    Ok(list::answer(traces, marker))
}

/// `GET /v1.0/{project_id}/{tracker_name}/trace`: `user` as a JSON string.
pub async fn traces_v1(
    State(server): State<Arc<Server>>,
    Authorized(project): Authorized,
    Path((_, tracker)): Path<(String, String)>,
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    legacy_page(&server, &project, &tracker, query, |trace| {
        if let Some(user) = trace.get_mut("user").filter(|u| u.is_object()) {
            *user = Value::from(user.to_string());
        }
    })
    .await
}

/// `GET /v2.0/{project_id}/{tracker_name}/trace`: `user` as an object, `trace_status` beside
/// `trace_rating`.
pub async fn traces_v2(
    State(server): State<Arc<Server>>,
    Authorized(project): Authorized,
    Path((_, tracker)): Path<(String, String)>,
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    legacy_page(&server, &project, &tracker, query, |trace| {
        if let Some(rating) = trace.get("trace_rating").cloned() {
            trace.insert("trace_status".into(), rating);
        }
    })
    .await
}

//! Trackers (cts-spec.md §3.4): create, update (start, stop), list, delete, and quotas (§3.7).
//!
//! A project has at most one management tracker, named `system`, and up to
//! [`DATA_TRACKER_QUOTA`] data trackers. Trackers persist in the project's `trackers.json`,
//! replaced atomically on every change, together with how far each was transferred.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::serve::api::ApiError;
use crate::serve::authorized::Authorized;
use crate::serve::book::{
    DATA_TRACKER_QUOTA, DataBucket, Lts, ObsInfo, SYSTEM, Smn, StoredTracker, Tracker, TrackerBook,
};
use crate::serve::server::Project;
use crate::serve::server::Server;

/// A change to a tracker, whatever the API version it came in: the v3 body of create and
/// update (CreateTrackerRequestBody, UpdateTrackerRequestBody; fields not listed are ignored,
/// as CTS does), which the v1.0 API builds from its own body.
#[derive(Debug, Default, Deserialize)]
pub struct TrackerBody {
    pub(crate) tracker_type: Option<String>,
    pub(crate) tracker_name: Option<String>,
    pub(crate) is_lts_enabled: Option<bool>,
    pub(crate) obs_info: Option<ObsInfoBody>,
    pub(crate) is_support_validate: Option<bool>,
    pub(crate) is_support_trace_files_encryption: Option<bool>,
    pub(crate) kms_id: Option<String>,
    pub(crate) management_event_selector: Option<Value>,
    pub(crate) data_bucket: Option<DataBucketBody>,
    pub(crate) agency_name: Option<String>,
    pub(crate) is_organization_tracker: Option<bool>,
    pub(crate) status: Option<String>,
    /// v1.0 only: the `lts` block as given.
    #[serde(skip)]
    pub(crate) lts: Option<LtsBody>,
    /// v1.0 only: the `smn` block.
    #[serde(skip)]
    pub(crate) smn: Option<Smn>,
}

/// `obs_info` of a body.
#[derive(Debug, Default, Deserialize)]
pub struct ObsInfoBody {
    pub(crate) bucket_name: Option<String>,
    pub(crate) file_prefix_name: Option<String>,
    pub(crate) is_obs_created: Option<bool>,
    pub(crate) bucket_lifecycle: Option<i64>,
    pub(crate) compress_type: Option<String>,
    pub(crate) is_sort_by_service: Option<bool>,
}

/// `lts` of a v1.0 body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LtsBody {
    is_lts_enabled: Option<bool>,
    log_group_name: Option<String>,
    log_topic_name: Option<String>,
    log_group_id: Option<String>,
    log_topic_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct DataBucketBody {
    data_bucket_name: Option<String>,
    data_event: Option<Vec<String>>,
}

/// Parse a JSON body, naming the field that is wrong (`CTS.0003`).
pub fn parse_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid("the message body is empty"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            ApiError::invalid(format!("invalid message body: {}", e.inner()))
        } else {
            ApiError::invalid(format!("invalid message body: {path}: {}", e.inner()))
        }
    })
}

/// `tracker_type` of a body: `system` or `data`.
fn tracker_type(body: &TrackerBody) -> Result<&str, ApiError> {
    match body.tracker_type.as_deref() {
        Some(t @ ("system" | "data")) => Ok(t),
        Some(other) => Err(ApiError::invalid(format!(
            "tracker_type must be system or data, not {other:?}"
        ))),
        None => Err(ApiError::invalid("tracker_type is missing")),
    }
}

/// `tracker_name` of a body, checked against its type.
fn tracker_name<'b>(body: &'b TrackerBody, kind: &str) -> Result<&'b str, ApiError> {
    let name = body
        .tracker_name
        .as_deref()
        .ok_or_else(|| ApiError::invalid("tracker_name is missing"))?;
    if kind == "system" {
        if name != SYSTEM {
            return Err(ApiError::bad_request(
                "CTS.0204",
                format!("the management tracker's tracker_name can only be system, not {name:?}"),
            ));
        }
    } else if name.is_empty()
        || name.len() > 32
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        || name.eq_ignore_ascii_case("system")
        || name.eq_ignore_ascii_case("system-trace")
    {
        return Err(ApiError::bad_request(
            "CTS.0203",
            format!(
                "tracker_name {name:?}: 1-32 letters, digits, '_' or '-', and not system or system-trace"
            ),
        ));
    }
    Ok(name)
}

/// A valid OBS bucket name: 3-63 of `[a-z0-9.-]`, starting with a lowercase letter or a digit.
pub fn valid_bucket_name(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// Apply `obs_info` of a body to `obs`.
fn apply_obs_info(obs: &mut ObsInfo, body: &ObsInfoBody) -> Result<(), ApiError> {
    if let Some(name) = &body.bucket_name {
        if !name.is_empty() && !valid_bucket_name(name) {
            return Err(ApiError::bad_request(
                "CTS.0231",
                format!(
                    "obs_info.bucket_name {name:?}: 3-63 lowercase letters, digits, '.' or '-', \
                     starting with a letter or a digit"
                ),
            ));
        }
        obs.bucket_name = name.clone();
    }
    if let Some(prefix) = &body.file_prefix_name {
        if prefix.len() > 64
            || !prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
        {
            return Err(ApiError::bad_request(
                "CTS.0218",
                format!(
                    "obs_info.file_prefix_name {prefix:?}: 0-64 letters, digits, '.', '_' or '-'"
                ),
            ));
        }
        obs.file_prefix_name = prefix.clone();
    }
    if let Some(kind) = &body.compress_type {
        if kind != "gzip" && kind != "json" {
            return Err(ApiError::invalid(format!(
                "obs_info.compress_type must be gzip or json, not {kind:?}"
            )));
        }
        obs.compress_type = kind.clone();
    }
    if let Some(sort) = body.is_sort_by_service {
        obs.is_sort_by_service = sort;
    }
    if let Some(created) = body.is_obs_created {
        obs.is_obs_created = created;
    }
    if let Some(days) = body.bucket_lifecycle {
        if days < 0 {
            return Err(ApiError::invalid(format!(
                "obs_info.bucket_lifecycle must not be negative, not {days}"
            )));
        }
        obs.bucket_lifecycle = days;
    }
    Ok(())
}

/// Check the encryption fields of a body (`CTS.0221` without a KMS key).
fn apply_common(t: &mut Tracker, body: &TrackerBody) -> Result<(), ApiError> {
    if let Some(v) = body.is_support_validate {
        t.is_support_validate = v;
    }
    if let Some(v) = body.is_lts_enabled {
        t.lts.is_lts_enabled = v;
    }
    if let Some(v) = &body.kms_id {
        t.kms_id = Some(v.clone()).filter(|k| !k.is_empty());
    }
    if let Some(v) = body.is_support_trace_files_encryption {
        t.is_support_trace_files_encryption = v;
    }
    if t.is_support_trace_files_encryption && t.kms_id.is_none() {
        return Err(ApiError::bad_request(
            "CTS.0221",
            "kms_id is empty: is_support_trace_files_encryption needs a KMS key ID",
        ));
    }
    if let Some(v) = &body.management_event_selector {
        t.management_event_selector = Some(v.clone());
    }
    if let Some(v) = &body.agency_name {
        t.agency_name = Some(v.clone());
    }
    if let Some(v) = body.is_organization_tracker {
        t.is_organization_tracker = v;
    }
    if let Some(lts) = &body.lts {
        let set = |field: &mut String, value: &Option<String>| {
            if let Some(v) = value {
                field.clone_from(v);
            }
        };
        if let Some(v) = lts.is_lts_enabled {
            t.lts.is_lts_enabled = v;
        }
        set(&mut t.lts.log_group_name, &lts.log_group_name);
        set(&mut t.lts.log_topic_name, &lts.log_topic_name);
        if lts.log_group_id.is_some() {
            t.lts.log_group_id.clone_from(&lts.log_group_id);
        }
        if lts.log_topic_id.is_some() {
            t.lts.log_topic_id.clone_from(&lts.log_topic_id);
        }
    }
    if let Some(smn) = &body.smn {
        check_smn(smn)?;
        t.smn = Some(smn.clone());
    }
    Ok(())
}

/// Users a v1.0 `smn` block may name.
pub const SMN_USERS: usize = 50;

/// The rules of a v1.0 `smn` block (cts-spec.md §3.5).
fn check_smn(smn: &Smn) -> Result<(), ApiError> {
    if smn.need_notify_user_list.len() > SMN_USERS {
        return Err(ApiError::invalid(format!(
            "smn.need_notify_user_list: at most {SMN_USERS} users, not {}",
            smn.need_notify_user_list.len()
        )));
    }
    if smn.is_send_all_key_operation && !smn.operations.is_empty() {
        return Err(ApiError::invalid(
            "smn.operations: not allowed with is_send_all_key_operation, which sends every key \
             operation",
        ));
    }
    if smn.is_support_smn && smn.topic_id.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError::invalid(
            "smn.topic_id: needed when is_support_smn is true",
        ));
    }
    Ok(())
}

/// The tracked bucket of a data tracker's body.
fn data_bucket(body: &TrackerBody) -> Result<DataBucket, ApiError> {
    let given = body.data_bucket.as_ref();
    let name = given
        .and_then(|d| d.data_bucket_name.clone())
        .unwrap_or_default();
    if name.is_empty() {
        return Err(ApiError::bad_request(
            "CTS.0210",
            "data_bucket.data_bucket_name: the tracked OBS bucket cannot be empty",
        ));
    }
    let events = given
        .and_then(|d| d.data_event.clone())
        .unwrap_or_else(|| vec!["WRITE".into()]);
    if events.is_empty() || events.iter().any(|e| e != "READ" && e != "WRITE") {
        return Err(ApiError::bad_request(
            "CTS.0225",
            format!("data_bucket.data_event {events:?}: only READ and/or WRITE can be tracked"),
        ));
    }
    Ok(DataBucket {
        data_bucket_name: name,
        search_enabled: false,
        data_event: events,
    })
}

/// Whether the bucket `name` can take trace files: `None`, or the `detail` of why not.
pub async fn bucket_problem(server: &Server, name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return None;
    }
    if let Some(path) = server.local_bucket(name) {
        return if path.is_dir() {
            None
        } else {
            Some("noBucket")
        };
    }
    let Ok(location) = server.bucket(name) else {
        return Some("noBucket");
    };
    use futures::StreamExt;
    let mut listing = location.store().list(None);
    match listing.next().await {
        None | Some(Ok(_)) => None,
        Some(Err(e)) => Some(problem_of(&e.to_string())),
    }
}

/// `detail` for a storage error's text.
pub fn problem_of(error: &str) -> &'static str {
    if error.contains("NoSuchBucket") || error.contains("not found") || error.contains("404") {
        "noBucket"
    } else {
        "bucketPolicyError"
    }
}

/// Create the bucket of a tracker with `is_obs_created`: a folder under a local bucket root.
async fn create_bucket(server: &Server, name: &str) -> Result<(), ApiError> {
    let Some(path) = server.local_bucket(name) else {
        return Err(ApiError::bad_request(
            "CTS.0216",
            format!(
                "failed to create bucket {name:?}: cts serve creates buckets only under a local \
                 bucket folder; create it in the object store and set is_obs_created to false"
            ),
        ));
    };
    if path.is_dir() {
        return Err(ApiError::bad_request(
            "CTS.0215",
            format!("the bucket {name:?} already exists: set is_obs_created to false"),
        ));
    }
    std::fs::create_dir_all(&path).map_err(|e| {
        ApiError::bad_request("CTS.0216", format!("failed to create bucket {name:?}: {e}"))
    })
}

fn write_error(e: Error) -> ApiError {
    ApiError::internal("CTS.0004", e)
}

/// `POST /v3/{project_id}/tracker`: 201 and the tracker.
pub async fn create(
    State(server): State<Arc<Server>>,
    Authorized(project): Authorized,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: TrackerBody = parse_body(&body)?;
    let stored = create_tracker(&server, &project, &body).await?;
    Ok((StatusCode::CREATED, axum::Json(stored.view())).into_response())
}

/// Create the tracker `body` describes, and save it.
pub async fn create_tracker(
    server: &Server,
    project: &Project,
    body: &TrackerBody,
) -> Result<StoredTracker, ApiError> {
    let kind = tracker_type(body)?;
    let name = tracker_name(body, kind)?;
    let book = project.trackers.lock().await;
    if kind == "system" && book.count("system") > 0 {
        return Err(ApiError::bad_request(
            "CTS.0201",
            "a management tracker has been created",
        ));
    }
    if book.get(name).is_some() {
        return Err(ApiError::bad_request(
            "CTS.0208",
            format!("the tracker {name:?} already exists"),
        ));
    }
    if kind == "data" && book.count("data") >= DATA_TRACKER_QUOTA {
        return Err(ApiError::bad_request(
            "CTS.0200",
            format!(
                "the number of data trackers has reached the upper limit of {DATA_TRACKER_QUOTA}"
            ),
        ));
    }
    let now = chrono::Utc::now().timestamp_millis();
    let mut tracker = Tracker {
        id: uuid::Uuid::new_v4().to_string(),
        create_time: now,
        tracker_type: kind.to_string(),
        tracker_name: name.to_string(),
        domain_id: project.id.clone(),
        project_id: project.id.clone(),
        status: "enabled".into(),
        detail: None,
        is_support_validate: false,
        is_support_trace_files_encryption: false,
        kms_id: None,
        is_organization_tracker: false,
        agency_name: None,
        management_event_selector: None,
        lts: Lts {
            is_lts_enabled: false,
            log_group_name: "CTS".into(),
            log_topic_name: if kind == "system" {
                "system-trace".into()
            } else {
                format!("CTS/{name}")
            },
            log_group_id: None,
            log_topic_id: None,
        },
        obs_info: ObsInfo {
            bucket_name: String::new(),
            file_prefix_name: String::new(),
            is_obs_created: false,
            is_authorized_bucket: false,
            bucket_lifecycle: 0,
            compress_type: "gzip".into(),
            is_sort_by_service: true,
            bucket_location: server.config.region.clone(),
        },
        data_bucket: None,
        smn: None,
    };
    if let Some(status) = &body.status {
        set_status(&mut tracker, status)?;
    }
    apply_common(&mut tracker, body)?;
    if let Some(obs) = &body.obs_info {
        apply_obs_info(&mut tracker.obs_info, obs)?;
    }
    if kind == "data" {
        let tracked = data_bucket(body)?;
        check_tracked_bucket(&book, &tracker, &tracked, None)?;
        tracker.data_bucket = Some(tracked);
    }
    let bucket = tracker.obs_info.bucket_name.clone();
    // The bucket is created and probed without the book locked: a slow object store delays
    // this call, not the recordings of the project (which read the book).
    drop(book);
    if tracker.obs_info.is_obs_created && !bucket.is_empty() {
        create_bucket(server, &bucket).await?;
    }
    tracker.detail = bucket_problem(server, &bucket).await.map(str::to_string);
    tracker.obs_info.is_authorized_bucket = !bucket.is_empty() && tracker.detail.is_none();
    let mut book = project.trackers.lock().await;
    if book.get(name).is_some() || (kind == "system" && book.count("system") > 0) {
        return Err(ApiError::bad_request(
            "CTS.0208",
            format!("the tracker {name:?} already exists"),
        ));
    }
    let stored = StoredTracker {
        tracker,
        transferred_to: now,
        digests: Default::default(),
    };
    book.trackers.push(stored.clone());
    if let Err(e) = book.save() {
        book.trackers.pop();
        return Err(write_error(e));
    }
    Ok(stored)
}

fn set_status(t: &mut Tracker, status: &str) -> Result<(), ApiError> {
    if status != "enabled" && status != "disabled" {
        return Err(ApiError::bad_request(
            "CTS.0205",
            format!("status can only be enabled or disabled, not {status:?}"),
        ));
    }
    t.status = status.to_string();
    Ok(())
}

/// A bucket is tracked by one data tracker only, and is not a transfer bucket of itself.
fn check_tracked_bucket(
    book: &TrackerBook,
    tracker: &Tracker,
    tracked: &DataBucket,
    except: Option<&str>,
) -> Result<(), ApiError> {
    if tracked.data_bucket_name == tracker.obs_info.bucket_name {
        return Err(ApiError::bad_request(
            "CTS.0213",
            "the transfer bucket (obs_info.bucket_name) cannot be the tracked bucket",
        ));
    }
    let taken = book.trackers.iter().any(|t| {
        Some(t.tracker.tracker_name.as_str()) != except
            && t.tracker
                .data_bucket
                .as_ref()
                .is_some_and(|d| d.data_bucket_name == tracked.data_bucket_name)
    });
    if taken {
        return Err(ApiError::bad_request(
            "CTS.0209",
            format!(
                "the bucket {:?} is already tracked by another tracker",
                tracked.data_bucket_name
            ),
        ));
    }
    Ok(())
}

/// `PUT /v3/{project_id}/tracker`: 200, no body. `status` starts and stops the tracker.
pub async fn update(
    State(server): State<Arc<Server>>,
    Authorized(project): Authorized,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: TrackerBody = parse_body(&body)?;
    update_tracker(&server, &project, &body).await?;
    Ok(StatusCode::OK.into_response())
}

/// Change the tracker `body` names as it says, and save it.
pub async fn update_tracker(
    server: &Server,
    project: &Project,
    body: &TrackerBody,
) -> Result<StoredTracker, ApiError> {
    let kind = tracker_type(body)?;
    let name = tracker_name(body, kind)?;
    let book = project.trackers.lock().await;
    let read = book
        .get(name)
        .filter(|t| t.tracker.tracker_type == kind)
        .ok_or_else(|| ApiError::no_tracker(name))?
        .tracker
        .clone();
    let mut tracker = read.clone();
    if let Some(status) = &body.status {
        set_status(&mut tracker, status)?;
    }
    apply_common(&mut tracker, body)?;
    let old_bucket = tracker.obs_info.bucket_name.clone();
    if let Some(obs) = &body.obs_info {
        apply_obs_info(&mut tracker.obs_info, obs)?;
    }
    if let Some(given) = &body.data_bucket {
        let tracked = data_bucket(body)?;
        let current = tracker.data_bucket.as_ref();
        if given.data_bucket_name.is_some()
            && current.map(|d| &d.data_bucket_name) != Some(&tracked.data_bucket_name)
        {
            return Err(ApiError::bad_request(
                "CTS.0212",
                "the tracked bucket (data_bucket.data_bucket_name) cannot be modified",
            ));
        }
        check_tracked_bucket(&book, &tracker, &tracked, Some(name))?;
        if let Some(d) = tracker.data_bucket.as_mut() {
            d.data_event = tracked.data_event;
        }
    }
    let bucket = tracker.obs_info.bucket_name.clone();
    // As in create: the bucket is probed without the book locked; the change applies only to the
    // tracker as it was read.
    drop(book);
    if body.obs_info.as_ref().and_then(|o| o.is_obs_created) == Some(true)
        && !bucket.is_empty()
        && bucket != old_bucket
    {
        create_bucket(server, &bucket).await?;
    }
    tracker.detail = bucket_problem(server, &bucket).await.map(str::to_string);
    tracker.obs_info.is_authorized_bucket = !bucket.is_empty() && tracker.detail.is_none();
    let mut book = project.trackers.lock().await;
    let stored = book
        .get_mut(name)
        .ok_or_else(|| ApiError::no_tracker(name))?;
    if stored.tracker != read {
        return Err(ApiError {
            status: StatusCode::CONFLICT,
            code: "CTS.0003",
            message: format!(
                "the tracker {name:?} was changed by another request meanwhile: send the change again"
            ),
        });
    }
    let before = std::mem::replace(&mut stored.tracker, tracker);
    let updated = stored.clone();
    if let Err(e) = book.save() {
        if let Some(stored) = book.get_mut(name) {
            stored.tracker = before;
        }
        return Err(write_error(e));
    }
    Ok(updated)
}

/// Query of list and delete.
#[derive(Debug, Default, Deserialize)]
pub struct TrackerQuery {
    tracker_name: Option<String>,
    tracker_type: Option<String>,
}

fn query_of(
    query: std::result::Result<Query<TrackerQuery>, QueryRejection>,
) -> Result<TrackerQuery, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::invalid(format!("query string: {e}")))?;
    if let Some(t) = &q.tracker_type
        && t != "system"
        && t != "data"
    {
        return Err(ApiError::invalid(format!(
            "tracker_type must be system or data, not {t:?}"
        )));
    }
    Ok(q)
}

/// `GET /v3/{project_id}/trackers[?tracker_name=&tracker_type=]`: `{"trackers": [...]}`.
pub async fn list(
    Authorized(project): Authorized,
    query: std::result::Result<Query<TrackerQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query_of(query)?;
    let book = project.trackers.lock().await;
    let trackers: Vec<Tracker> = book
        .trackers
        .iter()
        .filter(|t| {
            q.tracker_name
                .as_ref()
                .is_none_or(|n| &t.tracker.tracker_name == n)
                && q.tracker_type
                    .as_ref()
                    .is_none_or(|k| &t.tracker.tracker_type == k)
        })
        .map(StoredTracker::view)
        .collect();
    Ok(axum::Json(json!({ "trackers": trackers })).into_response())
}

/// `DELETE /v3/{project_id}/trackers?tracker_name=&tracker_type=`: 204. Without a name, every
/// tracker of `tracker_type` (default `data`) is deleted.
pub async fn delete(
    Authorized(project): Authorized,
    query: std::result::Result<Query<TrackerQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query_of(query)?;
    delete_trackers(
        &project,
        q.tracker_name.as_deref(),
        q.tracker_type.as_deref(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Delete the tracker `name` (of type `kind`, when given), or without a name every tracker of
/// type `kind` (default `data`), and save.
pub async fn delete_trackers(
    project: &Project,
    name: Option<&str>,
    kind: Option<&str>,
) -> Result<(), ApiError> {
    let mut book = project.trackers.lock().await;
    let before = book.trackers.clone();
    match name {
        Some(name) => {
            book.trackers.retain(|t| {
                !(t.tracker.tracker_name == name
                    && kind.is_none_or(|k| t.tracker.tracker_type == k))
            });
            if book.trackers.len() == before.len() {
                return Err(ApiError::no_tracker(name));
            }
        }
        None => {
            let kind = kind.unwrap_or("data");
            book.trackers.retain(|t| t.tracker.tracker_type != kind);
        }
    }
    if let Err(e) = book.save() {
        book.trackers = before;
        return Err(write_error(e));
    }
    Ok(())
}

/// `GET /v3/{project_id}/quotas`: `{"resources": [{type, used, quota}]}`.
pub async fn quotas(Authorized(project): Authorized) -> Result<Response, ApiError> {
    let notifications = project.notifications.lock().await.notifications.len();
    let book = project.trackers.lock().await;
    Ok(axum::Json(json!({"resources": [
        {"type": "system_tracker", "used": book.count("system"), "quota": 1},
        {"type": "data_tracker", "used": book.count("data"), "quota": DATA_TRACKER_QUOTA},
        {"type": "smn_notification", "used": notifications, "quota": crate::notify::book::QUOTA},
    ]}))
    .into_response())
}

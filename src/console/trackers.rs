//! The tracker pages (`cts serve` only): the list with status, bucket, prefix, last transfer
//! and its problem; create, edit, enable or disable, delete. Each change goes through the same
//! calls as the API's ([`crate::serve::trackers`]), so a form shows the API's own validation
//! message, on the field it names.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Value, json};

use crate::console::page::{Chrome, PageError, html};
use crate::console::search::show_time;
use crate::console::{Backend, Console, Viewer};
use crate::serve::trackers::{
    TrackerBody, create_tracker, delete_trackers, parse_body, update_tracker,
};
use crate::serve::{ApiError, Project, Server};

/// The server and the viewer's project, or the page saying trackers live under `cts serve`.
pub(super) fn service<'c>(
    console: &'c Console,
    viewer: &Viewer,
) -> Result<(&'c Arc<Server>, Arc<Project>), PageError> {
    match (&console.backend, &viewer.project) {
        (Backend::Service(server), Some(project)) => Ok((server, project.clone())),
        _ => Err(PageError::new(
            StatusCode::NOT_FOUND,
            "Trackers and notifications are managed by cts serve; cts ui shows a local data \
             directory's traces.",
        )),
    }
}

/// A tracker as the list shows it.
#[derive(Debug)]
pub(super) struct TrackerRow {
    pub(super) name: String,
    pub(super) kind: String,
    pub(super) enabled: bool,
    pub(super) bucket: String,
    pub(super) prefix: String,
    pub(super) transferred_to: String,
    pub(super) problem: String,
    pub(super) href: String,
}

#[derive(Template)]
#[template(path = "trackers.html", config = "src/console/askama.toml")]
struct ListPage {
    chrome: Chrome,
    trackers: Vec<TrackerRow>,
}

fn href(name: &str) -> String {
    format!(
        "/console/trackers/{}",
        percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC)
    )
}

/// `GET /console/trackers`.
pub(super) async fn list(
    State(console): State<Arc<Console>>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    let (_, project) = service(&console, &viewer)?;
    let book = project.trackers.lock().await;
    let trackers = book
        .trackers
        .iter()
        .map(|t| TrackerRow {
            name: t.tracker.tracker_name.clone(),
            kind: t.tracker.tracker_type.clone(),
            enabled: t.enabled(),
            bucket: t.tracker.obs_info.bucket_name.clone(),
            prefix: t.tracker.obs_info.file_prefix_name.clone(),
            transferred_to: if t.tracker.obs_info.bucket_name.is_empty() {
                String::new()
            } else {
                show_time(t.transferred_to)
            },
            problem: t.tracker.detail.clone().unwrap_or_default(),
            href: href(&t.tracker.tracker_name),
        })
        .collect();
    Ok(html(&ListPage {
        chrome: viewer.chrome("Trackers", "trackers"),
        trackers,
    }))
}

/// The fields of the tracker form, as typed.
#[derive(Debug, Default, Clone)]
pub(super) struct TrackerForm {
    pub(super) kind: String,
    pub(super) name: String,
    pub(super) bucket: String,
    pub(super) prefix: String,
    pub(super) create_bucket: bool,
    pub(super) lifecycle: String,
    pub(super) compress: String,
    pub(super) validate: bool,
    pub(super) data_bucket: String,
    pub(super) enabled: bool,
}

impl TrackerForm {
    fn of(form: &BTreeMap<String, String>) -> TrackerForm {
        let text = |n: &str| {
            form.get(n)
                .map(|v| v.trim().to_string())
                .unwrap_or_default()
        };
        let checked = |n: &str| form.get(n).is_some_and(|v| v == "on" || v == "true");
        TrackerForm {
            kind: text("tracker_type"),
            name: text("tracker_name"),
            bucket: text("bucket_name"),
            prefix: text("file_prefix_name"),
            create_bucket: checked("is_obs_created"),
            lifecycle: text("bucket_lifecycle"),
            compress: text("compress_type"),
            validate: checked("is_support_validate"),
            data_bucket: text("data_bucket_name"),
            enabled: checked("enabled"),
        }
    }

    /// The body the API would take for this form.
    fn body(&self, creating: bool) -> Result<TrackerBody, ApiError> {
        let mut obs = json!({
            "bucket_name": self.bucket,
            "file_prefix_name": self.prefix,
            "is_obs_created": self.create_bucket,
        });
        if !self.compress.is_empty() {
            obs["compress_type"] = Value::from(self.compress.clone());
        }
        if !self.lifecycle.is_empty() {
            let days = self.lifecycle.parse::<i64>().map_err(|_| {
                ApiError::invalid(format!(
                    "obs_info.bucket_lifecycle must be a number of days, not {:?}",
                    self.lifecycle
                ))
            })?;
            obs["bucket_lifecycle"] = Value::from(days);
        }
        let mut body = json!({
            "tracker_type": self.kind,
            "tracker_name": self.name,
            "obs_info": obs,
            "is_support_validate": self.validate,
            "status": if self.enabled { "enabled" } else { "disabled" },
        });
        if self.kind == "data" && creating {
            body["data_bucket"] = json!({
                "data_bucket_name": self.data_bucket,
                "data_event": ["READ", "WRITE"],
            });
        }
        parse_body(body.to_string().as_bytes())
    }
}

/// The form field an API error names (`""`: the form as a whole).
fn field_of(message: &str) -> &'static str {
    const FIELDS: &[(&str, &str)] = &[
        ("file_prefix_name", "file_prefix_name"),
        ("bucket_lifecycle", "bucket_lifecycle"),
        ("compress_type", "compress_type"),
        ("data_bucket", "data_bucket_name"),
        ("bucket_name", "bucket_name"),
        ("failed to create bucket", "bucket_name"),
        ("tracker_name", "tracker_name"),
        ("already exists", "tracker_name"),
        ("tracker_type", "tracker_type"),
        ("management tracker", "tracker_type"),
    ];
    FIELDS
        .iter()
        .find(|(needle, _)| message.contains(needle))
        .map_or("", |(_, field)| field)
}

#[derive(Template)]
#[template(path = "tracker.html", config = "src/console/askama.toml")]
struct FormPage {
    chrome: Chrome,
    form: TrackerForm,
    creating: bool,
    action: String,
    /// The field the error is about, and the error.
    error_field: &'static str,
    error: String,
}

impl FormPage {
    /// The error shown beside `field`, if it is that field's.
    fn error_for(&self, field: &str) -> &str {
        if self.error_field == field {
            &self.error
        } else {
            ""
        }
    }
}

fn form_page(
    viewer: &Viewer,
    form: TrackerForm,
    creating: bool,
    error: Option<ApiError>,
) -> Response {
    let (error_field, message) = match &error {
        Some(e) => (field_of(&e.message), e.message.clone()),
        None => ("", String::new()),
    };
    let title = if creating {
        "New tracker".to_string()
    } else {
        format!("Tracker {}", form.name)
    };
    let action = if creating {
        "/console/trackers/new".to_string()
    } else {
        href(&form.name)
    };
    let page = html(&FormPage {
        chrome: viewer.chrome(title, "trackers"),
        form,
        creating,
        action,
        error_field,
        error: message,
    });
    match error {
        Some(e) => (e.status, page).into_response(),
        None => page,
    }
}

/// Create (`creating`) or change the tracker the form describes, through the API's own calls:
/// then the list, or the form again with the API's message on its field.
async fn save(
    server: &Server,
    project: &Project,
    viewer: &Viewer,
    typed: TrackerForm,
    creating: bool,
) -> Result<Response, PageError> {
    let saved = match typed.body(creating) {
        Ok(body) if creating => create_tracker(server, project, &body).await,
        Ok(body) => update_tracker(server, project, &body).await,
        Err(e) => Err(e),
    };
    Ok(match saved {
        Ok(_) => Redirect::to("/console/trackers").into_response(),
        Err(e) => form_page(viewer, typed, creating, Some(e)),
    })
}

/// `GET /console/trackers/new`.
pub(super) async fn new_form(
    State(console): State<Arc<Console>>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    service(&console, &viewer)?;
    let form = TrackerForm {
        kind: "data".into(),
        compress: "gzip".into(),
        enabled: true,
        ..TrackerForm::default()
    };
    Ok(form_page(&viewer, form, true, None))
}

/// `POST /console/trackers/new`.
pub(super) async fn create(
    State(console): State<Arc<Console>>,
    viewer: Viewer,
    Form(form): Form<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let (server, project) = service(&console, &viewer)?;
    viewer.check_form(&form)?;
    save(server, &project, &viewer, TrackerForm::of(&form), true).await
}

/// `GET /console/trackers/{name}`.
pub(super) async fn edit_form(
    State(console): State<Arc<Console>>,
    viewer: Viewer,
    Path(name): Path<String>,
) -> Result<Response, PageError> {
    let (_, project) = service(&console, &viewer)?;
    let book = project.trackers.lock().await;
    let Some(stored) = book.get(&name) else {
        return Err(PageError::new(
            StatusCode::NOT_FOUND,
            format!("No tracker {name:?} in this project."),
        ));
    };
    let t = &stored.tracker;
    let form = TrackerForm {
        kind: t.tracker_type.clone(),
        name: t.tracker_name.clone(),
        bucket: t.obs_info.bucket_name.clone(),
        prefix: t.obs_info.file_prefix_name.clone(),
        create_bucket: false,
        lifecycle: t.obs_info.bucket_lifecycle.to_string(),
        compress: t.obs_info.compress_type.clone(),
        validate: t.is_support_validate,
        data_bucket: t
            .data_bucket
            .as_ref()
            .map(|d| d.data_bucket_name.clone())
            .unwrap_or_default(),
        enabled: stored.enabled(),
    };
    Ok(form_page(&viewer, form, false, None))
}

/// The tracker `name`'s type, for a change of it.
async fn kind_of(project: &Project, name: &str) -> Result<String, PageError> {
    project
        .trackers
        .lock()
        .await
        .get(name)
        .map(|t| t.tracker.tracker_type.clone())
        .ok_or_else(|| {
            PageError::new(
                StatusCode::NOT_FOUND,
                format!("No tracker {name:?} in this project."),
            )
        })
}

/// `POST /console/trackers/{name}`: save the form.
pub(super) async fn update(
    State(console): State<Arc<Console>>,
    viewer: Viewer,
    Path(name): Path<String>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let (server, project) = service(&console, &viewer)?;
    viewer.check_form(&form)?;
    let mut typed = TrackerForm::of(&form);
    typed.name = name.clone();
    typed.kind = kind_of(&project, &name).await?;
    save(server, &project, &viewer, typed, false).await
}

/// `POST /console/trackers/{name}/status`: `status=enabled|disabled`.
pub(super) async fn set_status(
    State(console): State<Arc<Console>>,
    viewer: Viewer,
    Path(name): Path<String>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let (server, project) = service(&console, &viewer)?;
    viewer.check_form(&form)?;
    let kind = kind_of(&project, &name).await?;
    let status = form.get("status").cloned().unwrap_or_default();
    let body = json!({"tracker_type": kind, "tracker_name": name, "status": status});
    let changed = match parse_body::<TrackerBody>(body.to_string().as_bytes()) {
        Ok(body) => update_tracker(server, &project, &body).await,
        Err(e) => Err(e),
    };
    changed.map_err(|e| PageError::new(e.status, e.message))?;
    Ok(Redirect::to("/console/trackers").into_response())
}

/// `POST /console/trackers/{name}/delete`.
pub(super) async fn delete(
    State(console): State<Arc<Console>>,
    viewer: Viewer,
    Path(name): Path<String>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let (_, project) = service(&console, &viewer)?;
    viewer.check_form(&form)?;
    delete_trackers(&project, Some(&name), None)
        .await
        .map_err(|e| PageError::new(e.status, e.message))?;
    Ok(Redirect::to("/console/trackers").into_response())
}

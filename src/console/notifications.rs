//! The key-event notification pages (`cts serve` only): the list with what each matches, where
//! its messages go and its status; enable or disable, delete, through the API's own calls
//! ([`crate::serve::notifications`]). Creating one (its operations and filters) is the API's.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;

use crate::console::page::{Chrome, PageError, html};
use crate::console::search::show_time;
use crate::console::trackers::service;
use crate::console::{Console, Viewer};
use crate::serve::notifications::{NotificationBody, delete_notifications, update_notification};
use crate::serve::trackers::parse_body;

/// A notification as the list shows it.
#[derive(Debug)]
pub(super) struct Row {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) matches: String,
    pub(super) users: String,
    pub(super) topic: String,
    pub(super) enabled: bool,
    pub(super) created: String,
    pub(super) href: String,
}

#[derive(Template)]
#[template(path = "notifications.html", config = "src/console/askama.toml")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
}

/// `GET /console/notifications`.
pub(super) async fn list(
    State(console): State<Arc<Console>>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    let (_, project) = service(&console, &viewer)?;
    let book = project.notifications.lock().await;
    let rows = book
        .notifications
        .iter()
        .map(|n| {
            let matches = if n.operation_type == "complete" {
                "every operation".to_string()
            } else {
                n.operations
                    .iter()
                    .map(|o| {
                        format!(
                            "{} {}: {}",
                            o.service_type,
                            o.resource_type,
                            o.trace_names.join(", ")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            let users = n
                .notify_user_list
                .iter()
                .flat_map(|g| g.user_list.iter().cloned())
                .collect::<Vec<_>>()
                .join(", ");
            Row {
                href: format!(
                    "/console/notifications/{}",
                    percent_encoding::utf8_percent_encode(
                        &n.notification_id,
                        percent_encoding::NON_ALPHANUMERIC
                    )
                ),
                id: n.notification_id.clone(),
                name: n.notification_name.clone(),
                matches,
                users,
                topic: n.topic_id.clone().unwrap_or_default(),
                enabled: n.enabled(),
                created: show_time(n.create_time),
            }
        })
        .collect();
    Ok(html(&ListPage {
        chrome: viewer.chrome("Key-event notifications", "notifications"),
        rows,
    }))
}

/// `POST /console/notifications/{id}/status`: `status=enabled|disabled`.
pub(super) async fn set_status(
    State(console): State<Arc<Console>>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let (server, project) = service(&console, &viewer)?;
    viewer.check_form(&form)?;
    let status = form.get("status").cloned().unwrap_or_default();
    let body = json!({"notification_id": id, "status": status});
    let changed = match parse_body::<NotificationBody>(body.to_string().as_bytes()) {
        Ok(body) => update_notification(server, &project, body).await,
        Err(e) => Err(e),
    };
    changed.map_err(|e| PageError::new(e.status, e.message))?;
    Ok(Redirect::to("/console/notifications").into_response())
}

/// `POST /console/notifications/{id}/delete`.
pub(super) async fn delete(
    State(console): State<Arc<Console>>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let (_, project) = service(&console, &viewer)?;
    viewer.check_form(&form)?;
    delete_notifications(&project, &[id.as_str()])
        .await
        .map_err(|e| PageError::new(e.status, e.message))?;
    Ok(Redirect::to("/console/notifications").into_response())
}

//! Key-event notifications, the CTS v3 API (cts-spec.md §3.6): create, update (by
//! `notification_id`), list by type, batch delete; and a test message. The rules a notification
//! must follow are [`crate::notify::book::check`]'s; a change is saved atomically and compiled
//! into the project's matcher before it is answered, so the next recording uses it.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::notify::book::{
    Filter, Invalid, Notification, NotificationBook, Operation, QUOTA, UserGroup, check, type_of,
};
use crate::notify::outbox::Message;
use crate::serve::api::ApiError;
use crate::serve::authorized::Authorized;
use crate::serve::server::{Project, Server};
use crate::serve::trackers::parse_body;

/// The body of create and update (CreateNotificationRequestBody, UpdateNotificationRequestBody).
/// Top-level fields not listed are ignored, as CTS does; within `operations`,
/// `notify_user_list` and `filter`, an unknown field is refused, naming it.
#[derive(Debug, Default, Deserialize)]
pub struct NotificationBody {
    notification_id: Option<String>,
    notification_name: Option<String>,
    operation_type: Option<String>,
    operations: Option<Vec<Operation>>,
    notify_user_list: Option<Vec<UserGroup>>,
    topic_id: Option<String>,
    filter: Option<Filter>,
    status: Option<String>,
    agency_name: Option<String>,
}

fn refused(invalid: Invalid) -> ApiError {
    ApiError::bad_request(invalid.code, invalid.message)
}

fn name_taken(name: &str) -> ApiError {
    ApiError::bad_request(
        "CTS.0400",
        format!("NotificationV3 name is existed already: {name:?}"),
    )
}

fn no_notification(id: &str) -> ApiError {
    ApiError {
        status: StatusCode::NOT_FOUND,
        code: "CTS.0003",
        message: format!("notification_id {id:?}: no such notification"),
    }
}

/// Apply the fields `body` gives to `n`.
fn apply(n: &mut Notification, body: NotificationBody) {
    if let Some(v) = body.notification_name {
        n.notification_name = v;
    }
    if let Some(v) = body.operation_type {
        n.operation_type = v;
    }
    if let Some(v) = body.operations {
        n.operations = v;
    }
    if let Some(v) = body.notify_user_list {
        n.notify_user_list = v;
    }
    if let Some(v) = body.topic_id {
        n.topic_id = Some(v).filter(|t| !t.is_empty());
    }
    if let Some(v) = body.filter {
        n.filter = Some(v);
    }
    if let Some(v) = body.status {
        n.status = v;
    }
    if let Some(v) = body.agency_name {
        n.agency_name = Some(v);
    }
    n.notification_type = type_of(n.topic_id.as_deref()).to_string();
}

/// Save `book` (undoing the change in memory when that fails) and compile it.
fn save(
    project: &Project,
    book: &mut NotificationBook,
    before: Vec<Notification>,
) -> Result<(), ApiError> {
    if let Err(e) = book.save() {
        book.notifications = before;
        return Err(ApiError::internal("CTS.0004", e));
    }
    project.compile(book);
    Ok(())
}

/// `POST /v3/{project_id}/notifications`: 201 and the notification.
pub async fn create(
    State(server): State<Arc<Server>>,
    Authorized(project): Authorized,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: NotificationBody = parse_body(&body)?;
    let mut book = project.notifications.lock().await;
    if book.notifications.len() >= QUOTA {
        return Err(ApiError::bad_request(
            "CTS.0200",
            format!("the number of notifications has reached the upper limit of {QUOTA}"),
        ));
    }
    let name = body
        .notification_name
        .clone()
        .ok_or_else(|| ApiError::invalid("notification_name is missing"))?;
    if body.operation_type.is_none() {
        return Err(ApiError::invalid("operation_type is missing"));
    }
    if book.by_name(&name).is_some() {
        return Err(name_taken(&name));
    }
    let status = if body.topic_id.as_deref().is_some_and(|t| !t.is_empty()) {
        "enabled"
    } else {
        "disabled"
    };
    let mut n = Notification {
        notification_id: uuid::Uuid::new_v4().to_string(),
        notification_name: name,
        notification_type: "smn".into(),
        operation_type: String::new(),
        operations: Vec::new(),
        notify_user_list: Vec::new(),
        topic_id: None,
        filter: None,
        status: status.into(),
        project_id: project.id.clone(),
        domain_id: project.id.clone(),
        create_time: chrono::Utc::now().timestamp_millis(),
        agency_name: None,
    };
    apply(&mut n, body);
    check(&n, |t| server.delivery.knows(t)).map_err(refused)?;
    let before = book.notifications.clone();
    book.notifications.push(n.clone());
    save(&project, &mut book, before)?;
    Ok((StatusCode::CREATED, axum::Json(n)).into_response())
}

/// `PUT /v3/{project_id}/notifications`: the body names the notification by `notification_id`;
/// 200 and the notification.
pub async fn update(
    State(server): State<Arc<Server>>,
    Authorized(project): Authorized,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: NotificationBody = parse_body(&body)?;
    let n = update_notification(&server, &project, body).await?;
    Ok(axum::Json(n).into_response())
}

/// Change the notification `body` names by `notification_id` as it says, and save.
pub async fn update_notification(
    server: &Server,
    project: &Project,
    body: NotificationBody,
) -> Result<Notification, ApiError> {
    let id = body
        .notification_id
        .clone()
        .ok_or_else(|| ApiError::invalid("notification_id is missing"))?;
    let mut book = project.notifications.lock().await;
    let mut n = book
        .notifications
        .iter()
        .find(|n| n.notification_id == id)
        .cloned()
        .ok_or_else(|| no_notification(&id))?;
    apply(&mut n, body);
    if book
        .notifications
        .iter()
        .any(|o| o.notification_name == n.notification_name && o.notification_id != id)
    {
        return Err(name_taken(&n.notification_name));
    }
    check(&n, |t| server.delivery.knows(t)).map_err(refused)?;
    let before = book.notifications.clone();
    if let Some(slot) = book
        .notifications
        .iter_mut()
        .find(|o| o.notification_id == id)
    {
        *slot = n.clone();
    }
    save(project, &mut book, before)?;
    Ok(n)
}

/// Query of list.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    notification_name: Option<String>,
}

/// `GET /v3/{project_id}/notifications/{notification_type}[?notification_name=]`:
/// `{"notifications": [...]}`.
pub async fn list(
    Authorized(project): Authorized,
    Path((_, kind)): Path<(String, String)>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::invalid(format!("query string: {e}")))?;
    if kind != "smn" && kind != "fun" {
        return Err(ApiError::invalid(format!(
            "notification_type must be smn or fun, not {kind:?}"
        )));
    }
    let book = project.notifications.lock().await;
    let found: Vec<&Notification> = book
        .notifications
        .iter()
        .filter(|n| {
            n.notification_type == kind
                && q.notification_name
                    .as_ref()
                    .is_none_or(|name| &n.notification_name == name)
        })
        .collect();
    Ok(axum::Json(json!({ "notifications": found })).into_response())
}

/// Query of delete.
#[derive(Debug, Default, Deserialize)]
pub struct DeleteQuery {
    notification_id: Option<String>,
}

/// `DELETE /v3/{project_id}/notifications?notification_id=a,b`: 204. Every ID must exist;
/// otherwise nothing is deleted.
pub async fn delete(
    Authorized(project): Authorized,
    query: Result<Query<DeleteQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::invalid(format!("query string: {e}")))?;
    let ids: Vec<&str> = q
        .notification_id
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .collect();
    delete_notifications(&project, &ids).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Delete the notifications `ids`, all or (when one does not exist) none, and save.
pub async fn delete_notifications(project: &Project, ids: &[&str]) -> Result<(), ApiError> {
    if ids.is_empty() {
        return Err(ApiError::invalid("notification_id is missing"));
    }
    let mut book = project.notifications.lock().await;
    if let Some(missing) = ids
        .iter()
        .find(|id| !book.notifications.iter().any(|n| n.notification_id == **id))
    {
        return Err(no_notification(missing));
    }
    let before = book.notifications.clone();
    book.notifications
        .retain(|n| !ids.contains(&n.notification_id.as_str()));
    save(project, &mut book, before)
}

/// `POST /v3/{project_id}/notifications/{notification_id}/test` (not in CTS): send a test
/// message to the notification's topic (through the outbox, like any other); 202 and its ID.
pub async fn test(
    State(server): State<Arc<Server>>,
    Authorized(project): Authorized,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let n = {
        let book = project.notifications.lock().await;
        book.notifications
            .iter()
            .find(|n| n.notification_id == id)
            .cloned()
            .ok_or_else(|| no_notification(&id))?
    };
    let Some(topic) = n.topic_id.clone().filter(|t| server.delivery.knows(t)) else {
        return Err(ApiError::invalid(format!(
            "notification {:?} has no configured topic to send to",
            n.notification_name
        )));
    };
    let now = chrono::Utc::now().timestamp_millis();
    let message = Message::test(&n, topic, now);
    let message_id = message.message_id.clone();
    let outbox = project.outbox.clone();
    tokio::task::spawn_blocking(move || outbox.put(vec![message], now))
        .await
        .map_err(|e| ApiError::internal("CTS.0004", e))?
        .map_err(|e| ApiError::internal("CTS.0004", e))?;
    server.outbox_written.notify_one();
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({ "message_id": message_id })),
    )
        .into_response())
}

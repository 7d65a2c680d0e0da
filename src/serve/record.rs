//! Recording: services report traces in batches (`POST /v3/{project_id}/traces`), each
//! checked against the trace model, and get the answer once the batch is durable in the hot
//! store.
//!
//! The server sets `record_time` (when CTS recorded the trace) and `tracker_name`. Record times
//! come from one [`Clock`](crate::serve::clock::Clock), which also tells the transfer up to which record time every
//! recording has finished: the transfer never passes a trace still being written.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use cts_core::decode::decode_file;

use crate::notify::outbox::messages;
use crate::serve::api::ApiError;
use crate::serve::authorized::Authorized;
use crate::serve::book::SYSTEM;
use crate::serve::server::Server;

/// Query of a recording: the tracker that records (default `system`).
#[derive(Debug, Default, Deserialize)]
pub struct RecordQuery {
    tracker_name: Option<String>,
}

/// What a field of a trace may hold.
#[derive(Clone, Copy)]
enum Kind {
    /// A string.
    Text,
    /// A string or a number (`code`).
    TextOrNumber,
    /// Milliseconds since 1970, as a number or a digit string.
    Millis,
    /// A string, an object or an array (`request`, `response`, `message`, `user`).
    Json,
    /// `true` or `false`.
    Bool,
    /// An integer.
    Integer,
    /// One of the listed strings.
    OneOf(&'static [&'static str]),
}

/// The fields of a trace the model knows, and what each may hold (cts-spec.md §1.1).
const FIELDS: &[(&str, Kind)] = &[
    ("trace_id", Kind::Text),
    ("time", Kind::Millis),
    ("record_time", Kind::Millis),
    ("service_type", Kind::Text),
    ("resource_type", Kind::Text),
    ("resource_name", Kind::Text),
    ("resource_id", Kind::Text),
    ("trace_name", Kind::Text),
    (
        "trace_rating",
        Kind::OneOf(&["normal", "warning", "incident"]),
    ),
    (
        "trace_status",
        Kind::OneOf(&["normal", "warning", "incident"]),
    ),
    (
        "trace_type",
        Kind::OneOf(&["ConsoleAction", "ApiCall", "SystemAction"]),
    ),
    ("event_type", Kind::Text),
    ("source_ip", Kind::Text),
    ("code", Kind::TextOrNumber),
    ("api_version", Kind::Text),
    ("message", Kind::Json),
    ("request", Kind::Json),
    ("response", Kind::Json),
    ("request_id", Kind::Text),
    ("tracker_name", Kind::Text),
    ("project_id", Kind::Text),
    ("domain_id", Kind::Text),
    ("operation_id", Kind::Text),
    ("enterprise_project_id", Kind::Text),
    ("read_only", Kind::Bool),
    ("resource_account_id", Kind::Text),
    ("user_agent", Kind::Text),
    ("location_info", Kind::Text),
    ("endpoint", Kind::Text),
    ("resource_url", Kind::Text),
    ("content_length", Kind::Integer),
    ("total_time", Kind::Integer),
    ("user", Kind::Json),
];

/// Fields every recorded trace must have.
const REQUIRED: &[&str] = &["trace_id", "time", "service_type", "trace_name"];

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Check one field; the error says what it must be and what it is.
fn check(kind: Kind, v: &Value) -> Result<(), String> {
    let ok = match (kind, v) {
        (_, Value::Null) => true,
        (Kind::Text, Value::String(_)) => true,
        (Kind::TextOrNumber, Value::String(_) | Value::Number(_)) => true,
        (Kind::Millis, Value::Number(n)) => n.as_i64().is_some(),
        (Kind::Millis, Value::String(s)) => !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()),
        (Kind::Json, Value::String(_) | Value::Object(_) | Value::Array(_)) => true,
        (Kind::Bool, Value::Bool(_)) => true,
        (Kind::Integer, Value::Number(n)) => n.as_i64().is_some(),
        (Kind::OneOf(values), Value::String(s)) => {
            if values.contains(&s.as_str()) {
                true
            } else {
                return Err(format!("must be one of {}, not {s:?}", values.join(", ")));
            }
        }
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let expected = match kind {
        Kind::Text | Kind::OneOf(_) => "a string",
        Kind::TextOrNumber => "a string or a number",
        Kind::Millis => "milliseconds since 1970 (a number or a digit string)",
        Kind::Json => "a string, an object or an array",
        Kind::Bool => "true or false",
        Kind::Integer => "an integer",
    };
    Err(format!("must be {expected}, not {}", kind_name(v)))
}

/// Check one trace against the model; the error names the field.
pub fn validate(index: usize, trace: &Value) -> Result<(), ApiError> {
    let at =
        |field: &str, why: String| ApiError::invalid(format!("traces[{index}].{field}: {why}"));
    let Value::Object(map) = trace else {
        return Err(ApiError::invalid(format!(
            "traces[{index}]: must be an object, not {}",
            kind_name(trace)
        )));
    };
    for field in REQUIRED {
        match map.get(*field) {
            None | Some(Value::Null) => return Err(at(field, "is missing".into())),
            Some(Value::String(s)) if s.trim().is_empty() => {
                return Err(at(field, "is empty".into()));
            }
            _ => {}
        }
    }
    if !map.contains_key("trace_rating") && !map.contains_key("trace_status") {
        return Err(at("trace_rating", "is missing".into()));
    }
    for (field, kind) in FIELDS {
        if let Some(v) = map.get(*field) {
            check(*kind, v).map_err(|why| at(field, why))?;
        }
    }
    Ok(())
}

/// The traces of a recording body: a JSON array, or `{"traces": [...]}`.
fn traces_of(body: &[u8]) -> Result<Vec<Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid("the message body is empty"));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid(format!("the message body is not JSON: {e}")))?;
    match value {
        Value::Array(traces) => Ok(traces),
        Value::Object(mut map) => match map.remove("traces") {
            Some(Value::Array(traces)) => Ok(traces),
            _ => Err(ApiError::invalid(
                "the message body must be an array of traces or {\"traces\": [...]}",
            )),
        },
        other => Err(ApiError::invalid(format!(
            "the message body must be an array of traces, not {}",
            kind_name(&other)
        ))),
    }
}

/// Traces in one recording, at most.
pub const MAX_BATCH: usize = 100_000;

/// `POST /v3/{project_id}/traces[?tracker_name=]`: record a batch of traces. 200 with
/// `{"recorded", "duplicates", "ignored"}` once durable; 400 naming the first bad field, and
/// nothing of the batch recorded; a disabled tracker records nothing (`ignored`).
pub async fn record(
    State(server): State<Arc<Server>>,
    Authorized(project): Authorized,
    query: std::result::Result<Query<RecordQuery>, QueryRejection>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::invalid(format!("query string: {e}")))?;
    let tracker = q.tracker_name.unwrap_or_else(|| SYSTEM.to_string());
    let mut traces = traces_of(&body)?;
    if traces.len() > MAX_BATCH {
        return Err(ApiError::invalid(format!(
            "{} traces in one request: send at most {MAX_BATCH}",
            traces.len()
        )));
    }
    for (i, trace) in traces.iter().enumerate() {
        validate(i, trace)?;
    }
    {
        let book = project.trackers.lock().await;
        let stored = book
            .get(&tracker)
            .ok_or_else(|| ApiError::no_tracker(&tracker))?;
        if !stored.enabled() {
            return Ok(axum::Json(json!({
                "recorded": 0,
                "duplicates": 0,
                "ignored": traces.len(),
                "reason": format!("the tracker {tracker:?} is disabled"),
            }))
            .into_response());
        }
    }
    let ticket = server.clock.start();
    for trace in &mut traces {
        if let Value::Object(map) = trace {
            stamp(map, ticket.time, &tracker);
        }
    }
    let json = serde_json::to_vec(&traces).map_err(|e| ApiError::internal("CTS.0004", e))?;
    let label = format!("cts-serve/{tracker}");
    let decoded = decode_file(&json, &label, Some(&server.config.region))
        .map_err(|e| ApiError::invalid(format!("the traces cannot be decoded: {e}")))?;
    if let Some(r) = decoded.rejects.first() {
        return Err(ApiError::invalid(format!(
            "traces[{}]: {}",
            r.record.saturating_sub(1),
            r.reason
        )));
    }
    // The messages the traces fire are durable before the traces are acknowledged.
    let matcher = project.matcher();
    let messages = messages(&matcher, &traces);
    let fired = messages.len();
    // Both durable before the answer, synced side by side: the messages in the outbox, the traces
    // in the hot store's log. A recording not answered may have either, both or neither; the
    // client sends it again, and the messages are written again (at least once).
    let outbox = project.outbox.clone();
    let time = ticket.time;
    let written = async move {
        if messages.is_empty() {
            return Ok(());
        }
        tokio::task::spawn_blocking(move || outbox.put(messages, time))
            .await
            .map_err(|e| ApiError::internal("CTS.0004", e))?
            .map(|_| ())
            .map_err(|e| ApiError::internal("CTS.0004", e))
    };
    let (written, stored) = tokio::join!(written, project.hot.append(decoded.batch));
    written?;
    let stored = stored.map_err(|e| ApiError::internal("CTS.0004", e))?;
    drop(ticket);
    if fired > 0 {
        server.outbox_written.notify_one();
    }
    Ok(axum::Json(json!({
        "recorded": stored.hot + stored.archived,
        "duplicates": stored.duplicates,
        "ignored": 0,
    }))
    .into_response())
}

/// Set what the service decides: when it recorded the trace, and by which tracker.
fn stamp(map: &mut Map<String, Value>, record_time: i64, tracker: &str) {
    map.insert("record_time".into(), Value::from(record_time));
    map.insert("tracker_name".into(), Value::from(tracker));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_field_and_what_it_must_be() {
        let ok = json!({"trace_id": "a", "time": 1719745200000i64, "service_type": "ECS",
                        "trace_name": "startServer", "trace_rating": "normal", "code": 200});
        assert!(validate(0, &ok).is_ok());
        let cases = [
            (json!({"time": 1}), "traces[3].trace_id: is missing"),
            (
                json!({"trace_id": "a", "time": "yesterday", "service_type": "ECS", "trace_name": "x", "trace_rating": "normal"}),
                "traces[3].time: must be milliseconds since 1970 (a number or a digit string), not a string",
            ),
            (
                json!({"trace_id": "a", "time": 1, "service_type": "ECS", "trace_name": "x", "trace_rating": "bad"}),
                "traces[3].trace_rating: must be one of normal, warning, incident, not \"bad\"",
            ),
            (
                json!({"trace_id": "a", "time": 1, "service_type": "ECS", "trace_name": "x", "trace_status": "warning", "read_only": "yes"}),
                "traces[3].read_only: must be true or false, not a string",
            ),
            (json!([1]), "traces[3]: must be an object, not an array"),
        ];
        for (trace, message) in cases {
            assert_eq!(
                validate(3, &trace).map_err(|e| e.message),
                Err(message.to_string())
            );
        }
    }
}

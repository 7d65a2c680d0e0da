//! The outbox: messages that matched, kept durably until their receiver has them.
//!
//! A recording (or an ingest) that fires notifications writes one file with all its messages
//! into the project's `outbox/` (temporary file, sync, rename, sync of the folder) before its
//! traces are acknowledged (`cts serve` syncs it side by side with the traces' append; `cts
//! ingest` before the append): a trace acknowledged has its messages on disk. A file is removed once each of its messages was delivered (or failed for good,
//! which the delivery log keeps); a server stopped in between sends the whole file again after
//! a restart. At least once: never zero times, sometimes twice.

use std::path::{Path, PathBuf};

use cts_core::failpoint;
use cts_core::storage::fs::write_atomic;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::notify::book::Notification;
use crate::notify::matcher::Matcher;

/// The folder, in a project's folder, of messages not yet delivered.
pub const DIR: &str = "outbox";

/// One message for one notification's topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Unique (UUID): a receiver sees it again only when the message is sent again.
    pub message_id: String,
    /// The notification that fired.
    pub notification_id: String,
    /// Its name.
    pub notification_name: String,
    /// `smn` or `fun`.
    pub notification_type: String,
    /// Where the message goes.
    pub topic_id: String,
    /// The trace, as CTS writes it.
    pub trace: Value,
}

impl Message {
    /// A test message of `notification` to `topic` at `now_ms`: a trace of `cts-test` that says
    /// it is a test.
    pub fn test(notification: &Notification, topic: String, now_ms: i64) -> Message {
        Message {
            message_id: uuid::Uuid::new_v4().to_string(),
            notification_id: notification.notification_id.clone(),
            notification_name: notification.notification_name.clone(),
            notification_type: notification.notification_type.clone(),
            topic_id: topic,
            trace: serde_json::json!({
                "trace_id": format!("cts-test-{}", uuid::Uuid::new_v4()),
                "time": now_ms,
                "record_time": now_ms,
                "service_type": "CTS",
                "resource_type": "notification",
                "trace_name": "testNotification",
                "trace_rating": "normal",
                "trace_type": "SystemAction",
                "user": {"name": "cts-test"},
                "message": "a test message of cts: this notification's topic receives messages",
            }),
        }
    }
}

/// What an outbox file holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    /// When the messages were written (ms): retries stop a while after this.
    pub created_ms: i64,
    /// The messages.
    pub messages: Vec<Message>,
}

/// The messages `traces` fire under `matcher`.
pub fn messages(matcher: &Matcher, traces: &[Value]) -> Vec<Message> {
    let mut out = Vec::new();
    if matcher.is_empty() {
        return out;
    }
    let mut fired = Vec::new();
    for trace in traces {
        let Some(map) = trace.as_object() else {
            continue;
        };
        matcher.matches(map, &mut fired);
        for &i in &fired {
            let t = matcher.target(i);
            out.push(Message {
                message_id: uuid::Uuid::new_v4().to_string(),
                notification_id: t.notification_id.clone(),
                notification_name: t.notification_name.clone(),
                notification_type: t.notification_type.clone(),
                topic_id: t.topic_id.clone(),
                trace: Value::Object(map.clone()),
            });
        }
    }
    out
}

/// A project's outbox.
#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    /// The outbox of the project folder `project_dir`.
    pub fn of(project_dir: &Path) -> Outbox {
        Outbox {
            dir: project_dir.join(DIR),
        }
    }

    /// Its folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Write `messages` durably, as one file (nothing when there are none). Returns the file.
    pub fn put(&self, messages: Vec<Message>, now_ms: i64) -> Result<Option<PathBuf>> {
        if messages.is_empty() {
            return Ok(None);
        }
        let batch = Batch {
            created_ms: now_ms,
            messages,
        };
        let bytes = serde_json::to_vec(&batch)
            .map_err(|e| Error::internal(format!("outbox batch to JSON: {e}")))?;
        let path = self
            .dir
            .join(format!("{now_ms:013}-{}.json", uuid::Uuid::new_v4()));
        write_atomic(&path, &bytes)?;
        failpoint::hit(failpoint::NOTIFY_OUTBOX_WRITTEN)?;
        Ok(Some(path))
    }

    /// The files waiting, oldest first.
    pub fn pending(&self) -> Result<Vec<PathBuf>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("list", &self.dir, e)),
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().is_some_and(|x| x == "json")
                    && p.file_name()
                        .is_some_and(|n| !n.to_string_lossy().starts_with('.'))
            })
            .collect();
        files.sort();
        Ok(files)
    }

    /// The batch in `path`.
    pub fn read(path: &Path) -> Result<Batch> {
        let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::invalid(format!("outbox file {}: {e}", path.display())))
    }

    /// Every message of `path` is done: remove it.
    pub fn done(path: &Path) -> Result<()> {
        match std::fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("remove", path, e)),
        }
    }
}

/// Write the messages `traces` fire under `matcher` to `outbox`: the step before the traces are
/// appended and acknowledged.
pub fn put_matches(
    outbox: &Outbox,
    matcher: &Matcher,
    traces: &[Value],
    now_ms: i64,
) -> Result<usize> {
    let messages = messages(matcher, traces);
    let n = messages.len();
    outbox.put(messages, now_ms)?;
    Ok(n)
}

//! The delivery log: one line per attempt outcome (`delivered`, `retry`, `failed`) in a
//! project's `deliveries.jsonl`, queryable as the table `notification_deliveries`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The file, in a project's folder.
pub const FILE: &str = "deliveries.jsonl";
/// The messages given up, whole (one JSON object per line), in a project's folder: to send again
/// by hand.
pub const FAILED_FILE: &str = "notifications-failed.jsonl";
/// The table it is queried as.
pub const TABLE: &str = "notification_deliveries";

/// One outcome of one attempt to deliver a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// When (RFC 3339, UTC).
    pub time: String,
    /// The message.
    pub message_id: String,
    /// The notification that fired.
    pub notification_id: String,
    /// Its name.
    pub notification_name: String,
    /// Where the message went.
    pub topic_id: String,
    /// The trace that fired it.
    pub trace_id: Option<String>,
    /// `delivered`, `retry` (a failed attempt, to be tried again), `failed` (given up).
    pub outcome: String,
    /// Attempt number, from 1.
    pub attempt: i64,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<i64>,
    /// What went wrong.
    pub error: Option<String>,
}

/// A project's delivery log, appended to by every delivery at once.
#[derive(Debug)]
pub struct DeliveryLog {
    path: PathBuf,
    file: Mutex<Option<std::fs::File>>,
    failed: PathBuf,
}

impl DeliveryLog {
    /// The log of the project folder `project_dir`.
    pub fn of(project_dir: &Path) -> Arc<DeliveryLog> {
        Arc::new(DeliveryLog {
            path: project_dir.join(FILE),
            file: Mutex::new(None),
            failed: project_dir.join(FAILED_FILE),
        })
    }

    /// Append `entry` (and say it on stderr). A log that cannot be written is said on stderr;
    /// delivery goes on.
    pub fn write(&self, entry: &Entry) {
        eprintln!(
            "{} notification {} ({}) message {} to {}: {} (attempt {}{}{})",
            entry.time,
            entry.notification_name,
            entry.notification_id,
            entry.message_id,
            entry.topic_id,
            entry.outcome,
            entry.attempt,
            entry
                .status
                .map(|s| format!(", HTTP {s}"))
                .unwrap_or_default(),
            entry
                .error
                .as_ref()
                .map(|e| format!(", {e}"))
                .unwrap_or_default(),
        );
        let Ok(mut line) = serde_json::to_vec(entry) else {
            return;
        };
        line.push(b'\n');
        let Ok(mut guard) = self.file.lock() else {
            return;
        };
        if guard.is_none() {
            match std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
            {
                Ok(f) => *guard = Some(f),
                Err(e) => {
                    eprintln!("cts: delivery log {}: {e}", self.path.display());
                    return;
                }
            }
        }
        if let Some(file) = guard.as_mut()
            && let Err(e) = file.write_all(&line)
        {
            eprintln!("cts: delivery log {}: {e}", self.path.display());
        }
    }
}

impl DeliveryLog {
    /// Keep `message`, given up, whole (synced: its outbox file is removed next).
    pub fn keep_failed(&self, message: &impl Serialize) -> Result<()> {
        let mut line = serde_json::to_vec(message)
            .map_err(|e| Error::internal(format!("message to JSON: {e}")))?;
        line.push(b'\n');
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.failed)
            .map_err(|e| Error::io("open", &self.failed, e))?;
        file.write_all(&line)
            .and_then(|()| file.sync_all())
            .map_err(|e| Error::io("write", &self.failed, e))
    }
}

/// The schema of `notification_deliveries`.
pub fn schema() -> Arc<Schema> {
    let text = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
    Arc::new(Schema::new(vec![
        Field::new(
            "time",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            false,
        ),
        text("message_id", false),
        text("notification_id", false),
        text("notification_name", false),
        text("topic_id", false),
        text("trace_id", true),
        text("outcome", false),
        Field::new("attempt", DataType::Int64, false),
        Field::new("status", DataType::Int64, true),
        text("error", true),
    ]))
}

/// Register `notification_deliveries` in `ctx`: the delivery log of the data directory
/// `data_dir` (empty when there is none). A line cut short by a crash is skipped.
pub fn register(ctx: &SessionContext, data_dir: &Path) -> Result<()> {
    let path = data_dir.join(FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::io("read", &path, e)),
    };
    let whole: String = text
        .lines()
        .filter(|l| serde_json::from_str::<Entry>(l).is_ok())
        .flat_map(|l| [l, "\n"])
        .collect();
    let schema = schema();
    let reader = arrow::json::ReaderBuilder::new(schema.clone())
        .build(std::io::Cursor::new(whole.into_bytes()))
        .map_err(|e| Error::invalid(format!("{}: {e}", path.display())))?;
    let batches = reader
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::invalid(format!("{}: {e}", path.display())))?;
    let table = MemTable::try_new(schema, vec![batches])?;
    ctx.register_table(TABLE, Arc::new(table))?;
    Ok(())
}

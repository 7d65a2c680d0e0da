//! [`HotStore`]: the hot store of one data directory, open for appends and maintenance.

use std::path::Path;
use std::sync::Arc;

use arrow::array::RecordBatch;

use crate::error::{Error, Result};
use crate::store::archive::Archive;
use crate::store::hot::state::{HotOptions, WAL_DIR};
use crate::store::hot::writer::{AppendSummary, HotWriter, Request, Shared, take_turn};

/// The least a maintenance pass raises the watermark by.
const ROLL_OVER_STEP_MS: i64 = 60_000;

/// What one maintenance pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MaintenanceSummary {
    /// Traces moved from the log into segments.
    pub flushed: u64,
    /// Traces copied into the archive by roll-over (new to it).
    pub rolled_over: u64,
    /// Traces roll-over found in the archive already.
    pub already_archived: u64,
    /// Segments merged by compaction.
    pub segments_merged: u64,
    /// Files removed.
    pub files_removed: u64,
}

/// The hot store in a data directory, open for writing.
#[derive(Debug, Clone)]
pub struct HotStore {
    shared: Arc<Shared>,
}

impl HotStore {
    /// Open the hot store in `dir` (created on first use) in front of `archive`.
    pub async fn open(dir: &Path, archive: Archive, options: HotOptions) -> Result<HotStore> {
        std::fs::create_dir_all(dir.join(WAL_DIR))
            .map_err(|e| Error::io("create folder", dir.join(WAL_DIR), e))?;
        let store = HotStore {
            shared: Arc::new(Shared {
                dir: dir.to_path_buf(),
                archive,
                options,
                writer: tokio::sync::Mutex::new(Default::default()),
                pending: std::sync::Mutex::new(Vec::new()),
            }),
        };
        // Create the state (and check the lock can be taken) now, not at the first append.
        drop(store.writer().await?);
        Ok(store)
    }

    /// Its folder.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// The archive it ages traces into.
    pub fn archive(&self) -> &Archive {
        &self.shared.archive
    }

    /// Its options.
    pub fn options(&self) -> &HotOptions {
        &self.shared.options
    }

    /// Take a writer's turn: wait for the lock, and catch up with what other processes wrote.
    pub async fn writer(&self) -> Result<HotWriter<'_>> {
        let guard = self.shared.writer.lock().await;
        take_turn(&self.shared, guard).await
    }

    /// Append traces (in [`trace_schema`](crate::trace::trace_schema)) and return once they are
    /// durable: those at or after the watermark in the log (synced), older ones in the archive.
    /// Duplicates are dropped. Concurrent appends are committed together.
    pub async fn append(&self, batch: RecordBatch) -> Result<AppendSummary> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.queue()?.push(Request { batch, reply });
        // Whoever gets the writer next commits every append waiting by then, this one
        // included: one log write and one sync for the group.
        let guard = self.shared.writer.lock().await;
        let group = std::mem::take(&mut *self.queue()?);
        if !group.is_empty() {
            match take_turn(&self.shared, guard).await {
                Ok(mut w) => {
                    w.commit_group(group).await;
                    w.flush_if_full().await?;
                }
                Err(e) => {
                    let text = e.to_string();
                    for r in group {
                        let _ = r.reply.send(Err(Error::Internal(text.clone())));
                    }
                }
            }
        } else {
            drop(guard);
        }
        answer
            .await
            .map_err(|_| Error::Internal("an append was dropped unanswered".into()))?
    }

    fn queue(&self) -> Result<std::sync::MutexGuard<'_, Vec<Request>>> {
        self.shared
            .pending
            .lock()
            .map_err(|_| Error::Internal("hot store queue poisoned".into()))
    }

    /// Roll over what is older than the retention into the archive, merge small segments and
    /// remove unused files; flush the log first when `flush` is set or it is full (a roll-over
    /// flushes it anyway).
    pub async fn maintain(&self, flush: bool) -> Result<MaintenanceSummary> {
        let mut w = self.writer().await?;
        let full = w.w.log.as_ref().map_or(0, |l| l.len()) >= self.shared.options.flush_bytes;
        let mut summary = MaintenanceSummary::default();
        if flush || full {
            summary.flushed = w.flush().await?;
        }
        let now = chrono::Utc::now().timestamp_millis();
        let cutoff = now - self.shared.options.retention.as_millis() as i64;
        // The watermark moves in steps of a minute at least, not at every call.
        let (rolled, found) = if cutoff - w.watermark() >= ROLL_OVER_STEP_MS {
            w.roll_over(cutoff).await?
        } else {
            (0, 0)
        };
        summary.rolled_over = rolled;
        summary.already_archived = found;
        summary.segments_merged = w.compact().await?;
        // The clock read again: files the compaction just retired are aged from now, not from
        // before it (with no grace period they go at once, however long the merge took).
        summary.files_removed = w.remove_unused(chrono::Utc::now().timestamp_millis())?;
        Ok(summary)
    }
}

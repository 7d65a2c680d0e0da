//! Writers of the hot store: one at a time across processes (an OS lock on `LOCK`), appends
//! within a process committed in groups (one log write and one `fsync` for every append waiting).

use std::fs::{File, OpenOptions};
use std::path::PathBuf;

use arrow::array::RecordBatch;
use arrow::compute::concat_batches;

use crate::error::{Error, Result};
use crate::failpoint;
use crate::storage::fs::blocking;
use crate::store::archive::{Archive, ArchiveIds};
use crate::store::hot::segment::read_segment_ids;
use crate::store::hot::state::{
    HotOptions, HotState, LOCK_FILE, read_state, wal_path, write_state,
};
use crate::store::once::{DayBatch, DayIds, Tiers, days_before, new_traces_by_day};
use crate::store::run::RunId;
use crate::store::wal::{LogWriter, encode_frame};
use crate::trace::{DAY_MS, times, trace_schema};

/// What the handles of one open hot store share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) dir: PathBuf,
    pub(crate) archive: Archive,
    pub(crate) options: HotOptions,
    pub(crate) writer: tokio::sync::Mutex<WriterState>,
    pub(crate) pending: std::sync::Mutex<Vec<Request>>,
}

/// An append waiting for its group's commit.
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) batch: RecordBatch,
    pub(crate) reply: tokio::sync::oneshot::Sender<Result<AppendSummary>>,
}

/// What became of the traces of one append.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppendSummary {
    /// Traces new to the hot store.
    pub hot: u64,
    /// Traces older than the watermark, new to the archive.
    pub archived: u64,
    /// Traces already stored (same `trace_id` on the same day), dropped.
    pub duplicates: u64,
}

impl std::ops::AddAssign for AppendSummary {
    fn add_assign(&mut self, other: AppendSummary) {
        self.hot += other.hot;
        self.archived += other.archived;
        self.duplicates += other.duplicates;
    }
}

/// What a writer process knows of the hot store between turns.
#[derive(Debug, Default)]
pub(crate) struct WriterState {
    /// `(generation, log length)` after this process's last turn.
    pub(crate) seen: Option<(u64, u64)>,
    pub(crate) state: Option<HotState>,
    pub(crate) log: Option<LogWriter>,
    /// Trace IDs in the hot store, per day.
    pub(crate) ids: DayIds,
    /// `LOCK`, open; locked during a turn.
    lock_file: Option<File>,
    /// IDs were recorded that the log may not hold: re-read them at the next turn.
    ids_unsure: bool,
}

/// One writer's turn at the hot store: holds the lock until dropped.
#[derive(Debug)]
pub struct HotWriter<'a> {
    pub(crate) shared: &'a Shared,
    pub(crate) w: tokio::sync::MutexGuard<'a, WriterState>,
}

/// Take a writer's turn with the process's writer state `w`: take the lock (waiting for another
/// process's turn to end), and catch up with what other processes wrote.
pub(crate) async fn take_turn<'a>(
    shared: &'a Shared,
    mut w: tokio::sync::MutexGuard<'a, WriterState>,
) -> Result<HotWriter<'a>> {
    if w.lock_file.is_none() {
        let lock_path = shared.dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io("open", &lock_path, e))?;
        w.lock_file = Some(file);
    }
    if let Some(file) = &w.lock_file {
        let lock_err = |e| Error::io("lock", shared.dir.join(LOCK_FILE), e);
        match file.try_lock() {
            Ok(()) => {}
            // Another process's turn: wait for it off the runtime's threads.
            Err(std::fs::TryLockError::WouldBlock) => blocking(|| file.lock()).map_err(lock_err)?,
            Err(std::fs::TryLockError::Error(e)) => return Err(lock_err(e)),
        }
    }
    let mut writer = HotWriter { shared, w };
    writer.catch_up().await?;
    Ok(writer)
}

impl Shared {
    /// The state of a new hot store: `H` is now − retention, or the end of the archive's last
    /// day when the archive already holds later traces (they stay visible there).
    async fn initial_state(&self) -> Result<HotState> {
        let now = chrono::Utc::now().timestamp_millis();
        let mut watermark = now - self.options.retention.as_millis() as i64;
        if let Some(last) = self.archive.last_day().await? {
            watermark = watermark.max((last + 1) * DAY_MS);
        }
        Ok(HotState::new(watermark))
    }
}

impl HotWriter<'_> {
    /// Read the state, and the hot store's trace IDs again when another process wrote since
    /// this one's last turn (or this one's IDs may be wrong).
    async fn catch_up(&mut self) -> Result<()> {
        let shared = self.shared;
        let w = &mut self.w;
        let state = match read_state(&shared.dir)? {
            Some(state) => state,
            None => {
                let state = shared.initial_state().await?;
                write_state(&shared.dir, &state)?;
                state
            }
        };
        let log_path = wal_path(&shared.dir, state.wal);
        let log_len = std::fs::metadata(&log_path).map(|m| m.len()).unwrap_or(0);
        let current = (state.generation, log_len);
        let same_log = w
            .log
            .as_ref()
            .is_some_and(|l| l.path() == log_path.as_path());
        if w.ids_unsure || w.seen != Some(current) || !(same_log || log_len == 0) {
            // Another process wrote (or this is the first turn): read the IDs again.
            w.log = None;
            w.ids = blocking(|| read_segment_ids(&shared.dir, &state.segments))?;
            w.ids_unsure = false;
        }
        if w.log.is_none() && log_len > 0 {
            let (log, contents) = blocking(|| LogWriter::open(&log_path))?;
            for batch in &contents.batches {
                let ids = crate::trace::trace_ids(batch);
                for (row, time) in times(batch).iter().enumerate() {
                    w.ids.insert(*time, ids.value(row));
                }
            }
            w.log = Some(log);
        }
        let log_len = w.log.as_ref().map_or(0, |l| l.len());
        w.seen = Some((state.generation, log_len));
        w.state = Some(state);
        Ok(())
    }

    /// The state as of this turn.
    pub(crate) fn state(&self) -> Result<&HotState> {
        self.w
            .state
            .as_ref()
            .ok_or_else(|| Error::Internal("hot store state not read".into()))
    }

    /// `H`: traces at or after it belong in the hot store, older ones in the archive.
    pub fn watermark(&self) -> i64 {
        self.w.state.as_ref().map_or(i64::MIN, |s| s.watermark_ms)
    }

    /// The state's generation: it changes whenever segments, log or watermark change hands.
    pub fn generation(&self) -> u64 {
        self.w.state.as_ref().map_or(0, |s| s.generation)
    }

    /// The hot store's trace IDs, to deduplicate traces for it ([`Tiers`]). The caller is to
    /// append the traces it records there with [`append_durable`](Self::append_durable) in this
    /// turn: until then, and if that fails, the next turn reads the IDs again.
    pub fn ids_mut(&mut self) -> &mut DayIds {
        self.w.ids_unsure = true;
        &mut self.w.ids
    }

    /// Append traces (already deduplicated, all at or after the watermark) to the log and sync
    /// it: when this returns they are durable.
    pub fn append_durable(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.num_rows() > 0 {
            let frame = encode_frame(batch)?;
            if self.w.log.is_none() {
                let path = wal_path(&self.shared.dir, self.state()?.wal);
                let (log, _) = blocking(|| LogWriter::open(&path))?;
                self.w.log = Some(log);
            }
            let log = self
                .w
                .log
                .as_mut()
                .ok_or_else(|| Error::Internal("log not open".into()))?;
            // Inline: a sync takes a fraction of a millisecond, less than handing the thread over.
            log.append_durable(&frame)?;
            let len = log.len();
            let generation = self.generation();
            self.w.seen = Some((generation, len));
        }
        self.w.ids_unsure = false;
        Ok(())
    }

    /// Commit a group of appends under this turn, and answer each.
    pub(crate) async fn commit_group(&mut self, group: Vec<Request>) {
        let mut batches = Vec::with_capacity(group.len());
        let mut replies = Vec::with_capacity(group.len());
        for r in group {
            batches.push(r.batch);
            replies.push(r.reply);
        }
        match self.commit(&batches).await {
            Ok(summaries) => {
                for (reply, summary) in replies.into_iter().zip(summaries) {
                    let _ = reply.send(Ok(summary));
                }
            }
            Err(e) => {
                let text = e.to_string();
                for reply in replies {
                    let _ = reply.send(Err(Error::Internal(text.clone())));
                }
            }
        }
    }

    /// Route, deduplicate and store batches: traces at or after the watermark into the log (one
    /// write and sync for all), older ones into the archive, before anything is answered.
    async fn commit(&mut self, batches: &[RecordBatch]) -> Result<Vec<AppendSummary>> {
        let watermark = self.watermark();
        let archive = self.shared.archive.clone();
        // Traces older than the watermark go to the archive: under its write lease, from
        // reading the IDs of their days until they are written.
        let old_days = days_before(batches, watermark);
        let run = RunId::new();
        let lease = match old_days.is_empty() {
            true => None,
            false => Some(archive.lease(&run, "hot store (older traces)").await?),
        };
        let mut archive_ids = ArchiveIds::default();
        archive.refresh_ids(&mut archive_ids, old_days).await?;
        let new = new_traces_by_day(
            batches,
            &mut Tiers {
                watermark,
                hot: self.ids_mut(),
                archive: archive_ids.ids_mut(),
            },
        )?;
        let summaries = batches
            .iter()
            .zip(&new.keep)
            .map(|(batch, keep)| {
                let mut summary = AppendSummary::default();
                for (time, kept) in times(batch).iter().zip(keep) {
                    match (*kept, *time >= watermark) {
                        (false, _) => summary.duplicates += 1,
                        (true, true) => summary.hot += 1,
                        (true, false) => summary.archived += 1,
                    }
                }
                summary
            })
            .collect();
        let mut recent = Vec::new();
        let mut older = Vec::new();
        for day in &new.days {
            let (hot, old) = day.split_at(watermark);
            recent.push(hot);
            if old.num_rows() > 0 {
                older.push(DayBatch {
                    day: day.day,
                    batch: old,
                });
            }
        }
        if !older.is_empty() {
            archive.init().await?;
            archive
                .write_days(older, |_, day| format!("part-hot-{run}-{day}.parquet"), 1)
                .await?;
        }
        if let Some(lease) = lease {
            lease.release().await?;
        }
        let recent = concat_batches(&trace_schema(), &recent)
            .map_err(|e| Error::arrow("gathering appended traces", e))?;
        self.append_durable(&recent)?;
        failpoint::hit(failpoint::HOT_APPENDED)?;
        Ok(summaries)
    }
}

impl Drop for HotWriter<'_> {
    fn drop(&mut self) {
        // Closing the file would release the lock too; unlocking keeps it open for next time.
        if let Some(file) = &self.w.lock_file {
            let _ = file.unlock();
        }
    }
}

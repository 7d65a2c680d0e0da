//! The hot store: the last days of traces (seven by default), appended as they happen, durable
//! once acknowledged, visible to queries at once, and aged into the archive.
//!
//! ```text
//! <data-dir>/hot/state.json                        the current state (replaced atomically)
//! <data-dir>/hot/wal/<n>.wal                       the write-ahead log (see [`crate::wal`])
//! <data-dir>/hot/traces/day=YYYY-MM-DD/seg-*.parquet  flushed segments (with a `day` column)
//! <data-dir>/hot/LOCK                              held by the one writer of the moment
//! ```
//!
//! **The watermark.** The state holds a time `H`. The hot store answers for traces at `H` and
//! later, the archive for traces before `H`; `traces` is the one plus the other, so no trace is
//! counted in both. Every writer routes by it: an appended or loaded trace at `H` or later goes
//! to the hot store, an older one to the archive (each deduplicated by `trace_id` within the day
//! of its `time`). Roll-over raises `H` to *now − retention* after copying the traces below the
//! new `H` into the archive, so a trace is in the archive before it leaves the hot store.
//!
//! **Writers** take `LOCK` (an OS file lock, so processes take turns), read the state, and,
//! when another process wrote since their last turn, re-read the trace IDs of the hot store.
//! Appends within one process are committed in groups: one log write and one `fsync` for every
//! append waiting when the log is free.
//!
//! **Readers** take no lock: they read the state, then the log, then the state again, and retry
//! when it changed, which gives a consistent [`Snapshot`]. Files a reader may still be reading
//! are deleted only a grace period after they left the state.
//!
//! **Crash safety.** Each step writes new files first and then replaces `state.json`; a crash
//! before the replace leaves files no state names (removed by the next maintenance), a crash
//! after it leaves files the state no longer names (likewise). Roll-over is repeatable: a
//! second run finds the copied traces in the archive and adds nothing.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use arrow::array::{ArrayRef, AsArray, BooleanArray, RecordBatch, StringArray};
use arrow::compute::{concat_batches, filter_record_batch, sort_to_indices, take_record_batch};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimestampMillisecondType};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde::{Deserialize, Serialize};

use crate::archive::{Archive, DAY_MS, IdSet, day_string, encode_parquet};
use crate::error::{Error, Result};
use crate::model::{col, trace_schema};
use crate::wal::{LogWriter, encode_frame, read_log, sync_dir, write_atomic};

/// The hot store's folder inside the data directory.
pub const HOT_DIR: &str = "hot";
const STATE_FILE: &str = "state.json";
const LOCK_FILE: &str = "LOCK";
const WAL_DIR: &str = "wal";
const SEGMENTS_DIR: &str = "traces";
const FORMAT: &str = "cts-hot";
const FORMAT_VERSION: u64 = 1;
/// The least a maintenance pass raises the watermark by.
const ROLL_OVER_STEP_MS: i64 = 60_000;

/// How the hot store keeps and ages traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HotOptions {
    /// Traces whose `time` is within this of now stay in the hot store.
    pub retention: Duration,
    /// Log bytes after which the log is flushed into Parquet segments.
    pub flush_bytes: u64,
    /// Segments of one day beyond which they are merged into one.
    pub max_segments_per_day: usize,
    /// How long a file that left the state is kept for readers still reading it.
    pub grace: Duration,
}

impl Default for HotOptions {
    fn default() -> Self {
        HotOptions {
            retention: Duration::from_secs(7 * 86_400),
            flush_bytes: 64 << 20,
            max_segments_per_day: 8,
            grace: Duration::from_secs(600),
        }
    }
}

/// The hot store's state, as `state.json` holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HotState {
    /// Always `cts-hot`.
    pub format: String,
    /// Layout version.
    pub version: u64,
    /// Raised by every change of the state.
    pub generation: u64,
    /// `H`: the hot store holds the traces at or after this time (ms), the archive those before.
    pub watermark_ms: i64,
    /// Number of the live log, `wal/<n>.wal`.
    pub wal: u64,
    /// The segments, in the order they were written.
    pub segments: Vec<Segment>,
    /// Files that left the state, kept for readers until the grace period is over.
    #[serde(default)]
    pub obsolete: Vec<Obsolete>,
}

/// A Parquet segment of the hot store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// Path inside the hot store's folder.
    pub file: String,
    /// Day number (since the epoch) of every trace in it.
    pub day: i64,
    /// Traces in it.
    pub rows: u64,
    /// Earliest `time` in it (ms).
    pub min_time: i64,
    /// Latest `time` in it (ms).
    pub max_time: i64,
    /// Size in bytes.
    pub bytes: u64,
}

/// A file that left the state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Obsolete {
    /// Path inside the hot store's folder.
    pub file: String,
    /// When it left the state (ms).
    pub since_ms: i64,
}

/// A consistent view of the hot store, for one query.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The hot store's folder.
    pub dir: PathBuf,
    /// `H`, or `None` when there is no hot store (the archive then answers for all time).
    pub watermark_ms: Option<i64>,
    /// The segments.
    pub segments: Vec<Segment>,
    /// The log's traces, in [`hot_query_schema`] (with `day`, text as `Utf8View`).
    pub log: Vec<RecordBatch>,
}

impl Snapshot {
    /// Traces in the snapshot (including any the watermark hides).
    pub fn rows(&self) -> u64 {
        self.segments.iter().map(|s| s.rows).sum::<u64>()
            + self.log.iter().map(|b| b.num_rows() as u64).sum::<u64>()
    }
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

/// The schema of the hot store's segments and of `hot_traces`: the trace schema and `day`.
pub fn hot_schema() -> SchemaRef {
    HOT_SCHEMA.clone()
}

/// [`hot_schema`] as queries see it: the text columns of the trace as `Utf8View`
/// ([`crate::model::query_schema`]), `day` as it is.
pub fn hot_query_schema() -> SchemaRef {
    HOT_QUERY_SCHEMA.clone()
}

static HOT_QUERY_SCHEMA: LazyLock<SchemaRef> =
    LazyLock::new(|| with_day_field(&crate::model::query_schema()));

static HOT_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| with_day_field(&trace_schema()));

/// `schema` and the `day` column after it.
fn with_day_field(schema: &Schema) -> SchemaRef {
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(Field::new(col::DAY, DataType::Utf8, false));
    Arc::new(Schema::new(fields))
}

/// Read a consistent snapshot of the hot store in `dir` (no lock taken).
pub fn snapshot(dir: &Path) -> Result<Snapshot> {
    for _ in 0..100 {
        let Some(state) = read_state(dir)? else {
            return Ok(Snapshot {
                dir: dir.to_path_buf(),
                watermark_ms: None,
                segments: Vec::new(),
                log: Vec::new(),
            });
        };
        let log = read_log_cached(&wal_path(dir, state.wal))?;
        let again = read_state(dir)?;
        if again.as_ref().map(|s| s.generation) == Some(state.generation) {
            return Ok(Snapshot {
                dir: dir.to_path_buf(),
                watermark_ms: Some(state.watermark_ms),
                segments: state.segments,
                log,
            });
        }
    }
    Err(Error::Internal(format!(
        "the hot store in {} changed 100 times while being read",
        dir.display()
    )))
}

/// The frames of each live log this process has read (in [`hot_query_schema`]), and how many
/// bytes of it they are. A log only grows until a new one replaces it, so a snapshot reads just
/// the frames appended since the previous one: a server answering many queries does not decode
/// the whole log (up to 64 MB) for each.
static LOG_CACHE: LazyLock<std::sync::Mutex<HashMap<PathBuf, CachedLog>>> =
    LazyLock::new(Default::default);

/// Bytes of whole frames read, and their batches.
type CachedLog = (u64, Vec<RecordBatch>);

/// The batches of the log at `path`, in order, in [`hot_query_schema`].
fn read_log_cached(path: &Path) -> Result<Vec<RecordBatch>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut cache = LOG_CACHE
        .lock()
        .map_err(|_| Error::Internal("hot store log cache poisoned".into()))?;
    let (mut valid_len, mut batches) = cache.get(path).cloned().unwrap_or_default();
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("open", path, e)),
    };
    let len = file
        .metadata()
        .map_err(|e| Error::io("read", path, e))?
        .len();
    if len < valid_len {
        // Not the log that was cached (logs are never cut below a whole frame): read it anew.
        (valid_len, batches) = (0, Vec::new());
    }
    let mut tail = Vec::new();
    file.seek(SeekFrom::Start(valid_len))
        .and_then(|_| file.read_to_end(&mut tail))
        .map_err(|e| Error::io("read", path, e))?;
    let contents = crate::wal::decode_frames(&tail, path)?;
    for batch in &contents.batches {
        batches.push(crate::model::cast_to(
            &with_day(batch)?,
            &hot_query_schema(),
        )?);
    }
    valid_len += contents.valid_len;
    // Logs of the same hot store that this one replaced are not read again.
    cache.retain(|cached, _| cached.parent() != path.parent());
    cache.insert(path.to_path_buf(), (valid_len, batches.clone()));
    Ok(batches)
}

/// The hot store in a data directory, open for writing.
#[derive(Debug, Clone)]
pub struct HotStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    archive: Archive,
    options: HotOptions,
    writer: tokio::sync::Mutex<WriterState>,
    pending: std::sync::Mutex<Vec<Request>>,
}

#[derive(Debug)]
struct Request {
    batch: RecordBatch,
    reply: tokio::sync::oneshot::Sender<Result<AppendSummary>>,
}

/// What a writer process knows of the hot store between turns.
#[derive(Debug, Default)]
struct WriterState {
    /// `(generation, log length)` after this process's last turn.
    seen: Option<(u64, u64)>,
    state: Option<HotState>,
    log: Option<LogWriter>,
    /// Trace IDs in the hot store, per day.
    ids: BTreeMap<i64, IdSet>,
    /// `LOCK`, open; locked during a turn.
    lock_file: Option<File>,
}

/// One writer's turn at the hot store: holds the lock until dropped.
pub struct HotWriter<'a> {
    inner: &'a Inner,
    w: tokio::sync::MutexGuard<'a, WriterState>,
}

impl HotStore {
    /// Open the hot store in `dir` (created on first use) in front of `archive`.
    pub async fn open(dir: &Path, archive: Archive, options: HotOptions) -> Result<HotStore> {
        std::fs::create_dir_all(dir.join(WAL_DIR))
            .map_err(|e| Error::io("create folder", dir.join(WAL_DIR), e))?;
        let store = HotStore {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                archive,
                options,
                writer: tokio::sync::Mutex::new(WriterState::default()),
                pending: std::sync::Mutex::new(Vec::new()),
            }),
        };
        // Create the state (and check the lock can be taken) now, not at the first append.
        drop(store.writer().await?);
        Ok(store)
    }

    /// Its folder.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The archive it ages traces into.
    pub fn archive(&self) -> &Archive {
        &self.inner.archive
    }

    /// Its options.
    pub fn options(&self) -> &HotOptions {
        &self.inner.options
    }

    /// Take a writer's turn: wait for the lock, and catch up with what other processes wrote.
    pub async fn writer(&self) -> Result<HotWriter<'_>> {
        let guard = self.inner.writer.lock().await;
        self.turn(guard).await
    }

    async fn turn<'a>(
        &'a self,
        mut w: tokio::sync::MutexGuard<'a, WriterState>,
    ) -> Result<HotWriter<'a>> {
        let inner = self.inner.as_ref();
        if w.lock_file.is_none() {
            let lock_path = inner.dir.join(LOCK_FILE);
            let file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock_path)
                .map_err(|e| Error::io("open", &lock_path, e))?;
            w.lock_file = Some(file);
        }
        if let Some(file) = &w.lock_file {
            let lock_err = |e| Error::io("lock", inner.dir.join(LOCK_FILE), e);
            match file.try_lock() {
                Ok(()) => {}
                // Another process's turn: wait for it off the runtime's threads.
                Err(std::fs::TryLockError::WouldBlock) => {
                    blocking(|| file.lock()).map_err(lock_err)?
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(lock_err(e)),
            }
        }
        let mut writer = HotWriter { inner, w };
        writer.catch_up().await?;
        Ok(writer)
    }

    /// Append traces (in [`trace_schema`]) and return once they are durable: those at or after
    /// the watermark in the log (synced), older ones in the archive. Duplicates are dropped.
    /// Concurrent appends are committed together.
    pub async fn append(&self, batch: RecordBatch) -> Result<AppendSummary> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.queue()?.push(Request { batch, reply });
        // Whoever gets the writer next commits every append waiting by then, this one
        // included: one log write and one sync for the group.
        let guard = self.inner.writer.lock().await;
        let group = std::mem::take(&mut *self.queue()?);
        if !group.is_empty() {
            match self.turn(guard).await {
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
        self.inner
            .pending
            .lock()
            .map_err(|_| Error::Internal("hot store queue poisoned".into()))
    }

    /// Roll over what is older than the retention into the archive, merge small segments and
    /// remove unused files; flush the log first when `flush` is set or it is full (a roll-over
    /// flushes it anyway).
    pub async fn maintain(&self, flush: bool) -> Result<MaintenanceSummary> {
        let mut w = self.writer().await?;
        let full = w.w.log.as_ref().map_or(0, |l| l.len()) >= self.inner.options.flush_bytes;
        let mut summary = MaintenanceSummary::default();
        if flush || full {
            summary.flushed = w.flush().await?;
        }
        let now = chrono::Utc::now().timestamp_millis();
        let cutoff = now - self.inner.options.retention.as_millis() as i64;
        // The watermark moves in steps of a minute at least, not at every call.
        let (rolled, found) = if cutoff - w.watermark() >= ROLL_OVER_STEP_MS {
            w.roll_over(cutoff).await?
        } else {
            (0, 0)
        };
        summary.rolled_over = rolled;
        summary.already_archived = found;
        summary.segments_merged = w.compact().await?;
        summary.files_removed = w.remove_unused(now)?;
        Ok(summary)
    }
}

impl HotWriter<'_> {
    /// Read the state, and the hot store's trace IDs again when another process wrote since
    /// this one's last turn.
    async fn catch_up(&mut self) -> Result<()> {
        let inner = self.inner;
        let w = &mut self.w;
        let state = match read_state(&inner.dir)? {
            Some(state) => state,
            None => {
                let state = inner.initial_state().await?;
                write_state(&inner.dir, &state)?;
                state
            }
        };
        let log_path = wal_path(&inner.dir, state.wal);
        let log_len = std::fs::metadata(&log_path).map(|m| m.len()).unwrap_or(0);
        let current = (state.generation, log_len);
        let same_log = w
            .log
            .as_ref()
            .is_some_and(|l| l.path() == log_path.as_path());
        if w.seen != Some(current) || !(same_log || log_len == 0) {
            // Another process wrote (or this is the first turn): read the IDs again.
            w.log = None;
            w.ids = blocking(|| read_segment_ids(&inner.dir, &state.segments))?;
        }
        if w.log.is_none() && log_len > 0 {
            let (log, contents) = blocking(|| LogWriter::open(&log_path))?;
            for batch in &contents.batches {
                insert_ids(&mut w.ids, batch);
            }
            w.log = Some(log);
        }
        let log_len = w.log.as_ref().map_or(0, |l| l.len());
        w.seen = Some((state.generation, log_len));
        w.state = Some(state);
        Ok(())
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

impl Inner {
    /// The state of a new hot store: `H` is now − retention, or the end of the archive's last
    /// day when the archive already holds later traces (they stay visible there).
    async fn initial_state(&self) -> Result<HotState> {
        let now = chrono::Utc::now().timestamp_millis();
        let mut watermark = now - self.options.retention.as_millis() as i64;
        if let Some(last) = self.archive.last_day().await? {
            watermark = watermark.max((last + 1) * DAY_MS);
        }
        Ok(HotState {
            format: FORMAT.to_string(),
            version: FORMAT_VERSION,
            generation: 1,
            watermark_ms: watermark,
            wal: 1,
            segments: Vec::new(),
            obsolete: Vec::new(),
        })
    }
}

impl HotWriter<'_> {
    fn state(&self) -> Result<&HotState> {
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

    /// Record a trace ID for the hot store; `false` when the day already has it.
    pub fn insert_id(&mut self, time_ms: i64, id: &str) -> bool {
        self.w
            .ids
            .entry(time_ms.div_euclid(DAY_MS))
            .or_default()
            .insert(id)
    }

    /// Append traces (already deduplicated, all at or after the watermark) to the log and sync
    /// it: when this returns they are durable.
    pub fn append_durable(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let frame = encode_frame(batch)?;
        if self.w.log.is_none() {
            let path = wal_path(&self.inner.dir, self.state()?.wal);
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
        Ok(())
    }

    /// Commit a group of appends under this turn, and answer each.
    async fn commit_group(&mut self, group: Vec<Request>) {
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

    /// Route, deduplicate and store batches; one log write and sync for all of them.
    async fn commit(&mut self, batches: &[RecordBatch]) -> Result<Vec<AppendSummary>> {
        let watermark = self.watermark();
        let mut summaries = Vec::with_capacity(batches.len());
        let mut hot = Vec::new();
        let mut old = Vec::new();
        for batch in batches {
            let mut summary = AppendSummary::default();
            let ids = batch.column(0).as_string::<i32>();
            let times = times(batch);
            let mut keep_hot = vec![false; batch.num_rows()];
            let mut is_old = vec![false; batch.num_rows()];
            for row in 0..batch.num_rows() {
                if times[row] >= watermark {
                    keep_hot[row] = self.insert_id(times[row], ids.value(row));
                    if keep_hot[row] {
                        summary.hot += 1;
                    } else {
                        summary.duplicates += 1;
                    }
                } else {
                    is_old[row] = true;
                }
            }
            hot.push(filter(batch, keep_hot)?);
            old.push(filter(batch, is_old)?);
            summaries.push(summary);
        }
        // Older traces go to the archive, deduplicated against it, before anything is answered.
        if old.iter().any(|b| b.num_rows() > 0) {
            let mut cache = HashMap::new();
            for (batch, summary) in old.iter_mut().zip(summaries.iter_mut()) {
                let keep = archive_keep(&self.inner.archive, &mut cache, batch).await?;
                let kept = keep.iter().filter(|k| **k).count() as u64;
                summary.archived += kept;
                summary.duplicates += batch.num_rows() as u64 - kept;
                *batch = filter(batch, keep)?;
            }
            let name = format!("hot-{}", uuid::Uuid::new_v4().simple());
            write_to_archive(&self.inner.archive, &old, &name).await?;
        }
        let hot = concat_batches(&trace_schema(), &hot)
            .map_err(|e| Error::arrow("gathering appended traces", e))?;
        self.append_durable(&hot)?;
        Ok(summaries)
    }

    /// Flush the log when it has grown past the flush size.
    pub async fn flush_if_full(&mut self) -> Result<()> {
        let len = self.w.log.as_ref().map_or(0, |l| l.len());
        if len >= self.inner.options.flush_bytes {
            self.flush().await?;
            self.compact().await?;
        }
        Ok(())
    }

    /// Move the log's traces into one Parquet segment per day and start a new log. Returns
    /// the traces moved.
    pub async fn flush(&mut self) -> Result<u64> {
        let dir = self.inner.dir.clone();
        let mut state = self.state()?.clone();
        let log_path = wal_path(&dir, state.wal);
        let contents = blocking(|| read_log(&log_path))?;
        if contents.batches.is_empty() {
            return Ok(0);
        }
        let all = concat_batches(&trace_schema(), &contents.batches)
            .map_err(|e| Error::arrow(log_path.display(), e))?;
        let rows = all.num_rows() as u64;
        let watermark = state.watermark_ms;
        let (hot, old) = split_at_watermark(&all, watermark)?;
        if old.num_rows() > 0 {
            // Only a roll-over between append and flush leaves these; the archive takes them.
            let mut cache = HashMap::new();
            let keep = archive_keep(&self.inner.archive, &mut cache, &old).await?;
            let old = filter(&old, keep)?;
            let name = format!("hot-{}-{}", state.generation + 1, state.wal);
            write_to_archive(&self.inner.archive, &[old], &name).await?;
        }
        state.generation += 1;
        let generation = state.generation;
        let new_segments = blocking(|| write_segments(&dir, &hot, generation))?;
        state.segments.extend(new_segments);
        state.wal += 1;
        write_state(&dir, &state)?;
        self.w.log = None;
        self.w.state = Some(state);
        self.w.seen = Some((generation, 0));
        blocking(|| remove_file_if_exists(&log_path))?;
        Ok(rows)
    }

    /// Raise the watermark to `cutoff`, first copying the traces below it into the archive.
    /// Returns the traces new to the archive and those it had already.
    pub async fn roll_over(&mut self, cutoff: i64) -> Result<(u64, u64)> {
        if cutoff <= self.watermark() {
            return Ok((0, 0));
        }
        let log_path = wal_path(&self.inner.dir, self.state()?.wal);
        let log = blocking(|| read_log(&log_path))?;
        if log
            .batches
            .iter()
            .any(|b| times(b).iter().any(|t| *t < cutoff))
        {
            self.flush().await?;
        }
        let dir = self.inner.dir.clone();
        let mut state = self.state()?.clone();
        let leaving: Vec<Segment> = state
            .segments
            .iter()
            .filter(|s| s.min_time < cutoff && s.max_time >= state.watermark_ms)
            .cloned()
            .collect();
        let mut by_day: BTreeMap<i64, Vec<RecordBatch>> = BTreeMap::new();
        for segment in &leaving {
            let batch = blocking(|| read_segment(&dir, segment))?;
            let batch = without_day(&batch)?;
            let times = times(&batch);
            let keep: Vec<bool> = times
                .iter()
                .map(|t| *t >= state.watermark_ms && *t < cutoff)
                .collect();
            by_day
                .entry(segment.day)
                .or_default()
                .push(filter(&batch, keep)?);
        }
        let (mut new, mut found) = (0u64, 0u64);
        let mut cache = HashMap::new();
        for (day, batches) in by_day {
            let batch = concat_batches(&trace_schema(), &batches)
                .map_err(|e| Error::arrow("gathering traces to roll over", e))?;
            let keep = archive_keep(&self.inner.archive, &mut cache, &batch).await?;
            let kept = keep.iter().filter(|k| **k).count() as u64;
            new += kept;
            found += batch.num_rows() as u64 - kept;
            let name = format!("hot-rollover-{cutoff}-{day}");
            write_to_archive(&self.inner.archive, &[filter(&batch, keep)?], &name).await?;
            cache.remove(&day);
        }
        // Everything below the cutoff is in the archive: hand it over.
        let now = chrono::Utc::now().timestamp_millis();
        state.generation += 1;
        state.watermark_ms = cutoff;
        let (gone, stay): (Vec<Segment>, Vec<Segment>) = state
            .segments
            .into_iter()
            .partition(|s| s.max_time < cutoff);
        state.segments = stay;
        state.obsolete.extend(gone.into_iter().map(|s| Obsolete {
            file: s.file,
            since_ms: now,
        }));
        write_state(&dir, &state)?;
        let first_day = cutoff.div_euclid(DAY_MS);
        self.w.ids.retain(|day, _| *day >= first_day);
        self.w.seen = Some((state.generation, 0));
        self.w.state = Some(state);
        Ok((new, found))
    }

    /// Merge the segments of each day that has more than the allowed number into one,
    /// dropping traces the watermark hides. Returns the segments merged.
    pub async fn compact(&mut self) -> Result<u64> {
        let dir = self.inner.dir.clone();
        let mut state = self.state()?.clone();
        let max = self.inner.options.max_segments_per_day.max(1);
        let mut per_day: BTreeMap<i64, usize> = BTreeMap::new();
        for s in &state.segments {
            *per_day.entry(s.day).or_default() += 1;
        }
        let days: Vec<i64> = per_day
            .into_iter()
            .filter(|(_, n)| *n > max)
            .map(|(d, _)| d)
            .collect();
        if days.is_empty() {
            return Ok(0);
        }
        state.generation += 1;
        let generation = state.generation;
        let now = chrono::Utc::now().timestamp_millis();
        let mut merged = 0u64;
        for day in days {
            let (old, rest): (Vec<Segment>, Vec<Segment>) =
                state.segments.into_iter().partition(|s| s.day == day);
            let mut batches = Vec::with_capacity(old.len());
            for segment in &old {
                batches.push(blocking(|| read_segment(&dir, segment))?);
            }
            let all = concat_batches(&hot_schema(), &batches)
                .map_err(|e| Error::arrow("merging segments", e))?;
            let (keep, _) = split_at_watermark(&without_day(&all)?, state.watermark_ms)?;
            let new_segments = blocking(|| write_segments(&dir, &keep, generation))?;
            merged += old.len() as u64;
            state.segments = rest;
            state.segments.extend(new_segments);
            state.obsolete.extend(old.into_iter().map(|s| Obsolete {
                file: s.file,
                since_ms: now,
            }));
        }
        write_state(&dir, &state)?;
        let log_len = self.w.log.as_ref().map_or(0, |l| l.len());
        self.w.seen = Some((generation, log_len));
        self.w.state = Some(state);
        Ok(merged)
    }

    /// Remove files past their grace period, files no state names (left by a crash) and old
    /// logs. Returns the files removed.
    pub fn remove_unused(&mut self, now_ms: i64) -> Result<u64> {
        let dir = self.inner.dir.clone();
        let mut state = self.state()?.clone();
        let grace = self.inner.options.grace.as_millis() as i64;
        let mut removed = 0u64;
        let (expired, kept): (Vec<Obsolete>, Vec<Obsolete>) = state
            .obsolete
            .into_iter()
            .partition(|o| now_ms - o.since_ms >= grace);
        for o in &expired {
            if blocking(|| remove_file_if_exists(&dir.join(&o.file)))? {
                removed += 1;
            }
        }
        state.obsolete = kept;
        if !expired.is_empty() {
            state.generation += 1;
            write_state(&dir, &state)?;
        }
        // Files no state names: written by a step that crashed before its state was written.
        let named: std::collections::HashSet<&str> = state
            .segments
            .iter()
            .map(|s| s.file.as_str())
            .chain(state.obsolete.iter().map(|o| o.file.as_str()))
            .collect();
        for file in list_files(&dir.join(SEGMENTS_DIR))? {
            let relative = file
                .strip_prefix(&dir)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            if !named.contains(relative.as_str()) {
                blocking(|| remove_file_if_exists(&file))?;
                removed += 1;
            }
        }
        for file in list_files(&dir.join(WAL_DIR))? {
            let seq = file
                .file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.parse::<u64>().ok());
            if seq.is_some_and(|n| n < state.wal) {
                blocking(|| remove_file_if_exists(&file))?;
                removed += 1;
            }
        }
        let log_len = self.w.log.as_ref().map_or(0, |l| l.len());
        self.w.seen = Some((state.generation, log_len));
        self.w.state = Some(state);
        Ok(removed)
    }
}

/// Run blocking file work: on a multi-threaded runtime without stalling other tasks.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

fn wal_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(WAL_DIR).join(format!("{n:010}.wal"))
}

fn read_state(dir: &Path) -> Result<Option<HotState>> {
    let path = dir.join(STATE_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read", &path, e)),
    };
    let state: HotState = serde_json::from_slice(&bytes).map_err(|e| Error::Manifest {
        location: path.display().to_string(),
        line: e.line(),
        reason: e.to_string(),
    })?;
    if state.format != FORMAT || state.version != FORMAT_VERSION {
        return Err(Error::InvalidInput(format!(
            "{} is a {} store of version {}; this cts reads {FORMAT} version {FORMAT_VERSION}",
            path.display(),
            state.format,
            state.version
        )));
    }
    Ok(Some(state))
}

fn write_state(dir: &Path, state: &HotState) -> Result<()> {
    let text = serde_json::to_vec_pretty(state)
        .map_err(|e| Error::Internal(format!("hot store state: {e}")))?;
    write_atomic(&dir.join(STATE_FILE), &text)
}

fn times(batch: &RecordBatch) -> &[i64] {
    batch
        .column(1)
        .as_primitive::<TimestampMillisecondType>()
        .values()
}

fn filter(batch: &RecordBatch, keep: Vec<bool>) -> Result<RecordBatch> {
    filter_record_batch(batch, &BooleanArray::from(keep))
        .map_err(|e| Error::arrow("selecting traces", e))
}

fn insert_ids(ids: &mut BTreeMap<i64, IdSet>, batch: &RecordBatch) {
    let id = batch.column(0).as_string::<i32>();
    for (row, t) in times(batch).iter().enumerate() {
        ids.entry(t.div_euclid(DAY_MS))
            .or_default()
            .insert(id.value(row));
    }
}

/// Traces at or after the watermark, and those before it.
fn split_at_watermark(batch: &RecordBatch, watermark: i64) -> Result<(RecordBatch, RecordBatch)> {
    let hot: Vec<bool> = times(batch).iter().map(|t| *t >= watermark).collect();
    let old: Vec<bool> = hot.iter().map(|h| !h).collect();
    Ok((filter(batch, hot)?, filter(batch, old)?))
}

/// The batch with the `day` column added.
fn with_day(batch: &RecordBatch) -> Result<RecordBatch> {
    let mut last: Option<(i64, String)> = None;
    let days: StringArray = times(batch)
        .iter()
        .map(|t| {
            let day = t.div_euclid(DAY_MS);
            match &last {
                Some((d, text)) if *d == day => Some(text.clone()),
                _ => {
                    let text = day_string(day);
                    last = Some((day, text.clone()));
                    Some(text)
                }
            }
        })
        .collect();
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    columns.push(Arc::new(days));
    RecordBatch::try_new(hot_schema(), columns).map_err(|e| Error::arrow("adding day", e))
}

/// The batch without its `day` column.
fn without_day(batch: &RecordBatch) -> Result<RecordBatch> {
    let n = trace_schema().fields().len();
    RecordBatch::try_new(trace_schema(), batch.columns()[..n].to_vec())
        .map_err(|e| Error::arrow("removing day", e))
}

/// Write traces (in [`trace_schema`]) as one segment per day, sorted by time.
fn write_segments(dir: &Path, batch: &RecordBatch, generation: u64) -> Result<Vec<Segment>> {
    if batch.num_rows() == 0 {
        return Ok(Vec::new());
    }
    let order = sort_to_indices(batch.column(1), None, None)
        .map_err(|e| Error::arrow("sorting traces by time", e))?;
    let sorted =
        take_record_batch(batch, &order).map_err(|e| Error::arrow("sorting traces by time", e))?;
    let times = times(&sorted);
    let mut segments = Vec::new();
    let mut start = 0;
    while start < times.len() {
        let day = times[start].div_euclid(DAY_MS);
        let end = start + times[start..].partition_point(|t| t.div_euclid(DAY_MS) == day);
        let slice = with_day(&sorted.slice(start, end - start))?;
        let file = format!(
            "{SEGMENTS_DIR}/{}/seg-{generation:010}.parquet",
            Archive::partition_of(day)
        );
        let path = dir.join(&file);
        let bytes = encode_parquet(&slice).map_err(|source| Error::Parquet {
            location: path.display().to_string(),
            source,
        })?;
        write_atomic(&path, &bytes)?;
        segments.push(Segment {
            file,
            day,
            rows: (end - start) as u64,
            min_time: times[start],
            max_time: times[end - 1],
            bytes: bytes.len() as u64,
        });
        start = end;
    }
    Ok(segments)
}

/// Every trace of a segment, in [`hot_schema`].
fn read_segment(dir: &Path, segment: &Segment) -> Result<RecordBatch> {
    let path = dir.join(&segment.file);
    let parquet_err = |source| Error::Parquet {
        location: path.display().to_string(),
        source,
    };
    let file = File::open(&path).map_err(|e| Error::io("open", &path, e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(parquet_err)?
        .build()
        .map_err(parquet_err)?;
    let mut batches = Vec::new();
    for batch in reader {
        batches.push(batch.map_err(|e| Error::arrow(path.display(), e))?);
    }
    concat_batches(&hot_schema(), &batches).map_err(|e| Error::arrow(path.display(), e))
}

/// The trace IDs of segments, per day.
fn read_segment_ids(dir: &Path, segments: &[Segment]) -> Result<BTreeMap<i64, IdSet>> {
    let mut ids: BTreeMap<i64, IdSet> = BTreeMap::new();
    for segment in segments {
        let path = dir.join(&segment.file);
        let parquet_err = |source| Error::Parquet {
            location: path.display().to_string(),
            source,
        };
        let file = File::open(&path).map_err(|e| Error::io("open", &path, e))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(parquet_err)?;
        let mask = ProjectionMask::roots(builder.parquet_schema(), [0]);
        let reader = builder.with_projection(mask).build().map_err(parquet_err)?;
        let set = ids.entry(segment.day).or_default();
        for batch in reader {
            let batch = batch.map_err(|e| Error::arrow(path.display(), e))?;
            for id in batch.column(0).as_string::<i32>().iter().flatten() {
                set.insert(id);
            }
        }
    }
    Ok(ids)
}

/// Which traces of `batch` are new to the archive (and to the rest of the batch); `cache`
/// holds the archive's IDs of the days read so far and is updated.
async fn archive_keep(
    archive: &Archive,
    cache: &mut HashMap<i64, IdSet>,
    batch: &RecordBatch,
) -> Result<Vec<bool>> {
    let ids = batch.column(0).as_string::<i32>();
    let times = times(batch);
    let mut keep = vec![false; batch.num_rows()];
    for row in 0..batch.num_rows() {
        let day = times[row].div_euclid(DAY_MS);
        let set = match cache.entry(day) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(archive.read_ids(day).await?),
        };
        keep[row] = set.insert(ids.value(row));
    }
    Ok(keep)
}

/// Write traces into the archive, one Parquet file per day named `<name>-<day>.parquet`.
async fn write_to_archive(archive: &Archive, batches: &[RecordBatch], name: &str) -> Result<()> {
    let all = concat_batches(&trace_schema(), batches)
        .map_err(|e| Error::arrow("gathering traces for the archive", e))?;
    if all.num_rows() == 0 {
        return Ok(());
    }
    archive.init().await?;
    let order = sort_to_indices(all.column(1), None, None)
        .map_err(|e| Error::arrow("sorting traces by time", e))?;
    let sorted =
        take_record_batch(&all, &order).map_err(|e| Error::arrow("sorting traces by time", e))?;
    let times = times(&sorted);
    let mut start = 0;
    while start < times.len() {
        let day = times[start].div_euclid(DAY_MS);
        let end = start + times[start..].partition_point(|t| t.div_euclid(DAY_MS) == day);
        archive
            .write_day(
                day,
                sorted.slice(start, end - start),
                &format!("part-{name}-{day}.parquet"),
            )
            .await?;
        start = end;
    }
    Ok(())
}

fn remove_file_if_exists(path: &Path) -> Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => {
            if let Some(dir) = path.parent() {
                sync_dir(dir)?;
            }
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io("remove", path, e)),
    }
}

/// Files under `dir`, recursively, except hidden temporary ones being written.
fn list_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io("list", &d, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("list", &d, e))?;
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    Ok(files)
}

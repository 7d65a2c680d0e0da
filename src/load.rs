//! Loading trace files into the archive: incremental, exactly-once, parallel, bounded memory.
//!
//! 1. List the source; skip digest files and other objects; skip files the manifest records
//!    as loaded (or failed) with the same size and ETag.
//! 2. Read and decode the rest in parallel, in groups of files (many small files, or one large
//!    one) decoded into one Arrow batch, `threads` groups at a time, in key order.
//! 3. Gather decoded files into chunks of about `chunk_json_bytes` of JSON. For each chunk: drop
//!    traces whose `trace_id` is already in their day's partition or earlier in the chunk, sort
//!    by time, write one Parquet file per day, set rejected records aside, then record every
//!    file of the chunk in a new manifest segment.
//!
//! Memory is bounded by the chunk size, the files in flight and the ID sets of the days a chunk
//! touches, not by the size of the bucket.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::time::{Duration, Instant};

use arrow::array::{AsArray, BooleanArray, RecordBatch};
use arrow::compute::{concat_batches, filter_record_batch, sort_to_indices, take_record_batch};
use arrow::datatypes::TimestampMillisecondType;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::archive::{Archive, DAY_MS, IdSet, ManifestEntry, Outcome};
use crate::decode::{RejectedRecord, decode_into};
use crate::error::{Error, Result};
use crate::hot::HotStore;
use crate::model::{TraceBatchBuilder, trace_schema};
use crate::source::{Source, TraceFile};
use crate::storage::Location;

/// How to load.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Files read and decoded at once (default: the number of cores).
    pub threads: usize,
    /// JSON bytes gathered before a chunk is written (default 64 MiB).
    pub chunk_json_bytes: u64,
    /// Read again files that failed before, though unchanged.
    pub retry_failed: bool,
    /// Load JSON files that are not named like CTS trace files too.
    pub any_json: bool,
    /// Show a progress bar (only ever drawn on a terminal).
    pub progress: bool,
    /// The hot store in front of the archive: traces at or after its watermark go there
    /// (deduplicated against it), older ones to the archive. Without one, all go to the archive.
    pub hot: Option<HotStore>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            chunk_json_bytes: 64 << 20,
            retry_failed: false,
            any_json: false,
            progress: false,
            hot: None,
        }
    }
}

/// A file that could not be loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFailure {
    /// The file's URL.
    pub file: String,
    /// What went wrong.
    pub reason: String,
}

/// What a load did.
#[derive(Debug, Default, Clone)]
pub struct LoadSummary {
    /// The run's ID (names its Parquet files and manifest segments).
    pub run: String,
    /// Trace files found in the source.
    pub trace_files: u64,
    /// Trace files skipped because the manifest has them, unchanged, as loaded.
    pub unchanged_files: u64,
    /// Trace files skipped because they failed before and are unchanged.
    pub previously_failed: u64,
    /// Trace files read and loaded in this run.
    pub files_loaded: u64,
    /// Files that failed in this run.
    pub failures: Vec<FileFailure>,
    /// Digest files skipped.
    pub digests_skipped: u64,
    /// Other objects skipped.
    pub other_skipped: u64,
    /// Traces added (to the archive, or to the hot store for those at or after its watermark).
    pub traces_loaded: u64,
    /// Of those, the traces added to the hot store.
    pub traces_to_hot: u64,
    /// Traces dropped because their `trace_id` was already loaded.
    pub duplicates_dropped: u64,
    /// Records set aside (not traces).
    pub records_rejected: u64,
    /// The first rejected records, for display (all are in the archive's rejects folder).
    pub reject_samples: Vec<(String, RejectedRecord)>,
    /// Bytes read from the source.
    pub bytes_read: u64,
    /// Bytes of JSON after decompression.
    pub json_bytes: u64,
    /// Parquet files written.
    pub parquet_files: u64,
    /// Bytes of Parquet written.
    pub parquet_bytes: u64,
    /// Wall time.
    pub elapsed: Duration,
}

impl LoadSummary {
    /// `true` when every file loaded and no record was set aside.
    pub fn is_clean(&self) -> bool {
        self.failures.is_empty() && self.records_rejected == 0
    }
}

/// How many rejected records a summary keeps for display.
const REJECT_SAMPLES: usize = 20;
/// Stored bytes of the files decoded together into one batch.
const GROUP_BYTES: u64 = 2 << 20;
/// Files decoded together into one batch, at most.
const GROUP_FILES: usize = 512;
/// Files of a group read at once.
const READS_PER_GROUP: usize = 16;

/// JSON decoded into one batch before the next is started: Arrow's string columns address at
/// most 2 GiB each.
const BATCH_JSON_BYTES: u64 = 256 << 20;

/// Files decoded together: their traces in batches, in file order.
struct DecodedGroup {
    batches: Vec<RecordBatch>,
    files: Vec<GroupFile>,
}

/// One file of a group and what became of it.
struct GroupFile {
    file: TraceFile,
    url: String,
    outcome: std::result::Result<FileRows, FileError>,
}

/// Where a decoded file's traces are in its group's batches.
struct FileRows {
    batch: usize,
    start: usize,
    rows: usize,
    rejects: Vec<RejectedRecord>,
    json_bytes: u64,
    size: u64,
}

enum FileError {
    /// Gone between listing and reading: reported, not recorded, so the next run looks again.
    Vanished(String),
    /// The storage failed after its retries: the load stops before committing the chunk, and
    /// the next run reads these files again.
    Unavailable(Error),
    /// Read but not decodable: recorded as failed.
    Decode(String),
}

/// Load every new or changed trace file of `source` into `archive`.
pub async fn load(
    source: &Source,
    archive: &Archive,
    options: &LoadOptions,
) -> Result<LoadSummary> {
    let listing = source.list(options.any_json).await?;
    load_listing(source, listing, archive, options).await
}

/// Load the trace files of a listing made earlier (by [`Source::list`], or from a notification
/// naming new files). A file listed but gone by the time it is read is reported as failed and
/// not recorded, like any file that cannot be read.
pub async fn load_listing(
    source: &Source,
    listing: crate::source::Listing,
    archive: &Archive,
    options: &LoadOptions,
) -> Result<LoadSummary> {
    let started = Instant::now();
    let run = run_id();
    archive.init().await?;
    let manifest = archive.read_manifest().await?;
    let mut summary = LoadSummary {
        run: run.clone(),
        trace_files: listing.trace_files.len() as u64,
        digests_skipped: listing.digests,
        other_skipped: listing.other,
        ..Default::default()
    };

    let mut pending = Vec::new();
    for file in listing.trace_files {
        let url = source.url_of(&file);
        match manifest.unchanged(&url, file.size, file.etag.as_deref()) {
            Some(e) if e.outcome == Outcome::Loaded => summary.unchanged_files += 1,
            Some(_) if !options.retry_failed => summary.previously_failed += 1,
            _ => pending.push((file, url)),
        }
    }
    let manifest_segments = manifest.segments.len();
    drop(manifest);

    let progress = progress_bar(options.progress, pending.iter().map(|(f, _)| f.size).sum());
    let threads = options.threads.max(1);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<DecodedGroup>>(threads);
    let location = source.location().clone();
    let producer = tokio::spawn(async move {
        let mut decoded = futures::stream::iter(groups(pending))
            .map(|group| decode_group(location.clone(), group))
            .buffered(threads);
        while let Some(group) = decoded.next().await {
            if tx.send(group).await.is_err() {
                break;
            }
        }
    });

    let mut chunk: Vec<DecodedGroup> = Vec::new();
    let mut chunk_bytes = 0u64;
    let mut ids: HashMap<i64, IdSet> = HashMap::new();
    let mut hot_generation = None;
    let mut seq = 0u32;
    loop {
        let next = rx.recv().await;
        let done = next.is_none();
        if let Some(group) = next {
            let group = group?;
            chunk_bytes += group
                .files
                .iter()
                .filter_map(|f| f.outcome.as_ref().ok())
                .map(|rows| rows.json_bytes)
                .sum::<u64>();
            chunk.push(group);
        }
        if !chunk.is_empty() && (done || chunk_bytes >= options.chunk_json_bytes) {
            let files = std::mem::take(&mut chunk);
            chunk_bytes = 0;
            commit_chunk(
                archive,
                options.hot.as_ref(),
                &mut hot_generation,
                files,
                &mut ids,
                &run,
                seq,
                threads,
                &mut summary,
                &progress,
            )
            .await?;
            seq += 1;
        }
        if done {
            break;
        }
    }
    producer
        .await
        .map_err(|e| Error::Internal(format!("reading task failed: {e}")))?;
    // Each committed chunk added one segment: read the manifest again only to merge it.
    if Archive::manifest_needs_compaction(manifest_segments + seq as usize) {
        archive.compact_manifest(&run).await?;
    }
    progress.finish_and_clear();
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Split files into groups of about [`GROUP_BYTES`], at most [`GROUP_FILES`] each, in order.
fn groups(files: Vec<(TraceFile, String)>) -> Vec<Vec<(TraceFile, String)>> {
    let mut groups = Vec::new();
    let mut group = Vec::new();
    let mut bytes = 0;
    for (file, url) in files {
        if !group.is_empty() && (bytes + file.size > GROUP_BYTES || group.len() >= GROUP_FILES) {
            groups.push(std::mem::take(&mut group));
            bytes = 0;
        }
        bytes += file.size;
        group.push((file, url));
    }
    if !group.is_empty() {
        groups.push(group);
    }
    groups
}

/// Read a group of files and decode them into one batch, on a blocking thread.
async fn decode_group(location: Location, group: Vec<(TraceFile, String)>) -> Result<DecodedGroup> {
    let read: Vec<_> = futures::stream::iter(group)
        .map(|(file, url)| {
            let location = location.clone();
            async move {
                let bytes = location.read(&file.path).await;
                (file, url, bytes)
            }
        })
        .buffered(READS_PER_GROUP)
        .collect()
        .await;
    tokio::task::spawn_blocking(move || {
        let mut builder = TraceBatchBuilder::new();
        let mut batches = Vec::new();
        let mut batch_json = 0;
        let mut files = Vec::with_capacity(read.len());
        for (file, url, bytes) in read {
            if batch_json >= BATCH_JSON_BYTES {
                batches.push(builder.finish()?);
                batch_json = 0;
            }
            let outcome = match bytes {
                Err(
                    e @ Error::Storage {
                        source: object_store::Error::NotFound { .. },
                        ..
                    },
                ) => Err(FileError::Vanished(e.to_string())),
                Err(e) => Err(FileError::Unavailable(e)),
                Ok(bytes) => {
                    let start = builder.len();
                    decode_into(&bytes, &file.key, file.region.as_deref(), &mut builder)
                        .map(|d| {
                            batch_json += d.json_bytes;
                            FileRows {
                                batch: batches.len(),
                                start,
                                rows: d.rows,
                                rejects: d.rejects,
                                json_bytes: d.json_bytes,
                                size: bytes.len() as u64,
                            }
                        })
                        .map_err(|e| FileError::Decode(e.to_string()))
                }
            };
            files.push(GroupFile { file, url, outcome });
        }
        batches.push(builder.finish()?);
        Ok(DecodedGroup { batches, files })
    })
    .await
    .map_err(|e| Error::Internal(format!("decoding task failed: {e}")))?
}

/// Dedup, write and record one chunk of decoded files.
#[allow(clippy::too_many_arguments)]
async fn commit_chunk(
    archive: &Archive,
    hot: Option<&HotStore>,
    hot_generation: &mut Option<u64>,
    groups: Vec<DecodedGroup>,
    ids: &mut HashMap<i64, IdSet>,
    run: &str,
    seq: u32,
    threads: usize,
    summary: &mut LoadSummary,
    progress: &ProgressBar,
) -> Result<()> {
    // Storage failing: stop before anything of this chunk is read back, written or recorded;
    // the next run reads its files again.
    let unavailable = |f: &GroupFile| matches!(f.outcome, Err(FileError::Unavailable(_)));
    if groups.iter().flat_map(|g| &g.files).any(unavailable) {
        let first = groups
            .into_iter()
            .flat_map(|g| g.files)
            .find_map(|f| match f.outcome {
                Err(FileError::Unavailable(e)) => Some(e),
                _ => None,
            });
        return Err(
            first.unwrap_or_else(|| Error::Internal("a storage failure went missing".into()))
        );
    }

    // The hot store's turn, held until the chunk is recorded: its watermark splits the
    // traces, and no roll-over moves it meanwhile.
    let mut writer = match hot {
        Some(hot) => Some(hot.writer().await?),
        None => None,
    };
    let watermark = writer.as_ref().map_or(i64::MAX, |w| w.watermark());
    if let Some(w) = &writer {
        // Another writer (a roll-over) may have added to the archive: read its IDs again.
        if *hot_generation != Some(w.generation()) {
            ids.clear();
            *hot_generation = Some(w.generation());
        }
    }

    // The archive days this chunk touches, and their IDs already in the archive.
    let mut days = BTreeSet::new();
    for batch in groups.iter().flat_map(|g| &g.batches) {
        days.extend(
            times(batch)
                .iter()
                .filter(|t| **t < watermark)
                .map(|t| t.div_euclid(DAY_MS)),
        );
    }
    ids.retain(|day, _| days.contains(day));
    let missing: Vec<i64> = days
        .iter()
        .copied()
        .filter(|d| !ids.contains_key(d))
        .collect();
    let mut loaded = futures::stream::iter(missing)
        .map(|day| async move { (day, archive.read_ids(day).await) })
        .buffer_unordered(8);
    while let Some((day, set)) = loaded.next().await {
        ids.insert(day, set?);
    }

    let mut kept = Vec::new();
    let mut entries = Vec::new();
    let mut rejects = Vec::new();
    for group in groups {
        // Rows of failed files are never in a batch: every row belongs to a decoded file.
        let mut keep: Vec<Vec<bool>> = group
            .batches
            .iter()
            .map(|b| vec![false; b.num_rows()])
            .collect();
        for f in group.files {
            progress.inc(f.file.size);
            let mut entry = ManifestEntry {
                source: f.url.clone(),
                size: f.file.size,
                etag: f.file.etag.clone(),
                outcome: Outcome::Loaded,
                traces: 0,
                duplicates: 0,
                rejected: 0,
                error: None,
                run: run.to_string(),
            };
            let rows = match f.outcome {
                Ok(rows) => rows,
                Err(FileError::Unavailable(e)) => return Err(e),
                Err(FileError::Vanished(reason)) => {
                    summary.failures.push(FileFailure {
                        file: f.url,
                        reason,
                    });
                    continue;
                }
                Err(FileError::Decode(reason)) => {
                    entry.outcome = Outcome::Failed;
                    entry.error = Some(reason.clone());
                    entries.push(entry);
                    summary.bytes_read += f.file.size;
                    summary.failures.push(FileFailure {
                        file: f.url,
                        reason,
                    });
                    continue;
                }
            };
            let batch = &group.batches[rows.batch];
            let (id_column, time_column) = (batch.column(0).as_string::<i32>(), times(batch));
            let keep = &mut keep[rows.batch];
            for row in rows.start..rows.start + rows.rows {
                let time = time_column[row];
                keep[row] = match writer.as_mut() {
                    Some(w) if time >= watermark => w.insert_id(time, id_column.value(row)),
                    _ => ids
                        .entry(time.div_euclid(DAY_MS))
                        .or_default()
                        .insert(id_column.value(row)),
                };
            }
            let new_rows = keep[rows.start..rows.start + rows.rows]
                .iter()
                .filter(|k| **k)
                .count() as u64;
            entry.traces = new_rows;
            entry.duplicates = rows.rows as u64 - new_rows;
            entry.rejected = rows.rejects.len() as u64;
            entries.push(entry);
            summary.files_loaded += 1;
            summary.traces_loaded += new_rows;
            summary.duplicates_dropped += rows.rows as u64 - new_rows;
            summary.records_rejected += rows.rejects.len() as u64;
            summary.bytes_read += rows.size;
            summary.json_bytes += rows.json_bytes;
            if !rows.rejects.is_empty() {
                for r in &rows.rejects {
                    if summary.reject_samples.len() < REJECT_SAMPLES {
                        summary.reject_samples.push((f.url.clone(), r.clone()));
                    }
                }
                let name = crate::archive::rejects_name(&f.url, f.file.etag.as_deref());
                let records: Vec<(String, RejectedRecord)> = rows
                    .rejects
                    .into_iter()
                    .map(|r| (f.file.key.clone(), r))
                    .collect();
                rejects.push((name, records));
            }
        }
        for (batch, keep) in group.batches.iter().zip(keep) {
            let fresh = filter_record_batch(batch, &BooleanArray::from(keep))
                .map_err(|e| Error::arrow("dropping duplicate traces", e))?;
            if fresh.num_rows() > 0 {
                kept.push(fresh);
            }
        }
    }
    progress.set_message(format!("{} traces", summary.traces_loaded));

    // Traces at or after the watermark: into the hot store's log, synced.
    if let Some(w) = writer.as_mut() {
        let all = concat_batches(&trace_schema(), &kept)
            .map_err(|e| Error::arrow("gathering a chunk of traces", e))?;
        drop(kept);
        let recent: Vec<bool> = times(&all).iter().map(|t| *t >= watermark).collect();
        let older: Vec<bool> = recent.iter().map(|r| !r).collect();
        let hot_rows = filter_record_batch(&all, &BooleanArray::from(recent))
            .map_err(|e| Error::arrow("selecting recent traces", e))?;
        w.append_durable(&hot_rows)?;
        summary.traces_to_hot += hot_rows.num_rows() as u64;
        drop(hot_rows);
        let old = filter_record_batch(&all, &BooleanArray::from(older))
            .map_err(|e| Error::arrow("selecting older traces", e))?;
        kept = if old.num_rows() > 0 {
            vec![old]
        } else {
            Vec::new()
        };
    }

    // One Parquet file per day, sorted by time.
    if !kept.is_empty() {
        let all = concat_batches(&trace_schema(), &kept)
            .map_err(|e| Error::arrow("gathering a chunk of traces", e))?;
        drop(kept);
        let order = sort_to_indices(all.column(1), None, None)
            .map_err(|e| Error::arrow("sorting traces by time", e))?;
        let sorted = take_record_batch(&all, &order)
            .map_err(|e| Error::arrow("sorting traces by time", e))?;
        drop(all);
        let slices = day_slices(&sorted);
        let mut written = futures::stream::iter(slices.into_iter().enumerate())
            .map(|(i, (day, start, len))| {
                let name = format!("part-{run}-{seq:05}-{i:03}.parquet");
                let batch = sorted.slice(start, len);
                async move { archive.write_day(day, batch, &name).await }
            })
            .buffer_unordered(threads);
        while let Some(file) = written.next().await {
            let file = file?;
            summary.parquet_files += 1;
            summary.parquet_bytes += file.bytes;
        }
    }

    let name = format!("{run}-{seq:05}");
    for (file_name, records) in &rejects {
        archive.write_rejects(records, file_name).await?;
    }
    if !entries.is_empty() {
        archive.append_manifest(&entries, &name).await?;
    }
    if let Some(w) = writer.as_mut() {
        w.flush_if_full().await?;
    }
    Ok(())
}

/// `(day, start, len)` runs of a batch sorted by time.
fn day_slices(sorted: &RecordBatch) -> Vec<(i64, usize, usize)> {
    let times = times(sorted);
    let mut slices = Vec::new();
    let mut start = 0;
    while start < times.len() {
        let day = times[start].div_euclid(DAY_MS);
        let end = start + times[start..].partition_point(|t| t.div_euclid(DAY_MS) == day);
        slices.push((day, start, end - start));
        start = end;
    }
    slices
}

fn times(batch: &RecordBatch) -> &[i64] {
    batch
        .column(1)
        .as_primitive::<TimestampMillisecondType>()
        .values()
}

/// A sortable, unique run ID: `20240619T061851Z-3f2a`.
pub(crate) fn run_id() -> String {
    let now = chrono::Utc::now();
    format!(
        "{}-{:04x}",
        now.format("%Y%m%dT%H%M%SZ"),
        rand::random::<u16>()
    )
}

fn progress_bar(enabled: bool, total: u64) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, {eta}) {msg}",
    ) {
        bar.set_style(style);
    }
    bar
}

impl fmt::Display for LoadSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        writeln!(
            f,
            "loaded {} traces from {} files in {:.2} s ({:.1} MB/s of JSON, {:.0} traces/s)",
            self.traces_loaded,
            self.files_loaded,
            secs,
            self.json_bytes as f64 / 1e6 / secs,
            (self.traces_loaded + self.duplicates_dropped) as f64 / secs,
        )?;
        if self.traces_to_hot > 0 {
            writeln!(
                f,
                "  {} of them recent: into the hot store, the rest into the archive",
                self.traces_to_hot
            )?;
        }
        writeln!(
            f,
            "  duplicates dropped: {}, records set aside: {}",
            self.duplicates_dropped, self.records_rejected
        )?;
        writeln!(
            f,
            "  skipped: {} unchanged files, {} digest files, {} other objects",
            self.unchanged_files, self.digests_skipped, self.other_skipped
        )?;
        if self.previously_failed > 0 {
            writeln!(
                f,
                "  {} files failed in earlier runs and are unchanged (--retry-failed reads them again)",
                self.previously_failed
            )?;
        }
        writeln!(
            f,
            "  read {:.1} MB ({:.1} MB of JSON); wrote {} Parquet files, {:.1} MB",
            self.bytes_read as f64 / 1e6,
            self.json_bytes as f64 / 1e6,
            self.parquet_files,
            self.parquet_bytes as f64 / 1e6,
        )?;
        if !self.failures.is_empty() {
            writeln!(f, "  failed: {} files", self.failures.len())?;
            for failure in &self.failures {
                writeln!(f, "    {}: {}", failure.file, failure.reason)?;
            }
        }
        if self.records_rejected > 0 {
            writeln!(
                f,
                "  set aside {} records (under _cts/rejects/ in the archive):",
                self.records_rejected
            )?;
            for (file, r) in &self.reject_samples {
                writeln!(f, "    {file}: {r}")?;
            }
        }
        Ok(())
    }
}

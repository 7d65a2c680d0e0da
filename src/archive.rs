//! The archive: plain Hive-partitioned Parquet that DuckDB, Spark, Trino and Athena read as it
//! is, plus the bookkeeping that makes loading incremental and exactly-once.
//!
//! ```text
//! <archive>/traces/day=YYYY-MM-DD/part-<run>-<n>.parquet   traces, zstd, sorted by time
//! <archive>/_cts/manifest/<run>-<n>.ndjson                 every source file loaded or failed
//! <archive>/_cts/rejects/<md5 of file URL and ETag>.ndjson records set aside, with their JSON
//! ```
//!
//! Every object is written whole under its final name (object stores' PUT is atomic; local
//! writes go through a temporary file and a rename), data before manifest: a crash leaves at
//! most traces whose manifest entry is missing, and the next run re-reads those files and drops
//! their traces as duplicates (dedup is by `trace_id` within the day partition of `time`).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow::array::{AsArray, RecordBatch};
use bytes::Bytes;
use chrono::DateTime;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt, TryFutureExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::ArrowWriter;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::async_reader::{AsyncFileReader, ParquetRecordBatchStreamBuilder};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use url::Url;

use crate::decode::RejectedRecord;
use crate::error::{Error, Result};
use crate::model::col;
use crate::storage::Location;

/// Folder of the trace partitions.
pub const TRACES_DIR: &str = "traces";
/// Folder of the manifest segments.
pub const MANIFEST_DIR: &str = "_cts/manifest";
/// Folder of the rejected records.
pub const REJECTS_DIR: &str = "_cts/rejects";
/// The archive's self-description, written on first use.
pub const MARKER: &str = "_cts/archive.json";
/// Version of the archive layout this build writes and reads.
pub const FORMAT_VERSION: u64 = 1;
/// Rows per Parquet row group.
const ROW_GROUP_ROWS: usize = 128 * 1024;
/// Manifest segments beyond which a load merges them into one.
const MANIFEST_SEGMENTS_BEFORE_COMPACTION: usize = 32;

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// The Parquet archive in a folder or bucket.
#[derive(Debug, Clone)]
pub struct Archive {
    location: Location,
}

/// One Parquet file written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    /// Its path in the store.
    pub path: Path,
    /// Rows in it.
    pub rows: usize,
    /// Its size.
    pub bytes: u64,
}

impl Archive {
    /// The archive at `location` (created on first write).
    pub fn new(location: Location) -> Archive {
        Archive { location }
    }

    /// Make sure the archive is one this build can write: read its marker, or write one into a
    /// new archive. Fails on an archive of another layout version.
    pub async fn init(&self) -> Result<()> {
        if let Some(dir) = self.location.local_path() {
            remove_staging_files(&dir).map_err(|e| Error::io("clean up", &dir, e))?;
        }
        #[derive(Serialize, Deserialize)]
        struct Marker {
            format: String,
            version: u64,
        }
        let path = self.location.path(MARKER);
        match self.location.read(&path).await {
            Ok(bytes) => {
                let marker: Marker =
                    serde_json::from_slice(&bytes).map_err(|e| Error::Manifest {
                        location: self.location.display(&path),
                        line: 1,
                        reason: e.to_string(),
                    })?;
                if marker.format != "cts-archive" || marker.version != FORMAT_VERSION {
                    return Err(Error::InvalidInput(format!(
                        "{} is a {} archive of version {}; this cts reads version {FORMAT_VERSION}",
                        self.location.url(),
                        marker.format,
                        marker.version
                    )));
                }
                Ok(())
            }
            Err(Error::Storage {
                source: object_store::Error::NotFound { .. },
                ..
            }) => {
                let marker = Marker {
                    format: "cts-archive".to_string(),
                    version: FORMAT_VERSION,
                };
                let text = serde_json::to_vec(&marker)
                    .map_err(|e| Error::InvalidInput(format!("archive marker: {e}")))?;
                self.location.write(&path, text.into()).await
            }
            Err(e) => Err(e),
        }
    }

    /// Where it lives.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// URL of the folder of trace partitions, for a query engine's table.
    pub fn traces_url(&self) -> Url {
        let url = self.location.url();
        url.join(&format!("{TRACES_DIR}/")).unwrap_or(url)
    }

    /// The day partition's folder name for a `time` in ms: `day=YYYY-MM-DD`.
    pub fn partition_of(day: i64) -> String {
        format!("{}={}", col::DAY, day_string(day))
    }

    /// The folder of one day's partition (day number since the epoch).
    pub fn day_location(&self, day: i64) -> Location {
        self.location
            .child(&format!("{TRACES_DIR}/{}", Self::partition_of(day)))
    }

    /// Parquet files of one day (day number since the epoch), as queries see them: without the
    /// files compaction replaced ([`crate::compact::visible`]).
    pub async fn day_files(&self, day: i64) -> Result<Vec<object_store::ObjectMeta>> {
        let dir = self.day_location(day);
        let files = dir.list().await?;
        let files = crate::compact::visible(self.location.store().as_ref(), files)
            .await
            .map_err(|e| Error::storage("list", dir.url(), e))?;
        Ok(files
            .into_iter()
            .filter(|m| m.location.as_ref().ends_with(".parquet"))
            .collect())
    }

    /// The days (numbers since the epoch) that have a partition, in order.
    pub async fn days(&self) -> Result<Vec<i64>> {
        let prefix = self.location.path(TRACES_DIR);
        let listing = self
            .location
            .store()
            .list_with_delimiter(Some(&prefix))
            .await
            .map_err(|e| Error::storage("list", self.location.display(&prefix), e))?;
        let mut days: Vec<i64> = listing
            .common_prefixes
            .iter()
            .filter_map(|p| {
                let name = p.filename()?.strip_prefix("day=")?;
                let date = chrono::NaiveDate::parse_from_str(name, "%Y-%m-%d").ok()?;
                Some(
                    date.signed_duration_since(chrono::NaiveDate::default())
                        .num_days(),
                )
            })
            .collect();
        days.sort_unstable();
        Ok(days)
    }

    /// The latest day (number since the epoch) that has a partition, if any.
    pub async fn last_day(&self) -> Result<Option<i64>> {
        Ok(self.days().await?.last().copied())
    }

    /// The trace IDs already in one day's partition.
    pub async fn read_ids(&self, day: i64) -> Result<IdSet> {
        let mut ids = IdSet::default();
        for meta in self.day_files(day).await? {
            let location = self.location.display(&meta.location);
            let parquet_err = |source| Error::Parquet {
                location: location.clone(),
                source,
            };
            let reader = StoreFileReader {
                store: self.location.store().clone(),
                path: meta.location,
                size: meta.size,
            };
            let builder = ParquetRecordBatchStreamBuilder::new(reader)
                .await
                .map_err(parquet_err)?;
            let index = builder
                .schema()
                .index_of(col::TRACE_ID)
                .map_err(|e| Error::arrow(&location, e))?;
            let mask = ProjectionMask::roots(builder.parquet_schema(), [index]);
            let mut stream = builder.with_projection(mask).build().map_err(parquet_err)?;
            while let Some(batch) = stream.next().await {
                let batch = batch.map_err(parquet_err)?;
                // Written by cts as Utf8; another writer may have used LargeUtf8 or Utf8View.
                let column =
                    arrow::compute::cast(batch.column(0), &arrow::datatypes::DataType::Utf8)
                        .map_err(|e| Error::arrow(&location, e))?;
                for id in column.as_string::<i32>().iter().flatten() {
                    ids.insert(id);
                }
            }
        }
        Ok(ids)
    }

    /// Write one day's traces (already sorted by time) as a new Parquet file named `name`.
    pub async fn write_day(&self, day: i64, batch: RecordBatch, name: &str) -> Result<WrittenFile> {
        let path = self
            .location
            .path(&format!("{TRACES_DIR}/{}/{name}", Self::partition_of(day)));
        let location = self.location.display(&path);
        let rows = batch.num_rows();
        let encoded = tokio::task::spawn_blocking(move || encode_parquet(&batch))
            .await
            .map_err(|e| Error::Internal(format!("encoding task failed: {e}")))?
            .map_err(|source| Error::Parquet {
                location: location.clone(),
                source,
            })?;
        let bytes = encoded.len() as u64;
        self.location.write(&path, encoded.into()).await?;
        Ok(WrittenFile { path, rows, bytes })
    }

    /// Read every manifest segment; later entries for a source replace earlier ones.
    pub async fn read_manifest(&self) -> Result<Manifest> {
        let segments = self.location.child(MANIFEST_DIR).list().await?;
        let mut manifest = Manifest::default();
        for meta in segments {
            let path = meta.location;
            if !path.as_ref().ends_with(".ndjson") {
                continue;
            }
            let bytes = self.location.read(&path).await?;
            let location = self.location.display(&path);
            for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let entry: ManifestEntry =
                    serde_json::from_slice(line).map_err(|e| Error::Manifest {
                        location: location.clone(),
                        line: i + 1,
                        reason: e.to_string(),
                    })?;
                manifest.entries.insert(entry.source.clone(), entry);
            }
            manifest.segments.push(path);
        }
        Ok(manifest)
    }

    /// Append a manifest segment named `name`.
    pub async fn append_manifest(&self, entries: &[ManifestEntry], name: &str) -> Result<()> {
        let mut text = String::new();
        for entry in entries {
            let line = serde_json::to_string(entry)
                .map_err(|e| Error::InvalidInput(format!("manifest entry: {e}")))?;
            text.push_str(&line);
            text.push('\n');
        }
        let path = self.location.path(&format!("{MANIFEST_DIR}/{name}.ndjson"));
        self.location.write(&path, text.into()).await
    }

    /// `true` when a manifest of `segments` segments is due to be merged.
    pub fn manifest_needs_compaction(segments: usize) -> bool {
        segments > MANIFEST_SEGMENTS_BEFORE_COMPACTION
    }

    /// Merge the manifest into one segment when it has grown to many; returns whether it did.
    /// Crash-safe: the merged segment is written before the old ones are deleted, and reading
    /// a manifest with both is the same as reading either.
    pub async fn compact_manifest(&self, run: &str) -> Result<bool> {
        let manifest = self.read_manifest().await?;
        if !Self::manifest_needs_compaction(manifest.segments.len()) {
            return Ok(false);
        }
        let mut entries: Vec<ManifestEntry> = manifest.entries.into_values().collect();
        entries.sort_by(|a, b| a.source.cmp(&b.source));
        let name = format!("{run}-merged");
        self.append_manifest(&entries, &name).await?;
        let merged = self.location.path(&format!("{MANIFEST_DIR}/{name}.ndjson"));
        for old in manifest.segments.iter().filter(|p| **p != merged) {
            self.location.delete(old).await?;
        }
        Ok(true)
    }

    /// Set rejected records aside, with the file they came from.
    pub async fn write_rejects(
        &self,
        rejects: &[(String, RejectedRecord)],
        name: &str,
    ) -> Result<Path> {
        #[derive(Serialize)]
        struct Line<'a> {
            source_file: &'a str,
            record: usize,
            trace_id: Option<&'a str>,
            reason: &'a str,
            json: Option<Box<RawValue>>,
        }
        let mut text = String::new();
        for (file, r) in rejects {
            let line = Line {
                source_file: file,
                record: r.record,
                trace_id: r.trace_id.as_deref(),
                reason: &r.reason,
                json: RawValue::from_string(r.raw.clone()).ok(),
            };
            let line = serde_json::to_string(&line)
                .map_err(|e| Error::InvalidInput(format!("rejected record: {e}")))?;
            text.push_str(&line);
            text.push('\n');
        }
        let path = self.location.path(&format!("{REJECTS_DIR}/{name}.ndjson"));
        self.location.write(&path, text.into()).await?;
        Ok(path)
    }
}

/// Reads a Parquet file of the archive by ranges: footer, then the columns asked for.
pub(crate) struct StoreFileReader {
    store: Arc<dyn ObjectStore>,
    path: Path,
    size: u64,
}

impl StoreFileReader {
    /// A reader of the object `meta` in `store`.
    pub(crate) fn new(store: Arc<dyn ObjectStore>, meta: &object_store::ObjectMeta) -> Self {
        StoreFileReader {
            store,
            path: meta.location.clone(),
            size: meta.size,
        }
    }
}

impl AsyncFileReader for StoreFileReader {
    fn get_bytes(
        &mut self,
        range: std::ops::Range<u64>,
    ) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        self.store
            .get_range(&self.path, range)
            .map_err(|e| parquet::errors::ParquetError::External(Box::new(e)))
            .boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, parquet::errors::Result<Arc<ParquetMetaData>>> {
        let size = self.size;
        async move {
            let metadata = ParquetMetaDataReader::new()
                .with_arrow_reader_options(options)
                .load_and_finish(self, size)
                .await?;
            Ok(Arc::new(metadata))
        }
        .boxed()
    }
}

/// Remove what a killed writer left of local writes: object_store stages a local write as
/// `<name>#<digits>` and renames it when complete; such files are never listed, and only a
/// process that died mid-write leaves them. Safe while no other load writes to the archive.
pub fn remove_staging_files(dir: &std::path::Path) -> std::io::Result<usize> {
    let mut removed = 0;
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            removed += remove_staging_files(&path)?;
            continue;
        }
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let staged = name
            .rsplit_once('#')
            .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if staged {
            std::fs::remove_file(&path)?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// The name of the rejects file of one version of a source file: re-reading the same file (after
/// a crash, say) overwrites its rejects instead of setting them aside twice.
pub fn rejects_name(source_url: &str, etag: Option<&str>) -> String {
    use md5::Digest;
    let mut hash = md5::Md5::new();
    hash.update(source_url.as_bytes());
    hash.update(b"\n");
    hash.update(etag.unwrap_or("").as_bytes());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// `YYYY-MM-DD` of a day number since the epoch.
pub fn day_string(day: i64) -> String {
    DateTime::from_timestamp_millis(day.saturating_mul(DAY_MS))
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| format!("day{day}"))
}

/// Parquet bytes of a batch of traces: zstd, statistics, a bloom filter on `trace_id` sized
/// to the batch.
pub fn encode_parquet(batch: &RecordBatch) -> parquet::errors::Result<Vec<u8>> {
    let props = writer_properties(batch.num_rows())?;
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut out, batch.schema(), Some(props))?;
    writer.write(batch)?;
    writer.close()?;
    Ok(out)
}

/// How cts writes Parquet: zstd, 128k-row groups, statistics, and a bloom filter on `trace_id`
/// sized for `rows` rows.
pub fn writer_properties(rows: usize) -> parquet::errors::Result<WriterProperties> {
    let trace_id = ColumnPath::from(col::TRACE_ID);
    Ok(WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_column_bloom_filter_enabled(trace_id.clone(), true)
        .set_column_bloom_filter_fpp(trace_id.clone(), 0.01)
        .set_column_bloom_filter_max_ndv(trace_id, rows.clamp(1, ROW_GROUP_ROWS) as u64)
        .set_created_by(concat!("cts ", env!("CARGO_PKG_VERSION")).to_string())
        .build())
}

/// Trace IDs of one day partition: UUIDs as 128-bit numbers (so the spellings of one UUID, in
/// upper or lower case, are one ID), anything else as its text. No hashing: two different IDs
/// are never taken for one.
#[derive(Debug, Default, Clone)]
pub struct IdSet {
    uuids: HashSet<u128>,
    others: HashSet<Box<str>>,
}

impl IdSet {
    /// Add an ID; `true` when it was not there yet.
    pub fn insert(&mut self, id: &str) -> bool {
        match uuid::Uuid::try_parse(id) {
            Ok(u) => self.uuids.insert(u.as_u128()),
            Err(_) => self.others.insert(id.into()),
        }
    }

    /// How many IDs.
    pub fn len(&self) -> usize {
        self.uuids.len() + self.others.len()
    }

    /// `true` when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What became of a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Its traces are in the archive (any rejected records are set aside).
    Loaded,
    /// It could not be decoded; nothing of it was loaded.
    Failed,
}

/// One line of the manifest: a source file and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// URL of the source file.
    pub source: String,
    /// Its size when read.
    pub size: u64,
    /// Its ETag when read (local disks: a stand-in from inode, mtime and size).
    pub etag: Option<String>,
    /// Loaded or failed.
    pub outcome: Outcome,
    /// Traces in the file that were new to the archive.
    pub traces: u64,
    /// Traces in the file already in the archive (re-deliveries).
    pub duplicates: u64,
    /// Records set aside.
    pub rejected: u64,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The load run that read it.
    pub run: String,
}

/// The manifest, read: the latest entry for each source file.
#[derive(Debug, Default)]
pub struct Manifest {
    /// Latest entry per source URL.
    pub entries: HashMap<String, ManifestEntry>,
    /// The segments it was read from.
    pub segments: Vec<Path>,
}

impl Manifest {
    /// The entry for a source file when it is the same file (same size and ETag) as recorded.
    pub fn unchanged(&self, source: &str, size: u64, etag: Option<&str>) -> Option<&ManifestEntry> {
        self.entries
            .get(source)
            .filter(|e| e.size == size && e.etag.as_deref() == etag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_sets_are_exact_for_uuids_and_other_ids() {
        let mut ids = IdSet::default();
        assert!(ids.insert("cbdd4480-2e03-11ef-82de-cf140e2a70fb"));
        assert!(!ids.insert("cbdd4480-2e03-11ef-82de-cf140e2a70fb"));
        assert!(!ids.insert("CBDD4480-2E03-11EF-82DE-CF140E2A70FB"));
        assert!(ids.insert("not-a-uuid"));
        assert!(!ids.insert("not-a-uuid"));
        assert_eq!(ids.len(), 2);
    }

    #[test]
    fn partitions_are_utc_days() {
        assert_eq!(Archive::partition_of(0), "day=1970-01-01");
        assert_eq!(
            Archive::partition_of(1718777931170 / DAY_MS),
            "day=2024-06-19"
        );
        assert_eq!(Archive::partition_of(-1), "day=1969-12-31");
    }
}

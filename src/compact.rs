//! Archive compaction: each day's Parquet files merged into one, committed so that no reader
//! ever sees a trace twice or misses one.
//!
//! A load writes a day in many files, one per chunk of JSON, and a query opens every file: a
//! lookup by `trace_id` over 10 M traces in 220 files spends most of its time opening them.
//! [`compact`] rewrites the files of a day (its *parts*) into one *merged* file,
//! `compact-<run>.parquet`, and commits it with a *record* beside it, `compact-<run>.json`, that
//! names the parts. Object stores have no atomic rename of many files, so what a reader sees is
//! decided from the names it lists ([`visible`]):
//!
//! - a merged file is visible only once its record exists: writing the record (one atomic put)
//!   is the commit;
//! - a part that a counting record names is hidden;
//! - when two records name a common part (two compactions of one day at the same time), only the
//!   later record (by name) counts: the other's merged file stays hidden, and its parts are
//!   judged as if it did not exist.
//!
//! Nothing is deleted at the commit: a reader that listed the day just before may still be
//! reading the parts. A later run, once the record is older than the grace period, deletes the
//! parts, a merged file that a crash left without its record, and a record whose merged file is
//! gone. Queries see the archive through [`VisibleStore`], and the loader's duplicate check
//! through [`crate::archive::Archive::day_files`], so both apply the same rule.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::Range;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult,
};
use parquet::arrow::AsyncArrowWriter;
use parquet::arrow::async_reader::ParquetRecordBatchStreamBuilder;
use serde::{Deserialize, Serialize};

use crate::archive::{Archive, StoreFileReader, writer_properties};
use crate::error::{Error, Result};
use crate::model::{cast_to, trace_schema};

/// Prefix of the names of merged files and their records.
const COMPACT_PREFIX: &str = "compact-";
/// Extension of a record.
const RECORD_EXTENSION: &str = ".json";

/// The record that commits a merged file: which parts it replaces.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Record {
    /// File name of the merged file, in the same folder.
    pub merged: String,
    /// File names of the parts it holds, in the same folder.
    pub parts: Vec<String>,
    /// Traces in the merged file (the sum of the parts').
    pub rows: u64,
}

/// How to compact.
#[derive(Debug, Clone)]
pub struct CompactOptions {
    /// Compact a day only when it has at least this many visible files (default 2).
    pub min_files: usize,
    /// How long replaced files stay for readers that listed them before the commit
    /// (default 10 minutes); a later run deletes them.
    pub grace: Duration,
}

impl Default for CompactOptions {
    fn default() -> Self {
        CompactOptions {
            min_files: 2,
            grace: Duration::from_secs(600),
        }
    }
}

/// What a compaction did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactSummary {
    /// Days with a new merged file.
    pub days: u64,
    /// Files merged into them.
    pub files_merged: u64,
    /// Traces in the new merged files.
    pub traces: u64,
    /// Bytes of the files merged.
    pub bytes_before: u64,
    /// Bytes of the new merged files.
    pub bytes_after: u64,
    /// Files deleted: parts past their grace, left-overs of crashed runs, spent records.
    pub files_deleted: u64,
}

/// Merge each day of `archive` that has at least `options.min_files` visible Parquet files into
/// one file, and delete what earlier runs replaced once it is past the grace period. Run one
/// compaction at a time per archive, as with loads.
pub async fn compact(archive: &Archive, options: &CompactOptions) -> Result<CompactSummary> {
    let mut summary = CompactSummary::default();
    let run = crate::load::run_id();
    for day in archive.days().await? {
        let dir = archive.day_location(day);
        let mut listed = dir.list().await?;
        let deleted = clean_up(archive, &listed, options.grace).await?;
        if deleted > 0 {
            summary.files_deleted += deleted;
            listed = dir.list().await?;
        }
        let parts: Vec<ObjectMeta> = visible(archive.location().store().as_ref(), listed)
            .await
            .map_err(|e| Error::storage("list", archive.location().display(dir.prefix()), e))?
            .into_iter()
            .filter(|m| m.location.as_ref().ends_with(".parquet"))
            .collect();
        if parts.len() < options.min_files.max(2) {
            continue;
        }
        let merged = merge_day(archive, day, &parts, &run).await?;
        summary.days += 1;
        summary.files_merged += parts.len() as u64;
        summary.traces += merged.0;
        summary.bytes_before += parts.iter().map(|p| p.size).sum::<u64>();
        summary.bytes_after += merged.1;
    }
    Ok(summary)
}

/// Write the parts of one day into `compact-<run>.parquet`, then its record: returns the traces
/// and bytes of the merged file.
async fn merge_day(
    archive: &Archive,
    day: i64,
    parts: &[ObjectMeta],
    run: &str,
) -> Result<(u64, u64)> {
    let location = archive.location();
    let store = location.store().clone();
    let dir = archive.day_location(day);
    let merged_name = format!("{COMPACT_PREFIX}{run}.parquet");
    let merged_path = dir.path(&merged_name);
    let merged_url = location.display(&merged_path);
    let mut parts: Vec<&ObjectMeta> = parts.iter().collect();
    // Load runs and their chunks are named in the order they were written, mostly in time.
    parts.sort_by(|a, b| a.location.cmp(&b.location));

    let mut readers = Vec::with_capacity(parts.len());
    let mut expected = 0u64;
    for part in &parts {
        let url = location.display(&part.location);
        let reader = StoreFileReader::new(store.clone(), part);
        let builder = ParquetRecordBatchStreamBuilder::new(reader)
            .await
            .map_err(|source| Error::Parquet {
                location: url.clone(),
                source,
            })?;
        expected += builder.metadata().file_metadata().num_rows() as u64;
        readers.push((url, builder));
    }

    let schema = trace_schema();
    let props = writer_properties(expected as usize).map_err(|source| Error::Parquet {
        location: merged_url.clone(),
        source,
    })?;
    let sink = object_store::buffered::BufWriter::new(store.clone(), merged_path.clone());
    let mut writer =
        AsyncArrowWriter::try_new(sink, schema.clone(), Some(props)).map_err(|source| {
            Error::Parquet {
                location: merged_url.clone(),
                source,
            }
        })?;
    let mut rows = 0u64;
    for (url, builder) in readers {
        let parquet_err = |source| Error::Parquet {
            location: url.clone(),
            source,
        };
        let mut stream = builder.build().map_err(parquet_err)?;
        while let Some(batch) = stream.next().await {
            let batch = batch.map_err(parquet_err)?;
            if batch.num_columns() != schema.fields().len() {
                return Err(Error::InvalidInput(format!(
                    "{url}: {} columns, not the {} of a cts archive; not compacted",
                    batch.num_columns(),
                    schema.fields().len()
                )));
            }
            let batch = cast_to(&batch, &schema)?;
            rows += batch.num_rows() as u64;
            writer
                .write(&batch)
                .await
                .map_err(|source| Error::Parquet {
                    location: merged_url.clone(),
                    source,
                })?;
        }
    }
    writer.close().await.map_err(|source| Error::Parquet {
        location: merged_url.clone(),
        source,
    })?;
    if rows != expected {
        return Err(Error::Internal(format!(
            "{merged_url}: wrote {rows} traces, the parts hold {expected}; not committed"
        )));
    }
    let bytes = object_store::ObjectStoreExt::head(store.as_ref(), &merged_path)
        .await
        .map_err(|e| Error::storage("check", &merged_url, e))?
        .size;
    let record = Record {
        merged: merged_name,
        parts: parts.iter().map(|p| file_name(&p.location)).collect(),
        rows,
    };
    let text = serde_json::to_vec_pretty(&record)
        .map_err(|e| Error::Internal(format!("compaction record: {e}")))?;
    // The commit.
    let record_path = dir.path(&format!("{COMPACT_PREFIX}{run}{RECORD_EXTENSION}"));
    location.write(&record_path, text.into()).await?;
    Ok((rows, bytes))
}

/// Delete, in one day's folder (`listed`), what is past `grace`: the parts of counting records,
/// merged files no record commits, and records whose merged file is gone. Returns how many.
async fn clean_up(archive: &Archive, listed: &[ObjectMeta], grace: Duration) -> Result<u64> {
    let location = archive.location();
    let store = location.store();
    let cutoff =
        chrono::Utc::now() - chrono::Duration::from_std(grace).unwrap_or(chrono::Duration::MAX);
    let view = DirView::read(store.as_ref(), listed)
        .await
        .map_err(|e| Error::storage("read compaction records in", "the archive", e))?;
    let Some(view) = view else {
        return Ok(0);
    };
    let old = |name: &str| {
        listed
            .iter()
            .find(|m| file_name(&m.location) == name)
            .is_some_and(|m| m.last_modified < cutoff)
    };
    // Data files first: parts (and older merged files) replaced by a commit past its grace,
    // and merged files no counting record commits (a crashed or outraced run's left-overs).
    let mut doomed: HashSet<String> = HashSet::new();
    for meta in listed {
        let name = file_name(&meta.location);
        let delete = match view.hidden_by.get(&name) {
            Some(record) => old(record),
            None => is_merged(&name) && !view.committed.contains(&name) && old(&name),
        };
        if delete {
            doomed.insert(name);
        }
    }
    // Then records whose merged file is gone or going: nothing they name is left to hide.
    let listed_names: HashSet<String> = listed.iter().map(|m| file_name(&m.location)).collect();
    let spent: HashSet<String> = view
        .records
        .iter()
        .filter(|(name, record)| {
            old(name) && (!listed_names.contains(&record.merged) || doomed.contains(&record.merged))
        })
        .map(|(name, _)| name.clone())
        .collect();
    let mut count = 0u64;
    for set in [&doomed, &spent] {
        for meta in listed
            .iter()
            .filter(|m| set.contains(&file_name(&m.location)))
        {
            location.delete(&meta.location).await?;
            count += 1;
        }
    }
    Ok(count)
}

/// What the names in one folder listing say: which files are hidden, and by which record.
struct DirView {
    /// Hidden file name -> the counting record that replaced it.
    hidden_by: HashMap<String, String>,
    /// Merged files that a counting record commits.
    committed: HashSet<String>,
    /// Every record in the folder, by file name.
    records: HashMap<String, Arc<Record>>,
}

impl DirView {
    /// The view of the listing of one folder, or `None` when it holds no compaction files.
    async fn read(
        store: &dyn ObjectStore,
        listed: &[ObjectMeta],
    ) -> object_store::Result<Option<DirView>> {
        if !listed
            .iter()
            .any(|m| file_name(&m.location).starts_with(COMPACT_PREFIX))
        {
            return Ok(None);
        }
        let mut records = Vec::new();
        for meta in listed.iter().filter(|m| is_record(&file_name(&m.location))) {
            records.push((file_name(&meta.location), read_record(store, meta).await?));
        }
        // Later records first: of two that name a common part, the later one counts.
        records.sort_by(|a, b| b.0.cmp(&a.0));
        let mut hidden_by = HashMap::new();
        let mut committed = HashSet::new();
        for (name, record) in &records {
            if record.parts.iter().any(|p| hidden_by.contains_key(p)) {
                continue;
            }
            for part in &record.parts {
                hidden_by.insert(part.clone(), name.clone());
            }
            committed.insert(record.merged.clone());
        }
        Ok(Some(DirView {
            hidden_by,
            committed,
            records: records.into_iter().collect(),
        }))
    }

    fn is_visible(&self, name: &str) -> bool {
        !self.hidden_by.contains_key(name) && (!is_merged(name) || self.committed.contains(name))
    }
}

/// `listed` without the files that compaction replaced or has not committed (see the module
/// documentation). Records are small and never change: each is read once per process.
pub async fn visible(
    store: &dyn ObjectStore,
    listed: Vec<ObjectMeta>,
) -> object_store::Result<Vec<ObjectMeta>> {
    if !listed
        .iter()
        .any(|m| file_name(&m.location).starts_with(COMPACT_PREFIX))
    {
        return Ok(listed);
    }
    let mut by_dir: HashMap<String, Vec<ObjectMeta>> = HashMap::new();
    for meta in listed {
        by_dir.entry(parent(&meta.location)).or_default().push(meta);
    }
    let mut out = Vec::new();
    for (_, metas) in by_dir {
        match DirView::read(store, &metas).await? {
            None => out.extend(metas),
            Some(view) => out.extend(
                metas
                    .into_iter()
                    .filter(|m| view.is_visible(&file_name(&m.location))),
            ),
        }
    }
    out.sort_by(|a, b| a.location.cmp(&b.location));
    Ok(out)
}

static RECORDS: LazyLock<Mutex<HashMap<String, Arc<Record>>>> = LazyLock::new(Default::default);

async fn read_record(
    store: &dyn ObjectStore,
    meta: &ObjectMeta,
) -> object_store::Result<Arc<Record>> {
    // Records are never rewritten (run IDs name them); the size and ETag guard the cache anyway.
    let key = format!(
        "{store}/{}@{}:{}",
        meta.location,
        meta.size,
        meta.e_tag.as_deref().unwrap_or_default()
    );
    if let Some(record) = RECORDS.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(record);
    }
    let bytes = object_store::ObjectStoreExt::get(store, &meta.location)
        .await?
        .bytes()
        .await?;
    let record: Record =
        serde_json::from_slice(&bytes).map_err(|e| object_store::Error::Generic {
            store: "cts archive",
            source: format!("compaction record {}: {e}", meta.location).into(),
        })?;
    let record = Arc::new(record);
    if let Ok(mut cache) = RECORDS.lock() {
        cache.insert(key, record.clone());
    }
    Ok(record)
}

fn file_name(path: &Path) -> String {
    path.filename().unwrap_or_default().to_string()
}

fn parent(path: &Path) -> String {
    let text = path.as_ref();
    text.rsplit_once('/').map_or("", |(dir, _)| dir).to_string()
}

fn is_merged(name: &str) -> bool {
    name.starts_with(COMPACT_PREFIX) && name.ends_with(".parquet")
}

fn is_record(name: &str) -> bool {
    name.starts_with(COMPACT_PREFIX) && name.ends_with(RECORD_EXTENSION)
}

/// An object store that lists only what [`visible`] keeps: the archive as queries must see it.
/// Everything else goes to the store it wraps.
#[derive(Debug)]
pub struct VisibleStore {
    inner: Arc<dyn ObjectStore>,
}

impl VisibleStore {
    /// Wrap `inner`.
    pub fn new(inner: Arc<dyn ObjectStore>) -> VisibleStore {
        VisibleStore { inner }
    }
}

impl fmt::Display for VisibleStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.inner)
    }
}

#[async_trait::async_trait]
impl ObjectStore for VisibleStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    async fn get_ranges(
        &self,
        location: &Path,
        ranges: &[Range<u64>],
    ) -> object_store::Result<Vec<Bytes>> {
        self.inner.get_ranges(location, ranges).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        let inner = self.inner.clone();
        let prefix = prefix.cloned();
        futures::stream::once(async move {
            let listed: Vec<ObjectMeta> = inner.list(prefix.as_ref()).try_collect().await?;
            visible(inner.as_ref(), listed).await
        })
        .map_ok(|kept| futures::stream::iter(kept.into_iter().map(Ok)))
        .try_flatten()
        .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        let mut result = self.inner.list_with_delimiter(prefix).await?;
        result.objects = visible(self.inner.as_ref(), result.objects).await?;
        Ok(result)
    }

    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::ObjectStoreExt;
    use object_store::memory::InMemory;

    /// The file names `visible` keeps of `files` in one folder, where `records` are
    /// `(record name, merged name, part names)`.
    async fn kept(files: &[&str], records: &[(&str, &str, &[&str])]) -> Vec<String> {
        let store = InMemory::new();
        for name in files {
            store
                .put(
                    &Path::from(format!("traces/day=2024-06-29/{name}")),
                    "x".into(),
                )
                .await
                .expect("put");
        }
        for (name, merged, parts) in records {
            let record = Record {
                merged: merged.to_string(),
                parts: parts.iter().map(|p| p.to_string()).collect(),
                rows: 1,
            };
            let text = serde_json::to_vec(&record).expect("json");
            store
                .put(
                    &Path::from(format!("traces/day=2024-06-29/{name}")),
                    text.into(),
                )
                .await
                .expect("put");
        }
        let listed: Vec<ObjectMeta> = store.list(None).try_collect().await.expect("list");
        visible(&store, listed)
            .await
            .expect("visible")
            .iter()
            .map(|m| file_name(&m.location))
            .filter(|n| n.ends_with(".parquet"))
            .collect()
    }

    #[tokio::test]
    async fn a_merged_file_shows_only_once_its_record_exists_and_then_hides_its_parts() {
        let files = ["a.parquet", "b.parquet", "compact-1.parquet"];
        // Crashed before the commit: the parts, not the merged file.
        assert_eq!(kept(&files, &[]).await, ["a.parquet", "b.parquet"]);
        // Committed: the merged file, not the parts.
        let records: &[(&str, &str, &[&str])] = &[(
            "compact-1.json",
            "compact-1.parquet",
            &["a.parquet", "b.parquet"],
        )];
        assert_eq!(kept(&files, records).await, ["compact-1.parquet"]);
        // Parts already deleted: the same.
        assert_eq!(
            kept(&["compact-1.parquet"], records).await,
            ["compact-1.parquet"]
        );
    }

    #[tokio::test]
    async fn a_merged_file_merged_again_is_hidden_with_its_own_parts() {
        let files = [
            "a.parquet",
            "compact-1.parquet",
            "c.parquet",
            "compact-2.parquet",
        ];
        let records: &[(&str, &str, &[&str])] = &[
            (
                "compact-1.json",
                "compact-1.parquet",
                &["a.parquet", "b.parquet"],
            ),
            (
                "compact-2.json",
                "compact-2.parquet",
                &["compact-1.parquet", "c.parquet"],
            ),
        ];
        assert_eq!(kept(&files, records).await, ["compact-2.parquet"]);
    }

    #[tokio::test]
    async fn of_two_compactions_of_the_same_parts_only_the_later_counts() {
        // Two runs at once listed different parts: the later record wins, the earlier merged
        // file stays hidden, and a part only it named stays visible.
        let files = [
            "a.parquet",
            "b.parquet",
            "c.parquet",
            "compact-1.parquet",
            "compact-2.parquet",
        ];
        let records: &[(&str, &str, &[&str])] = &[
            (
                "compact-1.json",
                "compact-1.parquet",
                &["a.parquet", "b.parquet", "c.parquet"],
            ),
            (
                "compact-2.json",
                "compact-2.parquet",
                &["a.parquet", "b.parquet"],
            ),
        ];
        assert_eq!(
            kept(&files, records).await,
            ["c.parquet", "compact-2.parquet"]
        );
    }

    #[tokio::test]
    async fn a_record_that_is_not_json_is_an_error_naming_it() {
        let store = InMemory::new();
        let path = Path::from("traces/day=2024-06-29/compact-1.json");
        store.put(&path, "{".into()).await.expect("put");
        let listed: Vec<ObjectMeta> = store.list(None).try_collect().await.expect("list");
        let error = visible(&store, listed).await.expect_err("bad record");
        assert!(
            error
                .to_string()
                .contains("compaction record traces/day=2024-06-29/compact-1.json: EOF"),
            "{error}"
        );
    }
}

//! The visibility rule: which Parquet files of a day folder a reader sees, decided from the
//! names it lists, so that a compaction ([`super::compact`]) is committed by one atomic put.
//!
//! A compaction rewrites the files of a day (its *parts*) into one *merged* file,
//! `compact-<run>.parquet`, and commits it with a *record* beside it, `compact-<run>.json`, that
//! names the parts. Object stores have no atomic rename of many files, so:
//!
//! - a merged file is visible only once its record exists: writing the record is the commit;
//! - a part that a counting record names is hidden;
//! - when two records name a common part (two compactions of one day at the same time), only the
//!   later record (by name) counts: the other's merged file stays hidden, and its parts are
//!   judged as if it did not exist.
//!
//! Every reader applies this rule, and only through [`visible`]: queries see the archive through
//! [`VisibleStore`], the loader's duplicate check through
//! [`Archive::day_files`](crate::store::archive::Archive::day_files).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::Range;
use std::sync::{Arc, LazyLock, Mutex};

use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult,
};
use serde::{Deserialize, Serialize};

/// Prefix of the names of merged files and their records.
pub(crate) const COMPACT_PREFIX: &str = "compact-";
/// Extension of a record.
pub(crate) const RECORD_EXTENSION: &str = ".json";

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

/// What the names in one folder listing say: which files are hidden, and by which record.
pub(crate) struct DirView {
    /// Hidden file name -> the counting record that replaced it.
    pub(crate) hidden_by: HashMap<String, String>,
    /// Merged files that a counting record commits.
    pub(crate) committed: HashSet<String>,
    /// Every record in the folder, by file name.
    pub(crate) records: HashMap<String, Arc<Record>>,
}

impl DirView {
    /// The view of the listing of one folder, or `None` when it holds no compaction files.
    pub(crate) async fn read(
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

pub(crate) fn file_name(path: &Path) -> String {
    path.filename().unwrap_or_default().to_string()
}

fn parent(path: &Path) -> String {
    let text = path.as_ref();
    text.rsplit_once('/').map_or("", |(dir, _)| dir).to_string()
}

pub(crate) fn is_merged(name: &str) -> bool {
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

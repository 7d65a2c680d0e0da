//! The archive's trace files: one folder per day, Parquet files in it, written whole under
//! their final names, read through the visibility rule ([`visible`]).

use std::collections::{HashMap, HashSet};

use arrow::array::{AsArray, RecordBatch};
use futures::StreamExt;
use object_store::path::Path;
use parquet::arrow::ProjectionMask;
use parquet::arrow::async_reader::ParquetRecordBatchStreamBuilder;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{Error, Result};
use crate::storage::Location;
use crate::storage::fs::remove_staging_files_of;
use crate::store::archive::lease::{Lease, WaitNotice};
use crate::store::archive::parquet::{StoreFileReader, encode_parquet};
use crate::store::archive::visible::{COMPACT_PREFIX, file_name, visible};
use crate::store::once::{DayBatch, DayIds, IdSet};
use crate::store::run::RunId;
use crate::trace::{col, day_string, parse_day};

/// Folder of the trace partitions.
pub const TRACES_DIR: &str = "traces";
/// The archive's self-description, written on first use.
pub const MARKER: &str = "_cts/archive.json";
/// Version of the archive layout this build writes and reads.
pub const FORMAT_VERSION: u64 = 1;

/// The Parquet archive in a folder or bucket.
#[derive(Clone)]
pub struct Archive {
    location: Location,
    /// Told when a writer waits for the write lease.
    wait_notice: Option<WaitNotice>,
}

impl std::fmt::Debug for Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Archive")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// The trace IDs of some of the archive's days, and the files they were read from: what a
/// writer reads again, under the write lease, is only what other writers added since.
#[derive(Debug, Default)]
pub struct ArchiveIds {
    ids: DayIds,
    files: HashMap<i64, HashSet<String>>,
}

impl ArchiveIds {
    /// The IDs, for [`crate::store::once`].
    pub fn ids_mut(&mut self) -> &mut DayIds {
        &mut self.ids
    }

    /// Keep only the days for which `keep` holds.
    pub fn retain_days(&mut self, mut keep: impl FnMut(i64) -> bool) {
        self.ids.retain_days(&mut keep);
        self.files.retain(|day, _| keep(*day));
    }

    /// Files this writer wrote itself: their IDs are in [`Self::ids_mut`] already.
    pub fn note_written(&mut self, files: &[WrittenFile]) {
        for f in files {
            self.files
                .entry(f.day)
                .or_default()
                .insert(file_name(&f.path));
        }
    }
}

/// One Parquet file written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    /// The day (number since the epoch) of its traces.
    pub day: i64,
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
        Archive {
            location,
            wait_notice: None,
        }
    }

    /// The same archive, telling `notice` whenever a writer waits for the write lease.
    pub fn with_wait_notice(mut self, notice: WaitNotice) -> Archive {
        self.wait_notice = Some(notice);
        self
    }

    /// Take the write lease ([`Lease`]) for `run`, doing `purpose`: wait while another writer
    /// holds it. Every writer that adds traces holds it from reading the IDs of the days it
    /// writes ([`Self::refresh_ids`]) until what it wrote is recorded.
    pub async fn lease(&self, run: &RunId, purpose: &str) -> Result<Lease> {
        Lease::take(&self.location, run, purpose, self.wait_notice.as_ref()).await
    }

    /// Remove, in a local archive, what writers that died mid-write left staged, but for
    /// compaction's own (it removes those itself, [`super::compact`]). Under the write lease no
    /// other writer is writing.
    pub fn remove_staged(&self, _lease: &Lease) -> Result<usize> {
        match self.location.local_path() {
            Some(dir) => remove_staging_files_of(&dir, &|name| !name.starts_with(COMPACT_PREFIX)),
            None => Ok(0),
        }
    }

    /// Make sure the archive is one this build can write: read its marker, or write one into a
    /// new archive. Fails on an archive of another layout version.
    pub async fn init(&self) -> Result<()> {
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
    /// files compaction replaced ([`visible`]).
    pub async fn day_files(&self, day: i64) -> Result<Vec<object_store::ObjectMeta>> {
        let dir = self.day_location(day);
        let files = dir.list().await?;
        let files = visible(self.location.store().as_ref(), files)
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
            .filter_map(|p| parse_day(p.filename()?.strip_prefix("day=")?))
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
            self.read_file_ids(&meta, &mut ids).await?;
        }
        Ok(ids)
    }

    /// Add the trace IDs of one Parquet file to `ids`.
    async fn read_file_ids(&self, meta: &object_store::ObjectMeta, ids: &mut IdSet) -> Result<()> {
        let location = self.location.display(&meta.location);
        let parquet_err = |source| Error::Parquet {
            location: location.clone(),
            source,
        };
        let reader = StoreFileReader::new(self.location.store().clone(), meta);
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
            let column = arrow::compute::cast(batch.column(0), &arrow::datatypes::DataType::Utf8)
                .map_err(|e| Error::arrow(&location, e))?;
            for id in column.as_string::<i32>().iter().flatten() {
                ids.insert(id);
            }
        }
        Ok(())
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
        Ok(WrittenFile {
            day,
            path,
            rows,
            bytes,
        })
    }

    /// Bring the IDs of `days` in `cache` up to date: read the IDs of each day's visible files
    /// that `cache` has not read yet (eight days at a time). Under the write lease, `cache` then
    /// holds every trace ID those days have.
    pub async fn refresh_ids(
        &self,
        cache: &mut ArchiveIds,
        days: impl IntoIterator<Item = i64>,
    ) -> Result<()> {
        let known = &cache.files;
        let mut read = futures::stream::iter(days)
            .map(|day| async move {
                let files = self.day_files(day).await?;
                let mut ids = IdSet::default();
                let mut names = Vec::with_capacity(files.len());
                for meta in &files {
                    let name = file_name(&meta.location);
                    if !known.get(&day).is_some_and(|k| k.contains(&name)) {
                        self.read_file_ids(meta, &mut ids).await?;
                    }
                    names.push(name);
                }
                Ok::<_, Error>((day, names, ids))
            })
            .buffer_unordered(8);
        let mut done = Vec::new();
        while let Some(day) = read.next().await {
            done.push(day?);
        }
        drop(read);
        for (day, names, ids) in done {
            cache.ids.add_to_day(day, ids);
            cache.files.entry(day).or_default().extend(names);
        }
        Ok(())
    }

    /// Write traces split by day ([`crate::store::once`]), one new Parquet file per day named
    /// by `name(index, day)`, `parallel` at a time. Returns the files written.
    pub async fn write_days(
        &self,
        days: Vec<DayBatch>,
        name: impl Fn(usize, i64) -> String,
        parallel: usize,
    ) -> Result<Vec<WrittenFile>> {
        let mut written = futures::stream::iter(days.into_iter().enumerate())
            .map(|(i, d)| {
                let name = name(i, d.day);
                async move { self.write_day(d.day, d.batch, &name).await }
            })
            .buffer_unordered(parallel.max(1));
        let mut files = Vec::new();
        while let Some(file) = written.next().await {
            files.push(file?);
        }
        Ok(files)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::DAY_MS;

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

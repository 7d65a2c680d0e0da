//! The archive's trace files: one folder per day, Parquet files in it, written whole under
//! their final names, read through the visibility rule ([`visible`]).

use arrow::array::{AsArray, RecordBatch};
use futures::StreamExt;
use object_store::path::Path;
use parquet::arrow::ProjectionMask;
use parquet::arrow::async_reader::ParquetRecordBatchStreamBuilder;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{Error, Result};
use crate::storage::Location;
use crate::storage::fs::remove_staging_files;
use crate::store::archive::parquet::{StoreFileReader, encode_parquet};
use crate::store::archive::visible::visible;
use crate::store::once::{DayBatch, DayIds, IdSet};
use crate::trace::{col, day_string, parse_day};

/// Folder of the trace partitions.
pub const TRACES_DIR: &str = "traces";
/// The archive's self-description, written on first use.
pub const MARKER: &str = "_cts/archive.json";
/// Version of the archive layout this build writes and reads.
pub const FORMAT_VERSION: u64 = 1;

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
            remove_staging_files(&dir)?;
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
            let location = self.location.display(&meta.location);
            let parquet_err = |source| Error::Parquet {
                location: location.clone(),
                source,
            };
            let reader = StoreFileReader::new(self.location.store().clone(), &meta);
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

    /// The IDs of the traces already in each of `days` that `ids` does not have yet, read into
    /// it (eight days at a time).
    pub async fn read_missing_ids(
        &self,
        ids: &mut DayIds,
        days: impl IntoIterator<Item = i64>,
    ) -> Result<()> {
        let missing: Vec<i64> = days.into_iter().filter(|d| !ids.has_day(*d)).collect();
        let mut read = futures::stream::iter(missing)
            .map(|day| async move { (day, self.read_ids(day).await) })
            .buffer_unordered(8);
        while let Some((day, set)) = read.next().await {
            ids.set_day(day, set?);
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

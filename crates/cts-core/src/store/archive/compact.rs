//! Archive compaction: each day's Parquet files merged into one, committed so that no reader
//! ever sees a trace twice or misses one.
//!
//! A load writes a day in many files, one per chunk of JSON, and a query opens every file: a
//! lookup by `trace_id` over 10 M traces in 220 files spends most of its time opening them.
//! [`compact`] rewrites the files of a day (its *parts*) into one *merged* file and commits it
//! with a record that names the parts, under the visibility rule of [`super::visible`].
//!
//! Parts that declare themselves sorted by time (all that cts writes now) are merged by time
//! ([`super::merge`]), so the merged file is sorted by time and says so too; if any part does
//! not (a file of an older version), the parts are concatenated in name order and the merged
//! file declares no order.
//!
//! Nothing is deleted at the commit: a reader that listed the day just before may still be
//! reading the parts. A later run, once the record is older than the grace period, deletes the
//! parts, a merged file that a crash left without its record, and a record whose merged file is
//! gone.

use std::collections::HashSet;
use std::time::Duration;

use futures::stream::StreamExt;
use object_store::ObjectMeta;
use parquet::arrow::AsyncArrowWriter;
use parquet::arrow::async_reader::ParquetRecordBatchStreamBuilder;

use crate::error::{Error, Result};
use crate::failpoint;
use crate::storage::fs::remove_staging_files_of;
use crate::store::archive::files::Archive;
use crate::store::archive::merge::MergeByTime;
use crate::store::archive::parquet::{RowOrder, StoreFileReader, row_order, writer_properties};
use crate::store::archive::visible::{
    COMPACT_PREFIX, DirView, RECORD_EXTENSION, Record, file_name, is_merged, visible,
};
use crate::store::run::RunId;
use crate::trace::{cast_to, trace_schema};

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
    let run = RunId::new().to_string();
    // What an earlier compaction left staged (one compaction at a time per archive).
    if let Some(dir) = archive.location().local_path() {
        remove_staging_files_of(&dir, &|name| name.starts_with(COMPACT_PREFIX))?;
    }
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
    let mut order = RowOrder::ByTime;
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
        if row_order(builder.metadata()) != RowOrder::ByTime {
            order = RowOrder::Unordered;
        }
        readers.push((url, builder));
    }

    let schema = trace_schema();
    let props =
        writer_properties(expected as usize, &schema, order).map_err(|source| Error::Parquet {
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
    let write_err = |source| Error::Parquet {
        location: merged_url.clone(),
        source,
    };
    let mut rows = 0u64;
    let mut streams = Vec::with_capacity(readers.len());
    for (url, builder) in readers {
        if builder.schema().fields().len() != schema.fields().len() {
            return Err(Error::InvalidInput(format!(
                "{url}: {} columns, not the {} of a cts archive; not compacted",
                builder.schema().fields().len(),
                schema.fields().len()
            )));
        }
        let stream = builder.build().map_err(|source| Error::Parquet {
            location: url.clone(),
            source,
        })?;
        streams.push((url, stream));
    }
    match order {
        RowOrder::ByTime => {
            let mut merge = MergeByTime::new(schema.clone(), streams).await?;
            while let Some(batch) = merge.next().await? {
                rows += batch.num_rows() as u64;
                writer.write(&batch).await.map_err(write_err)?;
            }
        }
        RowOrder::Unordered => {
            for (url, mut stream) in streams {
                while let Some(batch) = stream.next().await {
                    let batch = batch.map_err(|source| Error::Parquet {
                        location: url.clone(),
                        source,
                    })?;
                    let batch = cast_to(&batch, &schema)?;
                    rows += batch.num_rows() as u64;
                    writer.write(&batch).await.map_err(write_err)?;
                }
            }
        }
    }
    writer.close().await.map_err(write_err)?;
    if rows != expected {
        return Err(Error::Internal(format!(
            "{merged_url}: wrote {rows} traces, the parts hold {expected}; not committed"
        )));
    }
    failpoint::hit(failpoint::ARCHIVE_COMPACT_MERGED)?;
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
    failpoint::hit(failpoint::ARCHIVE_COMPACT_RECORDED)?;
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
            failpoint::hit(failpoint::ARCHIVE_COMPACT_DELETED_ONE)?;
        }
    }
    Ok(count)
}

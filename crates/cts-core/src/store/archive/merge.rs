//! Merging Parquet files that are each sorted by time into one stream sorted by time, holding
//! one batch of each file at a time: how compaction keeps a day's merged file in time order.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use arrow::array::{AsArray, RecordBatch};
use arrow::buffer::ScalarBuffer;
use arrow::compute::interleave_record_batch;
use arrow::datatypes::{SchemaRef, TimestampMillisecondType};
use futures::StreamExt;
use parquet::arrow::async_reader::ParquetRecordBatchStream;

use crate::error::{Error, Result};
use crate::store::archive::parquet::StoreFileReader;
use crate::trace::{cast_to, col};

/// Rows in each merged batch.
const MERGED_BATCH_ROWS: usize = 8192;

/// One file being merged: its current batch and the next row to take.
struct Cursor {
    /// The file's URL, for errors.
    url: String,
    stream: ParquetRecordBatchStream<StoreFileReader>,
    /// Index of its current batch in [`MergeByTime::batches`].
    batch: usize,
    times: ScalarBuffer<i64>,
    row: usize,
    /// The last time taken, to check that the file is in the order it declares.
    last: i64,
}

/// A k-way merge by `time` of files each sorted by time. Rows of equal time come in the order
/// of the files given, then in file order: the merge is stable.
pub(crate) struct MergeByTime {
    schema: SchemaRef,
    cursors: Vec<Cursor>,
    /// The next time of each file that has rows left, with the file's index.
    heap: BinaryHeap<Reverse<(i64, usize)>>,
    /// The batches the cursors point into (and, while a merged batch is gathered, the ones
    /// they pointed into before).
    batches: Vec<RecordBatch>,
}

impl MergeByTime {
    /// Merge `files` (URL and stream of each), read as `schema`.
    pub(crate) async fn new(
        schema: SchemaRef,
        files: Vec<(String, ParquetRecordBatchStream<StoreFileReader>)>,
    ) -> Result<Self> {
        let mut merge = MergeByTime {
            schema,
            cursors: Vec::with_capacity(files.len()),
            heap: BinaryHeap::with_capacity(files.len()),
            batches: Vec::with_capacity(files.len()),
        };
        for (i, (url, stream)) in files.into_iter().enumerate() {
            merge.cursors.push(Cursor {
                url,
                stream,
                batch: 0,
                times: ScalarBuffer::from(Vec::new()),
                row: 0,
                last: i64::MIN,
            });
            merge.advance(i).await?;
        }
        Ok(merge)
    }

    /// The next merged batch, or `None` at the end.
    pub(crate) async fn next(&mut self) -> Result<Option<RecordBatch>> {
        let mut take: Vec<(usize, usize)> = Vec::with_capacity(MERGED_BATCH_ROWS);
        while take.len() < MERGED_BATCH_ROWS {
            let Some(Reverse((time, i))) = self.heap.pop() else {
                break;
            };
            let cursor = &mut self.cursors[i];
            if time < cursor.last {
                return Err(Error::InvalidInput(format!(
                    "{}: its metadata says it is sorted by time, but it is not; not compacted",
                    cursor.url
                )));
            }
            cursor.last = time;
            take.push((cursor.batch, cursor.row));
            cursor.row += 1;
            if cursor.row < cursor.times.len() {
                self.heap.push(Reverse((cursor.times[cursor.row], i)));
            } else {
                self.advance(i).await?;
            }
        }
        if take.is_empty() {
            return Ok(None);
        }
        let batches: Vec<&RecordBatch> = self.batches.iter().collect();
        let merged = interleave_record_batch(&batches, &take)
            .map_err(|e| Error::arrow("merging files by time", e))?;
        self.release();
        Ok(Some(merged))
    }

    /// Move file `i` on to its next non-empty batch and put its first time on the heap; at its
    /// end, leave it off the heap.
    async fn advance(&mut self, i: usize) -> Result<()> {
        let cursor = &mut self.cursors[i];
        while let Some(batch) = cursor.stream.next().await {
            let batch = batch.map_err(|source| Error::Parquet {
                location: cursor.url.clone(),
                source,
            })?;
            if batch.num_rows() == 0 {
                continue;
            }
            let batch = cast_to(&batch, &self.schema)?;
            let times = batch
                .column_by_name(col::TIME)
                .and_then(|c| c.as_primitive_opt::<TimestampMillisecondType>())
                .ok_or_else(|| {
                    Error::InvalidInput(format!("{}: no time column; not compacted", cursor.url))
                })?;
            cursor.times = times.values().clone();
            cursor.row = 0;
            cursor.batch = self.batches.len();
            self.heap.push(Reverse((cursor.times[0], i)));
            self.batches.push(batch);
            return Ok(());
        }
        Ok(())
    }

    /// Drop the batches no cursor points into any more.
    fn release(&mut self) {
        let mut kept = Vec::with_capacity(self.cursors.len());
        for cursor in &mut self.cursors {
            if cursor.row < cursor.times.len() {
                kept.push(self.batches[cursor.batch].clone());
                cursor.batch = kept.len() - 1;
            }
        }
        self.batches = kept;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{StringArray, TimestampMillisecondArray};
    use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
    use object_store::local::LocalFileSystem;
    use object_store::path::Path;
    use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
    use parquet::arrow::async_reader::ParquetRecordBatchStreamBuilder;

    use super::*;
    use crate::store::archive::parquet::{RowOrder, writer_properties};

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new(
                col::TIME,
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                false,
            ),
            Field::new("id", DataType::Utf8, false),
        ]))
    }

    /// A Parquet file declaring time order, whatever its rows' order, in batches of 2 rows.
    async fn file(
        store: &Arc<dyn ObjectStore>,
        name: &str,
        rows: &[(i64, &str)],
    ) -> (String, ParquetRecordBatchStream<StoreFileReader>) {
        let times = TimestampMillisecondArray::from(rows.iter().map(|r| r.0).collect::<Vec<_>>());
        let ids: StringArray = rows.iter().map(|r| Some(r.1)).collect();
        let batch = RecordBatch::try_new(
            schema(),
            vec![Arc::new(times.with_timezone("UTC")), Arc::new(ids)],
        )
        .expect("batch");
        let props = writer_properties(rows.len(), &schema(), RowOrder::ByTime).expect("props");
        let mut bytes = Vec::new();
        let mut writer =
            parquet::arrow::ArrowWriter::try_new(&mut bytes, schema(), Some(props)).expect("w");
        writer.write(&batch).expect("write");
        writer.close().expect("close");
        let path = Path::from(name);
        store
            .put(&path, PutPayload::from(bytes))
            .await
            .expect("put");
        let meta = store.head(&path).await.expect("head");
        let builder =
            ParquetRecordBatchStreamBuilder::new(StoreFileReader::new(store.clone(), &meta))
                .await
                .expect("builder")
                .with_batch_size(2);
        (name.to_string(), builder.build().expect("stream"))
    }

    async fn merged(
        files: Vec<(String, ParquetRecordBatchStream<StoreFileReader>)>,
    ) -> Result<Vec<(i64, String)>> {
        let mut merge = MergeByTime::new(schema(), files).await?;
        let mut out = Vec::new();
        while let Some(batch) = merge.next().await? {
            let times = batch.column(0).as_primitive::<TimestampMillisecondType>();
            let ids = batch.column(1).as_string::<i32>();
            for row in 0..batch.num_rows() {
                out.push((times.value(row), ids.value(row).to_string()));
            }
        }
        Ok(out)
    }

    #[tokio::test]
    async fn files_are_merged_by_time_equal_times_in_file_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store: Arc<dyn ObjectStore> =
            Arc::new(LocalFileSystem::new_with_prefix(dir.path()).expect("store"));
        let a = file(
            &store,
            "a.parquet",
            &[(1, "a1"), (3, "a3"), (5, "a5"), (9, "a9")],
        )
        .await;
        let b = file(&store, "b.parquet", &[(2, "b2"), (3, "b3"), (4, "b4")]).await;
        let c = file(&store, "c.parquet", &[]).await;
        let rows = merged(vec![a, b, c]).await.expect("merged");
        let ids: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
        assert_eq!(ids, ["a1", "b2", "a3", "b3", "b4", "a5", "a9"]);
    }

    #[tokio::test]
    async fn a_file_out_of_the_order_it_declares_is_named_and_not_merged() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store: Arc<dyn ObjectStore> =
            Arc::new(LocalFileSystem::new_with_prefix(dir.path()).expect("store"));
        let a = file(&store, "a.parquet", &[(1, "a1"), (2, "a2")]).await;
        let b = file(&store, "b.parquet", &[(3, "b3"), (7, "b7"), (4, "b4")]).await;
        let err = merged(vec![a, b]).await.expect_err("b is not sorted");
        assert_eq!(
            err.to_string(),
            "b.parquet: its metadata says it is sorted by time, but it is not; \
             not compacted"
        );
    }
}

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

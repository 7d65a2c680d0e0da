//! How cts writes and reads the archive's Parquet: zstd, 128k-row groups, statistics, a bloom
//! filter on `trace_id`, the row order in the metadata; files read by ranges from any object
//! store.
//!
//! Every file cts writes of a day's traces is sorted by time and says so: each row group's
//! `sorting_columns` names `time`, ascending ([`RowOrder::ByTime`]). Readers use it: DataFusion
//! merges such files instead of sorting them (an export sorted by time), and compaction merges
//! them by time ([`super::compact`]). A file that does not say so (one written before, or by
//! another tool) is read as unordered; nothing else about it changes.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::Schema;
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{FutureExt, TryFutureExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::ArrowSchemaConverter;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::async_reader::AsyncFileReader;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader, SortingColumn};
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;

use crate::trace::col;

/// Rows per Parquet row group.
const ROW_GROUP_ROWS: usize = 128 * 1024;

/// The order of a file's rows, as its Parquet metadata declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowOrder {
    /// Sorted by `time`, ascending: each row group's `sorting_columns` says so.
    ByTime,
    /// No order declared.
    Unordered,
}

/// Parquet bytes of a batch of one day's traces, sorted by time (as the loader and the hot
/// store hand them over): zstd, statistics, a bloom filter on `trace_id` sized to the batch,
/// the order declared.
pub fn encode_parquet(batch: &RecordBatch) -> parquet::errors::Result<Vec<u8>> {
    let props = writer_properties(batch.num_rows(), &batch.schema(), RowOrder::ByTime)?;
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut out, batch.schema(), Some(props))?;
    writer.write(batch)?;
    writer.close()?;
    Ok(out)
}

/// How cts writes Parquet of `schema`: zstd, 128k-row groups, statistics, a bloom filter on
/// `trace_id` sized for `rows` rows, and `order` in the metadata (declared only when `schema`
/// has a `time` column of its own).
pub fn writer_properties(
    rows: usize,
    schema: &Schema,
    order: RowOrder,
) -> parquet::errors::Result<WriterProperties> {
    let trace_id = ColumnPath::from(col::TRACE_ID);
    let sorting = match order {
        RowOrder::ByTime => time_leaf(schema)?.map(|column_idx| {
            vec![SortingColumn {
                column_idx: column_idx as i32,
                descending: false,
                nulls_first: false,
            }]
        }),
        RowOrder::Unordered => None,
    };
    let mut builder = WriterProperties::builder();
    // Times are close to one another (sorted, in a file of one day): their differences take a
    // byte or two where a dictionary of distinct milliseconds takes more than the values.
    for name in [col::TIME, col::RECORD_TIME] {
        let column = ColumnPath::from(name);
        builder = builder
            .set_column_dictionary_enabled(column.clone(), false)
            .set_column_encoding(column, Encoding::DELTA_BINARY_PACKED);
    }
    // The whole `user` object, as JSON text, is the largest column (a quarter of a file at
    // level 3); zstd's level 6 takes a third off it, for a few percent of a load's time.
    // Level 3 elsewhere: level 6 on every column took 9% off the archive and a third off the
    // load's speed.
    builder = builder.set_column_compression(
        ColumnPath::from(col::USER),
        Compression::ZSTD(ZstdLevel::try_new(6)?),
    );
    Ok(builder
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_column_bloom_filter_enabled(trace_id.clone(), true)
        .set_column_bloom_filter_fpp(trace_id.clone(), 0.01)
        .set_column_bloom_filter_max_ndv(trace_id, rows.clamp(1, ROW_GROUP_ROWS) as u64)
        .set_sorting_columns(sorting)
        .set_created_by(concat!("cts ", env!("CARGO_PKG_VERSION")).to_string())
        .build())
}

/// The order `metadata` declares: [`RowOrder::ByTime`] when every row group is sorted by a
/// top-level `time` column, ascending, first.
pub fn row_order(metadata: &ParquetMetaData) -> RowOrder {
    let schema = metadata.file_metadata().schema_descr();
    let by_time = |sorting: Option<&Vec<SortingColumn>>| {
        sorting
            .and_then(|columns| columns.first())
            .is_some_and(|first| {
                !first.descending
                    && usize::try_from(first.column_idx).is_ok_and(|i| {
                        i < schema.num_columns() && schema.column(i).path().parts() == [col::TIME]
                    })
            })
    };
    let groups = metadata.row_groups();
    if !groups.is_empty() && groups.iter().all(|g| by_time(g.sorting_columns())) {
        RowOrder::ByTime
    } else {
        RowOrder::Unordered
    }
}

/// The Parquet leaf index of the top-level `time` column of `schema`, if it has one.
fn time_leaf(schema: &Schema) -> parquet::errors::Result<Option<usize>> {
    let descriptor = ArrowSchemaConverter::new().convert(schema)?;
    Ok(descriptor
        .columns()
        .iter()
        .position(|c| c.path().parts() == [col::TIME]))
}

/// Reads a Parquet file of the archive by ranges: footer, then the columns asked for.
#[derive(Debug)]
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

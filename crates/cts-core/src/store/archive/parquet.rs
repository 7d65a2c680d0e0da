//! How cts writes and reads the archive's Parquet: zstd, 128k-row groups, statistics, a bloom
//! filter on `trace_id`; files read by ranges from any object store.

use std::sync::Arc;

use arrow::array::RecordBatch;
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{FutureExt, TryFutureExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::async_reader::AsyncFileReader;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;

use crate::trace::col;

/// Rows per Parquet row group.
const ROW_GROUP_ROWS: usize = 128 * 1024;

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

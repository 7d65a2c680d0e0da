//! The hot store's segments: Parquet files of one day each, with a `day` column, written when
//! the log is flushed or a day's segments are merged.

use std::fs::File;
use std::path::Path;
use std::sync::{Arc, LazyLock};

use arrow::array::{ArrayRef, AsArray, RecordBatch, StringArray};
use arrow::compute::concat_batches;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::{Error, Result};
use crate::storage::fs::write_atomic;
use crate::store::archive::{Archive, encode_parquet};
use crate::store::hot::state::{SEGMENTS_DIR, Segment};
use crate::store::once::{DayBatch, DayIds};
use crate::trace::{DAY_MS, col, day_of, day_string, query_schema, times, trace_schema};

/// The schema of the hot store's segments and of `hot_traces`: the trace schema and `day`.
pub fn hot_schema() -> SchemaRef {
    HOT_SCHEMA.clone()
}

/// [`hot_schema`] as queries see it: the text columns of the trace as `Utf8View`
/// ([`query_schema`]), `day` as it is.
pub fn hot_query_schema() -> SchemaRef {
    HOT_QUERY_SCHEMA.clone()
}

static HOT_QUERY_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| with_day_field(&query_schema()));

static HOT_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| with_day_field(&trace_schema()));

/// `schema` and the `day` column after it.
fn with_day_field(schema: &Schema) -> SchemaRef {
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(Field::new(col::DAY, DataType::Utf8, false));
    Arc::new(Schema::new(fields))
}

/// The batch (in [`trace_schema`]) with the `day` column added: in [`hot_schema`].
pub(crate) fn with_day(batch: &RecordBatch) -> Result<RecordBatch> {
    let mut last: Option<(i64, String)> = None;
    let days: StringArray = times(batch)
        .iter()
        .map(|t| {
            let day = day_of(*t);
            match &last {
                Some((d, text)) if *d == day => Some(text.clone()),
                _ => {
                    let text = day_string(day);
                    last = Some((day, text.clone()));
                    Some(text)
                }
            }
        })
        .collect();
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    columns.push(Arc::new(days));
    RecordBatch::try_new(hot_schema(), columns).map_err(|e| Error::arrow("adding day", e))
}

/// The batch (in [`hot_schema`]) without its `day` column: in [`trace_schema`].
pub(crate) fn without_day(batch: &RecordBatch) -> Result<RecordBatch> {
    let n = trace_schema().fields().len();
    RecordBatch::try_new(trace_schema(), batch.columns()[..n].to_vec())
        .map_err(|e| Error::arrow("removing day", e))
}

/// Write traces already split by day as one segment per day of state `generation` into the hot
/// store in `dir`.
pub(crate) fn write_segments(
    dir: &Path,
    days: &[DayBatch],
    generation: u64,
) -> Result<Vec<Segment>> {
    let mut segments = Vec::with_capacity(days.len());
    for DayBatch { day, batch } in days {
        let rows = batch.num_rows();
        if rows == 0 {
            continue;
        }
        let file = format!(
            "{SEGMENTS_DIR}/{}/seg-{generation:010}.parquet",
            Archive::partition_of(*day)
        );
        let path = dir.join(&file);
        let bytes = encode_parquet(&with_day(batch)?).map_err(|source| Error::Parquet {
            location: path.display().to_string(),
            source,
        })?;
        write_atomic(&path, &bytes)?;
        let times = times(batch);
        segments.push(Segment {
            file,
            day: *day,
            rows: rows as u64,
            min_time: times[0],
            max_time: times[rows - 1],
            bytes: bytes.len() as u64,
        });
    }
    Ok(segments)
}

/// Every trace of a segment, in [`trace_schema`].
pub(crate) fn read_segment(dir: &Path, segment: &Segment) -> Result<RecordBatch> {
    let path = dir.join(&segment.file);
    let parquet_err = |source| Error::Parquet {
        location: path.display().to_string(),
        source,
    };
    let file = File::open(&path).map_err(|e| Error::io("open", &path, e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(parquet_err)?
        .build()
        .map_err(parquet_err)?;
    let mut batches = Vec::new();
    for batch in reader {
        batches.push(batch.map_err(|e| Error::arrow(path.display(), e))?);
    }
    let all =
        concat_batches(&hot_schema(), &batches).map_err(|e| Error::arrow(path.display(), e))?;
    without_day(&all)
}

/// The trace IDs of segments, per day.
pub(crate) fn read_segment_ids(dir: &Path, segments: &[Segment]) -> Result<DayIds> {
    let mut ids = DayIds::default();
    for segment in segments {
        let path = dir.join(&segment.file);
        let parquet_err = |source| Error::Parquet {
            location: path.display().to_string(),
            source,
        };
        let file = File::open(&path).map_err(|e| Error::io("open", &path, e))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(parquet_err)?;
        let mask = ProjectionMask::roots(builder.parquet_schema(), [0]);
        let reader = builder.with_projection(mask).build().map_err(parquet_err)?;
        // Every trace of a segment is of its day.
        let time = segment.day.saturating_mul(DAY_MS);
        for batch in reader {
            let batch = batch.map_err(|e| Error::arrow(path.display(), e))?;
            for id in batch.column(0).as_string::<i32>().iter().flatten() {
                ids.insert(time, id);
            }
        }
    }
    Ok(ids)
}

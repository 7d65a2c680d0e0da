//! What the tests of cts share (a dev-dependency only):
//!
//! - [`SeaweedFs`]: a real S3-compatible server on 127.0.0.1, started by the test;
//! - sample buckets in memory ([`sample`]) and hand-made trace files ([`hand_made_file`]);
//! - [`archive_counts`]: traces and distinct trace IDs of an archive, read from its Parquet
//!   files through the visibility rule, without a query engine;
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

use std::collections::HashSet;

use arrow::array::AsArray;
use arrow::datatypes::TimestampMillisecondType;
use cts_core::load::{LoadOptions, LoadSummary, load};
use cts_core::source::Source;
use cts_core::storage::Location;
use cts_core::store::archive::{Archive, RowOrder, row_order};
use cts_sample::{GenOptions, GenSummary, generate};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

mod runtime;
mod seaweed;

pub use runtime::block_on;
pub use seaweed::{ACCESS_KEY, SECRET_KEY, SeaweedFs};

/// Write objects (key, bytes) under a location.
pub async fn put_all(location: &Location, objects: Vec<(String, Vec<u8>)>) {
    for (key, bytes) in objects {
        let path = location.path(&key);
        location
            .write(&path, bytes.into())
            .await
            .unwrap_or_else(|e| panic!("put {key}: {e}"));
    }
}

/// Generate a sample bucket in memory.
pub fn sample(options: &GenOptions) -> (GenSummary, Vec<(String, Vec<u8>)>) {
    let mut objects = Vec::new();
    let summary = generate(options, &mut |key: &str, bytes: Vec<u8>| {
        objects.push((key.to_string(), bytes));
        Ok(())
    })
    .expect("generate");
    (summary, objects)
}

/// Load with test-sized chunks, so that several chunks are committed.
pub async fn run_load(source: &Source, archive: &Archive) -> LoadSummary {
    let options = LoadOptions {
        threads: 2,
        chunk_json_bytes: 256 << 10,
        ..Default::default()
    };
    load(source, archive, &options)
        .await
        .unwrap_or_else(|e| panic!("load failed: {e}"))
}

/// A trace file of hand-made traces (compact JSON array, gzip) at a CTS key for 2024-06-29.
pub fn hand_made_file(suffix: &str, ids: &[u32]) -> (String, Vec<u8>) {
    use std::io::Write as _;
    let traces: Vec<String> = ids
        .iter()
        .map(|i| {
            format!(
                r#"{{"trace_id":"hand-{i:04}","time":{},"service_type":"ECS","resource_type":"ecs","trace_name":"startServer","trace_rating":"normal","trace_type":"ApiCall","user":{{"name":"ops","id":"u-ops","domain":{{"name":"acme","id":"d-acme"}}}}}}"#,
                1_719_655_200_000i64 + i64::from(*i) * 1000
            )
        })
        .collect();
    let json = format!("[{}]", traces.join(","));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(json.as_bytes()).expect("gzip");
    let key = format!(
        "CloudTraces/eu-de/2024/06/29/system/ECS/cts_CloudTrace_eu-de_2024-06-29T10-00-00Z_{suffix}.json.gz"
    );
    (key, gz.finish().expect("gzip"))
}

/// `(traces, distinct trace IDs)` in `archive`, read from the Parquet files of every day as
/// the visibility rule shows them.
pub async fn archive_counts(archive: &Archive) -> (u64, u64) {
    let mut rows = 0u64;
    let mut ids = HashSet::new();
    for day in archive.days().await.expect("days") {
        let (n, day_ids) = day_traces(archive, day).await;
        rows += n;
        ids.extend(day_ids);
    }
    (rows, ids.len() as u64)
}

/// Of each visible file of one day of `archive`: the row order its metadata declares, and
/// whether its times are in fact in order.
pub async fn day_file_orders(archive: &Archive, day: i64) -> Vec<(RowOrder, bool)> {
    let location = archive.location();
    let mut out = Vec::new();
    for meta in archive.day_files(day).await.expect("day files") {
        let bytes = location.read(&meta.location).await.expect("read");
        let (times, order) = times_and_order(bytes, meta.location.as_ref());
        out.push((order, times.is_sorted()));
    }
    out
}

/// The `time` column of a Parquet file of traces (its bytes; `name` for messages), in file
/// order, and the row order its metadata declares.
pub fn times_and_order(bytes: bytes::Bytes, name: &str) -> (Vec<i64>, RowOrder) {
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    let order = row_order(builder.metadata());
    let time = builder
        .schema()
        .index_of(cts_core::trace::col::TIME)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let mask = ProjectionMask::roots(builder.parquet_schema(), [time]);
    let mut times = Vec::new();
    for batch in builder.with_projection(mask).build().expect("reader") {
        let batch = batch.unwrap_or_else(|e| panic!("{name}: {e}"));
        let column = batch.column(0).as_primitive::<TimestampMillisecondType>();
        times.extend(column.values().iter().copied());
    }
    (times, order)
}

/// `(traces, their trace IDs)` of one day of `archive`, as the visibility rule shows it.
pub async fn day_traces(archive: &Archive, day: i64) -> (u64, Vec<String>) {
    let location = archive.location();
    let mut rows = 0u64;
    let mut ids = Vec::new();
    for meta in archive.day_files(day).await.expect("day files") {
        let bytes = location.read(&meta.location).await.expect("read");
        let builder = ParquetRecordBatchReaderBuilder::try_new(bytes)
            .unwrap_or_else(|e| panic!("{}: {e}", meta.location));
        let mask = ProjectionMask::roots(builder.parquet_schema(), [0]);
        for batch in builder.with_projection(mask).build().expect("reader") {
            let batch = batch.unwrap_or_else(|e| panic!("{}: {e}", meta.location));
            rows += batch.num_rows() as u64;
            ids.extend(
                batch
                    .column(0)
                    .as_string::<i32>()
                    .iter()
                    .flatten()
                    .map(str::to_string),
            );
        }
    }
    (rows, ids)
}
